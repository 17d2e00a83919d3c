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
