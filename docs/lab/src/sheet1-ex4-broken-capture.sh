# shellcheck shell=bash
# docs/lab/sheet1-ex4-broken-capture.md: its prose and its commands.
# `sudo scripts/gen-lab-docs sheet1-ex4-broken-capture` runs this file with the harness of
# scripts/lib-docs.sh (page, md, run, bgrun, bgstop, ...) and writes the page.
# needs: hello-server hello-client sniff setpriv scapy python3
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
md <<'EOF'
## The capture program, fixed

The same three fixes, in the sheet's own program (scapy, Python): the server's port, 5000; the
interface the traffic crosses, `eth0` (the client is on midwood); run as root. The sheet's
`count=12` stays; a `timeout` ends the capture when fewer packets come (one request and its
connection make 10), as sniff's `--timeout` does above; `started_callback` says when the capture
has begun (importing scapy takes a few seconds), so the client is started after it:
EOF
run 'cat >capture.py <<EOF
from scapy.all import sniff, wrpcap

# the server port (5000, not 80), the interface the traffic crosses, as root
packets = sniff(iface="eth0", filter="tcp port 5000", count=12, timeout=6,
                prn=lambda p: p.summary(),
                started_callback=lambda: print("capturing on eth0", flush=True))
wrpcap("hello-scapy.pcap", packets)
print(len(packets), "packets written to hello-scapy.pcap")
EOF'
bgrun srv 'scripts/lab exec brooklyn hello-server --bind 0.0.0.0 -q'
bgrun cap 'scripts/lab exec brooklyn python3 capture.py' 0.2
# scapy takes seconds to import on a busy machine: wait for its started_callback's line
for _ in $(seq 100); do grep -q '^capturing' "$WORK/cap.log" && break; sleep 0.2; done
run 'scripts/lab exec midwood hello-client -q 192.168.56.101:5000'
bgwait cap show
bgstop srv
run 'sniff -r hello-scapy.pcap --summary -c 3'
md <<'EOF'
**Answer.** Fixed, the program prints the 10 packets of the exchange (scapy's `summary()`: its
names for the layers, `S`, `SA`, `A`, `PA`, `FA` for the flags) and writes them to a pcap file that
sniff (or Wireshark) reads back. Without root it would stop in `sniff()`, which opens the same
packet socket as sniff in section 3 and needs the same `CAP_NET_RAW`.
EOF
