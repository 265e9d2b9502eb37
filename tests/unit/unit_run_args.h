/* `mocker run` argument parsing for the unit suites: PARSE and the
 * ASSERT_PARSE_* checks over mk_parse_run_args. */
#ifndef MK_UNIT_RUN_ARGS_H
#define MK_UNIT_RUN_ARGS_H

#include <check.h>
#include <stdarg.h>
#include <string.h>

#include "cli/cli.h"

#define MAX_TEST_ARGS 32

/* Parses "run" followed by the NULL-terminated arguments; o is always safe
 * to free afterwards. */
__attribute__((sentinel)) static int parse(struct mk_run_opts *o,
                                           mk_error_t *err, ...)
{
  char *argv[MAX_TEST_ARGS + 2] = {"run"};
  int argc = 1;
  va_list ap;

  va_start(ap, err);
  for (char *a; (a = va_arg(ap, char *));) {
    ck_assert_int_lt(argc, MAX_TEST_ARGS + 1);
    argv[argc++] = a;
  }
  va_end(ap);
  argv[argc] = NULL;
  memset(err, 0, sizeof(*err));
  return mk_parse_run_args(argc, argv, o, err);
}

#define PARSE(o, err, ...) parse(&(o), &(err), __VA_ARGS__, NULL)

/* Parsing must succeed; the failure report shows the parser's message. */
#define ASSERT_PARSE_OK(o, err, ...)                                           \
  do {                                                                         \
    int _r = PARSE(o, err, __VA_ARGS__);                                       \
    ck_assert_msg(_r == 0, "parse failed: %s", (err).msg);                     \
  } while (0)

/* Parsing must fail with a message containing `want`. */
#define ASSERT_PARSE_FAILS(want, ...)                                          \
  do {                                                                         \
    struct mk_run_opts _o;                                                     \
    mk_error_t _e;                                                             \
    ck_assert_int_eq(PARSE(_o, _e, __VA_ARGS__), -1);                          \
    ck_assert_msg(strstr(_e.msg, (want)) != NULL,                              \
                  "error `%s` does not contain `%s`", _e.msg, (want));         \
    mk_run_opts_free(&_o);                                                     \
  } while (0)

#endif
