/* The host terminal: raw mode while a -t container runs, always restored. */
#ifndef MK_TERMINAL_H
#define MK_TERMINAL_H

#include <termios.h>

#include "mk_error.h"

struct mk_terminal {
  int fd;
  int saved_valid;
  struct termios saved;
};

/* Saves fd's termios and puts it in raw mode (cfmakeraw). */
int mk_terminal_make_raw(struct mk_terminal *t, int fd, mk_error_t *err);

/* Restores what mk_terminal_make_raw saved; safe to call repeatedly. */
void mk_terminal_restore(struct mk_terminal *t);

/* Copies the window size of `from` to the pty master `to`. */
void mk_terminal_copy_size(int from, int to);

/* Reads fd's window size; 0 and 0 when it has none. */
void mk_terminal_get_size(int fd, unsigned short *rows, unsigned short *cols);

#endif
