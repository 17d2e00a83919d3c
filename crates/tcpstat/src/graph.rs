//! `graph`: time-sequence, RTT, throughput and window graphs with plotters.
use std::io::Write;

use crate::GraphArgs;

pub fn run(_file: &str, _n: u32, _a: &GraphArgs, _out: &mut impl Write) -> anyhow::Result<()> {
    anyhow::bail!("graph: not implemented yet")
}
