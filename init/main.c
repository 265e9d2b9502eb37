/* mocker-init: PID 1 inside the container.
 *
 * Receives the config from the supervisor, builds the container's
 * filesystem, starts the workload, then reaps zombies and forwards signals
 * until the workload exits, and exits with its status. It may bail out
 * only before the workload starts; after that it logs nothing and carries
 * on, because if PID 1 dies the container dies.
 *
 * With MK_CFG_EXEC (mocker exec) it joins a running container instead:
 * the supervisor entered the container's namespaces before starting us,
 * so there is no filesystem to build. We are not PID 1 then: orphans go
 * to the container's init, and we wait for our workload only. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hooks.h"
#include "mk_exit.h"
#include "mk_proto.h"
#include "mk_trace.h"
#include "mk_util.h"
#include "passwd.h"
#include "rootfs.h"
#include "workload.h"

#define ETC_FILE_MAX (256 * 1024)

/* Static so that nothing is allocated once the workload runs. */
static uint8_t config_buf[MK_MSG_MAX];
static struct mk_config_storage config_storage;
static char passwd_text[ETC_FILE_MAX], group_text[ETC_FILE_MAX];
static char home_env[PATH_MAX + 8];
static struct mk_user user;

struct init_ctx {
  int sock;
  int sigfd;
  struct mk_config cfg;
  int pty_master, pty_slave;
  int hold_fd;  /* MK_CFG_HOLD: O_PATH fd of the start fifo, else -1 */
  int reply_fd; /* MK_CFG_HOLD: the fifo `start` reads, else -1 */
  int held;     /* released by `start`: c->sock is reply_fd now */
  pid_t workload;
};

__attribute__((noreturn)) static void
bail(struct init_ctx *c, enum mk_fail_kind kind, const mk_error_t *e)
{
  /* after an OCI create nobody listens on the socket: the error goes to
   * the container's stderr, where its caller's log keeps it */
  if (c->sock < 0 || c->held)
    dprintf(STDERR_FILENO, "mocker-init: %s\n", e->msg);
  mk_msg_send_error(c->sock, kind, e);
  _exit(kind == MK_FAIL_EXEC ? mk_exit_code_for_exec_errno(e->err)
                             : MK_EXIT_MOCKER_FAILED);
}

static int receive_config(struct init_ctx *c, mk_error_t *err)
{
  uint32_t type;
  int fds[2];
  size_t nfds;
  int n = mk_msg_recv_fds(c->sock, &type, config_buf, sizeof(config_buf), fds,
                          2, &nfds, err);

  if (n < 0)
    return -1;
  if (type == 0)
    _exit(MK_EXIT_MOCKER_FAILED); /* supervisor gone before we started */
  if (type != MK_MSG_CONFIG)
    n = mk_error_set(err, EPROTO, "expected config, got message %u", type);
  else if (mk_config_decode(config_buf, (size_t)n, &c->cfg, &config_storage,
                            err) < 0)
    n = -1;
  else if ((c->cfg.flags & MK_CFG_HOLD) && nfds != 2)
    n = mk_error_set(err, EPROTO, "hold without its two fifos");
  else if (c->cfg.flags & MK_CFG_HOLD) {
    c->hold_fd = fds[0];
    c->reply_fd = fds[1];
    return 0;
  }
  mk_close(fds[0]);
  mk_close(fds[1]);
  return n < 0 ? -1 : 0;
}

/* Whether sig, sent to a container that was created but not started,
 * ends it (as it ends runc's waiting init): all but the harmless ones. */
static int ends_held_container(int sig)
{
  return sig != SIGCHLD && sig != SIGWINCH && sig != SIGCONT && sig != SIGURG &&
         sig != SIGTTIN && sig != SIGTTOU;
}

