//! The analysis engine: connection tracking numbered like tshark's `tcp.stream`, Wireshark's
//! per-segment TCP analysis (same rules, same order), and what Wireshark leaves implicit:
//! fast-vs-timeout classification, Karn RTT, delayed-ACK evidence, out-of-window RSTs.
//!
//! Input is one [`TcpSample`] at a time (a decoded TCP segment); output is a [`PacketInfo`].
//! Memory is bounded by the open connections and their unacknowledged segments: a finished
//! connection keeps only its summary counters.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::net::SocketAddr;

/// The TCP flag bits the analysis tests, as the `u8` of [`TcpSample::flags`] (netproto's
/// `TcpFlags` defines them).
pub mod th {
    use netproto::frame::TcpFlags;
    pub const FIN: u8 = TcpFlags::FIN as u8;
    pub const SYN: u8 = TcpFlags::SYN as u8;
    pub const RST: u8 = TcpFlags::RST as u8;
    pub const ACK: u8 = TcpFlags::ACK as u8;
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

    /// The names of the bits set in `flags`, in order.
    pub fn names(flags: u32) -> impl Iterator<Item = &'static str> {
        NAMES
            .iter()
            .filter(move |(b, _)| flags & b != 0)
            .map(|(_, n)| *n)
    }
}

/// Wireshark keeps at most this many unacknowledged segments per direction.
const MAX_UNACKED: usize = 10_000;

/// The TCP options tcpstat cares about.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpOptions {
    pub mss: Option<u16>,
    pub wscale: Option<u8>,
    pub sack_perm: bool,
    /// (TSval, TSecr)
    pub timestamps: Option<(u32, u32)>,
    /// SACK blocks (left, right), `sack_n` of them valid.
    pub sack: [(u32, u32); 4],
    pub sack_n: u8,
}

impl TcpOptions {
    /// Short text like Wireshark's Info column: `MSS=1460 SACK_PERM TSval=.. WS=4`.
    pub fn describe(&self) -> String {
        let mut v = Vec::new();
        if let Some(m) = self.mss {
            v.push(format!("MSS={m}"));
        }
        if self.sack_perm {
            v.push("SACK_PERM".into());
        }
        if let Some((a, b)) = self.timestamps {
            v.push(format!("TSval={a} TSecr={b}"));
        }
        if let Some(w) = self.wscale {
            v.push(format!("WS={}", 1u32 << w.min(14)));
        }
        for (l, r) in &self.sack[..self.sack_n as usize] {
            v.push(format!("SACK={l}-{r}"));
        }
        v.join(" ")
    }

    pub fn json(self) -> serde_json::Value {
        serde_json::json!({
            "mss": self.mss,
            "wscale": self.wscale,
            "sack_perm": self.sack_perm,
            "timestamps": self.timestamps.is_some(),
        })
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
    pub flags: u8,
    /// Raw (unscaled) window field.
    pub win: u16,
    pub opts: TcpOptions,
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
    Spurious,
}

impl RetransKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RetransKind::Fast => "fast",
            RetransKind::Timeout => "timeout",
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
}

#[derive(Clone, Copy, Debug)]
struct Unacked {
    frame: u64,
    seq: u32,
    nextseq: u32,
    ts: i64,
    /// Karn: this range was sent more than once, its RTT sample is ambiguous.
    ambiguous: bool,
}

/// Running min/avg/max.
#[derive(Clone, Copy, Debug, Default)]
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
    pub lastnondupack: u64,
    pub dupacknum: u32,
    lastsegmentflags: u32,
    /// Unacknowledged segments sorted by sequence number (an ACK only touches a prefix).
    segments: VecDeque<Unacked>,
    /// Highest `nextseq` among `segments` (never lowered while the list is not empty).
    max_nextseq: u32,
    scratch: Vec<Unacked>,
    valid_bif: bool,
    /// Frames of the current run of duplicate ACKs (capped), for the fast-retransmit reason.
    dupack_frames: Vec<u64>,

    pub isn: Option<u32>,
    pub syn_opts: Option<TcpOptions>,
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
    pending_rcv: VecDeque<(u64, i64, u32)>,
    /// Delay between the first unacknowledged data segment and a single-segment ACK.
    pub single_ack_delay: Stat,
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
        }
    }
}

