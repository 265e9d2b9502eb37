/* Unpacking one layer stream (tar, tar+gzip, tar+zstd, ...) from an fd
 * into a directory, in one pass: libarchive decompresses ("raw" format),
 * the decompressed bytes are hashed (the layer's diff_id) and handed to a
 * second libarchive reader for the tar entries, and our extractor writes
 * them. Memory stays bounded whatever the layer's size. */
#ifndef MK_UNPACK_H
#define MK_UNPACK_H

#include <stdint.h>

#include "mk_error.h"
#include "store.h"
#include "base/strv.h"

struct mk_unpacked {
  char diff_id[MK_DIGEST_LEN + 1];
  uint64_t size;           /* uncompressed bytes */
  struct mk_strv implicit; /* directories implied, not listed (free it) */
};

/* Reads fd to its end (even after an extraction error is known, nothing
 * more is written). limit caps the uncompressed size. */
int mk_unpack_layer_fd(int fd, int dirfd, uint64_t limit,
                       struct mk_unpacked *out, mk_error_t *err);

/* MOCKER_MAX_LAYER_SIZE, or 64 GiB. */
uint64_t mk_max_layer_size(void);

/* The size knobs (MOCKER_MAX_LAYER_SIZE, MOCKER_MAX_LOAD_SIZE) take
 * Docker's byte sizes ("64g"), through mk_parse_bytes. main() refuses a
 * bad one up front with this; afterwards mk_size_knob gives the value,
 * or dflt when unset. */
int mk_check_size_knobs(mk_error_t *err);
uint64_t mk_size_knob(const char *name, uint64_t dflt);

#endif
