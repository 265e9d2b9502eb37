/* mocker volume {create,ls,inspect,rm,prune}: Docker's local volumes,
 * with Docker's texts. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "commands.h"
#include "base/flags.h"
#include "mk_exit.h"
#include "mk_util.h"
#include "base/validate.h"
#include "engine/volume.h"

static const char volume_usage[] =
    "Usage:  mocker volume COMMAND\n"
    "\n"
    "Manage volumes\n"
    "\n"
    "Commands:\n"
    "  create      Create a volume\n"
    "  inspect     Display detailed information on one or more volumes\n"
    "  ls          List volumes\n"
    "  prune       Remove unused local volumes\n"
    "  rm          Remove one or more volumes\n"
    "\n"
    "Run 'mocker volume COMMAND --help' for more information on a command.\n";

static const char create_usage[] =
    "Usage:  mocker volume create [OPTIONS] [VOLUME]\n"
    "\n"
    "Create a volume\n"
    "\n"
    "Options:\n"
    "  -d, --driver string   Specify volume driver name (default \"local\")\n"
    "      --name string     Specify volume name\n"
    "      --help            Print usage\n";

static const char ls_usage[] = "Usage:  mocker volume ls [OPTIONS]\n"
                               "\n"
                               "List volumes\n"
                               "\n"
                               "Aliases:\n"
                               "  mocker volume ls, mocker volume list\n"
                               "\n"
                               "Options:\n"
                               "  -q, --quiet   Only display volume names\n"
                               "      --help    Print usage\n";

static const char inspect_usage[] =
    "Usage:  mocker volume inspect [OPTIONS] VOLUME [VOLUME...]\n"
    "\n"
    "Display detailed information on one or more volumes\n"
    "\n"
    "Options:\n"
    "      --help   Print usage\n";

static const char rm_usage[] =
    "Usage:  mocker volume rm [OPTIONS] VOLUME [VOLUME...]\n"
    "\n"
    "Remove one or more volumes. You cannot remove a volume that is in use "
    "by a container.\n"
    "\n"
    "Aliases:\n"
    "  mocker volume rm, mocker volume remove\n"
    "\n"
    "Options:\n"
    "  -f, --force   Force the removal of one or more volumes\n"
    "      --help    Print usage\n";

static const char prune_usage[] =
    "Usage:  mocker volume prune [OPTIONS]\n"
    "\n"
    "Remove unused local volumes\n"
    "\n"
    "Options:\n"
    "  -a, --all     Remove all unused volumes, not just anonymous ones\n"
    "  -f, --force   Do not prompt for confirmation\n"
    "      --help    Print usage\n";

/* ---- flags, shared by the subcommands --------------------------------- */

enum { F_HELP = 1, F_QUIET, F_FORCE, F_ALL, F_DRIVER, F_NAME };

struct volume_opts {
  int help, quiet, force, all;
  const char *driver, *name;
};

static int apply_flag(void *data, int id, const char *value, mk_error_t *err)
{
  struct volume_opts *o = data;

  (void)err;
  switch (id) {
  case F_HELP: o->help = 1; break;
  case F_QUIET: o->quiet = 1; break;
  case F_FORCE: o->force = 1; break;
  case F_ALL: o->all = 1; break;
  case F_DRIVER: o->driver = value; break;
  case F_NAME: o->name = value; break;
  default: break;
  }
  return 0;
}

static int usage_error(const char *msg, const char *verb)
{
  mk_print_error(msg);
  fprintf(stderr, "See 'mocker volume %s --help'.\n", verb);
  return MK_EXIT_MOCKER_FAILED;
}

/* Parses flags; returns the index of the first argument, or -1 after
 * printing the error (status in *status) or the help (status 0). */
static int parse(int argc, char **argv, const struct mk_flag *flags,
                 const char *usage, struct volume_opts *o, int *status)
{
  char verb[64];

  snprintf(verb, sizeof(verb), "volume %s", argv[0]);
  return mk_parse_subcommand(argc, argv, flags, apply_flag, o, &o->help, usage,
                             verb, status);
}

