//! The link emulator's core driven with a fake clock: delay order, jitter without reordering,
//! rate pacing, tail drops, random and burst losses against their statistics, duplication,
//! reordering with gap, corruption, and seeded reproducibility.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use netproto::netem::{Fate, Link, Spec};

fn spec(s: &str) -> Spec {
    Spec::parse_str(s).unwrap()
}

fn frame(n: u64, len: usize) -> Vec<u8> {
    let mut f = vec![0u8; len];
    f[..8].copy_from_slice(&n.to_be_bytes());
    f
}

fn id_of(f: &[u8]) -> u64 {
    u64::from_be_bytes(f[..8].try_into().unwrap())
}

/// Push `n` frames `gap` apart, stepping the clock to every due time; returns (arrival index,
/// departure offset from t0, fate) per departure and the fates of the drops.
fn run(
    link: &mut Link,
    n: u64,
    gap: Duration,
    len: usize,
) -> (Vec<(u64, Duration, Fate)>, Vec<Fate>) {
    let t0 = Instant::now();
    let mut out = Vec::new();
    let mut dropped = Vec::new();
    let mut now = t0;
    let mut next_in = 0u64;
    loop {
        let arrival = (next_in < n).then(|| t0 + gap * next_in as u32);
        let wake = match (arrival, link.poll_timeout()) {
            (Some(a), Some(t)) => a.min(t),
            (Some(a), None) => a,
            (None, Some(t)) => t,
            (None, None) => break,
        };
        assert!(wake >= now, "time never goes back");
        now = wake;
        while let Some(d) = link.poll_transmit(now) {
            assert!(d.meta.due <= now, "nothing leaves before it is due");
            out.push((id_of(&d.frame), now - t0, d.meta.fate));
        }
        if arrival == Some(now) {
            link.handle_frame(now, frame(next_in, len));
            next_in += 1;
            while let Some(d) = link.poll_dropped() {
                dropped.push(d.meta.fate);
            }
            while let Some(d) = link.poll_transmit(now) {
                out.push((id_of(&d.frame), now - t0, d.meta.fate));
            }
        }
    }
    (out, dropped)
}

/// The 99 % interval of a binomial count (normal approximation).
fn binomial_99(n: f64, p: f64) -> (f64, f64) {
    let sd = (n * p * (1.0 - p)).sqrt();
    (n * p - 2.576 * sd, n * p + 2.576 * sd)
}

#[test]
fn fixed_delay_keeps_order_and_exact_times() {
    let mut link = Link::new(spec("delay 100ms"), 1);
    let (out, dropped) = run(&mut link, 5, Duration::from_millis(1), 64);
    assert!(dropped.is_empty());
    let want: Vec<_> = (0..5)
        .map(|i| (i, Duration::from_millis(100 + i), Fate::Forwarded))
        .collect();
    assert_eq!(out, want);
    assert_eq!(link.poll_timeout(), None);
}

#[test]
fn jitter_never_reorders_and_stays_in_bounds() {
    let mut link = Link::new(spec("delay 50ms 40ms"), 7);
    let gap = Duration::from_millis(1);
    let (out, _) = run(&mut link, 10_000, gap, 64);
    assert_eq!(out.len(), 10_000);
    for (i, (id, at, _)) in out.iter().enumerate() {
        assert_eq!(*id, i as u64, "frames leave in arrival order");
        let delay = *at - gap * i as u32;
        assert!(
            delay >= Duration::from_millis(10) && delay <= Duration::from_millis(90),
            "frame {i}: delay {delay:?} outside 50 ± 40 ms"
        );
    }
}

#[test]
fn normal_jitter_has_the_asked_spread() {
    // Frames 1 s apart: the FIFO never holds one back, so each delay is its own draw.
    let mut link = Link::new(spec("delay 100ms 10ms distribution normal"), 3);
    let gap = Duration::from_secs(1);
    let (out, _) = run(&mut link, 20_000, gap, 64);
    let delays: Vec<f64> = out
        .iter()
        .enumerate()
        .map(|(i, (_, at, _))| (*at - gap * i as u32).as_secs_f64() * 1e3)
        .collect();
    let mean = delays.iter().sum::<f64>() / delays.len() as f64;
    let sd = (delays.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / delays.len() as f64).sqrt();
    assert!((mean - 100.0).abs() < 0.3, "mean {mean}");
    assert!((sd - 10.0).abs() < 0.3, "sd {sd}");
    assert!(
        delays.iter().all(|d| (60.0..=140.0).contains(d)),
        "cut at ±4 sd"
    );
}

