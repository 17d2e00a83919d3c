//! TCP: the header view, flags, the option walker, the [`TcpSegment`] facts and the fast
//! path that reads them without building a [`Frame`].

use std::net::IpAddr;

use etherparse::TcpHeaderSlice;

use super::ip::{Ipv4, protocol, v4};
use super::link::{eth, ethertype, sll1, sll2};
use super::{Field, Frame, IssueKind, LayerKind, Net, Transport, be16, be32, linktype};

/// A TCP header (options included). When the capture cut the header inside its options,
/// the view holds the captured part only: the fixed 20 bytes are always there,
/// [`Tcp::options_truncated`] says whether options are missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tcp<'a> {
    bytes: &'a [u8],
}

mod field {
    use super::Field;
    pub const SRC_PORT: Field = 0..2;
    pub const DST_PORT: Field = 2..4;
    pub const SEQ: Field = 4..8;
    pub const ACK: Field = 8..12;
    /// Data offset (high nibble of the first byte), then the flag bits.
    pub const DATA_OFFSET: usize = 12;
    pub const FLAGS: Field = 12..14;
    /// The flag bits of the 16-bit word at [`FLAGS`] (NS … FIN).
    pub const FLAGS_MASK: u16 = 0x01ff;
    pub const WINDOW: Field = 14..16;
    pub const CHECKSUM: Field = 16..18;
    pub const URGENT: Field = 18..20;
    pub const OPTIONS: usize = 20;
    pub const MIN_HEADER_LEN: usize = OPTIONS;
}

