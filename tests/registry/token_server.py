#!/usr/bin/env python3
"""Test token server for docker-registry's `auth: token:` mode.

Implements the Docker Hub flow (distribution's docs/spec/auth/token.md):
the registry answers 401 with `WWW-Authenticate: Bearer realm=...,
service=...,scope=...`; the client GETs the realm with `service` and one or
more `scope` parameters, with Basic credentials if it has any, and receives
`{"token": JWT, "access_token": JWT, "expires_in": N, "issued_at": T}`.

Access rules:
  * Basic credentials, when sent, must match a configured user, else 401.
  * anonymous: `pull` on repositories under the public prefix (`public/`),
    nothing else (an anonymous token for a private repository is issued with
    an empty access list, as Docker Hub does; the registry then answers 401).
  * authenticated: every requested action (pull, push, delete, *), and
    `registry:catalog:*`.

The JWT is RS256, signed with --key; its header carries the signing
certificate (--cert) in `x5c`.  The registry's `rootcertbundle` is that same
certificate, so distribution 2.8 verifies the chain (the leaf is itself a
trusted root) and takes the public key from it.  No `kid` is needed.

Signing uses the `cryptography` module when importable, else
`openssl dgst -sha256 -sign`.  MOCKER_TOKEN_SIGNER=openssl forces the latter.
MOCKER_TOKEN_FIELDS (comma list, default "token,access_token") selects which
fields the JSON answer carries, to test clients that must fall back to
`access_token`.

Listens on 127.0.0.1 only.  With --port 0 the kernel picks the port, which is
written to --port-file once the socket is bound and listening.
"""

import argparse
import base64
import binascii
import json
import os
import subprocess
import sys
import time
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

KNOWN_ACTIONS = {"pull", "push", "delete", "*"}


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def pem_to_der(pem_text):
    lines = []
    inside = False
    for line in pem_text.splitlines():
        if line.startswith("-----BEGIN CERTIFICATE"):
            inside = True
            continue
        if line.startswith("-----END CERTIFICATE"):
            break
        if inside:
            lines.append(line.strip())
    if not lines:
        raise ValueError("no certificate in PEM file")
    return base64.b64decode("".join(lines))


class Signer:
    """RS256 with `cryptography` if available, else the openssl CLI."""

    def __init__(self, key_path):
        self.key_path = key_path
        self.key = None
        self.backend = "openssl"
        if os.environ.get("MOCKER_TOKEN_SIGNER", "") != "openssl":
            try:
                from cryptography.hazmat.primitives import serialization

                with open(key_path, "rb") as f:
                    self.key = serialization.load_pem_private_key(f.read(), password=None)
                self.backend = "cryptography"
            except ImportError:
                pass

    def sign(self, data):
        if self.key is not None:
            from cryptography.hazmat.primitives import hashes
            from cryptography.hazmat.primitives.asymmetric import padding

            return self.key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        proc = subprocess.run(
            ["openssl", "dgst", "-sha256", "-sign", self.key_path],
            input=data,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError("openssl dgst failed: " + proc.stderr.decode(errors="replace"))
        return proc.stdout


def parse_scope(scope):
    """`repository:NAME:ACTIONS` -> (type, name, [actions]); NAME may hold ':'."""
    kind, sep, rest = scope.partition(":")
    if not sep:
        return None
    name, sep, actions = rest.rpartition(":")
    if not sep or not name:
        return None
    return kind, name, [a for a in actions.split(",") if a]


def grant(cfg, user, scopes):
    access = []
    for scope in scopes:
        parsed = parse_scope(scope)
        if parsed is None:
            continue
        kind, name, actions = parsed
        if kind == "repository":
            if user is not None:
                allowed = [a for a in actions if a in KNOWN_ACTIONS]
            elif name.startswith(cfg.public_prefix):
                allowed = [a for a in actions if a == "pull"]
            else:
                allowed = []
        elif kind == "registry" and name == "catalog" and user is not None:
            allowed = [a for a in actions if a == "*"]
        else:
            allowed = []
        if allowed:
            access.append({"type": kind, "name": name, "actions": allowed})
    return access


def make_token(cfg, user, access):
    now = int(time.time())
    header = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(cfg.cert_der).decode("ascii")]}
    claims = {
        "iss": cfg.issuer,
        "sub": user or "",
        "aud": cfg.service,
        "exp": now + cfg.expires,
        "nbf": now - 10,
        "iat": now,
        "jti": uuid.uuid4().hex,
        "access": access,
    }
    signing_input = (
        b64url(json.dumps(header, separators=(",", ":")).encode())
        + "."
        + b64url(json.dumps(claims, separators=(",", ":")).encode())
    )
    signature = cfg.signer.sign(signing_input.encode("ascii"))
    return signing_input + "." + b64url(signature)


