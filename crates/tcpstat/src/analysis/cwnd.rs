//! The sender's congestion window, inferred from the trace, and what limited the sender.
//!
//! A TCP sender transmits while the data it believes in flight (Linux's `packets_in_flight`:
//! sent and not acknowledged, less what SACK says arrived and what it has declared lost, plus
//! retransmissions of those) is below its congestion window. Right after a burst of sends a
//! window-limited sender therefore holds exactly its window in flight: the inferred window is
//! the envelope of that flight at the end of each burst. It only falls at a loss event, so
//! between losses it is the largest flight seen; in a recovery the kernel's proportional rate
//! reduction (PRR) sets the window to the flight after each ACK's sends, so there it follows
//! the flight down; after an idle period longer than the RTO Linux restarts from at most the
//! initial window (RFC 5681 §4.1).
//!
//! The flight is the sender's, not the capture point's: the ACKs a sender had when it sent a
//! segment are those its TSecr echoes (timestamps on), else those captured more than the
//! sender's side of the round trip before it ([`super::vantage`]). Times are the sender's
//! clock estimated from the capture: an ACK reached the sender half the sender-side round
//! trip after it was captured (the path taken as symmetric); a segment left it half of that
//! before it was captured — or, far from the sender, when its TSval says ([`TsClock`]).
//!
//! "Limited by" splits the sender's time from its first data segment to the ACK of its last:
//! `rwnd` (the next segment does not fit the receiver's window), `cwnd` (the window is full —
//! or the last data is draining), `loss` (fast or RTO recovery), `sender` (room in both
//! windows, data still to come: the application or the send buffer held it back) and `app`
//! (nothing outstanding: the application had nothing to send).

use std::collections::VecDeque;

use netproto::frame::{TcpOption, TcpOptions};

use super::segment::Segment;
use super::tsclock::TsClock;
use super::{Flow, RetransKind, gt, le, lt, recycle_deque, recycle_vec};

/// ACKs waiting to be known at the sender (beyond this the oldest is applied at once: a
/// sender that has not sent for thousands of ACKs has long had them).
const MAX_PENDING: usize = 4096;
/// SACK scoreboard ranges kept (Linux holds at most a few hundred holes in practice).
const MAX_RANGES: usize = 1024;
/// Linux's minimum retransmission timeout, and its initial window (RFC 6928) in segments.
const RTO_MIN_NS: i64 = 200_000_000;
const INITIAL_WINDOW: u32 = 10;
/// Beyond this sender's side of the round trip (4 ms) a segment's send time comes from its
/// TSval ([`TsClock`]) rather than from the capture time: queues on the way make the latter
/// late by as much as they hold.
const FAR_FROM_SENDER_NS: i64 = 4_000_000;
/// Room in the window filled this soon (ns) was the sender's reaction to the ACK that made it,
/// not the sender holding back: two TSval ticks.
const REACTION_NS: i64 = 2_000_000;
/// A send time read from a 1 ms TSval clock is this uncertain against the ACK's arrival
/// (ns): the tick, the tick the clock's offset was read at, and a path whose halves differ
/// by a packet's transmission time at its bottleneck (3 ms at 4 Mbit/s).
const SNAP_NS: i64 = 5_000_000;

/// The window's multiplicative decrease at a loss: NewReno's (RFC 5681 §3.1, Linux's reno).
/// CUBIC takes 0.7; the inferred threshold then reads low by that much.
const BETA: f64 = 0.5;

/// The sender's congestion-control phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Phase {
    #[default]
    SlowStart,
    CongestionAvoidance,
    FastRecovery,
    RtoRecovery,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::SlowStart => "slow_start",
            Phase::CongestionAvoidance => "congestion_avoidance",
            Phase::FastRecovery => "fast_recovery",
            Phase::RtoRecovery => "rto_recovery",
        }
    }
}

/// What held the sender back (see the module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Limit {
    Cwnd,
    Rwnd,
    Loss,
    Sender,
    #[default]
    App,
}

impl Limit {
    pub const ALL: [Limit; 5] = [
        Limit::Cwnd,
        Limit::Rwnd,
        Limit::Loss,
        Limit::Sender,
        Limit::App,
    ];
    pub fn name(self) -> &'static str {
        match self {
            Limit::Cwnd => "cwnd",
            Limit::Rwnd => "rwnd",
            Limit::Loss => "loss",
            Limit::Sender => "sender",
            Limit::App => "app",
        }
    }
}

