//! Reading and writing captures (pcap/pcapng files, stdin/stdout, live) shared by sniff and
//! tcpstat.
//!
//! - [`Reader`] streams records from a pcap or pcapng file, or from stdin when the path is
//!   `-`, read ahead on a thread of its own in blocks handed over whole (`ahead`; a pipe's
//!   reads as they come: a pipe is never slurped, a live one never held back).
//! - [`Writer`] writes a classic pcap file (microsecond or nanosecond stamps) or pcapng (named
//!   interfaces, a comment per packet), to stdout when the path is `-`, through a 1 MiB
//!   buffer: nothing is flushed per packet unless asked ([`Writer::flush`]).
//! - [`rotate::Rotating`] is tcpdump's `-C`/`-G`/`-W`: a writer that moves on to the next
//!   file by size or by time, with tcpdump's file names.
//! - [`Live`] captures from an interface (`any` by default) in non-blocking mode and waits
//!   with `poll(2)`, because libpcap's read timeout never fires on Linux when no packet
//!   arrives: that is what makes `--timeout` and signals work.
//! - [`live::run`] is the one live-capture loop (count, deadline, SIGINT/SIGTERM, statistics)
//!   that sniff and `tcpstat -i` both run.
//!
//! Every source yields [`Record`]s: timestamp, captured and wire length, link type, bytes.

use std::io;
use std::os::fd::AsRawFd;
use std::time::Duration;

use pcap::{Active, Capture, Linktype, Packet, Precision};

use netproto::frame::linktype;

mod ahead;
pub mod live;
pub mod rotate;
mod write;

pub use write::{Format, Interface, Spec, Writer};

/// A capture timestamp (seconds and nanoseconds since the Unix epoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub struct Timestamp {
    pub sec: i64,
    pub nsec: u32,
}

impl Timestamp {
    /// Seconds as a float (for JSON and arithmetic).
    pub fn as_secs_f64(self) -> f64 {
        self.sec as f64 + f64::from(self.nsec) * 1e-9
    }
    /// Microseconds part (what tcpdump prints).
    pub fn usec(self) -> u32 {
        self.nsec / 1000
    }
    /// `self - earlier` in seconds.
    pub fn since(self, earlier: Timestamp) -> f64 {
        (self.sec - earlier.sec) as f64 + (f64::from(self.nsec) - f64::from(earlier.nsec)) * 1e-9
    }
}

/// One captured packet.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    pub ts: Timestamp,
    /// Bytes captured (`data.len()`).
    pub caplen: u32,
    /// Bytes on the wire.
    pub len: u32,
    /// The capture's link type ([`netproto::frame::linktype`]).
    pub linktype: u32,
    pub data: &'a [u8],
}

impl<'a> Record<'a> {
    /// Decode the frame (see [`netproto::frame::decode`]).
    pub fn decode(&self) -> Result<netproto::frame::Frame<'a>, netproto::frame::FrameError> {
        netproto::frame::decode(self.linktype, self.data)
    }
}

/// What a user refused a live capture can do about it, for the end of an error message (after
/// "it needs root or CAP_NET_RAW+CAP_NET_ADMIN"). netlab's Debian package runs the tools through
/// a wrapper that sets `NETLAB_CAPTURE_GROUP` when the user may not run the capture-capable copy
/// (a member of that group may, as Wireshark's `dumpcap` for group `wireshark`): then the fix is
/// joining the group. Otherwise (a build from the workspace, `cargo install`) it is `setcap` on
/// the running binary.
pub fn privilege_hint() -> String {
    let group = std::env::var("NETLAB_CAPTURE_GROUP").ok();
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .ok();
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "BINARY".into());
    privilege_hint_for(group.as_deref(), user.as_deref(), &exe)
}

/// [`privilege_hint`] from its inputs: the capture group (if the package's wrapper named one),
/// the user, the running binary.
fn privilege_hint_for(group: Option<&str>, user: Option<&str>, exe: &str) -> String {
    match group {
        Some(group) if !group.is_empty() => {
            let user = user.filter(|u| !u.is_empty()).unwrap_or("$USER");
            format!(
                "netlab's package gives them to the members of group {group}: run it with sudo, or \
                 join the group with: sudo usermod -aG {group} {user} (then log in again)"
            )
        }
        _ => format!(
            "run it with sudo, or grant them once with: \
             sudo setcap cap_net_raw,cap_net_admin=eip {exe}"
        ),
    }
}

