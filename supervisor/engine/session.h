/* The supervisor's wait loop: epoll over the sync socket, the pidfd, a
 * signalfd and, with -t, the pty master and stdin. No work in signal
 * handlers: every signal arrives through the signalfd. */
#ifndef MK_SESSION_H
#define MK_SESSION_H

#include <signal.h>

#include "mk_error.h"
#include "spawn.h"
#include "base/terminal.h"

struct mk_session {
  struct mk_spawned child;
  int sigfd;
  int tty;         /* -t: copy between our stdio and the pty master */
  int interactive; /* -i: forward stdin (with -t; without, it is inherited) */
  int master;      /* pty master, once init has sent it */
  int stdin_open;
  int child_sock_eof;

  /* results */
  int started;      /* init reported the workload running */
  int workload_pid; /* as seen inside the container */
  int init_status;  /* waitid status of init */
  int have_failure; /* init reported an error */
  unsigned fail_kind;
  mk_error_t failure;

  /* called once when the workload starts (state file update) */
  void (*on_started)(struct mk_session *s, void *data);
  void *on_started_data;
};

/* Blocks every signal before clone3, so the child inherits the mask and
 * nothing sent during start-up is lost, and opens s->sigfd to read them.
 * Resets the dispositions a parent may have left at SIG_IGN (a shell's
 * background job: SIGINT, SIGQUIT; nohup: SIGHUP), which would discard
 * those signals and be inherited by init and the workload. The old mask
 * goes to saved. */
int mk_session_block_signals(struct mk_session *s, sigset_t *saved,
                             mk_error_t *err);

/* Runs until init has exited and the pty is drained. */
int mk_session_run(struct mk_session *s, mk_error_t *err);

#endif
