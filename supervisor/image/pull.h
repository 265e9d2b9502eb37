/* mocker pull: resolve a reference on its registry, verify everything
 * (manifest bytes, config, every compressed layer and its uncompressed
 * diff_id), unpack layers in parallel straight from the network into
 * temporary directories, and publish them into the store only once
 * verified. */
#ifndef MK_PULL_H
#define MK_PULL_H

#include <stdio.h>

#include "base/context.h"
#include "manifest.h"
#include "mk_error.h"

struct mk_pull_opts {
  struct mk_platform platform;
  int quiet;
  FILE *out; /* progress lines; NULL for none */
};

/* Pulls ref and tags it. name_out (512 bytes, may be NULL) receives the
 * normalised name the image is stored under. */
int mk_pull(const struct mk_ctx *ctx, const char *ref,
            const struct mk_pull_opts *opts, char *name_out, mk_error_t *err);

#endif
