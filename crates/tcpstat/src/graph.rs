//! `graph`: time-sequence (Stevens/tcptrace style), RTT, throughput and window graphs of one
//! connection, and the time-sequence graph of a sliding-window transfer (`--kind sw`: sender and
//! receiver's segments over UDP, see [`crate::swtrace`]), drawn with plotters as SVG, or PNG when
//! the file name ends in `.png`.
//!
//! plotters lays text out with a TrueType font, read from the system (DejaVu Sans or Liberation
//! Sans); without one the graph cannot be labelled and tcpstat says which package to install.

use std::io::Write;
use std::path::Path;

use netproto::frame::TcpFlags;
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use serde_json::json;

use crate::analysis::{Analyzer, CwndSample, Eviction, Phase, RetransKind, af};
use crate::input::{self, Flow as Next};
use crate::swtrace::{self, Transfer};
use crate::{DirArg, Format, GraphArgs, GraphKind};

/// One packet of the connection, as the graphs need it.
#[derive(Clone, Copy, Debug)]
struct Pt {
    t: f64,
    dir: usize,
    /// Relative sequence number and payload length.
    seq: f64,
    len: u32,
    ack: f64,
    has_ack: bool,
    win: f64,
    flags: TcpFlags,
    af: u32,
    rtt_ms: Option<f64>,
    /// ACK → this data (its TSecr echo), ms.
    echo_ms: Option<f64>,
    bif: Option<u32>,
    frame: u64,
    /// A tail-loss probe.
    reason_probe: bool,
}

const FONT_PATHS: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/freefont/FreeSans.ttf",
];

fn register_font() -> anyhow::Result<()> {
    let path = std::env::var("TCPSTAT_FONT")
        .ok()
        .into_iter()
        .chain(FONT_PATHS.iter().map(|s| s.to_string()))
        .find(|p| Path::new(p).is_file())
        .ok_or_else(|| {
            anyhow::anyhow!(
                "no TrueType font to label the graph: install fonts-dejavu-core (apt) or set TCPSTAT_FONT=/path/to/font.ttf"
            )
        })?;
    let bytes = std::fs::read(&path).map_err(|e| anyhow::anyhow!("reading font {path}: {e}"))?;
    // plotters keeps fonts for the life of the process.
    let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
    for style in [
        FontStyle::Normal,
        FontStyle::Bold,
        FontStyle::Italic,
        FontStyle::Oblique,
    ] {
        plotters::style::register_font("sans-serif", style, bytes).map_err(|_| {
            anyhow::anyhow!("{path} is not a usable TrueType font; set TCPSTAT_FONT")
        })?;
    }
    Ok(())
}

pub fn run(
    file: &str,
    n: u32,
    a: &GraphArgs,
    evict: Eviction,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let mut an = Analyzer::evicting(Eviction {
        keep: Some(n),
        ..evict
    })
    .discarding_rows()
    .logging_cwnd(n);
    let mut pts = Vec::new();
    let mut t0 = None;
    let st = input::for_each_tcp(file, |s| {
        let p = an.handle(s);
        if p.conn != n {
            return Ok(Next::Continue);
        }
        let t0 = *t0.get_or_insert(s.ts_ns);
        pts.push(Pt {
            t: (s.ts_ns - t0) as f64 / 1e9,
            dir: p.dir,
            seq: p.rel_seq as f64,
            len: s.payload_len,
            ack: p.rel_ack as f64,
            has_ack: s.flags.ack(),
            win: p.win_scaled as f64,
            flags: s.flags,
            af: p.flags,
            rtt_ms: p.ack_rtt_ns.filter(|_| p.rtt_valid).map(|r| r as f64 / 1e6),
            echo_ms: p.echo_rtt_ns.map(|r| r as f64 / 1e6),
            bif: p.bytes_in_flight,
            frame: s.frame,
            reason_probe: p.retrans == Some(RetransKind::Probe),
        });
        Ok(Next::Continue)
    })?;
    if pts.is_empty() {
        st.check()?;
        return Err(crate::report::no_connection(file, n, an.conns.len()));
    }
    let c = &an.conns[n as usize];
    let d = match a.dir {
        Some(DirArg::Client) => 0,
        Some(DirArg::Server) => 1,
        _ => usize::from(c.flows[1].payload_bytes > c.flows[0].payload_bytes),
    };
    let (from, to) = if d == 0 {
        (c.client, c.server)
    } else {
        (c.server, c.client)
    };
    let title = format!("connection {n}: {from} -> {to}");
    an.finish();
    let (cw, losses) = window_log(&mut an, n, d, &pts);
    save(
        &a.output,
        &TcpGraph {
            kind: a.kind,
            pts: &pts,
            d,
            title: &title,
            cw: &cw,
            losses: &losses,
        },
    )?;
    writeln!(
        out,
        "wrote {} ({:?} graph of {title}, {} packets)",
        a.output,
        a.kind,
        pts.len()
    )?;
    st.check()
}

