/* A container's host-side state: its directory under the state root,
 *
 *   containers/<id>/config.json   state, Docker-like field names
 *   containers/<id>/upper, work   the overlay's writable layer
 *   containers/<id>/rootfs        the overlay mount point
 *   containers/<id>/hostname, hosts, resolv.conf   bind-mounted into /etc
 *   names/<name> -> <id>          unique names, claimed atomically
 */
#ifndef MK_CONTAINER_H
#define MK_CONTAINER_H

#include <jansson.h>
#include <limits.h>

#include "context.h"
#include "mk_error.h"
#include "store.h"

#define MK_ID_LEN 64
#define MK_SHORT_ID_LEN 12

struct mk_container {
  char id[MK_ID_LEN + 1];
  char name[256];
  char dir[PATH_MAX];
  char rootfs[PATH_MAX];
  int lockfd;  /* flock held while we run it; -1 otherwise */
  int mounted; /* the overlay is mounted on the host */
  int state_written;
  json_t *state;
};

/* Allocates an id, claims the name, creates the directory and the /etc
 * files, and takes the run lock (a flock on the directory, held while a
 * supervisor runs it). The state file is first written by
 * mk_container_set_state. On failure nothing is left behind. */
int mk_container_create(const struct mk_ctx *ctx, const struct mk_image *img,
                        const char *name, const char *hostname,
                        struct mk_container *c, mk_error_t *err);

/* Mounts the overlay: the image's layers under a private upper dir. Called
 * in the container's own mount namespace (before init runs), so the host
 * never sees the mount and the kernel unmounts it when the container's
 * last process exits, even if the supervisor was killed. */
int mk_container_mount(struct mk_container *c, const struct mk_image *img,
                       mk_error_t *err);

/* Sets State fields and rewrites config.json. pid is the workload's pid
 * inside the container, init_pid mocker-init's pid on the host. */
int mk_container_set_state(struct mk_container *c, const char *status, int pid,
                           int init_pid, int exit_code, mk_error_t *err);

/* Unmounts the rootfs if mounted (also after a crash). */
int mk_container_unmount(struct mk_container *c, mk_error_t *err);

/* Unmounts, releases the name and deletes the directory. */
int mk_container_remove(const struct mk_ctx *ctx, struct mk_container *c,
                        mk_error_t *err);

/* Finds a container by full id, unique id prefix or name. */
int mk_container_open(const struct mk_ctx *ctx, const char *id_or_name,
                      struct mk_container *c, mk_error_t *err);

/* Whether a supervisor currently holds the container's run lock. */
int mk_container_is_running(const struct mk_container *c);

void mk_container_close(struct mk_container *c);

/* How many containers (any state) were created from image id; the first
 * one's id goes to first (may be NULL). */
int mk_containers_using_image(const struct mk_ctx *ctx, const char *id,
                              char first[MK_ID_LEN + 1]);

#endif
