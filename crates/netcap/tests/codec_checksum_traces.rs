//! netproto's Internet checksum against etherparse's on every complete IPv4/TCP/UDP packet of
//! the CNP3 traces: both must compute the same IPv4 header, TCP and UDP checksums, and the
//! checksums stored in the packets must verify. The one exception is checksum offload in
//! packets captured on the host that sent them (the netkit routing traces, simple-trace's DNS
//! query): there the kernel left the TCP/UDP checksum to the NIC (CHECKSUM_PARTIAL) and the
//! field holds only the pseudo-header sum — which the test checks exactly, so any other bad
//! checksum fails. How many segments verify and how many are offloaded is exact per trace
//! ([`TRACES`]), and with tshark installed its own verdict on every frame must equal ours.

// Helpers outside #[test] fns too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use etherparse::{NetSlice, SlicedPacket, TransportSlice};
use netproto::checksum::{self, Checksum};
use testsupport::{require_peer, shared_traces};

/// What the test concluded about one frame's checksums, in tshark's terms (its
/// `*.checksum.status`: 1 = Good, 0 = Bad; `None` = no such header, or not checked).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Verdicts {
    ip: Option<Status>,
    tcp: Option<Status>,
    udp: Option<Status>,
}

/// A checked transport (or IPv4 header) checksum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    /// The stored checksum verifies (tshark: Good).
    Verified,
    /// It does not verify, and holds exactly the pseudo-header sum that Linux leaves for the
    /// NIC under checksum offload (tshark: Bad). Any other bad checksum fails the test.
    Offloaded,
}

/// Stored transport checksum verdict: it verifies, or — and only then — it is exactly the
/// pseudo-header sum an offloading kernel leaves (the NIC would add the data and complement).
fn transport_status(ctx: &str, pseudo: &[u8], segment: &[u8], stored: u16) -> Status {
    if Checksum::new().add(pseudo).add(segment).sum() == 0xFFFF {
        return Status::Verified;
    }
    assert_eq!(
        stored,
        checksum::sum(pseudo),
        "{ctx}: stored checksum {stored:#06x} neither verifies nor is the offload pseudo-header sum"
    );
    Status::Offloaded
}

/// Our transport checksum: pseudo-header then the segment with its checksum field zeroed.
fn transport_checksum(pseudo: &[u8], segment: &[u8], checksum_at: usize) -> u16 {
    let mut c = Checksum::new();
    c.add(pseudo)
        .add(&segment[..checksum_at])
        .add(&[0, 0])
        .add(&segment[checksum_at + 2..]);
    c.finish()
}

fn pseudo_header(net: &NetSlice, proto: u8, len: usize) -> Vec<u8> {
    let mut p = Vec::new();
    match net {
        NetSlice::Ipv4(ip) => {
            p.extend_from_slice(&ip.header().source());
            p.extend_from_slice(&ip.header().destination());
            p.extend_from_slice(&[0, proto]);
            p.extend_from_slice(&(len as u16).to_be_bytes());
        }
        NetSlice::Ipv6(ip) => {
            p.extend_from_slice(&ip.header().source());
            p.extend_from_slice(&ip.header().destination());
            p.extend_from_slice(&(len as u32).to_be_bytes());
            p.extend_from_slice(&[0, 0, 0, proto]);
        }
        NetSlice::Arp(_) => unreachable!("only called for IP"),
    }
    p
}

