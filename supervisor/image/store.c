#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <nettle/sha2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "layer.h"
#include "mk_util.h"
#include "reference.h"
#include "base/strv.h"

#define HEX_OF(digest) ((digest) + 7)
#define BUILTIN_REF "docker.io/library/busybox:latest"

/* An image id read back from tags.json becomes a path below the store:
 * only sha256:<64 hex> is one. */
static int valid_image_id(const char *id)
{
  return id && strncmp(id, "sha256:", 7) == 0 && mk_is_hex(id + 7, 64, 64);
}

void mk_sha256_finish(struct sha256_ctx *hash, char out[MK_DIGEST_LEN + 1])
{
  unsigned char md[SHA256_DIGEST_SIZE];

  sha256_digest(hash, sizeof(md), md);
  memcpy(out, "sha256:", 7);
  for (unsigned i = 0; i < SHA256_DIGEST_SIZE; i++)
    snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
}

void mk_sha256_digest(const void *data, size_t len, char out[MK_DIGEST_LEN + 1])
{
  struct sha256_ctx hash;

  sha256_init(&hash);
  sha256_update(&hash, len, data);
  mk_sha256_finish(&hash, out);
}

/* Reads a whole small file into a NUL-terminated heap buffer. */
static char *read_file(const char *path, size_t *len_out, mk_error_t *err)
{
  _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  char *buf;

  if (fd < 0 || fstat(fd, &st) < 0) {
    mk_error_sys(err, errno, "read `%s`", path);
    return NULL;
  }
  buf = mk_xmalloc((size_t)st.st_size + 1);
  ssize_t n = mk_read_all(fd, buf, (size_t)st.st_size);
  if (n < 0) {
    free(buf);
    mk_error_sys(err, errno, "read `%s`", path);
    return NULL;
  }
  buf[n] = '\0';
  if (len_out)
    *len_out = (size_t)n;
  return buf;
}

/* Writes data to path atomically: a temp file renamed over it. */
static int write_file_atomic(const char *path, const void *data, size_t len,
                             mk_error_t *err)
{
  char tmp[PATH_MAX];
  _cleanup_close_ int fd = -1;

  if (mk_snprintf(tmp, sizeof(tmp), "%s.tmp%d", path, getpid()) >=
      (int)sizeof(tmp))
    return mk_error_set(err, ENAMETOOLONG, "path too long: `%s`", path);
  fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0 || mk_write_all(fd, data, len) < 0 || fsync(fd) < 0) {
    mk_error_sys(err, errno, "write `%s`", tmp);
    unlink(tmp);
    return -1;
  }
  if (rename(tmp, path) < 0) {
    mk_error_sys(err, errno, "rename `%s`", tmp);
    unlink(tmp);
    return -1;
  }
  return 0;
}

static json_t *load_tags(const struct mk_ctx *ctx, mk_error_t *err)
{
  char path[PATH_MAX];
  json_error_t jerr;
  json_t *tags;

  if (mk_root_path(ctx, path, err, "/images/tags.json") < 0)
    return NULL;
  if (access(path, F_OK) < 0 && errno == ENOENT)
    return json_object();
  tags = json_load_file(path, 0, &jerr);
  if (!tags || !json_is_object(tags)) {
    json_decref(tags);
    mk_error_set(err, EINVAL, "corrupt tag index `%s`: %s", path, jerr.text);
    return NULL;
  }
  return tags;
}

static int load_layer_dirs(const struct mk_ctx *ctx, struct mk_image *img,
                           mk_error_t *err)
{
  char path[PATH_MAX];
  _cleanup_free_ char *text = NULL;
  struct mk_strv dirs = {0};

  if (mk_root_path(ctx, path, err, "/images/sha256/%s/layers",
                   HEX_OF(img->id)) < 0 ||
      !(text = read_file(path, NULL, err)))
    return -1;
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
    if (strlen(line) != 64 || strspn(line, "0123456789abcdef") != 64)
      return mk_error_set(err, EINVAL, "corrupt layer list `%s`", path);
    if (mk_root_path(ctx, path, err, "/layers/sha256/%s/diff", line) < 0)
      return -1;
    mk_strv_push(&dirs, path);
  }
  img->layer_dirs = dirs.v;
  img->nlayers = dirs.n;
  return 0;
}

