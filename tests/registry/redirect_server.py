#!/usr/bin/env python3
"""A misbehaving front for a test registry, for the pull tests.

It listens on 127.0.0.1, forwards GET and HEAD to an upstream registry
(plain HTTP: the plain, basic or token modes of registry.sh) and can be told
to behave the way real registries and CDNs sometimes do:

  --redirect 307|302   Blob GETs are fetched from upstream with the client's
                       own headers (so a missing or bad token still gets the
                       registry's 401 challenge), kept in memory, and answered
                       with a redirect to a second listener, the "blob
                       storage", at http://localhost:BPORT/blobs/DIGEST: a
                       different host name than 127.0.0.1, as S3 or a CDN
                       would be. The blob listener records whether a request
                       carried an Authorization header.
  --fail STATUS:COUNT:REGEX
                       The first COUNT requests whose path matches REGEX are
                       answered with STATUS (repeatable). 429 gets Docker
                       Hub's TOOMANYREQUESTS body; other statuses a generic
                       registry error.
  --tamper-manifest    Manifest bodies get a trailing newline added: still
                       valid JSON, but no longer matching their digest, while
                       Docker-Content-Digest still names the original.
  --stall-blob-over N  The first blob GET larger than N bytes sends its
                       headers and half the body, then stalls until the
                       client goes away (for killing a pull mid-download).
  --cut-blob-over N    The first blob GET larger than N bytes sends its
                       headers and half the body, then drops the connection
                       (for testing resume with Range).

Every request is logged to --log as one JSON object per line:
{"server": "front"|"blob", "method", "path", "auth": bool, "range", "status",
 "note"}. The ports are written to --port-file and --blob-port-file once
the sockets listen.
"""

import argparse
import http.client
import json
import os
import re
import select
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

BLOB_RE = re.compile(r"^/v2/(.+)/blobs/(sha256:[0-9a-f]{64})$")
MANIFEST_RE = re.compile(r"^/v2/(.+)/manifests/([^/]+)$")
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length",
              "proxy-authenticate", "proxy-authorization", "te", "trailer",
              "upgrade"}
FORWARDED = ("Accept", "Authorization", "Range", "User-Agent")
TOOMANY = {"errors": [{"code": "TOOMANYREQUESTS",
                       "message": "You have reached your pull rate limit. You may "
                                  "increase the limit by authenticating and "
                                  "upgrading: https://www.docker.com/increase-rate-limit"}]}
STALL_MAX_S = 120


class State:
    def __init__(self, args):
        self.args = args
        up = urlsplit(args.upstream)
        if up.scheme != "http" or not up.hostname:
            sys.exit("redirect_server.py: --upstream must be http://HOST:PORT")
        self.up_host, self.up_port = up.hostname, up.port or 80
        self.lock = threading.Lock()
        self.rules = []
        for spec in args.fail:
            status, count, regex = spec.split(":", 2)
            self.rules.append([int(status), int(count), re.compile(regex)])
        self.blobs = {}
        self.stall_done = False
        self.cut_done = False
        self.blob_port = 0
        self.log = open(args.log, "a", buffering=1)

    def record(self, **entry):
        with self.lock:
            self.log.write(json.dumps(entry) + "\n")

    def take_failure(self, path):
        with self.lock:
            for rule in self.rules:
                if rule[1] > 0 and rule[2].search(path):
                    rule[1] -= 1
                    return rule[0]
        return 0

    def take_once(self, what):
        with self.lock:
            if getattr(self, what):
                return False
            setattr(self, what, True)
            return True


def write_port_file(path, port):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.rename(tmp, path)


