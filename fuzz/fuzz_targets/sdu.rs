//! Simple SDU: verify and describe never panic; whatever verifies re-emits byte for byte.
#![no_main]
use libfuzzer_sys::fuzz_target;
use netproto::sdu::{Packet, Repr, describe};

fuzz_target!(|data: &[u8]| {
    let _ = describe(data);
    if let Ok(repr) = Packet::new_unchecked(data).verify() {
        assert_eq!(repr.to_bytes(), data);
    }
    if let Ok(p) = Packet::new_checked(data) {
        let _ = (
            p.root(),
            p.value(),
            p.string(),
            p.checksum(),
            p.expected_checksum(),
        );
    }
    if data.len() >= 2 {
        let root = Repr::new(u16::from_be_bytes([data[0], data[1]]));
        assert_eq!(
            Packet::new_checked(root.to_bytes()).unwrap().verify(),
            Ok(root)
        );
    }
});
