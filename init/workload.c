#include "workload.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mk_exit.h"
#include "mk_trace.h"
#include "mk_util.h"

#define DEFAULT_PATH                                                           \
  "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

__attribute__((noreturn)) static void fail(const struct mk_workload *w,
                                           const mk_error_t *e)
{
  int32_t errnum = e->err;

  if (w->report_sock >= 0) {
    mk_msg_send_error(w->report_sock, MK_FAIL_EXEC, e);
  } else {
    mk_write_all(w->status_pipe, &errnum, sizeof(errnum));
    mk_write_all(w->status_pipe, e->msg, strlen(e->msg) + 1);
  }
  _exit(mk_exit_code_for_exec_errno(errnum));
}

/* For exec, /dev/null is the container's own node, which its root may
 * have replaced. We are inside the container's cgroup by now, so its
 * device rules hold; the fstat check makes sure stdin is the null device
 * and nothing else (issue 14, finding 1). */
static int stdin_from_devnull(mk_error_t *err)
{
  _cleanup_close_ int null =
      open("/dev/null", O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  struct stat st;

  if (null < 0)
    return mk_error_sys(err, errno, "open /dev/null for stdin");
  if (fstat(null, &st) < 0 || !S_ISCHR(st.st_mode) ||
      st.st_rdev != makedev(1, 3))
    return mk_error_set(err, EINVAL,
                        "/dev/null in the container is not the null device");
  /* O_NONBLOCK was only so that a fifo there could not hang us */
  if (fcntl(null, F_SETFL, 0) < 0 || dup2(null, 0) < 0)
    return mk_error_sys(err, errno, "open /dev/null for stdin");
  return 0;
}

static int setup_stdio(const struct mk_workload *w, mk_error_t *err)
{
  /* in place, init already leads a session of its own */
  if (getsid(0) != getpid() && setsid() < 0)
    return mk_error_sys(err, errno, "setsid");
  if (w->pty_slave >= 0) {
    if (ioctl(w->pty_slave, TIOCSCTTY, 0) < 0)
      return mk_error_sys(err, errno, "take the terminal");
    for (int fd = 0; fd < 3; fd++)
      if (dup2(w->pty_slave, fd) < 0)
        return mk_error_sys(err, errno, "dup the terminal");
    return 0;
  }
  if (!(w->cfg->flags & MK_CFG_STDIN))
    return stdin_from_devnull(err);
  return 0;
}

static int switch_user(const struct mk_user *u, mk_error_t *err);

/* Everything not kept leaves the bounding set, so not even a setuid
 * binary can get it back. Needs CAP_SETPCAP: done while still root. */
static int drop_bounding_set(uint64_t keep, mk_error_t *err)
{
  for (int cap = 0; cap < 64; cap++) {
    if (keep & (1ULL << cap))
      continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
      if (errno == EINVAL) /* past the kernel's last capability */
        return 0;
      return mk_error_sys(err, errno, "drop capability %d", cap);
    }
  }
  return 0;
}

/* An OCI process's own sets (MK_CFG_CAP_SETS), after the switch to its
 * user: permitted survived it (PR_SET_KEEPCAPS), and each set is cut to
 * what we hold. The kernel's rules at exec then decide: root gets its
 * bounding set, another user keeps its ambient set. */
static int set_capability_sets(const uint64_t sets[MK_NCAPSETS],
                               mk_error_t *err)
{
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  uint64_t have;

  if (syscall(SYS_capget, &hdr, data) < 0)
    return mk_error_sys(err, errno, "read capabilities");
  have = (uint64_t)data[0].permitted | (uint64_t)data[1].permitted << 32;
  memset(data, 0, sizeof(data));
  for (int i = 0; i < 2; i++) {
    data[i].effective = (uint32_t)((sets[MK_CAPSET_EFFECTIVE] & have) >> (32 * i));
    data[i].permitted = (uint32_t)((sets[MK_CAPSET_PERMITTED] & have) >> (32 * i));
    data[i].inheritable =
        (uint32_t)((sets[MK_CAPSET_INHERITABLE] & have) >> (32 * i));
  }
  if (syscall(SYS_capset, &hdr, data) < 0)
    return mk_error_sys(err, errno, "set capabilities");
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 &&
      errno != EINVAL)
    return mk_error_sys(err, errno, "clear ambient capabilities");
  for (int cap = 0; cap < 64; cap++)
    if ((sets[MK_CAPSET_AMBIENT] & have & (1ULL << cap)) &&
        prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
      return mk_error_sys(err, errno, "raise ambient capability %d", cap);
  return 0;
}

