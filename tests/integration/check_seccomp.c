/* Seccomp: the default profile (Docker's) refuses what Docker refuses,
 * --security-opt seccomp=unconfined and --privileged lift it, a profile
 * file in Docker's format applies, a bad one fails with 125 and a reason,
 * and compiled programs are cached under <root>/seccomp/.
 *
 * Raw-syscall escapes (keyctl, bpf, perf_event_open, kexec_load, clone3)
 * are in tests/security/, which has a probe binary; this suite uses what
 * busybox can do. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

#define EPERM_TEXT "Operation not permitted"

/* Runs sh -c script in busybox with extra run options (NULL-terminated
 * list of up to 4), returning the result. */
static void run_sh(struct h_res *r, const char *opt1, const char *opt2,
                   const char *script)
{
  const char *argv[10];
  int n = 0;

  argv[n++] = "run";
  argv[n++] = "--rm";
  if (opt1)
    argv[n++] = opt1;
  if (opt2)
    argv[n++] = opt2;
  argv[n++] = "busybox";
  argv[n++] = "sh";
  argv[n++] = "-c";
  argv[n++] = script;
  argv[n] = NULL;
  h_run(r, NULL, argv);
}

/* The single *.bpf file under <root>/seccomp (asserts there is exactly
 * want of them; fills path with the first). */
static void cache_entries(int want, char *path, size_t size)
{
  char dir[4200];
  struct dirent *e;
  int n = 0;

  h_fmt(dir, sizeof(dir), "%s/seccomp", h.root);
  DIR *d = opendir(dir);
  ck_assert_msg(d != NULL, "no cache directory %s", dir);
  while ((e = readdir(d))) {
    size_t len = strlen(e->d_name);
    if (len < 4 || strcmp(e->d_name + len - 4, ".bpf") != 0)
      continue;
    ck_assert_msg(len == 64 + 4 && h_is_hex(e->d_name, 64),
                  "cache entry not named <sha256>.bpf: %s", e->d_name);
    if (n++ == 0 && path)
      h_fmt(path, size, "%s/%s", dir, e->d_name);
  }
  closedir(d);
  ck_assert_msg(n == want, "%d cache entries in %s, want %d", n, dir, want);
}

static void write_profile(char *path, size_t size, const char *name,
                          const char *json)
{
  h_fmt(path, size, "%s/%s", h.host, name);
  h_write_file(path, json);
}

/* ---- default profile ------------------------------------------------- */

START_TEST(test_default_filter_is_on)
{
  struct h_res r;

  run_sh(&r, NULL, NULL, "grep '^Seccomp:' /proc/self/status");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "Seccomp:\t2\n");
  h_res_free(&r);
}
END_TEST

/* A user namespace needs no capability, so only seccomp stops it. */
START_TEST(test_default_refuses_unshare)
{
  struct h_res r;

  run_sh(&r, NULL, NULL, "unshare -U true");
  ck_assert_msg(r.status != 0,
                "unshare -U succeeded under the default profile");
  H_ASSERT_HAS(&r, err, EPERM_TEXT);
  h_res_free(&r);
  run_sh(&r, NULL, NULL, "unshare -m true");
  ck_assert_msg(r.status != 0,
                "unshare -m succeeded under the default profile");
  H_ASSERT_HAS(&r, err, EPERM_TEXT);
  h_res_free(&r);
  run_sh(&r, NULL, NULL, "nsenter --net=/proc/self/ns/net true");
  ck_assert_msg(r.status != 0, "setns succeeded under the default profile");
  H_ASSERT_HAS(&r, err, EPERM_TEXT);
  h_res_free(&r);
}
END_TEST

START_TEST(test_default_refuses_admin_calls)
{
  static const char *const scripts[] = {"mount -t tmpfs none /mnt",
                                        "swapon /dev/null", "reboot -f",
                                        "umount /proc"};
  struct h_res r;

  for (size_t i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++) {
    run_sh(&r, NULL, NULL, scripts[i]);
    ck_assert_msg(r.status != 0 && r.status < 125,
                  "`%s` exited %d under the default profile\n%s", scripts[i],
                  r.status, r.err);
    /* busybox mount words EPERM its own way */
    ck_assert_msg(h_contains(r.err, EPERM_TEXT) ||
                      h_contains(r.err, "permission denied"),
                  "`%s`: no EPERM message:\n%s", scripts[i], r.err);
    h_res_free(&r);
  }
}
END_TEST

/* Allowed: ordinary work, fork (clone without namespace flags), and
 * chroot, which the profile grants with CAP_SYS_CHROOT (a default cap). */
