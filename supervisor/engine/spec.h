/* What the engine is asked to create: one container, in the engine's
 * terms. Each front fills one: today the Docker CLI, from run's and
 * create's flags (cli/cli.c); next the OCI runtime CLI, from a bundle's
 * config.json (issue 17).
 * A front checks every value where it enters (base/validate.h); the
 * engine trusts a spec's form, never the image's config, which it checks
 * itself at create. Unset means the image's value or the default. */
#ifndef MK_SPEC_H
#define MK_SPEC_H

#include <jansson.h>
#include <stddef.h>

#include "base/strv.h"
#include "mk_error.h"
#include "mk_proto.h"
#include "spawn.h"
#include "net/portspec.h"

enum mk_pull_policy { MK_PULL_MISSING, MK_PULL_ALWAYS, MK_PULL_NEVER };

/* A volume is a bind of a directory the engine owns, made at create. */
enum mk_spec_mount_kind {
  MK_SPEC_BIND,
  MK_SPEC_VOLUME,
  MK_SPEC_TMPFS,
  MK_SPEC_FS, /* an OCI bundle's proc, sysfs, mqueue, devpts, cgroup... */
};

struct mk_mount_spec {
  enum mk_spec_mount_kind kind;
  char *source;   /* bind: an absolute host path; volume: its name; fs: the
                     device name the bundle gives ("proc", "shm") */
  char *target;   /* an absolute container path, checked */
  int read_only;  /* for tmpfs the same as MK_MNT_RDONLY in flags */
  unsigned flags; /* MK_MNT_* (mk_proto.h) */
  char *data;     /* tmpfs, fs: the options the filesystem reads */
  char *fstype;   /* fs: its type */
  unsigned propagation; /* MK_PROP_*, applied once mounted; 0: private */
};

/* A host device node, looked up when the container is created. */
struct mk_device_spec {
  char *host;      /* absolute host path; NULL: a node from the numbers */
  char *container; /* its path in the container, checked */
  char *perms;     /* cgroup permissions: some of "rwm"; "" none (an OCI
                      bundle's linux.resources.devices decide) */
  /* without host (an OCI bundle's linux.devices): */
  char type; /* 'c', 'b' or 'p' */
  unsigned major, minor, mode, uid, gid;
};

/* A process resource limit (Docker's --ulimit, OCI's rlimits). */
struct mk_ulimit {
  int resource; /* RLIMIT_* */
  unsigned long long soft, hard;
};

/* Resource limits in Docker's units (HostConfig's); 0 is unset. For an
 * update, a mask of MK_RES_* says which fields are given. */
struct mk_spec_resources {
  long long memory, memory_swap, memory_reservation; /* bytes; swap -1: no
                                                        limit */
  long long nano_cpus, cpu_shares, pids_limit, blkio_weight;
  const char *cpuset_cpus; /* "0-3,5", checked; NULL: unset */
  /* CFS quota and period in microseconds, as given (an OCI bundle's;
   * nano_cpus is Docker's --cpus, over a fixed period) */
  long long cpu_quota, cpu_period;
  const char *cpuset_mems; /* memory nodes, "0-1"; NULL: unset */
};

enum mk_resource_bit {
  MK_RES_MEMORY = 1u << 0,
  MK_RES_MEMORY_SWAP = 1u << 1,
  MK_RES_MEMORY_RESERVATION = 1u << 2,
  MK_RES_NANO_CPUS = 1u << 3,
  MK_RES_CPU_SHARES = 1u << 4,
  MK_RES_CPUSET_CPUS = 1u << 5,
  MK_RES_PIDS_LIMIT = 1u << 6,
  MK_RES_BLKIO_WEIGHT = 1u << 7,
  MK_RES_CPU_QUOTA = 1u << 8,
  MK_RES_CPU_PERIOD = 1u << 9,
  MK_RES_CPUSET_MEMS = 1u << 10,
};

enum mk_seccomp_mode {
  MK_SECCOMP_DEFAULT,    /* the built-in profile, Docker's */
  MK_SECCOMP_UNCONFINED, /* no filter */
  MK_SECCOMP_FILE,       /* seccomp_profile names a JSON profile */
};

