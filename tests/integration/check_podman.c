/* podman runs its containers through mocker-runtime: Debian's podman
 * with --runtime build/mocker-runtime, its storage, tmpdir and the
 * runtime's state private to the test, a cgroup parent of its own, and
 * the built-in busybox loaded. podman's default nofile (1048576) is above
 * this host's hard limit, which root here cannot raise (runc fails the
 * same way), so the runs ask for limits the host allows. */
#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

/* podman's exit command (its cleanup after --rm) drops --runtime-flag,
 * so the runtime keeps its default root, as runc keeps /run/runc; the
 * test removes it if it made it. */
#define RUNTIME_ROOT "/run/mocker-runtime"

static char runtime[4096], archive[4096], store[4200], runroot[4200],
    tmpdir[4200], parent[64];
static bool root_existed;

/* `podman GLOBALS ARGV...` */
static int podman(struct h_res *r, const char *const argv[])
{
  const char *args[64] = {
      "--root",           store,      "--runroot",        runroot,
      "--tmpdir",         tmpdir,     "--runtime",        runtime,
      "--cgroup-manager", "cgroupfs", "--events-backend", "none"};
  size_t n = 12;

  for (size_t i = 0; argv[i] && n < 63; i++)
    args[n++] = argv[i];
  args[n] = NULL;
  return h_run(r,
               &(struct h_opts){.program = "/usr/bin/podman",
                                .no_root_flag = true,
                                .timeout_ms = 90000},
               args);
}
#define PODMAN(res, ...) podman((res), H_ARGV(__VA_ARGS__))
#define LIMITS                                                                 \
  "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", "--network",  \
      "none", "--cgroup-parent", parent

static void setup(void)
{
  char copy[4096];
  struct h_res r;

  snprintf(copy, sizeof(copy), "%s", h_mocker());
  h_fmt(runtime, sizeof(runtime), "%s/mocker-runtime", dirname(copy));
  snprintf(copy, sizeof(copy), "%s", h_mocker());
  h_fmt(archive, sizeof(archive), "%s/busybox-archive.tar", dirname(copy));
  h_fmt(store, sizeof(store), "%s/podman", h.dir);
  h_fmt(runroot, sizeof(runroot), "%s/podman-run", h.dir);
  h_fmt(tmpdir, sizeof(tmpdir), "%s/podman-tmp", h.dir);
  root_existed = h_exists(RUNTIME_ROOT);
  snprintf(parent, sizeof(parent), "/mkpod%d", (int)getpid());
  PODMAN(&r, "load", "-q", "-i", archive);
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
}

/* podman's own mounts and state go with its storage reset; no container
 * cgroup may be left, and the cgroup parent we named must be gone. */
/* The runtime's containers whose bundle is in this test's podman store:
 * podman deletes each through the runtime, in its cleanup, which may run
 * just after rm returns. */
static bool none_of_ours(void *unused)
{
  struct h_res r;
  bool none;

  (void)unused;
  if (!h_exists(RUNTIME_ROOT))
    return true;
  h_run(&r,
        &(struct h_opts){.program = runtime, .no_root_flag = true,
                         .no_root_env = true},
        H_ARGV("--root", RUNTIME_ROOT, "list"));
  none = r.status == 0 && !strstr(r.out, store);
  h_res_free(&r);
  return none;
}

static void teardown(void)
{
  struct h_res r;

  PODMAN(&r, "rm", "-a", "-f");
  h_res_free(&r);
  PODMAN(&r, "system", "reset", "-f");
  h_res_free(&r);
  /* even in a runtime root that was there before (podman's cleanup
   * drops --runtime-flag, so the default root is the one used) */
  ck_assert_msg(h_poll(none_of_ours, NULL, 10000),
                "a container of this test was left in " RUNTIME_ROOT);
  bool leaked = h_cgroup_has_child(parent + 1, "libpod-");
  ck_assert_msg(h_poll(h_cgroup_tree_gone, parent + 1, 10000),
                "cgroup parent %s was left behind", parent);
  ck_assert_msg(!leaked, "a container cgroup was left under %s", parent);
  if (!root_existed) {
    ck_assert_msg(h_containers(RUNTIME_ROOT, NULL, 0) == 0,
                  "containers left in " RUNTIME_ROOT);
    ck_assert_int_eq(nftw(RUNTIME_ROOT, h_rm_entry, 16, FTW_DEPTH | FTW_PHYS),
                     0);
  }
}

START_TEST(test_podman_run_rm_output_and_status)
{
  struct h_res r;

  PODMAN(&r, "run", "--rm", LIMITS, "busybox", "sh", "-c",
         "echo hello from podman $(id -u); ulimit -n; "
         "cat /proc/sys/net/ipv4/ping_group_range; exit 4");
  ck_assert_msg(r.status == 4, "podman run: %d\n%s", r.status, r.err);
  H_ASSERT_HAS(&r, out, "hello from podman 0\n1024\n");
  h_res_free(&r);
  PODMAN(&r, "ps", "-a", "-q");
  ck_assert_str_eq(r.out, "");
  h_res_free(&r);
}
END_TEST