/// The window as inferred right after one data segment was sent.
#[derive(Clone, Copy, Debug)]
pub struct CwndSample {
    /// When the sender sent it (ns, estimated: see the module documentation).
    pub sender_ts: i64,
    /// Bytes in flight as the sender counts them, after this segment.
    pub flight: u32,
    pub cwnd: u32,
    pub mss: u32,
    pub phase: Phase,
    pub ssthresh: Option<u32>,
    /// The receiver's window as the sender knew it (bytes), once an ACK told it.
    pub rwnd: Option<u64>,
    pub limited: Limit,
}

/// A loss event: the retransmission that started a recovery, and what it did to the window.
#[derive(Clone, Copy, Debug)]
pub struct LossEvent {
    pub frame: u64,
    pub sender_ts: i64,
    /// `fast` (duplicate ACKs / SACK), `timeout` (RTO) or `probe` (tail-loss probe).
    pub kind: &'static str,
    pub cwnd_before: u32,
    /// The slow-start threshold after it: the window the recovery ended with (fast), or half
    /// the flight at the timeout (RFC 5681 §3.1; Linux's reno takes half the window).
    pub ssthresh: u32,
}

/// Time spent in each [`Limit`], ns.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LimitedBy {
    pub start: i64,
    pub end: i64,
    pub ns: [i64; 5],
}

impl LimitedBy {
    /// Share of the span in `limit` (0 without a span).
    pub fn share(&self, limit: Limit) -> f64 {
        let total = self.ns.iter().fold(0i64, |a, b| a.saturating_add(*b));
        if total <= 0 {
            return 0.0;
        }
        self.ns[limit as usize] as f64 / total as f64
    }
}

/// A peer ACK captured, waiting to be known at the sender.
#[derive(Clone, Copy, Debug)]
struct AckSeen {
    frame: u64,
    /// Sender time it reached the sender (estimated).
    at: i64,
    tsval: Option<u32>,
    ack: u32,
    win: u64,
    sack: [(u32, u32); 4],
    nsack: u8,
}

/// What one data segment the tracked flow sent looks like to the tracker.
pub(super) struct Send {
    pub(super) frame: u64,
    /// Sender time (estimated).
    pub(super) at: i64,
    pub(super) seq: u32,
    /// Sequence space it occupies (payload, plus one for a FIN).
    pub(super) len: u32,
    pub(super) tsecr: Option<u32>,
    /// The engine's classification when it is a retransmission.
    pub(super) kind: Option<RetransKind>,
    /// `at` comes from the sender's TSval clock.
    pub(super) clocked: bool,
}

/// One flow's congestion-window tracker (the flow as a data sender).
#[derive(Clone, Debug, Default)]
pub struct CwndTracker {
    pending: VecDeque<AckSeen>,
    started: bool,
    una: u32,
    nxt: u32,
    /// SACKed ranges above `una`, sorted and disjoint.
    sacked: Vec<(u32, u32)>,
    /// After a timeout: every byte below it not SACKed counts as lost.
    rto_mark: Option<u32>,
    /// Ranges retransmitted while lost and neither acknowledged nor SACKed since.
    resent: Vec<(u32, u32)>,
    /// The receiver's window as the sender last heard it (bytes).
    rwnd: Option<u64>,
    mss: u32,
    cwnd: u32,
    phase: Phase,
    recovery_end: u32,
    ssthresh: Option<u32>,
    /// The largest flight since slow start began: Linux grows the window in slow start only
    /// while it is below twice that (`tcp_is_cwnd_limited`).
    max_flight: u32,
    /// Every window change with its sender time, and every loss event, when asked (`tcpstat
    /// cwnd`, `graph --kind cwnd`).
    pub(super) log: Option<Vec<(u64, &'static str, CwndSample)>>,
    pub(super) events: Option<Vec<LossEvent>>,
    /// The latest sender time seen (events are applied in time order).
    now: i64,
    /// When the flight last went to zero (an idle period's start).
    idle_since: Option<i64>,
    state: Limit,
    /// Time in `Limit::Sender` not yet known to be the sender's: if the flight drains
    /// instead of new data coming, it was the last round trip (cwnd).
    undecided: i64,
    time: LimitedBy,
    /// `time` when the flight last drained to zero: the span ends at the last ACK.
    done: Option<LimitedBy>,
    /// The TSval of the last ACK that reached the sender.
    last_tsval: Option<u32>,
    /// The sender's TSval clock.
    ts_clock: Option<TsClock>,
    /// The sender's RTT, for the idle restart (ns).
    rtt: i64,
    pub(super) event: Option<LossEvent>,
}

impl CwndTracker {
    /// A new tracker (this one) takes `old`'s buffers, emptied (a recycled connection).
    pub(super) fn take_buffers(&mut self, old: &mut CwndTracker) {
        std::mem::swap(&mut self.pending, &mut old.pending);
        std::mem::swap(&mut self.sacked, &mut old.sacked);
        std::mem::swap(&mut self.resent, &mut old.resent);
        recycle_deque(&mut self.pending);
        recycle_vec(&mut self.sacked);
        recycle_vec(&mut self.resent);
    }

