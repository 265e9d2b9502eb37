/* `mocker exec`: a command joins a running, detached container: exit
 * codes, environment, user and working directory, the container's
 * namespaces and files, stdin, a real pty with Ctrl-C, -d, and the two
 * runtime CVEs that exec is known for (leaked host fds and cwd, and the
 * host binary overwritten through /proc/<pid>/exe). Each test starts its
 * own container and removes it; the teardown asserts nothing is left. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "harness.h"
#include "pty_session.h"

#define C "exec-target"
#define PROMPT "mk-exec> "

/* ---- helpers ---------------------------------------------------------- */

/* Starts the detached container C: extra run flags, then the image and a
 * workload that leaves a file behind and sleeps. */
static void start_container_with(const char *const extra[])
{
  const char *argv[32] = {"run", "-d", "--name", C};
  size_t n = 4;
  struct h_res r;

  for (size_t i = 0; extra && extra[i]; i++)
    argv[n++] = extra[i];
  argv[n++] = "busybox";
  argv[n++] = "sh";
  argv[n++] = "-c";
  argv[n++] = "echo made-by-workload > /made; exec sleep 1000";
  argv[n] = NULL;
  h_run(&r, NULL, argv);
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
}

static void start_container(void)
{
  start_container_with(NULL);
}

/* Reading another process's /proc/<pid>/root, ns/ or fd/ takes ptrace
 * access, which the default capabilities do not give (as in Docker):
 * tests that look at init or the exec'd init that way add SYS_PTRACE.
 * For the CVE tests this makes the attacker stronger, not weaker. */
static void start_container_ptrace(void)
{
  start_container_with(H_ARGV("--cap-add", "SYS_PTRACE"));
}

static void remove_container(void)
{
  struct h_res r;

  H_RUN(&r, "rm", "-f", C);
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
}

/* Runs `exec C sh -c script` and checks status and stdout. */
static void exec_sh_expect(const char *script, int status, const char *out)
{
  struct h_res r;

  H_RUN(&r, "exec", C, "sh", "-c", script);
  H_ASSERT_STATUS(&r, status);
  if (out)
    H_ASSERT_OUT_EQ(&r, out);
  h_res_free(&r);
}

static bool exec_sees_file(void *path)
{
  struct h_res r;
  bool ok = H_RUN(&r, "exec", C, "test", "-e", (const char *)path) == 0;

  h_res_free(&r);
  return ok;
}

/* The whole content of a file, for byte-for-byte comparison. */
struct blob {
  char *data;
  size_t len;
};

static struct blob read_blob(const char *path)
{
  struct blob b = {0};
  FILE *f = fopen(path, "rb");
  long n;

  ck_assert_msg(f, "open %s: %s", path, strerror(errno));
  ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
  n = ftell(f);
  rewind(f);
  b.data = malloc((size_t)n + 1);
  b.len = fread(b.data, 1, (size_t)n, f);
  fclose(f);
  ck_assert_msg(b.len == (size_t)n, "short read of %s", path);
  return b;
}

static void assert_blob_unchanged(const char *path, const struct blob *before)
{
  struct blob now = read_blob(path);

  ck_assert_msg(now.len == before->len &&
                    memcmp(now.data, before->data, now.len) == 0,
                "%s changed (%zu bytes, was %zu)", path, now.len, before->len);
  free(now.data);
}

/* A line of /proc/<pid>/status, e.g. "PPid:", without the key. */
static bool proc_status_field(pid_t pid, const char *key, char *out,
                              size_t size)
{
  char path[64], *text, *p;

  snprintf(path, sizeof path, "/proc/%d/status", pid);
  text = h_read_file(path);
  if (!text)
    return false;
  p = strstr(text, key);
  if (p) {
    p += strlen(key) + strspn(p + strlen(key), " \t");
    snprintf(out, size, "%.*s", (int)strcspn(p, "\n"), p);
  }
  free(text);
  return p != NULL;
}

/* ---- exit codes ------------------------------------------------------- */

