/* User and group lookup from the container's own /etc/passwd and
 * /etc/group text. Never NSS: getpwnam would load libraries chosen by the
 * image (CVE-2019-14271). */
#ifndef MK_PASSWD_H
#define MK_PASSWD_H

#include <limits.h>
#include <sys/types.h>

#include "mk_error.h"

#define MK_MAX_GROUPS 64

struct mk_user {
  uid_t uid;
  gid_t gid;
  size_t ngroups; /* supplementary groups from /etc/group membership */
  gid_t groups[MK_MAX_GROUPS];
  char home[PATH_MAX]; /* "/" when the user has no passwd entry */
};

/* Resolves a Docker -u spec ("", "name", "uid", "name:group", "uid:gid",
 * ...) against the file contents (either may be NULL: treated as empty).
 * A name that is not found is an error; a numeric uid that is not found
 * runs with gid 0 and HOME=/, as Docker does. */
int mk_resolve_user(const char *spec, const char *passwd, const char *group,
                    struct mk_user *out, mk_error_t *err);

#endif
