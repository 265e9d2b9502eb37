/* `mocker ps`, `inspect`, `top`, `rename` and `container prune`, driven
 * against the real kernel: status is what the kernel says (a container
 * whose monitor was SIGKILLed shows as exited), names are unique, and
 * every test removes what it made. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <check.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* ---- helpers ------------------------------------------------------- */

/* `run -d ARGS...`: returns the full id printed on stdout. */
static void run_detached(char id[65], const char *name)
{
  struct h_res r;

  H_RUN(&r, "run", "-d", "--name", name, "busybox", "sleep", "1000");
  H_ASSERT_STATUS(&r, 0);
  ck_assert_msg(r.out_len >= 64 && h_is_hex(r.out, 64),
                "run -d printed no id: \"%s\"", r.out);
  memcpy(id, r.out, 64);
  id[64] = '\0';
  h_res_free(&r);
}

/* A container that ran `sh -c 'exit CODE'` in the foreground: exited. */
static void run_exited(const char *name, const char *code)
{
  struct h_res r;
  char script[32];

  h_fmt(script, sizeof(script), "exit %s", code);
  H_RUN(&r, "run", "--name", name, "busybox", "sh", "-c", script);
  H_ASSERT_STATUS(&r, atoi(code));
  h_res_free(&r);
}

static void must_run(const char *const argv[])
{
  struct h_res r;

  h_run(&r, NULL, argv);
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
}

#define MUST(...) must_run(H_ARGV(__VA_ARGS__))

/* The line of text whose last word is name (the NAMES column), copied
 * into line; false if there is none. */
static bool line_named(const char *text, const char *name, char *line,
                       size_t size)
{
  size_t n = strlen(name);

  for (const char *p = text; p && *p;) {
    const char *nl = strchr(p, '\n');
    size_t len = nl ? (size_t)(nl - p) : strlen(p);
    if (len > n && memcmp(p + len - n, name, n) == 0 && p[len - n - 1] == ' ') {
      snprintf(line, size, "%.*s", (int)len, p);
      return true;
    }
    p = nl ? nl + 1 : NULL;
  }
  return false;
}

static void ps_line(const char *const argv[], const char *name, char *line,
                    size_t size)
{
  struct h_res r;

  h_run(&r, NULL, argv);
  H_ASSERT_STATUS(&r, 0);
  ck_assert_msg(line_named(r.out, name, line, size),
                "`%s`: no line for %s:\n%s", h_last_cmd(), name, r.out);
  h_res_free(&r);
}

static void assert_not_listed(const char *const argv[], const char *name)
{
  struct h_res r;
  char line[512];

  h_run(&r, NULL, argv);
  H_ASSERT_STATUS(&r, 0);
  ck_assert_msg(!line_named(r.out, name, line, sizeof(line)),
                "`%s` lists %s:\n%s", h_last_cmd(), name, r.out);
  h_res_free(&r);
}

/* `inspect KEY` parsed; the first element (caller decrefs the array). */
static json_t *inspect(const char *key, json_t **array)
{
  struct h_res r;
  json_error_t jerr;

  H_RUN(&r, "inspect", key);
  H_ASSERT_STATUS(&r, 0);
  *array = json_loads(r.out, 0, &jerr);
  ck_assert_msg(json_is_array(*array) && json_array_size(*array) == 1,
                "inspect %s: not a one-element JSON array (%s):\n%s", key,
                jerr.text, r.out);
  h_res_free(&r);
  return json_array_get(*array, 0);
}

static const char *jstr(json_t *obj, const char *section, const char *key)
{
  json_t *o = section ? json_object_get(obj, section) : obj;
  const char *s = json_string_value(json_object_get(o, key));

  ck_assert_msg(s, "inspect: %s%s%s is not a string", section ? section : "",
                section ? "." : "", key);
  return s;
}

static json_int_t jint(json_t *obj, const char *section, const char *key)
{
  json_t *v = json_object_get(json_object_get(obj, section), key);

  ck_assert_msg(json_is_integer(v), "inspect: %s.%s is not an integer", section,
                key);
  return json_integer_value(v);
}

static int monitor_pid_of(const char *id)
{
  char path[4096];
  h_fmt(path, sizeof(path), "%s/containers/%s/state", h.root, id);
  char *text = h_read_file(path);
  ck_assert_msg(text, "no state file %s", path);
  const char *field = strstr(text, "MonitorPid=");
  int pid = field ? atoi(field + strlen("MonitorPid=")) : 0;
  free(text);
  ck_assert_msg(pid > 0, "no MonitorPid in %s", path);
  return pid;
}

struct ps_wait {
  const char *name, *want;
};

