#include "context.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mk_util.h"

static const char *const root_dirs[] = {
    "",         "/containers",    "/images", "/images/sha256",
    "/layers",  "/layers/sha256", "/tmp",    "/names",
    "/volumes",
};

int mk_root_path(const struct mk_ctx *ctx, char out[PATH_MAX], mk_error_t *err,
                 const char *fmt, ...)
{
  va_list ap;
  size_t n = strlen(ctx->root);
  int r;

  if (n >= PATH_MAX)
    return mk_error_set(err, ENAMETOOLONG, "state root path too long");
  memcpy(out, ctx->root, n);
  va_start(ap, fmt);
  r = vsnprintf(out + n, PATH_MAX - n, fmt, ap);
  va_end(ap);
  if (r < 0 || (size_t)r >= PATH_MAX - n)
    return mk_error_set(err, ENAMETOOLONG, "path below `%s` too long",
                        ctx->root);
  return 0;
}

int mk_mkdir_p(const char *path, mode_t mode, mk_error_t *err)
{
  char buf[PATH_MAX];
  size_t n = strlen(path);

  if (n >= sizeof(buf))
    return mk_error_set(err, ENAMETOOLONG, "path too long: `%s`", path);
  memcpy(buf, path, n + 1);
  for (char *p = buf + 1;; p++) {
    if (*p != '/' && *p != '\0')
      continue;
    char saved = *p;
    *p = '\0';
    if (mkdir(buf, mode) < 0 && errno != EEXIST)
      return mk_error_sys(err, errno, "mkdir `%s`", buf);
    *p = saved;
    if (saved == '\0')
      return 0;
  }
}

int mk_ctx_prepare_root(const struct mk_ctx *ctx, mk_error_t *err)
{
  char path[PATH_MAX];
  struct stat st;

  /* Fast path, every run after the first: the last directory made. A
   * concurrent first run may still be making the others. */
  if (mk_root_path(ctx, path, err, "%s",
                   root_dirs[MK_ARRAY_SIZE(root_dirs) - 1]) < 0)
    return -1;
  if (stat(path, &st) == 0)
    return 0;
  for (size_t i = 0; i < MK_ARRAY_SIZE(root_dirs); i++) {
    if (mk_root_path(ctx, path, err, "%s", root_dirs[i]) < 0 ||
        mk_mkdir_p(path, 0700, err) < 0)
      return mk_error_prefix(err, "prepare state root");
  }
  return 0;
}

/* Whoever can write the state root decides what mocker runs as root:
 * its images, its containers' configs, the binaries a monitor execs.
 * So an existing root must belong to us and be writable by nobody else
 * (issue 14, finding 9). stat, not lstat: a root reached through a
 * symlink is fine, as long as where it leads passes. */
int mk_ctx_check_root(const struct mk_ctx *ctx, mk_error_t *err)
{
  struct stat st;

  if (stat(ctx->root, &st) < 0)
    return errno == ENOENT
               ? 0
               : mk_error_sys(err, errno, "state root `%s`", ctx->root);
  if (!S_ISDIR(st.st_mode))
    return mk_error_set(err, ENOTDIR, "state root `%s` is not a directory",
                        ctx->root);
  if (st.st_uid != geteuid())
    return mk_error_set(err, EPERM,
                        "state root `%s` is owned by uid %u, not by uid %u "
                        "that runs mocker: refusing to use it",
                        ctx->root, (unsigned)st.st_uid, (unsigned)geteuid());
  if (st.st_mode & (S_IWGRP | S_IWOTH))
    return mk_error_set(err, EPERM,
                        "state root `%s` can be written by others (mode "
                        "%04o): refusing to use it; `chmod go-w` it first",
                        ctx->root, (unsigned)(st.st_mode & 07777));
  return 0;
}

int mk_is_hex(const char *s, size_t min_len, size_t max_len)
{
  size_t n = strlen(s);

  return n >= min_len && n <= max_len && strspn(s, "0123456789abcdef") == n;
}

