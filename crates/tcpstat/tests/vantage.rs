//! Where the textbook's netem traces were captured: next to the receiver (the handshake's
//! SYN/ACK waits a whole round trip for its ACK, data is acknowledged within a millisecond),
//! and the path RTT tcpstat finds from there (~420 ms: netem's delay both ways), which a
//! data → ACK measurement at that point cannot see.
#![allow(clippy::unwrap_used)]

use std::process::Command;

use serde_json::Value;
use testsupport::{shared_traces, tool};

#[test]
fn the_netem_traces_were_captured_at_the_receiver_behind_a_420_ms_path() {
    let Some(dir) =
        shared_traces("the_netem_traces_were_captured_at_the_receiver_behind_a_420_ms_path")
    else {
        return;
    };
    for t in 0..4 {
        let out = Command::new(tool("tcpstat"))
            .args(["conns", "--json", "-r"])
            .arg(dir.join(format!("trace{t}.pcap")))
            .output()
            .unwrap();
        assert!(out.status.success());
        let text = String::from_utf8_lossy(&out.stdout);
        let c: Value = serde_json::from_str(
            text.lines()
                .find(|l| l.contains(r#""type":"connection""#))
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            c["vantage"], "server",
            "trace{t}: {}",
            c["vantage_evidence"]
        );
        assert_eq!(c["data_dir"], "c>s", "trace{t}: the client sends the file");
        let path = c["path_rtt_ms"].as_f64().unwrap();
        assert!(
            (400.0..440.0).contains(&path),
            "trace{t}: path RTT {path} ms"
        );
        let here = c["data_to_ack_ms"].as_f64().unwrap();
        assert!(here < 5.0, "trace{t}: data → ACK at the receiver {here} ms");
        let evidence = c["vantage_evidence"].as_str().unwrap();
        assert!(
            evidence.starts_with("server (the data receiver): SYN→SYN/ACK"),
            "{evidence}"
        );
    }
}
