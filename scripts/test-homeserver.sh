#!/usr/bin/env bash
# Start a throw-away Synapse for an end-to-end test, for spawning from a test
# harness as a subprocess.
#
# Usage: scripts/test-homeserver.sh DIR PORT [--rate-limited] [other synapse-config.py flags]
#
# Installs Synapse if needed (first install takes ~25 s; call
# scripts/install-synapse.sh once beforehand to keep that out of a test's
# readiness timeout), (re)writes the config into DIR with
# scripts/synapse-config.py (keys and database in DIR are kept, so the same DIR
# can be restarted), then EXECs Synapse: the PID the harness spawned becomes
# the Synapse process itself, so SIGTERM (clean, ~2 s) or SIGKILL
# (std::process::Child::kill) on that PID stops Synapse directly.
#
# Readiness: poll GET http://127.0.0.1:PORT/_matrix/client/versions until 200
# (nothing is printed on stdout when ready). DIR/server-info.json holds
# base_url and the registration shared secret.
#
# Unless SW_SYNAPSE_NO_WATCH=1, a small watcher stops Synapse (SIGTERM) within
# ~1 s after this script's parent process (the test binary) exits, so a
# crashed or aborted test run does not leave Synapse behind.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
die() { echo "[test-homeserver] ERROR: $*" >&2; exit 1; }

[[ $# -ge 2 ]] || die "usage: $0 DIR PORT [--rate-limited] [synapse-config.py flags]"
dir="$1"; port="$2"; shift 2

py="$("$SCRIPT_DIR/install-synapse.sh")" || die "installing Synapse failed"
"$py" "$SCRIPT_DIR/synapse-config.py" --dir "$dir" --port "$port" "$@" \
    || die "config generation failed"

if [[ "${SW_SYNAPSE_NO_WATCH:-0}" != 1 ]]; then
    parent=$PPID
    self=$$   # after exec below, this PID is Synapse
    (
        while kill -0 "$parent" 2>/dev/null && kill -0 "$self" 2>/dev/null; do
            sleep 1
        done
        if ! kill -0 "$parent" 2>/dev/null; then
            kill -TERM "$self" 2>/dev/null || true
        fi
    ) </dev/null >/dev/null 2>&1 &
    disown
fi

exec "$py" -m synapse.app.homeserver -c "$(cd "$dir" && pwd)/homeserver.yaml"
