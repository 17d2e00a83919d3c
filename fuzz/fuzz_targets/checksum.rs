//! Checksum: the incremental sum over any split equals a byte-pair RFC 1071 reference.
#![no_main]
use libfuzzer_sys::fuzz_target;
use netproto::checksum::{Checksum, sum};

fuzz_target!(|input: (u16, &[u8])| {
    let (cut, data) = input;
    let mut s: u32 = 0;
    for pair in data.chunks(2) {
        s += u32::from(pair[0]) << 8 | u32::from(*pair.get(1).unwrap_or(&0));
        s = (s & 0xFFFF) + (s >> 16);
    }
    assert_eq!(sum(data), s as u16);
    let cut = usize::from(cut) % (data.len() + 1);
    let mut c = Checksum::new();
    c.add(&data[..cut]).add(&data[cut..]);
    assert_eq!(c.sum(), s as u16);
});
