#!/usr/bin/env bash
# Install a pinned Synapse (Matrix homeserver) into a Python virtualenv, for the
# end-to-end tests and for manual trying (see scripts/dev-homeserver.sh).
#
# Usage: scripts/install-synapse.sh
#
# Environment:
#   SW_SYNAPSE_VENV   virtualenv path (default: <repo>/target/synapse-venv)
#   SW_PYTHON         python used to create the venv (default: python3; needs >= 3.10)
#
# Output: progress messages go to stderr; on success the ONLY thing printed on
# stdout is the absolute path of the venv's python, so callers can do
#   PY=$(scripts/install-synapse.sh)
#   "$PY" -m synapse.app.homeserver -c DIR/homeserver.yaml
#
# Idempotent: if the venv already has the pinned version (checked via a stamp
# file plus importlib.metadata) it exits in well under a second without using
# the network. Concurrent runs are serialised with flock.
set -euo pipefail

SYNAPSE_VERSION="1.163.2"

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
VENV="${SW_SYNAPSE_VENV:-$REPO_ROOT/target/synapse-venv}"
PYTHON="${SW_PYTHON:-python3}"
CONSTRAINTS="$SCRIPT_DIR/synapse-constraints.txt"
STAMP_FILE="$VENV/.sw-synapse-stamp"

log() { echo "[install-synapse] $*" >&2; }
die() { echo "[install-synapse] ERROR: $*" >&2; exit 1; }

[[ -f "$CONSTRAINTS" ]] || die "missing constraints file $CONSTRAINTS"

# The stamp records exactly what was installed; any change to the pinned
# version or the constraints file forces a (re)install.
constraints_hash="$(sha256sum "$CONSTRAINTS" | cut -d' ' -f1)"
WANT_STAMP="matrix-synapse==$SYNAPSE_VERSION constraints=$constraints_hash"

venv_is_ready() {
    [[ -x "$VENV/bin/python" && -f "$STAMP_FILE" ]] || return 1
    [[ "$(cat "$STAMP_FILE")" == "$WANT_STAMP" ]] || return 1
    "$VENV/bin/python" - "$SYNAPSE_VERSION" <<'EOF' >/dev/null 2>&1 || return 1
import importlib.metadata, sys
sys.exit(0 if importlib.metadata.version("matrix-synapse") == sys.argv[1] else 1)
EOF
}

print_result() {
    # Absolute path of the venv python (no symlink resolution: the venv's own
    # python must be used so that its site-packages are found).
    echo "$(cd "$VENV/bin" && pwd)/python"
}

# Fast path: nothing to do, no lock, no network.
if venv_is_ready; then
    log "matrix-synapse $SYNAPSE_VERSION already installed in $VENV"
    print_result
    exit 0
fi

mkdir -p "$(dirname "$VENV")"
VENV="$(cd "$(dirname "$VENV")" && pwd)/$(basename "$VENV")"
STAMP_FILE="$VENV/.sw-synapse-stamp"

# Serialise concurrent installs into the same venv (e.g. parallel test runs).
LOCK_FILE="$VENV.lock"
exec 9>"$LOCK_FILE"
if command -v flock >/dev/null 2>&1; then
    log "acquiring lock $LOCK_FILE"
    flock 9
fi
if venv_is_ready; then
    log "matrix-synapse $SYNAPSE_VERSION was installed by a concurrent run"
    print_result
    exit 0
fi

# --- Python interpreter -------------------------------------------------------
command -v "$PYTHON" >/dev/null 2>&1 || die "python interpreter '$PYTHON' not found (set SW_PYTHON)"
if ! "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)'; then
    die "$PYTHON is $("$PYTHON" -V 2>&1); Synapse $SYNAPSE_VERSION needs Python >= 3.10"
fi
log "using $("$PYTHON" -V 2>&1) at $(command -v "$PYTHON")"

apt_updated=0
apt_install() {
    # Install Debian packages only when missing.
    local missing=()
    local p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    [[ ${#missing[@]} -eq 0 ]] && return 0
    command -v apt-get >/dev/null 2>&1 || die "need Debian packages ${missing[*]} but apt-get is not available"
    if [[ $apt_updated -eq 0 ]]; then
        log "apt-get update"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || die "apt-get update failed"
        apt_updated=1
    fi
    log "apt-get install ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 \
        || die "apt-get install ${missing[*]} failed"
}

# pyenv/python.org builds ship venv+ensurepip; Debian's system python needs
# the python3-venv package for that.
if ! "$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1; then
    if [[ "$(command -v "$PYTHON")" == /usr/bin/* ]]; then
        pyver="$("$PYTHON" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
        apt_install "python${pyver}-venv"
    else
        die "$PYTHON lacks the venv/ensurepip modules; use a python that has them (SW_PYTHON)"
    fi
fi
# Synapse's default database is SQLite, through the stdlib sqlite3 module.
"$PYTHON" -c 'import sqlite3' >/dev/null 2>&1 || die "$PYTHON lacks the sqlite3 module"

# --- virtualenv ---------------------------------------------------------------
if [[ -d "$VENV" ]] && ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
    log "existing venv $VENV is broken; recreating it"
    rm -rf "$VENV"
fi
if [[ ! -x "$VENV/bin/python" ]]; then
    log "creating virtualenv $VENV"
    "$PYTHON" -m venv "$VENV" >&2 || die "could not create virtualenv at $VENV"
fi
rm -f "$STAMP_FILE"

# --- Synapse ------------------------------------------------------------------
# Binary wheels only: every pinned package has a manylinux wheel for CPython
# 3.10+ on x86_64, so no compiler, Rust toolchain or -dev package is needed.
log "pip install matrix-synapse==$SYNAPSE_VERSION (constraints: $CONSTRAINTS)"
start=$SECONDS
if ! "$VENV/bin/python" -m pip install \
        --disable-pip-version-check --no-input --quiet --only-binary=:all: \
        --constraint "$CONSTRAINTS" \
        "matrix-synapse==$SYNAPSE_VERSION" >&2; then
    die "pip install matrix-synapse==$SYNAPSE_VERSION failed (is PyPI reachable? see messages above)"
fi
log "pip install took $((SECONDS - start))s"

# Sanity check: the Rust extension and the homeserver entry point import.
"$VENV/bin/python" -c 'import synapse.synapse_rust, synapse.app.homeserver' >&2 \
    || die "matrix-synapse installed but does not import"

echo "$WANT_STAMP" >"$STAMP_FILE"
venv_is_ready || die "post-install check failed"
log "matrix-synapse $SYNAPSE_VERSION installed in $VENV"
print_result