/* Until start writes its byte into the fifo, or a signal ends us. */
static void wait_for_start(struct init_ctx *c, int fifo)
{
  struct pollfd fds[2] = {{.fd = fifo, .events = POLLIN},
                          {.fd = c->sigfd, .events = POLLIN}};
  struct signalfd_siginfo si;
  char byte;

  for (;;) {
    if (poll(fds, 2, -1) < 0)
      continue;
    if ((fds[0].revents & POLLIN) && read(fifo, &byte, 1) == 1)
      return;
    if ((fds[1].revents & POLLIN) &&
        read(c->sigfd, &si, sizeof(si)) == sizeof(si) &&
        ends_held_container((int)si.ssi_signo))
      _exit(128 + (int)si.ssi_signo);
  }
}

/* OCI create: the container is built; say so, hand over the pty, and let
 * the supervisor go. Then wait for `start`, which writes a byte into the
 * fifo create opened for us read-write (so no hangup is ever seen, and
 * no path is needed after pivot_root). A signal meanwhile ends the
 * container, as runc's. */
static void hold_until_started(struct init_ctx *c)
{
  mk_error_t err = {0};

  if (c->pty_master >= 0 &&
      mk_msg_send(c->sock, MK_MSG_PTY_MASTER, NULL, 0, c->pty_master, &err) < 0)
    bail(c, MK_FAIL_SETUP, &err);
  mk_close(c->pty_master);
  c->pty_master = -1;
  if (mk_msg_send(c->sock, MK_MSG_CREATED, NULL, 0, -1, &err) < 0)
    bail(c, MK_FAIL_SETUP, &err);
  mk_close(c->sock);
  c->sock = -1;
  wait_for_start(c, c->hold_fd);
  mk_close(c->hold_fd);
  c->hold_fd = -1;
  /* from here on, what went to create goes to start: the hooks' and the
   * workload's failure, or MK_MSG_STARTED */
  c->sock = c->reply_fd;
  c->reply_fd = -1;
  c->held = 1;
}

/* OCI startContainer hooks, after start and before the workload. */
static void run_start_hooks(struct init_ctx *c)
{
  mk_error_t err = {0};

  if (mk_hooks_start_container(&c->cfg, &user, &err) < 0)
    bail(c, MK_FAIL_SETUP, &err);
}

/* Reads a small regular file of the container; a missing file is empty.
 * O_NONBLOCK + S_ISREG: an image's fifo or device cannot hang init. */
static int read_etc_file(const char *path, char *buf, size_t cap,
                         mk_error_t *err)
{
  _cleanup_close_ int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  struct stat st;
  ssize_t n;

  buf[0] = '\0';
  if (fd < 0)
    return errno == ENOENT ? 0 : mk_error_sys(err, errno, "open %s", path);
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
    return mk_error_set(err, EINVAL, "%s is not a regular file", path);
  n = mk_read_all(fd, buf, cap - 1);
  if (n < 0)
    return mk_error_sys(err, errno, "read %s", path);
  buf[n] = '\0';
  return 0;
}

static int resolve_container_user(struct init_ctx *c, mk_error_t *err)
{
  struct mk_config *cfg = &c->cfg;
  int has_home = 0;

  if (read_etc_file("/etc/passwd", passwd_text, sizeof(passwd_text), err) < 0 ||
      read_etc_file("/etc/group", group_text, sizeof(group_text), err) < 0)
    return -1;
  if (mk_resolve_user(cfg->user, passwd_text, group_text, &user, err) < 0)
    return -1;
  if (cfg->flags & MK_CFG_EXACT_GROUPS)
    user.ngroups = 0;
  for (size_t i = 0; i < cfg->ngroups && user.ngroups < MK_MAX_GROUPS; i++)
    user.groups[user.ngroups++] = (gid_t)cfg->groups[i];
  for (size_t i = 0; i < cfg->envc; i++)
    has_home |= strncmp(cfg->env[i], "HOME=", 5) == 0;
  if (!has_home && cfg->envc < MK_MAX_ENV) {
    snprintf(home_env, sizeof(home_env), "HOME=%s", user.home);
    config_storage.env[cfg->envc++] = home_env;
    config_storage.env[cfg->envc] = NULL;
  }
  return 0;
}

/* The pty comes from the container's own devpts, so the workload's
 * terminal is a container device; the master goes to the supervisor. */