/// `graph --kind sw`: the sliding-window transfer `conn` (default 0, in order of first
/// segment) of the capture, with one line (or one `graph` record) of counts.
pub fn run_sw(
    file: &str,
    conn: Option<u32>,
    a: &GraphArgs,
    fmt: Format,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let (transfers, skipped, st) = swtrace::read(file, a.port)?;
    if transfers.is_empty() {
        let port = a.port.map_or(String::new(), |p| {
            format!(", {} on other ports than {p}", skipped.other_port)
        });
        let msg = format!(
            "no sliding-window segments in {file}: {} frames, {} not UDP, {} UDP payloads that are not segments{port} (see docs/protocols.md for the format)",
            st.frames, st.not_udp, skipped.not_segment
        );
        return Err(match st.damage {
            Some(m) => netcli::Exit::failure(format!("{m} (after {} frames)", st.frames)),
            None => netcli::Exit::negative(msg),
        }
        .into());
    }
    let n = conn.unwrap_or(0);
    let Some(tr) = transfers.get(n as usize) else {
        return Err(netcli::Exit::negative(
            format!(
                "no transfer {n} in {file} (it has {}, numbered from 0 in order of their first segment)",
                transfers.len()
            ),
        )
        .into());
    };
    if conn.is_none() && transfers.len() > 1 {
        log::warn!(
            "{file} holds {} transfers; drawing transfer 0 ({} -> {}); choose another with --conn N",
            transfers.len(),
            tr.sender,
            tr.receiver
        );
    }
    if tr.unplaced > 0 {
        log::warn!(
            "{} segment(s) of transfer {n} would lie before segment 0 (the capture starts in the middle of the transfer): not drawn",
            tr.unplaced
        );
    }
    let title = format!("transfer {n}: {} -> {}", tr.sender, tr.receiver);
    save(&a.output, &SwGraph { tr, title: &title })?;
    let s = tr.summary();
    if fmt == Format::Json {
        let r = json!({
            "type": "graph",
            "kind": "sw",
            "output": a.output,
            "transfer": n,
            "transfers": transfers.len(),
            "sender": tr.sender.to_string(),
            "receiver": tr.receiver.to_string(),
            "data": s.data,
            "retransmitted": s.retransmitted,
            "acks": s.acks,
            "segments": s.segments,
            "duration_s": s.duration,
        });
        writeln!(out, "{r}")?;
    } else {
        writeln!(
            out,
            "wrote {} (sliding-window graph of {title}, {s})",
            a.output
        )?;
    }
    match st.damage {
        Some(m) => Err(netcli::Exit::failure(format!(
            "{m} (after {} frames; the graph covers them)",
            st.frames
        ))
        .into()),
        None => Ok(()),
    }
}

/// A graph that plotters can draw on any backend.
trait Plot {
    fn plot<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> R<()>
    where
        DB::ErrorType: 'static;
}

