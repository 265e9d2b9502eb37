/* mocker rm: remove containers, including ones whose supervisor was
 * killed and left their overlay mounted. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#include "commands.h"
#include "engine/container.h"
#include "base/flags.h"
#include "mk_exit.h"
#include "mk_util.h"
#include "engine/control.h"
#include "engine/volume.h"

static const char rm_usage[] =
    "Usage:  mocker rm [OPTIONS] CONTAINER [CONTAINER...]\n"
    "\n"
    "Remove one or more containers\n"
    "\n"
    "Options:\n"
    "  -f, --force     Force the removal of a running container (uses "
    "SIGKILL)\n"
    "  -v, --volumes   Remove anonymous volumes associated with the "
    "container\n"
    "      --help      Print usage\n";

static int remove_one(struct mk_ctx *ctx, const char *key, int force,
                      int volumes, mk_error_t *err)
{
  struct mk_container c;
  int rc = -1;

  if (mk_container_open(ctx, key, &c, err) < 0)
    return -1;
  if (mk_container_is_running(&c)) {
    if (!force) {
      mk_error_set(err, EBUSY,
                   "cannot remove container \"%s\": container is running: "
                   "stop the container before removing or force remove",
                   key);
      goto out;
    }
    if (mk_container_kill_and_wait(&c, SIGKILL, MK_STOP_DEADLINE_MS, err) < 0)
      goto out;
    if (access(c.dir, F_OK) < 0) { /* it was --rm: its monitor removed it */
      rc = 0;
      goto out;
    }
  }
  /* Hold the run lock while deleting: nothing can start it meanwhile. */
  if (mk_container_lock(&c, err) < 0) {
    mk_error_prefix(err, "remove container %s", key);
    goto out;
  }
  rc = mk_remove_container(ctx, &c, volumes, err);
out:
  mk_container_close(&c);
  return rc;
}

enum { RM_FORCE = 1, RM_VOLUMES, RM_HELP };

const struct mk_flag mk_rm_flags[] = {
    {"force", 'f', 0, RM_FORCE},
    {"volumes", 'v', 0, RM_VOLUMES},
    {"help", 0, 0, RM_HELP},
    {NULL, 0, 0, 0},
};

struct rm_opts {
  int force, volumes, help;
};

static int apply_rm_flag(void *data, int id, const char *value, mk_error_t *err)
{
  struct rm_opts *o = data;

  (void)value;
  (void)err;
  if (id == RM_FORCE)
    o->force = 1;
  else if (id == RM_VOLUMES)
    o->volumes = 1;
  else
    o->help = 1;
  return 0;
}

int mk_cmd_rm(struct mk_ctx *ctx, int argc, char **argv)
{
  struct rm_opts o = {0};
  mk_error_t err = {0};
  int status = 0;
  int i = mk_parse_flags(argc, argv, 1, mk_rm_flags, apply_rm_flag, &o, &err);

  if (i < 0) {
    mk_print_error(err.msg);
    fputs("See 'mocker rm --help'.\n", stderr);
    return MK_EXIT_MOCKER_FAILED;
  }
  if (o.help) {
    fputs(rm_usage, stdout);
    return 0;
  }
  if (i >= argc) {
    fputs("mocker: \"mocker rm\" requires at least 1 argument.\n"
          "See 'mocker rm --help'.\n",
          stderr);
    return MK_EXIT_MOCKER_FAILED;
  }
  for (; i < argc; i++) {
    err.msg[0] = '\0';
    if (remove_one(ctx, argv[i], o.force, o.volumes, &err) < 0) {
      mk_print_error(err.msg);
      status = 1;
      continue;
    }
    puts(argv[i]);
  }
  return status;
}
