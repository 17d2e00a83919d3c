# shellcheck shell=bash disable=SC2016 # a command in single quotes expands its own $ when run
# docs/lab/sheet2-ss-states.md: its prose and its commands.
# `sudo scripts/gen-lab-docs sheet2-ss-states` runs this file with the harness of
# scripts/lib-docs.sh (page, md, run, bgrun, bgstop, ...) and writes the page.
# needs: hello-server hello-client hping3 python3 stdbuf netstat
page sheet2-ss-states "Sheet 2 — TCP states seen with ss (netstat)"
md <<'EOF'
`ss -tan` (or `netstat -tan`) prints each TCP socket's state. We make the lab's hosts go through
the states of RFC 793's diagram and look at them.

## LISTEN and ESTAB
EOF
bgrun srv 'scripts/lab exec brooklyn hello-server --bind 0.0.0.0 --workers 1 -q'
bgrun cli 'scripts/lab exec midwood hello-client -q --hold 2 192.168.56.101:5000' 1
run 'scripts/lab exec brooklyn ss -tan'
bgwait cli
md <<'EOF'
## TIME-WAIT: the side that closes first
EOF
run 'scripts/lab exec midwood ss -tan'
md <<'EOF'
netstat says the same with its own names (`TIME_WAIT`); `-o` adds each socket's running timer
(kind, seconds left, retransmissions so far, keepalive probes) and `-e` the owning user and the
socket's inode:
EOF
run 'scripts/lab exec midwood netstat -tanoe'
md <<'EOF'
## SYN-SENT: a SYN that nobody answers (brooklyn drops incoming SYNs, as on [the firewall page](sheet2-firewall.md))
EOF
run "scripts/lab exec brooklyn nft add table inet fw; scripts/lab exec brooklyn nft add chain inet fw input '{ type filter hook input priority 0; }'; scripts/lab exec brooklyn nft add rule inet fw input 'tcp flags & (syn | ack) == syn drop'"
bgrun cli 'scripts/lab exec midwood hello-client -q --timeout 2 192.168.56.101:5000'
run 'scripts/lab exec midwood ss -tan state syn-sent'
run -g 'Proto|SYN_SENT' 'scripts/lab exec midwood netstat -tanoe'
bgwait cli
run 'scripts/lab exec brooklyn nft delete table inet fw'
md <<'EOF'
## SYN-RECV: a SYN answered, whose SYN+ACK nobody acknowledges
hping3 sends SYNs from a spoofed address of the lab's subnet where no host lives (a SYN flood in
miniature): brooklyn answers SYN+ACK into the void and keeps the half-open connections.
EOF
run 'scripts/lab exec midwood stdbuf -oL hping3 -q -S -a 192.168.56.77 -s 2000 -p 5000 -c 3 -i u100000 192.168.56.101 2>&1 | tail -n 2'
md <<'EOF'
(`{ read -r h; echo "$h"; sort; }` keeps the header line and sorts the others: both tools list
sockets in the order of the kernel's hash table.)
EOF
run 'scripts/lab exec brooklyn ss -tan state syn-recv | { read -r h; echo "$h"; sort; }'
run "scripts/lab exec brooklyn netstat -tanoe | grep -E 'Proto|SYN_RECV' | { read -r h; echo \"\$h\"; sort; }"
md <<'EOF'
## FIN-WAIT-2 and CLOSE-WAIT: a server that never closes
A Python server accepts and then never reads nor closes; the client (bash's `/dev/tcp`) connects
and closes at once.
EOF
bgrun py "scripts/lab exec brooklyn python3 -c 'import socket, time; s = socket.create_server((\"0.0.0.0\", 7777)); c, _ = s.accept(); time.sleep(30)'" 0.8
run "scripts/lab exec midwood bash -c 'exec 3<>/dev/tcp/192.168.56.101/7777; exec 3>&-'; sleep 0.2"
run "scripts/lab exec midwood ss -tan 'dport = :7777'"
run -g 'Proto|7777' 'scripts/lab exec midwood netstat -tanoe'
run "scripts/lab exec brooklyn ss -tan 'sport = :7777'"
bgstop py
bgstop srv
md <<'EOF'
**Answer.** `LISTEN`: a server socket waiting for connections (hello-server on `0.0.0.0:5000`).
`ESTAB`: an open connection, one socket per end. `TIME-WAIT`: after the close, the side that sent the
first FIN (here the client) keeps the connection's 4-tuple for 2×MSL (60 s on Linux), so that a
delayed segment of the old connection cannot be taken for one of a new connection, and so it can
re-send the last ACK if the peer's FIN is retransmitted. `SYN-SENT`: the client sent its SYN and waits
for SYN+ACK (here forever: the firewall drops the SYN; the kernel retransmits it after 1, 3, 7 s …).
`SYN-RECV`: the server answered SYN+ACK and waits for the final ACK (a SYN flood fills this queue;
SYN cookies defend it). `FIN-WAIT-2`: the client sent its FIN, which was acknowledged, and waits for
the server's FIN; `CLOSE-WAIT`: the server received the FIN (end of the client's data) but its
application has not closed yet — a pile of CLOSE-WAIT sockets means an application that forgets to
close.

**The timers (`netstat -o`).** `timewait (S/0/0)`: TIME-WAIT's 60 s, counting down, and the same
timer on the orphaned FIN-WAIT-2 socket (`tcp_fin_timeout`, 60 s: a socket whose application has
closed does not wait forever for the peer's FIN). `on (S/N/0)` on the SYN-SENT and SYN-RECV sockets:
the retransmission timer, N the retransmissions made so far (the client's SYN not yet re-sent; each
SYN+ACK already re-sent once, 1 s after the first, the next after 2 s more: exponential back-off).
`-e` shows user 0 (root: the lab runs everything as root) and the socket's inode, which ties it to
the file descriptor of a process (what `-p` and `ss -p` look up): the SYN-SENT socket has one (the
client holds it); the TIME-WAIT and orphaned FIN-WAIT-2 sockets, which no process holds any more,
and the SYN-RECV entries, which are not sockets yet (requests waiting for the last ACK), show 0.
EOF
