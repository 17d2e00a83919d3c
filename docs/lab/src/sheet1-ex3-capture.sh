# shellcheck shell=bash disable=SC2016 # a command in single quotes expands its own $ when run
# docs/lab/sheet1-ex3-capture.md: its prose and its commands.
# `sudo scripts/gen-lab-docs sheet1-ex3-capture` runs this file with the harness of
# scripts/lib-docs.sh (page, md, run, bgrun, bgstop, ...) and writes the page.
# needs: hello-server hello-client sniff
page sheet1-ex3-capture "Sheet 1, Exercise 3 — capturing the exchange on both hosts, header by header"
md <<'EOF'
The sheet captures the web exchange with scapy's `sniff(prn=lambda x: x.summary(), filter='tcp port
5000')` on both machines, looks at each header with `pdfdump(layer_shift=1)` and `hexdump()`, saves the
packets with `wrpcap('hello.pcap', ...)`, and asks to run several web servers on one host. `sniff` does
each of these in one command ([docs/sniff.md](../sniff.md) has every option).

## Capture on both hosts while the client runs
EOF
bgrun srv 'scripts/lab exec brooklyn hello-server --bind 0.0.0.0 -q'
bgrun capb 'scripts/lab exec brooklyn sniff -i eth0 -c 12 --timeout 3 -w hello.pcap tcp port 5000'
bgrun capm 'scripts/lab exec midwood sniff -i eth0 -c 12 --timeout 3 tcp port 5000'
run 'scripts/lab exec midwood hello-client 192.168.56.101:5000'
bgwait capm show
bgwait capb show
run 'sniff -r hello.pcap --summary'
md <<'EOF'
**What we see.** The same 10 packets on both hosts (a veth link loses nothing): the three-way
handshake (`[S]`, `[S.]`, `[.]`), the request (`[P.]`, 90 bytes: `GET / HTTP/1.1` and its headers),
its ACK, the response (`[P.]`, the status line, headers and `Hello, World!`), its ACK, and the close
(`[F.]` from the client, `[F.]` from the server, the last `[.]`). The sheet's `count=12` never fills
(10 packets), so `--timeout 3` ends the capture; `-c 12 -w hello.pcap` is the sheet's program.
(With `-i any`, sniff's default, each line also shows the interface and the direction, `In`/`Out`.)

## Header fields, layer by layer
`-v` names every field of every layer with its byte offset (scapy's `show()`); here the request:
EOF
run "sniff -r hello.pcap -v -c 1 'tcp[tcpflags] & tcp-push != 0'"
run "sniff -r hello.pcap -X -c 1 'tcp[tcpflags] & tcp-push != 0'"
run 'sniff -r hello.pcap --diagram ../../docs/img/lab-hello-frame4.svg --frame 4'
md <<'EOF'
![the request's layers: Ethernet, IPv4, TCP and the HTTP payload, each field at its bit position](../img/lab-hello-frame4.svg)

**Answer.** Ethernet (14 bytes): destination and source MAC, type `0x0800` (IPv4). IPv4 (20 bytes):
version 4, header length 5 words, total length, identification, the DF flag, TTL 64, protocol 6
(TCP), header checksum, source 192.168.56.102, destination 192.168.56.101. TCP (32 bytes: 20 + 12 of
options): source port (the client's ephemeral port), destination port 5000, sequence and
acknowledgement numbers, data offset 8 words, flags PSH+ACK, window (in units of 2^wscale, here
1024 bytes, negotiated in the SYNs), checksum, and the options NOP, NOP, Timestamps. Then the 90
bytes of HTTP. Each header's "next protocol" field (EtherType, IP protocol, TCP port) tells the
receiver how to read what follows.

## Several web servers on one host
Two servers on two ports, and two instances sharing one port with `SO_REUSEPORT`:
EOF
bgstop srv
bgrun s1 'scripts/lab exec brooklyn hello-server --bind 0.0.0.0 --port 5000 --workers 1 --message "server A"'
bgrun s2 'scripts/lab exec brooklyn hello-server --bind 0.0.0.0 --port 5001 --workers 1 --message "server B"'
bgrun s3 'scripts/lab exec brooklyn hello-server --bind 0.0.0.0 --port 8080 --workers 1 --reuse-port >8080-a.log 2>&1'
bgrun s4 'scripts/lab exec brooklyn hello-server --bind 0.0.0.0 --port 8080 --workers 1 --reuse-port >8080-b.log 2>&1'
run 'scripts/lab exec brooklyn ss -tlnp | { read -r h; echo "$h"; sort; }'
md <<'EOF'
A capture on brooklyn of the opening segments (SYN and SYN+ACK) while midwood asks each server in
turn, then twenty times the 8080 pair (whose two instances write their logs to `8080-a.log` and
`8080-b.log`):
EOF
bgrun cap "scripts/lab exec brooklyn sniff -i eth0 -c 6 --timeout 8 'tcp[tcpflags] & tcp-syn != 0'"
run 'scripts/lab exec midwood hello-client 192.168.56.101:5000; scripts/lab exec midwood hello-client 192.168.56.101:5001'
run 'for i in $(seq 20); do scripts/lab exec midwood hello-client -q 192.168.56.101:8080 >/dev/null; done'
bgwait cap show
run -x 'scripts/lab exec brooklyn hello-server --bind 0.0.0.0 --port 5000'
bgstop s1 show
bgstop s2 show
bgstop s3
bgstop s4
run 'head -n 1 8080-a.log 8080-b.log; grep -l "GET / " 8080-a.log 8080-b.log'
md <<'EOF'
**Answer.** The host has one IP address but many ports: the kernel delivers each incoming segment to
the socket whose (address, port) matches its destination, so servers on 5000, 5001 and 8080 coexist
and the client picks one by the port in the URL. In the capture, the three connections have the same
addresses in their IP headers (192.168.56.102 → 192.168.56.101) and the same kind of TCP header;
only the TCP destination port (5000, 5001, 8080) — and the client's ephemeral source port, a new one
per connection — tell them apart, and the SYN+ACK comes back from that port. A second server on a port already in use fails
(the kernel refuses the `bind`: `EADDRINUSE`), unless every instance opts in with `SO_REUSEPORT`: then the kernel spreads
new connections over them (by a hash of the 4-tuple): both 8080 instances have requests in their
access logs (which of the twenty each got changes from run to run).
EOF
