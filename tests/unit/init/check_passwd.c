/* Unit tests for init/passwd: resolving Docker -u specs from the image's
 * own /etc/passwd and /etc/group text (never NSS, CVE-2019-14271). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <check.h>

#include "unit_main.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "passwd.h"

static const char passwd_text[] =
    "root:x:0:0:root:/root:/bin/sh\n"
    "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
    "alice:x:1000:1000:Alice,,,:/home/alice:/bin/sh\n"
    "bob:x:1001:100::/home/bob:/bin/sh\n"
    "nohome:x:1002:1002:No Home::/bin/sh\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";

static const char group_text[] = "root:x:0:\n"
                                 "daemon:x:1:\n"
                                 "users:x:100:\n"
                                 "wheel:x:10:alice,bob\n"
                                 "audio:x:29:bob,alice\n"
                                 "video:x:44:carol\n"
                                 "alice:x:1000:\n"
                                 "nogroup:x:65534:\n";

static int resolve(const char *spec, const char *pw, const char *gr,
                   struct mk_user *u, mk_error_t *err)
{
  memset(err, 0, sizeof(*err));
  return mk_resolve_user(spec, pw, gr, u, err);
}

static int has_group(const struct mk_user *u, gid_t g)
{
  for (size_t i = 0; i < u->ngroups; i++)
    if (u->groups[i] == g)
      return 1;
  return 0;
}

START_TEST(test_empty_spec_is_root)
{
  struct mk_user u;
  mk_error_t err;

  ck_assert_int_eq(resolve("", passwd_text, group_text, &u, &err), 0);
  ck_assert_uint_eq(u.uid, 0);
  ck_assert_uint_eq(u.gid, 0);
  ck_assert_str_eq(u.home, "/root");
}
END_TEST

/* Docker runs as root even when the image has no passwd file. */
START_TEST(test_empty_spec_without_files)
{
  struct mk_user u;
  mk_error_t err;

  ck_assert_int_eq(resolve("", NULL, NULL, &u, &err), 0);
  ck_assert_uint_eq(u.uid, 0);
  ck_assert_uint_eq(u.gid, 0);
  ck_assert_str_eq(u.home, "/");
  ck_assert_uint_eq(u.ngroups, 0);
}
END_TEST

START_TEST(test_by_name)
{
  struct mk_user u;
  mk_error_t err;

  ck_assert_int_eq(resolve("bob", passwd_text, group_text, &u, &err), 0);
  ck_assert_uint_eq(u.uid, 1001);
  ck_assert_uint_eq(u.gid, 100);
  ck_assert_str_eq(u.home, "/home/bob");
}
END_TEST

START_TEST(test_by_uid_present)
{
  struct mk_user u;
  mk_error_t err;

  ck_assert_int_eq(resolve("1000", passwd_text, group_text, &u, &err), 0);
  ck_assert_uint_eq(u.uid, 1000);
  ck_assert_uint_eq(u.gid, 1000);
  ck_assert_str_eq(u.home, "/home/alice");
  /* Found by uid, the user's name still brings its groups. */
  ck_assert(has_group(&u, 10));
  ck_assert(has_group(&u, 29));
}
END_TEST

START_TEST(test_by_uid_absent)
{
  struct mk_user u;
  mk_error_t err;

  ck_assert_int_eq(resolve("4242", passwd_text, group_text, &u, &err), 0);
  ck_assert_uint_eq(u.uid, 4242);
  ck_assert_uint_eq(u.gid, 0);
  ck_assert_str_eq(u.home, "/");
  ck_assert_uint_eq(u.ngroups, 0);
}
END_TEST

START_TEST(test_name_colon_group_name)
{
  struct mk_user u;
  mk_error_t err;

  ck_assert_int_eq(resolve("alice:audio", passwd_text, group_text, &u, &err),
                   0);
  ck_assert_uint_eq(u.uid, 1000);
  ck_assert_uint_eq(u.gid, 29);
  ck_assert_str_eq(u.home, "/home/alice");
}
END_TEST

START_TEST(test_uid_colon_gid)
{
  struct mk_user u;
  mk_error_t err;

  ck_assert_int_eq(resolve("1001:44", passwd_text, group_text, &u, &err), 0);
  ck_assert_uint_eq(u.uid, 1001);
  ck_assert_uint_eq(u.gid, 44);
  ck_assert_str_eq(u.home, "/home/bob");

  /* Neither in the files: taken as given. */
  ck_assert_int_eq(resolve("5000:6000", passwd_text, group_text, &u, &err), 0);
  ck_assert_uint_eq(u.uid, 5000);
  ck_assert_uint_eq(u.gid, 6000);
  ck_assert_str_eq(u.home, "/");
}
END_TEST