#[test]
fn rate_paces_frames_and_the_queue_drops_at_its_tail() {
    // 8 Mbit/s: one byte per microsecond, so a 1000-byte frame takes exactly 1 ms.
    let mut link = Link::new(spec("rate 8mbit limit 5"), 1);
    let (out, dropped) = run(&mut link, 20, Duration::ZERO, 1000);
    assert_eq!(
        out.iter().map(|o| (o.0, o.1)).collect::<Vec<_>>(),
        (0..5)
            .map(|i| (i, Duration::from_millis(i + 1)))
            .collect::<Vec<_>>(),
        "five frames held, each 1 ms after the one before"
    );
    assert_eq!(dropped, vec![Fate::DroppedQueue; 15]);
    assert_eq!(link.stats().dropped_queue, 15);

    // Arrivals slower than the rate: no queue, each frame takes its serialisation time.
    let mut link = Link::new(spec("delay 10ms rate 8mbit"), 1);
    let (out, _) = run(&mut link, 3, Duration::from_millis(5), 500);
    assert_eq!(
        out.iter().map(|o| o.1).collect::<Vec<_>>(),
        [10_500u64, 15_500, 20_500].map(Duration::from_micros)
    );
}

#[test]
fn random_loss_is_inside_the_binomial_interval_and_seeded() {
    for pct in [1.0, 5.0, 10.0] {
        let n = 100_000;
        let mut link = Link::new(spec(&format!("loss {pct}%")), 11);
        let (out, dropped) = run(&mut link, n, Duration::from_micros(10), 64);
        let (lo, hi) = binomial_99(n as f64, pct / 100.0);
        let d = dropped.len() as f64;
        assert!(lo <= d && d <= hi, "loss {pct}%: {d} outside [{lo}, {hi}]");
        assert!(dropped.iter().all(|f| *f == Fate::DroppedRandom));
        assert_eq!(out.len() + dropped.len(), n as usize);
    }
    let fates = |seed| {
        let mut link = Link::new(spec("loss 10%"), seed);
        run(&mut link, 1000, Duration::from_millis(1), 64)
            .0
            .iter()
            .map(|o| o.0)
            .collect::<Vec<_>>()
    };
    assert_eq!(fates(5), fates(5), "same seed, same losses");
    assert_ne!(fates(5), fates(6), "another seed, other losses");
    let mut a = Link::new(spec("loss 10% seed 9"), 1);
    let mut b = Link::new(spec("loss 10% seed 9"), 2);
    assert_eq!(
        run(&mut a, 1000, Duration::from_millis(1), 64).0,
        run(&mut b, 1000, Duration::from_millis(1), 64).0,
        "the spec's seed wins"
    );
}

#[test]
fn gemodel_bursts_have_the_model_lengths() {
    // p = 1 %, r = 25 %, 1−h = 100 %: bursts last 1/r = 4 frames on average; the long-run
    // loss is p / (p + r) ≈ 3.85 %.
    let n = 400_000u64;
    let mut link = Link::new(spec("loss gemodel 1% 25%"), 21);
    let (out, dropped) = run(&mut link, n, Duration::from_micros(1), 64);
    assert!(dropped.iter().all(|f| *f == Fate::DroppedBurst));
    let mut lost = vec![true; n as usize];
    for (id, _, _) in &out {
        lost[*id as usize] = false;
    }
    let mut bursts = Vec::new();
    let mut run_len = 0;
    for l in lost {
        if l {
            run_len += 1;
        } else if run_len > 0 {
            bursts.push(run_len);
            run_len = 0;
        }
    }
    let mean = bursts.iter().sum::<u32>() as f64 / bursts.len() as f64;
    let rate = dropped.len() as f64 / n as f64;
    assert!((mean - 4.0).abs() < 0.2, "mean burst {mean}");
    assert!((rate - 0.01 / 0.26).abs() < 0.003, "loss rate {rate}");
}

#[test]
fn duplicates_share_the_id_and_leave_twice() {
    let mut link = Link::new(spec("delay 1ms duplicate 100%"), 1);
    let (out, _) = run(&mut link, 3, Duration::from_millis(10), 64);
    let got: Vec<_> = out.iter().map(|o| (o.0, o.2)).collect();
    assert_eq!(
        got,
        [
            (0, Fate::Forwarded),
            (0, Fate::Duplicated),
            (1, Fate::Forwarded),
            (1, Fate::Duplicated),
            (2, Fate::Forwarded),
            (2, Fate::Duplicated)
        ]
    );
    assert_eq!(link.stats().duplicated, 3);
}

#[test]
fn reorder_sends_some_at_once_and_respects_gap() {
    let n = 20_000u64;
    let mut link = Link::new(spec("delay 10ms reorder 25%"), 4);
    let (out, _) = run(&mut link, n, Duration::from_millis(1), 64);
    let reordered: Vec<_> = out.iter().filter(|o| o.2 == Fate::Reordered).collect();
    let (lo, hi) = binomial_99(n as f64, 0.25);
    assert!(
        (lo..=hi).contains(&(reordered.len() as f64)),
        "{} reordered",
        reordered.len()
    );
    for (id, at, _) in &reordered {
        assert_eq!(
            *at,
            Duration::from_millis(*id),
            "a reordered frame leaves at once"
        );
    }
    let mut link = Link::new(spec("delay 10ms reorder 100% gap 5"), 4);
    let (out, _) = run(&mut link, 100, Duration::from_millis(1), 64);
    let ids: Vec<u64> = out
        .iter()
        .filter(|o| o.2 == Fate::Reordered)
        .map(|o| o.0)
        .collect();
    assert_eq!(ids, (0..100).filter(|i| i % 5 == 4).collect::<Vec<_>>());
}

