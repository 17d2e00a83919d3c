//! The start of an HTTP/1.x message in a TCP payload: the request line or the status line,
//! found on any port (tcpdump looks on ports 80 and 8080 only, with the same test).

/// Methods tcpdump's `http_print` knows (RFC 9110's, and PATCH).
const METHODS: [&[u8]; 9] = [
    b"GET", b"POST", b"HEAD", b"PUT", b"DELETE", b"OPTIONS", b"PATCH", b"CONNECT", b"TRACE",
];

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

/// The payload starts like an HTTP message: a known method and a space, or `HTTP/1.` (what
/// tcpdump's `txtproto_print` checks before it looks for the end of the line).
pub fn http_start(p: &[u8]) -> bool {
    METHODS
        .iter()
        .any(|m| p.starts_with(m) && p.get(m.len()) == Some(&b' '))
        || p.starts_with(b"HTTP/1.")
}

/// The first line of an HTTP message, without its CR LF: `None` when the payload does not
/// start like one ([`http_start`]) or no newline was captured.
pub fn http_first_line(p: &[u8]) -> Option<&[u8]> {
    if !http_start(p) {
        return None;
    }
    // The line ends at a captured newline (a `\r` alone may be followed by a cut `\n`).
    let nl = p.iter().position(|&b| b == b'\n')?;
    let end = p[..nl].iter().position(|&b| b == b'\r').unwrap_or(nl);
    Some(&p[..end])
}

impl<'a> HttpLine<'a> {
    /// Parse the first line of the payload: `None` when it is not a whole request or status
    /// line.
    pub fn parse(p: &'a [u8]) -> Option<HttpLine<'a>> {
        let line = http_first_line(p)?;
        let mut parts = line.splitn(3, |&b| b == b' ');
        let (a, b, c) = (parts.next()?, parts.next()?, parts.next().unwrap_or(b""));
        if a.starts_with(b"HTTP/1.") {
            let code = std::str::from_utf8(b).ok()?.parse().ok()?;
            if b.len() != 3 {
                return None;
            }
            Some(HttpLine::Status {
                version: a,
                code,
                reason: c,
            })
        } else if c.starts_with(b"HTTP/") {
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
    fn lines() {
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
        assert_eq!(HttpLine::parse(b"GET /x HTTP/1.1"), None, "no newline");
        assert_eq!(HttpLine::parse(b"GETX / HTTP/1.1\n"), None);
        assert_eq!(HttpLine::parse(b"HTTP/1.1 2000 x\n"), None);
        assert_eq!(http_first_line(b"POST / \n"), Some(&b"POST / "[..]));
        assert_eq!(HttpLine::parse(b"POST / \n"), None, "no version");
        assert!(!http_start(b"\x16\x03\x01"));
    }
}
