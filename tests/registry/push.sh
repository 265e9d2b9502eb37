#!/usr/bin/env bash
# Push test images to a registry through the v2 API, with curl only.
#
#   push.sh [OPTS] REGISTRY REPO TAG CONFIG_JSON LAYER...
#       Uploads the config and layer blobs, then PUTs a Docker schema2
#       manifest (an OCI manifest with --oci) and prints its digest.
#   push.sh [OPTS] --index REGISTRY REPO TAG ENTRY...
#       PUTs a Docker manifest list (an OCI index with --oci) over manifests
#       already in REPO; ENTRY is DIGEST,SIZE,MEDIATYPE,OS/ARCH[/VARIANT].
#       unknown/unknown marks an attestation entry (with --oci it gets
#       BuildKit's vnd.docker.reference.* annotations).
#   push.sh [OPTS] --manifest REGISTRY REPO TAG FILE MEDIATYPE
#       PUTs FILE's bytes as they are (for hand-made or hostile manifests).
#   push.sh [OPTS] --blob REGISTRY REPO FILE
#       Uploads one blob and prints its digest.
#
# LAYER is FILE or FILE,MEDIATYPE. Without a media type it is guessed from
# the file's magic: gzip, zstd, else plain tar, with Docker names (OCI
# names under --oci; zstd always has the OCI name, as BuildKit does).
# TAG `-` pushes by digest only, leaving the manifest untagged.
#
# Options (before the positional arguments):
#   --user U:P     credentials: Basic to the registry, or to the token realm
#   --cacert FILE  talk HTTPS, trusting FILE (REGISTRY may also be a URL)
#   --token        do the Bearer dance against the WWW-Authenticate realm,
#                  asking for repository:REPO:pull,push (done anyway when
#                  the registry answers /v2/ with a Bearer challenge)
#   --oci          OCI media types instead of Docker ones
#   --desc         print DIGEST,SIZE,MEDIATYPE instead of the bare digest,
#                  ready to prefix an --index ENTRY
set -euo pipefail

readonly MT_DOCKER_MANIFEST=application/vnd.docker.distribution.manifest.v2+json
readonly MT_DOCKER_LIST=application/vnd.docker.distribution.manifest.list.v2+json
readonly MT_DOCKER_CONFIG=application/vnd.docker.container.image.v1+json
readonly MT_OCI_MANIFEST=application/vnd.oci.image.manifest.v1+json
readonly MT_OCI_INDEX=application/vnd.oci.image.index.v1+json
readonly MT_OCI_CONFIG=application/vnd.oci.image.config.v1+json

die() {
  echo "push.sh: $*" >&2
  exit 1
}

usage() {
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2
  exit 2
}

user='' cacert='' want_token=0 oci=0 desc=0 action=image
base='' repo=''
auth=()
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# curl with TLS and auth settings. Sets $code; headers in $tmp/h, body in
# $tmp/b. The body goes to a file so a binary or empty answer is harmless.
api() {
  local -a tls=()
  [[ -z $cacert ]] || tls=(--cacert "$cacert")
  code=$(curl -sS -o "$tmp/b" -D "$tmp/h" -w '%{http_code}' "${tls[@]}" "${auth[@]}" "$@") ||
    die "curl $* failed"
}

header() {
  tr -d '\r' <"$tmp/h" | sed -n "s/^$1: *//Ip" | tail -n 1
}

expect() {
  local want=$1 what=$2
  [[ $code == "$want" ]] || die "$what: HTTP $code (want $want): $(head -c 600 "$tmp/b")"
}

# Parse one WWW-Authenticate parameter (quoted value) from the last answer.
challenge_param() {
  header www-authenticate | grep -o "$1=\"[^\"]*\"" | head -n 1 | cut -d'"' -f2 || true
}

