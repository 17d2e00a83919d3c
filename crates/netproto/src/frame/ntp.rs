//! NTP (RFC 5905): a checked view of the 48-byte header.

use super::{Field, be32};

mod field {
    use super::Field;
    /// Leap indicator (2 bits), version (3), mode (3).
    pub const LI_VN_MODE: usize = 0;
    pub const STRATUM: usize = 1;
    pub const POLL: usize = 2;
    pub const PRECISION: usize = 3;
    pub const ROOT_DELAY: Field = 4..8;
    pub const ROOT_DISPERSION: Field = 8..12;
    pub const REFERENCE_ID: Field = 12..16;
    pub const REFERENCE_TS: usize = 16;
    pub const ORIGIN_TS: usize = 24;
    pub const RECEIVE_TS: usize = 32;
    pub const TRANSMIT_TS: usize = 40;
    /// Control messages (mode 6) have a 12-byte header; the others 48.
    pub const MIN_LEN: usize = 1;
    pub const HEADER_LEN: usize = 48;
}

/// Why bytes are not an NTP message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NtpError {
    #[error("NTP message is empty")]
    Empty,
}

/// An NTP message (header fields read where captured; 0 past the end).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ntp<'a> {
    bytes: &'a [u8],
}

impl<'a> Ntp<'a> {
    pub fn new_checked(bytes: &'a [u8]) -> Result<Self, NtpError> {
        if bytes.len() < field::MIN_LEN {
            return Err(NtpError::Empty);
        }
        Ok(Ntp { bytes })
    }
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }
    /// True when the whole 48-byte header was captured.
    pub fn is_complete(&self) -> bool {
        self.bytes.len() >= field::HEADER_LEN
    }
    pub fn leap(&self) -> u8 {
        self.bytes[field::LI_VN_MODE] >> 6
    }
    pub fn version(&self) -> u8 {
        (self.bytes[field::LI_VN_MODE] >> 3) & 7
    }
    /// 1 symmetric active, 2 symmetric passive, 3 client, 4 server, 5 broadcast, 6 control.
    pub fn mode(&self) -> u8 {
        self.bytes[field::LI_VN_MODE] & 7
    }
    pub fn stratum(&self) -> Option<u8> {
        self.bytes.get(field::STRATUM).copied()
    }
    pub fn poll(&self) -> Option<i8> {
        self.bytes.get(field::POLL).map(|&b| b as i8)
    }
    pub fn precision(&self) -> Option<i8> {
        self.bytes.get(field::PRECISION).map(|&b| b as i8)
    }
    pub fn root_delay(&self) -> u32 {
        be32(self.bytes, field::ROOT_DELAY)
    }
    pub fn root_dispersion(&self) -> u32 {
        be32(self.bytes, field::ROOT_DISPERSION)
    }
    pub fn reference_id(&self) -> u32 {
        be32(self.bytes, field::REFERENCE_ID)
    }
    fn ts(&self, at: usize) -> Option<(u32, u32)> {
        let b = self.bytes.get(at..at + 8)?;
        Some((be32(b, 0..4), be32(b, 4..8)))
    }
    /// Timestamps as (seconds since 1900, fraction of 2^-32 s).
    pub fn reference_ts(&self) -> Option<(u32, u32)> {
        self.ts(field::REFERENCE_TS)
    }
    pub fn origin_ts(&self) -> Option<(u32, u32)> {
        self.ts(field::ORIGIN_TS)
    }
    pub fn receive_ts(&self) -> Option<(u32, u32)> {
        self.ts(field::RECEIVE_TS)
    }
    pub fn transmit_ts(&self) -> Option<(u32, u32)> {
        self.ts(field::TRANSMIT_TS)
    }
}
