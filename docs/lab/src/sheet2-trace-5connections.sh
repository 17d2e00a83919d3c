# shellcheck shell=bash
# docs/lab/sheet2-trace-5connections.md: its prose and its commands.
# `sudo scripts/gen-lab-docs sheet2-trace-5connections` runs this file with the harness of
# scripts/lib-docs.sh (page, md, run, bgrun, bgstop, ...) and writes the page.
# needs: sniff tcpstat jq
page sheet2-trace-5connections "Sheet 2, traces — five connections opened and closed; five connection attempts"
md <<EOF
$TRNOTE

## trace.5connections_opening_closing.pcap: how many connections, how is each closed, how do the ISNs evolve?
EOF
run -n 7 'tcpstat -r trace.5connections_opening_closing.pcap'
run 'tcpstat conns -r trace.5connections_opening_closing.pcap --json | jq -r "select(.type == \"connection\") | [.id, .client, .isn_client, .isn_server, .state, .state_text] | @tsv"'
run -g '#4 ' 'tcpstat packets -r trace.5connections_opening_closing.pcap'
md <<'EOF'
**Answer.** Five TCP connections from `10.0.1.2` (ports 34720–34724, consecutive ephemeral ports) to
`10.0.2.2:11111`, each opened by a three-way handshake (`[S]`, `[S.]`, `[.]`); the client sends 17
bytes on each. Connections 0–3 are closed normally by four segments, the **server** closing first (its
`[F.]` right after acknowledging the data), then the client's `[F.]` and the server's last ACK (Zeek
state `SF`). Connection 4 is different (`S2`): the server acknowledges the data but never sends its FIN
in the trace; the client closes its direction (`[F.]`, frame 38) and the server ACKs it (frame 39) —
the connection is half-closed, the server's side still open when the capture ends.

Initial sequence numbers: the client's ISNs are 4131356265, 4133520686, 4138992941, 4140876173,
4145520924 — connections opened within 3 ms have ISNs millions apart, not +1 or +64000 as in old
BSD stacks; the server's (3650881316, 3651377270, 3654203122, 3649607628, 3646903379) even go down.
Linux computes ISN = a clock that ticks every few nanoseconds + a keyed hash of the 4-tuple
(RFC 6528), so each connection's ISN is unpredictable to an off-path attacker, yet a reused 4-tuple
gets a larger ISN than before.

### Is it RFC 793's clock, one tick every 4 µs?

RFC 793 (section 3.3) suggests an ISN generator that is a 32-bit counter incremented every 4 µs. If
the client used it, each ISN would exceed the first by the time elapsed divided by 4 µs. The
trace's numbers, each connection's start (from the SYN) and ISN relative to connection 0's:
EOF
run "tcpstat conns -r trace.5connections_opening_closing.pcap --json | jq -r 'select(.type == \"connection\") | [.id, .rel_start, .isn_client] | @tsv' | awk 'NR == 1 { t0 = \$2; i0 = \$3 } { dt = (\$2 - t0) * 1e6; printf \"%s  start +%8.1f us  ISN - ISN0 = %9d  a 4 us clock: +%5.0f\\n\", \$1, dt, \$3 - i0, dt / 4 }'"
md <<'EOF'
**Answer.** No. In 12 ms a 4 µs clock ticks about 3000 times, so the five ISNs would lie within
3011 of each other, in the order of the connections and in proportion to their start times; they lie
2.2 to 14.2 million apart, and not in proportion to time (the 833 µs between connections 1 and 2 add
5.5 million, the next 1022 µs only 1.9 million). The ISN does grow with time — Linux adds a clock of
64 ns ticks (RFC 6528's M) — but each 4-tuple also gets its own keyed hash F(addresses, ports,
secret), which is what separates these five connections with consecutive ports. RFC 793's clock
wraps around 2³² after 2³² × 4 µs ≈ 4.77 hours, longer than a segment can live in the network (MSL,
2 minutes): that, and not unpredictability, was its purpose; its weakness is that the next ISN can
be guessed (Morris 1985, Mitnick 1994), which the per-tuple hash removes.

## trace.5connections.pcap: what happens to the five connection attempts?
EOF
run -n 7 'tcpstat -r trace.5connections.pcap'
run 'sniff -r trace.5connections.pcap'
md <<'EOF'
**Answer.** None is established: each SYN from `10.0.1.2` to port 11111 is answered at once by a
RST+ACK (`[R.]`, `ack` = the client's ISN + 1, window 0) — no process listens on `10.0.2.2:11111`, so
the server's kernel refuses the connection (Zeek state `REJ`). The client's application sees
"connection refused" and tries again with a new port (56478 … 56482) and a new ISN, five times. The two
ARP frames at the end are not TCP.
EOF
