//! The TLV of the TCP exercise (`tlv-client` / `tlv-server`, port 62141).
//!
//! One header byte, then the value:
//!
//! ```text
//!  0 1 2 3 4 5 6 7
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |Typ|  Length   |  Value (Length bytes) ...
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Type (2 high bits): `01` ASCII, `10` boolean (`00` and `11` are unknown). Length (6 low
//! bits): 0–63 value bytes. A boolean has exactly one value byte, 0x00 = **true** and
//! 0x01 = **false** (as the exercise defines it). An ASCII TLV carrying an integer holds
//! decimal digits only, value ≤ `u32::MAX`.
//!
//! TCP may split a TLV anywhere, so [`decode`] works on whatever has arrived and says how
//! many more bytes it needs ([`Decoded::NeedMore`]); it rejects an unknown type or a bad
//! boolean length as soon as the header byte is there.

use thiserror::Error;

/// Largest value length the 6-bit Length can express.
pub const MAX_VALUE_LEN: usize = 63;

/// Byte positions of the fields.
pub mod field {
    /// The header byte: type (2 high bits) | length (6 low bits).
    pub const HEADER: usize = 0;
    /// The value starts here.
    pub const VALUE_START: usize = 1;
    /// Mask of the length bits in the header byte.
    pub const LEN_MASK: u8 = 0b0011_1111;
}

/// The two-bit type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `01`: ASCII text.
    Ascii,
    /// `10`: boolean.
    Boolean,
}

impl Kind {
    /// The type bits in position (already shifted to the two high bits).
    pub fn bits(self) -> u8 {
        match self {
            Kind::Ascii => 0b0100_0000,
            Kind::Boolean => 0b1000_0000,
        }
    }

    /// The kind of a header byte.
    pub fn from_header(header: u8) -> Result<Kind, Error> {
        match header >> 6 {
            0b01 => Ok(Kind::Ascii),
            0b10 => Ok(Kind::Boolean),
            bits => Err(Error::UnknownType { bits, header }),
        }
    }
}

/// Why bytes are not the TLV we expect.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Error {
    #[error("truncated TLV: need {needed} more byte(s)")]
    Truncated { needed: usize },
    #[error("unknown TLV type {bits:02b} in header byte {header:#04x} (01 = ASCII, 10 = boolean)")]
    UnknownType { bits: u8, header: u8 },
    #[error("boolean TLV with length {len}, it must be 1")]
    BooleanLength { len: usize },
    #[error("boolean TLV value {byte:#04x}, it must be 0x00 (true) or 0x01 (false)")]
    BooleanValue { byte: u8 },
    #[error("ASCII TLV byte {pos} is {byte:#04x}, not ASCII")]
    NotAscii { pos: usize, byte: u8 },
    #[error("ASCII TLV {text:?} is not an integer: byte {pos} {byte:#04x} is not a decimal digit")]
    NotDigit { text: String, pos: usize, byte: u8 },
    #[error("ASCII TLV is empty, expected an integer")]
    Empty,
    #[error("ASCII TLV {text:?} exceeds the 32-bit maximum 4294967295")]
    Overflow { text: String },
    #[error("expected an {expected:?} TLV, got {found:?}")]
    WrongKind { expected: Kind, found: Kind },
    #[error("value of {len} bytes does not fit a TLV (at most 63)")]
    TooLong { len: usize },
    #[error("buffer of {have} bytes is too small for a {need}-byte TLV")]
    BufferTooSmall { need: usize, have: usize },
}

/// A checked view over one TLV at the start of a buffer (trailing bytes are ignored; they
/// belong to the next TLV).
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wrap without checks.
    pub fn new_unchecked(buffer: T) -> Self {
        Packet { buffer }
    }

    /// Wrap after checking that the header and the whole value are present.
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        let p = Packet { buffer };
        let have = p.buffer.as_ref().len();
        let need = match p.buffer.as_ref().first() {
            None => 1,
            Some(_) => p.total_len(),
        };
        if have < need {
            return Err(Error::Truncated {
                needed: need - have,
            });
        }
        Ok(p)
    }

    /// The header byte.
    pub fn header(&self) -> u8 {
        self.buffer.as_ref()[field::HEADER]
    }
    /// The decoded type.
    pub fn kind(&self) -> Result<Kind, Error> {
        Kind::from_header(self.header())
    }
    /// The Length field: number of value bytes.
    pub fn value_len(&self) -> usize {
        usize::from(self.header() & field::LEN_MASK)
    }
    /// Header plus value.
    pub fn total_len(&self) -> usize {
        field::VALUE_START + self.value_len()
    }
    /// The value bytes.
    pub fn value(&self) -> &[u8] {
        &self.buffer.as_ref()[field::VALUE_START..self.total_len()]
    }
}

