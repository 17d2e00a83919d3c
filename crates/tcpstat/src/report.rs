//! `conns` and `packets`: the connection table and the per-packet analysis lines, as human
//! tables, NDJSON or CSV.

use std::io::{self, Write};

use netproto::frame::TcpFlags;
use serde_json::{Value, json};

use crate::Format;
use crate::analysis::{
    Analyzer, ConnRow, Eviction, FlowRow, Limit, LimitedBy, PacketInfo, Place, RowStore, TcpSample,
    af,
};
use crate::input::{self, InputStats};

/// The error for a connection number the capture does not have.
pub fn no_connection(file: &str, n: u32, have: usize) -> anyhow::Error {
    netcli::Exit::negative(format!(
        "no connection {n} in {file} (it has {have}; see `tcpstat conns`)"
    ))
    .into()
}

/// Seconds with microseconds.
pub fn secs(ns: i64) -> f64 {
    ns as f64 / 1e9
}

fn ms(ns: i64) -> f64 {
    ns as f64 / 1e6
}

/// Delayed-ACK verdict for one side acting as a receiver.
///
/// `timing_here`: the capture was taken next to this side (or where is unknown), so the time
/// from data to a single-segment ACK is this side's ACK delay; elsewhere it includes the path
/// between the capture point and this side, and is not shown as a delay.
pub fn delayed_ack_verdict(f: &FlowRow, timing_here: bool) -> (String, &'static str) {
    if f.acks_new < 3 {
        return (
            format!("too few ACKs to tell ({} ACKs of new data)", f.acks_new),
            "unknown",
        );
    }
    let ratio = f.acks_multi as f64 / f.acks_new as f64;
    let delay = match f.single_ack_delay.avg() {
        Some(d) if timing_here => format!(", single-segment ACKs after {d:.1} ms on average"),
        Some(_) => " (how long it waits is not visible from this capture point: data to ACK includes the path)".to_owned(),
        None => String::new(),
    };
    if ratio >= 0.25 {
        (
            format!(
                "delayed ACKs: {} of {} ACKs cover two or more segments{delay}",
                f.acks_multi, f.acks_new
            ),
            "yes",
        )
    } else {
        (
            format!(
                "no delayed ACKs: {} of {} ACKs acknowledge a single segment{delay}",
                f.acks_single, f.acks_new
            ),
            "no",
        )
    }
}

fn goodput_bps(c: &ConnRow, f: &FlowRow) -> f64 {
    match f.last_data_ts {
        Some(t) if t > c.first_ts => f.unique_bytes as f64 * 8.0 / secs(t - c.first_ts),
        _ => 0.0,
    }
}

fn rtt_json(f: &FlowRow) -> Value {
    if f.rtt.n == 0 {
        return json!({"min": null, "avg": null, "max": null, "samples": 0});
    }
    json!({"min": f.rtt.min, "avg": f.rtt.avg(), "max": f.rtt.max, "samples": f.rtt.n})
}

