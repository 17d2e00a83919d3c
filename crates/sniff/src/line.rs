//! The default output: one line per packet with the facts `tcpdump -nn` prints, in its
//! notation, built into a reusable buffer without per-packet allocation.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::net::IpAddr;

use netcap::Record;
use netproto::frame::{Frame, Link, Net, TcpOption, TcpSegment, Transport};

use crate::{tcpdump, text};

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
    rel: RelSeq,
    ifnames: FxMap<u32, String>,
}

impl LinePrinter {
    pub fn new(absolute: bool) -> Self {
        LinePrinter {
            absolute,
            utc_offset: None,
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

    /// Append the timestamp as tcpdump prints it (local time of day).
    pub fn timestamp(&mut self, out: &mut Vec<u8>, r: &Record<'_>) {
        let off = *self
            .utc_offset
            .get_or_insert_with(|| text::utc_offset(r.ts.sec));
        text::time_of_day(out, r.ts.sec, r.ts.usec(), off);
    }

    /// Append one line (with the trailing newline).
    pub fn line(&mut self, out: &mut Vec<u8>, r: &Record<'_>, f: &Frame<'_>) {
        self.timestamp(out, r);
        out.push(b' ');
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
        self.body(out, r, f);
        out.push(b'\n');
    }

    fn body(&mut self, out: &mut Vec<u8>, r: &Record<'_>, f: &Frame<'_>) {
        match f.net() {
            Net::Ipv4(_) | Net::Ipv6(..) => self.ip(out, f),
            Net::Arp(a) => {
                out.extend_from_slice(b"ARP, ");
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
        out.extend_from_slice(if v6 { b"IP6 " } else { b"IP " });
        let (Some(src), Some(dst)) = (f.src_ip(), f.dst_ip()) else {
            return;
        };
        let ports = f.ports();
        text::ip(out, src);
        if let Some((sp, _)) = ports {
            out.push(b'.');
            text::dec(out, u64::from(sp));
        }
        out.extend_from_slice(b" > ");
        text::ip(out, dst);
        if let Some((_, dp)) = ports {
            out.push(b'.');
            text::dec(out, u64::from(dp));
        }
        out.extend_from_slice(b": ");
        match f.transport() {
            Transport::Tcp(_) => {
                if let Some(t) = f.tcp() {
                    self.tcp(out, &t);
                }
            }
            Transport::Udp(_) => {
                out.extend_from_slice(b"UDP, length ");
                text::dec(out, u64::from(f.payload_len()));
            }
            Transport::Icmpv4(i) => {
                out.extend_from_slice(b"ICMP ");
                icmp4(out, i.msg_type(), i.msg_code(), i.rest_of_header());
                out.extend_from_slice(b", length ");
                text::dec(out, u64::from(f.payload_len()) + i.header_len() as u64);
            }
            Transport::Icmpv6(i) => {
                out.extend_from_slice(b"ICMP6, ");
                icmp6(out, i.msg_type(), i.rest_of_header(), i.payload());
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
        if !t.options.0.is_empty() {
            out.extend_from_slice(b", options [");
            match tcp_options(out, t, v.sack_base) {
                Options::Ok => out.push(b']'),
                // tcpdump ends the line at a malformed option.
                Options::Bad => return out.push(b']'),
                Options::Cut => return out.extend_from_slice(b" [|tcp]"),
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
/// `: BGP`, `: SSH: SSH-2.0-...`).
fn app_name(out: &mut Vec<u8>, t: &TcpSegment<'_>) {
    let port = |p: u16| t.sport == p || t.dport == p;
    if port(80) {
        out.extend_from_slice(b": HTTP");
        if let Some(first) = http_first_line(t.payload) {
            out.extend_from_slice(b": ");
            out.extend_from_slice(first);
        }
    } else if port(179) {
        out.extend_from_slice(b": BGP");
    } else if port(22) && t.payload.starts_with(b"SSH-") {
        if let Some(end) = t.payload.iter().position(|&b| b == b'\r' || b == b'\n') {
            out.extend_from_slice(b": SSH: ");
            out.extend_from_slice(&t.payload[..end]);
        }
    }
}

fn http_first_line(p: &[u8]) -> Option<&[u8]> {
    const STARTS: [&[u8]; 9] = [
        b"GET ",
        b"POST ",
        b"HEAD ",
        b"PUT ",
        b"DELETE ",
        b"OPTIONS ",
        b"PATCH ",
        b"CONNECT ",
        b"HTTP/1.",
    ];
    if !STARTS.iter().any(|s| p.starts_with(s)) {
        return None;
    }
    let end = p.iter().position(|&b| b == b'\r' || b == b'\n')?;
    Some(&p[..end])
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
    for (i, o) in t.options.iter().enumerate() {
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
            TcpOption::Other { kind, data } => {
                match kind {
                    30 => out.extend_from_slice(b"mptcp"),
                    34 => out.extend_from_slice(b"tfo"),
                    _ => {
                        out.extend_from_slice(b"unknown-");
                        text::dec(out, u64::from(kind));
                    }
                }
                if !data.is_empty() {
                    out.extend_from_slice(b" 0x");
                    for b in data {
                        text::hex_byte(out, *b);
                    }
                }
            }
            TcpOption::Malformed { .. } => {
                // tcpdump checks the option against the captured bytes first, then against
                // the header length.
                if t.payload.is_empty() {
                    return Options::Cut;
                }
                out.extend_from_slice(b"[bad opt]");
                return Options::Bad;
            }
        }
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
        11 => out.extend_from_slice(b"time exceeded in-transit"),
        12 => out.extend_from_slice(b"parameter problem"),
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
        2 => out.extend_from_slice(b"packet too big"),
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
