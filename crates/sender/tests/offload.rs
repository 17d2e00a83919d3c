//! The two I/O paths of the driver with the real programs: UDP GSO/GRO (a window per system
//! call, one ACK per received batch) and one datagram per call, forced with
//! `NETLAB_ARQ_OFFLOAD=off`, in every combination of the two sides (each must interoperate
//! with a peer that sends one datagram at a time); and in the namespace lab: through veths
//! with the offloads off, and with an MTU below the segment size, where the kernel refuses
//! GSO and the sender must fall back without failing.

// Helpers outside #[test] fns too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use testsupport::{Lab, bound_by, require_root, tool, wait_ready};

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("arq-off-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn free_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One lossless 2 MB transfer; returns the sender's and the receiver's JSON records.
fn transfer(
    rx_wrap: impl Fn(&Path) -> Command,
    tx_wrap: impl Fn(&Path) -> Command,
    dest: &str,
    port: u16,
    dir: &Path,
    tx_offload: bool,
    rx_offload: bool,
) -> (serde_json::Value, serde_json::Value) {
    let data: Vec<u8> = (0..2_000_123u32).map(|i| (i * 31 % 253) as u8).collect();
    let inp = dir.join("in.bin");
    std::fs::write(&inp, &data).unwrap();
    let out = dir.join("out.bin");
    let _ = std::fs::remove_file(&out);
    let env = |on: bool| if on { "on" } else { "off" };
    let mut rx = rx_wrap(&tool("receiver"))
        .env("NETLAB_ARQ_OFFLOAD", env(rx_offload))
        .args(["-q", "--json", &port.to_string(), "7"])
        .arg(&out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = rx.id();
    wait_ready(
        &mut rx,
        &format!("receiver bound to UDP port {port}"),
        || bound_by(pid, "udp", port),
    );
    let tx = tx_wrap(Path::new(env!("CARGO_BIN_EXE_sender")))
        .env("NETLAB_ARQ_OFFLOAD", env(tx_offload))
        .args(["-q", "--json", dest, &port.to_string(), "7"])
        .arg(&inp)
        .output()
        .unwrap();
    if !tx.status.success() {
        let _ = rx.kill();
        panic!("sender failed: {}", String::from_utf8_lossy(&tx.stderr));
    }
    let rx = rx.wait_with_output().unwrap();
    assert!(
        rx.status.success(),
        "receiver failed: {}",
        String::from_utf8_lossy(&rx.stderr)
    );
    assert!(std::fs::read(&out).unwrap() == data, "output differs");
    (
        serde_json::from_slice(&tx.stdout).unwrap(),
        serde_json::from_slice(&rx.stdout).unwrap(),
    )
}

fn n(v: &serde_json::Value) -> u64 {
    v.as_u64().unwrap()
}

fn loopback(tx_offload: bool, rx_offload: bool) -> (serde_json::Value, serde_json::Value) {
    let dir = scratch(&format!("lo-{tx_offload}-{rx_offload}"));
    let port = free_port();
    let r = transfer(
        |p| Command::new(p),
        |p| Command::new(p),
        "127.0.0.1",
        port,
        &dir,
        tx_offload,
        rx_offload,
    );
    std::fs::remove_dir_all(&dir).unwrap();
    r
}

#[test]
fn gso_and_gro_on_loopback() {
    let (tx, rx) = loopback(true, true);
    let (to, ro) = (&tx["offload"], &rx["offload"]);
    if !to["fallback"].is_null() {
        // A kernel without UDP_SEGMENT: the fallback carried the transfer; nothing to check.
        testsupport::skip(
            testsupport::Need::Peers,
            "gso_and_gro_on_loopback",
            &format!("this kernel refuses UDP GSO ({})", to["fallback"]),
        );
        return;
    }
    assert_eq!(to["gso"], true, "{to}");
    assert!(n(&to["gso_batches"]) > 0, "{to}");
    // A window per call: far fewer send calls than DATA datagrams.
    assert!(n(&to["send_calls"]) * 3 < n(&to["datagrams_sent"]), "{to}");
    // The receiver got the windows coalesced and answered each with one ACK.
    assert_eq!(ro["gro"], true, "{ro}");
    assert!(n(&ro["gro_batches"]) > 0, "{ro}");
    assert!(
        n(&rx["stats"]["acks_sent"]) * 3 < n(&rx["stats"]["data_received"]),
        "{rx}"
    );
}

#[test]
fn one_datagram_per_call_when_forced_off() {
    let (tx, rx) = loopback(false, false);
    let (to, ro) = (&tx["offload"], &rx["offload"]);
    for o in [to, ro] {
        assert_eq!(o["gso"], false, "{o}");
        assert_eq!(o["gro"], false, "{o}");
        assert_eq!(o["gso_batches"], 0, "{o}");
        assert_eq!(o["send_calls"], o["datagrams_sent"], "{o}");
        assert_eq!(o["fallback"], "NETLAB_ARQ_OFFLOAD=off", "{o}");
    }
    // One ACK for every DATA, as the protocol sheet's receiver does.
    assert_eq!(
        rx["stats"]["acks_sent"], rx["stats"]["data_received"],
        "{rx}"
    );
}

#[test]
fn offload_on_one_side_only() {
    // A sender sending one datagram per call to a GRO receiver, and a GSO sender to a
    // receiver reading one datagram per call (the kernel splits the batch on delivery).
    let (_, rx) = loopback(false, true);
    assert_eq!(rx["offload"]["gro_batches"], 0, "{rx}");
    let (tx, rx) = loopback(true, false);
    assert_eq!(rx["offload"]["gro_batches"], 0, "{rx}");
    if tx["offload"]["fallback"].is_null() {
        assert!(n(&tx["offload"]["gso_batches"]) > 0, "{tx}");
    }
}

#[test]
fn lab_gso_through_veth_and_refused_gso_falls_back() {
    if !require_root("lab_gso_through_veth_and_refused_gso_falls_back") {
        return;
    }
    let lab = Lab::up("two-hosts");
    let dir = scratch("lab");
    let run = |port: u16| {
        transfer(
            |p| lab.command("midwood", p),
            |p| lab.command("brooklyn", p),
            "192.168.56.102",
            port,
            &dir,
            true,
            true,
        )
    };
    // The lab's veths have GSO and GRO off: the kernel segments a batch in software before
    // the veth, and the receiver reads single datagrams (one ACK each).
    let (tx, rx) = run(6001);
    eprintln!("lab: sender {}, receiver {}", tx["offload"], rx["offload"]);
    assert_eq!(rx["offload"]["gro_batches"], 0);
    // Seeing every datagram answered on its own, the sender stops batching (measured
    // faster on such a path) after its first GSO_PROBE datagrams.
    let why = tx["offload"]["fallback"].as_str().unwrap_or_default();
    assert!(why.contains("one by one"), "{}", tx["offload"]);
    // An MTU below a DATA segment's 544 bytes: the kernel refuses UDP_SEGMENT (EINVAL: the
    // segment does not fit the MTU); the sender must fall back to one datagram per call
    // (IP fragments them) without failing.
    let ip = lab
        .command("brooklyn", "ip")
        .args(["link", "set", "dev", "eth0", "mtu", "540"])
        .status()
        .unwrap();
    assert!(ip.success());
    let (tx, _) = run(6002);
    std::fs::remove_dir_all(&dir).unwrap();
    let o = &tx["offload"];
    eprintln!("lab, MTU 540: sender {o}");
    assert_eq!(o["gso"], false, "{o}");
    assert!(o["fallback"].as_str().unwrap().contains("refused"), "{o}");
    // At most the one refused GSO call on top of one call per datagram.
    assert!(n(&o["send_calls"]) <= n(&o["datagrams_sent"]) + 1, "{o}");
}
