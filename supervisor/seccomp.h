/* Seccomp: Docker's JSON profile format compiled to BPF with libseccomp,
 * on the host side, cached by profile hash; mocker-init only installs the
 * ready program (libseccomp stays out of the static init). */
#ifndef MK_SECCOMP_H
#define MK_SECCOMP_H

#include <stddef.h>
#include <stdint.h>

#include "context.h"
#include "mk_error.h"

/* Compiles profile (Docker's JSON; NULL: the built-in default, Docker's
 * default profile) for a workload holding the capabilities in caps (the
 * profile's includes/excludes "caps" depend on them) into a BPF program:
 * *bpf (malloc'ed struct sock_filter[]) of *len bytes. Results are cached
 * under <root>/seccomp/ keyed by a hash of everything that went in. */
int mk_seccomp_compile(const struct mk_ctx *ctx, const char *profile,
                       size_t profile_len, uint64_t caps, uint8_t **bpf,
                       size_t *len, mk_error_t *err);

#endif
