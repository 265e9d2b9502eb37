#include "control.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "endpoint.h"
#include "isolation/cgroup.h"
#include "resources.h"
#include "volume.h"
#include "mk_trace.h"
#include "mk_util.h"
#include "base/validate.h"

static long long now_ms(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int remaining(long long deadline)
{
  if (deadline < 0)
    return -1;
  long long left = deadline - now_ms();
  return left > 0 ? (int)left : 0;
}

/* A pidfd for pid only if it still is the process that started at start:
 * opened first, checked after, so a recycled pid cannot slip in between. */
static int open_verified_pidfd(int pid, uint64_t start)
{
  int fd = pid > 0 ? (int)syscall(SYS_pidfd_open, pid, 0) : -1;

  if (fd >= 0 && !mk_proc_matches(pid, start)) {
    close(fd);
    return -1;
  }
  return fd;
}

int mk_container_signal(struct mk_container *c, int sig, mk_error_t *err)
{
  _cleanup_close_ int fd = -1;

  if (mk_container_refresh(c, err) < 0)
    return -1;
  fd = open_verified_pidfd(c->state.init_pid, c->state.init_start);
  if (strcmp(c->state.status, "running") != 0 || fd < 0)
    return mk_error_set(err, ESRCH, "container %s is not running", c->name);
  if (syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0) < 0)
    return mk_error_sys(err, errno, "signal container %s", c->name);
  return 0;
}

/* Waits for a pidfd to become readable (its process exited). */
static int wait_pidfd(int fd, long long deadline)
{
  struct pollfd p = {.fd = fd, .events = POLLIN};
  int n;

  while ((n = poll(&p, 1, remaining(deadline))) < 0 && errno == EINTR)
    ;
  return n > 0 ? 0 : 1;
}

int mk_container_wait_stopped(struct mk_container *c, int timeout_ms)
{
  long long deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
  struct timespec pause = {0, 5 * 1000 * 1000};
  mk_error_t ignored;

  mk_container_refresh(c, &ignored);
  /* The monitor ends right after recording the exit: wait for it. */
  _cleanup_close_ int mon =
      open_verified_pidfd(c->state.monitor_pid, c->state.monitor_start);
  if (mon >= 0 && wait_pidfd(mon, deadline) != 0)
    return 1;
  /* Without a verifiable monitor (state from an older run, or it is
   * exec'ing `mocker rm` for --rm), the run lock is the truth. */
  while (mk_container_is_running(c) && access(c->dir, F_OK) == 0) {
    if (deadline >= 0 && now_ms() >= deadline)
      return 1;
    nanosleep(&pause, NULL);
  }
  mk_container_refresh(c, &ignored);
  return 0;
}

/* The last resort, when a signal to init cannot end the container: init
 * is not yet recorded (a start that never finished), or it is stuck, say
 * under vfork for a workload that a seccomp profile keeps from exiting.
 * Everything in the container's cgroup is SIGKILLed (cgroup.kill on v2,
 * freezer + SIGKILL on v1), and with init gone the kernel tears the pid
 * namespace down. */
static void kill_cgroup(const struct mk_container *c)
{
  struct mk_cgroup cg;
  mk_error_t ignored;

  if (mk_container_cgroup_locate(c, &cg, &ignored) == 0)
    mk_cgroup_kill(&cg);
}

int mk_container_kill_and_wait(struct mk_container *c, int sig, int timeout_ms,
                               mk_error_t *err)
{
  mk_error_t ignored;
  int signalled = mk_container_signal(c, sig, &ignored) == 0;

  /* Not running any more is fine: we wanted it stopped. A SIGKILL that
   * found no init to take it goes to the cgroup at once. */
  if (sig == SIGKILL && !signalled && mk_container_is_running(c))
    kill_cgroup(c);
  if (mk_container_wait_stopped(c, timeout_ms) == 0)
    return 0;
  if (sig != SIGKILL)
    return mk_error_set(err, EBUSY, "container %s did not stop", c->name);
  kill_cgroup(c);
  if (mk_container_wait_stopped(c, MK_STOP_DEADLINE_MS) != 0)
    return mk_error_set(err, EBUSY,
                        "container %s did not stop, even with its cgroup "
                        "killed",
                        c->name);
  return 0;
}

static int stop_signal_of(const struct mk_container *c)
{
  const char *name = mk_container_config_string(c, "Config", "StopSignal");
  mk_error_t ignored;
  int sig;

  return name && mk_parse_signo(name, &sig, &ignored) == 0 ? sig : SIGTERM;
}

int mk_container_stop(struct mk_container *c, int timeout_s, mk_error_t *err)
{
  json_t *t =
      json_object_get(json_object_get(c->config, "Config"), "StopTimeout");

  if (timeout_s < 0)
    timeout_s = json_is_integer(t) ? (int)json_integer_value(t) : 10;
  if (!mk_container_is_running(c))
    return 0;
  if (mk_container_kill_and_wait(c, stop_signal_of(c), timeout_s * 1000, err) ==
      0)
    return 0;
  return mk_container_kill_and_wait(c, SIGKILL, MK_STOP_DEADLINE_MS, err);
}

int mk_remove_container(const struct mk_ctx *ctx, struct mk_container *c,
                        int volumes, mk_error_t *err)
{
  json_t *config = json_incref(c->config);
  struct mk_container copy = {.config = config};

  /* a monitor killed with SIGKILL leaves its (empty) cgroup behind, and
   * its network endpoint */
  mk_net_detach(ctx, c);
  MK_TRACE("network detached");
  int rc = mk_container_cgroup_remove(c, err);
  MK_TRACE("cgroup removed");
  if (rc < 0 || mk_container_remove(ctx, c, err) < 0) {
    json_decref(config);
    return -1;
  }
  if (volumes)
    mk_volume_remove_anonymous(ctx, &copy);
  json_decref(config);
  return 0;
}
