//! Allocation-free text building blocks for the hot printing path: decimal and hex numbers,
//! addresses and timestamps appended to a byte buffer.

use std::net::{IpAddr, Ipv4Addr};

/// Append `n` in decimal.
pub fn dec(out: &mut Vec<u8>, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// Append `n` in decimal, zero-padded to `width` digits.
pub fn dec_pad(out: &mut Vec<u8>, n: u64, width: usize) {
    let mut buf = [b'0'; 20];
    let mut i = buf.len();
    let mut v = n;
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    let digits = buf.len() - i;
    for _ in digits..width {
        out.push(b'0');
    }
    out.extend_from_slice(&buf[i..]);
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Append one byte as two lowercase hex digits.
pub fn hex_byte(out: &mut Vec<u8>, b: u8) {
    out.push(HEX[usize::from(b >> 4)]);
    out.push(HEX[usize::from(b & 15)]);
}

/// Append `n` as `width` hex digits.
pub fn hex_pad(out: &mut Vec<u8>, n: u64, width: usize) {
    for i in (0..width).rev() {
        out.push(HEX[((n >> (i * 4)) & 15) as usize]);
    }
}

pub fn ipv4(out: &mut Vec<u8>, a: Ipv4Addr) {
    let o = a.octets();
    for (i, b) in o.iter().enumerate() {
        if i > 0 {
            out.push(b'.');
        }
        dec(out, u64::from(*b));
    }
}

pub fn ip(out: &mut Vec<u8>, a: IpAddr) {
    match a {
        IpAddr::V4(v4) => ipv4(out, v4),
        IpAddr::V6(v6) => {
            use std::io::Write;
            let _ = write!(out, "{v6}");
        }
    }
}

/// `aa:bb:cc:dd:ee:ff`
pub fn mac(out: &mut Vec<u8>, m: &[u8]) {
    for (i, b) in m.iter().enumerate() {
        if i > 0 {
            out.push(b':');
        }
        hex_byte(out, *b);
    }
}

pub fn mac_string(m: &[u8]) -> String {
    let mut v = Vec::with_capacity(18);
    mac(&mut v, m);
    String::from_utf8(v).unwrap_or_default()
}

/// `HH:MM:SS.uuuuuu` of a Unix time shifted by the local UTC offset (seconds).
#[cfg(test)]
pub fn time_of_day(out: &mut Vec<u8>, sec: i64, usec: u32, utc_offset: i64) {
    time_of_day_frac(out, sec, u64::from(usec), 6, utc_offset)
}

/// `HH:MM:SS.` and `digits` digits of `frac` (µs or ns), local time.
pub fn time_of_day_frac(out: &mut Vec<u8>, sec: i64, frac: u64, digits: usize, utc_offset: i64) {
    let t = (sec + utc_offset).rem_euclid(86_400) as u64;
    dec_pad(out, t / 3600, 2);
    out.push(b':');
    dec_pad(out, (t / 60) % 60, 2);
    out.push(b':');
    dec_pad(out, t % 60, 2);
    out.push(b'.');
    dec_pad(out, frac, digits);
}

/// `YYYY-MM-DD` of a (local) Unix time in seconds (proleptic Gregorian, Hinnant's
/// civil-from-days).
pub fn date(out: &mut Vec<u8>, local_sec: i64) {
    let z = local_sec.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    dec_pad(out, y.max(0) as u64, 4);
    out.push(b'-');
    dec_pad(out, m as u64, 2);
    out.push(b'-');
    dec_pad(out, d as u64, 2);
}

/// The local time zone's offset from UTC at time `t` (seconds), as tcpdump uses for its
/// timestamps.
#[allow(unsafe_code)]
pub fn utc_offset(t: i64) -> i64 {
    let tt = t as libc::time_t;
    // SAFETY: `tm` is plain old data that localtime_r fully initialises on success; both
    // pointers are valid for the duration of the call.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let ok = unsafe { !libc::localtime_r(&tt, &mut tm).is_null() };
    if ok { tm.tm_gmtoff } else { 0 }
}

/// A byte as tcpdump's `fn_print_char`: printable ASCII as is, `M-` for the high bit, `^X`
/// for control characters.
pub fn print_char(out: &mut Vec<u8>, mut b: u8) {
    if !b.is_ascii() {
        out.extend_from_slice(b"M-");
        b &= 0x7f;
    }
    if b.is_ascii_graphic() || b == b' ' {
        out.push(b);
    } else {
        out.push(b'^');
        out.push(b ^ 0x40);
    }
}

/// Bytes from the network as text a terminal shows safely ([`print_char`] each).
pub fn printable(out: &mut Vec<u8>, s: &[u8]) {
    for &b in s {
        print_char(out, b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        let mut v = Vec::new();
        dec(&mut v, 0);
        v.push(b' ');
        dec(&mut v, 4294967295);
        v.push(b' ');
        dec_pad(&mut v, 7, 6);
        v.push(b' ');
        hex_pad(&mut v, 0x1a, 4);
        assert_eq!(v, b"0 4294967295 000007 001a");
    }

    #[test]
    fn dates() {
        let mut v = Vec::new();
        date(&mut v, 1_287_488_975);
        v.push(b' ');
        date(&mut v, 0);
        v.push(b' ');
        date(&mut v, 951_782_400); // 2000-02-29
        assert_eq!(v, b"2010-10-19 1970-01-01 2000-02-29");
    }

    #[test]
    fn clock() {
        let mut v = Vec::new();
        time_of_day(&mut v, 3600 * 25 + 61, 42, 0);
        assert_eq!(v, b"01:01:01.000042");
    }
}
