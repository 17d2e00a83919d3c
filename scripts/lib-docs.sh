# shellcheck shell=bash
# scripts/lib-docs.sh — the harness of scripts/gen-lab-docs (sourced, not run). It holds no page
# text: the pages are docs/lab/src/PAGE.sh, one per docs/lab/PAGE.md, and call the functions below
# (page, md, run, bgrun, bgshow, bgstop, bgwait, lab) in the work directory, where each command's
# real output is pasted into the page.
#
# The caller sets ROOT (the repository) and PROG (the name in messages) before sourcing, then
# calls docs_pages (which pages), docs_needs (are their tools there?) and docs_begin (lab prefix,
# work directory, clean-up), and sources the pages. A page's `# needs:` line names the netlab
# tools it runs (looked for in BIN) and the other commands.
: "${ROOT:?}" "${PROG:?}"

SRC=$ROOT/docs/lab/src # the pages' sources
BIN=${NETLAB_BIN:-$ROOT/target/release}
NETLAB_TOOLS=" hello-server hello-client sniff tcpstat sender receiver udp-sdu tlv-client tlv-server linkem "

# docs_pages [PAGE...]: the page names asked for, one a line, each once (default: every page);
# returns 2 for a name that is not a page.
docs_pages() {
	local f n
	local -A seen=()
	if (($# == 0)); then
		for f in "$SRC"/*.sh; do
			n=$(basename "$f" .sh)
			[[ $n == _* ]] || echo "$n"
		done
		return 0
	fi
	for n in "$@"; do
		if [[ $n == _* || ! -f $SRC/$n.sh ]]; then
			echo "$PROG: no page '$n' (a page is a file name stem of docs/lab/, e.g. sheet2-firewall; the sources are docs/lab/src/*.sh)" >&2
			return 2
		fi
		[[ -n ${seen[$n]:-} ]] || echo "$n"
		seen[$n]=1
	done
}

# docs_needs PAGE...: say what is missing, and return 1, when a tool or command a page needs is
# not there (before any page is written).
docs_needs() {
	local n t pkg missing=0 ts
	local -A by=()
	for n in "$@"; do
		read -ra ts <<<"$(sed -n 's/^# needs: *//p' "$SRC/$n.sh")"
		for t in "${ts[@]}"; do by[$t]+=" $n"; done
	done
	mapfile -t ts < <(printf '%s\n' "${!by[@]}" | sort)
	for t in "${ts[@]}"; do
		[[ -n $t ]] || continue
		if [[ $NETLAB_TOOLS == *" $t "* ]]; then
			[[ -x $BIN/$t ]] && continue
			echo "$PROG: $BIN/$t is missing (needed by${by[$t]}): run scripts/setup first" >&2
		else
			command -v "$t" >/dev/null && continue
			case $t in stdbuf | sha256sum) pkg=coreutils ;; setpriv) pkg=util-linux ;; *) pkg=$t ;; esac
			echo "$PROG: '$t' is missing (needed by${by[$t]}): apt-get install -y $pkg" >&2
		fi
		missing=1
	done
	return "$missing"
}

