//! The sliding-window protocol's segment format (the transport lab's file transfer).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |   Type  | WIN |    Sequence   |            Length             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                        Payload ...                            |
//! ```
//!
//! Byte 0 = Type (5 high bits: 1 = DATA, 2 = ACK) << 3 | WIN (3 low bits); byte 1 = Sequence;
//! bytes 2–3 = Length (network order) = number of payload bytes. A DATA payload is at most
//! 512 bytes, and one shorter than 512 (possibly empty) ends the transfer. An ACK carries no
//! payload; its Sequence is the next segment the receiver expects in sequence.
//!
//! Worked examples (also in `docs/protocols.md`):
//! - DATA, Sequence 5, WIN 4, payload `"hi"`: `0c 05 00 02 68 69`
//! - ACK, Sequence 6, WIN 4: `14 06 00 00`
//!
//! In the style of smoltcp's `wire` module: [`Segment`] is a checked zero-copy view,
//! [`Repr`] the owned, validated form that parses from and emits into caller buffers.
//! [`seq`] holds the 8-bit wrapping sequence arithmetic.

use core::fmt;

/// Field positions.
pub mod field {
    use core::ops::{Range, RangeFrom};
    /// Type (5 high bits) and WIN (3 low bits).
    pub const TYPE_WIN: usize = 0;
    /// Sequence number.
    pub const SEQUENCE: usize = 1;
    /// Payload length, network byte order.
    pub const LENGTH: Range<usize> = 2..4;
    /// Payload.
    pub const PAYLOAD: RangeFrom<usize> = 4..;
}

/// Header length in bytes.
pub const HEADER_LEN: usize = field::PAYLOAD.start;
/// Largest DATA payload; a shorter one marks the last segment.
pub const MAX_PAYLOAD: usize = 512;
/// Largest possible segment on the wire.
pub const MAX_SEGMENT: usize = HEADER_LEN + MAX_PAYLOAD;
/// Largest window WIN can carry (3 bits).
pub const MAX_WIN: u8 = 7;

/// Type value of a DATA segment.
pub const TYPE_DATA: u8 = 1;
/// Type value of an ACK segment.
pub const TYPE_ACK: u8 = 2;

/// What is wrong with a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("segment truncated: {len} bytes, the header alone is {HEADER_LEN}")]
    Truncated { len: usize },
    #[error("Length field says {declared} payload bytes but {actual} follow the header")]
    LengthMismatch { declared: usize, actual: usize },
    #[error("unknown segment type {0} (byte 0 bits 7-3; 1 = DATA, 2 = ACK)")]
    UnknownType(u8),
    #[error("DATA payload of {0} bytes exceeds the maximum of {MAX_PAYLOAD}")]
    DataTooLong(usize),
    #[error("ACK carries {0} payload bytes; an ACK must have none")]
    AckWithPayload(usize),
    #[error("window {0} does not fit the 3-bit WIN field (0-{MAX_WIN})")]
    WindowTooLarge(u8),
    #[error("buffer of {have} bytes is too small for a {needed}-byte segment")]
    BufferTooSmall { needed: usize, have: usize },
}

/// A read/write view over a segment in a byte buffer.
#[derive(Debug, Clone)]
pub struct Segment<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Segment<T> {
    /// Wrap a buffer without checks; getters may panic on short buffers. Prefer [`Self::new_checked`].
    pub const fn new_unchecked(buffer: T) -> Self {
        Segment { buffer }
    }

    /// Wrap a buffer after [`Self::check_len`]; getters never panic afterwards.
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        let s = Self::new_unchecked(buffer);
        s.check_len()?;
        Ok(s)
    }

    /// The buffer holds a whole header and exactly the Length bytes it announces.
    pub fn check_len(&self) -> Result<(), Error> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(Error::Truncated { len });
        }
        let declared = usize::from(self.length());
        let actual = len - HEADER_LEN;
        if declared != actual {
            return Err(Error::LengthMismatch { declared, actual });
        }
        Ok(())
    }

    /// Unwrap the buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Type field (5 bits).
    pub fn kind(&self) -> u8 {
        self.buffer.as_ref()[field::TYPE_WIN] >> 3
    }

    /// WIN field (3 bits).
    pub fn win(&self) -> u8 {
        self.buffer.as_ref()[field::TYPE_WIN] & 0x07
    }

    /// Sequence field.
    pub fn seq(&self) -> u8 {
        self.buffer.as_ref()[field::SEQUENCE]
    }

    /// Length field.
    pub fn length(&self) -> u16 {
        let b = &self.buffer.as_ref()[field::LENGTH];
        u16::from_be_bytes([b[0], b[1]])
    }

    /// The payload (everything after the header).
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[field::PAYLOAD]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Segment<T> {
    /// Set Type and WIN (each masked to its field width).
    pub fn set_kind_win(&mut self, kind: u8, win: u8) {
        self.buffer.as_mut()[field::TYPE_WIN] = (kind << 3) | (win & 0x07);
    }

    /// Set Sequence.
    pub fn set_seq(&mut self, seq: u8) {
        self.buffer.as_mut()[field::SEQUENCE] = seq;
    }

    /// Set Length.
    pub fn set_length(&mut self, len: u16) {
        self.buffer.as_mut()[field::LENGTH].copy_from_slice(&len.to_be_bytes());
    }

    /// Mutable payload.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[field::PAYLOAD]
    }
}

