//! The UDP side of `sender` and `receiver`: the event loop that drives netproto's sans-IO
//! sliding-window engines over a real socket with the real clock (mio, signals, impairment of
//! received datagrams), the progress bar, the summary/NDJSON report, and the command-line
//! options both programs share. The engines stay in `netproto::arq`; this is the only place
//! where they meet a socket.

use std::io::{self, IsTerminal};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use mio::net::UdpSocket;
use mio::{Events, Interest, Poll, Token};

use netproto::arq::{Endpoint, Handled, Mode};
use netproto::impair::{ImpairStats, Impairer, Impairment, SplitMix64};
use netproto::segment::{MAX_SEGMENT, MAX_WIN, Repr};

pub mod offload;

/// At most this many datagrams go into one GSO `sendmsg` (the kernel's UDP_MAX_SEGMENTS).
const MAX_BATCH: usize = 64;
/// A sender whose GSO batches get no answer at all for this long falls back to one datagram
/// per call (a path that drops the large frames, e.g. a userspace forwarder).
const GSO_SILENCE: Duration = Duration::from_secs(1);
/// Datagrams sent before the driver judges whether GSO pays on this path.
const GSO_PROBE: u64 = 700;

/// What the offloads did, and the system calls the loop made (for `--json`).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct IoStats {
    /// UDP_SEGMENT in use now (false: never available, forced off, or fallen back).
    pub gso: bool,
    /// UDP_GRO enabled on the socket.
    pub gro: bool,
    /// Why GSO is off, if it is.
    pub fallback: Option<String>,
    /// `sendmsg` calls that carried several datagrams.
    pub gso_batches: u64,
    /// `recvmsg` calls that returned several coalesced datagrams.
    pub gro_batches: u64,
    pub datagrams_sent: u64,
    pub datagrams_received: u64,
    /// Socket send calls (sendto/sendmsg), receive calls (including the one that finds the
    /// socket empty) and epoll_wait calls.
    pub send_calls: u64,
    pub recv_calls: u64,
    pub poll_calls: u64,
}

/// What the application callback tells the loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    Continue,
    Stop,
}

impl Control {
    /// `Stop` once `done`, else `Continue`.
    pub fn stop_if(done: bool) -> Control {
        if done {
            Control::Stop
        } else {
            Control::Continue
        }
    }
}

/// Who may talk to us.
#[derive(Debug, Clone, Copy)]
enum PeerPolicy {
    /// The socket is connected: the kernel filters sources (sender).
    Connected,
    /// Lock onto the source of the first valid DATA (receiver).
    FirstData(Option<SocketAddr>),
}

/// A UDP socket driving one engine.
#[derive(Debug)]
pub struct Driver {
    socket: UdpSocket,
    poll: Poll,
    events: Events,
    impair: Option<Impairer<Vec<u8>>>,
    peer: PeerPolicy,
    interrupted: Arc<AtomicBool>,
    /// Datagrams from addresses other than the peer (receiver), ignored.
    pub foreign: u64,
    foreign_logged: Vec<SocketAddr>,
    /// ICMP port unreachable reports seen (the peer is not listening yet).
    pub refused: u64,
    rx: Box<[u8]>,
    tx: Box<[u8]>,
    io: IoStats,
    /// When a GSO batch was sent with nothing received since (None: answered).
    gso_unanswered: Option<Instant>,
    /// Whether the GSO_PROBE check has been made.
    gso_judged: bool,
}

const SOCK: Token = Token(0);
/// How long a wait polls without sleeping before it blocks in epoll.
pub const SPIN: Duration = Duration::from_micros(50);

impl Driver {
    fn new(
        socket: std::net::UdpSocket,
        peer: PeerPolicy,
        impair: Impairment,
        seed: u64,
        interrupted: Arc<AtomicBool>,
    ) -> io::Result<Self> {
        socket.set_nonblocking(true)?;
        let mut io = IoStats::default();
        if offload::allowed_by_env() {
            io.gro = offload::enable_gro(&socket).is_ok();
            io.gso = offload::gso_supported(&socket);
            if !io.gso {
                io.fallback = Some("the kernel has no UDP_SEGMENT".into());
            }
        } else {
            io.fallback = Some("NETLAB_ARQ_OFFLOAD=off".into());
        }
        let mut socket = UdpSocket::from_std(socket);
        let poll = Poll::new()?;
        poll.registry()
            .register(&mut socket, SOCK, Interest::READABLE)?;
        Ok(Driver {
            socket,
            poll,
            events: Events::with_capacity(16),
            impair: (!impair.is_none()).then(|| Impairer::new(impair, seed)),
            peer,
            interrupted,
            foreign: 0,
            foreign_logged: Vec::new(),
            refused: 0,
            rx: vec![0u8; 65536].into_boxed_slice(),
            tx: vec![0u8; MAX_SEGMENT * MAX_BATCH].into_boxed_slice(),
            io,
            gso_unanswered: None,
            gso_judged: false,
        })
    }

