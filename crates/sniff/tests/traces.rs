//! `sniff -r X --json` against tshark on every CNP3 trace, field by field, its TCP flag letters
//! against tcpdump's, its default lines against tcpdump's, and the routing and STP traces
//! decoding without error. Every test knows exactly which traces it reads ([`TRACES`]) and
//! how many frames it compared, so a trace that vanishes (or stops being read) fails.

// Helpers outside #[test] fns too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use testsupport::{require_peer, shared_traces, tool};

/// Every trace of the shared directory with its number of frames and of TCP frames (counted
/// independently: `capinfos -c FILE` and `tshark -r FILE -Y tcp | wc -l`). Totals: 2670
/// frames, 2504 of them TCP, in 12 traces (all but OSPFv3, RIPng and STP).
#[rustfmt::skip]
const TRACES: [(&str, usize, usize); 15] = [
    // file                                     frames  TCP
    ("bgp-as1-trace.pcap",                        50,    50),
    ("ospf6-r1-trace.pcap",                      100,     0),
    ("ripng-r1-trace.pcap",                       10,     0),
    ("simple-trace.pcap",                         12,    10),
    ("stp-s1-trace.pcap",                         50,     0),
    ("trace.5connections.pcap",                   12,    10),
    ("trace.5connections_opening_closing.pcap",   41,    39),
    ("trace.ipv6.google.com.pcap",               184,   184),
    ("trace.maps.google.com.pcap",              1122,  1122),
    ("trace.sirius.info.ucl.ac.be.pcap",          51,    51),
    ("trace0.pcap",                              233,   233),
    ("trace1.pcap",                              231,   231),
    ("trace2.pcap",                              241,   241),
    ("trace3.pcap",                              252,   252),
    ("trace9.pcap",                               81,    81),
];

/// The traces of [`TRACES`], in its order, after checking that the shared directory holds
/// exactly those (no more, no fewer); empty (with a SKIP line) when the directory is absent.
fn traces(test: &str) -> Vec<std::path::PathBuf> {
    let Some(dir) = shared_traces(test) else {
        return Vec::new();
    };
    let mut present: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".pcap") || n.ends_with(".pcapng"))
        .collect();
    present.sort();
    let expected: Vec<&str> = TRACES.iter().map(|t| t.0).collect();
    assert_eq!(present, expected, "{test}: the traces in {}", dir.display());
    TRACES.iter().map(|t| dir.join(t.0)).collect()
}

/// The file name of `path` and its row of [`TRACES`].
fn row(path: &Path) -> (String, usize, usize) {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let &(_, frames, tcp) = TRACES
        .iter()
        .find(|t| t.0 == name)
        .unwrap_or_else(|| panic!("{name} is not in TRACES"));
    (name, frames, tcp)
}

/// tcpdump's default lines (`-nn`, UTC) for `path`, one per frame on these traces.
fn tcpdump_lines(path: &Path) -> Vec<String> {
    let out = Command::new("tcpdump")
        .args(["-nn", "-r"])
        .arg(path)
        .env("TZ", "UTC")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "tcpdump failed on {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

fn sniff_json(path: &Path) -> Vec<Value> {
    let out = Command::new(tool("sniff"))
        .args(["-q", "--json", "-r"])
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "sniff failed on {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect()
}

const FIELDS: [&str; 13] = [
    "frame.number",
    "ip.src",
    "ipv6.src",
    "ip.dst",
    "ipv6.dst",
    "tcp.srcport",
    "tcp.dstport",
    "tcp.seq_raw",
    "tcp.ack_raw",
    "tcp.len",
    "tcp.flags",
    "udp.srcport",
    "udp.dstport",
];

fn tshark_rows(path: &Path) -> Vec<Vec<String>> {
    let mut c = Command::new("tshark");
    c.arg("-r").arg(path).args([
        "-T",
        "fields",
        "-E",
        "separator=/t",
        // The outer header when an ICMP error quotes an inner one.
        "-E",
        "occurrence=f",
    ]);
    for f in FIELDS {
        c.args(["-e", f]);
    }
    let out = c.output().unwrap();
    assert!(out.status.success(), "tshark failed on {}", path.display());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.split('\t').map(str::to_owned).collect())
        .collect()
}

