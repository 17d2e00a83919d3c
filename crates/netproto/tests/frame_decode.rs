//! netproto::frame on crafted frames and arbitrary bytes: no input makes the decoder panic or
//! point outside the frame (the CNP3 traces are decoded in netcap's tests/frame_traces.rs).
#![allow(clippy::unwrap_used)]

use netproto::frame::{LayerKind, Net, Transport, decode, linktype};
use proptest::prelude::*;
use testsupport::check_frame as check;

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("FRAME_FUZZ_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(20_000),
        ..ProptestConfig::default()
    })]

    #[test]
    fn decode_never_panics_on_arbitrary_bytes(
        lt in proptest::sample::select(linktype::ALL.to_vec()),
        data in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        check(lt, &data);
    }

    /// Arbitrary bytes behind plausible headers reach the deeper decoders.
    #[test]
    fn decode_never_panics_behind_valid_prefixes(
        prefix in 0usize..6,
        proto in proptest::sample::select(vec![0u8, 1, 6, 17, 43, 44, 58, 60, 51, 89]),
        tail in proptest::collection::vec(any::<u8>(), 0..120),
        ihl in 5u8..8,
        total in any::<u16>(),
    ) {
        let mut d = Vec::new();
        let lt = match prefix {
            0 => { d.extend_from_slice(&[0; 12]); d.extend_from_slice(&[0x08, 0x00]); linktype::ETHERNET }
            1 => { d.extend_from_slice(&[0; 12]); d.extend_from_slice(&[0x86, 0xdd]); linktype::ETHERNET }
            2 => { d.extend_from_slice(&[0; 12]); d.extend_from_slice(&[0x81, 0x00, 0, 1, 0x08, 0x00]); linktype::ETHERNET }
            3 => { d.extend_from_slice(&[0x08, 0x00, 0, 0, 0, 0, 0, 1, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0]); linktype::LINUX_SLL2 }
            4 => { d.extend_from_slice(&[0; 12]); d.extend_from_slice(&[0x00, 0x30, 0x42, 0x42, 0x03]); linktype::ETHERNET }
            _ => linktype::RAW,
        };
        if prefix == 1 {
            d.extend_from_slice(&[0x60, 0, 0, 0]);
            d.extend_from_slice(&total.to_be_bytes());
            d.push(proto);
            d.push(64);
            d.extend_from_slice(&[0; 32]);
        } else if prefix != 4 {
            d.push(0x40 | ihl);
            d.push(0);
            d.extend_from_slice(&total.to_be_bytes());
            d.extend_from_slice(&[0, 0, 0, 0, 64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
            d.extend(std::iter::repeat_n(1u8, usize::from(ihl - 5) * 4));
        }
        d.extend_from_slice(&tail);
        check(lt, &d);
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("FRAME_FUZZ_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(20_000),
        ..ProptestConfig::default()
    })]

    /// UDP to the ports of DNS, DHCP, NTP, RIP and RIPng with arbitrary (or DNS-shaped)
    /// payloads, and ICMP errors quoting arbitrary datagrams: the application decoders and the
    /// quoted-datagram view never panic and stay in bounds.
    #[test]
    fn application_decoders_never_panic(
        port in proptest::sample::select(vec![53u16, 67, 68, 123, 520, 521, 9]),
        dns_like in any::<bool>(),
        counts in proptest::collection::vec(0u8..4, 4),
        body in proptest::collection::vec(any::<u8>(), 0..160),
        icmp_type in proptest::sample::select(vec![3u8, 5, 11, 12, 1, 2, 4]),
        v6 in any::<bool>(),
    ) {
        let mut payload = Vec::new();
        if dns_like {
            payload.extend_from_slice(&[0x12, 0x34, 0x81, 0x80]);
            for c in &counts {
                payload.extend_from_slice(&[0, *c]);
            }
            // A name with a pointer back into the header region, then the body.
            payload.extend_from_slice(&[3, b'w', b'w', b'w', 0xc0, 12, 0, 1, 0, 1]);
        }
        payload.extend_from_slice(&body);
        let udp_len = (8 + payload.len()) as u16;
        let mut f = vec![
            0x45, 0, 0, 0, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
        ];
        let total = (20 + usize::from(udp_len)) as u16;
        f[2..4].copy_from_slice(&total.to_be_bytes());
        f.extend_from_slice(&40000u16.to_be_bytes());
        f.extend_from_slice(&port.to_be_bytes());
        f.extend_from_slice(&udp_len.to_be_bytes());
        f.extend_from_slice(&[0, 0]);
        f.extend_from_slice(&payload);
        check(linktype::RAW, &f);
        // The same datagram quoted by an ICMP or ICMPv6 error (cut anywhere).
        let cut = body.len() % (f.len() + 1);
        let quoted = &f[..f.len() - cut];
        let icmp = if v6 {
            let mut i = vec![0x60, 0, 0, 0, 0, 0, 58, 64];
            i.extend_from_slice(&[0; 32]);
            let len = (8 + quoted.len()) as u16;
            i[4..6].copy_from_slice(&len.to_be_bytes());
            i.extend_from_slice(&[icmp_type % 5, 0, 0, 0, 0, 0, 0, 0]);
            i
        } else {
            let mut i = vec![0x45, 0, 0, 0, 0, 1, 0, 0, 64, 1, 0, 0, 10, 0, 0, 3, 10, 0, 0, 1];
            let len = (28 + quoted.len()) as u16;
            i[2..4].copy_from_slice(&len.to_be_bytes());
            i.extend_from_slice(&[icmp_type, 3, 0, 0, 0, 0, 0, 0]);
            i
        };
        let mut i = icmp;
        i.extend_from_slice(quoted);
        check(linktype::RAW, &i);
    }
}

