#include "start.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "launch.h"
#include "endpoint.h"
#include "net/network.h"
#include "resources.h"
#include "mk_exit.h"
#include "mk_proto.h"
#include "mk_util.h"
#include "spawn.h"
#include "userns.h"

/* The fds mocker-monitor expects (see supervisor/monitor/main.c). */
enum { CTL_FD = 3, LOCK_FD, INIT_FD, ATTACH_FD };
#define MONITOR_FLAGS_MAX 8

static int self_dir(char out[PATH_MAX])
{
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

  if (n <= 0)
    return -1;
  self[n] = '\0';
  return mk_snprintf(out, PATH_MAX, "%s", dirname(self));
}

/* Beside mocker (the build tree), in MK_LIBEXECDIR, then in
 * ../libexec/mocker from mocker's directory: an install whose PREFIX
 * differs from the one mocker was compiled with, as mocker-init is found. */
int mk_monitor_path(char out[PATH_MAX], mk_error_t *err)
{
  char dir[PATH_MAX];
  int have_dir = self_dir(dir) == 0;

  if (have_dir && mk_snprintf(out, PATH_MAX, "%s/mocker-monitor", dir) == 0 &&
      access(out, X_OK) == 0)
    return 0;
  if (mk_snprintf(out, PATH_MAX, "%s/mocker-monitor", MK_LIBEXECDIR) == 0 &&
      access(out, X_OK) == 0)
    return 0;
  if (have_dir &&
      mk_snprintf(out, PATH_MAX, "%s/../libexec/mocker/mocker-monitor", dir) ==
          0 &&
      access(out, X_OK) == 0)
    return 0;
  return mk_error_set(err, ENOENT,
                      "cannot find mocker-monitor beside mocker "
                      "or in " MK_LIBEXECDIR);
}

struct handoff {
  int fds[4]; /* what lands on CTL_FD .. ATTACH_FD; -1 for none */
  char *argv[8];
};

/* In the forked child: leave the caller's session and terminal, put the
 * fds in place, and become the monitor. */
__attribute__((noreturn)) static void exec_monitor(struct handoff *h)
{
  int null = open("/dev/null", O_RDWR);
  sigset_t none;

  setsid();
  for (int i = 0; i < 4; i++) /* above ATTACH_FD first: no clobbering */
    if (h->fds[i] >= 0)
      h->fds[i] = fcntl(h->fds[i], F_DUPFD, 10);
  for (int i = 0; i < 4; i++)
    if (h->fds[i] >= 0 && dup2(h->fds[i], CTL_FD + i) < 0)
      _exit(MK_EXIT_MOCKER_FAILED);
  for (int i = 0; i < 3; i++)
    dup2(null, i);
  close_range(ATTACH_FD + 1, ~0U, 0);
  for (int sig = 1; sig < NSIG; sig++)
    signal(sig, SIG_DFL);
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  execv(h->argv[0], h->argv);
  _exit(MK_EXIT_MOCKER_FAILED);
}

static const char *monitor_flags(const struct mk_container *c, int attach_fd,
                                 char buf[MONITOR_FLAGS_MAX])
{
  json_t *cfg = json_object_get(c->config, "Config");
  char *p = buf;

  *p++ = '-';
  if (json_is_true(json_object_get(cfg, "Tty")))
    *p++ = 't';
  if (json_is_true(json_object_get(cfg, "OpenStdin")))
    *p++ = 'i';
  if (mk_container_config_bool(c, "HostConfig", "AutoRemove"))
    *p++ = 'r';
  switch (mk_container_net_mode(c, &(const char *){NULL})) {
  case MK_NET_BRIDGE: *p++ = 'n'; break;
  case MK_NET_HOST: *p++ = 'h'; break;
  default: break;
  }
  if (attach_fd >= 0)
    *p++ = 'a';
  *p = '\0';
  return buf;
}

static const char *log_max(const struct mk_container *c, char buf[32])
{
  json_t *lc =
      json_object_get(json_object_get(c->config, "HostConfig"), "LogConfig");
  const char *v = json_string_value(
      json_object_get(json_object_get(lc, "Config"), "max-size"));

  snprintf(buf, 32, "%s", v && *v ? v : "10485760");
  return buf;
}

