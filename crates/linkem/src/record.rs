//! The ground-truth log: one NDJSON record per frame and direction.
//!
//! ```text
//! {"type":"start","a":"p0","b":"p1","to_a":"limit 1000 delay 50ms","to_b":"…","seed":42,"time":…}
//! {"type":"frame","dir":"to_b","from":"p0","to":"p1","n":7,"in":1733130000.123456,"out":1733130000.173460,
//!  "fate":"forwarded","queue":3,"len":1514,"proto":"tcp","src":"10.0.1.2","dst":"10.0.2.2","ip_id":4711,
//!  "sport":40000,"dport":5001,"seq":1,"ack":1,"tcp_len":1448,"flags":"A"}
//! {"type":"summary","to_a":{…counters…},"to_b":{…},"capture_dropped":0}
//! ```
//!
//! `n` is the frame's arrival number in its direction (both copies of a duplicate share it);
//! `out` is `null` for a dropped frame and for one still held when linkem stopped (fate
//! `unsent`). Times are the wall clock (seconds since the epoch, µs), like a capture's, so a
//! record can be matched with the same frame in a capture taken on either side.
//! Records are written by hand rather than through serde: at a gigabit a frame's record must
//! cost well under a microsecond.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use netproto::frame::{Net, Transport, decode, linktype};
use netproto::netem::{LinkStats, Meta};

/// Wall-clock seconds for the link's monotonic instants, from one anchor taken at start.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    mono: Instant,
    wall: f64,
}

impl Clock {
    pub fn new() -> Clock {
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
            .as_secs_f64();
        Clock {
            mono: Instant::now(),
            wall,
        }
    }

    pub fn wall(&self, t: Instant) -> f64 {
        if t >= self.mono {
            self.wall + (t - self.mono).as_secs_f64()
        } else {
            self.wall - (self.mono - t).as_secs_f64()
        }
    }
}

/// One direction's names, as the records give them.
#[derive(Debug, Clone)]
pub struct Dir {
    /// `to_a` or `to_b`.
    pub name: &'static str,
    pub from: String,
    pub to: String,
}

/// The log (or nothing, without `--log`).
pub struct FrameLog {
    out: Option<BufWriter<Box<dyn Write + Send>>>,
    clock: Clock,
    line: String,
}

impl std::fmt::Debug for FrameLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameLog")
            .field("enabled", &self.out.is_some())
            .finish()
    }
}

impl FrameLog {
    pub fn open(path: Option<&Path>, clock: Clock) -> io::Result<FrameLog> {
        let out: Option<Box<dyn Write + Send>> = match path {
            None => None,
            Some(p) if p == Path::new("-") => Some(Box::new(io::stdout())),
            Some(p) => Some(Box::new(File::create(p)?)),
        };
        Ok(FrameLog {
            out: out.map(|w| BufWriter::with_capacity(1 << 16, w)),
            clock,
            line: String::with_capacity(512),
        })
    }

    pub fn enabled(&self) -> bool {
        self.out.is_some()
    }

    fn emit(&mut self) -> io::Result<()> {
        if let Some(out) = &mut self.out {
            self.line.push('\n');
            out.write_all(self.line.as_bytes())?;
        }
        self.line.clear();
        Ok(())
    }

    pub fn start(&mut self, a: &str, b: &str, to_a: &str, to_b: &str, seed: u64) -> io::Result<()> {
        if !self.enabled() {
            return Ok(());
        }
        let now = self.clock.wall(Instant::now());
        let _ = write!(
            self.line,
            r#"{{"type":"start","a":{},"b":{},"to_a":{},"to_b":{},"seed":{seed},"time":{now:.6}}}"#,
            json_str(a),
            json_str(b),
            json_str(to_a),
            json_str(to_b)
        );
        self.emit()
    }

