//! Wireshark's sequence analysis (`tcp_analyze_sequence_number`), rule for rule and in its
//! order: the relative-sequence bases, the flags a segment earns from its own flow (zero
//! window, lost segment, keep-alive, window update and full, duplicate ACK, …), from its
//! ACK, and as a retransmission; then the flow moves past the segment.

use netproto::frame::TcpFlags;

use super::flow::Unacked;
use super::segment::Segment;
use super::{Flow, MAX_UNACKED, af, elapsed, gt, le, lt};

/// Wireshark calls a retransmission fast within this time of the last duplicate ACK (20 ms).
const FAST_RETRANSMIT_NS: i64 = 20_000_000;
/// Out-of-order threshold while the handshake RTT is unknown (3 ms).
const OOO_THRESHOLD_NS: i64 = 3_000_000;

/// The bases relative numbers count from: the ISN, else one before the first sequence number
/// seen; the peer's from the first ACK. An ACK also makes the peer's bytes in flight valid
/// again.
pub(super) fn set_bases(seg: &Segment, fwd: &mut Flow, rev: &mut Flow) {
    if !fwd.base_set {
        fwd.base_seq = if seg.flags.syn() {
            seg.seq
        } else {
            seg.seq.wrapping_sub(1)
        };
        fwd.base_set = true;
    }
    if !rev.base_set && seg.flags.ack() {
        rev.base_seq = seg.ack.wrapping_sub(1);
        rev.base_set = true;
    }
    if seg.flags.ack() {
        rev.valid_bif = true;
    }
}

/// The flags a segment earns against its own flow's state, in Wireshark's order. A
/// zero-window probe ends the checks, as do the ACKs of `flag_repeated_ack`.
pub(super) fn flag_forward(seg: &mut Segment, fwd: &mut Flow, rev: &Flow) {
    let (seq, len, window) = (seg.seq, seg.len, seg.window);
    if len == 1 && seq == fwd.nextseq && rev.window == 0 {
        seg.ta |= af::ZERO_WINDOW_PROBE;
        return;
    }
    let no_sfr = !seg.any(TcpFlags::SYN | TcpFlags::FIN | TcpFlags::RST);
    if window == 0 && no_sfr {
        seg.ta |= af::ZERO_WINDOW;
    }
    if fwd.nextseq != 0 && gt(seq, fwd.nextseq) && !seg.flags.rst() {
        seg.ta |= af::LOST_SEGMENT;
        fwd.valid_bif = false;
    }
    if (len == 0 || len == 1) && seq == fwd.nextseq.wrapping_sub(1) && no_sfr {
        seg.ta |= af::KEEP_ALIVE;
    }
    // The same sequence number and ACK as the flow's last segment, without data.
    let same = seq == fwd.nextseq && seg.ack == fwd.lastack && no_sfr && len == 0;
    if same && window != 0 && window != fwd.window {
        seg.ta |= af::WINDOW_UPDATE;
    }
    if len > 0 && rev.win_scale != -1 && no_sfr {
        let edge = rev
            .lastack
            .wrapping_add(rev.window.wrapping_shl(rev.shift()));
        if seq.wrapping_add(len) == edge {
            seg.ta |= af::WINDOW_FULL;
        }
    }
    if same && window == fwd.window {
        flag_repeated_ack(seg, fwd, rev);
    }
}

/// A segment repeating the flow's last ACK and window without data: the ACK of the peer's
/// keep-alive or zero-window probe, else (with an open window) a duplicate ACK, numbered in
/// its run with the frame it duplicates.
fn flag_repeated_ack(seg: &mut Segment, fwd: &mut Flow, rev: &Flow) {
    if seg.window != 0 && rev.lastsegmentflags & af::KEEP_ALIVE != 0 {
        seg.ta |= af::KEEP_ALIVE_ACK;
        return;
    }
    if seg.window == 0 && rev.lastsegmentflags & af::ZERO_WINDOW_PROBE != 0 {
        seg.ta |= af::ZERO_WINDOW_PROBE_ACK;
        return;
    }
    if seg.window != 0 {
        fwd.dupacknum += 1;
        seg.ta |= af::DUPLICATE_ACK;
        seg.info.dup_ack_num = fwd.dupacknum;
        seg.info.dup_ack_frame = fwd.lastnondupack;
        if fwd.dupack_frames.len() < 8 {
            fwd.dupack_frames.push(seg.frame);
        }
    }
}

/// A new ACK value ends the duplicate-ACK run; an ACK beyond everything the peer was seen
/// sending means the capture missed a segment (`ack_lost_segment`).
pub(super) fn flag_ack(seg: &mut Segment, fwd: &mut Flow, rev: &mut Flow) {
    if seg.ack != fwd.lastack {
        fwd.lastnondupack = seg.frame;
        fwd.dupacknum = 0;
        fwd.dupack_frames.clear();
    }
    if rev.maxseqtobeacked != 0 && gt(seg.ack, rev.maxseqtobeacked) && seg.flags.ack() {
        seg.ta |= af::ACK_LOST_SEGMENT;
        rev.maxseqtobeacked = rev.nextseq;
    }
}

