/* mocker rename: claims the new name atomically, then gives up the old
 * one; a running container keeps running. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "engine/container.h"
#include "mk_exit.h"
#include "base/validate.h"

static const char rename_usage[] = "Usage:  mocker rename CONTAINER NEW_NAME\n"
                                   "\n"
                                   "Rename a container\n";

/* Docker's checks and messages. The name is a value given on the command
 * line: refused before any container is looked up. */
static int check_new_name(const char *name, mk_error_t *err)
{
  const char *why = mk_container_name_problem(name);

  if (!*name)
    return mk_error_set(err, EINVAL, "Neither old nor new names may be empty");
  if (why)
    return mk_error_set(err, EINVAL, "Invalid container name (%s), %s", name,
                        why);
  return 0;
}

static int rename_container(struct mk_ctx *ctx, const char *key,
                            const char *new_name, mk_error_t *err)
{
  struct mk_container c;
  int rc = -1;

  if (mk_container_open(ctx, key, &c, err) < 0)
    goto out;
  if (!c.config) {
    mk_error_set(err, ENOENT, "No such container: %s", key);
    goto out;
  }
  if (strcmp(c.name, new_name) == 0) {
    mk_error_set(err, EINVAL,
                 "Renaming a container with the same name as its current "
                 "name");
    goto out;
  }
  rc = mk_container_rename(ctx, &c, new_name, err);
out:
  mk_container_close(&c);
  return rc;
}

int mk_cmd_rename(struct mk_ctx *ctx, int argc, char **argv)
{
  mk_error_t err = {0};
  const char *new_name;

  if (argc > 1 && strcmp(argv[1], "--help") == 0) {
    fputs(rename_usage, stdout);
    return 0;
  }
  if (argc != 3) {
    fprintf(stderr,
            "mocker: \"mocker %s\" requires exactly 2 arguments.\n"
            "See 'mocker %s --help'.\n",
            argv[0], argv[0]);
    return MK_EXIT_MOCKER_FAILED;
  }
  /* Docker accepts the "/name" form it prints */
  new_name = argv[2] + (argv[2][0] == '/');
  if (check_new_name(new_name, &err) < 0) {
    mk_print_error(err.msg);
    return MK_EXIT_MOCKER_FAILED;
  }
  if (rename_container(ctx, argv[1], new_name, &err) < 0) {
    mk_print_error(err.msg);
    return 1;
  }
  return 0;
}
