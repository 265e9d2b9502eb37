/* containerd drives mocker-runtime as it drives runc: Debian's
 * containerd 1.6, private to the test (its own root, state, socket and
 * namespace, CRI off), the built-in busybox imported, and `ctr run` with
 * the runc shim's --runc-binary set to build/mocker-runtime. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

/* containerd itself keeps shim sockets and fifos under /run/containerd
 * whatever its config says: removed after, if the test made it. */
#define CONTAINERD_RUN "/run/containerd"

static char runtime[4096], archive[4096], sock[4200], ns[64], rtroot[4200];
static bool run_existed;
static pid_t containerd = -1;

/* A containerd command; argv after `ctr -a SOCK -n NS`. */
static int ctr(struct h_res *r, const char *const argv[])
{
  const char *args[64] = {"-a", sock, "-n", ns};
  size_t n = 4;

  for (size_t i = 0; argv[i] && n < 63; i++)
    args[n++] = argv[i];
  args[n] = NULL;
  return h_run(r,
               &(struct h_opts){.program = "/usr/bin/ctr",
                                .no_root_flag = true,
                                .timeout_ms = 60000},
               args);
}
#define CTR(res, ...) ctr((res), H_ARGV(__VA_ARGS__))

static bool sock_ready(void *unused)
{
  (void)unused;
  return h_exists(sock);
}

static void start_containerd(void)
{
  char cfg[4200], dir[4200], log[4200], copy[4096];

  snprintf(copy, sizeof(copy), "%s", h_mocker());
  h_fmt(runtime, sizeof(runtime), "%s/mocker-runtime", dirname(copy));
  snprintf(copy, sizeof(copy), "%s", h_mocker());
  h_fmt(archive, sizeof(archive), "%s/busybox-archive.tar", dirname(copy));
  h_fmt(dir, sizeof(dir), "%s/ctd", h.dir);
  h_fmt(sock, sizeof(sock), "%s/c.sock", dir);
  h_fmt(rtroot, sizeof(rtroot), "%s/runtime", dir);
  run_existed = h_exists(CONTAINERD_RUN);
  h_fmt(cfg, sizeof(cfg), "%s/config.toml", dir);
  h_fmt(log, sizeof(log), "%s/log", dir);
  /* the namespace names the cgroup parent: unique, and removed after */
  snprintf(ns, sizeof(ns), "mk%d", (int)getpid());
  ck_assert_int_eq(mkdir(dir, 0700), 0);
  char text[8192];
  h_fmt(text, sizeof(text),
        "version = 2\nroot = \"%s/root\"\nstate = \"%s/state\"\n"
        "disabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n"
        "[grpc]\n  address = \"%s\"\n",
        dir, dir, sock);
  h_write_file(cfg, text);
  int out = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  containerd = fork();
  ck_assert_int_ge(containerd, 0);
  if (containerd == 0) {
    dup2(out, 1), dup2(out, 2);
    execl("/usr/bin/containerd", "containerd", "--config", cfg, (char *)NULL);
    _exit(127);
  }
  close(out);
  ck_assert_msg(h_poll(sock_ready, NULL, 20000), "containerd did not start");
  struct h_res r;
  CTR(&r, "images", "import", archive);
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
}

/* containerd, by its pid, then the cgroup parent its namespace made
 * (no task's cgroup may be left in it). */
static void stop_containerd(void)
{
  bool leaked;

  if (containerd > 0) {
    kill(containerd, SIGTERM);
    h_wait(containerd, 20000);
    containerd = -1;
  }
  leaked = h_cgroup_has_child(ns, "");
  ck_assert_msg(h_poll(h_cgroup_tree_gone, ns, 10000),
                "cgroup parent /%s was left behind", ns);
  ck_assert_msg(!leaked, "a task's cgroup was left under /%s", ns);
  if (!run_existed && h_exists(CONTAINERD_RUN))
    ck_assert_int_eq(nftw(CONTAINERD_RUN, h_rm_entry, 16, FTW_DEPTH | FTW_PHYS),
                     0);
}

static void setup(void)
{
  start_containerd();
}

static void teardown(void)
{
  stop_containerd();
}

static const char *image = "docker.io/library/busybox:latest";

START_TEST(test_ctr_run_rm_exit_status)
{
  struct h_res r;

  CTR(&r, "run", "--rm", "--runc-binary", runtime, "--runc-root", rtroot, image,
      "t1", "sh", "-c", "echo hello from containerd $(id -u); exit 5");
  ck_assert_msg(r.status == 5, "ctr run: %d\n%s", r.status, r.err);
  H_ASSERT_HAS(&r, out, "hello from containerd 0");
  h_res_free(&r);
  CTR(&r, "containers", "ls", "-q");
  H_ASSERT_STATUS(&r, 0);
  ck_assert_str_eq(r.out, "");
  h_res_free(&r);
}
END_TEST

static bool task_stopped(void *id)
{
  struct h_res r;
  bool stopped;

  CTR(&r, "tasks", "ls");
  stopped = strstr(r.out, (const char *)id) && strstr(r.out, "STOPPED");
  h_res_free(&r);
  return stopped;
}

