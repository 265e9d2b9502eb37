#include "overlay.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/mount.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/context.h"
#include "mk_util.h"
#include "treecopy.h"

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
 * container's user namespace: host root's files are its root's. Cloned
 * here, in the host's mount namespace: a mount of another namespace
 * cannot be. */
static int idmapped_tree(const char *dir, int userns_fd, mk_error_t *err)
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
                        "idmap layer `%s` (--userns=remap needs idmapped "
                        "mounts: Linux 5.19 or newer, and a filesystem "
                        "that has them)",
                        dir);
  return steal_fd(&tree);
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

/* lower's directories, by path, in the current mount namespace. */
static int mount_paths(const char *lower, const char *upper, const char *work,
                       const char *target, mk_error_t *err)
{
  char opts[OVERLAY_OPTS_MAX + 1];
  int n = snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s",
                   lower, upper, work);

  if (n < 0 || (size_t)n >= sizeof(opts))
    return mount_with_fsconfig(lower, upper, work, target, err);
  if (mount("overlay", target, "overlay", 0, opts) < 0)
    return mk_error_sys(err, errno, "mount overlay on `%s`", target);
  return 0;
}

/* Appends dir to *list, a "a:b:c" overlay lowerdir. */
static int append_dir(char **list, const char *dir, mk_error_t *err)
{
  size_t len = *list ? strlen(*list) : 0;
  char *grown = realloc(*list, len + strlen(dir) + 2);

  if (!grown)
    return mk_error_set(err, ENOMEM, "out of memory");
  *list = grown;
  sprintf(grown + len, "%s%s", len ? ":" : "", dir);
  return 0;
}

/* The idmapped layers, attached for the overlay's mount at
 * <target>-layers/N: in the container's mount namespace only (on the
 * host those are empty directories), and detached again once overlayfs
 * holds its private clones of them. */
struct staging {
  char base[PATH_MAX];
  char *list; /* "base/0:base/1:...", the overlay's lowerdir */
  size_t n;   /* attached so far */
};

