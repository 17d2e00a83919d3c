//! tcpstat: TCP trace analysis for the transport lab — connections, Wireshark's per-packet
//! analysis, TCBs, reassembled streams, graphs and a network-vs-application diagnosis.

mod analysis;
mod cells;
mod cwnd;
mod diagnose;
mod follow;
mod graph;
mod input;
mod jsonrow;
mod live;
mod prefetch;
mod record;
mod report;
mod rowpipe;
mod swtrace;
mod tcb;

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use netcli::{Exit, Verbosity};

const EXAMPLES: &str = "\
Examples:
  tcpstat -r trace.pcap                         connections (the default command)
  tcpstat conns -r trace.pcap --json            one NDJSON record per connection
  tcpstat conns -r server.pcap --stream --csv   rows as connections end (memory stays flat)
  tcpstat packets -r trace0.pcap --conn 0       per-packet Wireshark analysis flags
  tcpstat tcb -r sirius.pcap --frame 3 --host 130.104.78.8
  tcpstat follow -r trace0.pcap --conn 0 --dir server --detect
  tcpstat graph -r trace0.pcap --conn 0 --kind tsg -o tsg.svg
  tcpstat graph -r sw.pcap --kind sw --port 6000 -o sw.svg   a sender/receiver transfer
  tcpstat diagnose -r trace9.pcap
  tcpstat cwnd -r trace3.pcap --conn 0          congestion window, phases, limited by
  tcpstat -i lo --filter 'tcp port 5000' --interval 2   live summary every 2 s
  sniff -w - 'tcp port 5000' | tcpstat -r -";

#[derive(Parser, Debug)]
#[command(
    name = "tcpstat",
    version,
    about = "TCP trace analysis: connections, Wireshark's analysis flags, TCB, follow, graphs, diagnosis",
    after_help = EXAMPLES,
    args_conflicts_with_subcommands = false
)]
struct Cli {
    #[command(flatten)]
    common: Common,
    #[command(flatten)]
    verbosity: Verbosity,
    #[command(subcommand)]
    cmd: Option<Cmd>,
}

#[derive(Args, Debug, Clone)]
struct Common {
    /// pcap or pcapng file to read, `-` for standard input.
    #[arg(short = 'r', long = "read", value_name = "FILE", global = true)]
    file: Option<String>,
    /// NDJSON output, one record per line with a `type` field.
    #[arg(long, global = true, conflicts_with = "csv")]
    json: bool,
    /// CSV output for tables.
    #[arg(long, global = true)]
    csv: bool,
    /// Only this connection (tshark's tcp.stream number).
    #[arg(long, value_name = "N", global = true)]
    conn: Option<u32>,
    /// Live: capture on IFACE (`any`, `lo`, ...) and print a summary every --interval seconds.
    #[arg(
        short = 'i',
        long = "interface",
        value_name = "IFACE",
        conflicts_with = "file"
    )]
    iface: Option<String>,
    /// Live: seconds between summaries.
    #[arg(
        long,
        value_name = "SECS",
        default_value = "5",
        value_parser = netcli::value::secs,
        requires = "iface"
    )]
    interval: std::time::Duration,
    /// Live: stop after SECS seconds (default: run until interrupted).
    #[arg(long, value_name = "SECS", value_parser = netcli::value::secs, requires = "iface")]
    duration: Option<std::time::Duration>,
    /// Live: BPF capture filter, as in tcpdump (e.g. 'tcp port 5000').
    #[arg(long, value_name = "EXPR", requires = "iface")]
    filter: Option<String>,
    /// conns, live: print each connection's row when it ends (both FINs or a RST, then 5 s
    /// quiet; or idle past --idle-timeout), Zeek conn.log style, so memory follows the
    /// connections open at once; the rest at the end.
    #[arg(long, global = true)]
    stream: bool,
    /// A connection silent this long (capture time) is over: its row is final, and a packet
    /// after that starts a new connection (as in Zeek). Default 300 (Zeek's).
    #[arg(long, value_name = "SECS", value_parser = netcli::value::secs, global = true)]
    idle_timeout: Option<std::time::Duration>,
}

impl Common {
    /// When connections are over (Zeek's defaults, the idle timeout as given).
    fn eviction(&self) -> analysis::Eviction {
        let mut e = analysis::Eviction::default();
        if let Some(t) = self.idle_timeout {
            e.idle_ns = i64::try_from(t.as_nanos()).unwrap_or(i64::MAX);
        }
        e
    }
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// One row per connection (the default).
    Conns,
    /// One line per TCP packet with Wireshark's analysis flags.
    Packets,
    /// The TCB of a connection as one host holds it right after a frame (RFC 793).
    Tcb(TcbArgs),
    /// The reassembled byte stream of a connection.
    Follow(FollowArgs),
    /// Time-sequence, RTT, throughput or window graph (SVG, or PNG by extension); `--kind sw`:
    /// a sender/receiver sliding-window transfer over UDP.
    Graph(GraphArgs),
    /// Findings in plain words: network, application or capture, with evidence frames.
    Diagnose,
    /// The sender's congestion window over time (inferred), its phases and loss events, and
    /// what limited the sender: receiver window, congestion window, losses or application.
    Cwnd(CwndArgs),
}

