/* Resolving paths inside a container rootfs so that no symlink or ".."
 * planted by the image can point outside it (CVE-2021-30465). The kernel
 * does the containment: openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS). */
#ifndef MK_PATHRES_H
#define MK_PATHRES_H

#include <sys/types.h>

#include "mk_error.h"

/* openat2 relative to rootfd, resolution confined to it. Returns fd or -1
 * with errno set (no error object: callers decide whether ENOENT is fatal). */
int mk_open_in_root(int rootfd, const char *path, int flags, mode_t mode);

/* Opens path (O_PATH|O_DIRECTORY) inside the root, creating each missing
 * directory with mode. Returns the fd or -1. */
int mk_mkdir_in_root(int rootfd, const char *path, mode_t mode,
                     mk_error_t *err);

/* Opens path (O_PATH) inside the root, creating missing parents and, when
 * the last component is missing, an empty file (want_dir == 0) or a
 * directory. Used for mount targets. Returns the fd or -1. */
int mk_mount_target_in_root(int rootfd, const char *path, int want_dir,
                            mk_error_t *err);

#endif