fn num(v: &Value, k: &str) -> String {
    v.get(k).map_or(String::new(), |x| match x {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        _ => String::new(),
    })
}

#[test]
fn json_fields_equal_tsharks_on_every_trace() {
    let files = traces("json_fields_equal_tsharks_on_every_trace");
    if files.is_empty() || !require_peer("json_fields_equal_tsharks_on_every_trace", "tshark") {
        return;
    }
    let (mut compared, mut tcp_compared, mut files_compared) = (0, 0, 0);
    for path in files {
        let (name, frames, tcp_frames) = row(&path);
        let ours = sniff_json(&path);
        let (summary, packets) = ours.split_last().expect("at least the summary");
        assert_eq!(
            summary["type"], "summary",
            "{name}: last record is the summary"
        );
        let theirs = tshark_rows(&path);
        assert_eq!(theirs.len(), frames, "{name}: tshark's frame count");
        assert_eq!(packets.len(), theirs.len(), "{name}: packet count");
        assert_eq!(
            summary["packets"],
            theirs.len() as u64,
            "{name}: summary count"
        );
        let mut tcp_here = 0;
        for (p, t) in packets.iter().zip(&theirs) {
            let at = |i: usize| t.get(i).cloned().unwrap_or_default();
            let frame = at(0);
            let ctx = format!("{name} frame {frame}");
            assert_eq!(p["type"], "packet", "{ctx}");
            assert_eq!(num(p, "frame"), frame, "{ctx}: frame number");
            let src = if at(1).is_empty() { at(2) } else { at(1) };
            let dst = if at(3).is_empty() { at(4) } else { at(3) };
            assert_eq!(num(p, "src"), src, "{ctx}: src");
            assert_eq!(num(p, "dst"), dst, "{ctx}: dst");
            let is_tcp = !at(5).is_empty();
            let is_udp = !at(11).is_empty();
            if is_tcp {
                assert_eq!(p["proto"], "tcp", "{ctx}");
                assert_eq!(num(p, "sport"), at(5), "{ctx}: sport");
                assert_eq!(num(p, "dport"), at(6), "{ctx}: dport");
                assert_eq!(num(p, "seq"), at(7), "{ctx}: seq");
                // tshark shows tcp.ack_raw only when the ACK flag is set.
                if !at(8).is_empty() {
                    assert_eq!(num(p, "ack"), at(8), "{ctx}: ack");
                }
                assert_eq!(num(p, "payload_len"), at(9), "{ctx}: tcp.len");
                let flags = u16::from_str_radix(at(10).trim_start_matches("0x"), 16).unwrap();
                assert_eq!(p["flags_raw"], flags, "{ctx}: tcp.flags");
                // The letters are compared with tcpdump's own in json_flag_letters_equal_tcpdumps.
                tcp_here += 1;
            } else if is_udp {
                assert_eq!(p["proto"], "udp", "{ctx}");
                assert_eq!(num(p, "sport"), at(11), "{ctx}: udp sport");
                assert_eq!(num(p, "dport"), at(12), "{ctx}: udp dport");
            } else {
                assert!(
                    p.get("sport").is_none(),
                    "{ctx}: no ports where tshark has none"
                );
            }
            compared += 1;
        }
        assert_eq!(tcp_here, tcp_frames, "{name}: TCP frames compared");
        tcp_compared += tcp_here;
        files_compared += 1;
    }
    eprintln!(
        "compared {compared} packets ({tcp_compared} TCP) of {files_compared} traces with tshark"
    );
    assert_eq!(
        (files_compared, compared, tcp_compared),
        (15, 2670, 2504),
        "(traces, frames, TCP frames) compared with tshark"
    );
}