/// The `connection` record.
pub fn conn_json(c: &ConnRow, t0: i64) -> Value {
    let (code, words) = c.state();
    let [a, b] = &c.flows;
    // RTT of the connection: the samples of both directions together.
    let mut all = a.rtt;
    if b.rtt.n > 0 {
        if all.n == 0 {
            all = b.rtt;
        } else {
            all.min = all.min.min(b.rtt.min);
            all.max = all.max.max(b.rtt.max);
            all.n += b.rtt.n;
            all.sum += b.rtt.sum;
        }
    }
    let rtt = if all.n == 0 {
        json!({"min": null, "avg": null, "max": null})
    } else {
        json!({"min": all.min, "avg": all.avg(), "max": all.max})
    };
    let v = c.vantage.vantage();
    let here = |side: Place| matches!(v.place, Place::Unknown) || v.place == side;
    let (va, ka) = delayed_ack_verdict(a, here(Place::NearClient));
    let (vb, kb) = delayed_ack_verdict(b, here(Place::NearServer));
    let mut j = json!({
        "type": "connection",
        "id": c.id,
        "client": c.client.to_string(),
        "server": c.server.to_string(),
        "start": secs(c.first_ts),
        "rel_start": secs(c.first_ts - t0),
        "duration": secs(c.last_ts - c.first_ts),
        "first_frame": c.first_frame,
        "last_frame": c.last_frame,
        "packets": [a.packets, b.packets],
        "bytes": [a.bytes, b.bytes],
        "payload_bytes": [a.payload_bytes, b.payload_bytes],
        "unique_bytes": [a.unique_bytes, b.unique_bytes],
        "state": code,
        "state_text": words,
        "isn_client": a.isn,
        "isn_server": b.isn,
        "options_client": a.syn_opts.map(|o| o.json()),
        "options_server": b.syn_opts.map(|o| o.json()),
        "retransmissions": a.retrans + b.retrans,
        "fast_retransmissions": a.fast + b.fast,
        "timeout_retransmissions": a.timeout + b.timeout,
        "spurious_retransmissions": a.spurious + b.spurious,
        "retransmissions_by_dir": [a.retrans, b.retrans],
        "dup_acks": a.dupacks + b.dupacks,
        "out_of_order": a.ooo + b.ooo,
        "lost_segments": a.lost + b.lost,
        "zero_window": a.zero_windows + b.zero_windows,
        "rtt_ms": rtt,
        "rtt_ms_by_dir": [rtt_json(a), rtt_json(b)],
        "handshake_rtt_ms": c.irtt_ns.map(ms),
        "delayed_ack": {"client": ka, "server": kb, "client_text": va, "server_text": vb},
        "goodput_bps": [goodput_bps(c, a), goodput_bps(c, b)],
    });
    // Beyond json!'s recursion limit in one literal.
    let vantage = [
        ("vantage", json!(v.place.name())),
        ("vantage_evidence", json!(v.evidence)),
        (
            "data_dir",
            json!(if v.data_dir == 0 { "c>s" } else { "s>c" }),
        ),
        ("path_rtt_ms", json!(v.path_rtt_ms)),
        ("srtt_ms", json!(v.srtt_ms)),
        ("data_to_ack_ms", json!(v.data_to_ack_ms)),
        ("ack_to_data_ms", json!(v.ack_to_data_ms)),
        ("probe_retransmissions", json!(a.probes + b.probes)),
        (
            "limited_by",
            c.limited.map_or(Value::Null, |l| limited_json(&l)),
        ),
    ];
    for (k, val) in vantage {
        j[k] = val;
    }
    j
}

/// The shares of the sender's time (see `analysis::cwnd`), with the span they cover.
pub fn limited_json(l: &LimitedBy) -> Value {
    let mut j = json!({"start": secs(l.start), "end": secs(l.end), "seconds": secs(l.end.saturating_sub(l.start))});
    for k in Limit::ALL {
        j[k.name()] = json!(l.share(k));
    }
    j
}

/// `cwnd 62 %, loss 30 %, ...` (largest first, shares under 0.5 % left out), and the span.
pub fn limited_text(l: &LimitedBy) -> String {
    let mut v: Vec<(Limit, f64)> = Limit::ALL.iter().map(|&k| (k, l.share(k))).collect();
    v.sort_by(|a, b| b.1.total_cmp(&a.1));
    let parts: Vec<String> = v
        .iter()
        .filter(|(_, s)| *s >= 0.005)
        .map(|(k, s)| format!("{} {:.0} %", k.name(), s * 100.0))
        .collect();
    format!(
        "{} of the sender's {:.3} s (first data to the last ACK)",
        parts.join(", "),
        secs(l.end.saturating_sub(l.start))
    )
}

