//! Integration tests of `scripts/lab`: real namespaces, real sockets (python3 inside the lab
//! hosts), real nftables loss, real linkem on the links (delay measured with ping), captures read
//! back by tcpdump and tshark. Tests that need root skip visibly without it (and fail in CI).

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use testsupport::{
    Lab, Lines, is_root, poll_until, require_peer, require_root, wait_ready, workspace_root,
};

fn lab_script() -> PathBuf {
    workspace_root().join("scripts/lab")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn ok(out: &Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what} failed ({}): {}{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// Python receiver: binds `addr`:`port`, prints `ready`, then one line per datagram
/// (`payload sender-ip`) until `count` arrived or `timeout` seconds pass without one.
const RECEIVER: &str = r#"
import socket, sys
addr, port, count, timeout = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_DGRAM)
s.bind((addr, port))
s.settimeout(timeout)
print("ready", flush=True)
for _ in range(count):
    try:
        data, peer = s.recvfrom(65535)
    except socket.timeout:
        break
    print(data.decode(), peer[0], flush=True)
"#;

const SENDER: &str = r#"
import socket, sys
addr, port, count, hops = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
v6 = ":" in addr
s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_DGRAM)
if hops > 0:
    if v6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, hops)
    else:
        s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, hops)
for i in range(count):
    s.sendto(("datagram %d" % i).encode(), (addr, port))
"#;

/// Sends `count` UDP datagrams from `from` to `to_addr` (bound inside `to`), returns the lines
/// the receiver printed (one per datagram that arrived).
fn udp(lab: &Lab, from: &str, to: &str, to_addr: &str, count: u32, timeout: &str) -> Vec<String> {
    udp_hops(lab, from, to, to_addr, count, timeout, 0)
}

/// [`udp`] with the sender's IPv4 TTL / IPv6 hop limit set to `hops` (0: the default).
fn udp_hops(
    lab: &Lab,
    from: &str,
    to: &str,
    to_addr: &str,
    count: u32,
    timeout: &str,
    hops: u32,
) -> Vec<String> {
    let port = "40000";
    let mut rx = lab
        .command(to, "python3")
        .args(["-c", RECEIVER, to_addr, port, &count.to_string(), timeout])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the python receiver");
    let mut lines = BufReader::new(rx.stdout.take().expect("piped stdout")).lines();
    let first = lines.next().and_then(Result::ok);
    if first.as_deref() != Some("ready") {
        let mut err = String::new();
        let _ = rx.stderr.take().expect("piped").read_to_string(&mut err);
        let _ = rx.wait();
        panic!("receiver in {to} did not start ({first:?}): {err}");
    }
    let out = lab
        .command(from, "python3")
        .args([
            "-c",
            SENDER,
            to_addr,
            port,
            &count.to_string(),
            &hops.to_string(),
        ])
        .output()
        .expect("run the python sender");
    ok(&out, &format!("sending UDP from {from}"));
    let got: Vec<String> = lines.map_while(Result::ok).collect();
    let status = rx.wait().expect("receiver exits");
    assert!(status.success(), "receiver in {to} failed: {status}");
    got
}

fn root_links() -> BTreeSet<String> {
    let out = Command::new("ip")
        .args(["-o", "link", "show"])
        .output()
        .expect("ip link");
    text(&out.stdout)
        .lines()
        .filter_map(|l| l.split(": ").nth(1))
        .map(|n| n.split('@').next().unwrap_or(n).to_owned())
        .collect()
}

fn root_addrs() -> BTreeSet<String> {
    let out = Command::new("ip")
        .args(["-o", "address", "show"])
        .output()
        .expect("ip address");
    text(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().nth(3).map(str::to_owned))
        .collect()
}

#[test]
fn two_hosts_udp_v4_v6_then_down_leaves_nothing() {
    if !require_root("two_hosts_udp_v4_v6_then_down_leaves_nothing")
        || !require_peer("two_hosts_udp_v4_v6_then_down_leaves_nothing", "python3")
    {
        return;
    }
    let links_before = root_links();
    let addrs_before = root_addrs();
    let lab = Lab::up("two-hosts");
    assert_eq!(
        lab.namespaces().into_iter().collect::<BTreeSet<_>>(),
        [
            lab.netns("brooklyn"),
            lab.netns("midwood"),
            lab.switch_netns()
        ]
        .into(),
        "two-hosts creates exactly brooklyn, midwood and the switch their link goes through"
    );
    // The switch has IPv6 off, so its bridge and ports never send frames of their own.
    for conf in ["all", "default", "p0", "p1", "br0"] {
        let key = format!("net.ipv6.conf.{conf}.disable_ipv6");
        let v = ok(
            &Command::new("ip")
                .args(["netns", "exec", &lab.switch_netns(), "sysctl", "-n", &key])
                .output()
                .unwrap(),
            "disable_ipv6 in the switch",
        );
        assert_eq!(v.trim(), "1", "{key}");
    }
    // Traffic stays inside the namespaces: nothing new in the root namespace.
    assert_eq!(root_links(), links_before, "root namespace links changed");
    assert_eq!(
        root_addrs(),
        addrs_before,
        "root namespace addresses changed"
    );

    let addr = ok(
        &lab.command("brooklyn", "ip")
            .args(["-o", "address", "show", "dev", "eth0"])
            .output()
            .unwrap(),
        "ip address in brooklyn",
    );
    assert!(addr.contains("192.168.56.101/24"), "{addr}");
    assert!(addr.contains("fd00:56::101/64"), "{addr}");
    assert!(!addr.contains("tentative"), "DAD must not delay: {addr}");

    // Offloads off, so captures show the segments and checksums that cross the link (on the
    // switch's ports too).
    if require_peer("two_hosts_udp_v4_v6_then_down_leaves_nothing", "ethtool") {
        let switch = lab.switch_netns();
        for (ns, dev) in [
            (lab.netns("brooklyn"), "eth0"),
            (lab.netns("midwood"), "eth0"),
            (switch.clone(), "p0"),
            (switch, "p1"),
        ] {
            let host = format!("{ns}:{dev}");
            let k = ok(
                &Command::new("ip")
                    .args(["netns", "exec", &ns, "ethtool", "-k", dev])
                    .output()
                    .unwrap(),
                "ethtool -k",
            );
            for feature in [
                "tcp-segmentation-offload: off",
                "generic-segmentation-offload: off",
                "generic-receive-offload: off",
                "tx-checksumming: off",
            ] {
                assert!(k.contains(feature), "{host}: {feature} expected in {k}");
            }
        }
    }

    let v4 = udp(&lab, "midwood", "brooklyn", "192.168.56.101", 1, "5");
    assert_eq!(v4, ["datagram 0 192.168.56.102"]);
    // IPv6 straight after up: nodad makes the address usable at once.
    let v6 = udp(&lab, "midwood", "brooklyn", "fd00:56::101", 1, "5");
    assert_eq!(v6, ["datagram 0 fd00:56::102"]);
    // And the other way round, through `scripts/lab exec`.
    let out = lab.script(&["exec", "brooklyn", "ip", "-o", "-6", "route", "show"]);
    assert!(ok(&out, "lab exec").contains("fd00:56::/64"));

    let out = lab.script(&["down"]);
    let said = ok(&out, "lab down");
    assert!(said.contains("removed 3 namespace"), "{said}");
    assert!(lab.namespaces().is_empty(), "{:?}", lab.namespaces());
    assert_eq!(root_links(), links_before);
}

