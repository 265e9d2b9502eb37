/* File-system helpers the unit suites share: temp trees, paths, files. */
#ifndef MK_UNIT_FS_H
#define MK_UNIT_FS_H

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw)
{
  (void)st;
  (void)flag;
  (void)ftw;
  remove(path);
  return 0;
}

/* rm -rf, not following symlinks. */
__attribute__((unused)) static void rm_rf(const char *path)
{
  if (path[0])
    nftw(path, remove_entry, 32, FTW_DEPTH | FTW_PHYS);
}

/* Formats a path into out (PATH_MAX bytes). */
__attribute__((format(printf, 2, 3), unused)) static void
fmt(char *out, const char *f, ...)
{
  va_list ap;
  int n;

  va_start(ap, f);
  n = vsnprintf(out, PATH_MAX, f, ap);
  va_end(ap);
  ck_assert_int_lt(n, PATH_MAX);
}

__attribute__((unused)) static void write_file(const char *path,
                                               const char *text)
{
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

  ck_assert_msg(fd >= 0, "create %s: %s", path, strerror(errno));
  ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  close(fd);
}

#endif
