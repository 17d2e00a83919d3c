# shellcheck shell=bash
# docs/lab/sheet2-trace9.md: its prose and its commands.
# `sudo scripts/gen-lab-docs sheet2-trace9` runs this file with the harness of
# scripts/lib-docs.sh (page, md, run, bgrun, bgstop, ...) and writes the page.
# needs: tcpstat
page sheet2-trace9 "Sheet 2, traces — trace9: is the network or the application the culprit?"
md <<EOF
$TRNOTE

The user says "the network is slow". trace9.pcap is what a capture saw.
EOF
run -n 3 'tcpstat -r trace9.pcap'
run 'tcpstat diagnose -r trace9.pcap'
run -g 'zero_window' 'tcpstat packets -r trace9.pcap'
md <<'EOF'
**Answer.** The application. No segment was lost or retransmitted and the RTT stays in the tens of
milliseconds: the network delivers. But the receiver (the server) advertises a **zero window** again
and again — it has not read the data already delivered, so its buffer is full — and the sender must
stop and probe until the window opens: 16 KB take 33 s, most of it with the window closed. A
receiving application that does not read fast enough is the bottleneck, not the network.
EOF
