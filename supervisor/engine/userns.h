/* User namespaces: which host ids a container's ids are (from
 * /etc/subuid and /etc/subgid for --userns=remap, or from an OCI
 * bundle), how a container keeps them (HostConfig.IDMappings), and the
 * host's side of starting a container in one (spawn.c). */
#ifndef MK_ENGINE_USERNS_H
#define MK_ENGINE_USERNS_H

#include <jansson.h>
#include <stdint.h>
#include <sys/types.h>

#include "isolation/cgroup.h"
#include "mk_error.h"
#include "idmap.h"
#include "spawn.h"

/* Docker's userns-remap: the user whose subordinate ids containers get,
 * which `make install` and the .deb create, and how many. */
#define MK_REMAP_USER "mocker"
#define MK_REMAP_COUNT 65536u

/* Container ids 0..65535 mapped onto the first range of at least that
 * many ids that /etc/subuid and /etc/subgid (or the files named by
 * $MOCKER_SUBUID and $MOCKER_SUBGID, for tests) give user. */
int mk_userns_remap(const char *user, struct mk_userns *u, mk_error_t *err);

/* The start of the first range of at least count ids for user (a name,
 * or its uid as a number) in a subid file ("name:start:count" lines). */
int mk_subid_find(const char *path, const char *user, uid_t uid,
                  uint32_t count, uint32_t *start, mk_error_t *err);

/* {"UidMap": ["0:100000:65536"], "GidMap": [...]}: container id, host
 * id, count; podman's form. NULL for a container without one. */
json_t *mk_userns_to_json(const struct mk_userns *u);

/* The reverse, checked: at most MK_MAX_IDMAPS ranges each, no overflow.
 * A NULL or absent j leaves u empty. */
int mk_userns_from_json(const json_t *j, struct mk_userns *u, mk_error_t *err);

/* The user namespace a new container gets: a bundle's maps, none
 * (--userns=host, or nothing asked and no "userns-remap" configured), or
 * the remap user's range. Refuses what Docker refuses with one. */
struct mk_spec;
int mk_userns_for_spec(const struct mk_spec *o, struct mk_userns *u,
                       mk_error_t *err);

/* Whether a container has a user namespace of its own. */
int mk_userns_active(const struct mk_userns *u);

#endif
