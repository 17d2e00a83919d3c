//! One TCP connection (a tshark `tcp.stream`): its two flows and its state in Zeek's words.

use std::net::SocketAddr;

use super::{Dir, Flow, TcpSample, recycle_vec};

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
    /// Time of the most recent pure SYN (the start of the handshake RTT).
    pub(super) ts_mru_syn: Option<i64>,
    /// Handshake RTT (SYN to the ACK that completes the handshake), Wireshark's iRTT.
    pub irtt_ns: Option<i64>,
    /// Its first part: the most recent SYN to the first SYN/ACK after it (the server's side
    /// of the capture point).
    pub syn_to_synack_ns: Option<i64>,
    /// The handshake's packets with their timestamps (TSval, TSecr, capture time; a few), and
    /// the split they give: (SYN → the SYN/ACK that answered it, that SYN/ACK → the ACK that
    /// answered it), matched by echoes — right even when a SYN or SYN/ACK was sent twice.
    pub(super) hs_syns: Vec<(u32, u32, i64)>,
    pub(super) hs_synacks: Vec<(u32, u32, i64)>,
    pub(super) hs_split: Option<(i64, i64)>,
    /// Which side sent the first FIN and the first RST.
    pub first_fin: Option<Dir>,
    pub first_rst: Option<Dir>,
    /// Longest silence between two packets of this connection (ns, frame after it).
    pub max_idle: (i64, u64),
    /// Queued for eviction once quiet (an evicting engine only).
    pub(super) closing: bool,
    /// Over (evicted, its state retained): later packets start a new connection.
    pub(super) ended: bool,
}

/// A freed connection made blank ([`Conn::clear`]), for the connection table to reuse.
#[derive(Debug)]
pub struct Cleared(pub(super) Box<Conn>);

impl Conn {
    pub(super) fn new(id: u32, client: SocketAddr, server: SocketAddr, s: &TcpSample) -> Conn {
        let mut c = Conn::blank();
        c.start(id, client, server, s);
        c
    }

    /// A connection before its first packet ([`Conn::start`] makes it one).
    fn blank() -> Conn {
        let none = SocketAddr::from(([0, 0, 0, 0], 0));
        Conn {
            id: 0,
            client: none,
            server: none,
            first_ts: 0,
            last_ts: 0,
            first_frame: 0,
            last_frame: 0,
            flows: [Flow::default(), Flow::default()],
            ts_mru_syn: None,
            hs_syns: Vec::new(),
            hs_synacks: Vec::new(),
            hs_split: None,
            irtt_ns: None,
            syn_to_synack_ns: None,
            first_fin: None,
            first_rst: None,
            max_idle: (0, 0),
            closing: false,
            ended: false,
        }
    }

    /// This blank (or cleared) connection becomes connection `id`, `s` its first packet.
    pub(super) fn start(&mut self, id: u32, client: SocketAddr, server: SocketAddr, s: &TcpSample) {
        (self.id, self.client, self.server) = (id, client, server);
        (self.first_ts, self.last_ts) = (s.ts_ns, s.ts_ns);
        (self.first_frame, self.last_frame) = (s.frame, s.frame);
    }

    /// This freed connection made blank for the next one, its buffers' allocations kept:
    /// done where its row was made (the row worker's core has its state in cache), so that
    /// opening a connection on the analysing core writes a few fields, not 3 KB.
    pub fn clear(mut self: Box<Conn>) -> Cleared {
        // Every field, so that one added to `Conn` and not reset here does not compile.
        let Conn {
            // What `start` sets.
            id: _,
            client: _,
            server: _,
            first_ts: _,
            last_ts: _,
            first_frame: _,
            last_frame: _,
            flows,
            ts_mru_syn,
            irtt_ns,
            syn_to_synack_ns,
            hs_syns,
            hs_synacks,
            hs_split,
            first_fin,
            first_rst,
            max_idle,
            closing,
            ended,
        } = &mut *self;
        for f in flows {
            f.recycle();
        }
        (*ts_mru_syn, *irtt_ns, *syn_to_synack_ns, *hs_split) = (None, None, None, None);
        recycle_vec(hs_syns);
        recycle_vec(hs_synacks);
        (*first_fin, *first_rst, *max_idle) = (None, None, (0, 0));
        (*closing, *ended) = (false, false);
        Cleared(self)
    }

    /// Start bringing this connection's state into the cache (a hint; see
    /// [`crate::prefetch`]).
    pub fn prefetch(&self) {
        crate::prefetch::all(self);
    }

