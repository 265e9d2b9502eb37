/* Building the container's filesystem view inside the new mount
 * namespace, and switching root into it. */
#ifndef MK_ROOTFS_H
#define MK_ROOTFS_H

#include "mk_error.h"
#include "mk_proto.h"

/* Makes / private, mounts /proc, /sys, /dev and friends plus the user's
 * mounts under cfg->rootfs, creates the working directory, then
 * pivot_roots into it. On return the process sees only the container. */
int mk_setup_rootfs(const struct mk_config *cfg, mk_error_t *err);

/* Brings up lo in the (new, otherwise empty) network namespace. */
int mk_loopback_up(mk_error_t *err);

#endif
