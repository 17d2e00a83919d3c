//! Crafted captures with hostile timestamps: the first and the last second pcap can hold, a
//! nanosecond field above 10^9, time running backwards, and pcapng tick counts beyond what
//! nanoseconds since 1970 can hold. Every subcommand must finish normally (no arithmetic
//! overflow panic in a debug build) and print sane times.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use testsupport::pcap::{ETHERNET, Endpoint, PcapWriter, Tcp, eth_ipv4_tcp};
use testsupport::tool;

const C: Endpoint = ([10, 0, 0, 1], 40000);
const S: Endpoint = ([10, 0, 0, 2], 80);
const SYN: u8 = 0x02;
const ACK: u8 = 0x10;
const PSH: u8 = 0x08;
const FIN: u8 = 0x01;

/// Any time tcpstat prints is within 2^62 ns (year 2116) of 1970, in seconds and in ms.
const MAX_S: f64 = 4.7e9;
const MAX_MS: f64 = 4.7e12;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * b.abs().max(1.0)
}

/// Ethernet + IPv4 + TCP, with MSS and window-scale options on SYNs.
fn tcp_frame(client: bool, flags: u8, seq: u32, ack: u32, win: u16, len: usize) -> Vec<u8> {
    let (src, dst) = if client { (C, S) } else { (S, C) };
    let t = Tcp::with_syn_options(seq, ack, flags, win, 7);
    eth_ipv4_tcp(src, dst, &t, &vec![b'x'; len])
}

/// A connection that exercises every timed rule: handshake (handshake RTT), data and its ACK
/// (ack_rtt), a zero window and its reopening, duplicate ACKs, a retransmission (fast or
/// timeout reason, time since the original), idle gaps and the close. `t(i)` gives packet i's
/// time as whatever the capture format stores.
fn conversation() -> Vec<Vec<u8>> {
    vec![
        tcp_frame(true, SYN, 1000, 0, 8000, 0),
        tcp_frame(false, SYN | ACK, 5000, 1001, 8000, 0),
        tcp_frame(true, ACK, 1001, 5001, 8000, 0),
        tcp_frame(true, PSH | ACK, 1001, 5001, 8000, 100),
        tcp_frame(false, ACK, 5001, 1101, 0, 0),
        tcp_frame(false, ACK, 5001, 1101, 8000, 0),
        tcp_frame(true, PSH | ACK, 1101, 5001, 8000, 100),
        tcp_frame(true, PSH | ACK, 1201, 5001, 8000, 100),
        tcp_frame(false, ACK, 5001, 1101, 8000, 0),
        tcp_frame(false, ACK, 5001, 1101, 8000, 0),
        tcp_frame(false, ACK, 5001, 1101, 8000, 0),
        tcp_frame(true, PSH | ACK, 1101, 5001, 8000, 100),
        tcp_frame(false, ACK, 5001, 1301, 8000, 0),
        tcp_frame(false, PSH | ACK, 5001, 1301, 8000, 20),
        tcp_frame(true, FIN | ACK, 1301, 5021, 8000, 0),
        tcp_frame(false, FIN | ACK, 5021, 1302, 8000, 0),
        tcp_frame(true, ACK, 1302, 5022, 8000, 0),
    ]
}

/// A nanosecond-resolution pcap whose records carry the given (seconds, nanoseconds) fields.
fn pcap(times: &[(u32, u32)]) -> Vec<u8> {
    let mut p = PcapWriter::nanos(ETHERNET);
    for (f, &(sec, nsec)) in conversation().iter().zip(times.iter().cycle()) {
        p.record(sec, nsec, f);
    }
    p.into_bytes()
}

fn block(v: &mut Vec<u8>, btype: u32, body: &[u8]) {
    let total = (12 + body.len()) as u32;
    v.extend_from_slice(&btype.to_le_bytes());
    v.extend_from_slice(&total.to_le_bytes());
    v.extend_from_slice(body);
    v.extend_from_slice(&total.to_le_bytes());
}

