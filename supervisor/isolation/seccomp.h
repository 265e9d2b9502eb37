/* Seccomp: Docker's JSON profile format compiled to BPF with libseccomp,
 * on the host side, cached by profile hash; mocker-init only installs the
 * ready program (libseccomp stays out of the static init). */

#ifndef MK_SECCOMP_H
#define MK_SECCOMP_H

#include <stddef.h>
#include <stdint.h>

#include "mk_error.h"

/* Compiles profile (Docker's JSON; NULL: the built-in default, Docker's
 * default profile) for a workload holding the capabilities in caps (the
 * profile's includes/excludes "caps" depend on them) into a BPF program:
 * *bpf (malloc'ed struct sock_filter[]) of *len bytes. Results are cached
 * in cache_dir (made 0700 if missing; the engine's is <root>/seccomp)
 * keyed by a hash of everything that went in; with cache_dir NULL there
 * is no cache (the fuzz target). A profile that does not
 * parse, or names an unknown action, operator or architecture, fails
 * with a message naming the profile and the reason. */
int mk_seccomp_compile(const char *cache_dir, const char *profile,
                       size_t profile_len, uint64_t caps, uint8_t **bpf,
                       size_t *len, mk_error_t *err);

/* The built-in profile (supervisor/isolation/seccomp_default.c, generated from
 * supervisor/isolation/seccomp_default.json by
 * supervisor/isolation/gen_seccomp_default.sh). */
extern const char mk_seccomp_default_profile[];
extern const size_t mk_seccomp_default_profile_len;

#endif