START_TEST(test_name_colon_gid)
{
  struct mk_user u;
  mk_error_t err;

  ck_assert_int_eq(resolve("bob:7777", passwd_text, group_text, &u, &err), 0);
  ck_assert_uint_eq(u.uid, 1001);
  ck_assert_uint_eq(u.gid, 7777);
}
END_TEST

START_TEST(test_uid_colon_group_name)
{
  struct mk_user u;
  mk_error_t err;

  ck_assert_int_eq(resolve("4242:video", passwd_text, group_text, &u, &err), 0);
  ck_assert_uint_eq(u.uid, 4242);
  ck_assert_uint_eq(u.gid, 44);
}
END_TEST

START_TEST(test_unknown_user_name)
{
  struct mk_user u;
  mk_error_t err;

  ck_assert_int_eq(resolve("mallory", passwd_text, group_text, &u, &err), -1);
  ck_assert_int_ne(err.err, 0);
  ck_assert_ptr_nonnull(strstr(err.msg, "mallory"));

  ck_assert_int_eq(resolve("mallory:users", passwd_text, group_text, &u, &err),
                   -1);
  ck_assert_ptr_nonnull(strstr(err.msg, "mallory"));

  /* No passwd file at all: a name can never be found. */
  ck_assert_int_eq(resolve("root", NULL, NULL, &u, &err), -1);
  ck_assert_ptr_nonnull(strstr(err.msg, "root"));
}
END_TEST

START_TEST(test_unknown_group_name)
{
  struct mk_user u;
  mk_error_t err;

  ck_assert_int_eq(resolve("alice:staff", passwd_text, group_text, &u, &err),
                   -1);
  ck_assert_int_ne(err.err, 0);
  ck_assert_ptr_nonnull(strstr(err.msg, "staff"));

  ck_assert_int_eq(resolve("0:wheel", passwd_text, NULL, &u, &err), -1);
  ck_assert_ptr_nonnull(strstr(err.msg, "wheel"));
}
END_TEST

START_TEST(test_malformed_specs)
{
  static const char *specs[] = {":", ":100", "alice:", "0:"};
  struct mk_user u;
  mk_error_t err;

  for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
    ck_assert_msg(resolve(specs[i], passwd_text, group_text, &u, &err) == -1,
                  "spec `%s` accepted", specs[i]);
    ck_assert_int_ne(err.err, 0);
  }
}
END_TEST

START_TEST(test_supplementary_groups)
{
  struct mk_user u;
  mk_error_t err;

  ck_assert_int_eq(resolve("alice", passwd_text, group_text, &u, &err), 0);
  ck_assert_uint_eq(u.ngroups, 2);
  ck_assert(has_group(&u, 10));
  ck_assert(has_group(&u, 29));
  ck_assert(!has_group(&u, 44)); /* carol's, not alice's */

  ck_assert_int_eq(resolve("daemon", passwd_text, group_text, &u, &err), 0);
  ck_assert_uint_eq(u.ngroups, 0);
}
END_TEST

/* Membership is by whole name: "al" is not "alice". */
START_TEST(test_supplementary_groups_exact_names)
{
  static const char pw[] = "al:x:500:500::/home/al:/bin/sh\n";
  static const char gr[] = "g1:x:20:alice,ali\n"
                           "g2:x:21:xal,al2\n"
                           "g3:x:22:bob,al\n";
  struct mk_user u;
  mk_error_t err;

  ck_assert_int_eq(resolve("al", pw, gr, &u, &err), 0);
  ck_assert_uint_eq(u.ngroups, 1);
  ck_assert_uint_eq(u.groups[0], 22);
}
END_TEST

/* More memberships than fit are capped, never written past the array. */
START_TEST(test_supplementary_groups_capped)
{
  static const char pw[] = "many:x:900:900::/home/many:/bin/sh\n";
  size_t n = MK_MAX_GROUPS + 10, cap = n * 32 + 1;
  char *gr = malloc(cap), *p = gr;
  struct mk_user u;
  mk_error_t err;

  for (size_t i = 0; i < n; i++)
    p += snprintf(p, cap - (size_t)(p - gr), "g%zu:x:%zu:many\n", i, 2000 + i);
  ck_assert_int_eq(resolve("many", pw, gr, &u, &err), 0);
  ck_assert_uint_eq(u.ngroups, MK_MAX_GROUPS);
  for (size_t i = 0; i < MK_MAX_GROUPS; i++)
    ck_assert_uint_eq(u.groups[i], 2000 + i);
  free(gr);
}
END_TEST