/// Draw `p` into `output`: PNG when the name ends in `.png`, SVG otherwise.
fn save(output: &str, p: &impl Plot) -> R<()> {
    register_font()?;
    let png = output.to_ascii_lowercase().ends_with(".png");
    let size = (1200, 720);
    let written = |e| anyhow::anyhow!("writing {output}: {e}");
    if png {
        let root = BitMapBackend::new(output, size).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        p.plot(&root)?;
        root.present().map_err(|e| written(e.to_string()))
    } else {
        let root = SVGBackend::new(output, size).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        p.plot(&root)?;
        root.present().map_err(|e| written(e.to_string()))
    }
}

type R<T> = anyhow::Result<T>;

fn err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow::anyhow!("drawing the graph: {e:?}")
}

fn range(v: impl Iterator<Item = f64>) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for x in v {
        lo = lo.min(x);
        hi = hi.max(x);
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if hi <= lo {
        hi = lo + 1.0;
    }
    (lo, hi)
}

/// One of the graphs of a TCP connection.
struct TcpGraph<'a> {
    kind: GraphKind,
    pts: &'a [Pt],
    /// The data direction drawn.
    d: usize,
    title: &'a str,
    /// The inferred window after each segment the sender sent (time here, sample).
    cw: &'a [(f64, CwndSample)],
    losses: &'a [LossMark],
}

/// The sender's inferred window after each segment it sent, at the segment's time here, and
/// its loss events, from the engine's log of connection `n` (direction `d`).
type WindowLog = (Vec<(f64, CwndSample)>, Vec<LossMark>);

/// A loss event in the graph: its time here, its kind, the window then.
type LossMark = (f64, &'static str, f64);

fn window_log(an: &mut Analyzer, n: u32, d: usize, pts: &[Pt]) -> WindowLog {
    let Some(c) = an.conns.get_mut(n as usize) else {
        return (Vec::new(), Vec::new());
    };
    let at: std::collections::HashMap<u64, f64> = pts.iter().map(|p| (p.frame, p.t)).collect();
    let log = c.flows[d].cwnd.take_log();
    let cw: Vec<(f64, CwndSample)> = log
        .iter()
        .filter(|(_, ev, _)| *ev == "send")
        .filter_map(|(f, _, s)| at.get(f).map(|t| (*t, *s)))
        .collect();
    let window_at = |f: u64| {
        log.iter()
            .find(|(g, ev, _)| *g == f && *ev == "send")
            .map_or(0.0, |(_, _, s)| f64::from(s.cwnd))
    };
    let losses = c.flows[d]
        .cwnd
        .take_events()
        .into_iter()
        .filter_map(|e| at.get(&e.frame).map(|t| (*t, e.kind, window_at(e.frame))))
        .collect();
    (cw, losses)
}

impl Plot for TcpGraph<'_> {
    fn plot<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> R<()>
    where
        DB::ErrorType: 'static,
    {
        let (pts, d, title) = (self.pts, self.d, self.title);
        // Time runs from the first packet (0) to the last, unless a capture's clock went back:
        // then the axis covers every packet (none is drawn off the chart).
        let tmin = pts.iter().map(|p| p.t).fold(0.0, f64::min);
        let tmax = pts
            .iter()
            .map(|p| p.t)
            .reduce(f64::max)
            .unwrap_or(1.0)
            .max(1e-3);
        let t = (tmin, tmax);
        match self.kind {
            GraphKind::Tsg => tsg(root, pts, d, title, t),
            GraphKind::Rtt => rtt(root, pts, d, title, t),
            GraphKind::Tput => tput(root, pts, d, title, t),
            GraphKind::Window => window(root, pts, d, title, t),
            GraphKind::Cwnd => cwnd(root, (pts, self.cw, self.losses), d, title, t),
            GraphKind::Sw => Err(anyhow::anyhow!(
                "--kind sw draws a sliding-window transfer, not a TCP connection"
            )),
        }
    }
}

