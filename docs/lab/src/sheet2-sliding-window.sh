# shellcheck shell=bash
# docs/lab/sheet2-sliding-window.md: its prose and its commands.
# `sudo scripts/gen-lab-docs sheet2-sliding-window` runs this file with the harness of
# scripts/lib-docs.sh (page, md, run, bgrun, bgstop, ...) and writes the page.
# needs: sniff sender receiver tcpstat sha256sum
page sheet2-sliding-window "Sheet 2 — the sliding-window protocol: go-back-n and selective repeat under loss"
md <<'EOF'
`sender` and `receiver` implement the exercise's protocol over UDP (segment format in
[docs/protocols.md](../protocols.md): type, window, 8-bit sequence number, length, up to 512 bytes of
data; cumulative ACKs carrying the next expected sequence number). Both programs can drop each
segment they receive with a probability (`--loss`) and delay it (`--delay`, `--jitter`), so the
impairment is reproducible from their seeds alone (the lab's links can do the same in the network:
`scripts/lab link`, see [the emulated network](sheet2-emulated-network.md)). We send 50 KiB (100 segments) from brooklyn to midwood with window 4, 10% loss and 5 ms delay on
each side, once in go-back-n and once in selective repeat, capturing the transfer with sniff on
brooklyn's `eth0`.
EOF
run 'head -c 51200 /dev/urandom > sw-in.bin; sha256sum sw-in.bin | cut -c1-16'
for mode in gbn sr; do
	md <<EOF
## $([[ $mode == gbn ]] && echo "Go-back-n" || echo "Selective repeat")
EOF
	bgrun cap "scripts/lab exec brooklyn sniff -q -i eth0 -U -w sw-$mode.pcap udp port 6000"
	bgrun rcv "scripts/lab exec midwood receiver --mode $mode --loss 0.1 --delay 5 --seed 7 6000 4 sw-out-$mode.bin"
	run -s 60 "scripts/lab exec brooklyn sender --mode $mode --loss 0.1 --delay 5 --seed 8 192.168.56.102 6000 4 sw-in.bin"
	bgwait rcv show
	sleep 0.3
	bgstop cap
	run "sha256sum sw-out-$mode.bin | cut -c1-16"
	run "sniff -r sw-$mode.pcap -c 6"
	run "sniff -r sw-$mode.pcap -x -c 1 'udp src port 6000'"
	run "tcpstat graph -r sw-$mode.pcap --kind sw --port 6000 -o ../../docs/img/lab-sliding-window-$mode.svg"
	md <<EOF
![time-sequence graph of the $mode transfer](../img/lab-sliding-window-$mode.svg)
EOF
done
md <<'EOF'
**How to read it.** `tcpstat graph --kind sw` reads the capture's UDP datagrams whose payload is a
segment (`--port 6000`: the receiver's port). Each blue dot is a DATA segment leaving brooklyn (its
8-bit sequence number unwrapped), each red dot a retransmission (a number sent before), the green
staircase the receiver's cumulative ACK (next expected segment) and the orange one the edge of its
window (ACK + WIN), which the sender stays below. The capture is taken before each program's own loss
layer, so every segment sent is on the graph; a loss shows as an ACK line that stops climbing while
dots continue above it. The line under each command counts the DATA segments (retransmissions
included), the retransmissions and the ACKs, and gives the duration.

On the wire, a DATA datagram's UDP payload starts `0c00 0200`: type 1 (DATA) << 3 | WIN 4 = `0x0c`,
sequence 0, length `0x0200` = 512, then the data; an ACK is 4 bytes, `14 nn 00 00`: type 2 (ACK)
<< 3 | WIN 4 = `0x14`, `nn` the next expected segment (1 in the dump above: segment 0 arrived), length 0.

**Answer.** Both deliver the file intact (same sha256). **Go-back-n**: the receiver accepts segments
in order only; after a loss it discards everything that follows (its "out of window" count), so when
duplicate ACKs or the one retransmission timer (for the oldest unacknowledged segment, RFC 6298) say
the oldest segment was lost, the sender goes back to it and resends from there: red dots come in
runs, and many retransmissions are of segments that had arrived. **Selective repeat**: the receiver
buffers out-of-order segments ("buffered out of order"); the sender resends only what is missing —
the oldest segment on duplicate ACKs or its timer, then the next hole on each partial ACK (NewReno
style) — and the ACK line jumps several segments at once when a gap is filled. With the same loss,
selective repeat retransmits far fewer segments; the summary lines above give the counts
(retransmissions, fast vs. timeout, spurious ones, duplicates received).
EOF
