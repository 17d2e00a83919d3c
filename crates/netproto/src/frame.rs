//! Frame decoding shared by `sniff` and `tcpstat`.
//!
//! [`decode`] turns one captured frame (the bytes of a pcap record plus the capture's link
//! type) into a zero-copy layered [`Frame`]: link (Ethernet, 802.1Q VLAN, Linux cooked SLL and
//! SLL2, BSD NULL/LOOP, raw IP), network (IPv4, IPv6 with extension headers, ARP, 802.2 LLC),
//! transport (TCP, UDP, ICMP, ICMPv6, spanning tree) and the application payload. Every layer
//! records the byte offset and length of its header ([`Frame::layers`]) so that printers can
//! show offsets, hex dumps and diagrams without decoding twice.
//!
//! Rules the decoder keeps:
//! - It never panics and never allocates, whatever the bytes.
//! - What it cannot decode stays as raw bytes: decoding stops at the first layer it does not
//!   know or that is malformed, and [`Frame::issue`] says where and why.
//! - Lengths come from the headers, not from the capture: a frame cut by the snapshot length
//!   still reports the TCP payload length the IP header announces ([`TcpSegment::payload_len`]),
//!   and [`Frame::truncated`] is set.
//!
//! etherparse parses the fixed headers (Ethernet, VLAN, IPv4, IPv6 and its extensions, TCP,
//! UDP, ICMP); this module adds what etherparse lacks: Linux SLL2, BSD loopback, LLC/SNAP,
//! STP, a TCP option walker that keeps unknown options as raw bytes, and the layer offsets.
//!
//! The fast path for analysis tools is [`Frame::tcp`], which returns every TCP fact a trace
//! analyser needs in one `Copy` struct:
//!
//! ```
//! use netproto::frame::{decode, linktype};
//! # let bytes = [0u8; 0];
//! if let Ok(frame) = decode(linktype::ETHERNET, &bytes) {
//!     if let Some(tcp) = frame.tcp() {
//!         println!("{}:{} > {}:{} seq {} len {}", tcp.src, tcp.sport, tcp.dst, tcp.dport,
//!                  tcp.seq, tcp.payload_len);
//!     }
//! }
//! ```

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use etherparse::{
    Ethernet2Slice, Icmpv4Slice, Icmpv6Slice, IpNumber, Ipv4HeaderSlice, Ipv6HeaderSlice,
    SingleVlanSlice, TcpHeaderSlice, UdpHeaderSlice,
};

/// Link-layer header types (the `network` field of a pcap file header, `LINKTYPE_*` values
/// from tcpdump.org; on Linux the `DLT_*` values are the same).
pub mod linktype {
    /// BSD loopback: 4-byte address family in the capturing host's byte order.
    pub const NULL: u32 = 0;
    /// Ethernet (`EN10MB`).
    pub const ETHERNET: u32 = 1;
    /// Raw IP on some BSDs (`DLT_RAW` = 12 there).
    pub const RAW_12: u32 = 12;
    /// Raw IP on OpenBSD (`DLT_RAW` = 14 there).
    pub const RAW_14: u32 = 14;
    /// Raw IPv4 or IPv6, version from the first nibble.
    pub const RAW: u32 = 101;
    /// OpenBSD loopback: 4-byte address family in network byte order.
    pub const LOOP: u32 = 108;
    /// Linux cooked capture v1 (`tcpdump -i any` before libpcap 1.10).
    pub const LINUX_SLL: u32 = 113;
    /// Raw IPv4.
    pub const IPV4: u32 = 228;
    /// Raw IPv6.
    pub const IPV6: u32 = 229;
    /// Linux cooked capture v2: adds the interface index.
    pub const LINUX_SLL2: u32 = 276;

    /// Every link type [`super::decode`] understands (tests and fuzzers iterate over it).
    pub const ALL: [u32; 10] = [
        NULL, ETHERNET, RAW_12, RAW_14, RAW, LOOP, LINUX_SLL, IPV4, IPV6, LINUX_SLL2,
    ];

    /// True for every link type [`super::decode`] understands.
    pub fn is_supported(lt: u32) -> bool {
        ALL.contains(&lt)
    }

    /// libpcap's name for a link type (`EN10MB`, `LINUX_SLL2`, …), as tcpdump prints it.
    pub fn name(lt: u32) -> &'static str {
        match lt {
            NULL => "NULL",
            ETHERNET => "EN10MB",
            RAW_12 | RAW_14 | RAW => "RAW",
            LOOP => "LOOP",
            LINUX_SLL => "LINUX_SLL",
            IPV4 => "IPV4",
            IPV6 => "IPV6",
            LINUX_SLL2 => "LINUX_SLL2",
            _ => "unknown",
        }
    }
}

/// EtherType values the decoder follows.
pub mod ethertype {
    pub const IPV4: u16 = 0x0800;
    pub const ARP: u16 = 0x0806;
    pub const VLAN: u16 = 0x8100;
    pub const QINQ: u16 = 0x88a8;
    pub const IPV6: u16 = 0x86dd;
    /// Linux SLL protocol value meaning "an 802.2 LLC frame follows".
    pub const SLL_LLC: u16 = 0x0004;
}

/// The only hard failure: a link type this decoder does not know. Everything else (short or
/// malformed headers) yields a partial [`Frame`] with [`Frame::issue`] set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error(
        "link type {0} is not supported (supported: EN10MB, LINUX_SLL, LINUX_SLL2, RAW, IPV4, IPV6, NULL, LOOP)"
    )]
    UnsupportedLinkType(u32),
}

/// What a layer is. Its [`LayerKind::name`] is scapy's class name (`Ether`, `IP`, `TCP`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LayerKind {
    Null,
    Ethernet,
    /// 802.3 frame whose type field is a length (an LLC frame follows).
    Dot3,
    Vlan,
    LinuxSll,
    LinuxSll2,
    Llc,
    Snap,
    Stp,
    Arp,
    Ipv4,
    Ipv6,
    Ipv6HopByHop,
    Ipv6Routing,
    Ipv6Fragment,
    Ipv6DestOpts,
    IpAuth,
    Tcp,
    Udp,
    Icmpv4,
    Icmpv6,
    /// Application payload (or bytes the decoder did not understand).
    Raw,
    /// Bytes after the end the headers announce (Ethernet minimum-size padding).
    Padding,
}

