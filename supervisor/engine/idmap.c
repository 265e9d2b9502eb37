#include "idmap.h"
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mk_util.h"
#include "overlay.h"

int64_t mk_idmap_host(const struct mk_idmap *maps, uint32_t n, uint32_t id)
{
  for (uint32_t i = 0; i < n; i++)
    if (id >= maps[i].inside && id - maps[i].inside < maps[i].count)
      return (int64_t)maps[i].outside + (id - maps[i].inside);
  return -1;
}

/* /proc/<pid> of our own child, unreaped, so the pid is still it. */
static int write_map(pid_t pid, const char *file, const struct mk_idmap *m,
                     uint32_t n, mk_error_t *err)
{
  char path[64], text[MK_MAX_IDMAPS * 36 + 1];
  size_t len = 0;

  for (uint32_t i = 0; i < n; i++)
    len += (size_t)snprintf(text + len, sizeof(text) - len, "%u %u %u\n",
                            m[i].inside, m[i].outside, m[i].count);
  snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
  _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write(fd, text, len) != (ssize_t)len)
    return mk_error_sys(err, errno, "write the container's %s", file);
  return 0;
}

static int open_userns(pid_t pid, mk_error_t *err)
{
  char path[64];
  int fd;

  snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return mk_error_sys(err, errno, "open the container's user namespace");
  return fd;
}

__attribute__((noreturn)) static void
mount_helper(int pidfd, int userns_fd, const struct mk_spawn_hooks *h,
             int report)
{
  mk_error_t e = {0};

  mk_mount_attach_in(pidfd);
  if (h->mount(h->data, userns_fd, &e) == 0 &&
      mk_mount_enter_target(&e) == 0) /* if the mount did not */
    _exit(0);
  if (write(report, &e, sizeof(e)) < 0)
    _exit(2);
  _exit(1);
}

/* The rootfs, mounted by a forked helper of ours, so that this process
 * never leaves the host's mount namespace. */
static int mount_as_host(int pidfd, int userns_fd,
                         const struct mk_spawn_hooks *h, mk_error_t *err)
{
  int pipefd[2], status;
  pid_t helper;

  if (pipe2(pipefd, O_CLOEXEC) < 0)
    return mk_error_sys(err, errno, "pipe");
  helper = fork();
  if (helper == 0)
    mount_helper(pidfd, userns_fd, h, pipefd[1]);
  mk_close(pipefd[1]);
  if (helper < 0) {
    mk_close(pipefd[0]);
    return mk_error_sys(err, errno, "fork");
  }
  while (waitpid(helper, &status, 0) < 0 && errno == EINTR)
    ;
  mk_error_t e = {0};
  ssize_t n = read(pipefd[0], &e, sizeof(e));
  mk_close(pipefd[0]);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
    return 0;
  if (n == (ssize_t)sizeof(e)) {
    e.msg[sizeof(e.msg) - 1] = '\0';
    *err = e;
    return -1;
  }
  return mk_error_set(err, EIO, "mounting the rootfs failed");
}

int mk_userns_setup_child(pid_t pid, int pidfd, const struct mk_cgroup *cg,
                          const struct mk_spawn_hooks *h, mk_error_t *err)
{
  const struct mk_userns *u = h->userns;

  if (write_map(pid, "uid_map", u->uid, u->nuid, err) < 0 ||
      write_map(pid, "gid_map", u->gid, u->ngid, err) < 0)
    return -1;
  if (cg && cg->mode == MK_CGROUP_V1 && mk_cgroup_enter_pid(cg, pid, err) < 0)
    return -1;
  if (!h->mount)
    return 0;
  _cleanup_close_ int userns_fd = open_userns(pid, err);
  if (userns_fd < 0)
    return -1;
  return mount_as_host(pidfd, userns_fd, h, err);
}
