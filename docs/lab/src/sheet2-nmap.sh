# shellcheck shell=bash
# docs/lab/sheet2-nmap.md: its prose and its commands.
# `sudo scripts/gen-lab-docs sheet2-nmap` runs this file with the harness of
# scripts/lib-docs.sh (page, md, run, bgrun, bgstop, ...) and writes the page.
# needs: hello-server sniff tcpstat jq nmap
page sheet2-nmap "Sheet 2 — nmap's SYN scan, seen by sniff"
md <<'EOF'
nmap's default scan as root is the SYN ("half-open") scan: it sends a SYN to each port and judges
the port by the answer, never completing a handshake. We scan brooklyn (hello-server on 5000) from
midwood and capture on brooklyn (`-g 40000` fixes nmap's source port, which it otherwise picks at
random for each scan).
EOF
bgrun srv 'scripts/lab exec brooklyn hello-server --bind 0.0.0.0 -q'
bgrun cap 'scripts/lab exec brooklyn sniff -q -i eth0 --timeout 6 -w nmap.pcap tcp' 0.6
run -s 30 'scripts/lab exec midwood nmap -sS -n -g 40000 -p 1-1024,5000 192.168.56.101'
bgwait cap
bgstop srv
run "sniff -r nmap.pcap 'tcp port 5000'"
run -n 6 "sniff -r nmap.pcap 'tcp port 22'"
run "tcpstat conns -r nmap.pcap --json | jq -r 'select(.type == \"connection\") | .state + \" \" + .state_text' | sort | uniq -c"
md <<'EOF'
**Answer.** For the open port 5000: SYN from nmap, SYN+ACK from brooklyn, then a RST from midwood —
nmap sent its SYN through a raw socket, so midwood's kernel knows no such connection and resets it
(nmap wants exactly that: no connection is ever established, so the server's application never sees
it, which is why it is called a half-open or "stealth" scan). For each closed port (22 and the other
1023): SYN, then RST+ACK from brooklyn's kernel. tcpstat counts the scan as 1024 refused attempts
(`REJ`, the closed ports) and one connection aborted by the client's RST after the SYN+ACK (`RSTO`,
the open port). A port whose SYN got no answer at all would be
reported `filtered` (a firewall dropping it).
EOF
