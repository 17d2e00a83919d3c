# shellcheck shell=bash
# docs/lab/sheet2-hping3.md: its prose and its commands.
# `sudo scripts/gen-lab-docs sheet2-hping3` runs this file with the harness of
# scripts/lib-docs.sh (page, md, run, bgrun, bgstop, ...) and writes the page.
# needs: sniff hping3 python3 stdbuf
page sheet2-hping3 "Sheet 2 — hping3: SYNs to a closed port and to the echo port; a SYN+ACK that acknowledges 0"
md <<'EOF'
hping3 crafts TCP segments by hand. As the sheet asks, we send three SYNs from midwood to brooklyn,
first to port 12345, where nothing listens, then to port 7 (the echo service, like discard on port 9
one of inetd's small services; brooklyn runs no inetd, so a one-line Python listener plays it — for a
SYN only the listening socket matters, not what the service does with data), and capture on midwood.
(`-s` sets hping3's first source port, which it increments for each probe; without it hping3 picks
a random one.)
EOF
bgrun cap 'scripts/lab exec midwood sniff -i eth0 --timeout 4 tcp' 1
run 'scripts/lab exec midwood stdbuf -oL hping3 -S -s 2000 -p 12345 -c 3 -i u200000 192.168.56.101'
bgwait cap show
bgrun echo7 "scripts/lab exec brooklyn python3 -c 'import socket, time; s = socket.create_server((\"0.0.0.0\", 7)); time.sleep(30)'" 0.8
bgrun cap 'scripts/lab exec midwood sniff -i eth0 --timeout 4 tcp' 1
run 'scripts/lab exec midwood stdbuf -oL hping3 -S -s 2100 -p 7 -c 3 -i u200000 192.168.56.101'
bgwait cap show
run "scripts/lab exec brooklyn ss -tan 'sport = :7'"
bgstop echo7
md <<'EOF'
**Answer.** Closed port: brooklyn's kernel answers each SYN with a RST+ACK (`flags=RA`, `[R.]`),
acknowledging the SYN (ack = its sequence number + 1): "no one here", immediately. Echo port: a
socket listens, so the kernel answers SYN+ACK (`flags=SA`, `[S.]`) — the second step of the
handshake. But hping3 wrote its SYN through a raw socket: midwood's TCP never opened a connection, so
when the SYN+ACK arrives midwood's kernel answers it with a RST (`[R]`), and brooklyn drops the
half-open connection. (This is also how a SYN scan learns that a port is open, see
[the nmap page](sheet2-nmap.md); and if the source address were spoofed and nobody answered, the
half-open connections would stay in SYN-RECV: a SYN flood, see [the ss page](sheet2-ss-states.md).)
EOF
md <<'EOF'
## Can a SYN+ACK carry acknowledgement number 0?

A SYN+ACK acknowledges the SYN's sequence number + 1. hping3 sets the sequence number of the
segments it crafts (`-M`, `--setseq`): we send one SYN with sequence number 4294967295 (2³² − 1) to a
listening port on brooklyn and capture on midwood, with absolute numbers (`-S`).
EOF
bgrun echo7 "scripts/lab exec brooklyn python3 -c 'import socket, time; s = socket.create_server((\"0.0.0.0\", 7)); time.sleep(30)'" 0.8
bgrun cap 'scripts/lab exec midwood sniff -i eth0 -S --timeout 3 tcp port 7' 1
run 'scripts/lab exec midwood stdbuf -oL hping3 -S -s 2200 -M 4294967295 -p 7 -c 1 192.168.56.101'
bgwait cap show
bgstop echo7
# The page's claim, checked on what was captured: the SYN's seq, the SYN+ACK's ack 0, the RST's seq 0.
if ! { grep -qE 'Flags \[S\], seq 4294967295,' "$WORK/cap.log" &&
	grep -qE 'Flags \[S\.\], seq [0-9]+, ack 0,' "$WORK/cap.log" &&
	grep -qE 'Flags \[R\], seq 0,' "$WORK/cap.log"; }; then
	cat "$WORK/cap.log" >&2
	echo "$PROG: sheet2-hping3: no SYN+ACK with ack 0 after a SYN with seq 2^32-1" >&2
	exit 1
fi
md <<'EOF'
**Answer.** Yes. The SYN+ACK's acknowledgement number is 0 (`[S.] … ack 0`); midwood's RST (its TCP
opened no connection, as above) takes its sequence number from that acknowledgement, so it is 0 too. TCP
sequence numbers are 32-bit and all their arithmetic is modulo 2³² (RFC 9293, section 3.4): a SYN
consumes one sequence number, so the next byte expected after a SYN with sequence number
2³² − 1 is (2³² − 1) + 1 mod 2³² = 0. Nothing reserves 0: whether the acknowledgement field means
anything is given by the ACK flag, not by its value (a segment without ACK, like the first SYN,
carries a field that the receiver ignores). hping3's own `seq=0` numbers its probes (this reply
answers the first one); it is not a TCP field.
EOF
