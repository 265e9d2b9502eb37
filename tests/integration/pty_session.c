#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "pty_session.h"

#include <check.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

/* The session's output so far, control bytes escaped, for messages. */
const char *printable(const struct sess *s)
{
  static char out[8192];
  size_t start = s->len > 2000 ? s->len - 2000 : 0, o = 0;

  for (size_t i = start; i < s->len && o + 5 < sizeof out; i++) {
    unsigned char c = (unsigned char)s->buf[i];

    if (c == '\n' || (isprint(c) && c != '\\'))
      out[o++] = (char)c;
    else
      o += (size_t)snprintf(out + o, sizeof out - o, "\\x%02x", c);
  }
  out[o] = '\0';
  return out;
}

void sess_start(struct sess *s, unsigned short rows, unsigned short cols,
                       const char *const argv[])
{
  struct winsize ws = {.ws_row = rows, .ws_col = cols};

  memset(s, 0, sizeof *s);
  ck_assert_msg(openpty(&s->master, &s->slave, NULL, NULL, &ws) == 0,
                "openpty: %s", strerror(errno));
  fcntl(s->master, F_SETFD, FD_CLOEXEC);
  fcntl(s->slave, F_SETFD, FD_CLOEXEC);
  ck_assert_int_eq(tcgetattr(s->slave, &s->before), 0);
  s->pid = h_spawn_tty(argv, s->slave);
}

/* Reads what the master has within timeout_ms; false when nothing came. */
bool sess_read(struct sess *s, int timeout_ms)
{
  struct pollfd p = {.fd = s->master, .events = POLLIN};
  ssize_t n;

  if (poll(&p, 1, timeout_ms) <= 0)
    return false;
  if (s->len + 1 >= sizeof s->buf) {
    /* Keep the tail; expectations only look forward. */
    size_t keep = sizeof s->buf / 2, drop = s->len - keep;

    memmove(s->buf, s->buf + drop, keep);
    s->len = keep;
    s->pos = s->pos > drop ? s->pos - drop : 0;
  }
  n = read(s->master, s->buf + s->len, sizeof s->buf - s->len - 1);
  if (n <= 0)
    return false;
  s->len += (size_t)n;
  s->buf[s->len] = '\0';
  return true;
}

/* Waits until needle shows up after the last match. */
bool sess_expect(struct sess *s, const char *needle, int timeout_ms)
{
  long deadline = h_now_ms() + timeout_ms;

  for (;;) {
    const char *hit;
    long left;

    s->buf[s->len] = '\0';
    hit = strstr(s->buf + s->pos, needle);
    if (hit) {
      s->pos = (size_t)(hit - s->buf) + strlen(needle);
      return true;
    }
    left = deadline - h_now_ms();
    if (left <= 0)
      return false;
    sess_read(s, (int)left);
  }
}


void sess_type(struct sess *s, const char *text)
{
  size_t n = strlen(text);

  /* One keystroke at a time, as a person's terminal sends them. */
  for (size_t i = 0; i < n; i++) {
    ssize_t w;

    do
      w = write(s->master, text + i, 1);
    while (w < 0 && errno == EINTR);
    ck_assert_msg(w == 1, "write to the pty master: %s", strerror(errno));
  }
}

void assert_termios_equal(const struct termios *a,
                                 const struct termios *b)
{
  ck_assert_msg(a->c_iflag == b->c_iflag, "c_iflag %#o, was %#o", b->c_iflag,
                a->c_iflag);
  ck_assert_msg(a->c_oflag == b->c_oflag, "c_oflag %#o, was %#o", b->c_oflag,
                a->c_oflag);
  ck_assert_msg(a->c_cflag == b->c_cflag, "c_cflag %#o, was %#o", b->c_cflag,
                a->c_cflag);
  ck_assert_msg(a->c_lflag == b->c_lflag, "c_lflag %#o, was %#o", b->c_lflag,
                a->c_lflag);
  for (int i = 0; i < NCCS; i++)
    ck_assert_msg(a->c_cc[i] == b->c_cc[i], "c_cc[%d] %d, was %d", i,
                  b->c_cc[i], a->c_cc[i]);
  ck_assert(cfgetispeed(a) == cfgetispeed(b));
  ck_assert(cfgetospeed(a) == cfgetospeed(b));
}

/* Waits for mocker, checks its status and that the terminal settings are
 * back to what they were before it started. */
void sess_finish(struct sess *s, int want_status)
{
  struct termios after;
  int status = h_wait(s->pid, EXPECT_MS);

  sess_read(s, 0);
  ck_assert_msg(status == want_status,
                "`%s`: exit status %d, want %d; the terminal shows:\n%s",
                h_last_cmd(), status, want_status, printable(s));
  memset(&after, 0, sizeof after);
  ck_assert_int_eq(tcgetattr(s->slave, &after), 0);
  assert_termios_equal(&s->before, &after);
  close(s->master);
  close(s->slave);
}
