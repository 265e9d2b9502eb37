/* The OCI runtime front: `mocker-runtime [GLOBAL OPTIONS] COMMAND`, the
 * command line of runc that containerd's shim, CRI-O and podman call
 * (issue 17). A second front over the same engine as the Docker CLI. */
#ifndef MK_OCI_H
#define MK_OCI_H

#include <jansson.h>
#include <stdio.h>
#include <sys/types.h>

#include "base/context.h"
#include "base/flags.h"

#define MK_OCI_PROGRAM "mocker-runtime"
#define MK_OCI_DEFAULT_ROOT "/run/mocker-runtime"
/* In a created container's directory: init answers `start` there */
#define MK_OCI_REPLY_FIFO "started.fifo"

/* What one invocation was told by runc's global flags. Verbs get &ctx
 * and reach the rest with mk_oci_of. */
struct mk_oci {
  struct mk_ctx ctx; /* --root: state of the containers this runtime runs */
  const char *log;   /* --log FILE: errors are appended there too */
  int log_fd;        /* it, opened at start; -1 without --log */
  int log_json;      /* --log-format json (else text, logrus's form) */
  int debug;
};

int mk_oci_main(int argc, char **argv);

/* The struct mk_oci a verb's ctx is part of. */
struct mk_oci *mk_oci_of(struct mk_ctx *ctx);

/* Reports msg as runc does: on stderr, and as one line in the --log file
 * (JSON {"level":"error","msg":...,"time":...} with --log-format json).
 * Returns 1, runc's exit status for a failed command. */
int mk_oci_fail(const struct mk_oci *o, const char *msg);

/* Reports msg as a warning, on stderr and in the --log file (level
 * "warning"); the command goes on. */
void mk_oci_warn(const struct mk_oci *o, const char *msg);

struct mk_container;

/* The container id, checked before it names anything on disk, then the
 * container (one made from a bundle), opened. */
int mk_oci_open(struct mk_ctx *ctx, const char *id, struct mk_container *c,
                mk_error_t *err);

/* A pidfd of the container's init, or -1 when it is gone, has exited (a
 * zombie), or the pid is another process's now. */
int mk_oci_init_pidfd(const struct mk_container *c);

/* The runtime-spec status: created, running, paused or stopped. */
const char *mk_oci_status(const struct mk_container *c);

/* The runtime-spec state document (`state` prints it, hooks read it):
 * ociVersion, id, status, pid, bundle and annotations (NULL: none). */
json_t *mk_oci_state_json(const char *id, const char *status, pid_t pid,
                          const char *bundle, json_t *annotations);

/* "VERB needs a container id" (want 1) or "... and a signal"; 1. */
int mk_oci_usage_error(struct mk_ctx *ctx, const char *verb, int want);

/* The verbs. */
int mk_oci_cmd_create(struct mk_ctx *ctx, int argc, char **argv);
int mk_oci_cmd_start(struct mk_ctx *ctx, int argc, char **argv);
int mk_oci_cmd_state(struct mk_ctx *ctx, int argc, char **argv);
int mk_oci_cmd_kill(struct mk_ctx *ctx, int argc, char **argv);
int mk_oci_cmd_delete(struct mk_ctx *ctx, int argc, char **argv);
/* Lets a created container's process run (start's work). */
int mk_oci_start(struct mk_ctx *ctx, const char *id, mk_error_t *err);

/* Removes a stopped container; force kills it first. */
int mk_oci_delete(struct mk_ctx *ctx, const char *id, int force,
                  mk_error_t *err);

int mk_oci_cmd_run(struct mk_ctx *ctx, int argc, char **argv);
int mk_oci_cmd_exec(struct mk_ctx *ctx, int argc, char **argv);
extern const struct mk_flag mk_oci_exec_flags[];

/* The pid file holds the pid and no newline (containerd's shim reads it
 * so); written beside its name in dirfd, then renamed over it. */
int mk_oci_write_pid_file(int dirfd, const char *name, const char *shown,
                          pid_t pid, mk_error_t *err);

/* A connected unix stream socket to --console-socket path. */
int mk_oci_console_connect(const char *path, mk_error_t *err);

/* Hands the pty master over sock, as runc: SCM_RIGHTS. */
int mk_oci_console_send(int sock, const char *path, int master,
                        mk_error_t *err);
int mk_oci_cmd_features(struct mk_ctx *ctx, int argc, char **argv);
int mk_oci_cmd_pause(struct mk_ctx *ctx, int argc, char **argv);
int mk_oci_cmd_resume(struct mk_ctx *ctx, int argc, char **argv);
int mk_oci_cmd_ps(struct mk_ctx *ctx, int argc, char **argv);
int mk_oci_cmd_list(struct mk_ctx *ctx, int argc, char **argv);
int mk_oci_cmd_update(struct mk_ctx *ctx, int argc, char **argv);
extern const char mk_oci_create_usage[];
extern const struct mk_flag mk_oci_create_flags[];
int mk_oci_cmd_spec(struct mk_ctx *ctx, int argc, char **argv);
extern const char mk_oci_spec_usage[];
extern const struct mk_flag mk_oci_spec_flags[];

#endif
