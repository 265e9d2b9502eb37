/* `mocker run -t`: a real pty from openpty() is mocker's controlling
 * terminal and stdio, and the test types into the master like a person:
 * it waits for the prompt, types commands, presses Ctrl-C, resizes the
 * window, and checks that mocker leaves the terminal as it found it. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <check.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "harness.h"
#include "pty_session.h"

#define PROMPT "mk-ps1> "


static void start_shell(struct sess *s, unsigned short rows,
                        unsigned short cols)
{
  sess_start(
      s, rows, cols,
      H_ARGV("run", "-it", "--rm", "-e", "PS1=" PROMPT, "busybox", "/bin/sh"));
  EXPECT(s, PROMPT);
}

START_TEST(test_window_size_at_start)
{
  struct sess *s = calloc(1, sizeof *s);
  struct termios now;

  start_shell(s, 33, 77);
  /* While mocker runs, the host terminal is raw: Ctrl-C etc. are bytes. */
  ck_assert_int_eq(tcgetattr(s->slave, &now), 0);
  ck_assert_msg(!(now.c_lflag & (ICANON | ECHO | ISIG)),
                "the host terminal is not in raw mode (c_lflag %#o)",
                now.c_lflag);
  sess_type(s, "stty size\r");
  EXPECT(s, "33 77");
  EXPECT(s, PROMPT);
  sess_type(s, "tty\r");
  EXPECT(s, "/dev/pts/");
  EXPECT(s, PROMPT);
  sess_type(s, "exit\r");
  sess_finish(s, 0);
  free(s);
}
END_TEST

START_TEST(test_resize_mid_session)
{
  struct sess *s = calloc(1, sizeof *s);
  struct winsize ws = {.ws_row = 44, .ws_col = 99};
  bool seen = false;

  start_shell(s, 33, 77);
  sess_type(s, "stty size\r");
  EXPECT(s, "33 77");
  EXPECT(s, PROMPT);
  ck_assert_int_eq(ioctl(s->master, TIOCSWINSZ, &ws), 0);
  /* The SIGWINCH that tells mocker races with the keystrokes that
   * follow; a person would look again, and so does this test. */
  for (int attempt = 0; attempt < 5 && !seen; attempt++) {
    sess_type(s, "stty size\r");
    seen = sess_expect(s, "44 99", 2000);
  }
  ck_assert_msg(seen, "the resize never reached the container:\n%s",
                printable(s));
  EXPECT(s, PROMPT);
  sess_type(s, "exit 0\r");
  sess_finish(s, 0);
  free(s);
}
END_TEST

static bool sleep_gone(void *arg)
{
  return !h_pid_alive(*(pid_t *)arg);
}

/* Ctrl-C interrupts the foreground job; the shell survives. */
START_TEST(test_ctrl_c_interrupts_job)
{
  struct sess *s = calloc(1, sizeof *s);
  long t0;
  pid_t sleeper;

  start_shell(s, 24, 80);
  sess_type(s, "sleep 3133\r");
  sleeper = h_poll_find(h.tag, H_ARGV("sleep", "3133"), EXPECT_MS);
  ck_assert_msg(sleeper, "sleep 3133 never started:\n%s", printable(s));
  t0 = h_now_ms();
  sess_type(s, "\x03");
  ck_assert_msg(h_poll(sleep_gone, &sleeper, EXPECT_MS),
                "Ctrl-C did not stop sleep:\n%s", printable(s));
  EXPECT(s, PROMPT);
  sess_type(s, "echo st-$?\r");
  EXPECT(s, "st-130");
  sess_type(s, "echo alive-$((1+1))\r");
  EXPECT(s, "alive-2");
  ck_assert_msg(h_now_ms() - t0 < 30000, "the shell answered too late");
  ck_assert_msg(h_pid_alive(s->pid), "mocker exited on Ctrl-C");
  EXPECT(s, PROMPT);
  sess_type(s, "exit 3\r");
  sess_finish(s, 3);
  free(s);
}
END_TEST

START_TEST(test_exit_status_passes_through)
{
  struct sess *s = calloc(1, sizeof *s);

  start_shell(s, 24, 80);
  sess_type(s, "exit 3\r");
  sess_finish(s, 3);
  free(s);
}
END_TEST

/* With -t, stdout and stderr both go through the pty; -t without -i. */
START_TEST(test_tty_carries_both_streams)
{
  struct sess *s = calloc(1, sizeof *s);

  sess_start(s, 24, 80,
             H_ARGV("run", "-t", "--rm", "busybox", "sh", "-c",
                    "echo to-out; echo to-err >&2; exit 5"));
  EXPECT(s, "to-out");
  EXPECT(s, "to-err");
  sess_finish(s, 5);
  free(s);
}
END_TEST

/* The terminal is restored when mocker fails before the container runs. */
START_TEST(test_termios_restored_on_error)
{
  struct sess *s = calloc(1, sizeof *s);

  sess_start(s, 24, 80, H_ARGV("run", "-it", "--rm", "nosuchimage-mk"));
  EXPECT(s, "nosuchimage-mk");
  sess_finish(s, 125);
  free(s);
}
END_TEST

/* ... and when mocker is told to stop by a signal. */
START_TEST(test_termios_restored_on_signal)
{
  struct sess *s = calloc(1, sizeof *s);

  sess_start(s, 24, 80,
             H_ARGV("run", "-it", "--rm", "busybox", "sleep", "3136"));
  ck_assert_msg(h_poll_find(h.tag, H_ARGV("sleep", "3136"), EXPECT_MS),
                "sleep 3136 never started:\n%s", printable(s));
  ck_assert_int_eq(kill(s->pid, SIGTERM), 0);
  sess_finish(s, 143);
  free(s);
}
END_TEST