/// A validated segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repr<'a> {
    /// A DATA segment: `win` is the sender's window.
    Data { seq: u8, win: u8, payload: &'a [u8] },
    /// An ACK: `seq` is the next expected segment, `win` the receiver's current window.
    Ack { seq: u8, win: u8 },
}

impl<'a> Repr<'a> {
    /// Validate a view (its length is checked again, so an unchecked view is fine too).
    pub fn parse<T: AsRef<[u8]> + ?Sized>(segment: &Segment<&'a T>) -> Result<Self, Error> {
        segment.check_len()?;
        let bytes: &'a [u8] = segment.buffer.as_ref();
        let payload = &bytes[field::PAYLOAD];
        match segment.kind() {
            TYPE_DATA if payload.len() > MAX_PAYLOAD => Err(Error::DataTooLong(payload.len())),
            TYPE_DATA => Ok(Repr::Data {
                seq: segment.seq(),
                win: segment.win(),
                payload,
            }),
            TYPE_ACK if !payload.is_empty() => Err(Error::AckWithPayload(payload.len())),
            TYPE_ACK => Ok(Repr::Ack {
                seq: segment.seq(),
                win: segment.win(),
            }),
            other => Err(Error::UnknownType(other)),
        }
    }

    /// Parse raw bytes (a received datagram).
    pub fn parse_bytes(bytes: &'a [u8]) -> Result<Self, Error> {
        Self::parse(&Segment::new_checked(bytes)?)
    }

    /// Bytes [`Self::emit`] writes.
    pub fn buffer_len(&self) -> usize {
        match self {
            Repr::Data { payload, .. } => HEADER_LEN + payload.len(),
            Repr::Ack { .. } => HEADER_LEN,
        }
    }

    /// Write the segment to the front of `buf`; returns the number of bytes written.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, Error> {
        let (kind, seq, win, payload): (u8, u8, u8, &[u8]) = match *self {
            Repr::Data { seq, win, payload } => {
                if payload.len() > MAX_PAYLOAD {
                    return Err(Error::DataTooLong(payload.len()));
                }
                (TYPE_DATA, seq, win, payload)
            }
            Repr::Ack { seq, win } => (TYPE_ACK, seq, win, &[]),
        };
        if win > MAX_WIN {
            return Err(Error::WindowTooLarge(win));
        }
        let needed = self.buffer_len();
        if buf.len() < needed {
            return Err(Error::BufferTooSmall {
                needed,
                have: buf.len(),
            });
        }
        let mut s = Segment::new_unchecked(&mut buf[..needed]);
        s.set_kind_win(kind, win);
        s.set_seq(seq);
        // payload.len() <= 512 was checked above.
        s.set_length(payload.len() as u16);
        s.payload_mut().copy_from_slice(payload);
        Ok(needed)
    }

    /// The Sequence field.
    pub fn seq(&self) -> u8 {
        match *self {
            Repr::Data { seq, .. } | Repr::Ack { seq, .. } => seq,
        }
    }

    /// The WIN field.
    pub fn win(&self) -> u8 {
        match *self {
            Repr::Data { win, .. } | Repr::Ack { win, .. } => win,
        }
    }
}

impl fmt::Display for Repr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Repr::Data { seq, win, payload } => {
                write!(f, "DATA seq={seq} win={win} len={}", payload.len())
            }
            Repr::Ack { seq, win } => write!(f, "ACK seq={seq} win={win}"),
        }
    }
}

/// The 8-bit wrapping sequence space.
///
/// Engines count segments with an absolute `u64` index (0 = first DATA) and put only its
/// low 8 bits on the wire. A wire number is mapped back relative to a reference point the
/// engine knows — the receiver's next expected index, or the sender's oldest unacknowledged
/// one. With windows of at most 7 segments every legitimate number lies within a few
/// segments of that reference, so the signed 8-bit distance (−128..=127) is unambiguous.
pub mod seq {
    /// Wire number of an absolute segment index.
    pub const fn wire(abs: u64) -> u8 {
        abs as u8
    }

    /// Forward distance from window start `base` to `seq` (0..=255, wrapping).
    pub const fn offset(base: u8, seq: u8) -> u8 {
        seq.wrapping_sub(base)
    }

    /// Signed distance from `reference` (absolute) to wire number `seq`, in −128..=127.
    pub const fn distance(reference: u64, seq: u8) -> i8 {
        offset(wire(reference), seq) as i8
    }

