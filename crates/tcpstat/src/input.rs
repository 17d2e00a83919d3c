//! Thin adapter from netproto's shared capture reader and frame decoder to the analysis
//! engine's [`TcpSample`]: tcpstat decodes nothing itself.

use std::net::SocketAddr;

use netcap::{Reader, Record, Timestamp};
use netproto::frame;

use crate::analysis::TcpSample;

/// The latest capture time tcpstat represents, in ns since 1970: 2^62 − 1 (year 2116, past
/// the 32-bit seconds of pcap). With every timestamp in `[0, MAX_TS_NS]`, the difference of
/// two of them, and the sum of two such differences, fit an `i64`.
pub const MAX_TS_NS: i64 = (1 << 62) - 1;

/// A record's time in ns since 1970, clamped into `[0, MAX_TS_NS]`: a nanosecond field above
/// 10^9 carries into the seconds (as the arithmetic says), a time before 1970 (a pcapng tick
/// count past `i64`) becomes 0 and one after 2116 the limit. The flag says it had to clamp.
pub fn ts_ns(ts: Timestamp) -> (i64, bool) {
    let ns = i128::from(ts.sec) * 1_000_000_000 + i128::from(ts.nsec);
    let clamped = ns.clamp(0, i128::from(MAX_TS_NS));
    (clamped as i64, clamped != ns)
}

/// Counters about the input, for the summary record.
#[derive(Clone, Debug, Default)]
pub struct InputStats {
    pub frames: u64,
    pub tcp: u64,
    pub non_tcp: u64,
    pub undecodable: u64,
    pub truncated: u64,
    pub bytes: u64,
    pub first_ts: Option<i64>,
    pub last_ts: i64,
    /// The file is damaged after `frames` frames (the analysis covers those).
    pub damage: Option<String>,
    /// Some timestamp lay outside what tcpstat represents (see [`ts_ns`]).
    pub clamped_ts: bool,
}

impl InputStats {
    /// After the results are printed: a damaged file still ends in an error (exit 3).
    pub fn check(&self) -> anyhow::Result<()> {
        match &self.damage {
            Some(m) => Err(netcli::Exit::failure(format!(
                "{m} (after {} frames; the output covers them)",
                self.frames
            ))
            .into()),
            None => Ok(()),
        }
    }
}

/// What the per-sample callback wants next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Stop,
}

/// What one captured frame is to tcpstat.
pub enum Decoded<'a> {
    Tcp(TcpSample<'a>),
    NotTcp,
    Undecodable,
}

/// Decode one captured frame with netproto's shared decoder.
#[inline]
pub fn to_sample(linktype: u32, data: &[u8], wire_len: u32, frame: u64, ts: i64) -> Decoded<'_> {
    // The common case (IPv4 + TCP) without building the frame's layer list.
    let t = match frame::tcp_fast(linktype, data) {
        Some(t) => t,
        None => {
            let Ok(fr) = frame::decode(linktype, data) else {
                return Decoded::Undecodable;
            };
            match fr.tcp() {
                Some(t) => t,
                None => return Decoded::NotTcp,
            }
        }
    };
    Decoded::Tcp(TcpSample {
        frame,
        ts_ns: ts,
        src: SocketAddr::new(t.src, t.sport),
        dst: SocketAddr::new(t.dst, t.dport),
        seq: t.seq,
        ack: t.ack,
        flags: t.flags,
        win: t.window,
        // Raw: the analysis walks a SYN's options only.
        options: t.options,
        payload_len: t.payload_len,
        payload: t.payload,
        wire_len,
        // TcpSegment::truncated is the frame's own flag (the IP packet goes on past the capture).
        truncated: t.truncated,
    })
}

