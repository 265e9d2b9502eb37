#include "flags.h"

#include <stdio.h>

#include "mk_exit.h"

#include <errno.h>
#include <string.h>

static const struct mk_flag *find_long(const struct mk_flag *flags,
                                       const char *name, size_t len)
{
  for (; flags->name; flags++)
    if (strlen(flags->name) == len && strncmp(flags->name, name, len) == 0)
      return flags;
  return NULL;
}

static const struct mk_flag *find_short(const struct mk_flag *flags, char c)
{
  for (; flags->name; flags++)
    if (flags->shorthand == c)
      return flags;
  return NULL;
}

static int bool_value(const char *v, mk_error_t *err, const char *flag)
{
  if (!v || strcmp(v, "true") == 0)
    return 1;
  if (strcmp(v, "false") == 0)
    return 0;
  return mk_error_set(err, EINVAL,
                      "invalid argument \"%s\" for \"%s\" flag: expected "
                      "true or false",
                      v, flag);
}

/* "--name", "--name=value"; may consume the next argument. */
static int parse_long(int argc, char **argv, int *i,
                      const struct mk_flag *flags, mk_flag_apply_fn apply,
                      void *data, mk_error_t *err)
{
  const char *arg = argv[*i] + 2;
  const char *eq = strchr(arg, '=');
  size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
  const struct mk_flag *f = find_long(flags, arg, len);

  if (!f)
    return mk_error_set(err, EINVAL, "unknown flag: --%.*s", (int)len, arg);
  if (!f->takes_value) {
    int on = bool_value(eq ? eq + 1 : NULL, err, f->name);
    return on < 0 ? -1 : (on ? apply(data, f->id, NULL, err) : 0);
  }
  if (eq)
    return apply(data, f->id, eq + 1, err);
  if (*i + 1 >= argc)
    return mk_error_set(err, EINVAL, "flag needs an argument: --%s", f->name);
  return apply(data, f->id, argv[++*i], err);
}

/* "-it", "-eK=V", "-e K=V"; may consume the next argument. */
static int parse_short(int argc, char **argv, int *i,
                       const struct mk_flag *flags, mk_flag_apply_fn apply,
                       void *data, mk_error_t *err)
{
  const char *cluster = argv[*i] + 1;

  for (const char *c = cluster; *c; c++) {
    const struct mk_flag *f = find_short(flags, *c);
    if (!f)
      return mk_error_set(err, EINVAL, "unknown shorthand flag: '%c' in -%s",
                          *c, c);
    if (!f->takes_value) {
      if (apply(data, f->id, NULL, err) < 0)
        return -1;
      continue;
    }
    if (c[1])
      return apply(data, f->id, c[1] == '=' ? c + 2 : c + 1, err);
    if (*i + 1 >= argc)
      return mk_error_set(err, EINVAL, "flag needs an argument: '%c' in -%c",
                          *c, *c);
    return apply(data, f->id, argv[++*i], err);
  }
  return 0;
}

int mk_parse_flags(int argc, char **argv, int start,
                   const struct mk_flag *flags, mk_flag_apply_fn apply,
                   void *data, mk_error_t *err)
{
  int i;

  for (i = start; i < argc; i++) {
    const char *a = argv[i];
    int r;
    if (strcmp(a, "--") == 0)
      return i + 1;
    if (a[0] != '-' || a[1] == '\0')
      return i;
    if (a[1] == '-')
      r = parse_long(argc, argv, &i, flags, apply, data, err);
    else
      r = parse_short(argc, argv, &i, flags, apply, data, err);
    if (r < 0)
      return -1;
  }
  return i;
}

int mk_usage_error(const char *verb, const char *err_msg)
{
  if (err_msg)
    fprintf(stderr, "mocker: %s\n", err_msg);
  else
    fprintf(stderr, "mocker: \"mocker %s\" requires at least 1 argument.\n",
            verb);
  fprintf(stderr, "See 'mocker %s --help'.\n", verb);
  return MK_EXIT_MOCKER_FAILED;
}

int mk_parse_subcommand(int argc, char **argv, const struct mk_flag *flags,
                        mk_flag_apply_fn apply, void *data, const int *help,
                        const char *usage, const char *verb, int *status)
{
  mk_error_t err = {0};
  int i = mk_parse_flags(argc, argv, 1, flags, apply, data, &err);

  if (i < 0) {
    *status = mk_usage_error(verb, err.msg);
    return -1;
  }
  if (*help) {
    fputs(usage, stdout);
    *status = 0;
    return -1;
  }
  return i;
}

const struct mk_flag mk_help_flags[] = {{"help", 0, 0, 1}, {NULL, 0, 0, 0}};

int mk_help_apply(void *data, int id, const char *value, mk_error_t *err)
{
  (void)id, (void)value, (void)err;
  *(int *)data = 1;
  return 0;
}

const struct mk_command *mk_command_find(const struct mk_command *table,
                                         const char *name)
{
  for (; table->name; table++)
    if (strcmp(table->name, name) == 0 ||
        (table->alias[0] && strcmp(table->alias[0], name) == 0) ||
        (table->alias[1] && strcmp(table->alias[1], name) == 0))
      return table;
  return NULL;
}

static void print_flags(FILE *out, const char *path, const struct mk_flag *f)
{
  for (; f && f->name; f++) {
    if (f->shorthand)
      fprintf(out, "flag\t%s\t%c\t%s\t%d\n", path, f->shorthand, f->name,
              f->takes_value != 0);
    else
      fprintf(out, "flag\t%s\t-\t%s\t%d\n", path, f->name, f->takes_value != 0);
  }
}

static void print_commands(FILE *out, const char *parent,
                           const struct mk_command *c)
{
  char path[256];

  for (; c && c->name; c++) {
    if (!c->summary)
      continue;
    snprintf(path, sizeof(path), "%s%s%s", parent, *parent ? " " : "", c->name);
    fprintf(out, "command\t%s\t%s\n", path, c->summary);
    for (size_t i = 0; i < 2 && c->alias[i]; i++)
      fprintf(out, "alias\t%s\t%s\n", path, c->alias[i]);
    print_flags(out, path, c->flags);
    print_commands(out, path, c->subcommands);
  }
}

void mk_print_command_tree(FILE *out, const struct mk_flag *globals,
                           const struct mk_command *verbs)
{
  print_flags(out, "", globals);
  print_commands(out, "", verbs);
}
