/* mocker-runtime start, state, kill and delete: a container made by
 * create, found by its id (the engine's container name). No process
 * supervises it: whether it lives is read from its init's pid, checked
 * against the start time recorded at create, never trusted alone. */
#include "oci.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/validate.h"
#include "engine/container.h"
#include "engine/control.h"
#include "engine/resources.h"
#include "hooks.h"
#include "isolation/cgroup.h"
#include "mk_proto.h"
#include "mk_state.h"
#include "mk_util.h"

#define START_TIMEOUT_MS 10000

/* The container id, checked before it names anything on disk, then the
 * container, opened (and known to be a bundle's). */
int mk_oci_open(struct mk_ctx *ctx, const char *id, struct mk_container *c,
                mk_error_t *err)
{
  if (mk_validate_container_name(id, err) < 0)
    return -1;
  if (mk_container_open_name(ctx, id, c, err) < 0)
    return mk_error_set(err, ENOENT, "container %s does not exist", id);
  if (!c->config) { /* a create killed before it wrote config.json */
    mk_container_close(c);
    return mk_error_set(err, ENODATA,
                        "container %s was never made (delete --force "
                        "removes it)",
                        id);
  }
  if (!json_object_get(c->config, "Bundle")) {
    mk_container_close(c);
    return mk_error_set(err, ENOENT, "container %s does not exist", id);
  }
  return 0;
}

/* A pidfd of the container's init, or -1 when it is gone, has exited
 * (a zombie), or the pid is another process's now. */
int mk_oci_init_pidfd(const struct mk_container *c)
{
  const struct mk_state *st = &c->state;
  char boot[40];
  int fd;

  mk_boot_id(boot);
  if (st->init_pid <= 0 || strcmp(boot, st->boot_id) != 0)
    return -1;
  fd = (int)syscall(SYS_pidfd_open, st->init_pid, 0);
  if (fd < 0)
    return -1;
  /* checked after the open: the pidfd pins the process. A pidfd polls
   * readable once the process has exited: a zombie its reaper has not
   * collected yet is stopped too. */
  struct pollfd p = {.fd = fd, .events = POLLIN};
  if (!mk_proc_matches(st->init_pid, st->init_start) || poll(&p, 1, 0) != 0) {
    mk_close(fd);
    return -1;
  }
  return fd;
}

/* runtime-spec statuses: created, running or stopped. */
const char *mk_oci_status(const struct mk_container *c)
{
  _cleanup_close_ int fd = mk_oci_init_pidfd(c);

  if (fd < 0)
    return "stopped";
  if (strcmp(c->state.status, "created") == 0)
    return "created";
  return strcmp(c->state.status, "paused") == 0 ? "paused" : "running";
}

int mk_oci_usage_error(struct mk_ctx *ctx, const char *verb, int want)
{
  char msg[128];

  snprintf(msg, sizeof(msg), "%s needs %s", verb,
           want == 1 ? "a container id" : "a container id and a signal");
  return mk_oci_fail(mk_oci_of(ctx), msg);
}

/* ---- state ---- */

json_t *mk_oci_state_json(const char *id, const char *status, pid_t pid,
                          const char *bundle, json_t *annotations)
{
  return json_pack("{s:s, s:s, s:s, s:i, s:s, s:o}", "ociVersion", "1.1.0",
                   "id", id, "status", status, "pid", (int)pid, "bundle",
                   bundle ? bundle : "", "annotations",
                   annotations ? json_incref(annotations) : json_object());
}

int mk_oci_cmd_state(struct mk_ctx *ctx, int argc, char **argv)
{
  struct mk_container c;
  mk_error_t err = {0};

  if (argc != 2)
    return mk_oci_usage_error(ctx, "state", 1);
  if (mk_oci_open(ctx, argv[1], &c, &err) < 0)
    return mk_oci_fail(mk_oci_of(ctx), err.msg);
  const char *status = mk_oci_status(&c);
  json_auto_t *j = mk_oci_state_json(
      argv[1], status, strcmp(status, "stopped") == 0 ? 0 : c.state.init_pid,
      json_string_value(json_object_get(c.config, "Bundle")),
      json_object_get(c.config, "Annotations"));
  mk_container_close(&c);
  if (!j || json_dumpf(j, stdout, JSON_INDENT(2)) < 0)
    return mk_oci_fail(mk_oci_of(ctx), "encode the state");
  putchar('\n');
  return 0;
}

/* ---- start ---- */

