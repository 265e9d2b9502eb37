#!/bin/sh
# Builds the built-in busybox image layer from the host's busybox-static:
# /bin/busybox, one symlink per applet, a minimal /etc and the usual
# directories, as a reproducible tar (fixed owner and mtime, sorted).
# With a second argument, it also writes a `docker save` archive of the
# image (manifest.json, config, layer): that is what the supervisor embeds
# and loads into the store on first use, through the same code as
# `mocker load`.
set -eu
out=$1
archive=${2:-}
busybox=${BUSYBOX:-/bin/busybox}

if ! "$busybox" --list-full >/dev/null 2>&1; then
  echo "mkimage: $busybox is missing or not runnable; install busybox-static" >&2
  exit 1
fi
if ldd "$busybox" >/dev/null 2>&1; then
  echo "mkimage: $busybox is dynamically linked; install busybox-static" >&2
  exit 1
fi

stage=$(mktemp -d)
chmod 0755 "$stage"
trap 'rm -rf "$stage"' EXIT INT TERM

for d in bin sbin usr/bin usr/sbin etc root home tmp var/tmp var/log \
         proc sys dev run mnt opt srv; do
  mkdir -p "$stage/$d"
done
chmod 1777 "$stage/tmp" "$stage/var/tmp"
chmod 0700 "$stage/root"
cp "$busybox" "$stage/bin/busybox"
chmod 0755 "$stage/bin/busybox"

"$busybox" --list-full | while read -r applet; do
  [ "$applet" = bin/busybox ] && continue
  [ -e "$stage/$applet" ] || [ -L "$stage/$applet" ] || \
    ln -s /bin/busybox "$stage/$applet"
done

cat > "$stage/etc/passwd" <<'P'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
P
cat > "$stage/etc/group" <<'G'
root:x:0:
tty:x:5:
nogroup:x:65534:
G
printf 'hosts: files dns\n' > "$stage/etc/nsswitch.conf"
: > "$stage/etc/hostname"
: > "$stage/etc/hosts"
: > "$stage/etc/resolv.conf"

tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 \
    --format=pax --pax-option=delete=atime,delete=ctime \
    -C "$stage" -cf "$out.tmp" .
mv "$out.tmp" "$out"

[ -n "$archive" ] || exit 0

case $(uname -m) in
  x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; armv7l) arch=arm ;;
  i686) arch=386 ;; *) arch=$(uname -m) ;;
esac
diff_id=$(sha256sum "$out" | cut -d' ' -f1)
adir=$(mktemp -d)
trap 'rm -rf "$stage" "$adir"' EXIT INT TERM
printf '{"architecture":"%s","config":{"Cmd":["/bin/sh"],"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]},"created":"1970-01-01T00:00:00Z","history":[{"created":"1970-01-01T00:00:00Z","created_by":"mocker rootfs/mkimage.sh (busybox-static)"}],"os":"linux","rootfs":{"diff_ids":["sha256:%s"],"type":"layers"}}' \
  "$arch" "$diff_id" > "$adir/config.json"
config_id=$(sha256sum "$adir/config.json" | cut -d' ' -f1)
mv "$adir/config.json" "$adir/$config_id.json"
mkdir "$adir/$diff_id"
cp "$out" "$adir/$diff_id/layer.tar"
printf '[{"Config":"%s.json","RepoTags":["busybox:latest"],"Layers":["%s/layer.tar"]}]\n' \
  "$config_id" "$diff_id" > "$adir/manifest.json"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 \
    -C "$adir" -cf "$archive.tmp" .
mv "$archive.tmp" "$archive"
