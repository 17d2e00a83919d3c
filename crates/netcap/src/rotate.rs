//! tcpdump's rotation of the `-w` file: `-C` (by size), `-G` (by time), `-W` (how many).
//!
//! [`Rotating`] is a [`Writer`] that, before each packet, does what tcpdump 4.99's
//! `dump_packet_and_trunc` does, so the same options give the same files:
//!
//! - `-G SECS`: once SECS seconds of wall-clock time have passed since the current file was
//!   opened, the next packet goes into a new file named by `strftime(3)` of the local time
//!   (`-w 'trace-%H%M%S'`; a name without `%` codes is overwritten at each rotation). With
//!   `-W N` and no `-C`, the capture ends when an (N+1)th file would be opened.
//! - `-C MB`: once the file holds more than MB × 1 000 000 bytes, the next packet goes into a
//!   new file: the `-w` name followed by 1, 2, … (the first file has no number). With `-W N`
//!   the numbers run 0 … N−1, zero-padded to the width of N−1, and start over (a ring); with
//!   `-G` too, the count restarts at 0 in each period.
//!
//! Every packet is written whole into exactly one file (a file may pass the size by one
//! packet, as tcpdump's), so the files together hold every packet handed in.

use std::ffi::CString;

use crate::{CaptureError, Record, Spec, Writer};

/// How an error names the file: `-` is standard output.
fn shown(path: &str) -> String {
    crate::shown(path, "standard output")
}

/// The rotation options, as tcpdump's `-C`, `-G`, `-W` give them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rotation {
    /// `-C`: a new file once this many bytes are written (tcpdump's MB × 1 000 000).
    pub size: Option<u64>,
    /// `-G`: a new file after this many seconds.
    pub secs: Option<u64>,
    /// `-W`: the ring's length with `-C`; the number of files with `-G` alone.
    pub count: Option<u32>,
}

impl Rotation {
    /// True when the options rotate at all (`-W` alone names one plain file, as in tcpdump).
    pub fn rotates(&self) -> bool {
        self.size.is_some() || self.secs.is_some()
    }

    /// Digits of the file number: those of `-W`−1 when `-C` numbers files in a ring of `-W`.
    fn width(&self) -> usize {
        match (self.size, self.count) {
            (Some(_), Some(n)) if n > 1 => (n - 1).to_string().len(),
            _ => 0,
        }
    }
}

/// What [`Rotating::write`] did with a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// The packet is in the current file.
    Yes,
    /// `-G` with `-W N`: N files are complete; the packet was not written and the capture
    /// should end (tcpdump exits 0 with "Maximum file limit reached: N").
    LimitReached,
}

/// A capture writer that moves to the next file as tcpdump's `-C`/`-G`/`-W` say.
#[derive(Debug)]
pub struct Rotating {
    base: String,
    spec: Spec,
    rot: Rotation,
    writer: Writer,
    current: String,
    /// When the current `-G` period began (seconds since the epoch).
    period: i64,
    /// tcpdump's Cflag_count and Gflag_count.
    c_count: u32,
    g_count: u32,
    /// `-G` with `-W`: the last file is complete; nothing more is written.
    done: bool,
}

impl Rotating {
    /// Open the first file at wall-clock time `now` (seconds since the epoch).
    pub fn create(base: &str, spec: &Spec, rot: Rotation, now: i64) -> Result<Self, CaptureError> {
        let current = file_name(base, rot.secs.map(|_| now), 0, rot.width())?;
        let writer = Writer::open(&current, spec)?;
        Ok(Rotating {
            base: base.to_owned(),
            spec: spec.clone(),
            rot,
            writer,
            current,
            period: now,
            c_count: 0,
            g_count: 0,
            done: false,
        })
    }

    /// The file being written.
    pub fn current(&self) -> &str {
        &self.current
    }

    /// Write one packet, first moving to the next file if the rotation says so; `now` gives
    /// the wall-clock time in seconds since the epoch (asked only with `-G`).
    pub fn write(
        &mut self,
        r: &Record<'_>,
        comment: Option<&str>,
        now: impl FnOnce() -> i64,
    ) -> Result<Written, CaptureError> {
        if self.done {
            return Ok(Written::LimitReached);
        }
        if let Some(secs) = self.rot.secs
            && let now = now()
            && now - self.period >= secs as i64
        {
            self.period = now;
            self.g_count += 1;
            self.close()?;
            if self.rot.size.is_none() && self.rot.count.is_some_and(|n| self.g_count >= n) {
                self.done = true;
                return Ok(Written::LimitReached);
            }
            self.c_count = 0;
            self.next_file()?;
        }
        if let Some(size) = self.rot.size
            && self.writer.written() > size
        {
            self.close()?;
            self.c_count += 1;
            if self.rot.count.is_some_and(|n| self.c_count >= n) {
                self.c_count = 0;
            }
            self.next_file()?;
        }
        self.writer.write(r, comment).map_err(|e| self.error(e))?;
        Ok(Written::Yes)
    }

