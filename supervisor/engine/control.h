/* Signalling running containers and waiting for them to end, and
 * removing them: the common core of stop, kill, restart, rm and wait. */
#ifndef MK_CONTROL_H
#define MK_CONTROL_H

#include "container.h"

#define MK_STOP_DEADLINE_MS 10000

/* Sends sig to the container's init (which forwards it to the workload;
 * SIGKILL ends the whole pid namespace). ESRCH-style error when the
 * container is not running. */
int mk_container_signal(struct mk_container *c, int sig, mk_error_t *err);

/* Waits until the container's supervisor has recorded the exit and let go
 * of the run lock, at most timeout_ms (< 0: forever). 0 when done, 1 on
 * timeout. */
int mk_container_wait_stopped(struct mk_container *c, int timeout_ms);

/* Sends sig, then waits up to timeout_ms; EBUSY if it is still running. */
int mk_container_kill_and_wait(struct mk_container *c, int sig, int timeout_ms,
                               mk_error_t *err);

/* Docker's stop: the stop signal, then SIGKILL after timeout_s seconds
 * (< 0: the container's StopTimeout, else 10). */
int mk_container_stop(struct mk_container *c, int timeout_s, mk_error_t *err);

/* Removes a stopped container (the caller holds its run lock): its
 * network endpoint and cgroup if a crash left them, its directory and
 * name; with volumes, also its anonymous volumes. */
int mk_remove_container(const struct mk_ctx *ctx, struct mk_container *c,
                        int volumes, mk_error_t *err);

#endif
