/* Turns a container's config.json into the config mocker-init receives.
 * Every start (foreground run, start, restart) goes through here, so a
 * restarted container runs exactly what it was created with. */
#ifndef MK_LAUNCH_H
#define MK_LAUNCH_H

#include <stddef.h>
#include <stdint.h>

#include "container.h"
#include "mk_proto.h"

/* Encodes the init config of c into buf. rows/cols: the initial window
 * size with a tty (0 if unknown). EXEC flags are added by the caller. */
int mk_launch_encode(const struct mk_container *c, uint16_t rows,
                     uint16_t cols, uint8_t *buf, size_t cap, size_t *len,
                     mk_error_t *err);

#endif
