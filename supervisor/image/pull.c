#include "pull.h"

#include "progress.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <nettle/sha2.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "layer.h"
#include "mk_util.h"
#include "reference.h"
#include "regconfig.h"
#include "registry.h"
#include "store.h"
#include "base/strv.h"
#include "unpack.h"

#define MAX_PARALLEL_LAYERS 4
#define CONFIG_MAX (8 * 1024 * 1024)

struct hasher {
  struct sha256_ctx ctx;
  uint64_t bytes;
};

/* A layer unpacked and verified, waiting to be published. */
struct staged {
  int fresh; /* unpacked by this pull (else it was already stored) */
  int lock;  /* mk_store_lock_layer, held until it is published */
  char work[PATH_MAX], diff[PATH_MAX];
  uint64_t size;
  struct mk_strv implicit;
};

struct pull {
  const struct mk_ctx *ctx;
  const struct mk_pull_opts *opts;
  struct mk_registry reg;
  struct mk_manifest manifest;
  char **diff_ids;
  size_t ndiff_ids;
  char (*chains)[MK_DIGEST_LEN + 1];
  uint64_t max_layer_size;
  pthread_mutex_t out_lock;
  struct mk_progress *progress;
  struct staged *staged; /* per layer, published together at the end */
  atomic_size_t next_layer;
  atomic_int failed;
  mk_error_t first_error;
};

static void say(struct pull *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void say(struct pull *p, const char *fmt, ...)
{
  va_list ap;

  if (!p->opts->out || p->opts->quiet)
    return;
  pthread_mutex_lock(&p->out_lock);
  va_start(ap, fmt);
  vfprintf(p->opts->out, fmt, ap);
  va_end(ap);
  fflush(p->opts->out);
  pthread_mutex_unlock(&p->out_lock);
}

/* --- one layer: a downloader thread feeds a pipe, we unpack from it --- */

struct layer_job {
  struct pull *p;
  size_t index;
  const struct mk_descriptor *desc;
  int pipe_w;
  struct mk_registry reg; /* per-thread copy of the client */
  struct hasher compressed;
  uint64_t received;
  uint64_t uncompressed; /* bytes of tar, recorded as the layer's size */
  struct mk_strv implicit;
  mk_error_t err;
  int failed;
};

static int write_to_pipe(void *data, const void *buf, size_t len)
{
  struct layer_job *j = data;

  if ((int64_t)(j->received + len) > j->desc->size)
    return mk_error_set(&j->err, EFBIG, "layer %.19s: more than %lld bytes",
                        j->desc->digest, (long long)j->desc->size);
  sha256_update(&j->compressed.ctx, len, buf);
  mk_progress_update(j->p->progress, j->index, MK_PHASE_DOWNLOADING,
                     j->received + len, (uint64_t)j->desc->size);
  if (mk_write_all(j->pipe_w, buf, len) < 0)
    return mk_error_sys(&j->err, errno, "layer %.19s: unpacking stopped",
                        j->desc->digest);
  return 0;
}

static void *download_layer(void *data)
{
  struct layer_job *j = data;

  j->err.msg[0] = '\0';
  if (mk_registry_get_blob(&j->reg, j->desc->digest, write_to_pipe, j,
                           &j->received, &j->err) < 0)
    j->failed = 1;
  else
    mk_progress_update(j->p->progress, j->index, MK_PHASE_VERIFYING, 0, 0);
  mk_close(j->pipe_w);
  return NULL;
}

static int verify_layer(struct layer_job *j, const struct mk_unpacked *u,
                        mk_error_t *err)
{
  char got[MK_DIGEST_LEN + 1];
  const char *want_diff = j->p->diff_ids[j->index];

  mk_sha256_finish(&j->compressed.ctx, got);
  if ((int64_t)j->received != j->desc->size || strcmp(got, j->desc->digest))
    return mk_error_set(err, EBADMSG,
                        "layer %s: digest or size mismatch (got %s, %llu "
                        "bytes; expected %lld bytes)",
                        j->desc->digest, got, (unsigned long long)j->received,
                        (long long)j->desc->size);
  if (strcmp(u->diff_id, want_diff) != 0)
    return mk_error_set(err, EBADMSG,
                        "layer %s: uncompressed content %s does not match "
                        "the config's diff_id %s",
                        j->desc->digest, u->diff_id, want_diff);
  return 0;
}

static int fetch_and_unpack(struct layer_job *j, const char *diff,
                            mk_error_t *err)
{
  int fds[2];
  pthread_t tid;
  struct mk_unpacked u;
  _cleanup_close_ int dirfd = open(diff, O_PATH | O_DIRECTORY | O_CLOEXEC);
  int r;

  if (dirfd < 0 || pipe2(fds, O_CLOEXEC) < 0)
    return mk_error_sys(err, errno, "prepare layer unpack");
  j->pipe_w = fds[1];
  if (pthread_create(&tid, NULL, download_layer, j) != 0) {
    mk_close(fds[0]), mk_close(fds[1]);
    return mk_error_set(err, EAGAIN, "cannot start a download thread");
  }
  r = mk_unpack_layer_fd(fds[0], dirfd, j->p->max_layer_size, &u, err);
  if (r < 0)
    mk_error_prefix(err, "layer %.19s", j->desc->digest);
  mk_close(fds[0]); /* a downloader still writing gets EPIPE and stops */
  pthread_join(tid, NULL);
  /* Whichever side failed first has the real cause: a downloader that
   * only saw the pipe close (EPIPE) stopped because unpacking failed. */
  if (j->failed && (r == 0 || j->err.err != EPIPE))
    r = (*err = j->err, -1);
  else if (r == 0)
    r = verify_layer(j, &u, err);
  j->uncompressed = u.size;
  j->implicit = u.implicit;
  return r;
}

/* Unpacks and verifies layer i into a temporary directory; publishing
 * waits until every layer is there (publish_layers). */
static int pull_layer(struct pull *p, size_t i, mk_error_t *err)
{
  struct layer_job j = {.p = p, .index = i, .desc = &p->manifest.layers[i]};
  struct staged *st = &p->staged[i];
  int r;

  if (mk_store_has_layer(p->ctx, p->chains[i])) {
    mk_progress_update(p->progress, i, MK_PHASE_EXISTS, 0, 0);
    return 0;
  }
  mk_progress_update(p->progress, i, MK_PHASE_DOWNLOADING, 0,
                     (uint64_t)j.desc->size);
  sha256_init(&j.compressed.ctx);
  if (mk_store_new_layer_dir(p->ctx, st->work, st->diff, err) < 0)
    return -1;
  st->fresh = 1;
  mk_registry_clone(&j.reg, &p->reg);
  r = fetch_and_unpack(&j, st->diff, err);
  mk_registry_close(&j.reg);
  st->size = j.uncompressed;
  st->implicit = j.implicit;
  return r;
}

/* The diff dirs below layer i, nearest first (staged or stored). */
static int open_lower(struct pull *p, size_t i, int *fds, mk_error_t *err)
{
  char path[PATH_MAX];

  for (size_t k = i; k-- > 0;) {
    const char *dir = p->staged[k].diff;
    if (!p->staged[k].fresh) {
      if (mk_root_path(p->ctx, path, err, "/layers/sha256/%s/diff",
                       p->chains[k] + 7) < 0)
        return -1;
      dir = path;
    }
    fds[i - 1 - k] = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fds[i - 1 - k] < 0)
      return mk_error_sys(err, errno, "open lower layer `%s`", dir);
  }
  return 0;
}

