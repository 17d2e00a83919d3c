//! The connection table: every sample finds its connection (numbered like tshark's
//! `tcp.stream`, a new one when a SYN reuses the ports) and its direction, then goes through
//! the per-segment analysis. With an [`Eviction`] policy, a connection that is over (both
//! FINs or a RST, then a quiet grace period) or idle past a timeout, in capture time, is
//! reduced to its [`ConnRow`] and its state freed, as Zeek does: memory then follows the
//! connections open at once, not all the connections ever seen.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::net::SocketAddr;
use std::ops::{Index, IndexMut};

use super::conn::Cleared;
use super::segment::analyze;
use super::{Conn, ConnRow, Dir, Flow, PacketInfo, TcpSample, af};

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
    fn write_u128(&mut self, i: u128) {
        self.add(i as u64);
        self.add((i >> 64) as u64)
    }
}

/// An endpoint as the table keys it: its address as 128 bits (IPv4 as ::ffff:a.b.c.d) and its
/// port, the IPv6 scope (a link-local peer's zone) and the family (an IPv4 address is not
/// the IPv6 packet's v4-mapped one): compared and hashed in a few instructions, where
/// `SocketAddr` compares and hashes field by field.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct End(u128, u32, u16, bool);

impl End {
    fn new(a: SocketAddr) -> End {
        match a {
            SocketAddr::V4(v4) => End(v4.ip().to_ipv6_mapped().to_bits(), 0, v4.port(), false),
            SocketAddr::V6(v6) => End(v6.ip().to_bits(), v6.scope_id(), v6.port(), true),
        }
    }
}

/// Normalised endpoint pair: the key of the connection table.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Key(End, End);

fn key(a: SocketAddr, b: SocketAddr) -> Key {
    let (a, b) = (End::new(a), End::new(b));
    if a <= b { Key(a, b) } else { Key(b, a) }
}

/// The connections by number: live ones boxed (their state is large: a growing table must
/// not move it), the recent ones in a window indexed by number (a packet finds its
/// connection without a second hash probe), those left behind by it in a map; freed ones
/// cost nothing however many there were.
#[derive(Default, Debug)]
pub struct Conns {
    /// Connections `base..count`, a slot per number (`None` once freed).
    recent: VecDeque<Option<Box<Conn>>>,
    base: u32,
    /// Live connections numbered before `base`: long-lived ones, moved out of the window so
    /// that a connection open for hours does not keep a slot for every one since.
    old: HashMap<u32, Box<Conn>, BuildHasherDefault<FxHasher>>,
    /// Live connections (in both).
    live: usize,
    /// Connections numbered so far.
    count: u32,
    /// Freed connections, cleared, their allocations kept for the next ones (boxed: each
    /// moves into the table as it is, not 3 KB copied).
    spare: Vec<Cleared>,
}

/// Freed connections kept for reuse: they come back from the row worker a batch (64) at a
/// time, in bursts, and are reopened one by one; with room for two batches only, a quarter
/// of them were dropped and as many opened from scratch, their buffers grown again
/// (freeing and allocating them was a tenth of the analysis on a capture of short
/// connections). 512 cost no memory that shows at 200 000 connections.
const SPARE: usize = 512;
/// The window holds at most this many slots beyond twice the live connections: past that,
/// its oldest are moved out (each at most once: the window costs O(live) memory).
pub(super) const WINDOW_SLACK: usize = 4096;

