#include "unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layer.h"
#include "mk_util.h"
#include "base/validate.h"

#define IO_CHUNK (128 * 1024)
#define DEFAULT_MAX_LAYER_SIZE (64ULL << 30)

struct decompressed {
  struct archive *raw;
  struct sha256_ctx hash;
  uint64_t bytes, limit;
  char buf[IO_CHUNK];
  int too_big;
};

static const char *const size_knobs[] = {"MOCKER_MAX_LAYER_SIZE",
                                         "MOCKER_MAX_LOAD_SIZE"};

static int env_bytes(const char *name, uint64_t *out, mk_error_t *err)
{
  const char *env = getenv(name);
  long long v;

  *out = 0;
  if (!env || !*env)
    return 0;
  if (mk_parse_bytes(env, &v, err) < 0)
    return mk_error_prefix(err, "invalid %s", name);
  if (v <= 0)
    return mk_error_set(err, EINVAL, "invalid %s \"%s\": must be positive",
                        name, env);
  *out = (uint64_t)v;
  return 0;
}

int mk_check_size_knobs(mk_error_t *err)
{
  uint64_t v;

  for (size_t i = 0; i < MK_ARRAY_SIZE(size_knobs); i++)
    if (env_bytes(size_knobs[i], &v, err) < 0)
      return -1;
  return 0;
}

uint64_t mk_size_knob(const char *name, uint64_t dflt)
{
  mk_error_t ignored;
  uint64_t v;

  return env_bytes(name, &v, &ignored) == 0 && v > 0 ? v : dflt;
}

uint64_t mk_max_layer_size(void)
{
  return mk_size_knob("MOCKER_MAX_LAYER_SIZE", DEFAULT_MAX_LAYER_SIZE);
}

static la_ssize_t read_decompressed(struct archive *a, void *data,
                                    const void **buf)
{
  struct decompressed *d = data;
  la_ssize_t n = archive_read_data(d->raw, d->buf, sizeof(d->buf));

  if (n > 0) {
    sha256_update(&d->hash, (size_t)n, (const uint8_t *)d->buf);
    d->bytes += (uint64_t)n;
    if (d->bytes > d->limit) {
      d->too_big = 1;
      if (a)
        archive_set_error(a, EFBIG, "uncompressed layer exceeds the limit");
      return -1;
    }
  }
  *buf = d->buf;
  return n;
}

static struct archive *open_raw(int fd)
{
  struct archive *raw = archive_read_new();
  struct archive_entry *e;

  archive_read_support_filter_gzip(raw);
  archive_read_support_filter_zstd(raw);
  archive_read_support_filter_xz(raw);
  archive_read_support_filter_bzip2(raw);
  archive_read_support_filter_none(raw);
  archive_read_support_format_raw(raw);
  if (archive_read_open_fd(raw, fd, IO_CHUNK) != ARCHIVE_OK ||
      archive_read_next_header(raw, &e) != ARCHIVE_OK) {
    archive_read_free(raw);
    return NULL;
  }
  return raw;
}

/* diff_id covers the whole stream, tar end padding included. */
static int drain(struct decompressed *d, mk_error_t *err)
{
  for (;;) {
    const void *ignored;
    la_ssize_t n = read_decompressed(NULL, d, &ignored);
    if (n == 0)
      return 0;
    if (n < 0)
      return d->too_big ? -1
                        : mk_error_set(err, EIO, "layer: %s",
                                       archive_error_string(d->raw));
  }
}

int mk_unpack_layer_fd(int fd, int dirfd, uint64_t limit,
                       struct mk_unpacked *out, mk_error_t *err)
{
  struct decompressed *d = calloc(1, sizeof(*d));
  struct archive *tar;
  int r;

  memset(out, 0, sizeof(*out));
  if (!d)
    return mk_error_set(err, ENOMEM, "out of memory");
  sha256_init(&d->hash);
  d->limit = limit;
  d->raw = open_raw(fd);
  if (!d->raw) {
    free(d);
    return mk_error_set(err, EIO, "layer: not a readable archive");
  }
  tar = archive_read_new();
  archive_read_support_format_tar(tar);
  archive_read_support_filter_none(tar);
  r = archive_read_open(tar, d, NULL, read_decompressed, NULL);
  if (r == ARCHIVE_OK)
    r = mk_layer_extract_ex(tar, dirfd, &out->implicit, err);
  else
    r = mk_error_set(err, EIO, "layer: %s", archive_error_string(tar));
  if (r == 0)
    r = drain(d, err);
  if (d->too_big)
    mk_error_set(err, EFBIG,
                 "uncompressed layer exceeds the limit of %llu bytes "
                 "(MOCKER_MAX_LAYER_SIZE)",
                 (unsigned long long)d->limit);
  int too_big = d->too_big;
  mk_sha256_finish(&d->hash, out->diff_id);
  out->size = d->bytes;
  archive_read_free(tar);
  archive_read_free(d->raw);
  free(d);
  return too_big ? -1 : r;
}
