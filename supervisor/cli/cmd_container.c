/* mocker container SUBCOMMAND: Docker's management group, dispatching to
 * the top-level verbs, plus `container prune`. */
#include <errno.h>
#include <fts.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cli.h"
#include "commands.h"
#include "engine/container.h"
#include "engine/control.h"
#include "base/flags.h"
#include "mk_exit.h"
#include "base/strv.h"

static const char container_usage[] =
    "Usage:  mocker container COMMAND\n"
    "\n"
    "Manage containers\n"
    "\n"
    "Commands:\n"
    "  attach      Attach to a running container\n"
    "  create      Create a new container\n"
    "  exec        Execute a command in a running container\n"
    "  inspect     Display detailed information on one or more containers\n"
    "  kill        Kill one or more running containers\n"
    "  logs        Fetch the logs of a container\n"
    "  ls          List containers\n"
    "  prune       Remove all stopped containers\n"
    "  rename      Rename a container\n"
    "  restart     Restart one or more containers\n"
    "  rm          Remove one or more containers\n"
    "  run         Create and run a new container from an image\n"
    "  start       Start one or more stopped containers\n"
    "  stop        Stop one or more running containers\n"
    "  top         Display the running processes of a container\n"
    "  wait        Block until one or more containers stop, then print "
    "their exit codes\n"
    "\n"
    "Run 'mocker container COMMAND --help' for more information on a "
    "command.\n";

static const char prune_usage[] =
    "Usage:  mocker container prune [OPTIONS]\n"
    "\n"
    "Remove all stopped containers\n"
    "\n"
    "Options:\n"
    "  -f, --force   Do not prompt for confirmation\n"
    "      --help    Print usage\n";

/* `container inspect` is `inspect --type container`, as Docker's. */
static int container_inspect(struct mk_ctx *ctx, int argc, char **argv)
{
  char type_flag[] = "--type=container";
  char **typed = mk_xmalloc(sizeof(char *) * (size_t)(argc + 2));
  int status;

  typed[0] = argv[0];
  typed[1] = type_flag;
  memcpy(typed + 2, argv + 1, sizeof(char *) * (size_t)argc); /* with NULL */
  status = mk_cmd_inspect(ctx, argc + 1, typed);
  free(typed);
  return status;
}

/* ---- prune ---------------------------------------------------------- */

enum { OPT_FORCE = 1, OPT_HELP };

struct prune_opts {
  int force, help;
};

static int apply_prune_flag(void *data, int id, const char *value,
                            mk_error_t *err)
{
  struct prune_opts *o = data;

  (void)value, (void)err;
  if (id == OPT_FORCE)
    o->force = 1;
  else
    o->help = 1;
  return 0;
}

/* Docker's prompt; anything but y/yes cancels. */
static int confirmed(void)
{
  char answer[16] = "";

  fputs("WARNING! This will remove all stopped containers.\n"
        "Are you sure you want to continue? [y/N] ",
        stdout);
  fflush(stdout);
  if (!fgets(answer, sizeof(answer), stdin))
    return 0;
  answer[strcspn(answer, "\r\n")] = '\0';
  return strcasecmp(answer, "y") == 0 || strcasecmp(answer, "yes") == 0;
}

/* The writable layer's size: what removing the container gives back. */
static uint64_t writable_layer_size(const struct mk_container *c)
{
  char upper[PATH_MAX];
  char *paths[] = {upper, NULL};
  uint64_t total = 0;
  FTSENT *e;

  if (snprintf(upper, sizeof(upper), "%s/upper", c->dir) >= (int)sizeof(upper))
    return 0;
  FTS *fts = fts_open(paths, FTS_PHYSICAL | FTS_NOCHDIR, NULL);
  while (fts && (e = fts_read(fts)))
    if (e->fts_info == FTS_F)
      total += (uint64_t)e->fts_statp->st_size;
  if (fts)
    fts_close(fts);
  return total;
}

/* Docker's units.HumanSize: "%.4g" in powers of 1000. */
static void human_size(uint64_t n, char *out, size_t size)
{
  static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
  double v = (double)n;
  size_t u = 0;

  while (v >= 1000 && u + 1 < sizeof(units) / sizeof(units[0])) {
    v /= 1000;
    u++;
  }
  snprintf(out, size, "%.4g%s", v, units[u]);
}

/* Removes id if it is stopped. Holding the run lock makes "stopped" hold
 * until the directory is gone: nothing can start it meanwhile. Returns
 * 1 when removed, 0 when skipped, -1 on error. */
static int prune_one(struct mk_ctx *ctx, const char *id, uint64_t *reclaimed,
                     mk_error_t *err)
{
  struct mk_container c;
  int rc = 0;

  if (mk_container_open(ctx, id, &c, err) < 0) {
    rc = err->err == ENOENT ? 0 : -1;
    goto out;
  }
  if (mk_container_lock(&c, err) < 0) {
    rc = err->err == EBUSY ? 0 : -1; /* running: never pruned */
    goto out;
  }
  if (mk_container_refresh(&c, err) < 0) {
    rc = -1;
    goto out;
  }
  if (strcmp(c.state.status, "running") == 0)
    goto out; /* its monitor died a moment ago: leave it to the next look */
  uint64_t size = writable_layer_size(&c);
  if (mk_remove_container(ctx, &c, 0, err) < 0) {
    rc = -1;
    goto out;
  }
  *reclaimed += size;
  rc = 1;
out:
  mk_container_close(&c);
  return rc;
}

