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
#include "base/context.h"
#include "base/strv.h"

#define WHITEOUT_PREFIX ".wh."
#define WHITEOUT_META_PREFIX ".wh..wh."
#define OPAQUE_MARKER ".wh..wh..opq"
#define OPAQUE_XATTR "trusted.overlay.opaque"

/* Directory metadata is applied after all entries, so that creating
 * children does not disturb a directory's mtime and a read-only mode does
 * not block them. A later entry may replace or remove the directory, or
 * list it again: the record keeps the inode it was made for, and only the
 * last entry for an inode still in place is applied. */
struct dir_meta {
  char *path;
  size_t order; /* entry number in the layer */
  size_t depth; /* "/" count: deepest first */
  dev_t dev;
  ino_t ino;
  struct statx_timestamp btime; /* tells a reused inode number apart */
  int has_btime;
  mode_t mode;
  uid_t uid;
  gid_t gid;
  struct timespec mtime;
};

struct extract_ctx {
  int rootfd;
  size_t nentries;
  struct dir_meta *dirs;
  size_t ndirs, cap;
  struct mk_strv *implicit; /* parents made without an entry, or NULL */
  mk_error_t *err;
};

/* Where one entry goes: the cleaned path (for messages), the parent
 * directory (resolved inside the layer) and the last component. Every
 * write below is relative to pfd and never follows a symlink at name. */
struct slot {
  const char *path;
  int pfd;
  const char *name;
};

int mk_path_normalise(const char *in, int allow_dotdot, char *out, size_t size)
{
  size_t o = 0;

  if (size == 0)
    return -ENAMETOOLONG;
  while (*in) {
    while (*in == '/')
      in++;
    const char *end = strchrnul(in, '/');
    size_t n = (size_t)(end - in);
    if (n == 2 && in[0] == '.' && in[1] == '.') {
      if (!allow_dotdot || o == 0)
        return -EPERM;
      while (o > 0 && out[o - 1] != '/')
        o--;
      o -= o > 0; /* the separator before it */
    } else if (n > 0 && !(n == 1 && in[0] == '.')) {
      size_t sep = o ? 1 : 0;
      if (o + sep + n + 1 > size)
        return -ENAMETOOLONG;
      if (sep)
        out[o++] = '/';
      memcpy(out + o, in, n);
      o += n;
    }
    in = end;
  }
  out[o] = '\0';
  return 0;
}

/* mk_layer_clean_path, with the reason: -EPERM for a ".." component,
 * -ENAMETOOLONG when out is too small. */
static int clean_path(const char *in, char *out, size_t size)
{
  return mk_path_normalise(in, 0, out, size);
}

int mk_layer_clean_path(const char *in, char *out, size_t size)
{
  return clean_path(in, out, size) < 0 ? -1 : 0;
}

/* Cleans a name from the tar (an entry or a hard link target) into out
 * (PATH_MAX bytes), or fails naming it. */
static int clean_entry_name(const char *what, const char *raw, char *out,
                            mk_error_t *err)
{
  int r = clean_path(raw, out, PATH_MAX);

  if (r == -ENAMETOOLONG)
    return mk_error_set(err, ENAMETOOLONG,
                        "%s path too long (%zu bytes): `%.200s...`", what,
                        strlen(raw), raw);
  if (r < 0)
    return mk_error_set(
        err, EPERM, "%s `%s` escapes the layer (`..` component)", what, raw);
  return 0;
}

/* In the C locale, libarchive cannot convert a UTF-8 pax name (Go's
 * archive/tar writes one for every non-ASCII name): it warns and keeps
 * the raw bytes, which are what Linux stores. The UTF-8 form is the
 * fallback when there is no byte form at all. */
static const char *entry_pathname(struct archive_entry *e)
{
  const char *p = archive_entry_pathname(e);
  return p ? p : archive_entry_pathname_utf8(e);
}

static const char *entry_hardlink(struct archive_entry *e)
{
  const char *p = archive_entry_hardlink(e);
  return p ? p : archive_entry_hardlink_utf8(e);
}