#[derive(Args, Debug)]
pub struct CwndArgs {
    /// The sending direction (default: the one carrying more data).
    #[arg(long, value_enum)]
    pub dir: Option<DirArg>,
}

#[derive(Args, Debug)]
pub struct TcbArgs {
    /// Frame number (1-based, as Wireshark shows it).
    #[arg(long, value_name = "N")]
    pub frame: u64,
    /// The host whose TCB to show (default: the sender of the frame).
    #[arg(long, value_name = "IP")]
    pub host: Option<std::net::IpAddr>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DirArg {
    Client,
    Server,
    Both,
}

#[derive(Args, Debug)]
pub struct FollowArgs {
    /// Which direction: the client's bytes, the server's, or both interleaved.
    #[arg(long, value_enum, default_value = "both")]
    pub dir: DirArg,
    /// Write the stream to FILE instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<String>,
    /// Name the content: HTTP headers, file type by magic number.
    #[arg(long)]
    pub detect: bool,
    /// Write tshark's `[N bytes missing in capture file]` marker (NUL-terminated) where the
    /// capture lacks bytes, as `tshark -z follow,tcp,raw` does (default: skip them).
    #[arg(long)]
    pub mark_gaps: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum GraphKind {
    Tsg,
    Rtt,
    Tput,
    Window,
    /// The sender's congestion window as inferred, bytes in flight, ssthresh, recoveries and
    /// loss events.
    Cwnd,
    /// The segments of a sender/receiver transfer (UDP, docs/protocols.md), not TCP.
    Sw,
}

#[derive(Args, Debug)]
pub struct GraphArgs {
    /// Time-sequence (Stevens/tcptrace), RTT, throughput, window and bytes in flight, or the
    /// inferred congestion window; sw:
    /// the sliding-window transfer of sender/receiver (UDP), --conn N picks the N-th transfer
    /// (default 0).
    #[arg(long, value_enum, default_value = "tsg")]
    pub kind: GraphKind,
    /// Output file: .svg (default) or .png.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: String,
    /// Data direction to draw (default: the one carrying more payload).
    #[arg(long, value_enum)]
    pub dir: Option<DirArg>,
    /// --kind sw: only UDP datagrams from or to this port (the receiver's).
    #[arg(long, value_name = "PORT")]
    pub port: Option<u16>,
}

/// Output format shared by the table commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    Csv,
}

fn main() -> ExitCode {
    netcli::main_with(run)
}

fn run() -> anyhow::Result<ExitCode> {
    let cli: Cli = netcli::parse();
    cli.verbosity.init_logging();
    let fmt = if cli.common.json {
        Format::Json
    } else if cli.common.csv {
        Format::Csv
    } else {
        Format::Human
    };
    if let Some(iface) = &cli.common.iface {
        let stdout = io::stdout();
        let mut out = stdout.lock();
        let args = live::LiveArgs {
            iface,
            filter: cli.common.filter.clone(),
            interval: cli.common.interval,
            duration: cli.common.duration,
            stream: cli.common.stream,
            evict: cli.common.eviction(),
        };
        live::run(&args, fmt, &mut out)?;
        return Ok(ExitCode::SUCCESS);
    }
    let Some(file) = cli.common.file.clone() else {
        return Err(Exit::usage(
            "no input: give a capture with -r FILE (-r - for stdin), or capture live with -i IFACE",
        )
        .into());
    };
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let conn = cli.common.conn;
    let evict = cli.common.eviction();
    match cli.cmd.unwrap_or(Cmd::Conns) {
        Cmd::Conns => {
            let o = report::ConnsOpts {
                only: conn,
                stream: cli.common.stream,
                evict,
            };
            report::conns(&file, &o, fmt, &mut out)?
        }
        Cmd::Packets => report::packets(&file, conn, evict, fmt, &mut out)?,
        Cmd::Tcb(a) => tcb::run(&file, &a, evict, fmt, &mut out)?,
        Cmd::Follow(a) => {
            let n =
                conn.ok_or_else(|| Exit::usage("follow needs --conn N (see `tcpstat conns`)"))?;
            follow::run(&file, n, &a, evict, fmt, &mut out)?
        }
        Cmd::Graph(a) if a.kind == GraphKind::Sw => {
            if a.dir.is_some() {
                return Err(Exit::usage(
                    "--dir does not apply to --kind sw (the DATA segments give the direction)",
                )
                .into());
            }
            graph::run_sw(&file, conn, &a, fmt, &mut out)?
        }
        Cmd::Graph(a) => {
            if a.port.is_some() {
                return Err(Exit::usage(
                    "--port applies to --kind sw only (select a TCP connection with --conn N)",
                )
                .into());
            }
            let n =
                conn.ok_or_else(|| Exit::usage("graph needs --conn N (see `tcpstat conns`)"))?;
            graph::run(&file, n, &a, evict, &mut out)?
        }
        Cmd::Diagnose => diagnose::run(&file, conn, evict, fmt, &mut out)?,
        Cmd::Cwnd(a) => {
            if a.dir == Some(DirArg::Both) {
                return Err(Exit::usage("cwnd --dir takes client or server (one sender)").into());
            }
            let n = conn.ok_or_else(|| Exit::usage("cwnd needs --conn N (see `tcpstat conns`)"))?;
            cwnd::run(&file, n, a.dir, evict, fmt, &mut out)?
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
