/* The host's side of a container's new user namespace, for spawn.c
 * (linked into mocker-monitor too: no JSON here; see userns.h). Its
 * entry point for spawn, mk_userns_setup_child, is declared in spawn.h. */
#ifndef MK_ENGINE_IDMAP_H
#define MK_ENGINE_IDMAP_H

#include <stdint.h>

#include "spawn.h"

/* mk_idmap_host, implemented here, is declared in spawn.h beside the
 * maps it reads (treecopy.c uses it without this room's other parts). */

#endif
