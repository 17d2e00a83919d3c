//! Live captures on `lo` (root), pipes, and the helpful failures of the lab sheet's
//! Exercise 4.

#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use netcap::Reader;
use testsupport::{
    Lines, READY_TIMEOUT, poll_until, require_peer, require_root, shared_traces, tool, wait_until,
};

/// Start `cmd` and wait until it printed "listening on" on stderr (sniff and tcpdump print it
/// once the capture is open and its filter attached: from then on every packet is caught);
/// the rest of stderr keeps being collected.
fn start_capture(mut cmd: Command) -> (Child, Lines) {
    cmd.stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn capture");
    let stderr = Lines::new(child.stderr.take().unwrap());
    stderr.expect(&format!("\"listening on\" from {cmd:?}"), |l| {
        l.contains("listening on")
    });
    (child, stderr)
}

/// A TCP exchange on loopback: connect, send, echo, close.
fn tcp_exchange(port_listener: &TcpListener) {
    let addr = port_listener.local_addr().unwrap();
    let mut c = TcpStream::connect(addr).unwrap();
    let (mut s, _) = port_listener.accept().unwrap();
    c.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    let mut buf = [0u8; 18];
    s.read_exact(&mut buf).unwrap();
    s.write_all(b"Hello, World!").unwrap();
    let mut got = [0u8; 13];
    c.read_exact(&mut got).unwrap();
    drop(c);
    drop(s);
}

fn records(path: &Path) -> Vec<(u32, Vec<u8>)> {
    let mut r = Reader::open(path.to_str().unwrap()).unwrap();
    let mut v = Vec::new();
    while let Some(rec) = r.next().unwrap() {
        v.push((rec.len, rec.data.to_vec()));
    }
    v
}

fn wait_exit(child: &mut Child, secs: u64) -> std::process::ExitStatus {
    let mut status = None;
    let ended = poll_until(Duration::from_secs(secs), || {
        status = child.try_wait().unwrap();
        status.is_some()
    });
    if !ended {
        let _ = child.kill();
        panic!("capture did not end in {secs} s");
    }
    status.unwrap()
}

#[test]
fn live_capture_on_lo_is_read_by_tcpdump_and_tshark() {
    let t = "live_capture_on_lo_is_read_by_tcpdump_and_tshark";
    if !require_root(t) || !require_peer(t, "tcpdump") || !require_peer(t, "tshark") {
        return;
    }
    let dir = tempdir();
    let ours = dir.join("sniff.pcap");
    let theirs = dir.join("tcpdump.pcap");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let filter = format!("tcp port {port}");
    let count = "6";

    let mut c = Command::new(tool("sniff"));
    c.args(["-i", "lo", "-c", count, "-w"])
        .arg(&ours)
        .arg(&filter);
    let (mut sniff, mut sniff_err) = start_capture(c);
    let mut c = Command::new("tcpdump");
    c.args(["-i", "lo", "-U", "-c", count, "-w"])
        .arg(&theirs)
        .arg(&filter);
    let (mut td, _td_err) = start_capture(c);

    tcp_exchange(&listener);
    assert!(wait_exit(&mut sniff, 10).success());
    assert!(wait_exit(&mut td, 10).success());
    let err = sniff_err.finish().join("\n");
    assert!(err.contains("6 packets captured"), "{err}");
    assert!(err.contains("packets dropped by kernel"), "{err}");

    // Same packets, byte for byte, as tcpdump captured them.
    let a = records(&ours);
    let b = records(&theirs);
    assert_eq!(a.len(), 6);
    assert_eq!(a, b, "sniff's and tcpdump's captures differ");

    // tcpdump reads our file: same count, same bytes (-x dump of each packet).
    let dump = |p: &Path| {
        let o = Command::new("tcpdump")
            .args(["-nn", "-x", "-r"])
            .arg(p)
            .env("TZ", "UTC")
            .output()
            .unwrap();
        assert!(o.status.success());
        String::from_utf8(o.stdout).unwrap()
    };
    let (da, db) = (dump(&ours), dump(&theirs));
    let strip = |s: &str| -> Vec<String> {
        s.lines()
            .map(|l| {
                if l.starts_with('\t') {
                    l.to_owned()
                } else {
                    l.split_once(' ').map_or(l, |x| x.1).to_owned()
                }
            })
            .collect()
    };
    assert_eq!(strip(&da), strip(&db));
    assert!(da.contains("Flags [S]"), "{da}");

    // tshark reads it too.
    let o = Command::new("tshark")
        .arg("-r")
        .arg(&ours)
        .args(["-T", "fields", "-e", "tcp.dstport"])
        .output()
        .unwrap();
    assert!(o.status.success());
    assert_eq!(String::from_utf8_lossy(&o.stdout).lines().count(), 6);
}

