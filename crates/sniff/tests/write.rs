//! `-w` on `lo`: tcpdump's rotation (`-C`, `-G`, `-W`), with tcpdump beside sniff under the
//! same options and the same traffic (the same file names, the same packets in each file,
//! every packet sent in some file, every file read by tcpdump and tshark); nanosecond pcap;
//! pcapng with the interface's name and --process as packet comments, read by tshark.

#![allow(clippy::unwrap_used)]

use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use netcap::Reader;
use testsupport::{Lines, poll_until, require_peer, require_root, tool};

fn tempdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "sniff-rotate-{tag}-{}-{}",
        std::process::id(),
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Start a capture and wait for its "listening on" line.
fn start(mut cmd: Command) -> (Child, Lines) {
    cmd.stderr(Stdio::piped()).stdout(Stdio::null());
    let mut child = cmd.spawn().expect("spawn capture");
    let err = Lines::new(child.stderr.take().unwrap());
    err.expect(&format!("\"listening on\" from {cmd:?}"), |l| {
        l.contains("listening on")
    });
    (child, err)
}

/// sniff and tcpdump on `lo`, each writing into its own directory under the same file name
/// pattern. tcpdump keeps its privileges (with -C/-G it drops them before opening the first
/// file); with `-G` it runs in immediate mode, since rotation by time is decided when a packet
/// is handled and tcpdump's default buffering holds packets up to a second (then a small
/// snapshot length: immediate mode's ring has one frame per snapshot length of buffer).
fn both(dir: &Path, name: &str, opts: &[&str], filter: &str) -> [(Child, Lines); 2] {
    let mut out = Vec::new();
    let timed = opts.contains(&"-G");
    for (who, extra) in [
        ("sniff", &["-s", "2048"][..]),
        ("tcpdump", &["-s", "2048", "-Z", "root"][..]),
    ] {
        let d = dir.join(who);
        std::fs::create_dir_all(&d).unwrap();
        let prog = if who == "sniff" {
            tool("sniff")
        } else {
            PathBuf::from("tcpdump")
        };
        let mut c = Command::new(prog);
        c.args(["-i", "lo"]).args(extra);
        if who == "tcpdump" && timed {
            c.arg("--immediate-mode");
        }
        c.args(opts).arg("-w").arg(d.join(name)).arg(filter);
        out.push(start(c));
    }
    out.try_into().unwrap()
}

fn wait_exit(c: &mut Child, secs: u64) -> std::process::ExitStatus {
    let mut st = None;
    if !poll_until(Duration::from_secs(secs), || {
        st = c.try_wait().unwrap();
        st.is_some()
    }) {
        let _ = c.kill();
        panic!("capture did not end in {secs} s");
    }
    st.unwrap()
}

/// The files in `dir`, sorted, each with its packet count (read by netcap).
fn files(dir: &Path) -> Vec<(String, usize)> {
    let mut v: Vec<(String, usize)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            let mut r = Reader::open(p.to_str().unwrap()).unwrap();
            let mut n = 0;
            while r.next().unwrap().is_some() {
                n += 1;
            }
            (p.file_name().unwrap().to_string_lossy().into_owned(), n)
        })
        .collect();
    v.sort();
    v
}

/// tcpdump and tshark read each of sniff's files whole: as many packets as netcap counts.
fn readable_by_tcpdump_and_tshark(dir: &Path, files: &[(String, usize)]) {
    for (name, n) in files {
        let p = dir.join(name);
        let o = Command::new("tcpdump")
            .args(["-nn", "-r"])
            .arg(&p)
            .output()
            .unwrap();
        assert!(o.status.success(), "tcpdump -r {name}: {o:?}");
        assert_eq!(
            String::from_utf8_lossy(&o.stdout).lines().count(),
            *n,
            "{name}"
        );
        let o = Command::new("tshark")
            .arg("-r")
            .arg(&p)
            .args(["-T", "fields", "-e", "frame.number"])
            .output()
            .unwrap();
        assert!(o.status.success(), "tshark -r {name}: {o:?}");
        assert_eq!(
            String::from_utf8_lossy(&o.stdout).lines().count(),
            *n,
            "{name}"
        );
    }
}

fn sender() -> (UdpSocket, u16) {
    let sink = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = sink.local_addr().unwrap().port();
    // The receiver is never read: the packets are on lo whether or not it reads them.
    std::mem::forget(sink);
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.connect(("127.0.0.1", port)).unwrap();
    (s, port)
}

