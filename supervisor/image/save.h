/* mocker save: images as a `docker save` archive (manifest.json) that also
 * holds an OCI image layout (index.json, blobs/sha256/), so docker load,
 * podman load and OCI tools all accept it. Layers are regenerated from the
 * unpacked store (overlay whiteouts turned back into .wh. entries); their
 * digests therefore need not match the original tars, so the saved config
 * carries the new diff_ids. */
#ifndef MK_SAVE_H
#define MK_SAVE_H

#include "base/context.h"
#include "mk_error.h"

int mk_save(const struct mk_ctx *ctx, char **images, int nimages, int out_fd,
            mk_error_t *err);

#endif