    /// A sender's driver: `socket` must already be connected to the receiver.
    pub fn connected(
        socket: std::net::UdpSocket,
        impair: Impairment,
        seed: u64,
        interrupted: Arc<AtomicBool>,
    ) -> io::Result<Self> {
        Self::new(socket, PeerPolicy::Connected, impair, seed, interrupted)
    }

    /// A receiver's driver: answers whoever sends the first valid DATA, ignores others.
    pub fn listening(
        socket: std::net::UdpSocket,
        impair: Impairment,
        seed: u64,
        interrupted: Arc<AtomicBool>,
    ) -> io::Result<Self> {
        Self::new(
            socket,
            PeerPolicy::FirstData(None),
            impair,
            seed,
            interrupted,
        )
    }

    /// [`Driver::connected`] that stops with `Interrupted` on SIGINT or SIGTERM.
    pub fn connected_until_signal(
        socket: std::net::UdpSocket,
        impair: Impairment,
        seed: u64,
    ) -> io::Result<Self> {
        Self::connected(socket, impair, seed, signal_flag()?)
    }

    /// [`Driver::listening`] that stops with `Interrupted` on SIGINT or SIGTERM.
    pub fn listening_until_signal(
        socket: std::net::UdpSocket,
        impair: Impairment,
        seed: u64,
    ) -> io::Result<Self> {
        Self::listening(socket, impair, seed, signal_flag()?)
    }

    /// The peer we talk to, once known.
    pub fn peer(&self) -> Option<SocketAddr> {
        match self.peer {
            PeerPolicy::Connected => self.socket.peer_addr().ok(),
            PeerPolicy::FirstData(p) => p,
        }
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.local_addr()
    }

    /// What the offloads did and the system calls made.
    pub fn io_stats(&self) -> &IoStats {
        &self.io
    }

    /// [`Self::io_stats`] as JSON for the report.
    pub fn offload_report(&self) -> serde_json::Value {
        serde_json::to_value(&self.io).unwrap_or_default()
    }

    /// What the impairment layer did.
    pub fn impair_stats(&self) -> ImpairStats {
        self.impair.as_ref().map(|i| i.stats()).unwrap_or_default()
    }

    /// Run until `app` says stop. `app` runs after every batch of events: it feeds or
    /// drains the engine and reports progress; `tick` bounds how long the loop sleeps
    /// between two calls (for progress bars and outside deadlines).
    pub fn run<E: Endpoint>(
        &mut self,
        ep: &mut E,
        tick: Option<Duration>,
        mut app: impl FnMut(&mut E, Instant) -> io::Result<Control>,
    ) -> io::Result<()> {
        loop {
            if self.interrupted.load(Ordering::Relaxed) {
                return Err(io::Error::new(
                    io::ErrorKind::Interrupted,
                    "interrupted by a signal",
                ));
            }
            let now = Instant::now();
            self.receive(ep, now)?;
            if let Some(imp) = &mut self.impair {
                while let Some(d) = imp.pop_ready(now) {
                    ep.handle_datagram(now, &d);
                }
            }
            if ep.poll_timeout().is_some_and(|t| t <= now) {
                ep.handle_timeout(now);
            }
            if app(ep, now)? == Control::Stop {
                return Ok(());
            }
            self.check_gso_silence(now);
            self.transmit(ep, now)?;
            let mut deadline = ep.poll_timeout();
            if let Some(t) = self.impair.as_ref().and_then(|i| i.next_ready()) {
                deadline = Some(deadline.map_or(t, |d| d.min(t)));
            }
            if let Some(t) = tick {
                let t = now + t;
                deadline = Some(deadline.map_or(t, |d| d.min(t)));
            }
            self.wait(deadline)?;
        }
    }