/// An owned TLV.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Repr {
    /// ASCII text, 0–63 bytes.
    Ascii(String),
    /// A boolean (0x00 on the wire = true).
    Boolean(bool),
}

impl Repr {
    /// The ASCII TLV of an integer, as the server sends it.
    pub fn integer(v: u32) -> Repr {
        Repr::Ascii(v.to_string())
    }

    /// An ASCII TLV; errors when longer than 63 bytes or not ASCII.
    pub fn ascii(text: &str) -> Result<Repr, Error> {
        check_ascii(text.as_bytes())?;
        if text.len() > MAX_VALUE_LEN {
            return Err(Error::TooLong { len: text.len() });
        }
        Ok(Repr::Ascii(text.to_owned()))
    }

    pub fn kind(&self) -> Kind {
        match self {
            Repr::Ascii(_) => Kind::Ascii,
            Repr::Boolean(_) => Kind::Boolean,
        }
    }

    /// Validate a complete TLV view.
    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>) -> Result<Repr, Error> {
        let kind = p.kind()?;
        let v = p.value();
        match kind {
            Kind::Boolean => {
                if v.len() != 1 {
                    return Err(Error::BooleanLength { len: v.len() });
                }
                match v[0] {
                    0x00 => Ok(Repr::Boolean(true)),
                    0x01 => Ok(Repr::Boolean(false)),
                    byte => Err(Error::BooleanValue { byte }),
                }
            }
            Kind::Ascii => {
                check_ascii(v)?;
                Ok(Repr::Ascii(v.iter().map(|&b| char::from(b)).collect()))
            }
        }
    }

    /// The integer an ASCII TLV carries: digits only, ≤ `u32::MAX`.
    pub fn as_integer(&self) -> Result<u32, Error> {
        match self {
            Repr::Ascii(text) => parse_integer(text.as_bytes()),
            Repr::Boolean(_) => Err(Error::WrongKind {
                expected: Kind::Ascii,
                found: Kind::Boolean,
            }),
        }
    }

    /// The boolean a boolean TLV carries.
    pub fn as_bool(&self) -> Result<bool, Error> {
        match self {
            Repr::Boolean(b) => Ok(*b),
            Repr::Ascii(_) => Err(Error::WrongKind {
                expected: Kind::Boolean,
                found: Kind::Ascii,
            }),
        }
    }

    fn value_bytes(&self) -> Vec<u8> {
        match self {
            Repr::Ascii(t) => t.as_bytes().to_vec(),
            Repr::Boolean(b) => vec![if *b { 0x00 } else { 0x01 }],
        }
    }

    /// Header plus value.
    pub fn buffer_len(&self) -> usize {
        field::VALUE_START
            + match self {
                Repr::Ascii(t) => t.len(),
                Repr::Boolean(_) => 1,
            }
    }

    /// Write the TLV at the start of `buf`; returns its length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, Error> {
        let value = self.value_bytes();
        if value.len() > MAX_VALUE_LEN {
            return Err(Error::TooLong { len: value.len() });
        }
        check_ascii(&value)?;
        let need = field::VALUE_START + value.len();
        let Some(out) = buf.get_mut(..need) else {
            return Err(Error::BufferTooSmall {
                need,
                have: buf.len(),
            });
        };
        out[field::HEADER] = self.kind().bits() | value.len() as u8;
        out[field::VALUE_START..].copy_from_slice(&value);
        Ok(need)
    }

    /// The TLV as a new vector.
    pub fn to_bytes(&self) -> Result<Vec<u8>, Error> {
        let mut v = vec![0; self.buffer_len()];
        self.emit(&mut v)?;
        Ok(v)
    }
}

impl std::fmt::Display for Repr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Repr::Ascii(t) => write!(f, "ASCII {t:?}"),
            Repr::Boolean(b) => write!(f, "boolean {b}"),
        }
    }
}

fn check_ascii(v: &[u8]) -> Result<(), Error> {
    match v.iter().position(|b| !b.is_ascii()) {
        Some(pos) => Err(Error::NotAscii { pos, byte: v[pos] }),
        None => Ok(()),
    }
}

