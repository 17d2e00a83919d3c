//! `--process`: which process owns the local end of each packet, from `/proc` (the source
//! `ss -p` uses): the socket tables of this network namespace (`/proc/net/{tcp,tcp6,udp,udp6}`:
//! endpoints → socket inode) and every process's open files (`/proc/PID/fd/*` →
//! `socket:[INODE]`, then `/proc/PID/comm`).
//!
//! Best effort by nature: a socket closed before its packet is printed, a socket of another
//! network namespace, or a process whose `/proc/PID/fd` this user may not read leaves the
//! packet unattributed (`[?]` on its local end), and [`Procs::note`] says which of these
//! applied. Reading a socket table takes milliseconds on a busy host, so a client that lives
//! less than that (hello-client's whole exchange takes about 5 ms) may be gone before its
//! file descriptors are read.

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

/// A local end and the remote end it talks to.
type Ends = ((IpAddr, u16), (IpAddr, u16));

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
    /// Packets with a local end found in the tables whose inode no readable process holds
    /// (closed, TIME_WAIT, or no permission).
    pub unowned: u64,
    /// Packets with a local end in none of this namespace's socket tables.
    pub foreign: u64,
    pub attributed: u64,
    /// `/proc/PID/fd` directories this user could not read.
    unreadable: usize,
    /// This namespace's addresses: only an endpoint with one of them can be a local socket
    /// (empty when they could not be listed: every endpoint may be).
    local_addrs: std::collections::HashSet<IpAddr>,
    /// The processes of the last scan.
    seen_pids: std::collections::HashSet<u32>,
}

/// What `--process` found for one packet: the owner of its source and of its destination.
#[derive(Debug, Clone, Default)]
pub struct Attribution {
    pub src: Option<Owner>,
    pub dst: Option<Owner>,
    /// The source (destination) is an address of this host but no process was found for it:
    /// printed `[?]`.
    pub src_unknown: bool,
    pub dst_unknown: bool,
}

impl Attribution {
    /// The packet comment a pcapng file carries: `src curl/5678 > dst hello-server/4242`
    /// (`?` for a local end no process was found for, `-` for a remote end); `None` when
    /// neither end is local.
    pub fn comment(&self) -> Option<String> {
        let end = |o: &Option<Owner>, unknown: bool| match o {
            Some(o) => format!("{}/{}", o.comm, o.pid),
            None if unknown => "?".to_owned(),
            None => "-".to_owned(),
        };
        if self.src.is_none() && self.dst.is_none() && !self.src_unknown && !self.dst_unknown {
            return None;
        }
        Some(format!(
            "process: src {} > dst {}",
            end(&self.src, self.src_unknown),
            end(&self.dst, self.dst_unknown)
        ))
    }
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

