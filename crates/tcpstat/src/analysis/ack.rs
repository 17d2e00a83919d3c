//! ACK processing: what this segment's ACK removes from the peer's queue of unacknowledged
//! segments, Wireshark's `ack_rtt` (and the frame acknowledged) on an exact match, and the
//! RTT sample Karn's rule allows.

use super::flow::Unacked;
use super::segment::Segment;
use super::{Flow, cwnd, elapsed, le, lt};

/// What one ACK value took off a queue.
struct Acked {
    /// The oldest segment the ACK matched exactly (Wireshark walks newest first and the last
    /// exact match sets `acked`/`ack_rtt`).
    exact: Option<Unacked>,
    /// No segment the ACK covered was sent more than once.
    karn_ok: bool,
}

/// Apply the segment's ACK to `rev`, the flow it acknowledges.
pub(super) fn acknowledge(seg: &mut Segment, rev: &mut Flow) {
    if seg.flags.ack()
        && let Some(end) = rev.rto_recovery_until
        && !lt(seg.ack, end)
    {
        rev.rto_recovery_until = None;
    }
    let acked = take_acked(seg.ack, rev);
    if let Some(u) = acked.exact {
        seg.info.acked_frame = Some(u.frame);
        seg.info.ack_rtt_ns = Some(elapsed(seg.now, u.ts));
    }
    if acked.exact.is_some() && acked.karn_ok && seg.flags.ack() {
        if let Some(r) = seg.info.ack_rtt_ns {
            rev.rtt.add(r as f64 / 1e6);
            rev.rtt_samples.add(r as f64 / 1e6);
            // Far from the sender, its TSval clock dates the segment and this ACK reaches it
            // half the sender's side later: the sender's own RTT sample, queues included.
            let clocked = acked
                .exact
                .and_then(|u| u.tsval)
                .filter(|_| rev.cwnd.clocked());
            let sent = clocked.and_then(|v| {
                let half = cwnd::sender_side(rev, seg.halves.map(|h| h[1]));
                rev.cwnd
                    .sent_at(v, half / 2)
                    .map(|at| seg.now.saturating_add(half / 2).saturating_sub(at))
            });
            match sent {
                Some(rtt) => rev.srtt.update_path(seg.now, rtt),
                None => rev.srtt.update(seg.now, Some(r), None, seg.ts.is_some()),
            }
            seg.info.rtt_valid = true;
        }
    }
}

/// Remove from `rev`'s queue what `ack` acknowledges; a segment it covers only in part stays,
/// trimmed to start at `ack`. Only segments starting below the ACK can be affected: a prefix
/// of the sorted queue.
fn take_acked(ack: u32, rev: &mut Flow) -> Acked {
    let mut acked = Acked {
        exact: None,
        karn_ok: true,
    };
    let mut held = std::mem::take(&mut rev.scratch);
    while let Some(u) = rev.segments.front().copied() {
        if !lt(u.seq, ack) {
            break;
        }
        rev.segments.pop_front();
        if ack == u.nextseq {
            acked.karn_ok &= !u.ambiguous;
            if acked.exact.is_none_or(|b| u.frame < b.frame) {
                acked.exact = Some(u);
            }
        } else if le(ack, u.nextseq) {
            held.push(Unacked { seq: ack, ..u });
        } else {
            acked.karn_ok &= !u.ambiguous;
        }
    }
    while let Some(u) = held.pop() {
        rev.segments.push_front(u);
    }
    rev.scratch = held;
    acked
}
