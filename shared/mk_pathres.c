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

int mk_mount_target_in_root(int rootfd, const char *path, int want_dir,
                            mk_error_t *err)
{
  char prefix[PATH_MAX];
  size_t len = strlen(path), i = 0;

  if (len == 0 || len >= PATH_MAX || path[0] != '/')
    return mk_error_set(err, EINVAL, "`%s`: not an absolute path", path);
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
    int last = (i == len) || strspn(path + i, "/") == len - i;
    if (errno != ENOENT ||
        create_component(rootfd, prefix, start, !last || want_dir, 0755) < 0)
      return mk_error_sys(err, errno, "create `%s` in the container", prefix);
  }
  int fd = mk_open_in_root(rootfd, path, O_PATH, 0);
  if (fd < 0)
    return mk_error_sys(err, errno, "open `%s` in the container", path);
  return fd;
}

int mk_mkdir_in_root(int rootfd, const char *path, mode_t mode,
                     mk_error_t *err)
{
  struct stat st;
  int fd;

  (void)mode;
  fd = mk_mount_target_in_root(rootfd, path, 1, err);
  if (fd < 0)
    return -1;
  if (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode)) {
    close(fd);
    return mk_error_set(err, ENOTDIR, "`%s` in the container: %s", path,
                        strerror(ENOTDIR));
  }
  return fd;
}
