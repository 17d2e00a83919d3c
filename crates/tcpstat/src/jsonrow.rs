//! The `connection` JSON record written by hand: byte for byte what serde_json prints of a
//! [`ConnRecord`] (its `Serialize` is the specification, and a property test holds the two
//! together), without serde_json's escaping scan of every key and its call per piece: on a
//! capture of short connections that was ~37 000 instructions a row, most of `conns --json`.
//!
//! Floats are formatted by zmij, the formatter serde_json itself calls (not finite: `null`);
//! strings are escaped as serde_json escapes them (`"`, `\` and control characters).

use std::net::SocketAddr;

use crate::cells::{self, Text};
use crate::record::{ConnRecord, LimitedRecord, OptionsRecord, RttDirRecord, RttRecord};

/// Append `r`'s JSON (no newline) to `out`.
pub fn write(r: &ConnRecord, out: &mut Vec<u8>) {
    let j = &mut Json(out);
    j.raw(b"{\"ack_to_data_ms\":");
    j.opt_f(r.ack_to_data_ms);
    j.raw(b",\"bytes\":");
    j.u2(r.bytes);
    j.raw(b",\"client\":");
    j.addr(r.client);
    j.raw(b",\"data_dir\":");
    j.str(r.data_dir);
    j.raw(b",\"data_to_ack_ms\":");
    j.opt_f(r.data_to_ack_ms);
    let d = &r.delayed_ack;
    j.raw(b",\"delayed_ack\":{\"client\":");
    j.str(d.client);
    j.raw(b",\"client_text\":");
    j.text(&d.client_text);
    j.raw(b",\"server\":");
    j.str(d.server);
    j.raw(b",\"server_text\":");
    j.text(&d.server_text);
    j.raw(b"},\"dup_acks\":");
    j.u(r.dup_acks);
    j.raw(b",\"duration\":");
    j.f(r.duration);
    j.raw(b",\"fast_retransmissions\":");
    j.u(r.fast_retransmissions);
    j.raw(b",\"first_frame\":");
    j.u(r.first_frame);
    j.raw(b",\"goodput_bps\":[");
    j.f(r.goodput_bps[0]);
    j.raw(b",");
    j.f(r.goodput_bps[1]);
    j.raw(b"],\"handshake_rtt_ms\":");
    j.opt_f(r.handshake_rtt_ms);
    j.raw(b",\"id\":");
    j.u(r.id);
    j.raw(b",\"isn_client\":");
    j.opt_u(r.isn_client);
    j.raw(b",\"isn_server\":");
    j.opt_u(r.isn_server);
    j.raw(b",\"last_frame\":");
    j.u(r.last_frame);
    j.raw(b",\"limited_by\":");
    j.opt(r.limited_by.as_ref(), Json::limited);
    j.raw(b",\"lost_segments\":");
    j.u(r.lost_segments);
    j.raw(b",\"options_client\":");
    j.opt(r.options_client.as_ref(), Json::options);
    j.raw(b",\"options_server\":");
    j.opt(r.options_server.as_ref(), Json::options);
    j.raw(b",\"out_of_order\":");
    j.u(r.out_of_order);
    j.raw(b",\"packets\":");
    j.u2(r.packets);
    j.raw(b",\"path_rtt_ms\":");
    j.opt_f(r.path_rtt_ms);
    j.raw(b",\"payload_bytes\":");
    j.u2(r.payload_bytes);
    j.raw(b",\"probe_retransmissions\":");
    j.u(r.probe_retransmissions);
    j.raw(b",\"rel_start\":");
    j.f(r.rel_start);
    j.raw(b",\"retransmissions\":");
    j.u(r.retransmissions);
    j.raw(b",\"retransmissions_by_dir\":");
    j.u2(r.retransmissions_by_dir);
    j.raw(b",\"rtt_ms\":");
    j.rtt(&r.rtt_ms);
    j.raw(b",\"rtt_ms_by_dir\":[");
    j.rtt_dir(&r.rtt_ms_by_dir[0]);
    j.raw(b",");
    j.rtt_dir(&r.rtt_ms_by_dir[1]);
    j.raw(b"],\"server\":");
    j.addr(r.server);
    j.raw(b",\"spurious_retransmissions\":");
    j.u(r.spurious_retransmissions);
    j.raw(b",\"srtt_ms\":");
    j.opt_f(r.srtt_ms);
    j.raw(b",\"start\":");
    j.f(r.start);
    j.raw(b",\"state\":");
    j.str(r.state);
    j.raw(b",\"state_text\":");
    j.str(r.state_text);
    j.raw(b",\"timeout_retransmissions\":");
    j.u(r.timeout_retransmissions);
    j.raw(b",\"type\":");
    j.str(r.kind);
    j.raw(b",\"unique_bytes\":");
    j.u2(r.unique_bytes);
    j.raw(b",\"vantage\":");
    j.str(r.vantage);
    j.raw(b",\"vantage_evidence\":");
    j.text(&r.vantage_evidence);
    j.raw(b",\"zero_window\":");
    j.u(r.zero_window);
    j.raw(b"}");
}

struct Json<'a>(&'a mut Vec<u8>);

