//! The sliding-window transfers of `sender`/`receiver` (`netproto::segment` over UDP) in a
//! capture, for `graph --kind sw`: each DATA at its time and absolute segment number, whether it
//! was sent before, and the ACK line (the next segment the receiver expects).
//!
//! [`Extractor`] is pure: it takes decoded datagrams ([`Datagram`]) one at a time and owns no
//! input; [`read`] feeds it from a capture file with [`input::for_each_record`] and `netproto::frame`.
//!
//! The 8-bit wire numbers are unwrapped with the engines' own rule, `netproto::segment::seq`:
//! each number is placed at the absolute index nearest (within −128..=127) to the highest
//! index seen so far in the same transfer. Sender and receiver never let two live numbers lie
//! more than 7 apart, so this is exact for any capture that has at least one segment in every
//! 128 (a capture that misses more in a row cannot tell the wraps apart, like the engines).

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;

use netproto::segment::{Repr, seq};

use crate::input::{self, Flow};

/// One UDP datagram of the capture, as the extractor needs it.
#[derive(Clone, Copy, Debug)]
pub struct Datagram<'a> {
    /// Frame number in the capture (1-based).
    pub frame: u64,
    /// Capture time, nanoseconds since the epoch.
    pub ts_ns: i64,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    /// The UDP payload.
    pub payload: &'a [u8],
}

/// A DATA segment on the graph.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DataPoint {
    pub frame: u64,
    /// Seconds since the transfer's first segment.
    pub t: f64,
    /// Absolute segment number (0 = the first segment of the file).
    pub seg: u64,
    /// This number was sent before in the capture.
    pub retransmission: bool,
    /// Payload bytes.
    pub len: u16,
    /// The sender's window (WIN field).
    pub win: u8,
}

/// An ACK on the graph.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AckPoint {
    pub frame: u64,
    /// Seconds since the transfer's first segment.
    pub t: f64,
    /// Absolute number of the next segment the receiver expects.
    pub next: u64,
    /// The receiver's window (WIN field).
    pub win: u8,
}

/// One transfer: the segments between one sender socket and one receiver socket.
#[derive(Clone, Debug)]
pub struct Transfer {
    /// Source of the DATA segments (destination of the ACKs).
    pub sender: SocketAddr,
    /// Destination of the DATA segments (source of the ACKs).
    pub receiver: SocketAddr,
    pub data: Vec<DataPoint>,
    pub acks: Vec<AckPoint>,
    /// Segments whose number would lie before segment 0 (a capture that starts in the middle
    /// of a transfer and then sees a stray older number): counted, not drawn.
    pub unplaced: u64,
    t0: i64,
    highest: Option<u64>,
    sent: HashSet<u64>,
}

/// What a transfer amounts to: the counts `graph --kind sw` prints.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    /// DATA segments in the capture, retransmissions included.
    pub data: u64,
    /// DATA segments whose number was sent before.
    pub retransmitted: u64,
    pub acks: u64,
    /// Distinct segment numbers sent.
    pub segments: u64,
    /// Seconds from the first to the last segment.
    pub duration: f64,
}

impl std::fmt::Display for Summary {
    /// The line `scripts/gen-lab-docs` printed for its graphs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} DATA segments ({} retransmitted), {} ACKs, {:.2} s",
            self.data, self.retransmitted, self.acks, self.duration
        )
    }
}

impl Transfer {
    fn new(sender: SocketAddr, receiver: SocketAddr, t0: i64) -> Transfer {
        Transfer {
            sender,
            receiver,
            data: Vec::new(),
            acks: Vec::new(),
            unplaced: 0,
            t0,
            highest: None,
            sent: HashSet::new(),
        }
    }

    /// The absolute number of wire number `s`, nearest to the highest number seen so far.
    fn unwrap(&mut self, s: u8) -> Option<u64> {
        let abs = match self.highest {
            None => u64::from(s),
            Some(h) => seq::absolute(s, h)?,
        };
        if self.highest.is_none_or(|h| abs > h) {
            self.highest = Some(abs);
        }
        Some(abs)
    }

    pub fn summary(&self) -> Summary {
        let last = self
            .data
            .iter()
            .map(|d| d.t)
            .chain(self.acks.iter().map(|a| a.t))
            .fold(0.0, f64::max);
        Summary {
            data: self.data.len() as u64,
            retransmitted: self.data.iter().filter(|d| d.retransmission).count() as u64,
            acks: self.acks.len() as u64,
            segments: self.sent.len() as u64,
            duration: last,
        }
    }
}

/// Datagrams that were not drawn, for the error message of an empty result.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Skipped {
    /// UDP datagrams on another port than `--port`.
    pub other_port: u64,
    /// UDP payloads that do not parse as a segment.
    pub not_segment: u64,
}

/// Groups segments into transfers, in order of their first segment, and unwraps their numbers.
#[derive(Debug, Default)]
pub struct Extractor {
    port: Option<u16>,
    transfers: Vec<Transfer>,
    index: HashMap<(SocketAddr, SocketAddr), usize>,
    pub skipped: Skipped,
}

