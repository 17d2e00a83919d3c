//! The analysis engine: connection tracking numbered like tshark's `tcp.stream`, Wireshark's
//! per-segment TCP analysis (same rules, same order), and what Wireshark leaves implicit:
//! fast-vs-timeout classification, Karn RTT, delayed-ACK evidence, out-of-window RSTs.
//!
//! Input is one [`TcpSample`] at a time (a decoded TCP segment); output is a [`PacketInfo`].
//! Memory is bounded by the open connections and their unacknowledged segments: a finished
//! connection keeps only its summary counters.
//!
//! The rooms: `table` finds a sample's connection and direction; `segment` runs the phases
//! over it in Wireshark's order, each a named function in its own file, all sharing one
//! `segment::Segment`: connection bookkeeping (`bookkeeping`), RST acceptance (`rst`),
//! Wireshark's sequence analysis (`sequence`), retransmission classification (`retrans`), ACK
//! processing (`ack`), delayed-ACK evidence (`delayed_ack`), bytes in flight (`inflight`) and
//! the two halves of the round trip either side of the capture point (`vantage`) and the
//! sender's congestion window with what limited it (`cwnd`).
//! `flow` and `conn` hold the state the phases update; `options` a SYN's options.

use std::net::SocketAddr;

use netproto::frame::{TcpFlags, TcpOptions};

mod ack;
mod bookkeeping;
mod conn;
mod cwnd;
mod delayed_ack;
#[cfg(test)]
mod evict_tests;
mod flow;
mod inflight;
mod options;
mod retrans;
pub(crate) mod row;
mod rowcodec;
#[cfg(test)]
pub(crate) use rowcodec::tests::{floats as arb_float, row as arb_row};
mod rst;
mod segment;
mod sequence;
pub(crate) mod table;
#[cfg(test)]
mod tests;
mod tsclock;
mod vantage;

pub use conn::{Cleared, Conn};
pub use cwnd::{CwndSample, Limit, LimitedBy, LossEvent, Phase};
pub use flow::Flow;
pub use options::SynOptions;
pub use row::{ConnRow, FlowRow, RowQueue, RowStore};
pub use table::{Analyzer, Eviction};
pub use vantage::{Evidence, Place};

/// A recycled connection keeps a buffer's allocation up to this many elements (a bulk flow's
/// thousands are given back).
const RECYCLE_CAP: usize = 64;

/// Empty `v` for a recycled connection, keeping a small allocation.
fn recycle_vec<T>(v: &mut Vec<T>) {
    v.clear();
    v.shrink_to(RECYCLE_CAP);
}

fn recycle_deque<T>(v: &mut std::collections::VecDeque<T>) {
    v.clear();
    v.shrink_to(RECYCLE_CAP);
}

/// Analysis flags, in the order the issue (and Wireshark's expert info) lists them.
pub mod af {
    pub const RETRANSMISSION: u32 = 1 << 0;
    pub const FAST_RETRANSMISSION: u32 = 1 << 1;
    pub const SPURIOUS_RETRANSMISSION: u32 = 1 << 2;
    pub const OUT_OF_ORDER: u32 = 1 << 3;
    pub const LOST_SEGMENT: u32 = 1 << 4;
    pub const ACK_LOST_SEGMENT: u32 = 1 << 5;
    pub const DUPLICATE_ACK: u32 = 1 << 6;
    pub const ZERO_WINDOW: u32 = 1 << 7;
    pub const ZERO_WINDOW_PROBE: u32 = 1 << 8;
    pub const ZERO_WINDOW_PROBE_ACK: u32 = 1 << 9;
    pub const WINDOW_UPDATE: u32 = 1 << 10;
    pub const WINDOW_FULL: u32 = 1 << 11;
    pub const KEEP_ALIVE: u32 = 1 << 12;
    pub const KEEP_ALIVE_ACK: u32 = 1 << 13;
    pub const REUSED_PORTS: u32 = 1 << 14;
    /// Ours: a RST whose sequence number the receiver would not accept (RFC 793/5961).
    pub const RST_OUT_OF_WINDOW: u32 = 1 << 15;

    /// (bit, Wireshark field name without the `tcp.analysis.` prefix)
    pub const NAMES: [(u32, &str); 16] = [
        (RETRANSMISSION, "retransmission"),
        (FAST_RETRANSMISSION, "fast_retransmission"),
        (SPURIOUS_RETRANSMISSION, "spurious_retransmission"),
        (OUT_OF_ORDER, "out_of_order"),
        (LOST_SEGMENT, "lost_segment"),
        (ACK_LOST_SEGMENT, "ack_lost_segment"),
        (DUPLICATE_ACK, "duplicate_ack"),
        (ZERO_WINDOW, "zero_window"),
        (ZERO_WINDOW_PROBE, "zero_window_probe"),
        (ZERO_WINDOW_PROBE_ACK, "zero_window_probe_ack"),
        (WINDOW_UPDATE, "window_update"),
        (WINDOW_FULL, "window_full"),
        (KEEP_ALIVE, "keep_alive"),
        (KEEP_ALIVE_ACK, "keep_alive_ack"),
        (REUSED_PORTS, "reused_ports"),
        (RST_OUT_OF_WINDOW, "rst_out_of_window"),
    ];

