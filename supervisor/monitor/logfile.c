#include "logfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "mk_state.h"
#include "mk_util.h"

#define LOG_NAME "container.log"

static int open_log(struct mk_logfile *l, mk_error_t *err)
{
  struct stat st;

  l->fd = open(l->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW,
               0600);
  if (l->fd < 0)
    return mk_error_sys(err, errno, "open `%s`", l->path);
  l->size = fstat(l->fd, &st) == 0 ? st.st_size : 0;
  return 0;
}

int mk_logfile_open(struct mk_logfile *l, const char *dir, long long max,
                    mk_error_t *err)
{
  l->max = max;
  if (mk_snprintf(l->path, sizeof(l->path), "%s/" LOG_NAME, dir) < 0)
    return mk_error_set(err, ENAMETOOLONG, "log path too long");
  return open_log(l, err);
}

static void rotate(struct mk_logfile *l)
{
  char old[PATH_MAX + 4];
  mk_error_t ignored;

  snprintf(old, sizeof(old), "%s.1", l->path);
  mk_close(l->fd);
  rename(l->path, old);
  if (open_log(l, &ignored) < 0)
    l->fd = -1;
}

static void write_record(struct mk_logfile *l, const char *stamp,
                         const char *stream, int partial, const char *text,
                         size_t len)
{
  char head[96];
  int n = snprintf(head, sizeof(head), "%s %s %c ", stamp, stream,
                   partial ? 'P' : 'F');
  struct iovec iov[3] = {{head, (size_t)n}, {(void *)text, len}, {"\n", 1}};
  size_t total = (size_t)n + len + 1;

  if (l->fd < 0)
    return;
  if (l->size > 0 && l->size + (long long)total > l->max)
    rotate(l);
  if (l->fd >= 0 && writev(l->fd, iov, 3) == (ssize_t)total)
    l->size += (long long)total;
}

void mk_logfile_write(struct mk_logfile *l, const char *stream,
                      const char *data, size_t len)
{
  char stamp[40];

  mk_time_now_rfc3339(stamp, sizeof(stamp));
  while (len > 0) {
    const char *nl = memchr(data, '\n', len);
    size_t piece = nl ? (size_t)(nl - data) : len;
    write_record(l, stamp, stream, !nl, data, piece);
    if (!nl)
      break;
    data += piece + 1;
    len -= piece + 1;
  }
}

void mk_logfile_close(struct mk_logfile *l)
{
  mk_close(l->fd);
  l->fd = -1;
}
