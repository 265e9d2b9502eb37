#include "load.h"

#include <archive.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "layer.h"
#include "manifest.h"
#include "mk_pathres.h"
#include "mk_util.h"
#include "reference.h"
#include "store.h"
#include "strv.h"
#include "unpack.h"

#define CONFIG_MAX (8 * 1024 * 1024)

struct load {
  const struct mk_ctx *ctx;
  char dir[PATH_MAX]; /* the archive, unpacked (with our extractor) */
  int dirfd;
  FILE *out;
  int loaded;
};

/* Unpacks the outer archive into tmp/load-<random>/ with the same
 * contained writer as layers: its names are untrusted too. */
static int unpack_archive(struct load *l, struct archive *a, mk_error_t *err)
{
  char rnd[33];

  if (mk_random_hex(rnd, 16, err) < 0 ||
      mk_root_path(l->ctx, l->dir, err, "/tmp/load-%s", rnd) < 0)
    return -1;
  if (mkdir(l->dir, 0700) < 0)
    return mk_error_sys(err, errno, "mkdir `%s`", l->dir);
  l->dirfd = open(l->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (l->dirfd < 0)
    return mk_error_sys(err, errno, "open `%s`", l->dir);
  if (mk_layer_extract(a, l->dirfd, err) < 0)
    return mk_error_prefix(err, "read image archive");
  return 0;
}

/* Reads a file named by the (untrusted) archive, inside it only. */
static char *read_member(struct load *l, const char *name, size_t *len,
                         mk_error_t *err)
{
  _cleanup_close_ int fd = mk_open_in_root(l->dirfd, name, O_RDONLY, 0);
  struct mk_strv buf = {0};
  char *data;
  ssize_t n;

  if (fd < 0) {
    mk_error_sys(err, errno, "image archive: `%s`", name);
    return NULL;
  }
  data = mk_xmalloc(CONFIG_MAX + 1);
  n = mk_read_all(fd, data, CONFIG_MAX + 1);
  if (n < 0 || n > CONFIG_MAX) {
    free(data);
    mk_error_set(err, EFBIG, "image archive: `%s` unreadable or too large",
                 name);
    return NULL;
  }
  data[n] = '\0';
  *len = (size_t)n;
  (void)buf;
  return data;
}

/* Implied directories take their attributes from the layers below, which
 * load has already published (it goes bottom up). */
static int inherit_from_store(struct load *l, int dirfd,
                              const struct mk_strv *implicit,
                              char (*chains)[MK_DIGEST_LEN + 1], size_t i,
                              mk_error_t *err)
{
  int *lower = calloc(i + 1, sizeof(int)), r = 0;
  char path[PATH_MAX];

  if (!lower)
    return mk_error_set(err, ENOMEM, "out of memory");
  for (size_t k = 0; k < i; k++) {
    lower[k] = -1;
    if (r == 0 && mk_root_path(l->ctx, path, err, "/layers/sha256/%s/diff",
                               chains[i - 1 - k] + 7) == 0)
      lower[k] = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (r == 0 && lower[k] < 0)
      r = mk_error_sys(err, errno, "open lower layer `%s`", path);
  }
  if (r == 0)
    r = mk_layer_inherit_dirs(dirfd, implicit->v, implicit->n, lower, i, err);
  for (size_t k = 0; k < i; k++)
    mk_close(lower[k]);
  free(lower);
  return r;
}

static int load_layer(struct load *l, const char *member, const char *diff_id,
                      char (*chains)[MK_DIGEST_LEN + 1], size_t i,
                      mk_error_t *err)
{
  char work[PATH_MAX], diff[PATH_MAX];
  struct mk_unpacked u = {0};
  mk_error_t ignored;
  int r;

  if (mk_store_has_layer(l->ctx, chains[i]))
    return 0;
  _cleanup_close_ int fd = mk_open_in_root(l->dirfd, member, O_RDONLY, 0);
  if (fd < 0)
    return mk_error_sys(err, errno, "image archive: layer `%s`", member);
  if (mk_store_new_layer_dir(l->ctx, work, diff, err) < 0)
    return -1;
  _cleanup_close_ int dirfd = open(diff, O_PATH | O_DIRECTORY | O_CLOEXEC);
  r = dirfd < 0 ? mk_error_sys(err, errno, "open `%s`", diff)
                : mk_unpack_layer_fd(fd, dirfd, mk_max_layer_size(), &u, err);
  if (r == 0 && strcmp(u.diff_id, diff_id) != 0)
    r = mk_error_set(err, EBADMSG,
                     "layer `%s` has content %s, but the config's diff_id "
                     "is %s",
                     member, u.diff_id, diff_id);
  if (r == 0)
    r = inherit_from_store(l, dirfd, &u.implicit, chains, i, err);
  if (r == 0)
    r = mk_store_publish_layer(l->ctx, work, diff_id, chains[i], u.size, err);
  mk_strv_free(&u.implicit);
  if (r < 0)
    mk_remove_tree(work, &ignored);
  return r;
}

static void report(struct load *l, const char *id, json_t *tags)
{
  size_t i;
  json_t *v;

  l->loaded++;
  if (!l->out)
    return;
  if (json_array_size(tags) == 0)
    fprintf(l->out, "Loaded image ID: %s\n", id);
  for (i = 0; i < json_array_size(tags); i++) {
    v = json_array_get(tags, i);
    fprintf(l->out, "Loaded image: %s\n", json_string_value(v));
  }
}

/* One image: its config, its layers (paths inside the archive) in order,
 * and the names to tag it with. */
static int load_image(struct load *l, const char *config_member,
                      json_t *layer_members, json_t *tags, mk_error_t *err)
{
  size_t len, n = 0;
  char **diff_ids = NULL, id[MK_DIGEST_LEN + 1];
  int lease = -1;
  _cleanup_free_ char *config = read_member(l, config_member, &len, err);
  int r = -1;

  if (!config || mk_config_diff_ids(config, len, &diff_ids, &n, err) < 0)
    return -1;
  char(*chains)[MK_DIGEST_LEN + 1] = calloc(n + 1, sizeof(*chains));
  if (json_array_size(layer_members) != n || !chains) {
    mk_error_set(err, EBADMSG, "image archive: %zu layers for %zu diff_ids",
                 json_array_size(layer_members), n);
    goto out;
  }
  for (size_t i = 0; i < n; i++)
    mk_store_chain_id(i ? chains[i - 1] : NULL, diff_ids[i], chains[i]);
  /* Published layers are not yet listed by any image: lease them so a
   * concurrent prune leaves them (and our tmp/ work) alone. */
  lease = mk_store_lease(l->ctx, chains, n, err);
  if (lease < 0)
    goto out;
  for (size_t i = 0; i < n; i++) {
    const char *member = json_string_value(json_array_get(layer_members, i));
    if (!member) {
      mk_error_set(err, EBADMSG, "image archive: bad layer list");
      goto out;
    }
    if (load_layer(l, member, diff_ids[i], chains, i, err) < 0)
      goto out;
  }
  int lockfd = mk_store_lock(l->ctx, err);
  r = lockfd < 0
          ? -1
          : mk_store_add_image(l->ctx, config, len, chains, n, NULL, err);
  mk_store_unlock(lockfd);
  for (size_t i = 0; r == 0 && i < json_array_size(tags); i++) {
    struct mk_ref ref;
    char name[512];
    mk_sha256_digest(config, len, id);
    if (mk_ref_parse(json_string_value(json_array_get(tags, i)), &ref, err) < 0)
      r = -1;
    mk_ref_name(&ref, name, sizeof(name));
    lockfd = r == 0 ? mk_store_lock(l->ctx, err) : -1;
    if (lockfd < 0 || mk_store_set_tag(l->ctx, name, id, err) < 0)
      r = -1;
    mk_store_unlock(lockfd);
  }
  mk_sha256_digest(config, len, id);
  if (r == 0)
    report(l, id, tags);
out:
  if (lease >= 0)
    mk_store_release(l->ctx, lease);
  free(chains);
  struct mk_strv ids = {diff_ids, n};
  mk_strv_free(&ids);
  return r;
}

/* docker save: manifest.json = [{Config, RepoTags, Layers}, ...] */
static int load_docker_archive(struct load *l, json_t *manifest,
                               mk_error_t *err)
{
  size_t i;
  json_t *img;

  if (!json_is_array(manifest))
    return mk_error_set(err, EBADMSG, "manifest.json is not a list");
  json_array_foreach(manifest, i, img)
  {
    const char *config = json_string_value(json_object_get(img, "Config"));
    json_t *tags = json_object_get(img, "RepoTags");
    if (!config)
      return mk_error_set(err, EBADMSG, "manifest.json: entry without Config");
    if (load_image(l, config, json_object_get(img, "Layers"),
                   json_is_array(tags) ? tags : NULL, err) < 0)
      return -1;
  }
  return 0;
}

static void blob_path(const char *digest, char *out, size_t size)
{
  snprintf(out, size, "blobs/sha256/%s", digest + 7);
}

/* An OCI layout blob, checked against its digest as it is read. */
static char *read_blob(struct load *l, const char *digest, size_t *len,
                       mk_error_t *err)
{
  char path[128], got[MK_DIGEST_LEN + 1];
  char *data;

  if (!mk_valid_sha256_digest(digest)) {
    mk_error_set(err, EBADMSG, "OCI layout: bad digest `%s`", digest);
    return NULL;
  }
  blob_path(digest, path, sizeof(path));
  if (!(data = read_member(l, path, len, err)))
    return NULL;
  mk_sha256_digest(data, *len, got);
  if (strcmp(got, digest) != 0) {
    free(data);
    mk_error_set(err, EBADMSG, "OCI layout: blob %s has digest %s", digest,
                 got);
    return NULL;
  }
  return data;
}

static json_t *oci_tags(json_t *desc)
{
  json_t *ann = json_object_get(desc, "annotations"), *tags = json_array();
  const char *full =
      json_string_value(json_object_get(ann, "io.containerd.image.name"));
  const char *ref = json_string_value(
      json_object_get(ann, "org.opencontainers.image.ref.name"));

  if (full)
    json_array_append_new(tags, json_string(full));
  else if (ref && (strchr(ref, '/') || strchr(ref, ':')))
    json_array_append_new(tags, json_string(ref));
  return tags;
}

static int load_oci_manifest(struct load *l, json_t *desc, mk_error_t *err)
{
  const char *digest = json_string_value(json_object_get(desc, "digest"));
  size_t len;
  struct mk_manifest m;
  _cleanup_free_ char *data = read_blob(l, digest ? digest : "", &len, err);
  json_t *layers = json_array(), *tags = oci_tags(desc);
  char path[128];
  int r = -1;

  if (data && mk_manifest_parse(data, len, "", &m, err) == 0) {
    if (m.is_index)
      r = mk_error_set(err, ENOTSUP, "OCI layout: nested index in %s", digest);
    else {
      for (size_t i = 0; i < m.nlayers; i++) {
        blob_path(m.layers[i].digest, path, sizeof(path));
        json_array_append_new(layers, json_string(path));
      }
      blob_path(m.config.digest, path, sizeof(path));
      r = load_image(l, path, layers, tags, err);
    }
    mk_manifest_free(&m);
  }
  json_decref(layers);
  json_decref(tags);
  return r;
}

static int load_oci_layout(struct load *l, json_t *index, mk_error_t *err)
{
  size_t i;
  json_t *desc;

  json_array_foreach(json_object_get(index, "manifests"), i, desc)
  {
    if (load_oci_manifest(l, desc, err) < 0)
      return -1;
  }
  return l->loaded ? 0 : mk_error_set(err, ENOENT, "OCI layout: no images");
}

static json_t *load_json_member(struct load *l, const char *name)
{
  size_t len;
  mk_error_t ignored;
  _cleanup_free_ char *data = read_member(l, name, &len, &ignored);

  return data ? json_loadb(data, len, 0, NULL) : NULL;
}

static int load_from_archive(const struct mk_ctx *ctx, struct archive *a,
                             FILE *out, mk_error_t *err)
{
  struct load l = {.ctx = ctx, .dirfd = -1, .out = out};
  json_t *doc = NULL;
  mk_error_t ignored;
  int r;

  int lease = -1;

  r = mk_ctx_prepare_root(ctx, err);
  if (r == 0 && (lease = mk_store_lease(ctx, NULL, 0, err)) < 0)
    r = -1; /* keeps prune away from our tmp/ work */
  if (r == 0)
    r = unpack_archive(&l, a, err);
  if (r == 0 && (doc = load_json_member(&l, "manifest.json")))
    r = load_docker_archive(&l, doc, err);
  else if (r == 0 && (doc = load_json_member(&l, "index.json")))
    r = load_oci_layout(&l, doc, err);
  else if (r == 0)
    r = mk_error_set(err, EINVAL,
                     "not an image archive: neither manifest.json (docker "
                     "save) nor index.json (OCI layout) found");
  json_decref(doc);
  mk_close(l.dirfd);
  if (l.dir[0])
    mk_remove_tree(l.dir, &ignored);
  if (lease >= 0)
    mk_store_release(ctx, lease);
  return r;
}

static struct archive *new_reader(void)
{
  struct archive *a = archive_read_new();

  archive_read_support_format_tar(a);
  archive_read_support_filter_gzip(a);
  archive_read_support_filter_zstd(a);
  archive_read_support_filter_xz(a);
  archive_read_support_filter_bzip2(a);
  archive_read_support_filter_none(a);
  return a;
}

int mk_load_fd(const struct mk_ctx *ctx, int fd, FILE *out, mk_error_t *err)
{
  struct archive *a = new_reader();
  int r;

  if (archive_read_open_fd(a, fd, 128 * 1024) != ARCHIVE_OK)
    r = mk_error_set(err, EIO, "read image archive: %s",
                     archive_error_string(a));
  else
    r = load_from_archive(ctx, a, out, err);
  archive_read_free(a);
  return r;
}

int mk_load_memory(const struct mk_ctx *ctx, const void *buf, size_t len,
                   FILE *out, mk_error_t *err)
{
  struct archive *a = new_reader();
  int r;

  if (archive_read_open_memory(a, buf, len) != ARCHIVE_OK)
    r = mk_error_set(err, EIO, "read image archive: %s",
                     archive_error_string(a));
  else
    r = load_from_archive(ctx, a, out, err);
  archive_read_free(a);
  return r;
}
