#!/usr/bin/env bash
# Build the ingredients of the test images (layers + image config) for
# push.sh, from the busybox rootfs tar build/busybox-image.tar.
#
#   make-images.sh OUTDIR
#
# OUTDIR/busybox/      one gzip layer (the busybox rootfs), amd64 config
# OUTDIR/layered/      busybox base (gzip), special files (zstd, or gzip
#                      without zstd), whiteouts (plain tar)
# OUTDIR/arm64/        the busybox layer under a config claiming arm64/v8
# OUTDIR/attestation/  a BuildKit-like attestation (unknown/unknown config,
#                      one in-toto layer) for index tests
#
# Each directory holds config.json, its layer files and `layers`: one line
# per layer, in order: FILE DOCKER_MEDIATYPE OCI_MEDIATYPE (a zstd layer has
# only the OCI type, so it appears in both columns). Output is reproducible:
# fixed owners, mtimes and no gzip timestamps, so digests are stable.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
readonly here root
readonly MT_GZIP_DOCKER=application/vnd.docker.image.rootfs.diff.tar.gzip
readonly MT_GZIP_OCI=application/vnd.oci.image.layer.v1.tar+gzip
readonly MT_TAR_DOCKER=application/vnd.docker.image.rootfs.diff.tar
readonly MT_TAR_OCI=application/vnd.oci.image.layer.v1.tar
readonly MT_ZSTD_OCI=application/vnd.oci.image.layer.v1.tar+zstd
readonly MT_INTOTO=application/vnd.in-toto+json

die() {
  echo "make-images.sh: $*" >&2
  exit 1
}

[[ $# -eq 1 ]] || {
  echo "usage: make-images.sh OUTDIR" >&2
  exit 2
}
mkdir -p "$1"
out=$(cd "$1" && pwd)
work=$(mktemp -d "$out/.work.XXXXXX")
trap 'rm -rf "$work"' EXIT

busybox_tar=${BUSYBOX_IMAGE_TAR:-$root/build/busybox-image.tar}
if [[ ! -s $busybox_tar ]]; then
  mkdir -p "$(dirname "$busybox_tar")"
  (cd "$root" && sh rootfs/mkimage.sh "$busybox_tar") || die "rootfs/mkimage.sh failed"
fi

sha256() {
  echo "sha256:$(sha256sum "$1" | cut -d' ' -f1)"
}

# write_config FILE ARCH VARIANT DIFF_ID... : a Docker/OCI image config.
write_config() {
  python3 - "$@" <<'EOF'
import json, sys
path, arch, variant, *diff_ids = sys.argv[1:]
created = "2024-01-01T00:00:00Z"
config = {"architecture": arch, "os": "linux"}
if variant:
    config["variant"] = variant
config.update({
    "created": created,
    "config": {
        "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
        "Cmd": ["/bin/sh"],
    },
    "rootfs": {"type": "layers", "diff_ids": diff_ids},
    "history": [{"created": created, "created_by": "mocker tests: layer %d" % (i + 1)}
                for i in range(len(diff_ids))],
})
with open(path, "w") as f:
    json.dump(config, f, indent=2)
    f.write("\n")
EOF
}

gzip_layer() {
  gzip -n -9 -c "$1" >"$2"
}

# The busybox layer is shared by three images: compress it once.
busybox_layer() {
  [[ -s $work/busybox.tar.gz ]] || gzip_layer "$busybox_tar" "$work/busybox.tar.gz"
  cp "$work/busybox.tar.gz" "$1"
}

# Layer 2: every special file type, written with Python's tarfile so the
# result does not depend on what the build filesystem supports (xattrs,
# device nodes, foreign owners). PAX format, numeric owners only.
make_special_layer() {
  python3 - "$1" <<'EOF'
import io, sys, tarfile

out = sys.argv[1]
T_DIR, T_FILE = 1600000000, 1700000000  # a dir older than its children
long_name = "data/long/" + "n" * 60 + "/" + "x" * 120 + ".txt"

def entry(name, kind=tarfile.REGTYPE, mode=0o644, data=b"", mtime=T_FILE, uid=0, gid=0, **kw):
    ti = tarfile.TarInfo(name)
    ti.type, ti.mode, ti.mtime, ti.uid, ti.gid = kind, mode, mtime, uid, gid
    ti.uname = ti.gname = ""
    for k, v in kw.items():
        setattr(ti, k, v)
    ti.size = len(data) if kind == tarfile.REGTYPE else 0
    return ti, (io.BytesIO(data) if kind == tarfile.REGTYPE else None)

entries = [
    entry("data", tarfile.DIRTYPE, 0o755, mtime=T_DIR),
    entry("data/a.txt", data=b"a\n"),
    entry("data/dir", tarfile.DIRTYPE, 0o755, mtime=T_DIR),
    entry("data/dir/b.txt", data=b"b\n"),
    entry("data/link.txt", tarfile.SYMTYPE, 0o777, linkname="a.txt"),
    entry("data/abs-link", tarfile.SYMTYPE, 0o777, linkname="/bin/busybox"),
    entry("data/hard.txt", tarfile.LNKTYPE, 0o644, linkname="data/a.txt"),
    entry("data/fifo", tarfile.FIFOTYPE, 0o644),
    entry("data/null", tarfile.CHRTYPE, 0o666, devmajor=1, devminor=3),
    entry("data/suid", data=b"#!/bin/sh\necho suid\n", mode=0o4755),
    entry("data/sgid-dir", tarfile.DIRTYPE, 0o2755),
    entry("data/sticky-dir", tarfile.DIRTYPE, 0o1777),
    entry("data/owned.txt", data=b"owned by 1000:1000\n", mode=0o600, uid=1000, gid=1000),
    entry("data/xattr.txt", data=b"has user.test=1\n", pax_headers={"SCHILY.xattr.user.test": "1"}),
    entry("data/long", tarfile.DIRTYPE, 0o755),
    entry("data/long/" + "n" * 60, tarfile.DIRTYPE, 0o755),
    entry(long_name, data=b"long name\n"),
]
with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tar:
    for ti, fobj in entries:
        tar.addfile(ti, fobj)
EOF
}

# Layer 3: whiteouts. .wh.a.txt deletes data/a.txt; data/dir becomes
# opaque, and its new file c.txt comes BEFORE the .wh..wh..opq marker, so an
# extractor that applies the marker when it meets it would delete c.txt.
make_whiteout_layer() {
  python3 - "$1" <<'EOF'
import io, sys, tarfile

def entry(name, kind=tarfile.REGTYPE, mode=0o644, data=b""):
    ti = tarfile.TarInfo(name)
    ti.type, ti.mode, ti.mtime, ti.uid, ti.gid, ti.uname, ti.gname = kind, mode, 1700000000, 0, 0, "", ""
    ti.size = len(data) if kind == tarfile.REGTYPE else 0
    return ti, (io.BytesIO(data) if kind == tarfile.REGTYPE else None)

with tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT) as tar:
    for ti, fobj in [
        entry("data", tarfile.DIRTYPE, 0o755),
        entry("data/.wh.a.txt"),
        entry("data/dir", tarfile.DIRTYPE, 0o755),
        entry("data/dir/c.txt", data=b"c\n"),
        entry("data/dir/.wh..wh..opq"),
    ]:
        tar.addfile(ti, fobj)
EOF
}

