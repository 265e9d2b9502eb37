/* Resource limits through cgroups, on whichever the host has: v1 (and
 * hybrid, like the CI host) or v2 (make test-vm boots a v2 kernel and
 * runs this suite there too). Each test checks what a user relies on: the
 * limit holds, the exit code and OOM report, what stats and update show,
 * and that no cgroup is left behind (the harness checks after each test). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "harness.h"

static bool is_v2(void)
{
  return access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0;
}

/* The host path of a container's cgroup file: v1 under the controller's
 * hierarchy, v2 in the unified tree. */
static void cg_path(char *out, size_t size, const char *id,
                    const char *controller, const char *v1_file,
                    const char *v2_file)
{
  if (is_v2())
    h_fmt(out, size, "/sys/fs/cgroup/mocker/%s/%s", id, v2_file);
  else
    h_fmt(out, size, "/sys/fs/cgroup/%s/mocker/%s/%s", controller, id,
          v1_file);
}

static long long cg_number(const char *id, const char *controller,
                           const char *v1_file, const char *v2_file)
{
  char path[512], *text;
  long long v = -1;

  cg_path(path, sizeof path, id, controller, v1_file, v2_file);
  text = h_read_file(path);
  if (text)
    v = strtoll(text, NULL, 10);
  free(text);
  return v;
}

/* "key N" from a keyed file (cpu.stat, memory.events). */
static long long cg_keyed(const char *id, const char *controller,
                          const char *file, const char *key)
{
  char path[512], *text, *p;
  long long v = -1;

  cg_path(path, sizeof path, id, controller, file, file);
  text = h_read_file(path);
  p = text ? strstr(text, key) : NULL;
  if (p)
    v = strtoll(p + strlen(key) + 1, NULL, 10);
  free(text);
  return v;
}

static const char *run_d(const char *const argv[])
{
  static char id[65];
  struct h_res r;

  h_run(&r, NULL, argv);
  H_ASSERT_STATUS(&r, 0);
  ck_assert(h_is_hex(r.out, 64));
  memcpy(id, r.out, 64);
  id[64] = '\0';
  h_res_free(&r);
  return id;
}

static void rm_f(const char *id)
{
  struct h_res r;

  H_RUN(&r, "rm", "-f", id);
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
}

static const char *state_of(const char *id, const char *key)
{
  static char value[128];
  char path[4400], *text, *p;

  value[0] = '\0';
  h_fmt(path, sizeof path, "%s/containers/%s/state", h.root, id);
  text = h_read_file(path);
  p = text ? strstr(text, key) : NULL;
  if (p && p[strlen(key)] == '=')
    snprintf(value, sizeof value, "%.*s", (int)strcspn(p + strlen(key) + 1, "\n"),
             p + strlen(key) + 1);
  free(text);
  return value;
}

/* ---- memory --------------------------------------------------------- */

#define EAT_200MB "head -c 200000000 /dev/zero | tail"

START_TEST(test_memory_oom_foreground)
{
  struct h_res r;

  H_RUN(&r, "run", "--rm", "-m", "32m", "busybox", "sh", "-c",
        "exec sh -c '" EAT_200MB "'");
  H_ASSERT_STATUS(&r, 137);
  H_ASSERT_HAS(&r, err, "ran out of memory");
  h_res_free(&r);
}
END_TEST

START_TEST(test_memory_oom_detached_inspect)
{
  const char *id =
      run_d(H_ARGV("run", "-d", "-m", "32m", "busybox", "sh", "-c", EAT_200MB));
  char cid[65];
  struct h_res r;

  snprintf(cid, sizeof cid, "%s", id);
  H_RUN(&r, "wait", cid);
  H_ASSERT_OUT_EQ(&r, "137\n");
  h_res_free(&r);
  ck_assert_str_eq(state_of(cid, "OOMKilled"), "1");
  H_RUN(&r, "inspect", cid);
  H_ASSERT_HAS(&r, out, "\"OOMKilled\": true");
  h_res_free(&r);
  rm_f(cid);
}
END_TEST