    /// A frame's record: `out` is when it was sent (`None`: dropped or unsent).
    pub fn frame(
        &mut self,
        dir: &Dir,
        meta: &Meta,
        fate: &str,
        out: Option<Instant>,
        frame: &[u8],
    ) -> io::Result<()> {
        if !self.enabled() {
            return Ok(());
        }
        let t_in = self.clock.wall(meta.arrived);
        let _ = write!(
            self.line,
            r#"{{"type":"frame","dir":"{}","from":{},"to":{},"n":{},"in":{t_in:.6},"out":"#,
            dir.name,
            json_str(&dir.from),
            json_str(&dir.to),
            meta.id
        );
        match out {
            Some(t) => {
                let _ = write!(self.line, "{:.6}", self.clock.wall(t));
            }
            None => self.line.push_str("null"),
        }
        let _ = write!(
            self.line,
            r#","fate":"{fate}","queue":{},"len":{}"#,
            meta.queue,
            frame.len()
        );
        if let Some(at) = meta.corrupted_at {
            let _ = write!(self.line, r#","corrupted_at":{at}"#);
        }
        identity(&mut self.line, frame);
        self.line.push('}');
        self.emit()
    }

    pub fn summary(
        &mut self,
        to_a: &LinkStats,
        to_b: &LinkStats,
        unsent: [u64; 2],
        capture_dropped: u64,
    ) -> io::Result<()> {
        if !self.enabled() {
            return Ok(());
        }
        self.line.push_str(r#"{"type":"summary","to_a":"#);
        stats_json(&mut self.line, to_a, unsent[0]);
        self.line.push_str(r#","to_b":"#);
        stats_json(&mut self.line, to_b, unsent[1]);
        let _ = write!(self.line, r#","capture_dropped":{capture_dropped}}}"#);
        self.emit()
    }

    pub fn flush(&mut self) -> io::Result<()> {
        match &mut self.out {
            Some(out) => out.flush(),
            None => Ok(()),
        }
    }
}

fn stats_json(line: &mut String, s: &LinkStats, unsent: u64) {
    let _ = write!(
        line,
        r#"{{"received":{},"sent":{},"duplicated":{},"reordered":{},"corrupted":{},"dropped_random":{},"dropped_burst":{},"dropped_queue":{},"unsent":{unsent}}}"#,
        s.received,
        s.sent,
        s.duplicated,
        s.reordered,
        s.corrupted,
        s.dropped_random,
        s.dropped_burst,
        s.dropped_queue
    );
}

/// The frame's identity: addresses, ports, TCP seq/ack/len/flags or UDP length.
fn identity(line: &mut String, frame: &[u8]) {
    let Ok(f) = decode(linktype::ETHERNET, frame) else {
        line.push_str(r#","proto":"other""#);
        return;
    };
    let proto = match f.net() {
        Net::Ipv4(ip) => {
            let _ = write!(
                line,
                r#","src":"{}","dst":"{}","ip_id":{}"#,
                ip.source(),
                ip.destination(),
                ip.identification()
            );
            "ipv4"
        }
        Net::Ipv6(ip, _) => {
            let _ = write!(
                line,
                r#","src":"{}","dst":"{}""#,
                ip.source(),
                ip.destination()
            );
            "ipv6"
        }
        Net::Arp(_) => "arp",
        _ => "other",
    };
    let proto = match f.transport() {
        Transport::Tcp(t) => {
            let mut letters = [0u8; 10];
            let _ = write!(
                line,
                r#","sport":{},"dport":{},"seq":{},"ack":{},"tcp_len":{},"flags":"{}""#,
                t.source_port(),
                t.destination_port(),
                t.seq(),
                t.ack(),
                f.payload_len(),
                t.flags().letters(&mut letters)
            );
            "tcp"
        }
        Transport::Udp(u) => {
            let _ = write!(
                line,
                r#","sport":{},"dport":{},"udp_len":{}"#,
                u.source_port(),
                u.destination_port(),
                u.length()
            );
            "udp"
        }
        Transport::Icmpv4(i) => {
            let _ = write!(line, r#","icmp_type":{}"#, i.msg_type());
            "icmp"
        }
        Transport::Icmpv6(i) => {
            let _ = write!(line, r#","icmp_type":{}"#, i.msg_type());
            "icmpv6"
        }
        _ => proto,
    };
    let _ = write!(line, r#","proto":"{proto}""#);
}

/// A JSON string literal (interface names and specs are plain ASCII, but never trust that).
fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