static bool ps_shows(void *arg)
{
  const struct ps_wait *w = arg;
  struct h_res r;
  char line[512];
  bool ok;

  H_RUN(&r, "ps", "-a");
  ok = line_named(r.out, w->name, line, sizeof(line)) &&
       h_contains(line, w->want);
  h_res_free(&r);
  return ok;
}

static bool pid_gone(void *arg)
{
  return !h_pid_alive(*(pid_t *)arg);
}

/* ---- ps ------------------------------------------------------------ */

START_TEST(test_ps_running_and_stopped)
{
  char id[65], line[512];
  struct h_res r;

  run_detached(id, "up");
  run_exited("down", "3");
  H_RUN(&r, "ps");
  H_ASSERT_STATUS(&r, 0);
  ck_assert_msg(strncmp(r.out, "CONTAINER ID   IMAGE", 20) == 0 &&
                    h_contains(r.out, "COMMAND") &&
                    h_contains(r.out, "CREATED") &&
                    h_contains(r.out, "STATUS") && h_contains(r.out, "NAMES"),
                "ps header:\n%s", r.out);
  h_res_free(&r);
  ps_line(H_ARGV("ps"), "up", line, sizeof(line));
  ck_assert_msg(strncmp(line, id, 12) == 0 && line[12] == ' ',
                "no 12-char id: %s", line);
  ck_assert_msg(h_contains(line, "   busybox   \"sleep 1000\"   "), "%s", line);
  ck_assert_msg(h_contains(line, " ago   Up "), "not Up: %s", line);
  assert_not_listed(H_ARGV("ps"), "down");
  ps_line(H_ARGV("ps", "-a"), "down", line, sizeof(line));
  ck_assert_msg(h_contains(line, "Exited (3) ") && h_contains(line, " ago"),
                "not Exited (3): %s", line);
  ck_assert_msg(h_contains(line, "\"sh -c exit 3\""), "%s", line);
  MUST("rm", "-f", "up", "down");
}
END_TEST

START_TEST(test_ps_quiet_no_trunc_filters)
{
  char id[65], line[1024], want[80];
  struct h_res r;

  run_detached(id, "up");
  run_exited("down", "0");
  MUST("create", "--name", "fresh", "busybox", "echo",
       "a command much longer than twenty");
  H_RUN(&r, "ps", "-q");
  H_ASSERT_STATUS(&r, 0);
  h_fmt(want, sizeof(want), "%.12s\n", id);
  H_ASSERT_OUT_EQ(&r, want);
  h_res_free(&r);
  H_RUN(&r, "ps", "-q", "--no-trunc");
  h_fmt(want, sizeof(want), "%s\n", id);
  H_ASSERT_OUT_EQ(&r, want);
  h_res_free(&r);
  H_RUN(&r, "ps", "-aq");
  ck_assert_msg(r.out_len == 3 * 13 && h_is_hex(r.out, 12) &&
                    h_is_hex(r.out + 13, 12) && h_is_hex(r.out + 26, 12),
                "ps -aq is not three short ids:\n%s", r.out);
  h_res_free(&r);

  ps_line(H_ARGV("ps", "-a"), "fresh", line, sizeof(line));
  ck_assert_msg(h_contains(line, "\"echo a command much…\"") &&
                    h_contains(line, "   Created   "),
                "%s", line);
  ps_line(H_ARGV("ps", "-a", "--no-trunc"), "fresh", line, sizeof(line));
  ck_assert_msg(h_contains(line, "\"echo a command much longer than twenty\""),
                "%s", line);
  ck_assert_msg(h_is_hex(line, 64), "--no-trunc id: %s", line);

  /* A status filter implies -a, as Docker's. */
  ps_line(H_ARGV("ps", "--filter", "status=exited"), "down", line,
          sizeof(line));
  assert_not_listed(H_ARGV("ps", "--filter", "status=exited"), "up");
  assert_not_listed(H_ARGV("ps", "--filter", "status=exited"), "fresh");
  ps_line(H_ARGV("ps", "-f", "status=created"), "fresh", line, sizeof(line));
  ps_line(H_ARGV("ps", "-f", "status=running"), "up", line, sizeof(line));
  assert_not_listed(H_ARGV("ps", "-f", "status=running"), "down");
  ps_line(H_ARGV("ps", "-a", "-f", "name=^do"), "down", line, sizeof(line));
  assert_not_listed(H_ARGV("ps", "-a", "-f", "name=^do"), "up");
  h_fmt(want, sizeof(want), "id=%.8s", id);
  ps_line(H_ARGV("ps", "-a", "-f", want), "up", line, sizeof(line));
  assert_not_listed(H_ARGV("ps", "-a", "-f", want), "down");

  H_RUN(&r, "ps", "-f", "status=sleepy");
  ck_assert_msg(r.status != 0, "a bad status filter was accepted");
  H_ASSERT_HAS(&r, err, "invalid filter 'status=sleepy'");
  h_res_free(&r);
  MUST("rm", "-f", "up", "down", "fresh");
}
END_TEST

