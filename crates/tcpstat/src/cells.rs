//! The human table's cells written without `core::fmt`: a capture of short connections has a
//! row and a detail block per six packets, and formatting them through `write!` (padding,
//! socket addresses, floats) cost more than analysing the packets. Every cell is byte for
//! byte what the `format!` spelling beside it in the tests gives; what is not the common case
//! (an IPv6 endpoint, a negative or huge figure) goes through `core::fmt`. Also the [`Text`]
//! trait: the analysis's worded figures, written as bytes and displayed from one spelling.

use std::fmt::Write as _;
use std::net::SocketAddr;

/// A text the analysis words from figures (a verdict, the evidence for a vantage point, what
/// limited a sender): written as bytes where the tables are made, and through `Display` and
/// serde (as a string) everywhere else, from this one spelling ([`text_display!`]).
pub trait Text {
    fn write_text(&self, out: &mut Vec<u8>);

    fn to_text(&self) -> String {
        text_of(|out| self.write_text(out))
    }
}

/// What `write` writes, as a `String`.
pub fn text_of(write: impl FnOnce(&mut Vec<u8>)) -> String {
    let mut v = Vec::new();
    write(&mut v);
    // Every piece written is ASCII or a literal of this crate: valid UTF-8.
    String::from_utf8(v).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// `Display` and `Serialize` (a string) of [`Text`] types.
macro_rules! text_display {
    ($($t:ty),* $(,)?) => {$(
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&$crate::cells::Text::to_text(self))
            }
        }
        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&$crate::cells::Text::to_text(self))
            }
        }
    )*};
}
pub(crate) use text_display;

/// `{:.digits$}` of `x` (see [`fixed`]).
pub fn decimal(out: &mut Vec<u8>, x: f64, digits: u32) {
    fixed(out, x, digits, 0);
}

/// Bytes a [`Cell`] holds: the longest cell here, `a/b` of two u64, is 41 bytes.
const CELL: usize = 64;

/// A cell's text, built on the stack from its end into spaces: digits come out of a number
/// last first, and a right-aligned cell is then the buffer's last `width` bytes, appended in
/// one copy (a copy per piece cost more than making the pieces).
struct Cell {
    buf: [u8; CELL],
    /// Where the text begins.
    start: usize,
}

/// `00`, `01`, … `99`: two digits a division.
const PAIRS: &[u8; 200] = b"\
0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

impl Cell {
    fn new() -> Cell {
        Cell {
            buf: [b' '; CELL],
            start: CELL,
        }
    }

    /// Put `b` before the text (every cell fits, see [`CELL`]; were one not to, it would
    /// be cut, not panic).
    fn byte(&mut self, b: u8) {
        if let Some(at) = self.start.checked_sub(1) {
            self.buf[at] = b;
            self.start = at;
        }
    }

    /// Put `n`'s digits before the text.
    #[inline]
    fn num(&mut self, n: u64) {
        let mut n = n;
        while n >= 100 {
            let d = (n % 100) as usize * 2;
            n /= 100;
            self.byte(PAIRS[d + 1]);
            self.byte(PAIRS[d]);
        }
        if n >= 10 {
            let d = n as usize * 2;
            self.byte(PAIRS[d + 1]);
            self.byte(PAIRS[d]);
        } else {
            self.byte(b'0' + n as u8);
        }
    }

