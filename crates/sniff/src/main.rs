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
mod read;
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
    let filter = args.filter.join(" ");
    match args.read.clone() {
        Some(path) => read::read_file(&args, &path, &filter),
        None => live::capture_live(&args, &filter),
    }
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
