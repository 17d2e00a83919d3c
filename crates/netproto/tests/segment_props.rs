//! Property tests of the segment codec: emit → parse is the identity, parse never panics,
//! and the sequence helpers agree with plain integer arithmetic.
#![allow(clippy::unwrap_used)]

use netproto::segment::{self, Error, MAX_PAYLOAD, Repr, Segment, seq};
use proptest::prelude::*;

fn repr_strategy() -> impl Strategy<Value = (bool, u8, u8, Vec<u8>)> {
    (
        any::<bool>(),
        any::<u8>(),
        0u8..=7,
        prop::collection::vec(any::<u8>(), 0..=MAX_PAYLOAD),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn emit_then_parse_is_identity((data, sq, win, payload) in repr_strategy()) {
        let repr = if data {
            Repr::Data { seq: sq, win, payload: &payload }
        } else {
            Repr::Ack { seq: sq, win }
        };
        let mut buf = [0u8; segment::MAX_SEGMENT];
        let n = repr.emit(&mut buf).unwrap();
        prop_assert_eq!(n, repr.buffer_len());
        prop_assert_eq!(Repr::parse_bytes(&buf[..n]), Ok(repr));
        let view = Segment::new_checked(&buf[..n]).unwrap();
        prop_assert_eq!(view.seq(), sq);
        prop_assert_eq!(view.win(), win);
        prop_assert_eq!(usize::from(view.length()), n - segment::HEADER_LEN);
    }

    #[test]
    fn parse_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        match Repr::parse_bytes(&bytes) {
            Ok(r) => {
                // Whatever parses re-emits to the same bytes.
                let mut buf = [0u8; segment::MAX_SEGMENT];
                let n = r.emit(&mut buf).unwrap();
                prop_assert_eq!(&buf[..n], &bytes[..]);
            }
            Err(Error::Truncated { len }) => prop_assert!(len < 4),
            Err(_) => prop_assert!(bytes.len() >= 4),
        }
        let _ = Segment::new_checked(&bytes[..]).map(|s| (s.kind(), s.win(), s.payload().len()));
    }

    #[test]
    fn parse_never_panics_on_plausible_headers(
        kind in 0u8..32, win in 0u8..8, sq in any::<u8>(), declared in 0u16..1100, len in 0usize..1100
    ) {
        let mut bytes = vec![(kind << 3) | win, sq];
        bytes.extend_from_slice(&declared.to_be_bytes());
        bytes.resize(4 + len, 0x5a);
        let r = Repr::parse_bytes(&bytes);
        let valid = usize::from(declared) == len
            && ((kind == 1 && len <= MAX_PAYLOAD) || (kind == 2 && len == 0));
        prop_assert_eq!(r.is_ok(), valid);
    }

    #[test]
    fn absolute_inverts_wire(abs in 0u64..1_000_000, delta in -128i64..128) {
        let reference = abs as i64 - delta;
        prop_assume!(reference >= 0);
        prop_assert_eq!(seq::absolute(seq::wire(abs), reference as u64), Some(abs));
        prop_assert_eq!(seq::distance(reference as u64, seq::wire(abs)) as i64, delta);
    }
}