START_TEST(test_exit_codes)
{
  struct h_res r;

  start_container();
  H_RUN(&r, "exec", C, "true");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  exec_sh_expect("exit 3", 3, "");
  exec_sh_expect("kill -TERM $$", 143, "");
  exec_sh_expect("kill -KILL $$", 137, "");
  H_RUN(&r, "exec", C, "no-such-command-mk");
  H_ASSERT_STATUS(&r, 127);
  H_ASSERT_HAS(&r, err, "no-such-command-mk");
  h_res_free(&r);
  H_RUN(&r, "exec", C, "/etc");
  H_ASSERT_STATUS(&r, 126);
  H_ASSERT_HAS(&r, err, "/etc");
  h_res_free(&r);
  remove_container();
}
END_TEST

START_TEST(test_exec_into_stopped_container)
{
  struct h_res r;

  H_RUN(&r, "run", "--name", C, "busybox", "true");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  H_RUN(&r, "exec", C, "true");
  H_ASSERT_STATUS(&r, 125);
  H_ASSERT_HAS(&r, err, "container " C " is not running");
  h_res_free(&r);
  remove_container();

  H_RUN(&r, "exec", "no-such-container-mk", "true");
  H_ASSERT_STATUS(&r, 125);
  H_ASSERT_HAS(&r, err, "no-such-container-mk");
  h_res_free(&r);
}
END_TEST

START_TEST(test_exec_after_stop)
{
  struct h_res r;

  start_container();
  H_RUN(&r, "stop", "-t", "1", C);
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  H_RUN(&r, "exec", C, "true");
  H_ASSERT_STATUS(&r, 125);
  H_ASSERT_HAS(&r, err, "container " C " is not running");
  h_res_free(&r);
  remove_container();
}
END_TEST

START_TEST(test_usage_errors)
{
  struct h_res r;

  H_RUN(&r, "exec", C);
  H_ASSERT_STATUS(&r, 125);
  H_ASSERT_HAS(&r, err, "requires at least 2 arguments");
  h_res_free(&r);
  H_RUN(&r, "exec", "-w", "relative", C, "true");
  H_ASSERT_STATUS(&r, 125);
  H_ASSERT_HAS(&r, err, "absolute path");
  h_res_free(&r);
  H_RUN(&r, "exec", "--bogus", C, "true");
  H_ASSERT_STATUS(&r, 125);
  H_ASSERT_HAS(&r, err, "unknown flag: --bogus");
  h_res_free(&r);
}
END_TEST

/* The container is killed under a running exec: 128+9, nothing left. */
START_TEST(test_container_killed_under_exec)
{
  struct h_res r;
  pid_t mocker, sleeper;

  start_container();
  mocker = h_spawn(H_ARGV("exec", C, "sleep", "2996"), -1, -1);
  sleeper = h_poll_find(h.tag, H_ARGV("sleep", "2996"), EXPECT_MS);
  ck_assert_msg(sleeper, "the exec'd sleep never started");
  H_RUN(&r, "rm", "-f", C);
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  ck_assert_int_eq(h_wait(mocker, EXPECT_MS), 137);
}
END_TEST

/* Signals sent to mocker reach the command (sig-proxy); mocker itself
 * survives them and exits with the command's status. */
START_TEST(test_signals_are_forwarded)
{
  pid_t mocker;

  start_container();
  mocker = h_spawn(H_ARGV("exec", C, "sleep", "2995"), -1, -1);
  ck_assert_msg(h_poll_find(h.tag, H_ARGV("sleep", "2995"), EXPECT_MS),
                "the exec'd sleep never started");
  ck_assert_int_eq(kill(mocker, SIGINT), 0);
  ck_assert_int_eq(h_wait(mocker, EXPECT_MS), 130);
  remove_container();
}
END_TEST

/* ---- what the command sees -------------------------------------------- */

