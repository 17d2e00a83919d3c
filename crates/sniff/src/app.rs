//! tcpdump's one-line text for the application messages `netproto::frame` decodes (DNS,
//! BOOTP/DHCP, NTP, RIP, RIPng) and for the datagram an ICMP error quotes.

use std::net::IpAddr;

use netproto::frame::{
    App, AppKind, CLASS_IN, Dhcp, Dns, DnsRecord, DnsSection, Frame, Ntp, Quoted, Rip, dns_type,
};

use crate::text;

/// Append what tcpdump prints after `src.port > dst.port: ` for a UDP datagram whose ports
/// name an application; false when they name none (the caller prints `UDP, length N`).
pub fn udp(out: &mut Vec<u8>, f: &Frame<'_>) -> bool {
    let Some(app) = f.app() else {
        return false;
    };
    let len = f.payload_len();
    match app {
        Ok(App::Dns(d)) => dns(out, &d, len),
        Ok(App::Dhcp(d)) => dhcp(out, &d, len),
        Ok(App::Ntp(n)) => ntp(out, &n, len),
        Ok(App::Rip(r)) => rip(out, &r, len),
        Ok(App::Ripng(r)) => ripng(out, &r, len),
        Err(AppKind::Dns) if len < 12 => {
            out.extend_from_slice(b"domain [length ");
            text::dec(out, u64::from(len));
            out.extend_from_slice(b" < 12] (invalid)");
        }
        Err(k) => {
            out.extend_from_slice(b" [|");
            out.extend_from_slice(k.trunc_name().as_bytes());
            out.push(b']');
        }
    }
    true
}

/// DNS over TCP (port 53): the 2-byte length prefix, then the message.
pub fn dns_tcp(out: &mut Vec<u8>, payload: &[u8], len: u32) {
    if len < 2 {
        out.extend_from_slice(b" [DNS over TCP: length ");
        text::dec(out, u64::from(len));
        out.extend_from_slice(b" < 2] (invalid)");
        return;
    }
    let Some(&[a, b]) = payload.get(..2) else {
        out.extend_from_slice(b" [|domain]");
        return;
    };
    let prefix = u16::from_be_bytes([a, b]);
    let len = len - 2;
    if u32::from(prefix) != len {
        out.extend_from_slice(b" [prefix length(");
        text::dec(out, u64::from(prefix));
        out.extend_from_slice(b") != length(");
        text::dec(out, u64::from(len));
        out.extend_from_slice(b")] (invalid)");
        return;
    }
    out.push(b' ');
    match Dns::new_checked(&payload[2..]) {
        Ok(d) => dns(out, &d, len),
        Err(_) if len < 12 => {
            out.extend_from_slice(b"domain [length ");
            text::dec(out, u64::from(len));
            out.extend_from_slice(b" < 12] (invalid)");
        }
        Err(_) => out.extend_from_slice(b" [|domain]"),
    }
}

const OPCODES: [&str; 16] = [
    "",
    " inv_q",
    " stat",
    " op3",
    " notify",
    " update",
    " op6",
    " op7",
    " op8",
    " updateA",
    " updateD",
    " updateDA",
    " updateM",
    " updateMA",
    " zoneInit",
    " zoneRef",
];

fn rcode_text(rcode: u16) -> String {
    match rcode {
        0 => String::new(),
        1 => " FormErr".into(),
        2 => " ServFail".into(),
        3 => " NXDomain".into(),
        4 => " NotImp".into(),
        5 => " Refused".into(),
        6 => " YXDomain".into(),
        7 => " YXRRSet".into(),
        8 => " NXRRSet".into(),
        9 => " NotAuth".into(),
        10 => " NotZone".into(),
        16 => " BadVers".into(),
        n => format!(" Resp{n}"),
    }
}

