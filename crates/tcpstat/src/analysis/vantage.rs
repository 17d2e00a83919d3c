//! Where the capture was taken, and the path's round trip from wherever that is.
//!
//! A capture point splits every round trip in two. Data → its ACK, as the capture sees it, is
//! the part beyond the capture point on the receiver's side (plus the receiver's ACK delay);
//! an ACK → the next new data that echoes its timestamp (TSecr = the ACK's TSval) is the part
//! on the sender's side (plus the sender's reaction). Next to the sender the first is the
//! whole round trip and the second nearly nothing; next to the receiver the reverse. Their sum
//! is the path's RTT from anywhere. The handshake splits the same way: SYN → SYN/ACK is the
//! server's side of the capture point, SYN/ACK → ACK the client's.

use super::segment::Segment;
use super::{Conn, Dir, Flow, af, elapsed, lt, recycle_vec};
use crate::cells::{self, Text};

/// Samples kept per flow for medians (beyond this, only min/avg/max grow).
const MAX_SAMPLES: usize = 1 << 16;
/// Timestamp values remembered per flow while waiting for their echo: at one value per
/// millisecond, several seconds of round trip.
const MAX_TSVALS: usize = 8192;
/// A side of the capture point is "near" when it holds at most this share of the round trip.
const NEAR_SHARE: f64 = 0.2;

/// The packet of `flow` whose TSval `tsecr` echoes: the ACK a segment's sender had seen last
/// when it sent it.
pub(super) fn echoed(flow: &Flow, tsecr: u32) -> Option<TsSeen> {
    flow.ts_seen
        .iter()
        .rev()
        .find(|t| t.tsval == tsecr)
        .copied()
}

/// Values kept for a median (capped).
#[derive(Clone, Debug, Default)]
pub struct Samples(Vec<f32>);

impl Samples {
    /// Its samples, prefetched (the median reads them all).
    pub(super) fn prefetch(&self) {
        crate::prefetch::slice(&self.0);
    }

    /// Empty, its buffer kept (a recycled connection).
    pub(super) fn recycle(&mut self) {
        recycle_vec(&mut self.0);
    }

    pub fn add(&mut self, ms: f64) {
        if self.0.len() < MAX_SAMPLES {
            self.0.push(ms as f32);
        }
    }

    pub fn median(&self) -> Option<f64> {
        if self.0.is_empty() {
            return None;
        }
        // A short connection's few samples are sorted on the stack.
        let mut small = [0f32; 32];
        let mut big = Vec::new();
        let v = match self.0.len() {
            n if n <= small.len() => {
                small[..n].copy_from_slice(&self.0);
                &mut small[..n]
            }
            _ => {
                big.extend_from_slice(&self.0);
                &mut big[..]
            }
        };
        let mid = v.len() / 2;
        let (_, m, _) = v.select_nth_unstable_by(mid, f32::total_cmp);
        Some(f64::from(*m))
    }
}

/// The sender's smoothed RTT as RFC 6298 computes it (α = 1/8), fed with the path RTT each
/// time either half of it is measured again, and its median over time — what a sampler of
/// the kernel's `srtt` sees, delayed ACKs and queues included.
#[derive(Clone, Debug, Default)]
pub struct Srtt {
    /// The latest data → ACK and ACK → data halves (ns).
    d2a: Option<i64>,
    a2d: Option<i64>,
    ewma: Option<f64>,
    since: i64,
    /// Samples come from the sender's TSval clock now: the halves no longer feed it.
    by_clock: bool,
    /// (srtt ms, how long it held, ns), capped.
    held: Vec<(f32, i64)>,
}

impl Srtt {
    /// Its history, prefetched (the median reads it).
    pub(super) fn prefetch(&self) {
        crate::prefetch::slice(&self.held);
    }

    /// A new estimator (this one) takes `old`'s buffer, emptied (a recycled connection).
    pub(super) fn take_buffers(&mut self, old: &mut Srtt) {
        std::mem::swap(&mut self.held, &mut old.held);
        recycle_vec(&mut self.held);
    }

