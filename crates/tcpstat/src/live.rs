//! `tcpstat -i IFACE`: live analysis with a periodic summary, like the classic tcpstat.
//!
//! Packets come from netproto's live capture (non-blocking + poll) and go through the same
//! analysis engine as files; every `--interval` seconds one summary is printed: traffic, the
//! connections active in the interval and what went wrong in them.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::{Duration, Instant};

use netcap::{Live, LiveOptions};
use serde_json::json;

use crate::Format;
use crate::analysis::{Analyzer, af};
use crate::input::{self, Decoded, to_sample};

/// What one connection did during the interval.
#[derive(Default)]
struct Activity {
    packets: u64,
    bytes: u64,
    retrans: u64,
    dupacks: u64,
    zero_windows: u64,
}

pub struct LiveArgs<'a> {
    pub iface: &'a str,
    pub filter: Option<String>,
    pub interval: f64,
    pub duration: Option<f64>,
}

pub fn run(a: &LiveArgs<'_>, fmt: Format, out: &mut impl Write) -> anyhow::Result<()> {
    let mut cap = Live::open(&LiveOptions {
        device: a.iface.to_owned(),
        snaplen: 256,
        ..Default::default()
    })
    .map_err(|e| netcli::Exit::failure(e.to_string()))?;
    if let Some(f) = &a.filter {
        cap.set_filter(f)
            .map_err(|e| netcli::Exit::usage(e.to_string()))?;
    }
    let lt = cap.linktype();
    let mut an = Analyzer::new();
    let start = Instant::now();
    let every = Duration::from_secs_f64(a.interval.max(0.1));
    let mut next = start + every;
    let mut frame = 0u64;
    let mut act: BTreeMap<u32, Activity> = BTreeMap::new();
    let (mut pk, mut by) = (0u64, 0u64);
    loop {
        let mut got = 0;
        while got < 4096 {
            let Some(rec) = cap
                .try_next()
                .map_err(|e| netcli::Exit::failure(e.to_string()))?
            else {
                break;
            };
            got += 1;
            frame += 1;
            let (ts, _) = input::ts_ns(rec.ts);
            if let Decoded::Tcp(s) = to_sample(lt, rec.data, rec.len, frame, ts) {
                let p = an.handle(&s);
                let e = act.entry(p.conn).or_default();
                e.packets += 1;
                e.bytes += s.wire_len as u64;
                pk += 1;
                by += s.wire_len as u64;
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
        }
        let now = Instant::now();
        let done = a
            .duration
            .is_some_and(|d| now.duration_since(start).as_secs_f64() >= d);
        if now >= next || done {
            let secs = a.interval.max(0.1);
            let t = now.duration_since(start).as_secs_f64();
            match fmt {
                Format::Json => {
                    let conns: Vec<_> = act
                        .iter()
                        .map(|(id, e)| {
                            let c = &an.conns[*id as usize];
                            json!({"id": id, "client": c.client.to_string(), "server": c.server.to_string(),
                                "state": c.state().0, "packets": e.packets, "bytes": e.bytes,
                                "retransmissions": e.retrans, "dup_acks": e.dupacks, "zero_window": e.zero_windows})
                        })
                        .collect();
                    writeln!(
                        out,
                        "{}",
                        json!({"type": "interval", "t": t, "packets": pk, "bytes": by,
                            "connections_seen": an.conns.len(), "active": conns})
                    )?;
                }
                _ => {
                    writeln!(
                        out,
                        "[{t:8.1}s] {pk} TCP packets ({:.0}/s), {:.3} Mbit/s, {} connections active, {} seen",
                        pk as f64 / secs,
                        by as f64 * 8.0 / secs / 1e6,
                        act.len(),
                        an.conns.len()
                    )?;
                    for (id, e) in &act {
                        let c = &an.conns[*id as usize];
                        writeln!(
                            out,
                            "  #{id:<4} {} -> {} {:<6} {} pkts {} B  retrans {} dupacks {} zero-win {}",
                            c.client,
                            c.server,
                            c.state().0,
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
            act.clear();
            pk = 0;
            by = 0;
            next += every;
        }
        if done {
            return Ok(());
        }
        if got == 0 {
            let wait = next
                .saturating_duration_since(Instant::now())
                .min(Duration::from_millis(200));
            cap.wait(wait)
                .map_err(|e| netcli::Exit::failure(e.to_string()))?;
        }
    }
}
