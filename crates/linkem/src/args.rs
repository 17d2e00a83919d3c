//! linkem's command line.

use std::path::PathBuf;

use clap::Parser;
use netproto::netem::{Spec, SpecError};

const AFTER_HELP: &str = "\
SPEC is tc-netem's own words (see tc-netem(8)), per direction:
  limit N                          frames held at most, delayed or queued (default 1000; tail drop)
  delay TIME [JITTER [CORR%]]      e.g. delay 100ms 10ms 25%
  distribution uniform|normal      how jitter spreads (default uniform, as netem)
  loss PCT% [CORR%]                random loss, e.g. loss 1%
  loss gemodel p% [r% [1-h% [1-k%]]]  Gilbert-Elliott bursts
  duplicate PCT%  reorder PCT% [CORR%] [gap N]  corrupt PCT%
  rate RATE [OVERHEAD]             e.g. rate 10mbit (bytes per frame added for the rate)
  seed N
Unlike netem, jitter never reorders frames (they leave in arrival order, as on a real link);
only `reorder` does. Every frame, ARP and IPv6 neighbour discovery included, crosses the
emulated link.

Examples:
  linkem veth-a veth-b delay 50ms loss 1%
  linkem veth-a veth-b --to-a 'delay 100ms' --to-b 'delay 100ms rate 10mbit limit 100' --log fates.ndjson
  linkem --check delay 100ms 10ms distribution normal
Exit status: 0 stopped by SIGINT/SIGTERM (log complete), 2 bad command line or SPEC,
3 the interfaces could not be opened or used.";

/// Userspace link emulator: forwards every Ethernet frame between two interfaces, applying
/// tc-netem's impairments per direction, and logs the fate of each frame.
#[derive(Debug, Parser)]
#[command(name = "linkem", version, after_help = AFTER_HELP)]
pub struct Args {
    /// Interface A (frames received here go out of B).
    #[arg(value_name = "IFACE_A")]
    pub iface_a: Option<String>,
    /// Interface B (frames received here go out of A).
    #[arg(value_name = "IFACE_B")]
    pub iface_b: Option<String>,
    /// netem words for both directions (e.g. delay 100ms loss 1%).
    #[arg(value_name = "SPEC")]
    pub spec: Vec<String>,
    /// netem words, as one argument, for the frames sent out of IFACE_A (overrides SPEC).
    #[arg(long, value_name = "SPEC")]
    pub to_a: Option<String>,
    /// netem words, as one argument, for the frames sent out of IFACE_B (overrides SPEC).
    #[arg(long, value_name = "SPEC")]
    pub to_b: Option<String>,
    /// Seed of every random draw, for reproducible runs (default: a fresh one, logged).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Write one NDJSON record per frame and direction to FILE (`-` = stdout).
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
    /// Only check the netem words given as arguments: print them in canonical form and exit.
    #[arg(long)]
    pub check: bool,
    /// Run under the real-time FIFO scheduling policy (priority 10): frames leave on time even
    /// when other programs keep the CPUs busy, and wake-ups are faster (needs root).
    #[arg(long)]
    pub realtime: bool,
    /// Kernel receive ring per interface, in KiB.
    #[arg(long, value_name = "KIB", default_value_t = 32768)]
    pub buffer_kib: i32,
    #[command(flatten)]
    pub verbosity: netcli::Verbosity,
}

/// The specs of both directions.
#[derive(Debug, Clone)]
pub struct Specs {
    pub to_a: Spec,
    pub to_b: Spec,
}

impl Args {
    /// With `--check` every positional word is a netem word.
    pub fn check_words(&self) -> Vec<String> {
        self.iface_a
            .iter()
            .chain(&self.iface_b)
            .chain(&self.spec)
            .cloned()
            .collect()
    }

    pub fn specs(&self) -> Result<Specs, SpecError> {
        let both = Spec::parse(&self.spec)?;
        let one = |s: &Option<String>| match s {
            Some(words) => Spec::parse_str(words),
            None => Ok(both.clone()),
        };
        Ok(Specs {
            to_a: one(&self.to_a)?,
            to_b: one(&self.to_b)?,
        })
    }
}
