//! The HTTP/1.1 side of hello-server, sans-IO: bytes in, responses and log entries out.
//!
//! [`Parser::process`] takes whatever bytes a connection has received, answers every complete
//! request in them (pipelining), skips request bodies, and says how much input it used. It owns
//! no socket and no clock, so the worker's event loop stays small and the protocol rules are
//! unit-tested here byte for byte. Heads are parsed with `httparse`; chunked bodies are skipped
//! with `httparse::parse_chunk_size`/`parse_headers`.

use std::time::SystemTime;

/// The largest request head we accept (request line + headers); larger gets 431.
pub const MAX_HEAD: usize = 8 * 1024;
/// Headers per request; more gets 431.
const MAX_HEADERS: usize = 64;
/// A chunk-size line longer than this is malformed (400).
const MAX_CHUNK_LINE: usize = 1024;

/// Statuses this server sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    BadRequest,
    NotFound,
    MethodNotAllowed,
    RequestTimeout,
    PayloadTooLarge,
    HeaderTooLarge,
    NotImplemented,
}

impl Status {
    pub fn code(self) -> u16 {
        match self {
            Status::Ok => 200,
            Status::BadRequest => 400,
            Status::NotFound => 404,
            Status::MethodNotAllowed => 405,
            Status::RequestTimeout => 408,
            Status::PayloadTooLarge => 413,
            Status::HeaderTooLarge => 431,
            Status::NotImplemented => 501,
        }
    }

    fn line(self) -> &'static [u8] {
        match self {
            Status::Ok => b"HTTP/1.1 200 OK\r\n",
            Status::BadRequest => b"HTTP/1.1 400 Bad Request\r\n",
            Status::NotFound => b"HTTP/1.1 404 Not Found\r\n",
            Status::MethodNotAllowed => b"HTTP/1.1 405 Method Not Allowed\r\n",
            Status::RequestTimeout => b"HTTP/1.1 408 Request Timeout\r\n",
            Status::PayloadTooLarge => b"HTTP/1.1 413 Content Too Large\r\n",
            Status::HeaderTooLarge => b"HTTP/1.1 431 Request Header Fields Too Large\r\n",
            Status::NotImplemented => b"HTTP/1.1 501 Not Implemented\r\n",
        }
    }

    /// Error bodies say what went wrong in one line.
    fn error_body(self) -> &'static [u8] {
        match self {
            Status::Ok => b"",
            Status::BadRequest => b"Bad Request: malformed HTTP request\n",
            Status::NotFound => b"Not Found: only / exists on this server\n",
            Status::MethodNotAllowed => b"Method Not Allowed: use GET or HEAD\n",
            Status::RequestTimeout => b"Request Timeout: the request head did not arrive in time\n",
            Status::PayloadTooLarge => b"Content Too Large: request body over the limit\n",
            Status::HeaderTooLarge => b"Request Header Fields Too Large: head over 8 KiB\n",
            Status::NotImplemented => b"Not Implemented: unsupported Transfer-Encoding\n",
        }
    }
}

/// What the server answers: the message, limits, and the cached `Date` header.
///
/// Each worker owns a clone, so refreshing the date once a second needs no locking.
#[derive(Debug, Clone)]
pub struct Site {
    message: Vec<u8>,
    /// Largest request body we read and discard; above it 413.
    pub max_body: u64,
    /// `Date: ...\r\n` for the current second.
    date: Vec<u8>,
    /// The complete `GET /` keep-alive response, rebuilt with the date: the hot path is a copy.
    ok_get: Vec<u8>,
}

impl Site {
    pub fn new(message: &str, max_body: u64) -> Site {
        let mut site = Site {
            message: message.as_bytes().to_vec(),
            max_body,
            date: Vec::new(),
            ok_get: Vec::new(),
        };
        site.set_date(SystemTime::now());
        site
    }

    /// Refresh the `Date` header (call once a second).
    pub fn set_date(&mut self, now: SystemTime) {
        self.date.clear();
        self.date.extend_from_slice(b"Date: ");
        self.date
            .extend_from_slice(httpdate::fmt_http_date(now).as_bytes());
        self.date.extend_from_slice(b"\r\n");
        let mut ok = Vec::with_capacity(160);
        self.write_response(&mut ok, Status::Ok, false, Conn::KeepAlive11);
        self.ok_get = ok;
    }

