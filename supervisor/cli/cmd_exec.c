/* mocker exec: runs a command inside a running container, in its
 * namespaces and root, as its workload runs.
 *
 * This process joins the container itself. It opens a pidfd for the
 * container's verified mocker-init, copies mocker-init into a sealed
 * memfd, blocks signals, then setns()es into all the container's
 * namespaces at once, which also sets its root and cwd to the container's
 * /. It then starts mocker-init in exec mode with clone3: that init lands
 * in the container's pid namespace, resolves the user from the
 * container's own /etc/passwd, opens the pty from the container's devpts,
 * starts the command and waits for it, while we run the session loop of
 * `run` (sig-proxy, pty copying, exit status).
 *
 * Ordering invariants: everything read from the host (the container's
 * config, an --env-file, mocker-init itself) is read before setns; after
 * it, this process touches no host path. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "engine/container.h"
#include "base/flags.h"
#include "engine/launch.h"
#include "isolation/cgroup.h"
#include "mk_exit.h"
#include "mk_proto.h"
#include "mk_util.h"
#include "engine/session.h"
#include "engine/spawn.h"
#include "base/strv.h"
#include "base/validate.h"
#include "base/terminal.h"

/* The cgroup namespace is joined by the child, after it entered the
 * container's cgroup (see struct mk_exec_join). */
#define JOINED_NAMESPACES                                                      \
  (CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET)

static const char usage[] =
    "Usage:  mocker exec [OPTIONS] CONTAINER COMMAND [ARG...]\n\n"
    "Execute a command in a running container\n\n"
    "Options:\n"
    "  -d, --detach            Detached mode: run command in the background\n"
    "  -e, --env list          Set environment variables\n"
    "      --env-file list     Read in a file of environment variables\n"
    "  -i, --interactive       Keep STDIN open even if not attached\n"
    "  -t, --tty               Allocate a pseudo-TTY\n"
    "  -u, --user string       Username or UID (format: "
    "\"<name|uid>[:<group|gid>]\")\n"
    "  -w, --workdir string    Working directory inside the container\n"
    "      --help              Print usage\n";

enum {
  OPT_DETACH = 1,
  OPT_ENV,
  OPT_ENV_FILE,
  OPT_INTERACTIVE,
  OPT_TTY,
  OPT_USER,
  OPT_WORKDIR,
  OPT_HELP,
};

const struct mk_flag mk_exec_flags[] = {
    {"detach", 'd', 0, OPT_DETACH},
    {"env", 'e', 1, OPT_ENV},
    {"env-file", 0, 1, OPT_ENV_FILE},
    {"interactive", 'i', 0, OPT_INTERACTIVE},
    {"tty", 't', 0, OPT_TTY},
    {"user", 'u', 1, OPT_USER},
    {"workdir", 'w', 1, OPT_WORKDIR},
    {"help", 0, 0, OPT_HELP},
    {NULL, 0, 0, 0},
};

struct exec_opts {
  int detach, interactive, tty, help;
  const char *user, *workdir; /* NULL: the container's */
  struct mk_strv env;         /* -e, in order */
  struct mk_strv env_file;    /* --env-file entries, read on the host */
  const char *container;
  char **cmd; /* NULL-terminated: the tail of argv */
  size_t ncmd;
};

struct exec {
  struct mk_ctx *ctx;
  struct exec_opts *o;
  struct mk_container c;
  int opened;
  struct mk_strv env;       /* what the command gets */
  int target_pidfd;         /* the container's mocker-init */
  int init_fd;              /* sealed copy of mocker-init */
  int devnull;              /* -d: the host's /dev/null */
  struct mk_security sec;   /* the workload's: an exec gets no more */
  struct mk_exec_join join; /* the container's cgroup, for the child */
  struct mk_terminal term;
  struct mk_session session;
  sigset_t saved_mask;
};

/* ---- options ---------------------------------------------------------- */

static int apply_option(void *data, int id, const char *value, mk_error_t *err)
{
  struct exec_opts *o = data;

  switch (id) {
  case OPT_DETACH: o->detach = 1; return 0;
  case OPT_ENV:
    if (mk_env_parse(&o->env, value, err) < 0)
      return mk_error_prefix(
          err, "invalid argument \"%s\" for \"-e, --env\" flag", value);
    return 0;
  case OPT_ENV_FILE: return mk_env_read_file(&o->env_file, value, err);
  case OPT_INTERACTIVE: o->interactive = 1; return 0;
  case OPT_TTY: o->tty = 1; return 0;
  case OPT_USER: o->user = value; return 0;
  case OPT_WORKDIR: o->workdir = value; return 0;
  case OPT_HELP: o->help = 1; return 0;
  }
  return mk_error_set(err, EINVAL, "unexpected option");
}

