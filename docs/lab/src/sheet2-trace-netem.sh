# shellcheck shell=bash disable=SC2016 # a command in single quotes expands its own $ when run
# docs/lab/sheet2-trace-netem.md: its prose and its commands.
# `sudo scripts/gen-lab-docs sheet2-trace-netem` runs this file with the harness of
# scripts/lib-docs.sh (page, md, run, bgrun, bgstop, ...) and writes the page.
# needs: tcpstat jq
page sheet2-trace-netem "Sheet 2, traces — trace0…trace3: options, RTT, delayed ACKs, retransmissions, graphs, the file"
md <<EOF
$TRNOTE

Each of \`trace0.pcap\` … \`trace3.pcap\` is one IPv6 TCP transfer through a Linux netem link that adds
delay and loses packets.

## Which TCP options are used?
EOF
run 'for t in 0 1 2 3; do tcpstat conns -r trace$t.pcap --json | jq -c "select(.type == \"connection\") | {options_client, options_server}"; done'
md <<'EOF'
**Answer.** In all four: MSS 1440 (1500 − 40 bytes of IPv6 header − 20 of TCP), SACK permitted,
timestamps and window scale shift 1 on both sides — every option the two Linux hosts know, so SACK
blocks can describe the losses and timestamps allow an RTT measure on every ACK.

## How does the RTT evolve?
EOF
run -g 'RTT|^connection|vantage' 'for t in 0 1 2 3; do tcpstat -r trace$t.pcap; done'
run 'tcpstat graph -r trace1.pcap --conn 0 --kind rtt -o ../../docs/img/lab-trace1-rtt.svg'
md <<'EOF'
![RTT of each acknowledged segment over time in trace1](../img/lab-trace1-rtt.svg)

**Answer.** First, where were these traces captured? In every one the server answers the SYN
within a few milliseconds and then waits 400–640 ms for the client's ACK (`vantage`): the capture
is next to the **receiver** (the server; the client sends the file). From there the "RTT" samples
— data to its ACK, Karn's rule — are only the receiver's ACK delay, well under a millisecond
(the few large ones are segments that waited for a hole to be filled before they could be
acknowledged), so their evolution says nothing about the path. The path's round trip shows in the
other half: from an ACK leaving the receiver to the new data that echoes its timestamp, about
420 ms throughout (`path RTT` adds the two halves); the handshake took longer (400–640 ms) while
the first packets also met neighbour discovery and netem's queue. The graph shows both halves
over time — data → ACK at the capture point (blue, the receiver's ACK delay), ACK → the data
echoing it (red, the rest of the path) — and their sum, the path RTT (green).

## Are delayed ACKs used?
EOF
run -g 'delayed|^connection|^ +server ' 'for t in 0 1 2 3; do tcpstat -r trace$t.pcap; done'
md <<'EOF'
**Answer.** Only the receiver (the server, which gets all the data) has ACKs to judge. In trace0 and
trace1 it delays: about a third of its ACKs cover two or more segments (RFC 1122: ACK at least every
second full segment, or within 500 ms). In trace2 and trace3 most ACKs acknowledge a single segment:
after losses the receiver ACKs every out-of-order segment at once (immediate duplicate ACKs with SACK
blocks), which is exactly what fast retransmit needs.

## One segment retransmitted by fast retransmit, one after a timeout — and why
EOF
run -g 'retransmission' 'tcpstat packets -r trace3.pcap'
md <<'EOF'
**Answer.** In trace3, frame 74 (seq 41522) is a **fast retransmission**, and frame 76 (seq 44378)
a **timeout retransmission** — but the capture is next to the receiver, so the duplicate ACKs
captured just before frame 74 (69, 71, 73) had not reached the sender when it resent: an ACK
captured here arrives there ~420 ms later. Frame 74's timestamp echo (TSecr) names the ACK it
answers: frame 71, the second duplicate ACK, carrying SACK; the sender resent the segment as soon
as that ACK reached it (Linux's fast recovery with SACK does not wait for a third duplicate),
~420 ms after frame 71 was captured. Frame 76 echoes frame 75, the last ACK the sender had
received, and came 1.1 s after that ACK reached it, with no duplicate ACK asking for seq 44378: no
ACK released it, its retransmission timer (RTO) did — which is why it could not have been a fast
retransmission.

### Every retransmission of the four traces, and each timeout one

`tcpstat packets` flags frames as Wireshark does, and adds its own verdict on each resent segment
(`retrans_kind`): Wireshark calls most of them "out-of-order", because the capture never saw the
original (lost before the capture point), but each was sent after newer data — a later TSval — so
it is a resend. All of them, trace by trace:
EOF
run 'for t in 0 1 2 3; do tcpstat packets -r trace$t.pcap --json | jq -r --arg t trace$t "select(.retrans_kind != null) | \"\\(\$t) frame \\(.frame) seq \\(.rel_seq) \\(.retrans_kind) (Wireshark: \\(.flags | join(\",\")))\""; done'
md <<'EOF'
So trace0 has 11 retransmissions and trace1 4, all fast: no timeout retransmission at all. trace2
has 5: four fast and one after a timeout, frame 238; trace3 has 15: ten fast and five after a
timeout (frames 12, 76, 146, 182 and 192). (The counts are those of `tcpstat`'s summary,
`retrans` line, for each trace; a grep for `retransmission` in `tcpstat packets` finds only the
frames Wireshark itself flags so.) Why each timeout one was a timeout, in tcpstat's words:
EOF
run 'for t in 2 3; do tcpstat packets -r trace$t.pcap --json | jq -r --arg t trace$t "select(.retrans_kind == \"timeout\") | \"\\(\$t) frame \\(.frame): \\(.reason)\""; done'
md <<'EOF'
**Answer.** A timeout retransmission comes after a silence: the sender got no ACK asking for that
segment (fewer than two duplicate ACKs, or duplicate ACKs so long before that they cannot have
released it), and resent it when its retransmission timer ran out — 0.6 to 2.5 s after the last
ACK reached it, more than a round trip (Linux's RTO: SRTT + 4 × RTTVAR, at least 200 ms, doubled at
each new timeout of the same segment). Frame 238 of trace2 is the typical case: the next-to-last
segment of the file was lost, and only one segment (the last, with the FIN) followed it, so the
receiver could send a single duplicate ACK (frame 237) — too few for fast retransmit; the timer
had to expire. In trace3's frames 12, 146 and 182 three duplicate ACKs had come, but more than a
round trip before: if they released a fast retransmission, it never reached the capture point
(lost too), and the segment arrived only once the timer had expired.

## Graphs
EOF
run 'tcpstat graph -r trace3.pcap --conn 0 --kind tsg -o ../../docs/img/lab-trace3-tsg.svg'
md <<'EOF'
![time-sequence graph of trace3: segments, the ACK line, the window line, retransmissions](../img/lab-trace3-tsg.svg)

The time-sequence graph (Stevens/tcptrace style) shows the sequence number of each segment over time,
the ACK line below it and the advertised-window line above; retransmissions stand out in another
colour, and the long flat steps are the RTO stalls (1–3 s with nothing sent). `--kind tput` and
`--kind window` draw the throughput and the bytes in flight ([docs/tcpstat.md](../tcpstat.md)).

### How the graphs are computed

Both are drawn from per-packet numbers that `tcpstat packets --json` prints (times and sequence
numbers relative to the first packet and to the ISNs). **Time-sequence graph**: each data segment
of the sender (client → server) is a vertical bar at its time, from its first byte (`rel_seq`) to
the byte after its last (`rel_seq + len`); each ACK of the receiver adds a point at (time,
`rel_ack`), the ACK line, and a point at (time, `rel_ack` + window × 2^shift), the window line
(here shift 1: window × 2). The first segments and ACKs of trace3, as the graph takes them:
EOF
run "tcpstat packets -r trace3.pcap --json | jq -r 'select(.type == \"packet\" and .dir == \"c2s\" and .len > 0) | \"segment t=\\(.rel_ts) s  bar \\(.rel_seq) .. \\(.rel_seq + .len)\\(if (.flags | index(\"retransmission\")) then \"  (retransmission)\" else \"\" end)\"' | head -n 4"
run "tcpstat packets -r trace3.pcap --json | jq -r 'select(.type == \"packet\" and .dir == \"s2c\" and .tcp_flags == \".\") | \"ACK     t=\\(.rel_ts) s  ack line \\(.rel_ack), window line \\(.rel_ack + .win * 2)\"' | head -n 4"
md <<'EOF'
**RTT graph**: for each ACK that acknowledges new data, the data segment it acknowledges (the one
whose last byte + 1 is the ACK number, or the last one it covers) gives one sample, the ACK's time
minus the segment's time, plotted at the ACK's time — skipped when that segment was sent more than
once, since the ACK cannot say which copy it answers (Karn's rule). `tcpstat packets` prints each
sample as `ack_rtt` with the frame it answers; the first ones of trace1:
EOF
run -g 'ack_rtt' 'tcpstat packets -r trace1.pcap | head -n 12'
md <<'EOF'
The handshake's two samples are the server's SYN+ACK (0.2 ms after the SYN, at this capture point
next to the server) and the client's ACK of it, 643 ms later: the path's round trip. Every data
sample after them is the receiver's ACK delay — see [the RTT question](#how-does-the-rtt-evolve);
the RTT graph adds the other half of the path, from the timestamps.

## How Wireshark flags segments, rule by rule

Wireshark's "expert info" for TCP (`tcp.analysis.*`) is a fixed list of tests on each segment
against the state of its direction (the next expected sequence number, the last ACK and window
seen, the time each was seen) and of the other direction. tcpstat's `packets` applies the same
tests in the same order (`crates/tcpstat/src/analysis/sequence.rs`, checked against tshark on every
trace by `scripts/conformance`). In order:

1. **zero window probe**: 1 byte at exactly the next expected sequence number while the peer's
   window is 0 (the other tests are skipped).
2. **zero window**: a window of 0 (not on SYN, FIN or RST).
3. **previous segment not captured** (`lost_segment`): the sequence number is beyond the next
   expected one — a hole in what the capture saw.
4. **keep-alive**: 0 or 1 byte at the next expected sequence number − 1.
5. **window update**: no data, same sequence and ACK numbers as the last segment, another window.
6. **window full**: the segment's last byte reaches the right edge of the peer's advertised window.
7. **keep-alive ACK / zero window probe ACK / duplicate ACK**: no data, same sequence number, ACK
   and window as the last segment — the ACK of the peer's keep-alive or probe if that was the last
   thing the peer sent, otherwise a duplicate ACK (numbered in its run: `#1`, `#2` …).