/* ctr tasks exec, as a person runs it: without a tty (the process's
 * status and output come back through the shim), then with one, under
 * `script` for a real terminal. */
static void exec_without_and_with_tty(const char *id)
{
  char cmd[16384];
  struct h_res r;

  CTR(&r, "tasks", "exec", "--exec-id", "x1", id, "sh", "-c",
      "echo exec out $(id -u); exit 3");
  ck_assert_msg(r.status == 3, "ctr tasks exec: %d\n%s", r.status, r.err);
  H_ASSERT_HAS(&r, out, "exec out 0");
  h_res_free(&r);
  h_fmt(cmd, sizeof(cmd),
        "/usr/bin/ctr -a %s -n %s tasks exec -t --exec-id x2 %s sh -c "
        "'tty; exit 4'",
        sock, ns, id);
  h_run(&r,
        &(struct h_opts){.program = "/usr/bin/script",
                         .no_root_flag = true,
                         .timeout_ms = 60000},
        H_ARGV("-qec", cmd, "/dev/null"));
  ck_assert_msg(r.status == 4, "script/ctr exec -t: %d\n%s\n%s", r.status,
                r.out, r.err);
  H_ASSERT_HAS(&r, out, "/dev/pts/");
  h_res_free(&r);
}

static void assert_task_status(const char *id, const char *want)
{
  struct h_res r;

  CTR(&r, "tasks", "ls");
  H_ASSERT_STATUS(&r, 0);
  ck_assert_msg(strstr(r.out, id) && strstr(r.out, want), "want %s:\n%s", want,
                r.out);
  h_res_free(&r);
}

static void pause_and_resume(const char *id)
{
  struct h_res r;

  CTR(&r, "tasks", "pause", id);
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  assert_task_status(id, "PAUSED");
  CTR(&r, "tasks", "resume", id);
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  assert_task_status(id, "RUNNING");
}

/* -d, then exec, ps, pause and resume, kill, and delete: the task's life as
 * containerd tracks it through the runtime. */
START_TEST(test_ctr_detached_kill_and_delete)
{
  struct h_res r;

  CTR(&r, "run", "-d", "--runc-binary", runtime, "--runc-root", rtroot, image,
      "t2", "sh", "-c", "trap 'exit 7' TERM; while :; do sleep 0.1; done");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  CTR(&r, "tasks", "ls");
  H_ASSERT_STATUS(&r, 0);
  ck_assert_msg(strstr(r.out, "t2") && strstr(r.out, "RUNNING"), "%s", r.out);
  h_res_free(&r);
  exec_without_and_with_tty("t2");
  CTR(&r, "tasks", "ps", "t2");
  H_ASSERT_STATUS(&r, 0);
  ck_assert_msg(strstr(r.out, "PID"), "%s", r.out);
  h_res_free(&r);
  pause_and_resume("t2");
  CTR(&r, "tasks", "kill", "t2");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  ck_assert_msg(h_poll(task_stopped, "t2", 20000), "t2 did not stop");
  CTR(&r, "tasks", "ls");
  ck_assert_msg(strstr(r.out, "STOPPED"), "%s", r.out);
  h_res_free(&r);
  CTR(&r, "tasks", "delete", "t2");
  H_ASSERT_STATUS(&r, 0);
  /* the exit status containerd recorded */
  H_ASSERT_HAS(&r, err, "task t2 exit with non-zero exit code 7");
  h_res_free(&r);
  CTR(&r, "containers", "rm", "t2");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
}
END_TEST

/* Several containers at once, each with its own exit status. */
START_TEST(test_ctr_many_at_once)
{
  pid_t pids[6];
  char ids[6][8], script[64];

  for (int i = 0; i < 6; i++) {
    snprintf(ids[i], sizeof(ids[i]), "m%d", i);
    snprintf(script, sizeof(script), "sleep 0.3; exit %d", 10 + i);
    const char *argv[] = {"/usr/bin/ctr",
                          "-a",
                          sock,
                          "-n",
                          ns,
                          "run",
                          "--rm",
                          "--runc-binary",
                          runtime,
                          "--runc-root",
                          rtroot,
                          image,
                          ids[i],
                          "sh",
                          "-c",
                          script,
                          NULL};
    pids[i] = fork();
    ck_assert_int_ge(pids[i], 0);
    if (pids[i] == 0) {
      int null = open("/dev/null", O_RDWR);
      dup2(null, 0), dup2(null, 1), dup2(null, 2);
      execv(argv[0], (char *const *)argv);
      _exit(127);
    }
  }
  for (int i = 0; i < 6; i++)
    ck_assert_int_eq(h_wait(pids[i], 60000), 10 + i);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("containerd");
  TCase *tc = h_tcase("ctr", 120);

  /* after the harness's own setup, before its leftover checks */
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_ctr_run_rm_exit_status);
  tcase_add_test(tc, test_ctr_detached_kill_and_delete);
  tcase_add_test(tc, test_ctr_many_at_once);
  suite_add_tcase(s, tc);
  return h_main(s);
}