#[test]
fn live_pipe_into_sniff_read_from_stdin() {
    let t = "live_pipe_into_sniff_read_from_stdin";
    if !require_root(t) {
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut c = Command::new(tool("sniff"));
    c.args(["-i", "lo", "-c", "3", "-w", "-"])
        .arg(format!("tcp port {port}"))
        .stdout(Stdio::piped());
    let (mut writer, _err) = start_capture(c);
    let pipe = writer.stdout.take().unwrap();
    let reader = Command::new(tool("sniff"))
        .args(["-q", "--json", "-r", "-"])
        .stdin(pipe)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    tcp_exchange(&listener);
    assert!(wait_exit(&mut writer, 10).success());
    let out = reader.wait_with_output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert_eq!(lines[0]["flags"], "S");
    assert_eq!(lines[1]["flags"], "S.");
    assert_eq!(lines[2]["flags"], ".");
    assert_eq!(lines[0]["dport"], port);
    // A file from `-i lo` is Ethernet: no interface recorded.
    assert!(lines[0].get("iface").is_none());
    assert_eq!(lines[3]["type"], "summary");
}

#[test]
fn offline_pipe_round_trips() {
    let Some(dir) = shared_traces("offline_pipe_round_trips") else {
        return;
    };
    for name in ["trace0.pcap", "stp-s1-trace.pcap", "simple-trace.pcap"] {
        let path = dir.join(name);
        let direct = Command::new(tool("sniff"))
            .args(["-q", "--json", "-r"])
            .arg(&path)
            .output()
            .unwrap();
        let cmd = format!(
            "{s} -q -r {p} -w - | {s} -q --json -r -",
            s = tool("sniff").display(),
            p = path.display()
        );
        let piped = Command::new("sh").arg("-c").arg(&cmd).output().unwrap();
        assert!(piped.status.success(), "{cmd}");
        assert!(!direct.stdout.is_empty());
        assert_eq!(
            String::from_utf8_lossy(&direct.stdout),
            String::from_utf8_lossy(&piped.stdout),
            "{name}"
        );
    }
}

#[test]
fn filter_applies_to_files_and_bad_filters_say_why() {
    let Some(dir) = shared_traces("filter_applies_to_files_and_bad_filters_say_why") else {
        return;
    };
    let path = dir.join("trace.5connections_opening_closing.pcap");
    let o = Command::new(tool("sniff"))
        .args(["-q", "-r"])
        .arg(&path)
        .args(["tcp", "port", "34720"])
        .output()
        .unwrap();
    assert!(o.status.success());
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.lines().count() >= 5);
    assert!(text.lines().all(|l| l.contains(".34720")), "{text}");

    let o = Command::new(tool("sniff"))
        .args(["-r"])
        .arg(&path)
        .args(["tcp", "prt", "80"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("'tcp prt 80'"), "{err}");
    assert!(err.contains("syntax error"), "{err}");
    assert_eq!(err.lines().filter(|l| l.starts_with("error:")).count(), 1);
}

#[test]
fn unknown_interface_lists_interfaces() {
    let t = "unknown_interface_lists_interfaces";
    if !require_root(t) {
        return;
    }
    let o = Command::new(tool("sniff"))
        .args(["-i", "nosuch0", "-c", "1"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("no such interface 'nosuch0'"), "{err}");
    assert!(err.contains("lo"), "{err}");
}

#[test]
fn unprivileged_capture_names_the_setcap_command() {
    let t = "unprivileged_capture_names_the_setcap_command";
    if !require_root(t) || !require_peer(t, "setpriv") {
        return;
    }
    let exe = tool("sniff");
    let o = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
            "--bounding-set=-all",
        ])
        .arg(&exe)
        .args(["-i", "lo", "-c", "1"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("CAP_NET_RAW+CAP_NET_ADMIN"), "{err}");
    assert!(
        err.contains(&format!(
            "setcap cap_net_raw,cap_net_admin=eip {}",
            exe.display()
        )),
        "{err}"
    );
}

#[test]
fn timeout_with_nothing_captured_gives_the_hint() {
    let t = "timeout_with_nothing_captured_gives_the_hint";
    if !require_root(t) {
        return;
    }
    let start = Instant::now();
    let o = Command::new(tool("sniff"))
        .args(["-i", "lo", "--timeout", "0.5", "tcp", "port", "1"])
        .output()
        .unwrap();
    assert!(o.status.success());
    assert!(start.elapsed() < Duration::from_secs(5));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("0 packets captured"), "{err}");
    assert!(
        err.contains("hint: the filter 'tcp port 1' matched nothing on lo"),
        "{err}"
    );
    assert!(err.contains("ss -tlnp"), "{err}");
}

