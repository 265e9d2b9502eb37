/* Seccomp: Docker's JSON profile format compiled to BPF with libseccomp,
 * on the host side, cached by profile hash; mocker-init only installs the
 * ready program (libseccomp stays out of the static init). */

/* libseccomp's header is also called seccomp.h, and -Isupervisor makes
 * <seccomp.h> find this file first. seccomp.c defines
 * MK_SECCOMP_LIBSECCOMP and includes <seccomp.h>: that lookup lands here
 * through the -I path, and #include_next carries on to the library's. */
#if defined(MK_SECCOMP_LIBSECCOMP) && !defined(MK_SECCOMP_LIBSECCOMP_DONE)
#define MK_SECCOMP_LIBSECCOMP_DONE
#include_next <seccomp.h>
#endif

#ifndef MK_SECCOMP_H
#define MK_SECCOMP_H

#include <stddef.h>
#include <stdint.h>

#include "base/context.h"
#include "mk_error.h"

/* Compiles profile (Docker's JSON; NULL: the built-in default, Docker's
 * default profile) for a workload holding the capabilities in caps (the
 * profile's includes/excludes "caps" depend on them) into a BPF program:
 * *bpf (malloc'ed struct sock_filter[]) of *len bytes. Results are cached
 * under <root>/seccomp/ keyed by a hash of everything that went in; with
 * ctx NULL there is no cache (the fuzz target). A profile that does not
 * parse, or names an unknown action, operator or architecture, fails
 * with a message naming the profile and the reason. */
int mk_seccomp_compile(const struct mk_ctx *ctx, const char *profile,
                       size_t profile_len, uint64_t caps, uint8_t **bpf,
                       size_t *len, mk_error_t *err);

/* The built-in profile (supervisor/isolation/seccomp_default.c, generated from
 * supervisor/isolation/seccomp_default.json by supervisor/isolation/gen_seccomp_default.sh). */
extern const char mk_seccomp_default_profile[];
extern const size_t mk_seccomp_default_profile_len;

#endif