    /// Sleep until a datagram arrives or `deadline` passes.
    ///
    /// Two refinements over a plain epoll wait: (1) epoll counts whole milliseconds and
    /// mio rounds up, which would make every delayed datagram and timer up to 1 ms late,
    /// so the sub-millisecond rest is spent polling without blocking; (2) on loopback
    /// the peer answers within microseconds, and a sleep/wake-up pair per datagram
    /// would cost more than the answer itself, so the first [`SPIN`] of every wait
    /// also polls without blocking (yielding the CPU in between).
    fn wait(&mut self, deadline: Option<Instant>) -> io::Result<()> {
        let start = Instant::now();
        loop {
            let now = Instant::now();
            let t = deadline.map(|d| d.saturating_duration_since(now));
            let spinning = now < start + SPIN;
            let (t, spin) = match t {
                Some(t) if t.is_zero() => return Ok(()),
                _ if spinning => (Some(Duration::ZERO), true),
                Some(t) if t < Duration::from_millis(1) => (Some(Duration::ZERO), true),
                Some(t) => (Some(Duration::from_millis(t.as_millis() as u64)), false),
                None => (None, false),
            };
            self.io.poll_calls += 1;
            match self.poll.poll(&mut self.events, t) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(()),
                Err(e) => return Err(e),
            }
            if !spin || !self.events.is_empty() || self.interrupted.load(Ordering::Relaxed) {
                return Ok(());
            }
            // Yield: the peer process may need this very core to answer (measured: a pure
            // spin on a loaded 2-core machine cut loopback goodput from 38 to 6 MB/s).
            std::thread::yield_now();
        }
    }

    /// One receive call: the bytes, the source and the size of each datagram in them
    /// (UDP_GRO coalesces equal-sized datagrams of one flow; without GRO one datagram).
    fn recv_one(&mut self) -> io::Result<(usize, SocketAddr, usize)> {
        self.io.recv_calls += 1;
        if self.io.gro {
            let (n, from, seg) = offload::recv_gro(&self.socket, &mut self.rx)?;
            Ok((n, from, seg.map_or(n, usize::from).max(1)))
        } else {
            let (n, from) = self.socket.recv_from(&mut self.rx)?;
            Ok((n, from, n.max(1)))
        }
    }

    fn receive<E: Endpoint>(&mut self, ep: &mut E, now: Instant) -> io::Result<()> {
        loop {
            let (n, from, stride) = match self.recv_one() {
                Ok(x) => x,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
                    self.refused += 1;
                    self.gso_unanswered = None;
                    if self.refused == 1 {
                        log::warn!(
                            "the receiver's port is closed (ICMP port unreachable); retrying"
                        );
                    }
                    continue;
                }
                Err(e) => return Err(e),
            };
            self.gso_unanswered = None;
            let bytes = &self.rx[..n];
            let first = &bytes[..stride.min(n)];
            if let PeerPolicy::FirstData(peer) = &mut self.peer {
                match peer {
                    Some(p) if *p != from => {
                        self.foreign += 1;
                        if !self.foreign_logged.contains(&from) && self.foreign_logged.len() < 16 {
                            self.foreign_logged.push(from);
                            log::warn!(
                                "ignoring datagrams from {}: this transfer is with {}",
                                netcli::net::shown(from),
                                netcli::net::shown(*p)
                            );
                        }
                        continue;
                    }
                    Some(_) => {}
                    None => {
                        if matches!(Repr::parse_bytes(first), Ok(Repr::Data { .. })) {
                            log::info!("transfer from {}", netcli::net::shown(from));
                            *peer = Some(from);
                        } else {
                            self.foreign += 1;
                            log::debug!(
                                "ignoring a {n}-byte datagram from {from}: not a DATA segment"
                            );
                            continue;
                        }
                    }
                }
            }
            let count = n.div_ceil(stride);
            self.io.datagrams_received += count as u64;
            if count > 1 {
                self.io.gro_batches += 1;
            }
            match &mut self.impair {
                // The impairment layer treats every datagram on its own (its own fate and
                // delay), so a batch is answered datagram by datagram.
                Some(imp) => {
                    for d in bytes.chunks(stride) {
                        imp.push(now, d.to_vec());
                    }
                }
                None if count == 1 => {
                    if ep.handle_datagram(now, bytes) == Handled::Ignored {
                        log::debug!(
                            "ignoring a {n}-byte datagram from {from}: {}",
                            describe(bytes)
                        );
                    }
                }
                None => ep.handle_batch(now, bytes.chunks(stride)),
            }
        }
    }

    /// A sender's GSO batches that get no answer at all for [`GSO_SILENCE`] (no ACK, no
    /// ICMP) are taken as a path that drops them: fall back to one datagram per call.
    fn check_gso_silence(&mut self, now: Instant) {
        // The peer answers (nearly) every datagram of our batches on its own: its socket
        // gets them one by one (a path without GRO, e.g. veths with offloads off), so the
        // batch only makes it wake once per window and the two processes take turns,
        // where one datagram per call lets it start on the first while we send the rest
        // (measured between two lab hosts: 131 MB/s with GSO, 154 MB/s without). Decide
        // once, after GSO_PROBE datagrams.
        if self.io.gso
            && self.io.gso_batches > 0
            && self.io.datagrams_sent >= GSO_PROBE
            && !self.gso_judged
        {
            self.gso_judged = true;
            if self.io.datagrams_received * 2 > self.io.datagrams_sent {
                self.disable_gso(format!(
                    "the peer answered {} of our first {} datagrams one by one: it reads them without GRO, one datagram per call overlaps better",
                    self.io.datagrams_received, self.io.datagrams_sent
                ));
            }
        }
        if self.io.gso
            && self
                .gso_unanswered
                .is_some_and(|t| now.saturating_duration_since(t) >= GSO_SILENCE)
        {
            self.disable_gso(format!(
                "no answer for {GSO_SILENCE:?} to GSO batches: the path seems to drop them"
            ));
        }
    }

    fn disable_gso(&mut self, why: String) {
        log::info!("UDP GSO off ({why}): one datagram per system call");
        self.io.gso = false;
        self.io.fallback = Some(why);
        self.gso_unanswered = None;
    }

    /// Send everything the engine has: consecutive datagrams of equal size (the last of a
    /// run may be shorter) go out in one GSO `sendmsg`; the rest one per call.
    fn transmit<E: Endpoint>(&mut self, ep: &mut E, now: Instant) -> io::Result<()> {
        let (mut off, mut seg, mut count) = (0usize, 0usize, 0usize);
        loop {
            if count == MAX_BATCH || off + MAX_SEGMENT > self.tx.len() {
                self.send_run(off, seg, count, now)?;
                (off, count) = (0, 0);
            }
            let Some(n) = ep.poll_transmit(now, &mut self.tx[off..]) else {
                break;
            };
            if count > 0 && n > seg {
                // Larger than the run's datagrams: send the run, start a new one.
                self.send_run(off, seg, count, now)?;
                self.tx.copy_within(off..off + n, 0);
                (off, count) = (0, 0);
            }
            if count == 0 {
                seg = n;
            }
            off += n;
            count += 1;
            if n < seg {
                // A shorter datagram ends a GSO run.
                self.send_run(off, seg, count, now)?;
                (off, count) = (0, 0);
            }
        }
        if count > 0 {
            self.send_run(off, seg, count, now)?;
        }
        Ok(())
    }

    /// Send `tx[..len]`: `count` datagrams of `seg` bytes (the last may be shorter).
    fn send_run(&mut self, len: usize, seg: usize, count: usize, now: Instant) -> io::Result<()> {
        let to = match self.peer {
            PeerPolicy::Connected => None,
            PeerPolicy::FirstData(Some(p)) => Some(p),
            PeerPolicy::FirstData(None) => return Ok(()),
        };
        if count > 1 && self.io.gso {
            self.io.send_calls += 1;
            let seg16 = u16::try_from(seg).unwrap_or(u16::MAX);
            match offload::send_gso(&self.socket, to, &self.tx[..len], seg16) {
                Ok(_) => {
                    self.io.gso_batches += 1;
                    self.io.datagrams_sent += count as u64;
                    if matches!(self.peer, PeerPolicy::Connected) {
                        self.gso_unanswered.get_or_insert(now);
                    }
                    return Ok(());
                }
                Err(e) if offload::gso_refused(&e) => {
                    self.disable_gso(format!("the kernel refused UDP_SEGMENT: {e}"));
                }
                Err(e) => return Self::lost_or_fatal(e, &mut self.refused),
            }
        }
        let mut start = 0;
        while start < len {
            let end = (start + seg).min(len);
            self.send_one(start, end)?;
            start = end;
        }
        Ok(())
    }

    fn send_one(&mut self, start: usize, end: usize) -> io::Result<()> {
        let bytes = &self.tx[start..end];
        self.io.send_calls += 1;
        self.io.datagrams_sent += 1;
        let r = match self.peer {
            PeerPolicy::Connected => self.socket.send(bytes),
            PeerPolicy::FirstData(Some(p)) => self.socket.send_to(bytes, p),
            PeerPolicy::FirstData(None) => return Ok(()),
        };
        match r {
            Ok(_) => Ok(()),
            Err(e) => Self::lost_or_fatal(e, &mut self.refused),
        }
    }

    /// A full socket buffer or an unreachable peer loses the datagrams like the network
    /// would (the engine's timers repair it); anything else is fatal.
    fn lost_or_fatal(e: io::Error, refused: &mut u64) -> io::Result<()> {
        match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => Ok(()),
            io::ErrorKind::ConnectionRefused => {
                *refused += 1;
                Ok(())
            }
            _ => Err(e),
        }
    }
}

