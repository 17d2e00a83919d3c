//! Real UDP transfers with the two programs, `--loss 0.1 --delay 5 --jitter 5` on both
//! sides, 10 MB, sha256 of input and output equal: on loopback, and in the namespace lab
//! (sender in brooklyn → receiver in midwood).

// Helpers outside #[test] fns too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sha2::{Digest, Sha256};
use testsupport::{Lab, bound_by, require_root, tool, wait_ready};

const IMPAIR: [&str; 8] = [
    "--loss",
    "0.1",
    "--delay",
    "5",
    "--jitter",
    "5",
    "--timeout",
    "60",
];

fn input(dir: &Path, size: usize) -> PathBuf {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let data: Vec<u8> = (0..size)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    let p = dir.join("in.bin");
    std::fs::write(&p, data).unwrap();
    p
}

fn sha(p: &Path) -> Vec<u8> {
    Sha256::digest(std::fs::read(p).unwrap()).to_vec()
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("arq-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Run receiver then sender; `wrap` prefixes the commands (e.g. `ip netns exec NS`).
fn transfer(
    rx_wrap: impl Fn(&Path) -> Command,
    tx_wrap: impl Fn(&Path) -> Command,
    dest: &str,
    port: u16,
    dir: &Path,
    seed: u64,
) {
    let inp = input(dir, 10 * 1024 * 1024);
    let out = dir.join("out.bin");
    let mut rx = rx_wrap(&tool("receiver"))
        .args(IMPAIR)
        .args(["--seed", &seed.to_string(), "-q", &port.to_string(), "7"])
        .arg(&out)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The sender starts once the receiver has its port bound (in its namespace, for the lab).
    let pid = rx.id();
    wait_ready(
        &mut rx,
        &format!("receiver bound to UDP port {port}"),
        || bound_by(pid, "udp", port),
    );
    let tx = tx_wrap(Path::new(env!("CARGO_BIN_EXE_sender")))
        .args(IMPAIR)
        .args([
            "--seed",
            &(seed + 1).to_string(),
            "--json",
            dest,
            &port.to_string(),
            "7",
        ])
        .arg(&inp)
        .output()
        .unwrap();
    let tx_err = String::from_utf8_lossy(&tx.stderr);
    if !tx.status.success() {
        // A receiver that never saw a segment waits for one like a server: stop it, then fail.
        let _ = rx.kill();
        panic!("sender failed: {tx_err}");
    }
    let rx = rx.wait_with_output().unwrap();
    assert!(
        rx.status.success(),
        "receiver failed: {}",
        String::from_utf8_lossy(&rx.stderr)
    );
    assert_eq!(sha(&inp), sha(&out), "sha256 differs");
    let json: serde_json::Value = serde_json::from_slice(&tx.stdout).unwrap();
    // The impairment really dropped ACKs and the engine really retransmitted.
    assert!(
        json["impairment"]["dropped"].as_u64().unwrap() > 100,
        "{json}"
    );
    assert!(
        json["stats"]["retransmits_timeout"].as_u64().unwrap()
            + json["stats"]["retransmits_fast"].as_u64().unwrap()
            > 100
    );
    eprintln!("{tx_err}");
}

#[test]
fn loopback_10mb_lossy_jittery() {
    let dir = scratch("lo");
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    transfer(
        |p| Command::new(p),
        |p| Command::new(p),
        "localhost",
        port,
        &dir,
        11,
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn lab_brooklyn_to_midwood_10mb_lossy_jittery() {
    if !require_root("lab_brooklyn_to_midwood_10mb_lossy_jittery") {
        return;
    }
    let lab = Lab::up("two-hosts");
    let dir = scratch("lab");
    transfer(
        |p| lab.command("midwood", p),
        |p| lab.command("brooklyn", p),
        "192.168.56.102",
        6000,
        &dir,
        21,
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
