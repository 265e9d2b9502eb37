/* Regression tests for issue 14's host-side findings: what the host does
 * on a container's or a local user's behalf. Each replays the attack
 * deterministically (no race has to be won) and asserts it fails and the
 * host is unchanged:
 *   1. exec -d opened the container's /dev/null from the host;
 *   2. a container key was used as a path (`rm ../../x`);
 *   8. save -o and the credential store wrote through a planted symlink;
 *   9. a container that ignores signals could not be removed, and a state
 *      root that others own or can write was accepted. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "sec.h"

static void run_ok(const char *const argv[])
{
  struct h_res r;

  h_run(&r, NULL, argv);
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
}

static void make_dir(const char *path)
{
  ck_assert_msg(mkdir(path, 0755) == 0 || errno == EEXIST, "mkdir %s: %s", path,
                strerror(errno));
}

/* ---- 1. exec -d and the container's /dev/null -------------------------- */

/* The container's root replaces /dev/null with a regular file. The host
 * used to open it (as host root, outside the device cgroup) and hand it to
 * the exec'd command as stdout: whatever node was there, the command got.
 * Now the host's own null device is opened before the join, and init
 * refuses a stdin that is not the null device, so the file stays empty. */
START_TEST(test_exec_detached_gets_no_container_devnull)
{
  struct h_res r;

  run_ok(H_ARGV("run", "-d", "--name", "victim", "busybox", "sleep", "300"));
  run_ok(H_ARGV("exec", "victim", "sh", "-c",
                "rm /dev/null && : > /dev/null && chmod 666 /dev/null"));
  h_run(&r, NULL,
        H_ARGV("exec", "-d", "victim", "sh", "-c", "echo leaked; sleep 1"));
  ck_assert_msg(r.status != 0 && h_contains(r.err, "not the null device"),
                "exec -d with a forged /dev/null: exit %d, stderr: %s",
                r.status, r.err);
  h_res_free(&r);
  /* And the plain exec's stdin (opened by init, in the cgroup) too. */
  h_run(&r, NULL, H_ARGV("exec", "victim", "true"));
  ck_assert_int_ne(r.status, 0);
  H_ASSERT_HAS(&r, err, "not the null device");
  h_res_free(&r);
  h_run(&r, NULL, H_ARGV("exec", "-i", "victim", "cat", "/dev/null"));
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, ""); /* nothing was ever written into it */
  h_res_free(&r);
  run_ok(H_ARGV("rm", "-f", "victim"));
}
END_TEST

/* A device the container may open (1:5, /dev/zero) swapped in: stdout of
 * exec -d is still the host's null device, and stdin is refused. */
START_TEST(test_exec_detached_stdout_is_host_null)
{
  struct h_res r;

  run_ok(H_ARGV("run", "-d", "--name", "victim", "busybox", "sleep", "300"));
  h_run(&r, NULL,
        H_ARGV("exec", "-d", "victim", "sh", "-c",
               "exec 3>&1; stat -L -c %t:%T /proc/self/fd/3 > /out.tmp; "
               "echo done >> /out.tmp; mv /out.tmp /out"));
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  for (int i = 0; i < 200; i++) {
    h_run(&r, NULL, H_ARGV("exec", "victim", "cat", "/out"));
    if (h_has_line(r.out, "done"))
      break;
    h_res_free(&r);
    r.out = NULL;
    usleep(20 * 1000);
  }
  ck_assert_msg(r.out && h_has_line(r.out, "1:3"),
                "exec -d's stdout is not the null device: %s",
                r.out ? r.out : "(no output)");
  h_res_free(&r);
  run_ok(H_ARGV("exec", "victim", "sh", "-c",
                "rm /dev/null && mknod -m 666 /dev/null c 1 5"));
  h_run(&r, NULL, H_ARGV("exec", "victim", "true"));
  ck_assert_int_ne(r.status, 0);
  H_ASSERT_HAS(&r, err, "not the null device");
  h_res_free(&r);
  run_ok(H_ARGV("rm", "-f", "victim"));
}
END_TEST

