#!/usr/bin/env bash
# Run a local Synapse homeserver for trying sanctions-watch by hand.
#
# Usage:
#   scripts/dev-homeserver.sh [PORT] [--rate-limited]
#       Installs Synapse (scripts/install-synapse.sh), generates a config into
#       <repo>/state/dev-homeserver/ the first time (reused afterwards; it is
#       regenerated, keeping keys and data, only when PORT or --rate-limited
#       changes), then runs Synapse in the foreground on 127.0.0.1:PORT.
#       PORT defaults to the one saved in the state dir, else 8008; the
#       rate-limit mode is whatever this run asks for (permissive without the
#       flag). Prints instructions once Synapse answers. Ctrl-C / SIGTERM
#       stops it (Synapse shuts down cleanly). Log: <state dir>/homeserver.log
#
#   scripts/dev-homeserver.sh register USER PASSWORD [--admin]
#       Registers a user on the running dev homeserver through the
#       shared-secret admin API (scripts/synapse-register.py); prints the
#       JSON answer (user_id, access_token, device_id).
#
#   scripts/dev-homeserver.sh info
#       Prints <state dir>/server-info.json (base_url, shared secret, ...).
#
# Environment:
#   SW_DEV_HS_DIR     state directory (default: <repo>/state/dev-homeserver)
#   SW_SYNAPSE_VENV   virtualenv (see install-synapse.sh)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
STATE_DIR="${SW_DEV_HS_DIR:-$REPO_ROOT/state/dev-homeserver}"
INFO="$STATE_DIR/server-info.json"

log() { echo "[dev-homeserver] $*" >&2; }
die() { echo "[dev-homeserver] ERROR: $*" >&2; exit 1; }

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
}

info_field() { # info_field KEY -> value from server-info.json
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$INFO" "$1"
}

cmd_register() {
    [[ $# -ge 2 ]] || die "usage: $0 register USER PASSWORD [--admin]"
    [[ -f "$INFO" ]] || die "no dev homeserver config in $STATE_DIR; start it first with: $0 [PORT]"
    local url
    url="$(info_field base_url)"
    exec python3 "$SCRIPT_DIR/synapse-register.py" --url "$url" \
        --secret-file "$STATE_DIR/shared_secret" "$@"
}

cmd_run() {
    local port="" rate_limited=0 arg
    for arg in "$@"; do
        case "$arg" in
            --rate-limited) rate_limited=1 ;;
            -h|--help) usage; exit 0 ;;
            *[!0-9]*|'') die "unknown argument '$arg' (see $0 --help)" ;;
            *) port="$arg" ;;
        esac
    done

    local py
    py="$("$SCRIPT_DIR/install-synapse.sh")" || die "installing Synapse failed"

    # Generate the config once; regenerate (keeping keys + database) only if
    # the requested port or rate-limit mode differs from the existing one.
    local regen=0 want_rl
    want_rl=$([[ $rate_limited -eq 1 ]] && echo True || echo False)
    if [[ ! -f "$STATE_DIR/homeserver.yaml" || ! -f "$INFO" ]]; then
        regen=1
        port="${port:-8008}"
    else
        local cur_port cur_rl
        cur_port="$(info_field port)"
        cur_rl="$(info_field rate_limited)"
        port="${port:-$cur_port}"
        [[ "$port" == "$cur_port" && "$want_rl" == "$cur_rl" ]] || regen=1
    fi
    if [[ $regen -eq 1 ]]; then
        log "generating config in $STATE_DIR (port $port)"
        local extra=()
        [[ $rate_limited -eq 1 ]] && extra+=(--rate-limited)
        python3 "$SCRIPT_DIR/synapse-config.py" --dir "$STATE_DIR" --port "$port" "${extra[@]}" \
            || die "config generation failed"
    else
        log "reusing config in $STATE_DIR"
    fi

    local url="http://127.0.0.1:$port"
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        die "127.0.0.1:$port is already in use (another homeserver running?)"
    fi

    log "starting Synapse on $url (log: $STATE_DIR/homeserver.log)"
    "$py" -m synapse.app.homeserver -c "$STATE_DIR/homeserver.yaml" &
    local child=$!
    trap 'kill -TERM "$child" 2>/dev/null || true' INT TERM HUP

    local start=$SECONDS
    until python3 - "$url/_matrix/client/versions" <<'EOF' 2>/dev/null
import sys, urllib.request
urllib.request.urlopen(sys.argv[1], timeout=2).read()
EOF
    do
        if ! kill -0 "$child" 2>/dev/null; then
            wait "$child" || true
            die "Synapse exited during startup; see $STATE_DIR/homeserver.log"
        fi
        (( SECONDS - start < 120 )) || { kill -TERM "$child"; wait "$child" || true; die "Synapse not ready after 120s"; }
        sleep 0.2
    done

    cat >&2 <<EOF

[dev-homeserver] Synapse is ready at $url  (server_name: localhost)
  Register users (shared-secret admin API):
    $0 register admin adminpassword --admin
    $0 register alice alicepassword
  Log in:
    curl -s -X POST $url/_matrix/client/v3/login -H 'Content-Type: application/json' \\
      -d '{"type":"m.login.password","identifier":{"type":"m.id.user","user":"alice"},"password":"alicepassword"}'
  User IDs look like @alice:localhost. Shared secret: $STATE_DIR/shared_secret
  Stop with Ctrl-C. Data persists in $STATE_DIR (delete it to start afresh).

EOF

    local rc=0
    while true; do
        wait "$child" && rc=0 || rc=$?
        # wait returns >128 when interrupted by a trapped signal; keep waiting
        # for Synapse to finish its shutdown.
        kill -0 "$child" 2>/dev/null || break
    done
    log "Synapse exited (status $rc)"
    exit "$rc"
}

case "${1:-}" in
    register) shift; cmd_register "$@" ;;
    info) [[ -f "$INFO" ]] || die "no config yet in $STATE_DIR"; cat "$INFO" ;;
    -h|--help|help) usage ;;
    *) cmd_run "$@" ;;
esac
