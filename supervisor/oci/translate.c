#include "translate.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/capability.h>

#include "base/validate.h"
#include "image/layer.h"
#include "isolation/caps.h"
#include "isolation/cgroup.h"
#include "mk_masked.h"
#include "mk_proto.h"
#include "mk_util.h"

static int not_yet(mk_error_t *err, const char *field, const char *what)
{
  return mk_error_set(err, ENOTSUP, "config.json: %s: %s is not supported yet",
                      field, what);
}

/* ---- namespaces ---- */

static const struct mk_oci_namespace *find_ns(const struct mk_oci_config *c,
                                              int type)
{
  for (size_t i = 0; i < c->nnamespaces; i++)
    if (c->namespaces[i].type == type)
      return &c->namespaces[i];
  return NULL;
}

/* Whether the container's namespace of kind is the host's (the bundle
 * left it out): set through it, a sysctl or a name would change the
 * host. */
static int shares_host(const struct mk_spec *s, enum mk_ns_kind kind)
{
  if (kind == MK_NS_NET)
    return strcmp(s->network, "host") == 0;
  return s->ns_modes[kind] && strcmp(s->ns_modes[kind], "host") == 0;
}

/* The namespace a namespaced sysctl belongs to. */
static enum mk_ns_kind sysctl_namespace(const char *key)
{
  if (strncmp(key, "net.", 4) == 0)
    return MK_NS_NET;
  if (strcmp(key, "kernel.hostname") == 0 ||
      strcmp(key, "kernel.domainname") == 0)
    return MK_NS_UTS;
  return MK_NS_IPC; /* kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.* */
}

/* Only namespaced sysctls, of namespaces that are not the host's. */
static int translate_sysctls(const struct mk_oci_config *c, struct mk_spec *s,
                             mk_error_t *err)
{
  const char *key;
  json_t *v;

  json_object_foreach(c->sysctl, key, v)
  {
    mk_strv_pushf(&s->sysctls, "%s=%s", key, json_string_value(v));
    if (!mk_sysctl_is_namespaced(s->sysctls.v[s->sysctls.n - 1]) ||
        shares_host(s, sysctl_namespace(key)))
      return mk_error_set(err, EINVAL,
                          "config.json: linux.sysctl: %s is not a sysctl "
                          "of the container's own namespaces",
                          key);
  }
  if (((s->hostname && *s->hostname) || s->domainname) &&
      shares_host(s, MK_NS_UTS))
    return mk_error_set(err, EINVAL,
                        "config.json: hostname and domainname need a uts "
                        "namespace of the container's own");
  return 0;
}

/* Each namespace new, joined by path ("ns:PATH"), or, when the bundle
 * does not list it, the runtime's own (never the mount namespace). */
static int translate_namespaces(const struct mk_oci_config *c,
                                struct mk_spec *s, char paths[][PATH_MAX + 4],
                                mk_error_t *err)
{
  static const struct {
    int flag;
    enum mk_ns_kind kind;
  } kinds[] = {{CLONE_NEWPID, MK_NS_PID}, {CLONE_NEWNS, MK_NS_MNT},
               {CLONE_NEWUTS, MK_NS_UTS}, {CLONE_NEWIPC, MK_NS_IPC},
               {CLONE_NEWNET, MK_NS_NET}, {CLONE_NEWCGROUP, MK_NS_CGROUP}};
  const struct mk_oci_namespace *net = find_ns(c, CLONE_NEWNET);

  const struct mk_oci_namespace *user = find_ns(c, CLONE_NEWUSER);

  if (user && user->path)
    return not_yet(err, "linux.namespaces",
                   "joining a user namespace by path");
  if (user && (!c->idmaps.nuid || !c->idmaps.ngid))
    return mk_error_set(err, EINVAL,
                        "config.json: a user namespace needs both "
                        "linux.uidMappings and linux.gidMappings");
  if (!user && c->has_id_mappings)
    return mk_error_set(err, EINVAL,
                        "config.json: linux.uidMappings and gidMappings need "
                        "a user namespace in linux.namespaces");
  if (user)
    s->idmaps = &c->idmaps;
  else
    s->userns_mode = "host"; /* never config.json's remap default */
  if (user && find_ns(c, CLONE_NEWNET) && find_ns(c, CLONE_NEWNET)->path)
    return not_yet(err, "linux.namespaces",
                   "a network namespace joined by path with a new user "
                   "namespace");
  if (find_ns(c, CLONE_NEWTIME))
    return not_yet(err, "linux.namespaces", "a time namespace");
  if (!find_ns(c, CLONE_NEWNS))
    return mk_error_set(err, EINVAL,
                        "config.json: linux.namespaces: a container needs a "
                        "mount namespace of its own (\"mount\")");
  for (size_t i = 0; i < MK_ARRAY_SIZE(kinds); i++) {
    const struct mk_oci_namespace *ns = find_ns(c, kinds[i].flag);
    if (!ns) {
      s->ns_modes[kinds[i].kind] = "host";
      continue;
    }
    if (!ns->path)
      continue;
    snprintf(paths[kinds[i].kind], PATH_MAX + 4, "ns:%s", ns->path);
    s->ns_modes[kinds[i].kind] = paths[kinds[i].kind];
  }
  /* the network: new (only lo), joined, or the host's */
  s->network = net ? "none" : "host";
  s->ns_modes[MK_NS_NET] = net && net->path ? s->ns_modes[MK_NS_NET] : NULL;
  return translate_sysctls(c, s, err);
}

