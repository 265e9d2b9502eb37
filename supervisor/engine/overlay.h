/* Mounting a container's overlay. Linked into mocker and mocker-monitor. */
#ifndef MK_OVERLAY_H
#define MK_OVERLAY_H

#include "mk_error.h"
#include "spawn.h"

/* lower: "top:...:bottom" as in Docker's GraphDriver.Data.LowerDir. Uses
 * mount(2) when the options fit a page, else fsconfig's "lowerdir+".
 * userns_fd >= 0: the container's user namespace; the layers are then
 * idmapped into it, attached at <target>-layers/N for the mount and
 * detached after; where the kernel or the layers' filesystem cannot
 * idmap, over a chowned copy of each layer for u's maps (made once,
 * said on stderr). */
int mk_overlay_mount(const char *lower, const char *upper, const char *work,
                     const char *target, int userns_fd,
                     const struct mk_userns *u, mk_error_t *err);

/* For spawn's mount helper (idmap.c): what needs the host's mount
 * namespace is done first (idmapped layers can be cloned only from
 * there), then mk_mount_enter_target joins the namespace of pidfd's
 * process (made private) and the rootfs is mounted in it. Without
 * mk_mount_attach_in, mk_mount_enter_target does nothing. */
void mk_mount_attach_in(int pidfd);
int mk_mount_enter_target(mk_error_t *err);

#endif
