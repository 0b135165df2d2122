#!/usr/bin/env python3
"""Register a Matrix user on Synapse via the shared-secret admin API.

Usage:
    synapse-register.py --url URL (--secret-file F | --secret S)
                        USER PASSWORD [--admin] [--displayname NAME]
                        [--timeout SECONDS]

Stdlib only. USER is the localpart ("alice") or a full ID ("@alice:localhost";
only the localpart is sent). Flow (https://element-hq.github.io/synapse/latest/admin_api/register_api.html):
    GET  URL/_synapse/admin/v1/register              -> {"nonce": N}
    POST URL/_synapse/admin/v1/register  {nonce, username, password, admin, mac}
    mac = hex HMAC-SHA1(key=shared secret,
                        msg=nonce \\0 username \\0 password \\0 ("admin"|"notadmin"))

On success prints the JSON response ({"user_id", "access_token", "device_id",
"home_server"}) on stdout as one line and exits 0. Failure: message on stderr,
exit 1; if the user already exists exit 3 (errcode M_USER_IN_USE).
"""

import argparse
import hashlib
import hmac
import json
import sys
import urllib.error
import urllib.request

EXIT_USER_IN_USE = 3


def http_json(method, url, body=None, timeout=30.0):
    data = None
    headers = {"Accept": "application/json"}
    if body is not None:
        data = json.dumps(body).encode("utf-8")
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read().decode("utf-8") or "{}")
    except urllib.error.HTTPError as e:
        raw = e.read().decode("utf-8", "replace")
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, {"error": raw}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--url", required=True, help="homeserver base URL, e.g. http://127.0.0.1:8008")
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--secret-file", help="file holding registration_shared_secret")
    g.add_argument("--secret", help="registration_shared_secret itself")
    ap.add_argument("user", help="localpart or @user:server")
    ap.add_argument("password")
    ap.add_argument("--admin", action="store_true", help="make the user a server admin")
    ap.add_argument("--displayname", help="optional display name")
    ap.add_argument("--timeout", type=float, default=30.0)
    args = ap.parse_args(argv)

    if args.secret_file:
        with open(args.secret_file, encoding="utf-8") as f:
            secret = f.read().strip()
    else:
        secret = args.secret
    if not secret:
        print("synapse-register: empty shared secret", file=sys.stderr)
        return 1

    user = args.user
    if user.startswith("@"):
        user = user[1:].split(":", 1)[0]

    endpoint = args.url.rstrip("/") + "/_synapse/admin/v1/register"
    try:
        status, body = http_json("GET", endpoint, timeout=args.timeout)
        if status != 200 or "nonce" not in body:
            print("synapse-register: GET nonce failed: HTTP %s %s" % (status, body), file=sys.stderr)
            return 1
        nonce = body["nonce"]

        mac = hmac.new(secret.encode("utf-8"), digestmod=hashlib.sha1)
        mac.update(nonce.encode("utf-8"))
        mac.update(b"\x00")
        mac.update(user.encode("utf-8"))
        mac.update(b"\x00")
        mac.update(args.password.encode("utf-8"))
        mac.update(b"\x00")
        mac.update(b"admin" if args.admin else b"notadmin")

        req = {
            "nonce": nonce,
            "username": user,
            "password": args.password,
            "admin": args.admin,
            "mac": mac.hexdigest(),
        }
        if args.displayname:
            req["displayname"] = args.displayname
        status, body = http_json("POST", endpoint, req, timeout=args.timeout)
    except (urllib.error.URLError, OSError) as e:
        print("synapse-register: cannot reach %s: %s" % (endpoint, e), file=sys.stderr)
        return 1

    if status == 200 and "user_id" in body:
        print(json.dumps(body))
        return 0
    print("synapse-register: registering %r failed: HTTP %s %s" % (user, status, body), file=sys.stderr)
    if body.get("errcode") == "M_USER_IN_USE":
        return EXIT_USER_IN_USE
    return 1


if __name__ == "__main__":
    sys.exit(main())
