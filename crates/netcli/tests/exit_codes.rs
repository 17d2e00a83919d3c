//! The README's exit codes, binary by binary: every tool × {bad usage, unresolvable host,
//! nothing listening, port taken, unreadable file, corrupt file, negative answer} against
//! loopback peers the test starts itself. A case that does not apply to a tool is in the table
//! as N/A with the reason. Needs the workspace's binaries (`cargo build --workspace`).
//!
//! The unresolvable host is `x.invalid`: RFC 6761 reserves `.invalid`, and netcli's resolver
//! answers it at once without asking DNS, so no query leaves the machine.

// Helpers outside #[test] fns too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use std::ffi::OsString;
use std::io::{Read, Write};
use std::net::{TcpListener, UdpSocket};
use std::process::Command;
use std::time::Duration;

use common::{os, run, scratch};

const TOOLS: [&str; 9] = [
    "hello-server",
    "hello-client",
    "udp-sdu",
    "tlv-client",
    "tlv-server",
    "sender",
    "receiver",
    "sniff",
    "tcpstat",
];

const CASES: [&str; 7] = [
    "bad usage",
    "unresolvable host",
    "nothing listening",
    "port taken",
    "unreadable file",
    "corrupt file",
    "negative answer",
];

/// What a (tool, case) cell expects.
enum Want {
    /// Run these arguments; the exit code must be this.
    Code(u8, Vec<OsString>),
    /// The case does not apply to this tool, and why.
    NotApplicable(&'static str),
}

use Want::{Code, NotApplicable as Na};

/// A port nothing listens on (bound, then released).
fn closed_tcp_port() -> String {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string()
}

fn closed_udp_port() -> String {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string()
}

/// A one-shot TCP server on loopback running `serve` on each connection; returns its port.
fn fake_server(serve: impl Fn(std::net::TcpStream) + Send + 'static) -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port().to_string();
    std::thread::spawn(move || {
        for s in l.incoming().map_while(Result::ok) {
            serve(s);
        }
    });
    port
}

/// Read up to the end of an HTTP request head.
fn read_head(s: &mut std::net::TcpStream) {
    let mut got = Vec::new();
    let mut b = [0u8; 1024];
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        match s.read(&mut b) {
            Ok(0) | Err(_) => return,
            Ok(n) => got.extend_from_slice(&b[..n]),
        }
    }
}

