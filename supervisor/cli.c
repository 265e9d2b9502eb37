#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mk_proto.h"
#include "mk_util.h"

const char mk_run_usage[] =
    "Usage:  mocker run [OPTIONS] IMAGE [COMMAND] [ARG...]\n"
    "\n"
    "Create and run a new container from an image\n"
    "\n"
    "Options:\n"
    "      --entrypoint string    Overwrite the default ENTRYPOINT of the image\n"
    "  -e, --env list             Set environment variables\n"
    "      --env-file list        Read in a file of environment variables\n"
    "  -h, --hostname string      Container host name\n"
    "  -i, --interactive          Keep STDIN open even if not attached\n"
    "      --name string          Assign a name to the container\n"
    "      --read-only            Mount the container's root filesystem as read only\n"
    "      --rm                   Automatically remove the container when it exits\n"
    "      --tmpfs list           Mount a tmpfs directory (PATH[:OPTIONS])\n"
    "  -t, --tty                  Allocate a pseudo-TTY\n"
    "  -u, --user string          Username or UID (format: <name|uid>[:<group|gid>])\n"
    "  -v, --volume list          Bind mount a volume (HOST:CONTAINER[:ro])\n"
    "  -w, --workdir string       Working directory inside the container\n"
    "      --help                 Print usage\n";

enum { OPT_RM = 256, OPT_NAME, OPT_ENTRYPOINT, OPT_ENV_FILE, OPT_TMPFS,
       OPT_READ_ONLY, OPT_HELP };

