#include "attach.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "mk_attach.h"
#include "mk_util.h"
#include "base/terminal.h"

#define CTRL_P 0x10
#define CTRL_Q 0x11

enum { EV_SOCK = 1, EV_STDIN, EV_SIGNAL };

struct client {
  int sock, tty, stdin_open, pending_ctrl_p, done, code;
  int epfd, sigfd;
  struct mk_terminal term;
};

int mk_attach_connect(const char *dir, mk_error_t *err)
{
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  _cleanup_close_ int dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  int fd;

  /* sun_path holds 108 bytes: go through our fd of the directory. */
  if (dirfd < 0)
    return mk_error_sys(err, errno, "open `%s`", dir);
  snprintf(addr.sun_path, sizeof(addr.sun_path), "/proc/self/fd/%d/attach.sock",
           dirfd);
  fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return mk_error_sys(err, errno, "socket");
  if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
    int e = errno;
    close(fd);
    return mk_error_sys(err, e, "connect to `%s/attach.sock`", dir);
  }
  return fd;
}

static int send_packet(struct client *c, uint8_t type, const void *data,
                       size_t len)
{
  return mk_attach_send(c->sock, type, data, len);
}

static void send_size(struct client *c)
{
  struct mk_attach_resize r;

  mk_terminal_get_size(STDIN_FILENO, &r.rows, &r.cols);
  if (r.rows && r.cols)
    send_packet(c, MK_ATTACH_RESIZE, &r, sizeof(r));
}

static void on_socket(struct client *c)
{
  char pkt[1 + MK_ATTACH_DATA_MAX];
  ssize_t n = recv(c->sock, pkt, sizeof(pkt), 0);

  if (n <= 0) {
    c->done = 1;
    return;
  }
  switch ((uint8_t)pkt[0]) {
  case MK_ATTACH_STDOUT:
    mk_write_all(STDOUT_FILENO, pkt + 1, (size_t)n - 1);
    break;
  case MK_ATTACH_STDERR:
    mk_write_all(STDERR_FILENO, pkt + 1, (size_t)n - 1);
    break;
  case MK_ATTACH_EXIT:
    if ((size_t)n - 1 >= sizeof(int32_t)) {
      int32_t code;
      memcpy(&code, pkt + 1, sizeof(code));
      c->code = code;
      c->done = 1;
    }
    break;
  }
}

/* Forwards input, watching for the detach keys (Ctrl-P Ctrl-Q). */
static void on_stdin(struct client *c)
{
  char in[MK_ATTACH_DATA_MAX], out[MK_ATTACH_DATA_MAX + 1];
  ssize_t n = read(STDIN_FILENO, in, sizeof(in));
  size_t used = 0;

  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return;
  if (n <= 0) {
    epoll_ctl(c->epfd, EPOLL_CTL_DEL, STDIN_FILENO, NULL);
    c->stdin_open = 0;
    send_packet(c, MK_ATTACH_STDIN_EOF, NULL, 0);
    return;
  }
  for (ssize_t i = 0; i < n; i++) {
    if (c->pending_ctrl_p) {
      c->pending_ctrl_p = 0;
      if (in[i] == CTRL_Q) {
        c->done = 1;
        c->code = MK_ATTACH_DETACHED;
        return;
      }
      out[used++] = CTRL_P;
    }
    if (in[i] == CTRL_P && c->tty)
      c->pending_ctrl_p = 1;
    else
      out[used++] = in[i];
  }
  if (used)
    send_packet(c, MK_ATTACH_STDIN, out, used);
}

/* Docker's --sig-proxy: signals we get go to the container. With a tty,
 * Ctrl-C arrives as a byte instead and these are rare. */
static void on_signal(struct client *c)
{
  struct signalfd_siginfo si;

  while (read(c->sigfd, &si, sizeof(si)) == sizeof(si)) {
    int32_t sig = (int32_t)si.ssi_signo;
    if (sig == SIGWINCH)
      send_size(c);
    else if (sig != SIGCHLD && sig != SIGPIPE)
      send_packet(c, MK_ATTACH_SIGNAL, &sig, sizeof(sig));
  }
}

static int watch(struct client *c, int fd, uint64_t tag, mk_error_t *err)
{
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = tag};

  if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
    return mk_error_sys(err, errno, "epoll_ctl");
  return 0;
}

static int setup(struct client *c, int with_stdin, sigset_t *saved,
                 mk_error_t *err)
{
  static const int proxied[] = {SIGINT,  SIGTERM, SIGHUP,  SIGQUIT,
                                SIGUSR1, SIGUSR2, SIGWINCH};
  uint8_t flags = with_stdin ? MK_ATTACH_WANTS_STDIN : 0;
  sigset_t set;

  sigemptyset(&set);
  for (size_t i = 0; i < MK_ARRAY_SIZE(proxied); i++)
    sigaddset(&set, proxied[i]);
  if (sigprocmask(SIG_BLOCK, &set, saved) < 0)
    return mk_error_sys(err, errno, "block signals");
  c->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  c->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (c->sigfd < 0 || c->epfd < 0)
    return mk_error_sys(err, errno, "signalfd/epoll");
  if (send_packet(c, MK_ATTACH_HELLO, &flags, 1) < 0)
    return mk_error_sys(err, errno, "attach");
  if (c->tty && isatty(STDIN_FILENO)) {
    if (mk_terminal_make_raw(&c->term, STDIN_FILENO, err) < 0)
      return -1;
    send_size(c);
  }
  if (watch(c, c->sock, EV_SOCK, err) < 0 ||
      watch(c, c->sigfd, EV_SIGNAL, err) < 0)
    return -1;
  if (with_stdin) {
    c->stdin_open = 1;
    if (watch(c, STDIN_FILENO, EV_STDIN, err) < 0) {
      /* /dev/null and regular files cannot be polled: send all, then EOF */
      char buf[MK_ATTACH_DATA_MAX];
      ssize_t n;
      while ((n = read(STDIN_FILENO, buf, sizeof(buf))) > 0)
        send_packet(c, MK_ATTACH_STDIN, buf, (size_t)n);
      send_packet(c, MK_ATTACH_STDIN_EOF, NULL, 0);
      c->stdin_open = 0;
    }
  }
  return 0;
}

int mk_attach_run(int sock, int tty, int with_stdin, mk_error_t *err)
{
  struct client c = {.sock = sock,
                     .tty = tty,
                     .code = MK_ATTACH_LOST,
                     .sigfd = -1,
                     .epfd = -1};
  struct epoll_event evs[4];
  sigset_t saved;
  int rc = 0;

  if (setup(&c, with_stdin, &saved, err) < 0)
    rc = -1;
  while (rc == 0 && !c.done) {
    int n = epoll_wait(c.epfd, evs, MK_ARRAY_SIZE(evs), -1);
    for (int i = 0; i < n && !c.done; i++) {
      if (evs[i].data.u64 == EV_SOCK)
        on_socket(&c);
      else if (evs[i].data.u64 == EV_STDIN)
        on_stdin(&c);
      else
        on_signal(&c);
    }
  }
  mk_terminal_restore(&c.term);
  mk_close(c.sigfd);
  mk_close(c.epfd);
  sigprocmask(SIG_SETMASK, &saved, NULL);
  return rc < 0 ? -1 : c.code;
}
