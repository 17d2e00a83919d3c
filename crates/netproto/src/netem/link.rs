//! One direction of an emulated link, sans-IO: frames go in with [`Link::handle_frame`], come
//! out with [`Link::poll_transmit`] when due ([`Link::poll_timeout`] says when), and every
//! frame the link drops is reported by [`Link::poll_dropped`] — the ground truth behind
//! linkem's per-frame log.
//!
//! netem's semantics, step by step for each arriving frame (`sch_netem.c`'s enqueue):
//! 1. duplicate? then loss? (a duplicated frame that is "lost" loses only one copy);
//! 2. corrupt? one random bit flips;
//! 3. the queue holds `limit` frames (delayed or waiting)? tail drop;
//! 4. reorder? (every `gap`-th frame at most) it leaves at once, ahead of the delayed ones;
//! 5. otherwise it leaves at `max(now + delay ± jitter, previous departure)`, plus its
//!    serialisation time `len × 8 / rate` when a rate is set;
//! 6. the duplicate copy goes through 2–5 itself, with its own draws.
//!
//! One deliberate difference: netem sorts delayed packets by their own departure time, so
//! jitter reorders them unless a rate is set; here frames always leave in arrival order (a
//! real link is a FIFO) and only `reorder` reorders. Corruption flips a bit after the
//! Ethernet header (netem may hit the MAC addresses, and the frame would then never reach its
//! host): the IP or transport checksum is what notices.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::impair::SplitMix64;

use super::spec::{Chance, Distribution, Loss, Spec};

/// Length of the Ethernet header corruption never touches.
const ETHERNET_HEADER: usize = 14;

/// What happened to a frame (one record per copy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fate {
    Forwarded,
    /// The second copy of a duplicated frame.
    Duplicated,
    /// Sent at once, ahead of delayed frames (`reorder`).
    Reordered,
    /// One bit flipped (takes precedence over duplicated/reordered in the record).
    Corrupted,
    DroppedRandom,
    /// Lost by the Gilbert–Elliott model (either state).
    DroppedBurst,
    /// Tail drop: the queue held `limit` frames.
    DroppedQueue,
}

impl Fate {
    /// The word linkem's log uses.
    pub fn name(self) -> &'static str {
        match self {
            Fate::Forwarded => "forwarded",
            Fate::Duplicated => "duplicated",
            Fate::Reordered => "reordered",
            Fate::Corrupted => "corrupted",
            Fate::DroppedRandom => "dropped-random",
            Fate::DroppedBurst => "dropped-burst",
            Fate::DroppedQueue => "dropped-queue",
        }
    }

    pub fn is_drop(self) -> bool {
        matches!(
            self,
            Fate::DroppedRandom | Fate::DroppedBurst | Fate::DroppedQueue
        )
    }
}

/// What the link knows about one copy of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Meta {
    /// Arrival number in this direction, from 1 (both copies of a duplicate share it).
    pub id: u64,
    pub arrived: Instant,
    /// When it leaves (for a dropped frame: when it was dropped).
    pub due: Instant,
    /// Frames the link held when this one arrived.
    pub queue: usize,
    pub fate: Fate,
    /// The byte whose bit was flipped, when corrupted.
    pub corrupted_at: Option<usize>,
}

/// A frame leaving the link.
#[derive(Debug)]
pub struct Departure {
    pub frame: Vec<u8>,
    pub meta: Meta,
}

/// Counters per fate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkStats {
    pub received: u64,
    pub sent: u64,
    pub duplicated: u64,
    pub reordered: u64,
    pub corrupted: u64,
    pub dropped_random: u64,
    pub dropped_burst: u64,
    pub dropped_queue: u64,
}

impl LinkStats {
    pub fn dropped(&self) -> u64 {
        self.dropped_random + self.dropped_burst + self.dropped_queue
    }
}

/// netem's correlated uniform draw: `u = (1 − ρ)·fresh + ρ·previous` (an approximation, as
/// netem's own documentation says, not a true correlation).
#[derive(Debug, Clone, Copy, Default)]
struct Correlated {
    last: f64,
}

impl Correlated {
    fn draw(&mut self, rng: &mut SplitMix64, rho: f64) -> f64 {
        let fresh = rng.next_f64();
        if rho <= 0.0 {
            return fresh;
        }
        self.last = (1.0 - rho) * fresh + rho * self.last;
        self.last
    }