fn describe(bytes: &[u8]) -> String {
    match Repr::parse_bytes(bytes) {
        Ok(r) => format!("unexpected {r}"),
        Err(e) => e.to_string(),
    }
}

/// A flag that SIGINT and SIGTERM set.
fn signal_flag() -> io::Result<Arc<AtomicBool>> {
    let flag = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&flag))?;
    }
    Ok(flag)
}

/// The transfer's progress bar on stderr (10 Hz), or `None` when quiet, printing JSON or
/// stderr is not a terminal. `length` gives a bar, `None` a spinner.
pub fn progress_bar(
    length: Option<u64>,
    template: &str,
    quiet: bool,
    json: bool,
) -> Option<ProgressBar> {
    if quiet || json || !io::stderr().is_terminal() {
        return None;
    }
    let bar = match length {
        Some(n) => ProgressBar::new(n),
        None => ProgressBar::no_length(),
    }
    .with_style(ProgressStyle::with_template(template).ok()?);
    bar.set_draw_target(ProgressDrawTarget::stderr_with_hz(10));
    Some(bar)
}

/// `"; impairment dropped X of Y <what>"` for the summary line, empty without impairment.
pub fn impairment_note(imp: &ImpairStats, what: &str) -> String {
    if imp.received > 0 {
        format!(
            "; impairment dropped {} of {} {what}",
            imp.dropped, imp.received
        )
    } else {
        String::new()
    }
}