/// tcpdump's flag letters on a TCP line: what is inside the brackets after `Flags `.
fn tcpdump_flags(line: &str) -> Option<&str> {
    let rest = &line[line.find("Flags [")? + "Flags [".len()..];
    Some(&rest[..rest.find(']')?])
}

#[test]
fn json_flag_letters_equal_tcpdumps() {
    let t = "json_flag_letters_equal_tcpdumps";
    let files = traces(t);
    if files.is_empty() || !require_peer(t, "tcpdump") {
        return;
    }
    let (mut tcp_compared, mut tcp_traces) = (0, Vec::new());
    for path in files {
        let (name, frames, tcp_frames) = row(&path);
        let ours = sniff_json(&path);
        let packets = &ours[..ours.len() - 1];
        let theirs = tcpdump_lines(&path);
        // One tcpdump line per frame on these traces, in frame order.
        assert_eq!(theirs.len(), frames, "{name}: tcpdump's lines");
        assert_eq!(packets.len(), frames, "{name}: sniff's packets");
        let mut here = 0;
        for (p, line) in packets.iter().zip(&theirs) {
            if p["proto"] != "tcp" {
                continue;
            }
            let ctx = format!("{name} frame {}: {line}", p["frame"]);
            let letters = tcpdump_flags(line).unwrap_or_else(|| panic!("{ctx}: no Flags [..]"));
            assert_eq!(p["flags"], letters, "{ctx}: flag letters");
            here += 1;
        }
        assert_eq!(here, tcp_frames, "{name}: TCP frames compared with tcpdump");
        tcp_compared += here;
        if here > 0 {
            tcp_traces.push(name);
        }
    }
    eprintln!(
        "compared the flags of {tcp_compared} TCP frames in {} traces with tcpdump",
        tcp_traces.len()
    );
    assert_eq!(tcp_compared, 2504, "TCP frames compared with tcpdump");
    assert_eq!(
        tcp_traces,
        testsupport::CNP3_TCP_TRACES,
        "the 12 traces with TCP"
    );
}