static int load_config(const struct mk_ctx *ctx, struct mk_image *img,
                       mk_error_t *err)
{
  char path[PATH_MAX];
  json_error_t jerr;

  if (mk_root_path(ctx, path, err, "/images/sha256/%s/config.json",
                   HEX_OF(img->id)) < 0)
    return -1;
  img->config = json_load_file(path, 0, &jerr);
  if (!img->config || !json_is_object(img->config))
    return mk_error_set(err, EINVAL, "image %.19s: bad config `%s`: %s",
                        img->id, path, jerr.text);
  return 0;
}

int mk_store_find(const struct mk_ctx *ctx, const char *ref,
                  struct mk_image *img, mk_error_t *err)
{
  struct mk_ref parsed;
  json_t *tags;
  const char *id;

  memset(img, 0, sizeof(*img));
  if (mk_ref_parse(ref, &parsed, err) < 0)
    return -1;
  mk_ref_name(&parsed, img->name, sizeof(img->name));
  if (!(tags = load_tags(ctx, err)))
    return -1;
  id = json_string_value(json_object_get(tags, img->name));
  if (!valid_image_id(id)) {
    json_decref(tags);
    return 0;
  }
  memcpy(img->id, id, MK_DIGEST_LEN + 1);
  json_decref(tags);
  if (load_layer_dirs(ctx, img, err) < 0 || load_config(ctx, img, err) < 0) {
    mk_image_free(img);
    return mk_error_prefix(err, "image `%s`", ref);
  }
  return 1;
}

void mk_image_free(struct mk_image *img)
{
  struct mk_strv dirs = {img->layer_dirs, img->nlayers};

  mk_strv_free(&dirs);
  json_decref(img->config);
  img->config = NULL;
  img->layer_dirs = NULL;
  img->nlayers = 0;
}

int mk_store_lock(const struct mk_ctx *ctx, mk_error_t *err)
{
  char path[PATH_MAX];
  int fd;

  if (mk_root_path(ctx, path, err, "/store.lock") < 0)
    return -1;
  fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return mk_error_sys(err, errno, "open `%s`", path);
  while (flock(fd, LOCK_EX) < 0) {
    if (errno != EINTR) {
      mk_error_sys(err, errno, "lock `%s`", path);
      close(fd);
      return -1;
    }
  }
  return fd;
}

void mk_store_unlock(int lockfd)
{
  mk_close(lockfd); /* closing the last fd drops the flock */
}

void mk_store_chain_id(const char *parent, const char *diff_id,
                       char out[MK_DIGEST_LEN + 1])
{
  char buf[2 * MK_DIGEST_LEN + 2];

  if (!parent) {
    memcpy(out, diff_id, MK_DIGEST_LEN + 1);
    return;
  }
  snprintf(buf, sizeof(buf), "%s %s", parent, diff_id);
  mk_sha256_digest(buf, strlen(buf), out);
}

int mk_store_has_layer(const struct mk_ctx *ctx, const char *chain)
{
  char path[PATH_MAX];
  mk_error_t ignored;

  return mk_root_path(ctx, path, &ignored, "/layers/sha256/%s/diff",
                      HEX_OF(chain)) == 0 &&
         access(path, F_OK) == 0;
}

