#include "layer.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "mk_pathres.h"
#include "mk_util.h"
#include "context.h"
#include "strv.h"

#define WHITEOUT_PREFIX ".wh."
#define OPAQUE_MARKER ".wh..wh..opq"

/* Directory metadata is applied after all entries, deepest first, so that
 * creating children does not disturb a directory's mtime or a read-only
 * mode does not block them. */
struct dir_meta {
  char *path;
  mode_t mode;
  uid_t uid;
  gid_t gid;
  struct timespec mtime;
};

struct extract_ctx {
  int rootfd;
  struct dir_meta *dirs;
  size_t ndirs, cap;
  mk_error_t *err;
};

int mk_layer_clean_path(const char *in, char *out, size_t size)
{
  size_t o = 0;

  while (*in) {
    while (*in == '/')
      in++;
    const char *end = strchrnul(in, '/');
    size_t n = (size_t)(end - in);
    if (n == 2 && in[0] == '.' && in[1] == '.')
      return -1;
    if (n > 0 && !(n == 1 && in[0] == '.')) {
      if (o + n + 2 > size)
        return -1;
      if (o)
        out[o++] = '/';
      memcpy(out + o, in, n);
      o += n;
    }
    in = end;
  }
  if (size == 0)
    return -1;
  out[o] = '\0';
  return 0;
}

static void split_parent(char *path, const char **parent, const char **name)
{
  char *slash = strrchr(path, '/');

  if (!slash) {
    *parent = "";
    *name = path;
    return;
  }
  *slash = '\0';
  *parent = path;
  *name = slash + 1;
}

/* Opens (creating as needed) the parent directory, inside the layer. */
static int open_parent(struct extract_ctx *x, const char *parent)
{
  if (!*parent)
    return mk_open_in_root(x->rootfd, ".", O_PATH | O_DIRECTORY, 0);
  char abs[PATH_MAX];
  mk_snprintf(abs, sizeof(abs), "/%s", parent);
  return mk_mkdir_in_root(x->rootfd, abs, 0755, x->err);
}

/* Removes whatever is at name unless it is a directory we may merge into. */
static int clear_slot(int pfd, const char *name, int keep_dir)
{
  struct stat st;

  if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? 0 : -1;
  if (S_ISDIR(st.st_mode)) {
    if (keep_dir)
      return 0;
    mk_error_t ignored;
    return mk_remove_tree_at(pfd, name, &ignored);
  }
  return unlinkat(pfd, name, 0);
}

static int write_data(struct archive *a, int fd, mk_error_t *err)
{
  const void *buf;
  size_t size;
  la_int64_t offset;
  int r;

  while ((r = archive_read_data_block(a, &buf, &size, &offset)) == ARCHIVE_OK)
    if (pwrite(fd, buf, size, offset) != (ssize_t)size)
      return mk_error_sys(err, errno ? errno : EIO, "write layer file");
  if (r != ARCHIVE_EOF)
    return mk_error_set(err, EIO, "read layer: %s", archive_error_string(a));
  return 0;
}

static int apply_xattrs(struct archive_entry *e, int fd, const char *path,
                        mk_error_t *err)
{
  const char *name;
  const void *value;
  size_t size;

  archive_entry_xattr_reset(e);
  while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK)
    if (fsetxattr(fd, name, value, size, 0) < 0)
      return mk_error_sys(err, errno, "set xattr %s on `%s`", name, path);
  return 0;
}

static struct timespec entry_mtime(struct archive_entry *e)
{
  struct timespec ts = {archive_entry_mtime(e), archive_entry_mtime_nsec(e)};
  return ts;
}

static int make_regular(struct archive *a, struct archive_entry *e, int pfd,
                        const char *name, const char *path, mk_error_t *err)
{
  _cleanup_close_ int fd = -1;
  struct timespec times[2];

  if (clear_slot(pfd, name, 0) < 0)
    return mk_error_sys(err, errno, "replace `%s`", path);
  fd = openat(pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
              0600);
  if (fd < 0)
    return mk_error_sys(err, errno, "create `%s`", path);
  if (write_data(a, fd, err) < 0 || ftruncate(fd, archive_entry_size(e)) < 0)
    return mk_error_prefix(err, "`%s`", path);
  /* chown first: it clears setuid/setgid bits that chmod then restores. */
  if (fchown(fd, archive_entry_uid(e), archive_entry_gid(e)) < 0 ||
      fchmod(fd, archive_entry_perm(e)) < 0)
    return mk_error_sys(err, errno, "set owner and mode of `%s`", path);
  if (apply_xattrs(e, fd, path, err) < 0)
    return -1;
  times[0] = times[1] = entry_mtime(e);
  futimens(fd, times);
  return 0;
}

