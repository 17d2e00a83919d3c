//! sniff: packet capture like tcpdump, explained like scapy.
//!
//! Captures live (libpcap, `any` by default) or reads pcap/pcapng files and pipes, applies a
//! BPF filter, writes pcap, and prints each packet as a tcpdump-style line (default), a scapy
//! summary, a hex dump, a full field-by-field dissection with byte offsets, NDJSON, or an SVG
//! layer diagram. Decoding is `netproto::frame`, shared with tcpstat.

mod diagram;
mod dissect;
mod line;
mod out;
mod tcpdump;
mod text;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Parser;

use netcap::{CaptureError, Live, LiveOptions, Reader, Record, Stats, Writer};
use netcli::Exit;
use netproto::frame::{self, linktype};

const EXAMPLES: &str = "\
Examples:
  sniff 'tcp port 5000'                        print the web experiment's packets (all interfaces)
  sniff -i lo -c 12 -w hello.pcap tcp port 5000  the lab sheet's capture program in one line
  sniff -r hello.pcap --summary                scapy-style one-line summaries
  sniff -r hello.pcap -v -c 1                  every header field with its byte offset
  sniff -r hello.pcap -X                       hex and ASCII of each packet
  sniff -r hello.pcap --diagram hello.svg --frame 4   draw packet 4's layers as SVG
  sniff -r trace.pcap --json                   NDJSON, one object per packet + a summary
  sniff -w - 'tcp port 5000' | tcpstat -r -    pipe a live capture into tcpstat
  sniff -D                                     list interfaces with their addresses

Capturing needs root or CAP_NET_RAW+CAP_NET_ADMIN:
  sudo setcap cap_net_raw,cap_net_admin=eip $(command -v sniff)";

/// Packet capture like tcpdump, explained like scapy.
#[derive(Debug, Parser)]
#[command(name = "sniff", version, about, after_help = EXAMPLES)]
struct Args {
    /// Interface to capture on (`any` = all interfaces, loopback included).
    #[arg(
        short = 'i',
        long = "interface",
        value_name = "IFACE",
        default_value = "any"
    )]
    iface: String,
    /// Stop after COUNT packets (after filtering).
    #[arg(short = 'c', long, value_name = "COUNT")]
    count: Option<u64>,
    /// Bytes to capture from each packet.
    #[arg(
        short = 's',
        long = "snapshot-length",
        value_name = "SNAPLEN",
        default_value_t = 262_144
    )]
    snaplen: i32,
    /// Kernel capture buffer size in KiB.
    #[arg(
        short = 'B',
        long = "buffer-size",
        value_name = "KIB",
        default_value_t = 4096
    )]
    buffer_kib: i32,
    /// Write packets to a pcap file (`-` = stdout, for pipes) instead of printing them.
    #[arg(short = 'w', long = "write", value_name = "FILE")]
    write: Option<String>,
    /// Read packets from a pcap or pcapng file (`-` = stdin) instead of capturing.
    #[arg(short = 'r', long = "read", value_name = "FILE")]
    read: Option<String>,
    /// Stop a live capture after SECS seconds.
    #[arg(long, value_name = "SECS")]
    timeout: Option<f64>,
    /// Do not put the interface into promiscuous mode.
    #[arg(short = 'p', long = "no-promiscuous-mode")]
    no_promisc: bool,
    /// Numeric output (always on; accepted for tcpdump compatibility, also as -nn).
    #[arg(short = 'n', action = clap::ArgAction::Count)]
    numeric: u8,
    /// Print absolute TCP sequence numbers (default: relative per connection).
    #[arg(short = 'S', long = "absolute-tcp-sequence-numbers")]
    absolute: bool,
    /// List the interfaces that can be captured on, with their addresses.
    #[arg(short = 'D', long = "list-interfaces")]
    list_interfaces: bool,
    /// scapy-style summary lines (`Ether / IP / TCP a:p > b:q PA / Raw`).
    #[arg(long, conflicts_with = "json")]
    summary: bool,
    /// Hex dump of each packet from the network header (-xx: from the link header).
    #[arg(short = 'x', action = clap::ArgAction::Count)]
    hex: u8,
    /// Hex and ASCII dump of each packet (-XX: from the link header).
    #[arg(short = 'X', action = clap::ArgAction::Count)]
    hex_ascii: u8,
    /// Full dissection: every header field named, with its value and byte offset.
    #[arg(short = 'v', long = "verbose")]
    verbose: bool,
    /// NDJSON output: one `packet` object per packet, then a `summary` object.
    #[arg(long)]
    json: bool,
    /// Draw one packet (the first, or --frame N) as an SVG layer diagram into FILE.
    #[arg(long, value_name = "FILE.svg")]
    diagram: Option<std::path::PathBuf>,
    /// The packet to draw with --diagram (1-based, counted after filtering).
    #[arg(long, value_name = "N", requires = "diagram")]
    frame: Option<u64>,
    /// Flush output after every packet (line buffering, for pipes).
    #[arg(short = 'l', long = "line-buffered")]
    line_buffered: bool,
    /// With -w, flush the pcap file after every packet.
    #[arg(short = 'U', long = "packet-buffered")]
    packet_buffered: bool,
    /// With -w FILE, print the packets too.
    #[arg(long)]
    print: bool,
    /// No "listening on"/statistics lines on stderr.
    #[arg(short = 'q', long)]
    quiet: bool,
    /// BPF filter expression, as in tcpdump (words are joined with spaces).
    #[arg(
        value_name = "FILTER",
        trailing_var_arg = true,
        allow_hyphen_values = false
    )]
    filter: Vec<String>,
}

