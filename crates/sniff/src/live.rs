//! `sniff [-i IFACE]`: live capture through netcap's one live loop ([`netcap::live::run`]),
//! tcpdump's closing statistics and the 0-packet hint.

use std::io::IsTerminal;
use std::ops::ControlFlow;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use netcap::{Live, LiveOptions, Record, Writer, live};
use netcli::Exit;
use netproto::frame::linktype;

use crate::args::{Args, filter_error};
use crate::iface::{iface_packets, open_error};
use crate::print::{Printer, draw};

/// Where each captured packet goes: the -w file, then the printer or the diagram.
struct Sink<'a> {
    args: &'a Args,
    writer: Option<Writer>,
    printer: Printer,
    /// The packet to draw with --diagram.
    want: Option<u64>,
}

impl live::Handler for Sink<'_> {
    type Error = anyhow::Error;

    fn packet(&mut self, n: u64, r: &Record<'_>) -> Result<ControlFlow<()>> {
        let written = match self.writer.as_mut() {
            Some(w) => w.write(r).and_then(|()| {
                if self.args.packet_buffered {
                    w.flush()
                } else {
                    Ok(())
                }
            }),
            None => Ok(()),
        };
        // The packet is shown even when writing it failed; an error showing it wins.
        let drawn = self.want == Some(n);
        if drawn {
            draw(self.args, n, r)?;
        } else {
            self.printer.packet(n, r)?;
        }
        written?;
        Ok(if drawn {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        })
    }

    fn tick(&mut self, _now: Instant, idle: bool) -> Result<Option<Instant>> {
        if idle {
            self.printer.flush()?;
        }
        Ok(None)
    }
}

pub fn capture_live(args: &Args, filter: &str) -> Result<ExitCode> {
    let dev = args.iface.as_str();
    let writing = args.write.is_some();
    let interactive = !writing && (args.line_buffered || std::io::stdout().is_terminal());
    let live_opts = LiveOptions {
        device: dev.to_owned(),
        snaplen: args.snaplen,
        buffer_kib: args.buffer_kib,
        promisc: !args.no_promisc,
        // --process looks sockets up as packets arrive: short-lived ones need them at once.
        immediate: interactive || args.process,
    };
    // Before the capture opens: once it can see packets, a signal stops it cleanly.
    let stop = live::signal_flag().context("installing signal handler")?;
    let precision = if args.ts_precision == "nano" {
        netcap::TsPrecision::Nano
    } else {
        netcap::TsPrecision::Micro
    };
    let mut cap =
        Live::open_with_precision(&live_opts, precision).map_err(|e| open_error(dev, e))?;
    if let Some(d) = args.direction.as_deref() {
        let d = match d {
            "in" => netcap::CaptureDirection::In,
            "out" => netcap::CaptureDirection::Out,
            _ => netcap::CaptureDirection::InOut,
        };
        cap.set_direction(d).map_err(|e| open_error(dev, e))?;
    }
    if !filter.is_empty() {
        cap.set_filter(filter).map_err(filter_error)?;
    }
    let lt = cap.linktype();
    if !args.quiet {
        log::info!(
            "listening on {dev}, link-type {} ({}), snapshot length {} bytes",
            linktype::name(lt),
            linktype::description(lt),
            args.snaplen
        );
    }
    let writer = match &args.write {
        Some(w) => Some(
            Writer::create_with_snaplen(w, lt, args.snaplen as u32)
                .map_err(|e| Exit::failure(e.to_string()))?,
        ),
        None => None,
    };
    let seen_before = iface_packets(dev);
    let device = (dev != "any").then(|| dev.to_owned());
    let mut sink = Sink {
        args,
        writer,
        printer: Printer::new(args, device),
        want: args.diagram.as_ref().map(|_| args.frame.unwrap_or(1)),
    };
    let mut until = live::Options::new()
        .stop(stop)
        .max_wait(Duration::from_millis(250));
    until.count = args.count;
    // As sniff always did: a signal ends the capture without reading what is still queued.
    until.drain_on_stop = false;
    if let Some(t) = args.timeout {
        until = until.timeout(t);
    }
    let outcome = live::run(&mut cap, &until, &mut sink).map_err(|e| match e {
        live::Error::Capture(e) => Exit::failure(e.to_string()).into(),
        live::Error::Handler(e) => e,
    })?;
    let (n, stats) = (outcome.packets, outcome.stats);
    if let Some(mut w) = sink.writer.take() {
        w.flush()?;
    }
    sink.printer.finish(stats)?;
    if !args.quiet {
        let s = stats.unwrap_or_default();
        eprintln!("{n} packets captured");
        eprintln!("{} packets received by filter", s.received);
        eprintln!("{} packets dropped by kernel", s.dropped);
        eprintln!("{} packets dropped by interface", s.if_dropped);
    }
    if n == 0 {
        let seen = match (seen_before, iface_packets(dev)) {
            (Some(a), Some(b)) => format!(
                "; meanwhile {dev} carried {} packets in all",
                b.saturating_sub(a)
            ),
            _ => String::new(),
        };
        let what = if filter.is_empty() {
            "no packet arrived".to_owned()
        } else {
            format!("the filter '{filter}' matched nothing")
        };
        eprintln!(
            "hint: {what} on {dev}{seen}. Traffic between two processes on this host goes over \
             lo (use -i lo or -i any); check the port the server really uses with `ss -tlnp`; \
             and check the filter's port and protocol."
        );
    }
    Ok(ExitCode::SUCCESS)
}
