/* The image store under the state root:
 *
 *   layers/sha256/<chain id>/diff/      unpacked layer, shared by images
 *   layers/sha256/<chain id>/diff_id    digest of the uncompressed tar
 *   images/sha256/<image id>/config.json  the image config, byte-exact
 *   images/sha256/<image id>/layers       chain ids, bottom layer first
 *   images/tags.json                      {"docker.io/library/x:tag": id}
 *   tmp/                                  work in progress, renamed into
 *                                         place when complete
 *   store.lock                            flock for writers
 *
 * Content-addressed: image id = sha256 of the config bytes, layer dirs
 * are named by chain id, so identical layers are unpacked once. */
#ifndef MK_STORE_H
#define MK_STORE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/context.h"
#include "mk_error.h"

#define MK_DIGEST_LEN 71 /* "sha256:" + 64 hex */

struct mk_image {
  char id[MK_DIGEST_LEN + 1];
  char name[512]; /* normalised reference it was found by */
  json_t *config; /* the image config document */
  size_t nlayers;
  char **layer_dirs; /* absolute diff dirs, bottom first */
};

/* Finds an image by reference. Returns 1 when found, 0 when absent. */
int mk_store_find(const struct mk_ctx *ctx, const char *ref,
                  struct mk_image *img, mk_error_t *err);
void mk_image_free(struct mk_image *img);

struct sha256_ctx;

/* "sha256:<hex>" of a streamed hash (nettle), which it finishes. */
void mk_sha256_finish(struct sha256_ctx *hash, char out[MK_DIGEST_LEN + 1]);

/* "sha256:<hex>" of data. */
void mk_sha256_digest(const void *data, size_t len,
                      char out[MK_DIGEST_LEN + 1]);

/* Holds the store's writer lock (flock) until mk_store_unlock. */
int mk_store_lock(const struct mk_ctx *ctx, mk_error_t *err);
void mk_store_unlock(int lockfd);

/* Stores the config (exact bytes) and its layer list, and points tag at
 * it. Call with the store lock held, after the layers are in place. */
int mk_store_add_image(const struct mk_ctx *ctx, const char *config,
                       size_t config_len, char (*chains)[MK_DIGEST_LEN + 1],
                       size_t nchains, const char *tag_ref, mk_error_t *err);

/* chain(L1) = diff_id(L1); chain(Ln) = sha256(chain(Ln-1) + " " + diff_id). */
void mk_store_chain_id(const char *parent, const char *diff_id,
                       char out[MK_DIGEST_LEN + 1]);

/* Whether the layer with this chain id is unpacked in the store. */
int mk_store_has_layer(const struct mk_ctx *ctx, const char *chain);

/* Creates tmp/layer-<random>/diff for an unpack in progress. */
int mk_store_new_layer_dir(const struct mk_ctx *ctx, char work[PATH_MAX],
                           char diff[PATH_MAX], mk_error_t *err);

/* Serialises work on one layer across processes (a blocking flock on
 * tmp/lock-<chain>): a second pull of the same layer waits, then finds it
 * published instead of downloading it again. Returns the fd to close. */
int mk_store_lock_layer(const struct mk_ctx *ctx, const char *chain,
                        mk_error_t *err);

/* Publishes a verified, unpacked layer (work as made above) under its
 * chain id, atomically; if it is already there, work is discarded. Takes
 * the store lock itself. */
int mk_store_publish_layer(const struct mk_ctx *ctx, const char *work,
                           const char *diff_id, const char *chain,
                           uint64_t size, mk_error_t *err);

struct mk_tag {
  char name[512]; /* "docker.io/library/busybox:latest" */
  char id[MK_DIGEST_LEN + 1];
};

/* Every tag in the store, sorted by name (heap array). */
int mk_store_list_tags(const struct mk_ctx *ctx, struct mk_tag **tags,
                       size_t *n, mk_error_t *err);

/* Sum of the unpacked sizes of the image's layers, in bytes. */
uint64_t mk_store_image_size(const struct mk_ctx *ctx, const char *id);

/* The config's "created" time as seconds since the epoch, or -1. */
long long mk_store_image_created(const struct mk_ctx *ctx, const char *id);

/* Resolves a tag, an image id or a unique id prefix to an image id.
 * *is_tag tells whether key named a tag (then tag_out holds it). */
int mk_store_resolve_image(const struct mk_ctx *ctx, const char *key,
                           char id[MK_DIGEST_LEN + 1], char tag_out[512],
                           int *is_tag, mk_error_t *err);

/* Removes one tag. Returns how many tags still point at its image. */
int mk_store_untag(const struct mk_ctx *ctx, const char *name, mk_error_t *err);

/* Deletes an image (its tags too) and every layer no image uses any more.
 * Takes the store lock. */
int mk_store_delete_image(const struct mk_ctx *ctx, const char *id,
                          mk_error_t *err);

/* A pull's lease on layers it is publishing but has not yet tied to an
 * image: prune leaves them alone while the returned fd is open. */
int mk_store_lease(const struct mk_ctx *ctx, char (*chains)[MK_DIGEST_LEN + 1],
                   size_t n, mk_error_t *err);
void mk_store_release(const struct mk_ctx *ctx, int lease_fd);

/* Deletes layers no image references, and stale tmp/ work. Returns the
 * number of layers removed. Takes the store lock. */
int mk_store_prune_layers(const struct mk_ctx *ctx, mk_error_t *err);

/* Points tag_ref (a normalised name) at image id. Call with the store
 * lock held. */
int mk_store_set_tag(const struct mk_ctx *ctx, const char *tag_ref,
                     const char *id, mk_error_t *err);

/* Every image id in the store ("sha256:..."), NULL-terminated heap array. */
int mk_store_image_ids(const struct mk_ctx *ctx, char ***ids, size_t *n,
                       mk_error_t *err);

/* The image's config document, or NULL. */
json_t *mk_store_image_config(const struct mk_ctx *ctx, const char *id);

/* Whether ref names the built-in image (busybox, busybox:latest, ...). */
int mk_store_is_builtin_ref(const char *ref);

#endif