static int open_pty(struct init_ctx *c, mk_error_t *err)
{
  struct winsize ws = {.ws_row = c->cfg.rows, .ws_col = c->cfg.cols};

  c->pty_master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (c->pty_master < 0)
    return mk_error_sys(err, errno, "open /dev/ptmx");
  if (unlockpt(c->pty_master) < 0)
    return mk_error_sys(err, errno, "unlock pty");
  c->pty_slave =
      ioctl(c->pty_master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (c->pty_slave < 0)
    return mk_error_sys(err, errno, "open pty peer");
  if (ws.ws_row && ws.ws_col && ioctl(c->pty_master, TIOCSWINSZ, &ws) < 0)
    return mk_error_sys(err, errno, "set window size");
  return 0;
}

static int is_exec(const struct init_ctx *c)
{
  return (c->cfg.flags & MK_CFG_EXEC) != 0;
}

/* A user namespace of the container's own: we arrive with the caller's
 * host uid 0, which owns the host's files, and keep it only to open the
 * host paths the container needs; then we become the namespace's root
 * (a mapped id) before anything inside the rootfs is created or
 * resolved. A change of credentials clears the parent-death signal and
 * may make us dumpable: both are put back. */
static int enter_user_namespace(const struct init_ctx *c, mk_error_t *err)
{
  int pdeath = 0;

  if (!(c->cfg.flags & MK_CFG_USERNS))
    return 0;
  if (mk_rootfs_open_sources(&c->cfg, err) < 0)
    return -1;
  prctl(PR_GET_PDEATHSIG, &pdeath, 0, 0, 0);
  if (setresgid(0, 0, 0) < 0 || setgroups(0, NULL) < 0 ||
      setresuid(0, 0, 0) < 0)
    return mk_error_sys(err, errno,
                        "become root of the container's user namespace "
                        "(its maps must include id 0)");
  /* the capabilities spawn.c carried over our exec as ambient ones are
   * the namespace root's own now */
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 ||
      prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 ||
      (pdeath && prctl(PR_SET_PDEATHSIG, pdeath, 0, 0, 0) < 0))
    return mk_error_sys(err, errno, "prctl");
  return 0;
}

/* A new container: its filesystem, its loopback, its hostname. */
static int build_container(struct init_ctx *c, mk_error_t *err)
{
  const char *hostname = c->cfg.hostname;

  if (enter_user_namespace(c, err) < 0 || mk_setup_rootfs(&c->cfg, err) < 0 ||
      mk_loopback_up(err) < 0)
    return -1;
  if (*hostname && sethostname(hostname, strlen(hostname)) < 0)
    return mk_error_sys(err, errno, "sethostname");
  return 0;
}

/* A running container: setns() into its mount namespace gave us its root
 * and set our cwd to it. Both are checked, against the container's init
 * (PID 1, or the pid the supervisor read when the pid namespace is
 * shared), because a host directory reaching the workload is an escape
 * (CVE-2024-21626). */
static int join_container(const struct mk_config *cfg, mk_error_t *err)
{
  struct stat ours, theirs;
  char root[32];

  snprintf(root, sizeof(root), "/proc/%u/root/",
           cfg->target_pid ? cfg->target_pid : 1);
  if (chdir("/") < 0)
    return mk_error_sys(err, errno, "chdir to the container's root");
  /* in a user namespace the container's PID 1 runs from an execute-only
   * binary, so its /proc entries are not ours: the supervisor checked
   * our root right after its setns (engine/exec.c) */
  if (cfg->flags & MK_CFG_USERNS)
    return 0;
  if (stat("/", &ours) < 0 || stat(root, &theirs) < 0)
    return mk_error_sys(err, errno, "stat the container's root");
  if (ours.st_dev != theirs.st_dev || ours.st_ino != theirs.st_ino)
    return mk_error_set(err, EPERM, "not inside the container's root");
  return 0;
}

