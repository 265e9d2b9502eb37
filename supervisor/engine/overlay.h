/* Mounting a container's overlay. Linked into mocker and mocker-monitor. */
#ifndef MK_OVERLAY_H
#define MK_OVERLAY_H

#include "mk_error.h"

/* lower: "top:...:bottom" as in Docker's GraphDriver.Data.LowerDir. Uses
 * mount(2) when the options fit a page, else fsconfig's "lowerdir+". */
int mk_overlay_mount(const char *lower, const char *upper, const char *work,
                     const char *target, mk_error_t *err);

#endif