    fn text(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    /// `{:>width$}`: the spaces before the text are already there.
    fn right(&self, out: &mut Vec<u8>, width: usize) {
        let from = self.start.min(CELL.saturating_sub(width));
        spaces(out, width.saturating_sub(CELL));
        out.extend_from_slice(&self.buf[from..]);
    }

    /// `{:<width$}`.
    fn left(&self, out: &mut Vec<u8>, width: usize) {
        left(out, self.text(), width);
    }
}

/// `{}` of an integer.
pub fn num(out: &mut Vec<u8>, n: impl itoa::Integer) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// `{:>width$}` of `text` (ASCII): right-aligned.
pub fn right(out: &mut Vec<u8>, text: &[u8], width: usize) {
    spaces(out, width.saturating_sub(text.len()));
    out.extend_from_slice(text);
}

/// `{:<width$}` of `text` (ASCII): left-aligned.
pub fn left(out: &mut Vec<u8>, text: &[u8], width: usize) {
    out.extend_from_slice(text);
    spaces(out, width.saturating_sub(text.len()));
}

fn spaces(out: &mut Vec<u8>, n: usize) {
    out.resize(out.len() + n, b' ');
}

/// `{:<width$}` of an endpoint.
pub fn addr(out: &mut Vec<u8>, a: SocketAddr, width: usize) {
    match a {
        SocketAddr::V4(v4) => {
            let mut c = Cell::new();
            let [a, b, d, e] = v4.ip().octets();
            c.num(u64::from(v4.port()));
            c.byte(b':');
            for (i, o) in [e, d, b, a].into_iter().enumerate() {
                if i > 0 {
                    c.byte(b'.');
                }
                c.num(u64::from(o));
            }
            c.left(out, width);
        }
        SocketAddr::V6(_) => {
            let mut s = String::new();
            let _ = write!(s, "{a:<width$}");
            out.extend_from_slice(s.as_bytes());
        }
    }
}

/// `{:>width$}` of `a/b`.
pub fn pair(out: &mut Vec<u8>, a: u64, b: u64, width: usize) {
    let mut c = Cell::new();
    c.num(b);
    c.byte(b'/');
    c.num(a);
    c.right(out, width);
}

/// `{:>width$.digits$}` of `x`, for `digits` up to 3.
///
/// `core::fmt` prints the exact binary value of `x` rounded half to even; so does this, in
/// integers: `x` is `m * 2^e` exactly, `x * 10^digits` is `m * 10^digits` shifted right by
/// `-e`, and the bits shifted out say which way to round. A negative `x` (its `-0.000`), a
/// value of 2^53 or more, and what is not finite go through `core::fmt`.
pub fn fixed(out: &mut Vec<u8>, x: f64, digits: u32, width: usize) {
    match scaled(x, digits) {
        Some(q) => {
            // The last `digits` digits of q (zeros where it has fewer), the point, the rest.
            let mut c = Cell::new();
            let mut q = q;
            for _ in 0..digits {
                c.byte(b'0' + (q % 10) as u8);
                q /= 10;
            }
            if digits > 0 {
                c.byte(b'.');
            }
            c.num(q);
            c.right(out, width);
        }
        None => {
            let mut s = String::new();
            let _ = write!(s, "{x:>width$.prec$}", prec = digits as usize);
            out.extend_from_slice(s.as_bytes());
        }
    }
}

/// `x * 10^digits` rounded half to even, for `0 <= x < 2^53` and `digits <= 3`.
fn scaled(x: f64, digits: u32) -> Option<u64> {
    if !(0.0..9_007_199_254_740_992.0).contains(&x) || digits > 3 || x.is_sign_negative() {
        return None;
    }
    // Nearly always the product in floating point says it: below 2^40 it is within 2^-13 of
    // the exact one, so unless it lies that close to a half, both round the same way.
    let y = x * [1.0, 10.0, 100.0, 1000.0][digits as usize];
    if y < 1_099_511_627_776.0 {
        let (whole, frac) = (y as u64, y - (y as u64) as f64);
        if (frac - 0.5).abs() > 1.0 / 1024.0 {
            return Some(whole + u64::from(frac > 0.5));
        }
    }
    let bits = x.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32;
    let frac = bits & ((1 << 52) - 1);
    // x = m * 2^e (a subnormal's exponent is that of the smallest normal).
    let (m, e) = match exp {
        0 => (frac, -1074),
        _ => (frac | 1 << 52, exp - 1075),
    };
    let n = u128::from(m) * u128::from(10u64.pow(digits));
    if e >= 0 {
        // An integer below 2^53: no bits to shift out.
        return u64::try_from(n << e).ok();
    }
    let s = e.unsigned_abs();
    if s >= 64 {
        // n < 2^63 is below half of 2^s: rounds to 0 (and 1 << s must not overflow).
        return Some(0);
    }
    let (q, rest, half) = (n >> s, n & ((1 << s) - 1), 1u128 << (s - 1));
    let up = rest > half || (rest == half && q & 1 == 1);
    u64::try_from(q + u128::from(up)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn text(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut v = Vec::new();
        f(&mut v);
        String::from_utf8(v).unwrap()
    }

    fn any_addr() -> impl Strategy<Value = SocketAddr> {
        prop_oneof![
            (any::<[u8; 4]>(), any::<u16>()).prop_map(|(ip, p)| SocketAddr::from((ip, p))),
            (any::<[u16; 8]>(), any::<u16>()).prop_map(|(ip, p)| SocketAddr::from((ip, p))),
            Just(SocketAddr::from(([0, 0, 0, 0], 0))),
            Just(SocketAddr::from(([255, 255, 255, 255], 65535))),
        ]
    }

    /// Times around every rounding edge: ties, one ns either side, whole seconds, limits.
    fn any_ns() -> impl Strategy<Value = i64> {
        prop_oneof![
            any::<i64>(),
            0i64..10_000_000_000,
            (0i64..1 << 40, -2i64..3).prop_map(|(k, d)| k * 500_000 + d),
            (0i64..100_000, -2i64..3).prop_map(|(k, d)| k * 1_000_000_000 + d),
            ((1i64 << 50) - 5..(1i64 << 50) + 5),
            Just(i64::MIN),
            Just(i64::MAX),
        ]
    }

    proptest! {
        #[test]
        fn cells_are_what_fmt_writes(a in any_addr(), x in any::<u64>(), y in any::<u64>(), ns in any_ns(), w in 0usize..30) {
            prop_assert_eq!(text(|o| addr(o, a, w)), format!("{a:<w$}"));
            prop_assert_eq!(text(|o| pair(o, x, y, w)), format!("{:>w$}", format!("{x}/{y}")));
            let secs = ns as f64 / 1e9;
            prop_assert_eq!(text(|o| fixed(o, secs, 3, w)), format!("{secs:>w$.3}"));
            let f = f64::from_bits(x);
            for d in 0..4 {
                prop_assert_eq!(text(|o| fixed(o, f, d, w)), format!("{f:>w$.p$}", p = d as usize));
            }
            let small = x % 100_000;
            prop_assert_eq!(text(|o| right(o, small.to_string().as_bytes(), w)), format!("{small:>w$}"));
            prop_assert_eq!(text(|o| left(o, b"SF", w)), format!("{:<w$}", "SF"));
        }
    }

    proptest! {
        #[test]
        fn fixed_rounds_as_fmt_rounds(k in 0u64..1 << 40, shift in 0i32..60, d in 0u32..4, sub in any::<u64>()) {
            // Binary fractions land on decimal ties (1/16 = 0.0625); values near 2^53,
            // subnormals and whole numbers too.
            let tie = k as f64 / f64::from(2u32).powi(shift);
            let big = 9_007_199_254_740_992.0 - (k % 1000) as f64;
            let tiny = f64::from_bits(sub % (1 << 52));
            for x in [tie, big, tiny, k as f64, tie / 1000.0] {
                prop_assert_eq!(text(|o| fixed(o, x, d, 0)), format!("{x:.p$}", p = d as usize));
            }
        }
    }

    #[test]
    fn a_tie_rounds_as_fmt_rounds_it() {
        // 0.0005 s and 1.2345 s sit on a tie in decimal, not in binary; 1/16 does in both.
        for ns in [500_000i64, 1_234_500_000, 2_500_000, 7_000_500_000] {
            let secs = ns as f64 / 1e9;
            assert_eq!(text(|o| fixed(o, secs, 3, 9)), format!("{secs:>9.3}"));
        }
        for x in [0.0625, 0.1875, 2.5, 3.5, 0.5, 1e-300, 5e-324, 123.4565] {
            for d in 0..4 {
                assert_eq!(
                    text(|o| fixed(o, x, d, 0)),
                    format!("{x:.p$}", p = d as usize)
                );
            }
        }
    }
}