/// Capture errors, with the cause a user can act on.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("cannot read capture {path}: {message}")]
    Open { path: String, message: String },
    #[error("cannot write capture {path}: {message}")]
    Create { path: String, message: String },
    /// Writing records failed (a full disk, a reader of stdout that went away: the source
    /// says which).
    #[error("cannot write capture {path}: {source}")]
    Write {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("reading {path}: {message}")]
    Read { path: String, message: String },
    /// libpcap could not compile the filter; `message` is libpcap's.
    #[error("bad filter expression '{expr}': {message}")]
    Filter { expr: String, message: String },
    /// Opening a live capture was refused for lack of privileges.
    #[error("{message}")]
    Permission { device: String, message: String },
    /// The named interface does not exist.
    #[error("no such interface '{device}' ({message})")]
    NoSuchDevice { device: String, message: String },
    #[error("capture on {device}: {message}")]
    Live { device: String, message: String },
    #[error("{0}")]
    Io(#[from] io::Error),
}

fn pcap_msg(e: &pcap::Error) -> String {
    match e {
        pcap::Error::PcapError(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Display name of a path argument (`-` is stdin or stdout).
fn shown(path: &str, std: &str) -> String {
    if path == "-" {
        std.to_owned()
    } else {
        path.to_owned()
    }
}

/// Streams records from a pcap or pcapng file, or stdin (`-`).
///
/// Both formats are parsed here rather than by libpcap: records are handed out as slices of
/// one large read buffer (no per-record `fread` and copy, which was most of the time of a
/// trace analysis), a pcapng file may mix link types (each record carries its own), and memory
/// stays at the buffer size whatever the file size. BPF filters are still libpcap's, compiled
/// for the link type and run on each record (`pcap_offline_filter`).
pub struct Reader {
    src: Source,
    buf: Vec<u8>,
    /// Unread bytes are `buf[start..end]`.
    start: usize,
    end: usize,
    eof: bool,
    format: InFormat,
    linktype: u32,
    path: String,
    records: u64,
    filter: Option<Filter>,
}

/// Where a [`Reader`]'s bytes come from.
enum Source {
    /// Read when they are needed ([`Reader::from_reader`]'s streams).
    Stream(Box<dyn io::Read>),
    /// Read ahead on another thread, a block at a time ([`Reader::open`]'s files and stdin):
    /// `buf` is then the block being read, `end` its length.
    Ahead(ahead::ReadAhead),
}

struct Filter {
    expr: String,
    /// Programs compiled so far, per link type.
    programs: Vec<(u32, pcap::BpfProgram)>,
}

enum InFormat {
    /// Classic pcap: byte order swapped?, nanosecond timestamps?
    Pcap { swapped: bool, nano: bool },
    /// pcapng: byte order of the current section, and per interface (link type, seconds
    /// per tick as a numerator/denominator of nanoseconds).
    Pcapng { swapped: bool, ifaces: Vec<Iface> },
}

#[derive(Clone, Copy)]
struct Iface {
    linktype: u32,
    /// Timestamp units: `ticks * 1e9 / per_sec` nanoseconds.
    per_sec: u64,
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader")
            .field("path", &self.path)
            .field("linktype", &self.linktype)
            .finish()
    }
}

/// Read buffer of a [`Reader`] once the input outgrows the first 64 KiB; records larger than
/// this grow it. 256 KiB: a system call per ~2 000 packets costs nothing measurable, and a
/// reader that holds 1 MiB resident is a sixtieth of `tcpstat conns`' 64 MiB budget.
const READ_BUFFER: usize = 1 << 18;
/// Largest record or block accepted (a corrupt length must not allocate gigabytes).
const MAX_RECORD: usize = 64 << 20;

const PCAPNG_SHB: u32 = 0x0A0D_0D0A;

/// A block read ahead joined to the unread bytes `buf[start..end]` (the end of the block
/// before): they go into the room before its data, and it becomes `buf`, the block read
/// through coming back; a longer rest has the data appended instead. Also where the unread
/// bytes now start.
fn splice(buf: &mut Vec<u8>, start: usize, end: usize, mut block: Vec<u8>) -> (Vec<u8>, usize) {
    let rest = end - start;
    match ahead::HEAD.checked_sub(rest) {
        Some(at) => {
            block[at..ahead::HEAD].copy_from_slice(&buf[start..end]);
            (std::mem::replace(buf, block), at)
        }
        None => {
            buf.copy_within(start..end, 0);
            buf.truncate(rest);
            buf.extend_from_slice(&block[ahead::HEAD..]);
            (block, 0)
        }
    }
}

/// `src` read ahead on its own thread, or where it is needed when no thread can be started.
fn read_ahead<R: io::Read + Send + 'static>(src: R) -> Source {
    match ahead::ReadAhead::start(src) {
        Ok(a) => Source::Ahead(a),
        Err(src) => Source::Stream(Box::new(src)),
    }
}

impl Reader {
    /// Open `path` (`-` = stdin). Timestamps keep nanosecond precision when the file has it.
    pub fn open(path: &str) -> Result<Reader, CaptureError> {
        let name = shown(path, "standard input");
        let src = if path == "-" {
            read_ahead(io::stdin())
        } else {
            read_ahead(std::fs::File::open(path).map_err(|e| CaptureError::Open {
                path: name.clone(),
                message: e.to_string(),
            })?)
        };
        Self::with_source(src, &name)
    }

    /// Read a capture from any byte stream (`name` is used in messages).
    pub fn from_reader(src: Box<dyn io::Read>, name: &str) -> Result<Reader, CaptureError> {
        Self::with_source(Source::Stream(src), name)
    }

    fn with_source(src: Source, name: &str) -> Result<Reader, CaptureError> {
        let mut r = Reader {
            src,
            // Small first: most inputs that fit are small; grown on the first refill.
            buf: vec![0; 64 << 10],
            start: 0,
            end: 0,
            eof: false,
            format: InFormat::Pcap {
                swapped: false,
                nano: false,
            },
            linktype: 0,
            path: name.to_owned(),
            records: 0,
            filter: None,
        };
        let open_err = |message: String| CaptureError::Open {
            path: name.to_owned(),
            message,
        };
        if !r.fill(24).map_err(|e| open_err(e.to_string()))? {
            let message = match r.end - r.start {
                0 => "empty input (did the writer fail?)".to_owned(),
                n => format!("truncated dump file: {n} bytes, too short for a header"),
            };
            return Err(open_err(message));
        }
        let b = &r.buf[r.start..r.start + 24];
        let magic_le = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        let (swapped, nano) = match magic_le {
            0xa1b2_c3d4 => (false, false),
            0xa1b2_3c4d => (false, true),
            0xd4c3_b2a1 => (true, false),
            0x4d3c_b2a1 => (true, true),
            PCAPNG_SHB => {
                r.format = InFormat::Pcapng {
                    swapped: false,
                    ifaces: Vec::new(),
                };
                // Read blocks up to the first interface description for linktype().
                r.pcapng_prime().map_err(|e| open_err(e.message()))?;
                return Ok(r);
            }
            _ => {
                return Err(open_err(
                    "unknown file format (not pcap or pcapng)".to_owned(),
                ));
            }
        };
        let rd32 = |o: usize| u32_at(b, o, swapped);
        r.linktype = rd32(20) & 0xffff;
        r.format = InFormat::Pcap { swapped, nano };
        r.start += 24;
        Ok(r)
    }

    /// The file's link type (pcapng: the first interface's).
    pub fn linktype(&self) -> u32 {
        self.linktype
    }

    /// Apply a BPF filter (compiled by libpcap for each link type met, optimised).
    pub fn set_filter(&mut self, expr: &str) -> Result<(), CaptureError> {
        let mut f = Filter {
            expr: expr.to_owned(),
            programs: Vec::new(),
        };
        // Compile now so that a bad expression fails before any output.
        compile(&mut f, self.linktype)?;
        self.filter = Some(f);
        Ok(())
    }

    /// The next record, `None` at the end. A file cut mid-record is an error naming the file.
    ///
    /// Always inlined: called, it handed the record back through memory, and the caller's
    /// wider loads of what had just been stored waited for every earlier store to reach the
    /// cache (a trace analysis's stores miss a lot): `tcpstat conns` on bulk captures went 6–7 %
    /// faster, on 200 000 short connections 4 %.
    #[allow(clippy::should_implement_trait)]
    #[inline(always)]
    pub fn next(&mut self) -> Result<Option<Record<'_>>, CaptureError> {
        loop {
            let Some((off, ts, len, caplen, linktype)) =
                self.next_raw().map_err(|e| CaptureError::Read {
                    path: self.path.clone(),
                    message: e.message(),
                })?
            else {
                return Ok(None);
            };
            self.records += 1;
            if let Some(f) = self.filter.as_mut() {
                let prog = compile(f, linktype)?;
                if !prog.filter(&self.buf[off..off + caplen]) {
                    continue;
                }
            }
            return Ok(Some(Record {
                ts,
                caplen: caplen as u32,
                len,
                linktype,
                data: &self.buf[off..off + caplen],
            }));
        }
    }

    /// Make at least `n` unread bytes available; false at a clean end of input before that.
    fn fill(&mut self, n: usize) -> io::Result<bool> {
        if self.end - self.start >= n {
            return Ok(true);
        }
        let src = match &mut self.src {
            Source::Stream(src) => src,
            Source::Ahead(ahead) => {
                while self.end - self.start < n && !self.eof {
                    match ahead.next() {
                        None => self.eof = true,
                        Some(block) => {
                            let spent;
                            (spent, self.start) =
                                splice(&mut self.buf, self.start, self.end, block?);
                            self.end = self.buf.len();
                            ahead.give_back(spent);
                        }
                    }
                }
                return Ok(self.end - self.start >= n);
            }
        };
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            // The input is larger than the buffer: read it in big chunks from now on.
            if self.buf.len() < READ_BUFFER {
                self.buf.resize(READ_BUFFER, 0);
            }
        }
        while self.end < n && !self.eof {
            if self.end == self.buf.len() {
                // Grow with the data that really arrives, so that a corrupt length on a short
                // input costs no more memory than the input.
                let grown = (self.buf.len() * 2).min(n.next_power_of_two());
                self.buf.resize(grown, 0);
            }
            match src.read(&mut self.buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(k) => self.end += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(self.end - self.start >= n)
    }

    /// Offset of the next record's data in `buf`, its timestamp, lengths and link type.
    #[inline]
    fn next_raw(&mut self) -> Result<Option<RawRecord>, ReadError> {
        match self.format {
            InFormat::Pcap { swapped, nano } => {
                // Fast path: the whole record is already in the buffer (nearly always).
                if self.end - self.start >= 16 {
                    let h = &self.buf[self.start..self.start + 16];
                    let caplen = u32_at(h, 8, swapped) as usize;
                    let off = self.start + 16;
                    if caplen <= self.end - off && caplen <= MAX_RECORD {
                        let sec = u32_at(h, 0, swapped);
                        let frac = u32_at(h, 4, swapped);
                        let len = u32_at(h, 12, swapped);
                        self.start = off + caplen;
                        let nsec = if nano {
                            frac
                        } else {
                            frac.saturating_mul(1000)
                        };
                        let ts = Timestamp {
                            sec: i64::from(sec),
                            nsec,
                        };
                        return Ok(Some((off, ts, len, caplen, self.linktype)));
                    }
                }
                if !self.fill(16)? {
                    return self.clean_end(16);
                }
                let h = &self.buf[self.start..self.start + 16];
                let sec = u32_at(h, 0, swapped);
                let frac = u32_at(h, 4, swapped);
                let caplen = u32_at(h, 8, swapped) as usize;
                let len = u32_at(h, 12, swapped);
                if caplen > MAX_RECORD {
                    return Err(ReadError::Corrupt(format!(
                        "record {} claims {caplen} captured bytes",
                        self.records + 1
                    )));
                }
                if !self.fill(16 + caplen)? {
                    return Err(ReadError::Cut(format!(
                        "truncated dump file: record {} needs {caplen} captured bytes, only {} left",
                        self.records + 1,
                        (self.end - self.start).saturating_sub(16)
                    )));
                }
                let off = self.start + 16;
                self.start = off + caplen;
                let ts = Timestamp {
                    sec: i64::from(sec),
                    nsec: if nano {
                        frac
                    } else {
                        frac.saturating_mul(1000)
                    },
                };
                Ok(Some((off, ts, len, caplen, self.linktype)))
            }
            InFormat::Pcapng { .. } => self.pcapng_next(),
        }
    }

    fn clean_end<T>(&self, _need: usize) -> Result<Option<T>, ReadError> {
        let left = self.end - self.start;
        if left == 0 {
            Ok(None)
        } else {
            Err(ReadError::Cut(format!(
                "truncated dump file: {left} bytes after record {} are not a whole record",
                self.records
            )))
        }
    }

    /// Read pcapng blocks until the first interface description (for `linktype()`).
    fn pcapng_prime(&mut self) -> Result<(), ReadError> {
        loop {
            let Some((btype, total)) = self.pcapng_block()? else {
                return Err(ReadError::Corrupt("pcapng file without interfaces".into()));
            };
            let had = self.ifaces_len();
            self.pcapng_meta(btype, total)?;
            self.start += total;
            if self.ifaces_len() > had {
                return Ok(());
            }
        }
    }

    fn ifaces_len(&self) -> usize {
        match &self.format {
            InFormat::Pcapng { ifaces, .. } => ifaces.len(),
            InFormat::Pcap { .. } => 0,
        }
    }

    /// Next block header at `start`: (type, total length), with the whole block buffered.
    fn pcapng_block(&mut self) -> Result<Option<(u32, usize)>, ReadError> {
        if !self.fill(12)? {
            return self.clean_end(12);
        }
        let h = &self.buf[self.start..self.start + 12];
        let raw_type = u32::from_le_bytes([h[0], h[1], h[2], h[3]]);
        if raw_type == PCAPNG_SHB {
            // A new section sets its own byte order from its magic.
            let bom = u32::from_le_bytes([h[8], h[9], h[10], h[11]]);
            let swapped = match bom {
                0x1a2b_3c4d => false,
                0x4d3c_2b1a => true,
                _ => return Err(ReadError::Corrupt("bad pcapng byte-order magic".into())),
            };
            if let InFormat::Pcapng { swapped: s, ifaces } = &mut self.format {
                *s = swapped;
                ifaces.clear();
            }
        }
        let swapped = match self.format {
            InFormat::Pcapng { swapped, .. } => swapped,
            InFormat::Pcap { swapped, .. } => swapped,
        };
        let h = &self.buf[self.start..self.start + 12];
        let btype = u32_at(h, 0, swapped);
        let total = u32_at(h, 4, swapped) as usize;
        if total < 12 || total % 4 != 0 || total > MAX_RECORD {
            return Err(ReadError::Corrupt(format!(
                "pcapng block of type {btype:#x} has length {total}"
            )));
        }
        if !self.fill(total)? {
            return Err(ReadError::Cut(format!(
                "truncated dump file: pcapng block of {total} bytes cut after {}",
                self.end - self.start
            )));
        }
        Ok(Some((btype, total)))
    }

    /// Section and interface blocks: remember interfaces.
    fn pcapng_meta(&mut self, btype: u32, total: usize) -> Result<(), ReadError> {
        if btype != 1 {
            return Ok(());
        }
        let InFormat::Pcapng { swapped, ifaces } = &mut self.format else {
            return Ok(());
        };
        let b = &self.buf[self.start..self.start + total];
        if total < 20 {
            return Err(ReadError::Corrupt("short pcapng interface block".into()));
        }
        let linktype = u32::from(u16_at(b, 8, *swapped));
        let mut per_sec = 1_000_000u64;
        // Options: code(2) len(2) value padded to 4, from offset 16 to total - 4.
        let mut o = 16;
        while o + 4 <= total - 4 {
            let code = u16_at(b, o, *swapped);
            let len = usize::from(u16_at(b, o + 2, *swapped));
            if code == 0 {
                break;
            }
            if code == 9 && len >= 1 && o + 4 < total {
                let v = b[o + 4];
                let exp = u32::from(v & 0x7f);
                per_sec = if v & 0x80 == 0 {
                    10u64.checked_pow(exp).unwrap_or(u64::MAX)
                } else {
                    2u64.checked_pow(exp).unwrap_or(u64::MAX)
                };
            }
            o += 4 + len.div_ceil(4) * 4;
        }
        if ifaces.is_empty() {
            self.linktype = linktype;
        }
        ifaces.push(Iface { linktype, per_sec });
        Ok(())
    }

    fn pcapng_next(&mut self) -> Result<Option<RawRecord>, ReadError> {
        loop {
            let Some((btype, total)) = self.pcapng_block()? else {
                return Ok(None);
            };
            let block = self.start;
            self.start += total;
            let InFormat::Pcapng { swapped, ifaces } = &self.format else {
                return Ok(None);
            };
            let swapped = *swapped;
            let b = &self.buf[block..block + total];
            match btype {
                // Enhanced packet block.
                6 => {
                    if total < 32 {
                        return Err(ReadError::Corrupt("short pcapng packet block".into()));
                    }
                    let ifid = u32_at(b, 8, swapped) as usize;
                    let Some(iface) = ifaces.get(ifid).copied() else {
                        return Err(ReadError::Corrupt(format!(
                            "packet for undeclared interface {ifid}"
                        )));
                    };
                    let ticks = (u64::from(u32_at(b, 12, swapped)) << 32)
                        | u64::from(u32_at(b, 16, swapped));
                    let caplen = u32_at(b, 20, swapped) as usize;
                    let len = u32_at(b, 24, swapped);
                    if 28 + caplen > total - 4 {
                        return Err(ReadError::Corrupt(format!(
                            "packet block of {total} bytes claims {caplen} captured bytes"
                        )));
                    }
                    let ts = ticks_to_ts(ticks, iface.per_sec);
                    return Ok(Some((block + 28, ts, len, caplen, iface.linktype)));
                }
                // Simple packet block: interface 0, no timestamp.
                3 => {
                    // Type, length, original length and the trailing length: 16 bytes at least.
                    if total < 16 {
                        return Err(ReadError::Corrupt(format!(
                            "simple packet block of {total} bytes (at least 16)"
                        )));
                    }
                    let Some(iface) = ifaces.first().copied() else {
                        return Err(ReadError::Corrupt("packet before any interface".into()));
                    };
                    let len = u32_at(b, 8, swapped);
                    let caplen = (len as usize).min(total - 16);
                    return Ok(Some((
                        block + 12,
                        Timestamp::default(),
                        len,
                        caplen,
                        iface.linktype,
                    )));
                }
                _ => {
                    self.start = block;
                    self.pcapng_meta(btype, total)?;
                    self.start = block + total;
                }
            }
        }
    }
}

/// Where a record's bytes start in the buffer, its timestamp, wire length, captured length
/// and link type.
type RawRecord = (usize, Timestamp, u32, usize, u32);

fn compile(f: &mut Filter, linktype: u32) -> Result<&pcap::BpfProgram, CaptureError> {
    if let Some(i) = f.programs.iter().position(|(lt, _)| *lt == linktype) {
        return Ok(&f.programs[i].1);
    }
    let err = |message: String| CaptureError::Filter {
        expr: f.expr.clone(),
        message,
    };
    // libpcap's compiler takes DLT values; pcap files carry LINKTYPE values.
    let dlt = linktype::for_libpcap(linktype);
    let dead = Capture::dead(Linktype(dlt as i32)).map_err(|e| err(pcap_msg(&e)))?;
    let prog = dead.compile(&f.expr, true).map_err(|e| err(pcap_msg(&e)))?;
    f.programs.push((linktype, prog));
    Ok(&f.programs[f.programs.len() - 1].1)
}

fn ticks_to_ts(ticks: u64, per_sec: u64) -> Timestamp {
    let per_sec = per_sec.max(1);
    let sec = ticks / per_sec;
    let rem = ticks % per_sec;
    let nsec = (u128::from(rem) * 1_000_000_000 / u128::from(per_sec)) as u32;
    Timestamp {
        sec: sec as i64,
        nsec,
    }
}

fn u32_at(b: &[u8], o: usize, swapped: bool) -> u32 {
    let v = u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
    if swapped { v.swap_bytes() } else { v }
}

fn u16_at(b: &[u8], o: usize, swapped: bool) -> u16 {
    let v = u16::from_le_bytes([b[o], b[o + 1]]);
    if swapped { v.swap_bytes() } else { v }
}

/// Why reading a record failed.
enum ReadError {
    Io(io::Error),
    /// The input ends inside a record.
    Cut(String),
    /// A length or header makes no sense.
    Corrupt(String),
}

impl ReadError {
    fn message(&self) -> String {
        match self {
            ReadError::Io(e) => e.to_string(),
            ReadError::Cut(m) | ReadError::Corrupt(m) => m.clone(),
        }
    }
}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> Self {
        ReadError::Io(e)
    }
}

