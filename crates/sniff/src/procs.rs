//! `--process`: which process owns the local end of each packet, from `/proc` (the source
//! `ss -p` uses): the socket tables of this network namespace (`/proc/net/{tcp,tcp6,udp,udp6}`:
//! endpoints → socket inode) and every process's open files (`/proc/PID/fd/*` →
//! `socket:[INODE]`, then `/proc/PID/comm`).
//!
//! Best effort by nature: a socket closed before its packet is printed, a socket of another
//! network namespace, or a process whose `/proc/PID/fd` this user may not read leaves the
//! packet unattributed, and [`Procs::note`] says which of these applied.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

/// A socket's owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub pid: u32,
    pub comm: String,
}

/// An endpoint: protocol (6 or 17), address, port.
type Endpoint = (u8, IpAddr, u16);

#[derive(Debug, Clone, Copy)]
struct Socket {
    inode: u64,
    /// The remote end when connected (TCP states other than LISTEN, connected UDP).
    remote: Option<(IpAddr, u16)>,
}

/// The socket tables and the inode → owner map, refreshed when a packet names an endpoint
/// not seen yet (at most every [`Procs::MIN_REFRESH`]; an endpoint still unknown is retried
/// after [`Procs::RETRY`]).
#[derive(Debug, Default)]
pub struct Procs {
    sockets: HashMap<Endpoint, Vec<Socket>>,
    owners: HashMap<u64, Owner>,
    last_refresh: Option<Instant>,
    misses: HashMap<Endpoint, Instant>,
    /// Packets whose local end was found in the tables but whose inode no readable process
    /// holds (closed, TIME_WAIT, or no permission).
    pub unowned: u64,
    /// Packets with neither end in this namespace's socket tables.
    pub foreign: u64,
    pub attributed: u64,
    /// `/proc/PID/fd` directories this user could not read.
    unreadable: usize,
    /// This namespace's addresses: only an endpoint with one of them can be a local socket
    /// (empty when they could not be listed: every endpoint may be).
    local_addrs: std::collections::HashSet<IpAddr>,
}

/// What `--process` found for one packet: the owner of its source and of its destination.
#[derive(Debug, Clone, Default)]
pub struct Attribution {
    pub src: Option<Owner>,
    pub dst: Option<Owner>,
}

impl Procs {
    const MIN_REFRESH: Duration = Duration::from_millis(20);
    const RETRY: Duration = Duration::from_millis(500);

    pub fn new() -> Procs {
        let mut p = Procs::default();
        if let Ok(devs) = netcap::list_devices() {
            p.local_addrs = devs
                .iter()
                .flat_map(|d| d.addresses.iter().map(|a| a.addr))
                .collect();
        }
        p.refresh();
        p
    }

    fn is_local(&self, a: IpAddr) -> bool {
        self.local_addrs.is_empty() || self.local_addrs.contains(&a) || a.is_loopback()
    }

    /// The owners of a packet's two ends (`proto` 6 or 17).
    pub fn attribute(&mut self, proto: u8, src: (IpAddr, u16), dst: (IpAddr, u16)) -> Attribution {
        let mut a = self.lookup(proto, src, dst);
        // A local end not found yet: a socket opened since the last scan (a client's SYN).
        let missing_src = a.src.is_none() && self.is_local(src.0);
        let missing_dst = a.dst.is_none() && self.is_local(dst.0);
        if (missing_src || missing_dst)
            && self.should_refresh(
                proto,
                missing_src.then_some(src),
                missing_dst.then_some(dst),
            )
        {
            self.refresh();
            a = self.lookup(proto, src, dst);
        }
        if a.src.is_some() || a.dst.is_some() {
            self.attributed += 1;
        } else if self.known(proto, src) || self.known(proto, dst) {
            self.unowned += 1;
        } else {
            self.foreign += 1;
        }
        a
    }

    fn should_refresh(
        &mut self,
        proto: u8,
        src: Option<(IpAddr, u16)>,
        dst: Option<(IpAddr, u16)>,
    ) -> bool {
        let now = Instant::now();
        if self
            .last_refresh
            .is_some_and(|t| now.duration_since(t) < Self::MIN_REFRESH)
        {
            return false;
        }
        let mut any_new = false;
        for e in [src, dst].into_iter().flatten().map(|e| (proto, e.0, e.1)) {
            match self.misses.get(&e) {
                Some(t) if now.duration_since(*t) < Self::RETRY => {}
                _ => {
                    self.misses.insert(e, now);
                    any_new = true;
                }
            }
        }
        if self.misses.len() > 65_536 {
            self.misses.clear();
        }
        any_new
    }

