//! The default output: one line per packet with the facts `tcpdump -nn` prints, in its
//! notation, built into a reusable buffer without per-packet allocation.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::net::IpAddr;

use netcap::Record;
use netproto::frame::{
    Frame, HttpText, Link, Net, TcpFlags, TcpOption, TcpSegment, TlsHello, Transport, client_hello,
    http_first_line, http_text,
};

use crate::{app, tcpdump, text};

/// A small fast hasher for the connection table (keys are addresses and ports, not
/// attacker-chosen in a way that matters for a capture printer).
#[derive(Default)]
pub struct FxHasher(u64);

impl Hasher for FxHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_le_bytes(b));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    fn write_u16(&mut self, i: u16) {
        self.add(u64::from(i));
    }
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
}

impl FxHasher {
    fn add(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// tcpdump's per-connection base sequence numbers (print-tcp.c `tcp_seq_hash`): one entry
/// per connection in a canonical direction; `seq` is the base for that direction, `ack` the
/// base of the other.
#[derive(Debug, Default)]
pub struct RelSeq {
    map: FxMap<(IpAddr, IpAddr, u32), (u32, u32)>,
}

/// Sequence numbers to print for one segment, plus the bases for SACK edges.
#[derive(Debug, Clone, Copy)]
pub struct SeqView {
    pub seq: u32,
    pub ack: u32,
    /// Subtracted from SACK edges (0 when absolute).
    pub sack_base: u32,
}

impl RelSeq {
    /// tcpdump's algorithm: only segments with ACK are made relative; the first one of a
    /// connection (or any SYN with ACK) sets the bases and prints absolute numbers.
    pub fn view(&mut self, t: &TcpSegment<'_>) -> SeqView {
        let (mut seq, mut ack) = (t.seq, t.ack);
        if !t.flags.ack() {
            return SeqView {
                seq,
                ack,
                sack_base: 0,
            };
        }
        let rev = match (t.src, t.dst) {
            // tcpdump: memcmp(src, dst) > 0, ties broken by the ports.
            (IpAddr::V4(a), IpAddr::V4(b)) => a > b || (a == b && t.sport > t.dport),
            (IpAddr::V6(a), IpAddr::V6(b)) => a > b || (a == b && t.sport > t.dport),
            _ => false,
        };
        let key = if rev {
            (t.dst, t.src, u32::from(t.dport) << 16 | u32::from(t.sport))
        } else {
            (t.src, t.dst, u32::from(t.sport) << 16 | u32::from(t.dport))
        };
        let entry = self.map.get(&key).copied();
        let (bseq, back) = match entry {
            Some(e) if !t.flags.syn() => {
                if rev {
                    seq = seq.wrapping_sub(e.1);
                    ack = ack.wrapping_sub(e.0);
                } else {
                    seq = seq.wrapping_sub(e.0);
                    ack = ack.wrapping_sub(e.1);
                }
                e
            }
            _ => {
                let e = if rev {
                    (ack.wrapping_sub(1), seq)
                } else {
                    (seq, ack.wrapping_sub(1))
                };
                self.map.insert(key, e);
                e
            }
        };
        // SACK edges acknowledge the other direction's sequence space.
        let sack_base = if rev { bseq } else { back };
        SeqView {
            seq,
            ack,
            sack_base,
        }
    }
}

/// State shared across lines.
#[derive(Debug)]
pub struct LinePrinter {
    pub absolute: bool,
    pub utc_offset: Option<i64>,
    /// How many `-t` (tcpdump's timestamp formats: 0 time of day, 1 none, 2 epoch seconds,
    /// 3 delta from the previous packet, 4 date and time, 5 delta from the first packet).
    pub ts_mode: u8,
    /// Nanosecond digits (`--time-stamp-precision nano`).
    pub nano: bool,
    /// `-e`: the link-level header first (tcpdump's form), then the network layer without
    /// its `IP `/`IP6 `/`ARP, ` prefix.
    pub link_header: bool,
    /// Set while printing a line whose link header was printed.
    skip_proto: bool,
    /// `--process`: the owners of the current packet's ends, set before [`LinePrinter::line`].
    pub attribution: Option<crate::procs::Attribution>,
    prev: Option<netcap::Timestamp>,
    first: Option<netcap::Timestamp>,
    rel: RelSeq,
    ifnames: FxMap<u32, String>,
}

impl LinePrinter {
    pub fn new(absolute: bool) -> Self {
        LinePrinter {
            absolute,
            utc_offset: None,
            ts_mode: 0,
            nano: false,
            link_header: false,
            skip_proto: false,
            attribution: None,
            prev: None,
            first: None,
            rel: RelSeq::default(),
            ifnames: FxMap::default(),
        }
    }

    /// Interface name for an SLL2 ifindex (cached).
    pub fn ifname(&mut self, idx: u32) -> &str {
        self.ifnames
            .entry(idx)
            .or_insert_with(|| netcap::ifname(idx).unwrap_or_else(|| idx.to_string()))
    }

    /// Append the timestamp as tcpdump prints it for the `-t` count, followed by the space
    /// before the rest of the line (nothing at all with `-t`).
    pub fn timestamp(&mut self, out: &mut Vec<u8>, r: &Record<'_>) {
        let ts = r.ts;
        let (frac, digits) = if self.nano {
            (u64::from(ts.nsec), 9)
        } else {
            (u64::from(ts.usec()), 6)
        };
        let mut off = || {
            *self
                .utc_offset
                .get_or_insert_with(|| text::utc_offset(ts.sec))
        };
        match self.ts_mode {
            1 => return,
            2 => {
                text::dec(out, ts.sec.max(0) as u64);
                out.push(b'.');
                text::dec_pad(out, frac, digits);
            }
            3 | 5 => {
                let base = if self.ts_mode == 3 {
                    self.prev.unwrap_or(ts)
                } else {
                    *self.first.get_or_insert(ts)
                };
                self.prev = Some(ts);
                let d = i128::from(ts.sec) * 1_000_000_000 + i128::from(ts.nsec)
                    - (i128::from(base.sec) * 1_000_000_000 + i128::from(base.nsec));
                let neg = d < 0;
                let d = d.unsigned_abs();
                let secs = (d / 1_000_000_000) as u64;
                let ns = (d % 1_000_000_000) as u64;
                out.extend_from_slice(if neg { b"-" } else { b" " });
                text::dec_pad(out, secs / 3600, 2);
                out.push(b':');
                text::dec_pad(out, (secs / 60) % 60, 2);
                out.push(b':');
                text::dec_pad(out, secs % 60, 2);
                out.push(b'.');
                text::dec_pad(out, if self.nano { ns } else { ns / 1000 }, digits);
            }
            4 => {
                let o = off();
                text::date(out, ts.sec + o);
                out.push(b' ');
                text::time_of_day_frac(out, ts.sec, frac, digits, o);
            }
            _ => {
                let o = off();
                text::time_of_day_frac(out, ts.sec, frac, digits, o);
            }
        }
        out.push(b' ');
    }

    /// Append one line (with the trailing newline).
    pub fn line(&mut self, out: &mut Vec<u8>, r: &Record<'_>, f: &Frame<'_>) {
        self.timestamp(out, r);
        if let Link::Sll(s) = f.link()
            && let Some(idx) = s.ifindex()
        {
            let start = out.len();
            let name = self.ifname(idx).to_owned();
            out.extend_from_slice(name.as_bytes());
            while out.len() < start + 5 {
                out.push(b' ');
            }
            out.push(b' ');
            let d = tcpdump::direction(s.direction());
            out.extend_from_slice(d.as_bytes());
            for _ in d.len()..3 {
                out.push(b' ');
            }
            out.push(b' ');
        }
        self.skip_proto = self.link_header && self.link(out, r, f);
        self.body(out, r, f);
        out.push(b'\n');
    }

    /// `-e`: tcpdump's link-level text; false when this link type has none (raw IP).
    fn link(&mut self, out: &mut Vec<u8>, r: &Record<'_>, f: &Frame<'_>) -> bool {
        let et = match f.link() {
            Link::Ethernet(e) => {
                text::mac(out, e.source());
                out.extend_from_slice(b" > ");
                text::mac(out, e.destination());
                out.extend_from_slice(b", ");
                e.ether_type()
            }
            Link::Sll(s) => {
                if let Some(idx) = s.ifindex() {
                    out.extend_from_slice(b"ifindex ");
                    text::dec(out, u64::from(idx));
                    out.push(b' ');
                } else {
                    // tcpdump's `%3s`: right-aligned.
                    let d = tcpdump::direction(s.direction());
                    for _ in d.len()..3 {
                        out.push(b' ');
                    }
                    out.extend_from_slice(d.as_bytes());
                    out.push(b' ');
                }
                text::mac(out, s.address());
                out.push(b' ');
                let p = s.protocol();
                if p == 4 {
                    out.extend_from_slice(b"802.2, length ");
                    text::dec(out, u64::from(r.len));
                    out.extend_from_slice(b": ");
                    return true;
                }
                p
            }
            Link::Null { .. } | Link::None => return false,
        };
        if et <= 1500 {
            out.extend_from_slice(b"802.3, length ");
        } else {
            out.extend_from_slice(b"ethertype ");
            out.extend_from_slice(match et {
                0x0800 => b"IPv4" as &[u8],
                0x86dd => b"IPv6",
                0x0806 => b"ARP",
                0x8035 => b"Reverse ARP",
                0x8100 => b"802.1Q",
                0x88a8 => b"802.1Q-QinQ",
                0x88cc => b"LLDP",
                0x8847 => b"MPLS unicast",
                0x8848 => b"MPLS multicast",
                0x888e => b"EAPOL",
                0x8863 => b"PPPoE D",
                0x8864 => b"PPPoE S",
                _ => b"Unknown",
            });
            out.extend_from_slice(b" (0x");
            text::hex_pad(out, u64::from(et), 4);
            out.extend_from_slice(b"), length ");
        }
        text::dec(out, u64::from(r.len));
        out.extend_from_slice(b": ");
        true
    }

    fn body(&mut self, out: &mut Vec<u8>, r: &Record<'_>, f: &Frame<'_>) {
        match f.net() {
            Net::Ipv4(_) | Net::Ipv6(..) => self.ip(out, f),
            Net::Arp(a) => {
                if !self.skip_proto {
                    out.extend_from_slice(b"ARP, ");
                }
                match (a.operation(), a.ipv4_addrs()) {
                    (1, Some((s, t))) => {
                        out.extend_from_slice(b"Request who-has ");
                        text::ipv4(out, t);
                        out.extend_from_slice(b" tell ");
                        text::ipv4(out, s);
                    }
                    (2, Some((s, _))) => {
                        out.extend_from_slice(b"Reply ");
                        text::ipv4(out, s);
                        out.extend_from_slice(b" is-at ");
                        text::mac(out, a.sender_hw());
                    }
                    (op, _) => {
                        out.extend_from_slice(b"op ");
                        text::dec(out, u64::from(op));
                    }
                }
                out.extend_from_slice(b", length ");
                text::dec(out, a.slice().len() as u64);
            }
            Net::Llc(l) => {
                if let Transport::Stp(s) = f.transport() {
                    if self.skip_proto && l.dsap() == 0x42 && l.ssap() == 0x42 {
                        out.extend_from_slice(
                            b"LLC, dsap STP (0x42) Individual, ssap STP (0x42) Command, ctrl 0x03: ",
                        );
                    }
                    out.extend_from_slice(match s.version() {
                        0 => b"STP 802.1d",
                        2 => b"STP 802.1w",
                        3 => b"STP 802.1s",
                        _ => b"STP unknown version",
                    });
                    out.extend_from_slice(match s.bpdu_type() {
                        0x00 => b", Config",
                        0x80 => b", Topology Change",
                        0x02 => b", Rapid STP",
                        _ => b", unknown BPDU",
                    });
                    if let (Some(flags), Some((prio, mac)), Some(port)) =
                        (s.flags(), s.bridge_id(), s.port_id())
                    {
                        out.extend_from_slice(b", Flags [");
                        stp_flags(out, flags);
                        out.extend_from_slice(b"], bridge-id ");
                        text::hex_pad(out, u64::from(prio), 4);
                        out.push(b'.');
                        text::mac(out, &mac);
                        out.push(b'.');
                        text::hex_pad(out, u64::from(port), 4);
                    }
                    out.extend_from_slice(b", length ");
                    text::dec(out, s.slice().len() as u64);
                } else {
                    out.extend_from_slice(b"LLC, dsap 0x");
                    text::hex_byte(out, l.dsap());
                    out.extend_from_slice(b", ssap 0x");
                    text::hex_byte(out, l.ssap());
                    out.extend_from_slice(b", length ");
                    text::dec(out, u64::from(r.len));
                }
            }
            Net::None => {
                let et = match f.link() {
                    Link::Ethernet(e) => Some(e.ether_type()),
                    Link::Sll(s) => Some(s.protocol()),
                    Link::Null { family } => {
                        out.extend_from_slice(b"AF ");
                        text::dec(out, u64::from(*family));
                        None
                    }
                    Link::None => None,
                };
                if let Some(et) = et {
                    out.extend_from_slice(b"ethertype 0x");
                    text::hex_pad(out, u64::from(et), 4);
                }
                self.issue(out, f);
                out.extend_from_slice(b", length ");
                text::dec(out, u64::from(r.len));
            }
        }
    }

    fn issue(&self, out: &mut Vec<u8>, f: &Frame<'_>) {
        if let Some(i) = f.issue() {
            out.extend_from_slice(b" [|");
            out.extend_from_slice(i.layer.name().to_ascii_lowercase().as_bytes());
            out.push(b']');
        }
    }

    fn ip(&mut self, out: &mut Vec<u8>, f: &Frame<'_>) {
        let v6 = matches!(f.net(), Net::Ipv6(..));
        if !self.skip_proto {
            out.extend_from_slice(if v6 { b"IP6 " } else { b"IP " });
        }
        let (Some(src), Some(dst)) = (f.src_ip(), f.dst_ip()) else {
            return;
        };
        // A TCP header cut before its 20 fixed bytes: tcpdump still prints the ports when
        // they were captured, then ` [|tcp]`.
        use netproto::frame::{IssueKind, LayerKind};
        let cut_l4 = match (f.transport(), f.issue()) {
            (Transport::None, Some(i)) if matches!(i.kind, IssueKind::Truncated { .. }) => {
                match (f.ip_proto(), i.layer) {
                    (Some(6), LayerKind::Tcp) => Some(b" [|tcp]" as &[u8]),
                    (Some(17), LayerKind::Udp) => Some(b" [|udp]" as &[u8]),
                    _ => None,
                }
            }
            _ => None,
        };
        let cut_tcp = cut_l4.is_some();
        let ports = match f.ports() {
            None if cut_tcp => f.payload().get(..4).map(|p| {
                (
                    u16::from_be_bytes([p[0], p[1]]),
                    u16::from_be_bytes([p[2], p[3]]),
                )
            }),
            p => p,
        };
        let owner = |out: &mut Vec<u8>, o: Option<&crate::procs::Owner>, unknown: bool| {
            if let Some(o) = o {
                out.push(b'[');
                out.extend_from_slice(o.comm.as_bytes());
                out.push(b'/');
                text::dec(out, u64::from(o.pid));
                out.push(b']');
            } else if unknown {
                out.extend_from_slice(b"[?]");
            }
        };
        text::ip(out, src);
        if let Some((sp, _)) = ports {
            out.push(b'.');
            text::dec(out, u64::from(sp));
        }
        let att = self.attribution.as_ref();
        owner(
            out,
            att.and_then(|a| a.src.as_ref()),
            att.is_some_and(|a| a.src_unknown),
        );
        out.extend_from_slice(b" > ");
        text::ip(out, dst);
        if let Some((_, dp)) = ports {
            out.push(b'.');
            text::dec(out, u64::from(dp));
        }
        owner(
            out,
            att.and_then(|a| a.dst.as_ref()),
            att.is_some_and(|a| a.dst_unknown),
        );
        out.extend_from_slice(b": ");
        if let Some(mark) = cut_l4 {
            out.extend_from_slice(if ports.is_some() { mark } else { &mark[1..] });
            return;
        }
        match f.transport() {
            Transport::Tcp(_) => {
                if let Some(t) = f.tcp() {
                    self.tcp(out, &t);
                }
            }
            Transport::Udp(_) => {
                if !app::udp(out, f) {
                    out.extend_from_slice(b"UDP, length ");
                    text::dec(out, u64::from(f.payload_len()));
                }
            }
            Transport::Icmpv4(i) => {
                if matches!(i.msg_type(), 3 | 5 | 11) && i.quoted().is_none() {
                    // tcpdump reads the quoted destination first: ` [|icmp]` when absent.
                    out.extend_from_slice(b" [|icmp]");
                    return;
                }
                out.extend_from_slice(b"ICMP ");
                match (i.msg_type(), i.quoted()) {
                    (3, Some(q)) => {
                        let r = i.rest_of_header();
                        app::icmp4_unreach(out, i.msg_code(), u16::from_be_bytes([r[2], r[3]]), &q)
                    }
                    (5, Some(q)) => {
                        out.extend_from_slice(match i.msg_code() {
                            0 => b"redirect " as &[u8],
                            1 => b"redirect ",
                            _ => b"redirect-tos ",
                        });
                        text::ip(out, q.destination());
                        out.extend_from_slice(if i.msg_code() % 2 == 0 {
                            b" to net "
                        } else {
                            b" to host "
                        });
                        text::ipv4(out, i.rest_of_header().into());
                    }
                    _ => icmp4(out, i.msg_type(), i.msg_code(), i.rest_of_header()),
                }
                out.extend_from_slice(b", length ");
                text::dec(out, u64::from(f.payload_len()) + i.header_len() as u64);
            }
            Transport::Icmpv6(i) => {
                out.extend_from_slice(b"ICMP6, ");
                icmp6(out, i.msg_type(), i.rest_of_header(), i.payload());
                if let Some(q) = i.quoted() {
                    icmp6_quoted(out, i.msg_type(), i.msg_code(), &q);
                }
                out.extend_from_slice(b", length ");
                text::dec(out, u64::from(f.payload_len()) + i.header_len() as u64);
            }
            _ => {
                let proto = f.ip_proto().unwrap_or(255);
                let p = f.payload();
                match proto {
                    89 => {
                        out.extend_from_slice(if v6 { b"OSPFv3, " } else { b"OSPFv2, " });
                        out.extend_from_slice(match p.get(1) {
                            Some(1) => b"Hello" as &[u8],
                            Some(2) => b"Database Description",
                            Some(3) => b"LS-Request",
                            Some(4) => b"LS-Update",
                            Some(5) => b"LS-Ack",
                            _ => b"unknown packet type",
                        });
                        out.extend_from_slice(b", length ");
                    }
                    6 | 17 | 1 | 58 => {
                        out.extend_from_slice(proto_name(proto).as_bytes());
                        if f.issue().is_none() {
                            out.extend_from_slice(b" (fragment)");
                        }
                        self.issue(out, f);
                        out.extend_from_slice(b", length ");
                    }
                    _ => {
                        out.extend_from_slice(proto_name(proto).as_bytes());
                        out.push(b' ');
                    }
                }
                text::dec(out, u64::from(f.payload_len()));
            }
        }
    }

    fn tcp(&mut self, out: &mut Vec<u8>, t: &TcpSegment<'_>) {
        let v = if self.absolute {
            SeqView {
                seq: t.seq,
                ack: t.ack,
                sack_base: 0,
            }
        } else {
            self.rel.view(t)
        };
        out.extend_from_slice(b"Flags [");
        let mut fb = [0u8; 10];
        out.extend_from_slice(t.flags.letters(&mut fb).as_bytes());
        out.push(b']');
        let len = t.payload_len;
        if len > 0 || t.flags.syn() || t.flags.fin() || t.flags.rst() {
            out.extend_from_slice(b", seq ");
            text::dec(out, u64::from(v.seq));
            if len > 0 {
                out.push(b':');
                text::dec(out, u64::from(v.seq.wrapping_add(len)));
            }
        }
        if t.flags.ack() {
            out.extend_from_slice(b", ack ");
            text::dec(out, u64::from(v.ack));
        }
        out.extend_from_slice(b", win ");
        text::dec(out, u64::from(t.window));
        if t.flags.has(netproto::frame::TcpFlags::URG) {
            out.extend_from_slice(b", urg ");
            text::dec(out, u64::from(t.urgent));
        }
        if t.header_len > 20 {
            out.extend_from_slice(b", options [");
            match tcp_options(out, t, v.sack_base) {
                Options::Ok => out.push(b']'),
                // tcpdump ends the line at a malformed option.
                Options::Bad => return,
                Options::Cut => return,
            }
        }
        out.extend_from_slice(b", length ");
        text::dec(out, u64::from(len));
        if len > 0 {
            app_name(out, t);
        }
    }
}

/// tcpdump's application tags on well-known ports (`: HTTP`, `: HTTP: GET / HTTP/1.1`,
/// `: BGP`, `: SSH: SSH-2.0-...`); on other ports what sniff recognises in the payload itself:
/// an HTTP request or status line, a TLS ClientHello and its server name.
fn app_name(out: &mut Vec<u8>, t: &TcpSegment<'_>) {
    let port = |p: u16| t.sport == p || t.dport == p;
    // The snapshot length cut the payload: tcpdump's `[|http]`, `[|ssh]` where the text it
    // looks for was not captured.
    let cut = (t.payload.len() as u32) < t.payload_len;
    if port(80) || port(8080) {
        out.extend_from_slice(b": HTTP");
        match http_text(t.payload, t.payload_len as usize) {
            HttpText::Line(l) => {
                out.extend_from_slice(b": ");
                out.extend_from_slice(l);
            }
            HttpText::Unterminated(l) => {
                out.extend_from_slice(b": ");
                out.extend_from_slice(l);
                out.extend_from_slice(b" [|http]");
            }
            HttpText::Cut => out.extend_from_slice(b" [|http]"),
            HttpText::None => {}
        }
    } else if port(179) {
        out.extend_from_slice(b": BGP");
    } else if port(53) {
        app::dns_tcp(out, t.payload, t.payload_len);
    } else if port(22) {
        // tcpdump reads `SSH-` byte by byte, then up to the newline: running out of
        // captured bytes on the way is `[|ssh]`.
        let p = t.payload;
        let n = p.len().min(4);
        if p[..n] == b"SSH-"[..n] {
            match p.iter().position(|&b| b == b'\n') {
                Some(nl) if n == 4 => {
                    let end = p[..nl].iter().position(|&b| b == b'\r').unwrap_or(nl);
                    out.extend_from_slice(b": SSH: ");
                    out.extend_from_slice(&p[..end]);
                }
                _ if cut => out.extend_from_slice(b" [|ssh]"),
                _ => {}
            }
        }
    } else if let Some(first) = http_first_line(t.payload) {
        // Beyond tcpdump: HTTP on any port, printed as tcpdump prints it on port 80.
        out.extend_from_slice(b": HTTP: ");
        out.extend_from_slice(first);
    } else if let Some(TlsHello::ClientHello { server_name, .. }) = client_hello(t.payload) {
        out.extend_from_slice(b": TLS ClientHello");
        if let Some(name) = server_name {
            out.extend_from_slice(b", SNI ");
            text::printable(out, name);
        }
    }
}

fn hex(out: &mut Vec<u8>, d: &[u8]) {
    for b in d {
        text::hex_byte(out, *b);
    }
}

/// tcpdump's `[len N]` when an option is longer than its kind's data.
fn len_mismatch(out: &mut Vec<u8>, data_len: usize, expected: usize) {
    if data_len != expected {
        out.extend_from_slice(b"[len ");
        text::dec(out, data_len as u64 + 2);
        out.push(b']');
    }
}

/// tcpdump's `[bad opt]`, which closes the list with `]` only after a first option.
fn bad(out: &mut Vec<u8>, index: usize) -> Options {
    out.extend_from_slice(b"[bad opt]");
    if index > 0 {
        out.push(b']');
    }
    Options::Bad
}

/// What follows the address in an MPTCP ADD_ADDR, the address ending at `end` (8 for IPv4,
/// 20 for IPv6): a port when the option is 2 bytes longer than the bare address (or than the
/// address with its HMAC), then the truncated HMAC when 8 bytes longer.
fn add_addr_tail(out: &mut Vec<u8>, m: &netproto::frame::Mptcp<'_>, len: usize, end: usize) {
    let with_port = len == end + 2 || len == end + 10;
    if with_port {
        out.push(b':');
        text::dec(out, u64::from(m.be16_at(end).unwrap_or(0)));
    }
    if len == end + 8 || len == end + 10 {
        out.extend_from_slice(b" hmac 0x");
        let at = if with_port { end + 2 } else { end };
        hex64(out, m.be64_at(at).unwrap_or(0));
    }
}

fn hex64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(format!("{v:x}").as_bytes());
}

/// tcpdump's `mptcp_print`: ` LEN SUBTYPE details`; false where tcpdump gives up (`[bad opt]`).
fn mptcp(out: &mut Vec<u8>, m: &netproto::frame::Mptcp<'_>, flags: TcpFlags) -> bool {
    use netproto::frame::Mptcp as M;
    let len = m.len();
    if len < 3 {
        return false;
    }
    out.push(b' ');
    text::dec(out, len as u64);
    let sub = m.subtype();
    out.extend_from_slice(match sub {
        M::CAPABLE => b" capable" as &[u8],
        M::JOIN => b" join",
        M::DSS => b" dss",
        M::ADD_ADDR => b" add-addr",
        M::REMOVE_ADDR => b" rem-addr",
        M::PRIO => b" prio",
        M::FAIL => b" fail",
        M::FAST_CLOSE => b" fast-close",
        _ => b" unknown",
    });
    let syn = flags.syn();
    let ack = flags.ack();
    let (Some(b3), b2) = (m.u8_at(3).or(Some(0)), m.u8_at(2).unwrap_or(0)) else {
        return false;
    };
    match sub {
        M::CAPABLE => {
            if !(((len == 12 || len == 4) && syn) || ((len == 20 || len == 22) && ack && !syn)) {
                return false;
            }
            let v = m.low_nibble();
            if v > 1 {
                out.extend_from_slice(b" Unknown Version (");
                text::dec(out, u64::from(v));
                out.push(b')');
                return true;
            }
            out.extend_from_slice(b" v");
            text::dec(out, u64::from(v));
            if b3 & 0x80 != 0 {
                out.extend_from_slice(b" csum");
            }
            if len == 12 || len >= 20 {
                out.extend_from_slice(b" {0x");
                hex64(out, m.be64_at(4).unwrap_or(0));
                if len >= 20 {
                    out.extend_from_slice(b",0x");
                    hex64(out, m.be64_at(12).unwrap_or(0));
                }
                out.push(b'}');
            }
        }
        M::JOIN => {
            if !((len == 12 && syn) || (len == 16 && syn && ack) || (len == 24 && ack)) {
                return false;
            }
            if len != 24 {
                if b2 & 1 != 0 {
                    out.extend_from_slice(b" backup");
                }
                out.extend_from_slice(b" id ");
                text::dec(out, u64::from(b3));
            }
            match len {
                12 => {
                    out.extend_from_slice(b" token 0x");
                    hex64(out, u64::from(m.be32_at(4).unwrap_or(0)));
                    out.extend_from_slice(b" nonce 0x");
                    hex64(out, u64::from(m.be32_at(8).unwrap_or(0)));
                }
                16 => {
                    out.extend_from_slice(b" hmac 0x");
                    hex64(out, m.be64_at(4).unwrap_or(0));
                    out.extend_from_slice(b" nonce 0x");
                    hex64(out, u64::from(m.be32_at(12).unwrap_or(0)));
                }
                _ => {
                    out.extend_from_slice(b" hmac 0x");
                    hex(out, m.slice(4, 20).unwrap_or(&[]));
                }
            }
        }
        M::DSS => {
            if len < 4 || syn {
                return false;
            }
            if b3 & 0x10 != 0 {
                out.extend_from_slice(b" fin");
            }
            let mut at = 4;
            if b3 & 0x01 != 0 {
                out.extend_from_slice(b" ack ");
                if b3 & 0x02 != 0 {
                    let Some(v) = m.be64_at(at) else { return false };
                    text::dec(out, v);
                    at += 8;
                } else {
                    let Some(v) = m.be32_at(at) else { return false };
                    text::dec(out, u64::from(v));
                    at += 4;
                }
            }
            if b3 & 0x04 != 0 {
                out.extend_from_slice(b" seq ");
                if b3 & 0x08 != 0 {
                    let Some(v) = m.be64_at(at) else { return false };
                    text::dec(out, v);
                    at += 8;
                } else {
                    let Some(v) = m.be32_at(at) else { return false };
                    text::dec(out, u64::from(v));
                    at += 4;
                }
                let Some(v) = m.be32_at(at) else { return false };
                out.extend_from_slice(b" subseq ");
                text::dec(out, u64::from(v));
                at += 4;
                let Some(v) = m.be16_at(at) else { return false };
                out.extend_from_slice(b" len ");
                text::dec(out, u64::from(v));
                at += 2;
                if len >= at + 2 {
                    out.extend_from_slice(b" csum 0x");
                    hex64(out, u64::from(m.be16_at(at).unwrap_or(0)));
                    at += 2;
                }
            }
            if at != len {
                return false;
            }
        }
        M::ADD_ADDR => {
            if ![8, 10, 16, 18, 20, 22, 28, 30].contains(&len) {
                return false;
            }
            out.extend_from_slice(match b2 & 0xf {
                6 => b" v0-ip6" as &[u8],
                4 => b" v0-ip4",
                1 => b" v1-echo",
                0 => b" v1",
                _ => b" [bad version/echo]",
            });
            out.extend_from_slice(b" id ");
            text::dec(out, u64::from(b3));
            if len <= 18 {
                out.push(b' ');
                let a = m.be32_at(4).unwrap_or(0);
                text::ipv4(out, a.into());
                add_addr_tail(out, m, len, 8);
            } else {
                out.push(b' ');
                let mut a = [0u8; 16];
                a.copy_from_slice(m.slice(4, 16).unwrap_or(&[0; 16]));
                text::ip(out, IpAddr::V6(a.into()));
                add_addr_tail(out, m, len, 20);
            }
        }
        M::REMOVE_ADDR => {
            if len < 4 {
                return false;
            }
            out.extend_from_slice(b" id");
            for &id in m.slice(3, len - 3).unwrap_or(&[]) {
                out.push(b' ');
                text::dec(out, u64::from(id));
            }
        }
        M::PRIO => {
            if len != 3 && len != 4 {
                return false;
            }
            out.extend_from_slice(if b2 & 1 != 0 {
                b" backup"
            } else {
                b" non-backup"
            });
            if len == 4 {
                out.extend_from_slice(b" id ");
                text::dec(out, u64::from(b3));
            }
        }
        M::FAIL => {
            if len != 12 {
                return false;
            }
            out.extend_from_slice(b" seq ");
            text::dec(out, m.be64_at(4).unwrap_or(0));
        }
        M::FAST_CLOSE => {
            if len != 12 {
                return false;
            }
            out.extend_from_slice(b" key 0x");
            hex64(out, m.be64_at(4).unwrap_or(0));
        }
        _ => {}
    }
    true
}

/// tcpdump's option names (`tcp_option_values`), `unknown-N` for the rest.
fn option_name(kind: u8) -> String {
    match kind {
        0 => "eol".into(),
        1 => "nop".into(),
        2 => "mss".into(),
        3 => "wscale".into(),
        4 => "sackOK".into(),
        5 => "sack".into(),
        6 => "echo".into(),
        7 => "echoreply".into(),
        8 => "TS".into(),
        11 => "cc".into(),
        12 => "ccnew".into(),
        13 => String::new(),
        19 => "md5".into(),
        20 => "scps".into(),
        28 => "uto".into(),
        29 => "tcp-ao".into(),
        30 => "mptcp".into(),
        34 => "tfo".into(),
        254 => "exp".into(),
        k => format!("unknown-{k}"),
    }
}

fn option_name_known(kind: u8) -> bool {
    !option_name(kind).starts_with("unknown-")
}

/// How an option list ended.
pub enum Options {
    Ok,
    /// A length byte that does not fit the header (tcpdump prints `[bad opt]` and stops).
    Bad,
    /// An option running past the captured bytes (tcpdump prints ` [|tcp]` and stops).
    Cut,
}

/// tcpdump's option notation: `mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7`.
pub fn tcp_options(out: &mut Vec<u8>, t: &TcpSegment<'_>, sack_base: u32) -> Options {
    let mut count = 0;
    for (i, (at, _, o)) in t.options.iter().with_offsets().enumerate() {
        count = i + 1;
        if i > 0 {
            out.push(b',');
        }
        match o {
            TcpOption::End => out.extend_from_slice(b"eol"),
            TcpOption::Nop => out.extend_from_slice(b"nop"),
            TcpOption::Mss(v) => {
                out.extend_from_slice(b"mss ");
                text::dec(out, u64::from(v));
            }
            TcpOption::WindowScale(v) => {
                out.extend_from_slice(b"wscale ");
                text::dec(out, u64::from(v));
            }
            TcpOption::SackPermitted => out.extend_from_slice(b"sackOK"),
            TcpOption::Sack(b) => {
                out.extend_from_slice(b"sack ");
                text::dec(out, b.len() as u64);
                out.push(b' ');
                for (l, r) in b.iter() {
                    out.push(b'{');
                    text::dec(out, u64::from(l.wrapping_sub(sack_base)));
                    out.push(b':');
                    text::dec(out, u64::from(r.wrapping_sub(sack_base)));
                    out.push(b'}');
                }
            }
            TcpOption::Timestamp { tsval, tsecr } => {
                out.extend_from_slice(b"TS val ");
                text::dec(out, u64::from(tsval));
                out.extend_from_slice(b" ecr ");
                text::dec(out, u64::from(tsecr));
            }
            TcpOption::Md5(d) => {
                // tcpdump (with libcrypto, as Debian builds it) cannot check without -M.
                out.extend_from_slice(b"md5 shared secret not supplied with -M, can't check - ");
                if d.len() < 16 {
                    return bad(out, i);
                }
                hex(out, &d[..16]);
                len_mismatch(out, d.len(), 16);
            }
            TcpOption::UserTimeout(v) => {
                out.extend_from_slice(b"uto 0x");
                out.extend_from_slice(format!("{v:x} ").as_bytes());
                // tcpdump 4.99 reads the granularity from bit 0 (RFC 5482 puts it in bit 15);
                // the line keeps tcpdump's number, JSON and -v give RFC 5482's.
                let secs = if v & 1 != 0 {
                    u32::from(v >> 1) * 60
                } else {
                    u32::from(v >> 1)
                };
                text::dec(out, u64::from(secs));
            }
            TcpOption::Ao {
                key_id,
                rnext_key_id,
                mac,
            } => {
                out.extend_from_slice(b"tcp-ao keyid ");
                text::dec(out, u64::from(key_id));
                out.extend_from_slice(b" rnextkeyid ");
                text::dec(out, u64::from(rnext_key_id));
                if !mac.is_empty() {
                    out.extend_from_slice(b" mac 0x");
                    hex(out, mac);
                }
            }
            TcpOption::Mptcp(m) => {
                out.extend_from_slice(b"mptcp");
                if !mptcp(out, &m, t.flags) {
                    return bad(out, i);
                }
            }
            TcpOption::FastOpen {
                cookie,
                experimental,
            } => {
                // tcpdump prints a space before the cookie twice in the kind-34 form.
                out.extend_from_slice(if experimental { b"exp-tfo" } else { b"tfo " });
                if cookie.is_empty() {
                    out.extend_from_slice(b" cookiereq");
                } else if cookie.len() % 2 != 0 || cookie.len() < 4 || cookie.len() > 16 {
                    out.extend_from_slice(b" (invalid)");
                } else {
                    out.extend_from_slice(b" cookie ");
                    hex(out, cookie);
                }
            }
            TcpOption::Experimental { kind, exid, data } => {
                if kind == netproto::frame::tcp_option_kind::EXPERIMENT2 {
                    out.extend_from_slice(b"exp-");
                    out.extend_from_slice(format!("{exid:04x}").as_bytes());
                } else {
                    out.extend_from_slice(b"unknown-");
                    text::dec(out, u64::from(kind));
                    out.extend_from_slice(b" 0x");
                    out.extend_from_slice(format!("{exid:04x}").as_bytes());
                    hex(out, data);
                }
            }
            TcpOption::AccEcn { order, counters } => {
                // tcpdump 4.99 does not know AccECN: `unknown-172 0x…`.
                out.extend_from_slice(if order == 0 {
                    b"unknown-172"
                } else {
                    b"unknown-174"
                });
                if !counters.is_empty() {
                    out.extend_from_slice(b" 0x");
                    hex(out, counters);
                }
            }
            TcpOption::Other { kind, data } => {
                use netproto::frame::tcp_option_kind as k;
                match kind {
                    k::ECHO | k::ECHO_REPLY | k::CC | k::CC_NEW | k::CC_ECHO => {
                        out.extend_from_slice(match kind {
                            k::ECHO => b"echo" as &[u8],
                            k::ECHO_REPLY => b"echoreply",
                            k::CC => b"cc",
                            k::CC_NEW => b"ccnew",
                            _ => b"",
                        });
                        let Some(v) = data.get(..4) else {
                            return bad(out, i);
                        };
                        out.push(b' ');
                        text::dec(out, u64::from(u32::from_be_bytes([v[0], v[1], v[2], v[3]])));
                        len_mismatch(out, data.len(), 4);
                    }
                    k::SCPS => {
                        let Some(v) = data.get(..2) else {
                            return bad(out, i);
                        };
                        out.extend_from_slice(b"scps cap ");
                        text::hex_byte(out, v[0]);
                        out.extend_from_slice(b" id ");
                        text::dec(out, u64::from(v[1]));
                        len_mismatch(out, data.len(), 2);
                    }
                    _ => {
                        out.extend_from_slice(b"unknown-");
                        text::dec(out, u64::from(kind));
                        if !data.is_empty() {
                            out.extend_from_slice(b" 0x");
                            hex(out, data);
                        }
                    }
                }
            }
            TcpOption::Malformed { kind, data } => {
                // A length byte that does not fit the header is `[bad opt]`; an option the
                // snapshot length cut ends the line with ` [|tcp]` (`>` after a first option).
                let room = usize::from(t.header_len).saturating_sub(20 + at);
                if !t.options_truncated {
                    return bad(out, i);
                }
                let Some(&len) = t.options.0.get(at + 1) else {
                    out.extend_from_slice(b" [|tcp]");
                    return Options::Cut;
                };
                let len = usize::from(len);
                if len < 2 || len > room {
                    return bad(out, i);
                }
                out.extend_from_slice(option_name(kind).as_bytes());
                match kind {
                    netproto::frame::tcp_option_kind::SACK if (len - 2) % 8 == 0 => {
                        out.push(b' ');
                        text::dec(out, ((len - 2) / 8) as u64);
                        out.push(b' ');
                        for c in data.chunks_exact(8) {
                            let l = u32::from_be_bytes([c[0], c[1], c[2], c[3]]);
                            let r = u32::from_be_bytes([c[4], c[5], c[6], c[7]]);
                            out.push(b'{');
                            text::dec(out, u64::from(l.wrapping_sub(sack_base)));
                            out.push(b':');
                            text::dec(out, u64::from(r.wrapping_sub(sack_base)));
                            out.push(b'}');
                        }
                    }
                    k if option_name_known(k) => {}
                    _ => {
                        if len > 2 {
                            out.extend_from_slice(b" 0x");
                            hex(out, data);
                        }
                    }
                }
                out.extend_from_slice(b" [|tcp]");
                if i > 0 {
                    out.push(b'>');
                }
                return Options::Cut;
            }
        }
    }
    if t.options_truncated {
        // The capture ended between two options: tcpdump prints the separator, then fails
        // to read the next kind byte.
        if count > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b" [|tcp]");
        return Options::Cut;
    }
    Options::Ok
}