    /// A peer ACK captured; `at` is when it reaches the sender (estimated).
    pub(super) fn on_ack(
        &mut self,
        frame: u64,
        at: i64,
        tsval: Option<u32>,
        ack: u32,
        win: u64,
        sack: &[(u32, u32)],
    ) {
        if !self.started {
            self.rwnd = Some(win);
            return;
        }
        let mut a = AckSeen {
            frame,
            at,
            tsval,
            ack,
            win,
            sack: [(0, 0); 4],
            nsack: 0,
        };
        for (i, &b) in sack.iter().take(4).enumerate() {
            a.sack[i] = b;
            a.nsack = i as u8 + 1;
        }
        if self.pending.len() == MAX_PENDING
            && let Some(old) = self.pending.pop_front()
        {
            self.apply(old);
        }
        self.pending.push_back(a);
    }

    /// A data segment sent: apply the ACKs the sender had, then the send; the window after it.
    pub(super) fn on_send(&mut self, s: &Send, mss: u32, rtt: i64) -> Limit {
        self.mss = mss.max(1);
        if rtt > 0 {
            self.rtt = rtt;
        }
        self.apply_known(s.at, s.tsecr);
        self.advance(self.snapped(s));
        let end = s.seq.wrapping_add(s.len);
        if !self.started {
            (self.started, self.una, self.nxt) = (true, s.seq, s.seq);
            self.time.start = self.now;
            self.idle_since = Some(self.now);
        }
        self.restart_after_idle();
        if gt(end, self.nxt) {
            if self.undecided > 0 && self.flight_total() > 0 {
                // New data while older data was still out: the room it had was the sender's,
                // unless it filled it as it reacted to the ACK that made it (and the capture
                // point's estimate of its send times is that coarse).
                let to = if self.undecided <= REACTION_NS {
                    Limit::Cwnd
                } else {
                    Limit::Sender
                };
                self.time.ns[to as usize] =
                    self.time.ns[to as usize].saturating_add(self.undecided);
                self.undecided = 0;
            }
            self.nxt = end;
            self.done = None;
        } else {
            self.resend(s);
        }
        let flight = self.flight();
        self.update_window(flight);
        self.state = self.limit(flight);
        if self.log.is_some() {
            let sample = self.sample(flight);
            if let Some(log) = self.log.as_mut() {
                log.push((s.frame, "send", sample));
            }
        }
        self.state
    }

    fn sample(&self, flight: u32) -> CwndSample {
        CwndSample {
            sender_ts: self.now,
            flight,
            cwnd: self.cwnd,
            mss: self.mss,
            phase: self.phase,
            ssthresh: self.ssthresh,
            rwnd: self.rwnd,
            limited: self.state,
        }
    }

    /// When the sender sent a segment captured at `now` carrying `tsval`, `one_way` (the
    /// path's base one-way delay) away: by its TSval clock ([`TsClock`]), assuming 1 ms ticks
    /// until the capture tells; never later than the capture allows.
    fn sender_clock(&mut self, now: i64, tsval: u32, one_way: i64) -> i64 {
        let clock = self
            .ts_clock
            .get_or_insert_with(|| TsClock::new(tsval, now));
        clock.observe(tsval, now);
        let at = clock.sent_at(tsval, one_way, true).unwrap_or(now);
        at.min(now.saturating_sub(one_way))
    }

    /// The sender's TSval clock is being read (a far capture point with timestamps).
    pub(super) fn clocked(&self) -> bool {
        self.ts_clock.is_some()
    }

    /// When the sender sent a segment carrying `tsval` by its TSval clock, once the capture
    /// has told the clock's tick, at a capture point far from the sender (`one_way` ≥ 2 ms);
    /// none otherwise.
    pub(super) fn sent_at(&self, tsval: u32, one_way: i64) -> Option<i64> {
        if 2 * one_way < FAR_FROM_SENDER_NS {
            return None;
        }
        self.ts_clock?.sent_at(tsval, one_way, false)
    }

    /// The ACKs still on their way (what [`CwndTracker::finish`] reads first), prefetched.
    pub(super) fn prefetch_pending(&self) {
        let (a, b) = self.pending.as_slices();
        crate::prefetch::slice(a);
        crate::prefetch::slice(b);
    }

