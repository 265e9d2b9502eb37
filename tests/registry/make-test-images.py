#!/usr/bin/env python3
"""More image ingredients for the pull tests, next to make-images.sh's.

    make-test-images.py extra OUTDIR IMAGES_DIR
    make-test-images.py hostile OUTDIR VICTIM_DIR TOKEN

IMAGES_DIR is make-images.sh's output (its busybox layer is reused). Each
image is a directory in the same shape as make-images.sh's: config.json, the
layer files and `layers` (FILE DOCKER_MEDIATYPE OCI_MEDIATYPE per line).

extra:
  osrelease/     busybox + a layer with /etc/os-release (the mirror test
                 pushes it as library/ubuntu:latest)
  rmi/           busybox + a small layer of its own
  big/           busybox + 30 MB of random data (plain tar), for killing a
                 pull halfway
  bomb/          gzip layer that inflates to 10 MB of zeros
  corrupt-tar/   one small plain-tar layer (the test overwrites its blob)
  corrupt-gz/    one small gzip layer (the test overwrites its blob)
  truncated/     one small gzip layer (the test truncates its blob)
  baddiffid/     a valid layer whose config lists a wrong diff_id
  badsize/       a valid image plus manifest.json, a Docker schema2 manifest
                 that claims the config is one byte longer than it is
                 (push the blobs, then the manifest with push.sh --manifest)

hostile (every name that could land outside carries TOKEN; VICTIM_DIR is an
absolute directory outside the state root that the layers aim at, holding
secret.txt):
  hostile-dotdot/       ../ and deep ../../ entries
  hostile-abs/          absolute entry names
  hostile-symlink-abs/  evil -> / then evil/tmp/... and evil/VICTIM/...
  hostile-symlink-rel/  evil -> ../../../.. then entries through it
  hostile-symlink-dir/  vdir -> VICTIM, then files through it
  hostile-symlink-file/ vfile -> VICTIM/secret.txt, then a file `vfile`
  hostile-symlink-chmod/ vdir -> VICTIM, then a directory `vdir` mode 0777
  hostile-hardlink-{rel,abs,symlink}/  a hardlink to VICTIM/secret.txt:
                        relative, absolute, through a symlink
  hostile-whiteout-dotdot/   whiteouts of `..`
  hostile-whiteout-symlink/  wl -> VICTIM, then wl/.wh.secret.txt
  hostile-opaque-symlink/    wl -> VICTIM, then wl/.wh..wh..opq
  hostile-across/       layer 1: link -> VICTIM; layer 2: link/file
"""

import gzip
import hashlib
import io
import json
import os
import shutil
import sys
import tarfile

MT = {
    "gzip": ("application/vnd.docker.image.rootfs.diff.tar.gzip",
             "application/vnd.oci.image.layer.v1.tar+gzip"),
    "tar": ("application/vnd.docker.image.rootfs.diff.tar",
            "application/vnd.oci.image.layer.v1.tar"),
}
MT_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MT_DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
MTIME = 1700000000


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def entry(name, kind=tarfile.REGTYPE, mode=0o644, data=b"", **kw):
    ti = tarfile.TarInfo(name)
    ti.type, ti.mode, ti.mtime, ti.uid, ti.gid = kind, mode, MTIME, 0, 0
    ti.uname = ti.gname = ""
    for k, v in kw.items():
        setattr(ti, k, v)
    ti.size = len(data) if kind == tarfile.REGTYPE else 0
    return ti, (io.BytesIO(data) if kind == tarfile.REGTYPE else None)


