/* Image manifests and indexes (OCI and Docker schema 2), image configs,
 * and choosing a platform. Pure parsing: untrusted input, fuzzed. */
#ifndef MK_MANIFEST_H
#define MK_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "mk_error.h"

#define MK_MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MK_MT_DOCKER_LIST                                                      \
  "application/vnd.docker.distribution.manifest.list.v2+json"
#define MK_MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MK_MT_DOCKER_MANIFEST                                                  \
  "application/vnd.docker.distribution.manifest.v2+json"

enum mk_compression {
  MK_COMPRESSION_NONE,
  MK_COMPRESSION_GZIP,
  MK_COMPRESSION_ZSTD,
};

struct mk_platform {
  char os[32], arch[32], variant[32];
};

struct mk_descriptor {
  char media_type[128];
  char digest[72]; /* "sha256:<64 hex>" */
  int64_t size;
  struct mk_platform platform;     /* index entries only */
  enum mk_compression compression; /* layers only */
};

struct mk_manifest {
  int is_index;
  struct mk_descriptor config; /* image manifests */
  size_t nlayers;
  struct mk_descriptor *layers;
  size_t nmanifests; /* indexes */
  struct mk_descriptor *manifests;
};

/* Parses a manifest or index; content_type (may be "") is the response's
 * Content-Type, the document's own mediaType is used when it is absent. */
int mk_manifest_parse(const char *data, size_t len, const char *content_type,
                      struct mk_manifest *m, mk_error_t *err);
void mk_manifest_free(struct mk_manifest *m);

/* Picks the index entry for want: os and architecture must match, the
 * variant too when want has one; attestation entries (unknown/unknown)
 * are never chosen. */
int mk_manifest_select(const struct mk_manifest *index,
                       const struct mk_platform *want,
                       const struct mk_descriptor **out, mk_error_t *err);

/* "linux/arm64/v8" -> platform; "" -> this host's. */
int mk_platform_parse(const char *text, struct mk_platform *p, mk_error_t *err);
void mk_platform_host(struct mk_platform *p);

/* The image config's rootfs.diff_ids (heap array of "sha256:..." strings,
 * NULL-terminated) after checking each. */
int mk_config_diff_ids(const char *data, size_t len, char ***diff_ids,
                       size_t *n, mk_error_t *err);

/* Whether s is "sha256:" followed by 64 lowercase hex digits. */
int mk_valid_sha256_digest(const char *s);

#endif
