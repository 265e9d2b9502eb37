#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/validate.h"
#include "isolation/caps.h"
#include "mk_util.h"

#define CONFIG_MAX (4 << 20)

/* Every error names the field, as the user would find it in the file. */
static int bad(mk_error_t *err, const char *field, const char *why)
{
  return mk_error_set(err, EINVAL, "config.json: %s: %s", field, why);
}

static int opt_string(json_t *obj, const char *key, const char *field,
                      const char **out, mk_error_t *err)
{
  json_t *v = json_object_get(obj, key);

  *out = NULL;
  if (!v || json_is_null(v))
    return 0;
  if (!json_is_string(v))
    return bad(err, field, "must be a string");
  *out = json_string_value(v);
  if (strlen(*out) != json_string_length(v))
    return bad(err, field, "holds a NUL byte");
  return 0;
}

static int opt_bool(json_t *obj, const char *key, const char *field, int *out,
                    mk_error_t *err)
{
  json_t *v = json_object_get(obj, key);

  *out = 0;
  if (!v || json_is_null(v))
    return 0;
  if (!json_is_boolean(v))
    return bad(err, field, "must be true or false");
  *out = json_is_true(v);
  return 0;
}

static int opt_uint(json_t *obj, const char *key, const char *field,
                    uint64_t max, int *given, uint64_t *out, mk_error_t *err)
{
  json_t *v = json_object_get(obj, key);

  *given = 0;
  if (!v || json_is_null(v))
    return 0;
  if (!json_is_integer(v) || json_integer_value(v) < 0 ||
      (uint64_t)json_integer_value(v) > max)
    return bad(err, field, "must be a whole number in range");
  *out = (uint64_t)json_integer_value(v);
  *given = 1;
  return 0;
}

/* An array of strings into sv; a missing key is an empty list. */
static int opt_strings(json_t *obj, const char *key, const char *field,
                       struct mk_strv *sv, mk_error_t *err)
{
  json_t *a = json_object_get(obj, key), *v;
  size_t i;

  if (!a || json_is_null(a))
    return 0;
  if (!json_is_array(a))
    return bad(err, field, "must be an array of strings");
  json_array_foreach(a, i, v)
  {
    if (!json_is_string(v) ||
        strlen(json_string_value(v)) != json_string_length(v))
      return bad(err, field, "must be an array of strings");
    mk_strv_push(sv, json_string_value(v));
  }
  return 0;
}

static int check_absolute(const char *path, const char *field, mk_error_t *err)
{
  if (!path || path[0] != '/')
    return bad(err, field, "must be an absolute path");
  return 0;
}

/* ---- process ---- */

static int parse_user(json_t *user, struct mk_oci_process *p, mk_error_t *err)
{
  uint64_t v = 0;
  int given;
  json_t *gids = json_object_get(user, "additionalGids"), *g;
  size_t i;

  if (!json_is_object(user))
    return bad(err, "process.user", "must be an object with uid and gid");
  if (opt_uint(user, "uid", "process.user.uid", UINT32_MAX - 1, &given, &v,
               err) < 0)
    return -1;
  p->uid = (uint32_t)v;
  if (!given)
    return bad(err, "process.user.uid", "is required");
  if (opt_uint(user, "gid", "process.user.gid", UINT32_MAX - 1, &given, &v,
               err) < 0)
    return -1;
  p->gid = (uint32_t)v;
  if (!given)
    return bad(err, "process.user.gid", "is required");
  if (opt_uint(user, "umask", "process.user.umask", 0777, &p->has_umask, &v,
               err) < 0)
    return -1;
  p->umask = (mode_t)v;
  if (json_object_get(user, "username"))
    return bad(err, "process.user.username", "is for Windows only");
  if (gids && !json_is_array(gids))
    return bad(err, "process.user.additionalGids", "must be an array");
  if (json_array_size(gids) > MK_OCI_MAX_GIDS)
    return bad(err, "process.user.additionalGids", "has too many entries");
  json_array_foreach(gids, i, g)
  {
    if (!json_is_integer(g) || json_integer_value(g) < 0 ||
        json_integer_value(g) >= (json_int_t)UINT32_MAX)
      return bad(err, "process.user.additionalGids", "must hold gids");
    p->gids[p->ngids++] = (uint32_t)json_integer_value(g);
  }
  return 0;
}