#[test]
fn icmp_port_unreachable_quotes_the_udp_datagram() {
    let mut f = vec![
        0x45, 0, 0, 56, 0, 1, 0, 0, 64, 1, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1, // IPv4, ICMP
        3, 3, 0, 0, 0, 0, 0, 0, // port unreachable
    ];
    f.extend_from_slice(&ipv4_udp()[..28]);
    let fr = decode(linktype::RAW, &f).unwrap();
    let Transport::Icmpv4(i) = fr.transport() else {
        panic!("ICMP expected: {:?}", fr.transport());
    };
    let q = i.quoted().expect("the quoted datagram");
    assert_eq!(q.destination().to_string(), "10.0.0.2");
    assert_eq!((q.protocol(), q.ports()), (17, Some((12345, 53))));
    assert_eq!(q.payload().len(), 8);
    // Echo replies quote nothing.
    f[20] = 0;
    let fr = decode(linktype::RAW, &f).unwrap();
    let Transport::Icmpv4(i) = fr.transport() else {
        panic!()
    };
    assert_eq!(i.quoted(), None);
}

fn ipv4_udp() -> Vec<u8> {
    let mut v = vec![
        0x45, 0, 0, 32, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, // IPv4
        0x30, 0x39, 0, 53, 0, 12, 0, 0, // UDP 12345 -> 53, length 12
    ];
    v.extend_from_slice(b"abcd");
    v
}

#[test]
fn vlan_tagged_udp() {
    let mut f = vec![0xff; 6];
    f.extend_from_slice(&[2, 0, 0, 0, 0, 1, 0x81, 0x00, 0x20, 0x64, 0x08, 0x00]);
    f.extend_from_slice(&ipv4_udp());
    f.extend_from_slice(&[0; 14]); // Ethernet padding
    let fr = decode(linktype::ETHERNET, &f).unwrap();
    let names: Vec<_> = fr.layers().iter().map(|l| l.kind.name()).collect();
    assert_eq!(names, ["Ether", "Dot1Q", "IP", "UDP", "Raw", "Padding"]);
    // The tag: priority 1, VLAN 100, then IPv4.
    assert_eq!(fr.layers()[1].bytes(&f), [0x20, 0x64, 0x08, 0x00]);
    let u = fr.udp().unwrap();
    assert_eq!((u.sport, u.dport, u.length), (12345, 53, 12));
    assert_eq!(u.payload, b"abcd");
}

