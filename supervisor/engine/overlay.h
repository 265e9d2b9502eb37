/* Mounting a container's overlay. Linked into mocker and mocker-monitor. */
#ifndef MK_OVERLAY_H
#define MK_OVERLAY_H

#include "mk_error.h"

/* lower: "top:...:bottom" as in Docker's GraphDriver.Data.LowerDir. Uses
 * mount(2) when the options fit a page, else fsconfig's "lowerdir+".
 * userns_fd >= 0: the container's user namespace; the layers are then
 * idmapped into it (an error where the kernel cannot). */
int mk_overlay_mount(const char *lower, const char *upper, const char *work,
                     const char *target, int userns_fd, mk_error_t *err);

/* For spawn's mount helper (idmap.c): the rootfs is made in the host's
 * mount namespace (idmapped layers can be cloned only from there), then
 * attached in the namespace of pidfd's process, which
 * mk_mount_enter_target joins (made private) just before the attach. */
void mk_mount_attach_in(int pidfd);
int mk_mount_enter_target(mk_error_t *err);

#endif