    /// Append one response to `out`; returns the body length sent.
    fn write_response(&self, out: &mut Vec<u8>, status: Status, head: bool, conn: Conn) -> usize {
        let body: &[u8] = if status == Status::Ok {
            &self.message
        } else {
            status.error_body()
        };
        out.extend_from_slice(status.line());
        out.extend_from_slice(b"Server: hello-server\r\n");
        out.extend_from_slice(&self.date);
        out.extend_from_slice(b"Content-Type: text/plain; charset=utf-8\r\nContent-Length: ");
        push_decimal(out, body.len() as u64);
        out.extend_from_slice(b"\r\n");
        if status == Status::MethodNotAllowed {
            out.extend_from_slice(b"Allow: GET, HEAD\r\n");
        }
        match conn {
            Conn::KeepAlive11 => {}
            Conn::KeepAlive10 => out.extend_from_slice(b"Connection: keep-alive\r\n"),
            Conn::Close => out.extend_from_slice(b"Connection: close\r\n"),
        }
        out.extend_from_slice(b"\r\n");
        if head {
            0
        } else {
            out.extend_from_slice(body);
            body.len()
        }
    }

    /// Append the 408 sent to a client whose head did not arrive in time.
    pub fn write_timeout(&self, out: &mut Vec<u8>) -> usize {
        self.write_response(out, Status::RequestTimeout, false, Conn::Close)
    }
}

/// Append `n` in decimal (no allocation, no formatting machinery).
pub fn push_decimal(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// How the connection continues after a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Conn {
    /// HTTP/1.1 default: persistent, no header needed.
    KeepAlive11,
    /// HTTP/1.0 with `Connection: keep-alive`: persistent, say so.
    KeepAlive10,
    /// Close after this response.
    Close,
}

/// One answered request, for the access log.
#[derive(Debug, PartialEq, Eq)]
pub struct Entry<'a> {
    /// `-` when the request line could not be parsed.
    pub method: &'a str,
    pub path: &'a str,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1, `None` when unknown.
    pub version: Option<u8>,
    pub status: u16,
    /// Body bytes sent (0 for HEAD).
    pub bytes: usize,
}

/// Where we are in the request stream of one connection.
#[derive(Debug, Default)]
enum State {
    /// Waiting for (the rest of) a request head.
    #[default]
    Head,
    /// Skipping a `Content-Length` body; the response follows it.
    Body { left: u64, then: Box<Answer> },
    /// Skipping a chunked body.
    Chunked {
        part: ChunkPart,
        seen: u64,
        then: Box<Answer>,
    },
}

#[derive(Debug, Clone, Copy)]
enum ChunkPart {
    Size,
    Data(u64),
    DataEnd,
    Trailers,
}

/// A response decided at head time but sent after the body was skipped.
#[derive(Debug)]
struct Answer {
    status: Status,
    head: bool,
    conn: Conn,
    method: String,
    path: String,
    version: Option<u8>,
}

/// Per-connection protocol state.
#[derive(Debug, Default)]
pub struct Parser {
    state: State,
    /// Set once a response with `Connection: close` was written: send what is queued, close.
    pub close: bool,
    /// Requests answered on this connection.
    pub served: u64,
}

impl Parser {
    /// True between requests: nothing of a next request has been consumed yet.
    pub fn idle(&self) -> bool {
        matches!(self.state, State::Head)
    }

