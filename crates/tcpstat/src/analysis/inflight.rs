//! Bytes in flight (Wireshark's `tcp.analysis.bytes_in_flight`).

use super::Flow;
use super::segment::Segment;

/// After a data segment, while no segment of the flow was seen lost since the last ACK: from
/// the lowest unacknowledged sequence number to the highest end sent.
pub(super) fn measure(seg: &mut Segment, fwd: &Flow) {
    if seg.len == 0 || fwd.segments.is_empty() || !fwd.valid_bif {
        return;
    }
    // Sorted queue: the first segment starts lowest; the highest end is tracked.
    let b = fwd.base_seq;
    let first = fwd.segments[0].seq.wrapping_sub(b);
    let last = fwd.max_nextseq.wrapping_sub(b);
    let inflight = last.wrapping_sub(first);
    if inflight > 0 && inflight < 2_000_000_000 {
        seg.info.bytes_in_flight = Some(inflight);
    }
}
