/* A client for one repository on an OCI distribution / Docker Registry v2
 * server, over libcurl: scheme discovery (HTTPS, then HTTP only where
 * allowed), Bearer token and Basic auth, redirects that never carry our
 * Authorization to another host, retries with backoff, resumable blobs.
 *
 * Against a hostile or broken registry:
 * - credentials go only to the registry itself and to the token realm it
 *   names, never to a host a redirect led to, and Basic credentials never
 *   cross plain HTTP to another host (check_realm in registry.c);
 * - a registry spoken to over HTTPS stays on HTTPS: no redirect and no
 *   token realm may take a request to plain HTTP;
 * - every request has a deadline ($MOCKER_REGISTRY_TIMEOUT seconds, 30 by
 *   default, for connecting, for pings, tokens and manifests, and for any
 *   stall; a blob gets BLOB_TIMEOUT_FACTOR times as long in all), and every
 *   answer held in memory has a size cap. */
#ifndef MK_REGISTRY_H
#define MK_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "curl_dl.h"
#include "mk_error.h"

#define MK_MANIFEST_MAX (4 * 1024 * 1024)
/* Room for a Docker-Content-Digest header: "sha512:" + 128 hex. */
#define MK_HEADER_DIGEST_MAX 160
/* The environment variable that sets the per-request deadline. */
#define MK_REGISTRY_TIMEOUT_ENV "MOCKER_REGISTRY_TIMEOUT"

struct mk_buf {
  char *data;
  size_t len, cap, max;
};

struct mk_registry {
  const struct mk_curl *curl;
  char host[256];    /* API host[:port] */
  char scheme[8];    /* "https" or "http", once the ping succeeded */
  char repo[256];    /* "library/busybox" */
  char *credentials; /* "user:pass" or NULL */
  char *token;       /* Bearer token or NULL */
  char realm[1024], service[256]; /* from the Bearer challenge */
  int basic;                      /* the registry asked for Basic auth */
  char ca_file[4096];
  int insecure;    /* plain HTTP allowed */
  int skip_verify; /* listed in insecure-registries: no TLS verification */
  long timeout;    /* seconds: connect, stall, and small requests' total */
};

/* Prepares a client for repo on host (no network yet). Fails when
 * $MOCKER_REGISTRY_TIMEOUT is set to something that is not 1-86400. */
int mk_registry_open(struct mk_registry *r, const char *host, const char *repo,
                     mk_error_t *err);
void mk_registry_close(struct mk_registry *r);

/* A copy for another thread, owning its own credentials and token. */
void mk_registry_clone(struct mk_registry *dst, const struct mk_registry *src);

/* GET /v2/, learn the scheme and the auth challenge, fetch a pull token. */
int mk_registry_connect(struct mk_registry *r, mk_error_t *err);

/* Verifies r->credentials against the registry, as docker login does:
 * the challenge is answered with them and /v2/ must then answer 200. */
int mk_registry_check_login(struct mk_registry *r, mk_error_t *err);

/* GET a manifest (by tag or digest) into body (bounded). content_type and
 * digest receive the response headers ("" when absent); the caller must
 * check the body against both the reference and that digest. */
int mk_registry_get_manifest(struct mk_registry *r, const char *reference,
                             struct mk_buf *body, char content_type[256],
                             char digest[MK_HEADER_DIGEST_MAX],
                             mk_error_t *err);

/* Streams a blob to sink from byte offset `from` (Range), following
 * redirects. sink returns 0 to continue, -1 to abort. *received counts
 * bytes passed to sink. Retries transient failures, resuming. */
typedef int (*mk_blob_sink)(void *data, const void *buf, size_t len);
int mk_registry_get_blob(struct mk_registry *r, const char *digest,
                         mk_blob_sink sink, void *data, uint64_t *received,
                         mk_error_t *err);

void mk_buf_free(struct mk_buf *b);

/* Parses a WWW-Authenticate value: scheme ("Bearer"/"Basic") and the
 * realm, service and scope parameters. Returns 0 or -1. */
int mk_parse_www_authenticate(const char *value, char scheme[16],
                              char realm[1024], char service[256],
                              char scope[512]);

#endif
