//! sniff's command line.

use clap::Parser;
use netcap::CaptureError;
use netcli::Exit;

const EXAMPLES: &str = "\
Examples:
  sniff 'tcp port 5000'                        print the web experiment's packets (all interfaces)
  sniff -i lo -c 12 -w hello.pcap tcp port 5000  the lab sheet's capture program in one line
  sniff -r hello.pcap --summary                scapy-style one-line summaries
  sniff -r hello.pcap -v -c 1                  every header field with its byte offset
  sniff -r hello.pcap -X                       hex and ASCII of each packet
  sniff -r hello.pcap -A -tttt                 payload as text, with date and time
  sniff -i eth0 -Q in -F web.bpf               received packets only, filter read from a file
  sniff -r hello.pcap --diagram hello.svg --frame 4   draw packet 4's layers as SVG
  sniff -r trace.pcap --json                   NDJSON, one object per packet + a summary
  sniff -w - 'tcp port 5000' | tcpstat -r -    pipe a live capture into tcpstat
  sniff -i eth0 -C 100 -W 10 -w ring.pcap      a ring of 10 files of 100 MB (ring.pcap0 … ring.pcap9)
  sniff -G 3600 -w 'trace-%Y%m%d-%H.pcap'      a new file every hour, named by the hour
  sniff --process --pcapng -w who.pcapng       processes as packet comments (Wireshark shows them)
  sniff -D                                     list interfaces with their addresses

Capturing needs root or CAP_NET_RAW+CAP_NET_ADMIN:
  sudo setcap cap_net_raw,cap_net_admin=eip $(command -v sniff)";

