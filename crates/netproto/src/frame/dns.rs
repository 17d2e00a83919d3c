//! DNS (RFC 1035, EDNS RFC 6891): a checked zero-copy view of a message, its header flags,
//! and a walker over questions and resource records whose names are read in place
//! (compression pointers followed, bounded, never allocated).

use super::{Field, be16, be32};

mod field {
    use super::Field;
    pub const ID: Field = 0..2;
    pub const FLAGS: Field = 2..4;
    pub const QDCOUNT: Field = 4..6;
    pub const ANCOUNT: Field = 6..8;
    pub const NSCOUNT: Field = 8..10;
    pub const ARCOUNT: Field = 10..12;
    pub const HEADER_LEN: usize = 12;
}

/// Resource record types this crate names (others are shown as numbers).
pub mod rtype {
    pub const A: u16 = 1;
    pub const NS: u16 = 2;
    pub const CNAME: u16 = 5;
    pub const SOA: u16 = 6;
    pub const PTR: u16 = 12;
    pub const MX: u16 = 15;
    pub const TXT: u16 = 16;
    pub const AAAA: u16 = 28;
    pub const SRV: u16 = 33;
    pub const OPT: u16 = 41;
}

/// The class IN.
pub const CLASS_IN: u16 = 1;

/// Why a DNS message could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DnsError {
    #[error("DNS message of {0} bytes is shorter than its 12-byte header")]
    ShortHeader(usize),
    #[error("DNS name at offset {0} runs past the captured bytes")]
    NameTruncated(usize),
    #[error("DNS name at offset {0} has a bad label (length byte 0x{1:02x})")]
    BadName(usize, u8),
    #[error("DNS name at offset {0} has a compression pointer to offset {1}, not before the name")]
    BadPointer(usize, usize),
    #[error("DNS record at offset {0} runs past the captured bytes")]
    RecordTruncated(usize),
    #[error("DNS record at offset {at} (type {rtype}) has its data cut by the capture")]
    RdataTruncated { at: usize, rtype: u16 },
}

/// A DNS message (without the 2-byte length prefix of DNS over TCP).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dns<'a> {
    bytes: &'a [u8],
}

/// Which section a record belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DnsSection {
    Question,
    Answer,
    Authority,
    Additional,
}

