/* A container's resource limits: Docker's flags in HostConfig, applied to
 * its cgroup (supervisor/isolation/cgroup.h) each time it starts. */
#ifndef MK_RESOURCES_H
#define MK_RESOURCES_H

#include "isolation/cgroup.h"
#include "container.h"

/* Reads HostConfig's Memory, MemorySwap, MemoryReservation, NanoCpus,
 * CpuShares, CpusetCpus, PidsLimit, BlkioWeight. */
void mk_limits_from_config(const struct mk_container *c,
                           struct mk_cgroup_limits *l);

/* Creates c's cgroup with its limits and device rules, ready for the
 * container's first process. */
int mk_container_cgroup_setup(const struct mk_container *c,
                              struct mk_cgroup *cg, mk_error_t *err);

/* Kills whatever is left in c's cgroup and removes it. */
int mk_container_cgroup_remove(const struct mk_container *c, mk_error_t *err);

#endif
