/* mocker ps: not written yet. */
#include <stdio.h>

#include "commands.h"
#include "mk_exit.h"

int mk_cmd_ps(struct mk_ctx *ctx, int argc, char **argv)
{
  (void)ctx, (void)argc, (void)argv;
  mk_print_error("ps: not implemented yet");
  return MK_EXIT_MOCKER_FAILED;
}