/* ---- process ---- */

static int add_cap_names(uint64_t mask, struct mk_strv *out, mk_error_t *err)
{
  char name[32];

  for (int cap = 0; cap < 64; cap++) {
    if (!(mask & (1ULL << cap)))
      continue;
    if (!mk_cap_name(cap, name))
      return mk_error_set(err, EINVAL, "capability %d has no name", cap);
    mk_strv_pushf(out, "CAP_%s", name);
  }
  return 0;
}

/* The first capability in mask, for a message. */
static const char *first_cap(uint64_t mask, char name[32])
{
  for (int cap = 0; cap < 64; cap++)
    if (mask & (1ULL << cap))
      return mk_cap_name(cap, name) ? name : "?";
  return "?";
}

static int caps_not_within(mk_error_t *err, const char *set, uint64_t beyond,
                           const char *of)
{
  char name[32];

  return mk_error_set(err, EINVAL,
                      "config.json: process.capabilities.%s: CAP_%s is not "
                      "in %s",
                      set, first_cap(beyond, name), of);
}

/* The capabilities this process may pass on: its permitted set. */
static uint64_t held_caps(void)
{
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];

  if (syscall(SYS_capget, &hdr, data) < 0)
    return ~0ULL; /* unknown: init cuts to what it holds */
  return (uint64_t)data[0].permitted | (uint64_t)data[1].permitted << 32;
}

/* The five sets as the kernel can give them: effective within permitted
 * and inheritable within bounding, refused otherwise, naming the
 * capability. An ambient capability the kernel cannot raise (not both
 * permitted and inheritable) is left out, as runc leaves it: runc's own
 * default spec, and so ours, lists ambient ones with no inheritable. */
int mk_oci_process_caps(const struct mk_oci_process *p, uint64_t *bounding,
                        uint64_t sets[MK_NCAPSETS], mk_error_t *err)
{
  const uint64_t *c = p->caps;
  uint64_t b = c[MK_OCI_CAP_BOUNDING], e = c[MK_OCI_CAP_EFFECTIVE],
           pe = c[MK_OCI_CAP_PERMITTED], i = c[MK_OCI_CAP_INHERITABLE],
           a = c[MK_OCI_CAP_AMBIENT];

  uint64_t held = held_caps(), all = b | e | pe | i | a;

  char name[32];

  if (all & ~held) /* granted silently less, the process would be wrong */
    return mk_error_set(err, EPERM,
                        "config.json: process.capabilities: CAP_%s is not "
                        "held by this runtime, so it cannot be given",
                        first_cap(all & ~held, name));
  if (e & ~pe)
    return caps_not_within(err, "effective", e & ~pe, "the permitted set");
  if (i & ~b)
    return caps_not_within(err, "inheritable", i & ~b, "the bounding set");
  *bounding = b;
  sets[MK_CAPSET_EFFECTIVE] = e;
  sets[MK_CAPSET_PERMITTED] = pe;
  sets[MK_CAPSET_INHERITABLE] = i;
  sets[MK_CAPSET_AMBIENT] = a & pe & i;
  return 0;
}

static int translate_caps(const struct mk_oci_process *p, struct mk_spec *s,
                          mk_error_t *err)
{
  uint64_t b;

  if (mk_oci_process_caps(p, &b, s->cap_sets, err) < 0)
    return -1;
  s->has_cap_sets = 1;
  mk_strv_push(&s->cap_drop, "ALL");
  return add_cap_names(b, &s->cap_add, err);
}

