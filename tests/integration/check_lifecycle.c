/* Detached containers and their monitor: run -d, create/start/restart,
 * stop/kill/wait, rm, logs, attach, and what happens when the monitor or
 * the whole machine dies. Every test checks what a user relies on: exit
 * codes, output, the recorded state, and that nothing is left behind. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "pty_session.h"

/* ---- helpers ----------------------------------------------------------- */

/* `mocker run -d ARGS...`; asserts success and returns the id (static). */
#define RUN_D(...) run_detached(H_ARGV("run", "-d", __VA_ARGS__))

static const char *run_detached(const char *const argv[])
{
  static char id[65];
  struct h_res r;

  h_run(&r, NULL, argv);
  H_ASSERT_STATUS(&r, 0);
  ck_assert_msg(r.out_len == 65 && h_is_hex(r.out, 64) && r.out[64] == '\n',
                "`%s`: want a full id, got \"%s\"", h_last_cmd(), r.out);
  memcpy(id, r.out, 64);
  id[64] = '\0';
  h_res_free(&r);
  return id;
}

/* The value of key in the container's state file, or "" (static). */
static const char *state_of(const char *id, const char *key)
{
  static char value[256];
  char path[4400], *text, *line;
  size_t klen = strlen(key);

  value[0] = '\0';
  h_fmt(path, sizeof path, "%s/containers/%s/state", h.root, id);
  text = h_read_file(path);
  for (line = text; line && *line; line = strchr(line, '\n') + 1) {
    if (strncmp(line, key, klen) == 0 && line[klen] == '=') {
      size_t n = strcspn(line + klen + 1, "\n");
      snprintf(value, sizeof value, "%.*s", (int)n, line + klen + 1);
      break;
    }
    if (!strchr(line, '\n'))
      break;
  }
  free(text);
  return value;
}

static int state_int(const char *id, const char *key)
{
  return atoi(state_of(id, key));
}

struct want_status {
  const char *id, *status;
};

static bool has_status(void *arg)
{
  struct want_status *w = arg;

  return strcmp(state_of(w->id, "Status"), w->status) == 0;
}

#define WAIT_STATUS(cid, want)                                                 \
  ck_assert_msg(                                                               \
      h_poll(has_status, &(struct want_status){(cid), (want)}, H_TIMEOUT_MS),  \
      "container %.12s never became %s (it is %s)", (cid), (want),             \
      state_of((cid), "Status"))

static bool log_has(void *arg)
{
  const char **a = arg; /* {id, text} */
  char path[4400];
  char *log;
  bool found;

  h_fmt(path, sizeof path, "%s/containers/%s/container.log", h.root, a[0]);
  log = h_read_file(path);
  found = log && strstr(log, a[1]);
  free(log);
  return found;
}

#define WAIT_LOG(cid, text)                                                    \
  ck_assert_msg(                                                               \
      h_poll(log_has, (const char *[]){(cid), (text)}, H_TIMEOUT_MS),          \
      "container %.12s never logged \"%s\"", (cid), (text))

static void rm_f(const char *id)
{
  struct h_res r;

  H_RUN(&r, "rm", "-f", id);
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
}

static bool pid_gone(void *arg)
{
  return !h_pid_alive(*(pid_t *)arg);
}

static bool dir_gone(void *arg)
{
  return !h_exists(arg);
}

/* ---- run -d ------------------------------------------------------------ */

START_TEST(test_run_detached_runs_and_logs)
{
  const char *id = RUN_D("--name", "web", "busybox", "sh", "-c",
                         "echo to-out; echo to-err >&2; exec sleep 1000");
  struct h_res r;
  pid_t monitor;

  WAIT_LOG(id, "to-err");
  ck_assert_str_eq(state_of(id, "Status"), "running");
  monitor = state_int(id, "MonitorPid");
  ck_assert_int_gt(monitor, 0);
  ck_assert_int_gt(state_int(id, "InitPid"), 0);

  /* stdout and stderr stay apart */
  H_RUN(&r, "logs", "web");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "to-out\n");
  ck_assert_str_eq(r.err, "to-err\n");
  h_res_free(&r);

  /* the monitor left our session and has nothing of ours open */
  ck_assert_int_eq(getsid(monitor), monitor);
  rm_f("web");
}
END_TEST

