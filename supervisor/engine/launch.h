/* Turns a container's config.json into the config mocker-init receives.
 * Every start (foreground run, start, restart) goes through here, so a
 * restarted container runs exactly what it was created with. */
#ifndef MK_LAUNCH_H
#define MK_LAUNCH_H

#include <stddef.h>
#include <stdint.h>

#include "container.h"
#include "mk_proto.h"

/* What confines the workload (and every process exec'd into it):
 * capabilities, no_new_privs, the seccomp program, and devices. */
struct mk_security {
  uint32_t flags; /* MK_CFG_NO_NEW_PRIVS, MK_CFG_PRIVILEGED */
  uint64_t caps;
  uint64_t cap_sets[MK_NCAPSETS]; /* with MK_CFG_CAP_SETS in flags */
  uint8_t *seccomp; /* NULL: unconfined */
  size_t seccomp_len;
  struct mk_device *devices;
  size_t ndevices;
  char *device_paths; /* storage for devices[].path */
};

/* Computes c's security from its HostConfig (reading the host: the
 * seccomp cache, /dev for --privileged), before anything joins it. */
int mk_launch_security(const struct mk_ctx *ctx, const struct mk_container *c,
                       struct mk_security *sec, mk_error_t *err);
void mk_security_free(struct mk_security *sec);

/* HostConfig.CapSets, an OCI container's exact capability sets:
 * {"Effective": ["CAP_CHOWN", ...], "Permitted": ..., "Inheritable": ...,
 * "Ambient": ...}, and back (an unknown name is an error). */
json_t *mk_cap_sets_to_json(const uint64_t sets[MK_NCAPSETS]);
int mk_cap_sets_from_json(json_t *j, uint64_t sets[MK_NCAPSETS],
                          mk_error_t *err);

/* Encodes the init config of c into buf. rows/cols: the initial window
 * size with a tty (0 if unknown). flags: MK_CFG_* to add (MK_CFG_HOLD). A
 * container made from a bundle (config.json's "Bundle") gets no /etc
 * files bound in: its process and mounts are exactly the bundle's. */
int mk_launch_encode(const struct mk_ctx *ctx, const struct mk_container *c,
                     uint16_t rows, uint16_t cols, uint32_t flags, uint8_t *buf,
                     size_t cap, size_t *len, mk_error_t *err);

#endif