/* The monitor SIGKILLed: the container dies with it, ps must say so at
 * once (never "Up"), and rm -f leaves nothing behind. */
START_TEST(test_ps_monitor_killed)
{
  char id[65], line[512];
  struct ps_wait exited = {"victim", "Exited (137)"};
  pid_t monitor;

  run_detached(id, "victim");
  ps_line(H_ARGV("ps"), "victim", line, sizeof(line));
  ck_assert_msg(h_contains(line, "Up "), "%s", line);
  monitor = monitor_pid_of(id);
  ck_assert_int_eq(kill(monitor, SIGKILL), 0);
  ck_assert_msg(h_poll(pid_gone, &monitor, H_TIMEOUT_MS),
                "monitor %d survived SIGKILL", monitor);
  assert_not_listed(H_ARGV("ps"), "victim");
  ck_assert_msg(h_poll(ps_shows, &exited, H_TIMEOUT_MS),
                "ps -a never showed victim as Exited (137)");
  ps_line(H_ARGV("ps", "-a"), "victim", line, sizeof(line));
  ck_assert_msg(!h_contains(line, "Up "), "%s", line);
  MUST("rm", "-f", "victim");
  h_assert_no_leftovers(true);
}
END_TEST

/* ---- inspect ------------------------------------------------------- */

START_TEST(test_inspect_container)
{
  char id[65], path[64];
  json_t *all, *c;
  struct h_res r;

  run_detached(id, "insp");
  c = inspect("insp", &all);
  ck_assert_str_eq(jstr(c, NULL, "Id"), id);
  ck_assert_str_eq(jstr(c, NULL, "Name"), "/insp");
  ck_assert_str_eq(jstr(c, "State", "Status"), "running");
  ck_assert(
      json_is_true(json_object_get(json_object_get(c, "State"), "Running")));
  json_int_t pid = jint(c, "State", "Pid");
  ck_assert_msg(pid > 0, "State.Pid %lld", (long long)pid);
  h_fmt(path, sizeof(path), "/proc/%lld", (long long)pid);
  ck_assert_msg(h_exists(path), "State.Pid %lld is not alive", (long long)pid);
  ck_assert_int_eq(jint(c, "State", "ExitCode"), 0);
  ck_assert(
      json_is_false(json_object_get(json_object_get(c, "State"), "OOMKilled")));
  json_t *cmd = json_object_get(json_object_get(c, "Config"), "Cmd");
  ck_assert_msg(
      json_array_size(cmd) == 2 &&
          strcmp(json_string_value(json_array_get(cmd, 0)), "sleep") == 0 &&
          strcmp(json_string_value(json_array_get(cmd, 1)), "1000") == 0,
      "Config.Cmd is not [sleep, 1000]");
  ck_assert_str_eq(jstr(c, "Config", "Image"), "busybox");
  ck_assert(json_is_array(json_object_get(c, "Mounts")));
  ck_assert(json_is_object(json_object_get(c, "NetworkSettings")));
  ck_assert(json_is_object(json_object_get(c, "HostConfig")));
  ck_assert(json_is_integer(json_object_get(c, "RestartCount")));
  json_decref(all);

  run_exited("gone", "3");
  c = inspect("gone", &all);
  ck_assert_str_eq(jstr(c, "State", "Status"), "exited");
  ck_assert_int_eq(jint(c, "State", "ExitCode"), 3);
  ck_assert_int_eq(jint(c, "State", "Pid"), 0);
  ck_assert(
      json_is_false(json_object_get(json_object_get(c, "State"), "Running")));
  ck_assert_str_ne(jstr(c, "State", "FinishedAt"), "0001-01-01T00:00:00Z");
  json_decref(all);

  H_RUN(&r, "inspect", "-f", "{{.State.Status}} {{json .Config.Cmd}}", "insp");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "running [\"sleep\",\"1000\"]\n");
  h_res_free(&r);
  H_RUN(&r, "inspect", "insp", "nosuch-mk");
  H_ASSERT_STATUS(&r, 1);
  H_ASSERT_HAS(&r, err, "Error: No such object: nosuch-mk");
  all = json_loads(r.out, 0, NULL);
  ck_assert_msg(json_array_size(all) == 1, "want [insp] on stdout:\n%s", r.out);
  json_decref(all);
  h_res_free(&r);
  MUST("rm", "-f", "insp", "gone");
}
END_TEST

