/* Error objects: a failing function fills one and returns < 0; only main
 * (or a child about to die) prints it. */
#ifndef MK_ERROR_H
#define MK_ERROR_H

#include <stdarg.h>

#define MK_ERROR_MSG_MAX 1024

typedef struct {
  int err; /* errno value, 0 when none applies */
  char msg[MK_ERROR_MSG_MAX];
} mk_error_t;

/* Sets the error and returns -1, so callers can `return mk_error_set(...)`. */
int mk_error_set(mk_error_t *e, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Like mk_error_set, and appends ": strerror(err)" when err != 0. */
int mk_error_sys(mk_error_t *e, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prepends "context: " to the message already in e; returns -1. */
int mk_error_prefix(mk_error_t *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