int mk_store_new_layer_dir(const struct mk_ctx *ctx, char work[PATH_MAX],
                           char diff[PATH_MAX], mk_error_t *err)
{
  char rnd[33];

  if (mk_random_hex(rnd, 16, err) < 0 ||
      mk_root_path(ctx, work, err, "/tmp/layer-%s", rnd) < 0 ||
      mk_root_path(ctx, diff, err, "/tmp/layer-%s/diff", rnd) < 0)
    return -1;
  if (mkdir(work, 0700) < 0 || mkdir(diff, 0755) < 0)
    return mk_error_sys(err, errno, "mkdir `%s`", diff);
  return 0;
}

int mk_store_lock_layer(const struct mk_ctx *ctx, const char *chain,
                        mk_error_t *err)
{
  char path[PATH_MAX];
  int fd;

  if (mk_root_path(ctx, path, err, "/tmp/lock-%s", HEX_OF(chain)) < 0)
    return -1;
  fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return mk_error_sys(err, errno, "open `%s`", path);
  while (flock(fd, LOCK_EX) < 0)
    if (errno != EINTR) {
      mk_error_sys(err, errno, "lock `%s`", path);
      close(fd);
      return -1;
    }
  return fd;
}

/* Renames the whole directory into layers/: a crash never leaves a half
 * layer that looks complete. */
static int publish_locked(const struct mk_ctx *ctx, const char *work,
                          const char *diff_id, const char *chain, uint64_t size,
                          mk_error_t *err)
{
  char final[PATH_MAX], idpath[PATH_MAX], sizepath[PATH_MAX], text[32];
  mk_error_t ignored;

  if (mk_root_path(ctx, final, err, "/layers/sha256/%s", HEX_OF(chain)) < 0 ||
      mk_snprintf(idpath, sizeof(idpath), "%s/diff_id", work) < 0 ||
      mk_snprintf(sizepath, sizeof(sizepath), "%s/size", work) < 0)
    return -1;
  snprintf(text, sizeof(text), "%llu", (unsigned long long)size);
  if (write_file_atomic(idpath, diff_id, strlen(diff_id), err) < 0 ||
      write_file_atomic(sizepath, text, strlen(text), err) < 0)
    return -1;
  if (rename(work, final) < 0) {
    if (errno != EEXIST && errno != ENOTEMPTY)
      return mk_error_sys(err, errno, "publish layer `%s`", final);
    mk_remove_tree(work, &ignored); /* someone else published it first */
  }
  return 0;
}

int mk_store_publish_layer(const struct mk_ctx *ctx, const char *work,
                           const char *diff_id, const char *chain,
                           uint64_t size, mk_error_t *err)
{
  int lockfd = mk_store_lock(ctx, err), r;

  if (lockfd < 0)
    return -1;
  r = publish_locked(ctx, work, diff_id, chain, size, err);
  mk_store_unlock(lockfd);
  return r;
}

static int write_image_dir(const struct mk_ctx *ctx, const char *id,
                           const char *config, size_t config_len,
                           char (*chains)[MK_DIGEST_LEN + 1], size_t n,
                           mk_error_t *err)
{
  char dir[PATH_MAX], path[PATH_MAX];
  struct mk_strv lines = {0};
  size_t total = 0;

  if (mk_root_path(ctx, dir, err, "/images/sha256/%s", HEX_OF(id)) < 0)
    return -1;
  if (mkdir(dir, 0700) < 0 && errno != EEXIST)
    return mk_error_sys(err, errno, "mkdir `%s`", dir);
  for (size_t i = 0; i < n; i++)
    mk_strv_pushf(&lines, "%s\n", HEX_OF(chains[i]));
  _cleanup_free_ char *text = mk_xmalloc(n * 66 + 1);
  text[0] = '\0';
  for (size_t i = 0; i < n; i++) {
    memcpy(text + total, lines.v[i], 65);
    total += 65;
  }
  mk_strv_free(&lines);
  mk_snprintf(path, sizeof(path), "%s/layers", dir);
  if (write_file_atomic(path, text, total, err) < 0)
    return -1;
  mk_snprintf(path, sizeof(path), "%s/config.json", dir);
  return write_file_atomic(path, config, config_len, err);
}

