#!/usr/bin/env python3
"""A small, hostile-on-request registry for tests/security/check_registry.c.

It serves one tiny image (a gzip layer holding /hello.txt, its config and a
Docker schema 2 manifest, built in memory at start) under any repository
name and any tag, on the address given with --bind (127.0.0.x: each address
is a different host to the client). Options make it misbehave:

  --auth basic          every /v2/ request needs Basic tester:secret, else 401
                        with `Basic realm="fake"`
  --auth bearer:REALM   every /v2/ request needs `Bearer fake-token`, else 401
                        with `Bearer realm="REALM",service="fake-registry"`;
                        SELF in REALM stands for this server's own
                        scheme://address:port
  --token               GET /token answers {"token": "fake-token"} to anyone
                        (the log shows whether credentials came along)
  --redirect-manifests BASE
                        manifest GETs (after the auth check) are answered
                        with 307 to BASE + the request path
  --trickle REGEX       a GET whose path matches gets 200, a Content-Length
                        of 1 MB, then one byte a second (for at most
                        TRICKLE_MAX_S, so a forgotten server ends)
  --huge-ping BYTES     GET /v2/ answers 200 with a body of BYTES bytes
  --manifest-digest good|bad|junk|none
                        the manifest's Docker-Content-Digest header: its true
                        digest (default), another one, one that is no digest
                        at all, or none
  --tls DIR             HTTPS, with a throwaway CA (DIR/ca.crt) and a server
                        certificate for the --bind address, made with openssl
                        unless DIR already holds them

Every request is logged to --log as one JSON object a line: {"server",
"method", "path", "auth"} where auth is the Authorization header or null.
The port goes to --port-file once the socket listens.
"""

import argparse
import base64
import gzip
import hashlib
import io
import json
import os
import platform
import re
import ssl
import subprocess
import sys
import tarfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOKEN = "fake-token"
BASIC = "Basic " + base64.b64encode(b"tester:secret").decode()
TRICKLE_MAX_S = 600
MANIFEST_RE = re.compile(r"^/v2/(.+)/manifests/([^/]+)$")
BLOB_RE = re.compile(r"^/v2/(.+)/blobs/(sha256:[0-9a-f]{64})$")
MT_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"


def digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def host_arch():
    machine = platform.machine()
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)


