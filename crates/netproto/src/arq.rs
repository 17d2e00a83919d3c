//! Sans-IO sliding-window sender and receiver (go-back-n and selective repeat).
//!
//! In the style of quinn-proto: the state machines own no socket, no clock and no random
//! number generator. The caller feeds them datagrams ([`Sender::handle_datagram`]) and timer
//! expiries ([`Sender::handle_timeout`]), each with the current time, and asks them what to
//! send ([`Sender::poll_transmit`]) and when to wake them next ([`Sender::poll_timeout`]).
//! The `sender`/`receiver` programs drive them with a UDP socket and `Instant::now()`; the
//! tests drive them with a simulated lossy link and a fake clock.
//!
//! Data flow without reading the whole input: the [`Sender`] buffers at most `window`
//! segments. The application pushes 512-byte chunks with [`Sender::push`] while
//! [`Sender::wants_data`] says there is room (or lets [`Sender::fill_from`] pull them from
//! any `Read`); a chunk shorter than 512 bytes (possibly empty) is the last one. The
//! [`Receiver`] hands in-order payloads out through [`Receiver::read`]; payloads the
//! application has not taken yet occupy the receive window, so a slow consumer advertises
//! a smaller WIN (down to 0) instead of the receiver buffering without bound.
//!
//! Sequence numbers: both sides count segments with an absolute `u64` and map the 8-bit wire
//! number back relative to a reference that is never more than 7 segments away from any
//! legitimate number (see [`crate::segment::seq`] and `docs/transfer.md`).

use std::collections::VecDeque;
use std::io::{self, Read};
use std::time::{Duration, Instant};

use crate::segment::{MAX_PAYLOAD, MAX_SEGMENT, MAX_WIN, Repr, seq};

/// Retransmission strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum Mode {
    /// Selective repeat: the receiver buffers out-of-order segments, the sender resends only
    /// the segment whose timer expired.
    #[default]
    #[cfg_attr(feature = "clap", value(name = "sr"))]
    #[cfg_attr(feature = "serde", serde(rename = "sr"))]
    SelectiveRepeat,
    /// Go-back-n: the receiver takes segments in order only, the sender resends everything
    /// outstanding from the oldest unacknowledged segment.
    #[cfg_attr(feature = "clap", value(name = "gbn"))]
    #[cfg_attr(feature = "serde", serde(rename = "gbn"))]
    GoBackN,
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Mode::SelectiveRepeat => "sr",
            Mode::GoBackN => "gbn",
        })
    }
}

/// Smallest RTO: loopback RTTs are tens of microseconds, but a descheduled peer process on
/// a busy machine answers a millisecond late; below that every scheduler hiccup would be a
/// spurious retransmission.
pub const MIN_RTO: Duration = Duration::from_millis(1);
/// Largest RTO ("a few seconds"); the receiver's minimum linger is twice this, so that the
/// last segment is retransmitted at least twice while the receiver still listens.
pub const MAX_RTO: Duration = Duration::from_secs(2);
/// Initial RTO before any RTT sample (RFC 6298 says 1 s).
pub const INITIAL_RTO: Duration = Duration::from_secs(1);
/// Timer granularity term G of RFC 6298: RTO ≥ SRTT + G.
pub const GRANULARITY: Duration = Duration::from_micros(500);
/// Minimum linger of the receiver after the last segment.
pub const MIN_LINGER: Duration = Duration::from_secs(4);
/// Duplicate ACKs that trigger a fast retransmission.
pub const DUPACK_THRESHOLD: u32 = 3;

/// Errors of the engine API (never of the network: bad datagrams are counted and ignored).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("window size {0} is out of range: it must be 1-{MAX_WIN} to fit WIN's 3 bits")]
    Window(u8),
    #[error("chunk of {0} bytes is larger than a segment's {MAX_PAYLOAD}-byte payload")]
    ChunkTooLarge(usize),
    #[error("the last chunk (shorter than {MAX_PAYLOAD} bytes) was already pushed")]
    AfterLast,
    #[error("the send buffer is full: wait until wants_data() is non-zero")]
    Full,
}

/// Why a transfer ended without success.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    #[error("no progress for {0:?}")]
    Idle(Duration),
}

/// What happened to a datagram given to `handle_datagram`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handled {
    /// A segment of the expected type that the engine used (even if only to ACK it).
    Used,
    /// Not a valid segment of the expected type; ignored.
    Ignored,
}

/// RFC 6298 round-trip estimator.
#[derive(Debug, Clone)]
pub struct RttEstimator {
    srtt: Option<Duration>,
    rttvar: Duration,
    min: Option<Duration>,
    latest: Option<Duration>,
    samples: u64,
    initial: Duration,
}

impl RttEstimator {
    pub fn new(initial_rto: Duration) -> Self {
        RttEstimator {
            srtt: None,
            rttvar: Duration::ZERO,
            min: None,
            latest: None,
            samples: 0,
            initial: initial_rto,
        }
    }

    /// Feed one sample (never from a retransmitted segment: Karn's rule).
    pub fn sample(&mut self, r: Duration) {
        self.samples += 1;
        self.latest = Some(r);
        self.min = Some(self.min.map_or(r, |m| m.min(r)));
        match self.srtt {
            None => {
                self.srtt = Some(r);
                self.rttvar = r / 2;
            }
            Some(srtt) => {
                let diff = srtt.abs_diff(r);
                self.rttvar = (self.rttvar * 3 + diff) / 4;
                self.srtt = Some((srtt * 7 + r) / 8);
            }
        }
    }