/// `ts_scale`: 1 when the handle's tv_usec holds nanoseconds, 1000 when microseconds.
fn record<'a>(p: &Packet<'a>, linktype: u32, ts_scale: u32) -> Record<'a> {
    let h = p.header;
    Record {
        ts: Timestamp {
            sec: h.ts.tv_sec,
            nsec: (h.ts.tv_usec as u32).saturating_mul(ts_scale),
        },
        caplen: h.caplen,
        len: h.len,
        linktype,
        data: p.data,
    }
}

/// Options for a live capture.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    /// Interface name; `any` captures on all of them (with the interface in each record).
    pub device: String,
    pub snaplen: i32,
    /// Kernel ring buffer in KiB (tcpdump's `-B`).
    pub buffer_kib: i32,
    pub promisc: bool,
    /// Deliver each packet at once (interactive printing) rather than in kernel blocks.
    pub immediate: bool,
}

impl Default for LiveOptions {
    fn default() -> Self {
        LiveOptions {
            device: "any".into(),
            snaplen: 262_144,
            buffer_kib: 4096,
            promisc: true,
            immediate: true,
        }
    }
}

/// Kernel counters at the end of a live capture (tcpdump's exit lines).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Packets that passed the filter ("received by filter").
    pub received: u32,
    /// Dropped for lack of buffer space ("dropped by kernel").
    pub dropped: u32,
    /// Dropped by the interface or its driver ("dropped by interface").
    pub if_dropped: u32,
}

