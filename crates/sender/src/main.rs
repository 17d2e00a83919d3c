//! sender: sliding-window file transfer over UDP: the sending side (not built yet).

use std::process::ExitCode;

fn main() -> ExitCode {
    netproto::cli::main_with(|| Err(netproto::cli::Exit::failure("sender is not built yet").into()))
}
