/* Unit tests for shared/mk_exit: Docker's exit status conventions. The
 * wait statuses come from real children, so the test does not depend on
 * how the C library encodes them. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <check.h>

#include "unit_main.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mk_exit.h"

/* Forks a child that exits with `code`; returns its wait status. */
static int status_of_exit(int code)
{
  int status;
  pid_t pid = fork();

  ck_assert_int_ge(pid, 0);
  if (pid == 0)
    _exit(code);
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  return status;
}

/* Forks a child that dies of `sig`; returns its wait status. */
static int status_of_signal(int sig)
{
  int status;
  pid_t pid = fork();

  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    struct rlimit no_core = {0, 0};
    /* No core files (or core handler runs) from SIGSEGV/SIGABRT. */
    setrlimit(RLIMIT_CORE, &no_core);
    prctl(PR_SET_DUMPABLE, 0);
    signal(sig, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
    _exit(99); /* not reached for a fatal signal */
  }
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  ck_assert(WIFSIGNALED(status));
  return status;
}

START_TEST(test_exit_codes_from_real_children)
{
  static const int codes[] = {0, 1, 3, 125, 126, 127, 128, 200, 255};

  for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
    ck_assert_int_eq(mk_exit_code_from_wait(status_of_exit(codes[i])),
                     codes[i]);
}
END_TEST

START_TEST(test_signals_from_real_children)
{
  ck_assert_int_eq(mk_exit_code_from_wait(status_of_signal(SIGKILL)), 137);
  ck_assert_int_eq(mk_exit_code_from_wait(status_of_signal(SIGTERM)), 143);
  ck_assert_int_eq(mk_exit_code_from_wait(status_of_signal(SIGINT)), 130);
  ck_assert_int_eq(mk_exit_code_from_wait(status_of_signal(SIGHUP)), 129);
  /* A core-dumping signal still maps to 128+N, whatever the core flag. */
  ck_assert_int_eq(mk_exit_code_from_wait(status_of_signal(SIGABRT)),
                   128 + SIGABRT);
  ck_assert_int_eq(mk_exit_code_from_wait(status_of_signal(SIGSEGV)),
                   128 + SIGSEGV);
}
END_TEST

START_TEST(test_constructed_statuses)
{
  ck_assert_int_eq(mk_exit_code_from_wait(W_EXITCODE(0, 0)), 0);
  ck_assert_int_eq(mk_exit_code_from_wait(W_EXITCODE(3, 0)), 3);
  ck_assert_int_eq(mk_exit_code_from_wait(W_EXITCODE(255, 0)), 255);
  ck_assert_int_eq(mk_exit_code_from_wait(W_EXITCODE(0, SIGKILL)), 128 + 9);
  ck_assert_int_eq(mk_exit_code_from_wait(W_EXITCODE(0, SIGTERM)), 128 + 15);
  ck_assert_int_eq(mk_exit_code_from_wait(W_EXITCODE(0, SIGQUIT) | 0x80),
                   128 + SIGQUIT); /* with WCOREDUMP set */
}
END_TEST

/* A stopped child has no exit code: that is mocker's failure, not the
 * workload's (the supervisor never waits with WUNTRACED). */
START_TEST(test_stopped_status_is_mocker_failure)
{
  ck_assert_int_eq(mk_exit_code_from_wait(W_STOPCODE(SIGSTOP)),
                   MK_EXIT_MOCKER_FAILED);
}
END_TEST

START_TEST(test_docker_constants)
{
  ck_assert_int_eq(MK_EXIT_MOCKER_FAILED, 125);
  ck_assert_int_eq(MK_EXIT_CANNOT_EXECUTE, 126);
  ck_assert_int_eq(MK_EXIT_NOT_FOUND, 127);
}
END_TEST

START_TEST(test_exec_errno_not_found)
{
  ck_assert_int_eq(mk_exit_code_for_exec_errno(ENOENT), 127);
}
END_TEST

START_TEST(test_exec_errno_cannot_execute)
{
  ck_assert_int_eq(mk_exit_code_for_exec_errno(EACCES), 126);
  ck_assert_int_eq(mk_exit_code_for_exec_errno(EISDIR), 126);
  ck_assert_int_eq(mk_exit_code_for_exec_errno(ENOEXEC), 126);
  ck_assert_int_eq(mk_exit_code_for_exec_errno(EPERM), 126);
  ck_assert_int_eq(mk_exit_code_for_exec_errno(ETXTBSY), 126);
}
END_TEST

/* The errnos really produced by execve, checked against the mapping:
 * a missing file gives 127, a directory and a non-executable file 126. */
START_TEST(test_exec_errno_from_real_execve)
{
  char dir[] = "/tmp/mk-exit-XXXXXX";
  char file[64];
  char *argv[] = {NULL, NULL};
  char *envp[] = {NULL};
  int fd;

  ck_assert_ptr_nonnull(mkdtemp(dir));
  snprintf(file, sizeof(file), "%s/plain", dir);
  fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  ck_assert_int_ge(fd, 0);
  close(fd);

  argv[0] = "missing";
  errno = 0;
  execve("/nonexistent/mk-missing", argv, envp);
  int e_missing = errno;
  execve(dir, argv, envp);
  int e_dir = errno;
  execve(file, argv, envp);
  int e_plain = errno;
  unlink(file);
  rmdir(dir);

  ck_assert_int_eq(mk_exit_code_for_exec_errno(e_missing), 127);
  ck_assert_int_eq(mk_exit_code_for_exec_errno(e_dir), 126);
  ck_assert_int_eq(mk_exit_code_for_exec_errno(e_plain), 126);
}
END_TEST

static Suite *exit_suite(void)
{
  Suite *s = suite_create("exit");
  TCase *tc = tcase_create("wait-status");

  tcase_add_test(tc, test_exit_codes_from_real_children);
  tcase_add_test(tc, test_signals_from_real_children);
  tcase_add_test(tc, test_constructed_statuses);
  tcase_add_test(tc, test_stopped_status_is_mocker_failure);
  tcase_add_test(tc, test_docker_constants);
  suite_add_tcase(s, tc);

  tc = tcase_create("exec-errno");
  tcase_add_test(tc, test_exec_errno_not_found);
  tcase_add_test(tc, test_exec_errno_cannot_execute);
  tcase_add_test(tc, test_exec_errno_from_real_execve);
  suite_add_tcase(s, tc);
  return s;
}

MK_UNIT_MAIN(exit_suite)
