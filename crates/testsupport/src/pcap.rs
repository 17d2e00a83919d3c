//! Captures built in a test: a little-endian pcap file ([`PcapWriter`]) and the
//! Ethernet/IPv4/TCP and Ethernet/IPv4/UDP frames to put in it ([`eth_ipv4_tcp`],
//! [`eth_ipv4_udp`]). Checksums are left at zero; the IPv4 header has DF set and TTL 64.

use std::path::Path;

/// Link type 1: Ethernet.
pub const ETHERNET: u32 = 1;

/// An IPv4 address and a port.
pub type Endpoint = ([u8; 4], u16);

/// A pcap file (version 2.4, snaplen 65535) being written in memory, one record at a time.
#[derive(Clone, Debug)]
pub struct PcapWriter(Vec<u8>);

impl PcapWriter {
    /// A microsecond-resolution pcap of `linktype` (magic `a1b2c3d4`).
    pub fn new(linktype: u32) -> PcapWriter {
        PcapWriter::with_magic(0xa1b2_c3d4, linktype)
    }

    /// A nanosecond-resolution pcap of `linktype` (magic `a1b23c4d`).
    pub fn nanos(linktype: u32) -> PcapWriter {
        PcapWriter::with_magic(0xa1b2_3c4d, linktype)
    }

    fn with_magic(magic: u32, linktype: u32) -> PcapWriter {
        let mut v = Vec::new();
        v.extend_from_slice(&magic.to_le_bytes());
        v.extend_from_slice(&2u16.to_le_bytes());
        v.extend_from_slice(&4u16.to_le_bytes());
        v.extend_from_slice(&[0; 8]); // thiszone, sigfigs
        v.extend_from_slice(&65535u32.to_le_bytes());
        v.extend_from_slice(&linktype.to_le_bytes());
        PcapWriter(v)
    }

    /// One record, captured whole, with these raw time fields (the fraction is in µs or ns as
    /// the file says; nothing checks it is below a second).
    pub fn record(&mut self, sec: u32, frac: u32, frame: &[u8]) -> &mut PcapWriter {
        self.0.extend_from_slice(&sec.to_le_bytes());
        self.0.extend_from_slice(&frac.to_le_bytes());
        self.0
            .extend_from_slice(&(frame.len() as u32).to_le_bytes());
        self.0
            .extend_from_slice(&(frame.len() as u32).to_le_bytes());
        self.0.extend_from_slice(frame);
        self
    }

    /// One record at `ms` milliseconds after `base_sec` (a microsecond file's time fields).
    pub fn record_ms(&mut self, base_sec: u32, ms: u64, frame: &[u8]) -> &mut PcapWriter {
        let us = u64::from(base_sec) * 1_000_000 + ms * 1000;
        self.record((us / 1_000_000) as u32, (us % 1_000_000) as u32, frame)
    }

    /// The file's bytes.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }

    /// Write the file to `path`.
    pub fn write(&self, path: impl AsRef<Path>) -> std::io::Result<()> {
        std::fs::write(path, &self.0)
    }
}

/// The TCP header fields of [`eth_ipv4_tcp`]; `options` must be a multiple of 4 bytes long.
#[derive(Clone, Debug, Default)]
pub struct Tcp {
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
    pub win: u16,
    pub options: Vec<u8>,
}

impl Tcp {
    /// A segment whose options are, on a SYN (`flags & 0x02`), MSS 1460, NOP and window scale
    /// `wscale`, and none otherwise.
    pub fn with_syn_options(seq: u32, ack: u32, flags: u8, win: u16, wscale: u8) -> Tcp {
        let options = if flags & 0x02 != 0 {
            vec![2, 4, 5, 0xb4, 1, 3, 3, wscale]
        } else {
            Vec::new()
        };
        Tcp {
            seq,
            ack,
            flags,
            win,
            options,
        }
    }
}