    /// The capture ended: whatever ACKs were pending reached the sender.
    pub fn finish(&mut self) {
        while let Some(a) = self.pending.pop_front() {
            self.apply(a);
        }
    }

    /// The logged events (frame, `send` or `ack`, the window after it), taken.
    pub fn take_log(&mut self) -> Vec<(u64, &'static str, CwndSample)> {
        self.log.take().unwrap_or_default()
    }

    /// The logged loss events, taken.
    pub fn take_events(&mut self) -> Vec<LossEvent> {
        self.events.take().unwrap_or_default()
    }

    /// The limited-by split over the sender's active span (none before its first data).
    pub fn limited_by(&self) -> Option<LimitedBy> {
        if !self.started {
            return None;
        }
        let mut t = self.done.unwrap_or(self.time);
        if self.done.is_none() {
            t.ns[Limit::Cwnd as usize] = t.ns[Limit::Cwnd as usize].saturating_add(self.undecided);
            t.end = self.now;
        }
        Some(t)
    }

    /// The send time, snapped to the arrival of the ACK it echoes when a TSval clock placed it
    /// within its granularity after that arrival: the sender answered that ACK at once.
    fn snapped(&self, s: &Send) -> i64 {
        let echoes_last = s.tsecr.is_some() && s.tsecr == self.last_tsval;
        if s.clocked && echoes_last && (0..=SNAP_NS).contains(&s.at.saturating_sub(self.now)) {
            self.now
        } else {
            s.at
        }
    }

    /// Apply the pending ACKs the sender had before sending at `at`: by TSecr when the ACKs
    /// carry timestamps (older TSvals surely; the echoed one unless it is later in time),
    /// else by time.
    fn apply_known(&mut self, at: i64, tsecr: Option<u32>) {
        let mut echoed_seen = false;
        while let Some(a) = self.pending.front().copied() {
            let known = match (tsecr, a.tsval) {
                // The first ACK carrying the echoed value surely arrived (it set the echo);
                // later ones with the same value (one clock tick) only if in time.
                (Some(e), Some(v)) => lt(v, e) || (v == e && (!echoed_seen || a.at <= at)),
                _ => a.at <= at,
            };
            if !known {
                break;
            }
            echoed_seen |= a.tsval == tsecr;
            self.pending.pop_front();
            self.apply(a);
        }
    }

    fn apply(&mut self, a: AckSeen) {
        self.advance(a.at);
        self.rwnd = Some(a.win);
        self.last_tsval = a.tsval;
        let before = self
            .nxt
            .wrapping_sub(self.una)
            .saturating_sub(span(&self.sacked));
        let advanced = gt(a.ack, self.una) && le(a.ack, self.nxt);
        if advanced {
            self.una = a.ack;
            trim_below(&mut self.sacked, a.ack);
            trim_below(&mut self.resent, a.ack);
        }
        for &(l, r) in &a.sack[..a.nsack as usize] {
            if gt(r, self.una) && le(r, self.nxt) && lt(l, r) {
                let l = if lt(l, self.una) { self.una } else { l };
                add_range(&mut self.sacked, (l, r));
                remove_range(&mut self.resent, (l, r));
            }
        }
        let after = self
            .nxt
            .wrapping_sub(self.una)
            .saturating_sub(span(&self.sacked));
        self.on_delivered(before.saturating_sub(after), advanced);
        if self.una == self.nxt {
            self.rto_mark = None;
            self.idle_since = Some(self.now);
            // The last round trip drained the window: the network's time, not the sender's.
            self.time.ns[Limit::Cwnd as usize] =
                self.time.ns[Limit::Cwnd as usize].saturating_add(self.undecided);
            self.undecided = 0;
            self.state = self.limit(0);
            let mut done = self.time;
            done.end = self.now;
            self.done = Some(done);
        } else {
            self.state = self.limit(self.flight());
        }
        if self.log.is_some() {
            let sample = self.sample(self.flight());
            if let Some(log) = self.log.as_mut() {
                log.push((a.frame, "ack", sample));
            }
        }
    }

