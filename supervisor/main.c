/* mocker: a daemonless container engine. Global options, then a verb
 * from the command table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "context.h"
#include "mk_exit.h"
#include "unpack.h"

struct command {
  const char *name;
  int (*fn)(struct mk_ctx *ctx, int argc, char **argv);
  const char *summary;
};

static const struct command commands[] = {
    {"run", mk_cmd_run, "Create and run a new container from an image"},
    {"create", mk_cmd_create, "Create a new container"},
    {"start", mk_cmd_start, "Start one or more stopped containers"},
    {"restart", mk_cmd_restart, "Restart one or more containers"},
    {"stop", mk_cmd_stop, "Stop one or more running containers"},
    {"kill", mk_cmd_kill, "Kill one or more running containers"},
    {"wait", mk_cmd_wait,
     "Block until one or more containers stop, then print their exit codes"},
    {"rm", mk_cmd_rm, "Remove one or more containers"},
    {"ps", mk_cmd_ps, "List containers"},
    {"logs", mk_cmd_logs, "Fetch the logs of a container"},
    {"attach", mk_cmd_attach,
     "Attach local standard input, output, and error streams to a running "
     "container"},
    {"exec", mk_cmd_exec, "Execute a command in a running container"},
    {"inspect", mk_cmd_inspect,
     "Return low-level information on containers and images"},
    {"top", mk_cmd_top, "Display the running processes of a container"},
    {"stats", mk_cmd_stats,
     "Display a live stream of container(s) resource usage statistics"},
    {"update", mk_cmd_update, "Update configuration of one or more containers"},
    {"rename", mk_cmd_rename, "Rename a container"},
    {"container", mk_cmd_container, "Manage containers"},
    {"volume", mk_cmd_volume, "Manage volumes"},
    {"network", mk_cmd_network, "Manage networks"},
    {"port", mk_cmd_port,
     "List port mappings or a specific mapping for the container"},
    {"pull", mk_cmd_pull, "Download an image from a registry"},
    {"images", mk_cmd_images, "List images"},
    {"rmi", mk_cmd_rmi, "Remove one or more images"},
    {"tag", mk_cmd_tag, "Create a tag that refers to an image"},
    {"image", mk_cmd_image, "Manage images"},
    {"load", mk_cmd_load, "Load an image from a tar archive or STDIN"},
    {"save", mk_cmd_save, "Save one or more images to a tar archive"},
    {"login", mk_cmd_login, "Log in to a registry"},
    {"logout", mk_cmd_logout, "Log out from a registry"},
};

void mk_print_error(const char *msg)
{
  fprintf(stderr, "mocker: %s\n", msg);
}

static void usage(FILE *out)
{
  fputs("Usage:  mocker [OPTIONS] COMMAND\n"
        "\n"
        "A daemonless container engine\n"
        "\n"
        "Options:\n"
        "      --root string   Root of mocker's state (default "
        "\"" MK_DEFAULT_ROOT "\", or $MOCKER_ROOT)\n"
        "  -v, --version       Print version information and quit\n"
        "      --help          Print usage\n"
        "\n"
        "Commands:\n",
        out);
  for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
    fprintf(out, "  %-10s  %s\n", commands[i].name, commands[i].summary);
  fputs("\nRun 'mocker COMMAND --help' for more information on a command.\n",
        out);
}

static int set_root(struct mk_ctx *ctx, const char *root)
{
  if (root[0] != '/' || strlen(root) >= sizeof(ctx->root) - 128) {
    fprintf(stderr, "mocker: --root must be an absolute path: `%s`\n", root);
    return -1;
  }
  snprintf(ctx->root, sizeof(ctx->root), "%s", root);
  size_t n = strlen(ctx->root);
  while (n > 1 && ctx->root[n - 1] == '/')
    ctx->root[--n] = '\0';
  return 0;
}

/* Global options stop at the first word that is not one: the verb. */
static int parse_globals(struct mk_ctx *ctx, int argc, char **argv, int *next)
{
  const char *env = getenv("MOCKER_ROOT");
  int i = 1;

  if (set_root(ctx, env && *env ? env : MK_DEFAULT_ROOT) < 0)
    return MK_EXIT_MOCKER_FAILED;
  for (; i < argc && argv[i][0] == '-'; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage(stdout);
      return 0;
    }
    if (strcmp(a, "--version") == 0 || strcmp(a, "-v") == 0) {
      printf("mocker version %s\n", MK_VERSION);
      return 0;
    }
    if (strcmp(a, "--root") == 0 && i + 1 < argc) {
      if (set_root(ctx, argv[++i]) < 0)
        return MK_EXIT_MOCKER_FAILED;
      continue;
    }
    if (strncmp(a, "--root=", 7) == 0) {
      if (set_root(ctx, a + 7) < 0)
        return MK_EXIT_MOCKER_FAILED;
      continue;
    }
    fprintf(stderr, "mocker: unknown flag: %s\nSee 'mocker --help'.\n", a);
    return MK_EXIT_MOCKER_FAILED;
  }
  *next = i;
  return -1;
}

int main(int argc, char **argv)
{
  struct mk_ctx ctx;
  mk_error_t err = {0};
  int verb = 0;
  int r = parse_globals(&ctx, argc, argv, &verb);

  if (r >= 0)
    return r;
  if (verb >= argc) {
    usage(stderr);
    return MK_EXIT_MOCKER_FAILED;
  }
  if (mk_ctx_check_root(&ctx, &err) < 0 || mk_check_size_knobs(&err) < 0) {
    mk_print_error(err.msg);
    return MK_EXIT_MOCKER_FAILED;
  }
  for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
    if (strcmp(argv[verb], commands[i].name) == 0)
      return commands[i].fn(&ctx, argc - verb, argv + verb);
  fprintf(stderr,
          "mocker: '%s' is not a mocker command.\nSee 'mocker --help'.\n",
          argv[verb]);
  return MK_EXIT_MOCKER_FAILED;
}
