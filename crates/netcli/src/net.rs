//! Host names and listening sockets, done one way for every tool.
//!
//! - [`resolve`]: `HOST` + port to addresses. A name that does not resolve is a network /
//!   name-service failure (exit 3, like curl's distinct "could not resolve host"), with one
//!   line that names the cause and the fix.
//! - [`bind`]: a listening socket on `ADDR:PORT`, or, without an address, on `[::]` with
//!   IPV6_V6ONLY off (IPv6 and IPv4 clients), falling back to `0.0.0.0` where IPv6 is off.
//! - [`listen_error`]: the one-line error for a socket that cannot listen.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};

use socket2::{Domain, Protocol, Socket, Type};

use crate::Exit;

/// The transport of a listening socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Tcp,
    Udp,
}

impl Transport {
    fn socket(self) -> (Type, Protocol) {
        match self {
            Transport::Tcp => (Type::STREAM, Protocol::TCP),
            Transport::Udp => (Type::DGRAM, Protocol::UDP),
        }
    }
}

/// A peer as users know it: an IPv4 host reaching a dual-stack (`::`) socket shows as its
/// IPv4 address, not the IPv4-mapped IPv6 one (`[::ffff:192.0.2.1]:9`).
pub fn shown(p: SocketAddr) -> SocketAddr {
    match p {
        SocketAddr::V6(v6) => match v6.ip().to_ipv4_mapped() {
            Some(v4) => SocketAddr::new(IpAddr::V4(v4), v6.port()),
            None => p,
        },
        v4 => v4,
    }
}

/// Every address of `host` (a name, an IPv4 literal, or an IPv6 literal with or without
/// brackets) on `port`, in the resolver's order; never empty.
///
/// Names under the reserved `.invalid` top-level domain fail at once without asking DNS, as
/// RFC 6761 (6.4) asks of resolver libraries. Errors are failures (exit 3).
pub fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>, Exit> {
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if is_invalid_tld(host) {
        return Err(unknown_host(
            host,
            "names under .invalid never resolve, RFC 6761",
        ));
    }
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|e| unknown_host(host, &e.to_string()))?
        .collect();
    if addrs.is_empty() {
        return Err(unknown_host(host, "it has no address"));
    }
    Ok(addrs)
}

/// The first address [`resolve`] gives.
pub fn resolve_first(host: &str, port: u16) -> Result<SocketAddr, Exit> {
    resolve(host, port).map(|a| a[0])
}

/// True for `invalid`, `x.invalid`, `x.INVALID.` (RFC 6761's reserved TLD).
fn is_invalid_tld(host: &str) -> bool {
    let h = host.strip_suffix('.').unwrap_or(host);
    h.rsplit('.')
        .next()
        .is_some_and(|tld| tld.eq_ignore_ascii_case("invalid"))
}

/// The one-line "unknown host" failure: the cause, then what to check.
fn unknown_host(host: &str, why: &str) -> Exit {
    Exit::failure(format!(
        "unknown host '{host}': the name does not resolve ({why}); check the spelling, \
         /etc/hosts or DNS, or give an IP address such as 192.168.56.101"
    ))
}

/// A socket for `transport` bound to `ip`:`port`. Without `ip`,
/// `[::]` with IPV6_V6ONLY off serves IPv6 and IPv4 clients, and `0.0.0.0` is the fallback on a
/// host without IPv6. An IPv6 `ip` also gets IPV6_V6ONLY off, so `--bind ::` serves IPv4 too
/// whatever `net.ipv6.bindv6only` says. `setup` runs before `bind` (SO_REUSEADDR, buffer
/// sizes, ...). Stream sockets are returned unlistened: call `listen` on them.
pub fn bind(
    ip: Option<IpAddr>,
    port: u16,
    transport: Transport,
    setup: impl Fn(&Socket) -> io::Result<()>,
) -> io::Result<Socket> {
    let (ty, proto) = transport.socket();
    let try_bind = |ip: IpAddr| -> io::Result<Socket> {
        let addr = SocketAddr::new(ip, port);
        let s = Socket::new(Domain::for_address(addr), ty, Some(proto))?;
        if addr.is_ipv6() {
            s.set_only_v6(false)?;
        }
        setup(&s)?;
        s.bind(&addr.into())?;
        Ok(s)
    };
    match ip {
        Some(ip) => try_bind(ip),
        None => try_bind(IpAddr::V6(Ipv6Addr::UNSPECIFIED))
            .or_else(|_| try_bind(IpAddr::V4(Ipv4Addr::UNSPECIFIED))),
    }
}

