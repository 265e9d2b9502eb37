#include "mk_util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

void mk_freep(void *p)
{
  free(*(void **)p);
}

void mk_close(int fd)
{
  int saved = errno;

  if (fd >= 0)
    close(fd);
  errno = saved;
}

void mk_closep(const int *fd)
{
  mk_close(*fd);
}

void mk_fclosep(FILE **f)
{
  if (*f)
    fclose(*f);
}

int mk_write_all(int fd, const void *buf, size_t len)
{
  const char *p = buf;

  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -1;
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

ssize_t mk_read_all(int fd, void *buf, size_t len)
{
  char *p = buf;
  size_t got = 0;

  while (got < len) {
    ssize_t n = read(fd, p + got, len - got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -1;
    if (n == 0)
      break;
    got += (size_t)n;
  }
  return (ssize_t)got;
}

int mk_snprintf(char *buf, size_t size, const char *fmt, ...)
{
  va_list ap;
  int n;

  va_start(ap, fmt);
  n = vsnprintf(buf, size, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= size) {
    if (size)
      buf[0] = '\0';
    return -1;
  }
  return 0;
}

void *mk_alloc_pages(size_t size)
{
  void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

  return p == MAP_FAILED ? NULL : p;
}

void mk_free_pages(void *p, size_t size)
{
  if (p)
    munmap(p, size);
}
