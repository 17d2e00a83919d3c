//! Bytes exchanged per direction from sequence numbers (`unique_bytes`: FIN seq − ISN − 1), not
//! from payload lengths (`payload_bytes`, which counts what the capture saw, twice when it saw a
//! retransmission): a capture taken next to the receiver misses the first transmission of a lost
//! segment, so its bytes first show as a hole, filled later by the retransmission.
#![allow(clippy::unwrap_used)]

use std::process::Command;

use testsupport::pcap::{ETHERNET, Endpoint, PcapWriter, Tcp, eth_ipv4_tcp};
use testsupport::tool;

const C: Endpoint = ([10, 0, 0, 1], 40000);
const S: Endpoint = ([10, 0, 0, 2], 80);
const SYN: u8 = 0x02;
const FIN: u8 = 0x01;
const ACK: u8 = 0x10;
const PSH: u8 = 0x08;

fn tcp(p: &mut PcapWriter, ms: u64, client: bool, flags: u8, seq: u32, ack: u32, len: usize) {
    let (src, dst) = if client { (C, S) } else { (S, C) };
    let t = Tcp::with_syn_options(seq, ack, flags, 8000, 0);
    p.record_ms(
        1_700_000_000,
        ms,
        &eth_ipv4_tcp(src, dst, &t, &vec![b'x'; len]),
    );
}

/// Client ISN 1000 sends bytes 1001..1401 (400 bytes) and its FIN at 1401: 1401 − 1000 − 1 = 400.
/// 1101..1201 is lost before the capture point (a hole, filled by its retransmission at 400 ms);
/// 1201..1301 is captured twice (a spurious retransmission); the server sends 50 bytes.
fn build() -> Vec<u8> {
    let mut p = PcapWriter::new(ETHERNET);
    tcp(&mut p, 0, true, SYN, 1000, 0, 0);
    tcp(&mut p, 10, false, SYN | ACK, 5000, 1001, 0);
    tcp(&mut p, 20, true, ACK, 1001, 5001, 0);
    tcp(&mut p, 30, true, PSH | ACK, 1001, 5001, 100);
    tcp(&mut p, 40, false, ACK, 5001, 1101, 0);
    tcp(&mut p, 50, true, PSH | ACK, 1201, 5001, 100); // beyond the hole 1101..1201
    tcp(&mut p, 60, false, ACK, 5001, 1101, 0); // duplicate ACK
    tcp(&mut p, 400, true, PSH | ACK, 1101, 5001, 100); // the hole, retransmitted
    tcp(&mut p, 410, false, ACK, 5001, 1301, 0);
    tcp(&mut p, 700, true, PSH | ACK, 1201, 5001, 100); // seen twice
    tcp(&mut p, 710, false, ACK, 5001, 1301, 0);
    tcp(&mut p, 720, true, PSH | ACK, 1301, 5001, 100);
    tcp(&mut p, 730, false, PSH | ACK, 5001, 1401, 50);
    tcp(&mut p, 740, true, FIN | ACK, 1401, 5051, 0);
    tcp(&mut p, 750, false, FIN | ACK, 5051, 1402, 0);
    tcp(&mut p, 760, true, ACK, 1402, 5052, 0);
    p.into_bytes()
}

#[test]
fn bytes_exchanged_follow_from_sequence_numbers_not_payload_lengths() {
    let dir = std::env::temp_dir().join(format!("tcpstat-bytes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pcap = dir.join("hole.pcap");
    std::fs::write(&pcap, build()).unwrap();
    let out = Command::new(tool("tcpstat"))
        .args(["conns", "--json", "-r"])
        .arg(&pcap)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    let conn: serde_json::Value = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v["type"] == "connection")
        .unwrap_or_else(|| panic!("no connection in:\n{text}"));
    // What the capture saw: 500 payload bytes from the client (100 of them twice), 50 back.
    assert_eq!(
        conn["payload_bytes"],
        serde_json::json!([500, 50]),
        "{text}"
    );
    // What was exchanged: FIN seq − ISN − 1 each way, each byte once, the hole's bytes included.
    assert_eq!(
        conn["unique_bytes"],
        serde_json::json!([1401 - 1000 - 1, 5051 - 5000 - 1]),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
