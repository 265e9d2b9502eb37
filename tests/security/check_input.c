/* Regression tests for values that corrupted files or silently meant
 * something else (issue 14, finding 4), through the real binary: each is
 * refused with exit 125 and a message naming the value, before anything
 * is made (no container, no volume left in the state root). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "sec.h"

/* Runs argv; asserts exit 125 with want in the message. */
static void assert_refused(const char *const argv[], const char *want)
{
  struct h_res r;

  h_run(&r, NULL, argv);
  H_ASSERT_STATUS(&r, 125);
  H_ASSERT_HAS(&r, err, want);
  H_ASSERT_LACKS(&r, err, "Conflict");
  h_res_free(&r);
}

static void assert_no_containers(void)
{
  ck_assert_int_eq(h_containers(h.root, NULL, 0), 0);
}

static void assert_no_volumes(void)
{
  struct h_res r;

  H_RUN(&r, "volume", "ls", "-q");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "");
  h_res_free(&r);
}

static void run_ok(const char *const argv[])
{
  struct h_res r;

  h_run(&r, NULL, argv);
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
}

/* ---- finding 4 --------------------------------------------------------- */

/* A newline in -h used to become a second line of /etc/hosts. */
START_TEST(test_hostname_newline_refused)
{
  assert_refused(H_ARGV("run", "--rm", "--hostname", "x\n6.6.6.6 evil.example",
                        "busybox", "cat", "/etc/hosts"),
                 "\"x\\n6.6.6.6 evil.example\" for \"-h, --hostname\" flag");
  assert_refused(H_ARGV("create", "-h", "a b", "busybox"), "invalid hostname");
  assert_no_containers();
}
END_TEST

/* Sizes past INT64_MAX used to wrap to "no limit". */
START_TEST(test_memory_overflow_refused)
{
  static const char *const values[] = {"99999999999999999999999",
                                       "18446744073709551615", "17179869184g"};

  for (size_t i = 0; i < sizeof(values) / sizeof(*values); i++)
    assert_refused(
        H_ARGV("run", "--rm", "--memory", values[i], "busybox", "true"),
        "too large");
  assert_refused(H_ARGV("run", "--rm", "-m", "", "busybox", "true"),
                 "invalid size: '': empty");
  assert_refused(H_ARGV("run", "--rm", "-m", "-5m", "busybox", "true"),
                 "can't be negative");
  assert_no_containers();
}
END_TEST

/* NaN used to become a quota of -1; 0.0000001 a raw cgroup EINVAL. */
START_TEST(test_cpus_nan_refused)
{
  assert_refused(H_ARGV("run", "--rm", "--cpus", "nan", "busybox", "true"),
                 "invalid CPU quantity 'nan'");
  assert_refused(H_ARGV("run", "--rm", "--cpus", "inf", "busybox", "true"),
                 "invalid CPU quantity 'inf'");
  assert_refused(
      H_ARGV("run", "--rm", "--cpus", "0.0000001", "busybox", "true"),
      "Range of CPUs is from 0.01");
  assert_no_containers();
}
END_TEST

START_TEST(test_env_empty_name_refused)
{
  assert_refused(H_ARGV("run", "--rm", "-e", "=x", "busybox", "true"),
                 "invalid environment variable: '=x': the name is empty");
  assert_refused(H_ARGV("run", "--rm", "-e", "A\nB=1", "busybox", "true"),
                 "invalid environment variable: 'A\\nB=1'");
  assert_no_containers();
}
END_TEST

START_TEST(test_stop_signal_unknown_refused)
{
  assert_refused(H_ARGV("create", "--stop-signal", "SIGFOO", "busybox"),
                 "invalid signal: 'SIGFOO'");
  assert_refused(
      H_ARGV("run", "-d", "--stop-signal", "9999", "busybox", "sleep", "60"),
      "invalid signal: '9999'");
  assert_no_containers();
}
END_TEST

/* The destination check used to be lexical: /bin/.. passed as not "/". */
START_TEST(test_volume_dest_dotdot_refused)
{
  assert_refused(
      H_ARGV("run", "--rm", "-v", "myvol:/bin/..", "busybox", "true"),
      "'/bin/..': '..' components are not allowed");
  assert_refused(
      H_ARGV("run", "--rm", "--tmpfs", "/tmp/../etc", "busybox", "true"),
      "'..' components are not allowed");
  assert_no_containers();
  assert_no_volumes();
}
END_TEST

/* Writes a one-layer docker-archive, tag:latest, whose config's "config"
 * object is config_json; returns its path in out. */
static void make_image(char *out, size_t size, const char *tag,
                       const char *config_json)
{
  char cmd[8192];

  h_fmt(out, size, "%s/%s.tar", h.host, tag);
  h_fmt(cmd, sizeof(cmd),
        "set -e; d='%s/img-%s'; mkdir -p \"$d/rootfs\"; cd \"$d\"; "
        "echo hello > rootfs/hello; tar -cf layer.tar -C rootfs .; "
        "sum=$(sha256sum layer.tar | cut -d' ' -f1); "
        "printf '{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":%%s,"
        "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:%%s\"]}}' "
        "'%s' \"$sum\" > config.json; "
        "printf '[{\"Config\":\"config.json\",\"RepoTags\":[\"%s:latest\"],"
        "\"Layers\":[\"layer.tar\"]}]' > manifest.json; "
        "tar -cf '%s' manifest.json config.json layer.tar",
        h.host, tag, config_json, tag, out);
  ck_assert_msg(sec_sh(cmd) == 0, "`%s` failed", cmd);
}