type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// The frame every graph shares: caption, margins, axes over `tmin..tmax` (plus 2 %) and
/// `ymin..ymax`, `y_area` pixels for the y labels, the axis descriptions `desc` (x, y), and
/// the mesh drawn, with its fine grid only when `fine_grid`, and whole numbers on the y axis
/// when `y_whole`.
fn chart<'a, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, Shift>,
    caption: String,
    y_area: u32,
    ((tmin, tmax), (ymin, ymax)): ((f64, f64), (f64, f64)),
    (x_desc, y_desc): (&str, &str),
    (fine_grid, y_whole): (bool, bool),
) -> R<Chart<'a, DB>>
where
    DB::ErrorType: 'static,
{
    let mut ch = ChartBuilder::on(root)
        .caption(caption, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(y_area)
        .build_cartesian_2d(tmin..tmax * 1.02, ymin..ymax)
        .map_err(err)?;
    let mut mesh = ch.configure_mesh();
    mesh.x_desc(x_desc).y_desc(y_desc);
    let whole = |y: &f64| format!("{y:.0}");
    if y_whole {
        mesh.y_label_formatter(&whole);
    }
    if !fine_grid {
        mesh.light_line_style(WHITE.mix(0.0));
    }
    mesh.draw().map_err(err)?;
    Ok(ch)
}

/// The legend box of the series that have a label, at `position`.
fn legend<'a, DB: DrawingBackend + 'a>(
    ch: &mut Chart<'a, DB>,
    position: SeriesLabelPosition,
) -> R<()>
where
    DB::ErrorType: 'static,
{
    ch.configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(err)
}

const RETRANS: u32 = af::RETRANSMISSION | af::FAST_RETRANSMISSION | af::SPURIOUS_RETRANSMISSION;

fn tsg<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    pts: &[Pt],
    d: usize,
    title: &str,
    t: (f64, f64),
) -> R<()>
where
    DB::ErrorType: 'static,
{
    let data: Vec<&Pt> = pts.iter().filter(|p| p.dir == d).collect();
    let acks: Vec<&Pt> = pts.iter().filter(|p| p.dir != d && p.has_ack).collect();
    let (_, ymax) = range(
        data.iter()
            .map(|p| p.seq + p.len as f64)
            .chain(acks.iter().map(|p| p.ack + p.win)),
    );
    let mut ch = chart(
        root,
        format!("Time-sequence graph — {title}"),
        90,
        (t, (0.0, ymax * 1.05)),
        (
            "time since the first packet (s)",
            "relative sequence number (bytes)",
        ),
        (false, false),
    )?;
    // Advertised window edge and ACK line (steps), from the receiver.
    let mut ackline = Vec::new();
    let mut winline = Vec::new();
    for p in &acks {
        if let Some(&(_, y)) = ackline.last() {
            ackline.push((p.t, y));
        }
        ackline.push((p.t, p.ack));
        if let Some(&(_, y)) = winline.last() {
            winline.push((p.t, y));
        }
        winline.push((p.t, p.ack + p.win));
    }
    let orange = RGBColor(230, 160, 0);
    ch.draw_series(LineSeries::new(winline, orange.stroke_width(1)))
        .map_err(err)?
        .label("advertised window edge (ack + window)")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], orange));
    ch.draw_series(LineSeries::new(ackline, GREEN.stroke_width(1)))
        .map_err(err)?
        .label("ACK")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], GREEN));
    // Segments as I-bars: new data in blue, retransmissions in red.
    let seg = |p: &&Pt| {
        let top = p.seq + p.len.max(1) as f64;
        PathElement::new(
            vec![(p.t, p.seq), (p.t, top)],
            if p.af & RETRANS != 0 {
                RED.stroke_width(2)
            } else {
                BLUE.stroke_width(1)
            },
        )
    };
    ch.draw_series(
        data.iter()
            .filter(|p| p.len > 0 && p.af & RETRANS == 0)
            .map(seg),
    )
    .map_err(err)?
    .label("data segment")
    .legend(|(x, y)| PathElement::new(vec![(x, y - 6), (x, y + 6)], BLUE));
    ch.draw_series(
        data.iter()
            .filter(|p| p.len > 0 && p.af & RETRANS != 0)
            .map(seg),
    )
    .map_err(err)?
    .label("retransmission")
    .legend(|(x, y)| PathElement::new(vec![(x, y - 6), (x, y + 6)], RED.stroke_width(2)));
    let magenta = RGBColor(200, 0, 200);
    ch.draw_series(
        acks.iter()
            .filter(|p| p.af & af::DUPLICATE_ACK != 0)
            .map(|p| Cross::new((p.t, p.ack), 3, magenta)),
    )
    .map_err(err)?
    .label("duplicate ACK")
    .legend(move |(x, y)| Cross::new((x + 10, y), 3, magenta));
    // SYN, FIN, RST marks on both sides' packets.
    let marks: Vec<(f64, f64, &str)> = pts
        .iter()
        .filter_map(|p| {
            let y = if p.dir == d { p.seq } else { p.ack };
            if p.flags.rst() {
                Some((p.t, y, "R"))
            } else if p.flags.syn() && p.dir == d {
                Some((p.t, y, "S"))
            } else if p.flags.fin() && p.dir == d {
                Some((p.t, y + p.len as f64, "F"))
            } else {
                None
            }
        })
        .collect();
    ch.draw_series(marks.iter().map(|&(x, y, s)| {
        EmptyElement::at((x, y))
            + Circle::new((0, 0), 4, BLACK.filled())
            + Text::new(s.to_string(), (6, -16), ("sans-serif", 16))
    }))
    .map_err(err)?;
    legend(&mut ch, SeriesLabelPosition::UpperLeft)
}