#[test]
fn sigint_ends_a_capture_with_a_complete_file() {
    let t = "sigint_ends_a_capture_with_a_complete_file";
    if !require_root(t) {
        return;
    }
    let dir = tempdir();
    let file = dir.join("int.pcap");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // --print -l: one line per packet on stdout as it is caught, to know when the whole
    // exchange is in (the file itself stays block-buffered until the signal, as in real use).
    let mut c = Command::new(tool("sniff"));
    c.args(["-i", "lo", "--print", "-l", "-w"])
        .arg(&file)
        .arg(format!("tcp port {port}"))
        .stdout(Stdio::piped());
    let (mut child, mut err) = start_capture(c);
    let printed = Lines::new(child.stdout.take().unwrap());
    tcp_exchange(&listener);
    // The exchange is at least 8 packets (handshake, two data segments, two FINs and their
    // ACKs, some merged): wait until sniff has seen that many, then interrupt it.
    wait_until(READY_TIMEOUT, "sniff to print 8 packets", || {
        printed.all().len() >= 8
    });
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    assert!(wait_exit(&mut child, 10).success());
    let err = err.finish().join("\n");
    let n = records(&file).len();
    assert!(n >= 8, "{n} packets: {err}");
    assert!(err.contains(&format!("{n} packets captured")), "{err}");
}