START_TEST(test_inspect_image)
{
  json_t *all, *img;
  struct h_res r;

  MUST("run", "--rm", "busybox", "true"); /* imports the built-in image */
  img = inspect("busybox", &all);
  ck_assert_msg(strncmp(jstr(img, NULL, "Id"), "sha256:", 7) == 0, "Id %s",
                jstr(img, NULL, "Id"));
  json_t *tags = json_object_get(img, "RepoTags");
  ck_assert_msg(json_array_size(tags) >= 1 &&
                    strcmp(json_string_value(json_array_get(tags, 0)),
                           "busybox:latest") == 0,
                "RepoTags lacks busybox:latest");
  ck_assert(json_is_object(json_object_get(img, "Config")));
  json_decref(all);

  H_RUN(&r, "inspect", "--type", "container", "busybox");
  H_ASSERT_STATUS(&r, 1);
  H_ASSERT_HAS(&r, err, "No such container: busybox");
  h_res_free(&r);
  H_RUN(&r, "inspect", "--type", "image", "busybox");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  H_RUN(&r, "container", "inspect", "busybox");
  H_ASSERT_STATUS(&r, 1);
  H_ASSERT_HAS(&r, err, "No such container: busybox");
  h_res_free(&r);
}
END_TEST

/* ---- top ----------------------------------------------------------- */

START_TEST(test_top)
{
  char id[65], line[512], path[64];
  struct h_res r;

  run_detached(id, "topped");
  H_RUN(&r, "top", "topped");
  H_ASSERT_STATUS(&r, 0);
  ck_assert_msg(strncmp(r.out, "UID ", 4) == 0 && h_contains(r.out, " PID ") &&
                    h_contains(r.out, " PPID ") &&
                    h_contains(r.out, " STIME ") &&
                    h_contains(r.out, " TIME ") && h_contains(r.out, " CMD\n"),
                "top header:\n%s", r.out);
  ck_assert_msg(line_named(r.out, "sleep 1000", line, sizeof(line)),
                "top lacks the workload:\n%s", r.out);
  /* Host pids: the PID column names this very process on the host. */
  int pid = 0;
  ck_assert_int_eq(sscanf(line, "%*s %d", &pid), 1);
  h_fmt(path, sizeof(path), "/proc/%d/cmdline", pid);
  char *cmdline = h_read_file(path);
  ck_assert_msg(cmdline && strcmp(cmdline, "sleep") == 0,
                "pid %d is not the workload on the host", pid);
  free(cmdline);
  h_res_free(&r);
  MUST("kill", "topped");
  MUST("wait", "topped");
  H_RUN(&r, "top", "topped");
  H_ASSERT_STATUS(&r, 1);
  H_ASSERT_HAS(&r, err, "container topped is not running");
  h_res_free(&r);
  MUST("rm", "-f", "topped");
}
END_TEST

/* ---- names --------------------------------------------------------- */

START_TEST(test_rename)
{
  char id[65], line[512];
  json_t *all, *c;
  struct h_res r;

  run_detached(id, "old");
  MUST("rename", "old", "new");
  ps_line(H_ARGV("ps"), "new", line, sizeof(line));
  ck_assert_msg(h_contains(line, "Up "), "renamed container not Up: %s", line);
  assert_not_listed(H_ARGV("ps", "-a"), "old");
  c = inspect("new", &all);
  ck_assert_str_eq(jstr(c, NULL, "Name"), "/new");
  json_decref(all);
  MUST("create", "--name", "old", "busybox", "true"); /* the old name is free */

  H_RUN(&r, "rename", "new", "old");
  H_ASSERT_STATUS(&r, 1);
  H_ASSERT_HAS(&r, err,
               "Conflict. The container name \"/old\" is already in "
               "use");
  h_res_free(&r);
  H_RUN(&r, "rename", "new", "bad/name");
  H_ASSERT_STATUS(&r, 125);
  H_ASSERT_HAS(&r, err, "Invalid container name (bad/name)");
  h_res_free(&r);
  H_RUN(&r, "rename", "nosuch-mk", "x1");
  H_ASSERT_STATUS(&r, 1);
  H_ASSERT_HAS(&r, err, "No such container: nosuch-mk");
  h_res_free(&r);
  MUST("rm", "-f", "new", "old");
}
END_TEST

