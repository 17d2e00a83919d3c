//! A hand-written receiver (a UDP socket answering with scripted ACKs) checks the `sender`
//! program's segments byte for byte: window limit, WIN field, stale ACKs, fast retransmit
//! after 3 duplicate ACKs, the peer's smaller WIN, timeout retransmission and the end.

// Helpers outside #[test] fns too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::net::{SocketAddr, UdpSocket};
use std::process::{Command, Stdio};
use std::time::Duration;

fn ack(seq: u8, win: u8) -> [u8; 4] {
    [(2 << 3) | win, seq, 0, 0]
}

fn data(seq: u8, win: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![(1 << 3) | win, seq];
    v.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    v.extend_from_slice(payload);
    v
}

struct Peer {
    sock: UdpSocket,
    sender: Option<SocketAddr>,
}

impl Peer {
    fn recv(&mut self, within: Duration) -> Vec<u8> {
        self.sock.set_read_timeout(Some(within)).unwrap();
        let mut b = [0u8; 2048];
        let (n, from) = self.sock.recv_from(&mut b).expect("a DATA segment");
        self.sender = Some(from);
        b[..n].to_vec()
    }

    /// Nothing arrives for `for_`: the wait is the assertion (the sender must stay quiet).
    fn silent(&self, for_: Duration) {
        self.sock.set_read_timeout(Some(for_)).unwrap();
        let mut b = [0u8; 2048];
        let r = self.sock.recv_from(&mut b);
        assert!(
            r.is_err(),
            "unexpected datagram {:02x?}",
            r.map(|(n, _)| b[..n.min(8)].to_vec())
        );
    }

    fn send(&self, seg: &[u8]) {
        self.sock.send_to(seg, self.sender.unwrap()).unwrap();
    }
}

#[test]
fn segments_exactly() {
    let dir = std::env::temp_dir().join(format!("arq-tx-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("in.bin");
    let content: Vec<u8> = (0..3 * 512 + 10).map(|i| (i * 13 % 251) as u8).collect();
    std::fs::write(&file, &content).unwrap();
    let chunk = |i: usize| &content[i * 512..(i * 512 + 512).min(content.len())];

    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = sock.local_addr().unwrap().port();
    let mut p = Peer { sock, sender: None };
    let child = Command::new(env!("CARGO_BIN_EXE_sender"))
        .args([
            "--rto",
            "3000",
            "--json",
            "127.0.0.1",
            &port.to_string(),
            "2",
        ])
        .arg(&file)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let s = Duration::from_secs(5);

    // Window 2: segments 0 and 1 (WIN = 2 in byte 0: 0x0a), then nothing.
    assert_eq!(p.recv(s), data(0, 2, chunk(0)));
    assert_eq!(&p.recv(s)[..4], &[0x0a, 1, 2, 0]);
    p.silent(Duration::from_millis(300));
    // ACK 1 slides the window by one: segment 2.
    p.send(&ack(1, 2));
    assert_eq!(p.recv(s), data(2, 2, chunk(2)));
    // A stale ACK (0, behind the window) changes nothing.
    p.send(&ack(0, 2));
    p.silent(Duration::from_millis(100));
    // Three duplicate ACKs: fast retransmission of segment 1 only.
    for _ in 0..3 {
        p.send(&ack(1, 2));
    }
    assert_eq!(p.recv(s), data(1, 2, chunk(1)));
    p.silent(Duration::from_millis(100));
    // ACK 3 with WIN 1: the window is min(2, 1) = 1: the last segment (10 bytes) only.
    p.send(&ack(3, 1));
    assert_eq!(p.recv(s), data(3, 2, chunk(3)));
    // Not acknowledged: retransmitted by its timer.
    assert_eq!(p.recv(Duration::from_secs(4)), data(3, 2, chunk(3)));
    p.send(&ack(4, 1));

    let o = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "sender failed: {stderr}");
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one NDJSON record");
    assert_eq!(json["type"], "transfer");
    assert_eq!(json["success"], true);
    assert_eq!(json["stats"]["bytes_acked"], content.len());
    assert_eq!(json["stats"]["retransmits_fast"], 1);
    assert_eq!(json["stats"]["retransmits_timeout"], 1);
    assert_eq!(json["stats"]["stale_acks"], 1);
    assert!(stderr.contains("sent 1546 bytes in 4 segments"), "{stderr}");
    assert!(
        stderr.contains("retransmissions 2 (fast 1, timeout 1)"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn empty_file_is_one_empty_segment() {
    let dir = std::env::temp_dir().join(format!("arq-tx0-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("empty");
    std::fs::write(&file, b"").unwrap();
    let sock = UdpSocket::bind("[::1]:0").unwrap();
    let port = sock.local_addr().unwrap().port();
    let mut p = Peer { sock, sender: None };
    let child = Command::new(env!("CARGO_BIN_EXE_sender"))
        .args(["-q", "::1", &port.to_string(), "7"])
        .arg(&file)
        .spawn()
        .unwrap();
    assert_eq!(p.recv(Duration::from_secs(5)), vec![0x0f, 0, 0, 0]);
    p.send(&ack(1, 7));
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn nobody_listening_fails_clearly() {
    let port = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let o = Command::new(env!("CARGO_BIN_EXE_sender"))
        .args([
            "--timeout",
            "1",
            "--rto",
            "50",
            "127.0.0.1",
            &port.to_string(),
            "3",
        ])
        .arg(env!("CARGO_MANIFEST_DIR")) // any readable file; directory read fails instead
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3));
    let o = Command::new(env!("CARGO_BIN_EXE_sender"))
        .args([
            "--timeout",
            "1",
            "--rto",
            "50",
            "127.0.0.1",
            &port.to_string(),
            "3",
        ])
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("no progress"), "{stderr}");
    assert!(stderr.contains("start the receiver first"), "{stderr}");
}