/* ---- 2. a container key is never a path -------------------------------- */

/* The finding: names/<key> was read with the raw key, any 64-byte link
 * target was taken as the id, and rm then deleted containers/<target>.
 * A symlink outside the store, reached as ../../host/evil, whose target
 * is a relative path padded to 64 bytes, made `rm` delete host/victim. */
START_TEST(test_container_key_is_never_a_path)
{
  char victim[4200], keep[4300], evil[4200], target[65];
  struct h_res r;

  run_ok(H_ARGV("run", "--rm", "busybox", "true")); /* makes the store */
  h_fmt(victim, sizeof victim, "%s/victim", h.host);
  make_dir(victim);
  h_fmt(keep, sizeof keep, "%s/keep", victim);
  h_write_file(keep, "keep me\n");
  /* containers/<target> == root/containers/../../host/victim */
  memset(target, '/', 64);
  target[64] = '\0';
  memcpy(target, "../../host/victim", strlen("../../host/victim"));
  h_fmt(evil, sizeof evil, "%s/evil", h.host);
  ck_assert_int_eq(symlink(target, evil), 0);

  const char *keys[] = {
      "../../host/evil", "../host/evil", "/etc", "a/b", ".", "..", ""};
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
    h_run(&r, NULL, H_ARGV("rm", "-f", keys[i]));
    ck_assert_msg(r.status != 0 && h_contains(r.err, "No such container"),
                  "rm -f '%s': exit %d, stderr: %s", keys[i], r.status, r.err);
    h_res_free(&r);
  }
  ck_assert_msg(h_exists(keep), "rm deleted %s outside the store", victim);
  unlink(evil);
}
END_TEST

/* A link planted in names/ whose target is not a container id names no
 * container, even when it is 64 bytes long. */
START_TEST(test_container_name_link_must_name_an_id)
{
  char link[4200], victim[4200], target[65];
  struct h_res r;

  run_ok(H_ARGV("run", "--rm", "busybox", "true"));
  h_fmt(victim, sizeof victim, "%s/victim", h.host);
  make_dir(victim);
  memset(target, '/', 64);
  target[64] = '\0';
  memcpy(target, "../../host/victim", strlen("../../host/victim"));
  h_fmt(link, sizeof link, "%s/names/planted", h.root);
  ck_assert_int_eq(symlink(target, link), 0);
  h_run(&r, NULL, H_ARGV("rm", "-f", "planted"));
  ck_assert_int_ne(r.status, 0);
  H_ASSERT_HAS(&r, err, "No such container: planted");
  h_res_free(&r);
  ck_assert(h_exists(victim));
  unlink(link);
}
END_TEST

/* A container named with another's full id must not stand in for it: a
 * full id is looked up first, as in Docker (found in review). */
START_TEST(test_full_id_wins_over_a_name)
{
  struct h_res r;
  char id[65];

  h_run(&r, NULL, H_ARGV("create", "--name", "first", "busybox", "true"));
  H_ASSERT_STATUS(&r, 0);
  ck_assert(h_is_hex(r.out, 64));
  memcpy(id, r.out, 64);
  id[64] = '\0';
  h_res_free(&r);
  run_ok(H_ARGV("create", "--name", id, "busybox", "true"));
  run_ok(H_ARGV("rm", id));
  h_run(&r, NULL, H_ARGV("inspect", "first"));
  ck_assert_msg(r.status != 0, "rm <first's id> kept first:\n%s", r.out);
  h_res_free(&r);
  h_run(&r, NULL, H_ARGV("inspect", id));
  H_ASSERT_STATUS(&r, 0); /* the one named like it is still there */
  h_res_free(&r);
  run_ok(H_ARGV("rm", id));
}
END_TEST

