/* Docker's exit status conventions, shared by supervisor and init. */
#ifndef MK_EXIT_H
#define MK_EXIT_H

enum {
  MK_EXIT_MOCKER_FAILED = 125,
  MK_EXIT_CANNOT_EXECUTE = 126,
  MK_EXIT_NOT_FOUND = 127,
};

/* The workload's exit code, or 128+N when it died of signal N. */
int mk_exit_code_from_wait(int wait_status);

/* 127 when the command does not exist, 126 when it cannot be executed. */
int mk_exit_code_for_exec_errno(int err);

#endif
