/* Running one OCI runtime-spec hook: a program started with exactly the
 * argv and environment given, the container's state document on its
 * stdin, its output kept for the error message, and a deadline after
 * which its whole process group is killed. Both binaries run hooks: the
 * runtime (mocker-runtime) its createRuntime, prestart, poststart and
 * poststop hooks, mocker-init the createContainer and startContainer
 * ones, so this lives in shared/. It never allocates. */
#ifndef MK_HOOK_H
#define MK_HOOK_H

#include <stddef.h>
#include <stdint.h>

#include "mk_error.h"

/* The hooks mocker-init runs (the config carries them, mk_proto.h). */
enum mk_hook_kind {
  MK_HOOK_CREATE_CONTAINER = 1, /* after the mounts, before pivot_root */
  MK_HOOK_START_CONTAINER = 2,  /* after `start`, before the process */
};
#define MK_HOOK_KINDS 3 /* arrays indexed by kind */

struct mk_hook {
  uint32_t kind;           /* enum mk_hook_kind; 0 for the runtime's own */
  uint32_t timeout;        /* seconds; 0: none, as the spec's default */
  const char *path;        /* absolute; what is executed */
  const char *const *argv; /* NULL-terminated; empty: just { path } */
  const char *const *env;  /* NULL-terminated; the whole environment */
};

/* Runs in the hook's child after its stdio is set up and every other fd
 * is closed, just before the exec (mocker-init: become the workload's
 * user). A failure is reported as the hook's (exit status 126). */
typedef int (*mk_hook_prepare_fn)(void *data, mk_error_t *err);

/* Output of a hook kept for the error message; the rest is read and
 * dropped, so a chatty hook never blocks on a full pipe. */
#define MK_HOOK_OUTPUT_MAX 400

/* Runs h and waits for it: state (len bytes) goes to its stdin through a
 * pipe we write without ever blocking (a hook that does not read it is
 * not waited for beyond its exit), stdout and stderr are captured. The
 * hook is the leader of a new process group; past its timeout the group
 * is killed with SIGKILL. No fd of ours crosses its exec. Returns 0 if it
 * exited 0, else -1 with err naming it: "WHAT `path` exited with status
 * 3: <output>", "... was killed by signal 9", "... timed out after 5 s".
 * what is how the hook is named ("createRuntime hook"). */
int mk_hook_run(const struct mk_hook *h, const char *what, const char *state,
                size_t len, mk_hook_prepare_fn prepare, void *data,
                mk_error_t *err);

#endif