int mk_store_set_tag(const struct mk_ctx *ctx, const char *tag_ref,
                     const char *id, mk_error_t *err)
{
  char path[PATH_MAX];
  json_t *tags = load_tags(ctx, err);
  char *text;
  int r;

  if (!tags)
    return -1;
  json_object_set_new(tags, tag_ref, json_string(id));
  text = json_dumps(tags, JSON_INDENT(2) | JSON_SORT_KEYS);
  json_decref(tags);
  if (!text)
    return mk_error_set(err, ENOMEM, "encode tag index");
  r = mk_root_path(ctx, path, err, "/images/tags.json");
  if (r == 0)
    r = write_file_atomic(path, text, strlen(text), err);
  free(text);
  return r;
}

int mk_store_add_image(const struct mk_ctx *ctx, const char *config,
                       size_t config_len, char (*chains)[MK_DIGEST_LEN + 1],
                       size_t nchains, const char *tag_ref, mk_error_t *err)
{
  char id[MK_DIGEST_LEN + 1];

  mk_sha256_digest(config, config_len, id);
  if (write_image_dir(ctx, id, config, config_len, chains, nchains, err) < 0)
    return -1;
  return tag_ref ? mk_store_set_tag(ctx, tag_ref, id, err) : 0;
}

int mk_store_is_builtin_ref(const char *ref)
{
  struct mk_ref parsed;
  char name[512];
  mk_error_t ignored;

  if (mk_ref_parse(ref, &parsed, &ignored) < 0)
    return 0;
  mk_ref_name(&parsed, name, sizeof(name));
  return strcmp(name, BUILTIN_REF) == 0;
}

static int compare_tags(const void *a, const void *b)
{
  return strcmp(((const struct mk_tag *)a)->name,
                ((const struct mk_tag *)b)->name);
}

int mk_store_list_tags(const struct mk_ctx *ctx, struct mk_tag **tags,
                       size_t *n, mk_error_t *err)
{
  json_t *all = load_tags(ctx, err), *v;
  const char *key;

  if (!all)
    return -1;
  *n = 0;
  *tags = calloc(json_object_size(all) + 1, sizeof(**tags));
  if (!*tags) {
    json_decref(all);
    return mk_error_set(err, ENOMEM, "out of memory");
  }
  json_object_foreach(all, key, v)
  {
    const char *id = json_string_value(v);
    if (!valid_image_id(id))
      continue;
    mk_snprintf((*tags)[*n].name, sizeof((*tags)[*n].name), "%s", key);
    memcpy((*tags)[*n].id, id, MK_DIGEST_LEN + 1);
    (*n)++;
  }
  json_decref(all);
  qsort(*tags, *n, sizeof(**tags), compare_tags);
  return 0;
}

static char **image_layer_chains(const struct mk_ctx *ctx, const char *id)
{
  char path[PATH_MAX];
  mk_error_t ignored;
  struct mk_strv out = {0};
  _cleanup_free_ char *text = NULL;

  if (mk_root_path(ctx, path, &ignored, "/images/sha256/%s/layers",
                   HEX_OF(id)) < 0 ||
      !(text = read_file(path, NULL, &ignored)))
    return NULL;
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
    if (strlen(line) == 64)
      mk_strv_push(&out, line);
  return out.v ? out.v : calloc(1, sizeof(char *));
}

uint64_t mk_store_image_size(const struct mk_ctx *ctx, const char *id)
{
  char **chains = image_layer_chains(ctx, id), path[PATH_MAX];
  uint64_t total = 0;
  mk_error_t ignored;

  for (size_t i = 0; chains && chains[i]; i++) {
    _cleanup_free_ char *text = NULL;
    if (mk_root_path(ctx, path, &ignored, "/layers/sha256/%s/size",
                     chains[i]) == 0 &&
        (text = read_file(path, NULL, &ignored)))
      total += strtoull(text, NULL, 10);
  }
  for (size_t i = 0; chains && chains[i]; i++)
    free(chains[i]);
  free(chains);
  return total;
}

