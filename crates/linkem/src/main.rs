//! linkem: a userspace link emulator — a bump in the wire between two interfaces that applies
//! tc-netem's impairments per direction (delay, jitter, loss, bursts, duplication, reordering,
//! corruption, rate with a bounded queue) and logs the fate of every frame.
//!
//! The emulation is `netproto::netem` (sans-IO, tested with a fake clock); this binary only
//! reads frames, hands them to one `Link` per direction, sends them when due
//! ([`forward`]) and writes the ground-truth log ([`record`]).

mod args;
mod forward;
mod record;

use std::hash::{BuildHasher, RandomState};
use std::process::ExitCode;

use anyhow::Result;
use netcli::Exit;
use netproto::netem::{Link, LinkStats};

use crate::args::{Args, Specs};
use crate::forward::Side;
use crate::record::{Clock, Dir, FrameLog};

fn main() -> ExitCode {
    netcli::main_with(run)
}

fn run() -> Result<ExitCode> {
    let args: Args = netcli::parse();
    args.verbosity.init_logging();
    if args.check {
        return check(&args);
    }
    let (Some(a), Some(b)) = (args.iface_a.clone(), args.iface_b.clone()) else {
        return Err(Exit::usage(
            "linkem needs two interfaces: linkem IFACE_A IFACE_B [SPEC...] (e.g. linkem veth0 veth1 delay 50ms)",
        )
        .into());
    };
    if a == b {
        return Err(Exit::usage(format!(
            "IFACE_A and IFACE_B are both {a}: name two interfaces"
        ))
        .into());
    }
    if args.buffer_kib <= 0 {
        return Err(Exit::usage("--buffer-kib takes a positive number of KiB").into());
    }
    let specs = args.specs().map_err(|e| Exit::usage(e.to_string()))?;
    // A fresh seed from the OS-seeded hasher keys when none is given; logged for replay.
    let seed = args
        .seed
        .unwrap_or_else(|| RandomState::new().hash_one(std::process::id()));
    let stop = netcap::live::signal_flag()?;
    netcap::tighten_timer_slack();
    if args.realtime {
        netcap::realtime_priority(10).map_err(|e| {
            Exit::failure(format!(
                "--realtime: the kernel refused the real-time policy ({e}): run linkem as root, or without --realtime"
            ))
        })?;
    }
    let clock = Clock::new();
    let mut log = FrameLog::open(args.log.as_deref(), clock).map_err(|e| {
        Exit::failure(format!(
            "cannot write the log {}: {e}",
            args.log
                .as_deref()
                .unwrap_or(std::path::Path::new("-"))
                .display()
        ))
    })?;
    let mut sides = open_sides(&args, &a, &b, &specs, seed)?;
    log.start(
        &a,
        &b,
        &specs.to_a.to_string(),
        &specs.to_b.to_string(),
        seed,
    )?;
    log::info!(
        "linkem: forwarding {a} <-> {b}; to {a}: {}; to {b}: {}; seed {seed}",
        describe(&specs.to_a),
        describe(&specs.to_b)
    );
    let totals = forward::run(&mut sides, &mut log, &stop)?;
    let [to_a, to_b] = forward::stats(&sides);
    log.summary(
        &to_a,
        &to_b,
        [sides[0].unsent, sides[1].unsent],
        totals.capture_dropped,
    )?;
    log.flush()?;
    log::info!("linkem: to {a}: {}", counts(&to_a, sides[0].unsent));
    log::info!("linkem: to {b}: {}", counts(&to_b, sides[1].unsent));
    if totals.capture_dropped > 0 {
        log::warn!(
            "linkem: the kernel dropped {} frames before linkem read them (not part of the emulation): raise --buffer-kib",
            totals.capture_dropped
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn check(args: &Args) -> Result<ExitCode> {
    let spec = netproto::netem::Spec::parse(&args.check_words())
        .map_err(|e| Exit::usage(e.to_string()))?;
    println!("{spec}");
    Ok(ExitCode::SUCCESS)
}

fn open_sides(args: &Args, a: &str, b: &str, specs: &Specs, seed: u64) -> Result<[Side; 2]> {
    let side = |iface: &str,
                other: &str,
                name: &'static str,
                spec: &netproto::netem::Spec,
                seed|
     -> Result<Side> {
        Ok(Side {
            cap: forward::open(iface, args.buffer_kib)?,
            link: Link::new(spec.clone(), seed),
            dir: Dir {
                name,
                from: other.to_owned(),
                to: iface.to_owned(),
            },
            unsent: 0,
        })
    };
    // Each direction draws from its own stream, so impairing one does not change the other.
    Ok([
        side(a, b, "to_a", &specs.to_a, seed)?,
        side(
            b,
            a,
            "to_b",
            &specs.to_b,
            seed ^ 0x5bd1_e995_u64.rotate_left(32),
        )?,
    ])
}

fn describe(spec: &netproto::netem::Spec) -> String {
    if spec.is_clear() {
        "no impairment".to_owned()
    } else {
        spec.to_string()
    }
}

fn counts(s: &LinkStats, unsent: u64) -> String {
    format!(
        "{} frames received, {} sent, {} dropped (random {}, burst {}, queue {}), {} duplicated, {} reordered, {} corrupted, {} unsent",
        s.received,
        s.sent,
        s.dropped(),
        s.dropped_random,
        s.dropped_burst,
        s.dropped_queue,
        s.duplicated,
        s.reordered,
        s.corrupted,
        unsent
    )
}