fn stp_flags(out: &mut Vec<u8>, flags: u8) {
    let names: [(u8, &[u8]); 6] = [
        (0x01, b"Topology change"),
        (0x02, b"Proposal"),
        (0x10, b"Learn"),
        (0x20, b"Forward"),
        (0x40, b"Agreement"),
        (0x80, b"Topology change ACK"),
    ];
    let mut any = false;
    for (bit, n) in names {
        if flags & bit != 0 {
            if any {
                out.extend_from_slice(b", ");
            }
            out.extend_from_slice(n);
            any = true;
        }
    }
    if !any {
        out.extend_from_slice(b"none");
    }
}

/// Lower-case protocol name for an IP protocol number (tcpdump's `ip-proto-N` otherwise).
pub fn proto_name(p: u8) -> String {
    match p {
        1 => "icmp".into(),
        2 => "igmp".into(),
        4 => "ipip".into(),
        6 => "tcp".into(),
        17 => "udp".into(),
        41 => "ip6".into(),
        47 => "gre".into(),
        50 => "esp".into(),
        51 => "ah".into(),
        58 => "icmp6".into(),
        89 => "ospf".into(),
        103 => "pim".into(),
        112 => "vrrp".into(),
        132 => "sctp".into(),
        n => format!("ip-proto-{n}"),
    }
}

