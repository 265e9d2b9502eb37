#include "manifest.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "mk_util.h"
#include "base/strv.h"

#define MAX_ENTRIES 4096

int mk_valid_sha256_digest(const char *s)
{
  return s && strncmp(s, "sha256:", 7) == 0 && strlen(s) == 71 &&
         strspn(s + 7, "0123456789abcdef") == 64;
}

static int copy_field(json_t *obj, const char *key, char *out, size_t size,
                      int required)
{
  const char *v = json_string_value(json_object_get(obj, key));

  if (!v) {
    out[0] = '\0';
    return required ? -1 : 0;
  }
  if (strlen(v) >= size)
    return -1;
  memcpy(out, v, strlen(v) + 1);
  return 0;
}

static enum mk_compression layer_compression(const char *mt, int *ok)
{
  static const struct {
    const char *suffix;
    enum mk_compression c;
  } map[] = {
      {"tar+gzip", MK_COMPRESSION_GZIP}, {"tar.gzip", MK_COMPRESSION_GZIP},
      {"tar+zstd", MK_COMPRESSION_ZSTD}, {"tar.zstd", MK_COMPRESSION_ZSTD},
      {"v1.tar", MK_COMPRESSION_NONE},   {"diff.tar", MK_COMPRESSION_NONE},
  };
  size_t n = strlen(mt);

  *ok = 1;
  for (size_t i = 0; i < MK_ARRAY_SIZE(map); i++) {
    size_t k = strlen(map[i].suffix);
    if (n >= k && strcmp(mt + n - k, map[i].suffix) == 0)
      return map[i].c;
  }
  *ok = 0;
  return MK_COMPRESSION_NONE;
}

static int parse_descriptor(json_t *obj, struct mk_descriptor *d, int is_layer,
                            mk_error_t *err)
{
  json_t *size = json_object_get(obj, "size");
  json_t *plat = json_object_get(obj, "platform");
  int ok = 1;

  memset(d, 0, sizeof(*d));
  if (!json_is_object(obj) ||
      copy_field(obj, "mediaType", d->media_type, sizeof(d->media_type), 0) ||
      copy_field(obj, "digest", d->digest, sizeof(d->digest), 1) ||
      !json_is_integer(size) || json_integer_value(size) < 0)
    return mk_error_set(err, EBADMSG, "manifest: malformed descriptor");
  if (!mk_valid_sha256_digest(d->digest))
    return mk_error_set(err, EBADMSG,
                        "manifest: unsupported or malformed digest `%s`",
                        d->digest);
  d->size = json_integer_value(size);
  if (plat &&
      (copy_field(plat, "os", d->platform.os, sizeof(d->platform.os), 0) ||
       copy_field(plat, "architecture", d->platform.arch,
                  sizeof(d->platform.arch), 0) ||
       copy_field(plat, "variant", d->platform.variant,
                  sizeof(d->platform.variant), 0)))
    return mk_error_set(err, EBADMSG, "manifest: malformed platform");
  if (is_layer) {
    d->compression = layer_compression(d->media_type, &ok);
    if (!ok)
      return mk_error_set(err, ENOTSUP,
                          "layer %.19s: unsupported media type `%s`", d->digest,
                          d->media_type);
  }
  return 0;
}

static int parse_list(json_t *array, struct mk_descriptor **out, size_t *n,
                      int is_layer, mk_error_t *err)
{
  size_t count = json_array_size(array);

  if (!json_is_array(array) || count > MAX_ENTRIES)
    return mk_error_set(err, EBADMSG, "manifest: bad or oversized list");
  *out = calloc(count ? count : 1, sizeof(**out));
  if (!*out)
    return mk_error_set(err, ENOMEM, "out of memory");
  for (*n = 0; *n < count; (*n)++)
    if (parse_descriptor(json_array_get(array, *n), &(*out)[*n], is_layer,
                         err) < 0)
      return -1;
  return 0;
}

static const char *kind_of(json_t *doc, const char *content_type)
{
  const char *mt = json_string_value(json_object_get(doc, "mediaType"));
  char ct[256];

  /* Content-Type may carry parameters ("; charset=utf-8"). */
  snprintf(ct, sizeof(ct), "%.*s", (int)strcspn(content_type, "; "),
           content_type);
  if (ct[0] && strcmp(ct, "application/json") != 0 &&
      strcmp(ct, "text/plain") != 0)
    return content_type; /* compared by prefix: parameters don't matter */
  if (mt)
    return mt;
  /* OCI allows mediaType to be absent: tell them apart by shape. */
  return json_object_get(doc, "manifests") ? MK_MT_OCI_INDEX
                                           : MK_MT_OCI_MANIFEST;
}

