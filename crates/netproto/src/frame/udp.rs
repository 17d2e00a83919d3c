//! UDP: the header view and the [`UdpDatagram`] facts.

use std::net::IpAddr;

use super::{Field, Frame, LayerKind, Transport, be16};

/// A UDP header: source port, destination port, length, checksum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Udp<'a> {
    bytes: &'a [u8],
}

mod field {
    use super::Field;
    pub const SRC_PORT: Field = 0..2;
    pub const DST_PORT: Field = 2..4;
    pub const LENGTH: Field = 4..6;
    pub const CHECKSUM: Field = 6..8;
    pub const HEADER_LEN: usize = CHECKSUM.end;
}

impl Udp<'_> {
    pub fn source_port(&self) -> u16 {
        be16(self.bytes, field::SRC_PORT)
    }
    pub fn destination_port(&self) -> u16 {
        be16(self.bytes, field::DST_PORT)
    }
    /// The length field (header + payload).
    pub fn length(&self) -> u16 {
        be16(self.bytes, field::LENGTH)
    }
    pub fn checksum(&self) -> u16 {
        be16(self.bytes, field::CHECKSUM)
    }
}

/// A UDP datagram's facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdpDatagram<'a> {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub sport: u16,
    pub dport: u16,
    /// The UDP length field (header + payload).
    pub length: u16,
    pub checksum: u16,
    /// The captured payload.
    pub payload: &'a [u8],
    pub offset: usize,
}

impl<'a> Frame<'a> {
    /// The UDP datagram's facts, when this frame carries a UDP header.
    pub fn udp(&self) -> Option<UdpDatagram<'a>> {
        let Transport::Udp(u) = &self.transport else {
            return None;
        };
        Some(UdpDatagram {
            src: self.src_ip()?,
            dst: self.dst_ip()?,
            sport: u.source_port(),
            dport: u.destination_port(),
            length: u.length(),
            checksum: u.checksum(),
            payload: self.payload(),
            offset: self.payload_offset - field::HEADER_LEN,
        })
    }

    pub(super) fn decode_udp(&mut self, off: usize, end: usize) {
        const HLEN: usize = field::HEADER_LEN;
        let Some(bytes) = self.transport_bytes(off, end).get(..HLEN) else {
            self.cut(LayerKind::Udp, off, HLEN, end);
            return self.finish(off, end);
        };
        let u = Udp { bytes };
        let ulen = usize::from(u.length());
        // UDP length bounds the payload when it is sane.
        let uend = if ulen >= HLEN && off + ulen <= end {
            off + ulen
        } else {
            end
        };
        self.transport = Transport::Udp(u);
        self.push(LayerKind::Udp, off, HLEN);
        self.payload_len = (uend - off - HLEN) as u32;
        self.finish(off + HLEN, uend)
    }
}