    /// A retransmission of any kind (Wireshark's three flags).
    pub const ANY_RETRANSMISSION: u32 =
        RETRANSMISSION | FAST_RETRANSMISSION | SPURIOUS_RETRANSMISSION;

    /// The names of the bits set in `flags`, in order.
    pub fn names(flags: u32) -> impl Iterator<Item = &'static str> {
        NAMES
            .iter()
            .filter(move |(b, _)| flags & b != 0)
            .map(|(_, n)| *n)
    }
}

/// One decoded TCP segment: the analysis engine's whole input.
#[derive(Clone, Debug)]
pub struct TcpSample<'a> {
    /// 1-based frame number in the capture.
    pub frame: u64,
    /// Capture time in nanoseconds since the epoch.
    pub ts_ns: i64,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub seq: u32,
    pub ack: u32,
    pub flags: TcpFlags,
    /// Raw (unscaled) window field.
    pub win: u16,
    /// The raw TCP options (the analysis reads a SYN's).
    pub options: TcpOptions<'a>,
    /// TCP payload length from the IP length (correct even when the capture is truncated).
    pub payload_len: u32,
    /// The captured part of the payload (shorter than `payload_len` when truncated).
    pub payload: &'a [u8],
    /// Original frame length on the wire.
    pub wire_len: u32,
    /// The capture cut this packet short.
    pub truncated: bool,
}

/// Direction inside a connection: 0 = client to server, 1 = server to client.
pub type Dir = usize;

/// Fast or timeout (our classification of a retransmission).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetransKind {
    Fast,
    Timeout,
    /// A tail-loss probe (RFC 8985): the newest segment resent by a timer shorter than the
    /// RTO, to draw an ACK that tells the sender what was lost.
    Probe,
    Spurious,
}

impl RetransKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RetransKind::Fast => "fast",
            RetransKind::Timeout => "timeout",
            RetransKind::Probe => "probe",
            RetransKind::Spurious => "spurious",
        }
    }
}

/// What the engine says about one packet.
#[derive(Clone, Debug, Default)]
pub struct PacketInfo {
    pub frame: u64,
    pub ts_ns: i64,
    pub conn: u32,
    pub dir: Dir,
    pub flags: u32,
    pub dup_ack_num: u32,
    pub dup_ack_frame: u64,
    pub acked_frame: Option<u64>,
    pub ack_rtt_ns: Option<i64>,
    /// The RTT sample is usable by Karn's rule (the acknowledged data was sent once).
    pub rtt_valid: bool,
    /// This data segment echoes (TSecr) an ACK captured this long before: the sender's side
    /// of the capture point (the first echo of each ACK only).
    pub echo_rtt_ns: Option<i64>,
    pub bytes_in_flight: Option<u32>,
    /// Retransmissions: time since the highest-sequence segment (Wireshark's `tcp.analysis.rto`)
    /// and since the original transmission of this sequence number.
    pub rto_ns: Option<i64>,
    pub rto_frame: Option<u64>,
    pub orig_frame: Option<u64>,
    pub retrans: Option<RetransKind>,
    pub reason: Option<String>,
    pub rel_seq: u32,
    pub rel_ack: u32,
    /// Window in bytes (scaled when scaling is in effect).
    pub win_scaled: u64,
    /// Data segments: what limited the sender right after it (the window itself is logged
    /// per connection on request: `Analyzer::logging_cwnd`, kept out of here to keep this
    /// record small — it is moved for every packet).
    pub limited: Option<Limit>,
    /// This segment started a loss event (a recovery).
    pub loss_event: bool,
}

/// Wireshark keeps at most this many unacknowledged segments per direction.
const MAX_UNACKED: usize = 10_000;

#[inline]
pub(crate) fn lt(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}
#[inline]
pub(crate) fn gt(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}
#[inline]
fn le(a: u32, b: u32) -> bool {
    !gt(a, b)
}

/// Time from `then` to `now` in ns, saturating: the engine takes any `i64` timestamps
/// (captures put them in order, crafted ones do not).
#[inline]
fn elapsed(now: i64, then: i64) -> i64 {
    now.saturating_sub(then)
}

/// Both flows of a connection, the sender's first.
fn split(flows: &mut [Flow; 2], dir: Dir) -> (&mut Flow, &mut Flow) {
    let (a, b) = flows.split_at_mut(1);
    if dir == 0 {
        (&mut a[0], &mut b[0])
    } else {
        (&mut b[0], &mut a[0])
    }
}
