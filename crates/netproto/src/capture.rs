//! Reading and writing captures (pcap/pcapng files, stdin/stdout, live) shared by sniff and
//! tcpstat.
//!
//! - [`Reader`] streams records from a pcap or pcapng file, or from stdin when the path is
//!   `-` (libpcap reads stdin itself, record by record: a pipe is never slurped).
//! - [`Writer`] writes a classic microsecond pcap file (what tcpdump, tshark and Wireshark
//!   read everywhere), to stdout when the path is `-`, through a 1 MiB buffer: nothing is
//!   flushed per packet unless asked ([`Writer::flush`]).
//! - [`Live`] captures from an interface (`any` by default) in non-blocking mode and waits
//!   with `poll(2)`, because libpcap's read timeout never fires on Linux when no packet
//!   arrives: that is what makes `--timeout` and signals work.
//!
//! Every source yields [`Record`]s: timestamp, captured and wire length, link type, bytes.

use std::io;
use std::os::fd::AsRawFd;
use std::time::Duration;

use pcap::{Active, Capture, Linktype, Offline, Packet, Precision};

use crate::frame::linktype;

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
    /// The capture's link type ([`crate::frame::linktype`]).
    pub linktype: u32,
    pub data: &'a [u8],
}

impl<'a> Record<'a> {
    /// Decode the frame (see [`crate::frame::decode`]).
    pub fn decode(&self) -> Result<crate::frame::Frame<'a>, crate::frame::FrameError> {
        crate::frame::decode(self.linktype, self.data)
    }
}

/// Capture errors, with the cause a user can act on.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("cannot read capture {path}: {message}")]
    Open { path: String, message: String },
    #[error("cannot write capture {path}: {message}")]
    Create { path: String, message: String },
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
    #[error("link type {0} is not supported")]
    LinkType(u32),
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
pub struct Reader {
    cap: Capture<Offline>,
    linktype: u32,
    path: String,
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader")
            .field("path", &self.path)
            .field("linktype", &self.linktype)
            .finish()
    }
}

impl Reader {
    /// Open `path` (`-` = stdin). Timestamps keep nanosecond precision when the file has it.
    pub fn open(path: &str) -> Result<Reader, CaptureError> {
        let name = shown(path, "standard input");
        // libpcap itself treats "-" as stdin and reads it incrementally.
        let cap = Capture::from_file_with_precision(path, Precision::Nano).map_err(|e| {
            let mut message = pcap_msg(&e);
            if path == "-" && message.contains("only got 0") {
                message = "empty input (did the writer fail?)".into();
            }
            CaptureError::Open {
                path: name.clone(),
                message,
            }
        })?;
        let linktype = cap.get_datalink().0 as u32;
        Ok(Reader {
            cap,
            linktype,
            path: name,
        })
    }

    /// The file's link type.
    pub fn linktype(&self) -> u32 {
        self.linktype
    }

    /// Apply a BPF filter (compiled by libpcap for this link type, optimised).
    pub fn set_filter(&mut self, expr: &str) -> Result<(), CaptureError> {
        self.cap
            .filter(expr, true)
            .map_err(|e| CaptureError::Filter {
                expr: expr.to_owned(),
                message: pcap_msg(&e),
            })
    }

    /// The next record, `None` at the end. A file cut mid-record is an error naming the file.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Option<Record<'_>>, CaptureError> {
        match self.cap.next_packet() {
            Ok(p) => Ok(Some(record(&p, self.linktype, 1))),
            Err(pcap::Error::NoMorePackets) => Ok(None),
            Err(e) => Err(CaptureError::Read {
                path: self.path.clone(),
                message: pcap_msg(&e),
            }),
        }
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

/// Writes a classic microsecond pcap file (or stdout for `-`), the format every reader
/// understands. The format is four fixed fields per record, so we write it ourselves through a
/// 1 MiB buffer: at capture rates libpcap's stdio buffer (a `write(2)` per 4–8 KiB) costs more
/// CPU than everything else the capture does.
pub struct Writer {
    out: io::BufWriter<std::fs::File>,
    path: String,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer").field("path", &self.path).finish()
    }
}

/// Buffer of a [`Writer`].
const WRITE_BUFFER: usize = 1 << 20;