impl<'a> Dns<'a> {
    /// A view over `bytes` when the 12-byte header is there.
    pub fn new_checked(bytes: &'a [u8]) -> Result<Self, DnsError> {
        if bytes.len() < field::HEADER_LEN {
            return Err(DnsError::ShortHeader(bytes.len()));
        }
        Ok(Dns { bytes })
    }
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }
    pub fn id(&self) -> u16 {
        be16(self.bytes, field::ID)
    }
    /// The 16-bit flags word (QR, opcode, AA, TC, RD, RA, Z, AD, CD, rcode).
    pub fn flags(&self) -> u16 {
        be16(self.bytes, field::FLAGS)
    }
    pub fn is_response(&self) -> bool {
        self.flags() & 0x8000 != 0
    }
    pub fn opcode(&self) -> u8 {
        ((self.flags() >> 11) & 0xf) as u8
    }
    pub fn aa(&self) -> bool {
        self.flags() & 0x0400 != 0
    }
    pub fn tc(&self) -> bool {
        self.flags() & 0x0200 != 0
    }
    pub fn rd(&self) -> bool {
        self.flags() & 0x0100 != 0
    }
    pub fn ra(&self) -> bool {
        self.flags() & 0x0080 != 0
    }
    pub fn ad(&self) -> bool {
        self.flags() & 0x0020 != 0
    }
    pub fn cd(&self) -> bool {
        self.flags() & 0x0010 != 0
    }
    /// The 4-bit header rcode (see [`Dns::extended_rcode`] for EDNS's upper bits).
    pub fn rcode(&self) -> u16 {
        self.flags() & 0xf
    }
    pub fn qdcount(&self) -> u16 {
        be16(self.bytes, field::QDCOUNT)
    }
    pub fn ancount(&self) -> u16 {
        be16(self.bytes, field::ANCOUNT)
    }
    pub fn nscount(&self) -> u16 {
        be16(self.bytes, field::NSCOUNT)
    }
    pub fn arcount(&self) -> u16 {
        be16(self.bytes, field::ARCOUNT)
    }
    /// Questions, then answer, authority and additional records, in order. The walk stops
    /// after the first error (yielded once).
    pub fn records(&self) -> DnsRecords<'a> {
        DnsRecords {
            msg: self.bytes,
            pos: field::HEADER_LEN,
            counts: [
                self.qdcount(),
                self.ancount(),
                self.nscount(),
                self.arcount(),
            ],
            section: 0,
            done: false,
        }
    }
    /// The rcode with the upper 8 bits an EDNS OPT record carries (RFC 6891), when the
    /// message can be walked that far; the header's rcode otherwise.
    pub fn extended_rcode(&self) -> u16 {
        for r in self.records() {
            match r {
                Ok(r) if r.section == DnsSection::Additional && r.rtype == rtype::OPT => {
                    return self.rcode() | u16::from((r.ttl >> 24) as u8) << 4;
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
        self.rcode()
    }
}

/// A name inside a message: read it with [`DnsName::labels`] or [`DnsName::write`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DnsName<'a> {
    msg: &'a [u8],
    offset: usize,
}

impl<'a> DnsName<'a> {
    /// The name at `offset` of `msg`.
    pub fn at(msg: &'a [u8], offset: usize) -> Self {
        DnsName { msg, offset }
    }
    /// Offset of the name's first byte in the message.
    pub fn offset(&self) -> usize {
        self.offset
    }
    /// The labels in order; an error ends the walk.
    pub fn labels(&self) -> impl Iterator<Item = Result<&'a [u8], DnsError>> + 'a {
        let msg = self.msg;
        let mut pos = self.offset;
        // Each pointer must point before the previous one (before the name for the first):
        // tcpdump's rule, which also makes every walk end.
        let mut max_offset = self.offset;
        let mut done = false;
        std::iter::from_fn(move || {
            if done {
                return None;
            }
            loop {
                let Some(&len) = msg.get(pos) else {
                    done = true;
                    return Some(Err(DnsError::NameTruncated(pos)));
                };
                match len {
                    0 => {
                        done = true;
                        return None;
                    }
                    1..=63 => {
                        let l = usize::from(len);
                        let Some(label) = msg.get(pos + 1..pos + 1 + l) else {
                            done = true;
                            return Some(Err(DnsError::NameTruncated(pos)));
                        };
                        pos += 1 + l;
                        return Some(Ok(label));
                    }
                    0xc0..=0xff => {
                        let Some(&lo) = msg.get(pos + 1) else {
                            done = true;
                            return Some(Err(DnsError::NameTruncated(pos)));
                        };
                        let target = usize::from(len & 0x3f) << 8 | usize::from(lo);
                        if target >= max_offset {
                            done = true;
                            return Some(Err(DnsError::BadPointer(pos, target)));
                        }
                        max_offset = target;
                        pos = target;
                    }
                    _ => {
                        done = true;
                        return Some(Err(DnsError::BadName(pos, len)));
                    }
                }
            }
        })
    }
    /// The name as text with a trailing dot (`example.com.`, `.` for the root); `\DDD` for
    /// bytes that are not printable, as tcpdump does. Stops at an error and returns it.
    pub fn write(&self, out: &mut Vec<u8>) -> Result<(), DnsError> {
        let mut any = false;
        for l in self.labels() {
            let l = l?;
            any = true;
            for &b in l {
                if b.is_ascii_graphic() && b != b'.' && b != b'\\' {
                    out.push(b);
                } else if b == b'.' || b == b'\\' {
                    out.push(b'\\');
                    out.push(b);
                } else {
                    out.push(b'\\');
                    out.push(b'0' + b / 100);
                    out.push(b'0' + b / 10 % 10);
                    out.push(b'0' + b % 10);
                }
            }
            out.push(b'.');
        }
        if !any {
            out.push(b'.');
        }
        Ok(())
    }
}

/// Skip the name at `pos` in place (pointers are not followed): the offset after it.
fn skip_name(msg: &[u8], mut pos: usize) -> Result<usize, DnsError> {
    loop {
        let &len = msg.get(pos).ok_or(DnsError::NameTruncated(pos))?;
        match len {
            0 => return Ok(pos + 1),
            1..=63 => pos += 1 + usize::from(len),
            0xc0..=0xff => {
                msg.get(pos + 1).ok_or(DnsError::NameTruncated(pos))?;
                return Ok(pos + 2);
            }
            _ => return Err(DnsError::BadName(pos, len)),
        }
    }
}

/// One question (`ttl` 0, `rdata` empty) or resource record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DnsRecord<'a> {
    pub section: DnsSection,
    pub name: DnsName<'a>,
    pub rtype: u16,
    /// The class (for OPT: the requestor's UDP payload size).
    pub class: u16,
    /// The TTL (for OPT: extended rcode, version and flags).
    pub ttl: u32,
    pub rdata: &'a [u8],
    /// Offset of `rdata` in the message (names inside it may point anywhere before).
    pub rdata_offset: usize,
    /// The whole message, for names inside `rdata`.
    pub msg: &'a [u8],
}

impl DnsRecord<'_> {
    /// Offset just after this record in the message.
    pub fn end(&self) -> usize {
        self.rdata_offset + self.rdata.len()
    }
}

