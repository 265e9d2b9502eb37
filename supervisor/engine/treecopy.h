/* Copying a directory tree through directory fds: no link is ever
 * followed, owners are shifted into a user namespace's host ids. For
 * seeding a volume from an image (volume.c) and for the chowned copy of
 * an image layer where layers cannot be idmapped (overlay.c). Linked
 * into mocker-monitor too: no JSON here. */
#ifndef MK_ENGINE_TREECOPY_H
#define MK_ENGINE_TREECOPY_H

#include <limits.h>

#include "mk_error.h"
#include "spawn.h"

struct mk_treecopy {
  const char *what;     /* the errors' prefix: "seed volume", ... */
  char where[PATH_MAX]; /* the entry being copied, for the errors */
  mk_error_t *err;
  /* NULL or empty: ids as they are; else each id becomes the host id
   * that id is in the namespace (unmapped ones stay as they are) */
  const struct mk_userns *userns;
  int layer; /* an image layer: device nodes (whiteouts) and xattrs too */
};

/* Copies srcfd's content into dstfd (an empty directory), then srcfd's
 * owner, mode and times onto dstfd. Device nodes and sockets are skipped
 * unless t->layer. */
int mk_treecopy(struct mk_treecopy *t, int srcfd, int dstfd);

#endif
