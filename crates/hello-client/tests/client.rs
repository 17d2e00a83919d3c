//! hello-client against real servers (Python's http.server, hello-server) and against
//! misbehaving ones made here, checking output, exit codes and the plain-words errors.

// Helpers outside #[test] fns too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Output, Stdio};
use std::thread;
use std::time::Duration;

use testsupport::{require_peer, tcp_accepts, tool, wait_ready};

const BIN: &str = env!("CARGO_BIN_EXE_hello-client");

fn client(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("run hello-client")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A port nobody listens on right now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Kill(Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A child stopped with a signal (via kill(1)) and waited for.
struct StopWith(Child, &'static str);
impl Drop for StopWith {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args([self.1, &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

/// Start a peer server with its output silenced and wait until it accepts on `port`
/// (failing at once, with the reason, if it exits instead).
fn serve(cmd: &mut Command, port: u16) -> Child {
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_ready(
        &mut child,
        &format!("{:?} to accept on port {port}", cmd.get_program()),
        || tcp_accepts(("127.0.0.1", port)),
    );
    child
}

#[test]
fn against_python_http_server() {
    if !require_peer("against_python_http_server", "python3") {
        return;
    }
    let dir = std::env::temp_dir().join(format!("hello-client-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("hello.txt"), "Hi from http.server\n").unwrap();
    // Port 0: the kernel picks a free port and http.server says which ("Serving HTTP on
    // 127.0.0.1 port N …"), so no other test can take it between a probe and the bind.
    let mut child = Command::new("python3")
        .args(["-u", "-m", "http.server", "--bind", "127.0.0.1", "0"])
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let _server = Kill(child);
    let port: u16 = first
        .split(" port ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("http.server did not say its port: {first:?}"));

    let out = client(&[&format!("http://127.0.0.1:{port}/hello.txt")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "200 OK\nHi from http.server\n");

    let out = client(&[&format!("127.0.0.1:{port}/missing")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).starts_with("404 File not found\n"),
        "{}",
        text(&out.stdout)
    );

    // http.server speaks HTTP/1.0 and closes after each answer: --repeat reconnects.
    let out = client(&[
        "-v",
        "--repeat",
        "2",
        &format!("127.0.0.1:{port}/hello.txt"),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "200 OK\nHi from http.server\n".repeat(2));
    assert!(text(&out.stderr).contains("the server closed the connection; opening a new one"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// hello-server on a free port, for the keep-alive and --hold tests.
fn hello_server() -> (Kill, u16) {
    let mut child = Command::new(tool("hello-server"))
        .args(["--port", "0", "-q"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line
        .split("127.0.0.1:")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {line:?}"));
    (Kill(child), port)
}

#[test]
fn keep_alive_repeat_and_verbose_steps() {
    let (_server, port) = hello_server();
    let out = client(&["-v", "--repeat", "3", &format!("127.0.0.1:{port}")]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout), "200 OK\nHello, World!\n".repeat(3));
    let err = text(&out.stderr);
    assert!(err.contains(&format!("* pid {}", out_pid(&err))), "{err}");
    assert!(
        err.contains(&format!("* resolved 127.0.0.1 -> 127.0.0.1:{port} in ")),
        "{err}"
    );
    // One connection for three requests, the same local endpoint each time.
    assert_eq!(err.matches("* connected 127.0.0.1:").count(), 1, "{err}");
    let local = err
        .split("* connected ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .unwrap();
    for i in 1..=3 {
        assert!(
            err.contains(&format!(
                "* request {i} on {local} -> 127.0.0.1:{port}: first byte after "
            )),
            "{err}"
        );
    }
}

fn out_pid(err: &str) -> String {
    err.split("* pid ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or("?")
        .to_owned()
}

#[test]
fn hold_shows_the_connection_to_ss() {
    if !require_peer("hold_shows_the_connection_to_ss", "ss") {
        return;
    }
    let (_server, port) = hello_server();
    let mut c = Kill(
        Command::new(BIN)
            .args(["--hold", "30", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    BufReader::new(c.0.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let pid = c.0.id();
    assert!(
        line.starts_with(&format!(
            "holding the connection for 30 s: pid {pid}, local 127.0.0.1:"
        )),
        "{line}"
    );
    let local = line
        .split("local ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .unwrap()
        .to_owned();
    assert!(
        line.contains(&format!("-> remote 127.0.0.1:{port};")),
        "{line}"
    );
    let ss = Command::new("ss").args(["-tnp"]).output().unwrap();
    let ss = text(&ss.stdout);
    let row = ss
        .lines()
        .find(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.len() > 4 && f[3] == local && f[4] == format!("127.0.0.1:{port}")
        })
        .unwrap_or_else(|| panic!("{local} not in ss -tnp:\n{ss}"));
    assert!(row.starts_with("ESTAB"), "{row}");
    assert!(row.contains(&format!("pid={pid},")), "{row}");
    let mut status = String::new();
    BufReader::new(c.0.stdout.take().unwrap())
        .read_line(&mut status)
        .unwrap();
    assert_eq!(status, "200 OK\n");
}

/// A one-connection server doing `behave` with the accepted socket.
fn fake_server(behave: impl FnOnce(TcpStream) + Send + 'static) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    thread::spawn(move || {
        if let Ok((s, _)) = l.accept() {
            behave(s);
        }
    });
    port
}

fn read_request(s: &mut TcpStream) {
    let mut buf = [0u8; 4096];
    let mut got = Vec::new();
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
}

#[test]
fn network_errors_in_plain_words_exit_3() {
    let port = free_port();
    let out = client(&[&format!("127.0.0.1:{port}")]);
    assert_eq!(out.status.code(), Some(3));
    let err = text(&out.stderr);
    assert!(
        err.starts_with(&format!(
            "error: connection refused by 127.0.0.1:{port}: nothing listens on that address and port"
        )),
        "{err}"
    );

    let port = fake_server(|mut s| {
        read_request(&mut s);
        let _ = s.write_all(b"SSH-2.0-OpenSSH_9.2p1\r\n");
    });
    let out = client(&[&format!("127.0.0.1:{port}")]);
    assert_eq!(out.status.code(), Some(3));
    let err = text(&out.stderr);
    assert!(err.contains("malformed response from 127.0.0.1:"), "{err}");
    assert!(err.contains("SSH-2.0-OpenSSH_9.2p1"), "{err}");

    let port = fake_server(|mut s| {
        read_request(&mut s);
        // SO_LINGER 0: close with a reset.
        let s = socket2::Socket::from(s);
        s.set_linger(Some(Duration::ZERO)).unwrap();
    });
    let out = client(&[&format!("127.0.0.1:{port}")]);
    assert_eq!(out.status.code(), Some(3));
    let err = text(&out.stderr);
    assert!(
        err.starts_with("error: connection reset by 127.0.0.1:"),
        "{err}"
    );

    let port = fake_server(|mut s| {
        read_request(&mut s);
        // Part of the scenario: the server holds the connection without answering, well past
        // the client's 0.5 s timeout.
        thread::sleep(Duration::from_secs(5));
    });
    let out = client(&["--timeout", "0.5", &format!("127.0.0.1:{port}")]);
    assert_eq!(out.status.code(), Some(3));
    let err = text(&out.stderr);
    assert!(
        err.contains("accepted the connection but sent no answer within 500.000 ms"),
        "{err}"
    );

    let port = fake_server(|mut s| {
        read_request(&mut s);
    });
    let out = client(&[&format!("127.0.0.1:{port}")]);
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).contains("closed the connection without answering"));

    let port = fake_server(|mut s| {
        read_request(&mut s);
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort");
    });
    let out = client(&[&format!("127.0.0.1:{port}")]);
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).contains("in the middle of the response"));
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &[""][..],
        &["http://:5000/"],
        &["https://127.0.0.1/"],
        &["--repeat", "0"],
        &["--timeout", "-1"],
        &["--bogus"],
    ] {
        let out = client(args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    let out = client(&[""]);
    let err = text(&out.stderr);
    assert!(
        err.starts_with("error: empty host: the URL names no server"),
        "{err}"
    );
    let out = client(&["--help"]);
    let help = text(&out.stdout);
    assert!(help.contains("Exit status:\n  0  the server answered 2xx"));
    assert!(help.contains("3  network error"));
}

#[test]
fn against_nginx_and_flask() {
    let dir = std::env::temp_dir().join(format!("hello-client-peers-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("logs")).unwrap();
    if require_peer("against_nginx_and_flask", "nginx") {
        let port = free_port();
        let d = dir.display();
        std::fs::write(
            dir.join("nginx.conf"),
            format!(
                "worker_processes 1; daemon off; pid {d}/nginx.pid; error_log {d}/logs/error.log;\n\
                 events {{}}\n\
                 http {{ access_log off; client_body_temp_path {d}/body; proxy_temp_path {d}/proxy;\n\
                 fastcgi_temp_path {d}/fcgi; uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;\n\
                 server {{ listen 127.0.0.1:{port};\n\
                 location = / {{ default_type text/plain; return 200 \"Hello, World!\"; }} }} }}\n"
            ),
        )
        .unwrap();
        let mut nginx = Command::new("nginx");
        nginx
            .arg("-p")
            .arg(&dir)
            .arg("-c")
            .arg(dir.join("nginx.conf"))
            .arg("-e")
            .arg(dir.join("logs/error.log"));
        // SIGQUIT, not SIGKILL: the master then takes its worker down with it.
        let _nginx = StopWith(serve(&mut nginx, port), "-QUIT");
        let out = client(&["--repeat", "2", &format!("127.0.0.1:{port}")]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert_eq!(text(&out.stdout), "200 OK\nHello, World!\n".repeat(2));
        let out = client(&[&format!("127.0.0.1:{port}/nope")]);
        assert_eq!(out.status.code(), Some(1));
        assert!(text(&out.stdout).starts_with("404 Not Found\n<html>"));
    }
    if require_peer("against_nginx_and_flask", "flask") {
        std::fs::write(
            dir.join("app.py"),
            "from flask import Flask\napp = Flask(__name__)\n\n@app.route('/')\ndef hello():\n    return 'Hello, World!'\n",
        )
        .unwrap();
        let port = free_port();
        let _flask = Kill(serve(
            Command::new("python3")
                .args([
                    "-m",
                    "flask",
                    "--app",
                    "app",
                    "run",
                    "--port",
                    &port.to_string(),
                ])
                .current_dir(&dir),
            port,
        ));
        let out = client(&["--repeat", "2", &format!("http://127.0.0.1:{port}/")]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert_eq!(text(&out.stdout), "200 OK\nHello, World!\n".repeat(2));
    }
    let _ = std::fs::remove_dir_all(&dir);
}
