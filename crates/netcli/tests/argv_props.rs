//! Property test over every binary's command line: each numeric option (read from the tools'
//! clap structs) gets values such as inf, nan, -1, 0, 1e300, huge integers, empty strings and
//! non-UTF-8 bytes. Whatever the argv, a tool never panics, never dies of a signal, and exits
//! 0, 1, 2 or 3. Each case runs with a deadline: a server counts as fine once it announces that
//! it listens (then it is killed), a live capture or a transfer that waits as long as it was
//! asked to is killed at the deadline; anything else still running then is a failure. Only
//! loopback: clients aim at closed ports, servers at ports the test holds (so most cases end at
//! once with "port in use"). Needs the workspace's binaries (`cargo build --workspace`).
//!
//! 64 cases per binary by default (PROPTEST_CASES overrides), split over its subcommands.

// Helpers outside #[test] fns too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use std::ffi::OsString;
use std::net::{TcpListener, UdpSocket};
use std::os::unix::ffi::OsStringExt;
use std::sync::OnceLock;
use std::time::Duration;

use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

use common::run;

/// How long a case may run before it is killed.
const DEADLINE: Duration = Duration::from_secs(3);
/// The same for a transfer that retries as long as asked: a short deadline keeps the valid long
/// --timeout values cheap.
const SHORT: Duration = Duration::from_millis(1500);
/// The same for a live capture: any positive --duration is valid and runs to the deadline.
const CAPTURE: Duration = Duration::from_millis(600);

/// Values for numeric options: special floats, signs, limits of every integer width and one
/// past them, empty, whitespace, hex. Every one is tried alone in every numeric slot.
const FIXED: &[&str] = &[
    "inf",
    "-inf",
    "infinity",
    "nan",
    "NaN",
    "-nan",
    "-1",
    "0",
    "-0",
    "1",
    "0.5",
    "1e300",
    "-1e300",
    "1e-300",
    "5e-324",
    "1e18",
    "1e19",
    "",
    " ",
    " 1",
    "1 ",
    "0x10",
    "1_000",
    "+1",
    "127",
    "128",
    "255",
    "256",
    "65535",
    "65536",
    "86400",
    "86401",
    "3600000",
    "2147483647",
    "2147483648",
    "-2147483649",
    "4294967295",
    "4294967296",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "18446744073709551615",
    "18446744073709551616",
    "340282366920938463463374607431768211456",
];

/// [`FIXED`] values, arbitrary numbers and non-UTF-8 bytes.
fn weird() -> BoxedStrategy<OsString> {
    prop_oneof![
        6 => select(FIXED).prop_map(OsString::from),
        1 => any::<i64>().prop_map(|v| OsString::from(v.to_string())),
        1 => any::<u64>().prop_map(|v| OsString::from(v.to_string())),
        1 => any::<f64>().prop_map(|v| OsString::from(format!("{v:e}"))),
        1 => proptest::collection::vec(1..=255u8, 0..6).prop_map(|mut b| {
            // Non-UTF-8: a lone continuation byte first (no NUL: argv cannot hold one).
            b.insert(0, 0x80);
            OsString::from_vec(b)
        }),
    ]
    .boxed()
}

/// One argument of a spec.
#[derive(Clone, Debug)]
enum Arg {
    /// Always this.
    Lit(String),
    /// This sane value or, half the time, a weird one.
    Num(String),
}

/// One command line shape of one tool.
struct Spec {
    tool: &'static str,
    args: Vec<Arg>,
    /// Numeric options, each left out or given with a weird value.
    options: &'static [&'static str],
    /// A stderr line with this means the server started: fine, and it is killed.
    listening: Option<&'static str>,
    /// Whether a kill at the deadline is fine for this argv.
    may_run: fn(&[OsString]) -> bool,
    /// Killed after this.
    deadline: Duration,
}

/// `[--opt, VALUE]`, or `[--opt=VALUE]` when `joined`.
fn option(o: &str, v: OsString, joined: bool) -> Vec<OsString> {
    if joined {
        let mut a = OsString::from(format!("{o}="));
        a.push(v);
        vec![a]
    } else {
        vec![OsString::from(o), v]
    }
}

fn never(_: &[OsString]) -> bool {
    false
}

fn always(_: &[OsString]) -> bool {
    true
}

/// The value of `flag` in `argv` (`flag VALUE` or `flag=VALUE`), as a number: the last
/// occurrence, as clap takes it.
fn value_of(argv: &[OsString], flag: &str) -> Option<f64> {
    let joined = format!("{flag}=");
    let mut found = None;
    for (i, a) in argv.iter().enumerate() {
        let Some(a) = a.to_str() else { continue };
        if a == flag {
            found = argv.get(i + 1).and_then(|v| v.to_str());
        } else if let Some(v) = a.strip_prefix(&joined) {
            found = Some(v);
        }
    }
    found.and_then(|v| v.parse().ok())
}

