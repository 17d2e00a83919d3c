//! `tcpstat -i IFACE`: live analysis with a periodic summary, like the classic tcpstat.
//!
//! Packets come from netcap's one live loop ([`netcap::live::run`], the same as sniff's) and go
//! through the same analysis engine as files; every `--interval` seconds one summary is
//! printed: traffic, the connections active in the interval and what went wrong in them. At
//! the end — `--duration` passed, or SIGINT/SIGTERM — the last (partial) interval's summary is
//! printed and tcpstat exits 0.
//!
//! Connections are freed as they end (see [`Eviction`]), so memory follows the connections
//! open at once however long the capture runs; the summary counts those freed. With
//! `--stream` each connection's row (as `tcpstat conns` prints it) comes out as it ends, the
//! rest at the end.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::SocketAddr;
use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use netcap::{Live, LiveOptions, Record, live};
use serde_json::json;

use crate::Format;
use crate::analysis::{Analyzer, ConnRow, Eviction, af};
use crate::input::{self, Decoded, to_sample};

/// What one connection did during the interval.
#[derive(Default)]
struct Activity {
    packets: u64,
    bytes: u64,
    retrans: u64,
    dupacks: u64,
    zero_windows: u64,
    /// The connection ended and was freed: what the summary names it by.
    ended: Option<(SocketAddr, SocketAddr, &'static str)>,
}

pub struct LiveArgs<'a> {
    pub iface: &'a str,
    pub filter: Option<String>,
    pub interval: Duration,
    pub duration: Option<Duration>,
    /// Print each connection's row as it ends.
    pub stream: bool,
    pub evict: Eviction,
}

/// Shortest interval between summaries (shorter ones are raised to it).
const MIN_INTERVAL: Duration = Duration::from_millis(100);

pub fn run(a: &LiveArgs<'_>, fmt: Format, out: &mut impl Write) -> anyhow::Result<()> {
    // Before the capture opens: once it can see packets, a signal stops it cleanly.
    let stop = live::signal_flag()?;
    let mut cap = Live::open(&LiveOptions {
        device: a.iface.to_owned(),
        snaplen: 256,
        ..Default::default()
    })
    .map_err(|e| match e {
        netcap::CaptureError::Permission { message, .. } => netcli::Exit::failure(format!(
            "capturing on {} is not permitted ({message}): it needs root or \
             CAP_NET_RAW+CAP_NET_ADMIN; {}",
            a.iface,
            netcap::privilege_hint()
        )),
        e => netcli::Exit::failure(e.to_string()),
    })?;
    if let Some(f) = &a.filter {
        cap.set_filter(f)
            .map_err(|e| netcli::Exit::usage(e.to_string()))?;
    }
    let mut opts = live::Options::new()
        .stop(stop)
        .max_wait(Duration::from_millis(200));
    let start = Instant::now();
    let every = a.interval.max(MIN_INTERVAL);
    if let Some(d) = a.duration {
        opts.deadline = start.checked_add(d);
    }
    let mut s = Summary {
        fmt,
        out,
        linktype: cap.linktype(),
        an: Analyzer::evicting(a.evict),
        act: BTreeMap::new(),
        stream: a.stream,
        t0: None,
        pk: 0,
        by: 0,
        start,
        every,
        next: start + every,
    };
    if a.stream {
        crate::report::conns_header(fmt, s.out)?;
    }
    live::run(&mut cap, &opts, &mut s).map_err(|e| match e {
        live::Error::Capture(e) => netcli::Exit::failure(e.to_string()).into(),
        live::Error::Handler(e) => e,
    })?;
    // The last, partial interval; then the rows of the connections still open.
    s.print(Instant::now())?;
    if s.stream {
        s.an.finish();
        let t0 = s.t0.unwrap_or(0);
        let mut line = Vec::new();
        for row in s.an.conns.iter().map(ConnRow::new) {
            line.clear();
            crate::report::conns_row(&row, t0, fmt, &mut line);
            s.out.write_all(&line)?;
        }
        s.out.flush()?;
    }
    Ok(())
}

/// The analysis and the current interval's counters.
struct Summary<'a, W> {
    fmt: Format,
    out: &'a mut W,
    linktype: u32,
    an: Analyzer,
    act: BTreeMap<u32, Activity>,
    stream: bool,
    /// Capture time of the first packet (rows give times from it).
    t0: Option<i64>,
    /// TCP packets and wire bytes in the interval.
    pk: u64,
    by: u64,
    start: Instant,
    every: Duration,
    /// When the current interval ends.
    next: Instant,
}

