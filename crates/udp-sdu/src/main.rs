//! udp-sdu: the UDP socket exercises of the transport lab.
//!
//! - `echo` / `probe`: find experimentally the largest UDP datagram the OS accepts to send,
//!   the largest that reaches a peer, and (with `--dont-fragment`) the largest that fits the
//!   path MTU.
//! - `serve` / `send`: the checksummed "square" message of `netproto::sdu`.
//!
//! Unsafe code: only in `sockopt` (two libc socket-option calls socket2 does not offer),
//! each allowed on its own small function with a SAFETY comment.

mod probe;
mod sockopt;
mod square;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use netcli::Verbosity;
use netcli::net::Transport;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::process::ExitCode;

const EXAMPLES: &str = "\
Examples:
  # Largest datagram: an echo server on one host, the probe on the other
  udp-sdu echo 9000                       # on brooklyn
  udp-sdu probe 192.168.56.101 9000       # on midwood: 65507 = 65535 - 20 - 8
  udp-sdu probe 192.168.56.101 9000 --dont-fragment   # 1472 on a 1500-byte MTU link
  udp-sdu probe ::1 9000 --json

  # The checksummed square message
  udp-sdu serve 9001                      # answers 0xff (accepted) or 0x55 (rejected)
  udp-sdu send 192.168.56.101 9001 1234   # prints accepted, exit 0
  udp-sdu -v send ::1 9001 1234 --corrupt checksum   # hex dump; rejected, exit 1

Exit codes: 0 success/accepted, 1 rejected, 2 usage, 3 network error, unknown host or no answer.";

#[derive(Parser, Debug)]
#[command(
    name = "udp-sdu",
    version,
    about = "UDP socket exercises: largest datagram probe and the checksummed square message",
    after_help = EXAMPLES
)]
struct Cli {
    #[command(flatten)]
    verbosity: Verbosity,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Answer every datagram with its received size (4 bytes, network byte order).
    #[command(after_help = "Example:\n  udp-sdu echo 9000\n  udp-sdu echo --bind 127.0.0.1 9000")]
    Echo {
        /// Address to listen on (default: every IPv6 and IPv4 address).
        #[arg(long, value_name = "ADDR")]
        bind: Option<IpAddr>,
        /// UDP port (0 = any; the chosen port is logged).
        port: u16,
    },
    /// Find the largest datagram the OS sends, that arrives, and (-D) that fits the path MTU.
    #[command(
        after_help = "Examples:\n  udp-sdu probe 127.0.0.1 9000          # 65507 over loopback\n  \
        udp-sdu probe ::1 9000                # 65527\n  \
        udp-sdu probe 192.168.56.101 9000 --dont-fragment --json"
    )]
    Probe {
        /// Host running `udp-sdu echo`.
        host: String,
        /// Its port.
        port: u16,
        /// Set don't-fragment (IP_PMTUDISC_DO / IPV6_DONTFRAG): find the path-MTU limit.
        #[arg(short = 'D', long)]
        dont_fragment: bool,
        /// How long to wait for each echo, in milliseconds.
        #[arg(long, default_value_t = 300, value_name = "MS")]
        timeout: u64,
        /// Extra tries before deciding a size is lost.
        #[arg(long, default_value_t = 3, value_name = "N")]
        retries: u32,
        /// Print the result as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Verify square messages and answer 0xff (accepted) or 0x55 (rejected), forever.
    #[command(
        after_help = "Examples:\n  udp-sdu serve 9001\n  udp-sdu serve --bind ::1 9001\n  udp-sdu -q serve 9001 --json | jq -c 'select(.verdict == \"rejected\")'"
    )]
    Serve {
        /// Address to listen on (default: every IPv6 and IPv4 address).
        #[arg(long, value_name = "ADDR")]
        bind: Option<IpAddr>,
        /// UDP port (0 = any; the chosen port is logged).
        port: u16,
        /// Also print one JSON object per datagram on stdout (NDJSON, "type":"datagram").
        #[arg(long)]
        json: bool,
    },
    /// Send the square message for ROOT and print the server's verdict.
    #[command(
        after_help = "Examples:\n  udp-sdu send 127.0.0.1 9001 1234           # accepted\n  \
        udp-sdu -v send ::1 9001 1234 --corrupt square   # rejected, exit 1"
    )]
    Send {
        /// Host running `udp-sdu serve`.
        host: String,
        /// Its port.
        port: u16,
        /// The square root, 0-65535 (the 32-bit field is ROOT²).
        root: u16,
        /// Send a message broken in this way, to exercise the server.
        #[arg(long, value_enum, value_name = "HOW")]
        corrupt: Option<CorruptArg>,
        /// How long to wait for the answer, in milliseconds.
        #[arg(long, default_value_t = 1000, value_name = "MS")]
        timeout: u64,
        /// Extra tries when no answer comes (UDP may lose either datagram).
        #[arg(long, default_value_t = 3, value_name = "N")]
        retries: u32,
    },
}

