//! The impairment of one link direction, in tc-netem's own words.
//!
//! `delay 100ms 10ms 25% distribution normal loss 1% rate 10mbit limit 100` parses into a
//! [`Spec`] ([`Spec::parse`]) and prints back as the same words ([`Spec`]'s `Display`, the
//! canonical form), so users reuse what they know from `tc qdisc … netem` and the lab can hand
//! the words it validated to `tc` unchanged when the kernel has netem.
//!
//! Deliberately stricter than tc where tc's reading surprises: a percentage needs its `%`
//! (tc reads a bare `1` as 100 %), a time needs its unit (tc reads a bare number as µs), a rate
//! needs its unit. What linkem does not emulate (`loss state`, `ecn`, `slot`, rate cells) is
//! refused by name rather than ignored.

use std::fmt;
use std::time::Duration;

use thiserror::Error;

/// netem's default queue limit (packets held, delayed or waiting).
pub const DEFAULT_LIMIT: u32 = 1000;

/// How jitter spreads the delay around its mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Distribution {
    /// Uniform over [delay − jitter, delay + jitter] (netem's default).
    #[default]
    Uniform,
    /// Normal with standard deviation = jitter, cut at ±4 jitter (netem's `normal` table).
    Normal,
}

/// A probability with netem's correlation to the previous draw (both 0–1).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Chance {
    pub p: f64,
    pub corr: f64,
}

impl Chance {
    pub fn is_zero(&self) -> bool {
        self.p <= 0.0
    }
}

/// Which frames the link loses.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Loss {
    #[default]
    None,
    /// Independent losses (`loss 1%`, `loss random 1% 25%`).
    Random(Chance),
    /// Gilbert–Elliott bursts (`loss gemodel p [r [1-h [1-k]]]`): `p` good→bad, `r` bad→good,
    /// `bad_loss` = 1−h lost in the bad state, `good_loss` = 1−k lost in the good state.
    GilbertElliott {
        p: f64,
        r: f64,
        bad_loss: f64,
        good_loss: f64,
    },
}

/// A serialisation rate (`rate 10mbit [PACKETOVERHEAD]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub bits_per_sec: u64,
    /// Bytes added to (or, negative, removed from) each frame's length for the rate.
    pub overhead: i32,
}

/// What one direction of a link does to the frames it carries.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    /// Frames held at most (delayed or waiting for the rate); more are dropped at the tail.
    pub limit: u32,
    pub delay: Duration,
    pub jitter: Duration,
    /// Correlation of successive delays (0–1).
    pub delay_corr: f64,
    pub distribution: Distribution,
    pub loss: Loss,
    pub duplicate: Chance,
    /// Frames sent at once, ahead of the delayed ones (netem's `reorder`; needs a delay).
    pub reorder: Chance,
    /// With `reorder`: only every `gap`-th frame may be sent at once (netem's `gap`, default 1).
    pub gap: u32,
    pub corrupt: Chance,
    pub rate: Option<Rate>,
    /// netem's `seed`: a fixed seed for this direction.
    pub seed: Option<u64>,
}

impl Default for Spec {
    fn default() -> Self {
        Spec {
            limit: DEFAULT_LIMIT,
            delay: Duration::ZERO,
            jitter: Duration::ZERO,
            delay_corr: 0.0,
            distribution: Distribution::Uniform,
            loss: Loss::None,
            duplicate: Chance::default(),
            reorder: Chance::default(),
            gap: 1,
            corrupt: Chance::default(),
            rate: None,
            seed: None,
        }
    }
}

/// Why a spec was refused: the field, what is wrong, and a valid example.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SpecError {
    #[error(
        "'{word}' is not a netem word: use limit, delay, distribution, loss, duplicate, reorder, corrupt, rate or seed (e.g. delay 100ms loss 1%)"
    )]
    UnknownWord { word: String },
    #[error("{field}: {problem} (e.g. {example})")]
    Invalid {
        field: &'static str,
        problem: String,
        example: &'static str,
    },
    #[error("{field}: {what} is not supported by linkem (e.g. {example})")]
    Unsupported {
        field: &'static str,
        what: &'static str,
        example: &'static str,
    },
}

