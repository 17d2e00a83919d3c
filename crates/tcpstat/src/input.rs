//! Thin adapter from netproto's shared capture reader and frame decoder to the analysis
//! engine's [`TcpSample`]: tcpstat decodes nothing itself.

use std::net::SocketAddr;

use anyhow::Context;
use netproto::capture::Reader;
use netproto::frame::{self, TcpOption};

use crate::analysis::{TcpOptions, TcpSample};

/// Counters about the input, for the summary record.
#[derive(Clone, Copy, Debug, Default)]
pub struct InputStats {
    pub frames: u64,
    pub tcp: u64,
    pub non_tcp: u64,
    pub undecodable: u64,
    pub truncated: u64,
    pub bytes: u64,
    pub first_ts: Option<i64>,
    pub last_ts: i64,
}

/// What the per-sample callback wants next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Stop,
}

/// Convert netproto's option walker into the engine's summary.
pub fn options(o: frame::TcpOptions<'_>) -> TcpOptions {
    let mut r = TcpOptions::default();
    for opt in o.iter() {
        match opt {
            TcpOption::Mss(v) => r.mss = Some(v),
            TcpOption::WindowScale(v) => r.wscale = Some(v),
            TcpOption::SackPermitted => r.sack_perm = true,
            TcpOption::Timestamp { tsval, tsecr } => r.timestamps = Some((tsval, tsecr)),
            TcpOption::Sack(b) => {
                for (i, blk) in b.iter().take(4).enumerate() {
                    r.sack[i] = blk;
                    r.sack_n = i as u8 + 1;
                }
            }
            _ => {}
        }
    }
    r
}

/// Read `path` (`-` = stdin) and call `f` for every TCP segment, in capture order.
pub fn for_each_tcp(
    path: &str,
    mut f: impl FnMut(&TcpSample<'_>) -> anyhow::Result<Flow>,
) -> anyhow::Result<InputStats> {
    let mut reader = Reader::open(path).map_err(|e| {
        anyhow::anyhow!("{e} (give a pcap or pcapng file with -r FILE, or -r - for stdin)")
    })?;
    let linktype = reader.linktype();
    if !frame::linktype::is_supported(linktype) {
        anyhow::bail!(
            "{path}: link type {linktype} ({}) is not supported; capture on an Ethernet, cooked (any) or raw-IP interface",
            frame::linktype::name(linktype)
        );
    }
    let mut st = InputStats::default();
    loop {
        let rec = match reader.next().with_context(|| "the capture is damaged or cut short; the analysis covers the packets before the damage")? {
            Some(r) => r,
            None => break,
        };
        st.frames += 1;
        st.bytes += rec.len as u64;
        let ts = rec.ts.sec.saturating_mul(1_000_000_000) + rec.ts.nsec as i64;
        st.first_ts.get_or_insert(ts);
        st.last_ts = ts;
        let Ok(fr) = frame::decode(linktype, rec.data) else {
            st.undecodable += 1;
            continue;
        };
        let Some(t) = fr.tcp() else {
            st.non_tcp += 1;
            continue;
        };
        st.tcp += 1;
        let truncated = t.truncated || fr.truncated();
        if truncated {
            st.truncated += 1;
        }
        let sample = TcpSample {
            frame: st.frames,
            ts_ns: ts,
            src: SocketAddr::new(t.src, t.sport),
            dst: SocketAddr::new(t.dst, t.dport),
            seq: t.seq,
            ack: t.ack,
            flags: (t.flags.0 & 0xff) as u8,
            win: t.window,
            opts: options(t.options),
            payload_len: t.payload_len,
            payload: t.payload,
            wire_len: rec.len,
            truncated,
        };
        if f(&sample)? == Flow::Stop {
            break;
        }
    }
    Ok(st)
}
