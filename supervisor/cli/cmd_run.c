/* mocker run: create a container from an image, run it in the
 * foreground, and clean up after it. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "engine/container.h"
#include "engine/control.h"
#include "base/context.h"
#include "mk_exit.h"
#include "mk_proto.h"
#include "mk_trace.h"
#include "mk_util.h"
#include "engine/create.h"
#include "engine/launch.h"
#include "engine/endpoint.h"
#include "net/network.h"
#include "engine/resources.h"
#include "engine/start.h"
#include "engine/session.h"
#include "image/store.h"
#include "base/terminal.h"

struct run {
  struct mk_ctx *ctx;
  struct mk_run_opts *opts;
  struct mk_container container;
  struct mk_terminal term;
  struct mk_session session;
  struct mk_cgroup cgroup;
  struct mk_net_held held; /* the published ports, ours while it runs */
  int created, have_cgroup;
  sigset_t saved_mask;
};

static int send_config(struct run *r, mk_error_t *err)
{
  static uint8_t buf[MK_MSG_MAX];
  unsigned short rows = 0, cols = 0;
  size_t len;

  if (r->opts->spec.tty)
    mk_terminal_get_size(STDIN_FILENO, &rows, &cols);
  if (mk_launch_encode(r->ctx, &r->container, rows, cols, 0, buf, sizeof(buf),
                       &len, err) < 0)
    return -1;
  return mk_msg_send(r->session.child.sock, MK_MSG_CONFIG, buf, len, -1, err);
}

/* The foreground run is the container's monitor. */
static void mark_started(struct mk_session *s, void *data)
{
  struct mk_state *st = &((struct run *)data)->container.state;
  mk_error_t ignored;

  snprintf(st->status, sizeof(st->status), "running");
  st->pid = st->init_pid = s->child.pid;
  st->init_start = mk_proc_start_time(s->child.pid);
  mk_state_set_monitor(st, getpid());
  mk_time_now_rfc3339(st->started_at, sizeof(st->started_at));
  mk_container_save_state(&((struct run *)data)->container, &ignored);
}

/* In the clone3 child, inside the new mount namespace (spawn.h). */
static int mount_rootfs(void *data, int userns_fd, mk_error_t *err)
{
  struct run *r = data;

  return mk_container_mount(&r->container, userns_fd, err);
}

/* Which network namespace init starts in (spawn.h). */
static int netns_choice(struct run *r, int *netns, mk_error_t *err)
{
  switch (mk_container_net_mode(&r->container, &(const char *){NULL})) {
  case MK_NET_HOST: *netns = MK_NETNS_HOST; return 0;
  case MK_NET_CONTAINER:
    *netns = mk_net_join_fd(r->ctx, &r->container, err);
    return *netns < 0 ? -1 : 0;
  default: *netns = MK_NETNS_NEW; return 0;
  }
}

static int spawn_and_configure(struct run *r, int init_fd, mk_error_t *err)
{
  struct mk_session *s = &r->session;
  struct mk_userns userns;
  struct mk_spawn_hooks hooks = {
      .mount = mount_rootfs, .data = r, .userns = &userns};
  int netns, rc;

  if (mk_container_userns(&r->container, &userns, err) < 0 ||
      netns_choice(r, &netns, err) < 0)
    return -1;
  rc = mk_session_block_signals(s, &r->saved_mask, err) < 0 ||
               mk_spawn_init(init_fd, &r->cgroup, netns, &hooks, &s->child,
                             err) < 0
           ? -1
           : 0;
  if (netns >= 0)
    mk_close(netns);
  MK_TRACE("clone3 done");
  if (rc == 0)
    rc = mk_net_attach(r->ctx, &r->container, s->child.pidfd, &r->held, err);
  MK_TRACE("network attached");
  return rc == 0 ? send_config(r, err) : -1;
}

static int start_and_wait(struct run *r, mk_error_t *err)
{
  _cleanup_close_ int init_fd = mk_open_init_sealed(err);
  struct mk_session *s = &r->session;

  if (init_fd < 0)
    return -1;
  s->tty = r->opts->spec.tty;
  s->interactive = r->opts->interactive;
  s->master = -1;
  s->child.pidfd = -1;
  s->child.sock = -1;
  s->on_started = mark_started;
  s->on_started_data = r;
  if (r->opts->spec.tty && isatty(STDIN_FILENO) &&
      mk_terminal_make_raw(&r->term, STDIN_FILENO, err) < 0)
    return -1;
  if (mk_container_cgroup_setup(&r->container, &r->cgroup, err) < 0)
    return -1;
  r->have_cgroup = 1;
  MK_TRACE("cgroup made");
  if (spawn_and_configure(r, init_fd, err) < 0) {
    /* init is waiting for its config; it must not outlive this failure */
    mk_error_t ignored;
    if (s->child.pidfd >= 0) {
      syscall(SYS_pidfd_send_signal, s->child.pidfd, SIGKILL, NULL, 0);
      mk_session_run(s, &ignored);
    }
    return -1;
  }
  MK_TRACE("config sent");
  return mk_session_run(s, err);
}

