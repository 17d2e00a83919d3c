//! A [`ConnRow`] as the bytes a [`super::RowStore`] keeps: LEB128 varints (zigzag for
//! signed values), a tag byte before what may be absent, times and frame numbers relative to
//! the connection's first, floats in as few bytes as give them back bit for bit ([`Exact`]).
//! About 150 bytes for a short connection.
//!
//! Written by hand rather than through serde: the human table reads every row back for its
//! detail block, and a generic decoder's visitor per field cost ~4 000 instructions a row,
//! more than analysing the connection's packets; this one ~600.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6};

use netproto::frame::TcpOptions;

use super::conn::StateFacts;
use super::flow::Stat;
use super::options::SynOptions;
use super::vantage::VantageFacts;
use super::{ConnRow, FlowRow, LimitedBy};

/// Append `row`'s encoding to `out`.
pub fn encode(row: &ConnRow, out: &mut Vec<u8>) {
    let t0 = row.first_ts;
    let rel = |t: i64| t.wrapping_sub(t0);
    let w = &mut Writer(out);
    w.u(u64::from(row.id));
    w.addr(row.client);
    w.addr(row.server);
    w.i(t0);
    w.i(rel(row.last_ts));
    w.u(row.first_frame);
    w.u(row.last_frame.wrapping_sub(row.first_frame));
    w.u(u64::from(row.state.bits()));
    w.opt(row.irtt_ns, |w, v| w.i(v));
    w.vantage(&row.vantage);
    w.opt(row.limited, |w, l| {
        w.i(rel(l.start));
        w.i(rel(l.end));
        for ns in l.ns {
            w.i(ns);
        }
    });
    for f in &row.flows {
        w.flow(f, t0);
    }
}

/// The row encoded at the start of `bytes` (`None` when they are not one).
pub fn decode(bytes: &[u8]) -> Option<ConnRow> {
    let r = &mut Reader::new(bytes);
    let id = r.u32();
    let (client, server) = (r.addr(), r.addr());
    let t0 = r.i();
    let abs = |t: i64| t.wrapping_add(t0);
    let last_ts = abs(r.i());
    let first_frame = r.u();
    let last_frame = r.u().wrapping_add(first_frame);
    let state = StateFacts::from_bits(r.u16());
    let irtt_ns = r.opt(Reader::i);
    let vantage = r.vantage();
    let limited = r.opt(|r| {
        let (start, end) = (abs(r.i()), abs(r.i()));
        let mut ns = [0; 5];
        for v in &mut ns {
            *v = r.i();
        }
        LimitedBy { start, end, ns }
    });
    let flows = [r.flow(t0), r.flow(t0)];
    r.ok().then_some(ConnRow {
        id,
        client,
        server,
        first_ts: t0,
        last_ts,
        first_frame,
        last_frame,
        state,
        irtt_ns,
        vantage,
        limited,
        flows,
    })
}

/// An `f64` in as few bytes as give it back exactly: most of a row's values are nanoseconds
/// divided into milliseconds (a varint) or medians of `f32` samples.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Exact {
    /// `ns as f64 / 1e6`
    Ms(i64),
    F32(f32),
    F64(f64),
}

impl Exact {
    fn of(x: f64) -> Exact {
        // Rounded to the nearest integer by adding and taking away 1.5 * 2^52 (no libm call);
        // any integer that gives `x` back bit for bit will do (-0.0 and NaNs do not).
        const ROUND: f64 = 6_755_399_441_055_744.0;
        let v = x * 1e6;
        let ns = ((v + ROUND) - ROUND) as i64;
        if v.abs() < 2e15 && (ns as f64 / 1e6).to_bits() == x.to_bits() {
            Exact::Ms(ns)
        } else if f64::from(x as f32).to_bits() == x.to_bits() {
            Exact::F32(x as f32)
        } else {
            Exact::F64(x)
        }
    }

    fn value(self) -> f64 {
        match self {
            Exact::Ms(ns) => ns as f64 / 1e6,
            Exact::F32(x) => f64::from(x),
            Exact::F64(x) => x,
        }
    }
}

const V4: u8 = 4;
const V6: u8 = 6;

struct Writer<'a>(&'a mut Vec<u8>);

