/* mocker pull [--platform os/arch[/variant]] [-q] REF */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "commands.h"
#include "base/flags.h"
#include "mk_exit.h"
#include "image/pull.h"

static const char pull_usage[] =
    "Usage:  mocker pull [OPTIONS] NAME[:TAG|@DIGEST]\n"
    "\n"
    "Download an image from a registry\n"
    "\n"
    "Options:\n"
    "      --platform string   Set platform if server is multi-platform "
    "capable (os/arch[/variant])\n"
    "  -q, --quiet             Suppress verbose output\n"
    "      --help              Print usage\n";

enum { PULL_PLATFORM = 1, PULL_QUIET, PULL_HELP };

const struct mk_flag mk_pull_flags[] = {
    {"platform", 0, 1, PULL_PLATFORM},
    {"quiet", 'q', 0, PULL_QUIET},
    {"help", 0, 0, PULL_HELP},
    {NULL, 0, 0, 0},
};

struct pull_cli {
  const char *platform;
  int quiet, help;
};

static int apply_pull_flag(void *data, int id, const char *value,
                           mk_error_t *err)
{
  struct pull_cli *o = data;

  (void)err;
  if (id == PULL_PLATFORM)
    o->platform = value;
  else if (id == PULL_QUIET)
    o->quiet = 1;
  else
    o->help = 1;
  return 0;
}

int mk_cmd_pull(struct mk_ctx *ctx, int argc, char **argv)
{
  struct pull_cli o = {0};
  struct mk_pull_opts opts = {.out = stdout};
  mk_error_t err = {0};
  int i =
      mk_parse_flags(argc, argv, 1, mk_pull_flags, apply_pull_flag, &o, &err);

  if (i < 0) {
    mk_print_error(err.msg);
    fputs("See 'mocker pull --help'.\n", stderr);
    return MK_EXIT_MOCKER_FAILED;
  }
  if (o.help) {
    fputs(pull_usage, stdout);
    return 0;
  }
  if (argc - i != 1) {
    fputs("mocker: \"mocker pull\" requires exactly 1 argument.\n"
          "See 'mocker pull --help'.\n",
          stderr);
    return MK_EXIT_MOCKER_FAILED;
  }
  signal(SIGPIPE, SIG_IGN);
  opts.quiet = o.quiet;
  if (mk_platform_parse(o.platform, &opts.platform, &err) < 0 ||
      mk_pull(ctx, argv[i], &opts, NULL, &err) < 0) {
    mk_print_error(err.msg);
    return MK_EXIT_MOCKER_FAILED;
  }
  return 0;
}