    /// The owners of a decoded packet's two ends; `None` for a packet that is not TCP or UDP.
    pub fn attribute_frame(&mut self, f: &netproto::frame::Frame<'_>) -> Option<Attribution> {
        match (f.src_ip(), f.dst_ip(), f.ports(), f.ip_proto()) {
            (Some(s), Some(d), Some((sp, dp)), Some(proto @ (6 | 17))) => {
                Some(self.attribute(proto, (s, sp), (d, dp)))
            }
            _ => None,
        }
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
            self.refresh_for(
                proto,
                [
                    missing_src.then_some((src, dst)),
                    missing_dst.then_some((dst, src)),
                ],
            );
            a = self.lookup(proto, src, dst);
        }
        a.src_unknown = a.src.is_none() && self.is_local(src.0);
        a.dst_unknown = a.dst.is_none() && self.is_local(dst.0);
        if !a.src_unknown && !a.dst_unknown && (a.src.is_some() || a.dst.is_some()) {
            self.attributed += 1;
        } else if (a.src_unknown && self.known(proto, src))
            || (a.dst_unknown && self.known(proto, dst))
        {
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
            ..Attribution::default()
        }
    }

    /// The owner of the socket whose local end is `local` talking to `remote`: a connected
    /// socket first, then one bound to `local` (a listener or unconnected UDP), then one bound
    /// to the wildcard address.
    fn owner(&self, proto: u8, local: (IpAddr, u16), remote: (IpAddr, u16)) -> Option<Owner> {
        // An IPv4 peer of a dual-stack (`::`) socket too.
        let dual = local
            .0
            .is_ipv4()
            .then_some((proto, IpAddr::V6(Ipv6Addr::UNSPECIFIED), local.1));
        let keys = [
            Some((proto, local.0, local.1)),
            Some((proto, unspecified(local.0), local.1)),
            dual,
        ];
        let lists = || {
            keys.iter()
                .flatten()
                .filter_map(|k| self.sockets.get(k))
                .flatten()
        };
        // The connected socket first, then a listener or unconnected socket (a connection
        // still in the accept queue has no file, hence no owner, yet: its listener's owner).
        let connected = lists().filter(|s| s.remote == Some(remote));
        let bound = lists().filter(|s| s.remote.is_none());
        connected
            .chain(bound)
            .find_map(|s| self.owners.get(&s.inode))
            .cloned()
    }

    /// The fast rescan for a packet whose local end(s) `missing` (local, remote) are unknown:
    /// re-read the one socket table of `proto`/`v6`, then walk processes (those the last scan
    /// did not see first) only until the new sockets' owners are found. A short-lived client
    /// is then still alive when its file descriptors are read.
    fn refresh_for(&mut self, proto: u8, missing: [Option<Ends>; 2]) {
        self.last_refresh = Some(Instant::now());
        // Both tables of the protocol: an IPv4 end may belong to a dual-stack socket, listed
        // in the IPv6 table (as ::ffff:a.b.c.d, keyed as IPv4).
        let texts: Vec<(bool, String)> = [false, true]
            .into_iter()
            .filter_map(|t6| {
                let file = match (proto, t6) {
                    (6, false) => "/proc/net/tcp",
                    (6, true) => "/proc/net/tcp6",
                    (_, false) => "/proc/net/udp",
                    (_, true) => "/proc/net/udp6",
                };
                read_proc(file).map(|t| (t6, t))
            })
            .collect();
        if texts.is_empty() {
            return;
        }
        self.sockets.retain(|k, _| k.0 != proto);
        for (t6, text) in &texts {
            for line in text.lines().skip(1) {
                if let Some((local, sk)) = parse_socket_line(line, *t6, proto) {
                    self.sockets
                        .entry((proto, local.0, local.1))
                        .or_default()
                        .push(sk);
                }
            }
        }
        let mut wanted = std::collections::HashSet::new();
        for (local, remote) in missing.into_iter().flatten() {
            for k in [
                (proto, local.0, local.1),
                (proto, unspecified(local.0), local.1),
            ] {
                for sk in self.sockets.get(&k).into_iter().flatten() {
                    if sk.inode != 0
                        && (sk.remote == Some(remote) || sk.remote.is_none())
                        && !self.owners.contains_key(&sk.inode)
                    {
                        wanted.insert(sk.inode);
                    }
                }
            }
        }
        if !wanted.is_empty() {
            self.scan_fds(Some(&mut wanted));
        }
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
            if let Some(text) = read_proc(file) {
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
        self.scan_fds(None);
    }

    /// Read the processes' socket fds into `owners` (processes the last scan did not see
    /// first); with `wanted`, stop once all those inodes have an owner.
    fn scan_fds(&mut self, mut wanted: Option<&mut std::collections::HashSet<u64>>) {
        self.unreadable = 0;
        let Ok(dir) = std::fs::read_dir("/proc") else {
            return;
        };
        let mut pids: Vec<u32> = dir
            .flatten()
            .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()))
            .collect();
        // Processes the last scan did not see first: a short-lived client (the usual
        // newcomer) is read before it exits.
        pids.sort_unstable_by_key(|p| self.seen_pids.contains(p));
        self.seen_pids = pids.iter().copied().collect();
        for pid in pids {
            if wanted.as_deref().is_some_and(|w| w.is_empty()) {
                break;
            }
            let base = std::path::PathBuf::from(format!("/proc/{pid}"));
            let Ok(fds) = std::fs::read_dir(base.join("fd")) else {
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
                    std::fs::read_to_string(base.join("comm"))
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
                if let Some(w) = wanted.as_deref_mut() {
                    w.remove(&inode);
                }
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
                "{} had a local end with no socket in this network namespace's tables (a short-lived socket already closed, or one of another namespace)",
                self.foreign
            ));
        }
        Some(format!(
            "--process: {} packets attributed at both local ends; of the others (marked [?]), {}",
            self.attributed,
            why.join("; ")
        ))
    }
}

/// A /proc file in one or two reads (the kernel gives no size, and each read of a socket
/// table costs: short-lived sockets must still be there when the scan reaches them).
fn read_proc(path: &str) -> Option<String> {
    use std::io::Read;
    let mut f = std::fs::File::open(path).ok()?;
    let mut v = Vec::with_capacity(256 * 1024);
    f.read_to_end(&mut v).ok()?;
    String::from_utf8(v).ok()
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
        // A dual-stack socket talking IPv4 shows its ends as ::ffff:a.b.c.d: the packets
        // carry a.b.c.d.
        let v6 = Ipv6Addr::from(b);
        v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4)
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
        // A dual-stack socket talking IPv4: ::ffff:127.0.0.1 is 127.0.0.1, as in the packets.
        let mapped = "   2: 0000000000000000FFFF00000100007F:14B5 0000000000000000FFFF00000100007F:ED08 01 00000000:00000000 00:00000000 00000000     0        0 99 1 0000000000000000 20 4 30 10 -1";
        let (local, s) = parse_socket_line(mapped, true, 17).unwrap();
        assert_eq!(local, ("127.0.0.1".parse().unwrap(), 5301));
        assert_eq!(s.remote, Some(("127.0.0.1".parse().unwrap(), 0xed08)));
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

    /// A dual-stack UDP socket (bound to `::`, as iperf3's is) opened after the first scan
    /// and connected to an IPv4 peer: its IPv4 packets are attributed to it.
    #[test]
    fn a_dual_stack_socket_talking_ipv4_is_attributed() {
        let mut p = Procs::new();
        let peer = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let pa = peer.local_addr().unwrap();
        let s = std::net::UdpSocket::bind("[::]:0").unwrap();
        s.connect(format!("[::ffff:127.0.0.1]:{}", pa.port()))
            .unwrap();
        let port = s.local_addr().unwrap().port();
        std::thread::sleep(Duration::from_millis(30));
        let a = p.attribute(
            17,
            (pa.ip(), pa.port()),
            (IpAddr::from([127, 0, 0, 1]), port),
        );
        assert_eq!(a.dst.map(|o| o.pid), Some(std::process::id()));
        assert_eq!(
            a.src.map(|o| o.pid),
            Some(std::process::id()),
            "the peer too"
        );
    }
}
