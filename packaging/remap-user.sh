#!/bin/sh
# The user whose subordinate ids --userns=remap gives containers
# (supervisor/engine/userns.h): a system user `mocker`, with one range of
# 65536 uids and gids above every range /etc/subuid and /etc/subgid
# already hold. Idempotent: a user or range already there is kept.
# Run as root by `make install` (without DESTDIR) and the .deb's postinst.
set -eu
user=mocker
count=65536

if ! getent passwd "$user" >/dev/null; then
  useradd --system --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin --comment "mocker userns-remap" "$user"
fi

# The first free start at or above 100000 past every range in file.
next_start() {
  awk -F: 'BEGIN { top = 100000 }
    NF >= 3 && $2 ~ /^[0-9]+$/ && $3 ~ /^[0-9]+$/ {
      if ($2 + $3 > top) top = $2 + $3 }
    END { print top }' "$1" 2>/dev/null || echo 100000
}

for file in /etc/subuid /etc/subgid; do
  touch "$file"
  if grep -q "^$user:" "$file"; then
    continue
  fi
  start=$(next_start "$file")
  echo "$user:$start:$count" >>"$file"
done
