//! A connection's row as `conns` prints it: every derived figure computed once from its
//! [`ConnRow`] into a [`ConnRecord`], which becomes the `connection` JSON record
//! ([`crate::jsonrow`] writes it; its `Serialize` here is what that must equal, property-tested)
//! and feeds the CSV row and the human block — no `serde_json::Value` in between (a capture of
//! many short connections prints hundreds of thousands of rows, and building a map per row
//! cost more than analysing its packets).
//!
//! Field order is the JSON's: keys sorted, as tcpstat has always printed them (serde_json's
//! map sorts); the records are byte for byte what the map printed.

use std::net::SocketAddr;

use serde::Serialize;

use crate::analysis::Evidence;
use crate::analysis::{ConnRow, FlowRow, Limit, LimitedBy, Place, SynOptions};
use crate::report::{DelayedAckText, delayed_ack_verdict, ms, secs};

/// The `connection` record.
#[derive(Serialize)]
pub struct ConnRecord {
    pub ack_to_data_ms: Option<f64>,
    pub bytes: [u64; 2],
    pub client: SocketAddr,
    pub data_dir: &'static str,
    pub data_to_ack_ms: Option<f64>,
    pub delayed_ack: DelayedAck,
    pub dup_acks: u64,
    pub duration: f64,
    pub fast_retransmissions: u64,
    pub first_frame: u64,
    pub goodput_bps: [f64; 2],
    pub handshake_rtt_ms: Option<f64>,
    pub id: u32,
    pub isn_client: Option<u32>,
    pub isn_server: Option<u32>,
    pub last_frame: u64,
    pub limited_by: Option<LimitedRecord>,
    pub lost_segments: u64,
    pub options_client: Option<OptionsRecord>,
    pub options_server: Option<OptionsRecord>,
    pub out_of_order: u64,
    pub packets: [u64; 2],
    pub path_rtt_ms: Option<f64>,
    pub payload_bytes: [u64; 2],
    pub probe_retransmissions: u64,
    pub rel_start: f64,
    pub retransmissions: u64,
    pub retransmissions_by_dir: [u64; 2],
    pub rtt_ms: RttRecord,
    pub rtt_ms_by_dir: [RttDirRecord; 2],
    pub server: SocketAddr,
    pub spurious_retransmissions: u64,
    pub srtt_ms: Option<f64>,
    pub start: f64,
    pub state: &'static str,
    pub state_text: &'static str,
    pub timeout_retransmissions: u64,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub unique_bytes: [u64; 2],
    pub vantage: &'static str,
    pub vantage_evidence: Evidence,
    pub zero_window: u64,
}

/// Each side's delayed-ACK verdict (`yes`/`no`/`unknown`) and its words.
#[derive(Serialize)]
pub struct DelayedAck {
    pub client: &'static str,
    pub client_text: DelayedAckText,
    pub server: &'static str,
    pub server_text: DelayedAckText,
}

/// Both directions' RTT samples together (ms).
#[derive(Serialize)]
pub struct RttRecord {
    pub avg: Option<f64>,
    pub max: Option<f64>,
    pub min: Option<f64>,
}

/// One direction's RTT samples (ms).
#[derive(Serialize)]
pub struct RttDirRecord {
    pub avg: Option<f64>,
    pub max: Option<f64>,
    pub min: Option<f64>,
    pub samples: u64,
}

/// A SYN's options as the record names them.
#[derive(Serialize)]
pub struct OptionsRecord {
    pub mss: Option<u16>,
    pub sack_perm: bool,
    pub timestamps: bool,
    pub wscale: Option<u8>,
}

impl OptionsRecord {
    fn new(o: &SynOptions) -> OptionsRecord {
        let s = o.summary();
        OptionsRecord {
            mss: s.mss,
            sack_perm: s.sack_permitted,
            timestamps: s.timestamp.is_some(),
            wscale: s.window_scale,
        }
    }
}

/// The shares of the sender's time (see `analysis::cwnd`), with the span they cover.
#[derive(Serialize)]
pub struct LimitedRecord {
    pub app: f64,
    pub cwnd: f64,
    pub end: f64,
    pub loss: f64,
    pub rwnd: f64,
    pub seconds: f64,
    pub sender: f64,
    pub start: f64,
}

impl LimitedRecord {
    pub fn new(l: &LimitedBy) -> LimitedRecord {
        LimitedRecord {
            app: l.share(Limit::App),
            cwnd: l.share(Limit::Cwnd),
            end: secs(l.end),
            loss: l.share(Limit::Loss),
            rwnd: l.share(Limit::Rwnd),
            seconds: secs(l.end.saturating_sub(l.start)),
            sender: l.share(Limit::Sender),
            start: secs(l.start),
        }
    }
}

