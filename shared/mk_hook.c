#include "mk_hook.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mk_util.h"

/* One hook on its way: our ends of its pipes, and what it said. */
struct run {
  const struct mk_hook *h;
  pid_t pid;
  int pidfd;
  int in;  /* write side of its stdin, non-blocking; -1 once closed */
  int out; /* read side of its stdout and stderr, non-blocking */
  const char *state;
  size_t len, sent;
  char output[MK_HOOK_OUTPUT_MAX + 1];
  size_t outlen;
  int timed_out;
};

static long long now_ms(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The child: stdio, nothing else of ours, default signals, then the
 * exec. Reports through its own stderr, which we capture. */
__attribute__((noreturn)) static void exec_hook(const struct mk_hook *h, int in,
                                                int out,
                                                mk_hook_prepare_fn prepare,
                                                void *data)
{
  static const char *const no_env[] = {NULL};
  const char *only_path[] = {h->path, NULL};
  const char *const *argv = h->argv && h->argv[0] ? h->argv : only_path;
  mk_error_t err = {0};
  sigset_t none;

  /* its own group: past the deadline, what it started dies with it */
  setpgid(0, 0);
  /* above 2 first, so that dup2 always makes a new fd, which has no
   * close-on-exec flag, whatever numbers the pipes got */
  in = fcntl(in, F_DUPFD_CLOEXEC, 3);
  out = fcntl(out, F_DUPFD_CLOEXEC, 3);
  if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 ||
      dup2(out, 2) < 0)
    _exit(126);
  /* nothing of ours crosses the exec, however it was opened
   * (CVE-2024-21626) */
  syscall(SYS_close_range, 3, ~0U, 0);
  for (int sig = 1; sig < NSIG; sig++)
    signal(sig, SIG_DFL); /* SIGPIPE may be ignored; the rest fails */
  if (prepare && prepare(data, &err) < 0) {
    dprintf(STDERR_FILENO, "%s\n", err.msg);
    _exit(126);
  }
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  execve(h->path, (char *const *)argv,
         (char *const *)(h->env ? h->env : no_env));
  int e = errno;
  dprintf(STDERR_FILENO, "cannot execute: %s\n", strerror(e));
  _exit(e == ENOENT ? 127 : 126);
}

/* As much of the state as the pipe takes now. EPIPE (the hook closed
 * its stdin, or exited) ends the feeding: it read what it wanted. */
static void feed(struct run *r)
{
  while (r->in >= 0 && r->sent < r->len) {
    ssize_t n = write(r->in, r->state + r->sent, r->len - r->sent);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && errno == EAGAIN)
      return;
    if (n < 0)
      break;
    r->sent += (size_t)n;
  }
  mk_close(r->in); /* all of it, or it stopped reading: EOF either way */
  r->in = -1;
}

/* Everything the hook wrote so far; the first MK_HOOK_OUTPUT_MAX bytes
 * are kept. */
static void read_output(struct run *r)
{
  char scratch[512] = {0}; /* only ever written; {0} for cppcheck */

  while (r->out >= 0) {
    size_t room = MK_HOOK_OUTPUT_MAX - r->outlen;
    ssize_t n = read(r->out, room ? r->output + r->outlen : scratch,
                     room ? room : sizeof(scratch));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && errno == EAGAIN)
      return;
    if (n <= 0) {
      mk_close(r->out);
      r->out = -1;
      return;
    }
    if (room)
      r->outlen += (size_t)n;
  }
}

static void kill_group(const struct run *r)
{
  kill(-r->pid, SIGKILL);
  syscall(SYS_pidfd_send_signal, r->pidfd, SIGKILL, NULL, 0);
}

/* Until the hook exits, feeding its stdin and reading its output; past
 * the deadline, its group is killed. */
static int watch(struct run *r, mk_error_t *err)
{
  long long deadline = r->h->timeout ? now_ms() + r->h->timeout * 1000LL : -1;

  for (;;) {
    /* poll skips the entries whose fd is -1 */
    struct pollfd p[3] = {{.fd = r->pidfd, .events = POLLIN},
                          {.fd = r->in, .events = POLLOUT},
                          {.fd = r->out, .events = POLLIN}};
    long long left = deadline < 0 ? -1 : deadline - now_ms();
    if (deadline >= 0 && left <= 0) {
      r->timed_out = 1;
      kill_group(r);
      return 0;
    }
    int n = poll(p, 3, left < 0 ? -1 : (int)(left < INT_MAX ? left : INT_MAX));
    if (n < 0 && errno != EINTR) {
      kill_group(r);
      return mk_error_sys(err, errno, "wait for hook `%s`", r->h->path);
    }
    if (n <= 0)
      continue;
    if (p[2].revents)
      read_output(r);
    if (p[1].revents)
      feed(r);
    if (p[0].revents)
      return 0;
  }
}