def tar_bytes(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for ti, fobj in entries:
            tar.addfile(ti, fobj)
    return buf.getvalue()


def symlink(name, target):
    return entry(name, tarfile.SYMTYPE, 0o777, linkname=target)


def hardlink(name, target):
    return entry(name, tarfile.LNKTYPE, 0o644, linkname=target)


def directory(name, mode=0o755):
    return entry(name, tarfile.DIRTYPE, mode)


def write_config(path, diff_ids):
    created = "2024-01-01T00:00:00Z"
    config = {
        "architecture": "amd64", "os": "linux", "created": created,
        "config": {
            "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            "Cmd": ["/bin/sh"],
        },
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created": created, "created_by": "mocker tests: layer %d" % (i + 1)}
                    for i in range(len(diff_ids))],
    }
    with open(path, "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")


class Image:
    """Collects layers for one image directory."""

    def __init__(self, out, name):
        self.dir = os.path.join(out, name)
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        self.lines, self.diff_ids = [], []

    def add_file(self, src, diff_id, kind="gzip"):
        name = "layer%d%s" % (len(self.lines) + 1, ".tar.gz" if kind == "gzip" else ".tar")
        shutil.copyfile(src, os.path.join(self.dir, name))
        self.lines.append("%s %s %s" % (name, *MT[kind]))
        self.diff_ids.append(diff_id)

    def add_tar(self, tar, kind="gzip"):
        name = "layer%d%s" % (len(self.lines) + 1, ".tar.gz" if kind == "gzip" else ".tar")
        data = gzip.compress(tar, 9, mtime=0) if kind == "gzip" else tar
        with open(os.path.join(self.dir, name), "wb") as f:
            f.write(data)
        self.lines.append("%s %s %s" % (name, *MT[kind]))
        self.diff_ids.append(sha256(tar))
        self.last = name
        return self

    def add_entries(self, entries, kind="gzip"):
        return self.add_tar(tar_bytes(entries), kind)

    def finish(self, diff_ids=None):
        write_config(os.path.join(self.dir, "config.json"), diff_ids or self.diff_ids)
        with open(os.path.join(self.dir, "layers"), "w") as f:
            f.write("\n".join(self.lines) + "\n")
        return self


def busybox_base(images):
    src = os.path.join(images, "busybox")
    with open(os.path.join(src, "config.json")) as f:
        diff_id = json.load(f)["rootfs"]["diff_ids"][0]
    return os.path.join(src, "layer.tar.gz"), diff_id


def small(name, text):
    return [directory("data"), entry("data/" + name, data=text.encode())]


