/* mocker-runtime: runc's global flags, then a verb. */
#include "oci.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/flags.h"
#include "mk_state.h"
#include "mk_util.h"

/* runc's verbs. */
static const struct mk_command commands[] = {
    {"spec",
     {NULL},
     mk_oci_cmd_spec,
     "Create a new specification file",
     mk_oci_spec_flags,
     NULL},
    {"create",
     {NULL},
     mk_oci_cmd_create,
     "Create a container from a bundle",
     mk_oci_create_flags,
     NULL},
    {"start",
     {NULL},
     mk_oci_cmd_start,
     "Run a created container's process",
     NULL,
     NULL},
    {"state",
     {NULL},
     mk_oci_cmd_state,
     "Print a container's state as JSON",
     NULL,
     NULL},
    {"kill",
     {NULL},
     mk_oci_cmd_kill,
     "Send a signal to a container's init (--all: every process)",
     NULL,
     NULL},
    {"delete",
     {NULL},
     mk_oci_cmd_delete,
     "Remove a stopped container (--force: any)",
     NULL,
     NULL},
    {"run",
     {NULL},
     mk_oci_cmd_run,
     "Create and start a container, and wait for it (-d: do not wait)",
     mk_oci_create_flags,
     NULL},
    {"exec",
     {NULL},
     mk_oci_cmd_exec,
     "Run one more process in a container (--process FILE or a command)",
     mk_oci_exec_flags,
     NULL},
    {"ps",
     {NULL},
     mk_oci_cmd_ps,
     "List a container's processes (--format table|json)",
     NULL,
     NULL},
    {"pause",
     {NULL},
     mk_oci_cmd_pause,
     "Freeze a running container",
     NULL,
     NULL},
    {"resume",
     {NULL},
     mk_oci_cmd_resume,
     "Thaw a paused container",
     NULL,
     NULL},
    {"update",
     {NULL},
     mk_oci_cmd_update,
     "Change limits: --resources FILE|- (LinuxResources JSON)",
     NULL,
     NULL},
    {"list",
     {NULL},
     mk_oci_cmd_list,
     "List this root's containers (--format table|json, -q)",
     NULL,
     NULL},
    {"features",
     {NULL},
     mk_oci_cmd_features,
     "Print what this runtime supports (runtime-spec features JSON)",
     NULL,
     NULL},
    {NULL, {NULL}, NULL, NULL, NULL, NULL},
};

enum {
  OPT_ROOT = 1,
  OPT_LOG,
  OPT_LOG_FORMAT,
  OPT_DEBUG,
  OPT_SYSTEMD_CGROUP,
  OPT_HELP,
  OPT_VERSION
};

static const struct mk_flag global_flags[] = {
    {"root", 0, 1, OPT_ROOT},
    {"log", 0, 1, OPT_LOG},
    {"log-format", 0, 1, OPT_LOG_FORMAT},
    {"debug", 0, 0, OPT_DEBUG},
    {"systemd-cgroup", 0, 0, OPT_SYSTEMD_CGROUP},
    {"help", 'h', 0, OPT_HELP},
    {"version", 'v', 0, OPT_VERSION},
    {NULL, 0, 0, 0},
};

struct mk_oci *mk_oci_of(struct mk_ctx *ctx)
{
  return (struct mk_oci *)((char *)ctx - offsetof(struct mk_oci, ctx));
}

/* One line in the --log file, in logrus's text or JSON form. */
static void log_line(const struct mk_oci *o, const char *level, const char *msg)
{
  char now[40];
  _cleanup_free_ char *line = NULL;

  int fd = o->log_fd;

  if (fd < 0)
    return;
  mk_time_now_rfc3339(now, sizeof(now));
  if (o->log_json) {
    json_auto_t *j =
        json_pack("{s:s, s:s, s:s}", "level", level, "msg", msg, "time", now);
    line = j ? json_dumps(j, JSON_COMPACT) : NULL;
  } else {
    json_auto_t *q = json_string(msg); /* quoted and escaped */
    _cleanup_free_ char *quoted = q ? json_dumps(q, JSON_ENCODE_ANY) : NULL;
    if (quoted &&
        asprintf(&line, "time=\"%s\" level=%s msg=%s", now, level, quoted) < 0)
      line = NULL;
  }
  if (line && mk_write_all(fd, line, strlen(line)) == 0)
    (void)mk_write_all(fd, "\n", 1);
}