impl<'a> Tcp<'a> {
    pub fn source_port(&self) -> u16 {
        be16(self.bytes, field::SRC_PORT)
    }
    pub fn destination_port(&self) -> u16 {
        be16(self.bytes, field::DST_PORT)
    }
    pub fn seq(&self) -> u32 {
        be32(self.bytes, field::SEQ)
    }
    pub fn ack(&self) -> u32 {
        be32(self.bytes, field::ACK)
    }
    pub fn flags(&self) -> TcpFlags {
        TcpFlags(be16(self.bytes, field::FLAGS) & field::FLAGS_MASK)
    }
    /// Raw (unscaled) window field.
    pub fn window(&self) -> u16 {
        be16(self.bytes, field::WINDOW)
    }
    pub fn checksum(&self) -> u16 {
        be16(self.bytes, field::CHECKSUM)
    }
    pub fn urgent(&self) -> u16 {
        be16(self.bytes, field::URGENT)
    }
    /// Header length in bytes (data offset × 4), as the header says.
    pub fn header_len(&self) -> usize {
        self.bytes
            .get(field::DATA_OFFSET)
            .map_or(0, |b| usize::from(b >> 4) * 4)
    }
    /// The header bytes captured (fewer than [`Tcp::header_len`] when the options were cut).
    pub fn captured_len(&self) -> usize {
        self.bytes.len()
    }
    /// True when the capture ended inside the options.
    pub fn options_truncated(&self) -> bool {
        self.bytes.len() < self.header_len()
    }
    /// The options as captured (all of them unless [`Tcp::options_truncated`]).
    pub fn options(&self) -> TcpOptions<'a> {
        TcpOptions(self.bytes.get(field::OPTIONS..).unwrap_or(&[]))
    }
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

    /// The flags as letters, tcpdump's notation and order without brackets: `S`, `S.`, `P.`,
    /// `F.`, `R`, `.`, `none`, with `U`, `E`, `W` for URG, ECE, CWR after the ACK dot
    /// (`S.E`, `SEW`); NS is not shown. Writes into `buf`
    /// and returns the text.
    ///
    /// The one copy of the notation: sniff prints it in its lines, JSON and `-v`, tcpstat in
    /// its packet tables, CSV and JSON (`tcp_flags`).
    pub fn letters(self, buf: &mut [u8; 10]) -> &str {
        let mut n = 0;
        // tcpdump's order (print-tcp.c `tcp_flag_values`): `[F.]`, `[S.]`, `[S.E]`, `[SEW]`.
        for (bit, c) in [
            (Self::FIN, b'F'),
            (Self::SYN, b'S'),
            (Self::RST, b'R'),
            (Self::PSH, b'P'),
            (Self::ACK, b'.'),
            (Self::URG, b'U'),
            (Self::ECE, b'E'),
            (Self::CWR, b'W'),
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
}

/// Raw TCP options; iterate to decode them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpOptions<'a>(pub &'a [u8]);

/// Option kinds the walker decodes (IANA "TCP Option Kind Numbers").
pub mod kind {
    pub const END: u8 = 0;
    pub const NOP: u8 = 1;
    pub const MSS: u8 = 2;
    pub const WINDOW_SCALE: u8 = 3;
    pub const SACK_PERMITTED: u8 = 4;
    pub const SACK: u8 = 5;
    /// RFC 1072 echo and echo reply (obsolete), 4 bytes of data.
    pub const ECHO: u8 = 6;
    pub const ECHO_REPLY: u8 = 7;
    pub const TIMESTAMP: u8 = 8;
    /// RFC 1644 T/TCP connection counts (obsolete), 4 bytes of data.
    pub const CC: u8 = 11;
    pub const CC_NEW: u8 = 12;
    pub const CC_ECHO: u8 = 13;
    /// RFC 2385 TCP MD5 signature (16 bytes).
    pub const MD5: u8 = 19;
    /// SCPS capabilities.
    pub const SCPS: u8 = 20;
    /// RFC 5482 user timeout.
    pub const USER_TIMEOUT: u8 = 28;
    /// RFC 5925 TCP authentication option.
    pub const AO: u8 = 29;
    /// RFC 8684 Multipath TCP.
    pub const MPTCP: u8 = 30;
    /// RFC 7413 TCP Fast Open cookie.
    pub const FAST_OPEN: u8 = 34;
    /// Accurate ECN (draft-ietf-tcpm-accurate-ecn), counters in order 0 and order 1.
    pub const ACCECN0: u8 = 172;
    pub const ACCECN1: u8 = 174;
    /// RFC 6994 shared experimental options (an ExID follows the length byte).
    pub const EXPERIMENT1: u8 = 253;
    pub const EXPERIMENT2: u8 = 254;
    /// The ExID of TCP Fast Open in its experimental form (RFC 7413 section 4.1.1).
    pub const EXID_FAST_OPEN: u16 = 0xf989;
}

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
    /// Kind 19: the MD5 digest (RFC 2385; 16 bytes when well formed).
    Md5(&'a [u8]),
    /// Kind 28: the user timeout field as sent (granularity bit 15: minutes when set;
    /// [`TcpOption::user_timeout_secs`] converts).
    UserTimeout(u16),
    /// Kind 29: TCP-AO key ids and MAC.
    Ao {
        key_id: u8,
        rnext_key_id: u8,
        mac: &'a [u8],
    },
    /// Kind 30: a Multipath TCP option.
    Mptcp(Mptcp<'a>),
    /// Kind 34, or kind 254 with ExID 0xf989 (`experimental`): a Fast Open cookie (empty for
    /// a cookie request).
    FastOpen {
        cookie: &'a [u8],
        experimental: bool,
    },
    /// Kinds 172 (`order` 0) and 174 (`order` 1): AccECN byte counters, 3 bytes each.
    AccEcn { order: u8, counters: &'a [u8] },
    /// Kinds 253 and 254 with another ExID (RFC 6994).
    Experimental { kind: u8, exid: u16, data: &'a [u8] },
    /// Any other kind, with its data (without kind and length bytes).
    Other { kind: u8, data: &'a [u8] },
    /// An option whose length byte is wrong or runs past the header; the walk stops.
    Malformed { kind: u8, data: &'a [u8] },
}

impl TcpOption<'_> {
    /// The option kind byte.
    pub fn kind(&self) -> u8 {
        match *self {
            TcpOption::End => kind::END,
            TcpOption::Nop => kind::NOP,
            TcpOption::Mss(_) => kind::MSS,
            TcpOption::WindowScale(_) => kind::WINDOW_SCALE,
            TcpOption::SackPermitted => kind::SACK_PERMITTED,
            TcpOption::Sack(_) => kind::SACK,
            TcpOption::Timestamp { .. } => kind::TIMESTAMP,
            TcpOption::Md5(_) => kind::MD5,
            TcpOption::UserTimeout(_) => kind::USER_TIMEOUT,
            TcpOption::Ao { .. } => kind::AO,
            TcpOption::Mptcp(_) => kind::MPTCP,
            TcpOption::FastOpen {
                experimental: false,
                ..
            } => kind::FAST_OPEN,
            TcpOption::FastOpen { .. } => kind::EXPERIMENT2,
            TcpOption::AccEcn { order: 0, .. } => kind::ACCECN0,
            TcpOption::AccEcn { .. } => kind::ACCECN1,
            TcpOption::Experimental { kind, .. }
            | TcpOption::Other { kind, .. }
            | TcpOption::Malformed { kind, .. } => kind,
        }
    }

    /// A user timeout field in seconds (RFC 5482: the high bit G set means the low 15 bits
    /// count minutes).
    pub fn user_timeout_secs(raw: u16) -> u32 {
        let v = u32::from(raw & 0x7fff);
        if raw & 0x8000 != 0 { v * 60 } else { v }
    }
}

/// A Multipath TCP option (RFC 8684), zero-copy: the whole option, kind and length included,
/// so that offsets match the RFC's figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mptcp<'a>(&'a [u8]);

impl<'a> Mptcp<'a> {
    pub const CAPABLE: u8 = 0;
    pub const JOIN: u8 = 1;
    pub const DSS: u8 = 2;
    pub const ADD_ADDR: u8 = 3;
    pub const REMOVE_ADDR: u8 = 4;
    pub const PRIO: u8 = 5;
    pub const FAIL: u8 = 6;
    pub const FAST_CLOSE: u8 = 7;
    pub const TCP_RST: u8 = 8;

    /// The subtype (high nibble of byte 2).
    pub fn subtype(&self) -> u8 {
        self.0.get(2).map_or(0, |b| b >> 4)
    }
    /// The low nibble of byte 2 (MP_CAPABLE's version, ADD_ADDR's echo bit, …).
    pub fn low_nibble(&self) -> u8 {
        self.0.get(2).map_or(0, |b| b & 0x0f)
    }
    /// The option's length byte (kind and length included).
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// The whole option (kind, length, subtype, …).
    pub fn bytes(&self) -> &'a [u8] {
        self.0
    }
    /// Byte `at` of the option, if present.
    pub fn u8_at(&self, at: usize) -> Option<u8> {
        self.0.get(at).copied()
    }
    /// Big-endian 16, 32 and 64-bit fields at option offset `at`, if present.
    pub fn be16_at(&self, at: usize) -> Option<u16> {
        let b = self.0.get(at..at.checked_add(2)?)?;
        Some(be16(b, 0..2))
    }
    pub fn be32_at(&self, at: usize) -> Option<u32> {
        let b = self.0.get(at..at.checked_add(4)?)?;
        Some(be32(b, 0..4))
    }
    pub fn be64_at(&self, at: usize) -> Option<u64> {
        let b = self.0.get(at..at.checked_add(8)?)?;
        Some(u64::from(be32(b, 0..4)) << 32 | u64::from(be32(b, 4..8)))
    }
    /// `len` bytes at option offset `at`, if present.
    pub fn slice(&self, at: usize, len: usize) -> Option<&'a [u8]> {
        self.0.get(at..at.checked_add(len)?)
    }
}

/// The blocks of a SACK option (8 bytes each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SackBlocks<'a>(&'a [u8]);

/// A SACK block: left edge, right edge.
const SACK_BLOCK_LEN: usize = 8;

impl<'a> SackBlocks<'a> {
    pub fn len(&self) -> usize {
        self.0.len() / SACK_BLOCK_LEN
    }
    pub fn is_empty(&self) -> bool {
        self.0.len() < SACK_BLOCK_LEN
    }
    pub fn iter(&self) -> impl Iterator<Item = (u32, u32)> + 'a {
        self.0
            .chunks_exact(SACK_BLOCK_LEN)
            .map(|c| (be32(c, 0..4), be32(c, 4..8)))
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

    /// The options a connection negotiates, gathered in one pass (tcpstat keeps a SYN's).
    ///
    /// Walked without classifying every option (the analysis reads each segment's
    /// timestamps here): the same walk as [`TcpOptions::iter`], the same values as its
    /// `Mss`, `WindowScale`, `SackPermitted`, `Sack` and `Timestamp` options.
    pub fn summary(&self) -> TcpOptionSummary {
        let mut s = TcpOptionSummary::default();
        let mut rest = self.0;
        loop {
            match step(rest) {
                Step::End | Step::Malformed { .. } => return s,
                Step::Nop => rest = &rest[1..],
                Step::Option { kind, data, len } => {
                    match (kind, data.len()) {
                        (kind::MSS, 2) => s.mss = Some(be16(data, 0..2)),
                        (kind::WINDOW_SCALE, 1) => s.window_scale = Some(data[0]),
                        (kind::SACK_PERMITTED, 0) => s.sack_permitted = true,
                        (kind::SACK, n) if n % SACK_BLOCK_LEN == 0 => {
                            s.sack_blocks = (n / SACK_BLOCK_LEN) as u8
                        }
                        (kind::TIMESTAMP, 8) => {
                            s.timestamp = Some((be32(data, 0..4), be32(data, 4..8)))
                        }
                        _ => {}
                    }
                    rest = &rest[len..];
                }
            }
        }
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

impl<'a> IntoIterator for TcpOptions<'a> {
    type Item = TcpOption<'a>;
    type IntoIter = TcpOptionsIter<'a>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// Walks TCP options; [`TcpOptionsIter::with_offsets`] also gives each option's offset.
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

/// The option at the start of `rest`: the one walk [`TcpOptionsIter`] and
/// [`TcpOptions::summary`] share.
enum Step<'a> {
    /// End of option list, or no bytes left.
    End,
    Nop,
    /// A kind, its data and its whole length (kind and length bytes included).
    Option {
        kind: u8,
        data: &'a [u8],
        len: usize,
    },
    /// A length byte missing, under 2 or past the end: nothing after it can be read.
    Malformed {
        kind: u8,
        data: &'a [u8],
    },
}

#[inline(always)]
fn step(rest: &[u8]) -> Step<'_> {
    let Some(&kind) = rest.first() else {
        return Step::End;
    };
    match kind {
        kind::END => return Step::End,
        kind::NOP => return Step::Nop,
        _ => {}
    }
    let Some(&len) = rest.get(1) else {
        return Step::Malformed {
            kind,
            data: &rest[1..],
        };
    };
    let len = usize::from(len);
    if len < 2 || len > rest.len() {
        return Step::Malformed {
            kind,
            data: &rest[2..],
        };
    }
    Step::Option {
        kind,
        data: &rest[2..len],
        len,
    }
}

impl<'a> Iterator for TcpOptionsIter<'a> {
    type Item = TcpOption<'a>;
    fn next(&mut self) -> Option<TcpOption<'a>> {
        if self.done {
            return None;
        }
        let (kind, data, len) = match step(self.rest) {
            Step::End if self.rest.is_empty() => return None,
            Step::End => {
                self.done = true;
                self.pos += 1;
                return Some(TcpOption::End);
            }
            Step::Nop => {
                self.rest = &self.rest[1..];
                self.pos += 1;
                return Some(TcpOption::Nop);
            }
            Step::Malformed { kind, data } => {
                self.done = true;
                self.pos += self.rest.len();
                return Some(TcpOption::Malformed { kind, data });
            }
            Step::Option { kind, data, len } => (kind, data, len),
        };
        let whole = &self.rest[..len];
        self.rest = &self.rest[len..];
        self.pos += len;
        Some(match (kind, data.len()) {
            (kind::MSS, 2) => TcpOption::Mss(be16(data, 0..2)),
            (kind::MD5, _) => TcpOption::Md5(data),
            (kind::USER_TIMEOUT, 2) => TcpOption::UserTimeout(be16(data, 0..2)),
            (kind::AO, 2..) => TcpOption::Ao {
                key_id: data[0],
                rnext_key_id: data[1],
                mac: &data[2..],
            },
            (kind::MPTCP, 1..) => TcpOption::Mptcp(Mptcp(whole)),
            (kind::FAST_OPEN, _) => TcpOption::FastOpen {
                cookie: data,
                experimental: false,
            },
            (kind::ACCECN0 | kind::ACCECN1, _) => TcpOption::AccEcn {
                order: u8::from(kind == kind::ACCECN1),
                counters: data,
            },
            (kind::EXPERIMENT1 | kind::EXPERIMENT2, 2..) => {
                let exid = be16(data, 0..2);
                if kind == kind::EXPERIMENT2 && exid == kind::EXID_FAST_OPEN {
                    TcpOption::FastOpen {
                        cookie: &data[2..],
                        experimental: true,
                    }
                } else {
                    TcpOption::Experimental {
                        kind,
                        exid,
                        data: &data[2..],
                    }
                }
            }
            (kind::WINDOW_SCALE, 1) => TcpOption::WindowScale(data[0]),
            (kind::SACK_PERMITTED, 0) => TcpOption::SackPermitted,
            (kind::SACK, n) if n % SACK_BLOCK_LEN == 0 => TcpOption::Sack(SackBlocks(data)),
            (kind::TIMESTAMP, 8) => TcpOption::Timestamp {
                tsval: be32(data, 0..4),
                tsecr: be32(data, 4..8),
            },
            (
                kind::MSS..=kind::SACK
                | kind::TIMESTAMP
                | kind::USER_TIMEOUT
                | kind::AO
                | kind::MPTCP
                | kind::EXPERIMENT1
                | kind::EXPERIMENT2,
                _,
            ) => TcpOption::Malformed { kind, data },
            _ => TcpOption::Other { kind, data },
        })
    }
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
    /// The capture cut this segment (its payload, its options or the IP packet).
    pub truncated: bool,
    /// The capture ended inside the TCP options: `options` holds the captured ones, the last
    /// of which may be cut ([`TcpOption::Malformed`]); `payload` is empty.
    pub options_truncated: bool,
}

/// The TCP segment of a frame, as `decode(linktype, data)?.tcp()` gives it, for the common
/// case only: IPv4 (not a later fragment) and a whole TCP header, over Ethernet II without
/// VLAN tags, Linux cooked capture or raw IP. `None` means "not that case" (not "not TCP"):
/// the caller then runs the full decoder. Trace analysis reads millions of segments and
/// needs none of the layer list, so this skips building it (a third of the decoding time).
#[inline]
pub fn tcp_fast(linktype: u32, data: &[u8]) -> Option<TcpSegment<'_>> {
    let off = match linktype {
        linktype::ETHERNET if be16(data, eth::ETHERTYPE) == ethertype::IPV4 => eth::HEADER_LEN,
        linktype::LINUX_SLL if be16(data, sll1::PROTOCOL) == ethertype::IPV4 => sll1::HEADER_LEN,
        linktype::LINUX_SLL2 if be16(data, sll2::PROTOCOL) == ethertype::IPV4 => sll2::HEADER_LEN,
        linktype::RAW | linktype::RAW_12 | linktype::RAW_14 | linktype::IPV4 => 0,
        _ => return None,
    };
    let ip = data.get(off..)?;
    let ip_head = ip.get(..v4::MIN_HEADER_LEN)?;
    let ver_ihl = ip_head[v4::VER_IHL];
    let hlen = usize::from(ver_ihl & 0x0f) * 4;
    let h = Ipv4 { bytes: ip_head };
    // Version 4, protocol TCP, first (or only) fragment, whole header.
    if ver_ihl >> 4 != 4
        || hlen < v4::MIN_HEADER_LEN
        || h.protocol() != protocol::TCP
        || h.fragment_offset() != 0
    {
        return None;
    }
    ip.get(..hlen)?;
    let total = usize::from(h.total_len());
    // As decode_ipv4: a total length below the header length (TSO) trusts the capture.
    let total = if total < hlen { ip.len() } else { total };
    let end = off + total;
    let poff = off + hlen;
    let tcp = data.get(poff..end.min(data.len()))?;
    let hl = usize::from(*tcp.get(field::DATA_OFFSET)? >> 4) * 4;
    let t = Tcp {
        bytes: tcp.get(..hl)?,
    };
    if hl < field::MIN_HEADER_LEN {
        return None;
    }
    // As Frame::finish: the payload is what was captured of [poff + hl, end).
    let payload = &data[poff + hl..end.min(data.len())];
    Some(TcpSegment {
        src: IpAddr::V4(h.source()),
        dst: IpAddr::V4(h.destination()),
        sport: t.source_port(),
        dport: t.destination_port(),
        seq: t.seq(),
        ack: t.ack(),
        flags: t.flags(),
        window: t.window(),
        urgent: t.urgent(),
        checksum: t.checksum(),
        header_len: hl as u16,
        payload_len: ((total - hlen) as u32).saturating_sub(hl as u32),
        ip_len: total as u32,
        ttl: h.ttl(),
        options: t.options(),
        payload,
        offset: poff,
        truncated: end > data.len(),
        options_truncated: false,
    })
}

impl<'a> Frame<'a> {
    /// The TCP segment's facts, when this frame carries a TCP header.
    pub fn tcp(&self) -> Option<TcpSegment<'a>> {
        let Transport::Tcp(t) = &self.transport else {
            return None;
        };
        let (src, dst, ttl) = match &self.net {
            Net::Ipv4(h) => (IpAddr::V4(h.source()), IpAddr::V4(h.destination()), h.ttl()),
            Net::Ipv6(h, _) => (
                IpAddr::V6(h.source()),
                IpAddr::V6(h.destination()),
                h.hop_limit(),
            ),
            _ => return None,
        };
        Some(TcpSegment {
            src,
            dst,
            sport: t.source_port(),
            dport: t.destination_port(),
            seq: t.seq(),
            ack: t.ack(),
            flags: t.flags(),
            window: t.window(),
            urgent: t.urgent(),
            checksum: t.checksum(),
            header_len: t.header_len() as u16,
            payload_len: self.payload_len,
            ip_len: self.ip_len,
            ttl,
            options: t.options(),
            payload: self.payload(),
            offset: self.payload_offset.saturating_sub(t.captured_len()),
            truncated: self.truncated,
            options_truncated: t.options_truncated(),
        })
    }

    pub(super) fn decode_tcp(&mut self, off: usize, end: usize) {
        match TcpHeaderSlice::from_slice(self.transport_bytes(off, end)) {
            Ok(t) => {
                let t = Tcp { bytes: t.slice() };
                let hl = t.header_len();
                self.transport = Transport::Tcp(t);
                self.push(LayerKind::Tcp, off, hl);
                self.payload_len = self.payload_len.saturating_sub(hl as u32);
                self.finish(off + hl, end)
            }
            Err(e) => {
                use etherparse::err::tcp::HeaderSliceError as E;
                let bytes = self.transport_bytes(off, end);
                let hl = bytes
                    .get(field::DATA_OFFSET)
                    .map_or(0, |b| usize::from(b >> 4) * 4);
                // The fixed header is there but the capture ended inside the options: decode
                // what was captured (tcpdump and tshark print these segments too).
                if bytes.len() >= field::MIN_HEADER_LEN
                    && hl > bytes.len()
                    && end > self.data.len()
                    && off + bytes.len() == self.data.len()
                {
                    let t = Tcp { bytes };
                    self.transport = Transport::Tcp(t);
                    self.push(LayerKind::Tcp, off, bytes.len());
                    self.payload_len = self.payload_len.saturating_sub(hl as u32);
                    self.short(LayerKind::Tcp, off, hl);
                    return self.finish(self.data.len(), end);
                }
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
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{LayerKind, decode, tests::syn_frame};
    use super::*;

    #[test]
    fn unknown_option_is_kept_raw() {
        let o = [99u8, 4, 0xab, 0xcd, 1, 0];
        let v: Vec<_> = TcpOptions(&o).iter().collect();
        assert_eq!(
            v,
            [
                TcpOption::Other {
                    kind: 99,
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
    fn newer_options_are_decoded() {
        let o = [
            28u8, 4, 0x81, 0x2c, // user timeout: 150 minutes
            29, 6, 5, 7, 0xaa, 0xbb, // TCP-AO
            34, 2, // TFO cookie request
            254, 6, 0xf9, 0x89, 1, 2, // experimental TFO
            30, 4, 0x01, 0x81, // MP_CAPABLE v1
            172, 5, 1, 2, 3, // AccECN order 0
        ];
        let v: Vec<_> = TcpOptions(&o).iter().collect();
        assert_eq!(v[0], TcpOption::UserTimeout(0x812c));
        assert_eq!(TcpOption::user_timeout_secs(0x812c), 0x012c * 60);
        assert_eq!(
            v[1],
            TcpOption::Ao {
                key_id: 5,
                rnext_key_id: 7,
                mac: &[0xaa, 0xbb]
            }
        );
        assert_eq!(
            v[2],
            TcpOption::FastOpen {
                cookie: &[],
                experimental: false
            }
        );
        assert_eq!(
            v[3],
            TcpOption::FastOpen {
                cookie: &[1, 2],
                experimental: true
            }
        );
        let TcpOption::Mptcp(m) = v[4] else {
            panic!("MPTCP expected: {:?}", v[4]);
        };
        assert_eq!(
            (m.subtype(), m.low_nibble(), m.len()),
            (Mptcp::CAPABLE, 1, 4)
        );
        assert_eq!(
            v[5],
            TcpOption::AccEcn {
                order: 0,
                counters: &[1, 2, 3]
            }
        );
        assert_eq!(
            v.iter().map(|o| o.kind()).collect::<Vec<_>>(),
            [28, 29, 34, 254, 30, 172]
        );
    }

    #[test]
    fn options_cut_by_the_capture_keep_the_fixed_header() {
        // The SYN of syn_frame() captured up to 6 option bytes (snap length 60).
        let f = syn_frame();
        let fr = decode(linktype::ETHERNET, &f[..60]).unwrap();
        let t = fr.tcp().expect("a TCP segment with cut options");
        assert_eq!(
            (t.sport, t.dport, t.seq, t.header_len),
            (40000, 5000, 100, 40)
        );
        assert!(t.options_truncated && t.truncated);
        assert_eq!(t.options.0.len(), 6);
        assert!(t.payload.is_empty());
        assert_eq!(t.payload_len, 0);
        let i = fr.issue().expect("the cut is reported");
        assert_eq!(i.layer, LayerKind::Tcp);
        // Fewer than 20 bytes: no segment, as before.
        assert!(
            decode(linktype::ETHERNET, &f[..50])
                .unwrap()
                .tcp()
                .is_none()
        );
    }

    #[test]
    fn flag_letters() {
        let letters = |f: u16| TcpFlags(f).letters(&mut [0; 10]).to_owned();
        assert_eq!(letters(0x02), "S");
        assert_eq!(letters(0x12), "S.");
        assert_eq!(letters(0x18), "P.");
        assert_eq!(letters(0x11), "F.");
        assert_eq!(letters(0x04), "R");
        assert_eq!(letters(0x10), ".");
        assert_eq!(letters(0x1ff), "FSRP.UEW");
        assert_eq!(letters(0x92), "S.W");
        assert_eq!(letters(0x52), "S.E");
        assert_eq!(letters(0xc2), "SEW");
        assert_eq!(letters(0x19), "FP.");
        assert_eq!(letters(0x100), "none");
        assert_eq!(letters(0), "none");
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

        // The summary's own walk gathers what the options' iterator yields: options of
        // every kind and length, well formed or not, with and without an end of list.
        #[test]
        fn summary_is_what_the_options_say(
            opts in proptest::collection::vec(
                (
                    proptest::sample::select(vec![0u8, 1, 2, 3, 4, 5, 8, 19, 30, 34, 254]),
                    0u8..20,
                    proptest::collection::vec(proptest::prelude::any::<u8>(), 0..20),
                ),
                0..8,
            ),
            cut in 0usize..4,
        ) {
            let mut raw = Vec::new();
            for (kind, len, data) in opts {
                raw.push(kind);
                if kind > 1 {
                    raw.push(len);
                    raw.extend(data.iter().take(usize::from(len).saturating_sub(2)));
                }
            }
            raw.truncate(raw.len().saturating_sub(cut));
            let mut want = TcpOptionSummary::default();
            for o in TcpOptions(&raw).iter() {
                match o {
                    TcpOption::Mss(v) => want.mss = Some(v),
                    TcpOption::WindowScale(v) => want.window_scale = Some(v),
                    TcpOption::SackPermitted => want.sack_permitted = true,
                    TcpOption::Sack(b) => want.sack_blocks = b.len() as u8,
                    TcpOption::Timestamp { tsval, tsecr } => want.timestamp = Some((tsval, tsecr)),
                    _ => {}
                }
            }
            proptest::prop_assert_eq!(TcpOptions(&raw).summary(), want);
        }
    }
}