static int publish_one(struct pull *p, size_t i, mk_error_t *err)
{
  struct staged *st = &p->staged[i];
  int *lower = calloc(i + 1, sizeof(int)), r;

  if (!lower)
    return mk_error_set(err, ENOMEM, "out of memory");
  for (size_t k = 0; k < i; k++)
    lower[k] = -1;
  _cleanup_close_ int dirfd = open(st->diff, O_PATH | O_DIRECTORY | O_CLOEXEC);
  r = dirfd < 0 ? mk_error_sys(err, errno, "open `%s`", st->diff)
                : open_lower(p, i, lower, err);
  if (r == 0)
    r = mk_layer_inherit_dirs(dirfd, st->implicit.v, st->implicit.n, lower, i,
                              err);
  for (size_t k = 0; k < i; k++)
    mk_close(lower[k]);
  free(lower);
  if (r == 0)
    r = mk_store_publish_layer(p->ctx, st->work, p->diff_ids[i], p->chains[i],
                               st->size, err);
  if (r == 0) {
    st->fresh = 0; /* it is the store's now */
    mk_progress_update(p->progress, i, MK_PHASE_COMPLETE, 0, 0);
  }
  return r;
}

/* Bottom up, so each layer sees the ones below it when it takes the
 * attributes of the directories it only implies. */
static int publish_layers(struct pull *p, mk_error_t *err)
{
  for (size_t i = 0; i < p->manifest.nlayers; i++)
    if (p->staged[i].fresh && publish_one(p, i, err) < 0)
      return -1;
  return 0;
}