struct mk_spec {
  const char *image; /* a reference, or an image id; NULL with rootfs */
  enum mk_pull_policy pull;
  /* An OCI bundle instead of an image: rootfs is the host directory the
   * container runs in (bind-mounted, not copied), bundle the bundle's
   * directory. The process is then exactly as given: args (in cmd), env,
   * workdir and user, with nothing of an image's or Docker's defaults
   * added, and no /etc files written or bound in. */
  const char *rootfs, *bundle;
  json_t *annotations;  /* the bundle's, kept for `state` (borrowed) */
  json_t *hooks;        /* the bundle's, kept for start and delete (borrowed) */
  const char *name;     /* NULL: a generated one */
  const char *hostname; /* NULL: from the network mode, or the short id */
  const char *domainname; /* NULL: none (Config.Domainname) */
  /* an OCI bundle's linux.rootfsPropagation ("rshared", ...); NULL:
   * private */
  const char *rootfs_propagation;
  /* each namespace but the network's (which follows network, unless
   * joined): NULL or "" a new one, "host" the caller's, "ns:PATH" the one
   * to join (engine/namespaces.h) */
  const char *ns_modes[MK_NS_KINDS];
  /* the user namespace: NULL the default (config.json's "userns-remap"),
   * "host" none, "remap" the remap user's subordinate ids (userns.h);
   * idmaps, an OCI bundle's exact maps, override it */
  const char *userns_mode;
  const struct mk_userns *idmaps;

  /* the process: each unset field takes the image's */
  const char *entrypoint; /* "" clears the image's (and its Cmd) */
  struct mk_strv cmd;     /* replaces the image's Cmd */
  struct mk_strv env;     /* KEY=VALUE, set over the image's */
  const char *workdir, *user;
  struct mk_strv groups; /* supplementary gids, as numbers (GroupAdd) */
  int umask;             /* -1: inherited (0022) */
  int has_oom_score_adj; /* HostConfig.OomScoreAdj */
  int oom_score_adj;
  int has_personality; /* HostConfig.Personality: a personality(2) value */
  unsigned long personality;
  int tty, open_stdin, attach_stdin;

  /* life */
  const char *stop_signal; /* NULL: the image's, else SIGTERM */
  int stop_timeout;        /* seconds; -1: the default */
  int auto_remove;
  long long log_max_size; /* bytes before the log rotates */

  /* filesystem */
  int read_only_rootfs;
  struct mk_mount_spec *mounts;
  size_t nmounts;

  struct mk_spec_resources resources;
  const char *cgroup_path; /* NULL: mocker/<id> in each hierarchy */
  struct mk_strv sysctls;  /* "key=value", namespaced ones (HostConfig) */
  /* paths masked or made read-only beyond Docker's lists (absolute) */
  struct mk_strv masked_paths, readonly_paths;
  struct mk_ulimit *ulimits;
  size_t nulimits;

  /* security */
  int privileged, no_new_privileges;
  enum mk_seccomp_mode seccomp;
  const char *seccomp_profile; /* MK_SECCOMP_FILE: the host file */
  struct mk_strv cap_add, cap_drop;
  /* an OCI process's exact sets besides the bounding one (MK_CAPSET_*
   * masks); has_cap_sets 0: Docker's rules (root gets the bounding set,
   * another user nothing) */
  int has_cap_sets;
  uint64_t cap_sets[MK_NCAPSETS];
  struct mk_strv security_opt; /* as the user gave them, for inspect */
  struct mk_device_spec *devices;
  size_t ndevices;
  /* device cgroup rules, "c 10:229 rwm" (checked), allowed before the
   * defaults (HostConfig.DeviceCgroupRules, Docker's) */
  struct mk_strv device_cgroup_rules;

  /* network */
  const char *network;        /* NULL: the default bridge; "none", "host",
                                 "container:<key>" or a network's name */
  struct mk_port_spec *ports; /* published ports */
  size_t nports;
  int publish_all;
  struct mk_strv expose;      /* "80/tcp" */
  struct mk_strv dns;         /* server addresses */
  struct mk_strv extra_hosts; /* "name:address" or "name:host-gateway" */
};

/* --add-host NAME:host-gateway: the address of the host on the
 * container's bridge network (its gateway), as Docker's. */
#define MK_HOST_GATEWAY "host-gateway"

#define MK_LOG_MAX_SIZE_DEFAULT (10LL << 20)

/* The defaults a spec starts from: stop timeout and log size as Docker's,
 * no_new_privileges on. */
void mk_spec_init(struct mk_spec *s);
void mk_spec_free(struct mk_spec *s);

/* Appends a copy of m / p / d (the spec owns the copies). */
int mk_spec_add_mount(struct mk_spec *s, const struct mk_mount_spec *m,
                      mk_error_t *err);
int mk_spec_add_port(struct mk_spec *s, const struct mk_port_spec *p,
                     mk_error_t *err);
int mk_spec_add_device(struct mk_spec *s, const struct mk_device_spec *d,
                       mk_error_t *err);
int mk_spec_add_ulimit(struct mk_spec *s, const struct mk_ulimit *u,
                       mk_error_t *err);

#endif