/// Read `path` (`-` = stdin) and call `f` with the capture's link type and every record, in
/// capture order, until it returns [`Flow::Stop`]. Opening fails with a hint on how to give a
/// capture, and on a link type tcpstat does not decode. A read error ends the records early:
/// it comes back as the damage (`"…: the capture is damaged or cut short"`), not as an error.
pub fn for_each_record(
    path: &str,
    mut f: impl FnMut(u32, Record<'_>) -> anyhow::Result<Flow>,
) -> anyhow::Result<Option<String>> {
    let mut reader = Reader::open(path).map_err(|e| {
        netcli::Exit::failure(format!(
            "{e} (give a pcap or pcapng file with -r FILE, or -r - for stdin)"
        ))
    })?;
    let linktype = reader.linktype();
    if !frame::linktype::is_supported(linktype) {
        anyhow::bail!(
            "{path}: link type {linktype} ({}) is not supported; capture on an Ethernet, cooked (any) or raw-IP interface",
            frame::linktype::name(linktype)
        );
    }
    loop {
        let rec = match reader.next() {
            Ok(Some(r)) => r,
            Ok(None) => return Ok(None),
            Err(e) => return Ok(Some(format!("{e}: the capture is damaged or cut short"))),
        };
        if f(linktype, rec)? == Flow::Stop {
            return Ok(None);
        }
    }
}

/// Read `path` (`-` = stdin) and call `f` for every TCP segment, in capture order.
pub fn for_each_tcp(
    path: &str,
    mut f: impl FnMut(&TcpSample<'_>) -> anyhow::Result<Flow>,
) -> anyhow::Result<InputStats> {
    for_each_tcp_with(path, |s, _| f(s))
}

/// [`for_each_tcp`], `f` seeing the input's counters so far too.
pub fn for_each_tcp_with(
    path: &str,
    mut f: impl FnMut(&TcpSample<'_>, &InputStats) -> anyhow::Result<Flow>,
) -> anyhow::Result<InputStats> {
    let mut st = InputStats::default();
    st.damage = for_each_record(path, |linktype, rec| {
        st.frames += 1;
        st.bytes += rec.len as u64;
        let (ts, clamped) = ts_ns(rec.ts);
        if clamped && !st.clamped_ts {
            st.clamped_ts = true;
            log::warn!(
                "{path}: frame {} has the time {}.{:09} s, outside 1970..2116: times outside are clamped to that range",
                st.frames,
                rec.ts.sec,
                rec.ts.nsec
            );
        }
        st.first_ts.get_or_insert(ts);
        st.last_ts = ts;
        // Bound by reference: moving the sample out of the enum cost a memcpy per packet.
        let decoded = to_sample(linktype, rec.data, rec.len, st.frames, ts);
        let sample = match &decoded {
            Decoded::Tcp(s) => s,
            Decoded::NotTcp => {
                st.non_tcp += 1;
                return Ok(Flow::Continue);
            }
            Decoded::Undecodable => {
                st.undecodable += 1;
                return Ok(Flow::Continue);
            }
        };
        st.tcp += 1;
        if sample.truncated {
            st.truncated += 1;
        }
        f(sample, &st)
    })?;
    Ok(st)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::Analyzer;
    use netproto::frame::linktype;
    use proptest::prelude::*;

    /// An Ethernet + IPv4 + TCP frame with the given TCP fields, for mutation.
    fn frame(seq: u32, flags: u8, payload: usize) -> Vec<u8> {
        let mut f = vec![0u8; 14 + 20 + 24 + payload];
        f[12] = 0x08;
        let ip = &mut f[14..34];
        ip[0] = 0x45;
        let tot = (20 + 24 + payload) as u16;
        ip[2..4].copy_from_slice(&tot.to_be_bytes());
        ip[8] = 64;
        ip[9] = 6;
        ip[12..16].copy_from_slice(&[10, 0, 0, 1]);
        ip[16..20].copy_from_slice(&[10, 0, 0, 2]);
        let tcp = &mut f[34..58];
        tcp[0..2].copy_from_slice(&40000u16.to_be_bytes());
        tcp[2..4].copy_from_slice(&80u16.to_be_bytes());
        tcp[4..8].copy_from_slice(&seq.to_be_bytes());
        tcp[12] = 6 << 4;
        tcp[13] = flags;
        tcp[14..16].copy_from_slice(&1000u16.to_be_bytes());
        tcp[20..24].copy_from_slice(&[2, 4, 5, 0xb4]);
        f
    }

    #[test]
    fn a_syn_frame_becomes_a_sample() {
        let f = frame(7, 0x02, 0);
        let Decoded::Tcp(s) = to_sample(linktype::ETHERNET, &f, f.len() as u32, 1, 0) else {
            panic!("not decoded as TCP");
        };
        assert_eq!((s.seq, s.flags.0), (7, 0x02));
        assert_eq!(s.options.summary().mss, Some(1460));
        assert_eq!(s.src.to_string(), "10.0.0.1:40000");
    }

    #[test]
    fn timestamps_are_clamped_into_the_representable_range() {
        let t = |sec, nsec| ts_ns(Timestamp { sec, nsec });
        assert_eq!(t(0, 0), (0, false));
        assert_eq!(t(1, 2), (1_000_000_002, false));
        // pcap's extremes: u32 seconds and nanoseconds, the latter carrying into seconds.
        let max32 = i64::from(u32::MAX);
        assert_eq!(t(max32, u32::MAX), (max32 * 1_000_000_000 + max32, false));
        assert_eq!(t(0, 1_500_000_000), (1_500_000_000, false));
        // pcapng tick counts past i64 seconds.
        assert_eq!(t(-1, 0), (0, true));
        assert_eq!(t(i64::MIN, u32::MAX), (0, true));
        assert_eq!(t(i64::MAX, u32::MAX), (MAX_TS_NS, true));
        assert_eq!(t(MAX_TS_NS / 1_000_000_000 + 1, 0), (MAX_TS_NS, true));
    }

    proptest! {
        // Arbitrary bytes and arbitrarily damaged TCP frames, for every link type the decoder
        // knows, through the adapter and the analysis: no panic.
        #[test]
        fn arbitrary_frames_never_panic(
            frames in proptest::collection::vec(
                (prop_oneof![Just(linktype::NULL), Just(linktype::ETHERNET), Just(linktype::RAW), Just(linktype::LINUX_SLL), Just(linktype::LINUX_SLL2), any::<u32>()],
                 proptest::collection::vec(any::<u8>(), 0..120),
                 any::<u32>(), any::<u8>(), 0usize..64, any::<u16>(), 0usize..80),
                1..60)
        ) {
            let mut an = Analyzer::new();
            for (i, (lt, junk, seq, flags, payload, at, cut)) in frames.into_iter().enumerate() {
                let mut f = if lt == linktype::ETHERNET && junk.len() % 2 == 0 { frame(seq, flags, payload) } else { junk.clone() };
                if !junk.is_empty() && !f.is_empty() {
                    let k = at as usize % f.len();
                    f[k] ^= junk[0];
                }
                f.truncate(f.len().saturating_sub(cut));
                if let Decoded::Tcp(s) = to_sample(lt, &f, f.len() as u32 + 7, i as u64 + 1, i as i64 * 1000) {
                    let p = an.handle(&s);
                    prop_assert!((p.conn as usize) < an.conns.len());
                }
            }
        }
    }
}
