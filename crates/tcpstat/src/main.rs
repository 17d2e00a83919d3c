//! tcpstat: TCP trace analysis for the transport lab (not built yet).

use std::process::ExitCode;

fn main() -> ExitCode {
    netproto::cli::main_with(
        || Err(netproto::cli::Exit::failure("tcpstat is not built yet").into()),
    )
}
