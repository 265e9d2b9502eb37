/* The networking suite's throwaway network: see netsandbox.h. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "netsandbox.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NSB_TIMED_OUT (-1000)
#define NSB_NO_RUN (-1001)
#define NSB_CMD_MS 10000
#define NSB_READY_MS 10000
#define NSB_DRAIN_MS 2000
#define NSB_OUT_MAX (4u << 20)

/* ---- small utilities ---------------------------------------------- */

static long now_ms(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void nap_ms(long ms)
{
  struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

  while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
    ;
}

static void set_err(char *err, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t size, const char *fmt, ...)
{
  va_list ap;

  if (!err || size == 0)
    return;
  va_start(ap, fmt);
  vsnprintf(err, size, fmt, ap);
  va_end(ap);
}

static int write_text(const char *path, const char *text, mode_t mode)
{
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  size_t len = strlen(text);
  ssize_t w;

  if (fd < 0)
    return -1;
  w = write(fd, text, len);
  if (fchmod(fd, mode) < 0 || close(fd) < 0 || w != (ssize_t)len)
    return -1;
  return 0;
}

/* Child side, before exec: die with the parent, default signals, no
 * blocked ones (the test harness ignores SIGPIPE, and exec keeps that). */
static void child_basics(pid_t parent)
{
  sigset_t none;

  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent)
    _exit(127);
  for (int sig = 1; sig < NSIG; sig++)
    signal(sig, SIG_DFL);
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
}

static int status_of(int wstatus)
{
  if (WIFEXITED(wstatus))
    return WEXITSTATUS(wstatus);
  if (WIFSIGNALED(wstatus))
    return -WTERMSIG(wstatus);
  return NSB_NO_RUN;
}

/* Waits for pid up to timeout_ms, SIGKILLs it past the deadline. */
static int wait_child(pid_t pid, int timeout_ms)
{
  long deadline = now_ms() + timeout_ms;
  int wstatus;

  for (;;) {
    pid_t w = waitpid(pid, &wstatus, WNOHANG);

    if (w == pid)
      return status_of(wstatus);
    if (w < 0 && errno != EINTR)
      return NSB_NO_RUN;
    if (now_ms() >= deadline)
      break;
    nap_ms(5);
  }
  kill(pid, SIGKILL);
  waitpid(pid, &wstatus, 0);
  return NSB_TIMED_OUT;
}

/* ---- network namespaces ------------------------------------------- */

static int link_set_up(const char *name, char *err, size_t errsize)
{
  struct ifreq ifr = {0};
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  int ret = -1;

  if (fd < 0) {
    set_err(err, errsize, "socket: %s", strerror(errno));
    return -1;
  }
  snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
  if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
    set_err(err, errsize, "SIOCGIFFLAGS %s: %s", name, strerror(errno));
  } else {
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
      set_err(err, errsize, "SIOCSIFFLAGS %s up: %s", name, strerror(errno));
    else
      ret = 0;
  }
  close(fd);
  return ret;
}

int nsb_unshare_net(char *err, size_t errsize)
{
  if (unshare(CLONE_NEWNET) < 0) {
    set_err(err, errsize, "unshare(CLONE_NEWNET): %s", strerror(errno));
    return -1;
  }
  return link_set_up("lo", err, errsize);
}

static int enter_netns(int netns_fd)
{
  return netns_fd < 0 ? 0 : setns(netns_fd, CLONE_NEWNET);
}

/* ---- running commands --------------------------------------------- */

struct capture {
  char *p;
  size_t len, cap;
  int fd; /* -1 once at EOF */
};

static void capture_read(struct capture *c)
{
  char tmp[8192];
  ssize_t n = read(c->fd, tmp, sizeof tmp);

  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return;
  if (n <= 0 || c->len + (size_t)n + 1 > NSB_OUT_MAX) {
    close(c->fd);
    c->fd = -1;
    return;
  }
  if (c->len + (size_t)n + 1 > c->cap) {
    size_t cap = c->cap ? c->cap : 4096;
    char *np;

    while (cap < c->len + (size_t)n + 1)
      cap *= 2;
    np = realloc(c->p, cap);
    if (!np)
      return;
    c->p = np;
    c->cap = cap;
  }
  memcpy(c->p + c->len, tmp, (size_t)n);
  c->len += (size_t)n;
  c->p[c->len] = '\0';
}

