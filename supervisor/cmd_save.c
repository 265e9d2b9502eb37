/* mocker save [-o FILE] IMAGE... */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "commands.h"
#include "flags.h"
#include "mk_exit.h"
#include "mk_util.h"
#include "save.h"

enum { SAVE_OUTPUT = 1, SAVE_HELP };

static const struct mk_flag save_flags[] = {
    {"output", 'o', 1, SAVE_OUTPUT},
    {"help", 0, 0, SAVE_HELP},
    {NULL, 0, 0, 0},
};

struct save_opts {
  const char *output;
  int help;
};

static int apply_save_flag(void *data, int id, const char *v, mk_error_t *err)
{
  struct save_opts *o = data;

  (void)err;
  if (id == SAVE_OUTPUT)
    o->output = v;
  else
    o->help = 1;
  return 0;
}

int mk_cmd_save(struct mk_ctx *ctx, int argc, char **argv)
{
  struct save_opts o = {0};
  mk_error_t err = {0};
  int i = mk_parse_flags(argc, argv, 1, save_flags, apply_save_flag, &o, &err);
  char tmp[PATH_MAX + 16];
  int fd;

  if (i < 0 || (!o.help && i >= argc)) {
    mk_print_error(i < 0 ? err.msg
                         : "\"mocker save\" requires at least 1 argument.");
    fputs("See 'mocker save --help'.\n", stderr);
    return MK_EXIT_MOCKER_FAILED;
  }
  if (o.help) {
    puts("Usage:  mocker save [OPTIONS] IMAGE [IMAGE...]\n\n"
         "Save one or more images to a tar archive (streamed to STDOUT by "
         "default)\n\nOptions:\n"
         "  -o, --output string   Write to a file, instead of STDOUT");
    return 0;
  }
  if (!o.output && isatty(STDOUT_FILENO)) {
    mk_print_error("cowardly refusing to save to a terminal. Use the -o flag "
                   "or redirect");
    return 1;
  }
  /* Written beside the target and renamed: no half archive under its name. */
  if (o.output)
    snprintf(tmp, sizeof(tmp), "%s.tmp%d", o.output, getpid());
  fd = o.output ? open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)
                : fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
  if (fd < 0) {
    mk_error_sys(&err, errno, "create `%s`", o.output ? tmp : "stdout");
    mk_print_error(err.msg);
    return 1;
  }
  int r = mk_save(ctx, argv + i, argc - i, fd, &err);
  if (close(fd) < 0 && r == 0)
    r = mk_error_sys(&err, errno, "write `%s`", o.output ? tmp : "stdout");
  if (o.output && r == 0 && rename(tmp, o.output) < 0)
    r = mk_error_sys(&err, errno, "rename to `%s`", o.output);
  if (r < 0) {
    if (o.output)
      unlink(tmp);
    mk_print_error(err.msg);
    return 1;
  }
  return 0;
}
