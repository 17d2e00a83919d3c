//! The forwarding loop: two interfaces, one [`Link`] per direction, one thread.
//!
//! Each round reads every frame the kernel has ready on both interfaces (libpcap's memory-
//! mapped ring, no system call per frame), hands it to the link of its direction, sends what is
//! due, and then sleeps in `ppoll` until a frame arrives or the next one is due — no busy loop,
//! so an idle link costs no CPU. Buffers are recycled, so memory stays bounded by the links'
//! queue limits.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use netcap::{Live, LiveOptions};
use netproto::netem::{Departure, Link, LinkStats};

use crate::record::{Dir, FrameLog};

/// Frames read from one interface per round, so that one busy side cannot starve the other.
const BATCH: usize = 256;
/// Idle wake-up when nothing is held: only to flush the log now and then.
const IDLE_WAIT: Duration = Duration::from_millis(500);
/// A kernel arrival stamp older than this is not trusted (see [`arrival`]).
const MAX_READ_LAG: Duration = Duration::from_millis(50);
/// The log is at most this much behind the frames.
const FLUSH_EVERY: Duration = Duration::from_millis(500);

/// One interface: its capture (receive and send) and the link of the frames it sends.
pub struct Side {
    pub cap: Live,
    pub link: Link,
    pub dir: Dir,
    pub unsent: u64,
}

impl std::fmt::Debug for Side {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Side").field("dir", &self.dir).finish()
    }
}

/// Open an interface for forwarding: promiscuous, every frame whole, inbound only.
pub fn open(iface: &str, buffer_kib: i32) -> Result<Live> {
    let mut cap = Live::open(&LiveOptions {
        device: iface.to_owned(),
        snaplen: 262_144,
        buffer_kib,
        promisc: true,
        immediate: true,
    })
    .with_context(|| format!("opening {iface}"))?;
    if cap.linktype() != netproto::frame::linktype::ETHERNET {
        anyhow::bail!(netcli::Exit::failure(format!(
            "{iface} is not an Ethernet interface (link type {}): linkem joins Ethernet interfaces such as veths",
            cap.linktype()
        )));
    }
    cap.set_direction(netcap::CaptureDirection::In)?;
    Ok(cap)
}

/// What the loop counted besides the links' own counters.
#[derive(Debug, Default, Clone, Copy)]
pub struct Totals {
    /// Frames the kernel dropped before linkem could read them (its ring was full): losses
    /// that are not the emulation's, reported apart.
    pub capture_dropped: u64,
    pub send_failed: u64,
}

#[derive(Debug)]
struct Pool(Vec<Vec<u8>>);

impl Pool {
    fn take(&mut self, data: &[u8]) -> Vec<u8> {
        let mut buf = self.0.pop().unwrap_or_default();
        buf.clear();
        buf.extend_from_slice(data);
        buf
    }

    fn give(&mut self, buf: Vec<u8>) {
        if self.0.len() < 4096 {
            self.0.push(buf);
        }
    }
}

/// Forward until `stop` is set; frames still held are logged as `unsent`.
pub fn run(sides: &mut [Side; 2], log: &mut FrameLog, stop: &Arc<AtomicBool>) -> Result<Totals> {
    let mut pool = Pool(Vec::new());
    let mut totals = Totals::default();
    let mut last_flush = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        let now = Instant::now();
        let got = receive(sides, now, log, &mut pool)?;
        transmit(sides, Instant::now(), log, &mut pool, &mut totals)?;
        // Readers may follow the log while linkem runs: never more than a flush period behind.
        if last_flush.elapsed() > FLUSH_EVERY {
            log.flush()?;
            last_flush = Instant::now();
        }
        if got == 0 {
            wait(sides)?;
        }
    }
    finish(sides, log)?;
    for (i, side) in sides.iter_mut().enumerate() {
        let dropped = side.cap.stats().map(|s| u64::from(s.dropped)).unwrap_or(0);
        totals.capture_dropped += dropped;
        log::debug!("side {i}: kernel dropped {dropped}");
    }
    Ok(totals)
}