int mk_oci_fail(const struct mk_oci *o, const char *msg)
{
  fprintf(stderr, "%s: %s\n", MK_OCI_PROGRAM, msg);
  log_line(o, "error", msg);
  return 1;
}

void mk_oci_warn(const struct mk_oci *o, const char *msg)
{
  fprintf(stderr, "%s: warning: %s\n", MK_OCI_PROGRAM, msg);
  log_line(o, "warning", msg);
}

static void usage(FILE *out)
{
  fputs("Usage:  " MK_OCI_PROGRAM " [GLOBAL OPTIONS] COMMAND [ARGS...]\n"
        "\n"
        "mocker's OCI runtime: runc's command line, for containerd, CRI-O "
        "and podman\n"
        "\n"
        "Global options:\n"
        "      --root string        State of the containers (default "
        "\"" MK_OCI_DEFAULT_ROOT "\")\n"
        "      --log string         Also append errors to this file\n"
        "      --log-format string  text or json (default \"text\")\n"
        "      --debug              Verbose messages\n"
        "      --systemd-cgroup     Refused: cgroupsPath is a cgroupfs path\n"
        "  -h, --help               Print usage\n"
        "  -v, --version            Print the version\n"
        "\n"
        "Commands:\n",
        out);
  for (const struct mk_command *c = commands; c->name; c++)
    if (c->summary)
      fprintf(out, "  %-10s  %s\n", c->name, c->summary);
}

static int set_root(struct mk_oci *o, const char *root, mk_error_t *err)
{
  if (root[0] != '/' || strlen(root) >= sizeof(o->ctx.root) - 128)
    return mk_error_set(err, EINVAL, "--root must be an absolute path: `%s`",
                        root);
  snprintf(o->ctx.root, sizeof(o->ctx.root), "%s", root);
  return 0;
}

struct globals {
  struct mk_oci *o;
  int help, version;
};

static int apply_global(void *data, int id, const char *v, mk_error_t *err)
{
  struct globals *g = data;

  switch (id) {
  case OPT_ROOT: return set_root(g->o, v, err);
  case OPT_LOG:
    /* opened once, now: exec joins a container's mount namespace, where
     * this path would name the container's file */
    g->o->log = v;
    mk_close(g->o->log_fd);
    g->o->log_fd =
        open(v, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
    return 0;
  case OPT_LOG_FORMAT:
    if (strcmp(v, "json") != 0 && strcmp(v, "text") != 0)
      return mk_error_set(err, EINVAL,
                          "invalid --log-format `%s`: want text or json", v);
    g->o->log_json = strcmp(v, "json") == 0;
    return 0;
  case OPT_DEBUG: g->o->debug = 1; return 0;
  case OPT_SYSTEMD_CGROUP:
    return mk_error_set(err, ENOTSUP,
                        "--systemd-cgroup is not supported: mocker-runtime "
                        "manages cgroupfs itself (cgroupsPath is a path)");
  case OPT_HELP: g->help = 1; return 0;
  case OPT_VERSION: g->version = 1; return 0;
  }
  return mk_error_set(err, EINVAL, "unexpected option");
}

int mk_oci_main(int argc, char **argv)
{
  struct mk_oci o = {.log_fd = -1};
  struct globals g = {.o = &o};
  mk_error_t err = {0};
  int verb;

  set_root(&o, MK_OCI_DEFAULT_ROOT, &err);
  verb = mk_parse_flags(argc, argv, 1, global_flags, apply_global, &g, &err);
  if (verb < 0)
    return mk_oci_fail(&o, err.msg);

  if (g.version) {
    printf("%s version %s\nspec: 1.1.0\n", MK_OCI_PROGRAM, MK_VERSION);
    return 0;
  }
  if (g.help || verb >= argc) {
    usage(g.help ? stdout : stderr);
    return g.help ? 0 : 1;
  }
  const struct mk_command *c = mk_command_find(commands, argv[verb]);
  if (!c) {
    snprintf(err.msg, sizeof(err.msg), "unknown command `%s`", argv[verb]);
    return mk_oci_fail(&o, err.msg);
  }
  /* a state root others can write, or that is not ours, is refused */
  if (c->fn != mk_oci_cmd_spec && c->fn != mk_oci_cmd_features &&
      mk_ctx_check_root(&o.ctx, &err) < 0)
    return mk_oci_fail(&o, err.msg);
  return c->fn(&o.ctx, argc - verb, argv + verb);
}
