//! TLV: decode never panics, agrees with the streaming decoder fed in arbitrary pieces, and
//! complete TLVs re-emit to the bytes they came from.
#![no_main]
use libfuzzer_sys::fuzz_target;
use netproto::tlv::{Decoded, Decoder, decode, describe};

fuzz_target!(|data: &[u8]| {
    let _ = describe(data);
    let whole = decode(data);
    if let Ok(Decoded::Complete { tlv, consumed }) = &whole {
        assert!(*consumed <= data.len());
        assert_eq!(tlv.to_bytes().unwrap(), &data[..*consumed]);
        let _ = tlv.as_integer();
    }
    // Byte by byte, as the worst TCP segmentation would deliver it.
    let mut d = Decoder::new();
    let mut first = None;
    for &b in data {
        d.push(&[b]);
        match d.next_tlv() {
            Ok(Decoded::NeedMore { .. }) => continue,
            other => {
                first = Some(other);
                break;
            }
        }
    }
    match (whole, first) {
        (Ok(Decoded::Complete { tlv, .. }), Some(Ok(Decoded::Complete { tlv: t2, .. }))) => {
            assert_eq!(tlv, t2)
        }
        (Err(e), Some(Err(e2))) => assert_eq!(e, e2),
        (Ok(Decoded::NeedMore { .. }), None) => {}
        (w, f) => panic!("whole {w:?} vs streamed {f:?}"),
    }
});