/* The output as one line of plain text: ": text", or "" when none. */
static void tidy_output(const struct run *r, char *buf, size_t size)
{
  size_t n = r->outlen, j = 0;

  while (n > 0 && (unsigned char)r->output[n - 1] <= ' ')
    n--;
  buf[0] = '\0';
  if (n == 0 || size < 4)
    return;
  buf[j++] = ':';
  buf[j++] = ' ';
  for (size_t i = 0; i < n && j + 1 < size; i++) {
    unsigned char ch = (unsigned char)r->output[i];
    buf[j++] = ch < ' ' || ch == 0x7f ? ' ' : ch >= 0x80 ? '?' : (char)ch;
  }
  buf[j] = '\0';
}

static int describe(const struct run *r, const char *what, int status,
                    mk_error_t *err)
{
  char out[MK_HOOK_OUTPUT_MAX + 4];

  tidy_output(r, out, sizeof(out));
  if (r->timed_out)
    return mk_error_set(err, ETIMEDOUT, "%s `%s` timed out after %u s%s", what,
                        r->h->path, r->h->timeout, out);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
    return 0;
  if (WIFEXITED(status))
    return mk_error_set(err, EIO, "%s `%s` exited with status %d%s", what,
                        r->h->path, WEXITSTATUS(status), out);
  return mk_error_set(err, EIO, "%s `%s` was killed by signal %d%s", what,
                      r->h->path, WTERMSIG(status), out);
}

/* Starts the hook, its pipes set: our ends non-blocking, the state
 * written in as far as it fits before the hook even runs. */
static int start(struct run *r, mk_hook_prepare_fn prepare, void *data,
                 mk_error_t *err)
{
  int in[2], out[2];

  if (pipe2(in, O_CLOEXEC) < 0)
    return mk_error_sys(err, errno, "pipe for hook `%s`", r->h->path);
  if (pipe2(out, O_CLOEXEC) < 0) {
    mk_close(in[0]);
    mk_close(in[1]);
    return mk_error_sys(err, errno, "pipe for hook `%s`", r->h->path);
  }
  r->in = in[1];
  r->out = out[0];
  fcntl(r->in, F_SETFL, O_NONBLOCK);
  fcntl(r->out, F_SETFL, O_NONBLOCK);
  feed(r); /* we hold the read side: no EPIPE here */
  r->pid = fork();
  if (r->pid == 0)
    exec_hook(r->h, in[0], out[1], prepare, data);
  int e = errno;
  mk_close(in[0]);
  mk_close(out[1]);
  if (r->pid < 0)
    return mk_error_sys(err, e, "fork for hook `%s`", r->h->path);
  setpgid(r->pid, r->pid); /* the child does it too: no window */
  r->pidfd = (int)syscall(SYS_pidfd_open, r->pid, 0);
  if (r->pidfd < 0) {
    e = errno;
    kill(-r->pid, SIGKILL);
    kill(r->pid, SIGKILL);
    return mk_error_sys(err, e, "pidfd_open for hook `%s`", r->h->path);
  }
  return 0;
}

static int run_blocking_sigpipe(struct run *r, const char *what,
                                mk_hook_prepare_fn prepare, void *data,
                                mk_error_t *err)
{
  int status = 0, rc;

  rc = start(r, prepare, data, err);
  if (rc == 0)
    rc = watch(r, err);
  if (r->pid > 0)
    while (waitpid(r->pid, &status, 0) < 0 && errno == EINTR)
      ;
  if (r->out >= 0)
    read_output(r); /* what is there; a child it left may hold it open */
  return rc < 0 ? -1 : describe(r, what, status, err);
}

int mk_hook_run(const struct mk_hook *h, const char *what, const char *state,
                size_t len, mk_hook_prepare_fn prepare, void *data,
                mk_error_t *err)
{
  struct run r = {.h = h,
                  .pidfd = -1,
                  .in = -1,
                  .out = -1,
                  .state = state,
                  .len = state ? len : 0};
  sigset_t pipe_sig, saved, pending;
  int rc;

  /* A hook that does not read its stdin: EPIPE, never SIGPIPE. init
   * reads its signals from a signalfd and forwards them to the workload,
   * so a pending SIGPIPE must not outlive us either. */
  sigemptyset(&pipe_sig);
  sigaddset(&pipe_sig, SIGPIPE);
  sigprocmask(SIG_BLOCK, &pipe_sig, &saved);
  sigpending(&pending);
  int was_pending = sigismember(&pending, SIGPIPE);
  rc = run_blocking_sigpipe(&r, what, prepare, data, err);
  mk_close(r.in);
  mk_close(r.out);
  mk_close(r.pidfd);
  if (!was_pending)
    sigtimedwait(&pipe_sig, NULL, &(struct timespec){0, 0});
  sigprocmask(SIG_SETMASK, &saved, NULL);
  return rc;
}