    /// Base RTO (before backoff): SRTT + max(G, 4·RTTVAR, SRTT/4), clamped to
    /// [MIN_RTO, MAX_RTO].
    ///
    /// The SRTT/4 term is the adaptive floor: on a path with steady delay RTTVAR decays
    /// towards 0 and RFC 6298's SRTT + max(G, 4·RTTVAR) would leave only G (500 µs) of
    /// margin, so that any scheduling hiccup of the peer on a 20 ms path fired a spurious
    /// timeout. A quarter of the RTT (5 ms at 20 ms) absorbs that and still lies far below
    /// a fixed 1 s minimum; on loopback MIN_RTO dominates.
    pub fn rto(&self) -> Duration {
        match self.srtt {
            None => self.initial,
            Some(srtt) => {
                (srtt + GRANULARITY.max(self.rttvar * 4).max(srtt / 4)).clamp(MIN_RTO, MAX_RTO)
            }
        }
    }

    pub fn srtt(&self) -> Option<Duration> {
        self.srtt
    }
    pub fn min(&self) -> Option<Duration> {
        self.min
    }
    pub fn samples(&self) -> u64 {
        self.samples
    }
}

/// Sender configuration.
#[derive(Debug, Clone)]
pub struct SenderConfig {
    /// Own window, 1–7 segments (also sent as WIN in every DATA).
    pub window: u8,
    pub mode: Mode,
    /// RTO before the first RTT sample.
    pub initial_rto: Duration,
    /// Give up after this long without an ACK that moves the window (None: never).
    pub idle_timeout: Option<Duration>,
}

impl SenderConfig {
    pub fn new(window: u8, mode: Mode) -> Self {
        SenderConfig {
            window,
            mode,
            initial_rto: INITIAL_RTO,
            idle_timeout: Some(Duration::from_secs(30)),
        }
    }
}

/// Sender statistics.
#[derive(Debug, Clone, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct SenderStats {
    /// Payload bytes acknowledged.
    pub bytes_acked: u64,
    /// Distinct segments acknowledged.
    pub segments_acked: u64,
    /// DATA datagrams sent, retransmissions included.
    pub transmissions: u64,
    pub retransmits_fast: u64,
    pub retransmits_timeout: u64,
    /// Expiries of the retransmission timer (a go-back-n expiry may resend several
    /// segments).
    pub timeouts: u64,
    pub acks_received: u64,
    pub dup_acks: u64,
    /// ACKs for numbers outside the outstanding window (old or stray).
    pub stale_acks: u64,
    /// Retransmissions found spurious by their ACK's timing (it came sooner than half the
    /// minimum RTT after the retransmission). A lower bound: the receiver's duplicates are
    /// the exact count.
    pub spurious_detected: u64,
    /// Datagrams that were not valid ACKs.
    pub ignored: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cause {
    Fast,
    Timeout,
}

#[derive(Debug)]
struct Slot {
    data: Vec<u8>,
    /// Transmissions so far (0: never sent).
    tx: u32,
    sent_at: Option<Instant>,
    /// When it was last retransmitted (for the spurious-retransmission check).
    rexmit_at: Option<Instant>,
    queued: bool,
}

/// The sending side.
#[derive(Debug)]
pub struct Sender {
    cfg: SenderConfig,
    /// Segments from `base` on: sent-unacknowledged, then not yet sent.
    slots: VecDeque<Slot>,
    /// Absolute index of `slots[0]` (oldest unacknowledged).
    base: u64,
    /// One past the highest index ever transmitted.
    sent_high: u64,
    /// Absolute index of the last segment, once pushed.
    last: Option<u64>,
    pushed: u64,
    peer_win: u8,
    rtt: RttEstimator,
    backoff: u32,
    /// The one retransmission timer (RFC 6298), for the oldest outstanding segment: None
    /// while nothing is in flight.
    timer: Option<Instant>,
    /// The time-based loss check of the oldest segment ([`Sender::lost_after`]), armed by a
    /// duplicate ACK that came before the segment was overdue.
    early: Option<Instant>,
    dupacks: u32,
    /// Duplicate ACKs that trigger a fast retransmission: DUPACK_THRESHOLD, raised by one
    /// (up to window − 1) each time a fast retransmission turns out to have been spurious
    /// (the path reorders), like Linux's reordering metric.
    dupthresh: u32,
    /// Base for which a fast retransmission was already made.
    recovered: Option<u64>,
    /// In loss recovery until this segment is acknowledged (NewReno's "recover").
    recover_high: Option<u64>,
    rexmit: VecDeque<(u64, Cause)>,
    last_progress: Option<Instant>,
    started: Option<Instant>,
    finished_at: Option<Instant>,
    failure: Option<Failure>,
    stats: SenderStats,
}

