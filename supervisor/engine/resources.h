/* A container's resource limits: Docker's flags in HostConfig, applied to
 * its cgroup (supervisor/isolation/cgroup.h) each time it starts, and
 * changed by update. */
#ifndef MK_RESOURCES_H
#define MK_RESOURCES_H

#include "isolation/cgroup.h"
#include "container.h"
#include "spec.h"

/* Reads HostConfig's Memory, MemorySwap, MemoryReservation, NanoCpus,
 * CpuShares, CpusetCpus, PidsLimit, BlkioWeight. */
void mk_limits_from_config(const struct mk_container *c,
                           struct mk_cgroup_limits *l);

/* Where c's cgroup is: HostConfig.CgroupPath (a bundle's cgroupsPath),
 * else mocker/<id>. */
int mk_container_cgroup_locate(const struct mk_container *c,
                               struct mk_cgroup *cg, mk_error_t *err);

/* Creates c's cgroup with its limits and device rules, ready for the
 * container's first process. */
int mk_container_cgroup_setup(const struct mk_container *c,
                              struct mk_cgroup *cg, mk_error_t *err);

/* Kills whatever is left in c's cgroup and removes it. */
int mk_container_cgroup_remove(const struct mk_container *c, mk_error_t *err);

/* Sets the resources in set (MK_RES_*) from r on the container key: in
 * its config, for every later start, and in its cgroup at once when it
 * runs. */
int mk_container_update(struct mk_ctx *ctx, const char *key,
                        const struct mk_spec_resources *r, unsigned set,
                        mk_error_t *err);

#endif
