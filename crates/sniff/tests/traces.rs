//! `sniff -r X --json` against tshark on every CNP3 trace, field by field, and the non-TCP
//! traces (STP, OSPFv3, RIPng, BGP) decoding without error.

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use testsupport::{require_peer, shared_traces, tool};

fn traces(test: &str) -> Vec<std::path::PathBuf> {
    let Some(dir) = shared_traces(test) else {
        return Vec::new();
    };
    let mut v: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "pcap" || e == "pcapng"))
        .collect();
    v.sort();
    assert!(!v.is_empty(), "no traces in {}", dir.display());
    v
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
    let mut compared = 0;
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let ours = sniff_json(&path);
        let (summary, packets) = ours.split_last().expect("at least the summary");
        assert_eq!(
            summary["type"], "summary",
            "{name}: last record is the summary"
        );
        let theirs = tshark_rows(&path);
        assert_eq!(packets.len(), theirs.len(), "{name}: packet count");
        assert_eq!(
            summary["packets"],
            theirs.len() as u64,
            "{name}: summary count"
        );
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
                let letters = netproto::frame::TcpFlags(flags)
                    .letters(&mut [0; 10])
                    .to_owned();
                assert_eq!(p["flags"], letters.as_str(), "{ctx}: flags letters");
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
    }
    eprintln!("compared {compared} packets with tshark");
    assert!(compared > 2000);
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
    for (file, layer) in expect {
        let Some(path) = files.iter().find(|p| p.ends_with(file)) else {
            continue;
        };
        let ours = sniff_json(path);
        let packets = &ours[..ours.len() - 1];
        assert!(!packets.is_empty(), "{file}");
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
    }
}

#[test]
fn default_lines_equal_tcpdump_on_tcp_traces() {
    let files = traces("default_lines_equal_tcpdump_on_tcp_traces");
    if files.is_empty() || !require_peer("default_lines_equal_tcpdump_on_tcp_traces", "tcpdump") {
        return;
    }
    // Traces whose every line is TCP/STP/OSPF (tcpdump decodes DNS and RIPng payloads, which
    // sniff prints as `UDP, length N`).
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("ripng") || name.starts_with("simple") {
            continue;
        }
        let ours = Command::new(tool("sniff"))
            .args(["-q", "-r"])
            .arg(&path)
            .env("TZ", "UTC")
            .output()
            .unwrap();
        let theirs = Command::new("tcpdump")
            .args(["-nn", "-r"])
            .arg(&path)
            .env("TZ", "UTC")
            .output()
            .unwrap();
        let a = String::from_utf8_lossy(&ours.stdout);
        let b = String::from_utf8_lossy(&theirs.stdout);
        for (i, (x, y)) in a.lines().zip(b.lines()).enumerate() {
            assert_eq!(x, y, "{name} line {}", i + 1);
        }
        assert_eq!(a.lines().count(), b.lines().count(), "{name}");
    }
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
