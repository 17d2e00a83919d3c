//! The start of an HTTP/1.x message in a TCP payload: what tcpdump's `txtproto_print` shows
//! of it on ports 80 and 8080 ([`http_text`], its quirks included), and a stricter request or
//! status line for any other port ([`HttpLine`]).

/// tcpdump's `httpcmds`: RFC 2616's methods, PATCH, WebDAV's, DeltaV's and their extensions
/// (compared without regard to case, as tcpdump does).
const METHODS: &[&[u8]] = &[
    b"OPTIONS",
    b"GET",
    b"HEAD",
    b"POST",
    b"PUT",
    b"DELETE",
    b"TRACE",
    b"CONNECT",
    b"PATCH",
    b"PROPFIND",
    b"PROPPATCH",
    b"MKCOL",
    b"COPY",
    b"MOVE",
    b"LOCK",
    b"UNLOCK",
    b"VERSION-CONTROL",
    b"REPORT",
    b"CHECKOUT",
    b"CHECKIN",
    b"UNCHECKOUT",
    b"MKWORKSPACE",
    b"UPDATE",
    b"LABEL",
    b"MERGE",
    b"BASELINE-CONTROL",
    b"MKACTIVITY",
    b"ORDERPATCH",
    b"ACL",
    b"SEARCH",
    b"BIND",
    b"REBIND",
    b"UNBIND",
];

/// What tcpdump prints after `: HTTP` for a payload on its HTTP ports, without -v.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpText<'a> {
    /// Not a request or response, or not text: nothing more.
    None,
    /// `: ` and the first line (without its line end).
    Line(&'a [u8]),
    /// Printable to the end of the message and no line end: `: ` the text, then ` [|http]`.
    Unterminated(&'a [u8]),
    /// The capture ends inside the first line: ` [|http]`.
    Cut,
}

fn printable(c: u8) -> bool {
    (0x20..0x7f).contains(&c)
}

/// tcpdump's `fetch_token`: the token at `idx` (up to 127 printable ASCII bytes, ended by
/// white space or a line end), and where the next one starts; `None` when there is none or
/// the capture ends inside it.
fn fetch_token(p: &[u8], mut idx: usize, len: usize) -> Option<(&[u8], usize)> {
    let start = idx;
    while idx < len {
        let c = *p.get(idx)?;
        if !c.is_ascii() {
            return None;
        }
        if matches!(c, b' ' | b'\t' | b'\r' | b'\n') {
            break;
        }
        if !printable(c) || idx - start + 2 > 129 {
            return None;
        }
        idx += 1;
    }
    if idx == start {
        return None;
    }
    let token = &p[start..idx];
    // White space up to the next token or the end of the line.
    while idx < len {
        match p.get(idx) {
            Some(b' ' | b'\t') => idx += 1,
            _ => break,
        }
    }
    Some((token, idx))
}

/// tcpdump's `txtproto_print` for HTTP without -v: a request (a known method first) or a
/// response (a 3-digit second token), then its first line as `print_txt_line` finds it.
/// `p` is the captured payload, `len` the payload's length on the wire.
pub fn http_text(p: &[u8], len: usize) -> HttpText<'_> {
    let Some((first, next)) = fetch_token(p, 0, len) else {
        return HttpText::None;
    };
    let method = METHODS.iter().any(|m| m.eq_ignore_ascii_case(first));
    let code = fetch_token(p, next, len)
        .is_some_and(|(t, _)| t.len() == 3 && t.iter().all(u8::is_ascii_digit));
    if !method && !code {
        return HttpText::None;
    }
    let mut idx = 0;
    while idx < len {
        let Some(&c) = p.get(idx) else {
            return HttpText::Cut;
        };
        idx += 1;
        match c {
            b'\n' => return HttpText::Line(&p[..idx - 1]),
            b'\r' if idx >= len => return HttpText::None,
            b'\r' => {
                return match p.get(idx) {
                    None => HttpText::Cut,
                    Some(b'\n') => HttpText::Line(&p[..idx - 1]),
                    // A CR alone: binary data to tcpdump.
                    Some(_) => HttpText::None,
                };
            }
            b'\t' => {}
            c if !printable(c) => return HttpText::None,
            _ => {}
        }
    }
    HttpText::Unterminated(&p[..idx])
}

/// What the first line of an HTTP message says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpLine<'a> {
    /// `GET /index.html HTTP/1.1`
    Request {
        method: &'a [u8],
        target: &'a [u8],
        version: &'a [u8],
    },
    /// `HTTP/1.1 200 OK`
    Status {
        version: &'a [u8],
        code: u16,
        reason: &'a [u8],
    },
}