/// tcpdump's DNS type names (the common ones; `TypeN` otherwise).
pub fn dns_type_name(t: u16) -> String {
    let n = match t {
        1 => "A",
        2 => "NS",
        5 => "CNAME",
        6 => "SOA",
        12 => "PTR",
        13 => "HINFO",
        15 => "MX",
        16 => "TXT",
        28 => "AAAA",
        33 => "SRV",
        35 => "NAPTR",
        39 => "DNAME",
        41 => "OPT",
        43 => "DS",
        46 => "RRSIG",
        47 => "NSEC",
        48 => "DNSKEY",
        50 => "NSEC3",
        52 => "TLSA",
        64 => "SVCB",
        65 => "HTTPS",
        99 => "SPF",
        250 => "TSIG",
        251 => "IXFR",
        252 => "AXFR",
        255 => "ANY",
        256 => "URI",
        257 => "CAA",
        _ => return format!("Type{t}"),
    };
    n.to_owned()
}

fn class_name(c: u16) -> String {
    match c {
        1 => "IN".into(),
        3 => "CHAOS".into(),
        4 => "HS".into(),
        255 => "ANY".into(),
        n => format!("(Class {n})"),
    }
}

/// tcpdump's `domain_print` without -v: the header summary, the questions of a query or the
/// answers of a response, and ` (LEN)`; ` [|domain]` where the capture or the message ends
/// early.
pub fn dns(out: &mut Vec<u8>, d: &Dns<'_>, len: u32) {
    let op = OPCODES[usize::from(d.opcode() & 0xf)];
    text::dec(out, u64::from(d.id()));
    out.extend_from_slice(op.as_bytes());
    let mut recs = d.records();
    if d.is_response() {
        out.extend_from_slice(rcode_text(d.extended_rcode()).as_bytes());
        if d.aa() {
            out.push(b'*');
        }
        if !d.ra() {
            out.push(b'-');
        }
        if d.tc() {
            out.push(b'|');
        }
        if d.ad() {
            out.push(b'$');
        }
        if d.qdcount() != 1 {
            out.extend_from_slice(b" [");
            text::dec(out, u64::from(d.qdcount()));
            out.extend_from_slice(b"q]");
        }
        for _ in 0..d.qdcount() {
            if !matches!(recs.next(), Some(Ok(_))) {
                return trunc(out);
            }
        }
        out.push(b' ');
        text::dec(out, u64::from(d.ancount()));
        out.push(b'/');
        text::dec(out, u64::from(d.nscount()));
        out.push(b'/');
        text::dec(out, u64::from(d.arcount()));
        // As tcpdump's `ns_rprint`: an answer whose fixed fields were not captured ends the
        // list quietly (`[|domain]` only if more answers were announced), one whose data was
        // cut prints its type and `[|domain]`.
        let mut end = 0;
        for i in 0..d.ancount() {
            if i > 0 {
                if end >= d.bytes().len() {
                    return trunc(out);
                }
                out.push(b',');
            }
            match recs.next() {
                Some(Ok(r)) if r.section == DnsSection::Answer => {
                    if !answer(out, &r) {
                        return trunc(out);
                    }
                    end = r.end();
                }
                Some(Err(netproto::frame::DnsError::RdataTruncated { rtype, .. })) => {
                    out.push(b' ');
                    out.extend_from_slice(dns_type_name(rtype).as_bytes());
                    return trunc(out);
                }
                _ => {
                    if i + 1 < d.ancount() {
                        return trunc(out);
                    }
                    break;
                }
            }
        }
    } else {
        if d.rd() {
            out.push(b'+');
        }
        if d.cd() {
            out.push(b'%');
        }
        let b2 = d.flags();
        if b2 & 0x6cf != 0 {
            out.extend_from_slice(b" [b2&3=0x");
            out.extend_from_slice(format!("{b2:x}").as_bytes());
            out.push(b']');
        }
        let count = |out: &mut Vec<u8>, n: u16, tag: &[u8]| {
            out.extend_from_slice(b" [");
            text::dec(out, u64::from(n));
            out.extend_from_slice(tag);
            out.push(b']');
        };
        if d.opcode() == 1 {
            if d.qdcount() != 0 {
                count(out, d.qdcount(), b"q");
            }
            if d.ancount() != 1 {
                count(out, d.ancount(), b"a");
            }
        } else {
            if d.ancount() != 0 {
                count(out, d.ancount(), b"a");
            }
            if d.qdcount() != 1 {
                count(out, d.qdcount(), b"q");
            }
        }
        if d.nscount() != 0 {
            count(out, d.nscount(), b"n");
        }
        if d.arcount() != 0 {
            count(out, d.arcount(), b"au");
        }
        for _ in 0..d.qdcount() {
            match recs.next() {
                Some(Ok(q)) => {
                    out.push(b' ');
                    out.extend_from_slice(dns_type_name(q.rtype).as_bytes());
                    if q.class != CLASS_IN {
                        out.push(b' ');
                        out.extend_from_slice(class_name(q.class).as_bytes());
                    }
                    out.extend_from_slice(b"? ");
                    if let Err(e) = q.name.write(out) {
                        return name_error(out, e);
                    }
                }
                _ => return trunc(out),
            }
        }
    }
    out.extend_from_slice(b" (");
    text::dec(out, u64::from(len));
    out.push(b')');
}