/* --network container:X: X's namespace, for the monitor to join. */
static int send_netns(const struct mk_ctx *ctx, struct mk_container *c, int ctl,
                      mk_error_t *err)
{
  int fd, rc;

  if (mk_container_net_mode(c, &(const char *){NULL}) != MK_NET_CONTAINER)
    return 0;
  if ((fd = mk_net_join_fd(ctx, c, err)) < 0)
    return -1;
  rc = mk_msg_send(ctl, MK_MSG_NETNS, "", 1, fd, err);
  mk_close(fd);
  return rc;
}

static int send_userns(const struct mk_container *c, int ctl, mk_error_t *err)
{
  struct mk_userns u;

  if (mk_container_userns(c, &u, err) < 0)
    return -1;
  if (!mk_userns_active(&u))
    return 0;
  return mk_msg_send(ctl, MK_MSG_USERNS, &u, sizeof(u), -1, err);
}

static int send_launch(const struct mk_ctx *ctx, struct mk_container *c,
                       const struct mk_cgroup *cg, int ctl, mk_error_t *err)
{
  static uint8_t buf[MK_MSG_MAX];
  size_t len;
  const char *lower = json_string_value(json_object_get(
      json_object_get(json_object_get(c->config, "GraphDriver"), "Data"),
      "LowerDir"));

  if (!lower)
    return mk_error_set(err, EINVAL, "container %.12s has no image layers",
                        c->id);
  if (mk_msg_send(ctl, MK_MSG_LAYERS, lower, strlen(lower) + 1, -1, err) < 0 ||
      mk_msg_send(ctl, MK_MSG_CGROUP, cg, sizeof(*cg), -1, err) < 0 ||
      send_userns(c, ctl, err) < 0 || send_netns(ctx, c, ctl, err) < 0 ||
      mk_launch_encode(ctx, c, 0, 0, 0, buf, sizeof(buf), &len, err) < 0)
    return -1;
  return mk_msg_send(ctl, MK_MSG_CONFIG, buf, len, -1, err);
}

/* A monitor's answer: STARTED, or ERROR (forwarded from init). */
static int read_answer(int ctl, uint32_t type, char *buf, int n, int *status,
                       mk_error_t *err)
{
  uint32_t kind;

  *status = MK_EXIT_MOCKER_FAILED;
  if (n < 0)
    return -1;
  if (type == MK_MSG_STARTED)
    return 0;
  if (type != MK_MSG_ERROR)
    return mk_error_set(err, EPROTO, "the container's monitor exited early");
  if (mk_msg_decode_error(buf, (size_t)n, &kind, err, err) < 0)
    return -1;
  if (kind == MK_FAIL_EXEC)
    *status = mk_exit_code_for_exec_errno(err->err);
  /* The monitor closes its end when it is done recording the failure;
   * wait for that, so the container is not "running" once we return. */
  while (recv(ctl, buf, 1, 0) > 0)
    ;
  return -1;
}

/* The monitor answers STARTED, or ERROR, or dies. */
static int await_start(int ctl, int *status, mk_error_t *err)
{
  char buf[sizeof(struct mk_msg_error) + MK_ERROR_MSG_MAX];
  uint32_t type;
  int fd;
  int n = mk_msg_recv(ctl, &type, buf, sizeof(buf), &fd, err);

  mk_close(fd);
  return read_answer(ctl, type, buf, n, status, err);
}

/* Sends the sockets holding the published ports, then the go-ahead. */
static int hand_over_ports(int ctl, struct mk_net_held *held, mk_error_t *err)
{
  for (size_t i = 0; i < held->n; i++)
    if (mk_msg_send(ctl, MK_MSG_HOLD, "", 1, held->fds[i], err) < 0)
      return -1;
  return mk_msg_send(ctl, MK_MSG_NET_READY, "", 1, -1, err);
}

static const int stop_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

/* Bridge networking: the monitor has spawned init and sends its pidfd;
 * we wire the network up and hand over the sockets holding the published
 * ports. On failure the monitor is told, so it kills init. */
