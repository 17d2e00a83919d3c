//! Field-by-field dissection of a decoded frame: every header field with its name, value, and
//! bit position in the frame. `-v` prints it (like scapy's `show()`, with offsets) and
//! `--diagram` draws it, so both always agree.

use std::fmt::Write as _;

use netproto::frame::{
    Frame, Layer, LayerKind, Link, Net, Stp, TcpFlags, TcpOption, Transport, ethertype,
};

/// One header field.
#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    /// Absolute bit offset in the frame.
    pub bit: usize,
    /// Width in bits.
    pub bits: usize,
    pub value: String,
}

impl Field {
    pub fn byte(&self) -> usize {
        self.bit / 8
    }
}

/// One layer with its fields.
#[derive(Debug, Clone)]
pub struct LayerView {
    pub layer: Layer,
    pub fields: Vec<Field>,
}

/// Read `n` (≤ 64) bits at absolute bit offset `bit`; missing bytes read as 0.
fn bits(d: &[u8], bit: usize, n: usize) -> u64 {
    let mut v = 0u64;
    for i in 0..n {
        let b = bit + i;
        let byte = d.get(b / 8).copied().unwrap_or(0);
        v = (v << 1) | u64::from((byte >> (7 - b % 8)) & 1);
    }
    v
}

struct B<'a> {
    d: &'a [u8],
    base: usize,
    fields: Vec<Field>,
}

impl B<'_> {
    /// Add a field at bit `rel` (relative to the layer start) of width `n`, formatted by `f`.
    fn f(&mut self, name: &str, rel: usize, n: usize, value: String) {
        self.fields.push(Field {
            name: name.to_owned(),
            bit: self.base * 8 + rel,
            bits: n,
            value,
        });
    }
    fn get(&self, rel: usize, n: usize) -> u64 {
        bits(self.d, self.base * 8 + rel, n)
    }
    fn dec(&mut self, name: &str, rel: usize, n: usize) -> u64 {
        let v = self.get(rel, n);
        self.f(name, rel, n, v.to_string());
        v
    }
    fn hex(&mut self, name: &str, rel: usize, n: usize) -> u64 {
        let v = self.get(rel, n);
        let w = n.div_ceil(4);
        self.f(name, rel, n, format!("0x{v:0w$x}"));
        v
    }
    fn bytes(&self, rel_byte: usize, len: usize) -> &[u8] {
        let s = self.base + rel_byte;
        self.d.get(s..(s + len).min(self.d.len())).unwrap_or(&[])
    }
    fn mac(&mut self, name: &str, rel_byte: usize, len: usize) {
        let v = crate::text::mac_string(self.bytes(rel_byte, len));
        self.f(name, rel_byte * 8, len * 8, v);
    }
    fn ip4(&mut self, name: &str, rel_byte: usize) {
        let v = match self.bytes(rel_byte, 4) {
            &[a, b, c, d] => std::net::Ipv4Addr::new(a, b, c, d).to_string(),
            _ => String::new(),
        };
        self.f(name, rel_byte * 8, 32, v);
    }
    fn raw(&mut self, name: &str, rel_byte: usize, len: usize) {
        if len == 0 {
            return;
        }
        let v = repr_bytes(self.bytes(rel_byte, len));
        self.f(name, rel_byte * 8, len * 8, v);
    }
}

/// scapy-like `b'...'` rendering, cut after 48 bytes.
pub fn repr_bytes(b: &[u8]) -> String {
    let mut s = String::from("b'");
    for &c in b.iter().take(48) {
        match c {
            b'\\' => s.push_str("\\\\"),
            b'\'' => s.push_str("\\'"),
            b'\r' => s.push_str("\\r"),
            b'\n' => s.push_str("\\n"),
            0x20..=0x7e => s.push(char::from(c)),
            _ => {
                let _ = write!(s, "\\x{c:02x}");
            }
        }
    }
    s.push('\'');
    if b.len() > 48 {
        let _ = write!(s, "... ({} bytes)", b.len());
    }
    s
}

fn ethertype_name(t: u64) -> &'static str {
    match u16::try_from(t).unwrap_or(0) {
        ethertype::IPV4 => "IPv4",
        ethertype::ARP => "ARP",
        ethertype::IPV6 => "IPv6",
        ethertype::VLAN => "802.1Q",
        ethertype::QINQ => "802.1ad",
        0x88cc => "LLDP",
        ethertype::SLL_LLC => "802.2 LLC",
        _ => "",
    }
}