/// A live capture in non-blocking mode.
pub struct Live {
    cap: Capture<Active>,
    linktype: u32,
    device: String,
    /// 1 when libpcap gives nanoseconds ([`Live::open_with_precision`]), 1000 for µs.
    ts_scale: u32,
}

/// Timestamp precision of a live capture (tcpdump's `--time-stamp-precision`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TsPrecision {
    #[default]
    Micro,
    Nano,
}

/// Which packets a live capture sees (tcpdump's `-Q in|out|inout`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptureDirection {
    In,
    Out,
    InOut,
}

impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Live")
            .field("device", &self.device)
            .field("linktype", &self.linktype)
            .finish()
    }
}

fn classify_open_error(device: &str, e: pcap::Error) -> CaptureError {
    let message = pcap_msg(&e);
    let lower = message.to_ascii_lowercase();
    if lower.contains("permission") || lower.contains("not permitted") {
        CaptureError::Permission {
            device: device.to_owned(),
            message,
        }
    } else if lower.contains("no such device") || lower.contains("doesn't exist") {
        CaptureError::NoSuchDevice {
            device: device.to_owned(),
            message,
        }
    } else {
        CaptureError::Live {
            device: device.to_owned(),
            message,
        }
    }
}

impl Live {
    /// Open and activate a capture. On `any`, asks for Linux SLL2 so that every record names
    /// its interface.
    pub fn open(opts: &LiveOptions) -> Result<Live, CaptureError> {
        Live::open_with_precision(opts, TsPrecision::Micro)
    }

