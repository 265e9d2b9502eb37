#!/usr/bin/env bash
# Compare the rootfs mocker unpacks from an image with umoci's.
#
#   compare-unpack.sh MOCKER ADDR REF_PATH      (as root)
#
# e.g. compare-unpack.sh build/mocker 127.0.0.1:5000 t/layered:v1
#
# 1. `MOCKER --root TMP/state pull ADDR/REF_PATH` into a fresh state root.
# 2. The merged view of mocker's layers: in a private mount namespace, a
#    read-only overlay whose lowerdirs are the image's layer diff dirs (from
#    images/sha256/ID/layers, top first, above an empty dir so a one-layer
#    image mounts too). Each lowerdir is given as a short symlink, so the
#    options fit in a page for up to a few hundred layers.
# 3. The reference: `skopeo copy docker://ADDR/REF_PATH oci:LAYOUT:tag`, then
#    `umoci unpack` (as root, so owners are real). skopeo refuses Docker
#    schema2 manifests with an OCI zstd layer (make-images.sh's layered
#    image has one); when skopeo fails, the OCI layout is written here
#    instead, from the same blobs (digests checked), with the manifest's
#    media types renamed to their OCI equivalents. umoci 0.4 reads no zstd,
#    so zstd layers are recompressed to gzip by skopeo (or stored as plain
#    tar by the fallback): the tar stream umoci reads is the same.
# 4. Both trees are walked (walk below) and the listings diffed. The diff
#    goes to stdout; exit 1 if there is any difference, 0 if none, 2 if the
#    comparison could not be made.
#
# One line per path, sorted by path (bytes): the path relative to the root
# ("." for the root), the type, then mode (07777), uid, gid; for regular
# files size and sha256; for symlinks the target; for devices major,minor;
# mtime in ns for everything but the root (umoci restores directory mtimes
# too; the root's attributes in an overlay come from the top layer's diff
# dir, which a layer without a "./" entry does not describe); every xattr
# except trusted.overlay.*, user.overlay.* (overlayfs' own) and
# user.rootlesscontainers (umoci's, rootless only); for non-directories
# that share an inode with another path, "links=" the smallest such path.
# nlink itself is not compared: a whiteout can drop one of the names.
#
# Everything (state root, layout, bundle, mountpoint) lives in one dir under
# $TMPDIR (default /tmp), removed on every exit path. The mount exists only
# in the private namespace, so it goes away with it even on SIGKILL.
set -euo pipefail

readonly PY=/usr/bin/python3

say() { printf 'compare-unpack.sh: %s\n' "$*" >&2; }
die() {
  say "$*"
  exit 2
}

