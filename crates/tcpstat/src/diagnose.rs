//! `diagnose`: who is slow — the network, the application or the capture — in plain words,
//! each finding with the frames that prove it.
//!
//! Network: retransmissions (fast or after a timeout), RTO stalls, RTT inflation.
//! Application: a receiver that keeps its window closed (it does not read), a peer that takes
//! far longer than an RTT to answer a request, idle gaps with nothing outstanding.
//! Capture: segments larger than the MSS (offloads), one direction missing, acknowledged data
//! the capture never saw, snapshot-length truncation.

use std::collections::HashMap;
use std::io::Write;

use serde_json::json;

use crate::Format;
use crate::analysis::{Analyzer, Conn, Eviction, Limit, PacketInfo, Place, RetransKind, af};
use crate::input::{self, Flow as Next};
use crate::report::limited_text;

const MAX_EVIDENCE: usize = 12;

#[derive(Clone, Debug)]
pub struct Finding {
    pub conn: Option<u32>,
    pub culprit: &'static str,
    /// What limited the transfer, in one word: `random_loss`, `congestion_loss`,
    /// `receiver_window`, `application`, `congestion_window` or `none` (not a limit: a
    /// capture defect, spurious retransmissions).
    pub cause: &'static str,
    /// Seconds of the connection this explains (to rank findings).
    pub weight: f64,
    pub text: String,
    pub frames: Vec<u64>,
}

#[derive(Default)]
struct Evidence {
    /// Per side: when its zero window began (ts, frame), total time closed, frames.
    zw_since: [Option<(i64, u64)>; 2],
    zw_total: [i64; 2],
    zw_count: [u64; 2],
    zw_frames: [Vec<u64>; 2],
    reopen_frames: [Vec<u64>; 2],
    probes: [u64; 2],
    /// Nothing was outstanding after the previous packet of this connection.
    quiet: bool,
    idle: Vec<(i64, u64, u64)>,
    /// Last request byte from side d while the other side had nothing outstanding.
    request: [Option<(i64, u64)>; 2],
    think: [Vec<(i64, u64, u64)>; 2],
    fast: Vec<u64>,
    timeout: Vec<(u64, i64)>,
    tlps: Vec<u64>,
    /// Per sending direction: the latest data → ACK and ACK → data times at the capture
    /// point (ns), the smallest path RTT they summed to, and the path RTT when each loss was
    /// repaired (ms): the queue the losses happened behind.
    d2a: [Option<i64>; 2],
    a2d: [Option<i64>; 2],
    a2d_at: [i64; 2],
    path_min: [Option<f64>; 2],
    /// The path RTT samples of the last moments (capture time, ms), per sending direction.
    recent: [std::collections::VecDeque<(i64, f64)>; 2],
    /// At each loss event: the highest path RTT in the round trip before it (ms).
    loss_rtt: [Vec<f64>; 2],
    /// Per sending direction and `Limit`: frames sent in that state.
    limit_frames: [[Vec<u64>; 5]; 2],
    spurious: Vec<u64>,
    giant: Vec<(u64, u32)>,
    ack_lost: Vec<u64>,
    lost: Vec<u64>,
    rtt_first: Vec<f64>,
    rtt_last: Vec<(f64, u64)>,
    last_ts: i64,
    last_frame: u64,
}