/* ---- create ------------------------------------------------------------ */

static int check_name(const char *name, mk_error_t *err)
{
  if (mk_valid_container_name(name))
    return 0;
  if (strlen(name) > MK_CONTAINER_NAME_MAX)
    return mk_error_set(err, EINVAL, "create %.40s...: invalid volume name: %s",
                        name, mk_container_name_problem(name));
  return mk_error_set(err, EINVAL,
                      "create %s: \"%s\" includes invalid characters for a "
                      "local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" "
                      "are allowed. If you intended to pass a host directory, "
                      "use absolute path",
                      name, name);
}

static const struct mk_flag create_flags[] = {{"driver", 'd', 1, F_DRIVER},
                                              {"name", 0, 1, F_NAME},
                                              {"help", 0, 0, F_HELP},
                                              {NULL, 0, 0, 0}};

static int volume_create(struct mk_ctx *ctx, int argc, char **argv)
{
  struct volume_opts o = {0};
  char name[65], data[PATH_MAX];
  mk_error_t err = {0};
  int status, created,
      i = parse(argc, argv, create_flags, create_usage, &o, &status);

  if (i < 0)
    return status;
  if (argc - i > 1 || (argc - i == 1 && o.name && strcmp(o.name, argv[i])))
    return usage_error(argc - i > 1 ? "\"mocker volume create\" requires at "
                                      "most 1 argument."
                                    : "conflicting options: either specify "
                                      "--name or provide positional arg, not "
                                      "both",
                       "create");
  const char *want = i < argc ? argv[i] : o.name;
  if (o.driver && strcmp(o.driver, "local") != 0) {
    fprintf(stderr, "mocker: create %s: plugin \"%s\" not found\n",
            want ? want : "", o.driver);
    return 1;
  }
  if ((!want && mk_random_hex(name, 32, &err) < 0) ||
      (want && check_name(want, &err) < 0) ||
      mk_volume_ensure(ctx, want ? want : name, !want, data, &created, &err) <
          0) {
    mk_print_error(err.msg);
    return 1;
  }
  puts(want ? want : name);
  return 0;
}

/* ---- ls and inspect ------------------------------------------------------ */

static void free_names(char **names, size_t n)
{
  for (size_t i = 0; i < n; i++)
    free(names[i]);
  free(names);
}

static const struct mk_flag ls_flags[] = {
    {"quiet", 'q', 0, F_QUIET}, {"help", 0, 0, F_HELP}, {NULL, 0, 0, 0}};

static int volume_ls(struct mk_ctx *ctx, int argc, char **argv)
{
  struct volume_opts o = {0};
  mk_error_t err = {0};
  char **names;
  size_t n;
  int status, i = parse(argc, argv, ls_flags, ls_usage, &o, &status);

  if (i < 0)
    return status;
  if (i < argc)
    return usage_error("\"mocker volume ls\" accepts no arguments.", "ls");
  if (mk_volume_names(ctx, &names, &n, &err) < 0) {
    mk_print_error(err.msg);
    return 1;
  }
  if (!o.quiet)
    printf("%-10s%s\n", "DRIVER", "VOLUME NAME");
  for (size_t k = 0; k < n; k++)
    if (o.quiet)
      puts(names[k]);
    else
      printf("%-10s%s\n", "local", names[k]);
  free_names(names, n);
  return 0;
}

/* "2024-05-01T10:11:12.123456789Z" -> "2024-05-01T10:11:12Z", as Docker
 * shows it. */
static json_t *created_at(const char *stamp)
{
  char out[40];

  if (strlen(stamp) < 19)
    return json_string(stamp);
  snprintf(out, sizeof(out), "%.19sZ", stamp);
  return json_string(out);
}

/* Docker (23+) labels anonymous volumes so that prune can tell them. */
static json_t *inspect_one(const struct mk_volume_info *v)
{
  json_t *labels = v->anonymous
                       ? json_pack("{s:s}", "com.docker.volume.anonymous", "")
                       : json_null();

  return json_pack("{s:o, s:s, s:o, s:s, s:s, s:n, s:s}", "CreatedAt",
                   created_at(v->created_at), "Driver", "local", "Labels",
                   labels, "Mountpoint", v->mountpoint, "Name", v->name,
                   "Options", "Scope", "local");
}

