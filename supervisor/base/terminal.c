#include "terminal.h"

#include <errno.h>
#include <sys/ioctl.h>
#include <unistd.h>

int mk_terminal_make_raw(struct mk_terminal *t, int fd, mk_error_t *err)
{
  struct termios raw;

  t->fd = fd;
  t->saved_valid = 0;
  if (tcgetattr(fd, &t->saved) < 0)
    return mk_error_sys(err, errno, "read terminal settings");
  raw = t->saved;
  cfmakeraw(&raw);
  /* Output processing stays on the container's pty, not ours. */
  raw.c_oflag = t->saved.c_oflag & ~(tcflag_t)OPOST;
  if (tcsetattr(fd, TCSADRAIN, &raw) < 0)
    return mk_error_sys(err, errno, "set terminal to raw mode");
  t->saved_valid = 1;
  return 0;
}

void mk_terminal_restore(struct mk_terminal *t)
{
  if (!t->saved_valid)
    return;
  while (tcsetattr(t->fd, TCSADRAIN, &t->saved) < 0 && errno == EINTR)
    ;
  t->saved_valid = 0;
}

void mk_terminal_get_size(int fd, unsigned short *rows, unsigned short *cols)
{
  struct winsize ws = {0};

  if (ioctl(fd, TIOCGWINSZ, &ws) < 0)
    ws.ws_row = ws.ws_col = 0;
  *rows = ws.ws_row;
  *cols = ws.ws_col;
}

void mk_terminal_copy_size(int from, int to)
{
  struct winsize ws;

  if (ioctl(from, TIOCGWINSZ, &ws) == 0)
    ioctl(to, TIOCSWINSZ, &ws);
}
