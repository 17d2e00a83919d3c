//! IPv4, IPv6 with its extension headers, and the hand-off to the transport decoders.

use std::net::{Ipv4Addr, Ipv6Addr};

use etherparse::{Ipv4HeaderSlice, Ipv6HeaderSlice};

use super::{Field, Frame, IssueKind, LayerKind, Net, be16};

/// IP protocol numbers the decoder follows.
pub(super) mod protocol {
    pub const HOPOPT: u8 = 0;
    pub const ICMP: u8 = 1;
    pub const TCP: u8 = 6;
    pub const UDP: u8 = 17;
    pub const IPV6_ROUTE: u8 = 43;
    pub const IPV6_FRAG: u8 = 44;
    pub const AH: u8 = 51;
    pub const ICMPV6: u8 = 58;
    pub const IPV6_OPTS: u8 = 60;
}

/// An IPv4 header (options included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4<'a> {
    /// The header bytes (`tcp_fast` builds one over a header it checked itself).
    pub(super) bytes: &'a [u8],
}

pub(super) mod v4 {
    use super::Field;
    /// Version (high nibble) and header length in 32-bit words (low nibble).
    pub const VER_IHL: usize = 0;
    pub const TOTAL_LEN: Field = 2..4;
    pub const IDENTIFICATION: Field = 4..6;
    /// Flags (3 bits) and fragment offset (13 bits).
    pub const FLAGS_FRAG: Field = 6..8;
    pub const FRAG_OFFSET_MASK: u16 = 0x1fff;
    pub const TTL: usize = 8;
    pub const PROTOCOL: usize = 9;
    pub const SRC: Field = 12..16;
    pub const DST: Field = 16..20;
    pub const MIN_HEADER_LEN: usize = DST.end;
}

fn addr4(b: &[u8], f: Field) -> Ipv4Addr {
    let mut a = [0; 4];
    a.copy_from_slice(&b[f]);
    a.into()
}

fn addr6(b: &[u8], f: Field) -> Ipv6Addr {
    let mut a = [0; 16];
    a.copy_from_slice(&b[f]);
    a.into()
}

impl Ipv4<'_> {
    /// The total length field (header and payload).
    pub fn total_len(&self) -> u16 {
        be16(self.bytes, v4::TOTAL_LEN)
    }
    /// The identification field (tells copies of a datagram from retransmissions).
    pub fn identification(&self) -> u16 {
        be16(self.bytes, v4::IDENTIFICATION)
    }
    /// Fragment offset in 8-byte units (0 for the first or only fragment).
    pub fn fragment_offset(&self) -> u16 {
        be16(self.bytes, v4::FLAGS_FRAG) & v4::FRAG_OFFSET_MASK
    }
    pub fn ttl(&self) -> u8 {
        self.bytes[v4::TTL]
    }
    pub fn protocol(&self) -> u8 {
        self.bytes[v4::PROTOCOL]
    }
    pub fn source(&self) -> Ipv4Addr {
        addr4(self.bytes, v4::SRC)
    }
    pub fn destination(&self) -> Ipv4Addr {
        addr4(self.bytes, v4::DST)
    }
}

/// An IPv6 fixed header (40 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6<'a> {
    bytes: &'a [u8],
}

mod v6 {
    use super::Field;
    pub const PAYLOAD_LEN: Field = 4..6;
    pub const NEXT_HEADER: usize = 6;
    pub const HOP_LIMIT: usize = 7;
    pub const SRC: Field = 8..24;
    pub const DST: Field = 24..40;
    pub const HEADER_LEN: usize = DST.end;
}

impl Ipv6<'_> {
    /// The payload length field (extension headers and transport; 0 for a jumbogram).
    pub fn payload_len(&self) -> u16 {
        be16(self.bytes, v6::PAYLOAD_LEN)
    }
    pub fn next_header(&self) -> u8 {
        self.bytes[v6::NEXT_HEADER]
    }
    pub fn hop_limit(&self) -> u8 {
        self.bytes[v6::HOP_LIMIT]
    }
    pub fn source(&self) -> Ipv6Addr {
        addr6(self.bytes, v6::SRC)
    }
    pub fn destination(&self) -> Ipv6Addr {
        addr6(self.bytes, v6::DST)
    }
}

