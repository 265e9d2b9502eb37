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
#include "container.h"
#include "context.h"
#include "mk_exit.h"
#include "mk_proto.h"
#include "mk_util.h"
#include "pull.h"
#include "runspec.h"
#include "session.h"
#include "store.h"
#include "terminal.h"

struct run {
  struct mk_ctx *ctx;
  struct mk_run_opts *opts;
  struct mk_image image;
  struct mk_container container;
  struct mk_runspec spec;
  struct mk_terminal term;
  struct mk_session session;
  char hostname[65];
  char **volume_sources; /* host paths after resolving symlinks */
  int created;
  sigset_t saved_mask;
};

/* Pulls ref for run, with progress on stderr as Docker does. */
static int pull_for_run(struct run *r, mk_error_t *err)
{
  struct mk_pull_opts opts = {.out = stderr};

  mk_platform_host(&opts.platform);
  signal(SIGPIPE, SIG_IGN);
  return mk_pull(r->ctx, r->opts->image, &opts, NULL, err);
}

static int find_image(struct run *r, mk_error_t *err)
{
  const char *ref = r->opts->image;
  int builtin = mk_store_is_builtin_ref(ref), found = 0;

  if (r->opts->pull == MK_PULL_ALWAYS && pull_for_run(r, err) < 0)
    return -1;
  found = mk_store_find(r->ctx, ref, &r->image, err);
  if (found != 0 || (r->opts->pull == MK_PULL_NEVER && !builtin))
    goto done;
  if (builtin) { /* embedded: always available, never needs the network */
    if (mk_store_ensure_builtin(r->ctx, err) < 0)
      return -1;
  } else {
    fprintf(stderr, "Unable to find image '%s' locally\n", ref);
    if (pull_for_run(r, err) < 0)
      return -1;
  }
  found = mk_store_find(r->ctx, ref, &r->image, err);
done:
  if (found < 0)
    return -1;
  if (found == 0)
    return mk_error_set(err, ENOENT, "No such image: %s", ref);
  return 0;
}

/* Docker creates a missing bind source as a directory, and resolves a
 * symlinked source once, on the host. */
static int resolve_volume_sources(struct run *r, mk_error_t *err)
{
  struct mk_run_opts *o = r->opts;

  r->volume_sources = calloc(o->nvolumes + 1, sizeof(char *));
  if (!r->volume_sources)
    return mk_error_set(err, ENOMEM, "out of memory");
  for (size_t i = 0; i < o->nvolumes; i++) {
    const char *src = o->volumes[i].source;
    if (access(src, F_OK) < 0 && mk_mkdir_p(src, 0755, err) < 0)
      return mk_error_prefix(err, "create volume source");
    r->volume_sources[i] = realpath(src, NULL);
    if (!r->volume_sources[i])
      return mk_error_sys(err, errno, "resolve volume source `%s`", src);
  }
  return 0;
}

static void etc_mount(struct mk_mount *m, const char *dir, const char *name,
                      char *buf, size_t size)
{
  if (snprintf(buf, size, "%s/%s", dir, name) >= (int)size)
    buf[0] = '\0'; /* cannot happen: dir is below a checked root */
  *m = (struct mk_mount){MK_MOUNT_BIND, 0, buf, NULL, ""};
}

static size_t collect_mounts(struct run *r, struct mk_mount *m,
                             char paths[3][PATH_MAX])
{
  static const char *const etc[] = {"hostname", "hosts", "resolv.conf"};
  static const char *const etc_targets[] = {"/etc/hostname", "/etc/hosts",
                                            "/etc/resolv.conf"};
  struct mk_run_opts *o = r->opts;
  size_t n = 0;

  for (size_t i = 0; i < 3; i++, n++) {
    etc_mount(&m[n], r->container.dir, etc[i], paths[i], PATH_MAX);
    m[n].target = etc_targets[i];
  }
  for (size_t i = 0; i < o->nvolumes; i++, n++)
    m[n] = (struct mk_mount){MK_MOUNT_BIND,
                             o->volumes[i].read_only ? MK_MNT_RDONLY : 0,
                             r->volume_sources[i], o->volumes[i].target, ""};
  for (size_t i = 0; i < o->ntmpfs; i++, n++)
    m[n] = (struct mk_mount){MK_MOUNT_TMPFS, o->tmpfs[i].flags, "tmpfs",
                             o->tmpfs[i].target, o->tmpfs[i].data};
  return n;
}