/// `(seconds, bits per second)` for `bytes` delivered in `elapsed` (never divides by 0).
pub fn goodput(bytes: u64, elapsed: Duration) -> (f64, f64) {
    let secs = elapsed.as_secs_f64().max(1e-9);
    (secs, bytes as f64 * 8.0 / secs)
}

/// Where the NDJSON record goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonTo {
    /// Not printed (no `--json`).
    Nowhere,
    Stdout,
    /// When the data owns stdout.
    Stderr,
}

/// The final summary: a human line and an NDJSON record (`success` added on emit).
#[derive(Debug)]
pub struct Report {
    pub line: String,
    pub json: serde_json::Value,
}

impl Report {
    /// Print the line on stderr unless `quiet`, and the record where `json` says.
    pub fn emit(&self, success: bool, quiet: bool, json: JsonTo) {
        let mut record = self.json.clone();
        if let Some(o) = record.as_object_mut() {
            o.insert("success".into(), success.into());
        }
        if !quiet {
            eprintln!("{}", self.line);
        }
        match json {
            JsonTo::Nowhere => {}
            JsonTo::Stdout => println!("{record}"),
            JsonTo::Stderr => eprintln!("{record}"),
        }
    }
}

/// A goodput for summary lines: `26.1 Mbit/s (3.26 MB/s)`.
pub fn fmt_rate(bits_per_sec: f64) -> String {
    let (v, unit) = match bits_per_sec {
        b if b >= 1e9 => (b / 1e9, "Gbit/s"),
        b if b >= 1e6 => (b / 1e6, "Mbit/s"),
        b if b >= 1e3 => (b / 1e3, "kbit/s"),
        b => (b, "bit/s"),
    };
    format!("{v:.1} {unit} ({:.2} MB/s)", bits_per_sec / 8e6)
}

/// A duration in milliseconds for summary lines, `-` when unknown.
pub fn fmt_ms(d: Option<Duration>) -> String {
    match d {
        Some(d) if d < Duration::from_millis(1) => format!("{:.0} us", d.as_secs_f64() * 1e6),
        Some(d) => format!("{:.2} ms", d.as_secs_f64() * 1e3),
        None => "-".into(),
    }
}