static const struct {
  const char *cmd;
  int status;
  const char *message;
} exec_failures[] = {
    {"/no/such/binary", 127, "/no/such/binary"},
    {"/etc/passwd", 126, "/etc/passwd"},
};

/* run -d reports an exec failure itself, as run does. */
START_TEST(test_run_detached_exec_failure)
{
  struct h_res r;

  H_RUN(&r, "run", "-d", "--name", "bad", "busybox", exec_failures[_i].cmd);
  H_ASSERT_STATUS(&r, exec_failures[_i].status);
  H_ASSERT_HAS(&r, err, exec_failures[_i].message);
  h_res_free(&r);
  H_RUN(&r, "rm", "bad");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
}
END_TEST

static bool nothing_tied(void *unused)
{
  (void)unused;
  return h_procs_tied(h.tag, NULL, 0, NULL) == 0;
}

START_TEST(test_run_detached_rm_removes_itself)
{
  const char *id = RUN_D("--rm", "busybox", "sh", "-c", "sleep 0.2");
  char dir[4400];

  h_fmt(dir, sizeof dir, "%s/containers/%s", h.root, id);
  ck_assert_msg(h_poll(dir_gone, dir, H_TIMEOUT_MS),
                "--rm container %.12s was not removed", id);
  /* the monitor's `mocker rm` removes the dir, then exits: wait for that
   * too, or the teardown can catch it still on its way out */
  ck_assert_msg(h_poll(nothing_tied, NULL, H_TIMEOUT_MS),
                "the --rm of container %.12s did not exit", id);
}
END_TEST

/* ---- stop / kill / wait ----------------------------------------------- */

START_TEST(test_stop_sends_term_then_records_exit)
{
  const char *id = RUN_D("--name", "tt", "busybox", "sh", "-c",
                         "trap 'echo bye; exit 3' TERM; echo ready; "
                         "while :; do sleep 0.05; done");
  struct h_res r;

  WAIT_LOG(id, "ready");
  H_RUN(&r, "stop", "tt");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "tt\n");
  h_res_free(&r);
  /* stop returns once the exit is recorded */
  ck_assert_str_eq(state_of(id, "Status"), "exited");
  ck_assert_int_eq(state_int(id, "ExitCode"), 3);
  ck_assert_str_ne(state_of(id, "FinishedAt"), "");
  H_RUN(&r, "logs", "tt");
  H_ASSERT_HAS(&r, out, "bye");
  h_res_free(&r);
  H_RUN(&r, "wait", "tt");
  H_ASSERT_OUT_EQ(&r, "3\n");
  h_res_free(&r);
  H_RUN(&r, "rm", "tt");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
}
END_TEST

/* A workload that ignores SIGTERM, with children, is killed after -t. */
START_TEST(test_stop_kills_after_timeout)
{
  const char *id = RUN_D("busybox", "sh", "-c",
                         "trap '' TERM; sleep 1000 & sleep 1001 & echo ready; "
                         "while :; do sleep 0.05; done");
  struct h_res r;
  long t0;

  WAIT_LOG(id, "ready");
  t0 = h_now_ms();
  H_RUN(&r, "stop", "-t", "1", id);
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  ck_assert_msg(h_now_ms() - t0 >= 1000, "stop did not wait for -t 1");
  ck_assert_int_eq(state_int(id, "ExitCode"), 137);
  ck_assert_msg(!h_find_proc(h.tag, H_ARGV("sleep", "1000")),
                "a child of the stopped container survived");
  rm_f(id);
}
END_TEST

START_TEST(test_stop_signal_option)
{
  const char *id = RUN_D("--stop-signal", "SIGUSR1", "busybox", "sh", "-c",
                         "trap 'exit 42' USR1; echo ready; "
                         "while :; do sleep 0.05; done");
  struct h_res r;

  WAIT_LOG(id, "ready");
  H_RUN(&r, "stop", id);
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  ck_assert_int_eq(state_int(id, "ExitCode"), 42);
  rm_f(id);
}
END_TEST

