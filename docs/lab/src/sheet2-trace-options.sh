# shellcheck shell=bash
# docs/lab/sheet2-trace-options.md: its prose and its commands.
# `sudo scripts/gen-lab-docs sheet2-trace-options` runs this file with the harness of
# scripts/lib-docs.sh (page, md, run, bgrun, bgstop, ...) and writes the page.
# needs: tcpstat jq tshark
page sheet2-trace-options "Sheet 2, traces — TCP options of a popular web site (IPv6 and IPv4) and of the departmental server"
md <<EOF
$TRNOTE

Options are negotiated in the SYN and SYN+ACK only, so the question is answered by the connections
whose handshake is in the trace.

## trace.ipv6.google.com.pcap
EOF
run 'tcpstat -r trace.ipv6.google.com.pcap | head -9'
run 'tcpstat conns -r trace.ipv6.google.com.pcap --json | jq -c "select(.isn_server != null) | {id, client, server, options_client, options_server}"'
md <<'EOF'
**Answer.** Options are visible for the five connections whose handshake is in the trace (1–5; the
others started before the capture). The client (`130.104.228.2` over IPv4,
`2001:6a8:3080:2:217:f2ff:fed6:65c0` over IPv6) offers in every SYN: MSS 1460 over IPv4 and 1440 over
IPv6 (1500 minus a 20- or 40-byte IP header and 20 bytes of TCP), SACK permitted, timestamps, and window
scale shift 2 (windows ×4). The web site's server answers with SACK permitted, timestamps and window
scale shift 6 (×64) both over IPv6 (`2a00:1450:8002::6a`) and IPv4 (`209.85.227.113`), but with a
smaller MSS than the link allows: 1410 over IPv6 and 1380 over IPv4 — the operator clamps the MSS so
that segments still fit when a tunnel or an extra header shrinks the path MTU. The other IPv4 server
(`91.203.99.45`) supports the same options with MSS 1460 and shift 0 (no scaling of its own window).

## trace.sirius.info.ucl.ac.be.pcap
EOF
run 'tcpstat conns -r trace.sirius.info.ucl.ac.be.pcap --json | jq -c "select(.type == \"connection\") | {id, client, server, options_client, options_server}"'
md <<'EOF'
Which server is which? The TLS client hello names the HTTPS server, and the SSH banners name the
software at each end of the other connection (tshark, which decodes both):
EOF
run "tshark -r trace.sirius.info.ucl.ac.be.pcap -Y 'tls.handshake.extensions_server_name or ssh.protocol' -T fields -e ip.src -e ip.dst -e tls.handshake.extensions_server_name -e ssh.protocol 2>/dev/null"
md <<'EOF'
**Answer.** Two connections from `130.104.228.2`: to `130.104.230.55:443`, HTTPS to
`submittp.info.ucl.ac.be` (its TLS server name), and to the departmental server the trace is named
after, sirius, `130.104.78.8:22` (ssh; OpenSSH 5.2 answers the client's Sun SSH). The client offers MSS 1460, SACK permitted, timestamps and
window scale shift 3 (×8). The departmental server answers MSS 1460, SACK permitted, timestamps, and
window scale shift 0: it accepts scaling (so the client's windows are multiplied by 8) but does not
scale its own window (at most 65535 bytes). The HTTPS server uses MSS 1380 (something on its path,
e.g. a tunnel, lowers it) and shift 4.
EOF