static int stage_layer(struct staging *st, int tree, size_t i,
                       mk_error_t *err)
{
  char path[PATH_MAX + 16];

  snprintf(path, sizeof(path), "%s/%zu", st->base, i);
  if (mkdir(path, 0700) < 0 && errno != EEXIST)
    return mk_error_sys(err, errno, "mkdir `%s`", path);
  _cleanup_close_ int dir = open(path, O_PATH | O_DIRECTORY | O_NOFOLLOW |
                                           O_CLOEXEC);
  if (dir < 0 || syscall(SYS_move_mount, tree, "", dir, "",
                         MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    return mk_error_sys(err, errno, "attach idmapped layer at `%s`", path);
  st->n = i + 1;
  return append_dir(&st->list, path, err);
}

static void unstage(struct staging *st)
{
  char path[PATH_MAX + 16];

  for (size_t i = 0; i < st->n; i++) {
    snprintf(path, sizeof(path), "%s/%zu", st->base, i);
    umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW);
  }
  free(st->list);
}

static int mount_staged(const int *trees, size_t ntrees, const char *upper,
                        const char *work, const char *target, mk_error_t *err)
{
  struct staging st = {.list = NULL};
  int rc = 0;

  mk_snprintf(st.base, sizeof(st.base), "%s-layers", target);
  if (mkdir(st.base, 0700) < 0 && errno != EEXIST)
    return mk_error_sys(err, errno, "mkdir `%s`", st.base);
  for (size_t i = 0; rc == 0 && i < ntrees; i++)
    rc = stage_layer(&st, trees[i], i, err);
  if (rc == 0)
    rc = mount_paths(st.list, upper, work, target, err);
  unstage(&st);
  return rc;
}

/* ---- where layers cannot be idmapped: a chowned copy per mapping ---- */

/* FNV-1a of the maps' text: the copies' name for this mapping. */
static uint64_t maps_key(const struct mk_userns *u)
{
  char text[MK_MAX_IDMAPS * 2 * 40 + 8];
  size_t len = 0;
  uint64_t h = 1469598103934665603ull;

  for (uint32_t i = 0; i < u->nuid; i++)
    len += (size_t)snprintf(text + len, sizeof(text) - len, "u%u:%u:%u,",
                            u->uid[i].inside, u->uid[i].outside,
                            u->uid[i].count);
  for (uint32_t i = 0; i < u->ngid; i++)
    len += (size_t)snprintf(text + len, sizeof(text) - len, "g%u:%u:%u,",
                            u->gid[i].inside, u->gid[i].outside,
                            u->gid[i].count);
  for (size_t i = 0; i < len && i < sizeof(text); i++)
    h = (h ^ (unsigned char)text[i]) * 1099511628211ull;
  return h;
}

/* <layer>-idmap-<key>: the layer with every owner shifted into the maps,
 * made once (under a lock, in a temporary directory renamed into place,
 * so a copy is there whole or not at all) and shared by every container
 * with the same maps; removed with its layer. */
static int chowned_copy(const char *layer, const struct mk_userns *u,
                        char out[PATH_MAX], mk_error_t *err)
{
  char tmp[PATH_MAX + 32];
  struct stat st;

  mk_snprintf(out, PATH_MAX, "%s-idmap-%016llx", layer,
              (unsigned long long)maps_key(u));
  snprintf(tmp, sizeof(tmp), "%s.tmp", out);
  int lock = mk_lock_dir(layer, err); /* <layer>/.lock: one copier */
  if (lock < 0)
    return -1;
  int rc = 0;
  if (lstat(out, &st) < 0) {
    mk_error_t ignored;
    fprintf(stderr,
            "mocker: the filesystem of `%s` cannot idmap layers: "
            "--userns=remap uses a chowned copy of each layer for this "
            "mapping (docs/userns.md)\n",
            layer);
    mk_remove_tree(tmp, &ignored); /* a copier that died half-way */
    struct mk_treecopy t = {.what = "copy layer", .err = err, .userns = u,
                            .layer = 1};
    _cleanup_close_ int src = open(layer, O_RDONLY | O_DIRECTORY |
                                              O_NOFOLLOW | O_CLOEXEC);
    _cleanup_close_ int dst = -1;
    if (src < 0 || mkdir(tmp, 0700) < 0 ||
        (dst = open(tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) <
            0)
      rc = mk_error_sys(err, errno, "copy layer `%s`", layer);
    else if (mk_treecopy(&t, src, dst) < 0 || rename(tmp, out) < 0)
      rc = err->msg[0] ? -1 : mk_error_sys(err, errno, "rename `%s`", tmp);
    if (rc < 0)
      mk_remove_tree(tmp, &ignored);
  }
  mk_close(lock);
  return rc;
}

/* The overlay over chowned copies of the layers, mounted by path. */
static int mount_chowned(const char *lower, const char *upper,
                         const char *work, const char *target,
                         const struct mk_userns *u, mk_error_t *err)
{
  _cleanup_free_ char *copy = strdup(lower), *list = NULL;

  if (!copy)
    return mk_error_set(err, ENOMEM, "out of memory");
  for (char *p = copy, *next; p && *p; p = next) {
    char dir[PATH_MAX];
    next = strchr(p, ':');
    if (next)
      *next++ = '\0';
    if (chowned_copy(p, u, dir, err) < 0 || append_dir(&list, dir, err) < 0)
      return -1;
  }
  if (mk_mount_enter_target(err) < 0)
    return -1;
  return mount_paths(list, upper, work, target, err);
}

static void close_all(int *fds, size_t n)
{
  for (size_t i = 0; i < n; i++)
    mk_close(fds[i]);
}

/* With a user namespace: every layer idmapped (shared by all containers,
 * never chowned; the upper layer is already its root's), made as host
 * root so overlayfs keeps the host's credentials for its layers. */
static int mount_idmapped(const char *lower, const char *upper,
                          const char *work, const char *target, int userns_fd,
                          const struct mk_userns *u, mk_error_t *err)
{
  _cleanup_free_ char *copy = strdup(lower);
  int trees[MAX_LAYERS];
  size_t n = 0;
  int rc = 0;

  if (!copy)
    return mk_error_set(err, ENOMEM, "out of memory");
  for (char *p = copy, *next; rc == 0 && p && *p; p = next) {
    next = strchr(p, ':');
    if (next)
      *next++ = '\0';
    if (n == MAX_LAYERS)
      rc = mk_error_set(err, E2BIG, "more than %d layers", MAX_LAYERS);
    else if ((trees[n] = idmapped_tree(p, userns_fd, err)) < 0)
      rc = -1;
    else
      n++;
  }
  /* the kernel, or the layers' filesystem (tmpfs before 6.3), cannot */
  if (rc < 0 && n == 0 && u && (err->err == EINVAL || err->err == EOPNOTSUPP ||
                                err->err == ENOSYS)) {
    memset(err, 0, sizeof(*err));
    return mount_chowned(lower, upper, work, target, u, err);
  }
  if (rc == 0 && mk_mount_enter_target(err) < 0)
    rc = -1;
  if (rc == 0)
    rc = mount_staged(trees, n, upper, work, target, err);
  close_all(trees, n);
  return rc;
}

int mk_overlay_mount(const char *lower, const char *upper, const char *work,
                     const char *target, int userns_fd,
                     const struct mk_userns *u, mk_error_t *err)
{
  if (!lower || !*lower)
    return mk_error_set(err, EINVAL, "overlay for `%s`: no image layers",
                        target);
  if (userns_fd >= 0)
    return mount_idmapped(lower, upper, work, target, userns_fd, u, err);
  if (mk_mount_enter_target(err) < 0)
    return -1;
  return mount_paths(lower, upper, work, target, err);
}
