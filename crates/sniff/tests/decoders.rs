//! sniff's default lines against `tcpdump -nn -r` on captures this test crafts byte by byte:
//! every TCP flag combination tcpdump orders (`[S.E]`, `[SEW]`, …), every TCP option tcpdump
//! decodes (MPTCP subtypes, Fast Open in both forms, MD5, TCP-AO, user timeout, AccECN,
//! experimental), ICMP and ICMPv6 errors naming what they quote, and DNS (UDP and TCP), DHCP,
//! NTP, RIPv1/v2 payloads, well formed, cut and malformed.

// Helpers outside #[test] fns too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

use testsupport::{require_peer, tool};

const A: [u8; 4] = [10, 0, 0, 1];
const B: [u8; 4] = [10, 0, 0, 2];
const R: [u8; 4] = [10, 0, 0, 254];
const A6: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const B6: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];

fn csum(b: &[u8]) -> u16 {
    let mut s: u32 = 0;
    for c in b.chunks(2) {
        s += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
    }
    while s > 0xffff {
        s = (s >> 16) + (s & 0xffff);
    }
    !(s as u16)
}

fn ip4(src: [u8; 4], dst: [u8; 4], proto: u8, payload: &[u8]) -> Vec<u8> {
    let mut h = vec![0x45, 0];
    h.extend_from_slice(&((20 + payload.len()) as u16).to_be_bytes());
    h.extend_from_slice(&[0, 1, 0x40, 0, 64, proto, 0, 0]);
    h.extend_from_slice(&src);
    h.extend_from_slice(&dst);
    let c = csum(&h);
    h[10..12].copy_from_slice(&c.to_be_bytes());
    h.extend_from_slice(payload);
    h
}

fn ip6(src: [u8; 16], dst: [u8; 16], next: u8, payload: &[u8]) -> Vec<u8> {
    let mut h = vec![0x60, 0, 0, 0];
    h.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    h.extend_from_slice(&[next, 64]);
    h.extend_from_slice(&src);
    h.extend_from_slice(&dst);
    h.extend_from_slice(payload);
    h
}

fn tcp(sp: u16, dp: u16, flags: u16, opts: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut o = opts.to_vec();
    while o.len() % 4 != 0 {
        o.push(0);
    }
    let off = ((20 + o.len()) / 4) as u16;
    let mut t = Vec::new();
    t.extend_from_slice(&sp.to_be_bytes());
    t.extend_from_slice(&dp.to_be_bytes());
    t.extend_from_slice(&1000u32.to_be_bytes());
    t.extend_from_slice(&2000u32.to_be_bytes());
    t.extend_from_slice(&(off << 12 | flags).to_be_bytes());
    t.extend_from_slice(&[2, 0, 0, 0, 0, 0]);
    t.extend_from_slice(&o);
    t.extend_from_slice(payload);
    t
}

fn udp(sp: u16, dp: u16, payload: &[u8]) -> Vec<u8> {
    let mut u = Vec::new();
    u.extend_from_slice(&sp.to_be_bytes());
    u.extend_from_slice(&dp.to_be_bytes());
    u.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend_from_slice(payload);
    u
}

fn eth(ip: &[u8]) -> Vec<u8> {
    let v6 = ip.first().is_some_and(|b| b >> 4 == 6);
    let mut e = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1];
    e.extend_from_slice(if v6 { &[0x86, 0xdd] } else { &[0x08, 0x00] });
    e.extend_from_slice(ip);
    e
}

/// A pcap file (Ethernet, µs) of `frames`, each `(bytes, caplen)` (`None`: all of it).
fn write_pcap(path: &Path, frames: &[(Vec<u8>, Option<usize>)]) {
    let mut out = Vec::new();
    for w in [0xa1b2_c3d4u32, 0x0004_0002, 0, 0, 262_144, 1] {
        out.extend_from_slice(&w.to_le_bytes());
    }
    for (i, (f, cap)) in frames.iter().enumerate() {
        let c = &f[..cap.unwrap_or(f.len()).min(f.len())];
        for w in [
            1_700_000_000 + i as u32,
            i as u32,
            c.len() as u32,
            f.len() as u32,
        ] {
            out.extend_from_slice(&w.to_le_bytes());
        }
        out.extend_from_slice(c);
    }
    std::fs::write(path, out).unwrap();
}

