//! `cwnd`: one connection's congestion window over time as its sender held it (inferred by
//! `analysis::cwnd`) after each segment it sent and each ACK that reached it, in the sender's
//! order, the phases, each loss event with the threshold it set, and what limited the sender
//! — a table, NDJSON or CSV.

use std::io::Write;

use serde_json::{Value, json};

use crate::Format;
use std::collections::HashMap;

use crate::analysis::{Analyzer, CwndSample, Eviction, LossEvent, Place};
use crate::report::{analyze_with, limited_json, limited_text, secs};
use crate::{DirArg, input};

/// One event of the sender: a segment sent or an ACK reaching it, and the window after it.
struct Row {
    frame: u64,
    /// Capture time of that frame.
    ts: i64,
    event: &'static str,
    s: CwndSample,
}

pub fn run(
    file: &str,
    n: u32,
    dir: Option<DirArg>,
    evict: Eviction,
    fmt: Format,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let mut times = HashMap::new();
    let mut t0 = None;
    let engine = Analyzer::evicting(Eviction {
        keep: Some(n),
        ..evict
    })
    .discarding_rows()
    .logging_cwnd(n);
    let (mut an, st) = analyze_with(file, engine, |s, p, _| {
        t0.get_or_insert(s.ts_ns);
        if p.conn == n {
            times.insert(s.frame, s.ts_ns);
        }
        Ok(input::Flow::Continue)
    })?;
    if an.conns.get(n as usize).is_none() {
        st.check()?;
        return Err(crate::report::no_connection(file, n, an.conns.len()));
    }
    let c = &an.conns[n as usize];
    let v = c.vantage();
    let d = match dir {
        Some(DirArg::Client) => 0,
        Some(DirArg::Server) => 1,
        _ => v.data_dir,
    };
    let events = an.conns[n as usize].flows[d].cwnd.take_events();
    let log = an.conns[n as usize].flows[d].cwnd.take_log();
    let mut rows: Vec<Row> = log
        .into_iter()
        .map(|(frame, event, s)| Row {
            frame,
            ts: times.get(&frame).copied().unwrap_or(s.sender_ts),
            event,
            s,
        })
        .collect();
    // ACKs reach the sender after they are captured, data leaves it before: in the sender's
    // order.
    rows.sort_by_key(|r| r.s.sender_ts);
    let c = &an.conns[n as usize];
    let limited = c.flows[d].cwnd.limited_by();
    let t0 = t0.unwrap_or(0);
    match fmt {
        Format::Json => {
            for r in &rows {
                writeln!(out, "{}", row_json(n, r))?;
            }
            for e in &events {
                writeln!(out, "{}", event_json(n, e))?;
            }
            if let Some(l) = &limited {
                let mut j = limited_json(l);
                j["type"] = json!("limited_by");
                j["conn"] = json!(n);
                writeln!(out, "{j}")?;
            }
        }
        Format::Csv => {
            writeln!(
                out,
                "frame,event,time,sender_time,flight,cwnd,mss,cwnd_segments,phase,ssthresh,rwnd,limited"
            )?;
            for r in &rows {
                writeln!(out, "{}", row_fields(r, t0, "").join(","))?;
            }
        }
        Format::Human => {
            let (from, to) = if d == 0 {
                (c.client, c.server)
            } else {
                (c.server, c.client)
            };
            writeln!(
                out,
                "connection {n}: the congestion window of {from} -> {to}, inferred"
            )?;
            writeln!(out, "  captured near {}", v.evidence)?;
            if v.place != Place::NearClient && v.place != Place::NearServer
                || (v.place == Place::NearServer) == (d == 0)
            {
                writeln!(
                    out,
                    "  sender times are estimated from here: see docs/tcpstat.md (the congestion window)"
                )?;
            }
            if let Some(l) = &limited {
                writeln!(out, "  limited by {}", limited_text(l))?;
            }
            for e in &events {
                writeln!(out, "  {}", event_text(e, t0))?;
            }
            const HEAD: [&str; 12] = [
                "frame", "event", "time", "sender", "flight", "cwnd", "mss", "segs", "phase",
                "ssthresh", "rwnd", "limited",
            ];
            writeln!(out)?;
            writeln!(out, "{}", columns(HEAD.map(String::from)))?;
            for r in &rows {
                writeln!(out, "{}", columns(row_fields(r, t0, "-")))?;
            }
        }
    }
    st.check()
}

/// One row's fields as text (`none` where a value is unknown).
fn row_fields(r: &Row, t0: i64, none: &str) -> [String; 12] {
    let s = &r.s;
    [
        r.frame.to_string(),
        r.event.to_string(),
        format!("{:.6}", secs(r.ts.saturating_sub(t0))),
        format!("{:.6}", secs(s.sender_ts.saturating_sub(t0))),
        s.flight.to_string(),
        s.cwnd.to_string(),
        s.mss.to_string(),
        format!("{:.1}", f64::from(s.cwnd) / f64::from(s.mss.max(1))),
        s.phase.name().to_string(),
        s.ssthresh
            .map_or_else(|| none.to_string(), |t| t.to_string()),
        s.rwnd.map_or_else(|| none.to_string(), |w| w.to_string()),
        s.limited.name().to_string(),
    ]
}

/// The table's columns: numbers right-aligned, words left.
fn columns(f: [String; 12]) -> String {
    const WIDTH: [usize; 12] = [7, 5, 10, 10, 9, 9, 5, 6, 21, 9, 9, 0];
    let mut line = String::new();
    for (i, (v, w)) in f.iter().zip(WIDTH).enumerate() {
        if i > 0 {
            line.push(' ');
        }
        if matches!(i, 1 | 8 | 11) {
            line.push_str(&format!("{v:<w$}"));
        } else {
            line.push_str(&format!("{v:>w$}"));
        }
    }
    line.trim_end().to_string()
}

fn row_json(n: u32, r: &Row) -> Value {
    let s = &r.s;
    json!({
        "type": "cwnd", "conn": n, "frame": r.frame, "event": r.event, "ts": secs(r.ts),
        "sender_ts": secs(s.sender_ts), "flight": s.flight, "cwnd": s.cwnd, "mss": s.mss,
        "phase": s.phase.name(), "ssthresh": s.ssthresh, "rwnd": s.rwnd,
        "limited": s.limited.name(),
    })
}

fn event_json(n: u32, e: &LossEvent) -> Value {
    json!({
        "type": "loss_event", "conn": n, "frame": e.frame, "sender_ts": secs(e.sender_ts),
        "kind": e.kind, "cwnd_before": e.cwnd_before, "ssthresh": e.ssthresh,
    })
}

fn event_text(e: &LossEvent, t0: i64) -> String {
    format!(
        "loss event at frame {} ({} retransmission, sender time {:.3} s): window {} bytes before, ssthresh {} after",
        e.frame,
        e.kind,
        secs(e.sender_ts.saturating_sub(t0)),
        e.cwnd_before,
        e.ssthresh
    )
}
