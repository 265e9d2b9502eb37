/* mocker-runtime create: the container built and its init waiting for
 * `start`, left to the caller (its subreaper) when create exits, as
 * runc's. The engine builds it exactly as for `mocker run`: the bundle's
 * config.json becomes a struct mk_spec (translate.c), then
 * mk_create_container, the cgroup, clone3 and mocker-init. */
#include "oci.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/validate.h"
#include "config.h"
#include "engine/container.h"
#include "engine/control.h"
#include "engine/create.h"
#include "engine/launch.h"
#include "engine/namespaces.h"
#include "engine/resources.h"
#include "engine/spawn.h"
#include "hooks.h"
#include "mk_proto.h"
#include "mk_state.h"
#include "mk_trace.h"
#include "mk_util.h"
#include "translate.h"

const char mk_oci_create_usage[] =
    "Usage:  " MK_OCI_PROGRAM " create [OPTIONS] CONTAINER-ID\n"
    "\n"
    "Create a container from a bundle; `start` runs its process\n"
    "\n"
    "Options:\n"
    "  -b, --bundle string          Bundle directory (default: the current "
    "one)\n"
    "      --pid-file string        Write the container's pid here\n"
    "      --console-socket string  Send the pty master to this unix socket\n"
    "      --no-pivot               Refused: mocker always uses pivot_root\n"
    "      --no-new-keyring         Accepted; a new session keyring is "
    "always made\n"
    "      --preserve-fds int       Refused unless 0\n"
    "  -h, --help                   Print usage\n";

enum {
  OPT_BUNDLE = 1,
  OPT_PID_FILE,
  OPT_CONSOLE_SOCKET,
  OPT_NO_PIVOT,
  OPT_NO_NEW_KEYRING,
  OPT_PRESERVE_FDS,
  OPT_HELP
};

const struct mk_flag mk_oci_create_flags[] = {
    {"bundle", 'b', 1, OPT_BUNDLE},
    {"pid-file", 0, 1, OPT_PID_FILE},
    {"console-socket", 0, 1, OPT_CONSOLE_SOCKET},
    {"no-pivot", 0, 0, OPT_NO_PIVOT},
    {"no-new-keyring", 0, 0, OPT_NO_NEW_KEYRING},
    {"preserve-fds", 0, 1, OPT_PRESERVE_FDS},
    {"help", 'h', 0, OPT_HELP},
    {NULL, 0, 0, 0},
};

struct create_opts {
  const char *bundle, *pid_file, *console_socket;
  int help;
};

static int apply(void *data, int id, const char *v, mk_error_t *err)
{
  struct create_opts *o = data;

  switch (id) {
  case OPT_BUNDLE: o->bundle = v; return 0;
  case OPT_PID_FILE: o->pid_file = v; return 0;
  case OPT_CONSOLE_SOCKET: o->console_socket = v; return 0;
  case OPT_NO_NEW_KEYRING: return 0;
  case OPT_HELP: o->help = 1; return 0;
  case OPT_NO_PIVOT:
    return mk_error_set(err, ENOTSUP,
                        "--no-pivot is refused: mocker always uses pivot_root");
  case OPT_PRESERVE_FDS:
    if (strcmp(v, "0") == 0)
      return 0;
    return mk_error_set(err, ENOTSUP, "--preserve-fds is not supported yet");
  }
  return mk_error_set(err, EINVAL, "unexpected option");
}

/* Everything create holds while it works, and undoes on failure. */
struct creation {
  struct mk_ctx *ctx;
  const struct create_opts *o;
  const char *id;
  char bundle[PATH_MAX], seccomp_file[PATH_MAX];
  struct mk_oci_config config;
  struct mk_oci_strings strings;
  struct mk_spec spec;
  struct mk_container c;
  int created, have_cgroup;
  /* init held until `start` (create); or, for run (with or without
   * -d), let go at once: no fifos, no second process to start it */
  int held;
  int console; /* --console-socket, connected before init is let go */
  struct mk_cgroup cgroup;
  struct mk_spawned child;
  int fifo;  /* <container>/exec.fifo, opened read-write, for init */
  int reply; /* <container>/started.fifo, the same: init answers start */
};