class Front(BaseHTTPRequestHandler):
    server_version = "mocker-test-front/1"
    state = None

    def log_message(self, fmt, *args):
        pass

    def note(self, status, note=""):
        self.state.record(server="front", method=self.command, path=self.path,
                          auth="Authorization" in self.headers,
                          range=self.headers.get("Range"), status=status, note=note)

    def send_body(self, status, headers, body):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def upstream(self):
        conn = http.client.HTTPConnection(self.state.up_host, self.state.up_port, timeout=60)
        headers = {k: self.headers[k] for k in FORWARDED if k in self.headers}
        conn.request(self.command, self.path, headers=headers)
        resp = conn.getresponse()
        body = resp.read() if self.command != "HEAD" else b""
        kept = [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP_BY_HOP]
        length = resp.getheader("Content-Length")
        conn.close()
        return resp.status, kept, body, length

    def fail(self, status):
        if status == 429:
            body = json.dumps(TOOMANY).encode()
        else:
            body = json.dumps({"errors": [{"code": "UNAVAILABLE",
                                           "message": "service unavailable (test)"}]}).encode()
        self.note(status, "injected")
        self.send_body(status, [("Content-Type", "application/json")], body)

    def partial(self, status, headers, body, stall):
        """Full Content-Length, half the body, then stall or hang up."""
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2])
        self.wfile.flush()
        self.note(status, "stalled" if stall else "cut")
        if stall:
            deadline = time.monotonic() + STALL_MAX_S
            sock = self.connection
            while time.monotonic() < deadline:
                ready, _, _ = select.select([sock], [], [], 0.2)
                if ready:
                    try:
                        if not sock.recv(4096):
                            break
                    except OSError:
                        break
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def handle_any(self):
        injected = self.state.take_failure(self.path)
        if injected:
            self.fail(injected)
            return
        args = self.state.args
        status, headers, body, length = self.upstream()
        blob = BLOB_RE.match(self.path)
        if blob and self.command == "GET" and status == 200:
            if args.redirect:
                digest = blob.group(2)
                with self.state.lock:
                    self.state.blobs[digest] = body
                where = "http://localhost:%d/blobs/%s" % (self.state.blob_port, digest)
                self.note(args.redirect, "redirect " + where)
                self.send_body(args.redirect, [("Location", where)], b"")
                return
            big = len(body)
            if args.stall_blob_over and big > args.stall_blob_over and \
                    self.state.take_once("stall_done"):
                self.partial(status, headers, body, True)
                return
            if args.cut_blob_over and big > args.cut_blob_over and \
                    self.state.take_once("cut_done"):
                self.partial(status, headers, body, False)
                return
        if MANIFEST_RE.match(self.path) and status == 200 and args.tamper_manifest \
                and self.command == "GET":
            self.note(status, "tampered")
            self.send_body(status, headers, body + b"\n")
            return
        self.note(status)
        if self.command == "HEAD" and length is not None:
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", length)
            self.end_headers()
            return
        self.send_body(status, headers, body)

    def do_GET(self):
        self.handle_any()

    def do_HEAD(self):
        self.handle_any()


class BlobStore(BaseHTTPRequestHandler):
    server_version = "mocker-test-blobstore/1"
    state = None

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        digest = self.path.rsplit("/", 1)[-1]
        with self.state.lock:
            body = self.state.blobs.get(digest)
        status = 200 if body is not None and self.path.startswith("/blobs/") else 404
        self.state.record(server="blob", method="GET", path=self.path,
                          auth="Authorization" in self.headers,
                          range=self.headers.get("Range"), status=status,
                          host=self.headers.get("Host"), note="")
        body = body if status == 200 else b"no such blob\n"
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--blob-port-file")
    ap.add_argument("--log", required=True)
    ap.add_argument("--redirect", type=int, choices=(301, 302, 303, 307, 308))
    ap.add_argument("--fail", action="append", default=[])
    ap.add_argument("--tamper-manifest", action="store_true")
    ap.add_argument("--stall-blob-over", type=int, default=0)
    ap.add_argument("--cut-blob-over", type=int, default=0)
    args = ap.parse_args()

    state = State(args)
    Front.state = state
    BlobStore.state = state
    ThreadingHTTPServer.daemon_threads = True
    if args.redirect:
        blobs = ThreadingHTTPServer(("127.0.0.1", 0), BlobStore)
        state.blob_port = blobs.server_address[1]
        threading.Thread(target=blobs.serve_forever, daemon=True).start()
        if args.blob_port_file:
            write_port_file(args.blob_port_file, state.blob_port)
    front = ThreadingHTTPServer(("127.0.0.1", 0), Front)
    write_port_file(args.port_file, front.server_address[1])
    try:
        front.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