    /// [`Live::open`] with nanosecond timestamps when `precision` is `Nano` (an error naming
    /// the cause when the interface cannot give them).
    pub fn open_with_precision(
        opts: &LiveOptions,
        precision: TsPrecision,
    ) -> Result<Live, CaptureError> {
        let dev = opts.device.as_str();
        let cap = Capture::from_device(dev)
            .map_err(|e| classify_open_error(dev, e))?
            .snaplen(opts.snaplen)
            .promisc(opts.promisc)
            .buffer_size(opts.buffer_kib.saturating_mul(1024))
            .immediate_mode(opts.immediate)
            .precision(match precision {
                TsPrecision::Micro => Precision::Micro,
                TsPrecision::Nano => Precision::Nano,
            })
            .timeout(100);
        let mut cap = cap.open().map_err(|e| classify_open_error(dev, e))?;
        if dev == "any" {
            // Older kernels/libpcap may lack SLL2: SLL v1 still decodes.
            let _ = cap.set_datalink(Linktype(linktype::LINUX_SLL2 as i32));
        }
        let cap = cap.setnonblock().map_err(|e| classify_open_error(dev, e))?;
        let linktype = cap.get_datalink().0 as u32;
        let ts_scale = match precision {
            TsPrecision::Micro => 1000,
            TsPrecision::Nano => 1,
        };
        Ok(Live {
            cap,
            linktype,
            device: dev.to_owned(),
            ts_scale,
        })
    }