# docs_begin [OUT]: the private lab's prefix, PATH, the work directory WORK (the commands' current
# directory), and the clean-up of background commands and of the lab on exit. The pages are
# written to OUT/docs/lab and their images to OUT/docs/img (default OUT: the repository; the
# check mode gives a temporary directory, so that nothing committed is touched).
docs_begin() {
	local t out=${1:-$ROOT}
	TRACES=$(cd "$ROOT/../shared/traces/cnp3" 2>/dev/null && pwd) || { echo "$PROG: ../shared/traces/cnp3 is missing" >&2; exit 1; }
	export NETLAB_PREFIX=${NETLAB_DOCS_PREFIX:-doc-}
	export PATH="$BIN:$PATH"
	DOCS=$out/docs/lab
	# Commands run in WORK, where scripts/ points to the repo's scripts and each trace of
	# ../shared/traces/cnp3 has a symlink, so that pages show short, copyable command lines
	# (images go to ../../docs/img, i.e. OUT/docs/img).
	WORK=$out/target/lab-docs
	mkdir -p "$DOCS" "$out/docs/img" "$WORK"
	if [[ $out != "$ROOT" ]]; then
		# the rest of the repository, for commands that read ../../Cargo.toml, ../../crates/…
		for t in "$ROOT"/*; do
			[[ $t == "$ROOT/docs" || $t == "$ROOT/target" ]] || ln -sfn "$t" "$out/$(basename "$t")"
		done
	fi
	cd "$WORK" || exit 1
	ln -sfn "$ROOT/scripts" scripts
	for t in "$TRACES"/*.pcap; do ln -sfn "$t" "$(basename "$t")"; done
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

F=/dev/null # the page being written

# --- page writing --------------------------------------------------------------------------------
page() { # page STEM TITLE: start docs/lab/STEM.md
	closeblk
	F=$DOCS/$1.md
	echo "$PROG: writing docs/lab/$1.md" >&2
	# each page starts from a fresh lab: no sockets, rules or sysctls left by another page
	lab down >/dev/null 2>&1 || true
	lab up two-hosts >/dev/null
	printf '# %s\n\n' "$2" >"$F"
	printf '%s\n\n' "_Every command below was run by \`scripts/gen-lab-docs\` (as root, lab prefix \`$NETLAB_PREFIX\`); the output is pasted as it came, trimmed only where a line says \`…\`. Back to the [index](README.md)._" >>"$F"
}
# Consecutive commands share one console block, like a terminal session; prose closes it.
OPEN=0
openblk() { ((OPEN)) || { echo '```console' >>"$F"; OPEN=1; }; }
closeblk() { ((!OPEN)) || { printf '```\n\n' >>"$F"; OPEN=0; }; }
md() { closeblk; cat >>"$F"; echo >>"$F"; } # md <<'EOF' markdown EOF
# A page never shows output its command would not print. Output is trimmed in two ways only: a
# filter that is part of the command shown (-g), or a marker line, in the place of the lines cut,
# that says how many were left out (-n, -t, bgshow N): `[… 57 lines left out …]`.
cutmark() { printf '[… %d lines left out …]\n' "$1"; }
# run [-n N] [-t N] [-g REGEX] [-x] [-s SECS] 'COMMAND': run COMMAND (bash, in WORK), paste "$ COMMAND"
# and its output (stdout and stderr). -n N keeps the first N lines, -t N the last N (the cut
# marked, with its count); -g REGEX runs and shows "COMMAND | grep -E 'REGEX'" instead (with
# pipefail: COMMAND failing still stops the generation; so does a REGEX that matches nothing;
# COMMAND is one pipeline or compound command, as `a; b | grep` would filter b only);
# -x expects a non-zero exit (and shows it), otherwise a failing command stops the generation; -s
# is the time bound (default 20 s). LAST holds the output.
run() {
	local head=0 tail=0 grep='' fails=0 secs=20 out rc=0 n
	while [[ $1 == -* ]]; do
		case $1 in
		-n) head=$2; shift 2 ;; -t) tail=$2; shift 2 ;; -g) grep=$2; shift 2 ;;
		-x) fails=1; shift ;; -s) secs=$2; shift 2 ;;
		*) echo "$PROG: run: bad option $1" >&2; exit 2 ;;
		esac
	done
	if [[ -n $grep ]]; then
		[[ $grep != *"'"* ]] || { echo "$PROG: run -g: no single quote in the REGEX, please: $grep" >&2; exit 2; }
		set -- "$1 | grep -E '$grep'"
		out=$(timeout "$secs" bash -o pipefail -c "$1" 2>&1) || rc=$?
	else
		out=$(timeout "$secs" bash -c "$1" 2>&1) || rc=$?
	fi
	if ((fails)) && ((rc == 0)); then printf '%s\n' "$out" >&2; echo "$PROG: expected a failure from: $1" >&2; exit 1; fi
	if ((!fails)) && ((rc != 0)); then printf '%s\n' "$out" >&2; echo "$PROG: exit $rc from: $1" >&2; exit 1; fi
	# shellcheck disable=SC2034 # for the pages
	LAST=$out
	openblk
	{
		echo "\$ $1"
		n=$(printf '%s\n' "$out" | wc -l)
		if ((head > 0 && n > head)); then
			printf '%s\n' "$out" | head -n "$head"
			cutmark $((n - head))
		elif ((tail > 0 && n > tail)); then
			cutmark $((n - tail))
			printf '%s\n' "$out" | tail -n "$tail"
		elif [[ -n $out ]]; then
			printf '%s\n' "$out"
		fi
		((fails)) && echo "(exit status $rc)"
	} >>"$F"
	return 0
}
# bgrun NAME 'COMMAND' [SLEEP]: start COMMAND in the background (shown as "$ COMMAND &"), its
# output to WORK/NAME.log; then wait SLEEP seconds for it to be ready (default 0.8, and 1.2 for a
# live capture, `sniff … -i`: on a busy machine a server's socket or a capture's packet socket can
# take a second to open, and a refused client or a capture that misses the first packets would
# change the page).
declare -A BGPID BGCMD
bgrun() {
	local wait=0.8
	[[ $2 != *"sniff "*" -i "* ]] || wait=1.2
	timeout 120 bash -c "$2" >"$WORK/$1.log" 2>&1 &
	BGPID[$1]=$!
	BGCMD[$1]=$2
	openblk
	echo "\$ $2 &" >>"$F"
	sleep "${3:-$wait}"
}
bgshow() { # paste a background command's output (N: the first N lines, the cut marked)
	local n
	closeblk
	{
		printf '```console\n# output of: %s &\n' "${BGCMD[$1]}"
		n=$(wc -l <"$WORK/$1.log")
		if [[ -n ${2:-} ]] && ((n > $2)); then head -n "$2" "$WORK/$1.log"; cutmark $((n - $2)); else cat "$WORK/$1.log"; fi
		printf '```\n\n'
	} >>"$F"
}
# bgstop NAME [show [N]]: stop it (SIGTERM, forwarded by timeout) and wait; "show" pastes its output.
bgstop() {
	local p=${BGPID[$1]:-}
	[[ -n $p ]] || return 0
	kill -TERM "$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
	unset "BGPID[$1]"
	[[ ${2:-} != show ]] || bgshow "$1" "${3:-}"
}
# bgwait NAME [show [N]]: wait for it to end by itself.
bgwait() {
	local p=${BGPID[$1]:-}
	[[ -n $p ]] || return 0
	wait "$p" 2>/dev/null || true
	unset "BGPID[$1]"
	[[ ${2:-} != show ]] || bgshow "$1" "${3:-}"
}
lab() { timeout 20 "$ROOT/scripts/lab" "$@"; }
cleanup() {
	local rc=$? n
	for n in "${!BGPID[@]}"; do kill -TERM "${BGPID[$n]}" 2>/dev/null || true; done
	wait 2>/dev/null || true
	lab down >/dev/null 2>&1 || true
	exit "$rc"
}

# --- the check mode's comparison -----------------------------------------------------------------
# docs_is_live PAGE: true when the page runs the lab (a live command: `scripts/lab`, a background
# command); a page that only reads the committed traces prints the same bytes on every run, and
# --check compares it exactly, without docs_normalise.
docs_is_live() { grep -qE '^[[:space:]]*(bgrun|lab )|scripts/lab ' "$SRC/$1.sh"; }
# docs_normalise: stdin → stdout, a live page with what varies from run to run replaced by
# placeholders. This is the one place that decides what --check tolerates; each rule says what it
# hides and why it varies. Everything else — flags, lengths, window sizes, options, states, the lab's
# addresses and well-known ports, line counts, prose, the commands — must match exactly.
docs_normalise() {
	perl -pe '
		# Clock times (sniff, tcpdump, ss -o timers, logs): when the page was made.
		s/\b\d{2}:\d{2}:\d{2}\.\d+\b/<time>/g;
		s/\b\d{4}-\d\d-\d\d \d\d:\d\d\b/<date>/g;
		# Hex dumps of live packets (sniff -x/-X): their bytes carry ports, ISNs, timestamps and
		# checksums; the offsets, hence each packet'"'"'s length, are kept.
		if (/^\s*0x[0-9a-f]{4}:\s/) { s/(?<=:)(.*?)(\s{2,}\S+)?$/ <hex>/; }
		# MAC addresses (veth pairs get random ones) and the link-local IPv6 addresses made from them;
		# ifindexes (eth0@ifN) depend on what the machine created before.
		s/\b(?:[0-9a-f]{2}:){5}[0-9a-f]{2}\b/<mac>/gi;
		s/\bfe80::[0-9a-f:]+/fe80::<iid>/gi;
		s/\@if\d+\b/\@if<N>/g;
		# Key fingerprints (keys made at run time).
		s/\bSHA256:[A-Za-z0-9+\/]{43}\b/SHA256:<fingerprint>/g;
		# Inodes of sockets (netstat -e; ss -e ino:N sk:ADDR): whatever the kernel allocated.
		s/^(tcp6?\s+\d+\s+\d+\s+\S+\s+\S+\s+\S+\s+\d+\s+)\d+\s+/$1<ino> /;
		s/\bino:\d+/ino:<ino>/g; s/\bsk:[0-9a-f]+/sk:<sk>/g;
		# Process ids, and the file descriptors ss -p shows: which numbers a process got depends on
		# what it inherited and opened before (the CI runner gave a server one descriptor fewer).
		s/\bpid[= ]\d+/pid <pid>/g; s/(\[[\w.-]+\/)\d+\]/$1<pid>]/g;
		s/\bfd=\d+/fd=<fd>/g;
		# Where the repository was checked out, in paths to its binaries (sniff'"'"'s setcap hint).
		s{(?<![\w/])/[^\s:]*?(?=/target/(?:release|debug)/)}{<repo>}g;
		# IP identification and checksums (sniff -v): they change with every packet.
		s/^(\s*\@\S+\s+(?:id|chksum)\s+=\s+)\S+/$1<var>/;
		# Ports the kernel chose: any number of the ephemeral range, 32768-60999, alone or after an
		# IPv4 address in tcpdump'"'"'s ADDRESS.PORT.
		s/(?<![\d.])(?:3276[89]|327[7-9]\d|32[89]\d\d|3[3-9]\d{3}|[45]\d{4}|60\d{3})(?!\d|\.\d)/<port>/g;
		s/(\d+\.\d+\.\d+\.\d+\.)(?:3276[89]|327[7-9]\d|32[89]\d\d|3[3-9]\d{3}|[45]\d{4}|60\d{3})\b/$1<port>/g;
		# TCP timestamps whatever their size: each connection'"'"'s TSval starts at a random offset, so
		# one in a thousand or so is under 7 digits.
		s/\b(TS val|ecr) \d+/$1 <N>/g;
		# A SYN'"'"'s ISN likewise (tcpdump prints it as "seq N," where data shows "seq A:B,").
		s/\bseq \d+(?=,)/seq <N>/g;
		# ISNs, sequence and acknowledgement numbers, TCP timestamps, rates in bit/s: 7 digits and more.
		s/(?<![\d.])\d{7,}(?!\d|\.\d)/<N>/g;
		# Decimal numbers: durations, times, RTTs, rates (not the dotted parts of an IPv4 address);
		# whole numbers of milliseconds or microseconds.
		s/(?<![\d.])\d+\.\d+(?!\d|\.\d)/<dec>/g;
		s/(?<![\d.])\d+(?= ?(?:ms|us|µs)\b)/<dec>/g;
		# What else the interface carried during a capture (neighbour discovery, the other tests of
		# the page): libpcap'"'"'s "received by filter" and sniff'"'"'s hint count it.
		s/^\d+( packets received by filter)$/<n>$1/; s/(carried )\d+( packets in all)/$1<n>$2/;
		# The windows an SSH session advertises (port 22): its receive buffers grow with what the
		# login exchanged, which depends on timing.
		if (/\.22[ :]/) { s/\bwin \d+/win <w>/; }
		# Trailing blanks: ss pads its last column to the widest pid.
		s/[ \t]+$//;
	'
}