static int make_directory(struct extract_ctx *x, struct archive_entry *e,
                          int pfd, const char *name, const char *path)
{
  if (clear_slot(pfd, name, 1) < 0)
    return mk_error_sys(x->err, errno, "replace `%s`", path);
  if (mkdirat(pfd, name, 0700) < 0 && errno != EEXIST)
    return mk_error_sys(x->err, errno, "mkdir `%s`", path);
  _cleanup_close_ int fd =
      openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return mk_error_sys(x->err, errno, "open directory `%s`", path);
  if (apply_xattrs(e, fd, path, x->err) < 0)
    return -1;
  if (x->ndirs == x->cap) {
    x->cap = x->cap ? 2 * x->cap : 64;
    x->dirs = realloc(x->dirs, x->cap * sizeof(*x->dirs));
    if (!x->dirs)
      return mk_error_set(x->err, ENOMEM, "out of memory");
  }
  x->dirs[x->ndirs++] = (struct dir_meta){
      mk_xstrdup(path), archive_entry_perm(e), archive_entry_uid(e),
      archive_entry_gid(e), entry_mtime(e)};
  return 0;
}

static int finish_nondir(struct archive_entry *e, int pfd, const char *name,
                         const char *path, mk_error_t *err)
{
  struct timespec times[2];

  if (fchownat(pfd, name, archive_entry_uid(e), archive_entry_gid(e),
               AT_SYMLINK_NOFOLLOW) < 0)
    return mk_error_sys(err, errno, "chown `%s`", path);
  times[0] = times[1] = entry_mtime(e);
  utimensat(pfd, name, times, AT_SYMLINK_NOFOLLOW);
  return 0;
}

static int make_symlink(struct archive_entry *e, int pfd, const char *name,
                        const char *path, mk_error_t *err)
{
  const char *target = archive_entry_symlink(e);

  if (!target)
    return mk_error_set(err, EINVAL, "symlink `%s` has no target", path);
  if (clear_slot(pfd, name, 0) < 0 || symlinkat(target, pfd, name) < 0)
    return mk_error_sys(err, errno, "symlink `%s`", path);
  return finish_nondir(e, pfd, name, path, err);
}

static int make_special(struct archive_entry *e, int pfd, const char *name,
                        const char *path, mk_error_t *err)
{
  mode_t type = archive_entry_filetype(e);
  dev_t dev = makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e));

  if (clear_slot(pfd, name, 0) < 0 ||
      mknodat(pfd, name, type | archive_entry_perm(e),
              type == AE_IFIFO ? 0 : dev) < 0)
    return mk_error_sys(err, errno, "mknod `%s`", path);
  if (finish_nondir(e, pfd, name, path, err) < 0)
    return -1;
  if (fchmodat(pfd, name, archive_entry_perm(e), 0) < 0)
    return mk_error_sys(err, errno, "chmod `%s`", path);
  return 0;
}

/* Hard links: the target must be an earlier entry inside this layer;
 * linkat never follows a symlink at the target's last component. */
static int make_hardlink(struct extract_ctx *x, struct archive_entry *e,
                         int pfd, const char *name, const char *path)
{
  char target[PATH_MAX];
  const char *tparent, *tname;

  if (mk_layer_clean_path(archive_entry_hardlink(e), target, sizeof(target)) <
          0 ||
      !*target)
    return mk_error_set(x->err, EPERM, "hardlink `%s` points outside the layer",
                        path);
  split_parent(target, &tparent, &tname);
  char abs[PATH_MAX];
  mk_snprintf(abs, sizeof(abs), "/%s", tparent);
  _cleanup_close_ int tfd =
      mk_open_in_root(x->rootfd, abs, O_PATH | O_DIRECTORY, 0);
  if (tfd < 0)
    return mk_error_sys(x->err, errno, "hardlink `%s`: target parent", path);
  if (clear_slot(pfd, name, 0) < 0 || linkat(tfd, tname, pfd, name, 0) < 0)
    return mk_error_sys(x->err, errno, "hardlink `%s`", path);
  return 0;
}

/* ".wh.NAME" deletes NAME from lower layers: an overlayfs whiteout is a
 * 0:0 character device. ".wh..wh..opq" marks the directory opaque. */
