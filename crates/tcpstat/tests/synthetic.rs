//! The analysis flags the CNP3 traces never raise (zero-window probe and its ACK, keep-alive
//! ACK, spurious retransmission, ACKed unseen segment, out-of-window RST), on a capture built
//! here packet by packet, checked against tshark by scripts/conformance.

use std::process::Command;

use testsupport::{require_peer, tool, workspace_root};

const C: ([u8; 4], u16) = ([10, 0, 0, 1], 40000);
const S: ([u8; 4], u16) = ([10, 0, 0, 2], 80);

struct Pcap(Vec<u8>);

impl Pcap {
    fn new() -> Pcap {
        let mut v = Vec::new();
        v.extend_from_slice(&0xa1b2c3d4u32.to_le_bytes());
        v.extend_from_slice(&2u16.to_le_bytes());
        v.extend_from_slice(&4u16.to_le_bytes());
        v.extend_from_slice(&[0; 8]);
        v.extend_from_slice(&65535u32.to_le_bytes());
        v.extend_from_slice(&1u32.to_le_bytes());
        Pcap(v)
    }

    /// One TCP segment from the client (or the server) at `ms` milliseconds.
    #[allow(clippy::too_many_arguments)]
    fn tcp(&mut self, ms: u64, client: bool, flags: u8, seq: u32, ack: u32, win: u16, len: usize) {
        let (src, dst) = if client { (C, S) } else { (S, C) };
        let opts: &[u8] = if flags & 0x02 != 0 {
            &[2, 4, 5, 0xb4, 1, 3, 3, 0]
        } else {
            &[]
        };
        let thl = 20 + opts.len();
        let mut f = vec![0u8; 14];
        f[12] = 0x08;
        let tot = (20 + thl + len) as u16;
        let mut ip = vec![0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 6, 0, 0];
        ip[2..4].copy_from_slice(&tot.to_be_bytes());
        ip.extend_from_slice(&src.0);
        ip.extend_from_slice(&dst.0);
        f.extend_from_slice(&ip);
        f.extend_from_slice(&src.1.to_be_bytes());
        f.extend_from_slice(&dst.1.to_be_bytes());
        f.extend_from_slice(&seq.to_be_bytes());
        f.extend_from_slice(&ack.to_be_bytes());
        f.push(((thl / 4) as u8) << 4);
        f.push(flags);
        f.extend_from_slice(&win.to_be_bytes());
        f.extend_from_slice(&[0, 0, 0, 0]);
        f.extend_from_slice(opts);
        f.extend(std::iter::repeat_n(b'x', len));
        let ts = 1_700_000_000u64 * 1_000_000 + ms * 1000;
        self.0
            .extend_from_slice(&((ts / 1_000_000) as u32).to_le_bytes());
        self.0
            .extend_from_slice(&((ts % 1_000_000) as u32).to_le_bytes());
        self.0.extend_from_slice(&(f.len() as u32).to_le_bytes());
        self.0.extend_from_slice(&(f.len() as u32).to_le_bytes());
        self.0.extend_from_slice(&f);
    }
}

const SYN: u8 = 0x02;
const ACK: u8 = 0x10;
const PSH: u8 = 0x08;
const RST: u8 = 0x04;

fn build() -> Vec<u8> {
    let mut p = Pcap::new();
    p.tcp(0, true, SYN, 1000, 0, 8000, 0);
    p.tcp(10, false, SYN | ACK, 5000, 1001, 8000, 0);
    p.tcp(20, true, ACK, 1001, 5001, 8000, 0);
    p.tcp(30, true, PSH | ACK, 1001, 5001, 8000, 100);
    // The receiver's window closes: zero window, then a one-byte probe and its ACK.
    p.tcp(40, false, ACK, 5001, 1101, 0, 0);
    p.tcp(300, true, ACK, 1101, 5001, 8000, 1);
    p.tcp(310, false, ACK, 5001, 1101, 0, 0);
    // It reopens: window update, then data (the probed byte again) and its ACK.
    p.tcp(900, false, ACK, 5001, 1101, 8000, 0);
    p.tcp(910, true, PSH | ACK, 1101, 5001, 8000, 100);
    p.tcp(920, false, ACK, 5001, 1201, 8000, 0);
    // Keep-alive (one byte before the next sequence number) and its ACK.
    p.tcp(5000, true, ACK, 1200, 5001, 8000, 0);
    p.tcp(5010, false, ACK, 5001, 1201, 8000, 0);
    // Data the receiver already has: spurious retransmission.
    p.tcp(6000, true, PSH | ACK, 1101, 5001, 8000, 100);
    // An ACK for bytes the capture never saw (1201..1401 missing).
    p.tcp(6010, false, ACK, 5001, 1401, 8000, 0);
    p.tcp(6020, true, PSH | ACK, 1401, 5001, 8000, 100);
    p.tcp(6030, false, ACK, 5001, 1501, 8000, 0);
    // A RST far outside the server's window (an injected RST).
    p.tcp(7000, true, RST, 900_000, 0, 0, 0);
    p.0
}

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
    let flags_of = |frame: u64| -> String {
        text.lines()
            .find(|l| l.contains(&format!("\"frame\":{frame},")))
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                v["flags"].to_string()
            })
            .unwrap_or_default()
    };
    assert!(flags_of(5).contains("zero_window"), "{}", flags_of(5));
    assert!(flags_of(6).contains("zero_window_probe"), "{}", flags_of(6));
    assert!(
        flags_of(7).contains("zero_window_probe_ack"),
        "{}",
        flags_of(7)
    );
    assert!(flags_of(8).contains("window_update"), "{}", flags_of(8));
    assert!(flags_of(11).contains("keep_alive"), "{}", flags_of(11));
    assert!(flags_of(12).contains("keep_alive_ack"), "{}", flags_of(12));
    assert!(
        flags_of(13).contains("spurious_retransmission"),
        "{}",
        flags_of(13)
    );
    assert!(
        flags_of(14).contains("ack_lost_segment"),
        "{}",
        flags_of(14)
    );
    assert!(
        flags_of(17).contains("rst_out_of_window"),
        "{}",
        flags_of(17)
    );

    let out = Command::new(workspace_root().join("scripts/conformance"))
        .arg("--tcpstat")
        .arg(tool("tcpstat"))
        .arg(&pcap)
        .output()
        .expect("run scripts/conformance");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "conformance failed:\n{report}");
    for f in [
        "spurious_retransmission",
        "ack_lost_segment",
        "zero_window_probe ",
        "zero_window_probe_ack",
        "keep_alive_ack",
    ] {
        let line = report
            .lines()
            .find(|l| l.trim_start().starts_with(f))
            .unwrap_or_else(|| panic!("{f} missing:\n{report}"));
        assert!(line.contains("1.0000"), "{line}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