START_TEST(test_memory_limit_written)
{
  const char *id = run_d(H_ARGV("run", "-d", "-m", "64m",
                                "--memory-reservation", "32m", "busybox",
                                "sleep", "1000"));
  char cid[65];

  snprintf(cid, sizeof cid, "%s", id);
  ck_assert_int_eq(
      cg_number(cid, "memory", "memory.limit_in_bytes", "memory.max"),
      64LL << 20);
  ck_assert_int_eq(
      cg_number(cid, "memory", "memory.soft_limit_in_bytes", "memory.low"),
      32LL << 20);
  rm_f(cid);
}
END_TEST

/* --blkio-weight needs a proportional I/O scheduler, which hosts may lack:
 * either the weight is written, or run refuses with a message naming what
 * is missing; never a silent no-op. */
START_TEST(test_blkio_weight)
{
  struct h_res r;
  char path[512];

  H_RUN(&r, "run", "-d", "--name", "blk", "--blkio-weight", "300", "busybox",
        "sleep", "1000");
  if (r.status != 0) {
    H_ASSERT_STATUS(&r, 125);
    H_ASSERT_HAS(&r, err, "cannot enforce");
    h_res_free(&r);
    rm_f("blk"); /* created, never started, as Docker leaves it */
    return;
  }
  char cid[65];
  snprintf(cid, sizeof cid, "%.64s", r.out);
  h_res_free(&r);
  static const char *const files[][2] = {{"blkio", "blkio.weight"},
                                         {"blkio", "blkio.bfq.weight"},
                                         {"io", "io.weight"},
                                         {"io", "io.bfq.weight"}};
  bool found = false;
  for (size_t i = 0; i < sizeof files / sizeof files[0] && !found; i++) {
    cg_path(path, sizeof path, cid, files[i][0], files[i][1], files[i][1]);
    char *text = h_read_file(path);
    found = text && strstr(text, "300");
    free(text);
  }
  ck_assert_msg(found, "no blkio/io weight file of %.12s says 300", cid);
  rm_f(cid);
}
END_TEST

/* ---- pids ----------------------------------------------------------- */

/* A fork bomb stays inside --pids-limit, and another container still
 * starts while it rages. */
START_TEST(test_pids_limit_contains_fork_bomb)
{
  const char *id = run_d(H_ARGV(
      "run", "-d", "--pids-limit", "20", "busybox", "sh", "-c",
      "i=0; while [ $i -lt 200 ]; do sleep 1000 & i=$((i+1)); done; "
      "echo spawned; sleep 1000"));
  char cid[65];
  struct h_res r;

  snprintf(cid, sizeof cid, "%s", id);
  ck_assert_int_eq(cg_number(cid, "pids", "pids.max", "pids.max"), 20);
  /* the loop's forks fail past the limit; it gets through its 200 tries */
  for (long end = h_now_ms() + H_TIMEOUT_MS; h_now_ms() < end;) {
    H_RUN(&r, "logs", cid);
    bool done = h_contains(r.out, "spawned");
    h_res_free(&r);
    if (done)
      break;
    usleep(50 * 1000);
  }
  ck_assert_int_le(cg_number(cid, "pids", "pids.current", "pids.current"), 20);
  H_RUN(&r, "run", "--rm", "busybox", "echo", "unaffected");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "unaffected\n");
  h_res_free(&r);
  rm_f(cid);
}
END_TEST

/* ---- cpu ------------------------------------------------------------ */

static long long cpu_usage_ns(const char *id)
{
  return is_v2() ? cg_keyed(id, "cpu", "cpu.stat", "usage_usec") * 1000
                 : cg_number(id, "cpuacct", "cpuacct.usage", "");
}

/* --cpus 0.5 and a spinning loop: over a measured second or more, usage
 * stays near half a CPU, and the kernel reports throttling. */
START_TEST(test_cpus_half)
{
  const char *id = run_d(H_ARGV("run", "-d", "--cpus", "0.5", "busybox", "sh",
                                "-c", "while :; do :; done"));
  char cid[65];
  long long u0, u1, t0, t1;

  snprintf(cid, sizeof cid, "%s", id);
  ck_assert_int_eq(cg_number(cid, "cpu", "cpu.cfs_quota_us", "cpu.max"),
                   50000);
  u0 = cpu_usage_ns(cid);
  t0 = h_now_ms();
  while ((t1 = h_now_ms()) - t0 < 2000)
    usleep(100 * 1000);
  u1 = cpu_usage_ns(cid);
  double cpus = (double)(u1 - u0) / 1e6 / (double)(t1 - t0);
  ck_assert_msg(cpus <= 0.6, "used %.2f CPUs under --cpus 0.5", cpus);
  ck_assert_msg(cg_keyed(cid, "cpu", "cpu.stat", "nr_throttled") > 0,
                "the spinning container was never throttled");
  rm_f(cid);
}
END_TEST