START_TEST(test_default_allows_ordinary_work)
{
  struct h_res r;

  run_sh(&r, NULL, NULL,
         "chroot / true && mkdir /tmp/d && (echo sub) && "
         "echo x | cat > /tmp/d/f && cat /tmp/d/f && ps >/dev/null && "
         "echo done");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "sub\nx\ndone\n");
  h_res_free(&r);
}
END_TEST

/* includes.caps: CAP_SYS_ADMIN brings unshare, mount and namespace
 * clone flags back, as in Docker. */
START_TEST(test_cap_sys_admin_unlocks_rules)
{
  struct h_res r;

  run_sh(&r, "--cap-add", "SYS_ADMIN",
         "grep '^Seccomp:' /proc/self/status && unshare -m true && "
         "echo unshared");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "Seccomp:\t2\nunshared\n");
  h_res_free(&r);
}
END_TEST

/* ---- unconfined, privileged -------------------------------------------- */

START_TEST(test_unconfined_lifts_filter)
{
  struct h_res r;

  run_sh(&r, "--security-opt", "seccomp=unconfined",
         "grep '^Seccomp:' /proc/self/status && unshare -U true && "
         "echo unshared");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "Seccomp:\t0\nunshared\n");
  h_res_free(&r);
}
END_TEST

START_TEST(test_privileged_has_no_filter)
{
  struct h_res r;

  run_sh(&r, "--privileged", NULL, "grep '^Seccomp:' /proc/self/status");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "Seccomp:\t0\n");
  h_res_free(&r);
}
END_TEST

START_TEST(test_exec_gets_filter)
{
  struct h_res r;

  H_RUN(&r, "run", "-d", "--name", "sc", "busybox", "sleep", "60");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  H_RUN(&r, "exec", "sc", "sh", "-c",
        "grep '^Seccomp:' /proc/self/status; unshare -U true");
  ck_assert_msg(r.status != 0, "unshare -U succeeded in exec");
  H_ASSERT_OUT_EQ(&r, "Seccomp:\t2\n");
  h_res_free(&r);
  H_RUN(&r, "rm", "-f", "sc");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
}
END_TEST

/* ---- profile files ------------------------------------------------------- */

START_TEST(test_custom_profile_applies)
{
  char path[4200], opt[4300];
  struct h_res r;

  write_profile(path, sizeof(path), "deny-mkdir.json",
                "{\"defaultAction\": \"SCMP_ACT_ALLOW\",\n"
                " \"syscalls\": [{\"names\": [\"mkdir\", \"mkdirat\"],\n"
                "   \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 13}]}\n");
  h_fmt(opt, sizeof(opt), "seccomp=%s", path);
  run_sh(&r, "--security-opt", opt,
         "grep '^Seccomp:' /proc/self/status; unshare -U true && "
         "echo unshared; mkdir /x");
  ck_assert_msg(r.status == 1, "mkdir /x exited %d, want 1\n%s", r.status,
                r.err);
  H_ASSERT_OUT_EQ(&r, "Seccomp:\t2\nunshared\n");
  H_ASSERT_HAS(&r, err, "Permission denied");
  h_res_free(&r);
}
END_TEST

/* Docker's clone rule: args ANDed into one MASKED_EQ comparison. */
START_TEST(test_custom_profile_masked_eq)
{
  char path[4200], opt[4300];
  struct h_res r;

  write_profile(path, sizeof(path), "clone.json",
                "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": ["
                "{\"names\": [\"unshare\"], \"action\": \"SCMP_ACT_ERRNO\","
                " \"errnoRet\": 22, \"args\": [{\"index\": 0, \"value\": "
                "268435456, \"valueTwo\": 268435456, \"op\": "
                "\"SCMP_CMP_MASKED_EQ\"}]}]}");
  h_fmt(opt, sizeof(opt), "seccomp=%s", path);
  /* CLONE_NEWUSER (0x10000000) refused with EINVAL; CLONE_NEWUTS is not
   * matched and only fails for want of CAP_SYS_ADMIN (EPERM) */
  run_sh(&r, "--security-opt", opt, "unshare -U true; unshare -u true");
  ck_assert_msg(r.status != 0, "unshare -u succeeded without CAP_SYS_ADMIN");
  H_ASSERT_HAS(&r, err, "Invalid argument");
  H_ASSERT_HAS(&r, err, EPERM_TEXT);
  h_res_free(&r);
}
END_TEST

START_TEST(test_invalid_profile_fails_125)
{
  static const char *const bad[][2] = {
      {"{\"defaultAction\": \"SCMP_ACT_NOPE\"}", "unknown action"},
      {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": "
       "[\"mkdir\"], \"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": "
       "0, \"value\": 1, \"op\": \"SCMP_CMP_SOMETIMES\"}]}]}",
       "unknown operator"},
      {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": "
       "[\"SCMP_ARCH_Z80\"]}",
       "unknown architecture"},
      {"{\"defaultAction\": ", "bad.json"}, /* caught at create */
  };
  char path[4200], opt[4300];
  struct h_res r;

  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    write_profile(path, sizeof(path), "bad.json", bad[i][0]);
    h_fmt(opt, sizeof(opt), "seccomp=%s", path);
    run_sh(&r, "--security-opt", opt, "true");
    H_ASSERT_STATUS(&r, 125);
    H_ASSERT_HAS(&r, err, "seccomp profile");
    H_ASSERT_HAS(&r, err, bad[i][1]);
    h_res_free(&r);
  }
  ck_assert_int_eq(h_containers(h.root, NULL, 0), 0);
}
END_TEST