impl Writer<'_> {
    fn u(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push(v as u8 | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }

    fn i(&mut self, v: i64) {
        self.u(((v << 1) ^ (v >> 63)) as u64);
    }

    fn f(&mut self, x: f64) {
        match Exact::of(x) {
            Exact::Ms(ns) => {
                self.0.push(0);
                self.i(ns);
            }
            Exact::F32(v) => {
                self.0.push(1);
                self.0.extend_from_slice(&v.to_le_bytes());
            }
            Exact::F64(v) => {
                self.0.push(2);
                self.0.extend_from_slice(&v.to_le_bytes());
            }
        }
    }

    fn opt<T>(&mut self, v: Option<T>, put: impl FnOnce(&mut Self, T)) {
        match v {
            None => self.0.push(0),
            Some(v) => {
                self.0.push(1);
                put(self, v);
            }
        }
    }

    fn addr(&mut self, a: SocketAddr) {
        match a {
            SocketAddr::V4(a) => {
                self.0.push(V4);
                self.0.extend_from_slice(&a.ip().octets());
            }
            SocketAddr::V6(a) => {
                self.0.push(V6);
                self.0.extend_from_slice(&a.ip().octets());
                self.u(u64::from(a.flowinfo()));
                self.u(u64::from(a.scope_id()));
            }
        }
        self.u(u64::from(a.port()));
    }

    /// Count first, the rest only when there were samples.
    fn stat(&mut self, s: &Stat) {
        self.u(s.n);
        if s.n > 0 {
            self.f(s.sum);
            self.f(s.min);
            self.f(s.max);
        }
    }

    fn vantage(&mut self, v: &VantageFacts) {
        self.u(u64::from(v.data_dir));
        self.opt(v.split, |w, (a, b)| {
            w.i(a);
            w.i(b);
        });
        for x in [v.d2a, v.a2d, v.srtt_ms] {
            self.opt(x, Self::f);
        }
    }

    fn flow(&mut self, f: &FlowRow, t0: i64) {
        for v in [f.packets, f.bytes, f.payload_bytes, f.unique_bytes] {
            self.u(v);
        }
        self.opt(f.last_data_ts, |w, t| w.i(t.wrapping_sub(t0)));
        self.opt(f.isn, |w, v| w.u(u64::from(v)));
        self.opt(f.syn_opts, |w, o| {
            let raw = o.options().0;
            w.0.push(raw.len() as u8);
            w.0.extend_from_slice(raw);
        });
        let counts = [
            f.retrans,
            f.fast,
            f.timeout,
            f.spurious,
            f.probes,
            f.dupacks,
            f.ooo,
            f.lost,
            f.zero_windows,
        ];
        for v in counts {
            self.u(v);
        }
        self.stat(&f.rtt);
        for v in [f.acks_new, f.acks_multi, f.acks_single] {
            self.u(v);
        }
        self.stat(&f.single_ack_delay);
    }
}