fn named(v: u64, name: &str) -> String {
    if name.is_empty() {
        format!("0x{v:04x}")
    } else {
        format!("0x{v:04x} ({name})")
    }
}

fn ip_proto_name(p: u64) -> &'static str {
    match p {
        0 => "hopopt",
        1 => "icmp",
        6 => "tcp",
        17 => "udp",
        43 => "ipv6-route",
        44 => "ipv6-frag",
        58 => "icmp6",
        59 => "no next header",
        60 => "ipv6-opts",
        89 => "ospf",
        _ => "",
    }
}

/// Dissect every layer of `f`.
pub fn dissect(f: &Frame<'_>) -> Vec<LayerView> {
    let d = f.data();
    f.layers()
        .iter()
        .map(|l| {
            let mut b = B {
                d,
                base: l.offset,
                fields: Vec::new(),
            };
            layer_fields(&mut b, l, f);
            LayerView {
                layer: *l,
                fields: b.fields,
            }
        })
        .collect()
}

fn layer_fields(b: &mut B<'_>, l: &Layer, f: &Frame<'_>) {
    match l.kind {
        LayerKind::Ethernet | LayerKind::Dot3 => {
            b.mac("dst", 0, 6);
            b.mac("src", 6, 6);
            let t = b.get(96, 16);
            if l.kind == LayerKind::Dot3 {
                b.dec("len", 96, 16);
            } else {
                b.f("type", 96, 16, named(t, ethertype_name(t)));
            }
        }
        LayerKind::Vlan => {
            b.dec("prio", 0, 3);
            b.dec("dei", 3, 1);
            b.dec("vlan", 4, 12);
            let t = b.get(16, 16);
            b.f("type", 16, 16, named(t, ethertype_name(t)));
        }
        LayerKind::LinuxSll => {
            let p = b.get(0, 16);
            b.f("pkttype", 0, 16, pkttype(p));
            b.dec("lladdrtype", 16, 16);
            let n = b.dec("lladdrlen", 32, 16) as usize;
            b.mac("src", 6, n.min(8));
            let t = b.get(112, 16);
            b.f("proto", 112, 16, named(t, ethertype_name(t)));
        }
        LayerKind::LinuxSll2 => {
            let t = b.get(0, 16);
            b.f("proto", 0, 16, named(t, ethertype_name(t)));
            b.hex("reserved", 16, 16);
            let idx = b.get(32, 32);
            let name = netcap::ifname(idx as u32).unwrap_or_default();
            b.f(
                "ifindex",
                32,
                32,
                format!("{idx} {name}").trim_end().to_owned(),
            );
            b.dec("hatype", 64, 16);
            let p = b.get(80, 8);
            b.f("pkttype", 80, 8, pkttype(p));
            let n = b.dec("halen", 88, 8) as usize;
            b.mac("src", 12, n.min(8));
        }
        LayerKind::Null => {
            let fam = match f.link() {
                Link::Null { family } => *family,
                _ => 0,
            };
            b.f("family", 0, 32, fam.to_string());
        }
        LayerKind::Llc => {
            b.hex("dsap", 0, 8);
            b.hex("ssap", 8, 8);
            let ctl_bits = if b.get(16, 8) & 3 == 3 { 8 } else { 16 };
            b.hex("ctrl", 16, ctl_bits);
        }
        LayerKind::Snap => {
            b.hex("OUI", 0, 24);
            let t = b.get(24, 16);
            b.f("code", 24, 16, named(t, ethertype_name(t)));
        }
        LayerKind::Stp => {
            b.hex("proto", 0, 16);
            b.dec("version", 16, 8);
            b.hex("bpdutype", 24, 8);
            if l.len >= Stp::CONFIG_LEN {
                b.hex("bpduflags", 32, 8);
                b.dec("rootid", 40, 16);
                b.mac("rootmac", 7, 6);
                b.dec("pathcost", 104, 32);
                b.dec("bridgeid", 136, 16);
                b.mac("bridgemac", 19, 6);
                b.hex("portid", 200, 16);
                for (i, n) in ["age", "maxage", "hellotime", "fwddelay"]
                    .iter()
                    .enumerate()
                {
                    let v = b.get(216 + 16 * i, 16);
                    b.f(n, 216 + 16 * i, 16, format!("{} s", v as f64 / 256.0));
                }
            }
            if l.len > Stp::CONFIG_LEN {
                b.dec("v1len", 280, 8);
            }
        }
        LayerKind::Arp => {
            b.dec("hwtype", 0, 16);
            let t = b.get(16, 16);
            b.f("ptype", 16, 16, named(t, ethertype_name(t)));
            let h = b.dec("hwlen", 32, 8) as usize;
            let p = b.dec("plen", 40, 8) as usize;
            let op = b.get(48, 16);
            let opn = match op {
                1 => "who-has",
                2 => "is-at",
                _ => "",
            };
            b.f("op", 48, 16, format!("{op} ({opn})"));
            let addr = |b: &mut B<'_>, name: &str, at: usize, len: usize, hw: bool| {
                if hw || len != 4 {
                    b.mac(name, at, len);
                } else {
                    let x = b.bytes(at, 4);
                    let v = format!("{}.{}.{}.{}", x[0], x[1], x[2], x[3]);
                    b.f(name, at * 8, 32, v);
                }
            };
            addr(b, "hwsrc", 8, h, true);
            addr(b, "psrc", 8 + h, p, false);
            addr(b, "hwdst", 8 + h + p, h, true);
            addr(b, "pdst", 8 + 2 * h + p, p, false);
        }
        LayerKind::Ipv4 => {
            b.dec("version", 0, 4);
            let ihl = b.get(4, 4);
            b.f("ihl", 4, 4, format!("{ihl} ({} bytes)", ihl * 4));
            b.hex("tos", 8, 8);
            b.dec("len", 16, 16);
            b.dec("id", 32, 16);
            let fl = b.get(48, 3);
            let mut names = Vec::new();
            if fl & 2 != 0 {
                names.push("DF");
            }
            if fl & 1 != 0 {
                names.push("MF");
            }
            if fl & 4 != 0 {
                names.push("evil");
            }
            b.f("flags", 48, 3, format!("0b{fl:03b} ({})", names.join("+")));
            b.dec("frag", 51, 13);
            b.dec("ttl", 64, 8);
            let p = b.get(72, 8);
            b.f("proto", 72, 8, format!("{p} ({})", ip_proto_name(p)));
            b.hex("chksum", 80, 16);
            let s = b.bytes(12, 4).to_vec();
            let t = b.bytes(16, 4).to_vec();
            if s.len() == 4 && t.len() == 4 {
                b.f(
                    "src",
                    96,
                    32,
                    format!("{}.{}.{}.{}", s[0], s[1], s[2], s[3]),
                );
                b.f(
                    "dst",
                    128,
                    32,
                    format!("{}.{}.{}.{}", t[0], t[1], t[2], t[3]),
                );
            }
            b.raw("options", 20, l.len.saturating_sub(20));
        }
        LayerKind::Ipv6 => {
            b.dec("version", 0, 4);
            b.hex("tc", 4, 8);
            b.hex("fl", 12, 20);
            b.dec("plen", 32, 16);
            let nh = b.get(48, 8);
            b.f("nh", 48, 8, format!("{nh} ({})", ip_proto_name(nh)));
            b.dec("hlim", 56, 8);
            if let (Some(s), Some(t)) = (f.src_ip(), f.dst_ip())
                && matches!(f.net(), Net::Ipv6(..))
            {
                b.f("src", 64, 128, s.to_string());
                b.f("dst", 192, 128, t.to_string());
            }
        }
        LayerKind::Ipv6HopByHop
        | LayerKind::Ipv6Routing
        | LayerKind::Ipv6DestOpts
        | LayerKind::IpAuth => {
            let nh = b.get(0, 8);
            b.f("nh", 0, 8, format!("{nh} ({})", ip_proto_name(nh)));
            b.dec("len", 8, 8);
            b.raw("data", 2, l.len.saturating_sub(2));
        }
        LayerKind::Ipv6Fragment => {
            let nh = b.get(0, 8);
            b.f("nh", 0, 8, format!("{nh} ({})", ip_proto_name(nh)));
            b.hex("res1", 8, 8);
            b.dec("offset", 16, 13);
            b.dec("res2", 29, 2);
            b.dec("m", 31, 1);
            b.hex("id", 32, 32);
        }
        LayerKind::Tcp => {
            b.dec("sport", 0, 16);
            b.dec("dport", 16, 16);
            b.dec("seq", 32, 32);
            b.dec("ack", 64, 32);
            let off = b.get(96, 4);
            b.f("dataofs", 96, 4, format!("{off} ({} bytes)", off * 4));
            b.dec("reserved", 100, 3);
            let fl = b.get(103, 9) as u16;
            b.f(
                "flags",
                103,
                9,
                format!("0x{fl:03x} [{}]", crate::tcpdump::flags(TcpFlags(fl))),
            );
            b.dec("window", 112, 16);
            b.hex("chksum", 128, 16);
            b.dec("urgptr", 144, 16);
            if let Transport::Tcp(t) = f.transport() {
                for (at, len, o) in t.options().iter().with_offsets() {
                    let rel = (20 + at) * 8;
                    let (name, v) = match o {
                        TcpOption::End => ("EOL".to_owned(), String::new()),
                        TcpOption::Nop => ("NOP".to_owned(), String::new()),
                        TcpOption::Mss(v) => ("MSS".to_owned(), v.to_string()),
                        TcpOption::WindowScale(v) => {
                            ("WScale".to_owned(), format!("{v} (×{})", 1u64 << v.min(14)))
                        }
                        TcpOption::SackPermitted => ("SAckOK".to_owned(), String::new()),
                        TcpOption::Sack(s) => (
                            "SAck".to_owned(),
                            s.iter()
                                .map(|(l, r)| format!("{l}-{r}"))
                                .collect::<Vec<_>>()
                                .join(" "),
                        ),
                        TcpOption::Timestamp { tsval, tsecr } => {
                            ("Timestamp".to_owned(), format!("{tsval} {tsecr}"))
                        }
                        TcpOption::Md5(d) => ("MD5".to_owned(), repr_bytes(d)),
                        TcpOption::UserTimeout(v) => (
                            "UTO".to_owned(),
                            format!("{}s", TcpOption::user_timeout_secs(v)),
                        ),
                        TcpOption::Ao {
                            key_id,
                            rnext_key_id,
                            mac,
                        } => (
                            "AO".to_owned(),
                            format!(
                                "keyid {key_id} rnextkeyid {rnext_key_id} mac {}",
                                repr_bytes(mac)
                            ),
                        ),
                        TcpOption::Mptcp(m) => (
                            "MPTCP".to_owned(),
                            format!("subtype {} {}", m.subtype(), repr_bytes(m.bytes())),
                        ),
                        TcpOption::FastOpen { cookie, .. } => {
                            ("TFO".to_owned(), repr_bytes(cookie))
                        }
                        TcpOption::AccEcn { order, counters } => {
                            (format!("AccECN{order}"), repr_bytes(counters))
                        }
                        TcpOption::Experimental { kind, exid, data } => (
                            format!("Exp-{kind}"),
                            format!("exid 0x{exid:04x} {}", repr_bytes(data)),
                        ),
                        TcpOption::Other { kind, data } => {
                            (format!("opt-{kind}"), repr_bytes(data))
                        }
                        TcpOption::Malformed { kind, data } => {
                            (format!("bad-opt-{kind}"), repr_bytes(data))
                        }
                    };
                    b.f(&format!("options.{name}"), rel, len * 8, v);
                }
            }
        }
        LayerKind::Udp => {
            b.dec("sport", 0, 16);
            b.dec("dport", 16, 16);
            b.dec("len", 32, 16);
            b.hex("chksum", 48, 16);
        }
        LayerKind::Icmpv4 | LayerKind::Icmpv6 => {
            b.dec("type", 0, 8);
            b.dec("code", 8, 8);
            b.hex("chksum", 16, 16);
            let ty = b.get(0, 8);
            let echo = if l.kind == LayerKind::Icmpv4 {
                ty == 0 || ty == 8
            } else {
                ty == 128 || ty == 129
            };
            if echo {
                b.dec("id", 32, 16);
                b.dec("seq", 48, 16);
            } else {
                b.hex("rest", 32, 32);
            }
        }
        LayerKind::Raw if f.tcp().is_some() => app_fields(b, l.len),
        LayerKind::Raw if f.udp().is_some() => udp_app_fields(b, l.len, f),
        LayerKind::Raw | LayerKind::Padding => {
            b.raw("load", 0, l.len);
        }
    }
}

