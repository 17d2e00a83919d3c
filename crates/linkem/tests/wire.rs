//! linkem between real interfaces: two hosts (network namespaces) whose only path goes through
//! a third namespace where linkem joins two veths. Real pings and UDP datagrams cross it; what
//! arrives is compared with linkem's own log, frame by frame where the frames can be told
//! apart, and the far side is captured with `sniff`.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::Value;
use testsupport::{Lines, require_peer, require_root, tool};

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn linkem() -> Command {
    Command::new(tool("linkem"))
}

#[test]
fn check_prints_canonical_words_and_rejects_bad_ones_in_one_line() {
    let out = linkem()
        .args(["--check", "delay", "100ms", "10ms", "loss", "1%"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "limit 1000 delay 100ms 10ms loss 1%\n");

    for (args, want) in [
        (&["--check", "loss", "1"][..], "loss: '1' needs a % sign"),
        (
            &["--check", "delay", "5"][..],
            "delay: '5' is not a time with a unit",
        ),
        (
            &["veth0", "veth1", "rate", "fast"][..],
            "rate: 'fast' is not a rate",
        ),
        (
            &["veth0", "veth1", "--to-a", "jitter 5ms"][..],
            "'jitter' is not a netem word",
        ),
        (&["veth0"][..], "linkem needs two interfaces"),
    ] {
        let out = linkem().args(args).output().unwrap();
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: one line: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
    }
}

static SEQ: AtomicU32 = AtomicU32::new(0);

/// Hosts `a` (10.77.0.1, fd00:77::1) and `b` (10.77.0.2, fd00:77::2), and the link namespace
/// `l` holding `pa` (towards a) and `pb` (towards b). Removed on drop.
struct Wire {
    prefix: String,
    log: PathBuf,
    linkem: Option<(Child, Lines)>,
}

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().unwrap();
    assert!(out.status.success(), "ip {args:?}: {}", text(&out.stderr));
}

impl Wire {
    fn new() -> Wire {
        let prefix = format!(
            "lk{}x{}-",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        );
        let w = Wire {
            log: std::env::temp_dir().join(format!("{prefix}linkem.ndjson")),
            prefix,
            linkem: None,
        };
        let (a, b, l) = (w.ns("a"), w.ns("b"), w.ns("l"));
        for ns in [&a, &b, &l] {
            ip(&["netns", "add", ns]);
            ip(&["-n", ns, "link", "set", "lo", "up"]);
        }
        for key in ["all", "default"] {
            w.sysctl(&l, &format!("net/ipv6/conf/{key}/disable_ipv6"), "1");
            for ns in [&a, &b] {
                w.sysctl(ns, &format!("net/ipv6/conf/{key}/accept_dad"), "0");
            }
        }
        ip(&[
            "-n", &a, "link", "add", "eth0", "type", "veth", "peer", "name", "pa", "netns", &l,
        ]);
        ip(&[
            "-n", &b, "link", "add", "eth0", "type", "veth", "peer", "name", "pb", "netns", &l,
        ]);
        for (ns, dev) in [(&a, "eth0"), (&b, "eth0"), (&l, "pa"), (&l, "pb")] {
            let _ = Command::new("ip")
                .args([
                    "netns", "exec", ns, "ethtool", "-K", dev, "tso", "off", "gso", "off", "gro",
                    "off", "tx", "off",
                ])
                .output();
            ip(&["-n", ns, "link", "set", dev, "up"]);
        }
        ip(&["-n", &a, "address", "add", "10.77.0.1/24", "dev", "eth0"]);
        ip(&["-n", &b, "address", "add", "10.77.0.2/24", "dev", "eth0"]);
        ip(&[
            "-n",
            &a,
            "address",
            "add",
            "fd00:77::1/64",
            "dev",
            "eth0",
            "nodad",
        ]);
        ip(&[
            "-n",
            &b,
            "address",
            "add",
            "fd00:77::2/64",
            "dev",
            "eth0",
            "nodad",
        ]);
        w
    }

    fn ns(&self, host: &str) -> String {
        format!("{}{host}", self.prefix)
    }

