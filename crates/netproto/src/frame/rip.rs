//! RIP (RFC 1058 v1, RFC 2453 v2) and RIPng (RFC 2080): checked views of the 4-byte header
//! and walkers over the 20-byte route entries.

use super::{Field, be16, be32};

mod field {
    use super::Field;
    pub const COMMAND: usize = 0;
    pub const VERSION: usize = 1;
    pub const HEADER_LEN: usize = 4;
    /// A RIP entry: address family, route tag, address, mask, next hop, metric.
    pub const AFI: Field = 0..2;
    pub const TAG: Field = 2..4;
    pub const ADDR: Field = 4..8;
    pub const MASK: Field = 8..12;
    pub const NEXT_HOP: Field = 12..16;
    pub const METRIC: Field = 16..20;
    /// A RIPng entry: prefix, route tag, prefix length, metric.
    pub const NG_PREFIX: Field = 0..16;
    pub const NG_TAG: Field = 16..18;
    pub const NG_PREFIX_LEN: usize = 18;
    pub const NG_METRIC: usize = 19;
    pub const ENTRY_LEN: usize = 20;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RipError {
    #[error("RIP message of {0} bytes lacks its command and version bytes")]
    Short(usize),
}

/// A RIP or RIPng message (the header is the same: command, version, 2 bytes); the view
/// needs the command and version bytes only, so that a message the capture cut still
/// shows what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rip<'a> {
    bytes: &'a [u8],
}

/// A RIPv1/v2 route entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RipEntry {
    pub afi: u16,
    pub tag: u16,
    pub addr: std::net::Ipv4Addr,
    pub mask: std::net::Ipv4Addr,
    pub next_hop: std::net::Ipv4Addr,
    pub metric: u32,
}

/// A RIPng route entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RipngEntry {
    pub prefix: std::net::Ipv6Addr,
    pub tag: u16,
    pub prefix_len: u8,
    pub metric: u8,
}

impl<'a> Rip<'a> {
    pub fn new_checked(bytes: &'a [u8]) -> Result<Self, RipError> {
        if bytes.len() <= field::VERSION {
            return Err(RipError::Short(bytes.len()));
        }
        Ok(Rip { bytes })
    }
    /// 1 request, 2 response.
    pub fn command(&self) -> u8 {
        self.bytes[field::COMMAND]
    }
    pub fn version(&self) -> u8 {
        self.bytes[field::VERSION]
    }
    /// The captured bytes after the 4-byte header (empty when the capture cut the header).
    pub fn body(&self) -> &'a [u8] {
        self.bytes.get(field::HEADER_LEN..).unwrap_or(&[])
    }
    /// The whole 20-byte entries captured.
    pub fn entries(&self) -> impl Iterator<Item = RipEntry> + 'a {
        self.body()
            .chunks_exact(field::ENTRY_LEN)
            .map(|e| RipEntry {
                afi: be16(e, field::AFI),
                tag: be16(e, field::TAG),
                addr: be32(e, field::ADDR).into(),
                mask: be32(e, field::MASK).into(),
                next_hop: be32(e, field::NEXT_HOP).into(),
                metric: be32(e, field::METRIC),
            })
    }
    /// The whole 20-byte entries captured, read as RIPng.
    pub fn ripng_entries(&self) -> impl Iterator<Item = RipngEntry> + 'a {
        self.body().chunks_exact(field::ENTRY_LEN).map(|e| {
            let mut p = [0u8; 16];
            p.copy_from_slice(&e[field::NG_PREFIX]);
            RipngEntry {
                prefix: p.into(),
                tag: be16(e, field::NG_TAG),
                prefix_len: e[field::NG_PREFIX_LEN],
                metric: e[field::NG_METRIC],
            }
        })
    }
}