START_TEST(test_comments_blank_and_malformed_lines)
{
  static const char pw[] =
      "# carol:x:1:1::/wrong:/bin/sh\n"
      "\n"
      "carol:x:2000\n"                      /* too few fields */
      "carol:x:abc:2000::/wrong:/bin/sh\n"  /* non-numeric uid */
      "carol:x:2000:-1::/wrong:/bin/sh\n"   /* negative gid */
      "carol:x:2000:20x0::/wrong:/bin/sh\n" /* trailing junk */
      "   \n"
      "carol:x:2000:2001:Carol:/home/carol:/bin/sh\n";
  static const char gr[] = "# staff:x:1:carol\n"
                           "\n"
                           "staff:x:\n"
                           "staff:x:x50:carol\n"
                           "staff:x:50:carol\n";
  struct mk_user u;
  mk_error_t err;

  ck_assert_int_eq(resolve("carol", pw, gr, &u, &err), 0);
  ck_assert_uint_eq(u.uid, 2000);
  ck_assert_uint_eq(u.gid, 2001);
  ck_assert_str_eq(u.home, "/home/carol");
  ck_assert_uint_eq(u.ngroups, 1);
  ck_assert_uint_eq(u.groups[0], 50);

  ck_assert_int_eq(resolve("carol:staff", pw, gr, &u, &err), 0);
  ck_assert_uint_eq(u.gid, 50);

  /* A commented-out user does not exist. */
  ck_assert_int_eq(resolve("#", pw, gr, &u, &err), -1);
}
END_TEST

/* Only-malformed entries mean the user does not exist. */
START_TEST(test_only_malformed_entry_is_not_found)
{
  static const char pw[] = "dave:x:12:x::/home/dave:/bin/sh\n"
                           "erin:x:13:13\n";
  struct mk_user u;
  mk_error_t err;

  ck_assert_int_eq(resolve("dave", pw, NULL, &u, &err), -1);
  ck_assert_ptr_nonnull(strstr(err.msg, "dave"));
  ck_assert_int_eq(resolve("erin", pw, NULL, &u, &err), -1);
  /* By uid, the malformed entry is ignored too: gid 0 and home "/". */
  ck_assert_int_eq(resolve("12", pw, NULL, &u, &err), 0);
  ck_assert_uint_eq(u.uid, 12);
  ck_assert_uint_eq(u.gid, 0);
  ck_assert_str_eq(u.home, "/");
}
END_TEST

/* An over-long line is skipped as a whole: neither it nor a tail of it is
 * taken for an entry, and the lines after it still count. */
START_TEST(test_overlong_line)
{
  size_t filler = 10000;
  const char *head = "frank:x:3000:3000:";
  const char *tail = ":/home/frank:/bin/sh\n"
                     "x:x:0:0::/pwned:/bin/sh\n" /* looks like a line */
                     "grace:x:3001:3001::/home/grace:/bin/sh\n";
  size_t len = strlen(head) + filler + strlen(tail) + 1;
  char *pw = malloc(len);
  struct mk_user u;
  mk_error_t err;

  strcpy(pw, head);
  memset(pw + strlen(head), 'g', filler);
  strcpy(pw + strlen(head) + filler, tail);

  ck_assert_int_eq(resolve("frank", pw, NULL, &u, &err), -1);
  ck_assert_int_eq(resolve("grace", pw, NULL, &u, &err), 0);
  ck_assert_uint_eq(u.uid, 3001);
  ck_assert_str_eq(u.home, "/home/grace");
  free(pw);
}
END_TEST

START_TEST(test_overlong_group_line)
{
  static const char pw[] = "hank:x:4000:4000::/home/hank:/bin/sh\n";
  size_t filler = 10000;
  const char *head = "big:x:60:";
  const char *tail = ",hank\nsmall:x:61:hank\n";
  size_t len = strlen(head) + filler + strlen(tail) + 1;
  char *gr = malloc(len);
  struct mk_user u;
  mk_error_t err;

  strcpy(gr, head);
  memset(gr + strlen(head), 'm', filler);
  strcpy(gr + strlen(head) + filler, tail);
  ck_assert_int_eq(resolve("hank", pw, gr, &u, &err), 0);
  ck_assert_uint_eq(u.ngroups, 1);
  ck_assert_uint_eq(u.groups[0], 61);
  ck_assert_int_eq(resolve("hank:big", pw, gr, &u, &err), -1);
  free(gr);
}
END_TEST