/// Command-line options shared by `sender` and `receiver` (flatten into their clap structs).
#[derive(Debug, Clone, clap::Args)]
pub struct TransferArgs {
    /// Retransmission strategy: selective repeat or go-back-n.
    #[arg(long, value_enum, default_value_t = Mode::SelectiveRepeat)]
    pub mode: Mode,
    /// Give up after SECS seconds without progress (clear message, exit 3).
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = parse_timeout)]
    pub timeout: Duration,
    /// Print the final statistics as one NDJSON record (type "transfer").
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub impair: ImpairArgs,
}

impl TransferArgs {
    /// The no-progress timeout.
    pub fn idle_timeout(&self) -> Duration {
        self.timeout
    }
}

/// Parse a window_size positional: 1–7, because WIN has 3 bits.
pub fn parse_window(s: &str) -> Result<u8, String> {
    match s.parse::<u8>() {
        Ok(w @ 1..=MAX_WIN) => Ok(w),
        _ => Err(format!(
            "`{s}` is not a valid window size: use 1-{MAX_WIN} (the WIN field has 3 bits)"
        )),
    }
}

/// `--timeout`: seconds, at most a day (a transfer idle for longer has failed).
fn parse_timeout(s: &str) -> Result<Duration, String> {
    netcli::value::secs_at_most(s, Duration::from_secs(86_400))
}

/// Command-line options shared by `sender` and `receiver`: the impairment of received
/// segments. Flatten into a clap derive struct.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ImpairArgs {
    /// Drop each received segment with probability P (0-1), e.g. 0.1 for 10 %.
    #[arg(long, value_name = "P", default_value_t = 0.0, value_parser = parse_probability)]
    pub loss: f64,
    /// Delay each received segment by MS milliseconds (fractions allowed).
    #[arg(long, value_name = "MS", default_value_t = 0.0, value_parser = parse_ms)]
    pub delay: f64,
    /// Add a uniform random delay of 0-MS milliseconds to each received segment (reorders).
    #[arg(long, value_name = "MS", default_value_t = 0.0, value_parser = parse_ms)]
    pub jitter: f64,
    /// Seed of the loss/delay generator (default: random, printed with -v).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
}

impl ImpairArgs {
    /// The impairment these options describe.
    pub fn impairment(&self) -> Impairment {
        Impairment {
            loss: self.loss,
            delay: Duration::from_secs_f64(self.delay / 1000.0),
            jitter: Duration::from_secs_f64(self.jitter / 1000.0),
            duplicate: 0.0,
        }
    }

    /// The seed given, or one derived from the clock and the process id.
    pub fn seed_or_random(&self) -> u64 {
        self.seed.unwrap_or_else(|| {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
            SplitMix64::new(t ^ (u64::from(std::process::id()) << 32)).next_u64()
        })
    }
}

fn parse_probability(s: &str) -> Result<f64, String> {
    let p: f64 = s
        .parse()
        .map_err(|_| format!("`{s}` is not a number; give a probability such as 0.1"))?;
    if (0.0..=1.0).contains(&p) {
        Ok(p)
    } else {
        Err(format!(
            "{p} is not a probability: use 0-1 (0.1 = 10 % of segments dropped)"
        ))
    }
}

fn parse_ms(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .parse()
        .map_err(|_| format!("`{s}` is not a number of milliseconds"))?;
    if v.is_finite() && (0.0..=3_600_000.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{v} ms is out of range: use 0-3600000"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_positional() {
        assert_eq!(parse_window("7"), Ok(7));
        assert!(parse_window("0").is_err());
        assert!(parse_window("8").unwrap_err().contains("3 bits"));
    }

    #[test]
    fn option_parsing() {
        assert!(parse_probability("1.5").is_err());
        assert!(parse_probability("x").is_err());
        assert_eq!(parse_probability("0.25"), Ok(0.25));
        assert!(parse_ms("-1").is_err());
        let a = ImpairArgs {
            loss: 0.1,
            delay: 5.0,
            jitter: 2.5,
            seed: Some(1),
        };
        let i = a.impairment();
        assert_eq!(i.delay, Duration::from_millis(5));
        assert_eq!(i.jitter, Duration::from_micros(2500));
    }
}