long long mk_store_image_created(const struct mk_ctx *ctx, const char *id)
{
  char path[PATH_MAX];
  mk_error_t ignored;
  struct tm tm = {0};
  json_t *cfg;
  long long t = -1;

  if (mk_root_path(ctx, path, &ignored, "/images/sha256/%s/config.json",
                   HEX_OF(id)) < 0 ||
      !(cfg = json_load_file(path, 0, NULL)))
    return -1;
  const char *created = json_string_value(json_object_get(cfg, "created"));
  if (created && strptime(created, "%Y-%m-%dT%H:%M:%S", &tm))
    t = (long long)timegm(&tm);
  json_decref(cfg);
  return t;
}

static int find_id_prefix(const struct mk_ctx *ctx, const char *hex,
                          char id[MK_DIGEST_LEN + 1], mk_error_t *err)
{
  char dir[PATH_MAX];
  size_t n = strlen(hex), found = 0;

  if (mk_root_path(ctx, dir, err, "/images/sha256") < 0)
    return -1;
  DIR *d = opendir(dir);
  struct dirent *de;
  while (d && (de = readdir(d)))
    if (strlen(de->d_name) == 64 && strncmp(de->d_name, hex, n) == 0 &&
        found++ == 0)
      snprintf(id, MK_DIGEST_LEN + 1, "sha256:%s", de->d_name);
  if (d)
    closedir(d);
  return found == 1 ? 0 : -1;
}

int mk_store_resolve_image(const struct mk_ctx *ctx, const char *key,
                           char id[MK_DIGEST_LEN + 1], char tag_out[512],
                           int *is_tag, mk_error_t *err)
{
  struct mk_ref ref;
  mk_error_t ignored;
  json_t *tags;
  const char *hex = strncmp(key, "sha256:", 7) == 0 ? key + 7 : key;

  *is_tag = 0;
  if (strlen(hex) >= 4 && strlen(hex) <= 64 &&
      strspn(hex, "0123456789abcdef") == strlen(hex) &&
      find_id_prefix(ctx, hex, id, &ignored) == 0)
    return 0;
  if (mk_ref_parse(key, &ref, err) < 0)
    return -1;
  mk_ref_name(&ref, tag_out, 512);
  if (!(tags = load_tags(ctx, err)))
    return -1;
  const char *v = json_string_value(json_object_get(tags, tag_out));
  if (valid_image_id(v)) {
    memcpy(id, v, MK_DIGEST_LEN + 1);
    *is_tag = 1;
  }
  json_decref(tags);
  return *is_tag ? 0 : mk_error_set(err, ENOENT, "No such image: %s", key);
}

static int save_tags(const struct mk_ctx *ctx, json_t *tags, mk_error_t *err)
{
  char path[PATH_MAX];
  _cleanup_free_ char *text = json_dumps(tags, JSON_INDENT(2) | JSON_SORT_KEYS);

  if (!text)
    return mk_error_set(err, ENOMEM, "encode tag index");
  if (mk_root_path(ctx, path, err, "/images/tags.json") < 0)
    return -1;
  return write_file_atomic(path, text, strlen(text), err);
}

static int count_tags_of(json_t *tags, const char *id)
{
  const char *key;
  json_t *v;
  int n = 0;

  json_object_foreach(tags, key, v)
  {
    const char *s = json_string_value(v);
    n += s && strcmp(s, id) == 0;
  }
  return n;
}

