//! The test suite's own hygiene, read from the sources: every program a test runs is listed in
//! `scripts/peers` (so `scripts/test` installs it on a fresh machine), and every skip goes through
//! `testsupport::skip` (so `NETLAB_REQUIRE_*` turns it into a failure).

// Helpers outside #[test] fns too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use testsupport::{peers, workspace_root};

/// Every `.rs` file under each crate's `tests/` and `src/` directories.
fn sources() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let crates = workspace_root().join("crates");
    let mut stack: Vec<PathBuf> = std::fs::read_dir(&crates)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    while let Some(p) = stack.pop() {
        if p.is_dir() {
            stack.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// testsupport's own sources: the one place that prints SKIP.
fn own_src() -> PathBuf {
    workspace_root().join("crates/testsupport/src")
}

fn is_test_source(p: &Path) -> bool {
    p.components().any(|c| c.as_os_str() == "tests") || p.starts_with(own_src())
}

/// The string literal that follows each occurrence of `open` in `text` (`Command::new("ip")`
/// gives `ip`); for `.command(` the second argument, the program run inside the namespace.
fn literals_after(text: &str, open: &str, nth_arg: usize) -> Vec<String> {
    let mut out = Vec::new();
    for (i, _) in text.match_indices(open) {
        let rest = &text[i + open.len()..];
        let args: String = rest.chars().take_while(|&c| c != ')').collect();
        if let Some(arg) = args.split(',').nth(nth_arg) {
            let arg = arg.trim();
            if let Some(lit) = arg.strip_prefix('"').and_then(|a| a.strip_suffix('"')) {
                out.push(lit.to_owned());
            }
        }
    }
    out
}

/// The workspace's own binaries (crate names and `src/bin/*.rs`), which tests run via `tool()`.
fn workspace_binaries() -> Vec<String> {
    let mut bins = Vec::new();
    for e in std::fs::read_dir(workspace_root().join("crates")).unwrap() {
        let dir = e.unwrap().path();
        if dir.join("src/main.rs").is_file() {
            bins.push(dir.file_name().unwrap().to_string_lossy().into_owned());
        }
        if let Ok(rd) = std::fs::read_dir(dir.join("src/bin")) {
            for b in rd {
                let p = b.unwrap().path();
                bins.push(p.file_stem().unwrap().to_string_lossy().into_owned());
            }
        }
    }
    bins
}

#[test]
fn every_program_a_test_runs_is_installed_by_scripts_test() {
    let listed: Vec<String> = peers().into_iter().map(|p| p.command).collect();
    let own = workspace_binaries();
    let files: Vec<PathBuf> = sources()
        .into_iter()
        .filter(|p| is_test_source(p))
        .collect();
    let mut seen = 0;
    let mut missing = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let programs = [
            literals_after(&text, "Command::new(", 0),
            literals_after(&text, ".command(", 1),
            literals_after(&text, "require_peer(", 1),
        ]
        .concat();
        for prog in programs {
            seen += 1;
            if !listed.contains(&prog) && !own.contains(&prog) && !prog.starts_with('/') {
                missing.push(format!("{}: {prog}", f.display()));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "programs run by tests but not in scripts/peers: {missing:?}"
    );
    // The scan found what it is meant to find (tests run ip, tcpdump, tshark, python3, …).
    assert!(files.len() >= 20, "only {} test sources found", files.len());
    assert!(seen >= 40, "only {seen} program names found in the tests");
    for p in ["ip", "tcpdump", "tshark", "iperf3", "python3", "nginx"] {
        assert!(listed.iter().any(|l| l == p), "scripts/peers lacks {p}");
    }
}

#[test]
fn scripts_test_installs_from_scripts_peers() {
    let script = std::fs::read_to_string(workspace_root().join("scripts/test")).unwrap();
    assert!(
        script.contains("scripts/peers"),
        "scripts/test must install the peers listed in scripts/peers"
    );
}

#[test]
fn every_skip_goes_through_testsupport() {
    let mut offenders = Vec::new();
    for f in sources() {
        if f.starts_with(own_src()) || f.ends_with("tests/peers.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        for (n, line) in text.lines().enumerate() {
            if line.contains("\"SKIP") {
                offenders.push(format!("{}:{}: {}", f.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "skip through testsupport::skip (it fails under NETLAB_REQUIRE_*), not by hand: {offenders:?}"
    );
}

/// The lab pages' programs: each page of docs/lab names on its `# needs:` line the commands it
/// runs; `scripts/gen-lab-docs --check` runs them in CI, so every one that the workspace does not
/// build is in `scripts/peers`, which `scripts/test` installs.
#[test]
fn every_program_a_lab_page_runs_is_installed_by_scripts_test() {
    let listed: Vec<String> = peers().into_iter().map(|p| p.command).collect();
    let own = workspace_binaries();
    let src = workspace_root().join("docs/lab/src");
    let mut pages = 0;
    let mut missing = Vec::new();
    for e in std::fs::read_dir(&src).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".sh") || name.starts_with('_') {
            continue;
        }
        pages += 1;
        let text = std::fs::read_to_string(&p).unwrap();
        let needs = text
            .lines()
            .find_map(|l| l.strip_prefix("# needs:"))
            .unwrap_or_else(|| panic!("{name} has no `# needs:` line"));
        for prog in needs.split_whitespace() {
            if !listed.iter().any(|l| l == prog) && !own.iter().any(|o| o == prog) {
                missing.push(format!("{name}: {prog}"));
            }
        }
    }
    assert!(pages >= 20, "only {pages} lab pages in {}", src.display());
    assert!(
        missing.is_empty(),
        "programs the lab pages run but not in scripts/peers: {missing:?}"
    );
}
