#include "strv.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((noreturn)) static void out_of_memory(void)
{
  fputs("mocker: out of memory\n", stderr);
  exit(125);
}

void *mk_xmalloc(size_t n)
{
  void *p = malloc(n ? n : 1);

  if (!p)
    out_of_memory();
  return p;
}

char *mk_xstrdup(const char *s)
{
  char *p = strdup(s);

  if (!p)
    out_of_memory();
  return p;
}

static void push_owned(struct mk_strv *sv, char *s)
{
  char **v = realloc(sv->v, (sv->n + 2) * sizeof(*v));

  if (!v)
    out_of_memory();
  v[sv->n++] = s;
  v[sv->n] = NULL;
  sv->v = v;
}

void mk_strv_push(struct mk_strv *sv, const char *s)
{
  push_owned(sv, mk_xstrdup(s));
}

void mk_strv_pushf(struct mk_strv *sv, const char *fmt, ...)
{
  va_list ap;
  char *s;

  va_start(ap, fmt);
  if (vasprintf(&s, fmt, ap) < 0)
    out_of_memory();
  va_end(ap);
  push_owned(sv, s);
}

void mk_strv_free(struct mk_strv *sv)
{
  for (size_t i = 0; i < sv->n; i++)
    free(sv->v[i]);
  free(sv->v);
  sv->v = NULL;
  sv->n = 0;
}

long mk_strv_find_key(const struct mk_strv *sv, const char *name, size_t len)
{
  for (size_t i = 0; i < sv->n; i++)
    if (strncmp(sv->v[i], name, len) == 0 && sv->v[i][len] == '=')
      return (long)i;
  return -1;
}

long mk_strv_find(const struct mk_strv *sv, const char *s)
{
  for (size_t i = 0; i < sv->n; i++)
    if (strcmp(sv->v[i], s) == 0)
      return (long)i;
  return -1;
}

void mk_strv_setenv(struct mk_strv *sv, const char *entry)
{
  const char *eq = strchr(entry, '=');
  size_t len = eq ? (size_t)(eq - entry) : strlen(entry);
  long i = mk_strv_find_key(sv, entry, len);

  if (i < 0) {
    mk_strv_push(sv, entry);
    return;
  }
  free(sv->v[i]);
  sv->v[i] = mk_xstrdup(entry);
}

char *mk_strv_join(const struct mk_strv *sv, const char *sep)
{
  size_t len = 1;
  char *out;

  for (size_t i = 0; i < sv->n; i++)
    len += strlen(sv->v[i]) + strlen(sep);
  out = mk_xmalloc(len);
  out[0] = '\0';
  for (size_t i = 0; i < sv->n; i++)
    strcat(strcat(out, i ? sep : ""), sv->v[i]);
  return out;
}
