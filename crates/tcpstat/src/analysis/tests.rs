use netproto::frame::{TcpFlags, TcpOptions};
use proptest::prelude::*;

use super::*;

const C: &str = "10.0.0.1:40000";
const S: &str = "10.0.0.2:80";

struct Sim {
    an: Analyzer,
    frame: u64,
}

impl Sim {
    fn new() -> Sim {
        Sim {
            an: Analyzer::new(),
            frame: 0,
        }
    }
    #[allow(clippy::too_many_arguments)]
    fn pkt(
        &mut self,
        ms: i64,
        from_client: bool,
        flags: u16,
        seq: u32,
        ack: u32,
        len: u32,
        win: u16,
    ) -> PacketInfo {
        self.frame += 1;
        // MSS 1000.
        let mut s = sample(
            self.frame,
            ms,
            from_client,
            (flags, seq, ack),
            &[2, 4, 0x03, 0xe8],
        );
        (s.win, s.payload_len, s.wire_len) = (win, len, 54 + len);
        self.an.handle(&s)
    }
}

const A: u16 = TcpFlags::ACK;
const SYN: u16 = TcpFlags::SYN;
const FIN: u16 = TcpFlags::FIN;
const RST: u16 = TcpFlags::RST;

fn handshake(sim: &mut Sim) {
    sim.pkt(0, true, SYN, 1000, 0, 0, 8000);
    sim.pkt(50, false, SYN | A, 5000, 1001, 0, 8000);
    sim.pkt(100, true, A, 1001, 5001, 0, 8000);
}

#[test]
fn fast_retransmit_after_three_dup_acks() {
    let mut sim = Sim::new();
    handshake(&mut sim);
    // Segments 1..=5 of 1000 bytes; the first is lost.
    for i in 0..5u32 {
        sim.pkt(110 + i as i64, true, A, 1001 + i * 1000, 5001, 1000, 8000);
    }
    // The receiver's window shrinks: a window update (same ack), then three duplicates.
    let first = sim.pkt(160, false, A, 5001, 1001, 0, 7000);
    assert_eq!(first.flags, af::WINDOW_UPDATE);
    let mut last = PacketInfo::default();
    for i in 0..3 {
        last = sim.pkt(161 + i, false, A, 5001, 1001, 0, 7000);
    }
    assert_ne!(last.flags & af::DUPLICATE_ACK, 0);
    assert_eq!(last.dup_ack_num, 3);
    assert_eq!(last.dup_ack_frame, 2, "the SYN-ACK carried that ack first");
    let r = sim.pkt(165, true, A, 1001, 5001, 1000, 8000);
    assert_ne!(r.flags & af::FAST_RETRANSMISSION, 0);
    assert_ne!(
        r.flags & af::RETRANSMISSION,
        0,
        "fast counts as retransmission too"
    );
    assert_eq!(r.retrans, Some(RetransKind::Fast));
    assert!(
        r.reason.unwrap().contains("3 duplicate ACKs"),
        "{:?}",
        sim.an.conns[0].flows[1].dupacknum
    );
    let c = &sim.an.conns[0];
    assert_eq!((c.flows[0].fast, c.flows[0].timeout), (1, 0));
    // Karn: the ACK covering the retransmitted segment gives no RTT sample.
    let n = c.flows[0].rtt.n;
    sim.pkt(215, false, A, 5001, 6001, 0, 8000);
    assert_eq!(sim.an.conns[0].flows[0].rtt.n, n);
}

