#include "rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "hooks.h"
#include "mk_masked.h"
#include "mk_pathres.h"
#include "mk_trace.h"
#include "mk_util.h"

#define FD_PATH_MAX 32

struct special_mount {
  const char *target, *source, *fstype, *data;
  unsigned long flags;
};

/* In the order of runc's default spec (and so of most bundles: the
 * runtime spec says mounts are made in order), with its sources; /dev
 * must exist before the mounts below it. */
static const struct special_mount special_mounts[] = {
    {"/proc", "proc", "proc", NULL, MS_NOSUID | MS_NODEV | MS_NOEXEC},
    {"/dev", "tmpfs", "tmpfs", "mode=755,size=65536k",
     MS_NOSUID | MS_STRICTATIME},
    {"/dev/pts", "devpts", "devpts",
     "newinstance,ptmxmode=0666,mode=0620,gid=5", MS_NOSUID | MS_NOEXEC},
    {"/dev/shm", "shm", "tmpfs", "mode=1777,size=65536k",
     MS_NOSUID | MS_NODEV | MS_NOEXEC},
    {"/dev/mqueue", "mqueue", "mqueue", NULL, MS_NOSUID | MS_NODEV | MS_NOEXEC},
    {"/sys", "sysfs", "sysfs", NULL,
     MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY},
};

struct device_node {
  const char *name;
  unsigned int major, minor;
};