/// Zeroed MAC addresses, EtherType IPv4, and an IPv4 header (no options) for `proto` carrying
/// `rest` more bytes.
fn eth_ipv4(proto: u8, src: Endpoint, dst: Endpoint, rest: usize) -> Vec<u8> {
    let mut f = vec![0u8; 12];
    f.extend_from_slice(&[0x08, 0x00]);
    f.extend_from_slice(&[0x45, 0]);
    f.extend_from_slice(&((20 + rest) as u16).to_be_bytes());
    f.extend_from_slice(&[0, 0, 0x40, 0, 64, proto, 0, 0]);
    f.extend_from_slice(&src.0);
    f.extend_from_slice(&dst.0);
    f
}

/// An Ethernet frame with an IPv4 packet holding a TCP segment from `src` to `dst`.
pub fn eth_ipv4_tcp(src: Endpoint, dst: Endpoint, tcp: &Tcp, payload: &[u8]) -> Vec<u8> {
    let thl = 20 + tcp.options.len();
    let mut f = eth_ipv4(6, src, dst, thl + payload.len());
    f.extend_from_slice(&src.1.to_be_bytes());
    f.extend_from_slice(&dst.1.to_be_bytes());
    f.extend_from_slice(&tcp.seq.to_be_bytes());
    f.extend_from_slice(&tcp.ack.to_be_bytes());
    f.push(((thl / 4) as u8) << 4);
    f.push(tcp.flags);
    f.extend_from_slice(&tcp.win.to_be_bytes());
    f.extend_from_slice(&[0, 0, 0, 0]); // checksum, urgent pointer
    f.extend_from_slice(&tcp.options);
    f.extend_from_slice(payload);
    f
}

/// An Ethernet frame with an IPv4 packet holding a UDP datagram (no checksum).
pub fn eth_ipv4_udp(src: Endpoint, dst: Endpoint, payload: &[u8]) -> Vec<u8> {
    let mut f = eth_ipv4(17, src, dst, 8 + payload.len());
    f.extend_from_slice(&src.1.to_be_bytes());
    f.extend_from_slice(&dst.1.to_be_bytes());
    f.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    f.extend_from_slice(&[0, 0]);
    f.extend_from_slice(payload);
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_and_records() {
        let mut p = PcapWriter::new(ETHERNET);
        p.record_ms(1, 1500, &[0xaa]);
        let b = p.into_bytes();
        assert_eq!(b.len(), 24 + 16 + 1);
        assert_eq!(b[0..4], [0xd4, 0xc3, 0xb2, 0xa1]);
        assert_eq!(b[20..24], [1, 0, 0, 0]);
        assert_eq!(b[24..28], 2u32.to_le_bytes());
        assert_eq!(b[28..32], 500_000u32.to_le_bytes());
        assert_eq!(b[40], 0xaa);
        assert_eq!(
            PcapWriter::nanos(ETHERNET).into_bytes()[0..4],
            [0x4d, 0x3c, 0xb2, 0xa1]
        );
    }

    #[test]
    fn frames_decode() {
        let a = ([10, 0, 0, 1], 40000);
        let b = ([10, 0, 0, 2], 80);
        let t = Tcp::with_syn_options(7, 9, 0x12, 8000, 7);
        let f = eth_ipv4_tcp(a, b, &t, b"hello");
        assert_eq!(f.len(), 14 + 20 + 28 + 5);
        assert!(
            Tcp::with_syn_options(7, 9, 0x10, 8000, 7)
                .options
                .is_empty()
        );
        let d = netproto::frame::decode(ETHERNET, &f).expect("TCP frame");
        assert!(d.tcp().is_some() && d.udp().is_none());
        let u = eth_ipv4_udp(a, b, b"hi");
        let d = netproto::frame::decode(ETHERNET, &u).expect("UDP frame");
        let u = d.udp().expect("a UDP datagram");
        assert_eq!((u.sport, u.dport, u.payload), (40000, 80, &b"hi"[..]));
    }
}