#[test]
fn timeout_retransmission_and_rtt() {
    let mut sim = Sim::new();
    handshake(&mut sim);
    sim.pkt(110, true, A, 1001, 5001, 1000, 8000);
    let a = sim.pkt(160, false, A, 5001, 2001, 0, 8000);
    assert_eq!(a.acked_frame, Some(4));
    assert_eq!(a.ack_rtt_ns, Some(50_000_000));
    sim.pkt(170, true, A, 2001, 5001, 1000, 8000);
    // No ACK for a second, then the same segment again: an RTO.
    let r = sim.pkt(1170, true, A, 2001, 5001, 1000, 8000);
    assert_ne!(r.flags & af::RETRANSMISSION, 0);
    assert_eq!(r.flags & af::FAST_RETRANSMISSION, 0);
    assert_eq!(r.retrans, Some(RetransKind::Timeout));
    assert_eq!(r.rto_ns, Some(1_000_000_000));
    assert_eq!(r.orig_frame, Some(6));
    let c = &sim.an.conns[0];
    // The SYN (acked by the SYN-ACK) and the first segment.
    assert_eq!(c.flows[0].rtt.n, 2);
    assert_eq!(c.irtt_ns, Some(100_000_000));
    assert_eq!(c.state().0, "S1");
}

#[test]
fn states_and_rst_window() {
    let mut sim = Sim::new();
    sim.pkt(0, true, SYN, 1000, 0, 0, 8000);
    sim.pkt(1, false, RST | A, 0, 1001, 0, 0);
    assert_eq!(sim.an.conns[0].state().0, "REJ");
    let mut sim = Sim::new();
    handshake(&mut sim);
    // A RST far outside the server's window.
    let r = sim.pkt(200, true, RST, 900_000, 0, 0, 0);
    assert_ne!(r.flags & af::RST_OUT_OF_WINDOW, 0);
    assert_eq!(sim.an.conns[0].state().0, "RSTO");
    // Neither the forged RST nor one in the window moves it: a RST in the window and then
    // one at exactly RCV.NXT are both accepted.
    let r = sim.pkt(201, true, RST, 3001, 0, 0, 0);
    assert_eq!(r.flags & af::RST_OUT_OF_WINDOW, 0);
    let r = sim.pkt(202, true, RST, 1001, 0, 0, 0);
    assert_eq!(r.flags & af::RST_OUT_OF_WINDOW, 0);
    let mut sim = Sim::new();
    handshake(&mut sim);
    sim.pkt(200, false, FIN | A, 5001, 1001, 0, 8000);
    sim.pkt(201, true, FIN | A, 1001, 5002, 0, 8000);
    let (code, words) = sim.an.conns[0].state();
    assert_eq!(code, "SF");
    assert!(words.contains("server first"));
}

#[test]
fn port_reuse_starts_a_new_stream() {
    let mut sim = Sim::new();
    handshake(&mut sim);
    let p = sim.pkt(500, true, SYN, 777_777, 0, 0, 8000);
    assert_eq!(p.conn, 1);
    assert_ne!(p.flags & af::REUSED_PORTS, 0);
}

#[test]
fn memory_is_bounded_by_outstanding_data() {
    let mut sim = Sim::new();
    handshake(&mut sim);
    let mut seq = 1001u32;
    for i in 0..20_000i64 {
        sim.pkt(200 + i, true, A, seq, 5001, 1000, 8000);
        seq = seq.wrapping_add(1000);
        sim.pkt(200 + i, false, A, 5001, seq, 0, 8000);
    }
    assert!(sim.an.outstanding() < 8, "{}", sim.an.outstanding());
}