    /// An ACK delivered `bytes`: slow start grows the window by as much (Linux, RFC 3465 with
    /// L = ∞) while it is below twice the largest flight, if the ACK `advanced` (Linux raises
    /// the window on data acknowledged, not on SACK alone); a recovery holds it at the flight
    /// or ssthresh, whichever is larger (PRR), until everything sent before the loss is
    /// acknowledged, and leaves it at ssthresh.
    fn on_delivered(&mut self, bytes: u32, advanced: bool) {
        match self.phase {
            Phase::SlowStart if advanced && self.cwnd < self.max_flight.saturating_mul(2) => {
                let cap = self.ssthresh.unwrap_or(u32::MAX);
                self.cwnd = self.cwnd.saturating_add(bytes).min(cap.max(self.cwnd));
            }
            Phase::FastRecovery => {
                let t = self.ssthresh.unwrap_or(0);
                self.cwnd = self.flight().max(t);
            }
            Phase::RtoRecovery if advanced => {
                // Slow start again from one segment, as far as ssthresh.
                let cap = self.ssthresh.unwrap_or(u32::MAX);
                if self.cwnd < cap {
                    self.cwnd = self.cwnd.saturating_add(bytes).min(cap);
                }
            }
            _ => {}
        }
        if matches!(self.phase, Phase::FastRecovery | Phase::RtoRecovery)
            && !lt(self.una, self.recovery_end)
        {
            if self.phase == Phase::FastRecovery
                && let Some(t) = self.ssthresh
            {
                self.cwnd = t;
            }
            self.end_recovery();
        }
    }

    /// Count the time since the last event in the state it was in.
    fn advance(&mut self, at: i64) {
        let at = at.max(self.now);
        let dt = at.saturating_sub(self.now);
        self.now = at;
        if !self.started || dt <= 0 {
            return;
        }
        if self.state == Limit::Sender {
            self.undecided = self.undecided.saturating_add(dt);
        } else {
            self.time.ns[self.state as usize] =
                self.time.ns[self.state as usize].saturating_add(dt);
        }
    }

    /// A retransmission: a fast one outside a recovery (or beyond its recovery point) starts
    /// one, a timeout marks everything outstanding lost; the resent range is in flight again.
    fn resend(&mut self, s: &Send) {
        let end = s.seq.wrapping_add(s.len);
        // Old data the engine does not call a retransmission (a window probe): no loss.
        let Some(kind) = s.kind else {
            return;
        };
        let in_recovery = matches!(self.phase, Phase::FastRecovery | Phase::RtoRecovery);
        match kind {
            RetransKind::Timeout
                if self.phase != Phase::RtoRecovery || !lt(s.seq, self.recovery_end) =>
            {
                self.start_recovery(s, Phase::RtoRecovery, kind);
                self.rto_mark = Some(self.nxt);
                self.resent.clear();
            }
            // Beyond the recovery point a loss belongs to a later window: new congestion.
            RetransKind::Fast if !in_recovery || !lt(s.seq, self.recovery_end) => {
                self.start_recovery(s, Phase::FastRecovery, kind)
            }
            _ => {}
        }
        if lt(s.seq, end) && self.is_lost(s.seq) {
            add_range(&mut self.resent, (s.seq, end));
        }
    }

    fn start_recovery(&mut self, s: &Send, phase: Phase, kind: RetransKind) {
        let before = self.cwnd;
        // Linux keeps the threshold when a timeout strikes in a recovery already under way.
        let keep = phase == Phase::RtoRecovery && self.phase == Phase::FastRecovery;
        let ssthresh = match (keep, self.ssthresh) {
            (true, Some(t)) => t,
            _ => ((f64::from(before) * BETA) as u32).max(2 * self.mss),
        };
        self.phase = phase;
        self.recovery_end = self.nxt;
        self.ssthresh = Some(ssthresh);
        if phase == Phase::RtoRecovery {
            self.cwnd = self.mss;
        }
        self.event = Some(LossEvent {
            frame: s.frame,
            sender_ts: self.now,
            kind: kind.as_str(),
            cwnd_before: before,
            ssthresh,
        });
    }

    fn end_recovery(&mut self) {
        self.phase = Phase::CongestionAvoidance;
        if self.ssthresh.is_some_and(|t| self.cwnd < t) {
            self.phase = Phase::SlowStart;
            self.max_flight = self.flight();
        }
    }

    /// The window after a send of `flight` bytes in flight: never below it (the sender
    /// sends only within its window).
    fn update_window(&mut self, flight: u32) {
        self.cwnd = self.cwnd.max(flight);
        if self.phase == Phase::SlowStart {
            self.max_flight = self.max_flight.max(flight);
        }
        if !matches!(self.phase, Phase::FastRecovery | Phase::RtoRecovery) {
            self.phase = match self.ssthresh {
                Some(t) if self.cwnd >= t => Phase::CongestionAvoidance,
                _ => Phase::SlowStart,
            };
        }
    }