fn main() -> ExitCode {
    netcli::main_with(run)
}

fn run() -> Result<ExitCode> {
    let args: Args = netcli::parse();
    init_logging(args.quiet);
    if args.list_interfaces {
        return list_interfaces();
    }
    if args.snaplen <= 0 || args.buffer_kib <= 0 {
        return Err(Exit::usage("-s and -B take a positive number").into());
    }
    if args.write.as_deref() == Some("-") && args.print {
        return Err(Exit::usage("--print cannot share stdout with -w -: write to a file").into());
    }
    let filter = args.filter.join(" ");
    match args.read.clone() {
        Some(path) => read_file(&args, &path, &filter),
        None => capture_live(&args, &filter),
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

/// Where packets go: stdout text (in one of the styles) or nothing (only -w).
struct Printer {
    args_json: bool,
    summary: bool,
    verbose: bool,
    hex: u8,
    ascii: bool,
    enabled: bool,
    flush_each: bool,
    lines: line::LinePrinter,
    buf: Vec<u8>,
    out: std::io::Stdout,
    /// Interface name when the capture is on one interface.
    device: Option<String>,
    packets: u64,
    bytes: u64,
    truncated: u64,
    undecoded: u64,
}

impl Printer {
    fn new(a: &Args, device: Option<String>) -> Printer {
        let stdout = std::io::stdout();
        let enabled = (a.write.is_none() || a.print) && a.diagram.is_none();
        Printer {
            args_json: a.json,
            summary: a.summary,
            verbose: a.verbose,
            hex: a.hex.max(a.hex_ascii),
            ascii: a.hex_ascii > 0,
            enabled,
            flush_each: a.line_buffered || stdout.is_terminal(),
            lines: line::LinePrinter::new(a.absolute),
            buf: Vec::with_capacity(1 << 17),
            out: stdout,
            device,
            packets: 0,
            bytes: 0,
            truncated: 0,
            undecoded: 0,
        }
    }

    fn packet(&mut self, n: u64, r: &Record<'_>) -> Result<()> {
        self.packets += 1;
        self.bytes += u64::from(r.len);
        if !self.enabled {
            return Ok(());
        }
        let f = match frame::decode(r.linktype, r.data) {
            Ok(f) => f,
            Err(e) => {
                self.undecoded += 1;
                self.lines.timestamp(&mut self.buf, r);
                let _ = writeln!(self.buf, " [{e}], length {}", r.len);
                return self.maybe_flush();
            }
        };
        if f.truncated() {
            self.truncated += 1;
        }
        if f.issue().is_some() {
            self.undecoded += 1;
        }
        if self.args_json {
            let iface = match f.ifindex() {
                Some(i) => Some(self.lines.ifname(i).to_owned()),
                None => self.device.clone(),
            };
            let j = out::json_packet(n, r, &f, iface);
            serde_json::to_writer(&mut self.buf, &j)?;
            self.buf.push(b'\n');
        } else if self.summary {
            out::summary(&mut self.buf, &f);
        } else {
            self.lines.line(&mut self.buf, r, &f);
        }
        if self.verbose {
            let mut s = String::new();
            dissect::show(&f, &mut s);
            self.buf.extend_from_slice(s.as_bytes());
        }
        if self.hex > 0 {
            let from = if self.hex >= 2 {
                0
            } else {
                f.ip_offset()
                    .or_else(|| f.layers().get(1).map(|l| l.offset))
                    .unwrap_or(0)
            };
            out::hexdump(&mut self.buf, r.data.get(from..).unwrap_or(&[]), self.ascii);
        }
        self.maybe_flush()
    }

    fn maybe_flush(&mut self) -> Result<()> {
        if self.flush_each || self.buf.len() >= 1 << 16 {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        if !self.buf.is_empty() {
            let mut o = self.out.lock();
            o.write_all(&self.buf)?;
            o.flush()?;
            self.buf.clear();
        }
        Ok(())
    }

    /// The final JSON summary record and flush.
    fn finish(&mut self, stats: Option<Stats>) -> Result<()> {
        if self.enabled && self.args_json {
            let mut m = serde_json::json!({
                "type": "summary",
                "packets": self.packets,
                "bytes": self.bytes,
                "truncated": self.truncated,
                "undecoded": self.undecoded,
            });
            if let Some(s) = stats {
                m["received_by_filter"] = s.received.into();
                m["dropped_by_kernel"] = s.dropped.into();
                m["dropped_by_interface"] = s.if_dropped.into();
            }
            serde_json::to_writer(&mut self.buf, &m)?;
            self.buf.push(b'\n');
        }
        self.flush()
    }
}

fn filter_error(e: CaptureError) -> anyhow::Error {
    match e {
        CaptureError::Filter { expr, message } => Exit::usage(format!(
            "bad filter expression '{expr}': {message} (BPF syntax as in tcpdump, e.g. 'tcp port 5000')"
        ))
        .into(),
        other => other.into(),
    }
}

fn draw(args: &Args, n: u64, r: &Record<'_>) -> Result<()> {
    let Some(path) = &args.diagram else {
        return Ok(());
    };
    let f =
        frame::decode(r.linktype, r.data).map_err(|e| Exit::failure(format!("frame {n}: {e}")))?;
    let mut s = Vec::new();
    out::summary(&mut s, &f);
    let title = String::from_utf8_lossy(&s).trim_end().to_owned();
    let svg = diagram::render(&f, n, &title);
    std::fs::write(path, svg).with_context(|| format!("writing {}", path.display()))?;
    log::info!("wrote {} (frame {n}: {title})", path.display());
    Ok(())
}

fn read_file(args: &Args, path: &str, filter: &str) -> Result<ExitCode> {
    let mut rd = Reader::open(path).map_err(|e| Exit::failure(e.to_string()))?;
    if !filter.is_empty() {
        rd.set_filter(filter).map_err(filter_error)?;
    }
    let lt = rd.linktype();
    if !args.quiet {
        log::info!(
            "reading from {}, link-type {} ({})",
            if path == "-" { "standard input" } else { path },
            linktype::name(lt),
            linktype::description(lt)
        );
    }
    let mut writer = match &args.write {
        Some(w) => Some(Writer::create(w, lt).map_err(|e| Exit::failure(e.to_string()))?),
        None => None,
    };
    let mut p = Printer::new(args, None);
    let want = args.diagram.as_ref().map(|_| args.frame.unwrap_or(1));
    let mut n = 0u64;
    loop {
        let r = match rd.next() {
            Ok(Some(r)) => r,
            Ok(None) => break,
            Err(e) => {
                // Keep what was read before the damage: print it and complete the output file.
                p.flush()?;
                if let Some(mut w) = writer.take() {
                    w.flush()?;
                }
                return Err(Exit::failure(format!("{e} (after {n} packets)")).into());
            }
        };
        n += 1;
        if let Some(w) = writer.as_mut() {
            w.write(&r)?;
            if args.packet_buffered {
                w.flush()?;
            }
        }
        if want == Some(n) {
            draw(args, n, &r)?;
            break;
        }
        p.packet(n, &r)?;
        if args.count.is_some_and(|c| n >= c) {
            break;
        }
    }
    if let Some(mut w) = writer.take() {
        w.flush()?;
    }
    if let Some(w) = want
        && n < w
    {
        return Err(Exit::failure(format!(
            "--frame {w}: the capture has only {n} packets{}",
            if filter.is_empty() {
                ""
            } else {
                " matching the filter"
            }
        ))
        .into());
    }
    p.finish(None)?;
    Ok(ExitCode::SUCCESS)
}

fn list_interfaces() -> Result<ExitCode> {
    let devs = netcap::list_devices().map_err(|e| Exit::failure(e.to_string()))?;
    let mut o = std::io::stdout().lock();
    for (i, d) in devs.iter().enumerate() {
        let mut flags = Vec::new();
        if d.flags.is_up() {
            flags.push("Up");
        }
        if d.flags.is_running() {
            flags.push("Running");
        }
        if d.flags.is_loopback() {
            flags.push("Loopback");
        }
        let addrs: Vec<String> = d.addresses.iter().map(|a| a.addr.to_string()).collect();
        write!(o, "{}.{} [{}]", i + 1, d.name, flags.join(", "))?;
        if let Some(desc) = &d.desc {
            write!(o, " ({desc})")?;
        }
        if !addrs.is_empty() {
            write!(o, " {}", addrs.join(" "))?;
        }
        writeln!(o)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Packets the kernel counted on `dev` (all interfaces for `any`), to make the 0-packet hint
/// concrete. Reads /sys; `None` when unavailable.
fn iface_packets(dev: &str) -> Option<u64> {
    let read = |name: &str| -> Option<u64> {
        let base = format!("/sys/class/net/{name}/statistics");
        let rx: u64 = std::fs::read_to_string(format!("{base}/rx_packets"))
            .ok()?
            .trim()
            .parse()
            .ok()?;
        let tx: u64 = std::fs::read_to_string(format!("{base}/tx_packets"))
            .ok()?
            .trim()
            .parse()
            .ok()?;
        Some(rx + tx)
    };
    if dev == "any" {
        let mut sum = 0;
        for e in std::fs::read_dir("/sys/class/net").ok()?.flatten() {
            sum += read(&e.file_name().to_string_lossy()).unwrap_or(0);
        }
        Some(sum)
    } else {
        read(dev)
    }
}

fn open_error(dev: &str, e: CaptureError) -> anyhow::Error {
    match e {
        CaptureError::Permission { message, .. } => {
            let exe = std::env::current_exe()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|_| "sniff".into());
            Exit::failure(format!(
                "capturing on {dev} is not permitted ({message}): it needs root or \
                 CAP_NET_RAW+CAP_NET_ADMIN; run it with sudo, or grant them once with: \
                 sudo setcap cap_net_raw,cap_net_admin=eip {exe}"
            ))
            .into()
        }
        CaptureError::NoSuchDevice { message, .. } => {
            let names: Vec<String> = netcap::list_devices()
                .map(|v| v.into_iter().map(|d| d.name).collect())
                .unwrap_or_default();
            Exit::failure(format!(
                "no such interface '{dev}' ({message}); interfaces: {} (sniff -D shows their addresses)",
                names.join(", ")
            ))
            .into()
        }
        other => Exit::failure(other.to_string()).into(),
    }
}

fn capture_live(args: &Args, filter: &str) -> Result<ExitCode> {
    let dev = args.iface.as_str();
    let writing = args.write.is_some();
    let interactive = !writing && (args.line_buffered || std::io::stdout().is_terminal());
    let opts = LiveOptions {
        device: dev.to_owned(),
        snaplen: args.snaplen,
        buffer_kib: args.buffer_kib,
        promisc: !args.no_promisc,
        immediate: interactive,
    };
    let mut live = Live::open(&opts).map_err(|e| open_error(dev, e))?;
    if !filter.is_empty() {
        live.set_filter(filter).map_err(filter_error)?;
    }
    let lt = live.linktype();
    if !args.quiet {
        log::info!(
            "listening on {dev}, link-type {} ({}), snapshot length {} bytes",
            linktype::name(lt),
            linktype::description(lt),
            args.snaplen
        );
    }
    let mut writer = match &args.write {
        Some(w) => Some(
            Writer::create_with_snaplen(w, lt, args.snaplen as u32)
                .map_err(|e| Exit::failure(e.to_string()))?,
        ),
        None => None,
    };
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&stop)).context("installing signal handler")?;
    }
    let seen_before = iface_packets(dev);
    let device = (dev != "any").then(|| dev.to_owned());
    let mut p = Printer::new(args, device);
    let want = args.diagram.as_ref().map(|_| args.frame.unwrap_or(1));
    let deadline = args
        .timeout
        .map(|t| Instant::now() + Duration::from_secs_f64(t.max(0.0)));
    let mut n = 0u64;
    let mut drawn = false;
    loop {
        if stop.load(Ordering::Relaxed) || args.count.is_some_and(|c| n >= c) || drawn {
            break;
        }
        let now = Instant::now();
        if deadline.is_some_and(|d| now >= d) {
            break;
        }
        let max = args.count.map(|c| (c - n).min(1 << 20) as usize);
        let mut failed = None;
        let got = live
            .dispatch(max, |r| {
                if failed.is_some() || drawn {
                    return;
                }
                n += 1;
                if let Some(w) = writer.as_mut() {
                    let res = w.write(&r).and_then(|()| {
                        if args.packet_buffered {
                            w.flush()
                        } else {
                            Ok(())
                        }
                    });
                    if let Err(e) = res {
                        failed = Some(anyhow::Error::from(e));
                    }
                }
                let res = if want == Some(n) {
                    drawn = true;
                    draw(args, n, &r)
                } else {
                    p.packet(n, &r)
                };
                if let Err(e) = res {
                    failed = Some(e);
                }
            })
            .map_err(|e| Exit::failure(e.to_string()))?;
        if let Some(e) = failed {
            return Err(e);
        }
        if got == 0 {
            p.flush()?;
            let mut wait = Duration::from_millis(250);
            if let Some(d) = deadline {
                wait = wait.min(d.saturating_duration_since(now));
            }
            live.wait(wait).map_err(|e| Exit::failure(e.to_string()))?;
        }
    }
    let stats = live.stats().ok();
    if let Some(mut w) = writer.take() {
        w.flush()?;
    }
    p.finish(stats)?;
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

#[cfg(test)]
mod fuzz {
    //! Every printer over arbitrary frames: no panic, whatever the bytes.
    use netcap::{Record, Timestamp};
    use netproto::frame::{decode, linktype};
    use proptest::prelude::*;

    fn print_all(lt: u32, data: &[u8]) {
        let r = Record {
            ts: Timestamp { sec: 1, nsec: 0 },
            caplen: data.len() as u32,
            len: data.len() as u32 + 10,
            linktype: lt,
            data,
        };
        let f = decode(lt, data).unwrap();
        let mut out = Vec::new();
        let mut lp = crate::line::LinePrinter::new(false);
        lp.utc_offset = Some(0);
        lp.line(&mut out, &r, &f);
        crate::out::summary(&mut out, &f);
        serde_json::to_writer(&mut out, &crate::out::json_packet(1, &r, &f, None)).unwrap();
        crate::out::hexdump(&mut out, data, true);
        let mut s = String::new();
        crate::dissect::show(&f, &mut s);
        let svg = crate::diagram::render(&f, 1, "t");
        assert!(svg.ends_with("</svg>\n"));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        #[test]
        fn printers_never_panic(
            lt in proptest::sample::select(linktype::ALL.to_vec()),
            head in proptest::sample::select(vec![
                vec![],
                vec![0x45, 0, 0, 40, 0, 0, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2],
                vec![0x60, 0, 0, 0, 0, 20, 6, 64],
            ]),
            data in proptest::collection::vec(any::<u8>(), 0..120),
        ) {
            let mut d = head;
            d.extend_from_slice(&data);
            print_all(lt, &d);
            print_all(linktype::RAW, &d);
        }
    }
}