    /// The absolute index with wire number `seq` nearest to `reference` (within −128..=127);
    /// `None` if that would be before segment 0.
    pub const fn absolute(seq: u8, reference: u64) -> Option<u64> {
        reference.checked_add_signed(distance(reference, seq) as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worked_example_data() {
        let bytes = [0x0c, 0x05, 0x00, 0x02, 0x68, 0x69];
        let r = Repr::parse_bytes(&bytes).unwrap();
        assert_eq!(
            r,
            Repr::Data {
                seq: 5,
                win: 4,
                payload: b"hi"
            }
        );
        let mut buf = [0u8; 16];
        let n = r.emit(&mut buf).unwrap();
        assert_eq!(&buf[..n], &bytes);
        let view = Segment::new_checked(&bytes[..]).unwrap();
        assert_eq!(
            (view.kind(), view.win(), view.seq(), view.length()),
            (1, 4, 5, 2)
        );
        assert_eq!(Repr::parse(&view).unwrap(), r);
    }

    #[test]
    fn worked_example_ack() {
        let bytes = [0x14, 0x06, 0x00, 0x00];
        let r = Repr::parse_bytes(&bytes).unwrap();
        assert_eq!(r, Repr::Ack { seq: 6, win: 4 });
        let mut buf = [0u8; 4];
        assert_eq!(r.emit(&mut buf), Ok(4));
        assert_eq!(buf, bytes);
    }

    #[test]
    fn empty_and_full_data() {
        let mut buf = [0u8; MAX_SEGMENT];
        let n = Repr::Data {
            seq: 255,
            win: 7,
            payload: &[],
        }
        .emit(&mut buf)
        .unwrap();
        assert_eq!(&buf[..n], &[0x0f, 0xff, 0, 0]);
        let p = [0xabu8; 512];
        let n = Repr::Data {
            seq: 0,
            win: 1,
            payload: &p,
        }
        .emit(&mut buf)
        .unwrap();
        assert_eq!(n, 516);
        assert_eq!(&buf[..4], &[0x09, 0x00, 0x02, 0x00]);
        assert!(matches!(Repr::parse_bytes(&buf), Ok(Repr::Data { payload, .. }) if payload == p));
    }

    #[test]
    fn rejects() {
        assert_eq!(
            Repr::parse_bytes(&[0x0c, 0, 0]),
            Err(Error::Truncated { len: 3 })
        );
        assert_eq!(
            Repr::parse_bytes(&[0x0c, 0, 0, 3, 1, 2]),
            Err(Error::LengthMismatch {
                declared: 3,
                actual: 2
            })
        );
        assert_eq!(
            Repr::parse_bytes(&[0x0c, 0, 0, 0, 9]),
            Err(Error::LengthMismatch {
                declared: 0,
                actual: 1
            })
        );
        assert_eq!(
            Repr::parse_bytes(&[0x1c, 0, 0, 0]),
            Err(Error::UnknownType(3))
        );
        assert_eq!(
            Repr::parse_bytes(&[0x00, 0, 0, 0]),
            Err(Error::UnknownType(0))
        );
        let mut big = vec![0x08, 0, 0x02, 0x01];
        big.resize(4 + 513, 0);
        assert_eq!(Repr::parse_bytes(&big), Err(Error::DataTooLong(513)));
        assert_eq!(
            Repr::parse_bytes(&[0x14, 0, 0, 1, 0]),
            Err(Error::AckWithPayload(1))
        );
        assert!(Segment::new_checked(&[0u8; 2][..]).is_err());
    }

    #[test]
    fn emit_errors() {
        let mut small = [0u8; 5];
        assert_eq!(
            Repr::Data {
                seq: 0,
                win: 1,
                payload: b"hi"
            }
            .emit(&mut small),
            Err(Error::BufferTooSmall { needed: 6, have: 5 })
        );
        assert_eq!(
            Repr::Ack { seq: 0, win: 8 }.emit(&mut small),
            Err(Error::WindowTooLarge(8))
        );
        let p = [0u8; 513];
        assert_eq!(
            Repr::Data {
                seq: 0,
                win: 1,
                payload: &p
            }
            .emit(&mut [0u8; 600]),
            Err(Error::DataTooLong(513))
        );
    }

    #[test]
    fn sequence_space() {
        assert_eq!(seq::wire(256 + 3), 3);
        assert_eq!(seq::offset(250, 2), 8);
        assert_eq!(seq::distance(256, 255), -1);
        assert_eq!(seq::absolute(255, 256), Some(255));
        assert_eq!(seq::absolute(3, 254), Some(259));
        assert_eq!(seq::absolute(250, 2), None);
        assert_eq!(seq::absolute(129, 2), Some(129));
        assert_eq!(seq::absolute(130, 2), None);
        assert_eq!(seq::absolute(0, 1000), Some(1024));
    }
}
