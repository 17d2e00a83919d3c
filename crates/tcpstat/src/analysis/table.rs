//! The connection table: every sample finds its connection (numbered like tshark's
//! `tcp.stream`, a new one when a SYN reuses the ports) and its direction, then goes through
//! the per-segment analysis.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::net::SocketAddr;

use super::segment::analyze;
use super::{Conn, Dir, PacketInfo, TcpSample, af};

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

/// The engine: feed samples in capture order with [`Analyzer::handle`].
#[derive(Default)]
pub struct Analyzer {
    pub conns: Vec<Conn>,
    active: HashMap<Key, u32, BuildHasherDefault<FxHasher>>,
    /// The last lookup (bulk flows come in runs).
    last: Option<(Key, u32)>,
    /// Samples handled.
    pub packets: u64,
    /// The connection whose congestion windows are logged event by event.
    log_cwnd: Option<u32>,
}

impl Analyzer {
    pub fn new() -> Analyzer {
        Analyzer::default()
    }

    /// An engine that logs connection `n`'s congestion windows event by event.
    pub fn logging_cwnd(n: u32) -> Analyzer {
        Analyzer {
            log_cwnd: Some(n),
            ..Analyzer::default()
        }
    }

    /// The connection a sample belongs to (creating it), its direction, and extra flags
    /// (port reuse).
    fn lookup(&mut self, s: &TcpSample) -> (usize, Dir, u32) {
        let k = key(s.src, s.dst);
        let pure_syn = s.flags.syn() && !s.flags.ack();
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
        let (client, server, dir) = if s.flags.syn() && s.flags.ack() {
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
        if self.log_cwnd == Some(cid as u32) && conn.flows[0].cwnd.log.is_none() {
            for f in &mut conn.flows {
                f.cwnd.log = Some(Vec::new());
                f.cwnd.events = Some(Vec::new());
            }
        }
        let mut info = analyze(conn, dir, s);
        if (s.flags.fin() || s.flags.rst()) && conn.is_finished() {
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

    /// The capture ended: ACKs still on their way reached their senders.
    pub fn finish(&mut self) {
        for c in &mut self.conns {
            for f in &mut c.flows {
                f.cwnd.finish();
            }
        }
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
