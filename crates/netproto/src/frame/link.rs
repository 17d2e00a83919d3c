//! The link layer: Ethernet II / 802.3 with 802.1Q tags, Linux cooked captures (SLL, SLL2)
//! and BSD NULL/LOOP, and the first decoding step of every frame.

use super::{Field, Frame, IssueKind, LayerKind, Link, be16, be32, linktype};

/// EtherType values the decoder follows.
pub mod ethertype {
    pub const IPV4: u16 = 0x0800;
    pub const ARP: u16 = 0x0806;
    pub const VLAN: u16 = 0x8100;
    pub const QINQ: u16 = 0x88a8;
    pub const IPV6: u16 = 0x86dd;
    /// Linux SLL protocol value meaning "an 802.2 LLC frame follows".
    pub const SLL_LLC: u16 = 0x0004;
    /// Type fields up to this value are 802.3 lengths, not EtherTypes.
    pub const MAX_LEN: u16 = 1500;
}

/// An Ethernet II (or 802.3) header: destination, source, type (or length).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ethernet<'a> {
    bytes: &'a [u8],
}

/// Ethernet II: destination (0..6), source (6..12), type.
pub(super) mod eth {
    use super::Field;
    pub const DST: Field = 0..6;
    pub const SRC: Field = 6..12;
    pub const ETHERTYPE: Field = 12..14;
    pub const HEADER_LEN: usize = ETHERTYPE.end;
}

impl<'a> Ethernet<'a> {
    /// The EtherType, or the 802.3 length when at most [`ethertype::MAX_LEN`].
    pub fn ether_type(&self) -> u16 {
        be16(self.bytes, eth::ETHERTYPE)
    }
    /// The destination MAC address.
    pub fn destination(&self) -> &'a [u8] {
        self.bytes.get(eth::DST).unwrap_or(&[])
    }
    /// The source MAC address.
    pub fn source(&self) -> &'a [u8] {
        self.bytes.get(eth::SRC).unwrap_or(&[])
    }
}

/// An 802.1Q (or 802.1ad) tag: TCI, then the EtherType of what follows.
mod vlan {
    use super::Field;
    pub const ETHERTYPE: Field = 2..4;
    pub const HEADER_LEN: usize = ETHERTYPE.end;
}

/// At most this many stacked VLAN tags are followed.
const MAX_VLANS: usize = 2;

/// Direction of a packet as Linux cooked captures record it (`sll_pkttype`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacketDirection {
    /// To us (`PACKET_HOST`), tcpdump's `In`.
    Host,
    /// Link-layer broadcast, tcpdump's `B`.
    Broadcast,
    /// Link-layer multicast, tcpdump's `M`.
    Multicast,
    /// To another host, seen in promiscuous mode, tcpdump's `P`.
    OtherHost,
    /// Sent by us, tcpdump's `Out`.
    Outgoing,
    Other(u16),
}

impl PacketDirection {
    fn from_raw(v: u16) -> Self {
        match v {
            0 => PacketDirection::Host,
            1 => PacketDirection::Broadcast,
            2 => PacketDirection::Multicast,
            3 => PacketDirection::OtherHost,
            4 => PacketDirection::Outgoing,
            n => PacketDirection::Other(n),
        }
    }
}

/// A Linux cooked-capture header, v1 (16 bytes) or v2 (20 bytes).
///
/// v1: pkttype(2) hatype(2) halen(2) addr(8) protocol(2).
/// v2: protocol(2) reserved(2) ifindex(4) hatype(2) pkttype(1) halen(1) addr(8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sll<'a> {
    bytes: &'a [u8],
    v2: bool,
}

/// SLL v1 fields the decoder reads (hatype 2..4, halen 4..6, addr 6..14 are shown by sniff's
/// dissector from the bytes).
pub(super) mod sll1 {
    use super::Field;
    pub const PKTTYPE: Field = 0..2;
    pub const HALEN: Field = 4..6;
    pub const ADDR: usize = 6;
    pub const PROTOCOL: Field = 14..16;
    pub const HEADER_LEN: usize = PROTOCOL.end;
}