impl Sender {
    pub fn new(cfg: SenderConfig) -> Result<Self, Error> {
        if cfg.window == 0 || cfg.window > MAX_WIN {
            return Err(Error::Window(cfg.window));
        }
        Ok(Sender {
            rtt: RttEstimator::new(cfg.initial_rto),
            peer_win: cfg.window,
            cfg,
            slots: VecDeque::new(),
            base: 0,
            sent_high: 0,
            last: None,
            pushed: 0,
            backoff: 0,
            timer: None,
            early: None,
            dupacks: 0,
            dupthresh: DUPACK_THRESHOLD,
            recovered: None,
            recover_high: None,
            rexmit: VecDeque::new(),
            last_progress: None,
            started: None,
            finished_at: None,
            failure: None,
            stats: SenderStats::default(),
        })
    }

    /// How many more chunks the send buffer takes now (0 once the last chunk is in).
    pub fn wants_data(&self) -> usize {
        if self.last.is_some() {
            0
        } else {
            usize::from(self.cfg.window).saturating_sub(self.slots.len())
        }
    }

    /// Queue the next chunk: exactly 512 bytes, or fewer for the last one (empty if the input
    /// length is a multiple of 512).
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), Error> {
        if self.last.is_some() {
            return Err(Error::AfterLast);
        }
        if chunk.len() > MAX_PAYLOAD {
            return Err(Error::ChunkTooLarge(chunk.len()));
        }
        if self.wants_data() == 0 {
            return Err(Error::Full);
        }
        let abs = self.base + self.slots.len() as u64;
        if chunk.len() < MAX_PAYLOAD {
            self.last = Some(abs);
        }
        self.pushed += chunk.len() as u64;
        self.slots.push_back(Slot {
            data: chunk.to_vec(),
            tx: 0,
            sent_at: None,
            rexmit_at: None,
            queued: false,
        });
        Ok(())
    }

    /// Pull chunks from `src` while the buffer has room. Returns the bytes read.
    pub fn fill_from(&mut self, src: &mut impl Read) -> io::Result<u64> {
        let mut total = 0;
        let mut chunk = [0u8; MAX_PAYLOAD];
        while self.wants_data() > 0 {
            let mut n = 0;
            while n < MAX_PAYLOAD {
                match src.read(&mut chunk[n..]) {
                    Ok(0) => break,
                    Ok(k) => n += k,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            total += n as u64;
            // Cannot fail: room was checked and n <= 512.
            let _ = self.push(&chunk[..n]);
        }
        Ok(total)
    }

    /// Effective window: min(own, peer's WIN), at least 1 (the zero-window probe).
    pub fn effective_window(&self) -> u8 {
        self.cfg.window.min(self.peer_win).max(1)
    }

    fn rto(&self) -> Duration {
        let base = self.rtt.rto();
        base.checked_mul(1 << self.backoff.min(16))
            .unwrap_or(MAX_RTO)
            .min(MAX_RTO.max(base))
    }

    fn outstanding(&self) -> u64 {
        self.sent_high - self.base
    }

    /// Handle a received datagram (an ACK; anything else is counted and ignored).
    pub fn handle_datagram(&mut self, now: Instant, bytes: &[u8]) -> Handled {
        let (ack, win) = match Repr::parse_bytes(bytes) {
            Ok(Repr::Ack { seq, win }) => (seq, win),
            _ => {
                self.stats.ignored += 1;
                return Handled::Ignored;
            }
        };
        if self.is_finished() || self.failure.is_some() {
            return Handled::Used;
        }
        self.stats.acks_received += 1;
        // Forward distance from the oldest unacknowledged segment. A legitimate ACK lies in
        // base..=sent_high (at most 7 apart); anything else is an old or stray ACK.
        let d = u64::from(seq::offset(seq::wire(self.base), ack));
        if d > self.outstanding() {
            self.stats.stale_acks += 1;
            return Handled::Used;
        }
        let old_win = self.peer_win;
        self.peer_win = win;
        if d == 0 {
            // Duplicate ACK: only with data outstanding and an unchanged, open window (a
            // window update or a zero-window answer is not a loss signal).
            if self.outstanding() > 0 && win == old_win && win > 0 {
                self.stats.dup_acks += 1;
                self.dupacks += 1;
                if self.dupacks >= self.dupthresh && self.recovered != Some(self.base) {
                    self.recover_high = Some(self.sent_high);
                    self.resend_base_fast();
                } else if let Some(at) = self.lost_after() {
                    // Time-based detection (RACK-like): a later segment arrived (this
                    // duplicate ACK) and the oldest is overdue.
                    if now >= at {
                        self.retransmit_overdue();
                    } else {
                        self.early = Some(at);
                    }
                }
            }
            return Handled::Used;
        }
        // New data acknowledged: base..base+d.
        let newly = &self.slots.range(..d as usize);
        // A retransmission acknowledged sooner than half the smallest RTT after it was sent
        // cannot have been the copy that arrived: the original was only late (reordered),
        // so the retransmission was spurious (Eifel, RFC 3522, by timing).
        let min_rtt = self.rtt.min();
        let spurious = newly
            .clone()
            .filter(|s| {
                s.rexmit_at
                    .zip(min_rtt)
                    .is_some_and(|(r, m)| now.saturating_duration_since(r) < m / 2)
            })
            .count() as u64;
        if spurious > 0 {
            self.stats.spurious_detected += spurious;
            self.dupthresh = (self.dupthresh + 1)
                .min(u32::from(MAX_WIN) - 1)
                .max(DUPACK_THRESHOLD);
        }
        let karn_ok = newly.clone().all(|s| s.tx == 1);
        let sample = newly.clone().last().and_then(|s| s.sent_at);
        if karn_ok && let Some(t) = sample {
            self.rtt.sample(now.saturating_duration_since(t));
        }
        // New data acknowledged: the path works again, so drop the backoff (as Linux does).
        // Waiting for a Karn-valid sample instead would keep go-back-n, which retransmits
        // nearly every segment under loss, at the maximum RTO for good.
        self.backoff = 0;
        for _ in 0..d {
            if let Some(s) = self.slots.pop_front() {
                self.stats.bytes_acked += s.data.len() as u64;
                self.stats.segments_acked += 1;
            }
        }
        self.base += d;
        self.dupacks = 0;
        self.last_progress = Some(now);
        let base = self.base;
        self.rexmit.retain(|&(abs, _)| abs >= base);
        // RFC 6298 (5.2, 5.3): new data acknowledged restarts the timer for what is still
        // outstanding, and stops it when nothing is.
        self.timer = (self.outstanding() > 0).then(|| now + self.rto());
        self.early = None;
        match self.recover_high {
            // A partial ACK during recovery (NewReno, RFC 6582). Selective repeat: the
            // receiver got the retransmission and everything sent before it up to the new
            // hole, so the segment at the new base is lost too: retransmit it at once
            // (only one retransmission is ever in flight, so the partial ACK cannot be for
            // one still on its way). Go-back-n does the same, although the copy may still
            // be on its way: its receiver discards every segment that arrives out of order,
            // and resending the new base at once measured best under reordering (simulator,
            // 10 % loss, 5 ms delay + 5 ms jitter: 24 KB/s against 6 KB/s without).
            Some(h) if base < h => self.queue_rexmit(base, Cause::Fast),
            Some(_) => self.recover_high = None,
            None => {}
        }
        if self.is_finished() {
            self.finished_at = Some(now);
            self.rexmit.clear();
        }
        Handled::Used
    }

    fn queue_rexmit(&mut self, abs: u64, cause: Cause) {
        let Some(slot) = self.slots.get_mut((abs - self.base) as usize) else {
            return;
        };
        if slot.queued || slot.tx == 0 {
            return;
        }
        slot.queued = true;
        self.rexmit.push_back((abs, cause));
    }

    /// When the oldest segment counts as lost once a duplicate ACK has shown that a later
    /// one arrived: its last transmission + SRTT + a reordering
    /// window of max(G, min RTT / 4), widened with every spurious retransmission seen
    /// (RACK, RFC 8985, with the duplicate ACK standing in for SACK). This repairs a loss
    /// that leaves fewer than three duplicate ACKs (the end of a window, lost ACKs) and a
    /// lost retransmission without waiting for the RTO.
    fn lost_after(&self) -> Option<Instant> {
        let slot = self.slots.front()?;
        if slot.queued || slot.tx == 0 {
            return None;
        }
        let srtt = self.rtt.srtt()?;
        // RACK's reordering window: none beyond G until the path has shown reordering
        // (a spurious retransmission raised the duplicate-ACK threshold), then min RTT / 4.
        let reo = if self.dupthresh > DUPACK_THRESHOLD {
            GRANULARITY.max(self.rtt.min().unwrap_or(srtt) / 4)
        } else {
            GRANULARITY
        };
        Some(slot.sent_at? + srtt + reo)
    }

    fn retransmit_overdue(&mut self) {
        self.early = None;
        if self.recover_high.is_none() {
            self.recover_high = Some(self.sent_high);
        }
        self.resend_base_fast();
    }

    /// Fast recovery of the oldest segment: selective repeat resends it alone, go-back-n it
    /// and everything sent after it; the base is marked recovered so that it is done once.
    fn resend_base_fast(&mut self) {
        self.recovered = Some(self.base);
        let end = match self.cfg.mode {
            Mode::SelectiveRepeat => self.base + 1,
            Mode::GoBackN => self.sent_high,
        };
        for abs in self.base..end {
            self.queue_rexmit(abs, Cause::Fast);
        }
    }

    /// Handle timer expiries (retransmission timers and the idle timeout).
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.is_finished() || self.failure.is_some() {
            return;
        }
        if let (Some(idle), Some(p)) = (self.cfg.idle_timeout, self.last_progress)
            && now >= p + idle
        {
            self.failure = Some(Failure::Idle(idle));
            return;
        }
        if let Some(at) = self.early
            && at <= now
        {
            self.early = None;
            if self.dupacks > 0 && self.lost_after().is_some_and(|t| t <= now) {
                self.retransmit_overdue();
            }
        }
        if self.timer.is_none_or(|t| t > now) {
            return;
        }
        // RFC 6298 (5.4-5.6): retransmit the oldest outstanding segment (go-back-n: all of
        // them), double the RTO, restart the timer. The segments behind the oldest do not
        // time out on their own: a partial ACK after this retransmission names the next
        // hole (NewReno), and what the receiver already holds is never resent.
        self.stats.timeouts += 1;
        // Back off only when nothing shows the path is alive: duplicate ACKs for this very
        // base prove that later segments got through, so the expiry is a lost
        // retransmission, not a dead path or a queue that needs relief.
        if self.dupacks == 0 {
            self.backoff = (self.backoff + 1).min(16);
        }
        self.recover_high = Some(self.sent_high);
        self.recovered = Some(self.base);
        let end = match self.cfg.mode {
            Mode::SelectiveRepeat => self.base + 1,
            Mode::GoBackN => self.sent_high,
        };
        for abs in self.base..end.min(self.sent_high) {
            self.queue_rexmit(abs, Cause::Timeout);
        }
        self.timer = (self.outstanding() > 0).then(|| now + self.rto());
    }

    /// Next DATA to send, written into `buf` (at least [`MAX_SEGMENT`] bytes); its length.
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<usize> {
        if self.is_finished() || self.failure.is_some() || buf.len() < MAX_SEGMENT {
            return None;
        }
        let rto = self.rto();
        let (abs, cause) = if let Some((abs, cause)) = self.rexmit.pop_front() {
            (abs, Some(cause))
        } else {
            let abs = self.sent_high;
            let limit = self.base + u64::from(self.effective_window());
            if abs >= limit || abs >= self.base + self.slots.len() as u64 {
                return None;
            }
            self.sent_high += 1;
            (abs, None)
        };
        let slot = &mut self.slots[(abs - self.base) as usize];
        slot.queued = false;
        slot.tx += 1;
        slot.sent_at = Some(now);
        if cause.is_some() {
            slot.rexmit_at = Some(now);
        }
        // The timer runs while anything is outstanding; a retransmission of the oldest
        // segment restarts it (RFC 6298 5.6, RFC 6582's partial ACK), so that it waits a
        // full RTO for the new copy's ACK.
        if self.timer.is_none() || (cause.is_some() && abs == self.base) {
            self.timer = Some(now + rto);
        }
        let n = Repr::Data {
            seq: seq::wire(abs),
            win: self.cfg.window,
            payload: &slot.data,
        }
        .emit(buf)
        .ok()?;
        self.stats.transmissions += 1;
        match cause {
            Some(Cause::Fast) => self.stats.retransmits_fast += 1,
            Some(Cause::Timeout) => self.stats.retransmits_timeout += 1,
            None => {}
        }
        self.started.get_or_insert(now);
        self.last_progress.get_or_insert(now);
        Some(n)
    }

    /// When `handle_timeout` must be called next (None: nothing pending).
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.is_finished() || self.failure.is_some() {
            return None;
        }
        let rexmit = match (self.timer, self.early) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let idle = self
            .cfg
            .idle_timeout
            .zip(self.last_progress)
            .map(|(i, p)| p + i);
        match (rexmit, idle) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The last segment has been acknowledged.
    pub fn is_finished(&self) -> bool {
        self.last.is_some_and(|l| self.base > l)
    }

    /// Why the transfer failed, if it did.
    pub fn failure(&self) -> Option<Failure> {
        self.failure
    }

    pub fn stats(&self) -> &SenderStats {
        &self.stats
    }
    pub fn rtt(&self) -> &RttEstimator {
        &self.rtt
    }
    /// Current RTO including backoff.
    pub fn current_rto(&self) -> Duration {
        self.rto()
    }
    /// Bytes handed to [`Self::push`] so far.
    pub fn bytes_pushed(&self) -> u64 {
        self.pushed
    }
    /// Last WIN the receiver advertised.
    pub fn peer_window(&self) -> u8 {
        self.peer_win
    }
    /// Time of the first transmission and of the final ACK.
    pub fn started_at(&self) -> Option<Instant> {
        self.started
    }
    pub fn finished_at(&self) -> Option<Instant> {
        self.finished_at
    }
    pub fn mode(&self) -> Mode {
        self.cfg.mode
    }
    pub fn window(&self) -> u8 {
        self.cfg.window
    }
}

