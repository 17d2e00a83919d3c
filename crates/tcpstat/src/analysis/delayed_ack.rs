//! Delayed-ACK evidence: how much new data each ACK of a side covers (two or more segments
//! at once is the delayed-ACK signature), and how long a single-segment ACK waited.

use netproto::frame::TcpFlags;

use super::segment::Segment;
use super::{Flow, elapsed, gt, le};

/// At most this many received segments wait per side for their ACK.
const MAX_PENDING: usize = 4096;

/// `fwd` acknowledges the data of `rev`: judge this segment's ACK, then queue the data it
/// carries (first transmissions only) until the other side acknowledges it.
pub(super) fn record(seg: &Segment, fwd: &mut Flow, rev: &mut Flow) {
    if seg.flags.ack() {
        judge_ack(seg, fwd, rev);
        advance_high_ack(seg.ack, fwd);
    }
    if seg.len > 0 && !seg.retransmitted() {
        rev.data_segs_rcvd += 1;
        if rev.pending_rcv.len() < MAX_PENDING {
            rev.pending_rcv
                .push_back((seg.frame, seg.now, seg.seq.wrapping_add(seg.len)));
        }
    }
}

/// A pure ACK that acknowledges new data: does it cover several segments, or one (and after
/// what delay)?
fn judge_ack(seg: &Segment, fwd: &mut Flow, rev: &Flow) {
    let Some(adv) = fwd
        .high_ack
        .filter(|&h| gt(seg.ack, h))
        .map(|h| seg.ack.wrapping_sub(h))
    else {
        return;
    };
    if seg.len != 0 || seg.any(TcpFlags::SYN | TcpFlags::FIN) || rev.max_seg == 0 {
        return;
    }
    fwd.acks_new += 1;
    let covered = fwd
        .pending_rcv
        .iter()
        .take_while(|(_, _, end)| le(*end, seg.ack))
        .count();
    if covered >= 2 || adv > rev.max_seg {
        fwd.acks_multi += 1;
    } else if covered == 1 {
        fwd.acks_single += 1;
        if let Some((_, t, _)) = fwd.pending_rcv.front() {
            fwd.single_ack_delay.add(elapsed(seg.now, *t) as f64 / 1e6);
        }
    }
}

/// The highest ACK this side sent, and the received segments it no longer waits for.
fn advance_high_ack(ack: u32, fwd: &mut Flow) {
    if fwd.high_ack.is_none_or(|h| gt(ack, h)) {
        fwd.high_ack = Some(ack);
        while fwd
            .pending_rcv
            .front()
            .is_some_and(|(_, _, end)| le(*end, ack))
        {
            fwd.pending_rcv.pop_front();
        }
    }
}