START_TEST(test_env)
{
  char env_file[4200];
  struct h_res r;

  start_container_with(H_ARGV("-e", "FROM_RUN=run", "-e", "OVERRIDDEN=run"));
  h_fmt(env_file, sizeof env_file, "%s/env", h.host);
  h_write_file(env_file, "# a comment\nFROM_FILE=file\nOVERRIDDEN=file\n");
  setenv("MK_HOST_VALUE", "copied-from-host", 1);
  H_RUN(&r, "exec", "--env-file", env_file, "-e", "OVERRIDDEN=flag", "-e",
        "MK_HOST_VALUE", "-eFROM_FLAG=flag", C, "env");
  H_ASSERT_STATUS(&r, 0);
  ck_assert_msg(h_has_line(r.out, "FROM_RUN=run"), "env:\n%s", r.out);
  ck_assert_msg(h_has_line(r.out, "FROM_FILE=file"), "env:\n%s", r.out);
  ck_assert_msg(h_has_line(r.out, "FROM_FLAG=flag"), "env:\n%s", r.out);
  ck_assert_msg(h_has_line(r.out, "OVERRIDDEN=flag"), "env:\n%s", r.out);
  ck_assert_msg(h_has_line(r.out, "MK_HOST_VALUE=copied-from-host"), "env:\n%s",
                r.out);
  ck_assert_msg(h_has_line(r.out, "HOME=/root"), "env:\n%s", r.out);
  ck_assert_msg(h_contains(r.out, "PATH=/"), "env:\n%s", r.out);
  ck_assert_msg(h_contains(r.out, "HOSTNAME="), "env:\n%s", r.out);
  h_res_free(&r);
  remove_container();
}
END_TEST

START_TEST(test_user_and_workdir)
{
  struct h_res r;

  start_container();
  H_RUN(&r, "exec", "-u", "nobody", C, "sh", "-c", "id -u; id -g; echo $HOME");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "65534\n65534\n/nonexistent\n");
  h_res_free(&r);
  H_RUN(&r, "exec", "-u", "1234:4321", C, "sh", "-c", "id -u; id -g");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "1234\n4321\n");
  h_res_free(&r);
  H_RUN(&r, "exec", "--user", "no-such-user-mk", C, "true");
  H_ASSERT_STATUS(&r, 125);
  H_ASSERT_HAS(&r, err, "no-such-user-mk");
  h_res_free(&r);
  H_RUN(&r, "exec", "-w", "/etc", C, "pwd");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "/etc\n");
  h_res_free(&r);
  H_RUN(&r, "exec", C, "pwd");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "/\n");
  h_res_free(&r);
  remove_container();
}
END_TEST

/* Without -u and -w, the container's own User and WorkingDir apply. */
START_TEST(test_container_defaults)
{
  struct h_res r;

  start_container_with(H_ARGV("-u", "nobody", "-w", "/srv/app"));
  H_RUN(&r, "exec", C, "sh", "-c", "id -un; pwd");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "nobody\n/srv/app\n");
  h_res_free(&r);
  H_RUN(&r, "exec", "-u", "0", "-w", "/", C, "sh", "-c", "id -u; pwd");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "0\n/\n");
  h_res_free(&r);
  remove_container();
}
END_TEST

START_TEST(test_sees_container_hostname_pids_and_files)
{
  struct h_res r;

  start_container_with(H_ARGV("-h", "exec-host", "--cap-add", "SYS_PTRACE"));
  exec_sh_expect("hostname", 0, "exec-host\n");
  /* Its own pid is not 1: PID 1 is the container's init, and the
   * workload's sleep is among the processes it sees. */
  H_RUN(&r, "exec", C, "sh", "-c", "echo $$; ps -o pid,args");
  H_ASSERT_STATUS(&r, 0);
  ck_assert_msg(atoi(r.out) > 1, "exec'd shell has pid %d", atoi(r.out));
  H_ASSERT_HAS(&r, out, "sleep 1000");
  H_ASSERT_HAS(&r, out, "    1 ");
  h_res_free(&r);
  ck_assert_msg(h_poll(exec_sees_file, "/made", EXPECT_MS),
                "exec never saw the workload's file");
  exec_sh_expect("cat /made", 0, "made-by-workload\n");
  /* ... and what exec writes, the workload's world sees. */
  exec_sh_expect("echo from-exec > /tmp/x; cat /proc/1/root/tmp/x", 0,
                 "from-exec\n");
  remove_container();
}
END_TEST