int mk_oci_write_pid_file(int dirfd, const char *name, const char *shown,
                          pid_t pid, mk_error_t *err)
{
  char tmp[PATH_MAX], text[24];
  int n = snprintf(text, sizeof(text), "%d", (int)pid);

  if (mk_snprintf(tmp, sizeof(tmp), "%s.mocker-tmp", name) < 0)
    return mk_error_set(err, ENAMETOOLONG, "--pid-file `%s`", shown);
  _cleanup_close_ int fd =
      openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
             0644);
  if (fd < 0 || mk_write_all(fd, text, (size_t)n) < 0 ||
      renameat(dirfd, tmp, dirfd, name) < 0) {
    int e = errno;
    unlinkat(dirfd, tmp, 0);
    return mk_error_sys(err, e, "write --pid-file `%s`", shown);
  }
  return 0;
}

int mk_oci_console_connect(const char *path, mk_error_t *err)
{
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  int s;

  if (strlen(path) >= sizeof(addr.sun_path))
    return mk_error_set(err, ENAMETOOLONG, "--console-socket `%s`", path);
  memcpy(addr.sun_path, path, strlen(path));
  s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0 || connect(s, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
    int e = errno;
    mk_close(s);
    return mk_error_sys(err, e, "connect to --console-socket `%s`", path);
  }
  return s;
}

int mk_oci_console_send(int sock, const char *path, int master,
                        mk_error_t *err)
{
  char cbuf[CMSG_SPACE(sizeof(int))] = {0};
  char name[] = "/dev/ptmx";
  struct iovec iov = {name, sizeof(name)};
  struct msghdr msg = {.msg_iov = &iov,
                       .msg_iovlen = 1,
                       .msg_control = cbuf,
                       .msg_controllen = sizeof(cbuf)};
  struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_RIGHTS;
  cm->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(cm), &master, sizeof(int));
  if (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0)
    return mk_error_sys(err, errno, "send the console to `%s`", path);
  return 0;
}

static int prepare_spec(struct creation *cr, mk_error_t *err)
{
  if (!realpath(cr->o->bundle, cr->bundle))
    return mk_error_sys(err, errno, "bundle `%s`", cr->o->bundle);
  if (mk_oci_config_load(cr->bundle, &cr->config, err) < 0)
    return -1;
  char nonce[33];
  if (mk_random_hex(nonce, 16, err) < 0 ||
      mk_root_path(cr->ctx, cr->seccomp_file, err, "/tmp-seccomp-%s.json",
                   nonce) < 0)
    return -1;
  if (mk_oci_to_spec(&cr->config, cr->bundle, cr->id, cr->seccomp_file,
                     &cr->strings, &cr->spec, err) < 0)
    return -1;
  if (cr->spec.tty && !cr->o->console_socket)
    return mk_error_set(err, EINVAL, "process.terminal needs --console-socket");
  if (!cr->spec.tty && cr->o->console_socket)
    return mk_error_set(err, EINVAL,
                        "--console-socket without process.terminal");
  return 0;
}

/* The bundle's rootfs, in the new mount namespace (spawn.h). */
static int mount_child(void *data, int userns_fd, mk_error_t *err)
{
  return mk_container_mount(data, userns_fd, err);
}

/* In the clone3 child, in the new namespaces: the domain name, OOM
 * score and personality. */
static int prepare_child(void *data, mk_error_t *err)
{
  return mk_container_child_settings(data, err);
}

static int make_fifo(struct creation *cr, const char *name, int *fd,
                     mk_error_t *err)
{
  char path[PATH_MAX];

  mk_snprintf(path, sizeof(path), "%s/%s", cr->c.dir, name);
  if (mkfifo(path, 0600) < 0)
    return mk_error_sys(err, errno, "mkfifo `%s`", path);
  /* read-write: init polls it (or writes to it) without ever seeing a
   * hangup or EPIPE, and needs no path (nor its /proc) to reach it */
  *fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (*fd < 0)
    return mk_error_sys(err, errno, "open `%s`", path);
  return 0;
}

/* The state document hooks read at this point of the container's life:
 * init's pid, the bundle, the annotations. */
