//! Retransmission classification, tcpstat's own: every segment Wireshark flags as a
//! retransmission is fast (an ACK asked for it: duplicate ACKs, SACK, a partial ACK in
//! recovery), timeout (sent after silence, or in the recovery a timeout started) or spurious
//! (the receiver had it) or a tail-loss probe (a timer resent the newest segment before the
//! RTO would have), with the evidence in words; Karn's rule then marks the RTT samples
//! it makes ambiguous.
//!
//! With timestamps the sender's own view decides, wherever the capture was taken: a segment's
//! TSecr names the last ACK its sender had seen (the first packet carrying that TSval). A
//! sender reacting to that ACK resends it as soon as the ACK reaches it — the ACK's time here
//! plus the sender's side of the round trip ([`super::vantage`]); a resend much later than
//! that came from a timer. Without timestamps, duplicate ACKs within one RTT decide.

use super::flow::Unacked;
use super::segment::Segment;
use super::vantage::{TsSeen, echoed};
use super::{Flow, RetransKind, af, cwnd, elapsed, le, lt};

/// Resent within one RTT plus this much of the last duplicate ACK counts as fast (100 ms).
const FAST_SLACK_NS: i64 = 100_000_000;
/// A sender reacts to an ACK within this time of its arrival (softirq processing, pacing, the
/// capture's timestamp granularity), or within a quarter of the RTT more when RACK waits out
/// its reordering window (min RTT / 4) before it declares the segment lost; a timer fires
/// later (Linux's RTO is at least 200 ms above the RTT, a tail-loss probe two RTTs).
const REACTION_NS: i64 = 10_000_000;

/// What the classification and its reason rest on.
struct Evidence {
    /// The earliest transmission of this sequence number still unacknowledged, if captured.
    orig: Option<Unacked>,
    /// Time since the last packet from the receiver.
    since_ack: i64,
    /// RTT estimate: the smallest measured RTT, at least the handshake RTT.
    rtt_est: i64,
    /// The ACK the sender had seen last (by the segment's TSecr).
    trigger: Option<TsSeen>,
    /// The sender's smoothed RTT as tcpstat follows it (ns).
    srtt: Option<i64>,
    /// Time from that ACK here to the resend, less the sender's side of the round trip: how
    /// long the sender waited after the ACK reached it.
    waited: Option<i64>,
}

/// Classify the retransmission `seg` (already flagged), count it and give the reason.
pub(super) fn classify(seg: &mut Segment, fwd: &mut Flow, rev: &Flow) {
    let trigger = seg.ts.and_then(|(_, tsecr)| echoed(rev, tsecr));
    let ev = Evidence {
        orig: original(seg.seq, fwd),
        since_ack: elapsed(seg.now, rev.lastacktime),
        rtt_est: rtt_estimate(fwd, seg.irtt),
        trigger,
        srtt: fwd.srtt.current_ns(),
        waited: trigger.map(|t| waited(seg, fwd, t)),
    };
    seg.info.orig_frame = ev.orig.map(|u| u.frame);
    if seg.info.rto_ns.is_none() {
        seg.info.rto_ns = Some(elapsed(seg.now, fwd.nextseqtime));
        seg.info.rto_frame = Some(fwd.nextseqframe);
    }
    let in_rto_recovery = fwd.rto_recovery_until.is_some_and(|end| lt(seg.seq, end));
    let mut kind = kind(seg, rev, &ev, in_rto_recovery);
    if kind == RetransKind::Timeout && !in_rto_recovery && is_probe(seg, fwd, rev) {
        kind = RetransKind::Probe;
        fwd.probe_una = Some(rev.lastack);
    }
    match kind {
        RetransKind::Spurious => fwd.spurious += 1,
        RetransKind::Fast => fwd.fast += 1,
        RetransKind::Timeout => fwd.timeout += 1,
        RetransKind::Probe => fwd.probes += 1,
    }
    // A timeout starts a recovery: until the highest byte sent before it is acknowledged, the
    // ACK-clocked resends are that recovery's (Linux counts them apart from fast ones).
    if kind == RetransKind::Timeout && !in_rto_recovery {
        fwd.rto_recovery_until = Some(fwd.nextseq);
    }
    fwd.retrans += 1;
    seg.info.retrans = Some(kind);
    seg.info.reason = Some(reason(
        kind,
        seg.now,
        &ev,
        fwd.base_seq,
        rev,
        in_rto_recovery,
    ));
    mark_ambiguous(seg, fwd);
}