static void capture_step(struct capture *a, struct capture *b, int wait_ms)
{
  struct pollfd p[2];
  struct capture *who[2];
  nfds_t n = 0;

  if (a->fd >= 0) {
    who[n] = a;
    p[n++] = (struct pollfd){.fd = a->fd, .events = POLLIN};
  }
  if (b->fd >= 0) {
    who[n] = b;
    p[n++] = (struct pollfd){.fd = b->fd, .events = POLLIN};
  }
  if (n == 0) {
    nap_ms(wait_ms);
    return;
  }
  if (poll(p, n, wait_ms) <= 0)
    return;
  for (nfds_t i = 0; i < n; i++)
    if (p[i].revents)
      capture_read(who[i]);
}

static char *capture_take(struct capture *c)
{
  if (c->fd >= 0)
    close(c->fd);
  return c->p ? c->p : strdup("");
}

static void exec_child(pid_t parent, int netns_fd, int out, int err,
                       const char *const argv[])
{
  static const char *const dirs[] = {"/usr/sbin/", "/sbin/", "/usr/bin/",
                                     "/bin/"};
  int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
  char path[4096];

  child_basics(parent);
  if (enter_netns(netns_fd) < 0) {
    dprintf(err, "netsandbox: setns: %s\n", strerror(errno));
    _exit(126);
  }
  if (null < 0 || dup2(null, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
    _exit(126);
  execvp(argv[0], (char *const *)argv);
  /* sudo and cron often leave the sbin dirs out of PATH */
  for (size_t i = 0; !strchr(argv[0], '/') && i < 4; i++) {
    snprintf(path, sizeof path, "%s%s", dirs[i], argv[0]);
    execv(path, (char *const *)argv);
  }
  dprintf(2, "netsandbox: exec %s: %s\n", argv[0], strerror(errno));
  _exit(127);
}

int nsb_cmd(struct nsb_res *r, int netns_fd, int timeout_ms,
            const char *const argv[])
{
  struct capture out = {.fd = -1}, err = {.fd = -1};
  int po[2], pe[2], wstatus = 0;
  long deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : NSB_CMD_MS);
  long exited_at = -1;
  pid_t self = getpid(), pid;

  memset(r, 0, sizeof *r);
  r->status = NSB_NO_RUN;
  if (pipe2(po, O_CLOEXEC) < 0)
    goto fail;
  if (pipe2(pe, O_CLOEXEC) < 0) {
    close(po[0]);
    close(po[1]);
    goto fail;
  }
  pid = fork();
  if (pid == 0)
    exec_child(self, netns_fd, po[1], pe[1], argv);
  close(po[1]);
  close(pe[1]);
  out.fd = po[0];
  err.fd = pe[0];
  if (pid < 0)
    goto fail;
  for (;;) {
    long now = now_ms();

    if (exited_at < 0 && waitpid(pid, &wstatus, WNOHANG) == pid)
      exited_at = now;
    if (exited_at >= 0 && (out.fd < 0 && err.fd < 0))
      break;
    /* a daemon the command left behind may hold the pipes forever */
    if ((exited_at >= 0 && now - exited_at > NSB_DRAIN_MS) || now >= deadline)
      break;
    capture_step(&out, &err, 10);
  }
  if (exited_at < 0) {
    kill(pid, SIGKILL);
    waitpid(pid, &wstatus, 0);
    r->status = NSB_TIMED_OUT;
  } else {
    r->status = status_of(wstatus);
  }
fail:
  if (r->status == NSB_NO_RUN && !err.p) {
    char msg[256];

    snprintf(msg, sizeof msg, "netsandbox: cannot run %s: %s", argv[0],
             strerror(errno));
    err.p = strdup(msg);
  }
  r->out = capture_take(&out);
  r->err = capture_take(&err);
  return r->status;
}

void nsb_res_free(struct nsb_res *r)
{
  free(r->out);
  free(r->err);
  memset(r, 0, sizeof *r);
}

/* Runs argv and turns a failure into an error message. */
static int cmd_quiet(int netns_fd, const char *const argv[], char *err,
                     size_t errsize)
{
  struct nsb_res r;
  int status = nsb_cmd(&r, netns_fd, NSB_CMD_MS, argv);

  if (status != 0) {
    char cmd[512] = "";
    size_t off = 0;

    for (int i = 0; argv[i] && off < sizeof cmd; i++)
      off += (size_t)snprintf(cmd + off, sizeof cmd - off, "%s%s", i ? " " : "",
                              argv[i]);
    set_err(err, errsize, "`%s` failed (status %d): %s%s", cmd, status, r.err,
            r.out);
  }
  nsb_res_free(&r);
  return status == 0 ? 0 : -1;
}

#define NSB_ARGV(...) ((const char *const[]){__VA_ARGS__, NULL})

/* ---- sockets ------------------------------------------------------- */

static int sockaddr_of(struct sockaddr_in *sa, const char *ip, int port)
{
  memset(sa, 0, sizeof *sa);
  sa->sin_family = AF_INET;
  sa->sin_port = htons((uint16_t)port);
  return inet_pton(AF_INET, ip, &sa->sin_addr) == 1 ? 0 : -1;
}

static bool connect_here(const char *ip, int port, int timeout_ms)
{
  struct sockaddr_in sa;
  struct pollfd p;
  int fd, soerr = -1;
  socklen_t len = sizeof soerr;

  if (sockaddr_of(&sa, ip, port) < 0)
    return false;
  fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return false;
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
    close(fd);
    return true;
  }
  p = (struct pollfd){.fd = fd, .events = POLLOUT};
  if (errno == EINPROGRESS && poll(&p, 1, timeout_ms) == 1)
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
  close(fd);
  return soerr == 0;
}