fn invalid(field: &'static str, problem: impl Into<String>, example: &'static str) -> SpecError {
    SpecError::Invalid {
        field,
        problem: problem.into(),
        example,
    }
}

const EX_DELAY: &str = "delay 100ms 10ms 25%";
const EX_LOSS: &str = "loss 1% or loss gemodel 1% 30% 100% 0%";
const EX_RATE: &str = "rate 10mbit";
const EX_LIMIT: &str = "limit 1000";

impl Spec {
    /// No impairment at all: frames pass as they come.
    pub fn is_clear(&self) -> bool {
        self.delay.is_zero()
            && self.jitter.is_zero()
            && matches!(self.loss, Loss::None)
            && self.duplicate.is_zero()
            && self.reorder.is_zero()
            && self.corrupt.is_zero()
            && self.rate.is_none()
    }

    /// Parse netem words (`["delay", "100ms", "loss", "1%"]`); an empty list is no impairment.
    pub fn parse<S: AsRef<str>>(words: &[S]) -> Result<Spec, SpecError> {
        let words: Vec<&str> = words.iter().map(AsRef::as_ref).collect();
        let mut p = Parser {
            words: &words,
            at: 0,
        };
        let mut spec = Spec::default();
        while let Some(word) = p.next() {
            match word {
                "limit" => spec.limit = p.limit()?,
                "delay" | "latency" => p.delay(&mut spec)?,
                "distribution" => spec.distribution = p.distribution()?,
                "loss" | "drop" => spec.loss = p.loss()?,
                "duplicate" => spec.duplicate = p.chance("duplicate", "duplicate 1%")?,
                "reorder" => p.reorder(&mut spec)?,
                "corrupt" => spec.corrupt = p.chance("corrupt", "corrupt 0.1%")?,
                "rate" => spec.rate = Some(p.rate()?),
                "seed" => spec.seed = Some(p.seed()?),
                "gap" => return Err(invalid("gap", "comes after reorder", "reorder 25% gap 5")),
                "slot" => {
                    return Err(SpecError::Unsupported {
                        field: "slot",
                        what: "slotting",
                        example: "delay 10ms rate 10mbit",
                    });
                }
                "ecn" => {
                    return Err(SpecError::Unsupported {
                        field: "ecn",
                        what: "marking instead of dropping",
                        example: "loss 1%",
                    });
                }
                other => {
                    return Err(SpecError::UnknownWord {
                        word: other.to_owned(),
                    });
                }
            }
        }
        spec.check()?;
        Ok(spec)
    }

    /// Parse one string of words separated by blanks.
    pub fn parse_str(s: &str) -> Result<Spec, SpecError> {
        Spec::parse(&s.split_whitespace().collect::<Vec<_>>())
    }

    fn check(&self) -> Result<(), SpecError> {
        if !self.reorder.is_zero() && self.delay.is_zero() {
            return Err(invalid(
                "reorder",
                "needs a delay to reorder against (frames sent at once overtake delayed ones)",
                "delay 10ms reorder 25%",
            ));
        }
        // As tc: a distribution shapes the jitter, so without jitter it would be silently dropped.
        if self.distribution != Distribution::Uniform && self.jitter.is_zero() {
            return Err(invalid(
                "distribution",
                "shapes the delay's jitter: give a delay with jitter",
                "delay 100ms 20ms distribution normal",
            ));
        }
        Ok(())
    }
}

struct Parser<'a> {
    words: &'a [&'a str],
    at: usize,
}