/// The first line of a captured payload that is a whole HTTP/1.x request or status line
/// ([`HttpLine::parse`]), without its line end.
pub fn http_first_line(p: &[u8]) -> Option<&[u8]> {
    HttpLine::parse(p)?;
    match http_text(p, p.len()) {
        HttpText::Line(l) => Some(l),
        _ => None,
    }
}

impl<'a> HttpLine<'a> {
    /// The payload's first line, when it is a request line (a known method, a target,
    /// `HTTP/x.y`) or a status line (`HTTP/x.y`, a 3-digit code, a reason): stricter than
    /// tcpdump's test, for ports that are not HTTP's.
    pub fn parse(p: &'a [u8]) -> Option<HttpLine<'a>> {
        // The cheap test first: most payloads on other ports are not HTTP.
        let starts = p.starts_with(b"HTTP/1.")
            || METHODS
                .iter()
                .any(|m| p.starts_with(m) && p.get(m.len()) == Some(&b' '));
        if !starts {
            return None;
        }
        match http_text(p, p.len()) {
            HttpText::Line(l) => Self::parse_line(l),
            _ => None,
        }
    }

    fn parse_line(line: &'a [u8]) -> Option<HttpLine<'a>> {
        let mut parts = line.splitn(3, |&b| b == b' ');
        let (a, b, c) = (parts.next()?, parts.next()?, parts.next().unwrap_or(b""));
        if a.starts_with(b"HTTP/1.") && a.len() == 8 {
            if b.len() != 3 || !b.iter().all(u8::is_ascii_digit) {
                return None;
            }
            let code = b.iter().fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
            Some(HttpLine::Status {
                version: a,
                code,
                reason: c,
            })
        } else if METHODS.contains(&a) && !b.is_empty() && c.starts_with(b"HTTP/1.") {
            Some(HttpLine::Request {
                method: a,
                target: b,
                version: c,
            })
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcpdumps_text() {
        fn t(p: &[u8]) -> HttpText<'_> {
            http_text(p, p.len())
        }
        assert_eq!(
            t(b"GET /x HTTP/1.1\r\nHost: a\r\n"),
            HttpText::Line(b"GET /x HTTP/1.1")
        );
        assert_eq!(t(b"get /x HTTP/1.1\n"), HttpText::Line(b"get /x HTTP/1.1"));
        assert_eq!(t(b"FOO 200 x\r\n"), HttpText::Line(b"FOO 200 x"));
        assert_eq!(
            t(b"GET /x HTTP/1.1"),
            HttpText::Unterminated(b"GET /x HTTP/1.1")
        );
        assert_eq!(t(b"GET /a\x1bb HTTP/1.1\r\n"), HttpText::None);
        assert_eq!(t(b"GET /x HTTP/1.1\rX\n"), HttpText::None);
        assert_eq!(t(b"GET /x HTTP/1.1\r"), HttpText::None);
        assert_eq!(t(b"HTTP/1.1\r\n"), HttpText::None);
        assert_eq!(t(b"GETX / HTTP/1.1\r\n"), HttpText::None);
        // Cut by the capture: the token or the line runs past the captured bytes.
        let m = b"GET /x HTTP/1.1\r\nHost: a\r\n";
        assert_eq!(http_text(&m[..10], m.len()), HttpText::Cut);
        assert_eq!(http_text(&m[..16], m.len()), HttpText::Cut);
        assert_eq!(http_text(&m[..3], m.len()), HttpText::None);
    }

    #[test]
    fn strict_lines() {
        assert_eq!(
            HttpLine::parse(b"GET /x HTTP/1.1\r\nHost: a\r\n\r\n"),
            Some(HttpLine::Request {
                method: b"GET",
                target: b"/x",
                version: b"HTTP/1.1"
            })
        );
        assert_eq!(
            HttpLine::parse(b"HTTP/1.0 404 Not Found\r\n"),
            Some(HttpLine::Status {
                version: b"HTTP/1.0",
                code: 404,
                reason: b"Not Found"
            })
        );
        assert_eq!(HttpLine::parse(b"GET /x HTTP/1.1"), None, "no line end");
        assert_eq!(
            HttpLine::parse(b"FOO 200 x\r\n"),
            None,
            "tcpdump's, not ours"
        );
        assert_eq!(HttpLine::parse(b"PASS 123\r\n"), None);
        assert_eq!(HttpLine::parse(b"POST / \n"), None, "no version");
        assert_eq!(
            http_first_line(b"HTTP/1.1 200 OK\r\n"),
            Some(&b"HTTP/1.1 200 OK"[..])
        );
    }
}