/// tcpdump's `<BAD PTR>` for a pointer that does not point backwards, then the cut mark.
fn name_error(out: &mut Vec<u8>, e: netproto::frame::DnsError) {
    if matches!(e, netproto::frame::DnsError::BadPointer(..)) {
        out.extend_from_slice(b"<BAD PTR>");
    }
    trunc(out)
}

fn trunc(out: &mut Vec<u8>) {
    out.extend_from_slice(b" [|domain]");
}

/// One answer as tcpdump's `ns_rprint` without -v; false when it could not be printed whole.
fn answer(out: &mut Vec<u8>, r: &DnsRecord<'_>) -> bool {
    if r.class != CLASS_IN && r.rtype != dns_type::OPT {
        out.push(b' ');
        out.extend_from_slice(class_name(r.class).as_bytes());
    }
    out.push(b' ');
    out.extend_from_slice(dns_type_name(r.rtype).as_bytes());
    match r.rtype {
        dns_type::A => match r.a() {
            Some(a) => {
                out.push(b' ');
                text::ipv4(out, a);
            }
            None => return false,
        },
        dns_type::AAAA => match r.aaaa() {
            Some(a) => {
                out.push(b' ');
                text::ip(out, IpAddr::V6(a));
            }
            None => return false,
        },
        dns_type::NS | dns_type::CNAME | dns_type::PTR | 39 => {
            out.push(b' ');
            match r.rdata_name(0) {
                Some(n) if n.write(out).is_ok() => {}
                _ => return false,
            }
        }
        dns_type::MX => {
            out.push(b' ');
            let (Some(pref), Some(n)) = (r.rdata_u16(0), r.rdata_name(2)) else {
                return false;
            };
            if n.write(out).is_err() {
                return false;
            }
            out.push(b' ');
            text::dec(out, u64::from(pref));
        }
        dns_type::SRV => {
            out.push(b' ');
            let (Some(prio), Some(weight), Some(port), Some(n)) = (
                r.rdata_u16(0),
                r.rdata_u16(2),
                r.rdata_u16(4),
                r.rdata_name(6),
            ) else {
                return false;
            };
            if n.write(out).is_err() {
                return false;
            }
            out.push(b':');
            text::dec(out, u64::from(port));
            out.push(b' ');
            text::dec(out, u64::from(prio));
            out.push(b' ');
            text::dec(out, u64::from(weight));
        }
        dns_type::TXT => {
            let mut rest = r.rdata;
            while let Some((&l, tail)) = rest.split_first() {
                let Some(s) = tail.get(..usize::from(l)) else {
                    return false;
                };
                out.extend_from_slice(b" \"");
                for &b in s {
                    text::print_char(out, b);
                }
                out.push(b'"');
                rest = &tail[usize::from(l)..];
            }
        }
        dns_type::OPT => {
            out.extend_from_slice(b" UDPsize=");
            text::dec(out, u64::from(r.class));
            if r.ttl & 0x8000 != 0 {
                out.extend_from_slice(b" DO");
            }
        }
        _ => {}
    }
    true
}

