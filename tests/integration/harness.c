#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "harness.h"
#include "netsandbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct h_ctx h;

/* The runner's base dir; set by the unchecked setup before the test
 * children fork, so they inherit it. */
static char base_dir[PATH_MAX];
static char last_cmd[8192];

#define BASE_PREFIX "/tmp/mocker-it."
#define DRAIN_AFTER_EXIT_MS 2000
#define MAX_CAPTURE (64u << 20)

/* ---- small utilities ---------------------------------------------- */

long h_now_ms(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void sleep_ms(long ms)
{
  struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

  while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
    ;
}

bool h_poll(bool (*pred)(void *), void *arg, int timeout_ms)
{
  long deadline = h_now_ms() + timeout_ms;

  for (;;) {
    if (pred(arg))
      return true;
    if (h_now_ms() >= deadline)
      return pred(arg);
    sleep_ms(10);
  }
}

bool h_exists(const char *path)
{
  struct stat st;

  return lstat(path, &st) == 0;
}

bool h_path_exists_pred(void *path)
{
  return h_exists(path);
}

void h_fmt(char *buf, size_t size, const char *fmt, ...)
{
  va_list ap;
  int n;

  va_start(ap, fmt);
  n = vsnprintf(buf, size, fmt, ap);
  va_end(ap);
  ck_assert_msg(n >= 0 && (size_t)n < size, "h_fmt: buffer too small");
}

static bool write_all(int fd, const char *p, size_t n)
{
  while (n > 0) {
    ssize_t w = write(fd, p, n);

    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return false;
    p += w;
    n -= (size_t)w;
  }
  return true;
}

void h_write_file(const char *path, const char *data)
{
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  bool ok;

  ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
  ok = write_all(fd, data, strlen(data));
  close(fd);
  ck_assert_msg(ok, "write %s: %s", path, strerror(errno));
}

static char *read_fd_all(int fd, size_t cap, size_t *len_out)
{
  size_t len = 0, size = 4096;
  char *buf = malloc(size);

  if (!buf)
    return NULL;
  for (;;) {
    ssize_t n;

    if (len + 1 >= size) {
      char *nb;

      if (size >= cap)
        break;
      size *= 2;
      nb = realloc(buf, size);
      if (!nb)
        break;
      buf = nb;
    }
    n = read(fd, buf + len, size - len - 1);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    len += (size_t)n;
  }
  buf[len] = '\0';
  if (len_out)
    *len_out = len;
  return buf;
}

static char *read_file_cap(const char *path, size_t cap, size_t *len)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  char *s;

  if (fd < 0)
    return NULL;
  s = read_fd_all(fd, cap, len);
  close(fd);
  return s;
}

char *h_read_file(const char *path)
{
  return read_file_cap(path, 16u << 20, NULL);
}

bool h_contains(const char *hay, const char *needle)
{
  return hay && needle && strstr(hay, needle) != NULL;
}

bool h_is_hex(const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
      return false;
  return true;
}

const char *h_mocker(void)
{
  const char *m = getenv("MOCKER");

  return m && *m ? m : "./build/mocker";
}

const char *h_last_cmd(void)
{
  return last_cmd;
}

/* Growable text list, newline-separated. */
struct list {
  char *p;
  size_t len, cap;
};