fn check_packet(data: &[u8], sll: bool, ctx: &str) -> Verdicts {
    let mut v = Verdicts::default();
    let sliced = if sll {
        SlicedPacket::from_linux_sll(data)
    } else {
        SlicedPacket::from_ethernet(data)
    };
    let Ok(p) = sliced else { return v };
    let Some(net) = &p.net else { return v };

    if let NetSlice::Ipv4(ip) = net {
        let h = ip.header();
        let ours = {
            let mut c = Checksum::new();
            c.add(&h.slice()[..10]).add(&h.slice()[12..]);
            c.finish()
        };
        assert_eq!(ours, h.to_header().calc_header_checksum(), "{ctx}: IPv4");
        // No offload exception for the IPv4 header: the kernel always fills it in.
        assert!(checksum::verify(h.slice()), "{ctx}: stored IPv4 checksum");
        assert_eq!(h.header_checksum(), ours, "{ctx}: IPv4 stored");
        v.ip = Some(Status::Verified);
    }
    if match net {
        NetSlice::Ipv4(ip) => ip.is_payload_fragmented(),
        NetSlice::Ipv6(ip) => ip.is_payload_fragmented(),
        NetSlice::Arp(_) => true,
    } {
        return v;
    }
    let (src4, dst4, src6, dst6) = match net {
        NetSlice::Ipv4(ip) => (
            Some(ip.header().source()),
            Some(ip.header().destination()),
            None,
            None,
        ),
        NetSlice::Ipv6(ip) => (
            None,
            None,
            Some(ip.header().source()),
            Some(ip.header().destination()),
        ),
        NetSlice::Arp(_) => return v,
    };
    match &p.transport {
        Some(TransportSlice::Tcp(tcp)) => {
            let seg = tcp.slice();
            let pseudo = pseudo_header(net, 6, seg.len());
            let ours = transport_checksum(&pseudo, seg, 16);
            let theirs = match (src4, dst4, src6, dst6) {
                (Some(s), Some(d), _, _) => tcp.calc_checksum_ipv4(s, d).unwrap(),
                (_, _, Some(s), Some(d)) => tcp.calc_checksum_ipv6(s, d).unwrap(),
                _ => unreachable!(),
            };
            assert_eq!(ours, theirs, "{ctx}: TCP");
            let status = transport_status(&format!("{ctx}: TCP"), &pseudo, seg, tcp.checksum());
            // Verifying (sum of all = 0xFFFF) and comparing with the computed value agree.
            assert_eq!(
                status == Status::Verified,
                tcp.checksum() == ours,
                "{ctx}: TCP verify vs compare"
            );
            v.tcp = Some(status);
        }
        Some(TransportSlice::Udp(udp)) => {
            let seg = udp.slice();
            if udp.checksum() == 0 && src4.is_some() {
                return v; // IPv4 UDP without a checksum
            }
            let pseudo = pseudo_header(net, 17, seg.len());
            let ours = transport_checksum(&pseudo, seg, 6);
            let h = udp.to_header();
            let theirs = match (src4, dst4, src6, dst6) {
                (Some(s), Some(d), _, _) => h.calc_checksum_ipv4_raw(s, d, udp.payload()),
                (_, _, Some(s), Some(d)) => h.calc_checksum_ipv6_raw(s, d, udp.payload()),
                _ => unreachable!(),
            }
            .unwrap();
            // UDP transmits a computed 0 as 0xFFFF (RFC 768); etherparse does that too.
            let ours = if ours == 0 { 0xFFFF } else { ours };
            assert_eq!(ours, theirs, "{ctx}: UDP");
            let status = transport_status(&format!("{ctx}: UDP"), &pseudo, seg, udp.checksum());
            assert_eq!(
                status == Status::Verified,
                udp.checksum() == ours,
                "{ctx}: UDP verify vs compare"
            );
            v.udp = Some(status);
        }
        _ => {}
    }
    v
}