    fn chance(&mut self, rng: &mut SplitMix64, c: Chance) -> bool {
        c.p > 0.0 && self.draw(rng, c.corr) < c.p
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Draws {
    delay: Correlated,
    loss: Correlated,
    duplicate: Correlated,
    reorder: Correlated,
    corrupt: Correlated,
}

/// One direction of an emulated link.
#[derive(Debug)]
pub struct Link {
    spec: Spec,
    rng: SplitMix64,
    draws: Draws,
    /// Gilbert–Elliott state: true = bad.
    ge_bad: bool,
    /// Frames since the last reordered one (netem's `counter`, for `gap`).
    since_reorder: u32,
    /// Delayed frames in departure order (non-decreasing `due`).
    fifo: VecDeque<Departure>,
    /// Reordered frames: due at once, ahead of the FIFO.
    urgent: VecDeque<Departure>,
    /// Departure time of the last frame put in the FIFO.
    last_due: Option<Instant>,
    dropped: VecDeque<Departure>,
    next_id: u64,
    stats: LinkStats,
}

impl Link {
    /// A link direction; `seed` drives every random draw (the spec's own `seed` wins).
    pub fn new(spec: Spec, seed: u64) -> Link {
        let seed = spec.seed.unwrap_or(seed);
        Link {
            spec,
            rng: SplitMix64::new(seed),
            draws: Draws::default(),
            ge_bad: false,
            since_reorder: 0,
            fifo: VecDeque::new(),
            urgent: VecDeque::new(),
            last_due: None,
            dropped: VecDeque::new(),
            next_id: 0,
            stats: LinkStats::default(),
        }
    }

    pub fn spec(&self) -> &Spec {
        &self.spec
    }

    pub fn stats(&self) -> LinkStats {
        self.stats
    }

    /// Frames held (delayed or waiting).
    pub fn held(&self) -> usize {
        self.fifo.len() + self.urgent.len()
    }

    /// A frame arrived at `now`. Returns its arrival number.
    pub fn handle_frame(&mut self, now: Instant, frame: Vec<u8>) -> u64 {
        self.next_id += 1;
        let id = self.next_id;
        self.stats.received += 1;
        let queue = self.held();
        let duplicate = self
            .draws
            .duplicate
            .chance(&mut self.rng, self.spec.duplicate);
        let lost = self.loss_event();
        let meta = Meta {
            id,
            arrived: now,
            due: now,
            queue,
            fate: Fate::Forwarded,
            corrupted_at: None,
        };
        match (lost, duplicate) {
            (Some(fate), false) => self.drop_frame(frame, meta, fate),
            // Lost and duplicated: one copy survives (netem counts copies down).
            (Some(_), true) | (None, false) => self.enqueue(now, frame, meta),
            (None, true) => {
                self.stats.duplicated += 1;
                let copy = frame.clone();
                self.enqueue(now, frame, meta);
                let copy_meta = Meta {
                    fate: Fate::Duplicated,
                    queue: self.held(),
                    ..meta
                };
                match self.loss_event() {
                    Some(fate) => self.drop_frame(copy, copy_meta, fate),
                    None => self.enqueue(now, copy, copy_meta),
                }
            }
        }
        id
    }

    /// The next frame due at or before `now`, if any.
    pub fn poll_transmit(&mut self, now: Instant) -> Option<Departure> {
        if let Some(d) = self.urgent.pop_front() {
            self.stats.sent += 1;
            return Some(d);
        }
        if self.fifo.front().is_some_and(|d| d.meta.due <= now) {
            self.stats.sent += 1;
            return self.fifo.pop_front();
        }
        None
    }

    /// When the next frame is due (`None`: nothing held).
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.urgent.front() {
            Some(d) => Some(d.meta.due),
            None => self.fifo.front().map(|d| d.meta.due),
        }
    }

    /// The next dropped frame (handed back for the log and for reuse of its buffer).
    pub fn poll_dropped(&mut self) -> Option<Departure> {
        self.dropped.pop_front()
    }

    /// Everything still held, in departure order (for a clean stop: logged as never sent).
    pub fn drain(&mut self) -> impl Iterator<Item = Departure> + '_ {
        self.urgent.drain(..).chain(self.fifo.drain(..))
    }

