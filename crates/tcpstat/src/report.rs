//! `conns` and `packets`: the connection table and the per-packet analysis lines, as human
//! tables, NDJSON or CSV.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::io::{self, Write};
use std::sync::mpsc;

use netproto::frame::TcpFlags;
use serde_json::{Value, json};

use crate::Format;
use crate::analysis::table::FxHasher;
use crate::analysis::{
    Analyzer, ConnRow, Eviction, FlowRow, Limit, LimitedBy, PacketInfo, RowQueue, RowStore,
    TcpSample, af,
};
use crate::cells::{self, Text};
use crate::input::{self, InputStats};
use crate::jsonrow;
use crate::record::{ConnRecord, LimitedRecord, finite};
use crate::rowpipe::{Item, RowPipe, RowSink};

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

pub fn ms(ns: i64) -> f64 {
    ns as f64 / 1e6
}

/// Delayed-ACK verdict for one side acting as a receiver: `yes`/`no`/`unknown` and its words.
///
/// `timing_here`: the capture was taken next to this side (or where is unknown), so the time
/// from data to a single-segment ACK is this side's ACK delay; elsewhere it includes the path
/// between the capture point and this side, and is not shown as a delay.
pub fn delayed_ack_verdict(f: &FlowRow, timing_here: bool) -> (DelayedAckText, &'static str) {
    let new = f.acks_new;
    if new < 3 {
        return (DelayedAckText::TooFew(new), "unknown");
    }
    let delay = match f.single_ack_delay.avg() {
        Some(d) if timing_here => AckDelay::Here(d),
        Some(_) => AckDelay::NotHere,
        None => AckDelay::None,
    };
    if f.acks_multi as f64 / new as f64 >= 0.25 {
        (DelayedAckText::Yes(f.acks_multi, new, delay), "yes")
    } else {
        (DelayedAckText::No(f.acks_single, new, delay), "no")
    }
}

/// The words of a delayed-ACK verdict: `delayed ACKs: 5 of 9 ACKs cover two or more segments, …`.
#[derive(Clone, Copy, Debug)]
pub enum DelayedAckText {
    /// ACKs of new data: too few.
    TooFew(u64),
    /// ACKs covering several segments, of the ACKs of new data.
    Yes(u64, u64, AckDelay),
    /// ACKs of a single segment, of the ACKs of new data.
    No(u64, u64, AckDelay),
}

/// What the capture says of how long single-segment ACKs waited.
#[derive(Clone, Copy, Debug)]
pub enum AckDelay {
    /// The average (ms), the capture being next to the receiver.
    Here(f64),
    /// Taken elsewhere: data to ACK includes the path.
    NotHere,
    None,
}

impl Text for DelayedAckText {
    fn write_text(&self, out: &mut Vec<u8>) {
        let (n, of, delay, words): (_, _, _, &[u8]) = match *self {
            DelayedAckText::TooFew(n) => {
                out.extend_from_slice(b"too few ACKs to tell (");
                cells::num(out, n);
                out.extend_from_slice(b" ACKs of new data)");
                return;
            }
            DelayedAckText::Yes(n, of, d) => {
                out.extend_from_slice(b"delayed ACKs: ");
                (n, of, d, b" ACKs cover two or more segments")
            }
            DelayedAckText::No(n, of, d) => {
                out.extend_from_slice(b"no delayed ACKs: ");
                (n, of, d, b" ACKs acknowledge a single segment")
            }
        };
        cells::num(out, n);
        out.extend_from_slice(b" of ");
        cells::num(out, of);
        out.extend_from_slice(words);
        match delay {
            AckDelay::Here(d) => {
                out.extend_from_slice(b", single-segment ACKs after ");
                cells::decimal(out, d, 1);
                out.extend_from_slice(b" ms on average");
            }
            AckDelay::NotHere => out.extend_from_slice(
                b" (how long it waits is not visible from this capture point: data to ACK includes the path)",
            ),
            AckDelay::None => {}
        }
    }
}

/// The shares of the sender's time (see `analysis::cwnd`), with the span they cover.
pub fn limited_json(l: &LimitedBy) -> Value {
    serde_json::to_value(LimitedRecord::new(l)).unwrap_or(Value::Null)
}