/// Receiver configuration.
#[derive(Debug, Clone)]
pub struct ReceiverConfig {
    /// Receive window, 1–7 segments.
    pub window: u8,
    pub mode: Mode,
    /// Give up after this long without a new in-order segment, counted from the first DATA
    /// (None: never).
    pub idle_timeout: Option<Duration>,
    /// Lower bound of the linger period after the last segment.
    pub min_linger: Duration,
}

impl ReceiverConfig {
    pub fn new(window: u8, mode: Mode) -> Self {
        ReceiverConfig {
            window,
            mode,
            idle_timeout: Some(Duration::from_secs(30)),
            min_linger: MIN_LINGER,
        }
    }
}

/// Receiver statistics.
#[derive(Debug, Clone, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ReceiverStats {
    /// Payload bytes delivered in order.
    pub bytes: u64,
    /// Distinct segments delivered.
    pub segments: u64,
    /// DATA datagrams received (valid ones, duplicates included).
    pub data_received: u64,
    /// DATA for segments already received (old or already buffered): the sender's
    /// spurious retransmissions (plus copies the network duplicated).
    pub duplicates: u64,
    /// DATA beyond the receive window (dropped; go-back-n drops every out-of-order one).
    pub out_of_window: u64,
    /// Out-of-order segments buffered (selective repeat).
    pub buffered: u64,
    /// DATA contradicting the transfer's end (beyond the last segment); dropped.
    pub invalid: u64,
    pub acks_sent: u64,
    /// Datagrams that were not valid DATA.
    pub ignored: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RxState {
    Receiving,
    Lingering { until: Instant },
    Done,
}

