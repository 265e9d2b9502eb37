/* Unpacking one image layer (a tar stream read with libarchive) into a
 * directory. Reading is libarchive's job; every write is ours, made
 * relative to the layer directory's fd with resolution confined to it, so
 * a hostile layer can never write, link, chmod or delete outside it. */
#ifndef MK_LAYER_H
#define MK_LAYER_H

#include <stddef.h>

#include "mk_error.h"

struct archive;

/* Extracts every entry of an opened archive into dirfd. Whiteouts become
 * overlayfs whiteouts. Absolute names and symlinks resolve inside dirfd
 * ("/etc/x" lands at dirfd/etc/x); ".." components are refused. Fails on
 * the first hostile or broken entry, leaving a partial tree that the
 * caller must discard. */
int mk_layer_extract(struct archive *a, int dirfd, mk_error_t *err);

struct mk_strv;

/* Like mk_layer_extract; implicit (may be NULL) receives the directories
 * the layer implies (parents of its entries) without listing them. */
int mk_layer_extract_ex(struct archive *a, int dirfd, struct mk_strv *implicit,
                        mk_error_t *err);

/* Applying a layer onto the tree below keeps the attributes of the
 * directories it does not list; an overlay upper dir would hide them
 * behind the 0755 copies made while unpacking. So each implicit
 * directory gets the mode, owner and mtime it has in the nearest lower
 * layer that has it (whiteouts and opaque directories respected).
 * lower_fds are the lower layers' diff dirs, nearest first. */
int mk_layer_inherit_dirs(int dirfd, char *const *implicit, size_t n,
                          const int *lower_fds, size_t nlower, mk_error_t *err);

/* Normalises a tar entry path: strips "./" and leading "/", collapses
 * "//", and refuses any ".." component. Returns 0 or -1. out gets ""
 * for the layer root itself. */
int mk_layer_clean_path(const char *in, char *out, size_t size);

/* The cleaner under it: drops leading '/', "." and empty components;
 * ".." removes the component before it when allow_dotdot (a link target
 * resolved among an archive's names) and fails otherwise, as it does when
 * it would climb above the top. 0, -EPERM, or -ENAMETOOLONG when out
 * (size bytes) is too small. */
int mk_path_normalise(const char *in, int allow_dotdot, char *out, size_t size);

/* Convenience: extracts an uncompressed tar held in memory. */
int mk_layer_extract_memory(const void *tar, size_t len, int dirfd,
                            mk_error_t *err);

#endif
