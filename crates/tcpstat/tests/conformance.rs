//! tcpstat against tshark on every CNP3 trace (scripts/conformance): exactly the expected
//! traces compared, every flag identical on every frame, the documented exceptions (none
//! today) still occurring; the script's failures on a changed flag and a stale exception; and
//! tcpstat's behaviour on damaged input.

// Helpers outside #[test] fns too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::process::Command;

use testsupport::{require_peer, shared_traces, tool, workspace_root};

/// The CNP3 traces in which tshark sees TCP, all of which the script must compare.
const TCP_TRACES: [&str; 12] = testsupport::CNP3_TCP_TRACES;

/// The CNP3 traces without a TCP packet (OSPFv3, RIPng, STP), skipped by name.
const NON_TCP_TRACES: [&str; 3] = [
    "ospf6-r1-trace.pcap",
    "ripng-r1-trace.pcap",
    "stp-s1-trace.pcap",
];

/// Every per-flag line of the summary over the CNP3 traces: the number of frames both tools
/// flag (then the Jaccard index must be exactly 1.0000: as many frames in the union), or None
/// when neither flags any frame (tshark 4.0.17).
const CNP3_FLAGS: [(&str, Option<u32>); 16] = [
    ("retransmission", Some(10)),
    ("fast_retransmission", Some(2)),
    ("spurious_retransmission", None),
    ("out_of_order", Some(27)),
    ("lost_segment", Some(27)),
    ("ack_lost_segment", None),
    ("duplicate_ack", Some(140)),
    ("zero_window", Some(22)),
    ("zero_window_probe", None),
    ("zero_window_probe_ack", None),
    ("window_update", Some(10)),
    ("window_full", Some(6)),
    ("keep_alive", Some(18)),
    ("keep_alive_ack", None),
    ("dup_ack_num", Some(140)),
    ("ack_rtt_frames", Some(871)),
];

/// Runs scripts/conformance with `args`; its exit code, stdout and stderr.
fn conformance(
    args: &[&std::ffi::OsStr],
    env: &[(&str, &std::ffi::OsStr)],
) -> (i32, String, String) {
    let out = Command::new(workspace_root().join("scripts/conformance"))
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("run scripts/conformance");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let err = String::from_utf8_lossy(&out.stderr);
    if !err.is_empty() {
        eprintln!("scripts/conformance stderr:\n{err}");
    }
    (out.status.code().unwrap_or(-1), text, err.into_owned())
}

/// The names after `prefix` on the summary line that starts with it (`compared N traces: a, b`).
fn listed<'a>(text: &'a str, prefix: &str) -> Vec<&'a str> {
    let line = text
        .lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starting with {prefix:?} in:\n{text}"));
    match line.split_once(": ") {
        Some((_, names)) => names.split(", ").collect(),
        None => Vec::new(),
    }
}

/// The fields of the per-flag summary line of `flag` (exact name, not a prefix).
fn flag_line<'a>(text: &'a str, flag: &str) -> Vec<&'a str> {
    let line = text
        .lines()
        .filter(|l| l.starts_with("  "))
        .find(|l| l.split_whitespace().next() == Some(flag))
        .unwrap_or_else(|| panic!("no per-flag line for {flag} in:\n{text}"));
    line.split_whitespace().collect()
}