fn icmp4(out: &mut Vec<u8>, ty: u8, code: u8, rest: [u8; 4]) {
    let id = u16::from_be_bytes([rest[0], rest[1]]);
    let seq = u16::from_be_bytes([rest[2], rest[3]]);
    match ty {
        0 | 8 => {
            out.extend_from_slice(if ty == 8 {
                b"echo request, id "
            } else {
                b"echo reply, id "
            });
            text::dec(out, u64::from(id));
            out.extend_from_slice(b", seq ");
            text::dec(out, u64::from(seq));
        }
        3 => {
            out.extend_from_slice(match code {
                0 => b"net unreachable" as &[u8],
                1 => b"host unreachable",
                2 => b"protocol unreachable",
                3 => b"port unreachable",
                4 => b"need to frag",
                13 => b"admin prohibited",
                _ => b"unreachable",
            });
        }
        5 => out.extend_from_slice(b"redirect"),
        11 => match code {
            0 => out.extend_from_slice(b"time exceeded in-transit"),
            1 => out.extend_from_slice(b"ip reassembly time exceeded"),
            c => {
                out.extend_from_slice(b"time exceeded-#");
                text::dec(out, u64::from(c));
            }
        },
        12 => {
            if code == 0 {
                out.extend_from_slice(b"parameter problem - octet ");
                text::dec(out, u64::from(rest[0]));
            } else {
                out.extend_from_slice(b"parameter problem - code ");
                text::dec(out, u64::from(code));
            }
        }
        13 => out.extend_from_slice(b"time stamp query"),
        14 => out.extend_from_slice(b"time stamp reply"),
        _ => {
            out.extend_from_slice(b"type-#");
            text::dec(out, u64::from(ty));
        }
    }
}

