//! sender: sends a file to `receiver` over UDP with a sliding window (go-back-n or selective
//! repeat), reading it 512 bytes at a time as the window advances.

use std::fs::File;
use std::io::{self, Read};
use std::net::{SocketAddr, UdpSocket};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use arq_udp::{self as udp, Control, Driver, JsonTo, Report, TransferArgs};
use clap::Parser;
use netcli::{Exit, Verbosity, main_with};
use netproto::arq::{Sender, SenderConfig};

const EXAMPLES: &str = "\
Examples:
  receiver 6000 7 copy.iso &  sender localhost 6000 7 image.iso
  sender --mode gbn --loss 0.1 --delay 5 --jitter 5 midwood 6000 4 notes.txt
  tar c dir | sender ::1 6000 7 -        (read stdin)
  sender --json -q host 6000 7 f | jq .goodput_bps";

/// Send a file over UDP with a sliding window (the transport lab's protocol).
#[derive(Debug, Parser)]
#[command(version, after_help = EXAMPLES)]
struct Args {
    /// Receiver's host name or address (IPv4 or IPv6).
    destination_dns_name: String,
    /// Receiver's UDP port.
    destination_port_number: u16,
    /// Sending window in segments, 1-7 (WIN has 3 bits).
    #[arg(value_parser = udp::parse_window)]
    window_size: u8,
    /// File to send; `-` reads standard input.
    input_file: String,
    /// Initial retransmission timeout in milliseconds, before the first RTT sample.
    #[arg(long, value_name = "MS", default_value_t = 1000.0)]
    rto: f64,
    #[command(flatten)]
    transfer: TransferArgs,
    #[command(flatten)]
    verbosity: Verbosity,
}

fn main() -> ExitCode {
    main_with(run)
}

fn run() -> anyhow::Result<ExitCode> {
    let args: Args = netcli::parse();
    args.verbosity.init_logging();
    if !(args.rto.is_finite() && args.rto > 0.0 && args.rto <= 60_000.0) {
        return Err(Exit::usage(format!(
            "--rto {}: give the initial RTO in milliseconds, 0 < MS <= 60000",
            args.rto
        ))
        .into());
    }
    let t = &args.transfer;
    let (mut input, total): (Box<dyn Read>, Option<u64>) = if args.input_file == "-" {
        (Box::new(io::stdin().lock()), None)
    } else {
        let f = File::open(&args.input_file)
            .map_err(|e| Exit::failure(format!("cannot open {}: {e}", args.input_file)))?;
        let len = f.metadata().ok().filter(|m| m.is_file()).map(|m| m.len());
        (Box::new(io::BufReader::with_capacity(64 * 1024, f)), len)
    };
    let dest =
        netcli::net::resolve_first(&args.destination_dns_name, args.destination_port_number)?;
    let local: SocketAddr = if dest.is_ipv4() {
        "0.0.0.0:0".parse()?
    } else {
        "[::]:0".parse()?
    };
    let socket = UdpSocket::bind(local).context("binding the UDP socket")?;
    socket
        .connect(dest)
        .with_context(|| format!("connecting to {dest}"))?;
    let seed = t.impair.seed_or_random();
    log::debug!("impairment seed {seed}");
    let mut driver = Driver::connected_until_signal(socket, t.impair.impairment(), seed)?;

    let mut cfg = SenderConfig::new(args.window_size, t.mode);
    cfg.initial_rto = Duration::from_secs_f64(args.rto / 1000.0);
    cfg.idle_timeout = Some(t.idle_timeout());
    let mut sender = Sender::new(cfg)?;
    log::info!(
        "sending {} to {dest} (window {}, {})",
        if args.input_file == "-" {
            "standard input"
        } else {
            &args.input_file
        },
        args.window_size,
        t.mode
    );

    let bar = udp::progress_bar(
        total,
        if total.is_some() {
            "{bar:30} {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta} {msg}"
        } else {
            "{spinner} {bytes} {binary_bytes_per_sec} {msg}"
        },
        args.verbosity.quiet,
        t.json,
    );
    let start = Instant::now();
    let mut read_error = None;
    let res = driver.run(
        &mut sender,
        bar.as_ref().map(|_| Duration::from_millis(100)),
        |s, _now| {
            if let Err(e) = s.fill_from(&mut input) {
                read_error = Some(e);
                return Ok(Control::Stop);
            }
            if let Some(b) = &bar {
                let st = s.stats();
                b.set_position(st.bytes_acked);
                b.set_message(format!(
                    "{} rexmit",
                    st.retransmits_fast + st.retransmits_timeout
                ));
            }
            Ok(Control::stop_if(s.is_finished() || s.failure().is_some()))
        },
    );
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let elapsed = sender
        .finished_at()
        .unwrap_or_else(Instant::now)
        .saturating_duration_since(sender.started_at().unwrap_or(start));
    let report = report(&sender, &driver, elapsed, &args);
    let json_to = if t.json {
        JsonTo::Stdout
    } else {
        JsonTo::Nowhere
    };
    let emit = |success| report.emit(success, args.verbosity.quiet, json_to);
    if let Some(e) = read_error {
        emit(false);
        return Err(Exit::failure(format!("reading {}: {e}", args.input_file)).into());
    }
    if let Err(e) = res {
        emit(false);
        if e.kind() == io::ErrorKind::Interrupted {
            return Err(Exit::failure(format!(
                "interrupted after {} of {} bytes were acknowledged",
                sender.stats().bytes_acked,
                sender.bytes_pushed()
            ))
            .into());
        }
        return Err(anyhow::Error::from(e).context("UDP socket"));
    }
    if let Some(f) = sender.failure() {
        emit(false);
        let st = sender.stats();
        let hint = if driver.refused > 0 && st.acks_received == 0 {
            format!(": nothing listens on {dest} (start the receiver first)")
        } else if st.acks_received == 0 {
            format!(": no ACK ever came from {dest} (is the receiver running and reachable?)")
        } else {
            format!(
                ": the receiver stopped answering ({} of {} bytes acknowledged; if only the last ACK was lost, it may have the whole file)",
                st.bytes_acked,
                sender.bytes_pushed()
            )
        };
        return Err(Exit::failure(format!("{f}{hint}")).into());
    }
    emit(true);
    Ok(ExitCode::SUCCESS)
}