/* Every namespace the workload has, the exec'd command has, and none of
 * them is the host's. */
START_TEST(test_joins_every_namespace)
{
  static const char *const kinds[] = {"mnt", "pid", "uts",
                                      "ipc", "net", "cgroup"};
  char script[256], host_ns[256], link[64];
  struct h_res r;

  start_container_ptrace();
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
    h_fmt(script, sizeof script,
          "test \"$(readlink /proc/self/ns/%s)\" = "
          "\"$(readlink /proc/1/ns/%s)\" && readlink /proc/self/ns/%s",
          kinds[i], kinds[i], kinds[i]);
    H_RUN(&r, "exec", C, "sh", "-c", script);
    H_ASSERT_STATUS(&r, 0);
    h_fmt(link, sizeof link, "/proc/self/ns/%s", kinds[i]);
    ssize_t n = readlink(link, host_ns, sizeof host_ns - 1);
    ck_assert_int_gt(n, 0);
    host_ns[n] = '\0';
    ck_assert_msg(!h_contains(r.out, host_ns), "%s namespace is the host's",
                  kinds[i]);
    h_res_free(&r);
  }
  remove_container();
}
END_TEST

/* ---- stdio ------------------------------------------------------------ */

START_TEST(test_stdin)
{
  struct h_res r;

  start_container();
  H_RUN_IN(&r, "line one\nline two\n", "exec", "-i", C, "sh", "-c",
           "read a; read b; echo \"[$b][$a]\"");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "[line two][line one]\n");
  h_res_free(&r);
  /* Without -i, stdin is the container's /dev/null. */
  H_RUN_IN(&r, "ignored\n", "exec", C, "sh", "-c",
           "cat; readlink /proc/self/fd/0");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "/dev/null\n");
  h_res_free(&r);
  H_RUN(&r, "exec", C, "sh", "-c", "echo to-out; echo to-err >&2");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "to-out\n");
  ck_assert_str_eq(r.err, "to-err\n");
  h_res_free(&r);
  remove_container();
}
END_TEST

/* -d returns at once; the command lives on, adopted by the container's
 * PID 1, and holds none of mocker's stdio. */
START_TEST(test_detach)
{
  struct h_res r;
  long t0 = h_now_ms();
  pid_t sleeper;
  char ppid[32], nspid[64];

  start_container();
  t0 = h_now_ms();
  H_RUN(&r, "exec", "-d", C, "sh", "-c",
        "echo lost; sleep 2; touch /detached-done; exec sleep 2999");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "");
  ck_assert_msg(h_now_ms() - t0 < 1800, "exec -d took %ld ms", h_now_ms() - t0);
  h_res_free(&r);
  ck_assert_msg(h_poll(exec_sees_file, "/detached-done", EXPECT_MS),
                "the detached command did not carry on");
  sleeper = h_poll_find(h.tag, H_ARGV("sleep", "2999"), EXPECT_MS);
  ck_assert_msg(sleeper, "the detached command is gone");
  ck_assert(proc_status_field(sleeper, "PPid:", ppid, sizeof ppid));
  ck_assert(proc_status_field(atoi(ppid), "NSpid:", nspid, sizeof nspid));
  ck_assert_msg(strlen(nspid) > 2 &&
                    strcmp(nspid + strlen(nspid) - 2, "\t1") == 0,
                "the detached command's parent is not the container's "
                "PID 1 (NSpid: %s)",
                nspid);
  H_RUN(&r, "exec", "-d", C, "no-such-command-mk");
  H_ASSERT_STATUS(&r, 127);
  h_res_free(&r);
  remove_container();
}
END_TEST

/* ---- a real terminal -------------------------------------------------- */


static bool pid_gone(void *arg)
{
  return !h_pid_alive(*(pid_t *)arg);
}

/* A shell through a real pty: typed commands run, Ctrl-C interrupts the
 * job inside (not mocker, not the shell), the exit code comes back. */