#[test]
fn conformance_with_tshark_on_cnp3_traces() {
    let name = "conformance_with_tshark_on_cnp3_traces";
    let Some(_dir) = shared_traces(name) else {
        return;
    };
    if !require_peer(name, "tshark") || !require_peer(name, "python3") {
        return;
    }
    let (code, text, _) = conformance(
        &[
            "--quiet".as_ref(),
            "--tcpstat".as_ref(),
            tool("tcpstat").as_os_str(),
        ],
        &[],
    );
    assert_eq!(code, 0, "conformance failed:\n{text}");
    assert!(text.ends_with("\nall checks passed\n"), "{text}");

    // Exactly these traces were compared, and exactly these skipped as non-TCP.
    assert_eq!(
        text.lines().find(|l| l.starts_with("compared ")).unwrap(),
        format!(
            "compared {} traces: {}",
            TCP_TRACES.len(),
            TCP_TRACES.join(", ")
        ),
    );
    assert_eq!(listed(&text, "compared "), TCP_TRACES);
    assert_eq!(listed(&text, "skipped "), NON_TCP_TRACES);
    assert!(
        text.contains(&format!(
            "per-flag Jaccard over {} traces",
            TCP_TRACES.len()
        )),
        "{text}"
    );

    // Every flag: exactly 1.0000 with |tcpstat & tshark| = |tcpstat | tshark| = n frames, or
    // flagged by neither tool; no exception used (none would show as "raw ... excepted").
    for (flag, n) in CNP3_FLAGS {
        let fields = flag_line(&text, flag);
        match n {
            Some(n) => assert_eq!(fields[1..], ["1.0000", &format!("({n}/{n})")], "{flag}"),
            None => assert_eq!(
                fields[1..],
                ["-", "(no", "frame", "flagged", "by", "either)"]
            ),
        }
    }

    // The exceptions of docs/tcpstat.md: each one is for a CNP3 trace and still occurs.
    let line = text
        .lines()
        .find(|l| l.starts_with("exceptions (docs/tcpstat.md): "))
        .unwrap_or_else(|| panic!("no exceptions line in:\n{text}"));
    let n: Vec<&str> = line
        .split_whitespace()
        .filter(|w| w.parse::<u32>().is_ok())
        .collect();
    assert!(n.len() == 3 && n[0] == n[1] && n[1] == n[2], "{line}");

    // docs/tcpstat.md shows this very summary.
    let doc = std::fs::read_to_string(workspace_root().join("docs/tcpstat.md")).unwrap();
    let cmd = "$ scripts/conformance --quiet | sed -n '/^compared/,$p'";
    let shown: Vec<&str> = doc
        .lines()
        .skip_while(|l| *l != cmd)
        .skip(1)
        .take_while(|l| *l != "```")
        .collect();
    let printed: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("compared "))
        .collect();
    assert_eq!(
        shown, printed,
        "docs/tcpstat.md's `{cmd}` block differs from the output"
    );
}

/// A tcpstat that drops `zero_window` from frame 20 and adds `zero_window_probe` to frame 21
/// of whatever it analyses (trace9: 20 is a zero window, 21 a plain ACK from the client).
const CHANGED_TCPSTAT: &str = r#"#!/usr/bin/env python3
import json, os, subprocess, sys
p = subprocess.run([os.environ["REAL_TCPSTAT"]] + sys.argv[1:], stdout=subprocess.PIPE)
if p.returncode or sys.argv[1:2] != ["packets"]:
    sys.stdout.buffer.write(p.stdout)
    sys.exit(p.returncode)
for line in p.stdout.decode().splitlines():
    r = json.loads(line)
    if r.get("frame") == 20:
        r["flags"].remove("zero_window")
    if r.get("frame") == 21:
        r["flags"].append("zero_window_probe")
    print(json.dumps(r))
"#;

fn exceptions_file(name: &str, lines: &[&str]) -> std::path::PathBuf {
    let p = tmp(name);
    let body = format!(
        "Exceptions for a test.\n\n```conformance-exceptions\n# trace frame check only why\n{}```\n",
        lines.iter().map(|l| format!("{l}\n")).collect::<String>()
    );
    std::fs::write(&p, body).unwrap();
    p
}

