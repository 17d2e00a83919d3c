//! The one live-capture loop, shared by `sniff` and `tcpstat -i`.
//!
//! [`run`] reads packets from a [`Live`] capture in batches (`pcap_dispatch`) and hands each one
//! to a [`Handler`], until one of these ends it ([`End`]):
//!
//! - a packet count ([`Options::count`]), counted over the records handed to the handler;
//! - a deadline ([`Options::deadline`], or [`Options::timeout`] from now);
//! - a stop flag ([`Options::stop`]): [`signal_flag`] gives the one SIGINT and SIGTERM set, so
//!   Ctrl-C or `kill` ends the capture cleanly (the caller then completes its file and prints
//!   its summary) instead of killing the process; the packets the kernel captured before the
//!   stop are handed out first ([`Options::drain_on_stop`]);
//! - the handler itself ([`ControlFlow::Break`] from [`Handler::packet`]), or its error.
//!
//! Between batches the handler's [`Handler::tick`] runs (flush output, print a periodic
//! summary); when nothing was ready the loop waits with `poll(2)` for the next packet, at most
//! until the deadline, the handler's wake-up time or [`Options::max_wait`]. A signal interrupts
//! that wait, so a stop is seen at once. The result says why the loop ended, how many packets it
//! handled, and the kernel's capture statistics ([`Stats`]: received by the filter, dropped by
//! the kernel, dropped by the interface).
//!
//! ```no_run
//! use std::ops::ControlFlow;
//! use netcap::{Live, LiveOptions, live};
//!
//! let mut cap = Live::open(&LiveOptions::default())?;
//! let opts = live::Options::new().count(10).stop(live::signal_flag()?);
//! // A closure is a handler: it gets the 1-based packet number and the record.
//! let outcome = live::run(&mut cap, &opts, &mut |n: u64, r: &netcap::Record<'_>| {
//!     println!("{n}: {} bytes", r.len);
//!     Ok::<_, std::convert::Infallible>(ControlFlow::Continue(()))
//! })?;
//! eprintln!("{} packets, ended by {:?}", outcome.packets, outcome.end);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::io;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use crate::{CaptureError, Live, Record, Stats};

/// What the loop does with each packet and between batches.
pub trait Handler {
    /// What [`Handler::packet`] and [`Handler::tick`] may fail with; [`run`] ends with it
    /// ([`Error::Handler`]).
    type Error;

    /// Packet number `n` (1-based, counting every record handed out). `Break` ends the
    /// capture after this packet; packets already read in the same batch are dropped.
    fn packet(&mut self, n: u64, record: &Record<'_>) -> Result<ControlFlow<()>, Self::Error>;

    /// Called after every batch unless the capture is ending: `idle` when no packet was ready
    /// (the loop is about to wait). Returns when it wants to be called next (`None`: no wish;
    /// the wait is bounded by [`Options::max_wait`] anyway).
    fn tick(&mut self, now: Instant, idle: bool) -> Result<Option<Instant>, Self::Error> {
        let _ = (now, idle);
        Ok(None)
    }
}

/// Any `FnMut(n, &Record) -> Result<ControlFlow<()>, E>` is a handler without a tick.
impl<F, E> Handler for F
where
    F: FnMut(u64, &Record<'_>) -> Result<ControlFlow<()>, E>,
{
    type Error = E;

    fn packet(&mut self, n: u64, record: &Record<'_>) -> Result<ControlFlow<()>, E> {
        self(n, record)
    }
}

/// When [`run`] stops.
#[derive(Debug, Clone)]
pub struct Options {
    /// Stop after this many packets.
    pub count: Option<u64>,
    /// Stop at this instant.
    pub deadline: Option<Instant>,
    /// Stop once this flag is set (see [`signal_flag`]).
    pub stop: Option<Arc<AtomicBool>>,
    /// Most packets handed out per `pcap_dispatch` call: bounds how long a flood can delay a
    /// tick, the deadline or the stop flag.
    pub batch: usize,
    /// Longest single wait for packets (a safety net: signals and deadlines end waits early).
    pub max_wait: Duration,
    /// When the stop flag is seen, first hand out the packets the kernel already captured
    /// (without waiting; for at most `max_wait`, and within the count), so that what was
    /// sent before a Ctrl-C is counted. Default on.
    pub drain_on_stop: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            count: None,
            deadline: None,
            stop: None,
            batch: 4096,
            max_wait: Duration::from_millis(250),
            drain_on_stop: true,
        }
    }
}

impl Options {
    /// No count, no deadline, no stop flag: runs until the handler breaks.
    pub fn new() -> Self {
        Self::default()
    }
    /// Stop after `n` packets.
    pub fn count(mut self, n: u64) -> Self {
        self.count = Some(n);
        self
    }
    /// Stop at `deadline`.
    pub fn deadline(mut self, deadline: Instant) -> Self {
        self.deadline = Some(deadline);
        self
    }
    /// Stop `timeout` from now (no deadline when that instant cannot be represented).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.deadline = Instant::now().checked_add(timeout);
        self
    }
    /// Stop once `flag` is set.
    pub fn stop(mut self, flag: Arc<AtomicBool>) -> Self {
        self.stop = Some(flag);
        self
    }
    /// Wait at most `wait` at a time.
    pub fn max_wait(mut self, wait: Duration) -> Self {
        self.max_wait = wait;
        self
    }
}