/// Feeds samples with arbitrary fields; `ts(i, dt)` gives sample i's timestamp.
fn feed(
    pkts: Vec<(bool, u8, u32, u32, u32, u16, i64)>,
    mut ts: impl FnMut(i64) -> i64,
) -> Result<(), TestCaseError> {
    let mut an = Analyzer::new();
    for (i, (dir, flags, seq, ack, len, win, dt)) in pkts.into_iter().enumerate() {
        let (src, dst) = if dir { (C, S) } else { (S, C) };
        // Window scale, then (from the sample's own numbers) timestamps and a SACK block on
        // most packets: the TSval clock, the echoes and the SACK scoreboard see wild values.
        let tsval = seq.rotate_left(7) ^ ack;
        let tsecr = if flags & 1 == 0 {
            ack.rotate_left(3)
        } else {
            tsval.wrapping_sub(1)
        };
        let mut ws = vec![3, 3, flags % 16, 1, 1, 8, 10];
        ws.extend(tsval.to_be_bytes());
        ws.extend(tsecr.to_be_bytes());
        if flags & 2 != 0 {
            ws.extend([1, 1, 5, 10]);
            ws.extend(ack.wrapping_add(len).to_be_bytes());
            ws.extend(ack.wrapping_add(len.wrapping_mul(3)).to_be_bytes());
        }
        let ws = if flags & 4 != 0 { &ws[..3] } else { &ws[..] };
        let s = TcpSample {
            frame: i as u64 + 1,
            ts_ns: ts(dt),
            src: src.parse().unwrap(),
            dst: dst.parse().unwrap(),
            seq,
            ack,
            flags: TcpFlags(u16::from(flags)),
            win,
            options: TcpOptions(ws),
            payload_len: len,
            payload: &[],
            wire_len: 54,
            truncated: len > 0,
        };
        let p = an.handle(&s);
        prop_assert!((p.conn as usize) < an.conns.len());
        let _ = an.conns[p.conn as usize].state();
    }
    an.finish();
    for c in &an.conns {
        let v = c.vantage();
        prop_assert!(v.srtt_ms.is_none_or(f64::is_finite));
        for f in &c.flows {
            if let Some(l) = f.cwnd.limited_by() {
                let total: f64 = Limit::ALL.iter().map(|k| l.share(*k)).sum();
                prop_assert!(total == 0.0 || (total - 1.0).abs() < 1e-6, "{l:?}");
            }
        }
    }
    prop_assert!(an.outstanding() <= an.conns.len() * 2 * (MAX_UNACKED + 4096));
    Ok(())
}

proptest! {
    #[test]
    fn arbitrary_samples_never_panic(pkts in proptest::collection::vec(
        (any::<bool>(), any::<u8>(), any::<u32>(), any::<u32>(), 0u32..70_000, any::<u16>(), 0i64..5_000),
        1..300)) {
        let mut t = 0i64;
        feed(pkts, |dt| { t += dt; t })?;
    }

    // Timestamps anywhere in i64, in any order: every difference the engine takes saturates.
    #[test]
    fn arbitrary_timestamps_never_overflow(pkts in proptest::collection::vec(
        (any::<bool>(), any::<u8>(), any::<u32>(), any::<u32>(), 0u32..3_000, any::<u16>(),
         prop_oneof![Just(i64::MIN), Just(i64::MAX), Just(0i64), any::<i64>()]),
        1..100)) {
        feed(pkts, |t| t)?;
    }
}

#[test]
fn a_syn_sent_again_at_once_is_a_retransmission_not_out_of_order() {
    // Wireshark 4.0 counts SYN and FIN as one byte when it asks whether the segment ends where
    // the flow's next sequence number is: a second SYN 2 ms after the first (inside the 3 ms
    // out-of-order window) is a retransmission.
    let mut sim = Sim::new();
    sim.pkt(0, true, SYN, 1000, 0, 0, 8000);
    let again = sim.pkt(2, true, SYN, 1000, 0, 0, 8000);
    assert_eq!(again.flags & af::OUT_OF_ORDER, 0);
    assert_ne!(again.flags & af::RETRANSMISSION, 0);
}

#[test]
fn data_already_acknowledged_is_spurious_before_out_of_order() {
    // Wireshark 4.0 tests "spurious" first: a segment the peer has already acknowledged, sent
    // again within the out-of-order window (the handshake RTT), is a spurious retransmission.
    let mut sim = Sim::new();
    handshake(&mut sim);
    sim.pkt(110, true, A, 1001, 5001, 1000, 8000);
    sim.pkt(111, true, A, 2001, 5001, 1000, 8000);
    sim.pkt(120, false, A, 5001, 3001, 0, 8000);
    let r = sim.pkt(125, true, A, 1001, 5001, 1000, 8000);
    assert_ne!(r.flags & af::SPURIOUS_RETRANSMISSION, 0);
    assert_eq!(r.flags & af::OUT_OF_ORDER, 0);
}