static int wire_network(const struct mk_ctx *ctx, struct mk_container *c,
                        int ctl, int *status, mk_error_t *err)
{
  char buf[sizeof(struct mk_msg_error) + MK_ERROR_MSG_MAX];
  struct mk_net_held held = {.n = 0};
  uint32_t type;
  int pidfd = -1, rc;
  int n = mk_msg_recv(ctl, &type, buf, sizeof(buf), &pidfd, err);

  if (n < 0 || type != MK_MSG_SPAWNED || pidfd < 0) {
    mk_close(pidfd);
    return read_answer(ctl, type, buf, n, status, err) == 0
               ? mk_error_set(err, EPROTO, "the monitor did not wait")
               : -1;
  }
  /* a Ctrl-C or SIGTERM now would leave a half-made endpoint behind */
  sigset_t stop, saved;
  sigemptyset(&stop);
  for (size_t i = 0; i < MK_ARRAY_SIZE(stop_signals); i++)
    sigaddset(&stop, stop_signals[i]);
  sigprocmask(SIG_BLOCK, &stop, &saved);
  rc = mk_net_attach(ctx, c, pidfd, &held, err);
  mk_close(pidfd);
  if (rc == 0 && hand_over_ports(ctl, &held, err) == 0) {
    mk_net_held_close(&held);
    rc = await_start(ctl, status, err);
    if (rc < 0) /* the monitor died, or init failed: the endpoint goes */
      mk_net_detach(ctx, c);
    sigprocmask(SIG_SETMASK, &saved, NULL);
    return rc;
  }
  sigprocmask(SIG_SETMASK, &saved, NULL);
  mk_net_held_close(&held);
  *status = MK_EXIT_MOCKER_FAILED;
  mk_msg_send_error(ctl, MK_FAIL_SETUP, err);
  mk_net_detach(ctx, c);
  while (recv(ctl, buf, 1, 0) > 0) /* until the monitor has cleaned up */
    ;
  return -1;
}

int mk_start_detached(const struct mk_ctx *ctx, struct mk_container *c,
                      int attach_fd, int *status, mk_error_t *err)
{
  char monitor[PATH_MAX], mocker[PATH_MAX], flags[MONITOR_FLAGS_MAX], max[32];
  _cleanup_close_ int init_fd = mk_open_init_sealed(err);
  int pair[2];
  ssize_t n;
  struct mk_cgroup cg;

  *status = MK_EXIT_MOCKER_FAILED;
  if (init_fd < 0 || mk_monitor_path(monitor, err) < 0 ||
      mk_container_cgroup_setup(c, &cg, err) < 0)
    return -1;
  n = readlink("/proc/self/exe", mocker, sizeof(mocker) - 1);
  mocker[n > 0 ? n : 0] = '\0';
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
    return mk_error_sys(err, errno, "socketpair");
  struct handoff h = {
      .fds = {pair[1], c->lockfd, init_fd, attach_fd},
      .argv = {monitor, c->dir, (char *)ctx->root, mocker, c->id,
               (char *)monitor_flags(c, attach_fd, flags),
               (char *)log_max(c, max), NULL},
  };
  pid_t pid = fork();
  if (pid < 0) {
    mk_error_t ignored;
    mk_close(pair[0]), mk_close(pair[1]);
    mk_cgroup_destroy(&cg, &ignored);
    return mk_error_sys(err, errno, "fork the monitor");
  }
  if (pid == 0)
    exec_monitor(&h);
  mk_close(pair[1]);
  /* The monitor is its own session now and outlives us; reap the fork
   * only if it died at once (it is never our zombie for long: it is
   * reparented when we exit). */
  int rc = send_launch(ctx, c, &cg, pair[0], err) < 0 ? -1
           : mk_container_net_mode(c, &(const char *){NULL}) == MK_NET_BRIDGE
               ? wire_network(ctx, c, pair[0], status, err)
               : await_start(pair[0], status, err);
  mk_close(pair[0]);
  waitpid(pid, NULL, WNOHANG);
  return rc;
}
