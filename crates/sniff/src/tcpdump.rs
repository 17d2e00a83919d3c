//! tcpdump's words for what netproto's frame decoder found: the direction of a Linux cooked
//! capture, the flag letters as an owned string, and the protocol primitive of a packet.
//! netproto hands out facts; the notation sniff prints is kept here.

use netproto::frame::{Frame, Net, PacketDirection, TcpFlags, Transport};

/// tcpdump's word for a cooked capture's direction: `In`, `Out`, `B`, `M`, `P` (`?` else).
pub fn direction(d: PacketDirection) -> &'static str {
    match d {
        PacketDirection::Host => "In",
        PacketDirection::Broadcast => "B",
        PacketDirection::Multicast => "M",
        PacketDirection::OtherHost => "P",
        PacketDirection::Outgoing => "Out",
        PacketDirection::Other(_) => "?",
    }
}

/// The flag letters (`S.`, `P.`, `none`, …) as an owned string, for JSON and `-v`; the lines
/// write [`TcpFlags::letters`] straight into their buffer.
pub fn flags(f: TcpFlags) -> String {
    f.letters(&mut [0; 10]).to_owned()
}

/// The innermost decoded protocol as tcpdump's filter primitive names it: `tcp`, `udp`,
/// `icmp`, `icmp6`, `stp`, `arp`, `llc`, `ip`, `ip6`, or `raw` (the JSON `proto`).
pub fn proto(f: &Frame<'_>) -> &'static str {
    match (f.transport(), f.net()) {
        (Transport::Tcp(_), _) => "tcp",
        (Transport::Udp(_), _) => "udp",
        (Transport::Icmpv4(_), _) => "icmp",
        (Transport::Icmpv6(_), _) => "icmp6",
        (Transport::Stp(_), _) => "stp",
        (_, Net::Arp(_)) => "arp",
        (_, Net::Llc(_)) => "llc",
        (_, Net::Ipv4(_)) => "ip",
        (_, Net::Ipv6(..)) => "ip6",
        _ => "raw",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netproto::frame::{decode, linktype};

    #[test]
    fn flags_in_tcpdump_notation() {
        assert_eq!(flags(TcpFlags(0x12)), "S.");
        assert_eq!(flags(TcpFlags(0x18)), "P.");
        assert_eq!(flags(TcpFlags(0x11)), "F.");
        assert_eq!(flags(TcpFlags(0x04)), "R");
        assert_eq!(flags(TcpFlags(0)), "none");
    }

    #[test]
    fn protocol_primitives() {
        // IPv4 + UDP, IPv4 alone, ARP over Ethernet.
        let udp = [
            0x45, 0, 0, 28, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, 0x30, 0x39, 0, 53,
            0, 8, 0, 0,
        ];
        assert_eq!(proto(&decode(linktype::RAW, &udp).unwrap()), "udp");
        assert_eq!(proto(&decode(linktype::RAW, &udp[..20]).unwrap()), "ip");
        let mut arp = vec![0xff; 6];
        arp.extend_from_slice(&[2, 0, 0, 0, 0, 1, 0x08, 0x06]);
        arp.extend_from_slice(&[0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 1, 10, 0, 0, 1]);
        arp.extend_from_slice(&[0, 0, 0, 0, 0, 0, 10, 0, 0, 2]);
        assert_eq!(proto(&decode(linktype::ETHERNET, &arp).unwrap()), "arp");
        assert_eq!(proto(&decode(linktype::RAW, &[]).unwrap()), "raw");
    }
}