build_busybox() {
  local dir=$out/busybox
  mkdir -p "$dir"
  busybox_layer "$dir/layer.tar.gz"
  write_config "$dir/config.json" amd64 "" "$(sha256 "$busybox_tar")"
  echo "layer.tar.gz $MT_GZIP_DOCKER $MT_GZIP_OCI" >"$dir/layers"
}

build_layered() {
  local dir=$out/layered l2 l2_line
  mkdir -p "$dir"
  rm -f "$dir"/layer2.tar.*
  busybox_layer "$dir/layer1.tar.gz"
  make_special_layer "$work/layer2.tar"
  if command -v zstd >/dev/null; then
    l2=layer2.tar.zst
    zstd -q -19 --no-progress -c "$work/layer2.tar" >"$dir/$l2"
    l2_line="$l2 $MT_ZSTD_OCI $MT_ZSTD_OCI"
  else
    l2=layer2.tar.gz
    gzip_layer "$work/layer2.tar" "$dir/$l2"
    l2_line="$l2 $MT_GZIP_DOCKER $MT_GZIP_OCI"
  fi
  make_whiteout_layer "$dir/layer3.tar"
  write_config "$dir/config.json" amd64 "" "$(sha256 "$busybox_tar")" \
    "$(sha256 "$work/layer2.tar")" "$(sha256 "$dir/layer3.tar")"
  printf '%s\n' "layer1.tar.gz $MT_GZIP_DOCKER $MT_GZIP_OCI" "$l2_line" \
    "layer3.tar $MT_TAR_DOCKER $MT_TAR_OCI" >"$dir/layers"
}

build_arm64() {
  local dir=$out/arm64
  mkdir -p "$dir"
  busybox_layer "$dir/layer.tar.gz"
  write_config "$dir/config.json" arm64 v8 "$(sha256 "$busybox_tar")"
  echo "layer.tar.gz $MT_GZIP_DOCKER $MT_GZIP_OCI" >"$dir/layers"
}

# The shape of BuildKit's provenance attestation: an OCI manifest whose
# config says unknown/unknown and whose layer is an in-toto statement.
build_attestation() {
  local dir=$out/attestation
  mkdir -p "$dir"
  printf '%s\n' '{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://slsa.dev/provenance/v0.2","subject":[],"predicate":{}}' \
    >"$dir/intoto.json"
  python3 - "$dir/config.json" "$(sha256 "$dir/intoto.json")" <<'EOF'
import json, sys
with open(sys.argv[1], "w") as f:
    json.dump({"architecture": "unknown", "os": "unknown", "config": {},
               "rootfs": {"type": "layers", "diff_ids": [sys.argv[2]]}}, f)
    f.write("\n")
EOF
  echo "intoto.json $MT_INTOTO $MT_INTOTO" >"$dir/layers"
}

build_busybox
build_layered
build_arm64
build_attestation