/// A timer resent the newest segment, the first time since the last ACK that advanced: Linux's
/// tail-loss probe (RFC 8985 §7), which fires before the RTO (it is never later) and resends
/// the tail, where the RTO resends the head. Linux probes only with SACK.
fn is_probe(seg: &Segment, fwd: &Flow, rev: &Flow) -> bool {
    let end = seg.seq.wrapping_add(seg.len + u32::from(seg.flags.fin()));
    let sack = match (&fwd.syn_opts, &rev.syn_opts) {
        (Some(a), Some(b)) => a.summary().sack_permitted && b.summary().sack_permitted,
        _ => true,
    };
    sack && end == fwd.nextseq && fwd.probe_una != Some(rev.lastack)
}

/// How long the sender waited after the ACK `t` (captured here) reached it. Far from the
/// sender, by the resend's TSval clock against the ACK's arrival (half the sender's side of
/// the round trip after its capture): a resend queued behind the data before it on its way
/// here would otherwise look late by the queue. Near it (or without the clock), the time here
/// less its latest ACK → data time, which carries the same queue as new data does.
fn waited(seg: &Segment, fwd: &Flow, t: TsSeen) -> i64 {
    let half = cwnd::sender_side(fwd, seg.halves.map(|h| h[0]));
    let sent = seg
        .ts
        .and_then(|(tsval, _)| fwd.cwnd.sent_at(tsval, half / 2));
    match sent {
        Some(sent) => sent.saturating_sub(t.at.saturating_add(half / 2)),
        None => elapsed(seg.now, t.at).saturating_sub(fwd.last_echo_ns.unwrap_or(0)),
    }
}

/// The earliest queued transmission covering `seq`.
fn original(seq: u32, fwd: &Flow) -> Option<Unacked> {
    fwd.segments
        .iter()
        .take_while(|u| le(u.seq, seq))
        .filter(|u| lt(seq, u.nextseq.max(u.seq.wrapping_add(1))))
        .min_by_key(|u| u.ts)
        .copied()
}

/// A capture near the receiver sees tiny data-to-ACK times: the handshake RTT is then the
/// better estimate.
fn rtt_estimate(fwd: &Flow, irtt: i64) -> i64 {
    if fwd.rtt.n > 0 {
        ((fwd.rtt.min * 1e6) as i64).max(irtt)
    } else {
        irtt
    }
}

/// Spurious as Wireshark says; in a timeout's recovery, timeout; with the triggering ACK
/// known (timestamps), fast when the sender resent as soon as that ACK reached it; else fast
/// as Wireshark says, or when two or more duplicate ACKs asked for this sequence number within
/// one RTT plus the slack; else timeout.
fn kind(seg: &Segment, rev: &Flow, ev: &Evidence, in_rto_recovery: bool) -> RetransKind {
    if seg.ta & af::SPURIOUS_RETRANSMISSION != 0 {
        return RetransKind::Spurious;
    }
    if in_rto_recovery {
        return RetransKind::Timeout;
    }
    if let (Some(waited), Some(t)) = (ev.waited, ev.trigger) {
        if waited < REACTION_NS.saturating_add(ev.rtt_est / 4) {
            return RetransKind::Fast;
        }
        // Less than an RTT after the ACK that last advanced reached the sender, no
        // retransmission timer can have fired (an RTO exceeds the smoothed RTT, a tail-loss
        // probe waits two): with duplicate ACKs in, it is a loss-detection timer (RACK's
        // reordering window, RFC 8985), part of fast recovery.
        let advanced = rev.last_advance_at.unwrap_or(t.at);
        let since_advance = waited.saturating_add(t.at.saturating_sub(advanced).max(0));
        // The sender's smoothed RTT (an RTO always exceeds it); the handshake's RTT can be
        // far longer (a first packet's neighbour discovery).
        let srtt = ev.srtt.unwrap_or(ev.rtt_est);
        return if rev.dupacknum >= 1 && since_advance < srtt {
            RetransKind::Fast
        } else {
            RetransKind::Timeout
        };
    }
    let dup_asked = rev.dupacknum >= 2 && le(rev.lastack, seg.seq);
    if seg.ta & af::FAST_RETRANSMISSION != 0
        || (dup_asked && ev.since_ack < ev.rtt_est.saturating_add(FAST_SLACK_NS))
    {
        RetransKind::Fast
    } else {
        RetransKind::Timeout
    }
}