/// The receiving side.
#[derive(Debug)]
pub struct Receiver {
    cfg: ReceiverConfig,
    /// Next expected in-sequence segment (absolute).
    next: u64,
    /// Out-of-order segments next+1.. (index 0 = next, always None).
    ooo: VecDeque<Option<Vec<u8>>>,
    /// In-order payloads the application has not read yet.
    ready: VecDeque<Vec<u8>>,
    last: Option<u64>,
    /// ACKs owed (absolute next-expected numbers), one per DATA received, except that
    /// within one batch ([`Receiver::handle_batch`]) an ACK superseded by a higher one is
    /// dropped.
    acks: VecDeque<u64>,
    state: RxState,
    first_data: Option<Instant>,
    last_data: Option<Instant>,
    longest_gap: Duration,
    last_progress: Option<Instant>,
    completed_at: Option<Instant>,
    failure: Option<Failure>,
    stats: ReceiverStats,
}

impl Receiver {
    pub fn new(cfg: ReceiverConfig) -> Result<Self, Error> {
        if cfg.window == 0 || cfg.window > MAX_WIN {
            return Err(Error::Window(cfg.window));
        }
        Ok(Receiver {
            cfg,
            next: 0,
            ooo: VecDeque::new(),
            ready: VecDeque::new(),
            last: None,
            acks: VecDeque::new(),
            state: RxState::Receiving,
            first_data: None,
            last_data: None,
            longest_gap: Duration::ZERO,
            last_progress: None,
            completed_at: None,
            failure: None,
            stats: ReceiverStats::default(),
        })
    }

