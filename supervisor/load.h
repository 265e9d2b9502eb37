/* mocker load: images from a `docker save` archive (manifest.json) or an
 * OCI image layout (index.json), verified against their configs' diff_ids
 * and published into the store like pulled ones. The built-in busybox
 * image is loaded through here too. */
#ifndef MK_LOAD_H
#define MK_LOAD_H

#include <stddef.h>
#include <stdio.h>

#include "context.h"
#include "mk_error.h"

/* Loads every image in the archive read from fd (tar, possibly
 * compressed). Progress lines ("Loaded image: ...") go to out if set. */
int mk_load_fd(const struct mk_ctx *ctx, int fd, FILE *out, mk_error_t *err);

/* Same, from an archive in memory. */
int mk_load_memory(const struct mk_ctx *ctx, const void *buf, size_t len,
                   FILE *out, mk_error_t *err);

#endif
