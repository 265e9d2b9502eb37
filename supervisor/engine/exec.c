/* One more process in a running container (see exec.h).
 *
 * Ordering invariant: everything read from the host is read by
 * mk_exec_prepare, before setns; after it this process touches no host
 * path. */
#include "exec.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "isolation/cgroup.h"
#include "mk_util.h"
#include "resources.h"
#include "userns.h"

/* The cgroup namespace is joined by the child, after it entered the
 * container's cgroup (see struct mk_exec_join). */
#define JOINED_NAMESPACES                                                      \
  (CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET)

void mk_exec_init(struct mk_exec *x)
{
  memset(x, 0, sizeof(*x));
  x->target_pidfd = x->init_fd = x->devnull = -1;
  x->join.cgroup_dirfd = x->join.cgroupns_fd = -1;
}

static int not_running(const struct mk_exec *x, mk_error_t *err)
{
  return mk_error_set(err, ESRCH, "container %s is not running", x->c->name);
}

/* pid's number in its innermost pid namespace: the last of NSpid in the
 * host's /proc/PID/status; 0 when unknown (init then assumes 1). */
static uint32_t ns_pid_of(pid_t pid)
{
  char path[64], line[256];
  uint32_t last = 0;
  FILE *f;

  snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
  f = fopen(path, "re");
  while (f && fgets(line, sizeof(line), f)) {
    if (strncmp(line, "NSpid:", 6) != 0)
      continue;
    for (char *tok = strtok(line + 6, " \t\n"); tok;
         tok = strtok(NULL, " \t\n"))
      last = (uint32_t)strtoul(tok, NULL, 10);
    break;
  }
  if (f)
    fclose(f);
  return last;
}

/* The container's root directory, from the host (the init's pid was
 * just verified): after the join, "/" must be it (see join_container). */
static int remember_root(struct mk_exec *x, pid_t pid, mk_error_t *err)
{
  char path[64];
  struct stat st;

  snprintf(path, sizeof(path), "/proc/%d/root/", (int)pid);
  if (stat(path, &st) < 0)
    return errno == ENOENT ? not_running(x, err)
                           : mk_error_sys(err, errno, "stat `%s`", path);
  x->root_dev = st.st_dev;
  x->root_ino = st.st_ino;
  return 0;
}

/* A pidfd for the container's mocker-init. The pid was verified against
 * its start time before pidfd_open and is verified again after it, so the
 * pidfd cannot belong to a recycled pid. */
static int open_target(struct mk_exec *x, mk_error_t *err)
{
  pid_t pid = mk_container_init_pid(x->c);

  if (pid <= 0)
    return not_running(x, err);
  char ns[64];

  x->target_pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (x->target_pidfd < 0 && errno != ESRCH)
    return mk_error_sys(err, errno, "pidfd_open %d", pid);
  snprintf(ns, sizeof(ns), "/proc/%d/ns/cgroup", (int)pid);
  x->join.cgroupns_fd = open(ns, O_RDONLY | O_CLOEXEC);
  /* both fds are the init's only if it is still the process we recorded
   * after they were opened */
  if (x->target_pidfd < 0 || x->join.cgroupns_fd < 0 ||
      !mk_proc_matches(pid, x->c->state.init_start))
    return not_running(x, err);
  x->ns_pid = ns_pid_of(pid);
  return remember_root(x, pid, err);
}

/* The container's limits bind the exec too: the cgroup.procs files of
 * its cgroup are opened here, on the host, for the child to write itself
 * into. We never enter it ourselves: on v2, killing the container's
 * cgroup would take us with it. */
/* The mount point of the hierarchy named by a /proc/PID/cgroup line's
 * controllers field ("memory", "cpu,cpuacct", "name=systemd", or "" for
 * cgroup2), from our mountinfo: a cgroup mount of its root whose super
 * options list them. */
static int hierarchy_mount(const char *controllers, char *out, size_t size)
{
  FILE *f = fopen("/proc/self/mountinfo", "re");
  char line[1024], root[PATH_MAX], point[PATH_MAX], type[32], opts[512];
  int found = 0;

  while (f && !found && fgets(line, sizeof(line), f)) {
    const char *dash = strstr(line, " - ");
    if (!dash ||
        sscanf(line, "%*s %*s %*s %4095s %4095s", root, point) != 2 ||
        sscanf(dash + 3, "%31s %*s %511s", type, opts) != 2 ||
        strcmp(root, "/") != 0)
      continue;
    if (!*controllers) {
      found = strcmp(type, "cgroup2") == 0;
    } else if (strcmp(type, "cgroup") == 0) {
      char want[256], *save = NULL, *c;
      snprintf(want, sizeof(want), "%s", controllers);
      found = 1;
      for (c = strtok_r(want, ",", &save); c && found;
           c = strtok_r(NULL, ",", &save)) {
        char needle[300];
        snprintf(needle, sizeof(needle), ",%s,", c);
        char padded[520];
        snprintf(padded, sizeof(padded), ",%s,", opts);
        found = strstr(padded, needle) != NULL;
      }
    }
    if (found)
      snprintf(out, size, "%s", point);
  }
  if (f)
    fclose(f);
  return found ? 0 : -1;
}

