# shellcheck shell=bash
# docs/lab/sheet2-firewall.md: its prose and its commands.
# `sudo scripts/gen-lab-docs sheet2-firewall` runs this file with the harness of
# scripts/lib-docs.sh (page, md, run, bgrun, bgstop, ...) and writes the page.
# needs: hello-server hello-client sniff
page sheet2-firewall "Sheet 2 — a firewall that blocks incoming TCP connections but allows outgoing ones"
md <<'EOF'
A TCP connection is opened by a segment with SYN set and ACK not set; every other segment of a
connection has ACK set. So a host refuses incoming connections, yet still opens its own, by dropping
the incoming segments whose flags are SYN without ACK (`iptables -A INPUT -p tcp --syn -j DROP` in
the old syntax). With nftables, inside brooklyn only:
EOF
run "scripts/lab exec brooklyn nft add table inet fw"
run "scripts/lab exec brooklyn nft add chain inet fw input '{ type filter hook input priority 0; policy accept; }'"
run "scripts/lab exec brooklyn nft add rule inet fw input 'tcp flags & (syn | ack) == syn counter drop'"
run 'scripts/lab exec brooklyn nft list table inet fw'
md <<'EOF'
## Incoming: midwood → brooklyn is blocked
EOF
bgrun srv 'scripts/lab exec brooklyn hello-server --bind 0.0.0.0 -q'
bgrun cap 'scripts/lab exec brooklyn sniff -i eth0 --timeout 3 tcp port 5000'
run -x 'scripts/lab exec midwood hello-client --timeout 2 192.168.56.101:5000'
bgwait cap show
bgstop srv
md <<'EOF'
## Outgoing: brooklyn → midwood still works
EOF
bgrun srv 'scripts/lab exec midwood hello-server --bind 0.0.0.0 -q'
run 'scripts/lab exec brooklyn hello-client 192.168.56.102:5000'
bgstop srv
run 'scripts/lab exec brooklyn nft list table inet fw'
run 'scripts/lab exec brooklyn nft delete table inet fw'
md <<'EOF'
**Answer.** Incoming: midwood's SYN reaches brooklyn's interface (the capture sees it, and its
retransmission one second later) but the rule drops it before TCP sees it, so no SYN+ACK and no RST
come back: the client times out ("packets dropped (firewall)") instead of being refused. Outgoing:
brooklyn's own SYN leaves freely (the rule filters input only), and the server's answer is a SYN+ACK —
ACK set, so not matched — followed by segments with ACK: the connection works. The counter shows only
the incoming SYNs were dropped. (A stateful variant, `ct state new tcp ... drop` with `ct state
established,related accept`, decides by connection-tracking state instead of flags.)
EOF