int mk_store_untag(const struct mk_ctx *ctx, const char *name, mk_error_t *err)
{
  int lockfd = mk_store_lock(ctx, err), left = -1;
  json_t *tags;

  if (lockfd < 0)
    return -1;
  if ((tags = load_tags(ctx, err))) {
    const char *v = json_string_value(json_object_get(tags, name));
    char id[MK_DIGEST_LEN + 1] = "";
    if (v)
      snprintf(id, sizeof(id), "%s", v);
    json_object_del(tags, name);
    if (save_tags(ctx, tags, err) == 0)
      left = count_tags_of(tags, id);
    json_decref(tags);
  }
  mk_store_unlock(lockfd);
  return left;
}

static int remove_untagged(const struct mk_ctx *ctx, const char *id,
                           mk_error_t *err)
{
  json_t *tags = load_tags(ctx, err), *v;
  const char *key;
  void *tmp;
  char dir[PATH_MAX];

  if (!tags)
    return -1;
  json_object_foreach_safe(tags, tmp, key, v)
  {
    if (strcmp(json_string_value(v) ? json_string_value(v) : "", id) == 0)
      json_object_del(tags, key);
  }
  int r = save_tags(ctx, tags, err);
  json_decref(tags);
  if (r == 0 &&
      mk_root_path(ctx, dir, err, "/images/sha256/%s", HEX_OF(id)) == 0)
    r = mk_remove_tree(dir, err);
  return r;
}

/* Marks every layer some image still lists. */
static json_t *referenced_layers(const struct mk_ctx *ctx, mk_error_t *err)
{
  char dir[PATH_MAX];
  json_t *used = json_object();
  struct dirent *de;

  if (mk_root_path(ctx, dir, err, "/images/sha256") < 0)
    return used;
  DIR *d = opendir(dir);
  while (d && (de = readdir(d))) {
    char id[MK_DIGEST_LEN + 8];
    if (strlen(de->d_name) != 64)
      continue;
    snprintf(id, sizeof(id), "sha256:%s", de->d_name);
    char **chains = image_layer_chains(ctx, id);
    for (size_t i = 0; chains && chains[i]; i++) {
      json_object_set_new(used, chains[i], json_true());
      free(chains[i]);
    }
    free(chains);
  }
  if (d)
    closedir(d);
  return used;
}

int mk_store_lease(const struct mk_ctx *ctx, char (*chains)[MK_DIGEST_LEN + 1],
                   size_t n, mk_error_t *err)
{
  char path[PATH_MAX], rnd[17];
  int fd;

  if (mk_random_hex(rnd, 8, err) < 0 ||
      mk_root_path(ctx, path, err, "/tmp/lease-%s", rnd) < 0)
    return -1;
  fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0 || flock(fd, LOCK_SH) < 0)
    return mk_error_sys(err, errno, "create lease `%s`", path);
  for (size_t i = 0; i < n; i++)
    if (dprintf(fd, "%s\n", HEX_OF(chains[i])) < 0)
      return mk_error_sys(err, errno, "write lease `%s`", path);
  return fd;
}

void mk_store_release(const struct mk_ctx *ctx, int lease_fd)
{
  char link[64], path[PATH_MAX];
  ssize_t n;

  (void)ctx;
  snprintf(link, sizeof(link), "/proc/self/fd/%d", lease_fd);
  n = readlink(link, path, sizeof(path) - 1);
  if (n > 0) {
    path[n] = '\0';
    unlink(path);
  }
  mk_close(lease_fd);
}

/* Adds the chains of live leases to used; removes dead leases. Returns
 * the number of live ones. */
static int honour_leases(const struct mk_ctx *ctx, json_t *used)
{
  char dir[PATH_MAX], path[PATH_MAX];
  mk_error_t ignored;
  struct dirent *de;
  int live = 0;

  if (mk_root_path(ctx, dir, &ignored, "/tmp") < 0)
    return 0;
  DIR *d = opendir(dir);
  while (d && (de = readdir(d))) {
    if (strncmp(de->d_name, "lease-", 6) != 0 ||
        mk_snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) < 0)
      continue;
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      continue;
    if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
      unlink(path); /* its pull is gone */
      continue;
    }
    live++;
    _cleanup_free_ char *text = read_file(path, NULL, &ignored);
    for (char *l = text ? strtok(text, "\n") : NULL; l; l = strtok(NULL, "\n"))
      json_object_set_new(used, l, json_true());
  }
  if (d)
    closedir(d);
  return live;
}

