//! receiver: receives a file from `sender` over UDP with a sliding window (go-back-n or
//! selective repeat), writing `<output_file>.part` and renaming it only when complete.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::net::{IpAddr, UdpSocket};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use arq_udp::{self as udp, Control, Driver, JsonTo, Report, TransferArgs};
use clap::Parser;
use netcli::net::Transport;
use netcli::{Exit, Verbosity, main_with};
use netproto::arq::{Receiver, ReceiverConfig};

const EXAMPLES: &str = "\
Examples:
  receiver 6000 7 copy.iso                 (then: sender HOST 6000 7 image.iso)
  receiver --bind :: 6000 7 copy.iso       (IPv6 and IPv4)
  receiver --mode gbn --loss 0.1 --delay 5 --jitter 5 6000 4 out.bin
  receiver 6000 7 - | tar x                (write stdout)";

/// Receive a file over UDP with a sliding window (the transport lab's protocol).
#[derive(Debug, Parser)]
#[command(version, after_help = EXAMPLES)]
struct Args {
    /// UDP port to listen on.
    listening_port_number: u16,
    /// Receive window in segments, 1-7 (WIN has 3 bits).
    #[arg(value_parser = udp::parse_window)]
    window_size: u8,
    /// Where to write the file (via OUTPUT.part, renamed when complete); `-` writes stdout.
    output_file: String,
    /// Address to listen on (default: `::`, IPv6 and IPv4 alike, so that a sender given a name
    /// such as `localhost` reaches it whichever address family the name resolves to first).
    #[arg(long, value_name = "ADDR")]
    bind: Option<IpAddr>,
    #[command(flatten)]
    transfer: TransferArgs,
    #[command(flatten)]
    verbosity: Verbosity,
}

fn main() -> ExitCode {
    main_with(run)
}

/// The output: stdout, or a `.part` file renamed on success and removed on failure.
enum Output {
    Stdout(BufWriter<io::Stdout>),
    File {
        w: BufWriter<File>,
        part: PathBuf,
        path: PathBuf,
    },
}

impl Output {
    fn open(name: &str) -> anyhow::Result<Output> {
        if name == "-" {
            return Ok(Output::Stdout(BufWriter::with_capacity(
                64 * 1024,
                io::stdout(),
            )));
        }
        let path = PathBuf::from(name);
        if path.is_dir() {
            return Err(Exit::usage(format!(
                "{name} is a directory: give a file name for the output"
            ))
            .into());
        }
        let mut part = path.clone().into_os_string();
        part.push(".part");
        let part = PathBuf::from(part);
        let f = File::create(&part)
            .map_err(|e| Exit::failure(format!("cannot create {}: {e}", part.display())))?;
        Ok(Output::File {
            w: BufWriter::with_capacity(256 * 1024, f),
            part,
            path,
        })
    }

    fn write(&mut self, data: &[u8]) -> io::Result<()> {
        match self {
            Output::Stdout(w) => w.write_all(data),
            Output::File { w, .. } => w.write_all(data),
        }
    }

    /// Flush, sync and move into place.
    fn commit(self) -> anyhow::Result<()> {
        match self {
            Output::Stdout(mut w) => w.flush().context("writing standard output"),
            Output::File { w, part, path } => {
                let f = w
                    .into_inner()
                    .map_err(|e| e.into_error())
                    .with_context(|| format!("writing {}", part.display()))?;
                f.sync_all()
                    .with_context(|| format!("syncing {}", part.display()))?;
                fs::rename(&part, &path)
                    .with_context(|| format!("renaming {} to {}", part.display(), path.display()))
            }
        }
    }

    /// Remove the partial file; says what was done.
    fn discard(self) -> String {
        match self {
            Output::Stdout(mut w) => {
                let _ = w.flush();
                "the data written to standard output is incomplete".into()
            }
            Output::File { w, part, .. } => {
                drop(w);
                match fs::remove_file(&part) {
                    Ok(()) => format!("removed the partial file {}", part.display()),
                    Err(e) => format!("could not remove {}: {e}", part.display()),
                }
            }
        }
    }
}