/// `cwnd 62 %, loss 30 %, ...` (largest first, shares under 0.5 % left out), and the span.
pub fn limited_text(l: &LimitedBy) -> String {
    LimitedText(*l).to_text()
}

/// [`limited_text`] written where it goes.
pub struct LimitedText(pub LimitedBy);

impl Text for LimitedText {
    fn write_text(&self, out: &mut Vec<u8>) {
        let l = &self.0;
        let mut v = Limit::ALL.map(|k| (k, l.share(k)));
        // Stable: equal shares keep Limit::ALL's order.
        v.sort_by(|a, b| b.1.total_cmp(&a.1));
        let mut sep: &[u8] = b"";
        for (k, s) in v.iter().filter(|(_, s)| *s >= 0.005) {
            out.extend_from_slice(sep);
            out.extend_from_slice(k.name().as_bytes());
            out.push(b' ');
            cells::decimal(out, s * 100.0, 0);
            out.extend_from_slice(b" %");
            sep = b", ";
        }
        out.extend_from_slice(b" of the sender's ");
        cells::decimal(out, secs(l.end.saturating_sub(l.start)), 3);
        out.extend_from_slice(b" s (first data to the last ACK)");
    }
}

cells::text_display!(DelayedAckText, LimitedText);

/// A SYN's options as the table words them (`MSS=1460 SACK_PERM …`, `none`, `(no SYN seen)`).
fn opt_text(f: &FlowRow, out: &mut Vec<u8>) {
    match &f.syn_opts {
        None => out.extend_from_slice(b"(no SYN seen)"),
        Some(o) => {
            let at = out.len();
            o.describe(out);
            if out.len() == at {
                out.extend_from_slice(b"none");
            }
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

/// Every TCP packet of `file` through `an` (an engine set up by the caller), `each` called with
/// the packet, its analysis and the engine after it; the engine and the input counts back.
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
/// each row is printed as soon as every connection numbered before it has been (most end in
/// about the order they began), the others held compact until then; with `stream` each is
/// printed as its connection is freed (the rest at the end, in order).
pub fn conns(file: &str, o: &ConnsOpts, fmt: Format, out: &mut impl Write) -> anyhow::Result<()> {
    let an = Analyzer::evicting(Eviction {
        keep: o.only,
        ..o.evict
    });
    // With `--conn N`, N is never evicted: no evicted connection's row is wanted.
    let mut an = match o.only {
        None => an.handing_over(),
        Some(_) => an.discarding_rows(),
    };
    let sink = match o.stream {
        true => Rows::Stream(fmt),
        false => Rows::InOrder(InOrder::new(o.only.unwrap_or(0), fmt)),
    };
    let mut rows = RowPipe::new(sink);
    let wanted = |id: u32| o.only.is_none_or(|n| n == id);
    if o.stream {
        conns_header(fmt, out)?;
    }
    let mut next_tick = i64::MIN;
    let st = input::for_each_tcp_with(file, |s, st| {
        an.handle(s);
        if s.ts_ns >= next_tick {
            next_tick = s.ts_ns.saturating_add(TICK_NS);
            rows.tick(s.ts_ns, out)?;
        }
        if an.has_evicted_conns() {
            // Their rows are made on the worker; the state it is done with comes back.
            let t0 = st.first_ts.unwrap_or(0);
            for c in an.take_evicted_conns() {
                rows.push(Item::Ended(c), t0, s.ts_ns, out)?;
            }
            for c in rows.take_freed() {
                an.recycle(c);
            }
        }
        Ok(input::Flow::Continue)
    })?;
    an.finish();
    let t0 = st.first_ts.unwrap_or(0);
    for row in an.conns.iter().filter(|c| wanted(c.id)).map(ConnRow::new) {
        rows.push(Item::Row(Box::new(row)), t0, st.last_ts, out)?;
    }
    if let Rows::InOrder(mut held) = rows.finish(out)? {
        held.finish(an.conns.len(), t0, out)?;
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

/// How often (capture time) `conns` lets the row worker's output out between batches.
const TICK_NS: i64 = 1_000_000;

/// What becomes of `conns`' rows (on the row formatter's core): printed as they come
/// (`--stream`), or in connection order.
enum Rows {
    Stream(Format),
    InOrder(InOrder),
}

impl RowSink for Rows {
    fn row(&mut self, row: &ConnRow, t0: i64, out: &mut Vec<u8>) -> io::Result<()> {
        match self {
            Rows::Stream(fmt) => {
                conns_row(row, t0, *fmt, out);
                Ok(())
            }
            Rows::InOrder(rows) => rows.push(row, t0, out),
        }
    }
}

/// `conns`' rows in connection order: each printed as soon as every earlier one has been;
/// the lines of rows that came early wait as text (up to [`HELD_LINES`]), beyond that their
/// rows wait encoded (memory follows the connections that ended out of order, not all of
/// them). The human table keeps every row for its detail blocks, and reads such a row back
/// from there.
struct InOrder {
    fmt: Format,
    /// The next row to print.
    next: u32,
    held: RowQueue,
    /// Every row, for the detail blocks printed after the table (human format).
    all: Option<RowStore>,
    /// The human table's lines of rows that came before their turn.
    lines: HashMap<u32, Vec<u8>, BuildHasherDefault<FxHasher>>,
    /// Buffers of lines printed, for the next lines held (up to [`SPARE_LINES`]): on a
    /// scan's capture most rows come a little early, and a buffer allocated, shrunk and
    /// freed for each was a fifth of the row worker's instructions.
    spare: Vec<Vec<u8>>,
    header_done: bool,
}

/// Lines held as text at most (a table line ~170 bytes in a 256-byte buffer, a JSON record
/// ~1.3 KB in 2 KiB: 8 MiB at most): connections end a little out of the order they began
/// in, a few hundred rows early on a busy server's capture, and reading such a row back cost
/// more than making its line.
const HELD_LINES: usize = 4096;
/// Buffers of printed lines kept for reuse (at most ~0.5 MiB of JSON records).
const SPARE_LINES: usize = 256;

impl InOrder {
    fn new(first: u32, fmt: Format) -> InOrder {
        InOrder {
            fmt,
            next: first,
            held: RowQueue::default(),
            all: (fmt == Format::Human).then(RowStore::default),
            lines: HashMap::default(),
            spare: Vec::new(),
            header_done: false,
        }
    }

    fn push(&mut self, row: &ConnRow, t0: i64, out: &mut Vec<u8>) -> io::Result<()> {
        if let Some(all) = &mut self.all {
            all.insert(row);
        }
        if row.id != self.next {
            if self.lines.len() < HELD_LINES {
                // Room for the line at once (a table line is ~170 bytes, a record ~1.3 KB).
                let mut line = self.spare.pop().unwrap_or_else(|| {
                    Vec::with_capacity(match self.fmt {
                        Format::Human => 256,
                        Format::Json | Format::Csv => 2048,
                    })
                });
                conns_row(row, t0, self.fmt, &mut line);
                self.lines.insert(row.id, line);
            } else if self.all.is_none() {
                self.held.insert(row);
            }
            return Ok(());
        }
        self.emit(row, t0, out)?;
        self.next += 1;
        while self.emit_held(self.next, t0, out)? {
            self.next += 1;
        }
        Ok(())
    }

    /// Print row `id` if it came before its turn (its line, or the row from where it is
    /// kept); whether it had.
    fn emit_held(&mut self, id: u32, t0: i64, out: &mut Vec<u8>) -> io::Result<bool> {
        if let Some(mut line) = self.lines.remove(&id) {
            self.header(out)?;
            out.extend_from_slice(&line);
            if self.spare.len() < SPARE_LINES {
                line.clear();
                self.spare.push(line);
            }
            return Ok(true);
        }
        let row = match &self.all {
            Some(all) => all.get(id),
            None => self.held.take(id),
        };
        match row {
            Some(r) => self.emit(&r, t0, out).map(|_| true),
            None => Ok(false),
        }
    }

    fn emit(&mut self, row: &ConnRow, t0: i64, out: &mut Vec<u8>) -> io::Result<()> {
        self.header(out)?;
        conns_row(row, t0, self.fmt, out);
        Ok(())
    }

    /// The table's header, before the first row (or at the end when there is none).
    fn header(&mut self, out: &mut impl Write) -> io::Result<()> {
        if !self.header_done {
            conns_header(self.fmt, out)?;
            self.header_done = true;
        }
        Ok(())
    }

    /// Every row is in: the held ones in order (of `count` connections), then the detail
    /// blocks.
    fn finish(&mut self, count: usize, t0: i64, out: &mut impl Write) -> io::Result<()> {
        let mut text = Vec::new();
        self.header(&mut text)?;
        for id in self.next..count as u32 {
            self.emit_held(id, t0, &mut text)?;
            if text.len() >= 1 << 16 {
                out.write_all(&text)?;
                text.clear();
            }
        }
        out.write_all(&text)?;
        match &self.all {
            Some(all) => human_details(all, t0, out),
            None => Ok(()),
        }
    }
}

/// Rows per chunk of detail blocks formatted at once (about 0.4 MB of text).
const DETAIL_CHUNK: u32 = 512;

/// Every stored row's detail block, in connection order. On a capture of many connections
/// this is most of the output (about 800 bytes a connection), so chunks are formatted two
/// at a time, one here and one on a helper thread (started once: a thread a chunk cost more
/// than handing it a chunk), and written in order.
fn human_details(all: &RowStore, t0: i64, out: &mut impl Write) -> io::Result<()> {
    let n = all.ids();
    let chunk = |from: u32| from..from.saturating_add(DETAIL_CHUNK).min(n);
    let format = |ids: std::ops::Range<u32>, text: &mut Vec<u8>| {
        text.clear();
        for row in ids.filter_map(|id| all.get(id)) {
            human_detail(&row, t0, text);
        }
    };
    if n <= DETAIL_CHUNK {
        // A few connections: no second thread.
        let mut text = Vec::new();
        format(0..n, &mut text);
        return out.write_all(&text);
    }
    // Two buffers, made here and reused: a fresh one each time costs its page faults.
    let room = DETAIL_CHUNK as usize * 1024;
    let (mut mine, mut theirs) = (Vec::with_capacity(room), Vec::with_capacity(room));
    std::thread::scope(|scope| {
        let (give, jobs) = mpsc::sync_channel::<(std::ops::Range<u32>, Vec<u8>)>(1);
        let (put, done) = mpsc::sync_channel(1);
        let helper = scope.spawn(move || {
            for (ids, mut text) in jobs {
                format(ids, &mut text);
                if put.send(text).is_err() {
                    break;
                }
            }
        });
        let mut from = 0;
        while from < n {
            let a = chunk(from);
            let b = chunk(a.end);
            from = b.end;
            let helped = !b.is_empty() && give.send((b, std::mem::take(&mut theirs))).is_ok();
            format(a, &mut mine);
            out.write_all(&mine)?;
            if helped {
                theirs = done
                    .recv()
                    .map_err(|_| io::Error::other("the detail formatter stopped"))?;
                out.write_all(&theirs)?;
            }
        }
        // The helper's loop ends with the channel (also on an early return).
        drop(give);
        helper
            .join()
            .map_err(|_| io::Error::other("a detail formatter panicked"))
    })
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
pub fn conns_row(c: &ConnRow, t0: i64, fmt: Format, out: &mut Vec<u8>) {
    match fmt {
        Format::Json => {
            jsonrow::write(&ConnRecord::new(c, t0), out);
            out.push(b'\n');
        }
        Format::Csv => csv_row(c, t0, out),
        Format::Human => human_row(c, t0, out),
    }
}

/// The human table's row: `{:>3} {:<26} {:<26} {:>9.3} {:>9.3} {:>11} {:>15} {:>15} {:<6} {}`
/// of the number, the endpoints, start and duration in seconds, packets, bytes and payload
/// (`a/b`), the state's code and words; written cell by cell ([`cells`]).
fn human_row(c: &ConnRow, t0: i64, out: &mut Vec<u8>) {
    let [a, b] = &c.flows;
    let (code, words) = c.state();
    cells::right(out, itoa::Buffer::new().format(c.id).as_bytes(), 3);
    out.push(b' ');
    cells::addr(out, c.client, 26);
    out.push(b' ');
    cells::addr(out, c.server, 26);
    out.push(b' ');
    cells::fixed(out, secs(c.first_ts - t0), 3, 9);
    out.push(b' ');
    cells::fixed(out, secs(c.last_ts - c.first_ts), 3, 9);
    out.push(b' ');
    cells::pair(out, a.packets, b.packets, 11);
    out.push(b' ');
    cells::pair(out, a.bytes, b.bytes, 15);
    out.push(b' ');
    cells::pair(out, a.payload_bytes, b.payload_bytes, 15);
    out.push(b' ');
    cells::left(out, code.as_bytes(), 6);
    out.push(b' ');
    out.extend_from_slice(words.as_bytes());
    out.push(b'\n');
}

fn csv_row(c: &ConnRow, t0: i64, out: &mut Vec<u8>) {
    let r = ConnRecord::new(c, t0);
    let [a, b] = &c.flows;
    let f = |x: Option<f64>| finite(x).map(|x| format!("{x:.3}")).unwrap_or_default();
    let isn = |v: Option<u32>| v.map(|v| v.to_string()).unwrap_or_default();
    // Writing to a Vec never fails.
    let _ = writeln!(
        out,
        "{},{},{},{:.6},{:.6},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{:.0},{:.0}",
        c.id,
        c.client,
        c.server,
        r.rel_start,
        r.duration,
        a.packets,
        b.packets,
        a.bytes,
        b.bytes,
        a.payload_bytes,
        b.payload_bytes,
        csv_field(r.state),
        csv_field(r.state_text),
        isn(a.isn),
        isn(b.isn),
        csv_field(&cells::text_of(|out| opt_text(a, out))),
        csv_field(&cells::text_of(|out| opt_text(b, out))),
        r.retransmissions,
        r.fast_retransmissions,
        r.timeout_retransmissions,
        r.spurious_retransmissions,
        r.dup_acks,
        r.out_of_order,
        r.zero_window,
        f(r.rtt_ms.min),
        f(r.rtt_ms.avg),
        f(r.rtt_ms.max),
        f(r.handshake_rtt_ms),
        csv_field(r.delayed_ack.client),
        csv_field(r.delayed_ack.server),
        r.goodput_bps[0],
        r.goodput_bps[1],
    );
}

/// The human table's block for one connection, after the table. Written piece by piece (200 000 blocks on a busy server's
/// capture): integers with itoa, floats with [`cells::fixed`]; only the texts the analysis
/// words (vantage, delayed ACK, what limited the sender) are formatted elsewhere.
fn human_detail(c: &ConnRow, t0: i64, out: &mut Vec<u8>) {
    let r = ConnRecord::new(c, t0);
    detail_head(c, out);
    detail_counts(c, &r, out);
    detail_timing(c, &r, out);
    out.extend_from_slice(b"  delayed ACK client ");
    r.delayed_ack.client_text.write_text(out);
    out.extend_from_slice(b"\n             server ");
    r.delayed_ack.server_text.write_text(out);
    out.extend_from_slice(b"\n  goodput    c>s ");
    cells::fixed(out, r.goodput_bps[0], 0, 0);
    out.extend_from_slice(b" bit/s  s>c ");
    cells::fixed(out, r.goodput_bps[1], 0, 0);
    out.extend_from_slice(b" bit/s\n");
}

/// The block's first lines: the connection, its ISNs and SYN options.
fn detail_head(c: &ConnRow, out: &mut Vec<u8>) {
    let [a, b] = &c.flows;
    out.extend_from_slice(b"\nconnection ");
    cells::num(out, c.id);
    out.extend_from_slice(b": ");
    cells::addr(out, c.client, 0);
    out.extend_from_slice(b" -> ");
    cells::addr(out, c.server, 0);
    let isn = |out: &mut Vec<u8>, v: Option<u32>| match v {
        Some(v) => cells::num(out, v),
        None => out.push(b'-'),
    };
    out.extend_from_slice(b"\n  ISN        client ");
    isn(out, a.isn);
    out.extend_from_slice(b"  server ");
    isn(out, b.isn);
    out.extend_from_slice(b"\n  options    client ");
    opt_text(a, out);
    out.extend_from_slice(b"\n             server ");
    opt_text(b, out);
}

/// Retransmissions by kind and side, duplicate ACKs and the other anomalies.
fn detail_counts(c: &ConnRow, r: &ConnRecord, out: &mut Vec<u8>) {
    let [a, b] = &c.flows;
    let counts = [
        r.retransmissions,
        r.fast_retransmissions,
        r.timeout_retransmissions,
        r.probe_retransmissions,
        r.spurious_retransmissions,
        a.retrans,
        b.retrans,
        r.dup_acks,
        r.out_of_order,
        r.lost_segments,
        r.zero_window,
    ];
    if counts == [0; 11] {
        // Most connections: the lines with every count 0, written at once.
        out.extend_from_slice(NOTHING_COUNTED);
    } else {
        write_counts(counts, out);
    }
}

/// The counts' lines: each count after its label.
fn write_counts(counts: [u64; 11], out: &mut Vec<u8>) {
    const LABELS: [&[u8]; 11] = [
        b"\n  retrans    ",
        b" (fast ",
        b", timeout ",
        b", probe ",
        b", spurious ",
        b"); client ",
        b" server ",
        b"\n  dup ACKs   ",
        b"  out-of-order ",
        b"  not captured ",
        b"  zero-window ",
    ];
    for (text, n) in LABELS.into_iter().zip(counts) {
        out.extend_from_slice(text);
        cells::num(out, n);
    }
}

/// [`write_counts`] of zeros (a test checks that it is).
const NOTHING_COUNTED: &[u8] = b"\n  retrans    0 (fast 0, timeout 0, probe 0, spurious 0); client 0 server 0\n  dup ACKs   0  out-of-order 0  not captured 0  zero-window 0";

/// RTTs, where the capture was taken, the path RTT and what limited the sender.
fn detail_timing(c: &ConnRow, r: &ConnRecord, out: &mut Vec<u8>) {
    let [a, b] = &c.flows;
    let rtt: [(&[u8], Option<f64>); 3] = [
        (b"\n  RTT ms     min ", r.rtt_ms.min),
        (b" avg ", r.rtt_ms.avg),
        (b" max ", r.rtt_ms.max),
    ];
    for (text, v) in rtt {
        out.extend_from_slice(text);
        fx(out, v);
    }
    out.extend_from_slice(b" (Karn, ");
    cells::num(out, a.rtt.n + b.rtt.n);
    out.extend_from_slice(b" samples); handshake ");
    fx(out, r.handshake_rtt_ms);
    out.extend_from_slice(b"\n  vantage    ");
    r.vantage_evidence.write_text(out);
    out.push(b'\n');
    if let Some(p) = finite(r.path_rtt_ms) {
        out.extend_from_slice(b"  path RTT   ");
        cells::fixed(out, p, 3, 0);
        out.extend_from_slice(" ms = data→ACK ".as_bytes());
        fx(out, r.data_to_ack_ms);
        out.extend_from_slice(" + ACK→next data ".as_bytes());
        fx(out, r.ack_to_data_ms);
        out.extend_from_slice(b" ms at the capture point (");
        out.extend_from_slice(r.data_dir.as_bytes());
        out.extend_from_slice(b" data, medians)\n");
    }
    if let Some(l) = c.limited {
        out.extend_from_slice(b"  limited by ");
        LimitedText(l).write_text(out);
        out.push(b'\n');
    }
}

/// Milliseconds to three places, or `-` (none, or not finite).
fn fx(out: &mut Vec<u8>, v: Option<f64>) {
    match finite(v) {
        Some(x) => cells::fixed(out, x, 3, 0),
        None => out.push(b'-'),
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rowpipe::tests::syns;

    #[test]
    fn delayed_ack_verdicts_are_worded_with_their_figures() {
        let words = |t: DelayedAckText| t.to_string();
        assert_eq!(
            words(DelayedAckText::TooFew(2)),
            "too few ACKs to tell (2 ACKs of new data)"
        );
        // 40.25 is a tie at one place: rounded to even, as `{:.1}` rounds it.
        assert_eq!(
            words(DelayedAckText::Yes(5, 9, AckDelay::Here(40.25))),
            "delayed ACKs: 5 of 9 ACKs cover two or more segments, single-segment ACKs after 40.2 ms on average"
        );
        assert_eq!(
            words(DelayedAckText::No(7, 9, AckDelay::NotHere)),
            "no delayed ACKs: 7 of 9 ACKs acknowledge a single segment (how long it waits is not visible from this capture point: data to ACK includes the path)"
        );
        assert_eq!(
            words(DelayedAckText::No(3, 3, AckDelay::None)),
            "no delayed ACKs: 3 of 3 ACKs acknowledge a single segment"
        );
        for d in [0.05, 0.15, 1.25, 39.95, 199.999, 1e6 + 0.45] {
            assert!(
                words(DelayedAckText::Yes(1, 1, AckDelay::Here(d)))
                    .ends_with(&format!(", single-segment ACKs after {d:.1} ms on average")),
                "{d}"
            );
        }
    }

    #[test]
    fn rows_that_come_early_print_in_order_as_lines_or_read_back_from_the_store() {
        // More early rows than are held as lines: the last HELD_LINES wait as text, the others
        // wait encoded (or, for the human table, in its store); either way the output is that
        // of rows in order, in every format.
        let n = (HELD_LINES + 300) as u16;
        let mut an = Analyzer::evicting(Eviction::default());
        syns(&mut an, n, 1000, |_| {});
        let rows: Vec<ConnRow> = an.conns.iter().map(ConnRow::new).collect();
        for fmt in [Format::Human, Format::Json, Format::Csv] {
            let table = |order: &mut dyn Iterator<Item = &ConnRow>| {
                let mut t = InOrder::new(0, fmt);
                let (mut out, mut early) = (Vec::new(), 0);
                for r in order {
                    t.push(r, 5, &mut out).unwrap();
                    early = early.max(t.lines.len());
                }
                t.finish(rows.len(), 5, &mut out).unwrap();
                (String::from_utf8(out).unwrap(), early)
            };
            let (want, _) = table(&mut rows.iter());
            // Row 0 last: every other row comes before its turn.
            let (got, early) = table(&mut rows.iter().skip(1).chain(&rows[..1]));
            assert_eq!(early, HELD_LINES);
            assert_eq!(got, want, "{fmt:?}");
            let records = match fmt {
                Format::Human => want.matches("\nconnection ").count(),
                Format::Json => want.matches("\"type\":\"connection\"").count(),
                Format::Csv => want.lines().count() - 1,
            };
            assert_eq!(records, rows.len(), "{fmt:?}");
        }
    }

    #[test]
    fn the_counts_all_zero_are_written_as_they_would_be_one_by_one() {
        let mut v = Vec::new();
        write_counts([0; 11], &mut v);
        assert_eq!(v, NOTHING_COUNTED);
    }

    #[test]
    fn detail_blocks_formatted_on_two_cores_are_the_blocks_one_after_another() {
        // Across several chunks, with connections missing (freed without a row) and the rows
        // stored last first: the blocks come out in connection order all the same.
        let n = 2 * DETAIL_CHUNK as u16 + 37;
        let mut an = Analyzer::evicting(Eviction::default());
        syns(&mut an, n, 1000, |_| {});
        let rows: Vec<ConnRow> = an
            .conns
            .iter()
            .filter(|c| c.id % 7 != 3)
            .map(ConnRow::new)
            .collect();
        let mut want = Vec::new();
        for r in &rows {
            human_detail(r, 5, &mut want);
        }
        let mut store = RowStore::default();
        for r in rows.iter().rev() {
            store.insert(r);
        }
        let mut got = Vec::new();
        human_details(&store, 5, &mut got).unwrap();
        assert_eq!(
            String::from_utf8(got).unwrap(),
            String::from_utf8(want).unwrap()
        );
        assert_eq!(
            rows.len(),
            n as usize - (n as usize + 3) / 7,
            "the filter left gaps"
        );
    }
}
