//! The "Simple SDU" message of the UDP exercise (`udp-sdu send` / `udp-sdu serve`).
//!
//! All multi-byte fields are in network byte order:
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |   Bit flags   |         16 bits field         |      Zero     |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                         32 bits field                         |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |    Type=1     |      Len      |  Character string ...         |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  ... string   |  16 bits Internet checksum    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Bit flags = 0x53 (01010011b); the 16-bit field is the square root of the 32-bit field;
//! the string is the ASCII decimal form of the 32-bit field (Len bytes, no NUL, no padding);
//! the checksum is the RFC 1071 checksum of every byte before it, so a message is 12 + Len
//! bytes. The server answers one byte: [`ACCEPTED`] or [`REJECTED`].
//!
//! [`Packet`] is a checked zero-copy view, [`Repr`] the owned message, [`Packet::verify`]
//! names the first check that fails, and [`Corruption`] builds messages broken in one
//! chosen way to exercise a server.

use crate::checksum;
use std::ops::Range;
use thiserror::Error;

/// The value of the bit-flags byte.
pub const FLAGS: u8 = 0x53;
/// The value of the type byte.
pub const TYPE: u8 = 1;
/// The server's one-byte answer when every check passes.
pub const ACCEPTED: u8 = 0xFF;
/// The server's one-byte answer when a check fails.
pub const REJECTED: u8 = 0x55;
/// Bytes of a message besides the string: 10 before it, 2 of checksum after it.
pub const OVERHEAD: usize = 12;

/// Byte positions of the fields.
pub mod field {
    use std::ops::Range;
    pub const FLAGS: usize = 0;
    pub const ROOT: Range<usize> = 1..3;
    pub const ZERO: usize = 3;
    pub const VALUE: Range<usize> = 4..8;
    pub const TYPE: usize = 8;
    pub const LEN: usize = 9;
    /// The string starts here; it is `Len` bytes long.
    pub const STRING_START: usize = 10;
}

/// Why a message is not a valid Simple SDU, one variant per check, in the order they run.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Error {
    #[error("message truncated: {len} bytes, a Simple SDU has at least {OVERHEAD}")]
    Truncated { len: usize },
    #[error("wrong length: {len} bytes, but Len={string_len} means {expected} (12 + Len)")]
    Length {
        len: usize,
        string_len: u8,
        expected: usize,
    },
    #[error("bad bit flags: {found:#04x} ({found:08b}b), expected 0x53 (01010011b)")]
    Flags { found: u8 },
    #[error("byte 3 is {found:#04x}, it must be zero")]
    Zero { found: u8 },
    #[error("type is {found}, expected 1")]
    Type { found: u8 },
    #[error("Len is {found}, but {value} has {expected} decimal digits")]
    Len { found: u8, value: u32, expected: u8 },
    #[error("16-bit field {root} is not the square root of {value} ({root}² = {square})")]
    Square { root: u16, value: u32, square: u64 },
    #[error("string {found:?} is not the ASCII decimal form of {value}")]
    Ascii { found: String, value: u32 },
    #[error("bad checksum {found:#06x}, expected {expected:#06x}")]
    Checksum { found: u16, expected: u16 },
    #[error("buffer of {have} bytes is too small for a {need}-byte message")]
    BufferTooSmall { need: usize, have: usize },
}

impl Error {
    /// Short name of the failed check (for logs and JSON): `length`, `flags`, `zero`, `type`,
    /// `len`, `square`, `ascii`, `checksum`.
    pub fn check(&self) -> &'static str {
        match self {
            Error::Truncated { .. } | Error::Length { .. } | Error::BufferTooSmall { .. } => {
                "length"
            }
            Error::Flags { .. } => "flags",
            Error::Zero { .. } => "zero",
            Error::Type { .. } => "type",
            Error::Len { .. } => "len",
            Error::Square { .. } => "square",
            Error::Ascii { .. } => "ascii",
            Error::Checksum { .. } => "checksum",
        }
    }
}