impl<'a> Parser<'a> {
    fn next(&mut self) -> Option<&'a str> {
        let w = self.words.get(self.at).copied();
        self.at += usize::from(w.is_some());
        w
    }

    fn peek(&self) -> Option<&'a str> {
        self.words.get(self.at).copied()
    }

    fn value(&mut self, field: &'static str, example: &'static str) -> Result<&'a str, SpecError> {
        self.next()
            .ok_or_else(|| invalid(field, "needs a value", example))
    }

    /// The next word if it is a percentage (an optional argument), consumed.
    fn optional_percent(
        &mut self,
        field: &'static str,
        example: &'static str,
    ) -> Result<Option<f64>, SpecError> {
        match self.peek() {
            Some(w) if w.ends_with('%') => {
                self.at += 1;
                percent(w, field, example).map(Some)
            }
            _ => Ok(None),
        }
    }

    fn limit(&mut self) -> Result<u32, SpecError> {
        let w = self.value("limit", EX_LIMIT)?;
        match w.parse::<u32>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(invalid(
                "limit",
                format!("'{w}' is not a packet count from 1"),
                EX_LIMIT,
            )),
        }
    }

    fn delay(&mut self, spec: &mut Spec) -> Result<(), SpecError> {
        spec.delay = time(self.value("delay", EX_DELAY)?, "delay", EX_DELAY)?;
        // A later delay replaces an earlier one whole, as in tc.
        spec.jitter = Duration::ZERO;
        spec.delay_corr = 0.0;
        if let Some(w) = self.peek()
            && w.starts_with(|c: char| c.is_ascii_digit() || c == '.')
            && !w.ends_with('%')
        {
            self.at += 1;
            spec.jitter = time(w, "delay jitter", EX_DELAY)?;
            if let Some(c) = self.optional_percent("delay correlation", EX_DELAY)? {
                // Correlating no jitter means nothing; keeping it would not print back.
                spec.delay_corr = if spec.jitter.is_zero() { 0.0 } else { c };
            }
        }
        Ok(())
    }

    fn distribution(&mut self) -> Result<Distribution, SpecError> {
        const EX: &str = "delay 100ms 20ms distribution normal";
        match self.value("distribution", EX)? {
            "uniform" => Ok(Distribution::Uniform),
            "normal" => Ok(Distribution::Normal),
            "pareto" | "paretonormal" => Err(SpecError::Unsupported {
                field: "distribution",
                what: "a pareto table",
                example: EX,
            }),
            other => Err(invalid(
                "distribution",
                format!("'{other}' is not uniform or normal"),
                EX,
            )),
        }
    }

    fn chance(&mut self, field: &'static str, example: &'static str) -> Result<Chance, SpecError> {
        let p = percent(self.value(field, example)?, field, example)?;
        let corr = self.optional_percent(field, example)?.unwrap_or(0.0);
        Ok(Chance { p, corr })
    }

    fn loss(&mut self) -> Result<Loss, SpecError> {
        match self.peek() {
            Some("random") => {
                self.at += 1;
                Ok(Loss::Random(self.chance("loss", EX_LOSS)?))
            }
            Some("gemodel") => {
                self.at += 1;
                self.gemodel()
            }
            Some("state") => Err(SpecError::Unsupported {
                field: "loss",
                what: "the 4-state Markov model",
                example: "loss gemodel 1% 30%",
            }),
            _ => Ok(Loss::Random(self.chance("loss", EX_LOSS)?)),
        }
    }

    fn gemodel(&mut self) -> Result<Loss, SpecError> {
        const EX: &str = "loss gemodel 1% 30% 100% 0%";
        let p = percent(self.value("loss gemodel", EX)?, "loss gemodel p", EX)?;
        // tc's defaults: r = 1 − p, 1−h = 100 % (the bad state loses all), 1−k = 0 %.
        let r = self
            .optional_percent("loss gemodel r", EX)?
            .unwrap_or(1.0 - p);
        let bad_loss = self
            .optional_percent("loss gemodel 1-h", EX)?
            .unwrap_or(1.0);
        let good_loss = self
            .optional_percent("loss gemodel 1-k", EX)?
            .unwrap_or(0.0);
        if p > 0.0 && r <= 0.0 {
            return Err(invalid(
                "loss gemodel r",
                "0 % would never leave the bad state",
                EX,
            ));
        }
        Ok(Loss::GilbertElliott {
            p,
            r,
            bad_loss,
            good_loss,
        })
    }

    fn reorder(&mut self, spec: &mut Spec) -> Result<(), SpecError> {
        const EX: &str = "delay 10ms reorder 25% 50% gap 5";
        spec.reorder = self.chance("reorder", EX)?;
        if self.peek() == Some("gap") {
            self.at += 1;
            let w = self.value("reorder gap", EX)?;
            spec.gap = match w.parse::<u32>() {
                Ok(n) if n > 0 => n,
                _ => {
                    return Err(invalid(
                        "reorder gap",
                        format!("'{w}' is not a count from 1"),
                        EX,
                    ));
                }
            };
        }
        Ok(())
    }

    fn rate(&mut self) -> Result<Rate, SpecError> {
        let bits_per_sec = rate(self.value("rate", EX_RATE)?)?;
        let mut overhead = 0;
        if let Some(w) = self.peek()
            && w.parse::<i32>().is_ok()
        {
            self.at += 1;
            overhead = w.parse::<i32>().unwrap_or(0);
            if let Some(w) = self.peek()
                && w.parse::<i64>().is_ok()
            {
                return Err(SpecError::Unsupported {
                    field: "rate",
                    what: "a cell size",
                    example: "rate 10mbit 24",
                });
            }
        }
        Ok(Rate {
            bits_per_sec,
            overhead,
        })
    }

    fn seed(&mut self) -> Result<u64, SpecError> {
        let w = self.value("seed", "seed 42")?;
        w.parse::<u64>()
            .map_err(|_| invalid("seed", format!("'{w}' is not a whole number"), "seed 42"))
    }
}