START_TEST(test_names_unique)
{
  struct h_res r;

  MUST("create", "--name", "dup", "busybox", "true");
  H_RUN(&r, "create", "--name", "dup", "busybox", "true");
  ck_assert_msg(r.status != 0, "a second container got the name dup");
  H_ASSERT_HAS(&r, err, "Conflict");
  h_res_free(&r);
  ck_assert_int_eq(h_containers(h.root, NULL, 0), 1);
  MUST("rm", "dup");
}
END_TEST

/* By pigeonhole, 17 containers share a first hex digit; usually a few
 * suffice. */
START_TEST(test_ambiguous_prefix)
{
  char ids[17][65];
  int n = 0, a = -1, b = -1;
  struct h_res r;

  while (a < 0 && n < 17) {
    H_RUN(&r, "create", "busybox", "true");
    H_ASSERT_STATUS(&r, 0);
    memcpy(ids[n], r.out, 64);
    ids[n][64] = '\0';
    h_res_free(&r);
    for (int k = 0; k < n && a < 0; k++)
      if (ids[k][0] == ids[n][0])
        a = k, b = n;
    n++;
  }
  ck_assert_msg(a >= 0, "17 ids without a shared first digit");
  char prefix[2] = {ids[a][0], '\0'}, cand[16];
  H_RUN(&r, "inspect", prefix);
  H_ASSERT_STATUS(&r, 1);
  h_fmt(cand, sizeof(cand), "%.12s", ids[a]);
  H_ASSERT_HAS(&r, err, cand);
  h_fmt(cand, sizeof(cand), "%.12s", ids[b]);
  H_ASSERT_HAS(&r, err, cand);
  h_res_free(&r);
  H_RUN(&r, "top", prefix);
  H_ASSERT_STATUS(&r, 1);
  H_ASSERT_HAS(&r, err, "multiple containers match");
  h_res_free(&r);
  for (int i = 0; i < n; i++)
    MUST("rm", ids[i]);
}
END_TEST

/* ---- container group and prune -------------------------------------- */

START_TEST(test_container_prune)
{
  char id[65], line[512], exited_id[65];
  struct h_res r;
  json_t *all;

  run_detached(id, "keep");
  run_exited("stopped", "0");
  MUST("create", "--name", "made", "busybox", "true");
  json_t *c = inspect("stopped", &all);
  snprintf(exited_id, sizeof(exited_id), "%s", jstr(c, NULL, "Id"));
  json_decref(all);

  /* Without -f it asks, and "n" keeps everything. */
  H_RUN_IN(&r, "n\n", "container", "prune");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_HAS(&r, out, "Are you sure you want to continue? [y/N]");
  h_res_free(&r);
  ck_assert_int_eq(h_containers(h.root, NULL, 0), 3);

  H_RUN(&r, "container", "prune", "-f");
  H_ASSERT_STATUS(&r, 0);
  ck_assert_msg(strncmp(r.out, "Deleted Containers:\n", 20) == 0, "%s", r.out);
  ck_assert_msg(h_has_line(r.out, exited_id), "%s", r.out);
  H_ASSERT_LACKS(&r, out, id);
  H_ASSERT_HAS(&r, out, "\n\nTotal reclaimed space: ");
  h_res_free(&r);
  ck_assert_int_eq(h_containers(h.root, NULL, 0), 1);
  ps_line(H_ARGV("container", "ls"), "keep", line, sizeof(line));
  ck_assert_msg(h_contains(line, "Up "), "%s", line);
  assert_not_listed(H_ARGV("container", "ls", "-a"), "made");

  H_RUN(&r, "container", "prune", "-f");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "Total reclaimed space: 0B\n");
  h_res_free(&r);
  MUST("container", "rm", "-f", "keep");
  ck_assert_int_eq(h_containers(h.root, NULL, 0), 0);
}
END_TEST

static Suite *ps_suite(void)
{
  Suite *s = suite_create("ps");
  TCase *tc;

  tc = h_tcase("ps", 60);
  tcase_add_test(tc, test_ps_running_and_stopped);
  tcase_add_test(tc, test_ps_quiet_no_trunc_filters);
  tcase_add_test(tc, test_ps_monitor_killed);
  suite_add_tcase(s, tc);

  tc = h_tcase("inspect_top", 60);
  tcase_add_test(tc, test_inspect_container);
  tcase_add_test(tc, test_inspect_image);
  tcase_add_test(tc, test_top);
  suite_add_tcase(s, tc);

  tc = h_tcase("names", 90);
  tcase_add_test(tc, test_rename);
  tcase_add_test(tc, test_names_unique);
  tcase_add_test(tc, test_ambiguous_prefix);
  tcase_add_test(tc, test_container_prune);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  return h_main(ps_suite());
}