#[test]
fn router_forwards_pc1_to_pc2() {
    if !require_root("router_forwards_pc1_to_pc2")
        || !require_peer("router_forwards_pc1_to_pc2", "python3")
    {
        return;
    }
    let lab = Lab::up("router");
    assert_eq!(
        lab.namespaces().len(),
        4,
        "pc1, r1, pc2 and the switch: {:?}",
        lab.namespaces()
    );
    assert_eq!(
        udp(&lab, "pc1", "pc2", "10.0.2.2", 1, "5"),
        ["datagram 0 10.0.1.2"]
    );
    assert_eq!(
        udp(&lab, "pc2", "pc1", "fd00:1::2", 1, "5"),
        ["datagram 0 fd00:2::2"]
    );
    // The path really is one router hop: TTL / hop limit 1 dies at r1, 2 arrives.
    for (addr, from) in [("10.0.2.2", "10.0.1.2"), ("fd00:2::2", "fd00:1::2")] {
        assert!(udp_hops(&lab, "pc1", "pc2", addr, 1, "0.5", 1).is_empty());
        assert_eq!(
            udp_hops(&lab, "pc1", "pc2", addr, 1, "5", 2),
            [format!("datagram 0 {from}")]
        );
    }
    let status = ok(&lab.script(&["status"]), "lab status");
    assert!(status.contains("r1 ("), "{status}");
    assert!(status.contains("forwarding"), "{status}");
    assert!(status.contains("10.0.2.1/24"), "{status}");
    // Each link is a LAN of its own, named after its two hosts.
    assert!(
        status.contains("pc1-r1: pc1:eth0 (port p0), r1:eth0 (port p1)"),
        "{status}"
    );
    assert!(
        status.contains("r1-pc2: r1:eth1 (port p2), pc2:eth0 (port p3)"),
        "{status}"
    );
    assert!(status.contains("link: none"), "{status}");
}

#[test]
fn netkit_lab_directory_pc1_reaches_pc2_through_r1() {
    if !require_root("netkit_lab_directory_pc1_reaches_pc2_through_r1")
        || !require_peer("netkit_lab_directory_pc1_reaches_pc2_through_r1", "python3")
    {
        return;
    }
    let dir = workspace_root().join("testdata/labs/lab_2hosts_1rtr");
    let lab = Lab::up_with(&["--conf", dir.to_str().unwrap()]);
    let hosts: BTreeSet<String> = ["pc1", "r1", "pc2"].iter().map(|h| lab.netns(h)).collect();
    let all: BTreeSet<String> = lab.namespaces().into_iter().collect();
    assert!(hosts.is_subset(&all), "{all:?}");
    assert_eq!(all.len(), 4, "three hosts and the LAN switch: {all:?}");
    // r1's interfaces are eth0 and eth1, as lab.conf says.
    let links = ok(
        &lab.command("r1", "ip")
            .args(["-o", "link"])
            .output()
            .unwrap(),
        "ip link in r1",
    );
    assert!(
        links.contains(" eth0@") && links.contains(" eth1@"),
        "{links}"
    );
    assert_eq!(
        udp(&lab, "pc1", "pc2", "10.0.2.2", 1, "5"),
        ["datagram 0 10.0.1.2"]
    );
    assert_eq!(
        udp(&lab, "pc1", "pc2", "fd00:2::2", 1, "5"),
        ["datagram 0 fd00:1::2"]
    );
    // Through r1: with r1's forwarding off, the datagram no longer arrives.
    ok(
        &lab.command("r1", "sysctl")
            .args(["-q", "-w", "net.ipv4.ip_forward=0"])
            .output()
            .unwrap(),
        "forwarding off",
    );
    assert!(udp(&lab, "pc1", "pc2", "10.0.2.2", 1, "0.5").is_empty());
    let status = ok(&lab.script(&["status"]), "status");
    assert!(
        status.contains("LAN A") && status.contains("LAN B"),
        "{status}"
    );
    ok(&lab.script(&["down"]), "down");
    assert!(lab.namespaces().is_empty(), "{:?}", lab.namespaces());
}

#[test]
fn impair_loss_100_drops_everything_and_clear_restores() {
    if !require_root("impair_loss_100_drops_everything_and_clear_restores")
        || !require_peer(
            "impair_loss_100_drops_everything_and_clear_restores",
            "python3",
        )
        || !require_peer("impair_loss_100_drops_everything_and_clear_restores", "nft")
    {
        return;
    }
    let lab = Lab::up("two-hosts");
    lab.impair("brooklyn", &["--loss", "100"]);
    let got = udp(&lab, "midwood", "brooklyn", "192.168.56.101", 20, "1");
    assert!(got.is_empty(), "loss 100% let through: {got:?}");
    let status = ok(&lab.script(&["status"]), "status");
    // "dropped N of M so far": everything that arrived (our 20 datagrams, maybe IPv6
    // neighbour/multicast chatter too) was dropped.
    let counts: Vec<u64> = status
        .split("(dropped ")
        .nth(1)
        .and_then(|rest| rest.split(" so far").next())
        .map(|c| c.split(" of ").filter_map(|n| n.parse().ok()).collect())
        .unwrap_or_default();
    assert!(status.contains("loss 100% of received packets"), "{status}");
    assert!(
        counts.len() == 2 && counts[0] == counts[1] && counts[0] >= 20,
        "{status}"
    );
    // Only brooklyn's input is impaired: midwood still receives.
    assert_eq!(
        udp(&lab, "brooklyn", "midwood", "192.168.56.102", 1, "5").len(),
        1
    );

    lab.impair("brooklyn", &["--clear"]);
    let got = udp(&lab, "midwood", "brooklyn", "192.168.56.101", 20, "5");
    assert_eq!(got.len(), 20, "{got:?}");
    let status = ok(&lab.script(&["status"]), "status");
    assert!(!status.contains("loss"), "{status}");

    // A rate limit is a tbf qdisc on the host's interfaces, shown by status, gone after clear.
    lab.impair("brooklyn", &["--rate", "10mbit"]);
    let q = ok(
        &Command::new("tc")
            .args(["-n", &lab.netns("brooklyn"), "qdisc", "show", "dev", "eth0"])
            .output()
            .unwrap(),
        "tc qdisc show",
    );
    assert!(q.contains("tbf") && q.contains("10Mbit"), "{q}");
    assert!(ok(&lab.script(&["status"]), "status").contains("rate 10Mbit on eth0"));
    lab.impair("brooklyn", &["--clear"]);
    assert!(!ok(&lab.script(&["status"]), "status").contains("rate"));
}