static void list_add(struct list *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void list_add(struct list *l, const char *fmt, ...)
{
  va_list ap;
  char line[4096];
  size_t n;

  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  n = strlen(line);
  if (l->len + n + 2 > l->cap) {
    size_t cap = (l->cap ? l->cap * 2 : 1024) + n + 2;
    char *np = realloc(l->p, cap);

    if (!np)
      return;
    l->p = np;
    l->cap = cap;
  }
  memcpy(l->p + l->len, line, n);
  l->len += n;
  l->p[l->len++] = '\n';
  l->p[l->len] = '\0';
}

static void list_out(struct list *l, char **out)
{
  if (out)
    *out = l->p ? l->p : strdup("");
  else
    free(l->p);
}

/* ---- spawning mocker ---------------------------------------------- */

static void record_cmd(const char *program, const char *root, bool root_flag,
                       const char *const argv[])
{
  size_t off = 0;

  off += (size_t)snprintf(last_cmd, sizeof last_cmd, "%s",
                          program ? program : h_mocker());
  if (root_flag && off < sizeof last_cmd)
    off += (size_t)snprintf(last_cmd + off, sizeof last_cmd - off, " --root %s",
                            root);
  for (int i = 0; argv[i] && off < sizeof last_cmd; i++) {
    bool quote = !*argv[i] || strpbrk(argv[i], " \t\n'\"$;&|()<>*?") != NULL;

    off += (size_t)snprintf(last_cmd + off, sizeof last_cmd - off,
                            quote ? " '%s'" : " %s", argv[i]);
  }
}

static void reset_signals(void)
{
  sigset_t none;

  for (int s = 1; s < NSIG; s++)
    signal(s, SIG_DFL);
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
}

/* In the child: never returns. */
static void exec_mocker(const char *root, const struct h_opts *o,
                        const char *const argv[], int in, int out, int err)
{
  const char *args[256];
  int n = 0;

  reset_signals();
  if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
    _exit(198);
  args[n++] = o && o->program ? o->program : h_mocker();
  if (!(o && o->no_root_flag)) {
    args[n++] = "--root";
    args[n++] = root;
  }
  for (int i = 0; argv[i] && n < 255; i++)
    args[n++] = argv[i];
  args[n] = NULL;
  if (o && o->no_root_env)
    unsetenv("MOCKER_ROOT");
  else
    setenv("MOCKER_ROOT", root, 1);
  execv(args[0], (char *const *)args);
  dprintf(2, "harness: exec %s: %s\n", args[0], strerror(errno));
  _exit(199);
}

static int status_of(int wstatus)
{
  if (WIFEXITED(wstatus))
    return WEXITSTATUS(wstatus);
  if (WIFSIGNALED(wstatus))
    return -WTERMSIG(wstatus);
  return -999;
}

static void ignore_sigpipe(void)
{
  struct sigaction sa = {.sa_handler = SIG_IGN};

  sigaction(SIGPIPE, &sa, NULL);
}

struct buf {
  char *p;
  size_t len, cap;
};

/* Reads what is available; returns false at EOF or error. */
static bool buf_read(struct buf *b, int fd)
{
  char tmp[65536];
  ssize_t n = read(fd, tmp, sizeof tmp);

  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return true;
  if (n <= 0)
    return false;
  if (b->len + (size_t)n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    char *np;

    while (cap < b->len + (size_t)n + 1)
      cap *= 2;
    if (cap > MAX_CAPTURE)
      return false;
    np = realloc(b->p, cap);
    if (!np)
      return false;
    b->p = np;
    b->cap = cap;
  }
  memcpy(b->p + b->len, tmp, (size_t)n);
  b->len += (size_t)n;
  b->p[b->len] = '\0';
  return true;
}

static char *buf_take(struct buf *b, size_t *len)
{
  *len = b->len;
  return b->p ? b->p : strdup("");
}

struct run_io {
  int out, err, in; /* our ends; -1 once closed */
  const char *data; /* stdin still to write */
  size_t left;
  struct buf bout, berr;
};

static void run_io_step(struct run_io *io, int timeout_ms)
{
  struct pollfd p[3];
  int n = 0, iout = -1, ierr = -1, iin = -1;

  if (io->out >= 0) {
    iout = n;
    p[n++] = (struct pollfd){.fd = io->out, .events = POLLIN};
  }
  if (io->err >= 0) {
    ierr = n;
    p[n++] = (struct pollfd){.fd = io->err, .events = POLLIN};
  }
  if (io->in >= 0) {
    iin = n;
    p[n++] = (struct pollfd){.fd = io->in, .events = POLLOUT};
  }
  if (poll(p, (nfds_t)n, timeout_ms) <= 0)
    return;
  if (iout >= 0 && p[iout].revents && !buf_read(&io->bout, io->out)) {
    close(io->out);
    io->out = -1;
  }
  if (ierr >= 0 && p[ierr].revents && !buf_read(&io->berr, io->err)) {
    close(io->err);
    io->err = -1;
  }
  if (iin >= 0 && p[iin].revents) {
    ssize_t w = io->left ? write(io->in, io->data, io->left) : 0;

    if (w > 0) {
      io->data += w;
      io->left -= (size_t)w;
    }
    if (io->left == 0 || (w < 0 && errno != EAGAIN && errno != EINTR)) {
      close(io->in);
      io->in = -1;
    }
  }
}

static int run_root(const char *root, struct h_res *r, const struct h_opts *o,
                    const char *const argv[])
{
  int outp[2], errp[2], inp[2] = {-1, -1}, child_in;
  int timeout = o && o->timeout_ms ? o->timeout_ms : H_TIMEOUT_MS;
  long deadline = h_now_ms() + timeout, exited_at = -1;
  struct run_io io = {.in = -1};
  int wstatus = 0;
  pid_t pid;

  memset(r, 0, sizeof *r);
  ignore_sigpipe();
  record_cmd(o ? o->program : NULL, root, !(o && o->no_root_flag), argv);
  if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0)
    ck_abort_msg("pipe2: %s", strerror(errno));
  if (o && o->stdin_data) {
    if (pipe2(inp, O_CLOEXEC) < 0)
      ck_abort_msg("pipe2: %s", strerror(errno));
    child_in = inp[0];
  } else {
    child_in = open("/dev/null", O_RDONLY | O_CLOEXEC);
  }
  pid = fork();
  ck_assert_msg(pid >= 0, "fork: %s", strerror(errno));
  if (pid == 0)
    exec_mocker(root, o, argv, child_in, outp[1], errp[1]);
  close(child_in);
  close(outp[1]);
  close(errp[1]);
  io.out = outp[0];
  io.err = errp[0];
  if (inp[1] >= 0) {
    io.in = inp[1];
    io.data = o->stdin_data;
    io.left = o->stdin_len ? o->stdin_len : strlen(o->stdin_data);
    fcntl(io.in, F_SETFL, O_NONBLOCK);
  }
  for (;;) {
    long now = h_now_ms();

    if (exited_at < 0 && waitpid(pid, &wstatus, WNOHANG) == pid)
      exited_at = now;
    if (exited_at >= 0 && io.out < 0 && io.err < 0)
      break;
    /* A process still holding the pipes after mocker exited is a
     * leftover; the leftover checks report it, the run doesn't hang. */
    if (exited_at >= 0 && now - exited_at > DRAIN_AFTER_EXIT_MS)
      break;
    if (now >= deadline)
      break;
    run_io_step(&io, 10);
  }
  if (exited_at < 0) {
    kill(pid, SIGKILL);
    waitpid(pid, &wstatus, 0);
    r->status = H_TIMED_OUT;
  } else {
    r->status = status_of(wstatus);
  }
  if (io.out >= 0)
    close(io.out);
  if (io.err >= 0)
    close(io.err);
  if (io.in >= 0)
    close(io.in);
  r->out = buf_take(&io.bout, &r->out_len);
  r->err = buf_take(&io.berr, &r->err_len);
  return r->status;
}

