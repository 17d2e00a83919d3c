//! hello-server: the lab's "Hello, World!" web server, as a real HTTP/1.1 server.
//!
//! One worker thread per core, each with its own epoll loop (mio) and its own listening socket
//! (SO_REUSEPORT, so the kernel spreads new connections over the workers without a shared
//! accept lock). See docs/hello.md for why this design and how it measures against nginx.

mod http;
mod worker;

use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::Context;
use netcli::net::Transport;
use netcli::{Exit, Verbosity};
use signal_hook::consts::{SIGINT, SIGTERM};

use worker::{Shared, Worker};

const EXAMPLES: &str = "\
Examples:
  hello-server                          # http://127.0.0.1:5000/, this host only (like Flask)
  hello-server --bind 0.0.0.0           # reachable from other hosts (the lab's brooklyn)
  hello-server --bind :: --port 8080    # IPv6 and IPv4, all interfaces
  hello-server --reuse-port & hello-server --reuse-port
                                        # two instances share port 5000: the log shows the pid
  hello-server -q --message 'Hi'        # no access log, another body

Access log (stderr, one line per request; -q turns it off):
  127.0.0.1:41234 -> 127.0.0.1:5000 pid 4242 \"GET / HTTP/1.1\" 200 13 0.041ms
  client          -> server         process  request          status bytes duration

Answers: GET / and HEAD / -> 200; other paths 404; other methods 405; malformed 400;
head over 8 KiB 431; head not complete within --header-timeout 408; body over --max-body 413.";

/// The lab's Hello, World! web server: fast HTTP/1.1 with keep-alive and pipelining.
#[derive(Debug, clap::Parser)]
#[command(version, after_help = EXAMPLES)]
struct Args {
    /// Address to listen on: 127.0.0.1 (this host only), 0.0.0.0 (all IPv4), :: (all).
    #[arg(long, default_value = "127.0.0.1")]
    bind: IpAddr,
    /// TCP port (0: let the system pick; the start-up line shows it).
    #[arg(long, default_value_t = 5000)]
    port: u16,
    /// Body of the answer to GET /.
    #[arg(long, default_value = "Hello, World!")]
    message: String,
    /// Share the port with other instances started with --reuse-port (SO_REUSEPORT).
    #[arg(long)]
    reuse_port: bool,
    /// Worker threads, each with its own event loop [default: number of cores].
    #[arg(long)]
    workers: Option<usize>,
    /// Open connections allowed; beyond, new connections are accepted and closed (logged).
    #[arg(long, default_value_t = 10_000)]
    max_connections: usize,
    /// Seconds a client may take to send a complete request head before it gets 408.
    #[arg(long, default_value = "10", value_name = "SECS", value_parser = netcli::value::secs)]
    header_timeout: Duration,
    /// Largest request body read (and discarded); larger gets 413.
    #[arg(long, default_value_t = 1 << 20, value_name = "BYTES")]
    max_body: u64,
    #[command(flatten)]
    verbosity: Verbosity,
}

fn main() -> ExitCode {
    netcli::main_with(run)
}

fn run() -> anyhow::Result<ExitCode> {
    // clap prints usage errors and exits 2 (netlab's usage code), --help/--version exit 0.
    let args: Args = netcli::parse();
    args.verbosity.init_logging();
    let workers = args.workers.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    });
    if workers == 0 || workers > 1024 {
        return Err(Exit::usage("--workers must be between 1 and 1024").into());
    }
    if args.max_connections == 0 {
        return Err(Exit::usage("--max-connections must be at least 1").into());
    }

    raise_fd_limit(args.max_connections);
    let addr = SocketAddr::new(args.bind, args.port);
    let listeners = bind_all(addr, workers, args.reuse_port)?;
    let local = listeners[0].local_addr()?;
    let pid = std::process::id();
    eprintln!(
        "listening on {} (pid {pid}, {workers} worker{}); {}",
        worker::url(local),
        if workers == 1 { "" } else { "s" },
        explain_bind(local, args.reuse_port)
    );

    let shared = Arc::new(Shared {
        pid,
        access_log: !args.verbosity.quiet && log::log_enabled!(log::Level::Info),
        header_timeout: args.header_timeout,
        max_conns: args.max_connections,
        open: AtomicUsize::new(0),
        stop: AtomicBool::new(false),
        grace: Duration::from_millis(1500),
    });
    let site = http::Site::new(&args.message, args.max_body);

    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])
        .context("cannot install the SIGINT/SIGTERM handlers")?;
    let sig_handle = signals.handle();
    let (done_tx, done_rx) = mpsc::channel::<(usize, std::io::Result<u64>)>();
    let mut wakers = Vec::new();
    for (id, l) in listeners.into_iter().enumerate() {
        let (w, waker) = Worker::new(id, l, site.clone(), shared.clone())
            .context("cannot create the event loop")?;
        wakers.push(waker);
        let tx = done_tx.clone();
        let handle = sig_handle.clone();
        std::thread::Builder::new()
            .name(format!("worker-{id}"))
            .spawn(move || {
                let r = w.run();
                // A worker that ends before a signal has failed: wake the main thread.
                handle.close();
                let _ = tx.send((id, r));
            })
            .context("cannot start a worker thread")?;
    }
    drop(done_tx);

    // The main thread only waits: for a signal, or for a worker that failed.
    let signal = signals.forever().next();
    let started_stop = Instant::now();
    shared.stop.store(true, Ordering::SeqCst);
    for w in &wakers {
        let _ = w.wake();
    }
    if let Some(sig) = signal {
        let name = if sig == SIGINT { "SIGINT" } else { "SIGTERM" };
        log::info!("{name}: stopped accepting, finishing in-flight responses");
    }
    let deadline = started_stop + Duration::from_secs(2);
    let mut served = 0u64;
    let mut failure = None;
    for _ in 0..workers {
        let left = deadline.saturating_duration_since(Instant::now());
        match done_rx.recv_timeout(left) {
            Ok((_, Ok(n))) => served += n,
            Ok((id, Err(e))) => failure = Some(format!("worker {id} failed: {e}")),
            Err(_) => {
                log::warn!("workers did not finish within 2 s; exiting anyway");
                break;
            }
        }
    }
    if let Some(f) = failure {
        return Err(Exit::failure(f).into());
    }
    log::info!("stopped after answering {served} request(s)");
    Ok(ExitCode::SUCCESS)
}

