/* A container's namespaces as its HostConfig names them, opened for
 * spawn: PidMode, IpcMode, UTSMode, CgroupnsMode (Docker's keys),
 * MountNsMode and NetNsMode (an OCI bundle's). Each is "" or absent (a
 * new one; the network's follows NetworkMode then), "host" (the
 * caller's), or "ns:PATH", the namespace file to join. */
#ifndef MK_ENGINE_NAMESPACES_H
#define MK_ENGINE_NAMESPACES_H

#include "container.h"
#include "spawn.h"

/* The HostConfig key of each kind. */
const char *mk_ns_mode_key(enum mk_ns_kind kind);

/* Opens every "ns:" path, checked to be a namespace of its kind; the
 * mount namespace is never the caller's own. */
int mk_container_ns_plan(const struct mk_container *c, struct mk_ns_plan *plan,
                         mk_error_t *err);
void mk_ns_plan_close(struct mk_ns_plan *plan);

#endif