START_TEST(test_kill_signals)
{
  const char *id = RUN_D("--name", "kk", "busybox", "sh", "-c",
                         "trap 'echo got-hup' HUP; echo ready; "
                         "while :; do sleep 0.05; done");
  struct h_res r;

  WAIT_LOG(id, "ready");
  /* SIGHUP reaches the workload, which reloads and keeps running */
  H_RUN(&r, "kill", "-s", "HUP", "kk");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  WAIT_LOG(id, "got-hup");
  ck_assert_str_eq(state_of(id, "Status"), "running");
  H_RUN(&r, "kill", "kk");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  H_RUN(&r, "wait", "kk");
  H_ASSERT_OUT_EQ(&r, "137\n");
  h_res_free(&r);
  /* a stopped container cannot be killed */
  H_RUN(&r, "kill", "kk");
  H_ASSERT_STATUS(&r, 1);
  H_ASSERT_HAS(&r, err, "is not running");
  h_res_free(&r);
  H_RUN(&r, "kill", "-s", "NOSUCH", "kk");
  H_ASSERT_STATUS(&r, 125);
  H_ASSERT_HAS(&r, err, "invalid signal");
  h_res_free(&r);
  rm_f("kk");
}
END_TEST

START_TEST(test_wait_prints_exit_code)
{
  const char *id = RUN_D("busybox", "sh", "-c", "sleep 0.3; exit 7");
  struct h_res r;

  H_RUN(&r, "wait", id);
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "7\n");
  h_res_free(&r);
  H_RUN(&r, "wait", "no-such-container");
  H_ASSERT_STATUS(&r, 1);
  H_ASSERT_HAS(&r, err, "No such container: no-such-container");
  h_res_free(&r);
  rm_f(id);
}
END_TEST

/* ---- create / start / restart ------------------------------------------ */

START_TEST(test_create_then_start_attached)
{
  struct h_res r;
  char id[65];

  H_RUN(&r, "create", "--name", "c1", "busybox", "sh", "-c",
        "echo hello from c1; exit 5");
  H_ASSERT_STATUS(&r, 0);
  ck_assert(h_is_hex(r.out, 64));
  memcpy(id, r.out, 64);
  id[64] = '\0';
  h_res_free(&r);
  /* no state file yet: a created container's is written when it starts */
  H_RUN(&r, "inspect", "-f", "{{.State.Status}}", id);
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "created\n");
  h_res_free(&r);
  ck_assert_msg(!h_procs_tied(h.tag, NULL, 0, NULL),
                "create started a process");

  /* start -a sees the output from the first byte and returns the code */
  H_RUN(&r, "start", "-a", "c1");
  H_ASSERT_STATUS(&r, 5);
  H_ASSERT_OUT_EQ(&r, "hello from c1\n");
  h_res_free(&r);
  ck_assert_str_eq(state_of(id, "Status"), "exited");
  H_RUN(&r, "rm", "c1");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
}
END_TEST

/* Starting an exited container reuses its writable layer. */
START_TEST(test_start_reuses_writable_layer)
{
  const char *id = RUN_D("busybox", "sh", "-c",
                         "echo x >> /counter; "
                         "wc -l < /counter");
  char cid[65];
  struct h_res r;

  snprintf(cid, sizeof cid, "%s", id);
  WAIT_STATUS(cid, "exited");
  H_RUN(&r, "start", "-a", cid);
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "2\n");
  h_res_free(&r);
  H_RUN(&r, "start", "-i", "-a", cid);
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "3\n");
  h_res_free(&r);
  ck_assert_int_eq(state_int(cid, "RestartCount"), 2);
  rm_f(cid);
}
END_TEST

START_TEST(test_start_attached_stdin)
{
  struct h_res r;

  H_RUN(&r, "create", "-i", "--name", "cat", "busybox", "sh", "-c",
        "tr a-z A-Z; exit 4");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  H_RUN_IN(&r, "piped input\n", "start", "-a", "-i", "cat");
  H_ASSERT_STATUS(&r, 4);
  H_ASSERT_OUT_EQ(&r, "PIPED INPUT\n");
  h_res_free(&r);
  rm_f("cat");
}
END_TEST