impl Flow {
    /// Add an unacknowledged segment, keeping the list sorted by sequence number.
    fn insert(&mut self, u: Unacked) {
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

/// One TCP connection (a tshark `tcp.stream`).
#[derive(Clone, Debug)]
pub struct Conn {
    pub id: u32,
    /// The SYN sender, else the first sender.
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub first_ts: i64,
    pub last_ts: i64,
    pub first_frame: u64,
    pub last_frame: u64,
    pub flows: [Flow; 2],
    ts_mru_syn: Option<i64>,
    /// Handshake RTT (SYN to the ACK that completes the handshake), Wireshark's iRTT.
    pub irtt_ns: Option<i64>,
    /// Which side sent the first FIN and the first RST.
    pub first_fin: Option<Dir>,
    pub first_rst: Option<Dir>,
    /// Longest silence between two packets of this connection (ns, frame after it).
    pub max_idle: (i64, u64),
}

impl Conn {
    fn new(id: u32, client: SocketAddr, server: SocketAddr, s: &TcpSample) -> Conn {
        Conn {
            id,
            client,
            server,
            first_ts: s.ts_ns,
            last_ts: s.ts_ns,
            first_frame: s.frame,
            last_frame: s.frame,
            flows: [Flow::default(), Flow::default()],
            ts_mru_syn: None,
            irtt_ns: None,
            first_fin: None,
            first_rst: None,
            max_idle: (0, 0),
        }
    }

    /// Zeek's `conn_state` code and our plain words.
    pub fn state(&self) -> (&'static str, String) {
        let c = &self.flows[0];
        let s = &self.flows[1];
        let syn = c.saw_pure_syn;
        let synack = s.saw_synack;
        let who = |d: Dir| if d == 0 { "client" } else { "server" };
        if !syn && !synack {
            return ("OTH", "midstream: no SYN seen".into());
        }
        if syn && !synack {
            if s.rst_frame.is_some() {
                return ("REJ", "refused (RST from server)".into());
            }
            if c.rst_frame.is_some() {
                return ("RSTOS0", "client sent SYN then RST, never answered".into());
            }
            if c.fin_frame.is_some() {
                return ("SH", "client sent SYN then FIN, never answered".into());
            }
            if s.packets > 0 {
                return ("OTH", "SYN answered without SYN-ACK".into());
            }
            return ("S0", "never answered (no SYN-ACK)".into());
        }
        if !syn && synack {
            if s.rst_frame.is_some() {
                return (
                    "RSTRH",
                    "server SYN-ACK then RST, client SYN not seen".into(),
                );
            }
            if s.fin_frame.is_some() {
                return ("SHR", "server SYN-ACK then FIN, client SYN not seen".into());
            }
            return ("OTH", "SYN-ACK seen without the SYN".into());
        }
        if let Some(d) = self.first_rst {
            let code = if d == 0 { "RSTO" } else { "RSTR" };
            let mut words = format!("aborted by RST from {}", who(d));
            if let Some(f) = self.first_fin {
                words = format!(
                    "closed by FIN from {} first, then RST from {}",
                    who(f),
                    who(d)
                );
            }
            return (code, words);
        }
        match (c.fin_frame.is_some(), s.fin_frame.is_some()) {
            (true, true) => {
                let f = self.first_fin.unwrap_or(0);
                ("SF", format!("closed by FIN from {} first", who(f)))
            }
            (true, false) => ("S2", "half-closed by client (no FIN from server)".into()),
            (false, true) => ("S3", "half-closed by server (no FIN from client)".into()),
            (false, false) => ("S1", "established, still open at end of capture".into()),
        }
    }

    pub fn is_finished(&self) -> bool {
        self.first_rst.is_some()
            || (self.flows[0].fin_frame.is_some() && self.flows[1].fin_frame.is_some())
    }
}

/// FxHash-style hasher: the connection table is probed once per packet, SipHash costs more
/// than the rest of the lookup.
#[derive(Default, Clone, Copy)]
pub struct FxHasher(u64);

impl FxHasher {
    #[inline]
    fn add(&mut self, x: u64) {
        self.0 = (self.0.rotate_left(5) ^ x).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for FxHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for c in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..c.len()].copy_from_slice(c);
            self.add(u64::from_le_bytes(b));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.add(i as u64)
    }
    fn write_u16(&mut self, i: u16) {
        self.add(i as u64)
    }
    fn write_u32(&mut self, i: u32) {
        self.add(i as u64)
    }
    fn write_u64(&mut self, i: u64) {
        self.add(i)
    }
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64)
    }
}

type Key = (SocketAddr, SocketAddr);

/// Normalised address pair: the key of the connection table.
fn key(a: SocketAddr, b: SocketAddr) -> (SocketAddr, SocketAddr) {
    if a <= b { (a, b) } else { (b, a) }
}

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

/// The engine: feed samples in capture order with [`Analyzer::handle`].
#[derive(Default)]
pub struct Analyzer {
    pub conns: Vec<Conn>,
    active: HashMap<Key, u32, BuildHasherDefault<FxHasher>>,
    /// The last lookup (bulk flows come in runs).
    last: Option<(Key, u32)>,
    /// Keep only summaries of finished connections (segment lists are dropped).
    pub packets: u64,
}

impl Analyzer {
    pub fn new() -> Analyzer {
        Analyzer::default()
    }