fn rtt<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    pts: &[Pt],
    d: usize,
    title: &str,
    t: (f64, f64),
) -> R<()>
where
    DB::ErrorType: 'static,
{
    // The two halves of the round trip either side of the capture point: data → ACK (the
    // receiver's ACKs of direction d's data, Karn's rule) and ACK → the data echoing it (the
    // sender's side); their sum, at each echo with the latest data → ACK, is the path RTT.
    let s: Vec<(f64, f64)> = pts
        .iter()
        .filter(|p| p.dir != d)
        .filter_map(|p| p.rtt_ms.map(|r| (p.t, r)))
        .collect();
    let e: Vec<(f64, f64)> = pts
        .iter()
        .filter(|p| p.dir == d)
        .filter_map(|p| p.echo_ms.map(|r| (p.t, r)))
        .collect();
    let mut path = Vec::new();
    let mut last_d2a = None;
    for p in pts {
        if p.dir != d && p.rtt_ms.is_some() {
            last_d2a = p.rtt_ms;
        }
        if let (true, Some(a2d), Some(d2a)) = (p.dir == d, p.echo_ms, last_d2a) {
            path.push((p.t, a2d + d2a));
        }
    }
    // A clock going back makes negative samples.
    let (ymin, ymax) = range(s.iter().chain(&e).chain(&path).map(|x| x.1));
    let mut ch = chart(
        root,
        format!("RTT either side of the capture point — {title}"),
        70,
        (t, (ymin.min(0.0), ymax.max(0.0) * 1.1)),
        ("time since the first packet (s)", "RTT (ms)"),
        (true, false),
    )?;
    if !path.is_empty() {
        ch.draw_series(LineSeries::new(path.clone(), GREEN.mix(0.6)))
            .map_err(err)?
            .label(format!(
                "path RTT = data→ACK + ACK→data ({} samples)",
                path.len()
            ))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], GREEN));
    }
    ch.draw_series(
        s.iter()
            .map(|&(x, y)| Circle::new((x, y), 3, BLUE.filled())),
    )
    .map_err(err)?
    .label(format!("data→ACK here, Karn ({} samples)", s.len()))
    .legend(|(x, y)| Circle::new((x + 10, y), 3, BLUE.filled()));
    if !e.is_empty() {
        ch.draw_series(e.iter().map(|&(x, y)| Circle::new((x, y), 3, RED.filled())))
            .map_err(err)?
            .label(format!("ACK→data echoing it, TSecr ({} samples)", e.len()))
            .legend(|(x, y)| Circle::new((x + 10, y), 3, RED.filled()));
    }
    legend(&mut ch, SeriesLabelPosition::MiddleRight)
}

