//! Reading one HTTP/1.x response from a byte stream: the head with `httparse`, then the body
//! framed by `Content-Length`, chunked encoding (`httparse::parse_chunk_size`) or the close.

use std::time::Instant;

/// Largest response head accepted.
const MAX_HEAD: usize = 64 * 1024;
/// Largest body kept (the rest would be a different tool's job).
const MAX_BODY: usize = 64 * 1024 * 1024;

/// How the body ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    Length(u64),
    Chunked,
    UntilClose,
}

/// A complete response.
#[derive(Debug)]
pub struct Response {
    pub code: u16,
    pub reason: String,
    pub body: Vec<u8>,
    pub framing: Framing,
    /// The server lets the connection carry another request.
    pub keep_alive: bool,
    pub first_byte: Instant,
}

/// Feed bytes as they arrive; get the response once complete.
#[derive(Debug, Default)]
pub struct Reader {
    buf: Vec<u8>,
    first_byte: Option<Instant>,
    /// Parsed head: (code, reason, framing, keep_alive, head length).
    head: Option<(u16, String, Framing, bool, usize)>,
}

impl Reader {
    /// True once any byte of the response arrived.
    pub fn started(&self) -> bool {
        self.first_byte.is_some()
    }

    /// Add `data` (empty = the peer closed). `Ok(Some)` when the response is complete.
    pub fn feed(&mut self, data: &[u8]) -> Result<Option<Response>, String> {
        if !data.is_empty() && self.first_byte.is_none() {
            self.first_byte = Some(Instant::now());
        }
        let eof = data.is_empty();
        self.buf.extend_from_slice(data);
        loop {
            if self.head.is_none() && !self.parse_head()? {
                return Ok(None);
            }
            let Some((code, _, _, _, _)) = &self.head else {
                return Ok(None);
            };
            if (100..200).contains(code) && *code != 101 {
                // 100 Continue and friends: skip, a final response follows.
                let len = self.head.take().map_or(0, |h| h.4);
                self.buf.drain(..len);
                continue;
            }
            break;
        }
        let Some((code, reason, framing, keep_alive, len)) = self.head.clone() else {
            return Ok(None);
        };
        let body = &self.buf[len..];
        let done = match framing {
            Framing::Length(n) => {
                if (body.len() as u64) < n {
                    if body.len() > MAX_BODY {
                        return Err("body larger than 64 MiB".to_owned());
                    }
                    return Ok(None);
                }
                Some(body[..n as usize].to_vec())
            }
            Framing::Chunked => dechunk(body)?,
            Framing::UntilClose if eof => Some(body.to_vec()),
            Framing::UntilClose if body.len() > MAX_BODY => {
                return Err("body larger than 64 MiB".to_owned());
            }
            Framing::UntilClose => None,
        };
        Ok(done.map(|body| Response {
            code,
            reason,
            body,
            framing,
            keep_alive,
            first_byte: self.first_byte.unwrap_or_else(Instant::now),
        }))
    }

    /// Parse the head if complete. `Ok(false)`: need more bytes.
    fn parse_head(&mut self) -> Result<bool, String> {
        let mut headers = [httparse::EMPTY_HEADER; 128];
        let mut resp = httparse::Response::new(&mut headers);
        let len = match resp.parse(&self.buf) {
            Ok(httparse::Status::Complete(n)) => n,
            Ok(httparse::Status::Partial) if self.buf.len() > MAX_HEAD => {
                return Err("response head larger than 64 KiB".to_owned());
            }
            Ok(httparse::Status::Partial) => {
                if !self.buf.is_empty() && !b"HTTP/".starts_with(&self.buf[..self.buf.len().min(5)])
                {
                    return Err(format!(
                        "it does not start like HTTP: {}",
                        preview(&self.buf)
                    ));
                }
                return Ok(false);
            }
            Err(e) => return Err(format!("{e}: {}", preview(&self.buf))),
        };
        let code = resp.code.unwrap_or(0);
        let reason = resp.reason.unwrap_or("").to_owned();
        let version = resp.version.unwrap_or(1);
        let mut framing = Framing::UntilClose;
        let mut close = version == 0;
        for h in resp.headers.iter() {
            if h.name.eq_ignore_ascii_case("content-length") {
                let v = std::str::from_utf8(h.value).unwrap_or("").trim();
                let n: u64 = v
                    .parse()
                    .map_err(|_| format!("bad Content-Length {:?}", preview(h.value)))?;
                if framing == Framing::Chunked {
                    continue; // chunked wins (RFC 9112 §6.3)
                }
                framing = Framing::Length(n);
            } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
                let last = h.value.rsplit(|&b| b == b',').next().unwrap_or(b"");
                if last.trim_ascii().eq_ignore_ascii_case(b"chunked") {
                    framing = Framing::Chunked;
                }
            } else if h.name.eq_ignore_ascii_case("connection") {
                for t in h.value.split(|&b| b == b',') {
                    let t = t.trim_ascii();
                    if t.eq_ignore_ascii_case(b"close") {
                        close = true;
                    } else if t.eq_ignore_ascii_case(b"keep-alive") && version == 0 {
                        close = false;
                    }
                }
            }
        }
        if code == 204 || code == 304 || (100..200).contains(&code) {
            framing = Framing::Length(0);
        }
        self.head = Some((code, reason, framing, !close, len));
        Ok(true)
    }
}

