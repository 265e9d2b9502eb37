#include "mk_exit.h"

#include <errno.h>
#include <sys/wait.h>

int mk_exit_code_from_wait(int wait_status)
{
  if (WIFEXITED(wait_status))
    return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status))
    return 128 + WTERMSIG(wait_status);
  return MK_EXIT_MOCKER_FAILED;
}

int mk_exit_code_for_exec_errno(int err)
{
  switch (err) {
  case ENOENT:
  case ENOTDIR:
  case ELOOP:
  case ENAMETOOLONG: return MK_EXIT_NOT_FOUND;
  default: return MK_EXIT_CANNOT_EXECUTE;
  }
}
