//! Capture reader: any byte stream as a pcap/pcapng file never panics, never allocates beyond
//! its record limit, and every record it yields decodes without panicking.
#![no_main]
use libfuzzer_sys::fuzz_target;
use netcap::Reader;

fuzz_target!(|data: &[u8]| {
    let Ok(mut r) = Reader::from_reader(Box::new(std::io::Cursor::new(data.to_vec())), "fuzz")
    else {
        return;
    };
    let _ = r.linktype();
    while let Ok(Some(rec)) = r.next() {
        assert_eq!(rec.caplen as usize, rec.data.len());
        if let Ok(f) = rec.decode() {
            let _ = f.tcp();
        }
    }
});
