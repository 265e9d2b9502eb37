#include "treecopy.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "mk_util.h"

#define COPY_MAX_DEPTH 256
#define COPY_BUF_SIZE (64 * 1024)

/* An image id as the host sees it in the container's user namespace
 * (unchanged without one; unmapped ids stay as they are). */
static uid_t host_uid(const struct mk_treecopy *s, uid_t id)
{
  int64_t h = s->userns ? mk_idmap_host(s->userns->uid, s->userns->nuid, id)
                        : -1;

  return h >= 0 ? (uid_t)h : id;
}

static gid_t host_gid(const struct mk_treecopy *s, gid_t id)
{
  int64_t h = s->userns ? mk_idmap_host(s->userns->gid, s->userns->ngid, id)
                        : -1;

  return h >= 0 ? (gid_t)h : id;
}

static int seed_fail(struct mk_treecopy *s, int e, const char *what)
{
  return mk_error_sys(s->err, e, "%s: %s `%s`", s->what, what, s->where);
}

/* Appends "/name" to s->where; returns the old length to restore. */
static size_t seed_enter(struct mk_treecopy *s, const char *name)
{
  size_t len = strlen(s->where);

  snprintf(s->where + len, sizeof(s->where) - len, "%s%s",
           len && s->where[len - 1] == '/' ? "" : "/", name);
  return len;
}

/* Owner first: chown clears set-id bits, the mode puts them back. */
static int copy_attrs_fd(const struct mk_treecopy *s, int fd, const struct stat *st)
{
  const struct timespec times[2] = {st->st_atim, st->st_mtim};

  if (fchown(fd, host_uid(s, st->st_uid), host_gid(s, st->st_gid)) < 0 ||
      fchmod(fd, st->st_mode & 07777) < 0 || futimens(fd, times) < 0)
    return -1;
  return 0;
}

static int copy_bytes(int in, int out)
{
  _cleanup_free_ char *buf = NULL;
  ssize_t n;

  for (;;) {
    n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
    if (n == 0)
      return 0;
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      break;
  }
  if (errno != EXDEV && errno != ENOSYS && errno != EINVAL &&
      errno != EOPNOTSUPP)
    return -1;
  buf = malloc(COPY_BUF_SIZE);
  if (!buf)
    return -1;
  while ((n = mk_read_all(in, buf, COPY_BUF_SIZE)) > 0)
    if (mk_write_all(out, buf, (size_t)n) < 0)
      return -1;
  return n < 0 ? -1 : 0;
}

/* An image layer's device node: an overlay whiteout (char 0:0), or one
 * the image ships; made as it is, with its owner shifted. */
static int copy_device(struct mk_treecopy *s, int dstdir, const char *name,
                       const struct stat *st)
{
  const struct timespec times[2] = {st->st_atim, st->st_mtim};

  if (mknodat(dstdir, name, (st->st_mode & S_IFMT) | 0600, st->st_rdev) < 0)
    return seed_fail(s, errno, "create device");
  if (fchownat(dstdir, name, host_uid(s, st->st_uid), host_gid(s, st->st_gid),
               AT_SYMLINK_NOFOLLOW) < 0 ||
      fchmodat(dstdir, name, st->st_mode & 07777, 0) < 0 ||
      utimensat(dstdir, name, times, AT_SYMLINK_NOFOLLOW) < 0)
    return seed_fail(s, errno, "set owner, mode and times of");
  return 0;
}

/* An image layer's extended attributes: overlayfs's own (an opaque
 * directory's trusted.overlay.opaque), file capabilities and the rest,
 * through the fds of both; one the destination refuses is left out,
 * except overlayfs's, without which the layer would read wrong. */
static int copy_xattrs(struct mk_treecopy *s, int in, int out)
{
  char names[4096], value[4096];
  ssize_t len = flistxattr(in, names, sizeof(names));

  if (len < 0)
    return errno == ENOTSUP ? 0 : seed_fail(s, errno, "list xattrs of");
  for (char *n = names; n < names + len; n += strlen(n) + 1) {
    ssize_t v = fgetxattr(in, n, value, sizeof(value));
    if (v < 0)
      return seed_fail(s, errno, "read xattr of");
    if (fsetxattr(out, n, value, (size_t)v, 0) < 0 &&
        strncmp(n, "trusted.overlay.", 16) == 0)
      return seed_fail(s, errno, "set xattr of");
  }
  return 0;
}

