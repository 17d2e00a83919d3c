//! tlv-client: the client side of the TCP exercise (`netproto::tlv`).
//!
//! Connect, read one TLV (ASCII integer), send the integer back as 4 bytes in network byte
//! order, read the boolean TLV, print `true` or `false`. The whole exchange has one deadline,
//! and every read copes with TLVs split over any number of TCP segments.

use clap::Parser;
use netcli::{Exit, Verbosity, code};
use netproto::tlv::{self, Decoded, Decoder, Repr};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::ExitCode;
use std::time::{Duration, Instant};

const EXAMPLES: &str = "\
Examples:
  tlv-server                       # in another terminal (or on another lab host)
  tlv-client 127.0.0.1             # prints true, exit 0
  tlv-client -v ::1 62141          # shows each TLV in hex with its meaning
  tlv-client 192.168.56.101 --timeout 2

Exit codes: 0 true, 1 false, 2 usage, 3 network (unknown host too) or protocol error.";

#[derive(Parser, Debug)]
#[command(
    name = "tlv-client",
    version,
    about = "Read an integer TLV from the server, send it back as a 32-bit integer, print the server's boolean",
    after_help = EXAMPLES
)]
struct Args {
    /// Server host name or address (IPv4 or IPv6).
    host: String,
    /// Server port.
    #[arg(default_value_t = 62141)]
    port: u16,
    /// Seconds for the whole exchange (connect, both TLVs).
    #[arg(long, default_value = "5", value_name = "SECS", value_parser = netcli::value::secs)]
    timeout: Duration,
    #[command(flatten)]
    verbosity: Verbosity,
}

fn main() -> ExitCode {
    netcli::main_with(run)
}

fn run() -> anyhow::Result<ExitCode> {
    let args: Args = netcli::parse();
    args.verbosity.init_logging();
    let deadline = Instant::now() + args.timeout;
    let addrs = netcli::net::resolve(&args.host, args.port)?;
    let mut conn = Conn::connect(&addrs, deadline, args.timeout.as_secs_f64())?;

    let first = conn.read_tlv("the integer")?;
    let value = match &first {
        Repr::Ascii(_) => first
            .as_integer()
            .map_err(|e| Exit::failure(format!("{}: the server's ASCII TLV {e}", conn.peer)))?,
        Repr::Boolean(b) => {
            return Err(Exit::failure(format!(
                "{}: expected an ASCII TLV holding an integer, got boolean {b}",
                conn.peer
            ))
            .into());
        }
    };
    let reply = value.to_be_bytes();
    log::debug!(
        "-> {}  ({value} as a 32-bit big-endian integer)",
        hex(&reply)
    );
    conn.stream
        .write_all(&reply)
        .map_err(|e| Exit::failure(format!("{}: sending the integer: {e}", conn.peer)))?;

    let answer = conn.read_tlv("the boolean answer")?;
    let ok = answer.as_bool().map_err(|_| {
        Exit::failure(format!(
            "{}: expected a boolean TLV as the answer, got {answer}",
            conn.peer
        ))
    })?;
    println!("{ok}");
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(code::NEGATIVE)
    })
}

fn hex(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

struct Conn {
    stream: TcpStream,
    peer: SocketAddr,
    deadline: Instant,
    timeout_secs: f64,
    decoder: Decoder,
}

impl Conn {
    /// Try each address in turn until one connects, all within the deadline.
    fn connect(addrs: &[SocketAddr], deadline: Instant, timeout_secs: f64) -> anyhow::Result<Conn> {
        let mut last = None;
        for &addr in addrs {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            match TcpStream::connect_timeout(&addr, left) {
                Ok(stream) => {
                    log::debug!("connected to {addr}");
                    return Ok(Conn {
                        stream,
                        peer: addr,
                        deadline,
                        timeout_secs,
                        decoder: Decoder::new(),
                    });
                }
                Err(e) => last = Some((addr, e)),
            }
        }
        Err(match last {
            Some((addr, e)) if e.kind() == ErrorKind::ConnectionRefused => Exit::failure(format!(
                "{addr}: connection refused: is tlv-server running there (port {})?",
                addr.port()
            )),
            Some((addr, e)) => Exit::failure(format!("cannot connect to {addr}: {e}")),
            None => Exit::failure(format!("cannot connect within {timeout_secs} s")),
        }
        .into())
    }

    /// Read until one complete TLV is decoded; `what` names it in errors.
    fn read_tlv(&mut self, what: &str) -> anyhow::Result<Repr> {
        let mut buf = [0u8; 256];
        loop {
            // Kept for -v: the decoder drops the bytes of a TLV it completes.
            let before = self.decoder.buffered().to_vec();
            match self.decoder.next_tlv() {
                Ok(Decoded::Complete { tlv, consumed }) => {
                    log::debug!("<- {}", tlv::describe(&before[..consumed]));
                    return Ok(tlv);
                }
                Ok(Decoded::NeedMore { needed }) => {
                    let got = self.decoder.buffered().len();
                    let left = self.deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(self.timed_out(what, needed).into());
                    }
                    self.stream.set_read_timeout(Some(left))?;
                    match self.stream.read(&mut buf) {
                        Ok(0) => {
                            return Err(Exit::failure(if got == 0 {
                                format!(
                                    "{}: the server closed the connection before sending {what}",
                                    self.peer
                                )
                            } else {
                                format!(
                                    "{}: the server closed the connection in the middle of a TLV ({what}): got {got} byte(s){}, need {needed} more",
                                    self.peer,
                                    self.partial()
                                )
                            })
                            .into());
                        }
                        Ok(n) => {
                            log::trace!("read {n} byte(s): {}", hex(&buf[..n]));
                            self.decoder.push(&buf[..n]);
                        }
                        Err(e)
                            if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) =>
                        {
                            return Err(self.timed_out(what, needed).into());
                        }
                        Err(e) if e.kind() == ErrorKind::Interrupted => {}
                        Err(e) => {
                            return Err(Exit::failure(format!(
                                "{}: reading {what}: {e}",
                                self.peer
                            ))
                            .into());
                        }
                    }
                }
                Err(e) => {
                    return Err(Exit::failure(format!(
                        "{}: invalid TLV ({what}): {e}; received {}",
                        self.peer,
                        hex(&self.decoder.buffered()[..self.decoder.buffered().len().min(32)])
                    ))
                    .into());
                }
            }
        }
    }

    fn timed_out(&self, what: &str, needed: usize) -> Exit {
        Exit::failure(format!(
            "{}: no complete TLV ({what}) within {} s: got {} byte(s){}, need {needed} more",
            self.peer,
            self.timeout_secs,
            self.decoder.buffered().len(),
            self.partial()
        ))
    }

    fn partial(&self) -> String {
        let b = self.decoder.buffered();
        if b.is_empty() {
            String::new()
        } else {
            format!(" ({})", hex(&b[..b.len().min(32)]))
        }
    }
}