/// Reads that cannot fail, so that a row reads without a branch per field: past the end or
/// on a byte that is not what the encoder writes there, a read gives 0 (or nothing) and
/// marks the reader bad, which [`decode`] checks once at the end.
struct Reader<'a> {
    bytes: &'a [u8],
    bad: bool,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes, bad: false }
    }

    /// Every read was of bytes the encoder writes.
    fn ok(&self) -> bool {
        !self.bad
    }

    fn byte(&mut self) -> u8 {
        match self.bytes.split_first() {
            Some((&b, rest)) => {
                self.bytes = rest;
                b
            }
            None => {
                self.bad = true;
                0
            }
        }
    }

    fn bytes<const N: usize>(&mut self) -> [u8; N] {
        match self.bytes.split_first_chunk::<N>() {
            Some((b, rest)) => {
                self.bytes = rest;
                *b
            }
            None => {
                self.bad = true;
                [0; N]
            }
        }
    }

    /// Most of a row's varints are a byte long: those without a loop.
    #[inline]
    fn u(&mut self) -> u64 {
        match self.bytes.split_first() {
            Some((&b, rest)) if b < 0x80 => {
                self.bytes = rest;
                u64::from(b)
            }
            _ => self.u_long(),
        }
    }

    fn u_long(&mut self) -> u64 {
        // Eight bytes at once, nearly always: the first without its top bit ends the
        // varint; the 7-bit groups up to it are packed by halves, without a branch.
        if let Some(&chunk) = self.bytes.first_chunk::<8>() {
            let x = u64::from_le_bytes(chunk);
            let ends = !x & 0x8080_8080_8080_8080;
            if ends != 0 {
                let x = x & (ends ^ (ends - 1)) & 0x7f7f_7f7f_7f7f_7f7f;
                let x = (x & 0x007f_007f_007f_007f) | ((x & 0x7f00_7f00_7f00_7f00) >> 1);
                let x = (x & 0x0000_3fff_0000_3fff) | ((x & 0x3fff_0000_3fff_0000) >> 2);
                let x = (x & 0x0000_0000_0fff_ffff) | ((x & 0x0fff_ffff_0000_0000) >> 4);
                self.bytes = &self.bytes[(ends.trailing_zeros() as usize + 1) / 8..];
                return x;
            }
        }
        let mut v = 0u64;
        for (i, &b) in self.bytes.iter().enumerate().take(10) {
            v |= u64::from(b & 0x7f) << (7 * i);
            if b < 0x80 {
                // A tenth byte holds the top bit only.
                self.bad |= i == 9 && b > 1;
                self.bytes = &self.bytes[i + 1..];
                return v;
            }
        }
        self.bad = true;
        0
    }

    /// A varint that must fit `T`.
    fn fit<T: TryFrom<u64> + Default>(&mut self) -> T {
        let v = self.u();
        T::try_from(v).unwrap_or_else(|_| {
            self.bad = true;
            T::default()
        })
    }

    fn u32(&mut self) -> u32 {
        self.fit()
    }

    fn u16(&mut self) -> u16 {
        self.fit()
    }

    fn i(&mut self) -> i64 {
        let z = self.u();
        (z >> 1) as i64 ^ -((z & 1) as i64)
    }

    fn f(&mut self) -> f64 {
        let e = match self.byte() {
            0 => Exact::Ms(self.i()),
            1 => Exact::F32(f32::from_le_bytes(self.bytes())),
            2 => Exact::F64(f64::from_le_bytes(self.bytes())),
            _ => {
                self.bad = true;
                Exact::F64(0.0)
            }
        };
        e.value()
    }

    /// A tag, then `get`'s value when it is 1.
    fn opt<T>(&mut self, get: impl FnOnce(&mut Self) -> T) -> Option<T> {
        match self.byte() {
            0 => None,
            1 => Some(get(self)),
            _ => {
                self.bad = true;
                None
            }
        }
    }

    fn addr(&mut self) -> SocketAddr {
        match self.byte() {
            V4 => {
                let ip = Ipv4Addr::from(self.bytes::<4>());
                SocketAddr::new(IpAddr::V4(ip), self.u16())
            }
            V6 => {
                let ip = Ipv6Addr::from(self.bytes::<16>());
                let (flowinfo, scope, port) = (self.u32(), self.u32(), self.u16());
                SocketAddr::V6(SocketAddrV6::new(ip, port, flowinfo, scope))
            }
            _ => {
                self.bad = true;
                SocketAddr::from(([0, 0, 0, 0], 0))
            }
        }
    }

    fn stat(&mut self) -> Stat {
        match self.u() {
            0 => Stat::default(),
            n => {
                let (sum, min, max) = (self.f(), self.f(), self.f());
                Stat { n, sum, min, max }
            }
        }
    }

    fn vantage(&mut self) -> VantageFacts {
        let data_dir = self.fit();
        let split = self.opt(|r| (r.i(), r.i()));
        let (d2a, a2d, srtt_ms) = (self.opt(Self::f), self.opt(Self::f), self.opt(Self::f));
        VantageFacts {
            data_dir,
            split,
            d2a,
            a2d,
            srtt_ms,
        }
    }

    fn syn_opts(&mut self) -> SynOptions {
        let n = usize::from(self.byte());
        match self.bytes.split_at_checked(n) {
            Some((raw, rest)) => {
                self.bytes = rest;
                SynOptions::new(TcpOptions(raw))
            }
            None => {
                self.bad = true;
                SynOptions::new(TcpOptions(&[]))
            }
        }
    }

    /// The fields in the order they were written (a struct expression's fields are
    /// evaluated in the order they are written).
    fn flow(&mut self, t0: i64) -> FlowRow {
        FlowRow {
            packets: self.u(),
            bytes: self.u(),
            payload_bytes: self.u(),
            unique_bytes: self.u(),
            last_data_ts: self.opt(|r| r.i().wrapping_add(t0)),
            isn: self.opt(Self::u32),
            syn_opts: self.opt(Self::syn_opts),
            retrans: self.u(),
            fast: self.u(),
            timeout: self.u(),
            spurious: self.u(),
            probes: self.u(),
            dupacks: self.u(),
            ooo: self.u(),
            lost: self.u(),
            zero_windows: self.u(),
            rtt: self.stat(),
            acks_new: self.u(),
            acks_multi: self.u(),
            acks_single: self.u(),
            single_ack_delay: self.stat(),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use proptest::prelude::*;

    use super::*;

    pub(crate) fn floats() -> impl Strategy<Value = f64> {
        prop_oneof![
            any::<f64>(),
            any::<i64>().prop_map(|ns| ns as f64 / 1e6),
            any::<f32>().prop_map(f64::from),
            Just(-0.0),
            Just(f64::NAN),
        ]
    }

    fn stat() -> impl Strategy<Value = Stat> {
        prop_oneof![
            Just(Stat::default()),
            (1..u64::MAX, floats(), floats(), floats()).prop_map(|(n, sum, min, max)| Stat {
                n,
                sum,
                min,
                max
            }),
        ]
    }

    fn addr() -> impl Strategy<Value = SocketAddr> {
        prop_oneof![
            (any::<[u8; 4]>(), any::<u16>()).prop_map(|(ip, port)| SocketAddr::from((ip, port))),
            (any::<[u8; 16]>(), any::<u16>(), any::<u32>(), any::<u32>()).prop_map(
                |(ip, port, flow, scope)| {
                    SocketAddr::V6(SocketAddrV6::new(ip.into(), port, flow, scope))
                }
            ),
        ]
    }

    fn flow() -> impl Strategy<Value = FlowRow> {
        let syn = proptest::option::of(
            proptest::collection::vec(any::<u8>(), 0..=40)
                .prop_map(|raw| SynOptions::new(TcpOptions(&raw))),
        );
        (
            any::<[u64; 4]>(),
            any::<(Option<i64>, Option<u32>)>(),
            syn,
            any::<[u64; 9]>(),
            (stat(), stat()),
            any::<[u64; 3]>(),
        )
            .prop_map(
                |(sizes, (last_data_ts, isn), syn_opts, c, (rtt, delay), acks)| FlowRow {
                    packets: sizes[0],
                    bytes: sizes[1],
                    payload_bytes: sizes[2],
                    unique_bytes: sizes[3],
                    last_data_ts,
                    isn,
                    syn_opts,
                    retrans: c[0],
                    fast: c[1],
                    timeout: c[2],
                    spurious: c[3],
                    probes: c[4],
                    dupacks: c[5],
                    ooo: c[6],
                    lost: c[7],
                    zero_windows: c[8],
                    rtt,
                    acks_new: acks[0],
                    acks_multi: acks[1],
                    acks_single: acks[2],
                    single_ack_delay: delay,
                },
            )
    }

    /// Any row (the JSON record's property test draws its rows here too).
    pub(crate) fn row() -> impl Strategy<Value = ConnRow> {
        let vantage = (
            any::<(u8, Option<(i64, i64)>)>(),
            proptest::option::of(floats()),
            proptest::option::of(floats()),
            proptest::option::of(floats()),
        )
            .prop_map(|((data_dir, split), d2a, a2d, srtt_ms)| VantageFacts {
                data_dir,
                split,
                d2a,
                a2d,
                srtt_ms,
            });
        let limited = any::<Option<(i64, i64, [i64; 5])>>()
            .prop_map(|l| l.map(|(start, end, ns)| LimitedBy { start, end, ns }));
        (
            (any::<u32>(), addr(), addr()),
            any::<(i64, i64, u64, u64, u16, Option<i64>)>(),
            vantage,
            limited,
            (flow(), flow()),
        )
            .prop_map(|((id, client, server), times, vantage, limited, (a, b))| {
                let (first_ts, last_ts, first_frame, last_frame, state, irtt_ns) = times;
                ConnRow {
                    id,
                    client,
                    server,
                    first_ts,
                    last_ts,
                    first_frame,
                    last_frame,
                    state: StateFacts::from_bits(state),
                    irtt_ns,
                    vantage,
                    limited,
                    flows: [a, b],
                }
            })
    }

    proptest! {
        #[test]
        fn floats_come_back_bit_for_bit(x in floats()) {
            let mut b = Vec::new();
            Writer(&mut b).f(x);
            let r = &mut Reader::new(&b);
            prop_assert_eq!(r.f().to_bits(), x.to_bits());
            prop_assert!(r.ok() && r.bytes.is_empty());
        }

        #[test]
        fn varints_come_back(v in prop_oneof![any::<u64>(), 0u64..1 << 20, Just(u64::MAX)], pad in 0usize..12) {
            let mut b = Vec::new();
            Writer(&mut b).u(v);
            // LEB128 byte by byte, as any reader of it expects.
            let mut leb = Vec::new();
            let mut x = v;
            while x >= 0x80 {
                leb.push(x as u8 | 0x80);
                x >>= 7;
            }
            leb.push(x as u8);
            prop_assert_eq!(&b, &leb);
            let len = b.len();
            // With bytes after it (eight at once) and without (one by one).
            b.extend(std::iter::repeat_n(0xff, pad));
            let r = &mut Reader::new(&b);
            prop_assert_eq!(r.u(), v);
            prop_assert!(r.ok());
            prop_assert_eq!(r.bytes.len(), pad);
            prop_assert_eq!(len, b.len() - pad);
        }

        #[test]
        fn any_row_comes_back_as_it_went(row in row()) {
            let mut b = vec![0xAA];
            encode(&row, &mut b);
            // NaNs are not equal to themselves: compare the spelling (floats are checked
            // bit for bit above).
            prop_assert_eq!(format!("{:?}", decode(&b[1..])), format!("{:?}", Some(&row)));
            // Cut short anywhere, it is not a row: no panic, no made-up values.
            for end in 1..b.len() {
                prop_assert!(decode(&b[1..end]).is_none());
            }
        }

        #[test]
        fn arbitrary_bytes_decode_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = decode(&bytes);
        }
    }
}
