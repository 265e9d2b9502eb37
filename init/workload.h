/* Starting the workload: the child side of init's fork. */
#ifndef MK_WORKLOAD_H
#define MK_WORKLOAD_H

#include "mk_proto.h"
#include "passwd.h"

struct mk_workload {
  const struct mk_config *cfg;
  const struct mk_user *user;
  int pty_slave;   /* -1 without -t */
  int status_pipe; /* write end: errno + message if exec fails */
  int report_sock; /* in place (MK_CFG_EXEC_INPLACE): failures go here as
                      MK_MSG_ERROR instead; else -1 */
};

/* Runs in the forked child (or in init itself, in place); never returns.
 * On failure writes an errno and a message to w->status_pipe (or sends
 * them on w->report_sock) and exits 127 or 126. */
__attribute__((noreturn)) void mk_workload_exec(const struct mk_workload *w);

/* Init itself, once the workload runs: the container's bounding set as
 * its own bounding, effective and permitted sets, nothing inheritable or
 * ambient. */
int mk_workload_confine_waiter(const struct mk_config *cfg, mk_error_t *err);

/* Reads what the child reported: 0 when it exec'd (EOF), -1 with err
 * filled from the child's report otherwise. */
int mk_workload_wait_exec(int status_pipe_read, mk_error_t *err);

/* In a hook's child: umask, rlimits, the workload's user, capabilities,
 * no_new_privs and seccomp filter, and its working directory, as
 * mk_workload_exec gives them (w's pty and pipe are not used). */
int mk_workload_become(const struct mk_workload *w, mk_error_t *err);

#endif