/// Decimal digits only, value ≤ `u32::MAX` (leading zeros allowed).
pub fn parse_integer(text: &[u8]) -> Result<u32, Error> {
    if text.is_empty() {
        return Err(Error::Empty);
    }
    let lossy = || String::from_utf8_lossy(text).into_owned();
    let mut v: u32 = 0;
    for (pos, &byte) in text.iter().enumerate() {
        if !byte.is_ascii_digit() {
            return Err(Error::NotDigit {
                text: lossy(),
                pos,
                byte,
            });
        }
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add(u32::from(byte - b'0')))
            .ok_or_else(|| Error::Overflow { text: lossy() })?;
    }
    Ok(v)
}

/// Outcome of [`decode`] on the bytes received so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded {
    /// A complete TLV that used the first `consumed` bytes.
    Complete { tlv: Repr, consumed: usize },
    /// Not enough bytes yet: read at least `needed` more.
    NeedMore { needed: usize },
}

/// Decode the TLV at the start of `buf`, which may hold only part of it (or more than it).
/// Header errors (unknown type, boolean length ≠ 1) are reported as soon as byte 0 is there.
pub fn decode(buf: &[u8]) -> Result<Decoded, Error> {
    let Some(&header) = buf.first() else {
        return Ok(Decoded::NeedMore { needed: 1 });
    };
    let kind = Kind::from_header(header)?;
    let p = Packet::new_unchecked(buf);
    if kind == Kind::Boolean && p.value_len() != 1 {
        return Err(Error::BooleanLength { len: p.value_len() });
    }
    match Packet::new_checked(buf) {
        Err(Error::Truncated { needed }) => Ok(Decoded::NeedMore { needed }),
        Err(e) => Err(e),
        Ok(p) => Ok(Decoded::Complete {
            tlv: Repr::parse(&p)?,
            consumed: p.total_len(),
        }),
    }
}

/// A buffering decoder for a byte stream: push what arrives, pop complete TLVs.
#[derive(Debug, Default, Clone)]
pub struct Decoder {
    buf: Vec<u8>,
}

impl Decoder {
    pub fn new() -> Self {
        Decoder::default()
    }
    /// Append received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }
    /// Bytes received but not yet consumed.
    pub fn buffered(&self) -> &[u8] {
        &self.buf
    }
    /// The next complete TLV, or how many more bytes it needs.
    pub fn next_tlv(&mut self) -> Result<Decoded, Error> {
        let d = decode(&self.buf)?;
        if let Decoded::Complete { consumed, .. } = &d {
            self.buf.drain(..*consumed);
        }
        Ok(d)
    }
}

