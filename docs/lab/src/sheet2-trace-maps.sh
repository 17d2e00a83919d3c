# shellcheck shell=bash
# docs/lab/sheet2-trace-maps.md: its prose and its commands.
# `sudo scripts/gen-lab-docs sheet2-trace-maps` runs this file with the harness of
# scripts/lib-docs.sh (page, md, run, bgrun, bgstop, ...) and writes the page.
# needs: tcpstat jq
page sheet2-trace-maps "Sheet 2, traces — how many TCP connections does a mapping web site use?"
md <<EOF
$TRNOTE
EOF
run 'tcpstat -r trace.maps.google.com.pcap | head -16'
run 'tcpstat conns -r trace.maps.google.com.pcap --json | jq -r "select(.isn_client != null) | .server" | sort | uniq -c'
md <<'EOF'
**Answer.** The trace holds 15 TCP connections, 13 of them opened in the trace (a SYN seen): the
browser fetched the page over 13 parallel connections to 3 servers (the count per server is above) —
HTTP/1.1 browsers open several connections per server (up to 6) to fetch the many map tiles at once.
Connections 0 and 14 began before the capture (`OTH`, no SYN): they are not part of the page load
(0 finishes an HTTP exchange with another site, 14 is one packet of an older HTTPS connection). Most connections are still open at the end
(`S1`): HTTP/1.1 keeps them alive for the next requests.
EOF
