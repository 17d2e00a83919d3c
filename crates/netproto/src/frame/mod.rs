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
//! One file per protocol family, in the style of smoltcp's `wire` module; each holds its
//! zero-copy header views (field ranges as named constants) and its decoding step:
//!
//! | file          | what                                                                 |
//! |---------------|----------------------------------------------------------------------|
//! | `mod.rs`      | [`Frame`], [`decode`], [`Layer`]s, [`Issue`]s, [`FrameError`]        |
//! | `linktype.rs` | the link-type table ([`linktype`])                                   |
//! | `link.rs`     | Ethernet / 802.1Q, Linux SLL and SLL2, BSD NULL/LOOP ([`ethertype`]) |
//! | `llc.rs`      | 802.3 LLC / SNAP and spanning tree                                   |
//! | `arp.rs`      | ARP                                                                  |
//! | `ip.rs`       | IPv4, IPv6 and its extension-header walker                           |
//! | `tcp.rs`      | TCP header, flags, option walker, [`TcpSegment`] and [`tcp_fast`]    |
//! | `udp.rs`      | UDP header and [`UdpDatagram`]                                       |
//! | `icmp.rs`     | ICMP and ICMPv6 headers, the datagram an error quotes ([`Quoted`])   |
//! | `dns.rs`      | DNS messages: header, questions, records, names ([`Dns`])            |
//! | `dhcp.rs`     | BOOTP/DHCP: fixed header and options ([`Dhcp`])                      |
//! | `ntp.rs`      | NTP header ([`Ntp`])                                                 |
//! | `rip.rs`      | RIPv1/v2 and RIPng ([`Rip`])                                         |
//!
//! The application decoders are not run by [`decode`]: [`Frame::app`] picks one by UDP port
//! (as tcpdump does) and checks the payload; each view is also usable on its own.
//!
//! etherparse validates the IPv4, IPv6, TCP and ICMP headers (Ethernet, VLAN and UDP need
//! only a length check). Its types stay inside: the frame hands out its own views
//! ([`Ethernet`], [`Ipv4`], [`Ipv6`], [`Tcp`], [`Udp`], [`Icmpv4`], [`Icmpv6`]), so a crate
//! that matches on [`Link`], [`Net`] or [`Transport`] depends on netproto alone. This module
//! adds what etherparse lacks: Linux SLL2, BSD loopback, LLC/SNAP, STP, an IPv6
//! extension-header walker and a TCP option walker that stay in bounds on cut headers, and the
//! layer offsets.
//!
//! Text for people (tcpdump's notation, scapy's summaries) is the printers' business, in
//! `sniff`. What stays here: the layers' names ([`LayerKind::name`], which [`Issue`] messages
//! use too), the link-type table, and the TCP flag letters ([`TcpFlags::letters`]), which
//! `sniff` and `tcpstat` both print.
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
use std::net::IpAddr;
use std::ops::Range;

mod arp;
mod dhcp;
mod dns;
mod http;
mod icmp;
mod ip;
mod link;
pub mod linktype;
mod llc;
mod ntp;
mod rip;
mod tcp;
mod tls;
mod udp;

pub use arp::Arp;
pub use dhcp::{Dhcp, DhcpError, MAGIC_COOKIE, option as dhcp_option};
pub use dns::{
    CLASS_IN, Dns, DnsError, DnsName, DnsRecord, DnsRecords, DnsSection, rtype as dns_type,
};
pub use http::{HttpLine, HttpText, http_first_line, http_text};
pub use icmp::{Icmpv4, Icmpv6, Quoted};
pub use ip::{Ipv4, Ipv6, Ipv6Ext, Ipv6Exts};
pub use link::{Ethernet, PacketDirection, Sll, ethertype};
pub use llc::{Llc, Stp};
pub use ntp::{Ntp, NtpError};
pub use rip::{Rip, RipEntry, RipError, RipngEntry};
pub use tcp::{
    Mptcp, SackBlocks, Tcp, TcpFlags, TcpOption, TcpOptionSummary, TcpOptions, TcpOptionsIter,
    TcpSegment, kind as tcp_option_kind, tcp_fast,
};
pub use tls::{TlsHello, client_hello};
pub use udp::{Udp, UdpDatagram};