/* ---- devices -------------------------------------------------------- */

/* mknod is allowed (Docker's default), opening what it made is not. */
START_TEST(test_device_cgroup_denies_disk)
{
  struct stat st;
  char script[256];
  struct h_res r;

  ck_assert_int_eq(stat("/", &st), 0);
  h_fmt(script, sizeof script,
        "mknod /tmp/disk b %u %u && head -c 1 /tmp/disk; echo rc=$?",
        major(st.st_dev), minor(st.st_dev));
  H_RUN(&r, "run", "--rm", "busybox", "sh", "-c", script);
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_HAS(&r, err, "Operation not permitted");
  H_ASSERT_HAS(&r, out, "rc=1");
  h_res_free(&r);
}
END_TEST

START_TEST(test_device_option_allows_one)
{
  struct h_res r;

  H_RUN(&r, "run", "--rm", "--device", "/dev/null:/dev/mynull", "busybox",
        "sh", "-c", "echo x > /dev/mynull && echo wrote");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "wrote\n");
  h_res_free(&r);
}
END_TEST

/* --device-cgroup-rule (Docker's): a node made with mknod (/dev/kmsg's
 * numbers, 1:11) opens for writing once a rule allows "w", and not
 * without one; a bad rule is refused. The open writes nothing. */
START_TEST(test_device_cgroup_rule_allows_access)
{
  const char *script = "mknod /tmp/k c 1 11 && (exec 3>/tmp/k) && echo opened";
  struct h_res r;

  H_RUN(&r, "run", "--rm", "busybox", "sh", "-c", script);
  H_ASSERT_STATUS(&r, 1);
  H_ASSERT_HAS(&r, err, "Operation not permitted");
  h_res_free(&r);
  H_RUN(&r, "run", "--rm", "--device-cgroup-rule", "c 1:11 w", "busybox",
        "sh", "-c", script);
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "opened\n");
  h_res_free(&r);
  H_RUN(&r, "run", "--rm", "--device-cgroup-rule", "x 1:2 rwm", "busybox",
        "true");
  H_ASSERT_STATUS(&r, 125);
  H_ASSERT_HAS(&r, err, "device cgroup rule `x 1:2 rwm`");
  h_res_free(&r);
}
END_TEST

/* ---- stats, update, the view inside --------------------------------- */

START_TEST(test_stats_and_update)
{
  const char *id = run_d(H_ARGV("run", "-d", "--name", "lim", "-m", "64m",
                                "busybox", "sleep", "1000"));
  char cid[65];
  struct h_res r;

  snprintf(cid, sizeof cid, "%s", id);
  H_RUN(&r, "stats", "--no-stream", "lim");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_HAS(&r, out, "CPU %");
  H_ASSERT_HAS(&r, out, "/ 64MiB");
  h_res_free(&r);
  H_RUN(&r, "update", "-m", "256m", "--pids-limit", "30", "--cpus", "1.5",
        "lim");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  ck_assert_int_eq(
      cg_number(cid, "memory", "memory.limit_in_bytes", "memory.max"),
      256LL << 20);
  ck_assert_int_eq(cg_number(cid, "pids", "pids.max", "pids.max"), 30);
  ck_assert_int_eq(cg_number(cid, "cpu", "cpu.cfs_quota_us", "cpu.max"),
                   150000);
  H_RUN(&r, "stats", "--no-stream", "lim");
  H_ASSERT_HAS(&r, out, "/ 256MiB");
  h_res_free(&r);
  H_RUN(&r, "inspect", "lim");
  H_ASSERT_HAS(&r, out, "\"Memory\": 268435456");
  h_res_free(&r);
  H_RUN(&r, "update", "lim");
  H_ASSERT_STATUS(&r, 125);
  h_res_free(&r);
  rm_f(cid);
}
END_TEST

