//! hello-server against real peers (curl, Python's http.client) and raw sockets: exact bytes,
//! pipelining, abusive clients, limits, signals, SO_REUSEPORT, IPv6.

#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use testsupport::{Lines, READY_TIMEOUT, require_ipv6, require_peer, wait_until};

const BIN: &str = env!("CARGO_BIN_EXE_hello-server");

/// A running hello-server on a port the system picked, with its stderr collected.
struct Server {
    child: Child,
    port: u16,
    pid: u32,
    stderr: Lines,
}

impl Server {
    fn start(args: &[&str]) -> Server {
        Self::try_start(args).unwrap_or_else(|lines| panic!("server did not start: {lines:?}"))
    }

    /// Start and wait for its "listening on" line; `Err(stderr lines)` when it exits instead.
    fn try_start(args: &[&str]) -> Result<Server, Vec<String>> {
        let mut cmd = Command::new(BIN);
        if !args.contains(&"--port") {
            cmd.args(["--port", "0"]);
        }
        let mut child = cmd
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn hello-server");
        let mut stderr = Lines::new(child.stderr.take().unwrap());
        match stderr.wait_for(READY_TIMEOUT, |l| l.starts_with("listening on ")) {
            Ok(line) => {
                let port = line
                    .split("http://")
                    .nth(1)
                    .and_then(|r| r.split('/').next())
                    .and_then(|hp| hp.rsplit(':').next())
                    .and_then(|p| p.parse().ok())
                    .unwrap_or_else(|| panic!("no port in {line:?}"));
                let pid = child.id();
                Ok(Server {
                    child,
                    port,
                    pid,
                    stderr,
                })
            }
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                // The pipe is closed now: every line the server wrote is in.
                Err(stderr.finish())
            }
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        s
    }

    fn log(&self) -> Vec<String> {
        self.stderr.all()
    }

    /// Wait (bounded) until a stderr line satisfies `f`.
    fn wait_log(&self, f: impl Fn(&str) -> bool) -> String {
        self.stderr.expect("the test waits for", f)
    }

    /// Wait (bounded) for the server to exit by itself.
    fn wait_exit(&mut self) -> std::process::ExitStatus {
        let mut status = None;
        wait_until(READY_TIMEOUT, "the server to exit", || {
            status = self.child.try_wait().unwrap();
            status.is_some()
        });
        status.unwrap()
    }

    fn signal(&self, sig: &str) {
        let st = Command::new("kill")
            .args([sig, &self.pid.to_string()])
            .status()
            .unwrap();
        assert!(st.success());
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn curl(args: &[&str]) -> Output {
    Command::new("curl")
        .args(["-s", "--max-time", "20"])
        .args(args)
        .output()
        .expect("run curl")
}

/// Read from `s` until EOF (or the 30 s read timeout).
fn read_to_end(s: &mut TcpStream) -> Vec<u8> {
    let mut v = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return v,
            Ok(n) => v.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return v,
            // A socket with a read timeout returns EINTR when the process is stopped and
            // continued (signal(7)): not the server's doing, read again.
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => panic!("read: {e} after {:?}", String::from_utf8_lossy(&v)),
        }
    }
}

/// Read until `want` bytes arrived.
fn read_exact_n(s: &mut TcpStream, want: usize) -> Vec<u8> {
    let mut v = vec![0u8; want];
    s.read_exact(&mut v).expect("read response bytes");
    v
}