START_TEST(test_null_files)
{
  struct mk_user u;
  mk_error_t err;

  ck_assert_int_eq(resolve("123", NULL, NULL, &u, &err), 0);
  ck_assert_uint_eq(u.uid, 123);
  ck_assert_uint_eq(u.gid, 0);
  ck_assert_str_eq(u.home, "/");

  ck_assert_int_eq(resolve("123:456", NULL, NULL, &u, &err), 0);
  ck_assert_uint_eq(u.gid, 456);

  ck_assert_int_eq(resolve("alice", passwd_text, NULL, &u, &err), 0);
  ck_assert_uint_eq(u.uid, 1000);
  ck_assert_uint_eq(u.ngroups, 0);

  ck_assert_int_eq(resolve("", "", "", &u, &err), 0);
  ck_assert_uint_eq(u.uid, 0);
}
END_TEST

START_TEST(test_empty_home_is_root_dir)
{
  struct mk_user u;
  mk_error_t err;

  ck_assert_int_eq(resolve("nohome", passwd_text, group_text, &u, &err), 0);
  ck_assert_uint_eq(u.uid, 1002);
  ck_assert_str_eq(u.home, "/");
}
END_TEST

/* The last line may lack its newline. */
START_TEST(test_last_line_without_newline)
{
  static const char pw[] = "root:x:0:0:root:/root:/bin/sh\n"
                           "ivan:x:5000:5001::/home/ivan:/bin/sh";
  static const char gr[] = "ops:x:77:ivan";
  struct mk_user u;
  mk_error_t err;

  ck_assert_int_eq(resolve("ivan", pw, gr, &u, &err), 0);
  ck_assert_uint_eq(u.uid, 5000);
  ck_assert_str_eq(u.home, "/home/ivan");
  ck_assert_uint_eq(u.ngroups, 1);
  ck_assert_uint_eq(u.groups[0], 77);
}
END_TEST

/* Ids beyond uid_t, or -1 (reserved), are not ids. */
START_TEST(test_out_of_range_ids)
{
  struct mk_user u;
  mk_error_t err;

  ck_assert_int_eq(resolve("4294967295", NULL, NULL, &u, &err), -1);
  ck_assert_int_eq(resolve("99999999999999999999", NULL, NULL, &u, &err), -1);
  ck_assert_int_eq(resolve("-1", NULL, NULL, &u, &err), -1);
  ck_assert_int_eq(resolve("4294967294", NULL, NULL, &u, &err), 0);
  ck_assert_uint_eq(u.uid, 4294967294u);
}
END_TEST

static Suite *passwd_suite(void)
{
  Suite *s = suite_create("passwd");
  TCase *tc = tcase_create("resolve");

  tcase_add_test(tc, test_empty_spec_is_root);
  tcase_add_test(tc, test_empty_spec_without_files);
  tcase_add_test(tc, test_by_name);
  tcase_add_test(tc, test_by_uid_present);
  tcase_add_test(tc, test_by_uid_absent);
  tcase_add_test(tc, test_name_colon_group_name);
  tcase_add_test(tc, test_uid_colon_gid);
  tcase_add_test(tc, test_name_colon_gid);
  tcase_add_test(tc, test_uid_colon_group_name);
  tcase_add_test(tc, test_unknown_user_name);
  tcase_add_test(tc, test_unknown_group_name);
  tcase_add_test(tc, test_malformed_specs);
  suite_add_tcase(s, tc);

  tc = tcase_create("groups");
  tcase_add_test(tc, test_supplementary_groups);
  tcase_add_test(tc, test_supplementary_groups_exact_names);
  tcase_add_test(tc, test_supplementary_groups_capped);
  suite_add_tcase(s, tc);

  tc = tcase_create("file-format");
  tcase_add_test(tc, test_comments_blank_and_malformed_lines);
  tcase_add_test(tc, test_only_malformed_entry_is_not_found);
  tcase_add_test(tc, test_overlong_line);
  tcase_add_test(tc, test_overlong_group_line);
  tcase_add_test(tc, test_null_files);
  tcase_add_test(tc, test_empty_home_is_root_dir);
  tcase_add_test(tc, test_last_line_without_newline);
  tcase_add_test(tc, test_out_of_range_ids);
  suite_add_tcase(s, tc);
  return s;
}

MK_UNIT_MAIN(passwd_suite)