static void prepare(struct init_ctx *c)
{
  mk_error_t err = {0};

  if (receive_config(c, &err) < 0)
    bail(c, MK_FAIL_SETUP, &err);
  MK_TRACE("config received");
  if ((is_exec(c) ? join_container(&c->cfg, &err) : build_container(c, &err)) < 0 ||
      resolve_container_user(c, &err) < 0 ||
      ((c->cfg.flags & MK_CFG_TTY) && open_pty(c, &err) < 0))
    bail(c, MK_FAIL_SETUP, &err);
}

static void start_workload(struct init_ctx *c)
{
  mk_error_t err = {0};
  int pipefd[2];
  struct mk_msg_started started;

  if (pipe2(pipefd, O_CLOEXEC) < 0) {
    mk_error_sys(&err, errno, "pipe");
    bail(c, MK_FAIL_SETUP, &err);
  }
  /* vfork: no page tables to copy, and init resumes only once the
   * workload has exec'd (or failed). The child touches nothing of ours
   * but its own stack frame and its own fd table, and never returns. */
  struct mk_workload w = {&c->cfg, &user, c->pty_slave, pipefd[1], -1};
  c->workload = vfork();
  if (c->workload < 0) {
    mk_error_sys(&err, errno, "fork the workload");
    bail(c, MK_FAIL_SETUP, &err);
  }
  if (c->workload == 0)
    mk_workload_exec(&w);
  mk_close(pipefd[1]);
  mk_close(c->pty_slave);
  if (c->pty_master >= 0 &&
      mk_msg_send(c->sock, MK_MSG_PTY_MASTER, NULL, 0, c->pty_master, &err) < 0)
    bail(c, MK_FAIL_SETUP, &err);
  mk_close(c->pty_master);
  if (mk_workload_wait_exec(pipefd[0], &err) < 0)
    bail(c, MK_FAIL_EXEC, &err);
  mk_close(pipefd[0]);
  started.pid = c->workload;
  mk_msg_send(c->sock, MK_MSG_STARTED, &started, sizeof(started), -1, &err);
  /* In exec mode the socket stays open: its EOF tells us that the
   * supervisor let go of us (see supervise_exec). */
  if (!is_exec(c))
    mk_close(c->sock);
}

/* OCI exec: we become the command, so it stays the child of the runtime
 * that started us (and its caller's, a subreaper, after that) instead of
 * the container's PID 1's. A failure is reported on the socket; the
 * socket's close-on-exec is the news that the command runs. */
__attribute__((noreturn)) static void exec_in_place(struct init_ctx *c)
{
  mk_error_t err = {0};
  struct mk_workload w = {&c->cfg, &user, c->pty_slave, -1, c->sock};

  if (c->pty_master >= 0 &&
      mk_msg_send(c->sock, MK_MSG_PTY_MASTER, NULL, 0, c->pty_master, &err) < 0)
    bail(c, MK_FAIL_SETUP, &err);
  mk_close(c->pty_master);
  mk_workload_exec(&w);
}

/* Once the workload runs, we only reap and forward signals: we keep no
 * capability the workload lacks, so that even a tracer allowed in
 * (CAP_SYS_PTRACE given to the container) finds nothing more here. Best
 * effort: we are past the point where init may bail. */
static void confine_self(const struct init_ctx *c)
{
  mk_error_t ignored;

  mk_workload_confine_waiter(&c->cfg, &ignored);
}

/* Reaps every exited child; returns the workload's status once it is
 * among them, else -1. */
static int reap_children(pid_t workload)
{
  int status, result = -1;
  pid_t pid;

  while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
    if (pid == workload)
      result = status;
  return result;
}

static int should_forward(int sig)
{
  return sig != SIGCHLD && sig != SIGTTIN && sig != SIGTTOU;
}

/* Reads one signal from the signalfd and passes it on to the workload. */
static void forward_signal(struct init_ctx *c)
{
  struct signalfd_siginfo si;

  if (read(c->sigfd, &si, sizeof(si)) != sizeof(si))
    return;
  if (should_forward((int)si.ssi_signo))
    kill(c->workload, (int)si.ssi_signo);
}

