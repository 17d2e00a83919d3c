//! `follow`: the reassembled byte stream of one connection, in sequence order, each byte once.
//!
//! Only out-of-order data is buffered; what is in order is written as soon as it arrives.
//! Bytes the capture does not hold (never captured, or cut by the snapshot length) are
//! reported as gaps. `--detect` names the content: HTTP messages and file magic numbers.

use std::collections::BTreeMap;
use std::io::Write;

use serde_json::json;

use crate::analysis::{Analyzer, Eviction, TcpSample};
use crate::input::{self, Flow};
use crate::{DirArg, FollowArgs, Format};

/// Out-of-order data beyond this is given up as a gap (bounded memory).
const MAX_OOO: usize = 64 << 20;
/// How much of each direction `--detect` looks at.
const DETECT_HEAD: usize = 1 << 20;

/// One direction's reassembly.
#[derive(Default)]
pub struct Reasm {
    base: Option<u32>,
    /// Next expected offset (relative to `base`).
    next: u64,
    ooo: BTreeMap<u64, (u64, Vec<u8>)>,
    ooo_bytes: usize,
    pub delivered: u64,
    pub gaps: Vec<(u64, u64, u64)>,
    pub dup_bytes: u64,
    /// Write tshark's marker `[N bytes missing in capture file]` (NUL-terminated) at each hole
    /// between captured segments.
    pub mark_gaps: bool,
}

fn marker(len: u64) -> Vec<u8> {
    let mut m = format!("[{len} bytes missing in capture file]").into_bytes();
    m.push(0);
    m
}

impl Reasm {
    /// Offer a segment; `emit(frame, bytes)` receives in-order data.
    pub fn push(
        &mut self,
        frame: u64,
        s: &TcpSample<'_>,
        emit: &mut dyn FnMut(u64, &[u8]) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        let data_seq = if s.flags.syn() {
            s.seq.wrapping_add(1)
        } else {
            s.seq
        };
        let base = *self.base.get_or_insert(data_seq);
        if s.payload_len == 0 {
            return Ok(());
        }
        let off = data_seq.wrapping_sub(base) as u64;
        let mut data = s.payload;
        let missing_tail = (s.payload_len as u64).saturating_sub(data.len() as u64);
        let end = off + data.len() as u64;
        if end <= self.next && missing_tail == 0 {
            self.dup_bytes += data.len() as u64;
            return Ok(());
        }
        if off > self.next {
            if self.ooo_bytes + data.len() > MAX_OOO {
                self.flush_gaps(emit)?;
            }
            let e = self.ooo.entry(off).or_insert((frame, Vec::new()));
            if data.len() > e.1.len() {
                self.ooo_bytes += data.len() - e.1.len();
                e.1 = data.to_vec();
                e.0 = frame;
            }
            if missing_tail > 0 {
                // Cut by the snapshot length: that part will never come.
                self.gaps.push((frame, end, missing_tail));
            }
            return Ok(());
        }
        let skip = (self.next - off) as usize;
        if skip < data.len() {
            self.dup_bytes += skip as u64;
            data = &data[skip..];
            self.next += data.len() as u64;
            self.delivered += data.len() as u64;
            emit(frame, data)?;
        }
        if missing_tail > 0 && off + s.payload_len as u64 > self.next {
            let lost = off + s.payload_len as u64 - self.next;
            // tshark writes no marker for bytes cut by the snapshot length either.
            self.gaps.push((frame, self.next, lost));
            self.next += lost;
        }
        self.drain(emit)
    }

    fn drain(
        &mut self,
        emit: &mut dyn FnMut(u64, &[u8]) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        while let Some((&off, _)) = self.ooo.first_key_value() {
            if off > self.next {
                break;
            }
            let Some((_, (frame, data))) = self.ooo.pop_first() else {
                break;
            };
            self.ooo_bytes -= data.len();
            let end = off + data.len() as u64;
            if end <= self.next {
                self.dup_bytes += data.len() as u64;
                continue;
            }
            let d = &data[(self.next - off) as usize..];
            self.next = end;
            self.delivered += d.len() as u64;
            emit(frame, d)?;
        }
        Ok(())
    }

    /// At the end (or when the buffer is full): skip each hole, reporting it as a gap.
    pub fn flush_gaps(
        &mut self,
        emit: &mut dyn FnMut(u64, &[u8]) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        while let Some((&off, (frame, _))) = self.ooo.first_key_value() {
            if off > self.next {
                let (frame, lost) = (*frame, off - self.next);
                self.gaps.push((frame, self.next, lost));
                self.next = off;
                if self.mark_gaps {
                    emit(frame, &marker(lost))?;
                }
            }
            self.drain(emit)?;
        }
        Ok(())
    }
}

