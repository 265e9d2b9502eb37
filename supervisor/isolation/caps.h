/* Capability sets, Docker's way, with names from libcap-ng. */
#ifndef MK_CAPS_H
#define MK_CAPS_H

#include <stddef.h>
#include <stdint.h>

#include "mk_error.h"

/* Docker's default 14: CHOWN, DAC_OVERRIDE, FSETID, FOWNER, MKNOD,
 * NET_RAW, SETGID, SETUID, SETFCAP, SETPCAP, NET_BIND_SERVICE,
 * SYS_CHROOT, KILL, AUDIT_WRITE. */
uint64_t mk_caps_default(void);

/* Every capability this kernel knows. */
uint64_t mk_caps_all(void);

/* "CHOWN", "cap_chown" -> CAP_CHOWN; "ALL" -> 64; -1 if unknown. */
int mk_cap_parse(const char *name);

/* CAP_CHOWN -> "CHOWN" in buf (32 bytes); NULL if unknown. */
const char *mk_cap_name(int cap, char buf[32]);

/* Docker's rules: --privileged gives all; --cap-add ALL starts from all,
 * --cap-drop ALL from none; then drops, then adds. */
int mk_caps_compute(const char *const *add, size_t nadd,
                    const char *const *drop, size_t ndrop, int privileged,
                    uint64_t *out, mk_error_t *err);

#endif