fn run() -> anyhow::Result<ExitCode> {
    let args: Args = netcli::parse();
    args.verbosity.init_logging();
    let t = &args.transfer;
    let port = args.listening_port_number;
    let socket: UdpSocket = netcli::net::bind(args.bind, port, Transport::Udp, |_| Ok(()))
        .map_err(|e| {
            netcli::net::listen_error(Transport::Udp, args.bind, port, &e, "pick another port")
        })?
        .into();
    let out = Output::open(&args.output_file)?;
    let seed = t.impair.seed_or_random();
    log::debug!("impairment seed {seed}");
    let mut driver = Driver::listening_until_signal(socket, t.impair.impairment(), seed)?;
    let mut cfg = ReceiverConfig::new(args.window_size, t.mode);
    cfg.idle_timeout = Some(t.idle_timeout());
    let mut receiver = Receiver::new(cfg)?;
    log::info!(
        "listening on UDP {} (window {}, {})",
        driver.local_addr()?,
        args.window_size,
        t.mode
    );

    let bar = udp::progress_bar(
        None,
        "{spinner} {bytes} {binary_bytes_per_sec} {elapsed}",
        args.verbosity.quiet,
        t.json,
    );
    let mut write_error = None;
    let mut committed = false;
    let mut pending = Some(out);
    let res = driver.run(
        &mut receiver,
        bar.as_ref().map(|_| Duration::from_millis(100)),
        |r, _now| {
            if let Some(o) = pending.as_mut() {
                while let Some(chunk) = r.read() {
                    if let Err(e) = o.write(&chunk) {
                        write_error = Some(e);
                        return Ok(Control::Stop);
                    }
                }
            }
            if let Some(b) = &bar {
                b.set_position(r.stats().bytes);
            }
            if r.is_complete() && !committed {
                committed = true;
                if let Some(o) = pending.take()
                    && let Err(e) = o.commit()
                {
                    write_error = Some(io::Error::other(format!("{e:#}")));
                    return Ok(Control::Stop);
                }
                log::info!(
                    "complete: {} bytes in {}; lingering {:.1} s to re-acknowledge the last segment",
                    r.stats().bytes,
                    args.output_file,
                    r.linger().as_secs_f64()
                );
            }
            Ok(Control::stop_if(r.is_done() || r.failure().is_some()))
        },
    );
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let report = report(&receiver, &driver, &args);
    let json_to = match (t.json, args.output_file == "-") {
        (false, _) => JsonTo::Nowhere,
        (true, false) => JsonTo::Stdout,
        // The data owns stdout when the output is `-`.
        (true, true) => JsonTo::Stderr,
    };
    let emit = |success| report.emit(success, args.verbosity.quiet, json_to);
    let fail = |why: String, pending: Option<Output>| -> anyhow::Result<ExitCode> {
        emit(false);
        let cleanup = pending.map(Output::discard).unwrap_or_default();
        let sep = if cleanup.is_empty() { "" } else { "; " };
        Err(Exit::failure(format!("{why}{sep}{cleanup}")).into())
    };
    if let Some(e) = write_error {
        return fail(format!("writing {}: {e}", args.output_file), pending);
    }
    match res {
        Err(e) if receiver.is_complete() => {
            // Interrupted while lingering: the file is complete and in place.
            log::debug!("stopped while lingering: {e}");
        }
        Err(e) if e.kind() == io::ErrorKind::Interrupted => {
            return fail(
                format!(
                    "interrupted after {} bytes were received",
                    receiver.stats().bytes
                ),
                pending,
            );
        }
        Err(e) => return fail(format!("UDP socket: {e}"), pending),
        Ok(()) => {}
    }
    if let Some(f) = receiver.failure() {
        return fail(
            format!(
                "{f}: the sender stopped sending ({} bytes received from {})",
                receiver.stats().bytes,
                driver
                    .peer()
                    .map_or("-".into(), |p| netcli::net::shown(p).to_string())
            ),
            pending,
        );
    }
    emit(true);
    Ok(ExitCode::SUCCESS)
}

fn report(r: &Receiver, d: &Driver, args: &Args) -> Report {
    let st = r.stats();
    let elapsed = match (r.first_data_at(), r.completed_at()) {
        (Some(a), Some(b)) => b.saturating_duration_since(a),
        (Some(a), None) => Instant::now().saturating_duration_since(a),
        _ => Duration::ZERO,
    };
    let (secs, goodput) = udp::goodput(st.bytes, elapsed);
    let imp = d.impair_stats();
    let line = format!(
        "received {} bytes in {} segments in {:.3} s: goodput {}; duplicates {} (spurious retransmissions), out of window {}, buffered out of order {}, ACKs sent {}; mode {} window {}{}",
        st.bytes,
        st.segments,
        secs,
        udp::fmt_rate(goodput),
        st.duplicates,
        st.out_of_window,
        st.buffered,
        st.acks_sent,
        r.mode(),
        args.window_size,
        udp::impairment_note(&imp, "segments")
    );
    let json = serde_json::json!({
        "type": "transfer",
        "role": "receiver",
        "source": d.peer().map(|p| netcli::net::shown(p).to_string()),
        "file": args.output_file,
        "mode": r.mode(),
        "window": args.window_size,
        "elapsed_s": secs,
        "goodput_bps": goodput,
        "stats": st,
        // Every DATA the receiver already had was a retransmission it did not need (the
        // network may also duplicate, but rarely): the exact count of spurious ones.
        "spurious_retransmissions": st.duplicates,
        "foreign_datagrams": d.foreign,
        "offload": d.offload_report(),
        "impairment": imp,
    });
    Report { line, json }
}
