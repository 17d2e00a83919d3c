//! tcpstat against tshark on captures the lab makes itself (scripts/conformance-lab): reno,
//! cubic and bbr, 2 and 30 ms delays, loss on data and on ACKs, reordering, each captured at
//! the sender and at the receiver — kinds of traffic the textbook's traces do not hold (a SYN
//! resent within milliseconds, spurious retransmissions by the hundred). Every flag must match
//! on every frame, with no exception.
#![allow(clippy::unwrap_used)]

use std::process::Command;

use testsupport::{require_peer, require_root, tool, workspace_root};

#[test]
fn every_flag_matches_tshark_on_fresh_lab_captures() {
    let test = "every_flag_matches_tshark_on_fresh_lab_captures";
    if !require_root(test)
        || !["tshark", "python3", "nstat"]
            .iter()
            .all(|p| require_peer(test, p))
    {
        return;
    }
    let linkem = tool("linkem");
    let out = Command::new(workspace_root().join("scripts/conformance-lab"))
        .env("TCPSTAT", tool("tcpstat"))
        .env("NETLAB_BIN", linkem.parent().unwrap())
        .env("NETLAB_PREFIX", format!("t{}c", std::process::id()))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Two captures of four cells for the plain grid, and for each congestion control here.
    let available =
        std::fs::read_to_string("/proc/sys/net/ipv4/tcp_available_congestion_control").unwrap();
    let ccs = ["reno", "cubic", "bbr"]
        .iter()
        .filter(|cc| available.split_whitespace().any(|a| a == **cc))
        .count();
    let traces = 8 * (1 + ccs);
    assert!(
        stdout.contains(&format!("compared {traces} traces")),
        "{stdout}"
    );
    assert!(stdout.contains("all checks passed"), "{stdout}");
    // The captures hold what they are for: retransmissions of every kind were compared.
    for flag in [
        "retransmission",
        "fast_retransmission",
        "spurious_retransmission",
        "out_of_order",
    ] {
        let line = stdout
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{flag} ")))
            .unwrap();
        assert!(line.contains("1.0000"), "{line}");
    }
}