/* Unpacks left by killed pulls; only when no pull is running. */
static void remove_stale_work(const struct mk_ctx *ctx)
{
  char dir[PATH_MAX], path[PATH_MAX];
  mk_error_t ignored;
  struct dirent *de;

  if (mk_root_path(ctx, dir, &ignored, "/tmp") < 0)
    return;
  DIR *d = opendir(dir);
  while (d && (de = readdir(d))) {
    int work = strncmp(de->d_name, "layer-", 6) == 0 ||
               strncmp(de->d_name, "load-", 5) == 0;
    int lock = strncmp(de->d_name, "lock-", 5) == 0;
    if ((!work && !lock) ||
        mk_snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) < 0)
      continue;
    if (work) {
      mk_remove_tree(path, &ignored);
      continue;
    }
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0)
      unlink(path);
  }
  if (d)
    closedir(d);
}

static int prune_locked(const struct mk_ctx *ctx, mk_error_t *err)
{
  char dir[PATH_MAX], path[PATH_MAX];
  json_t *used = referenced_layers(ctx, err);
  struct dirent *de;
  int removed = 0;

  if (honour_leases(ctx, used) == 0)
    remove_stale_work(ctx);

  if (mk_root_path(ctx, dir, err, "/layers/sha256") < 0) {
    json_decref(used);
    return -1;
  }
  DIR *d = opendir(dir);
  while (d && (de = readdir(d))) {
    if (strlen(de->d_name) != 64 || json_object_get(used, de->d_name))
      continue;
    if (mk_snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) == 0 &&
        mk_remove_tree(path, err) == 0)
      removed++;
  }
  if (d)
    closedir(d);
  json_decref(used);
  return removed;
}

int mk_store_delete_image(const struct mk_ctx *ctx, const char *id,
                          mk_error_t *err)
{
  int lockfd = mk_store_lock(ctx, err), r;

  if (lockfd < 0)
    return -1;
  r = remove_untagged(ctx, id, err);
  if (r == 0 && prune_locked(ctx, err) < 0)
    r = -1;
  mk_store_unlock(lockfd);
  return r;
}

int mk_store_prune_layers(const struct mk_ctx *ctx, mk_error_t *err)
{
  int lockfd = mk_store_lock(ctx, err), r;

  if (lockfd < 0)
    return -1;
  r = prune_locked(ctx, err);
  mk_store_unlock(lockfd);
  return r;
}

int mk_store_image_ids(const struct mk_ctx *ctx, char ***ids, size_t *n,
                       mk_error_t *err)
{
  char dir[PATH_MAX];
  struct mk_strv out = {0};
  struct dirent *de;

  if (mk_root_path(ctx, dir, err, "/images/sha256") < 0)
    return -1;
  DIR *d = opendir(dir);
  while (d && (de = readdir(d)))
    if (strlen(de->d_name) == 64)
      mk_strv_pushf(&out, "sha256:%s", de->d_name);
  if (d)
    closedir(d);
  *ids = out.v ? out.v : calloc(1, sizeof(char *));
  *n = out.n;
  return 0;
}

json_t *mk_store_image_config(const struct mk_ctx *ctx, const char *id)
{
  char path[PATH_MAX];
  mk_error_t ignored;

  if (mk_root_path(ctx, path, &ignored, "/images/sha256/%s/config.json",
                   HEX_OF(id)) < 0)
    return NULL;
  return json_load_file(path, 0, NULL);
}
