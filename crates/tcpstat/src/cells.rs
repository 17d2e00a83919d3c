//! The human table's cells written without `core::fmt`: a capture of short connections has a
//! row per six packets, and formatting each row through `write!` (padding, socket addresses,
//! floats) cost as much as analysing its packets. Every cell is byte for byte what the
//! `format!` spelling next to it in the tests gives; what is not the common case (IPv6, a
//! time that `{:.3}` would round from a tie) goes through `core::fmt` as before.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::net::SocketAddr;

/// A cell's text, built on the stack (a cell longer than this goes through `core::fmt`).
pub struct Cell {
    buf: [u8; 48],
    len: usize,
}

impl Cell {
    fn new() -> Cell {
        Cell {
            buf: [0; 48],
            len: 0,
        }
    }

    /// Append `s`; false when it does not fit.
    fn push(&mut self, s: &[u8]) -> bool {
        let Some(dst) = self.buf.get_mut(self.len..self.len + s.len()) else {
            return false;
        };
        dst.copy_from_slice(s);
        self.len += s.len();
        true
    }

    fn num(&mut self, n: impl itoa::Integer) -> bool {
        self.push(itoa::Buffer::new().format(n).as_bytes())
    }

    fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

/// `{:>width$}` of `text` (ASCII): right-aligned.
pub fn right(out: &mut impl Write, text: &[u8], width: usize) -> io::Result<()> {
    spaces(out, width.saturating_sub(text.len()))?;
    out.write_all(text)
}

/// `{:<width$}` of `text` (ASCII): left-aligned.
pub fn left(out: &mut impl Write, text: &[u8], width: usize) -> io::Result<()> {
    out.write_all(text)?;
    spaces(out, width.saturating_sub(text.len()))
}

fn spaces(out: &mut impl Write, n: usize) -> io::Result<()> {
    const SPACES: &[u8; 64] = &[b' '; 64];
    let mut n = n;
    while n > 0 {
        let k = n.min(SPACES.len());
        out.write_all(&SPACES[..k])?;
        n -= k;
    }
    Ok(())
}

/// `{:<width$}` of an endpoint.
pub fn addr(out: &mut impl Write, a: SocketAddr, width: usize) -> io::Result<()> {
    match a {
        SocketAddr::V4(v4) => {
            let mut c = Cell::new();
            let [a, b, d, e] = v4.ip().octets();
            for (i, o) in [a, b, d, e].into_iter().enumerate() {
                if i > 0 {
                    c.push(b".");
                }
                c.num(o);
            }
            c.push(b":");
            c.num(v4.port());
            left(out, c.bytes(), width)
        }
        SocketAddr::V6(_) => write!(out, "{a:<width$}"),
    }
}

/// `{:>width$}` of `a/b`.
pub fn pair(out: &mut impl Write, a: u64, b: u64, width: usize) -> io::Result<()> {
    let mut c = Cell::new();
    // Two u64 (20 digits each) and the slash fit in a cell.
    c.num(a);
    c.push(b"/");
    c.num(b);
    right(out, c.bytes(), width)
}

/// `{:>width$.3}` of `ns` in seconds (`ns as f64 / 1e9`, as `report::secs` makes it).
///
/// `{:.3}` rounds the binary value of the quotient half to even. For `0 <= ns < 2^50` that
/// value lies within a quarter of a nanosecond of `ns / 1e9`, so it rounds as the integer
/// does unless the integer sits exactly on a half millisecond; that case, a negative time
/// (`-0.000`) and a huge one go through `core::fmt`.
pub fn secs3(out: &mut impl Write, ns: i64, width: usize) -> io::Result<()> {
    const MS: i64 = 1_000_000;
    if !(0..1 << 50).contains(&ns) || ns % MS == MS / 2 {
        let mut s = String::new();
        let _ = write!(s, "{:>width$.3}", ns as f64 / 1e9);
        return out.write_all(s.as_bytes());
    }
    let ms = (ns + MS / 2) / MS;
    let mut c = Cell::new();
    c.num(ms / 1000);
    let frac = (ms % 1000) as u16;
    c.push(&[
        b'.',
        b'0' + (frac / 100) as u8,
        b'0' + (frac / 10 % 10) as u8,
        b'0' + (frac % 10) as u8,
    ]);
    right(out, c.bytes(), width)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn text(f: impl FnOnce(&mut Vec<u8>) -> io::Result<()>) -> String {
        let mut v = Vec::new();
        f(&mut v).unwrap();
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
            prop_assert_eq!(text(|o| secs3(o, ns, w)), format!("{:>w$.3}", ns as f64 / 1e9));
            let small = x % 100_000;
            prop_assert_eq!(text(|o| right(o, small.to_string().as_bytes(), w)), format!("{small:>w$}"));
            prop_assert_eq!(text(|o| left(o, b"SF", w)), format!("{:<w$}", "SF"));
        }
    }

    #[test]
    fn a_tie_rounds_as_fmt_rounds_it() {
        // 0.0005 s and 1.2345 s sit on a tie in decimal, not in binary.
        for ns in [500_000, 1_234_500_000, 2_500_000, 7_000_500_000] {
            assert_eq!(
                text(|o| secs3(o, ns, 9)),
                format!("{:>9.3}", ns as f64 / 1e9)
            );
        }
    }
}