impl Conns {
    /// Connections numbered so far (live and evicted).
    pub fn len(&self) -> usize {
        self.count as usize
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Connection `i`, unless it was evicted.
    #[inline]
    pub fn get(&self, i: usize) -> Option<&Conn> {
        let i = u32::try_from(i).ok()?;
        match i.checked_sub(self.base) {
            Some(at) => self.recent.get(at as usize)?.as_deref(),
            None => self.old.get(&i).map(|c| &**c),
        }
    }

    #[inline]
    pub fn get_mut(&mut self, i: usize) -> Option<&mut Conn> {
        let i = u32::try_from(i).ok()?;
        match i.checked_sub(self.base) {
            Some(at) => self.recent.get_mut(at as usize)?.as_deref_mut(),
            None => self.old.get_mut(&i).map(|c| &mut **c),
        }
    }

    /// The live connections in number order.
    pub fn iter(&self) -> impl Iterator<Item = &Conn> {
        let mut old: Vec<&Conn> = self.old.values().map(|c| &**c).collect();
        old.sort_unstable_by_key(|c| c.id);
        old.into_iter()
            .chain(self.recent.iter().flatten().map(|c| &**c))
    }

    fn iter_mut(&mut self) -> impl Iterator<Item = &mut Conn> {
        let recent = self.recent.iter_mut().flatten();
        self.old.values_mut().chain(recent).map(|c| &mut **c)
    }

    /// Number the next connection, `s` its first packet; its number.
    fn open(&mut self, client: SocketAddr, server: SocketAddr, s: &TcpSample) -> u32 {
        let id = self.count;
        self.count += 1;
        let c = match self.spare.pop() {
            Some(Cleared(mut c)) => {
                c.start(id, client, server, s);
                c
            }
            None => Box::new(Conn::new(id, client, server, s)),
        };
        self.recent.push_back(Some(c));
        self.live += 1;
        if self.recent.len() > 2 * self.live + WINDOW_SLACK {
            self.shrink_window();
        }
        id
    }

    /// Move the window's oldest live connections to `old`, down to twice the live ones.
    fn shrink_window(&mut self) {
        while self.recent.len() > 2 * self.live {
            if let Some(Some(c)) = self.recent.pop_front() {
                self.old.insert(self.base, c);
            }
            self.base += 1;
        }
        self.trim_window();
    }

    /// Drop the freed slots at the window's front.
    fn trim_window(&mut self) {
        while let Some(None) = self.recent.front() {
            self.recent.pop_front();
            self.base += 1;
        }
    }

    fn take(&mut self, i: usize) -> Option<Box<Conn>> {
        let i = u32::try_from(i).ok()?;
        let c = match i.checked_sub(self.base) {
            Some(at) => {
                let c = self.recent.get_mut(at as usize)?.take();
                self.trim_window();
                c
            }
            None => self.old.remove(&i),
        };
        self.live -= usize::from(c.is_some());
        c
    }

    /// The window's first number, its slots and the live connections.
    #[cfg(test)]
    pub(super) fn window(&self) -> (u32, usize, usize) {
        (self.base, self.recent.len(), self.live)
    }

    /// A freed connection's allocations, for the next one.
    fn recycle(&mut self, c: Cleared) {
        if self.spare.len() < SPARE {
            self.spare.push(c);
        }
    }
}

/// Connection `i`; panics when it was evicted (only an evicting engine evicts).
impl Index<usize> for Conns {
    type Output = Conn;
    #[inline]
    fn index(&self, i: usize) -> &Conn {
        self.get(i)
            .unwrap_or_else(|| panic!("connection {i} was evicted"))
    }
}

impl IndexMut<usize> for Conns {
    #[inline]
    fn index_mut(&mut self, i: usize) -> &mut Conn {
        self.get_mut(i)
            .unwrap_or_else(|| panic!("connection {i} was evicted"))
    }
}

impl<'a> IntoIterator for &'a Conns {
    type Item = &'a Conn;
    type IntoIter = Box<dyn Iterator<Item = &'a Conn> + 'a>;
    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

/// When a connection's state is freed, in capture time (Zeek's defaults).
#[derive(Clone, Copy, Debug)]
pub struct Eviction {
    /// Quiet time after both FINs or a RST (Zeek's `tcp_close_delay`, `tcp_reset_delay`).
    pub close_ns: i64,
    /// Quiet time after a SYN nobody answered (Zeek's `tcp_attempt_delay`).
    pub attempt_ns: i64,
    /// Quiet time for any connection (Zeek's `tcp_inactivity_timeout`).
    pub idle_ns: i64,
    /// A connection never evicted (the one `--conn N` looks at).
    pub keep: Option<u32>,
    /// Connections end as the timeouts say (a packet after that starts a new one) but keep
    /// their state: for a command that needs it at the end (`diagnose`), numbered as the
    /// others number them.
    pub retain: bool,
}

impl Default for Eviction {
    fn default() -> Eviction {
        Eviction {
            close_ns: 5_000_000_000,
            attempt_ns: 5_000_000_000,
            idle_ns: 300_000_000_000,
            keep: None,
            retain: false,
        }
    }
}

/// How often (capture time) the live connections are checked for the idle timeouts.
const IDLE_SCAN_NS: i64 = 1_000_000_000;
/// At most this many finished connections wait out their grace period: beyond, the one that
/// finished first goes at once (a server closing 5 000 connections a second would otherwise
/// hold 25 000 connections' state for nothing but late retransmissions).
pub const MAX_CLOSING: usize = 4096;

/// The engine: feed samples in capture order with [`Analyzer::handle`].
#[derive(Default)]
pub struct Analyzer {
    pub conns: Conns,
    active: HashMap<Key, u32, BuildHasherDefault<FxHasher>>,
    /// The last lookup (bulk flows come in runs).
    last: Option<(Key, u32)>,
    /// Samples handled.
    pub packets: u64,
    /// The connection whose congestion windows are logged event by event.
    log_cwnd: Option<u32>,
    evict: Option<Eviction>,
    /// Finished connections by when to look at them again, soonest first.
    closing: BinaryHeap<Reverse<(i64, u32)>>,
    /// Capture time of the newest sample, and of the next idle check.
    now: i64,
    next_idle_scan: i64,
    /// Rows of connections evicted since the caller last took them (unless not wanted).
    evicted: Vec<ConnRow>,
    no_rows: bool,
    /// Or the evicted connections themselves, for the caller to make their rows.
    #[allow(clippy::vec_box)]
    evicted_conns: Vec<Box<Conn>>,
    hand_over: bool,
    /// Connections evicted in all, and those of them evicted before their grace was over.
    pub evicted_total: u64,
    pub evicted_early: u64,
    /// Live connections queued in `closing`.
    closing_live: usize,
    bufs: Buffers,
}

/// Finished connections' queues of data awaiting its ACK, lent to the next connections: a
/// finished connection gives its own back at once (thousands wait out their close), one that
/// opens takes them from here rather than from the allocator (freeing and growing them again
/// was most of the allocations of a capture of short connections). The unacknowledged
/// segments are not pooled: later ACKs still read them, and kept for reuse they made the
/// heap 1.5 MiB larger at 200 000 connections (its chunks scattered).
#[derive(Default)]
struct Buffers {
    pending: Vec<VecDeque<(u64, i64, u32)>>,
}

/// Buffers kept at most (a few KB).
const BUFFERS: usize = 256;
/// The capacity a queue starts with when it grows from nothing (the standard library's for
/// elements of this size): only such are kept, and a smaller one is replaced.
const MIN_QUEUE: usize = 4;

impl Buffers {
    /// A finished connection's flow gives its queues back (shrinks the other).
    fn keep(&mut self, f: &mut Flow) {
        let mut pending = std::mem::take(&mut f.pending_rcv);
        if self.pending.len() < BUFFERS && pending.capacity() == MIN_QUEUE {
            pending.clear();
            self.pending.push(pending);
        }
        f.segments.shrink_to_fit();
    }

