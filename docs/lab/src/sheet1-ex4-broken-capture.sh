# shellcheck shell=bash
# docs/lab/sheet1-ex4-broken-capture.md: its prose and its commands.
# `sudo scripts/gen-lab-docs sheet1-ex4-broken-capture` runs this file with the harness of
# scripts/lib-docs.sh (page, md, run, bgrun, bgstop, ...) and writes the page.
# needs: hello-server hello-client sniff setpriv
page sheet1-ex4-broken-capture "Sheet 1, Exercise 4 — why the capture program captured nothing"
md <<'EOF'
The sheet shows a capture program that "won't capture anything" and asks why. There are three
classic causes; each is shown here with sniff, which ends with a hint when it saw nothing.

## 1. The wrong port
The program filters `tcp port 80`, but the server listens on 5000:
EOF
bgrun srv 'scripts/lab exec brooklyn hello-server --bind 0.0.0.0 -q'
bgrun cap 'scripts/lab exec brooklyn sniff --timeout 2 tcp port 80'
run 'scripts/lab exec midwood hello-client 192.168.56.101:5000'
bgwait cap show
run 'scripts/lab exec brooklyn ss -tlnp'
md <<'EOF'
**Answer.** The filter matches nothing because no packet has port 80; the hint counts what the
interface carried meanwhile (so the traffic was there) and points to `ss -tlnp`, which shows the
server's real port, 5000. Fix: `sniff tcp port 5000`.

## 2. The wrong interface
Client and server on the same host talk over `lo`, never over `eth0`:
EOF
bgrun cap 'scripts/lab exec brooklyn sniff -i eth0 --timeout 2 tcp port 5000'
run 'scripts/lab exec brooklyn hello-client 127.0.0.1:5000'
bgwait cap show
bgrun cap 'scripts/lab exec brooklyn sniff -i lo -c 3 --timeout 2 tcp port 5000'
run 'scripts/lab exec brooklyn hello-client 127.0.0.1:5000'
bgwait cap show
run -x 'scripts/lab exec brooklyn sniff -i wlan0 --timeout 1'
md <<'EOF'
**Answer.** A capture sees only the interface it listens on: traffic between two processes of one
host goes over `lo`, traffic to the other host over `eth0`. `-i any` (sniff's default) sees both. An
interface that does not exist is refused with the list of the real ones.

## 3. No privilege
Capturing opens a raw packet socket, which needs `CAP_NET_RAW` (and `CAP_NET_ADMIN` for promiscuous
mode); an ordinary user gets:
EOF
run -x 'setpriv --reuid=nobody --regid=nogroup --clear-groups sniff -i lo --timeout 1'
bgstop srv
md <<'EOF'
**Answer.** The program must run as root (`sudo`) or be granted the two capabilities once with the
`setcap` command sniff prints. scapy's `sniff()` fails the same way as non-root (`PermissionError:
[Errno 1] Operation not permitted`).
EOF