    /// Push buffered records to the current file.
    pub fn flush(&mut self) -> Result<(), CaptureError> {
        self.writer.flush().map_err(|e| self.error(e))
    }

    fn close(&mut self) -> Result<(), CaptureError> {
        self.flush()
    }

    fn next_file(&mut self) -> Result<(), CaptureError> {
        let period = self.rot.secs.map(|_| self.period);
        self.current = file_name(&self.base, period, self.c_count, self.rot.width())?;
        self.writer = Writer::open(&self.current, &self.spec)?;
        Ok(())
    }

    fn error(&self, source: std::io::Error) -> CaptureError {
        CaptureError::Write {
            path: shown(&self.current),
            source,
        }
    }
}

/// tcpdump's `MakeFilename`: `base` through `strftime(3)` at local time `period` (with `-G`),
/// then the number `n` zero-padded to `width` digits, unless both are zero.
pub fn file_name(
    base: &str,
    period: Option<i64>,
    n: u32,
    width: usize,
) -> Result<String, CaptureError> {
    let name = match period {
        Some(t) => strftime_local(base, t).ok_or_else(|| CaptureError::Create {
            path: base.to_owned(),
            message: "the name is not a strftime(3) format that fits a path (-G names files \
                      by the time, e.g. -w 'trace-%Y%m%d-%H%M%S.pcap')"
                .to_owned(),
        })?,
        None => base.to_owned(),
    };
    Ok(if n == 0 && width == 0 {
        name
    } else {
        format!("{name}{n:0width$}")
    })
}

/// C's `strftime` of `fmt` at local time `t`: tcpdump's names are C's, and other
/// implementations differ in corners (`%E`/`%O` modifiers, padding flags, the locale's).
#[allow(unsafe_code)]
fn strftime_local(fmt: &str, t: i64) -> Option<String> {
    let cfmt = CString::new(fmt).ok()?;
    let tt = t as libc::time_t;
    // SAFETY: `tm` is plain old data, so all-zero is a valid value; localtime_r writes only
    // into it, and reads `tt`, which outlives the call.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    if unsafe { libc::localtime_r(&tt, &mut tm) }.is_null() {
        return None;
    }
    let mut buf = vec![0u8; 4096];
    // SAFETY: strftime writes at most `buf.len()` bytes into `buf`, reads the NUL-terminated
    // `cfmt` and `tm`, all live for the call.
    let n = unsafe { libc::strftime(buf.as_mut_ptr().cast(), buf.len(), cfmt.as_ptr(), &tm) };
    // 0 is an overflow, except for a format that formats to nothing.
    if n == 0 && !fmt.is_empty() {
        return None;
    }
    buf.truncate(n);
    String::from_utf8(buf).ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn names_as_tcpdump() {
        assert_eq!(file_name("t", None, 0, 0).unwrap(), "t");
        assert_eq!(file_name("t", None, 3, 0).unwrap(), "t3");
        assert_eq!(file_name("t", None, 0, 1).unwrap(), "t0");
        assert_eq!(file_name("t", None, 7, 2).unwrap(), "t07");
        let r = |size, count| Rotation {
            size,
            secs: None,
            count,
        };
        assert_eq!(r(Some(1), Some(3)).width(), 1);
        assert_eq!(r(Some(1), Some(10)).width(), 1);
        assert_eq!(r(Some(1), Some(11)).width(), 2);
        assert_eq!(r(Some(1), Some(1)).width(), 0);
        assert_eq!(r(None, Some(11)).width(), 0);
        assert_eq!(r(Some(1), None).width(), 0);
    }

    #[test]
    fn strftime_is_cs() {
        // 2001-09-09 01:46:40 UTC; the date part is the same in every time zone ±1 h.
        let s = strftime_local("x-%Y-%%", 1_000_000_000).unwrap();
        assert_eq!(s, "x-2001-%");
        assert_eq!(strftime_local("", 0).unwrap(), "");
        assert!(strftime_local("a\0b", 0).is_none());
    }
}
