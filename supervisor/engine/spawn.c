#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <linux/capability.h>
#include <grp.h>
#include <linux/keyctl.h>
#include <sys/sendfile.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mk_proto.h"
#include "mk_trace.h"
#include "mk_util.h"

/* CLONE_NEWCGROUP is not among them: the child unshares it once it is in
 * the container's cgroup, so that cgroup is the root of its view. */
#define NAMESPACE_FLAGS                                                        \
  (CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC)
#define HIGH_FD 10 /* above the fd numbers the child rearranges */

static int try_open(const char *path, char out[PATH_MAX])
{
  int fd = open(path, O_RDONLY | O_CLOEXEC);

  if (fd >= 0)
    mk_snprintf(out, PATH_MAX, "%s", path);
  return fd;
}

int mk_open_init_binary(char path_out[PATH_MAX], mk_error_t *err)
{
  char self[PATH_MAX], cand[PATH_MAX + 64];
  ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  const char *env = getenv("MOCKER_INIT");
  int fd = -1;

  if (n > 0) {
    self[n] = '\0';
    const char *dir = dirname(self);
    mk_snprintf(cand, sizeof(cand), "%s/mocker-init", dir);
    if ((fd = try_open(cand, path_out)) >= 0)
      return fd;
    mk_snprintf(cand, sizeof(cand), "%s/mocker-init", MK_LIBEXECDIR);
    if ((fd = try_open(cand, path_out)) >= 0)
      return fd;
    mk_snprintf(cand, sizeof(cand), "%s/../libexec/mocker/mocker-init", dir);
    if ((fd = try_open(cand, path_out)) >= 0)
      return fd;
  }
  if (env && (fd = try_open(env, path_out)) >= 0)
    return fd;
  return mk_error_set(err, ENOENT,
                      "cannot find mocker-init beside mocker, in %s, or "
                      "through $MOCKER_INIT",
                      MK_LIBEXECDIR);
}

__attribute__((noreturn)) static void child_fail(int sock,
                                                 const mk_error_t *err)
{
  mk_msg_send_error(sock, MK_FAIL_SETUP, err);
  _exit(125);
}

/* In the child, a copy of this single-threaded process: plain syscalls
 * and our own code until the exec. The mount tree goes private first:
 * mounts made in a new namespace under a shared mount would otherwise
 * propagate back to the host. */
struct child_args {
  int init_fd, sock, new_ns, netns_fd, detached;
  int gate;       /* a new user namespace: read end of the go-ahead, else -1 */
  int gate_peer;  /* its write end, ours to close: EOF if the caller dies */
  int execd_peer; /* read end of the exec pipe, ours to close */
  const struct mk_ns_plan *plan; /* NULL: every namespace new */
  const struct mk_cgroup *cg;
  const struct mk_exec_join *join;
  const struct mk_spawn_hooks *hooks; /* may be NULL */
};

int mk_ns_flag(enum mk_ns_kind kind)
{
  static const int flags[MK_NS_KINDS] = {
      [MK_NS_PID] = CLONE_NEWPID, [MK_NS_MNT] = CLONE_NEWNS,
      [MK_NS_UTS] = CLONE_NEWUTS, [MK_NS_IPC] = CLONE_NEWIPC,
      [MK_NS_NET] = CLONE_NEWNET, [MK_NS_CGROUP] = CLONE_NEWCGROUP};

  return flags[kind];
}

/* v1 has no CLONE_INTO_CGROUP: the child moves itself in (unless the
 * caller moved it: a child in a user namespace of its own), before
 * anything of the container runs; then its cgroup namespace: a new one
 * rooted there, unless the plan joins one or keeps the caller's. The
 * child writes "0" into "tasks": moving itself, the kernel skips the
 * global threadgroup lock whose RCU grace period a write of another
 * process's pid waits for (8-20 ms on a quiet machine). */
static int enter_cgroup(const struct mk_cgroup *cg,
                        const struct mk_ns_plan *plan, int moved,
                        mk_error_t *err)
{
  if (!moved && cg && cg->mode == MK_CGROUP_V1 && mk_cgroup_enter(cg, err) < 0)
    return -1;
  if (plan && plan->join[MK_NS_CGROUP] >= 0) {
    if (setns(plan->join[MK_NS_CGROUP], CLONE_NEWCGROUP) < 0)
      return mk_error_sys(err, errno, "join the cgroup namespace");
    return 0;
  }
  if (plan && !plan->fresh[MK_NS_CGROUP])
    return 0;
  if (unshare(CLONE_NEWCGROUP) < 0)
    return mk_error_sys(err, errno, "unshare the cgroup namespace");
  return 0;
}

