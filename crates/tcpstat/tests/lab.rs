//! Conformance on a lossy capture the project makes itself: bulk flows in the namespace lab
//! with nftables loss, offloads off, captured by tcpdump, then tcpstat vs tshark.

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
