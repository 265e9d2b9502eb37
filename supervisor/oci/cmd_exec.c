/* mocker-runtime exec: one more process in a container, as runc exec.
 *
 * What to run is a runtime-spec process (--process FILE, what
 * containerd's shim and podman's conmon pass) or a command line with
 * runc's flags. The engine joins the container (engine/exec.c) and starts
 * mocker-init there in place: init becomes the command, so the command
 * stays our child. With --detach we return once it runs, and it passes to
 * our caller (a subreaper) with us; without, we wait for it, forwarding
 * signals, and exit with its status.
 *
 * After the join this process is in the container's mount namespace, so
 * every host path (the pid file's directory, the console socket, the
 * log) is opened before it. */
#include "oci.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/strv.h"
#include "config.h"
#include "engine/container.h"
#include "engine/exec.h"
#include "isolation/caps.h"
#include "mk_exit.h"
#include "mk_util.h"
#include "translate.h"

static const char usage[] =
    "Usage:  " MK_OCI_PROGRAM " exec [OPTIONS] CONTAINER-ID [COMMAND [ARG...]]\n"
    "\n"
    "Run one more process in a container\n"
    "\n"
    "Options:\n"
    "  -p, --process string         A runtime-spec process (JSON file)\n"
    "  -d, --detach                 Return once the process runs\n"
    "      --pid-file string        Write the process's pid here\n"
    "      --console-socket string  Send the pty master to this unix socket\n"
    "  -t, --tty                    Allocate a pseudo-TTY\n"
    "      --cwd string             Working directory in the container\n"
    "  -e, --env stringArray        Add an environment variable\n"
    "  -u, --user string            UID[:GID]\n"
    "  -g, --additional-gids int    Supplementary group (repeatable)\n"
    "  -c, --cap string             Keep this capability (repeatable; "
    "within the container's)\n"
    "      --no-new-privs           Set no_new_privs\n"
    "      --ignore-paused          Exec even into a paused container\n"
    "      --preserve-fds int       Refused unless 0\n"
    "      --apparmor, --process-label string  Ignored, with a warning\n"
    "  -h, --help                   Print usage\n";

enum {
  OPT_PROCESS = 1,
  OPT_DETACH,
  OPT_PID_FILE,
  OPT_CONSOLE_SOCKET,
  OPT_TTY,
  OPT_CWD,
  OPT_ENV,
  OPT_USER,
  OPT_GID,
  OPT_CAP,
  OPT_NO_NEW_PRIVS,
  OPT_IGNORE_PAUSED,
  OPT_PRESERVE_FDS,
  OPT_IGNORED,
  OPT_HELP,
};

const struct mk_flag mk_oci_exec_flags[] = {
    {"process", 'p', 1, OPT_PROCESS},
    {"detach", 'd', 0, OPT_DETACH},
    {"pid-file", 0, 1, OPT_PID_FILE},
    {"console-socket", 0, 1, OPT_CONSOLE_SOCKET},
    {"tty", 't', 0, OPT_TTY},
    {"cwd", 0, 1, OPT_CWD},
    {"env", 'e', 1, OPT_ENV},
    {"user", 'u', 1, OPT_USER},
    {"additional-gids", 'g', 1, OPT_GID},
    {"cap", 'c', 1, OPT_CAP},
    {"no-new-privs", 0, 0, OPT_NO_NEW_PRIVS},
    {"ignore-paused", 0, 0, OPT_IGNORE_PAUSED},
    {"preserve-fds", 0, 1, OPT_PRESERVE_FDS},
    {"apparmor", 0, 1, OPT_IGNORED},
    {"process-label", 0, 1, OPT_IGNORED},
    {"help", 'h', 0, OPT_HELP},
    {NULL, 0, 0, 0},
};

struct exec_opts {
  const char *process, *pid_file, *console_socket, *cwd, *user;
  int detach, tty, no_new_privs, ignore_paused, help;
  struct mk_strv env, gids, caps;
};

