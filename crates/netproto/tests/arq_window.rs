//! Flow control through WIN, engine against engine with a hand-driven clock: a receiver whose
//! application does not read shrinks its window to 0, the sender keeps exactly one probe in
//! flight, and reading reopens the window with a window-update ACK.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use netproto::arq::{Mode, Receiver, ReceiverConfig, Sender, SenderConfig};
use netproto::segment::{HEADER_LEN, MAX_SEGMENT, Repr, seq};

/// The bytes of the ACK for absolute segment index `next` with window `win`.
fn ack_bytes(next: u64, win: u8) -> [u8; HEADER_LEN] {
    let mut b = [0u8; HEADER_LEN];
    Repr::Ack {
        seq: seq::wire(next),
        win,
    }
    .emit(&mut b)
    .expect("an ACK fits its header");
    b
}

#[test]
fn zero_window_probe_and_update() {
    let t0 = Instant::now();
    let mut tx = Sender::new(SenderConfig::new(3, Mode::SelectiveRepeat)).unwrap();
    let mut rx = Receiver::new(ReceiverConfig::new(3, Mode::SelectiveRepeat)).unwrap();
    let mut src: &[u8] = &[7u8; 512 * 6];
    let mut buf = [0u8; MAX_SEGMENT];
    let mut now = t0;
    let mut delivered = Vec::new();

    // Round 1: three segments; the application reads nothing -> ACKs with WIN 2, 1, 0.
    tx.fill_from(&mut src).unwrap();
    let mut segs = Vec::new();
    while let Some(n) = tx.poll_transmit(now, &mut buf) {
        segs.push(buf[..n].to_vec());
    }
    assert_eq!(segs.len(), 3);
    let mut acks = Vec::new();
    for s in &segs {
        rx.handle_datagram(now, s);
        let n = rx.poll_transmit(now, &mut buf).unwrap();
        acks.push(buf[..n].to_vec());
    }
    assert_eq!(
        acks,
        vec![
            ack_bytes(1, 2).to_vec(),
            ack_bytes(2, 1).to_vec(),
            ack_bytes(3, 0).to_vec()
        ]
    );
    now += Duration::from_millis(10);
    for a in &acks {
        tx.handle_datagram(now, a);
    }
    assert_eq!(tx.peer_window(), 0);
    assert_eq!(tx.effective_window(), 1);
    // Exactly one probe goes out.
    tx.fill_from(&mut src).unwrap();
    let n = tx.poll_transmit(now, &mut buf).unwrap();
    assert!(matches!(
        Repr::parse_bytes(&buf[..n]),
        Ok(Repr::Data { seq: 3, .. })
    ));
    assert_eq!(tx.poll_transmit(now, &mut buf), None);
    // The closed receiver drops it and answers WIN 0; no fast retransmit from such ACKs.
    let probe = buf[..n].to_vec();
    rx.handle_datagram(now, &probe);
    let n = rx.poll_transmit(now, &mut buf).unwrap();
    assert_eq!(&buf[..n], &ack_bytes(3, 0));
    for _ in 0..3 {
        tx.handle_datagram(now, &ack_bytes(3, 0));
    }
    assert_eq!(tx.poll_transmit(now, &mut buf), None);
    assert_eq!(tx.stats().retransmits_fast, 0);
    // The probe is retransmitted on its timer.
    let deadline = tx.poll_timeout().unwrap();
    now = deadline;
    tx.handle_timeout(now);
    let n = tx.poll_transmit(now, &mut buf).unwrap();
    assert_eq!(&buf[..n], &probe[..]);
    // The application reads one payload: a window-update ACK with WIN 1.
    delivered.extend(rx.read().unwrap());
    let n = rx.poll_transmit(now, &mut buf).unwrap();
    assert_eq!(&buf[..n], &ack_bytes(3, 1));
    // Now the probe fits.
    rx.handle_datagram(now, &probe);
    let n = rx.poll_transmit(now, &mut buf).unwrap();
    assert_eq!(&buf[..n], &ack_bytes(4, 0));
    while let Some(d) = rx.read() {
        delivered.extend(d);
    }
    assert_eq!(delivered.len(), 4 * 512);
}