    /// Keep only packets received (`In`), sent (`Out`) or both (pcap_setdirection).
    pub fn set_direction(&mut self, d: CaptureDirection) -> Result<(), CaptureError> {
        let dir = match d {
            CaptureDirection::In => pcap::Direction::In,
            CaptureDirection::Out => pcap::Direction::Out,
            CaptureDirection::InOut => pcap::Direction::InOut,
        };
        self.cap.direction(dir).map_err(|e| CaptureError::Live {
            device: self.device.clone(),
            message: format!("cannot select the direction {d:?}: {}", pcap_msg(&e)),
        })
    }

    pub fn linktype(&self) -> u32 {
        self.linktype
    }

    /// Compile and install a kernel BPF filter.
    pub fn set_filter(&mut self, expr: &str) -> Result<(), CaptureError> {
        self.cap
            .filter(expr, true)
            .map_err(|e| CaptureError::Filter {
                expr: expr.to_owned(),
                message: pcap_msg(&e),
            })
    }

    /// The next packet if one is ready now (non-blocking), else `None`: then call
    /// [`Live::wait`].
    pub fn try_next(&mut self) -> Result<Option<Record<'_>>, CaptureError> {
        let lt = self.linktype;
        let scale = self.ts_scale;
        match self.cap.next_packet() {
            Ok(p) => Ok(Some(record(&p, lt, scale))),
            Err(pcap::Error::TimeoutExpired) => Ok(None),
            Err(e) => Err(CaptureError::Live {
                device: self.device.clone(),
                message: pcap_msg(&e),
            }),
        }
    }

    /// Hand every packet that is ready now (up to `max`) to `f`, in one libpcap call per
    /// kernel block (`pcap_dispatch`): the cheap path for high rates. Returns how many were
    /// handled; 0 means nothing was ready: then call [`Live::wait`].
    pub fn dispatch(
        &mut self,
        max: Option<usize>,
        mut f: impl FnMut(Record<'_>),
    ) -> Result<usize, CaptureError> {
        let lt = self.linktype;
        let scale = self.ts_scale;
        self.cap
            .dispatch(max, |p| f(record(&p, lt, scale)))
            .map_err(|e| CaptureError::Live {
                device: self.device.clone(),
                message: pcap_msg(&e),
            })
    }

    /// Wait until packets may be ready or `wait` passes; a signal ends the wait early.
    pub fn wait(&self, wait: Duration) -> Result<(), CaptureError> {
        wait_readable(&[self.cap.as_raw_fd()], Some(wait))?;
        Ok(())
    }

    /// The capture's file descriptor, to wait on several captures at once ([`wait_readable`]).
    pub fn fd(&self) -> std::os::fd::RawFd {
        self.cap.as_raw_fd()
    }

    /// Send one whole link-layer frame out of the interface (`pcap_sendpacket`).
    pub fn send(&mut self, frame: &[u8]) -> Result<(), CaptureError> {
        self.cap.sendpacket(frame).map_err(|e| CaptureError::Live {
            device: self.device.clone(),
            message: pcap_msg(&e),
        })
    }

    /// Kernel counters so far.
    pub fn stats(&mut self) -> Result<Stats, CaptureError> {
        let s = self.cap.stats().map_err(|e| CaptureError::Live {
            device: self.device.clone(),
            message: pcap_msg(&e),
        })?;
        Ok(Stats {
            received: s.received,
            dropped: s.dropped,
            if_dropped: s.if_dropped,
        })
    }
}

