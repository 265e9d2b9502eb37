/* libFuzzer target for the container's /etc/passwd and /etc/group parsers
 * (init/passwd.c): mk_resolve_user and everything it calls (line
 * splitting, field splitting, id parsing, name, uid and group lookup,
 * supplementary groups). The files come from the image, the spec from -u
 * or the image's User: both untrusted, and parsed as root in init.
 *
 * Input: SPEC NUL PASSWD NUL GROUP. A missing PASSWD or GROUP is passed as
 * NULL, which the API treats as an empty file.
 *
 * Properties, for any input:
 *   - no memory error, no leak, no undefined behaviour;
 *   - a failure leaves a non-empty, NUL-terminated message;
 *   - success or failure, uid, gid, home and the supplementary groups are
 *     exactly what a straightforward reading of the text gives (a second,
 *     independent implementation below, from the rules in passwd.h and
 *     Docker's): the user is the first passwd line (not a # comment, at
 *     least 7 fields, numeric uid and gid) whose name (or, for a numeric
 *     spec, uid) matches; an unknown name fails, an unknown uid runs with
 *     gid 0 and HOME=/; ":group" is the first group line whose name or gid
 *     matches, else a numeric gid as given, else a failure;
 *     supplementary groups are the group lines listing the user's name as
 *     a member, in file order, at most MK_MAX_GROUPS; ids are decimal,
 *     0 .. 2^32-2; lines of 4096 bytes or more never match;
 *   - home is NUL-terminated inside its buffer.
 *
 * Build and run: see tests/fuzz/README.md.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "passwd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define LINE_LIMIT 4096      /* passwd.c: longer lines never match */
#define ID_MAX 4294967294ULL /* (uid_t)-1 means "no change" to the kernel */

static const char *in_spec, *in_passwd, *in_group;

static void fail(const char *what, const char *detail)
{
  fprintf(stderr,
          "fuzz_passwd: %s\n  spec:   `%s`\n  passwd: `%s`\n  group:  `%s`\n"
          "  detail: %s\n",
          what, in_spec, in_passwd ? in_passwd : "(null)",
          in_group ? in_group : "(null)", detail);
  abort();
}

/* ---- the reference reading, on (pointer, length) spans ---- */

struct span {
  const char *p;
  size_t n;
};

static int next_line(const char **pos, struct span *line)
{
  const char *s = *pos, *nl;

  if (!s || !*s)
    return 0;
  nl = strchr(s, '\n');
  line->p = s;
  line->n = nl ? (size_t)(nl - s) : strlen(s);
  *pos = s + line->n + (nl ? 1 : 0);
  return 1;
}

/* A line that can match: not a comment, not over-long. */
static int usable(struct span line)
{
  return line.n < LINE_LIMIT && !(line.n && line.p[0] == '#');
}

static size_t count_fields(struct span line)
{
  size_t n = 1;

  for (size_t i = 0; i < line.n; i++)
    n += line.p[i] == ':';
  return n;
}

/* Field i (0-based) of a ':'-separated line; the caller checked it exists. */
static struct span field(struct span line, size_t i)
{
  const char *p = line.p, *end = line.p + line.n;

  for (; i; i--)
    p = (const char *)memchr(p, ':', (size_t)(end - p)) + 1;
  const char *c = memchr(p, ':', (size_t)(end - p));
  return (struct span){p, (size_t)((c ? c : end) - p)};
}

static int span_is(struct span s, const char *str)
{
  return s.n == strlen(str) && memcmp(s.p, str, s.n) == 0;
}

/* A decimal id, -1 when s is not one. */
static long long span_id(struct span s)
{
  unsigned long long v = 0;

  if (!s.n)
    return -1;
  for (size_t i = 0; i < s.n; i++) {
    if (s.p[i] < '0' || s.p[i] > '9')
      return -1;
    v = v * 10 + (unsigned)(s.p[i] - '0');
    if (v > ID_MAX)
      return -1;
  }
  return (long long)v;
}

static long long str_id(const char *s)
{
  return span_id((struct span){s, strlen(s)});
}

struct ref_user {
  int ok;
  long long uid, gid;
  char home[PATH_MAX];
  size_t ngroups;
  long long groups[MK_MAX_GROUPS];
};

/* The first usable passwd line matching name (or uid when name is NULL). */
static int ref_find_passwd(const char *name, long long uid, struct span *out)
{
  const char *pos = in_passwd;
  struct span line;

  while (next_line(&pos, &line)) {
    if (!usable(line) || count_fields(line) < 7)
      continue;
    long long u = span_id(field(line, 2)), g = span_id(field(line, 3));
    if (u < 0 || g < 0)
      continue;
    if (name ? span_is(field(line, 0), name) : u == uid) {
      *out = line;
      return 1;
    }
  }
  return 0;
}