impl Evidence {
    /// The path RTT either side of the capture point, per sending direction, and its value
    /// at each loss repaired.
    fn track_path(&mut self, d: usize, p: &PacketInfo, timestamps: bool) {
        if p.rtt_valid {
            self.d2a[1 - d] = p.ack_rtt_ns;
        }
        if p.echo_rtt_ns.is_some() {
            self.a2d[d] = p.echo_rtt_ns;
            self.a2d_at[d] = p.ts_ns;
        }
        let mut now_path = [None; 2];
        for x in [d, 1 - d] {
            // With timestamps the path is both halves; only one half is no path at all.
            if timestamps && self.a2d[x].is_none() {
                continue;
            }
            if let Some(d2a) = self.d2a[x] {
                let path = d2a.saturating_add(self.a2d[x].unwrap_or(0)) as f64 / 1e6;
                let m = self.path_min[x].get_or_insert(path);
                *m = m.min(path);
                now_path[x] = Some(path);
            }
        }
        if let Some(path) = now_path[d] {
            let recent = &mut self.recent[d];
            if recent.len() == 256 {
                recent.pop_front();
            }
            recent.push_back((p.ts_ns, path));
        }
        // At the start of each loss event: the highest path RTT over the round trip before it
        // — the queue the lost segment met (by the time a capture next to the receiver sees
        // the resend, the sender has cut its window and the queue drains) — its halves fresh
        // (an ACK → data time from before a pause says nothing of the queue now).
        if p.loss_event
            && let Some(min) = self.path_min[d]
            && (!timestamps || p.ts_ns.saturating_sub(self.a2d_at[d]) <= (2.0 * min * 1e6) as i64)
            && self.loss_rtt[d].len() < 4096
        {
            let since = p.ts_ns.saturating_sub((1.5 * min * 1e6) as i64);
            let peak = self.recent[d]
                .iter()
                .filter(|(t, _)| *t >= since)
                .map(|x| x.1)
                .fold(f64::NAN, f64::max);
            if peak.is_finite() {
                self.loss_rtt[d].push(peak);
            }
        }
    }

    /// Median queueing delay at the loss events of direction `d` (path RTT then, less its
    /// minimum) and that minimum (ms).
    fn queue_at_losses(&self, d: usize) -> Option<(f64, f64)> {
        let min = self.path_min[d]?;
        let v = sorted(self.loss_rtt[d].iter().copied());
        Some((*v.get(v.len() / 2)? - min, min))
    }

    /// Random losses strike whatever the queue holds; a drop-tail queue drops when it is
    /// full, so congestion losses come again and again at the same queue, never at an empty
    /// one. Congestion when the loss events after the first (often slow start's overshoot)
    /// are two or more, their median queue at least a tenth of the minimum RTT (and 5 ms), and
    /// two in three of them within 30 % of that queue of the median — or none of them below
    /// half of it (a few events read at different points of a full queue: random losses
    /// would have struck some at an empty one).
    fn loss_cause(&self, d: usize) -> &'static str {
        let (Some(min), Some(rest)) = (self.path_min[d], self.loss_rtt[d].get(1..)) else {
            return "random_loss";
        };
        if rest.len() < 2 {
            return "random_loss";
        }
        let v = sorted(rest.iter().copied());
        let median = v[v.len() / 2];
        let q = median - min;
        let alike = v.iter().filter(|p| (*p - median).abs() <= 0.3 * q).count();
        let never_empty = v[0] - min >= 0.5 * q;
        if q >= (0.1 * min).max(5.0) && (3 * alike >= 2 * v.len() || never_empty) {
            "congestion_loss"
        } else {
            "random_loss"
        }
    }
}

fn sorted(v: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut v: Vec<f64> = v.collect();
    v.sort_by(f64::total_cmp);
    v
}

fn push<T>(v: &mut Vec<T>, x: T) {
    if v.len() < MAX_EVIDENCE * 4 {
        v.push(x);
    }
}

fn frames_of(v: &[u64]) -> Vec<u64> {
    v.iter().copied().take(MAX_EVIDENCE).collect()
}

fn list(v: &[u64]) -> String {
    let s: Vec<String> = v.iter().take(MAX_EVIDENCE).map(u64::to_string).collect();
    if v.len() > MAX_EVIDENCE {
        format!("{}, …", s.join(", "))
    } else {
        s.join(", ")
    }
}

fn side(c: &Conn, d: usize) -> String {
    if d == 0 {
        format!("client {}", c.client)
    } else {
        format!("server {}", c.server)
    }
}