/// Every trace of the shared directory, no more and no fewer, and what its frames hold,
/// counted independently with tshark 4.x and capinfos:
/// `tshark -n -r FILE -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE
///  -o udp.check_checksum:TRUE -T fields -e ip.checksum.status -e tcp.checksum.status
///  -e udp.checksum.status | sort | uniq -c` (status 1 = Good = verified, 0 = Bad = offloaded
/// here) and `capinfos -c FILE`.
///
/// Offload appears in exactly three places: the 50 BGP segments of the netkit router (IPv6
/// over Linux SLL), the 10 RIPng datagrams of the netkit router, and the one DNS query that
/// simple-trace's host sent (frame 1: captured on the sender, before a NIC filled the checksum
/// in). Totals: 1250 IPv4 headers (all verify), 2504 TCP segments (2454 verified + 50
/// offloaded), 12 UDP datagrams (1 verified + 11 offloaded).
#[rustfmt::skip]
const TRACES: [(&str, usize, usize, [usize; 4]); 15] = [
    // file                                     frames IPv4   [TCP ok, TCP off, UDP ok, UDP off]
    ("bgp-as1-trace.pcap",                        50,    0,   [   0,  50, 0,  0]),
    ("ospf6-r1-trace.pcap",                      100,    0,   [   0,   0, 0,  0]),
    ("ripng-r1-trace.pcap",                       10,    0,   [   0,   0, 0, 10]),
    ("simple-trace.pcap",                         12,    2,   [  10,   0, 1,  1]),
    ("stp-s1-trace.pcap",                         50,    0,   [   0,   0, 0,  0]),
    ("trace.5connections.pcap",                   12,   10,   [  10,   0, 0,  0]),
    ("trace.5connections_opening_closing.pcap",   41,   39,   [  39,   0, 0,  0]),
    ("trace.ipv6.google.com.pcap",               184,   26,   [ 184,   0, 0,  0]),
    ("trace.maps.google.com.pcap",              1122, 1122,   [1122,   0, 0,  0]),
    ("trace.sirius.info.ucl.ac.be.pcap",          51,   51,   [  51,   0, 0,  0]),
    ("trace0.pcap",                              233,    0,   [ 233,   0, 0,  0]),
    ("trace1.pcap",                              231,    0,   [ 231,   0, 0,  0]),
    ("trace2.pcap",                              241,    0,   [ 241,   0, 0,  0]),
    ("trace3.pcap",                              252,    0,   [ 252,   0, 0,  0]),
    ("trace9.pcap",                               81,    0,   [  81,   0, 0,  0]),
];

/// Our verdicts for every frame of `path` (index i = frame i + 1).
fn our_verdicts(path: &std::path::Path, name: &str) -> Vec<Verdicts> {
    let mut cap = pcap::Capture::from_file(path).unwrap_or_else(|e| panic!("{name}: {e}"));
    let sll = match cap.get_datalink() {
        pcap::Linktype::ETHERNET => false,
        pcap::Linktype::LINUX_SLL => true,
        other => panic!("{name}: unexpected link type {other:?}"),
    };
    let mut frames = Vec::new();
    loop {
        let pkt = match cap.next_packet() {
            Ok(pkt) => pkt,
            Err(pcap::Error::NoMorePackets) => break,
            Err(e) => panic!("{name}: reading frame {}: {e}", frames.len() + 1),
        };
        let ctx = format!("{name} frame {}", frames.len() + 1);
        // Only complete packets: a snapped packet cannot be checksummed.
        frames.push(if pkt.header.caplen == pkt.header.len {
            check_packet(pkt.data, sll, &ctx)
        } else {
            Verdicts::default()
        });
    }
    frames
}