bool nsb_tcp_connects(int netns_fd, const char *ip, int port, int timeout_ms)
{
  pid_t self = getpid(), pid;

  if (netns_fd < 0)
    return connect_here(ip, port, timeout_ms);
  pid = fork();
  if (pid < 0)
    return false;
  if (pid == 0) {
    child_basics(self);
    if (enter_netns(netns_fd) < 0)
      _exit(2);
    _exit(connect_here(ip, port, timeout_ms) ? 0 : 1);
  }
  return wait_child(pid, timeout_ms + 2000) == 0;
}

int nsb_tcp_listen(const char *ip, int port)
{
  struct sockaddr_in sa;
  int fd;

  if (sockaddr_of(&sa, ip, port) < 0)
    return -1;
  fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 8) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static int udp_send_here(const char *ip, int port, const void *data, size_t len)
{
  struct sockaddr_in sa;
  int fd, ret = 0;

  if (sockaddr_of(&sa, ip, port) < 0)
    return EINVAL;
  fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return errno;
  if (sendto(fd, data, len, 0, (struct sockaddr *)&sa, sizeof sa) < 0)
    ret = errno;
  close(fd);
  return ret;
}

int nsb_outside_udp_send(const struct nsb *s, const char *ip, int port,
                         const void *data, size_t len, char *err,
                         size_t errsize)
{
  pid_t self = getpid(), pid = fork();
  int status;

  if (pid < 0) {
    set_err(err, errsize, "fork: %s", strerror(errno));
    return -1;
  }
  if (pid == 0) {
    child_basics(self);
    if (enter_netns(s->outside_ns) < 0)
      _exit(errno & 0xff);
    _exit(udp_send_here(ip, port, data, len) & 0xff);
  }
  status = wait_child(pid, 5000);
  if (status != 0) {
    set_err(err, errsize, "udp send to %s:%d from the outside host: %s", ip,
            port, status > 0 ? strerror(status) : "child died");
    return -1;
  }
  return 0;
}

bool nsb_link_exists(const char *name)
{
  return if_nametoindex(name) != 0;
}

