/* Wire protocol between the supervisor and mocker-init.
 *
 * One SOCK_SEQPACKET socketpair; every packet is a fixed header followed by
 * a length-checked payload. The supervisor sends MK_MSG_CONFIG once; init
 * answers with MK_MSG_PTY_MASTER (with -t, the fd rides along in
 * SCM_RIGHTS), then exactly one of MK_MSG_STARTED or MK_MSG_ERROR. */
#ifndef MK_PROTO_H
#define MK_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "mk_error.h"
#include "mk_hook.h"

#define MK_PROTO_VERSION 7
#define MK_MSG_MAX (128 * 1024) /* payload cap; fits the default sndbuf */
#define MK_MAX_ARGS 4096
#define MK_MAX_ENV 4096
#define MK_MAX_MOUNTS 128
#define MK_MAX_DEVICES 256
#define MK_MAX_SECCOMP_BYTES (32 * 1024) /* BPF_MAXINSNS (4096) * 8 */
#define MK_MAX_RLIMITS 16                /* RLIM_NLIMITS */
#define MK_MAX_EXTRA_GROUPS 64
#define MK_MAX_SYSCTLS 64
#define MK_MAX_EXTRA_PATHS 64
#define MK_INIT_SOCK_FD 3     /* where the supervisor puts init's end */
#define MK_MAX_HOOKS 32       /* createContainer and startContainer hooks */
#define MK_MAX_HOOK_STRV 1024 /* their argv and env entries, NULLs included */
#define MK_MAX_MSG_FDS 2      /* fds one packet carries */

enum mk_msg_type {
  MK_MSG_CONFIG = 1,
  MK_MSG_PTY_MASTER = 2,
  MK_MSG_STARTED = 3,
  MK_MSG_ERROR = 4,
  MK_MSG_LAYERS = 5, /* mocker -> monitor: GraphDriver LowerDir, NUL-ended */
  MK_MSG_CGROUP = 6, /* mocker -> monitor: struct mk_cgroup, same build */
  /* --network container:X, mocker -> monitor: X's netns fd, to join */
  MK_MSG_NETNS = 7,
  /* bridge networking, monitor -> mocker: init's pidfd, init waiting for
   * its config; mocker wires the network up, sends each published port's
   * socket (MK_MSG_HOLD, held by the monitor until the container exits),
   * then MK_MSG_NET_READY, or closes the socket on failure */
  MK_MSG_SPAWNED = 8,
  MK_MSG_HOLD = 9,
  MK_MSG_NET_READY = 10,
  /* init -> supervisor, with MK_CFG_HOLD: the container is built and init
   * waits, in the open of the fifo it was given, for `start` to read */
  MK_MSG_CREATED = 11,
  /* a container with a user namespace, mocker -> monitor: its struct
   * mk_userns (same build), after MK_MSG_CGROUP */
  MK_MSG_USERNS = 12,
};

struct mk_msg_hdr {
  uint32_t type;
  uint32_t len; /* payload bytes that follow */
};

/* Why init gave up; decides the exit status the user sees. */
enum mk_fail_kind {
  MK_FAIL_SETUP = 1, /* 125: mocker could not build the container */
  MK_FAIL_EXEC = 2,  /* 126/127, chosen from errno */
};

struct mk_msg_error {
  int32_t errnum;
  uint32_t kind;
  /* followed by a NUL-terminated message */
};

struct mk_msg_started {
  int32_t pid; /* workload pid as seen inside the container */
};

