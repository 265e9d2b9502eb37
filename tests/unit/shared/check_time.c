/* Unit tests for mk_time_rfc3339: UTC by hand, without the C library's
 * time zone code (which would open /etc/localtime, a container's path
 * once mocker-runtime exec has joined it). Checked against gmtime_r over
 * known dates and a sweep of days across four centuries. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <check.h>

#include "unit_main.h"
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mk_state.h"

START_TEST(test_known_dates)
{
  static const struct {
    int64_t secs;
    long nsec;
    const char *want;
  } cases[] = {
      {0, 0, "1970-01-01T00:00:00.000000000Z"},
      {951782400, 5, "2000-02-29T00:00:00.000000005Z"},
      {1796656862, 123456789, "2026-12-07T15:21:02.123456789Z"},
      {4102444799, 999999999, "2099-12-31T23:59:59.999999999Z"},
      {-1, 0, "1969-12-31T23:59:59.000000000Z"},
  };
  char buf[64];

  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    mk_time_rfc3339(cases[i].secs, cases[i].nsec, buf, sizeof(buf));
    ck_assert_str_eq(buf, cases[i].want);
  }
}
END_TEST

START_TEST(test_agrees_with_gmtime)
{
  char ours[64], theirs[64];
  struct tm tm;

  for (int64_t s = -86400LL * 365 * 100; s < 86400LL * 365 * 300;
       s += 86400 * 7 + 3601) {
    time_t t = (time_t)s;
    gmtime_r(&t, &tm);
    snprintf(theirs, sizeof(theirs), "%04d-%02d-%02dT%02d:%02d:%02d.000000000Z",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec);
    mk_time_rfc3339(s, 0, ours, sizeof(ours));
    ck_assert_str_eq(ours, theirs);
  }
}
END_TEST

static Suite *time_suite(void)
{
  Suite *s = suite_create("time");
  TCase *tc = tcase_create("rfc3339");

  tcase_add_test(tc, test_known_dates);
  tcase_add_test(tc, test_agrees_with_gmtime);
  suite_add_tcase(s, tc);
  return s;
}

MK_UNIT_MAIN(time_suite)