int h_run(struct h_res *r, const struct h_opts *o, const char *const argv[])
{
  return run_root(h.root, r, o, argv);
}

void h_res_free(struct h_res *r)
{
  free(r->out);
  free(r->err);
  memset(r, 0, sizeof *r);
}

pid_t h_spawn_io(const char *const argv[], int in_fd, int out_fd, int err_fd,
                 bool new_pgrp)
{
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  pid_t pid;

  ignore_sigpipe();
  record_cmd(NULL, h.root, true, argv);
  pid = fork();
  ck_assert_msg(pid >= 0, "fork: %s", strerror(errno));
  if (pid == 0) {
    if (new_pgrp)
      setpgid(0, 0);
    exec_mocker(h.root, NULL, argv, in_fd >= 0 ? in_fd : devnull,
                out_fd >= 0 ? out_fd : devnull, err_fd >= 0 ? err_fd : devnull);
  }
  if (new_pgrp)
    setpgid(pid, pid); /* also here: no race with the caller's next step */
  close(devnull);
  return pid;
}

pid_t h_spawn(const char *const argv[], int out_fd, int err_fd)
{
  return h_spawn_io(argv, -1, out_fd, err_fd, false);
}

pid_t h_spawn_tty(const char *const argv[], int tty_fd)
{
  pid_t pid;

  ignore_sigpipe();
  record_cmd(NULL, h.root, true, argv);
  pid = fork();
  ck_assert_msg(pid >= 0, "fork: %s", strerror(errno));
  if (pid == 0) {
    if (setsid() < 0 || ioctl(tty_fd, TIOCSCTTY, 0) < 0) {
      dprintf(2, "harness: setsid/TIOCSCTTY: %s\n", strerror(errno));
      _exit(197);
    }
    exec_mocker(h.root, NULL, argv, tty_fd, tty_fd, tty_fd);
  }
  return pid;
}

