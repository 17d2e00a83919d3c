//! tlv-server: the server side of the TCP exercise (`netproto::tlv`), which the textbook
//! assumes is "installed" somewhere.
//!
//! For every connection: send an integer (random, or `--value`) as an ASCII TLV, read 4 bytes
//! (the integer in network byte order) within the timeout, answer a boolean TLV (true when
//! they match), close. One thread per client, with a cap; a client that sends nothing, too
//! little or garbage gets `false` and the server goes on.

use clap::Parser;
use netcli::Verbosity;
use netcli::net::Transport;
use netproto::tlv::Repr;
use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const EXAMPLES: &str = "\
Examples:
  tlv-server                              # every address, port 62141, random integers
  tlv-server --bind 127.0.0.1 --port 9999 --value 1234
  tlv-client 127.0.0.1 9999               # from another terminal: prints true

Each connection is logged: peer, value sent, what came back, the answer.";

#[derive(Parser, Debug)]
#[command(
    name = "tlv-server",
    version,
    about = "Send an integer as an ASCII TLV, check the 32-bit answer, reply with a boolean TLV",
    after_help = EXAMPLES
)]
struct Args {
    /// Address to listen on (default: every IPv6 and IPv4 address).
    #[arg(long, value_name = "ADDR")]
    bind: Option<IpAddr>,
    /// TCP port (0 = any; the chosen port is logged).
    #[arg(long, default_value_t = 62141)]
    port: u16,
    /// Send this integer to every client instead of a random one.
    #[arg(long, value_name = "N")]
    value: Option<u32>,
    /// Seconds a client has to send its 4 bytes.
    #[arg(long, default_value = "5", value_name = "SECS", value_parser = netcli::value::secs)]
    timeout: Duration,
    /// Most clients served at once; more are closed at once.
    #[arg(long, default_value_t = 512, value_name = "N")]
    max_clients: usize,
    #[command(flatten)]
    verbosity: Verbosity,
}

fn main() -> ExitCode {
    netcli::main_with(run)
}

fn run() -> anyhow::Result<ExitCode> {
    let args: Args = netcli::parse();
    args.verbosity.init_logging();
    let listener = listen(args.bind, args.port)?;
    log::info!("listening on TCP {}", listener.local_addr()?);
    let timeout = args.timeout;
    let active = Arc::new(AtomicUsize::new(0));
    for conn in listener.incoming() {
        let stream = match conn {
            Ok(s) => s,
            Err(e) => {
                // EMFILE and friends: wait a little instead of spinning.
                log::warn!("accept failed: {e}; continuing");
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
        };
        if active.load(Ordering::Relaxed) >= args.max_clients {
            log::warn!(
                "{}: {} clients already, closing",
                peer_of(&stream),
                args.max_clients
            );
            continue;
        }
        active.fetch_add(1, Ordering::Relaxed);
        let active = active.clone();
        let value = args.value.unwrap_or_else(rand::random);
        let spawned = std::thread::Builder::new()
            .name("client".into())
            .spawn(move || {
                serve(stream, value, timeout);
                active.fetch_sub(1, Ordering::Relaxed);
            });
        if let Err(e) = spawned {
            log::warn!("cannot start a thread: {e}; connection dropped");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn listen(bind: Option<IpAddr>, port: u16) -> anyhow::Result<TcpListener> {
    netcli::net::bind(bind, port, Transport::Tcp, |s| s.set_reuse_address(true))
        .and_then(|s| s.listen(1024).map(|()| s.into()))
        .map_err(|e| {
            netcli::net::listen_error(Transport::Tcp, bind, port, &e, "choose another with --port")
                .into()
        })
}

fn peer_of(s: &TcpStream) -> String {
    s.peer_addr().map_or_else(
        |_| "?".to_string(),
        |p| SocketAddr::new(p.ip().to_canonical(), p.port()).to_string(),
    )
}

/// One client: integer out, 4 bytes in (before the deadline), boolean out, close.
fn serve(mut stream: TcpStream, value: u32, timeout: Duration) {
    let peer = peer_of(&stream);
    let _ = stream.set_nodelay(true);
    let _ = stream.set_write_timeout(Some(timeout));
    let tlv = Repr::integer(value).to_bytes().unwrap_or_default();
    if let Err(e) = stream.write_all(&tlv) {
        log::info!("{peer} value={value}: cannot send the integer: {e}");
        return;
    }
    // Read exactly 4 bytes, but never past one deadline (a client trickling a byte at a
    // time does not get extra time).
    let deadline = Instant::now() + timeout;
    let mut got = [0u8; 4];
    let mut n = 0;
    let outcome = loop {
        if n == 4 {
            break Ok(());
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break Err(format!("timeout after {n} byte(s)"));
        }
        let _ = stream.set_read_timeout(Some(left));
        match stream.read(&mut got[n..]) {
            Ok(0) => break Err(format!("closed after {n} byte(s)")),
            Ok(k) => n += k,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                break Err(format!("timeout after {n} byte(s)"));
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => break Err(format!("{e} after {n} byte(s)")),
        }
    };
    let (answer, what) = match outcome {
        Ok(()) => {
            let v = u32::from_be_bytes(got);
            (v == value, format!("got={v}"))
        }
        Err(why) => (false, why),
    };
    let reply = Repr::Boolean(answer).to_bytes().unwrap_or_default();
    let sent = stream.write_all(&reply).and_then(|()| stream.flush());
    match sent {
        Ok(()) => log::info!("{peer} value={value} {what} answer={answer}"),
        Err(e) => log::info!("{peer} value={value} {what} answer={answer} (not delivered: {e})"),
    }
    // FIN after the answer, then drain what the client may still send: closing with unread
    // bytes would send a RST, which can destroy the answer before the client reads it.
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    let mut sink = [0u8; 4096];
    let mut drained = 0;
    while drained < 1 << 20 {
        match stream.read(&mut sink) {
            Ok(0) | Err(_) => break,
            Ok(k) => drained += k,
        }
    }
}
