//! One TCP connection (a tshark `tcp.stream`): its two flows and its state in Zeek's words.

use std::net::SocketAddr;

use super::{Dir, Flow, TcpSample};

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
}

impl Conn {
    pub(super) fn new(id: u32, client: SocketAddr, server: SocketAddr, s: &TcpSample) -> Conn {
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
            hs_syns: Vec::new(),
            hs_synacks: Vec::new(),
            hs_split: None,
            irtt_ns: None,
            syn_to_synack_ns: None,
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
