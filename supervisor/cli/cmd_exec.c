/* mocker exec: runs a command inside a running container, in its
 * namespaces and root, as its workload runs.
 *
 * The engine (engine/exec.c) reads what it needs from the host, joins the
 * container and starts mocker-init in exec mode there: that init lands in
 * the container's pid namespace, resolves the user from the container's
 * own /etc/passwd, opens the pty from the container's devpts, starts the
 * command and waits for it, while we run the session loop of `run`
 * (sig-proxy, pty copying, exit status). This front adds Docker's
 * options: the environment, -d, -i, -t. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "engine/container.h"
#include "engine/exec.h"
#include "base/flags.h"
#include "mk_exit.h"
#include "mk_proto.h"
#include "mk_util.h"
#include "engine/session.h"
#include "base/strv.h"
#include "base/validate.h"
#include "base/terminal.h"

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
  struct mk_strv env; /* what the command gets */
  struct mk_exec engine;
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

/* The exec's engine spec: the command, the environment built above,
 * and -u, -w, -t, -i, -d. */
static void fill_spec(const struct exec *x, struct mk_exec_spec *spec)
{
  const struct exec_opts *o = x->o;

  spec->argv = (const char *const *)o->cmd;
  spec->argc = o->ncmd;
  spec->env = (const char *const *)x->env.v;
  spec->envc = x->env.n;
  spec->user = o->user;
  spec->workdir = o->workdir;
  spec->flags = (o->tty ? MK_CFG_TTY : 0) | (o->interactive ? MK_CFG_STDIN : 0);
  spec->caps = ~0ULL;
  /* -d: the command must not hold our stdout and stderr (whoever reads
   * them would wait for it to end) */
  spec->null_stdio = o->detach;
  if (o->tty)
    mk_terminal_get_size(STDIN_FILENO, &spec->rows, &spec->cols);
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
  struct mk_exec_spec spec = {0};

  if (mk_container_open(x->ctx, x->o->container, &x->c, err) < 0)
    return -1;
  x->opened = 1;
  build_env(x);
  fill_spec(x, &spec);
  if (mk_exec_prepare(x->ctx, &x->c, &spec, &x->engine, err) < 0)
    return -1;
  init_session(x);
  if (x->o->tty && isatty(STDIN_FILENO) &&
      mk_terminal_make_raw(&x->term, STDIN_FILENO, err) < 0)
    return -1;
  if (mk_session_block_signals(s, &x->saved_mask, err) < 0)
    return -1;
  if (mk_exec_spawn(&x->engine, &spec, &s->child, err) < 0) {
    mk_error_t ignored;
    if (s->child.pidfd >= 0) /* killed by the engine: reap it */
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
  mk_exec_release(&x->engine);
  mk_strv_free(&x->env);
  if (x->opened)
    mk_container_close(&x->c);
  sigprocmask(SIG_SETMASK, &x->saved_mask, NULL);
  return status;
}

static int exec_in_container(struct mk_ctx *ctx, struct exec_opts *o)
{
  struct exec x = {.ctx = ctx, .o = o};
  mk_error_t err = {0};

  mk_exec_init(&x.engine);
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