/* -d, then exec, then stop: TERM reaches the process (its trap's status comes
 * back), and rm removes it. */
START_TEST(test_podman_detached_stop_rm)
{
  struct h_res r;

  PODMAN(&r, "run", "-d", "--name", "d1", LIMITS, "busybox", "sh", "-c",
         "trap 'exit 9' TERM; while :; do sleep 0.1; done");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  PODMAN(&r, "ps", "--format", "{{.Names}} {{.Status}}");
  H_ASSERT_HAS(&r, out, "d1 Up");
  h_res_free(&r);
  /* exec, through conmon and mocker-runtime exec */
  PODMAN(&r, "exec", "d1", "sh", "-c", "echo exec in $(hostname); exit 6");
  ck_assert_msg(r.status == 6, "podman exec: %d\n%s", r.status, r.err);
  H_ASSERT_HAS(&r, out, "exec in ");
  h_res_free(&r);
  PODMAN(&r, "exec", "d1", "/nonexistent");
  ck_assert_msg(r.status == 127, "podman exec of nothing: %d\n%s", r.status,
                r.err);
  h_res_free(&r);
  PODMAN(&r, "stop", "-t", "10", "d1");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  PODMAN(&r, "inspect", "d1", "--format", "{{.State.ExitCode}}");
  H_ASSERT_STATUS(&r, 0);
  ck_assert_str_eq(r.out, "9\n");
  h_res_free(&r);
  PODMAN(&r, "rm", "d1");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
}
END_TEST

/* -t: the pty comes through conmon's console socket; `script` gives
 * podman a real terminal. */
START_TEST(test_podman_tty)
{
  char cmd[16384];
  struct h_res r;

  h_fmt(cmd, sizeof(cmd),
        "/usr/bin/podman --root %s --runroot %s --tmpdir %s --runtime %s "
        "--cgroup-manager cgroupfs --events-backend none "
        "run --rm -t --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 "
        "--network none --cgroup-parent %s busybox sh -c 'tty; exit 3'",
        store, runroot, tmpdir, runtime, parent);
  h_run(&r,
        &(struct h_opts){.program = "/usr/bin/script",
                         .no_root_flag = true,
                         .timeout_ms = 90000},
        H_ARGV("-qec", cmd, "/dev/null"));
  ck_assert_msg(r.status == 3, "script/podman -t: %d\n%s\n%s", r.status, r.out,
                r.err);
  H_ASSERT_HAS(&r, out, "/dev/pts/0");
  h_res_free(&r);
}
END_TEST

/* A Debian image (debootstrap, cached by tests/registry/debian-image.sh),
 * imported into podman: run -d, exec as root and as a user the image's
 * own /etc/passwd names, then rm -f. */
START_TEST(test_podman_debian_image)
{
  char guess[8192], script[4096], out[4200], layer[4300];
  struct h_res r;

  char copy[4096];

  snprintf(copy, sizeof(copy), "%s", h_mocker());
  h_fmt(guess, sizeof(guess), "%s/../tests/registry/debian-image.sh",
        dirname(copy)); /* the build dir's, beside tests/ */
  ck_assert_msg(realpath(guess, script), "no %s", guess);
  h_fmt(out, sizeof(out), "%s/debian", h.dir);
  h_fmt(layer, sizeof(layer), "%s/layer.tar.gz", out);
  h_run(&r,
        &(struct h_opts){.program = "/bin/bash",
                         .no_root_flag = true,
                         .timeout_ms = 900000},
        H_ARGV(script, out));
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  PODMAN(&r, "import", "-q", layer, "localhost/mk-debian");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  PODMAN(&r, "run", "-d", "--name", "deb", LIMITS, "localhost/mk-debian",
         "sleep", "1000");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  PODMAN(&r, "exec", "deb", "bash", "-c",
         "cat /etc/debian_version; id -un; exit 2");
  ck_assert_msg(r.status == 2, "podman exec: %d\n%s", r.status, r.err);
  H_ASSERT_HAS(&r, out, "12.");
  H_ASSERT_HAS(&r, out, "root\n");
  h_res_free(&r);
  PODMAN(&r, "exec", "-u", "nobody", "deb", "id", "-un");
  H_ASSERT_STATUS(&r, 0);
  ck_assert_str_eq(r.out, "nobody\n");
  h_res_free(&r);
  PODMAN(&r, "rm", "-f", "-t", "0", "deb");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("podman");
  TCase *tc = h_tcase("podman", 180);

  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_podman_run_rm_output_and_status);
  tcase_add_test(tc, test_podman_detached_stop_rm);
  tcase_add_test(tc, test_podman_tty);
  tcase_add_test(tc, test_podman_debian_image);
  suite_add_tcase(s, tc);
  return h_main(s);
}