static const struct device_node device_nodes[] = {
    {"null", 1, 3},   {"zero", 1, 5},    {"full", 1, 7},
    {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
};

static const char *const device_links[][2] = {
    {"fd", "/proc/self/fd"},       {"stdin", "/proc/self/fd/0"},
    {"stdout", "/proc/self/fd/1"}, {"stderr", "/proc/self/fd/2"},
    {"ptmx", "pts/ptmx"},
};

/* mk_rootfs_open_sources: the rootfs and cfg->mounts[i]'s bind source,
 * opened early (-1: open it when it is mounted). */
static int early_root = -1;
static int in_userns; /* mk_rootfs_open_sources ran: MK_CFG_USERNS */
static int early_source[MK_MAX_MOUNTS] = {[0 ... MK_MAX_MOUNTS - 1] = -1};
static const struct mk_mount *early_mounts;

int mk_rootfs_open_sources(const struct mk_config *cfg, mk_error_t *err)
{
  in_userns = 1;
  early_root = open(cfg->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (early_root < 0)
    return mk_error_sys(err, errno, "open rootfs `%s`", cfg->rootfs);
  early_mounts = cfg->mounts;
  for (size_t i = 0; i < cfg->nmounts; i++) {
    if (cfg->mounts[i].kind != MK_MOUNT_BIND)
      continue;
    early_source[i] = open(cfg->mounts[i].source, O_PATH | O_CLOEXEC);
    if (early_source[i] < 0)
      return mk_error_sys(err, errno, "open bind source `%s`",
                          cfg->mounts[i].source);
  }
  return 0;
}

/* m's source: the fd opened early, or now. */
static int open_source(const struct mk_mount *m)
{
  size_t i = early_mounts ? (size_t)(m - early_mounts) : MK_MAX_MOUNTS;
  int fd;

  if (i < MK_MAX_MOUNTS && early_source[i] >= 0) {
    fd = early_source[i];
    early_source[i] = -1;
    return fd;
  }
  return open(m->source, O_PATH | O_CLOEXEC);
}

static void fd_path(int fd, char buf[FD_PATH_MAX])
{
  snprintf(buf, FD_PATH_MAX, "/proc/self/fd/%d", fd);
}

/* Mounts through /proc/self/fd of a target resolved inside the rootfs, so
 * a symlink swapped in by the image cannot redirect it (CVE-2021-30465). */
static int mount_on_fd(const char *source, int target_fd, const char *target,
                       const char *fstype, unsigned long flags,
                       const char *data, mk_error_t *err)
{
  char path[FD_PATH_MAX];

  fd_path(target_fd, path);
  if (mount(source, path, fstype, flags, data) < 0)
    return mk_error_sys(err, errno, "mount %s on `%s`", fstype, target);
  return 0;
}

static int mount_special(int rootfd, const struct special_mount *m,
                         uint32_t cfg_flags, mk_error_t *err)
{
  _cleanup_close_ int fd = mk_mkdir_in_root(rootfd, m->target, 0755, err);
  unsigned long flags = m->flags;

  if (fd < 0)
    return -1;
  if ((cfg_flags & MK_CFG_PRIVILEGED) && strcmp(m->target, "/sys") == 0)
    flags &= ~(unsigned long)MS_RDONLY; /* --privileged: /sys read-write */
  return mount_on_fd(m->source, fd, m->target, m->fstype, flags, m->data, err);
}

/* In a user namespace nobody may mknod a device: the host's node is
 * bound onto an empty file instead, as runc does. host is resolved in
 * the host's tree, before pivot_root and before the container runs. */
static int bind_host_node(int dir, const char *name, const char *host,
                          mode_t type, dev_t rdev, mk_error_t *err)
{
  _cleanup_close_ int file = openat(
      dir, name, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0666);
  _cleanup_close_ int tree = (int)syscall(
      SYS_open_tree, AT_FDCWD, host, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  struct stat st;

  if (file < 0 || tree < 0 || fstat(tree, &st) < 0)
    return mk_error_sys(err, errno, "bind the host's device `%s`", host);
  if ((st.st_mode & S_IFMT) != type || st.st_rdev != rdev)
    return mk_error_set(err, ENODEV,
                        "a user namespace cannot mknod `%s`, and the host's "
                        "is not that device",
                        host);
  if (syscall(SYS_move_mount, tree, "", file, "",
              MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    return mk_error_sys(err, errno, "bind the host's device `%s`", host);
  return 0;
}

static int make_std_node(int dev, const struct device_node *d, mk_error_t *err)
{
  char host[32];

  if (mknodat(dev, d->name, S_IFCHR | 0666, makedev(d->major, d->minor)) ==
      0)
    return fchmodat(dev, d->name, 0666, 0) < 0
               ? mk_error_sys(err, errno, "chmod /dev/%s", d->name)
               : 0;
  if (errno != EPERM || !in_userns)
    return mk_error_sys(err, errno, "mknod /dev/%s", d->name);
  snprintf(host, sizeof(host), "/dev/%s", d->name);
  return bind_host_node(dev, d->name, host, S_IFCHR,
                        makedev(d->major, d->minor), err);
}

static int populate_dev(int rootfd, mk_error_t *err)
{
  _cleanup_close_ int dev =
      mk_open_in_root(rootfd, "/dev", O_RDONLY | O_DIRECTORY, 0);

  if (dev < 0)
    return mk_error_sys(err, errno, "open /dev in the container");
  for (size_t i = 0; i < MK_ARRAY_SIZE(device_nodes); i++)
    if (make_std_node(dev, &device_nodes[i], err) < 0)
      return -1;
  for (size_t i = 0; i < MK_ARRAY_SIZE(device_links); i++)
    if (symlinkat(device_links[i][1], dev, device_links[i][0]) < 0)
      return mk_error_sys(err, errno, "symlink /dev/%s", device_links[i][0]);
  return 0;
}

/* --device or linux.devices: a node (or a fifo) at any path of the
 * container, parents created, owned as asked. */
static int make_device(int rootfd, const struct mk_device *d, mk_error_t *err)
{
  char parent[PATH_MAX];
  const char *slash = strrchr(d->path, '/');
  mode_t type = d->type == 'b' ? S_IFBLK : d->type == 'p' ? S_IFIFO : S_IFCHR;

  if (!slash[1] ||
      snprintf(parent, sizeof(parent), "%.*s", (int)(slash - d->path),
               d->path) >= (int)sizeof(parent))
    return mk_error_set(err, EINVAL, "bad device path `%s`", d->path);
  _cleanup_close_ int dir =
      mk_mkdir_in_root(rootfd, parent[0] ? parent : "/", 0755, err);
  if (dir < 0)
    return -1;
  unlinkat(dir, slash + 1, 0); /* an image's file there gives way */
  if (mknodat(dir, slash + 1, type | d->mode, makedev(d->major, d->minor)) <
      0) {
    if (errno == EPERM && in_userns && type != S_IFIFO) /* the host's */
      return bind_host_node(dir, slash + 1, d->path, type,
                            makedev(d->major, d->minor), err);
    return mk_error_sys(err, errno, "create device `%s`", d->path);
  }
  if (fchmodat(dir, slash + 1, d->mode, 0) < 0 ||
      fchownat(dir, slash + 1, d->uid, d->gid, AT_SYMLINK_NOFOLLOW) < 0)
    return mk_error_sys(err, errno, "create device `%s`", d->path);
  return 0;
}

static int is_directory(int fd)
{
  struct stat st;

  return fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The mount_setattr attributes of MK_MNT_* flags. */
static struct mount_attr bind_attr(uint32_t f)
{
  struct mount_attr attr = {
      .attr_set = ((f & MK_MNT_RDONLY) ? MOUNT_ATTR_RDONLY : 0) |
                  ((f & MK_MNT_NOSUID) ? MOUNT_ATTR_NOSUID : 0) |
                  ((f & MK_MNT_NODEV) ? MOUNT_ATTR_NODEV : 0) |
                  ((f & MK_MNT_NOEXEC) ? MOUNT_ATTR_NOEXEC : 0) |
                  ((f & MK_MNT_NODIRATIME) ? MOUNT_ATTR_NODIRATIME : 0)};

  if (f & (MK_MNT_NOATIME | MK_MNT_STRICTATIME | MK_MNT_RELATIME)) {
    attr.attr_clr = MOUNT_ATTR__ATIME;
    attr.attr_set |= (f & MK_MNT_NOATIME)       ? MOUNT_ATTR_NOATIME
                     : (f & MK_MNT_STRICTATIME) ? MOUNT_ATTR_STRICTATIME
                                                : MOUNT_ATTR_RELATIME;
  }
  return attr;
}

/* Binds a host path: open_tree + move_mount, never a path string, so the
 * target is exactly the inode resolved inside the rootfs. Recursive
 * (Docker's -v is), unless recursive is 0 (a bundle's "bind"). */
static int mount_bind(int rootfd, const struct mk_mount *m, int recursive,
                      mk_error_t *err)
{
  _cleanup_close_ int src = open_source(m);
  _cleanup_close_ int dst = -1, tree = -1;

  if (src < 0)
    return mk_error_sys(err, errno, "open bind source `%s`", m->source);
  dst = mk_mount_target_in_root(rootfd, m->target, is_directory(src), err);
  if (dst < 0)
    return -1;
  tree = (int)syscall(SYS_open_tree, src, "",
                      OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
                          (recursive ? AT_RECURSIVE : 0) | AT_EMPTY_PATH);
  if (tree < 0)
    return mk_error_sys(err, errno, "clone mount of `%s`", m->source);
  struct mount_attr attr = bind_attr(m->flags);
  if ((attr.attr_set || attr.attr_clr) &&
      syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr,
              sizeof(attr)) < 0)
    return mk_error_sys(err, errno, "set the flags of `%s`", m->target);
  if (syscall(SYS_move_mount, tree, "", dst, "",
              MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    return mk_error_sys(err, errno, "bind `%s` on `%s`", m->source, m->target);
  return 0;
}

static unsigned long mount_flags(uint32_t f)
{
  return ((f & MK_MNT_RDONLY) ? MS_RDONLY : 0) |
         ((f & MK_MNT_NOSUID) ? MS_NOSUID : 0) |
         ((f & MK_MNT_NODEV) ? MS_NODEV : 0) |
         ((f & MK_MNT_NOEXEC) ? MS_NOEXEC : 0);
}

static int mount_user(int rootfd, const struct mk_mount *m, mk_error_t *err)
{
  if (m->kind == MK_MOUNT_BIND)
    return mount_bind(rootfd, m, 1, err);
  _cleanup_close_ int fd = mk_mkdir_in_root(rootfd, m->target, 0755, err);
  if (fd < 0)
    return -1;
  return mount_on_fd("tmpfs", fd, m->target, "tmpfs", mount_flags(m->flags),
                     m->data, err);
}

/* pivot_root(".", ".") stacks the old root under the new one; detaching it
 * leaves only the container. Where the current root cannot be pivoted
 * (an initramfs), MS_MOVE + chroot is the documented fallback. */
static int pivot_into(int rootfd, const char *rootfs, mk_error_t *err)
{
  if (fchdir(rootfd) < 0)
    return mk_error_sys(err, errno, "chdir to `%s`", rootfs);
  if (syscall(SYS_pivot_root, ".", ".") == 0) {
    if (umount2(".", MNT_DETACH) < 0)
      return mk_error_sys(err, errno, "detach the old root");
  } else if (errno == EINVAL) {
    if (mount(".", "/", NULL, MS_MOVE, NULL) < 0 || chroot(".") < 0)
      return mk_error_sys(err, errno, "move root to `%s`", rootfs);
  } else {
    return mk_error_sys(err, errno, "pivot_root to `%s`", rootfs);
  }
  if (chdir("/") < 0)
    return mk_error_sys(err, errno, "chdir to the new root");
  return 0;
}

static int make_workdir(int rootfd, const char *workdir, mk_error_t *err)
{
  if (!*workdir)
    return 0;
  int fd = mk_mkdir_in_root(rootfd, workdir, 0755, err);
  if (fd < 0)
    return mk_error_prefix(err, "working directory");
  close(fd);
  return 0;
}

/* Clones the mount at fd, optionally read-only, and moves it onto
 * target_fd: bind mounts without a path string in sight. */
static int bind_fd(int fd, int target_fd, int read_only, const char *what,
                   mk_error_t *err)
{
  _cleanup_close_ int tree =
      (int)syscall(SYS_open_tree, fd, "",
                   OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
  struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};

  if (tree < 0)
    return mk_error_sys(err, errno, "clone mount for `%s`", what);
  if (read_only && syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &attr,
                           sizeof(attr)) < 0)
    return mk_error_sys(err, errno, "make `%s` read-only", what);
  if (syscall(SYS_move_mount, tree, "", target_fd, "",
              MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    return mk_error_sys(err, errno, "mount over `%s`", what);
  return 0;
}

/* A path the kernel does not have here (no /proc/scsi) needs no mask. */
static int mask_path(int rootfd, int devnull, const char *path, mk_error_t *err)
{
  _cleanup_close_ int fd = mk_open_in_root(rootfd, path, O_PATH, 0);

  if (fd < 0)
    return errno == ENOENT ? 0 : mk_error_sys(err, errno, "open `%s`", path);
  if (!is_directory(fd))
    return bind_fd(devnull, fd, 1, path, err);
  return mount_on_fd("tmpfs", fd, path, "tmpfs",
                     MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0",
                     err);
}

static int readonly_path(int rootfd, const char *path, mk_error_t *err)
{
  _cleanup_close_ int fd = mk_open_in_root(rootfd, path, O_PATH, 0);

  if (fd < 0)
    return errno == ENOENT ? 0 : mk_error_sys(err, errno, "open `%s`", path);
  return bind_fd(fd, fd, 1, path, err);
}

static int protect_kernel_paths(int rootfd, const struct mk_config *cfg,
                                mk_error_t *err)
{
  _cleanup_close_ int devnull = mk_open_in_root(rootfd, "/dev/null", O_PATH, 0);

  if (devnull < 0)
    return mk_error_sys(err, errno, "open /dev/null in the container");
  for (size_t i = 0; i < mk_nmasked_paths; i++)
    if (mask_path(rootfd, devnull, mk_masked_paths[i], err) < 0)
      return -1;
  for (size_t i = 0; i < mk_nreadonly_paths; i++)
    if (readonly_path(rootfd, mk_readonly_paths[i], err) < 0)
      return -1;
  for (size_t i = 0; i < cfg->nmasked; i++)
    if (mask_path(rootfd, devnull, cfg->masked[i], err) < 0)
      return -1;
  for (size_t i = 0; i < cfg->nreadonly; i++)
    if (readonly_path(rootfd, cfg->readonly[i], err) < 0)
      return -1;
  return 0;
}

/* ---- /sys/fs/cgroup: the container's own cgroup, through its cgroup
 * namespace; read-only unless --privileged. */

static unsigned long cgroup_mount_flags(uint32_t cfg_flags)
{
  return MS_NOSUID | MS_NODEV | MS_NOEXEC |
         ((cfg_flags & MK_CFG_PRIVILEGED) ? 0 : MS_RDONLY);
}

static int mount_cgroup_fs(int rootfd, const char *target, const char *fstype,
                           const char *options, uint32_t cfg_flags,
                           mk_error_t *err)
{
  _cleanup_close_ int fd = mk_mkdir_in_root(rootfd, target, 0755, err);

  if (fd < 0)
    return -1;
  return mount_on_fd(fstype, fd, target, fstype, cgroup_mount_flags(cfg_flags),
                     options, err);
}

/* One v1 hierarchy from the host's mountinfo ("... - cgroup cgroup
 * rw,cpu,cpuacct"), mounted again by the same options under our tmpfs;
 * the kernel roots it at the container's cgroup. */
static int mount_v1_hierarchy(int rootfd, const char *line, uint32_t flags,
                              mk_error_t *err)
{
  char mountpoint[256], target[300], opts[256];
  const char *sep = strstr(line, " - cgroup cgroup ");
  const char *name;

  if (!sep || sscanf(line, "%*s %*s %*s %*s %255s", mountpoint) != 1 ||
      strncmp(mountpoint, "/sys/fs/cgroup/", 15) != 0)
    return 0;
  name = mountpoint + 15;
  snprintf(opts, sizeof(opts), "%s", sep + strlen(" - cgroup cgroup "));
  opts[strcspn(opts, " \n")] = '\0';
  /* drop "rw"/"ro": the mount flags decide */
  const char *o = strncmp(opts, "rw,", 3) == 0 || strncmp(opts, "ro,", 3) == 0
                      ? opts + 3
                      : opts;
  snprintf(target, sizeof(target), "/sys/fs/cgroup/%s", name);
  if (mount_cgroup_fs(rootfd, target, "cgroup", o, flags, err) == 0)
    return 0;
  /* v1 hierarchies cannot be mounted from a user namespace: the
   * directory stays empty (docs/userns.md) */
  return (flags & MK_CFG_USERNS) && err->err == EPERM ? 0 : -1;
}

/* Every cgroup hierarchy the host has, from its mountinfo. */
static int mount_hierarchies(int rootfd, FILE *mountinfo, uint32_t flags,
                             mk_error_t *err)
{
  char line[1024];

  while (fgets(line, sizeof(line), mountinfo)) {
    int rc = strstr(line, " - cgroup2 cgroup2 ") &&
                     strstr(line, " /sys/fs/cgroup/unified ")
                 ? mount_cgroup_fs(rootfd, "/sys/fs/cgroup/unified", "cgroup2",
                                   NULL, flags, err)
                 : mount_v1_hierarchy(rootfd, line, flags, err);
    if (rc < 0)
      return -1;
  }
  return 0;
}

static int mount_cgroups_v1(int rootfd, uint32_t flags, mk_error_t *err)
{
  FILE *f = fopen("/proc/self/mountinfo", "re");
  int rc;

  if (!f)
    return mk_error_sys(err, errno, "open /proc/self/mountinfo");
  /* writable while the hierarchies' mount points are made, then ro */
  rc = mount_cgroup_fs(rootfd, "/sys/fs/cgroup", "tmpfs", "mode=755",
                       MK_CFG_PRIVILEGED, err);
  if (rc == 0)
    rc = mount_hierarchies(rootfd, f, flags, err);
  fclose(f);
  if (rc < 0)
    return -1;
  if (flags & MK_CFG_PRIVILEGED)
    return 0;
  _cleanup_close_ int fd =
      mk_open_in_root(rootfd, "/sys/fs/cgroup", O_PATH | O_DIRECTORY, 0);
  char path[FD_PATH_MAX];
  fd_path(fd, path);
  if (fd < 0 ||
      mount(NULL, path, NULL,
            MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
            NULL) < 0)
    return mk_error_sys(err, errno, "make /sys/fs/cgroup read-only");
  return 0;
}

static int mount_cgroups(int rootfd, uint32_t flags, mk_error_t *err)
{
  if (flags & MK_CFG_CGROUP_V2)
    return mount_cgroup_fs(rootfd, "/sys/fs/cgroup", "cgroup2", NULL, flags,
                           err);
  if (flags & MK_CFG_CGROUP_V1)
    return mount_cgroups_v1(rootfd, flags, err);
  return 0;
}

/* One sysctl, through the container's own /proc (just mounted, and
 * checked to be procfs): the key's dots become the path below sys/,
 * resolved beneath it with no links. The key is namespaced
 * (mk_sysctl_is_namespaced), so it changes the container, not the host. */
static int write_sysctl(int procfd, const char *entry, mk_error_t *err)
{
  char path[256];
  size_t klen = strcspn(entry, "=");
  struct open_how how = {.flags = O_WRONLY | O_CLOEXEC,
                         .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
                                    RESOLVE_NO_MAGICLINKS};

  if (klen + 5 >= sizeof(path))
    return mk_error_set(err, ENAMETOOLONG, "sysctl `%.*s`", (int)klen, entry);
  snprintf(path, sizeof(path), "sys/%.*s", (int)klen, entry);
  for (char *p = path + 4; *p; p++)
    if (*p == '.')
      *p = '/';
  _cleanup_close_ int fd =
      (int)syscall(SYS_openat2, procfd, path, &how, sizeof(how));
  const char *value = entry + klen + 1;
  if (fd < 0 || mk_write_all(fd, value, strlen(value)) < 0)
    return mk_error_sys(err, errno, "sysctl %.*s", (int)klen, entry);
  return 0;
}

static int write_sysctls(int rootfd, const struct mk_config *cfg,
                         mk_error_t *err)
{
  struct statfs fs;

  if (!cfg->nsysctls)
    return 0;
  _cleanup_close_ int procfd =
      mk_open_in_root(rootfd, "/proc", O_RDONLY | O_DIRECTORY, 0);
  if (procfd < 0 || fstatfs(procfd, &fs) < 0 || fs.f_type != PROC_SUPER_MAGIC)
    return mk_error_set(err, EINVAL, "sysctls: the container's /proc");
  for (size_t i = 0; i < cfg->nsysctls; i++)
    if (write_sysctl(procfd, cfg->sysctls[i], err) < 0)
      return -1;
  return 0;
}

/* Mounts whose own propagation is set once the rootfs's is (a bundle
 * asks for both: each mount's wins, as in runc), by fd: no path needs
 * resolving after pivot_root. */
static struct {
  int fd;
  const struct mk_mount *m;
} propagations[MK_MAX_MOUNTS];
static size_t npropagations;

/* Remembers the mount now at m's target: reopened, so the fd is the new
 * mount, not the directory under it. */
static int note_propagation(int rootfd, const struct mk_mount *m,
                            mk_error_t *err)
{
  int fd;

  if (!m->propagation || npropagations >= MK_MAX_MOUNTS)
    return 0;
  fd = mk_open_in_root(rootfd, m->target, O_PATH, 0);
  if (fd < 0)
    return mk_error_sys(err, errno, "open `%s`", m->target);
  propagations[npropagations].fd = fd;
  propagations[npropagations++].m = m;
  return 0;
}

static int apply_propagations(mk_error_t *err)
{
  for (size_t i = 0; i < npropagations; i++) {
    const struct mk_mount *m = propagations[i].m;
    struct mount_attr attr = {.propagation =
                                  m->propagation & ~(uint32_t)MK_PROP_REC};
    int rc = (int)syscall(SYS_mount_setattr, propagations[i].fd, "",
                          AT_EMPTY_PATH | ((m->propagation & MK_PROP_REC)
                                               ? AT_RECURSIVE
                                               : 0),
                          &attr, sizeof(attr));
    mk_close(propagations[i].fd);
    if (rc < 0)
      return mk_error_sys(err, errno, "set the propagation of `%s`",
                          m->target);
  }
  npropagations = 0;
  return 0;
}

/* A bundle's filesystem mount (MK_MOUNT_FS, MK_MOUNT_TMPFS) with its own
 * flags and data; cgroup and cgroup2 mean the container's cgroups at
 * /sys/fs/cgroup, made as init makes them, read-only if asked. */
static int mount_bundle_fs(int rootfd, const struct mk_mount *m,
                           uint32_t cfg_flags, mk_error_t *err)
{
  const char *type = m->kind == MK_MOUNT_TMPFS ? "tmpfs" : m->fstype;

  if (strcmp(type, "cgroup") == 0 || strcmp(type, "cgroup2") == 0)
    return mount_cgroups(rootfd,
                         (cfg_flags & ~(uint32_t)MK_CFG_PRIVILEGED) |
                             ((m->flags & MK_MNT_RDONLY) ? 0
                                                         : MK_CFG_PRIVILEGED),
                         err);
  _cleanup_close_ int fd = mk_mkdir_in_root(rootfd, m->target, 0755, err);
  if (fd < 0)
    return -1;
  return mount_on_fd(*m->source ? m->source : type, fd, m->target, type,
                     m->flags, m->data, err);
}

static int is_dev_tmpfs(const struct mk_mount *m)
{
  return strcmp(m->target, "/dev") == 0 &&
         (m->kind == MK_MOUNT_TMPFS ||
          (m->kind == MK_MOUNT_FS && strcmp(m->fstype, "tmpfs") == 0));
}

/* An OCI bundle: exactly its mounts, in order, each with its flags and
 * propagation; then /dev's standard nodes if /dev is a tmpfs of its. */
static int mount_bundle(int rootfd, const struct mk_config *cfg,
                        mk_error_t *err)
{
  int dev_tmpfs = 0;

  for (size_t i = 0; i < cfg->nmounts; i++) {
    const struct mk_mount *m = &cfg->mounts[i];
    int rc = m->kind == MK_MOUNT_BIND
                 ? mount_bind(rootfd, m, (m->flags & MK_MNT_REC) != 0, err)
                 : mount_bundle_fs(rootfd, m, cfg->flags, err);
    if (rc < 0 || note_propagation(rootfd, m, err) < 0)
      return -1;
    dev_tmpfs |= is_dev_tmpfs(m);
  }
  return dev_tmpfs ? populate_dev(rootfd, err) : 0;
}

/* Device nodes, sysctls (before /proc/sys is read-only), then the masked
 * and read-only paths. */
static int confine(int rootfd, const struct mk_config *cfg, mk_error_t *err)
{
  for (size_t i = 0; i < cfg->ndevices; i++)
    if (make_device(rootfd, &cfg->devices[i], err) < 0)
      return -1;
  if (write_sysctls(rootfd, cfg, err) < 0)
    return -1;
  if (!(cfg->flags & MK_CFG_PRIVILEGED) &&
      protect_kernel_paths(rootfd, cfg, err) < 0)
    return -1;
  return 0;
}

static int mount_everything(int rootfd, const struct mk_config *cfg,
                            mk_error_t *err)
{
  if (cfg->flags & MK_CFG_BUNDLE_MOUNTS)
    return mount_bundle(rootfd, cfg, err) < 0 || confine(rootfd, cfg, err) < 0
               ? -1
               : make_workdir(rootfd, cfg->workdir, err);
  for (size_t i = 0; i < MK_ARRAY_SIZE(special_mounts); i++) {
    if (mount_special(rootfd, &special_mounts[i], cfg->flags, err) < 0)
      return -1;
    if (strcmp(special_mounts[i].target, "/dev") == 0 &&
        populate_dev(rootfd, err) < 0)
      return -1;
    if (strcmp(special_mounts[i].target, "/sys") == 0 &&
        mount_cgroups(rootfd, cfg->flags, err) < 0)
      return -1;
  }
  if (confine(rootfd, cfg, err) < 0)
    return -1;
  for (size_t i = 0; i < cfg->nmounts; i++)
    if (mount_user(rootfd, &cfg->mounts[i], err) < 0)
      return -1;
  return make_workdir(rootfd, cfg->workdir, err);
}

/* linux.rootfsPropagation, on the container's / once it is the root;
 * everything stays private otherwise. */
static int set_root_propagation(uint32_t flags, mk_error_t *err)
{
  unsigned long mode = (flags & MK_CFG_ROOT_SHARED)       ? MS_SHARED
                       : (flags & MK_CFG_ROOT_SLAVE)      ? MS_SLAVE
                       : (flags & MK_CFG_ROOT_UNBINDABLE) ? MS_UNBINDABLE
                                                          : 0;

  if (mode && mount(NULL, "/", NULL, MS_REC | mode, NULL) < 0)
    return mk_error_sys(err, errno, "set the rootfs propagation");
  return apply_propagations(err);
}

int mk_setup_rootfs(const struct mk_config *cfg, mk_error_t *err)
{
  _cleanup_close_ int rootfd = -1;

  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    return mk_error_sys(err, errno, "make / private");
  rootfd = early_root >= 0 ? early_root
                           : open(cfg->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  early_root = -1;
  if (rootfd < 0)
    return mk_error_sys(err, errno, "open rootfs `%s`", cfg->rootfs);
  if (mount_everything(rootfd, cfg, err) < 0)
    return -1;
  MK_TRACE("mounts made");
  /* OCI createContainer hooks: every mount made, the old root still
   * there for their paths to resolve in */
  if (mk_hooks_create_container(cfg, err) < 0)
    return -1;
  if (pivot_into(rootfd, cfg->rootfs, err) < 0)
    return -1;
  MK_TRACE("pivot_root done");
  if ((cfg->flags & MK_CFG_READONLY) &&
      mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
    return mk_error_sys(err, errno, "remount the rootfs read-only");
  return set_root_propagation(cfg->flags, err);
}

int mk_loopback_up(mk_error_t *err)
{
  _cleanup_close_ int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct ifreq ifr = {0};

  if (s < 0)
    return mk_error_sys(err, errno, "socket for lo");
  snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
  if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
    return mk_error_sys(err, errno, "read flags of lo");
  ifr.ifr_flags |= IFF_UP;
  if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
    return mk_error_sys(err, errno, "bring lo up");
  return 0;
}
