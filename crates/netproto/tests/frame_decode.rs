//! netproto::frame against real traces and arbitrary bytes: every CNP3 trace decodes with the
//! facts Wireshark shows, and no input makes the decoder panic or point outside the frame.

use netproto::capture::Reader;
use netproto::frame::{LayerKind, Net, TcpOption, Transport, decode, linktype};
use netproto::testsupport::shared_traces;
use proptest::prelude::*;

const LINKTYPES: [u32; 10] = [
    linktype::NULL,
    linktype::ETHERNET,
    linktype::RAW_12,
    linktype::RAW_14,
    linktype::RAW,
    linktype::LOOP,
    linktype::LINUX_SLL,
    linktype::IPV4,
    linktype::IPV6,
    linktype::LINUX_SLL2,
];

/// Invariants every decoded frame keeps, whatever the bytes.
fn check(lt: u32, data: &[u8]) {
    let f = decode(lt, data).expect("supported link type");
    let mut end = 0;
    for l in f.layers() {
        assert!(l.offset >= end, "layers in order: {:?}", f.layers());
        assert!(l.offset + l.len <= data.len(), "layer inside the frame");
        end = l.offset + l.len;
    }
    assert!(f.payload().len() <= data.len());
    if let Some(t) = f.tcp() {
        assert!(t.payload.len() as u32 <= t.payload_len || t.payload_len == 0 || f.truncated());
        // Walking every option terminates and stays in bounds.
        for o in t.options.iter() {
            if let TcpOption::Sack(b) = o {
                let _ = b.iter().count();
            }
        }
        let _ = t.options.summary();
    }
    let _ = (
        f.src_ip(),
        f.dst_ip(),
        f.ports(),
        f.proto(),
        f.ip_proto(),
        f.udp(),
    );
    let _ = f.issue().map(|i| i.to_string());
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("FRAME_FUZZ_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(20_000),
        ..ProptestConfig::default()
    })]

    #[test]
    fn decode_never_panics_on_arbitrary_bytes(
        lt in proptest::sample::select(LINKTYPES.to_vec()),
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
    assert_eq!(s.timers().unwrap()[1], 20 * 256, "max age 20 s");
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
    let o = t.options.summary();
    assert_eq!(o.mss, Some(1440));
    assert_eq!(o.window_scale, Some(1));
    assert!(o.sack_permitted);
    assert_eq!(o.timestamp, Some((1993877, 0)));
    assert_eq!(t.ip_len, 40 + 40);
}