/// Wait until one of `fds` is readable or `timeout` passes (`None`: no limit), with
/// nanosecond resolution (`ppoll`, not poll's milliseconds: linkem sends frames when they are
/// due to a fraction of a millisecond). Returns which fds are readable; a signal ends the wait
/// early with none readable.
#[allow(unsafe_code)]
pub fn wait_readable(
    fds: &[std::os::fd::RawFd],
    timeout: Option<Duration>,
) -> io::Result<Vec<bool>> {
    let mut pfds: Vec<libc::pollfd> = fds
        .iter()
        .map(|&fd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    let ts = timeout.map(|t| libc::timespec {
        tv_sec: t.as_secs().min(i32::MAX as u64) as libc::time_t,
        tv_nsec: libc::c_long::from(t.subsec_nanos() as i32),
    });
    let ts_ptr = ts
        .as_ref()
        .map_or(std::ptr::null(), |t| t as *const libc::timespec);
    // SAFETY: `pfds` is a valid array of `pfds.len()` initialised pollfds and `ts_ptr` is null
    // or points at a timespec; both outlive the call. A null sigmask keeps the current mask.
    let rc = unsafe {
        libc::ppoll(
            pfds.as_mut_ptr(),
            pfds.len() as libc::nfds_t,
            ts_ptr,
            std::ptr::null(),
        )
    };
    if rc < 0 {
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
        return Ok(vec![false; fds.len()]);
    }
    Ok(pfds
        .iter()
        .map(|p| p.revents & (libc::POLLIN | libc::POLLERR | libc::POLLHUP) != 0)
        .collect())
}

/// Ask the kernel to wake this thread within a microsecond of its timers instead of the
/// default 50 µs slack (`PR_SET_TIMERSLACK`), for [`wait_readable`] callers that send frames
/// when they are due. Best effort: an error leaves the default.
#[allow(unsafe_code)]
pub fn tighten_timer_slack() {
    // SAFETY: PR_SET_TIMERSLACK takes one integer argument (the slack in ns) and touches no
    // memory of ours.
    let rc = unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, 1000 as libc::c_ulong, 0, 0, 0) };
    if rc != 0 {
        log::debug!("PR_SET_TIMERSLACK: {}", io::Error::last_os_error());
    }
}

