//! Writing captures: classic pcap with microsecond or nanosecond stamps, or pcapng with named
//! interfaces and a comment per packet.
//!
//! All three formats are a header and fixed-layout records, so they are written here through
//! a 1 MiB buffer: at capture rates libpcap's stdio buffer (a `write(2)` per 4–8 KiB) costs
//! more CPU than everything else the capture does. The writer counts the bytes it has written
//! (what tcpdump's `-C` compares with `ftell`).

use std::io::{self, Write};

use netproto::frame::linktype;

use crate::{CaptureError, Record, shown};

/// Buffer of a [`Writer`].
const WRITE_BUFFER: usize = 1 << 20;

/// The file format to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Classic pcap, microsecond stamps (magic 0xa1b2c3d4): what every reader understands.
    #[default]
    Pcap,
    /// Classic pcap, nanosecond stamps (magic 0xa1b23c4d), as `tcpdump
    /// --time-stamp-precision nano -w`.
    PcapNano,
    /// pcapng: interface names and descriptions, a comment per packet; stamps in `nano`
    /// resolution when asked, else microseconds.
    Pcapng { nano: bool },
}

/// The interface a capture comes from, as a pcapng interface description block names it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Interface {
    /// `lo`, `eth0`, `any`; `None` when unknown (a file read back).
    pub name: Option<String>,
    /// libpcap's description of the interface, when it has one.
    pub description: Option<String>,
}

/// What a [`Writer`] writes: format, link type, snapshot length, the interface.
#[derive(Debug, Clone)]
pub struct Spec {
    pub format: Format,
    pub linktype: u32,
    pub snaplen: u32,
    pub interface: Interface,
}

impl Spec {
    /// A classic microsecond pcap of `linktype`, snapshot length 262144.
    pub fn pcap(linktype: u32) -> Spec {
        Spec {
            format: Format::Pcap,
            linktype,
            snaplen: 262_144,
            interface: Interface::default(),
        }
    }
}

/// Writes one capture file (or stdout for `-`) in the [`Spec`]'s format.
pub struct Writer {
    out: io::BufWriter<std::fs::File>,
    path: String,
    spec: Spec,
    /// pcapng: the link type of each interface block written so far (its index is its id).
    ifaces: Vec<u32>,
    /// Bytes written so far, headers included.
    written: u64,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer")
            .field("path", &self.path)
            .field("format", &self.spec.format)
            .finish()
    }
}

impl Writer {
    /// Create `path` (`-` = stdout): a microsecond pcap for frames of `linktype`, snapshot
    /// length 262144.
    pub fn create(path: &str, linktype: u32) -> Result<Writer, CaptureError> {
        Self::open(path, &Spec::pcap(linktype))
    }

    /// Create `path` (`-` = stdout): a microsecond pcap with the given snapshot length.
    pub fn create_with_snaplen(
        path: &str,
        linktype: u32,
        snaplen: u32,
    ) -> Result<Writer, CaptureError> {
        Self::open(
            path,
            &Spec {
                snaplen,
                ..Spec::pcap(linktype)
            },
        )
    }

    /// Create `path` (`-` = stdout) as `spec` says and write the file's header.
    pub fn open(path: &str, spec: &Spec) -> Result<Writer, CaptureError> {
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
        let mut w = Writer {
            out: io::BufWriter::with_capacity(WRITE_BUFFER, file),
            path: name.clone(),
            spec: spec.clone(),
            ifaces: Vec::new(),
            written: 0,
        };
        // Live handles report DLT values: DLT_RAW (12 here, 14 on OpenBSD) is LINKTYPE_RAW in a
        // file.
        let lt = linktype::for_file(spec.linktype);
        let header = match spec.format {
            Format::Pcap => pcap_header(0xa1b2_c3d4, spec.snaplen, lt),
            Format::PcapNano => pcap_header(0xa1b2_3c4d, spec.snaplen, lt),
            Format::Pcapng { .. } => section_header(),
        };
        w.put(&header).map_err(err)?;
        if let Format::Pcapng { .. } = spec.format {
            w.interface(lt, &spec.interface.clone()).map_err(err)?;
        }
        Ok(w)
    }

    /// Write one record; `comment` goes into a pcapng packet's `opt_comment` (a pcap file has
    /// no place for it). Microsecond formats cut the stamp to microseconds.
    pub fn write(&mut self, r: &Record<'_>, comment: Option<&str>) -> io::Result<()> {
        let caplen = r.data.len() as u32;
        let wire = r.len.max(caplen);
        let nano = match self.spec.format {
            Format::Pcap => false,
            Format::PcapNano => true,
            Format::Pcapng { nano } => return self.packet_block(r, wire, nano, comment),
        };
        let mut h = [0u8; 16];
        h[0..4].copy_from_slice(&(r.ts.sec as u32).to_le_bytes());
        let frac = if nano { r.ts.nsec } else { r.ts.usec() };
        h[4..8].copy_from_slice(&frac.to_le_bytes());
        h[8..12].copy_from_slice(&caplen.to_le_bytes());
        h[12..16].copy_from_slice(&wire.to_le_bytes());
        self.put(&h)?;
        self.put(r.data)
    }

