/* cgroup v2 has no devices.allow: device access is decided by a
 * BPF_PROG_TYPE_CGROUP_DEVICE program attached to the cgroup. */
#ifndef MK_CGROUP_BPF_H
#define MK_CGROUP_BPF_H

#include "cgroup.h"

/* Builds a program that allows exactly the rules in a (defaults) and b
 * (the container's --device), loads it and attaches it to cg. With
 * allow_all nothing is attached. */
int mk_cgroup_devices_bpf(const struct mk_cgroup *cg,
                          const struct mk_device_rule *a, size_t na,
                          const struct mk_device_rule *b, size_t nb,
                          int allow_all, mk_error_t *err);

#endif
