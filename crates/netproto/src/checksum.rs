//! RFC 1071 Internet checksum, as used by IPv4, TCP, UDP, ICMP and netlab's Simple SDU.
//!
//! The checksum is the one's complement of the one's-complement sum of the data taken as
//! 16-bit big-endian words, an odd final byte padded with a zero byte:
//!
//! ```text
//!  data:   | w0 hi | w0 lo | w1 hi | w1 lo | ... | wn hi | (pad 0x00) |
//!  sum  =  w0 +' w1 +' ... +' wn      (+' = add with end-around carry)
//!  checksum = !sum                    (stored big-endian in the header)
//! ```
//!
//! [`Checksum`] is incremental: [`Checksum::add`] takes slices of any length and alignment,
//! so a pseudo-header, a header and a payload can be added one after the other even when a
//! slice ends in the middle of a 16-bit word. Speed comes from RFC 1071 §2: the sum is
//! independent of byte order and may be accumulated in wider words, so the hot loop loads
//! 8 bytes per step in native order, adds both 32-bit halves into 64-bit accumulators
//! (no carry handling inside the loop: 2^32 steps cannot overflow), and folds once at the end.

/// Incremental Internet checksum state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Checksum {
    /// Partial one's-complement sum in big-endian word order, folded to 16 bits.
    sum: u16,
    /// True when an odd number of bytes has been added: the next byte is a word's low byte.
    odd: bool,
}

impl Checksum {
    /// An empty sum.
    #[inline]
    pub const fn new() -> Self {
        Checksum { sum: 0, odd: false }
    }

    /// Add `data`, which continues the byte stream added so far (any length, any alignment).
    #[inline]
    pub fn add(&mut self, data: &[u8]) -> &mut Self {
        let mut s = sum_words(data);
        if self.odd {
            // The slice starts in the middle of a word: its bytes sit in the other halves of
            // the words. By byte-order independence that is the swapped sum (RFC 1071 §2 B).
            s = s.swap_bytes();
        }
        self.sum = fold(u64::from(self.sum) + u64::from(s));
        self.odd ^= data.len() % 2 == 1;
        self
    }

    /// The folded one's-complement sum so far (not complemented).
    #[inline]
    pub fn sum(&self) -> u16 {
        self.sum
    }

    /// The checksum to store: the one's complement of the sum.
    #[inline]
    pub fn finish(&self) -> u16 {
        !self.sum()
    }
}

/// The Internet checksum of `data` (one's complement of the one's-complement sum).
#[inline]
pub fn checksum(data: &[u8]) -> u16 {
    !sum_words(data)
}

/// The folded one's-complement sum of `data`.
#[inline]
pub fn sum(data: &[u8]) -> u16 {
    sum_words(data)
}

/// True when `data`, which includes its stored checksum field, sums to 0xFFFF (RFC 1071:
/// "the result is checked by adding all bytes, checksum included; all ones means correct").
#[inline]
pub fn verify(data: &[u8]) -> bool {
    sum(data) == 0xFFFF
}

/// Fold a wide one's-complement sum to 16 bits with end-around carries (branch-free).
#[inline]
fn fold(s: u64) -> u16 {
    let s = (s & 0xFFFF_FFFF) + (s >> 32); // < 2^33
    let s = (s & 0xFFFF_FFFF) + (s >> 32); // < 2^32
    let s = (s & 0xFFFF) + (s >> 16); // < 2^17
    let s = (s & 0xFFFF) + (s >> 16); // <= 0xFFFF
    s as u16
}

/// One's-complement sum of `data` as big-endian 16-bit words, folded to 16 bits.
#[inline]
fn sum_words(data: &[u8]) -> u16 {
    // Blocks bound the accumulators: each 32-byte step adds < 2^33 to each of four
    // accumulators; 2^26 steps per 2 GiB block keep them below 2^59.
    const BLOCK: usize = 1 << 31;
    if data.len() <= BLOCK {
        return sum_block(data);
    }
    let mut total: u64 = 0;
    for block in data.chunks(BLOCK) {
        total += u64::from(sum_block(block));
    }
    fold(total)
}

/// Sum one block in native byte order, then bring the result to big-endian word order.
#[inline]
fn sum_block(data: &[u8]) -> u16 {
    sum_block_as::<{ cfg!(target_endian = "big") }>(data)
}

