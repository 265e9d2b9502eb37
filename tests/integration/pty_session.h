/* Driving mocker through a real pty the way a person does: openpty(),
 * mocker as the session leader on the slave, and the test typing into
 * the master and waiting for text to appear. */
#ifndef MK_IT_PTY_SESSION_H
#define MK_IT_PTY_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <termios.h>

#define EXPECT_MS 10000

struct sess {
  int master, slave;
  pid_t pid;
  struct termios before;
  char buf[1 << 18];
  size_t len, pos; /* bytes read; where the next expect searches from */
};

/* The session's output so far, control bytes escaped, for messages. */
const char *printable(const struct sess *s);
/* openpty with the size, and mocker ARGV on the slave. */
void sess_start(struct sess *s, unsigned short rows, unsigned short cols,
                const char *const argv[]);
/* Reads what the master has within timeout_ms; false when nothing came. */
bool sess_read(struct sess *s, int timeout_ms);
/* Waits until needle shows up after the last match. */
bool sess_expect(struct sess *s, const char *needle, int timeout_ms);
/* Types text one keystroke at a time. */
void sess_type(struct sess *s, const char *text);
/* Waits for mocker, checks its exit status and that the terminal settings
 * are back to what they were before it started; closes the pty. */
void sess_finish(struct sess *s, int want_status);
void assert_termios_equal(const struct termios *a, const struct termios *b);

#define EXPECT(s, needle)                                                      \
  ck_assert_msg(sess_expect((s), (needle), EXPECT_MS),                         \
                "`%s`: no \"%s\" on the terminal; it shows:\n%s",              \
                h_last_cmd(), (needle), printable(s))

#endif