/// What `--detect` found in one direction.
pub fn detect(head: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = head;
    let mut guard = 0;
    while !rest.is_empty() && guard < 64 {
        guard += 1;
        let mut hdrs = [httparse::EMPTY_HEADER; 64];
        let mut req = httparse::Request::new(&mut hdrs);
        if let Ok(httparse::Status::Complete(n)) = req.parse(rest) {
            let host = header(req.headers, "host").unwrap_or_default();
            let clen = header(req.headers, "content-length")
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            found.push(format!(
                "HTTP request: {} {} (Host: {host})",
                req.method.unwrap_or("?"),
                req.path.unwrap_or("?")
            ));
            rest = &rest[(n + clen).min(rest.len())..];
            continue;
        }
        let mut hdrs = [httparse::EMPTY_HEADER; 64];
        let mut resp = httparse::Response::new(&mut hdrs);
        if let Ok(httparse::Status::Complete(n)) = resp.parse(rest) {
            let ctype = header(resp.headers, "content-type").unwrap_or_else(|| "-".into());
            let clen =
                header(resp.headers, "content-length").and_then(|v| v.trim().parse::<usize>().ok());
            let body = &rest[n..];
            let magic = magic(body)
                .map(|m| format!(", body starts as {m}"))
                .unwrap_or_default();
            found.push(format!(
                "HTTP response: {} {} (Content-Type: {ctype}, Content-Length: {}){magic}",
                resp.code.unwrap_or(0),
                resp.reason.unwrap_or(""),
                clen.map(|c| c.to_string()).unwrap_or_else(|| "-".into())
            ));
            match clen {
                Some(c) => rest = &rest[(n + c).min(rest.len())..],
                None => break,
            }
            continue;
        }
        if found.is_empty() {
            match magic(rest) {
                Some(m) => found.push(format!("file: {m}")),
                None => {
                    let printable = rest
                        .iter()
                        .take(512)
                        .filter(|b| b.is_ascii_graphic() || b.is_ascii_whitespace())
                        .count();
                    let n = rest.len().min(512);
                    if printable * 10 >= n * 9 {
                        let line: String = String::from_utf8_lossy(&rest[..n])
                            .lines()
                            .next()
                            .unwrap_or("")
                            .chars()
                            .take(60)
                            .collect();
                        found.push(format!("text, first line: {line:?}"));
                    } else {
                        found.push("binary data (no known magic number)".into());
                    }
                }
            }
        }
        break;
    }
    found
}

fn header(h: &[httparse::Header<'_>], name: &str) -> Option<String> {
    h.iter()
        .find(|x| x.name.eq_ignore_ascii_case(name))
        .map(|x| String::from_utf8_lossy(x.value).into_owned())
}

/// File type from its first bytes.
pub fn magic(b: &[u8]) -> Option<&'static str> {
    const M: &[(&[u8], &str)] = &[
        (b"\x89PNG\r\n\x1a\n", "PNG image"),
        (b"\xff\xd8\xff", "JPEG image"),
        (b"GIF87a", "GIF image"),
        (b"GIF89a", "GIF image"),
        (b"%PDF-", "PDF document"),
        (b"PK\x03\x04", "ZIP archive (or docx/xlsx/jar)"),
        (b"\x1f\x8b", "gzip data"),
        (b"BZh", "bzip2 data"),
        (b"\xfd7zXZ\x00", "xz data"),
        (b"\x7fELF", "ELF executable"),
        (b"MZ", "DOS/Windows executable"),
        (b"\xd0\xcf\x11\xe0", "MS Office (OLE) document"),
        (b"ID3", "MP3 audio"),
        (b"OggS", "Ogg media"),
        (b"RIFF", "RIFF (WAV/AVI/WebP)"),
        (b"<!DOCTYPE html", "HTML document"),
        (b"<!doctype html", "HTML document"),
        (b"<html", "HTML document"),
        (b"<?xml", "XML document"),
        (b"{\\rtf", "RTF document"),
        (b"\x00\x00\x01\x00", "ICO icon"),
    ];
    M.iter().find(|(m, _)| b.starts_with(m)).map(|(_, n)| *n)
}