impl Writer {
    /// Create `path` (`-` = stdout) for frames of `linktype`, snapshot length 262144.
    pub fn create(path: &str, linktype: u32) -> Result<Writer, CaptureError> {
        Self::create_with_snaplen(path, linktype, 262_144)
    }

    /// Create `path` (`-` = stdout) with the given snapshot length in the file header.
    pub fn create_with_snaplen(
        path: &str,
        linktype: u32,
        snaplen: u32,
    ) -> Result<Writer, CaptureError> {
        let name = shown(path, "standard output");
        let err = |e: io::Error| CaptureError::Create {
            path: name.clone(),
            message: e.to_string(),
        };
        let file = if path == "-" {
            // A duplicate of fd 1 as a File: stdout's own handle is line-buffered, which would
            // flush at every 0x0a byte of binary data.
            use std::os::fd::AsFd;
            let fd = io::stdout().as_fd().try_clone_to_owned().map_err(err)?;
            std::fs::File::from(fd)
        } else {
            std::fs::File::create(path).map_err(err)?
        };
        let mut out = io::BufWriter::with_capacity(WRITE_BUFFER, file);
        let mut h = [0u8; 24];
        h[0..4].copy_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        h[4..6].copy_from_slice(&2u16.to_le_bytes());
        h[6..8].copy_from_slice(&4u16.to_le_bytes());
        h[16..20].copy_from_slice(&snaplen.to_le_bytes());
        h[20..24].copy_from_slice(&linktype.to_le_bytes());
        io::Write::write_all(&mut out, &h).map_err(err)?;
        Ok(Writer { out, path: name })
    }

    /// Write one record (the timestamp is cut to microseconds).
    pub fn write(&mut self, r: &Record<'_>) -> io::Result<()> {
        let mut h = [0u8; 16];
        h[0..4].copy_from_slice(&(r.ts.sec as u32).to_le_bytes());
        h[4..8].copy_from_slice(&r.ts.usec().to_le_bytes());
        let caplen = r.data.len() as u32;
        h[8..12].copy_from_slice(&caplen.to_le_bytes());
        h[12..16].copy_from_slice(&r.len.max(caplen).to_le_bytes());
        io::Write::write_all(&mut self.out, &h)?;
        io::Write::write_all(&mut self.out, r.data)
    }

    /// Push buffered records to the file or pipe.
    pub fn flush(&mut self) -> io::Result<()> {
        io::Write::flush(&mut self.out)
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
        let dev = opts.device.as_str();
        let cap = Capture::from_device(dev)
            .map_err(|e| classify_open_error(dev, e))?
            .snaplen(opts.snaplen)
            .promisc(opts.promisc)
            .buffer_size(opts.buffer_kib.saturating_mul(1024))
            .immediate_mode(opts.immediate)
            .precision(Precision::Micro)
            .timeout(100);
        let mut cap = cap.open().map_err(|e| classify_open_error(dev, e))?;
        if dev == "any" {
            // Older kernels/libpcap may lack SLL2: SLL v1 still decodes.
            let _ = cap.set_datalink(Linktype(linktype::LINUX_SLL2 as i32));
        }
        let cap = cap.setnonblock().map_err(|e| classify_open_error(dev, e))?;
        let linktype = cap.get_datalink().0 as u32;
        Ok(Live {
            cap,
            linktype,
            device: dev.to_owned(),
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
        match self.cap.next_packet() {
            Ok(p) => Ok(Some(record(&p, lt, 1000))),
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
        self.cap
            .dispatch(max, |p| f(record(&p, lt, 1000)))
            .map_err(|e| CaptureError::Live {
                device: self.device.clone(),
                message: pcap_msg(&e),
            })
    }

    /// Wait until packets may be ready or `wait` passes; a signal ends the wait early.
    pub fn wait(&self, wait: Duration) -> Result<(), CaptureError> {
        poll_readable(self.cap.as_raw_fd(), wait)?;
        Ok(())
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

/// Wait until `fd` is readable or `wait` passes; a signal ends the wait early (Ok).
#[allow(unsafe_code)]
fn poll_readable(fd: i32, wait: Duration) -> io::Result<()> {
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    let ms = wait.as_millis().min(i32::MAX as u128) as i32;
    // SAFETY: `pfd` is a valid, initialised pollfd that lives across the call, and we pass
    // exactly one entry.
    let rc = unsafe { libc::poll(&mut pfd, 1, ms) };
    if rc < 0 {
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
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
