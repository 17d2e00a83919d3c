//! A connection reduced to what `tcpstat conns` prints about it: the row a finished
//! connection leaves behind when its state is freed (eviction), and the form every row is
//! printed from, so that a row printed after eviction is the row printed without it.
//!
//! Rows are kept encoded ([`super::rowcodec`]: varints, ~150 bytes for a short connection)
//! in a [`RowStore`] indexed by connection number.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::net::SocketAddr;

use super::conn::StateFacts;
use super::flow::Stat;
use super::options::SynOptions;
use super::rowcodec;
use super::table::FxHasher;
use super::vantage::VantageFacts;
use super::{Conn, Flow, LimitedBy};

/// Everything `conns` prints about one connection.
#[derive(Clone, Debug, PartialEq)]
pub struct ConnRow {
    pub id: u32,
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub first_ts: i64,
    pub last_ts: i64,
    pub first_frame: u64,
    pub last_frame: u64,
    pub state: StateFacts,
    pub irtt_ns: Option<i64>,
    pub vantage: VantageFacts,
    /// What limited the data direction's sender.
    pub limited: Option<LimitedBy>,
    pub flows: [FlowRow; 2],
}

/// One direction's counters.
#[derive(Clone, Debug, PartialEq)]
pub struct FlowRow {
    pub packets: u64,
    pub bytes: u64,
    pub payload_bytes: u64,
    pub unique_bytes: u64,
    pub last_data_ts: Option<i64>,
    pub isn: Option<u32>,
    pub syn_opts: Option<SynOptions>,
    pub retrans: u64,
    pub fast: u64,
    pub timeout: u64,
    pub spurious: u64,
    pub probes: u64,
    pub dupacks: u64,
    pub ooo: u64,
    pub lost: u64,
    pub zero_windows: u64,
    pub rtt: Stat,
    /// As a receiver: ACKs of new data, those covering several segments, a single one.
    pub acks_new: u64,
    pub acks_multi: u64,
    pub acks_single: u64,
    pub single_ack_delay: Stat,
}

impl FlowRow {
    fn new(f: &Flow) -> FlowRow {
        FlowRow {
            packets: f.packets,
            bytes: f.bytes,
            payload_bytes: f.payload_bytes,
            unique_bytes: f.unique_bytes,
            last_data_ts: f.last_data_ts,
            isn: f.isn,
            syn_opts: f.syn_opts,
            retrans: f.retrans,
            fast: f.fast,
            timeout: f.timeout,
            spurious: f.spurious,
            probes: f.probes,
            dupacks: f.dupacks,
            ooo: f.ooo,
            lost: f.lost,
            zero_windows: f.zero_windows,
            rtt: f.rtt,
            acks_new: f.acks_new,
            acks_multi: f.acks_multi,
            acks_single: f.acks_single,
            single_ack_delay: f.single_ack_delay,
        }
    }
}

impl ConnRow {
    /// The row of a connection as it stands (after [`super::Analyzer::finish`] or eviction).
    pub fn new(c: &Conn) -> ConnRow {
        let vantage = c.vantage_facts();
        ConnRow {
            id: c.id,
            client: c.client,
            server: c.server,
            first_ts: c.first_ts,
            last_ts: c.last_ts,
            first_frame: c.first_frame,
            last_frame: c.last_frame,
            state: c.state_facts(),
            irtt_ns: c.irtt_ns,
            limited: c.flows[usize::from(vantage.data_dir)].cwnd.limited_by(),
            vantage,
            flows: [FlowRow::new(&c.flows[0]), FlowRow::new(&c.flows[1])],
        }
    }

    /// Zeek's `conn_state` code and our plain words.
    pub fn state(&self) -> (&'static str, &'static str) {
        self.state.state()
    }

    /// The row of a connection that is over: the ACKs still on their way reach their
    /// senders first, as at the end of a capture.
    pub fn of_ended(c: &mut Conn) -> ConnRow {
        for f in &mut c.flows {
            f.cwnd.finish();
        }
        ConnRow::new(c)
    }
}

/// Rows by connection number, encoded; any order of insertion.
#[derive(Default)]
pub struct RowStore {
    bytes: Vec<u8>,
    /// Start of each connection's row in `bytes`.
    at: Offsets,
}

