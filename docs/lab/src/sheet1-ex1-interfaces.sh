# shellcheck shell=bash disable=SC2016 # a command in single quotes expands its own $ when run
# docs/lab/sheet1-ex1-interfaces.md: its prose and its commands.
# `sudo scripts/gen-lab-docs sheet1-ex1-interfaces` runs this file with the harness of
# scripts/lib-docs.sh (page, md, run, bgrun, bgstop, ...) and writes the page.
# needs: hello-server hello-client sniff receiver ssh sshd ssh-keygen Xvfb xeyes xwininfo xauth
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
md <<'EOF'
## Log in to the hosts with SSH, in several terminals

The sheet logs in to each virtual machine with `ssh`. In the lab, brooklyn runs its own `sshd` (the
SSH server) inside its namespace, with a host key made for the lab and a private configuration
(nothing of the machine's own SSH set-up is used or changed), and midwood logs in with a key made
for the lab, so no password is asked. First the keys: the server's host key (how the client
recognises brooklyn) and the user's key pair (how brooklyn recognises the user; its public half
goes into `authorized_keys`):
EOF
run 'rm -rf ssh && mkdir ssh && ssh-keygen -q -t ed25519 -N "" -C brooklyn-host -f ssh/host_key && ssh-keygen -q -t ed25519 -N "" -C lab-user -f ssh/id_lab && cp ssh/id_lab.pub ssh/authorized_keys && ls ssh'
md <<'EOF'
Then sshd's configuration (absolute paths, as sshd wants them; key login only; X11 forwarding on,
with brooklyn's X authority file in `ssh/`), and the client's, which names the host, the user, the
key and a known-hosts file of the lab's own. `sshd -t` checks the configuration:
EOF
run 'cat >ssh/sshd_config <<EOF
ListenAddress 0.0.0.0:22
HostKey $PWD/ssh/host_key
AuthorizedKeysFile $PWD/ssh/authorized_keys
PidFile none
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PrintMotd no
X11Forwarding yes
SetEnv XAUTHORITY=$PWD/ssh/Xauthority-brooklyn
EOF
cat >ssh/config <<EOF
Host brooklyn
  HostName 192.168.56.101
  User root
  IdentityFile ssh/id_lab
  UserKnownHostsFile ssh/known_hosts
  StrictHostKeyChecking accept-new
