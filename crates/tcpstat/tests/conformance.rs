//! tcpstat against tshark on every CNP3 trace (scripts/conformance), and its behaviour on
//! damaged input.

// Helpers outside #[test] fns too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::process::Command;

use testsupport::{require_peer, shared_traces, tool, workspace_root};

#[test]
fn conformance_with_tshark_on_cnp3_traces() {
    let Some(_dir) = shared_traces("conformance_with_tshark_on_cnp3_traces") else {
        return;
    };
    if !require_peer("conformance_with_tshark_on_cnp3_traces", "tshark")
        || !require_peer("conformance_with_tshark_on_cnp3_traces", "python3")
    {
        return;
    }
    let out = Command::new(workspace_root().join("scripts/conformance"))
        .arg("--quiet")
        .arg("--tcpstat")
        .arg(tool("tcpstat"))
        .output()
        .expect("run scripts/conformance");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "conformance failed:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("all checks passed"), "{text}");
    // Every flag that the traces exercise is really compared.
    for f in [
        "retransmission",
        "duplicate_ack",
        "out_of_order",
        "zero_window",
        "keep_alive",
    ] {
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with(f))
            .unwrap_or_else(|| panic!("no {f} line in:\n{text}"));
        assert!(line.contains("1.0000") || line.contains("0.99"), "{line}");
    }
}

fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("tcpstat-test-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

#[test]
fn truncated_and_garbage_files_fail_cleanly() {
    let Some(dir) = shared_traces("truncated_and_garbage_files_fail_cleanly") else {
        return;
    };
    let full = std::fs::read(dir.join("trace0.pcap")).unwrap();
    // Cut in the middle of a record: the packets before are analysed, then a clear error.
    let cut = tmp("cut.pcap");
    std::fs::write(&cut, &full[..full.len() / 2 + 7]).unwrap();
    let out = Command::new(tool("tcpstat"))
        .arg("-r")
        .arg(&cut)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a cut file must not succeed");
    assert!(err.starts_with("error: "), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(!err.contains("panicked"), "{err}");
    // Not a capture at all.
    let junk = tmp("junk.pcap");
    std::fs::write(&junk, b"this is not a pcap file at all, just text\n").unwrap();
    let out = Command::new(tool("tcpstat"))
        .arg("-r")
        .arg(&junk)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("junk.pcap"), "{err}");
    // Missing file and missing -r.
    let out = Command::new(tool("tcpstat"))
        .arg("-r")
        .arg(tmp("nope.pcap"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let out = Command::new(tool("tcpstat")).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn every_prefix_of_a_trace_is_handled_without_panic() {
    let Some(dir) = shared_traces("every_prefix_of_a_trace_is_handled_without_panic") else {
        return;
    };
    let full = std::fs::read(dir.join("trace.sirius.info.ucl.ac.be.pcap")).unwrap();
    let p = tmp("prefix.pcap");
    for len in (0..full.len()).step_by(97) {
        std::fs::write(&p, &full[..len]).unwrap();
        for cmd in [&["conns"][..], &["packets", "--json"], &["diagnose"]] {
            let out = Command::new(tool("tcpstat"))
                .args(cmd)
                .arg("-r")
                .arg(&p)
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(!err.contains("panicked"), "len {len}: {err}");
            assert!(matches!(out.status.code(), Some(0..=3)), "len {len}: {err}");
        }
    }
}

fn tcpstat(args: &[&str]) -> String {
    let out = Command::new(tool("tcpstat")).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "tcpstat {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn trace_questions_are_answered() {
    let Some(dir) = shared_traces("trace_questions_are_answered") else {
        return;
    };
    let t = |name: &str| dir.join(name).to_string_lossy().into_owned();

    // trace9: the application, because the receiver keeps its window closed.
    let out = tcpstat(&["diagnose", "--json", "-r", &t("trace9.pcap")]);
    let recs: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let summary = recs.iter().find(|r| r["type"] == "summary").unwrap();
    assert_eq!(summary["culprit"], "application", "{out}");
    let zw = recs
        .iter()
        .find(|r| r["type"] == "finding" && r["text"].as_str().unwrap().contains("zero window"))
        .unwrap_or_else(|| panic!("{out}"));
    assert_eq!(zw["culprit"], "application");
    assert_eq!(
        zw["frames"][0], 18,
        "the first zero window is frame 18: {zw}"
    );

    // The five refused connections.
    let out = tcpstat(&["--json", "-r", &t("trace.5connections.pcap")]);
    let states: Vec<String> = out
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|r| r["type"] == "connection")
        .map(|r| r["state"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(states, vec!["REJ"; 5]);

    // The TCB of 130.104.78.8 after it sent its SSH banner (frame 32).
    let out = tcpstat(&[
        "tcb",
        "--json",
        "-r",
        &t("trace.sirius.info.ucl.ac.be.pcap"),
        "--frame",
        "32",
        "--host",
        "130.104.78.8",
    ]);
    let tcb: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(tcb["state"], "ESTABLISHED");
    assert_eq!(tcb["local"], "130.104.78.8:22");
    assert_eq!(tcb["rel"]["snd_nxt"], 21);
    assert_eq!(tcb["rel"]["snd_una"], 1);
    assert_eq!(tcb["snd_wnd"], 524_280, "65535 << 3");

    // The file of trace0 is RFC 793.
    let out = tcpstat(&[
        "follow",
        "-q",
        "--detect",
        "-r",
        &t("trace0.pcap"),
        "--conn",
        "0",
    ]);
    assert!(
        out.contains("RFC: 793") && out.contains("168178 bytes"),
        "{out}"
    );

    // One fast and one timeout retransmission in trace3, with their reasons.
    let out = tcpstat(&["packets", "--json", "-r", &t("trace3.pcap")]);
    let kind = |frame: u64| {
        out.lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .find(|r| r["frame"] == frame)
            .map(|r| r["retrans_kind"].clone())
            .unwrap()
    };
    assert_eq!(kind(74), "fast");
    assert_eq!(kind(76), "timeout");

    // A time-sequence graph as SVG with its legend.
    let svg = std::env::temp_dir().join(format!("tcpstat-tsg-{}.svg", std::process::id()));
    tcpstat(&[
        "graph",
        "-r",
        &t("trace3.pcap"),
        "--conn",
        "0",
        "--kind",
        "tsg",
        "-o",
        svg.to_str().unwrap(),
    ]);
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(
        text.starts_with("<svg")
            && text.contains("retransmission")
            && text.contains("duplicate ACK")
    );
    let _ = std::fs::remove_file(&svg);
}