/// SLL v2 fields the decoder reads (reserved 2..4, hatype 8..10, halen 11, addr 12..20).
pub(super) mod sll2 {
    use super::Field;
    pub const PROTOCOL: Field = 0..2;
    pub const IFINDEX: Field = 4..8;
    pub const PKTTYPE: usize = 10;
    pub const HALEN: usize = 11;
    pub const ADDR: usize = 12;
    pub const HEADER_LEN: usize = 20;
}

impl<'a> Sll<'a> {
    /// The link-layer address of the sender (at most 8 bytes, as the header's length says).
    pub fn address(&self) -> &'a [u8] {
        let (len, at) = if self.v2 {
            (
                usize::from(self.bytes.get(sll2::HALEN).copied().unwrap_or(0)),
                sll2::ADDR,
            )
        } else {
            (usize::from(be16(self.bytes, sll1::HALEN)), sll1::ADDR)
        };
        self.bytes.get(at..at + len.min(8)).unwrap_or(&[])
    }
    pub const V1_LEN: usize = sll1::HEADER_LEN;
    pub const V2_LEN: usize = sll2::HEADER_LEN;

    /// EtherType of the payload (or an SLL pseudo-protocol such as 4 = 802.2 LLC).
    pub fn protocol(&self) -> u16 {
        if self.v2 {
            be16(self.bytes, sll2::PROTOCOL)
        } else {
            be16(self.bytes, sll1::PROTOCOL)
        }
    }
    /// Interface index (v2 only).
    pub fn ifindex(&self) -> Option<u32> {
        self.v2.then(|| be32(self.bytes, sll2::IFINDEX))
    }
    /// Raw packet type (`PACKET_HOST` = 0 … `PACKET_OUTGOING` = 4).
    fn pkttype(&self) -> u16 {
        if self.v2 {
            u16::from(self.bytes[sll2::PKTTYPE])
        } else {
            be16(self.bytes, sll1::PKTTYPE)
        }
    }
    pub fn direction(&self) -> PacketDirection {
        PacketDirection::from_raw(self.pkttype())
    }
}

/// BSD NULL/LOOP: a 4-byte address family.
mod null {
    use super::Field;
    pub const FAMILY: Field = 0..4;
    pub const HEADER_LEN: usize = FAMILY.end;
    pub const AF_INET: u32 = 2;
    /// `AF_INET6` on Linux, NetBSD/OpenBSD, FreeBSD and macOS.
    pub const AF_INET6: [u32; 4] = [10, 24, 28, 30];
}

/// Where the layer after the link header starts and how to read it.
enum Next {
    Ether(u16),
    Ip,
    Done,
}