START_TEST(test_restart_running_container)
{
  const char *id = RUN_D("--name", "rs", "busybox", "sh", "-c",
                         "trap 'exit 0' TERM; echo up; "
                         "while :; do sleep 0.05; done");
  char cid[65];
  int first_pid;
  struct h_res r;

  snprintf(cid, sizeof cid, "%s", id);
  WAIT_LOG(cid, "up");
  first_pid = state_int(cid, "InitPid");
  H_RUN(&r, "restart", "rs");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  ck_assert_str_eq(state_of(cid, "Status"), "running");
  ck_assert_int_ne(state_int(cid, "InitPid"), first_pid);
  ck_assert_int_eq(state_int(cid, "RestartCount"), 1);
  ck_assert(!h_pid_alive(first_pid));
  /* starting a running container is a no-op, as in Docker */
  H_RUN(&r, "start", "rs");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  rm_f("rs");
}
END_TEST

/* ---- rm ---------------------------------------------------------------- */

START_TEST(test_rm_refuses_running)
{
  const char *id = RUN_D("--name", "busy", "busybox", "sleep", "1000");
  struct h_res r;
  char dir[4400];

  h_fmt(dir, sizeof dir, "%s/containers/%s", h.root, id);
  H_RUN(&r, "rm", "busy");
  H_ASSERT_STATUS(&r, 1);
  H_ASSERT_HAS(&r, err, "container is running");
  h_res_free(&r);
  ck_assert(h_exists(dir));
  H_RUN(&r, "rm", "-f", "busy");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  ck_assert(!h_exists(dir));
  /* the name is free again */
  RUN_D("--name", "busy", "busybox", "sleep", "1000");
  rm_f("busy");
}
END_TEST

/* ---- logs -------------------------------------------------------------- */

START_TEST(test_logs_tail_and_timestamps)
{
  const char *id = RUN_D("busybox", "sh", "-c",
                         "for i in 1 2 3 4 5; do echo line$i; done; "
                         "printf 'no newline'");
  struct h_res r;

  WAIT_STATUS(id, "exited");
  H_RUN(&r, "logs", "--tail", "2", id);
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "line4\nline5\nno newline");
  h_res_free(&r);
  H_RUN(&r, "logs", "-t", "--tail", "1", id);
  ck_assert_msg(strlen(r.out) > 31 && r.out[4] == '-' && r.out[10] == 'T' &&
                    h_contains(r.out, "Z line5\n"),
                "no RFC 3339 stamp: %s", r.out);
  h_res_free(&r);
  H_RUN(&r, "logs", "--since", "1h", id);
  H_ASSERT_HAS(&r, out, "line1\n");
  h_res_free(&r);
  H_RUN(&r, "logs", "--until", "1h", id);
  H_ASSERT_OUT_EQ(&r, "");
  h_res_free(&r);
  rm_f(id);
}
END_TEST

struct follow_out {
  const char *path;
  const char *text;
};

static bool file_has(void *arg)
{
  struct follow_out *f = arg;
  char *text = h_read_file(f->path);
  bool found = text && strstr(text, f->text);

  free(text);
  return found;
}

START_TEST(test_logs_follow)
{
  const char *id = RUN_D("--name", "ff", "busybox", "sh", "-c",
                         "echo first; read x < /tmp/go 2>/dev/null; "
                         "trap 'echo last; exit 0' TERM; "
                         "while :; do sleep 0.05; done");
  char out_path[4400], cid[65];
  struct h_res r;
  pid_t pid;
  int fd;

  snprintf(cid, sizeof cid, "%s", id);
  h_fmt(out_path, sizeof out_path, "%s/follow.out", h.host);
  fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ck_assert_int_ge(fd, 0);
  pid = h_spawn(H_ARGV("logs", "-f", "ff"), fd, -1);
  close(fd);
  ck_assert(h_poll(file_has, &(struct follow_out){out_path, "first\n"},
                   H_TIMEOUT_MS));
  H_RUN(&r, "stop", "ff");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  /* -f ends by itself once the container has stopped */
  ck_assert_int_eq(h_wait(pid, H_TIMEOUT_MS), 0);
  ck_assert(h_poll(file_has, &(struct follow_out){out_path, "last\n"}, 1));
  rm_f(cid);
}
END_TEST