/// Hex bytes of an encoded TLV with its meaning, for `-v` output:
/// `44 31 32 33 34  (ASCII, length 4) "1234"`.
pub fn describe(bytes: &[u8]) -> String {
    let hex: Vec<String> = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let meaning = match decode(bytes) {
        Ok(Decoded::Complete { tlv, consumed }) => {
            let kind = match tlv.kind() {
                Kind::Ascii => "ASCII",
                Kind::Boolean => "boolean",
            };
            let what = match &tlv {
                Repr::Ascii(t) => format!("{t:?}"),
                Repr::Boolean(b) => b.to_string(),
            };
            let extra = bytes.len() - consumed;
            if extra > 0 {
                format!(
                    "({kind}, length {}) {what} + {extra} extra byte(s)",
                    consumed - 1
                )
            } else {
                format!("({kind}, length {}) {what}", consumed - 1)
            }
        }
        Ok(Decoded::NeedMore { needed }) => format!("(incomplete: need {needed} more byte(s))"),
        Err(e) => format!("(invalid: {e})"),
    };
    format!("{}  {meaning}", hex.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn worked_examples() {
        // docs/protocols.md: ASCII integer 1234, boolean true, boolean false.
        assert_eq!(
            Repr::integer(1234).to_bytes().unwrap(),
            [0x44, 0x31, 0x32, 0x33, 0x34]
        );
        assert_eq!(Repr::Boolean(true).to_bytes().unwrap(), [0x81, 0x00]);
        assert_eq!(Repr::Boolean(false).to_bytes().unwrap(), [0x81, 0x01]);
        assert_eq!(
            decode(&[0x44, 0x31, 0x32, 0x33, 0x34]).unwrap(),
            Decoded::Complete {
                tlv: Repr::Ascii("1234".into()),
                consumed: 5
            }
        );
        assert_eq!(
            Repr::integer(u32::MAX).to_bytes().unwrap(),
            b"\x4a4294967295".to_vec()
        );
    }

    #[test]
    fn streaming_needs_more() {
        let full = Repr::integer(3_000_000_000).to_bytes().unwrap();
        assert_eq!(decode(&[]).unwrap(), Decoded::NeedMore { needed: 1 });
        for cut in 1..full.len() {
            assert_eq!(
                decode(&full[..cut]).unwrap(),
                Decoded::NeedMore {
                    needed: full.len() - cut
                }
            );
        }
        let mut d = Decoder::new();
        let mut two = full.clone();
        two.extend_from_slice(&[0x81, 0x00]);
        let mut got = Vec::new();
        for b in two {
            d.push(&[b]);
            if let Decoded::Complete { tlv, .. } = d.next_tlv().unwrap() {
                got.push(tlv);
            }
        }
        assert_eq!(got, [Repr::Ascii("3000000000".into()), Repr::Boolean(true)]);
        assert!(d.buffered().is_empty());
    }

    #[test]
    fn errors() {
        assert_eq!(
            decode(&[0x05]).unwrap_err(),
            Error::UnknownType {
                bits: 0,
                header: 0x05
            }
        );
        assert_eq!(
            decode(&[0xc1, 0]).unwrap_err(),
            Error::UnknownType {
                bits: 3,
                header: 0xc1
            }
        );
        // Boolean length is rejected from the header alone.
        assert_eq!(
            decode(&[0x82]).unwrap_err(),
            Error::BooleanLength { len: 2 }
        );
        assert_eq!(
            decode(&[0x80]).unwrap_err(),
            Error::BooleanLength { len: 0 }
        );
        assert_eq!(
            decode(&[0x81, 0x02]).unwrap_err(),
            Error::BooleanValue { byte: 2 }
        );
        assert_eq!(
            decode(&[0x42, b'1', 0xe9]).unwrap_err(),
            Error::NotAscii { pos: 1, byte: 0xe9 }
        );
        let tlv = |b: &[u8]| match decode(b).unwrap() {
            Decoded::Complete { tlv, .. } => tlv,
            other => panic!("{other:?}"),
        };
        assert_eq!(tlv(b"\x4a4294967295").as_integer(), Ok(u32::MAX));
        assert_eq!(
            tlv(b"\x4a4294967296").as_integer(),
            Err(Error::Overflow {
                text: "4294967296".into()
            })
        );
        assert_eq!(
            tlv(b"\x43-12").as_integer(),
            Err(Error::NotDigit {
                text: "-12".into(),
                pos: 0,
                byte: b'-'
            })
        );
        assert_eq!(tlv(b"\x40").as_integer(), Err(Error::Empty));
        assert_eq!(tlv(b"\x440042").as_integer(), Ok(42));
        assert!(matches!(
            tlv(&[0x81, 0]).as_integer(),
            Err(Error::WrongKind { .. })
        ));
        assert_eq!(
            Repr::ascii(&"9".repeat(64)),
            Err(Error::TooLong { len: 64 })
        );
        assert_eq!(
            Repr::Boolean(true).emit(&mut [0u8; 1]),
            Err(Error::BufferTooSmall { need: 2, have: 1 })
        );
    }

    #[test]
    fn describe_explains() {
        assert_eq!(
            describe(&[0x44, 0x31, 0x32, 0x33, 0x34]),
            "44 31 32 33 34  (ASCII, length 4) \"1234\""
        );
        assert_eq!(describe(&[0x81, 0x01]), "81 01  (boolean, length 1) false");
        assert!(describe(&[0xc0]).contains("unknown TLV type 11"));
    }

    proptest! {
        #[test]
        fn round_trip_integer(v in any::<u32>()) {
            let b = Repr::integer(v).to_bytes().unwrap();
            match decode(&b).unwrap() {
                Decoded::Complete { tlv, consumed } => {
                    prop_assert_eq!(consumed, b.len());
                    prop_assert_eq!(tlv.as_integer(), Ok(v));
                }
                other => prop_assert!(false, "{:?}", other),
            }
        }

        #[test]
        fn round_trip_any(text in "[\\x00-\\x7f]{0,63}", flag in any::<bool>()) {
            for r in [Repr::ascii(&text).unwrap(), Repr::Boolean(flag)] {
                let b = r.to_bytes().unwrap();
                prop_assert_eq!(decode(&b).unwrap(), Decoded::Complete { tlv: r, consumed: b.len() });
            }
        }

        #[test]
        fn parse_never_panics(data in proptest::collection::vec(any::<u8>(), 0..80)) {
            if let Ok(Decoded::Complete { tlv, consumed }) = decode(&data) {
                prop_assert!(consumed <= data.len());
                let _ = tlv.as_integer();
            }
            let mut d = Decoder::new();
            d.push(&data);
            while let Ok(Decoded::Complete { .. }) = d.next_tlv() {}
            let _ = describe(&data);
        }
    }
}