fn opt_text(f: &FlowRow) -> String {
    match &f.syn_opts {
        None => "(no SYN seen)".into(),
        Some(o) => {
            let d = o.describe();
            if d.is_empty() { "none".into() } else { d }
        }
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// [`analyze_file`] with an engine set up by the caller.
pub fn analyze_with(
    file: &str,
    mut an: Analyzer,
    mut each: impl FnMut(&TcpSample<'_>, &PacketInfo, &Analyzer) -> anyhow::Result<input::Flow>,
) -> anyhow::Result<(Analyzer, InputStats)> {
    let st = input::for_each_tcp(file, |s| {
        let info = an.handle(s);
        each(s, &info, &an)
    })?;
    an.finish();
    Ok((an, st))
}

fn summary_json(an: &Analyzer, st: &InputStats, stream: bool) -> Value {
    let mut j = json!({
        "type": "summary",
        "frames": st.frames,
        "tcp_packets": st.tcp,
        "non_tcp_frames": st.non_tcp,
        "undecodable_frames": st.undecodable,
        "truncated_packets": st.truncated,
        "bytes": st.bytes,
        "connections": an.conns.len(),
        "duration": st.first_ts.map(|t| secs(st.last_ts - t)),
        "damaged": st.damage,
    });
    if stream {
        // Streamed rows: how many were printed before the end (their state freed).
        j["evicted"] = json!(an.evicted_total);
        // Of them, freed before their 5 s grace because too many were waiting.
        j["evicted_early"] = json!(an.evicted_early);
    }
    j
}

/// What `conns` reports and how.
#[derive(Clone, Copy, Debug, Default)]
pub struct ConnsOpts {
    /// Only this connection.
    pub only: Option<u32>,
    /// Print each row when its connection ends (freed), not all in order at the end.
    pub stream: bool,
    /// When connections are over (their state freed, their row kept).
    pub evict: Eviction,
}

const CSV_HEADER: &str = "id,client,server,rel_start,duration,packets_c2s,packets_s2c,bytes_c2s,bytes_s2c,payload_c2s,payload_s2c,state,state_text,isn_client,isn_server,options_client,options_server,retransmissions,fast,timeout,spurious,dup_acks,out_of_order,zero_window,rtt_min_ms,rtt_avg_ms,rtt_max_ms,handshake_rtt_ms,delayed_ack_client,delayed_ack_server,goodput_c2s_bps,goodput_s2c_bps";

/// The connection table. Connections are freed as they end (see [`Eviction`]): by default
/// their rows are kept compact and printed in connection order at the end; with `stream`
/// each is printed as its connection is freed (the rest at the end, in order).
pub fn conns(file: &str, o: &ConnsOpts, fmt: Format, out: &mut impl Write) -> anyhow::Result<()> {
    let mut an = Analyzer::evicting(Eviction {
        keep: o.only,
        ..o.evict
    });
    let mut store = RowStore::default();
    let wanted = |r: &ConnRow| o.only.is_none_or(|n| n == r.id);
    if o.stream {
        conns_header(fmt, out)?;
    }
    let st = input::for_each_tcp_with(file, |s, st| {
        an.handle(s);
        for row in an.take_evicted().iter().filter(|r| wanted(r)) {
            if o.stream {
                conns_row(row, st.first_ts.unwrap_or(0), fmt, out)?;
            } else {
                store.insert(row);
            }
        }
        Ok(input::Flow::Continue)
    })?;
    an.finish();
    let t0 = st.first_ts.unwrap_or(0);
    let open = an.conns.iter().map(ConnRow::new).filter(|r| wanted(r));
    if o.stream {
        for row in open {
            conns_row(&row, t0, fmt, out)?;
        }
    } else {
        for row in open {
            store.insert(&row);
        }
        conns_header(fmt, out)?;
        for row in store.iter() {
            conns_row(&row, t0, fmt, out)?;
        }
        if fmt == Format::Human {
            for row in store.iter() {
                human_detail(&row, t0, out)?;
            }
        }
    }
    if an.evicted_early > 0 {
        log::debug!(
            "{} finished connections were freed before their 5 s of quiet (more than {} were waiting): a late packet of one of them starts a new connection",
            an.evicted_early,
            crate::analysis::table::MAX_CLOSING
        );
    }
    conns_footer(&an, &st, o.stream, fmt, out)?;
    out.flush()?;
    st.check()
}

pub fn conns_header(fmt: Format, out: &mut impl Write) -> io::Result<()> {
    match fmt {
        Format::Json => Ok(()),
        Format::Csv => writeln!(out, "{CSV_HEADER}"),
        Format::Human => writeln!(
            out,
            "{:>3} {:<26} {:<26} {:>9} {:>9} {:>11} {:>15} {:>15} {:<6} state",
            "id",
            "client",
            "server",
            "start",
            "duration",
            "pkts c>s/s>c",
            "bytes c>s/s>c",
            "payload c>s/s>c",
            "code"
        ),
    }
}

/// One connection's line (the JSON record, the CSV row, the table's line).
pub fn conns_row(c: &ConnRow, t0: i64, fmt: Format, out: &mut impl Write) -> io::Result<()> {
    match fmt {
        Format::Json => writeln!(out, "{}", conn_json(c, t0)),
        Format::Csv => csv_row(c, t0, out),
        Format::Human => {
            let [a, b] = &c.flows;
            let (code, words) = c.state();
            writeln!(
                out,
                "{:>3} {:<26} {:<26} {:>9.3} {:>9.3} {:>11} {:>15} {:>15} {:<6} {}",
                c.id,
                c.client.to_string(),
                c.server.to_string(),
                secs(c.first_ts - t0),
                secs(c.last_ts - c.first_ts),
                format!("{}/{}", a.packets, b.packets),
                format!("{}/{}", a.bytes, b.bytes),
                format!("{}/{}", a.payload_bytes, b.payload_bytes),
                code,
                words
            )
        }
    }
}

fn csv_row(c: &ConnRow, t0: i64, out: &mut impl Write) -> io::Result<()> {
    let j = conn_json(c, t0);
    let [a, b] = &c.flows;
    let f = |v: &Value| match v {
        Value::Null => String::new(),
        Value::Number(n) => n
            .as_f64()
            .filter(|_| n.is_f64())
            .map(|x| format!("{x:.3}"))
            .unwrap_or_else(|| n.to_string()),
        Value::String(s) => csv_field(s),
        other => csv_field(&other.to_string()),
    };
    writeln!(
        out,
        "{},{},{},{:.6},{:.6},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{:.0},{:.0}",
        c.id,
        c.client,
        c.server,
        secs(c.first_ts - t0),
        secs(c.last_ts - c.first_ts),
        a.packets,
        b.packets,
        a.bytes,
        b.bytes,
        a.payload_bytes,
        b.payload_bytes,
        f(&j["state"]),
        f(&j["state_text"]),
        a.isn.map(|v| v.to_string()).unwrap_or_default(),
        b.isn.map(|v| v.to_string()).unwrap_or_default(),
        csv_field(&opt_text(a)),
        csv_field(&opt_text(b)),
        a.retrans + b.retrans,
        a.fast + b.fast,
        a.timeout + b.timeout,
        a.spurious + b.spurious,
        a.dupacks + b.dupacks,
        a.ooo + b.ooo,
        a.zero_windows + b.zero_windows,
        f(&j["rtt_ms"]["min"]),
        f(&j["rtt_ms"]["avg"]),
        f(&j["rtt_ms"]["max"]),
        f(&j["handshake_rtt_ms"]),
        f(&j["delayed_ack"]["client"]),
        f(&j["delayed_ack"]["server"]),
        goodput_bps(c, a),
        goodput_bps(c, b),
    )
}

/// The human table's block for one connection, after the table.
fn human_detail(c: &ConnRow, t0: i64, out: &mut impl Write) -> io::Result<()> {
    let j = conn_json(c, t0);
    let [a, b] = &c.flows;
    writeln!(out)?;
    writeln!(out, "connection {}: {} -> {}", c.id, c.client, c.server)?;
    let isn = |v: Option<u32>| v.map(|v| v.to_string()).unwrap_or_else(|| "-".into());
    writeln!(
        out,
        "  ISN        client {}  server {}",
        isn(a.isn),
        isn(b.isn)
    )?;
    writeln!(out, "  options    client {}", opt_text(a))?;
    writeln!(out, "             server {}", opt_text(b))?;
    writeln!(
        out,
        "  retrans    {} (fast {}, timeout {}, probe {}, spurious {}); client {} server {}",
        a.retrans + b.retrans,
        a.fast + b.fast,
        a.timeout + b.timeout,
        a.probes + b.probes,
        a.spurious + b.spurious,
        a.retrans,
        b.retrans
    )?;
    writeln!(
        out,
        "  dup ACKs   {}  out-of-order {}  not captured {}  zero-window {}",
        a.dupacks + b.dupacks,
        a.ooo + b.ooo,
        a.lost + b.lost,
        a.zero_windows + b.zero_windows
    )?;
    let r = &j["rtt_ms"];
    let fx = |v: &Value| {
        v.as_f64()
            .map(|x| format!("{x:.3}"))
            .unwrap_or_else(|| "-".into())
    };
    writeln!(
        out,
        "  RTT ms     min {} avg {} max {} (Karn, {} samples); handshake {}",
        fx(&r["min"]),
        fx(&r["avg"]),
        fx(&r["max"]),
        a.rtt.n + b.rtt.n,
        fx(&j["handshake_rtt_ms"])
    )?;
    writeln!(
        out,
        "  vantage    {}",
        j["vantage_evidence"].as_str().unwrap_or("")
    )?;
    if let Some(p) = j["path_rtt_ms"].as_f64() {
        writeln!(
            out,
            "  path RTT   {p:.3} ms = data→ACK {} + ACK→next data {} ms at the capture point ({} data, medians)",
            fx(&j["data_to_ack_ms"]),
            fx(&j["ack_to_data_ms"]),
            j["data_dir"].as_str().unwrap_or("")
        )?;
    }
    if let Some(l) = c.limited {
        writeln!(out, "  limited by {}", limited_text(&l))?;
    }
    writeln!(
        out,
        "  delayed ACK client {}",
        j["delayed_ack"]["client_text"].as_str().unwrap_or("")
    )?;
    writeln!(
        out,
        "             server {}",
        j["delayed_ack"]["server_text"].as_str().unwrap_or("")
    )?;
    writeln!(
        out,
        "  goodput    c>s {:.0} bit/s  s>c {:.0} bit/s",
        goodput_bps(c, a),
        goodput_bps(c, b)
    )
}

fn conns_footer(
    an: &Analyzer,
    st: &InputStats,
    stream: bool,
    fmt: Format,
    out: &mut impl Write,
) -> io::Result<()> {
    match fmt {
        Format::Json => writeln!(out, "{}", summary_json(an, st, stream)),
        Format::Csv => Ok(()),
        Format::Human => writeln!(
            out,
            "\n{} connections, {} TCP packets in {} frames ({} not TCP)",
            an.conns.len(),
            st.tcp,
            st.frames,
            st.non_tcp + st.undecodable
        ),
    }
}

pub fn tcp_flags(f: TcpFlags) -> String {
    f.letters(&mut [0; 10]).to_owned()
}

pub fn packet_json(s: &TcpSample<'_>, p: &PacketInfo, t0: i64) -> Value {
    let flags: Vec<&str> = af::names(p.flags).collect();
    json!({
        "type": "packet",
        "frame": p.frame,
        "ts": secs(p.ts_ns),
        "rel_ts": secs(p.ts_ns - t0),
        "conn": p.conn,
        "dir": if p.dir == 0 { "c2s" } else { "s2c" },
        "src": s.src.to_string(),
        "dst": s.dst.to_string(),
        "tcp_flags": tcp_flags(s.flags),
        "seq": s.seq,
        "ack": s.ack,
        "rel_seq": p.rel_seq,
        "rel_ack": p.rel_ack,
        "win": p.win_scaled,
        "len": s.payload_len,
        "flags": flags,
        "dup_ack_num": (p.dup_ack_num > 0).then_some(p.dup_ack_num),
        "dup_ack_frame": (p.dup_ack_num > 0).then_some(p.dup_ack_frame),
        "acked_frame": p.acked_frame,
        "ack_rtt_ms": p.ack_rtt_ns.map(ms),
        "bytes_in_flight": p.bytes_in_flight,
        "rto_ms": p.rto_ns.map(ms),
        "rto_frame": p.rto_frame,
        "orig_frame": p.orig_frame,
        "retrans_kind": p.retrans.map(|k| k.as_str()),
        "reason": p.reason,
        "truncated": s.truncated,
    })
}

pub fn packets(
    file: &str,
    only: Option<u32>,
    evict: Eviction,
    fmt: Format,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let mut t0 = None;
    if fmt == Format::Csv {
        writeln!(
            out,
            "frame,rel_ts,conn,src,dst,tcp_flags,rel_seq,rel_ack,win,len,flags,dup_ack_num,dup_ack_frame,acked_frame,ack_rtt_ms,bytes_in_flight,rto_ms,retrans_kind,reason"
        )?;
    }
    let mut line = String::with_capacity(256);
    let mut ends: Vec<[String; 2]> = Vec::new();
    let engine = Analyzer::evicting(evict).discarding_rows();
    let (an, st) = analyze_with(file, engine, |s, p, _| {
        let t0 = *t0.get_or_insert(s.ts_ns);
        if only.is_some_and(|n| n != p.conn) {
            return Ok(input::Flow::Continue);
        }
        match fmt {
            Format::Json => {
                serde_json::to_writer(&mut *out, &packet_json(s, p, t0))?;
                out.write_all(b"\n")?;
            }
            Format::Csv => {
                let flags: Vec<&str> = af::names(p.flags).collect();
                writeln!(
                    out,
                    "{},{:.6},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
                    p.frame,
                    secs(p.ts_ns - t0),
                    p.conn,
                    s.src,
                    s.dst,
                    tcp_flags(s.flags),
                    p.rel_seq,
                    p.rel_ack,
                    p.win_scaled,
                    s.payload_len,
                    flags.join(";"),
                    if p.dup_ack_num > 0 {
                        p.dup_ack_num.to_string()
                    } else {
                        String::new()
                    },
                    if p.dup_ack_num > 0 {
                        p.dup_ack_frame.to_string()
                    } else {
                        String::new()
                    },
                    p.acked_frame.map(|v| v.to_string()).unwrap_or_default(),
                    p.ack_rtt_ns
                        .map(|v| format!("{:.3}", ms(v)))
                        .unwrap_or_default(),
                    p.bytes_in_flight.map(|v| v.to_string()).unwrap_or_default(),
                    p.rto_ns
                        .map(|v| format!("{:.3}", ms(v)))
                        .unwrap_or_default(),
                    p.retrans.map(|k| k.as_str()).unwrap_or(""),
                    csv_field(p.reason.as_deref().unwrap_or("")),
                )?;
            }
            Format::Human => {
                use std::fmt::Write as _;
                line.clear();
                // Addresses are formatted once per connection and direction, times with
                // integer arithmetic: this loop runs for every packet of big captures.
                let c = p.conn as usize;
                if ends.len() <= c {
                    ends.resize(c + 1, [String::new(), String::new()]);
                }
                if ends[c][p.dir].is_empty() {
                    ends[c][p.dir] = format!("{} > {}", s.src, s.dst);
                }
                let rel = (p.ts_ns - t0).max(0);
                let _ = write!(
                    line,
                    "{:>6} {:>4}.{:06} #{:<3} {} [{}] seq {} ack {} win {} len {}",
                    p.frame,
                    rel / 1_000_000_000,
                    (rel % 1_000_000_000) / 1000,
                    p.conn,
                    ends[c][p.dir],
                    tcp_flags(s.flags),
                    p.rel_seq,
                    p.rel_ack,
                    p.win_scaled,
                    s.payload_len
                );
                for n in af::names(p.flags) {
                    let _ = write!(line, " {n}");
                    if n == "duplicate_ack" {
                        let _ = write!(line, "#{}(of {})", p.dup_ack_num, p.dup_ack_frame);
                    }
                }
                if let (Some(f), Some(r)) = (p.acked_frame, p.ack_rtt_ns) {
                    let _ = write!(line, " ack_rtt={:.3}ms(frame {f})", ms(r));
                }
                if let Some(b) = p.bytes_in_flight {
                    let _ = write!(line, " bif={b}");
                }
                if let Some(r) = p.rto_ns {
                    let _ = write!(line, " rto={:.3}s", secs(r));
                }
                if let Some(r) = &p.reason {
                    let _ = write!(line, " ({r})");
                }
                line.push('\n');
                out.write_all(line.as_bytes())?;
            }
        }
        Ok(input::Flow::Continue)
    })?;
    if fmt == Format::Json {
        writeln!(out, "{}", summary_json(&an, &st, false))?;
    }
    out.flush()?;
    st.check()
}