    /// Answer every complete request at the start of `input`, appending responses to `out` and
    /// calling `log` once per response. Returns the number of input bytes used; the caller keeps
    /// the rest and calls again with more bytes appended. After `self.close` is set nothing
    /// more is consumed.
    pub fn process(
        &mut self,
        input: &[u8],
        site: &Site,
        out: &mut Vec<u8>,
        log: &mut impl FnMut(&Entry<'_>),
    ) -> usize {
        let mut pos = 0;
        while !self.close {
            let rest = &input[pos..];
            let used = match std::mem::take(&mut self.state) {
                State::Head => {
                    if rest.is_empty() {
                        break;
                    }
                    match self.head(rest, site, out, log) {
                        Some(n) => n,
                        None => break,
                    }
                }
                State::Body { left, then } => {
                    let n = left.min(rest.len() as u64);
                    if n == left {
                        self.answer(&then, site, out, log);
                    } else {
                        self.state = State::Body {
                            left: left - n,
                            then,
                        };
                    }
                    if n == 0 && left != 0 {
                        break;
                    }
                    n as usize
                }
                State::Chunked { part, seen, then } => {
                    match self.chunked(rest, part, seen, then, site, out, log) {
                        Some(n) => n,
                        None => break,
                    }
                }
            };
            pos += used;
        }
        pos
    }

    /// Parse one head at the start of `buf`. `None`: incomplete, wait for more bytes.
    fn head(
        &mut self,
        buf: &[u8],
        site: &Site,
        out: &mut Vec<u8>,
        log: &mut impl FnMut(&Entry<'_>),
    ) -> Option<usize> {
        // Uninitialised slots: no 2 KiB of header array to zero for every request.
        let mut headers =
            [const { std::mem::MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
        let mut req = httparse::Request::new(&mut []);
        let len = match req.parse_with_uninit_headers(buf, &mut headers) {
            Ok(httparse::Status::Complete(n)) if n <= MAX_HEAD => n,
            Ok(httparse::Status::Complete(_)) | Err(httparse::Error::TooManyHeaders) => {
                self.fail(Status::HeaderTooLarge, site, out, log);
                return Some(buf.len());
            }
            Ok(httparse::Status::Partial) if buf.len() <= MAX_HEAD => return None,
            Ok(httparse::Status::Partial) => {
                self.fail(Status::HeaderTooLarge, site, out, log);
                return Some(buf.len());
            }
            Err(_) => {
                self.fail(Status::BadRequest, site, out, log);
                return Some(buf.len());
            }
        };
        let method = req.method.unwrap_or("-");
        let path = req.path.unwrap_or("-");
        let version = req.version;

        // Connection persistence (RFC 9112 §9.3) and the framing headers.
        let mut close_token = false;
        let mut keep_alive_token = false;
        let mut has_host = false;
        let mut length: Option<u64> = None;
        let mut chunked = false;
        let mut bad = false;
        let mut unsupported_coding = false;
        let mut expect_continue = false;
        for h in req.headers.iter() {
            if h.name.eq_ignore_ascii_case("connection") {
                for token in h.value.split(|&b| b == b',') {
                    let token = token.trim_ascii();
                    close_token |= token.eq_ignore_ascii_case(b"close");
                    keep_alive_token |= token.eq_ignore_ascii_case(b"keep-alive");
                }
            } else if h.name.eq_ignore_ascii_case("host") {
                bad |= has_host; // two Host headers: 400 (RFC 9112 §3.2)
                has_host = true;
            } else if h.name.eq_ignore_ascii_case("content-length") {
                match parse_length(h.value) {
                    Some(n) if length.is_none_or(|l| l == n) => length = Some(n),
                    _ => bad = true,
                }
            } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
                if h.value.trim_ascii().eq_ignore_ascii_case(b"chunked") && !chunked {
                    chunked = true;
                } else {
                    unsupported_coding = true;
                }
            } else if h.name.eq_ignore_ascii_case("expect") {
                expect_continue = h.value.trim_ascii().eq_ignore_ascii_case(b"100-continue");
            }
        }
        // Both framings at once is how requests get smuggled: refuse (RFC 9112 §6.1).
        bad |= chunked && length.is_some();
        bad |= version == Some(1) && !has_host;
        bad |= version == Some(0) && chunked;
        if bad || unsupported_coding {
            let status = if bad {
                Status::BadRequest
            } else {
                Status::NotImplemented
            };
            let entry = Entry {
                method,
                path,
                version,
                status: status.code(),
                bytes: site.write_response(out, status, false, Conn::Close),
            };
            self.close = true;
            self.served += 1;
            log(&entry);
            return Some(buf.len());
        }

        let mut conn = match version {
            Some(1) if !close_token => Conn::KeepAlive11,
            Some(0) if keep_alive_token && !close_token => Conn::KeepAlive10,
            _ => Conn::Close,
        };
        let target = path.split('?').next().unwrap_or(path);
        let (status, head_only) = if target != "/" {
            (Status::NotFound, method == "HEAD")
        } else if method == "GET" {
            (Status::Ok, false)
        } else if method == "HEAD" {
            (Status::Ok, true)
        } else {
            (Status::MethodNotAllowed, false)
        };
        let body_len = length.unwrap_or(0);
        if body_len > site.max_body {
            // Do not read it: answer and close.
            let entry = Entry {
                method,
                path,
                version,
                status: Status::PayloadTooLarge.code(),
                bytes: site.write_response(out, Status::PayloadTooLarge, false, Conn::Close),
            };
            self.close = true;
            self.served += 1;
            log(&entry);
            return Some(buf.len());
        }
        let has_body = chunked || body_len > 0;
        if expect_continue && has_body {
            // Answer now instead of inviting the body; the client may then skip it, so the
            // connection cannot continue after this response (RFC 9110 §10.1.1).
            conn = Conn::Close;
        } else if has_body {
            let then = Box::new(Answer {
                status,
                head: head_only,
                conn,
                method: method.to_owned(),
                path: path.to_owned(),
                version,
            });
            self.state = if chunked {
                State::Chunked {
                    part: ChunkPart::Size,
                    seen: 0,
                    then,
                }
            } else {
                State::Body {
                    left: body_len,
                    then,
                }
            };
            return Some(len);
        }
        // Hot path: the cached keep-alive response.
        let bytes = if status == Status::Ok && !head_only && conn == Conn::KeepAlive11 {
            out.extend_from_slice(&site.ok_get);
            site.message.len()
        } else {
            site.write_response(out, status, head_only, conn)
        };
        self.close = conn == Conn::Close;
        self.served += 1;
        log(&Entry {
            method,
            path,
            version,
            status: status.code(),
            bytes,
        });
        Some(len)
    }

    /// Skip part of a chunked body. `None`: need more bytes.
    #[allow(clippy::too_many_arguments)]
    fn chunked(
        &mut self,
        buf: &[u8],
        part: ChunkPart,
        seen: u64,
        then: Box<Answer>,
        site: &Site,
        out: &mut Vec<u8>,
        log: &mut impl FnMut(&Entry<'_>),
    ) -> Option<usize> {
        let (next, used) = match part {
            ChunkPart::Size => match httparse::parse_chunk_size(buf) {
                Ok(httparse::Status::Complete((n, size))) => {
                    let seen = seen.saturating_add(size);
                    if seen > site.max_body {
                        self.fail(Status::PayloadTooLarge, site, out, log);
                        return Some(buf.len());
                    }
                    let part = if size == 0 {
                        ChunkPart::Trailers
                    } else {
                        ChunkPart::Data(size)
                    };
                    self.state = State::Chunked { part, seen, then };
                    return Some(n);
                }
                Ok(httparse::Status::Partial) if buf.len() <= MAX_CHUNK_LINE => {
                    (ChunkPart::Size, None)
                }
                _ => {
                    self.fail(Status::BadRequest, site, out, log);
                    return Some(buf.len());
                }
            },
            ChunkPart::Data(left) => {
                let n = left.min(buf.len() as u64);
                let part = if n == left {
                    ChunkPart::DataEnd
                } else {
                    ChunkPart::Data(left - n)
                };
                (part, if n == 0 { None } else { Some(n as usize) })
            }
            ChunkPart::DataEnd if buf.len() < 2 => (ChunkPart::DataEnd, None),
            ChunkPart::DataEnd if &buf[..2] == b"\r\n" => (ChunkPart::Size, Some(2)),
            ChunkPart::DataEnd => {
                self.fail(Status::BadRequest, site, out, log);
                return Some(buf.len());
            }
            ChunkPart::Trailers => {
                let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
                match httparse::parse_headers(buf, &mut headers) {
                    Ok(httparse::Status::Complete((n, _))) if n <= MAX_HEAD => {
                        self.answer(&then, site, out, log);
                        return Some(n);
                    }
                    Ok(httparse::Status::Partial) if buf.len() <= MAX_HEAD => {
                        (ChunkPart::Trailers, None)
                    }
                    Ok(_) | Err(httparse::Error::TooManyHeaders) => {
                        self.fail(Status::HeaderTooLarge, site, out, log);
                        return Some(buf.len());
                    }
                    Err(_) => {
                        self.fail(Status::BadRequest, site, out, log);
                        return Some(buf.len());
                    }
                }
            }
        };
        self.state = State::Chunked {
            part: next,
            seen,
            then,
        };
        used
    }

    /// Send the response decided before a body.
    fn answer(
        &mut self,
        a: &Answer,
        site: &Site,
        out: &mut Vec<u8>,
        log: &mut impl FnMut(&Entry<'_>),
    ) {
        let bytes = site.write_response(out, a.status, a.head, a.conn);
        self.close = a.conn == Conn::Close;
        self.served += 1;
        log(&Entry {
            method: &a.method,
            path: &a.path,
            version: a.version,
            status: a.status.code(),
            bytes,
        });
    }

    /// An error that ends the connection: answer, then close.
    fn fail(
        &mut self,
        status: Status,
        site: &Site,
        out: &mut Vec<u8>,
        log: &mut impl FnMut(&Entry<'_>),
    ) {
        let bytes = site.write_response(out, status, false, Conn::Close);
        self.state = State::Head;
        self.close = true;
        self.served += 1;
        log(&Entry {
            method: "-",
            path: "-",
            version: None,
            status: status.code(),
            bytes,
        });
    }
}

/// `Content-Length` value: digits only (no sign, no spaces inside), no overflow.
fn parse_length(v: &[u8]) -> Option<u64> {
    let v = v.trim_ascii();
    if v.is_empty() || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(v).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn site() -> Site {
        let mut s = Site::new("Hello, World!", 1024);
        s.set_date(UNIX_EPOCH + Duration::from_secs(1_700_000_000));
        s
    }

    /// Feed `input` in pieces of `step` bytes, as a socket might deliver it.
    fn run(input: &[u8], step: usize) -> (String, Vec<(String, u16)>, bool, usize) {
        let site = site();
        let mut p = Parser::default();
        let mut out = Vec::new();
        let mut log = Vec::new();
        let mut buf: Vec<u8> = Vec::new();
        for piece in input.chunks(step) {
            buf.extend_from_slice(piece);
            let used = p.process(&buf, &site, &mut out, &mut |e| {
                log.push((format!("{} {}", e.method, e.path), e.status))
            });
            buf.drain(..used);
            if p.close {
                break;
            }
        }
        (String::from_utf8(out).unwrap(), log, p.close, buf.len())
    }

    const DATE: &str = "Date: Tue, 14 Nov 2023 22:13:20 GMT\r\n";

    fn ok(extra: &str) -> String {
        format!(
            "HTTP/1.1 200 OK\r\nServer: hello-server\r\n{DATE}Content-Type: text/plain; charset=utf-8\r\nContent-Length: 13\r\n{extra}\r\nHello, World!"
        )
    }

    #[test]
    fn get_exact_bytes() {
        let (out, log, close, _) = run(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 1000);
        assert_eq!(out, ok(""));
        assert_eq!(log, vec![("GET /".into(), 200)]);
        assert!(!close);
    }

    #[test]
    fn pipelined_split_anywhere() {
        let req = b"GET / HTTP/1.1\r\nHost: x\r\n\r\nHEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n";
        for step in [1, 2, 7, 1000] {
            let (out, log, close, left) = run(req, step);
            let head = ok("").replace("Hello, World!", "");
            assert!(out.starts_with(&format!("{}{}", ok(""), head)), "{out}");
            assert!(out.contains("HTTP/1.1 404 Not Found\r\n"));
            assert_eq!(log.len(), 3);
            assert_eq!(log[2], ("GET /nope".into(), 404));
            assert!(!close);
            assert_eq!(left, 0);
        }
    }

    #[test]
    fn http10_closes_unless_keep_alive() {
        let (out, _, close, _) = run(b"GET / HTTP/1.0\r\n\r\n", 1000);
        assert_eq!(out, ok("Connection: close\r\n"));
        assert!(close);
        let (out, _, close, _) = run(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 1000);
        assert_eq!(out, ok("Connection: keep-alive\r\n"));
        assert!(!close);
        let (out, _, close, _) = run(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 9);
        assert_eq!(out, ok("Connection: close\r\n"));
        assert!(close);
    }

    #[test]
    fn errors() {
        let (out, log, close, _) = run(b"POST / HTTP/1.1\r\nHost: x\r\n\r\n", 1000);
        assert!(out.starts_with("HTTP/1.1 405 Method Not Allowed\r\n"));
        assert!(out.contains("\r\nAllow: GET, HEAD\r\n"));
        assert_eq!(log[0].1, 405);
        assert!(!close);
        let (out, _, close, _) = run(b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", 1000);
        assert!(out.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{out}");
        assert!(close);
        let (out, _, close, _) = run(b"GET / HTTP/1.1\r\n\r\n", 1000);
        assert!(out.starts_with("HTTP/1.1 400 "), "missing Host: {out}");
        assert!(close);
        let big = format!(
            "GET / HTTP/1.1\r\nHost: x\r\nX: {}\r\n\r\n",
            "a".repeat(9000)
        );
        let (out, _, close, _) = run(big.as_bytes(), 512);
        assert!(out.starts_with("HTTP/1.1 431 "), "{out}");
        assert!(close);
        let (out, _, close, _) = run(
            b"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
            99,
        );
        assert!(out.starts_with("HTTP/1.1 501 "), "{out}");
        assert!(close);
        let (out, _, _, _) = run(
            b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            99,
        );
        assert!(out.starts_with("HTTP/1.1 400 "), "{out}");
    }

    #[test]
    fn bodies_are_skipped_then_answered() {
        let req = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloGET / HTTP/1.1\r\nHost: x\r\n\r\n";
        for step in [1, 3, 1000] {
            let (out, log, close, left) = run(req, step);
            assert!(out.starts_with("HTTP/1.1 405 "));
            assert!(out.ends_with(&ok("")), "{out}");
            assert_eq!(log.len(), 2);
            assert!(!close);
            assert_eq!(left, 0);
        }
        let req = b"POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3;ext=1\r\nabc\r\n0\r\nTrailer: y\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n";
        for step in [1, 4, 1000] {
            let (out, log, close, left) = run(req, step);
            assert!(out.starts_with("HTTP/1.1 404 "), "{out}");
            assert!(out.ends_with(&ok("")), "{out}");
            assert_eq!(log, vec![("POST /x".into(), 404), ("GET /".into(), 200)]);
            assert!(!close);
            assert_eq!(left, 0);
        }
    }

    #[test]
    fn body_limits() {
        let (out, _, close, _) = run(
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n",
            1000,
        );
        assert!(out.starts_with("HTTP/1.1 413 "), "{out}");
        assert!(close);
        let mut req = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        for _ in 0..3 {
            req.extend_from_slice(b"200\r\n");
            req.extend_from_slice(&[b'a'; 0x200]);
            req.extend_from_slice(b"\r\n");
        }
        let (out, _, close, _) = run(&req, 100);
        assert!(out.starts_with("HTTP/1.1 413 "), "{out}");
        assert!(close);
        let (out, _, close, _) = run(
            b"PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n",
            1000,
        );
        assert!(out.starts_with("HTTP/1.1 405 "), "{out}");
        assert!(out.contains("Connection: close\r\n"));
        assert!(close);
    }

    #[test]
    fn nothing_consumed_for_partial_head() {
        let site = site();
        let mut p = Parser::default();
        let mut out = Vec::new();
        let used = p.process(b"GET / HTTP/1.1\r\nHo", &site, &mut out, &mut |_| {});
        assert_eq!(used, 0);
        assert!(out.is_empty());
        assert!(p.idle());
    }
}