enum mk_config_flags {
  MK_CFG_TTY = 1u << 0,
  MK_CFG_STDIN = 1u << 1,
  MK_CFG_READONLY = 1u << 2,
  MK_CFG_EXEC = 1u << 3,         /* join a running container: no rootfs setup */
  MK_CFG_NO_NEW_PRIVS = 1u << 4, /* prctl(PR_SET_NO_NEW_PRIVS) */
  MK_CFG_PRIVILEGED = 1u << 5,   /* no masked paths, /sys read-write */
  MK_CFG_CGROUP_V1 = 1u << 6,    /* mount /sys/fs/cgroup: v1 hierarchies */
  MK_CFG_CGROUP_V2 = 1u << 7,    /* mount /sys/fs/cgroup: cgroup2 */
  /* OCI create: the config message carries a fifo's fd (read-write);
   * once the container is built init says MK_MSG_CREATED and waits until
   * `start` writes a byte into it, or a signal ends the container. A
   * second fifo (read-write) rides along: once started, init writes
   * there what it would have sent on the socket, MK_MSG_STARTED or
   * MK_MSG_ERROR (see mk_msg_send), for `start` to read */
  MK_CFG_HOLD = 1u << 8,
  /* the groups listed are the workload's only supplementary groups (an
   * OCI bundle's additionalGids); without it they are added to those
   * /etc/group gives the user */
  MK_CFG_EXACT_GROUPS = 1u << 9,
  MK_CFG_UMASK = 1u << 10, /* set the workload's umask to cfg->umask */
  /* with MK_CFG_EXEC (an OCI exec): init becomes the command itself, so
   * the command is the caller's child and outlives it under the caller's
   * subreaper. A pty master is sent first; then init's failure arrives as
   * MK_MSG_ERROR, and the socket's close-on-exec EOF means the command
   * runs. */
  MK_CFG_EXEC_INPLACE = 1u << 11,
  /* an OCI process's exact capability sets: cfg->cap_sets, applied
   * around the switch to the user (see init/workload.c); without it
   * root gets cfg->caps as effective and permitted, others none */
  MK_CFG_CAP_SETS = 1u << 12,
  /* an OCI bundle: init makes exactly cfg->mounts, in order (proc, sysfs,
   * /dev and the rest are among them), instead of its standard set */
  MK_CFG_BUNDLE_MOUNTS = 1u << 13,
  /* linux.rootfsPropagation: the container's / after pivot_root, made
   * shared, slave or unbindable (recursively); else it stays private */
  MK_CFG_ROOT_SHARED = 1u << 14,
  MK_CFG_ROOT_SLAVE = 1u << 15,
  MK_CFG_ROOT_UNBINDABLE = 1u << 16,
  /* a user namespace of the container's own: init arrives still holding
   * the caller's host uid 0, opens the rootfs and every bind source (host
   * paths, before anything of the container runs), then becomes the
   * namespace's root before it creates or resolves anything inside */
  MK_CFG_USERNS = 1u << 17,
};

/* The capability sets beyond the bounding one (cfg->caps), indexes of
 * cfg->cap_sets. */
enum mk_capset {
  MK_CAPSET_EFFECTIVE,
  MK_CAPSET_PERMITTED,
  MK_CAPSET_INHERITABLE,
  MK_CAPSET_AMBIENT,
  MK_NCAPSETS
};

/* A device node to create in the container (--device, an OCI bundle's
 * linux.devices). */
struct mk_device {
  uint32_t type; /* 'c', 'b', or 'p' (a fifo) */
  uint32_t major, minor;
  uint32_t mode;     /* permission bits */
  uint32_t uid, gid; /* its owner */
  const char *path;  /* absolute, inside the container */
};

enum mk_mount_kind {
  MK_MOUNT_BIND = 1,  /* source is a host path, opened before pivot_root */
  MK_MOUNT_TMPFS = 2, /* data holds tmpfs options */
  MK_MOUNT_FS = 3,    /* a filesystem of type fstype (proc, sysfs, mqueue,
                         devpts, tmpfs, cgroup, cgroup2) */
};

