//! tlv-client: the TLV exchange on TCP port 62141: client and server (not built yet).

use std::process::ExitCode;

fn main() -> ExitCode {
    netproto::cli::main_with(|| {
        Err(netproto::cli::Exit::failure("tlv-client is not built yet").into())
    })
}