/// The limit that held the sender most: its culprit, cause, share, the `Limit`s it sums and
/// the words for it.
fn main_limit(
    l: &crate::analysis::LimitedBy,
    loss_cause: &'static str,
    e: &Evidence,
) -> (&'static str, &'static str, f64, Vec<Limit>, &'static str) {
    let net = l.share(Limit::Cwnd) + l.share(Limit::Loss);
    let rwnd = l.share(Limit::Rwnd);
    let app = l.share(Limit::App) + l.share(Limit::Sender);
    if rwnd >= net && rwnd >= app {
        return (
            "application",
            "receiver_window",
            rwnd,
            vec![Limit::Rwnd],
            "the receiver's window (the receiving application reads more slowly than the network delivers)",
        );
    }
    if app >= net {
        return (
            "application",
            "application",
            app,
            vec![Limit::App, Limit::Sender],
            "the sending application (it had nothing more to send, or wrote it slowly)",
        );
    }
    let losses = !e.fast.is_empty() || !e.timeout.is_empty();
    if losses && l.share(Limit::Loss) >= 0.05 {
        let what = if loss_cause == "congestion_loss" {
            "the network: congestion losses at a full queue and the window they cut"
        } else {
            "the network: random losses and the window they cut"
        };
        return (
            "network",
            loss_cause,
            net,
            vec![Limit::Loss, Limit::Cwnd],
            what,
        );
    }
    (
        "network",
        "congestion_window",
        net,
        vec![Limit::Cwnd],
        "the congestion window (the round trip and the window's growth set the pace)",
    )
}

/// Sum of durations (ns), saturating: crafted timestamps make single gaps of a century.
fn sum_ns(v: impl Iterator<Item = i64>) -> i64 {
    v.fold(0, i64::saturating_add)
}

