//! `scripts/scenario cnp3-netem` on one cell of its grid: the files it promises, and the ground
//! truth checked against both captures and the kernel's counters — every data segment linkem
//! dropped appears twice at the client (sent, resent) and once at the server (the resend), and
//! the client kernel retransmitted at least that many segments.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::process::Command;

use serde_json::Value;
use testsupport::{require_peer, require_root, tool};

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Absolute sequence numbers of the data segments pc1 sent, as tshark reads `pcap`.
fn data_seqs(pcap: &std::path::Path) -> Vec<u64> {
    let out = Command::new("tshark")
        .args(["-o", "tcp.relative_sequence_numbers:FALSE", "-r"])
        .arg(pcap)
        .args([
            "-Y",
            "ipv6.src == fd00:1::2 && tcp.len > 0",
            "-T",
            "fields",
            "-e",
            "tcp.seq",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "tshark: {}", text(&out.stderr));
    text(&out.stdout)
        .lines()
        .map(|l| l.trim().parse().unwrap())
        .collect()
}

#[test]
fn one_cell_of_the_emulated_network_agrees_with_its_ground_truth() {
    let test = "one_cell_of_the_emulated_network_agrees_with_its_ground_truth";
    if !require_root(test)
        || !["python3", "nstat", "tshark"]
            .iter()
            .all(|p| require_peer(test, p))
    {
        return;
    }
    let dir = std::env::temp_dir().join(format!("netlab-scenario-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let table = testsupport::scenario(
        &dir,
        &[
            "--loss", "5", "--delay", "10", "--size", "400000", "--seed", "3",
        ],
        "s",
    );
    assert!(table.contains("loss5-delay10"), "{table}");
    let cell = dir.join("loss5-delay10");
    for f in [
        "client.pcap",
        "server.pcap",
        "linkem.ndjson",
        "nstat-client.json",
        "nstat-server.json",
        "spec.txt",
        "transfer.txt",
    ] {
        assert!(cell.join(f).is_file(), "{f} missing");
    }
    assert!(dir.join("summary.tsv").is_file());
    let transfer = std::fs::read_to_string(cell.join("transfer.txt")).unwrap();
    assert!(
        transfer.starts_with("sent 400000 bytes")
            && transfer.trim_end().ends_with("received 400000"),
        "{transfer}"
    );
    assert_eq!(
        std::fs::read_to_string(cell.join("spec.txt"))
            .unwrap()
            .trim(),
        "to r1 (data): delay 10ms rate 10mbit limit 1000 loss 5%; to pc1 (ACKs): delay 10ms"
    );

    // The ground truth: data segments linkem dropped on the way to r1.
    let log = std::fs::read_to_string(cell.join("linkem.ndjson")).unwrap();
    let records: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        records.last().unwrap()["type"],
        "summary",
        "the log is complete"
    );
    let dropped: Vec<u64> = records
        .iter()
        .filter(|r| r["fate"] == "dropped-random" && r["tcp_len"].as_u64() > Some(0))
        .map(|r| r["seq"].as_u64().unwrap())
        .collect();
    assert!(
        !dropped.is_empty(),
        "5 % of ~290 segments: some were dropped"
    );
    assert!(
        records
            .iter()
            .filter(|r| r["fate"].as_str().is_some_and(|f| f.starts_with("dropped")))
            .all(|r| r["dir"] == "to_b" && r["to"].as_str().is_some()),
        "loss is on the data direction only"
    );

    let count = |seqs: Vec<u64>| {
        let mut m: HashMap<u64, usize> = HashMap::new();
        for s in seqs {
            *m.entry(s).or_default() += 1;
        }
        m
    };
    let client = count(data_seqs(&cell.join("client.pcap")));
    let server = count(data_seqs(&cell.join("server.pcap")));
    for seq in &dropped {
        assert!(
            client.get(seq).copied().unwrap_or(0) >= 2,
            "seq {seq}: sent and resent at the client"
        );
        assert!(
            server.get(seq).copied().unwrap_or(0) >= 1,
            "seq {seq}: the resend reached the server"
        );
    }
    let nstat: Value =
        serde_json::from_str(&std::fs::read_to_string(cell.join("nstat-client.json")).unwrap())
            .unwrap();
    let retrans = nstat["kernel"]["TcpRetransSegs"].as_u64().unwrap_or(0);
    assert!(
        retrans >= dropped.len() as u64,
        "the kernel retransmitted {retrans} segments for {} dropped",
        dropped.len()
    );
    // tcpstat knows where each capture was taken, and finds the same path RTT from both
    // (2 x 10 ms of delay, plus the bottleneck's queue).
    let conn = |pcap: &str| -> Value {
        let out = Command::new(tool("tcpstat"))
            .args(["conns", "--json", "-r"])
            .arg(cell.join(pcap))
            .output()
            .unwrap();
        let text = text(&out.stdout);
        let line = text
            .lines()
            .find(|l| l.contains(r#""type":"connection""#))
            .unwrap();
        serde_json::from_str(line).unwrap()
    };
    let (client, server) = (conn("client.pcap"), conn("server.pcap"));
    assert_eq!(
        client["vantage"], "client",
        "{}",
        client["vantage_evidence"]
    );
    assert_eq!(
        server["vantage"], "server",
        "{}",
        server["vantage_evidence"]
    );
    let (c_rtt, s_rtt) = (
        client["path_rtt_ms"].as_f64().unwrap(),
        server["path_rtt_ms"].as_f64().unwrap(),
    );
    assert!(c_rtt >= 20.0 && s_rtt >= 20.0, "{c_rtt} {s_rtt}");
    assert!(
        (c_rtt - s_rtt).abs() <= 0.15 * c_rtt,
        "client {c_rtt} ms, server {s_rtt} ms"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