    fn sysctl(&self, ns: &str, key: &str, value: &str) {
        let out = Command::new("ip")
            .args([
                "netns",
                "exec",
                ns,
                "sh",
                "-c",
                &format!("echo {value} > /proc/sys/{key}"),
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "{key}: {}", text(&out.stderr));
    }

    fn cmd(&self, host: &str, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.ns(host)]).arg(program);
        c
    }

    /// Start linkem pa <-> pb with `args`, logging, and wait for its "forwarding" line.
    fn start(&mut self, args: &[&str]) {
        let mut child = self
            .cmd("l", tool("linkem"))
            .args(["pa", "pb", "--log"])
            .arg(&self.log)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = Lines::new(child.stderr.take().unwrap());
        lines.expect("saying linkem forwards", |l| {
            l.contains("linkem: forwarding pa <-> pb")
        });
        self.linkem = Some((child, lines));
    }

    /// SIGTERM linkem; it must exit 0 with a complete log: returns the log's records.
    fn stop(&mut self) -> (Vec<Value>, Vec<String>) {
        let (mut child, mut lines) = self.linkem.take().expect("linkem started");
        let out = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .output()
            .unwrap();
        assert!(out.status.success());
        let status = child.wait().unwrap();
        let stderr = lines.finish();
        assert!(status.success(), "linkem exit {status:?}: {stderr:#?}");
        let log = std::fs::read_to_string(&self.log).unwrap();
        let records: Vec<Value> = log
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect();
        assert_eq!(records.first().unwrap()["type"], "start");
        assert_eq!(
            records.last().unwrap()["type"],
            "summary",
            "the log ends with its summary"
        );
        (records, stderr)
    }
}

impl Drop for Wire {
    fn drop(&mut self) {
        if let Some((mut child, _)) = self.linkem.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        for host in ["a", "b", "l"] {
            let _ = Command::new("ip")
                .args(["netns", "del", &self.ns(host)])
                .output();
        }
        let _ = std::fs::remove_file(&self.log);
    }
}

fn frames<'a>(records: &'a [Value], dir: &str) -> impl Iterator<Item = &'a Value> {
    let dir = dir.to_owned();
    records
        .iter()
        .filter(move |r| r["type"] == "frame" && r["dir"] == dir.as_str())
}

fn ping_rtts(out: &Output) -> Vec<f64> {
    text(&out.stdout)
        .lines()
        .filter_map(|l| l.split("time=").nth(1))
        .filter_map(|t| t.trim_end_matches(" ms").parse().ok())
        .collect()
}

fn needs(test: &str, peers: &[&str]) -> bool {
    require_root(test) && peers.iter().all(|p| require_peer(test, p))
}

#[test]
fn ping_through_delay_and_every_frame_is_logged() {
    if !needs(
        "ping_through_delay_and_every_frame_is_logged",
        &["ip", "ping", "kill"],
    ) {
        return;
    }
    let mut w = Wire::new();
    w.start(&["delay", "20ms"]);
    let out = w
        .cmd("a", "ping")
        .args(["-c", "6", "-i", "0.2", "10.77.0.2"])
        .output()
        .unwrap();
    let rtts = ping_rtts(&out);
    assert_eq!(rtts.len(), 6, "{}", text(&out.stdout));
    // The first ping waits for ARP, which crosses the link too.
    assert!(rtts[0] >= 80.0, "{rtts:?}");
    // Never sooner than the delay; later only by what a busy machine adds (the bound is
    // there to catch a frame held until the stop, not to time the scheduler).
    for rtt in &rtts[1..] {
        assert!(
            (40.0..1040.0).contains(rtt),
            "RTT {rtt} ms for 2 × 20 ms: {rtts:?}"
        );
    }
    let (records, _) = w.stop();
    let summary = records.last().unwrap();
    for dir in ["to_a", "to_b"] {
        let logged: Vec<_> = frames(&records, dir).collect();
        assert_eq!(summary[dir]["received"], logged.len() as u64, "{dir}");
        let icmp: Vec<_> = logged.iter().filter(|r| r["proto"] == "icmp").collect();
        assert_eq!(icmp.len(), 6, "{dir}: six echo requests or replies");
        for r in &logged {
            assert_eq!(r["fate"], "forwarded");
            let held = r["out"].as_f64().unwrap() - r["in"].as_f64().unwrap();
            assert!((0.020..1.020).contains(&held), "{dir}: held {held} s: {r}");
        }
        assert!(
            logged.iter().any(|r| r["proto"] == "arp"),
            "{dir}: ARP crosses the link"
        );
    }
    let req = frames(&records, "to_b")
        .find(|r| r["proto"] == "icmp")
        .unwrap();
    assert_eq!(req["src"], "10.77.0.1");
    assert_eq!(req["dst"], "10.77.0.2");
    assert_eq!(req["icmp_type"], 8);
    assert_eq!(req["from"], "pa");
    assert_eq!(req["to"], "pb");
}