/* One exec, from the flags to the command's end. */
struct oci_exec {
  struct mk_ctx *ctx;
  struct exec_opts *o;
  const char *id;
  char **args; /* a command line after the id, or NULL */
  size_t nargs;
  struct mk_container c;
  int opened;
  json_t *doc; /* --process, parsed into p */
  struct mk_oci_process p;
  char user[32];
  struct mk_strv env;
  uint32_t groups[MK_OCI_MAX_GIDS];
  struct mk_rlimit rlimits[MK_OCI_MAX_RLIMITS];
  struct mk_exec_spec spec;
  struct mk_exec engine;
  struct mk_spawned child;
  int pid_dir;     /* --pid-file's directory, opened before the join */
  char *pid_name;  /* its last component */
  int console;     /* connected to --console-socket before the join */
  int sigfd;
  sigset_t saved_mask;
};

/* ---- options ---- */

static int apply(void *data, int id, const char *v, mk_error_t *err)
{
  struct exec_opts *o = data;

  switch (id) {
  case OPT_PROCESS: o->process = v; return 0;
  case OPT_DETACH: o->detach = 1; return 0;
  case OPT_PID_FILE: o->pid_file = v; return 0;
  case OPT_CONSOLE_SOCKET: o->console_socket = v; return 0;
  case OPT_TTY: o->tty = 1; return 0;
  case OPT_CWD: o->cwd = v; return 0;
  case OPT_ENV: mk_strv_push(&o->env, v); return 0;
  case OPT_USER: o->user = v; return 0;
  case OPT_GID: mk_strv_push(&o->gids, v); return 0;
  case OPT_CAP: mk_strv_push(&o->caps, v); return 0;
  case OPT_NO_NEW_PRIVS: o->no_new_privs = 1; return 0;
  case OPT_IGNORE_PAUSED: o->ignore_paused = 1; return 0;
  case OPT_PRESERVE_FDS:
    if (strcmp(v, "0") != 0)
      return mk_error_set(err, ENOTSUP,
                          "--preserve-fds is not supported: no descriptor "
                          "but stdio crosses into a container");
    return 0;
  case OPT_IGNORED:
    fprintf(stderr, "%s: warning: --apparmor and --process-label are "
                    "ignored: no AppArmor or SELinux here\n",
            MK_OCI_PROGRAM);
    return 0;
  case OPT_HELP: o->help = 1; return 0;
  }
  return mk_error_set(err, EINVAL, "unexpected option");
}

static void free_opts(struct exec_opts *o)
{
  mk_strv_free(&o->env);
  mk_strv_free(&o->gids);
  mk_strv_free(&o->caps);
}

/* ---- the process: --process, or the command line over the container's */

static int parse_uint32(const char *s, uint32_t *out)
{
  char *end;
  unsigned long v;

  errno = 0;
  v = strtoul(s, &end, 10);
  if (!*s || *end || errno || v > UINT32_MAX || *s == '-')
    return -1;
  *out = (uint32_t)v;
  return 0;
}

/* -u UID[:GID] */
static int parse_user(struct oci_exec *x, mk_error_t *err)
{
  char copy[64], *colon;

  if (snprintf(copy, sizeof(copy), "%s", x->o->user) >= (int)sizeof(copy))
    return mk_error_set(err, EINVAL, "--user `%s`: want UID[:GID]",
                        x->o->user);
  colon = strchr(copy, ':');
  if (colon)
    *colon = '\0';
  if (parse_uint32(copy, &x->p.uid) < 0 ||
      (colon && parse_uint32(colon + 1, &x->p.gid) < 0))
    return mk_error_set(err, EINVAL, "--user `%s`: want UID[:GID], numeric",
                        x->o->user);
  return 0;
}

static int caps_from_flags(struct oci_exec *x, mk_error_t *err)
{
  uint64_t mask = 0;

  for (size_t i = 0; i < x->o->caps.n; i++) {
    int cap = mk_cap_parse(x->o->caps.v[i]);
    if (cap < 0)
      return mk_error_set(err, EINVAL, "--cap: unknown capability `%s`",
                          x->o->caps.v[i]);
    mask |= cap == 64 ? ~0ULL : 1ULL << cap; /* 64: ALL */
  }
  for (int set = 0; set < MK_OCI_NCAPSETS; set++)
    if (set != MK_OCI_CAP_INHERITABLE && set != MK_OCI_CAP_AMBIENT)
      x->p.caps[set] = mask;
  return 0;
}