/* Names must be CAP_ names this kernel knows: unknown is an error, where
 * runc and crun warn and go on. */
static int parse_capset(json_t *caps, const char *key, uint64_t *mask,
                        mk_error_t *err)
{
  struct mk_strv names = {0};
  char field[64];
  int rc = 0;

  snprintf(field, sizeof(field), "process.capabilities.%s", key);
  if (opt_strings(caps, key, field, &names, err) < 0) {
    mk_strv_free(&names); /* what was pushed before the bad entry */
    return -1;
  }
  for (size_t i = 0; i < names.n && rc == 0; i++) {
    int cap =
        strncmp(names.v[i], "CAP_", 4) == 0 ? mk_cap_parse(names.v[i]) : -1;
    if (cap < 0 || cap >= 64)
      rc = mk_error_set(err, EINVAL, "config.json: %s: unknown capability %s",
                        field, names.v[i]);
    else
      *mask |= 1ULL << cap;
  }
  mk_strv_free(&names);
  return rc;
}

static int parse_caps(json_t *caps, struct mk_oci_process *p, mk_error_t *err)
{
  static const char *const sets[MK_OCI_NCAPSETS] = {
      "bounding", "effective", "inheritable", "permitted", "ambient"};

  if (!caps || json_is_null(caps))
    return 0;
  if (!json_is_object(caps))
    return bad(err, "process.capabilities", "must be an object");
  for (int i = 0; i < MK_OCI_NCAPSETS; i++)
    if (parse_capset(caps, sets[i], &p->caps[i], err) < 0)
      return -1;
  return 0;
}