[[ $# -eq 3 ]] || {
  echo "usage: compare-unpack.sh MOCKER ADDR REF_PATH" >&2
  exit 2
}
mocker=$(readlink -f "$1") || die "no $1"
addr=$2
ref_path=$3
[[ -x $mocker ]] || die "$1 is not executable"
[[ $(id -u) -eq 0 ]] || die "must run as root (owners, device nodes, overlay)"
for tool in skopeo umoci unshare mount "$PY"; do
  command -v "$tool" >/dev/null || die "$tool is missing (apt-get install skopeo umoci)"
done

work=
# shellcheck disable=SC2317 # called by the trap
cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  if [[ -n $work && -d $work ]]; then
    # Nothing should be mounted outside the namespace; be sure anyway
    # before rm -rf walks the tree.
    awk -v d="$work" 'index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo |
      sort -r | while read -r m; do umount "$m" 2>/dev/null || umount -l "$m"; done
    rm -rf --one-file-system "$work" || rc=2
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

work=$(mktemp -d "${TMPDIR:-/tmp}/compare-unpack.XXXXXX")
work=$(readlink -f "$work")
mkdir "$work/state" "$work/mnt" "$work/empty" "$work/l"

# ---- the walker and the fallback fetcher ------------------------------------

cat >"$work/walk.py" <<'EOF'
import hashlib, os, stat, sys

root = os.fsencode(sys.argv[1])
SKIP_PREFIX = (b"trusted.overlay.", b"user.overlay.")
SKIP = {b"user.rootlesscontainers"}

def esc(b):
    # Printable ASCII as is; anything else (and the separators) escaped.
    out = []
    for c in b:
        if c in (0x5c, 0x09, 0x20, 0x3d) or c < 0x21 or c > 0x7e:
            out.append("\\x%02x" % c)
        else:
            out.append(chr(c))
    return "".join(out)

def kind(m):
    for test, name in ((stat.S_ISREG, "file"), (stat.S_ISDIR, "dir"),
                       (stat.S_ISLNK, "symlink"), (stat.S_ISCHR, "char"),
                       (stat.S_ISBLK, "block"), (stat.S_ISFIFO, "fifo"),
                       (stat.S_ISSOCK, "socket")):
        if test(m):
            return name
    return "unknown"

entries = []  # (rel, st)
def walk(rel):
    path = os.path.join(root, rel) if rel else root
    st = os.lstat(path)
    entries.append((rel or b".", st))
    if stat.S_ISDIR(st.st_mode):
        for name in os.listdir(path):
            walk(os.path.join(rel, name) if rel else name)
walk(b"")

inodes = {}
for rel, st in entries:
    if not stat.S_ISDIR(st.st_mode):
        inodes.setdefault((st.st_dev, st.st_ino), []).append(rel)

for rel, st in sorted(entries):
    path = os.path.join(root, rel)
    m = st.st_mode
    f = [esc(rel), kind(m), "mode=%04o" % stat.S_IMODE(m),
         "uid=%d" % st.st_uid, "gid=%d" % st.st_gid]
    if stat.S_ISREG(m):
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        f += ["size=%d" % st.st_size, "sha256=" + h.hexdigest()]
    elif stat.S_ISLNK(m):
        f.append("target=" + esc(os.readlink(path)))
    elif stat.S_ISCHR(m) or stat.S_ISBLK(m):
        f.append("rdev=%d,%d" % (os.major(st.st_rdev), os.minor(st.st_rdev)))
    if rel != b".":
        f.append("mtime=%d" % st.st_mtime_ns)
    for name in sorted(os.fsencode(x) for x in os.listxattr(path, follow_symlinks=False)):
        if name in SKIP or name.startswith(SKIP_PREFIX):
            continue
        f.append("xattr:%s=%s" % (esc(name), os.getxattr(path, name, follow_symlinks=False).hex()))
    if not stat.S_ISDIR(m):
        group = inodes[(st.st_dev, st.st_ino)]
        if len(group) > 1:
            f.append("links=" + esc(min(group)))
    print(" ".join(f))
EOF

# fetch.py ADDR REF_PATH LAYOUT TAG: the image (the host's platform from a
# list) as an OCI layout, over plain HTTP, without skopeo.
cat >"$work/fetch.py" <<'EOF'
import hashlib, json, os, platform, subprocess, sys, urllib.request

addr, ref, layout, tag = sys.argv[1:]
if "@" in ref:
    repo, want = ref.split("@", 1)
elif ":" in ref.rsplit("/", 1)[-1]:
    repo, want = ref.rsplit(":", 1)
else:
    repo, want = ref, "latest"
base = "http://%s/v2/%s" % (addr, repo)
ACCEPT = ", ".join([
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json"])
RENAME = {
    "application/vnd.docker.distribution.manifest.v2+json": "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.container.image.v1+json": "application/vnd.oci.image.config.v1+json",
    "application/vnd.docker.image.rootfs.diff.tar.gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
    "application/vnd.docker.image.rootfs.diff.tar": "application/vnd.oci.image.layer.v1.tar",
}
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

def get(url, accept=None):
    req = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    with opener.open(req, timeout=120) as r:
        return r.read()

def blob_path(digest):
    algo, hexd = digest.split(":", 1)
    return os.path.join(layout, "blobs", algo, hexd)

def put_blob(data):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    os.makedirs(os.path.dirname(blob_path(digest)), exist_ok=True)
    with open(blob_path(digest), "wb") as f:
        f.write(data)
    return digest

def fetch_blob(desc):
    digest = desc["digest"]
    h = hashlib.sha256()
    os.makedirs(os.path.dirname(blob_path(digest)), exist_ok=True)
    req = urllib.request.Request(base + "/blobs/" + digest)
    with opener.open(req, timeout=120) as r, open(blob_path(digest), "wb") as f:
        for chunk in iter(lambda: r.read(1 << 20), b""):
            h.update(chunk)
            f.write(chunk)
    if "sha256:" + h.hexdigest() != digest:
        sys.exit("fetch.py: blob %s does not match its digest" % digest)

ARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm",
        "i686": "386", "ppc64le": "ppc64le", "s390x": "s390x"}
body = get(base + "/manifests/" + want, ACCEPT)
doc = json.loads(body)
if "manifests" in doc:
    arch = ARCH.get(platform.machine(), platform.machine())
    for d in doc["manifests"]:
        p = d.get("platform", {})
        if p.get("os") == "linux" and p.get("architecture") == arch:
            body = get(base + "/manifests/" + d["digest"], ACCEPT)
            doc = json.loads(body)
            break
    else:
        sys.exit("fetch.py: no linux/%s entry in %s" % (arch, ref))
doc["mediaType"] = RENAME.get(doc.get("mediaType"), doc.get("mediaType"))
for d in [doc["config"]] + doc["layers"]:
    fetch_blob(d)
    d["mediaType"] = RENAME.get(d["mediaType"], d["mediaType"])
    if d["mediaType"] == "application/vnd.oci.image.layer.v1.tar+zstd":
        # umoci 0.4 reads no zstd: store the layer's tar uncompressed.
        src = blob_path(d["digest"])
        tar = subprocess.run(["zstd", "-dcq", src], stdout=subprocess.PIPE,
                             check=True).stdout
        os.unlink(src)
        d["digest"], d["size"] = put_blob(tar), len(tar)
        d["mediaType"] = "application/vnd.oci.image.layer.v1.tar"
manifest = json.dumps(doc).encode()
digest = put_blob(manifest)
with open(os.path.join(layout, "oci-layout"), "w") as f:
    json.dump({"imageLayoutVersion": "1.0.0"}, f)
with open(os.path.join(layout, "index.json"), "w") as f:
    json.dump({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": digest, "size": len(manifest),
        "annotations": {"org.opencontainers.image.ref.name": tag}}]}, f)