    fn loss_event(&mut self) -> Option<Fate> {
        match self.spec.loss {
            Loss::None => None,
            Loss::Random(c) => self
                .draws
                .loss
                .chance(&mut self.rng, c)
                .then_some(Fate::DroppedRandom),
            Loss::GilbertElliott {
                p,
                r,
                bad_loss,
                good_loss,
            } => {
                // As netem: the loss draw uses the state the frame found; then the state may
                // change for the next frame.
                let (leave, lose) = if self.ge_bad {
                    (r, bad_loss)
                } else {
                    (p, good_loss)
                };
                let lost = self.rng.next_f64() < lose;
                if self.rng.next_f64() < leave {
                    self.ge_bad = !self.ge_bad;
                }
                lost.then_some(Fate::DroppedBurst)
            }
        }
    }

    fn drop_frame(&mut self, frame: Vec<u8>, mut meta: Meta, fate: Fate) {
        match fate {
            Fate::DroppedRandom => self.stats.dropped_random += 1,
            Fate::DroppedBurst => self.stats.dropped_burst += 1,
            _ => self.stats.dropped_queue += 1,
        }
        meta.fate = fate;
        self.dropped.push_back(Departure { frame, meta });
    }

    /// Steps 2–5 for one copy.
    fn enqueue(&mut self, now: Instant, mut frame: Vec<u8>, mut meta: Meta) {
        if self.draws.corrupt.chance(&mut self.rng, self.spec.corrupt) && !frame.is_empty() {
            let start = if frame.len() > ETHERNET_HEADER {
                ETHERNET_HEADER
            } else {
                0
            };
            let at = start + (self.rng.next_u64() % (frame.len() - start) as u64) as usize;
            frame[at] ^= 1 << (self.rng.next_u64() % 8);
            meta.corrupted_at = Some(at);
            meta.fate = Fate::Corrupted;
            self.stats.corrupted += 1;
        }
        if self.held() >= self.spec.limit as usize {
            return self.drop_frame(frame, meta, Fate::DroppedQueue);
        }
        if self.reorder_now() {
            if meta.fate == Fate::Forwarded {
                meta.fate = Fate::Reordered;
            }
            self.stats.reordered += 1;
            self.urgent.push_back(Departure { frame, meta });
            return;
        }
        let mut due = now + self.draw_delay();
        if let Some(last) = self.last_due {
            due = due.max(last);
        }
        if let Some(rate) = self.spec.rate {
            let bytes = (frame.len() as i64 + i64::from(rate.overhead)).max(1) as u128;
            let ns = bytes * 8 * 1_000_000_000 / u128::from(rate.bits_per_sec);
            due += Duration::from_nanos(ns.min(u128::from(u64::MAX)) as u64);
        }
        self.last_due = Some(due);
        meta.due = due;
        self.fifo.push_back(Departure { frame, meta });
    }

    fn reorder_now(&mut self) -> bool {
        if self.spec.reorder.is_zero() {
            return false;
        }
        // netem: the first gap−1 frames after a reordered one are delayed normally.
        if self.since_reorder + 1 < self.spec.gap
            || !self.draws.reorder.chance(&mut self.rng, self.spec.reorder)
        {
            self.since_reorder += 1;
            return false;
        }
        self.since_reorder = 0;
        true
    }

    fn draw_delay(&mut self) -> Duration {
        let s = &self.spec;
        if s.jitter.is_zero() {
            return s.delay;
        }
        let u = self.draws.delay.draw(&mut self.rng, s.delay_corr);
        let offset = match s.distribution {
            Distribution::Uniform => 2.0 * u - 1.0,
            Distribution::Normal => normal_quantile(u).clamp(-4.0, 4.0),
        };
        let ns = s.delay.as_nanos() as f64 + offset * s.jitter.as_nanos() as f64;
        Duration::from_nanos(ns.max(0.0) as u64)
    }
}

/// The standard normal quantile (Acklam's rational approximation, relative error < 1.2e-9).
fn normal_quantile(u: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let u = u.clamp(1e-12, 1.0 - 1e-12);
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if u < 0.024_25 {
        tail((-2.0 * u.ln()).sqrt())
    } else if u > 1.0 - 0.024_25 {
        -tail((-2.0 * (1.0 - u).ln()).sqrt())
    } else {
        let q = u - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_quantile_known_values() {
        assert!(normal_quantile(0.5).abs() < 1e-9);
        assert!((normal_quantile(0.975) - 1.959_964).abs() < 1e-5);
        assert!((normal_quantile(0.001) + 3.090_232).abs() < 1e-5);
    }
}
