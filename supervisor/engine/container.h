/* A container's host-side state: its directory under the state root,
 *
 *   containers/<id>/config.json   what to run: Docker's inspect layout
 *                                 (Path, Args, Config, HostConfig, Mounts,
 *                                 GraphDriver), written once by create
 *   containers/<id>/state         what happened: see mk_state.h
 *   containers/<id>/upper, work   the overlay's writable layer
 *   containers/<id>/rootfs        the overlay mount point
 *   containers/<id>/hostname, hosts, resolv.conf   bind-mounted into /etc
 *   containers/<id>/container.log the k8s-file log of a detached container
 *   containers/<id>/attach.sock   the monitor's attach socket
 *   names/<name> -> <id>          unique names, claimed atomically
 *
 * The run lock is a flock on the container directory, held by whichever
 * process supervises the container (foreground `run` or the monitor) and
 * released by the kernel when it dies. */
#ifndef MK_CONTAINER_H
#define MK_CONTAINER_H

#include <jansson.h>
#include <limits.h>

#include "base/context.h"
#include "mk_error.h"
#include "mk_state.h"
#include "image/store.h"
#include "spawn.h"

#define MK_LOG_FILE "container.log"
#define MK_ATTACH_SOCK "attach.sock"

struct mk_container {
  char id[MK_ID_LEN + 1];
  char name[256];
  char dir[PATH_MAX];
  char rootfs[PATH_MAX];
  int lockfd;  /* the run lock, while we hold it; -1 otherwise */
  int mounted; /* the rootfs was mounted by us or our vfork'd clone3
                 child, in the container's mount namespace (a child in
                 a user namespace is a fork: its mount is not seen) */
  json_t *config;
  struct mk_state state;
};

/* Allocates an id, claims name (or a generated one when NULL), creates the
 * directory (with an overlay's upper and work when layered), and takes the
 * run lock. On failure nothing is left behind. */
int mk_container_create(const struct mk_ctx *ctx, const char *name, int layered,
                        struct mk_container *c, mk_error_t *err);

/* Writes c->config to config.json atomically. */
int mk_container_write_config(struct mk_container *c, mk_error_t *err);

/* Writes c->state. */
int mk_container_save_state(struct mk_container *c, mk_error_t *err);

/* Mounts the overlay from the config's GraphDriver. Called in the
 * container's own mount namespace (before init runs), so the host never
 * sees the mount and the kernel unmounts it when the container's last
 * process exits, even if the supervisor was killed. userns_fd >= 0: the
 * container's user namespace, into which the layers are idmapped. */
int mk_container_mount(struct mk_container *c, int userns_fd, mk_error_t *err);

/* HostConfig.IDMappings: the container's user namespace, or none. */
int mk_container_userns(const struct mk_container *c, struct mk_userns *u,
                        mk_error_t *err);

/* In init-to-be, the clone3 child, inside the container's new namespaces
 * before mocker-init runs: what is set once for the whole container and
 * inherited from there (Config.Domainname in its UTS namespace,
 * HostConfig.OomScoreAdj, HostConfig.Personality). Touches no path but
 * its own /proc/self. */
int mk_container_child_settings(const struct mk_container *c,
                                mk_error_t *err);

/* Unmounts the rootfs if mounted (also after a crash). */
int mk_container_unmount(struct mk_container *c, mk_error_t *err);

/* Unmounts, releases the name and deletes the directory. */
int mk_container_remove(const struct mk_ctx *ctx, struct mk_container *c,
                        mk_error_t *err);

/* Finds a container by name, full id or unique id prefix, and loads its
 * config and state. The state is reconciled with the kernel: a container
 * recorded as running whose supervisor is gone reads as exited. */
int mk_container_open(const struct mk_ctx *ctx, const char *id_or_name,
                      struct mk_container *c, mk_error_t *err);

/* Whether a supervisor currently holds the container's run lock. */
int mk_container_is_running(const struct mk_container *c);

/* Takes the run lock without waiting: EBUSY if it is held. */
int mk_container_lock(struct mk_container *c, mk_error_t *err);

/* Re-reads the state file and reconciles it (see mk_container_open). */
int mk_container_refresh(struct mk_container *c, mk_error_t *err);

/* The pid of mocker-init on the host if it is verifiably alive, else 0. */
int mk_container_init_pid(const struct mk_container *c);

/* Renames; fails if new_name is taken. */
int mk_container_rename(const struct mk_ctx *ctx, struct mk_container *c,
                        const char *new_name, mk_error_t *err);

void mk_container_close(struct mk_container *c);

/* Opens the container called exactly name: never an id or an id prefix
 * (the OCI runtime's ids are names, and one must not stand in for
 * another container's id). */
int mk_container_open_name(const struct mk_ctx *ctx, const char *name,
                           struct mk_container *c, mk_error_t *err);

/* Calls fn for every container id in the store (any state); stops early
 * when fn returns non-zero. */
int mk_container_foreach(const struct mk_ctx *ctx,
                         int (*fn)(const char *id, void *data), void *data);

/* How many containers (any state) were created from image id; the first
 * one's id goes to first (may be NULL). */
int mk_containers_using_image(const struct mk_ctx *ctx, const char *id,
                              char first[MK_ID_LEN + 1]);

/* Config accessors. */
const char *mk_container_config_string(const struct mk_container *c,
                                       const char *section, const char *key);
int mk_container_config_bool(const struct mk_container *c, const char *section,
                             const char *key);

#endif