/// The only hard failure: a link type this decoder does not know. Everything else (short or
/// malformed headers) yields a partial [`Frame`] with [`Frame::issue`] set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("link type {0} is not supported (supported: {names})", names = linktype::SUPPORTED_NAMES)]
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
    /// The layer's name: scapy's class name, which [`Issue`]s, `--summary` and the JSON
    /// `layers` list use.
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

/// The link layer.
#[derive(Debug, Clone)]
pub enum Link<'a> {
    /// Raw IP link types: no link header.
    None,
    /// BSD NULL/LOOP: the address family (already byte-swapped to host meaning).
    Null { family: u32 },
    /// Ethernet II or 802.3 (when `ether_type() <= 1500`, the field is a length).
    Ethernet(Ethernet<'a>),
    /// Linux cooked capture v1 or v2.
    Sll(Sll<'a>),
}

/// The network layer (or what sits where it usually does).
#[derive(Debug, Clone)]
pub enum Net<'a> {
    None,
    Ipv4(Ipv4<'a>),
    /// IPv6 header and its extension headers (possibly empty).
    Ipv6(Ipv6<'a>, Ipv6Exts<'a>),
    Arp(Arp<'a>),
    /// 802.2 LLC (after an 802.3 length field or an SLL protocol of 4).
    Llc(Llc<'a>),
}

/// The transport layer (or what sits where it usually does).
#[derive(Debug, Clone)]
pub enum Transport<'a> {
    None,
    Tcp(Tcp<'a>),
    Udp(Udp<'a>),
    Icmpv4(Icmpv4<'a>),
    Icmpv6(Icmpv6<'a>),
    Stp(Stp<'a>),
}

/// An application message recognised by its well-known UDP port ([`Frame::app`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum App<'a> {
    /// UDP port 53.
    Dns(Dns<'a>),
    /// UDP ports 67 and 68.
    Dhcp(Dhcp<'a>),
    /// UDP port 123.
    Ntp(Ntp<'a>),
    /// UDP port 520 (RIPv1/v2).
    Rip(Rip<'a>),
    /// UDP port 521.
    Ripng(Rip<'a>),
}

/// The application protocol a UDP port pair stands for, tcpdump's order of checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppKind {
    Dns,
    Dhcp,
    Ntp,
    Rip,
    Ripng,
}

impl AppKind {
    /// By UDP ports (either side), as tcpdump's `udp_print` picks a printer.
    pub fn by_udp_ports(sport: u16, dport: u16) -> Option<AppKind> {
        let either = |p: u16| sport == p || dport == p;
        if either(53) {
            Some(AppKind::Dns)
        } else if either(67) || either(68) {
            Some(AppKind::Dhcp)
        } else if either(123) {
            Some(AppKind::Ntp)
        } else if either(520) {
            Some(AppKind::Rip)
        } else if either(521) {
            Some(AppKind::Ripng)
        } else {
            None
        }
    }
    /// The name tcpdump prints when the message is cut (`[|domain]`, `[|bootp]`, …).
    pub fn trunc_name(self) -> &'static str {
        match self {
            AppKind::Dns => "domain",
            AppKind::Dhcp => "bootp",
            AppKind::Ntp => "ntp",
            AppKind::Rip => "rip",
            AppKind::Ripng => "ripng",
        }
    }
}

const MAX_LAYERS: usize = 14;

/// A decoded frame: a layered zero-copy view over the captured bytes.
#[derive(Debug, Clone)]
pub struct Frame<'a> {
    data: &'a [u8],
    linktype: u32,
    link: Link<'a>,
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

impl<'a> Frame<'a> {
    /// The captured bytes.
    pub fn data(&self) -> &'a [u8] {
        self.data
    }
    pub fn link(&self) -> &Link<'a> {
        &self.link
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
    /// Payload length the headers announce (may exceed `payload().len()` when truncated).
    pub fn payload_len(&self) -> u32 {
        self.payload_len
    }
    /// The UDP payload's application message by well-known port: `None` when the ports name
    /// none, `Some(Err(kind))` when they do but the captured bytes are too short for its
    /// header.
    pub fn app(&self) -> Option<Result<App<'a>, AppKind>> {
        let u = self.udp()?;
        let k = AppKind::by_udp_ports(u.sport, u.dport)?;
        let p = u.payload;
        Some(match k {
            AppKind::Dns => Dns::new_checked(p).map(App::Dns).map_err(|_| k),
            AppKind::Dhcp => Dhcp::new_checked(p).map(App::Dhcp).map_err(|_| k),
            AppKind::Ntp => Ntp::new_checked(p).map(App::Ntp).map_err(|_| k),
            AppKind::Rip => Rip::new_checked(p).map(App::Rip).map_err(|_| k),
            AppKind::Ripng => Rip::new_checked(p).map(App::Ripng).map_err(|_| k),
        })
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
            Net::Ipv4(h) => Some(IpAddr::V4(h.source())),
            Net::Ipv6(h, _) => Some(IpAddr::V6(h.source())),
            _ => None,
        }
    }
    pub fn dst_ip(&self) -> Option<IpAddr> {
        match &self.net {
            Net::Ipv4(h) => Some(IpAddr::V4(h.destination())),
            Net::Ipv6(h, _) => Some(IpAddr::V6(h.destination())),
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
    /// The IP protocol number of the transport (after IPv6 extension headers).
    pub fn ip_proto(&self) -> Option<u8> {
        match &self.net {
            Net::Ipv4(h) => Some(h.protocol()),
            Net::Ipv6(h, e) => Some(e.iter().last().map_or(h.next_header(), |x| x.next_header)),
            _ => None,
        }
    }

    // ---- decoding: the steps live beside their protocol (link.rs, ip.rs, …) ----

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
}

/// Where a field sits in its header: a byte range (smoltcp's `wire::field::Field`).
type Field = Range<usize>;

/// Big-endian u16 in field `f`; callers check the length first (0 if short, never a panic).
fn be16(b: &[u8], f: Field) -> u16 {
    match b.get(f) {
        Some(&[x, y]) => u16::from_be_bytes([x, y]),
        _ => 0,
    }
}

/// Big-endian u32 in field `f` (0 if short).
fn be32(b: &[u8], f: Field) -> u32 {
    match b.get(f) {
        Some(&[w, x, y, z]) => u32::from_be_bytes([w, x, y, z]),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ethernet + IPv4 + TCP SYN with MSS, SACK-permitted, timestamps, NOP, window scale.
    pub(super) fn syn_frame() -> Vec<u8> {
        vec![
            0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00, // ethernet
            0x45, 0, 0, 60, 0x12, 0x34, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, // ip
            0x9c, 0x40, 0x13, 0x88, 0, 0, 0, 100, 0, 0, 0, 0, 0xa0, 0x02, 0xff, 0xff, 0, 0, 0,
            0, // tcp
            2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7,
        ]
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
        assert_eq!(t.flags, TcpFlags(TcpFlags::SYN));
        assert_eq!(t.payload_len, 0);
        assert_eq!(t.header_len, 40);
        let opts: Vec<_> = t.options.iter().collect();
        assert_eq!(
            opts,
            [
                TcpOption::Mss(1460),
                TcpOption::SackPermitted,
                TcpOption::Timestamp { tsval: 1, tsecr: 0 },
                TcpOption::Nop,
                TcpOption::WindowScale(7),
            ]
        );
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
    fn unsupported_linktype_is_an_error() {
        let e = decode(999, &[]).unwrap_err();
        assert_eq!(e, FrameError::UnsupportedLinkType(999));
        assert_eq!(
            e.to_string(),
            "link type 999 is not supported (supported: EN10MB, LINUX_SLL, LINUX_SLL2, RAW, IPV4, IPV6, NULL, LOOP)"
        );
    }
}
