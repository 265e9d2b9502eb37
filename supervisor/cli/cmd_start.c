/* mocker create, start, restart and attach. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine/attach.h"
#include "cli.h"
#include "commands.h"
#include "engine/container.h"
#include "engine/control.h"
#include "engine/create.h"
#include "base/flags.h"
#include "mk_exit.h"
#include "mk_util.h"
#include "engine/start.h"
#include "base/validate.h"

int mk_cmd_create(struct mk_ctx *ctx, int argc, char **argv)
{
  struct mk_run_opts o;
  struct mk_container c;
  mk_error_t err = {0};
  int status = 0;

  if (mk_parse_run_args(argc, argv, &o, &err) < 0) {
    mk_print_error(err.msg);
    fputs("See 'mocker create --help'.\n", stderr);
    mk_run_opts_free(&o);
    return MK_EXIT_MOCKER_FAILED;
  }
  if (o.help) {
    fputs(mk_run_usage, stdout);
  } else if (mk_create_container(ctx, &o.spec, &c, &err) < 0) {
    mk_print_error(err.msg);
    status = MK_EXIT_MOCKER_FAILED;
  } else {
    puts(c.id);
    mk_container_close(&c);
  }
  mk_run_opts_free(&o);
  return status;
}

struct start_opts {
  int attach, interactive, help, timeout;
};

enum { OPT_ATTACH = 1, OPT_INTERACTIVE, OPT_HELP, OPT_TIME };

static int apply(void *data, int id, const char *value, mk_error_t *err)
{
  struct start_opts *o = data;
  long long seconds;

  switch (id) {
  case OPT_ATTACH: o->attach = 1; return 0;
  case OPT_INTERACTIVE: o->interactive = 1; return 0;
  case OPT_HELP: o->help = 1; return 0;
  case OPT_TIME:
    if (mk_parse_int_range(value, -1, MK_TIMEOUT_MAX_S, &seconds, err) < 0)
      return mk_error_prefix(err,
                             "invalid argument \"%s\" for \"-t, --time\" "
                             "flag",
                             value);
    o->timeout = (int)seconds;
    return 0;
  }
  return mk_error_set(err, EINVAL, "unexpected option");
}

const struct mk_flag mk_start_flags[] = {
    {"attach", 'a', 0, OPT_ATTACH},
    {"interactive", 'i', 0, OPT_INTERACTIVE},
    {"help", 0, 0, OPT_HELP},
    {NULL, 0, 0, 0}};
const struct mk_flag mk_restart_flags[] = {
    {"time", 't', 1, OPT_TIME}, {"help", 0, 0, OPT_HELP}, {NULL, 0, 0, 0}};
const struct mk_flag mk_attach_flags[] = {{"help", 0, 0, OPT_HELP},
                                          {NULL, 0, 0, 0}};

static int parse(int argc, char **argv, const struct mk_flag *flags,
                 const char *usage, struct start_opts *o)
{
  mk_error_t err = {0};
  int i = mk_parse_flags(argc, argv, 1, flags, apply, o, &err);

  if (i >= 0 && o->help) {
    fputs(usage, stdout);
    return -2;
  }
  if (i < 0 || i >= argc) {
    mk_usage_error(argv[0], i < 0 ? err.msg : NULL);
    return -1;
  }
  return i;
}

/* Takes the run lock of a container that is not running. Its monitor
 * records the exit just before it lets go of the lock: in that moment,
 * wait for it rather than report the container as running. */
static int lock_stopped(struct mk_container *c, mk_error_t *err)
{
  if (mk_container_lock(c, err) == 0)
    return 0;
  if (err->err != EBUSY || mk_container_refresh(c, err) < 0)
    return -1;
  if (strcmp(c->state.status, "running") == 0)
    return mk_error_set(err, EBUSY, "container %s is running", c->name);
  mk_container_wait_stopped(c, MK_STOP_DEADLINE_MS);
  return mk_container_lock(c, err);
}

/* Starts c (which must not be running) under a new monitor; with attach,
 * stays attached and returns the container's exit code. */
