# shellcheck shell=bash
# docs/lab/sheet2-udp-sdu.md: its prose and its commands.
# `sudo scripts/gen-lab-docs sheet2-udp-sdu` runs this file with the harness of
# scripts/lib-docs.sh (page, md, run, bgrun, bgstop, ...) and writes the page.
# needs: udp-sdu
page sheet2-udp-sdu "Sheet 2 — the largest UDP SDU"
md <<'EOF'
"Determine experimentally the largest SDU supported by your language and OS." `udp-sdu probe` does
it by binary search against `udp-sdu echo` (which answers every datagram with the size it received):
(a) the largest datagram the local OS accepts to send, (b) the largest that arrives, and with
`--dont-fragment` (c) the largest that fits the path MTU without IP fragmentation.
EOF
bgrun echo4 'scripts/lab exec brooklyn udp-sdu echo 7000'
run 'scripts/lab exec midwood udp-sdu probe 192.168.56.101 7000'
run 'scripts/lab exec midwood udp-sdu probe --dont-fragment 192.168.56.101 7000'
bgrun echo6 'scripts/lab exec brooklyn udp-sdu echo --bind :: 7001'
run 'scripts/lab exec midwood udp-sdu probe fd00:56::101 7001'
run 'scripts/lab exec midwood udp-sdu probe --dont-fragment fd00:56::101 7001'
run 'scripts/lab exec brooklyn udp-sdu probe ::1 7001'
bgstop echo4 show
bgstop echo6
md <<'EOF'
**Answer.** Over IPv4 the largest UDP payload is **65507 bytes** = 65535 (the IPv4 total-length field
is 16 bits) − 20 (IPv4 header) − 8 (UDP header); the OS refuses larger ones (`EMSGSIZE`) and IP
fragments what it sends (45 fragments on a 1500-byte link, reassembled by the receiver). Forbidding
fragmentation (DF, `IP_PMTUDISC_DO`), the largest is **1472** = 1500 (the link MTU) − 20 − 8. Over
IPv6 the limits are 65527 = 65535 (the payload-length field, which excludes the 40-byte IPv6 header)
− 8, and 1452 = 1500 − 40 − 8 without fragmentation. The limit is the OS's and the protocols', not
the language's: any language's `sendto` hits the same numbers.
EOF
