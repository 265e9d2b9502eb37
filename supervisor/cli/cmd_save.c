/* mocker save [-o FILE] IMAGE... */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "commands.h"
#include "base/flags.h"
#include "mk_exit.h"
#include "mk_util.h"
#include "base/safefile.h"
#include "image/save.h"

enum { SAVE_OUTPUT = 1, SAVE_HELP };

const struct mk_flag mk_save_flags[] = {
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

/* Written beside the target under a random name and renamed: no half
 * archive under its name, and nothing planted there is written through. */
static int save_to_file(struct mk_ctx *ctx, char **refs, int n,
                        const char *path)
{
  struct mk_safefile f;
  mk_error_t err = {0};

  if (mk_safefile_open(&f, path, 0644, &err) < 0) {
    mk_print_error(err.msg);
    return 1;
  }
  if (mk_save(ctx, refs, n, f.fd, &err) < 0) {
    mk_safefile_abort(&f);
    mk_print_error(err.msg);
    return 1;
  }
  if (mk_safefile_commit(&f, &err) < 0) {
    mk_print_error(err.msg);
    return 1;
  }
  return 0;
}

static int save_to_stdout(struct mk_ctx *ctx, char **refs, int n)
{
  mk_error_t err = {0};
  int fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
  int r;

  if (fd < 0) {
    mk_error_sys(&err, errno, "write to stdout");
    mk_print_error(err.msg);
    return 1;
  }
  r = mk_save(ctx, refs, n, fd, &err);
  if (close(fd) < 0 && r == 0)
    r = mk_error_sys(&err, errno, "write to stdout");
  if (r < 0) {
    mk_print_error(err.msg);
    return 1;
  }
  return 0;
}

int mk_cmd_save(struct mk_ctx *ctx, int argc, char **argv)
{
  struct save_opts o = {0};
  mk_error_t err = {0};
  int i =
      mk_parse_flags(argc, argv, 1, mk_save_flags, apply_save_flag, &o, &err);

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
  return o.output ? save_to_file(ctx, argv + i, argc - i, o.output)
                  : save_to_stdout(ctx, argv + i, argc - i);
}
