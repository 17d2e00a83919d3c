# shellcheck shell=bash
# docs/lab/sheet2-tlv.md: its prose and its commands.
# `sudo scripts/gen-lab-docs sheet2-tlv` runs this file with the harness of
# scripts/lib-docs.sh (page, md, run, bgrun, bgstop, ...) and writes the page.
# needs: tlv-client tlv-server python3
page sheet2-tlv "Sheet 2 — the TLV client (TCP port 62141)"
md <<'EOF'
The exercise: the server listens on TCP port 62141; on each connection it sends an integer as an
ASCII TLV; the client replies with that integer as a 32-bit number in network byte order; the server
answers a boolean TLV (true if correct) and closes. A TLV's first byte is the type (2 high bits: `01`
ASCII, `10` boolean) and the length (6 low bits); see [docs/protocols.md](../protocols.md).
EOF
bgrun srv 'scripts/lab exec brooklyn tlv-server --value 4242'
run 'scripts/lab exec midwood tlv-client -v 192.168.56.101'
bgrun srv2 'scripts/lab exec brooklyn tlv-server --port 62142'
run 'for i in 1 2 3; do scripts/lab exec midwood tlv-client 192.168.56.101 62142; done'
md <<'EOF'
A server that breaks the protocol (here a one-line Python server that sends a TLV of the unknown type
`11`) makes the client fail clearly instead of hanging:
EOF
bgrun bad "scripts/lab exec brooklyn python3 -c 'import socket; s = socket.create_server((\"0.0.0.0\", 62143)); c, _ = s.accept(); c.sendall(bytes([0xc1, 0x41])); c.close()'" 0.8
run -x 'scripts/lab exec midwood tlv-client --timeout 2 192.168.56.101 62143'
bgstop bad
bgstop srv show
bgstop srv2 show
md <<'EOF'
**Answer.** For 4242 the server sends `44 34 32 34 32` (type `01` ASCII, length 4, the digits
"4242"); the client answers `00 00 10 92` (4242 as a big-endian 32-bit integer) and receives `81 00`
(type `10` boolean, length 1, value 0x00 = **true** as the exercise defines it). The client must read
exactly the TLV's length (TCP may deliver it in several pieces), convert the ASCII to an integer and
encode it in network byte order (`htonl`, `struct.pack('!I', n)`), whatever the host's endianness.
EOF