/* ---- cache ----------------------------------------------------------------
 */

START_TEST(test_cache_written_then_reused)
{
  char path[4400];
  struct stat before, after;
  struct h_res r;

  run_sh(&r, NULL, NULL, "true");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  cache_entries(1, path, sizeof(path));
  ck_assert_int_eq(stat(path, &before), 0);
  ck_assert_msg(before.st_size > 0 && before.st_size % 8 == 0 &&
                    before.st_size <= 32 * 1024,
                "cache entry of %lld bytes", (long long)before.st_size);
  run_sh(&r, NULL, NULL, "grep '^Seccomp:' /proc/self/status");
  H_ASSERT_OUT_EQ(&r, "Seccomp:\t2\n");
  h_res_free(&r);
  cache_entries(1, NULL, 0);
  ck_assert_int_eq(stat(path, &after), 0);
  ck_assert_msg(after.st_ino == before.st_ino &&
                    after.st_mtim.tv_sec == before.st_mtim.tv_sec &&
                    after.st_mtim.tv_nsec == before.st_mtim.tv_nsec,
                "the cache entry was rewritten by the second run");
}
END_TEST

/* The capabilities are part of the key: another set, another program. */
START_TEST(test_cache_key_covers_caps)
{
  struct h_res r;

  run_sh(&r, NULL, NULL, "true");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  run_sh(&r, "--cap-add", "SYS_ADMIN", "true");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  cache_entries(2, NULL, 0);
}
END_TEST

START_TEST(test_cache_corrupt_entry_rebuilt)
{
  char path[4400];
  struct stat st;
  struct h_res r;

  run_sh(&r, NULL, NULL, "true");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  cache_entries(1, path, sizeof(path));
  h_write_file(path, "junk!"); /* 5 bytes: not whole instructions */
  run_sh(&r, NULL, NULL, "grep '^Seccomp:' /proc/self/status; unshare -U true");
  ck_assert_msg(r.status != 0, "unshare -U succeeded with a corrupt cache");
  H_ASSERT_OUT_EQ(&r, "Seccomp:\t2\n");
  h_res_free(&r);
  ck_assert_int_eq(stat(path, &st), 0);
  ck_assert_msg(st.st_size > 5 && st.st_size % 8 == 0,
                "corrupt cache entry not rebuilt (%lld bytes)",
                (long long)st.st_size);
}
END_TEST

static Suite *seccomp_suite(void)
{
  Suite *s = suite_create("seccomp");
  TCase *tc;

  tc = h_tcase("default", 60);
  tcase_add_test(tc, test_default_filter_is_on);
  tcase_add_test(tc, test_default_refuses_unshare);
  tcase_add_test(tc, test_default_refuses_admin_calls);
  tcase_add_test(tc, test_default_allows_ordinary_work);
  tcase_add_test(tc, test_cap_sys_admin_unlocks_rules);
  tcase_add_test(tc, test_unconfined_lifts_filter);
  tcase_add_test(tc, test_privileged_has_no_filter);
  tcase_add_test(tc, test_exec_gets_filter);
  suite_add_tcase(s, tc);

  tc = h_tcase("profiles", 60);
  tcase_add_test(tc, test_custom_profile_applies);
  tcase_add_test(tc, test_custom_profile_masked_eq);
  tcase_add_test(tc, test_invalid_profile_fails_125);
  suite_add_tcase(s, tc);

  tc = h_tcase("cache", 60);
  tcase_add_test(tc, test_cache_written_then_reused);
  tcase_add_test(tc, test_cache_key_covers_caps);
  tcase_add_test(tc, test_cache_corrupt_entry_rebuilt);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  return h_main(seccomp_suite());
}