/* The plan's mount, uts and ipc namespaces to join, before the rootfs
 * is mounted. */
static int join_planned(const struct mk_ns_plan *plan, mk_error_t *err)
{
  static const enum mk_ns_kind kinds[] = {MK_NS_MNT, MK_NS_UTS, MK_NS_IPC};

  for (size_t i = 0; plan && i < MK_ARRAY_SIZE(kinds); i++) {
    int fd = plan->join[kinds[i]];
    if (fd >= 0 && setns(fd, mk_ns_flag(kinds[i])) < 0)
      return mk_error_sys(err, errno, "join the %s namespace",
                          kinds[i] == MK_NS_MNT   ? "mount"
                          : kinds[i] == MK_NS_UTS ? "uts"
                                                  : "ipc");
  }
  return 0;
}

static int join_exec_cgroup(const struct mk_exec_join *j, mk_error_t *err)
{
  for (size_t i = 0; i < j->nfds; i++)
    if (write(j->procs_fds[i], "0", 1) < 0)
      return mk_error_sys(err, errno, "join the container's cgroup");
  if (setns(j->cgroupns_fd, CLONE_NEWCGROUP) < 0)
    return mk_error_sys(err, errno, "join the container's cgroup namespace");
  return 0;
}

/* A new user namespace: wait until the caller has written its maps (and
 * mounted the rootfs); EOF means it gave up. */
static int await_gate(int gate, mk_error_t *err)
{
  char go;
  ssize_t n;

  do
    n = read(gate, &go, 1);
  while (n < 0 && errno == EINTR);
  if (n != 1)
    return mk_error_set(err, EPROTO, "the user namespace was not set up");
  return 0;
}

/* Until now this process kept the caller's host uid 0, which owns every
 * host file: it becomes the namespace's root, a mapped id, at once. The
 * capabilities stay (they are the namespace's); a change of credentials
 * clears the parent-death signal, so it is set after. */
static int become_root(mk_error_t *err)
{
  if (setresgid(0, 0, 0) < 0 || setgroups(0, NULL) < 0 ||
      setresuid(0, 0, 0) < 0)
    return mk_error_sys(err, errno,
                        "become root of the container's user namespace "
                        "(the mapping must include id 0)");
  return 0;
}

static int mount_in_child(const struct child_args *a, mk_error_t *err)
{
  const struct mk_spawn_hooks *h = a->hooks;

  if (!h || (h->mount && a->gate < 0 && h->mount(h->data, -1, err) < 0))
    return h ? -1 : 0;
  return h->prepare ? h->prepare(h->data, err) : 0;
}

/* Host uid 0 is not root in the new namespace, so exec would clear our
 * capabilities (its): they ride over it as ambient ones, which init
 * clears once it is the namespace's root (MK_CFG_USERNS). Capabilities
 * are numbered from 0 without gaps: the first EINVAL is past the last. */
static int keep_caps_over_exec(mk_error_t *err)
{
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  int cap = 0;

  if (syscall(SYS_capget, &hdr, data) < 0)
    return mk_error_sys(err, errno, "capget");
  data[0].inheritable = data[0].permitted;
  data[1].inheritable = data[1].permitted;
  if (syscall(SYS_capset, &hdr, data) < 0)
    return mk_error_sys(err, errno, "capset");
  while (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) == 0)
    cap++;
  if (errno != EINVAL || cap == 0)
    return mk_error_sys(err, errno, "raise ambient capability %d", cap);
  return 0;
}

/* A new user namespace: init becomes its root itself, once it has opened
 * the host paths it needs (MK_CFG_USERNS). */
