/* Cleanup attributes and EINTR-safe I/O shared by both binaries. */
#ifndef MK_UTIL_H
#define MK_UTIL_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

void mk_freep(void *p);
void mk_closep(const int *fd);
void mk_fclosep(FILE **f);

#define _cleanup_free_ __attribute__((cleanup(mk_freep)))
#define _cleanup_close_ __attribute__((cleanup(mk_closep)))
#define _cleanup_fclose_ __attribute__((cleanup(mk_fclosep)))

/* Hands ownership out of a cleanup variable. */
#define steal_pointer(pp)                                                      \
  ({                                                                           \
    __typeof__(*(pp)) _stolen = *(pp);                                         \
    *(pp) = NULL;                                                              \
    _stolen;                                                                   \
  })
#define steal_fd(fdp)                                                          \
  ({                                                                           \
    int _stolen_fd = *(fdp);                                                   \
    *(fdp) = -1;                                                               \
    _stolen_fd;                                                                \
  })

#define MK_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Write all of buf, retrying on EINTR and short writes. 0 or -1 (errno). */
int mk_write_all(int fd, const void *buf, size_t len);

/* Read until len bytes or EOF, retrying on EINTR. Bytes read or -1. */
ssize_t mk_read_all(int fd, void *buf, size_t len);

/* snprintf that never leaves a truncated string: on overflow buf becomes
 * "" (so a path operation fails instead of touching a shorter path) and
 * -1 is returned. */
int mk_snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Close, keeping errno intact; ignores fd < 0. */
void mk_close(int fd);

/* Zeroed memory straight from the kernel (an anonymous mapping): no
 * memset, and only the pages written are faulted in, each fault a cost a
 * container's start pays. For large structures filled sparsely. NULL
 * (errno) on failure. */
void *mk_alloc_pages(size_t size);
void mk_free_pages(void *p, size_t size);

#endif
