/* The Docker CLI front: `mocker [OPTIONS] COMMAND`, global options, then
 * a verb from the command table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "docker.h"
#include "commands.h"
#include "base/context.h"
#include "mk_exit.h"
#include "image/unpack.h"

/* The verbs, each with the flag table its parser uses (and, for the
 * management verbs, its subcommands): `mocker __flags` prints them for
 * the completion and man page generators. */
static const struct mk_command commands[] = {
    {"run",
     {NULL},
     mk_cmd_run,
     "Create and run a new container from an image",
     mk_run_flags,
     NULL},
    {"create",
     {NULL},
     mk_cmd_create,
     "Create a new container",
     mk_run_flags,
     NULL},
    {"start",
     {NULL},
     mk_cmd_start,
     "Start one or more stopped containers",
     mk_start_flags,
     NULL},
    {"restart",
     {NULL},
     mk_cmd_restart,
     "Restart one or more containers",
     mk_restart_flags,
     NULL},
    {"stop",
     {NULL},
     mk_cmd_stop,
     "Stop one or more running containers",
     mk_stop_flags,
     NULL},
    {"kill",
     {NULL},
     mk_cmd_kill,
     "Kill one or more running containers",
     mk_kill_flags,
     NULL},
    {"wait",
     {NULL},
     mk_cmd_wait,
     "Block until one or more containers stop, then print their exit codes",
     mk_wait_flags,
     NULL},
    {"rm",
     {NULL},
     mk_cmd_rm,
     "Remove one or more containers",
     mk_rm_flags,
     NULL},
    {"ps", {NULL}, mk_cmd_ps, "List containers", mk_ps_flags, NULL},
    {"logs",
     {NULL},
     mk_cmd_logs,
     "Fetch the logs of a container",
     mk_logs_flags,
     NULL},
    {"attach",
     {NULL},
     mk_cmd_attach,
     "Attach local standard input, output, and error streams to a running "
     "container",
     mk_attach_flags,
     NULL},
    {"exec",
     {NULL},
     mk_cmd_exec,
     "Execute a command in a running container",
     mk_exec_flags,
     NULL},
    {"inspect",
     {NULL},
     mk_cmd_inspect,
     "Return low-level information on containers and images",
     mk_inspect_flags,
     NULL},
    {"top",
     {NULL},
     mk_cmd_top,
     "Display the running processes of a container",
     mk_help_flags,
     NULL},
    {"stats",
     {NULL},
     mk_cmd_stats,
     "Display a live stream of container(s) resource usage statistics",
     mk_stats_flags,
     NULL},
    {"update",
     {NULL},
     mk_cmd_update,
     "Update configuration of one or more containers",
     mk_update_flags,
     NULL},
    {"rename",
     {NULL},
     mk_cmd_rename,
     "Rename a container",
     mk_help_flags,
     NULL},
    {"container",
     {NULL},
     mk_cmd_container,
     "Manage containers",
     mk_help_flags,
     mk_container_commands},
    {"volume",
     {NULL},
     mk_cmd_volume,
     "Manage volumes",
     mk_help_flags,
     mk_volume_commands},
    {"network",
     {NULL},
     mk_cmd_network,
     "Manage networks",
     mk_help_flags,
     mk_network_commands},
    {"port",
     {NULL},
     mk_cmd_port,
     "List port mappings or a specific mapping for the container",
     mk_port_flags,
     NULL},
    {"pull",
     {NULL},
     mk_cmd_pull,
     "Download an image from a registry",
     mk_pull_flags,
     NULL},
    {"images", {NULL}, mk_cmd_images, "List images", mk_images_flags, NULL},
    {"rmi",
     {NULL},
     mk_cmd_rmi,
     "Remove one or more images",
     mk_rmi_flags,
     NULL},
    {"tag",
     {NULL},
     mk_cmd_tag,
     "Create a tag that refers to an image",
     mk_help_flags,
     NULL},
    {"image",
     {NULL},
     mk_cmd_image,
     "Manage images",
     mk_help_flags,
     mk_image_commands},
    {"load",
     {NULL},
     mk_cmd_load,
     "Load an image from a tar archive or STDIN",
     mk_load_flags,
     NULL},
    {"save",
     {NULL},
     mk_cmd_save,
     "Save one or more images to a tar archive",
     mk_save_flags,
     NULL},
    {"login",
     {NULL},
     mk_cmd_login,
     "Log in to a registry",
     mk_login_flags,
     NULL},
    {"logout",
     {NULL},
     mk_cmd_logout,
     "Log out from a registry",
     mk_help_flags,
     NULL},
    {NULL, {NULL}, NULL, NULL, NULL, NULL},
};

/* What parse_globals takes, for __flags (it parses them by hand: the
 * first word that is not one of them is the verb). */
static const struct mk_flag global_flags[] = {
    {"root", 0, 1, 0},
    {"version", 'v', 0, 0},
    {"help", 'h', 0, 0},
    {NULL, 0, 0, 0},
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
  for (const struct mk_command *c = commands; c->name; c++)
    fprintf(out, "  %-10s  %s\n", c->name, c->summary);
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

int mk_docker_main(int argc, char **argv)
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
  /* Hidden: for the build's generators, which may run as anyone, so it
   * comes before the state root is looked at. */
  if (strcmp(argv[verb], "__flags") == 0) {
    mk_print_command_tree(stdout, global_flags, commands);
    return fflush(stdout) == 0 ? 0 : MK_EXIT_MOCKER_FAILED;
  }
  if (mk_ctx_check_root(&ctx, &err) < 0 || mk_check_size_knobs(&err) < 0) {
    mk_print_error(err.msg);
    return MK_EXIT_MOCKER_FAILED;
  }
  const struct mk_command *c = mk_command_find(commands, argv[verb]);
  if (c)
    return c->fn(&ctx, argc - verb, argv + verb);
  fprintf(stderr,
          "mocker: '%s' is not a mocker command.\nSee 'mocker --help'.\n",
          argv[verb]);
  return MK_EXIT_MOCKER_FAILED;
}