#[test]
fn changed_flags_and_stale_exceptions_fail() {
    use std::os::unix::fs::PermissionsExt;
    let name = "changed_flags_and_stale_exceptions_fail";
    let Some(dir) = shared_traces(name) else {
        return;
    };
    if !require_peer(name, "tshark") || !require_peer(name, "python3") {
        return;
    }
    let trace9 = dir.join("trace9.pcap");
    let changed = tmp("changed-tcpstat");
    std::fs::write(&changed, CHANGED_TCPSTAT).unwrap();
    std::fs::set_permissions(&changed, std::fs::Permissions::from_mode(0o755)).unwrap();
    let real = tool("tcpstat");
    let env = [("REAL_TCPSTAT", real.as_os_str())];
    let run =
        |tcpstat: &std::path::Path, exceptions: &std::path::Path, extra: &[&std::path::Path]| {
            let mut args: Vec<&std::ffi::OsStr> = vec![
                "--quiet".as_ref(),
                "--tcpstat".as_ref(),
                tcpstat.as_os_str(),
                "--exceptions".as_ref(),
                exceptions.as_os_str(),
            ];
            args.extend(extra.iter().map(|p| p.as_os_str()));
            args.push(trace9.as_os_str());
            conformance(&args, &env)
        };
    let removed = "trace9.pcap 20 zero_window tshark the test's tcpstat drops it";
    let added = "trace9.pcap 21 zero_window_probe tcpstat the test's tcpstat adds it";

    // One flag fewer and one more: both fail, by exact flag name and frame (frame 21's new
    // zero_window_probe is not a zero_window).
    let none = exceptions_file("none.md", &[]);
    let (code, text, _) = run(&changed, &none, &[]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains(
            "FAIL flag zero_window J=0.9545 (tshark 22, tcpstat 21) only tshark 1: frames 20\n"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "FAIL flag zero_window_probe J=0.0000 (tshark 0, tcpstat 1) only tcpstat 1: frames 21\n"
        ),
        "{text}"
    );
    assert_eq!(flag_line(&text, "zero_window")[1..], ["0.9545", "(21/22)"]);
    assert!(text.contains("\n2 FAILURES:\n"), "{text}");

    // Listed as exceptions, exactly those two differences are accepted; the line shows the
    // raw figure too.
    let both = exceptions_file("both.md", &[removed, added]);
    let (code, text, _) = run(&changed, &both, &[]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(
        flag_line(&text, "zero_window")[1..],
        [
            "1.0000", "(21/21)", "raw", "0.9545", "(21/22),", "1", "excepted"
        ]
    );
    assert!(
        text.contains("exceptions (")
            && text.contains("): 2 listed, 2 for the traces compared, 2 occurred\n"),
        "{text}"
    );

    // An exception that does not occur is stale: a failure, even though all else matches.
    let stale = "trace9.pcap 22 zero_window tshark does not happen";
    let three = exceptions_file("three.md", &[removed, added, stale]);
    let (code, text, _) = run(&changed, &three, &[]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains(
            "trace9.pcap: exception no longer occurs: frame 22 zero_window only tshark ("
        ),
        "{text}"
    );
    assert!(text.contains("\n1 FAILURES:\n"), "{text}");

    // With the real tcpstat (the differences fixed) both exceptions are stale.
    let (code, text, _) = run(&real, &both, &[]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("exception no longer occurs: frame 20 zero_window only tshark"),
        "{text}"
    );
    assert!(
        text.contains("exception no longer occurs: frame 21 zero_window_probe only tcpstat"),
        "{text}"
    );

    // The wrong side is no excuse: an exception says tcpstat alone flags frame 20, but tshark
    // alone does: the difference fails and the exception is stale.
    let wrong = exceptions_file(
        "wrong.md",
        &["trace9.pcap 20 zero_window tcpstat wrong side", added],
    );
    let (code, text, _) = run(&changed, &wrong, &[]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("FAIL flag zero_window J=0.9545"), "{text}");
    assert!(
        text.contains("exception no longer occurs: frame 20 zero_window only tcpstat"),
        "{text}"
    );

    // A trace given but not compared (no TCP in it) cannot hold an exception; one given on the
    // command line is named in the summary as skipped.
    let ospf = dir.join("ospf6-r1-trace.pcap");
    let other = exceptions_file(
        "other.md",
        &["ospf6-r1-trace.pcap 3 keep_alive tshark no TCP here"],
    );
    let (code, text, _) = run(&real, &other, &[&ospf]);
    assert_eq!(code, 1, "{text}");
    assert_eq!(listed(&text, "compared "), ["trace9.pcap"]);
    assert_eq!(listed(&text, "skipped "), ["ospf6-r1-trace.pcap"]);
    assert!(
        text.contains(
            "ospf6-r1-trace.pcap: exception names a trace that was not compared: frame 3"
        ),
        "{text}"
    );

    // A malformed list is a usage error, not a pass.
    for bad in [
        "trace9.pcap x zero_window tshark why",
        "trace9.pcap 20 zero_windows tshark why",
        "trace9.pcap 20 zero_window both why",
        "trace9.pcap 20 zero_window tshark",
    ] {
        let f = exceptions_file("bad.md", &[bad]);
        let (code, _, err) = run(&real, &f, &[]);
        assert_eq!(code, 2, "{bad}: {err}");
        assert!(err.contains("bad exception list"), "{err}");
    }
    let nofence = tmp("nofence.md");
    std::fs::write(&nofence, "no block here\n").unwrap();
    assert_eq!(run(&real, &nofence, &[]).0, 2);

    for f in [changed, none, both, three, wrong, other, nofence] {
        let _ = std::fs::remove_file(f);
    }
    let _ = std::fs::remove_file(tmp("bad.md"));
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