/* Permitted and effective become what is kept (for root; a non-root
 * user lost them at setuid), inheritable and ambient become empty
 * (CVE-2022-29162); never more than we hold: a host root without some
 * capability (say SYS_RESOURCE) cannot give it to --privileged. */
static int set_capabilities(uint64_t keep, int is_root, mk_error_t *err)
{
  uint64_t sets[MK_NCAPSETS] = {0};

  if (is_root)
    sets[MK_CAPSET_EFFECTIVE] = sets[MK_CAPSET_PERMITTED] = keep;
  return set_capability_sets(sets, err);
}

static int install_seccomp(const struct mk_config *cfg, mk_error_t *err)
{
  static struct sock_filter insns[MK_MAX_SECCOMP_BYTES / 8];
  struct sock_fprog prog = {.len = (unsigned short)(cfg->seccomp_len / 8),
                            .filter = insns};

  memcpy(insns, cfg->seccomp, cfg->seccomp_len); /* aligned copy */
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
    return mk_error_sys(err, errno, "install the seccomp filter");
  return 0;
}

/* Capabilities, no_new_privs and seccomp, in the order the kernel needs:
 * the bounding set while we are root; seccomp before setuid when
 * no_new_privs is off (installing then needs CAP_SYS_ADMIN), else as the
 * very last step before exec. */
static int drop_privileges(const struct mk_workload *w, mk_error_t *err)
{
  const struct mk_config *cfg = w->cfg;
  int nnp = (cfg->flags & MK_CFG_NO_NEW_PRIVS) != 0;

  if (drop_bounding_set(cfg->caps, err) < 0)
    return -1;
  if (cfg->seccomp && !nnp && install_seccomp(cfg, err) < 0)
    return -1;
  if (!(cfg->flags & MK_CFG_CAP_SETS))
    return switch_user(w->user, err) < 0 ||
                   set_capabilities(cfg->caps, w->user->uid == 0, err) < 0
               ? -1
               : 0;
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
    return mk_error_sys(err, errno, "keep capabilities across setuid");
  if (switch_user(w->user, err) < 0 ||
      set_capability_sets(cfg->cap_sets, err) < 0)
    return -1;
  return 0;
}

static int lock_down(const struct mk_config *cfg, mk_error_t *err)
{
  if (!(cfg->flags & MK_CFG_NO_NEW_PRIVS))
    return 0;
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return mk_error_sys(err, errno, "set no_new_privs");
  return cfg->seccomp ? install_seccomp(cfg, err) : 0;
}

static int switch_user(const struct mk_user *u, mk_error_t *err)
{
  if (setgroups(u->ngroups, u->groups) < 0)
    return mk_error_sys(err, errno, "setgroups");
  if (setgid(u->gid) < 0)
    return mk_error_sys(err, errno, "setgid %u", (unsigned)u->gid);
  if (setuid(u->uid) < 0)
    return mk_error_sys(err, errno, "setuid %u", (unsigned)u->uid);
  return 0;
}

static const char *env_value(const char *const *env, const char *name)
{
  size_t n = strlen(name);

  for (; *env; env++)
    if (strncmp(*env, name, n) == 0 && (*env)[n] == '=')
      return *env + n + 1;
  return NULL;
}

/* execvp's search, but over the container's PATH, not init's. */
static int exec_in_path(const char *file, char *const argv[],
                        char *const envp[])
{
  const char *path = env_value((const char *const *)envp, "PATH");
  char buf[PATH_MAX];
  int saw_eacces = 0;

  if (strchr(file, '/')) {
    execve(file, argv, envp);
    return -1;
  }
  for (const char *p = path ? path : DEFAULT_PATH; p;) {
    const char *colon = strchr(p, ':');
    size_t n = colon ? (size_t)(colon - p) : strlen(p);
    if (snprintf(buf, sizeof(buf), "%.*s%s%s", (int)n, p, n ? "/" : "", file) <
        (int)sizeof(buf)) {
      execve(buf, argv, envp);
      if (errno == EACCES)
        saw_eacces = 1;
      else if (errno != ENOENT && errno != ENOTDIR)
        return -1;
    }
    p = colon ? colon + 1 : NULL;
  }
  errno = saw_eacces ? EACCES : ENOENT;
  return -1;
}