impl Extractor {
    /// Keep only datagrams from or to `port`, when given.
    pub fn new(port: Option<u16>) -> Extractor {
        Extractor {
            port,
            ..Extractor::default()
        }
    }

    /// Take one datagram; anything that is not a segment is counted and ignored.
    pub fn push(&mut self, d: &Datagram<'_>) {
        if self
            .port
            .is_some_and(|p| d.src.port() != p && d.dst.port() != p)
        {
            self.skipped.other_port += 1;
            return;
        }
        let Ok(r) = Repr::parse_bytes(d.payload) else {
            self.skipped.not_segment += 1;
            return;
        };
        let (sender, receiver) = match r {
            Repr::Data { .. } => (d.src, d.dst),
            Repr::Ack { .. } => (d.dst, d.src),
        };
        let i = *self.index.entry((sender, receiver)).or_insert_with(|| {
            self.transfers
                .push(Transfer::new(sender, receiver, d.ts_ns));
            self.transfers.len() - 1
        });
        let tr = &mut self.transfers[i];
        let t = d.ts_ns.saturating_sub(tr.t0) as f64 / 1e9;
        let Some(n) = tr.unwrap(r.seq()) else {
            tr.unplaced += 1;
            return;
        };
        match r {
            Repr::Data { win, payload, .. } => {
                let retransmission = !tr.sent.insert(n);
                tr.data.push(DataPoint {
                    frame: d.frame,
                    t,
                    seg: n,
                    retransmission,
                    // A parsed DATA payload is at most 512 bytes.
                    len: payload.len() as u16,
                    win,
                });
            }
            Repr::Ack { win, .. } => tr.acks.push(AckPoint {
                frame: d.frame,
                t,
                next: n,
                win,
            }),
        }
    }

    /// The transfers, in order of their first segment.
    pub fn finish(self) -> (Vec<Transfer>, Skipped) {
        (self.transfers, self.skipped)
    }
}

/// Frames of the capture that are not UDP, and the file's damage if any.
#[derive(Clone, Debug, Default)]
pub struct ReadStats {
    pub frames: u64,
    pub not_udp: u64,
    /// The file is damaged after `frames` frames (the transfers cover those).
    pub damage: Option<String>,
}

