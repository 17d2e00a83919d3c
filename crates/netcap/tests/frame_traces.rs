//! netproto::frame on the real CNP3 traces, read with netcap: every trace decodes with the
//! facts Wireshark shows.
#![allow(clippy::unwrap_used)]

use netcap::Reader;
use netproto::frame::{LayerKind, Net, TcpOption, Transport};
use testsupport::{check_frame as check, shared_traces};

#[test]
fn every_trace_decodes_with_known_first_layers() {
    let Some(dir) = shared_traces("every_trace_decodes_with_known_first_layers") else {
        return;
    };
    let mut total = 0;
    for e in std::fs::read_dir(&dir).unwrap().flatten() {
        let path = e.path();
        let mut r = Reader::open(path.to_str().unwrap()).unwrap();
        while let Some(rec) = r.next().unwrap() {
            let f = rec.decode().unwrap();
            check(rec.linktype, rec.data);
            assert!(f.issue().is_none(), "{}: {:?}", path.display(), f.issue());
            let first = f.layers()[0].kind;
            assert!(
                matches!(
                    first,
                    LayerKind::Ethernet | LayerKind::Dot3 | LayerKind::LinuxSll
                ),
                "{first:?}"
            );
            total += 1;
        }
    }
    assert!(total > 2000, "{total} packets");
}

#[test]
fn stp_bpdu_fields() {
    let Some(dir) = shared_traces("stp_bpdu_fields") else {
        return;
    };
    let mut r = Reader::open(dir.join("stp-s1-trace.pcap").to_str().unwrap()).unwrap();
    let rec = r.next().unwrap().unwrap();
    let f = rec.decode().unwrap();
    assert!(matches!(f.net(), Net::Llc(l) if l.dsap() == 0x42));
    let Transport::Stp(s) = f.transport() else {
        panic!("no STP: {:?}", f.layers())
    };
    // tcpdump: "STP 802.1d, Config, Flags [none], bridge-id 0001.62:52:56:3a:be:9c.8002"
    assert_eq!(s.version(), 0);
    assert_eq!(s.bpdu_type(), 0);
    assert_eq!(
        s.bridge_id(),
        Some((1, [0x62, 0x52, 0x56, 0x3a, 0xbe, 0x9c]))
    );
    assert_eq!(s.port_id(), Some(0x8002));
    // Max age (bytes 29..31, in 1/256 s).
    assert_eq!(
        s.slice()[29..31],
        (20u16 * 256).to_be_bytes(),
        "max age 20 s"
    );
}

#[test]
fn ipv6_tcp_trace_fast_path() {
    let Some(dir) = shared_traces("ipv6_tcp_trace_fast_path") else {
        return;
    };
    let mut r = Reader::open(dir.join("trace0.pcap").to_str().unwrap()).unwrap();
    let rec = r.next().unwrap().unwrap();
    let f = rec.decode().unwrap();
    let t = f.tcp().unwrap();
    // tshark: fec0:0:0:1::2 → fec0:0:0:2::2 44694 → 12346 SYN seq_raw 2060865417,
    // MSS=1440 SACK_PERM TSval=1993877 TSecr=0 WS=2
    assert_eq!(t.src.to_string(), "fec0:0:0:1::2");
    assert_eq!((t.sport, t.dport, t.seq), (44694, 12346, 2060865417));
    let o: Vec<_> = t.options.iter().collect();
    assert!(o.contains(&TcpOption::Mss(1440)), "{o:?}");
    assert!(o.contains(&TcpOption::WindowScale(1)), "{o:?}");
    assert!(o.contains(&TcpOption::SackPermitted), "{o:?}");
    assert!(
        o.contains(&TcpOption::Timestamp {
            tsval: 1993877,
            tsecr: 0
        }),
        "{o:?}"
    );
    assert_eq!(t.ip_len, 40 + 40);
}