static int managed(const struct mk_cgroup *cg, const char *controllers)
{
  for (size_t i = 0; i < cg->ndirs; i++)
    if (strcmp(cg->names[i], controllers) == 0)
      return 1;
  return 0;
}

/* v1: the hierarchies mocker does not manage (name=systemd, a hybrid
 * host's cgroup2) hold the container's init too, where its creator was;
 * the exec joins it there, not staying in its own caller's (review of
 * issue 17, finding 4: the caller's cgroup path showed inside). */
static int open_other_hierarchies(struct mk_exec *x, pid_t pid,
                                  const struct mk_cgroup *cg, mk_error_t *err)
{
  char path[64], line[PATH_MAX + 128], point[PATH_MAX], file[PATH_MAX * 2];
  FILE *f;

  snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
  if (!(f = fopen(path, "re")))
    return mk_error_sys(err, errno, "open `%s`", path);
  while (fgets(line, sizeof(line), f)) {
    char *ctl = strchr(line, ':'), *cgpath = ctl ? strchr(ctl + 1, ':') : NULL;
    if (!cgpath)
      continue;
    *cgpath++ = '\0';
    cgpath[strcspn(cgpath, "\n")] = '\0';
    ctl++;
    if (managed(cg, ctl) || hierarchy_mount(ctl, point, sizeof(point)) < 0 ||
        x->join.nfds >= MK_CGROUP_MAX_DIRS)
      continue;
    snprintf(file, sizeof(file), "%s%s/%s", point, cgpath,
             *ctl ? "tasks" : "cgroup.procs");
    int fd = open(file, O_WRONLY | O_CLOEXEC);
    if (fd >= 0)
      x->join.procs_fds[x->join.nfds++] = fd;
  }
  fclose(f);
  return 0;
}

static int open_cgroup(struct mk_exec *x, mk_error_t *err)
{
  struct mk_cgroup cg;
  char path[PATH_MAX];

  if (mk_container_cgroup_locate(x->c, &cg, err) < 0)
    return err->err == ENOENT ? 0 : -1; /* a host without cgroups */
  if (!mk_cgroup_exists(&cg))
    return 0; /* started before cgroups were in use */
  if (cg.mode == MK_CGROUP_V2) {
    x->join.cgroup_dirfd = mk_cgroup_open_fd(&cg);
    if (x->join.cgroup_dirfd < 0)
      return mk_error_sys(err, errno, "open `%s`", cg.dirs[0]);
    return 0;
  }
  for (size_t i = 0; i < cg.ndirs; i++) {
    if (mk_snprintf(path, sizeof(path), "%s/%s", cg.dirs[i],
                    mk_cgroup_enter_file(&cg)) < 0)
      return mk_error_set(err, ENAMETOOLONG, "cgroup path too long");
    x->join.procs_fds[x->join.nfds] = open(path, O_WRONLY | O_CLOEXEC);
    if (x->join.procs_fds[x->join.nfds] < 0)
      return mk_error_sys(err, errno, "open `%s`", path);
    x->join.nfds++;
  }
  return open_other_hierarchies(x, mk_container_init_pid(x->c), &cg, err);
}

/* The host's /dev/null, opened before setns and checked to be the null
 * device. Opened after the join, the path would be the container's, and
 * the container's root could have swapped any device node in there
 * (issue 14, finding 1): this process is host root, outside the
 * container's device cgroup. */
static int open_host_devnull(mk_error_t *err)
{
  int fd = open("/dev/null", O_RDWR | O_NOCTTY | O_CLOEXEC);
  struct stat st;

  if (fd < 0)
    return mk_error_sys(err, errno, "open `/dev/null`");
  if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) ||
      st.st_rdev != makedev(1, 3)) {
    close(fd);
    return mk_error_set(err, EINVAL, "`/dev/null` is not the null device");
  }
  return fd;
}

int mk_exec_prepare(const struct mk_ctx *ctx, const struct mk_container *c,
                    const struct mk_exec_spec *s, struct mk_exec *x,
                    mk_error_t *err)
{
  struct mk_userns u;

  x->c = c;
  if (mk_container_userns(c, &u, err) < 0)
    return -1;
  x->join.userns = mk_userns_active(&u);
  if (open_target(x, err) < 0 || open_cgroup(x, err) < 0 ||
      mk_launch_security(ctx, c, &x->sec, err) < 0)
    return -1;
  x->init_fd = mk_open_init_sealed(err);
  if (x->init_fd < 0)
    return -1;
  if (s->null_stdio && (x->devnull = open_host_devnull(err)) < 0)
    return -1;
  return 0;
}

/* Non-dumpable before setns, as runc does: between clone3 and the exec of
 * the sealed init, the child is a copy of this process inside the
 * container's pid namespace, and its /proc/<pid>/exe is the host's
 * mocker. Without CAP_SYS_PTRACE, the container cannot open it then. */