    /// Bytes written to this file so far (buffered ones included), headers too.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Push buffered records to the file or pipe.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    fn put(&mut self, b: &[u8]) -> io::Result<()> {
        self.written += b.len() as u64;
        self.out.write_all(b)
    }

    /// A pcapng interface description block for `lt` (its id is the next index).
    fn interface(&mut self, lt: u32, i: &Interface) -> io::Result<()> {
        let mut body = Vec::with_capacity(64);
        body.extend_from_slice(&(lt as u16).to_le_bytes());
        body.extend_from_slice(&[0, 0]);
        body.extend_from_slice(&self.spec.snaplen.to_le_bytes());
        if let Some(n) = &i.name {
            option(&mut body, 2, n.as_bytes());
        }
        if let Some(d) = &i.description {
            option(&mut body, 3, d.as_bytes());
        }
        if matches!(self.spec.format, Format::Pcapng { nano: true }) {
            // if_tsresol: 10^-9 s.
            option(&mut body, 9, &[9]);
        }
        end_options(&mut body);
        self.ifaces.push(lt);
        self.put(&block(1, &body))
    }

    /// A pcapng enhanced packet block, on the interface of the record's link type (a file
    /// read back may mix link types: each new one gets an unnamed interface).
    fn packet_block(
        &mut self,
        r: &Record<'_>,
        wire: u32,
        nano: bool,
        comment: Option<&str>,
    ) -> io::Result<()> {
        let lt = linktype::for_file(r.linktype);
        let id = match self.ifaces.iter().position(|&l| l == lt) {
            Some(i) => i,
            None => {
                self.interface(lt, &Interface::default())?;
                self.ifaces.len() - 1
            }
        };
        let ticks = r.ts.sec as u64 * if nano { 1_000_000_000 } else { 1_000_000 }
            + u64::from(if nano { r.ts.nsec } else { r.ts.usec() });
        let pad = pad4(r.data.len());
        let mut opts = Vec::new();
        if let Some(c) = comment {
            option(&mut opts, 1, c.as_bytes());
            end_options(&mut opts);
        }
        let total = (32 + r.data.len() + pad + opts.len()) as u32;
        let mut h = [0u8; 28];
        h[0..4].copy_from_slice(&6u32.to_le_bytes());
        h[4..8].copy_from_slice(&total.to_le_bytes());
        h[8..12].copy_from_slice(&(id as u32).to_le_bytes());
        h[12..16].copy_from_slice(&((ticks >> 32) as u32).to_le_bytes());
        h[16..20].copy_from_slice(&(ticks as u32).to_le_bytes());
        h[20..24].copy_from_slice(&(r.data.len() as u32).to_le_bytes());
        h[24..28].copy_from_slice(&wire.to_le_bytes());
        self.put(&h)?;
        self.put(r.data)?;
        self.put(&[0; 3][..pad])?;
        self.put(&opts)?;
        self.put(&total.to_le_bytes())
    }
}

fn pcap_header(magic: u32, snaplen: u32, lt: u32) -> Vec<u8> {
    let mut h = vec![0u8; 24];
    h[0..4].copy_from_slice(&magic.to_le_bytes());
    h[4..6].copy_from_slice(&2u16.to_le_bytes());
    h[6..8].copy_from_slice(&4u16.to_le_bytes());
    h[16..20].copy_from_slice(&snaplen.to_le_bytes());
    h[20..24].copy_from_slice(&lt.to_le_bytes());
    h
}

/// A pcapng section header block: version 1.0, length unknown, the writing application named.
fn section_header() -> Vec<u8> {
    let mut body = Vec::with_capacity(48);
    body.extend_from_slice(&0x1a2b_3c4du32.to_le_bytes());
    body.extend_from_slice(&1u16.to_le_bytes());
    body.extend_from_slice(&0u16.to_le_bytes());
    body.extend_from_slice(&(-1i64).to_le_bytes());
    let app = concat!("netlab sniff ", env!("CARGO_PKG_VERSION"));
    option(&mut body, 4, app.as_bytes());
    end_options(&mut body);
    block(0x0a0d_0d0a, &body)
}

/// A pcapng block: type, total length, body (already padded), total length.
fn block(ty: u32, body: &[u8]) -> Vec<u8> {
    let total = (12 + body.len()) as u32;
    let mut b = Vec::with_capacity(total as usize);
    b.extend_from_slice(&ty.to_le_bytes());
    b.extend_from_slice(&total.to_le_bytes());
    b.extend_from_slice(body);
    b.extend_from_slice(&total.to_le_bytes());
    b
}

/// One pcapng option: code, length, value padded to 32 bits. Values longer than an option
/// can hold are cut (no name or comment comes near 64 KiB).
fn option(out: &mut Vec<u8>, code: u16, value: &[u8]) {
    let value = &value[..value.len().min(0xfff0)];
    out.extend_from_slice(&code.to_le_bytes());
    out.extend_from_slice(&(value.len() as u16).to_le_bytes());
    out.extend_from_slice(value);
    out.extend_from_slice(&[0; 3][..pad4(value.len())]);
}

fn end_options(out: &mut Vec<u8>) {
    out.extend_from_slice(&[0; 4]);
}

fn pad4(n: usize) -> usize {
    (4 - n % 4) % 4
}
