# shellcheck shell=bash
# docs/lab/sheet2-hping3.md: its prose and its commands.
# `sudo scripts/gen-lab-docs sheet2-hping3` runs this file with the harness of
# scripts/lib-docs.sh (page, md, run, bgrun, bgstop, ...) and writes the page.
# needs: sniff hping3 python3 stdbuf
page sheet2-hping3 "Sheet 2 — hping3: SYNs to a closed port and to the discard port"
md <<'EOF'
hping3 crafts TCP segments by hand. We send three SYNs from midwood to brooklyn, first to a port where
nothing listens, then to port 9 (the discard service; brooklyn runs no inetd, so a one-line Python
listener plays it), and capture on midwood.
EOF
bgrun cap 'scripts/lab exec midwood sniff -i eth0 --timeout 4 tcp'
run 'scripts/lab exec midwood stdbuf -oL hping3 -S -p 1234 -c 3 -i u200000 192.168.56.101'
bgwait cap show
bgrun disc "scripts/lab exec brooklyn python3 -c 'import socket, time; s = socket.create_server((\"0.0.0.0\", 9)); time.sleep(30)'" 0.8
bgrun cap 'scripts/lab exec midwood sniff -i eth0 --timeout 4 tcp'
run 'scripts/lab exec midwood stdbuf -oL hping3 -S -p 9 -c 3 -i u200000 192.168.56.101'
bgwait cap show
run "scripts/lab exec brooklyn ss -tan 'sport = :9'"
bgstop disc
md <<'EOF'
**Answer.** Closed port: brooklyn's kernel answers each SYN with a RST+ACK (`flags=RA`, `[R.]`),
acknowledging the SYN (ack = its sequence number + 1): "no one here", immediately. Discard port: a
socket listens, so the kernel answers SYN+ACK (`flags=SA`, `[S.]`) — the second step of the
handshake. But hping3 wrote its SYN through a raw socket: midwood's TCP never opened a connection, so
when the SYN+ACK arrives midwood's kernel answers it with a RST (`[R]`), and brooklyn drops the
half-open connection. (This is also how a SYN scan learns that a port is open, see
[the nmap page](sheet2-nmap.md); and if the source address were spoofed and nobody answered, the
half-open connections would stay in SYN-RECV: a SYN flood, see [the ss page](sheet2-ss-states.md).)
EOF