fn icmp6(out: &mut Vec<u8>, ty: u8, rest: [u8; 4], payload: &[u8]) {
    let target = |out: &mut Vec<u8>| {
        if let Some(b) = payload.get(..16) {
            let mut a = [0u8; 16];
            a.copy_from_slice(b);
            text::ip(out, IpAddr::V6(a.into()));
        }
    };
    match ty {
        128 | 129 => {
            out.extend_from_slice(if ty == 128 {
                b"echo request, id "
            } else {
                b"echo reply, id "
            });
            text::dec(out, u64::from(u16::from_be_bytes([rest[0], rest[1]])));
            out.extend_from_slice(b", seq ");
            text::dec(out, u64::from(u16::from_be_bytes([rest[2], rest[3]])));
        }
        1 => out.extend_from_slice(b"destination unreachable"),
        2 => {
            out.extend_from_slice(b"packet too big, mtu ");
            text::dec(out, u64::from(u32::from_be_bytes(rest)));
        }
        3 => out.extend_from_slice(b"time exceeded in-transit"),
        4 => out.extend_from_slice(b"parameter problem"),
        130 => out.extend_from_slice(b"multicast listener query v1"),
        131 => out.extend_from_slice(b"multicast listener report"),
        133 => out.extend_from_slice(b"router solicitation"),
        134 => out.extend_from_slice(b"router advertisement"),
        135 => {
            out.extend_from_slice(b"neighbor solicitation, who has ");
            target(out);
        }
        136 => {
            out.extend_from_slice(b"neighbor advertisement, tgt is ");
            target(out);
        }
        137 => out.extend_from_slice(b"redirect"),
        143 => out.extend_from_slice(b"multicast listener report v2"),
        _ => {
            out.extend_from_slice(b"type ");
            text::dec(out, u64::from(ty));
        }
    }
}

