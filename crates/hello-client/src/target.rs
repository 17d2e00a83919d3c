//! The command line's target: `http://HOST[:PORT][/PATH]` or a bare `HOST[:PORT]`.
//!
//! `http::Uri` does the URI grammar (brackets around IPv6, ports, paths); this module adds
//! the lab's defaults and the plain-words errors (an empty host is the sheet's
//! `HTTPConnection('')` mistake).

/// Where to connect and what to ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Host name or address, without IPv6 brackets (what the resolver takes).
    pub host: String,
    pub port: u16,
    /// Request target: path and query, at least `/`.
    pub path: String,
    /// Value of the `Host` header.
    pub host_header: String,
}

/// Port of a bare `HOST` (the lab's server); a URL without port uses HTTP's 80.
pub const BARE_PORT: u16 = 5000;

const EMPTY_HOST: &str = "empty host: the URL names no server (the lab sheet's \
HTTPConnection('') mistake); name the host that runs the server, e.g. \
`hello-client 192.168.56.101:5000` or `hello-client http://127.0.0.1:5000/`";

impl Target {
    pub fn parse(arg: &str) -> Result<Target, String> {
        let arg = arg.trim();
        let (url, default_port) = match arg.split_once("://") {
            Some((scheme, _)) if scheme.eq_ignore_ascii_case("http") => (arg.to_owned(), 80),
            Some((scheme, _)) if scheme.eq_ignore_ascii_case("https") => {
                return Err(
                    "https:// is not supported: hello-client speaks plain HTTP (use http://, \
                     or curl for HTTPS)"
                        .to_owned(),
                );
            }
            Some((scheme, _)) => {
                return Err(format!(
                    "unsupported scheme '{scheme}://': hello-client speaks http:// only"
                ));
            }
            None => (format!("http://{arg}"), BARE_PORT),
        };
        // The authority part, checked before parsing: `http://:5000/` has an empty host.
        let rest = &url[url.find("://").map_or(0, |i| i + 3)..];
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        if authority.contains('@') {
            return Err(format!(
                "'{arg}': user names in URLs are not supported (no authentication here)"
            ));
        }
        if authority.is_empty() || authority.starts_with(':') {
            return Err(EMPTY_HOST.to_owned());
        }
        let uri: http::Uri = url
            .parse()
            .map_err(|e| format!("'{arg}' is not a URL nor HOST[:PORT]: {e}"))?;
        let auth = uri.authority().ok_or_else(|| EMPTY_HOST.to_owned())?;
        let host = auth.host().trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(EMPTY_HOST.to_owned());
        }
        if authority.ends_with(':') {
            return Err(format!("'{arg}': the port after ':' is missing"));
        }
        let port_text = match authority.strip_prefix('[') {
            Some(v6) => v6.split_once(']').and_then(|(_, r)| r.strip_prefix(':')),
            None => authority.rsplit_once(':').map(|(_, p)| p),
        };
        if port_text.is_some_and(|p| !p.is_empty() && p.parse::<u16>().is_err()) {
            return Err(format!(
                "'{arg}': the port must be a number from 1 to 65535"
            ));
        }
        let port = match auth.port_u16() {
            Some(0) => return Err(format!("'{arg}': port 0 cannot be connected to")),
            Some(p) => p,
            None => default_port,
        };
        let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
        let path = if path.is_empty() {
            "/".to_owned()
        } else {
            path
        };
        Ok(Target {
            host: host.to_owned(),
            port,
            path,
            host_header: auth.as_str().to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Target {
        Target::parse(s).unwrap()
    }

    #[test]
    fn forms() {
        assert_eq!(
            t("http://127.0.0.1:5000/"),
            Target {
                host: "127.0.0.1".into(),
                port: 5000,
                path: "/".into(),
                host_header: "127.0.0.1:5000".into()
            }
        );
        let b = t("192.168.56.101");
        assert_eq!(
            (b.host.as_str(), b.port, b.path.as_str()),
            ("192.168.56.101", 5000, "/")
        );
        let u = t("http://localhost/x?y=1");
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("localhost", 80, "/x?y=1")
        );
        assert_eq!(u.host_header, "localhost");
        let v6 = t("[::1]:8080");
        assert_eq!((v6.host.as_str(), v6.port), ("::1", 8080));
        assert_eq!(v6.host_header, "[::1]:8080");
        assert_eq!(t("HTTP://h:1").path, "/");
    }

    #[test]
    fn errors_in_plain_words() {
        for empty in ["", "http://", "http://:5000/", ":5000", "http:///x"] {
            let e = Target::parse(empty).unwrap_err();
            assert!(e.starts_with("empty host"), "{empty:?}: {e}");
            assert!(e.contains("HTTPConnection('')"));
        }
        assert!(
            Target::parse("https://x/")
                .unwrap_err()
                .contains("plain HTTP")
        );
        assert!(
            Target::parse("ftp://x/")
                .unwrap_err()
                .contains("unsupported scheme")
        );
        assert!(Target::parse("h:99999").is_err());
        assert!(Target::parse("h:").unwrap_err().contains("port"));
        assert!(Target::parse("a b").is_err());
    }
}
