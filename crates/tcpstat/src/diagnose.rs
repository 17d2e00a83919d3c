//! `diagnose`: network vs application vs capture, with evidence frames.
use std::io::Write;

use crate::Format;

pub fn run(
    _file: &str,
    _n: Option<u32>,
    _fmt: Format,
    _out: &mut impl Write,
) -> anyhow::Result<()> {
    anyhow::bail!("diagnose: not implemented yet")
}
