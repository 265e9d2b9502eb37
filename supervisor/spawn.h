/* Starting mocker-init in fresh namespaces with clone3. */
#ifndef MK_SPAWN_H
#define MK_SPAWN_H

#include <limits.h>
#include <sys/types.h>

#include "mk_error.h"

struct mk_spawned {
  pid_t pid;
  int pidfd; /* CLONE_PIDFD: waits and signals without pid reuse races */
  int sock;  /* our end of the SOCK_SEQPACKET socketpair */
};

/* Finds mocker-init: beside our own executable, then under
 * <prefix>/libexec/mocker (the compiled-in one, then the one relative to
 * our bin/), then $MOCKER_INIT. Returns an fd opened for exec. */
int mk_open_init_binary(char path_out[PATH_MAX], mk_error_t *err);

/* Runs in the child, inside the new namespaces, before init is exec'd. */
typedef int (*mk_spawn_prepare_fn)(void *data, mk_error_t *err);

/* Must be called with all signals blocked: the child inherits the mask,
 * and init collects them in its signalfd. The child gets
 * PR_SET_PDEATHSIG(SIGKILL), so the container dies with the supervisor.
 * It makes its mount tree private, runs prepare (if any; a failure is
 * reported to the session like any init failure), then execs init. */
int mk_spawn_init(int init_fd, mk_spawn_prepare_fn prepare, void *data,
                  struct mk_spawned *sp, mk_error_t *err);

#endif