/* A one-job "shell": session leader on the pty, it runs mocker as a
 * background job and, when told, brings it to the foreground as a shell's
 * `fg` does (tcsetpgrp + SIGCONT). */
struct bg_job {
  pid_t shell, job;
  int ctl; /* write a byte: fg */
};

static void bg_start(struct sess *s, struct bg_job *j, const char *const argv[])
{
  struct winsize ws = {.ws_row = 24, .ws_col = 80};
  int ctl[2], rep[2];

  memset(s, 0, sizeof *s);
  ck_assert_int_eq(openpty(&s->master, &s->slave, NULL, NULL, &ws), 0);
  fcntl(s->master, F_SETFD, FD_CLOEXEC);
  fcntl(s->slave, F_SETFD, FD_CLOEXEC);
  ck_assert_int_eq(tcgetattr(s->slave, &s->before), 0);
  ck_assert_int_eq(pipe2(ctl, O_CLOEXEC), 0);
  ck_assert_int_eq(pipe2(rep, O_CLOEXEC), 0);
  j->shell = fork();
  ck_assert_int_ge(j->shell, 0);
  if (j->shell == 0) {
    pid_t job;
    int st;
    char c;

    if (setsid() < 0 || ioctl(s->slave, TIOCSCTTY, 0) < 0)
      _exit(197);
    signal(SIGTTOU, SIG_IGN);
    job = h_spawn_io(argv, s->slave, s->slave, s->slave, true);
    if (write(rep[1], &job, sizeof job) != sizeof job)
      _exit(196);
    if (read(ctl[0], &c, 1) == 1) {
      tcsetpgrp(s->slave, job);
      killpg(job, SIGCONT);
    }
    while (waitpid(job, &st, 0) < 0 && errno == EINTR)
      ;
    _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
  }
  close(ctl[0]);
  close(rep[1]);
  ck_assert_int_eq(read(rep[0], &j->job, sizeof j->job), sizeof j->job);
  close(rep[0]);
  j->ctl = ctl[1];
}

/* utime + stime of pid, in clock ticks; -1 if gone. */
static long cpu_ticks(pid_t pid)
{
  char path[64], *stat, *p;
  long utime = -1, stime = -1;

  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  stat = h_read_file(path);
  if (!stat)
    return -1;
  p = strrchr(stat, ')');
  if (p)
    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %ld %ld", &utime,
           &stime);
  free(stat);
  return utime < 0 ? -1 : utime + stime;
}

/* docker/cli#7249: a backgrounded `run -i` must not spin on SIGTTIN/EIO;
 * after `fg`, what the user types reaches the container. */
START_TEST(test_background_run_i_does_not_spin)
{
  struct sess *s = calloc(1, sizeof *s);
  struct bg_job j;
  char spec[8500], started[4300], got[4300], *text;
  long c0, t0, used;

  h_fmt(spec, sizeof spec, "%s:/m", h.host);
  h_fmt(started, sizeof started, "%s/started", h.host);
  h_fmt(got, sizeof got, "%s/got", h.host);
  bg_start(s, &j,
           H_ARGV("run", "-i", "--rm", "-v", spec, "busybox", "sh", "-c",
                  "touch /m/started; read l; echo \"got-$l\" > /m/got"));
  ck_assert_msg(h_poll(h_path_exists_pred, started, EXPECT_MS),
                "the workload never started:\n%s", printable(s));
  /* A measurement window, not a wait for an event: a spinning mocker
   * burns most of a core in it. */
  c0 = cpu_ticks(j.job);
  t0 = h_now_ms();
  while (h_now_ms() - t0 < 1000)
    sess_read(s, 50);
  used = cpu_ticks(j.job) - c0;
  ck_assert_msg(c0 >= 0 && used >= 0 && used < 30,
                "backgrounded mocker used %ld ticks of CPU in 1 s", used);

  ck_assert_int_eq(write(j.ctl, "f", 1), 1);
  sess_type(s, "hello\n");
  ck_assert_msg(h_poll(h_path_exists_pred, got, EXPECT_MS),
                "after fg, typed input never reached the container:\n%s",
                printable(s));
  text = h_read_file(got);
  ck_assert_msg(text && strcmp(text, "got-hello\n") == 0, "got: %s", text);
  free(text);
  close(j.ctl);
  s->pid = j.shell;
  sess_finish(s, 0);
  free(s);
}
END_TEST

START_TEST(test_tty_needs_a_terminal)
{
  struct h_res r;

  H_RUN_IN(&r, "echo hi\n", "run", "-it", "--rm", "busybox", "sh");
  H_ASSERT_STATUS(&r, 125);
  H_ASSERT_HAS(&r, err, "the input device is not a TTY");
  h_res_free(&r);
}
END_TEST

static Suite *tty_suite(void)
{
  Suite *s = suite_create("tty");
  TCase *tc;

  tc = h_tcase("interactive", 30);
  tcase_add_test(tc, test_window_size_at_start);
  tcase_add_test(tc, test_resize_mid_session);
  tcase_add_test(tc, test_ctrl_c_interrupts_job);
  tcase_add_test(tc, test_exit_status_passes_through);
  tcase_add_test(tc, test_tty_carries_both_streams);
  suite_add_tcase(s, tc);

  tc = h_tcase("terminal_state", 30);
  tcase_add_test(tc, test_termios_restored_on_error);
  tcase_add_test(tc, test_termios_restored_on_signal);
  tcase_add_test(tc, test_tty_needs_a_terminal);
  tcase_add_test(tc, test_background_run_i_does_not_spin);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  return h_main(tty_suite());
}