static void unstage(struct pull *p)
{
  mk_error_t ignored;

  for (size_t i = 0; p->staged && i < p->manifest.nlayers; i++) {
    struct staged *st = &p->staged[i];
    if (st->fresh)
      mk_remove_tree(st->work, &ignored);
    mk_close(st->lock);
    mk_strv_free(&st->implicit);
  }
  free(p->staged);
  p->staged = NULL;
}

static int by_chain(const void *a, const void *b, void *chains)
{
  const char(*c)[MK_DIGEST_LEN + 1] = chains;

  return strcmp(c[*(const size_t *)a], c[*(const size_t *)b]);
}

/* Takes every layer's lock before any work, in chain-id order: two pulls
 * sharing layers then never wait on each other in a cycle, and a second
 * pull of the same layers waits for the first to publish them, then finds
 * them there instead of downloading them again. Held until published. */
static int lock_all_layers(struct pull *p, mk_error_t *err)
{
  size_t n = p->manifest.nlayers;
  size_t *order = calloc(n + 1, sizeof(*order));

  if (!order)
    return mk_error_set(err, ENOMEM, "out of memory");
  for (size_t i = 0; i < n; i++)
    order[i] = i;
  qsort_r(order, n, sizeof(*order), by_chain, p->chains);
  for (size_t k = 0; k < n; k++) {
    size_t i = order[k];
    p->staged[i].lock = mk_store_lock_layer(p->ctx, p->chains[i], err);
    if (p->staged[i].lock < 0) {
      free(order);
      return -1;
    }
  }
  free(order);
  return 0;
}

static void *layer_worker(void *data)
{
  struct pull *p = data;
  sigset_t pipe_only;

  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_only, NULL);
  for (;;) {
    size_t i = atomic_fetch_add(&p->next_layer, 1);
    mk_error_t err = {0};
    if (i >= p->manifest.nlayers || atomic_load(&p->failed))
      return NULL;
    if (pull_layer(p, i, &err) < 0 && !atomic_exchange(&p->failed, 1))
      p->first_error = err;
  }
}

static int pull_layers(struct pull *p, mk_error_t *err)
{
  size_t n = p->manifest.nlayers < MAX_PARALLEL_LAYERS ? p->manifest.nlayers
                                                       : MAX_PARALLEL_LAYERS;
  pthread_t tids[MAX_PARALLEL_LAYERS];
  size_t started = 0;

  p->staged = calloc(p->manifest.nlayers + 1, sizeof(*p->staged));
  if (!p->staged)
    return mk_error_set(err, ENOMEM, "out of memory");
  for (size_t i = 0; i < p->manifest.nlayers; i++)
    p->staged[i].lock = -1;
  if (lock_all_layers(p, err) < 0)
    return -1;

  for (; started < n; started++)
    if (pthread_create(&tids[started], NULL, layer_worker, p) != 0)
      break;
  if (started == 0 && n > 0)
    return mk_error_set(err, EAGAIN, "cannot start download threads");
  for (size_t i = 0; i < started; i++)
    pthread_join(tids[i], NULL);
  if (atomic_load(&p->failed)) {
    *err = p->first_error;
    return -1;
  }
  return publish_layers(p, err);
}

/* --- manifest, index and config --- */

/* Whether claimed, a "sha256:" or "sha512:" digest, is that of data
 * (whose sha256 digest is sha256). */
static int digest_claim_holds(const char *claimed, const void *data, size_t len,
                              const char *sha256)
{
  struct sha512_ctx ctx;
  uint8_t raw[SHA512_DIGEST_SIZE];
  char hex[2 * SHA512_DIGEST_SIZE + 1];

  if (strncmp(claimed, "sha256:", 7) == 0)
    return strcmp(claimed, sha256) == 0;
  if (strncmp(claimed, "sha512:", 7) != 0)
    return 0;
  sha512_init(&ctx);
  sha512_update(&ctx, len, data);
  sha512_digest(&ctx, sizeof(raw), raw);
  for (size_t i = 0; i < sizeof(raw); i++)
    snprintf(hex + 2 * i, 3, "%02x", raw[i]);
  return strcmp(claimed + 7, hex) == 0;
}

/* A manifest is kept only if its bytes hash to the digest asked for (a
 * pull by digest) and to the registry's Docker-Content-Digest whenever
 * it sent one: by tag, that header is all there is to hold the bytes to.
 * The digest reported is always the one computed here, never the
 * header's, so a pull by tag without the header still has a true one. */
