/* A bundle's config.json in the engine's terms: struct mk_spec. What the
 * engine cannot honour yet is refused, naming the field, never dropped. */
#ifndef MK_OCI_TRANSLATE_H
#define MK_OCI_TRANSLATE_H

#include <limits.h>

#include "config.h"
#include "engine/spec.h"

/* Fills s (mk_spec_init'ed by the caller) from c, the config of the
 * bundle at bundle (an absolute path), for container id. Strings in s
 * point into c, bundle and id, or are owned by s (mk_spec_free). A
 * seccomp profile is written to seccomp_file (a path the caller owns
 * and removes), which s then names. */
struct mk_oci_strings {
  char rootfs[PATH_MAX], user[32]; /* what s points to */
  char ns_paths[MK_NS_KINDS][PATH_MAX + 4]; /* "ns:PATH" */
  char cgroup[PATH_MAX]; /* a relative cgroupsPath, placed */
};

int mk_oci_to_spec(const struct mk_oci_config *c, const char *bundle,
                   const char *id, const char *seccomp_file,
                   struct mk_oci_strings *st, struct mk_spec *s,
                   mk_error_t *err);

/* The capability sets of p as the kernel can give them (see
 * translate.c): *bounding, and the others as MK_CAPSET_* masks. */
int mk_oci_process_caps(const struct mk_oci_process *p, uint64_t *bounding,
                        uint64_t sets[MK_NCAPSETS], mk_error_t *err);

/* A LinuxResources object (linux.resources, or `update --resources`) in
 * the engine's terms; *set gets the MK_RES_* given. What the engine
 * cannot honour is refused, naming the field. Device allow rules go to
 * device_rules, in order ("c 10:229 rwm"); NULL (an update): only rules
 * the defaults already allow are accepted. */
int mk_oci_resources(json_t *res, struct mk_spec_resources *r, unsigned *set,
                     struct mk_strv *device_rules, mk_error_t *err);

#endif
