/* Unit tests for supervisor/isolation/caps.c: Docker's capability rules. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <check.h>
#include <linux/capability.h>

#include "isolation/caps.h"
#include "unit_main.h"

#define BIT(c) (1ULL << (c))

static uint64_t compute(const char *const *add, size_t nadd,
                        const char *const *drop, size_t ndrop, int privileged)
{
  uint64_t caps = 0;
  mk_error_t err;

  ck_assert_int_eq(
      mk_caps_compute(add, nadd, drop, ndrop, privileged, &caps, &err), 0);
  return caps;
}

/* Docker's default set, as /proc/self/status shows it under Docker. */
START_TEST(test_default_is_dockers)
{
  ck_assert_uint_eq(mk_caps_default(), 0xa80425fbULL);
  ck_assert_uint_eq(compute(NULL, 0, NULL, 0, 0), 0xa80425fbULL);
}
END_TEST

START_TEST(test_names)
{
  ck_assert_int_eq(mk_cap_parse("NET_ADMIN"), CAP_NET_ADMIN);
  ck_assert_int_eq(mk_cap_parse("cap_net_admin"), CAP_NET_ADMIN);
  ck_assert_int_eq(mk_cap_parse("CAP_SYS_ADMIN"), CAP_SYS_ADMIN);
  ck_assert_int_eq(mk_cap_parse("all"), 64);
  ck_assert_int_eq(mk_cap_parse("NOPE"), -1);
  ck_assert_int_eq(mk_cap_parse("CAP_"), -1);
  ck_assert_int_eq(mk_cap_parse(""), -1);
}
END_TEST

START_TEST(test_add_and_drop)
{
  const char *add[] = {"SYS_PTRACE"}, *drop[] = {"NET_RAW", "CHOWN"};
  uint64_t caps = compute(add, 1, drop, 2, 0);

  ck_assert(caps & BIT(CAP_SYS_PTRACE));
  ck_assert(!(caps & BIT(CAP_NET_RAW)));
  ck_assert(!(caps & BIT(CAP_CHOWN)));
  ck_assert(caps & BIT(CAP_KILL));
}
END_TEST

START_TEST(test_drop_all_then_add)
{
  const char *add[] = {"NET_BIND_SERVICE"}, *drop[] = {"ALL"};

  ck_assert_uint_eq(compute(add, 1, drop, 1, 0), BIT(CAP_NET_BIND_SERVICE));
  ck_assert_uint_eq(compute(NULL, 0, drop, 1, 0), 0);
}
END_TEST

START_TEST(test_add_all_and_privileged)
{
  const char *add[] = {"ALL"}, *drop[] = {"SYS_ADMIN"};
  uint64_t all = mk_caps_all();

  ck_assert(all & BIT(CAP_SYS_ADMIN));
  ck_assert_uint_eq(compute(add, 1, drop, 1, 0), all & ~BIT(CAP_SYS_ADMIN));
  ck_assert_uint_eq(compute(NULL, 0, drop, 1, 1), all); /* privileged wins */
}
END_TEST

START_TEST(test_unknown_name_is_an_error)
{
  const char *add[] = {"NET_ADMIN", "BOGUS"};
  uint64_t caps;
  mk_error_t err;

  ck_assert_int_eq(mk_caps_compute(add, 2, NULL, 0, 0, &caps, &err), -1);
  ck_assert_str_eq(err.msg, "unknown capability: \"BOGUS\"");
}
END_TEST

static Suite *caps_suite(void)
{
  Suite *s = suite_create("caps");
  TCase *tc = tcase_create("rules");

  tcase_add_test(tc, test_default_is_dockers);
  tcase_add_test(tc, test_names);
  tcase_add_test(tc, test_add_and_drop);
  tcase_add_test(tc, test_drop_all_then_add);
  tcase_add_test(tc, test_add_all_and_privileged);
  tcase_add_test(tc, test_unknown_name_is_an_error);
  suite_add_tcase(s, tc);
  return s;
}

MK_UNIT_MAIN(caps_suite)
