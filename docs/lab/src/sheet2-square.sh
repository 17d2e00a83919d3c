# shellcheck shell=bash
# docs/lab/sheet2-square.md: its prose and its commands.
# `sudo scripts/gen-lab-docs sheet2-square` runs this file with the harness of
# scripts/lib-docs.sh (page, md, run, bgrun, bgstop, ...) and writes the page.
# needs: udp-sdu
page sheet2-square "Sheet 2 — the square message (checksummed UDP SDU)"
md <<'EOF'
The exercise defines a UDP message carrying a 32-bit number, its square root, the number in ASCII and
an RFC 1071 checksum ([docs/protocols.md](../protocols.md) has the bit layout and a worked example);
the server answers one byte: `0xFF` if every check passes, `0x55` otherwise.
EOF
bgrun srv 'scripts/lab exec brooklyn udp-sdu serve 7002'
run 'scripts/lab exec midwood udp-sdu send -v 192.168.56.101 7002 1234'
for k in flags square ascii checksum; do
	run -x "scripts/lab exec midwood udp-sdu send --corrupt $k 192.168.56.101 7002 1234"
done
bgstop srv show
md <<'EOF'
**Answer.** For root 1234 the message is 12 + 7 bytes: flags `0x53`, the 16-bit root `0x04d2`, a zero
byte, the 32-bit square 1522756 (`0x00173c44`), type 1, Len 7, the ASCII string `1522756`, and the
Internet checksum of everything before it. The server recomputes each part: a message with another
flag byte, a wrong square, an ASCII string that does not match the number, or a bad checksum is
answered `0x55` (and its log names the check that failed); the correct one `0xFF`. UDP itself only
detects corrupted bits (its own checksum); these application checks detect a sender's bugs.
EOF
md <<'EOF2'
## Little- and big-endian machines

The sheet asks for a message that a little-endian and a big-endian machine both get right. The
dump above is the answer's first half: the root `04 d2` and the square `00 17 3c 44` go most
significant byte first (network byte order), whatever the sender's CPU. No codec may use the host's
byte order: the workspace denies clippy's `host_endian_bytes` lint (any `to_ne_bytes`/`from_ne_bytes`
fails `cargo clippy -D warnings`, which `scripts/test` runs), and every crate inherits the lint:
EOF2
run 'grep -B2 host_endian_bytes ../../Cargo.toml'
run "ls ../../crates/*/Cargo.toml | wc -l; grep -h -A1 '^\[lints\]' ../../crates/*/Cargo.toml | grep -c '^workspace = true'"
md <<'EOF2'
(the two counts: the crates, and the crates whose `[lints]` section says `workspace = true`). The
bytes are tested exactly, on any host: `crates/netproto/tests/codec_worked_examples.rs` compares what the square,
TLV and sliding-window segment codecs emit with the worked examples of
[docs/protocols.md](../protocols.md), byte for byte, and decodes them back; and the checksum, which
sums in the machine's native word order for speed, runs both the little- and the big-endian loads
in its tests (`both_byte_orders_give_the_same_sum` in `crates/netproto/src/checksum.rs`), so the
big-endian path is checked on a little-endian machine too.
EOF2
