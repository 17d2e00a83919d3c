//! One segment's way through the analysis: what the phases share about it, and the phases
//! themselves in Wireshark's order (`tcp_analyze_sequence_number`, then tcpstat's own).

use netproto::frame::TcpFlags;

use super::vantage::echoed;
use super::{Conn, Dir, Flow, PacketInfo, Place, TcpSample, af, gt, split};
use super::{ack, cwnd, delayed_ack, inflight, retrans, rst, sequence, vantage};

/// What the phases share about the segment under analysis: its fields (read once from the
/// sample), the analysis flags found so far and the answer being built.
pub(super) struct Segment {
    pub(super) frame: u64,
    /// Capture time (ns).
    pub(super) now: i64,
    pub(super) seq: u32,
    pub(super) ack: u32,
    pub(super) flags: TcpFlags,
    /// Payload length from the IP header (Wireshark's `tcp.len`).
    pub(super) len: u32,
    /// Raw (unscaled) window field.
    pub(super) window: u32,
    /// The connection's handshake RTT as known at this segment (0: not yet).
    pub(super) irtt: i64,
    /// The timestamp option (TSval, TSecr), if any.
    pub(super) ts: Option<(u32, u32)>,
    /// It carries SACK blocks.
    pub(super) sack: bool,
    /// The handshake showed the capture was taken next to this segment's sender.
    pub(super) near_sender: bool,
    /// The sender's side of the capture point for this segment's sender and its peer, from
    /// the handshake (ns).
    pub(super) halves: Option<[i64; 2]>,
    /// Analysis flags found so far (Wireshark's `ta->flags`).
    pub(super) ta: u32,
    pub(super) info: PacketInfo,
}

impl Segment {
    fn new(s: &TcpSample, dir: Dir) -> Segment {
        let summary = s.options.summary();
        Segment {
            frame: s.frame,
            now: s.ts_ns,
            seq: s.seq,
            ack: s.ack,
            flags: s.flags,
            len: s.payload_len,
            window: u32::from(s.win),
            irtt: 0,
            ts: summary.timestamp,
            sack: summary.sack_blocks > 0,
            near_sender: false,
            halves: None,
            ta: 0,
            info: PacketInfo {
                frame: s.frame,
                ts_ns: s.ts_ns,
                dir,
                ..Default::default()
            },
        }
    }

    /// Is any of the TCP flag `bits` set?
    pub(super) fn any(&self, bits: u16) -> bool {
        self.flags.0 & bits != 0
    }

    /// Does the segment occupy sequence space (payload, SYN or FIN)?
    pub(super) fn is_data(&self) -> bool {
        self.len > 0 || self.any(TcpFlags::SYN | TcpFlags::FIN)
    }

    /// Wireshark calls it out-of-order, but its sender sent it after the newest data (a later
    /// TSval): a retransmission of a segment lost before the capture point or resent within a
    /// round trip, not a segment the network reordered. Wireshark's flag stays; tcpstat counts
    /// and explains it as the retransmission it is.
    /// Next to the sender (known from the handshake) there is no network before the capture
    /// point to reorder anything: every such segment is a resend. Its TSecr also tells: a
    /// segment sent after its sender heard the receiver report the hole (a duplicate ACK
    /// asking for it) is a resend, whatever the TSval's tick.
    pub(super) fn resent_out_of_order(&self, fwd: &Flow, rev: &Flow) -> bool {
        if self.ta & af::OUT_OF_ORDER == 0 {
            return false;
        }
        let later = matches!((self.ts, fwd.nextseq_tsval), (Some((tsval, _)), Some(newest)) if gt(tsval, newest));
        let asked = self
            .ts
            .and_then(|(_, tsecr)| echoed(rev, tsecr))
            .is_some_and(|t| t.asked_for(self.seq));
        self.near_sender || later || asked
    }

    /// Has the sequence analysis flagged a retransmission of any kind?
    pub(super) fn retransmitted(&self) -> bool {
        self.ta & af::ANY_RETRANSMISSION != 0
    }

    /// Wireshark's last touch on the flags and the numbers relative to each flow's base: the
    /// answer for this segment. The flow keeps the window in bytes for the TCB.
    #[inline(always)]
    fn finish(mut self, fwd: &mut Flow, rev: &Flow) -> PacketInfo {
        // Wireshark shows a fast or spurious retransmission under tcp.analysis.retransmission too.
        if self.ta & (af::FAST_RETRANSMISSION | af::SPURIOUS_RETRANSMISSION) != 0 {
            self.ta |= af::RETRANSMISSION;
        }
        let mut info = self.info;
        info.flags = self.ta;
        info.rel_seq = self.seq.wrapping_sub(fwd.base_seq);
        info.rel_ack = if self.flags.ack() {
            self.ack.wrapping_sub(rev.base_seq)
        } else {
            0
        };
        fwd.win_bytes = Some(info.win_scaled);
        info
    }

    /// The window in bytes (a SYN's is never scaled).
    fn scaled_window(&self, fwd: &Flow) -> u64 {
        if self.flags.syn() {
            u64::from(self.window)
        } else {
            u64::from(self.window) << fwd.shift()
        }
    }
}

/// Analyse one segment of `conn` sent in direction `dir`: the phases in order, each reading
/// and extending the shared [`Segment`]; `fwd` is the sender's flow, `rev` the receiver's.
// Inlined into its one caller: the answer is built in place, not copied twice per packet.
#[inline(always)]
pub(super) fn analyze(conn: &mut Conn, dir: Dir, s: &TcpSample) -> PacketInfo {
    let mut seg = Segment::new(s, dir);
    conn.note_segment(dir, s, seg.ts);
    seg.irtt = conn.irtt_ns.unwrap_or(0);
    seg.halves = conn.sender_halves(dir);
    seg.near_sender = conn.handshake_place()
        == Some(if dir == 0 {
            Place::NearClient
        } else {
            Place::NearServer
        });
    let (fwd, rev) = split(&mut conn.flows, dir);
    fwd.count_packet(s);
    rst::judge_acceptance(&mut seg, fwd, rev);

    sequence::set_bases(&seg, fwd, rev);
    sequence::flag_forward(&mut seg, fwd, rev);
    sequence::flag_ack(&mut seg, fwd, rev);
    sequence::flag_retransmission(&mut seg, fwd, rev);
    if seg.retransmitted() || seg.resent_out_of_order(fwd, rev) {
        retrans::classify(&mut seg, fwd, rev);
    }
    fwd.count_flags(seg.ta);
    sequence::advance(&seg, fwd);

    ack::acknowledge(&mut seg, rev);
    vantage::track_echo(&mut seg, fwd, rev);
    delayed_ack::record(&seg, fwd, rev);
    inflight::measure(&mut seg, fwd);
    seg.info.win_scaled = seg.scaled_window(fwd);
    cwnd::observe(&mut seg, &s.options, fwd, rev);
    if seg.flags.rst() {
        conn.first_rst.get_or_insert(dir);
    }
    seg.finish(fwd, rev)
}