static int send_config(struct run *r, mk_error_t *err)
{
  struct mk_run_opts *o = r->opts;
  size_t nmounts = 3 + o->nvolumes + o->ntmpfs, len;
  char etc_paths[3][PATH_MAX];
  static uint8_t buf[MK_MSG_MAX];

  if (nmounts > MK_MAX_MOUNTS)
    return mk_error_set(err, E2BIG, "too many mounts (at most %d)",
                        MK_MAX_MOUNTS - 3);
  struct mk_mount *mounts = calloc(nmounts, sizeof(*mounts));
  if (!mounts)
    return mk_error_set(err, ENOMEM, "out of memory");
  struct mk_config cfg = {
      .flags = (o->tty ? MK_CFG_TTY : 0) | (o->interactive ? MK_CFG_STDIN : 0) |
               (o->read_only ? MK_CFG_READONLY : 0),
      .rootfs = r->container.rootfs,
      .hostname = r->hostname,
      .workdir = r->spec.workdir,
      .user = r->spec.user,
      .argc = r->spec.argv.n,
      .argv = (const char **)r->spec.argv.v,
      .envc = r->spec.env.n,
      .env = (const char **)r->spec.env.v,
      .nmounts = collect_mounts(r, mounts, etc_paths),
      .mounts = mounts,
  };
  if (o->tty)
    mk_terminal_get_size(STDIN_FILENO, &cfg.rows, &cfg.cols);
  int rc = mk_config_encode(&cfg, buf, sizeof(buf), &len, err);
  free(mounts);
  if (rc < 0)
    return -1;
  return mk_msg_send(r->session.child.sock, MK_MSG_CONFIG, buf, len, -1, err);
}

static void mark_started(struct mk_session *s, void *data)
{
  struct run *r = data;
  mk_error_t ignored;

  mk_container_set_state(&r->container, "running", s->workload_pid,
                         s->child.pid, 0, &ignored);
}

/* Signals a parent may have left ignored (shells: SIGINT and SIGQUIT for
 * background jobs; nohup: SIGHUP), which would then be lost and also be
 * inherited by the workload. */
static const int inheritable_ignores[] = {
    SIGHUP,  SIGINT,  SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2,
    SIGPIPE, SIGALRM, SIGTSTP, SIGTTIN, SIGTTOU, SIGWINCH,
};

/* Blocks every signal before clone3 so the child inherits the mask and
 * nothing sent during start-up is lost; we read them from a signalfd. */
static int block_signals(struct run *r, mk_error_t *err)
{
  sigset_t all;

  sigfillset(&all);
  if (sigprocmask(SIG_BLOCK, &all, &r->saved_mask) < 0)
    return mk_error_sys(err, errno, "block signals");
  /* A signal whose disposition is SIG_IGN is discarded, even when blocked,
   * and the ignoring would be inherited by init and the workload. A shell
   * starts background jobs with SIGINT and SIGQUIT ignored, so reset. */
  for (size_t i = 0; i < MK_ARRAY_SIZE(inheritable_ignores); i++)
    signal(inheritable_ignores[i], SIG_DFL);
  r->session.sigfd = signalfd(-1, &all, SFD_CLOEXEC | SFD_NONBLOCK);
  if (r->session.sigfd < 0)
    return mk_error_sys(err, errno, "signalfd");
  return 0;
}

/* In the clone3 child, inside the new mount namespace. */
static int mount_rootfs(void *data, mk_error_t *err)
{
  struct run *r = data;

  return mk_container_mount(&r->container, &r->image, err);
}