impl RowStore {
    pub fn insert(&mut self, row: &ConnRow) {
        // Encoding cannot fail (every field is a plain value); were it to, nothing is kept.
        let start = self.bytes.len();
        rowcodec::encode(row, &mut self.bytes);
        self.at.set(row.id as usize, start as u64);
    }

    pub fn get(&self, id: u32) -> Option<ConnRow> {
        let at = self.at.get(id as usize)?;
        rowcodec::decode(self.bytes.get(usize::try_from(at).ok()?..)?)
    }

    /// One more than the highest connection number stored (0 when empty).
    pub fn ids(&self) -> u32 {
        self.at.len() as u32
    }

    /// Every row in connection order.
    #[cfg(test)]
    pub fn iter(&self) -> impl Iterator<Item = ConnRow> + '_ {
        (0..self.ids()).filter_map(|id| self.get(id))
    }
}

/// Where each row starts, by connection number: 32 bits each while the rows fit in 4 GiB
/// (some 20 million connections), 64 bits after (at 200 000 connections the narrow form is
/// 0.8 MB of the human table's 64 MiB budget).
#[derive(Debug, PartialEq)]
enum Offsets {
    Narrow(Vec<u32>),
    Wide(Vec<u64>),
}

impl Default for Offsets {
    fn default() -> Offsets {
        Offsets::Narrow(Vec::new())
    }
}

impl Offsets {
    fn len(&self) -> usize {
        match self {
            Offsets::Narrow(v) => v.len(),
            Offsets::Wide(v) => v.len(),
        }
    }

    /// Row `i`'s start, unless it was not stored.
    fn get(&self, i: usize) -> Option<u64> {
        match self {
            Offsets::Narrow(v) => v.get(i).filter(|&&x| x != u32::MAX).map(|&x| u64::from(x)),
            Offsets::Wide(v) => v.get(i).copied().filter(|&x| x != u64::MAX),
        }
    }

    fn set(&mut self, i: usize, at: u64) {
        if let Offsets::Narrow(v) = self
            && at >= u64::from(u32::MAX)
        {
            let wide = v.iter().map(|&x| {
                if x == u32::MAX {
                    u64::MAX
                } else {
                    u64::from(x)
                }
            });
            *self = Offsets::Wide(wide.collect());
        }
        match self {
            Offsets::Narrow(v) => {
                if v.len() <= i {
                    v.resize(i + 1, u32::MAX);
                }
                // Below u32::MAX: checked above.
                v[i] = at as u32;
            }
            Offsets::Wide(v) => {
                if v.len() <= i {
                    v.resize(i + 1, u64::MAX);
                }
                v[i] = at;
            }
        }
    }
}

#[cfg(test)]
mod offsets_tests {
    use super::Offsets;

    #[test]
    fn offsets_widen_past_4_gib_and_keep_what_they_held() {
        let mut o = Offsets::default();
        o.set(3, 7);
        o.set(1, u64::from(u32::MAX) - 1);
        assert!(matches!(o, Offsets::Narrow(_)));
        o.set(5, u64::from(u32::MAX) + 9);
        assert!(matches!(o, Offsets::Wide(_)));
        let got: Vec<Option<u64>> = (0..7).map(|i| o.get(i)).collect();
        let four_gib = u64::from(u32::MAX);
        assert_eq!(
            got,
            [
                None,
                Some(four_gib - 1),
                None,
                Some(7),
                None,
                Some(four_gib + 9),
                None
            ]
        );
        assert_eq!(o.len(), 6);
    }
}

/// Rows waiting for their turn to be printed, each encoded on its own and freed when taken.
#[derive(Default)]
pub struct RowQueue(HashMap<u32, Box<[u8]>, BuildHasherDefault<FxHasher>>);

impl RowQueue {
    pub fn insert(&mut self, row: &ConnRow) {
        let mut b = Vec::with_capacity(160);
        rowcodec::encode(row, &mut b);
        self.0.insert(row.id, b.into_boxed_slice());
    }

    /// Row `id`, no longer held.
    pub fn take(&mut self, id: u32) -> Option<ConnRow> {
        rowcodec::decode(&self.0.remove(&id)?)
    }
}
