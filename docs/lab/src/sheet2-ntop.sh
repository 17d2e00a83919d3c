# shellcheck shell=bash
# docs/lab/sheet2-ntop.md: its prose and its commands.
# `sudo scripts/gen-lab-docs sheet2-ntop` runs this file with the harness of
# scripts/lib-docs.sh (page, md, run, bgrun, bgstop, ...) and writes the page.
# needs: hello-server hello-client sniff tcpstat jq tshark
page sheet2-ntop "Sheet 2 — ntop-like per-connection counts"
md <<'EOF'
ntop shows, per connection, how many packets and bytes each side sent. `tcpstat conns` gives the same
counts (packets, bytes on the wire, payload bytes, per direction), from a file or live through a pipe
from sniff. Live: capture on brooklyn for 3 s while midwood makes three kinds of request (`cut`
keeps the columns of the counts and the state; `tcpstat --csv` has 32, with times, ISNs, options
and RTTs).
EOF
bgrun srv 'scripts/lab exec brooklyn hello-server --bind 0.0.0.0 -q'
bgrun srv2 'scripts/lab exec brooklyn hello-server --bind 0.0.0.0 -q --port 8080 --message "a longer answer, for a bigger byte count"'
bgrun cap 'scripts/lab exec brooklyn sniff -q -i eth0 --timeout 3 -w - tcp | tcpstat -r - --csv | cut -d, -f1-3,6-13 | column -s, -t'
run 'scripts/lab exec midwood hello-client -q 192.168.56.101:5000 >/dev/null; scripts/lab exec midwood hello-client -q --repeat 5 192.168.56.101:5000 >/dev/null; scripts/lab exec midwood hello-client -q 192.168.56.101:8080 >/dev/null'
bgwait cap show
bgstop srv
bgstop srv2
md <<'EOF'
The same on a real capture, the mapping site's page load, in a compact view (id, client, server,
packets and bytes client→server / server→client):
EOF
run "tcpstat conns -r trace.maps.google.com.pcap --json | jq -r 'select(.type == \"connection\") | [.id, .client, .server, \"\\(.packets[0])/\\(.packets[1])\", \"\\(.bytes[0])/\\(.bytes[1])\"] | @tsv'"
md <<'EOF'
**Answer.** Each row is one connection; `packets_c2s`/`packets_s2c` and `bytes_c2s`/`bytes_s2c` are
ntop's per-host-pair counters, split by direction (bytes on the wire: headers included; the payload
columns count application bytes only). The keep-alive connection with 5 requests carries 5 times the
payload of the single request over one handshake; the 8080 server's longer answer shows in the
server→client bytes. On the map trace, the server→client direction dominates (tiles downloaded), and
connection 13 alone carries 342729 bytes.
EOF
md <<'EOF'
## The program: connections established and accepted, and the bytes of each

The sheet asks for the pseudo-code of an ntop-like program that lists the TCP connections a host
established (it sent the SYN: `connect()`) and accepted (it answered a SYN with a SYN+ACK:
`accept()`), with the bytes exchanged on each. Per packet, it keeps a table keyed by the
connection's four numbers, in either direction:

```text
for each TCP segment s seen on host H (captured, or read from a file):
    key = {(s.src, s.sport), (s.dst, s.dport)}            # the same for both directions
    if s.SYN and not s.ACK:                               # an opening: a new connection
        c = table[key] = new connection
        c.client = (s.src, s.sport); c.server = (s.dst, s.dport)
        c.kind = "established" if s.src == H else "accepted"
    c = table[key]; d = "c>s" if (s.src, s.sport) == c.client else "s>c"
    if s.SYN: c.isn[d] = s.seq                             # SYN or SYN+ACK: that side's ISN
    end = s.seq + len(s.payload) + (1 if s.SYN or s.FIN else 0)       # modulo 2^32
    if end is after c.next[d]: c.next[d] = end             # the highest sequence number sent
    if s.FIN: c.fin[d] = s.seq + len(s.payload)            # the FIN's own sequence number
    c.packets[d] += 1; c.wire_bytes[d] += length of s's frame
at the end, for each connection c of table, for each direction d:
    bytes[d] = c.fin[d] - c.isn[d] - 1  if c.fin[d] is known, else  c.next[d] - c.isn[d] - 1
    print c.kind, c.client, c.server, c.packets, c.wire_bytes, bytes
```

