//! The other output styles: scapy's one-line summary, hex dumps, and NDJSON records.

use serde::Serialize;

use netcap::Record;
use netproto::frame::{Frame, LayerKind, Net, TcpOption, Transport};

use crate::{tcpdump, text};

/// scapy's `summary()`: `Ether / IP / TCP 10.0.0.1:40000 > 10.0.0.2:5000 PA / Raw`.
pub fn summary(out: &mut Vec<u8>, f: &Frame<'_>) {
    for (i, l) in f.layers().iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(b" / ");
        }
        out.extend_from_slice(l.kind.name().as_bytes());
        match l.kind {
            LayerKind::Tcp => {
                if let Some(t) = f.tcp() {
                    out.push(b' ');
                    endpoint(out, t.src, t.sport);
                    out.extend_from_slice(b" > ");
                    endpoint(out, t.dst, t.dport);
                    out.push(b' ');
                    scapy_flags(out, t.flags.0);
                }
            }
            LayerKind::Udp => {
                if let Some(u) = f.udp() {
                    out.push(b' ');
                    endpoint(out, u.src, u.sport);
                    out.extend_from_slice(b" > ");
                    endpoint(out, u.dst, u.dport);
                }
            }
            LayerKind::Icmpv4 | LayerKind::Icmpv6 => {
                if let (Some(s), Some(d)) = (f.src_ip(), f.dst_ip()) {
                    out.push(b' ');
                    text::ip(out, s);
                    out.extend_from_slice(b" > ");
                    text::ip(out, d);
                    let (ty, code) = match f.transport() {
                        Transport::Icmpv4(i) => (i.msg_type(), i.msg_code()),
                        Transport::Icmpv6(i) => (i.msg_type(), i.msg_code()),
                        _ => (0, 0),
                    };
                    out.push(b' ');
                    out.extend_from_slice(icmp_name(l.kind == LayerKind::Icmpv6, ty).as_bytes());
                    out.push(b' ');
                    text::dec(out, u64::from(code));
                }
            }
            LayerKind::Arp => {
                if let Net::Arp(a) = f.net()
                    && let Some((s, t)) = a.ipv4_addrs()
                {
                    if a.operation() == 1 {
                        out.extend_from_slice(b" who has ");
                        text::ipv4(out, t);
                        out.extend_from_slice(b" says ");
                        text::ipv4(out, s);
                    } else {
                        out.extend_from_slice(b" is at ");
                        text::mac(out, a.sender_hw());
                        out.extend_from_slice(b" says ");
                        text::ipv4(out, s);
                    }
                }
            }
            LayerKind::Ipv4 | LayerKind::Ipv6 if !has_transport(f) => {
                if let (Some(s), Some(d)) = (f.src_ip(), f.dst_ip()) {
                    out.push(b' ');
                    text::ip(out, s);
                    out.extend_from_slice(b" > ");
                    text::ip(out, d);
                    if let Some(p) = f.ip_proto() {
                        out.push(b' ');
                        out.extend_from_slice(crate::line::proto_name(p).as_bytes());
                    }
                }
            }
            _ => {}
        }
    }
    if f.layers().is_empty() {
        out.extend_from_slice(b"Raw");
    }
    out.push(b'\n');
}

fn has_transport(f: &Frame<'_>) -> bool {
    !matches!(f.transport(), Transport::None)
}

fn endpoint(out: &mut Vec<u8>, ip: std::net::IpAddr, port: u16) {
    text::ip(out, ip);
    out.push(b':');
    text::dec(out, u64::from(port));
}

/// scapy's flag letters in bit order: F S R P A U E C N.
pub fn scapy_flags(out: &mut Vec<u8>, flags: u16) {
    for (i, c) in b"FSRPAUECN".iter().enumerate() {
        if flags & (1 << i) != 0 {
            out.push(*c);
        }
    }
}

fn icmp_name(v6: bool, ty: u8) -> &'static str {
    match (v6, ty) {
        (false, 0) => "echo-reply",
        (false, 3) => "dest-unreach",
        (false, 5) => "redirect",
        (false, 8) => "echo-request",
        (false, 11) => "time-exceeded",
        (true, 1) => "dest-unreach",
        (true, 2) => "packet-too-big",
        (true, 3) => "time-exceeded",
        (true, 128) => "echo-request",
        (true, 129) => "echo-reply",
        (true, 133) => "router-solicitation",
        (true, 134) => "router-advertisement",
        (true, 135) => "neighbor-solicitation",
        (true, 136) => "neighbor-advertisement",
        _ => "type",
    }
}

