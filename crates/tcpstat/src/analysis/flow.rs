//! One direction of a connection: Wireshark's `tcp_flow_t` (sequence state, unacknowledged
//! segments, duplicate-ACK run) plus tcpstat's statistics.

use std::collections::VecDeque;

use super::cwnd::CwndTracker;
use super::options::SynOptions;
use super::vantage::{Samples, Srtt, TsSeen};
use super::{gt, le, lt, recycle_deque, recycle_vec};

#[derive(Clone, Copy, Debug)]
pub(super) struct Unacked {
    pub(super) frame: u64,
    pub(super) seq: u32,
    pub(super) nextseq: u32,
    pub(super) ts: i64,
    /// Its TSval (the sender's clock dates it).
    pub(super) tsval: Option<u32>,
    /// Karn: this range was sent more than once, its RTT sample is ambiguous.
    pub(super) ambiguous: bool,
}

/// Running min/avg/max.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Stat {
    pub n: u64,
    pub sum: f64,
    pub min: f64,
    pub max: f64,
}

impl Stat {
    pub fn add(&mut self, x: f64) {
        if self.n == 0 || x < self.min {
            self.min = x;
        }
        if self.n == 0 || x > self.max {
            self.max = x;
        }
        self.n += 1;
        self.sum += x;
    }
    pub fn avg(&self) -> Option<f64> {
        (self.n > 0).then(|| self.sum / self.n as f64)
    }
}

/// One direction of a connection (Wireshark's `tcp_flow_t` plus our statistics).
#[derive(Clone, Debug)]
pub struct Flow {
    pub base_seq: u32,
    pub base_set: bool,
    /// -1 unknown (no SYN seen), -2 no scaling, else the shift count.
    pub win_scale: i8,
    /// Last raw window advertised.
    pub window: u32,
    /// Last window advertised, in bytes (a SYN's window is never scaled).
    pub win_bytes: Option<u64>,
    pub nextseq: u32,
    pub nextseqframe: u64,
    pub nextseqtime: i64,
    pub maxseqtobeacked: u32,
    pub lastack: u32,
    pub lastacktime: i64,
    /// When this side's ACK last advanced (the peer's retransmission timer restarts there).
    pub(super) last_advance_at: Option<i64>,
    pub lastnondupack: u64,
    pub dupacknum: u32,
    pub(super) lastsegmentflags: u32,
    /// Unacknowledged segments sorted by sequence number (an ACK only touches a prefix).
    pub(super) segments: VecDeque<Unacked>,
    /// Highest `nextseq` among `segments` (never lowered while the list is not empty).
    pub(super) max_nextseq: u32,
    pub(super) scratch: Vec<Unacked>,
    pub(super) valid_bif: bool,
    /// Frames of the current run of duplicate ACKs (capped), for the fast-retransmit reason.
    pub(super) dupack_frames: Vec<u64>,

    pub isn: Option<u32>,
    pub syn_opts: Option<SynOptions>,
    pub syn_frame: Option<u64>,
    pub fin_frame: Option<u64>,
    /// Sequence number of the first FIN (its own byte).
    pub fin_seq: Option<u32>,
    pub rst_frame: Option<u64>,
    pub saw_pure_syn: bool,
    pub saw_synack: bool,
    pub packets: u64,
    pub bytes: u64,
    pub payload_bytes: u64,
    /// Bytes that advanced the sequence space (each byte counted once).
    pub unique_bytes: u64,
    pub first_data_ts: Option<i64>,
    pub last_data_ts: Option<i64>,
    pub retrans: u64,
    pub fast: u64,
    pub timeout: u64,
    pub spurious: u64,
    /// Tail-loss probes among the retransmissions.
    pub probes: u64,
    /// `lastack` when the last probe was sent (one probe per ACK that advances).
    pub(super) probe_una: Option<u32>,
    pub dupacks: u64,
    pub ooo: u64,
    pub lost: u64,
    pub zero_windows: u64,
    pub rst_oow: u64,
    pub truncated: u64,
    /// RTT of this direction's data, measured by the ACKs coming back (Karn's rule).
    pub rtt: Stat,
    /// As a receiver: ACKs this side sent that acknowledged new data, and how many of them
    /// covered two or more segments / one segment only.
    pub acks_new: u64,
    pub acks_multi: u64,
    pub acks_single: u64,
    /// Data segments this side received (from the other side).
    pub data_segs_rcvd: u64,
    /// Largest payload seen in this direction.
    pub max_seg: u32,
    /// Highest ack this side has sent (to measure what each ACK covers).
    pub high_ack: Option<u32>,
    /// Frames whose data arrived but were not yet acknowledged by this side: (frame, ts, end seq).
    pub(super) pending_rcv: VecDeque<(u64, i64, u32)>,
    /// Delay between the first unacknowledged data segment and a single-segment ACK.
    pub single_ack_delay: Stat,
    /// The Karn RTT samples of `rtt` (data → ACK at the capture point), for the median.
    pub rtt_samples: Samples,
    /// ACK from the peer → this side's next new data echoing it (the sender's side of the
    /// capture point), and its samples.
    pub echo_rtt: Stat,
    pub echo_samples: Samples,
    /// The latest ACK → data sample (ns): the sender's side now, queues included.
    pub(super) last_echo_ns: Option<i64>,
    /// This side's timestamp values awaiting their echo.
    pub(super) ts_seen: VecDeque<TsSeen>,
    /// After a timeout retransmission: the sequence number recovery lasts until.
    pub(super) rto_recovery_until: Option<u32>,
    /// TSval of the segment that set `nextseq` (the newest data sent so far).
    pub(super) nextseq_tsval: Option<u32>,
    /// This side's congestion window as a sender, inferred.
    pub cwnd: CwndTracker,
    /// This side's smoothed RTT as a sender would compute it.
    pub srtt: Srtt,
}