impl LayerKind {
    /// scapy's name for the layer, used by `--summary` and the JSON `layers` list.
    pub fn name(self) -> &'static str {
        match self {
            LayerKind::Null => "Loopback",
            LayerKind::Ethernet => "Ether",
            LayerKind::Dot3 => "Dot3",
            LayerKind::Vlan => "Dot1Q",
            LayerKind::LinuxSll => "CookedLinux",
            LayerKind::LinuxSll2 => "CookedLinuxV2",
            LayerKind::Llc => "LLC",
            LayerKind::Snap => "SNAP",
            LayerKind::Stp => "STP",
            LayerKind::Arp => "ARP",
            LayerKind::Ipv4 => "IP",
            LayerKind::Ipv6 => "IPv6",
            LayerKind::Ipv6HopByHop => "IPv6ExtHdrHopByHop",
            LayerKind::Ipv6Routing => "IPv6ExtHdrRouting",
            LayerKind::Ipv6Fragment => "IPv6ExtHdrFragment",
            LayerKind::Ipv6DestOpts => "IPv6ExtHdrDestOpt",
            LayerKind::IpAuth => "AH",
            LayerKind::Tcp => "TCP",
            LayerKind::Udp => "UDP",
            LayerKind::Icmpv4 => "ICMP",
            LayerKind::Icmpv6 => "ICMPv6",
            LayerKind::Raw => "Raw",
            LayerKind::Padding => "Padding",
        }
    }
}

impl fmt::Display for LayerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One decoded header: what it is and where it sits in the captured bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layer {
    pub kind: LayerKind,
    /// Offset of the first byte of the header in the frame.
    pub offset: usize,
    /// Header length in captured bytes (for `Raw`/`Padding`: the captured bytes).
    pub len: usize,
}

impl Layer {
    /// The header's bytes within `frame_data`.
    pub fn bytes<'a>(&self, frame_data: &'a [u8]) -> &'a [u8] {
        frame_data
            .get(self.offset..self.offset + self.len)
            .unwrap_or(&[])
    }
}

/// Why decoding stopped before the end of the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Issue {
    /// The layer that could not be decoded.
    pub layer: LayerKind,
    /// Offset where that layer starts.
    pub offset: usize,
    pub kind: IssueKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueKind {
    /// The capture holds fewer bytes than the header needs.
    Truncated { needed: usize, available: usize },
    /// The header's content is invalid (bad version, length field too small, …).
    Malformed(&'static str),
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            IssueKind::Truncated { needed, available } => write!(
                f,
                "{} header at offset {} truncated: needs {} bytes, {} captured",
                self.layer, self.offset, needed, available
            ),
            IssueKind::Malformed(why) => {
                write!(
                    f,
                    "{} header at offset {} malformed: {}",
                    self.layer, self.offset, why
                )
            }
        }
    }
}

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

    /// tcpdump's word for it (`In`, `Out`, `B`, `M`, `P`).
    pub fn tcpdump(self) -> &'static str {
        match self {
            PacketDirection::Host => "In",
            PacketDirection::Broadcast => "B",
            PacketDirection::Multicast => "M",
            PacketDirection::OtherHost => "P",
            PacketDirection::Outgoing => "Out",
            PacketDirection::Other(_) => "?",
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

impl<'a> Sll<'a> {
    pub const V1_LEN: usize = 16;
    pub const V2_LEN: usize = 20;

    /// The header bytes.
    pub fn slice(&self) -> &'a [u8] {
        self.bytes
    }
    pub fn is_v2(&self) -> bool {
        self.v2
    }
    pub fn header_len(&self) -> usize {
        if self.v2 { Self::V2_LEN } else { Self::V1_LEN }
    }
    /// EtherType of the payload (or an SLL pseudo-protocol such as 4 = 802.2 LLC).
    pub fn protocol(&self) -> u16 {
        if self.v2 {
            be16(self.bytes, 0)
        } else {
            be16(self.bytes, 14)
        }
    }
    /// Interface index (v2 only).
    pub fn ifindex(&self) -> Option<u32> {
        self.v2.then(|| be32(self.bytes, 4))
    }
    /// ARPHRD_* hardware type of the interface.
    pub fn hatype(&self) -> u16 {
        if self.v2 {
            be16(self.bytes, 8)
        } else {
            be16(self.bytes, 2)
        }
    }
    /// Raw packet type (`PACKET_HOST` = 0 … `PACKET_OUTGOING` = 4).
    pub fn pkttype(&self) -> u16 {
        if self.v2 {
            u16::from(self.bytes[10])
        } else {
            be16(self.bytes, 0)
        }
    }
    pub fn direction(&self) -> PacketDirection {
        PacketDirection::from_raw(self.pkttype())
    }
    /// Link-layer address length as recorded (may exceed 8; the address is cut at 8).
    pub fn halen(&self) -> u16 {
        if self.v2 {
            u16::from(self.bytes[11])
        } else {
            be16(self.bytes, 4)
        }
    }
    /// The valid part of the link-layer source address.
    pub fn addr(&self) -> &'a [u8] {
        let start = if self.v2 { 12 } else { 6 };
        let n = usize::from(self.halen()).min(8);
        &self.bytes[start..start + n]
    }
}

/// An 802.2 LLC header (3 bytes for unnumbered frames, 4 otherwise), with SNAP when DSAP and
/// SSAP are 0xAA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Llc<'a> {
    bytes: &'a [u8],
}

impl<'a> Llc<'a> {
    pub fn slice(&self) -> &'a [u8] {
        self.bytes
    }
    pub fn dsap(&self) -> u8 {
        self.bytes[0]
    }
    pub fn ssap(&self) -> u8 {
        self.bytes[1]
    }
    /// Control field: 1 byte for U-frames, 2 for I/S-frames.
    pub fn control(&self) -> u16 {
        if self.bytes.len() >= 4 && self.bytes[2] & 3 != 3 {
            u16::from_le_bytes([self.bytes[2], self.bytes[3]])
        } else {
            u16::from(self.bytes[2])
        }
    }
    /// LLC header length without SNAP.
    pub fn llc_len(&self) -> usize {
        if self.bytes[2] & 3 == 3 { 3 } else { 4 }
    }
    /// SNAP OUI and EtherType when present.
    pub fn snap(&self) -> Option<([u8; 3], u16)> {
        (self.bytes.len() == 8).then(|| {
            (
                [self.bytes[3], self.bytes[4], self.bytes[5]],
                be16(self.bytes, 6),
            )
        })
    }
}

/// A spanning-tree BPDU (IEEE 802.1D / 802.1w), after LLC DSAP 0x42.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stp<'a> {
    bytes: &'a [u8],
}

impl<'a> Stp<'a> {
    /// Length of a configuration BPDU (RST BPDUs add the 1-byte version-1 length).
    pub const CONFIG_LEN: usize = 35;

