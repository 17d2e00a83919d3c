//! Frame decoder: arbitrary bytes under every link type never panic, every layer lies inside
//! the frame in order, and the TCP fast path and option walker stay in bounds.
#![no_main]
use libfuzzer_sys::fuzz_target;
use netproto::frame::{decode, linktype};

fuzz_target!(|input: &[u8]| {
    // First byte picks the link type, the rest is the frame.
    let Some((&sel, data)) = input.split_first() else {
        return;
    };
    let lt = linktype::ALL[usize::from(sel) % linktype::ALL.len()];
    let f = decode(lt, data).expect("supported link type");
    let mut end = 0;
    for l in f.layers() {
        assert!(l.offset >= end && l.offset + l.len <= data.len());
        end = l.offset + l.len;
    }
    assert!(f.payload().len() <= data.len());
    if let Some(t) = f.tcp() {
        for o in t.options.iter().with_offsets() {
            assert!(o.0 + o.1 <= t.options.0.len());
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
});