/* A burst written just before the workload exits is all in the log:
 * the monitor drains the pipes after init is gone. */
START_TEST(test_logs_keep_final_burst)
{
  const char *id = RUN_D("busybox", "sh", "-c",
                         "i=0; while [ $i -lt 5000 ]; do echo burst$i; "
                         "i=$((i+1)); done");
  struct h_res r;
  size_t lines = 0;

  WAIT_STATUS(id, "exited");
  H_RUN(&r, "logs", id);
  H_ASSERT_STATUS(&r, 0);
  for (const char *p = r.out; (p = strchr(p, '\n')); p++)
    lines++;
  ck_assert_uint_eq(lines, 5000);
  ck_assert(h_has_line(r.out, "burst4999"));
  h_res_free(&r);
  rm_f(id);
}
END_TEST

/* The log rotates at --log-opt max-size; logs still reads across. */
START_TEST(test_logs_rotate)
{
  const char *id = RUN_D("--log-opt", "max-size=8k", "busybox", "sh", "-c",
                         "i=0; while [ $i -lt 2000 ]; do echo line$i; "
                         "i=$((i+1)); done");
  char path[4400];
  struct stat st;
  struct h_res r;

  WAIT_STATUS(id, "exited");
  h_fmt(path, sizeof path, "%s/containers/%s/container.log", h.root, id);
  ck_assert_int_eq(stat(path, &st), 0);
  ck_assert_int_le(st.st_size, 8192);
  h_fmt(path, sizeof path, "%s/containers/%s/container.log.1", h.root, id);
  ck_assert_int_eq(stat(path, &st), 0);
  ck_assert_int_le(st.st_size, 8192);
  H_RUN(&r, "logs", "--tail", "1", id);
  H_ASSERT_OUT_EQ(&r, "line1999\n");
  h_res_free(&r);
  rm_f(id);
}
END_TEST

/* ---- attach ------------------------------------------------------------ */

START_TEST(test_attach_tty_and_detach_keys)
{
  const char *id =
      RUN_D("-it", "--name", "sh1", "-e", "PS1=att> ", "busybox", "sh");
  struct sess *s = calloc(1, sizeof *s);
  char cid[65];

  snprintf(cid, sizeof cid, "%s", id);
  sess_start(s, 24, 80, H_ARGV("attach", "sh1"));
  sess_type(s, "echo $((6*7))\r");
  EXPECT(s, "42");
  /* Ctrl-C interrupts the job inside, not attach */
  sess_type(s, "sleep 3141\r");
  ck_assert_msg(h_poll_find(h.tag, H_ARGV("sleep", "3141"), EXPECT_MS),
                "sleep 3141 never started:\n%s", printable(s));
  sess_type(s, "\x03");
  EXPECT(s, "att> ");
  sess_type(s, "echo alive-$?\r");
  EXPECT(s, "alive-130");
  /* Ctrl-P Ctrl-Q detaches; the container keeps running */
  sess_type(s, "\x10\x11");
  ck_assert_int_eq(h_wait(s->pid, EXPECT_MS), 0);
  ck_assert_str_eq(state_of(cid, "Status"), "running");
  close(s->master);
  close(s->slave);
  /* attach again and exit the shell: attach returns its code */
  sess_start(s, 24, 80, H_ARGV("attach", "sh1"));
  sess_type(s, "exit 9\r");
  ck_assert_int_eq(h_wait(s->pid, EXPECT_MS), 9);
  close(s->master);
  close(s->slave);
  free(s);
  WAIT_STATUS(cid, "exited");
  rm_f(cid);
}
END_TEST

START_TEST(test_attach_stopped_container)
{
  struct h_res r;

  H_RUN(&r, "create", "--name", "idle", "busybox", "true");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  H_RUN(&r, "attach", "idle");
  H_ASSERT_STATUS(&r, 1);
  H_ASSERT_HAS(&r, err, "You cannot attach to a stopped container");
  h_res_free(&r);
  rm_f("idle");
}
END_TEST

