//! Eviction keeps the results exact: rows of connections freed as they end equal the rows of
//! the unbounded analysis, whatever the interleaving (port reuse, retransmissions around the
//! close); a connection that resumes after the idle timeout becomes a new row.

use std::net::SocketAddr;

use netproto::frame::{TcpFlags, TcpOptions};
use proptest::prelude::*;

use super::conn::Cleared;
use super::*;

const A: u16 = TcpFlags::ACK;
const SYN: u16 = TcpFlags::SYN;
const FIN: u16 = TcpFlags::FIN;
const RST: u16 = TcpFlags::RST;
const PSH: u16 = TcpFlags::PSH;
const MSS: &[u8] = &[2, 4, 0x05, 0xb4];

/// One packet of a scripted connection: (time ms, from client, flags, seq, ack, length).
type Pkt = (i64, bool, u16, u32, u32, u32);

/// A short exchange between `port` and the server: handshake, `n` request/response rounds
/// (a response resent when `resend`), then both FINs (the last FIN sent twice when
/// `refin`) or a RST from the client.
fn script(start: i64, rtt: i64, n: u32, resend: bool, refin: bool, rst: bool) -> Vec<Pkt> {
    // Each connection its own ISNs: a SYN reusing the ports starts a new connection.
    let (mut c, mut s) = (1000 + start as u32 * 7, 900_000 + start as u32 * 13);
    let mut t = start;
    let mut v = vec![(t, true, SYN, c, 0, 0)];
    t += rtt;
    v.push((t, false, SYN | A, s, c + 1, 0));
    (c, s) = (c + 1, s + 1);
    t += rtt;
    v.push((t, true, A, c, s, 0));
    for _ in 0..n {
        v.push((t, true, PSH | A, c, s, 100));
        c += 100;
        t += rtt;
        v.push((t, false, PSH | A, s, c, 700));
        if resend {
            t += 3 * rtt;
            v.push((t, false, PSH | A, s, c, 700));
        }
        s += 700;
        t += rtt;
        v.push((t, true, A, c, s, 0));
    }
    if rst {
        v.push((t + 1, true, RST | A, c, s, 0));
        return v;
    }
    t += 1;
    v.push((t, false, FIN | A, s, c, 0));
    t += rtt;
    v.push((t, true, FIN | A, c, s + 1, 0));
    t += rtt;
    v.push((t, false, A, s + 1, c + 1, 0));
    if refin {
        // Its ACK lost: the client's FIN again, answered again, 200 ms later.
        v.push((t + 200, true, FIN | A, c, s + 1, 0));
        v.push((t + 200 + rtt, false, A, s + 1, c + 1, 0));
    }
    v
}

fn addr(port: u16, client: bool) -> SocketAddr {
    if client {
        SocketAddr::from(([10, 0, 0, 1], port))
    } else {
        SocketAddr::from(([10, 0, 0, 2], 80))
    }
}

/// Every connection's packets, merged in time order (ties: script order).
fn merge(conns: &[(u16, Vec<Pkt>)]) -> Vec<(u16, Pkt)> {
    let mut all: Vec<(u16, Pkt)> = conns
        .iter()
        .flat_map(|(port, v)| v.iter().map(move |p| (*port, *p)))
        .collect();
    all.sort_by_key(|(_, p)| p.0);
    all
}

fn feed(an: &mut Analyzer, pkts: &[(u16, Pkt)], mut each: impl FnMut(&mut Analyzer)) {
    for (frame, &(port, (ms, from_client, flags, seq, ack, len))) in pkts.iter().enumerate() {
        let (src, dst) = (addr(port, from_client), addr(port, !from_client));
        let s = TcpSample {
            frame: frame as u64 + 1,
            ts_ns: ms * 1_000_000,
            src,
            dst,
            seq,
            ack,
            flags: TcpFlags(flags),
            win: 8000,
            options: TcpOptions(if flags & SYN != 0 { MSS } else { &[] }),
            payload_len: len,
            payload: &[],
            wire_len: 54 + len,
            truncated: false,
        };
        an.handle(&s);
        each(an);
    }
    an.finish();
}

