//! TCP: the header view, flags, the option walker, the [`TcpSegment`] facts and the fast
//! path that reads them without building a [`Frame`].

use std::net::IpAddr;

use etherparse::TcpHeaderSlice;

use super::ip::{Ipv4, protocol, v4};
use super::link::{eth, ethertype, sll1, sll2};
use super::{Field, Frame, IssueKind, LayerKind, Net, Transport, be16, be32, linktype};

/// A TCP header (options included).
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
    /// Header length in bytes (data offset × 4).
    pub fn header_len(&self) -> usize {
        self.bytes.len()
    }
    pub fn options(&self) -> TcpOptions<'a> {
        TcpOptions(&self.bytes[field::OPTIONS..])
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

    /// The flags as letters, tcpdump's notation without brackets: `S`, `S.`, `P.`, `F.`, `R`,
    /// `.`, `none`, with `U`, `E`, `W` for URG, ECE, CWR (NS is not shown). Writes into `buf`
    /// and returns the text.
    ///
    /// The one copy of the notation: sniff prints it in its lines, JSON and `-v`, tcpstat in
    /// its packet tables, CSV and JSON (`tcp_flags`).
    pub fn letters(self, buf: &mut [u8; 10]) -> &str {
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
}

/// Raw TCP options; iterate to decode them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpOptions<'a>(pub &'a [u8]);

/// Option kinds the walker decodes.
mod kind {
    pub const END: u8 = 0;
    pub const NOP: u8 = 1;
    pub const MSS: u8 = 2;
    pub const WINDOW_SCALE: u8 = 3;
    pub const SACK_PERMITTED: u8 = 4;
    pub const SACK: u8 = 5;
    pub const TIMESTAMP: u8 = 8;
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
    /// Any other kind, with its data (without kind and length bytes).
    Other { kind: u8, data: &'a [u8] },
    /// An option whose length byte is wrong or runs past the header; the walk stops.
    Malformed { kind: u8, data: &'a [u8] },
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

impl<'a> Iterator for TcpOptionsIter<'a> {
    type Item = TcpOption<'a>;
    fn next(&mut self) -> Option<TcpOption<'a>> {
        if self.done || self.rest.is_empty() {
            return None;
        }
        let kind = self.rest[0];
        match kind {
            kind::END => {
                self.done = true;
                self.pos += 1;
                return Some(TcpOption::End);
            }
            kind::NOP => {
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
            (kind::MSS, 2) => TcpOption::Mss(be16(data, 0..2)),
            (kind::WINDOW_SCALE, 1) => TcpOption::WindowScale(data[0]),
            (kind::SACK_PERMITTED, 0) => TcpOption::SackPermitted,
            (kind::SACK, n) if n % SACK_BLOCK_LEN == 0 => TcpOption::Sack(SackBlocks(data)),
            (kind::TIMESTAMP, 8) => TcpOption::Timestamp {
                tsval: be32(data, 0..4),
                tsecr: be32(data, 4..8),
            },
            (kind::MSS..=kind::SACK | kind::TIMESTAMP, _) => TcpOption::Malformed { kind, data },
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
    /// The capture cut this segment (its payload or the IP packet).
    pub truncated: bool,
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
            offset: self.payload_offset - t.header_len(),
            truncated: self.truncated,
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
    use super::super::{decode, tests::syn_frame};
    use super::*;

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
    fn flag_letters() {
        let letters = |f: u16| TcpFlags(f).letters(&mut [0; 10]).to_owned();
        assert_eq!(letters(0x02), "S");
        assert_eq!(letters(0x12), "S.");
        assert_eq!(letters(0x18), "P.");
        assert_eq!(letters(0x11), "F.");
        assert_eq!(letters(0x04), "R");
        assert_eq!(letters(0x10), ".");
        assert_eq!(letters(0x1ff), "SFPRUEW.");
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
    }
}
