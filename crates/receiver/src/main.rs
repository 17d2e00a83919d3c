//! receiver: sliding-window file transfer over UDP: the receiving side (not built yet).

use std::process::ExitCode;

fn main() -> ExitCode {
    netproto::cli::main_with(|| {
        Err(netproto::cli::Exit::failure("receiver is not built yet").into())
    })
}
