#include "userns.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/context.h"
#include "mk_util.h"
#include "spec.h"

/* ---- where the ids come from ---- */

static int parse_u32(const char *s, uint32_t *out)
{
  char *end;
  unsigned long long v;

  if (!*s || *s == '-' || *s == '+')
    return -1;
  errno = 0;
  v = strtoull(s, &end, 10);
  if (errno || *end || v > UINT32_MAX)
    return -1;
  *out = (uint32_t)v;
  return 0;
}

/* "name:start:count": start, if the line is user's and long enough. */
static int subid_line(char *line, const char *user, const char *uid_text,
                      uint32_t count, uint32_t *start)
{
  char *name = strtok(line, ":\n"), *first = strtok(NULL, ":\n"),
       *len = strtok(NULL, ":\n");
  uint32_t s, n;

  if (!name || !first || !len ||
      (strcmp(name, user) != 0 && strcmp(name, uid_text) != 0))
    return 0;
  if (parse_u32(first, &s) < 0 || parse_u32(len, &n) < 0 || n < count ||
      (uint64_t)s + count > UINT32_MAX || s == 0)
    return 0;
  *start = s;
  return 1;
}

int mk_subid_find(const char *path, const char *user, uid_t uid,
                  uint32_t count, uint32_t *start, mk_error_t *err)
{
  char line[512], uid_text[16];
  FILE *f = fopen(path, "re");
  int found = 0;

  if (!f)
    return mk_error_sys(err, errno, "open `%s`", path);
  snprintf(uid_text, sizeof(uid_text), "%u", (unsigned)uid);
  while (!found && fgets(line, sizeof(line), f))
    found = subid_line(line, user, uid_text, count, start);
  fclose(f);
  if (!found)
    return mk_error_set(err, ENOENT,
                        "`%s` gives user `%s` no range of %u subordinate ids "
                        "(`make install` or the mocker package adds one)",
                        path, user, count);
  return 0;
}

static const char *env_or(const char *name, const char *fallback)
{
  const char *v = getenv(name);

  return v && *v ? v : fallback;
}

int mk_userns_remap(const char *user, struct mk_userns *u, mk_error_t *err)
{
  uint32_t ustart, gstart;

  memset(u, 0, sizeof(*u));
  if (mk_subid_find(env_or("MOCKER_SUBUID", "/etc/subuid"), user, (uid_t)-1,
                    MK_REMAP_COUNT, &ustart, err) < 0 ||
      mk_subid_find(env_or("MOCKER_SUBGID", "/etc/subgid"), user, (uid_t)-1,
                    MK_REMAP_COUNT, &gstart, err) < 0)
    return mk_error_prefix(err, "--userns=remap");
  u->nuid = u->ngid = 1;
  u->uid[0] = (struct mk_idmap){0, ustart, MK_REMAP_COUNT};
  u->gid[0] = (struct mk_idmap){0, gstart, MK_REMAP_COUNT};
  return 0;
}

/* ---- how a container keeps them ---- */

static json_t *maps_to_json(const struct mk_idmap *m, uint32_t n)
{
  json_t *a = json_array();
  char buf[48];

  for (uint32_t i = 0; a && i < n; i++) {
    snprintf(buf, sizeof(buf), "%u:%u:%u", m[i].inside, m[i].outside,
             m[i].count);
    json_array_append_new(a, json_string(buf));
  }
  return a;
}

json_t *mk_userns_to_json(const struct mk_userns *u)
{
  if (!mk_userns_active(u))
    return NULL;
  return json_pack("{s:o,s:o}", "UidMap", maps_to_json(u->uid, u->nuid),
                   "GidMap", maps_to_json(u->gid, u->ngid));
}

static int parse_map(const char *s, struct mk_idmap *m)
{
  char buf[48], *a, *b, *c;

  if (strlen(s) >= sizeof(buf))
    return -1;
  snprintf(buf, sizeof(buf), "%s", s);
  a = buf;
  b = strchr(a, ':');
  c = b ? strchr(b + 1, ':') : NULL;
  if (!b || !c)
    return -1;
  *b++ = '\0';
  *c++ = '\0';
  if (parse_u32(a, &m->inside) < 0 || parse_u32(b, &m->outside) < 0 ||
      parse_u32(c, &m->count) < 0 || m->count == 0 ||
      (uint64_t)m->inside + m->count > (uint64_t)UINT32_MAX + 1 ||
      (uint64_t)m->outside + m->count > (uint64_t)UINT32_MAX + 1)
    return -1;
  return 0;
}

static int maps_from_json(const json_t *a, const char *key,
                          struct mk_idmap *m, uint32_t *n, mk_error_t *err)
{
  size_t i;
  json_t *v;

