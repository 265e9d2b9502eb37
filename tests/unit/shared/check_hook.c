/* Unit tests for shared/mk_hook: one OCI hook run with exactly its argv
 * and environment, the state on its stdin, nothing of ours inherited,
 * its failure named, and its deadline kept (its process group killed).
 * The hooks are small /bin/sh scripts. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mk_hook.h"
#include "unit_fs.h"
#include "unit_main.h"

static char dir[PATH_MAX];

static void setup(void)
{
  snprintf(dir, sizeof(dir), "/tmp/mk-hook.XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
  rm_rf(dir);
}

/* The whole file, NUL-terminated (static buffer); NULL when missing. */
static const char *slurp(const char *name)
{
  static char text[1 << 16];
  char path[PATH_MAX];
  int fd;
  ssize_t n;

  fmt(path, "%s/%s", dir, name);
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return NULL;
  n = read(fd, text, sizeof(text) - 1);
  close(fd);
  ck_assert_int_ge(n, 0);
  text[n] = '\0';
  return text;
}

static long long now_ms(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs `/bin/sh -c script` as a hook (argv[0] "hook0", DIR=dir as its
 * only variable) with state on stdin. */
static int run_sh(const char *script, const char *state, unsigned timeout,
                  mk_error_t *err)
{
  char env_dir[PATH_MAX + 8];
  const char *argv[] = {"hook0", "-c", script, NULL};
  const char *env[] = {env_dir, NULL};
  struct mk_hook h = {
      .timeout = timeout, .path = "/bin/sh", .argv = argv, .env = env};

  snprintf(env_dir, sizeof(env_dir), "DIR=%s", dir);
  return mk_hook_run(&h, "test hook", state, state ? strlen(state) : 0, NULL,
                     NULL, err);
}

START_TEST(test_stdin_argv_env_exactly)
{
  mk_error_t err = {0};
  const char *state = "{\"id\":\"c1\",\"status\":\"creating\"}";

  ck_assert_msg(run_sh("cat > $DIR/state; "
                       "tr '\\0' '\\n' < /proc/$$/cmdline > $DIR/argv; "
                       "tr '\\0' '\\n' < /proc/$$/environ > $DIR/env",
                       state, 0, &err) == 0,
                "%s", err.msg);
  ck_assert_str_eq(slurp("state"), state);
  ck_assert_str_eq(slurp("argv"),
                   "hook0\n-c\ncat > $DIR/state; tr '\\0' '\\n' < "
                   "/proc/$$/cmdline > $DIR/argv; tr '\\0' '\\n' < "
                   "/proc/$$/environ > $DIR/env\n");
  char want[PATH_MAX + 8];
  snprintf(want, sizeof(want), "DIR=%s\n", dir);
  ck_assert_str_eq(slurp("env"), want);
}
END_TEST

/* No args: argv is just the path; no env: an empty environment. */
START_TEST(test_no_args_no_env)
{
  char script[PATH_MAX], out[PATH_MAX], text[PATH_MAX * 2];
  struct mk_hook h = {.path = script};
  mk_error_t err = {0};

  fmt(script, "%s/hook.sh", dir);
  fmt(out, "%s/out", dir);
  snprintf(text, sizeof(text),
           "#!/bin/sh\n{ tr '\\0' '\\n' < /proc/$$/cmdline; echo --; "
           "tr '\\0' '\\n' < /proc/$$/environ; } > %s\n",
           out);
  write_file(script, text);
  chmod(script, 0755);
  ck_assert_msg(mk_hook_run(&h, "test hook", NULL, 0, NULL, NULL, &err) == 0,
                "%s", err.msg);
  /* the kernel runs the script as `/bin/sh SCRIPT`: argv[0] was SCRIPT */
  snprintf(text, sizeof(text), "/bin/sh\n%s\n--\n", script);
  ck_assert_str_eq(slurp("out"), text);
}
END_TEST

START_TEST(test_failure_names_hook_status_and_output)
{
  mk_error_t err = {0};

  ck_assert_int_eq(
      run_sh("echo boom; echo second line >&2; exit 3", "{}", 0, &err), -1);
  ck_assert_str_eq(err.msg, "test hook `/bin/sh` exited with status 3: boom "
                            "second line");
  ck_assert_int_eq(run_sh("kill -9 $$", "{}", 0, &err), -1);
  ck_assert_str_eq(err.msg, "test hook `/bin/sh` was killed by signal 9");
}
END_TEST

START_TEST(test_missing_program)
{
  struct mk_hook h = {.path = "/nonexistent/hook"};
  mk_error_t err = {0};

  ck_assert_int_eq(mk_hook_run(&h, "test hook", "{}", 2, NULL, NULL, &err), -1);
  ck_assert_str_eq(err.msg,
                   "test hook `/nonexistent/hook` exited with status 127: "
                   "cannot execute: No such file or directory");
}
END_TEST

static bool gone(pid_t pid)
{
  char path[64], buf[512];
  ssize_t n;

  snprintf(path, sizeof(path), "/proc/%d/stat", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return true;
  n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  buf[n > 0 ? n : 0] = '\0';
  const char *rp = strrchr(buf, ')');
  return !rp || rp[2] == 'Z' || rp[2] == 'X';
}

/* Past the timeout the hook and what it started (its process group) are
 * killed, and we return at once. */
START_TEST(test_timeout_kills_the_group)
{
  mk_error_t err = {0};
  long long t0 = now_ms();

  ck_assert_int_eq(run_sh("sleep 100 & echo $! > $DIR/pid; echo started; wait",
                          "{}", 1, &err),
                   -1);
  long long took = now_ms() - t0;
  ck_assert_msg(took >= 900 && took < 5000, "took %lld ms", took);
  ck_assert_str_eq(err.msg, "test hook `/bin/sh` timed out after 1 s: started");
  const char *text = slurp("pid");
  ck_assert_ptr_nonnull(text);
  pid_t sleeper = atoi(text);
  ck_assert_int_gt(sleeper, 1);
  for (int i = 0; i < 200 && !gone(sleeper); i++)
    usleep(10000);
  ck_assert_msg(gone(sleeper), "sleep %d survived the timeout", sleeper);
}
END_TEST

/* A hook that never reads its stdin, with a state far larger than a
 * pipe holds: we neither block nor die of SIGPIPE, and no SIGPIPE is
 * left pending (init would forward it to the workload). */
START_TEST(test_unread_stdin_never_blocks)
{
  size_t len = 4 << 20;
  char *state = malloc(len + 1);
  sigset_t pending;
  mk_error_t err = {0};

  ck_assert_ptr_nonnull(state);
  memset(state, 'x', len);
  state[len] = '\0';
  ck_assert_msg(run_sh("exit 0", state, 0, &err) == 0, "%s", err.msg);
  ck_assert_msg(run_sh("exec 0<&-; sleep 0.2; exit 0", state, 0, &err) == 0,
                "%s", err.msg);
  /* and one that reads all of it gets all of it */
  ck_assert_msg(run_sh("wc -c > $DIR/count", state, 0, &err) == 0, "%s",
                err.msg);
  ck_assert_int_eq(atol(slurp("count")), (long)len);
  free(state);
  sigpending(&pending);
  ck_assert(!sigismember(&pending, SIGPIPE));
}
END_TEST

/* A chatty hook does not block on its output pipe; the start of what it
 * said is kept, trimmed. */
START_TEST(test_lots_of_output)
{
  mk_error_t err = {0};

  ck_assert_int_eq(
      run_sh("head -c 2000000 /dev/zero | tr '\\0' a; exit 1", NULL, 5, &err),
      -1);
  ck_assert_ptr_nonnull(strstr(err.msg, "exited with status 1: aaaa"));
  ck_assert_uint_lt(strlen(err.msg), MK_ERROR_MSG_MAX - 1);
}
END_TEST

/* None of our fds crosses the exec, even one opened without
 * O_CLOEXEC (CVE-2024-21626). */
START_TEST(test_no_fd_inherited)
{
  mk_error_t err = {0};
  int leak = open(dir, O_RDONLY | O_DIRECTORY); /* no O_CLOEXEC */

  ck_assert_int_ge(leak, 3);
  ck_assert_msg(run_sh("ls /proc/self/fd > $DIR/fds", "{}", 0, &err) == 0, "%s",
                err.msg);
  close(leak);
  /* ls's own: 0, 1 and 2, and 3, the directory it lists */
  ck_assert_str_eq(slurp("fds"), "0\n1\n2\n3\n");
}
END_TEST

static int fail_prepare(void *data, mk_error_t *err)
{
  return mk_error_set(err, EPERM, "cannot become %s", (const char *)data);
}

static int mark_prepare(void *data, mk_error_t *err)
{
  (void)err;
  return setenv("IGNORED", data, 1); /* the exec's env is h->env only */
}

/* prepare runs in the child before the exec; its failure is the hook's. */
START_TEST(test_prepare_runs_in_the_child)
{
  struct mk_hook h = {.path = "/bin/true"};
  mk_error_t err = {0};

  ck_assert_int_eq(
      mk_hook_run(&h, "test hook", "{}", 2, fail_prepare, "uid 1000", &err),
      -1);
  ck_assert_str_eq(err.msg, "test hook `/bin/true` exited with status 126: "
                            "cannot become uid 1000");
  ck_assert_msg(
      mk_hook_run(&h, "test hook", "{}", 2, mark_prepare, "x", &err) == 0, "%s",
      err.msg);
  ck_assert_ptr_null(getenv("IGNORED")); /* the parent is untouched */
}
END_TEST

static Suite *hook_suite(void)
{
  Suite *s = suite_create("hook");
  TCase *tc = tcase_create("hook");

  tcase_set_timeout(tc, 30);
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_stdin_argv_env_exactly);
  tcase_add_test(tc, test_no_args_no_env);
  tcase_add_test(tc, test_failure_names_hook_status_and_output);
  tcase_add_test(tc, test_missing_program);
  tcase_add_test(tc, test_timeout_kills_the_group);
  tcase_add_test(tc, test_unread_stdin_never_blocks);
  tcase_add_test(tc, test_lots_of_output);
  tcase_add_test(tc, test_no_fd_inherited);
  tcase_add_test(tc, test_prepare_runs_in_the_child);
  suite_add_tcase(s, tc);
  return s;
}

MK_UNIT_MAIN(hook_suite)
