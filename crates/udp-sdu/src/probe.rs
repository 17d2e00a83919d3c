//! `echo` and `probe`: the largest UDP SDU, found experimentally.
//!
//! The probe binary-searches three limits over one connected socket (so ICMP errors and the
//! kernel's path MTU come back to it): (a) the largest size `send` accepts (above it the kernel
//! answers EMSGSIZE), (b) the largest size the echo server reports having received (each size
//! is retried before it is declared lost), and with `--dont-fragment` (a) becomes the path-MTU
//! limit. Each step is one datagram, so it takes O(log 65535) = 16 sends per limit.

use crate::sockopt;
use netcli::Exit;
use socket2::{Domain, Protocol, Socket, Type};
use std::io::{self, ErrorKind};
use std::net::{SocketAddr, UdpSocket};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Receive buffer of the probe: more than the largest UDP payload.
const RECV_BUF: usize = 65536;

/// `udp-sdu echo`: answer each datagram with its size as 4 bytes in network order. Forever.
pub fn echo(sock: &UdpSocket) -> anyhow::Result<ExitCode> {
    crate::serve_datagrams(sock, |data, peer| {
        log::debug!("{peer}: {} bytes", data.len());
        Ok((data.len() as u32).to_be_bytes().to_vec())
    })
}

pub struct Options {
    pub target: SocketAddr,
    pub dont_fragment: bool,
    pub timeout: Duration,
    pub retries: u32,
}

/// What the probe found.
pub struct Outcome {
    target: SocketAddr,
    dont_fragment: bool,
    send_limit: usize,
    arrival_limit: usize,
    path_mtu: Option<u32>,
    /// The path MTU the kernel knew before the probe (DF only): the local link's.
    mtu_before: Option<u32>,
    datagrams: u32,
    elapsed: Duration,
}

impl Outcome {
    fn ipv6(&self) -> bool {
        self.target.is_ipv6()
    }

    /// Why the send limit is what it is, e.g. `65507 = 65535 − 20 (IPv4 header) − 8 (UDP header)`.
    pub fn explain_send_limit(&self) -> String {
        let n = self.send_limit;
        if self.ipv6() {
            if n + 8 == 65535 {
                format!(
                    "{n} = 65535 (largest IPv6 payload length; the 40-byte IPv6 header is not counted) − 8 (UDP header)"
                )
            } else {
                format!(
                    "{n} = {} − 40 (IPv6 header) − 8 (UDP header)",
                    self.mtu_words(n + 48)
                )
            }
        } else if n + 28 == 65535 {
            format!("{n} = 65535 (largest IPv4 total length) − 20 (IPv4 header) − 8 (UDP header)")
        } else {
            format!(
                "{n} = {} − 20 (IPv4 header) − 8 (UDP header)",
                self.mtu_words(n + 28)
            )
        }
    }

    /// "1500 (path MTU)", or "1400 (path MTU learned from ICMP; the local link's is 1500)".
    fn mtu_words(&self, mtu: usize) -> String {
        match self.mtu_before {
            Some(before) if (before as usize) > mtu => {
                let icmp = if self.ipv6() {
                    "ICMPv6 \"packet too big\""
                } else {
                    "ICMP \"fragmentation needed\""
                };
                format!("{mtu} (path MTU, learned from {icmp}; the local link's is {before})")
            }
            _ => format!("{mtu} (path MTU)"),
        }
    }

    fn explain_arrival(&self) -> String {
        if self.arrival_limit == self.send_limit {
            "every size the OS sends reaches the echo server".to_string()
        } else {
            format!(
                "datagrams of {}..={} bytes were sent but never echoed: lost on the way (a smaller MTU that drops them, fragments lost or refused) or by the receiver",
                self.arrival_limit + 1,
                self.send_limit
            )
        }
    }

    pub fn to_text(&self) -> String {
        let family = if self.ipv6() { "IPv6" } else { "IPv4" };
        let mode = if self.dont_fragment {
            "don't-fragment set"
        } else {
            "fragmentation allowed"
        };
        let mut s = format!("target {} ({family}), {mode}", self.target);
        if let Some(mtu) = self.path_mtu {
            s += &format!(", kernel path MTU {mtu}");
        }
        s += "\n";
        let what = if self.dont_fragment {
            "largest datagram that fits the path MTU (DF)"
        } else {
            "largest datagram the OS accepts to send"
        };
        s += &format!(
            "{what}: {} bytes\n  {}\n",
            self.send_limit,
            self.explain_send_limit()
        );
        s += &format!(
            "largest datagram that arrives: {} bytes\n  {}\n",
            self.arrival_limit,
            self.explain_arrival()
        );
        s += &format!(
            "{} datagrams in {:.2} s\n",
            self.datagrams,
            self.elapsed.as_secs_f64()
        );
        s
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "type": "probe",
            "target": self.target.to_string(),
            "family": if self.ipv6() { "ipv6" } else { "ipv4" },
            "dont_fragment": self.dont_fragment,
            "send_limit": self.send_limit,
            "arrival_limit": self.arrival_limit,
            "path_mtu": self.path_mtu,
            "local_mtu": self.mtu_before,
            "explanation": self.explain_send_limit(),
            "datagrams": self.datagrams,
            "elapsed_ms": self.elapsed.as_millis() as u64,
        })
    }
}

struct Prober<'a> {
    sock: UdpSocket,
    opts: &'a Options,
    buf: Vec<u8>,
    datagrams: u32,
}

