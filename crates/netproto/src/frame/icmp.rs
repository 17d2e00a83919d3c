//! ICMP and ICMPv6: type, code, checksum and the rest of the header.

use etherparse::{Icmpv4Slice, Icmpv6Slice};

use super::{Frame, LayerKind, Transport};

mod field {
    pub const TYPE: usize = 0;
    pub const CODE: usize = 1;
    /// The 4 type-specific bytes after the checksum (identifier and sequence of an echo).
    pub const REST_OF_HEADER: usize = 4;
    pub const HEADER_LEN: usize = 8;
    /// ICMPv4 timestamp request and reply (code 0) carry 12 more header bytes.
    pub const TIMESTAMP_LEN: usize = 20;
    pub const TYPE_TIMESTAMP: u8 = 13;
    pub const TYPE_TIMESTAMP_REPLY: u8 = 14;
}

fn rest_of_header(b: &[u8]) -> [u8; 4] {
    let r = field::REST_OF_HEADER;
    [b[r], b[r + 1], b[r + 2], b[r + 3]]
}

/// An ICMP message (header and body, as captured).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Icmpv4<'a> {
    bytes: &'a [u8],
}

impl Icmpv4<'_> {
    pub fn msg_type(&self) -> u8 {
        self.bytes[field::TYPE]
    }
    pub fn msg_code(&self) -> u8 {
        self.bytes[field::CODE]
    }
    /// The type-specific header bytes 4–7.
    pub fn rest_of_header(&self) -> [u8; 4] {
        rest_of_header(self.bytes)
    }
    /// 8 bytes, or 20 for timestamp messages.
    pub fn header_len(&self) -> usize {
        match self.msg_type() {
            field::TYPE_TIMESTAMP | field::TYPE_TIMESTAMP_REPLY if self.msg_code() == 0 => {
                field::TIMESTAMP_LEN
            }
            _ => field::HEADER_LEN,
        }
    }
}

/// An ICMPv6 message (header and body, as captured).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Icmpv6<'a> {
    bytes: &'a [u8],
}

impl<'a> Icmpv6<'a> {
    pub fn msg_type(&self) -> u8 {
        self.bytes[field::TYPE]
    }
    pub fn msg_code(&self) -> u8 {
        self.bytes[field::CODE]
    }
    /// The type-specific header bytes 4–7.
    pub fn rest_of_header(&self) -> [u8; 4] {
        rest_of_header(self.bytes)
    }
    /// Always 8.
    pub fn header_len(&self) -> usize {
        field::HEADER_LEN
    }
    /// The captured bytes after the header (a neighbor discovery target, …).
    pub fn payload(&self) -> &'a [u8] {
        &self.bytes[field::HEADER_LEN..]
    }
}

impl Frame<'_> {
    pub(super) fn decode_icmpv4(&mut self, off: usize, end: usize) {
        match Icmpv4Slice::from_slice(self.transport_bytes(off, end)) {
            Ok(i) => {
                let i = Icmpv4 { bytes: i.slice() };
                let hl = i.header_len();
                self.transport = Transport::Icmpv4(i);
                self.push(LayerKind::Icmpv4, off, hl);
                self.payload_len = self.payload_len.saturating_sub(hl as u32);
                self.finish(off + hl, end)
            }
            Err(_) => {
                self.cut(LayerKind::Icmpv4, off, field::HEADER_LEN, end);
                self.finish(off, end)
            }
        }
    }

    pub(super) fn decode_icmpv6(&mut self, off: usize, end: usize) {
        match Icmpv6Slice::from_slice(self.transport_bytes(off, end)) {
            Ok(i) => {
                let i = Icmpv6 { bytes: i.slice() };
                let hl = i.header_len();
                self.transport = Transport::Icmpv6(i);
                self.push(LayerKind::Icmpv6, off, hl);
                self.payload_len = self.payload_len.saturating_sub(hl as u32);
                self.finish(off + hl, end)
            }
            Err(_) => {
                self.cut(LayerKind::Icmpv6, off, field::HEADER_LEN, end);
                self.finish(off, end)
            }
        }
    }
}

/// The datagram an ICMP or ICMPv6 error quotes: its IP header and what follows (at least the
/// first 8 bytes of its payload when the sender kept RFC 792/4443's minimum), as captured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quoted<'a> {
    bytes: &'a [u8],
}

