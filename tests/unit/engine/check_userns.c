/* Unit tests for supervisor/engine/userns: /etc/subuid lines (whose
 * range is picked, which are skipped), the remap maps, HostConfig's
 * IDMappings both ways with bad input refused, and the host id of a
 * container id. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <check.h>

#include "unit_main.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/userns.h"

static char path[64];

static const char *subid_file(const char *text)
{
  snprintf(path, sizeof(path), "/tmp/mk-unit-subid-%d", (int)getpid());
  FILE *f = fopen(path, "we");
  ck_assert_ptr_nonnull(f);
  fputs(text, f);
  fclose(f);
  return path;
}

START_TEST(test_subid_first_long_enough_range)
{
  mk_error_t err = {0};
  uint32_t start = 0;

  subid_file("# comment\nother:100000:65536\nmocker:200000:1000\n"
             "mocker:-5:65536\nmocker:300000:65536\nmocker:400000:65536\n");
  ck_assert_int_eq(mk_subid_find(path, "mocker", (uid_t)-1, 65536, &start,
                                 &err),
                   0);
  ck_assert_uint_eq(start, 300000);
  unlink(path);
}
END_TEST

START_TEST(test_subid_by_uid_and_missing)
{
  mk_error_t err = {0};
  uint32_t start = 0;

  subid_file("1001:500000:65536\nbroken line\nmocker:0:65536\n"
             "mocker:4294967000:65536\n");
  ck_assert_int_eq(mk_subid_find(path, "nobody-here", 1001, 65536, &start,
                                 &err),
                   0);
  ck_assert_uint_eq(start, 500000);
  /* a range at 0 (host root) or wrapping past 2^32 is never taken */
  ck_assert_int_eq(mk_subid_find(path, "mocker", (uid_t)-1, 65536, &start,
                                 &err),
                   -1);
  ck_assert_msg(strstr(err.msg, "no range of 65536"), "%s", err.msg);
  unlink(path);
  ck_assert_int_eq(mk_subid_find("/nonexistent/subuid", "mocker", (uid_t)-1,
                                 65536, &start, &err),
                   -1);
  ck_assert_msg(strstr(err.msg, "/nonexistent/subuid"), "%s", err.msg);
}
END_TEST

START_TEST(test_remap_maps_from_files)
{
  mk_error_t err = {0};
  struct mk_userns u;

  setenv("MOCKER_SUBUID", subid_file("mocker:100000:65536\n"), 1);
  setenv("MOCKER_SUBGID", path, 1);
  ck_assert_int_eq(mk_userns_remap("mocker", &u, &err), 0);
  ck_assert_uint_eq(u.nuid, 1);
  ck_assert_uint_eq(u.uid[0].inside, 0);
  ck_assert_uint_eq(u.uid[0].outside, 100000);
  ck_assert_uint_eq(u.gid[0].count, 65536);
  ck_assert_int_eq(mk_userns_remap("someone", &u, &err), -1);
  ck_assert_msg(strstr(err.msg, "--userns=remap") &&
                    strstr(err.msg, "`someone`"),
                "%s", err.msg);
  unlink(path);
  unsetenv("MOCKER_SUBUID");
  unsetenv("MOCKER_SUBGID");
}
END_TEST

START_TEST(test_json_round_trip)
{
  mk_error_t err = {0};
  struct mk_userns u = {.nuid = 2, .ngid = 1}, back;

  u.uid[0] = (struct mk_idmap){0, 100000, 1000};
  u.uid[1] = (struct mk_idmap){1000, 1000, 1};
  u.gid[0] = (struct mk_idmap){0, 200000, 65536};
  json_t *j = mk_userns_to_json(&u);
  ck_assert_ptr_nonnull(j);
  char *text = json_dumps(j, JSON_COMPACT);
  ck_assert_str_eq(text, "{\"UidMap\":[\"0:100000:1000\",\"1000:1000:1\"],"
                         "\"GidMap\":[\"0:200000:65536\"]}");
  free(text);
  ck_assert_int_eq(mk_userns_from_json(j, &back, &err), 0);
  ck_assert_mem_eq(&back, &u, sizeof(u));
  json_decref(j);
  struct mk_userns none = {0};
  ck_assert_ptr_null(mk_userns_to_json(&none));
  ck_assert_int_eq(mk_userns_from_json(NULL, &back, &err), 0);
  ck_assert(!mk_userns_active(&back));
}
END_TEST

START_TEST(test_json_bad_input_refused)
{
  static const char *const bad[] = {
      "[]",
      "{\"UidMap\": \"0:1:1\", \"GidMap\": []}",
      "{\"UidMap\": [\"0:100000\"], \"GidMap\": [\"0:1:1\"]}",
      "{\"UidMap\": [\"0:100000:0\"], \"GidMap\": [\"0:1:1\"]}",
      "{\"UidMap\": [\"0:4294967295:2\"], \"GidMap\": [\"0:1:1\"]}",
      "{\"UidMap\": [\"-1:1:1\"], \"GidMap\": [\"0:1:1\"]}",
      "{\"UidMap\": [\"0:1:1x\"], \"GidMap\": [\"0:1:1\"]}",
      "{\"UidMap\": [7], \"GidMap\": [\"0:1:1\"]}",
      "{\"UidMap\": [\"0:1:1\"]}",
      "{\"UidMap\": [\"0:1:1\",\"0:1:1\",\"0:1:1\",\"0:1:1\",\"0:1:1\","
      "\"0:1:1\",\"0:1:1\",\"0:1:1\",\"0:1:1\",\"0:1:1\",\"0:1:1\",\"0:1:1\","
      "\"0:1:1\",\"0:1:1\",\"0:1:1\",\"0:1:1\",\"0:1:1\"], \"GidMap\": "
      "[\"0:1:1\"]}",
  };

  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    mk_error_t err = {0};
    struct mk_userns u;
    json_t *j = json_loads(bad[i], 0, NULL);
    ck_assert_ptr_nonnull(j);
    ck_assert_msg(mk_userns_from_json(j, &u, &err) == -1, "accepted %s",
                  bad[i]);
    ck_assert_msg(strstr(err.msg, "IDMappings"), "%s: %s", bad[i], err.msg);
    json_decref(j);
  }
}
END_TEST

START_TEST(test_host_id_of_container_id)
{
  const struct mk_idmap maps[] = {{0, 100000, 1000}, {1000, 5000, 10}};

  ck_assert_int_eq(mk_idmap_host(maps, 2, 0), 100000);
  ck_assert_int_eq(mk_idmap_host(maps, 2, 999), 100999);
  ck_assert_int_eq(mk_idmap_host(maps, 2, 1000), 5000);
  ck_assert_int_eq(mk_idmap_host(maps, 2, 1009), 5009);
  ck_assert_int_eq(mk_idmap_host(maps, 2, 1010), -1);
  ck_assert_int_eq(mk_idmap_host(maps, 0, 0), -1);
}
END_TEST

static Suite *userns_suite(void)
{
  Suite *s = suite_create("userns");
  TCase *tc = tcase_create("maps");

  tcase_add_test(tc, test_subid_first_long_enough_range);
  tcase_add_test(tc, test_subid_by_uid_and_missing);
  tcase_add_test(tc, test_remap_maps_from_files);
  tcase_add_test(tc, test_json_round_trip);
  tcase_add_test(tc, test_json_bad_input_refused);
  tcase_add_test(tc, test_host_id_of_container_id);
  suite_add_tcase(s, tc);
  return s;
}

MK_UNIT_MAIN(userns_suite)