class Handler(BaseHTTPRequestHandler):
    server_version = "mocker-test-token-server/1"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.log_date_time_string(), fmt % args))
        sys.stderr.flush()

    def reply(self, code, obj, extra_headers=()):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra_headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def deny(self, why):
        self.log_message("DENY %s", why)
        self.reply(
            401,
            {"details": why, "errors": [{"code": "UNAUTHORIZED", "message": why}]},
            [("WWW-Authenticate", 'Basic realm="mocker-test-token-server"')],
        )

    def basic_user(self):
        """None if anonymous, False if credentials are wrong, else the user."""
        header = self.headers.get("Authorization", "")
        if not header.lower().startswith("basic "):
            return None
        try:
            user, _, password = base64.b64decode(header[6:].strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return self.check_password(user, password)

    def check_password(self, user, password):
        if self.server.cfg.users.get(user) == password:
            return user
        return False

    def issue(self, query, user):
        cfg = self.server.cfg
        service = query.get("service", [""])[0]
        if service and service != cfg.service:
            self.reply(400, {"details": "unknown service %r" % service})
            return
        scopes = []
        for value in query.get("scope", []):
            scopes.extend(value.split())
        access = grant(cfg, user, scopes)
        token = make_token(cfg, user, access)
        self.log_message(
            "ISSUE user=%s scopes=%s granted=%s",
            user or "-",
            ",".join(scopes) or "-",
            json.dumps(access, separators=(",", ":")),
        )
        answer = {"expires_in": cfg.expires, "issued_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
        for field in cfg.fields:
            answer[field] = token
        self.reply(200, answer)

    def do_GET(self):
        url = urlsplit(self.path)
        if url.path != self.server.cfg.path:
            self.reply(404, {"details": "not found"})
            return
        user = self.basic_user()
        if user is False:
            self.deny("incorrect username or password")
            return
        self.issue(parse_qs(url.query), user)

    def do_POST(self):
        """OAuth2 form flow (docker login with identity tokens); password grant only."""
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length", "0") or 0)
        form = parse_qs(self.rfile.read(length).decode(errors="replace")) if length else {}
        if url.path != self.server.cfg.path:
            self.reply(404, {"details": "not found"})
            return
        if form.get("grant_type", [""])[0] != "password":
            self.reply(400, {"error": "unsupported_grant_type"})
            return
        user = self.check_password(form.get("username", [""])[0], form.get("password", [""])[0])
        if user is False:
            self.deny("incorrect username or password")
            return
        self.issue(form, user)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--key", required=True, help="PEM RSA private key")
    ap.add_argument("--cert", required=True, help="PEM certificate of that key (the registry's rootcertbundle)")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", help="write the bound port here once listening")
    ap.add_argument("--issuer", default="mocker-test-token-server")
    ap.add_argument("--service", default="mocker-test-registry")
    ap.add_argument("--path", default="/token")
    ap.add_argument("--user", action="append", default=[], help="USER:PASSWORD (repeatable)")
    ap.add_argument("--public-prefix", default="public/")
    ap.add_argument("--expires", type=int, default=300)
    cfg = ap.parse_args()

    cfg.users = dict(u.split(":", 1) for u in (cfg.user or ["tester:secret"]))
    with open(cfg.cert, encoding="ascii") as f:
        cfg.cert_der = pem_to_der(f.read())
    cfg.signer = Signer(cfg.key)
    cfg.fields = [x for x in os.environ.get("MOCKER_TOKEN_FIELDS", "token,access_token").split(",") if x]

    server = ThreadingHTTPServer(("127.0.0.1", cfg.port), Handler)
    server.daemon_threads = True
    server.cfg = cfg
    port = server.server_address[1]
    if cfg.port_file:
        tmp = cfg.port_file + ".tmp"
        with open(tmp, "w", encoding="ascii") as f:
            f.write("%d\n" % port)
        os.rename(tmp, cfg.port_file)
    sys.stderr.write("listening on 127.0.0.1:%d, signing with %s\n" % (port, cfg.signer.backend))
    sys.stderr.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
