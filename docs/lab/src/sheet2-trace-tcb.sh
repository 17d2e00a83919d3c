# shellcheck shell=bash
# docs/lab/sheet2-trace-tcb.md: its prose and its commands.
# `sudo scripts/gen-lab-docs sheet2-trace-tcb` runs this file with the harness of
# scripts/lib-docs.sh (page, md, run, bgrun, bgstop, ...) and writes the page.
# needs: tcpstat
page sheet2-trace-tcb "Sheet 2, traces — the TCB of the departmental server's connection"
md <<EOF
$TRNOTE

The question: in \`trace.sirius.info.ucl.ac.be.pcap\`, what does the TCB (the Transmission Control
Block, RFC 793's per-connection state) of the connection on host \`130.104.78.8\` hold when that host
sends its third segment? First find the connection and that host's segments:
EOF
run -n 8 'tcpstat packets -r trace.sirius.info.ucl.ac.be.pcap --conn 1'
md <<'EOF'
`130.104.78.8` sends frame 30 (SYN+ACK), frame 32 (20 bytes, the ssh banner) and frame 35 (the ACK of
the client's 21-byte banner): its third segment is frame 35. (Read literally, "the third segment of
the trace" on this connection would be frame 31, the handshake's last ACK — but the client sends
that one, not 130.104.78.8; the host's own third segment is the reading that fits the question, and
the one [docs/tcpstat.md](../tcpstat.md) uses too.)
EOF
run 'tcpstat tcb -r trace.sirius.info.ucl.ac.be.pcap --frame 35 --host 130.104.78.8'
md <<'EOF'
**Answer.** Right after sending frame 35 the server's TCB holds: local `130.104.78.8:22`, remote
`130.104.228.2:62289`, state ESTABLISHED; ISS 3091901138 (its own ISN) and IRS 3939711045 (the
client's); SND.UNA = SND.NXT = ISS + 21 (its SYN and its 20-byte banner, all acknowledged: nothing in
flight); RCV.NXT = IRS + 22 (the client's SYN + 21 banner bytes received, hence `ack 22` in frame 35);
SND.WND = 524280 (the client advertised 65535, scaled by 2^3 as negotiated); RCV.WND = 49248 (its own
window, shift 0); MSS 1460 both ways.
EOF
