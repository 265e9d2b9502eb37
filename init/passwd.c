#include "passwd.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define LINE_MAX_LEN 4096
#define MAX_FIELDS 8

/* Splits one line (modified in place) at ':' into at most MAX_FIELDS. */
static size_t split_fields(char *line, char **fields)
{
  size_t n = 0;

  fields[n++] = line;
  for (char *p = line; *p && n < MAX_FIELDS; p++) {
    if (*p == ':') {
      *p = '\0';
      fields[n++] = p + 1;
    }
  }
  return n;
}

/* Copies the next line of text into line; returns the rest or NULL at end.
 * Over-long lines come back empty, so they never match. */
static const char *next_line(const char *text, char *line)
{
  const char *nl;
  size_t n;

  if (!text || !*text)
    return NULL;
  nl = strchr(text, '\n');
  n = nl ? (size_t)(nl - text) : strlen(text);
  if (n >= LINE_MAX_LEN)
    n = 0;
  memcpy(line, text, n);
  line[n] = '\0';
  return nl ? nl + 1 : text + strlen(text);
}

/* Parses a decimal id; -1 when s is not one. */
static long parse_id(const char *s)
{
  char *end;
  long v;

  if (!*s || !isdigit((unsigned char)*s))
    return -1;
  errno = 0;
  v = strtol(s, &end, 10);
  if (errno || *end || v < 0 || v > (long)UINT32_MAX - 1)
    return -1;
  return v;
}

struct pw_match {
  char name[LINE_MAX_LEN];
  long uid, gid;
  char home[PATH_MAX];
};

/* Finds the passwd entry whose name is want (or whose uid is want_id). */
static int find_passwd(const char *text, const char *want, long want_id,
                       struct pw_match *m)
{
  char line[LINE_MAX_LEN];
  char *f[MAX_FIELDS];

  while ((text = next_line(text, line))) {
    if (line[0] == '#' || split_fields(line, f) < 7)
      continue;
    long uid = parse_id(f[2]), gid = parse_id(f[3]);
    if (uid < 0 || gid < 0)
      continue;
    if (want ? strcmp(f[0], want) != 0 : uid != want_id)
      continue;
    snprintf(m->name, sizeof(m->name), "%s", f[0]);
    snprintf(m->home, sizeof(m->home), "%s", f[5][0] ? f[5] : "/");
    m->uid = uid;
    m->gid = gid;
    return 0;
  }
  return -1;
}

/* Finds a group's gid by name or id; -1 when absent. */
static long find_group(const char *text, const char *want)
{
  char line[LINE_MAX_LEN];
  char *f[MAX_FIELDS];
  long want_id = parse_id(want);

  while ((text = next_line(text, line))) {
    if (line[0] == '#' || split_fields(line, f) < 3)
      continue;
    long gid = parse_id(f[2]);
    if (gid >= 0 && (strcmp(f[0], want) == 0 || gid == want_id))
      return gid;
  }
  return want_id;
}

static int has_member(char *members, const char *name)
{
  for (char *tok = strtok(members, ","); tok; tok = strtok(NULL, ","))
    if (strcmp(tok, name) == 0)
      return 1;
  return 0;
}

/* Supplementary groups: every group that lists name as a member. */
static void collect_groups(const char *text, const char *name,
                           struct mk_user *u)
{
  char line[LINE_MAX_LEN];
  char *f[MAX_FIELDS];

  while ((text = next_line(text, line)) && u->ngroups < MK_MAX_GROUPS) {
    if (line[0] == '#' || split_fields(line, f) < 4)
      continue;
    long gid = parse_id(f[2]);
    if (gid >= 0 && has_member(f[3], name))
      u->groups[u->ngroups++] = (gid_t)gid;
  }
}

static int resolve_user_part(const char *user, const char *passwd,
                             const char *group, struct mk_user *out,
                             mk_error_t *err)
{
  struct pw_match m;
  long id = parse_id(user);

  if (find_passwd(passwd, id < 0 ? user : NULL, id, &m) == 0) {
    out->uid = (uid_t)m.uid;
    out->gid = (gid_t)m.gid;
    snprintf(out->home, sizeof(out->home), "%s", m.home);
    collect_groups(group, m.name, out);
    return 0;
  }
  if (id < 0)
    return mk_error_set(err, ENOENT,
                        "unable to find user %s: no matching entries in "
                        "passwd file",
                        user);
  out->uid = (uid_t)id;
  out->gid = 0;
  snprintf(out->home, sizeof(out->home), "/");
  return 0;
}

int mk_resolve_user(const char *spec, const char *passwd, const char *group,
                    struct mk_user *out, mk_error_t *err)
{
  char user[LINE_MAX_LEN];
  const char *colon;

  memset(out, 0, sizeof(*out));
  if (strlen(spec) >= sizeof(user))
    return mk_error_set(err, EINVAL, "user spec too long");
  snprintf(user, sizeof(user), "%s", *spec ? spec : "0");
  colon = strchr(spec, ':');
  if (colon)
    user[colon - spec] = '\0';
  if (!*user)
    return mk_error_set(err, EINVAL, "invalid user spec `%s`", spec);
  if (resolve_user_part(user, passwd, group, out, err) < 0)
    return -1;
  if (!colon)
    return 0;
  if (!colon[1])
    return mk_error_set(err, EINVAL, "invalid user spec `%s`", spec);
  long gid = find_group(group, colon + 1);
  if (gid < 0)
    return mk_error_set(err, ENOENT,
                        "unable to find group %s: no matching entries in "
                        "group file",
                        colon + 1);
  out->gid = (gid_t)gid;
  return 0;
}