char *nsb_links_with_prefix(const char *prefix, int *count)
{
  struct if_nameindex *all = if_nameindex();
  size_t size = 1, len = 0;
  char *list;

  *count = 0;
  for (struct if_nameindex *i = all; i && i->if_index; i++)
    size += strlen(i->if_name) + 1;
  list = calloc(1, size);
  for (struct if_nameindex *i = all; list && i && i->if_index; i++) {
    if (strncmp(i->if_name, prefix, strlen(prefix)) != 0)
      continue;
    len += (size_t)snprintf(list + len, size - len, "%s\n", i->if_name);
    (*count)++;
  }
  if (all)
    if_freenameindex(all);
  return list;
}

/* ---- the outside host ---------------------------------------------- */

/* The outside host's process: a new network namespace, lo up, then it
 * tells the parent (a byte 0, or an errno) and waits to be killed. */
static void outside_main(pid_t parent, int ready)
{
  char err[NSB_ERR];
  unsigned char code = 0;

  child_basics(parent);
  if (nsb_unshare_net(err, sizeof err) < 0)
    code = (unsigned char)(errno ? errno : EIO);
  if (write(ready, &code, 1) != 1 || code)
    _exit(1);
  close(ready);
  for (;;)
    pause();
}

static int start_outside(struct nsb *s)
{
  int p[2];
  unsigned char code = EIO;
  char path[64];
  pid_t self = getpid();

  if (pipe2(p, O_CLOEXEC) < 0) {
    set_err(s->err, sizeof s->err, "pipe2: %s", strerror(errno));
    return -1;
  }
  s->outside = fork();
  if (s->outside == 0)
    outside_main(self, p[1]);
  close(p[1]);
  if (s->outside < 0 || read(p[0], &code, 1) != 1 || code) {
    set_err(s->err, sizeof s->err, "outside host: %s",
            s->outside < 0 ? strerror(errno) : strerror(code ? code : EIO));
    close(p[0]);
    return -1;
  }
  close(p[0]);
  snprintf(path, sizeof path, "/proc/%d/ns/net", (int)s->outside);
  s->outside_ns = open(path, O_RDONLY | O_CLOEXEC);
  if (s->outside_ns < 0) {
    set_err(s->err, sizeof s->err, "open %s: %s", path, strerror(errno));
    return -1;
  }
  return 0;
}

/* The veth pair, addresses and the sandbox's default route. */
static int wire_outside(struct nsb *s)
{
  char pid[32];
  const char *host_cidr = NSB_HOST_IP "/24", *out_cidr = NSB_OUTSIDE_IP "/24";

  snprintf(pid, sizeof pid, "%d", (int)s->outside);
  if (cmd_quiet(-1,
                NSB_ARGV("ip", "link", "add", NSB_UPLINK, "type", "veth",
                         "peer", "name", NSB_PEER, "netns", pid),
                s->err, sizeof s->err) < 0)
    return -1;
  s->uplink = true;
  if (cmd_quiet(s->outside_ns,
                NSB_ARGV("ip", "addr", "add", out_cidr, "dev", NSB_PEER),
                s->err, sizeof s->err) < 0 ||
      cmd_quiet(s->outside_ns, NSB_ARGV("ip", "link", "set", NSB_PEER, "up"),
                s->err, sizeof s->err) < 0 ||
      cmd_quiet(-1, NSB_ARGV("ip", "addr", "add", host_cidr, "dev", NSB_UPLINK),
                s->err, sizeof s->err) < 0 ||
      cmd_quiet(-1, NSB_ARGV("ip", "link", "set", NSB_UPLINK, "up"), s->err,
                sizeof s->err) < 0 ||
      cmd_quiet(
          -1, NSB_ARGV("ip", "route", "add", "default", "via", NSB_OUTSIDE_IP),
          s->err, sizeof s->err) < 0)
    return -1;
  return 0;
}