/// `1%`, `0.5%` → 0.01, 0.005; the `%` is required (tc would read a bare `1` as 100 %).
fn percent(w: &str, field: &'static str, example: &'static str) -> Result<f64, SpecError> {
    let Some(num) = w.strip_suffix('%') else {
        return Err(invalid(field, format!("'{w}' needs a % sign"), example));
    };
    match num.parse::<f64>() {
        Ok(v) if (0.0..=100.0).contains(&v) => Ok(v / 100.0),
        _ => Err(invalid(
            field,
            format!("'{w}' is not a percentage from 0% to 100%"),
            example,
        )),
    }
}

/// Split `100ms` into (100.0, "ms").
fn number_unit(w: &str) -> Option<(f64, &str)> {
    let end = w
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(w.len());
    let v = w[..end].parse::<f64>().ok().filter(|v| v.is_finite())?;
    Some((v, &w[end..]))
}

/// tc's time units; the unit is required.
fn time(w: &str, field: &'static str, example: &'static str) -> Result<Duration, SpecError> {
    let bad = || {
        invalid(
            field,
            format!("'{w}' is not a time with a unit (us, ms, s)"),
            example,
        )
    };
    let (v, unit) = number_unit(w).ok_or_else(bad)?;
    let scale = match unit {
        "s" | "sec" | "secs" => 1e9,
        "ms" | "msec" | "msecs" => 1e6,
        "us" | "usec" | "usecs" => 1e3,
        "ns" | "nsec" | "nsecs" => 1.0,
        _ => return Err(bad()),
    };
    let nanos = v * scale;
    if nanos > 3600e9 {
        return Err(invalid(
            field,
            format!("'{w}' is more than an hour"),
            example,
        ));
    }
    Ok(Duration::from_nanos(nanos.round() as u64))
}

/// tc's rate units; the unit is required.
fn rate(w: &str) -> Result<u64, SpecError> {
    let bad = || {
        invalid(
            "rate",
            format!(
                "'{w}' is not a rate: use bit, kbit, mbit, gbit (bits/s) or bps, kbps, mbps, gbps (bytes/s)"
            ),
            EX_RATE,
        )
    };
    let (v, unit) = number_unit(w).ok_or_else(bad)?;
    let unit = unit.to_ascii_lowercase();
    let (mult, bytes) = match unit.as_str() {
        "bit" => (1.0, false),
        "kbit" => (1e3, false),
        "mbit" => (1e6, false),
        "gbit" => (1e9, false),
        "tbit" => (1e12, false),
        "kibit" => (1024.0, false),
        "mibit" => (1024.0 * 1024.0, false),
        "gibit" => (1024.0 * 1024.0 * 1024.0, false),
        "bps" => (1.0, true),
        "kbps" => (1e3, true),
        "mbps" => (1e6, true),
        "gbps" => (1e9, true),
        _ => return Err(bad()),
    };
    let bps = v * mult * if bytes { 8.0 } else { 1.0 };
    if !(8.0..=1e13).contains(&bps) {
        return Err(invalid(
            "rate",
            format!("'{w}' is outside 8bit to 10tbit"),
            EX_RATE,
        ));
    }
    Ok(bps.round() as u64)
}

