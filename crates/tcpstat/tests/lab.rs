//! Conformance on a lossy capture the project makes itself: bulk flows in the namespace lab
//! with nftables loss, offloads off, captured by tcpdump, then tcpstat vs tshark; and the live
//! mode (`tcpstat -i`) on loopback: its summaries, its options, its stop on SIGINT.

use std::process::{Command, Stdio};
use std::time::Duration;

use testsupport::{Lab, require_peer, require_root, tool, workspace_root};

#[test]
fn lossy_lab_capture_conforms_to_tshark() {
    let name = "lossy_lab_capture_conforms_to_tshark";
    if !require_root(name) {
        return;
    }
    for peer in ["tshark", "tcpdump", "iperf3", "python3"] {
        if !require_peer(name, peer) {
            return;
        }
    }
    let lab = Lab::up("two-hosts");
    let out = lab.script(&["impair", "midwood", "--loss", "2"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = std::env::temp_dir().join(format!("tcpstat-lab-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pcap = dir.join("lossy.pcap");
    // tcpdump writes the file as user tcpdump unless told otherwise.
    let mut dump = lab
        .command("brooklyn", "tcpdump")
        .args(["-i", "eth0", "-n", "-U", "-Z", "root", "-s", "128", "-w"])
        .arg(&pcap)
        .args(["tcp", "port", "5201"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("tcpdump");
    let mut server = lab
        .command("midwood", "iperf3")
        .args(["-s", "-1", "-p", "5201"])
        .stdout(Stdio::null())
        .spawn()
        .expect("iperf3 -s");
    std::thread::sleep(Duration::from_millis(1500));
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
    std::thread::sleep(Duration::from_millis(500));
    let _ = Command::new("kill")
        .arg("-INT")
        .arg(dump.id().to_string())
        .status();
    let _ = dump.wait();

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
        "conformance on the lab capture failed:\n{text}"
    );
    // The loss really happened and was seen.
    let r = text
        .lines()
        .find(|l| l.trim_start().starts_with("retransmission "))
        .unwrap_or("");
    assert!(
        !r.contains("no frame"),
        "no retransmission in a 2% loss capture:\n{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn live_mode_reports_a_loopback_connection() {
    let name = "live_mode_reports_a_loopback_connection";
    if !require_root(name) {
        return;
    }
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let live = Command::new(tool("tcpstat"))
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
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(800));
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
    assert!(out.status.success());
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