/// tcpdump's hex dump (`-x`, or `-X` with ASCII): `\t0x0010:  4500 0034 ...  E..4`.
pub fn hexdump(out: &mut Vec<u8>, bytes: &[u8], ascii: bool) {
    for (row, chunk) in bytes.chunks(16).enumerate() {
        out.extend_from_slice(b"\t0x");
        text::hex_pad(out, (row * 16) as u64, 4);
        out.extend_from_slice(b": ");
        let start = out.len();
        for pair in chunk.chunks(2) {
            out.push(b' ');
            for b in pair {
                text::hex_byte(out, *b);
            }
        }
        if ascii {
            // Full line of hex is 40 columns.
            while out.len() < start + 40 {
                out.push(b' ');
            }
            out.extend_from_slice(b"  ");
            for &b in chunk {
                // tcpdump: ND_ASCII_ISGRAPH, so a space is a dot too.
                out.push(if b.is_ascii_graphic() { b } else { b'.' });
            }
        }
        out.push(b'\n');
    }
}

/// One NDJSON packet record.
#[derive(Debug, Serialize)]
pub struct JsonPacket<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub frame: u64,
    pub ts: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iface: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dir: Option<&'static str>,
    pub caplen: u32,
    pub len: u32,
    pub layers: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub src: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dst: Option<String>,
    pub proto: &'a str,
    /// `--process`: the owner of the source and destination sockets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub src_process: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dst_process: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_len: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttl: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sport: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dport: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seq: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ack: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flags: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flags_raw: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub win: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload_len: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub options: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icmp_type: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icmp_code: Option<u8>,
    /// A UDP application message (`dns`, `dhcp`, `ntp`, `rip`, `ripng`: see [`crate::app::json`]).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub app: Option<serde_json::Map<String, serde_json::Value>>,
    /// The HTTP request or status line a TCP payload starts with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http: Option<String>,
    /// `ClientHello` when a TCP payload starts with one; `tls_sni`: its server name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_sni: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issue: Option<String>,
}

/// Build the JSON record for a packet.
pub fn json_packet<'a>(
    n: u64,
    r: &Record<'_>,
    f: &'a Frame<'_>,
    iface: Option<String>,
) -> JsonPacket<'a> {
    let mut j = JsonPacket {
        kind: "packet",
        frame: n,
        ts: r.ts.as_secs_f64(),
        iface,
        dir: f.direction().map(tcpdump::direction),
        caplen: r.caplen,
        len: r.len,
        layers: f.layers().iter().map(|l| l.kind.name()).collect(),
        src: f.src_ip().map(|a| a.to_string()),
        dst: f.dst_ip().map(|a| a.to_string()),
        proto: tcpdump::proto(f),
        src_process: None,
        dst_process: None,
        ip_len: f.ip_len(),
        ttl: None,
        sport: None,
        dport: None,
        seq: None,
        ack: None,
        flags: None,
        flags_raw: None,
        win: None,
        payload_len: None,
        options: None,
        icmp_type: None,
        icmp_code: None,
        app: None,
        http: None,
        tls: None,
        tls_sni: None,
        truncated: f.truncated(),
        issue: f.issue().map(|i| i.to_string()),
    };
    if let Some((s, d)) = f.ports() {
        j.sport = Some(s);
        j.dport = Some(d);
    }
    if let Some(t) = f.tcp() {
        j.ttl = Some(t.ttl);
        j.seq = Some(t.seq);
        j.ack = Some(t.ack);
        j.flags = Some(tcpdump::flags(t.flags));
        j.flags_raw = Some(t.flags.0);
        j.win = Some(t.window);
        j.payload_len = Some(t.payload_len);
        j.options = Some(tcp_options_json(t.options));
        if let Some(line) = netproto::frame::http_first_line(t.payload) {
            j.http = Some(String::from_utf8_lossy(line).into_owned());
        } else if let Some(netproto::frame::TlsHello::ClientHello { server_name, .. }) =
            netproto::frame::client_hello(t.payload)
        {
            j.tls = Some("ClientHello");
            j.tls_sni = server_name.map(|n| String::from_utf8_lossy(n).into_owned());
        }
    } else if f.udp().is_some() {
        j.payload_len = Some(f.payload_len());
        if let Some((k, v)) = crate::app::json(f) {
            j.app = Some(serde_json::Map::from_iter([(k.to_owned(), v)]));
        }
    }
    match f.transport() {
        Transport::Icmpv4(i) => {
            j.icmp_type = Some(i.msg_type());
            j.icmp_code = Some(i.msg_code());
        }
        Transport::Icmpv6(i) => {
            j.icmp_type = Some(i.msg_type());
            j.icmp_code = Some(i.msg_code());
        }
        _ => {}
    }
    j
}