static int translate_process(const struct mk_oci_config *c, struct mk_spec *s,
                             char user[32], mk_error_t *err)
{
  const struct mk_oci_process *p = &c->process;

  if (!c->has_process)
    return mk_error_set(err, EINVAL, "config.json: process: is required");
  if (p->has_umask)
    s->umask = (int)p->umask;

  s->has_oom_score_adj = p->has_oom_score_adj;
  s->oom_score_adj = p->oom_score_adj;
  if (translate_caps(p, s, err) < 0)
    return -1;
  for (size_t i = 0; i < p->nrlimits; i++) {
    struct mk_ulimit u = {p->rlimits[i].resource, p->rlimits[i].soft,
                          p->rlimits[i].hard};
    if (mk_spec_add_ulimit(s, &u, err) < 0)
      return -1;
  }
  for (size_t i = 0; i < p->args.n; i++)
    mk_strv_push(&s->cmd, p->args.v[i]);
  for (size_t i = 0; i < p->env.n; i++)
    mk_strv_push(&s->env, p->env.v[i]);
  for (size_t i = 0; i < p->ngids; i++)
    mk_strv_pushf(&s->groups, "%u", p->gids[i]);
  snprintf(user, 32, "%u:%u", p->uid, p->gid);
  s->user = user;
  s->workdir = p->cwd;
  s->tty = p->terminal;
  s->open_stdin = 1; /* stdio is the caller's, as it gave it */
  s->no_new_privileges = p->no_new_privileges;
  return 0;
}

/* ---- mounts ---- */

static int is_bind(const struct mk_oci_mount *m)
{
  if (m->type && strcmp(m->type, "bind") == 0)
    return 1;
  for (size_t i = 0; i < m->options.n; i++)
    if (strcmp(m->options.v[i], "bind") == 0 ||
        strcmp(m->options.v[i], "rbind") == 0)
      return 1;
  return 0;
}

/* A filesystem's own option word (mode=755): letters, digits and
 * _=.:/- only, as it reaches the kernel as mount data. */
static int is_plain_option(const char *o)
{
  return *o && strlen(o) <= 256 &&
         strspn(o, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                   "0123456789_=.:/-") == strlen(o);
}

/* A bind's options: mount(8)'s generic words (ro, nosuid, rbind,
 * noatime, rshared...). A filesystem's own option (mode=755) means
 * nothing to a bind, whose data the kernel ignores: it is ignored here
 * too, as runc does. sync and dirsync belong to a filesystem, not to a
 * bind of it: refused, as is anything that is not a plain word. */
static int bind_options(const struct mk_oci_mount *m, struct mk_mount_spec *ms,
                        size_t i, mk_error_t *err)
{
  for (size_t k = 0; k < m->options.n; k++) {
    const char *o = m->options.v[k];
    if (mk_mount_option(o, &ms->flags, &ms->propagation)
            ? (ms->flags & (MK_MNT_SYNC | MK_MNT_DIRSYNC)) != 0
            : !is_plain_option(o))
      return mk_error_set(err, ENOTSUP,
                          "config.json: mounts[%zu]: bind option %s is not "
                          "supported yet",
                          i, o);
  }
  return 0;
}

/* Whether path (absolute) is root or beneath it, compared as normalised
 * text; a path with `..` counts as inside (refused). */
static int inside_rootfs(const char *path, const char *root)
{
  char p[PATH_MAX], r[PATH_MAX];
  size_t n;

  if (mk_path_normalise(path, 0, p, sizeof(p)) < 0 ||
      mk_path_normalise(root, 0, r, sizeof(r)) < 0)
    return 1;
  n = strlen(r);
  return strncmp(p, r, n) == 0 && (p[n] == '/' || p[n] == '\0');
}

static int add_bind(const struct mk_oci_mount *m, const char *bundle,
                    const char *root_lexical, struct mk_spec *s, size_t i,
                    mk_error_t *err)
{
  char source[PATH_MAX], real[PATH_MAX];
  struct stat st;
  struct mk_mount_spec ms = {.kind = MK_SPEC_BIND,
                             .target = (char *)m->destination};

  if (bind_options(m, &ms, i, err) < 0)
    return -1;
  ms.read_only = (ms.flags & MK_MNT_RDONLY) != 0;
  if (!m->source || !*m->source)
    return mk_error_set(err, EINVAL, "config.json: mounts[%zu]: no source", i);
  if (mk_snprintf(source, sizeof(source), "%s%s%s",
                  m->source[0] == '/' ? "" : bundle,
                  m->source[0] == '/' ? "" : "/", m->source) < 0)
    return mk_error_set(err, ENAMETOOLONG, "config.json: mounts[%zu]", i);
  /* A source in the rootfs could be an image's symlink, followed on the
   * host: refused on the lexical paths, before anything looks at it, and
   * again on the resolved one. */
  if (inside_rootfs(source, root_lexical) || inside_rootfs(source, s->rootfs))
    return mk_error_set(err, EINVAL,
                        "config.json: mounts[%zu]: source `%s` is in the "
                        "container's rootfs, or has `..`",
                        i, source);
  if (stat(source, &st) < 0 || !realpath(source, real))
    return mk_error_sys(err, errno, "config.json: mounts[%zu]: source `%s`", i,
                        source);
  if (inside_rootfs(real, s->rootfs))
    return mk_error_set(err, EINVAL,
                        "config.json: mounts[%zu]: source `%s` leads into the "
                        "container's rootfs",
                        i, source);
  if (mk_validate_mount_destination(m->destination, err) < 0)
    return mk_error_prefix(err, "config.json: mounts[%zu]", i);
  ms.source = real; /* resolved once, here, as Docker resolves -v */
  return mk_spec_add_mount(s, &ms, err);
}