static int parse_args(int argc, char **argv, struct exec_opts *o,
                      mk_error_t *err)
{
  int i = mk_parse_flags(argc, argv, 1, mk_exec_flags, apply_option, o, err);

  if (i < 0 || o->help)
    return i < 0 ? -1 : 0;
  if (argc - i < 2)
    return mk_error_set(err, EINVAL,
                        "\"mocker exec\" requires at least 2 arguments.");
  if (o->workdir && mk_validate_workdir(o->workdir, err) < 0)
    return -1;
  o->container = argv[i];
  o->cmd = argv + i + 1;
  o->ncmd = (size_t)(argc - i - 1);
  return 0;
}

static void free_opts(struct exec_opts *o)
{
  mk_strv_free(&o->env);
  mk_strv_free(&o->env_file);
}

/* ---- before joining: everything read from the host -------------------- */

static int not_running(const struct exec *x, mk_error_t *err)
{
  return mk_error_set(err, ESRCH, "container %s is not running", x->c.name);
}

/* The container's Config.Env (HOSTNAME included), then --env-file, then
 * -e: Docker's order, the last one wins. */
static void build_env(struct exec *x)
{
  json_t *cfg = json_object_get(x->c.config, "Config"), *v;
  size_t i;

  json_array_foreach(json_object_get(cfg, "Env"), i, v)
  {
    if (json_is_string(v))
      mk_strv_setenv(&x->env, json_string_value(v));
  }
  for (i = 0; i < x->o->env_file.n; i++)
    mk_strv_setenv(&x->env, x->o->env_file.v[i]);
  for (i = 0; i < x->o->env.n; i++)
    mk_strv_setenv(&x->env, x->o->env.v[i]);
}

/* A pidfd for the container's mocker-init. The pid was verified against
 * its start time before pidfd_open and is verified again after it, so the
 * pidfd cannot belong to a recycled pid. */
/* The container's limits bind the exec too: the cgroup.procs files of
 * its cgroup are opened here, on the host, for the child to write itself
 * into. We never enter it ourselves: on v2, killing the container's
 * cgroup would take us with it. */
static int open_cgroup(struct exec *x, mk_error_t *err)
{
  struct mk_cgroup cg;
  char path[PATH_MAX];

  x->join.ns_pidfd = x->target_pidfd;
  if (mk_cgroup_locate(&cg, x->c.id, err) < 0)
    return err->err == ENOENT ? 0 : -1; /* a host without cgroups */
  if (!mk_cgroup_exists(&cg))
    return 0; /* started before cgroups were in use */
  if (cg.mode == MK_CGROUP_V2) {
    x->join.cgroup_dirfd = mk_cgroup_open_fd(&cg);
    if (x->join.cgroup_dirfd < 0)
      return mk_error_sys(err, errno, "open `%s`", cg.dirs[0]);
    return 0;
  }
  for (size_t i = 0; i < cg.ndirs; i++) {
    if (mk_snprintf(path, sizeof(path), "%s/%s", cg.dirs[i],
                    mk_cgroup_enter_file(&cg)) < 0)
      return mk_error_set(err, ENAMETOOLONG, "cgroup path too long");
    x->join.procs_fds[x->join.nfds] = open(path, O_WRONLY | O_CLOEXEC);
    if (x->join.procs_fds[x->join.nfds] < 0)
      return mk_error_sys(err, errno, "open `%s`", path);
    x->join.nfds++;
  }
  return 0;
}

static int open_target(struct exec *x, mk_error_t *err)
{
  pid_t pid;

  if (mk_container_open(x->ctx, x->o->container, &x->c, err) < 0)
    return -1;
  x->opened = 1;
  pid = mk_container_init_pid(&x->c);
  if (pid <= 0)
    return not_running(x, err);
  x->target_pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (x->target_pidfd < 0 && errno != ESRCH)
    return mk_error_sys(err, errno, "pidfd_open %d", pid);
  if (x->target_pidfd < 0 || !mk_proc_matches(pid, x->c.state.init_start))
    return not_running(x, err);
  if (open_cgroup(x, err) < 0)
    return -1;
  return mk_launch_security(x->ctx, &x->c, &x->sec, err);
}

/* ---- joining ---------------------------------------------------------- */