int h_wait(pid_t pid, int timeout_ms)
{
  long deadline = h_now_ms() + timeout_ms;
  int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  int wstatus;

  for (;;) {
    pid_t w = waitpid(pid, &wstatus, WNOHANG);
    long left = deadline - h_now_ms();

    if (w == pid) {
      if (pidfd >= 0)
        close(pidfd);
      return status_of(wstatus);
    }
    if (w < 0 && errno != EINTR)
      return -998;
    if (left <= 0)
      break;
    if (pidfd >= 0) {
      struct pollfd p = {.fd = pidfd, .events = POLLIN};

      poll(&p, 1, (int)left);
    } else {
      sleep_ms(10);
    }
  }
  if (pidfd >= 0)
    close(pidfd);
  kill(pid, SIGKILL);
  waitpid(pid, &wstatus, 0);
  return H_TIMED_OUT;
}

/* ---- leftovers ---------------------------------------------------- */

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
  char *w = s;

  for (char *p = s; *p; p++) {
    if (p[0] == '\\' && p[1] >= '0' && p[1] <= '7' && p[2] >= '0' &&
        p[2] <= '7' && p[3] >= '0' && p[3] <= '7') {
      *w++ = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
      p += 3;
    } else {
      *w++ = *p;
    }
  }
  *w = '\0';
}