static int child_setup(const struct child_args *a, mk_error_t *err)
{
  if (!a->detached)
    prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (a->gate_peer >= 0)
    close(a->gate_peer);
  if (a->execd_peer >= 0)
    close(a->execd_peer);
  if (a->gate >= 0 &&
      (await_gate(a->gate, err) < 0 || keep_caps_over_exec(err) < 0))
    return -1;
  if (join_planned(a->plan, err) < 0)
    return -1;
  if (a->new_ns && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    return mk_error_sys(err, errno, "make / private");
  if (a->new_ns && enter_cgroup(a->cg, a->plan, a->gate >= 0, err) < 0)
    return -1;
  MK_TRACE("child in its cgroup");
  /* a session keyring of its own, as runc: the caller's keys (a login
   * session's, or containerd's) must not be the container's to read */
  if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL) < 0 &&
      errno != ENOSYS)
    return mk_error_sys(err, errno, "join a new session keyring");
  if (a->netns_fd >= 0 && setns(a->netns_fd, CLONE_NEWNET) < 0)
    return mk_error_sys(err, errno, "join the network namespace");
  if (a->join && join_exec_cgroup(a->join, err) < 0)
    return -1;
  if (a->join && a->join->userns && become_root(err) < 0)
    return -1;
  if (a->join && a->join->userns && !a->detached)
    prctl(PR_SET_PDEATHSIG, SIGKILL);
  return mount_in_child(a, err);
}

__attribute__((noreturn)) static void
child_exec_init(const struct child_args *a)
{
  int init_fd = a->init_fd, sock = a->sock;
  static char *const argv[] = {"mocker-init", NULL};
  static char *const quiet[] = {NULL};
  static char *const traced[] = {"MOCKER_TRACE=1", NULL};
  char *const *envp = mk_trace_on ? traced : quiet;
  mk_error_t err = {0};

  MK_TRACE("child born");
  if (child_setup(a, &err) < 0)
    child_fail(sock, &err);
  if (dup2(sock, MK_INIT_SOCK_FD) < 0) {
    mk_error_sys(&err, errno, "dup sync socket");
    child_fail(sock, &err);
  }
  MK_TRACE("child mounted, exec mocker-init");
  syscall(SYS_execveat, init_fd, "", argv, envp, AT_EMPTY_PATH);
  mk_error_sys(&err, errno, "exec mocker-init");
  mk_msg_send_error(MK_INIT_SOCK_FD, MK_FAIL_SETUP, &err);
  _exit(125);
}

/* One clone3: what it creates or joins, and for whom. */
struct spawn_req {
  int init_fd, netns_fd, detached;
  uint64_t ns_flags;
  const struct mk_cgroup *cg;
  const struct mk_exec_join *join;
  const struct mk_ns_plan *plan;
  const struct mk_spawn_hooks *hooks;
};

static int has_userns(const struct mk_spawn_hooks *h)
{
  return h && h->userns && (h->userns->nuid || h->userns->ngid);
}

static int clone_child(const struct spawn_req *r, int cgroup_fd,
                       const struct child_args *a, struct mk_spawned *sp)
{
  struct clone_args args = {0};

  args.flags = r->ns_flags | CLONE_PIDFD;
  /* with a user namespace the child waits for us, so no vfork */
  if (a->gate >= 0)
    args.flags |= CLONE_NEWUSER;
  else
    args.flags |= CLONE_VFORK;
  args.pidfd = (uint64_t)(uintptr_t)&sp->pidfd;
  args.exit_signal = SIGCHLD;
  if (r->join && r->join->cgroup_dirfd >= 0) { /* exec on v2 */
    args.flags |= CLONE_INTO_CGROUP;
    args.cgroup = (uint64_t)r->join->cgroup_dirfd;
  } else if (cgroup_fd >= 0) { /* v2: born inside, never a moment outside */
    args.flags |= CLONE_INTO_CGROUP;
    args.cgroup = (uint64_t)cgroup_fd;
  }
  MK_TRACE("clone3");
  long pid = syscall(SYS_clone3, &args, sizeof(args));
  if (pid == 0)
    child_exec_init(a);
  return (int)pid;
}

/* A child that failed before its go-ahead said why on the socket: that,
 * rather than the ESRCH it left us. */
static void child_reason(int sock, mk_error_t *err)
{
  static uint8_t buf[MK_MSG_MAX];
  struct pollfd p = {.fd = sock, .events = POLLIN};
  uint32_t type, kind;
  mk_error_t ignored, said;
  int fd = -1;

  if (poll(&p, 1, 0) != 1 || !(p.revents & POLLIN))
    return;
  int n = mk_msg_recv(sock, &type, buf, sizeof(buf), &fd, &ignored);
  mk_close(fd);
  if (n >= 0 && type == MK_MSG_ERROR &&
      mk_msg_decode_error(buf, (size_t)n, &kind, &said, &ignored) == 0)
    *err = said;
}

/* The child is in its user namespace, waiting: its maps, its v1
 * cgroups, its rootfs, then the go-ahead. On failure it is killed. */
