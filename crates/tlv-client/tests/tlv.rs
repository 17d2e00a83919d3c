//! tlv-client and tlv-server over real TCP sockets on loopback (IPv4 and IPv6): the real pair,
//! raw clients that misbehave against the server, and test servers that misbehave against
//! the client (unknown type, short value, garbage, silence, early close, one byte per segment).

// Helpers outside #[test] fns too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use testsupport::LoggedServer;

const CLIENT: &str = env!("CARGO_BIN_EXE_tlv-client");
const SERVER: &str = env!("CARGO_BIN_EXE_tlv-server");

/// tlv-server on an ephemeral port, its log collected (shared helper in testsupport).
struct Server;

impl Server {
    fn start(bind: &str, extra: &[&str]) -> LoggedServer {
        let mut cmd = Command::new(SERVER);
        cmd.args(["--bind", bind, "--port", "0"]).args(extra);
        LoggedServer::spawn(cmd)
    }
}

fn client(args: &[&str]) -> Output {
    Command::new(CLIENT).args(args).output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn client_and_server_ipv4_and_ipv6() {
    for (bind, host) in [("127.0.0.1", "127.0.0.1"), ("::1", "::1")] {
        let server = Server::start(bind, &["--value", "1234"]);
        let port = server.addr.port().to_string();
        let out = client(&["-v", host, &port]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert_eq!(text(&out.stdout), "true\n");
        let err = text(&out.stderr);
        for want in [
            "<- 44 31 32 33 34  (ASCII, length 4) \"1234\"",
            "-> 00 00 04 d2  (1234 as a 32-bit big-endian integer)",
            "<- 81 00  (boolean, length 1) true",
        ] {
            assert!(err.contains(want), "{want:?} not in\n{err}");
        }
        server.wait_log("value=1234 got=1234 answer=true");
    }
    // Random values, dual-stack default bind: an IPv4 client of [::].
    let server = Server::start("::", &[]);
    let port = server.addr.port().to_string();
    for _ in 0..3 {
        let out = client(&["127.0.0.1", &port]);
        assert_eq!(text(&out.stdout), "true\n", "{}", text(&out.stderr));
    }
}

/// A raw client: read the server's TLV, then do `then`, return everything the server sent.
fn raw_exchange(server: &LoggedServer, then: impl FnOnce(&mut TcpStream, u32)) -> Vec<u8> {
    let mut s = TcpStream::connect(server.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut head = [0u8; 1];
    s.read_exact(&mut head).unwrap();
    assert_eq!(head[0] >> 6, 0b01, "ASCII TLV");
    let mut digits = vec![0u8; usize::from(head[0] & 0x3f)];
    s.read_exact(&mut digits).unwrap();
    let value: u32 = String::from_utf8(digits).unwrap().parse().unwrap();
    then(&mut s, value);
    let mut rest = Vec::new();
    let _ = s.read_to_end(&mut rest);
    rest
}

#[test]
fn server_answers_false_to_misbehaving_clients_and_goes_on() {
    let server = Server::start("127.0.0.1", &["--timeout", "1"]);
    // Right integer: true (0x00).
    let r = raw_exchange(&server, |s, v| s.write_all(&v.to_be_bytes()).unwrap());
    assert_eq!(r, [0x81, 0x00]);
    // Wrong integer (little-endian!): false.
    let r = raw_exchange(&server, |s, v| {
        let v = if v.swap_bytes() == v { v ^ 1 } else { v };
        s.write_all(&v.to_le_bytes()).unwrap()
    });
    assert_eq!(r, [0x81, 0x01]);
    // Less than 4 bytes then close: false.
    let r = raw_exchange(&server, |s, _| {
        s.write_all(&[0, 0]).unwrap();
        s.shutdown(Shutdown::Write).unwrap();
    });
    assert_eq!(r, [0x81, 0x01]);
    server.wait_log("closed after 2 byte(s) answer=false");
    // Nothing at all: false after the server's timeout (1 s).
    let start = Instant::now();
    let r = raw_exchange(&server, |_, _| {});
    assert_eq!(r, [0x81, 0x01]);
    assert!(start.elapsed() >= Duration::from_millis(900));
    server.wait_log("timeout after 0 byte(s) answer=false");
    // Garbage, more than 4 bytes: judged on the first 4, and the answer still arrives.
    let r = raw_exchange(&server, |s, _| s.write_all(&[0xde; 3000]).unwrap());
    assert_eq!(r, [0x81, 0x01]);
    // Trickling one byte at a time does not extend the deadline.
    let r = raw_exchange(&server, |s, _| {
        for _ in 0..3 {
            s.write_all(&[0]).unwrap();
            // The scenario: 1.2 s of trickle against the server's 1 s timeout.
            std::thread::sleep(Duration::from_millis(400));
        }
    });
    assert_eq!(r, [0x81, 0x01]);
    // And the server still serves well-behaved clients.
    let port = server.addr.port().to_string();
    assert_eq!(text(&client(&["127.0.0.1", &port]).stdout), "true\n");
}

#[test]
fn server_serves_clients_concurrently() {
    // With a 30 s client timeout, a server serving one client at a time would keep the
    // real clients waiting a minute behind the two silent ones.
    let server = Server::start("127.0.0.1", &["--timeout", "30"]);
    let port = server.addr.port().to_string();
    // Two silent clients hold connections open...
    let silent: Vec<TcpStream> = (0..2)
        .map(|_| TcpStream::connect(server.addr).unwrap())
        .collect();
    // ...while many real clients run at once.
    let start = Instant::now();
    let handles: Vec<_> = (0..16)
        .map(|_| {
            let port = port.clone();
            std::thread::spawn(move || client(&["127.0.0.1", &port]))
        })
        .collect();
    for h in handles {
        let out = h.join().unwrap();
        assert_eq!(text(&out.stdout), "true\n", "{}", text(&out.stderr));
    }
    assert!(
        start.elapsed() < Duration::from_secs(25),
        "clients waited behind the silent ones"
    );
    drop(silent);
}

/// A one-connection test server that runs `behave` on the accepted stream.
fn fake_server(
    behave: impl FnOnce(TcpStream) + Send + 'static,
) -> (String, std::thread::JoinHandle<()>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port().to_string();
    let h = std::thread::spawn(move || {
        let (s, _) = l.accept().unwrap();
        s.set_nodelay(true).unwrap();
        behave(s);
    });
    (port, h)
}

/// Run the client against a fake server; returns (exit code, stdout, stderr, seconds).
fn against(
    behave: impl FnOnce(TcpStream) + Send + 'static,
    timeout: &str,
) -> (Option<i32>, String, String, f64) {
    let (port, h) = fake_server(behave);
    let start = Instant::now();
    let out = client(&["127.0.0.1", &port, "--timeout", timeout]);
    let secs = start.elapsed().as_secs_f64();
    h.join().unwrap();
    (
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr),
        secs,
    )
}

#[test]
fn client_copes_with_one_byte_per_segment() {
    let (code, out, err, _) = against(
        |mut s| {
            // The scenario: a pause after each byte (with TCP_NODELAY) makes it its own segment.
            for b in b"\x4a4000000000" {
                s.write_all(&[*b]).unwrap();
                std::thread::sleep(Duration::from_millis(15));
            }
            let mut got = [0u8; 4];
            s.read_exact(&mut got).unwrap();
            assert_eq!(got, 4_000_000_000u32.to_be_bytes());
            for b in [0x81, 0x00] {
                s.write_all(&[b]).unwrap();
                std::thread::sleep(Duration::from_millis(15)); // one segment each, as above
            }
        },
        "5",
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, "true\n");
}

#[test]
fn client_prints_false_and_exits_1() {
    let (code, out, err, _) = against(
        |mut s| {
            s.write_all(b"\x4242").unwrap();
            let mut got = [0u8; 4];
            s.read_exact(&mut got).unwrap();
            assert_eq!(got, [0, 0, 0, 42]);
            s.write_all(&[0x81, 0x01]).unwrap();
        },
        "5",
    );
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(out, "false\n");
}

#[test]
fn client_fails_clearly_on_bad_servers() {
    type Behave = Box<dyn FnOnce(TcpStream) + Send>;
    let cases: Vec<(&str, Behave, &str)> = vec![
        (
            "unknown type",
            Box::new(|mut s| s.write_all(&[0xc4, b'1', b'2', b'3', b'4']).unwrap()),
            "unknown TLV type 11 in header byte 0xc4",
        ),
        (
            "type 00",
            Box::new(|mut s| s.write_all(&[0x04, b'1']).unwrap()),
            "unknown TLV type 00",
        ),
        (
            "length not filled, then close",
            Box::new(|mut s| s.write_all(b"\x4a123").unwrap()),
            "closed the connection in the middle of a TLV (the integer): got 4 byte(s) (4a 31 32 33), need 7 more",
        ),
        (
            "garbage digits",
            Box::new(|mut s| s.write_all(b"\x43a1b").unwrap()),
            "is not an integer: byte 0 0x61 is not a decimal digit",
        ),
        (
            "overflow",
            Box::new(|mut s| s.write_all(b"\x4a4294967296").unwrap()),
            "exceeds the 32-bit maximum",
        ),
        (
            "closes at once",
            Box::new(drop),
            "closed the connection before sending the integer",
        ),
        (
            "boolean first",
            Box::new(|mut s| s.write_all(&[0x81, 0x00]).unwrap()),
            "expected an ASCII TLV holding an integer, got boolean true",
        ),
        (
            "bad boolean byte",
            Box::new(|mut s| {
                s.write_all(b"\x417").unwrap();
                let mut got = [0u8; 4];
                s.read_exact(&mut got).unwrap();
                s.write_all(&[0x81, 0x07]).unwrap();
            }),
            "boolean TLV value 0x07",
        ),
        (
            "ASCII instead of the boolean",
            Box::new(|mut s| {
                s.write_all(b"\x417").unwrap();
                let mut got = [0u8; 4];
                s.read_exact(&mut got).unwrap();
                s.write_all(b"\x42ok").unwrap();
            }),
            "expected a boolean TLV as the answer, got ASCII \"ok\"",
        ),
        (
            "boolean with length 2",
            Box::new(|mut s| {
                s.write_all(b"\x417").unwrap();
                let mut got = [0u8; 4];
                s.read_exact(&mut got).unwrap();
                s.write_all(&[0x82, 0, 0]).unwrap();
            }),
            "boolean TLV with length 2",
        ),
    ];
    for (name, behave, want) in cases {
        let (code, out, err, _) = against(behave, "5");
        assert_eq!(code, Some(3), "{name}: {err}");
        assert!(out.is_empty(), "{name}: {out}");
        assert!(err.contains(want), "{name}: {want:?} not in {err:?}");
        assert_eq!(err.lines().count(), 1, "{name}: one line: {err:?}");
    }
}

#[test]
fn client_times_out_on_silence_and_short_values() {
    // Nothing at all, connection held open until the client gives up.
    let (code, _, err, secs) = against(hold_until_client_closes, "1");
    assert_eq!(code, Some(3), "{err}");
    assert!(
        err.contains("no complete TLV (the integer) within 1 s: got 0 byte(s)"),
        "{err}"
    );
    assert!(secs >= 0.9, "gave up after {secs} s, before its timeout");
    // A length its data never fills, connection held open.
    let (code, _, err, _) = against(
        |mut s| {
            s.write_all(b"\x4512").unwrap();
            hold_until_client_closes(s);
        },
        "1",
    );
    assert_eq!(code, Some(3), "{err}");
    assert!(
        err.contains("got 3 byte(s) (45 31 32), need 3 more"),
        "{err}"
    );
}

/// Keep the connection open, silent, until the client closes it (its timeout fired).
fn hold_until_client_closes(mut s: TcpStream) {
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut sink = [0u8; 64];
    while let Ok(n) = s.read(&mut sink) {
        if n == 0 {
            break;
        }
    }
}

#[test]
fn client_network_and_usage_errors() {
    // Nothing listens.
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port().to_string()
    };
    let out = client(&["127.0.0.1", &port]);
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).contains("connection refused"));
    assert_eq!(client(&["127.0.0.1", "70000"]).status.code(), Some(2));
    assert_eq!(client(&[]).status.code(), Some(2));
    assert_eq!(
        client(&["127.0.0.1", "1", "--timeout", "-1"]).status.code(),
        Some(2)
    );
    // An unknown host is a name-service failure (3), not a usage error.
    let out = client(&["no.such.host.invalid"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).starts_with("error: unknown host 'no.such.host.invalid'"));
}