    /// Current receive window: free buffer slots (unread in-order payloads use slots).
    pub fn window(&self) -> u8 {
        self.cfg
            .window
            .saturating_sub(self.ready.len().min(255) as u8)
    }

    /// Handle a received datagram (DATA; anything else is counted and ignored).
    pub fn handle_datagram(&mut self, now: Instant, bytes: &[u8]) -> Handled {
        let (wseq, payload) = match Repr::parse_bytes(bytes) {
            Ok(Repr::Data { seq, payload, .. }) => (seq, payload),
            _ => {
                self.stats.ignored += 1;
                return Handled::Ignored;
            }
        };
        if self.state == RxState::Done || self.failure.is_some() {
            return Handled::Used;
        }
        self.stats.data_received += 1;
        if let Some(prev) = self.last_data {
            self.longest_gap = self.longest_gap.max(now.saturating_duration_since(prev));
        }
        self.last_data = Some(now);
        self.first_data.get_or_insert(now);
        self.last_progress.get_or_insert(now);

        // Signed distance from the next expected segment: negative = old duplicate. The
        // sender never has more than 7 segments outstanding beyond what we acknowledged, so
        // legitimate numbers lie in next-7..next+7.
        let d = seq::distance(self.next, wseq);
        let win = self.window();
        if d < 0 {
            self.stats.duplicates += 1;
        } else {
            let d = d as u64;
            let abs = self.next + d;
            let accept_span = match self.cfg.mode {
                Mode::SelectiveRepeat => u64::from(win),
                Mode::GoBackN => u64::from(win.min(1)),
            };
            let short = payload.len() < MAX_PAYLOAD;
            if d >= accept_span {
                self.stats.out_of_window += 1;
            } else if self.last.is_some_and(|l| abs > l || (abs == l && !short))
                || (short && self.ooo.iter().skip(d as usize + 1).any(Option::is_some))
            {
                // Beyond the end of the transfer, or a second "last" segment.
                self.stats.invalid += 1;
            } else {
                let i = d as usize;
                if self.ooo.len() <= i {
                    self.ooo.resize(i + 1, None);
                }
                if self.ooo[i].is_some() {
                    self.stats.duplicates += 1;
                } else {
                    if short {
                        self.last = Some(abs);
                    }
                    if d > 0 {
                        self.stats.buffered += 1;
                    }
                    self.ooo[i] = Some(payload.to_vec());
                    self.deliver(now);
                }
            }
        }
        self.acks.push_back(self.next);
        if let RxState::Lingering { .. } = self.state {
            self.state = RxState::Lingering {
                until: now + self.linger(),
            };
        }
        Handled::Used
    }

