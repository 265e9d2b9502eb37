/* Unit tests for shared/mk_trace: the lines bench/trace parses. Each
 * step is written by a child whose stderr is a pipe, so the real write
 * is what the test reads. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <check.h>

#include "unit_main.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mk_trace.h"

/* What a child writes on stderr when it sets up with `env` (NULL:
 * MOCKER_TRACE unset) and traces two steps; *pid gets its pid. */
static char *trace_of(const char *env, pid_t *pid)
{
  static char out[512];
  int fds[2];

  ck_assert_int_eq(pipe(fds), 0);
  *pid = fork();
  ck_assert_int_ge(*pid, 0);
  if (*pid == 0) {
    dup2(fds[1], STDERR_FILENO);
    if (env)
      setenv("MOCKER_TRACE", env, 1);
    else
      unsetenv("MOCKER_TRACE");
    mk_trace_setup("unit");
    MK_TRACE("first step");
    MK_TRACE("second");
    _exit(0);
  }
  close(fds[1]);
  ssize_t n, got = 0;
  while ((n = read(fds[0], out + got, sizeof(out) - 1 - (size_t)got)) > 0)
    got += n;
  out[got] = '\0';
  close(fds[0]);
  int status;
  ck_assert_int_eq(waitpid(*pid, &status, 0), *pid);
  ck_assert_int_eq(status, 0);
  return out;
}

/* "mocker-trace <us> <who> <pid> <step>\n", one line a step, the
 * timestamps CLOCK_MONOTONIC's (those of other processes compare). */
START_TEST(test_lines_bench_trace_reads)
{
  struct timespec ts;
  pid_t pid;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  long long before = (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
  char *text = trace_of("1", &pid);
  clock_gettime(CLOCK_MONOTONIC, &ts);
  long long after = (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;

  long long t1, t2;
  int p1, p2, used = 0;
  char who[16], step[32];
  ck_assert_msg(sscanf(text, "mocker-trace %lld %15s %d first step\n%n", &t1,
                       who, &p1, &used) == 3 &&
                    used > 0,
                "%s", text);
  ck_assert_str_eq(who, "unit");
  ck_assert_int_eq(p1, pid);
  ck_assert_int_eq(sscanf(text + used, "mocker-trace %lld unit %d %31[^\n]",
                          &t2, &p2, step),
                   3);
  ck_assert_str_eq(step, "second");
  ck_assert_int_eq(p2, pid);
  ck_assert(before <= t1 && t1 <= t2 && t2 <= after);
}
END_TEST

START_TEST(test_silent_unless_exactly_1)
{
  pid_t pid;

  ck_assert_str_eq(trace_of(NULL, &pid), "");
  ck_assert_str_eq(trace_of("0", &pid), "");
  ck_assert_str_eq(trace_of("yes", &pid), "");
}
END_TEST

static Suite *trace_suite(void)
{
  Suite *s = suite_create("trace");
  TCase *tc = tcase_create("lines");

  tcase_add_test(tc, test_lines_bench_trace_reads);
  tcase_add_test(tc, test_silent_unless_exactly_1);
  suite_add_tcase(s, tc);
  return s;
}

MK_UNIT_MAIN(trace_suite)