/// Wireshark's tests (4.0) for a segment with data (or SYN/FIN) that does not advance the
/// flow, in its order: spurious retransmission (everything in it already acknowledged), fast
/// retransmission, out-of-order, else a retransmission with the time since the highest
/// sequence number was sent (`tcp.analysis.rto`).
pub(super) fn flag_retransmission(seg: &mut Segment, fwd: &Flow, rev: &Flow) {
    if !seg.is_data() || seg.ta & af::KEEP_ALIVE != 0 {
        return;
    }
    let (seq, len) = (seg.seq, seg.len);
    let mut not_advanced = fwd.nextseq != 0 && lt(seq, fwd.nextseq);
    if len > 1 && fwd.nextseq.wrapping_sub(1) == seq {
        not_advanced = false;
    }
    if len > 0 && rev.lastack != 0 && le(seq.wrapping_add(len), rev.lastack) {
        seg.ta |= af::SPURIOUS_RETRANSMISSION;
        return;
    }
    let since_ack = elapsed(seg.now, rev.lastacktime);
    if not_advanced && rev.dupacknum >= 2 && rev.lastack == seq && since_ack < FAST_RETRANSMIT_NS {
        seg.ta |= af::FAST_RETRANSMISSION;
        return;
    }
    let since_next = elapsed(seg.now, fwd.nextseqtime);
    let ooo_thres = if seg.irtt == 0 {
        OOO_THRESHOLD_NS
    } else {
        seg.irtt
    };
    // The segment's end, SYN and FIN counting one: a SYN or FIN sent again right after the
    // first is a retransmission, not out of order.
    let end = seq
        .wrapping_add(len)
        .wrapping_add(u32::from(seg.any(TcpFlags::SYN | TcpFlags::FIN)));
    if not_advanced && since_next < ooo_thres && fwd.nextseq != end {
        seg.ta |= af::OUT_OF_ORDER;
        return;
    }
    if not_advanced {
        seg.ta |= af::RETRANSMISSION;
        seg.info.rto_ns = Some(since_next);
        seg.info.rto_frame = Some(fwd.nextseqframe);
    }
}

/// The flow moves past the segment: it is queued as unacknowledged, the next sequence number
/// advances, and its window, ACK and flags become the "last segment" the next tests compare
/// against.
pub(super) fn advance(seg: &Segment, fwd: &mut Flow) {
    let nextseq = queue_unacked(seg, fwd);
    advance_nextseq(seg, fwd, nextseq);
    let zwp = seg.ta & af::ZERO_WINDOW_PROBE != 0;
    if (seg.seq == fwd.maxseqtobeacked || fwd.maxseqtobeacked == 0) && !zwp {
        fwd.maxseqtobeacked = fwd.nextseq;
    }
    fwd.window = seg.window;
    if seg.flags.ack() && (fwd.last_advance_at.is_none() || gt(seg.ack, fwd.lastack)) {
        fwd.last_advance_at = Some(seg.now);
    }
    fwd.lastack = seg.ack;
    fwd.lastacktime = seg.now;
    fwd.lastsegmentflags = seg.ta;
}

/// The sequence number after the segment (SYN and FIN count one). A segment occupying
/// sequence space joins the unacknowledged queue while it has room; a retransmission's RTT
/// sample will be ambiguous (Karn).
fn queue_unacked(seg: &Segment, fwd: &mut Flow) -> u32 {
    let mut nextseq = seg.seq.wrapping_add(seg.len);
    if seg.any(TcpFlags::SYN | TcpFlags::FIN) {
        nextseq = nextseq.wrapping_add(1);
    }
    if seg.is_data() && fwd.segments.len() < MAX_UNACKED {
        fwd.insert(Unacked {
            frame: seg.frame,
            seq: seg.seq,
            nextseq,
            ts: seg.now,
            tsval: seg.ts.map(|t| t.0),
            ambiguous: seg.retransmitted(),
        });
    }
    nextseq
}

/// Move the flow's next sequence number forward to `nextseq` (never back), counting the
/// bytes that advanced it once: the whole advance but the SYN's or FIN's own number, so bytes
/// first seen after a hole count when the segment beyond the hole moves the sequence space
/// past them, and not again when their retransmission fills it (the total is FIN seq − ISN − 1,
/// whatever the capture missed or saw twice).
fn advance_nextseq(seg: &Segment, fwd: &mut Flow, nextseq: u32) {
    // A RST never moves RCV.NXT at its receiver (RFC 5961: one in the window but not exact only
    // draws a challenge ACK), so it must not move the sequence space later RSTs are judged against.
    if (gt(nextseq, fwd.nextseq) || fwd.nextseq == 0)
        && seg.ta & af::ZERO_WINDOW_PROBE == 0
        && !seg.flags.rst()
    {
        if fwd.nextseq != 0 && gt(nextseq, fwd.nextseq) {
            let adv = u64::from(nextseq.wrapping_sub(fwd.nextseq));
            let flag = u64::from(seg.any(TcpFlags::SYN | TcpFlags::FIN));
            fwd.unique_bytes += adv.saturating_sub(flag);
        } else if fwd.nextseq == 0 {
            fwd.unique_bytes += u64::from(seg.len);
        }
        fwd.nextseq = nextseq;
        fwd.nextseqframe = seg.frame;
        fwd.nextseqtime = seg.now;
        fwd.nextseq_tsval = seg.ts.map(|(tsval, _)| tsval);
    }
}