impl Json<'_> {
    fn raw(&mut self, b: &[u8]) {
        self.0.extend_from_slice(b);
    }

    fn u(&mut self, n: impl itoa::Integer) {
        cells::num(self.0, n);
    }

    fn u2(&mut self, [a, b]: [u64; 2]) {
        self.raw(b"[");
        self.u(a);
        self.raw(b",");
        self.u(b);
        self.raw(b"]");
    }

    fn f(&mut self, x: f64) {
        if x.is_finite() {
            self.raw(zmij::Buffer::new().format_finite(x).as_bytes());
        } else {
            self.raw(b"null");
        }
    }

    fn opt<T>(&mut self, v: Option<T>, some: impl FnOnce(&mut Self, T)) {
        match v {
            Some(v) => some(self, v),
            None => self.raw(b"null"),
        }
    }

    fn opt_f(&mut self, v: Option<f64>) {
        self.opt(v, Self::f);
    }

    fn opt_u(&mut self, v: Option<impl itoa::Integer>) {
        self.opt(v, Self::u);
    }

    fn bool(&mut self, b: bool) {
        self.raw(if b { b"true" } else { b"false" });
    }

    /// A string: what `write` writes, quoted, escaped where it must be.
    fn quoted(&mut self, write: impl FnOnce(&mut Vec<u8>)) {
        self.raw(b"\"");
        let start = self.0.len();
        write(self.0);
        if self.0[start..].iter().any(|&b| needs_escape(b)) {
            let text = self.0.split_off(start);
            escape(&text, self.0);
        }
        self.raw(b"\"");
    }

    fn str(&mut self, s: &str) {
        self.quoted(|out| out.extend_from_slice(s.as_bytes()));
    }

    fn text(&mut self, t: &impl Text) {
        self.quoted(|out| t.write_text(out));
    }

    /// As serde serialises a `SocketAddr` to JSON: its `Display`.
    fn addr(&mut self, a: SocketAddr) {
        self.quoted(|out| {
            // Writing to a Vec never fails.
            cells::addr(out, a, 0);
        });
    }

    fn limited(&mut self, l: &LimitedRecord) {
        let fields: [(&[u8], f64); 8] = [
            (b"{\"app\":", l.app),
            (b",\"cwnd\":", l.cwnd),
            (b",\"end\":", l.end),
            (b",\"loss\":", l.loss),
            (b",\"rwnd\":", l.rwnd),
            (b",\"seconds\":", l.seconds),
            (b",\"sender\":", l.sender),
            (b",\"start\":", l.start),
        ];
        for (key, v) in fields {
            self.raw(key);
            self.f(v);
        }
        self.raw(b"}");
    }

    fn options(&mut self, o: &OptionsRecord) {
        self.raw(b"{\"mss\":");
        self.opt_u(o.mss);
        self.raw(b",\"sack_perm\":");
        self.bool(o.sack_perm);
        self.raw(b",\"timestamps\":");
        self.bool(o.timestamps);
        self.raw(b",\"wscale\":");
        self.opt_u(o.wscale);
        self.raw(b"}");
    }

    fn rtt(&mut self, r: &RttRecord) {
        self.avg_max_min(r.avg, r.max, r.min);
        self.raw(b"}");
    }

    fn rtt_dir(&mut self, r: &RttDirRecord) {
        self.avg_max_min(r.avg, r.max, r.min);
        self.raw(b",\"samples\":");
        self.u(r.samples);
        self.raw(b"}");
    }

    /// `{"avg":…,"max":…,"min":…` (the caller closes it).
    fn avg_max_min(&mut self, avg: Option<f64>, max: Option<f64>, min: Option<f64>) {
        self.raw(b"{\"avg\":");
        self.opt_f(avg);
        self.raw(b",\"max\":");
        self.opt_f(max);
        self.raw(b",\"min\":");
        self.opt_f(min);
    }
}

/// What serde_json escapes in a string: the quote, the backslash and control characters.
fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

/// `text` escaped as serde_json escapes it (`\n`, `\"`, `\u001f`, …) onto `out`.
fn escape(text: &[u8], out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for &b in text {
        let short = match b {
            b'"' => b'"',
            b'\\' => b'\\',
            0x08 => b'b',
            0x0c => b'f',
            b'\n' => b'n',
            b'\r' => b'r',
            b'\t' => b't',
            0x00..=0x1f => {
                out.extend_from_slice(&[
                    b'\\',
                    b'u',
                    b'0',
                    b'0',
                    HEX[usize::from(b >> 4)],
                    HEX[usize::from(b & 0xf)],
                ]);
                continue;
            }
            _ => {
                out.push(b);
                continue;
            }
        };
        out.extend_from_slice(&[b'\\', short]);
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::analysis::{arb_float, arb_row};

    /// Any string, leaked to stand where the record holds a `&'static str`: quotes,
    /// backslashes, control characters and any other character included.
    fn text() -> impl Strategy<Value = &'static str> {
        prop_oneof![any::<String>(), "[\"\\\\\u{0}-\u{1f}a→ ]{0,12}",]
            .prop_map(|s| &*Box::leak(s.into_boxed_str()))
    }

    proptest! {
        #[test]
        fn the_record_is_what_serde_json_prints(
            row in arb_row(),
            t0 in any::<i64>(),
            floats in proptest::collection::vec(arb_float(), 6),
            words in proptest::collection::vec(text(), 5),
        ) {
            let mut r = ConnRecord::new(&row, t0);
            // Figures and words the analysis would not give, to test every spelling.
            [r.duration, r.rel_start, r.start, r.goodput_bps[0], r.goodput_bps[1]] =
                [floats[0], floats[1], floats[2], floats[3], floats[4]];
            r.srtt_ms = Some(floats[5]);
            (r.state, r.state_text, r.data_dir, r.vantage, r.kind) =
                (words[0], words[1], words[2], words[3], words[4]);
            let mut got = Vec::new();
            write(&r, &mut got);
            let want = serde_json::to_vec(&r).unwrap();
            prop_assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(&want));
        }
    }
}
