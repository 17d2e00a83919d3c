# shellcheck shell=bash
# docs/lab/sheet1-ex2-hello.md: its prose and its commands.
# `sudo scripts/gen-lab-docs sheet1-ex2-hello` runs this file with the harness of
# scripts/lib-docs.sh (page, md, run, bgrun, bgstop, ...) and writes the page.
# needs: hello-server hello-client sniff
page sheet1-ex2-hello "Sheet 1, Exercise 2 — the web server on brooklyn, the client on midwood"
md <<'EOF'
The sheet runs a Flask "Hello, World!" app on brooklyn and a Python `http.client` script on midwood.
The script fails; the student must say why, fix it, and explain 127.0.0.1 and 5000 and which process
and endpoints are involved. netlab's `hello-server` and `hello-client` reproduce it (same defaults as
Flask: `127.0.0.1:5000`).

## Start the server as the sheet does; run the client on the other host
EOF
bgrun srv 'scripts/lab exec brooklyn hello-server'
run -x 'scripts/lab exec midwood hello-client 192.168.56.101:5000'
md <<'EOF'
The sheet's script even says `HTTPConnection('')`, naming no host at all:
EOF
run -x "scripts/lab exec midwood hello-client ''"
run 'scripts/lab exec brooklyn hello-client'
bgstop srv show
md <<'EOF'
## What are 127.0.0.1 and 5000?
**Answer.** `127.0.0.1` is the IPv4 loopback address: every host has it, on its `lo` interface, and a
packet to it never leaves the host. A server bound to `127.0.0.1` accepts connections from its own
host only — on brooklyn the client succeeds, from midwood the connection is refused (brooklyn's
kernel answers the SYN to `192.168.56.101:5000` with a RST, since no socket listens on that address).
`5000` is the TCP port: the number that, with the address, names the server's socket (Flask's default
port; port 80 is HTTP's well-known port).

## The failure hypotheses, and the fix
The client's errors name the hypotheses the sheet asks for:
- connection refused → nothing listens on that address and port (server not running, wrong port, or
  bound to loopback only — the case here);
- timeout → host unreachable or packets dropped (a firewall, see [the firewall page](sheet2-firewall.md));
- unknown host / empty host → the name does not resolve (the sheet's `HTTPConnection('')`).

**Fix:** bind the server to all addresses (`--bind 0.0.0.0`, Flask's `host='0.0.0.0'`), and name the
server in the client (`192.168.56.101:5000`):
EOF
bgrun srv 'scripts/lab exec brooklyn hello-server --bind 0.0.0.0'
run 'scripts/lab exec midwood hello-client -v 192.168.56.101:5000'
md <<'EOF'
## Which process is the server, and at which endpoint is the client?
Give the system time to look: `--hold` keeps the connection open after the answer.
EOF
bgrun cli 'scripts/lab exec midwood hello-client --hold 3 192.168.56.101:5000'
run 'scripts/lab exec brooklyn ss -tnp state established'
run 'scripts/lab exec midwood ss -tnp state established'
run 'scripts/lab exec brooklyn ss -tlnp'
bgwait cli show
bgstop srv show
md <<'EOF'
**Answer.** The server is the `hello-server` process whose pid `ss -tlnp` shows on the `LISTEN`
sockets of port 5000 (the same pid its start-up line and access log print). The client's endpoint is
`192.168.56.102:<ephemeral port>` (the port differs on each run; the kernel picks it from
`net.ipv4.ip_local_port_range`), the server's `192.168.56.101:5000`. The access log line
`client -> server pid …` shows the same pair for every request.
EOF
md <<'EOF'
## The processes, named in the capture itself
A packet does not say which process sent it, but the host that sent or received it knows which
socket its local end belongs to: `sniff --process` looks that up (`/proc/net/tcp` → the socket's
inode → the process holding it, as `ss -p` does) and prints `[command/pid]` after the local
endpoint. A capture on each host while the client asks once (the handshake and the request):
EOF
bgrun srv 'scripts/lab exec brooklyn hello-server --bind 0.0.0.0 -q'
bgrun capb 'scripts/lab exec brooklyn sniff -q -i eth0 --process -c 4 --timeout 5 tcp port 5000'
bgrun capm 'scripts/lab exec midwood sniff -q -i eth0 --process -c 4 --timeout 5 tcp port 5000'
run 'scripts/lab exec midwood hello-client -q --hold 1 192.168.56.101:5000 >/dev/null'
bgwait capb show
bgwait capm show
bgstop srv
md <<'EOF'
**Answer, from the captures.** On brooklyn every packet's local end `192.168.56.101.5000` is
`hello-server` (the one started for this capture: `ss -tlnp` would show the same pid); on midwood the local end
`192.168.56.102.<ephemeral port>` is `hello-client`. The remote end carries no name: only the
host that owns a socket can tell, which is why the same exchange is captured on both hosts.
EOF