static int verify_manifest(const char *reference, const char *want,
                           const char *claimed, const struct mk_buf *body,
                           char digest[MK_DIGEST_LEN + 1], mk_error_t *err)
{
  const char *data = body->data ? body->data : "";

  mk_sha256_digest(data, body->len, digest);
  if (want && strcmp(want, digest) != 0)
    return mk_error_set(err, EBADMSG, "manifest %s: content has digest %s",
                        want, digest);
  if (claimed[0] && !digest_claim_holds(claimed, data, body->len, digest))
    return mk_error_set(err, EBADMSG,
                        "manifest %s: the registry's Docker-Content-Digest "
                        "is %s, but the content is %s",
                        reference, claimed, digest);
  return 0;
}

/* Fetches a manifest, verifies it (verify_manifest) and parses it. */
static int fetch_manifest(struct pull *p, const char *reference,
                          const char *want, struct mk_buf *body,
                          char digest[MK_DIGEST_LEN + 1], mk_error_t *err)
{
  char content_type[256], header_digest[MK_HEADER_DIGEST_MAX];

  if (mk_registry_get_manifest(&p->reg, reference, body, content_type,
                               header_digest, err) < 0 ||
      verify_manifest(reference, want, header_digest, body, digest, err) < 0)
    return -1;
  mk_manifest_free(&p->manifest);
  return mk_manifest_parse(body->data ? body->data : "", body->len,
                           content_type, &p->manifest, err);
}

static int resolve_manifest(struct pull *p, const struct mk_ref *ref,
                            char digest[MK_DIGEST_LEN + 1], mk_error_t *err)
{
  struct mk_buf body = {0};
  const struct mk_descriptor *entry;
  char chosen[MK_DIGEST_LEN + 1];
  int r;

  r = fetch_manifest(p, ref->digest[0] ? ref->digest : ref->tag,
                     ref->digest[0] ? ref->digest : NULL, &body, digest, err);
  if (r == 0 && p->manifest.is_index) {
    r = mk_manifest_select(&p->manifest, &p->opts->platform, &entry, err);
    if (r == 0) {
      memcpy(chosen, entry->digest, sizeof(chosen));
      mk_buf_free(&body);
      r = fetch_manifest(p, chosen, chosen, &body, chosen, err);
    }
    if (r == 0 && p->manifest.is_index)
      r = mk_error_set(err, EBADMSG, "index points at another index");
  }
  mk_buf_free(&body);
  return r;
}

struct config_sink {
  struct mk_buf buf;
};

static int config_to_buf(void *data, const void *b, size_t len)
{
  struct mk_buf *buf = data;

  if (buf->len + len > CONFIG_MAX)
    return -1;
  char *d = realloc(buf->data, buf->len + len + 1);
  if (!d)
    return -1;
  memcpy(d + buf->len, b, len);
  buf->data = d;
  buf->len += len;
  d[buf->len] = '\0';
  return 0;
}

static int fetch_config(struct pull *p, struct mk_buf *cfg, mk_error_t *err)
{
  const struct mk_descriptor *d = &p->manifest.config;
  uint64_t got = 0;
  char digest[MK_DIGEST_LEN + 1];

  if (d->size > CONFIG_MAX)
    return mk_error_set(err, EFBIG, "image config is %lld bytes",
                        (long long)d->size);
  if (mk_registry_get_blob(&p->reg, d->digest, config_to_buf, cfg, &got, err) <
      0)
    return err->msg[0] ? -1
                       : mk_error_set(err, EFBIG, "image config too large");
  mk_sha256_digest(cfg->data ? cfg->data : "", cfg->len, digest);
  if ((int64_t)cfg->len != d->size || strcmp(digest, d->digest) != 0)
    return mk_error_set(err, EBADMSG,
                        "image config %s: digest or size mismatch (got %s)",
                        d->digest, digest);
  if (mk_config_diff_ids(cfg->data, cfg->len, &p->diff_ids, &p->ndiff_ids,
                         err) < 0)
    return -1;
  if (p->ndiff_ids != p->manifest.nlayers)
    return mk_error_set(err, EBADMSG,
                        "image has %zu layers but its config lists %zu "
                        "diff_ids",
                        p->manifest.nlayers, p->ndiff_ids);
  return 0;
}

static void start_progress(struct pull *p)
{
  size_t n = p->manifest.nlayers;
  const char **ids = calloc(n + 1, sizeof(*ids));

  for (size_t i = 0; ids && i < n; i++)
    ids[i] = p->manifest.layers[i].digest + 7;
  p->progress = mk_progress_new(p->opts->out, n, ids);
  free(ids);
}

