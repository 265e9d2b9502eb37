#include "session.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mk_proto.h"
#include "mk_util.h"

enum { EV_SOCK = 1, EV_PIDFD, EV_SIGNAL, EV_MASTER, EV_STDIN };

struct loop {
  struct mk_session *s;
  int epfd;
  int init_exited;
};

static int watch(struct loop *l, int fd, uint64_t tag, mk_error_t *err)
{
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = tag};

  if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
    return mk_error_sys(err, errno, "epoll_ctl");
  return 0;
}

static void unwatch(struct loop *l, int fd)
{
  epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
}

/* Docker's --sig-proxy: everything except what only concerns us. */
static int should_forward(int sig, int tty)
{
  switch (sig) {
  case SIGCHLD:
  case SIGPIPE:
  case SIGTTIN:
  case SIGTTOU:
  case SIGURG: return 0;
  case SIGWINCH: return !tty; /* with -t a resize of the pty does it */
  default: return 1;
  }
}

static int on_signal(struct loop *l)
{
  struct mk_session *s = l->s;
  struct signalfd_siginfo si;

  while (read(s->sigfd, &si, sizeof(si)) == sizeof(si)) {
    int sig = (int)si.ssi_signo;
    if (sig == SIGWINCH && s->tty && s->master >= 0)
      mk_terminal_copy_size(STDIN_FILENO, s->master);
    else if (should_forward(sig, s->tty) && !l->init_exited)
      syscall(SYS_pidfd_send_signal, s->child.pidfd, sig, NULL, 0);
  }
  return 0;
}

static int on_pty_master(struct loop *l, int fd, mk_error_t *err)
{
  struct mk_session *s = l->s;

  if (fd < 0)
    return mk_error_set(err, EPROTO, "init sent no pty");
  s->master = fd;
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  mk_terminal_copy_size(STDIN_FILENO, fd);
  if (watch(l, fd, EV_MASTER, err) < 0)
    return -1;
  if (s->interactive) {
    s->stdin_open = 1;
    return watch(l, STDIN_FILENO, EV_STDIN, err);
  }
  return 0;
}

static int on_message(struct loop *l, mk_error_t *err)
{
  struct mk_session *s = l->s;
  char buf[sizeof(struct mk_msg_error) + MK_ERROR_MSG_MAX];
  uint32_t type;
  int fd, n = mk_msg_recv(s->child.sock, &type, buf, sizeof(buf), &fd, err);

  if (n < 0)
    return -1;
  if (type != MK_MSG_PTY_MASTER)
    mk_close(fd);
  switch (type) {
  case 0: /* init closed its end: nothing more to say */
    unwatch(l, s->child.sock);
    s->child_sock_eof = 1;
    return 0;
  case MK_MSG_PTY_MASTER: return on_pty_master(l, fd, err);
  case MK_MSG_STARTED: {
    struct mk_msg_started st;
    if ((size_t)n != sizeof(st))
      return mk_error_set(err, EPROTO, "bad started message");
    memcpy(&st, buf, sizeof(st));
    s->started = 1;
    s->workload_pid = st.pid;
    if (s->on_started)
      s->on_started(s, s->on_started_data);
    return 0;
  }
  case MK_MSG_ERROR:
    s->have_failure = 1;
    return mk_msg_decode_error(buf, (size_t)n, &s->fail_kind, &s->failure, err);
  default:
    return mk_error_set(err, EPROTO, "unexpected message %u from init", type);
  }
}

/* Copies what is readable on from to to. Returns bytes moved, 0 at
 * EOF/EIO (the pty's end), -1 when nothing was ready. */
static ssize_t pump(int from, int to)
{
  char buf[16384];
  ssize_t n = read(from, buf, sizeof(buf));

  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return -1;
  if (n <= 0)
    return 0;
  if (mk_write_all(to, buf, (size_t)n) < 0)
    return 0;
  return n;
}

static void on_master(struct loop *l)
{
  if (pump(l->s->master, STDOUT_FILENO) == 0)
    unwatch(l, l->s->master);
}

static void on_stdin(struct loop *l)
{
  struct mk_session *s = l->s;

  if (s->master < 0 || pump(STDIN_FILENO, s->master) != 0)
    return;
  unwatch(l, STDIN_FILENO);
  s->stdin_open = 0;
}

static void on_init_exit(struct loop *l)
{
  siginfo_t info = {0};

  if (syscall(SYS_waitid, P_PIDFD, l->s->child.pidfd, &info, WEXITED, NULL) < 0)
    return;
  l->s->init_status = info.si_code == CLD_EXITED
                          ? W_EXITCODE(info.si_status, 0)
                          : W_EXITCODE(0, info.si_status);
  l->init_exited = 1;
}

/* The slave side is gone with the namespace; read what is still buffered. */
static void drain_master(struct mk_session *s)
{
  if (s->master < 0)
    return;
  while (pump(s->master, STDOUT_FILENO) > 0)
    ;
}

static int dispatch(struct loop *l, uint64_t tag, mk_error_t *err)
{
  switch (tag) {
  case EV_SOCK: return on_message(l, err);
  case EV_PIDFD: on_init_exit(l); return 0;
  case EV_SIGNAL: return on_signal(l);
  case EV_MASTER: on_master(l); return 0;
  case EV_STDIN: on_stdin(l); return 0;
  }
  return 0;
}

static const int inheritable_ignores[] = {
    SIGHUP,  SIGINT,  SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2,
    SIGPIPE, SIGALRM, SIGTSTP, SIGTTIN, SIGTTOU, SIGWINCH,
};

int mk_session_block_signals(struct mk_session *s, sigset_t *saved,
                             mk_error_t *err)
{
  sigset_t all;

  sigfillset(&all);
  if (sigprocmask(SIG_BLOCK, &all, saved) < 0)
    return mk_error_sys(err, errno, "block signals");
  for (size_t i = 0; i < MK_ARRAY_SIZE(inheritable_ignores); i++)
    signal(inheritable_ignores[i], SIG_DFL);
  s->sigfd = signalfd(-1, &all, SFD_CLOEXEC | SFD_NONBLOCK);
  if (s->sigfd < 0)
    return mk_error_sys(err, errno, "signalfd");
  return 0;
}

int mk_session_run(struct mk_session *s, mk_error_t *err)
{
  struct loop l = {.s = s};
  _cleanup_close_ int epfd = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event evs[8];

  l.epfd = epfd;
  if (epfd < 0)
    return mk_error_sys(err, errno, "epoll_create1");
  if (watch(&l, s->child.sock, EV_SOCK, err) < 0 ||
      watch(&l, s->child.pidfd, EV_PIDFD, err) < 0 ||
      watch(&l, s->sigfd, EV_SIGNAL, err) < 0)
    return -1;
  while (!l.init_exited) {
    int n = epoll_wait(epfd, evs, MK_ARRAY_SIZE(evs), -1);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return mk_error_sys(err, errno, "epoll_wait");
    for (int i = 0; i < n; i++)
      if (dispatch(&l, evs[i].data.u64, err) < 0)
        return -1;
  }
  /* Messages sent just before init exited may still be queued; its end
   * is closed now, so this ends at EOF without blocking. */
  while (!s->child_sock_eof)
    if (on_message(&l, err) < 0)
      return -1;
  drain_master(s);
  return 0;
}