/* ---- crashes ----------------------------------------------------------- */

/* SIGKILL the monitor: the container dies with it, the state reads as
 * exited on the next command, and rm -f removes everything. */
START_TEST(test_monitor_killed)
{
  const char *id = RUN_D("busybox", "sleep", "1000");
  char cid[65];
  pid_t monitor, init;
  struct h_res r;

  snprintf(cid, sizeof cid, "%s", id);
  monitor = state_int(cid, "MonitorPid");
  init = state_int(cid, "InitPid");
  ck_assert_int_gt(monitor, 0);
  ck_assert_int_eq(kill(monitor, SIGKILL), 0);
  ck_assert_msg(h_poll(pid_gone, &init, H_TIMEOUT_MS),
                "init %d outlived its monitor", (int)init);
  ck_assert_msg(!h_find_proc(h.tag, H_ARGV("sleep", "1000")),
                "the workload outlived its monitor");
  H_RUN(&r, "wait", cid);
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "137\n");
  h_res_free(&r);
  ck_assert_str_eq(state_of(cid, "Status"), "exited");
  H_RUN(&r, "rm", "-f", cid);
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
}
END_TEST

/* A state file that names a live process which is not ours (a recycled
 * pid, or a reboot) must never be believed, and never be signalled. */
START_TEST(test_recycled_pid_not_trusted)
{
  struct h_res r;
  char path[4400], text[512], cid[65];
  pid_t stranger = fork();
  int status;

  if (stranger == 0) {
    execlp("sleep", "sleep", "1000", (char *)NULL);
    _exit(127);
  }

  H_RUN(&r, "create", "--name", "ghost", "busybox", "true");
  H_ASSERT_STATUS(&r, 0);
  memcpy(cid, r.out, 64);
  cid[64] = '\0';
  h_res_free(&r);
  /* "running", with the stranger as init and monitor, a wrong start time
   * and another boot's id */
  snprintf(text, sizeof text,
           "Status=running\nPid=%d\nInitPid=%d\nInitStart=1\nMonitorPid=%d\n"
           "MonitorStart=1\nExitCode=0\nBootId=not-this-boot\n",
           (int)stranger, (int)stranger, (int)stranger);
  h_fmt(path, sizeof path, "%s/containers/%s/state", h.root, cid);
  h_write_file(path, text);
  H_RUN(&r, "kill", "ghost");
  H_ASSERT_STATUS(&r, 1);
  h_res_free(&r);
  ck_assert_msg(h_pid_alive(stranger), "mocker killed a process not its own");
  ck_assert_str_eq(state_of(cid, "Status"), "exited");
  rm_f("ghost");
  kill(stranger, SIGTERM);
  status = h_wait(stranger, H_TIMEOUT_MS);
  ck_assert_int_eq(status, -SIGTERM);
}
END_TEST

/* A simulated reboot: every mocker process is killed and the state still
 * says running; the next command shows every container as exited. */
START_TEST(test_reboot_reconciles)
{
  char ids[3][65];
  struct h_res r;

  for (int i = 0; i < 3; i++)
    snprintf(ids[i], sizeof ids[i], "%s", RUN_D("busybox", "sleep", "1000"));
  for (int i = 0; i < 3; i++) {
    pid_t init = state_int(ids[i], "InitPid");
    kill(state_int(ids[i], "MonitorPid"), SIGKILL);
    ck_assert(h_poll(pid_gone, &init, H_TIMEOUT_MS));
  }
  for (int i = 0; i < 3; i++) {
    ck_assert_str_eq(state_of(ids[i], "Status"), "running"); /* stale */
    H_RUN(&r, "wait", ids[i]);
    H_ASSERT_OUT_EQ(&r, "137\n");
    h_res_free(&r);
    ck_assert_str_eq(state_of(ids[i], "Status"), "exited");
    /* and it can run again */
    H_RUN(&r, "start", ids[i]);
    H_ASSERT_STATUS(&r, 0);
    h_res_free(&r);
    ck_assert_str_eq(state_of(ids[i], "Status"), "running");
    rm_f(ids[i]);
  }
}
END_TEST

