# shellcheck shell=bash
# docs/lab/sheet2-ntop.md: its prose and its commands.
# `sudo scripts/gen-lab-docs sheet2-ntop` runs this file with the harness of
# scripts/lib-docs.sh (page, md, run, bgrun, bgstop, ...) and writes the page.
# needs: hello-server hello-client sniff tcpstat jq
page sheet2-ntop "Sheet 2 — ntop-like per-connection counts"
md <<'EOF'
ntop shows, per connection, how many packets and bytes each side sent. `tcpstat conns` gives the same
counts (packets, bytes on the wire, payload bytes, per direction), from a file or live through a pipe
from sniff. Live: capture on brooklyn for 3 s while midwood makes three kinds of request.
EOF
bgrun srv 'scripts/lab exec brooklyn hello-server --bind 0.0.0.0 -q'
bgrun srv2 'scripts/lab exec brooklyn hello-server --bind 0.0.0.0 -q --port 8080 --message "a longer answer, for a bigger byte count"'
bgrun cap 'scripts/lab exec brooklyn sniff -q -i eth0 --timeout 3 -w - tcp | tcpstat -r - --csv'
run 'scripts/lab exec midwood hello-client -q 192.168.56.101:5000 >/dev/null; scripts/lab exec midwood hello-client -q --repeat 5 192.168.56.101:5000 >/dev/null; scripts/lab exec midwood hello-client -q 192.168.56.101:8080 >/dev/null'
bgwait cap show
bgstop srv
bgstop srv2
md <<'EOF'
The same on a real capture, the mapping site's page load, in a compact view (id, client, server,
packets and bytes client→server / server→client):
EOF
run "tcpstat conns -r trace.maps.google.com.pcap --json | jq -r 'select(.type == \"connection\") | [.id, .client, .server, \"\\(.packets[0])/\\(.packets[1])\", \"\\(.bytes[0])/\\(.bytes[1])\"] | @tsv'"
md <<'EOF'
**Answer.** Each row is one connection; `packets_c2s`/`packets_s2c` and `bytes_c2s`/`bytes_s2c` are
ntop's per-host-pair counters, split by direction (bytes on the wire: headers included; the payload
columns count application bytes only). The keep-alive connection with 5 requests carries 5 times the
payload of the single request over one handshake; the 8080 server's longer answer shows in the
server→client bytes. On the map trace, the server→client direction dominates (tiles downloaded), and
connection 13 alone carries 342729 bytes.
EOF