static char *state_now(const struct creation *cr, const char *status)
{
  return mk_oci_hook_state(cr->id, status, cr->child.pid, cr->bundle,
                           json_object_get(cr->config.doc, "annotations"));
}

/* prestart, then createRuntime: in the runtime's namespaces, once the
 * container's exist, before init (waiting for its config) pivots. */
static int run_create_hooks(struct creation *cr, mk_error_t *err)
{
  const struct mk_oci_hooks *h = &cr->config.hook_list;

  if (!h->n[MK_OCI_HOOK_PRESTART] && !h->n[MK_OCI_HOOK_CREATE_RUNTIME])
    return 0;
  _cleanup_free_ char *state = state_now(cr, "creating");
  if (!state)
    return mk_error_set(err, ENOMEM, "out of memory");
  return mk_oci_hooks_run(h, MK_OCI_HOOK_PRESTART, state, err) < 0 ||
                 mk_oci_hooks_run(h, MK_OCI_HOOK_CREATE_RUNTIME, state, err) < 0
             ? -1
             : 0;
}

/* createContainer and startContainer hooks go to init with the config. */
static int add_init_hooks(struct creation *cr, uint8_t *buf, size_t cap,
                          size_t *len, mk_error_t *err)
{
  _cleanup_free_ char *creating = state_now(cr, "creating");
  _cleanup_free_ char *created = state_now(cr, "created");

  if (!creating || !created)
    return mk_error_set(err, ENOMEM, "out of memory");
  return mk_oci_hooks_to_init(&cr->config.hook_list, creating, created, buf,
                              cap, len, err);
}

static int send_config(struct creation *cr, mk_error_t *err)
{
  static uint8_t buf[MK_MSG_MAX];
  int fds[2] = {cr->fifo, cr->reply};
  size_t len;

  if (mk_launch_encode(cr->ctx, &cr->c, (uint16_t)cr->config.process.rows,
                       (uint16_t)cr->config.process.cols,
                       cr->held ? MK_CFG_HOLD : 0, buf, sizeof(buf), &len,
                       err) < 0 ||
      add_init_hooks(cr, buf, sizeof(buf), &len, err) < 0)
    return -1;
  return mk_msg_send_fds(cr->child.sock, MK_MSG_CONFIG, buf, len, fds,
                         cr->held ? 2 : 0, err);
}

/* Until init says it is built (MK_MSG_CREATED; held) or runs the
 * process (MK_MSG_STARTED; let go), or fails. */
static int wait_built(struct creation *cr, mk_error_t *err)
{
  static uint8_t buf[MK_MSG_MAX];
  uint32_t want = cr->held ? MK_MSG_CREATED : MK_MSG_STARTED;

  for (;;) {
    uint32_t type, kind;
    int fd = -1;
    int n = mk_msg_recv(cr->child.sock, &type, buf, sizeof(buf), &fd, err);
    if (n < 0)
      return -1;
    if (type == want) {
      mk_close(fd);
      return 0;
    }
    if (type == MK_MSG_PTY_MASTER) {
      const char *path = cr->o->console_socket;
      int rc = fd < 0 || cr->console < 0
                   ? mk_error_set(err, EPROTO, "an unasked-for pty")
                   : mk_oci_console_send(cr->console, path, fd, err);
      mk_close(fd);
      if (rc < 0)
        return -1;
      continue;
    }
    mk_close(fd);
    if (type == MK_MSG_ERROR) {
      mk_error_t e;
      if (mk_msg_decode_error(buf, (size_t)n, &kind, &e, err) < 0)
        return -1;
      *err = e;
      return -1;
    }
    return mk_error_set(err, EPROTO, "mocker-init ended before it was built");
  }
}