/* The mount(2) flags a mount may carry, with the kernel's values. */
enum mk_mount_flags {
  MK_MNT_RDONLY = 1u << 0,       /* MS_RDONLY */
  MK_MNT_NOSUID = 1u << 1,       /* MS_NOSUID */
  MK_MNT_NODEV = 1u << 2,        /* MS_NODEV */
  MK_MNT_NOEXEC = 1u << 3,       /* MS_NOEXEC */
  MK_MNT_SYNC = 1u << 4,         /* MS_SYNCHRONOUS */
  MK_MNT_DIRSYNC = 1u << 7,      /* MS_DIRSYNC */
  MK_MNT_NOATIME = 1u << 10,     /* MS_NOATIME */
  MK_MNT_NODIRATIME = 1u << 11,  /* MS_NODIRATIME */
  MK_MNT_REC = 1u << 14,         /* MS_REC: a bind takes the mounts below */
  MK_MNT_RELATIME = 1u << 21,    /* MS_RELATIME */
  MK_MNT_STRICTATIME = 1u << 24, /* MS_STRICTATIME */
};
#define MK_MNT_ALL_FLAGS                                                       \
  (MK_MNT_RDONLY | MK_MNT_NOSUID | MK_MNT_NODEV | MK_MNT_NOEXEC |              \
   MK_MNT_SYNC | MK_MNT_DIRSYNC | MK_MNT_NOATIME | MK_MNT_NODIRATIME |         \
   MK_MNT_REC | MK_MNT_RELATIME | MK_MNT_STRICTATIME)

/* A mount's propagation, applied once it is made: the kernel's values. */
enum mk_mount_propagation {
  MK_PROP_REC = 1u << 14,        /* MS_REC */
  MK_PROP_UNBINDABLE = 1u << 17, /* MS_UNBINDABLE */
  MK_PROP_PRIVATE = 1u << 18,    /* MS_PRIVATE */
  MK_PROP_SLAVE = 1u << 19,      /* MS_SLAVE */
  MK_PROP_SHARED = 1u << 20,     /* MS_SHARED */
};

/* A resource limit the workload gets (setrlimit before exec). */
struct mk_rlimit {
  uint32_t resource; /* RLIMIT_* */
  uint64_t soft, hard;
};

struct mk_mount {
  uint32_t kind;
  uint32_t flags; /* MK_MNT_* */
  const char *source;
  const char *target; /* absolute path inside the container */
  const char *data;   /* filesystem options, "" when none */
  const char *fstype; /* MK_MOUNT_FS: the type; else "" (or NULL) */
  uint32_t propagation; /* MK_PROP_*: one mode, maybe with MK_PROP_REC */
};

struct mk_config {
  uint32_t flags;
  uint16_t rows, cols; /* initial window size with -t, 0 if unknown */
  const char *rootfs;  /* host path of the mounted rootfs */
  const char *hostname;
  const char *workdir; /* "" for "/" */
  const char *user;    /* -u spec: "" for root, "name", "uid", "u:g" */
  size_t argc;
  const char **argv; /* NULL-terminated */
  size_t envc;
  const char **env; /* NULL-terminated */
  size_t nmounts;
  struct mk_mount *mounts;
  /* Capabilities the workload keeps (bounding set; also permitted and
   * effective for root). Inheritable and ambient are always empty. */
  uint64_t caps;
  uint64_t cap_sets[MK_NCAPSETS]; /* with MK_CFG_CAP_SETS */
  const uint8_t *seccomp; /* struct sock_filter[], NULL: unconfined */
  size_t seccomp_len;     /* bytes, a multiple of 8 */
  size_t ndevices;
  struct mk_device *devices;
  size_t nrlimits;
  struct mk_rlimit *rlimits;
  size_t ngroups; /* supplementary gids (see MK_CFG_EXACT_GROUPS) */
  uint32_t *groups;
  size_t nsysctls; /* "net.ipv4.ip_forward=1": namespaced ones only */
  const char **sysctls;
  /* masked and read-only paths beyond mk_masked.h's (absolute) */
  size_t nmasked, nreadonly;
  const char **masked, **readonly;
  uint32_t umask; /* with MK_CFG_UMASK */
  /* exec: the container's init as its pid namespace numbers it (1, or
   * another number in a pid namespace shared with others, a CRI pod's):
   * the exec checks its root against that process's; 0 means 1 */
  uint32_t target_pid;
  /* OCI hooks init runs (createContainer, startContainer), in order, and
   * the state document each kind gets on stdin (indexed by kind; every
   * kind with a hook has one) */
  size_t nhooks;
  const struct mk_hook *hooks;
  const char *hook_state[MK_HOOK_KINDS];
};