/// A TCP payload: the HTTP request or status line, or the TLS ClientHello's record header
/// and server name, as fields; the rest as `load`.
fn app_fields(b: &mut B<'_>, len: usize) {
    // The frame's bytes, not borrowed through `b`, which the fields are added to.
    let d = b.d;
    let p = d.get(b.base..(b.base + len).min(d.len())).unwrap_or(&[]);
    let len = p.len();
    if let Some(line) = netproto::frame::http_first_line(p) {
        let v = String::from_utf8_lossy(line).into_owned();
        b.f("http", 0, line.len() * 8, v);
        return b.raw("load", line.len(), len - line.len());
    }
    let Some(netproto::frame::TlsHello::ClientHello {
        version,
        server_name,
    }) = netproto::frame::client_hello(p)
    else {
        return b.raw("load", 0, len);
    };
    b.f(
        "tls",
        0,
        9 * 8,
        format!("handshake: ClientHello 0x{version:04x}"),
    );
    match server_name {
        Some(name) => {
            // The name is a slice of the payload: its offset there.
            let at = name.as_ptr() as usize - p.as_ptr() as usize;
            let v = String::from_utf8_lossy(name).into_owned();
            b.raw("load", 9, at - 9);
            b.f("server_name", at * 8, name.len() * 8, v);
            b.raw("load", at + name.len(), len - at - name.len());
        }
        None => b.raw("load", 9, len - 9),
    }
}

