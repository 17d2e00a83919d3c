//! BOOTP (RFC 951) and DHCP (RFC 2131/2132): a checked view of the fixed header and a
//! walker over the options after the magic cookie.

use super::{Field, be16, be32};

mod field {
    use super::Field;
    pub const OP: usize = 0;
    pub const HTYPE: usize = 1;
    pub const HLEN: usize = 2;
    pub const HOPS: usize = 3;
    pub const XID: Field = 4..8;
    pub const SECS: Field = 8..10;
    pub const FLAGS: Field = 10..12;
    pub const CIADDR: Field = 12..16;
    pub const YIADDR: Field = 16..20;
    pub const SIADDR: Field = 20..24;
    pub const GIADDR: Field = 24..28;
    pub const CHADDR: Field = 28..44;
    pub const SNAME: Field = 44..108;
    pub const FILE: Field = 108..236;
    pub const MAGIC: Field = 236..240;
    pub const OPTIONS: usize = 240;
    /// The fields up to `chaddr` (what a one-line summary needs).
    pub const MIN_LEN: usize = 44;
}

/// The DHCP magic cookie (99.130.83.99).
pub const MAGIC_COOKIE: u32 = 0x6382_5363;

/// DHCP option codes this crate names.
pub mod option {
    pub const PAD: u8 = 0;
    pub const SUBNET_MASK: u8 = 1;
    pub const ROUTER: u8 = 3;
    pub const DNS: u8 = 6;
    pub const HOSTNAME: u8 = 12;
    pub const REQUESTED_IP: u8 = 50;
    pub const LEASE_TIME: u8 = 51;
    pub const MESSAGE_TYPE: u8 = 53;
    pub const SERVER_ID: u8 = 54;
    pub const PARAMETER_LIST: u8 = 55;
    pub const CLIENT_ID: u8 = 61;
    pub const END: u8 = 255;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DhcpError {
    #[error("BOOTP message of {0} bytes is shorter than its 44 fixed bytes up to chaddr")]
    Short(usize),
}

/// A BOOTP/DHCP message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dhcp<'a> {
    bytes: &'a [u8],
}

impl<'a> Dhcp<'a> {
    pub fn new_checked(bytes: &'a [u8]) -> Result<Self, DhcpError> {
        if bytes.len() < field::MIN_LEN {
            return Err(DhcpError::Short(bytes.len()));
        }
        Ok(Dhcp { bytes })
    }
    /// 1 request, 2 reply.
    pub fn op(&self) -> u8 {
        self.bytes[field::OP]
    }
    pub fn htype(&self) -> u8 {
        self.bytes[field::HTYPE]
    }
    pub fn hlen(&self) -> u8 {
        self.bytes[field::HLEN]
    }
    pub fn hops(&self) -> u8 {
        self.bytes[field::HOPS]
    }
    pub fn xid(&self) -> u32 {
        be32(self.bytes, field::XID)
    }
    pub fn secs(&self) -> u16 {
        be16(self.bytes, field::SECS)
    }
    pub fn flags(&self) -> u16 {
        be16(self.bytes, field::FLAGS)
    }
    fn addr(&self, f: Field) -> std::net::Ipv4Addr {
        be32(self.bytes, f).into()
    }
    pub fn ciaddr(&self) -> std::net::Ipv4Addr {
        self.addr(field::CIADDR)
    }
    pub fn yiaddr(&self) -> std::net::Ipv4Addr {
        self.addr(field::YIADDR)
    }
    pub fn siaddr(&self) -> std::net::Ipv4Addr {
        self.addr(field::SIADDR)
    }
    pub fn giaddr(&self) -> std::net::Ipv4Addr {
        self.addr(field::GIADDR)
    }
    /// The 16-byte client hardware address field.
    pub fn chaddr(&self) -> &'a [u8] {
        &self.bytes[field::CHADDR]
    }
    /// The client's MAC when the hardware is Ethernet (htype 1, hlen 6).
    pub fn client_mac(&self) -> Option<&'a [u8]> {
        (self.htype() == 1 && self.hlen() == 6).then(|| &self.chaddr()[..6])
    }
    pub fn sname(&self) -> Option<&'a [u8]> {
        self.bytes.get(field::SNAME)
    }
    pub fn file(&self) -> Option<&'a [u8]> {
        self.bytes.get(field::FILE)
    }
    /// True when the DHCP magic cookie follows the BOOTP fields.
    pub fn has_magic(&self) -> bool {
        self.bytes.get(field::MAGIC).map(|b| be32(b, 0..4)) == Some(MAGIC_COOKIE)
    }
    /// The DHCP options (none without the magic cookie). Pads are skipped; the walk stops at
    /// END, or with `Err(code)` at an option that runs past the captured bytes.
    pub fn options(&self) -> impl Iterator<Item = Result<(u8, &'a [u8]), u8>> + 'a {
        let mut rest = if self.has_magic() {
            self.bytes.get(field::OPTIONS..).unwrap_or(&[])
        } else {
            &[]
        };
        std::iter::from_fn(move || {
            loop {
                let (&code, tail) = rest.split_first()?;
                match code {
                    option::PAD => rest = tail,
                    option::END => {
                        rest = &[];
                        return None;
                    }
                    _ => {
                        let Some((&len, tail)) = tail.split_first() else {
                            rest = &[];
                            return Some(Err(code));
                        };
                        let Some(data) = tail.get(..usize::from(len)) else {
                            rest = &[];
                            return Some(Err(code));
                        };
                        rest = &tail[usize::from(len)..];
                        return Some(Ok((code, data)));
                    }
                }
            }
        })
    }
    /// The DHCP message type (option 53): 1 Discover … 8 Inform.
    pub fn message_type(&self) -> Option<u8> {
        self.options()
            .filter_map(Result::ok)
            .find(|(c, d)| *c == option::MESSAGE_TYPE && d.len() == 1)
            .map(|(_, d)| d[0])
    }
}
