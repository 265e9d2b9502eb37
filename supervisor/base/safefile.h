/* Files written next to a path a user gave (save -o, the credential
 * store): made under a fresh random name with O_CREAT|O_EXCL|O_NOFOLLOW
 * beneath a directory fd, then renamed over the target. A predictable
 * temporary name in a directory another user can write is a way to make
 * root write through their symlink (issue 14, finding 8); rename(2)
 * replaces a symlink at the target itself, never what it points to. */
#ifndef MK_SAFEFILE_H
#define MK_SAFEFILE_H

#include <limits.h>
#include <sys/types.h>

#include "mk_error.h"

struct mk_safefile {
  int dirfd;              /* the target's directory */
  int fd;                 /* the temporary file, open for writing */
  char tmp[NAME_MAX + 1]; /* its name in dirfd */
  char name[NAME_MAX + 1];
  const char *path; /* the target, for messages */
};

/* Creates the temporary file beside path, with mode. */
int mk_safefile_open(struct mk_safefile *f, const char *path, mode_t mode,
                     mk_error_t *err);

/* Closes the file and renames it over path. Frees f either way; on
 * failure the temporary file is gone too. */
int mk_safefile_commit(struct mk_safefile *f, mk_error_t *err);

/* Removes the temporary file and frees f. Safe after a failed open. */
void mk_safefile_abort(struct mk_safefile *f);

#endif
