//! Helpers for netlab's integration tests: visible skips, the shared traces, built binaries,
//! captures built in a test ([`pcap`]), and throw-away namespace labs.
//!
//! Tests that need root, `../shared` or an external peer call one of the `require_*`
//! functions first. Where the requirement is missing they print a visible `SKIP` line and
//! return `None`/`false`; with `NETLAB_REQUIRE_ROOT=1`, `NETLAB_REQUIRE_SHARED=1` or
//! `NETLAB_REQUIRE_PEERS=1` (set by CI) they panic instead, so nothing skips silently there.

pub mod pcap;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

use netproto::frame::{TcpOption, decode};

/// What a test needs from the machine, each with the variable that forbids skipping it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// Root (namespaces, capture): `NETLAB_REQUIRE_ROOT=1`.
    Root,
    /// `../shared/traces/cnp3` beside the checkout: `NETLAB_REQUIRE_SHARED=1`.
    Shared,
    /// A peer program or a facility of the host (IPv6 loopback): `NETLAB_REQUIRE_PEERS=1`.
    Peers,
}

impl Need {
    /// The environment variable that turns this skip into a failure.
    pub fn var(self) -> &'static str {
        match self {
            Need::Root => "NETLAB_REQUIRE_ROOT",
            Need::Shared => "NETLAB_REQUIRE_SHARED",
            Need::Peers => "NETLAB_REQUIRE_PEERS",
        }
    }

    /// True when CI (or the developer) set this need's variable to 1.
    pub fn required(self) -> bool {
        std::env::var(self.var()).is_ok_and(|v| v == "1")
    }
}

/// The one way a test skips: a visible `SKIP test: why` line, or a panic when `need`'s
/// variable is set. Every skip in the workspace's tests goes through here (a test checks it).
pub fn skip(need: Need, test: &str, why: &str) {
    let var = need.var();
    if need.required() {
        panic!("{test}: {why}, and {var}=1 forbids skipping");
    }
    eprintln!("SKIP {test}: {why} (set {var}=1 to make this a failure)");
}

/// The workspace's top directory.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root exists")
}

/// The CNP3 traces in which tshark and tcpdump see TCP: trace-driven tests assert they compared
/// exactly these, so a trace that vanishes, stops holding TCP or appears fails them.
pub const CNP3_TCP_TRACES: [&str; 12] = [
    "bgp-as1-trace.pcap",
    "simple-trace.pcap",
    "trace.5connections.pcap",
    "trace.5connections_opening_closing.pcap",
    "trace.ipv6.google.com.pcap",
    "trace.maps.google.com.pcap",
    "trace.sirius.info.ucl.ac.be.pcap",
    "trace0.pcap",
    "trace1.pcap",
    "trace2.pcap",
    "trace3.pcap",
    "trace9.pcap",
];

/// True when the effective user is root (no output; see [`require_root`] for tests).
pub fn is_root() -> bool {
    // /proc/self/status has the effective uid on Linux; no unsafe geteuid needed.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(str::to_owned))
        })
        .and_then(|u| u.parse::<u32>().ok())
        == Some(0)
}

/// True when running as root; otherwise prints a SKIP line (or panics in CI).
pub fn require_root(test: &str) -> bool {
    if is_root() {
        return true;
    }
    skip(Need::Root, test, "needs root (network namespaces)");
    false
}

/// The CNP3 traces in `../shared/traces/cnp3`, or a SKIP line (panic in CI) when absent.
pub fn shared_traces(test: &str) -> Option<PathBuf> {
    let dir = workspace_root().join("../shared/traces/cnp3");
    if dir.is_dir() {
        return Some(dir.canonicalize().unwrap_or(dir));
    }
    skip(
        Need::Shared,
        test,
        "../shared/traces/cnp3 is not beside the checkout",
    );
    None
}

/// True when `cmd` is on PATH; otherwise a SKIP line (panic with `NETLAB_REQUIRE_PEERS=1`).
/// `cmd` must be listed in `scripts/peers`, the list `scripts/test` installs from: a test that
/// names an unlisted peer fails at once, so a fresh machine never lacks what a test needs.
pub fn require_peer(test: &str, cmd: &str) -> bool {
    let listed = peers();
    assert!(
        listed.iter().any(|p| p.command == cmd),
        "{test}: peer `{cmd}` is not listed in scripts/peers, so scripts/test does not install it: add a line `{cmd} PACKAGE`"
    );
    let found = on_path(cmd);
    if !found {
        skip(
            Need::Peers,
            test,
            &format!("peer `{cmd}` is not installed (scripts/test installs it)"),
        );
    }
    found
}