/* ---- 8. files written beside a user-given path ------------------------- */

/* `mocker --root ROOT save -o OUT busybox` as pid 1 of a new pid
 * namespace: its pid, which the old code put in its temporary name, is
 * then known in advance. Returns the exit status. */
static int save_as_pid1(const char *out)
{
  pid_t child = fork();
  int status;

  ck_assert_int_ge(child, 0);
  if (child == 0) {
    if (unshare(CLONE_NEWPID) < 0)
      _exit(90);
    pid_t pid1 = fork();
    if (pid1 == 0) {
      execl(h_mocker(), h_mocker(), "--root", h.root, "save", "-o", out,
            "busybox", (char *)NULL);
      _exit(91);
    }
    if (pid1 < 0 || waitpid(pid1, &status, 0) < 0)
      _exit(92);
    _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 93);
  }
  ck_assert_int_eq(waitpid(child, &status, 0), child);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* A local user who owns the directory plants symlinks at every name the
 * old code could use (PATH.tmp<pid>, here for the pid mocker will have,
 * and PATH itself). save -o must write none of them through. */
START_TEST(test_save_output_writes_through_no_symlink)
{
  char dir[4200], victim[4200], out[4200], tmp[4400];
  struct sec_file before;
  struct stat st;

  h_fmt(dir, sizeof dir, "%s/userdir", h.host);
  make_dir(dir);
  chmod(dir, 01777);
  h_fmt(victim, sizeof victim, "%s/root-only", h.host);
  h_write_file(victim, "root's file\n");
  sec_file_snapshot(&before, victim);
  h_fmt(out, sizeof out, "%s/img.tar", dir);
  for (int p = 1; p <= 4; p++) {
    h_fmt(tmp, sizeof tmp, "%s.tmp%d", out, p);
    ck_assert_int_eq(symlink(victim, tmp), 0);
  }
  run_ok(H_ARGV("images")); /* the built-in busybox is imported */
  ck_assert_int_eq(save_as_pid1(out), 0);
  sec_file_assert_same(&before);
  ck_assert_int_eq(lstat(out, &st), 0);
  ck_assert_msg(S_ISREG(st.st_mode) && st.st_size > 1024,
                "save -o did not leave a regular archive at %s", out);

  /* A symlink at the target itself is replaced, never followed. */
  unlink(out);
  ck_assert_int_eq(symlink(victim, out), 0);
  sec_file_snapshot(&before, victim);
  run_ok(H_ARGV("save", "-o", out, "busybox"));
  sec_file_assert_same(&before);
  ck_assert_int_eq(lstat(out, &st), 0);
  ck_assert(S_ISREG(st.st_mode));
}
END_TEST

/* The credential store: $DOCKER_CONFIG/config.json.tmp was opened with
 * O_TRUNC and no O_NOFOLLOW. logout rewrites the file. */
START_TEST(test_credential_store_writes_through_no_symlink)
{
  char dir[4200], cfg[4300], tmp[4400], victim[4200];
  struct sec_file before;
  struct h_res r;

  h_fmt(dir, sizeof dir, "%s/docker", h.host);
  make_dir(dir);
  chmod(dir, 01777);
  h_fmt(cfg, sizeof cfg, "%s/config.json", dir);
  h_write_file(cfg, "{\"auths\": {\"127.0.0.1:1\": {\"auth\": \"dTpw\"}}}");
  h_fmt(tmp, sizeof tmp, "%s.tmp", cfg);
  h_fmt(victim, sizeof victim, "%s/root-only", h.host);
  h_write_file(victim, "root's file\n");
  ck_assert_int_eq(symlink(victim, tmp), 0);
  sec_file_snapshot(&before, victim);
  setenv("DOCKER_CONFIG", dir, 1);
  h_run(&r, NULL, H_ARGV("logout", "127.0.0.1:1"));
  unsetenv("DOCKER_CONFIG");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  sec_file_assert_same(&before);
  char *text = h_read_file(cfg);
  ck_assert_msg(text && !h_contains(text, "127.0.0.1:1"),
                "logout did not rewrite %s: %s", cfg, text ? text : "");
  free(text);
}
END_TEST

