#include "save.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <nettle/sha2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "mk_util.h"
#include "reference.h"
#include "load.h"
#include "store.h"
#include "base/strv.h"

#define OPAQUE_XATTR "trusted.overlay.opaque"
#define MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_OCI_LAYER "application/vnd.oci.image.layer.v1.tar"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"

/* A tar being written to a temp file, hashed on the way. */
struct layer_writer {
  struct archive *a;
  int fd;
  struct sha256_ctx hash;
  uint64_t size;
  json_t *inodes; /* "dev:ino" -> first path, for hard links */
};

static la_ssize_t hash_and_write(struct archive *a, void *data,
                                 const void *buf, size_t len)
{
  struct layer_writer *w = data;

  (void)a;
  if (mk_write_all(w->fd, buf, len) < 0)
    return -1;
  sha256_update(&w->hash, len, buf);
  w->size += len;
  return (la_ssize_t)len;
}

static int copy_xattrs(struct archive_entry *e, int dirfd, const char *name)
{
  char path[64], list[8192], value[65536];
  ssize_t n;

  snprintf(path, sizeof(path), "/proc/self/fd/%d", dirfd);
  char full[PATH_MAX];
  if (mk_snprintf(full, sizeof(full), "%s/%s", path, name) < 0)
    return 0;
  n = llistxattr(full, list, sizeof(list));
  for (ssize_t i = 0; i < n; i += (ssize_t)strlen(list + i) + 1) {
    if (strncmp(list + i, "trusted.overlay.", 16) == 0)
      continue;
    ssize_t v = lgetxattr(full, list + i, value, sizeof(value));
    if (v >= 0)
      archive_entry_xattr_add_entry(e, list + i, value, (size_t)v);
  }
  return 0;
}

static int write_entry(struct layer_writer *w, struct archive_entry *e,
                       int data_fd, mk_error_t *err)
{
  char buf[65536];
  ssize_t n;

  if (archive_write_header(w->a, e) != ARCHIVE_OK)
    return mk_error_set(err, EIO, "save: %s", archive_error_string(w->a));
  while (data_fd >= 0 && (n = read(data_fd, buf, sizeof(buf))) > 0)
    if (archive_write_data(w->a, buf, (size_t)n) != n)
      return mk_error_set(err, EIO, "save: %s", archive_error_string(w->a));
  return 0;
}