/// Packet capture like tcpdump, explained like scapy.
#[derive(Debug, Parser)]
#[command(name = "sniff", version, about, after_help = EXAMPLES)]
pub struct Args {
    /// Interface to capture on (`any` = all interfaces, loopback included).
    #[arg(
        short = 'i',
        long = "interface",
        value_name = "IFACE",
        default_value = "any"
    )]
    pub iface: String,
    /// Stop after COUNT packets (after filtering).
    #[arg(short = 'c', long, value_name = "COUNT")]
    pub count: Option<u64>,
    /// Bytes to capture from each packet.
    #[arg(
        short = 's',
        long = "snapshot-length",
        value_name = "SNAPLEN",
        default_value_t = 262_144
    )]
    pub snaplen: i32,
    /// Kernel capture buffer size in KiB.
    #[arg(
        short = 'B',
        long = "buffer-size",
        value_name = "KIB",
        default_value_t = 4096
    )]
    pub buffer_kib: i32,
    /// Write packets to a pcap file (`-` = stdout, for pipes) instead of printing them
    /// (nanosecond stamps with --time-stamp-precision nano, pcapng with --pcapng).
    #[arg(short = 'w', long = "write", value_name = "FILE")]
    pub write: Option<String>,
    /// With -w FILE: before each packet, start a new file once this one holds more than MB
    /// million bytes (tcpdump's -C: FILE, FILE1, FILE2, …; with -W N: FILE0 … FILE(N-1), a ring).
    #[arg(short = 'C', value_name = "MB", requires = "write", value_parser = clap::value_parser!(u64).range(1..=u64::MAX / 1_000_000))]
    pub file_size: Option<u64>,
    /// With -w FILE: start a new file every SECS seconds, named by strftime(3) of the time
    /// (tcpdump's -G: -w 'trace-%H%M%S.pcap').
    #[arg(short = 'G', value_name = "SECS", requires = "write", value_parser = clap::value_parser!(u64).range(1..))]
    pub rotate_secs: Option<u64>,
    /// With -C: keep at most COUNT files, overwriting the oldest; with -G alone: stop after
    /// COUNT files (tcpdump's -W).
    #[arg(short = 'W', value_name = "COUNT", requires = "write", value_parser = clap::value_parser!(u32).range(1..))]
    pub file_count: Option<u32>,
    /// With -w: write pcapng (the interface's name and description; with --process, each
    /// packet's processes as its comment) instead of pcap.
    #[arg(long, requires = "write")]
    pub pcapng: bool,
    /// Read packets from a pcap or pcapng file (`-` = stdin) instead of capturing.
    #[arg(short = 'r', long = "read", value_name = "FILE")]
    pub read: Option<String>,
    /// Stop a live capture after SECS seconds.
    #[arg(long, value_name = "SECS", value_parser = netcli::value::secs)]
    pub timeout: Option<std::time::Duration>,
    /// Do not put the interface into promiscuous mode.
    #[arg(short = 'p', long = "no-promiscuous-mode")]
    pub no_promisc: bool,
    /// Numeric output (always on; accepted for tcpdump compatibility, also as -nn).
    #[arg(short = 'n', action = clap::ArgAction::Count)]
    pub numeric: u8,
    /// Print absolute TCP sequence numbers (default: relative per connection).
    #[arg(short = 'S', long = "absolute-tcp-sequence-numbers")]
    pub absolute: bool,
    /// List the interfaces that can be captured on, with their addresses.
    #[arg(short = 'D', long = "list-interfaces")]
    pub list_interfaces: bool,
    /// scapy-style summary lines (`Ether / IP / TCP a:p > b:q PA / Raw`).
    #[arg(long, conflicts_with = "json")]
    pub summary: bool,
    /// Hex dump of each packet from the network header (-xx: from the link header).
    #[arg(short = 'x', action = clap::ArgAction::Count)]
    pub hex: u8,
    /// Hex and ASCII dump of each packet (-XX: from the link header).
    #[arg(short = 'X', action = clap::ArgAction::Count)]
    pub hex_ascii: u8,
    /// Print each packet's bytes from the network header in ASCII (tcpdump's -A).
    #[arg(short = 'A', conflicts_with_all = ["hex", "hex_ascii"])]
    pub ascii: bool,
    /// Live capture: name the process that owns each packet's local end, from /proc
    /// (`127.0.0.1.5000[hello-server/4242]`; JSON `src_process`/`dst_process`).
    #[arg(long)]
    pub process: bool,
    /// Print the link-level header on each line (MAC addresses, EtherType), as tcpdump -e.
    #[arg(short = 'e')]
    pub link_header: bool,
    /// Timestamps: -t none, -tt seconds since 1970, -ttt delta from the previous packet,
    /// -tttt date and time, -ttttt delta from the first packet (as tcpdump).
    #[arg(short = 't', action = clap::ArgAction::Count)]
    pub ts_mode: u8,
    /// Timestamp precision: micro (default) or nano (live: asks the kernel for ns).
    #[arg(long = "time-stamp-precision", value_name = "PRECISION", value_parser = ["micro", "nano"], default_value = "micro")]
    pub ts_precision: String,
    /// Live capture: only packets received (in), sent (out) or both (inout, the default).
    #[arg(short = 'Q', long = "direction", value_name = "DIR", value_parser = ["in", "out", "inout"])]
    pub direction: Option<String>,
    /// Read the filter expression from FILE (a filter on the command line is then ignored,
    /// as in tcpdump).
    #[arg(short = 'F', value_name = "FILE")]
    pub filter_file: Option<std::path::PathBuf>,
    /// Full dissection: every header field named, with its value and byte offset.
    #[arg(short = 'v', long = "verbose")]
    pub verbose: bool,
    /// NDJSON output: one `packet` object per packet, then a `summary` object.
    #[arg(long)]
    pub json: bool,
    /// Draw one packet (the first, or --frame N) as an SVG layer diagram into FILE.
    #[arg(long, value_name = "FILE.svg")]
    pub diagram: Option<std::path::PathBuf>,
    /// The packet to draw with --diagram (1-based, counted after filtering).
    #[arg(long, value_name = "N", requires = "diagram")]
    pub frame: Option<u64>,
    /// Flush output after every packet (line buffering, for pipes).
    #[arg(short = 'l', long = "line-buffered")]
    pub line_buffered: bool,
    /// With -w, flush the pcap file after every packet.
    #[arg(short = 'U', long = "packet-buffered")]
    pub packet_buffered: bool,
    /// With -w FILE, print the packets too.
    #[arg(long)]
    pub print: bool,
    /// No "listening on"/statistics lines on stderr.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// BPF filter expression, as in tcpdump (words are joined with spaces).
    #[arg(
        value_name = "FILTER",
        trailing_var_arg = true,
        allow_hyphen_values = false
    )]
    pub filter: Vec<String>,
}

/// A filter libpcap rejected is a usage error, with a reminder of the syntax.
pub fn filter_error(e: CaptureError) -> anyhow::Error {
    match e {
        CaptureError::Filter { expr, message } => Exit::usage(format!(
            "bad filter expression '{expr}': {message} (BPF syntax as in tcpdump, e.g. 'tcp port 5000')"
        ))
        .into(),
        other => other.into(),
    }
}
