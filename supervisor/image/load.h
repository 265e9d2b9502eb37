/* mocker load: images from a `docker save` archive (manifest.json) or an
 * OCI image layout (index.json), verified against their configs' diff_ids
 * and published into the store like pulled ones. The built-in busybox
 * image is loaded through here too.
 *
 * The outer archive is untrusted. Its members are unpacked by
 * mk_load_unpack_fd into a temporary directory that only mocker writes:
 * regular files (created O_EXCL|O_NOFOLLOW beneath the directory's fd,
 * under a size limit per member and one for the whole archive, counted as
 * the bytes are written) and directories. Symbolic and hard links between
 * members (older `docker save` and skopeo's docker-archive link
 * <id>/layer.tar to another member) are kept as a table and resolved
 * among the archive's own names, never on the filesystem. Devices, FIFOs
 * and sockets are refused. Nothing of the archive is ever opened as a
 * host path. */
#ifndef MK_LOAD_H
#define MK_LOAD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/context.h"
#include "mk_error.h"
#include "base/strv.h"

/* Loads every image in the archive read from fd (tar, possibly
 * compressed). Progress lines ("Loaded image: ...") go to out if set. */
int mk_load_fd(const struct mk_ctx *ctx, int fd, FILE *out, mk_error_t *err);

/* Same, from an archive in memory. */
int mk_load_memory(const struct mk_ctx *ctx, const void *buf, size_t len,
                   FILE *out, mk_error_t *err);

/* Loads the built-in busybox image (embedded in the binary) into the
 * store; mk_store_is_builtin_ref tells which references name it. */
int mk_load_builtin(const struct mk_ctx *ctx, mk_error_t *err);

/* ---- the steps, for the fuzz target and the tests ---------------------- */

struct mk_load_limits {
  uint64_t member; /* bytes of one member: MOCKER_MAX_LAYER_SIZE */
  uint64_t total;  /* bytes of all members: MOCKER_MAX_LOAD_SIZE */
};

/* MOCKER_MAX_LOAD_SIZE, or 256 GiB. */
uint64_t mk_max_load_size(void);
/* The limits from the environment. */
void mk_load_default_limits(struct mk_load_limits *lim);

struct mk_load_link {
  char *name;   /* a member name, cleaned */
  char *target; /* the member it stands for, relative to the archive root */
};

/* An unpacked archive: its regular files and directories under dirfd
 * (borrowed), its links in a table. */
struct mk_load_members {
  int dirfd;
  struct mk_load_link *links;
  size_t nlinks, link_bytes;
  size_t count;   /* members seen */
  size_t dirs;    /* directories made */
  uint64_t bytes; /* bytes written under dirfd */
};

/* Reads the archive (tar, possibly compressed) from archive_fd and
 * unpacks its members into dirfd, an empty directory, under lim. On
 * failure the message names the member and the reason; what was written
 * stays under dirfd for the caller to remove. Free m in any case. */
int mk_load_unpack_fd(int archive_fd, int dirfd,
                      const struct mk_load_limits *lim,
                      struct mk_load_members *m, mk_error_t *err);
void mk_load_members_free(struct mk_load_members *m);

/* Opens a member by name (as manifest.json or index.json give it), links
 * resolved among the members; it must be a regular file. Returns the fd
 * (O_RDONLY, O_CLOEXEC) or -1. */
int mk_load_open_member(const struct mk_load_members *m, const char *name,
                        mk_error_t *err);

/* One image of the archive, with everything it needs checked but the
 * layers' contents (those are checked against diff_ids while unpacked). */
struct mk_load_image {
  char *config; /* the config's bytes, NUL-terminated */
  size_t config_len;
  struct mk_strv diff_ids; /* from the config */
  struct mk_strv layers;   /* member names, one per diff_id, bottom first */
  struct mk_strv tags;     /* names to tag it with, as the archive gives them */
};

struct mk_load_plan {
  struct mk_load_image *images;
  size_t n;
  size_t bytes; /* read into memory while planning, bounded */
};

/* Reads manifest.json (docker save) or else index.json (OCI layout) and
 * every config and OCI manifest they name. */
int mk_load_plan(const struct mk_load_members *m, struct mk_load_plan *plan,
                 mk_error_t *err);
void mk_load_plan_free(struct mk_load_plan *plan);

#endif