impl Default for Flow {
    fn default() -> Self {
        Flow {
            base_seq: 0,
            base_set: false,
            win_scale: -1,
            window: u32::MAX,
            win_bytes: None,
            nextseq: 0,
            nextseqframe: 0,
            nextseqtime: 0,
            maxseqtobeacked: 0,
            lastack: 0,
            lastacktime: 0,
            last_advance_at: None,
            lastnondupack: 0,
            dupacknum: 0,
            lastsegmentflags: 0,
            segments: VecDeque::new(),
            max_nextseq: 0,
            scratch: Vec::new(),
            valid_bif: true,
            dupack_frames: Vec::new(),
            isn: None,
            syn_opts: None,
            syn_frame: None,
            fin_frame: None,
            fin_seq: None,
            rst_frame: None,
            saw_pure_syn: false,
            saw_synack: false,
            packets: 0,
            bytes: 0,
            payload_bytes: 0,
            unique_bytes: 0,
            first_data_ts: None,
            last_data_ts: None,
            retrans: 0,
            fast: 0,
            timeout: 0,
            spurious: 0,
            probes: 0,
            probe_una: None,
            dupacks: 0,
            ooo: 0,
            lost: 0,
            zero_windows: 0,
            rst_oow: 0,
            truncated: 0,
            rtt: Stat::default(),
            acks_new: 0,
            acks_multi: 0,
            acks_single: 0,
            data_segs_rcvd: 0,
            max_seg: 0,
            high_ack: None,
            pending_rcv: VecDeque::new(),
            single_ack_delay: Stat::default(),
            rtt_samples: Samples::default(),
            echo_rtt: Stat::default(),
            echo_samples: Samples::default(),
            last_echo_ns: None,
            ts_seen: VecDeque::new(),
            rto_recovery_until: None,
            nextseq_tsval: None,
            cwnd: CwndTracker::default(),
            srtt: Srtt::default(),
        }
    }
}

impl Flow {
    /// As new, its buffers' allocations kept: a connection freed and another opened cost no
    /// allocation (a capture of short connections opens one every six packets).
    pub(super) fn recycle(&mut self) {
        // A fresh flow takes this one's buffers, emptied, and replaces it: the plain fields
        // are written once (building the new flow around buffers taken out of this one
        // copied its 1.3 KB three times over).
        let mut fresh = Flow::default();
        std::mem::swap(&mut fresh.segments, &mut self.segments);
        std::mem::swap(&mut fresh.scratch, &mut self.scratch);
        std::mem::swap(&mut fresh.dupack_frames, &mut self.dupack_frames);
        std::mem::swap(&mut fresh.pending_rcv, &mut self.pending_rcv);
        std::mem::swap(&mut fresh.ts_seen, &mut self.ts_seen);
        std::mem::swap(&mut fresh.rtt_samples, &mut self.rtt_samples);
        std::mem::swap(&mut fresh.echo_samples, &mut self.echo_samples);
        recycle_deque(&mut fresh.segments);
        recycle_vec(&mut fresh.scratch);
        recycle_vec(&mut fresh.dupack_frames);
        recycle_deque(&mut fresh.pending_rcv);
        recycle_deque(&mut fresh.ts_seen);
        fresh.rtt_samples.recycle();
        fresh.echo_samples.recycle();
        fresh.cwnd.take_buffers(&mut self.cwnd);
        fresh.srtt.take_buffers(&mut self.srtt);
        *self = fresh;
    }

    /// The buffers a row reads (the ACKs still on their way, the RTT samples), prefetched.
    pub(super) fn prefetch_buffers(&self) {
        self.cwnd.prefetch_pending();
        self.rtt_samples.prefetch();
        self.echo_samples.prefetch();
        self.srtt.prefetch();
    }

    /// Add an unacknowledged segment, keeping the list sorted by sequence number.
    pub(super) fn insert(&mut self, u: Unacked) {
        if self.segments.is_empty() || gt(u.nextseq, self.max_nextseq) {
            self.max_nextseq = u.nextseq;
        }
        match self.segments.back() {
            Some(b) if lt(u.seq, b.seq) => {
                let pos = self.segments.partition_point(|e| le(e.seq, u.seq));
                self.segments.insert(pos, u);
            }
            _ => self.segments.push_back(u),
        }
    }
    /// True while this direction has data or SYN/FIN not yet acknowledged.
    pub fn has_unacked(&self) -> bool {
        !self.segments.is_empty()
    }
    /// The shift to apply to this direction's window field (RFC 7323: only when both SYNs
    /// carried the option).
    pub fn shift(&self) -> u32 {
        if self.win_scale >= 0 {
            self.win_scale as u32
        } else {
            0
        }
    }
    /// Number of unacknowledged segments held (for memory accounting and tests).
    #[cfg(test)]
    pub fn outstanding(&self) -> usize {
        self.segments.len() + self.pending_rcv.len()
    }
}
