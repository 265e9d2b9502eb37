/* The container log, in the k8s-file format Podman uses: one line per
 * record, "<RFC 3339 time> <stdout|stderr> <F|P> <text>", P marking a
 * partial line whose text continues in the next record. Appending whole
 * lines keeps the file readable after a crash, and rotation renames it to
 * container.log.1 once it reaches max bytes. */
#ifndef MK_LOGFILE_H
#define MK_LOGFILE_H

#include <limits.h>
#include <stddef.h>

#include "mk_error.h"

struct mk_logfile {
  int fd;
  long long size, max;
  char path[PATH_MAX];
};

int mk_logfile_open(struct mk_logfile *l, const char *dir, long long max,
                    mk_error_t *err);

/* Appends data read from stream ("stdout" or "stderr"). Best effort: a
 * full disk loses log lines, never the container. */
void mk_logfile_write(struct mk_logfile *l, const char *stream,
                      const char *data, size_t len);

void mk_logfile_close(struct mk_logfile *l);

#endif