fn tput<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    pts: &[Pt],
    d: usize,
    title: &str,
    t: (f64, f64),
) -> R<()>
where
    DB::ErrorType: 'static,
{
    let bins = 100usize;
    let w = t.1 / bins as f64;
    let mut all = vec![0f64; bins + 1];
    let mut good = vec![0f64; bins + 1];
    for p in pts.iter().filter(|p| p.dir == d && p.len > 0) {
        let i = ((p.t / w) as usize).min(bins);
        all[i] += p.len as f64;
        if p.af & RETRANS == 0 {
            good[i] += p.len as f64;
        }
    }
    let to_bps = |v: &[f64]| -> Vec<(f64, f64)> {
        v.iter()
            .enumerate()
            .map(|(i, b)| ((i as f64 + 0.5) * w, b * 8.0 / w / 1e6))
            .collect()
    };
    let (all, good) = (to_bps(&all), to_bps(&good));
    let (_, ymax) = range(all.iter().map(|x| x.1));
    let mut ch = chart(
        root,
        format!("Throughput — {title}"),
        70,
        (t, (0.0, ymax * 1.1)),
        (
            &format!("time since the first packet (s), {:.3} s bins", w),
            "Mbit/s",
        ),
        (true, false),
    )?;
    ch.draw_series(LineSeries::new(all, RED.stroke_width(1)))
        .map_err(err)?
        .label("throughput (all payload)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED));
    ch.draw_series(LineSeries::new(good, BLUE.stroke_width(2)))
        .map_err(err)?
        .label("goodput (without retransmissions)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE.stroke_width(2)));
    legend(&mut ch, SeriesLabelPosition::MiddleRight)
}

fn window<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    pts: &[Pt],
    d: usize,
    title: &str,
    t: (f64, f64),
) -> R<()>
where
    DB::ErrorType: 'static,
{
    let win: Vec<(f64, f64)> = pts
        .iter()
        .filter(|p| p.dir != d)
        .map(|p| (p.t, p.win))
        .collect();
    let bif: Vec<(f64, f64)> = pts
        .iter()
        .filter(|p| p.dir == d)
        .filter_map(|p| p.bif.map(|b| (p.t, b as f64)))
        .collect();
    let zero: Vec<(f64, u64)> = pts
        .iter()
        .filter(|p| p.dir != d && p.af & af::ZERO_WINDOW != 0)
        .map(|p| (p.t, p.frame))
        .collect();
    let (_, ymax) = range(win.iter().chain(bif.iter()).map(|x| x.1));
    let mut ch = chart(
        root,
        format!("Receiver window and bytes in flight — {title}"),
        90,
        (t, (0.0, ymax * 1.1)),
        ("time since the first packet (s)", "bytes"),
        (true, false),
    )?;
    let mut steps = Vec::new();
    for &(t, w) in &win {
        if let Some(&(_, y)) = steps.last() {
            steps.push((t, y));
        }
        steps.push((t, w));
    }
    let orange = RGBColor(230, 160, 0);
    ch.draw_series(LineSeries::new(steps, orange.stroke_width(2)))
        .map_err(err)?
        .label("advertised receive window")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], orange.stroke_width(2)));
    ch.draw_series(
        bif.iter()
            .map(|&(x, y)| Circle::new((x, y), 2, BLUE.filled())),
    )
    .map_err(err)?
    .label("bytes in flight")
    .legend(|(x, y)| Circle::new((x + 10, y), 2, BLUE.filled()));
    ch.draw_series(
        zero.iter()
            .map(|&(x, _)| TriangleMarker::new((x, 0.0), 6, RED.filled())),
    )
    .map_err(err)?
    .label("zero window")
    .legend(|(x, y)| TriangleMarker::new((x + 10, y), 6, RED.filled()));
    legend(&mut ch, SeriesLabelPosition::MiddleRight)
}

