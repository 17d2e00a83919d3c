# Shared helpers for netlab's scripts (sourced, not run).

# apt_ensure PKG... — install the Debian packages that are missing, only those, once.
# As root: apt-get (update first when the lists are empty or an install fails).
# As non-root: print the one command that would do it, and return 1.
apt_ensure() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "netlab: missing packages: ${missing[*]}; install them with: sudo apt-get install -y ${missing[*]}" >&2
        return 1
    fi
    echo "netlab: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    # tshark asks whether non-root users may capture; answer no without a prompt.
    echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections 2>/dev/null || true
    if [ -z "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v -e lock -e partial)" ]; then
        apt-get update -qq >&2
    fi
    if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2; then
        apt-get update -qq >&2
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
    fi
}

# pip_ensure MODULE PACKAGE — install a Python package from PyPI when the module is missing
# (pip itself from Debian's python3-pip when this python3 has none).
pip_ensure() {
    python3 -c "import $1" 2>/dev/null && return 0
    python3 -m pip --version >/dev/null 2>&1 || apt_ensure python3-pip || return 1
    # Debian's own python3 refuses system-wide pip installs (PEP 668): then say so explicitly.
    python3 -m pip install -q "$2" >&2 2>/dev/null || python3 -m pip install -q --break-system-packages "$2" >&2
}

# peers_ensure FILE — install every peer FILE lists (`COMMAND SOURCE` lines, `#` comments):
# the Debian packages in one apt call, then the `pip:PACKAGE` ones. Returns 1 when any peer is
# still missing afterwards, naming it.
peers_ensure() {
    local debs=() pips=() cmd src missing=()
    while read -r cmd src _; do
        case "$cmd" in ""|"#"*) continue ;; esac
        case "$src" in
            pip:*) pips+=("${src#pip:}") ;;
            *) debs+=("$src") ;;
        esac
    done < "$1"
    apt_ensure $(printf '%s\n' "${debs[@]}" | sort -u) || true
    for src in "${pips[@]}"; do pip_ensure "$src" "$src" || true; done
    hash -r
    while read -r cmd src _; do
        case "$cmd" in ""|"#"*) continue ;; esac
        command -v "$cmd" >/dev/null 2>&1 || missing+=("$cmd ($src)")
    done < "$1"
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "netlab: peers still missing: ${missing[*]}" >&2
    return 1
}

# netlab_bins — the workspace's binaries, one a line (each crate with src/main.rs, and every
# src/bin/NAME.rs), in the order of crates/: the one list for gen-man and package.
netlab_bins() {
    local d b
    for d in crates/*/; do
        [ -f "$d/src/main.rs" ] && basename "$d"
        for b in "$d"/src/bin/*.rs; do
            [ -f "$b" ] && basename "$b" .rs
        done
    done
    return 0
}