/// What tcpdump's `icmp6_print` adds about the datagram an ICMPv6 error quotes.
fn icmp6_quoted(out: &mut Vec<u8>, ty: u8, code: u8, q: &netproto::frame::Quoted<'_>) {
    let dst = q.destination();
    match ty {
        1 => {
            out.extend_from_slice(match code {
                0 => b", unreachable route" as &[u8],
                // tcpdump 4.99's table has a stray space in this one.
                1 => b",  unreachable prohibited",
                2 => b", beyond scope",
                3 => b", unreachable address",
                4 => b", unreachable port",
                _ => b", unknown unreach code",
            });
            match code {
                0 | 1 | 3 => {
                    out.push(b' ');
                    text::ip(out, dst);
                }
                2 => {
                    out.push(b' ');
                    text::ip(out, dst);
                    out.extend_from_slice(b", source address ");
                    text::ip(out, q.source());
                }
                4 => {
                    out.extend_from_slice(b", ");
                    crate::app::quoted_port(out, q);
                }
                _ => {}
            }
        }
        3 => match code {
            0 => {
                out.extend_from_slice(b" for ");
                text::ip(out, dst);
            }
            1 => out.extend_from_slice(b" (reassembly)"),
            c => {
                out.extend_from_slice(b", unknown code (");
                text::dec(out, u64::from(c));
                out.push(b')');
            }
        },
        _ => {}
    }
}