/* The fifo init answers start on (MK_CFG_HOLD), opened before init is
 * let go; *fd is -1 for a container made before there was one, whose
 * start is not waited for. */
static int open_reply(const struct mk_container *c, int *fd, mk_error_t *err)
{
  char path[PATH_MAX];
  struct stat st;

  mk_snprintf(path, sizeof(path), "%s/" MK_OCI_REPLY_FIFO, c->dir);
  *fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
  if (*fd < 0)
    return errno == ENOENT ? 0 : mk_error_sys(err, errno, "open `%s`", path);
  if (fstat(*fd, &st) < 0 || !S_ISFIFO(st.st_mode)) {
    mk_close(*fd);
    *fd = -1;
    return mk_error_set(err, EINVAL, "`%s` is not start's fifo", path);
  }
  return 0;
}

/* After a failure init exits at once: wait for it (on the pidfd: it is
 * not our child), so that start returns on a stopped container. */
static void await_death(int pidfd)
{
  struct pollfd p = {.fd = pidfd, .events = POLLIN};

  if (poll(&p, 1, START_TIMEOUT_MS) != 1) {
    syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
    poll(&p, 1, START_TIMEOUT_MS);
  }
}

/* init's answer: started, or why not. The workload's own exec failure
 * is its exit status (126, 127) and not start's, as before there was an
 * answer; anything else (a startContainer hook) fails start. */
static int read_reply(int reply, int pidfd, mk_error_t *err)
{
  uint8_t buf[PIPE_BUF];
  uint32_t type, kind;
  mk_error_t e;
  int fd;
  int n = mk_msg_recv(reply, &type, buf, sizeof(buf), &fd, err);

  if (n < 0 && err->err == EAGAIN)
    type = 0; /* nothing: init died without a word */
  else if (n < 0)
    return mk_error_prefix(err, "read init's answer");
  if (type == MK_MSG_STARTED)
    return 0;
  if (type == MK_MSG_ERROR) {
    if (mk_msg_decode_error(buf, (size_t)n, &kind, &e, err) < 0)
      return -1;
    if (kind == MK_FAIL_EXEC)
      return 0;
    await_death(pidfd);
    *err = e;
    return -1;
  }
  await_death(pidfd);
  return type ? mk_error_set(err, EPROTO, "init answered start with %u", type)
              : mk_error_set(err, ESRCH, "the container's init died in start");
}

/* Until init answers, or dies: no deadline, as startContainer hooks have
 * none unless they ask for one. */
static int wait_started(int reply, int pidfd, mk_error_t *err)
{
  struct pollfd p[2] = {{.fd = reply, .events = POLLIN},
                        {.fd = pidfd, .events = POLLIN}};

  for (;;) {
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR)
        continue;
      return mk_error_sys(err, errno, "wait for the container's init");
    }
    if (p[0].revents || p[1].revents)
      return read_reply(reply, pidfd, err);
  }
}

/* Writes the byte init waits for into the fifo it reads, then waits for
 * its answer. init opened its end before it said it was built, so the
 * open cannot miss it; a pidfd check catches an init that died
 * meanwhile. */