/// What JSON prints as a number (a non-finite float is `null`), for the text outputs to show
/// the same.
pub fn finite(x: Option<f64>) -> Option<f64> {
    x.filter(|v| v.is_finite())
}

/// Data rate of one direction's unique bytes from the connection's start to its last data.
pub fn goodput_bps(c: &ConnRow, f: &FlowRow) -> f64 {
    match f.last_data_ts {
        Some(t) if t > c.first_ts => {
            f.unique_bytes as f64 * 8.0 / secs(t.saturating_sub(c.first_ts))
        }
        _ => 0.0,
    }
}

fn rtt_dir(f: &FlowRow) -> RttDirRecord {
    let (avg, max, min) = match f.rtt.n {
        0 => (None, None, None),
        _ => (f.rtt.avg(), Some(f.rtt.max), Some(f.rtt.min)),
    };
    RttDirRecord {
        avg,
        max,
        min,
        samples: f.rtt.n,
    }
}

/// The RTT of the connection: the samples of both directions together.
fn rtt_both(a: &FlowRow, b: &FlowRow) -> RttRecord {
    let mut all = a.rtt;
    if b.rtt.n > 0 {
        if all.n == 0 {
            all = b.rtt;
        } else {
            all.min = all.min.min(b.rtt.min);
            all.max = all.max.max(b.rtt.max);
            all.n = all.n.saturating_add(b.rtt.n);
            all.sum += b.rtt.sum;
        }
    }
    match all.n {
        0 => RttRecord {
            avg: None,
            max: None,
            min: None,
        },
        _ => RttRecord {
            avg: all.avg(),
            max: Some(all.max),
            min: Some(all.min),
        },
    }
}

impl ConnRecord {
    pub fn new(c: &ConnRow, t0: i64) -> ConnRecord {
        let (state, state_text) = c.state();
        let [a, b] = &c.flows;
        let v = c.vantage.vantage();
        let here = |side: Place| matches!(v.place, Place::Unknown) || v.place == side;
        let (client_text, client) = delayed_ack_verdict(a, here(Place::NearClient));
        let (server_text, server) = delayed_ack_verdict(b, here(Place::NearServer));
        ConnRecord {
            ack_to_data_ms: v.ack_to_data_ms,
            bytes: [a.bytes, b.bytes],
            client: c.client,
            data_dir: if v.data_dir == 0 { "c>s" } else { "s>c" },
            data_to_ack_ms: v.data_to_ack_ms,
            delayed_ack: DelayedAck {
                client,
                client_text,
                server,
                server_text,
            },
            dup_acks: a.dupacks.saturating_add(b.dupacks),
            duration: secs(c.last_ts.saturating_sub(c.first_ts)),
            fast_retransmissions: a.fast.saturating_add(b.fast),
            first_frame: c.first_frame,
            goodput_bps: [goodput_bps(c, a), goodput_bps(c, b)],
            handshake_rtt_ms: c.irtt_ns.map(ms),
            id: c.id,
            isn_client: a.isn,
            isn_server: b.isn,
            last_frame: c.last_frame,
            limited_by: c.limited.as_ref().map(LimitedRecord::new),
            lost_segments: a.lost.saturating_add(b.lost),
            options_client: a.syn_opts.as_ref().map(OptionsRecord::new),
            options_server: b.syn_opts.as_ref().map(OptionsRecord::new),
            out_of_order: a.ooo.saturating_add(b.ooo),
            packets: [a.packets, b.packets],
            path_rtt_ms: v.path_rtt_ms,
            payload_bytes: [a.payload_bytes, b.payload_bytes],
            probe_retransmissions: a.probes.saturating_add(b.probes),
            rel_start: secs(c.first_ts.saturating_sub(t0)),
            retransmissions: a.retrans.saturating_add(b.retrans),
            retransmissions_by_dir: [a.retrans, b.retrans],
            rtt_ms: rtt_both(a, b),
            rtt_ms_by_dir: [rtt_dir(a), rtt_dir(b)],
            server: c.server,
            spurious_retransmissions: a.spurious.saturating_add(b.spurious),
            srtt_ms: v.srtt_ms,
            start: secs(c.first_ts),
            state,
            state_text,
            timeout_retransmissions: a.timeout.saturating_add(b.timeout),
            kind: "connection",
            unique_bytes: [a.unique_bytes, b.unique_bytes],
            vantage: v.place.name(),
            vantage_evidence: v.evidence,
            zero_window: a.zero_windows.saturating_add(b.zero_windows),
        }
    }
}
