/* Command-line flags parsed the way Docker's (pflag) are: exact long
 * names, "--name value" or "--name=value", short clusters ("-it",
 * "-eK=V"), "--" ends flags, and flags stop at the first argument that is
 * not one (the image, for run). Error texts match Docker's. */
#ifndef MK_FLAGS_H
#define MK_FLAGS_H

#include <stdio.h>

#include "mk_error.h"

struct mk_ctx;

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

/* The table of a command that takes no flag but --help, with its apply
 * function (data is an int set to 1). Verbs that look for "--help"
 * themselves name it too, so that their one flag is completed. */
extern const struct mk_flag mk_help_flags[];
int mk_help_apply(void *data, int id, const char *value, mk_error_t *err);

/* A verb or a subcommand: what dispatches it and the flag table its
 * parser uses. The same tables drive dispatch, the list in `--help` and
 * `mocker __flags`, from which the shell completions and the man pages
 * are generated at build time: a flag the parser takes is completed. */
struct mk_command {
  const char *name;
  const char *alias[2]; /* other names that dispatch here, or NULL */
  int (*fn)(struct mk_ctx *ctx, int argc, char **argv);
  const char *summary;         /* NULL: internal, never listed or completed */
  const struct mk_flag *flags; /* NULL: parses none itself */
  const struct mk_command *subcommands; /* or NULL */
};

/* The entry of table (ended by a NULL name) called name or one of its
 * aliases, or NULL. */
const struct mk_command *mk_command_find(const struct mk_command *table,
                                         const char *name);

/* Writes the command tree for the completion and man page generators
 * (packaging/), one tab-separated record a line:
 *   command PATH SUMMARY       ("run", "volume create")
 *   alias   PATH NAME
 *   flag    PATH SHORT LONG ARG  (SHORT "-" for none, ARG 1 if it takes
 *                                 a value; PATH "" for the global flags)
 * Internal commands are left out. */
void mk_print_command_tree(FILE *out, const struct mk_flag *globals,
                           const struct mk_command *verbs);

#endif