static int release_init(const struct mk_container *c, int pidfd,
                        mk_error_t *err)
{
  char path[PATH_MAX];
  struct pollfd p = {.fd = pidfd, .events = POLLIN};
  _cleanup_close_ int reply = -1;

  if (open_reply(c, &reply, err) < 0)
    return -1;
  mk_snprintf(path, sizeof(path), "%s/exec.fifo", c->dir);
  _cleanup_close_ int fifo =
      open(path, O_WRONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  if (fifo < 0)
    return mk_error_sys(err, errno, "open `%s`", path);
  if (fstat(fifo, &st) < 0 || !S_ISFIFO(st.st_mode))
    return mk_error_set(err, EINVAL, "`%s` is not the start fifo", path);
  if (poll(&p, 1, 0) != 0)
    return mk_error_set(err, ESRCH, "the container's init died before start");
  signal(SIGPIPE, SIG_IGN); /* an init dying right now: EPIPE, not death */
  if (write(fifo, "0", 1) != 1)
    return mk_error_sys(err, errno, "write `%s`", path);
  unlink(path);
  if (reply < 0)
    return 0;
  mk_snprintf(path, sizeof(path), "%s/" MK_OCI_REPLY_FIFO, c->dir);
  unlink(path);
  return wait_started(reply, pidfd, err);
}

/* poststart: the process runs; a failing hook is only a warning. */
static void run_poststart(struct mk_ctx *ctx, const struct mk_container *c,
                          const char *id, const struct mk_oci_hooks *hooks)
{
  if (!hooks->n[MK_OCI_HOOK_POSTSTART])
    return;
  _cleanup_free_ char *state =
      mk_oci_hook_state(id, "running", c->state.init_pid,
                        json_string_value(json_object_get(c->config, "Bundle")),
                        json_object_get(c->config, "Annotations"));
  if (state)
    mk_oci_hooks_run_warn(mk_oci_of(ctx), hooks, MK_OCI_HOOK_POSTSTART, state);
}

int mk_oci_start(struct mk_ctx *ctx, const char *id, mk_error_t *err)
{
  struct mk_container c;
  struct mk_oci_hooks hooks = {0};
  int rc = -1;

  if (mk_oci_open(ctx, id, &c, err) < 0)
    return -1;
  _cleanup_close_ int pidfd = mk_oci_init_pidfd(&c);
  if (pidfd < 0 || strcmp(c.state.status, "created") != 0)
    mk_error_set(err, EINVAL, "cannot start a container that is %s",
                 mk_oci_status(&c));
  else if (mk_oci_hooks_of(&c, &hooks, err) == 0 &&
           release_init(&c, pidfd, err) == 0) {
    snprintf(c.state.status, sizeof(c.state.status), "running");
    mk_time_now_rfc3339(c.state.started_at, sizeof(c.state.started_at));
    rc = mk_container_save_state(&c, err);
    if (rc == 0)
      run_poststart(ctx, &c, id, &hooks);
  }
  mk_oci_hooks_free(&hooks);
  mk_container_close(&c);
  return rc;
}

int mk_oci_cmd_start(struct mk_ctx *ctx, int argc, char **argv)
{
  mk_error_t err = {0};

  if (argc != 2)
    return mk_oci_usage_error(ctx, "start", 1);
  return mk_oci_start(ctx, argv[1], &err) < 0
             ? mk_oci_fail(mk_oci_of(ctx), err.msg)
             : 0;
}

/* ---- kill ---- */

/* --all: every process in the container's cgroup. A paused container
 * stays frozen: signals reach it when it is resumed. */
static int kill_all(const struct mk_container *c, int sig, mk_error_t *err)
{
  struct mk_cgroup cg;

  if (mk_container_cgroup_locate(c, &cg, err) < 0)
    return -1;
  if (mk_cgroup_exists(&cg))
    mk_cgroup_signal_all(&cg, sig); /* frozen meanwhile: no pid reuse */
  return 0;
}

static int kill_container(struct mk_ctx *ctx, const char *id, int sig, int all,
                          mk_error_t *err)
{
  struct mk_container c;
  int rc = 0;

  if (mk_oci_open(ctx, id, &c, err) < 0)
    return -1;
  _cleanup_close_ int pidfd = mk_oci_init_pidfd(&c);
  if (pidfd < 0 && !all)
    rc = mk_error_set(err, ESRCH, "container %s is not running", id);
  else if (all)
    rc = kill_all(&c, sig, err); /* a stopped one: nothing left, success */
  else if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
    rc = mk_error_sys(err, errno, "signal container %s", id);
  mk_container_close(&c);
  return rc;
}

int mk_oci_cmd_kill(struct mk_ctx *ctx, int argc, char **argv)
{
  mk_error_t err = {0};
  int all =
      argc > 1 && (strcmp(argv[1], "--all") == 0 || strcmp(argv[1], "-a") == 0);
  int sig = SIGTERM;

  argv += all;
  argc -= all;
  if (argc < 2 || argc > 3)
    return mk_oci_usage_error(ctx, "kill", 1);
  if (argc == 3 && mk_parse_signo(argv[2], &sig, &err) < 0)
    return mk_oci_fail(mk_oci_of(ctx), err.msg);
  return kill_container(ctx, argv[1], sig, all, &err) < 0
             ? mk_oci_fail(mk_oci_of(ctx), err.msg)
             : 0;
}

/* ---- delete ---- */

/* A paused container's processes cannot die until thawed. */
static void thaw(const struct mk_container *c)
{
  struct mk_cgroup cg;
  mk_error_t ignored;

  if (strcmp(c->state.status, "paused") == 0 &&
      mk_container_cgroup_locate(c, &cg, &ignored) == 0)
    mk_cgroup_freeze(&cg, 0, &ignored);
}

/* SIGKILL, then wait (on the pidfd: init is not our child) for it. */
static int force_stop(int pidfd, mk_error_t *err)
{
  struct pollfd p = {.fd = pidfd, .events = POLLIN};

  if (syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0) < 0 &&
      errno != ESRCH)
    return mk_error_sys(err, errno, "kill the container");
  if (poll(&p, 1, START_TIMEOUT_MS) != 1)
    return mk_error_set(err, ETIMEDOUT, "the container did not die");
  return 0;
}