/// A UDP payload whose ports name DNS, DHCP, NTP or RIP and that decodes: its header fields,
/// then its records (DNS), options (DHCP) or routes (RIP), each one field; the rest as `load`.
fn udp_app_fields(b: &mut B<'_>, len: usize, f: &Frame<'_>) {
    use netproto::frame::App;
    let end = match f.app() {
        Some(Ok(App::Dns(d))) => dns_fields(b, &d),
        Some(Ok(App::Ntp(_))) => {
            b.dec("li", 0, 2);
            b.dec("vn", 2, 3);
            b.dec("mode", 5, 3);
            b.dec("stratum", 8, 8);
            // Signed powers of two seconds.
            for (n, at) in [("poll", 16), ("precision", 24)] {
                let v = b.get(at, 8) as u8 as i8;
                b.f(n, at, 8, v.to_string());
            }
            b.hex("root_delay", 32, 32);
            b.hex("root_dispersion", 64, 32);
            b.hex("ref_id", 96, 32);
            for (i, n) in ["ref_ts", "orig_ts", "recv_ts", "xmit_ts"]
                .iter()
                .enumerate()
            {
                if b.bytes(16 + i * 8, 8).len() == 8 {
                    b.hex(n, 128 + i * 64, 64);
                }
            }
            b.bytes(0, 48).len()
        }
        Some(Ok(App::Dhcp(d))) => dhcp_fields(b, &d),
        Some(Ok(App::Rip(r) | App::Ripng(r))) => {
            b.dec("command", 0, 8);
            b.dec("version", 8, 8);
            b.hex("zero", 16, 16);
            let mut at = 4;
            while b.bytes(at, 20).len() == 20 {
                let v = repr_bytes(b.bytes(at, 20));
                b.f("route", at * 8, 160, v);
                at += 20;
            }
            at.min(r.body().len() + 4)
        }
        _ => 0,
    };
    b.raw("load", end, len.saturating_sub(end));
}