/// `-C 1 -W 3` under steady traffic: files t0, t1, t2 as tcpdump names them, the same
/// packets in each, every packet sent in one of them.
#[test]
fn size_rotation_matches_tcpdump() {
    let t = "size_rotation_matches_tcpdump";
    if !require_root(t) || !require_peer(t, "tcpdump") || !require_peer(t, "tshark") {
        return;
    }
    let dir = tempdir("size");
    let (s, port) = sender();
    // 1000-byte datagrams are 1042-byte frames on lo: 2500 fill two 1 MB files and part of a
    // third, without wrapping the ring.
    let sent = 2500;
    let count = sent.to_string();
    let [mut a, mut b] = both(
        &dir,
        "t",
        &["-C", "1", "-W", "3", "-c", &count],
        &format!("udp port {port}"),
    );
    for i in 0..sent {
        s.send(&[b'x'; 1000]).unwrap();
        if i % 20 == 0 {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    assert!(wait_exit(&mut a.0, 20).success());
    assert!(wait_exit(&mut b.0, 20).success());
    let err = a.1.finish().join("\n");
    assert!(err.contains("0 packets dropped by kernel"), "{err}");
    let ours = files(&dir.join("sniff"));
    let theirs = files(&dir.join("tcpdump"));
    assert_eq!(ours, theirs, "sniff's files, then tcpdump's");
    let names: Vec<&str> = ours.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(names, ["t0", "t1", "t2"]);
    assert_eq!(ours.iter().map(|f| f.1).sum::<usize>(), sent);
    readable_by_tcpdump_and_tshark(&dir.join("sniff"), &ours);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Sleep until `frac` of the way into the next wall-clock second; returns that second.
fn into_next_second(frac: f64) -> u64 {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    let next = now.as_secs() + 1;
    std::thread::sleep(Duration::from_secs_f64(
        next as f64 + frac - now.as_secs_f64(),
    ));
    next
}

/// `-G 1` with a strftime name: a burst in each of three seconds (well inside the second, so
/// that both tools handle each packet in the same second) lands in one file per second, named
/// by that second, as tcpdump's; the file opened at the start holds nothing.
#[test]
fn time_rotation_matches_tcpdump() {
    let t = "time_rotation_matches_tcpdump";
    if !require_root(t) || !require_peer(t, "tcpdump") || !require_peer(t, "tshark") {
        return;
    }
    let dir = tempdir("time");
    let (s, port) = sender();
    let burst = 40;
    let [mut a, mut b] = both(
        &dir,
        "g-%s",
        &["-G", "1", "-c", &(3 * burst).to_string()],
        &format!("udp port {port}"),
    );
    let mut seconds = Vec::new();
    for _ in 0..3 {
        seconds.push(into_next_second(0.3));
        for _ in 0..burst {
            s.send(b"tick").unwrap();
        }
    }
    assert!(wait_exit(&mut a.0, 10).success());
    assert!(wait_exit(&mut b.0, 10).success());
    let with_packets = |d: &Path| -> Vec<(String, usize)> {
        let all = files(d);
        // One file more: the one opened at the start, before the first burst's second.
        assert_eq!(all.len(), 4, "{all:?}");
        assert_eq!(all.iter().filter(|f| f.1 == 0).count(), 1, "{all:?}");
        all.into_iter().filter(|f| f.1 > 0).collect()
    };
    let ours = with_packets(&dir.join("sniff"));
    let theirs = with_packets(&dir.join("tcpdump"));
    assert_eq!(ours, theirs, "sniff's files, then tcpdump's");
    let want: Vec<(String, usize)> = seconds.iter().map(|s| (format!("g-{s}"), burst)).collect();
    assert_eq!(ours, want);
    readable_by_tcpdump_and_tshark(&dir.join("sniff"), &ours);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `-G 1 -W 2`: after two files the capture ends by itself, exit 0, with tcpdump's message;
/// the packet that would have opened a third file is in none, as with tcpdump.
#[test]
fn time_rotation_with_count_stops_as_tcpdump() {
    let t = "time_rotation_with_count_stops_as_tcpdump";
    if !require_root(t) || !require_peer(t, "tcpdump") {
        return;
    }
    let dir = tempdir("count");
    let (s, port) = sender();
    let [mut a, mut b] = both(
        &dir,
        "w-%s",
        &["-G", "1", "-W", "2"],
        &format!("udp port {port}"),
    );
    let mut seconds = Vec::new();
    for _ in 0..3 {
        seconds.push(into_next_second(0.3));
        for _ in 0..10 {
            s.send(b"tick").unwrap();
        }
    }
    for (c, who) in [(&mut a, "sniff"), (&mut b, "tcpdump")] {
        assert!(wait_exit(&mut c.0, 10).success(), "{who}");
        let err = c.1.finish().join("\n");
        assert!(
            err.contains("Maximum file limit reached: 2"),
            "{who}: {err}"
        );
    }
    let ours = files(&dir.join("sniff"));
    let theirs = files(&dir.join("tcpdump"));
    // The start file (empty, named by the second the capture opened) and the first burst's.
    assert_eq!(ours.len(), 2, "{ours:?}");
    assert_eq!(ours[1], (format!("w-{}", seconds[0]), 10));
    assert_eq!(ours[0].1, 0);
    assert_eq!(ours.iter().map(|f| f.1).collect::<Vec<_>>(), [0, 10]);
    assert_eq!(theirs.iter().map(|f| f.1).collect::<Vec<_>>(), [0, 10]);
    assert_eq!(ours[1], theirs[1]);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A UDP receiver in a Python process of its own, so that --process has two processes to
/// name; returns it once bound, and its port.
fn python_receiver() -> (Child, u16) {
    let mut c = Command::new("python3")
        .args([
            "-c",
            "import socket,time\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\ns.bind(('127.0.0.1',0))\nprint(s.getsockname()[1],flush=True)\ntime.sleep(5)",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(c.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    (c, line.trim().parse().unwrap())
}

/// `--pcapng --process`: tshark reads the interface's name and each packet's processes (the
/// pids this test started) from the file; tcpdump and sniff read it back.
#[test]
fn pcapng_names_the_interface_and_comments_the_processes() {
    let t = "pcapng_names_the_interface_and_comments_the_processes";
    if !require_root(t)
        || !require_peer(t, "tcpdump")
        || !require_peer(t, "tshark")
        || !require_peer(t, "python3")
        || !require_peer(t, "kill")
    {
        return;
    }
    let dir = tempdir("pcapng");
    let file = dir.join("p.pcapng");
    let (mut rx, port) = python_receiver();
    let mut c = Command::new(tool("sniff"));
    c.args(["-i", "lo", "--process", "--pcapng", "-c", "3", "-w"])
        .arg(&file)
        .arg(format!("udp port {port}"));
    let (mut cap, _err) = start(c);
    let tx = Command::new("python3")
        .args([
            "-c",
            &format!(
                "import socket,time\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\nfor i in range(3):\n    s.sendto(b'hi',('127.0.0.1',{port}));time.sleep(0.1)"
            ),
        ])
        .spawn()
        .unwrap();
    let txpid = tx.id();
    assert!(tx.wait_with_output().unwrap().status.success());
    assert!(wait_exit(&mut cap, 10).success());
    let _ = rx.kill();
    let _ = rx.wait();
    let o = Command::new("tshark")
        .arg("-r")
        .arg(&file)
        .args([
            "-T",
            "fields",
            "-e",
            "frame.interface_name",
            "-e",
            "frame.comment",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{o:?}");
    let want = format!("lo\tprocess: src python3/{txpid} > dst python3/{}", rx.id());
    let got = String::from_utf8(o.stdout).unwrap();
    assert_eq!(got.lines().collect::<Vec<_>>(), [want.as_str(); 3], "{got}");
    let o = Command::new("tcpdump")
        .args(["-nn", "-r"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(o.status.success(), "{o:?}");
    let lines = String::from_utf8(o.stdout).unwrap();
    assert_eq!(lines.lines().count(), 3, "{lines}");
    assert!(
        lines.contains(&format!("> 127.0.0.1.{port}: UDP, length 2")),
        "{lines}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `--time-stamp-precision nano -w`: a nanosecond pcap (magic 0xa1b23c4d) whose stamps tcpdump
/// prints to the nanosecond, the same as sniff reading it back.
#[test]
fn nano_precision_writes_a_nanosecond_pcap() {
    let t = "nano_precision_writes_a_nanosecond_pcap";
    if !require_root(t) || !require_peer(t, "tcpdump") {
        return;
    }
    let dir = tempdir("nano");
    let file = dir.join("n.pcap");
    let (s, port) = sender();
    let mut c = Command::new(tool("sniff"));
    c.args([
        "-i",
        "lo",
        "--time-stamp-precision",
        "nano",
        "-c",
        "20",
        "-w",
    ])
    .arg(&file)
    .arg(format!("udp port {port}"));
    let (mut cap, _err) = start(c);
    for _ in 0..20 {
        s.send(b"nano").unwrap();
    }
    assert!(wait_exit(&mut cap, 10).success());
    let bytes = std::fs::read(&file).unwrap();
    assert_eq!(bytes[..4], 0xa1b2_3c4du32.to_le_bytes());
    let theirs = Command::new("tcpdump")
        .args(["-nn", "-tt", "--time-stamp-precision", "nano", "-r"])
        .arg(&file)
        .output()
        .unwrap();
    let ours = Command::new(tool("sniff"))
        .args(["-tt", "--time-stamp-precision", "nano", "-r"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(theirs.status.success() && ours.status.success());
    let (theirs, ours) = (
        String::from_utf8(theirs.stdout).unwrap(),
        String::from_utf8(ours.stdout).unwrap(),
    );
    assert_eq!(ours, theirs);
    assert_eq!(theirs.lines().count(), 20);
    // Nanoseconds, not microseconds padded with zeros (one stamp in 1000 may end in 000).
    let stamps: Vec<&str> = theirs
        .lines()
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    assert!(
        stamps
            .iter()
            .all(|s| s.split('.').nth(1).unwrap().len() == 9)
    );
    assert!(stamps.iter().any(|s| !s.ends_with("000")), "{theirs}");
    std::fs::remove_dir_all(&dir).unwrap();
}
