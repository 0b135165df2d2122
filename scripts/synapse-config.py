#!/usr/bin/env python3
"""Generate a complete, self-contained Synapse homeserver config for tests.

Usage:
    synapse-config.py --dir DIR --port PORT [--rate-limited]
                      [--rc-message-per-second F] [--rc-message-burst N]
                      [--shared-secret S] [--room-version V] [--log-level LEVEL]
                      [--no-stderr-log]

Stdlib only (runs with plain python3 or the Synapse venv's python).

Writes into DIR (created if needed):
    homeserver.yaml     the config (JSON syntax, which is valid YAML)
    log.config          logging config -> DIR/homeserver.log (+ WARNING+ to stderr)
    localhost.signing.key   ed25519 signing key (kept if already present)
    secrets.json        macaroon/form secrets (kept if already present)
    shared_secret       registration shared secret (no trailing newline)
    server-info.json    {"base_url", "server_name", "port", "shared_secret", ...}
and uses DIR/homeserver.db (SQLite) and DIR/media_store at run time.

Re-running on an existing DIR rewrites the config files (so port / rate-limit
flags can change) but keeps the signing key, secrets and database, so the
data stays valid.

Server name is `localhost`; users are `@name:localhost`. The only listener is
plain HTTP on 127.0.0.1:PORT serving the client API and the admin API
(/_synapse/admin/...). No federation, no TLS, no outbound network.
"""

import argparse
import base64
import json
import os
import secrets
import string
import sys

SERVER_NAME = "localhost"
DEFAULT_SHARED_SECRET = "sanctions-watch-test-shared-secret"

# Rate limiter settings: "permissive" values are high enough that tests never
# hit them; Synapse's Ratelimiter compares burst_count against the number of
# actions in the current window, so 1000/1000 is effectively unlimited here.
PERMISSIVE = {"per_second": 1000, "burst_count": 1000}

# Tight message limiter used with --rate-limited: after ~3 events a user gets
# HTTP 429 {"errcode": "M_LIMIT_EXCEEDED", "retry_after_ms": ...}.
TIGHT_MESSAGE_PER_SECOND = 0.5
TIGHT_MESSAGE_BURST = 3


def write_file(path, content, mode=0o644):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(content)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def ensure_signing_key(path):
    """Create a Synapse signing key file if missing.

    Format (as written by `synapse.app.homeserver --generate-keys`):
        ed25519 a_XXXX <unpadded base64 of a 32-byte ed25519 seed>
    Any 32 random bytes are a valid ed25519 seed, so no crypto library is
    needed here.
    """
    if os.path.exists(path) and os.path.getsize(path) > 0:
        return False
    key_id = "a_" + "".join(secrets.choice(string.ascii_letters) for _ in range(4))
    seed = base64.b64encode(secrets.token_bytes(32)).decode("ascii").rstrip("=")
    write_file(path, "ed25519 %s %s\n" % (key_id, seed), mode=0o600)
    return True


def load_or_create_secrets(path):
    data = {}
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    changed = False
    for key in ("macaroon_secret_key", "form_secret"):
        if not data.get(key):
            data[key] = secrets.token_urlsafe(32)
            changed = True
    if changed:
        write_file(path, json.dumps(data, indent=2) + "\n", mode=0o600)
    return data


def rate_limits(rate_limited, msg_per_second, msg_burst):
    p = dict(PERMISSIVE)
    if rate_limited:
        rc_message = {"per_second": msg_per_second, "burst_count": msg_burst}
    else:
        rc_message = dict(p)
    return {
        # rc_message covers every client-sent event: messages, state events,
        # redactions, membership changes (join/invite/leave) and it is also
        # consulted on room creation and profile (displayname/avatar) changes.
        "rc_message": rc_message,
        "rc_registration": dict(p),
        "rc_registration_token_validity": dict(p),
        "rc_login": {
            "address": dict(p),
            "account": dict(p),
            "failed_attempts": dict(p),
        },
        "rc_admin_redaction": dict(p),
        "rc_joins": {"local": dict(p), "remote": dict(p)},
        "rc_joins_per_room": dict(p),
        "rc_3pid_validation": dict(p),
        "rc_invites": {
            "per_room": dict(p),
            "per_user": dict(p),
            "per_issuer": dict(p),
        },
        "rc_third_party_invite": dict(p),
        "rc_key_requests": dict(p),
        "rc_media_create": dict(p),
        "rc_presence": {"per_user": dict(p)},
        "rc_delayed_event_mgmt": dict(p),
        "rc_room_creation": dict(p),
        "rc_reports": dict(p),
        "rc_user_directory": dict(p),
        "rc_profile": dict(p),
        "rc_federation": {
            "window_size": 1000,
            "sleep_limit": 1000,
            "sleep_delay": 1,
            "reject_limit": 1000,
            "concurrent": 100,
        },
    }


def log_config(log_path, level, stderr_log):
    handlers = {
        "file": {
            "class": "logging.FileHandler",
            "formatter": "precise",
            "filename": log_path,
            "encoding": "utf8",
        },
    }
    root_handlers = ["file"]
    if stderr_log:
        handlers["console"] = {
            "class": "logging.StreamHandler",
            "formatter": "precise",
            "level": "WARNING",
            "stream": "ext://sys.stderr",
        }
        root_handlers.append("console")
    return {
        "version": 1,
        "formatters": {
            "precise": {
                "format": "%(asctime)s - %(name)s - %(lineno)d - %(levelname)s"
                " - %(request)s - %(message)s"
            }
        },
        "handlers": handlers,
        "loggers": {
            # DEBUG here would log access tokens; keep it quiet.
            "synapse.storage.SQL": {"level": "WARNING"},
            "twisted": {"level": "WARNING"},
        },
        "root": {"level": level, "handlers": root_handlers},
        "disable_existing_loggers": False,
    }