/// `BOOTP/DHCP, Request from MAC, length N` (tcpdump's `bootp_print` without -v).
pub fn dhcp(out: &mut Vec<u8>, d: &Dhcp<'_>, len: u32) {
    out.extend_from_slice(b"BOOTP/DHCP, ");
    match d.op() {
        1 => out.extend_from_slice(b"Request"),
        2 => out.extend_from_slice(b"Reply"),
        op => {
            out.extend_from_slice(b"unknown (0x");
            text::hex_byte(out, op);
            out.push(b')');
        }
    }
    if d.op() == 1
        && let Some(mac) = d.client_mac()
    {
        out.extend_from_slice(b" from ");
        text::mac(out, mac);
    }
    out.extend_from_slice(b", length ");
    text::dec(out, u64::from(len));
}

/// `NTPv4, Client, length 48` (tcpdump's `ntp_print` without -v).
pub fn ntp(out: &mut Vec<u8>, n: &Ntp<'_>, len: u32) {
    out.extend_from_slice(b"NTPv");
    text::dec(out, u64::from(n.version()));
    out.extend_from_slice(b", ");
    out.extend_from_slice(match n.mode() {
        0 => b"unspecified" as &[u8],
        1 => b"symmetric active",
        2 => b"symmetric passive",
        3 => b"Client",
        4 => b"Server",
        5 => b"Broadcast",
        6 => b"Control Message",
        _ => b"Reserved",
    });
    out.extend_from_slice(b", length ");
    text::dec(out, u64::from(len));
}

/// `RIPv2, Response, length: 44` (tcpdump's `rip_print` without -v).
pub fn rip(out: &mut Vec<u8>, r: &Rip<'_>, len: u32) {
    out.extend_from_slice(b"RIPv");
    text::dec(out, u64::from(r.version()));
    match r.version() {
        1 | 2 => {
            out.extend_from_slice(b", ");
            match r.command() {
                1 => out.extend_from_slice(b"Request"),
                2 => out.extend_from_slice(b"Response"),
                3 => out.extend_from_slice(b"Trace on"),
                4 => out.extend_from_slice(b"Trace off"),
                5 => out.extend_from_slice(b"Poll"),
                6 => out.extend_from_slice(b"Poll Entry"),
                c => {
                    out.extend_from_slice(b"unknown command (");
                    text::dec(out, u64::from(c));
                    out.push(b')');
                }
            }
            out.extend_from_slice(b", length: ");
            text::dec(out, u64::from(len));
        }
        _ => {}
    }
}

/// One RIPng route as tcpdump prints it: ` PREFIX/LEN [TAG]` (the tag only when set).
fn ripng_prefix(out: &mut Vec<u8>, e: &netproto::frame::RipngEntry) {
    out.push(b' ');
    text::ip(out, IpAddr::V6(e.prefix));
    out.push(b'/');
    text::dec(out, u64::from(e.prefix_len));
    if e.tag != 0 {
        out.extend_from_slice(b" [");
        text::dec(out, u64::from(e.tag));
        out.push(b']');
    }
}

/// RIPng as tcpdump's `ripng_print` without -v: ` ripng-resp N: prefix/len(metric) …`.
pub fn ripng(out: &mut Vec<u8>, r: &Rip<'_>, len: u32) {
    let body = len.saturating_sub(4);
    match r.command() {
        1 => {
            let entries: Vec<_> = r.ripng_entries().collect();
            if entries.is_empty() && body >= 20 {
                // tcpdump reads the first entry (is it a whole-table dump?) before printing.
                return out.extend_from_slice(b" [|ripng]");
            }
            if entries.len() == 1
                && entries[0].metric == 16
                && entries[0].prefix.is_unspecified()
                && entries[0].prefix_len == 0
            {
                out.extend_from_slice(b" ripng-req dump");
            } else {
                out.extend_from_slice(b" ripng-req ");
                text::dec(out, u64::from(body / 20));
                out.push(b':');
                for e in entries {
                    ripng_prefix(out, &e);
                }
            }
        }
        2 => {
            out.extend_from_slice(b" ripng-resp ");
            text::dec(out, u64::from(body / 20));
            out.push(b':');
            let captured = r.ripng_entries().count() as u32;
            for e in r.ripng_entries() {
                ripng_prefix(out, &e);
                out.extend_from_slice(b" (");
                text::dec(out, u64::from(e.metric));
                out.push(b')');
            }
            if captured < body / 20 {
                return out.extend_from_slice(b"  [|ripng]");
            }
        }
        c => {
            out.extend_from_slice(b" ripng-");
            text::dec(out, u64::from(c));
            out.extend_from_slice(b" ?");
        }
    }
    if r.version() != 1 {
        out.extend_from_slice(b" [vers ");
        text::dec(out, u64::from(r.version()));
        out.push(b']');
    }
}