/* A filesystem's own option (mode=755, newinstance, ptmxmode=0666,
 * size=64m...), passed to the kernel as data: plain words only, and a
 * tmpfs size= checked and normalised as --tmpfs's. */
static int fs_data_option(const char *type, const char *o, struct mk_strv *data,
                          mk_error_t *err)
{
  char size[32];

  if (strcmp(type, "tmpfs") == 0 && strncmp(o, "size=", 5) == 0) {
    if (mk_parse_tmpfs_size(o + 5, size, sizeof(size), err) < 0)
      return -1;
    mk_strv_pushf(data, "size=%s", size);
    return 0;
  }
  if (!is_plain_option(o))
    return mk_error_set(err, EINVAL, "%s option `%s` is not a plain word",
                        type, o);
  mk_strv_push(data, o);
  return 0;
}

/* The filesystems a bundle may mount by type, and where: cgroup and
 * cgroup2 mean the container's own cgroups, at /sys/fs/cgroup only. */
static int check_fs_type(const struct mk_oci_mount *m, size_t i,
                         mk_error_t *err)
{
  static const char *const types[] = {"tmpfs",  "proc",   "sysfs",  "mqueue",
                                      "devpts", "cgroup", "cgroup2"};
  size_t k = 0;

  while (k < MK_ARRAY_SIZE(types) && strcmp(m->type, types[k]) != 0)
    k++;
  if (k == MK_ARRAY_SIZE(types))
    return mk_error_set(err, ENOTSUP,
                        "config.json: mounts[%zu]: a %s mount at %s is not "
                        "supported yet",
                        i, m->type, m->destination);
  if (strncmp(m->type, "cgroup", 6) == 0 &&
      strcmp(m->destination, "/sys/fs/cgroup") != 0)
    return mk_error_set(err, ENOTSUP,
                        "config.json: mounts[%zu]: cgroup mounts are made at "
                        "/sys/fs/cgroup only",
                        i);
  return 0;
}

/* proc, sysfs, mqueue, devpts, tmpfs, cgroup: made by mocker-init in the
 * bundle's order with the bundle's flags, propagation and data. */
static int add_fs(const struct mk_oci_mount *m, struct mk_spec *s, size_t i,
                  mk_error_t *err)
{
  struct mk_mount_spec ms = {.kind = MK_SPEC_FS,
                             .target = (char *)m->destination,
                             .fstype = (char *)m->type,
                             .source = (char *)(m->source ? m->source : "")};
  struct mk_strv data = {0};
  int rc = check_fs_type(m, i, err);

  if (rc == 0 && mk_validate_mount_destination(m->destination, err) < 0)
    rc = mk_error_prefix(err, "config.json: mounts[%zu]", i);
  for (size_t k = 0; k < m->options.n && rc == 0; k++)
    if (!mk_mount_option(m->options.v[k], &ms.flags, &ms.propagation) &&
        fs_data_option(m->type, m->options.v[k], &data, err) < 0)
      rc = mk_error_prefix(err, "config.json: mounts[%zu]", i);
  if (rc == 0 && (ms.flags & MK_MNT_REC))
    rc = mk_error_set(err, EINVAL, "config.json: mounts[%zu]: rbind on %s", i,
                      m->type);
  if (rc == 0) {
    ms.data = mk_strv_join(&data, ",");
    ms.read_only = (ms.flags & MK_MNT_RDONLY) != 0;
    rc = mk_spec_add_mount(s, &ms, err);
    free(ms.data);
  }
  mk_strv_free(&data);
  return rc;
}

static int translate_mounts(const struct mk_oci_config *c, const char *bundle,
                            struct mk_spec *s, mk_error_t *err)
{
  char root_lexical[PATH_MAX];

  if (mk_snprintf(root_lexical, sizeof(root_lexical), "%s%s%s",
                  c->root_path[0] == '/' ? "" : bundle,
                  c->root_path[0] == '/' ? "" : "/", c->root_path) < 0)
    return mk_error_set(err, ENAMETOOLONG, "config.json: root.path");
  for (size_t i = 0; i < c->nmounts; i++) {
    const struct mk_oci_mount *m = &c->mounts[i];
    if (is_bind(m)) {
      if (add_bind(m, bundle, root_lexical, s, i, err) < 0)
        return -1;
      continue;
    }
    if (!m->type)
      return mk_error_set(err, EINVAL,
                          "config.json: mounts[%zu]: no type, and not a bind",
                          i);
    if (add_fs(m, s, i, err) < 0)
      return -1;
  }
  return 0;
}