static int spawn_init(struct creation *cr, mk_error_t *err)
{
  _cleanup_close_ int init_fd = mk_open_init_sealed(err);
  struct mk_ns_plan plan;
  struct mk_userns userns;
  struct mk_spawn_hooks hooks = {.mount = mount_child,
                                 .prepare = prepare_child,
                                 .data = &cr->c,
                                 .userns = &userns};
  sigset_t all, saved;
  int rc;

  if (init_fd < 0 || mk_container_userns(&cr->c, &userns, err) < 0 ||
      mk_container_ns_plan(&cr->c, &plan, err) < 0)
    return -1;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, &saved);
  rc = mk_spawn_init_detached(init_fd, &cr->cgroup, &plan, &hooks, &cr->child,
                              err);
  sigprocmask(SIG_SETMASK, &saved, NULL);
  mk_ns_plan_close(&plan);
  if (rc < 0)
    return -1;
  MK_TRACE("clone3 done");
  if (run_create_hooks(cr, err) < 0 || send_config(cr, err) < 0)
    return -1;
  MK_TRACE("config sent");
  if (wait_built(cr, err) < 0)
    return -1;
  MK_TRACE(cr->held ? "init built" : "init started the process");
  return 0;
}

/* A foreground run's poststart hooks: the process runs. A failing hook
 * is a warning, as after `start`. */
static void run_poststart(struct creation *cr)
{
  const struct mk_oci_hooks *h = &cr->config.hook_list;

  if (!h->n[MK_OCI_HOOK_POSTSTART])
    return;
  _cleanup_free_ char *state = state_now(cr, "running");
  if (state)
    mk_oci_hooks_run_warn(mk_oci_of(cr->ctx), h, MK_OCI_HOOK_POSTSTART, state);
}

/* created, or (a foreground run, let go) running already */
static int record_state(struct creation *cr, mk_error_t *err)
{
  struct mk_state *st = &cr->c.state;

  snprintf(st->status, sizeof(st->status), cr->held ? "created" : "running");
  if (!cr->held)
    mk_time_now_rfc3339(st->started_at, sizeof(st->started_at));
  st->pid = st->init_pid = cr->child.pid;
  st->init_start = mk_proc_start_time(cr->child.pid);
  mk_boot_id(st->boot_id);
  if (mk_container_save_state(&cr->c, err) < 0)
    return -1;
  return cr->o->pid_file ? mk_oci_write_pid_file(AT_FDCWD, cr->o->pid_file,
                                                cr->o->pid_file, cr->child.pid,
                                                err)
                         : 0;
}

static int create(struct creation *cr, mk_error_t *err)
{
  if (mk_validate_container_name(cr->id, err) < 0 ||
      mk_ctx_prepare_root(cr->ctx, err) < 0 || prepare_spec(cr, err) < 0)
    return -1;
  MK_TRACE("bundle config read");
  if (mk_create_container(cr->ctx, &cr->spec, &cr->c, err) < 0)
    return -1;
  MK_TRACE("container directory made");
  cr->created = 1;
  if (cr->held && (make_fifo(cr, "exec.fifo", &cr->fifo, err) < 0 ||
                   make_fifo(cr, MK_OCI_REPLY_FIFO, &cr->reply, err) < 0))
    return -1;
  /* a console socket that cannot be reached fails before anything of
   * the container runs; the pty master goes over this connection */
  if (cr->o->console_socket &&
      (cr->console = mk_oci_console_connect(cr->o->console_socket, err)) < 0)
    return -1;
  if (mk_container_cgroup_setup(&cr->c, &cr->cgroup, err) < 0)
    return -1;
  cr->have_cgroup = 1;
  MK_TRACE("cgroup made");
  if (spawn_init(cr, err) < 0 || record_state(cr, err) < 0)
    return -1;
  if (!cr->held)
    run_poststart(cr);
  return 0;
}

/* A failed create leaves nothing: init killed, cgroup and directory
 * gone. Then, as after delete, the poststop hooks (the spec's lifecycle
 * goes on at "destroy" when a create-time hook fails): they may undo
 * what a createRuntime hook did. */
static void undo(struct creation *cr)
{
  mk_error_t ignored;
  _cleanup_free_ char *state =
      cr->created && cr->config.hook_list.n[MK_OCI_HOOK_POSTSTOP]
          ? mk_oci_hook_state(cr->id, "stopped", 0, cr->bundle,
                              json_object_get(cr->config.doc, "annotations"))
          : NULL;

  if (cr->child.pidfd >= 0)
    syscall(SYS_pidfd_send_signal, cr->child.pidfd, SIGKILL, NULL, 0);
  if (cr->created && mk_remove_container(cr->ctx, &cr->c, 0, &ignored) == 0 &&
      state)
    mk_oci_hooks_run_warn(mk_oci_of(cr->ctx), &cr->config.hook_list,
                          MK_OCI_HOOK_POSTSTOP, state);
}

