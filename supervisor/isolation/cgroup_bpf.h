/* cgroup v2 has no devices.allow: device access is decided by a
 * BPF_PROG_TYPE_CGROUP_DEVICE program attached to the cgroup. */
#ifndef MK_CGROUP_BPF_H
#define MK_CGROUP_BPF_H

#include <stddef.h>
#include <stdint.h>

#include "mk_error.h"

/* A device access rule: type 'c', 'b' or 'a' (all), major/minor -1 for
 * any, access a subset of "rwm". */
struct mk_device_rule {
  char type;
  int64_t major, minor;
  char access[4];
};

/* Builds a program that allows exactly the rules in a (defaults) and b
 * (the container's --device), loads it and attaches it to the cgroup
 * directory dir. With allow_all nothing is attached. */
int mk_cgroup_devices_bpf(const char *dir, const struct mk_device_rule *a,
                          size_t na, const struct mk_device_rule *b, size_t nb,
                          int allow_all, mk_error_t *err);

#endif