/* The bundle's masked and read-only paths beyond what init always
 * confines (a read-only path init masks is confined more than asked). */
static int translate_confined_paths(const struct mk_oci_config *c,
                                    struct mk_spec *s, mk_error_t *err)
{
  for (size_t i = 0; i < c->masked_paths.n; i++) {
    const char *p = c->masked_paths.v[i];
    if (mk_validate_mount_destination(p, err) < 0)
      return mk_error_prefix(err, "config.json: linux.maskedPaths");
    if (!mk_path_is_confined(p, 1))
      mk_strv_push(&s->masked_paths, p);
  }
  for (size_t i = 0; i < c->readonly_paths.n; i++) {
    const char *p = c->readonly_paths.v[i];
    if (mk_validate_mount_destination(p, err) < 0)
      return mk_error_prefix(err, "config.json: linux.readonlyPaths");
    if (!mk_path_is_confined(p, 0))
      mk_strv_push(&s->readonly_paths, p);
  }
  return 0;
}

/* ---- linux ---- */

static int translate_root(const struct mk_oci_config *c, const char *bundle,
                          struct mk_spec *s, char rootfs[PATH_MAX],
                          mk_error_t *err)
{
  char joined[PATH_MAX];
  struct stat st;

  if (mk_snprintf(joined, sizeof(joined), "%s%s%s",
                  c->root_path[0] == '/' ? "" : bundle,
                  c->root_path[0] == '/' ? "" : "/", c->root_path) < 0 ||
      !realpath(joined, rootfs))
    return mk_error_sys(err, errno, "config.json: root.path `%s`", joined);
  if (stat(rootfs, &st) < 0 || !S_ISDIR(st.st_mode))
    return mk_error_set(
        err, ENOTDIR, "config.json: root.path `%s` is not a directory", rootfs);
  s->rootfs = rootfs;
  s->read_only_rootfs = c->root_readonly;
  return 0;
}

/* An allow rule goes to rules, in order, as text the engine parses
 * again (HostConfig.DeviceCgroupRules); without rules (an update), only
 * what the defaults allow already is taken. */
static int take_device_rule(json_t *d, size_t i, struct mk_strv *rules,
                            mk_error_t *err)
{
  const char *type = json_string_value(json_object_get(d, "type"));
  const char *access = json_string_value(json_object_get(d, "access"));
  json_t *maj = json_object_get(d, "major"), *min = json_object_get(d, "minor");
  struct mk_device_rule r = {
      type && *type ? type[0] : 'a',
      json_is_integer(maj) ? json_integer_value(maj) : -1,
      json_is_integer(min) ? json_integer_value(min) : -1, ""};

  if (!json_is_true(json_object_get(d, "allow")))
    return 0; /* a deny: everything not allowed is denied anyway */
  if (!access)
    access = "rwm";
  if (strlen(access) > 3 || strspn(access, "rwm") != strlen(access))
    return mk_error_set(err, EINVAL,
                        "config.json: linux.resources.devices[%zu]: access "
                        "`%s` is not some of rwm",
                        i, access);
  snprintf(r.access, sizeof(r.access), "%s", access);
  char text[64];
  mk_error_t why = {0};
  mk_device_rule_format(&r, text);
  if (mk_device_rule_parse(text, &r, &why) < 0)
    return mk_error_set(err, EINVAL,
                        "config.json: linux.resources.devices[%zu]: %s", i,
                        why.msg);
  if (rules) {
    mk_strv_push(rules, text);
    return 0;
  }
  if (!mk_cgroup_default_allows(&r))
    return mk_error_set(err, ENOTSUP,
                        "linux.resources.devices[%zu]: changing the device "
                        "rules of a running container (allowing %s) is not "
                        "supported yet",
                        i, text);
  return 0;
}

/* Whether a value says "nothing": absent, null, false, 0, "", [] or {}. */
static int is_empty_value(json_t *v)
{
  return !v || json_is_null(v) || json_is_false(v) ||
         (json_is_integer(v) && json_integer_value(v) == 0) ||
         (json_is_string(v) && !*json_string_value(v)) ||
         (json_is_array(v) && json_array_size(v) == 0) ||
         (json_is_object(v) && json_object_size(v) == 0);
}

/* Keys the runtime spec defines under obj that mocker does not honour
 * are refused when they say something; keys it does not define are
 * ignored, as the spec asks ("MUST NOT generate an error if they
 * encounter an unknown property"). */
