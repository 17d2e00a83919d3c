//! udp-sdu: largest UDP SDU probe and the checksummed square message (not built yet).

use std::process::ExitCode;

fn main() -> ExitCode {
    netproto::cli::main_with(
        || Err(netproto::cli::Exit::failure("udp-sdu is not built yet").into()),
    )
}
