/* libFuzzer target for the manifest and image config parsers
 * (supervisor/image/manifest.c): mk_manifest_parse, then mk_manifest_select with
 * the host's platform (and an arm one, for the variant rules), and
 * mk_config_diff_ids on the same bytes. All of it is registry input.
 *
 * The bytes are parsed twice: with an empty Content-Type (the document's
 * own mediaType, or its shape, decides) and with a Content-Type picked
 * from the input's length, so every type path is reached from every seed.
 * The input is passed with its length and is not NUL-terminated: libFuzzer
 * allocates it at its exact size, so ASan catches a read past the end.
 *
 * Properties, for any input:
 *   - no memory error or leak (mk_manifest_free and the diff_ids array
 *     release everything);
 *   - a parsed manifest holds only "sha256:<64 hex>" digests, sizes >= 0,
 *     at most 4096 entries, and known layer compressions;
 *   - a failed parse leaves no allocation behind and sets a message;
 *   - select returns an entry of the index that matches os and
 *     architecture and is never an unknown/unknown attestation;
 *   - diff_ids are valid digests, NULL-terminated after n entries.
 *
 * Build and run: see tests/fuzz/README.md.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ENTRIES 4096

static const char *const content_types[] = {
    "application/json",
    "text/plain; charset=utf-8",
    MK_MT_OCI_INDEX,
    MK_MT_DOCKER_LIST,
    MK_MT_OCI_MANIFEST,
    MK_MT_DOCKER_MANIFEST "; charset=utf-8",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
};

static void fail(const char *what, const char *detail)
{
  fprintf(stderr, "fuzz_manifest: %s: `%s`\n", what, detail);
  abort();
}

static void check_descriptor(const struct mk_descriptor *d, int is_layer)
{
  if (!mk_valid_sha256_digest(d->digest))
    fail("invalid digest accepted", d->digest);
  if (d->size < 0)
    fail("negative size accepted", d->digest);
  if (!memchr(d->media_type, '\0', sizeof(d->media_type)) ||
      !memchr(d->platform.os, '\0', sizeof(d->platform.os)) ||
      !memchr(d->platform.arch, '\0', sizeof(d->platform.arch)) ||
      !memchr(d->platform.variant, '\0', sizeof(d->platform.variant)))
    fail("unterminated field", d->digest);
  if (is_layer && d->compression != MK_COMPRESSION_NONE &&
      d->compression != MK_COMPRESSION_GZIP &&
      d->compression != MK_COMPRESSION_ZSTD)
    fail("unknown compression", d->media_type);
}

static void check_select(const struct mk_manifest *m, const char *platform)
{
  struct mk_platform want;
  const struct mk_descriptor *d = NULL;
  mk_error_t err;

  if (mk_platform_parse(platform, &want, &err) < 0)
    fail("platform does not parse", platform);
  if (mk_manifest_select(m, &want, &d, &err) < 0) {
    if (!strstr(err.msg, want.arch))
      fail("no-match error does not name the platform", err.msg);
    return;
  }
  if (d < m->manifests || d >= m->manifests + m->nmanifests)
    fail("selected entry outside the index", platform);
  if (strcmp(d->platform.os, "unknown") == 0)
    fail("attestation entry selected", d->digest);
  if (strcmp(d->platform.os, want.os) != 0 ||
      strcmp(d->platform.arch, want.arch) != 0)
    fail("selected entry for another platform", d->digest);
}

static void check_manifest(const char *data, size_t size, const char *ct)
{
  struct mk_manifest m;
  mk_error_t err;

  if (mk_manifest_parse(data, size, ct, &m, &err) < 0) {
    if (m.layers || m.manifests || m.nlayers || m.nmanifests)
      fail("failed parse left a manifest behind", ct);
    if (!memchr(err.msg, '\0', sizeof(err.msg)) || !err.msg[0])
      fail("failure without a message", ct);
    return;
  }
  if (m.nlayers > MAX_ENTRIES || m.nmanifests > MAX_ENTRIES)
    fail("entry cap exceeded", ct);
  if (m.is_index) {
    if (m.nlayers)
      fail("index with layers", ct);
    for (size_t i = 0; i < m.nmanifests; i++)
      check_descriptor(&m.manifests[i], 0);
    check_select(&m, "");
    check_select(&m, "linux/arm/v7");
  } else {
    if (m.nmanifests)
      fail("image manifest with index entries", ct);
    check_descriptor(&m.config, 0);
    for (size_t i = 0; i < m.nlayers; i++)
      check_descriptor(&m.layers[i], 1);
  }
  mk_manifest_free(&m);
}

static void check_config(const char *data, size_t size)
{
  char **ids = NULL;
  size_t n = 0;
  mk_error_t err;

  if (mk_config_diff_ids(data, size, &ids, &n, &err) < 0)
    return;
  if (!ids || n > MAX_ENTRIES || ids[n])
    fail("diff_ids array malformed", "");
  for (size_t i = 0; i < n; i++) {
    if (!mk_valid_sha256_digest(ids[i]))
      fail("invalid diff_id accepted", ids[i]);
    free(ids[i]);
  }
  free(ids);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *bytes = (const char *)data;
  const size_t ntypes = sizeof(content_types) / sizeof(content_types[0]);

  check_manifest(bytes, size, "");
  check_manifest(bytes, size, content_types[size % ntypes]);
  check_config(bytes, size);
  return 0;
}
