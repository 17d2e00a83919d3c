//! Internet checksum throughput: netproto's checksum next to two peers in the same run —
//! etherparse's `Sum16BitWords` and a plain byte-pair RFC 1071 loop.
//! `scripts/bench/checksum` runs this and prints GB/s and the ratios.

use divan::counter::BytesCount;
use divan::{Bencher, black_box};

const SIZES: [usize; 3] = [20, 1500, 65536];

fn main() {
    divan::main();
}

fn buffer(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 131 + 7) as u8).collect()
}

#[divan::bench(args = SIZES)]
fn netproto(bencher: Bencher, len: usize) {
    let data = buffer(len);
    bencher
        .counter(BytesCount::new(len))
        .bench(|| netproto::checksum::checksum(black_box(&data)));
}

#[divan::bench(args = SIZES)]
fn etherparse(bencher: Bencher, len: usize) {
    let data = buffer(len);
    bencher.counter(BytesCount::new(len)).bench(|| {
        etherparse::checksum::Sum16BitWords::new()
            .add_slice(black_box(&data))
            .ones_complement()
    });
}

#[divan::bench(args = SIZES)]
fn bytepair(bencher: Bencher, len: usize) {
    let data = buffer(len);
    bencher.counter(BytesCount::new(len)).bench(|| {
        let mut s: u32 = 0;
        for pair in black_box(&data).chunks(2) {
            s += u32::from(pair[0]) << 8 | u32::from(*pair.get(1).unwrap_or(&0));
        }
        while s > 0xFFFF {
            s = (s & 0xFFFF) + (s >> 16);
        }
        !(s as u16)
    });
}