#[test]
fn arp_request() {
    let mut f = vec![0xff; 6];
    f.extend_from_slice(&[2, 0, 0, 0, 0, 1, 0x08, 0x06]);
    f.extend_from_slice(&[0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 1, 10, 0, 0, 1]);
    f.extend_from_slice(&[0, 0, 0, 0, 0, 0, 10, 0, 0, 2]);
    let fr = decode(linktype::ETHERNET, &f).unwrap();
    let Net::Arp(a) = fr.net() else {
        panic!("{:?}", fr.layers())
    };
    assert_eq!(a.operation(), 1);
    assert_eq!(
        a.ipv4_addrs().unwrap(),
        ([10, 0, 0, 1].into(), [10, 0, 0, 2].into())
    );
}

#[test]
fn bsd_loopback_both_byte_orders() {
    let mut le = 2u32.to_le_bytes().to_vec();
    le.extend_from_slice(&ipv4_udp());
    let fr = decode(linktype::NULL, &le).unwrap();
    assert_eq!(fr.udp().unwrap().dport, 53);
    let mut be = 2u32.to_be_bytes().to_vec();
    be.extend_from_slice(&ipv4_udp());
    for lt in [linktype::LOOP, linktype::NULL] {
        let fr = decode(lt, &be).unwrap();
        assert!(matches!(fr.transport(), Transport::Udp(_)), "{lt}");
    }
}

fn ipv6_with_exts(frag_offset: u16) -> Vec<u8> {
    let mut tcp = vec![0u8; 20];
    tcp[0..2].copy_from_slice(&40000u16.to_be_bytes());
    tcp[2..4].copy_from_slice(&80u16.to_be_bytes());
    tcp[12] = 0x50;
    tcp[13] = 0x02;
    let hbh = [44u8, 0, 1, 4, 0, 0, 0, 0]; // next: fragment; PadN
    let mut frag = vec![6u8, 0];
    frag.extend_from_slice(&(frag_offset << 3).to_be_bytes());
    frag.extend_from_slice(&[0, 0, 0, 7]);
    let plen = (hbh.len() + frag.len() + tcp.len()) as u16;
    let mut v = vec![0x60, 0, 0, 0];
    v.extend_from_slice(&plen.to_be_bytes());
    v.extend_from_slice(&[0, 64]); // next: hop-by-hop
    v.extend_from_slice(&[0; 15]);
    v.push(1);
    v.extend_from_slice(&[0; 15]);
    v.push(2);
    v.extend_from_slice(&hbh);
    v.extend_from_slice(&frag);
    v.extend_from_slice(&tcp);
    v
}

#[test]
fn ipv6_extension_headers_then_tcp() {
    let d = ipv6_with_exts(0);
    let fr = decode(linktype::IPV6, &d).unwrap();
    let names: Vec<_> = fr.layers().iter().map(|l| l.kind.name()).collect();
    assert_eq!(
        names,
        ["IPv6", "IPv6ExtHdrHopByHop", "IPv6ExtHdrFragment", "TCP"]
    );
    assert_eq!(fr.layers()[3].offset, 56);
    assert_eq!(fr.ip_proto(), Some(6));
    let t = fr.tcp().unwrap();
    assert_eq!((t.sport, t.dport), (40000, 80));
    assert!(t.flags.syn());

    // A later fragment carries no TCP header: raw bytes, no guess.
    let d = ipv6_with_exts(185);
    let fr = decode(linktype::RAW, &d).unwrap();
    assert!(fr.tcp().is_none());
    assert_eq!(fr.layers().last().unwrap().kind, LayerKind::Raw);
}

#[test]
fn cut_tcp_header_is_an_issue_not_a_panic() {
    let mut d = ipv4_udp();
    d[9] = 6; // claim TCP, but only 12 bytes follow
    let fr = decode(linktype::IPV4, &d).unwrap();
    assert!(fr.tcp().is_none());
    let i = fr.issue().unwrap();
    assert_eq!(i.layer, LayerKind::Tcp);
    assert_eq!(i.offset, 20);
    assert!(
        !fr.truncated(),
        "the IP packet is short, the capture is whole"
    );
    assert_eq!(
        i.to_string(),
        "TCP header at offset 20 malformed: header longer than the IP payload"
    );

    // The same header cut by the snapshot length.
    d[2..4].copy_from_slice(&60u16.to_be_bytes());
    let fr = decode(linktype::IPV4, &d).unwrap();
    assert!(fr.truncated());
    assert!(
        fr.issue()
            .unwrap()
            .to_string()
            .contains("TCP header at offset 20 truncated")
    );
}