EOF

# ---- 1. mocker pull ------------------------------------------------------------

ref="$addr/$ref_path"
if ! "$mocker" --root "$work/state" pull -q "$ref" >"$work/pull.log" 2>&1; then
  cat "$work/pull.log" >&2
  die "mocker pull $ref failed"
fi
id=$("$mocker" --root "$work/state" image inspect "$ref" |
  "$PY" -c 'import json,sys; print(json.load(sys.stdin)[0]["Id"])') ||
  die "mocker image inspect $ref failed"
layers_file=$work/state/images/sha256/${id#sha256:}/layers
[[ -s $layers_file ]] || die "no $layers_file"

# ---- 2. the merged view of mocker's layers ----------------------------------

mapfile -t chains <"$layers_file"
lower=empty
for i in "${!chains[@]}"; do
  diff=$work/state/layers/sha256/${chains[i]}/diff
  [[ -d $diff ]] || die "layer ${chains[i]} has no diff dir"
  ln -s "$diff" "$work/l/$i"
  lower="$i:$lower"
done
lower=${lower%:}
ln -s ../empty "$work/l/empty"
((${#lower} < 3900)) || die "${#chains[@]} layers: the overlay options do not fit in a page"

# Relative lowerdirs resolve against the mounting process's cwd.
# shellcheck disable=SC2016 # expanded by the inner sh
unshare -m --propagation private /bin/sh -c '
  cd "$1" || exit 2
  mount -t overlay -o "ro,lowerdir=$2" overlay "$3" || exit 2
  "$4" "$5" "$3"; rc=$?
  umount "$3" || exit 2
  exit $rc' sh "$work/l" "$lower" "$work/mnt" "$PY" "$work/walk.py" \
  >"$work/mocker.list" || die "walking mocker's overlay failed"

# ---- 3. the reference: skopeo + umoci ------------------------------------------

# umoci 0.4 reads no zstd layers: have skopeo store every layer as gzip.
if ! skopeo --insecure-policy copy -q --src-tls-verify=false --dest-compress-format gzip \
  "docker://$ref" "oci:$work/oci:tag" \
  >"$work/skopeo.log" 2>&1; then
  say "skopeo copy failed: $(tail -n 1 "$work/skopeo.log")"
  say "writing the OCI layout from the registry's blobs instead (media types renamed to OCI)"
  rm -rf "$work/oci"
  mkdir "$work/oci"
  "$PY" "$work/fetch.py" "$addr" "$ref_path" "$work/oci" tag ||
    die "fetching $ref into an OCI layout failed"
fi
if ! umoci unpack --image "$work/oci:tag" "$work/bundle" >"$work/umoci.log" 2>&1; then
  cat "$work/umoci.log" >&2
  die "umoci unpack failed"
fi
"$PY" "$work/walk.py" "$work/bundle/rootfs" >"$work/umoci.list" ||
  die "walking umoci's rootfs failed"

# ---- 4. compare ----------------------------------------------------------------

if diff -u --label "umoci $ref" --label "mocker $ref" \
  "$work/umoci.list" "$work/mocker.list"; then
  say "$ref: identical ($(wc -l <"$work/mocker.list") paths)"
  exit 0
fi
exit 1
