//! `tcpstat graph --kind sw` on a capture of a sender/receiver transfer built here datagram by
//! datagram (Ethernet/IPv4/UDP, netproto::segment payloads): 300 segments, so the 8-bit
//! numbers wrap, one of them retransmitted, every DATA acknowledged.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::{Command, Output};

use testsupport::pcap::{ETHERNET, Endpoint, PcapWriter, eth_ipv4_udp};
use testsupport::tool;

const SND: Endpoint = ([192, 168, 56, 101], 40000);
const RCV: Endpoint = ([192, 168, 56, 102], 6000);
const DNS: Endpoint = ([192, 168, 56, 1], 53);

/// One UDP datagram at `ms` milliseconds.
fn udp(p: &mut PcapWriter, ms: u64, src: Endpoint, dst: Endpoint, payload: &[u8]) {
    p.record_ms(1_700_000_000, ms, &eth_ipv4_udp(src, dst, payload));
}

/// A DATA segment (docs/protocols.md): Type 1 << 3 | WIN 4, sequence, length, payload.
fn data(p: &mut PcapWriter, ms: u64, seg: u64, len: usize) {
    let mut d = vec![1 << 3 | 4, seg as u8];
    d.extend_from_slice(&(len as u16).to_be_bytes());
    d.resize(4 + len, b'x');
    udp(p, ms, SND, RCV, &d);
}

/// An ACK: Type 2 << 3 | WIN 4, the next expected segment, length 0.
fn ack(p: &mut PcapWriter, ms: u64, next: u64) {
    udp(p, ms, RCV, SND, &[2 << 3 | 4, next as u8, 0, 0]);
}

/// 300 segments (the last one short), one every 10 ms, each ACKed 4 ms later; segment 260's
/// first copy is lost and resent after 261 (so its ACK repeats 260), and a stray datagram on
/// port 53 whose payload happens to parse as an ACK.
fn build() -> Vec<u8> {
    let mut p = PcapWriter::new(ETHERNET);
    for n in 0..300u64 {
        let t = n * 10;
        data(&mut p, t, n, if n == 299 { 100 } else { 512 });
        match n {
            260 => {}
            261 => {
                ack(&mut p, t + 5, 260);
                data(&mut p, t + 7, 260, 512);
                ack(&mut p, t + 8, 262);
            }
            _ => ack(&mut p, t + 4, n + 1),
        }
        if n == 100 {
            udp(&mut p, t + 1, DNS, SND, &[0x14, 0, 0, 0]);
        }
    }
    p.into_bytes()
}

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("tcpstat-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }
    fn path(&self, f: &str) -> String {
        self.0.join(f).to_str().unwrap().to_string()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn tcpstat(args: &[&str]) -> Output {
    Command::new(tool("tcpstat")).args(args).output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn sw_graph_counts_and_svg() {
    let dir = Dir::new("sw");
    let pcap = dir.path("sw.pcap");
    std::fs::write(&pcap, build()).unwrap();
    let svg = dir.path("sw.svg");

    let out = tcpstat(&[
        "graph", "-r", &pcap, "--kind", "sw", "--port", "6000", "-o", &svg, "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let r: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert_eq!(r["type"], "graph");
    assert_eq!(r["kind"], "sw");
    assert_eq!(r["transfers"], 1);
    assert_eq!(r["sender"], "192.168.56.101:40000");
    assert_eq!(r["receiver"], "192.168.56.102:6000");
    assert_eq!(r["data"], 301);
    assert_eq!(r["retransmitted"], 1);
    assert_eq!(r["acks"], 300);
    assert_eq!(r["segments"], 300);
    assert!(
        (r["duration_s"].as_f64().unwrap() - 2.994).abs() < 1e-6,
        "{r}"
    );
    let drawn = std::fs::read_to_string(&svg).unwrap();
    assert!(
        drawn.starts_with("<svg"),
        "{}",
        &drawn[..80.min(drawn.len())]
    );
    for label in [
        "DATA (first transmission)",
        "DATA retransmitted",
        "ACK: next expected segment",
        "segment number (unwrapped)",
        "window 4",
    ] {
        assert!(drawn.contains(label), "{label} missing from the SVG");
    }
    // The segment numbers run past 255: the y axis reaches 300.
    let labels: Vec<&str> = drawn
        .split("</text>")
        .filter_map(|t| t.rsplit('>').next().map(str::trim))
        .collect();
    assert!(labels.contains(&"300"), "no 300 on the y axis: {labels:?}");

    // The human line: the counts gen-lab-docs pastes under the graph.
    let out = tcpstat(&[
        "graph", "-r", &pcap, "--kind", "sw", "--port", "6000", "-o", &svg,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!(
            "wrote {svg} (sliding-window graph of transfer 0: 192.168.56.101:40000 -> 192.168.56.102:6000, 301 DATA segments (1 retransmitted), 300 ACKs, 2.99 s)\n"
        )
    );

    // PNG by extension.
    let png = dir.path("sw.png");
    let out = tcpstat(&["graph", "-r", &pcap, "--kind", "sw", "-o", &png, "-q"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(std::fs::read(&png).unwrap().starts_with(b"\x89PNG"));
}

#[test]
fn sw_graph_transfers_ports_and_errors() {
    let dir = Dir::new("sw-errors");
    let pcap = dir.path("sw.pcap");
    std::fs::write(&pcap, build()).unwrap();
    let svg = dir.path("sw.svg");

    // Without --port the stray "ACK" from port 53 makes a second transfer: transfer 0 is still
    // the real one (a warning names the choice), and --conn 1 is the stray one.
    let out = tcpstat(&["graph", "-r", &pcap, "--kind", "sw", "-o", &svg, "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let r: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert_eq!(
        (r["transfers"].clone(), r["data"].clone()),
        (2.into(), 301.into())
    );
    assert!(
        text(&out.stderr).contains("2 transfers"),
        "{}",
        text(&out.stderr)
    );
    let out = tcpstat(&[
        "graph", "-r", &pcap, "--kind", "sw", "--conn", "1", "-o", &svg, "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let r: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert_eq!(r["sender"], "192.168.56.101:40000");
    assert_eq!(r["receiver"], "192.168.56.1:53");
    assert_eq!((r["data"].clone(), r["acks"].clone()), (0.into(), 1.into()));

    // No transfer 2; nothing on port 7000; --port and --dir where they do not apply.
    let out = tcpstat(&[
        "graph", "-r", &pcap, "--kind", "sw", "--conn", "2", "-o", &svg,
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("no transfer 2"),
        "{}",
        text(&out.stderr)
    );
    let out = tcpstat(&[
        "graph", "-r", &pcap, "--kind", "sw", "--port", "7000", "-o", &svg,
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("no sliding-window segments"),
        "{}",
        text(&out.stderr)
    );
    let out = tcpstat(&[
        "graph", "-r", &pcap, "--kind", "tsg", "--conn", "0", "--port", "6000", "-o", &svg,
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let out = tcpstat(&[
        "graph", "-r", &pcap, "--kind", "sw", "--dir", "client", "-o", &svg,
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}