  if (a && !json_is_array(a))
    return mk_error_set(err, EINVAL, "IDMappings.%s is not a list", key);
  if (json_array_size(a) > MK_MAX_IDMAPS)
    return mk_error_set(err, E2BIG, "IDMappings.%s: more than %d ranges",
                        key, MK_MAX_IDMAPS);
  json_array_foreach(a, i, v)
  {
    if (!json_is_string(v) || parse_map(json_string_value(v), &m[i]) < 0)
      return mk_error_set(err, EINVAL,
                          "IDMappings.%s: `%s` is not container:host:count",
                          key, json_is_string(v) ? json_string_value(v) : "?");
  }
  *n = (uint32_t)json_array_size(a);
  return 0;
}

int mk_userns_from_json(const json_t *j, struct mk_userns *u, mk_error_t *err)
{
  memset(u, 0, sizeof(*u));
  if (!j || json_is_null(j))
    return 0;
  if (!json_is_object(j))
    return mk_error_set(err, EINVAL, "IDMappings is not an object");
  if (maps_from_json(json_object_get(j, "UidMap"), "UidMap", u->uid, &u->nuid,
                     err) < 0 ||
      maps_from_json(json_object_get(j, "GidMap"), "GidMap", u->gid, &u->ngid,
                     err) < 0)
    return -1;
  if (!u->nuid || !u->ngid)
    return mk_error_set(err, EINVAL,
                        "IDMappings needs both a UidMap and a GidMap");
  return 0;
}

int mk_userns_active(const struct mk_userns *u)
{
  return u && (u->nuid || u->ngid);
}

/* ---- which containers get one ---- */

/* config.json's "userns-remap" (Docker's daemon.json key): "default" is
 * MK_REMAP_USER, anything else a user name ("name:group" takes the
 * name). "" or no key: off. */
static int configured_remap_user(char user[64], mk_error_t *err)
{
  char dir[PATH_MAX], path[PATH_MAX + 16];
  json_error_t jerr;

  user[0] = '\0';
  mk_config_dir(dir);
  snprintf(path, sizeof(path), "%s/config.json", dir);
  json_auto_t *cfg = json_load_file(path, 0, &jerr);
  if (!cfg)
    return access(path, F_OK) < 0 ? 0
                                  : mk_error_set(err, EINVAL, "%s: %s", path,
                                                 jerr.text);
  const json_t *v = json_object_get(cfg, "userns-remap");
  if (!v)
    return 0;
  const char *name = json_string_value(v);
  size_t len = name ? strcspn(name, ":") : 0;
  if (!name || len >= 64 || strchr(name, '/') || strchr(name, '\n'))
    return mk_error_set(err, EINVAL, "%s: \"userns-remap\" is not a user name",
                        path);
  snprintf(user, 64, "%.*s", (int)len, name);
  if (strcmp(user, "default") == 0)
    snprintf(user, 64, "%s", MK_REMAP_USER);
  return 0;
}

/* Docker refuses these with user namespaces: each shares something of
 * the host's that a remapped root must not hold. */
static int check_remap_conflicts(const struct mk_spec *o, mk_error_t *err)
{
  static const struct {
    enum mk_ns_kind kind;
    const char *flag;
  } shared[] = {{MK_NS_PID, "--pid"}, {MK_NS_IPC, "--ipc"},
                {MK_NS_UTS, "--uts"}};

  if (o->privileged)
    return mk_error_set(err, EINVAL,
                        "--privileged needs --userns=host: a privileged "
                        "container holds the host's devices and /sys");
  if (o->network && strcmp(o->network, "host") == 0)
    return mk_error_set(err, EINVAL,
                        "--network host needs --userns=host: the host's "
                        "network namespace is not the container's to share");
  if (o->network && strncmp(o->network, "container:", 10) == 0)
    return mk_error_set(err, EINVAL,
                        "--network container:X with a user namespace is not "
                        "supported yet (--userns=host)");
  for (size_t i = 0; i < MK_ARRAY_SIZE(shared); i++)
    if (o->ns_modes[shared[i].kind] &&
        strcmp(o->ns_modes[shared[i].kind], "host") == 0)
      return mk_error_set(err, EINVAL, "%s host needs --userns=host",
                          shared[i].flag);
  return 0;
}

int mk_userns_for_spec(const struct mk_spec *o, struct mk_userns *u,
                       mk_error_t *err)
{
  char user[64];

  const char *mode = o->userns_mode && *o->userns_mode ? o->userns_mode : NULL;

  memset(u, 0, sizeof(*u));
  if (o->idmaps) {
    *u = *o->idmaps;
    return 0;
  }
  if (mode && strcmp(mode, "host") == 0)
    return 0;
  if (mode && strcmp(mode, "remap") != 0)
    return mk_error_set(err, EINVAL,
                        "--userns: `%s` is neither host nor remap", mode);
  if (configured_remap_user(user, err) < 0)
    return -1;
  if (!mode && !user[0])
    return 0; /* the default, and no remap configured */
  if (!user[0])
    snprintf(user, sizeof(user), "%s", MK_REMAP_USER);
  if (check_remap_conflicts(o, err) < 0)
    return -1;
  return mk_userns_remap(user, u, err);
}