    /// The connection a sample belongs to (creating it), its direction, and extra flags
    /// (port reuse).
    fn lookup(&mut self, s: &TcpSample) -> (usize, Dir, u32) {
        let k = key(s.src, s.dst);
        let pure_syn = s.flags & (th::SYN | th::ACK) == th::SYN;
        let hit = match self.last {
            Some((lk, cid)) if lk == k => Some(cid),
            _ => self.active.get(&k).copied(),
        };
        if let Some(cid) = hit {
            self.last = Some((k, cid));
            let c = &self.conns[cid as usize];
            let dir = if c.client == s.src && c.server == s.dst {
                0
            } else {
                1
            };
            let f = &c.flows[dir];
            if !(pure_syn && f.base_set && s.seq != f.base_seq) {
                return (cid as usize, dir, 0);
            }
            // A new SYN with another ISN: the ports are reused by a new connection.
            let id = self.conns.len() as u32;
            self.conns.push(Conn::new(id, s.src, s.dst, s));
            self.active.insert(k, id);
            self.last = Some((k, id));
            return (id as usize, 0, af::REUSED_PORTS);
        }
        let id = self.conns.len() as u32;
        let (client, server, dir) = if s.flags & (th::SYN | th::ACK) == (th::SYN | th::ACK) {
            (s.dst, s.src, 1)
        } else {
            (s.src, s.dst, 0)
        };
        self.conns.push(Conn::new(id, client, server, s));
        self.active.insert(k, id);
        self.last = Some((k, id));
        (id as usize, dir, 0)
    }

    /// Analyse one segment.
    pub fn handle(&mut self, s: &TcpSample) -> PacketInfo {
        self.packets += 1;
        let (cid, dir, extra) = self.lookup(s);
        let conn = &mut self.conns[cid];
        let mut info = analyze(conn, dir, s);
        if s.flags & (th::FIN | th::RST) != 0 && conn.is_finished() {
            // A finished connection keeps its counters, not its buffers.
            for f in &mut conn.flows {
                f.pending_rcv = VecDeque::new();
                f.segments.shrink_to_fit();
            }
        }
        info.flags |= extra;
        info.conn = cid as u32;
        info
    }

    /// Memory held by outstanding state (segments), for the bounded-memory test.
    #[cfg(test)]
    pub fn outstanding(&self) -> usize {
        self.conns
            .iter()
            .map(|c| c.flows[0].outstanding() + c.flows[1].outstanding())
            .sum()
    }
}

