//! The analysis flags the CNP3 traces never raise (zero-window probe and its ACK, keep-alive
//! ACK, spurious retransmission, ACKed unseen segment, out-of-window RST), on a capture built
//! here packet by packet, checked against tshark by scripts/conformance.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::process::Command;

use testsupport::pcap::{ETHERNET, Endpoint, PcapWriter, Tcp, eth_ipv4_tcp};
use testsupport::{require_peer, tool, workspace_root};

const C: Endpoint = ([10, 0, 0, 1], 40000);
const S: Endpoint = ([10, 0, 0, 2], 80);

/// One TCP segment from the client (or the server) at `ms` milliseconds, with MSS and
/// window-scale options on SYNs.
#[allow(clippy::too_many_arguments)]
fn tcp(
    p: &mut PcapWriter,
    ms: u64,
    client: bool,
    flags: u8,
    seq: u32,
    ack: u32,
    win: u16,
    len: usize,
) {
    let (src, dst) = if client { (C, S) } else { (S, C) };
    let t = Tcp::with_syn_options(seq, ack, flags, win, 0);
    let f = eth_ipv4_tcp(src, dst, &t, &vec![b'x'; len]);
    p.record_ms(1_700_000_000, ms, &f);
}

const SYN: u8 = 0x02;
const ACK: u8 = 0x10;
const PSH: u8 = 0x08;
const RST: u8 = 0x04;

fn build() -> Vec<u8> {
    let mut p = PcapWriter::new(ETHERNET);
    tcp(&mut p, 0, true, SYN, 1000, 0, 8000, 0);
    tcp(&mut p, 10, false, SYN | ACK, 5000, 1001, 8000, 0);
    tcp(&mut p, 20, true, ACK, 1001, 5001, 8000, 0);
    tcp(&mut p, 30, true, PSH | ACK, 1001, 5001, 8000, 100);
    // The receiver's window closes: zero window, then a one-byte probe and its ACK.
    tcp(&mut p, 40, false, ACK, 5001, 1101, 0, 0);
    tcp(&mut p, 300, true, ACK, 1101, 5001, 8000, 1);
    tcp(&mut p, 310, false, ACK, 5001, 1101, 0, 0);
    // It reopens: window update, then data (the probed byte again) and its ACK.
    tcp(&mut p, 900, false, ACK, 5001, 1101, 8000, 0);
    tcp(&mut p, 910, true, PSH | ACK, 1101, 5001, 8000, 100);
    tcp(&mut p, 920, false, ACK, 5001, 1201, 8000, 0);
    // Keep-alive (one byte before the next sequence number) and its ACK.
    tcp(&mut p, 5000, true, ACK, 1200, 5001, 8000, 0);
    tcp(&mut p, 5010, false, ACK, 5001, 1201, 8000, 0);
    // Data the receiver already has: spurious retransmission.
    tcp(&mut p, 6000, true, PSH | ACK, 1101, 5001, 8000, 100);
    // An ACK for bytes the capture never saw (1201..1401 missing).
    tcp(&mut p, 6010, false, ACK, 5001, 1401, 8000, 0);
    tcp(&mut p, 6020, true, PSH | ACK, 1401, 5001, 8000, 100);
    tcp(&mut p, 6030, false, ACK, 5001, 1501, 8000, 0);
    // A RST far outside the server's window (an injected RST).
    tcp(&mut p, 7000, true, RST, 900_000, 0, 0, 0);
    p.into_bytes()
}

/// The flags of every frame of [`build`]'s capture, exactly (all but `rst_out_of_window` are
/// tshark's too: scripts/conformance checks that below).
const EXPECTED: &[(u64, &[&str])] = &[
    (1, &[]),
    (2, &[]),
    (3, &[]),
    (4, &[]),
    (5, &["zero_window"]),
    (6, &["zero_window_probe"]),
    (7, &["zero_window", "zero_window_probe_ack"]),
    (8, &["window_update"]),
    (9, &[]),
    (10, &[]),
    (11, &["keep_alive"]),
    (12, &["keep_alive_ack"]),
    (13, &["retransmission", "spurious_retransmission"]),
    (14, &["ack_lost_segment"]),
    (15, &["lost_segment"]),
    (16, &["ack_lost_segment"]),
    (17, &["rst_out_of_window"]),
];

#[test]
fn rare_flags_match_tshark() {
    let name = "rare_flags_match_tshark";
    if !require_peer(name, "tshark") || !require_peer(name, "python3") {
        return;
    }
    let dir = std::env::temp_dir().join(format!("tcpstat-synth-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pcap = dir.join("rare.pcap");
    std::fs::write(&pcap, build()).unwrap();

    let out = Command::new(tool("tcpstat"))
        .args(["packets", "--json", "-r"])
        .arg(&pcap)
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    // Each frame's flags as the exact names of the JSON array: `zero_window` is not
    // `zero_window_probe`, so no substring search.
    let mut flags: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        if v["type"] != "packet" {
            continue;
        }
        let names = v["flags"]
            .as_array()
            .unwrap_or_else(|| panic!("flags is not an array: {line}"))
            .iter()
            .map(|f| f.as_str().expect("a flag is a string").to_owned())
            .collect();
        flags.insert(v["frame"].as_u64().unwrap(), names);
    }
    // Every frame of the capture with the whole list of its flags, in Wireshark's order.
    let got: Vec<(u64, Vec<&str>)> = flags
        .iter()
        .map(|(f, v)| (*f, v.iter().map(String::as_str).collect()))
        .collect();
    let want: Vec<(u64, Vec<&str>)> = EXPECTED.iter().map(|(f, v)| (*f, v.to_vec())).collect();
    assert_eq!(got, want, "tcpstat packets --json:\n{text}");

    let out = Command::new(workspace_root().join("scripts/conformance"))
        .arg("--tcpstat")
        .arg(tool("tcpstat"))
        .arg(&pcap)
        .output()
        .expect("run scripts/conformance");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "conformance failed:\n{report}");
    assert!(
        report.lines().any(|l| l == "compared 1 traces: rare.pcap"),
        "{report}"
    );
    // Every per-flag line, by its exact name: the flags this capture raises match tshark on
    // every frame (1.0000, and |tcpstat & tshark| = |tcpstat | tshark| = the count), the
    // others are raised by neither.
    let want: &[(&str, Option<u32>)] = &[
        ("retransmission", Some(1)),
        ("fast_retransmission", None),
        ("spurious_retransmission", Some(1)),
        ("out_of_order", None),
        ("lost_segment", Some(1)),
        ("ack_lost_segment", Some(2)),
        ("duplicate_ack", None),
        ("zero_window", Some(2)),
        ("zero_window_probe", Some(1)),
        ("zero_window_probe_ack", Some(1)),
        ("window_update", Some(1)),
        ("window_full", None),
        ("keep_alive", Some(1)),
        ("keep_alive_ack", Some(1)),
        ("dup_ack_num", None),
        ("ack_rtt_frames", Some(5)),
    ];
    for (f, n) in want {
        let line = report
            .lines()
            .find(|l| l.split_whitespace().next() == Some(*f) && l.starts_with("  "))
            .unwrap_or_else(|| panic!("no per-flag line for {f}:\n{report}"));
        let fields: Vec<&str> = line.split_whitespace().collect();
        match n {
            Some(n) => assert_eq!(fields[1..], ["1.0000", &format!("({n}/{n})")], "{line}"),
            None => assert_eq!(fields[1], "-", "{line}"),
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