/// A read-only or read-write view over the bytes of a Simple SDU.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wrap without checks; getters may then panic on short buffers. Prefer [`Self::new_checked`].
    pub fn new_unchecked(buffer: T) -> Self {
        Packet { buffer }
    }

    /// Wrap after checking the length: at least 12 bytes and exactly 12 + Len. After this
    /// no getter panics.
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        let p = Packet { buffer };
        p.check_len()?;
        Ok(p)
    }

    /// The length check of [`Self::new_checked`].
    pub fn check_len(&self) -> Result<(), Error> {
        let b = self.buffer.as_ref();
        if b.len() < OVERHEAD {
            return Err(Error::Truncated { len: b.len() });
        }
        let expected = OVERHEAD + usize::from(b[field::LEN]);
        if b.len() != expected {
            return Err(Error::Length {
                len: b.len(),
                string_len: b[field::LEN],
                expected,
            });
        }
        Ok(())
    }

    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn b(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    pub fn flags(&self) -> u8 {
        self.b()[field::FLAGS]
    }
    /// The 16-bit field (the square root).
    pub fn root(&self) -> u16 {
        u16::from_be_bytes([self.b()[1], self.b()[2]])
    }
    pub fn zero(&self) -> u8 {
        self.b()[field::ZERO]
    }
    /// The 32-bit field.
    pub fn value(&self) -> u32 {
        let b = self.b();
        u32::from_be_bytes([b[4], b[5], b[6], b[7]])
    }
    pub fn kind(&self) -> u8 {
        self.b()[field::TYPE]
    }
    /// The Len field.
    pub fn string_len(&self) -> u8 {
        self.b()[field::LEN]
    }
    /// Byte range of the string.
    pub fn string_range(&self) -> Range<usize> {
        field::STRING_START..field::STRING_START + usize::from(self.string_len())
    }
    /// The string bytes.
    pub fn string(&self) -> &[u8] {
        &self.b()[self.string_range()]
    }
    /// Byte range of the checksum.
    pub fn checksum_range(&self) -> Range<usize> {
        let end = self.string_range().end;
        end..end + 2
    }
    /// The stored checksum.
    pub fn checksum(&self) -> u16 {
        let r = self.checksum_range();
        u16::from_be_bytes([self.b()[r.start], self.b()[r.start + 1]])
    }
    /// The checksum the bytes before the checksum field call for.
    pub fn expected_checksum(&self) -> u16 {
        checksum::checksum(&self.b()[..self.checksum_range().start])
    }

    /// Run every check in order (length, flags, zero, type, Len, square, ASCII, checksum)
    /// and return the message, or the first check that fails.
    pub fn verify(&self) -> Result<Repr, Error> {
        self.check_len()?;
        if self.flags() != FLAGS {
            return Err(Error::Flags {
                found: self.flags(),
            });
        }
        if self.zero() != 0 {
            return Err(Error::Zero { found: self.zero() });
        }
        if self.kind() != TYPE {
            return Err(Error::Type { found: self.kind() });
        }
        let value = self.value();
        let digits = decimal_len(value);
        if self.string_len() != digits {
            return Err(Error::Len {
                found: self.string_len(),
                value,
                expected: digits,
            });
        }
        let root = self.root();
        let square = u64::from(root) * u64::from(root);
        if square != u64::from(value) {
            return Err(Error::Square {
                root,
                value,
                square,
            });
        }
        if self.string() != value.to_string().as_bytes() {
            return Err(Error::Ascii {
                found: String::from_utf8_lossy(self.string()).into_owned(),
                value,
            });
        }
        // RFC 1071 verification: data sum + stored checksum is all ones. Not a plain sum
        // over the whole message: the checksum sits at an odd offset when Len is odd.
        let start = self.checksum_range().start;
        let total = u32::from(checksum::sum(&self.b()[..start])) + u32::from(self.checksum());
        let folded = (total & 0xFFFF) + (total >> 16);
        if folded != 0xFFFF {
            return Err(Error::Checksum {
                found: self.checksum(),
                expected: self.expected_checksum(),
            });
        }
        Ok(Repr { root })
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    fn bm(&mut self) -> &mut [u8] {
        self.buffer.as_mut()
    }
    pub fn set_flags(&mut self, v: u8) {
        self.bm()[field::FLAGS] = v;
    }
    pub fn set_root(&mut self, v: u16) {
        self.bm()[field::ROOT].copy_from_slice(&v.to_be_bytes());
    }
    pub fn set_zero(&mut self, v: u8) {
        self.bm()[field::ZERO] = v;
    }
    pub fn set_value(&mut self, v: u32) {
        self.bm()[field::VALUE].copy_from_slice(&v.to_be_bytes());
    }
    pub fn set_kind(&mut self, v: u8) {
        self.bm()[field::TYPE] = v;
    }
    /// Set Len; the string and checksum ranges move with it.
    pub fn set_string_len(&mut self, v: u8) {
        self.bm()[field::LEN] = v;
    }
    /// The string bytes, writable.
    pub fn string_mut(&mut self) -> &mut [u8] {
        let r = self.string_range();
        &mut self.bm()[r]
    }
    pub fn set_checksum(&mut self, v: u16) {
        let r = self.checksum_range();
        self.bm()[r].copy_from_slice(&v.to_be_bytes());
    }
    /// Recompute and store the checksum over the bytes before it.
    pub fn fill_checksum(&mut self) {
        let c = self.expected_checksum();
        self.set_checksum(c);
    }
}

/// Number of decimal digits of `v` (1 for 0).
fn decimal_len(v: u32) -> u8 {
    v.checked_ilog10().map_or(1, |l| l as u8 + 1)
}

/// A valid Simple SDU: everything follows from the square root.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Repr {
    pub root: u16,
}