/// DNS: the header's fields, then each record (its name to the end of its data); returns
/// where the fields end.
fn dns_fields(b: &mut B<'_>, d: &netproto::frame::Dns<'_>) -> usize {
    b.dec("id", 0, 16);
    b.dec("qr", 16, 1);
    b.dec("opcode", 17, 4);
    for (i, n) in ["aa", "tc", "rd", "ra", "z", "ad", "cd"].iter().enumerate() {
        b.dec(n, 21 + i, 1);
    }
    b.dec("rcode", 28, 4);
    for (i, n) in ["qdcount", "ancount", "nscount", "arcount"]
        .iter()
        .enumerate()
    {
        b.dec(n, 32 + i * 16, 16);
    }
    let mut end = 12;
    for r in d.records() {
        let Ok(r) = r else { break };
        let mut v = Vec::new();
        if r.name.write(&mut v).is_err() {
            break;
        }
        v.push(b' ');
        v.extend_from_slice(crate::app::dns_type_name(r.rtype).as_bytes());
        let kind = match r.section {
            netproto::frame::DnsSection::Question => "question",
            netproto::frame::DnsSection::Answer => "answer",
            netproto::frame::DnsSection::Authority => "authority",
            netproto::frame::DnsSection::Additional => "additional",
        };
        if r.section == netproto::frame::DnsSection::Question {
            v.push(b'?');
        } else if let Some(data) = crate::app::rdata_text(&r) {
            v.push(b' ');
            v.extend_from_slice(data.as_bytes());
        }
        // A question's end is after its type and class (its data is empty).
        let (start, stop) = (r.name.offset(), r.end());
        b.f(
            kind,
            start * 8,
            (stop - start) * 8,
            String::from_utf8_lossy(&v).into_owned(),
        );
        end = stop;
    }
    end
}

