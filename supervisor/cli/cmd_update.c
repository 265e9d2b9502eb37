/* mocker update: change a container's resource limits, in its config
 * (for the next start) and, when it runs, in its cgroup at once. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "base/flags.h"
#include "mk_exit.h"
#include "mk_util.h"
#include "engine/resources.h"

static const char *const resource_flags[] = {
    "memory",     "memory-swap", "memory-reservation", "cpus",
    "cpu-shares", "cpuset-cpus", "pids-limit",         "blkio-weight",
};

enum { OPT_HELP = 100 };

const struct mk_flag mk_update_flags[] = {
    {"memory", 'm', 1, 0},           {"memory-swap", 0, 1, 1},
    {"memory-reservation", 0, 1, 2}, {"cpus", 0, 1, 3},
    {"cpu-shares", 'c', 1, 4},       {"cpuset-cpus", 0, 1, 5},
    {"pids-limit", 0, 1, 6},         {"blkio-weight", 0, 1, 7},
    {"help", 0, 0, OPT_HELP},        {NULL, 0, 0, 0},
};

static const char update_usage[] =
    "Usage:  mocker update [OPTIONS] CONTAINER [CONTAINER...]\n\n"
    "Update configuration of one or more containers\n\n"
    "Options:\n"
    "      --blkio-weight uint16        Block IO (relative weight)\n"
    "  -c, --cpu-shares int             CPU shares (relative weight)\n"
    "      --cpus decimal               Number of CPUs\n"
    "      --cpuset-cpus string         CPUs in which to allow execution\n"
    "  -m, --memory bytes               Memory limit\n"
    "      --memory-reservation bytes   Memory soft limit\n"
    "      --memory-swap bytes          Swap limit equal to memory plus swap: "
    "-1 to enable unlimited swap\n"
    "      --pids-limit int             Tune container pids limit (-1 for "
    "unlimited)\n";

struct update {
  struct mk_spec_resources r;
  unsigned set; /* bit i: resource_flags[i] was given (MK_RES_* order) */
  int help;
};

static int apply(void *data, int id, const char *value, mk_error_t *err)
{
  struct update *u = data;

  if (id == OPT_HELP) {
    u->help = 1;
    return 0;
  }
  u->set |= 1u << id;
  return mk_parse_resource_option(&u->r, resource_flags[id], value, err);
}

int mk_cmd_update(struct mk_ctx *ctx, int argc, char **argv)
{
  struct update u = {0};
  mk_error_t err = {0};
  int status = 0;
  int i = mk_parse_flags(argc, argv, 1, mk_update_flags, apply, &u, &err);

  if (i >= 0 && u.help) {
    fputs(update_usage, stdout);
    return 0;
  }
  if (i < 0 || i >= argc || !u.set) {
    mk_print_error(i < 0 ? err.msg
                   : i >= argc
                       ? "\"mocker update\" requires at least 1 argument."
                       : "you must provide one or more flags when using "
                         "this command");
    fputs("See 'mocker update --help'.\n", stderr);
    return MK_EXIT_MOCKER_FAILED;
  }
  for (; i < argc; i++) {
    err.msg[0] = '\0';
    if (mk_container_update(ctx, argv[i], &u.r, u.set, &err) < 0) {
      mk_print_error(err.msg);
      status = 1;
    } else {
      puts(argv[i]);
    }
  }
  return status;
}