    /// A new half measured at `now`; `both` when the connection has timestamps (then one
    /// half alone is no path RTT).
    pub(super) fn update(&mut self, now: i64, d2a: Option<i64>, a2d: Option<i64>, both: bool) {
        if self.by_clock {
            return;
        }
        self.d2a = d2a.or(self.d2a);
        self.a2d = a2d.or(self.a2d);
        let Some(d) = self.d2a else { return };
        if both && self.a2d.is_none() {
            return;
        }
        self.add(now, d.saturating_add(self.a2d.unwrap_or(0)));
    }

    /// A whole path RTT sample (ns) at `now`, from the sender's TSval clock.
    pub(super) fn update_path(&mut self, now: i64, ns: i64) {
        self.by_clock = true;
        self.add(now, ns);
    }

    fn add(&mut self, now: i64, ns: i64) {
        let sample = ns as f64 / 1e6;
        if let Some(v) = self.ewma
            && self.held.len() < MAX_SAMPLES
        {
            self.held
                .push((v as f32, now.saturating_sub(self.since).max(0)));
        }
        self.ewma = Some(self.ewma.map_or(sample, |v| v + (sample - v) / 8.0));
        self.since = now;
    }

    /// Its value now (ns).
    pub(super) fn current_ns(&self) -> Option<i64> {
        self.ewma.map(|v| (v * 1e6) as i64)
    }

    /// Its median over time (ms), up to `end`.
    pub fn median(&self, end: i64) -> Option<f64> {
        let last = (self.ewma? as f32, end.saturating_sub(self.since).max(1));
        // A short connection's few values are sorted on the stack.
        let mut small = [(0f32, 0i64); 16];
        let mut big = Vec::new();
        let v = match self.held.len() {
            n if n < small.len() => {
                small[..n].copy_from_slice(&self.held);
                small[n] = last;
                &mut small[..=n]
            }
            _ => {
                big.extend_from_slice(&self.held);
                big.push(last);
                &mut big[..]
            }
        };
        v.sort_by(|a, b| a.0.total_cmp(&b.0));
        let total = v.iter().fold(0i64, |a, x| a.saturating_add(x.1));
        let mut acc: i64 = 0;
        for (x, w) in v.iter() {
            acc = acc.saturating_add(*w);
            if acc >= total - total / 2 {
                return Some(f64::from(*x));
            }
        }
        v.last().map(|x| f64::from(x.0))
    }
}

/// A timestamp value this flow sent, when it was first seen, and whether an echo of it has
/// already given a sample (only the first data segment echoing it was released by it).
#[derive(Clone, Copy, Debug)]
pub(super) struct TsSeen {
    pub(super) tsval: u32,
    /// The first packet carrying it: when and which frame.
    pub(super) at: i64,
    pub(super) frame: u64,
    /// The highest ACK among the packets carrying it.
    ack: Option<u32>,
    /// One of them reported a hole at its ACK (a duplicate ACK, or SACK blocks above it).
    dup: bool,
    echoed: bool,
}

impl TsSeen {
    /// Did these packets ask for `seq` again (a duplicate ACK or SACK blocks beyond it)?
    pub(super) fn asked_for(&self, seq: u32) -> bool {
        self.dup && self.ack == Some(seq)
    }
}

/// Remember the segment's TSval (for its echo), and when it is new data echoing the peer's
/// TSval, sample the time from that ACK to this data: the sender's side of the capture point.
pub(super) fn track_echo(seg: &mut Segment, fwd: &mut Flow, rev: &mut Flow) {
    let Some((tsval, tsecr)) = seg.ts else {
        return;
    };
    let ack = seg.flags.ack().then_some(seg.ack);
    let dup = seg.ta & af::DUPLICATE_ACK != 0 || seg.sack;
    match fwd.ts_seen.back_mut() {
        Some(t) if t.tsval == tsval => {
            if ack.is_some() {
                t.ack = ack;
            }
            t.dup |= dup;
        }
        _ => {
            if fwd.ts_seen.len() == MAX_TSVALS {
                fwd.ts_seen.pop_front();
            }
            fwd.ts_seen.push_back(TsSeen {
                tsval,
                at: seg.now,
                frame: seg.frame,
                ack,
                dup,
                echoed: false,
            });
        }
    }
    if seg.len == 0 || seg.retransmitted() || tsecr == 0 {
        return;
    }
    // Echoes only move forward: values older than this one will not be echoed again.
    while rev.ts_seen.front().is_some_and(|t| lt(t.tsval, tsecr)) {
        rev.ts_seen.pop_front();
    }
    if let Some(t) = rev.ts_seen.front_mut()
        && t.tsval == tsecr
        && !t.echoed
    {
        t.echoed = true;
        // That ACK had acknowledged everything sent before this segment: the sender was
        // idle, and this data waited for its application, not for the ACK.
        if t.ack == Some(seg.seq) {
            return;
        }
        let ns = elapsed(seg.now, t.at);
        fwd.last_echo_ns = Some(ns);
        fwd.srtt.update(seg.now, None, Some(ns), true);
        seg.info.echo_rtt_ns = Some(ns);
        let ms = ns as f64 / 1e6;
        fwd.echo_rtt.add(ms);
        fwd.echo_samples.add(ms);
    }
}

