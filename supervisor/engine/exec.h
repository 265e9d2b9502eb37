/* Running one more process in a running container: the engine's half of
 * `mocker exec` and of `mocker-runtime exec`.
 *
 * Everything read from the host (the container's state and security, its
 * cgroup, mocker-init itself, the host's /dev/null) is read by
 * mk_exec_prepare, before anything joins the container. mk_exec_spawn
 * then setns()es this process into all of the container's namespaces at
 * once and starts mocker-init in exec mode there with clone3; from that
 * moment this process touches no host path. */
#ifndef MK_ENGINE_EXEC_H
#define MK_ENGINE_EXEC_H

#include "container.h"
#include "launch.h"
#include "mk_proto.h"
#include "spawn.h"

/* What to run, in engine terms; the fronts fill it. */
struct mk_exec_spec {
  const char *const *argv; /* NULL-terminated */
  size_t argc;
  const char *const *env; /* the whole environment, NULL-terminated */
  size_t envc;
  const char *user;    /* -u form; NULL: the container's Config.User */
  const char *workdir; /* NULL: the container's Config.WorkingDir */
  /* MK_CFG_TTY, MK_CFG_STDIN, MK_CFG_EXEC_INPLACE, MK_CFG_NO_NEW_PRIVS,
   * MK_CFG_EXACT_GROUPS, MK_CFG_UMASK */
  uint32_t flags;
  uint16_t rows, cols; /* initial window size with a tty, 0 if unknown */
  uint64_t caps;       /* the exec keeps the container's caps & these */
  /* its own other sets (an OCI process), cut to the bounding set; else
   * the container's rules apply */
  int has_cap_sets;
  uint64_t cap_sets[MK_NCAPSETS];
  const uint32_t *groups;
  size_t ngroups;
  struct mk_rlimit *rlimits;
  size_t nrlimits;
  uint32_t umask; /* with MK_CFG_UMASK */
  int null_stdio; /* init and the command get the host's /dev/null */
  int outlive;    /* the command outlives this process: no PDEATHSIG */
};

/* The host-side handles of one exec; c is opened and closed by the
 * caller. */
struct mk_exec {
  const struct mk_container *c;
  int target_pidfd; /* the container's mocker-init, verified */
  int init_fd;      /* sealed copy of mocker-init */
  int devnull;      /* with null_stdio: the host's /dev/null */
  uint32_t ns_pid;  /* the init's pid in its own pid namespace */
  dev_t root_dev;   /* the container's root, as the host sees it */
  ino_t root_ino;
  struct mk_security sec; /* the workload's: an exec gets no more */
  struct mk_exec_join join;
};

void mk_exec_init(struct mk_exec *x);

/* Reads what the exec needs from the host. ESRCH: c is not running. */
int mk_exec_prepare(const struct mk_ctx *ctx, const struct mk_container *c,
                    const struct mk_exec_spec *s, struct mk_exec *x,
                    mk_error_t *err);

/* Joins the container and starts mocker-init in it, its config sent;
 * child gets its pid, pidfd and socket. Must be called with every signal
 * blocked (init inherits the mask and collects them). Irreversible: this
 * process stays in the container's namespaces. */
int mk_exec_spawn(struct mk_exec *x, const struct mk_exec_spec *s,
                  struct mk_spawned *child, mk_error_t *err);

void mk_exec_release(struct mk_exec *x);

#endif
