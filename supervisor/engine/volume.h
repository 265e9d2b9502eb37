/* Named volumes under the state root, Docker's local driver layout:
 *
 *   volumes/<name>/_data        the content, bind-mounted into containers
 *   volumes/<name>/meta.json    {"Name", "CreatedAt", "Anonymous"}
 *
 * A volume is in use while any container's config.json lists it in
 * Mounts; in-use checks scan the containers. */
#ifndef MK_VOLUME_H
#define MK_VOLUME_H

#include <limits.h>

#include "base/context.h"
#include "mk_error.h"

/* Creates the volume if missing (idempotent, race-safe). data_out gets the
 * _data path; *created is set when this call made it. */
int mk_volume_ensure(const struct mk_ctx *ctx, const char *name, int anonymous,
                     char data_out[PATH_MAX], int *created, mk_error_t *err);

/* Serialises "is it in use" against "start using it": volume rm/prune
 * hold it from the check to the removal, create from making the volume to
 * writing the config.json that lists it. A flock on volumes/; returns
 * the fd to close, or -1. */
int mk_volumes_lock(const struct mk_ctx *ctx, mk_error_t *err);

/* Removes the volume; EBUSY (naming the container) when in use unless
 * force. */
int mk_volume_remove(const struct mk_ctx *ctx, const char *name, int force,
                     mk_error_t *err);

/* Whether a container uses the volume; its id goes to user (may be NULL). */
int mk_volume_in_use(const struct mk_ctx *ctx, const char *name, char user[65]);

struct mk_container;

/* Copies the image's content at path (a container path) into the volume's
 * empty data_dir, as Docker does on first use. c must have its config
 * written (the overlay is mounted privately from its GraphDriver). */
int mk_volume_seed(const struct mk_container *c, const char *path,
                   const char *data_dir, mk_error_t *err);

int mk_volume_exists(const struct mk_ctx *ctx, const char *name);

/* Removes the anonymous volumes listed in c's Mounts (rm -v, --rm). */
void mk_volume_remove_anonymous(const struct mk_ctx *ctx,
                                const struct mk_container *c);

struct mk_volume_info {
  char name[256];
  char created_at[40]; /* RFC 3339, as written at creation */
  int anonymous;
  char mountpoint[PATH_MAX]; /* the _data dir */
};

/* Reads a volume's meta.json; ENOENT ("get NAME: no such volume") when the
 * volume does not exist. */
int mk_volume_info(const struct mk_ctx *ctx, const char *name,
                   struct mk_volume_info *out, mk_error_t *err);

/* The names of all volumes, sorted (free each and the array). */
int mk_volume_names(const struct mk_ctx *ctx, char ***names, size_t *n,
                    mk_error_t *err);

#endif