/// Wireshark's `tcp_analyze_sequence_number`, plus our own bookkeeping.
fn analyze(conn: &mut Conn, dir: Dir, s: &TcpSample) -> PacketInfo {
    let now = s.ts_ns;
    let seq = s.seq;
    let ack = s.ack;
    let flags = s.flags;
    let seglen = s.payload_len;
    let window = s.win as u32;
    let mut ta: u32 = 0;
    let mut info = PacketInfo {
        frame: s.frame,
        ts_ns: now,
        dir,
        ..Default::default()
    };

    // Connection-level bookkeeping.
    let idle = now - conn.last_ts;
    if idle > conn.max_idle.0 {
        conn.max_idle = (idle, s.frame);
    }
    conn.last_ts = now;
    conn.last_frame = s.frame;
    if flags & th::SYN != 0 {
        let is_synack = flags & th::ACK != 0;
        let (fwd, rev) = split(&mut conn.flows, dir);
        if fwd.isn.is_none() {
            fwd.isn = Some(seq);
            fwd.syn_opts = Some(s.opts);
            fwd.syn_frame = Some(s.frame);
        }
        if is_synack {
            fwd.saw_synack = true;
        } else {
            fwd.saw_pure_syn = true;
            conn.ts_mru_syn = Some(now);
        }
        // Window scaling as Wireshark's verify_tcp_window_scaling.
        if let Some(ws) = s.opts.wscale {
            fwd.win_scale = ws.min(14) as i8;
        }
        if fwd.win_scale == -1 {
            fwd.win_scale = -2;
            rev.win_scale = -2;
        } else if is_synack && rev.win_scale == -2 {
            fwd.win_scale = -2;
        }
    } else if flags & th::ACK != 0 && conn.irtt_ns.is_none() {
        if let Some(t) = conn.ts_mru_syn {
            conn.irtt_ns = Some(now - t);
        }
    }
    if flags & th::FIN != 0 {
        if conn.flows[dir].fin_frame.is_none() {
            conn.flows[dir].fin_frame = Some(s.frame);
            conn.flows[dir].fin_seq = Some(seq.wrapping_add(seglen));
        }
        conn.first_fin.get_or_insert(dir);
    }
    let irtt = conn.irtt_ns.unwrap_or(0);
    let (fwd, rev) = split(&mut conn.flows, dir);
    fwd.packets += 1;
    fwd.bytes += s.wire_len as u64;
    fwd.payload_bytes += seglen as u64;
    if s.truncated {
        fwd.truncated += 1;
    }
    if seglen > 0 {
        fwd.first_data_ts.get_or_insert(now);
        fwd.last_data_ts = Some(now);
        fwd.max_seg = fwd.max_seg.max(seglen);
    }

    // RST acceptance (RFC 793 / RFC 5961), judged before the RST updates any state: the
    // receiver expects fwd.nextseq and accepts a window of rev.window bytes.
    if flags & th::RST != 0 {
        if fwd.nextseq != 0 && rev.window != u32::MAX {
            let wnd = ((rev.window as u64) << rev.shift()).max(1);
            let off = seq.wrapping_sub(fwd.nextseq) as u64;
            if off >= wnd {
                ta |= af::RST_OUT_OF_WINDOW;
                fwd.rst_oow += 1;
                info.reason = Some(format!(
                    "RST seq {} is outside the receiver's window [{}, +{})",
                    seq.wrapping_sub(fwd.base_seq),
                    fwd.nextseq.wrapping_sub(fwd.base_seq),
                    wnd
                ));
            }
        }
        if fwd.rst_frame.is_none() {
            fwd.rst_frame = Some(s.frame);
        }
    }

    // ---- Wireshark's analysis, in its order ----
    if !fwd.base_set {
        fwd.base_seq = if flags & th::SYN != 0 {
            seq
        } else {
            seq.wrapping_sub(1)
        };
        fwd.base_set = true;
    }
    if !rev.base_set && flags & th::ACK != 0 {
        rev.base_seq = ack.wrapping_sub(1);
        rev.base_set = true;
    }
    if flags & th::ACK != 0 {
        rev.valid_bif = true;
    }

    'fwd: {
        if seglen == 1 && seq == fwd.nextseq && rev.window == 0 {
            ta |= af::ZERO_WINDOW_PROBE;
            break 'fwd;
        }
        if window == 0 && flags & (th::RST | th::FIN | th::SYN) == 0 {
            ta |= af::ZERO_WINDOW;
        }
        if fwd.nextseq != 0 && gt(seq, fwd.nextseq) && flags & th::RST == 0 {
            ta |= af::LOST_SEGMENT;
            fwd.valid_bif = false;
        }
        let no_sfr = flags & (th::SYN | th::FIN | th::RST) == 0;
        if (seglen == 0 || seglen == 1) && seq == fwd.nextseq.wrapping_sub(1) && no_sfr {
            ta |= af::KEEP_ALIVE;
        }
        let same = seq == fwd.nextseq && ack == fwd.lastack && no_sfr && seglen == 0;
        if same && window != 0 && window != fwd.window {
            ta |= af::WINDOW_UPDATE;
        }
        if seglen > 0 && rev.win_scale != -1 && no_sfr {
            let edge = rev
                .lastack
                .wrapping_add(rev.window.wrapping_shl(rev.shift()));
            if seq.wrapping_add(seglen) == edge {
                ta |= af::WINDOW_FULL;
            }
        }
        if same && window != 0 && window == fwd.window && rev.lastsegmentflags & af::KEEP_ALIVE != 0
        {
            ta |= af::KEEP_ALIVE_ACK;
            break 'fwd;
        }
        if same
            && window == 0
            && window == fwd.window
            && rev.lastsegmentflags & af::ZERO_WINDOW_PROBE != 0
        {
            ta |= af::ZERO_WINDOW_PROBE_ACK;
            break 'fwd;
        }
        if same && window != 0 && window == fwd.window {
            fwd.dupacknum += 1;
            ta |= af::DUPLICATE_ACK;
            info.dup_ack_num = fwd.dupacknum;
            info.dup_ack_frame = fwd.lastnondupack;
            if fwd.dupack_frames.len() < 8 {
                fwd.dupack_frames.push(s.frame);
            }
        }
    }
    if ack != fwd.lastack {
        fwd.lastnondupack = s.frame;
        fwd.dupacknum = 0;
        fwd.dupack_frames.clear();
    }
    if rev.maxseqtobeacked != 0 && gt(ack, rev.maxseqtobeacked) && flags & th::ACK != 0 {
        ta |= af::ACK_LOST_SEGMENT;
        rev.maxseqtobeacked = rev.nextseq;
    }

    let is_data = seglen > 0 || flags & (th::SYN | th::FIN) != 0;
    'rt: {
        if !is_data {
            break 'rt;
        }
        let mut not_advanced = fwd.nextseq != 0 && lt(seq, fwd.nextseq);
        if ta & af::KEEP_ALIVE != 0 {
            break 'rt;
        }
        if seglen > 1 && fwd.nextseq.wrapping_sub(1) == seq {
            not_advanced = false;
        }
        let t = now - rev.lastacktime;
        if not_advanced && rev.dupacknum >= 2 && rev.lastack == seq && t < 20_000_000 {
            ta |= af::FAST_RETRANSMISSION;
            break 'rt;
        }
        let t = now - fwd.nextseqtime;
        let ooo_thres = if irtt == 0 { 3_000_000 } else { irtt };
        if not_advanced && t < ooo_thres && fwd.nextseq != seq.wrapping_add(seglen) {
            ta |= af::OUT_OF_ORDER;
            break 'rt;
        }
        if seglen > 0 && rev.lastack != 0 && le(seq.wrapping_add(seglen), rev.lastack) {
            ta |= af::SPURIOUS_RETRANSMISSION;
            break 'rt;
        }
        if not_advanced {
            ta |= af::RETRANSMISSION;
            info.rto_ns = Some(now - fwd.nextseqtime);
            info.rto_frame = Some(fwd.nextseqframe);
        }
    }

    // Our classification of every retransmission: fast (duplicate ACKs asked for it) or
    // timeout (sent after silence), with the evidence.
    if ta & (af::RETRANSMISSION | af::FAST_RETRANSMISSION | af::SPURIOUS_RETRANSMISSION) != 0 {
        let orig = fwd
            .segments
            .iter()
            .take_while(|u| le(u.seq, seq))
            .filter(|u| lt(seq, u.nextseq.max(u.seq.wrapping_add(1))))
            .min_by_key(|u| u.ts)
            .copied();
        info.orig_frame = orig.map(|u| u.frame);
        let since_orig = orig.map(|u| now - u.ts);
        if info.rto_ns.is_none() {
            info.rto_ns = Some(now - fwd.nextseqtime);
            info.rto_frame = Some(fwd.nextseqframe);
        }
        let since_ack = now - rev.lastacktime;
        // A capture near the receiver sees tiny data-to-ACK times: the handshake RTT is then
        // the better estimate.
        let rtt_est = if fwd.rtt.n > 0 {
            ((fwd.rtt.min * 1e6) as i64).max(irtt)
        } else {
            irtt
        };
        let dup_asked = rev.dupacknum >= 2 && le(rev.lastack, seq);
        let kind = if ta & af::SPURIOUS_RETRANSMISSION != 0 {
            fwd.spurious += 1;
            RetransKind::Spurious
        } else if ta & af::FAST_RETRANSMISSION != 0
            || (dup_asked && since_ack < rtt_est + 100_000_000)
        {
            fwd.fast += 1;
            RetransKind::Fast
        } else {
            fwd.timeout += 1;
            RetransKind::Timeout
        };
        fwd.retrans += 1;
        let orig_txt = match (orig, since_orig) {
            (Some(u), Some(d)) => format!(
                "original frame {} sent {:.3} s before",
                u.frame,
                d as f64 / 1e9
            ),
            _ => "the original was not captured (lost before the capture point)".into(),
        };
        let reason = match kind {
            RetransKind::Fast => format!(
                "fast: {} duplicate ACKs for seq {} (frames {}), resent {:.1} ms after the last; {}",
                rev.dupacknum,
                rev.lastack.wrapping_sub(fwd.base_seq),
                fmt_frames(&rev.dupack_frames),
                since_ack as f64 / 1e6,
                orig_txt
            ),
            RetransKind::Timeout => format!(
                "timeout: resent {:.3} s after the last packet from the receiver ({} duplicate ACKs, {}), RTT {:.1} ms; {}",
                since_ack as f64 / 1e9,
                rev.dupacknum,
                if rev.dupacknum >= 2 {
                    "too long ago for fast retransmit"
                } else {
                    "too few for fast retransmit"
                },
                rtt_est as f64 / 1e6,
                orig_txt
            ),
            RetransKind::Spurious => format!(
                "spurious: the receiver had already acknowledged up to {}; {}",
                rev.lastack.wrapping_sub(fwd.base_seq),
                orig_txt
            ),
        };
        info.retrans = Some(kind);
        info.reason = Some(reason);
        // Karn: any sample covering this range is now ambiguous.
        let end = seq.wrapping_add(seglen.max(1));
        for u in fwd.segments.iter_mut().take_while(|u| lt(u.seq, end)) {
            if lt(seq, u.nextseq) {
                u.ambiguous = true;
            }
        }
    }
    if ta & af::OUT_OF_ORDER != 0 {
        fwd.ooo += 1;
    }
    if ta & af::LOST_SEGMENT != 0 {
        fwd.lost += 1;
    }
    if ta & af::DUPLICATE_ACK != 0 {
        fwd.dupacks += 1;
    }
    if ta & af::ZERO_WINDOW != 0 {
        fwd.zero_windows += 1;
    }

    let mut nextseq = seq.wrapping_add(seglen);
    if is_data && fwd.segments.len() < MAX_UNACKED {
        if flags & (th::SYN | th::FIN) != 0 {
            nextseq = nextseq.wrapping_add(1);
        }
        let retrans =
            ta & (af::RETRANSMISSION | af::FAST_RETRANSMISSION | af::SPURIOUS_RETRANSMISSION) != 0;
        fwd.insert(Unacked {
            frame: s.frame,
            seq,
            nextseq,
            ts: now,
            ambiguous: retrans,
        });
    } else if flags & (th::SYN | th::FIN) != 0 {
        nextseq = nextseq.wrapping_add(1);
    }
    // A RST never moves RCV.NXT at its receiver (RFC 5961: one in the window but not exact only
    // draws a challenge ACK), so it must not move the sequence space later RSTs are judged against.
    if (gt(nextseq, fwd.nextseq) || fwd.nextseq == 0)
        && ta & af::ZERO_WINDOW_PROBE == 0
        && flags & th::RST == 0
    {
        if fwd.nextseq != 0 && gt(nextseq, fwd.nextseq) {
            let adv = nextseq.wrapping_sub(fwd.nextseq) as u64;
            fwd.unique_bytes += adv.min(seglen as u64);
        } else if fwd.nextseq == 0 {
            fwd.unique_bytes += seglen as u64;
        }
        fwd.nextseq = nextseq;
        fwd.nextseqframe = s.frame;
        fwd.nextseqtime = now;
    }
    if (seq == fwd.maxseqtobeacked || fwd.maxseqtobeacked == 0) && ta & af::ZERO_WINDOW_PROBE == 0 {
        fwd.maxseqtobeacked = fwd.nextseq;
    }
    fwd.window = window;
    fwd.lastack = ack;
    fwd.lastacktime = now;
    fwd.lastsegmentflags = ta;

    // Remove what this ACK acknowledges in the reverse direction; ack_rtt on exact match.
    let mut karn_ok = true;
    let mut matched = false;
    // Only segments starting below the ACK can be affected: a prefix of the sorted list.
    // Wireshark walks newest first and the last exact match (the oldest) sets acked/rtt.
    let mut best: Option<Unacked> = None;
    let mut held = std::mem::take(&mut rev.scratch);
    while let Some(u) = rev.segments.front().copied() {
        if !lt(u.seq, ack) {
            break;
        }
        rev.segments.pop_front();
        if ack == u.nextseq {
            matched = true;
            karn_ok &= !u.ambiguous;
            if best.is_none_or(|b| u.frame < b.frame) {
                best = Some(u);
            }
        } else if le(ack, u.nextseq) {
            held.push(Unacked { seq: ack, ..u });
        } else {
            karn_ok &= !u.ambiguous;
        }
    }
    while let Some(u) = held.pop() {
        rev.segments.push_front(u);
    }
    rev.scratch = held;
    if let Some(u) = best {
        info.acked_frame = Some(u.frame);
        info.ack_rtt_ns = Some(now - u.ts);
    }
    if matched && karn_ok && flags & th::ACK != 0 {
        if let Some(r) = info.ack_rtt_ns {
            rev.rtt.add(r as f64 / 1e6);
            info.rtt_valid = true;
        }
    }

    // Delayed-ACK evidence: how much new data each ACK of this side covers.
    if flags & th::ACK != 0 {
        let advanced = match fwd.high_ack {
            None => None,
            Some(h) if gt(ack, h) => Some(ack.wrapping_sub(h)),
            _ => None,
        };
        if let (Some(adv), true) = (advanced, seglen == 0 && flags & (th::SYN | th::FIN) == 0) {
            if rev.max_seg > 0 {
                fwd.acks_new += 1;
                let covered = fwd
                    .pending_rcv
                    .iter()
                    .take_while(|(_, _, end)| le(*end, ack))
                    .count();
                if covered >= 2 || adv > rev.max_seg {
                    fwd.acks_multi += 1;
                } else if covered == 1 {
                    fwd.acks_single += 1;
                    if let Some((_, t, _)) = fwd.pending_rcv.front() {
                        fwd.single_ack_delay.add((now - t) as f64 / 1e6);
                    }
                }
            }
        }
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
    if seglen > 0
        && ta & (af::RETRANSMISSION | af::FAST_RETRANSMISSION | af::SPURIOUS_RETRANSMISSION) == 0
    {
        rev.data_segs_rcvd += 1;
        if rev.pending_rcv.len() < 4096 {
            rev.pending_rcv
                .push_back((s.frame, now, seq.wrapping_add(seglen)));
        }
    }

    // Bytes in flight after this frame.
    if seglen != 0 && !fwd.segments.is_empty() && fwd.valid_bif {
        // Sorted list: the first segment starts lowest; the highest end is tracked.
        let b = fwd.base_seq;
        let first = fwd.segments[0].seq.wrapping_sub(b);
        let last = fwd.max_nextseq.wrapping_sub(b);
        let inflight = last.wrapping_sub(first);
        if inflight > 0 && inflight < 2_000_000_000 {
            info.bytes_in_flight = Some(inflight);
        }
    }

    if flags & th::RST != 0 {
        conn.first_rst.get_or_insert(dir);
    }
    let (fwd, rev) = split(&mut conn.flows, dir);
    // Wireshark shows a fast or spurious retransmission under tcp.analysis.retransmission too.
    if ta & (af::FAST_RETRANSMISSION | af::SPURIOUS_RETRANSMISSION) != 0 {
        ta |= af::RETRANSMISSION;
    }
    info.flags = ta;
    info.rel_seq = seq.wrapping_sub(fwd.base_seq);
    info.rel_ack = if flags & th::ACK != 0 {
        ack.wrapping_sub(rev.base_seq)
    } else {
        0
    };
    info.win_scaled = if flags & th::SYN != 0 {
        window as u64
    } else {
        (window as u64) << fwd.shift()
    };
    fwd.win_bytes = Some(info.win_scaled);
    info
}

