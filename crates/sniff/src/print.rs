//! The printer dispatch: each packet to the chosen style (tcpdump line, scapy summary, NDJSON,
//! dissection, hex dump), or drawn as an SVG layer diagram (--diagram).

use std::io::{IsTerminal, Write};

use anyhow::{Context, Result};
use netcap::{Record, Stats};
use netcli::Exit;
use netproto::frame;

use crate::args::Args;
use crate::{diagram, dissect, line, out};

/// Where packets go: stdout text (in one of the styles) or nothing (only -w).
pub struct Printer {
    args_json: bool,
    summary: bool,
    verbose: bool,
    hex: u8,
    ascii: bool,
    /// -A: the packet as text.
    ascii_only: bool,
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
    pub fn new(a: &Args, device: Option<String>) -> Printer {
        let stdout = std::io::stdout();
        let enabled = (a.write.is_none() || a.print) && a.diagram.is_none();
        Printer {
            args_json: a.json,
            summary: a.summary,
            verbose: a.verbose,
            hex: a.hex.max(a.hex_ascii),
            ascii: a.hex_ascii > 0,
            ascii_only: a.ascii,
            enabled,
            flush_each: a.line_buffered || stdout.is_terminal(),
            lines: {
                let mut l = line::LinePrinter::new(a.absolute);
                l.ts_mode = a.ts_mode;
                l.nano = a.ts_precision == "nano";
                l.link_header = a.link_header;
                l
            },
            buf: Vec::with_capacity(1 << 17),
            out: stdout,
            device,
            packets: 0,
            bytes: 0,
            truncated: 0,
            undecoded: 0,
        }
    }

    /// Print packet `n`; `att` is what --process found for it (see [`crate::procs`]).
    pub fn packet(
        &mut self,
        n: u64,
        r: &Record<'_>,
        att: Option<crate::procs::Attribution>,
    ) -> Result<()> {
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
                let _ = writeln!(self.buf, "[{e}], length {}", r.len);
                return self.maybe_flush();
            }
        };
        if f.truncated() {
            self.truncated += 1;
        }
        if f.issue().is_some() {
            self.undecoded += 1;
        }
        self.lines.attribution = att;
        if self.args_json {
            let iface = match f.ifindex() {
                Some(i) => Some(self.lines.ifname(i).to_owned()),
                None => self.device.clone(),
            };
            let mut j = out::json_packet(n, r, &f, iface);
            if let Some(a) = &self.lines.attribution {
                let v = |o: &Option<crate::procs::Owner>| {
                    o.as_ref()
                        .map(|o| serde_json::json!({"pid": o.pid, "comm": o.comm}))
                };
                j.src_process = v(&a.src);
                j.dst_process = v(&a.dst);
            }
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
        if self.ascii_only {
            let from = network_offset(&f);
            out::ascii(&mut self.buf, r.data.get(from..).unwrap_or(&[]));
        }
        if self.hex > 0 {
            let from = if self.hex >= 2 { 0 } else { network_offset(&f) };
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

    /// Whether packets are printed at all (not with only -w or --diagram).
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    pub fn flush(&mut self) -> Result<()> {
        if !self.buf.is_empty() {
            let mut o = self.out.lock();
            o.write_all(&self.buf)?;
            o.flush()?;
            self.buf.clear();
        }
        Ok(())
    }

    /// The final JSON summary record and flush.
    pub fn finish(&mut self, stats: Option<Stats>) -> Result<()> {
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

/// Where tcpdump's -x and -A start: the network header (after an 802.2 LLC header, the
/// protocol it carries, e.g. the STP BPDU).
fn network_offset(f: &frame::Frame<'_>) -> usize {
    if let Some(o) = f.ip_offset() {
        return o;
    }
    let layers = f.layers();
    if let Some(i) = layers.iter().position(|l| l.kind == frame::LayerKind::Llc) {
        return layers
            .get(i + 1)
            .map_or_else(|| layers[i].offset + layers[i].len, |l| l.offset);
    }
    layers.get(1).map_or(0, |l| l.offset)
}

/// With --diagram, write packet `n`'s layers as SVG into the file.
pub fn draw(args: &Args, n: u64, r: &Record<'_>) -> Result<()> {
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
                // UDP to the ports of DNS, DHCP, NTP, RIP, RIPng; an ICMP error; TCP to DNS.
                vec![0x45, 0, 0, 80, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, 0, 53, 0, 53, 0, 60, 0, 0],
                vec![0x45, 0, 0, 80, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, 0, 68, 0, 67, 0, 60, 0, 0],
                vec![0x45, 0, 0, 80, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, 0, 123, 2, 8, 0, 60, 0, 0],
                vec![0x45, 0, 0, 80, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, 2, 9, 2, 8, 0, 60, 0, 0],
                vec![0x45, 0, 0, 80, 0, 0, 0, 0, 64, 1, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, 3, 3, 0, 0, 0, 0, 0, 0, 0x45],
                vec![0x45, 0, 0, 80, 0, 0, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, 0, 53, 0, 53, 0, 0, 0, 0, 0, 0, 0, 0, 0x50, 0x18, 0, 1, 0, 0, 0, 0],
                // TCP to 8080 with a request line, to 443 with the start of a ClientHello.
                vec![0x45, 0, 0, 80, 0, 0, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, 0x9c, 0x40, 0x1f, 0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0x50, 0x18, 0, 1, 0, 0, 0, 0, b'G', b'E', b'T', b' '],
                vec![0x45, 0, 0, 80, 0, 0, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, 0x9c, 0x40, 1, 0xbb, 0, 0, 0, 0, 0, 0, 0, 0, 0x50, 0x18, 0, 1, 0, 0, 0, 0, 22, 3, 1, 0, 80, 1, 0, 0, 76, 3, 3],
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