/* Non-dumpable before setns, as runc does: between clone3 and the exec of
 * the sealed init, the child is a copy of this process inside the
 * container's pid namespace, and its /proc/<pid>/exe is the host's
 * mocker. Without CAP_SYS_PTRACE, the container cannot open it then. */
static int join_container(struct exec *x, mk_error_t *err)
{
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
    return mk_error_sys(err, errno, "prctl PR_SET_DUMPABLE");
  if (setns(x->target_pidfd, JOINED_NAMESPACES) < 0) {
    if (errno == ESRCH)
      return not_running(x, err);
    return mk_error_sys(err, errno, "join the namespaces of container %s",
                        x->c.name);
  }
  return 0;
}

/* The host's /dev/null, opened before setns and checked to be the null
 * device. Opened after the join, the path would be the container's, and
 * the container's root could have swapped any device node in there
 * (issue 14, finding 1): this process is host root, outside the
 * container's device cgroup. */
static int open_host_devnull(mk_error_t *err)
{
  int fd = open("/dev/null", O_RDWR | O_NOCTTY | O_CLOEXEC);
  struct stat st;

  if (fd < 0)
    return mk_error_sys(err, errno, "open `/dev/null`");
  if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) ||
      st.st_rdev != makedev(1, 3)) {
    close(fd);
    return mk_error_set(err, EINVAL, "`/dev/null` is not the null device");
  }
  return fd;
}

/* -d: the command must not hold our stdout and stderr (whoever reads them
 * would wait for it to end), so init and the command get the host's
 * /dev/null, opened before the join; ours are put back once the child
 * has its copies. */
static int spawn_detached(struct exec *x, mk_error_t *err)
{
  int saved[3], ret;

  for (int fd = 0; fd < 3; fd++) {
    saved[fd] = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    dup2(x->devnull, fd);
  }
  ret = mk_spawn_exec_init(x->init_fd, &x->join, &x->session.child, err);
  for (int fd = 0; fd < 3; fd++) {
    if (saved[fd] >= 0)
      dup2(saved[fd], fd);
    else
      close(fd);
    mk_close(saved[fd]);
  }
  return ret;
}

static int send_config(struct exec *x, mk_error_t *err)
{
  static uint8_t buf[MK_MSG_MAX];
  const struct exec_opts *o = x->o;
  const char *workdir =
      mk_container_config_string(&x->c, "Config", "WorkingDir");
  const char *user = mk_container_config_string(&x->c, "Config", "User");
  unsigned short rows = 0, cols = 0;
  struct mk_config cfg = {0};
  size_t len;

  if (o->tty)
    mk_terminal_get_size(STDIN_FILENO, &rows, &cols);
  cfg.flags = MK_CFG_EXEC | (o->tty ? MK_CFG_TTY : 0) |
              (o->interactive ? MK_CFG_STDIN : 0);
  cfg.rows = rows;
  cfg.cols = cols;
  cfg.rootfs = "/"; /* already the container's: init builds nothing */
  cfg.hostname = "";
  cfg.workdir = o->workdir ? o->workdir : (workdir ? workdir : "");
  cfg.user = o->user ? o->user : (user ? user : "");
  cfg.argc = o->ncmd;
  cfg.argv = (const char **)o->cmd;
  cfg.envc = x->env.n;
  cfg.env = (const char **)x->env.v;
  cfg.flags |= x->sec.flags & MK_CFG_NO_NEW_PRIVS;
  cfg.caps = x->sec.caps;
  cfg.seccomp = x->sec.seccomp;
  cfg.seccomp_len = x->sec.seccomp_len;
  if (mk_config_encode(&cfg, buf, sizeof(buf), &len, err) < 0)
    return -1;
  return mk_msg_send(x->session.child.sock, MK_MSG_CONFIG, buf, len, -1, err);
}

/* -d: once the command runs, we let go of it. Shutting the socket down is
 * what tells init (which then exits and leaves the command to the
 * container's PID 1); our side reads EOF and the loop ends with init. */
static void let_go(struct mk_session *s, void *data)
{
  (void)data;
  shutdown(s->child.sock, SHUT_RDWR);
}

static void init_session(struct exec *x)
{
  struct mk_session *s = &x->session;

  s->tty = x->o->tty;
  s->interactive = x->o->interactive;
  s->master = -1;
  if (x->o->detach)
    s->on_started = let_go;
}