impl<W: Write> live::Handler for Summary<'_, W> {
    type Error = anyhow::Error;

    fn packet(&mut self, frame: u64, rec: &Record<'_>) -> anyhow::Result<ControlFlow<()>> {
        let (ts, _) = input::ts_ns(rec.ts);
        if let Decoded::Tcp(s) = to_sample(self.linktype, rec.data, rec.len, frame, ts) {
            let p = self.an.handle(&s);
            let t0 = *self.t0.get_or_insert(ts);
            for row in self.an.take_evicted() {
                if let Some(e) = self.act.get_mut(&row.id) {
                    e.ended = Some((row.client, row.server, row.state().0));
                }
                if self.stream {
                    let mut line = Vec::new();
                    crate::report::conns_row(&row, t0, self.fmt, &mut line);
                    self.out.write_all(&line)?;
                }
            }
            let e = self.act.entry(p.conn).or_default();
            e.packets += 1;
            e.bytes += s.wire_len as u64;
            self.pk += 1;
            self.by += s.wire_len as u64;
            if p.retrans.is_some() {
                e.retrans += 1;
            }
            if p.flags & af::DUPLICATE_ACK != 0 {
                e.dupacks += 1;
            }
            if p.flags & af::ZERO_WINDOW != 0 {
                e.zero_windows += 1;
            }
        }
        Ok(ControlFlow::Continue(()))
    }

    fn tick(&mut self, now: Instant, _idle: bool) -> anyhow::Result<Option<Instant>> {
        if now >= self.next {
            self.print(now)?;
            self.next += self.every;
        }
        Ok(Some(self.next))
    }
}

impl<W: Write> Summary<'_, W> {
    /// Print the interval's summary and start a new interval.
    fn print(&mut self, now: Instant) -> anyhow::Result<()> {
        let (an, act, out) = (&self.an, &self.act, &mut *self.out);
        let (pk, by) = (self.pk, self.by);
        let secs = self.every.as_secs_f64();
        let t = now.duration_since(self.start).as_secs_f64();
        match self.fmt {
            Format::Json => {
                let conns: Vec<_> = act
                    .iter()
                    .map(|(id, e)| {
                        let (client, server, state) = label(an, *id, e);
                        json!({"id": id, "client": client.to_string(), "server": server.to_string(),
                            "state": state, "ended": e.ended.is_some(), "packets": e.packets, "bytes": e.bytes,
                            "retransmissions": e.retrans, "dup_acks": e.dupacks, "zero_window": e.zero_windows})
                    })
                    .collect();
                writeln!(
                    out,
                    "{}",
                    json!({"type": "interval", "t": t, "packets": pk, "bytes": by,
                        "connections_seen": an.conns.len(), "connections_freed": an.evicted_total,
                        "active": conns})
                )?;
            }
            _ => {
                writeln!(
                    out,
                    "[{t:8.1}s] {pk} TCP packets ({:.0}/s), {:.3} Mbit/s, {} connections active, {} seen, {} ended and freed",
                    pk as f64 / secs,
                    by as f64 * 8.0 / secs / 1e6,
                    act.len(),
                    an.conns.len(),
                    an.evicted_total
                )?;
                for (id, e) in act {
                    let (client, server, state) = label(an, *id, e);
                    writeln!(
                        out,
                        "  #{id:<4} {} -> {} {:<6} {} pkts {} B  retrans {} dupacks {} zero-win {}",
                        client,
                        server,
                        state,
                        e.packets,
                        e.bytes,
                        e.retrans,
                        e.dupacks,
                        e.zero_windows
                    )?;
                }
            }
        }
        out.flush()?;
        self.act.clear();
        self.pk = 0;
        self.by = 0;
        Ok(())
    }
}

/// A connection's ends and state: from the analysis while it is open, as it was when freed.
fn label(an: &Analyzer, id: u32, e: &Activity) -> (SocketAddr, SocketAddr, &'static str) {
    match (an.conns.get(id as usize), e.ended) {
        (Some(c), _) => (c.client, c.server, c.state().0),
        (None, Some(l)) => l,
        // Freed before this interval and seen again: not possible (a packet after the end
        // starts a new connection), but never a panic.
        (None, None) => (
            SocketAddr::from(([0, 0, 0, 0], 0)),
            SocketAddr::from(([0, 0, 0, 0], 0)),
            "?",
        ),
    }
}