    /// A new connection's flow gets a queue where it has none (or a tiny one).
    fn lend(&mut self, f: &mut Flow) {
        if f.pending_rcv.capacity() < MIN_QUEUE
            && let Some(q) = self.pending.pop()
        {
            f.pending_rcv = q;
        }
    }
}

impl Analyzer {
    /// An engine that never ends a connection by time (the reference eviction is tested
    /// against).
    #[cfg(test)]
    pub fn new() -> Analyzer {
        Analyzer::default()
    }

    /// This engine, logging connection `n`'s congestion windows event by event.
    pub fn logging_cwnd(self, n: u32) -> Analyzer {
        Analyzer {
            log_cwnd: Some(n),
            ..self
        }
    }

    /// An engine that frees connections as `policy` says; their rows come out of
    /// [`Analyzer::take_evicted`].
    pub fn evicting(policy: Eviction) -> Analyzer {
        Analyzer {
            evict: Some(policy),
            ..Analyzer::default()
        }
    }

    /// This engine, making no rows of the connections it evicts (a command that does not
    /// print them).
    pub fn discarding_rows(self) -> Analyzer {
        Analyzer {
            no_rows: true,
            ..self
        }
    }

    /// This engine, handing the connections it evicts over as they are (from
    /// [`Analyzer::take_evicted_conns`]; [`ConnRow::of_ended`] makes their rows, elsewhere),
    /// to be given back with [`Analyzer::recycle`].
    pub fn handing_over(self) -> Analyzer {
        Analyzer {
            hand_over: true,
            ..self
        }
    }

    /// The rows of the connections evicted since the last call, in the order they went (the
    /// buffer is kept: most packets evict nothing or one).
    pub fn take_evicted(&mut self) -> std::vec::Drain<'_, ConnRow> {
        self.evicted.drain(..)
    }

    /// Whether [`Analyzer::take_evicted_conns`] has any (checked per packet: cheaper than
    /// draining nothing).
    pub fn has_evicted_conns(&self) -> bool {
        !self.evicted_conns.is_empty()
    }

    /// The connections evicted since the last call, in the order they went (an engine
    /// [`Analyzer::handing_over`]).
    pub fn take_evicted_conns(&mut self) -> std::vec::Drain<'_, Box<Conn>> {
        self.evicted_conns.drain(..)
    }