/* The document root: a file, and a CGI that echoes the client address. */
static int make_www(struct nsb *s, const char *dir)
{
  static const char cgi[] = "#!/bin/sh\n"
                            "echo 'Content-Type: text/plain'\n"
                            "echo\n"
                            "echo \"$REMOTE_ADDR\"\n";
  char path[PATH_MAX + 64];

  snprintf(s->www, sizeof s->www, "%s/www", dir);
  snprintf(path, sizeof path, "%s/cgi-bin", s->www);
  if ((mkdir(dir, 0755) < 0 && errno != EEXIST) ||
      (mkdir(s->www, 0755) < 0 && errno != EEXIST) ||
      (mkdir(path, 0755) < 0 && errno != EEXIST)) {
    set_err(s->err, sizeof s->err, "mkdir %s: %s", path, strerror(errno));
    return -1;
  }
  snprintf(path, sizeof path, "%s" NSB_FILE, s->www);
  if (write_text(path, NSB_FILE_TEXT "\n", 0644) < 0) {
    set_err(s->err, sizeof s->err, "write %s: %s", path, strerror(errno));
    return -1;
  }
  snprintf(path, sizeof path, "%s" NSB_ADDR_PATH, s->www);
  if (write_text(path, cgi, 0755) < 0) {
    set_err(s->err, sizeof s->err, "write %s: %s", path, strerror(errno));
    return -1;
  }
  return 0;
}

/* httpd in its own process group, so that nsb_stop also gets the
 * per-connection children it forks (and the CGIs they run). */
static int start_httpd(struct nsb *s)
{
  pid_t self = getpid();
  long deadline;

  s->httpd = fork();
  if (s->httpd < 0) {
    set_err(s->err, sizeof s->err, "fork: %s", strerror(errno));
    return -1;
  }
  if (s->httpd == 0) {
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);

    child_basics(self);
    setpgid(0, 0);
    if (enter_netns(s->outside_ns) < 0 || null < 0 || dup2(null, 0) < 0 ||
        dup2(null, 1) < 0)
      _exit(126);
    execl(NSB_BUSYBOX, "busybox", "httpd", "-f", "-p", NSB_OUTSIDE_IP ":80",
          "-h", s->www, (char *)NULL);
    dprintf(2, "netsandbox: exec " NSB_BUSYBOX ": %s\n", strerror(errno));
    _exit(127);
  }
  setpgid(s->httpd, s->httpd); /* also here: no race with nsb_stop */
  for (deadline = now_ms() + NSB_READY_MS; now_ms() < deadline; nap_ms(10)) {
    if (nsb_tcp_connects(-1, NSB_OUTSIDE_IP, 80, 1000))
      return 0;
    if (waitpid(s->httpd, NULL, WNOHANG) == s->httpd) {
      s->httpd = 0;
      set_err(s->err, sizeof s->err, "busybox httpd exited at start");
      return -1;
    }
  }
  set_err(s->err, sizeof s->err,
          "busybox httpd never answered on " NSB_OUTSIDE_IP ":80");
  return -1;
}

int nsb_start(struct nsb *s, const char *dir)
{
  memset(s, 0, sizeof *s);
  s->outside_ns = -1;
  if (make_www(s, dir) < 0 || start_outside(s) < 0 || wire_outside(s) < 0)
    return -1;
  return start_httpd(s);
}

void nsb_stop(struct nsb *s)
{
  char err[NSB_ERR];

  if (s->httpd > 0) {
    kill(-s->httpd, SIGKILL);
    kill(s->httpd, SIGKILL);
    waitpid(s->httpd, NULL, 0);
    s->httpd = 0;
  }
  /* Deleting one end deletes the pair. */
  if (s->uplink && nsb_link_exists(NSB_UPLINK))
    cmd_quiet(-1, NSB_ARGV("ip", "link", "del", NSB_UPLINK), err, sizeof err);
  s->uplink = false;
  if (s->outside > 0) {
    kill(s->outside, SIGKILL);
    waitpid(s->outside, NULL, 0);
    s->outside = 0;
  }
  if (s->outside_ns >= 0)
    close(s->outside_ns);
  s->outside_ns = -1;
}

int nsb_outside_cmd(const struct nsb *s, struct nsb_res *r, int timeout_ms,
                    const char *const argv[])
{
  return nsb_cmd(r, s->outside_ns, timeout_ms, argv);
}