/// Write `frames`, run both tools, compare line by line; returns the lines compared.
fn same_as_tcpdump(test: &str, frames: &[(Vec<u8>, Option<usize>)]) -> Vec<String> {
    let path = std::env::temp_dir().join(format!("sniff-{test}-{}.pcap", std::process::id()));
    write_pcap(&path, frames);
    let ours = Command::new(tool("sniff"))
        .args(["-q", "-r"])
        .arg(&path)
        .env("TZ", "UTC")
        .output()
        .unwrap();
    assert!(ours.status.success(), "sniff: {ours:?}");
    let theirs = Command::new("tcpdump")
        .args(["-nn", "-r"])
        .arg(&path)
        .env("TZ", "UTC")
        .output()
        .unwrap();
    assert!(theirs.status.success(), "tcpdump: {theirs:?}");
    let _ = std::fs::remove_file(&path);
    let a: Vec<String> = String::from_utf8_lossy(&ours.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    let b: Vec<String> = String::from_utf8_lossy(&theirs.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        assert_eq!(x, y, "{test}: frame {}", i + 1);
    }
    assert_eq!(a.len(), b.len(), "{test}: lines");
    assert_eq!(a.len(), frames.len(), "{test}: one line per frame");
    a
}

fn whole(f: Vec<u8>) -> (Vec<u8>, Option<usize>) {
    (f, None)
}

fn seg(flags: u16, opts: &[u8], payload: &[u8]) -> (Vec<u8>, Option<usize>) {
    whole(eth(&ip4(A, B, 6, &tcp(40000, 5000, flags, opts, payload))))
}

#[test]
fn tcp_flags_and_options_equal_tcpdumps() {
    let t = "tcp_flags_and_options_equal_tcpdumps";
    if !require_peer(t, "tcpdump") {
        return;
    }
    let seq = |from: u8, n: u8| (from..from + n).collect::<Vec<u8>>();
    let mut f = Vec::new();
    // Flags: FIN SYN RST PSH ACK URG ECE CWR in tcpdump's order.
    for fl in [
        0x02, 0x12, 0x52, 0x92, 0xc2, 0xd2, 0x11, 0x19, 0x14, 0x04, 0x30, 0xff, 0x03, 0x00,
    ] {
        f.push(seg(fl, &[], &[]));
    }
    let mut opts: Vec<Vec<u8>> = vec![
        vec![28, 4, 0x81, 0x2c],                             // user timeout
        [&[19u8, 18][..], &seq(0, 16)].concat(),             // MD5
        vec![29, 6, 5, 7, 0xaa, 0xbb],                       // TCP-AO
        vec![29, 4, 5, 7],                                   // TCP-AO without MAC
        vec![34, 2],                                         // TFO cookie request
        vec![254, 4, 0xf9, 0x89],                            // experimental TFO request
        [&[254u8, 12, 0xf9, 0x89][..], &seq(0, 8)].concat(), // experimental TFO cookie
        vec![254, 6, 0x12, 0x34, 1, 2],                      // other experiment
        vec![253, 6, 0x12, 0x34, 1, 2],
        vec![6, 6, 0, 0, 0, 9],  // echo
        vec![11, 6, 0, 0, 0, 9], // cc
        vec![13, 6, 0, 0, 0, 9], // ccecho
        vec![20, 4, 0x11, 3],    // SCPS
        vec![30, 4, 0x01, 0x81], // MP_CAPABLE v1, SYN without key
        [&[30u8, 12, 0x00, 0x81][..], &seq(1, 8)].concat(),
        vec![99, 4, 1, 2],
        vec![2, 4, 5, 0xb4, 1, 2, 9], // mss, nop, a length past the header
    ];
    for o in opts.drain(..) {
        f.push(seg(0x02, &o, &[]));
    }
    f.push(seg(0x12, &[&[34u8, 10][..], &seq(0, 8)].concat(), &[]));
    f.push(seg(
        0x12,
        &[&[30u8, 12, 0x01, 0x01][..], &seq(1, 8)].concat(),
        &[],
    ));
    f.push(seg(
        0x10,
        &[&[30u8, 20, 0x01, 0x01][..], &seq(1, 16)].concat(),
        &[],
    ));
    f.push(seg(
        0x10,
        &[&[30u8, 22, 0x01, 0x01][..], &seq(1, 16), &[0, 5]].concat(),
        b"hello",
    ));
    f.push(seg(
        0x02,
        &[&[30u8, 12, 0x11, 0x02][..], &seq(1, 8)].concat(),
        &[],
    )); // MP_JOIN
    f.push(seg(
        0x12,
        &[&[30u8, 16, 0x10, 0x02][..], &seq(1, 12)].concat(),
        &[],
    ));
    f.push(seg(
        0x10,
        &[&[30u8, 24, 0x10, 0x00][..], &seq(1, 20)].concat(),
        &[],
    ));
    f.push(seg(0x10, &[30, 8, 0x20, 0x01, 0, 0, 0, 5], &[])); // DSS, 4-byte data ack
    f.push(seg(
        0x18,
        &[&[30u8, 18, 0x20, 0x05][..], &seq(1, 14)].concat(),
        b"abc",
    ));
    f.push(seg(
        0x18,
        &[&[30u8, 20, 0x20, 0x0f][..], &seq(1, 16)].concat(),
        b"abc",
    ));
    f.push(seg(0x10, &[30, 8, 0x30, 0x01, 10, 0, 0, 3], &[])); // ADD_ADDR
    f.push(seg(
        0x10,
        &[
            &[30u8, 18, 0x31, 0x01, 10, 0, 0, 3, 0x13, 0x88][..],
            &seq(0, 8),
        ]
        .concat(),
        &[],
    ));
    f.push(seg(0x10, &[30, 5, 0x40, 1, 2], &[])); // REMOVE_ADDR
    f.push(seg(0x10, &[30, 4, 0x51, 3], &[])); // MP_PRIO
    f.push(seg(
        0x10,
        &[&[30u8, 12, 0x60, 0][..], &seq(0, 8)].concat(),
        &[],
    )); // MP_FAIL
    f.push(seg(
        0x10,
        &[&[30u8, 12, 0x70, 0][..], &seq(0, 8)].concat(),
        &[],
    )); // FASTCLOSE
    f.push(seg(0x10, &[30, 4, 0x80, 0], &[])); // MP_TCPRST: unknown to tcpdump 4.99
    f.push(seg(0x10, &[30, 3, 0x20], &[])); // DSS too short: [bad opt]
    f.push(seg(0x10, &[&[172u8, 11][..], &seq(0, 9)].concat(), &[])); // AccECN
    f.push(seg(0x10, &[174, 5, 1, 2, 3], &[]));
    // The same over IPv6.
    f.push(whole(eth(&ip6(
        A6,
        B6,
        6,
        &tcp(40000, 5000, 0xc2, &[2, 4, 5, 0xa0, 34, 2], &[]),
    ))));
    let lines = same_as_tcpdump(t, &f);
    assert!(lines[3].contains("Flags [S.W]"), "{}", lines[3]);
    assert!(lines[4].contains("Flags [SEW]"), "{}", lines[4]);
    assert!(lines.iter().any(|l| l.contains("mptcp 22 capable v1 {0x")));
}

#[test]
fn icmp_errors_name_the_quoted_datagram_as_tcpdump() {
    let t = "icmp_errors_name_the_quoted_datagram_as_tcpdump";
    if !require_peer(t, "tcpdump") {
        return;
    }
    let probe = ip4(A, B, 17, &udp(33434, 53, b"12345678"));
    let tprobe = ip4(A, B, 6, &tcp(40000, 80, 0x02, &[], &[]));
    let err = |ty: u8, code: u8, rest: [u8; 4], quoted: &[u8]| {
        let mut i = vec![ty, code, 0, 0];
        i.extend_from_slice(&rest);
        i.extend_from_slice(&quoted[..quoted.len().min(28)]);
        whole(eth(&ip4(R, A, 1, &i)))
    };
    let mut f = Vec::new();
    for code in 0..16 {
        f.push(err(3, code, [0; 4], &probe));
    }
    f.push(err(3, 3, [0; 4], &tprobe));
    f.push(err(3, 4, [0, 0, 0x05, 0xdc], &probe));
    f.push(err(11, 0, [0; 4], &probe));
    f.push(err(11, 1, [0; 4], &probe));
    f.push(err(5, 0, R, &probe));
    f.push(err(5, 1, R, &probe));
    f.push(err(12, 0, [0; 4], &probe));
    // The quoted header cut short.
    f.push(err(3, 3, [0; 4], &probe[..12]));
    let probe6 = ip6(A6, B6, 17, &udp(33434, 53, b"12345678"));
    let err6 = |ty: u8, code: u8, rest: [u8; 4], quoted: &[u8]| {
        let mut i = vec![ty, code, 0, 0];
        i.extend_from_slice(&rest);
        i.extend_from_slice(quoted);
        whole(eth(&ip6(B6, A6, 58, &i)))
    };
    for code in 0..5 {
        f.push(err6(1, code, [0; 4], &probe6));
    }
    f.push(err6(2, 0, [0, 0, 0x05, 0x00], &probe6));
    f.push(err6(3, 0, [0; 4], &probe6));
    f.push(err6(3, 1, [0; 4], &probe6));
    let lines = same_as_tcpdump(t, &f);
    assert!(
        lines[3].ends_with("ICMP 10.0.0.2 udp port 53 unreachable, length 36"),
        "{}",
        lines[3]
    );
}

/// A DNS message: header, then the given sections already encoded.
fn dns(id: u16, flags: u16, counts: [u16; 4], body: &[u8]) -> Vec<u8> {
    let mut m = Vec::new();
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(&flags.to_be_bytes());
    for c in counts {
        m.extend_from_slice(&c.to_be_bytes());
    }
    m.extend_from_slice(body);
    m
}

fn name(n: &str) -> Vec<u8> {
    let mut v = Vec::new();
    for l in n.split('.').filter(|l| !l.is_empty()) {
        v.push(l.len() as u8);
        v.extend_from_slice(l.as_bytes());
    }
    v.push(0);
    v
}

fn rr(owner: &[u8], ty: u16, class: u16, ttl: u32, rdata: &[u8]) -> Vec<u8> {
    let mut v = owner.to_vec();
    v.extend_from_slice(&ty.to_be_bytes());
    v.extend_from_slice(&class.to_be_bytes());
    v.extend_from_slice(&ttl.to_be_bytes());
    v.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
    v.extend_from_slice(rdata);
    v
}

#[test]
fn dns_dhcp_ntp_rip_lines_equal_tcpdumps() {
    let t = "dns_dhcp_ntp_rip_lines_equal_tcpdumps";
    if !require_peer(t, "tcpdump") {
        return;
    }
    let q = |n: &str, ty: u16| [name(n), ty.to_be_bytes().to_vec(), vec![0, 1]].concat();
    let ptr = [0xc0u8, 12];
    let opt = rr(&[0], 41, 1232, 0x0000_8000, &[]);
    let udp53 = |m: &[u8], resp: bool| {
        let (sp, dp) = if resp { (53, 40000) } else { (40000, 53) };
        whole(eth(&ip4(A, B, 17, &udp(sp, dp, m))))
    };
    let mut f = vec![
        udp53(
            &dns(4660, 0x0100, [1, 0, 0, 0], &q("example.com", 1)),
            false,
        ),
        udp53(
            &dns(
                4660,
                0x0120,
                [1, 0, 0, 1],
                &[q("example.com", 28), opt.clone()].concat(),
            ),
            false,
        ),
        udp53(
            &dns(7, 0x0110, [1, 0, 0, 0], &q("www.example.org", 15)),
            false,
        ),
        udp53(
            &dns(
                8,
                0x0100,
                [2, 0, 0, 0],
                &[q("a.example", 1), q("b.example", 16)].concat(),
            ),
            false,
        ),
        udp53(
            &dns(
                4660,
                0x8180,
                [1, 2, 0, 1],
                &[
                    q("www.example.com", 1),
                    rr(&ptr, 5, 1, 300, &name("example.com")),
                    rr(&[0xc0, 33], 1, 1, 300, &[93, 184, 216, 34]),
                    opt.clone(),
                ]
                .concat(),
            ),
            true,
        ),
        udp53(
            &dns(
                9,
                0x8580,
                [1, 4, 0, 0],
                &[
                    q("example.com", 255),
                    rr(
                        &ptr,
                        28,
                        1,
                        60,
                        &[0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
                    ),
                    rr(
                        &ptr,
                        15,
                        1,
                        60,
                        &[&[0u8, 10][..], &name("mx.example.com")].concat(),
                    ),
                    rr(&ptr, 16, 1, 60, b"\x05hello\x03a\"b"),
                    rr(
                        &ptr,
                        33,
                        1,
                        60,
                        &[&[0u8, 1, 0, 2, 0x13, 0x88][..], &ptr].concat(),
                    ),
                ]
                .concat(),
            ),
            true,
        ),
        udp53(
            &dns(
                10,
                0x8183,
                [1, 0, 1, 0],
                &[q("nope.example", 1), rr(&[0xc0, 12], 6, 1, 60, &[0; 22])].concat(),
            ),
            true,
        ),
        udp53(&dns(11, 0x8182, [1, 0, 0, 0], &q("example.com", 1)), true),
        udp53(
            &dns(
                12,
                0x8380,
                [1, 1, 0, 0],
                &[q("example.com", 1), rr(&ptr, 1, 3, 1, &[1, 2, 3, 4])].concat(),
            ),
            true,
        ),
        // Malformed and cut: a pointer loop, a short message, an answer cut by the capture.
        udp53(
            &dns(13, 0x0100, [1, 0, 0, 0], &[0xc0, 12, 0, 1, 0, 1]),
            false,
        ),
        udp53(&[1, 2, 3], false),
    ];
    let mut cut = udp53(
        &dns(
            14,
            0x8180,
            [1, 1, 0, 0],
            &[q("example.com", 1), rr(&ptr, 1, 1, 1, &[1, 2, 3, 4])].concat(),
        ),
        true,
    );
    cut.1 = Some(cut.0.len() - 6);
    f.push(cut);
    // DNS over TCP: the 2-byte length, then the message.
    let m = dns(15, 0x0100, [1, 0, 0, 0], &q("example.com", 1));
    let over_tcp = [(m.len() as u16).to_be_bytes().to_vec(), m].concat();
    f.push(whole(eth(&ip4(
        A,
        B,
        6,
        &tcp(40000, 53, 0x18, &[], &over_tcp),
    ))));
    // DHCP: a discover (BOOTP request with a client MAC), an offer.
    let dhcp = |op: u8, mtype: u8| {
        let mut d = vec![op, 1, 6, 0, 0x39, 0x03, 0xf3, 0x26, 0, 0, 0x80, 0];
        d.extend_from_slice(&[0; 16]);
        d.extend_from_slice(&[0x52, 0x54, 0, 0x12, 0x34, 0x56]);
        d.extend_from_slice(&[0; 10 + 64 + 128]);
        d.extend_from_slice(&[99, 130, 83, 99, 53, 1, mtype, 255]);
        d
    };
    f.push(whole(eth(&ip4(
        [0; 4],
        [255; 4],
        17,
        &udp(68, 67, &dhcp(1, 1)),
    ))));
    f.push(whole(eth(&ip4(R, [255; 4], 17, &udp(67, 68, &dhcp(2, 2))))));
    // NTP: client and server modes, version 4 and 3.
    let ntp = |b0: u8| {
        let mut n = vec![b0, 2, 6, 0xe9];
        n.extend_from_slice(&[0; 44]);
        n
    };
    f.push(whole(eth(&ip4(A, B, 17, &udp(40000, 123, &ntp(0x23))))));
    f.push(whole(eth(&ip4(B, A, 17, &udp(123, 40000, &ntp(0x24))))));
    f.push(whole(eth(&ip4(A, B, 17, &udp(123, 123, &ntp(0x19))))));
    // RIPv2 response with two routes, a request, and RIPv1.
    let route = |a: [u8; 4], m: u32| {
        let mut e = vec![0, 2, 0, 0];
        e.extend_from_slice(&a);
        e.extend_from_slice(&[255, 255, 255, 0, 0, 0, 0, 0]);
        e.extend_from_slice(&m.to_be_bytes());
        e
    };
    let rip2 = [
        vec![2, 2, 0, 0],
        route([10, 1, 0, 0], 1),
        route([10, 2, 0, 0], 2),
    ]
    .concat();
    f.push(whole(eth(&ip4(
        R,
        [224, 0, 0, 9],
        17,
        &udp(520, 520, &rip2),
    ))));
    let req = [vec![1, 2, 0, 0], vec![0; 16], vec![0, 0, 0, 16]].concat();
    f.push(whole(eth(&ip4(
        R,
        [224, 0, 0, 9],
        17,
        &udp(520, 520, &req),
    ))));
    f.push(whole(eth(&ip4(
        R,
        [255; 4],
        17,
        &udp(
            520,
            520,
            &[vec![2, 1, 0, 0], route([10, 1, 0, 0], 1)].concat(),
        ),
    ))));
    let lines = same_as_tcpdump(t, &f);
    assert!(
        lines[0].ends_with(": 4660+ A? example.com. (29)"),
        "{}",
        lines[0]
    );
    if require_peer(t, "tshark") {
        json_fields_as_tshark(t, &f);
    }
}

/// `--json`'s `dns`, `dhcp`, `ntp` and `rip` objects, and the same fields in `-v`, against
/// tshark's fields for the same frames (where tshark decodes a message sniff decodes whole).
fn json_fields_as_tshark(test: &str, frames: &[(Vec<u8>, Option<usize>)]) {
    let path = std::env::temp_dir().join(format!("sniff-{test}-json-{}.pcap", std::process::id()));
    write_pcap(&path, frames);
    let ours = Command::new(tool("sniff"))
        .args(["-q", "--json", "-r"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(ours.status.success());
    let fields = [
        "dns.id",
        "dns.qry.name",
        "dns.a",
        "dhcp.id",
        "dhcp.hw.mac_addr",
        "dhcp.option.dhcp",
        "ntp.flags.vn",
        "ntp.flags.mode",
        "ntp.stratum",
        "rip.version",
        "rip.command",
        "rip.ip",
        "rip.metric",
    ];
    let mut c = Command::new("tshark");
    c.arg("-r")
        .arg(&path)
        .args(["-T", "fields", "-E", "occurrence=a"]);
    for f in fields {
        c.args(["-e", f]);
    }
    let theirs = c.output().unwrap();
    assert!(theirs.status.success(), "{theirs:?}");
    let theirs = String::from_utf8(theirs.stdout).unwrap();
    // -v: one block per packet (its line, then `###[ … ]###` layers and `  @` fields).
    let verbose = Command::new(tool("sniff"))
        .args(["-q", "-v", "-r"])
        .arg(&path)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    assert!(verbose.status.success(), "{verbose:?}");
    let mut blocks: Vec<String> = Vec::new();
    for l in String::from_utf8(verbose.stdout).unwrap().lines() {
        if l.starts_with("###") || l.starts_with("  ") {
            blocks.last_mut().unwrap().push_str(&format!("{l}\n"));
        } else {
            blocks.push(format!("{l}\n"));
        }
    }
    let field = |name: &str, v: &str| format!("{name:<17} = {v}\n");
    let ours: Vec<serde_json::Value> = String::from_utf8(ours.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|v: &serde_json::Value| v["type"] == "packet")
        .collect();
    let mut checked = [0; 4];
    for (p, t) in ours.iter().zip(theirs.lines()) {
        let t: Vec<&str> = t.split('\t').collect();
        let frame = &p["frame"];
        let list = |v: &serde_json::Value| -> String {
            v.as_array()
                .unwrap()
                .iter()
                .map(|x| x.to_string().trim_matches('"').to_owned())
                .collect::<Vec<_>>()
                .join(",")
        };
        if let Some(d) = p.get("dns")
            && !t[0].is_empty()
            && d["truncated"] == false
        {
            let id = u16::from_str_radix(t[0].trim_start_matches("0x"), 16).unwrap();
            assert_eq!(d["id"], id, "frame {frame}");
            let recs = d["records"].as_array().unwrap();
            let names: Vec<String> = recs
                .iter()
                .filter(|r| r["section"] == "question")
                .map(|r| r["name"].as_str().unwrap().trim_end_matches('.').to_owned())
                .collect();
            assert_eq!(names.join(","), t[1], "frame {frame}: questions");
            let a: Vec<&str> = recs
                .iter()
                .filter(|r| r["type"] == "A" && r["section"] != "question")
                .filter_map(|r| r["data"].as_str())
                .collect();
            assert_eq!(a.join(","), t[2], "frame {frame}: A records");
            let v = &blocks[ours.iter().position(|q| q == p).unwrap()];
            assert!(
                v.contains(&field("id", &id.to_string())),
                "frame {frame}: {v}"
            );
            for n in &names {
                assert!(v.contains(&format!("question          = {n}.")), "{v}");
            }
            checked[0] += 1;
        }
        if let Some(d) = p.get("dhcp") {
            let xid = u32::from_str_radix(t[3].trim_start_matches("0x"), 16).unwrap();
            assert_eq!(d["xid"], xid, "frame {frame}");
            assert_eq!(d["client_mac"], t[4], "frame {frame}");
            assert_eq!(d["message_type"].to_string(), t[5], "frame {frame}");
            let v = &blocks[ours.iter().position(|q| q == p).unwrap()];
            assert!(v.contains(&field("xid", &format!("0x{xid:08x}"))), "{v}");
            assert!(v.contains(&field("chaddr", t[4])), "{v}");
            assert!(
                v.contains(&format!(
                    "= 53 b'\\x{:02x}'",
                    d["message_type"].as_u64().unwrap()
                )),
                "{v}"
            );
            checked[1] += 1;
        }
        if let Some(n) = p.get("ntp") {
            assert_eq!(n["version"].to_string(), t[6], "frame {frame}");
            assert_eq!(n["mode"].to_string(), t[7], "frame {frame}");
            assert_eq!(n["stratum"].to_string(), t[8], "frame {frame}");
            let v = &blocks[ours.iter().position(|q| q == p).unwrap()];
            assert!(
                v.contains(&field("vn", t[6])) && v.contains(&field("stratum", t[8])),
                "{v}"
            );
            checked[2] += 1;
        }
        if let Some(r) = p.get("rip") {
            assert_eq!(r["version"].to_string(), t[9], "frame {frame}");
            assert_eq!(r["command"].to_string(), t[10], "frame {frame}");
            let e = &r["entries"];
            let ips: Vec<serde_json::Value> = e
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x["addr"].clone())
                .collect();
            let metrics: Vec<serde_json::Value> = e
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x["metric"].clone())
                .collect();
            // A request for the whole table has an entry of AFI 0, which tshark lists
            // without an address.
            if e.as_array().unwrap().iter().all(|x| x["afi"] != 0) {
                assert_eq!(list(&serde_json::Value::from(ips)), t[11], "frame {frame}");
            }
            assert_eq!(
                list(&serde_json::Value::from(metrics)),
                t[12],
                "frame {frame}"
            );
            checked[3] += 1;
        }
    }
    assert_eq!(ours.len(), frames.len());
    assert!(
        checked.iter().all(|&n| n >= 2),
        "dns, dhcp, ntp, rip checked: {checked:?}"
    );
}

/// The HTTP first line on tcpdump's HTTP ports (80, 8080) as tcpdump prints it: requests
/// (any known method, any case), responses (a 3-digit second token), lines with a control
/// character, a lone CR or no line end, and payloads the capture cut in the first line.
#[test]
fn http_lines_equal_tcpdumps() {
    let t = "http_lines_equal_tcpdumps";
    if !require_peer(t, "tcpdump") {
        return;
    }
    let payloads: [&[u8]; 16] = [
        b"GET /x HTTP/1.1\r\nHost: a\r\n\r\n",
        b"get /x HTTP/1.1\n",
        b"PROPFIND /dav HTTP/1.1\r\n",
        b"HTTP/1.1 200 OK\r\n",
        b"HTTP/2.0 200 OK\r\n",
        b"FOO 200 x\r\n",
        b"HTTP/1.1 200\r\n",
        b"HTTP/1.1\r\n",
        b"GETX / HTTP/1.1\r\n",
        b"GET /a\x1bb HTTP/1.1\r\n",
        b"GET /x\tHTTP/1.1\r\n",
        b"GET /x HTTP/1.1",
        b"GET /x HTTP/1.1\rX\n",
        b"GET /x HTTP/1.1\r",
        b"\x16\x03\x01\x00\x05hello",
        b"GET /x HTTP/1.1\r\n\x00\x01",
    ];
    let mut f = Vec::new();
    for port in [80, 8080] {
        for p in payloads {
            f.push(whole(eth(&ip4(A, B, 6, &tcp(40000, port, 0x18, &[], p)))));
        }
        // Cut by the capture inside the method, after it, inside the line, between CR and LF.
        let m = b"GET /x HTTP/1.1\r\nHost: a\r\n";
        for keep in [3, 4, 10, 16] {
            let (frame, _) = whole(eth(&ip4(A, B, 6, &tcp(40000, port, 0x18, &[], m))));
            let at = frame.len() - m.len() + keep;
            f.push((frame, Some(at)));
        }
    }
    let lines = same_as_tcpdump(t, &f);
    assert!(
        lines[0].ends_with(": HTTP: GET /x HTTP/1.1"),
        "{}",
        lines[0]
    );
    assert!(lines.iter().filter(|l| l.ends_with(" [|http]")).count() >= 6);
}
