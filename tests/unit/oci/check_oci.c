/* Unit tests for the OCI runtime front (supervisor/oci/): runc's global
 * flags, how errors reach --log, and `spec`. */
#include <check.h>
#include <jansson.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "oci/oci.h"
#include "unit_fs.h"
#include "unit_main.h"

static char dir[PATH_MAX];

static void setup(void)
{
  snprintf(dir, sizeof(dir), "/tmp/mk-oci-unit.XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
  rm_rf(dir);
}

/* mk_oci_main on a NULL-terminated list of words after the program. */
static int oci(const char *first, ...)
{
  char *argv[32] = {(char *)"mocker-runtime"};
  int argc = 1;
  va_list ap;

  va_start(ap, first);
  for (const char *a = first; a && argc < 31; a = va_arg(ap, const char *))
    argv[argc++] = (char *)a;
  va_end(ap);
  return mk_oci_main(argc, argv);
}

static json_t *load_config(void)
{
  char path[PATH_MAX];
  json_error_t jerr;

  snprintf(path, sizeof(path), "%s/config.json", dir);
  json_t *j = json_load_file(path, 0, &jerr);
  ck_assert_msg(j != NULL, "config.json: %s", jerr.text);
  return j;
}

START_TEST(test_spec_writes_a_runnable_default)
{
  ck_assert_int_eq(oci("spec", "--bundle", dir, NULL), 0);
  json_auto_t *j = load_config();
  json_t *process = json_object_get(j, "process");

  ck_assert_str_eq(json_string_value(json_object_get(j, "ociVersion")),
                   "1.1.0");
  ck_assert_str_eq(
      json_string_value(json_array_get(json_object_get(process, "args"), 0)),
      "sh");
  ck_assert(json_is_true(json_object_get(process, "noNewPrivileges")));
  ck_assert_str_eq(
      json_string_value(json_object_get(json_object_get(j, "root"), "path")),
      "rootfs");
  ck_assert(
      json_is_true(json_object_get(json_object_get(j, "root"), "readonly")));
  json_t *ns = json_object_get(json_object_get(j, "linux"), "namespaces");
  ck_assert_uint_eq(json_array_size(ns), 6);
  ck_assert_uint_eq(json_array_size(json_object_get(j, "mounts")), 7);
  ck_assert_uint_eq(json_array_size(json_object_get(
                        json_object_get(process, "capabilities"), "bounding")),
                    3);
}
END_TEST

/* As runc: an existing config.json is never replaced. */
START_TEST(test_spec_never_overwrites)
{
  char path[PATH_MAX];

  snprintf(path, sizeof(path), "%s/config.json", dir);
  write_file(path, "{\"mine\": 1}");
  ck_assert_int_eq(oci("spec", "-b", dir, NULL), 1);
  json_auto_t *j = load_config();
  ck_assert_ptr_nonnull(json_object_get(j, "mine"));
}
END_TEST

/* A symlink planted at config.json is not followed. */
START_TEST(test_spec_does_not_follow_a_link)
{
  char link[PATH_MAX], target[PATH_MAX];

  snprintf(link, sizeof(link), "%s/config.json", dir);
  snprintf(target, sizeof(target), "%s/elsewhere", dir);
  ck_assert_int_eq(symlink(target, link), 0);
  ck_assert_int_eq(oci("spec", "-b", dir, NULL), 1);
  ck_assert_int_eq(access(target, F_OK), -1);
}
END_TEST

START_TEST(test_spec_refuses_rootless_and_arguments)
{
  ck_assert_int_eq(oci("spec", "-b", dir, "--rootless", NULL), 1);
  ck_assert_int_eq(oci("spec", "-b", dir, "extra", NULL), 1);
}
END_TEST

static char *read_log(const char *path)
{
  static char buf[4096];
  FILE *f = fopen(path, "r");

  ck_assert_ptr_nonnull(f);
  size_t n = fread(buf, 1, sizeof(buf) - 1, f);
  fclose(f);
  buf[n] = '\0';
  return buf;
}

/* containerd's shim reads the last JSON line of --log for the error. */
START_TEST(test_errors_reach_the_json_log)
{
  char log[PATH_MAX];

  snprintf(log, sizeof(log), "%s/log.json", dir);
  ck_assert_int_eq(
      oci("--root", dir, "--log", log, "--log-format", "json", "nosuch", NULL),
      1);
  json_error_t jerr;
  json_auto_t *line = json_loads(read_log(log), JSON_DISABLE_EOF_CHECK, &jerr);
  ck_assert_msg(line != NULL, "log line: %s", jerr.text);
  ck_assert_str_eq(json_string_value(json_object_get(line, "level")), "error");
  ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(line, "msg")),
                               "unknown command"));
  ck_assert_ptr_nonnull(json_object_get(line, "time"));
}
END_TEST

START_TEST(test_text_log_and_bad_globals)
{
  char log[PATH_MAX];

  snprintf(log, sizeof(log), "%s/log.txt", dir);
  ck_assert_int_eq(oci("--log", log, "--systemd-cgroup", "state", "x", NULL),
                   1);
  ck_assert_ptr_nonnull(strstr(read_log(log),
                               "level=error msg=\"--systemd-cgroup is not "
                               "supported"));
  ck_assert_int_eq(oci("--log-format", "xml", "state", "x", NULL), 1);
  ck_assert_int_eq(oci("--root", "relative", "state", "x", NULL), 1);
  ck_assert_int_eq(oci("--version", NULL), 0);
}
END_TEST

/* A state root others can write is refused before any verb uses it; a
 * seccomp profile could otherwise be written through a planted link. */
START_TEST(test_writable_state_root_refused)
{
  char root[PATH_MAX], log[PATH_MAX];

  snprintf(root, sizeof(root), "%s/root", dir);
  snprintf(log, sizeof(log), "%s/log.txt", dir);
  ck_assert_int_eq(mkdir(root, 0700), 0);
  ck_assert_int_eq(chmod(root, 0777), 0);
  ck_assert_int_eq(oci("--root", root, "--log", log, "state", "x", NULL), 1);
  /* refused for the root, not merely "does not exist" */
  ck_assert_ptr_nonnull(strstr(read_log(log), "can be written by others"));
}
END_TEST

/* Verbs on a container that is not there fail, never as success. */
START_TEST(test_verbs_on_a_missing_container_fail)
{
  ck_assert_int_eq(oci("exec", "c1", "true", NULL), 1);
  ck_assert_int_eq(oci("pause", "c1", NULL), 1);
}
END_TEST

static Suite *oci_suite(void)
{
  Suite *s = suite_create("oci");
  TCase *tc = tcase_create("front");

  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_spec_writes_a_runnable_default);
  tcase_add_test(tc, test_spec_never_overwrites);
  tcase_add_test(tc, test_spec_does_not_follow_a_link);
  tcase_add_test(tc, test_spec_refuses_rootless_and_arguments);
  tcase_add_test(tc, test_errors_reach_the_json_log);
  tcase_add_test(tc, test_text_log_and_bad_globals);
  tcase_add_test(tc, test_verbs_on_a_missing_container_fail);
  tcase_add_test(tc, test_writable_state_root_refused);
  suite_add_tcase(s, tc);
  return s;
}

MK_UNIT_MAIN(oci_suite)