START_TEST(test_tty_shell_and_ctrl_c)
{
  struct sess *s = calloc(1, sizeof *s);
  pid_t sleeper;

  start_container();
  sess_start(s, 24, 80,
             H_ARGV("exec", "-it", "-e", "PS1=" PROMPT, C, "/bin/sh"));
  EXPECT(s, PROMPT);
  sess_type(s, "echo sum-$((40+2))\r");
  EXPECT(s, "sum-42");
  sess_type(s, "tty; ls -l /proc/self/fd/\r");
  EXPECT(s, "/dev/pts/");
  EXPECT(s, PROMPT);
  ck_assert_msg(!h_contains(s->buf, "/tmp") && !h_contains(s->buf, "/work"),
                "a host path shows in the tty's fds:\n%s", printable(s));
  sess_type(s, "sleep 3133\r");
  sleeper = h_poll_find(h.tag, H_ARGV("sleep", "3133"), EXPECT_MS);
  ck_assert_msg(sleeper, "sleep 3133 never started:\n%s", printable(s));
  sess_type(s, "\x03");
  ck_assert_msg(h_poll(pid_gone, &sleeper, EXPECT_MS),
                "Ctrl-C did not stop sleep:\n%s", printable(s));
  EXPECT(s, PROMPT);
  sess_type(s, "echo st-$?\r");
  EXPECT(s, "st-130");
  ck_assert_msg(h_pid_alive(s->pid), "mocker exited on Ctrl-C");
  sess_type(s, "exit 7\r");
  sess_finish(s, 7);
  free(s);
  remove_container();
}
END_TEST

START_TEST(test_tty_without_terminal)
{
  struct h_res r;

  H_RUN_IN(&r, "true\n", "exec", "-it", C, "sh");
  H_ASSERT_STATUS(&r, 125);
  H_ASSERT_HAS(&r, err, "the input device is not a TTY");
  h_res_free(&r);
}
END_TEST

/* ---- CVEs ------------------------------------------------------------- */

/* runc CVE-2024-21626: no host fd and no host cwd reach the command, even
 * when mocker itself was started with a leaked fd and a host cwd. */
START_TEST(test_cve_2024_21626_no_host_fds_or_cwd)
{
  int fd = open("/tmp", O_RDONLY | O_DIRECTORY);
  struct h_res r;

  start_container_ptrace();
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(dup2(fd, 7), 7); /* not close-on-exec: mocker inherits */
  close(fd);
  ck_assert_int_eq(chdir(h.host), 0);
  H_RUN(&r, "exec", C, "ls", "/proc/self/fd");
  H_ASSERT_STATUS(&r, 0);
  /* 3 is ls's own listing of the directory. */
  H_ASSERT_OUT_EQ(&r, "0\n1\n2\n3\n");
  h_res_free(&r);
  /* Nor does it reach the exec'd init, whose fds the container can open
   * through /proc/<pid>/fd. */
  H_RUN(&r, "exec", C, "sh", "-c",
        "for f in /proc/$PPID/fd/*; do readlink $f; done; true");
  H_ASSERT_STATUS(&r, 0);
  ck_assert_msg(!h_has_line(r.out, "/tmp"),
                "the leaked fd reached the exec'd init:\n%s", r.out);
  H_ASSERT_HAS(&r, out, "socket:");
  h_res_free(&r);
  H_RUN(&r, "exec", C, "readlink", "/proc/self/cwd");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "/\n");
  h_res_free(&r);
  H_RUN(&r, "exec", "-w", "/tmp", C, "sh", "-c",
        "readlink /proc/self/cwd; readlink /proc/$PPID/cwd; "
        "readlink /proc/$PPID/root");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "/tmp\n/\n/\n");
  h_res_free(&r);
  close(7);
  ck_assert_int_eq(chdir("/"), 0);
  remove_container();
}
END_TEST