fn tempdir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!(
        "sniff-test-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn timeout_rejects_values_that_have_no_meaning() {
    // `--timeout inf` panicked in Duration::from_secs_f64 once the capture was open; the others
    // were taken as "stop at once". All are usage errors now, found before capturing.
    for value in ["inf", "nan", "0", "-1", "1e300"] {
        let arg = format!("--timeout={value}");
        let mut child = Command::new(tool("sniff"))
            .args(["-i", "lo", &arg, "tcp", "port", "1"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        let status = wait_exit(&mut child, 10);
        assert_eq!(status.code(), Some(2), "{arg}: {err}");
        assert!(!err.contains("panicked"), "{arg}: {err}");
        let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
        assert_eq!(errors.len(), 1, "{arg}: {err}");
        assert!(
            errors[0].contains(&format!("'{value}' for '--timeout <SECS>'"))
                && errors[0].contains("greater than 0 and at most"),
            "{arg}: {err}"
        );
        assert!(!err.contains("listening on"), "{arg}: {err}");
    }
}

/// -Q in|out|inout on `lo`, sniff and tcpdump side by side on the same exchange: the same
/// number of packets for each direction (on lo, Linux shows every packet as received, so
/// `out` keeps none of this exchange and `in` all of it).
#[test]
fn direction_keeps_what_tcpdumps_direction_keeps() {
    let t = "direction_keeps_what_tcpdumps_direction_keeps";
    if !require_root(t) || !require_peer(t, "tcpdump") || !require_peer(t, "kill") {
        return;
    }
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let filter = format!("tcp port {port}");
    let mut counts = Vec::new();
    for dir in ["in", "out", "inout"] {
        let mut ours = Command::new(tool("sniff"));
        ours.args(["-i", "lo", "-l", "-Q", dir, &filter])
            .stdout(Stdio::piped());
        let mut theirs = Command::new("tcpdump");
        theirs
            .args(["-i", "lo", "-nn", "-l", "-Q", dir, &filter])
            .stdout(Stdio::piped());
        let (mut a, _ea) = start_capture(ours);
        let (mut b, _eb) = start_capture(theirs);
        tcp_exchange(&l);
        std::thread::sleep(Duration::from_millis(500));
        let mut n = [0usize; 2];
        for (i, c) in [&mut a, &mut b].into_iter().enumerate() {
            let st = Command::new("kill")
                .args(["-INT", &c.id().to_string()])
                .status()
                .unwrap();
            assert!(st.success());
            let mut out = String::new();
            c.stdout.take().unwrap().read_to_string(&mut out).unwrap();
            assert!(wait_exit(c, 10).success());
            // tcpdump ends its output with an empty line when interrupted.
            n[i] = out.lines().filter(|l| !l.is_empty()).count();
        }
        assert_eq!(
            n[0], n[1],
            "-Q {dir}: sniff {} lines, tcpdump {}",
            n[0], n[1]
        );
        counts.push(n[0]);
    }
    assert!(counts[2] >= 8, "inout: {counts:?}");
    assert_eq!(
        counts[0] + counts[1],
        counts[2],
        "in + out = inout: {counts:?}"
    );
}

/// --process on `lo`: a Python HTTP server and a Python client that lingers on its socket
/// (so that it is still there when its packets are printed); every packet names both ends'
/// processes, each with the pid the test started; --json carries the same; -r refuses it.
#[test]
fn process_names_both_ends_of_a_loopback_exchange() {
    let t = "process_names_both_ends_of_a_loopback_exchange";
    if !require_root(t) || !require_peer(t, "python3") || !require_peer(t, "kill") {
        return;
    }
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server_code = format!(
        "import socket,time\ns=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\ns.bind(('127.0.0.1',{port}));s.listen()\nprint('ready',flush=True)\nc,_=s.accept();c.recv(100);c.sendall(b'Hello, World!');time.sleep(0.3);c.close()"
    );
    let mut server = Command::new("python3")
        .args(["-c", &server_code])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut ready = String::new();
    let mut so = server.stdout.take().unwrap();
    let mut b = [0u8; 6];
    so.read_exact(&mut b).unwrap();
    ready.push_str(&String::from_utf8_lossy(&b));
    assert_eq!(ready, "ready\n");
    let mut cmd = Command::new(tool("sniff"));
    cmd.args(["-i", "lo", "--process", "--json"])
        .arg(format!("tcp port {port}"))
        .stdout(Stdio::piped());
    let (mut cap, mut err) = start_capture(cmd);
    let client_code = format!(
        "import socket,time\nc=socket.create_connection(('127.0.0.1',{port}))\ntime.sleep(0.2);c.sendall(b'hi');c.recv(100);time.sleep(0.5);c.close();time.sleep(0.3)"
    );
    let mut client = Command::new("python3")
        .args(["-c", &client_code])
        .spawn()
        .unwrap();
    let (spid, cpid) = (server.id(), client.id());
    assert!(client.wait().unwrap().success());
    assert!(server.wait().unwrap().success());
    std::thread::sleep(Duration::from_millis(300));
    let st = Command::new("kill")
        .args(["-INT", &cap.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let mut out = String::new();
    cap.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    assert!(wait_exit(&mut cap, 10).success());
    let packets: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|v: &serde_json::Value| v["type"] == "packet")
        .collect();
    assert!(packets.len() >= 8, "{out}");
    for p in &packets {
        let (sport, dport) = (p["sport"].as_u64().unwrap(), p["dport"].as_u64().unwrap());
        let want = |port_: u64| if port_ == u64::from(port) { spid } else { cpid };
        assert_eq!(p["src_process"]["pid"], want(sport), "{p}");
        assert_eq!(p["dst_process"]["pid"], want(dport), "{p}");
        assert_eq!(p["src_process"]["comm"], "python3", "{p}");
    }
    let all = err.finish().join("\n");
    assert!(
        !all.contains("--process:"),
        "every packet attributed: {all}"
    );
    let r = Command::new(tool("sniff"))
        .args(["--process", "-r", "/dev/null"])
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(2));
}

/// Rewrite a TCP port in every IPv4 packet of an Ethernet capture (`lo`'s link type): the
/// bytes of a real exchange, moved onto a port tcpdump decodes (TCP checksums, which tcpdump
/// -nn does not check, are left as they were).
fn renumber(from: &Path, to: &Path, old: u16, new: u16) {
    let mut r = Reader::open(from.to_str().unwrap()).unwrap();
    let mut w = netcap::Writer::create(to.to_str().unwrap(), r.linktype()).unwrap();
    while let Some(rec) = r.next().unwrap() {
        let mut d = rec.data.to_vec();
        if d.len() > 34 && d[12..14] == [8, 0] && d[23] == 6 {
            let tcp = 14 + usize::from(d[14] & 0xf) * 4;
            for at in [tcp, tcp + 2] {
                if d.get(at..at + 2) == Some(&old.to_be_bytes()[..]) {
                    d[at..at + 2].copy_from_slice(&new.to_be_bytes());
                }
            }
        }
        w.write(&netcap::Record { data: &d, ..rec }, None).unwrap();
    }
    w.flush().unwrap();
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// HTTP and TLS from real clients on `lo`: curl against Python's http.server, and openssl
/// s_client's ClientHello with a server name. Moved onto port 8080, where tcpdump decodes HTTP,
/// sniff's lines are tcpdump's; on the server's own port sniff still prints the request and
/// status lines, and the ClientHello's server name, which tshark reads the same.
#[test]
fn http_and_tls_client_hello_from_real_clients() {
    let t = "http_and_tls_client_hello_from_real_clients";
    if !require_root(t)
        || !require_peer(t, "tcpdump")
        || !require_peer(t, "tshark")
        || !require_peer(t, "python3")
        || !require_peer(t, "curl")
        || !require_peer(t, "openssl")
        || !require_peer(t, "kill")
    {
        return;
    }
    let dir = tempdir();
    let (web, tls) = (free_port(), free_port());
    let mut server = Command::new("python3")
        .args(["-m", "http.server", &web.to_string(), "--bind", "127.0.0.1"])
        .arg("--directory")
        .arg(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until(READY_TIMEOUT, "http.server to listen", || {
        TcpStream::connect(("127.0.0.1", web)).is_ok()
    });
    // A TLS "server" that takes the ClientHello and hangs up.
    let hello = TcpListener::bind(("127.0.0.1", tls)).unwrap();
    let file = dir.join("app.pcap");
    let mut c = Command::new(tool("sniff"));
    c.args(["-i", "lo", "-w"])
        .arg(&file)
        .arg(format!("tcp port {web} or tcp port {tls}"));
    let (mut cap, _err) = start_capture(c);
    let curl = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}"])
        .arg(format!("http://127.0.0.1:{web}/"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&curl.stdout), "200");
    let accept = std::thread::spawn(move || {
        let (mut s, _) = hello.accept().unwrap();
        let mut b = [0u8; 4096];
        let _ = s.read(&mut b);
    });
    let o = Command::new("openssl")
        .args(["s_client", "-connect"])
        .arg(format!("127.0.0.1:{tls}"))
        .args(["-servername", "sni.example.test"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!o.status.success(), "the handshake cannot complete");
    accept.join().unwrap();
    let _ = server.kill();
    let _ = server.wait();
    // The capture hands packets over every 100 ms; a signal ends it without draining.
    std::thread::sleep(Duration::from_millis(500));
    let st = Command::new("kill")
        .args(["-INT", &cap.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    assert!(wait_exit(&mut cap, 10).success());

    let lines = |prog: &Path, pre: &[&str], f: &Path| -> Vec<String> {
        let o = Command::new(prog)
            .args(pre)
            .arg("-r")
            .arg(f)
            .env("TZ", "UTC")
            .output()
            .unwrap();
        assert!(o.status.success(), "{prog:?}: {o:?}");
        String::from_utf8(o.stdout)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    };
    let (sniff, tcpdump) = (tool("sniff"), std::path::PathBuf::from("tcpdump"));
    let moved = dir.join("8080.pcap");
    renumber(&file, &moved, web, 8080);
    let ours = lines(&sniff, &["-q"], &moved);
    let theirs = lines(&tcpdump, &["-nn"], &moved);
    assert_eq!(ours.len(), theirs.len());
    let sni = ": TLS ClientHello, SNI sni.example.test";
    let mut hellos = 0;
    for (x, y) in ours.iter().zip(&theirs) {
        if y.contains(&format!(".{tls}: ")) && x.ends_with(sni) {
            assert_eq!(x.strip_suffix(sni), Some(y.as_str()));
            hellos += 1;
        } else {
            assert_eq!(x, y);
        }
    }
    assert_eq!(hellos, 1, "{ours:#?}");
    let joined = theirs.join("\n");
    assert!(joined.contains(": HTTP: GET / HTTP/1.1"), "{joined}");
    assert!(joined.contains(": HTTP: HTTP/1.0 200 OK"), "{joined}");

    // On the server's own port: tcpdump says nothing of HTTP, sniff prints the same lines.
    let ours = lines(&sniff, &["-q"], &file).join("\n");
    assert!(ours.contains(&format!(".{web}: Flags [P.]")), "{ours}");
    assert!(ours.contains(": HTTP: GET / HTTP/1.1"), "{ours}");
    assert!(ours.contains(": HTTP: HTTP/1.0 200 OK"), "{ours}");
    let theirs = lines(&tcpdump, &["-nn"], &file).join("\n");
    assert!(!theirs.contains("HTTP"), "{theirs}");

    // The server name as tshark reads it, and in --json.
    let o = Command::new("tshark")
        .arg("-r")
        .arg(&file)
        .args(["-d", &format!("tcp.port=={tls},tls")])
        .args(["-Y", "tls.handshake.type == 1", "-T", "fields"])
        .args(["-e", "tls.handshake.extensions_server_name"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{o:?}");
    assert_eq!(String::from_utf8_lossy(&o.stdout), "sni.example.test\n");
    let json = lines(&sniff, &["-q", "--json"], &file);
    let packets: Vec<serde_json::Value> = json
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let sni: Vec<&serde_json::Value> = packets.iter().filter_map(|p| p.get("tls_sni")).collect();
    assert_eq!(sni, ["sni.example.test"]);
    let http: Vec<&str> = packets
        .iter()
        .filter_map(|p| p.get("http").and_then(|h| h.as_str()))
        .collect();
    assert_eq!(http, ["GET / HTTP/1.1", "HTTP/1.0 200 OK"]);
    std::fs::remove_dir_all(&dir).unwrap();
}