impl Frame<'_> {
    pub(super) fn decode_link(&mut self) {
        let d = self.data;
        let next = match self.linktype {
            linktype::ETHERNET => match d.get(..eth::HEADER_LEN) {
                Some(bytes) => {
                    let eth = Ethernet { bytes };
                    let et = eth.ether_type();
                    self.link = Link::Ethernet(eth);
                    if et <= ethertype::MAX_LEN {
                        self.push(LayerKind::Dot3, 0, eth::HEADER_LEN);
                        // The length field bounds the LLC frame; the rest is padding.
                        self.decode_llc(eth::HEADER_LEN, eth::HEADER_LEN + usize::from(et));
                        return;
                    }
                    self.push(LayerKind::Ethernet, 0, eth::HEADER_LEN);
                    Next::Ether(et)
                }
                None => {
                    self.short(LayerKind::Ethernet, 0, eth::HEADER_LEN);
                    Next::Done
                }
            },
            linktype::LINUX_SLL | linktype::LINUX_SLL2 => {
                let v2 = self.linktype == linktype::LINUX_SLL2;
                let (kind, len) = if v2 {
                    (LayerKind::LinuxSll2, Sll::V2_LEN)
                } else {
                    (LayerKind::LinuxSll, Sll::V1_LEN)
                };
                match d.get(..len) {
                    Some(bytes) => {
                        let sll = Sll { bytes, v2 };
                        let proto = sll.protocol();
                        self.link = Link::Sll(sll);
                        self.push(kind, 0, len);
                        if proto == ethertype::SLL_LLC {
                            self.decode_llc(len, d.len());
                            return;
                        }
                        Next::Ether(proto)
                    }
                    None => {
                        self.short(kind, 0, len);
                        Next::Done
                    }
                }
            }
            linktype::NULL | linktype::LOOP => match d.get(..null::HEADER_LEN) {
                Some(_) => {
                    let be = be32(d, null::FAMILY);
                    // NULL is in the capturing host's byte order: a family fits in 16 bits,
                    // so a big value means the other order (tcpdump does the same).
                    let family = if self.linktype == linktype::LOOP || be <= 0xffff {
                        be
                    } else {
                        be.swap_bytes()
                    };
                    self.link = Link::Null { family };
                    self.push(LayerKind::Null, 0, null::HEADER_LEN);
                    match family {
                        null::AF_INET => Next::Ether(ethertype::IPV4),
                        f if null::AF_INET6.contains(&f) => Next::Ether(ethertype::IPV6),
                        _ => Next::Done,
                    }
                }
                None => {
                    self.short(LayerKind::Null, 0, null::HEADER_LEN);
                    Next::Done
                }
            },
            linktype::IPV4 => Next::Ether(ethertype::IPV4),
            linktype::IPV6 => Next::Ether(ethertype::IPV6),
            _ => Next::Ip,
        };
        let off = self.layers().last().map_or(0, |l| l.offset + l.len);
        match next {
            Next::Ether(et) => self.decode_ether(et, off),
            Next::Ip => match d.first().map(|b| b >> 4) {
                Some(4) => self.decode_ipv4(off),
                Some(6) => self.decode_ipv6(off),
                Some(_) => {
                    self.fail(
                        LayerKind::Ipv4,
                        off,
                        IssueKind::Malformed("IP version not 4 or 6"),
                    );
                    self.finish(off, d.len());
                }
                None => self.finish(off, d.len()),
            },
            Next::Done => self.finish(off, d.len()),
        }
    }

    /// Decode what an EtherType announces at `off`, after up to [`MAX_VLANS`] VLAN tags.
    pub(super) fn decode_ether(&mut self, mut et: u16, mut off: usize) {
        let d = self.data;
        let mut nvlan = 0;
        while et == ethertype::VLAN || et == ethertype::QINQ {
            if nvlan == MAX_VLANS {
                break;
            }
            match d.get(off..off + vlan::HEADER_LEN) {
                Some(tag) => {
                    et = be16(tag, vlan::ETHERTYPE);
                    nvlan += 1;
                    self.push(LayerKind::Vlan, off, vlan::HEADER_LEN);
                    off += vlan::HEADER_LEN;
                }
                None => {
                    self.short(LayerKind::Vlan, off, vlan::HEADER_LEN);
                    return self.finish(off, d.len());
                }
            }
        }
        match et {
            ethertype::IPV4 => self.decode_ipv4(off),
            ethertype::IPV6 => self.decode_ipv6(off),
            ethertype::ARP => self.decode_arp(off),
            _ => self.finish(off, d.len()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{decode, tests::syn_frame};
    use super::*;

    #[test]
    fn sll2_header_is_read() {
        let mut f = vec![
            0x08, 0x00, 0, 0, 0, 0, 0, 1, 0x03, 0x04, 4, 6, 1, 2, 3, 4, 5, 6, 0, 0,
        ];
        f.extend_from_slice(&syn_frame()[14..]);
        let fr = decode(linktype::LINUX_SLL2, &f).unwrap();
        assert_eq!(fr.ifindex(), Some(1));
        assert_eq!(fr.direction(), Some(PacketDirection::Outgoing));
        assert_eq!(fr.tcp().unwrap().dport, 5000);
        assert_eq!(fr.layers()[1].offset, 20);
    }
}
