//! hello-server: the lab's Hello, World! HTTP/1.1 server (not built yet).

use std::process::ExitCode;

fn main() -> ExitCode {
    netproto::cli::main_with(|| {
        Err(netproto::cli::Exit::failure("hello-server is not built yet").into())
    })
}
