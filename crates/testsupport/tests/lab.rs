//! Integration tests of `scripts/lab`: real namespaces, real sockets (python3 inside the lab
//! hosts), real nftables loss. Tests that need root skip visibly without it (and fail in CI).

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use testsupport::{Lab, is_root, require_peer, require_root, wait_ready, workspace_root};

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
        [lab.netns("brooklyn"), lab.netns("midwood")].into(),
        "two-hosts creates exactly brooklyn and midwood"
    );
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

    // Offloads off, so captures show the segments and checksums that cross the link.
    if require_peer("two_hosts_udp_v4_v6_then_down_leaves_nothing", "ethtool") {
        for host in ["brooklyn", "midwood"] {
            let k = ok(
                &lab.command(host, "ethtool")
                    .args(["-k", "eth0"])
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
    assert!(said.contains("removed 2 namespace"), "{said}");
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
    assert_eq!(lab.namespaces().len(), 3);
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
    assert_eq!(lab.namespaces().len(), 2);
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
    assert_eq!(b.namespaces().len(), 2, "b's lab survives a's down");
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
fn delay_says_there_is_no_netem_in_one_line() {
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
        err.contains("no netem") && err.contains("--delay MS"),
        "{err}"
    );
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
        "impair",
        "status",
        "down",
        "NETLAB_PREFIX",
        "Examples",
    ] {
        assert!(help.contains(word), "--help lacks {word}");
    }
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