/* runc's way without --process: the container's process, with this
 * command line, its environment plus -e, and the other flags over it. */
static int process_from_flags(struct oci_exec *x, mk_error_t *err)
{
  json_t *env = json_object_get(json_object_get(x->c.config, "Config"), "Env");
  json_t *v;
  size_t i;

  if (!x->nargs)
    return mk_error_set(err, EINVAL,
                        "exec needs --process or a command after the id");
  x->p.terminal = x->o->tty;
  for (i = 0; i < x->nargs; i++)
    mk_strv_push(&x->p.args, x->args[i]);
  json_array_foreach(env, i, v) if (json_is_string(v))
      mk_strv_push(&x->p.env, json_string_value(v));
  for (i = 0; i < x->o->env.n; i++)
    mk_strv_push(&x->p.env, x->o->env.v[i]);
  x->p.cwd = x->o->cwd;
  x->p.no_new_privileges = x->o->no_new_privs;
  for (i = 0; i < x->o->gids.n && i < MK_OCI_MAX_GIDS; i++)
    if (parse_uint32(x->o->gids.v[i], &x->p.gids[x->p.ngids++]) < 0)
      return mk_error_set(err, EINVAL, "--additional-gids `%s`: not a gid",
                          x->o->gids.v[i]);
  if (x->o->user && parse_user(x, err) < 0)
    return -1;
  return caps_from_flags(x, err);
}

static int load_process(struct oci_exec *x, mk_error_t *err)
{
  if (!x->o->process)
    return process_from_flags(x, err);
  if (x->nargs)
    return mk_error_set(err, EINVAL,
                        "exec: --process and a command line are exclusive");
  if (mk_oci_process_load(x->o->process, &x->doc, &x->p, err) < 0)
    return -1;
  x->o->tty |= x->p.terminal;
  return 0;
}

/* ---- the engine's spec ---- */

static int fill_spec(struct oci_exec *x, mk_error_t *err)
{
  struct mk_exec_spec *s = &x->spec;
  const struct mk_oci_process *p = &x->p;

  if (x->o->process || x->o->caps.n) {
    if (mk_oci_process_caps(p, &s->caps, s->cap_sets, err) < 0)
      return -1;
    s->has_cap_sets = 1;
  } else {
    s->caps = ~0ULL; /* the container's */
  }
  snprintf(x->user, sizeof(x->user), "%u:%u", p->uid, p->gid);
  s->user = x->o->process || x->o->user ? x->user : NULL;
  s->workdir = p->cwd;
  s->argv = (const char *const *)p->args.v;
  s->argc = p->args.n;
  s->env = (const char *const *)p->env.v;
  s->envc = p->env.n;
  /* stdio is the caller's, as it gave it, unless there is a terminal */
  s->flags = MK_CFG_EXEC_INPLACE | (p->terminal ? MK_CFG_TTY : MK_CFG_STDIN) |
             (p->no_new_privileges ? MK_CFG_NO_NEW_PRIVS : 0);
  s->rows = (uint16_t)p->rows;
  s->cols = (uint16_t)p->cols;
  for (size_t i = 0; i < p->ngids; i++)
    x->groups[i] = p->gids[i];
  s->groups = x->groups;
  s->ngroups = p->ngids;
  if (p->ngids || x->o->process)
    s->flags |= MK_CFG_EXACT_GROUPS;
  for (size_t i = 0; i < p->nrlimits; i++)
    x->rlimits[i] = (struct mk_rlimit){(uint32_t)p->rlimits[i].resource,
                                       p->rlimits[i].soft, p->rlimits[i].hard};
  s->rlimits = x->rlimits;
  s->nrlimits = p->nrlimits;
  if (p->has_umask) {
    s->flags |= MK_CFG_UMASK;
    s->umask = (uint32_t)p->umask;
  }
  s->outlive = 1; /* our caller reaps it, as runc's */
  return 0;
}