/// A pcapng file whose interface counts time in units given by `tsresol` (pcapng's
/// `if_tsresol`: 0 = seconds, 0x81 = half seconds) and whose packets carry the given 64-bit
/// tick counts.
fn pcapng(tsresol: u8, ticks: &[u64]) -> Vec<u8> {
    let mut v = Vec::new();
    let mut shb = Vec::new();
    shb.extend_from_slice(&0x1a2b_3c4du32.to_le_bytes());
    shb.extend_from_slice(&1u16.to_le_bytes());
    shb.extend_from_slice(&0u16.to_le_bytes());
    shb.extend_from_slice(&u64::MAX.to_le_bytes());
    block(&mut v, 0x0a0d_0d0a, &shb);
    let mut idb = Vec::new();
    idb.extend_from_slice(&1u16.to_le_bytes());
    idb.extend_from_slice(&0u16.to_le_bytes());
    idb.extend_from_slice(&65535u32.to_le_bytes());
    idb.extend_from_slice(&9u16.to_le_bytes());
    idb.extend_from_slice(&1u16.to_le_bytes());
    idb.extend_from_slice(&[tsresol, 0, 0, 0]);
    idb.extend_from_slice(&[0; 4]);
    block(&mut v, 1, &idb);
    for (f, &t) in conversation().iter().zip(ticks.iter().cycle()) {
        let mut epb = Vec::new();
        epb.extend_from_slice(&0u32.to_le_bytes());
        epb.extend_from_slice(&((t >> 32) as u32).to_le_bytes());
        epb.extend_from_slice(&(t as u32).to_le_bytes());
        epb.extend_from_slice(&(f.len() as u32).to_le_bytes());
        epb.extend_from_slice(&(f.len() as u32).to_le_bytes());
        epb.extend_from_slice(f);
        epb.resize(epb.len().div_ceil(4) * 4, 0);
        block(&mut v, 6, &epb);
    }
    v
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tcpstat-ts-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs one tcpstat command; it must exit 0 without a panic. Returns stdout.
fn run(args: &[&str], file: &Path) -> String {
    let out = Command::new(tool("tcpstat"))
        .args(args)
        .arg("-r")
        .arg(file)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && !err.contains("panicked"),
        "tcpstat {args:?} on {}: {}\n{err}",
        file.display(),
        out.status
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Every subcommand over `file`; returns the packets' absolute and relative times (seconds)
/// and the connection's duration from the JSON output.
fn every_command(file: &Path, dir: &Path) -> (Vec<f64>, Vec<f64>, f64) {
    for sub in ["conns", "packets", "diagnose"] {
        run(&[sub], file);
        run(&[sub, "--json"], file);
    }
    run(&["conns", "--csv"], file);
    run(&["packets", "--csv"], file);
    run(&["tcb", "--conn", "0", "--frame", "9"], file);
    run(&["follow", "--conn", "0", "--detect"], file);
    for kind in ["tsg", "rtt", "tput", "window"] {
        let svg = dir.join(format!("{kind}.svg"));
        run(
            &[
                "graph",
                "--conn",
                "0",
                "--kind",
                kind,
                "-o",
                svg.to_str().unwrap(),
            ],
            file,
        );
    }
    let json = |l: &str| serde_json::from_str::<Value>(l).unwrap();
    let packets: Vec<Value> = run(&["packets", "--json"], file)
        .lines()
        .map(json)
        .filter(|v| v["type"] == "packet")
        .collect();
    assert_eq!(packets.len(), conversation().len());
    for p in &packets {
        for k in ["ack_rtt_ms", "rto_ms"] {
            if let Some(x) = p[k].as_f64() {
                assert!(x.is_finite() && x.abs() < MAX_MS, "{k} = {x} in {p}");
            }
        }
    }
    let times = |k: &str| -> Vec<f64> {
        let v: Vec<f64> = packets.iter().map(|p| p[k].as_f64().unwrap()).collect();
        for t in &v {
            assert!(t.is_finite() && t.abs() < MAX_S, "{k} = {t}");
        }
        v
    };
    let conns = run(&["conns", "--json"], file);
    let conn = conns
        .lines()
        .map(json)
        .find(|v| v["type"] == "connection")
        .unwrap();
    let dur = conn["duration"].as_f64().unwrap();
    assert!(dur.is_finite() && dur.abs() < MAX_S, "duration {dur}");
    (times("ts"), times("rel_ts"), dur)
}

#[test]
fn extreme_pcap_timestamps_are_analysed_without_overflow() {
    let dir = tmpdir("pcap");
    let file = dir.join("extreme.pcap");
    // 0 and u32::MAX seconds (a handshake RTT of 136 years), a nanosecond field of 4.29 s, and
    // time going back and forth.
    let times = [
        (0, 0),
        (u32::MAX, u32::MAX),
        (u32::MAX, 0),
        (0, 1_500_000_000),
        (7, 999_999_999),
        (u32::MAX, 1),
        (0, u32::MAX),
    ];
    std::fs::write(&file, pcap(&times)).unwrap();
    let (ts, rel, _) = every_command(&file, &dir);
    // A nanosecond field beyond one second carries into the seconds.
    assert!(close(ts[3], 1.5), "{}", ts[3]);
    assert!(close(ts[6], 4.294967295), "{}", ts[6]);
    assert!(close(ts[1], u32::MAX as f64 + 4.294967295), "{}", ts[1]);
    assert_eq!(rel[0], 0.0);
    assert!(close(rel[3], 1.5), "{}", rel[3]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn pcapng_ticks_beyond_the_nanosecond_range_are_clamped() {
    let dir = tmpdir("pcapng");
    // Whole seconds: 2^64 - 1 s (negative once converted to i64 seconds), 2^63 s, 2^62 s.
    let file = dir.join("seconds.pcapng");
    let ticks = [0, u64::MAX, 1 << 63, 1 << 62, 5, u64::MAX - 1];
    std::fs::write(&file, pcapng(0, &ticks)).unwrap();
    let (ts, _, _) = every_command(&file, &dir);
    // Clamped into [0, 2^62 - 1 ns]: before 1970 becomes 0, after year 2116 the limit.
    let max = ((1u64 << 62) - 1) as f64 / 1e9;
    assert_eq!(ts[0], 0.0);
    assert!(close(ts[3], max), "{}", ts[3]);
    assert!(close(ts[4], 5.0), "{}", ts[4]);
    for t in &ts {
        assert!((0.0..=max * (1.0 + 1e-9)).contains(t), "{t}");
    }
    // Half seconds: the largest tick counts have a fraction too.
    let file = dir.join("half.pcapng");
    let ticks = [1, u64::MAX, (1 << 63) + 1, 3, u64::MAX / 2];
    std::fs::write(&file, pcapng(0x81, &ticks)).unwrap();
    let (ts, _, _) = every_command(&file, &dir);
    assert!(close(ts[0], 0.5), "{}", ts[0]);
    assert!(close(ts[3], 1.5), "{}", ts[3]);
    let _ = std::fs::remove_dir_all(&dir);
}