/// A time in tc's words: the largest unit that shows it exactly.
fn fmt_time(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns % 1_000_000_000 == 0 && ns > 0 {
        format!("{}s", ns / 1_000_000_000)
    } else if ns % 1_000_000 == 0 {
        format!("{}ms", ns / 1_000_000)
    } else if ns % 1_000 == 0 {
        format!("{}us", ns / 1_000)
    } else {
        format!("{ns}ns")
    }
}

fn fmt_rate(bps: u64) -> String {
    for (div, unit) in [
        (1_000_000_000, "gbit"),
        (1_000_000, "mbit"),
        (1_000, "kbit"),
    ] {
        if bps >= div && bps % div == 0 {
            return format!("{}{unit}", bps / div);
        }
    }
    format!("{bps}bit")
}

/// A probability as tc prints it: `1%`, `0.5%`.
fn fmt_pct(p: f64) -> String {
    let v = p * 100.0;
    let s = format!("{v:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s}%")
}

fn fmt_chance(f: &mut fmt::Formatter<'_>, word: &str, c: Chance) -> fmt::Result {
    write!(f, " {word} {}", fmt_pct(c.p))?;
    if c.corr > 0.0 {
        write!(f, " {}", fmt_pct(c.corr))?;
    }
    Ok(())
}