/// DHCP/BOOTP: the fixed fields, the magic cookie, then each option; returns where the
/// fields end.
fn dhcp_fields(b: &mut B<'_>, d: &netproto::frame::Dhcp<'_>) -> usize {
    b.dec("op", 0, 8);
    b.dec("htype", 8, 8);
    b.dec("hlen", 16, 8);
    b.dec("hops", 24, 8);
    b.hex("xid", 32, 32);
    b.dec("secs", 64, 16);
    b.hex("flags", 80, 16);
    for (i, n) in ["ciaddr", "yiaddr", "siaddr", "giaddr"].iter().enumerate() {
        b.ip4(n, 12 + i * 4);
    }
    b.mac("chaddr", 28, usize::from(d.hlen()).min(16));
    b.raw("sname", 44, 64);
    b.raw("file", 108, 128);
    if !d.has_magic() {
        return 236;
    }
    b.hex("magic", 236 * 8, 32);
    let mut end = 240;
    for o in d.options() {
        let Ok((code, data)) = o else { break };
        // The data is a slice of the frame: where it starts in this layer (pads skipped).
        let Some(at) = (data.as_ptr() as usize)
            .checked_sub(b.d.as_ptr() as usize + b.base)
            .filter(|&a| a >= 242)
        else {
            break;
        };
        let v = format!("{code} {}", repr_bytes(data));
        b.f("option", (at - 2) * 8, (2 + data.len()) * 8, v);
        end = at + data.len();
    }
    end
}

fn pkttype(p: u64) -> String {
    let n = match p {
        0 => "unicast to us (In)",
        1 => "broadcast",
        2 => "multicast",
        3 => "to another host",
        4 => "sent by us (Out)",
        _ => "",
    };
    format!("{p} ({n})")
}

/// scapy `show()`-style text with byte offsets, one layer after another.
pub fn show(f: &Frame<'_>, out: &mut String) {
    for lv in dissect(f) {
        let l = lv.layer;
        let _ = writeln!(
            out,
            "###[ {} ]### offset {} length {}",
            l.kind.name(),
            l.offset,
            l.len
        );
        for fl in &lv.fields {
            let pos = if fl.bit % 8 == 0 && fl.bits % 8 == 0 {
                format!("@{}", fl.byte())
            } else {
                format!("@{}.{}", fl.byte(), fl.bit % 8)
            };
            if fl.value.is_empty() {
                let _ = writeln!(out, "  {:<7} {}", pos, fl.name);
            } else {
                let _ = writeln!(out, "  {:<7} {:<17} = {}", pos, fl.name, fl.value);
            }
        }
    }
    if let Some(i) = f.issue() {
        let _ = writeln!(out, "  !! {i}");
    }
    if f.truncated() {
        let _ = writeln!(out, "  !! truncated by the capture's snapshot length");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_reader() {
        let d = [0b1010_0000, 0xff];
        assert_eq!(bits(&d, 0, 4), 0b1010);
        assert_eq!(bits(&d, 4, 8), 0b0000_1111);
        assert_eq!(bits(&d, 12, 8), 0b1111_0000, "missing bytes read as 0");
    }
}