fn report(s: &Sender, d: &Driver, elapsed: Duration, args: &Args) -> Report {
    let st = s.stats();
    let (secs, goodput) = udp::goodput(st.bytes_acked, elapsed);
    let ms = |x: Option<Duration>| x.map(|d| d.as_secs_f64() * 1000.0);
    let imp = d.impair_stats();
    let line = format!(
        "sent {} bytes in {} segments in {:.3} s: goodput {}; retransmissions {} (fast {}, timeout {}); spurious detected {}; dup ACKs {}; RTT srtt {} min {}; mode {} window {}{}",
        st.bytes_acked,
        st.segments_acked,
        secs,
        udp::fmt_rate(goodput),
        st.retransmits_fast + st.retransmits_timeout,
        st.retransmits_fast,
        st.retransmits_timeout,
        st.spurious_detected,
        st.dup_acks,
        udp::fmt_ms(s.rtt().srtt()),
        udp::fmt_ms(s.rtt().min()),
        s.mode(),
        s.window(),
        udp::impairment_note(&imp, "ACKs")
    );
    let json = serde_json::json!({
        "type": "transfer",
        "role": "sender",
        "destination": d.peer().map(|p| p.to_string()),
        "file": args.input_file,
        "mode": s.mode(),
        "window": s.window(),
        "elapsed_s": secs,
        "goodput_bps": goodput,
        "stats": st,
        "srtt_ms": ms(s.rtt().srtt()),
        "rtt_min_ms": ms(s.rtt().min()),
        "rtt_samples": s.rtt().samples(),
        "rto_ms": ms(Some(s.current_rto())),
        "peer_window": s.peer_window(),
        "impairment": imp,
        "refused": d.refused,
        "offload": d.offload_report(),
    });
    Report { line, json }
}