START_TEST(test_cgroup_view_inside)
{
  struct h_res r;

  H_RUN(&r, "run", "--rm", "--pids-limit", "42", "busybox", "sh", "-c",
        "cat /proc/self/cgroup; "
        "cat /sys/fs/cgroup/pids.max /sys/fs/cgroup/pids/pids.max 2>/dev/null; "
        "touch /sys/fs/cgroup/x 2>&1");
  H_ASSERT_STATUS(&r, 1);
  H_ASSERT_HAS(&r, out, "42\n");
  H_ASSERT_LACKS(&r, out, "mocker");
  H_ASSERT_HAS(&r, out, "Read-only file system");
  h_res_free(&r);
}
END_TEST

/* exec'd processes count against the container's limits too. */
START_TEST(test_exec_joins_cgroup)
{
  const char *id = run_d(H_ARGV("run", "-d", "--pids-limit", "5", "busybox",
                                "sleep", "1000"));
  char cid[65];
  struct h_res r;

  snprintf(cid, sizeof cid, "%s", id);
  H_RUN(&r, "exec", cid, "sh", "-c",
        "for i in 1 2 3 4 5 6 7 8; do sleep 100 & done; echo end");
  H_ASSERT_HAS(&r, err, "can't fork");
  h_res_free(&r);
  ck_assert_int_le(cg_number(cid, "pids", "pids.current", "pids.current"), 5);
  rm_f(cid);
}
END_TEST

/* The monitor SIGKILLed: rm -f still removes the cgroup. */
START_TEST(test_monitor_killed_cgroup_removed)
{
  const char *id =
      run_d(H_ARGV("run", "-d", "-m", "64m", "busybox", "sleep", "1000"));
  char cid[65], path[512];
  struct h_res r;

  snprintf(cid, sizeof cid, "%s", id);
  kill(atoi(state_of(cid, "MonitorPid")), SIGKILL);
  H_RUN(&r, "wait", cid);
  H_ASSERT_OUT_EQ(&r, "137\n");
  h_res_free(&r);
  cg_path(path, sizeof path, cid, "memory", "", "");
  ck_assert_msg(h_exists(path), "the cgroup vanished before rm");
  rm_f(cid);
  ck_assert_msg(!h_exists(path), "rm -f left the cgroup %s", path);
}
END_TEST

START_TEST(test_bad_limits)
{
  struct h_res r;

  H_RUN(&r, "run", "--rm", "-m", "1k", "busybox", "true");
  H_ASSERT_STATUS(&r, 125);
  H_ASSERT_HAS(&r, err, "Minimum memory limit");
  h_res_free(&r);
  H_RUN(&r, "run", "--rm", "--cpus", "lots", "busybox", "true");
  H_ASSERT_STATUS(&r, 125);
  H_ASSERT_HAS(&r, err, "--cpus");
  h_res_free(&r);
  H_RUN(&r, "run", "--rm", "--memory-swap", "32m", "busybox", "true");
  H_ASSERT_STATUS(&r, 125);
  h_res_free(&r);
}
END_TEST

static Suite *cgroup_suite(void)
{
  Suite *s = suite_create("cgroup");
  TCase *tc;

  tc = h_tcase("memory", 60);
  tcase_add_test(tc, test_memory_oom_foreground);
  tcase_add_test(tc, test_memory_oom_detached_inspect);
  tcase_add_test(tc, test_memory_limit_written);
  tcase_add_test(tc, test_blkio_weight);
  suite_add_tcase(s, tc);

  tc = h_tcase("pids_cpu", 60);
  tcase_add_test(tc, test_pids_limit_contains_fork_bomb);
  tcase_add_test(tc, test_cpus_half);
  suite_add_tcase(s, tc);

  tc = h_tcase("devices", 60);
  tcase_add_test(tc, test_device_cgroup_denies_disk);
  tcase_add_test(tc, test_device_option_allows_one);
  tcase_add_test(tc, test_device_cgroup_rule_allows_access);
  suite_add_tcase(s, tc);

  tc = h_tcase("observe", 60);
  tcase_add_test(tc, test_stats_and_update);
  tcase_add_test(tc, test_cgroup_view_inside);
  tcase_add_test(tc, test_exec_joins_cgroup);
  tcase_add_test(tc, test_monitor_killed_cgroup_removed);
  tcase_add_test(tc, test_bad_limits);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  return h_main(cgroup_suite());
}
