/* The host's side of a container's new user namespace, for spawn.c
 * (linked into mocker-monitor too: no JSON here; see userns.h). Its
 * entry point for spawn, mk_userns_setup_child, is declared in spawn.h. */
#ifndef MK_ENGINE_IDMAP_H
#define MK_ENGINE_IDMAP_H

#include <stdint.h>

#include "spawn.h"

/* The host id of container id `id` in maps, or -1 if it is not mapped. */
int64_t mk_idmap_host(const struct mk_idmap *maps, uint32_t n, uint32_t id);

#endif