Why the bytes follow from sequence numbers: the SYN takes sequence number ISN, the first data byte
is ISN + 1, every byte then has the next number, and the FIN takes the number after the last data
byte. So a side that sent n bytes sends its FIN with sequence number ISN + 1 + n: n = FIN seq − ISN −
1 (modulo 2³²), whatever happened on the way. Summing payload lengths instead counts a
retransmitted segment as often as the capture sees it, and misses a segment lost before the
capture point — the sequence numbers count each byte once.

`tcpstat conns` is that program: `client` is the side that sent the SYN (so a host's
*established* connections are those where it is the client, its *accepted* ones those where it is
the server), `packets` and `bytes` are the per-direction counters, `payload_bytes` the sum of
payload lengths and `unique_bytes` the sequence-number count. On the textbook's netem traces, the
same 168178-byte file sent four times over lossier and lossier paths (the client's FIN and ISN read
by tshark, the counts by tcpstat):
EOF
run "for t in 0 1 2 3; do fin_isn=\$(tshark -r trace\$t.pcap -o tcp.relative_sequence_numbers:FALSE -Y 'tcp.dstport == 12346 && (tcp.flags.syn == 1 || tcp.flags.fin == 1)' -T fields -e tcp.seq -e tcp.len 2>/dev/null | awk 'NR == 1 { isn = \$1 } NR == 2 { print \$1 + \$2 - isn - 1 }'); tcpstat conns -r trace\$t.pcap --json | jq -r --arg t trace\$t --arg n \"\$fin_isn\" 'select(.type == \"connection\") | \"\\(\$t): FIN seq - ISN - 1 = \\(\$n), unique_bytes \\(.unique_bytes[0]), payload_bytes \\(.payload_bytes[0]), retransmissions \\(.retransmissions_by_dir[0])\"'; done"
md <<'EOF'
**Answer.** In each trace the FIN's sequence number minus the ISN minus 1 is 168178 — the file —
and so is tcpstat's `unique_bytes`, whatever the number of retransmissions. The payload sum agrees
here only because these traces were captured next to the receiver: the first transmission of each
lost segment was lost before the capture point, so the capture saw each byte once. A capture at the
sender sees a retransmitted segment twice (the original and the resend) and its payload sum
exceeds the bytes exchanged. tcpstat's test `crates/tcpstat/tests/byte_counts.rs`
checks both cases on a capture built packet by packet: a hole filled later and a segment seen
twice give 500 payload bytes for 400 exchanged, and `unique_bytes` says 400.

The host's side, on the map trace: the connections 130.104.228.2 established are those where it
sent the SYN (`client`), those it accepted the ones where it answered it; a connection whose
opening the capture did not see (Zeek state `OTH`) cannot be classified from the trace:
EOF
run "tcpstat conns -r trace.maps.google.com.pcap --json | jq -r 'select(.type == \"connection\") | [(if .state == \"OTH\" then \"opening not seen\" elif (.client | startswith(\"130.104.228.2:\")) then \"established\" else \"accepted\" end), .client, .server, .state, \"\\(.unique_bytes[0])/\\(.unique_bytes[1])\"] | @tsv'"
md <<'EOF'
**Answer.** 130.104.228.2 established 13 connections, to port 80 of three servers, and accepted
none (a browser runs no server). Two connections were already open when the capture started
(`OTH`: no SYN seen); their ports — an ephemeral one on 130.104.228.2, 80 and 443 on the other side —
say that the host opened them too, but the program above, which learns the direction from the SYN,
leaves them out of both lists. The bytes are the sequence-number counts, client→server /
server→client.
EOF
