/* mocker inspect: not written yet. */
#include <stdio.h>

#include "commands.h"
#include "mk_exit.h"

int mk_cmd_inspect(struct mk_ctx *ctx, int argc, char **argv)
{
  (void)ctx, (void)argc, (void)argv;
  mk_print_error("inspect: not implemented yet");
  return MK_EXIT_MOCKER_FAILED;
}
