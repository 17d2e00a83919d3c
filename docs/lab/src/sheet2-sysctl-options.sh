# shellcheck shell=bash
# docs/lab/sheet2-sysctl-options.md: its prose and its commands.
# `sudo scripts/gen-lab-docs sheet2-sysctl-options` runs this file with the harness of
# scripts/lib-docs.sh (page, md, run, bgrun, bgstop, ...) and writes the page.
# needs: hello-server hello-client sniff
page sheet2-sysctl-options "Sheet 2 — switching SACK, timestamps and window scaling off, seen in a capture"
md <<'EOF'
Linux offers the TCP options in its SYN according to three sysctls (per network namespace, so each lab
host has its own): `net.ipv4.tcp_sack`, `net.ipv4.tcp_timestamps`, `net.ipv4.tcp_window_scaling`.
By default all three are on:
EOF
bgrun srv 'scripts/lab exec brooklyn hello-server --bind 0.0.0.0 -q'
run 'scripts/lab exec midwood sysctl net.ipv4.tcp_sack net.ipv4.tcp_timestamps net.ipv4.tcp_window_scaling'
bgrun cap "scripts/lab exec midwood sniff -q -i eth0 -c 2 --timeout 3 'tcp[tcpflags] & tcp-syn != 0'"
run 'scripts/lab exec midwood hello-client -q 192.168.56.101:5000'
bgwait cap show
md <<'EOF'
Now switch them off on midwood (the client) only:
EOF
run 'scripts/lab exec midwood sysctl -w net.ipv4.tcp_sack=0 net.ipv4.tcp_timestamps=0 net.ipv4.tcp_window_scaling=0'
bgrun cap "scripts/lab exec midwood sniff -q -i eth0 -c 2 --timeout 3 'tcp[tcpflags] & tcp-syn != 0'"
run 'scripts/lab exec midwood hello-client -q 192.168.56.101:5000'
bgwait cap show
run 'scripts/lab exec midwood sysctl -w net.ipv4.tcp_sack=1 net.ipv4.tcp_timestamps=1 net.ipv4.tcp_window_scaling=1'
bgstop srv
md <<'EOF'
**Answer.** With the defaults, the SYN carries `mss 1460,sackOK,TS val … ecr 0,nop,wscale 10` and the
SYN+ACK answers with the same set. With the three switches off, midwood's SYN carries only `mss 1460`,
and brooklyn — whose switches are still on — answers with only `mss 1460` too: an option is used only
if both sides offer it (SACK and window scaling are negotiated in the SYNs; a SYN+ACK may carry them
only if the SYN did). Consequences: no SACK blocks (after a loss only the cumulative ACK tells the
sender what arrived), no timestamps (no RTT sample per ACK, no PAWS protection against wrapped
sequence numbers), and no window scaling (the window can never exceed 65535 bytes, which caps
throughput at 65535 B / RTT).
EOF