static int start_container(struct mk_ctx *ctx, struct mk_container *c,
                           int attach, int interactive, mk_error_t *err)
{
  int pair[2] = {-1, -1}, status, rc;
  int tty = mk_container_config_bool(c, "Config", "Tty");

  if (lock_stopped(c, err) < 0) {
    if (err->err == EBUSY) /* already running: Docker's start is a no-op */
      return 0;
    return MK_EXIT_MOCKER_FAILED;
  }
  if (attach && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
    return mk_error_sys(err, errno, "socketpair"), MK_EXIT_MOCKER_FAILED;
  c->state.restart_count += strcmp(c->state.status, "created") != 0;
  mk_container_save_state(c, err);
  rc = mk_start_detached(ctx, c, pair[1], &status, err);
  mk_close(pair[1]);
  mk_close(c->lockfd);
  c->lockfd = -1;
  if (rc < 0) {
    mk_close(pair[0]);
    return status;
  }
  if (!attach)
    return 0;
  rc = mk_attach_run(pair[0], tty, interactive, err);
  mk_close(pair[0]);
  if (rc == MK_ATTACH_DETACHED)
    return 0;
  /* the monitor is letting go: return once it has, so that the next
   * command (rm, start) finds the container stopped */
  mk_container_wait_stopped(c, MK_STOP_DEADLINE_MS);
  return rc == MK_ATTACH_LOST || rc < 0 ? c->state.exit_code : rc;
}

int mk_cmd_start(struct mk_ctx *ctx, int argc, char **argv)
{
  static const char usage[] =
      "Usage:  mocker start [OPTIONS] CONTAINER [CONTAINER...]\n\n"
      "Start one or more stopped containers\n\n"
      "Options:\n"
      "  -a, --attach        Attach STDOUT/STDERR and forward signals\n"
      "  -i, --interactive   Attach container's STDIN\n"
      "      --help          Print usage\n";
  struct start_opts o = {0};
  int i = parse(argc, argv, mk_start_flags, usage, &o), status = 0;

  if (i < 0)
    return i == -2 ? 0 : MK_EXIT_MOCKER_FAILED;
  if ((o.attach || o.interactive) && argc - i > 1) {
    mk_print_error("you cannot start and attach multiple containers at once");
    return MK_EXIT_MOCKER_FAILED;
  }
  for (; i < argc; i++) {
    struct mk_container c;
    mk_error_t err = {0};
    int rc = MK_EXIT_MOCKER_FAILED;
    if (mk_container_open(ctx, argv[i], &c, &err) == 0)
      rc = start_container(ctx, &c, o.attach || o.interactive, o.interactive,
                           &err);
    mk_container_close(&c);
    if (err.msg[0] && (rc != 0 || !(o.attach || o.interactive))) {
      if (rc != 0)
        mk_print_error(err.msg);
    }
    if (o.attach || o.interactive)
      return rc;
    if (rc != 0)
      status = 1;
    else
      puts(argv[i]);
  }
  return status;
}

int mk_cmd_restart(struct mk_ctx *ctx, int argc, char **argv)
{
  static const char usage[] =
      "Usage:  mocker restart [OPTIONS] CONTAINER [CONTAINER...]\n\n"
      "Restart one or more containers\n\n"
      "Options:\n"
      "  -t, --time int   Seconds to wait before killing the container\n"
      "      --help       Print usage\n";
  struct start_opts o = {.timeout = -1};
  int i = parse(argc, argv, mk_restart_flags, usage, &o), status = 0;

  if (i < 0)
    return i == -2 ? 0 : MK_EXIT_MOCKER_FAILED;
  for (; i < argc; i++) {
    struct mk_container c;
    mk_error_t err = {0};
    int rc = MK_EXIT_MOCKER_FAILED;
    if (mk_container_open(ctx, argv[i], &c, &err) == 0 &&
        mk_container_stop(&c, o.timeout, &err) == 0)
      rc = start_container(ctx, &c, 0, 0, &err);
    mk_container_close(&c);
    if (rc != 0) {
      mk_print_error(err.msg);
      status = 1;
    } else {
      puts(argv[i]);
    }
  }
  return status;
}

int mk_cmd_attach(struct mk_ctx *ctx, int argc, char **argv)
{
  static const char usage[] =
      "Usage:  mocker attach CONTAINER\n\n"
      "Attach local standard input, output, and error streams to a running "
      "container\n(detach with Ctrl-P Ctrl-Q)\n";
  struct start_opts o = {0};
  struct mk_container c;
  mk_error_t err = {0};
  int i = parse(argc, argv, mk_attach_flags, usage, &o), rc, sock;

  if (i < 0)
    return i == -2 ? 0 : MK_EXIT_MOCKER_FAILED;
  if (mk_container_open(ctx, argv[i], &c, &err) < 0) {
    mk_print_error(err.msg);
    return 1;
  }
  if (strcmp(c.state.status, "running") != 0 ||
      (sock = mk_attach_connect(c.dir, &err)) < 0) {
    mk_print_error("You cannot attach to a stopped container, start it first");
    mk_container_close(&c);
    return 1;
  }
  rc = mk_attach_run(sock, mk_container_config_bool(&c, "Config", "Tty"),
                     mk_container_config_bool(&c, "Config", "OpenStdin"), &err);
  mk_close(sock);
  if (rc == MK_ATTACH_DETACHED) {
    rc = 0;
  } else {
    mk_container_wait_stopped(&c, MK_STOP_DEADLINE_MS);
    if (rc == MK_ATTACH_LOST || rc < 0)
      rc = c.state.exit_code;
  }
  mk_container_close(&c);
  return rc;
}