pub fn run(
    file: &str,
    n: u32,
    a: &FollowArgs,
    evict: Eviction,
    fmt: Format,
    stdout: &mut impl Write,
) -> anyhow::Result<()> {
    let mut file_out: Option<std::io::BufWriter<std::fs::File>> = match &a.output {
        Some(p) => Some(std::io::BufWriter::new(
            std::fs::File::create(p).map_err(|e| anyhow::anyhow!("cannot create {p}: {e}"))?,
        )),
        None => None,
    };
    let mut an = Analyzer::evicting(Eviction {
        keep: Some(n),
        ..evict
    })
    .discarding_rows();
    let mut re = [Reasm::default(), Reasm::default()];
    for r in &mut re {
        r.mark_gaps = a.mark_gaps;
    }
    let mut heads: [Vec<u8>; 2] = [Vec::new(), Vec::new()];
    let mut found = false;
    let mut endpoints = None;
    let mut last_dir = None;
    let want = |d: usize| match a.dir {
        DirArg::Client => d == 0,
        DirArg::Server => d == 1,
        DirArg::Both => true,
    };
    // With --detect and no -o, only the description is printed.
    let write_stream = !(a.detect && a.output.is_none());
    let st = input::for_each_tcp(file, |s| {
        let info = an.handle(s);
        if info.conn != n {
            return Ok(Flow::Continue);
        }
        found = true;
        let c = &an.conns[n as usize];
        endpoints.get_or_insert((c.client, c.server));
        let d = info.dir;
        let head = &mut heads[d];
        let out: &mut dyn Write = match file_out.as_mut() {
            Some(f) => f,
            None => stdout,
        };
        let mut emit = |frame: u64, bytes: &[u8]| -> std::io::Result<()> {
            if head.len() < DETECT_HEAD {
                let k = (DETECT_HEAD - head.len()).min(bytes.len());
                head.extend_from_slice(&bytes[..k]);
            }
            if !want(d) || !write_stream {
                return Ok(());
            }
            if a.dir == DirArg::Both {
                match fmt {
                    Format::Json => {
                        let r = json!({"type": "data", "dir": if d == 0 { "c2s" } else { "s2c" },
                            "frame": frame, "len": bytes.len(), "text": String::from_utf8_lossy(bytes)});
                        writeln!(out, "{r}")?;
                    }
                    _ => {
                        if last_dir != Some(d) {
                            let arrow = if d == 0 {
                                ">>> client -> server"
                            } else {
                                "<<< server -> client"
                            };
                            writeln!(out, "\n{arrow} (frame {frame})")?;
                            last_dir = Some(d);
                        }
                        out.write_all(&String::from_utf8_lossy(bytes).into_owned().into_bytes())?;
                    }
                }
                Ok(())
            } else {
                out.write_all(bytes)
            }
        };
        re[d].push(s.frame, s, &mut emit)?;
        Ok(Flow::Continue)
    })?;
    if !found {
        st.check()?;
        return Err(crate::report::no_connection(file, n, an.conns.len()));
    }
    for d in 0..2 {
        let head = &mut heads[d];
        let out: &mut dyn Write = match file_out.as_mut() {
            Some(f) => f,
            None => stdout,
        };
        let mut emit = |_f: u64, bytes: &[u8]| -> std::io::Result<()> {
            if head.len() < DETECT_HEAD {
                let k = (DETECT_HEAD - head.len()).min(bytes.len());
                head.extend_from_slice(&bytes[..k]);
            }
            if want(d) && write_stream {
                out.write_all(bytes)?;
            }
            Ok(())
        };
        re[d].flush_gaps(&mut emit)?;
    }
    if let Some(f) = file_out.as_mut() {
        f.flush()?;
    }
    let (cl, sv) = endpoints.unwrap_or_else(unreachable_pair);
    for (d, name) in [(0usize, "client"), (1, "server")] {
        let r = &re[d];
        let who = if d == 0 {
            format!("{cl} -> {sv}")
        } else {
            format!("{sv} -> {cl}")
        };
        log::info!(
            "{name} ({who}): {} bytes reassembled, {} bytes sent more than once, {} gap(s)",
            r.delivered,
            r.dup_bytes,
            r.gaps.len()
        );
        for (frame, off, len) in r.gaps.iter().take(20) {
            log::warn!(
                "{name}: gap of {len} bytes at stream offset {off} (near frame {frame}): not in the capture"
            );
        }
    }
    if a.detect {
        for (d, name) in [(0usize, "client"), (1, "server")] {
            if !want(d) && a.dir != DirArg::Both {
                continue;
            }
            let what = detect(&heads[d]);
            match fmt {
                Format::Json => writeln!(
                    stdout,
                    "{}",
                    json!({"type": "detect", "dir": name, "bytes": re[d].delivered, "gaps": re[d].gaps.len(), "found": what})
                )?,
                _ => {
                    writeln!(
                        stdout,
                        "{name} -> {} ({} bytes, {} gaps):",
                        if d == 0 { "server" } else { "client" },
                        re[d].delivered,
                        re[d].gaps.len()
                    )?;
                    if what.is_empty() {
                        writeln!(stdout, "  (no data)")?;
                    }
                    for w in what {
                        writeln!(stdout, "  {w}")?;
                    }
                }
            }
        }
    }
    stdout.flush()?;
    st.check()
}

fn unreachable_pair() -> (std::net::SocketAddr, std::net::SocketAddr) {
    let z = std::net::SocketAddr::from(([0, 0, 0, 0], 0));
    (z, z)
}
