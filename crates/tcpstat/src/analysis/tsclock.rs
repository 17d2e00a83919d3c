//! A sender's TSval clock, read from the capture: when each segment left its sender.
//!
//! A segment's capture time is its send time plus the way to the capture point, queues
//! included; its TSval is its send time on the sender's own clock. Mapping TSvals onto the
//! capture's time base — offset so that the segment that took the least time to get here
//! took the path's base one-way delay — dates every segment by its sender, whatever queue it
//! then waited in. The clock's tick is the sender's: Linux ticks every millisecond (since
//! 4.13; before, once per jiffy: 4 ms at HZ=250, 10 ms at HZ=100), as BSDs and macOS do. The
//! tick is told apart once the capture spans enough of it: the right one keeps
//! `capture time − TSval × tick` within the queue's variation, a wrong one drifts with time.

/// The ticks told apart (ns): 1 kHz, 250 Hz, 100 Hz.
const TICKS_NS: [i64; 3] = [1_000_000, 4_000_000, 10_000_000];
/// After this much capture time (ns) the tick is known: a wrong one has drifted by at least
/// three quarters of it (75 ms between 1 and 4 ms ticks).
const SETTLE_NS: i64 = 100_000_000;

/// One sender's TSval clock (per flow).
#[derive(Clone, Copy, Debug)]
pub struct TsClock {
    base_tsval: u32,
    base_at: i64,
    /// Per candidate tick: the least and the most `capture time − ticks × tick` seen.
    off: [(i64, i64); 3],
    /// The tick, once the spread has told it.
    tick: Option<usize>,
}

impl TsClock {
    pub fn new(tsval: u32, at: i64) -> TsClock {
        TsClock {
            base_tsval: tsval,
            base_at: at,
            off: [(at, at); 3],
            tick: None,
        }
    }

    fn ticks(&self, tsval: u32) -> i64 {
        i64::from(tsval.wrapping_sub(self.base_tsval) as i32)
    }

    /// A segment carrying `tsval` was captured at `at`.
    pub fn observe(&mut self, tsval: u32, at: i64) {
        let ticks = self.ticks(tsval);
        for (i, tick) in TICKS_NS.iter().enumerate() {
            let off = at.saturating_sub(ticks.saturating_mul(*tick));
            let (lo, hi) = &mut self.off[i];
            *lo = (*lo).min(off);
            *hi = (*hi).max(off);
        }
        if self.tick.is_none() && at.saturating_sub(self.base_at) >= SETTLE_NS {
            self.tick =
                (0..TICKS_NS.len()).min_by_key(|&i| self.off[i].1.saturating_sub(self.off[i].0));
        }
    }

    /// When the segment carrying `tsval` left a sender `one_way` (the path's base one-way
    /// delay) away, by the capture's clock; once the tick is known, or with `assume` the
    /// common 1 ms tick before that.
    pub fn sent_at(&self, tsval: u32, one_way: i64, assume: bool) -> Option<i64> {
        let i = match self.tick {
            Some(i) => i,
            None if assume => 0,
            None => return None,
        };
        let t = self.ticks(tsval).saturating_mul(TICKS_NS[i]);
        Some(t.saturating_add(self.off[i].0).saturating_sub(one_way))
    }

    /// The tick (ns), once known.
    #[cfg(test)]
    pub fn tick_ns(&self) -> Option<i64> {
        self.tick.map(|i| TICKS_NS[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 250 Hz sender 100 ms away, every fifth segment behind a 30 ms queue.
    #[test]
    fn tells_a_jiffy_clock_from_a_millisecond_one() {
        let ms = 1_000_000;
        let mut c = TsClock::new(1000, 100 * ms);
        assert_eq!(c.sent_at(1000, 100 * ms, false), None);
        for k in 1..=100i64 {
            let sent = k * 5 * ms;
            let queue = if k % 5 == 0 { 30 * ms } else { 0 };
            c.observe(1000 + (sent / (4 * ms)) as u32, sent + 100 * ms + queue);
        }
        assert_eq!(c.tick_ns(), Some(4 * ms));
        // A segment sent at 300 ms (tick 75): 300 ms, less under one tick.
        let at = c.sent_at(1075, 100 * ms, false).unwrap();
        assert!((296 * ms..=300 * ms).contains(&at), "{at}");
    }
}