# Set up $auth for REPO: Basic when --user is given and the registry asks
# for Basic, a Bearer token when it asks for one (or --token insists).
login() {
  local challenge realm service token
  auth=()
  [[ -z $user ]] || auth=(-u "$user")
  api "$base/v2/"
  [[ $code == 200 ]] && return 0
  [[ $code == 401 ]] || die "GET $base/v2/: HTTP $code"
  challenge=$(header www-authenticate)
  if [[ $challenge != [Bb]earer* ]]; then
    ((want_token == 0)) || die "--token: registry asks for '$challenge', not Bearer"
    [[ -n $user ]] || die "$base asks for Basic credentials: give --user"
    die "credentials refused by $base"
  fi
  realm=$(challenge_param realm)
  service=$(challenge_param service)
  [[ -n $realm ]] || die "Bearer challenge without realm: $challenge"
  api -G --data-urlencode "service=$service" \
    --data-urlencode "scope=repository:$repo:pull,push" "$realm"
  expect 200 "token from $realm"
  command -v python3 >/dev/null || die "python3 is needed to read the token answer"
  token=$(python3 -c 'import json, sys
d = json.load(sys.stdin)
print(d.get("token") or d["access_token"])' <"$tmp/b") || die "no token in answer from $realm"
  auth=(-H "Authorization: Bearer $token")
}

sha256_of() {
  echo "sha256:$(sha256sum "$1" | cut -d' ' -f1)"
}

size_of() {
  stat -c %s "$1"
}

# Upload FILE as a blob of $repo unless it is there already; print digest.
push_blob() {
  local file=$1 digest size location sep
  [[ -f $file ]] || die "$file: no such file"
  digest=$(sha256_of "$file")
  size=$(size_of "$file")
  api --head "$base/v2/$repo/blobs/$digest"
  if [[ $code != 200 ]]; then
    api -X POST -H 'Content-Length: 0' "$base/v2/$repo/blobs/uploads/"
    expect 202 "POST $repo/blobs/uploads/"
    location=$(header location)
    [[ -n $location ]] || die "upload start: no Location header"
    [[ $location == http* ]] || location=$base$location
    sep='?'
    [[ $location != *'?'* ]] || sep='&'
    api -X PUT -T "$file" -H 'Content-Type: application/octet-stream' -H 'Expect:' \
      "$location${sep}digest=$digest"
    expect 201 "PUT blob $digest ($file)"
    api --head "$base/v2/$repo/blobs/$digest"
  fi
  expect 200 "HEAD blob $digest ($file)"
  [[ $(header docker-content-digest) == "$digest" ]] ||
    die "blob $file: registry says digest $(header docker-content-digest), want $digest"
  [[ $(header content-length) == "$size" ]] ||
    die "blob $file: registry says size $(header content-length), want $size"
  echo "$digest"
}

# PUT FILE as manifest REPO:TAG (TAG `-`: by digest); print the result.
put_manifest() {
  local file=$1 mediatype=$2 tag=$3 digest size
  digest=$(sha256_of "$file")
  size=$(size_of "$file")
  [[ $tag != - ]] || tag=$digest
  api -X PUT -H "Content-Type: $mediatype" --data-binary "@$file" \
    "$base/v2/$repo/manifests/$tag"
  expect 201 "PUT manifest $repo:$tag"
  [[ $(header docker-content-digest) == "$digest" ]] ||
    die "manifest: registry says digest $(header docker-content-digest), want $digest"
  if ((desc)); then
    echo "$digest,$size,$mediatype"
  else
    echo "$digest"
  fi
}

layer_mediatype() {
  local magic
  magic=$(od -An -N4 -tx1 "$1" | tr -d ' \n')
  case $oci,$magic in
  0,1f8b*) echo application/vnd.docker.image.rootfs.diff.tar.gzip ;;
  1,1f8b*) echo application/vnd.oci.image.layer.v1.tar+gzip ;;
  *,28b52ffd) echo application/vnd.oci.image.layer.v1.tar+zstd ;;
  0,*) echo application/vnd.docker.image.rootfs.diff.tar ;;
  1,*) echo application/vnd.oci.image.layer.v1.tar ;;
  esac
}

# {"mediaType":...,"digest":...,"size":...} for a blob just pushed.
descriptor() {
  printf '{\n         "mediaType": "%s",\n         "digest": "%s",\n         "size": %s\n      }' \
    "$1" "$2" "$3"
}

