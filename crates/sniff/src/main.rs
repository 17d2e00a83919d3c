//! sniff: packet capture like tcpdump, explained like scapy (not built yet).

use std::process::ExitCode;

fn main() -> ExitCode {
    netproto::cli::main_with(|| Err(netproto::cli::Exit::failure("sniff is not built yet").into()))
}