/// The evidence in words, sequence numbers relative to the sender's `base`.
fn reason(
    kind: RetransKind,
    now: i64,
    ev: &Evidence,
    base: u32,
    rev: &Flow,
    in_rto_recovery: bool,
) -> String {
    let mut orig_txt = match ev.orig {
        Some(u) => format!(
            "original frame {} sent {:.3} s before",
            u.frame,
            elapsed(now, u.ts) as f64 / 1e9
        ),
        None => "the original was not captured (lost before the capture point)".into(),
    };
    if let (RetransKind::Fast, Some(t), Some(waited)) = (kind, ev.trigger, ev.waited) {
        let how = if waited < REACTION_NS.saturating_add(ev.rtt_est / 4) {
            ""
        } else {
            " by RACK's reordering timer (less than an RTT after the last ACK that advanced: no retransmission timer could have fired)"
        };
        return format!(
            "fast: resent{how} {:.1} ms after the ACK in frame {} reached the sender (its TSecr names that ACK, captured here {:.1} ms before); {} duplicate ACKs for seq {} had been captured (frames {}); {}",
            waited.max(0) as f64 / 1e6,
            t.frame,
            elapsed(now, t.at) as f64 / 1e6,
            rev.dupacknum,
            rev.lastack.wrapping_sub(base),
            fmt_frames(&rev.dupack_frames),
            orig_txt
        );
    }
    if let (Some(t), Some(waited)) = (ev.trigger, ev.waited) {
        orig_txt += &format!(
            "; its TSecr names frame {} (seen here {:.1} ms before) as the last ACK the sender had: it resent {:.1} ms after that ACK reached it",
            t.frame,
            elapsed(now, t.at) as f64 / 1e6,
            waited.max(0) as f64 / 1e6
        );
    }
    if in_rto_recovery {
        return format!(
            "timeout: resent in the recovery after a retransmission timeout (until everything sent before it is acknowledged); {orig_txt}"
        );
    }
    match kind {
        RetransKind::Fast => format!(
            "fast: {} duplicate ACKs for seq {} (frames {}), resent {:.1} ms after the last; {}",
            rev.dupacknum,
            rev.lastack.wrapping_sub(base),
            fmt_frames(&rev.dupack_frames),
            ev.since_ack as f64 / 1e6,
            orig_txt
        ),
        RetransKind::Timeout => format!(
            "timeout: resent {:.3} s after the last packet from the receiver ({} duplicate ACKs, {}), RTT {:.1} ms; {}",
            ev.since_ack as f64 / 1e9,
            rev.dupacknum,
            if rev.dupacknum >= 2 {
                "too long ago for fast retransmit"
            } else {
                "too few for fast retransmit"
            },
            ev.rtt_est as f64 / 1e6,
            orig_txt
        ),
        RetransKind::Probe => format!(
            "probe: the newest segment resent {:.3} s after the last packet from the receiver, by a timer shorter than the RTO (a tail-loss probe: its ACK tells the sender what was lost), RTT {:.1} ms; {}",
            ev.since_ack as f64 / 1e9,
            ev.rtt_est as f64 / 1e6,
            orig_txt
        ),
        RetransKind::Spurious => format!(
            "spurious: the receiver had already acknowledged up to {}; {}",
            rev.lastack.wrapping_sub(base),
            orig_txt
        ),
    }
}

/// Karn: any RTT sample covering the retransmitted range is now ambiguous.
fn mark_ambiguous(seg: &Segment, fwd: &mut Flow) {
    let end = seg.seq.wrapping_add(seg.len.max(1));
    for u in fwd.segments.iter_mut().take_while(|u| lt(u.seq, end)) {
        if lt(seg.seq, u.nextseq) {
            u.ambiguous = true;
        }
    }
}

fn fmt_frames(v: &[u64]) -> String {
    if v.is_empty() {
        return "not captured".into();
    }
    let s: Vec<String> = v.iter().map(u64::to_string).collect();
    if v.len() >= 8 {
        format!("{},…", s.join(","))
    } else {
        s.join(",")
    }
}