/// tcpdump's -A, after the packet's line: each byte as text (printable ASCII, tab, space and
/// newline as they are; a CR before a newline or among the last two bytes dropped; anything
/// else `.`), then
/// the end of the line.
pub fn ascii(out: &mut Vec<u8>, d: &[u8]) {
    for (i, &b) in d.iter().enumerate() {
        if b == b'\r' {
            // tcpdump's print-ascii.c: `length > 1` after the CR was counted, so a CR
            // second to last is dropped too.
            if d.len() - i - 1 > 1 && d[i + 1] != b'\n' {
                out.push(b'.');
            }
        } else if b.is_ascii_graphic() || b == b'\t' || b == b' ' || b == b'\n' {
            out.push(b);
        } else {
            out.push(b'.');
        }
    }
    out.push(b'\n');
}

fn hex_str(d: &[u8]) -> String {
    let mut hex = Vec::new();
    for b in d {
        text::hex_byte(&mut hex, *b);
    }
    String::from_utf8(hex).unwrap_or_default()
}

fn tcp_options_json(
    o: netproto::frame::TcpOptions<'_>,
) -> serde_json::Map<String, serde_json::Value> {
    use serde_json::{Value, json};
    let mut m = serde_json::Map::new();
    let mut other = Vec::new();
    let mut nop = 0u32;
    for opt in o.iter() {
        match opt {
            TcpOption::Mss(v) => {
                m.insert("mss".into(), json!(v));
            }
            TcpOption::WindowScale(v) => {
                m.insert("wscale".into(), json!(v));
            }
            TcpOption::SackPermitted => {
                m.insert("sack_perm".into(), Value::Bool(true));
            }
            TcpOption::Sack(b) => {
                let blocks: Vec<Value> = b.iter().map(|(l, r)| json!([l, r])).collect();
                m.insert("sack".into(), Value::Array(blocks));
            }
            TcpOption::Timestamp { tsval, tsecr } => {
                m.insert("ts".into(), json!({"val": tsval, "ecr": tsecr}));
            }
            TcpOption::Nop => nop += 1,
            TcpOption::End => {
                m.insert("eol".into(), Value::Bool(true));
            }
            TcpOption::UserTimeout(v) => {
                m.insert(
                    "uto".into(),
                    json!({"raw": v, "secs": TcpOption::user_timeout_secs(v)}),
                );
            }
            TcpOption::Md5(d) => {
                m.insert("md5".into(), json!(hex_str(d)));
            }
            TcpOption::Ao {
                key_id,
                rnext_key_id,
                mac,
            } => {
                m.insert(
                    "ao".into(),
                    json!({"keyid": key_id, "rnextkeyid": rnext_key_id, "mac": hex_str(mac)}),
                );
            }
            TcpOption::Mptcp(mp) => {
                let list = m.entry("mptcp").or_insert_with(|| Value::Array(Vec::new()));
                if let Value::Array(a) = list {
                    a.push(json!({"subtype": mp.subtype(), "data": hex_str(mp.bytes())}));
                }
            }
            TcpOption::FastOpen {
                cookie,
                experimental,
            } => {
                m.insert(
                    "tfo".into(),
                    json!({"cookie": hex_str(cookie), "experimental": experimental}),
                );
            }
            TcpOption::AccEcn { order, counters } => {
                m.insert(
                    "accecn".into(),
                    json!({"order": order, "counters": hex_str(counters)}),
                );
            }
            TcpOption::Experimental { kind, exid, data } => {
                other.push(
                    json!({"kind": kind, "exid": exid, "data": hex_str(data), "malformed": false}),
                );
            }
            TcpOption::Other { kind, data } | TcpOption::Malformed { kind, data } => {
                let mut hex = Vec::new();
                for b in data {
                    text::hex_byte(&mut hex, *b);
                }
                other.push(json!({
                    "kind": kind,
                    "data": String::from_utf8(hex).unwrap_or_default(),
                    "malformed": matches!(opt, TcpOption::Malformed { .. }),
                }));
            }
        }
    }
    if nop > 0 {
        m.insert("nop".into(), json!(nop));
    }
    if !other.is_empty() {
        m.insert("other".into(), Value::Array(other));
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_lines_like_tcpdump() {
        let mut v = Vec::new();
        hexdump(&mut v, b"E\x00\x00\x34abcdefghijklmnopq", true);
        let s = String::from_utf8(v).unwrap();
        let lines: Vec<_> = s.lines().collect();
        assert_eq!(
            lines[0],
            "\t0x0000:  4500 0034 6162 6364 6566 6768 696a 6b6c  E..4abcdefghijkl"
        );
        assert_eq!(
            lines[1],
            "\t0x0010:  6d6e 6f70 71                             mnopq"
        );
    }

    #[test]
    fn scapy_flag_letters() {
        let mut v = Vec::new();
        scapy_flags(&mut v, 0x18);
        assert_eq!(v, b"PA");
        v.clear();
        scapy_flags(&mut v, 0x12);
        assert_eq!(v, b"SA");
    }
}