/// Read what is ready on both interfaces; a frame read on side i goes to the other side's link.
fn receive(
    sides: &mut [Side; 2],
    now: Instant,
    log: &mut FrameLog,
    pool: &mut Pool,
) -> Result<usize> {
    let mut got = 0;
    let wall_now = wall_ns();
    for from in 0..2 {
        let (rx, tx) = split(sides, from);
        let link = &mut tx.link;
        let n = rx.cap.dispatch(Some(BATCH), |r| {
            link.handle_frame(arrival(now, wall_now, r.ts), pool.take(r.data));
        })?;
        got += n;
        while let Some(d) = tx.link.poll_dropped() {
            log.frame(&tx.dir, &d.meta, d.meta.fate.name(), None, &d.frame)?;
            pool.give(d.frame);
        }
    }
    Ok(got)
}

/// When a frame really arrived: the kernel stamped it on arrival, so a frame read late (linkem
/// was busy or asleep) still gets its delay from then, not from the read. A stamp from the
/// future or more than `MAX_READ_LAG` old (the wall clock was stepped) counts as now.
fn arrival(now: Instant, wall_now: i128, ts: netcap::Timestamp) -> Instant {
    let stamped = i128::from(ts.sec) * 1_000_000_000 + i128::from(ts.nsec);
    let lag = wall_now - stamped;
    if (0..MAX_READ_LAG.as_nanos() as i128).contains(&lag) {
        now.checked_sub(Duration::from_nanos(lag as u64))
            .unwrap_or(now)
    } else {
        now
    }
}

fn wall_ns() -> i128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i128)
}

/// Send every frame that is due.
fn transmit(
    sides: &mut [Side; 2],
    now: Instant,
    log: &mut FrameLog,
    pool: &mut Pool,
    totals: &mut Totals,
) -> Result<()> {
    for side in sides.iter_mut() {
        while let Some(Departure { frame, meta }) = side.link.poll_transmit(now) {
            match side.cap.send(&frame) {
                Ok(()) => log.frame(
                    &side.dir,
                    &meta,
                    meta.fate.name(),
                    Some(Instant::now()),
                    &frame,
                )?,
                Err(e) => {
                    totals.send_failed += 1;
                    if totals.send_failed == 1 {
                        log::warn!(
                            "sending a {}-byte frame out of {} failed: {e} (frames larger than the MTU need GRO off: ethtool -K {} gro off)",
                            frame.len(),
                            side.dir.to,
                            side.dir.from
                        );
                    }
                    log.frame(&side.dir, &meta, "send-failed", None, &frame)?;
                }
            }
            pool.give(frame);
        }
    }
    Ok(())
}

/// Sleep until a frame arrives on either side, the next held frame is due, or a signal.
fn wait(sides: &[Side; 2]) -> Result<()> {
    let next = sides.iter().filter_map(|s| s.link.poll_timeout()).min();
    let timeout = match next {
        Some(t) => t.saturating_duration_since(Instant::now()),
        None => IDLE_WAIT,
    };
    if timeout.is_zero() {
        return Ok(());
    }
    netcap::wait_readable(&[sides[0].cap.fd(), sides[1].cap.fd()], Some(timeout))
        .context("waiting for frames")?;
    Ok(())
}

/// Log what is still held as unsent, then flush.
fn finish(sides: &mut [Side; 2], log: &mut FrameLog) -> Result<()> {
    for side in sides.iter_mut() {
        let held: Vec<Departure> = side.link.drain().collect();
        side.unsent = held.len() as u64;
        for d in held {
            log.frame(&side.dir, &d.meta, "unsent", None, &d.frame)?;
        }
    }
    log.flush()?;
    Ok(())
}

/// (the side frames are read from, the side they are sent out of).
fn split(sides: &mut [Side; 2], from: usize) -> (&mut Side, &mut Side) {
    let [a, b] = sides;
    if from == 0 { (a, b) } else { (b, a) }
}

/// The counters of both directions (to A, to B).
pub fn stats(sides: &[Side; 2]) -> [LinkStats; 2] {
    [sides[0].link.stats(), sides[1].link.stats()]
}