    /// RFC 5681 §4.1 as Linux does it (`tcp_cwnd_restart`): after an idle period longer than
    /// the RTO the window halves per RTO elapsed, down to the initial window.
    fn restart_after_idle(&mut self) {
        let Some(since) = self.idle_since.take() else {
            return;
        };
        if self.una != self.nxt {
            return;
        }
        let rto = self.rtt.saturating_add(RTO_MIN_NS).max(RTO_MIN_NS);
        let mut idle = self.now.saturating_sub(since);
        let floor = self.cwnd.min(INITIAL_WINDOW * self.mss);
        while idle > rto && self.cwnd > floor {
            self.cwnd /= 2;
            idle -= rto;
        }
        self.cwnd = self.cwnd.max(floor);
    }

    /// What holds the sender back now, with `flight` in flight. Room for one segment is no
    /// room: a sender with data waiting would have sent it (the inferred window reads one
    /// segment high at the end of a slow-start round).
    fn limit(&self, flight: u32) -> Limit {
        let outstanding = self.nxt.wrapping_sub(self.una);
        let recovering = matches!(self.phase, Phase::FastRecovery | Phase::RtoRecovery);
        if outstanding > 0 && recovering {
            Limit::Loss
        } else if self.rwnd.is_some_and(|w| {
            // With nothing outstanding only a closed window holds the sender (it probes);
            // a small open one may just meet an application with nothing to send.
            if outstanding == 0 {
                w == 0
            } else {
                u64::from(outstanding) + u64::from(self.mss) > w
            }
        }) {
            Limit::Rwnd
        } else if outstanding == 0 {
            Limit::App
        } else if flight.saturating_add(self.mss) >= self.cwnd {
            Limit::Cwnd
        } else {
            Limit::Sender
        }
    }

    fn is_lost(&self, seq: u32) -> bool {
        let below_sack = self.sacked.last().is_some_and(|&(_, r)| lt(seq, r));
        let below_rto = self.rto_mark.is_some_and(|m| lt(seq, m));
        (below_sack || below_rto) && !in_ranges(&self.sacked, seq)
    }

    /// Sent and not acknowledged.
    fn flight_total(&self) -> u32 {
        self.nxt.wrapping_sub(self.una)
    }

