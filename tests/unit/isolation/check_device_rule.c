/* Unit tests for supervisor/isolation/cgroup's device rules: Docker's
 * --device-cgroup-rule form parsed and formatted back, bad ones refused
 * with the rule named. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <check.h>

#include "unit_main.h"
#include <string.h>

#include "isolation/cgroup.h"

START_TEST(test_good_rules_round_trip)
{
  static const char *const good[] = {"c 1:3 rwm", "b 8:* r", "a *:* m",
                                     "c *:5 w", "c 10:229 rw",
                                     "b 4294967295:0 m"};

  for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
    struct mk_device_rule r;
    mk_error_t err = {0};
    char back[64];
    ck_assert_msg(mk_device_rule_parse(good[i], &r, &err) == 0, "%s: %s",
                  good[i], err.msg);
    mk_device_rule_format(&r, back);
    ck_assert_str_eq(back, good[i]);
  }
}
END_TEST

START_TEST(test_bad_rules_refused)
{
  static const char *const bad[] = {
      "",          "c",          "c 1:3",       "x 1:3 rwm",  "c 1:3 rwx",
      "c 1:3 rwmm", "c -1:3 rwm", "c 1:3 rwm x", "c 1:3: rwm", "c 4294967296:0 r",
      "c a:3 r",   "c 1;3 r"};

  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    struct mk_device_rule r;
    mk_error_t err = {0};
    ck_assert_msg(mk_device_rule_parse(bad[i], &r, &err) == -1, "accepted `%s`",
                  bad[i]);
    ck_assert_msg(strstr(err.msg, "device cgroup rule"), "%s: %s", bad[i],
                  err.msg);
  }
}
END_TEST

static Suite *device_rule_suite(void)
{
  Suite *s = suite_create("device_rule");
  TCase *tc = tcase_create("parse");

  tcase_add_test(tc, test_good_rules_round_trip);
  tcase_add_test(tc, test_bad_rules_refused);
  suite_add_tcase(s, tc);
  return s;
}

MK_UNIT_MAIN(device_rule_suite)
