/* mocker update: change a container's resource limits, in its config
 * (for the next start) and, when it runs, in its cgroup at once. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "isolation/cgroup.h"
#include "cli.h"
#include "commands.h"
#include "engine/container.h"
#include "flags.h"
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
  unsigned set; /* bit i: resource_flags[i] was given */
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

/* Writes what was given over HostConfig's values. */
static void merge(const struct update *u, json_t *host)
{
  const struct mk_spec_resources *o = &u->r;
  static const char *const keys[] = {
      "Memory",    "MemorySwap", "MemoryReservation", "NanoCpus",
      "CpuShares", "CpusetCpus", "PidsLimit",         "BlkioWeight"};
  const long long values[] = {
      o->memory,     o->memory_swap, o->memory_reservation,
      o->nano_cpus,  o->cpu_shares,  0,
      o->pids_limit, o->blkio_weight};

  for (size_t i = 0; i < MK_ARRAY_SIZE(keys); i++) {
    if (!(u->set & (1u << i)))
      continue;
    if (i == 5)
      json_object_set_new(host, keys[i], json_string(o->cpuset_cpus));
    else
      json_object_set_new(host, keys[i], json_integer(values[i]));
  }
}

static int update_one(struct mk_ctx *ctx, const char *key,
                      const struct update *u, mk_error_t *err)
{
  struct mk_container c;
  struct mk_cgroup cg;
  struct mk_cgroup_limits l;
  int rc = -1;

  if (mk_container_open(ctx, key, &c, err) < 0)
    return -1;
  merge(u, json_object_get(c.config, "HostConfig"));
  if (mk_container_write_config(&c, err) < 0)
    goto out;
  rc = 0;
  if (strcmp(c.state.status, "running") != 0 ||
      mk_cgroup_locate(&cg, c.id, err) < 0 || !mk_cgroup_exists(&cg))
    goto out;
  mk_limits_from_config(&c, &l);
  rc = mk_cgroup_apply(&cg, &l, err);
out:
  mk_container_close(&c);
  return rc;
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
    if (update_one(ctx, argv[i], &u, &err) < 0) {
      mk_print_error(err.msg);
      status = 1;
    } else {
      puts(argv[i]);
    }
  }
  return status;
}