/// The failure (exit 3) of a socket that cannot listen on `ip`:`port` (`*` without `ip`), with
/// the likely cause and its fix; `in_use_fix` says how to pick another port in this tool (e.g.
/// "choose another --port").
pub fn listen_error(
    transport: Transport,
    ip: Option<IpAddr>,
    port: u16,
    e: &io::Error,
    in_use_fix: &str,
) -> Exit {
    let (proto, ss) = match transport {
        Transport::Tcp => ("TCP", "ss -ltnp"),
        Transport::Udp => ("UDP", "ss -lunp"),
    };
    let at = ip.map_or_else(
        || format!("*:{port}"),
        |ip| SocketAddr::new(ip, port).to_string(),
    );
    let head = format!("cannot listen on {proto} {at}");
    Exit::failure(match e.kind() {
        io::ErrorKind::AddrInUse => format!(
            "{head}: port {port} is already in use (another program listens there: \
             `{ss} 'sport = :{port}'` shows which); {in_use_fix}"
        ),
        io::ErrorKind::AddrNotAvailable => format!(
            "{head}: {} is not an address of this host (`ip addr` lists them); use 0.0.0.0 \
             for all addresses",
            ip.map_or_else(|| "*".to_owned(), |ip| ip.to_string())
        ),
        io::ErrorKind::PermissionDenied => format!(
            "{head}: ports below 1024 need root (or CAP_NET_BIND_SERVICE); use a port such as \
             5000"
        ),
        _ => format!("{head}: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_resolve_without_dns() {
        assert_eq!(
            resolve_first("127.0.0.1", 7).map_err(|e| e.to_string()),
            Ok("127.0.0.1:7".parse().expect("literal"))
        );
        assert_eq!(
            resolve_first("[::1]", 7).map_err(|e| e.to_string()),
            Ok("[::1]:7".parse().expect("literal"))
        );
        assert_eq!(
            resolve_first("::1", 7).map_err(|e| e.to_string()),
            Ok("[::1]:7".parse().expect("literal"))
        );
    }

    #[test]
    fn invalid_tld_fails_at_once_as_a_failure() {
        for h in ["x.invalid", "no.such.host.INVALID.", "invalid"] {
            let e = resolve(h, 1).expect_err(h);
            assert_eq!(e.code(), crate::code::FAILURE);
            let m = e.to_string();
            assert!(m.starts_with(&format!("unknown host '{h}'")), "{m}");
            assert!(m.contains("/etc/hosts or DNS"), "{m}");
        }
        assert!(!is_invalid_tld("invalid.example"));
    }

    #[test]
    fn dual_stack_bind_serves_ipv4() {
        let s = bind(None, 0, Transport::Udp, |_| Ok(())).expect("bind");
        let local = s
            .local_addr()
            .expect("local")
            .as_socket()
            .expect("inet socket");
        assert!(local.ip().is_unspecified());
        let port = local.port();
        // Port taken: the error names the fix.
        let taken = bind(
            Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            0,
            Transport::Tcp,
            |_| Ok(()),
        )
        .expect("bind");
        taken.listen(1).expect("listen");
        let p = taken
            .local_addr()
            .expect("local")
            .as_socket()
            .expect("inet")
            .port();
        let e = bind(
            Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            p,
            Transport::Tcp,
            |_| Ok(()),
        )
        .and_then(|s| s.listen(1))
        .expect_err("port taken");
        let m = listen_error(
            Transport::Tcp,
            Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            p,
            &e,
            "choose another --port",
        )
        .to_string();
        assert!(
            m.contains("already in use") && m.contains("ss -ltnp"),
            "{m}"
        );
        assert!(port > 0);
    }
}