    pub fn slice(&self) -> &'a [u8] {
        self.bytes
    }
    pub fn protocol_id(&self) -> u16 {
        be16(self.bytes, 0)
    }
    /// 0 = STP, 2 = RSTP, 3 = MSTP.
    pub fn version(&self) -> u8 {
        self.bytes[2]
    }
    /// 0x00 configuration, 0x80 topology change notification, 0x02 RST/MST.
    pub fn bpdu_type(&self) -> u8 {
        self.bytes[3]
    }
    /// True for configuration and RST BPDUs (which carry the fields below).
    pub fn has_config(&self) -> bool {
        self.bytes.len() >= Self::CONFIG_LEN
    }
    pub fn flags(&self) -> Option<u8> {
        self.bytes.get(4).copied()
    }
    /// Root bridge ID: priority (2 bytes incl. system ID extension) + MAC.
    pub fn root_id(&self) -> Option<(u16, [u8; 6])> {
        self.bridge_at(5)
    }
    pub fn root_path_cost(&self) -> Option<u32> {
        self.has_config().then(|| be32(self.bytes, 13))
    }
    pub fn bridge_id(&self) -> Option<(u16, [u8; 6])> {
        self.bridge_at(17)
    }
    pub fn port_id(&self) -> Option<u16> {
        self.has_config().then(|| be16(self.bytes, 25))
    }
    /// Timers in 1/256 s units: message age, max age, hello time, forward delay.
    pub fn timers(&self) -> Option<[u16; 4]> {
        self.has_config().then(|| {
            [
                be16(self.bytes, 27),
                be16(self.bytes, 29),
                be16(self.bytes, 31),
                be16(self.bytes, 33),
            ]
        })
    }
    fn bridge_at(&self, off: usize) -> Option<(u16, [u8; 6])> {
        let b = self.bytes.get(off..off + 8)?;
        Some((be16(b, 0), [b[2], b[3], b[4], b[5], b[6], b[7]]))
    }
}

/// An ARP packet (any hardware/protocol address sizes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arp<'a> {
    bytes: &'a [u8],
}

impl<'a> Arp<'a> {
    pub fn slice(&self) -> &'a [u8] {
        self.bytes
    }
    pub fn hardware_type(&self) -> u16 {
        be16(self.bytes, 0)
    }
    pub fn protocol_type(&self) -> u16 {
        be16(self.bytes, 2)
    }
    pub fn hw_len(&self) -> u8 {
        self.bytes[4]
    }
    pub fn proto_len(&self) -> u8 {
        self.bytes[5]
    }
    /// 1 request, 2 reply (3/4 RARP).
    pub fn operation(&self) -> u16 {
        be16(self.bytes, 6)
    }
    fn field(&self, idx: usize) -> &'a [u8] {
        let h = usize::from(self.hw_len());
        let p = usize::from(self.proto_len());
        let start = 8 + match idx {
            0 => 0,
            1 => h,
            2 => h + p,
            _ => 2 * h + p,
        };
        let len = if idx % 2 == 0 { h } else { p };
        &self.bytes[start..start + len]
    }
    pub fn sender_hw(&self) -> &'a [u8] {
        self.field(0)
    }
    pub fn sender_proto(&self) -> &'a [u8] {
        self.field(1)
    }
    pub fn target_hw(&self) -> &'a [u8] {
        self.field(2)
    }
    pub fn target_proto(&self) -> &'a [u8] {
        self.field(3)
    }
    /// Sender and target as IPv4 addresses (when the protocol addresses are 4 bytes).
    pub fn ipv4_addrs(&self) -> Option<(Ipv4Addr, Ipv4Addr)> {
        let s: [u8; 4] = self.sender_proto().try_into().ok()?;
        let t: [u8; 4] = self.target_proto().try_into().ok()?;
        Some((s.into(), t.into()))
    }
}