static int join_container(const struct mk_exec *x, mk_error_t *err)
{
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
    return mk_error_sys(err, errno, "prctl PR_SET_DUMPABLE");
  /* its user namespace too: this process keeps its host uid 0 until the
   * child becomes the namespace's root (spawn.c) */
  if (setns(x->target_pidfd,
            JOINED_NAMESPACES | (x->join.userns ? CLONE_NEWUSER : 0)) < 0) {
    if (errno == ESRCH)
      return not_running(x, err);
    return mk_error_sys(err, errno, "join the namespaces of container %s",
                        x->c->name);
  }
  /* our root is now the container's (CVE-2024-21626: a host directory
   * must never reach the workload); init checks it again where it can
   * (not in a user namespace, where the container's PID 1 is not its to
   * look into) */
  struct stat st;
  if (stat("/", &st) < 0 || st.st_dev != x->root_dev ||
      st.st_ino != x->root_ino)
    return mk_error_set(err, EPERM, "not inside the root of container %s",
                        x->c->name);
  return 0;
}

/* null_stdio: init and the command get the host's /dev/null, opened
 * before the join; ours are put back once the child has its copies. */
static int spawn_child(const struct mk_exec *x, const struct mk_exec_spec *s,
                       struct mk_spawned *child, mk_error_t *err)
{
  int saved[3], ret;

  if (!s->null_stdio)
    return mk_spawn_exec_init(x->init_fd, &x->join, s->outlive, child, err);
  for (int fd = 0; fd < 3; fd++) {
    saved[fd] = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    dup2(x->devnull, fd);
  }
  ret = mk_spawn_exec_init(x->init_fd, &x->join, s->outlive, child, err);
  for (int fd = 0; fd < 3; fd++) {
    if (saved[fd] >= 0)
      dup2(saved[fd], fd);
    else
      close(fd);
    mk_close(saved[fd]);
  }
  return ret;
}

static const char *or_container(const struct mk_exec *x, const char *given,
                                const char *key)
{
  const char *v = mk_container_config_string(x->c, "Config", key);

  return given ? given : (v ? v : "");
}

static int send_config(const struct mk_exec *x, const struct mk_exec_spec *s,
                       int sock, mk_error_t *err)
{
  static uint8_t buf[MK_MSG_MAX];
  struct mk_config cfg = {
      .flags = MK_CFG_EXEC | s->flags | (x->sec.flags & MK_CFG_NO_NEW_PRIVS) |
               (x->join.userns ? MK_CFG_USERNS : 0),
      .rows = s->rows,
      .cols = s->cols,
      .rootfs = "/", /* already the container's: init builds nothing */
      .hostname = "",
      .workdir = or_container(x, s->workdir, "WorkingDir"),
      .user = or_container(x, s->user, "User"),
      .argc = s->argc,
      .argv = (const char **)s->argv,
      .envc = s->envc,
      .env = (const char **)s->env,
      .caps = x->sec.caps & s->caps,
      .seccomp = x->sec.seccomp,
      .seccomp_len = x->sec.seccomp_len,
      .nrlimits = s->nrlimits,
      .rlimits = s->rlimits,
      .ngroups = s->ngroups,
      .groups = (uint32_t *)s->groups,
      .umask = s->umask,
      .target_pid = x->ns_pid,
  };
  size_t len;

  if (s->has_cap_sets) {
    cfg.flags |= MK_CFG_CAP_SETS;
    for (int i = 0; i < MK_NCAPSETS; i++)
      cfg.cap_sets[i] = s->cap_sets[i] & cfg.caps;
  } else if (x->sec.flags & MK_CFG_CAP_SETS) {
    cfg.flags |= MK_CFG_CAP_SETS;
    memcpy(cfg.cap_sets, x->sec.cap_sets, sizeof(cfg.cap_sets));
  }
  if (mk_config_encode(&cfg, buf, sizeof(buf), &len, err) < 0)
    return -1;
  return mk_msg_send(sock, MK_MSG_CONFIG, buf, len, -1, err);
}

int mk_exec_spawn(struct mk_exec *x, const struct mk_exec_spec *s,
                  struct mk_spawned *child, mk_error_t *err)
{
  if (join_container(x, err) < 0 || spawn_child(x, s, child, err) < 0)
    return -1;
  if (send_config(x, s, child->sock, err) < 0) {
    /* init waits for its config; it must not outlive this failure */
    syscall(SYS_pidfd_send_signal, child->pidfd, SIGKILL, NULL, 0);
    return -1;
  }
  return 0;
}

void mk_exec_release(struct mk_exec *x)
{
  mk_close(x->target_pidfd);
  mk_close(x->join.cgroupns_fd);
  mk_close(x->init_fd);
  mk_close(x->devnull);
  mk_security_free(&x->sec);
  for (size_t i = 0; i < x->join.nfds; i++)
    mk_close(x->join.procs_fds[i]);
  mk_close(x->join.cgroup_dirfd);
  mk_exec_init(x);
}