/// Replace every `Date: ...` value by a fixed one, for exact comparisons.
fn undate(s: &str) -> String {
    s.split("\r\n")
        .map(|l| {
            if l.starts_with("Date: ") && l.ends_with(" GMT") {
                "Date: X"
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\r\n")
}

const OK_HEAD: &str = "HTTP/1.1 200 OK\r\nServer: hello-server\r\nDate: X\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 13\r\n";

#[test]
fn curl_get_head_404_405_http10() {
    if !require_peer("curl_get_head_404_405_http10", "curl") {
        return;
    }
    let s = Server::start(&[]);
    let out = curl(&["-i", &s.url("/")]);
    assert!(out.status.success());
    assert_eq!(
        undate(&String::from_utf8_lossy(&out.stdout)),
        format!("{OK_HEAD}\r\nHello, World!")
    );

    let out = curl(&["-I", &s.url("/")]);
    assert_eq!(
        undate(&String::from_utf8_lossy(&out.stdout)),
        format!("{OK_HEAD}\r\n")
    );

    let out = curl(&["-o", "/dev/null", "-w", "%{http_code}", &s.url("/missing")]);
    assert_eq!(out.stdout, b"404");

    let out = curl(&["-i", "-X", "DELETE", &s.url("/")]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("HTTP/1.1 405 Method Not Allowed\r\n"),
        "{text}"
    );
    assert!(text.contains("\r\nAllow: GET, HEAD\r\n"), "{text}");

    let out = curl(&["-i", "--http1.0", &s.url("/?q=1")]);
    let text = undate(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(
        text,
        format!("{OK_HEAD}Connection: close\r\n\r\nHello, World!")
    );

    let out = curl(&["--data-binary", "x=1", &s.url("/")]);
    assert_eq!(out.stdout, b"Method Not Allowed: use GET or HEAD\n");

    // The access log names both endpoints, the pid, the request and the outcome.
    let line = s.wait_log(|l| l.contains("\"DELETE / HTTP/1.1\""));
    let (who, rest) = line.split_once(" \"").unwrap();
    let parts: Vec<&str> = who.split(' ').collect();
    assert_eq!(parts.len(), 5, "{line}");
    assert!(parts[0].starts_with("127.0.0.1:"), "{line}");
    assert_eq!(parts[1], "->");
    assert_eq!(parts[2], format!("127.0.0.1:{}", s.port));
    assert_eq!((parts[3], parts[4]), ("pid", s.pid.to_string().as_str()));
    assert!(rest.starts_with("DELETE / HTTP/1.1\" 405 36 "), "{line}");
    assert!(rest.ends_with("ms"), "{line}");
    s.wait_log(|l| l.contains("\"GET /?q=1 HTTP/1.0\" 200 13 "));
    s.wait_log(|l| l.contains("\"HEAD / HTTP/1.1\" 200 0 "));
}

#[test]
fn python_http_client_keep_alive() {
    if !require_peer("python_http_client_keep_alive", "python3") {
        return;
    }
    let s = Server::start(&["--message", "Hi, lab!"]);
    let script = r#"
import http.client, sys
c = http.client.HTTPConnection('127.0.0.1', int(sys.argv[1]))
for method, path, body in [('GET', '/', None), ('HEAD', '/', None), ('POST', '/', 'x' * 3000),
                           ('GET', '/nope', None), ('GET', '/', None)]:
    c.request(method, path, body=body)
    r = c.getresponse()
    data = r.read()
    print(r.status, r.reason, r.getheader('Content-Type'), r.getheader('Allow'), data)
    print(c.sock.getsockname()[1])
"#;
    let out = Command::new("python3")
        .args(["-c", script, &s.port.to_string()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "200 OK text/plain; charset=utf-8 None b'Hi, lab!'"
    );
    assert_eq!(lines[2], "200 OK text/plain; charset=utf-8 None b''");
    assert_eq!(
        lines[4],
        "405 Method Not Allowed text/plain; charset=utf-8 GET, HEAD b'Method Not Allowed: use GET or HEAD\\n'"
    );
    assert!(lines[6].starts_with("404 Not Found "), "{text}");
    assert_eq!(lines[8], lines[0]);
    // One connection carried all five requests (keep-alive).
    let ports: Vec<&str> = lines.iter().skip(1).step_by(2).copied().collect();
    assert!(ports.iter().all(|p| *p == ports[0]), "{ports:?}");
}

#[test]
fn pipelined_requests_get_exact_responses_in_order() {
    let s = Server::start(&[]);
    let mut c = s.connect();
    c.write_all(
        b"GET / HTTP/1.1\r\nHost: a\r\n\r\nHEAD / HTTP/1.1\r\nHost: a\r\n\r\nGET /x HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    let got = read_to_end(&mut c);
    let expected = format!(
        "{OK_HEAD}\r\nHello, World!{OK_HEAD}\r\nHTTP/1.1 404 Not Found\r\nServer: hello-server\r\nDate: X\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 40\r\n\r\nNot Found: only / exists on this server\n{OK_HEAD}Connection: close\r\n\r\nHello, World!"
    );
    assert_eq!(undate(&String::from_utf8_lossy(&got)), expected);
}

#[test]
fn request_bodies_are_skipped_or_refused() {
    let s = Server::start(&["--max-body", "1000"]);
    let mut c = s.connect();
    c.write_all(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello")
        .unwrap();
    c.write_all(
        b"PUT /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n",
    )
    .unwrap();
    c.write_all(b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 2000\r\n\r\n")
        .unwrap();
    let got = String::from_utf8(read_to_end(&mut c)).unwrap();
    let statuses: Vec<&str> = got
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| l.starts_with("HTTP/1.1 "))
        .collect();
    assert_eq!(
        statuses,
        [
            "HTTP/1.1 405 Method Not Allowed",
            "HTTP/1.1 404 Not Found",
            "HTTP/1.1 413 Content Too Large"
        ]
    );
}

#[test]
fn abusive_clients_do_not_stop_the_server() {
    let s = Server::start(&["--header-timeout", "1"]);
    // Slowloris: half a head, then nothing. Half-open: connects, never sends. Both stay open.
    let mut slow = s.connect();
    slow.write_all(b"GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n")
        .unwrap();
    let mut silent = s.connect();
    // Half-closed: sends FIN without a request.
    let mut half = s.connect();
    half.shutdown(Shutdown::Write).unwrap();

    // Malformed request: 400 and closed.
    let mut bad = s.connect();
    bad.write_all(b"GARBAGE\x01 / HTTP/1.1\r\n\r\n").unwrap();
    let got = String::from_utf8_lossy(&read_to_end(&mut bad)).into_owned();
    assert!(got.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{got}");
    assert!(got.contains("Connection: close\r\n"));

    // A 100 KiB header: 431, and the server drains the rest so the client reads the answer.
    let mut big = s.connect();
    let head = format!(
        "GET / HTTP/1.1\r\nHost: a\r\nX-Big: {}\r\n\r\n",
        "b".repeat(100 * 1024)
    );
    big.write_all(head.as_bytes()).unwrap();
    big.shutdown(Shutdown::Write).unwrap();
    let got = String::from_utf8_lossy(&read_to_end(&mut big)).into_owned();
    assert!(
        got.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"),
        "{got}"
    );

    // Meanwhile a normal client is served.
    let mut ok = s.connect();
    ok.write_all(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        .unwrap();
    let got = String::from_utf8_lossy(&read_to_end(&mut ok)).into_owned();
    assert!(got.starts_with("HTTP/1.1 200 OK\r\n") && got.ends_with("Hello, World!"));

    // The slow and the silent client get 408 once their time is up, then the close.
    for c in [&mut slow, &mut silent] {
        let got = String::from_utf8_lossy(&read_to_end(c)).into_owned();
        assert!(got.starts_with("HTTP/1.1 408 Request Timeout\r\n"), "{got}");
    }
    assert_eq!(read_to_end(&mut half), b"");

    // And the server still answers.
    let mut ok = s.connect();
    ok.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    assert!(read_to_end(&mut ok).ends_with(b"Hello, World!"));
    s.wait_log(|l| l.contains(" 408 "));
    s.wait_log(|l| l.contains("\"- -\" 431 "));
}

#[test]
fn a_client_that_does_not_read_cannot_block_others() {
    let s = Server::start(&["--workers", "1"]);
    // Pipeline many requests and never read the answers: the server stops reading this
    // connection when its output backs up, and keeps serving others on the same worker.
    let mut hog = s.connect();
    let req = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n".repeat(2000);
    hog.set_write_timeout(Some(Duration::from_secs(2))).unwrap();
    for _ in 0..50 {
        if hog.write_all(&req).is_err() {
            break; // our send buffer filled up: the server stopped reading us, as intended
        }
    }
    let mut ok = s.connect();
    ok.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    assert!(read_to_end(&mut ok).ends_with(b"Hello, World!"));
}

/// Length of one 200 answer to GET / with the default message (a real Date header).
const OK_LEN: usize = OK_HEAD.len() + 29 - 1 + 2 + 13;

#[test]
fn connection_cap_accepts_and_closes() {
    let s = Server::start(&["--max-connections", "2", "--workers", "1"]);
    // Two keep-alive connections, each answered once: the server has accepted both and
    // counts them open (an answer, not a pause, says so).
    let mut a = s.connect();
    let mut b = s.connect();
    for c in [&mut a, &mut b] {
        c.write_all(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").unwrap();
        assert!(read_exact_n(c, OK_LEN).ends_with(b"Hello, World!"));
    }
    let mut c = s.connect();
    let _ = c.write_all(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(
        read_to_end(&mut c),
        b"",
        "over the cap: closed without answer"
    );
    s.wait_log(|l| l.contains("limit of 2 open connections reached"));
    drop(a);
    // Below the cap again: served, once the server has seen the close of `a` (until then a
    // new connection is still over the cap and closed unanswered).
    wait_until(READY_TIMEOUT, "an answer after a slot freed", || {
        let mut ok = s.connect();
        ok.write_all(b"GET / HTTP/1.0\r\n\r\n").is_ok()
            && read_to_end(&mut ok).ends_with(b"Hello, World!")
    });
    drop(b);
}

#[test]
fn sigterm_and_sigint_stop_gracefully() {
    for sig in ["-TERM", "-INT"] {
        let mut s = Server::start(&[]);
        let mut idle = s.connect();
        idle.write_all(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            .unwrap();
        let _ = read_exact_n(&mut idle, 10);
        s.signal(sig);
        let status = s.wait_exit();
        assert!(status.success(), "{status:?}");
        let name = if sig == "-TERM" { "SIGTERM" } else { "SIGINT" };
        s.wait_log(|l| l.contains(name) && l.contains("stopped accepting"));
        s.wait_log(|l| l.contains("stopped after answering 1 request"));
        // The idle keep-alive connection was closed, not left hanging.
        let rest = read_to_end(&mut idle);
        assert!(rest.ends_with(b"Hello, World!") || rest.is_empty());
    }
}

#[test]
fn reuse_port_shares_a_port_and_exclusive_bind_refuses() {
    let a = Server::start(&["--reuse-port", "-q"]);
    let port = a.port.to_string();
    // Without --reuse-port the port is taken: clear error, exit 3.
    let out = Command::new(BIN).args(["--port", &port]).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("already in use") && err.contains("--reuse-port"),
        "{err}"
    );

    let b = Server::start(&["--reuse-port", "--port", &port]);
    let line = b.log()[0].clone();
    assert!(
        line.contains("shared with other --reuse-port instances"),
        "{line}"
    );
    // Connections from many source ports spread over both processes; b logs its own.
    for _ in 0..40 {
        let mut c = a.connect();
        c.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
        assert!(read_to_end(&mut c).ends_with(b"Hello, World!"));
    }
    let served_by_b = b
        .log()
        .iter()
        .filter(|l| l.contains(&format!(" pid {} \"GET / HTTP/1.0\" 200", b.pid)))
        .count();
    assert!(served_by_b > 0, "b answered none of 40: {:?}", b.log());
    assert!(served_by_b < 40, "a answered none of 40");
}

#[test]
fn start_line_explains_the_bind_and_ipv6_works() {
    let s = Server::start(&["--workers", "1"]);
    let line = s.log()[0].clone();
    assert_eq!(
        line,
        format!(
            "listening on http://127.0.0.1:{}/ (pid {}, 1 worker); loopback only: other hosts cannot connect, use --bind 0.0.0.0",
            s.port, s.pid
        )
    );
    let any = Server::start(&["--bind", "0.0.0.0"]);
    assert!(
        any.log()[0].contains("all IPv4 addresses: other hosts connect"),
        "{:?}",
        any.log()
    );

    // `--bind ::` listens on IPv6 and IPv4 alike. Whether the host has IPv6 is decided apart
    // from the server: where it has, the server must start and answer on both families.
    if !require_ipv6("start_line_explains_the_bind_and_ipv6_works") {
        return;
    }
    let v6 = Server::try_start(&["--bind", "::"]).unwrap_or_else(|stderr| {
        panic!("--bind :: did not start on a host with IPv6; its stderr: {stderr:#?}")
    });
    assert!(
        v6.log()[0].starts_with(&format!("listening on http://[::]:{}/", v6.port)),
        "{:?}",
        v6.log()
    );
    assert!(v6.log()[0].contains("IPv6 and IPv4"), "{:?}", v6.log());
    for host in ["::1", "127.0.0.1"] {
        let mut c = TcpStream::connect((host, v6.port))
            .unwrap_or_else(|e| panic!("connect to {host} port {} (--bind ::): {e}", v6.port));
        c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        c.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
        let got = read_to_end(&mut c);
        assert!(
            got.ends_with(b"Hello, World!"),
            "{host}: {:?}",
            String::from_utf8_lossy(&got)
        );
    }
}

#[test]
fn usage_errors_exit_2_and_quiet_has_no_access_log() {
    let out = Command::new(BIN).args(["--workers", "0"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(BIN)
        .args(["--bind", "nowhere"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("Examples:"));

    let mut s = Server::start(&["-q"]);
    let mut c = s.connect();
    c.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    assert!(read_to_end(&mut c).ends_with(b"Hello, World!"));
    // Stop the server and read its whole stderr: a complete log, not a guess that the access
    // line would have arrived by now.
    s.signal("-TERM");
    assert!(s.wait_exit().success());
    let log = s.stderr.finish();
    assert_eq!(log.len(), 1, "only the start line: {log:?}");
    assert!(log[0].starts_with("listening on "), "{log:?}");
}

#[test]
fn five_hundred_clients_at_once() {
    let s = Server::start(&["-q"]);
    let mut conns: Vec<TcpStream> = (0..500).map(|_| s.connect()).collect();
    for c in &mut conns {
        c.write_all(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").unwrap();
    }
    for c in &mut conns {
        let head = read_exact_n(c, OK_HEAD.len() + 29 - 1 + 2 + 13);
        assert!(head.starts_with(b"HTTP/1.1 200 OK\r\n"));
        assert!(head.ends_with(b"\r\n\r\nHello, World!"));
    }
}

#[test]
fn stop_finishes_queued_responses_whole() {
    let mut s = Server::start(&["--workers", "1", "-q"]);
    let mut c = s.connect();
    // Answers pile up unread, in the kernel and in the server's queue.
    c.write_all(&b"GET / HTTP/1.1\r\nHost: a\r\n\r\n".repeat(3000))
        .unwrap();
    // The first answer shows the server is working through them; the rest stay queued.
    let mut got = read_exact_n(&mut c, OK_LEN);
    s.signal("-TERM");
    got.extend(read_to_end(&mut c));
    let one = OK_LEN;
    assert_eq!(
        got.len() % one,
        0,
        "a response was cut: {} bytes",
        got.len()
    );
    assert!(got.ends_with(b"\r\n\r\nHello, World!"));
    let status = s.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
}
