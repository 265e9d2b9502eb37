#include "overlay.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mk_util.h"

#define OVERLAY_OPTS_MAX 4000 /* mount(2) data must fit in one page */
#define MAX_LAYERS 500        /* overlayfs's own limit */

static int set_string(int fs, const char *key, const char *value,
                      mk_error_t *err)
{
  if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, key, value, 0) < 0)
    return mk_error_sys(err, errno, "overlay %s `%s`", key, value);
  return 0;
}

/* A helper of spawn's (idmap.c): the container's init, whose mount
 * namespace the mount is attached in; -1: the current one. */
static int target_pidfd = -1;

void mk_mount_attach_in(int pidfd)
{
  target_pidfd = pidfd;
}

int mk_mount_enter_target(mk_error_t *err)
{
  if (target_pidfd < 0)
    return 0;
  if (setns(target_pidfd, CLONE_NEWNS) < 0)
    return mk_error_sys(err, errno, "join the container's mount namespace");
  target_pidfd = -1;
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    return mk_error_sys(err, errno, "make / private");
  return 0;
}

/* One layer, as a detached bind of it whose ids are shifted into the
 * container's user namespace: host root's files are its root's. The
 * returned tree fd must stay open until the overlay is created: the
 * detached mount goes with its last fd. */
static int idmapped_layer(int fs, const char *dir, int userns_fd,
                          mk_error_t *err)
{
  struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP,
                            .userns_fd = (uint64_t)userns_fd};
  _cleanup_close_ int tree = (int)syscall(SYS_open_tree, AT_FDCWD, dir,
                                          OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);

  if (tree < 0)
    return mk_error_sys(err, errno, "open layer `%s`", dir);
  if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &attr,
              sizeof(attr)) < 0)
    return mk_error_sys(err, errno,
                        "idmap layer `%s` (the kernel or its filesystem "
                        "cannot: --userns=remap needs idmapped mounts)",
                        dir);
  if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_FD, "lowerdir+", NULL, tree) < 0)
    return mk_error_sys(err, errno,
                        "overlay over idmapped layer `%s` (Linux 6.13 or "
                        "newer is needed)",
                        dir);
  return steal_fd(&tree);
}

static void close_all(int *fds, size_t n)
{
  for (size_t i = 0; i < n; i++)
    mk_close(fds[i]);
}

/* Legacy mount(2) wants all options in one page; the new mount API takes
 * one lower dir per call ("lowerdir+", Linux 6.8), so many layers fit.
 * With a user namespace (userns_fd) every layer is idmapped: shared by
 * all containers, never chowned; the upper layer is already its root's. */
static int mount_with_fsconfig(const char *lower, const char *upper,
                               const char *work, const char *target,
                               int userns_fd, mk_error_t *err)
{
  _cleanup_close_ int fs = (int)syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC);
  _cleanup_close_ int mnt = -1, dir = -1;
  _cleanup_free_ char *copy = strdup(lower);
  int trees[MAX_LAYERS];
  size_t ntrees = 0;

  if (fs < 0 || !copy)
    return mk_error_sys(err, fs < 0 ? errno : ENOMEM, "fsopen overlay");
  for (char *p = copy, *next; p && *p; p = next) {
    next = strchr(p, ':');
    if (next)
      *next++ = '\0';
    if (userns_fd < 0 ? set_string(fs, "lowerdir+", p, err) < 0
        : ntrees == MAX_LAYERS
            ? mk_error_set(err, E2BIG, "more than %d layers", MAX_LAYERS) < 0
            : (trees[ntrees] = idmapped_layer(fs, p, userns_fd, err)) < 0) {
      close_all(trees, ntrees);
      return -1;
    }
    ntrees += userns_fd >= 0;
  }
  int rc = set_string(fs, "upperdir", upper, err) < 0 ||
                   set_string(fs, "workdir", work, err) < 0
               ? -1
           : syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0
               ? mk_error_sys(err, errno, "configure overlay for `%s`", target)
               : 0;
  close_all(trees, ntrees);
  if (rc < 0)
    return -1;
  mnt = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, 0);
  if (mnt < 0)
    return mk_error_sys(err, errno, "mount overlay for `%s`", target);
  if (mk_mount_enter_target(err) < 0)
    return -1;
  dir = open(target, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (mnt < 0 || dir < 0 ||
      syscall(SYS_move_mount, mnt, "", dir, "",
              MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    return mk_error_sys(err, errno, "mount overlay on `%s`", target);
  return 0;
}

int mk_overlay_mount(const char *lower, const char *upper, const char *work,
                     const char *target, int userns_fd, mk_error_t *err)
{
  char opts[OVERLAY_OPTS_MAX + 1];
  int n;

  if (!lower || !*lower)
    return mk_error_set(err, EINVAL, "overlay for `%s`: no image layers",
                        target);
  if (userns_fd >= 0)
    return mount_with_fsconfig(lower, upper, work, target, userns_fd, err);
  if (mk_mount_enter_target(err) < 0)
    return -1;
  n = snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s", lower,
               upper, work);
  if (n < 0 || (size_t)n >= sizeof(opts))
    return mount_with_fsconfig(lower, upper, work, target, -1, err);
  if (mount("overlay", target, "overlay", 0, opts) < 0)
    return mk_error_sys(err, errno, "mount overlay on `%s`", target);
  return 0;
}