static int deny_keys(json_t *obj, const char *where, const char *const *denied,
                     size_t n, mk_error_t *err)
{
  for (size_t k = 0; k < n; k++)
    if (!is_empty_value(json_object_get(obj, denied[k])))
      return mk_error_set(err, ENOTSUP,
                          "config.json: %s.%s is not supported yet", where,
                          denied[k]);
  return 0;
}
#define DENY_KEYS(obj, where, err, ...)                                        \
  deny_keys((obj), (where), (const char *const[]){__VA_ARGS__},                \
            sizeof((const char *const[]){__VA_ARGS__}) / sizeof(char *),       \
            (err))

/* A positive whole number at obj.key, 0 when unset; -1 (refused) when it
 * is there but not one. */
static long long number(json_t *obj, const char *key, const char *where,
                        mk_error_t *err)
{
  json_t *v = json_object_get(obj, key);

  if (!v || json_is_null(v) ||
      (json_is_integer(v) && json_integer_value(v) == -1)) /* unlimited */
    return 0;
  if (!json_is_integer(v) || json_integer_value(v) < 0)
    return mk_error_set(
        err, EINVAL, "config.json: %s.%s must be a whole number", where, key);
  return (long long)json_integer_value(v);
}

/* A field of a resource block, recorded in *set with bit when present. */
static int take_number(json_t *obj, const char *key, const char *where,
                       long long *out, unsigned bit, unsigned *set,
                       mk_error_t *err)
{
  long long v;

  if (!json_object_get(obj, key))
    return 0;
  if ((v = number(obj, key, where, err)) < 0)
    return -1;
  *out = v;
  *set |= bit;
  return 0;
}

static int take_string(json_t *obj, const char *key, const char *where,
                       const char **out, unsigned bit, unsigned *set,
                       mk_error_t *err)
{
  json_t *v = json_object_get(obj, key);

  if (!v || json_is_null(v))
    return 0;
  if (!json_is_string(v))
    return mk_error_set(err, EINVAL, "config.json: %s.%s must be a string",
                        where, key);
  *out = json_string_value(v);
  *set |= bit;
  return 0;
}

/* cpu: shares, quota and period as given, cpus and mems. */
static int take_cpu(json_t *cpu, struct mk_spec_resources *r, unsigned *set,
                    mk_error_t *err)
{
  const char *w = "linux.resources.cpu";

  if (DENY_KEYS(cpu, w, err, "realtimeRuntime", "realtimePeriod", "idle",
                "burst") < 0 ||
      take_number(cpu, "shares", w, &r->cpu_shares, MK_RES_CPU_SHARES, set,
                  err) < 0 ||
      take_number(cpu, "quota", w, &r->cpu_quota, MK_RES_CPU_QUOTA, set, err) <
          0 ||
      take_number(cpu, "period", w, &r->cpu_period, MK_RES_CPU_PERIOD, set,
                  err) < 0 ||
      take_string(cpu, "cpus", w, &r->cpuset_cpus, MK_RES_CPUSET_CPUS, set,
                  err) < 0 ||
      take_string(cpu, "mems", w, &r->cpuset_mems, MK_RES_CPUSET_MEMS, set,
                  err) < 0)
    return -1;
  if (r->cpuset_cpus && mk_validate_cpuset(r->cpuset_cpus, err) < 0)
    return mk_error_prefix(err, "config.json: %s.cpus", w);
  if (r->cpuset_mems && mk_validate_cpuset(r->cpuset_mems, err) < 0)
    return mk_error_prefix(err, "config.json: %s.mems", w);
  return 0;
}

int mk_oci_resources(json_t *res, struct mk_spec_resources *r, unsigned *set,
                     struct mk_strv *device_rules, mk_error_t *err)
{
  json_t *mem = json_object_get(res, "memory"), *v;
  json_t *pids = json_object_get(res, "pids");
  const char *m = "linux.resources.memory";
  size_t i;

  *set = 0;
  if (DENY_KEYS(res, "linux.resources", err, "blockIO", "hugepageLimits",
                "network", "rdma", "unified") < 0 ||
      DENY_KEYS(mem, m, err, "kernel", "kernelTCP", "swappiness",
                "disableOOMKiller", "checkBeforeUpdate") < 0 ||
      take_number(mem, "limit", m, &r->memory, MK_RES_MEMORY, set, err) < 0 ||
      take_number(mem, "reservation", m, &r->memory_reservation,
                  MK_RES_MEMORY_RESERVATION, set, err) < 0 ||
      take_number(mem, "swap", m, &r->memory_swap, MK_RES_MEMORY_SWAP, set,
                  err) < 0 ||
      take_number(pids, "limit", "linux.resources.pids", &r->pids_limit,
                  MK_RES_PIDS_LIMIT, set, err) < 0 ||
      take_cpu(json_object_get(res, "cpu"), r, set, err) < 0)
    return -1;
  if (json_is_integer(json_object_get(mem, "swap")) &&
      json_integer_value(json_object_get(mem, "swap")) == -1)
    r->memory_swap = -1; /* unlimited, as Docker's MemorySwap */
  json_array_foreach(json_object_get(res, "devices"), i, v)
  {
    if (take_device_rule(v, i, device_rules, err) < 0)
      return -1;
  }
  return 0;
}