    /// The same for the buffers its row is computed from (their addresses are in the
    /// state: best once that is in the cache).
    pub fn prefetch_buffers(&self) {
        for f in &self.flows {
            f.prefetch_buffers();
        }
    }

    /// Zeek's `conn_state` code and our plain words.
    pub fn state(&self) -> (&'static str, &'static str) {
        self.state_facts().state()
    }

    /// What the state is decided from.
    pub fn state_facts(&self) -> StateFacts {
        let [c, s] = &self.flows;
        let bits = [
            c.saw_pure_syn,
            s.saw_synack,
            c.rst_frame.is_some(),
            s.rst_frame.is_some(),
            c.fin_frame.is_some(),
            s.fin_frame.is_some(),
            s.packets > 0,
        ];
        let dir = |d: Option<Dir>| d.map_or(0, |d| d as u16 + 1);
        let mut v = bits
            .iter()
            .enumerate()
            .fold(0u16, |v, (i, &b)| v | (u16::from(b) << i));
        v |= dir(self.first_fin) << 7 | dir(self.first_rst) << 9;
        StateFacts(v)
    }

    /// A connection attempt: SYNs from the client, nothing from the server.
    pub fn is_attempt(&self) -> bool {
        self.flows[0].saw_pure_syn && self.flows[1].packets == 0
    }

    pub fn is_finished(&self) -> bool {
        self.first_rst.is_some()
            || (self.flows[0].fin_frame.is_some() && self.flows[1].fin_frame.is_some())
    }
}

/// The handful of facts a connection's state is decided from, packed (a finished
/// connection's row keeps only these): bit 0 the client's SYN, 1 the server's SYN/ACK,
/// 2–3 a RST from client/server, 4–5 a FIN from client/server, 6 the server sent anything;
/// bits 7–8 and 9–10 who sent the first FIN and the first RST (0 none, 1 client, 2 server).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StateFacts(u16);

impl StateFacts {
    /// The packed bits, as a row is stored.
    pub(super) fn bits(self) -> u16 {
        self.0
    }

    pub(super) fn from_bits(bits: u16) -> StateFacts {
        StateFacts(bits)
    }

    fn bit(self, i: u32) -> bool {
        self.0 >> i & 1 == 1
    }

    fn dir(self, at: u32) -> Option<Dir> {
        match self.0 >> at & 3 {
            0 => None,
            d => Some(usize::from(d as u8) - 1),
        }
    }

    /// Zeek's `conn_state` code and our plain words.
    pub fn state(&self) -> (&'static str, &'static str) {
        let syn = self.bit(0);
        let synack = self.bit(1);
        let (c_rst, s_rst, c_fin, s_fin) = (self.bit(2), self.bit(3), self.bit(4), self.bit(5));
        let (first_fin, first_rst) = (self.dir(7), self.dir(9));
        if !syn && !synack {
            return ("OTH", "midstream: no SYN seen");
        }
        if syn && !synack {
            if s_rst {
                return ("REJ", "refused (RST from server)");
            }
            if c_rst {
                return ("RSTOS0", "client sent SYN then RST, never answered");
            }
            if c_fin {
                return ("SH", "client sent SYN then FIN, never answered");
            }
            if self.bit(6) {
                return ("OTH", "SYN answered without SYN-ACK");
            }
            return ("S0", "never answered (no SYN-ACK)");
        }
        if !syn && synack {
            if s_rst {
                return ("RSTRH", "server SYN-ACK then RST, client SYN not seen");
            }
            if s_fin {
                return ("SHR", "server SYN-ACK then FIN, client SYN not seen");
            }
            return ("OTH", "SYN-ACK seen without the SYN");
        }
        if let Some(d) = first_rst {
            let code = if d == 0 { "RSTO" } else { "RSTR" };
            let words = match (first_fin, d) {
                (None, 0) => "aborted by RST from client",
                (None, _) => "aborted by RST from server",
                (Some(0), 0) => "closed by FIN from client first, then RST from client",
                (Some(0), _) => "closed by FIN from client first, then RST from server",
                (Some(_), 0) => "closed by FIN from server first, then RST from client",
                (Some(_), _) => "closed by FIN from server first, then RST from server",
            };
            return (code, words);
        }
        match (c_fin, s_fin) {
            (true, true) => match first_fin.unwrap_or(0) {
                0 => ("SF", "closed by FIN from client first"),
                _ => ("SF", "closed by FIN from server first"),
            },
            (true, false) => ("S2", "half-closed by client (no FIN from server)"),
            (false, true) => ("S3", "half-closed by server (no FIN from client)"),
            (false, false) => ("S1", "established, still open at end of capture"),
        }
    }
}
