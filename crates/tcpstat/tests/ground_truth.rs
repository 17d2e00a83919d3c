//! tcpstat scored against ground truth (scripts/ground-truth over scripts/scenario cells):
//! linkem's log of every dropped segment, the sender kernel's counters and its TCP_INFO. From
//! both captures of each cell — at the sender and at the receiver — the vantage must be
//! right, every retransmission tcpstat reports must be a real drop (or spurious by its own
//! account), it must see the drops resent, its fast/timeout split must agree with the kernel,
//! and its path RTT with the kernel's srtt.
#![allow(clippy::unwrap_used)]

use std::process::Command;

use serde_json::Value;
use testsupport::{require_peer, require_root, tool, workspace_root};

#[test]
fn tcpstat_agrees_with_the_emulator_and_the_kernel() {
    let test = "tcpstat_agrees_with_the_emulator_and_the_kernel";
    if !require_root(test) || !["python3", "nstat"].iter().all(|p| require_peer(test, p)) {
        return;
    }
    let dir = std::env::temp_dir().join(format!("netlab-ground-truth-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    testsupport::scenario(
        &dir,
        &[
            "--loss", "5 10", "--delay", "10 100", "--size", "300000", "--seed", "5",
        ],
        "g",
    );
    let out = Command::new(workspace_root().join("scripts/ground-truth"))
        .arg(&dir)
        .arg("--json")
        .env("TCPSTAT", tool("tcpstat"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 8, "4 cells x 2 captures");
    let _ = std::fs::remove_dir_all(&dir);
    for r in &rows {
        assert_eq!(r["vantage_ok"], true, "{r}");
        assert!(r["precision"].as_f64().unwrap() >= 0.99, "{r}");
    }
    let sum = |side: &str, k: &str| -> f64 {
        rows.iter()
            .filter(|r| r["capture"] == side)
            .map(|r| r[k].as_f64().unwrap())
            .sum()
    };
    for (side, min_recall, min_kind) in [("client", 0.99, 0.85), ("server", 0.9, 0.7)] {
        let drops = sum(side, "dropped");
        assert!(drops > 0.0, "the cells lost segments");
        let seen: f64 = rows
            .iter()
            .filter(|r| r["capture"] == side)
            .map(|r| r["recall"].as_f64().unwrap() * r["dropped"].as_f64().unwrap())
            .sum();
        assert!(
            seen / drops >= min_recall,
            "{side}: recall {}",
            seen / drops
        );
        let off: f64 = rows
            .iter()
            .filter(|r| r["capture"] == side)
            .map(|r| (r["fast"].as_f64().unwrap() - r["kernel_fast"].as_f64().unwrap()).abs())
            .sum();
        let kind = 1.0 - off / sum(side, "kernel_retrans");
        assert!(kind >= min_kind, "{side}: fast vs kernel {kind}");
        for r in rows.iter().filter(|r| r["capture"] == side) {
            let err = r["rtt_error"].as_f64().unwrap().abs();
            assert!(err <= 0.35, "{side}: path RTT off by {err}: {r}");
        }
    }
}