static const struct option run_options[] = {
    {"interactive", no_argument, NULL, 'i'},
    {"tty", no_argument, NULL, 't'},
    {"rm", no_argument, NULL, OPT_RM},
    {"name", required_argument, NULL, OPT_NAME},
    {"env", required_argument, NULL, 'e'},
    {"env-file", required_argument, NULL, OPT_ENV_FILE},
    {"workdir", required_argument, NULL, 'w'},
    {"user", required_argument, NULL, 'u'},
    {"hostname", required_argument, NULL, 'h'},
    {"entrypoint", required_argument, NULL, OPT_ENTRYPOINT},
    {"volume", required_argument, NULL, 'v'},
    {"tmpfs", required_argument, NULL, OPT_TMPFS},
    {"read-only", no_argument, NULL, OPT_READ_ONLY},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

int mk_valid_container_name(const char *name)
{
  if (!isalnum((unsigned char)name[0]) || !name[1])
    return 0;
  for (const char *p = name + 1; *p; p++)
    if (!isalnum((unsigned char)*p) && !strchr("_.-", *p))
      return 0;
  return 1;
}

/* -e KEY=VALUE sets; -e KEY copies the host's value, or is dropped. */
static void add_env(struct mk_run_opts *o, const char *entry)
{
  const char *value;

  if (strchr(entry, '=')) {
    mk_strv_setenv(&o->env, entry);
    return;
  }
  value = getenv(entry);
  if (value)
    mk_strv_pushf(&o->env, "%s=%s", entry, value);
}

static void trim_line(char *line)
{
  size_t n = strlen(line);

  while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
    line[--n] = '\0';
}

static int read_env_file(struct mk_run_opts *o, const char *path,
                         mk_error_t *err)
{
  _cleanup_fclose_ FILE *f = fopen(path, "re");
  char line[8192];

  if (!f)
    return mk_error_sys(err, errno, "open env file `%s`", path);
  while (fgets(line, sizeof(line), f)) {
    trim_line(line);
    const char *p = line + strspn(line, " \t");
    if (*p == '\0' || *p == '#')
      continue;
    if (*p == '=')
      return mk_error_set(err, EINVAL, "env file `%s`: invalid line `%s`",
                          path, line);
    add_env(o, p);
  }
  return 0;
}

static int add_volume(struct mk_run_opts *o, const char *spec,
                      mk_error_t *err)
{
  _cleanup_free_ char *copy = mk_xstrdup(spec);
  char *parts[4] = {0};
  size_t n = 0;
  struct mk_volume v = {0};

  for (char *tok = strtok(copy, ":"); tok && n < 4; tok = strtok(NULL, ":"))
    parts[n++] = tok;
  if (n < 2 || n > 3 || parts[1][0] != '/')
    return mk_error_set(err, EINVAL,
                        "invalid volume spec `%s`: want "
                        "/host/path:/container/path[:ro|rw]",
                        spec);
  if (parts[0][0] != '/')
    return mk_error_set(err, EINVAL,
                        "invalid volume spec `%s`: the host path must be "
                        "absolute (named volumes are not supported yet)",
                        spec);
  if (n == 3 && strcmp(parts[2], "ro") != 0 && strcmp(parts[2], "rw") != 0)
    return mk_error_set(err, EINVAL,
                        "invalid volume spec `%s`: unknown mode `%s`", spec,
                        parts[2]);
  v.source = mk_xstrdup(parts[0]);
  v.target = mk_xstrdup(parts[1]);
  v.read_only = n == 3 && strcmp(parts[2], "ro") == 0;
  o->volumes = realloc(o->volumes, (o->nvolumes + 1) * sizeof(v));
  if (!o->volumes)
    return mk_error_set(err, ENOMEM, "out of memory");
  o->volumes[o->nvolumes++] = v;
  return 0;
}

/* Splits tmpfs options into mount flags and the data tmpfs itself reads. */
static void parse_tmpfs_options(char *opts, struct mk_tmpfs *t,
                                struct mk_strv *data)
{
  static const struct { const char *name; unsigned set, clear; } flag_opts[] = {
      {"ro", MK_MNT_RDONLY, 0},     {"rw", 0, MK_MNT_RDONLY},
      {"nosuid", MK_MNT_NOSUID, 0}, {"suid", 0, MK_MNT_NOSUID},
      {"nodev", MK_MNT_NODEV, 0},   {"dev", 0, MK_MNT_NODEV},
      {"noexec", MK_MNT_NOEXEC, 0}, {"exec", 0, MK_MNT_NOEXEC},
  };

  for (char *tok = strtok(opts, ","); tok; tok = strtok(NULL, ",")) {
    size_t i;
    for (i = 0; i < MK_ARRAY_SIZE(flag_opts); i++)
      if (strcmp(tok, flag_opts[i].name) == 0)
        break;
    if (i == MK_ARRAY_SIZE(flag_opts)) {
      mk_strv_push(data, tok);
      continue;
    }
    t->flags = (t->flags | flag_opts[i].set) & ~flag_opts[i].clear;
  }
}

static int add_tmpfs(struct mk_run_opts *o, const char *spec, mk_error_t *err)
{
  _cleanup_free_ char *copy = mk_xstrdup(spec);
  char *colon = strchr(copy, ':');
  struct mk_tmpfs t = {.flags = MK_MNT_NOSUID | MK_MNT_NODEV | MK_MNT_NOEXEC};
  struct mk_strv data = {0};
  size_t len = 0;

  if (colon)
    *colon++ = '\0';
  if (copy[0] != '/')
    return mk_error_set(err, EINVAL,
                        "invalid tmpfs spec `%s`: the path must be absolute",
                        spec);
  if (colon)
    parse_tmpfs_options(colon, &t, &data);
  for (size_t i = 0; i < data.n; i++)
    len += strlen(data.v[i]) + 1;
  t.data = mk_xmalloc(len + 1);
  t.data[0] = '\0';
  for (size_t i = 0; i < data.n; i++)
    strcat(strcat(t.data, i ? "," : ""), data.v[i]);
  mk_strv_free(&data);
  t.target = mk_xstrdup(copy);
  o->tmpfs = realloc(o->tmpfs, (o->ntmpfs + 1) * sizeof(t));
  if (!o->tmpfs)
    return mk_error_set(err, ENOMEM, "out of memory");
  o->tmpfs[o->ntmpfs++] = t;
  return 0;
}

static int unknown_option(int argc, char **argv, mk_error_t *err)
{
  const char *arg = argv[optind - 1 < argc ? optind - 1 : argc - 1];

  if (optopt && strncmp(arg, "--", 2) != 0)
    return mk_error_set(err, EINVAL, "unknown shorthand flag: '%c' in %s",
                        optopt, arg);
  if (strncmp(arg, "--", 2) == 0 && !strchr(arg, '='))
    for (size_t i = 0; run_options[i].name; i++)
      if (strcmp(arg + 2, run_options[i].name) == 0)
        return mk_error_set(err, EINVAL, "flag needs an argument: %s", arg);
  if (optopt)
    return mk_error_set(err, EINVAL, "flag needs an argument: '%c' in -%c",
                        optopt, optopt);
  return mk_error_set(err, EINVAL, "unknown flag: %s", arg);
}

static int apply_option(struct mk_run_opts *o, int c, mk_error_t *err)
{
  switch (c) {
  case 'i': o->interactive = 1; return 0;
  case 't': o->tty = 1; return 0;
  case OPT_RM: o->rm = 1; return 0;
  case OPT_READ_ONLY: o->read_only = 1; return 0;
  case OPT_HELP: o->help = 1; return 0;
  case 'w': o->workdir = optarg; return 0;
  case 'u': o->user = optarg; return 0;
  case 'h': o->hostname = optarg; return 0;
  case OPT_ENTRYPOINT: o->entrypoint = optarg; return 0;
  case 'e': add_env(o, optarg); return 0;
  case OPT_ENV_FILE: return read_env_file(o, optarg, err);
  case 'v': return add_volume(o, optarg, err);
  case OPT_TMPFS: return add_tmpfs(o, optarg, err);
  case OPT_NAME:
    if (!mk_valid_container_name(optarg))
      return mk_error_set(err, EINVAL,
                          "invalid container name \"%s\", only "
                          "[a-zA-Z0-9][a-zA-Z0-9_.-]+ are allowed",
                          optarg);
    o->name = optarg;
    return 0;
  default:
    return mk_error_set(err, EINVAL, "unexpected option");
  }
}

static int check_values(const struct mk_run_opts *o, mk_error_t *err)
{
  if (o->workdir && o->workdir[0] != '/')
    return mk_error_set(err, EINVAL,
                        "the working directory '%s' is invalid, it needs to "
                        "be an absolute path",
                        o->workdir);
  if (o->hostname && (strlen(o->hostname) > 63 || !*o->hostname))
    return mk_error_set(err, EINVAL, "invalid hostname `%s`", o->hostname);
  return 0;
}

int mk_parse_run_args(int argc, char **argv, struct mk_run_opts *o,
                      mk_error_t *err)
{
  int c;

  memset(o, 0, sizeof(*o));
  optind = 0; /* glibc: full re-initialisation, so parsing is repeatable */
  opterr = 0;
  while ((c = getopt_long(argc, argv, "+itw:u:h:e:v:", run_options, NULL)) !=
         -1) {
    if (c == '?' || c == ':')
      return unknown_option(argc, argv, err);
    if (apply_option(o, c, err) < 0)
      return -1;
  }
  if (o->help)
    return 0;
  if (optind >= argc)
    return mk_error_set(err, EINVAL,
                        "\"mocker run\" requires at least 1 argument.");
  o->image = argv[optind++];
  for (; optind < argc; optind++)
    mk_strv_push(&o->cmd, argv[optind]);
  return check_values(o, err);
}

void mk_run_opts_free(struct mk_run_opts *o)
{
  mk_strv_free(&o->cmd);
  mk_strv_free(&o->env);
  for (size_t i = 0; i < o->nvolumes; i++) {
    free(o->volumes[i].source);
    free(o->volumes[i].target);
  }
  free(o->volumes);
  for (size_t i = 0; i < o->ntmpfs; i++) {
    free(o->tmpfs[i].target);
    free(o->tmpfs[i].data);
  }
  free(o->tmpfs);
  memset(o, 0, sizeof(*o));
}
