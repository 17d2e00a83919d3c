//! The worked examples of docs/protocols.md, byte for byte: each hex block of the document is
//! read back and compared with what the codecs emit, so the document cannot drift.

// Helpers outside #[test] fns too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use netproto::{sdu, segment, tlv};

fn doc() -> String {
    let path = testsupport::workspace_root().join("docs/protocols.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The hex bytes of the fenced block that follows `heading` (the leading hex of each line).
fn example_after(doc: &str, heading: &str) -> Vec<u8> {
    let start = doc
        .find(heading)
        .unwrap_or_else(|| panic!("no {heading:?} in docs/protocols.md"));
    let rest = &doc[start..];
    let open = rest.find("```\n").unwrap() + 4;
    let close = open + rest[open..].find("```").unwrap();
    let mut bytes = Vec::new();
    for line in rest[open..close].lines() {
        bytes.extend(hex_column(line));
    }
    bytes
}

/// The bytes of one block line only (for blocks with several messages).
fn line_bytes(doc: &str, heading: &str, line: usize) -> Vec<u8> {
    let start = doc.find(heading).unwrap();
    let rest = &doc[start..];
    let open = rest.find("```\n").unwrap() + 4;
    hex_column(rest[open..].lines().nth(line).unwrap())
}

/// A block line is `hex bytes` then two or more spaces then the explanation.
fn hex_column(line: &str) -> Vec<u8> {
    let hex = line.split("  ").next().unwrap_or("");
    hex.split_whitespace()
        .map(|t| u8::from_str_radix(t, 16).unwrap_or_else(|e| panic!("{line:?}: {e}")))
        .collect()
}

#[test]
fn sdu_root_1234() {
    let d = doc();
    let bytes = example_after(&d, "### Worked example: root 1234");
    assert_eq!(bytes.len(), 19);
    assert_eq!(sdu::Repr::new(1234).to_bytes(), bytes);
    let p = sdu::Packet::new_checked(&bytes).unwrap();
    assert_eq!(p.verify(), Ok(sdu::Repr::new(1234)));
    assert!(d.contains("`53 04 d2 00 00 17 3c 44 01 07 31 35 32 32 37 35 36 cc fb`"));
}

#[test]
fn tlv_examples() {
    let d = doc();
    let ascii = example_after(&d, "### Worked example: ASCII integer 1234");
    assert_eq!(tlv::Repr::integer(1234).to_bytes().unwrap(), ascii);
    let t = line_bytes(&d, "### Worked example: booleans", 0);
    let f = line_bytes(&d, "### Worked example: booleans", 1);
    assert_eq!(tlv::Repr::Boolean(true).to_bytes().unwrap(), t);
    assert_eq!(tlv::Repr::Boolean(false).to_bytes().unwrap(), f);
    assert_eq!(
        tlv::decode(&t).unwrap(),
        tlv::Decoded::Complete {
            tlv: tlv::Repr::Boolean(true),
            consumed: 2
        }
    );
}

/// `repr` emitted into a larger buffer pre-filled with a marker: exactly its bytes, nothing
/// written past them.
fn emitted(repr: &segment::Repr) -> Vec<u8> {
    let mut buf = [0xA5u8; segment::MAX_SEGMENT];
    let n = repr
        .emit(&mut buf)
        .unwrap_or_else(|e| panic!("emit {repr}: {e}"));
    assert_eq!(n, repr.buffer_len(), "{repr}: emit's length");
    assert!(
        buf[n..].iter().all(|&b| b == 0xA5),
        "{repr}: wrote past {n}"
    );
    buf[..n].to_vec()
}

#[test]
fn segment_examples() {
    let d = doc();

    // DATA, Sequence 5, WIN 4, payload "hi": each field read back from the documented bytes.
    let data = example_after(&d, "### Worked example: DATA, Sequence 5, WIN 4");
    assert_eq!(data, [0x0c, 0x05, 0x00, 0x02, 0x68, 0x69]);
    let view = segment::Segment::new_checked(&data[..]).unwrap();
    assert_eq!(view.kind(), segment::TYPE_DATA, "DATA: type");
    assert_eq!(view.win(), 4, "DATA: WIN");
    assert_eq!(view.seq(), 5, "DATA: sequence");
    assert_eq!(view.length(), 2, "DATA: length");
    assert_eq!(view.payload(), b"hi", "DATA: payload");
    let want = segment::Repr::Data {
        seq: 5,
        win: 4,
        payload: b"hi",
    };
    assert_eq!(segment::Repr::parse_bytes(&data), Ok(want));
    // The Repr built from the documented fields emits the documented bytes, byte for byte.
    assert_eq!(emitted(&want), data, "DATA emitted");

    // ACK, Sequence 6 (next expected), WIN 4, no payload.
    let ack = example_after(&d, "### Worked example: ACK, Sequence 6, WIN 4");
    assert_eq!(ack, [0x14, 0x06, 0x00, 0x00]);
    let view = segment::Segment::new_checked(&ack[..]).unwrap();
    assert_eq!(view.kind(), segment::TYPE_ACK, "ACK: type");
    assert_eq!(view.win(), 4, "ACK: WIN");
    assert_eq!(view.seq(), 6, "ACK: sequence");
    assert_eq!(view.length(), 0, "ACK: length");
    assert!(view.payload().is_empty(), "ACK: payload");
    let want = segment::Repr::Ack { seq: 6, win: 4 };
    assert_eq!(segment::Repr::parse_bytes(&ack), Ok(want));
    assert_eq!(emitted(&want), ack, "ACK emitted");
}