/// Run the analysis and collect findings for every connection (or only `only`).
pub fn findings(
    file: &str,
    only: Option<u32>,
    evict: Eviction,
) -> anyhow::Result<(Vec<Finding>, Analyzer, input::InputStats)> {
    // Every connection's state is read at the end: connections end as elsewhere (the same
    // numbers), their state stays.
    let mut an = Analyzer::evicting(Eviction {
        retain: true,
        ..evict
    });
    let mut ev: HashMap<u32, Evidence> = HashMap::new();
    let stats = input::for_each_tcp(file, |s| {
        let p = an.handle(s);
        if only.is_some_and(|n| n != p.conn) {
            return Ok(Next::Continue);
        }
        let c = &an.conns[p.conn as usize];
        let e = ev.entry(p.conn).or_default();
        let d = p.dir;
        let now = s.ts_ns;
        let rtt = c.irtt_ns.unwrap_or(0).max(1_000_000);
        // Idle gap with nothing outstanding and no window closed.
        if e.last_frame != 0 {
            let gap = now - e.last_ts;
            if e.quiet && gap > rtt.saturating_mul(20).max(1_000_000_000) {
                push(&mut e.idle, (gap, e.last_frame, s.frame));
            }
        }
        // Zero windows and how long they stay closed.
        if p.flags & af::ZERO_WINDOW != 0 {
            e.zw_count[d] += 1;
            push(&mut e.zw_frames[d], s.frame);
            e.zw_since[d].get_or_insert((now, s.frame));
        } else if s.win > 0 {
            if let Some((t, _)) = e.zw_since[d].take() {
                e.zw_total[d] = e.zw_total[d].saturating_add(now - t);
                push(&mut e.reopen_frames[d], s.frame);
            }
        }
        // Linux probes a closed window with seq-1 (Wireshark calls them keep-alives).
        if p.flags & (af::KEEP_ALIVE | af::ZERO_WINDOW_PROBE) != 0 && e.zw_since[1 - d].is_some() {
            e.probes[d] += 1;
        }
        // Request/response think time.
        if s.payload_len > 0 && p.retrans.is_none() {
            if let Some((t, f)) = e.request[1 - d].take() {
                push(&mut e.think[1 - d], (now - t, f, s.frame));
            }
            if !c.flows[1 - d].has_unacked() {
                e.request[d] = Some((now, s.frame));
            } else {
                e.request[d] = None;
            }
        }
        match p.retrans {
            Some(RetransKind::Fast) => push(&mut e.fast, s.frame),
            Some(RetransKind::Timeout) => push(&mut e.timeout, (s.frame, p.rto_ns.unwrap_or(0))),
            Some(RetransKind::Spurious) => push(&mut e.spurious, s.frame),
            Some(RetransKind::Probe) => push(&mut e.tlps, s.frame),
            None => {}
        }
        e.track_path(d, &p, s.options.summary().timestamp.is_some());
        if let Some(l) = p.limited {
            push(&mut e.limit_frames[d][l as usize], s.frame);
        }
        let mss = c.flows[1 - d]
            .syn_opts
            .and_then(|o| o.summary().mss)
            .unwrap_or(1460) as u32;
        if s.payload_len > mss.max(536) + 12 {
            push(&mut e.giant, (s.frame, s.payload_len));
        }
        if p.flags & af::ACK_LOST_SEGMENT != 0 {
            push(&mut e.ack_lost, s.frame);
        }
        if p.flags & af::LOST_SEGMENT != 0 {
            push(&mut e.lost, s.frame);
        }
        if let (Some(r), None) = (p.ack_rtt_ns, p.retrans) {
            let r = r as f64 / 1e6;
            if e.rtt_first.len() < 16 {
                e.rtt_first.push(r);
            }
            e.rtt_last.push((r, s.frame));
            if e.rtt_last.len() > 16 {
                e.rtt_last.remove(0);
            }
        }
        let c = &an.conns[p.conn as usize];
        e.quiet = !c.flows[0].has_unacked()
            && !c.flows[1].has_unacked()
            && e.zw_since[0].is_none()
            && e.zw_since[1].is_none();
        e.last_ts = now;
        e.last_frame = s.frame;
        Ok(Next::Continue)
    })?;
    an.finish();

    let mut out = Vec::new();
    if stats.truncated > 0 {
        out.push(Finding {
            conn: None,
            culprit: "capture",
            cause: "none",
            weight: 0.0,
            text: format!(
                "{} packets were cut by the snapshot length: lengths come from the IP headers, payload bytes are missing (follow reports gaps)",
                stats.truncated
            ),
            frames: vec![],
        });
    }
    let mut ids: Vec<u32> = ev.keys().copied().collect();
    ids.sort_unstable();
    for id in ids {
        let e = &ev[&id];
        let c = &an.conns[id as usize];
        let dur = (c.last_ts - c.first_ts) as f64 / 1e9;
        let rtt_ms = c.irtt_ns.map(|r| r as f64 / 1e6).or_else(|| {
            let r = [&c.flows[0].rtt, &c.flows[1].rtt]
                .iter()
                .filter(|s| s.n > 0)
                .map(|s| s.min)
                .fold(f64::INFINITY, f64::min);
            r.is_finite().then_some(r)
        });
        let rtt_txt = rtt_ms
            .map(|r| format!("{r:.1} ms"))
            .unwrap_or_else(|| "unknown".into());
        let dd = c.vantage().data_dir;
        let loss_cause = e.loss_cause(dd);
        let mut f = |culprit, cause, weight, text: String, frames: Vec<u64>| {
            out.push(Finding {
                conn: Some(id),
                culprit,
                cause,
                weight,
                text,
                frames,
            })
        };
        // Application: closed windows.
        for d in 0..2 {
            if e.zw_count[d] == 0 {
                continue;
            }
            let closed = e.zw_total[d] as f64 / 1e9
                + e.zw_since[d].map_or(0.0, |(t, _)| (c.last_ts - t) as f64 / 1e9);
            f(
                "application",
                "receiver_window",
                closed,
                format!(
                    "the {} advertised a zero window {} times and kept it closed {:.1} s of the connection's {:.1} s (frames {}); it reopened only at frames {} while the other side probed {} times: the receiving application does not read its socket fast enough — the network delivered everything (RTT {rtt_txt}, {} retransmissions)",
                    side(c, d),
                    e.zw_count[d],
                    closed,
                    dur,
                    list(&e.zw_frames[d]),
                    if e.reopen_frames[d].is_empty() {
                        "none".to_string()
                    } else {
                        list(&e.reopen_frames[d])
                    },
                    e.probes[1 - d],
                    c.flows[0].retrans + c.flows[1].retrans,
                ),
                frames_of(&e.zw_frames[d]),
            );
        }
        // Application: think time of the server (the client's own pauses between requests are
        // the user's or the browser's, not a fault).
        let slow = (rtt_ms.unwrap_or(1.0) * 10.0).max(200.0);
        {
            let d = 0;
            let late: Vec<&(i64, u64, u64)> = e.think[d]
                .iter()
                .filter(|(t, _, _)| *t as f64 / 1e6 > slow)
                .collect();
            if let Some(worst) = late.iter().max_by_key(|x| x.0) {
                let total = sum_ns(late.iter().map(|x| x.0));
                let mut frames: Vec<u64> = late.iter().flat_map(|x| [x.1, x.2]).collect();
                frames.truncate(MAX_EVIDENCE);
                f(
                    "application",
                    "application",
                    total as f64 / 1e9,
                    format!(
                        "the {} waited up to {:.3} s for answers from the {} ({} time(s), e.g. data at frame {} answered at frame {}) with nothing outstanding, while the RTT is {rtt_txt}: think time of the peer application, not the network",
                        side(c, d),
                        worst.0 as f64 / 1e9,
                        side(c, 1 - d),
                        late.len(),
                        worst.1,
                        worst.2
                    ),
                    frames,
                );
            }
        }
        // Application: idle.
        if let Some(worst) = e.idle.iter().max_by_key(|x| x.0) {
            let total = sum_ns(e.idle.iter().map(|x| x.0));
            f(
                "application",
                "application",
                total as f64 / 1e9 * 0.5,
                format!(
                    "{} idle gap(s) with nothing in flight and no window closed, {:.1} s in total (longest {:.3} s between frames {} and {}): neither side had anything to send",
                    e.idle.len(),
                    total as f64 / 1e9,
                    worst.0 as f64 / 1e9,
                    worst.1,
                    worst.2
                ),
                e.idle
                    .iter()
                    .flat_map(|x| [x.1, x.2])
                    .take(MAX_EVIDENCE)
                    .collect(),
            );
        }
        // Network: losses.
        if !e.fast.is_empty() || !e.timeout.is_empty() {
            let stall = sum_ns(e.timeout.iter().map(|x| x.1));
            let segs = c.flows[0].packets + c.flows[1].packets;
            let tf: Vec<u64> = e.timeout.iter().map(|x| x.0).collect();
            let mut frames = frames_of(&e.fast);
            frames.extend(tf.iter().take(MAX_EVIDENCE));
            f(
                "network",
                loss_cause,
                stall as f64 / 1e9 + 0.01 * (e.fast.len() + e.timeout.len()) as f64,
                format!(
                    "{} segments lost and sent again ({:.1}% of {} packets): {} by fast retransmit (frames {}), {} after a timeout (frames {}) stalling the transfer {:.2} s",
                    e.fast.len() + e.timeout.len(),
                    100.0 * (e.fast.len() + e.timeout.len()) as f64 / segs.max(1) as f64,
                    segs,
                    e.fast.len(),
                    if e.fast.is_empty() {
                        "-".into()
                    } else {
                        list(&e.fast)
                    },
                    e.timeout.len(),
                    if tf.is_empty() { "-".into() } else { list(&tf) },
                    stall as f64 / 1e9
                ),
                frames,
            );
        }
        if !e.spurious.is_empty() {
            f(
                "network",
                "none",
                0.0,
                format!(
                    "{} spurious retransmissions (frames {}): data resent that the receiver had already acknowledged — delay spikes made the sender time out too early",
                    e.spurious.len(),
                    list(&e.spurious)
                ),
                frames_of(&e.spurious),
            );
        }
        // What limited the sender, from the inferred windows.
        if let Some(l) = c.flows[dd].cwnd.limited_by().filter(|l| l.end > l.start) {
            let (culprit, cause, share, limits, what) = main_limit(&l, loss_cause, e);
            let frames: Vec<u64> = limits
                .iter()
                .flat_map(|k| e.limit_frames[dd][*k as usize].iter().copied())
                .take(MAX_EVIDENCE)
                .collect();
            let queue = match e.queue_at_losses(dd) {
                Some((q, min)) if cause.ends_with("_loss") => format!(
                    "; at the losses the path RTT stood {q:.1} ms above its minimum {min:.1} ms{}",
                    if cause == "congestion_loss" {
                        ", about the same at every loss: a full queue dropped them, again each time it filled"
                    } else {
                        ": not the same full queue at every loss — random losses"
                    }
                ),
                _ => String::new(),
            };
            // Weighed a little under the time it covers: where a finding with its own
            // evidence (a closed window, a stall) explains the same time, that one leads.
            f(
                culprit,
                cause,
                0.9 * share * l.end.saturating_sub(l.start) as f64 / 1e9,
                format!(
                    "the {} was limited by {what}: {}{queue} (frames {})",
                    side(c, dd),
                    limited_text(&l),
                    list(&frames)
                ),
                frames,
            );
        }
        // Network: RTT inflation (samples outside retransmissions).
        if e.rtt_first.len() >= 8 && e.rtt_last.len() >= 8 {
            let med = |v: &mut Vec<f64>| {
                v.sort_by(|a, b| a.total_cmp(b));
                v[v.len() / 2]
            };
            let a = med(&mut e.rtt_first.clone());
            let b = med(&mut e.rtt_last.iter().map(|x| x.0).collect());
            if b > 2.0 * a && b - a > 20.0 {
                f(
                    "network",
                    "congestion_window",
                    (b - a) / 1e3 * e.rtt_last.len() as f64,
                    format!(
                        "RTT grew from {a:.1} ms (median of the first samples) to {b:.1} ms (median of the last, frames {}): queues build up in the network",
                        list(&e.rtt_last.iter().map(|x| x.1).collect::<Vec<_>>())
                    ),
                    e.rtt_last.iter().map(|x| x.1).take(MAX_EVIDENCE).collect(),
                );
            }
        }
        // Capture problems.
        if let Some(&(fr, len)) = e.giant.first() {
            f(
                "capture",
                "none",
                0.0,
                format!(
                    "{} segments are larger than the MSS (e.g. {len} bytes at frame {fr}): segmentation offload (TSO/GRO) glued them before the capture; turn it off with ethtool -K IFACE tso off gso off gro off",
                    e.giant.len()
                ),
                e.giant.iter().map(|x| x.0).take(MAX_EVIDENCE).collect(),
            );
        }
        if c.flows[0].packets == 0 || c.flows[1].packets == 0 {
            let (have, missing) = if c.flows[0].packets == 0 {
                (1, 0)
            } else {
                (0, 1)
            };
            if c.flows[have].packets > 2 {
                f(
                    "capture",
                    "none",
                    0.0,
                    format!(
                        "only the {}'s packets are in the capture, nothing from the {}: asymmetric routing or a filter that sees one direction",
                        side(c, have),
                        side(c, missing)
                    ),
                    vec![c.first_frame],
                );
            }
        }
        if !e.ack_lost.is_empty() {
            f(
                "capture",
                "none",
                0.0,
                format!(
                    "{} ACKs acknowledge data the capture never saw (frames {}): the capture dropped packets (check the kernel drop counters), the network did not",
                    e.ack_lost.len(),
                    list(&e.ack_lost)
                ),
                frames_of(&e.ack_lost),
            );
        }
    }
    Ok((out, an, stats))
}