/// A sample of no payload from the client or the server: frame, time (ms), flags, sequence
/// and acknowledgement numbers, options.
fn sample(
    frame: u64,
    ms: i64,
    from_client: bool,
    (flags, seq, ack): (u16, u32, u32),
    options: &'static [u8],
) -> TcpSample<'static> {
    let (src, dst) = if from_client { (C, S) } else { (S, C) };
    TcpSample {
        frame,
        ts_ns: ms * 1_000_000,
        src: src.parse().unwrap(),
        dst: dst.parse().unwrap(),
        seq,
        ack,
        flags: TcpFlags(flags),
        win: 8000,
        options: TcpOptions(options),
        payload_len: 0,
        payload: &[],
        wire_len: 54 + options.len() as u32,
        truncated: false,
    }
}

/// A sample with timestamps, for the handshake tests.
fn ts_pkt(
    frame: u64,
    ms: i64,
    from_client: bool,
    flags: u16,
    seq: u32,
    ack: u32,
    ts: (u32, u32),
) -> TcpSample<'static> {
    let mut o = vec![1, 1, 8, 10];
    o.extend(ts.0.to_be_bytes());
    o.extend(ts.1.to_be_bytes());
    sample(
        frame,
        ms,
        from_client,
        (flags, seq, ack),
        Box::leak(o.into_boxed_slice()),
    )
}

#[test]
fn a_syn_sent_twice_does_not_move_the_capture_point() {
    // Captured next to the server, 1 s from the client: the client's SYN timer fires as the
    // SYN/ACK reaches it, so a second SYN arrives with the ACK. Matched by echoes, the
    // handshake still splits 0 ms (server's side) / 1000 ms (client's side).
    let mut an = Analyzer::new();
    an.handle(&ts_pkt(1, 0, true, SYN, 1000, 0, (100, 0)));
    an.handle(&ts_pkt(2, 0, false, SYN | A, 5000, 1001, (7000, 100)));
    an.handle(&ts_pkt(3, 995, true, SYN, 1000, 0, (1100, 0)));
    an.handle(&ts_pkt(4, 995, false, SYN | A, 5000, 1001, (7995, 1100)));
    an.handle(&ts_pkt(5, 1000, true, A, 1001, 5001, (1101, 7000)));
    let c = &an.conns[0];
    assert_eq!(c.hs_split, Some((0, 1_000_000_000)));
    let v = c.vantage();
    assert_eq!(v.place, Place::NearServer, "{}", v.evidence);
    assert_eq!(
        v.evidence.to_string(),
        "server (the data receiver): SYN→SYN/ACK 0.000 ms, SYN/ACK→ACK 1000.000 ms"
    );
    assert_eq!(c.sender_halves(0), Some([1_000_000_000, 0]));
    // Wireshark's iRTT stays its own: from the most recent SYN.
    assert_eq!(c.irtt_ns, Some(5_000_000));
}

#[test]
fn the_vantage_evidence_without_a_handshake_is_worded_from_the_medians() {
    use super::vantage::VantageFacts;
    let facts = |d2a, a2d| VantageFacts {
        data_dir: 1,
        split: None,
        d2a,
        a2d,
        srtt_ms: None,
    };
    // Data from the server; its ACKs come back at once: captured next to the client, the
    // data's receiver. 2.0625 sits on a tie at three places: rounded to even, as `{:.3}` does.
    let v = facts(Some(2.0625), Some(20.0)).vantage();
    assert_eq!(v.place, Place::NearClient);
    assert_eq!(
        v.evidence.to_string(),
        "client (the data receiver): median data→ACK 2.062 ms, ACK→data 20.000 ms (no handshake captured)"
    );
    let v = facts(None, Some(20.0)).vantage();
    assert_eq!(
        serde_json::to_string(&v.evidence).unwrap(),
        "\"unknown: no handshake and no timestamp echoes to tell the two sides of the path apart\""
    );
}