/// `--corrupt` kinds (every check of `netproto::sdu` can be broken).
#[derive(ValueEnum, Clone, Copy, Debug)]
enum CorruptArg {
    Flags,
    Square,
    Ascii,
    Checksum,
    Zero,
    Type,
    Len,
    Truncate,
}

impl From<CorruptArg> for netproto::sdu::Corruption {
    fn from(c: CorruptArg) -> Self {
        use netproto::sdu::Corruption as C;
        match c {
            CorruptArg::Flags => C::Flags,
            CorruptArg::Square => C::Square,
            CorruptArg::Ascii => C::Ascii,
            CorruptArg::Checksum => C::Checksum,
            CorruptArg::Zero => C::Zero,
            CorruptArg::Type => C::Type,
            CorruptArg::Len => C::Len,
            CorruptArg::Truncate => C::Truncate,
        }
    }
}

fn main() -> ExitCode {
    netcli::main_with(run)
}

fn run() -> anyhow::Result<ExitCode> {
    let cli: Cli = netcli::parse();
    cli.verbosity.init_logging();
    match cli.command {
        Command::Echo { bind, port } => probe::echo(&bind_socket(bind, port)?),
        Command::Probe {
            host,
            port,
            dont_fragment,
            timeout,
            retries,
            json,
        } => {
            let opts = probe::Options {
                target: netcli::net::resolve_first(&host, port)?,
                dont_fragment,
                timeout: std::time::Duration::from_millis(timeout.max(1)),
                retries,
            };
            let result = probe::probe(&opts)?;
            if json {
                println!("{}", result.to_json());
            } else {
                print!("{}", result.to_text());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve { bind, port, json } => square::serve(&bind_socket(bind, port)?, json),
        Command::Send {
            host,
            port,
            root,
            corrupt,
            timeout,
            retries,
        } => square::send(
            netcli::net::resolve_first(&host, port)?,
            root,
            corrupt.map(Into::into),
            std::time::Duration::from_millis(timeout.max(1)),
            retries,
        ),
    }
}

/// A UDP socket bound to ADDR:PORT; without ADDR, `[::]` accepting IPv4 too (or `0.0.0.0`
/// where IPv6 is off). Big buffers: the probe sends 64 KiB datagrams back to back.
pub(crate) fn bind_socket(bind: Option<IpAddr>, port: u16) -> anyhow::Result<UdpSocket> {
    let sock: UdpSocket = netcli::net::bind(bind, port, Transport::Udp, |s| {
        let _ = s.set_recv_buffer_size(1 << 20);
        let _ = s.set_send_buffer_size(1 << 20);
        Ok(())
    })
    .map_err(|e| netcli::net::listen_error(Transport::Udp, bind, port, &e, "pick another port"))?
    .into();
    let local = sock.local_addr().context("local address")?;
    log::info!("listening on UDP {local}");
    Ok(sock)
}

/// Answer every datagram on `sock` with what `answer(datagram, peer)` returns, forever (or
/// until `answer` fails: only writing to a closed stdout does).
/// The peer is shown canonically (IPv4 clients of a dual-stack socket as IPv4). Errors are
/// logged and never stop the loop; the buffer takes any UDP payload, so a datagram too long
/// for the protocol is seen whole, never silently truncated.
pub(crate) fn serve_datagrams(
    sock: &UdpSocket,
    mut answer: impl FnMut(&[u8], SocketAddr) -> std::io::Result<Vec<u8>>,
) -> anyhow::Result<ExitCode> {
    let mut buf = vec![0u8; 65536];
    loop {
        let (n, peer) = match sock.recv_from(&mut buf) {
            Ok(x) => x,
            Err(e) => {
                log::warn!("receive failed: {e}; continuing");
                continue;
            }
        };
        let shown = SocketAddr::new(peer.ip().to_canonical(), peer.port());
        let reply = answer(&buf[..n], shown)?;
        if let Err(e) = sock.send_to(&reply, peer) {
            log::warn!("{shown}: cannot answer: {e}");
        }
    }
}
