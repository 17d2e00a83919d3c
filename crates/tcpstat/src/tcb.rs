//! `tcb`: the RFC 793 TCB of a connection as one host holds it right after a frame.
use std::io::Write;

use crate::{Format, TcbArgs};

pub fn run(_file: &str, _a: &TcbArgs, _fmt: Format, _out: &mut impl Write) -> anyhow::Result<()> {
    anyhow::bail!("tcb: not implemented yet")
}