/// IPv6 extension headers (hop-by-hop, routing, fragment, destination options, AH), walked
/// here rather than with etherparse: its lax walker hands back slices whose iterator reads
/// past the end when a header is cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Ipv6Exts<'a> {
    bytes: &'a [u8],
    first: u8,
}

/// One IPv6 extension header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6Ext<'a> {
    pub kind: LayerKind,
    /// Its own protocol number (0 hop-by-hop, 43 routing, 44 fragment, 60 dest opts, 51 AH).
    pub number: u8,
    pub next_header: u8,
    pub bytes: &'a [u8],
}

/// Extension header fields: next header (0), length (1); the fragment header's offset.
mod ext {
    use super::Field;
    pub const NEXT_HEADER: usize = 0;
    pub const LEN: usize = 1;
    pub const FRAG_OFFSET: Field = 2..4;
    pub const FRAG_LEN: usize = 8;
    /// Every extension header is at least 8 bytes long.
    pub const MIN_LEN: usize = 8;
}

impl Ipv6Ext<'_> {
    /// Fragment offset in 8-byte units (fragment headers only, else 0).
    fn fragment_offset(&self) -> u16 {
        if self.kind == LayerKind::Ipv6Fragment {
            be16(self.bytes, ext::FRAG_OFFSET) >> 3
        } else {
            0
        }
    }
}

fn ext_kind(n: u8) -> Option<LayerKind> {
    Some(match n {
        protocol::HOPOPT => LayerKind::Ipv6HopByHop,
        protocol::IPV6_ROUTE => LayerKind::Ipv6Routing,
        protocol::IPV6_FRAG => LayerKind::Ipv6Fragment,
        protocol::IPV6_OPTS => LayerKind::Ipv6DestOpts,
        protocol::AH => LayerKind::IpAuth,
        _ => return None,
    })
}

/// Length of the extension header `n` starting at `b`, if it fits.
fn ext_len(n: u8, b: &[u8]) -> Option<usize> {
    let l = match n {
        protocol::IPV6_FRAG => ext::FRAG_LEN,
        // AH counts 32-bit words minus 2, the others 8-byte units minus 1.
        protocol::AH => (usize::from(*b.get(ext::LEN)?) + 2) * 4,
        _ => (usize::from(*b.get(ext::LEN)?) + 1) * 8,
    };
    (b.len() >= l && l >= ext::MIN_LEN).then_some(l)
}

impl<'a> Ipv6Exts<'a> {
    /// Walk the chain starting with next-header `first` over `body`: returns the complete
    /// headers, the protocol after them, and whether a header was cut or invalid.
    fn parse(first: u8, body: &'a [u8]) -> (Ipv6Exts<'a>, u8, bool) {
        let mut n = first;
        let mut off = 0;
        let mut bad = false;
        while ext_kind(n).is_some() {
            let rest = &body[off..];
            match ext_len(n, rest) {
                Some(l) => {
                    n = rest[ext::NEXT_HEADER];
                    off += l;
                }
                None => {
                    bad = true;
                    break;
                }
            }
        }
        (
            Ipv6Exts {
                bytes: &body[..off],
                first,
            },
            n,
            bad,
        )
    }

    /// The extension headers in order.
    pub fn iter(&self) -> impl Iterator<Item = Ipv6Ext<'a>> + 'a {
        let mut rest = self.bytes;
        let mut n = self.first;
        std::iter::from_fn(move || {
            let kind = ext_kind(n)?;
            let l = ext_len(n, rest)?;
            let (bytes, tail) = rest.split_at(l);
            let e = Ipv6Ext {
                kind,
                number: n,
                next_header: bytes[ext::NEXT_HEADER],
                bytes,
            };
            n = e.next_header;
            rest = tail;
            Some(e)
        })
    }
}