/// The canonical netem words (`limit` always first, as `tc qdisc show` prints them).
impl fmt::Display for Spec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "limit {}", self.limit)?;
        if !self.delay.is_zero() || !self.jitter.is_zero() {
            write!(f, " delay {}", fmt_time(self.delay))?;
            if !self.jitter.is_zero() {
                write!(f, " {}", fmt_time(self.jitter))?;
                if self.delay_corr > 0.0 {
                    write!(f, " {}", fmt_pct(self.delay_corr))?;
                }
                if self.distribution == Distribution::Normal {
                    write!(f, " distribution normal")?;
                }
            }
        }
        match self.loss {
            Loss::None => {}
            Loss::Random(c) => fmt_chance(f, "loss", c)?,
            Loss::GilbertElliott {
                p,
                r,
                bad_loss,
                good_loss,
            } => write!(
                f,
                " loss gemodel {} {} {} {}",
                fmt_pct(p),
                fmt_pct(r),
                fmt_pct(bad_loss),
                fmt_pct(good_loss)
            )?,
        }
        if !self.duplicate.is_zero() {
            fmt_chance(f, "duplicate", self.duplicate)?;
        }
        if !self.reorder.is_zero() {
            fmt_chance(f, "reorder", self.reorder)?;
            if self.gap > 1 {
                write!(f, " gap {}", self.gap)?;
            }
        }
        if !self.corrupt.is_zero() {
            fmt_chance(f, "corrupt", self.corrupt)?;
        }
        if let Some(r) = self.rate {
            write!(f, " rate {}", fmt_rate(r.bits_per_sec))?;
            if r.overhead != 0 {
                write!(f, " {}", r.overhead)?;
            }
        }
        if let Some(s) = self.seed {
            write!(f, " seed {s}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Spec, SpecError> {
        Spec::parse_str(s)
    }

    #[test]
    fn full_spec_parses_and_prints_back() {
        let s = p("delay 100ms 10ms 25% distribution normal loss 1% duplicate 0.5% reorder 25% 50% gap 5 corrupt 0.1% rate 10mbit limit 100 seed 7").unwrap();
        assert_eq!(s.delay, Duration::from_millis(100));
        assert_eq!(s.jitter, Duration::from_millis(10));
        assert!((s.delay_corr - 0.25).abs() < 1e-12);
        assert_eq!(s.distribution, Distribution::Normal);
        assert_eq!(s.loss, Loss::Random(Chance { p: 0.01, corr: 0.0 }));
        assert_eq!(s.gap, 5);
        assert_eq!(
            s.rate,
            Some(Rate {
                bits_per_sec: 10_000_000,
                overhead: 0
            })
        );
        assert_eq!(s.limit, 100);
        assert_eq!(
            s.to_string(),
            "limit 100 delay 100ms 10ms 25% distribution normal loss 1% duplicate 0.5% reorder 25% 50% gap 5 corrupt 0.1% rate 10mbit seed 7"
        );
        assert_eq!(p(&s.to_string()).unwrap(), s, "canonical form parses back");
    }

    #[test]
    fn gemodel_defaults_follow_tc() {
        let s = p("loss gemodel 2%").unwrap();
        assert_eq!(
            s.loss,
            Loss::GilbertElliott {
                p: 0.02,
                r: 0.98,
                bad_loss: 1.0,
                good_loss: 0.0
            }
        );
        let s = p("loss gemodel 1% 30% 80% 0.1%").unwrap();
        assert_eq!(s.to_string(), "limit 1000 loss gemodel 1% 30% 80% 0.1%");
    }

    #[test]
    fn units_and_rates() {
        assert_eq!(p("delay 1.5s").unwrap().delay, Duration::from_millis(1500));
        assert_eq!(p("delay 250us").unwrap().delay, Duration::from_micros(250));
        assert_eq!(
            p("rate 2mbps").unwrap().rate.unwrap().bits_per_sec,
            16_000_000
        );
        assert_eq!(p("rate 1gbit 24").unwrap().rate.unwrap().overhead, 24);
        assert_eq!(
            p("delay 250us").unwrap().to_string(),
            "limit 1000 delay 250us"
        );
        assert!(p("").unwrap().is_clear());
    }

    #[test]
    fn errors_name_the_field_and_give_an_example() {
        let cases = [
            (
                "delay 100",
                "delay: '100' is not a time with a unit (us, ms, s) (e.g. delay 100ms 10ms 25%)",
            ),
            (
                "loss 1",
                "loss: '1' needs a % sign (e.g. loss 1% or loss gemodel 1% 30% 100% 0%)",
            ),
            (
                "loss 120%",
                "loss: '120%' is not a percentage from 0% to 100% (e.g. loss 1% or loss gemodel 1% 30% 100% 0%)",
            ),
            (
                "rate fast",
                "rate: 'fast' is not a rate: use bit, kbit, mbit, gbit (bits/s) or bps, kbps, mbps, gbps (bytes/s) (e.g. rate 10mbit)",
            ),
            (
                "limit 0",
                "limit: '0' is not a packet count from 1 (e.g. limit 1000)",
            ),
            ("delay", "delay: needs a value (e.g. delay 100ms 10ms 25%)"),
            (
                "reorder 25%",
                "reorder: needs a delay to reorder against (frames sent at once overtake delayed ones) (e.g. delay 10ms reorder 25%)",
            ),
            (
                "distribution normal",
                "distribution: shapes the delay's jitter: give a delay with jitter (e.g. delay 100ms 20ms distribution normal)",
            ),
            (
                "delay 10ms 5ms distribution normal delay 10ms",
                "distribution: shapes the delay's jitter: give a delay with jitter (e.g. delay 100ms 20ms distribution normal)",
            ),
            (
                "jitter 5ms",
                "'jitter' is not a netem word: use limit, delay, distribution, loss, duplicate, reorder, corrupt, rate or seed (e.g. delay 100ms loss 1%)",
            ),
            (
                "loss state 1%",
                "loss: the 4-state Markov model is not supported by linkem (e.g. loss gemodel 1% 30%)",
            ),
            (
                "rate 1mbit 4 53",
                "rate: a cell size is not supported by linkem (e.g. rate 10mbit 24)",
            ),
        ];
        for (spec, want) in cases {
            assert_eq!(p(spec).unwrap_err().to_string(), want, "{spec}");
        }
    }
}
