/* The client side of the attach protocol (shared/mk_attach.h): our
 * stdin/stdout/stderr joined to a container's monitor. */
#ifndef MK_ATTACH_CLIENT_H
#define MK_ATTACH_CLIENT_H

#include "mk_error.h"

#define MK_ATTACH_DETACHED (-2) /* the user typed the detach keys */
#define MK_ATTACH_LOST (-3)     /* the monitor went away without an exit */

/* Connects to the container directory's attach socket. */
int mk_attach_connect(const char *dir, mk_error_t *err);

/* Runs until the container exits (returns its exit code), the user
 * detaches with Ctrl-P Ctrl-Q (MK_ATTACH_DETACHED) or the monitor is
 * lost. tty: put our terminal in raw mode and follow its size. */
int mk_attach_run(int sock, int tty, int with_stdin, mk_error_t *err);

#endif
