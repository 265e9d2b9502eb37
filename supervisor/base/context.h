/* Process-wide settings of one mocker invocation: the state root and where
 * our own binaries live. Passed explicitly; there are no globals. */
#ifndef MK_CONTEXT_H
#define MK_CONTEXT_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

#include "mk_error.h"

#define MK_DEFAULT_ROOT "/var/lib/mocker"
#define MK_DEFAULT_CONFIG_DIR "/etc/mocker"

/* Container, network and volume ids: lowercase hex, shown shortened. */
#define MK_ID_LEN 64
#define MK_SHORT_ID_LEN 12

struct mk_ctx {
  char root[PATH_MAX]; /* state root: --root, $MOCKER_ROOT or the default */
};

/* Creates the state root's skeleton if needed. */
int mk_ctx_prepare_root(const struct mk_ctx *ctx, mk_error_t *err);

/* Refuses an existing state root that is not ours, or that others can
 * write. A missing one is fine: mk_ctx_prepare_root makes it 0700. */
int mk_ctx_check_root(const struct mk_ctx *ctx, mk_error_t *err);

/* Whether s is lowercase hex of min_len to max_len characters. */
int mk_is_hex(const char *s, size_t min_len, size_t max_len);

/* snprintf into a PATH_MAX buffer below the root; fails on truncation. */
int mk_root_path(const struct mk_ctx *ctx, char out[PATH_MAX], mk_error_t *err,
                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* mkdir -p for host paths we own (the state root). */
int mk_mkdir_p(const char *path, mode_t mode, mk_error_t *err);

/* rm -rf without following symlinks or crossing mount points. */
int mk_remove_tree(const char *path, mk_error_t *err);

/* rm -rf of name inside dirfd (never following symlinks). */
int mk_remove_tree_at(int dirfd, const char *name, mk_error_t *err);

/* Takes an exclusive flock on directory dir, waiting for it; returns the
 * fd to close to release it, or -1. */
int mk_lock_dir(const char *dir, mk_error_t *err);

/* Random lowercase hex of 2*nbytes characters (+NUL) from getrandom. */
int mk_random_hex(char *out, size_t nbytes, mk_error_t *err);

/* Replaces dir/name with text atomically (a temporary file, then rename).
 * For files under the state root only. */
int mk_write_file_atomic(const char *dir, const char *name, const char *text,
                         mk_error_t *err);

/* The settings directory: $MOCKER_CONFIG_DIR, else /etc/mocker. Its
 * config.json holds Docker daemon.json's keys (registries, the default
 * bridge's bip). */
void mk_config_dir(char out[PATH_MAX]);

#endif
