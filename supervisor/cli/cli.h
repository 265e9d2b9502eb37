/* Parsing `mocker run` options, Docker's names and semantics. */
#ifndef MK_CLI_H
#define MK_CLI_H

#include <stddef.h>

#include "engine/spec.h"
#include "base/flags.h"
#include "mk_error.h"
#include "base/strv.h"
#include "base/validate.h"

/* run's and create's flags: the engine's spec, and what only the CLI
 * reads. */
struct mk_run_opts {
  struct mk_spec spec;
  int interactive, detach, help;
  const char *verb;        /* "run" or "create", for messages */
  struct mk_strv env_file; /* only while parsing */
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

/* mk_parse_bytes without the message: -1 if refused. (Kept for the unit
 * suite's old callers; new code calls mk_parse_bytes.) */
long long mk_parse_size(const char *v);

/* One of run's resource flags ("memory", "cpus", "pids-limit", ...) for
 * `update`, with run's checks. */
int mk_parse_resource_option(struct mk_spec_resources *r, const char *name,
                             const char *value, mk_error_t *err);

extern const char mk_run_usage[];
/* run's and create's flags, as mk_parse_run_args takes them. */
extern const struct mk_flag mk_run_flags[];

#endif