8. **ACKed unseen segment** (`ack_lost_segment`): an ACK beyond everything the peer was seen
   sending.
9. For a segment with data (or SYN/FIN) that does not advance the sequence space:
   **spurious retransmission** if all of it was already acknowledged; else **fast
   retransmission** if the peer has sent 2 or more duplicate ACKs for exactly this sequence
   number and the last came less than 20 ms before; else **out-of-order** if it comes less than
   one handshake RTT (3 ms when unknown) after the highest sequence number was sent; else
   **retransmission**.

How often each rule fired on trace0–3:
EOF
run 'for t in 0 1 2 3; do echo "trace$t: $(tcpstat packets -r trace$t.pcap --json | jq -r "select(.type == \"packet\") | .flags[]" | sort | uniq -c | tr -s " " | paste -sd,)"; done'
md <<'EOF'
**Answer.** The rules are local heuristics on what the capture shows, which is why the capture
point matters: next to the receiver, the 20 ms fast-retransmission window rarely holds (the
resend arrives a round trip after the duplicate ACKs; once in trace0 and once in trace3), so most
resends of trace0–3 come out as "out-of-order" (rule 9: less than one handshake RTT — 400–640 ms
here — after the highest sequence number) or as plain "retransmission", and "previous segment not
captured" marks the first segment captured after each loss. tcpstat keeps
Wireshark's flags for comparison and adds its own verdict on each resend (`retrans_kind`, above),
which uses the RTT and the timestamps instead of the 20 ms rule.

## Which file was exchanged?
EOF
run 'tcpstat follow -r trace0.pcap --conn 0 --dir client --detect'
run 'tcpstat follow -r trace0.pcap --conn 0 --dir client -q | head -12'
md <<'EOF'
**Answer.** The client sends 168178 bytes and the server none; the reassembled stream (each byte once,
no gap) starts with `RFC: 793`: the file is the text of RFC 793, the TCP specification itself.
EOF