/// Read `path` (`-` = stdin) and extract its transfers.
pub fn read(path: &str, port: Option<u16>) -> anyhow::Result<(Vec<Transfer>, Skipped, ReadStats)> {
    let mut ex = Extractor::new(port);
    let mut st = ReadStats::default();
    st.damage = input::for_each_record(path, |_, rec| {
        st.frames += 1;
        let udp = rec.decode().ok().and_then(|f| f.udp());
        let Some(u) = udp else {
            st.not_udp += 1;
            return Ok(Flow::Continue);
        };
        ex.push(&Datagram {
            frame: st.frames,
            ts_ns: rec.ts.sec.saturating_mul(1_000_000_000) + i64::from(rec.ts.nsec),
            src: SocketAddr::new(u.src, u.sport),
            dst: SocketAddr::new(u.dst, u.dport),
            payload: u.payload,
        });
        Ok(Flow::Continue)
    })?;
    let (transfers, skipped) = ex.finish();
    Ok((transfers, skipped, st))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SND: &str = "10.0.0.1:40000";
    const RCV: &str = "10.0.0.2:6000";

    fn data(seq: u8, len: usize) -> Vec<u8> {
        let payload = vec![0xab; len];
        let mut b = vec![0; 4 + len];
        Repr::Data {
            seq,
            win: 4,
            payload: &payload,
        }
        .emit(&mut b)
        .unwrap();
        b
    }

    fn ack(seq: u8) -> Vec<u8> {
        let mut b = vec![0; 4];
        Repr::Ack { seq, win: 3 }.emit(&mut b).unwrap();
        b
    }

    /// Feed (ms, from the sender?, payload) datagrams between SND and RCV.
    fn run(ex: &mut Extractor, dgrams: &[(i64, bool, Vec<u8>)]) {
        let (s, r) = (SND.parse().unwrap(), RCV.parse().unwrap());
        for (i, (ms, from_sender, p)) in dgrams.iter().enumerate() {
            let (src, dst) = if *from_sender { (s, r) } else { (r, s) };
            ex.push(&Datagram {
                frame: i as u64 + 1,
                ts_ns: 1_700_000_000_000_000_000 + ms * 1_000_000,
                src,
                dst,
                payload: p,
            });
        }
    }

    #[test]
    fn a_retransmission_and_the_ack_line() {
        let mut ex = Extractor::new(None);
        run(
            &mut ex,
            &[
                (0, true, data(0, 512)),
                (1, true, data(1, 512)),
                (10, false, ack(1)),
                // Segment 1 was lost: its timer fires and it goes again, then the last one.
                (500, true, data(1, 512)),
                (510, false, ack(2)),
                (511, true, data(2, 10)),
                (520, false, ack(3)),
            ],
        );
        let (tr, skipped) = ex.finish();
        assert_eq!(skipped, Skipped::default());
        assert_eq!(tr.len(), 1);
        let t = &tr[0];
        assert_eq!(t.sender.to_string(), SND);
        assert_eq!(t.receiver.to_string(), RCV);
        let segs: Vec<(u64, bool)> = t.data.iter().map(|d| (d.seg, d.retransmission)).collect();
        assert_eq!(segs, [(0, false), (1, false), (1, true), (2, false)]);
        assert_eq!(t.data[3].len, 10);
        assert_eq!(t.data[2].frame, 4);
        assert!((t.data[2].t - 0.5).abs() < 1e-9);
        let acks: Vec<(u64, u8)> = t.acks.iter().map(|a| (a.next, a.win)).collect();
        assert_eq!(acks, [(1, 3), (2, 3), (3, 3)]);
        let s = t.summary();
        assert_eq!((s.data, s.retransmitted, s.acks, s.segments), (4, 1, 3, 3));
        assert_eq!(
            s.to_string(),
            "4 DATA segments (1 retransmitted), 3 ACKs, 0.52 s"
        );
    }

    #[test]
    fn numbers_unwrap_past_255() {
        // 600 segments: wire numbers wrap twice; each ACK follows its DATA.
        let mut d = Vec::new();
        for n in 0u64..600 {
            d.push((n as i64, true, data(seq::wire(n), 512)));
            d.push((n as i64, false, ack(seq::wire(n + 1))));
        }
        // Wire number 255 now means 511 (nearest to 600), and 254 means 510: both resent.
        d.push((600, true, data(255, 512)));
        d.push((601, true, data(254, 512)));
        let mut ex = Extractor::new(None);
        run(&mut ex, &d);
        let (tr, _) = ex.finish();
        let t = &tr[0];
        let segs: Vec<u64> = t.data.iter().map(|p| p.seg).collect();
        assert_eq!(&segs[..600], (0..600).collect::<Vec<_>>().as_slice());
        assert_eq!(segs[600..], [511, 510]);
        assert!(t.data[600].retransmission && t.data[601].retransmission);
        assert_eq!(t.acks.last().unwrap().next, 600);
        assert_eq!(t.acks[255].next, 256);
        let s = t.summary();
        assert_eq!(
            (s.data, s.retransmitted, s.acks, s.segments),
            (602, 2, 600, 600)
        );
    }

    #[test]
    fn a_retransmission_across_the_wrap() {
        // 254, 255, 0 (=256), 1 (=257) sent; 255 lost and resent after 257.
        let mut d = Vec::new();
        for n in 0u64..258 {
            d.push((n as i64, true, data(seq::wire(n), 512)));
        }
        d.push((300, false, ack(255)));
        d.push((400, true, data(255, 512)));
        d.push((410, false, ack(2)));
        let mut ex = Extractor::new(None);
        run(&mut ex, &d);
        let (tr, _) = ex.finish();
        let t = &tr[0];
        let last = t.data.last().unwrap();
        assert_eq!((last.seg, last.retransmission), (255, true));
        let acks: Vec<u64> = t.acks.iter().map(|a| a.next).collect();
        assert_eq!(acks, [255, 258]);
        assert_eq!(t.summary().retransmitted, 1);
    }

    #[test]
    fn port_filter_garbage_and_two_transfers() {
        let a: SocketAddr = "10.0.0.1:40000".parse().unwrap();
        let b: SocketAddr = "10.0.0.2:6000".parse().unwrap();
        let c: SocketAddr = "10.0.0.3:41000".parse().unwrap();
        let dns: SocketAddr = "10.0.0.9:53".parse().unwrap();
        let mut ex = Extractor::new(Some(6000));
        let d0 = data(0, 512);
        let junk = [0xffu8; 7];
        let dg = |frame, src, dst, payload| Datagram {
            frame,
            ts_ns: frame as i64 * 1_000_000,
            src,
            dst,
            payload,
        };
        ex.push(&dg(1, a, b, &d0));
        ex.push(&dg(2, a, dns, &d0)); // another port
        ex.push(&dg(3, b, a, &junk)); // not a segment
        ex.push(&dg(4, c, b, &d0)); // a second sender
        ex.push(&dg(5, b, c, &ack(1)));
        let (tr, skipped) = ex.finish();
        assert_eq!(
            skipped,
            Skipped {
                other_port: 1,
                not_segment: 1
            }
        );
        assert_eq!(tr.len(), 2);
        assert_eq!((tr[0].sender, tr[0].data.len()), (a, 1));
        assert_eq!(
            (tr[1].sender, tr[1].data.len(), tr[1].acks.len()),
            (c, 1, 1)
        );
        // Each transfer's time starts at its own first segment.
        assert_eq!(tr[1].data[0].t, 0.0);
        assert!((tr[1].acks[0].t - 0.001).abs() < 1e-9);
    }

    #[test]
    fn a_number_before_segment_zero_is_not_placed() {
        let mut ex = Extractor::new(None);
        // The capture starts at segment 2; then a copy of "200" — 58 before 2.
        run(
            &mut ex,
            &[(0, true, data(2, 512)), (1, true, data(200, 512))],
        );
        let (tr, _) = ex.finish();
        assert_eq!((tr[0].data.len(), tr[0].unplaced), (1, 1));
    }
}