/* Host side first, then setns, then init in the container. */
static int start_and_wait(struct exec *x, mk_error_t *err)
{
  struct mk_session *s = &x->session;
  int spawned;

  if (open_target(x, err) < 0)
    return -1;
  build_env(x);
  x->init_fd = mk_open_init_sealed(err);
  if (x->init_fd < 0)
    return -1;
  init_session(x);
  if (x->o->detach && (x->devnull = open_host_devnull(err)) < 0)
    return -1;
  if (x->o->tty && isatty(STDIN_FILENO) &&
      mk_terminal_make_raw(&x->term, STDIN_FILENO, err) < 0)
    return -1;
  if (mk_session_block_signals(s, &x->saved_mask, err) < 0 ||
      join_container(x, err) < 0)
    return -1;
  spawned = x->o->detach
                ? spawn_detached(x, err)
                : mk_spawn_exec_init(x->init_fd, &x->join, &s->child, err);
  if (spawned < 0)
    return -1;
  if (send_config(x, err) < 0) {
    /* init is waiting for its config; it must not outlive this failure */
    mk_error_t ignored;
    syscall(SYS_pidfd_send_signal, s->child.pidfd, SIGKILL, NULL, 0);
    mk_session_run(s, &ignored);
    return -1;
  }
  return mk_session_run(s, err);
}

static int exit_status_of(const struct exec *x)
{
  const struct mk_session *s = &x->session;

  if (s->have_failure)
    return s->fail_kind == MK_FAIL_EXEC
               ? mk_exit_code_for_exec_errno(s->failure.err)
               : MK_EXIT_MOCKER_FAILED;
  if (x->o->detach)
    return s->started ? 0 : MK_EXIT_MOCKER_FAILED;
  return mk_exit_code_from_wait(s->init_status);
}

/* Every exit path comes through here. */
static int finish(struct exec *x, int status)
{
  mk_terminal_restore(&x->term);
  if (x->session.have_failure)
    mk_print_error(x->session.failure.msg);
  mk_close(x->session.child.sock);
  mk_close(x->session.child.pidfd);
  mk_close(x->session.master);
  mk_close(x->session.sigfd);
  mk_close(x->target_pidfd);
  mk_close(x->init_fd);
  mk_close(x->devnull);
  mk_strv_free(&x->env);
  mk_security_free(&x->sec);
  for (size_t i = 0; i < x->join.nfds; i++)
    mk_close(x->join.procs_fds[i]);
  mk_close(x->join.cgroup_dirfd);
  if (x->opened)
    mk_container_close(&x->c);
  sigprocmask(SIG_SETMASK, &x->saved_mask, NULL);
  return status;
}

static int exec_in_container(struct mk_ctx *ctx, struct exec_opts *o)
{
  struct exec x = {.ctx = ctx,
                   .o = o,
                   .target_pidfd = -1,
                   .init_fd = -1,
                   .devnull = -1,
                   .join = {.cgroup_dirfd = -1, .ns_pidfd = -1}};
  mk_error_t err = {0};

  x.session.sigfd = x.session.master = -1;
  x.session.child.sock = x.session.child.pidfd = -1;
  sigprocmask(SIG_BLOCK, NULL, &x.saved_mask);
  /* -d keeps no terminal and no stdin: nothing would be left to feed
   * them once we return. */
  if (o->detach)
    o->tty = o->interactive = 0;
  if (start_and_wait(&x, &err) < 0) {
    mk_terminal_restore(&x.term);
    mk_print_error(err.msg);
    if (x.session.child.pidfd >= 0)
      syscall(SYS_pidfd_send_signal, x.session.child.pidfd, SIGKILL, NULL, 0);
    return finish(&x, MK_EXIT_MOCKER_FAILED);
  }
  return finish(&x, exit_status_of(&x));
}

int mk_cmd_exec(struct mk_ctx *ctx, int argc, char **argv)
{
  struct exec_opts o = {0};
  mk_error_t err = {0};
  int status;

  if (parse_args(argc, argv, &o, &err) < 0) {
    mk_print_error(err.msg);
    fputs("See 'mocker exec --help'.\n", stderr);
    free_opts(&o);
    return MK_EXIT_MOCKER_FAILED;
  }
  if (o.help) {
    fputs(usage, stdout);
    free_opts(&o);
    return 0;
  }
  if (o.tty && o.interactive && !o.detach && !isatty(STDIN_FILENO)) {
    mk_print_error("the input device is not a TTY");
    free_opts(&o);
    return MK_EXIT_MOCKER_FAILED;
  }
  status = exec_in_container(ctx, &o);
  free_opts(&o);
  return status;
}
