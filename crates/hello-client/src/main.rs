//! hello-client: the lab's HTTP client that explains failures (not built yet).

use std::process::ExitCode;

fn main() -> ExitCode {
    netproto::cli::main_with(|| {
        Err(netproto::cli::Exit::failure("hello-client is not built yet").into())
    })
}