/* The directory and name a killed create left without a config.json;
 * the run lock proves no create is still at work on it. */
static int discard_unmade(struct mk_ctx *ctx, const char *id, mk_error_t *err)
{
  struct mk_container c;
  int rc;

  if (mk_container_open_name(ctx, id, &c, err) < 0)
    return -1;
  if (!c.name[0]) /* from config.json, which is missing */
    snprintf(c.name, sizeof(c.name), "%s", id);
  char config[PATH_MAX];
  mk_snprintf(config, sizeof(config), "%s/config.json", c.dir);
  if (mk_container_lock(&c, err) < 0)
    rc = -1;
  else if (access(config, F_OK) == 0) /* made meanwhile: not ours to take */
    rc = mk_error_set(err, EBUSY, "container %s is being made", id);
  else
    rc = mk_container_remove(ctx, &c, err);
  mk_container_close(&c);
  return rc;
}

/* What poststop hooks need, taken before the container is gone: its
 * hooks (NULL state: none to run) and its last state document. */
struct poststop {
  struct mk_oci_hooks hooks;
  char *state;
};

static void prepare_poststop(struct mk_ctx *ctx, const struct mk_container *c,
                             const char *id, struct poststop *p)
{
  mk_error_t err;

  memset(p, 0, sizeof(*p));
  if (mk_oci_hooks_of(c, &p->hooks, &err) < 0) {
    mk_oci_warn(mk_oci_of(ctx), err.msg); /* delete it all the same */
    return;
  }
  if (p->hooks.n[MK_OCI_HOOK_POSTSTOP])
    p->state = mk_oci_hook_state(
        id, "stopped", 0,
        json_string_value(json_object_get(c->config, "Bundle")),
        json_object_get(c->config, "Annotations"));
}

/* poststop: the container is gone; a failing hook is only a warning. */
static void run_poststop(struct mk_ctx *ctx, struct poststop *p, int deleted)
{
  if (deleted && p->state)
    mk_oci_hooks_run_warn(mk_oci_of(ctx), &p->hooks, MK_OCI_HOOK_POSTSTOP,
                          p->state);
  free(p->state);
  mk_oci_hooks_free(&p->hooks);
}

int mk_oci_delete(struct mk_ctx *ctx, const char *id, int force,
                  mk_error_t *err)
{
  struct mk_container c;
  struct poststop post;
  int rc = -1;

  if (mk_oci_open(ctx, id, &c, err) < 0) {
    if (force && err->err == ENODATA)
      return discard_unmade(ctx, id, err);
    return force && err->err == ENOENT ? 0 : -1; /* --force: idempotent */
  }
  prepare_poststop(ctx, &c, id, &post);
  _cleanup_close_ int pidfd = mk_oci_init_pidfd(&c);
  /* stricter than runc and crun: a created container is not stopped */
  if (pidfd >= 0 && !force)
    mk_error_set(err, EBUSY,
                 "cannot delete container %s that is not "
                 "stopped: %s",
                 id, mk_oci_status(&c));
  else if ((pidfd < 0 || (thaw(&c), force_stop(pidfd, err) == 0)) &&
           mk_container_lock(&c, err) == 0)
    rc = mk_remove_container(ctx, &c, 0, err);
  mk_container_close(&c);
  run_poststop(ctx, &post, rc == 0);
  return rc;
}

int mk_oci_cmd_delete(struct mk_ctx *ctx, int argc, char **argv)
{
  mk_error_t err = {0};
  int force = argc > 1 &&
              (strcmp(argv[1], "--force") == 0 || strcmp(argv[1], "-f") == 0);

  argv += force;
  argc -= force;
  if (argc != 2)
    return mk_oci_usage_error(ctx, "delete", 1);
  return mk_oci_delete(ctx, argv[1], force, &err) < 0
             ? mk_oci_fail(mk_oci_of(ctx), err.msg)
             : 0;
}