/* Caller-owned arrays a decoded config points into; init keeps one in
 * static storage so nothing is allocated after the workload starts. */
struct mk_config_storage {
  const char *argv[MK_MAX_ARGS + 1];
  const char *env[MK_MAX_ENV + 1];
  struct mk_mount mounts[MK_MAX_MOUNTS];
  struct mk_device devices[MK_MAX_DEVICES];
  struct mk_rlimit rlimits[MK_MAX_RLIMITS];
  uint32_t groups[MK_MAX_EXTRA_GROUPS];
  const char *sysctls[MK_MAX_SYSCTLS];
  const char *masked[MK_MAX_EXTRA_PATHS], *readonly[MK_MAX_EXTRA_PATHS];
  struct mk_hook hooks[MK_MAX_HOOKS];
  const char *hook_strv[MK_MAX_HOOK_STRV]; /* the hooks' argv and env */
};

/* Whether "key=value" is a sysctl a container may set (namespaced). */
int mk_sysctl_is_namespaced(const char *entry);

/* Serialises cfg into buf; *len receives the byte count. */
int mk_config_encode(const struct mk_config *cfg, uint8_t *buf, size_t cap,
                     size_t *len, mk_error_t *err);

/* Parses and validates buf (which must outlive cfg: strings point into it). */
int mk_config_decode(const uint8_t *buf, size_t len, struct mk_config *cfg,
                     struct mk_config_storage *st, mk_error_t *err);

/* Sends one packet; fd_to_pass < 0 sends no fd. On a pipe or fifo
 * (ENOTSOCK) a packet without an fd is written with one write(), whole
 * as long as it is at most PIPE_BUF bytes (MK_MSG_STARTED and
 * MK_MSG_ERROR always are): how init reports to `start` (MK_CFG_HOLD). */
int mk_msg_send(int sock, uint32_t type, const void *payload, size_t len,
                int fd_to_pass, mk_error_t *err);

/* Receives one packet into buf (cap bytes). Returns the payload length,
 * 0 with *type == 0 on EOF, or -1. A passed fd (close-on-exec) lands in
 * *fd_out, else -1. Oversized, truncated or malformed packets are errors.
 * On a pipe or fifo it reads one packet mk_msg_send wrote there. */
int mk_msg_recv(int sock, uint32_t *type, void *buf, size_t cap, int *fd_out,
                mk_error_t *err);

/* Sends MK_MSG_ERROR carrying e; best effort. */
void mk_msg_send_error(int sock, enum mk_fail_kind kind, const mk_error_t *e);

/* Decodes an MK_MSG_ERROR payload into kind and e. */
int mk_msg_decode_error(const void *buf, size_t len, uint32_t *kind,
                        mk_error_t *e, mk_error_t *err);

/* mk_msg_send and mk_msg_recv with up to MK_MAX_MSG_FDS fds: nfds of
 * them sent; received into fds[0..max) (close-on-exec, *nfds set, the
 * rest -1), any beyond max closed. */
int mk_msg_send_fds(int sock, uint32_t type, const void *payload, size_t len,
                    const int *fds, size_t nfds, mk_error_t *err);
int mk_msg_recv_fds(int sock, uint32_t *type, void *buf, size_t cap, int *fds,
                    size_t max, size_t *nfds, mk_error_t *err);

/* Appends cfg's hooks and their state documents to a config encoded in
 * buf (*len bytes, cap in all), as mk_config_encode writes them: for a
 * caller that encoded the rest elsewhere (mk_launch_encode). */
int mk_config_encode_hooks(const struct mk_config *cfg, uint8_t *buf,
                           size_t cap, size_t *len, mk_error_t *err);

#endif
