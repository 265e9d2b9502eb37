#include "safefile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "context.h"
#include "mk_util.h"

static int split_path(struct mk_safefile *f, const char *path,
                      char dir[PATH_MAX], mk_error_t *err)
{
  const char *slash = strrchr(path, '/');
  const char *base = slash ? slash + 1 : path;

  if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
    return mk_error_set(err, EISDIR, "`%s` names a directory, not a file",
                        path);
  if (strlen(base) > NAME_MAX - 24)
    return mk_error_set(err, ENAMETOOLONG, "file name too long: `%s`", path);
  memcpy(f->name, base, strlen(base) + 1);
  if (!slash)
    return mk_snprintf(dir, PATH_MAX, ".");
  if (slash == path)
    return mk_snprintf(dir, PATH_MAX, "/");
  if ((size_t)(slash - path) >= PATH_MAX)
    return mk_error_set(err, ENAMETOOLONG, "path too long: `%s`", path);
  memcpy(dir, path, (size_t)(slash - path));
  dir[slash - path] = '\0';
  return 0;
}

/* .NAME.XXXXXXXXXXXXXXXX: hidden, and unguessable, so nobody can plant
 * anything under it; O_EXCL still refuses whatever is there. */
static int create_tmp(struct mk_safefile *f, mode_t mode, mk_error_t *err)
{
  char rnd[17];

  for (int attempt = 0; attempt < 8; attempt++) {
    if (mk_random_hex(rnd, 8, err) < 0)
      return -1;
    snprintf(f->tmp, sizeof(f->tmp), ".%.*s.%s", NAME_MAX - 20, f->name, rnd);
    f->fd = openat(f->dirfd, f->tmp,
                   O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (f->fd >= 0)
      return 0;
    if (errno != EEXIST)
      break;
  }
  f->tmp[0] = '\0';
  return mk_error_sys(err, errno, "create a temporary file beside `%s`",
                      f->path);
}

int mk_safefile_open(struct mk_safefile *f, const char *path, mode_t mode,
                     mk_error_t *err)
{
  char dir[PATH_MAX];

  memset(f, 0, sizeof(*f));
  f->dirfd = f->fd = -1;
  f->path = path;
  if (split_path(f, path, dir, err) < 0)
    return -1;
  f->dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (f->dirfd < 0)
    return mk_error_sys(err, errno, "open directory `%s`", dir);
  if (create_tmp(f, mode, err) < 0) {
    mk_safefile_abort(f);
    return -1;
  }
  return 0;
}

int mk_safefile_commit(struct mk_safefile *f, mk_error_t *err)
{
  int fd = f->fd;

  f->fd = -1;
  if (close(fd) < 0) {
    mk_error_sys(err, errno, "write `%s`", f->path);
    mk_safefile_abort(f);
    return -1;
  }
  if (renameat(f->dirfd, f->tmp, f->dirfd, f->name) < 0) {
    mk_error_sys(err, errno, "rename to `%s`", f->path);
    mk_safefile_abort(f);
    return -1;
  }
  f->tmp[0] = '\0';
  mk_safefile_abort(f); /* nothing left to remove: just closes */
  return 0;
}

void mk_safefile_abort(struct mk_safefile *f)
{
  if (f->tmp[0] && f->dirfd >= 0)
    unlinkat(f->dirfd, f->tmp, 0);
  f->tmp[0] = '\0';
  mk_close(f->fd);
  mk_close(f->dirfd);
  f->fd = f->dirfd = -1;
}
