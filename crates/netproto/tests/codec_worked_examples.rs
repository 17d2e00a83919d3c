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

#[test]
fn segment_examples() {
    let d = doc();
    let data = example_after(&d, "### Worked example: DATA, Sequence 5, WIN 4");
    assert_eq!(data, [0x0c, 0x05, 0x00, 0x02, 0x68, 0x69]);
    let ack = example_after(&d, "### Worked example: ACK, Sequence 6, WIN 4");
    assert_eq!(ack, [0x14, 0x06, 0x00, 0x00]);
    // The segment codec (owned by the arq work) parses both as documented.
    assert!(segment::Repr::parse_bytes(&data).is_ok());
    assert!(segment::Repr::parse_bytes(&ack).is_ok());
}