static int exit_status_of(const struct mk_session *s)
{
  if (s->have_failure)
    return s->fail_kind == MK_FAIL_EXEC
               ? mk_exit_code_for_exec_errno(s->failure.err)
               : MK_EXIT_MOCKER_FAILED;
  return mk_exit_code_from_wait(s->init_status);
}

/* Whether the OOM killer struck (then say so), and the cgroup goes. */
static int release_cgroup(struct run *r)
{
  mk_error_t err;
  int oom;

  if (!r->have_cgroup)
    return 0;
  oom = mk_cgroup_oom_kills(&r->cgroup) > 0;
  if (oom)
    fprintf(stderr,
            "mocker: container %s ran out of memory: the kernel's OOM "
            "killer ended a process in it\n",
            r->container.name);
  if (mk_cgroup_destroy(&r->cgroup, &err) < 0)
    mk_print_error(err.msg);
  return oom;
}

/* Every exit path comes through here: terminal, mounts, cgroup, state,
 * --rm. */
static int finish(struct run *r, int status)
{
  mk_error_t err;
  int oom;

  mk_terminal_restore(&r->term);
  if (r->session.have_failure)
    mk_print_error(r->session.failure.msg);
  MK_TRACE("init reaped");
  oom = release_cgroup(r);
  MK_TRACE("cgroup removed");
  mk_net_held_close(&r->held);
  if (r->created)
    mk_net_detach(r->ctx, &r->container);
  /* The overlay went with the container's mount namespace; removal (or
   * the unmount check) only guards against a leftover. */
  if (r->created && r->opts->spec.auto_remove) {
    if (mk_remove_container(r->ctx, &r->container, 1, &err) < 0)
      mk_print_error(err.msg);
  } else if (r->created) {
    struct mk_state *st = &r->container.state;
    if (mk_container_unmount(&r->container, &err) < 0)
      mk_print_error(err.msg);
    snprintf(st->status, sizeof(st->status), "exited");
    st->exit_code = status;
    st->oom_killed = oom;
    st->pid = st->init_pid = 0;
    mk_time_now_rfc3339(st->finished_at, sizeof(st->finished_at));
    mk_container_save_state(&r->container, &err);
  }
  if (r->created)
    mk_container_close(&r->container);
  mk_close(r->session.child.sock);
  mk_close(r->session.child.pidfd);
  mk_close(r->session.master);
  mk_close(r->session.sigfd);
  sigprocmask(SIG_SETMASK, &r->saved_mask, NULL);
  MK_TRACE("finished");
  return status;
}

/* run -d: the container's monitor takes over its lock and its life. */
static int run_detached(struct run *r)
{
  mk_error_t err = {0};
  int status;

  if (mk_start_detached(r->ctx, &r->container, -1, &status, &err) < 0) {
    mk_print_error(err.msg);
    /* --rm: a container that never ran goes too (one that ran and
     * failed was removed by its monitor already) */
    if (r->opts->spec.auto_remove && access(r->container.dir, F_OK) == 0 &&
        mk_remove_container(r->ctx, &r->container, 1, &err) < 0)
      mk_print_error(err.msg);
    mk_container_close(&r->container);
    return status;
  }
  puts(r->container.id);
  mk_container_close(&r->container);
  return 0;
}

static int run_container(struct mk_ctx *ctx, struct mk_run_opts *o)
{
  struct run r = {.ctx = ctx, .opts = o};
  mk_error_t err = {0};

  r.session.sigfd = r.session.master = -1;
  r.session.child.sock = r.session.child.pidfd = -1;
  sigprocmask(SIG_BLOCK, NULL, &r.saved_mask);
  if (mk_create_container(ctx, &o->spec, &r.container, &err) < 0) {
    mk_print_error(err.msg);
    return MK_EXIT_MOCKER_FAILED;
  }
  MK_TRACE("container created");
  r.created = 1;
  if (o->detach)
    return run_detached(&r);
  if (start_and_wait(&r, &err) < 0) {
    mk_terminal_restore(&r.term);
    mk_print_error(err.msg);
    if (r.session.child.pidfd >= 0)
      syscall(SYS_pidfd_send_signal, r.session.child.pidfd, SIGKILL, NULL, 0);
    return finish(&r, MK_EXIT_MOCKER_FAILED);
  }
  return finish(&r, exit_status_of(&r.session));
}

int mk_cmd_run(struct mk_ctx *ctx, int argc, char **argv)
{
  struct mk_run_opts o;
  mk_error_t err = {0};
  int status;

  if (mk_parse_run_args(argc, argv, &o, &err) < 0) {
    mk_print_error(err.msg);
    fputs("See 'mocker run --help'.\n", stderr);
    mk_run_opts_free(&o);
    return MK_EXIT_MOCKER_FAILED;
  }
  if (o.help) {
    fputs(mk_run_usage, stdout);
    mk_run_opts_free(&o);
    return 0;
  }
  if (o.spec.tty && o.interactive && !o.detach && !isatty(STDIN_FILENO)) {
    mk_print_error("the input device is not a TTY");
    mk_run_opts_free(&o);
    return MK_EXIT_MOCKER_FAILED;
  }
  status = run_container(ctx, &o);
  mk_run_opts_free(&o);
  return status;
}