/* ---- concurrency ------------------------------------------------------- */

#define PARALLEL 50

/* Every container left has a parseable config and a state that says
 * created or exited (nothing is running any more). */
static void assert_states_consistent(void)
{
  char ids[PARALLEL][65], path[4400];
  int n = h_containers(h.root, ids, PARALLEL);

  for (int i = 0; i < n; i++) {
    const char *st = state_of(ids[i], "Status");
    char *cfg;
    ck_assert_msg(strcmp(st, "exited") == 0,
                  "container %.12s is \"%s\" after stop", ids[i], st);
    h_fmt(path, sizeof path, "%s/containers/%s/config.json", h.root, ids[i]);
    cfg = h_read_file(path);
    ck_assert_msg(cfg && cfg[0] == '{' && strstr(cfg, "\"Path\""),
                  "config.json of %.12s is damaged", ids[i]);
    free(cfg);
  }
}

/* 50 run -d at once, half of them fighting over 5 names: every name is
 * handed out once, every container is consistent, then 50 rm -f at once
 * leave nothing. */
START_TEST(test_fifty_concurrent)
{
  pid_t pids[PARALLEL];
  char names[PARALLEL][16];
  int ok = 0, conflicts = 0;

  for (int i = 0; i < PARALLEL; i++) {
    snprintf(names[i], sizeof names[i], i < 25 ? "dup%d" : "c%d",
             i < 25 ? i % 5 : i);
    pids[i] = h_spawn(
        H_ARGV("run", "-d", "--name", names[i], "busybox", "sleep", "1000"), -1,
        -1);
  }
  for (int i = 0; i < PARALLEL; i++) {
    int st = h_wait(pids[i], 60000);
    ok += st == 0;
    conflicts += st == 125;
  }
  ck_assert_int_eq(ok, 30);        /* 5 dup names + 25 unique */
  ck_assert_int_eq(conflicts, 20); /* the losers of the name races */
  ck_assert_int_eq(h_containers(h.root, NULL, 0), 30);
  /* stop and rm race each other on the same containers */
  for (int i = 0; i < PARALLEL; i++)
    pids[i] = h_spawn(i % 2 ? H_ARGV("stop", "-t", "0", names[i])
                            : H_ARGV("rm", "-f", names[i]),
                      -1, -1);
  for (int i = 0; i < PARALLEL; i++)
    h_wait(pids[i], 60000);
  assert_states_consistent();
  for (int i = 0; i < PARALLEL; i++)
    pids[i] = h_spawn(H_ARGV("rm", "-f", names[i]), -1, -1);
  for (int i = 0; i < PARALLEL; i++)
    h_wait(pids[i], 60000);
  ck_assert_int_eq(h_containers(h.root, NULL, 0), 0);
}
END_TEST

/* ---- long-running workloads -------------------------------------------- */

static int count_fds(pid_t pid)
{
  char path[64];
  int n = 0;
  DIR *d;

  snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
  d = opendir(path);
  while (d && readdir(d))
    n++;
  if (d)
    closedir(d);
  return n;
}

static long rss_kb(pid_t pid)
{
  char path[64], *text, *p;
  long kb = -1;

  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  text = h_read_file(path);
  p = text ? strstr(text, "VmRSS:") : NULL;
  if (p)
    kb = strtol(p + 6, NULL, 10);
  free(text);
  return kb;
}

static bool maps_have(pid_t pid, const char *lib)
{
  char path[64], *text;
  bool found;

  snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
  text = h_read_file(path);
  found = text && strstr(text, lib);
  free(text);
  return found;
}

/* Workers die and are replaced for a while: no zombies pile up, and
 * neither the monitor nor init grows in fds or memory. */
