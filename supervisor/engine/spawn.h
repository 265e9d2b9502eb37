/* Starting mocker-init in fresh namespaces with clone3. */
#ifndef MK_SPAWN_H
#define MK_SPAWN_H

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

#include "isolation/cgroup.h"
#include "mk_error.h"

struct mk_spawned {
  pid_t pid;
  int pidfd; /* CLONE_PIDFD: waits and signals without pid reuse races */
  int sock;  /* our end of the SOCK_SEQPACKET socketpair */
};

/* Finds mocker-init: beside our own executable, then under
 * <prefix>/libexec/mocker (the compiled-in one, then the one relative to
 * our bin/), then $MOCKER_INIT. Returns an fd opened for exec. */
int mk_open_init_binary(char path_out[PATH_MAX], mk_error_t *err);

/* Runs in the child, inside the new namespaces, before init is exec'd. */
typedef int (*mk_spawn_prepare_fn)(void *data, mk_error_t *err);

/* Mounts the container's rootfs in its mount namespace. Without a user
 * namespace it runs in the child (userns_fd -1). With one it runs as
 * host root in a helper, while the child waits, before anything of the
 * container has run (mk_userns_setup_child): overlayfs then keeps the
 * host's credentials for its layers, and userns_fd (the container's)
 * idmaps them. */
typedef int (*mk_spawn_mount_fn)(void *data, int userns_fd, mk_error_t *err);

/* A user namespace's mappings: container ids [inside, inside+count) are
 * host ids [outside, outside+count). */
#define MK_MAX_IDMAPS 16
struct mk_idmap {
  uint32_t inside, outside, count;
};
struct mk_userns {
  uint32_t nuid, ngid; /* both 0: no user namespace of its own */
  struct mk_idmap uid[MK_MAX_IDMAPS], gid[MK_MAX_IDMAPS];
};

/* The host id of container id `id` in maps, or -1 if it is not mapped
 * (idmap.c). */
int64_t mk_idmap_host(const struct mk_idmap *maps, uint32_t n, uint32_t id);

/* What the child does before init: the rootfs, then the rest. */
struct mk_spawn_hooks {
  mk_spawn_mount_fn mount;     /* may be NULL */
  mk_spawn_prepare_fn prepare; /* may be NULL */
  void *data;
  /* NULL or empty: none. Else a new user namespace that owns every other
   * new one; the caller writes the maps while the child waits, moves it
   * into its v1 cgroups, and the child then becomes the mapped root. */
  const struct mk_userns *userns;
};

/* netns for mk_spawn_init: a new network namespace, the caller's (the
 * host's, for --network host), or an fd of one to join. */
#define MK_NETNS_NEW (-1)
#define MK_NETNS_HOST (-2)

/* cg (may be NULL): the container's cgroup, created; the child is born in
 * it on v2 (CLONE_INTO_CGROUP) and moves itself in on v1, then unshares
 * its cgroup namespace.
 * Must be called with all signals blocked: the child inherits the mask,
 * and init collects them in its signalfd. The child gets
 * PR_SET_PDEATHSIG(SIGKILL), so the container dies with the supervisor.
 * It makes its mount tree private, runs prepare (if any; a failure is
 * reported to the session like any init failure), then execs init. */
int mk_spawn_init(int init_fd, const struct mk_cgroup *cg, int netns,
                  const struct mk_spawn_hooks *hooks, struct mk_spawned *sp,
                  mk_error_t *err);

/* Which namespaces a container gets: each kind new, the caller's (the
 * host's), or one joined through an fd. */
enum mk_ns_kind {
  MK_NS_PID,
  MK_NS_MNT,
  MK_NS_UTS,
  MK_NS_IPC,
  MK_NS_NET,
  MK_NS_CGROUP,
  MK_NS_KINDS
};

struct mk_ns_plan {
  int fresh[MK_NS_KINDS]; /* 1: a new one */
  int join[MK_NS_KINDS];  /* an nsfs fd to setns into, else -1 */
  /* neither: the caller's; never for MK_NS_MNT */
};

/* The CLONE_NEW* flag of a kind. */
int mk_ns_flag(enum mk_ns_kind kind);

/* For an OCI runtime's create, which exits and leaves init to its caller
 * (a subreaper): no PR_SET_PDEATHSIG, and the namespaces as plan says. A
 * pid namespace to join is joined by this process (for its children),
 * the others by the child, the cgroup one after it entered cg. */
int mk_spawn_init_detached(int init_fd, const struct mk_cgroup *cg,
                           const struct mk_ns_plan *plan,
                           const struct mk_spawn_hooks *hooks,
                           struct mk_spawned *sp, mk_error_t *err);

/* For exec: how the child joins the container's cgroup. The caller has
 * joined every other namespace; the child writes itself into each
 * cgroup.procs fd (opened on the host), then joins the cgroup namespace
 * of cgroupns_fd: in that order, because from inside a cgroup namespace a
 * process cannot move in from outside it. */
struct mk_exec_join {
  int procs_fds[MK_CGROUP_MAX_DIRS]; /* v1: each hierarchy's "tasks" */
  size_t nfds;
  int cgroup_dirfd; /* v2: for CLONE_INTO_CGROUP, else -1 */
  /* the container's cgroup namespace, opened on the host: an nsfs fd,
   * not the init's pidfd, whose setns would need ptrace access to init,
   * which a user namespace's root does not have (docs/userns.md) */
  int cgroupns_fd;
  int userns; /* the caller joined the container's user namespace */
};

/* Starts mocker-init in the caller's namespaces (which the caller has
 * joined with setns, for exec): no new namespaces, no remount. outlive:
 * no PR_SET_PDEATHSIG (an OCI exec, whose caller reaps the command).
 * In a joined user namespace the child becomes its root before init. */
int mk_spawn_exec_init(int init_fd, const struct mk_exec_join *join,
                       int outlive, struct mk_spawned *sp, mk_error_t *err);

/* A sealed, close-on-exec memfd copy of the binary open at fd
 * (CVE-2019-5736: nothing in the container can write through
 * /proc/<pid>/exe to a host file). */
int mk_seal_binary(int fd, const char *name, mk_error_t *err);

/* mk_open_init_binary, sealed. */
int mk_open_init_sealed(mk_error_t *err);

/* (idmap.c) For spawn: the child (pid, pidfd) waits in its new user
 * namespace. Writes its uid and gid maps, moves it into its v1 cgroups,
 * and runs h->mount as host root in a forked helper, which clones the
 * layers idmapped into the child's user namespace in the host's mount
 * namespace, then builds the rootfs in the child's (overlay.h). */
int mk_userns_setup_child(pid_t pid, int pidfd, const struct mk_cgroup *cg,
                          const struct mk_spawn_hooks *h, mk_error_t *err);

#endif