/// Where the capture point sits on the path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// Next to the client (the SYN sender).
    NearClient,
    NearServer,
    Between,
    Unknown,
}

impl Place {
    pub fn name(self) -> &'static str {
        match self {
            Place::NearClient => "client",
            Place::NearServer => "server",
            Place::Between => "between",
            Place::Unknown => "unknown",
        }
    }
}

/// The vantage point of a connection's capture, with its evidence, and the path RTT.
#[derive(Clone, Debug)]
pub struct Vantage {
    pub place: Place,
    /// The direction that carried most data (the "sender" the words refer to).
    pub data_dir: Dir,
    pub evidence: Evidence,
    /// Median data → ACK at the capture point (ms), for the data direction.
    pub data_to_ack_ms: Option<f64>,
    /// Median ACK → echoing new data at the capture point (ms).
    pub ack_to_data_ms: Option<f64>,
    /// Their sum: the path's round trip (ms).
    pub path_rtt_ms: Option<f64>,
    /// The sender's smoothed RTT (RFC 6298) over time, median (ms).
    pub srtt_ms: Option<f64>,
}

/// Why a connection's capture is placed where it is: `between: SYN→SYN/ACK 3.552 ms, …`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Evidence {
    place: Place,
    data_dir: Dir,
    seen: Seen,
}

/// What the place was told from (ms).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Seen {
    /// The handshake's server side and client side of the capture point.
    Handshake(f64, f64),
    /// The data direction's median data → ACK and ACK → data.
    Medians(f64, f64),
    Nothing,
}

impl Text for Evidence {
    fn write_text(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.place.name().as_bytes());
        out.extend_from_slice(match (self.place, self.data_dir) {
            (Place::NearClient, 0) | (Place::NearServer, 1) => b" (the data sender)",
            (Place::NearClient, _) | (Place::NearServer, _) => b" (the data receiver)",
            _ => b"",
        });
        out.extend_from_slice(b": ");
        let (a, b, [first, second, end]) = match self.seen {
            Seen::Handshake(a, b) => (a, b, ["SYN→SYN/ACK ", " ms, SYN/ACK→ACK ", " ms"]),
            Seen::Medians(a, b) => (
                a,
                b,
                [
                    "median data→ACK ",
                    " ms, ACK→data ",
                    " ms (no handshake captured)",
                ],
            ),
            Seen::Nothing => {
                out.extend_from_slice(
                    b"no handshake and no timestamp echoes to tell the two sides of the path apart",
                );
                return;
            }
        };
        out.extend_from_slice(first.as_bytes());
        cells::decimal(out, a, 3);
        out.extend_from_slice(second.as_bytes());
        cells::decimal(out, b, 3);
        out.extend_from_slice(end.as_bytes());
    }
}

cells::text_display!(Evidence);

impl Conn {
    /// The handshake's two sides of the capture point (server's, client's; ns): matched by
    /// timestamp echoes when it carried them (a SYN sent twice — its timer fired as the
    /// SYN/ACK arrived — would otherwise time the second SYN against an answer to the first),
    /// else from the most recent SYN, the first SYN/ACK after it and the ACK.
    fn handshake_split(&self) -> Option<(i64, i64)> {
        if let Some(split) = self.hs_split {
            return Some(split);
        }
        let (irtt, s2sa) = (self.irtt_ns?, self.syn_to_synack_ns?);
        Some((s2sa.max(0), irtt.saturating_sub(s2sa).max(0)))
    }