static const char *entry_symlink(struct archive_entry *e)
{
  const char *p = archive_entry_symlink(e);
  return p ? p : archive_entry_symlink_utf8(e);
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
/* Records each missing prefix of parent: directories this layer implies
 * without listing. They must later take their attributes from the layers
 * below (mk_layer_inherit_dirs), not 0755 and "now". */
static void note_missing_parents(struct extract_ctx *x, const char *parent)
{
  char prefix[PATH_MAX + 1];

  if (!x->implicit)
    return;
  for (const char *p = parent; *p;) {
    const char *end = strchrnul(p, '/');
    int n = (int)(end - parent);
    snprintf(prefix, sizeof(prefix), "/%.*s", n, parent);
    _cleanup_close_ int fd = mk_open_in_root(x->rootfd, prefix, O_PATH, 0);
    if (fd < 0 && errno == ENOENT)
      mk_strv_push(x->implicit, prefix + 1);
    p = *end ? end + 1 : end;
  }
}

static int open_parent(struct extract_ctx *x, const char *parent,
                       const char *path)
{
  char abs[PATH_MAX];
  int fd;

  if (mk_snprintf(abs, sizeof(abs), "/%s", parent) < 0)
    return mk_error_set(x->err, ENAMETOOLONG, "`%s`: path too long", path);
  /* The parent usually exists: one openat2 instead of one per component.
   * Same containment as mk_mkdir_in_root's. */
  fd = mk_open_in_root(x->rootfd, abs, O_PATH | O_DIRECTORY, 0);
  if (fd >= 0)
    return fd;
  if (errno != ENOENT)
    return mk_error_sys(x->err, errno, "open the directory of `%s`", path);
  note_missing_parents(x, parent);
  fd = mk_mkdir_in_root(x->rootfd, abs, 0755, x->err);
  if (fd < 0)
    return mk_error_prefix(x->err, "create the directory of `%s`", path);
  return fd;
}

/* Removes whatever is at the slot, unless it is a directory we may merge
 * into. A symlink is removed, never followed. */
static int clear_slot(const struct slot *s, int keep_dir, mk_error_t *err)
{
  struct stat st;

  /* Cleaned paths never end in "." or "..", but a whiteout computes its
   * victim's name: removing ".." would delete the layer's parent. */
  if (!*s->name || strcmp(s->name, ".") == 0 || strcmp(s->name, "..") == 0)
    return mk_error_set(err, EPERM, "`%s`: refusing to replace `%s`", s->path,
                        s->name);
  if (fstatat(s->pfd, s->name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? 0 : mk_error_sys(err, errno, "stat `%s`", s->path);
  if (S_ISDIR(st.st_mode)) {
    if (keep_dir)
      return 0;
    if (mk_remove_tree_at(s->pfd, s->name, err) < 0)
      return mk_error_prefix(err, "replace `%s`", s->path);
    return 0;
  }
  if (unlinkat(s->pfd, s->name, 0) < 0)
    return mk_error_sys(err, errno, "replace `%s`", s->path);
  return 0;
}

static int pwrite_all(int fd, const char *buf, size_t size, off_t offset)
{
  while (size > 0) {
    ssize_t n = pwrite(fd, buf, size, offset);
    if (n < 0 && errno == EINTR)
      continue;
    if (n == 0)
      errno = EIO;
    if (n <= 0)
      return -1;
    buf += n;
    size -= (size_t)n;
    offset += n;
  }
  return 0;
}

/* Copies the entry's data; holes in sparse entries stay holes. */
static int write_data(struct archive *a, int fd, mk_error_t *err)
{
  const void *buf;
  size_t size;
  la_int64_t offset;
  int r;

  while ((r = archive_read_data_block(a, &buf, &size, &offset)) == ARCHIVE_OK)
    if (pwrite_all(fd, buf, size, offset) < 0)
      return mk_error_sys(err, errno, "write");
  if (r != ARCHIVE_EOF)
    return mk_error_set(err, EIO, "read layer: %s", archive_error_string(a));
  return 0;
}

/* overlayfs reads its own metadata (redirect, metacopy, origin, opaque)
 * from trusted.overlay.* (user.overlay.* with userxattr) in lower layers.
 * A layer states opacity through its marker file only; planted overlay
 * xattrs could redirect lookups, so they are dropped. */
static int is_overlay_xattr(const char *name)
{
  return strncmp(name, "trusted.overlay.", 16) == 0 ||
         strncmp(name, "user.overlay.", 13) == 0;
}

/* Called after the chown, which would clear security.capability. */
static int apply_xattrs(struct archive_entry *e, int fd, const char *path,
                        mk_error_t *err)
{
  const char *name;
  const void *value;
  size_t size;

  archive_entry_xattr_reset(e);
  while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
    if (is_overlay_xattr(name))
      continue;
    if (fsetxattr(fd, name, value, size, 0) < 0)
      return mk_error_sys(err, errno, "set xattr %s on `%s`", name, path);
  }
  return 0;
}

static struct timespec entry_mtime(struct archive_entry *e)
{
  struct timespec ts = {archive_entry_mtime(e), archive_entry_mtime_nsec(e)};
  return ts;
}

/* chown first: it clears setuid/setgid bits that chmod then restores. */
static int set_owner_mode(struct archive_entry *e, int fd, const char *path,
                          mk_error_t *err)
{
  if (fchown(fd, archive_entry_uid(e), archive_entry_gid(e)) < 0 ||
      fchmod(fd, archive_entry_perm(e)) < 0)
    return mk_error_sys(err, errno, "set owner and mode of `%s`", path);
  return 0;
}

static int make_regular(struct archive *a, struct archive_entry *e,
                        const struct slot *s, mk_error_t *err)
{
  _cleanup_close_ int fd = -1;
  struct timespec times[2];

  if (clear_slot(s, 0, err) < 0)
    return -1;
  fd = openat(s->pfd, s->name,
              O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return mk_error_sys(err, errno, "create `%s`", s->path);
  if (write_data(a, fd, err) < 0)
    return mk_error_prefix(err, "`%s`", s->path);
  if (archive_entry_size_is_set(e) && ftruncate(fd, archive_entry_size(e)) < 0)
    return mk_error_sys(err, errno, "set size of `%s`", s->path);
  if (set_owner_mode(e, fd, s->path, err) < 0 ||
      apply_xattrs(e, fd, s->path, err) < 0)
    return -1;
  times[0] = times[1] = entry_mtime(e);
  if (futimens(fd, times) < 0)
    return mk_error_sys(err, errno, "set mtime of `%s`", s->path);
  return 0;
}

/* Birth time, where the filesystem records it: a directory removed by a
 * later entry may see its inode number reused by a new one. */
static int birth_time(int fd, struct statx_timestamp *out)
{
  struct statx sx;

  if (statx(fd, "", AT_EMPTY_PATH, STATX_BTIME, &sx) < 0 ||
      !(sx.stx_mask & STATX_BTIME))
    return 0;
  *out = sx.stx_btime;
  return 1;
}

static int remember_dir(struct extract_ctx *x, struct archive_entry *e,
                        const char *path, const struct stat *st, int fd)
{
  size_t depth = 0;

  if (x->ndirs == x->cap) {
    size_t cap = x->cap ? 2 * x->cap : 64;
    struct dir_meta *dirs = realloc(x->dirs, cap * sizeof(*dirs));
    if (!dirs)
      return mk_error_set(x->err, ENOMEM, "out of memory");
    x->dirs = dirs;
    x->cap = cap;
  }
  for (const char *p = path; *p; p++)
    depth += *p == '/';
  struct statx_timestamp btime = {0};
  int has_btime = birth_time(fd, &btime);
  x->dirs[x->ndirs++] = (struct dir_meta){
      .btime = btime,
      .has_btime = has_btime,
      .path = mk_xstrdup(path),
      .order = x->nentries,
      .depth = depth,
      .dev = st->st_dev,
      .ino = st->st_ino,
      .mode = archive_entry_perm(e),
      .uid = archive_entry_uid(e),
      .gid = archive_entry_gid(e),
      .mtime = entry_mtime(e),
  };
  return 0;
}

static int make_directory(struct extract_ctx *x, struct archive_entry *e,
                          const struct slot *s)
{
  _cleanup_close_ int fd = -1;
  struct stat st;

  if (clear_slot(s, 1, x->err) < 0)
    return -1;
  if (mkdirat(s->pfd, s->name, 0700) < 0 && errno != EEXIST)
    return mk_error_sys(x->err, errno, "mkdir `%s`", s->path);
  fd = openat(s->pfd, s->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 || fstat(fd, &st) < 0)
    return mk_error_sys(x->err, errno, "open directory `%s`", s->path);
  if (apply_xattrs(e, fd, s->path, x->err) < 0)
    return -1;
  return remember_dir(x, e, s->path, &st, fd);
}

/* Owner and mtime of something just made at the slot (not a directory,
 * maybe a symlink: neither call follows one). */
static int finish_nondir(struct archive_entry *e, const struct slot *s,
                         mk_error_t *err)
{
  struct timespec times[2];

  if (fchownat(s->pfd, s->name, archive_entry_uid(e), archive_entry_gid(e),
               AT_SYMLINK_NOFOLLOW) < 0)
    return mk_error_sys(err, errno, "chown `%s`", s->path);
  times[0] = times[1] = entry_mtime(e);
  if (utimensat(s->pfd, s->name, times, AT_SYMLINK_NOFOLLOW) < 0)
    return mk_error_sys(err, errno, "set mtime of `%s`", s->path);
  return 0;
}

/* A symlink's target is data: it is stored as is, and only ever resolved
 * later inside the layer (RESOLVE_IN_ROOT). */
static int make_symlink(struct archive_entry *e, const struct slot *s,
                        mk_error_t *err)
{
  const char *target = entry_symlink(e);

  if (!target || !*target)
    return mk_error_set(err, EINVAL, "symlink `%s` has no target", s->path);
  if (clear_slot(s, 0, err) < 0)
    return -1;
  if (symlinkat(target, s->pfd, s->name) < 0)
    return mk_error_sys(err, errno, "symlink `%s`", s->path);
  return finish_nondir(e, s, err);
}

static int make_special(struct archive_entry *e, const struct slot *s,
                        mk_error_t *err)
{
  mode_t type = archive_entry_filetype(e);
  dev_t dev = makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e));

  if (clear_slot(s, 0, err) < 0)
    return -1;
  if (mknodat(s->pfd, s->name, type | archive_entry_perm(e),
              type == AE_IFIFO ? 0 : dev) < 0)
    return mk_error_sys(err, errno, "mknod `%s`", s->path);
  if (finish_nondir(e, s, err) < 0)
    return -1;
  /* After the chown, and not through a link: mknodat just made a node. */
  if (fchmodat(s->pfd, s->name, archive_entry_perm(e), 0) < 0)
    return mk_error_sys(err, errno, "chmod `%s`", s->path);
  return 0;
}

/* Hard links: the target is a path in this layer, resolved inside it
 * (an absolute target names the layer's file, never the host's); linkat
 * never follows a symlink at the target's last component. */
static int make_hardlink(struct extract_ctx *x, struct archive_entry *e,
                         const struct slot *s)
{
  const char *raw = entry_hardlink(e);
  char target[PATH_MAX], abs[PATH_MAX];
  const char *tparent, *tname;
  _cleanup_close_ int tfd = -1;

  if (clean_entry_name("target", raw, target, x->err) < 0)
    return mk_error_prefix(x->err, "hard link `%s`", s->path);
  if (!*target)
    return mk_error_set(x->err, EPERM, "hard link `%s` to the layer root",
                        s->path);
  split_parent(target, &tparent, &tname);
  if (mk_snprintf(abs, sizeof(abs), "/%s", tparent) < 0)
    return mk_error_set(x->err, ENAMETOOLONG, "hard link `%s`: too long",
                        s->path);
  tfd = mk_open_in_root(x->rootfd, abs, O_PATH | O_DIRECTORY, 0);
  if (tfd < 0)
    return mk_error_sys(x->err, errno, "hard link `%s` -> `%s`", s->path, raw);
  if (clear_slot(s, 0, x->err) < 0)
    return -1;
  if (linkat(tfd, tname, s->pfd, s->name, 0) < 0)
    return mk_error_sys(x->err, errno, "hard link `%s` -> `%s`", s->path, raw);
  return 0;
}

/* The marker may come before or after the directory's new entries of the
 * same layer: it only sets the xattr, and deletes nothing. */
static int mark_opaque(const struct slot *s, mk_error_t *err)
{
  _cleanup_close_ int dfd =
      openat(s->pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  if (dfd < 0 || fsetxattr(dfd, OPAQUE_XATTR, "y", 1, 0) < 0)
    return mk_error_sys(err, errno, "mark `%s` opaque", s->path);
  return 0;
}

/* ".wh.NAME" deletes NAME from lower layers: an overlayfs whiteout is a
 * 0:0 character device. ".wh..wh..opq" marks the directory opaque; other
 * ".wh..wh." names are aufs bookkeeping (.wh..wh.plnk), not content. */
static int make_whiteout(const struct slot *s, mk_error_t *err)
{
  struct slot victim = *s;

  if (strcmp(s->name, OPAQUE_MARKER) == 0)
    return mark_opaque(s, err);
  if (strncmp(s->name, WHITEOUT_META_PREFIX, strlen(WHITEOUT_META_PREFIX)) == 0)
    return 0;
  victim.name = s->name + strlen(WHITEOUT_PREFIX);
  if (!*victim.name || strcmp(victim.name, ".") == 0 ||
      strcmp(victim.name, "..") == 0)
    return mk_error_set(err, EPERM, "invalid whiteout `%s`", s->path);
  if (clear_slot(&victim, 0, err) < 0)
    return -1;
  if (mknodat(s->pfd, victim.name, S_IFCHR | 0, makedev(0, 0)) < 0)
    return mk_error_sys(err, errno, "whiteout `%s`", s->path);
  return 0;
}

static int write_entry(struct extract_ctx *x, struct archive *a,
                       struct archive_entry *e, const struct slot *s)
{
  mode_t type = archive_entry_filetype(e);

  if (strncmp(s->name, WHITEOUT_PREFIX, strlen(WHITEOUT_PREFIX)) == 0)
    return make_whiteout(s, x->err);
  if (entry_hardlink(e))
    return make_hardlink(x, e, s);
  switch (type) {
  case AE_IFREG: return make_regular(a, e, s, x->err);
  case AE_IFDIR: return make_directory(x, e, s);
  case AE_IFLNK: return make_symlink(e, s, x->err);
  case AE_IFCHR:
  case AE_IFBLK:
  case AE_IFIFO: return make_special(e, s, x->err);
  default:
    return mk_error_set(x->err, EINVAL, "`%s`: unsupported entry type 0%o",
                        s->path, (unsigned)type);
  }
}

static int extract_entry(struct extract_ctx *x, struct archive *a,
                         struct archive_entry *e)
{
  const char *raw = entry_pathname(e);
  char path[PATH_MAX], split[PATH_MAX];
  const char *parent;
  _cleanup_close_ int pfd = -1;
  struct slot s = {.path = path};

  x->nentries++;
  if (!raw)
    return mk_error_set(x->err, EINVAL, "layer entry %zu has no name",
                        x->nentries);
  if (clean_entry_name("layer entry", raw, path, x->err) < 0)
    return -1;
  if (!*path)
    return 0; /* the layer root: the store owns its mode and owner */
  memcpy(split, path, sizeof(split));
  split_parent(split, &parent, &s.name);
  pfd = open_parent(x, parent, path);
  if (pfd < 0)
    return -1;
  s.pfd = pfd;
  return write_entry(x, a, e, &s);
}

/* Same directory, last entry first. */
static int by_inode_latest_first(const void *pa, const void *pb)
{
  const struct dir_meta *a = pa, *b = pb;

  if (a->dev != b->dev)
    return a->dev < b->dev ? -1 : 1;
  if (a->ino != b->ino)
    return a->ino < b->ino ? -1 : 1;
  return a->order > b->order ? -1 : a->order < b->order;
}

/* Deepest first; at one depth, in entry order. */
static int by_depth_deepest_first(const void *pa, const void *pb)
{
  const struct dir_meta *a = pa, *b = pb;

  if (a->depth != b->depth)
    return a->depth > b->depth ? -1 : 1;
  return a->order < b->order ? -1 : a->order > b->order;
}

/* Keeps the last entry made for each directory inode. */
static void keep_last_per_inode(struct extract_ctx *x)
{
  size_t kept = 0;

  qsort(x->dirs, x->ndirs, sizeof(*x->dirs), by_inode_latest_first);
  for (size_t i = 0; i < x->ndirs; i++) {
    if (kept && x->dirs[kept - 1].dev == x->dirs[i].dev &&
        x->dirs[kept - 1].ino == x->dirs[i].ino) {
      free(x->dirs[i].path);
      continue;
    }
    x->dirs[kept++] = x->dirs[i];
  }
  x->ndirs = kept;
}

/* The directory is opened again by path, without following a symlink at
 * its last component; if the path no longer leads to the inode the entry
 * made (a later entry replaced or removed it), its metadata is dropped
 * rather than applied to whatever is there now (maybe the layer root). */
static int apply_one_dir(struct extract_ctx *x, const struct dir_meta *d)
{
  char abs[PATH_MAX];
  struct stat st;
  struct timespec times[2] = {d->mtime, d->mtime};
  _cleanup_close_ int fd = -1;

  if (mk_snprintf(abs, sizeof(abs), "/%s", d->path) < 0)
    return mk_error_set(x->err, ENAMETOOLONG, "`%s`: too long", d->path);
  fd = mk_open_in_root(x->rootfd, abs, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
  if (fd < 0)
    return errno == ENOENT || errno == ENOTDIR || errno == ELOOP
               ? 0
               : mk_error_sys(x->err, errno, "open directory `%s`", d->path);
  if (fstat(fd, &st) < 0)
    return mk_error_sys(x->err, errno, "stat directory `%s`", d->path);
  struct statx_timestamp btime;
  if (st.st_dev != d->dev || st.st_ino != d->ino ||
      (d->has_btime && birth_time(fd, &btime) &&
       (btime.tv_sec != d->btime.tv_sec || btime.tv_nsec != d->btime.tv_nsec)))
    return 0;
  if (fchown(fd, d->uid, d->gid) < 0 || fchmod(fd, d->mode) < 0 ||
      futimens(fd, times) < 0)
    return mk_error_sys(x->err, errno, "set owner, mode and mtime of `%s`",
                        d->path);
  return 0;
}

/* Deepest first, so that a parent's mode cannot block a child when not
 * running as root. Skipped after a failure: the layer is discarded. */
static int apply_dir_metadata(struct extract_ctx *x, int failed)
{
  int r = 0;

  if (!failed && x->ndirs) {
    keep_last_per_inode(x);
    qsort(x->dirs, x->ndirs, sizeof(*x->dirs), by_depth_deepest_first);
  }
  for (size_t i = 0; i < x->ndirs; i++) {
    if (!failed && r == 0)
      r = apply_one_dir(x, &x->dirs[i]);
    free(x->dirs[i].path);
  }
  free(x->dirs);
  return r;
}

/* Drops from implicit every path that later got an entry of its own. */
static void keep_only_implicit(struct extract_ctx *x)
{
  struct mk_strv kept = {0};

  for (size_t i = 0; i < x->implicit->n; i++) {
    int explicit = 0;
    for (size_t k = 0; k < x->ndirs && !explicit; k++)
      explicit = strcmp(x->dirs[k].path, x->implicit->v[i]) == 0;
    if (!explicit && mk_strv_find(&kept, x->implicit->v[i]) < 0)
      mk_strv_push(&kept, x->implicit->v[i]);
  }
  mk_strv_free(x->implicit);
  *x->implicit = kept;
}

int mk_layer_extract(struct archive *a, int dirfd, mk_error_t *err)
{
  return mk_layer_extract_ex(a, dirfd, NULL, err);
}

int mk_layer_extract_ex(struct archive *a, int dirfd, struct mk_strv *implicit,
                        mk_error_t *err)
{
  struct extract_ctx x = {.rootfd = dirfd, .implicit = implicit, .err = err};
  struct archive_entry *e;
  int r, failed = 0;

  err->msg[0] = '\0';
  /* ARCHIVE_WARN still hands over a whole entry (e.g. a UTF-8 name the C
   * locale cannot convert); every path is checked here anyway. */
  while (!failed && ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK ||
                     r == ARCHIVE_WARN))
    failed = extract_entry(&x, a, e) < 0;
  if (!failed && r != ARCHIVE_EOF)
    failed = mk_error_set(err, EIO, "read layer after entry %zu: %s",
                          x.nentries, archive_error_string(a)) < 0;
  if (!failed && implicit)
    keep_only_implicit(&x); /* before the records are freed */
  if (apply_dir_metadata(&x, failed) < 0)
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

enum below { BELOW_ABSENT, BELOW_DIR, BELOW_OTHER };

static int is_opaque_dir(int fd)
{
  char path[64], v[2];

  snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
  return getxattr(path, OPAQUE_XATTR, v, sizeof(v)) == 1 && v[0] == 'y';
}

static int is_whiteout_node(const struct stat *st)
{
  return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

/* What one lower layer says about path. *stop is set when the layers
 * under it cannot matter (a whiteout or an opaque directory on the way). */
static enum below look_below(int lfd, const char *path, struct stat *st,
                             int *stop)
{
  char prefix[PATH_MAX + 1];

  *stop = 0;
  for (const char *p = path;;) {
    const char *end = strchrnul(p, '/');
    snprintf(prefix, sizeof(prefix), "/%.*s", (int)(end - path), path);
    _cleanup_close_ int fd =
        mk_open_in_root(lfd, prefix, O_PATH | O_NOFOLLOW, 0);
    if (fd < 0 || fstat(fd, st) < 0)
      return BELOW_ABSENT;
    if (is_whiteout_node(st)) {
      *stop = 1;
      return BELOW_OTHER;
    }
    if (!*end)
      return S_ISDIR(st->st_mode) ? BELOW_DIR : BELOW_OTHER;
    if (!S_ISDIR(st->st_mode))
      return BELOW_ABSENT;
    if (is_opaque_dir(fd))
      *stop = 1;
    p = end + 1;
  }
}

static int inherit_one(int dirfd, const char *path, const int *lower,
                       size_t nlower, mk_error_t *err)
{
  char abs[PATH_MAX + 1];
  struct stat st;
  int stop = 0;

  for (size_t k = 0; k < nlower && !stop; k++) {
    enum below b = look_below(lower[k], path, &st, &stop);
    if (b == BELOW_OTHER)
      return 0;
    if (b != BELOW_DIR)
      continue;
    snprintf(abs, sizeof(abs), "/%s", path);
    _cleanup_close_ int fd =
        mk_open_in_root(dirfd, abs, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    if (fd < 0 || fchown(fd, st.st_uid, st.st_gid) < 0 ||
        fchmod(fd, st.st_mode & 07777) < 0 || futimens(fd, times) < 0)
      return mk_error_sys(err, errno, "attributes of implied directory `%s`",
                          path);
    return 0;
  }
  return 0;
}

int mk_layer_inherit_dirs(int dirfd, char *const *implicit, size_t n,
                          const int *lower_fds, size_t nlower, mk_error_t *err)
{
  /* Deepest first: setting a parent's mtime after its children. */
  for (size_t i = n; i-- > 0;)
    if (inherit_one(dirfd, implicit[i], lower_fds, nlower, err) < 0)
      return -1;
  return 0;
}