impl<'a> DnsRecord<'a> {
    /// The name at `at` bytes into the rdata (NS, CNAME, PTR: 0; MX: 2; SRV: 6).
    pub fn rdata_name(&self, at: usize) -> Option<DnsName<'a>> {
        (at < self.rdata.len()).then(|| DnsName::at(self.msg, self.rdata_offset + at))
    }
    /// The IPv4 address of an A record.
    pub fn a(&self) -> Option<std::net::Ipv4Addr> {
        let b: [u8; 4] = self.rdata.try_into().ok()?;
        Some(b.into())
    }
    /// The IPv6 address of an AAAA record.
    pub fn aaaa(&self) -> Option<std::net::Ipv6Addr> {
        let b: [u8; 16] = self.rdata.try_into().ok()?;
        Some(b.into())
    }
    /// Big-endian u16 at `at` of the rdata.
    pub fn rdata_u16(&self, at: usize) -> Option<u16> {
        let b = self.rdata.get(at..at.checked_add(2)?)?;
        Some(be16(b, 0..2))
    }
}

/// Walks a message's questions and records ([`Dns::records`]).
#[derive(Debug, Clone)]
pub struct DnsRecords<'a> {
    msg: &'a [u8],
    pos: usize,
    counts: [u16; 4],
    section: usize,
    done: bool,
}

impl<'a> Iterator for DnsRecords<'a> {
    type Item = Result<DnsRecord<'a>, DnsError>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        while self.section < 4 && self.counts[self.section] == 0 {
            self.section += 1;
        }
        if self.section >= 4 {
            self.done = true;
            return None;
        }
        self.counts[self.section] -= 1;
        let section = [
            DnsSection::Question,
            DnsSection::Answer,
            DnsSection::Authority,
            DnsSection::Additional,
        ][self.section];
        let start = self.pos;
        let r = (|| {
            let after = skip_name(self.msg, start)?;
            let fixed = if section == DnsSection::Question {
                4
            } else {
                10
            };
            let head = self
                .msg
                .get(after..after + fixed)
                .ok_or(DnsError::RecordTruncated(start))?;
            let rtype = be16(head, 0..2);
            let class = be16(head, 2..4);
            if section == DnsSection::Question {
                return Ok((
                    DnsRecord {
                        section,
                        name: DnsName::at(self.msg, start),
                        rtype,
                        class,
                        ttl: 0,
                        rdata: &[],
                        rdata_offset: after + 4,
                        msg: self.msg,
                    },
                    after + 4,
                ));
            }
            let ttl = be32(head, 4..8);
            let rdlen = usize::from(be16(head, 8..10));
            let rd_off = after + 10;
            let rdata = self
                .msg
                .get(rd_off..rd_off + rdlen)
                .ok_or(DnsError::RdataTruncated { at: start, rtype })?;
            Ok((
                DnsRecord {
                    section,
                    name: DnsName::at(self.msg, start),
                    rtype,
                    class,
                    ttl,
                    rdata,
                    rdata_offset: rd_off,
                    msg: self.msg,
                },
                rd_off + rdlen,
            ))
        })();
        match r {
            Ok((rec, next)) => {
                self.pos = next;
                Some(Ok(rec))
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A response for example.com A with a compressed answer name.
    fn response() -> Vec<u8> {
        let mut m = vec![0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0];
        m.extend_from_slice(b"\x07example\x03com\x00\x00\x01\x00\x01");
        m.extend_from_slice(&[
            0xc0, 12, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 93, 184, 216, 34,
        ]);
        m
    }

    #[test]
    fn response_walks_question_and_answer() {
        let m = response();
        let d = Dns::new_checked(&m).unwrap();
        assert_eq!(
            (d.id(), d.is_response(), d.rd(), d.ra()),
            (0x1234, true, true, true)
        );
        let rs: Vec<_> = d.records().collect::<Result<_, _>>().unwrap();
        assert_eq!(rs.len(), 2);
        let mut name = Vec::new();
        rs[1].name.write(&mut name).unwrap();
        assert_eq!(name, b"example.com.");
        assert_eq!(rs[1].a(), Some([93, 184, 216, 34].into()));
        assert_eq!(rs[1].ttl, 3600);
    }

    #[test]
    fn pointer_loops_and_cuts_are_errors() {
        let mut m = vec![0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1];
        let d = Dns::new_checked(&m).unwrap();
        let r = d.records().next().unwrap().unwrap();
        assert_eq!(
            r.name.write(&mut Vec::new()),
            Err(DnsError::BadPointer(12, 12))
        );
        m.truncate(15);
        let d = Dns::new_checked(&m).unwrap();
        assert_eq!(d.records().next(), Some(Err(DnsError::RecordTruncated(12))));
        assert_eq!(
            Dns::new_checked(&[0; 5]).unwrap_err().to_string(),
            "DNS message of 5 bytes is shorter than its 12-byte header"
        );
    }
}
