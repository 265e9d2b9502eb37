#include "mk_pathres.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mk_util.h"

#define IN_ROOT (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)

int mk_open_in_root(int rootfd, const char *path, int flags, mode_t mode)
{
  struct open_how how = {
      .flags = (uint64_t)(flags | O_CLOEXEC),
      .mode = (flags & O_CREAT) ? mode : 0,
      .resolve = IN_ROOT,
  };
  long fd;

  while (*path == '/')
    path++;
  if (*path == '\0')
    path = ".";
  do
    fd = syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
  while (fd < 0 && (errno == EINTR || errno == EAGAIN));
  return (int)fd;
}

/* Copies the first `end` bytes of path into out (a PATH_MAX buffer). */
static void prefix_of(const char *path, size_t end, char *out)
{
  memcpy(out, path, end);
  out[end] = '\0';
}

/* Creates the last component of `prefix` inside its (contained) parent. */
static int create_component(int rootfd, const char *prefix, size_t name_at,
                            int as_dir, mode_t mode)
{
  char parent[PATH_MAX];
  _cleanup_close_ int pfd = -1;
  const char *name = prefix + name_at;
  int r;

  prefix_of(prefix, name_at, parent);
  pfd = mk_open_in_root(rootfd, parent, O_PATH | O_DIRECTORY, 0);
  if (pfd < 0)
    return -1;
  if (as_dir)
    r = mkdirat(pfd, name, mode);
  else {
    r = openat(pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
               0644);
    if (r >= 0)
      close(r), r = 0;
  }
  if (r < 0 && errno == EEXIST)
    r = 0;
  return r;
}

#define MAX_SYMLINK_HOPS 40

/* When opening prefix failed with ENOENT, its last component may be a
 * dangling symlink (an image's /etc/resolv.conf -> ../run/...). Docker
 * then creates the link's target, resolved inside the root. Writes the
 * rewritten path (target + rest) into out and returns 1, or returns 0
 * when the component is not a symlink. */
static int follow_dangling(int rootfd, const char *prefix, size_t name_at,
                           const char *rest, char out[PATH_MAX])
{
  char parent[PATH_MAX], target[PATH_MAX];
  _cleanup_close_ int pfd = -1;
  ssize_t n;

  prefix_of(prefix, name_at, parent);
  pfd = mk_open_in_root(rootfd, parent, O_PATH | O_DIRECTORY, 0);
  if (pfd < 0)
    return 0;
  n = readlinkat(pfd, prefix + name_at, target, sizeof(target) - 1);
  if (n <= 0)
    return 0;
  target[n] = '\0';
  if (target[0] == '/')
    return mk_snprintf(out, PATH_MAX, "%s%s", target, rest) < 0 ? -1 : 1;
  return mk_snprintf(out, PATH_MAX, "/%s/%s%s", parent, target, rest) < 0 ? -1
                                                                          : 1;
}

/* One pass over path, creating what is missing. Returns 0 when every
 * component exists, 1 when path was rewritten through a dangling link
 * (into next), -1 on error. */
static int create_missing(int rootfd, const char *path, int want_dir,
                          mode_t mode, char next[PATH_MAX], mk_error_t *err)
{
  char prefix[PATH_MAX];
  size_t len = strlen(path), i = 0;

  while (i < len) {
    while (i < len && path[i] == '/')
      i++;
    size_t start = i;
    while (i < len && path[i] != '/')
      i++;
    if (start == i)
      break;
    prefix_of(path, i, prefix);
    _cleanup_close_ int fd = mk_open_in_root(rootfd, prefix, O_PATH, 0);
    if (fd >= 0)
      continue;
    if (errno != ENOENT)
      return mk_error_sys(err, errno, "open `%s` in the container", prefix);
    int r = follow_dangling(rootfd, prefix, start, path + i, next);
    if (r != 0)
      return r > 0
                 ? 1
                 : mk_error_set(err, ENAMETOOLONG, "`%s`: path too long", path);
    int last = (i == len) || strspn(path + i, "/") == len - i;
    if (create_component(rootfd, prefix, start, !last || want_dir, mode) < 0)
      return mk_error_sys(err, errno, "create `%s` in the container", prefix);
  }
  return 0;
}

static int open_creating(int rootfd, const char *path, int want_dir,
                         mode_t mode, mk_error_t *err)
{
  char cur[PATH_MAX], next[PATH_MAX];
  int r = 1;

  if (!*path || path[0] != '/' || mk_snprintf(cur, sizeof(cur), "%s", path) < 0)
    return mk_error_set(err, EINVAL, "`%s`: not an absolute path", path);
  for (int hops = 0; r == 1; hops++) {
    if (hops > MAX_SYMLINK_HOPS)
      return mk_error_set(err, ELOOP, "`%s`: too many symlinks", path);
    r = create_missing(rootfd, cur, want_dir, mode, next, err);
    if (r == 1)
      memcpy(cur, next, sizeof(cur));
  }
  if (r < 0)
    return -1;
  int fd = mk_open_in_root(rootfd, cur, O_PATH, 0);
  if (fd < 0)
    return mk_error_sys(err, errno, "open `%s` in the container", path);
  return fd;
}

int mk_mount_target_in_root(int rootfd, const char *path, int want_dir,
                            mk_error_t *err)
{
  return open_creating(rootfd, path, want_dir, 0755, err);
}

int mk_mkdir_in_root(int rootfd, const char *path, mode_t mode, mk_error_t *err)
{
  struct stat st;
  int fd;

  fd = open_creating(rootfd, path, 1, mode, err);
  if (fd < 0)
    return -1;
  if (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode)) {
    close(fd);
    return mk_error_set(err, ENOTDIR, "`%s` in the container: %s", path,
                        strerror(ENOTDIR));
  }
  return fd;
}