/// Run this thread under the real-time FIFO policy at `priority` (1–99), so that it wakes the
/// moment its timer or a packet is due even on a busy machine. Needs CAP_SYS_NICE (root);
/// the error says when it is refused.
#[allow(unsafe_code)]
pub fn realtime_priority(priority: i32) -> io::Result<()> {
    let param = libc::sched_param {
        sched_priority: priority,
    };
    // SAFETY: `param` is a valid sched_param that outlives the call; pid 0 is this thread.
    let rc = unsafe { libc::sched_setscheduler(0, libc::SCHED_FIFO, &param) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Interfaces as libpcap lists them: name, description, addresses, flags.
pub fn list_devices() -> Result<Vec<pcap::Device>, CaptureError> {
    pcap::Device::list().map_err(|e| CaptureError::Live {
        device: "(list)".into(),
        message: pcap_msg(&e),
    })
}

/// Interface name for an ifindex (from /sys; no syscalls, no unsafe).
pub fn ifname(index: u32) -> Option<String> {
    let dir = std::fs::read_dir("/sys/class/net").ok()?;
    for e in dir.flatten() {
        let p = e.path().join("ifindex");
        if let Ok(s) = std::fs::read_to_string(&p)
            && s.trim().parse::<u32>().ok() == Some(index)
        {
            return Some(e.file_name().to_string_lossy().into_owned());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::privilege_hint_for;

    #[test]
    fn privilege_hint_names_the_group_under_the_package_else_setcap() {
        let h = privilege_hint_for(Some("netlab"), Some("bob"), "/usr/lib/netlab/sniff");
        assert!(h.contains("members of group netlab"), "{h}");
        assert!(h.contains("sudo usermod -aG netlab bob"), "{h}");
        assert!(!h.contains("setcap"), "{h}");
        let h = privilege_hint_for(Some("netlab"), None, "/usr/lib/netlab/sniff");
        assert!(h.contains("sudo usermod -aG netlab $USER"), "{h}");
        for group in [None, Some("")] {
            let h = privilege_hint_for(group, Some("bob"), "/home/bob/.cargo/bin/sniff");
            assert!(
                h.ends_with("sudo setcap cap_net_raw,cap_net_admin=eip /home/bob/.cargo/bin/sniff"),
                "{h}"
            );
        }
    }
}
