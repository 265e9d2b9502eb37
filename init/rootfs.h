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

/* A user namespace of the container's own (MK_CFG_USERNS): while init
 * still holds the caller's host uid, opens the rootfs and every bind
 * source, host paths that the namespace's root may not reach; the
 * mounts then use these fds. Nothing inside the rootfs is touched. */
int mk_rootfs_open_sources(const struct mk_config *cfg, mk_error_t *err);

/* Brings up lo in the (new, otherwise empty) network namespace. */
int mk_loopback_up(mk_error_t *err);

#endif
