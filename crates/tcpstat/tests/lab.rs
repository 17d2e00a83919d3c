//! Conformance on a lossy capture the project makes itself: bulk flows in the namespace lab
//! with nftables loss, offloads off, captured by tcpdump, then tcpstat vs tshark; and the live
//! mode (`tcpstat -i`) on loopback: its summaries, its options, its stop on SIGINT.
#![allow(clippy::unwrap_used)]

use std::process::{Command, Stdio};
use std::time::Duration;

use testsupport::{
    Lab, Lines, READY_TIMEOUT, bound_by, capture_ready, require_peer, require_root, tool,
    wait_ready, wait_until, workspace_root,
};

/// The TCP connections on port 5201 in `host`'s namespace that are not over yet (all but
/// LISTEN and TIME-WAIT), as `ss` lists them.
fn open_5201(lab: &Lab, host: &str) -> Vec<String> {
    let out = lab
        .command(host, "ss")
        .args(["-Htan", "( sport = :5201 or dport = :5201 )"])
        .output()
        .expect("ss -tan");
    assert!(
        out.status.success(),
        "ss in {host}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.starts_with("LISTEN") && !l.starts_with("TIME-WAIT"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn lossy_lab_capture_conforms_to_tshark() {
    let name = "lossy_lab_capture_conforms_to_tshark";
    if !require_root(name) {
        return;
    }
    for peer in ["tshark", "tcpdump", "iperf3", "python3", "ss"] {
        if !require_peer(name, peer) {
            return;
        }
    }
    let lab = Lab::up("two-hosts");
    lab.impair("midwood", &["--loss", "2"]);
    let dir = std::env::temp_dir().join(format!("tcpstat-lab-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pcap = dir.join("lossy.pcap");
    // tcpdump writes the file as user tcpdump unless told otherwise; --immediate-mode hands it
    // each packet at once (no 1 s buffering), -U writes each one to the file at once.
    let mut dump = lab
        .command("brooklyn", "tcpdump")
        .args(["-i", "eth0", "-n", "-U", "--immediate-mode", "-Z", "root"])
        .args(["-s", "128", "-w"])
        .arg(&pcap)
        .args(["tcp", "port", "5201"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tcpdump");
    let mut dump_err = Lines::new(dump.stderr.take().unwrap());
    // Printed once the capture is open and its filter attached.
    dump_err.expect("\"listening on\" from tcpdump", |l| {
        l.contains("listening on")
    });
    let mut server = lab
        .command("midwood", "iperf3")
        .args(["-s", "-1", "-p", "5201"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("iperf3 -s");
    let pid = server.id();
    wait_ready(
        &mut server,
        "iperf3 -s listening on 5201 in midwood",
        || bound_by(pid, "tcp", 5201),
    );
    let client = lab
        .command("brooklyn", "iperf3")
        .args(["-c", "192.168.56.102", "-p", "5201", "-P", "2", "-n", "12M"])
        .output()
        .expect("iperf3 -c");
    assert!(
        client.status.success(),
        "{}",
        String::from_utf8_lossy(&client.stderr)
    );
    let _ = server.wait();
    // Every connection closed on both sides (FINs and their ACKs, retransmitted through the
    // loss if need be) before the capture stops, so the trace holds them whole.
    wait_until(READY_TIMEOUT, "iperf3's connections to close", || {
        open_5201(&lab, "brooklyn").is_empty() && open_5201(&lab, "midwood").is_empty()
    });
    let _ = Command::new("kill")
        .arg("-INT")
        .arg(dump.id().to_string())
        .status();
    let _ = dump.wait();
    let dump_log = dump_err.finish().join("\n");

    let out = Command::new(workspace_root().join("scripts/conformance"))
        .arg("--quiet")
        .arg("--tcpstat")
        .arg(tool("tcpstat"))
        .arg(&pcap)
        .output()
        .expect("run scripts/conformance");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "conformance on the lab capture failed:\n{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The loss really happened and both tools saw it. First in conformance's summary: the
    // `retransmission` line's "(BOTH/...)" figure counts the frames that tcpstat and tshark
    // both flagged.
    let line = text
        .lines()
        .map(str::trim_start)
        .find(|l| l.split_whitespace().next() == Some("retransmission"))
        .unwrap_or_else(|| panic!("no retransmission line in conformance's summary:\n{text}"));
    let both: u64 = line
        .split('(')
        .nth(1)
        .and_then(|r| r.split('/').next())
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no (BOTH/ALL) figure in {line:?}:\n{text}"));
    assert!(
        both > 0,
        "no frame flagged as a retransmission by both tools in a 2% loss capture: {line:?}\n{text}\ntcpdump: {dump_log}"
    );

    // Then counted apart from conformance: tshark's own filter, and tcpstat's JSON flags.
    let tshark = Command::new("tshark")
        .arg("-r")
        .arg(&pcap)
        .args(["-n", "-Y", "tcp.analysis.retransmission", "-T", "fields"])
        .args(["-e", "frame.number"])
        .output()
        .expect("run tshark");
    assert!(
        tshark.status.success(),
        "{}",
        String::from_utf8_lossy(&tshark.stderr)
    );
    let theirs: Vec<u64> = String::from_utf8_lossy(&tshark.stdout)
        .lines()
        .map(|l| l.trim().parse().expect("a frame number"))
        .collect();
    assert!(
        !theirs.is_empty(),
        "tshark flags no retransmission in a 2% loss capture ({dump_log})"
    );
    let packets = Command::new(tool("tcpstat"))
        .args(["packets", "--json", "-r"])
        .arg(&pcap)
        .output()
        .expect("run tcpstat packets");
    assert!(
        packets.status.success(),
        "{}",
        String::from_utf8_lossy(&packets.stderr)
    );
    let ours: Vec<u64> = String::from_utf8_lossy(&packets.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("an NDJSON record"))
        .filter(|r| r["type"] == "packet")
        .filter(|r| {
            r["flags"]
                .as_array()
                .is_some_and(|f| f.iter().any(|f| f == "retransmission"))
        })
        .map(|r| r["frame"].as_u64().expect("a frame number"))
        .collect();
    assert_eq!(
        ours.len(),
        theirs.len(),
        "retransmissions: tcpstat flags frames {ours:?}, tshark {theirs:?}"
    );
    eprintln!(
        "{name}: {} retransmissions flagged by tcpstat and by tshark; conformance: {line}",
        ours.len()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn live_mode_reports_a_loopback_connection() {
    let name = "live_mode_reports_a_loopback_connection";
    if !require_root(name) || !require_peer(name, "ss") {
        return;
    }
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut live = Command::new(tool("tcpstat"))
        .args([
            "-i",
            "lo",
            "--json",
            "--interval",
            "1",
            "--duration",
            "3",
            "--filter",
        ])
        .arg(format!("tcp port {port}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // tcpstat prints no start line: wait until its capture socket has its ring and filter.
    let pid = live.id();
    wait_ready(&mut live, "tcpstat's capture on lo", || {
        capture_ready(pid, true)
    });
    let t = std::thread::spawn(move || {
        use std::io::Read;
        let (mut a, _) = listener.accept().unwrap();
        let mut buf = Vec::new();
        a.read_to_end(&mut buf).unwrap();
        buf.len()
    });
    {
        use std::io::Write;
        let mut c = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        c.write_all(&[7u8; 50_000]).unwrap();
    }
    assert_eq!(t.join().unwrap(), 50_000);
    let out = live.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let seen: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(seen.iter().all(|v| v["type"] == "interval"), "{text}");
    let bytes: u64 = seen.iter().map(|v| v["bytes"].as_u64().unwrap()).sum();
    assert!(bytes > 50_000, "{text}");
    let server = format!("127.0.0.1:{port}");
    assert!(
        seen.iter().any(|v| v["active"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["server"] == server.as_str())),
        "{text}"
    );
}

/// Run `tcpstat ARGS` for at most 10 s (killed then): its exit status and stderr.
fn tcpstat_bounded(args: &[&str]) -> (std::process::ExitStatus, String) {
    let mut child = Command::new(tool("tcpstat"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = testsupport::Lines::new(child.stderr.take().unwrap());
    let exited = testsupport::poll_until(Duration::from_secs(10), || {
        child.try_wait().unwrap().is_some()
    });
    if !exited {
        let _ = child.kill();
    }
    let status = child.wait().unwrap();
    let err = err.finish().join("\n");
    assert!(
        exited,
        "tcpstat {args:?} still ran after 10 s; stderr: {err}"
    );
    (status, err)
}

#[test]
fn live_mode_rejects_intervals_and_durations_that_have_no_meaning() {
    // `--interval inf` panicked in Duration::from_secs_f64 (once the capture was open), and
    // `--duration inf` never ended: both are usage errors now, found before capturing.
    for (opt, value) in [
        ("--interval", "inf"),
        ("--interval", "nan"),
        ("--interval", "0"),
        ("--interval", "-1"),
        ("--interval", "1e300"),
        ("--duration", "inf"),
        ("--duration", "nan"),
        ("--duration", "0"),
        ("--duration", "-1"),
        ("--duration", "1e300"),
    ] {
        let arg = format!("{opt}={value}");
        let (status, err) = tcpstat_bounded(&["-i", "lo", &arg, "--filter", "tcp port 1"]);
        assert_eq!(status.code(), Some(2), "{arg}: {err}");
        assert!(!err.contains("panicked"), "{arg}: {err}");
        let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
        assert_eq!(errors.len(), 1, "{arg}: {err}");
        assert!(
            errors[0].contains(&format!("'{value}' for '{opt} <SECS>'"))
                && errors[0].contains("greater than 0 and at most"),
            "{arg}: {err}"
        );
    }
}

#[test]
fn live_mode_stops_cleanly_on_sigint() {
    let name = "live_mode_stops_cleanly_on_sigint";
    if !require_root(name) {
        return;
    }
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut live = Command::new(tool("tcpstat"))
        .args(["-i", "lo", "--interval", "1", "--filter"])
        .arg(format!("tcp port {port}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = testsupport::Lines::new(live.stdout.take().unwrap());
    let pid = live.id();
    testsupport::wait_ready(&mut live, "tcpstat's filtered capture on lo", || {
        testsupport::capture_ready(pid, true)
    });
    // 50 000 bytes, then SIGINT at once: the summary printed on the signal reports them
    // (or, on a slow machine, an interval's summary did just before).
    {
        use std::io::{Read, Write};
        let mut c = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let (mut a, _) = listener.accept().unwrap();
        c.write_all(&[7u8; 50_000]).unwrap();
        drop(c);
        let mut buf = Vec::new();
        a.read_to_end(&mut buf).unwrap();
        assert_eq!(buf.len(), 50_000);
    }
    let kill = Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let mut exited = None;
    testsupport::wait_until(Duration::from_secs(10), "tcpstat to stop on SIGINT", || {
        exited = live.try_wait().unwrap();
        exited.is_some()
    });
    let status = exited.unwrap();
    let lines = out.finish();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut live.stderr.take().unwrap(), &mut err).unwrap();
    let text = lines.join("\n");
    // Killed by the signal before: no exit code, and the last interval's packets lost.
    assert_eq!(
        status.code(),
        Some(0),
        "{status}; stdout: {text}; stderr: {err}"
    );
    assert!(err.is_empty(), "{err}");
    let summaries: Vec<&String> = lines.iter().filter(|l| l.starts_with('[')).collect();
    assert!(!summaries.is_empty(), "no summary: {text}");
    // Every line is a summary or one of its connections.
    assert!(
        lines
            .iter()
            .all(|l| l.starts_with('[') || l.starts_with("  #")),
        "{text}"
    );
    // The connection's lines together count every byte of the exchange.
    let conn: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains(&format!("-> 127.0.0.1:{port} ")))
        .collect();
    assert!(!conn.is_empty(), "the connection is missing: {text}");
    let wire: u64 = conn
        .iter()
        .map(|l| {
            l.split(" pkts ")
                .nth(1)
                .and_then(|r| r.split(" B").next())
                .and_then(|b| b.parse::<u64>().ok())
                .unwrap_or_else(|| panic!("no byte count in {l}"))
        })
        .sum();
    assert!(wire > 50_000, "{wire} bytes reported: {text}");
}