/// The inferred congestion window (line), the flight after each segment (dots), ssthresh
/// (dashed), the receiver's window (thin), recoveries shaded and loss events marked: fast
/// (orange triangle), timeout (red cross), probe (purple circle).
fn cwnd<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    (pts, data, losses): (&[Pt], &[(f64, CwndSample)], &[LossMark]),
    d: usize,
    title: &str,
    t: (f64, f64),
) -> R<()>
where
    DB::ErrorType: 'static,
{
    let rwnd: Vec<(f64, f64)> = data
        .iter()
        .filter_map(|(t, c)| c.rwnd.map(|w| (*t, w as f64)))
        .collect();
    let top = data
        .iter()
        .map(|(_, c)| f64::from(c.cwnd.max(c.flight)))
        .fold(1.0, f64::max);
    // The receiver's window only as far as it matters to the picture.
    let ymax = rwnd.iter().map(|x| x.1).fold(top, f64::max).min(top * 2.0);
    let mut ch = chart(
        root,
        format!("Congestion window (inferred) and bytes in flight — {title}"),
        90,
        (t, (0.0, ymax * 1.1)),
        ("time since the first packet (s)", "bytes"),
        (true, false),
    )?;
    let shade = RGBColor(255, 225, 200).mix(0.6);
    let mut spans = Vec::new();
    let mut start = None;
    for (t, c) in data {
        let recovering = matches!(c.phase, Phase::FastRecovery | Phase::RtoRecovery);
        match (recovering, start) {
            (true, None) => start = Some(*t),
            (false, Some(s0)) => {
                spans.push((s0, *t));
                start = None;
            }
            _ => {}
        }
    }
    if let (Some(s0), Some((t1, _))) = (start, data.last()) {
        spans.push((s0, *t1));
    }
    ch.draw_series(
        spans
            .iter()
            .map(|&(a, b)| Rectangle::new([(a, 0.0), (b, ymax * 1.1)], shade.filled())),
    )
    .map_err(err)?
    .label("recovery (fast or after a timeout)")
    .legend(move |(x, y)| Rectangle::new([(x, y - 4), (x + 16, y + 4)], shade.filled()));
    let orange = RGBColor(230, 160, 0);
    ch.draw_series(LineSeries::new(
        rwnd.iter().map(|&(x, w)| (x, w.min(ymax * 1.1))),
        orange.stroke_width(1),
    ))
    .map_err(err)?
    .label("receiver window")
    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], orange.stroke_width(1)));
    let mut steps = Vec::new();
    for (t, c) in data {
        if let Some(&(_, y)) = steps.last() {
            steps.push((*t, y));
        }
        steps.push((*t, f64::from(c.cwnd)));
    }
    ch.draw_series(LineSeries::new(steps, BLUE.stroke_width(2)))
        .map_err(err)?
        .label("congestion window (inferred)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE.stroke_width(2)));
    ch.draw_series(
        data.iter()
            .filter_map(|(t, c)| c.ssthresh.map(|s| (*t, f64::from(s))))
            .map(|(x, y)| Circle::new((x, y), 1, BLACK.filled())),
    )
    .map_err(err)?
    .label("ssthresh")
    .legend(|(x, y)| Circle::new((x + 10, y), 1, BLACK.filled()));
    let green = RGBColor(0, 140, 60);
    ch.draw_series(
        data.iter()
            .map(|(x, c)| Circle::new((*x, f64::from(c.flight)), 2, green.filled())),
    )
    .map_err(err)?
    .label("bytes in flight (the sender's count)")
    .legend(move |(x, y)| Circle::new((x + 10, y), 2, green.filled()));
    let purple = RGBColor(140, 60, 180);
    for (kind, label) in [
        ("fast", "loss event: fast retransmit"),
        ("timeout", "loss event: timeout"),
    ] {
        let at: Vec<(f64, f64)> = losses
            .iter()
            .filter(|l| l.1 == kind)
            .map(|l| (l.0, l.2))
            .collect();
        if at.is_empty() {
            continue;
        }
        if kind == "fast" {
            ch.draw_series(
                at.iter()
                    .map(|&p| TriangleMarker::new(p, 7, orange.filled())),
            )
            .map_err(err)?
            .label(label)
            .legend(move |(x, y)| TriangleMarker::new((x + 10, y), 7, orange.filled()));
        } else {
            ch.draw_series(at.iter().map(|&p| Cross::new(p, 6, RED.stroke_width(2))))
                .map_err(err)?
                .label(label)
                .legend(|(x, y)| Cross::new((x + 10, y), 6, RED.stroke_width(2)));
        }
    }
    let flight_at: std::collections::HashMap<u64, f64> = data
        .iter()
        .map(|(t, c)| (t.to_bits(), f64::from(c.flight)))
        .collect();
    let probes: Vec<(f64, f64)> = pts
        .iter()
        .filter(|p| p.dir == d && p.reason_probe)
        .map(|p| (p.t, flight_at.get(&p.t.to_bits()).copied().unwrap_or(0.0)))
        .collect();
    if !probes.is_empty() {
        ch.draw_series(
            probes
                .iter()
                .map(|&p| Circle::new(p, 5, purple.stroke_width(2))),
        )
        .map_err(err)?
        .label("tail-loss probe")
        .legend(move |(x, y)| Circle::new((x + 10, y), 5, purple.stroke_width(2)));
    }
    legend(&mut ch, SeriesLabelPosition::UpperLeft)
}