static int copy_regular(struct mk_treecopy *s, int srcdir, int dstdir,
                        const char *name)
{
  _cleanup_close_ int in = -1, out = -1;
  struct stat st;

  in = openat(srcdir, name,
              O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (in < 0 || fstat(in, &st) < 0)
    return seed_fail(s, errno, "open");
  if (!S_ISREG(st.st_mode))
    return seed_fail(s, EIO, "changed while copying");
  out = openat(dstdir, name,
               O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (out < 0)
    return seed_fail(s, errno, "create");
  if (copy_bytes(in, out) < 0)
    return seed_fail(s, errno, "copy");
  if (s->layer && copy_xattrs(s, in, out) < 0)
    return -1;
  if (copy_attrs_fd(s, out, &st) < 0)
    return seed_fail(s, errno, "set owner, mode and times of");
  return 0;
}

static int copy_symlink(struct mk_treecopy *s, int srcdir, int dstdir,
                        const char *name, const struct stat *st)
{
  const struct timespec times[2] = {st->st_atim, st->st_mtim};
  char target[PATH_MAX];
  ssize_t n = readlinkat(srcdir, name, target, sizeof(target));

  if (n < 0 || n >= (ssize_t)sizeof(target))
    return seed_fail(s, n < 0 ? errno : ENAMETOOLONG, "read link");
  target[n] = '\0';
  if (symlinkat(target, dstdir, name) < 0)
    return seed_fail(s, errno, "create link");
  if (fchownat(dstdir, name, host_uid(s, st->st_uid), host_gid(s, st->st_gid),
               AT_SYMLINK_NOFOLLOW) < 0 ||
      utimensat(dstdir, name, times, AT_SYMLINK_NOFOLLOW) < 0)
    return seed_fail(s, errno, "set owner and times of link");
  return 0;
}

/* Opened O_NONBLOCK for reading, which never waits for a writer, so the
 * attributes go through an fd of the very fifo we made. */
static int copy_fifo(struct mk_treecopy *s, int dstdir, const char *name,
                     const struct stat *st)
{
  _cleanup_close_ int fd = -1;
  struct stat now;

  if (mknodat(dstdir, name, S_IFIFO | 0600, 0) < 0)
    return seed_fail(s, errno, "create fifo");
  fd = openat(dstdir, name, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 || fstat(fd, &now) < 0)
    return seed_fail(s, errno, "open fifo");
  if (!S_ISFIFO(now.st_mode))
    return seed_fail(s, EIO, "changed while copying");
  if (copy_attrs_fd(s, fd, st) < 0)
    return seed_fail(s, errno, "set owner, mode and times of");
  return 0;
}

static int copy_tree(struct mk_treecopy *s, int srcfd, int dstfd, int depth);

static int copy_subdir(struct mk_treecopy *s, int srcdir, int dstdir, const char *name,
                       int depth)
{
  _cleanup_close_ int in = -1, out = -1;

  if (depth >= COPY_MAX_DEPTH)
    return seed_fail(s, ELOOP, "too deep at");
  in = openat(srcdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (in < 0)
    return seed_fail(s, errno, "open");
  if (mkdirat(dstdir, name, 0700) < 0)
    return seed_fail(s, errno, "create");
  out = openat(dstdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (out < 0)
    return seed_fail(s, errno, "open");
  return copy_tree(s, in, out, depth + 1);
}

/* Sockets are skipped; device nodes too but in a layer: a volume holds
 * data. */
static int copy_entry(struct mk_treecopy *s, int srcfd, int dstfd, const char *name,
                      int depth)
{
  struct stat st;

  if (fstatat(srcfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return seed_fail(s, errno, "stat");
  if (S_ISDIR(st.st_mode))
    return copy_subdir(s, srcfd, dstfd, name, depth);
  if (S_ISREG(st.st_mode))
    return copy_regular(s, srcfd, dstfd, name);
  if (S_ISLNK(st.st_mode))
    return copy_symlink(s, srcfd, dstfd, name, &st);
  if (S_ISFIFO(st.st_mode))
    return copy_fifo(s, dstfd, name, &st);
  if ((S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) && s->layer)
    return copy_device(s, dstfd, name, &st);
  return 0;
}

/* Copies the content of srcfd into dstfd, then srcfd's owner, mode and
 * times onto dstfd (last, so copying the children leaves the times). */
static int copy_tree(struct mk_treecopy *s, int srcfd, int dstfd, int depth)
{
  struct dirent *de;
  struct stat st;
  int fd, rc = 0;

  if (fstat(srcfd, &st) < 0)
    return seed_fail(s, errno, "stat");
  fd = openat(srcfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = fd < 0 ? NULL : fdopendir(fd);
  if (!d) {
    mk_close(fd);
    return seed_fail(s, errno, "list");
  }
  while (rc == 0 && (errno = 0, de = readdir(d))) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    size_t len = seed_enter(s, de->d_name);
    rc = copy_entry(s, srcfd, dstfd, de->d_name, depth);
    s->where[len] = '\0';
  }
  if (rc == 0 && errno != 0)
    rc = seed_fail(s, errno, "list");
  if (rc == 0 && s->layer)
    rc = copy_xattrs(s, dirfd(d), dstfd);
  closedir(d);
  if (rc == 0 && copy_attrs_fd(s, dstfd, &st) < 0)
    rc = seed_fail(s, errno, "set owner, mode and times of");
  return rc;
}

int mk_treecopy(struct mk_treecopy *t, int srcfd, int dstfd)
{
  return copy_tree(t, srcfd, dstfd, 0);
}