/* runc CVE-2019-5736: the host binaries that enter the container (the
 * exec'd mocker-init; the container's own init) run from sealed memfds,
 * so nothing in the container can write them through /proc/<pid>/exe,
 * not even by reopening an fd kept after the process exited. */
START_TEST(test_cve_2019_5736_proc_exe_not_writable)
{
  char mocker_path[4096], init_path[4200];
  struct blob mocker, init;
  struct h_res r;

  snprintf(mocker_path, sizeof mocker_path, "%s", h_mocker());
  h_fmt(init_path, sizeof init_path, "%s/mocker-init", dirname(mocker_path));
  snprintf(mocker_path, sizeof mocker_path, "%s", h_mocker());
  mocker = read_blob(mocker_path);
  init = read_blob(init_path);
  start_container_ptrace();

  exec_sh_expect("echo x > /proc/self/exe || echo refused", 0, "refused\n");
  /* $PPID is the exec'd mocker-init; 1 is the container's. */
  exec_sh_expect("readlink /proc/$PPID/exe; readlink /proc/1/exe", 0,
                 "/memfd:mocker-init (deleted)\n"
                 "/memfd:mocker-init (deleted)\n");
  exec_sh_expect("echo x > /proc/$PPID/exe || echo refused", 0, "refused\n");
  exec_sh_expect("echo x >> /proc/$PPID/exe || echo refused", 0, "refused\n");
  exec_sh_expect("echo x > /proc/1/exe || echo refused", 0, "refused\n");
  exec_sh_expect("exec 3</proc/$PPID/exe; echo x > /proc/self/fd/3 || "
                 "echo refused",
                 0, "refused\n");
  /* The attack's shape: keep the exe open, wait for the process to be
   * gone, reopen it for writing. The shell opens its parent's exe (the
   * exec'd init) and exits; a background child keeps the fd and waits
   * for that init to end. */
  H_RUN(&r, "exec", C, "sh", "-c",
        "exec 3</proc/$PPID/exe; p=$PPID; (while [ -e /proc/$p/exe ]; do "
        "sleep 0.1; done; if echo x 1<>/proc/self/fd/3; then echo written; "
        "else echo refused; fi > /attack.tmp; mv /attack.tmp /attack) "
        "</dev/null >/dev/null 2>&1 &");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  ck_assert_msg(h_poll(exec_sees_file, "/attack", EXPECT_MS),
                "the detached attacker never finished");
  exec_sh_expect("cat /attack", 0, "refused\n");

  remove_container();
  assert_blob_unchanged(mocker_path, &mocker);
  assert_blob_unchanged(init_path, &init);
  free(mocker.data);
  free(init.data);
}
END_TEST

static Suite *exec_suite(void)
{
  Suite *s = suite_create("exec");
  TCase *tc;

  tc = h_tcase("status", 60);
  tcase_add_test(tc, test_exit_codes);
  tcase_add_test(tc, test_exec_into_stopped_container);
  tcase_add_test(tc, test_exec_after_stop);
  tcase_add_test(tc, test_usage_errors);
  tcase_add_test(tc, test_container_killed_under_exec);
  tcase_add_test(tc, test_signals_are_forwarded);
  suite_add_tcase(s, tc);

  tc = h_tcase("environment", 60);
  tcase_add_test(tc, test_env);
  tcase_add_test(tc, test_user_and_workdir);
  tcase_add_test(tc, test_container_defaults);
  tcase_add_test(tc, test_sees_container_hostname_pids_and_files);
  tcase_add_test(tc, test_joins_every_namespace);
  suite_add_tcase(s, tc);

  tc = h_tcase("stdio", 60);
  tcase_add_test(tc, test_stdin);
  tcase_add_test(tc, test_detach);
  tcase_add_test(tc, test_tty_shell_and_ctrl_c);
  tcase_add_test(tc, test_tty_without_terminal);
  suite_add_tcase(s, tc);

  tc = h_tcase("security", 60);
  tcase_add_test(tc, test_cve_2024_21626_no_host_fds_or_cwd);
  tcase_add_test(tc, test_cve_2019_5736_proc_exe_not_writable);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  return h_main(exec_suite());
}