/// The time-sequence graph of a sliding-window transfer.
struct SwGraph<'a> {
    tr: &'a Transfer,
    title: &'a str,
}

impl Plot for SwGraph<'_> {
    /// Each DATA at its time and absolute segment number (first transmissions in blue,
    /// retransmissions larger in red), the ACK line (the next expected segment) and the edge of
    /// the receiver's window (ACK + WIN) as steps, like the TCP time-sequence graph.
    fn plot<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> R<()>
    where
        DB::ErrorType: 'static,
    {
        let tr = self.tr;
        let tmax = tr
            .data
            .iter()
            .map(|p| p.t)
            .chain(tr.acks.iter().map(|a| a.t))
            .fold(1e-3, f64::max);
        let (_, ymax) = range(
            tr.data
                .iter()
                .map(|p| p.seg as f64 + 1.0)
                .chain(tr.acks.iter().map(|a| (a.next + u64::from(a.win)) as f64)),
        );
        let window = tr.data.iter().map(|p| p.win).max();
        let caption = match window {
            Some(w) => format!("Sliding-window transfer — {}, window {w}", self.title),
            None => format!("Sliding-window transfer — {}", self.title),
        };
        let mut ch = chart(
            root,
            caption,
            70,
            ((0.0, tmax), (0.0, ymax * 1.05)),
            (
                "time since the first segment (s)",
                "segment number (unwrapped)",
            ),
            (false, true),
        )?;
        let mut ackline = Vec::new();
        let mut winline = Vec::new();
        for a in &tr.acks {
            let (next, edge) = (a.next as f64, (a.next + u64::from(a.win)) as f64);
            if let Some(&(_, y)) = ackline.last() {
                ackline.push((a.t, y));
            }
            ackline.push((a.t, next));
            if let Some(&(_, y)) = winline.last() {
                winline.push((a.t, y));
            }
            winline.push((a.t, edge));
        }
        let orange = RGBColor(230, 160, 0);
        ch.draw_series(LineSeries::new(winline, orange.stroke_width(1)))
            .map_err(err)?
            .label("receiver's window edge (ACK + WIN)")
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], orange));
        ch.draw_series(LineSeries::new(ackline, GREEN.stroke_width(1)))
            .map_err(err)?
            .label("ACK: next expected segment")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], GREEN));
        ch.draw_series(
            tr.data
                .iter()
                .filter(|p| !p.retransmission)
                .map(|p| Circle::new((p.t, p.seg as f64), 2, BLUE.filled())),
        )
        .map_err(err)?
        .label("DATA (first transmission)")
        .legend(|(x, y)| Circle::new((x + 10, y), 2, BLUE.filled()));
        ch.draw_series(
            tr.data
                .iter()
                .filter(|p| p.retransmission)
                .map(|p| Circle::new((p.t, p.seg as f64), 4, RED.filled())),
        )
        .map_err(err)?
        .label("DATA retransmitted")
        .legend(|(x, y)| Circle::new((x + 10, y), 4, RED.filled()));
        legend(&mut ch, SeriesLabelPosition::UpperLeft)
    }
}