static int start_and_wait(struct run *r, mk_error_t *err)
{
  char init_path[PATH_MAX];
  _cleanup_close_ int init_fd = mk_open_init_binary(init_path, err);
  struct mk_session *s = &r->session;

  if (init_fd < 0)
    return -1;
  s->tty = r->opts->tty;
  s->interactive = r->opts->interactive;
  s->master = -1;
  s->child.pidfd = -1;
  s->child.sock = -1;
  s->on_started = mark_started;
  s->on_started_data = r;
  if (r->opts->tty && isatty(STDIN_FILENO) &&
      mk_terminal_make_raw(&r->term, STDIN_FILENO, err) < 0)
    return -1;
  if (block_signals(r, err) < 0 ||
      mk_spawn_init(init_fd, mount_rootfs, r, &s->child, err) < 0)
    return -1;
  if (send_config(r, err) < 0) {
    /* init is waiting for its config; it must not outlive this failure */
    mk_error_t ignored;
    syscall(SYS_pidfd_send_signal, s->child.pidfd, SIGKILL, NULL, 0);
    mk_session_run(s, &ignored);
    return -1;
  }
  return mk_session_run(s, err);
}

static int prepare(struct run *r, mk_error_t *err)
{
  struct mk_run_opts *o = r->opts;

  if (mk_ctx_prepare_root(r->ctx, err) < 0 || find_image(r, err) < 0 ||
      resolve_volume_sources(r, err) < 0)
    return -1;
  if (mk_container_create(r->ctx, &r->image, o->name, o->hostname,
                          &r->container, err) < 0)
    return -1;
  r->created = 1;
  snprintf(r->hostname, sizeof(r->hostname), "%s",
           o->hostname ? o->hostname : r->container.id);
  if (!o->hostname)
    r->hostname[MK_SHORT_ID_LEN] = '\0';
  return mk_runspec_build(o, r->image.config, r->hostname, &r->spec, err);
}

static int exit_status_of(const struct mk_session *s)
{
  if (s->have_failure)
    return s->fail_kind == MK_FAIL_EXEC
               ? mk_exit_code_for_exec_errno(s->failure.err)
               : MK_EXIT_MOCKER_FAILED;
  return mk_exit_code_from_wait(s->init_status);
}

/* Every exit path comes through here: terminal, mounts, state, --rm. */
static int finish(struct run *r, int status)
{
  mk_error_t err;

  mk_terminal_restore(&r->term);
  if (r->session.have_failure)
    mk_print_error(r->session.failure.msg);
  /* The overlay went with the container's mount namespace; removal (or
   * the unmount check) only guards against a leftover. */
  if (r->created && r->opts->rm) {
    if (mk_container_remove(r->ctx, &r->container, &err) < 0)
      mk_print_error(err.msg);
  } else if (r->created) {
    if (mk_container_unmount(&r->container, &err) < 0)
      mk_print_error(err.msg);
    mk_container_set_state(&r->container, "exited", 0, 0, status, &err);
  }
  if (r->created)
    mk_container_close(&r->container);
  mk_close(r->session.child.sock);
  mk_close(r->session.child.pidfd);
  mk_close(r->session.master);
  mk_close(r->session.sigfd);
  sigprocmask(SIG_SETMASK, &r->saved_mask, NULL);
  return status;
}

static int run_container(struct mk_ctx *ctx, struct mk_run_opts *o)
{
  struct run r = {.ctx = ctx, .opts = o};
  mk_error_t err = {0};
  int status;

  r.session.sigfd = r.session.master = -1;
  r.session.child.sock = r.session.child.pidfd = -1;
  sigprocmask(SIG_BLOCK, NULL, &r.saved_mask);
  if (prepare(&r, &err) < 0 || start_and_wait(&r, &err) < 0) {
    mk_terminal_restore(&r.term);
    mk_print_error(err.msg);
    if (r.session.child.pidfd >= 0)
      syscall(SYS_pidfd_send_signal, r.session.child.pidfd, SIGKILL, NULL, 0);
    status = finish(&r, MK_EXIT_MOCKER_FAILED);
  } else {
    status = finish(&r, exit_status_of(&r.session));
  }
  mk_runspec_free(&r.spec);
  mk_image_free(&r.image);
  for (size_t i = 0; r.volume_sources && r.volume_sources[i]; i++)
    free(r.volume_sources[i]);
  free(r.volume_sources);
  return status;
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
  if (o.tty && o.interactive && !isatty(STDIN_FILENO)) {
    mk_print_error("the input device is not a TTY");
    mk_run_opts_free(&o);
    return MK_EXIT_MOCKER_FAILED;
  }
  status = run_container(ctx, &o);
  mk_run_opts_free(&o);
  return status;
}
