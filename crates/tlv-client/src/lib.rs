//! What `tlv-client` and `tlv-server` share beyond `netproto::tlv`.

use std::time::Duration;

/// clap value parser for `--timeout SECS`: a positive, finite number of seconds.
pub fn parse_secs(s: &str) -> Result<Duration, String> {
    let v: f64 = s
        .parse()
        .map_err(|_| format!("{s:?} is not a number of seconds"))?;
    if v > 0.0 && v.is_finite() && v < 1e9 {
        Ok(Duration::from_secs_f64(v))
    } else {
        Err(format!("{s} must be a positive number of seconds"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secs() {
        assert_eq!(parse_secs("1.5"), Ok(Duration::from_millis(1500)));
        assert!(parse_secs("0").is_err());
        assert!(parse_secs("-1").is_err());
        assert!(parse_secs("inf").is_err());
        assert!(parse_secs("x").is_err());
    }
}
