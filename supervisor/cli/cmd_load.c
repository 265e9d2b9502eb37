/* mocker load [-i FILE] [-q]. Every failure is mocker's own: exit 125. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "commands.h"
#include "base/flags.h"
#include "image/load.h"
#include "mk_exit.h"
#include "mk_util.h"

enum { LOAD_INPUT = 1, LOAD_QUIET, LOAD_HELP };

const struct mk_flag mk_load_flags[] = {
    {"input", 'i', 1, LOAD_INPUT},
    {"quiet", 'q', 0, LOAD_QUIET},
    {"help", 0, 0, LOAD_HELP},
    {NULL, 0, 0, 0},
};

struct load_opts {
  const char *input;
  int quiet, help;
};

static int apply_load_flag(void *data, int id, const char *v, mk_error_t *err)
{
  struct load_opts *o = data;

  (void)err;
  if (id == LOAD_INPUT)
    o->input = v;
  else if (id == LOAD_QUIET)
    o->quiet = 1;
  else
    o->help = 1;
  return 0;
}

int mk_cmd_load(struct mk_ctx *ctx, int argc, char **argv)
{
  struct load_opts o = {0};
  mk_error_t err = {0};
  int i =
      mk_parse_flags(argc, argv, 1, mk_load_flags, apply_load_flag, &o, &err);
  _cleanup_close_ int fd = -1;

  if (i < 0 || i < argc) {
    mk_print_error(i < 0 ? err.msg : "\"mocker load\" takes no arguments");
    fputs("See 'mocker load --help'.\n", stderr);
    return MK_EXIT_MOCKER_FAILED;
  }
  if (o.help) {
    puts("Usage:  mocker load [OPTIONS]\n\n"
         "Load an image from a tar archive (docker save or OCI layout) or "
         "STDIN\n\nOptions:\n"
         "  -i, --input string   Read from tar archive file, instead of STDIN\n"
         "  -q, --quiet          Suppress the load output");
    return 0;
  }
  if (!o.input && isatty(STDIN_FILENO)) {
    mk_print_error("requested load from stdin, but stdin is empty");
    return MK_EXIT_MOCKER_FAILED;
  }
  fd = o.input ? open(o.input, O_RDONLY | O_CLOEXEC)
               : fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
  if (fd < 0) {
    mk_error_sys(&err, errno, "open `%s`", o.input ? o.input : "stdin");
    mk_print_error(err.msg);
    return MK_EXIT_MOCKER_FAILED;
  }
  if (mk_load_fd(ctx, fd, o.quiet ? NULL : stdout, &err) < 0) {
    mk_print_error(err.msg);
    return MK_EXIT_MOCKER_FAILED;
  }
  return 0;
}