static int member_of(struct span members, struct span name)
{
  const char *p = members.p, *end = members.p + members.n;

  while (p <= end) {
    const char *c = memchr(p, ',', (size_t)(end - p));
    size_t n = (size_t)((c ? c : end) - p);
    if (n && n == name.n && memcmp(p, name.p, n) == 0)
      return 1;
    if (!c)
      break;
    p = c + 1;
  }
  return 0;
}

static void ref_groups(struct span name, struct ref_user *r)
{
  const char *pos = in_group;
  struct span line;

  while (r->ngroups < MK_MAX_GROUPS && next_line(&pos, &line)) {
    if (!usable(line) || count_fields(line) < 4)
      continue;
    long long g = span_id(field(line, 2));
    if (g >= 0 && member_of(field(line, 3), name))
      r->groups[r->ngroups++] = g;
  }
}

static long long ref_find_group(const char *want)
{
  const char *pos = in_group;
  struct span line;
  long long want_id = str_id(want);

  while (next_line(&pos, &line)) {
    if (!usable(line) || count_fields(line) < 3)
      continue;
    long long g = span_id(field(line, 2));
    if (g >= 0 && (span_is(field(line, 0), want) || g == want_id))
      return g;
  }
  return want_id;
}

static void ref_user_part(const char *user, struct ref_user *r)
{
  long long id = str_id(user);
  struct span line;

  if (!ref_find_passwd(id < 0 ? user : NULL, id, &line)) {
    r->ok = id >= 0; /* an unknown name fails, an unknown uid does not */
    r->uid = id;
    r->gid = 0;
    strcpy(r->home, "/");
    return;
  }
  struct span home = field(line, 5);
  r->ok = 1;
  r->uid = span_id(field(line, 2));
  r->gid = span_id(field(line, 3));
  snprintf(r->home, sizeof(r->home), "%.*s", (int)home.n, home.p);
  if (!home.n)
    strcpy(r->home, "/");
  ref_groups(field(line, 0), r);
}

static void ref_resolve(const char *spec, struct ref_user *r)
{
  static char user[LINE_LIMIT];
  const char *colon = strchr(spec, ':');
  size_t n = colon ? (size_t)(colon - spec) : strlen(spec);

  memset(r, 0, sizeof(*r));
  if (strlen(spec) >= LINE_LIMIT)
    return;
  if (!*spec)
    strcpy(user, "0"); /* Docker: no user is root */
  else
    snprintf(user, sizeof(user), "%.*s", (int)n, spec);
  if (!*user)
    return;
  ref_user_part(user, r);
  if (!r->ok || !colon)
    return;
  long long g = colon[1] ? ref_find_group(colon + 1) : -1;
  r->ok = g >= 0;
  r->gid = g;
}

/* ---- the comparison ---- */

static void compare(const struct mk_user *got, const struct ref_user *want)
{
  char detail[256];

  if ((uint64_t)got->uid != (uint64_t)want->uid ||
      (uint64_t)got->gid != (uint64_t)want->gid) {
    snprintf(detail, sizeof(detail), "got %u:%u, the text says %lld:%lld",
             (unsigned)got->uid, (unsigned)got->gid, want->uid, want->gid);
    fail("wrong uid or gid", detail);
  }
  if (!memchr(got->home, '\0', sizeof(got->home)))
    fail("home not NUL-terminated", "");
  if (strcmp(got->home, want->home) != 0)
    fail("wrong home", got->home);
  if (got->ngroups != want->ngroups)
    fail("wrong number of supplementary groups", "");
  for (size_t i = 0; i < got->ngroups; i++)
    if ((uint64_t)got->groups[i] != (uint64_t)want->groups[i])
      fail("wrong supplementary group", "");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *text = malloc(size + 1);
  const char *end;
  struct mk_user *got = malloc(sizeof(*got));
  struct ref_user *want = malloc(sizeof(*want));
  mk_error_t err;

  if (!text || !got || !want)
    abort();
  memcpy(text, data, size);
  text[size] = '\0';
  end = text + size;
  in_spec = text;
  in_passwd =
      in_spec + strlen(in_spec) < end ? in_spec + strlen(in_spec) + 1 : NULL;
  in_group = in_passwd && in_passwd + strlen(in_passwd) < end
                 ? in_passwd + strlen(in_passwd) + 1
                 : NULL;
  ref_resolve(in_spec, want);
  int rc = mk_resolve_user(in_spec, in_passwd, in_group, got, &err);
  if (rc < 0 && (!memchr(err.msg, '\0', sizeof(err.msg)) || !err.msg[0]))
    fail("failure without a message", "");
  if ((rc == 0) != want->ok)
    fail(rc == 0 ? "resolved a user the text does not have"
                 : "failed on a user the text has",
         rc < 0 ? err.msg : "");
  if (rc == 0)
    compare(got, want);
  free(want);
  free(got);
  free(text);
  return 0;
}