    /// Where the handshake says the capture was taken (`None` before it completes, or
    /// without one).
    pub(super) fn handshake_place(&self) -> Option<Place> {
        let (server_side, client_side) = self.handshake_split()?;
        Some(split_place(
            client_side as f64,
            server_side as f64,
            Place::NearClient,
            Place::NearServer,
        ))
    }

    /// The sender's side of the capture point for a segment sent in direction `dir` and for
    /// its peer, from the handshake (ns; none without one).
    pub(super) fn sender_halves(&self, dir: Dir) -> Option<[i64; 2]> {
        let (server_side, client_side) = self.handshake_split()?;
        Some(if dir == 0 {
            [client_side, server_side]
        } else {
            [server_side, client_side]
        })
    }

    /// Where the capture was taken and the path's round trip (see [`VantageFacts::vantage`]).
    pub fn vantage(&self) -> Vantage {
        self.vantage_facts().vantage()
    }

    /// The measurements the vantage is decided from: all a finished connection's row keeps.
    pub fn vantage_facts(&self) -> VantageFacts {
        let data_dir = usize::from(self.flows[1].unique_bytes > self.flows[0].unique_bytes);
        let f = &self.flows[data_dir];
        // Without ACK → data samples (no timestamps, or all data sent after a pause or a
        // closed window), the handshake gives the sender's side.
        let a2d = f
            .echo_samples
            .median()
            .or_else(|| self.sender_halves(data_dir).map(|h| h[0] as f64 / 1e6));
        VantageFacts {
            data_dir: data_dir as u8,
            split: self.handshake_split(),
            d2a: f.rtt_samples.median(),
            a2d,
            srtt_ms: f.srtt.median(self.last_ts),
        }
    }
}

/// What a connection's vantage is decided from (medians in ms, the handshake split in ns).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VantageFacts {
    pub data_dir: u8,
    /// The handshake's server side and client side of the capture point (ns).
    pub split: Option<(i64, i64)>,
    pub d2a: Option<f64>,
    pub a2d: Option<f64>,
    pub srtt_ms: Option<f64>,
}

impl VantageFacts {
    /// Decide where the capture was taken: from the handshake's split when it was captured,
    /// else from the data direction's two halves of the round trip.
    pub fn vantage(&self) -> Vantage {
        let data_dir = usize::from(self.data_dir);
        let (d2a, a2d) = (self.d2a, self.a2d);
        let path = match (d2a, a2d) {
            (Some(a), Some(b)) => Some(a + b),
            _ => None,
        };
        let (place, seen) = if let Some((server_side, client_side)) = self.split {
            let (server_side, client_side) = (server_side as f64 / 1e6, client_side as f64 / 1e6);
            let place = split_place(
                client_side,
                server_side,
                Place::NearClient,
                Place::NearServer,
            );
            (place, Seen::Handshake(server_side, client_side))
        } else if let (Some(d), Some(e)) = (d2a, a2d) {
            // Data → ACK is the receiver's side, ACK → data the sender's.
            let (near_sender, near_receiver) = if data_dir == 0 {
                (Place::NearClient, Place::NearServer)
            } else {
                (Place::NearServer, Place::NearClient)
            };
            (
                split_place(e, d, near_sender, near_receiver),
                Seen::Medians(d, e),
            )
        } else {
            (Place::Unknown, Seen::Nothing)
        };
        Vantage {
            place,
            data_dir,
            evidence: Evidence {
                place,
                data_dir,
                seen,
            },
            data_to_ack_ms: d2a,
            ack_to_data_ms: a2d,
            path_rtt_ms: path,
            srtt_ms: self.srtt_ms,
        }
    }
}

/// `near_a` when side a holds at most NEAR_SHARE of the round trip, `near_b` likewise, else
/// between (or unknown when the round trip is too short to split).
fn split_place(a: f64, b: f64, near_a: Place, near_b: Place) -> Place {
    let total = a + b;
    if total <= 0.0 {
        return Place::Unknown;
    }
    if a <= NEAR_SHARE * total {
        near_a
    } else if b <= NEAR_SHARE * total {
        near_b
    } else {
        Place::Between
    }
}
