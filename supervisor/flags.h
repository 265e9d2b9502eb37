/* Command-line flags parsed the way Docker's (pflag) are: exact long
 * names, "--name value" or "--name=value", short clusters ("-it",
 * "-eK=V"), "--" ends flags, and flags stop at the first argument that is
 * not one (the image, for run). Error texts match Docker's. */
#ifndef MK_FLAGS_H
#define MK_FLAGS_H

#include "mk_error.h"

struct mk_flag {
  const char *name; /* long name, without "--" */
  char shorthand;   /* 0 when none */
  int takes_value;
  int id;
};

typedef int (*mk_flag_apply_fn)(void *data, int id, const char *value,
                                mk_error_t *err);

/* Parses argv[start..]; returns the index of the first non-flag argument
 * (argc when none) or -1. Boolean flags get value NULL, or "true"/"false"
 * when written --flag=true. */
int mk_parse_flags(int argc, char **argv, int start,
                   const struct mk_flag *flags, mk_flag_apply_fn apply,
                   void *data, mk_error_t *err);

/* Reports a bad command line the way Docker does: err_msg, or (NULL)
 * "\"mocker VERB\" requires at least 1 argument.", then "See 'mocker VERB
 * --help'." Returns 125. */
int mk_usage_error(const char *verb, const char *err_msg);

/* A subcommand's flags (argv[0] is its name; verb, "volume create", names
 * it in messages). Returns the index of its first argument, or -1 with
 * *status: 0 once the usage is printed for --help (*help set by apply),
 * 125 after a bad flag. */
int mk_parse_subcommand(int argc, char **argv, const struct mk_flag *flags,
                        mk_flag_apply_fn apply, void *data, const int *help,
                        const char *usage, const char *verb, int *status);

#endif