/* An exec keeps no capability the container's process lacks. */
static int check_caps_within(const struct oci_exec *x, mk_error_t *err)
{
  uint64_t beyond = x->spec.caps & ~x->engine.sec.caps;

  if (x->spec.caps == ~0ULL || !beyond)
    return 0;
  char name[32];

  for (int cap = 0; cap < 64; cap++)
    if (beyond & (1ULL << cap))
      return mk_error_set(err, EPERM,
                          "capability CAP_%s is not among container %s's",
                          mk_cap_name(cap, name), x->id);
  return 0;
}

/* ---- host paths, before the join ---- */

/* --pid-file's directory, opened now, and its last component, which must
 * name a file in it: written by name after the join, "/" or ".." would
 * be resolved in the container (review of issue 17, finding 5). */
static int open_pid_dir(struct oci_exec *x, mk_error_t *err)
{
  const char *path = x->o->pid_file;
  char copy[PATH_MAX];
  const char *name;

  if (mk_snprintf(copy, sizeof(copy), "%s", path) < 0)
    return mk_error_set(err, ENAMETOOLONG, "--pid-file `%s`", path);
  name = basename(copy);
  if (!*name || strchr(name, '/') || strcmp(name, ".") == 0 ||
      strcmp(name, "..") == 0)
    return mk_error_set(err, EINVAL, "--pid-file `%s` names no file", path);
  x->pid_name = strdup(name);
  snprintf(copy, sizeof(copy), "%s", path);
  x->pid_dir = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (x->pid_dir < 0)
    return mk_error_sys(err, errno, "--pid-file `%s`", path);
  return 0;
}

static int open_host_paths(struct oci_exec *x, mk_error_t *err)
{
  const struct exec_opts *o = x->o;

  if (x->p.terminal && !o->console_socket)
    return mk_error_set(err, EINVAL, "a terminal needs --console-socket");
  if (!x->p.terminal && o->console_socket)
    return mk_error_set(err, EINVAL, "--console-socket without a terminal");
  if (o->console_socket &&
      (x->console = mk_oci_console_connect(o->console_socket, err)) < 0)
    return -1;
  return o->pid_file ? open_pid_dir(x, err) : 0;
}

static int check_status(struct oci_exec *x, mk_error_t *err)
{
  const char *status = mk_oci_status(&x->c);

  if (strcmp(status, "paused") == 0 && !x->o->ignore_paused)
    return mk_error_set(err, EBUSY,
                        "container %s is paused (--ignore-paused to exec "
                        "anyway)",
                        x->id);
  if (strcmp(status, "stopped") == 0)
    return mk_error_set(err, ESRCH, "container %s is stopped", x->id);
  return 0;
}

/* ---- after the join ---- */

/* Until init runs the command (the socket's EOF: its close-on-exec) or
 * says why it could not; the pty master goes to the console socket. */
static int wait_running(struct oci_exec *x, mk_error_t *err)
{
  static uint8_t buf[MK_MSG_MAX];

  for (;;) {
    uint32_t type, kind;
    int fd = -1;
    int n = mk_msg_recv(x->child.sock, &type, buf, sizeof(buf), &fd, err);
    if (n < 0)
      return -1;
    if (type == 0)
      return 0;
    if (type == MK_MSG_PTY_MASTER && fd >= 0) {
      int rc = mk_oci_console_send(x->console, x->o->console_socket, fd, err);
      mk_close(fd);
      if (rc < 0)
        return -1;
      continue;
    }
    mk_close(fd);
    if (type != MK_MSG_ERROR)
      return mk_error_set(err, EPROTO, "unexpected message %u from init", type);
    mk_error_t e;
    if (mk_msg_decode_error(buf, (size_t)n, &kind, &e, err) < 0)
      return -1;
    *err = e;
    return -1;
  }
}

/* Forwards every signal we get to the command until it exits; its exit
 * status is ours, as runc exec's. */
