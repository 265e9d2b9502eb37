/* The OCI hooks of a container made from a bundle: those mocker-runtime
 * runs itself, in the runtime's namespaces (prestart and createRuntime
 * at create, poststart at start, poststop at delete), and those it hands
 * to mocker-init in the config (createContainer, startContainer). The
 * bundle is the caller's and trusted as runc trusts it: each hook is a
 * command its author asked the runtime to run. */
#ifndef MK_OCI_HOOKS_H
#define MK_OCI_HOOKS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "oci.h"

struct mk_container;

/* The hooks create kept with the container (config.json "Hooks"),
 * checked again as config.c checks a bundle's. */
int mk_oci_hooks_of(const struct mk_container *c, struct mk_oci_hooks *h,
                    mk_error_t *err);

/* The state document a hook reads on its stdin: what `state` prints,
 * with this status and pid, as compact JSON text (malloc'ed; NULL when
 * out of memory). */
char *mk_oci_hook_state(const char *id, const char *status, pid_t pid,
                        const char *bundle, json_t *annotations);

/* Runs the hooks of kind in order, state on their stdin; the first that
 * fails or times out stops them, and err names it. */
int mk_oci_hooks_run(const struct mk_oci_hooks *h, enum mk_oci_hook_kind kind,
                     const char *state, mk_error_t *err);

/* Runs every hook of kind; a failure is a warning and nothing else
 * (poststart, poststop). */
void mk_oci_hooks_run_warn(const struct mk_oci *o, const struct mk_oci_hooks *h,
                           enum mk_oci_hook_kind kind, const char *state);

/* Appends the createContainer and startContainer hooks, with the state
 * each kind reads (creating, created), to init's config encoded in buf
 * (*len of cap bytes). */
int mk_oci_hooks_to_init(const struct mk_oci_hooks *h, const char *creating,
                         const char *created, uint8_t *buf, size_t cap,
                         size_t *len, mk_error_t *err);

#endif
