/* mocker top: not written yet. */
#include <stdio.h>

#include "commands.h"
#include "mk_exit.h"

int mk_cmd_top(struct mk_ctx *ctx, int argc, char **argv)
{
  (void)ctx, (void)argc, (void)argv;
  mk_print_error("top: not implemented yet");
  return MK_EXIT_MOCKER_FAILED;
}
