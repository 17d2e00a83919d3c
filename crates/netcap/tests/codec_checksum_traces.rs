//! netproto's Internet checksum against etherparse's on every complete IPv4/TCP/UDP packet of
//! the CNP3 traces: both must compute the same IPv4 header, TCP and UDP checksums, and the
//! checksums stored in the packets must verify. The one exception is checksum offload in the
//! routing traces captured inside virtual hosts (netkit): there the kernel left the TCP/UDP
//! checksum to a NIC that does not exist (CHECKSUM_PARTIAL) and the field holds only the
//! pseudo-header sum — which the test checks exactly, so any other bad checksum fails.

use etherparse::{NetSlice, SlicedPacket, TransportSlice};
use netproto::checksum::{self, Checksum};
use netproto::frame::linktype;
use testsupport::shared_traces;

#[derive(Default, Debug)]
struct Counts {
    ipv4_headers: usize,
    tcp: usize,
    udp: usize,
    offloaded: usize,
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

fn check_packet(data: &[u8], sll: bool, name: &str, n: usize, counts: &mut Counts) {
    let sliced = if sll {
        SlicedPacket::from_linux_sll(data)
    } else {
        SlicedPacket::from_ethernet(data)
    };
    let Ok(p) = sliced else { return };
    let Some(net) = &p.net else { return };
    let ctx = format!("{name} packet {n}");

    if let NetSlice::Ipv4(ip) = net {
        let h = ip.header();
        let ours = {
            let mut c = Checksum::new();
            c.add(&h.slice()[..10]).add(&h.slice()[12..]);
            c.finish()
        };
        assert_eq!(ours, h.to_header().calc_header_checksum(), "{ctx}: IPv4");
        assert!(checksum::verify(h.slice()), "{ctx}: stored IPv4 checksum");
        assert_eq!(h.header_checksum(), ours, "{ctx}: IPv4 stored");
        counts.ipv4_headers += 1;
    }
    if match net {
        NetSlice::Ipv4(ip) => ip.is_payload_fragmented(),
        NetSlice::Ipv6(ip) => ip.is_payload_fragmented(),
        NetSlice::Arp(_) => true,
    } {
        return;
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
        NetSlice::Arp(_) => return,
    };
    match &p.transport {
        Some(TransportSlice::Tcp(tcp)) => {
            let seg = tcp.slice();
            let ours = transport_checksum(&pseudo_header(net, 6, seg.len()), seg, 16);
            let theirs = match (src4, dst4, src6, dst6) {
                (Some(s), Some(d), _, _) => tcp.calc_checksum_ipv4(s, d).unwrap(),
                (_, _, Some(s), Some(d)) => tcp.calc_checksum_ipv6(s, d).unwrap(),
                _ => unreachable!(),
            };
            assert_eq!(ours, theirs, "{ctx}: TCP");
            let pseudo = pseudo_header(net, 6, seg.len());
            let stored_ok = Checksum::new().add(&pseudo).add(seg).sum() == 0xFFFF;
            assert_eq!(
                stored_ok,
                tcp.checksum() == ours,
                "{ctx}: verify vs compare"
            );
            if !stored_ok {
                assert_eq!(
                    tcp.checksum(),
                    checksum::sum(&pseudo),
                    "{ctx}: offloaded TCP"
                );
                counts.offloaded += 1;
            } else {
                assert!(
                    stored_ok,
                    "{ctx}: stored TCP checksum {:#06x}",
                    tcp.checksum()
                );
            }
            counts.tcp += 1;
        }
        Some(TransportSlice::Udp(udp)) => {
            let seg = udp.slice();
            if udp.checksum() == 0 && src4.is_some() {
                return; // IPv4 UDP without a checksum
            }
            let ours = transport_checksum(&pseudo_header(net, 17, seg.len()), seg, 6);
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
            let pseudo = pseudo_header(net, 17, seg.len());
            let stored_ok = Checksum::new().add(&pseudo).add(seg).sum() == 0xFFFF;
            if !stored_ok {
                assert_eq!(
                    udp.checksum(),
                    checksum::sum(&pseudo),
                    "{ctx}: offloaded UDP"
                );
                counts.offloaded += 1;
            } else {
                assert!(
                    stored_ok,
                    "{ctx}: stored UDP checksum {:#06x}",
                    udp.checksum()
                );
            }
            counts.udp += 1;
        }
        _ => {}
    }
}

#[test]
fn checksums_match_etherparse_and_verify_on_cnp3_traces() {
    let Some(dir) = shared_traces("codec_checksum_traces") else {
        return;
    };
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pcap"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no pcap in {}", dir.display());
    let mut counts = Counts::default();
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let mut cap = pcap::Capture::from_file(path).unwrap();
        let sll = match cap.get_datalink().0 as u32 {
            linktype::ETHERNET => false,
            linktype::LINUX_SLL => true,
            other => panic!(
                "{name}: unexpected link type {other} ({})",
                linktype::name(other)
            ),
        };
        let mut n = 0;
        while let Ok(pkt) = cap.next_packet() {
            n += 1;
            // Only complete packets: a snapped packet cannot be checksummed.
            if pkt.header.caplen == pkt.header.len {
                check_packet(pkt.data, sll, &name, n, &mut counts);
            }
        }
    }
    eprintln!("checked {counts:?}");
    // The traces hold thousands of TCP segments; make sure we did look at them.
    assert!(counts.ipv4_headers > 1000, "{counts:?}");
    assert!(counts.tcp > 2000, "{counts:?}");
    assert!(counts.udp >= 10, "{counts:?}");
    // Offload is the exception (the two netkit routing traces), not a loophole.
    assert!(
        counts.offloaded * 10 < counts.tcp + counts.udp,
        "{counts:?}"
    );
}