/// The process's stop flag, set by SIGINT and SIGTERM (the handlers are installed on the first
/// call; later calls return the same flag). Pass it to [`Options::stop`]. Call it before
/// opening the capture, so that a signal sent once the capture is running (a test waiting for
/// the capture to be ready, say) always stops it cleanly rather than killing the process.
pub fn signal_flag() -> io::Result<Arc<AtomicBool>> {
    static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    if let Some(f) = FLAG.get() {
        return Ok(Arc::clone(f));
    }
    let flag = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&flag))?;
    }
    // A racing first call registered its own flag too: both are set by the signals.
    Ok(Arc::clone(FLAG.get_or_init(|| flag)))
}

/// Why [`run`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// [`Options::count`] packets were handled.
    Count,
    /// [`Options::deadline`] passed.
    Deadline,
    /// The stop flag was set (SIGINT or SIGTERM with [`signal_flag`]).
    Stopped,
    /// The handler returned `Break`.
    Handler,
}

/// What [`run`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub end: End,
    /// Packets handed to the handler.
    pub packets: u64,
    /// The kernel's counters at the end; `None` when libpcap could not read them.
    pub stats: Option<Stats>,
}

/// Why [`run`] failed: the capture, or the handler.
#[derive(Debug)]
pub enum Error<E> {
    Capture(CaptureError),
    Handler(E),
}

impl<E: fmt::Display> fmt::Display for Error<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Capture(e) => e.fmt(f),
            Error::Handler(e) => e.fmt(f),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for Error<E> {}

/// Capture from `live` into `handler` until `opts` or the handler end it (see the module
/// documentation).
pub fn run<H: Handler + ?Sized>(
    live: &mut Live,
    opts: &Options,
    handler: &mut H,
) -> Result<Outcome, Error<H::Error>> {
    let stopped = || {
        opts.stop
            .as_ref()
            .is_some_and(|f| f.load(Ordering::Relaxed))
    };
    let past = |now: Instant| opts.deadline.is_some_and(|d| now >= d);
    let mut n = 0u64;
    let end = loop {
        if stopped() {
            if opts.drain_on_stop && drain(live, opts, handler, &mut n)? {
                break End::Handler;
            }
            break End::Stopped;
        }
        if opts.count.is_some_and(|c| n >= c) {
            break End::Count;
        }
        if past(Instant::now()) {
            break End::Deadline;
        }
        let (got, broke) = batch(live, opts, handler, &mut n)?;
        if broke {
            break End::Handler;
        }
        let now = Instant::now();
        if past(now) {
            break End::Deadline;
        }
        let idle = got == 0;
        let wake = handler.tick(now, idle).map_err(Error::Handler)?;
        if idle {
            let mut wait = opts.max_wait;
            for until in [opts.deadline, wake].into_iter().flatten() {
                wait = wait.min(until.saturating_duration_since(now));
            }
            live.wait(wait).map_err(Error::Capture)?;
        }
    };
    Ok(Outcome {
        end,
        packets: n,
        stats: live.stats().ok(),
    })
}

/// One `pcap_dispatch` of at most [`Options::batch`] packets (and no more than the count
/// leaves) into the handler: how many were read, and whether the handler broke.
fn batch<H: Handler + ?Sized>(
    live: &mut Live,
    opts: &Options,
    handler: &mut H,
    n: &mut u64,
) -> Result<(usize, bool), Error<H::Error>> {
    let mut max = opts.batch.max(1);
    if let Some(c) = opts.count {
        max = max.min(usize::try_from(c.saturating_sub(*n)).unwrap_or(usize::MAX));
    }
    let mut broke = false;
    let mut failed = None;
    let got = live
        .dispatch(Some(max), |r| {
            if broke || failed.is_some() {
                return;
            }
            *n += 1;
            match handler.packet(*n, &r) {
                Ok(ControlFlow::Continue(())) => {}
                Ok(ControlFlow::Break(())) => broke = true,
                Err(e) => failed = Some(e),
            }
        })
        .map_err(Error::Capture)?;
    match failed {
        Some(e) => Err(Error::Handler(e)),
        None => Ok((got, broke)),
    }
}

/// After a stop: hand out what the kernel already holds, without waiting, for at most
/// [`Options::max_wait`] and within the count. True when the handler broke.
fn drain<H: Handler + ?Sized>(
    live: &mut Live,
    opts: &Options,
    handler: &mut H,
    n: &mut u64,
) -> Result<bool, Error<H::Error>> {
    let until = Instant::now() + opts.max_wait.min(Duration::from_secs(1));
    while opts.count.is_none_or(|c| *n < c) && Instant::now() < until {
        let (got, broke) = batch(live, opts, handler, n)?;
        if broke {
            return Ok(true);
        }
        if got == 0 {
            break;
        }
    }
    Ok(false)
}