impl<'a> Frame<'a> {
    pub(super) fn decode_ipv4(&mut self, off: usize) {
        let d = self.data;
        let rest = &d[off.min(d.len())..];
        let h = match Ipv4HeaderSlice::from_slice(rest) {
            Ok(h) => Ipv4 { bytes: h.slice() },
            Err(e) => {
                use etherparse::err::ipv4::HeaderSliceError as E;
                match e {
                    E::Len(l) => self.short(LayerKind::Ipv4, off, l.required_len),
                    E::Content(_) => self.fail(
                        LayerKind::Ipv4,
                        off,
                        IssueKind::Malformed("bad version or header length"),
                    ),
                }
                return self.finish(off, d.len());
            }
        };
        let hlen = h.bytes.len();
        let total = usize::from(h.total_len());
        // A total length of 0 (TSO on the sender) or below the header: trust the capture.
        let total = if total < hlen { rest.len() } else { total };
        let end = off + total;
        if end > d.len() {
            self.truncated = true;
        }
        self.ip_len = total as u32;
        self.ip_offset = off;
        let proto = h.protocol();
        let later_fragment = h.fragment_offset() != 0;
        self.net = Net::Ipv4(h);
        self.push(LayerKind::Ipv4, off, hlen);
        let poff = off + hlen;
        self.payload_len = (total - hlen) as u32;
        if later_fragment {
            return self.finish(poff, end);
        }
        self.decode_transport(proto, poff, end, false);
    }

    pub(super) fn decode_ipv6(&mut self, off: usize) {
        const HLEN: usize = v6::HEADER_LEN;
        let d = self.data;
        let rest = &d[off.min(d.len())..];
        let h = match Ipv6HeaderSlice::from_slice(rest) {
            Ok(h) => Ipv6 { bytes: h.slice() },
            Err(e) => {
                use etherparse::err::ipv6::HeaderSliceError as E;
                match e {
                    E::Len(l) => self.short(LayerKind::Ipv6, off, l.required_len),
                    E::Content(_) => {
                        self.fail(LayerKind::Ipv6, off, IssueKind::Malformed("bad version"))
                    }
                }
                return self.finish(off, d.len());
            }
        };
        let plen = usize::from(h.payload_len());
        // Payload length 0 means a jumbogram (or TSO): trust the capture.
        let plen = if plen == 0 {
            rest.len().saturating_sub(HLEN)
        } else {
            plen
        };
        let end = off + HLEN + plen;
        if end > d.len() {
            self.truncated = true;
        }
        self.ip_len = (HLEN + plen) as u32;
        self.ip_offset = off;
        self.push(LayerKind::Ipv6, off, HLEN);
        let body = &d[(off + HLEN).min(d.len())..end.min(d.len())];
        let (exts, next, err) = Ipv6Exts::parse(h.next_header(), body);
        let mut p = off + HLEN;
        let mut later_fragment = false;
        for e in exts.iter() {
            later_fragment |= e.fragment_offset() != 0;
            self.push(e.kind, p, e.bytes.len());
            p += e.bytes.len();
        }
        self.net = Net::Ipv6(h, exts);
        self.payload_len = end.saturating_sub(p) as u32;
        if err {
            self.fail(
                LayerKind::Ipv6,
                p,
                IssueKind::Malformed("IPv6 extension header cut or invalid"),
            );
            return self.finish(p, end);
        }
        if later_fragment {
            return self.finish(p, end);
        }
        self.decode_transport(next, p, end, true);
    }

    /// Decode the transport header at `off`; `end` is where the IP packet ends (may lie
    /// beyond the captured bytes).
    fn decode_transport(&mut self, proto: u8, off: usize, end: usize, v6: bool) {
        match proto {
            protocol::TCP => self.decode_tcp(off, end),
            protocol::UDP => self.decode_udp(off, end),
            protocol::ICMP if !v6 => self.decode_icmpv4(off, end),
            protocol::ICMPV6 => self.decode_icmpv6(off, end),
            _ => self.finish(off, end),
        }
    }

    /// The transport header's captured bytes from `off` to the end of the IP packet.
    pub(super) fn transport_bytes(&self, off: usize, end: usize) -> &'a [u8] {
        let d = self.data;
        d.get(off..end.min(d.len())).unwrap_or(&[])
    }
}