static int release_child(const struct spawn_req *r, struct mk_spawned *sp,
                         int gate, mk_error_t *err)
{
  siginfo_t info;
  int rc = mk_userns_setup_child(sp->pid, sp->pidfd, r->cg, r->hooks, err);

  if (rc == 0 && write(gate, "1", 1) == 1)
    return 0;
  if (!err->msg[0])
    mk_error_sys(err, errno, "release the container's init");
  syscall(SYS_pidfd_send_signal, sp->pidfd, SIGKILL, NULL, 0);
  syscall(SYS_waitid, P_PIDFD, sp->pidfd, &info, WEXITED, NULL);
  child_reason(sp->sock, err);
  mk_close(sp->pidfd);
  sp->pidfd = -1;
  return -1;
}

static void close_pair(int a, int b, int c)
{
  mk_close(a), mk_close(b), mk_close(c);
}

static void close_gates(const int gate[2], const int execd[2])
{
  close_pair(gate[0], gate[1], execd[0]);
  mk_close(execd[1]);
}

/* A child in a user namespace is no vfork: until it has exec'd
 * mocker-init (or died), the exec pipe's write end is the child's,
 * close-on-exec. Then, as after a vfork, its namespaces are joined and /
 * is private before our caller goes on (prestart and createRuntime hooks
 * look at them). */
static void await_exec(int execd)
{
  char byte;

  while (read(execd, &byte, 1) < 0 && errno == EINTR)
    ;
}

static int spawn(const struct spawn_req *r, struct mk_spawned *sp,
                 mk_error_t *err)
{
  int pair[2], child_sock, high_init, gate[2] = {-1, -1}, execd[2] = {-1, -1};
  _cleanup_close_ int cgroup_fd = r->cg ? mk_cgroup_open_fd(r->cg) : -1;

  if (r->cg && r->cg->mode == MK_CGROUP_V2 && cgroup_fd < 0)
    return mk_error_sys(err, errno, "open cgroup `%s`", r->cg->dirs[0]);
  if (has_userns(r->hooks) && pipe2(gate, O_CLOEXEC) < 0)
    return mk_error_sys(err, errno, "pipe");
  if (has_userns(r->hooks) && pipe2(execd, O_CLOEXEC) < 0) {
    close_pair(gate[0], gate[1], -1);
    return mk_error_sys(err, errno, "pipe");
  }
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0) {
    close_gates(gate, execd);
    return mk_error_sys(err, errno, "socketpair");
  }
  /* Keep both fds clear of fd 3, which the child overwrites. */
  child_sock = fcntl(pair[1], F_DUPFD_CLOEXEC, HIGH_FD);
  high_init = fcntl(r->init_fd, F_DUPFD_CLOEXEC, HIGH_FD);
  mk_close(pair[1]);
  if (child_sock < 0 || high_init < 0) {
    close_pair(pair[0], child_sock, high_init);
    close_gates(gate, execd);
    return mk_error_sys(err, errno, "dup fds for the child");
  }
  struct child_args a = {.init_fd = high_init,
                         .sock = child_sock,
                         .new_ns = r->join == NULL, /* not an exec */
                         .netns_fd = r->netns_fd,
                         .detached = r->detached,
                         .gate = gate[0],
                         .gate_peer = gate[1],
                         .execd_peer = execd[0],
                         .plan = r->plan,
                         .cg = r->cg,
                         .join = r->join,
                         .hooks = r->hooks};
  /* The child waits in a user namespace this process owns: any root
   * process of the host's would hold every capability over it, ptrace
   * included. Non-dumpable, with our mm's user namespace the host's,
   * only CAP_SYS_PTRACE on the host reaches it (review of issue 19,
   * finding 1). The child's mm is a copy: ours is dumpable again after. */
  if (gate[0] >= 0)
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  int pid = clone_child(r, cgroup_fd, &a, sp);
  if (gate[0] >= 0)
    prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
  /* gate[0] stays open with us: a child dead before the go-ahead must
   * not turn our write into a SIGPIPE */
  close_pair(child_sock, high_init, execd[1]);
  execd[1] = -1;
  if (pid < 0) {
    int e = errno;
    mk_close(pair[0]);
    close_gates(gate, execd);
    if (gate[1] >= 0 && (e == EPERM || e == ENOSPC))
      return mk_error_sys(err, e,
                          "clone3: no user namespace can be made here (the "
                          "kernel refuses one to a chrooted caller, and "
                          "user.max_user_namespaces may be 0)");
    return mk_error_sys(err, e, "clone3");
  }
  sp->pid = (pid_t)pid;
  sp->sock = pair[0];
  if (gate[1] >= 0) {
    int rc = release_child(r, sp, gate[1], err);
    if (rc == 0)
      await_exec(execd[0]);
    close_gates(gate, execd);
    if (rc < 0) {
      mk_close(sp->sock);
      sp->sock = -1;
      return -1;
    }
  }
  return 0;
}