/// One listening socket per worker. Without --reuse-port the port must be ours alone, so a
/// probe socket without SO_REUSEPORT is bound first: it fails if anyone listens there.
fn bind_all(
    addr: SocketAddr,
    workers: usize,
    reuse_port: bool,
) -> anyhow::Result<Vec<std::net::TcpListener>> {
    let mut addr = addr;
    if !reuse_port && workers > 1 {
        let probe = bind_one(addr, false)?;
        addr = probe.local_addr()?;
        drop(probe);
    }
    let share = reuse_port || workers > 1;
    let first = bind_one(addr, share)?;
    // With --port 0 the others join the port the first one got.
    addr = first.local_addr()?;
    let mut all = vec![first];
    for _ in 1..workers {
        all.push(bind_one(addr, true)?);
    }
    Ok(all)
}

fn bind_one(addr: SocketAddr, reuse_port: bool) -> anyhow::Result<std::net::TcpListener> {
    let sock = netcli::net::bind(Some(addr.ip()), addr.port(), Transport::Tcp, |s| {
        // Restarting right after a stop must not fail on TIME_WAIT connections.
        s.set_reuse_address(true)?;
        if reuse_port {
            s.set_reuse_port(true)?;
        }
        Ok(())
    })
    .map_err(|e| {
        netcli::net::listen_error(
            Transport::Tcp,
            Some(addr.ip()),
            addr.port(),
            &e,
            "choose another --port, or start every instance with --reuse-port to share it",
        )
    })?;
    sock.listen(4096)
        .with_context(|| format!("cannot listen on {addr}"))?;
    sock.set_nonblocking(true)?;
    Ok(sock.into())
}

/// What the bound address means for who can connect.
fn explain_bind(addr: SocketAddr, reuse_port: bool) -> String {
    let port = addr.port();
    let ip = addr.ip();
    let mut s = if ip.is_loopback() {
        "loopback only: other hosts cannot connect, use --bind 0.0.0.0".to_owned()
    } else if ip.is_unspecified() && ip.is_ipv4() {
        format!("all IPv4 addresses: other hosts connect to any address of this host, port {port}")
    } else if ip.is_unspecified() {
        format!(
            "all addresses, IPv6 and IPv4: other hosts connect to any address of this host, port {port}"
        )
    } else {
        format!("only this address: clients must connect to {ip} port {port}")
    };
    if reuse_port {
        s.push_str("; port shared with other --reuse-port instances");
    }
    s
}

/// Raise the soft open-file limit so that `--max-connections` can be reached (Debian's default
/// soft limit is 1024); warn when even the hard limit is too low.
#[allow(unsafe_code)]
fn raise_fd_limit(max_conns: usize) {
    // Listeners, epoll, wakers, stdio and a spare per worker: a small margin is enough.
    // Saturating: --max-connections takes any usize.
    let want = (max_conns as u64).saturating_add(64);
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the rlimit struct we own; RLIMIT_NOFILE is a valid resource.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 || lim.rlim_cur >= want {
        return;
    }
    let new = libc::rlimit {
        rlim_cur: want.min(lim.rlim_max),
        rlim_max: lim.rlim_max,
    };
    // SAFETY: setrlimit only reads the rlimit struct we own; a soft limit up to the hard limit
    // is always allowed.
    let ok = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &new) } == 0;
    let now = if ok { new.rlim_cur } else { lim.rlim_cur };
    if now < want {
        log::warn!(
            "the open-file limit ({now}) allows about {} connections, fewer than \
             --max-connections {max_conns}; raise it (ulimit -Hn, LimitNOFILE=) or lower \
             --max-connections",
            now.saturating_sub(64)
        );
    }
}