static bool path_under(const char *path, const char *prefix)
{
  size_t n = strlen(prefix);

  return strncmp(path, prefix, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

int h_mounts_under(const char *prefix, char **list)
{
  char *info = h_read_file("/proc/self/mountinfo");
  struct list l = {0};
  int count = 0;
  char *save = NULL;

  if (!info) {
    list_out(&l, list);
    return -1;
  }
  for (char *line = strtok_r(info, "\n", &save); line;
       line = strtok_r(NULL, "\n", &save)) {
    char mnt[4096], fstype[256] = "?";
    const char *sep = strstr(line, " - ");

    if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1)
      continue;
    unescape(mnt);
    if (!path_under(mnt, prefix))
      continue;
    if (sep)
      sscanf(sep + 3, "%255s", fstype);
    count++;
    list_add(&l, "%s (%s)", mnt, fstype);
  }
  free(info);
  list_out(&l, list);
  return count;
}

static bool link_has(const char *pid, const char *what, const char *marker)
{
  char path[300], target[PATH_MAX];
  ssize_t n;

  snprintf(path, sizeof path, "/proc/%s/%s", pid, what);
  n = readlink(path, target, sizeof target - 1);
  if (n < 0)
    return false;
  target[n] = '\0';
  return strstr(target, marker) != NULL;
}

static bool other_mnt_ns(const char *pid)
{
  char path[64], mine[64] = "", theirs[64] = "";
  ssize_t a, b;

  if (strlen(pid) > 20)
    return false;
  snprintf(path, sizeof path, "/proc/%s/ns/mnt", pid);
  a = readlink("/proc/self/ns/mnt", mine, sizeof mine - 1);
  b = readlink(path, theirs, sizeof theirs - 1);
  return a > 0 && b > 0 && strcmp(mine, theirs) != 0;
}

/* cmdline with NULs turned into spaces; "" for kernel threads. */
static char *cmdline_of(const char *pid, size_t *raw_len)
{
  char path[300];
  char *s;
  size_t len = 0;

  snprintf(path, sizeof path, "/proc/%s/cmdline", pid);
  s = read_file_cap(path, 1u << 16, &len);
  if (!s)
    return NULL;
  if (raw_len)
    *raw_len = len;
  return s;
}

static void spaces_for_nuls(char *s, size_t len)
{
  for (size_t i = 0; i + 1 < len; i++)
    if (s[i] == '\0')
      s[i] = ' ';
}

static bool tied_not_cmdline(const char *pid, const char *marker)
{
  char path[300];
  char *info;
  bool tied;

  if (link_has(pid, "root", marker) || link_has(pid, "cwd", marker))
    return true;
  if (!other_mnt_ns(pid))
    return false;
  snprintf(path, sizeof path, "/proc/%s/mountinfo", pid);
  info = read_file_cap(path, 4u << 20, NULL);
  tied = info && strstr(info, marker);
  free(info);
  return tied;
}

static bool is_pid_name(const char *s)
{
  if (!*s)
    return false;
  for (; *s; s++)
    if (*s < '0' || *s > '9')
      return false;
  return true;
}

int h_procs_tied(const char *marker, pid_t *pids, int max, char **list)
{
  DIR *d = opendir("/proc");
  struct dirent *e;
  struct list l = {0};
  int count = 0;
  pid_t self = getpid();

  if (!d) {
    list_out(&l, list);
    return -1;
  }
  while ((e = readdir(d))) {
    char *cmd;
    size_t len = 0;
    bool tied;

    if (!is_pid_name(e->d_name) || atoi(e->d_name) == self)
      continue;
    cmd = cmdline_of(e->d_name, &len);
    if (!cmd)
      continue; /* gone meanwhile */
    spaces_for_nuls(cmd, len);
    tied = strstr(cmd, marker) || tied_not_cmdline(e->d_name, marker);
    if (tied) {
      if (pids && count < max)
        pids[count] = atoi(e->d_name);
      count++;
      list_add(&l, "pid %s: %s", e->d_name, *cmd ? cmd : "(no cmdline)");
    }
    free(cmd);
  }
  closedir(d);
  list_out(&l, list);
  return count;
}

pid_t h_find_proc(const char *marker, const char *const args[])
{
  char want[4096];
  size_t want_len = 0;
  DIR *d;
  struct dirent *e;
  pid_t found = 0;

  for (int i = 0; args[i]; i++) {
    size_t n = strlen(args[i]) + 1;

    if (want_len + n > sizeof want)
      return 0;
    memcpy(want + want_len, args[i], n);
    want_len += n;
  }
  d = opendir("/proc");
  if (!d)
    return 0;
  while (!found && (e = readdir(d))) {
    size_t len = 0;
    char *cmd;

    if (!is_pid_name(e->d_name))
      continue;
    cmd = cmdline_of(e->d_name, &len);
    if (cmd && len == want_len && memcmp(cmd, want, len) == 0 &&
        tied_not_cmdline(e->d_name, marker))
      found = atoi(e->d_name);
    free(cmd);
  }
  closedir(d);
  return found;
}

pid_t h_poll_find(const char *marker, const char *const args[], int timeout_ms)
{
  long deadline = h_now_ms() + timeout_ms;

  for (;;) {
    pid_t pid = h_find_proc(marker, args);

    if (pid || h_now_ms() >= deadline)
      return pid;
    sleep_ms(10);
  }
}

bool h_pid_alive(pid_t pid)
{
  char path[64], *stat;
  bool alive;

  /* A zombie still has /proc/PID; only count a running process. */
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  stat = h_read_file(path);
  if (!stat)
    return false;
  {
    const char *rp = strrchr(stat, ')');

    alive = rp && rp[1] == ' ' && rp[2] != 'Z' && rp[2] != 'X';
  }
  free(stat);
  return alive;
}

int h_containers(const char *root, char ids[][65], int max)
{
  char path[PATH_MAX];
  DIR *d;
  struct dirent *e;
  int count = 0;

  snprintf(path, sizeof path, "%s/containers", root);
  d = opendir(path);
  if (!d)
    return 0;
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
      continue;
    if (ids && count < max) {
      size_t n = strnlen(e->d_name, 64);

      memcpy(ids[count], e->d_name, n);
      ids[count][n] = '\0';
    }
    count++;
  }
  closedir(d);
  return count;
}

