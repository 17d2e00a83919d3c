//! A hand-written sender (a UDP socket sending scripted segments) checks the `receiver`
//! program's ACK numbers and WIN byte for byte: in-order, out-of-order, duplicate, old,
//! beyond-window and garbage datagrams, segments from a stranger, sequence wraparound, the
//! last segment and its re-ACK while lingering, and the `.part` → final rename.

// Helpers outside #[test] fns too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::net::UdpSocket;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use testsupport::{bound_by, wait_ready};

fn free_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn data(seq: u8, win: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![(1 << 3) | win, seq];
    v.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    v.extend_from_slice(payload);
    v
}

fn chunk(abs: u32) -> Vec<u8> {
    (0..512u32).map(|i| (abs * 7 + i) as u8).collect()
}

struct Peer {
    sock: UdpSocket,
    port: u16,
}

impl Peer {
    fn new(port: u16) -> Peer {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        Peer { sock, port }
    }

    /// Send `seg` and return the ACK it produced.
    fn exchange(&self, seg: &[u8]) -> [u8; 4] {
        self.sock.send_to(seg, ("127.0.0.1", self.port)).unwrap();
        self.ack()
    }

    fn ack(&self) -> [u8; 4] {
        let mut b = [0u8; 64];
        let (n, _) = self.sock.recv_from(&mut b).expect("an ACK");
        assert_eq!(n, 4, "an ACK is 4 bytes: {:02x?}", &b[..n]);
        [b[0], b[1], b[2], b[3]]
    }

    /// Nothing arrives for 300 ms: the wait is the assertion (no ACK to what must be ignored).
    fn silent(&self) {
        self.sock
            .set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        let mut b = [0u8; 64];
        let r = self.sock.recv_from(&mut b);
        assert!(
            r.is_err(),
            "unexpected datagram {:02x?}",
            r.map(|(n, _)| b[..n].to_vec())
        );
        self.sock
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
    }
}

/// ACK bytes: type 2, WIN, sequence, length 0.
fn ack(seq: u8, win: u8) -> [u8; 4] {
    [(2 << 3) | win, seq, 0, 0]
}

