//! tcpstat against tshark on every CNP3 trace (scripts/conformance), and its behaviour on
//! damaged input.

use std::process::Command;

use netproto::testsupport::{require_peer, shared_traces, tool, workspace_root};

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