    /// In flight as the sender counts it: outstanding, less SACKed, less lost (holes below
    /// the highest SACK, or everything below the timeout's mark), plus lost bytes resent.
    fn flight(&self) -> u32 {
        // Nothing SACKed, lost or resent (most of the time): all outstanding is in flight.
        if self.sacked.is_empty() && self.resent.is_empty() && self.rto_mark.is_none() {
            return self.flight_total();
        }
        let sacked: u32 = span(&self.sacked);
        let mut lost_top = self.sacked.last().map_or(self.una, |&(_, r)| r);
        if let Some(m) = self.rto_mark
            && gt(m, lost_top)
        {
            lost_top = m;
        }
        let lost_span = lost_top.wrapping_sub(self.una);
        let sacked_below: u32 = self
            .sacked
            .iter()
            .map(|&(l, r)| {
                let r = if gt(r, lost_top) { lost_top } else { r };
                if lt(l, r) { r.wrapping_sub(l) } else { 0 }
            })
            .sum();
        let lost = lost_span.saturating_sub(sacked_below);
        self.flight_total()
            .saturating_sub(sacked)
            .saturating_sub(lost)
            .saturating_add(span(&self.resent))
    }
}

/// The phase in the engine: the segment's ACK (with its SACK blocks) goes to the tracker of
/// the flow it acknowledges, its data to its own flow's tracker. `halves` are the sender's
/// side of the capture point for the segment's sender and for its peer (ns, from the
/// handshake; the timestamp echoes replace them once measured).
pub(super) fn observe(seg: &mut Segment, options: &TcpOptions, fwd: &mut Flow, rev: &mut Flow) {
    let halves = seg.halves;
    if seg.flags.ack() {
        let half = sender_side(rev, halves.map(|h| h[1]));
        let mut sack = [(0, 0); 4];
        let mut n = 0;
        // Walk the options again only when the summary saw SACK blocks (most ACKs carry none).
        if seg.sack {
            for o in options.iter() {
                if let TcpOption::Sack(b) = o {
                    for blk in b.iter().take(4 - n) {
                        sack[n] = blk;
                        n += 1;
                    }
                }
            }
        }
        rev.cwnd.on_ack(
            seg.frame,
            seg.now.saturating_add(half / 2),
            seg.ts.map(|t| t.0),
            seg.ack,
            seg.info.win_scaled,
            &sack[..n],
        );
    }
    let len = seg.len + u32::from(seg.flags.fin());
    if len == 0 {
        return;
    }
    let half = sender_side(fwd, halves.map(|h| h[0]));
    let (at, clocked) = match seg.ts {
        Some((tsval, _)) if half >= FAR_FROM_SENDER_NS => {
            (fwd.cwnd.sender_clock(seg.now, tsval, half / 2), true)
        }
        _ => (seg.now.saturating_sub(half / 2), false),
    };
    let send = Send {
        frame: seg.frame,
        at,
        seq: seg.seq,
        len,
        tsecr: seg.ts.map(|t| t.1).filter(|&e| e != 0),
        kind: seg.info.retrans,
        clocked,
    };
    let mss = fwd.max_seg.max(seg.len);
    seg.info.limited = Some(fwd.cwnd.on_send(&send, mss, seg.irtt));
    if let Some(e) = fwd.cwnd.event.take() {
        seg.info.loss_event = true;
        if let Some(v) = fwd.cwnd.events.as_mut() {
            v.push(e);
        }
    }
}

/// The sender's side of the capture point for `f`'s data: the smallest of the handshake's
/// and the ACK → data times (larger ones include the sender's own pauses: the first data
/// after the handshake waits for the application).
pub(super) fn sender_side(f: &Flow, handshake: Option<i64>) -> i64 {
    let echo = (f.echo_rtt.n > 0).then_some((f.echo_rtt.min * 1e6) as i64);
    match (handshake, echo) {
        (Some(h), Some(e)) => h.min(e),
        (h, e) => h.or(e).unwrap_or(0),
    }
}

fn span(v: &[(u32, u32)]) -> u32 {
    v.iter().map(|&(l, r)| r.wrapping_sub(l)).sum()
}

fn in_ranges(v: &[(u32, u32)], seq: u32) -> bool {
    v.iter().any(|&(l, r)| le(l, seq) && lt(seq, r))
}

/// Drop what lies below `at` (trimming a range that straddles it).
fn trim_below(v: &mut Vec<(u32, u32)>, at: u32) {
    if v.first().is_none_or(|&(l, _)| !lt(l, at)) {
        return;
    }
    v.retain(|&(_, r)| gt(r, at));
    for r in v.iter_mut() {
        if lt(r.0, at) {
            r.0 = at;
        }
    }
}

/// Insert `(l, r)` into sorted disjoint ranges, merging what it touches.
fn add_range(v: &mut Vec<(u32, u32)>, (mut l, mut r): (u32, u32)) {
    let mut i = 0;
    while i < v.len() {
        let (a, b) = v[i];
        if lt(b, l) {
            i += 1;
        } else if gt(a, r) {
            break;
        } else {
            if lt(a, l) {
                l = a;
            }
            if gt(b, r) {
                r = b;
            }
            v.remove(i);
        }
    }
    if v.len() < MAX_RANGES {
        v.insert(i, (l, r));
    }
}

/// Remove `(l, r)` from sorted disjoint ranges.
fn remove_range(v: &mut Vec<(u32, u32)>, (l, r): (u32, u32)) {
    if !v.iter().any(|&(a, b)| lt(a, r) && lt(l, b)) {
        return;
    }
    let mut out = Vec::with_capacity(v.len() + 1);
    for &(a, b) in v.iter() {
        if !lt(a, r) || !lt(l, b) {
            out.push((a, b));
            continue;
        }
        if lt(a, l) {
            out.push((a, l));
        }
        if lt(r, b) {
            out.push((r, b));
        }
    }
    *v = out;
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSS: u32 = 1000;
    const MS: i64 = 1_000_000;

    /// A sender at the capture point (no shift), with the tracker driven directly.
    struct Sender {
        t: CwndTracker,
        frame: u64,
    }

    impl Sender {
        fn new() -> Sender {
            let mut t = CwndTracker::default();
            t.on_ack(0, 0, None, 0, 100_000, &[]);
            Sender { t, frame: 0 }
        }
        fn send(&mut self, ms: i64, seg: u32, kind: Option<RetransKind>) -> CwndSample {
            self.frame += 1;
            let s = Send {
                frame: self.frame,
                at: ms * MS,
                seq: seg * MSS,
                len: MSS,
                tsecr: None,
                kind,
                clocked: false,
            };
            let limited = self.t.on_send(&s, MSS, 100 * MS);
            let sample = self.t.sample(self.t.flight());
            assert_eq!(sample.limited, limited);
            sample
        }
        fn ack(&mut self, ms: i64, seg: u32, sack: &[(u32, u32)], win: u64) {
            self.frame += 1;
            let sack: Vec<(u32, u32)> = sack.iter().map(|&(l, r)| (l * MSS, r * MSS)).collect();
            self.t
                .on_ack(self.frame, ms * MS, None, seg * MSS, win, &sack);
        }
    }

    #[test]
    fn slow_start_grows_by_what_acks_deliver() {
        let mut s = Sender::new();
        for i in 0..10 {
            let c = s.send(0, i, None);
            assert_eq!((c.flight, c.cwnd), ((i + 1) * MSS, (i + 1) * MSS));
            assert_eq!(c.limited, Limit::Cwnd);
        }
        // Two segments delivered: the window grows by two, the flight falls by two.
        s.ack(100, 2, &[], 100_000);
        let c = s.send(100, 10, None);
        assert_eq!(
            (c.flight, c.cwnd, c.phase),
            (9 * MSS, 12 * MSS, Phase::SlowStart)
        );
        assert_eq!(c.limited, Limit::Sender, "room for three more");
        for i in 11..14 {
            s.send(100, i, None);
        }
        let c = s.send(100, 14, None);
        assert_eq!(
            (c.flight, c.cwnd),
            (13 * MSS, 13 * MSS),
            "the flight sets the envelope"
        );
    }

    #[test]
    fn fast_recovery_halves_and_a_timeout_restarts_from_one_segment() {
        let mut s = Sender::new();
        for i in 0..20 {
            s.send(0, i, None);
        }
        // Segment 0 lost; 1..5 arrive (SACK).
        s.ack(100, 0, &[(1, 5)], 100_000);
        let c = s.send(100, 0, Some(RetransKind::Fast));
        assert_eq!(c.phase, Phase::FastRecovery);
        assert_eq!(c.ssthresh, Some(10 * MSS));
        let e = s.t.event.take().expect("a loss event");
        assert_eq!(
            (e.kind, e.cwnd_before, e.ssthresh),
            ("fast", 20 * MSS, 10 * MSS)
        );
        // 20 out, 4 SACKed, 1 lost and resent: 16 in flight.
        assert_eq!(c.flight, 16 * MSS);
        // The retransmission and 5..8 arrive: 12 left in flight, above ssthresh (PRR).
        s.ack(200, 8, &[], 100_000);
        let c = s.send(200, 20, None);
        assert_eq!(
            (c.flight, c.cwnd, c.limited),
            (13 * MSS, 13 * MSS, Limit::Loss)
        );
        // Everything sent before the loss acknowledged: recovery ends at ssthresh.
        s.ack(300, 20, &[], 100_000);
        let c = s.send(300, 21, None);
        assert_eq!((c.phase, c.cwnd), (Phase::CongestionAvoidance, 10 * MSS));
        // Silence, then the head is resent by the timer: one segment, everything else lost.
        let c = s.send(900, 20, Some(RetransKind::Timeout));
        assert_eq!((c.phase, c.flight, c.cwnd), (Phase::RtoRecovery, MSS, MSS));
        assert_eq!(s.t.event.take().map(|e| e.ssthresh), Some(5 * MSS));
    }

    #[test]
    fn limited_by_splits_the_senders_time() {
        let mut s = Sender::new();
        s.send(0, 0, None);
        s.send(0, 1, None);
        // 100 ms waiting for the ACK with the window full.
        s.ack(100, 2, &[], 2_000);
        // 100 ms with nothing outstanding: the application's.
        s.send(200, 2, None);
        s.send(200, 3, None);
        // The receiver's window (2 segments) is full for 100 ms.
        s.ack(300, 4, &[], 2_000);
        s.t.finish();
        let l = s.t.limited_by().expect("a span");
        assert_eq!((l.start, l.end), (0, 300 * MS));
        let ms = |k: Limit| l.ns[k as usize] / MS;
        assert_eq!(
            (ms(Limit::Cwnd), ms(Limit::App), ms(Limit::Rwnd)),
            (100, 100, 100)
        );
    }

    #[test]
    fn ranges_merge_and_split() {
        let mut v = Vec::new();
        add_range(&mut v, (10, 20));
        add_range(&mut v, (30, 40));
        add_range(&mut v, (20, 30));
        assert_eq!(v, vec![(10, 40)]);
        remove_range(&mut v, (15, 25));
        assert_eq!(v, vec![(10, 15), (25, 40)]);
        trim_below(&mut v, 30);
        assert_eq!(v, vec![(30, 40)]);
        assert_eq!(span(&v), 10);
    }
}
