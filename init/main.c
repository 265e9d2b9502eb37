/* mocker-init: PID 1 inside the container.
 *
 * Receives the config from the supervisor, builds the container's
 * filesystem, starts the workload, then reaps zombies and forwards signals
 * until the workload exits, and exits with its status. It may bail out
 * only before the workload starts; after that it logs nothing and carries
 * on, because if PID 1 dies the container dies. */
#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mk_exit.h"
#include "mk_proto.h"
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
  pid_t workload;
};

__attribute__((noreturn)) static void
bail(struct init_ctx *c, enum mk_fail_kind kind, const mk_error_t *e)
{
  mk_msg_send_error(c->sock, kind, e);
  _exit(kind == MK_FAIL_EXEC ? mk_exit_code_for_exec_errno(e->err)
                             : MK_EXIT_MOCKER_FAILED);
}

static int receive_config(struct init_ctx *c, mk_error_t *err)
{
  uint32_t type;
  int fd;
  int n = mk_msg_recv(c->sock, &type, config_buf, sizeof(config_buf), &fd, err);

  if (n < 0)
    return -1;
  mk_close(fd);
  if (type == 0)
    _exit(MK_EXIT_MOCKER_FAILED); /* supervisor gone before we started */
  if (type != MK_MSG_CONFIG)
    return mk_error_set(err, EPROTO, "expected config, got message %u", type);
  return mk_config_decode(config_buf, (size_t)n, &c->cfg, &config_storage, err);
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

static void prepare(struct init_ctx *c)
{
  mk_error_t err = {0};

  if (receive_config(c, &err) < 0 || mk_setup_rootfs(&c->cfg, &err) < 0 ||
      mk_loopback_up(&err) < 0 ||
      (*c->cfg.hostname &&
       sethostname(c->cfg.hostname, strlen(c->cfg.hostname)) < 0 &&
       mk_error_sys(&err, errno, "sethostname")) ||
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
  struct mk_workload w = {&c->cfg, &user, c->pty_slave, pipefd[1]};
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
  mk_close(c->sock);
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

__attribute__((noreturn)) static void supervise(struct init_ctx *c)
{
  struct signalfd_siginfo si;

  for (;;) {
    int status = reap_children(c->workload);
    if (status >= 0)
      _exit(mk_exit_code_from_wait(status));
    ssize_t n = read(c->sigfd, &si, sizeof(si));
    if (n != sizeof(si))
      continue;
    if (should_forward((int)si.ssi_signo))
      kill(c->workload, (int)si.ssi_signo);
  }
}

int main(void)
{
  struct init_ctx c = {
      .sock = MK_INIT_SOCK_FD, .pty_master = -1, .pty_slave = -1};
  sigset_t all;

  /* The supervisor blocked everything before clone3; block again in case
   * we were started some other way, then collect signals in a signalfd
   * before anything else, so none sent during start-up is lost. */
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
  prepare(&c);
  start_workload(&c);
  supervise(&c);
}
