#include "mk_error.h"

#include <stdio.h>
#include <string.h>

static void format_into(mk_error_t *e, const char *fmt, va_list ap)
{
  vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
}

int mk_error_set(mk_error_t *e, int err, const char *fmt, ...)
{
  va_list ap;

  e->err = err;
  va_start(ap, fmt);
  format_into(e, fmt, ap);
  va_end(ap);
  return -1;
}

int mk_error_sys(mk_error_t *e, int err, const char *fmt, ...)
{
  va_list ap;
  size_t used;

  e->err = err;
  va_start(ap, fmt);
  format_into(e, fmt, ap);
  va_end(ap);
  used = strlen(e->msg);
  if (err != 0 && used < sizeof(e->msg))
    snprintf(e->msg + used, sizeof(e->msg) - used, ": %s", strerror(err));
  return -1;
}

int mk_error_prefix(mk_error_t *e, const char *fmt, ...)
{
  char old[MK_ERROR_MSG_MAX];
  va_list ap;
  size_t used;

  memcpy(old, e->msg, sizeof(old));
  va_start(ap, fmt);
  format_into(e, fmt, ap);
  va_end(ap);
  used = strlen(e->msg);
  if (used < sizeof(e->msg))
    snprintf(e->msg + used, sizeof(e->msg) - used, ": %s", old);
  return -1;
}