/// What the datagram an ICMP error quotes was sent to, as tcpdump names an unreachable port:
/// `10.0.0.2 udp port 53` (ICMP and ICMPv6 alike).
pub fn quoted_port(out: &mut Vec<u8>, q: &Quoted<'_>) {
    text::ip(out, q.destination());
    match q.protocol() {
        6 => out.extend_from_slice(b" tcp port "),
        17 => out.extend_from_slice(b" udp port "),
        p => {
            out.extend_from_slice(b" protocol ");
            text::dec(out, u64::from(p));
            out.extend_from_slice(b" port ");
        }
    }
    text::dec(out, u64::from(q.ports().map_or(0, |p| p.1)));
}

/// The text of an ICMP destination unreachable that names what the quoted datagram was sent
/// to (tcpdump's `icmp_print`): `10.0.0.2 udp port 53 unreachable`.
pub fn icmp4_unreach(out: &mut Vec<u8>, code: u8, mtu: u16, q: &Quoted<'_>) {
    let dst = q.destination();
    let host = |out: &mut Vec<u8>, pre: &[u8], post: &[u8]| {
        out.extend_from_slice(pre);
        text::ip(out, dst);
        out.extend_from_slice(post);
    };
    match code {
        0 => host(out, b"net ", b" unreachable"),
        1 => host(out, b"host ", b" unreachable"),
        2 => {
            text::ip(out, dst);
            out.extend_from_slice(b" protocol ");
            text::dec(out, u64::from(q.protocol()));
            out.extend_from_slice(b" unreachable");
        }
        3 => {
            quoted_port(out, q);
            out.extend_from_slice(b" unreachable");
        }
        4 => {
            text::ip(out, dst);
            out.extend_from_slice(b" unreachable - need to frag");
            if mtu != 0 {
                out.extend_from_slice(b" (mtu ");
                text::dec(out, u64::from(mtu));
                out.push(b')');
            }
        }
        5 => host(out, b"", b" unreachable - source route failed"),
        6 => host(out, b"net ", b" unreachable - unknown"),
        7 => host(out, b"host ", b" unreachable - unknown"),
        8 => host(out, b"", b" unreachable - source host isolated"),
        9 => host(out, b"net ", b" unreachable - admin prohibited"),
        10 => host(out, b"host ", b" unreachable - admin prohibited"),
        11 => host(out, b"net ", b" unreachable - tos prohibited"),
        12 => host(out, b"host ", b" unreachable - tos prohibited"),
        13 => host(out, b"host ", b" unreachable - admin prohibited filter"),
        14 => host(out, b"host ", b" unreachable - host precedence violation"),
        15 => host(out, b"host ", b" unreachable - precedence cutoff"),
        c => {
            out.push(b'#');
            text::dec(out, u64::from(c));
            out.push(b' ');
            text::ip(out, dst);
            out.extend_from_slice(b" unreachable");
        }
    }
}