/// True when `cmd` is an executable file in one of PATH's directories.
pub fn on_path(cmd: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|p| p.join(cmd).is_file()))
}

/// True when this host has an IPv6 loopback (binding `[::1]:0` works); otherwise a SKIP line
/// (panic with `NETLAB_REQUIRE_PEERS=1`: CI's hosts have IPv6).
pub fn require_ipv6(test: &str) -> bool {
    let ok = std::net::TcpListener::bind("[::1]:0").is_ok();
    if !ok {
        skip(Need::Peers, test, "this host has no IPv6 loopback (::1)");
    }
    ok
}

/// One line of `scripts/peers`: a command the tests run and how `scripts/test` installs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Peer {
    /// The program's name on PATH.
    pub command: String,
    /// A Debian package (`tcpdump`) or a PyPI one (`pip:flask`).
    pub source: String,
}

/// Every peer `scripts/peers` lists (its comments and blank lines left out).
pub fn peers() -> Vec<Peer> {
    let path = workspace_root().join("scripts/peers");
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    parse_peers(&text)
}

/// `scripts/peers`' format: `COMMAND SOURCE` per line, `#` starts a comment.
pub fn parse_peers(text: &str) -> Vec<Peer> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or(""))
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            Some(Peer {
                command: w.next()?.to_owned(),
                source: w.next()?.to_owned(),
            })
        })
        .collect()
}

/// The directory of the workspace binaries built with the running test (`target/<profile>`).
pub fn tool_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    // target/<profile>/deps/<test> -> target/<profile>
    exe.parent()
        .and_then(Path::parent)
        .expect("test binary lives in target/<profile>/deps")
        .to_path_buf()
}

/// Path of a workspace binary built into the same target directory as the running test
/// (`cargo build --workspace` builds them all; scripts/test does that before testing).
pub fn tool(name: &str) -> PathBuf {
    let path = tool_dir().join(name);
    assert!(
        path.is_file(),
        "{} is not built: run `cargo build --workspace` first",
        path.display()
    );
    path
}

/// Point a lab script (scripts/scenario, or a script running it) at this test run's binaries
/// (linkem, sniff: `NETLAB_BIN`) and a private lab prefix ending in `tag` (`NETLAB_PREFIX`).
pub fn lab_env<'a>(cmd: &'a mut Command, tag: &str) -> &'a mut Command {
    let linkem = tool("linkem");
    cmd.env("NETLAB_BIN", linkem.parent().expect("target dir"))
        .env("NETLAB_PREFIX", format!("t{}{tag}", std::process::id()))
}

