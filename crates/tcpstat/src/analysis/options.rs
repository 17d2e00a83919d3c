//! The options of a flow's first SYN. tcpstat decodes no option itself: it keeps the SYN's
//! raw option bytes and reads them with netproto's walker ([`TcpOption`]) and summary
//! ([`TcpOptionSummary`]); only the text and JSON it prints are its own.

use netproto::frame::{TcpOption, TcpOptionSummary, TcpOptions};

use crate::cells;

/// A TCP header holds at most 40 option bytes.
const MAX_OPTION_BYTES: usize = 40;

/// The options a SYN carried, owned (the sample's bytes do not outlive the packet).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SynOptions {
    raw: [u8; MAX_OPTION_BYTES],
    len: u8,
    summary: TcpOptionSummary,
}

impl SynOptions {
    pub fn new(options: TcpOptions<'_>) -> SynOptions {
        let n = options.0.len().min(MAX_OPTION_BYTES);
        let mut raw = [0; MAX_OPTION_BYTES];
        raw[..n].copy_from_slice(&options.0[..n]);
        SynOptions {
            raw,
            len: n as u8,
            summary: options.summary(),
        }
    }

    /// MSS, window scale, SACK-permitted and timestamps, as netproto gathers them.
    pub fn summary(&self) -> TcpOptionSummary {
        self.summary
    }

    /// The raw options, for netproto's walker.
    pub fn options(&self) -> TcpOptions<'_> {
        TcpOptions(&self.raw[..usize::from(self.len)])
    }

    /// Short text like Wireshark's Info column: `MSS=1460 SACK_PERM TSval=.. WS=4`.
    pub fn describe(&self, out: &mut Vec<u8>) {
        let s = self.summary;
        // Items separated by a space.
        let start = out.len();
        let item = |out: &mut Vec<u8>, text: &[u8]| {
            if out.len() > start {
                out.push(b' ');
            }
            out.extend_from_slice(text);
        };
        if let Some(m) = s.mss {
            item(out, b"MSS=");
            cells::num(out, m);
        }
        if s.sack_permitted {
            item(out, b"SACK_PERM");
        }
        if let Some((a, b)) = s.timestamp {
            item(out, b"TSval=");
            cells::num(out, a);
            out.extend_from_slice(b" TSecr=");
            cells::num(out, b);
        }
        if let Some(w) = s.window_scale {
            item(out, b"WS=");
            cells::num(out, 1u32 << w.min(14));
        }
        for (l, r) in self.sack_blocks() {
            item(out, b"SACK=");
            cells::num(out, l);
            out.push(b'-');
            cells::num(out, r);
        }
    }

    /// SACK blocks of a SYN (unusual, but printed): each SACK option overwrites the first of
    /// four slots, and the count is that of the last non-empty option.
    fn sack_blocks(&self) -> Vec<(u32, u32)> {
        let mut slots = [(0, 0); 4];
        let mut n = 0;
        for o in self.options() {
            if let TcpOption::Sack(b) = o {
                for (i, blk) in b.iter().take(4).enumerate() {
                    slots[i] = blk;
                    n = i + 1;
                }
            }
        }
        slots[..n].to_vec()
    }

    pub fn json(&self) -> serde_json::Value {
        let s = self.summary;
        serde_json::json!({
            "mss": s.mss,
            "wscale": s.window_scale,
            "sack_perm": s.sack_permitted,
            "timestamps": s.timestamp.is_some(),
        })
    }
}