/* ---- cgroups: one directory a container under mocker/ ---------------- */

#define MAX_CGROUPS 256
static char cgroup_baseline[MAX_CGROUPS][65];
static int cgroup_baseline_n;

/* Where container cgroups appear: the v2 tree, else v1's pids
 * hierarchy (every v1 container has one there). */
static const char *cgroup_parent(void)
{
  static const char *const dirs[] = {"/sys/fs/cgroup/mocker",
                                     "/sys/fs/cgroup/pids/mocker"};
  char probe[64];

  for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
    snprintf(probe, sizeof probe, "%s/..", dirs[i]);
    if (access(probe, F_OK) == 0 &&
        (i == 1 || access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0))
      return dirs[i];
  }
  return NULL;
}

static int list_cgroups(char names[][65], int max)
{
  const char *parent = cgroup_parent();
  DIR *d = parent ? opendir(parent) : NULL;
  struct dirent *de;
  int n = 0;

  while (d && (de = readdir(d)))
    if (strlen(de->d_name) == 64 && h_is_hex(de->d_name, 64) && n < max)
      snprintf(names[n++], 65, "%s", de->d_name);
  if (d)
    closedir(d);
  return n;
}

static bool in_baseline(const char *name)
{
  for (int i = 0; i < cgroup_baseline_n; i++)
    if (strcmp(cgroup_baseline[i], name) == 0)
      return true;
  return false;
}

int h_cgroups_new(char names[][65], int max)
{
  char now[MAX_CGROUPS][65];
  int n = list_cgroups(now, MAX_CGROUPS), found = 0;

  for (int i = 0; i < n; i++)
    if (!in_baseline(now[i]) && found < max)
      snprintf(names[found++], 65, "%s", now[i]);
  return found;
}

static int remove_cgroup_tree(const char *dir)
{
  DIR *d = opendir(dir);
  struct dirent *e;

  if (!d)
    return errno == ENOENT ? 0 : -1;
  while ((e = readdir(d)))
    if (e->d_type == DT_DIR && e->d_name[0] != '.') {
      char sub[PATH_MAX];
      snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name);
      remove_cgroup_tree(sub);
    }
  closedir(d);
  return rmdir(dir) < 0 && errno != ENOENT ? -1 : 0;
}

bool h_cgroup_tree_gone(void *name)
{
  DIR *d = opendir("/sys/fs/cgroup");
  struct dirent *e;
  char path[PATH_MAX];
  bool gone =
      remove_cgroup_tree((
          snprintf(path, sizeof(path), "/sys/fs/cgroup/%s", (const char *)name),
          path)) == 0;

  while (d && (e = readdir(d))) {
    if (e->d_type != DT_DIR || e->d_name[0] == '.')
      continue;
    snprintf(path, sizeof(path), "/sys/fs/cgroup/%s/%s", e->d_name,
             (const char *)name);
    if (remove_cgroup_tree(path) < 0)
      gone = false;
  }
  if (d)
    closedir(d);
  return gone;
}

