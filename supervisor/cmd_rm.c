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
#include "container.h"
#include "flags.h"
#include "mk_exit.h"
#include "mk_util.h"

static const char rm_usage[] =
    "Usage:  mocker rm [OPTIONS] CONTAINER [CONTAINER...]\n"
    "\n"
    "Remove one or more containers\n"
    "\n"
    "Options:\n"
    "  -f, --force   Force the removal of a running container (uses SIGKILL)\n"
    "      --help    Print usage\n";

#define STOP_DEADLINE_MS 10000

/* Kills the container's init (the kernel then kills everything in its
 * pid namespace) and waits for its supervisor to release the lock. */
static int force_stop(struct mk_container *c, mk_error_t *err)
{
  json_t *st = json_object_get(c->state, "State");
  int pid = (int)json_integer_value(json_object_get(st, "InitPid"));
  char path[64];
  struct timespec pause = {0, 10 * 1000 * 1000};

  if (pid > 0) {
    mk_snprintf(path, sizeof(path), "/proc/%d", pid);
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pidfd >= 0) {
      syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
      close(pidfd);
    }
  }
  for (int waited = 0; waited < STOP_DEADLINE_MS; waited += 10) {
    if (!mk_container_is_running(c))
      return 0;
    nanosleep(&pause, NULL);
  }
  return mk_error_set(err, EBUSY, "container %.12s did not stop", c->id);
}

static int remove_one(struct mk_ctx *ctx, const char *key, int force,
                      mk_error_t *err)
{
  struct mk_container c;

  if (mk_container_open(ctx, key, &c, err) < 0)
    return -1;
  if (mk_container_is_running(&c)) {
    if (!force) {
      mk_container_close(&c);
      return mk_error_set(err, EBUSY,
                          "cannot remove container \"%s\": container is "
                          "running: stop the container before removing or "
                          "force remove",
                          key);
    }
    if (force_stop(&c, err) < 0) {
      mk_container_close(&c);
      return -1;
    }
    if (access(c.dir, F_OK) < 0) {
      mk_container_close(&c); /* it was --rm: its supervisor removed it */
      return 0;
    }
  }
  if (mk_container_remove(ctx, &c, err) < 0) {
    mk_container_close(&c);
    return -1;
  }
  return 0;
}

enum { RM_FORCE = 1, RM_HELP };

static const struct mk_flag rm_flags[] = {
    {"force", 'f', 0, RM_FORCE},
    {"help", 0, 0, RM_HELP},
    {NULL, 0, 0, 0},
};

struct rm_opts {
  int force, help;
};

static int apply_rm_flag(void *data, int id, const char *value, mk_error_t *err)
{
  struct rm_opts *o = data;

  (void)value;
  (void)err;
  if (id == RM_FORCE)
    o->force = 1;
  else
    o->help = 1;
  return 0;
}

int mk_cmd_rm(struct mk_ctx *ctx, int argc, char **argv)
{
  struct rm_opts o = {0};
  mk_error_t err = {0};
  int status = 0;
  int i = mk_parse_flags(argc, argv, 1, rm_flags, apply_rm_flag, &o, &err);

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
    if (remove_one(ctx, argv[i], o.force, &err) < 0) {
      mk_print_error(err.msg);
      status = 1;
      continue;
    }
    puts(argv[i]);
  }
  return status;
}
