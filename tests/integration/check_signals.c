/* Processes and signals: orphans are reaped, signals sent to mocker reach
 * the workload (and only those that should), nothing outlives the
 * container, and a SIGKILLed supervisor takes its container down. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

struct started {
  char spec[8500];    /* -v HOST:/m */
  char started[4300]; /* HOST/started */
};

static void prepare(struct started *s)
{
  h_fmt(s->spec, sizeof s->spec, "%s:/m", h.host);
  h_fmt(s->started, sizeof s->started, "%s/started", h.host);
}

/* Spawns `run --rm -v HOST:/m busybox sh -c SCRIPT` and waits until the
 * script has touched /m/started. */
static pid_t start_container(struct started *s, const char *script)
{
  const char *argv[] = {"run", "--rm", "-v",   s->spec, "busybox",
                        "sh",  "-c",   script, NULL};
  pid_t pid;

  prepare(s);
  pid = h_spawn(argv, -1, -1);
  if (!h_poll(h_path_exists_pred, s->started, 10000)) {
    int st = h_wait(pid, 1);

    ck_abort_msg("`%s`: the workload never started (mocker status %d)",
                 h_last_cmd(), st);
  }
  return pid;
}

static bool host_file(const char *name)
{
  char path[4400];

  h_fmt(path, sizeof path, "%s/%s", h.host, name);
  return h_exists(path);
}

/* ---- reaping ---------------------------------------------------------- */

/* Five orphans get reparented to PID 1 and exit; each must vanish from
 * /proc (a zombie keeps its entry), and no Z is left anywhere. */
START_TEST(test_orphans_reaped)
{
  struct h_res r;

  H_RUN(&r, "run", "--rm", "busybox", "sh", "-c",
        "for i in 1 2 3 4 5; do (sleep 0.1 & echo $! >> /tmp/orphans); done; "
        "for p in $(cat /tmp/orphans); do n=0; "
        "  while [ -e /proc/$p ]; do n=$((n+1)); "
        "    if [ $n -gt 500 ]; then echo \"not reaped: $(cat /proc/$p/stat)\";"
        "      break; fi; sleep 0.02; done; done; "
        "echo checked; "
        "for s in /proc/[0-9]*/stat; do read -r l < $s && "
        "  case \"$l\" in *') Z '*) echo \"zombie: $l\";; esac; done");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "checked\n");
  h_res_free(&r);
}
END_TEST

/* ---- forwarding ------------------------------------------------------- */

static const struct {
  int sig, status;
} stop_signals[] = {
    {SIGINT, 130},
    {SIGTERM, 143},
    {SIGHUP, 129},
    {SIGUSR2, 140},
};

/* `mocker run busybox sleep 3135` stops on the signal with 128+N (init
 * forwards it to the workload, which has no handler); its background
 * child goes too. */
START_TEST(test_signal_stops_workload)
{
  struct started s;
  int sig = stop_signals[_i].sig, want = stop_signals[_i].status, got;
  pid_t pid;

  pid = start_container(&s, "sleep 3134 & touch /m/started; exec sleep 3135");
  ck_assert_msg(h_poll_find(h.tag, H_ARGV("sleep", "3135"), 10000),
                "the workload never exec'd sleep 3135");
  ck_assert_int_eq(kill(pid, sig), 0);
  got = h_wait(pid, 10000);
  ck_assert_msg(got == want, "`%s` after %s: status %d, want %d", h_last_cmd(),
                strsignal(sig), got, want);
  ck_assert_msg(!h_find_proc(h.tag, H_ARGV("sleep", "3134")),
                "the background sleep survived");
}
END_TEST

START_TEST(test_sigusr1_reaches_trap)
{
  struct started s;
  pid_t pid;
  int got;

  pid = start_container(&s, "trap 'echo > /m/usr1; exit 0' USR1; "
                            "touch /m/started; sleep 300 & wait");
  ck_assert_int_eq(kill(pid, SIGUSR1), 0);
  got = h_wait(pid, 10000);
  ck_assert_msg(got == 0, "`%s`: status %d, want 0", h_last_cmd(), got);
  ck_assert_msg(host_file("usr1"), "the workload's USR1 trap did not run");
}
END_TEST

/* SIGPIPE, SIGCHLD, SIGTTIN and SIGTTOU are not forwarded (and don't stop
 * or kill mocker). SIGWINCH, which is forwarded, is sent last as the
 * terminator: the shell runs pending traps in signal-number order, so a
 * forwarded lower-numbered signal would have left its marker. */