bool h_cgroup_has_child(const char *name, const char *prefix)
{
  static const char *const roots[] = {"/sys/fs/cgroup/memory",
                                      "/sys/fs/cgroup"};
  char path[PATH_MAX];
  bool found = false;

  for (size_t i = 0; i < 2 && !found; i++) {
    snprintf(path, sizeof(path), "%s/%s", roots[i], name);
    DIR *d = opendir(path);
    struct dirent *e;
    while (d && (e = readdir(d)))
      found |= e->d_type == DT_DIR && e->d_name[0] != '.' &&
               strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    if (d)
      closedir(d);
  }
  return found;
}

void h_assert_no_leftovers(bool check_containers)
{
  char cgroups[4][65];
  int ncg;
  char *list = NULL;
  int n;

  n = h_mounts_under(h.dir, &list);
  ck_assert_msg(n == 0, "leftover mounts under %s:\n%s", h.dir, list);
  free(list);
  n = h_procs_tied(h.tag, NULL, 0, &list);
  ck_assert_msg(n == 0, "leftover processes tied to %s:\n%s", h.tag, list);
  free(list);
  if (check_containers) {
    char ids[8][65];

    n = h_containers(h.root, ids, 8);
    ck_assert_msg(n == 0,
                  "%d leftover container dir(s) in %s/containers, "
                  "first: %s",
                  n, h.root, n > 0 ? ids[0] : "");
  }
  ncg = h_cgroups_new(cgroups, 4);
  ck_assert_msg(ncg == 0, "%d leftover cgroup(s) under %s, first: %s", ncg,
                cgroup_parent(), ncg > 0 ? cgroups[0] : "");
}

/* ---- cleanup ------------------------------------------------------ */

int h_rm_entry(const char *path, const struct stat *st, int flag,
               struct FTW *ftw)
{
  (void)st;
  (void)ftw;
  if (flag == FTW_DP)
    rmdir(path);
  else
    unlink(path);
  return 0;
}

bool h_has_line(const char *text, const char *line)
{
  size_t n = strlen(line);

  for (const char *p = text; p && *p;) {
    const char *nl = strchr(p, '\n');
    size_t len = nl ? (size_t)(nl - p) : strlen(p);

    if (len == n && memcmp(p, line, n) == 0)
      return true;
    p = nl ? nl + 1 : NULL;
  }
  return false;
}

static void kill_tied(const char *marker)
{
  pid_t pids[256];
  int n = h_procs_tied(marker, pids, 256, NULL);

  for (int i = 0; i < n && i < 256; i++)
    kill(pids[i], SIGKILL);
  for (long deadline = h_now_ms() + 5000; h_now_ms() < deadline;) {
    if (h_procs_tied(marker, pids, 256, NULL) <= 0)
      break;
    sleep_ms(10);
  }
}

static void detach_mounts(const char *dir)
{
  for (int round = 0; round < 10; round++) {
    char *list = NULL, *save = NULL, *lines[1024];
    int n = h_mounts_under(dir, &list), k = 0;

    if (n <= 0) {
      free(list);
      return;
    }
    for (char *line = strtok_r(list, "\n", &save); line && k < 1024;
         line = strtok_r(NULL, "\n", &save)) {
      char *paren = strrchr(line, ' ');

      if (paren)
        *paren = '\0'; /* drop " (fstype)" */
      lines[k++] = line;
    }
    /* Deepest (latest) first. */
    while (k-- > 0)
      umount2(lines[k], MNT_DETACH);
    free(list);
  }
}