    /// Handle the datagrams of one receive batch (the segments a single `recvmsg` returned,
    /// e.g. coalesced by UDP GRO): like [`Self::handle_datagram`] for each, but the batch
    /// is answered with one cumulative ACK where one suffices. An ACK that a later ACK of
    /// the same batch supersedes (a higher next-expected number) is dropped; duplicate
    /// ACKs — the same number again because of a hole — are all kept, since they are the
    /// sender's loss signal. A batch of in-order segments thus gets exactly one ACK, and a
    /// batch of one datagram gets exactly the ACK `handle_datagram` would send.
    pub fn handle_batch<'a>(
        &mut self,
        now: Instant,
        datagrams: impl IntoIterator<Item = &'a [u8]>,
    ) -> usize {
        let start = self.acks.len();
        let mut used = 0;
        for d in datagrams {
            if self.handle_datagram(now, d) == Handled::Used {
                used += 1;
            }
        }
        let batch: Vec<u64> = self.acks.drain(start..).collect();
        for (i, &a) in batch.iter().enumerate() {
            if batch.get(i + 1).is_none_or(|&b| b <= a) {
                self.acks.push_back(a);
            }
        }
        used
    }

    fn deliver(&mut self, now: Instant) {
        while let Some(Some(_)) = self.ooo.front() {
            let data = self.ooo.pop_front().flatten().unwrap_or_default();
            self.stats.bytes += data.len() as u64;
            self.stats.segments += 1;
            self.ready.push_back(data);
            self.next += 1;
            self.last_progress = Some(now);
        }
        if self.state == RxState::Receiving && self.last.is_some_and(|l| self.next > l) {
            self.completed_at = Some(now);
            self.ooo.clear();
            self.state = RxState::Lingering {
                until: now + self.linger(),
            };
        }
    }

    /// Linger: max(min_linger, 4 × the longest gap between DATA arrivals seen).
    pub fn linger(&self) -> Duration {
        self.cfg.min_linger.max(self.longest_gap * 4)
    }

    /// Next in-order payload for the application.
    pub fn read(&mut self) -> Option<Vec<u8>> {
        let was_closed = self.window() == 0;
        let d = self.ready.pop_front()?;
        if was_closed && self.state == RxState::Receiving && self.acks.is_empty() {
            // Window update: tell a sender stuck on WIN 0 that space opened. Not needed
            // when an ACK is still queued: it carries the window current when it is sent,
            // and a second ACK with the same number would look like a duplicate ACK.
            self.acks.push_back(self.next);
        }
        Some(d)
    }

    /// Next ACK to send; its length.
    pub fn poll_transmit(&mut self, _now: Instant, buf: &mut [u8]) -> Option<usize> {
        let s = self.acks.pop_front()?;
        let n = Repr::Ack {
            seq: seq::wire(s),
            win: self.window(),
        }
        .emit(buf)
        .ok()?;
        self.stats.acks_sent += 1;
        Some(n)
    }

    /// Handle the linger and idle timers.
    pub fn handle_timeout(&mut self, now: Instant) {
        match self.state {
            RxState::Lingering { until } if now >= until => self.state = RxState::Done,
            RxState::Receiving => {
                if let (Some(idle), Some(p)) = (self.cfg.idle_timeout, self.last_progress)
                    && now >= p + idle
                {
                    self.failure = Some(Failure::Idle(idle));
                }
            }
            _ => {}
        }
    }

    /// When `handle_timeout` must be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.failure.is_some() {
            return None;
        }
        match self.state {
            RxState::Lingering { until } => Some(until),
            RxState::Receiving => self
                .cfg
                .idle_timeout
                .zip(self.last_progress)
                .map(|(i, p)| p + i),
            RxState::Done => None,
        }
    }

    /// Every segment up to the last one has been delivered (the data may still wait in
    /// [`Self::read`]); the output is complete.
    pub fn is_complete(&self) -> bool {
        self.completed_at.is_some()
    }
    /// The linger period is over: nothing more to do.
    pub fn is_done(&self) -> bool {
        self.state == RxState::Done
    }
    pub fn failure(&self) -> Option<Failure> {
        self.failure
    }
    pub fn first_data_at(&self) -> Option<Instant> {
        self.first_data
    }
    pub fn completed_at(&self) -> Option<Instant> {
        self.completed_at
    }
    pub fn stats(&self) -> &ReceiverStats {
        &self.stats
    }
    pub fn mode(&self) -> Mode {
        self.cfg.mode
    }
}

/// The operations a UDP driver needs from an engine ([`Sender`] or [`Receiver`]).
pub trait Endpoint {
    fn handle_datagram(&mut self, now: Instant, bytes: &[u8]) -> Handled;
    /// The datagrams of one receive call; by default each is handled alone.
    fn handle_batch<'a>(&mut self, now: Instant, datagrams: impl IntoIterator<Item = &'a [u8]>) {
        for d in datagrams {
            self.handle_datagram(now, d);
        }
    }
    fn handle_timeout(&mut self, now: Instant);
    fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<usize>;
    fn poll_timeout(&self) -> Option<Instant>;
}

macro_rules! endpoint {
    ($t:ty) => {
        impl Endpoint for $t {
            fn handle_datagram(&mut self, now: Instant, bytes: &[u8]) -> Handled {
                <$t>::handle_datagram(self, now, bytes)
            }
            fn handle_timeout(&mut self, now: Instant) {
                <$t>::handle_timeout(self, now)
            }
            fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<usize> {
                <$t>::poll_transmit(self, now, buf)
            }
            fn poll_timeout(&self) -> Option<Instant> {
                <$t>::poll_timeout(self)
            }
        }
    };
}
endpoint!(Sender);

