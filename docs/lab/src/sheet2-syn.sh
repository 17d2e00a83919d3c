# shellcheck shell=bash
# docs/lab/sheet2-syn.md: its prose and its commands.
# `sudo scripts/gen-lab-docs sheet2-syn` runs this file with the harness of
# scripts/lib-docs.sh (page, md, run, bgrun, bgstop, ...) and writes the page.
# needs: hello-server hello-client sniff jq
page sheet2-syn "Sheet 2 — SYN and SYN+ACK: sequence and acknowledgement numbers"
md <<'EOF'
What numbers do the SYN and the SYN+ACK carry, and how are they related? We capture one connection
to hello-server with absolute sequence numbers (`-S`):
EOF
bgrun srv 'scripts/lab exec brooklyn hello-server --bind 0.0.0.0 -q'
bgrun cap 'scripts/lab exec midwood sniff -q -i eth0 -S -c 3 -w syn.pcap tcp port 5000'
run 'scripts/lab exec midwood hello-client 192.168.56.101:5000'
bgwait cap
bgstop srv
run 'sniff -r syn.pcap -S'
run "sniff -r syn.pcap --json | jq -c 'select(.type == \"packet\") | {frame, flags, seq, ack, options}'"
isn_c=$(sniff -q -r syn.pcap --json | jq -r 'select(.type == "packet" and .frame == 1) | .seq')
isn_s=$(sniff -q -r syn.pcap --json | jq -r 'select(.type == "packet" and .frame == 2) | .seq')
ack2=$(sniff -q -r syn.pcap --json | jq -r 'select(.type == "packet" and .frame == 2) | .ack')
ack3=$(sniff -q -r syn.pcap --json | jq -r 'select(.type == "packet" and .frame == 3) | .ack')
[[ $ack2 == $((isn_c + 1)) && $ack3 == $(((isn_s + 1) % 4294967296)) ]] || { echo "$PROG: SYN numbers do not add up: $isn_c $isn_s $ack2 $ack3" >&2; exit 1; }
md <<EOF
**Answer.** The client's SYN carries its initial sequence number (here ISN = $isn_c) and no
acknowledgement (the ACK flag is off; the field is 0). The server's SYN+ACK carries the server's own
ISN ($isn_s) and acknowledges the client's SYN: ack = $isn_c + 1 = $ack2, because a SYN consumes one
sequence number. The client's third segment acknowledges the server's SYN the same way: ack =
$isn_s + 1 = $ack3. Each side picks its ISN independently and unpredictably (RFC 6528; run it again and
both change), and each side numbers its own bytes from ISN + 1 — which is why sniff and tcpdump show
\`seq 1\` for the first data byte when they print relative numbers. The SYNs also carry the options
(MSS, SACK permitted, timestamps, window scale) that the two sides negotiate; see
[the sysctl page](sheet2-sysctl-options.md).
EOF