impl Repr {
    /// The message for `root` (the 32-bit field is `root²`).
    pub fn new(root: u16) -> Self {
        Repr { root }
    }

    /// The 32-bit field: `root²` (at most 4 294 836 225, it fits).
    pub fn value(&self) -> u32 {
        u32::from(self.root) * u32::from(self.root)
    }

    /// Parse and verify a message.
    pub fn parse<T: AsRef<[u8]>>(packet: &Packet<T>) -> Result<Self, Error> {
        packet.verify()
    }

    /// Size of the emitted message: 12 + number of digits of `root²`.
    pub fn buffer_len(&self) -> usize {
        OVERHEAD + usize::from(decimal_len(self.value()))
    }

    /// Write the message at the start of `buf`; returns its length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, Error> {
        let need = self.buffer_len();
        let Some(out) = buf.get_mut(..need) else {
            return Err(Error::BufferTooSmall {
                need,
                have: buf.len(),
            });
        };
        let digits = self.value().to_string();
        let mut p = Packet::new_unchecked(out);
        p.set_flags(FLAGS);
        p.set_root(self.root);
        p.set_zero(0);
        p.set_value(self.value());
        p.set_kind(TYPE);
        p.set_string_len(digits.len() as u8);
        p.string_mut().copy_from_slice(digits.as_bytes());
        p.fill_checksum();
        Ok(need)
    }

    /// The message as a new vector.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = vec![0; self.buffer_len()];
        // The buffer has exactly the needed size.
        let _ = self.emit(&mut v);
        v
    }

    /// The message broken in one chosen way: exactly that check fails, every check before
    /// it passes (the checksum is recomputed unless it is the corruption).
    pub fn to_corrupted_bytes(&self, how: Corruption) -> Vec<u8> {
        let mut v = self.to_bytes();
        let mut p = Packet::new_unchecked(&mut v);
        match how {
            Corruption::Flags => p.set_flags(FLAGS ^ 0x01),
            Corruption::Zero => p.set_zero(0x01),
            Corruption::Type => p.set_kind(2),
            Corruption::Len => {
                // A leading '0' keeps the datagram consistent with Len but one digit too long.
                let mut digits = b"0".to_vec();
                digits.extend_from_slice(p.string());
                let n = digits.len();
                let mut w = p.into_inner()[..field::STRING_START].to_vec();
                w.extend_from_slice(&digits);
                w.extend_from_slice(&[0, 0]);
                w[field::LEN] = n as u8;
                let mut p = Packet::new_unchecked(&mut w);
                p.fill_checksum();
                return w;
            }
            Corruption::Square => p.set_root(self.root.wrapping_add(1)),
            Corruption::Ascii => {
                let s = p.string_mut();
                let last = s.len() - 1;
                s[last] = b'0' + (s[last] - b'0' + 1) % 10;
            }
            Corruption::Checksum => {
                // ±1 always breaks a one's-complement sum (unlike !c, since 0 ≡ 0xFFFF).
                let c = p.checksum();
                p.set_checksum(c ^ 1);
                return v;
            }
            Corruption::Truncate => {
                v.pop();
                return v;
            }
        }
        p.fill_checksum();
        v
    }
}

