//! hello-client: the lab's HTTP client. It does what the lab sheet's `http.client` script does
//! (GET, print the status line and the body) and, when that fails, says why in plain words.
//! `-v` shows every step (resolution, endpoints, pid, timings); `--hold` keeps the connection
//! open so `ss -tnp`/`netstat -tnp` can find it.

mod response;
mod target;

use std::io::{self, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use netcli::{Exit, Verbosity, code};

use response::{Framing, Response};
use target::Target;

const AFTER_HELP: &str = "\
Exit status:
  0  the server answered 2xx (every answer, with --repeat)
  1  the server answered another status (404, 500, ...)
  2  usage error (bad URL, empty host, bad option)
  3  network error: unknown host, refused, timeout, reset, malformed response

Examples:
  hello-client                               # GET http://127.0.0.1:5000/
  hello-client 192.168.56.101:5000           # the lab's server on brooklyn
  hello-client -v http://localhost:8000/x    # resolution, endpoints, pid, timings
  hello-client --hold 30                     # then, elsewhere: ss -tnp | grep 5000
  hello-client --repeat 3                    # three requests on one keep-alive connection";

/// The lab's web client: GET a URL, print the status line and the body, explain failures.
#[derive(Debug, clap::Parser)]
#[command(version, after_help = AFTER_HELP)]
struct Args {
    /// URL or HOST[:PORT] (port 80 with a URL, 5000 with a bare host).
    #[arg(default_value = "http://127.0.0.1:5000/")]
    target: String,
    /// After the response keep the connection open SECS seconds, showing pid and endpoints.
    #[arg(long, value_name = "SECS", value_parser = netcli::value::secs)]
    hold: Option<Duration>,
    /// Send N requests over one keep-alive connection.
    #[arg(long, value_name = "N", default_value_t = 1)]
    repeat: u32,
    /// Give up connecting, or waiting for data, after SECS seconds.
    #[arg(long, value_name = "SECS", default_value = "5", value_parser = netcli::value::secs)]
    timeout: Duration,
    #[command(flatten)]
    verbosity: Verbosity,
}

fn main() -> ExitCode {
    netcli::main_with(run)
}

fn run() -> anyhow::Result<ExitCode> {
    // clap prints usage errors and exits 2 (netlab's usage code), --help/--version exit 0.
    let args: Args = netcli::parse();
    args.verbosity.init_logging();
    let verbose = args.verbosity.verbose > 0;
    let (timeout, hold) = (args.timeout, args.hold);
    if args.repeat == 0 {
        return Err(Exit::usage("--repeat must be at least 1").into());
    }
    let target = Target::parse(&args.target).map_err(Exit::usage)?;
    let say = |msg: String| {
        if verbose {
            eprintln!("* {msg}");
        }
    };

    let start = Instant::now();
    say(format!("pid {}", std::process::id()));
    let addrs = netcli::net::resolve(&target.host, target.port)?;
    let list: Vec<String> = addrs.iter().map(ToString::to_string).collect();
    say(format!(
        "resolved {} -> {} in {}",
        target.host,
        list.join(", "),
        ms(start.elapsed())
    ));

    let mut conn: Option<TcpStream> = None;
    let mut all_2xx = true;
    let stdout = io::stdout();
    for i in 0..args.repeat {
        let stream = match conn.take() {
            Some(s) => s,
            None => {
                if i > 0 {
                    say("the server closed the connection; opening a new one".to_owned());
                }
                connect(&addrs, timeout, &say)?
            }
        };
        let (local, remote) = (stream.local_addr()?, stream.peer_addr()?);
        let sent = Instant::now();
        let (resp, reusable, stream) = exchange(stream, &target, timeout, remote)?;
        let first = resp.first_byte.duration_since(sent);
        say(format!(
            "request {} on {local} -> {remote}: first byte after {}, complete after {} \
             ({} since start)",
            i + 1,
            ms(first),
            ms(sent.elapsed()),
            ms(start.elapsed())
        ));
        all_2xx &= (200..300).contains(&resp.code);
        let mut out = stdout.lock();
        writeln!(out, "{} {}", resp.code, resp.reason)?;
        out.write_all(&resp.body)?;
        if !resp.body.is_empty() && !resp.body.ends_with(b"\n") {
            out.write_all(b"\n")?;
        }
        out.flush()?;
        if reusable {
            conn = Some(stream);
        } else if i + 1 == args.repeat {
            // Hold even a connection the server closed: ss then shows it in CLOSE_WAIT.
            conn = Some(stream);
        }
    }

    if let (Some(hold), Some(stream)) = (hold, conn.as_ref()) {
        let local = stream.local_addr()?;
        let remote = stream.peer_addr()?;
        eprintln!(
            "holding the connection for {}: pid {}, local {local} -> remote {remote}; \
             find it with: ss -tnp 'sport = :{}'  (or netstat -tnp | grep {})",
            ms_or_s(hold),
            std::process::id(),
            local.port(),
            local.port()
        );
        std::thread::sleep(hold);
    }
    Ok(ExitCode::from(if all_2xx {
        code::OK
    } else {
        code::NEGATIVE
    }))
}

/// Connect to the first address that answers; explain the failure of the last one otherwise.
fn connect(
    addrs: &[SocketAddr],
    timeout: Duration,
    say: &impl Fn(String),
) -> anyhow::Result<TcpStream> {
    let mut last = None;
    for addr in addrs {
        let t = Instant::now();
        match TcpStream::connect_timeout(addr, timeout) {
            Ok(s) => {
                let local = s.local_addr()?;
                say(format!(
                    "connected {local} -> {addr} in {} (local endpoint -> remote endpoint)",
                    ms(t.elapsed())
                ));
                let _ = s.set_nodelay(true);
                return Ok(s);
            }
            Err(e) => {
                say(format!("connect to {addr} failed: {e}"));
                last = Some((*addr, e));
            }
        }
    }
    let (addr, e) = last.expect("at least one address");
    Err(Exit::failure(explain_connect(addr, &e, timeout)).into())
}

/// The likely cause of a failed connect, in plain words.
fn explain_connect(addr: SocketAddr, e: &io::Error, timeout: Duration) -> String {
    match e.kind() {
        ErrorKind::ConnectionRefused if addr.ip().is_loopback() => format!(
            "connection refused by {addr}: nothing listens on that address and port of this \
             host. Is the server running, and on port {}? (`ss -ltnp` lists listening servers)",
            addr.port()
        ),
        ErrorKind::ConnectionRefused => format!(
            "connection refused by {addr}: nothing listens on that address and port. Is the \
             server running there? A server bound to 127.0.0.1 (loopback only, the default of \
             Flask and hello-server) accepts clients on its own host only: start it with \
             --bind 0.0.0.0"
        ),
        ErrorKind::TimedOut | ErrorKind::WouldBlock => format!(
            "no answer from {addr} within {}: the host is unreachable or a firewall drops the \
             packets (check the address, `ip route`, the firewall; --timeout waits longer)",
            ms_or_s(timeout)
        ),
        ErrorKind::HostUnreachable => format!(
            "no route to host {}: nobody on the network answers for that address (is the host \
             up, is the address right?)",
            addr.ip()
        ),
        ErrorKind::NetworkUnreachable => format!(
            "network unreachable: this host has no route to {} (`ip route` shows the routes)",
            addr.ip()
        ),
        ErrorKind::AddrNotAvailable => format!(
            "cannot connect to {addr}: the address is not usable as a destination (0.0.0.0 or \
             :: name \"any address\" for servers; a client needs the server's real address)"
        ),
        _ => format!("cannot connect to {addr}: {e}"),
    }
}

/// Send one GET and read its response. Returns the response, whether the connection can carry
/// another request, and the stream.
fn exchange(
    mut stream: TcpStream,
    target: &Target,
    timeout: Duration,
    remote: SocketAddr,
) -> anyhow::Result<(Response, bool, TcpStream)> {
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    let req = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: hello-client/{}\r\nAccept: */*\r\n\r\n",
        target.path,
        target.host_header,
        env!("CARGO_PKG_VERSION")
    );
    stream
        .write_all(req.as_bytes())
        .map_err(|e| Exit::failure(explain_io(remote, &e, timeout, false)))?;
    let mut reader = response::Reader::default();
    let mut buf = [0u8; 16 * 1024];
    loop {
        let n = match stream.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(
                    Exit::failure(explain_io(remote, &e, timeout, reader.started())).into(),
                );
            }
        };
        match reader.feed(&buf[..n]) {
            Ok(Some(resp)) => {
                let reusable = resp.keep_alive && resp.framing != Framing::UntilClose;
                return Ok((resp, reusable, stream));
            }
            Ok(None) if n == 0 => {
                let msg = if reader.started() {
                    format!(
                        "{remote} closed the connection in the middle of the response \
                         (truncated answer: the server crashed or was stopped?)"
                    )
                } else {
                    format!(
                        "{remote} closed the connection without answering (the server refused \
                         the request, is overloaded, or does not speak HTTP)"
                    )
                };
                return Err(Exit::failure(msg).into());
            }
            Ok(None) => {}
            Err(e) => {
                return Err(Exit::failure(format!(
                    "malformed response from {remote}: {e} (is this an HTTP server? HTTPS or \
                     another protocol on this port?)"
                ))
                .into());
            }
        }
    }
}

/// The likely cause of a failure after the connection was made.
fn explain_io(remote: SocketAddr, e: &io::Error, timeout: Duration, started: bool) -> String {
    match e.kind() {
        ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted | ErrorKind::BrokenPipe => {
            format!(
                "connection reset by {remote}: the server aborted the connection (it crashed, \
                 hit a limit, or rejected the request)"
            )
        }
        ErrorKind::WouldBlock | ErrorKind::TimedOut if started => format!(
            "{remote} stopped sending in the middle of the response for {} (server stuck, or \
             packets dropped; --timeout waits longer)",
            ms_or_s(timeout)
        ),
        ErrorKind::WouldBlock | ErrorKind::TimedOut => format!(
            "{remote} accepted the connection but sent no answer within {} (server stuck or \
             overloaded, or not an HTTP server; --timeout waits longer)",
            ms_or_s(timeout)
        ),
        _ => format!("error talking to {remote}: {e}"),
    }
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

fn ms_or_s(d: Duration) -> String {
    if d.as_secs_f64() >= 1.0 {
        format!("{} s", d.as_secs_f64())
    } else {
        ms(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_explains_loopback_only() {
        let e = io::Error::from(ErrorKind::ConnectionRefused);
        let m = explain_connect(
            "192.168.56.101:5000".parse().unwrap(),
            &e,
            Duration::from_secs(5),
        );
        assert!(m.starts_with("connection refused by 192.168.56.101:5000: nothing listens"));
        assert!(m.contains("127.0.0.1 (loopback only"));
        assert!(m.contains("--bind 0.0.0.0"));
    }

    #[test]
    fn timeouts_name_the_hypotheses() {
        let a: SocketAddr = "10.0.0.1:80".parse().unwrap();
        let m = explain_connect(a, &ErrorKind::TimedOut.into(), Duration::from_secs(5));
        assert!(m.contains("within 5 s") && m.contains("firewall"), "{m}");
        let m = explain_io(
            a,
            &ErrorKind::WouldBlock.into(),
            Duration::from_secs(2),
            false,
        );
        assert!(m.contains("sent no answer within 2 s"), "{m}");
        let m = explain_io(
            a,
            &ErrorKind::ConnectionReset.into(),
            Duration::from_secs(2),
            true,
        );
        assert!(m.starts_with("connection reset by 10.0.0.1:80"), "{m}");
    }
}
