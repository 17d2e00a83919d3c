# shellcheck shell=bash disable=SC2016 # a command in single quotes expands its own $ when run
# docs/lab/sheet2-emulated-network.md: its prose and its commands.
# `sudo scripts/gen-lab-docs sheet2-emulated-network` runs this file with the harness of
# scripts/lib-docs.sh (page, md, run, bgrun, bgstop, ...) and writes the page.
# needs: linkem sniff tcpstat jq python3 nstat
page sheet2-emulated-network "Sheet 2 — the emulated network: make the traces yourself, with the ground truth beside them"
md <<'EOF'
The transport sheet's traces come from an emulated network: a client and a server on either side of
a router whose link to the client adds delay, limits the bandwidth and drops packets (netem), with
NewReno on both hosts. `scripts/scenario cnp3-netem DIR` builds that network in the namespace lab
— pc1 (client) – r1 – pc2 (server), reno on both ends, [linkem](../linkem.md) on the pc1–r1 link:
the delay both ways, the loss and a 10 Mbit/s bottleneck on the data direction — and runs one bulk
TCP transfer pc1 → pc2 (200 kB, IPv6 like the textbook's traces) for each of loss 0 / 1 / 5 / 10 %
× delay 10 / 100 / 500 ms one way, all cells at once, each in its own lab. Each cell is captured at
the client and at the server, and comes with what no trace tells: linkem's record of every frame
it dropped, and the client kernel's own TCP counters.
EOF
run -s 300 'scripts/scenario cnp3-netem cnp3'
md <<'EOF'
One row per cell: how long the transfer took, the frames linkem dropped, and the client's counters
from `nstat` — retransmitted segments, how many the kernel resent in fast retransmit / SACK
recovery, its retransmission timeouts and its tail-loss probes. With a 1 s round trip (500 ms each
way) a lost segment costs a whole RTT or a timeout, which is why the bottom rows are slow.

## One cell from both sides: loss 5 %, delay 100 ms
EOF
run 'ls cnp3/loss5-delay100; cat cnp3/loss5-delay100/spec.txt'
run -g 'RTT|retrans|^connection|vantage|delayed|goodput' 'tcpstat -r cnp3/loss5-delay100/client.pcap'
run -g 'RTT|retrans|^connection|vantage|delayed|goodput' 'tcpstat -r cnp3/loss5-delay100/server.pcap'
md <<'EOF'
The same connection, seen from two places. At the client (the sender) the handshake and the data
RTT samples are the path's round trip — 200 ms of delay plus the bottleneck's queue. At the server
(the receiver) a "data → ACK" time is only how long the receiver waits before it acknowledges, a
millisecond or less here: the round trip is not visible from there, except in the handshake, where
the server's SYN/ACK waits a round trip for the client's ACK. This is the trap of the sheet's own
traces, which were captured next to the receiver. The other way round, at the client the "delayed ACK"
line counts the receiver's ACKs but does not time them: from there, data to ACK includes the path.

## What did the network really lose?
EOF
run 'jq -c -s '\''(map(select(.flags == "S"))[0].seq) as $isn | .[] | select(.type == "frame" and (.fate | startswith("dropped"))) | {n, fate, seq: (.seq - $isn), len: .tcp_len, flags}'\'' cnp3/loss5-delay100/linkem.ndjson'
run 'tcpstat packets -r cnp3/loss5-delay100/client.pcap | grep -E "retransmission|out_of_order"'
run 'tcpstat packets -r cnp3/loss5-delay100/server.pcap | grep -E "retransmission|out_of_order"'
run 'jq -c "{retrans: .kernel.TcpRetransSegs, fast: .kernel.TcpExtTCPFastRetrans, timeouts: .kernel.TcpExtTCPTimeouts, probes: .kernel.TcpExtTCPLossProbes}" cnp3/loss5-delay100/nstat-client.json'
md <<'EOF'
linkem's log lists each frame it dropped (relative sequence numbers, as tcpstat prints them) —
data segments the client had to resend (a pure ACK could be among them: it crosses the same
direction) — and the kernel's counters say it resent exactly as many, all by fast retransmit /
SACK recovery or, on the slow paths, some after a timeout.

The captures name the same segments. tcpstat prints Wireshark's flags, flag for flag, and
Wireshark calls a segment that fills a hole less than a round trip after the previous segment
"out-of-order" (`tcp.analysis.out_of_order`) — here most of these resends, at both ends.
Wireshark's rules assume nothing about where the capture was taken; tcpstat's own reading does:
it keeps the flags, but counts and explains as a retransmission every segment sent after newer
data (a later timestamp) or seen next to its sender, and it names the ACK that released each
resend as the sender saw it (the segment's TSecr), so the explanation is right from either end.
`scripts/ground-truth` scores exactly this against the drops, the counters and TCP_INFO (see
[tcpstat](../tcpstat.md#where-the-capture-was-taken-and-the-ground-truth)).
EOF
run 'TCPSTAT=$(command -v tcpstat) scripts/ground-truth cnp3'
md <<'EOF'
## The time-sequence graph
EOF
run 'tcpstat graph -r cnp3/loss5-delay100/client.pcap --conn 0 --kind tsg -o ../../docs/img/lab-emulated-tsg.svg'
md <<'EOF'
![time-sequence graph of the loss 5 %, delay 100 ms transfer, captured at the client](../img/lab-emulated-tsg.svg)

Seen from the sender: the flights of segments once per 200 ms round trip, growing in slow start
until the first loss, the ACK line one round trip behind, and each retransmission (red) about one
round trip after the segment it replaces. Every cell's files are in `cnp3/` to explore the same way:
`tcpstat -r cnp3/loss10-delay500/server.pcap`, `tcpstat graph …`, `jq … linkem.ndjson`.
EOF