/// The link layer.
#[derive(Debug, Clone)]
pub enum Link<'a> {
    /// Raw IP link types: no link header.
    None,
    /// BSD NULL/LOOP: the address family (already byte-swapped to host meaning).
    Null { family: u32 },
    /// Ethernet II or 802.3 (when `ether_type() <= 1500`, the field is a length).
    Ethernet(Ethernet2Slice<'a>),
    /// Linux cooked capture v1 or v2.
    Sll(Sll<'a>),
}

/// The network layer (or what sits where it usually does).
#[derive(Debug, Clone)]
pub enum Net<'a> {
    None,
    Ipv4(Ipv4HeaderSlice<'a>),
    /// IPv6 header and its extension headers (possibly empty).
    Ipv6(Ipv6HeaderSlice<'a>, Ipv6Exts<'a>),
    Arp(Arp<'a>),
    /// 802.2 LLC (after an 802.3 length field or an SLL protocol of 4).
    Llc(Llc<'a>),
}

/// The transport layer (or what sits where it usually does).
#[derive(Debug, Clone)]
pub enum Transport<'a> {
    None,
    Tcp(TcpHeaderSlice<'a>),
    Udp(UdpHeaderSlice<'a>),
    Icmpv4(Icmpv4Slice<'a>),
    Icmpv6(Icmpv6Slice<'a>),
    Stp(Stp<'a>),
}

/// TCP flag bits as in the 16-bit word of the header (`tcp.flags` in Wireshark: NS = 0x100).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TcpFlags(pub u16);

impl TcpFlags {
    pub const FIN: u16 = 0x001;
    pub const SYN: u16 = 0x002;
    pub const RST: u16 = 0x004;
    pub const PSH: u16 = 0x008;
    pub const ACK: u16 = 0x010;
    pub const URG: u16 = 0x020;
    pub const ECE: u16 = 0x040;
    pub const CWR: u16 = 0x080;
    pub const NS: u16 = 0x100;

    pub fn has(self, bit: u16) -> bool {
        self.0 & bit != 0
    }
    pub fn syn(self) -> bool {
        self.has(Self::SYN)
    }
    pub fn ack(self) -> bool {
        self.has(Self::ACK)
    }
    pub fn fin(self) -> bool {
        self.has(Self::FIN)
    }
    pub fn rst(self) -> bool {
        self.has(Self::RST)
    }
    pub fn psh(self) -> bool {
        self.has(Self::PSH)
    }

    /// tcpdump's notation without brackets: `S`, `S.`, `P.`, `F.`, `R`, `.`, `none`, with
    /// `U`, `E`, `W` for URG, ECE, CWR. Writes into `buf` and returns the text.
    pub fn tcpdump(self, buf: &mut [u8; 10]) -> &str {
        let mut n = 0;
        for (bit, c) in [
            (Self::SYN, b'S'),
            (Self::FIN, b'F'),
            (Self::PSH, b'P'),
            (Self::RST, b'R'),
            (Self::URG, b'U'),
            (Self::ECE, b'E'),
            (Self::CWR, b'W'),
            (Self::ACK, b'.'),
        ] {
            if self.has(bit) {
                buf[n] = c;
                n += 1;
            }
        }
        if n == 0 {
            buf[..4].copy_from_slice(b"none");
            n = 4;
        }
        // Only ASCII was written.
        std::str::from_utf8(&buf[..n]).unwrap_or("")
    }

    /// tcpdump's notation as an owned string (for JSON and tests).
    pub fn tcpdump_string(self) -> String {
        let mut b = [0u8; 10];
        self.tcpdump(&mut b).to_owned()
    }
}

impl fmt::Display for TcpFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut b = [0u8; 10];
        f.write_str(self.tcpdump(&mut b))
    }
}

/// Raw TCP options; iterate to decode them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpOptions<'a>(pub &'a [u8]);

/// One decoded TCP option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpOption<'a> {
    /// Kind 0: end of option list (the walk stops after it).
    End,
    /// Kind 1.
    Nop,
    /// Kind 2: maximum segment size.
    Mss(u16),
    /// Kind 3: window scale shift count.
    WindowScale(u8),
    /// Kind 4.
    SackPermitted,
    /// Kind 5: SACK blocks (left edge, right edge).
    Sack(SackBlocks<'a>),
    /// Kind 8: timestamp value and echo reply.
    Timestamp { tsval: u32, tsecr: u32 },
    /// Any other kind, with its data (without kind and length bytes).
    Other { kind: u8, data: &'a [u8] },
    /// An option whose length byte is wrong or runs past the header; the walk stops.
    Malformed { kind: u8, data: &'a [u8] },
}

/// The blocks of a SACK option (8 bytes each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SackBlocks<'a>(&'a [u8]);

impl<'a> SackBlocks<'a> {
    pub fn len(&self) -> usize {
        self.0.len() / 8
    }
    pub fn is_empty(&self) -> bool {
        self.0.len() < 8
    }
    pub fn iter(&self) -> impl Iterator<Item = (u32, u32)> + 'a {
        self.0.chunks_exact(8).map(|c| (be32(c, 0), be32(c, 4)))
    }
}

impl<'a> TcpOptions<'a> {
    /// Decoded options in order.
    pub fn iter(&self) -> TcpOptionsIter<'a> {
        TcpOptionsIter {
            rest: self.0,
            pos: 0,
            done: false,
        }
    }

    /// The options a connection negotiates, gathered in one pass.
    pub fn summary(&self) -> TcpOptionSummary {
        let mut s = TcpOptionSummary::default();
        for o in self.iter() {
            match o {
                TcpOption::Mss(v) => s.mss = Some(v),
                TcpOption::WindowScale(v) => s.window_scale = Some(v),
                TcpOption::SackPermitted => s.sack_permitted = true,
                TcpOption::Sack(b) => s.sack_blocks = b.len() as u8,
                TcpOption::Timestamp { tsval, tsecr } => s.timestamp = Some((tsval, tsecr)),
                _ => {}
            }
        }
        s
    }
}

impl<'a> IntoIterator for TcpOptions<'a> {
    type Item = TcpOption<'a>;
    type IntoIter = TcpOptionsIter<'a>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// Walks TCP options; [`TcpOptionsIter::offset`] gives the offset of the option just returned
/// (relative to the start of the options).
#[derive(Debug, Clone)]
pub struct TcpOptionsIter<'a> {
    rest: &'a [u8],
    pos: usize,
    done: bool,
}

impl<'a> TcpOptionsIter<'a> {
    /// Iterate with each option's offset (relative to the first option byte) and length.
    pub fn with_offsets(mut self) -> impl Iterator<Item = (usize, usize, TcpOption<'a>)> {
        std::iter::from_fn(move || {
            let before = self.pos;
            let o = self.next()?;
            Some((before, self.pos - before, o))
        })
    }
}

impl<'a> Iterator for TcpOptionsIter<'a> {
    type Item = TcpOption<'a>;
    fn next(&mut self) -> Option<TcpOption<'a>> {
        if self.done || self.rest.is_empty() {
            return None;
        }
        let kind = self.rest[0];
        match kind {
            0 => {
                self.done = true;
                self.pos += 1;
                return Some(TcpOption::End);
            }
            1 => {
                self.rest = &self.rest[1..];
                self.pos += 1;
                return Some(TcpOption::Nop);
            }
            _ => {}
        }
        let Some(&len) = self.rest.get(1) else {
            self.done = true;
            self.pos += self.rest.len();
            return Some(TcpOption::Malformed {
                kind,
                data: &self.rest[1..],
            });
        };
        let len = usize::from(len);
        if len < 2 || len > self.rest.len() {
            self.done = true;
            let data = &self.rest[2..];
            self.pos += self.rest.len();
            return Some(TcpOption::Malformed { kind, data });
        }
        let data = &self.rest[2..len];
        self.rest = &self.rest[len..];
        self.pos += len;
        Some(match (kind, data.len()) {
            (2, 2) => TcpOption::Mss(be16(data, 0)),
            (3, 1) => TcpOption::WindowScale(data[0]),
            (4, 0) => TcpOption::SackPermitted,
            (5, n) if n % 8 == 0 => TcpOption::Sack(SackBlocks(data)),
            (8, 8) => TcpOption::Timestamp {
                tsval: be32(data, 0),
                tsecr: be32(data, 4),
            },
            (2..=5 | 8, _) => TcpOption::Malformed { kind, data },
            _ => TcpOption::Other { kind, data },
        })
    }
}

/// The options that matter for connection analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpOptionSummary {
    pub mss: Option<u16>,
    pub window_scale: Option<u8>,
    pub sack_permitted: bool,
    /// Number of SACK blocks in this segment.
    pub sack_blocks: u8,
    pub timestamp: Option<(u32, u32)>,
}

/// Everything about a TCP segment in one `Copy` value: the fast path for analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpSegment<'a> {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub sport: u16,
    pub dport: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: TcpFlags,
    /// Raw (unscaled) window field.
    pub window: u16,
    pub urgent: u16,
    pub checksum: u16,
    /// TCP header length in bytes (data offset × 4).
    pub header_len: u16,
    /// Payload length from the IP header's lengths (not the captured bytes): Wireshark's
    /// `tcp.len`.
    pub payload_len: u32,
    /// IP packet length as the IP header says (IPv4 total length, IPv6 40 + payload length).
    pub ip_len: u32,
    /// TTL (IPv4) or hop limit (IPv6).
    pub ttl: u8,
    pub options: TcpOptions<'a>,
    /// The captured part of the payload (shorter than `payload_len` when truncated).
    pub payload: &'a [u8],
    /// Offset of the TCP header in the frame.
    pub offset: usize,
    /// The capture cut this segment (its payload or the IP packet).
    pub truncated: bool,
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

const MAX_LAYERS: usize = 14;

/// A decoded frame: a layered zero-copy view over the captured bytes.
#[derive(Debug, Clone)]
pub struct Frame<'a> {
    data: &'a [u8],
    linktype: u32,
    link: Link<'a>,
    vlans: [Option<SingleVlanSlice<'a>>; 2],
    net: Net<'a>,
    transport: Transport<'a>,
    layers: [Layer; MAX_LAYERS],
    nlayers: u8,
    /// IP packet length according to its header.
    ip_len: u32,
    /// Offset of the IP header.
    ip_offset: usize,
    /// Payload length announced by the headers (TCP: from IP lengths; UDP: UDP length).
    payload_len: u32,
    payload_offset: usize,
    payload_end: usize,
    truncated: bool,
    issue: Option<Issue>,
}

/// Decode one captured frame of link type `linktype` (see [`linktype`]).
///
/// Errors only for unsupported link types; malformed or short frames decode as far as
/// possible (see [`Frame::issue`]). Never panics.
pub fn decode(linktype: u32, data: &[u8]) -> Result<Frame<'_>, FrameError> {
    if !linktype::is_supported(linktype) {
        return Err(FrameError::UnsupportedLinkType(linktype));
    }
    let mut f = Frame {
        data,
        linktype,
        link: Link::None,
        vlans: [None, None],
        net: Net::None,
        transport: Transport::None,
        layers: [Layer {
            kind: LayerKind::Raw,
            offset: 0,
            len: 0,
        }; MAX_LAYERS],
        nlayers: 0,
        ip_len: 0,
        ip_offset: 0,
        payload_len: 0,
        payload_offset: data.len(),
        payload_end: data.len(),
        truncated: false,
        issue: None,
    };
    f.decode_link();
    Ok(f)
}

/// The TCP segment of a frame, as `decode(linktype, data)?.tcp()` gives it, for the common
/// case only: IPv4 (not a later fragment) and a whole TCP header, over Ethernet II without
/// VLAN tags, Linux cooked capture or raw IP. `None` means "not that case" (not "not TCP"):
/// the caller then runs the full decoder. Trace analysis reads millions of segments and
/// needs none of the layer list, so this skips building it (a third of the decoding time).
#[inline]
pub fn tcp_fast(linktype: u32, data: &[u8]) -> Option<TcpSegment<'_>> {
    let off = match linktype {
        linktype::ETHERNET if be16(data, 12) == ethertype::IPV4 => 14,
        linktype::LINUX_SLL if be16(data, 14) == ethertype::IPV4 => Sll::V1_LEN,
        linktype::LINUX_SLL2 if be16(data, 0) == ethertype::IPV4 => Sll::V2_LEN,
        linktype::RAW | linktype::RAW_12 | linktype::RAW_14 | linktype::IPV4 => 0,
        _ => return None,
    };
    let ip = data.get(off..)?;
    let ip_head = ip.get(..20)?;
    let hlen = usize::from(ip_head[0] & 0x0f) * 4;
    // Version 4, protocol TCP, first (or only) fragment, whole header.
    if ip_head[0] >> 4 != 4 || hlen < 20 || ip_head[9] != 6 || be16(ip_head, 6) & 0x1fff != 0 {
        return None;
    }
    ip.get(..hlen)?;
    let total = usize::from(be16(ip_head, 2));
    // As decode_ipv4: a total length below the header length (TSO) trusts the capture.
    let total = if total < hlen { ip.len() } else { total };
    let end = off + total;
    let poff = off + hlen;
    let tcp = data.get(poff..end.min(data.len()))?;
    let raw = tcp.get(..usize::from(*tcp.get(12)? >> 4) * 4)?;
    if raw.len() < 20 {
        return None;
    }
    let hl = raw.len();
    // As Frame::finish: the payload is what was captured of [poff + hl, end).
    let payload = &data[poff + hl..end.min(data.len())];
    Some(TcpSegment {
        src: IpAddr::V4(Ipv4Addr::new(
            ip_head[12],
            ip_head[13],
            ip_head[14],
            ip_head[15],
        )),
        dst: IpAddr::V4(Ipv4Addr::new(
            ip_head[16],
            ip_head[17],
            ip_head[18],
            ip_head[19],
        )),
        sport: be16(raw, 0),
        dport: be16(raw, 2),
        seq: be32(raw, 4),
        ack: be32(raw, 8),
        flags: TcpFlags(be16(raw, 12) & 0x01ff),
        window: be16(raw, 14),
        urgent: be16(raw, 18),
        checksum: be16(raw, 16),
        header_len: hl as u16,
        payload_len: ((total - hlen) as u32).saturating_sub(hl as u32),
        ip_len: total as u32,
        ttl: ip_head[8],
        options: TcpOptions(&raw[20..]),
        payload,
        offset: poff,
        truncated: end > data.len(),
    })
}

/// Where the layer after the link header starts and how to read it.
enum Next {
    Ether(u16),
    Ip,
    Done,
}

impl<'a> Frame<'a> {
    /// The captured bytes.
    pub fn data(&self) -> &'a [u8] {
        self.data
    }
    pub fn linktype(&self) -> u32 {
        self.linktype
    }
    pub fn link(&self) -> &Link<'a> {
        &self.link
    }
    /// 802.1Q tags, outermost first.
    pub fn vlans(&self) -> impl Iterator<Item = &SingleVlanSlice<'a>> {
        self.vlans.iter().flatten()
    }
    pub fn net(&self) -> &Net<'a> {
        &self.net
    }
    pub fn transport(&self) -> &Transport<'a> {
        &self.transport
    }
    /// Every header found, in order, with its offset; ends with `Raw` (payload or undecoded
    /// bytes) and `Padding` when present.
    pub fn layers(&self) -> &[Layer] {
        &self.layers[..usize::from(self.nlayers)]
    }
    /// The first layer of a kind.
    pub fn layer(&self, kind: LayerKind) -> Option<&Layer> {
        self.layers().iter().find(|l| l.kind == kind)
    }
    /// Why decoding stopped early, if it did.
    pub fn issue(&self) -> Option<&Issue> {
        self.issue.as_ref()
    }
    /// True when the headers announce more bytes than were captured.
    pub fn truncated(&self) -> bool {
        self.truncated
    }
    /// The captured bytes after the last decoded header (application payload, or undecoded
    /// bytes), without padding.
    pub fn payload(&self) -> &'a [u8] {
        self.data
            .get(self.payload_offset..self.payload_end)
            .unwrap_or(&[])
    }
    pub fn payload_offset(&self) -> usize {
        self.payload_offset
    }
    /// Payload length the headers announce (may exceed `payload().len()` when truncated).
    pub fn payload_len(&self) -> u32 {
        self.payload_len
    }
    /// Interface index (Linux SLL2 only).
    pub fn ifindex(&self) -> Option<u32> {
        match &self.link {
            Link::Sll(s) => s.ifindex(),
            _ => None,
        }
    }
    /// Direction (Linux cooked captures only).
    pub fn direction(&self) -> Option<PacketDirection> {
        match &self.link {
            Link::Sll(s) => Some(s.direction()),
            _ => None,
        }
    }
    pub fn src_ip(&self) -> Option<IpAddr> {
        match &self.net {
            Net::Ipv4(h) => Some(IpAddr::V4(h.source_addr())),
            Net::Ipv6(h, _) => Some(IpAddr::V6(h.source_addr())),
            _ => None,
        }
    }
    pub fn dst_ip(&self) -> Option<IpAddr> {
        match &self.net {
            Net::Ipv4(h) => Some(IpAddr::V4(h.destination_addr())),
            Net::Ipv6(h, _) => Some(IpAddr::V6(h.destination_addr())),
            _ => None,
        }
    }
    /// IP packet length from its header (IPv4 total length, IPv6 40 + payload length).
    pub fn ip_len(&self) -> Option<u32> {
        matches!(self.net, Net::Ipv4(_) | Net::Ipv6(..)).then_some(self.ip_len)
    }
    /// Offset of the IP header in the frame.
    pub fn ip_offset(&self) -> Option<usize> {
        matches!(self.net, Net::Ipv4(_) | Net::Ipv6(..)).then_some(self.ip_offset)
    }
    /// Transport ports (TCP or UDP).
    pub fn ports(&self) -> Option<(u16, u16)> {
        match &self.transport {
            Transport::Tcp(t) => Some((t.source_port(), t.destination_port())),
            Transport::Udp(u) => Some((u.source_port(), u.destination_port())),
            _ => None,
        }
    }
    /// Short protocol name of the innermost decoded protocol: `tcp`, `udp`, `icmp`,
    /// `icmp6`, `arp`, `stp`, `llc`, `ip`, `ip6`, or `raw`.
    pub fn proto(&self) -> &'static str {
        match (&self.transport, &self.net) {
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
    /// The IP protocol number of the transport (after IPv6 extension headers).
    pub fn ip_proto(&self) -> Option<u8> {
        match &self.net {
            Net::Ipv4(h) => Some(h.protocol().0),
            Net::Ipv6(h, e) => Some(e.iter().last().map_or(h.next_header().0, |x| x.next_header)),
            _ => None,
        }
    }

    /// The TCP segment's facts, when this frame carries a TCP header.
    pub fn tcp(&self) -> Option<TcpSegment<'a>> {
        let Transport::Tcp(t) = &self.transport else {
            return None;
        };
        let (src, dst, ttl) = match &self.net {
            Net::Ipv4(h) => (
                IpAddr::V4(h.source_addr()),
                IpAddr::V4(h.destination_addr()),
                h.ttl(),
            ),
            Net::Ipv6(h, _) => (
                IpAddr::V6(h.source_addr()),
                IpAddr::V6(h.destination_addr()),
                h.hop_limit(),
            ),
            _ => return None,
        };
        let raw = t.slice();
        let offset = self.payload_offset - raw.len();
        Some(TcpSegment {
            src,
            dst,
            sport: t.source_port(),
            dport: t.destination_port(),
            seq: t.sequence_number(),
            ack: t.acknowledgment_number(),
            flags: TcpFlags(be16(raw, 12) & 0x01ff),
            window: t.window_size(),
            urgent: t.urgent_pointer(),
            checksum: t.checksum(),
            header_len: raw.len() as u16,
            payload_len: self.payload_len,
            ip_len: self.ip_len,
            ttl,
            options: TcpOptions(&raw[20..]),
            payload: self.payload(),
            offset,
            truncated: self.truncated,
        })
    }

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
            offset: self.payload_offset - 8,
        })
    }

    // ---- decoding ----

    fn push(&mut self, kind: LayerKind, offset: usize, len: usize) {
        let n = usize::from(self.nlayers);
        if n < MAX_LAYERS {
            self.layers[n] = Layer { kind, offset, len };
            self.nlayers += 1;
        }
    }

    fn fail(&mut self, layer: LayerKind, offset: usize, kind: IssueKind) {
        if matches!(kind, IssueKind::Truncated { .. }) {
            self.truncated = true;
        }
        self.issue = Some(Issue {
            layer,
            offset,
            kind,
        });
    }

    fn short(&mut self, layer: LayerKind, offset: usize, needed: usize) {
        let available = self.data.len().saturating_sub(offset);
        self.fail(layer, offset, IssueKind::Truncated { needed, available });
    }

    /// A transport header that does not fit: cut by the capture when the IP packet goes on
    /// beyond the captured bytes, malformed when the IP packet itself is too short.
    fn cut(&mut self, layer: LayerKind, offset: usize, needed: usize, ip_end: usize) {
        if ip_end > self.data.len() {
            self.short(layer, offset, needed);
        } else {
            self.fail(
                layer,
                offset,
                IssueKind::Malformed("header longer than the IP payload"),
            );
        }
    }

    /// Mark `[off, end)` as the payload (raw) and anything captured after `end` as padding.
    fn finish(&mut self, off: usize, end: usize) {
        let end = end.clamp(off.min(self.data.len()), self.data.len());
        let off = off.min(end);
        self.payload_offset = off;
        self.payload_end = end;
        if end > off {
            self.push(LayerKind::Raw, off, end - off);
        }
        if self.data.len() > end {
            self.push(LayerKind::Padding, end, self.data.len() - end);
        }
    }

    fn decode_link(&mut self) {
        let d = self.data;
        let next = match self.linktype {
            linktype::ETHERNET => match Ethernet2Slice::from_slice_without_fcs(d) {
                Ok(eth) => {
                    let et = eth.ether_type().0;
                    self.link = Link::Ethernet(eth);
                    if et <= 1500 {
                        self.push(LayerKind::Dot3, 0, 14);
                        // The length field bounds the LLC frame; the rest is padding.
                        self.decode_llc(14, 14 + usize::from(et));
                        return;
                    }
                    self.push(LayerKind::Ethernet, 0, 14);
                    Next::Ether(et)
                }
                Err(_) => {
                    self.short(LayerKind::Ethernet, 0, 14);
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
            linktype::NULL | linktype::LOOP => match d.get(..4) {
                Some(b) => {
                    let be = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
                    // NULL is in the capturing host's byte order: a family fits in 16 bits,
                    // so a big value means the other order (tcpdump does the same).
                    let family = if self.linktype == linktype::LOOP || be <= 0xffff {
                        be
                    } else {
                        be.swap_bytes()
                    };
                    self.link = Link::Null { family };
                    self.push(LayerKind::Null, 0, 4);
                    match family {
                        2 => Next::Ether(ethertype::IPV4),
                        10 | 24 | 28 | 30 => Next::Ether(ethertype::IPV6),
                        _ => Next::Done,
                    }
                }
                None => {
                    self.short(LayerKind::Null, 0, 4);
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

    fn decode_ether(&mut self, mut et: u16, mut off: usize) {
        let d = self.data;
        let mut nvlan = 0;
        while et == ethertype::VLAN || et == ethertype::QINQ {
            if nvlan == 2 {
                break;
            }
            match SingleVlanSlice::from_slice(&d[off.min(d.len())..]) {
                Ok(v) => {
                    et = v.ether_type().0;
                    self.vlans[nvlan] = Some(v);
                    nvlan += 1;
                    self.push(LayerKind::Vlan, off, 4);
                    off += 4;
                }
                Err(_) => {
                    self.short(LayerKind::Vlan, off, 4);
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

    fn decode_llc(&mut self, off: usize, end: usize) {
        let d = self.data;
        let end = end.min(d.len());
        let Some(head) = d.get(off..off + 3).filter(|_| off + 3 <= end) else {
            self.short(LayerKind::Llc, off, 3);
            return self.finish(off, end);
        };
        let mut len = if head[2] & 3 == 3 { 3 } else { 4 };
        let snap = head[0] == 0xaa && head[1] == 0xaa;
        if snap {
            len = 8;
        }
        let Some(bytes) = d.get(off..off + len).filter(|_| off + len <= end) else {
            self.short(LayerKind::Llc, off, len);
            return self.finish(off, end);
        };
        let llc = Llc { bytes };
        self.net = Net::Llc(llc);
        if let Some((_, et)) = llc.snap() {
            self.push(LayerKind::Llc, off, 3);
            self.push(LayerKind::Snap, off + 3, 5);
            // Frames after SNAP carry an EtherType like Ethernet II.
            return self.decode_ether(et, off + 8);
        }
        self.push(LayerKind::Llc, off, len);
        let p = off + len;
        if llc.dsap() == 0x42 && llc.ssap() == 0x42 {
            let stp_bytes = &d[p..end];
            if stp_bytes.len() >= 4 {
                let n = if stp_bytes[3] == 0x80 {
                    4
                } else if stp_bytes.len() > Stp::CONFIG_LEN && stp_bytes[2] >= 2 {
                    Stp::CONFIG_LEN + 1
                } else {
                    stp_bytes.len().min(Stp::CONFIG_LEN)
                };
                if stp_bytes[3] == 0x00 && n < Stp::CONFIG_LEN {
                    self.short(LayerKind::Stp, p, Stp::CONFIG_LEN);
                }
                self.transport = Transport::Stp(Stp {
                    bytes: &stp_bytes[..n],
                });
                self.push(LayerKind::Stp, p, n);
                return self.finish(p + n, end);
            }
            self.short(LayerKind::Stp, p, 4);
        }
        self.finish(p, end)
    }

    fn decode_arp(&mut self, off: usize) {
        let d = self.data;
        let rest = &d[off.min(d.len())..];
        if rest.len() < 8 {
            self.short(LayerKind::Arp, off, 8);
            return self.finish(off, d.len());
        }
        let len = 8 + 2 * (usize::from(rest[4]) + usize::from(rest[5]));
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

    fn decode_ipv4(&mut self, off: usize) {
        let d = self.data;
        let rest = &d[off.min(d.len())..];
        let h = match Ipv4HeaderSlice::from_slice(rest) {
            Ok(h) => h,
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
        let hlen = h.slice().len();
        let total = usize::from(h.total_len());
        // A total length of 0 (TSO on the sender) or below the header: trust the capture.
        let total = if total < hlen { rest.len() } else { total };
        let end = off + total;
        if end > d.len() {
            self.truncated = true;
        }
        self.ip_len = total as u32;
        self.ip_offset = off;
        let proto = h.protocol().0;
        let later_fragment = h.fragments_offset().value() != 0;
        self.net = Net::Ipv4(h);
        self.push(LayerKind::Ipv4, off, hlen);
        let poff = off + hlen;
        self.payload_len = (total - hlen) as u32;
        if later_fragment {
            return self.finish(poff, end);
        }
        self.decode_transport(proto, poff, end, false);
    }

    fn decode_ipv6(&mut self, off: usize) {
        let d = self.data;
        let rest = &d[off.min(d.len())..];
        let h = match Ipv6HeaderSlice::from_slice(rest) {
            Ok(h) => h,
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
        let plen = usize::from(h.payload_length());
        // Payload length 0 means a jumbogram (or TSO): trust the capture.
        let plen = if plen == 0 {
            rest.len().saturating_sub(40)
        } else {
            plen
        };
        let end = off + 40 + plen;
        if end > d.len() {
            self.truncated = true;
        }
        self.ip_len = (40 + plen) as u32;
        self.ip_offset = off;
        self.push(LayerKind::Ipv6, off, 40);
        let body = &d[(off + 40).min(d.len())..end.min(d.len())];
        let (exts, next, err) = Ipv6Exts::parse(h.next_header().0, body);
        let mut p = off + 40;
        let mut later_fragment = false;
        for e in exts.iter() {
            later_fragment |= e.kind == LayerKind::Ipv6Fragment && e.fragment_offset() != 0;
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
        let d = self.data;
        let cap_end = end.min(d.len());
        let rest = d.get(off..cap_end).unwrap_or(&[]);
        match IpNumber(proto) {
            IpNumber::TCP => match TcpHeaderSlice::from_slice(rest) {
                Ok(t) => {
                    let hl = t.slice().len();
                    self.transport = Transport::Tcp(t);
                    self.push(LayerKind::Tcp, off, hl);
                    self.payload_len = self.payload_len.saturating_sub(hl as u32);
                    self.finish(off + hl, end)
                }
                Err(e) => {
                    use etherparse::err::tcp::HeaderSliceError as E;
                    match e {
                        E::Len(l) => self.cut(LayerKind::Tcp, off, l.required_len, end),
                        E::Content(_) => self.fail(
                            LayerKind::Tcp,
                            off,
                            IssueKind::Malformed("data offset below 5"),
                        ),
                    }
                    self.finish(off, end)
                }
            },
            IpNumber::UDP => match UdpHeaderSlice::from_slice(rest) {
                Ok(u) => {
                    let ulen = usize::from(u.length());
                    // UDP length bounds the payload when it is sane.
                    let uend = if ulen >= 8 && off + ulen <= end {
                        off + ulen
                    } else {
                        end
                    };
                    self.transport = Transport::Udp(u);
                    self.push(LayerKind::Udp, off, 8);
                    self.payload_len = (uend - off - 8) as u32;
                    self.finish(off + 8, uend)
                }
                Err(_) => {
                    self.cut(LayerKind::Udp, off, 8, end);
                    self.finish(off, end)
                }
            },
            IpNumber::ICMP if !v6 => match Icmpv4Slice::from_slice(rest) {
                Ok(i) => {
                    let hl = i.header_len();
                    self.transport = Transport::Icmpv4(i);
                    self.push(LayerKind::Icmpv4, off, hl);
                    self.payload_len = self.payload_len.saturating_sub(hl as u32);
                    self.finish(off + hl, end)
                }
                Err(_) => {
                    self.cut(LayerKind::Icmpv4, off, 8, end);
                    self.finish(off, end)
                }
            },
            IpNumber::IPV6_ICMP => match Icmpv6Slice::from_slice(rest) {
                Ok(i) => {
                    let hl = i.header_len();
                    self.transport = Transport::Icmpv6(i);
                    self.push(LayerKind::Icmpv6, off, hl);
                    self.payload_len = self.payload_len.saturating_sub(hl as u32);
                    self.finish(off + hl, end)
                }
                Err(_) => {
                    self.cut(LayerKind::Icmpv6, off, 8, end);
                    self.finish(off, end)
                }
            },
            _ => self.finish(off, end),
        }
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

impl Ipv6Ext<'_> {
    /// Fragment offset in 8-byte units (fragment headers only, else 0).
    pub fn fragment_offset(&self) -> u16 {
        if self.kind == LayerKind::Ipv6Fragment {
            be16(self.bytes, 2) >> 3
        } else {
            0
        }
    }
}

fn ext_kind(n: u8) -> Option<LayerKind> {
    Some(match n {
        0 => LayerKind::Ipv6HopByHop,
        43 => LayerKind::Ipv6Routing,
        44 => LayerKind::Ipv6Fragment,
        60 => LayerKind::Ipv6DestOpts,
        51 => LayerKind::IpAuth,
        _ => return None,
    })
}

/// Length of the extension header `n` starting at `b`, if it fits.
fn ext_len(n: u8, b: &[u8]) -> Option<usize> {
    let l = match n {
        44 => 8,
        51 => (usize::from(*b.get(1)?) + 2) * 4,
        _ => (usize::from(*b.get(1)?) + 1) * 8,
    };
    (b.len() >= l && l >= 8).then_some(l)
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
                    n = rest[0];
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

    /// All extension bytes.
    pub fn slice(&self) -> &'a [u8] {
        self.bytes
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

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
                next_header: bytes[0],
                bytes,
            };
            n = bytes[0];
            rest = tail;
            Some(e)
        })
    }
}

/// Big-endian u16 at `off`; callers check the length first (0 if short, never a panic).
fn be16(b: &[u8], off: usize) -> u16 {
    match b.get(off..off + 2) {
        Some(s) => u16::from_be_bytes([s[0], s[1]]),
        None => 0,
    }
}

fn be32(b: &[u8], off: usize) -> u32 {
    match b.get(off..off + 4) {
        Some(s) => u32::from_be_bytes([s[0], s[1], s[2], s[3]]),
        None => 0,
    }
}

/// An IPv6 address from 16 bytes (helper for printers).
pub fn ipv6(b: [u8; 16]) -> Ipv6Addr {
    Ipv6Addr::from(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ethernet + IPv4 + TCP SYN with MSS, SACK-permitted, timestamps, NOP, window scale.
    fn syn_frame() -> Vec<u8> {
        let mut f = vec![
            0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00, // ethernet
            0x45, 0, 0, 60, 0x12, 0x34, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, // ip
            0x9c, 0x40, 0x13, 0x88, 0, 0, 0, 100, 0, 0, 0, 0, 0xa0, 0x02, 0xff, 0xff, 0, 0, 0,
            0, // tcp
            2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7,
        ];
        f.extend_from_slice(&[0; 0]);
        f
    }

    #[test]
    fn tcp_syn_is_decoded_with_options_and_offsets() {
        let f = syn_frame();
        let fr = decode(linktype::ETHERNET, &f).unwrap();
        let kinds: Vec<_> = fr.layers().iter().map(|l| l.kind).collect();
        assert_eq!(
            kinds,
            [LayerKind::Ethernet, LayerKind::Ipv4, LayerKind::Tcp]
        );
        assert_eq!(fr.layers()[2].offset, 34);
        let t = fr.tcp().unwrap();
        assert_eq!((t.sport, t.dport, t.seq), (40000, 5000, 100));
        assert_eq!(t.flags.tcpdump_string(), "S");
        assert_eq!(t.payload_len, 0);
        assert_eq!(t.header_len, 40);
        let s = t.options.summary();
        assert_eq!(s.mss, Some(1460));
        assert_eq!(s.window_scale, Some(7));
        assert!(s.sack_permitted);
        assert_eq!(s.timestamp, Some((1, 0)));
        assert!(!fr.truncated());
        assert!(fr.issue().is_none());
    }

    #[test]
    fn truncated_tcp_keeps_ip_lengths() {
        let mut f = syn_frame();
        // Claim 100 payload bytes that were not captured.
        f[16..18].copy_from_slice(&160u16.to_be_bytes());
        let fr = decode(linktype::ETHERNET, &f).unwrap();
        let t = fr.tcp().unwrap();
        assert_eq!(t.payload_len, 100);
        assert!(t.truncated);
        assert!(fr.truncated());
    }

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

    #[test]
    fn unknown_option_is_kept_raw() {
        let o = [30u8, 4, 0xab, 0xcd, 1, 0];
        let v: Vec<_> = TcpOptions(&o).iter().collect();
        assert_eq!(
            v,
            [
                TcpOption::Other {
                    kind: 30,
                    data: &[0xab, 0xcd]
                },
                TcpOption::Nop,
                TcpOption::End
            ]
        );
        let bad = [2u8, 9, 1];
        assert!(matches!(
            TcpOptions(&bad).iter().next(),
            Some(TcpOption::Malformed { kind: 2, .. })
        ));
    }

    #[test]
    fn unsupported_linktype_is_an_error() {
        assert_eq!(
            decode(999, &[]).unwrap_err(),
            FrameError::UnsupportedLinkType(999)
        );
    }

    #[test]
    fn flags_in_tcpdump_notation() {
        assert_eq!(TcpFlags(0x12).tcpdump_string(), "S.");
        assert_eq!(TcpFlags(0x18).tcpdump_string(), "P.");
        assert_eq!(TcpFlags(0x11).tcpdump_string(), "F.");
        assert_eq!(TcpFlags(0x04).tcpdump_string(), "R");
        assert_eq!(TcpFlags(0).tcpdump_string(), "none");
    }

    #[test]
    fn tcp_fast_takes_the_common_case() {
        let f = syn_frame();
        let fast =
            tcp_fast(linktype::ETHERNET, &f).expect("Ethernet + IPv4 + TCP is the fast case");
        assert_eq!(Some(fast), decode(linktype::ETHERNET, &f).unwrap().tcp());
        // Raw IP: the same segment without the Ethernet header.
        assert_eq!(
            tcp_fast(linktype::RAW, &f[14..]).map(|t| (t.seq, t.offset)),
            Some((100, 20))
        );
        // A VLAN tag is left to the full decoder.
        let mut v = f[..12].to_vec();
        v.extend_from_slice(&[0x81, 0x00, 0, 5]);
        v.extend_from_slice(&f[12..]);
        assert_eq!(tcp_fast(linktype::ETHERNET, &v), None);
    }

    proptest::proptest! {
        // Whenever the fast path answers, it answers exactly what the full decoder does:
        // damaged, cut and padded variants of a TCP frame on every link type it takes.
        #[test]
        fn tcp_fast_agrees_with_decode(
            lt in proptest::sample::select(vec![
                linktype::ETHERNET, linktype::LINUX_SLL, linktype::LINUX_SLL2, linktype::RAW,
                linktype::RAW_12, linktype::RAW_14, linktype::IPV4, linktype::NULL,
            ]),
            edits in proptest::collection::vec((0usize..80, proptest::prelude::any::<u8>()), 0..4),
            cut in 0usize..80,
            pad in 0usize..20,
            payload in 0usize..40,
        ) {
            let eth = syn_frame();
            let mut f = match lt {
                linktype::ETHERNET => eth.clone(),
                linktype::LINUX_SLL => [&[0u8; 14][..], &[8, 0], &eth[14..]].concat(),
                linktype::LINUX_SLL2 => [&[8u8, 0][..], &[0; 18], &eth[14..]].concat(),
                _ => eth[14..].to_vec(),
            };
            f.extend(std::iter::repeat_n(0x55, payload + pad));
            let ip = f.len() - eth[14..].len() - payload - pad;
            let tot = (60 + payload) as u16;
            f[ip + 2..ip + 4].copy_from_slice(&tot.to_be_bytes());
            for (at, x) in edits {
                let k = at % f.len();
                f[k] ^= x;
            }
            f.truncate(f.len().saturating_sub(cut));
            if let Some(fast) = tcp_fast(lt, &f) {
                proptest::prop_assert_eq!(Some(fast), decode(lt, &f).unwrap().tcp());
            }
        }
    }
}