#[test]
fn ipv6_and_neighbour_discovery_pass() {
    if !needs("ipv6_and_neighbour_discovery_pass", &["ip", "ping", "kill"]) {
        return;
    }
    let mut w = Wire::new();
    w.start(&[]);
    let out = w
        .cmd("a", "ping")
        .args(["-6", "-c", "2", "-i", "0.2", "-W", "5", "fd00:77::2"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let (records, _) = w.stop();
    let icmpv6: Vec<_> = frames(&records, "to_b")
        .filter(|r| r["proto"] == "icmpv6")
        .map(|r| r["icmp_type"].as_u64().unwrap())
        .collect();
    assert!(
        icmpv6.contains(&135),
        "neighbour solicitation crossed: {icmpv6:?}"
    );
    assert!(icmpv6.contains(&128), "echo request crossed: {icmpv6:?}");
}

/// Send `n` numbered UDP datagrams of `size` bytes from a to b:9000 (`gap` seconds apart);
/// returns the numbers b received, in arrival order (b listens until 1 s of silence).
fn udp(w: &Wire, n: u32, size: usize, gap: f64) -> Vec<u32> {
    let mut recv = w
        .cmd("b", "python3")
        .args([
            "-c",
            "import socket,sys\n\
             s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n\
             s.setsockopt(socket.SOL_SOCKET,socket.SO_RCVBUF,4<<20)\n\
             s.bind(('10.77.0.2',9000))\nprint('ready',flush=True)\ns.settimeout(5)\n\
             try:\n  d=s.recv(65536); print(int(d[:8]),flush=True)\n  s.settimeout(1)\n  \
             while True:\n    d=s.recv(65536); print(int(d[:8]),flush=True)\n\
             except socket.timeout: pass\n",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut recv_out = std::io::BufReader::new(recv.stdout.take().unwrap());
    let mut first = String::new();
    std::io::BufRead::read_line(&mut recv_out, &mut first).unwrap();
    assert_eq!(first.trim(), "ready");
    let send = w
        .cmd("a", "python3")
        .args([
            "-c",
            &format!(
                "import socket,time\n\
                 s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n\
                 s.connect(('10.77.0.2',9000))\n\
                 for i in range({n}):\n  s.send(b'%08d' % i + bytes({pad}))\n  \
                 time.sleep({gap})\n",
                pad = size - 8
            ),
        ])
        .output()
        .unwrap();
    assert!(send.status.success(), "{}", text(&send.stderr));
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut recv_out, &mut rest).unwrap();
    assert!(recv.wait().unwrap().success());
    rest.lines().map(|l| l.trim().parse().unwrap()).collect()
}

#[test]
fn random_loss_in_one_direction_matches_the_log_exactly() {
    if !needs(
        "random_loss_in_one_direction_matches_the_log_exactly",
        &["ip", "python3", "kill"],
    ) {
        return;
    }
    let mut w = Wire::new();
    w.start(&["--to-b", "loss 20%", "--seed", "7"]);
    let got = udp(&w, 1000, 100, 0.0005);
    let (records, _) = w.stop();
    let udp_to_b: Vec<_> = frames(&records, "to_b")
        .filter(|r| r["proto"] == "udp")
        .collect();
    let dropped = udp_to_b
        .iter()
        .filter(|r| r["fate"] == "dropped-random")
        .count();
    let forwarded = udp_to_b.iter().filter(|r| r["fate"] == "forwarded").count();
    assert_eq!(udp_to_b.len(), 1000, "every datagram has a record");
    assert_eq!(forwarded, got.len(), "forwarded = received");
    assert_eq!(dropped, 1000 - got.len(), "dropped = not received");
    // 99 % interval of Binomial(1000, 0.2): 200 ± 33.
    assert!(
        (167..=233).contains(&dropped),
        "{dropped} dropped of 1000 at 20 %"
    );
    for r in udp_to_b.iter().filter(|r| r["fate"] != "forwarded") {
        assert!(r["out"].is_null(), "a dropped frame has no time out: {r}");
    }
    // The other direction is untouched.
    assert!(frames(&records, "to_a").all(|r| r["fate"] == "forwarded"));
}

#[test]
fn a_rate_limited_queue_drops_at_its_tail() {
    if !needs(
        "a_rate_limited_queue_drops_at_its_tail",
        &["ip", "python3", "kill"],
    ) {
        return;
    }
    let mut w = Wire::new();
    // 1 Mbit/s: a 1042-byte frame takes 8.3 ms; a burst of 200 overflows a 20-frame queue.
    w.start(&["--to-b", "rate 1mbit limit 20"]);
    let got = udp(&w, 200, 1000, 0.0);
    let (records, _) = w.stop();
    let udp_to_b: Vec<_> = frames(&records, "to_b")
        .filter(|r| r["proto"] == "udp")
        .collect();
    let queue_drops: Vec<_> = udp_to_b
        .iter()
        .filter(|r| r["fate"] == "dropped-queue")
        .collect();
    assert_eq!(
        queue_drops.len(),
        200 - got.len(),
        "every datagram lost was a tail drop"
    );
    assert!(
        got.len() >= 20 && got.len() < 60,
        "{} of 200 got through",
        got.len()
    );
    assert!(
        queue_drops.iter().all(|r| r["queue"].as_u64() == Some(20)),
        "dropped when full"
    );
    // Paced at the rate: consecutive departures 8.3 ms apart (1042 bytes × 8 / 1 Mbit/s).
    let outs: Vec<f64> = udp_to_b
        .iter()
        .filter(|r| r["fate"] == "forwarded")
        .map(|r| r["out"].as_f64().unwrap())
        .collect();
    let gaps: Vec<f64> = outs.windows(2).map(|p| p[1] - p[0]).collect();
    let mid = {
        let mut g = gaps.clone();
        g.sort_by(f64::total_cmp);
        g[g.len() / 2]
    };
    assert!((0.0080..0.0087).contains(&mid), "median gap {mid} s");
    // A FIFO: frames leave in the order linkem received them. (What b receives may still be
    // reordered before linkem: a sender that migrates between CPUs mid-burst feeds its veth from
    // two CPUs' backlogs.)
    let mut by_out: Vec<&&Value> = udp_to_b
        .iter()
        .filter(|r| r["fate"] == "forwarded")
        .collect();
    by_out.sort_by(|x, y| {
        x["out"]
            .as_f64()
            .unwrap()
            .total_cmp(&y["out"].as_f64().unwrap())
    });
    let arrivals: Vec<u64> = by_out.iter().map(|r| r["n"].as_u64().unwrap()).collect();
    assert!(
        arrivals.windows(2).all(|p| p[0] < p[1]),
        "FIFO order: {arrivals:?}"
    );
}

#[test]
fn duplicates_and_reordering_reach_the_far_side_as_logged() {
    if !needs(
        "duplicates_and_reordering_reach_the_far_side_as_logged",
        &["ip", "python3", "kill"],
    ) {
        return;
    }
    let mut w = Wire::new();
    let pcap = std::env::temp_dir().join(format!("{}far.pcap", w.prefix));
    let mut sniff = w
        .cmd("b", tool("sniff"))
        .args(["-i", "eth0", "-U", "-w"])
        .arg(&pcap)
        .args(["udp", "port", "9000"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let sniff_err = Lines::new(sniff.stderr.take().unwrap());
    sniff_err.expect("saying sniff listens", |l| l.contains("listening on"));
    w.start(&[
        "--to-b",
        "delay 10ms duplicate 30% reorder 30%",
        "--seed",
        "3",
    ]);
    let got = udp(&w, 100, 64, 0.002);
    let (records, _) = w.stop();
    let _ = Command::new("kill")
        .args(["-INT", &sniff.id().to_string()])
        .output();
    sniff.wait().unwrap();

    let logged: Vec<_> = frames(&records, "to_b")
        .filter(|r| r["proto"] == "udp")
        .collect();
    let dups = logged.iter().filter(|r| r["fate"] == "duplicated").count();
    let reordered = logged.iter().filter(|r| r["fate"] == "reordered").count();
    assert!(
        dups > 10 && reordered > 10,
        "{dups} duplicated, {reordered} reordered"
    );
    assert_eq!(got.len(), logged.len(), "b received every copy linkem sent");
    let mut sorted = got.clone();
    sorted.sort_unstable();
    assert_ne!(got, sorted, "arrivals are out of order");
    // The capture on b's side holds exactly the frames linkem sent, in the order of its log.
    let read = Command::new(tool("sniff"))
        .args(["-r"])
        .arg(&pcap)
        .arg("--json")
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&pcap);
    let captured = text(&read.stdout)
        .lines()
        .filter(|l| l.contains(r#""type":"packet""#))
        .count();
    assert_eq!(
        captured,
        logged.len(),
        "sniff on the far side saw every copy"
    );
    // A connected UDP socket numbers its datagrams' IP IDs one by one: the record with the
    // lowest arrival number is datagram 0.
    let first = logged
        .iter()
        .min_by_key(|r| r["n"].as_u64().unwrap())
        .unwrap();
    let id0 = first["ip_id"].as_u64().unwrap();
    let mut by_out = logged.clone();
    by_out.sort_by(|x, y| {
        x["out"]
            .as_f64()
            .unwrap()
            .total_cmp(&y["out"].as_f64().unwrap())
    });
    let log_order: Vec<u32> = by_out
        .iter()
        .map(|r| ((r["ip_id"].as_u64().unwrap() + 65536 - id0) % 65536) as u32)
        .collect();
    assert_eq!(
        log_order, got,
        "b's arrival order is linkem's departure order"
    );
}

#[test]
fn a_missing_interface_is_a_one_line_failure() {
    if !needs("a_missing_interface_is_a_one_line_failure", &["ip"]) {
        return;
    }
    let w = Wire::new();
    let out = w
        .cmd("l", tool("linkem"))
        .args(["pa", "nosuch0"])
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("nosuch0"), "{err}");
    assert_eq!(
        err.lines().filter(|l| l.starts_with("error:")).count(),
        1,
        "{err}"
    );
    let _ = std::io::stderr().flush();
}