/// [`sum_block`] with the word loads of a big-endian (`BIG`) or little-endian machine. Only
/// the native one runs in production; the tests run both, so the big-endian path is checked
/// on little-endian hosts too.
#[inline(always)]
fn sum_block_as<const BIG: bool>(data: &[u8]) -> u16 {
    let mut acc = [0u64; 4];
    let mut chunks = data.chunks_exact(32);
    for c in &mut chunks {
        // Four independent accumulators let the CPU (and the vectoriser) overlap the adds.
        for (i, a) in acc.iter_mut().enumerate() {
            *a += split(read8::<BIG>(&c[i * 8..]));
        }
    }
    let mut s = acc[0] + acc[1] + acc[2] + acc[3];
    let mut rest = chunks.remainder();
    while rest.len() >= 8 {
        s += split(read8::<BIG>(rest));
        rest = &rest[8..];
    }
    // The tail (< 8 bytes) keeps its positions: 4, 2, then 1 byte, the last one padded
    // with a zero byte after it, in the same byte order as the words above.
    if rest.len() >= 4 {
        let w = [rest[0], rest[1], rest[2], rest[3]];
        s += u64::from(if BIG {
            u32::from_be_bytes(w)
        } else {
            u32::from_le_bytes(w)
        });
        rest = &rest[4..];
    }
    if rest.len() >= 2 {
        let w = [rest[0], rest[1]];
        s += u64::from(if BIG {
            u16::from_be_bytes(w)
        } else {
            u16::from_le_bytes(w)
        });
        rest = &rest[2..];
    }
    if let Some(&b) = rest.first() {
        s += u64::from(if BIG { u16::from(b) << 8 } else { u16::from(b) });
    }
    let folded = fold(s);
    if BIG { folded } else { folded.swap_bytes() }
}

/// The first 8 bytes of `b` (the caller guarantees at least 8) as a word in `BIG` order.
#[inline(always)]
fn read8<const BIG: bool>(b: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[..8]);
    if BIG {
        u64::from_be_bytes(w)
    } else {
        u64::from_le_bytes(w)
    }
}

/// Both 32-bit halves of a word, added: < 2^33, so no carry is lost in a u64.
#[inline(always)]
fn split(w: u64) -> u64 {
    (w & 0xFFFF_FFFF) + (w >> 32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Straightforward RFC 1071 reference: big-endian word pairs, one at a time.
    fn reference_sum(data: &[u8]) -> u16 {
        let mut s: u32 = 0;
        for pair in data.chunks(2) {
            let w = u32::from(pair[0]) << 8 | u32::from(*pair.get(1).unwrap_or(&0));
            s += w;
            s = (s & 0xFFFF) + (s >> 16);
        }
        s as u16
    }

    #[test]
    fn rfc1071_section3_example() {
        // RFC 1071 §3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2 (one's complement 220d).
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(sum(&data), 0xddf2);
        assert_eq!(checksum(&data), 0x220d);
        // Appending the checksum makes the data verify.
        let mut with = data.to_vec();
        with.extend_from_slice(&0x220du16.to_be_bytes());
        assert!(verify(&with));
        with[0] ^= 1;
        assert!(!verify(&with));
    }

    #[test]
    fn odd_lengths_pad_with_zero() {
        assert_eq!(sum(&[]), 0);
        assert_eq!(sum(&[0xab]), 0xab00);
        assert_eq!(sum(&[0x12, 0x34, 0x56]), 0x1234 + 0x5600);
        for n in 0..100usize {
            let data: Vec<u8> = (0..n).map(|i| (i * 37 + 11) as u8).collect();
            assert_eq!(sum(&data), reference_sum(&data), "length {n}");
            let mut padded = data.clone();
            if n % 2 == 1 {
                padded.push(0);
            }
            assert_eq!(sum(&data), sum(&padded), "length {n}");
        }
    }

    #[test]
    fn carries_fold_around() {
        assert_eq!(sum(&[0xff, 0xff, 0x00, 0x01]), 0x0001);
        assert_eq!(sum(&[0xff; 4096]), 0xffff);
        assert_eq!(checksum(&[0xff; 4096]), 0x0000);
    }

    #[test]
    fn unaligned_slices_and_split_points() {
        let data: Vec<u8> = (0..300u32).map(|i| (i * 7919 % 251) as u8).collect();
        let want = reference_sum(&data);
        for start in 0..9 {
            // Misaligned start inside the allocation.
            let s = &data[start..];
            assert_eq!(sum(s), reference_sum(s));
        }
        for a in 0..data.len() {
            let mut c = Checksum::new();
            c.add(&data[..a]).add(&data[a..]);
            assert_eq!(c.sum(), want, "split at {a}");
        }
    }

    #[test]
    fn both_byte_orders_give_the_same_sum() {
        // The big-endian path is the native one on s390x/PowerPC: check it here too.
        for n in 0..200usize {
            let data: Vec<u8> = (0..n).map(|i| (i * 151 + 3) as u8).collect();
            let want = reference_sum(&data);
            assert_eq!(sum_block_as::<true>(&data), want, "big-endian, length {n}");
            assert_eq!(
                sum_block_as::<false>(&data),
                want,
                "little-endian, length {n}"
            );
        }
    }

    proptest! {
        #[test]
        fn matches_reference(data in proptest::collection::vec(any::<u8>(), 0..2000),
                             cuts in proptest::collection::vec(any::<usize>(), 0..6)) {
            prop_assert_eq!(sum(&data), reference_sum(&data));
            let mut points: Vec<usize> = cuts.iter().map(|c| c % (data.len() + 1)).collect();
            points.sort_unstable();
            let mut c = Checksum::new();
            let mut prev = 0;
            for p in points {
                c.add(&data[prev..p]);
                prev = p;
            }
            c.add(&data[prev..]);
            prop_assert_eq!(c.sum(), reference_sum(&data));
        }
    }
}