pub fn run(
    file: &str,
    only: Option<u32>,
    evict: Eviction,
    fmt: Format,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let (fs, an, stats) = findings(file, only, evict)?;
    // The overall culprit: the category explaining the most time.
    let mut weight: HashMap<&str, f64> = HashMap::new();
    for f in &fs {
        *weight.entry(f.culprit).or_default() += f.weight.max(1e-6);
    }
    let culprit = ["application", "network", "capture"]
        .into_iter()
        .filter(|k| weight.contains_key(k))
        .max_by(|a, b| weight[a].total_cmp(&weight[b]))
        .unwrap_or("none");
    let top = fs
        .iter()
        .filter(|f| f.culprit == culprit)
        .max_by(|a, b| a.weight.total_cmp(&b.weight));
    let summary = match top {
        Some(t) => format!("the {culprit} is the culprit: {}", t.text),
        None => {
            "no problem found: no losses, no closed windows, no slow answers, no capture defects"
                .into()
        }
    };
    match fmt {
        Format::Json => {
            for f in &fs {
                writeln!(
                    out,
                    "{}",
                    json!({"type": "finding", "conn": f.conn, "culprit": f.culprit, "cause": f.cause, "text": f.text, "frames": f.frames,
                        "vantage": f.conn.map(|id| an.conns[id as usize].vantage().place.name())})
                )?;
            }
            writeln!(
                out,
                "{}",
                json!({"type": "summary", "culprit": culprit, "cause": top.map_or("none", |t| t.cause), "text": summary, "connections": an.conns.len(), "findings": fs.len()})
            )?;
        }
        Format::Csv => {
            writeln!(out, "conn,culprit,text,frames")?;
            for f in &fs {
                let frames: Vec<String> = f.frames.iter().map(u64::to_string).collect();
                writeln!(
                    out,
                    "{},{},\"{}\",{}",
                    f.conn.map(|c| c.to_string()).unwrap_or_default(),
                    f.culprit,
                    f.text.replace('"', "\"\""),
                    frames.join(";")
                )?;
            }
        }
        Format::Human => {
            let mut last = None;
            for f in &fs {
                if f.conn != last {
                    if let Some(id) = f.conn {
                        let c = &an.conns[id as usize];
                        writeln!(
                            out,
                            "connection {id}: {} -> {} ({}, {:.1} s)",
                            c.client,
                            c.server,
                            c.state().0,
                            (c.last_ts - c.first_ts) as f64 / 1e9
                        )?;
                        let v = c.vantage();
                        let path = v
                            .path_rtt_ms
                            .map(|p| format!("; path RTT {p:.1} ms"))
                            .unwrap_or_default();
                        let at = match v.place {
                            Place::NearClient | Place::NearServer => "captured near the",
                            Place::Between | Place::Unknown => "capture point:",
                        };
                        writeln!(out, "  {at} {}{path}", v.evidence)?;
                    }
                    last = f.conn;
                }
                writeln!(out, "  [{}] {}", f.culprit, f.text)?;
            }
            if !fs.is_empty() {
                writeln!(out)?;
            }
            writeln!(out, "verdict: {summary}")?;
        }
    }
    out.flush()?;
    stats.check()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cause from the queue at each loss event (path RTT then, ms) and the minimum.
    fn cause(loss_rtt: &[f64], min: f64) -> &'static str {
        let mut e = Evidence::default();
        e.path_min[0] = Some(min);
        e.loss_rtt[0] = loss_rtt.to_vec();
        e.loss_cause(0)
    }

    #[test]
    fn losses_at_a_full_queue_are_congestion_and_losses_anywhere_are_random() {
        // Read in ground-truth runs (crates/tcpstat/tests/ground_truth.rs): the 4 Mbit/s
        // drop-tail bottleneck at 100 ms from the receiver, three events, the last two 15 ms
        // apart (a CI run read them as random); from the sender; at 10 ms.
        assert_eq!(
            cause(&[269.846, 236.159, 251.182], 203.1),
            "congestion_loss"
        );
        assert_eq!(
            cause(&[272.802, 236.252, 244.878], 203.102),
            "congestion_loss"
        );
        let b10 = [
            54.768, 51.49, 54.107, 51.468, 51.553, 51.499, 51.507, 48.496, 51.769,
        ];
        assert_eq!(cause(&b10, 23.924), "congestion_loss");
        // Random loss 1 % at 100 ms: about half the events at an empty queue.
        let a100 = [
            220.926, 212.081, 202.813, 202.773, 287.966, 249.423, 243.922, 246.063, 245.194,
            202.73, 247.152, 202.752, 241.671,
        ];
        assert_eq!(cause(&a100, 201.293), "random_loss");
        // Random loss 5 % at 10 ms: queues of a few ms, under the 5 ms floor.
        let a10 = [
            78.691, 38.825, 68.938, 27.403, 22.573, 21.973, 22.524, 41.534, 21.368,
        ];
        assert_eq!(cause(&a10, 21.273), "random_loss");
        // Too few events after the first to tell, or none: random.
        assert_eq!(cause(&[260.0, 250.0], 200.0), "random_loss");
        assert_eq!(cause(&[], 200.0), "random_loss");
    }
}