START_TEST(test_worker_churn)
{
  const char *id =
      RUN_D("busybox", "sh", "-c",
            "while :; do for i in 1 2 3 4 5 6 7 8; do (sleep 0.01; echo w$i) & "
            "done; wait; done");
  char cid[65];
  pid_t monitor, init;
  int fds_mon, fds_init;
  long rss_mon, rss_init;
  struct h_res r;

  snprintf(cid, sizeof cid, "%s", id);
  WAIT_LOG(cid, "w8");
  monitor = state_int(cid, "MonitorPid");
  init = state_int(cid, "InitPid");
  fds_mon = count_fds(monitor), fds_init = count_fds(init);
  rss_mon = rss_kb(monitor), rss_init = rss_kb(init);
  for (long end = h_now_ms() + 8000; h_now_ms() < end;)
    usleep(200 * 1000);
  H_RUN(&r, "top", cid);
  h_res_free(&r);
  ck_assert_int_eq(count_fds(monitor), fds_mon);
  ck_assert_int_eq(count_fds(init), fds_init);
  ck_assert_int_le(rss_kb(monitor), rss_mon + 64);
  ck_assert_int_le(rss_kb(init), rss_init + 64);
  /* the monitor is small: RSS under 1 MB (not in a sanitizer build) */
  if (!maps_have(monitor, "libasan"))
    ck_assert_int_lt(rss_kb(monitor), 1024);
  /* no zombie among the container's processes (init reaps them) */
  {
    char cmd[256];
    h_fmt(
        cmd, sizeof cmd,
        "for p in $(ls /proc | grep '^[0-9]'); do "
        "[ \"$(readlink /proc/$p/ns/pid)\" = \"$(readlink /proc/%d/ns/pid)\" ] "
        "&& awk '{print $3}' /proc/$p/stat; done | grep -c Z",
        (int)init);
    FILE *f = popen(cmd, "r");
    int zombies = -1;
    ck_assert(f && fscanf(f, "%d", &zombies) == 1);
    pclose(f);
    /* a worker may be between exit and reap at this very instant */
    ck_assert_int_le(zombies, 8);
  }
  rm_f(cid);
}
END_TEST

static Suite *lifecycle_suite(void)
{
  Suite *s = suite_create("lifecycle");
  TCase *tc;

  tc = h_tcase("run_detached", 60);
  tcase_add_test(tc, test_run_detached_runs_and_logs);
  tcase_add_loop_test(tc, test_run_detached_exec_failure, 0,
                      (int)(sizeof exec_failures / sizeof exec_failures[0]));
  tcase_add_test(tc, test_run_detached_rm_removes_itself);
  suite_add_tcase(s, tc);

  tc = h_tcase("stop_kill_wait", 60);
  tcase_add_test(tc, test_stop_sends_term_then_records_exit);
  tcase_add_test(tc, test_stop_kills_after_timeout);
  tcase_add_test(tc, test_stop_signal_option);
  tcase_add_test(tc, test_kill_signals);
  tcase_add_test(tc, test_wait_prints_exit_code);
  suite_add_tcase(s, tc);

  tc = h_tcase("create_start", 60);
  tcase_add_test(tc, test_create_then_start_attached);
  tcase_add_test(tc, test_start_reuses_writable_layer);
  tcase_add_test(tc, test_start_attached_stdin);
  tcase_add_test(tc, test_restart_running_container);
  tcase_add_test(tc, test_rm_refuses_running);
  suite_add_tcase(s, tc);

  tc = h_tcase("logs_attach", 60);
  tcase_add_test(tc, test_logs_tail_and_timestamps);
  tcase_add_test(tc, test_logs_follow);
  tcase_add_test(tc, test_logs_rotate);
  tcase_add_test(tc, test_logs_keep_final_burst);
  tcase_add_test(tc, test_attach_tty_and_detach_keys);
  tcase_add_test(tc, test_attach_stopped_container);
  suite_add_tcase(s, tc);

  tc = h_tcase("crashes", 60);
  tcase_add_test(tc, test_monitor_killed);
  tcase_add_test(tc, test_recycled_pid_not_trusted);
  tcase_add_test(tc, test_reboot_reconciles);
  suite_add_tcase(s, tc);

  tc = h_tcase("load", 120);
  tcase_add_test(tc, test_fifty_concurrent);
  tcase_add_test(tc, test_worker_churn);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  return h_main(lifecycle_suite());
}