int mk_spawn_init(int init_fd, const struct mk_cgroup *cg, int netns,
                  const struct mk_spawn_hooks *hooks, struct mk_spawned *sp,
                  mk_error_t *err)
{
  struct spawn_req r = {
      .init_fd = init_fd,
      .netns_fd = netns >= 0 ? netns : -1,
      .ns_flags = NAMESPACE_FLAGS | (netns == MK_NETNS_NEW ? CLONE_NEWNET : 0),
      .cg = cg,
      .hooks = hooks};

  return spawn(&r, sp, err);
}

int mk_spawn_init_detached(int init_fd, const struct mk_cgroup *cg,
                           const struct mk_ns_plan *plan,
                           const struct mk_spawn_hooks *hooks,
                           struct mk_spawned *sp, mk_error_t *err)
{
  struct spawn_req r = {.init_fd = init_fd,
                        .netns_fd = plan->join[MK_NS_NET],
                        .detached = 1,
                        .cg = cg,
                        .plan = plan,
                        .hooks = hooks};

  for (int k = 0; k < MK_NS_KINDS; k++)
    if (plan->fresh[k] && k != MK_NS_CGROUP) /* unshared in the cgroup */
      r.ns_flags |= (uint64_t)mk_ns_flag(k);
  /* the child's own mount namespace: a new one, or the one it joins */
  if (!(r.ns_flags & CLONE_NEWNS) && plan->join[MK_NS_MNT] < 0)
    return mk_error_set(err, EINVAL, "a container needs a mount namespace");
  if (has_userns(hooks) && !(r.ns_flags & CLONE_NEWNS))
    return mk_error_set(err, EINVAL,
                        "a container with a user namespace of its own needs "
                        "a new mount namespace");
  if (plan->join[MK_NS_PID] >= 0 && setns(plan->join[MK_NS_PID], CLONE_NEWPID) < 0)
    return mk_error_sys(err, errno, "join the pid namespace");
  return spawn(&r, sp, err);
}

int mk_spawn_exec_init(int init_fd, const struct mk_exec_join *join,
                       int outlive, struct mk_spawned *sp, mk_error_t *err)
{
  struct spawn_req r = {
      .init_fd = init_fd, .netns_fd = -1, .detached = outlive, .join = join};

  return spawn(&r, sp, err);
}

/* runc's answer to CVE-2019-5736: what runs in the container is a sealed
 * copy in memory, so /proc/<pid>/exe leads nowhere writable. */
int mk_seal_binary(int fd, const char *name, mk_error_t *err)
{
  _cleanup_close_ int mfd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
  ssize_t n;

  if (mfd < 0)
    return mk_error_sys(err, errno, "memfd_create");
  /* copied in the kernel: no buffer of ours to fault in */
  while ((n = sendfile(mfd, fd, NULL, 1 << 20)) > 0)
    ;
  if (n < 0)
    return mk_error_sys(err, errno, "copy %s", name);
  if (fcntl(mfd, F_ADD_SEALS,
            F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0)
    return mk_error_sys(err, errno, "seal %s", name);
  return steal_fd(&mfd);
}

/* Execute-only (0111): an exec by a process that cannot read it is
 * non-dumpable with the host's user namespace as its mm's, whatever user
 * namespace it runs in. mocker-init starting in a container's new user
 * namespace still holds host uid 0, the namespace's owner: any root
 * process of the host's would otherwise have CAP_SYS_PTRACE over it
 * there (review of issue 19, finding 1). Host root reads it as before. */
int mk_open_init_sealed(mk_error_t *err)
{
  char path[PATH_MAX];
  _cleanup_close_ int fd = mk_open_init_binary(path, err);
  _cleanup_close_ int sealed = fd < 0 ? -1 : mk_seal_binary(fd, "mocker-init", err);

  if (sealed < 0)
    return -1;
  if (fchmod(sealed, 0111) < 0)
    return mk_error_sys(err, errno, "chmod the sealed mocker-init");
  return steal_fd(&sealed);
}
