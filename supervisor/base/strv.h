/* A growable, NULL-terminated array of owned strings. */
#ifndef MK_STRV_H
#define MK_STRV_H

#include <stddef.h>

struct mk_strv {
  char **v; /* NULL-terminated, or NULL when empty */
  size_t n;
};

/* Appends a copy of s; exits on allocation failure (as xmalloc does). */
void mk_strv_push(struct mk_strv *sv, const char *s);
void mk_strv_pushf(struct mk_strv *sv, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void mk_strv_free(struct mk_strv *sv);

/* Index of the entry "name=..." (env style), or -1. */
long mk_strv_find_key(const struct mk_strv *sv, const char *name, size_t len);

/* Index of the entry equal to s, or -1. */
long mk_strv_find(const struct mk_strv *sv, const char *s);

/* Sets name=value, replacing an existing entry for name. */
void mk_strv_setenv(struct mk_strv *sv, const char *entry);

/* The entries joined by sep, malloc'ed ("" when empty). */
char *mk_strv_join(const struct mk_strv *sv, const char *sep);

void *mk_xmalloc(size_t n);
char *mk_xstrdup(const char *s);

#endif