static int collect_id(const char *id, void *data)
{
  mk_strv_push(data, id);
  return 0;
}

static int prune_containers(struct mk_ctx *ctx)
{
  struct mk_strv ids = {0};
  uint64_t reclaimed = 0;
  int deleted = 0, status = 0;
  char shown[32];

  mk_container_foreach(ctx, collect_id, &ids);
  for (size_t i = 0; i < ids.n; i++) {
    mk_error_t err = {0};
    int rc = prune_one(ctx, ids.v[i], &reclaimed, &err);
    if (rc < 0) {
      mk_print_error(err.msg);
      status = 1;
    } else if (rc > 0) {
      printf("%s%s\n", deleted++ ? "" : "Deleted Containers:\n", ids.v[i]);
    }
  }
  mk_strv_free(&ids);
  human_size(reclaimed, shown, sizeof(shown));
  printf("%sTotal reclaimed space: %s\n", deleted ? "\n" : "", shown);
  return status;
}

static const struct mk_flag prune_flags[] = {
    {"force", 'f', 0, OPT_FORCE}, {"help", 0, 0, OPT_HELP}, {NULL, 0, 0, 0}};

static int container_prune(struct mk_ctx *ctx, int argc, char **argv)
{
  struct prune_opts o = {0};
  mk_error_t err = {0};
  int i =
      mk_parse_flags(argc, argv, 1, prune_flags, apply_prune_flag, &o, &err);

  if (i < 0 || (i < argc && !o.help)) {
    mk_print_error(i < 0 ? err.msg
                         : "\"mocker container prune\" accepts no arguments.");
    fputs("See 'mocker container prune --help'.\n", stderr);
    return MK_EXIT_MOCKER_FAILED;
  }
  if (o.help) {
    fputs(prune_usage, stdout);
    return 0;
  }
  if (!o.force && !confirmed())
    return 0;
  return prune_containers(ctx);
}

/* Each dispatches to the top-level verb, so it shares its flag table. */
const struct mk_command mk_container_commands[] = {
    {"attach",
     {NULL},
     mk_cmd_attach,
     "Attach to a running container",
     mk_attach_flags,
     NULL},
    {"create",
     {NULL},
     mk_cmd_create,
     "Create a new container",
     mk_run_flags,
     NULL},
    {"exec",
     {NULL},
     mk_cmd_exec,
     "Execute a command in a running container",
     mk_exec_flags,
     NULL},
    {"inspect",
     {NULL},
     container_inspect,
     "Display detailed information on one or more containers",
     mk_inspect_flags,
     NULL},
    {"kill",
     {NULL},
     mk_cmd_kill,
     "Kill one or more running containers",
     mk_kill_flags,
     NULL},
    {"logs",
     {NULL},
     mk_cmd_logs,
     "Fetch the logs of a container",
     mk_logs_flags,
     NULL},
    {"ls", {"list", "ps"}, mk_cmd_ps, "List containers", mk_ps_flags, NULL},
    {"prune",
     {NULL},
     container_prune,
     "Remove all stopped containers",
     prune_flags,
     NULL},
    {"rename",
     {NULL},
     mk_cmd_rename,
     "Rename a container",
     mk_help_flags,
     NULL},
    {"restart",
     {NULL},
     mk_cmd_restart,
     "Restart one or more containers",
     mk_restart_flags,
     NULL},
    {"rm",
     {"remove"},
     mk_cmd_rm,
     "Remove one or more containers",
     mk_rm_flags,
     NULL},
    {"run",
     {NULL},
     mk_cmd_run,
     "Create and run a new container from an image",
     mk_run_flags,
     NULL},
    {"start",
     {NULL},
     mk_cmd_start,
     "Start one or more stopped containers",
     mk_start_flags,
     NULL},
    {"stop",
     {NULL},
     mk_cmd_stop,
     "Stop one or more running containers",
     mk_stop_flags,
     NULL},
    {"top",
     {NULL},
     mk_cmd_top,
     "Display the running processes of a container",
     mk_help_flags,
     NULL},
    {"wait",
     {NULL},
     mk_cmd_wait,
     "Block until one or more containers stop, then print their exit codes",
     mk_wait_flags,
     NULL},
    {NULL, {NULL}, NULL, NULL, NULL, NULL},
};

int mk_cmd_container(struct mk_ctx *ctx, int argc, char **argv)
{
  const struct mk_command *s;

  if (argc < 2 || strcmp(argv[1], "--help") == 0) {
    fputs(container_usage, argc < 2 ? stderr : stdout);
    return argc < 2 ? MK_EXIT_MOCKER_FAILED : 0;
  }
  if ((s = mk_command_find(mk_container_commands, argv[1])))
    return s->fn(ctx, argc - 1, argv + 1);
  fprintf(stderr,
          "mocker: 'container %s' is not a mocker command.\n"
          "See 'mocker container --help'.\n",
          argv[1]);
  return MK_EXIT_MOCKER_FAILED;
}
