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

/* Normalises a tar entry path: strips "./" and leading "/", collapses
 * "//", and refuses any ".." component. Returns 0 or -1. out gets ""
 * for the layer root itself. */
int mk_layer_clean_path(const char *in, char *out, size_t size);

/* Convenience: extracts an uncompressed tar held in memory. */
int mk_layer_extract_memory(const void *tar, size_t len, int dirfd,
                            mk_error_t *err);

#endif
