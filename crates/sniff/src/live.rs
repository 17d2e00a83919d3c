//! `sniff [-i IFACE]`: live capture through netcap's one live loop ([`netcap::live::run`]),
//! tcpdump's closing statistics and the 0-packet hint.

use std::io::IsTerminal;
use std::ops::ControlFlow;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use netcap::{Interface, Live, LiveOptions, Record, live};
use netcli::Exit;
use netproto::frame::{self, linktype};

use crate::args::{Args, filter_error};
use crate::iface::{iface_packets, open_error};
use crate::print::{Printer, draw};
use crate::procs::{Attribution, Procs};
use crate::save::Save;

/// Where each captured packet goes: the -w file, then the printer or the diagram.
struct Sink<'a> {
    args: &'a Args,
    save: Option<Save>,
    printer: Printer,
    /// --process: the socket owners from /proc, looked up once per packet for the printed
    /// line and the pcapng comment.
    procs: Option<Procs>,
    /// The packet to draw with --diagram.
    want: Option<u64>,
}

impl Sink<'_> {
    fn attribute(&mut self, r: &Record<'_>) -> Option<Attribution> {
        let procs = self.procs.as_mut()?;
        let f = frame::decode(r.linktype, r.data).ok()?;
        procs.attribute_frame(&f)
    }
}

impl live::Handler for Sink<'_> {
    type Error = anyhow::Error;

    fn packet(&mut self, n: u64, r: &Record<'_>) -> Result<ControlFlow<()>> {
        let att = self.attribute(r);
        let written = match self.save.as_mut() {
            Some(s) => s.write(r, att.as_ref().and_then(Attribution::comment).as_deref()),
            None => Ok(true),
        };
        if matches!(written, Ok(false)) {
            // -G with -W: the files are complete; this packet belongs to none.
            return Ok(ControlFlow::Break(()));
        }
        // The packet is shown even when writing it failed; an error showing it wins.
        let drawn = self.want == Some(n);
        if drawn {
            draw(self.args, n, r)?;
        } else {
            self.printer.packet(n, r, att)?;
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
    let save = match &args.write {
        // Only pcapng names the interface (libpcap lists the devices to describe it).
        Some(w) => Some(Save::open(
            args,
            w,
            lt,
            if args.pcapng {
                interface(dev)
            } else {
                Interface::default()
            },
        )?),
        None => None,
    };
    let seen_before = iface_packets(dev);
    let device = (dev != "any").then(|| dev.to_owned());
    let printer = Printer::new(args, device);
    // Only where the owners are shown: the printed line, or a pcapng file's comments.
    let procs = (args.process && (printer.enabled() || args.pcapng)).then(Procs::new);
    let mut sink = Sink {
        args,
        save,
        printer,
        procs,
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
    if let Some(mut w) = sink.save.take() {
        w.flush()?;
    }
    if let Some(note) = sink.procs.as_ref().and_then(Procs::note) {
        log::warn!("{note}");
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

/// The capture's interface as a pcapng file names it: its name and libpcap's description.
fn interface(dev: &str) -> Interface {
    let description = netcap::list_devices()
        .ok()
        .and_then(|ds| ds.into_iter().find(|d| d.name == dev))
        .and_then(|d| d.desc);
    Interface {
        name: Some(dev.to_owned()),
        description,
    }
}
