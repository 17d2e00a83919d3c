//! Value parsers for clap arguments, shared by the tools.
//!
//! Use them as `#[arg(long, value_parser = netcli::value::secs)]`: a bad value is then a usage
//! error from clap (one `error:` line, exit 2) before the program does anything.

use std::time::Duration;

/// The longest duration [`secs`] accepts: one year (anything longer is a typo, and an
/// `Instant` that far away may not be representable).
pub const MAX_SECS: u64 = 365 * 24 * 3600;

/// A positive, finite number of seconds (fractions and exponents allowed: `0.5`, `1e3`) of at
/// most [`MAX_SECS`]. Rejects `inf`, `nan`, negative numbers, zero (and values that round to
/// zero nanoseconds) and larger values, with a message naming the accepted range.
pub fn secs(s: &str) -> Result<Duration, String> {
    secs_at_most(s, Duration::from_secs(MAX_SECS))
}

/// [`secs`] with another maximum.
pub fn secs_at_most(s: &str, max: Duration) -> Result<Duration, String> {
    let range = || {
        format!(
            "expected a number of seconds greater than 0 and at most {}",
            max.as_secs_f64()
        )
    };
    let v: f64 = s.trim().parse().map_err(|_| range())?;
    // NaN fails `is_finite`.
    if !v.is_finite() || v <= 0.0 || v > max.as_secs_f64() {
        return Err(range());
    }
    // Finite, positive and at most `max`: cannot panic.
    let d = Duration::from_secs_f64(v);
    if d.is_zero() {
        return Err(range());
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_positive_finite_seconds() {
        assert_eq!(secs("5"), Ok(Duration::from_secs(5)));
        assert_eq!(secs("0.5"), Ok(Duration::from_millis(500)));
        assert_eq!(secs(" 1e3 "), Ok(Duration::from_secs(1000)));
        assert_eq!(
            secs(&MAX_SECS.to_string()),
            Ok(Duration::from_secs(MAX_SECS))
        );
    }

    #[test]
    fn rejects_what_has_no_meaning() {
        for bad in [
            "inf", "-inf", "infinity", "nan", "NaN", "-1", "0", "-0", "0.0", "1e-12", "1e300",
            "31536001", "", "five", "1s",
        ] {
            let e = secs(bad).expect_err(bad);
            assert!(
                e.contains("greater than 0 and at most 31536000"),
                "{bad}: {e}"
            );
            assert!(!e.contains('\n'), "{bad}: one line");
        }
    }

    #[test]
    fn another_maximum() {
        let max = Duration::from_secs(10);
        assert_eq!(secs_at_most("10", max), Ok(max));
        assert!(secs_at_most("10.5", max).is_err());
    }
}