/// Start the receiver and wait until it has its UDP port bound (from then on datagrams queue
/// for it).
fn start(port: u16, window: &str, out: &Path, extra: &[&str]) -> Child {
    let mut c = Command::new(env!("CARGO_BIN_EXE_receiver"))
        .args(extra)
        .args(["--bind", "127.0.0.1", &port.to_string(), window])
        .arg(out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_bound(&mut c, port);
    c
}

fn wait_bound(c: &mut Child, port: u16) {
    let pid = c.id();
    wait_ready(c, &format!("receiver bound to UDP port {port}"), || {
        bound_by(pid, "udp", port)
    });
}

#[test]
fn acks_and_windows_exactly() {
    let dir = std::env::temp_dir().join(format!("arq-rx-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("out.bin");
    let port = free_port();
    let child = start(port, "4", &out, &["--json"]);
    let p = Peer::new(port);
    let mut expect: Vec<u8> = Vec::new();

    // In order: ACK = next expected, WIN = 4 (the program drains its window at once).
    assert_eq!(p.exchange(&data(0, 7, &chunk(0))), ack(1, 4));
    expect.extend(chunk(0));
    // The stranger: a second socket's DATA is ignored, no ACK goes to it.
    let stranger = Peer::new(port);
    stranger
        .sock
        .send_to(&data(1, 7, &chunk(1)), ("127.0.0.1", port))
        .unwrap();
    stranger.silent();
    // Garbage and an ACK sent to the receiver: ignored, no ACK.
    p.sock.send_to(b"garbage", ("127.0.0.1", port)).unwrap();
    p.sock.send_to(&ack(3, 1), ("127.0.0.1", port)).unwrap();
    p.silent();
    // Out of order (2 before 1): buffered, duplicate ACK for 1.
    assert_eq!(p.exchange(&data(2, 7, &chunk(2))), ack(1, 4));
    // The same again: a duplicate, still ACKed.
    assert_eq!(p.exchange(&data(2, 7, &chunk(2))), ack(1, 4));
    // Beyond the window (1..=4): dropped, ACKed.
    assert_eq!(p.exchange(&data(5, 7, &chunk(5))), ack(1, 4));
    // The hole: 1 and the buffered 2 are delivered.
    assert_eq!(p.exchange(&data(1, 7, &chunk(1))), ack(3, 4));
    expect.extend(chunk(1));
    expect.extend(chunk(2));
    // An old duplicate (0) is re-ACKed with the current number.
    assert_eq!(p.exchange(&data(0, 7, &chunk(0))), ack(3, 4));

    // Up to the wrap: 3..=255.
    for abs in 3u32..=255 {
        let next = (abs + 1) as u8;
        assert_eq!(
            p.exchange(&data(abs as u8, 7, &chunk(abs))),
            ack(next, 4),
            "segment {abs}"
        );
        expect.extend(chunk(abs));
    }
    // 256 (wire 0) and 257 (wire 1) arrive in reverse order across the wrap.
    assert_eq!(p.exchange(&data(1, 7, &chunk(257))), ack(0, 4));
    assert_eq!(p.exchange(&data(0, 7, &chunk(256))), ack(2, 4));
    expect.extend(chunk(256));
    expect.extend(chunk(257));
    // Old duplicates from before and after the wrap (255, 254, 257 = wire 1) are behind
    // the next expected number: re-ACKed, never taken for 511, 510 or 513.
    assert_eq!(p.exchange(&data(255, 7, &chunk(255))), ack(2, 4));
    assert_eq!(p.exchange(&data(254, 7, &chunk(254))), ack(2, 4));
    assert_eq!(p.exchange(&data(1, 7, &chunk(257))), ack(2, 4));
    // 259 ahead of 258: buffered across the wrap.
    assert_eq!(p.exchange(&data(3, 7, &chunk(259))), ack(2, 4));
    assert_eq!(p.exchange(&data(2, 7, &chunk(258))), ack(4, 4));
    expect.extend(chunk(258));
    expect.extend(chunk(259));
    // The last segment (short) ends the transfer; its retransmission is re-ACKed.
    assert_eq!(p.exchange(&data(4, 7, b"end")), ack(5, 4));
    expect.extend(b"end");
    assert_eq!(p.exchange(&data(4, 7, b"end")), ack(5, 4));

    let o = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "receiver failed: {stderr}");
    let got = std::fs::read(&out).unwrap();
    assert!(
        got == expect,
        "output differs: {} vs {} bytes",
        got.len(),
        expect.len()
    );
    assert!(!dir.join("out.bin.part").exists());
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one NDJSON record");
    assert_eq!(json["type"], "transfer");
    assert_eq!(json["stats"]["bytes"], expect.len());
    assert_eq!(json["stats"]["segments"], 261);
    assert!(json["foreign_datagrams"].as_u64().unwrap() >= 1);
    assert!(
        stderr.contains("received 133123 bytes in 261 segments"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn go_back_n_accepts_in_order_only() {
    let dir = std::env::temp_dir().join(format!("arq-gbn-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("f");
    let port = free_port();
    let child = start(port, "3", &out, &["--mode", "gbn", "-q"]);
    let p = Peer::new(port);
    assert_eq!(p.exchange(&data(1, 3, &chunk(1))), ack(0, 3));
    assert_eq!(p.exchange(&data(0, 3, &chunk(0))), ack(1, 3));
    // 1 was not kept: it is needed again.
    assert_eq!(p.exchange(&data(2, 3, &chunk(2))), ack(1, 3));
    assert_eq!(p.exchange(&data(1, 3, &chunk(1))), ack(2, 3));
    assert_eq!(p.exchange(&data(2, 3, &[])), ack(3, 3));
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success());
    let mut expect = chunk(0);
    expect.extend(chunk(1));
    assert_eq!(std::fs::read(&out).unwrap(), expect);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn timeout_removes_the_partial_file() {
    let dir = std::env::temp_dir().join(format!("arq-to-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("f");
    let port = free_port();
    let child = start(port, "2", &out, &["--timeout", "1"]);
    let p = Peer::new(port);
    assert_eq!(p.exchange(&data(0, 2, &chunk(0))), ack(1, 2));
    let o = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("no progress") && stderr.contains("removed the partial file"),
        "{stderr}"
    );
    assert!(!out.exists());
    assert!(!dir.join("f.part").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn window_out_of_range_is_a_usage_error() {
    let o = Command::new(env!("CARGO_BIN_EXE_receiver"))
        .args(["9000", "8", "x"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("3 bits"));
}

#[test]
fn ipv6_to_stdout() {
    let port = UdpSocket::bind("[::1]:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_receiver"))
        .args(["--json", "--bind", "::1", &port.to_string(), "2", "-"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_bound(&mut child, port);
    let sock = UdpSocket::bind("[::1]:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    sock.send_to(&data(0, 2, &chunk(0)), ("::1", port)).unwrap();
    sock.send_to(&data(1, 2, b"tail"), ("::1", port)).unwrap();
    let mut b = [0u8; 16];
    let mut acks = Vec::new();
    for _ in 0..2 {
        let (n, _) = sock.recv_from(&mut b).unwrap();
        acks.push(b[..n].to_vec());
    }
    assert_eq!(acks, vec![ack(1, 2).to_vec(), ack(2, 2).to_vec()]);
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success());
    let mut expect = chunk(0);
    expect.extend(b"tail");
    // The data owns stdout; the JSON record goes to stderr.
    assert_eq!(o.stdout, expect);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains(r#""type":"transfer""#), "{stderr}");
}