static int rlimit_resource(const char *name)
{
  static const struct {
    const char *name;
    int resource;
  } table[] = {
      {"RLIMIT_AS", RLIMIT_AS},
      {"RLIMIT_CORE", RLIMIT_CORE},
      {"RLIMIT_CPU", RLIMIT_CPU},
      {"RLIMIT_DATA", RLIMIT_DATA},
      {"RLIMIT_FSIZE", RLIMIT_FSIZE},
      {"RLIMIT_LOCKS", RLIMIT_LOCKS},
      {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
      {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
      {"RLIMIT_NICE", RLIMIT_NICE},
      {"RLIMIT_NOFILE", RLIMIT_NOFILE},
      {"RLIMIT_NPROC", RLIMIT_NPROC},
      {"RLIMIT_RSS", RLIMIT_RSS},
      {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
      {"RLIMIT_RTTIME", RLIMIT_RTTIME},
      {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
      {"RLIMIT_STACK", RLIMIT_STACK},
  };

  for (size_t i = 0; i < MK_ARRAY_SIZE(table); i++)
    if (strcmp(name, table[i].name) == 0)
      return table[i].resource;
  return -1;
}

static int parse_rlimit(json_t *r, struct mk_oci_process *p, mk_error_t *err)
{
  const char *type;
  int hard_given, soft_given;
  struct mk_oci_rlimit *l = &p->rlimits[p->nrlimits];

  if (!json_is_object(r) ||
      opt_string(r, "type", "process.rlimits[].type", &type, err) < 0)
    return json_is_object(r) ? -1
                             : bad(err, "process.rlimits", "must hold objects");
  if (!type || (l->resource = rlimit_resource(type)) < 0)
    return mk_error_set(err, EINVAL,
                        "config.json: process.rlimits: unknown type %s",
                        type ? type : "(none)");
  for (size_t i = 0; i < p->nrlimits; i++)
    if (p->rlimits[i].resource == l->resource)
      return mk_error_set(err, EINVAL,
                          "config.json: process.rlimits: %s given twice", type);
  if (opt_uint(r, "hard", "process.rlimits[].hard", UINT64_MAX >> 1,
               &hard_given, &l->hard, err) < 0 ||
      opt_uint(r, "soft", "process.rlimits[].soft", UINT64_MAX >> 1,
               &soft_given, &l->soft, err) < 0)
    return -1;
  if (!hard_given || !soft_given)
    return bad(err, "process.rlimits[]", "needs hard and soft");
  if (l->soft > l->hard)
    return mk_error_set(
        err, EINVAL, "config.json: process.rlimits: %s soft above hard", type);
  p->nrlimits++;
  return 0;
}

static int parse_rlimits(json_t *a, struct mk_oci_process *p, mk_error_t *err)
{
  json_t *r;
  size_t i;

  if (!a || json_is_null(a))
    return 0;
  if (!json_is_array(a) || json_array_size(a) > MK_OCI_MAX_RLIMITS)
    return bad(err, "process.rlimits", "must be an array of 16 or fewer");
  json_array_foreach(a, i, r) if (parse_rlimit(r, p, err) < 0) return -1;
  return 0;
}

static int parse_console(json_t *obj, struct mk_oci_process *p, mk_error_t *err)
{
  json_t *size = json_object_get(obj, "consoleSize");
  uint64_t h = 0, w = 0;
  int hg, wg;

  if (!size || json_is_null(size))
    return 0;
  if (!json_is_object(size) ||
      opt_uint(size, "height", "process.consoleSize.height", 65535, &hg, &h,
               err) < 0 ||
      opt_uint(size, "width", "process.consoleSize.width", 65535, &wg, &w,
               err) < 0)
    return json_is_object(size)
               ? -1
               : bad(err, "process.consoleSize", "must be an object");
  p->rows = (unsigned)h;
  p->cols = (unsigned)w;
  return 0;
}

static int parse_env(json_t *obj, struct mk_oci_process *p, mk_error_t *err)
{
  if (opt_strings(obj, "env", "process.env", &p->env, err) < 0)
    return -1;
  for (size_t i = 0; i < p->env.n; i++) {
    if (mk_validate_env_entry(p->env.v[i], err) < 0)
      return mk_error_prefix(err, "config.json: process.env[%zu]", i);
    if (!strchr(p->env.v[i], '='))
      return mk_error_set(err, EINVAL,
                          "config.json: process.env[%zu]: `%s` has no '='", i,
                          p->env.v[i]);
  }
  return 0;
}

static int parse_oom(json_t *obj, struct mk_oci_process *p, mk_error_t *err)
{
  json_t *v = json_object_get(obj, "oomScoreAdj");

  if (!v || json_is_null(v))
    return 0;
  if (!json_is_integer(v) || json_integer_value(v) < -1000 ||
      json_integer_value(v) > 1000)
    return bad(err, "process.oomScoreAdj", "must be from -1000 to 1000");
  p->has_oom_score_adj = 1;
  p->oom_score_adj = (int)json_integer_value(v);
  return 0;
}

static int parse_process(json_t *obj, struct mk_oci_process *p, mk_error_t *err)
{
  if (!json_is_object(obj))
    return bad(err, "process", "must be an object");
  if (opt_bool(obj, "terminal", "process.terminal", &p->terminal, err) < 0 ||
      parse_console(obj, p, err) < 0 ||
      parse_user(json_object_get(obj, "user"), p, err) < 0 ||
      opt_strings(obj, "args", "process.args", &p->args, err) < 0 ||
      parse_env(obj, p, err) < 0 ||
      opt_string(obj, "cwd", "process.cwd", &p->cwd, err) < 0 ||
      parse_caps(json_object_get(obj, "capabilities"), p, err) < 0 ||
      parse_rlimits(json_object_get(obj, "rlimits"), p, err) < 0 ||
      opt_bool(obj, "noNewPrivileges", "process.noNewPrivileges",
               &p->no_new_privileges, err) < 0 ||
      parse_oom(obj, p, err) < 0)
    return -1;
  if (p->args.n == 0)
    return bad(err, "process.args", "must name the program to run");
  if (check_absolute(p->cwd, "process.cwd", err) < 0)
    return -1;
  if (json_object_get(obj, "commandLine"))
    return bad(err, "process.commandLine", "is for Windows only");
  return 0;
}

/* ---- root, mounts ---- */

static int parse_root(json_t *root, struct mk_oci_config *c, mk_error_t *err)
{
  if (!json_is_object(root))
    return bad(err, "root", "must be an object with a path");
  if (opt_string(root, "path", "root.path", &c->root_path, err) < 0 ||
      opt_bool(root, "readonly", "root.readonly", &c->root_readonly, err) < 0)
    return -1;
  if (!c->root_path || !*c->root_path)
    return bad(err, "root.path", "is required");
  return 0;
}

static int parse_mount(json_t *m, struct mk_oci_mount *out, size_t i,
                       mk_error_t *err)
{
  char field[48];

  snprintf(field, sizeof(field), "mounts[%zu]", i);
  if (!json_is_object(m))
    return bad(err, field, "must be an object");
  if (opt_string(m, "destination", "mounts[].destination", &out->destination,
                 err) < 0 ||
      opt_string(m, "type", "mounts[].type", &out->type, err) < 0 ||
      opt_string(m, "source", "mounts[].source", &out->source, err) < 0 ||
      opt_strings(m, "options", "mounts[].options", &out->options, err) < 0)
    return -1;
  snprintf(field, sizeof(field), "mounts[%zu].destination", i);
  if (check_absolute(out->destination, field, err) < 0)
    return -1;
  if (json_object_get(m, "uidMappings") || json_object_get(m, "gidMappings"))
    return bad(err, field, "id-mapped mounts are not supported yet");
  return 0;
}

static int parse_mounts(json_t *a, struct mk_oci_config *c, mk_error_t *err)
{
  json_t *m;
  size_t i;

  if (!a || json_is_null(a))
    return 0;
  if (!json_is_array(a))
    return bad(err, "mounts", "must be an array");
  c->mounts = calloc(json_array_size(a) + 1, sizeof(*c->mounts));
  if (!c->mounts)
    return mk_error_set(err, ENOMEM, "out of memory");
  json_array_foreach(a, i, m)
  {
    c->nmounts = i + 1; /* counted first: a failed one is freed too */
    if (parse_mount(m, &c->mounts[i], i, err) < 0)
      return -1;
  }
  return 0;
}

/* ---- linux ---- */

int mk_oci_namespace_type(const char *name)
{
  static const struct {
    const char *name;
    int type;
  } table[] = {
      {"pid", CLONE_NEWPID},       {"network", CLONE_NEWNET},
      {"mount", CLONE_NEWNS},      {"ipc", CLONE_NEWIPC},
      {"uts", CLONE_NEWUTS},       {"user", CLONE_NEWUSER},
      {"cgroup", CLONE_NEWCGROUP}, {"time", CLONE_NEWTIME},
  };

  for (size_t i = 0; name && i < MK_ARRAY_SIZE(table); i++)
    if (strcmp(name, table[i].name) == 0)
      return table[i].type;
  return -1;
}

static int parse_namespace(json_t *ns, struct mk_oci_config *c, mk_error_t *err)
{
  const char *type, *path;
  struct mk_oci_namespace *n = &c->namespaces[c->nnamespaces];

  if (!json_is_object(ns))
    return bad(err, "linux.namespaces", "must hold objects");
  if (opt_string(ns, "type", "linux.namespaces[].type", &type, err) < 0 ||
      opt_string(ns, "path", "linux.namespaces[].path", &path, err) < 0)
    return -1;
  n->type = mk_oci_namespace_type(type);
  if (n->type < 0)
    return mk_error_set(err, EINVAL,
                        "config.json: linux.namespaces: unknown type %s",
                        type ? type : "(none)");
  for (size_t i = 0; i < c->nnamespaces; i++)
    if (c->namespaces[i].type == n->type)
      return mk_error_set(
          err, EINVAL, "config.json: linux.namespaces: %s given twice", type);
  if (path && check_absolute(path, "linux.namespaces[].path", err) < 0)
    return -1;
  n->path = path;
  c->nnamespaces++;
  return 0;
}

static int parse_namespaces(json_t *a, struct mk_oci_config *c, mk_error_t *err)
{
  json_t *ns;
  size_t i;

  if (!a || json_is_null(a))
    return 0;
  if (!json_is_array(a) || json_array_size(a) > MK_OCI_MAX_NAMESPACES)
    return bad(err, "linux.namespaces", "must be an array of 8 or fewer");
  json_array_foreach(a, i, ns) if (parse_namespace(ns, c, err) < 0) return -1;
  return 0;
}

/* SCMP_ACT_NOTIFY hands syscalls to a listener process, which mocker
 * does not provide: refused where it appears, not silently dropped. */
static int check_seccomp(json_t *s, mk_error_t *err)
{
  json_t *rule;
  size_t i;
  const char *def = json_string_value(json_object_get(s, "defaultAction"));

  if (!json_is_object(s))
    return bad(err, "linux.seccomp", "must be an object");
  if (json_object_get(s, "listenerPath"))
    return bad(err, "linux.seccomp.listenerPath",
               "seccomp notification is not supported");
  if (!def)
    return bad(err, "linux.seccomp.defaultAction", "is required");
  if (strcmp(def, "SCMP_ACT_NOTIFY") == 0)
    return bad(err, "linux.seccomp.defaultAction",
               "SCMP_ACT_NOTIFY is not supported");
  json_array_foreach(json_object_get(s, "syscalls"), i, rule)
  {
    const char *action = json_string_value(json_object_get(rule, "action"));
    if (action && strcmp(action, "SCMP_ACT_NOTIFY") == 0)
      return bad(err, "linux.seccomp.syscalls[].action",
                 "SCMP_ACT_NOTIFY is not supported");
  }
  return 0;
}

static int check_sysctl(json_t *s, mk_error_t *err)
{
  const char *key;
  json_t *v;

  if (!json_is_object(s))
    return bad(err, "linux.sysctl", "must be an object of strings");
  json_object_foreach(s, key, v)
  {
    if (!json_is_string(v) || !*key || strchr(key, '/') || strstr(key, ".."))
      return mk_error_set(err, EINVAL,
                          "config.json: linux.sysctl: bad entry `%s`", key);
  }
  return 0;
}

static int check_propagation(const char *p, mk_error_t *err)
{
  static const char *const ok[] = {"private",    "rprivate",   "slave",
                                   "rslave",     "shared",     "rshared",
                                   "unbindable", "runbindable"};

  for (size_t i = 0; p && i < MK_ARRAY_SIZE(ok); i++)
    if (strcmp(p, ok[i]) == 0)
      return 0;
  return p ? bad(err, "linux.rootfsPropagation", "unknown propagation") : 0;
}

/* linux.uidMappings or gidMappings: {containerID, hostID, size} each,
 * no range wrapping past 2^32. */
static int parse_idmaps(json_t *a, const char *field, struct mk_idmap *maps,
                        uint32_t *n, mk_error_t *err)
{
  json_t *m;
  size_t i;

  if (!a || json_is_null(a))
    return 0;
  if (!json_is_array(a))
    return bad(err, field, "must be an array");
  if (json_array_size(a) > MK_MAX_IDMAPS)
    return bad(err, field, "more ranges than mocker takes (16)");
  json_array_foreach(a, i, m)
  {
    uint64_t v[3];
    int given[3] = {0};
    static const char *const keys[] = {"containerID", "hostID", "size"};
    if (!json_is_object(m))
      return bad(err, field, "each entry must be an object");
    for (int k = 0; k < 3; k++)
      if (opt_uint(m, keys[k], field, UINT32_MAX, &given[k], &v[k], err) < 0)
        return -1;
    if (!given[0] || !given[1] || !given[2] || v[2] == 0 ||
        v[0] + v[2] > (uint64_t)UINT32_MAX + 1 ||
        v[1] + v[2] > (uint64_t)UINT32_MAX + 1)
      return bad(err, field,
                 "each entry needs containerID, hostID and a size above 0 "
                 "that stays below 2^32");
    maps[i] = (struct mk_idmap){(uint32_t)v[0], (uint32_t)v[1], (uint32_t)v[2]};
  }
  *n = (uint32_t)json_array_size(a);
  return 0;
}

static int check_object(json_t *v, const char *field, mk_error_t *err)
{
  return v && !json_is_object(v) ? bad(err, field, "must be an object") : 0;
}

static int parse_linux(json_t *l, struct mk_oci_config *c, mk_error_t *err)
{
  if (!l || json_is_null(l))
    return 0;
  if (!json_is_object(l))
    return bad(err, "linux", "must be an object");
  c->resources = json_object_get(l, "resources");
  c->seccomp = json_object_get(l, "seccomp");
  c->sysctl = json_object_get(l, "sysctl");
  c->has_mount_label = json_object_get(l, "mountLabel") != NULL;
  c->has_id_mappings = json_object_get(l, "uidMappings") != NULL ||
                       json_object_get(l, "gidMappings") != NULL;
  if (parse_idmaps(json_object_get(l, "uidMappings"), "linux.uidMappings",
                   c->idmaps.uid, &c->idmaps.nuid, err) < 0 ||
      parse_idmaps(json_object_get(l, "gidMappings"), "linux.gidMappings",
                   c->idmaps.gid, &c->idmaps.ngid, err) < 0)
    return -1;
  if (parse_namespaces(json_object_get(l, "namespaces"), c, err) < 0 ||
      opt_string(l, "cgroupsPath", "linux.cgroupsPath", &c->cgroups_path, err) <
          0 ||
      check_object(c->resources, "linux.resources", err) < 0 ||
      (c->seccomp && check_seccomp(c->seccomp, err) < 0) ||
      (c->sysctl && check_sysctl(c->sysctl, err) < 0) ||
      opt_strings(l, "maskedPaths", "linux.maskedPaths", &c->masked_paths,
                  err) < 0 ||
      opt_strings(l, "readonlyPaths", "linux.readonlyPaths", &c->readonly_paths,
                  err) < 0 ||
      opt_string(l, "rootfsPropagation", "linux.rootfsPropagation",
                 &c->rootfs_propagation, err) < 0 ||
      check_propagation(c->rootfs_propagation, err) < 0)
    return -1;
  for (size_t i = 0; i < c->masked_paths.n; i++)
    if (check_absolute(c->masked_paths.v[i], "linux.maskedPaths", err) < 0)
      return -1;
  for (size_t i = 0; i < c->readonly_paths.n; i++)
    if (check_absolute(c->readonly_paths.v[i], "linux.readonlyPaths", err) < 0)
      return -1;
  return 0;
}

/* ---- hooks ---- */

const char *const mk_oci_hook_names[MK_OCI_NHOOK_KINDS] = {
    "prestart",       "createRuntime", "createContainer",
    "startContainer", "poststart",     "poststop"};

static int hook_env(const struct mk_oci_hook *h, const char *field,
                    mk_error_t *err)
{
  for (size_t i = 0; i < h->env.n; i++) {
    if (mk_validate_env_entry(h->env.v[i], err) < 0)
      return mk_error_prefix(err, "config.json: %s.env[%zu]", field, i);
    if (!strchr(h->env.v[i], '='))
      return mk_error_set(err, EINVAL,
                          "config.json: %s.env[%zu]: `%s` has no '='", field, i,
                          h->env.v[i]);
  }
  return 0;
}

static int parse_hook(json_t *obj, const char *field, struct mk_oci_hook *h,
                      mk_error_t *err)
{
  char sub[96];
  uint64_t timeout = 0;
  int given;

  if (!json_is_object(obj))
    return bad(err, field, "must be an object with a path");
  snprintf(sub, sizeof(sub), "%s.path", field);
  if (opt_string(obj, "path", sub, &h->path, err) < 0 ||
      check_absolute(h->path, sub, err) < 0)
    return -1;
  snprintf(sub, sizeof(sub), "%s.args", field);
  if (opt_strings(obj, "args", sub, &h->args, err) < 0)
    return -1;
  snprintf(sub, sizeof(sub), "%s.env", field);
  if (opt_strings(obj, "env", sub, &h->env, err) < 0 ||
      hook_env(h, field, err) < 0)
    return -1;
  snprintf(sub, sizeof(sub), "%s.timeout", field);
  if (opt_uint(obj, "timeout", sub, INT32_MAX, &given, &timeout, err) < 0)
    return -1;
  if (given && timeout == 0)
    return bad(err, sub, "must be above zero");
  h->timeout = (unsigned)timeout;
  return 0;
}

static int parse_hook_list(json_t *a, enum mk_oci_hook_kind kind,
                           struct mk_oci_hooks *h, mk_error_t *err)
{
  char field[64];
  json_t *obj;
  size_t i;

  snprintf(field, sizeof(field), "hooks.%s", mk_oci_hook_names[kind]);
  if (!a || json_is_null(a))
    return 0;
  if (!json_is_array(a))
    return bad(err, field, "must be an array");
  h->list[kind] = calloc(json_array_size(a) + 1, sizeof(*h->list[kind]));
  if (!h->list[kind])
    return mk_error_set(err, ENOMEM, "out of memory");
  json_array_foreach(a, i, obj)
  {
    h->n[kind] = i + 1; /* counted first: a failed one is freed too */
    snprintf(field, sizeof(field), "hooks.%s[%zu]", mk_oci_hook_names[kind], i);
    if (parse_hook(obj, field, &h->list[kind][i], err) < 0)
      return -1;
  }
  return 0;
}

/* Keys the spec does not define, in hooks or in a hook, are ignored, as
 * it asks of every unknown property. */
static int parse_hook_lists(json_t *hooks, struct mk_oci_hooks *h,
                            mk_error_t *err)
{
  if (!json_is_object(hooks))
    return bad(err, "hooks", "must be an object");
  for (int k = 0; k < MK_OCI_NHOOK_KINDS; k++)
    if (parse_hook_list(json_object_get(hooks, mk_oci_hook_names[k]),
                        (enum mk_oci_hook_kind)k, h, err) < 0)
      return -1;
  return 0;
}

int mk_oci_hooks_parse(json_t *hooks, struct mk_oci_hooks *h, mk_error_t *err)
{
  memset(h, 0, sizeof(*h));
  if (!hooks || json_is_null(hooks))
    return 0;
  h->doc = json_incref(hooks);
  if (parse_hook_lists(hooks, h, err) < 0) {
    mk_oci_hooks_free(h);
    return -1;
  }
  return 0;
}

void mk_oci_hooks_free(struct mk_oci_hooks *h)
{
  for (int k = 0; k < MK_OCI_NHOOK_KINDS; k++) {
    for (size_t i = 0; i < h->n[k]; i++) {
      mk_strv_free(&h->list[k][i].args);
      mk_strv_free(&h->list[k][i].env);
    }
    free(h->list[k]);
  }
  json_decref(h->doc);
  memset(h, 0, sizeof(*h));
}

static int parse_hooks(json_t *hooks, struct mk_oci_config *c, mk_error_t *err)
{
  if (mk_oci_hooks_parse(hooks, &c->hook_list, err) < 0)
    return -1;
  c->hooks = c->hook_list.doc;
  return 0;
}

/* ---- the whole ---- */

static int check_version(const char *v, mk_error_t *err)
{
  if (!v)
    return bad(err, "ociVersion", "is required");
  if (strncmp(v, "1.", 2) != 0)
    return mk_error_set(err, EINVAL,
                        "config.json: ociVersion %s: only 1.x is supported", v);
  return 0;
}

static int parse_document(struct mk_oci_config *c, mk_error_t *err)
{
  json_t *d = c->doc, *process = json_object_get(d, "process");

  if (!json_is_object(d))
    return bad(err, "(top level)", "must be an object");
  c->has_process = process && !json_is_null(process);
  if (opt_string(d, "ociVersion", "ociVersion", &c->oci_version, err) < 0 ||
      check_version(c->oci_version, err) < 0 ||
      parse_root(json_object_get(d, "root"), c, err) < 0 ||
      (c->has_process && parse_process(process, &c->process, err) < 0) ||
      opt_string(d, "hostname", "hostname", &c->hostname, err) < 0 ||
      opt_string(d, "domainname", "domainname", &c->domainname, err) < 0 ||
      parse_mounts(json_object_get(d, "mounts"), c, err) < 0 ||
      parse_linux(json_object_get(d, "linux"), c, err) < 0 ||
      parse_hooks(json_object_get(d, "hooks"), c, err) < 0)
    return -1;
  if (c->hostname && *c->hostname && mk_validate_hostname(c->hostname, err) < 0)
    return mk_error_prefix(err, "config.json: hostname");
  if (c->domainname && *c->domainname &&
      mk_validate_hostname(c->domainname, err) < 0)
    return mk_error_prefix(err, "config.json: domainname");
  return 0;
}

int mk_oci_config_parse(const char *text, size_t len, struct mk_oci_config *c,
                        mk_error_t *err)
{
  json_error_t jerr;

  memset(c, 0, sizeof(*c));
  c->doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
  if (!c->doc)
    return mk_error_set(err, EINVAL, "config.json: line %d: %s", jerr.line,
                        jerr.text);
  if (parse_document(c, err) < 0) {
    mk_oci_config_free(c);
    return -1;
  }
  return 0;
}

/* name beneath dirfd: a regular file of at most 4 MiB, not followed if
 * a link, and no fifo to hang on. */
static char *read_json_file(int dirfd, const char *name, size_t *len,
                            mk_error_t *err)
{
  _cleanup_close_ int fd =
      openat(dirfd, name,
             O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  struct stat st;
  ssize_t n;

  if (fd < 0)
    return mk_error_sys(err, errno, "open %s", name), NULL;
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > CONFIG_MAX)
    return mk_error_set(err, EINVAL,
                        "%s: not a regular file of 4 MiB or less", name),
           NULL;
  char *text = mk_xmalloc((size_t)st.st_size + 1);
  n = mk_read_all(fd, text, (size_t)st.st_size);
  if (n != st.st_size) {
    free(text);
    return mk_error_sys(err, errno ? errno : EIO, "read %s", name), NULL;
  }
  *len = (size_t)n;
  return text;
}

int mk_oci_config_load(const char *bundle, struct mk_oci_config *c,
                       mk_error_t *err)
{
  _cleanup_close_ int dir = open(bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  _cleanup_free_ char *text = NULL;
  size_t len = 0;

  memset(c, 0, sizeof(*c));
  if (dir < 0)
    return mk_error_sys(err, errno, "open bundle `%s`", bundle);
  text = read_json_file(dir, "config.json", &len, err);
  if (!text)
    return mk_error_prefix(err, "bundle `%s`", bundle);
  return mk_oci_config_parse(text, len, c, err);
}

void mk_oci_config_free(struct mk_oci_config *c)
{
  for (size_t i = 0; i < c->nmounts; i++)
    mk_strv_free(&c->mounts[i].options);
  free(c->mounts);
  mk_strv_free(&c->process.args);
  mk_strv_free(&c->process.env);
  mk_strv_free(&c->masked_paths);
  mk_strv_free(&c->readonly_paths);
  mk_oci_hooks_free(&c->hook_list);
  json_decref(c->doc);
  memset(c, 0, sizeof(*c));
}

int mk_oci_process_parse(const char *text, size_t len, json_t **doc,
                         struct mk_oci_process *p, mk_error_t *err)
{
  json_error_t jerr;

  memset(p, 0, sizeof(*p));
  *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
  if (!*doc)
    return mk_error_set(err, EINVAL, "process: line %d: %s", jerr.line,
                        jerr.text);
  if (parse_process(*doc, p, err) < 0) {
    static const char from[] = "config.json: ";
    if (strncmp(err->msg, from, sizeof(from) - 1) == 0) /* not its name */
      memmove(err->msg, err->msg + sizeof(from) - 1,
              strlen(err->msg) - sizeof(from) + 2);
    mk_oci_process_free(doc, p);
    return mk_error_prefix(err, "--process");
  }
  return 0;
}

int mk_oci_process_load(const char *path, json_t **doc,
                        struct mk_oci_process *p, mk_error_t *err)
{
  _cleanup_free_ char *text = NULL;
  size_t len = 0;

  *doc = NULL;
  memset(p, 0, sizeof(*p));
  text = read_json_file(AT_FDCWD, path, &len, err);
  if (!text)
    return mk_error_prefix(err, "--process");
  return mk_oci_process_parse(text, len, doc, p, err);
}

void mk_oci_process_free(json_t **doc, struct mk_oci_process *p)
{
  mk_strv_free(&p->args);
  mk_strv_free(&p->env);
  json_decref(*doc);
  *doc = NULL;
  memset(p, 0, sizeof(*p));
}
