//! What the CLI tests share: running a built binary (`testsupport::tool`) with a deadline.

// Each test file uses only part of this.
#![allow(dead_code)]

use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How one run ended.
#[derive(Debug)]
pub struct Run {
    /// The exit code, when it exited.
    pub code: Option<i32>,
    /// The signal that ended it (SIGKILL when we killed it).
    pub signal: Option<i32>,
    /// We killed it: at the deadline, or when it printed `stop_on`.
    pub killed: bool,
    /// It printed `stop_on` (a server announcing that it listens) before it ended.
    pub announced: bool,
    pub stderr: String,
}

impl Run {
    /// True when stderr shows a Rust panic.
    pub fn panicked(&self) -> bool {
        self.stderr.contains("panicked")
    }
}

/// Run `tool` with `args` (stdin and stdout to /dev/null), killing it at `deadline`, or as soon
/// as a stderr line contains `stop_on` (when given).
pub fn run(tool: &str, args: &[OsString], deadline: Duration, stop_on: Option<&str>) -> Run {
    let mut child = Command::new(testsupport::tool(tool))
        .args(args)
        .env_remove("RUST_LOG")
        .env_remove("RUST_BACKTRACE")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {tool}: {e}"));
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = lines.clone();
    let mut err = BufReader::new(child.stderr.take().expect("piped stderr"));
    let reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match err.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => sink
                    .lock()
                    .expect("stderr lock")
                    .push(String::from_utf8_lossy(&buf).into_owned()),
            }
        }
    });
    let end = Instant::now() + deadline;
    let mut killed = false;
    let announced = |l: &Mutex<Vec<String>>| {
        stop_on.is_some_and(|s| l.lock().expect("stderr lock").iter().any(|x| x.contains(s)))
    };
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait") {
            break st;
        }
        if Instant::now() >= end || announced(&lines) {
            // A panic printed right after the announcement must still be seen.
            std::thread::sleep(Duration::from_millis(50));
            if let Some(st) = child.try_wait().expect("wait") {
                break st;
            }
            let _ = child.kill();
            killed = true;
            break child.wait().expect("wait");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let _ = reader.join();
    let announced = announced(&lines);
    let stderr = lines.lock().expect("stderr lock").concat();
    Run {
        code: status.code(),
        signal: status.signal(),
        killed,
        announced,
        stderr,
    }
}

/// A fresh scratch directory for this test process.
pub fn scratch(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("netcli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).expect("create scratch dir");
    d
}

/// A valid, empty pcap file (Ethernet link type, no packet).
pub fn empty_pcap() -> Vec<u8> {
    use testsupport::pcap::{ETHERNET, PcapWriter};
    PcapWriter::new(ETHERNET).into_bytes()
}

/// `OsString`s of string literals.
pub fn os(args: &[&str]) -> Vec<OsString> {
    args.iter().map(OsString::from).collect()
}