/* A 0:0 character device is an overlay whiteout: ".wh.NAME" in the tar. */
static int is_whiteout(const struct stat *st)
{
  return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

static int add_path(struct layer_writer *w, int dirfd, const char *name,
                    const char *rel, mk_error_t *err);

static int add_children(struct layer_writer *w, int fd, const char *rel,
                        mk_error_t *err)
{
  struct dirent **names;
  int n = scandirat(fd, ".", &names, NULL, alphasort), r = 0;

  if (n < 0)
    return mk_error_sys(err, errno, "save: read `%s`", rel);
  for (int i = 0; i < n; i++) {
    const char *nm = names[i]->d_name;
    char child[PATH_MAX];
    if (r == 0 && strcmp(nm, ".") && strcmp(nm, "..") &&
        mk_snprintf(child, sizeof(child), "%s%s%s", rel, *rel ? "/" : "",
                    nm) == 0)
      r = add_path(w, fd, nm, child, err);
    free(names[i]);
  }
  free(names);
  return r;
}

static int add_opaque_marker(struct layer_writer *w, const char *rel,
                             const struct stat *st, mk_error_t *err)
{
  struct archive_entry *e = archive_entry_new();
  char path[PATH_MAX];
  int r;

  mk_snprintf(path, sizeof(path), "%s/.wh..wh..opq", rel);
  archive_entry_set_pathname(e, path);
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_perm(e, 0644);
  archive_entry_set_mtime(e, st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
  r = write_entry(w, e, -1, err);
  archive_entry_free(e);
  return r;
}

static void describe(struct archive_entry *e, const struct stat *st,
                     const char *rel)
{
  archive_entry_set_pathname(e, rel);
  archive_entry_copy_stat(e, st);
  archive_entry_set_uname(e, "");
  archive_entry_set_gname(e, "");
}

static int add_path(struct layer_writer *w, int dirfd, const char *name,
                    const char *rel, mk_error_t *err)
{
  struct stat st;
  struct archive_entry *e;
  _cleanup_close_ int fd = -1;
  char key[64], target[PATH_MAX];
  int r = 0;

  if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return mk_error_sys(err, errno, "save: stat `%s`", rel);
  e = archive_entry_new();
  if (is_whiteout(&st)) {
    char wh[PATH_MAX];
    const char *slash = strrchr(rel, '/');
    mk_snprintf(wh, sizeof(wh), "%.*s%s.wh.%s",
                slash ? (int)(slash - rel) : 0, rel, slash ? "/" : "", name);
    archive_entry_set_pathname(e, wh);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    r = write_entry(w, e, -1, err);
    archive_entry_free(e);
    return r;
  }
  describe(e, &st, rel);
  copy_xattrs(e, dirfd, name);
  snprintf(key, sizeof(key), "%lu:%lu", (unsigned long)st.st_dev,
           (unsigned long)st.st_ino);
  if (S_ISREG(st.st_mode) && st.st_nlink > 1 &&
      json_object_get(w->inodes, key)) {
    archive_entry_set_hardlink(e, json_string_value(json_object_get(w->inodes, key)));
    archive_entry_set_size(e, 0);
    r = write_entry(w, e, -1, err);
  } else if (S_ISLNK(st.st_mode)) {
    ssize_t n = readlinkat(dirfd, name, target, sizeof(target) - 1);
    target[n > 0 ? n : 0] = '\0';
    archive_entry_set_symlink(e, target);
    r = write_entry(w, e, -1, err);
  } else if (S_ISREG(st.st_mode)) {
    json_object_set_new(w->inodes, key, json_string(rel));
    fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    r = fd < 0 ? mk_error_sys(err, errno, "save: open `%s`", rel)
               : write_entry(w, e, fd, err);
  } else {
    r = write_entry(w, e, -1, err);
  }
  archive_entry_free(e);
  if (r == 0 && S_ISDIR(st.st_mode)) {
    fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
      return mk_error_sys(err, errno, "save: open `%s`", rel);
    char v[2];
    if (fgetxattr(fd, OPAQUE_XATTR, v, sizeof(v)) == 1 && v[0] == 'y')
      r = add_opaque_marker(w, rel, &st, err);
    if (r == 0)
      r = add_children(w, fd, rel, err);
  }
  return r;
}

/* Writes the layer's tar into a temp file (fd); diff_id and size out. */
static int write_layer_tar(const char *diff_dir, int fd,
                           char diff_id[MK_DIGEST_LEN + 1], uint64_t *size,
                           mk_error_t *err)
{
  struct layer_writer w = {.fd = fd, .inodes = json_object()};
  _cleanup_close_ int dfd = open(diff_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int r;

  sha256_init(&w.hash);
  w.a = archive_write_new();
  archive_write_set_format_pax_restricted(w.a);
  archive_write_set_bytes_in_last_block(w.a, 1);
  if (dfd < 0)
    r = mk_error_sys(err, errno, "save: open `%s`", diff_dir);
  else if (archive_write_open(w.a, &w, NULL, hash_and_write, NULL) !=
           ARCHIVE_OK)
    r = mk_error_set(err, EIO, "save: %s", archive_error_string(w.a));
  else
    r = add_children(&w, dfd, "", err);
  if (archive_write_close(w.a) != ARCHIVE_OK && r == 0)
    r = mk_error_set(err, EIO, "save: %s", archive_error_string(w.a));
  archive_write_free(w.a);
  json_decref(w.inodes);
  mk_sha256_finish(&w.hash, diff_id);
  *size = w.size;
  return r;
}

/* --- the outer archive --- */

static int add_bytes(struct archive *out, const char *name, const void *data,
                     size_t len, mk_error_t *err)
{
  struct archive_entry *e = archive_entry_new();
  int r = 0;

  archive_entry_set_pathname(e, name);
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_perm(e, 0644);
  archive_entry_set_size(e, (la_int64_t)len);
  if (archive_write_header(out, e) != ARCHIVE_OK ||
      (len && archive_write_data(out, data, len) != (la_ssize_t)len))
    r = mk_error_set(err, EIO, "save: %s", archive_error_string(out));
  archive_entry_free(e);
  return r;
}

static int add_file(struct archive *out, const char *name, int fd,
                    uint64_t size, mk_error_t *err)
{
  struct archive_entry *e = archive_entry_new();
  char buf[65536];
  ssize_t n;
  int r = 0;

  archive_entry_set_pathname(e, name);
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_perm(e, 0644);
  archive_entry_set_size(e, (la_int64_t)size);
  if (lseek(fd, 0, SEEK_SET) < 0 || archive_write_header(out, e) != ARCHIVE_OK)
    r = mk_error_set(err, EIO, "save: %s", archive_error_string(out));
  while (r == 0 && (n = read(fd, buf, sizeof(buf))) > 0)
    if (archive_write_data(out, buf, (size_t)n) != n)
      r = mk_error_set(err, EIO, "save: %s", archive_error_string(out));
  archive_entry_free(e);
  return r;
}

static int add_json(struct archive *out, const char *name, json_t *doc,
                    char digest[MK_DIGEST_LEN + 1], size_t *len,
                    mk_error_t *err)
{
  _cleanup_free_ char *text = json_dumps(doc, JSON_COMPACT);
  char path[128];

  if (!text)
    return mk_error_set(err, ENOMEM, "save: encode %s", name);
  *len = strlen(text);
  mk_sha256_digest(text, *len, digest);
  if (!name) {
    snprintf(path, sizeof(path), "blobs/sha256/%s", digest + 7);
    name = path;
  }
  return add_bytes(out, name, text, *len, err);
}

struct saved_image {
  json_t *manifest_entry; /* for manifest.json */
  json_t *index_entry;    /* for index.json */
};

static int save_layers(const struct mk_ctx *ctx, struct archive *out,
                       struct mk_image *img, json_t *diff_ids,
                       json_t *docker_layers, json_t *oci_layers,
                       mk_error_t *err)
{
  for (size_t i = 0; i < img->nlayers; i++) {
    char tmpl[PATH_MAX], diff_id[MK_DIGEST_LEN + 1], name[128];
    uint64_t size = 0;
    if (mk_root_path(ctx, tmpl, err, "/tmp/save-XXXXXX") < 0)
      return -1;
    _cleanup_close_ int fd = mkostemp(tmpl, O_CLOEXEC);
    if (fd < 0)
      return mk_error_sys(err, errno, "save: temp file");
    unlink(tmpl);
    if (write_layer_tar(img->layer_dirs[i], fd, diff_id, &size, err) < 0)
      return -1;
    snprintf(name, sizeof(name), "blobs/sha256/%s", diff_id + 7);
    if (add_file(out, name, fd, size, err) < 0)
      return -1;
    json_array_append_new(diff_ids, json_string(diff_id));
    json_array_append_new(docker_layers, json_string(name));
    json_array_append_new(oci_layers,
                          json_pack("{s:s, s:s, s:I}", "mediaType",
                                    MT_OCI_LAYER, "digest", diff_id, "size",
                                    (json_int_t)size));
  }
  return 0;
}

static int save_one(const struct mk_ctx *ctx, struct archive *out,
                    const char *key, struct saved_image *s, mk_error_t *err)
{
  struct mk_image img;
  json_t *diff_ids = json_array(), *docker_layers = json_array();
  json_t *oci_layers = json_array(), *tags = json_array();
  char cfg_digest[MK_DIGEST_LEN + 1], man_digest[MK_DIGEST_LEN + 1];
  size_t cfg_len, man_len;
  int r = mk_store_find(ctx, key, &img, err);

  if (r == 0 && mk_store_is_builtin_ref(key)) { /* embedded: import it */
    r = mk_load_builtin(ctx, err) < 0 ? -1
                                      : mk_store_find(ctx, key, &img, err);
  }
  if (r == 0)
    r = mk_error_set(err, ENOENT, "No such image: %s", key);
  if (r > 0)
    r = save_layers(ctx, out, &img, diff_ids, docker_layers, oci_layers, err);
  if (r == 0) {
    json_t *cfg = json_deep_copy(img.config);
    json_t *rootfs = json_object_get(cfg, "rootfs");
    json_object_set(rootfs, "diff_ids", diff_ids);
    r = add_json(out, NULL, cfg, cfg_digest, &cfg_len, err);
    json_decref(cfg);
  }
  if (r == 0) {
    struct mk_ref ref;
    char shown[512];
    if (mk_ref_parse(img.name, &ref, err) == 0 && ref.tag[0]) {
      mk_ref_display(&ref, shown, sizeof(shown));
      json_array_append_new(tags, json_string(shown));
    }
    json_t *man = json_pack(
        "{s:i, s:s, s:{s:s, s:s, s:I}, s:O}", "schemaVersion", 2,
        "mediaType", MT_OCI_MANIFEST, "config", "mediaType", MT_OCI_CONFIG,
        "digest", cfg_digest, "size", (json_int_t)cfg_len, "layers",
        oci_layers);
    r = add_json(out, NULL, man, man_digest, &man_len, err);
    json_decref(man);
    char cfg_name[128];
    snprintf(cfg_name, sizeof(cfg_name), "blobs/sha256/%s", cfg_digest + 7);
    s->manifest_entry = json_pack("{s:s, s:O, s:O}", "Config", cfg_name,
                                  "RepoTags", tags, "Layers", docker_layers);
    s->index_entry = json_pack(
        "{s:s, s:s, s:I, s:{s:s, s:s}}", "mediaType", MT_OCI_MANIFEST,
        "digest", man_digest, "size", (json_int_t)man_len, "annotations",
        "io.containerd.image.name", img.name, "org.opencontainers.image.ref.name",
        strrchr(img.name, ':') ? strrchr(img.name, ':') + 1 : "latest");
  }
  if (r > 0)
    r = 0;
  mk_image_free(&img);
  json_decref(diff_ids);
  json_decref(docker_layers);
  json_decref(oci_layers);
  json_decref(tags);
  return r;
}

int mk_save(const struct mk_ctx *ctx, char **images, int nimages, int out_fd,
            mk_error_t *err)
{
  struct archive *out = archive_write_new();
  json_t *manifest = json_array(), *index;
  char digest[MK_DIGEST_LEN + 1];
  size_t len;
  int r = 0;

  archive_write_set_format_pax_restricted(out);
  if (archive_write_open_fd(out, out_fd) != ARCHIVE_OK)
    r = mk_error_set(err, EIO, "save: %s", archive_error_string(out));
  index = json_pack("{s:i, s:[]}", "schemaVersion", 2, "manifests");
  for (int i = 0; r == 0 && i < nimages; i++) {
    struct saved_image s = {0};
    r = save_one(ctx, out, images[i], &s, err);
    if (r == 0) {
      json_array_append_new(manifest, s.manifest_entry);
      json_array_append_new(json_object_get(index, "manifests"),
                            s.index_entry);
    }
  }
  if (r == 0)
    r = add_json(out, "manifest.json", manifest, digest, &len, err);
  if (r == 0)
    r = add_json(out, "index.json", index, digest, &len, err);
  if (r == 0)
    r = add_bytes(out, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", 30,
                  err);
  if (archive_write_close(out) != ARCHIVE_OK && r == 0)
    r = mk_error_set(err, EIO, "save: %s", archive_error_string(out));
  archive_write_free(out);
  json_decref(manifest);
  json_decref(index);
  return r;
}