#[test]
fn help_has_examples() {
    let out = client(&["--help"]);
    assert!(text(&out.stdout).contains("tlv-client -v ::1 62141"));
    let out = Command::new(SERVER).arg("--help").output().unwrap();
    assert!(text(&out.stdout).contains("tlv-server --bind 127.0.0.1 --port 9999 --value 1234"));
}

#[test]
fn python_peers_interoperate() {
    if !testsupport::require_peer("python_peers_interoperate", "python3") {
        return;
    }
    // A Python client, as the lab sheet asks students to write it, against tlv-server.
    let server = Server::start("::1", &["--value", "3000000000"]);
    let py_client = format!(
        r#"
import socket, struct
s = socket.create_connection(('::1', {port}), timeout=5)
def recv_exact(n):
    b = b''
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise SystemExit('closed')
        b += c
    return b
h = recv_exact(1)[0]
assert h >> 6 == 1, h
v = int(recv_exact(h & 0x3f))
s.sendall(struct.pack('!I', v))
print(v, recv_exact(2).hex())
"#,
        port = server.addr.port()
    );
    let out = Command::new("python3")
        .args(["-c", &py_client])
        .output()
        .unwrap();
    assert_eq!(
        text(&out.stdout),
        "3000000000 8100\n",
        "{}",
        text(&out.stderr)
    );
    // tlv-client against a Python server that sends its TLV in two pieces and checks the
    // 4 bytes it gets back.
    let py_server = r#"
import socket, struct, time
l = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
l.bind(('127.0.0.1', 0)); l.listen(1)
print(l.getsockname()[1], flush=True)
c, _ = l.accept()
c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
# the scenario: a pause between the two pieces, so that they arrive apart
c.sendall(bytes([0x40 | 5]) + b'12'); time.sleep(0.05); c.sendall(b'345')
got = b''
while len(got) < 4:
    got += c.recv(4 - len(got))
ok = struct.unpack('!I', got)[0] == 12345
c.sendall(bytes([0x81, 0 if ok else 1]))
print(got.hex(), ok, flush=True)
c.close()
"#;
    let mut py = Command::new("python3")
        .args(["-c", py_server])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(py.stdout.take().unwrap()).lines();
    let port = lines.next().unwrap().unwrap();
    let out = client(&["127.0.0.1", &port]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "true\n");
    assert_eq!(lines.next().unwrap().unwrap(), "00003039 True");
    py.wait().unwrap();
}