def extra(out, images):
    bb, bb_diff = busybox_base(images)

    img = Image(out, "osrelease")
    img.add_file(bb, bb_diff)
    img.add_entries([directory("etc"), entry("etc/os-release", data=(
        'PRETTY_NAME="Ubuntu 24.04 LTS (mocker test mirror)"\n'
        'NAME="Ubuntu"\nVERSION_ID="24.04"\nID=ubuntu\n'
        'MOCKER_TEST_MIRROR=yes\n').encode())])
    img.finish()

    img = Image(out, "rmi")
    img.add_file(bb, bb_diff)
    img.add_entries(small("rmi.txt", "only in the rmi test image\n"))
    img.finish()

    img = Image(out, "big")
    img.add_file(bb, bb_diff)
    img.add_entries([directory("data"),
                     entry("data/random.bin", data=os.urandom(30 << 20))], "tar")
    img.finish()

    img = Image(out, "bomb")
    img.add_entries([directory("data"), entry("data/zeros", data=bytes(10 << 20))])
    img.finish()

    img = Image(out, "corrupt-tar")
    img.add_entries(small("corrupt-tar.txt", "x" * 4096 + "\n"), "tar")
    img.finish()

    img = Image(out, "corrupt-gz")
    img.add_entries(small("corrupt-gz.txt", "".join("line %d\n" % i for i in range(4000))))
    img.finish()

    img = Image(out, "truncated")
    img.add_entries(small("truncated.txt", "".join("row %d\n" % i for i in range(4000))))
    img.finish()

    img = Image(out, "baddiffid")
    img.add_entries(small("baddiffid.txt", "the config lies about me\n"))
    img.finish([sha256(b"not the layer")])

    img = Image(out, "badsize")
    img.add_entries(small("badsize.txt", "my config's size is wrong\n")).finish()
    name = img.last
    with open(os.path.join(img.dir, "config.json"), "rb") as f:
        config = f.read()
    with open(os.path.join(img.dir, name), "rb") as f:
        layer = f.read()
    manifest = {
        "schemaVersion": 2, "mediaType": MT_DOCKER_MANIFEST,
        "config": {"mediaType": MT_DOCKER_CONFIG, "digest": sha256(config),
                   "size": len(config) + 1},
        "layers": [{"mediaType": MT["gzip"][0], "digest": sha256(layer),
                    "size": len(layer)}],
    }
    with open(os.path.join(img.dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=3)
        f.write("\n")


def hostile(out, victim, token):
    victim = os.path.abspath(victim)
    rel_victim = victim.lstrip("/")
    up = "../" * 24

    Image(out, "hostile-dotdot").add_entries([
        entry("../escape-" + token, data=b"escaped\n"),
        entry(up + "tmp/escape-" + token, data=b"escaped\n"),
        entry(up + rel_victim + "/escape-" + token, data=b"escaped\n"),
    ]).finish()

    Image(out, "hostile-abs").add_entries([
        entry("/tmp/abs-" + token, data=b"absolute\n"),
        entry(victim + "/abs-" + token, data=b"absolute\n"),
    ]).finish()

    Image(out, "hostile-symlink-abs").add_entries([
        symlink("evil", "/"),
        entry("evil/tmp/pwned-" + token, data=b"pwned\n"),
        entry("evil/" + rel_victim + "/pwned-" + token, data=b"pwned\n"),
    ]).finish()

    Image(out, "hostile-symlink-rel").add_entries([
        directory("sub"),
        symlink("sub/evil", up.rstrip("/")),
        entry("sub/evil/tmp/pwned-rel-" + token, data=b"pwned\n"),
        entry("sub/evil/" + rel_victim + "/pwned-rel-" + token, data=b"pwned\n"),
    ]).finish()

    Image(out, "hostile-symlink-dir").add_entries([
        symlink("vdir", victim),
        entry("vdir/pwned-dir-" + token, data=b"pwned\n"),
        entry("vdir/secret.txt", data=b"overwritten\n"),
    ]).finish()

    Image(out, "hostile-symlink-file").add_entries([
        symlink("vfile", victim + "/secret.txt"),
        entry("vfile", data=b"overwritten through a symlink\n"),
    ]).finish()

    Image(out, "hostile-symlink-chmod").add_entries([
        symlink("vdir", victim),
        directory("vdir", 0o777),
    ]).finish()

    Image(out, "hostile-hardlink-rel").add_entries([
        hardlink("hl", up + rel_victim + "/secret.txt"),
    ]).finish()

    Image(out, "hostile-hardlink-abs").add_entries([
        hardlink("hl", victim + "/secret.txt"),
    ]).finish()

    Image(out, "hostile-hardlink-symlink").add_entries([
        symlink("sl", victim),
        hardlink("hl", "sl/secret.txt"),
    ]).finish()

    Image(out, "hostile-whiteout-dotdot").add_entries([
        directory("sub"),
        entry("sub/.wh..."),
        entry(".wh..."),
    ]).finish()

    Image(out, "hostile-whiteout-symlink").add_entries([
        symlink("wl", victim),
        entry("wl/.wh.secret.txt"),
    ]).finish()

    Image(out, "hostile-opaque-symlink").add_entries([
        symlink("wl", victim),
        entry("wl/.wh..wh..opq"),
    ]).finish()

    img = Image(out, "hostile-across")
    img.add_entries([symlink("link", victim)])
    img.add_entries([entry("link/pwned-across-" + token, data=b"pwned\n")])
    img.finish()


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "extra":
        extra(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 5 and sys.argv[1] == "hostile":
        hostile(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