push_image() {
  local tag=$1 config=$2 cfg_digest digest arg file mt sep=''
  shift 2
  [[ $# -ge 1 ]] || usage
  local manifest_mt=$MT_DOCKER_MANIFEST config_mt=$MT_DOCKER_CONFIG
  ((oci == 0)) || { manifest_mt=$MT_OCI_MANIFEST config_mt=$MT_OCI_CONFIG; }
  cfg_digest=$(push_blob "$config")
  {
    printf '{\n   "schemaVersion": 2,\n   "mediaType": "%s",\n   "config": ' "$manifest_mt"
    descriptor "$config_mt" "$cfg_digest" "$(size_of "$config")"
    printf ',\n   "layers": ['
    for arg; do
      file=${arg%%,*}
      mt=${arg#"$file"}
      mt=${mt#,}
      [[ -n $mt ]] || mt=$(layer_mediatype "$file")
      digest=$(push_blob "$file")
      printf '%s\n      ' "$sep"
      descriptor "$mt" "$digest" "$(size_of "$file")"
      sep=,
    done
    printf '\n   ]\n}\n'
  } >"$tmp/manifest.json"
  put_manifest "$tmp/manifest.json" "$manifest_mt" "$tag"
}

# One manifest-list entry from DIGEST,SIZE,MEDIATYPE,OS/ARCH[/VARIANT].
index_entry() {
  local entry=$1 subject=$2 digest size mt platform os arch variant extra=''
  IFS=, read -r digest size mt platform <<<"$entry"
  IFS=/ read -r os arch variant <<<"$platform"
  [[ $digest == sha256:* && $size =~ ^[0-9]+$ && -n $mt && -n $os && -n $arch ]] ||
    die "bad index entry '$entry' (want DIGEST,SIZE,MEDIATYPE,OS/ARCH[/VARIANT])"
  [[ -z $variant ]] || extra=$(printf ',\n            "variant": "%s"' "$variant")
  printf '{\n         "mediaType": "%s",\n         "digest": "%s",\n         "size": %s,\n' \
    "$mt" "$digest" "$size"
  printf '         "platform": {\n            "architecture": "%s",\n            "os": "%s"%s\n         }' \
    "$arch" "$os" "$extra"
  if ((oci)) && [[ $os/$arch == unknown/unknown && -n $subject ]]; then
    printf ',\n         "annotations": {\n            "vnd.docker.reference.digest": "%s",\n' "$subject"
    printf '            "vnd.docker.reference.type": "attestation-manifest"\n         }'
  fi
  printf '\n      }'
}

push_index() {
  local tag=$1 entry subject='' sep=''
  shift
  [[ $# -ge 1 ]] || usage
  local list_mt=$MT_DOCKER_LIST
  ((oci == 0)) || list_mt=$MT_OCI_INDEX
  # An attestation describes the first real image entry, as BuildKit's do.
  for entry; do
    [[ $entry == *,unknown/unknown* || -n $subject ]] || subject=${entry%%,*}
  done
  {
    printf '{\n   "schemaVersion": 2,\n   "mediaType": "%s",\n   "manifests": [' "$list_mt"
    for entry; do
      printf '%s\n      ' "$sep"
      index_entry "$entry" "$subject"
      sep=,
    done
    printf '\n   ]\n}\n'
  } >"$tmp/index.json"
  put_manifest "$tmp/index.json" "$list_mt" "$tag"
}

while [[ $# -gt 0 && $1 == --* ]]; do
  case $1 in
  --user) user=${2:?--user needs U:P}; shift 2 ;;
  --cacert) cacert=${2:?--cacert needs a file}; shift 2 ;;
  --token) want_token=1; shift ;;
  --oci) oci=1; shift ;;
  --desc) desc=1; shift ;;
  --index) action=index; shift ;;
  --manifest) action=manifest; shift ;;
  --blob) action=blob; shift ;;
  --help) usage ;;
  *) die "unknown option $1" ;;
  esac
done
[[ $# -ge 2 ]] || usage
base=$1 repo=$2
shift 2
if [[ $base != http://* && $base != https://* ]]; then
  if [[ -n $cacert ]]; then base=https://$base; else base=http://$base; fi
fi
base=${base%/}
login

case $action in
image)
  [[ $# -ge 3 ]] || usage
  push_image "$@"
  ;;
index)
  [[ $# -ge 2 ]] || usage
  push_index "$@"
  ;;
manifest)
  [[ $# -eq 3 ]] || usage
  put_manifest "$2" "$3" "$1"
  ;;
blob)
  [[ $# -eq 1 ]] || usage
  push_blob "$1"
  ;;
esac
