/* Starting a container under its own monitor (run -d, start, restart). */
#ifndef MK_START_H
#define MK_START_H

#include "container.h"
#include "base/context.h"

/* c must hold its run lock, which passes to the monitor. attach_fd >= 0
 * is an attach client socket the monitor serves from the first byte.
 * Returns 0 once the workload runs; else -1 with err and *status the exit
 * status the user should see (125, 126 or 127). */
int mk_start_detached(const struct mk_ctx *ctx, struct mk_container *c,
                      int attach_fd, int *status, mk_error_t *err);

/* Finds mocker-monitor beside mocker (or in libexec). */
int mk_monitor_path(char out[PATH_MAX], mk_error_t *err);

#endif
