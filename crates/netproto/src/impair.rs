//! Impairment layer: seeded loss, delay, jitter (and, for tests, duplication) of received
//! datagrams.
//!
//! Both transfer programs pass every datagram they receive through an [`Impairer`] before
//! their engine sees it, and the tests' simulated link uses the same type for each
//! direction. It is sans-IO like the engine: the caller supplies the time; the only state is
//! a queue ordered by delivery time and a small seeded PRNG (SplitMix64 — a few lines, fully
//! reproducible across platforms and crate versions, which `rand`'s `SmallRng` does not
//! promise), so a seed replays exactly the same losses and delays.
//!
//! Delay = fixed part + uniform jitter in [0, jitter]; independent per datagram, so jitter
//! reorders datagrams.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::{Duration, Instant};

/// SplitMix64: tiny, fast, good enough statistical quality for simulations.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.next_f64() < p
    }

    /// Uniform duration in [0, max].
    pub fn duration(&mut self, max: Duration) -> Duration {
        if max.is_zero() {
            return Duration::ZERO;
        }
        let nanos = max.as_nanos().min(u128::from(u64::MAX)) as u64;
        Duration::from_nanos(self.next_u64() % (nanos + 1))
    }
}

/// What to do to received datagrams.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Impairment {
    /// Probability of dropping a datagram (0–1).
    pub loss: f64,
    /// Fixed delay.
    pub delay: Duration,
    /// Extra uniform random delay in [0, jitter].
    pub jitter: Duration,
    /// Probability of delivering a datagram twice (independent delays). Tests only.
    pub duplicate: f64,
}

impl Impairment {
    /// Nothing to do: datagrams pass straight through.
    pub fn is_none(&self) -> bool {
        self.loss <= 0.0 && self.delay.is_zero() && self.jitter.is_zero() && self.duplicate <= 0.0
    }
}

/// Counters of what the impairer did.
#[derive(Debug, Clone, Copy, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ImpairStats {
    pub received: u64,
    pub dropped: u64,
    pub duplicated: u64,
}

/// A queue that applies an [`Impairment`] to the items pushed into it.
#[derive(Debug)]
pub struct Impairer<T> {
    cfg: Impairment,
    rng: SplitMix64,
    /// (delivery time, arrival order) → item; the order number keeps equal times FIFO.
    queue: BinaryHeap<Reverse<Entry<T>>>,
    order: u64,
    stats: ImpairStats,
}

#[derive(Debug)]
struct Entry<T> {
    at: Instant,
    order: u64,
    item: T,
}

impl<T> PartialEq for Entry<T> {
    fn eq(&self, o: &Self) -> bool {
        (self.at, self.order) == (o.at, o.order)
    }
}
impl<T> Eq for Entry<T> {}
impl<T> PartialOrd for Entry<T> {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl<T> Ord for Entry<T> {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.at, self.order).cmp(&(o.at, o.order))
    }
}

impl<T: Clone> Impairer<T> {
    pub fn new(cfg: Impairment, seed: u64) -> Self {
        Impairer {
            cfg,
            rng: SplitMix64::new(seed),
            queue: BinaryHeap::new(),
            order: 0,
            stats: ImpairStats::default(),
        }
    }

    /// The impairment in force.
    pub fn impairment(&self) -> &Impairment {
        &self.cfg
    }

    /// A datagram arrived at `now`: drop it, or schedule its delivery (maybe twice).
    pub fn push(&mut self, now: Instant, item: T) {
        self.stats.received += 1;
        if self.rng.chance(self.cfg.loss) {
            self.stats.dropped += 1;
            return;
        }
        if self.rng.chance(self.cfg.duplicate) {
            self.stats.duplicated += 1;
            let at = now + self.cfg.delay + self.rng.duration(self.cfg.jitter);
            self.enqueue(at, item.clone());
        }
        let at = now + self.cfg.delay + self.rng.duration(self.cfg.jitter);
        self.enqueue(at, item);
    }

    fn enqueue(&mut self, at: Instant, item: T) {
        self.order += 1;
        self.queue.push(Reverse(Entry {
            at,
            order: self.order,
            item,
        }));
    }

    /// The next datagram due at or before `now`.
    pub fn pop_ready(&mut self, now: Instant) -> Option<T> {
        if self.queue.peek()?.0.at <= now {
            self.queue.pop().map(|e| e.0.item)
        } else {
            None
        }
    }

    /// When the next datagram is due.
    pub fn next_ready(&self) -> Option<Instant> {
        self.queue.peek().map(|e| e.0.at)
    }

    /// Datagrams waiting.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    pub fn stats(&self) -> ImpairStats {
        self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passthrough_and_order() {
        let t0 = Instant::now();
        let mut q = Impairer::new(Impairment::default(), 1);
        q.push(t0, 1);
        q.push(t0, 2);
        assert_eq!(q.pop_ready(t0), Some(1));
        assert_eq!(q.pop_ready(t0), Some(2));
        assert_eq!(q.pop_ready(t0), None);
    }

    #[test]
    fn delay_jitter_and_loss_are_seeded() {
        let cfg = Impairment {
            loss: 0.3,
            delay: Duration::from_millis(5),
            jitter: Duration::from_millis(5),
            duplicate: 0.0,
        };
        let t0 = Instant::now();
        let run = |seed| {
            let mut q = Impairer::new(cfg, seed);
            for i in 0..1000u32 {
                q.push(t0, i);
            }
            assert!(q.pop_ready(t0 + Duration::from_micros(4999)).is_none());
            let mut out = Vec::new();
            while let Some(i) = q.pop_ready(t0 + Duration::from_millis(10)) {
                out.push(i);
            }
            assert!(q.is_empty());
            out
        };
        let a = run(7);
        assert_eq!(a, run(7));
        assert_ne!(a, run(8));
        // About 30 % lost, and jitter reordered what got through.
        assert!((600..800).contains(&a.len()), "{}", a.len());
        assert!(a.windows(2).any(|w| w[0] > w[1]));
    }

    #[test]
    fn duplication() {
        let cfg = Impairment {
            duplicate: 1.0,
            ..Default::default()
        };
        let t0 = Instant::now();
        let mut q = Impairer::new(cfg, 3);
        q.push(t0, 'x');
        assert_eq!(q.len(), 2);
        assert_eq!(q.stats().duplicated, 1);
    }
}