/// Run `scripts/scenario cnp3-netem DIR ARGS...` with this test run's binaries and a private
/// lab prefix ending in `tag` (`lab_env`); panics with its stderr when it fails, else returns
/// what it printed (the summary table).
pub fn scenario(dir: &Path, args: &[&str], tag: &str) -> String {
    let out = lab_env(
        Command::new(workspace_root().join("scripts/scenario"))
            .arg("cnp3-netem")
            .arg(dir)
            .args(args),
        tag,
    )
    .output()
    .expect("run scripts/scenario");
    assert!(
        out.status.success(),
        "scripts/scenario cnp3-netem {} failed: {}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A namespace lab brought up by `scripts/lab` with a private name prefix, so that tests
/// (and developers) can run several at once. Torn down on drop.
#[derive(Debug)]
pub struct Lab {
    prefix: String,
}

static LAB_SEQ: AtomicU32 = AtomicU32::new(0);

impl Lab {
    /// `scripts/lab up TOPOLOGY` under a fresh prefix (`t<pid>x<n>-`). Panics with the script's
    /// stderr when it fails.
    pub fn up(topology: &str) -> Lab {
        Lab::up_with(&[topology])
    }

    /// `scripts/lab up ARGS...` under a fresh prefix, e.g. `Lab::up_with(&["--conf", dir])` for a
    /// netkit lab directory. Panics with the script's stderr when it fails.
    pub fn up_with(args: &[&str]) -> Lab {
        let lab = Lab::unstarted();
        let mut all = vec!["up"];
        all.extend_from_slice(args);
        let out = lab.script(&all);
        assert!(
            out.status.success(),
            "scripts/lab up {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        lab
    }

    /// A fresh prefix with nothing brought up yet (for tests of `scripts/lab` itself, which
    /// call [`Lab::script`] with `up` and its failures). `down` still runs on drop.
    pub fn unstarted() -> Lab {
        let n = LAB_SEQ.fetch_add(1, Ordering::Relaxed);
        Lab {
            prefix: format!("t{}x{}-", std::process::id(), n),
        }
    }

    /// The prefix every namespace of this lab carries.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The namespace name of a lab host (e.g. `brooklyn` -> `t42x0-brooklyn`).
    pub fn netns(&self, host: &str) -> String {
        format!("{}{}", self.prefix, host)
    }

    /// Run `scripts/lab ARGS...` with this lab's prefix.
    pub fn script(&self, args: &[&str]) -> Output {
        self.script_command(args).output().expect("run scripts/lab")
    }

    /// `scripts/lab ARGS...` with this lab's prefix, to spawn (e.g. a `capture` whose stdout a
    /// test reads). `NETLAB_BIN` is [`tool_dir`], so the script runs the `linkem` and `sniff`
    /// built with the test, unless the test run itself sets `NETLAB_BIN`.
    pub fn script_command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(workspace_root().join("scripts/lab"));
        c.args(args).env("NETLAB_PREFIX", &self.prefix);
        if std::env::var_os("NETLAB_BIN").is_none() {
            c.env("NETLAB_BIN", tool_dir());
        }
        c
    }

    /// The namespace holding the lab's LANs (one bridge per LAN; linkem runs there).
    pub fn switch_netns(&self) -> String {
        format!("{}lans.switch", self.prefix)
    }

    /// Run `scripts/lab link A B ARGS...` (e.g. `&["delay", "50ms"]`, `&["--to", "pc1", "loss",
    /// "1%"]`, `&["--clear"]`) and return what it printed; panics with the script's stderr when
    /// it fails.
    pub fn link(&self, a: &str, b: &str, args: &[&str]) -> String {
        let mut all = vec!["link", a, b];
        all.extend_from_slice(args);
        let out = self.script(&all);
        assert!(
            out.status.success(),
            "scripts/lab link {a} {b} {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The NDJSON ground-truth log of linkem on the link between `a` and `b`
    /// (`scripts/lab link A B --log-path`).
    pub fn link_log(&self, a: &str, b: &str) -> PathBuf {
        PathBuf::from(self.link(a, b, &["--log-path"]).trim())
    }

    /// A command that runs `program` inside `host`'s namespace.
    pub fn command(&self, host: &str, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new("ip");
        c.arg("netns")
            .arg("exec")
            .arg(self.netns(host))
            .arg(program);
        c
    }

    /// Run `scripts/lab impair HOST ARGS...` (e.g. `&["--loss", "10"]`, `&["--clear"]`);
    /// panics with the script's stderr when it fails.
    pub fn impair(&self, host: &str, args: &[&str]) {
        let mut all = vec!["impair", host];
        all.extend_from_slice(args);
        let out = self.script(&all);
        assert!(
            out.status.success(),
            "scripts/lab impair {host} {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Namespaces (of any lab) whose name starts with this lab's prefix, as `ip netns list`
    /// shows them: empty once the lab is down.
    pub fn namespaces(&self) -> Vec<String> {
        let out = Command::new("ip")
            .args(["netns", "list"])
            .output()
            .expect("run ip netns list");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split_whitespace().next())
            .filter(|ns| ns.starts_with(&self.prefix))
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = self.script(&["down"]);
    }
}

/// A server process started by a test whose first stderr line ends with its bound address
/// (`... listening on 127.0.0.1:40123`); the rest of its stderr is collected for `wait_log`.
/// Killed on drop.
#[derive(Debug)]
pub struct LoggedServer {
    child: std::process::Child,
    /// The address the server announced.
    pub addr: std::net::SocketAddr,
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl LoggedServer {
    /// Spawn `cmd` with stderr piped and wait for its announcement line.
    pub fn spawn(mut cmd: Command) -> LoggedServer {
        use std::io::{BufRead, BufReader};
        let mut child = cmd
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn server");
        let mut lines = BufReader::new(child.stderr.take().expect("piped stderr")).lines();
        let first = lines
            .next()
            .expect("server printed nothing")
            .expect("read server stderr");
        let addr = first
            .rsplit(' ')
            .next()
            .and_then(|w| w.parse().ok())
            .unwrap_or_else(|| panic!("no address at the end of {first:?}"));
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = log.clone();
        std::thread::spawn(move || {
            for l in lines.map_while(Result::ok) {
                sink.lock().expect("log lock").push(l);
            }
        });
        LoggedServer { child, addr, log }
    }

    /// The first log line containing `needle`, waiting up to [`READY_TIMEOUT`] for it.
    pub fn wait_log(&self, needle: &str) -> String {
        let find = || {
            let log = self.log.lock().expect("log lock");
            log.iter().find(|l| l.contains(needle)).cloned()
        };
        let mut found = None;
        poll_until(READY_TIMEOUT, || {
            found = find();
            found.is_some()
        });
        found.unwrap_or_else(|| {
            panic!(
                "no log line with {needle:?} in {:?}",
                self.log.lock().expect("log lock")
            )
        })
    }
}

impl Drop for LoggedServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How long a test waits for a peer or a tool of its own to become ready (a line, a port):
/// generous, because a loaded 2-core CI machine can take seconds to start a process.
pub const READY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Call `ready` until it returns true or `timeout` passes; true when it did. The one poll loop
/// of the test suite: tests wait for conditions with it (or [`wait_until`], [`wait_ready`],
/// [`Lines::wait_for`]) instead of sleeping for a guessed time.
pub fn poll_until(timeout: std::time::Duration, mut ready: impl FnMut() -> bool) -> bool {
    use std::time::{Duration, Instant};
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(2);
    loop {
        if ready() {
            return true;
        }
        let now = Instant::now();
        if now >= deadline {
            return false;
        }
        std::thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// [`poll_until`], panicking `timed out after ... waiting for WHAT` when `ready` never held.
pub fn wait_until(timeout: std::time::Duration, what: &str, ready: impl FnMut() -> bool) {
    assert!(
        poll_until(timeout, ready),
        "timed out after {timeout:?} waiting for {what}"
    );
}

/// Wait up to [`READY_TIMEOUT`] until `ready` holds, while `child` (the process that should
/// make it hold) runs: panics at once, with the child's stderr when it is piped and not taken,
/// if the child exits first, and names `what` on timeout.
pub fn wait_ready(child: &mut std::process::Child, what: &str, mut ready: impl FnMut() -> bool) {
    let mut exited = None;
    let ok = poll_until(READY_TIMEOUT, || {
        if ready() {
            return true;
        }
        exited = child.try_wait().ok().flatten();
        exited.is_some()
    });
    if let Some(status) = exited {
        let mut err = String::new();
        if let Some(mut pipe) = child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut pipe, &mut err);
        }
        panic!("{what}: the process exited ({status}) first; its stderr: {err}");
    }
    assert!(ok, "timed out after {READY_TIMEOUT:?} waiting for {what}");
}

/// True when a TCP connection to `addr` succeeds (it is closed again at once).
pub fn tcp_accepts(addr: impl std::net::ToSocketAddrs) -> bool {
    std::net::TcpStream::connect(addr).is_ok()
}

/// True when process `pid` holds a socket bound to `port`: for `proto` "tcp" a listening one,
/// for "udp" any; IPv4 or IPv6. Read from `/proc/PID/net` and `/proc/PID/fd`, so it works for a
/// process inside a lab namespace too (`Lab::command`'s child is the program after its exec).
pub fn bound_by(pid: u32, proto: &str, port: u16) -> bool {
    let mut inodes = Vec::new();
    for table in [proto.to_owned(), format!("{proto}6")] {
        let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/net/{table}")) else {
            continue;
        };
        for row in text.lines().skip(1) {
            let f: Vec<&str> = row.split_whitespace().collect();
            if f.len() < 10 {
                continue;
            }
            let local_port = f[1]
                .rsplit(':')
                .next()
                .and_then(|p| u16::from_str_radix(p, 16).ok());
            // TCP state 0A is LISTEN.
            if local_port == Some(port) && (proto != "tcp" || f[3] == "0A") {
                inodes.push(format!("socket:[{}]", f[9]));
            }
        }
    }
    if inodes.is_empty() {
        return false;
    }
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    fds.filter_map(Result::ok)
        .filter_map(|e| std::fs::read_link(e.path()).ok())
        .any(|l| inodes.iter().any(|i| l.as_os_str() == i.as_str()))
}

/// True when process `pid` has a live capture running in the current network namespace: a
/// packet socket with its receive ring set up and, when `filtered`, its BPF filter attached
/// (more than the one-instruction reject-all filter libpcap installs while it drains). For
/// tools that print no start line; read from `ss -0 -p -e -b` (root).
pub fn capture_ready(pid: u32, filtered: bool) -> bool {
    let Ok(out) = Command::new("ss").args(["-0", "-p", "-e", "-b"]).output() else {
        return false;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    // One socket per unindented line, its details on the indented lines that follow.
    let mut sockets: Vec<String> = Vec::new();
    for line in text.lines() {
        match sockets.last_mut() {
            Some(s) if line.starts_with(char::is_whitespace) => {
                s.push('\n');
                s.push_str(line);
            }
            _ => sockets.push(line.to_owned()),
        }
    }
    let owner = format!("pid={pid},");
    sockets.iter().any(|s| {
        let filter_len = s
            .split("bpf filter (")
            .nth(1)
            .and_then(|r| r.split(')').next())
            .and_then(|n| n.parse::<u32>().ok());
        s.contains(&owner) && s.contains("ring_rx(") && (!filtered || filter_len > Some(1))
    })
}

/// The lines a child writes to a pipe (its stderr, say), gathered by a thread as they come so
/// that a test can wait for a readiness line ("listening on ...") and read the log later.
#[derive(Debug)]
pub struct Lines {
    seen: std::sync::Arc<std::sync::Mutex<(Vec<String>, bool)>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Lines {
    /// Start gathering the lines of `pipe` (e.g. `child.stderr.take().unwrap()`).
    pub fn new(pipe: impl std::io::Read + Send + 'static) -> Lines {
        use std::io::BufRead;
        let seen = std::sync::Arc::new(std::sync::Mutex::new((Vec::new(), false)));
        let sink = seen.clone();
        let reader = std::thread::spawn(move || {
            for line in std::io::BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                sink.lock().expect("lines lock").0.push(line);
            }
            sink.lock().expect("lines lock").1 = true;
        });
        Lines {
            seen,
            reader: Some(reader),
        }
    }

    /// Every line so far.
    pub fn all(&self) -> Vec<String> {
        self.seen.lock().expect("lines lock").0.clone()
    }

    /// The first line for which `f` holds, waiting up to `timeout` for it; `Err(every line)`
    /// when the pipe closes (the writer exited) or time runs out without one.
    pub fn wait_for(
        &self,
        timeout: std::time::Duration,
        f: impl Fn(&str) -> bool,
    ) -> Result<String, Vec<String>> {
        let mut found = None;
        poll_until(timeout, || {
            let seen = self.seen.lock().expect("lines lock");
            found = seen.0.iter().find(|l| f(l)).cloned();
            found.is_some() || seen.1
        });
        found.ok_or_else(|| self.all())
    }

    /// [`Lines::wait_for`] with [`READY_TIMEOUT`], panicking with every line seen when no line
    /// satisfies `f`; `what` names the line awaited.
    pub fn expect(&self, what: &str, f: impl Fn(&str) -> bool) -> String {
        self.wait_for(READY_TIMEOUT, f).unwrap_or_else(|all| {
            panic!(
                "no line {what} (the writer exited, or {READY_TIMEOUT:?} passed); lines: {all:#?}"
            )
        })
    }

    /// Wait until the pipe closes (the writer exited: kill or wait for it first) and return
    /// every line.
    pub fn finish(&mut self) -> Vec<String> {
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
        self.all()
    }
}

/// Invariants every decoded frame keeps, whatever the bytes (the frame proptest, the trace
/// tests and the frame fuzz target all check these). Panics on a violation.
pub fn check_frame(lt: u32, data: &[u8]) {
    let f = decode(lt, data).expect("supported link type");
    let mut end = 0;
    for l in f.layers() {
        assert!(l.offset >= end, "layers in order: {:?}", f.layers());
        assert!(l.offset + l.len <= data.len(), "layer inside the frame");
        end = l.offset + l.len;
    }
    assert!(f.payload().len() <= data.len());
    if let Some(t) = f.tcp() {
        assert!(t.payload.len() as u32 <= t.payload_len || t.payload_len == 0 || f.truncated());
        // Walking every option terminates and stays in bounds.
        for (off, len) in t.options.iter().with_offsets().map(|o| (o.0, o.1)) {
            assert!(off + len <= t.options.0.len(), "option inside the options");
        }
        for o in t.options.iter() {
            if let TcpOption::Sack(b) = o {
                let _ = b.iter().count();
            }
        }
    }
    let _ = (f.src_ip(), f.dst_ip(), f.ports(), f.ip_proto(), f.udp());
    let _ = f.issue().map(|i| i.to_string());
    // The quoted datagram of ICMP errors stays inside the message.
    match f.transport() {
        netproto::frame::Transport::Icmpv4(i) => {
            if let Some(q) = i.quoted() {
                assert!(q.bytes().len() <= data.len());
                let _ = (q.source(), q.destination(), q.protocol(), q.ports());
                assert!(q.payload().len() <= q.bytes().len());
            }
        }
        netproto::frame::Transport::Icmpv6(i) => {
            if let Some(q) = i.quoted() {
                let _ = (q.source(), q.destination(), q.protocol(), q.ports());
            }
        }
        _ => {}
    }
    // The application decoders picked by port walk their whole message without panicking;
    // the UDP payload itself goes through each of them too.
    if let Some(Ok(app)) = f.app() {
        check_app(app);
    }
    if let Some(u) = f.udp() {
        check_app_bytes(u.payload);
    }
    if let Some(t) = f.tcp() {
        check_app_bytes(t.payload);
    }
}

/// Every application decoder of `netproto::frame` on `bytes`: walks end, reads stay in bounds.
pub fn check_app_bytes(bytes: &[u8]) {
    use netproto::frame::{App, Dhcp, Dns, Ntp, Rip};
    if let Ok(d) = Dns::new_checked(bytes) {
        check_app(App::Dns(d));
    }
    if let Some(d) = bytes.get(2..).and_then(|b| Dns::new_checked(b).ok()) {
        check_app(App::Dns(d));
    }
    if let Ok(d) = Dhcp::new_checked(bytes) {
        check_app(App::Dhcp(d));
    }
    if let Ok(n) = Ntp::new_checked(bytes) {
        check_app(App::Ntp(n));
    }
    if let Ok(r) = Rip::new_checked(bytes) {
        check_app(App::Rip(r));
        check_app(App::Ripng(r));
    }
}

fn check_app(app: netproto::frame::App<'_>) {
    use netproto::frame::App;
    match app {
        App::Dns(d) => {
            let _ = (d.id(), d.flags(), d.extended_rcode());
            let mut n = 0usize;
            for r in d.records() {
                n += 1;
                assert!(n <= 4 * 65_536, "the record walk ends");
                let Ok(r) = r else { break };
                let mut name = Vec::new();
                let _ = r.name.write(&mut name);
                assert!(name.len() <= 64 * 256 + 4 * 255, "names are bounded");
                let _ = (r.a(), r.aaaa(), r.rdata_u16(0));
                for at in [0, 2, 6] {
                    if let Some(nm) = r.rdata_name(at) {
                        let _ = nm.write(&mut Vec::new());
                    }
                }
            }
        }
        App::Dhcp(d) => {
            let _ = (
                d.op(),
                d.xid(),
                d.client_mac(),
                d.ciaddr(),
                d.yiaddr(),
                d.message_type(),
            );
            let _ = (d.sname(), d.file(), d.options().count());
        }
        App::Ntp(n) => {
            let _ = (
                n.version(),
                n.mode(),
                n.stratum(),
                n.poll(),
                n.transmit_ts(),
            );
        }
        App::Rip(r) | App::Ripng(r) => {
            let _ = (
                r.command(),
                r.version(),
                r.entries().count(),
                r.ripng_entries().count(),
            );
        }
    }
}