/* ---- 9. a container that signals cannot end ----------------------------- */

/* A profile that denies exit: the workload's failed exec leaves it
 * spinning in _exit with mocker-init stuck under vfork, never recorded as
 * running, so no signal reaches it. rm -f must still end it, through its
 * cgroup, and the `run -d` waiting for it must return. */
START_TEST(test_rm_force_ends_a_container_signals_cannot)
{
  char profile[4200], opt[4300];
  pid_t run, pids[16];
  struct h_res r;
  int n = 0;

  h_fmt(profile, sizeof profile, "%s/noexit.json", h.host);
  h_write_file(profile, "{\"defaultAction\": \"SCMP_ACT_ALLOW\", "
                        "\"syscalls\": [{\"names\": [\"exit\", "
                        "\"exit_group\"], \"action\": \"SCMP_ACT_ERRNO\"}]}");
  h_fmt(opt, sizeof opt, "seccomp=%s", profile);
  run = h_spawn(H_ARGV("run", "-d", "--name", "stuck", "--security-opt", opt,
                       "busybox", "/nonexistent"),
                -1, -1);
  /* The stuck state: run -d, the monitor, init under vfork and the
   * spinning workload, all alive. */
  for (long end = h_now_ms() + H_TIMEOUT_MS; h_now_ms() < end; usleep(20000))
    if ((n = h_procs_tied(h.tag, pids, 16, NULL)) >= 4)
      break;
  ck_assert_msg(n >= 4, "the container never got stuck (%d processes)", n);
  h_run(&r, NULL, H_ARGV("rm", "-f", "stuck"));
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  ck_assert_int_ne(h_wait(run, H_TIMEOUT_MS), H_TIMED_OUT);
}
END_TEST

/* ---- 9. the state root ----------------------------------------------------
 */

START_TEST(test_state_root_of_another_user_refused)
{
  struct h_res r;

  run_ok(H_ARGV("ps", "-a")); /* the root exists */
  ck_assert_int_eq(chown(h.root, 65534, 65534), 0);
  h_run(&r, NULL, H_ARGV("ps", "-a"));
  ck_assert_int_eq(chown(h.root, 0, 0), 0);
  H_ASSERT_STATUS(&r, 125);
  H_ASSERT_HAS(&r, err, "is owned by uid 65534");
  h_res_free(&r);

  ck_assert_int_eq(chmod(h.root, 0777), 0);
  h_run(&r, NULL, H_ARGV("run", "--rm", "busybox", "true"));
  ck_assert_int_eq(chmod(h.root, 0700), 0);
  H_ASSERT_STATUS(&r, 125);
  H_ASSERT_HAS(&r, err, "can be written by others");
  h_res_free(&r);

  run_ok(H_ARGV("run", "--rm", "busybox", "true"));
}
END_TEST

static Suite *hostside_suite(void)
{
  Suite *s = suite_create("hostside");
  TCase *tc = h_tcase("hostside", 120);

  tcase_add_test(tc, test_exec_detached_gets_no_container_devnull);
  tcase_add_test(tc, test_exec_detached_stdout_is_host_null);
  tcase_add_test(tc, test_container_key_is_never_a_path);
  tcase_add_test(tc, test_container_name_link_must_name_an_id);
  tcase_add_test(tc, test_full_id_wins_over_a_name);
  tcase_add_test(tc, test_save_output_writes_through_no_symlink);
  tcase_add_test(tc, test_credential_store_writes_through_no_symlink);
  tcase_add_test(tc, test_rm_force_ends_a_container_signals_cannot);
  tcase_add_test(tc, test_state_root_of_another_user_refused);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  return h_main(hostside_suite());
}
