/* mocker container: not written yet. */
#include <stdio.h>

#include "commands.h"
#include "mk_exit.h"

int mk_cmd_container(struct mk_ctx *ctx, int argc, char **argv)
{
  (void)ctx, (void)argc, (void)argv;
  mk_print_error("container: not implemented yet");
  return MK_EXIT_MOCKER_FAILED;
}