__attribute__((noreturn)) static void supervise(struct init_ctx *c)
{
  for (;;) {
    int status = reap_children(c->workload);
    if (status >= 0) {
      MK_TRACE("workload reaped");
      _exit(mk_exit_code_from_wait(status));
    }
    forward_signal(c);
  }
}

/* Whether the supervisor closed its end of the socket. */
static int supervisor_let_go(int sock)
{
  char byte;
  ssize_t n = recv(sock, &byte, sizeof(byte), MSG_DONTWAIT);

  return n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR);
}

/* Exec mode. Our only child is the workload; its own orphans go to the
 * container's PID 1, not to us. When the supervisor lets go (mocker exec
 * -d, once the command runs; or mocker was killed) we exit and leave the
 * workload to the container's PID 1 too, which reaps it: a detached
 * command lives on as any other process of the container, and dies with
 * it. */
__attribute__((noreturn)) static void supervise_exec(struct init_ctx *c)
{
  struct pollfd fds[2] = {{.fd = c->sigfd, .events = POLLIN},
                          {.fd = c->sock, .events = POLLIN}};

  for (;;) {
    int status = reap_children(c->workload);
    if (status >= 0)
      _exit(mk_exit_code_from_wait(status));
    if (poll(fds, MK_ARRAY_SIZE(fds), -1) < 0)
      continue;
    if (fds[1].revents && supervisor_let_go(c->sock))
      _exit(0);
    if (fds[0].revents & POLLIN)
      forward_signal(c);
  }
}

int main(void)
{
  struct init_ctx c = {.sock = MK_INIT_SOCK_FD,
                       .pty_master = -1,
                       .pty_slave = -1,
                       .hold_fd = -1,
                       .reply_fd = -1};
  sigset_t all;

  /* Not dumpable, first of all: the exec of the sealed memfd made us
   * dumpable again, and once the workload's identity and capabilities
   * are ours (drop_privileges, in our vfork child that shares this mm,
   * or in place) the container's root would pass ptrace's checks and
   * could take over a process holding the host's capabilities or no
   * seccomp yet (review of issue 17, finding 1). The workload's own
   * execve makes it dumpable again, as runc's init relies on. */
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
    _exit(MK_EXIT_MOCKER_FAILED);
  mk_trace_setup("init");
  MK_TRACE("init main");
  /* The supervisor blocked everything before clone3; block again in case
   * we were started some other way, then collect signals in a signalfd
   * before anything else, so none sent during start-up is lost. */
  /* Only stdio and the sync socket were meant for us: a descriptor that
   * mocker's caller leaked without close-on-exec would otherwise sit in a
   * process of the container, reachable via /proc/<pid>/fd
   * (CVE-2024-21626). */
  syscall(SYS_close_range, MK_INIT_SOCK_FD + 1, ~0U, 0);
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, NULL);
  c.sigfd = signalfd(-1, &all, SFD_CLOEXEC);
  if (c.sigfd < 0) {
    mk_error_t err;
    mk_error_sys(&err, errno, "signalfd");
    bail(&c, MK_FAIL_SETUP, &err);
  }
  if (fcntl(c.sock, F_SETFD, FD_CLOEXEC) < 0) {
    fprintf(stderr, "mocker-init: must be started by mocker\n");
    return MK_EXIT_MOCKER_FAILED;
  }
  setsid(); /* out of the host terminal's process group */
  /* Run from a sealed memfd, our comm would read "memfd:mocker-in" in
   * ps and top; the name says what we are. */
  prctl(PR_SET_NAME, "mocker-init", 0, 0, 0);
  prepare(&c);
  MK_TRACE("container built");
  if (c.cfg.flags & MK_CFG_HOLD)
    hold_until_started(&c);
  if (c.cfg.flags & MK_CFG_EXEC_INPLACE)
    exec_in_place(&c);
  run_start_hooks(&c);
  MK_TRACE("start workload");
  start_workload(&c);
  MK_TRACE("workload execed");
  confine_self(&c);
  if (is_exec(&c))
    supervise_exec(&c);
  supervise(&c);
}