/// The `--json` object for a UDP application message: `("dns", {...})`, `dhcp`, `ntp`, `rip`
/// or `ripng`, every field of the header and what the message lists (DNS questions and
/// answers, DHCP options, RIP routes); `None` when the ports name no application or the
/// message is too short to decode.
pub fn json(f: &Frame<'_>) -> Option<(&'static str, serde_json::Value)> {
    use serde_json::json;
    Some(match f.app()?.ok()? {
        App::Dns(d) => ("dns", dns_json(&d)),
        App::Dhcp(d) => (
            "dhcp",
            json!({
                "op": d.op(),
                "xid": d.xid(),
                "secs": d.secs(),
                "flags": d.flags(),
                "ciaddr": d.ciaddr().to_string(),
                "yiaddr": d.yiaddr().to_string(),
                "siaddr": d.siaddr().to_string(),
                "giaddr": d.giaddr().to_string(),
                "client_mac": d.client_mac().map(text::mac_string),
                "message_type": d.message_type(),
                "options": d.options().filter_map(Result::ok).map(|(c, _)| c).collect::<Vec<u8>>(),
            }),
        ),
        App::Ntp(n) => (
            "ntp",
            json!({
                "leap": n.leap(),
                "version": n.version(),
                "mode": n.mode(),
                "stratum": n.stratum(),
                "poll": n.poll(),
                "precision": n.precision(),
                "root_delay": n.root_delay(),
                "root_dispersion": n.root_dispersion(),
                "reference_id": n.reference_id(),
                "transmit_ts": n.transmit_ts().map(|(s, f)| f64::from(s) + f64::from(f) / 4_294_967_296.0),
            }),
        ),
        App::Rip(r) => (
            "rip",
            json!({
                "version": r.version(),
                "command": r.command(),
                "entries": r.entries().map(|e| json!({
                    "afi": e.afi,
                    "tag": e.tag,
                    "addr": e.addr.to_string(),
                    "mask": e.mask.to_string(),
                    "next_hop": e.next_hop.to_string(),
                    "metric": e.metric,
                })).collect::<Vec<_>>(),
            }),
        ),
        App::Ripng(r) => (
            "ripng",
            json!({
                "version": r.version(),
                "command": r.command(),
                "entries": r.ripng_entries().map(|e| json!({
                    "prefix": e.prefix.to_string(),
                    "prefix_len": e.prefix_len,
                    "tag": e.tag,
                    "metric": e.metric,
                })).collect::<Vec<_>>(),
            }),
        ),
    })
}

/// The data of an address or name record as text (`93.184.216.34`, `mx.example.com.`, MX as
/// `10 mx.example.com.`); `None` for other types or data that does not decode.
pub fn rdata_text(r: &DnsRecord<'_>) -> Option<String> {
    let name = |at: usize| {
        let mut v = Vec::new();
        r.rdata_name(at)?.write(&mut v).ok()?;
        Some(String::from_utf8_lossy(&v).into_owned())
    };
    match r.rtype {
        dns_type::A => r.a().map(|a| a.to_string()),
        dns_type::AAAA => r.aaaa().map(|a| a.to_string()),
        dns_type::NS | dns_type::CNAME | dns_type::PTR => name(0),
        dns_type::MX => Some(format!("{} {}", r.rdata_u16(0)?, name(2)?)),
        _ => None,
    }
}

/// A DNS message as JSON: the header, then each record in order (questions, answers,
/// authority, additional), `truncated` where the message or the capture ends early.
fn dns_json(d: &Dns<'_>) -> serde_json::Value {
    use serde_json::json;
    let mut records = Vec::new();
    let mut truncated = false;
    for r in d.records() {
        let Ok(r) = r else {
            truncated = true;
            break;
        };
        let mut name = Vec::new();
        if r.name.write(&mut name).is_err() {
            truncated = true;
            break;
        }
        let section = match r.section {
            DnsSection::Question => "question",
            DnsSection::Answer => "answer",
            DnsSection::Authority => "authority",
            DnsSection::Additional => "additional",
        };
        let mut j = json!({
            "section": section,
            "name": String::from_utf8_lossy(&name),
            "type": dns_type_name(r.rtype),
            "class": r.class,
        });
        if r.section != DnsSection::Question {
            j["ttl"] = r.ttl.into();
            if let Some(data) = rdata_text(&r) {
                j["data"] = data.into();
            }
        }
        records.push(j);
    }
    json!({
        "id": d.id(),
        "response": d.is_response(),
        "opcode": d.opcode(),
        "rcode": d.extended_rcode(),
        "aa": d.aa(), "tc": d.tc(), "rd": d.rd(), "ra": d.ra(), "ad": d.ad(), "cd": d.cd(),
        "qdcount": d.qdcount(),
        "ancount": d.ancount(),
        "nscount": d.nscount(),
        "arcount": d.arcount(),
        "records": records,
        "truncated": truncated,
    })
}