    /// A connection handed over, back (cleared) for the next one's state.
    pub fn recycle(&mut self, c: Cleared) {
        self.conns.recycle(c);
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
            let id = self.open(s.src, s.dst, s);
            self.active.insert(k, id);
            self.last = Some((k, id));
            return (id as usize, 0, af::REUSED_PORTS);
        }
        let (client, server, dir) = if s.flags.syn() && s.flags.ack() {
            (s.dst, s.src, 1)
        } else {
            (s.src, s.dst, 0)
        };
        let id = self.open(client, server, s);
        self.active.insert(k, id);
        self.last = Some((k, id));
        (id as usize, dir, 0)
    }

    /// Number the next connection, `s` its first packet, with buffers kept from finished ones.
    fn open(&mut self, client: SocketAddr, server: SocketAddr, s: &TcpSample) -> u32 {
        let id = self.conns.open(client, server, s);
        for f in &mut self.conns[id as usize].flows {
            self.bufs.lend(f);
        }
        id
    }

    /// Analyse one segment.
    pub fn handle(&mut self, s: &TcpSample) -> PacketInfo {
        self.packets += 1;
        if let Some(e) = self.evict {
            // First what is over by now: a packet after that starts a new connection.
            self.now = self.now.max(s.ts_ns);
            self.expire(e);
        }
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
                self.bufs.keep(f);
            }
            if let Some(e) = self.evict
                && !conn.closing
            {
                conn.closing = true;
                self.closing_live += 1;
                self.closing
                    .push(Reverse((s.ts_ns.saturating_add(e.close_ns), cid as u32)));
            }
        }
        info.flags |= extra;
        info.conn = cid as u32;
        info
    }

    /// Evict what the policy says is over by now.
    fn expire(&mut self, e: Eviction) {
        while let Some(&Reverse((due, id))) = self.closing.peek() {
            let crowded = self.closing_live > MAX_CLOSING;
            if due > self.now && !crowded {
                break;
            }
            self.closing.pop();
            if let Some(&Reverse((_, next))) = self.closing.peek()
                && let Some(c) = self.conns.get(next as usize)
            {
                // Read next, long after its last packet (most are): on its way to the cache now.
                crate::prefetch::all(c);
            }
            let Some(c) = self.conns.get(id as usize).filter(|c| !c.ended) else {
                continue;
            };
            // A packet since: look again one grace period after it.
            let quiet_until = c.last_ts.saturating_add(e.close_ns);
            if quiet_until > self.now && !crowded {
                self.closing.push(Reverse((quiet_until, id)));
            } else {
                self.evicted_early += u64::from(quiet_until > self.now);
                self.evict(id, e);
            }
        }
        if self.now >= self.next_idle_scan {
            self.next_idle_scan = self.now.saturating_add(IDLE_SCAN_NS);
            let idle: Vec<u32> = self
                .active
                .values()
                .copied()
                .filter(|&id| {
                    self.conns.get(id as usize).is_some_and(|c| {
                        let quiet = self.now.saturating_sub(c.last_ts);
                        quiet >= e.idle_ns || (c.is_attempt() && quiet >= e.attempt_ns)
                    })
                })
                .collect();
            for id in idle {
                self.evict(id, e);
            }
        }
    }

    /// Reduce connection `id` to its row ([`ConnRow::of_ended`]), or hand it over.
    fn evict(&mut self, id: u32, e: Eviction) {
        if e.keep == Some(id) {
            if let Some(c) = self.conns.get_mut(id as usize)
                && c.closing
            {
                c.closing = false;
                self.closing_live -= 1;
            }
            return;
        }
        let Some(c) = self.conns.get_mut(id as usize).filter(|c| !c.ended) else {
            return;
        };
        c.ended = true;
        if c.closing {
            self.closing_live -= 1;
        }
        let k = key(c.client, c.server);
        // One probe: the ports' newest connection is almost always this one.
        if let Some(newer) = self.active.remove(&k)
            && newer != id
        {
            self.active.insert(k, newer);
        }
        if self.last.is_some_and(|(_, l)| l == id) {
            self.last = None;
        }
        self.evicted_total += 1;
        if e.retain {
            return;
        }
        if let Some(mut c) = self.conns.take(id as usize) {
            if self.hand_over {
                self.evicted_conns.push(c);
                return;
            }
            if !self.no_rows {
                self.evicted.push(ConnRow::of_ended(&mut c));
            }
            self.conns.recycle(c.clear());
        }
    }

    /// The capture ended: ACKs still on their way reached their senders.
    pub fn finish(&mut self) {
        for c in self.conns.iter_mut() {
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