    fn known(&self, proto: u8, e: (IpAddr, u16)) -> bool {
        self.sockets.contains_key(&(proto, e.0, e.1))
            || self.sockets.contains_key(&(proto, unspecified(e.0), e.1))
    }

    fn lookup(&self, proto: u8, src: (IpAddr, u16), dst: (IpAddr, u16)) -> Attribution {
        Attribution {
            src: self.owner(proto, src, dst),
            dst: self.owner(proto, dst, src),
        }
    }

    /// The owner of the socket whose local end is `local` talking to `remote`: a connected
    /// socket first, then one bound to `local` (a listener or unconnected UDP), then one bound
    /// to the wildcard address.
    fn owner(&self, proto: u8, local: (IpAddr, u16), remote: (IpAddr, u16)) -> Option<Owner> {
        let mut keys = vec![
            (proto, local.0, local.1),
            (proto, unspecified(local.0), local.1),
        ];
        if local.0.is_ipv4() {
            // An IPv4 peer of a dual-stack (`::`) socket.
            keys.push((proto, IpAddr::V6(Ipv6Addr::UNSPECIFIED), local.1));
        }
        // The connected socket first, then a listener or unconnected socket (a connection
        // still in the accept queue has no file, hence no owner, yet: its listener's owner).
        let lists: Vec<&Vec<Socket>> = keys.iter().filter_map(|k| self.sockets.get(k)).collect();
        let connected = lists
            .iter()
            .flat_map(|l| l.iter())
            .filter(|s| s.remote == Some(remote));
        let bound = lists
            .iter()
            .flat_map(|l| l.iter())
            .filter(|s| s.remote.is_none());
        connected
            .chain(bound)
            .find_map(|s| self.owners.get(&s.inode))
            .cloned()
    }

    fn refresh(&mut self) {
        self.last_refresh = Some(Instant::now());
        self.sockets.clear();
        for (file, proto, v6) in [
            ("/proc/net/tcp", 6, false),
            ("/proc/net/tcp6", 6, true),
            ("/proc/net/udp", 17, false),
            ("/proc/net/udp6", 17, true),
        ] {
            if let Ok(text) = std::fs::read_to_string(file) {
                for line in text.lines().skip(1) {
                    if let Some((local, s)) = parse_socket_line(line, v6, proto) {
                        self.sockets
                            .entry((proto, local.0, local.1))
                            .or_default()
                            .push(s);
                    }
                }
            }
        }
        self.owners.clear();
        self.unreadable = 0;
        let Ok(dir) = std::fs::read_dir("/proc") else {
            return;
        };
        for e in dir.flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
                continue;
            };
            let Ok(fds) = std::fs::read_dir(e.path().join("fd")) else {
                self.unreadable += 1;
                continue;
            };
            let mut comm = None;
            for fd in fds.flatten() {
                let Ok(target) = std::fs::read_link(fd.path()) else {
                    continue;
                };
                let Some(inode) = target
                    .to_str()
                    .and_then(|t| t.strip_prefix("socket:["))
                    .and_then(|t| t.strip_suffix(']'))
                    .and_then(|t| t.parse::<u64>().ok())
                else {
                    continue;
                };
                let comm = comm.get_or_insert_with(|| {
                    std::fs::read_to_string(e.path().join("comm"))
                        .map(|c| c.trim_end().to_owned())
                        .unwrap_or_else(|_| "?".into())
                });
                // The lowest id wins: a thread group's leader (some kernels' /proc list
                // threads too) and the parent of a socket shared across fork.
                let o = Owner {
                    pid,
                    comm: comm.clone(),
                };
                self.owners
                    .entry(inode)
                    .and_modify(|x| {
                        if pid < x.pid {
                            *x = o.clone();
                        }
                    })
                    .or_insert(o);
            }
        }
    }

    /// The end-of-capture note on what could not be attributed and why.
    pub fn note(&self) -> Option<String> {
        if self.unowned == 0 && self.foreign == 0 {
            return None;
        }
        let mut why = Vec::new();
        if self.unowned > 0 {
            why.push(format!(
                "{} had a local socket no process held any more (closed, TIME_WAIT){}",
                self.unowned,
                if self.unreadable > 0 {
                    format!(
                        " or held by one of {} processes whose /proc/PID/fd this user cannot read (run as root)",
                        self.unreadable
                    )
                } else {
                    String::new()
                }
            ));
        }
        if self.foreign > 0 {
            why.push(format!(
                "{} had no socket on this host in this network namespace (forwarded, another namespace, or a socket already gone)",
                self.foreign
            ));
        }
        Some(format!(
            "--process: {} packets attributed; of the others, {}",
            self.attributed,
            why.join("; ")
        ))
    }
}