static int wait_for_command(struct oci_exec *x)
{
  struct pollfd fds[2] = {{.fd = x->sigfd, .events = POLLIN},
                          {.fd = x->child.pidfd, .events = POLLIN}};
  struct signalfd_siginfo si;
  siginfo_t info;

  for (;;) {
    if (poll(fds, 2, -1) < 0 && errno != EINTR)
      break;
    if (fds[1].revents)
      break;
    if ((fds[0].revents & POLLIN) &&
        read(x->sigfd, &si, sizeof(si)) == sizeof(si) &&
        si.ssi_signo != SIGCHLD)
      syscall(SYS_pidfd_send_signal, x->child.pidfd, si.ssi_signo, NULL, 0);
  }
  memset(&info, 0, sizeof(info));
  if (waitid(P_PIDFD, (id_t)x->child.pidfd, &info, WEXITED) < 0)
    return MK_EXIT_MOCKER_FAILED;
  return info.si_code == CLD_EXITED ? info.si_status : 128 + info.si_status;
}

static int run(struct oci_exec *x, mk_error_t *err)
{
  sigset_t all;

  if (mk_oci_open(x->ctx, x->id, &x->c, err) < 0)
    return -1;
  x->opened = 1;
  if (check_status(x, err) < 0 || load_process(x, err) < 0 ||
      fill_spec(x, err) < 0 || open_host_paths(x, err) < 0 ||
      mk_exec_prepare(x->ctx, &x->c, &x->spec, &x->engine, err) < 0 ||
      check_caps_within(x, err) < 0)
    return -1;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, &x->saved_mask);
  if (!x->o->detach && (x->sigfd = signalfd(-1, &all, SFD_CLOEXEC)) < 0)
    return mk_error_sys(err, errno, "signalfd");
  if (mk_exec_spawn(&x->engine, &x->spec, &x->child, err) < 0 ||
      wait_running(x, err) < 0)
    return -1;
  if (x->pid_dir >= 0 &&
      mk_oci_write_pid_file(x->pid_dir, x->pid_name, x->o->pid_file,
                            x->child.pid, err) < 0)
    return -1;
  return x->o->detach ? 0 : wait_for_command(x);
}

static void finish(struct oci_exec *x)
{
  if (x->opened)
    mk_container_close(&x->c);
  mk_exec_release(&x->engine);
  mk_oci_process_free(&x->doc, &x->p);
  mk_close(x->child.sock);
  mk_close(x->child.pidfd);
  mk_close(x->pid_dir);
  mk_close(x->console);
  mk_close(x->sigfd);
  free(x->pid_name);
}

int mk_oci_cmd_exec(struct mk_ctx *ctx, int argc, char **argv)
{
  struct exec_opts o = {0};
  struct oci_exec x = {.ctx = ctx, .o = &o, .pid_dir = -1, .console = -1,
                       .sigfd = -1};
  mk_error_t err = {0};
  int next = mk_parse_flags(argc, argv, 1, mk_oci_exec_flags, apply, &o, &err);
  int rc;

  x.child.pid = -1;
  x.child.pidfd = x.child.sock = -1;
  mk_exec_init(&x.engine);
  if (next >= 0 && o.help) {
    fputs(usage, stdout);
    free_opts(&o);
    return 0;
  }
  if (next >= 0 && next >= argc)
    mk_error_set(&err, EINVAL, "exec needs a container id");
  if (next < 0 || next >= argc) {
    free_opts(&o);
    return mk_oci_fail(mk_oci_of(ctx), err.msg);
  }
  x.id = argv[next];
  x.args = argv + next + 1;
  x.nargs = (size_t)(argc - next - 1);
  rc = run(&x, &err);
  if (rc < 0) {
    if (x.child.pidfd >= 0) { /* it never ran: gone with its failure */
      syscall(SYS_pidfd_send_signal, x.child.pidfd, SIGKILL, NULL, 0);
      waitid(P_PIDFD, (id_t)x.child.pidfd, &(siginfo_t){0}, WEXITED);
    }
    rc = mk_oci_fail(mk_oci_of(ctx), err.msg);
  }
  finish(&x);
  free_opts(&o);
  return rc;
}