static const struct mk_flag inspect_flags[] = {{"help", 0, 0, F_HELP},
                                               {NULL, 0, 0, 0}};

static int volume_inspect(struct mk_ctx *ctx, int argc, char **argv)
{
  struct volume_opts o = {0};
  int status, i = parse(argc, argv, inspect_flags, inspect_usage, &o, &status);

  if (i < 0)
    return status;
  if (i >= argc)
    return usage_error("\"mocker volume inspect\" requires at least 1 "
                       "argument.",
                       "inspect");
  json_t *result = json_array();
  for (status = 0; i < argc; i++) {
    struct mk_volume_info v;
    mk_error_t err = {0};
    if (mk_volume_info(ctx, argv[i], &v, &err) < 0) {
      mk_print_error(err.msg);
      status = 1;
      continue;
    }
    json_array_append_new(result, inspect_one(&v));
  }
  char *text = json_dumps(result, JSON_INDENT(4));
  if (text)
    puts(text);
  free(text);
  json_decref(result);
  return status;
}

/* ---- rm and prune -------------------------------------------------------- */

/* -f only silences "no such volume": a volume in use is never removed. */
static const struct mk_flag rm_flags[] = {
    {"force", 'f', 0, F_FORCE}, {"help", 0, 0, F_HELP}, {NULL, 0, 0, 0}};

static int volume_rm(struct mk_ctx *ctx, int argc, char **argv)
{
  struct volume_opts o = {0};
  int status, i = parse(argc, argv, rm_flags, rm_usage, &o, &status);

  if (i < 0)
    return status;
  if (i >= argc)
    return usage_error("\"mocker volume rm\" requires at least 1 argument.",
                       "rm");
  for (status = 0; i < argc; i++) {
    mk_error_t err = {0};
    if (mk_volume_remove(ctx, argv[i], 0, &err) == 0)
      puts(argv[i]);
    else if (!(o.force && err.err == ENOENT)) {
      mk_print_error(err.msg);
      status = 1;
    }
  }
  return status;
}

/* Docker's units.HumanSize: decimal units, 4 significant digits. */
static void human_size(double size, char *out, size_t len)
{
  static const char *const units[] = {"B",  "kB", "MB", "GB", "TB",
                                      "PB", "EB", "ZB", "YB"};
  size_t i = 0;

  while (size >= 1000 && i + 1 < MK_ARRAY_SIZE(units)) {
    size /= 1000;
    i++;
  }
  snprintf(out, len, "%.4g%s", size, units[i]);
}

#define SIZE_MAX_DEPTH 256

/* What removing a tree frees, as Docker counts it: the sizes of all but
 * directories. Never follows a symlink. */
static unsigned long long tree_size(int dirfd, int depth)
{
  unsigned long long total = 0;
  struct dirent *de;
  struct stat st;
  int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = fd < 0 ? NULL : fdopendir(fd);

  if (!d) {
    mk_close(fd);
    return 0;
  }
  while ((de = readdir(d))) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
        fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
      continue;
    if (!S_ISDIR(st.st_mode)) {
      total += (unsigned long long)st.st_size;
      continue;
    }
    int sub = depth < SIZE_MAX_DEPTH
                  ? openat(dirfd, de->d_name,
                           O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                  : -1;
    if (sub >= 0)
      total += tree_size(sub, depth + 1);
    mk_close(sub);
  }
  closedir(d);
  return total;
}

