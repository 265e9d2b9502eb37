#include "overlay.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mk_util.h"

#define OVERLAY_OPTS_MAX 4000 /* mount(2) data must fit in one page */

static int set_string(int fs, const char *key, const char *value,
                      mk_error_t *err)
{
  if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, key, value, 0) < 0)
    return mk_error_sys(err, errno, "overlay %s `%s`", key, value);
  return 0;
}

/* Legacy mount(2) wants all options in one page; the new mount API takes
 * one lower dir per call ("lowerdir+", Linux 6.8), so many layers fit. */
static int mount_with_fsconfig(const char *lower, const char *upper,
                               const char *work, const char *target,
                               mk_error_t *err)
{
  _cleanup_close_ int fs = (int)syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC);
  _cleanup_close_ int mnt = -1, dir = -1;
  _cleanup_free_ char *copy = strdup(lower);

  if (fs < 0 || !copy)
    return mk_error_sys(err, fs < 0 ? errno : ENOMEM, "fsopen overlay");
  for (char *p = copy, *next; p && *p; p = next) {
    next = strchr(p, ':');
    if (next)
      *next++ = '\0';
    if (set_string(fs, "lowerdir+", p, err) < 0)
      return -1;
  }
  if (set_string(fs, "upperdir", upper, err) < 0 ||
      set_string(fs, "workdir", work, err) < 0)
    return -1;
  if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    return mk_error_sys(err, errno, "configure overlay for `%s`", target);
  mnt = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, 0);
  dir = open(target, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (mnt < 0 || dir < 0 ||
      syscall(SYS_move_mount, mnt, "", dir, "",
              MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    return mk_error_sys(err, errno, "mount overlay on `%s`", target);
  return 0;
}

int mk_overlay_mount(const char *lower, const char *upper, const char *work,
                     const char *target, mk_error_t *err)
{
  char opts[OVERLAY_OPTS_MAX + 1];
  int n;

  if (!lower || !*lower)
    return mk_error_set(err, EINVAL, "overlay for `%s`: no image layers",
                        target);
  n = snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s", lower,
               upper, work);
  if (n < 0 || (size_t)n >= sizeof(opts))
    return mount_with_fsconfig(lower, upper, work, target, err);
  if (mount("overlay", target, "overlay", 0, opts) < 0)
    return mk_error_sys(err, errno, "mount overlay on `%s`", target);
  return 0;
}