static int translate_resources(json_t *res, struct mk_spec *s, mk_error_t *err)
{
  unsigned set;

  return mk_oci_resources(res, &s->resources, &set, &s->device_cgroup_rules,
                          err);
}

/* The profile as the spec defines it, and nothing else: the compiler
 * reads Docker's format, whose own keys (includes, excludes, archMap)
 * it would honour where the spec says nothing, so only the spec's keys
 * are copied. Spec keys mocker does not honour are refused. */
static json_t *spec_seccomp_profile(json_t *p, mk_error_t *err)
{
  static const char *const rule_keys[] = {"names", "action", "errnoRet",
                                          "args"};
  json_t *rule, *rules = json_array();
  size_t i;

  if (DENY_KEYS(p, "linux.seccomp", err, "flags", "listenerMetadata") < 0) {
    json_decref(rules);
    return NULL;
  }
  json_array_foreach(json_object_get(p, "syscalls"), i, rule)
  {
    json_t *copy = json_object();
    for (size_t k = 0; k < MK_ARRAY_SIZE(rule_keys); k++)
      if (json_object_get(rule, rule_keys[k]))
        json_object_set(copy, rule_keys[k], json_object_get(rule, rule_keys[k]));
    json_array_append_new(rules, copy);
  }
  json_t *out = json_pack("{s:O, s:o}", "defaultAction",
                          json_object_get(p, "defaultAction"), "syscalls",
                          rules);
  if (out && json_object_get(p, "defaultErrnoRet"))
    json_object_set(out, "defaultErrnoRet", json_object_get(p, "defaultErrnoRet"));
  if (out && json_object_get(p, "architectures"))
    json_object_set(out, "architectures", json_object_get(p, "architectures"));
  return out;
}

static int write_seccomp(json_t *profile, const char *path, struct mk_spec *s,
                         mk_error_t *err)
{
  if (!profile) {
    s->seccomp = MK_SECCOMP_UNCONFINED; /* runc's: none unless asked */
    return 0;
  }
  json_auto_t *copy = spec_seccomp_profile(profile, err);
  if (!copy)
    return -1;
  /* a new file, never through a link planted at its name */
  _cleanup_close_ int fd =
      open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0 || json_dumpfd(copy, fd, JSON_COMPACT) < 0)
    return mk_error_sys(err, errno, "write `%s`", path);
  s->seccomp = MK_SECCOMP_FILE;
  s->seccomp_profile = path;
  return 0;
}

/* linux.personality: the execution domain, LINUX or LINUX32; no flags
 * (the spec defines none that runc honours either). */
static int translate_personality(const struct mk_oci_config *c,
                                 struct mk_spec *s, mk_error_t *err)
{
  json_t *p = json_object_get(json_object_get(c->doc, "linux"), "personality");
  const char *domain;

  if (!p)
    return 0;
  domain = json_string_value(json_object_get(p, "domain"));
  if (!json_is_object(p) || !domain)
    return mk_error_set(err, EINVAL,
                        "config.json: linux.personality: needs a domain");
  if (json_array_size(json_object_get(p, "flags")))
    return not_yet(err, "linux.personality.flags", "personality flags");
  if (strcmp(domain, "LINUX") == 0)
    s->personality = PER_LINUX;
  else if (strcmp(domain, "LINUX32") == 0)
    s->personality = PER_LINUX32;
  else
    return mk_error_set(err, EINVAL,
                        "config.json: linux.personality.domain: unknown "
                        "domain `%s` (LINUX or LINUX32)",
                        domain);
  s->has_personality = 1;
  return 0;
}

/* One linux.devices entry: a node made from its numbers (nothing on the
 * host is looked at); its access is the device rules' to give. */
