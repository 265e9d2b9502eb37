/* The paths of /proc and /sys every container gets masked or read-only
 * (Docker's lists): init applies them, and the OCI runtime checks a
 * bundle's maskedPaths and readonlyPaths against them. */
#ifndef MK_MASKED_H
#define MK_MASKED_H

#include <stddef.h>

/* A read-only empty tmpfs over directories, /dev/null over files. */
extern const char *const mk_masked_paths[];
extern const size_t mk_nmasked_paths;

/* Bound read-only onto themselves. */
extern const char *const mk_readonly_paths[];
extern const size_t mk_nreadonly_paths;

/* Whether path is masked (masked_only), or masked or read-only. */
int mk_path_is_confined(const char *path, int masked_only);

#endif