impl Spec {
    fn strategy(&self) -> BoxedStrategy<Vec<OsString>> {
        let fixed: Vec<BoxedStrategy<OsString>> = self
            .args
            .iter()
            .map(|a| match a {
                Arg::Lit(s) => Just(OsString::from(s)).boxed(),
                Arg::Num(s) => prop_oneof![Just(OsString::from(s)), weird()].boxed(),
            })
            .collect();
        // `--opt VALUE` or `--opt=VALUE` (the only way a negative value reaches the parser:
        // clap takes a separate `-1` for a flag).
        let opts: Vec<BoxedStrategy<Option<Vec<OsString>>>> = self
            .options
            .iter()
            .map(|&o| {
                proptest::option::of(
                    (weird(), any::<bool>()).prop_map(move |(v, joined)| option(o, v, joined)),
                )
                .boxed()
            })
            .collect();
        (fixed, opts)
            .prop_map(|(fixed, opts)| {
                let mut argv = fixed;
                argv.extend(opts.into_iter().flatten().flatten());
                argv
            })
            .boxed()
    }

    /// Every [`FIXED`] value alone in every numeric slot and option, the rest sane.
    fn sweep(&self) {
        let base: Vec<OsString> = self
            .args
            .iter()
            .map(|a| match a {
                Arg::Lit(s) | Arg::Num(s) => OsString::from(s),
            })
            .collect();
        let mut argvs = Vec::new();
        for (i, a) in self.args.iter().enumerate() {
            if let Arg::Num(_) = a {
                for v in FIXED {
                    let mut argv = base.clone();
                    argv[i] = OsString::from(v);
                    argvs.push(argv);
                }
            }
        }
        for o in self.options {
            for v in FIXED {
                let mut argv = base.clone();
                argv.extend(option(o, OsString::from(v), true));
                argvs.push(argv);
            }
        }
        // Four at a time, round robin: many of them sleep (a capture or a transfer until the
        // deadline), and those of one slot come together.
        let argvs = &argvs;
        let failures: Vec<String> = std::thread::scope(|s| {
            let workers: Vec<_> = (0..4)
                .map(|k| {
                    s.spawn(move || {
                        argvs
                            .iter()
                            .skip(k)
                            .step_by(4)
                            .filter_map(|argv| self.verdict(argv).err())
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|w| w.join().unwrap())
                .collect()
        });
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    /// Run one argv: `Err` says what went wrong.
    fn verdict(&self, argv: &[OsString]) -> Result<(), String> {
        let r = run(self.tool, argv, self.deadline, self.listening);
        let shown = format!("{} {argv:?}", self.tool);
        if r.panicked() {
            return Err(format!("{shown} panicked: {}", r.stderr));
        }
        if r.killed {
            if r.announced || (self.may_run)(argv) {
                return Ok(());
            }
            return Err(format!(
                "{shown} still ran after {:?}: {}",
                self.deadline, r.stderr
            ));
        }
        match r.code {
            Some(0..=3) => Ok(()),
            code => Err(format!(
                "{shown}: exit {code:?}, signal {:?}: {}",
                r.signal, r.stderr
            )),
        }
    }

    fn check(&self, cases: u32) {
        self.sweep();
        let cases = std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(cases);
        let mut runner = TestRunner::new(Config {
            cases,
            failure_persistence: None,
            max_shrink_iters: 32,
            ..Config::default()
        });
        let result = runner.run(&self.strategy(), |argv| {
            self.verdict(&argv).map_err(TestCaseError::fail)
        });
        if let Err(e) = result {
            panic!("{}: {e}", self.tool);
        }
    }
}

/// Ports for the whole test binary: closed ones for clients, held ones for servers.
struct Ports {
    closed_tcp: String,
    closed_udp: String,
    taken_tcp: String,
    taken_udp: String,
    dir: std::path::PathBuf,
}

fn ports() -> &'static Ports {
    static P: OnceLock<Ports> = OnceLock::new();
    P.get_or_init(|| {
        let port = |a: std::net::SocketAddr| a.port().to_string();
        let closed_tcp = port(
            TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap(),
        );
        let closed_udp = port(
            UdpSocket::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap(),
        );
        // Held for the life of the test process: servers asked for them fail at once.
        let tcp = Box::leak(Box::new(TcpListener::bind("127.0.0.1:0").unwrap()));
        let udp = Box::leak(Box::new(UdpSocket::bind("127.0.0.1:0").unwrap()));
        let dir = common::scratch("argv");
        std::fs::write(dir.join("data.bin"), b"hello").unwrap();
        std::fs::write(dir.join("empty.pcap"), common::empty_pcap()).unwrap();
        Ports {
            closed_tcp,
            closed_udp,
            taken_tcp: port(tcp.local_addr().unwrap()),
            taken_udp: port(udp.local_addr().unwrap()),
            dir,
        }
    })
}

fn lit(s: impl Into<String>) -> Arg {
    Arg::Lit(s.into())
}

fn num(s: impl Into<String>) -> Arg {
    Arg::Num(s.into())
}

fn path(name: &str) -> String {
    ports().dir.join(name).to_str().unwrap().to_owned()
}

fn server(tool: &'static str, args: Vec<Arg>, options: &'static [&'static str]) -> Spec {
    Spec {
        tool,
        args,
        options,
        listening: Some("listening on"),
        may_run: never,
        deadline: DEADLINE,
    }
}

fn client(tool: &'static str, args: Vec<Arg>, options: &'static [&'static str]) -> Spec {
    Spec {
        tool,
        args,
        options,
        listening: None,
        may_run: never,
        deadline: DEADLINE,
    }
}

#[test]
fn hello_server_argv() {
    let p = ports();
    server(
        "hello-server",
        vec![
            lit("--bind"),
            lit("127.0.0.1"),
            lit("--port"),
            num(&p.taken_tcp),
        ],
        &[
            "--workers",
            "--max-connections",
            "--header-timeout",
            "--max-body",
        ],
    )
    .check(64);
}

#[test]
fn hello_client_argv() {
    let p = ports();
    client(
        "hello-client",
        vec![lit(format!("127.0.0.1:{}", p.closed_tcp))],
        &["--timeout", "--hold", "--repeat"],
    )
    .check(64);
}

#[test]
fn udp_sdu_argv() {
    let p = ports();
    client(
        "udp-sdu",
        vec![lit("send"), lit("127.0.0.1"), num(&p.closed_udp), num("5")],
        &["--timeout", "--retries"],
    )
    .check(16);
    client(
        "udp-sdu",
        vec![lit("probe"), lit("127.0.0.1"), num(&p.closed_udp)],
        &["--timeout", "--retries"],
    )
    .check(16);
    for sub in ["serve", "echo"] {
        server(
            "udp-sdu",
            vec![lit(sub), lit("--bind"), lit("127.0.0.1"), num(&p.taken_udp)],
            &[],
        )
        .check(16);
    }
}

#[test]
fn tlv_client_argv() {
    let p = ports();
    client(
        "tlv-client",
        vec![lit("127.0.0.1"), num(&p.closed_tcp)],
        &["--timeout"],
    )
    .check(64);
}

#[test]
fn tlv_server_argv() {
    let p = ports();
    server(
        "tlv-server",
        vec![
            lit("--bind"),
            lit("127.0.0.1"),
            lit("--port"),
            num(&p.taken_tcp),
        ],
        &["--value", "--timeout", "--max-clients"],
    )
    .check(64);
}

#[test]
fn sender_argv() {
    let p = ports();
    Spec {
        // To a closed port it retries until --timeout: a kill is fine when that is long.
        may_run: |argv| value_of(argv, "--timeout").is_some_and(|t| t >= 1.0),
        deadline: SHORT,
        ..client(
            "sender",
            vec![
                lit("127.0.0.1"),
                num(&p.closed_udp),
                num("3"),
                lit(path("data.bin")),
                lit("--timeout"),
                num("0.05"),
            ],
            &["--rto", "--loss", "--delay", "--jitter", "--seed"],
        )
    }
    .check(64);
}

#[test]
fn receiver_argv() {
    let p = ports();
    server(
        "receiver",
        vec![
            lit("--bind"),
            lit("127.0.0.1"),
            num(&p.taken_udp),
            num("3"),
            lit(path("out.bin")),
        ],
        &["--timeout", "--loss", "--delay", "--jitter", "--seed"],
    )
    .check(64);
}

#[test]
fn sniff_argv() {
    client(
        "sniff",
        vec![lit("-r"), lit(path("empty.pcap"))],
        &["-c", "-s", "-B", "--timeout"],
    )
    .check(32);
    client(
        "sniff",
        vec![
            lit("-r"),
            lit(path("empty.pcap")),
            lit("--diagram"),
            lit(path("d.svg")),
        ],
        &["--frame"],
    )
    .check(16);
    // Live on lo: `-c 0` ends the capture as soon as it is open (as root; otherwise exit 3).
    Spec {
        may_run: always,
        deadline: CAPTURE,
        ..client(
            "sniff",
            vec![lit("-i"), lit("lo"), lit("-c"), lit("0")],
            &["-s", "-B", "--timeout"],
        )
    }
    .check(16);
}

#[test]
fn tcpstat_argv() {
    client(
        "tcpstat",
        vec![lit("-r"), lit(path("empty.pcap"))],
        &["--conn"],
    )
    .check(24);
    client(
        "tcpstat",
        vec![
            lit("tcb"),
            lit("-r"),
            lit(path("empty.pcap")),
            lit("--frame"),
            num("1"),
        ],
        &["--conn"],
    )
    .check(16);
    // Live on lo for --duration seconds (as root; otherwise exit 3).
    Spec {
        may_run: always,
        deadline: CAPTURE,
        ..client(
            "tcpstat",
            vec![lit("-i"), lit("lo"), lit("--duration"), num("0.1")],
            &["--interval"],
        )
    }
    .check(16);
}