/// Ways to break a message, for exercising a server (`udp-sdu send --corrupt`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Corruption {
    /// Bit flags other than 0x53.
    Flags,
    /// Non-zero byte 3.
    Zero,
    /// Type other than 1.
    Type,
    /// Len one more than the digit count (string with a leading '0').
    Len,
    /// 16-bit field not the square root of the 32-bit field.
    Square,
    /// String not the decimal form of the 32-bit field (last digit changed).
    Ascii,
    /// Wrong checksum.
    Checksum,
    /// Last byte missing.
    Truncate,
}

impl Corruption {
    /// Every kind, in check order.
    pub const ALL: [Corruption; 8] = [
        Corruption::Truncate,
        Corruption::Flags,
        Corruption::Zero,
        Corruption::Type,
        Corruption::Len,
        Corruption::Square,
        Corruption::Ascii,
        Corruption::Checksum,
    ];

    /// The check ([`Error::check`]) this corruption makes fail.
    pub fn check(self) -> &'static str {
        match self {
            Corruption::Truncate => "length",
            Corruption::Flags => "flags",
            Corruption::Zero => "zero",
            Corruption::Type => "type",
            Corruption::Len => "len",
            Corruption::Square => "square",
            Corruption::Ascii => "ascii",
            Corruption::Checksum => "checksum",
        }
    }
}