def build_config(args, d, secret_data):
    port = args.port
    cfg = {
        "server_name": SERVER_NAME,
        "public_baseurl": "http://127.0.0.1:%d/" % port,
        "pid_file": os.path.join(d, "homeserver.pid"),
        "listeners": [
            {
                "port": port,
                "bind_addresses": ["127.0.0.1"],
                "type": "http",
                "tls": False,
                "x_forwarded": False,
                # "client" also serves the admin API under /_synapse/admin.
                "resources": [{"names": ["client"], "compress": False}],
            }
        ],
        "database": {
            "name": "sqlite3",
            "args": {"database": os.path.join(d, "homeserver.db")},
        },
        "log_config": os.path.join(d, "log.config"),
        "media_store_path": os.path.join(d, "media_store"),
        "signing_key_path": os.path.join(d, "%s.signing.key" % SERVER_NAME),
        "macaroon_secret_key": secret_data["macaroon_secret_key"],
        "form_secret": secret_data["form_secret"],
        "registration_shared_secret": args.shared_secret,
        "enable_registration": False,
        "allow_guest_access": False,
        "report_stats": False,
        "enable_metrics": False,
        "presence": {"enabled": False},
        "url_preview_enabled": False,
        # No network: never fetch keys from matrix.org, never federate.
        "trusted_key_servers": [],
        "suppress_key_server_warning": True,
        "federation_domain_whitelist": [],
        "serve_server_wellknown": False,
        "password_config": {"enabled": True},
        # Cheap password hashing: registration/login take ~10 ms instead of
        # ~250 ms with the default 12 rounds. Test/dev server only.
        "bcrypt_rounds": 4,
    }
    if args.room_version:
        cfg["default_room_version"] = args.room_version
    cfg.update(
        rate_limits(args.rate_limited, args.rc_message_per_second, args.rc_message_burst)
    )
    return cfg


def main(argv=None):
    ap = argparse.ArgumentParser(description="Generate a Synapse test homeserver config.")
    ap.add_argument("--dir", required=True, help="state directory (created if missing)")
    ap.add_argument("--port", required=True, type=int, help="HTTP port on 127.0.0.1")
    ap.add_argument(
        "--rate-limited",
        action="store_true",
        help="tight rc_message limit (per_second %s, burst_count %s) so bursts get 429"
        % (TIGHT_MESSAGE_PER_SECOND, TIGHT_MESSAGE_BURST),
    )
    ap.add_argument("--rc-message-per-second", type=float, default=TIGHT_MESSAGE_PER_SECOND,
                    help="rc_message.per_second with --rate-limited")
    ap.add_argument("--rc-message-burst", type=int, default=TIGHT_MESSAGE_BURST,
                    help="rc_message.burst_count with --rate-limited")
    ap.add_argument("--shared-secret", default=DEFAULT_SHARED_SECRET,
                    help="registration_shared_secret (default: fixed test secret)")
    ap.add_argument("--room-version", default=None,
                    help="default_room_version (Synapse's own default in this version is 12)")
    ap.add_argument("--log-level", default="INFO",
                    choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                    help="root log level for DIR/homeserver.log (default INFO)")
    ap.add_argument("--no-stderr-log", action="store_true",
                    help="do not copy WARNING+ log lines to stderr")
    args = ap.parse_args(argv)

    if not (1 <= args.port <= 65535):
        ap.error("--port must be in 1..65535")

    d = os.path.abspath(args.dir)
    os.makedirs(d, exist_ok=True)
    os.makedirs(os.path.join(d, "media_store"), exist_ok=True)

    ensure_signing_key(os.path.join(d, "%s.signing.key" % SERVER_NAME))
    secret_data = load_or_create_secrets(os.path.join(d, "secrets.json"))

    cfg = build_config(args, d, secret_data)
    write_file(
        os.path.join(d, "log.config"),
        json.dumps(
            log_config(os.path.join(d, "homeserver.log"), args.log_level,
                       not args.no_stderr_log),
            indent=2,
        ) + "\n",
    )
    header = (
        "# Generated by scripts/synapse-config.py -- edits are overwritten.\n"
        "# JSON syntax, which is valid YAML.\n"
    )
    write_file(os.path.join(d, "homeserver.yaml"),
               header + json.dumps(cfg, indent=2) + "\n", mode=0o600)
    write_file(os.path.join(d, "shared_secret"), args.shared_secret, mode=0o600)
    info = {
        "base_url": "http://127.0.0.1:%d" % args.port,
        "server_name": SERVER_NAME,
        "port": args.port,
        "shared_secret": args.shared_secret,
        "rate_limited": args.rate_limited,
        "rc_message": cfg["rc_message"],
        "config": os.path.join(d, "homeserver.yaml"),
        "log": os.path.join(d, "homeserver.log"),
    }
    write_file(os.path.join(d, "server-info.json"), json.dumps(info, indent=2) + "\n")
    print("wrote Synapse config %s (port %d, %s)"
          % (os.path.join(d, "homeserver.yaml"), args.port,
             "rate-limited rc_message %s" % cfg["rc_message"] if args.rate_limited
             else "permissive rate limits"),
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