/// The rows without eviction, and with it (freed ones as they went, the rest at the end),
/// each by connection number, the latter through a [`RowStore`].
fn both(pkts: &[(u16, Pkt)], policy: Eviction) -> (Vec<ConnRow>, Vec<ConnRow>, u64) {
    let mut an = Analyzer::new();
    feed(&mut an, pkts, |_| {});
    let whole: Vec<ConnRow> = an.conns.iter().map(ConnRow::new).collect();
    let mut ev = Analyzer::evicting(policy);
    let mut store = RowStore::default();
    feed(&mut ev, pkts, |an| {
        for r in an.take_evicted() {
            store.insert(&r);
        }
    });
    for c in ev.conns.iter() {
        store.insert(&ConnRow::new(c));
    }
    (whole, store.iter().collect(), ev.evicted_total)
}

proptest! {
    #[test]
    fn evicted_rows_equal_the_unbounded_rows(
        conns in proptest::collection::vec(
            (0u16..6, 0i64..20_000, 1i64..300, 0u32..4, any::<bool>(), any::<bool>(), any::<bool>()),
            1..40),
    ) {
        // A few ports only: connections reuse them, while the earlier one is still held
        // or after it was freed.
        let scripted: Vec<(u16, Vec<Pkt>)> = conns
            .iter()
            .map(|&(p, start, rtt, n, resend, refin, rst)| {
                (40000 + p, script(start, rtt, n, resend, refin, rst))
            })
            .collect();
        // Keep each port's connections apart in time, so that every connection is a
        // connection (the unbounded analysis would merge overlapping ones differently).
        let mut by_port: Vec<(u16, Vec<Pkt>)> = Vec::new();
        for (port, v) in scripted {
            let end = by_port.iter().filter(|(p, _)| *p == port).flat_map(|(_, v)| v.last()).map(|p| p.0).max();
            let shift = end.map_or(0, |e| (e + 1 - v[0].0).max(0));
            by_port.push((port, v.into_iter().map(|mut p| { p.0 += shift; p }).collect()));
        }
        let pkts = merge(&by_port);
        let (whole, streamed, evicted) = both(&pkts, Eviction::default());
        prop_assert_eq!(&whole, &streamed);
        // Some were freed before the end whenever the capture outlasts a close by 5 s.
        let end = pkts.last().map_or(0, |p| p.1.0);
        let closed_early = by_port.iter().any(|(_, v)| v.last().unwrap().0 + 5_000 < end);
        prop_assert!(!closed_early || evicted > 0, "{:?}", by_port.iter().map(|(p, v)| (*p, v[0].0, v.last().unwrap().0)).collect::<Vec<_>>());
    }
}

#[test]
fn a_connection_idle_past_the_timeout_resumes_as_a_new_row() {
    let mut v = script(0, 10, 1, false, false, false);
    v.truncate(6); // no close
    let last = v.last().unwrap().0;
    // 20 s of silence, then the client sends again.
    let (_, _, _, seq, ack, _) = v[5];
    v.push((last + 20_000, true, PSH | A, seq, ack, 100));
    let pkts = merge(&[(40000, v)]);
    let policy = Eviction {
        idle_ns: 10_000_000_000,
        ..Eviction::default()
    };
    // A second connection keeps the capture's clock moving past the timeout.
    let mut other = script(15_000, 10, 0, false, false, false);
    other.truncate(3);
    let mut all = pkts;
    all.extend(merge(&[(40001, other)]));
    all.sort_by_key(|(_, p)| p.0);
    let (whole, streamed, evicted) = both(&all, policy);
    assert_eq!(whole.len(), 2, "one connection per port without eviction");
    assert_eq!(evicted, 1);
    assert_eq!(streamed.len(), 3, "the resumed one is a new row");
    let first = &streamed[0];
    assert_eq!(first.flows[0].packets + first.flows[1].packets, 6);
    assert_eq!(first.state().0, "S1");
    let resumed = &streamed[2];
    assert_eq!((resumed.id, resumed.client.port()), (2, 40000));
    assert_eq!(resumed.state().0, "OTH", "midstream: no SYN seen");
}

#[test]
fn a_short_connections_row_is_small() {
    let pkts = merge(&[(40000, script(0, 10, 1, false, false, false))]);
    let mut an = Analyzer::new();
    feed(&mut an, &pkts, |_| {});
    let row = ConnRow::new(&an.conns[0]);
    let mut bytes = Vec::new();
    rowcodec::encode(&row, &mut bytes);
    assert!(bytes.len() <= 200, "{} bytes", bytes.len());
    assert_eq!(rowcodec::decode(&bytes), Some(row));
}