impl Endpoint for Receiver {
    fn handle_datagram(&mut self, now: Instant, bytes: &[u8]) -> Handled {
        Receiver::handle_datagram(self, now, bytes)
    }
    fn handle_batch<'a>(&mut self, now: Instant, datagrams: impl IntoIterator<Item = &'a [u8]>) {
        Receiver::handle_batch(self, now, datagrams);
    }
    fn handle_timeout(&mut self, now: Instant) {
        Receiver::handle_timeout(self, now)
    }
    fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<usize> {
        Receiver::poll_transmit(self, now, buf)
    }
    fn poll_timeout(&self) -> Option<Instant> {
        Receiver::poll_timeout(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rto_follows_rfc6298() {
        let mut r = RttEstimator::new(INITIAL_RTO);
        assert_eq!(r.rto(), INITIAL_RTO);
        r.sample(Duration::from_millis(100));
        // SRTT 100, RTTVAR 50 -> 300 ms.
        assert_eq!(r.rto(), Duration::from_millis(300));
        r.sample(Duration::from_millis(100));
        // RTTVAR 37.5 -> 250 ms.
        assert_eq!(r.rto(), Duration::from_millis(250));
        let mut l = RttEstimator::new(INITIAL_RTO);
        l.sample(Duration::from_micros(20));
        assert_eq!(l.rto(), MIN_RTO);
        let mut h = RttEstimator::new(INITIAL_RTO);
        h.sample(Duration::from_secs(5));
        assert_eq!(h.rto(), MAX_RTO);
    }

    fn segs(tx: &mut Sender, now: Instant) -> Vec<Vec<u8>> {
        let mut buf = [0u8; MAX_SEGMENT];
        let mut v = Vec::new();
        while let Some(n) = tx.poll_transmit(now, &mut buf) {
            v.push(buf[..n].to_vec());
        }
        v
    }

    fn acks(rx: &mut Receiver, now: Instant) -> Vec<u8> {
        let mut buf = [0u8; MAX_SEGMENT];
        let mut v = Vec::new();
        while rx.poll_transmit(now, &mut buf).is_some() {
            v.push(buf[1]);
        }
        v
    }

    #[test]
    fn one_ack_per_in_order_batch_but_every_duplicate_ack_kept() {
        let now = Instant::now();
        let mut tx = Sender::new(SenderConfig::new(7, Mode::SelectiveRepeat)).unwrap();
        tx.fill_from(&mut &[1u8; 512 * 20][..]).unwrap();
        let s = segs(&mut tx, now);
        assert_eq!(s.len(), 7);
        let mut rx = Receiver::new(ReceiverConfig::new(7, Mode::SelectiveRepeat)).unwrap();
        rx.handle_batch(now, s[..3].iter().map(Vec::as_slice));
        assert_eq!(acks(&mut rx, now), [3]);
        // Segment 3 lost: 4, 5, 6 are buffered; the batch gets three duplicate ACKs.
        rx.handle_batch(now, s[4..].iter().map(Vec::as_slice));
        assert_eq!(acks(&mut rx, now), [3, 3, 3]);
        // A single datagram gets exactly the ACK handle_datagram gives.
        rx.handle_batch(now, [s[3].as_slice()]);
        assert_eq!(acks(&mut rx, now), [7]);
    }

    #[test]
    fn one_timer_for_the_oldest_segment_and_next_hole_on_partial_ack() {
        let t0 = Instant::now();
        let mut cfg = SenderConfig::new(7, Mode::SelectiveRepeat);
        cfg.initial_rto = Duration::from_millis(100);
        let mut tx = Sender::new(cfg).unwrap();
        tx.fill_from(&mut &[1u8; 512 * 20][..]).unwrap();
        let s = segs(&mut tx, t0);
        assert_eq!(tx.poll_timeout(), Some(t0 + Duration::from_millis(100)));
        let mut rx = Receiver::new(ReceiverConfig::new(7, Mode::SelectiveRepeat)).unwrap();
        // Segments 1 and 4 are lost; the rest arrive one by one and are ACKed.
        let now = t0 + Duration::from_millis(10);
        for i in [0, 2, 3, 5, 6] {
            rx.handle_datagram(now, &s[i]);
        }
        let a = acks(&mut rx, now);
        assert_eq!(a, [1, 1, 1, 1, 1]);
        for &n in &a {
            tx.handle_datagram(now, &[2 << 3 | 7, n, 0, 0]);
        }
        // ACK 1 (new data) then 4 duplicates: one fast retransmission of segment 1 (the
        // application has not pushed segment 7 yet).
        let r = segs(&mut tx, now);
        assert_eq!(r.iter().map(|d| d[1]).collect::<Vec<_>>(), [1]);
        assert_eq!(tx.stats().retransmits_fast, 1);
        // The retransmission fills hole 1: the partial ACK 4 names the next hole, which is
        // resent at once; 2, 3, 5, 6 are never resent.
        rx.handle_datagram(now, &r[0]);
        let a = acks(&mut rx, now);
        assert_eq!(a, [4]);
        tx.handle_datagram(now, &[2 << 3 | 7, 4, 0, 0]);
        let r2 = segs(&mut tx, now);
        assert_eq!(r2[0][1], 4);
        assert_eq!(r2.len(), 1);
        rx.handle_datagram(now, &r2[0]);
        assert_eq!(acks(&mut rx, now), [7]);
        assert_eq!(tx.stats().retransmits_timeout, 0);
        assert_eq!(rx.stats().duplicates, 0);
    }

    #[test]
    fn rejects_bad_windows_and_chunks() {
        assert_eq!(
            Sender::new(SenderConfig::new(8, Mode::GoBackN)).unwrap_err(),
            Error::Window(8)
        );
        assert!(Receiver::new(ReceiverConfig::new(0, Mode::GoBackN)).is_err());
        let mut s = Sender::new(SenderConfig::new(2, Mode::SelectiveRepeat)).unwrap();
        assert_eq!(s.push(&[0; 513]), Err(Error::ChunkTooLarge(513)));
        s.push(&[0; 512]).unwrap();
        s.push(&[0; 512]).unwrap();
        assert_eq!(s.push(&[0; 1]), Err(Error::Full));
    }
}