static int translate_device(json_t *d, size_t i, struct mk_spec *s,
                            mk_error_t *err)
{
  const char *path = json_string_value(json_object_get(d, "path"));
  const char *type = json_string_value(json_object_get(d, "type"));
  json_t *mode = json_object_get(d, "fileMode");
  struct mk_device_spec dev = {.container = (char *)path, .perms = ""};

  if (!json_is_object(d) || !path || !type)
    return mk_error_set(err, EINVAL,
                        "config.json: linux.devices[%zu]: needs a path and "
                        "a type",
                        i);
  if (mk_validate_mount_destination(path, err) < 0)
    return mk_error_prefix(err, "config.json: linux.devices[%zu]", i);
  if (strlen(type) != 1 || !strchr("cubp", type[0]))
    return mk_error_set(err, EINVAL,
                        "config.json: linux.devices[%zu].type: `%s` is not "
                        "c, u, b or p",
                        i, type);
  dev.type = type[0] == 'u' ? 'c' : type[0];
  if (dev.type != 'p' && (!json_is_integer(json_object_get(d, "major")) ||
                          !json_is_integer(json_object_get(d, "minor"))))
    return mk_error_set(err, EINVAL,
                        "config.json: linux.devices[%zu]: needs major and "
                        "minor",
                        i);
  dev.major = (unsigned)json_integer_value(json_object_get(d, "major"));
  dev.minor = (unsigned)json_integer_value(json_object_get(d, "minor"));
  dev.mode = json_is_integer(mode) ? (unsigned)json_integer_value(mode) & 07777
                                   : 0666;
  dev.uid = (unsigned)json_integer_value(json_object_get(d, "uid"));
  dev.gid = (unsigned)json_integer_value(json_object_get(d, "gid"));
  return mk_spec_add_device(s, &dev, err);
}

static int translate_devices(const struct mk_oci_config *c, struct mk_spec *s,
                             mk_error_t *err)
{
  json_t *list = json_object_get(json_object_get(c->doc, "linux"), "devices");
  json_t *d;
  size_t i;

  if (list && !json_is_array(list))
    return mk_error_set(err, EINVAL,
                        "config.json: linux.devices: must be an array");
  json_array_foreach(list, i, d)
  {
    if (translate_device(d, i, s, err) < 0)
      return -1;
  }
  return 0;
}

static int check_unsupported(const struct mk_oci_config *c, mk_error_t *err)
{
  /* no LSM, scheduling or device-node support yet: refused when set */
  if (DENY_KEYS(json_object_get(c->doc, "process"), "process", err,
                "apparmorProfile", "selinuxLabel", "ioPriority", "scheduler",
                "execCPUAffinity") < 0)
    return -1;
  return DENY_KEYS(json_object_get(c->doc, "linux"), "linux", err, "intelRdt", "timeOffsets", "memoryPolicy", "netDevices");
}

int mk_oci_to_spec(const struct mk_oci_config *c, const char *bundle,
                   const char *id, const char *seccomp_file,
                   struct mk_oci_strings *st, struct mk_spec *s,
                   mk_error_t *err)
{
  char *rootfs = st->rootfs, *user = st->user;

  s->name = id;
  s->bundle = bundle;
  s->hostname = c->hostname;
  s->domainname = c->domainname && *c->domainname ? c->domainname : NULL;
  s->rootfs_propagation = c->rootfs_propagation;
  s->annotations = json_object_get(c->doc, "annotations");
  s->hooks = c->hooks; /* checked by config.c; run by create, start, delete */
  if (c->cgroups_path && *c->cgroups_path) {
    if (strchr(c->cgroups_path, ':'))
      return not_yet(err, "linux.cgroupsPath",
                     "a systemd slice (slice:prefix:name)");
    /* relative: where the runtime chooses, the spec says; mocker's
     * own subtree, beside its containers */
    if (c->cgroups_path[0] != '/' &&
        mk_snprintf(st->cgroup, sizeof(st->cgroup), "/mocker/%s",
                    c->cgroups_path) < 0)
      return mk_error_set(err, ENAMETOOLONG, "config.json: linux.cgroupsPath");
    s->cgroup_path = c->cgroups_path[0] == '/' ? c->cgroups_path : st->cgroup;
  }
  if (s->annotations && !json_is_object(s->annotations))
    return mk_error_set(err, EINVAL,
                        "config.json: annotations: must be an object");
  s->stop_timeout = 0;
  if (check_unsupported(c, err) < 0 ||
      translate_namespaces(c, s, st->ns_paths, err) < 0 ||
      translate_personality(c, s, err) < 0 ||
      translate_devices(c, s, err) < 0 ||
      translate_root(c, bundle, s, rootfs, err) < 0 ||
      translate_process(c, s, user, err) < 0 ||
      translate_mounts(c, bundle, s, err) < 0 ||
      translate_confined_paths(c, s, err) < 0 ||
      (c->resources && translate_resources(c->resources, s, err) < 0) ||
      write_seccomp(c->seccomp, seccomp_file, s, err) < 0)
    return -1;
  if (c->has_mount_label)
    fprintf(stderr, "mocker-runtime: warning: linux.mountLabel ignored "
                    "(no SELinux support)\n");
  return 0;
}