static int starts_with(const char *s, const char *prefix)
{
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int is_index_type(const char *t)
{
  return starts_with(t, MK_MT_OCI_INDEX) || starts_with(t, MK_MT_DOCKER_LIST);
}

static int is_manifest_type(const char *t)
{
  return starts_with(t, MK_MT_OCI_MANIFEST) ||
         starts_with(t, MK_MT_DOCKER_MANIFEST);
}

/* A document must be one thing: an index has "manifests" and no
 * "config"/"layers", an image manifest the reverse, and its own
 * mediaType (when present) must agree with the Content-Type (when that
 * names a manifest type). Otherwise one digest could mean two images to
 * two clients (CVE-2021-41190, containerd's validateMediaType). */
static int ambiguous(json_t *doc, const char *content_type, const char *kind)
{
  const char *mt = json_string_value(json_object_get(doc, "mediaType"));
  int has_manifests = json_object_get(doc, "manifests") != NULL;
  int has_image = json_object_get(doc, "config") != NULL ||
                  json_object_get(doc, "layers") != NULL;

  if (has_manifests && has_image)
    return 1;
  if (mt && (is_index_type(content_type) || is_manifest_type(content_type)) &&
      !starts_with(content_type, mt))
    return 1;
  if (is_index_type(kind))
    return has_image;
  return has_manifests;
}

int mk_manifest_parse(const char *data, size_t len, const char *content_type,
                      struct mk_manifest *m, mk_error_t *err)
{
  json_error_t jerr;
  json_t *doc = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
  int r = -1;

  memset(m, 0, sizeof(*m));
  if (!json_is_object(doc)) {
    json_decref(doc);
    return mk_error_set(err, EBADMSG, "manifest is not a JSON object: %s",
                        jerr.text);
  }
  const char *kind = kind_of(doc, content_type ? content_type : "");
  if (ambiguous(doc, content_type ? content_type : "", kind)) {
    json_decref(doc);
    return mk_error_set(err, EBADMSG,
                        "ambiguous manifest: its mediaType, Content-Type "
                        "and fields disagree (CVE-2021-41190)");
  }
  if (starts_with(kind, MK_MT_OCI_INDEX) ||
      starts_with(kind, MK_MT_DOCKER_LIST)) {
    m->is_index = 1;
    r = parse_list(json_object_get(doc, "manifests"), &m->manifests,
                   &m->nmanifests, 0, err);
  } else if (starts_with(kind, MK_MT_OCI_MANIFEST) ||
             starts_with(kind, MK_MT_DOCKER_MANIFEST)) {
    r = parse_descriptor(json_object_get(doc, "config"), &m->config, 0, err);
    if (r == 0)
      r = parse_list(json_object_get(doc, "layers"), &m->layers, &m->nlayers, 1,
                     err);
  } else {
    r = mk_error_set(err, ENOTSUP, "unsupported manifest type `%s`", kind);
  }
  json_decref(doc);
  if (r < 0)
    mk_manifest_free(m);
  return r;
}

void mk_manifest_free(struct mk_manifest *m)
{
  free(m->layers);
  free(m->manifests);
  memset(m, 0, sizeof(*m));
}

void mk_platform_host(struct mk_platform *p)
{
  static const char *const map[][3] = {
      {"x86_64", "amd64", ""}, {"aarch64", "arm64", "v8"},
      {"armv7l", "arm", "v7"}, {"armv6l", "arm", "v6"},
      {"i686", "386", ""},     {"ppc64le", "ppc64le", ""},
      {"s390x", "s390x", ""},  {"riscv64", "riscv64", ""},
  };
  struct utsname u;

  memset(p, 0, sizeof(*p));
  snprintf(p->os, sizeof(p->os), "linux");
  snprintf(p->arch, sizeof(p->arch), "amd64");
  if (uname(&u) < 0)
    return;
  for (size_t i = 0; i < MK_ARRAY_SIZE(map); i++)
    if (strcmp(u.machine, map[i][0]) == 0) {
      snprintf(p->arch, sizeof(p->arch), "%s", map[i][1]);
      snprintf(p->variant, sizeof(p->variant), "%s", map[i][2]);
    }
}

/* The names containerd's platforms.Normalize accepts for the same thing. */
static void normalise_platform(struct mk_platform *p)
{
  static const char *const arch_alias[][2] = {
      {"x86_64", "amd64"}, {"x86-64", "amd64"}, {"aarch64", "arm64"},
      {"i386", "386"},     {"i686", "386"},
  };

  for (size_t i = 0; i < MK_ARRAY_SIZE(arch_alias); i++)
    if (strcmp(p->arch, arch_alias[i][0]) == 0)
      snprintf(p->arch, sizeof(p->arch), "%s", arch_alias[i][1]);
  if (strcmp(p->arch, "arm") == 0 && !p->variant[0])
    snprintf(p->variant, sizeof(p->variant), "v7");
}

int mk_platform_parse(const char *text, struct mk_platform *p, mk_error_t *err)
{
  char buf[128];
  char *parts[4] = {0};
  size_t n = 0;

  if (!text || !*text) {
    mk_platform_host(p);
    return 0;
  }
  memset(p, 0, sizeof(*p));
  if (strlen(text) >= sizeof(buf))
    return mk_error_set(err, EINVAL, "invalid platform `%s`", text);
  memcpy(buf, text, strlen(text) + 1);
  for (char *s = buf; s && n < 4; n++) {
    parts[n] = s;
    s = strchr(s, '/');
    if (s)
      *s++ = '\0';
  }
  if (n < 2 || n > 3 || !*parts[0] || !*parts[1] || strlen(parts[0]) >= 32 ||
      strlen(parts[1]) >= 32 ||
      (n == 3 && (!*parts[2] || strlen(parts[2]) >= 32)))
    return mk_error_set(err, EINVAL,
                        "invalid platform `%s`: want os/arch[/variant]", text);
  snprintf(p->os, sizeof(p->os), "%s", parts[0]);
  snprintf(p->arch, sizeof(p->arch), "%s", parts[1]);
  if (n == 3)
    snprintf(p->variant, sizeof(p->variant), "%s", parts[2]);
  normalise_platform(p);
  return 0;
}

static int platform_matches(const struct mk_platform *have,
                            const struct mk_platform *want)
{
  if (strcmp(have->os, want->os) != 0 || strcmp(have->arch, want->arch) != 0)
    return 0;
  /* arm64 images often omit "v8"; a wanted variant must otherwise match */
  return !want->variant[0] || !have->variant[0] ||
         strcmp(have->variant, want->variant) == 0;
}

int mk_manifest_select(const struct mk_manifest *index,
                       const struct mk_platform *want,
                       const struct mk_descriptor **out, mk_error_t *err)
{
  for (size_t i = 0; i < index->nmanifests; i++) {
    const struct mk_descriptor *d = &index->manifests[i];
    if (strcmp(d->platform.os, "unknown") == 0)
      continue; /* attestation manifests */
    if (platform_matches(&d->platform, want)) {
      *out = d;
      return 0;
    }
  }
  return mk_error_set(err, ENOENT,
                      "no matching manifest for %s/%s%s%s in the manifest "
                      "list entries",
                      want->os, want->arch, want->variant[0] ? "/" : "",
                      want->variant);
}

int mk_config_diff_ids(const char *data, size_t len, char ***diff_ids,
                       size_t *n, mk_error_t *err)
{
  json_t *doc = json_loadb(data, len, 0, NULL), *v;
  json_t *ids = json_object_get(json_object_get(doc, "rootfs"), "diff_ids");
  struct mk_strv out = {0};
  size_t i;

  if (!json_is_array(ids) || json_array_size(ids) > MAX_ENTRIES) {
    json_decref(doc);
    return mk_error_set(err, EBADMSG, "image config: no rootfs.diff_ids");
  }
  json_array_foreach(ids, i, v)
  {
    const char *s = json_string_value(v);
    if (!mk_valid_sha256_digest(s)) {
      mk_strv_free(&out);
      json_decref(doc);
      return mk_error_set(err, EBADMSG, "image config: bad diff_id");
    }
    mk_strv_push(&out, s);
  }
  json_decref(doc);
  *diff_ids = out.v ? out.v : calloc(1, sizeof(char *));
  *n = out.n;
  return 0;
}
