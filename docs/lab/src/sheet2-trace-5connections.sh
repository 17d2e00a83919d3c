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
