/* One cgroup per container, on cgroup v2, v1, or a hybrid of the two
 * (v1 controllers plus a controller-less cgroup2 tree, like this project's
 * CI host). Plain C with no JSON: mocker-monitor links it too.
 *
 *   v2:     /sys/fs/cgroup/mocker/<id>
 *   v1:     /sys/fs/cgroup/<controller>/mocker/<id>, for every controller
 *           mounted (co-mounted ones, e.g. cpu,cpuacct, share a dir)
 *
 * The container's processes enter it before the workload runs: with
 * CLONE_INTO_CGROUP on v2, or by the clone3 child writing itself into
 * every cgroup.procs on v1; the child then unshares its cgroup namespace,
 * so inside, /proc/self/cgroup reads "/". */
#ifndef MK_CGROUP_H
#define MK_CGROUP_H

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup_bpf.h"
#include "mk_error.h"

enum mk_cgroup_mode {
  MK_CGROUP_NONE = 0,
  MK_CGROUP_V1, /* controllers on v1 (hybrid hosts included) */
  MK_CGROUP_V2, /* the unified hierarchy */
};

#define MK_CGROUP_MAX_DIRS 12
/* A hierarchy's mount point and a cgroup path (at most 1024 bytes, see
 * mk_cgroup_locate_path): a struct of 12 PATH_MAX paths took 50 KB of
 * stack, in frames whose every page touched is a page fault. */
#define MK_CGROUP_PATH_MAX 1280

struct mk_cgroup {
  enum mk_cgroup_mode mode;
  size_t ndirs;
  char dirs[MK_CGROUP_MAX_DIRS][MK_CGROUP_PATH_MAX]; /* v2: one; v1: each */
  char names[MK_CGROUP_MAX_DIRS][64]; /* v1: the controllers there */
};

/* Limits in Docker's units; 0 (or "") means unset. */
struct mk_cgroup_limits {
  int64_t memory;             /* bytes */
  int64_t memory_swap;        /* memory + swap, bytes; -1 unlimited */
  int64_t memory_reservation; /* bytes */
  int64_t nano_cpus;          /* CPUs * 1e9 */
  int64_t cpu_shares;
  char cpuset_cpus[128];
  char cpuset_mems[128];
  int64_t cpu_quota, cpu_period; /* microseconds, as given; 0 unset */
  int64_t pids_limit; /* -1 unlimited */
  int64_t blkio_weight;
};

struct mk_cgroup_stats {
  uint64_t cpu_usage_ns;
  uint64_t memory_usage, memory_limit; /* limit: 0 when unlimited */
  uint64_t pids;
  uint64_t blk_read, blk_write;
};

/* The host's mode, from what is mounted at /sys/fs/cgroup. */
enum mk_cgroup_mode mk_cgroup_detect(void);

/* Finds the cgroup of container id (whether or not it exists yet). */
int mk_cgroup_locate(struct mk_cgroup *cg, const char *id, mk_error_t *err);

/* The cgroup at path (an OCI bundle's cgroupsPath, absolute below each
 * hierarchy's root; every component a plain name). */
int mk_cgroup_locate_path(struct mk_cgroup *cg, const char *path,
                          mk_error_t *err);

/* Creates it and its missing ancestors (mocker/ for a container's), with
 * controllers enabled along the way on v2. */
int mk_cgroup_create(struct mk_cgroup *cg, mk_error_t *err);

/* Writes the limits; a limit the host cannot enforce is an error that
 * names it. */
int mk_cgroup_apply(const struct mk_cgroup *cg,
                    const struct mk_cgroup_limits *l, mk_error_t *err);

/* Only the default devices (null, zero, full, random, urandom, tty,
 * console, ptmx, the ptys, tun), plus rules, may be opened; mknod of any
 * device is allowed (opening it is not). allow_all: --privileged. v1:
 * devices.deny/devices.allow; v2: a BPF_PROG_TYPE_CGROUP_DEVICE program. */
/* Whether the default rules already allow r (r's major and minor may be
 * -1 only where a default rule has a wildcard too). */
int mk_cgroup_default_allows(const struct mk_device_rule *r);

/* first: explicit rules (Docker's --device-cgroup-rule, an OCI bundle's
 * linux.resources.devices allows), written in their order before the
 * defaults (devices.list then starts with them, as a bundle expects);
 * rules: the --device nodes' access, after the defaults. */
int mk_cgroup_set_devices(const struct mk_cgroup *cg,
                          const struct mk_device_rule *first, size_t nfirst,
                          const struct mk_device_rule *rules, size_t n,
                          int allow_all, mk_error_t *err);

/* "TYPE MAJOR:MINOR ACCESS", Docker's --device-cgroup-rule: TYPE a, b or
 * c; MAJOR and MINOR a number or *; ACCESS some of r, w and m. */
int mk_device_rule_parse(const char *text, struct mk_device_rule *r,
                         mk_error_t *err);

/* The same rule as text, in that form (out: at least 64 bytes). */
void mk_device_rule_format(const struct mk_device_rule *r, char out[64]);

/* The file a single-threaded process writes "0" into to move itself in:
 * "tasks" on v1 (see cgroup.c: it avoids an RCU grace period),
 * "cgroup.procs" on v2. */
const char *mk_cgroup_enter_file(const struct mk_cgroup *cg);

/* Moves the calling process, which must be single-threaded, into the
 * cgroup (v1: every hierarchy). */
int mk_cgroup_enter(const struct mk_cgroup *cg, mk_error_t *err);

/* The same for another, single-threaded process: a child waiting in a
 * user namespace of its own, whose root may not write these files. */
int mk_cgroup_enter_pid(const struct mk_cgroup *cg, pid_t pid, mk_error_t *err);

/* v2: a directory fd of the cgroup for CLONE_INTO_CGROUP, else -1. */
int mk_cgroup_open_fd(const struct mk_cgroup *cg);

/* Freezes (frozen 1) or thaws the cgroup and waits until it is so:
 * cgroup.freeze on v2, the freezer controller on v1. */
int mk_cgroup_freeze(const struct mk_cgroup *cg, int frozen, mk_error_t *err);

/* sig to every member, while the cgroup is frozen when it can be (no
 * member can exit, fork, or have its pid reused meanwhile). Returns 1
 * when it was frozen. */
int mk_cgroup_signal_all(const struct mk_cgroup *cg, int sig);

/* SIGKILLs everything inside: cgroup.kill on v2, freezer + kill on v1. */
void mk_cgroup_kill(const struct mk_cgroup *cg);

/* Kills what is left and removes the directories. Missing is fine. */
int mk_cgroup_destroy(const struct mk_cgroup *cg, mk_error_t *err);

/* How many processes the OOM killer took in it. */
uint64_t mk_cgroup_oom_kills(const struct mk_cgroup *cg);

int mk_cgroup_read_stats(const struct mk_cgroup *cg,
                         struct mk_cgroup_stats *st);

/* The pids in the cgroup (host pids), at most max; their count. */
size_t mk_cgroup_pids(const struct mk_cgroup *cg, pid_t *pids, size_t max);

/* Whether the cgroup directory exists. */
int mk_cgroup_exists(const struct mk_cgroup *cg);

#endif