#[test]
fn every_tool_exits_with_the_readme_code() {
    let dir = scratch("exit-codes");
    let data = dir.join("data.bin");
    std::fs::write(&data, b"hello").unwrap();
    let data = data.to_str().unwrap().to_owned();
    let empty = dir.join("empty.pcap");
    std::fs::write(&empty, common::empty_pcap()).unwrap();
    let empty = empty.to_str().unwrap().to_owned();
    let garbage = dir.join("garbage.pcap");
    std::fs::write(&garbage, b"this is not a capture file\n").unwrap();
    let garbage = garbage.to_str().unwrap().to_owned();
    let cut = dir.join("cut.pcap");
    std::fs::write(&cut, &common::empty_pcap()[..10]).unwrap();
    let cut = cut.to_str().unwrap().to_owned();
    let missing = dir.join("missing.pcap").to_str().unwrap().to_owned();
    let no_dir_out = dir.join("no-such-dir/out.bin").to_str().unwrap().to_owned();

    let closed_tcp = closed_tcp_port();
    let closed_udp = closed_udp_port();
    let held_tcp = TcpListener::bind("127.0.0.1:0").unwrap();
    let taken_tcp = held_tcp.local_addr().unwrap().port().to_string();
    let held_udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let taken_udp = held_udp.local_addr().unwrap().port().to_string();

    // Peers that answer negatively: HTTP 404, TLV false, SDU rejected.
    let http404 = fake_server(|mut s| {
        read_head(&mut s);
        let _ = s
            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    });
    let tlv_false = fake_server(|mut s| {
        // The integer 7 as an ASCII TLV; whatever comes back, the answer is false.
        let _ = s.write_all(&[0x41, b'7']);
        let mut four = [0u8; 4];
        let _ = s.read_exact(&mut four);
        let _ = s.write_all(&[0x81, 0x01]);
        let _ = s.shutdown(std::net::Shutdown::Write);
        let _ = s.read(&mut four);
    });
    let mut serve = Command::new(testsupport::tool("udp-sdu"));
    serve.args(["serve", "--bind", "127.0.0.1", "0"]);
    let sdu_server = testsupport::LoggedServer::spawn(serve);
    let sdu_port = sdu_server.addr.port().to_string();

    let t = |args: &[&str]| os(args);
    let table: Vec<(&str, [Want; 7])> = vec![
        (
            "hello-server",
            [
                Code(2, t(&["--workers", "0"])),
                Na("takes --bind IP, no host name"),
                Na("a server"),
                Code(3, t(&["--bind", "127.0.0.1", "--port", &taken_tcp])),
                Na("reads no file"),
                Na("reads no file"),
                Na("a server has no answer"),
            ],
        ),
        (
            "hello-client",
            [
                Code(2, t(&["--repeat", "0"])),
                Code(3, t(&["http://x.invalid/"])),
                Code(3, t(&[&format!("127.0.0.1:{closed_tcp}")])),
                Na("a client"),
                Na("reads no file"),
                Na("reads no file"),
                Code(1, t(&[&format!("http://127.0.0.1:{http404}/missing")])),
            ],
        ),
        (
            "udp-sdu",
            [
                Code(2, t(&["send", "127.0.0.1", "1", "65536"])),
                Code(3, t(&["send", "x.invalid", "1", "5"])),
                Code(3, t(&["send", "127.0.0.1", &closed_udp, "5"])),
                Code(3, t(&["serve", "--bind", "127.0.0.1", &taken_udp])),
                Na("reads no file"),
                Na("reads no file"),
                Code(
                    1,
                    t(&["send", "127.0.0.1", &sdu_port, "5", "--corrupt", "checksum"]),
                ),
            ],
        ),
        (
            "tlv-client",
            [
                Code(2, t(&["127.0.0.1", "70000"])),
                Code(3, t(&["x.invalid"])),
                Code(3, t(&["127.0.0.1", &closed_tcp])),
                Na("a client"),
                Na("reads no file"),
                Na("reads no file"),
                Code(1, t(&["127.0.0.1", &tlv_false])),
            ],
        ),
        (
            "tlv-server",
            [
                Code(2, t(&["--timeout", "0"])),
                Na("takes --bind IP, no host name"),
                Na("a server"),
                Code(3, t(&["--bind", "127.0.0.1", "--port", &taken_tcp])),
                Na("reads no file"),
                Na("reads no file"),
                Na("a server has no answer"),
            ],
        ),
        (
            "sender",
            [
                Code(2, t(&["127.0.0.1", &closed_udp, "0", &data])),
                Code(3, t(&["x.invalid", "9", "1", &data])),
                Code(
                    3,
                    t(&["127.0.0.1", &closed_udp, "1", &data, "--timeout", "0.5"]),
                ),
                Na("a client"),
                Code(3, t(&["127.0.0.1", &closed_udp, "1", &missing])),
                Na("any bytes are a file to send"),
                Na("a transfer succeeds or fails"),
            ],
        ),
        (
            "receiver",
            [
                Code(2, t(&["0", "8", "out.bin"])),
                Na("takes --bind IP, no host name"),
                Na("a server"),
                Code(3, t(&["--bind", "127.0.0.1", &taken_udp, "1", &no_dir_out])),
                // The output cannot be created: its directory does not exist.
                Code(3, t(&["--bind", "127.0.0.1", "0", "1", &no_dir_out])),
                Na("writes, reads no file"),
                Na("a transfer succeeds or fails"),
            ],
        ),
        (
            "sniff",
            [
                Code(2, t(&["-s", "0", "-r", &empty])),
                Na("BPF host names are libpcap's (usage error 2)"),
                Na("captures, connects to nothing"),
                Na("binds no port"),
                Code(3, t(&["-r", &missing])),
                Code(3, t(&["-r", &garbage])),
                Na("a capture has no negative answer"),
            ],
        ),
        (
            "tcpstat",
            [
                Code(2, t(&["conns"])),
                Na("reads captures, resolves nothing"),
                Na("connects to nothing"),
                Na("binds no port"),
                Code(3, t(&["-r", &missing])),
                Code(3, t(&["-r", &cut])),
                Code(1, t(&["follow", "-r", &empty, "--conn", "0"])),
            ],
        ),
    ];
    assert_eq!(
        table.iter().map(|r| r.0).collect::<Vec<_>>(),
        TOOLS,
        "one row per tool"
    );

    // Every applicable cell, in parallel (the slow ones wait for a timeout).
    let results: Vec<Vec<Option<common::Run>>> = std::thread::scope(|s| {
        let handles: Vec<Vec<_>> = table
            .iter()
            .map(|(tool, cells)| {
                cells
                    .iter()
                    .map(|w| match w {
                        Code(_, args) => {
                            Some(s.spawn(move || run(tool, args, Duration::from_secs(20), None)))
                        }
                        Na(_) => None,
                    })
                    .collect()
            })
            .collect();
        handles
            .into_iter()
            .map(|row| {
                row.into_iter()
                    .map(|h| h.map(|h| h.join().unwrap()))
                    .collect()
            })
            .collect()
    });

    let mut report = format!("{:<13}", "");
    for c in CASES {
        report += &format!(" | {c:<17}");
    }
    report.push('\n');
    let mut wrong = Vec::new();
    for ((tool, cells), runs) in table.iter().zip(&results) {
        report += &format!("{tool:<13}");
        for ((case, want), got) in CASES.iter().zip(cells).zip(runs) {
            let cell = match (want, got) {
                (Na(_), _) => "N/A".to_owned(),
                (Code(code, args), Some(r)) => {
                    let ok = r.code == Some(i32::from(*code)) && !r.panicked();
                    if !ok {
                        wrong.push(format!(
                            "{tool} {case} {args:?}: want {code}, got {:?} (signal {:?}): {}",
                            r.code, r.signal, r.stderr
                        ));
                    }
                    if ok {
                        code.to_string()
                    } else {
                        format!("{code} (got {:?})", r.code)
                    }
                }
                (Code(..), None) => unreachable!("every applicable cell ran"),
            };
            report += &format!(" | {cell:<17}");
        }
        report.push('\n');
    }
    eprintln!("{report}");
    for (tool, cells) in &table {
        for (case, w) in CASES.iter().zip(cells) {
            if let Na(why) = w {
                eprintln!("N/A {tool} {case}: {why}");
            }
        }
    }
    drop((held_tcp, held_udp, sdu_server));
    let _ = std::fs::remove_dir_all(&dir);
    assert!(wrong.is_empty(), "wrong exit codes:\n{}", wrong.join("\n"));
}

/// Unknown hosts fail fast and say why in one line, the same in every client.
#[test]
fn unknown_host_is_one_line_naming_the_cause() {
    let dir = scratch("unknown-host");
    let data = dir.join("data.bin");
    std::fs::write(&data, b"x").unwrap();
    let data = data.to_str().unwrap();
    for (tool, args) in [
        ("hello-client", os(&["x.invalid:5000"])),
        ("udp-sdu", os(&["probe", "x.invalid", "9"])),
        ("tlv-client", os(&["x.invalid"])),
        ("sender", os(&["x.invalid", "9", "1", data])),
    ] {
        let t = std::time::Instant::now();
        let r = run(tool, &args, Duration::from_secs(10), None);
        assert_eq!(r.code, Some(3), "{tool}: {}", r.stderr);
        assert!(t.elapsed() < Duration::from_secs(2), "{tool} asked DNS?");
        assert_eq!(r.stderr.lines().count(), 1, "{tool}: {}", r.stderr);
        assert!(
            r.stderr
                .starts_with("error: unknown host 'x.invalid': the name does not resolve")
                && r.stderr.contains("/etc/hosts or DNS"),
            "{tool}: {}",
            r.stderr
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