static int remove_entries(int dirfd, dev_t dev, const char *path,
                          mk_error_t *err);

static int remove_at(int dirfd, const char *name, dev_t dev, const char *path,
                     mk_error_t *err)
{
  struct stat st;

  if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT
               ? 0
               : mk_error_sys(err, errno, "stat `%s/%s`", path, name);
  if (S_ISDIR(st.st_mode)) {
    if (st.st_dev != dev)
      return mk_error_set(err, EBUSY, "`%s/%s` is a mount point", path, name);
    _cleanup_close_ int fd =
        openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 || remove_entries(fd, dev, path, err) < 0)
      return fd < 0 ? mk_error_sys(err, errno, "open `%s/%s`", path, name) : -1;
  }
  if (unlinkat(dirfd, name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) < 0 &&
      errno != ENOENT)
    return mk_error_sys(err, errno, "remove `%s/%s`", path, name);
  return 0;
}

static int remove_entries(int dirfd, dev_t dev, const char *path,
                          mk_error_t *err)
{
  int dupfd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
  DIR *d = dupfd >= 0 ? fdopendir(dupfd) : NULL;
  struct dirent *de;
  int r = 0;

  if (!d) {
    mk_close(dupfd);
    return mk_error_sys(err, errno, "read directory `%s`", path);
  }
  while (r == 0 && (de = readdir(d))) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    r = remove_at(dirfd, de->d_name, dev, path, err);
  }
  closedir(d);
  return r;
}

int mk_remove_tree(const char *path, mk_error_t *err)
{
  struct stat st;

  if (lstat(path, &st) < 0)
    return errno == ENOENT ? 0 : mk_error_sys(err, errno, "stat `%s`", path);
  return remove_at(AT_FDCWD, path, st.st_dev, path, err);
}

int mk_remove_tree_at(int dirfd, const char *name, mk_error_t *err)
{
  struct stat st;

  if (fstat(dirfd, &st) < 0)
    return mk_error_sys(err, errno, "stat directory");
  return remove_at(dirfd, name, st.st_dev, name, err);
}

int mk_random_hex(char *out, size_t nbytes, mk_error_t *err)
{
  unsigned char raw[64];

  if (nbytes > sizeof(raw))
    return mk_error_set(err, EINVAL, "random id too long");
  if (getrandom(raw, nbytes, 0) != (ssize_t)nbytes)
    return mk_error_sys(err, errno, "getrandom");
  for (size_t i = 0; i < nbytes; i++)
    snprintf(out + 2 * i, 3, "%02x", raw[i]);
  return 0;
}

int mk_lock_dir(const char *dir, mk_error_t *err)
{
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  if (fd < 0)
    return mk_error_sys(err, errno, "open `%s`", dir);
  while (flock(fd, LOCK_EX) < 0)
    if (errno != EINTR) {
      mk_error_sys(err, errno, "lock `%s`", dir);
      close(fd);
      return -1;
    }
  return fd;
}

void mk_config_dir(char out[PATH_MAX])
{
  const char *env = getenv("MOCKER_CONFIG_DIR");

  mk_snprintf(out, PATH_MAX, "%s", env && *env ? env : MK_DEFAULT_CONFIG_DIR);
}

int mk_write_file_atomic(const char *dir, const char *name, const char *text,
                         mk_error_t *err)
{
  char path[PATH_MAX], tmp[PATH_MAX];
  _cleanup_close_ int fd = -1;

  mk_snprintf(path, sizeof(path), "%s/%s", dir, name);
  mk_snprintf(tmp, sizeof(tmp), "%s/%s.tmp", dir, name);
  fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0 || mk_write_all(fd, text, strlen(text)) < 0 ||
      rename(tmp, path) < 0)
    return mk_error_sys(err, errno, "write `%s`", path);
  return 0;
}