static void load_image(const char *tag, const char *config_json)
{
  char archive[4200];

  make_image(archive, sizeof(archive), tag, config_json);
  run_ok(H_ARGV("load", "-i", archive));
}

/* An image's VOLUME "/" used to pass: only the leading '/' was checked. */
START_TEST(test_image_volume_root_refused)
{
  load_image("mk-volroot", "{\"Volumes\":{\"/\":{}}}");
  load_image("mk-voldotdot", "{\"Volumes\":{\"/a/../etc\":{}}}");
  load_image("mk-volok", "{\"Volumes\":{\"/data\":{}}}");

  assert_refused(H_ARGV("run", "--rm", "mk-volroot", "true"),
                 "image mk-volroot: invalid config: Volumes: invalid mount "
                 "path: '/': destination can't be '/'");
  assert_refused(H_ARGV("create", "mk-voldotdot"), "'..' components");
  assert_no_containers();
  assert_no_volumes();
  /* the control: the same image with a sound VOLUME is created */
  run_ok(H_ARGV("create", "--name", "volok", "mk-volok", "true"));
  run_ok(H_ARGV("rm", "-v", "volok"));
}
END_TEST

/* The image's StopSignal, Env and WorkingDir take the flags' validators. */
START_TEST(test_image_config_keys_refused)
{
  load_image("mk-badsig", "{\"StopSignal\":\"SIGFOO\"}");
  load_image("mk-badenv", "{\"Env\":[\"=x\"]}");
  load_image("mk-badwd", "{\"WorkingDir\":\"rel\"}");

  assert_refused(H_ARGV("create", "mk-badsig", "true"),
                 "StopSignal: invalid signal: 'SIGFOO'");
  assert_refused(H_ARGV("create", "mk-badenv", "true"),
                 "Env[0]: invalid environment variable: '=x'");
  assert_refused(H_ARGV("create", "mk-badwd", "true"),
                 "WorkingDir: the working directory 'rel' is invalid");
  assert_no_containers();
  /* a flag that overrides the key makes the image usable */
  run_ok(H_ARGV("create", "--name", "sigok", "--stop-signal", "TERM",
                "mk-badsig", "true"));
  run_ok(H_ARGV("rm", "sigok"));
}
END_TEST

/* /dev/zero used to be read for ever. */
START_TEST(test_env_file_device_refused)
{
  struct h_res r;
  struct h_opts o = {.timeout_ms = 10000};

  h_run(&r, &o,
        H_ARGV("run", "--rm", "--env-file", "/dev/zero", "busybox", "true"));
  H_ASSERT_STATUS(&r, 125);
  H_ASSERT_HAS(&r, err, "env file `/dev/zero` is not a regular file");
  h_res_free(&r);
  assert_no_containers();
}
END_TEST

/* Found in review: tmpfs size=, --cpuset-cpus and logs --since were
 * still parsed ad hoc. An overflowing size= reached the kernel, which
 * reads it as 0: no limit. */
START_TEST(test_tmpfs_size_cpuset_and_since_refused)
{
  static const char *const bad[][7] = {
      {"run", "--rm", "--tmpfs", "/x:size=18446744073709551616", "busybox",
       "true"},
      {"run", "--rm", "--cpuset-cpus", ",,,-", "busybox", "true"},
      {"run", "--rm", "--cpuset-cpus", "99999999999999999999", "busybox",
       "true"},
      {"logs", "--since", "nan", "nosuch", NULL},
      {"logs", "--until", "1e300s", "nosuch", NULL},
  };
  struct h_res r;

  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    h_run(&r, NULL, bad[i]);
    H_ASSERT_STATUS(&r, 125);
    ck_assert_msg(h_contains(r.err, "invalid"), "`%s`: %s", h_last_cmd(),
                  r.err);
    h_res_free(&r);
  }
  assert_no_containers();
}
END_TEST

/* A 300-character name used to give a bogus "Conflict ... \"/\"". */
START_TEST(test_long_name_refused)
{
  char name[301];

  memset(name, 'n', 300);
  name[300] = '\0';
  assert_refused(H_ARGV("run", "--rm", "--name", name, "busybox", "true"),
                 "at most 128 characters are allowed");
  assert_no_containers();
  run_ok(H_ARGV("create", "--name", "short1", "busybox", "true"));
  assert_refused(H_ARGV("rename", "short1", name),
                 "at most 128 characters are allowed");
  run_ok(H_ARGV("rm", "short1"));
}
END_TEST

static Suite *input_suite(void)
{
  Suite *s = suite_create("input");
  TCase *tc = h_tcase("values", 120);

  tcase_add_test(tc, test_hostname_newline_refused);
  tcase_add_test(tc, test_memory_overflow_refused);
  tcase_add_test(tc, test_cpus_nan_refused);
  tcase_add_test(tc, test_env_empty_name_refused);
  tcase_add_test(tc, test_stop_signal_unknown_refused);
  tcase_add_test(tc, test_volume_dest_dotdot_refused);
  tcase_add_test(tc, test_image_volume_root_refused);
  tcase_add_test(tc, test_image_config_keys_refused);
  tcase_add_test(tc, test_env_file_device_refused);
  tcase_add_test(tc, test_tmpfs_size_cpuset_and_since_refused);
  tcase_add_test(tc, test_long_name_refused);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  return h_main(input_suite());
}
