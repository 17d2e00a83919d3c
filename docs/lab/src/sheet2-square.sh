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
