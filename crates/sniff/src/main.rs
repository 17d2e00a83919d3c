//! sniff: packet capture like tcpdump, explained like scapy.
//!
//! Captures live (libpcap, `any` by default) or reads pcap/pcapng files and pipes, applies a
//! BPF filter, writes pcap, and prints each packet as a tcpdump-style line (default), a scapy
//! summary, a hex dump, a full field-by-field dissection with byte offsets, NDJSON, or an SVG
//! layer diagram. Decoding is `netproto::frame`, shared with tcpstat.

mod app;
mod args;
mod diagram;
mod dissect;
mod iface;
mod line;
mod live;
mod out;
mod print;
mod procs;
mod read;
mod save;
mod tcpdump;
mod text;

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use netcli::Exit;

use crate::args::Args;

fn main() -> ExitCode {
    netcli::main_with(run)
}

fn run() -> Result<ExitCode> {
    let args: Args = netcli::parse();
    init_logging(args.quiet);
    if args.list_interfaces {
        return iface::list_interfaces();
    }
    if args.snaplen <= 0 || args.buffer_kib <= 0 {
        return Err(Exit::usage("-s and -B take a positive number").into());
    }
    if args.write.as_deref() == Some("-") && args.print {
        return Err(Exit::usage("--print cannot share stdout with -w -: write to a file").into());
    }
    if args.write.as_deref() == Some("-")
        && (args.file_size.is_some() || args.rotate_secs.is_some())
    {
        return Err(Exit::usage(
            "-C and -G rotate files: -w names a file, not standard output (e.g. -w trace.pcap -C 100)",
        )
        .into());
    }
    if args.direction.is_some() && args.read.is_some() {
        return Err(Exit::usage(
            "-Q selects the direction of a live capture; a file read with -r has none to select (drop -Q, or filter with 'inbound'/'outbound' on a Linux cooked capture)",
        )
        .into());
    }
    if args.process && args.read.is_some() {
        return Err(Exit::usage(
            "--process names the processes behind a live capture's sockets; a file read with -r has no live sockets (capture live with --process)",
        )
        .into());
    }
    if args.ts_mode > 5 {
        return Err(Exit::usage(
            "-t can be given at most 5 times (-ttttt: delta from the first packet)",
        )
        .into());
    }
    let filter = match &args.filter_file {
        Some(path) => read_filter_file(path)?,
        None => args.filter.join(" "),
    };
    match args.read.clone() {
        Some(path) => read::read_file(&args, &path, &filter),
        None => live::capture_live(&args, &filter),
    }
}

/// tcpdump's -F: the whole file is the expression (lines joined; `#` starts a comment to the
/// end of the line, as libpcap's lexer allows).
fn read_filter_file(path: &std::path::Path) -> Result<String> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Exit::usage(format!(
            "cannot read the filter file {}: {e} (-F takes a file holding a BPF expression, e.g. 'tcp port 5000')",
            path.display()
        ))
    })?;
    let expr: Vec<&str> = text
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .collect();
    Ok(expr.join(" "))
}

fn init_logging(quiet: bool) {
    let mut b = env_logger::Builder::new();
    b.filter_level(if quiet {
        log::LevelFilter::Error
    } else {
        log::LevelFilter::Info
    })
    // tcpdump-style plain lines on stderr.
    .format(|buf, rec| writeln!(buf, "{}", rec.args()));
    if let Ok(spec) = std::env::var("RUST_LOG") {
        b.parse_filters(&spec);
    }
    let _ = b.try_init();
}