static int make_whiteout(struct extract_ctx *x, int pfd, const char *name,
                         const char *path)
{
  if (strcmp(name, OPAQUE_MARKER) == 0) {
    _cleanup_close_ int dfd =
        openat(pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || fsetxattr(dfd, "trusted.overlay.opaque", "y", 1, 0) < 0)
      return mk_error_sys(x->err, errno, "mark `%s` opaque", path);
    return 0;
  }
  const char *victim = name + strlen(WHITEOUT_PREFIX);
  if (!*victim || strcmp(victim, ".") == 0 || strcmp(victim, "..") == 0)
    return mk_error_set(x->err, EPERM, "invalid whiteout `%s`", path);
  if (clear_slot(pfd, victim, 0) < 0 ||
      mknodat(pfd, victim, S_IFCHR | 0, makedev(0, 0)) < 0)
    return mk_error_sys(x->err, errno, "whiteout `%s`", path);
  return 0;
}

static int extract_entry(struct extract_ctx *x, struct archive *a,
                         struct archive_entry *e)
{
  char path[PATH_MAX];
  const char *parent, *name;
  _cleanup_close_ int pfd = -1;
  mode_t type = archive_entry_filetype(e);

  if (mk_layer_clean_path(archive_entry_pathname(e), path, sizeof(path)) < 0)
    return mk_error_set(x->err, EPERM, "entry `%s` escapes the layer",
                        archive_entry_pathname(e));
  if (!*path)
    return 0; /* the layer root itself */
  char full[PATH_MAX];
  mk_snprintf(full, sizeof(full), "%s", path);
  split_parent(path, &parent, &name);
  pfd = open_parent(x, parent);
  if (pfd < 0)
    return x->err->msg[0] ? -1
                          : mk_error_sys(x->err, errno, "parent of `%s`", full);
  if (strncmp(name, WHITEOUT_PREFIX, strlen(WHITEOUT_PREFIX)) == 0)
    return make_whiteout(x, pfd, name, full);
  if (archive_entry_hardlink(e))
    return make_hardlink(x, e, pfd, name, full);
  switch (type) {
  case AE_IFREG: return make_regular(a, e, pfd, name, full, x->err);
  case AE_IFDIR: return make_directory(x, e, pfd, name, full);
  case AE_IFLNK: return make_symlink(e, pfd, name, full, x->err);
  case AE_IFCHR:
  case AE_IFBLK:
  case AE_IFIFO: return make_special(e, pfd, name, full, x->err);
  default:
    return mk_error_set(x->err, EINVAL, "`%s`: unsupported entry type 0%o",
                        full, (unsigned)type);
  }
}

/* Deepest first: children were all written, so mtimes stick. */
static int apply_dir_metadata(struct extract_ctx *x)
{
  int r = 0;

  for (size_t i = x->ndirs; i-- > 0;) {
    struct dir_meta *d = &x->dirs[i];
    char abs[PATH_MAX];
    mk_snprintf(abs, sizeof(abs), "/%s", d->path);
    _cleanup_close_ int fd =
        mk_open_in_root(x->rootfd, abs, O_RDONLY | O_DIRECTORY, 0);
    struct timespec times[2] = {d->mtime, d->mtime};
    if (r == 0 && (fd < 0 || fchown(fd, d->uid, d->gid) < 0 ||
                   fchmod(fd, d->mode) < 0 || futimens(fd, times) < 0))
      r = mk_error_sys(x->err, errno, "set metadata of `%s`", d->path);
    free(d->path);
  }
  free(x->dirs);
  return r;
}

int mk_layer_extract(struct archive *a, int dirfd, mk_error_t *err)
{
  struct extract_ctx x = {.rootfd = dirfd, .err = err};
  struct archive_entry *e;
  int r, failed = 0;

  err->msg[0] = '\0';
  while (!failed && (r = archive_read_next_header(a, &e)) == ARCHIVE_OK)
    failed = extract_entry(&x, a, e) < 0;
  if (!failed && r != ARCHIVE_EOF)
    failed =
        mk_error_set(err, EIO, "read layer: %s", archive_error_string(a)) < 0;
  if (apply_dir_metadata(&x) < 0)
    failed = 1;
  return failed ? -1 : 0;
}

int mk_layer_extract_memory(const void *tar, size_t len, int dirfd,
                            mk_error_t *err)
{
  struct archive *a = archive_read_new();
  int r;

  if (!a)
    return mk_error_set(err, ENOMEM, "archive_read_new");
  archive_read_support_format_tar(a);
  archive_read_support_filter_none(a);
  if (archive_read_open_memory(a, tar, len) != ARCHIVE_OK) {
    r = mk_error_set(err, EIO, "open layer: %s", archive_error_string(a));
    archive_read_free(a);
    return r;
  }
  r = mk_layer_extract(a, dirfd, err);
  archive_read_free(a);
  return r;
}