static void compute_chains(struct pull *p)
{
  p->chains = calloc(p->ndiff_ids ? p->ndiff_ids : 1, sizeof(*p->chains));
  if (!p->chains)
    abort();
  for (size_t i = 0; i < p->ndiff_ids; i++)
    mk_store_chain_id(i ? p->chains[i - 1] : NULL, p->diff_ids[i],
                      p->chains[i]);
}

static int pull_from(struct pull *p, const struct mk_ref *ref, const char *name,
                     mk_error_t *err)
{
  char digest[MK_DIGEST_LEN + 1];
  struct mk_buf cfg = {0};
  int lockfd, r;

  say(p, "%s: Pulling from %s\n", ref->tag[0] ? ref->tag : ref->digest,
      ref->path);
  if (mk_registry_connect(&p->reg, err) < 0 ||
      resolve_manifest(p, ref, digest, err) < 0 ||
      fetch_config(p, &cfg, err) < 0) {
    mk_buf_free(&cfg);
    return -1;
  }
  compute_chains(p);
  if (!p->opts->quiet)
    start_progress(p);
  int lease = mk_store_lease(p->ctx, p->chains, p->ndiff_ids, err);
  if (lease < 0) {
    mk_buf_free(&cfg);
    return -1;
  }
  r = pull_layers(p, err);
  unstage(p);
  if (r == 0 && (lockfd = mk_store_lock(p->ctx, err)) >= 0) {
    r = mk_store_add_image(p->ctx, cfg.data, cfg.len, p->chains, p->ndiff_ids,
                           name, err);
    mk_store_unlock(lockfd);
  } else if (r == 0) {
    r = -1;
  }
  mk_store_release(p->ctx, lease);
  mk_buf_free(&cfg);
  if (r == 0 && p->progress) {
    char line[128];
    snprintf(line, sizeof(line), "Digest: %s", digest);
    mk_progress_line(p->progress, line);
  }
  mk_progress_free(p->progress);
  p->progress = NULL;
  return r;
}

static void pull_free(struct pull *p)
{
  struct mk_strv ids = {p->diff_ids, p->ndiff_ids};

  mk_strv_free(&ids);
  free(p->chains);
  mk_manifest_free(&p->manifest);
  mk_registry_close(&p->reg);
  p->diff_ids = NULL;
  p->chains = NULL;
}

/* docker.io pulls try each configured mirror first, then Docker Hub. */
static int try_mirrors(struct pull *p, const struct mk_ref *ref,
                       const char *name, mk_error_t *err)
{
  char **mirrors = mk_registry_mirrors();
  int r = -1;

  for (size_t i = 0; mirrors && mirrors[i] && r < 0; i++) {
    const char *m = mirrors[i];
    const char *host = strstr(m, "://") ? strstr(m, "://") + 3 : m;
    if (mk_registry_open(&p->reg, host, ref->path, err) < 0)
      break;
    if (strncmp(m, "http://", 7) == 0)
      p->reg.insecure = 1;
    r = pull_from(p, ref, name, err);
    pull_free(p);
  }
  mk_strings_free(mirrors);
  return r;
}

int mk_pull(const struct mk_ctx *ctx, const char *text,
            const struct mk_pull_opts *opts, char *name_out, mk_error_t *err)
{
  struct pull p = {.ctx = ctx, .opts = opts};
  struct mk_ref ref;
  char name[512];
  int r = -1;

  if (mk_ref_parse(text, &ref, err) < 0 || mk_ctx_prepare_root(ctx, err) < 0)
    return -1;
  mk_ref_name(&ref, name, sizeof(name));
  if (name_out)
    snprintf(name_out, 512, "%s", name);
  pthread_mutex_init(&p.out_lock, NULL);
  p.max_layer_size = mk_max_layer_size();
  if (strcmp(ref.domain, "docker.io") == 0)
    r = try_mirrors(&p, &ref, name, err);
  if (r < 0 && mk_registry_open(&p.reg, ref.domain, ref.path, err) == 0) {
    r = pull_from(&p, &ref, name, err);
    pull_free(&p);
  }
  pthread_mutex_destroy(&p.out_lock);
  if (r == 0 && opts->out) {
    char shown[512];
    mk_ref_display(&ref, shown, sizeof(shown));
    if (!opts->quiet)
      fprintf(opts->out, "Status: Downloaded image for %s\n", shown);
    fprintf(opts->out, "%s\n", name);
  }
  return r;
}