EOF
mkdir -p /run/sshd && scripts/lab exec brooklyn /usr/sbin/sshd -t -f "$PWD/ssh/sshd_config" && echo "sshd_config OK"'
bgrun sshd 'scripts/lab exec brooklyn /usr/sbin/sshd -D -e -f "$PWD/ssh/sshd_config"' 0.6
run 'scripts/lab exec midwood ssh -F ssh/config brooklyn ip -br address show eth0'
md <<'EOF'
The command ran on brooklyn: the address is brooklyn's, `192.168.56.101`. The first login added brooklyn's
host key to `ssh/known_hosts`; from then on a different key at that address would stop the client
(a man in the middle). "Several terminals" are several SSH sessions, each its own TCP connection
with its own client port, served by its own sshd process — two at once, seen from each end
(`ss` on brooklyn: local port 22, the peers midwood's ephemeral ports; on midwood the reverse):
EOF
bgrun s1 'scripts/lab exec midwood ssh -F ssh/config brooklyn sleep 2'
bgrun s2 'scripts/lab exec midwood ssh -F ssh/config brooklyn sleep 2' 0.8
run 'scripts/lab exec brooklyn ss -tnp state established "( sport = :22 )"'
run 'scripts/lab exec midwood ss -tnp state established "( dport = :22 )"'
bgwait s1
bgwait s2
md <<'EOF'
**Where the SSH client is in the layers.** `ssh` and `sshd` are ordinary processes: the
application layer. SSH is itself three layers above TCP (RFC 4251): the *transport layer* (key
exchange, encryption and integrity of every packet), *user authentication* (here the public key),
and the *connection layer*, which multiplexes *channels* — a terminal session, a forwarded X11
display, a port forwarding — over the one TCP connection to port 22. Below them, TCP, IP and
Ethernet as for any application.

## One keystroke and its echo

An interactive session on brooklyn, whose terminal gets one keystroke, `a`, three seconds after the
login (a script types it: `printf a` into `ssh -tt`, which gives the remote side a terminal even
though our input is not one), then Ctrl-D twice to end `cat`. Meanwhile sniff, started on brooklyn
once the session is up, prints the packets of port 22:
EOF
bgrun key "(sleep 3; printf a; sleep 2; printf '\\004\\004') | scripts/lab exec midwood ssh -tt -F ssh/config brooklyn cat" 1.5
bgrun cap 'scripts/lab exec brooklyn sniff -i eth0 -c 3 --timeout 4 tcp port 22'
bgwait cap show
bgwait key show
md <<'EOF'
**Answer.** Three packets for one keystroke, and the echo is the server's, not the client's:

1. midwood → brooklyn, 36 bytes of TCP payload: the keystroke. Down the layers on midwood: `ssh`
   reads `a` from its input; the connection layer wraps it in a `CHANNEL_DATA` message (type 1 +
   channel 4 + length 4 + the byte = 10 bytes); the transport layer adds the padding length (1)
   and 5 bytes of padding (to a multiple of 8: 16), encrypts, prepends the encrypted packet length
   (4) and appends the 16-byte MAC (chacha20-poly1305): 36 bytes, one `write()` on the TCP socket.
   TCP adds its 32-byte header (20 + the timestamps option), IP 20 bytes, Ethernet 14: 102 bytes
   on the wire for one byte typed.
2. brooklyn → midwood, 36 bytes: the echo. Up the layers on brooklyn: Ethernet, IP, TCP deliver
   the 36 bytes to sshd's socket; sshd checks the MAC, decrypts, and writes `a` to the pseudo-terminal
   where `cat` runs. The terminal driver on brooklyn echoes it (the remote terminal is in canonical
   mode with echo on); sshd reads the echo back from the terminal and sends it down the same layers.
   This segment also acknowledges the keystroke (`ack` = its last byte + 1): the ACK rides on the echo.
3. midwood → brooklyn, no payload: midwood's TCP acknowledges the echo. `ssh` on midwood decrypts
   it and writes `a` to its output — what the user sees on the screen is this echo, a round trip
   after the key was pressed (the `aa` in the session's output above is that echo, then `cat`'s
   own output of the line once Ctrl-D ended it).

The payload is encrypted: a capture shows sizes and timing, never the key typed (RFC 4251 § 9.3.9
discusses what keystroke timing still reveals).

## A graphical program over X11 forwarding (`ssh -X`)

`ssh -X` asks the server to act as an X display for the session: sshd listens on a TCP port of its
own host (`localhost:6010`, display `localhost:10.0`), sets `DISPLAY` to it for the programs of the
session, and stores a cookie for it with `xauth`. A program that opens a window there talks the X11
protocol to sshd, which carries it in an `x11` channel of the SSH connection back to the client; the
client hands it to the X server of the machine the user sits at, where the window appears. The
drawing needs an X server on midwood: a desktop would have one; the lab starts a virtual one,
`Xvfb`, display `:56`, which draws into memory — the window exists, nobody sees it, and
`xwininfo` lists it.
EOF
bgrun xvfb 'scripts/lab exec midwood Xvfb :56 -nolisten tcp' 1
run 'touch ssh/Xauthority-brooklyn ssh/Xauthority-midwood'
bgrun x11 "scripts/lab exec midwood env DISPLAY=:56 XAUTHORITY=ssh/Xauthority-midwood ssh -v -X -F ssh/config brooklyn 'echo DISPLAY=\$DISPLAY; xauth list | tr -s \" \" | cut -d\" \" -f2; ss -Htlnp | sort; timeout 6 xeyes' 2>&1 | grep -E 'X11|x11(\$|[^-,])|DISPLAY|MIT|LISTEN|Exit status'" 3.5
run 'scripts/lab exec midwood xwininfo -display :56 -root -children | grep -E "child|xeyes"'
bgwait x11 show
bgstop xvfb
md <<'EOF'
**Answer.** With `-X` the client sends, on the session's channel, an `x11-req` request with an
authentication cookie ("Requesting X11 forwarding"; the cookie is a fake one, replaced by the real
one when a connection is forwarded — here Xvfb has no cookie at all, hence the warning). sshd then
listens on `127.0.0.1:6010` and `[::1]:6010` (display number 10 = port 6000 + 10), sets
`DISPLAY=localhost:10.0` for the session and records the cookie with `xauth` (`MIT-MAGIC-COOKIE-1`).
When `xeyes` on brooklyn connects to that display, sshd opens an `x11` channel to the client
("client_request_x11: request from 127.0.0.1 …", "new x11"), and the client connects it to
`DISPLAY=:56` on midwood, where `xwininfo` finds the window `"xeyes"`; when `xeyes` ends (here after
6 s, `timeout`'s exit status 124) its channel and the session close (ssh's "channel 1: free" line,
left out by the `grep`, comes before or after the session's own, so it is not shown). All of it travels inside the one encrypted
TCP connection to port 22: a capture shows only more packets on that connection, never an X11 port.
What needs a desktop is seeing the window: with a real X server on midwood (a graphical login) the
same `ssh -X brooklyn xeyes` puts the eyes on its screen.

sshd's own log of this page's sessions (one line each: the key accepted, the disconnection):
EOF
bgstop sshd show
