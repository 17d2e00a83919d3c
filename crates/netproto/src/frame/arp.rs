//! ARP (any hardware and protocol address sizes).

use std::net::Ipv4Addr;

use super::{Field, Frame, LayerKind, Net, be16};

/// An ARP packet: hardware type(2) protocol type(2) hlen(1) plen(1) operation(2), then the
/// sender's and the target's hardware and protocol addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arp<'a> {
    bytes: &'a [u8],
}

mod field {
    use super::Field;
    pub const HLEN: usize = 4;
    pub const PLEN: usize = 5;
    pub const OPER: Field = 6..8;
    pub const ADDRS: usize = 8;
}

impl<'a> Arp<'a> {
    pub fn slice(&self) -> &'a [u8] {
        self.bytes
    }
    /// 1 request, 2 reply (3/4 RARP).
    pub fn operation(&self) -> u16 {
        be16(self.bytes, field::OPER)
    }
    /// Sender hardware, sender protocol, target hardware, target protocol address (`idx` 0–3).
    fn address(&self, idx: usize) -> &'a [u8] {
        let h = usize::from(self.bytes[field::HLEN]);
        let p = usize::from(self.bytes[field::PLEN]);
        let start = field::ADDRS
            + match idx {
                0 => 0,
                1 => h,
                2 => h + p,
                _ => 2 * h + p,
            };
        let len = if idx % 2 == 0 { h } else { p };
        &self.bytes[start..start + len]
    }
    pub fn sender_hw(&self) -> &'a [u8] {
        self.address(0)
    }
    /// Sender and target as IPv4 addresses (when the protocol addresses are 4 bytes).
    pub fn ipv4_addrs(&self) -> Option<(Ipv4Addr, Ipv4Addr)> {
        let s: [u8; 4] = self.address(1).try_into().ok()?;
        let t: [u8; 4] = self.address(3).try_into().ok()?;
        Some((s.into(), t.into()))
    }
}

impl Frame<'_> {
    pub(super) fn decode_arp(&mut self, off: usize) {
        let d = self.data;
        let rest = &d[off.min(d.len())..];
        if rest.len() < field::ADDRS {
            self.short(LayerKind::Arp, off, field::ADDRS);
            return self.finish(off, d.len());
        }
        let len =
            field::ADDRS + 2 * (usize::from(rest[field::HLEN]) + usize::from(rest[field::PLEN]));
        if rest.len() < len {
            self.short(LayerKind::Arp, off, len);
            return self.finish(off, d.len());
        }
        self.net = Net::Arp(Arp {
            bytes: &rest[..len],
        });
        self.push(LayerKind::Arp, off, len);
        self.finish(off + len, off + len);
    }
}
