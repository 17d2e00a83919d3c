//! Frame decoder: arbitrary bytes under every link type never panic, every layer lies inside
//! the frame in order, and the TCP fast path and option walker stay in bounds (the invariants
//! of `testsupport::check_frame`, shared with the frame proptest and the trace tests); the
//! TCP payload decoders (HTTP first line, TLS ClientHello) never panic on the same bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use netproto::frame::linktype;

fuzz_target!(|input: &[u8]| {
    // First byte picks the link type, the rest is the frame.
    let Some((&sel, data)) = input.split_first() else {
        return;
    };
    testsupport::check_frame(linktype::ALL[usize::from(sel) % linktype::ALL.len()], data);
    if let Some(netproto::frame::TlsHello::ClientHello {
        server_name: Some(n),
        ..
    }) = netproto::frame::client_hello(data)
    {
        // The name is a slice of the input.
        assert!(n.len() < data.len());
    }
    let _ = netproto::frame::HttpLine::parse(data);
});