mod quoted {
    use super::super::Field;
    pub const V4_PROTO: usize = 9;
    pub const V4_SRC: Field = 12..16;
    pub const V4_DST: Field = 16..20;
    pub const V4_MIN_LEN: usize = 20;
    pub const V6_NEXT: usize = 6;
    pub const V6_SRC: Field = 8..24;
    pub const V6_DST: Field = 24..40;
    pub const V6_LEN: usize = 40;
}

impl<'a> Quoted<'a> {
    /// The quoted bytes when they start with a whole IPv4 or IPv6 header.
    pub fn new_checked(bytes: &'a [u8]) -> Option<Self> {
        let q = Quoted { bytes };
        let need = match q.version() {
            4 => quoted::V4_MIN_LEN.max(q.ipv4_header_len()),
            6 => quoted::V6_LEN,
            _ => return None,
        };
        (bytes.len() >= need).then_some(q)
    }
    /// The quoted bytes, from the IP header on.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }
    pub fn version(&self) -> u8 {
        self.bytes.first().map_or(0, |b| b >> 4)
    }
    fn ipv4_header_len(&self) -> usize {
        self.bytes.first().map_or(0, |b| usize::from(b & 0x0f) * 4)
    }
    /// Length of the quoted IP header (IPv6: the fixed 40 bytes).
    pub fn header_len(&self) -> usize {
        if self.version() == 6 {
            quoted::V6_LEN
        } else {
            self.ipv4_header_len()
        }
    }
    /// The protocol (IPv6: the next header of the fixed header).
    pub fn protocol(&self) -> u8 {
        let at = if self.version() == 6 {
            quoted::V6_NEXT
        } else {
            quoted::V4_PROTO
        };
        self.bytes.get(at).copied().unwrap_or(0)
    }
    fn addr(&self, v4: super::Field, v6: super::Field) -> std::net::IpAddr {
        if self.version() == 6 {
            let mut a = [0u8; 16];
            if let Some(b) = self.bytes.get(v6) {
                a.copy_from_slice(b);
            }
            std::net::IpAddr::V6(a.into())
        } else {
            let mut a = [0u8; 4];
            if let Some(b) = self.bytes.get(v4) {
                a.copy_from_slice(b);
            }
            std::net::IpAddr::V4(a.into())
        }
    }
    pub fn source(&self) -> std::net::IpAddr {
        self.addr(quoted::V4_SRC, quoted::V6_SRC)
    }
    pub fn destination(&self) -> std::net::IpAddr {
        self.addr(quoted::V4_DST, quoted::V6_DST)
    }
    /// The captured bytes after the quoted IP header (at most 8 are promised).
    pub fn payload(&self) -> &'a [u8] {
        self.bytes.get(self.header_len()..).unwrap_or(&[])
    }
    /// Source and destination port when the first 4 payload bytes were quoted (meaningful
    /// for TCP, UDP, SCTP, DCCP).
    pub fn ports(&self) -> Option<(u16, u16)> {
        let p = self.payload().get(..4)?;
        Some((
            u16::from_be_bytes([p[0], p[1]]),
            u16::from_be_bytes([p[2], p[3]]),
        ))
    }
}

/// ICMPv4 types whose body is a quoted datagram (unreachable, source quench, redirect, time
/// exceeded, parameter problem).
fn v4_quotes(ty: u8) -> bool {
    matches!(ty, 3 | 4 | 5 | 11 | 12)
}

impl<'a> Icmpv4<'a> {
    /// The quoted datagram of an error message, when its IP header was captured.
    pub fn quoted(&self) -> Option<Quoted<'a>> {
        if !v4_quotes(self.msg_type()) {
            return None;
        }
        Quoted::new_checked(self.bytes.get(field::HEADER_LEN..)?)
    }
    /// The captured bytes after the 8-byte header.
    pub fn body(&self) -> &'a [u8] {
        self.bytes.get(field::HEADER_LEN..).unwrap_or(&[])
    }
}

impl<'a> Icmpv6<'a> {
    /// The quoted datagram of an error message (types 1–4), when its IPv6 header was captured.
    pub fn quoted(&self) -> Option<Quoted<'a>> {
        if !(1..=4).contains(&self.msg_type()) {
            return None;
        }
        Quoted::new_checked(self.payload())
    }
}
