#!/usr/bin/env bash
# Install the Python packages the screening benchmark compares itself with
# (pyahocorasick and flashtext, pinned) into target/bench-venv, and print that
# venv's python. `cargo bench --bench screening` uses them when this venv exists.
#
# Usage: scripts/install-bench-python.sh        (SW_PYTHON picks the interpreter)
set -euo pipefail

PACKAGES=(pyahocorasick==2.3.1 flashtext==2.7)

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="$SCRIPT_DIR/../target/bench-venv"
PYTHON="${SW_PYTHON:-python3}"
die() { echo "[install-bench-python] ERROR: $*" >&2; exit 1; }

if [[ -x "$VENV/bin/python" ]] && "$VENV/bin/python" -c 'import ahocorasick, flashtext' 2>/dev/null; then
    echo "$(cd "$VENV/bin" && pwd)/python"
    exit 0
fi
command -v "$PYTHON" >/dev/null 2>&1 || die "python interpreter '$PYTHON' not found (set SW_PYTHON)"
mkdir -p "$(dirname "$VENV")"
"$PYTHON" -m venv "$VENV" || die "could not create $VENV (is python3-venv installed?)"
"$VENV/bin/python" -m pip install --quiet "${PACKAGES[@]}" >&2 \
    || die "pip install ${PACKAGES[*]} failed"
echo "$(cd "$VENV/bin" && pwd)/python"