void h_cleanup_dir(const char *dir, const char *root)
{
  const char *marker;
  char ids[64][65];
  int n;

  /* Refuse anything not made by this harness. */
  if (strncmp(dir, BASE_PREFIX, strlen(BASE_PREFIX)) != 0 || !h_exists(dir))
    return;
  marker = dir + strlen("/tmp/");
  kill_tied(marker);
  if (root) {
    n = h_containers(root, ids, 64);
    for (int i = 0; i < n && i < 64; i++) {
      struct h_res r;

      run_root(root, &r, &(struct h_opts){.timeout_ms = 10000},
               H_ARGV("rm", "-f", ids[i]));
      h_res_free(&r);
    }
    kill_tied(marker);
  }
  detach_mounts(dir);
  nftw(dir, h_rm_entry, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
  rmdir(dir);
}

/* ---- fixtures ----------------------------------------------------- */

void h_suite_setup(void)
{
  snprintf(base_dir, sizeof base_dir, BASE_PREFIX "XXXXXX");
  if (!mkdtemp(base_dir)) {
    fprintf(stderr, "harness: mkdtemp %s: %s\n", base_dir, strerror(errno));
    exit(1);
  }
  chmod(base_dir, 0755);
}

void h_suite_teardown(void)
{
  DIR *d;
  struct dirent *e;

  if (!base_dir[0])
    return;
  d = opendir(base_dir);
  while (d && (e = readdir(d))) {
    char dir[PATH_MAX + 256], root[PATH_MAX + 264];

    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
      continue;
    snprintf(dir, sizeof dir, "%s/%s", base_dir, e->d_name);
    snprintf(root, sizeof root, "%s/root", dir);
    h_cleanup_dir(dir, root);
  }
  if (d)
    closedir(d);
  h_cleanup_dir(base_dir, NULL);
  base_dir[0] = '\0';
}

void h_test_setup(void)
{
  memset(&h, 0, sizeof h);
  ck_assert_msg(base_dir[0], "h_suite_setup did not run");
  h_fmt(h.dir, sizeof h.dir, "%s/t.XXXXXX", base_dir);
  ck_assert_msg(mkdtemp(h.dir), "mkdtemp %s: %s", h.dir, strerror(errno));
  chmod(h.dir, 0755);
  h_fmt(h.root, sizeof h.root, "%s/root", h.dir);
  h_fmt(h.host, sizeof h.host, "%s/host", h.dir);
  ck_assert_msg(mkdir(h.root, 0755) == 0, "mkdir %s", h.root);
  ck_assert_msg(mkdir(h.host, 0755) == 0, "mkdir %s", h.host);
  h_fmt(h.tag, sizeof h.tag, "%s", h.dir + strlen("/tmp/"));
  cgroup_baseline_n = list_cgroups(cgroup_baseline, MAX_CGROUPS);
  ignore_sigpipe();
}

void h_test_teardown(void)
{
  h_assert_no_leftovers(true);
  h_cleanup_dir(h.dir, h.root);
}

TCase *h_tcase(const char *name, double timeout_s)
{
  TCase *tc = tcase_create(name);

  tcase_add_unchecked_fixture(tc, h_suite_setup, h_suite_teardown);
  tcase_add_checked_fixture(tc, h_test_setup, h_test_teardown);
  tcase_set_timeout(tc, timeout_s);
  return tc;
}

int h_main(Suite *s)
{
  SRunner *sr = srunner_create(s);
  char why[256];
  int failed;

  if (geteuid() != 0) {
    fprintf(stderr, "harness: the integration tests must run as root\n");
    srunner_free(sr);
    return 1;
  }
  if (access(h_mocker(), X_OK) != 0) {
    fprintf(stderr, "harness: %s is not executable (set MOCKER)\n", h_mocker());
    srunner_free(sr);
    return 1;
  }
  /* Containers default to bridge networking: every suite runs in a
   * network namespace of its own, even when started by hand, so no test
   * ever adds a bridge, veth, nftables rule or forwarding to the host's. */
  if (nsb_unshare_net(why, sizeof(why)) < 0) {
    fprintf(stderr, "harness: %s\n", why);
    srunner_free(sr);
    return 1;
  }
  srunner_run_all(sr, getenv("CK_VERBOSITY") ? CK_ENV : CK_VERBOSE);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? 0 : 1;
}