#[test]
fn too_many_finished_connections_waiting_go_early() {
    // 5000 connections closed within a second: only MAX_CLOSING may wait their 5 s.
    let conns: Vec<(u16, Vec<Pkt>)> = (0..5000u16)
        .map(|i| (1024 + i, script(i64::from(i) / 5, 1, 0, false, false, true)))
        .collect();
    let pkts = merge(&conns);
    let mut an = Analyzer::evicting(Eviction::default());
    let mut most_live = 0;
    feed(&mut an, &pkts, |an| {
        an.take_evicted();
        most_live = most_live.max(an.conns.iter().count());
    });
    // The finished ones waiting, and the few still in their handshake.
    assert!(most_live <= table::MAX_CLOSING + 50, "{most_live}");
    assert_eq!(an.evicted_total, an.evicted_early);
    // The last to finish may wait for the next packet to push one out.
    assert!(an.evicted_total >= 5000 - table::MAX_CLOSING as u64 - 1);
}

/// A freed connection reused for the next one is exactly a new one (no counter, flag or
/// buffered segment of the old one left), whatever it went through.
#[test]
fn a_reused_connection_is_a_new_one() {
    for (resend, refin, rst) in [
        (false, false, false),
        (true, true, false),
        (true, false, true),
    ] {
        let pkts = merge(&[(5000, script(0, 10, 3, resend, refin, rst))]);
        let mut an = Analyzer::new();
        feed(&mut an, &pkts, |_| {});
        let old = Box::new(an.conns[0].clone());
        assert!(old.flows[0].packets > 0 && old.flows[1].packets > 0);
        let s = TcpSample {
            frame: 77,
            ts_ns: 9_000_000_000,
            src: addr(6000, true),
            dst: addr(6000, false),
            seq: 5,
            ack: 0,
            flags: TcpFlags(SYN),
            win: 100,
            options: TcpOptions(MSS),
            payload_len: 0,
            payload: &[],
            wire_len: 58,
            truncated: false,
        };
        let fresh = Conn::new(3, s.src, s.dst, &s);
        let Cleared(mut old) = old.clear();
        old.start(3, s.src, s.dst, &s);
        assert_eq!(format!("{old:?}"), format!("{fresh:?}"));
    }
}

/// A connection open while thousands of others come and go leaves the window of recent
/// connections (which stays bounded by the live ones) and is still found by its packets.
#[test]
fn a_long_lived_connection_leaves_the_window_and_is_still_found() {
    // Port 39999: a handshake, then a request every 2 s for a minute.
    let mut long = script(0, 10, 0, false, false, false);
    long.truncate(3);
    let (_, _, _, mut seq, ack, _) = long[2];
    for t in (2_000..60_000).step_by(2_000) {
        long.push((t, true, PSH | A, seq, ack, 10));
        seq += 10;
    }
    // 20 000 short ones, 3 ms apart, each freed 5 s after it closes.
    let mut conns = vec![(39999, long)];
    conns.extend((0..20_000u16).map(|i| {
        (
            1024 + i,
            script(5 + 3 * i64::from(i), 1, 0, false, false, false),
        )
    }));
    let pkts = merge(&conns);
    let mut an = Analyzer::evicting(Eviction::default());
    let (mut moved, mut widest) = (false, 0);
    feed(&mut an, &pkts, |an| {
        an.take_evicted();
        let (base, len, live) = an.conns.window();
        moved |= base > 0 && an.conns.get(0).is_some();
        widest = widest.max(len.saturating_sub(2 * live));
    });
    assert!(moved, "connection 0 left the window");
    // Checked as each connection opens; those freed by a packet since free their slots later.
    assert!(
        widest <= table::WINDOW_SLACK + 16,
        "{widest} slots beyond twice the live ones"
    );
    let first = &an.conns[0];
    assert_eq!((first.client.port(), first.flows[0].packets), (39999, 31));
    let (whole, streamed, _) = both(&pkts, Eviction::default());
    assert_eq!(whole, streamed);
}
