/* Image references, normalised the way Docker does:
 * "busybox" = "docker.io/library/busybox:latest". */
#ifndef MK_REFERENCE_H
#define MK_REFERENCE_H

#include <stddef.h>

#include "mk_error.h"

struct mk_ref {
  char domain[256]; /* "docker.io", "localhost:5000", ... */
  char path[256];   /* "library/busybox" */
  char tag[129];    /* "" when only a digest was given */
  char digest[72];  /* "sha256:<64 hex>" or "" */
};

int mk_ref_parse(const char *text, struct mk_ref *ref, mk_error_t *err);

/* "domain/path:tag" (or "domain/path@digest" without a tag). */
void mk_ref_name(const struct mk_ref *ref, char *out, size_t size);

/* Docker's short form for display: "busybox:latest", "host:5000/x:1". */
void mk_ref_display(const struct mk_ref *ref, char *out, size_t size);

#endif