/// Decode a complete chunked body; `Ok(None)` while incomplete.
fn dechunk(mut b: &[u8]) -> Result<Option<Vec<u8>>, String> {
    let mut body = Vec::new();
    loop {
        let (n, size) = match httparse::parse_chunk_size(b) {
            Ok(httparse::Status::Complete(x)) => x,
            Ok(httparse::Status::Partial) => return Ok(None),
            Err(_) => return Err(format!("bad chunk size line: {}", preview(b))),
        };
        b = &b[n..];
        if size == 0 {
            // Trailers end with an empty line.
            let mut headers = [httparse::EMPTY_HEADER; 32];
            return match httparse::parse_headers(b, &mut headers) {
                Ok(httparse::Status::Complete(_)) => Ok(Some(body)),
                Ok(httparse::Status::Partial) => Ok(None),
                Err(e) => Err(format!("bad trailer: {e}")),
            };
        }
        let size = usize::try_from(size).map_err(|_| "chunk too large".to_owned())?;
        if body.len().saturating_add(size) > MAX_BODY {
            return Err("body larger than 64 MiB".to_owned());
        }
        if b.len() < size + 2 {
            return Ok(None);
        }
        if &b[size..size + 2] != b"\r\n" {
            return Err("chunk not followed by CRLF".to_owned());
        }
        body.extend_from_slice(&b[..size]);
        b = &b[size + 2..];
    }
}

/// The first bytes, printable, for an error message.
fn preview(b: &[u8]) -> String {
    let line = b.split(|&c| c == b'\n').next().unwrap_or(b);
    let s: String = String::from_utf8_lossy(&line[..line.len().min(40)])
        .trim_end()
        .escape_debug()
        .collect();
    format!("\"{s}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(parts: &[&[u8]]) -> Result<Option<Response>, String> {
        let mut r = Reader::default();
        for p in parts {
            if let Some(resp) = r.feed(p)? {
                return Ok(Some(resp));
            }
        }
        Ok(None)
    }

    #[test]
    fn length_and_pieces() {
        let raw = b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello, World!";
        for split in 1..raw.len() {
            let r = read_all(&[&raw[..split], &raw[split..]]).unwrap().unwrap();
            assert_eq!((r.code, r.reason.as_str()), (200, "OK"));
            assert_eq!(r.body, b"Hello, World!");
            assert!(r.keep_alive);
        }
    }

    #[test]
    fn chunked_close_and_continue() {
        let r = read_all(&[b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n"])
            .unwrap()
            .unwrap();
        assert_eq!((r.code, r.body.as_slice()), (404, &b"abcde"[..]));
        let mut rd = Reader::default();
        assert!(rd.feed(b"HTTP/1.0 200 OK\r\n\r\nbody").unwrap().is_none());
        let r = rd.feed(b"").unwrap().unwrap();
        assert_eq!(r.body, b"body");
        assert!(!r.keep_alive);
        assert_eq!(r.framing, Framing::UntilClose);
    }

    #[test]
    fn malformed_is_named() {
        let e = read_all(&[b"SSH-2.0-OpenSSH_9.2\r\n"]).unwrap_err();
        assert!(e.contains("SSH-2.0-OpenSSH_9.2"), "{e}");
        let e = read_all(&[b"HTTP/1.1 abc OK\r\n\r\n"]).unwrap_err();
        assert!(e.contains("HTTP/1.1 abc OK"), "{e}");
    }
}