#[test]
fn corruption_flips_one_bit_after_the_ethernet_header() {
    let mut link = Link::new(spec("corrupt 100%"), 8);
    let t = Instant::now();
    for n in 0..200 {
        let original = frame(n, 100);
        link.handle_frame(t, original.clone());
        let d = link.poll_transmit(t).unwrap();
        assert_eq!(d.meta.fate, Fate::Corrupted);
        let diff: Vec<usize> = (0..100).filter(|&i| d.frame[i] != original[i]).collect();
        assert_eq!(diff.len(), 1);
        assert_eq!((d.frame[diff[0]] ^ original[diff[0]]).count_ones(), 1);
        assert!(diff[0] >= 14 && Some(diff[0]) == d.meta.corrupted_at);
    }
}

#[test]
fn nothing_is_lost_without_impairment_and_limit_counts_delayed_frames() {
    let mut link = Link::new(Spec::default(), 1);
    let (out, dropped) = run(&mut link, 1000, Duration::ZERO, 64);
    assert_eq!(out.len(), 1000);
    assert!(dropped.is_empty());
    // As netem: the limit counts delayed frames too, so a long delay needs a large limit.
    let mut link = Link::new(spec("delay 100ms limit 10"), 1);
    let (out, dropped) = run(&mut link, 30, Duration::from_millis(1), 64);
    assert_eq!(out.len(), 30 - dropped.len());
    assert_eq!(dropped.len(), 20);
}

mod props {
    use super::*;
    use proptest::prelude::*;

    fn word() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("delay".to_owned()),
            Just("loss".to_owned()),
            Just("gemodel".to_owned()),
            Just("rate".to_owned()),
            Just("limit".to_owned()),
            Just("reorder".to_owned()),
            Just("gap".to_owned()),
            Just("duplicate".to_owned()),
            Just("corrupt".to_owned()),
            Just("distribution".to_owned()),
            Just("normal".to_owned()),
            "[0-9]{1,4}(\\.[0-9]{1,3})?(ms|us|s|%|mbit|kbit|bps|)",
            ".{0,6}",
        ]
    }

    proptest! {
        /// Any words: a spec or a one-line error, never a panic; a spec prints back to itself.
        #[test]
        fn any_words_parse_or_fail_cleanly(words in proptest::collection::vec(word(), 0..10)) {
            match Spec::parse(&words) {
                Ok(spec) => prop_assert_eq!(Spec::parse_str(&spec.to_string()).unwrap(), spec),
                Err(e) => prop_assert!(!e.to_string().contains('\n')),
            }
        }

        /// Whatever the impairment and the frames, every frame is accounted for: sent, dropped
        /// or still held — and nothing leaves before it is due.
        #[test]
        fn every_frame_is_accounted_for(
            delay in 0u64..50, jitter in 0u64..50, loss in 0u32..100, dup in 0u32..100,
            reorder in 0u32..100, corrupt in 0u32..100, rate in prop_oneof![Just(None), (8u64..100_000_000).prop_map(Some)],
            limit in 1u32..50, seed: u64,
            frames in proptest::collection::vec((0u64..20, 0usize..1600), 0..200),
        ) {
            let mut s = format!("limit {limit} delay {}ms {}ms loss {loss}% duplicate {dup}% corrupt {corrupt}%", delay + 1, jitter);
            if reorder > 0 { s += &format!(" reorder {reorder}%"); }
            if let Some(r) = rate { s += &format!(" rate {r}bit"); }
            let mut link = Link::new(Spec::parse_str(&s).unwrap(), seed);
            let t0 = Instant::now();
            let mut now = t0;
            let (mut sent, mut dropped) = (0u64, 0u64);
            for (gap_ms, len) in frames {
                now += Duration::from_millis(gap_ms);
                while let Some(d) = link.poll_transmit(now) {
                    prop_assert!(d.meta.due <= now);
                    sent += 1;
                }
                link.handle_frame(now, vec![0xab; len]);
                while link.poll_dropped().is_some() { dropped += 1; }
                prop_assert!(link.held() <= limit as usize);
            }
            let st = link.stats();
            let copies = st.received + st.duplicated;
            prop_assert_eq!(st.dropped(), dropped);
            while let Some(t) = link.poll_timeout() {
                now = now.max(t);
                while let Some(_d) = link.poll_transmit(now) { sent += 1; }
            }
            prop_assert_eq!(sent + dropped, copies, "every copy sent or dropped");
            prop_assert_eq!(link.stats().sent, sent);
        }
    }
}