START_TEST(test_unforwarded_signals)
{
  static const int quiet[] = {SIGPIPE, SIGCHLD, SIGTTIN, SIGTTOU};
  struct started s;
  pid_t pid;
  int got;

  pid = start_container(
      &s, "for g in PIPE TTIN TTOU; do trap \"echo > /m/got-$g\" $g; done; "
          "trap 'exit 0' WINCH; touch /m/started; "
          "trap 'echo > /m/got-CHLD' CHLD; sleep 300 & wait");
  for (size_t i = 0; i < sizeof quiet / sizeof quiet[0]; i++)
    ck_assert_int_eq(kill(pid, quiet[i]), 0);
  ck_assert_int_eq(kill(pid, SIGWINCH), 0);
  got = h_wait(pid, 10000);
  ck_assert_msg(got == 0, "`%s`: status %d, want 0 (from the WINCH trap)",
                h_last_cmd(), got);
  ck_assert_msg(!host_file("got-PIPE"), "SIGPIPE was forwarded");
  ck_assert_msg(!host_file("got-CHLD"), "SIGCHLD was forwarded");
  ck_assert_msg(!host_file("got-TTIN"), "SIGTTIN was forwarded");
  ck_assert_msg(!host_file("got-TTOU"), "SIGTTOU was forwarded");
}
END_TEST

/* ---- nothing outlives the container ---------------------------------- */

struct proc_gone {
  pid_t pid;
};

static bool pid_gone(void *arg)
{
  return !h_pid_alive(((struct proc_gone *)arg)->pid);
}

static bool nothing_tied(void *arg)
{
  (void)arg;
  return h_procs_tied(h.tag, NULL, 0, NULL) == 0;
}

START_TEST(test_sigkill_supervisor_kills_container)
{
  struct started s;
  struct proc_gone g;
  struct h_res r;
  char ids[4][65], *list = NULL;
  pid_t pid;
  int got;

  pid = start_container(&s, "touch /m/started; exec sleep 3131");
  ck_assert_msg(h_poll_find(h.tag, H_ARGV("sleep", "3131"), 10000),
                "no `sleep 3131` of this container found on the host");
  g.pid = h_find_proc(h.tag, H_ARGV("sleep", "3131"));
  ck_assert_int_eq(kill(pid, SIGKILL), 0);
  got = h_wait(pid, 10000);
  ck_assert_int_eq(got, -SIGKILL);
  ck_assert_msg(h_poll(pid_gone, &g, 10000),
                "the workload (pid %d) outlived its SIGKILLed supervisor",
                g.pid);
  ck_assert_msg(h_poll(nothing_tied, NULL, 10000), "processes remain:\n%s",
                (h_procs_tied(h.tag, NULL, 0, &list), list));

  /* The dead container's dir (and mount) is left; mocker cleans it. */
  ck_assert_int_eq(h_containers(h.root, ids, 4), 1);
  H_RUN(&r, "rm", ids[0]);
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  ck_assert_int_eq(h_containers(h.root, NULL, 0), 0);
  ck_assert_msg(h_mounts_under(h.dir, &list) == 0,
                "still mounted after rm:\n%s", list);
  free(list);
}
END_TEST

/* When the workload exits, its background children die with the
 * container: nothing is left by the time mocker returns. */
START_TEST(test_grandchildren_killed)
{
  struct h_res r;
  char *list = NULL;

  H_RUN(&r, "run", "--rm", "busybox", "sh", "-c",
        "sleep 3132 & (sleep 3133 &) ; echo spawned; exit 0");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "spawned\n");
  ck_assert_msg(r.err_len == 0, "stderr: %s", r.err);
  h_res_free(&r);
  ck_assert_msg(!h_find_proc(h.tag, H_ARGV("sleep", "3132")),
                "sleep 3132 outlived the container");
  ck_assert_msg(!h_find_proc(h.tag, H_ARGV("sleep", "3133")),
                "sleep 3133 outlived the container");
  ck_assert_msg(h_procs_tied(h.tag, NULL, 0, &list) == 0,
                "processes remain:\n%s", list);
  free(list);
}
END_TEST

static Suite *signals_suite(void)
{
  Suite *s = suite_create("signals");
  TCase *tc;

  tc = h_tcase("reaping", 30);
  tcase_add_test(tc, test_orphans_reaped);
  tcase_add_test(tc, test_grandchildren_killed);
  suite_add_tcase(s, tc);

  tc = h_tcase("forwarding", 30);
  tcase_add_loop_test(tc, test_signal_stops_workload, 0,
                      (int)(sizeof stop_signals / sizeof stop_signals[0]));
  tcase_add_test(tc, test_sigusr1_reaches_trap);
  tcase_add_test(tc, test_unforwarded_signals);
  suite_add_tcase(s, tc);

  tc = h_tcase("supervisor_death", 30);
  tcase_add_test(tc, test_sigkill_supervisor_kills_container);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  return h_main(signals_suite());
}
