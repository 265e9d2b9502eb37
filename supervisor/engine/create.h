/* `mocker create`, and the first half of `mocker run`: find (or pull) the
 * image, and write a container's directory and config.json. */
#ifndef MK_CREATE_H
#define MK_CREATE_H

#include "spec.h"
#include "container.h"
#include "base/context.h"

/* On success c is created, holds its run lock, and has its config.json. On
 * failure nothing is left behind. */
int mk_create_container(struct mk_ctx *ctx, const struct mk_spec *spec,
                        struct mk_container *c, mk_error_t *err);

#endif