static unsigned long long volume_size(const struct mk_volume_info *v)
{
  _cleanup_close_ int fd =
      open(v->mountpoint, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

  return fd < 0 ? 0 : tree_size(fd, 0);
}

static int confirm_prune(int all)
{
  char answer[16] = "";

  printf("WARNING! This will remove %s local volumes not used by at least "
         "one container.\nAre you sure you want to continue? [y/N] ",
         all ? "all" : "anonymous");
  fflush(stdout);
  if (!fgets(answer, sizeof(answer), stdin))
    return 0;
  return strcmp(answer, "y\n") == 0 || strcmp(answer, "Y\n") == 0 ||
         strcmp(answer, "y") == 0 || strcmp(answer, "Y") == 0;
}

/* Removes one unused volume for prune; 1 when removed. */
static int prune_one(struct mk_ctx *ctx, const char *name, int all,
                     unsigned long long *reclaimed, int *status)
{
  struct mk_volume_info v;
  mk_error_t err = {0};

  if (mk_volume_info(ctx, name, &v, &err) < 0 || (!all && !v.anonymous) ||
      mk_volume_in_use(ctx, name, NULL))
    return 0;
  unsigned long long size = volume_size(&v);
  if (mk_volume_remove(ctx, name, 0, &err) < 0) {
    if (err.err != EBUSY && err.err != ENOENT) {
      mk_print_error(err.msg);
      *status = 1;
    }
    return 0;
  }
  *reclaimed += size;
  return 1;
}

static const struct mk_flag prune_flags[] = {{"all", 'a', 0, F_ALL},
                                             {"force", 'f', 0, F_FORCE},
                                             {"help", 0, 0, F_HELP},
                                             {NULL, 0, 0, 0}};

static int volume_prune(struct mk_ctx *ctx, int argc, char **argv)
{
  struct volume_opts o = {0};
  unsigned long long reclaimed = 0;
  mk_error_t err = {0};
  char **names, shown[32];
  size_t n, deleted = 0;
  int status, i = parse(argc, argv, prune_flags, prune_usage, &o, &status);

  if (i < 0)
    return status;
  if (i < argc)
    return usage_error("\"mocker volume prune\" accepts no arguments.",
                       "prune");
  if (!o.force && !confirm_prune(o.all))
    return 0;
  status = 0;
  if (mk_volume_names(ctx, &names, &n, &err) < 0) {
    mk_print_error(err.msg);
    return 1;
  }
  for (size_t k = 0; k < n; k++) {
    if (!prune_one(ctx, names[k], o.all, &reclaimed, &status))
      continue;
    if (deleted++ == 0)
      puts("Deleted Volumes:");
    puts(names[k]);
  }
  if (deleted)
    putchar('\n');
  human_size((double)reclaimed, shown, sizeof(shown));
  printf("Total reclaimed space: %s\n", shown);
  free_names(names, n);
  return status;
}

/* ---- dispatch ------------------------------------------------------------ */

const struct mk_command mk_volume_commands[] = {
    {"create", {NULL}, volume_create, "Create a volume", create_flags, NULL},
    {"inspect",
     {NULL},
     volume_inspect,
     "Display detailed information on one or more volumes",
     inspect_flags,
     NULL},
    {"ls", {"list"}, volume_ls, "List volumes", ls_flags, NULL},
    {"prune",
     {NULL},
     volume_prune,
     "Remove unused local volumes",
     prune_flags,
     NULL},
    {"rm", {"remove"}, volume_rm, "Remove one or more volumes", rm_flags, NULL},
    {NULL, {NULL}, NULL, NULL, NULL, NULL},
};

int mk_cmd_volume(struct mk_ctx *ctx, int argc, char **argv)
{
  const struct mk_command *s;
  mk_error_t err = {0};

  if (argc < 2 || strcmp(argv[1], "--help") == 0) {
    fputs(volume_usage, argc < 2 ? stderr : stdout);
    return argc < 2 ? MK_EXIT_MOCKER_FAILED : 0;
  }
  if ((s = mk_command_find(mk_volume_commands, argv[1]))) {
    if (mk_ctx_prepare_root(ctx, &err) < 0) {
      mk_print_error(err.msg);
      return 1;
    }
    return s->fn(ctx, argc - 1, argv + 1);
  }
  fprintf(stderr,
          "mocker: 'volume %s' is not a mocker command.\n"
          "See 'mocker volume --help'.\n",
          argv[1]);
  return MK_EXIT_MOCKER_FAILED;
}
