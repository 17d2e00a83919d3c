//! udp-sdu over real sockets: send ↔ serve with every corruption, raw datagrams against
//! serve, probe against echo on loopback (IPv4 65507, IPv6 65527) and, as root, across the
//! two-hosts lab with don't-fragment (1472 / 1452 on its 1500-byte veth link).

// Helpers outside #[test] fns too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::net::UdpSocket;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use testsupport::LoggedServer;

const BIN: &str = env!("CARGO_BIN_EXE_udp-sdu");

/// A server process (`echo` or `serve`) on an ephemeral port; its log lines are collected.
/// A server process (`echo` or `serve`) on an ephemeral port; its log lines are collected.
struct Server;

impl Server {
    fn start(cmd: &str, bind: &str) -> LoggedServer {
        let mut c = Command::new(BIN);
        c.args([cmd, "--bind", bind, "0"]);
        LoggedServer::spawn(c)
    }
}

fn udp_sdu(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn send_serve(bind: &str, host: &str) {
    let server = Server::start("serve", bind);
    let port = server.addr.port().to_string();
    let out = udp_sdu(&["send", host, &port, "1234"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "accepted\n");
    server.wait_log("19 bytes: accepted (root 1234, 1522756)");
    for root in ["0", "65535"] {
        let out = udp_sdu(&["send", host, &port, root]);
        assert_eq!(text(&out.stdout), "accepted\n", "root {root}");
    }
    for (kind, check) in [
        ("flags", "flags check: bad bit flags: 0x52 (01010010b)"),
        ("square", "square check: 16-bit field 1235"),
        ("ascii", "ascii check: string \"1522757\""),
        (
            "checksum",
            "checksum check: bad checksum 0xccfa, expected 0xccfb",
        ),
        ("zero", "zero check"),
        ("type", "type check"),
        ("len", "len check"),
        ("truncate", "length check"),
    ] {
        let out = udp_sdu(&["send", host, &port, "1234", "--corrupt", kind]);
        assert_eq!(out.status.code(), Some(1), "{kind}: {}", text(&out.stderr));
        assert_eq!(text(&out.stdout), "rejected\n", "{kind}");
        server.wait_log(check);
    }
}

#[test]
fn send_and_serve_ipv4() {
    send_serve("127.0.0.1", "127.0.0.1");
}

#[test]
fn send_and_serve_ipv6() {
    send_serve("::1", "::1");
}

#[test]
fn serve_answers_raw_datagrams_and_survives_garbage() {
    let server = Server::start("serve", "127.0.0.1");
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    sock.connect(server.addr).unwrap();
    let ask = |msg: &[u8]| {
        sock.send(msg).unwrap();
        let mut b = [0u8; 8];
        let n = sock.recv(&mut b).unwrap();
        b[..n].to_vec()
    };
    // The worked example of docs/protocols.md, exact bytes.
    let good = [
        0x53, 0x04, 0xd2, 0x00, 0x00, 0x17, 0x3c, 0x44, 0x01, 0x07, 0x31, 0x35, 0x32, 0x32, 0x37,
        0x35, 0x36, 0xcc, 0xfb,
    ];
    assert_eq!(ask(&good), [0xff]);
    assert_eq!(ask(&[]), [0x55]);
    assert_eq!(ask(b"hello"), [0x55]);
    assert_eq!(ask(&[0xff; 1000]), [0x55]);
    assert_eq!(ask(&vec![0x53; 65507]), [0x55]);
    let mut extra = good.to_vec();
    extra.push(0);
    assert_eq!(ask(&extra), [0x55]);
    server.wait_log("20 bytes: rejected, length check");
    server.wait_log("65507 bytes: rejected");
    assert_eq!(ask(&good), [0xff], "still serving after garbage");
}

#[test]
fn serve_json_prints_one_record_per_datagram_and_ends_on_closed_stdout() {
    let mut child = Command::new(BIN)
        .args(["serve", "--bind", "127.0.0.1", "0", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Logs stay on stderr (the port comes from the first line), records on stdout.
    let mut log = BufReader::new(child.stderr.take().unwrap()).lines();
    let first = log.next().unwrap().unwrap();
    let port = first.rsplit(':').next().unwrap().to_string();
    std::thread::spawn(move || log.for_each(drop));
    assert_eq!(
        text(&udp_sdu(&["send", "127.0.0.1", &port, "1234"]).stdout),
        "accepted\n"
    );
    udp_sdu(&["send", "127.0.0.1", &port, "9", "--corrupt", "len"]);
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let a: serde_json::Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(a["type"], "datagram");
    assert_eq!(a["verdict"], "accepted");
    assert_eq!(a["size"], 19);
    assert_eq!(a["root"], 1234);
    assert_eq!(a["check"], serde_json::Value::Null);
    let r: serde_json::Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(r["verdict"], "rejected");
    assert_eq!(r["check"], "len");
    assert_eq!(r["error"], "Len is 3, but 81 has 2 decimal digits");
    // Reader gone: the next datagram's record hits a broken pipe and serve exits 0.
    drop(lines);
    udp_sdu(&[
        "send",
        "127.0.0.1",
        &port,
        "3",
        "--timeout",
        "200",
        "--retries",
        "0",
    ]);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
}

#[test]
fn verbose_send_shows_hex_with_field_names() {
    let server = Server::start("serve", "127.0.0.1");
    let port = server.addr.port().to_string();
    let out = udp_sdu(&["-v", "send", "127.0.0.1", &port, "1234"]);
    let err = text(&out.stderr);
    for want in [
        "53                       flags: 0x53 (01010011b)",
        "04 d2                    16-bit field (root): 1234",
        "00 17 3c 44              32-bit field: 1522756",
        "31 35 32 32 37 35 36     string: \"1522756\"",
        "cc fb                    checksum: 0xccfb",
    ] {
        assert!(err.contains(want), "{want:?} not in\n{err}");
    }
}

#[test]
fn send_without_server_fails_with_exit_3() {
    // A bound but silent socket: no ICMP error, so the tries time out.
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port().to_string();
    let out = udp_sdu(&[
        "send",
        "127.0.0.1",
        &port,
        "7",
        "--timeout",
        "100",
        "--retries",
        "2",
    ]);
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).contains("no answer from 127.0.0.1"));
    let mut b = [0u8; 64];
    assert_eq!(
        silent.recv(&mut b).unwrap(),
        14,
        "the tries reached the socket"
    );
    // Nothing bound at all: ICMP port unreachable says so at once.
    drop(silent);
    let out = udp_sdu(&["send", "127.0.0.1", &port, "7"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).contains("nothing listens on UDP 127.0.0.1"));
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(
        udp_sdu(&["send", "127.0.0.1", "1", "65536"]).status.code(),
        Some(2)
    );
    assert_eq!(
        udp_sdu(&["send", "127.0.0.1", "1", "5", "--corrupt", "nope"])
            .status
            .code(),
        Some(2)
    );
    // An unknown host is a name-service failure (3), not a usage error.
    let out = udp_sdu(&["send", "no.such.host.invalid", "1", "5"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).starts_with("error: unknown host 'no.such.host.invalid'"));
}

#[test]
fn help_has_examples() {
    let out = udp_sdu(&["--help"]);
    assert!(text(&out.stdout).contains("udp-sdu probe 192.168.56.101 9000 --dont-fragment"));
    for sub in ["echo", "probe", "serve", "send"] {
        let out = udp_sdu(&[sub, "--help"]);
        assert!(text(&out.stdout).contains("Example"), "{sub}");
    }
}

fn probe_json(args: &[&str]) -> serde_json::Value {
    let out = udp_sdu(args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn probe_loopback_ipv4_finds_65507() {
    let echo = Server::start("echo", "127.0.0.1");
    let port = echo.addr.port().to_string();
    let j = probe_json(&["probe", "127.0.0.1", &port, "--json"]);
    assert_eq!(j["type"], "probe");
    assert_eq!(j["send_limit"], 65507);
    assert_eq!(j["arrival_limit"], 65507);
    assert_eq!(
        j["explanation"],
        "65507 = 65535 (largest IPv4 total length) − 20 (IPv4 header) − 8 (UDP header)"
    );
    let out = udp_sdu(&["probe", "127.0.0.1", &port]);
    assert!(text(&out.stdout).contains("largest datagram the OS accepts to send: 65507 bytes"));
}

#[test]
fn probe_loopback_ipv6_finds_65527() {
    let echo = Server::start("echo", "::1");
    let port = echo.addr.port().to_string();
    let j = probe_json(&["probe", "::1", &port, "--json"]);
    assert_eq!(j["family"], "ipv6");
    assert_eq!(j["send_limit"], 65527);
    assert_eq!(j["arrival_limit"], 65527);
}

#[test]
fn probe_without_echo_fails_with_exit_3() {
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port().to_string();
    let out = udp_sdu(&[
        "probe",
        "127.0.0.1",
        &port,
        "--timeout",
        "50",
        "--retries",
        "1",
    ]);
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).contains("is `udp-sdu echo"));
}

/// `udp-sdu echo 9000` inside a lab host, killed on drop (before the lab goes down, even when
/// an assertion fails).
struct EchoIn(Child);

impl EchoIn {
    fn start(lab: &testsupport::Lab, host: &str) -> EchoIn {
        let mut echo = EchoIn(
            lab.command(host, BIN)
                .args(["echo", "9000"])
                .stderr(Stdio::piped())
                .spawn()
                .unwrap(),
        );
        let mut line = String::new();
        BufReader::new(echo.0.stderr.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(line.contains("listening on UDP"), "{line}");
        echo
    }
}

impl Drop for EchoIn {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn probe_across_the_lab_with_dont_fragment() {
    if !testsupport::require_root("probe_across_the_lab_with_dont_fragment") {
        return;
    }
    let lab = testsupport::Lab::up("two-hosts");
    let _echo = EchoIn::start(&lab, "brooklyn");
    let probe = |host: &str, df: bool| -> serde_json::Value {
        let mut c = lab.command("midwood", BIN);
        c.args(["probe", host, "9000", "--json"]);
        if df {
            c.arg("--dont-fragment");
        }
        let out = c.output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let v4 = probe("192.168.56.101", true);
    assert_eq!(v4["send_limit"], 1472, "{v4}");
    assert_eq!(v4["arrival_limit"], 1472, "{v4}");
    assert_eq!(v4["path_mtu"], 1500, "{v4}");
    assert_eq!(
        v4["explanation"],
        "1472 = 1500 (path MTU) − 20 (IPv4 header) − 8 (UDP header)"
    );
    let v6 = probe("fd00:56::101", true);
    assert_eq!(v6["send_limit"], 1452, "{v6}");
    assert_eq!(v6["arrival_limit"], 1452, "{v6}");
    // Without DF the kernel fragments: the whole 65507 arrives across the veth.
    let frag = probe("192.168.56.101", false);
    assert_eq!(frag["send_limit"], 65507, "{frag}");
    assert_eq!(frag["arrival_limit"], 65507, "{frag}");
}

#[test]
fn probe_discovers_a_smaller_mtu_behind_the_router() {
    if !testsupport::require_root("probe_discovers_a_smaller_mtu_behind_the_router") {
        return;
    }
    let lab = testsupport::Lab::up("router");
    // r1's link towards pc2 carries only 1400 bytes: pc1's own link says 1500, so only
    // ICMP "fragmentation needed" / "packet too big" from r1 can tell the probe.
    let set = Command::new("ip")
        .args(["-n", &lab.netns("r1"), "link", "set", "eth1", "mtu", "1400"])
        .status()
        .unwrap();
    assert!(set.success());
    let _echo = EchoIn::start(&lab, "pc2");
    for (host, limit, icmp) in [
        ("10.0.2.2", 1372, "ICMP \"fragmentation needed\""),
        ("fd00:2::2", 1352, "ICMPv6 \"packet too big\""),
    ] {
        let out = lab
            .command("pc1", BIN)
            .args(["probe", host, "9000", "--dont-fragment", "--json"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(j["send_limit"], limit, "{j}");
        assert_eq!(j["arrival_limit"], limit, "{j}");
        assert_eq!(j["path_mtu"], 1400, "{j}");
        assert_eq!(j["local_mtu"], 1500, "{j}");
        let why = j["explanation"].as_str().unwrap();
        assert!(why.contains(icmp), "{why}");
    }
}

/// The RFC 1071 checksum and the message layout written independently, in Python, as a
/// student of the lab sheet would (struct in network order).
const PY_SDU: &str = r#"
import socket, struct, sys

def csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

def message(root):
    v = root * root
    st = str(v).encode('ascii')
    head = struct.pack('!BHBIBB', 0x53, root, 0, v, 1, len(st)) + st
    return head + struct.pack('!H', csum(head))
"#;

#[test]
fn python_peer_interoperates_with_serve_and_send() {
    if !testsupport::require_peer("python_peer_interoperates_with_serve_and_send", "python3") {
        return;
    }
    // A Python client against `udp-sdu serve`.
    let server = Server::start("serve", "127.0.0.1");
    let client = format!(
        "{PY_SDU}\nfamily, host, port = socket.AF_INET, '127.0.0.1', {}\n\
         s = socket.socket(family, socket.SOCK_DGRAM); s.settimeout(5)\n\
         for root in (1234, 0, 65535):\n    s.sendto(message(root), (host, port)); print(s.recv(16).hex())\n\
         bad = bytearray(message(1234)); bad[0] = 0x52\n\
         s.sendto(bytes(bad), (host, port)); print(s.recv(16).hex())\n\
         print(message(1234).hex())\n",
        server.addr.port()
    );
    let out = Command::new("python3")
        .args(["-c", &client])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "ff\nff\nff\n55\n5304d20000173c44010731353232373536ccfb\n",
        "Python's message for root 1234 is the docs/protocols.md example"
    );
    // `udp-sdu send` against a Python server that checks every field itself.
    let py_server = format!(
        "{PY_SDU}\ns = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)\n\
         s.bind(('::1', 0)); print(s.getsockname()[1], flush=True)\n\
         for _ in range(2):\n    m, peer = s.recvfrom(100)\n\
         \x20   root = struct.unpack('!H', m[1:3])[0]\n\
         \x20   ok = m == message(root)\n\
         \x20   print(m.hex(), ok, flush=True)\n\
         \x20   s.sendto(b'\\xff' if ok else b'\\x55', peer)\n"
    );
    let mut py = Command::new("python3")
        .args(["-c", &py_server])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(py.stdout.take().unwrap()).lines();
    let port = lines.next().unwrap().unwrap();
    let out = udp_sdu(&["send", "::1", &port, "4321"]);
    assert_eq!(text(&out.stdout), "accepted\n", "{}", text(&out.stderr));
    assert!(lines.next().unwrap().unwrap().ends_with(" True"));
    let out = udp_sdu(&["send", "::1", &port, "4321", "--corrupt", "ascii"]);
    assert_eq!(text(&out.stdout), "rejected\n", "{}", text(&out.stderr));
    assert!(lines.next().unwrap().unwrap().ends_with(" False"));
    py.wait().unwrap();
}