#[test]
fn routing_and_stp_traces_decode_without_error() {
    let files = traces("routing_and_stp_traces_decode_without_error");
    let expect = [
        ("stp-s1-trace.pcap", "STP"),
        ("ospf6-r1-trace.pcap", "IPv6"),
        ("ripng-r1-trace.pcap", "UDP"),
        ("bgp-as1-trace.pcap", "TCP"),
    ];
    if files.is_empty() {
        return; // shared_traces printed the SKIP line (or panicked in CI)
    }
    let mut decoded = Vec::new();
    for (file, layer) in expect {
        // traces() checked the directory holds every trace: a missing one fails there or here.
        let path = files
            .iter()
            .find(|p| p.ends_with(file))
            .unwrap_or_else(|| panic!("{file} is missing"));
        let (_, frames, _) = row(path);
        let ours = sniff_json(path);
        let packets = &ours[..ours.len() - 1];
        assert_eq!(packets.len(), frames, "{file}: packets");
        for p in packets {
            assert!(p.get("issue").is_none(), "{file}: {p}");
            let layers: Vec<&str> = p["layers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l.as_str().unwrap())
                .collect();
            assert!(layers.contains(&layer), "{file}: {layers:?} lacks {layer}");
        }
        // The text printers run over the same frames without failing.
        for flag in ["-v", "--summary", "-X"] {
            let out = Command::new(tool("sniff"))
                .args(["-q", flag, "-r"])
                .arg(path)
                .output()
                .unwrap();
            assert!(out.status.success(), "{file} {flag}");
            assert!(!out.stdout.is_empty(), "{file} {flag}");
        }
        decoded.push(file);
    }
    assert_eq!(
        decoded,
        [
            "stp-s1-trace.pcap",
            "ospf6-r1-trace.pcap",
            "ripng-r1-trace.pcap",
            "bgp-as1-trace.pcap"
        ],
        "routing and STP traces decoded"
    );
}

/// sniff's line is tcpdump's, or tcpdump's followed by what sniff decodes beyond it: an HTTP
/// request or status line, or a TLS ClientHello, on a port where tcpdump looks for neither
/// (it decodes HTTP on 80 and 8080, and no TLS). Returns whether it was such a line.
fn tcpdump_line_or_more(ours: &str, theirs: &str, what: &str) -> bool {
    if ours == theirs {
        return false;
    }
    let Some(extra) = ours.strip_prefix(theirs) else {
        assert_eq!(ours, theirs, "{what}");
        unreachable!()
    };
    assert!(
        extra.starts_with(": HTTP: ") || extra.starts_with(": TLS ClientHello"),
        "{what}: sniff adds {extra:?} to tcpdump's {theirs:?}"
    );
    for p in [".80:", ".80 ", ".8080:", ".8080 "] {
        assert!(
            !theirs.contains(p),
            "{what}: on tcpdump's own HTTP port: {ours:?}"
        );
    }
    true
}

#[test]
fn default_lines_equal_tcpdump_on_every_trace() {
    let t = "default_lines_equal_tcpdump_on_every_trace";
    let files = traces(t);
    if files.is_empty() || !require_peer(t, "tcpdump") {
        return;
    }
    // Every line of every trace: TCP, STP, OSPF, and the DNS and RIPng payloads tcpdump
    // decodes (simple-trace.pcap, ripng-r1-trace.pcap).
    let (mut compared, mut lines, mut beyond) = (Vec::new(), 0, 0);
    for path in files {
        let (name, frames, _) = row(&path);
        let a = sniff_lines(&path);
        let b = tcpdump_lines(&path);
        for (i, (x, y)) in a.iter().zip(&b).enumerate() {
            if tcpdump_line_or_more(x, y, &format!("{name} line {}", i + 1)) {
                beyond += 1;
            }
        }
        assert_eq!(a.len(), b.len(), "{name}");
        assert_eq!(b.len(), frames, "{name}: one line per frame");
        lines += b.len();
        compared.push(name);
    }
    assert_eq!(
        compared.len(),
        15,
        "traces compared with tcpdump: {compared:?}"
    );
    assert_eq!(lines, 2670, "lines compared with tcpdump");
    // The HTTPS traces' ClientHellos, which tcpdump leaves undecoded.
    assert!(beyond > 0, "no line decoded beyond tcpdump");
    eprintln!("{beyond} lines say more than tcpdump's");
}

/// sniff's default lines for `path` (UTC).
fn sniff_lines(path: &Path) -> Vec<String> {
    let ours = Command::new(tool("sniff"))
        .args(["-q", "-r"])
        .arg(path)
        .env("TZ", "UTC")
        .output()
        .unwrap();
    assert!(ours.status.success(), "sniff failed on {}", path.display());
    String::from_utf8_lossy(&ours.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The traces cut to old snapshot lengths (tcpdump's 68 and 96 among them) by `editcap -s`:
/// every TCP line equals tcpdump's, the headers cut inside their options included
/// (`options [mss 1460,nop,wscale 2,nop,nop,TS [|tcp]>`, `sack 1  [|tcp]>`), and so do the
/// cut DNS and RIPng payloads of the two UDP traces.
#[test]
fn tcp_lines_equal_tcpdump_at_small_snapshot_lengths() {
    let t = "tcp_lines_equal_tcpdump_at_small_snapshot_lengths";
    let files = traces(t);
    if files.is_empty() || !require_peer(t, "tcpdump") || !require_peer(t, "editcap") {
        return;
    }
    let dir = std::env::temp_dir().join(format!("sniff-snap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (mut tcp_lines, mut cut_options, mut udp_lines) = (0, 0, 0);
    for snap in [54, 60, 64, 66, 68, 74, 76, 80, 86, 96, 128] {
        for path in &files {
            let (name, _, _) = row(path);
            let cut = dir.join(format!("{snap}-{name}"));
            let st = Command::new("editcap")
                .arg("-s")
                .arg(snap.to_string())
                .arg(path)
                .arg(&cut)
                .status()
                .unwrap();
            assert!(st.success(), "editcap -s {snap} {name}");
            let a = sniff_lines(&cut);
            let b = tcpdump_lines(&cut);
            assert_eq!(a.len(), b.len(), "{name} at -s {snap}");
            for (i, (x, y)) in a.iter().zip(&b).enumerate() {
                let tcp = y.contains(": Flags [") || y.ends_with("[|tcp]");
                let app = y.contains(".53: ") || y.contains(".521: ");
                if tcp || app {
                    tcpdump_line_or_more(x, y, &format!("{name} at -s {snap}, line {}", i + 1));
                    if tcp {
                        tcp_lines += 1;
                    } else {
                        udp_lines += 1;
                    }
                    if y.contains("[|tcp]") && y.contains("options [") {
                        cut_options += 1;
                    }
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!(
        "{tcp_lines} TCP lines ({cut_options} with options cut) and {udp_lines} DNS/RIPng lines equal tcpdump's"
    );
    assert!(cut_options >= 100, "options cut: {cut_options}");
    // Every TCP frame at every length, but the 60 IPv6 frames of bgp-as1 and simple-trace
    // that -s 54 cuts before their TCP header (tcpdump: `[|ip6]`).
    assert_eq!(tcp_lines, 11 * 2504 - 60, "TCP lines compared");
}

#[test]
fn cut_file_keeps_what_was_read_and_fails_clearly() {
    let Some(dir) = shared_traces("cut_file_keeps_what_was_read_and_fails_clearly") else {
        return;
    };
    let bytes = std::fs::read(dir.join("trace0.pcap")).unwrap();
    let cut = std::env::temp_dir().join(format!("sniff-cut-{}.pcap", std::process::id()));
    std::fs::write(&cut, &bytes[..3000]).unwrap();
    let o = Command::new(tool("sniff"))
        .args(["-q", "-r"])
        .arg(&cut)
        .output()
        .unwrap();
    std::fs::remove_file(&cut).unwrap();
    assert_eq!(o.status.code(), Some(3));
    assert_eq!(String::from_utf8_lossy(&o.stdout).lines().count(), 7);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("truncated dump file"), "{err}");
    assert!(err.contains("after 7 packets"), "{err}");

    let o = Command::new(tool("sniff"))
        .args(["-r", "-"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stderr).contains("standard input"));
}

#[test]
fn pcapng_reads_like_pcap_from_a_file_and_stdin() {
    let t = "pcapng_reads_like_pcap_from_a_file_and_stdin";
    let Some(dir) = shared_traces(t) else {
        return;
    };
    if !require_peer(t, "editcap") {
        return;
    }
    let src = dir.join("trace2.pcap");
    let ng = std::env::temp_dir().join(format!("sniff-ng-{}.pcapng", std::process::id()));
    let st = Command::new("editcap")
        .args(["-F", "pcapng"])
        .arg(&src)
        .arg(&ng)
        .status()
        .unwrap();
    assert!(st.success());
    let run = |args: &[&str], stdin: Option<&Path>| {
        let mut c = Command::new(tool("sniff"));
        c.args(args);
        if let Some(p) = stdin {
            c.stdin(std::fs::File::open(p).unwrap());
        }
        let o = c.output().unwrap();
        assert!(o.status.success(), "{args:?}");
        String::from_utf8(o.stdout).unwrap()
    };
    let pcap = run(&["-q", "--json", "-r", src.to_str().unwrap()], None);
    let from_file = run(&["-q", "--json", "-r", ng.to_str().unwrap()], None);
    let from_stdin = run(&["-q", "--json", "-r", "-"], Some(&ng));
    std::fs::remove_file(&ng).unwrap();
    assert_eq!(pcap.lines().count(), 242);
    assert_eq!(pcap, from_file);
    assert_eq!(pcap, from_stdin);
}

/// tcpdump's printing options on every trace, whole output compared byte for byte: the five
/// timestamp formats, nanosecond timestamps, -A, -e (Ethernet, Linux cooked v1 with its
/// direction column, 802.2 LLC), and the hex dumps.
#[test]
fn printing_options_equal_tcpdumps_on_every_trace() {
    let t = "printing_options_equal_tcpdumps_on_every_trace";
    let files = traces(t);
    if files.is_empty() || !require_peer(t, "tcpdump") {
        return;
    }
    let sets: [&[&str]; 14] = [
        &["-t"],
        &["-tt"],
        &["-ttt"],
        &["-tttt"],
        &["-ttttt"],
        &["--time-stamp-precision=nano"],
        &["--time-stamp-precision=nano", "-ttt"],
        &["--time-stamp-precision=nano", "-tttt"],
        &["-A"],
        &["-e"],
        &["-e", "-A", "-tt"],
        &["-x"],
        &["-X"],
        &["-XX"],
    ];
    let mut compared = 0;
    for opts in sets {
        for path in &files {
            let (name, frames, _) = row(path);
            let ours = Command::new(tool("sniff"))
                .arg("-q")
                .args(opts)
                .arg("-r")
                .arg(path)
                .env("TZ", "UTC")
                .output()
                .unwrap();
            assert!(ours.status.success(), "sniff {opts:?} {name}");
            let theirs = Command::new("tcpdump")
                .arg("-nn")
                .args(opts)
                .arg("-r")
                .arg(path)
                .env("TZ", "UTC")
                .output()
                .unwrap();
            assert!(theirs.status.success(), "tcpdump {opts:?} {name}");
            let (a, b) = (
                String::from_utf8_lossy(&ours.stdout),
                String::from_utf8_lossy(&theirs.stdout),
            );
            for (i, (x, y)) in a.lines().zip(b.lines()).enumerate() {
                tcpdump_line_or_more(x, y, &format!("{opts:?} {name}, output line {}", i + 1));
            }
            assert_eq!(a.lines().count(), b.lines().count(), "{opts:?} {name}");
            compared += frames;
        }
    }
    assert_eq!(compared, 14 * 2670, "frames compared");
}

/// -F reads the filter from a file (comments and line breaks allowed) and ignores one on the
/// command line, as tcpdump; a missing file is a one-line usage error (exit 2); -Q with -r
/// is refused the same way.
#[test]
fn filter_file_and_direction_options() {
    let t = "filter_file_and_direction_options";
    let files = traces(t);
    if files.is_empty() {
        return;
    }
    let trace = files
        .iter()
        .find(|p| p.ends_with("simple-trace.pcap"))
        .unwrap();
    let dir = std::env::temp_dir().join(format!("sniff-F-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("dns.bpf");
    std::fs::write(&f, "# DNS only\nudp\n  and port 53 # both directions\n").unwrap();
    let run = |args: &[&str]| {
        // -r first: words after the first filter word are all filter words.
        Command::new(tool("sniff"))
            .arg("-q")
            .arg("-r")
            .arg(trace)
            .args(args)
            .env("TZ", "UTC")
            .output()
            .unwrap()
    };
    let fs = f.to_str().unwrap();
    let with_file = run(&["-F", fs, "tcp"]);
    assert!(with_file.status.success());
    let inline = run(&["udp and port 53"]);
    assert_eq!(with_file.stdout, inline.stdout);
    assert_eq!(String::from_utf8_lossy(&inline.stdout).lines().count(), 2);
    let missing = run(&["-F", "/nonexistent/filter.bpf"]);
    assert_eq!(missing.status.code(), Some(2));
    let err = String::from_utf8_lossy(&missing.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: cannot read the filter file /nonexistent/filter.bpf"),
        "{err}"
    );
    let q = run(&["-Q", "in"]);
    assert_eq!(q.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&q.stderr).contains("-Q selects the direction of a live capture"),
        "{q:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
