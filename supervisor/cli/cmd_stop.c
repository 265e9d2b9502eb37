/* mocker stop, kill and wait. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "engine/container.h"
#include "engine/control.h"
#include "base/flags.h"
#include "mk_exit.h"
#include "mk_util.h"
#include "base/validate.h"

struct ctl_opts {
  int help;
  int timeout; /* stop -t: -1 for the container's own */
  int signal;  /* kill -s */
};

enum { OPT_HELP = 1, OPT_TIME, OPT_SIGNAL };

static int apply(void *data, int id, const char *value, mk_error_t *err)
{
  struct ctl_opts *o = data;
  long long t;

  switch (id) {
  case OPT_HELP: o->help = 1; return 0;
  case OPT_TIME:
    if (mk_parse_int_range(value, -1, MK_TIMEOUT_MAX_S, &t, err) < 0)
      return mk_error_prefix(
          err, "invalid argument \"%s\" for \"-t, --time\" flag", value);
    o->timeout = (int)t;
    return 0;
  case OPT_SIGNAL:
    if (mk_parse_signo(value, &o->signal, err) < 0)
      return mk_error_prefix(
          err, "invalid argument \"%s\" for \"-s, --signal\" flag", value);
    return 0;
  }
  return mk_error_set(err, EINVAL, "unexpected option");
}

const struct mk_flag mk_stop_flags[] = {{"time", 't', 1, OPT_TIME},
                                        {"timeout", 0, 1, OPT_TIME},
                                        {"help", 0, 0, OPT_HELP},
                                        {NULL, 0, 0, 0}};
const struct mk_flag mk_kill_flags[] = {
    {"signal", 's', 1, OPT_SIGNAL}, {"help", 0, 0, OPT_HELP}, {NULL, 0, 0, 0}};
const struct mk_flag mk_wait_flags[] = {{"help", 0, 0, OPT_HELP},
                                        {NULL, 0, 0, 0}};

typedef int (*ctl_action)(struct mk_ctx *ctx, struct mk_container *c,
                          const struct ctl_opts *o, mk_error_t *err);

/* Parses flags, then applies action to each named container: Docker
 * prints each name that worked and exits 1 if any failed. */
static int for_each_container(struct mk_ctx *ctx, int argc, char **argv,
                              const struct mk_flag *flags, const char *usage,
                              ctl_action action, int print_name)
{
  struct ctl_opts o = {.timeout = -1, .signal = SIGKILL};
  mk_error_t err = {0};
  int status = 0;
  int i = mk_parse_flags(argc, argv, 1, flags, apply, &o, &err);

  if (i < 0 || (!o.help && i >= argc))
    return mk_usage_error(argv[0], i < 0 ? err.msg : NULL);
  if (o.help) {
    fputs(usage, stdout);
    return 0;
  }
  for (; i < argc; i++) {
    struct mk_container c;
    err.msg[0] = '\0';
    if (mk_container_open(ctx, argv[i], &c, &err) < 0 ||
        action(ctx, &c, &o, &err) < 0) {
      mk_print_error(err.msg);
      status = 1;
    } else if (print_name) {
      puts(argv[i]);
    }
    mk_container_close(&c);
  }
  return status;
}

static int stop_one(struct mk_ctx *ctx, struct mk_container *c,
                    const struct ctl_opts *o, mk_error_t *err)
{
  (void)ctx;
  return mk_container_stop(c, o->timeout, err);
}

int mk_cmd_stop(struct mk_ctx *ctx, int argc, char **argv)
{
  static const char usage[] =
      "Usage:  mocker stop [OPTIONS] CONTAINER [CONTAINER...]\n\n"
      "Stop one or more running containers\n\n"
      "Options:\n"
      "  -t, --time int   Seconds to wait before killing the container\n"
      "      --help       Print usage\n";

  return for_each_container(ctx, argc, argv, mk_stop_flags, usage, stop_one, 1);
}

static int kill_one(struct mk_ctx *ctx, struct mk_container *c,
                    const struct ctl_opts *o, mk_error_t *err)
{
  (void)ctx;
  if (mk_container_signal(c, o->signal, err) < 0) {
    if (err->err == ESRCH)
      mk_error_set(err, ESRCH,
                   "cannot kill container: %s: container %s is not running",
                   c->name, c->id);
    return -1;
  }
  return 0;
}

int mk_cmd_kill(struct mk_ctx *ctx, int argc, char **argv)
{
  static const char usage[] =
      "Usage:  mocker kill [OPTIONS] CONTAINER [CONTAINER...]\n\n"
      "Kill one or more running containers\n\n"
      "Options:\n"
      "  -s, --signal string   Signal to send to the container (default "
      "\"KILL\")\n"
      "      --help            Print usage\n";

  return for_each_container(ctx, argc, argv, mk_kill_flags, usage, kill_one, 1);
}

static int wait_one(struct mk_ctx *ctx, struct mk_container *c,
                    const struct ctl_opts *o, mk_error_t *err)
{
  (void)ctx, (void)o, (void)err;
  mk_container_wait_stopped(c, -1);
  printf("%d\n", c->state.exit_code);
  fflush(stdout);
  return 0;
}

int mk_cmd_wait(struct mk_ctx *ctx, int argc, char **argv)
{
  static const char usage[] =
      "Usage:  mocker wait CONTAINER [CONTAINER...]\n\n"
      "Block until one or more containers stop, then print their exit "
      "codes\n";

  return for_each_container(ctx, argc, argv, mk_wait_flags, usage, wait_one, 0);
}