/* create's work, for create and run: the container built, init held
 * (create) or running the process (run); *init gets its pid (our child
 * until we exit). Once a process: the
 * creation (100 KB, mostly paths) lives in .bss, zero without a memset,
 * so that only the pages it uses are touched (each a page fault). */
static int create_container(struct mk_ctx *ctx, const struct create_opts *o,
                            const char *id, int held, pid_t *init,
                            mk_error_t *err)
{
  static struct creation cr;
  static int used;
  int rc;

  if (used++)
    return mk_error_set(err, EALREADY, "one container a process");
  cr.ctx = ctx, cr.o = o, cr.id = id, cr.held = held;
  cr.fifo = cr.reply = cr.console = -1;

  cr.child.pidfd = cr.child.sock = -1;
  mk_spec_init(&cr.spec);
  rc = create(&cr, err);
  if (rc < 0)
    undo(&cr);
  *init = rc < 0 ? -1 : cr.child.pid;
  if (cr.seccomp_file[0])
    unlink(cr.seccomp_file);
  mk_close(cr.fifo);
  mk_close(cr.reply);
  mk_close(cr.console);
  mk_close(cr.child.pidfd);
  mk_close(cr.child.sock);
  if (cr.created)
    mk_container_close(&cr.c);
  mk_spec_free(&cr.spec);
  mk_oci_config_free(&cr.config);
  return rc;
}

/* The flags and the one container id; 1 after --help, -1 on misuse. */
static int parse_create(int argc, char **argv, const char *verb,
                        struct create_opts *o, const char **id, mk_error_t *err)
{
  int next = mk_parse_flags(argc, argv, 1, mk_oci_create_flags, apply, o, err);

  if (next < 0)
    return -1;
  if (o->help) {
    fputs(mk_oci_create_usage, stdout);
    return 1;
  }
  if (next != argc - 1)
    return mk_error_set(err, EINVAL, "%s needs exactly one container id", verb);
  *id = argv[next];
  return 0;
}

int mk_oci_cmd_create(struct mk_ctx *ctx, int argc, char **argv)
{
  struct create_opts o = {.bundle = "."};
  mk_error_t err = {0};
  const char *id;
  pid_t init;
  int rc = parse_create(argc, argv, "create", &o, &id, &err);

  if (rc != 0)
    return rc > 0 ? 0 : mk_oci_fail(mk_oci_of(ctx), err.msg);
  return create_container(ctx, &o, id, 1, &init, &err) < 0
             ? mk_oci_fail(mk_oci_of(ctx), err.msg)
             : 0;
}

/* run: create, start, and (unless --detach) wait for the container and
 * exit with its status, as runc run. */
int mk_oci_cmd_run(struct mk_ctx *ctx, int argc, char **argv)
{
  struct create_opts o = {.bundle = "."};
  mk_error_t err = {0};
  const char *id;
  pid_t init;
  int status, detach = 0;

  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], "-d") == 0 || strcmp(argv[i], "--detach") == 0) {
      detach = 1;
      memmove(&argv[i], &argv[i + 1], (size_t)(argc - i) * sizeof(*argv));
      argc--;
      break;
    }
  int rc = parse_create(argc, argv, "run", &o, &id, &err);
  if (rc != 0)
    return rc > 0 ? 0 : mk_oci_fail(mk_oci_of(ctx), err.msg);
  /* created and started at once: init is never held, so neither the
   * start fifo nor a second look at the container is needed */
  if (create_container(ctx, &o, id, 0, &init, &err) < 0)
    return mk_oci_fail(mk_oci_of(ctx), err.msg);
  MK_TRACE("started");
  if (detach)
    return 0;
  while (waitpid(init, &status, 0) < 0 && errno == EINTR)
    ;
  MK_TRACE("init reaped");
  if (mk_oci_delete(ctx, id, 1, &err) < 0) /* runc run leaves nothing */
    mk_oci_fail(mk_oci_of(ctx), err.msg);
  MK_TRACE("deleted");
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