fn unspecified(a: IpAddr) -> IpAddr {
    match a {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    }
}

/// One line of `/proc/net/{tcp,udp}[6]`: the local endpoint and the socket.
fn parse_socket_line(line: &str, v6: bool, proto: u8) -> Option<((IpAddr, u16), Socket)> {
    let mut f = line.split_whitespace();
    let _sl = f.next()?;
    let local = parse_endpoint(f.next()?, v6)?;
    let remote = parse_endpoint(f.next()?, v6)?;
    let state = u8::from_str_radix(f.next()?, 16).ok()?;
    // tx:rx, tr:when, retrnsmt, uid, timeout, inode
    let inode = f.nth(5)?.parse::<u64>().ok()?;
    // TCP LISTEN (0x0A) and UDP without a peer have no remote end.
    let connected = remote.1 != 0 && !(proto == 6 && state == 0x0a);
    Some((
        local,
        Socket {
            inode,
            remote: connected.then_some(remote),
        },
    ))
}

/// `0100007F:1388` (IPv4: the address's 32-bit word in host order) or 32 hex digits of four
/// host-order words (IPv6), then the port in hex.
fn parse_endpoint(s: &str, v6: bool) -> Option<(IpAddr, u16)> {
    let (addr, port) = s.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    // The kernel prints each 32-bit word of the address as it sits in memory, read in host
    // byte order: its native-endian bytes are the address's bytes.
    let word = |h: &str| u32::from_str_radix(h, 16).ok();
    let bytes = |w: u32| {
        if cfg!(target_endian = "little") {
            w.to_le_bytes()
        } else {
            w.to_be_bytes()
        }
    };
    let ip = if v6 {
        if addr.len() != 32 {
            return None;
        }
        let mut b = [0u8; 16];
        for i in 0..4 {
            let w = word(addr.get(i * 8..i * 8 + 8)?)?;
            b[i * 4..i * 4 + 4].copy_from_slice(&bytes(w));
        }
        IpAddr::V6(b.into())
    } else {
        IpAddr::V4(bytes(word(addr)?).into())
    };
    Some((ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_net_lines() {
        let l = "   1: 0100007F:90A8 0100007F:1388 01 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 20 4 30 10 -1";
        let (local, s) = parse_socket_line(l, false, 6).unwrap();
        assert_eq!(local, ("127.0.0.1".parse().unwrap(), 0x90a8));
        assert_eq!(s.remote, Some(("127.0.0.1".parse().unwrap(), 5000)));
        assert_eq!(s.inode, 4242);
        let l6 = "   0: 00000000000000000000000001000000:1388 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 77 1 0000000000000000 100 0 0 10 0";
        let (local, s) = parse_socket_line(l6, true, 6).unwrap();
        assert_eq!(local, ("::1".parse().unwrap(), 5000));
        assert_eq!((s.remote, s.inode), (None, 77));
        assert!(parse_socket_line("garbage", false, 6).is_none());
    }
}

#[cfg(test)]
mod live_tests {
    use super::*;

    /// This test's own sockets are attributed to this process, both ends of a loopback
    /// connection, the listener included.
    #[test]
    fn own_sockets_are_attributed_to_this_process() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let la = l.local_addr().unwrap();
        let mut p = Procs::new();
        let me = std::process::id();
        let client = (IpAddr::from([127, 0, 0, 1]), 1);
        let a = p.attribute(6, client, (la.ip(), la.port()));
        assert_eq!(a.dst.map(|o| o.pid), Some(me), "the listener");
        let c = std::net::TcpStream::connect(la).unwrap();
        let ca = c.local_addr().unwrap();
        std::thread::sleep(Duration::from_millis(30));
        let a = p.attribute(6, (ca.ip(), ca.port()), (la.ip(), la.port()));
        assert_eq!(
            a.src.map(|o| o.pid),
            Some(me),
            "the client end, a new socket"
        );
        assert_eq!(a.dst.map(|o| o.pid), Some(me));
    }
}
