# shellcheck shell=bash
# docs/lab/sheet1-ex1-interfaces.md: its prose and its commands.
# `sudo scripts/gen-lab-docs sheet1-ex1-interfaces` runs this file with the harness of
# scripts/lib-docs.sh (page, md, run, bgrun, bgstop, ...) and writes the page.
# needs: hello-server hello-client sniff receiver
page sheet1-ex1-interfaces "Sheet 1, Exercise 1 — interfaces, addresses, sockets, layers"
md <<'EOF'
The sheet starts two virtual machines and asks what network interfaces and addresses each has, which
processes use TCP and UDP, and how the pieces fit in the layered model. netlab's two hosts are network
namespaces made by `scripts/lab up` ([docs/lab-script.md](../lab-script.md)): same kernel, separate
interfaces, addresses, routes, sockets and firewall.

## Which interfaces and addresses does each host have?
EOF
run 'scripts/lab exec brooklyn ip address show'
run 'scripts/lab exec midwood ip -br address show'
md <<'EOF'
**Answer.** Each host has two interfaces. `lo` is the loopback interface: `127.0.0.1/8` and `::1/128`,
reachable from the host itself only. `eth0` is the link to the other host (a veth pair standing for
the sheet's host-only network): brooklyn is `192.168.56.101/24` and midwood `192.168.56.102/24`, each
with a link-local IPv6 address (`fe80::…`, made from the MAC address) and a unique-local one
(`fd00:56::…/64`). `link/ether` is the MAC address, the link-layer (Ethernet) address; `mtu 1500` is the
largest IP packet the link carries without fragmentation. `/24` says the first 24 bits are the network:
both hosts are on 192.168.56.0/24 and talk directly, without a router:
EOF
run 'scripts/lab exec midwood ip route'
run 'scripts/lab exec midwood ping -c 2 192.168.56.101'
md <<'EOF'
## Which processes use TCP and UDP?
`ss` (the successor of `netstat`) lists sockets; `-t` TCP, `-u` UDP, `-a` all states (listening
too), `-n` numeric, `-p` the owning process. A fresh namespace has no sockets at all, so we start the
lab's servers first: a web server (TCP) on brooklyn and the sliding-window receiver (UDP) beside it.
EOF
bgrun srv 'scripts/lab exec brooklyn hello-server --bind 0.0.0.0 -q'
bgrun rcv 'scripts/lab exec brooklyn receiver -q 6000 7 /dev/null'
bgrun cli 'scripts/lab exec midwood hello-client --hold 3 192.168.56.101:5000'
run 'scripts/lab exec brooklyn ss -tanp'
run 'scripts/lab exec brooklyn ss -uanp'
run 'scripts/lab exec midwood ss -tanp'
bgwait cli show
bgstop srv
bgstop rcv
md <<'EOF'
**Answer.** On brooklyn, `hello-server` (its pid is in `users:`) has TCP sockets in state `LISTEN` on
`0.0.0.0:5000` (one per worker thread, sharing the port) and one `ESTAB` socket per client connection;
`receiver` has a UDP socket bound to `0.0.0.0:6000` (UDP has no connection state: `UNCONN`). On
midwood, `hello-client` holds the other end of the connection: its local endpoint is an ephemeral
port chosen by the kernel, its peer `192.168.56.101:5000`. A TCP connection is identified by the
four numbers (local address, local port, remote address, remote port): the two `ESTAB` lines are the
same connection seen from each end, with local and peer swapped.

## The layered picture
One request from midwood to brooklyn, as sniff decodes it layer by layer (`--summary`, scapy's
style):
EOF
bgrun srv 'scripts/lab exec brooklyn hello-server --bind 0.0.0.0 -q'
bgrun cap 'scripts/lab exec brooklyn sniff -q -i eth0 --summary -c 4 tcp port 5000'
run 'scripts/lab exec midwood hello-client 192.168.56.101:5000'
bgwait cap show
bgstop srv
md <<'EOF'
```
 layer         brooklyn (server)                 midwood (client)          sniff's name
 application   hello-server: HTTP "GET /"  <-->  hello-client              Raw (the payload)
 transport     TCP port 5000               <-->  TCP ephemeral port         TCP
 network       IP 192.168.56.101           <-->  IP 192.168.56.102          IP
 link          eth0 (its link/ether MAC)  <-->  eth0 (veth pair)           Ether
```

**Answer.** Each layer adds its header in front of the data it gets from the layer above (Ether /
IP / TCP / Raw, outermost first), and each header names the one inside it (Ethernet type 0x0800 =
IPv4, IP protocol 6 = TCP, TCP port 5000 = the web server). The link layer delivers frames on one link
by MAC address; IP delivers packets host to host by IP address (through routers if needed); TCP
delivers a reliable byte stream process to process, the port naming the process; HTTP is the
application's own dialogue. [Exercise 3](sheet1-ex3-capture.md) shows each header's fields.
EOF
