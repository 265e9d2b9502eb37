/* Parsing `mocker run` options, Docker's names and semantics. */
#ifndef MK_CLI_H
#define MK_CLI_H

#include <stddef.h>

#include "flags.h"
#include "mk_error.h"
#include "base/strv.h"
#include "base/validate.h"

struct mk_volume {
  char *source; /* absolute host path as given, or a volume name */
  int named;    /* source is a named volume under the state root */
  char *target; /* absolute container path */
  int read_only;
};

struct mk_tmpfs {
  char *target;
  unsigned flags; /* MK_MNT_* */
  char *data;     /* options passed to tmpfs (size=, mode=, ...) */
};

struct mk_run_opts {
  int interactive, tty, rm, read_only, help, detach;
  const char *verb; /* "run" or "create", for messages */
  const char *name, *workdir, *user, *hostname;
  const char *stop_signal; /* NULL: the image's, else SIGTERM */
  int stop_timeout;        /* -1: the default of 10 s */
  long long log_max_size;  /* bytes before the log rotates */
  const char *entrypoint;  /* NULL: the image's; "" clears it */
  const char *image;
  enum { MK_PULL_MISSING, MK_PULL_ALWAYS, MK_PULL_NEVER } pull;
  struct mk_strv cmd;      /* arguments after the image */
  struct mk_strv env;      /* KEY=VALUE: --env-file entries, then -e */
  struct mk_strv env_file; /* only while parsing */
  struct mk_volume *volumes;
  size_t nvolumes;
  struct mk_tmpfs *tmpfs;
  size_t ntmpfs;
  /* resources, in Docker's units; 0 = unset */
  long long memory, memory_swap, memory_reservation, nano_cpus, cpu_shares;
  long long pids_limit, blkio_weight;
  const char *cpuset_cpus;
  /* security */
  int privileged;
  int no_new_privs;    /* default on; --security-opt no-new-privileges=false */
  const char *seccomp; /* NULL: default profile; "unconfined"; a file */
  struct mk_strv cap_add, cap_drop;
  struct mk_strv security_opt; /* as given, for inspect */
  struct mk_strv devices;      /* --device specs as given */
  /* network */
  const char *network;    /* --network; NULL: the default bridge */
  struct mk_strv publish; /* -p specs, checked */
  struct mk_strv expose;  /* --expose, as "80/tcp" */
  struct mk_strv dns, add_host;
  int publish_all;
};

/* Parses argv (argv[0] is "run"). Errors read like Docker's:
 * "unknown flag: --foo". Sets o->help and returns 0 for --help. */
int mk_parse_run_args(int argc, char **argv, struct mk_run_opts *o,
                      mk_error_t *err);
void mk_run_opts_free(struct mk_run_opts *o);

/* -e KEY=VALUE sets; -e KEY copies the host's value, or is dropped. The
 * name is checked first (mk_validate_env_entry): "=x" is refused. */
int mk_env_parse(struct mk_strv *env, const char *entry, mk_error_t *err);

#define MK_ENV_FILE_MAX (1 << 20)

/* --env-file: KEY=VALUE or KEY lines (as mk_env_parse), leading blanks,
 * blank lines and # comments skipped. Only a regular file of at most
 * MK_ENV_FILE_MAX bytes is read: a device or FIFO is refused at once. */
int mk_env_read_file(struct mk_strv *env, const char *path, mk_error_t *err);

/* --add-host NAME:host-gateway: the address of the host on the
 * container's bridge network (its gateway), as Docker's. */
#define MK_HOST_GATEWAY "host-gateway"

#define MK_LOG_MAX_SIZE_DEFAULT (10LL << 20)

/* mk_parse_bytes without the message: -1 if refused. (Kept for the unit
 * suite's old callers; new code calls mk_parse_bytes.) */
long long mk_parse_size(const char *v);

/* One of run's resource flags ("memory", "cpus", "pids-limit", ...) for
 * `update`, with run's checks. */
int mk_parse_resource_option(struct mk_run_opts *o, const char *name,
                             const char *value, mk_error_t *err);

extern const char mk_run_usage[];
/* run's and create's flags, as mk_parse_run_args takes them. */
extern const struct mk_flag mk_run_flags[];

#endif