impl Prober<'_> {
    /// Send `size` bytes. Ok(false) when the kernel refuses the size (EMSGSIZE).
    ///
    /// An EMSGSIZE may also be a pending error: an ICMP "fragmentation needed" / "packet
    /// too big" for an earlier datagram, reported once on the next call of a connected
    /// socket. Only a second EMSGSIZE in a row is the kernel refusing this size.
    fn send(&mut self, size: usize) -> anyhow::Result<bool> {
        for attempt in 0..2 {
            match self.sock.send(&self.buf[..size]) {
                Ok(_) => {
                    self.datagrams += 1;
                    return Ok(true);
                }
                Err(e) if e.raw_os_error() == Some(libc::EMSGSIZE) => {
                    if attempt == 1 {
                        return Ok(false);
                    }
                }
                Err(e) => return Err(self.net_error(e).into()),
            }
        }
        Ok(false)
    }

    fn net_error(&self, e: io::Error) -> Exit {
        if e.kind() == ErrorKind::ConnectionRefused {
            Exit::failure(format!(
                "nothing listens on UDP {} (ICMP port unreachable): start `udp-sdu echo {}` there",
                self.opts.target,
                self.opts.target.port()
            ))
        } else {
            Exit::failure(format!("UDP to {}: {e}", self.opts.target))
        }
    }

    /// Does a `size`-byte datagram get echoed? Retries before saying no.
    fn arrives(&mut self, size: usize) -> anyhow::Result<bool> {
        let mut reply = [0u8; 16];
        for attempt in 0..=self.opts.retries {
            if !self.send(size)? {
                return Ok(false);
            }
            let deadline = Instant::now() + self.opts.timeout;
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                self.sock.set_read_timeout(Some(left))?;
                match self.sock.recv(&mut reply) {
                    // Older echoes (other sizes) may still be queued: skip them.
                    Ok(4)
                        if u32::from_be_bytes([reply[0], reply[1], reply[2], reply[3]])
                            == size as u32 =>
                    {
                        log::debug!("{size} bytes: echoed");
                        return Ok(true);
                    }
                    Ok(_) => {}
                    Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                        break;
                    }
                    // ICMP "too big" for a datagram on its way: the kernel lowered its path
                    // MTU; this size's echo may still come.
                    Err(e) if e.raw_os_error() == Some(libc::EMSGSIZE) => {
                        log::debug!("ICMP: a datagram was too big for the path");
                    }
                    Err(e) => return Err(self.net_error(e).into()),
                }
            }
            log::debug!("{size} bytes: no echo (try {})", u64::from(attempt) + 1);
        }
        Ok(false)
    }

    /// Largest n in [lo, hi) with ok(n), knowing ok(lo) and (if hi ≤ 65535) !ok(hi).
    fn search(
        &mut self,
        mut lo: usize,
        mut hi: usize,
        mut ok: impl FnMut(&mut Self, usize) -> anyhow::Result<bool>,
    ) -> anyhow::Result<usize> {
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if ok(self, mid)? {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        Ok(lo)
    }
}

/// Run the three searches against `opts.target`.
pub fn probe(opts: &Options) -> anyhow::Result<Outcome> {
    let start = Instant::now();
    let ipv6 = opts.target.is_ipv6();
    let s = Socket::new(
        Domain::for_address(opts.target),
        Type::DGRAM,
        Some(Protocol::UDP),
    )?;
    let _ = s.set_send_buffer_size(1 << 20);
    let _ = s.set_recv_buffer_size(1 << 20);
    let sock: UdpSocket = s.into();
    sock.connect(opts.target)
        .map_err(|e| Exit::failure(format!("cannot reach {}: {e}", opts.target)))?;
    if opts.dont_fragment {
        sockopt::set_dont_fragment(&sock, ipv6)
            .map_err(|e| Exit::failure(format!("cannot set don't-fragment: {e}")))?;
    }
    let mut p = Prober {
        sock,
        opts,
        buf: vec![0x5a; RECV_BUF],
        datagrams: 0,
    };
    // Is anyone there? An empty datagram must come back as "0".
    if !p.arrives(0)? {
        return Err(Exit::failure(format!(
            "no answer from {} after {} tries of {} ms: is `udp-sdu echo {}` running there?",
            opts.target,
            u64::from(opts.retries) + 1,
            opts.timeout.as_millis(),
            opts.target.port()
        ))
        .into());
    }
    let mtu_before = if opts.dont_fragment {
        sockopt::path_mtu(&p.sock, ipv6).ok()
    } else {
        None
    };
    let mut send_limit = p.search(0, 65536, |p, n| p.send(n))?;
    log::debug!("send limit {send_limit}");
    let arrival_limit = if p.arrives(send_limit)? {
        send_limit
    } else {
        p.search(0, send_limit, |p, n| p.arrives(n))?
    };
    let path_mtu = if opts.dont_fragment {
        // Datagrams larger than a link further on brought back ICMP errors during the
        // searches and the kernel lowered its path MTU: search again against the new one.
        let again = p.search(0, 65536, |p, n| p.send(n))?;
        if again != send_limit {
            log::debug!("send limit {send_limit} -> {again} after path MTU discovery");
            send_limit = again;
        }
        sockopt::path_mtu(&p.sock, ipv6).ok()
    } else {
        None
    };
    Ok(Outcome {
        target: opts.target,
        dont_fragment: opts.dont_fragment,
        send_limit,
        arrival_limit: arrival_limit.min(send_limit),
        path_mtu,
        mtu_before,
        datagrams: p.datagrams,
        elapsed: start.elapsed(),
    })
}