#[test]
fn up_twice_and_down_twice_are_fine() {
    if !require_root("up_twice_and_down_twice_are_fine") {
        return;
    }
    let lab = Lab::up("two-hosts");
    let again = ok(&lab.script(&["up", "two-hosts"]), "second up");
    assert!(again.contains("already up"), "{again}");
    // A different topology under the same prefix is refused, naming the fix.
    let other = lab.script(&["up", "router"]);
    assert_eq!(other.status.code(), Some(1));
    assert!(text(&other.stderr).contains("scripts/lab down"));
    assert_eq!(lab.namespaces().len(), 3);
    ok(&lab.script(&["down"]), "first down");
    let second = ok(&lab.script(&["down"]), "second down");
    assert!(second.contains("nothing to do"), "{second}");
    assert!(lab.namespaces().is_empty());
    // exec on a lab that is down says so.
    let out = lab.script(&["exec", "brooklyn", "true"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("no lab is up"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn down_removes_only_its_own_prefix() {
    if !require_root("down_removes_only_its_own_prefix") {
        return;
    }
    let a = Lab::up("two-hosts");
    let b = Lab::up("two-hosts");
    ok(&a.script(&["down"]), "down a");
    assert!(a.namespaces().is_empty());
    assert_eq!(b.namespaces().len(), 3, "b's lab survives a's down");
    // A process running inside the lab does not keep it alive after down. (`sleep 60` is the
    // scenario: a long-running program; the test waits until it really runs in brooklyn, or
    // `down` could win the race and the check below would pass for the wrong reason.)
    let mut sleeper = b.command("brooklyn", "sleep").arg("60").spawn().unwrap();
    let pid = sleeper.id().to_string();
    let ns = b.netns("brooklyn");
    wait_ready(
        &mut sleeper,
        &format!("sleep (pid {pid}) inside {ns}"),
        || {
            Command::new("ip")
                .args(["netns", "identify", &pid])
                .output()
                .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == ns)
        },
    );
    ok(&b.script(&["down"]), "down b");
    assert!(b.namespaces().is_empty());
    let status = sleeper.wait().unwrap();
    assert!(!status.success(), "down stops what runs in the lab");
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("netlab-lab-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write(dir: &Path, file: &str, body: &str) {
    std::fs::write(dir.join(file), body).unwrap();
}

#[test]
fn failing_startup_names_the_host_and_leaves_nothing() {
    if !require_root("failing_startup_names_the_host_and_leaves_nothing") {
        return;
    }
    let dir = temp_dir("badstartup");
    write(&dir, "lab.conf", "a[0]=A\nb[0]=A\n");
    write(&dir, "a.startup", "ip link set eth0 up\n");
    write(
        &dir,
        "b.startup",
        "echo configuring b\nnetlab-no-such-command eth0 up\n",
    );
    let lab = Lab::unstarted();
    let out = lab.script(&["up", "--conf", dir.to_str().unwrap()]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("b.startup failed inside b"), "{err}");
    assert!(
        err.contains("configuring b"),
        "the script's output is shown: {err}"
    );
    assert!(err.contains("exit 127"), "{err}");
    assert!(lab.namespaces().is_empty(), "{:?}", lab.namespaces());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_lab_conf_line_is_reported_with_its_number() {
    // Parsing happens before anything is created, but `up` checks root first.
    if !require_root("bad_lab_conf_line_is_reported_with_its_number") {
        return;
    }
    let dir = temp_dir("badconf");
    write(&dir, "lab.conf", "# comment\npc1[0]=A\npc1 eth0 A\n");
    let lab = Lab::unstarted();
    let out = lab.script(&["up", "--conf", dir.to_str().unwrap()]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("lab.conf:3: cannot read 'pc1 eth0 A'"),
        "{err}"
    );
    assert!(lab.namespaces().is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn impair_delay_points_at_link_in_one_line() {
    // Needs no root: options are checked first.
    let out = Command::new(lab_script())
        .args(["impair", "brooklyn", "--delay", "5ms"])
        .env("NETLAB_PREFIX", "nonet-")
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("scripts/lab link brooklyn PEER delay 100ms"),
        "{err}"
    );
    assert!(!err.contains("no netem"), "the old message is gone: {err}");
    let out = Command::new(lab_script())
        .args(["impair", "brooklyn", "--loss", "150"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("more than 100"));
    let help = Command::new(lab_script()).arg("--help").output().unwrap();
    let help = ok(&help, "--help");
    for word in [
        "up",
        "exec",
        "link",
        "--to",
        "--clear",
        "--log-path",
        "--backend linkem|netem",
        "capture",
        "wireshark -k -i -",
        "sysctl",
        "impair",
        "status",
        "down",
        "NETLAB_PREFIX",
        "NETLAB_BIN",
        "Examples",
    ] {
        assert!(help.contains(word), "--help lacks {word}");
    }
    assert!(!help.contains("no netem"), "{help}");
}

#[test]
fn non_root_gets_a_one_line_error() {
    // As a normal user, run the script as it is; as root, drop to `nobody` with setpriv.
    let mut via: Option<PathBuf> = None;
    let mut cleanup = None;
    if is_root() {
        if !require_peer("non_root_gets_a_one_line_error", "setpriv") {
            return;
        }
        // `nobody` may not reach the checkout (e.g. under /root): run a world-readable copy.
        use std::os::unix::fs::PermissionsExt;
        let dir = temp_dir("nonroot");
        let copy = dir.join("lab");
        std::fs::copy(lab_script(), &copy).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755)).unwrap();
        via = Some(copy);
        cleanup = Some(dir);
    }
    let runner = |args: &[&str]| match &via {
        None => {
            let mut c = Command::new(lab_script());
            c.args(args);
            c
        }
        Some(copy) => {
            let mut c = Command::new("setpriv");
            c.args([
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                "--",
                "bash",
            ])
            .arg(copy)
            .args(args);
            c
        }
    };
    for args in [
        &["up", "two-hosts"][..],
        &["down"],
        &["exec", "brooklyn", "id"],
        &["link", "pc1", "r1", "delay", "10ms"],
        &["link", "pc1", "r1", "--clear"],
        &[
            "link",
            "pc1",
            "r1",
            "--backend",
            "netem",
            "--dry-run",
            "delay",
            "1ms",
        ],
        &["capture", "r1:eth0"],
        &["sysctl", "pc1", "net.ipv4.tcp_congestion_control=reno"],
    ] {
        let out = runner(args)
            .env("NETLAB_PREFIX", "nonroot-")
            .output()
            .unwrap();
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(
            err.contains("needs root") && err.contains("sudo scripts/lab"),
            "{args:?}: {err}"
        );
    }
    if let Some(dir) = cleanup {
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[test]
fn script_passes_bash_n_and_shellcheck() {
    let out = Command::new("bash")
        .arg("-n")
        .arg(lab_script())
        .output()
        .unwrap();
    ok(&out, "bash -n scripts/lab");
    if !require_peer("script_passes_bash_n_and_shellcheck", "shellcheck") {
        return;
    }
    let out = Command::new("shellcheck")
        .arg(lab_script())
        .output()
        .unwrap();
    ok(&out, "shellcheck scripts/lab");
}

/// The lab manual's generator (scripts/gen-lab-docs, its harness scripts/lib-docs.sh and every
/// page source docs/lab/src/*.sh, which CI runs with --check) passes shellcheck too.
#[test]
fn lab_docs_generator_and_pages_pass_shellcheck() {
    if !require_peer("lab_docs_generator_and_pages_pass_shellcheck", "shellcheck") {
        return;
    }
    let root = workspace_root();
    let mut files = vec![
        root.join("scripts/gen-lab-docs"),
        root.join("scripts/lib-docs.sh"),
    ];
    let mut pages: Vec<PathBuf> = std::fs::read_dir(root.join("docs/lab/src"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sh"))
        .collect();
    pages.sort();
    assert!(pages.len() >= 20, "only {} page sources", pages.len());
    files.extend(pages);
    let out = Command::new("shellcheck")
        .args(["-s", "bash", "-x"])
        .args(&files)
        .current_dir(root.join("scripts"))
        .output()
        .unwrap();
    ok(
        &out,
        "shellcheck scripts/gen-lab-docs scripts/lib-docs.sh docs/lab/src/*.sh",
    );
}

#[test]
fn kathara_options_sysctl_exec_mac_ipv6_and_shared_startup() {
    if !require_root("kathara_options_sysctl_exec_mac_ipv6_and_shared_startup") {
        return;
    }
    let dir = temp_dir("kathara");
    write(
        &dir,
        "lab.conf",
        "LAB_DESCRIPTION=\"options test\"\n\
         # a comment line\n\
         r1[0]=\"A\"   # trailing comment\n\
         r1[1]=B/02:00:00:00:00:11\n\
         r1[sysctl]=\"net.ipv4.ip_forward=1\"\n\
         r1[image]=\"kathara/frr\"\n\
         r1[exec]=\"ip address add 10.9.0.1/24 dev eth1\"\n\
         pc1[0]=A\n\
         pc1[ipv6]=false\n",
    );
    write(&dir, "shared.startup", "echo shared >> shared.log\n");
    let lab = Lab::unstarted();
    let out = lab.script(&["up", "--conf", dir.to_str().unwrap()]);
    let said = ok(&out, "up --conf");
    assert!(said.contains("options test"), "{said}");
    assert!(
        text(&out.stderr).contains("lab.conf:6: r1[image] ignored"),
        "{}",
        text(&out.stderr)
    );
    let sh = |host: &str, cmd: &str| {
        ok(
            &lab.command(host, "sh").args(["-c", cmd]).output().unwrap(),
            cmd,
        )
    };
    assert_eq!(sh("r1", "cat /proc/sys/net/ipv4/ip_forward").trim(), "1");
    assert!(sh("r1", "ip link show eth1").contains("02:00:00:00:00:11"));
    assert!(sh("r1", "ip -o address show eth1").contains("10.9.0.1/24"));
    assert_eq!(
        sh("pc1", "cat /proc/sys/net/ipv6/conf/eth0/disable_ipv6").trim(),
        "1"
    );
    assert_eq!(
        sh("r1", "cat /proc/sys/net/ipv6/conf/eth0/disable_ipv6").trim(),
        "0"
    );
    // shared.startup ran once per host, in the lab directory.
    let shared = std::fs::read_to_string(dir.join("shared.log")).unwrap();
    assert_eq!(shared, "shared\nshared\n");
    ok(&lab.script(&["down"]), "down");
    assert!(lab.namespaces().is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_namespace_not_made_by_the_lab_is_never_touched() {
    if !require_root("a_namespace_not_made_by_the_lab_is_never_touched") {
        return;
    }
    let lab = Lab::unstarted();
    let foreign = lab.netns("midwood");
    ok(
        &Command::new("ip")
            .args(["netns", "add", &foreign])
            .output()
            .unwrap(),
        "ip netns add",
    );
    let out = lab.script(&["up", "two-hosts"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!(
            "'{foreign}' already exists and was not made by scripts/lab"
        )),
        "{err}"
    );
    // brooklyn, created before the clash, is gone again; the foreign namespace stays.
    assert_eq!(lab.namespaces(), vec![foreign.clone()]);
    ok(&lab.script(&["down"]), "down");
    assert_eq!(lab.namespaces(), vec![foreign.clone()]);
    ok(
        &Command::new("ip")
            .args(["netns", "del", &foreign])
            .output()
            .unwrap(),
        "ip netns del",
    );
}

// ---- links: linkem (and netem where the kernel has it) ------------------------------------

/// The round-trip times (ms) of `count` pings from `host` to `addr` (IPv4 or IPv6), 0.1 s
/// apart; the replies that did not come within 2 s are missing from the list.
fn ping_rtts(lab: &Lab, host: &str, addr: &str, count: u32) -> Vec<f64> {
    let out = lab
        .command(host, "ping")
        .args(["-n", "-c", &count.to_string(), "-i", "0.1", "-W", "2", addr])
        .output()
        .unwrap();
    text(&out.stdout)
        .lines()
        .filter_map(|l| l.split("time=").nth(1))
        .filter_map(|t| t.trim_end_matches(" ms").parse().ok())
        .collect()
}

/// `count` pings that must all come back, with their RTTs.
fn rtts(lab: &Lab, host: &str, addr: &str, count: u32) -> Vec<f64> {
    let got = ping_rtts(lab, host, addr, count);
    assert_eq!(
        got.len(),
        count as usize,
        "ping {addr} from {host}: only {} of {count} replies ({got:?})",
        got.len()
    );
    got
}

fn assert_rtts_between(got: &[f64], low: f64, high: f64, what: &str) {
    assert!(
        got.iter().all(|&t| t >= low && t < high),
        "{what}: RTTs {got:?} ms, expected each in [{low}, {high})"
    );
}

/// The pid `status` shows for the linkem on a link (`linkem (pid N, ...`).
fn linkem_pid(lab: &Lab) -> u32 {
    let status = ok(&lab.script(&["status"]), "status");
    status
        .split("linkem (pid ")
        .nth(1)
        .and_then(|r| r.split(',').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no running linkem in status: {status}"))
}

/// True while process `pid` runs (an exited, unreaped one counts as gone).
fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit(") ")
                .next()
                .and_then(|r| r.split(' ').next())
                .map(str::to_owned)
        })
        .is_some_and(|st| st != "Z" && st != "X")
}

fn ndjson_records(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
        .lines()
        .map(str::to_owned)
        .collect()
}

/// A record's `type`, whatever the JSON spacing.
fn record_type(line: &str) -> &str {
    line.split("\"type\"")
        .nth(1)
        .and_then(|r| r.split('"').nth(1))
        .unwrap_or("")
}

fn require_linkem_lab(test: &str) -> bool {
    require_root(test) && require_peer(test, "ping")
}

#[test]
fn link_delay_both_ways_then_one_way_then_clear() {
    let t = "link_delay_both_ways_then_one_way_then_clear";
    if !require_linkem_lab(t) {
        return;
    }
    let lab = Lab::up("router");
    rtts(&lab, "pc1", "10.0.1.1", 1); // ARP settled before timing
    let said = lab.link("pc1", "r1", &["delay", "50ms"]);
    assert_eq!(
        said.trim(),
        "lab: pc1 <-> r1 through linkem: to pc1: delay 50ms; to r1: delay 50ms"
    );
    assert_rtts_between(
        &rtts(&lab, "pc1", "10.0.1.1", 3),
        100.0,
        130.0,
        "50 ms each way",
    );
    let status = ok(&lab.script(&["status"]), "status");
    assert!(
        status.contains("link: linkem (pid ")
            && status.contains("to pc1: delay 50ms; to r1: delay 50ms"),
        "{status}"
    );
    // The other link is untouched.
    assert_rtts_between(&rtts(&lab, "pc2", "10.0.2.1", 2), 0.0, 10.0, "r1-pc2");

    // A second call replaces one direction's words and keeps the other's.
    let said = lab.link("r1", "pc1", &["--to", "r1", "delay", "10ms"]);
    assert!(
        said.contains("to pc1: delay 50ms; to r1: delay 10ms"),
        "{said}"
    );
    assert_rtts_between(&rtts(&lab, "pc1", "10.0.1.1", 3), 60.0, 90.0, "50 + 10 ms");

    let said = lab.link("pc1", "r1", &["--clear"]);
    assert!(said.contains("impairments cleared"), "{said}");
    assert_rtts_between(&rtts(&lab, "pc1", "10.0.1.1", 3), 0.0, 10.0, "cleared");
    assert!(ok(&lab.script(&["status"]), "status").contains("link: none"));

    // One direction only: the RTT is the delay once, not twice.
    let said = lab.link("pc1", "r1", &["--to", "pc1", "delay", "40ms"]);
    assert!(said.contains("to pc1: delay 40ms; to r1: none"), "{said}");
    assert_rtts_between(
        &rtts(&lab, "pc1", "10.0.1.1", 3),
        40.0,
        70.0,
        "40 ms to pc1 only",
    );
    lab.link("pc1", "r1", &["--clear"]);
}

#[test]
fn arp_and_ipv6_pass_through_linkem_and_every_frame_is_logged() {
    let t = "arp_and_ipv6_pass_through_linkem_and_every_frame_is_logged";
    if !require_linkem_lab(t) {
        return;
    }
    let lab = Lab::up("router");
    lab.link("pc1", "r1", &["delay", "1ms"]);
    // Forget every neighbour, so ARP and IPv6 neighbour discovery must cross linkem.
    for host in ["pc1", "r1"] {
        ok(
            &lab.command(host, "ip")
                .args(["neigh", "flush", "all"])
                .output()
                .unwrap(),
            "ip neigh flush",
        );
    }
    assert_rtts_between(
        &rtts(&lab, "pc1", "10.0.1.1", 2),
        2.0,
        1000.0,
        "IPv4 via ARP",
    );
    assert_rtts_between(
        &rtts(&lab, "pc1", "fd00:1::1", 2),
        2.0,
        1000.0,
        "IPv6 via ND",
    );
    // Through r1 to pc2 as well, both families.
    rtts(&lab, "pc1", "10.0.2.2", 1);
    rtts(&lab, "pc1", "fd00:2::2", 1);
    let log = lab.link_log("pc1", "r1");
    assert_eq!(log.extension().and_then(|e| e.to_str()), Some("ndjson"));
    let said = lab.link("pc1", "r1", &["--clear"]);
    assert!(said.contains(&log.display().to_string()), "{said}");
    // Stopped by --clear: the log is complete, one record per frame and direction, then the
    // summary. (At least: 2 ARP + 2 NS/NA + 6 echo requests and replies through this link.)
    let records = ndjson_records(&log);
    let frames = records.iter().filter(|l| record_type(l) == "frame").count();
    assert!(frames >= 16, "{frames} frame records in {records:#?}");
    assert_eq!(
        records.last().map(|l| record_type(l)),
        Some("summary"),
        "{records:#?}"
    );
}

#[test]
fn link_loss_100_then_clear() {
    let t = "link_loss_100_then_clear";
    if !require_linkem_lab(t) {
        return;
    }
    let lab = Lab::up("two-hosts");
    // ARP first: with every frame lost from the start, midwood's ARP entry for brooklyn would
    // fail (three probes, a second apart) and pings right after --clear would find it failed.
    rtts(&lab, "midwood", "192.168.56.101", 1);
    lab.link("brooklyn", "midwood", &["loss", "100%"]);
    let got = ping_rtts(&lab, "midwood", "192.168.56.101", 3);
    assert!(got.is_empty(), "loss 100% let replies through: {got:?}");
    lab.link("brooklyn", "midwood", &["--clear"]);
    assert_rtts_between(
        &rtts(&lab, "midwood", "192.168.56.101", 3),
        0.0,
        10.0,
        "cleared",
    );
}

#[test]
fn down_stops_linkem_and_its_log_is_complete_restarts_keep_old_logs() {
    let t = "down_stops_linkem_and_its_log_is_complete_restarts_keep_old_logs";
    if !require_linkem_lab(t) {
        return;
    }
    let dir = temp_dir("linklog");
    let log = dir.join("run.ndjson");
    let lab = Lab::up("two-hosts");
    lab.link(
        "brooklyn",
        "midwood",
        &[
            "--log",
            log.to_str().unwrap(),
            "--seed",
            "7",
            "delay",
            "1ms",
        ],
    );
    assert_eq!(lab.link_log("midwood", "brooklyn"), log);
    rtts(&lab, "midwood", "192.168.56.101", 1);
    // A new spec restarts linkem; the first run's log is kept, numbered.
    lab.link("brooklyn", "midwood", &["delay", "2ms"]);
    let first = ndjson_records(&dir.join("run.1.ndjson"));
    assert_eq!(first.last().map(|l| record_type(l)), Some("summary"));
    // --seed reaches linkem: its start record names the seed (again after the restart, below).
    let seeded = |run: &[String]| {
        run.first()
            .is_some_and(|l| record_type(l) == "start" && l.contains("\"seed\":7"))
    };
    assert!(seeded(&first), "{first:#?}");
    rtts(&lab, "midwood", "192.168.56.101", 1);
    let pid = linkem_pid(&lab);
    ok(&lab.script(&["down"]), "down");
    assert!(!running(pid), "linkem (pid {pid}) still runs after down");
    let records = ndjson_records(&log);
    assert!(records.iter().any(|l| record_type(l) == "frame"));
    assert_eq!(
        records.last().map(|l| record_type(l)),
        Some("summary"),
        "down completes the log: {records:#?}"
    );
    assert!(seeded(&records), "{records:#?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_failing_linkem_is_reported_and_the_link_stays_a_plain_wire() {
    let t = "a_failing_linkem_is_reported_and_the_link_stays_a_plain_wire";
    if !require_linkem_lab(t) {
        return;
    }
    // A stand-in linkem that accepts every spec and then fails as linkem does on a bad
    // interface (exit 3, one line).
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir("failbin");
    let fake = dir.join("linkem");
    write(
        &dir,
        "linkem",
        "#!/bin/sh\n[ \"$1\" = --check ] && { echo \"$*\"; exit 0; }\n\
         echo 'error: p0: cannot open the interface (stand-in)' >&2\nexit 3\n",
    );
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let lab = Lab::up("two-hosts");
    let out = lab
        .script_command(&["link", "brooklyn", "midwood", "delay", "50ms"])
        .env("NETLAB_BIN", &dir)
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "linkem's exit code: {err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("linkem on brooklyn <-> midwood failed (exit 3)")
            && err.contains("cannot open the interface (stand-in)")
            && err.contains("the link is unimpaired"),
        "{err}"
    );
    assert!(ok(&lab.script(&["status"]), "status").contains("link: none"));
    assert_rtts_between(
        &rtts(&lab, "midwood", "192.168.56.101", 2),
        0.0,
        10.0,
        "ports back on the bridge",
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn links_conf_is_applied_by_up_conf() {
    let t = "links_conf_is_applied_by_up_conf";
    if !require_linkem_lab(t) {
        return;
    }
    let dir = workspace_root().join("testdata/labs/lab_2hosts_1rtr_netem");
    let lab = Lab::unstarted();
    let out = lab.script(&["up", "--conf", dir.to_str().unwrap()]);
    let said = ok(&out, "up --conf lab_2hosts_1rtr_netem");
    assert!(
        said.contains("lab: pc1 <-> r1 through linkem: to pc1: delay 100ms; to r1: none"),
        "{said}"
    );
    rtts(&lab, "pc1", "10.0.2.2", 1);
    // 100 ms on the way to pc1 only: the RTT is 100 ms, to pc2 through r1 as well.
    assert_rtts_between(
        &rtts(&lab, "pc1", "10.0.2.2", 3),
        100.0,
        130.0,
        "links.conf",
    );
    assert_rtts_between(&rtts(&lab, "pc2", "10.0.2.1", 2), 0.0, 10.0, "r1-pc2");
}

#[test]
fn bad_links_conf_line_fails_up_and_leaves_nothing() {
    let t = "bad_links_conf_line_fails_up_and_leaves_nothing";
    if !require_root(t) {
        return;
    }
    let dir = temp_dir("badlinks");
    write(&dir, "lab.conf", "a[0]=A\nb[0]=A\nb[1]=B\nc[0]=B\n");
    for (links, line, says) in [
        (
            "# comment\na b delay 1ms\na c delay 1ms\n",
            "links.conf:3: ",
            "no LAN joins a and c: the lab's links are a <-> b, b <-> c",
        ),
        (
            "a b delay 1ms\na b loss 1%\n",
            "links.conf:2: ",
            "given twice (also line 1)",
        ),
        ("a b\n", "links.conf:1: ", "expected FROM TO NETEM-WORDS"),
        ("backend=tc\n", "links.conf:1: ", "backend=linkem"),
        ("b c delay soon\n", "links.conf:1: ", ""),
    ] {
        write(&dir, "links.conf", links);
        let lab = Lab::unstarted();
        let out = lab.script(&["up", "--conf", dir.to_str().unwrap()]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{links}: {err}");
        let first = err.lines().next().unwrap_or("");
        assert!(
            first.contains(line) && first.contains(says),
            "{links}: {err}"
        );
        assert!(err.contains("the partial lab was removed"), "{err}");
        assert!(lab.namespaces().is_empty(), "{:?}", lab.namespaces());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn link_errors_name_the_lan_and_its_hosts() {
    let t = "link_errors_name_the_lan_and_its_hosts";
    if !require_root(t) {
        return;
    }
    let one_line = |out: &Output, code: i32| {
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        err
    };
    let lab = Lab::unstarted();
    let err = one_line(&lab.script(&["link", "pc1", "r1", "delay", "1ms"]), 1);
    assert!(err.contains("no lab is up"), "{err}");

    let dir = temp_dir("sharedlan");
    write(&dir, "lab.conf", "a[0]=A\nb[0]=A\nc[0]=A\n");
    let lab = Lab::up_with(&["--conf", dir.to_str().unwrap()]);
    let err = one_line(&lab.script(&["link", "a", "b", "delay", "1ms"]), 1);
    assert!(
        err.contains("LAN A has 3 hosts (a:eth0, b:eth0, c:eth0)")
            && err.contains("point-to-point"),
        "{err}"
    );
    drop(lab);
    let _ = std::fs::remove_dir_all(&dir);

    let lab = Lab::up("router");
    let err = one_line(&lab.script(&["link", "pc1", "pc2", "delay", "1ms"]), 1);
    assert!(
        err.contains("no LAN joins pc1 and pc2: the lab's links are pc1 <-> r1, r1 <-> pc2"),
        "{err}"
    );
    let err = one_line(&lab.script(&["link", "pc1", "pc9", "delay", "1ms"]), 1);
    assert!(err.contains("no host 'pc9'"), "{err}");
    // Bad netem words: linkem --check's one line, exit 2, nothing started.
    let err = one_line(&lab.script(&["link", "pc1", "r1", "delay", "soon"]), 2);
    assert!(err.starts_with("lab: "), "{err}");
    let out = lab.script(&["link", "pc1", "r1", "--to", "pc2", "delay", "1ms"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("pc1 or r1"));
    assert!(ok(&lab.script(&["status"]), "status").contains("link: none"));
}

/// True when this kernel can run a netem qdisc, found by trying it on a veth in a namespace
/// of our own (never assumed either way).
fn kernel_has_netem(lab: &Lab) -> bool {
    let ns = format!("{}netem-probe", lab.prefix());
    let sh = |args: &[&str]| Command::new("ip").args(args).output().unwrap();
    ok(&sh(&["netns", "add", &ns]), "ip netns add");
    ok(
        &sh(&[
            "-n", &ns, "link", "add", "v0", "type", "veth", "peer", "name", "v1",
        ]),
        "veth in the probe namespace",
    );
    let has = Command::new("tc")
        .args(["-n", &ns, "qdisc", "add", "dev", "v0", "root", "netem"])
        .args(["delay", "1ms"])
        .output()
        .unwrap()
        .status
        .success();
    ok(&sh(&["netns", "del", &ns]), "ip netns del");
    has
}

#[test]
fn netem_backend_dry_run_prints_the_tc_commands_and_runs_where_netem_exists() {
    let t = "netem_backend_dry_run_prints_the_tc_commands_and_runs_where_netem_exists";
    if !require_root(t) || !require_peer(t, "tc") || !require_peer(t, "ping") {
        return;
    }
    let lab = Lab::up("router");
    let sw = lab.switch_netns();
    let dry = lab.link(
        "pc1",
        "r1",
        &[
            "--backend",
            "netem",
            "--dry-run",
            "delay",
            "10ms",
            "loss",
            "1%",
        ],
    );
    assert_eq!(
        dry,
        format!(
            "tc -n {sw} qdisc replace dev p0 root netem delay 10ms loss 1%\n\
             tc -n {sw} qdisc replace dev p1 root netem delay 10ms loss 1%\n"
        )
    );
    // --to r1: only the port whose egress goes to r1.
    let dry = lab.link(
        "pc1",
        "r1",
        &[
            "--backend",
            "netem",
            "--to",
            "r1",
            "--dry-run",
            "delay",
            "10ms",
        ],
    );
    assert_eq!(
        dry,
        format!("tc -n {sw} qdisc replace dev p1 root netem delay 10ms\n")
    );
    let dry = lab.link("r1", "pc2", &["--backend", "netem", "--clear", "--dry-run"]);
    assert_eq!(
        dry,
        format!("tc -n {sw} qdisc del dev p2 root\ntc -n {sw} qdisc del dev p3 root\n")
    );
    // Nothing ran.
    assert!(ok(&lab.script(&["status"]), "status").contains("link: none"));

    let out = lab.script(&["link", "pc1", "r1", "--backend", "netem", "delay", "10ms"]);
    if kernel_has_netem(&lab) {
        ok(&out, "link --backend netem");
        for port in ["p0", "p1"] {
            let q = ok(
                &Command::new("tc")
                    .args(["-n", &sw, "qdisc", "show", "dev", port, "root"])
                    .output()
                    .unwrap(),
                "tc qdisc show",
            );
            assert!(
                q.contains("netem") && q.contains("delay 10ms"),
                "{port}: {q}"
            );
        }
        assert!(ok(&lab.script(&["status"]), "status").contains("link: netem"));
        rtts(&lab, "pc1", "10.0.1.1", 1);
        assert_rtts_between(&rtts(&lab, "pc1", "10.0.1.1", 2), 20.0, 50.0, "netem 10 ms");
        lab.link("pc1", "r1", &["--clear"]);
        assert!(ok(&lab.script(&["status"]), "status").contains("link: none"));
    } else {
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains("this kernel has no sch_netem") && err.contains("linkem"),
            "{err}"
        );
        assert!(ok(&lab.script(&["status"]), "status").contains("link: none"));
    }
}

// ---- capture ------------------------------------------------------------------------------

/// Runs `scripts/lab capture ARGS...` until it exits by itself (its `-c`), calling `traffic`
/// once the capture listens; returns the pcap bytes from its stdout and its stderr lines.
fn capture(lab: &Lab, args: &[&str], traffic: impl FnOnce()) -> (Vec<u8>, Vec<String>) {
    let mut all = vec!["capture"];
    all.extend_from_slice(args);
    let mut child = lab
        .script_command(&all)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut b = Vec::new();
        stdout.read_to_end(&mut b).unwrap();
        b
    });
    let mut err = Lines::new(child.stderr.take().unwrap());
    err.expect("listening on", |l| l.starts_with("listening on"));
    traffic();
    let done = poll_until(Duration::from_secs(20), || {
        child.try_wait().unwrap().is_some()
    });
    if !done {
        let _ = child.kill();
    }
    let status = child.wait().unwrap();
    let lines = err.finish();
    assert!(
        done && status.success(),
        "capture {args:?}: {status}: {lines:#?}"
    );
    (reader.join().unwrap(), lines)
}

/// What `prog -r -` (tcpdump, tshark) prints for the pcap bytes.
fn read_back(prog: &str, args: &[&str], pcap: &[u8]) -> String {
    use std::io::Write;
    let mut child = Command::new(prog)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(pcap).unwrap();
    ok(&child.wait_with_output().unwrap(), prog)
}

fn assert_two_pings(pcap: &[u8], what: &str) {
    assert_eq!(
        pcap.get(..4),
        Some(&[0xd4, 0xc3, 0xb2, 0xa1][..]),
        "{what}: pcap magic"
    );
    let td = read_back("tcpdump", &["-n", "-r", "-"], pcap);
    assert_eq!(td.matches("ICMP echo request").count(), 2, "{what}: {td}");
    assert_eq!(td.matches("ICMP echo reply").count(), 2, "{what}: {td}");
    assert_eq!(td.lines().count(), 4, "{what}: nothing but the pings: {td}");
    let ts = read_back("tshark", &["-n", "-r", "-"], pcap);
    assert_eq!(ts.matches("Echo (ping) request").count(), 2, "{what}: {ts}");
    assert_eq!(ts.matches("Echo (ping) reply").count(), 2, "{what}: {ts}");
}

#[test]
fn capture_of_a_host_interface_and_of_a_lan_reads_back_in_tcpdump_and_tshark() {
    let t = "capture_of_a_host_interface_and_of_a_lan_reads_back_in_tcpdump_and_tshark";
    if !require_root(t)
        || !require_peer(t, "ping")
        || !require_peer(t, "tcpdump")
        || !require_peer(t, "tshark")
    {
        return;
    }
    let lab = Lab::up("router");
    rtts(&lab, "pc1", "10.0.2.2", 1);
    let ping = || {
        rtts(&lab, "pc1", "10.0.2.2", 2);
    };
    // pc1 alone: its only interface.
    let (pcap, _) = capture(&lab, &["pc1", "-c", "4", "icmp"], ping);
    assert_two_pings(&pcap, "pc1");
    let (pcap, _) = capture(&lab, &["r1:eth1", "-c", "4", "icmp"], ping);
    assert_two_pings(&pcap, "r1:eth1");
    // A LAN: its bridge in the switch namespace.
    let (pcap, err) = capture(&lab, &["r1-pc2", "-c", "4", "icmp"], ping);
    assert_two_pings(&pcap, "LAN r1-pc2");
    assert!(
        err.iter().any(|l| l.contains("listening on br-r1-pc2")),
        "{err:#?}"
    );
    // With linkem on the link, at the port facing its first host, saying so.
    lab.link("pc1", "r1", &["delay", "1ms"]);
    let (pcap, err) = capture(&lab, &["pc1-r1", "-c", "4", "icmp"], ping);
    assert_two_pings(&pcap, "LAN pc1-r1 under linkem");
    assert!(
        err.iter()
            .any(|l| l.contains("linkem sits on LAN pc1-r1") && l.contains("p0, facing pc1")),
        "{err:#?}"
    );
    // -w FILE writes the file instead.
    let dir = temp_dir("capture");
    let file = dir.join("r1.pcap");
    let (pcap, _) = capture(
        &lab,
        &["r1:eth0", "-w", file.to_str().unwrap(), "-c", "4", "icmp"],
        ping,
    );
    assert!(pcap.is_empty(), "stdout stays empty with -w");
    assert_two_pings(&std::fs::read(&file).unwrap(), "-w file");
    let _ = std::fs::remove_dir_all(&dir);

    // Several interfaces: say which.
    let out = lab.script(&["capture", "r1"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("several interfaces (eth0 eth1)") && err.contains("r1:eth0"),
        "{err}"
    );
}

#[test]
fn capture_exits_0_when_its_reader_goes_away() {
    let t = "capture_exits_0_when_its_reader_goes_away";
    if !require_root(t) || !require_peer(t, "ping") {
        return;
    }
    let lab = Lab::up("two-hosts");
    let mut child = lab
        .script_command(&["capture", "brooklyn"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = Lines::new(child.stderr.take().unwrap());
    err.expect("listening on", |l| l.starts_with("listening on"));
    let mut stdout = child.stdout.take().unwrap();
    let mut header = [0u8; 24];
    stdout.read_exact(&mut header).unwrap();
    assert_eq!(&header[..4], &[0xd4, 0xc3, 0xb2, 0xa1]);
    drop(stdout); // the reader goes away, like `| head -c 24`
    let mut exited = false;
    for _ in 0..20 {
        ping_rtts(&lab, "midwood", "192.168.56.101", 1);
        if poll_until(Duration::from_millis(200), || {
            child.try_wait().unwrap().is_some()
        }) {
            exited = true;
            break;
        }
    }
    if !exited {
        let _ = child.kill();
    }
    let status = child.wait().unwrap();
    assert!(exited, "capture kept running after its reader went away");
    assert_eq!(status.code(), Some(0), "{:#?}", err.finish());
}

// ---- sysctl -------------------------------------------------------------------------------

#[test]
fn sysctl_sets_and_prints_a_hosts_net_keys() {
    let t = "sysctl_sets_and_prints_a_hosts_net_keys";
    if !require_root(t) {
        return;
    }
    let lab = Lab::up("two-hosts");
    let key = "net.ipv4.tcp_congestion_control";
    let cat = |host: &str| {
        ok(
            &lab.command(host, "sysctl")
                .args(["-n", "net.ipv4.tcp_congestion_control"])
                .output()
                .unwrap(),
            "sysctl -n",
        )
        .trim()
        .to_owned()
    };
    let midwood_before = cat("midwood");
    let said = ok(
        &lab.script(&["sysctl", "brooklyn", &format!("{key}=reno")]),
        "sysctl set",
    );
    assert_eq!(said, format!("lab: brooklyn: {key} = reno\n"));
    assert_eq!(cat("brooklyn"), "reno");
    assert_eq!(cat("midwood"), midwood_before, "only brooklyn changed");
    let got = ok(&lab.script(&["sysctl", "brooklyn", key]), "sysctl get");
    assert_eq!(got, format!("{key} = reno\n"));

    let out = lab.script(&["sysctl", "brooklyn", &format!("{key}=nosuchcc")]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("net.ipv4.tcp_available_congestion_control = ") && err.contains("reno"),
        "{err}"
    );
    assert_eq!(cat("brooklyn"), "reno");
    let out = lab.script(&["sysctl", "brooklyn", "net.ipv4.no_such_key"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("brooklyn has no sysctl net.ipv4.no_such_key"));
    let out = lab.script(&["sysctl", "brooklyn", "kernel.hostname=x"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("only net.* keys"));
}
