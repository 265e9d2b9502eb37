/* mocker rename: claims the new name atomically, then gives up the old
 * one; a running container keeps running. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "container.h"
#include "mk_exit.h"

static const char rename_usage[] = "Usage:  mocker rename CONTAINER NEW_NAME\n"
                                   "\n"
                                   "Rename a container\n";

/* Docker's checks and messages. */
static int check_new_name(const struct mk_container *c, const char *name,
                          mk_error_t *err)
{
  if (!*name)
    return mk_error_set(err, EINVAL, "Neither old nor new names may be empty");
  if (!mk_valid_container_name(name))
    return mk_error_set(err, EINVAL,
                        "Invalid container name (%s), only "
                        "[a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
                        name);
  if (strcmp(c->name, name) == 0)
    return mk_error_set(err, EINVAL,
                        "Renaming a container with the same name as its "
                        "current name");
  return 0;
}

static int rename_container(struct mk_ctx *ctx, const char *key,
                            const char *new_name, mk_error_t *err)
{
  struct mk_container c;
  int rc = -1;

  if (*new_name == '/') /* Docker accepts the "/name" form it prints */
    new_name++;
  if (mk_container_open(ctx, key, &c, err) < 0)
    goto out;
  if (!c.config) {
    mk_error_set(err, ENOENT, "No such container: %s", key);
    goto out;
  }
  if (check_new_name(&c, new_name, err) < 0)
    goto out;
  rc = mk_container_rename(ctx, &c, new_name, err);
out:
  mk_container_close(&c);
  return rc;
}

int mk_cmd_rename(struct mk_ctx *ctx, int argc, char **argv)
{
  mk_error_t err = {0};

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
  if (rename_container(ctx, argv[1], argv[2], &err) < 0) {
    mk_print_error(err.msg);
    return 1;
  }
  return 0;
}