/// tshark's checksum verdicts for every frame of `path`, in the same form.
fn tshark_verdicts(path: &std::path::Path, name: &str) -> Vec<Verdicts> {
    let out = std::process::Command::new("tshark")
        .args(["-n", "-r"])
        .arg(path)
        .args([
            "-o",
            "ip.check_checksum:TRUE",
            "-o",
            "tcp.check_checksum:TRUE",
            "-o",
            "udp.check_checksum:TRUE",
            "-T",
            "fields",
            "-E",
            "separator=/t",
            "-e",
            "frame.number",
            "-e",
            "ip.checksum.status",
            "-e",
            "tcp.checksum.status",
            "-e",
            "udp.checksum.status",
        ])
        .output()
        .expect("run tshark");
    assert!(
        out.status.success(),
        "tshark failed on {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let status = |f: &str| match f {
        "" => None,
        "1" => Some(Status::Verified),
        "0" => Some(Status::Offloaded),
        // 2 = unverified, or several values (a header quoted in an ICMP error): a frame this
        // test does not model; fail so that someone looks.
        other => panic!("{name}: tshark checksum status {other:?}"),
    };
    String::from_utf8(out.stdout)
        .expect("tshark prints UTF-8")
        .lines()
        .enumerate()
        .map(|(i, line)| {
            let f: Vec<&str> = line.split('\t').collect();
            assert_eq!(f.len(), 4, "{name}: tshark line {line:?}");
            assert_eq!(f[0], (i + 1).to_string(), "{name}: tshark frame numbers");
            Verdicts {
                ip: status(f[1]),
                tcp: status(f[2]),
                udp: status(f[3]),
            }
        })
        .collect()
}

fn count(frames: &[Verdicts], pick: fn(&Verdicts) -> Option<Status>, s: Status) -> usize {
    frames.iter().filter(|v| pick(v) == Some(s)).count()
}

#[test]
fn checksums_match_etherparse_and_verify_on_cnp3_traces() {
    let test = "checksums_match_etherparse_and_verify_on_cnp3_traces";
    let Some(dir) = shared_traces(test) else {
        return;
    };
    let mut present: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".pcap") || n.ends_with(".pcapng"))
        .collect();
    present.sort();
    let expected: Vec<String> = TRACES.iter().map(|t| t.0.to_owned()).collect();
    assert_eq!(present, expected, "the traces in {}", dir.display());

    // tshark, when present, judges every frame on its own: its verdicts must equal ours.
    let with_tshark = require_peer(test, "tshark");
    let mut compared_with_tshark = 0;
    let (mut ipv4, mut tcp, mut udp, mut offloaded) = (0, 0, 0, 0);
    for &(name, frames, ipv4_headers, transport) in &TRACES {
        let ours = our_verdicts(&dir.join(name), name);
        assert_eq!(ours.len(), frames, "{name}: frames");
        let ip = |v: &Verdicts| v.ip;
        let tc = |v: &Verdicts| v.tcp;
        let ud = |v: &Verdicts| v.udp;
        use Status::{Offloaded, Verified};
        let got = (
            count(&ours, ip, Verified),
            count(&ours, ip, Offloaded),
            [
                count(&ours, tc, Verified),
                count(&ours, tc, Offloaded),
                count(&ours, ud, Verified),
                count(&ours, ud, Offloaded),
            ],
        );
        let want = (ipv4_headers, 0, transport);
        assert_eq!(
            got, want,
            "{name}: (IPv4 ok, IPv4 bad, [TCP ok, TCP offloaded, UDP ok, UDP offloaded])"
        );
        ipv4 += got.0;
        tcp += got.2[0] + got.2[1];
        udp += got.2[2] + got.2[3];
        offloaded += got.2[1] + got.2[3];
        if with_tshark {
            let theirs = tshark_verdicts(&dir.join(name), name);
            assert_eq!(theirs.len(), ours.len(), "{name}: frames, tshark vs ours");
            for (i, (o, th)) in ours.iter().zip(&theirs).enumerate() {
                assert_eq!(o, th, "{name} frame {}: ours vs tshark", i + 1);
            }
            compared_with_tshark += 1;
        }
    }
    eprintln!("checked {ipv4} IPv4 headers, {tcp} TCP, {udp} UDP ({offloaded} offloaded)");
    assert_eq!((ipv4, tcp, udp, offloaded), (1250, 2504, 12, 61));
    if with_tshark {
        assert_eq!(compared_with_tshark, 15, "traces compared with tshark");
    }
}