static void describe_exec_failure(const char *file, int e, mk_error_t *err)
{
  if (e == ENOENT && !strchr(file, '/'))
    mk_error_set(err, e, "exec \"%s\": executable file not found in $PATH",
                 file);
  else
    mk_error_sys(err, e, "exec \"%s\"", file);
}

/* While we still may: raising a hard limit needs CAP_SYS_RESOURCE. */
static int set_rlimits(const struct mk_config *cfg, mk_error_t *err)
{
  for (size_t i = 0; i < cfg->nrlimits; i++) {
    const struct mk_rlimit *r = &cfg->rlimits[i];
    struct rlimit l = {(rlim_t)r->soft, (rlim_t)r->hard};
    if (setrlimit((int)r->resource, &l) < 0)
      return mk_error_sys(err, errno, "setrlimit %u to %llu:%llu", r->resource,
                          (unsigned long long)r->soft,
                          (unsigned long long)r->hard);
  }
  return 0;
}

void mk_workload_exec(const struct mk_workload *w)
{
  const struct mk_config *cfg = w->cfg;
  mk_error_t err = {0};
  sigset_t none;

  if (cfg->flags & MK_CFG_UMASK)
    umask((mode_t)cfg->umask);
  if (setup_stdio(w, &err) < 0 || set_rlimits(cfg, &err) < 0 ||
      drop_privileges(w, &err) < 0)
    fail(w, &err);
  if (*cfg->workdir && chdir(cfg->workdir) < 0) {
    mk_error_sys(&err, errno, "chdir to working directory `%s`", cfg->workdir);
    fail(w, &err);
  }
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  /* Nothing but 0, 1 and 2 may cross the exec (CVE-2024-21626); the
   * status pipe closes itself when the exec succeeds. */
  syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
  if (lock_down(cfg, &err) < 0)
    fail(w, &err);
  MK_TRACE("workload locked down, exec");
  exec_in_path(cfg->argv[0], (char *const *)cfg->argv, (char *const *)cfg->env);
  describe_exec_failure(cfg->argv[0], errno, &err);
  fail(w, &err);
}

int mk_workload_confine_waiter(const struct mk_config *cfg, mk_error_t *err)
{
  if (drop_bounding_set(cfg->caps, err) < 0)
    return -1;
  return set_capabilities(cfg->caps, 1, err);
}

int mk_workload_wait_exec(int status_pipe_read, mk_error_t *err)
{
  char buf[sizeof(int32_t) + MK_ERROR_MSG_MAX];
  ssize_t n = mk_read_all(status_pipe_read, buf, sizeof(buf) - 1);
  int32_t errnum;

  if (n <= 0)
    return 0;
  if ((size_t)n <= sizeof(errnum))
    return mk_error_set(err, EIO, "workload failed before exec");
  memcpy(&errnum, buf, sizeof(errnum));
  buf[n] = '\0';
  return mk_error_set(err, errnum, "%s", buf + sizeof(errnum));
}

/* An OCI startContainer hook's child becomes what the workload will be,
 * in mk_workload_exec's order, short of the stdio and the exec (runc
 * runs these hooks once its init has dropped to the process's identity:
 * the program comes from the container's filesystem). */
int mk_workload_become(const struct mk_workload *w, mk_error_t *err)
{
  const struct mk_config *cfg = w->cfg;

  if (cfg->flags & MK_CFG_UMASK)
    umask((mode_t)cfg->umask);
  if (set_rlimits(cfg, err) < 0 || drop_privileges(w, err) < 0)
    return -1;
  if (*cfg->workdir && chdir(cfg->workdir) < 0)
    return mk_error_sys(err, errno, "chdir to working directory `%s`",
                        cfg->workdir);
  return lock_down(cfg, err);
}
