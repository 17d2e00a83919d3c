//! RST acceptance (RFC 793 / RFC 5961): would the receiver take this RST?

use super::segment::Segment;
use super::{Flow, af};

/// Judged before the RST updates any state: the receiver expects `fwd.nextseq` and accepts a
/// window of `rev.window` bytes (scaled, at least one). A RST outside it is flagged
/// `rst_out_of_window` with the reason; the flow's first RST is remembered either way.
pub(super) fn judge_acceptance(seg: &mut Segment, fwd: &mut Flow, rev: &Flow) {
    if !seg.flags.rst() {
        return;
    }
    if fwd.nextseq != 0 && rev.window != u32::MAX {
        let wnd = (u64::from(rev.window) << rev.shift()).max(1);
        let off = u64::from(seg.seq.wrapping_sub(fwd.nextseq));
        if off >= wnd {
            seg.ta |= af::RST_OUT_OF_WINDOW;
            fwd.rst_oow += 1;
            seg.info.reason = Some(format!(
                "RST seq {} is outside the receiver's window [{}, +{})",
                seg.seq.wrapping_sub(fwd.base_seq),
                fwd.nextseq.wrapping_sub(fwd.base_seq),
                wnd
            ));
        }
    }
    if fwd.rst_frame.is_none() {
        fwd.rst_frame = Some(seg.frame);
    }
}