fn fmt_frames(v: &[u64]) -> String {
    if v.is_empty() {
        return "not captured".into();
    }
    let s: Vec<String> = v.iter().map(u64::to_string).collect();
    if v.len() >= 8 {
        format!("{},…", s.join(","))
    } else {
        s.join(",")
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const C: &str = "10.0.0.1:40000";
    const S: &str = "10.0.0.2:80";

    struct Sim {
        an: Analyzer,
        frame: u64,
    }

    impl Sim {
        fn new() -> Sim {
            Sim {
                an: Analyzer::new(),
                frame: 0,
            }
        }
        #[allow(clippy::too_many_arguments)]
        fn pkt(
            &mut self,
            ms: i64,
            from_client: bool,
            flags: u8,
            seq: u32,
            ack: u32,
            len: u32,
            win: u16,
        ) -> PacketInfo {
            self.frame += 1;
            let (src, dst) = if from_client { (C, S) } else { (S, C) };
            let s = TcpSample {
                frame: self.frame,
                ts_ns: ms * 1_000_000,
                src: src.parse().unwrap(),
                dst: dst.parse().unwrap(),
                seq,
                ack,
                flags,
                win,
                opts: TcpOptions {
                    mss: Some(1000),
                    ..Default::default()
                },
                payload_len: len,
                payload: &[],
                wire_len: 54 + len,
                truncated: false,
            };
            self.an.handle(&s)
        }
    }

    const A: u8 = th::ACK;

    fn handshake(sim: &mut Sim) {
        sim.pkt(0, true, th::SYN, 1000, 0, 0, 8000);
        sim.pkt(50, false, th::SYN | A, 5000, 1001, 0, 8000);
        sim.pkt(100, true, A, 1001, 5001, 0, 8000);
    }

    #[test]
    fn fast_retransmit_after_three_dup_acks() {
        let mut sim = Sim::new();
        handshake(&mut sim);
        // Segments 1..=5 of 1000 bytes; the first is lost.
        for i in 0..5u32 {
            sim.pkt(110 + i as i64, true, A, 1001 + i * 1000, 5001, 1000, 8000);
        }
        // The receiver's window shrinks: a window update (same ack), then three duplicates.
        let first = sim.pkt(160, false, A, 5001, 1001, 0, 7000);
        assert_eq!(first.flags, af::WINDOW_UPDATE);
        let mut last = PacketInfo::default();
        for i in 0..3 {
            last = sim.pkt(161 + i, false, A, 5001, 1001, 0, 7000);
        }
        assert_ne!(last.flags & af::DUPLICATE_ACK, 0);
        assert_eq!(last.dup_ack_num, 3);
        assert_eq!(last.dup_ack_frame, 2, "the SYN-ACK carried that ack first");
        let r = sim.pkt(165, true, A, 1001, 5001, 1000, 8000);
        assert_ne!(r.flags & af::FAST_RETRANSMISSION, 0);
        assert_ne!(
            r.flags & af::RETRANSMISSION,
            0,
            "fast counts as retransmission too"
        );
        assert_eq!(r.retrans, Some(RetransKind::Fast));
        assert!(
            r.reason.unwrap().contains("3 duplicate ACKs"),
            "{:?}",
            sim.an.conns[0].flows[1].dupacknum
        );
        let c = &sim.an.conns[0];
        assert_eq!((c.flows[0].fast, c.flows[0].timeout), (1, 0));
        // Karn: the ACK covering the retransmitted segment gives no RTT sample.
        let n = c.flows[0].rtt.n;
        sim.pkt(215, false, A, 5001, 6001, 0, 8000);
        assert_eq!(sim.an.conns[0].flows[0].rtt.n, n);
    }

    #[test]
    fn timeout_retransmission_and_rtt() {
        let mut sim = Sim::new();
        handshake(&mut sim);
        sim.pkt(110, true, A, 1001, 5001, 1000, 8000);
        let a = sim.pkt(160, false, A, 5001, 2001, 0, 8000);
        assert_eq!(a.acked_frame, Some(4));
        assert_eq!(a.ack_rtt_ns, Some(50_000_000));
        sim.pkt(170, true, A, 2001, 5001, 1000, 8000);
        // No ACK for a second, then the same segment again: an RTO.
        let r = sim.pkt(1170, true, A, 2001, 5001, 1000, 8000);
        assert_ne!(r.flags & af::RETRANSMISSION, 0);
        assert_eq!(r.flags & af::FAST_RETRANSMISSION, 0);
        assert_eq!(r.retrans, Some(RetransKind::Timeout));
        assert_eq!(r.rto_ns, Some(1_000_000_000));
        assert_eq!(r.orig_frame, Some(6));
        let c = &sim.an.conns[0];
        // The SYN (acked by the SYN-ACK) and the first segment.
        assert_eq!(c.flows[0].rtt.n, 2);
        assert_eq!(c.irtt_ns, Some(100_000_000));
        assert_eq!(c.state().0, "S1");
    }

    #[test]
    fn states_and_rst_window() {
        let mut sim = Sim::new();
        sim.pkt(0, true, th::SYN, 1000, 0, 0, 8000);
        sim.pkt(1, false, th::RST | A, 0, 1001, 0, 0);
        assert_eq!(sim.an.conns[0].state().0, "REJ");
        let mut sim = Sim::new();
        handshake(&mut sim);
        // A RST far outside the server's window.
        let r = sim.pkt(200, true, th::RST, 900_000, 0, 0, 0);
        assert_ne!(r.flags & af::RST_OUT_OF_WINDOW, 0);
        assert_eq!(sim.an.conns[0].state().0, "RSTO");
        // Neither the forged RST nor one in the window moves it: a RST in the window and then
        // one at exactly RCV.NXT are both accepted.
        let r = sim.pkt(201, true, th::RST, 3001, 0, 0, 0);
        assert_eq!(r.flags & af::RST_OUT_OF_WINDOW, 0);
        let r = sim.pkt(202, true, th::RST, 1001, 0, 0, 0);
        assert_eq!(r.flags & af::RST_OUT_OF_WINDOW, 0);
        let mut sim = Sim::new();
        handshake(&mut sim);
        sim.pkt(200, false, th::FIN | A, 5001, 1001, 0, 8000);
        sim.pkt(201, true, th::FIN | A, 1001, 5002, 0, 8000);
        let (code, words) = sim.an.conns[0].state();
        assert_eq!(code, "SF");
        assert!(words.contains("server first"));
    }

    #[test]
    fn port_reuse_starts_a_new_stream() {
        let mut sim = Sim::new();
        handshake(&mut sim);
        let p = sim.pkt(500, true, th::SYN, 777_777, 0, 0, 8000);
        assert_eq!(p.conn, 1);
        assert_ne!(p.flags & af::REUSED_PORTS, 0);
    }

    #[test]
    fn memory_is_bounded_by_outstanding_data() {
        let mut sim = Sim::new();
        handshake(&mut sim);
        let mut seq = 1001u32;
        for i in 0..20_000i64 {
            sim.pkt(200 + i, true, A, seq, 5001, 1000, 8000);
            seq = seq.wrapping_add(1000);
            sim.pkt(200 + i, false, A, 5001, seq, 0, 8000);
        }
        assert!(sim.an.outstanding() < 8, "{}", sim.an.outstanding());
    }

    proptest! {
        #[test]
        fn arbitrary_samples_never_panic(pkts in proptest::collection::vec(
            (any::<bool>(), any::<u8>(), any::<u32>(), any::<u32>(), 0u32..70_000, any::<u16>(), 0i64..5_000),
            1..300)) {
            let mut an = Analyzer::new();
            let mut t = 0i64;
            for (i, (dir, flags, seq, ack, len, win, dt)) in pkts.into_iter().enumerate() {
                t += dt;
                let (src, dst) = if dir { (C, S) } else { (S, C) };
                let s = TcpSample {
                    frame: i as u64 + 1, ts_ns: t, src: src.parse().unwrap(), dst: dst.parse().unwrap(),
                    seq, ack, flags, win, opts: TcpOptions { wscale: Some(flags % 16), ..Default::default() },
                    payload_len: len, payload: &[], wire_len: 54, truncated: len > 0,
                };
                let p = an.handle(&s);
                prop_assert!((p.conn as usize) < an.conns.len());
                let _ = an.conns[p.conn as usize].state();
            }
            prop_assert!(an.outstanding() <= an.conns.len() * 2 * (MAX_UNACKED + 4096));
        }
    }
}