def make_image():
    """(manifest bytes, {digest: blob bytes}), the same on every start."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        data = b"hello from fake_registry\n"
        info = tarfile.TarInfo("hello.txt")
        info.size, info.mode, info.mtime = len(data), 0o644, 1600000000
        tar.addfile(info, io.BytesIO(data))
    tar_bytes = raw.getvalue()
    layer = gzip.compress(tar_bytes, mtime=0)
    config = json.dumps({
        "architecture": host_arch(), "os": "linux",
        "config": {"Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": [digest(tar_bytes)]},
    }, sort_keys=True).encode()
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": MT_MANIFEST,
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                   "size": len(config), "digest": digest(config)},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": len(layer), "digest": digest(layer)}],
    }, indent=2).encode()
    return manifest, {digest(config): config, digest(layer): layer}


def make_certs(tls_dir, ip):
    crt, key, ca = (os.path.join(tls_dir, n) for n in ("server.crt", "server.key", "ca.crt"))
    if all(os.path.exists(p) for p in (crt, key, ca)):
        return crt, key
    os.makedirs(tls_dir, exist_ok=True)

    def openssl(*args):
        subprocess.run(["openssl", *args], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)

    ca_key = os.path.join(tls_dir, "ca.key")
    csr = os.path.join(tls_dir, "server.csr")
    ext = os.path.join(tls_dir, "server.ext")
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", ca_key, "-out", ca, "-days", "30",
            "-subj", "/CN=mocker fake registry CA",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=" + ip)
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:%s\nbasicConstraints=critical,CA:FALSE\n"
                "keyUsage=critical,digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth\n" % ip)
    openssl("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
            "-days", "30", "-extfile", ext, "-out", crt)
    return crt, key


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-registry"

    def log_message(self, fmt, *args):
        pass

    def record(self):
        st = self.server.state
        line = json.dumps({"server": st.name, "method": self.command, "path": self.path,
                           "auth": self.headers.get("Authorization")})
        with st.lock:
            st.log.write(line + "\n")
            st.log.flush()

    def send(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def authorized(self):
        mode = self.server.state.args.auth
        got = self.headers.get("Authorization", "")
        if not mode or not self.path.startswith("/v2/"):
            return True
        if mode == "basic":
            if got == BASIC:
                return True
            challenge = 'Basic realm="fake"'
        else:
            if got == "Bearer " + TOKEN:
                return True
            realm = mode.split(":", 1)[1].replace("SELF", self.server.state.self_url)
            challenge = 'Bearer realm="%s",service="fake-registry"' % realm
        body = b'{"errors":[{"code":"UNAUTHORIZED"}]}'
        self.send(401, body, [("WWW-Authenticate", challenge),
                              ("Content-Type", "application/json")])
        return False

    def trickle(self):
        # Honours "Range: bytes=N-" as registries do, so a client that
        # resumes gets the same trickle again, not a range error.
        size, start = 1000000, 0
        m = re.match(r"bytes=(\d+)-$", self.headers.get("Range", ""))
        if m and int(m.group(1)) < size:
            start = int(m.group(1))
            self.send_response(206)
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, size - 1, size))
        else:
            self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(size - start))
        self.end_headers()
        try:
            for _ in range(TRICKLE_MAX_S):
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(1)
        except OSError:
            pass
        self.close_connection = True

    def huge_ping(self, size):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        chunk = b"{" * 65536
        try:
            while size > 0:
                self.wfile.write(chunk[:size])
                size -= min(size, len(chunk))
        except OSError:
            pass
        self.close_connection = True

    def manifest(self, ref):
        st = self.server.state
        if ref.startswith("sha256:") and ref != digest(st.manifest):
            return self.send(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN"}]}')
        headers = [("Content-Type", MT_MANIFEST)]
        if st.args.manifest_digest == "good":
            headers.append(("Docker-Content-Digest", digest(st.manifest)))
        elif st.args.manifest_digest == "bad":
            headers.append(("Docker-Content-Digest", digest(st.manifest + b"x")))
        elif st.args.manifest_digest == "junk":
            headers.append(("Docker-Content-Digest", "sha256:not-a-digest"))
        return self.send(200, st.manifest, headers)

    def do_GET(self):
        st = self.server.state
        self.record()
        path = self.path.split("?", 1)[0]
        if st.args.trickle and re.search(st.args.trickle, path):
            return self.trickle()
        if st.args.token and path == "/token":
            body = json.dumps({"token": TOKEN, "access_token": TOKEN}).encode()
            return self.send(200, body, [("Content-Type", "application/json")])
        if not self.authorized():
            return None
        if path == "/v2/":
            if st.args.huge_ping:
                return self.huge_ping(st.args.huge_ping)
            return self.send(200, b"{}", [("Content-Type", "application/json")])
        m = MANIFEST_RE.match(path)
        if m and st.args.redirect_manifests:
            return self.send(307, b"", [("Location", st.args.redirect_manifests + path)])
        if m:
            return self.manifest(m.group(2))
        m = BLOB_RE.match(path)
        if m and m.group(2) in st.blobs:
            return self.send(200, st.blobs[m.group(2)],
                             [("Content-Type", "application/octet-stream")])
        return self.send(404, b'{"errors":[{"code":"NOT_FOUND"}]}')

    do_HEAD = do_GET


class State:
    def __init__(self, args):
        self.args = args
        self.name = args.name
        self.lock = threading.Lock()
        self.log = open(args.log, "a", buffering=1)
        self.manifest, self.blobs = make_image()
        self.self_url = ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bind", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--name", default="registry")
    ap.add_argument("--auth")
    ap.add_argument("--token", action="store_true")
    ap.add_argument("--redirect-manifests")
    ap.add_argument("--trickle")
    ap.add_argument("--huge-ping", type=int, default=0)
    ap.add_argument("--manifest-digest", choices=("good", "bad", "junk", "none"), default="good")
    ap.add_argument("--tls")
    args = ap.parse_args()
    if args.auth and args.auth != "basic" and not args.auth.startswith("bearer:"):
        sys.exit("fake_registry.py: --auth is basic or bearer:REALM")

    server = ThreadingHTTPServer((args.bind, 0), Handler)
    server.daemon_threads = True
    server.state = State(args)
    scheme = "http"
    if args.tls:
        crt, key = make_certs(args.tls, args.bind)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(crt, key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    port = server.server_address[1]
    server.state.self_url = "%s://%s:%d" % (scheme, args.bind, port)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.rename(tmp, args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