/// One line per field, for `-v` hex dumps: `offset  hex bytes  name = meaning`.
pub fn describe(bytes: &[u8]) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = |range: Range<usize>, name: &str, meaning: String| {
        let hex: Vec<String> = bytes
            .get(range.clone())
            .unwrap_or(&[])
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        lines.push(format!(
            "{:04x}  {:<24} {name}: {meaning}",
            range.start,
            hex.join(" ")
        ));
    };
    let n = bytes.len();
    let at = |i: usize| bytes.get(i).copied();
    let be16 = |i: usize| Some(u16::from_be_bytes([at(i)?, at(i + 1)?]));
    if let Some(f) = at(0) {
        line(0..1, "flags", format!("{f:#04x} ({f:08b}b)"));
    }
    if let Some(r) = be16(1) {
        line(1..3, "16-bit field (root)", r.to_string());
    }
    if let Some(z) = at(3) {
        line(3..4, "zero", z.to_string());
    }
    if n >= 8 {
        let v = u32::from_be_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
        line(4..8, "32-bit field", v.to_string());
    }
    if let Some(t) = at(8) {
        line(8..9, "type", t.to_string());
    }
    if let Some(l) = at(9) {
        line(9..10, "Len", l.to_string());
        let end = (10 + usize::from(l)).min(n);
        line(
            10..end,
            "string",
            format!("{:?}", String::from_utf8_lossy(&bytes[10..end])),
        );
        if let Some(c) = be16(end) {
            line(end..end + 2, "checksum", format!("{c:#06x}"));
        }
        if n > end + 2 {
            line(end + 2..n, "extra bytes", format!("{} bytes", n - end - 2));
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The worked example of docs/protocols.md: root 1234.
    const ROOT_1234: [u8; 19] = [
        0x53, 0x04, 0xd2, 0x00, 0x00, 0x17, 0x3c, 0x44, 0x01, 0x07, 0x31, 0x35, 0x32, 0x32, 0x37,
        0x35, 0x36, 0xcc, 0xfb,
    ];

    #[test]
    fn worked_example_root_1234() {
        let bytes = Repr::new(1234).to_bytes();
        assert_eq!(bytes, ROOT_1234);
        let p = Packet::new_checked(&ROOT_1234[..]).unwrap();
        assert_eq!(p.root(), 1234);
        assert_eq!(p.value(), 1_522_756);
        assert_eq!(p.string(), b"1522756");
        assert_eq!(Repr::parse(&p), Ok(Repr::new(1234)));
    }

    #[test]
    fn edge_roots() {
        for root in [0u16, 1, 3, 4, 9, 10, 99, 100, 316, 317, 65535] {
            let b = Repr::new(root).to_bytes();
            assert_eq!(b.len(), 12 + Repr::new(root).value().to_string().len());
            assert_eq!(
                Packet::new_checked(&b).unwrap().verify(),
                Ok(Repr::new(root))
            );
        }
        // The longest message: 65535² has 10 digits.
        assert_eq!(Repr::new(65535).buffer_len(), OVERHEAD + 10);
    }

    #[test]
    fn each_corruption_fails_exactly_its_check() {
        for root in [0u16, 7, 1234, 65535] {
            for how in Corruption::ALL {
                let b = Repr::new(root).to_corrupted_bytes(how);
                let err = Packet::new_unchecked(&b).verify().unwrap_err();
                assert_eq!(err.check(), how.check(), "root {root} {how:?}: {err}");
            }
        }
    }

    #[test]
    fn specific_errors() {
        assert_eq!(
            Packet::new_checked(&ROOT_1234[..5]).unwrap_err(),
            Error::Truncated { len: 5 }
        );
        let mut long = ROOT_1234.to_vec();
        long.push(0);
        assert_eq!(
            Packet::new_checked(&long).unwrap_err(),
            Error::Length {
                len: 20,
                string_len: 7,
                expected: 19
            }
        );
        let b = Repr::new(1234).to_corrupted_bytes(Corruption::Checksum);
        assert_eq!(
            Packet::new_unchecked(&b).verify().unwrap_err(),
            Error::Checksum {
                found: 0xccfa,
                expected: 0xccfb
            }
        );
        let mut buf = [0u8; 5];
        assert_eq!(
            Repr::new(1234).emit(&mut buf),
            Err(Error::BufferTooSmall { need: 19, have: 5 })
        );
    }

    #[test]
    fn describe_names_fields() {
        let d = describe(&ROOT_1234);
        assert_eq!(
            d[0],
            "0000  53                       flags: 0x53 (01010011b)"
        );
        assert!(d.iter().any(|l| l.contains("string: \"1522756\"")));
        assert!(d.last().unwrap().contains("checksum: 0xccfb"));
        // Never panics on short or odd input.
        for n in 0..ROOT_1234.len() {
            describe(&ROOT_1234[..n]);
        }
    }

    proptest! {
        #[test]
        fn round_trip(root in any::<u16>()) {
            let r = Repr::new(root);
            let b = r.to_bytes();
            prop_assert_eq!(Repr::parse(&Packet::new_checked(&b).unwrap()), Ok(r));
        }

        #[test]
        fn parse_never_panics(data in proptest::collection::vec(any::<u8>(), 0..40)) {
            let p = Packet::new_unchecked(&data);
            let _ = p.verify();
            if let Ok(p) = Packet::new_checked(&data) {
                let _ = (p.root(), p.value(), p.string(), p.checksum(), p.verify());
            }
            let _ = describe(&data);
        }

        #[test]
        fn mutated_message_never_panics(root in any::<u16>(), pos in any::<usize>(), byte in any::<u8>()) {
            let mut b = Repr::new(root).to_bytes();
            let i = pos % b.len();
            let changed = b[i] != byte;
            b[i] = byte;
            let res = Packet::new_unchecked(&b).verify();
            // Every single-byte change is caught by some check.
            prop_assert_eq!(res.is_err(), changed);
        }
    }
}
