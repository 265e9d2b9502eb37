#include "launch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "isolation/caps.h"
#include "isolation/cgroup.h"
#include "base/validate.h"
#include "mk_util.h"
#include "isolation/seccomp.h"

struct launch {
  const struct mk_container *c;
  struct mk_config cfg;
  char etc_paths[3][PATH_MAX];
  struct mk_mount mounts[MK_MAX_MOUNTS];
  const char *argv[MK_MAX_ARGS + 1];
  const char *env[MK_MAX_ENV + 1];
  struct mk_rlimit rlimits[MK_MAX_RLIMITS];
  uint32_t groups[MK_MAX_EXTRA_GROUPS];
  const char *sysctls[MK_MAX_SYSCTLS];
  char sysctl_text[MK_MAX_SYSCTLS][512];
  const char *masked[MK_MAX_EXTRA_PATHS], *readonly[MK_MAX_EXTRA_PATHS];
};

static const char *str(json_t *obj, const char *key)
{
  const char *s = json_string_value(json_object_get(obj, key));

  return s ? s : "";
}

static void add_etc_mounts(struct launch *l)
{
  static const char *const files[] = {"hostname", "hosts", "resolv.conf"};
  static const char *const targets[] = {"/etc/hostname", "/etc/hosts",
                                        "/etc/resolv.conf"};

  for (size_t i = 0; i < 3; i++) {
    mk_snprintf(l->etc_paths[i], PATH_MAX, "%s/%s", l->c->dir, files[i]);
    l->mounts[l->cfg.nmounts++] =
        (struct mk_mount){.kind = MK_MOUNT_BIND,
                          .source = l->etc_paths[i],
                          .target = targets[i],
                          .data = "",
                          .fstype = ""};
  }
}

/* HostConfig.RootfsPropagation (a bundle's linux.rootfsPropagation) as
 * init's flag; private (none) otherwise. */
static uint32_t root_propagation(json_t *host)
{
  const char *p = json_string_value(json_object_get(host, "RootfsPropagation"));

  if (!p)
    return 0;
  if (strstr(p, "shared"))
    return MK_CFG_ROOT_SHARED;
  if (strstr(p, "slave"))
    return MK_CFG_ROOT_SLAVE;
  if (strstr(p, "unbindable"))
    return MK_CFG_ROOT_UNBINDABLE;
  return 0;
}

/* One entry of config.json's Mounts as init makes it. */
static struct mk_mount mount_of(json_t *m)
{
  const char *type = str(m, "Type");
  uint32_t flags = (uint32_t)json_integer_value(json_object_get(m, "Flags")) &
                   MK_MNT_ALL_FLAGS;
  struct mk_mount mm = {
      .kind = MK_MOUNT_BIND,
      .source = str(m, "Source"),
      .target = str(m, "Destination"),
      .data = "",
      .fstype = "",
      .propagation =
          (uint32_t)json_integer_value(json_object_get(m, "PropagationFlags"))};

  if (strcmp(type, "tmpfs") == 0 || strcmp(type, "fs") == 0) {
    mm.kind = strcmp(type, "fs") == 0 ? MK_MOUNT_FS : MK_MOUNT_TMPFS;
    mm.fstype = mm.kind == MK_MOUNT_FS ? str(m, "FsType") : "";
    mm.data = str(m, "Options");
    mm.flags = flags;
    return mm;
  }
  /* a bind or a volume: read-only from RW, the rest from Flags */
  mm.flags = (flags & ~(uint32_t)MK_MNT_RDONLY) |
             (json_is_true(json_object_get(m, "RW")) ? 0 : MK_MNT_RDONLY);
  return mm;
}

static int add_user_mounts(struct launch *l, mk_error_t *err)
{
  json_t *mounts = json_object_get(l->c->config, "Mounts"), *m;
  size_t i;

  json_array_foreach(mounts, i, m)
  {
    if (l->cfg.nmounts >= MK_MAX_MOUNTS)
      return mk_error_set(err, E2BIG, "too many mounts (at most %d)",
                          MK_MAX_MOUNTS - 3);
    l->mounts[l->cfg.nmounts++] = mount_of(m);
  }
  return 0;
}

/* HostConfig.Ulimits, Docker's names, checked again: config.json is
 * ours, but a damaged one must not reach setrlimit. */
static int add_rlimits(struct launch *l, json_t *host, mk_error_t *err)
{
  json_t *u;
  size_t i;

  json_array_foreach(json_object_get(host, "Ulimits"), i, u)
  {
    int r = mk_rlimit_by_name(str(u, "Name"));
    json_int_t soft = json_integer_value(json_object_get(u, "Soft"));
    json_int_t hard = json_integer_value(json_object_get(u, "Hard"));
    if (r < 0 || soft < 0 || hard < soft || i >= MK_MAX_RLIMITS)
      return mk_error_set(err, EINVAL, "container %.12s: bad ulimit %s",
                          l->c->id, str(u, "Name"));
    l->rlimits[l->cfg.nrlimits++] =
        (struct mk_rlimit){(uint32_t)r, (uint64_t)soft, (uint64_t)hard};
  }
  return 0;
}

/* HostConfig.GroupAdd, numeric gids; for a bundle's container they are
 * the only supplementary groups (its additionalGids). */
static int add_groups(struct launch *l, json_t *host, mk_error_t *err)
{
  json_t *g;
  size_t i;

  if (json_object_get(l->c->config, "Bundle"))
    l->cfg.flags |= MK_CFG_EXACT_GROUPS;
  json_array_foreach(json_object_get(host, "GroupAdd"), i, g)
  {
    const char *s = json_string_value(g);
    char *end;
    unsigned long gid = s ? strtoul(s, &end, 10) : 0;
    if (!s || !*s || *end || gid >= UINT32_MAX || i >= MK_MAX_EXTRA_GROUPS)
      return mk_error_set(err, EINVAL, "container %.12s: bad group %s",
                          l->c->id, s ? s : "(none)");
    l->groups[l->cfg.ngroups++] = (uint32_t)gid;
  }
  return 0;
}

/* HostConfig.Sysctls, checked again against the namespaced list. */
static int add_sysctls(struct launch *l, json_t *host, mk_error_t *err)
{
  const char *key;
  json_t *v;

  json_object_foreach(json_object_get(host, "Sysctls"), key, v)
  {
    size_t i = l->cfg.nsysctls;
    if (i >= MK_MAX_SYSCTLS || !json_is_string(v) ||
        mk_snprintf(l->sysctl_text[i], sizeof(l->sysctl_text[i]), "%s=%s", key,
                    json_string_value(v)) < 0 ||
        !mk_sysctl_is_namespaced(l->sysctl_text[i]))
      return mk_error_set(err, EINVAL, "container %.12s: sysctl %s refused",
                          l->c->id, key);
    l->sysctls[l->cfg.nsysctls++] = l->sysctl_text[i];
  }
  return 0;
}

/* HostConfig.MaskedPaths or ReadonlyPaths: absolute paths, in list. */
static int add_paths(struct launch *l, json_t *paths, const char **list,
                     size_t *n, mk_error_t *err)
{
  json_t *v;
  size_t i;

  json_array_foreach(paths, i, v)
  {
    const char *p = json_string_value(v);
    if (!p || p[0] != '/' || *n >= MK_MAX_EXTRA_PATHS)
      return mk_error_set(err, EINVAL, "container %.12s: bad masked path",
                          l->c->id);
    list[(*n)++] = p;
  }
  return 0;
}

static int add_args(struct launch *l, mk_error_t *err)
{
  json_t *args = json_object_get(l->c->config, "Args"), *v;
  json_t *env = json_object_get(json_object_get(l->c->config, "Config"), "Env");
  size_t i;

  l->argv[l->cfg.argc++] = str(l->c->config, "Path");
  json_array_foreach(args, i, v)
  {
    if (l->cfg.argc >= MK_MAX_ARGS)
      return mk_error_set(err, E2BIG, "too many arguments");
    l->argv[l->cfg.argc++] = json_string_value(v);
  }
  json_array_foreach(env, i, v)
  {
    if (l->cfg.envc >= MK_MAX_ENV)
      return mk_error_set(err, E2BIG, "too many environment variables");
    l->env[l->cfg.envc++] = json_string_value(v);
  }
  return 0;
}

#define MAX_CAP_NAMES 64

/* The strings of a JSON array, at most max of them, into out. */
static size_t strings_of(json_t *array, const char **out, size_t max)
{
  size_t i, n = 0;
  json_t *s;

  json_array_foreach(array, i, s)
  {
    if (n < max && json_is_string(s))
      out[n++] = json_string_value(s);
  }
  return n;
}

static int compute_caps(const struct mk_container *c, json_t *host,
                        struct mk_security *sec, mk_error_t *err)
{
  const char *add[MAX_CAP_NAMES], *drop[MAX_CAP_NAMES];
  size_t nadd = strings_of(json_object_get(host, "CapAdd"), add, MAX_CAP_NAMES);
  size_t ndrop =
      strings_of(json_object_get(host, "CapDrop"), drop, MAX_CAP_NAMES);

  json_t *sets = json_object_get(host, "CapSets");

  if (mk_caps_compute(add, nadd, drop, ndrop,
                      json_is_true(json_object_get(host, "Privileged")),
                      &sec->caps, err) < 0)
    return mk_error_prefix(err, "container %.12s", c->id);
  if (!sets)
    return 0;
  sec->flags |= MK_CFG_CAP_SETS;
  if (mk_cap_sets_from_json(sets, sec->cap_sets, err) < 0)
    return mk_error_prefix(err, "container %.12s", c->id);
  return 0;
}

static const char *const cap_set_keys[MK_NCAPSETS] = {
    [MK_CAPSET_EFFECTIVE] = "Effective",
    [MK_CAPSET_PERMITTED] = "Permitted",
    [MK_CAPSET_INHERITABLE] = "Inheritable",
    [MK_CAPSET_AMBIENT] = "Ambient"};

json_t *mk_cap_sets_to_json(const uint64_t sets[MK_NCAPSETS])
{
  json_t *j = json_object();
  char name[32];

  for (int s = 0; s < MK_NCAPSETS; s++) {
    json_t *a = json_array();
    for (int cap = 0; cap < 64; cap++)
      if ((sets[s] & (1ULL << cap)) && mk_cap_name(cap, name))
        json_array_append_new(a, json_sprintf("CAP_%s", name));
    json_object_set_new(j, cap_set_keys[s], a);
  }
  return j;
}

int mk_cap_sets_from_json(json_t *j, uint64_t sets[MK_NCAPSETS],
                          mk_error_t *err)
{
  for (int s = 0; s < MK_NCAPSETS; s++) {
    json_t *v;
    size_t i;
    sets[s] = 0;
    json_array_foreach(json_object_get(j, cap_set_keys[s]), i, v)
    {
      int cap = mk_cap_parse(json_is_string(v) ? json_string_value(v) : "");
      if (cap < 0 || cap >= 64)
        return mk_error_set(err, EINVAL, "CapSets.%s: bad capability",
                            cap_set_keys[s]);
      sets[s] |= 1ULL << cap;
    }
  }
  return 0;
}

static int compile_seccomp(const struct mk_ctx *ctx,
                           const struct mk_container *c, json_t *host,
                           struct mk_security *sec, mk_error_t *err)
{
  const char *mode = json_string_value(json_object_get(host, "Seccomp"));
  char path[PATH_MAX], cache[PATH_MAX];
  _cleanup_free_ char *profile = NULL;
  size_t len = 0;

  if (json_is_true(json_object_get(host, "Privileged")) ||
      (mode && strcmp(mode, "unconfined") == 0))
    return 0;
  if (mode && strcmp(mode, "file") == 0) {
    mk_snprintf(path, sizeof(path), "%s/seccomp.json", c->dir);
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 ||
        !(profile = malloc((size_t)st.st_size + 1)) ||
        mk_read_all(fd, profile, (size_t)st.st_size) != st.st_size)
      return mk_error_sys(err, errno ? errno : EIO, "read `%s`", path);
    len = (size_t)st.st_size;
    profile[len] = '\0';
  }
  if (mk_root_path(ctx, cache, err, "/seccomp") < 0)
    return -1;
  if (mk_seccomp_compile(cache, profile, len, sec->caps, &sec->seccomp,
                         &sec->seccomp_len, err) < 0)
    return profile ? mk_error_prefix(err, "the container's --security-opt "
                                          "seccomp profile")
                   : -1;
  return 0;
}

/* Appends one device; paths are packed into sec->device_paths. */
static int push_owned_device(struct mk_security *sec, uint32_t type,
                             unsigned maj, unsigned min, unsigned mode,
                             unsigned uid, unsigned gid, const char *path,
                             size_t *used, size_t *cap)
{
  size_t n = strlen(path) + 1;

  if (sec->ndevices >= MK_MAX_DEVICES)
    return 0; /* the rest stay out; MK_MAX_DEVICES is far above normal */
  if (*used + n > *cap) {
    size_t grown = (*cap + n) * 2;
    char *p = realloc(sec->device_paths, grown);
    if (!p)
      return -1;
    sec->device_paths = p;
    *cap = grown;
  }
  memcpy(sec->device_paths + *used, path, n);
  sec->devices[sec->ndevices++] = (struct mk_device){
      type, maj, min, mode, uid, gid, (const char *)(uintptr_t)*used};
  *used += n;
  return 0;
}

static int push_device(struct mk_security *sec, uint32_t type, unsigned maj,
                       unsigned min, unsigned mode, const char *path,
                       size_t *used, size_t *cap)
{
  return push_owned_device(sec, type, maj, min, mode, 0, 0, path, used, cap);
}

/* --privileged: every device node of the host's /dev, one level deep,
 * as Docker gives it (its ptys, shm and mqueue stay the container's). */
static int host_devices(struct mk_security *sec, size_t *used, size_t *cap)
{
  static const char *const dirs[] = {
      "/dev",     "/dev/input",  "/dev/snd",     "/dev/dri",
      "/dev/net", "/dev/mapper", "/dev/bus/usb", "/dev/vfio"};
  char path[PATH_MAX];
  struct dirent *de;
  struct stat st;

  for (size_t i = 0; i < MK_ARRAY_SIZE(dirs); i++) {
    DIR *d = opendir(dirs[i]);
    while (d && (de = readdir(d))) {
      mk_snprintf(path, sizeof(path), "%s/%s", dirs[i], de->d_name);
      if (lstat(path, &st) < 0 ||
          (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode)) ||
          strcmp(path, "/dev/ptmx") == 0 || strcmp(path, "/dev/console") == 0)
        continue;
      if (push_device(sec, S_ISBLK(st.st_mode) ? 'b' : 'c', major(st.st_rdev),
                      minor(st.st_rdev), st.st_mode & 07777, path, used,
                      cap) < 0) {
        closedir(d);
        return -1;
      }
    }
    if (d)
      closedir(d);
  }
  return 0;
}

static int collect_devices(json_t *host, struct mk_security *sec,
                           mk_error_t *err)
{
  size_t used = 0, cap = 0, i;
  json_t *d;

  sec->devices = calloc(MK_MAX_DEVICES, sizeof(*sec->devices));
  if (!sec->devices)
    return mk_error_set(err, ENOMEM, "out of memory");
  if (json_is_true(json_object_get(host, "Privileged")) &&
      host_devices(sec, &used, &cap) < 0)
    return mk_error_set(err, ENOMEM, "out of memory");
  json_array_foreach(json_object_get(host, "Devices"), i, d)
  {
    const char *type = str(d, "Type");
    if (push_owned_device(
            sec, type[0] == 'b' || type[0] == 'p' ? (uint32_t)type[0] : 'c',
            (unsigned)json_integer_value(json_object_get(d, "Major")),
            (unsigned)json_integer_value(json_object_get(d, "Minor")),
            (unsigned)json_integer_value(json_object_get(d, "FileMode")),
            (unsigned)json_integer_value(json_object_get(d, "Uid")),
            (unsigned)json_integer_value(json_object_get(d, "Gid")),
            str(d, "PathInContainer"), &used, &cap) < 0)
      return mk_error_set(err, ENOMEM, "out of memory");
  }
  for (i = 0; i < sec->ndevices; i++) /* offsets become pointers */
    sec->devices[i].path = sec->device_paths + (uintptr_t)sec->devices[i].path;
  return 0;
}

int mk_launch_security(const struct mk_ctx *ctx, const struct mk_container *c,
                       struct mk_security *sec, mk_error_t *err)
{
  json_t *host = json_object_get(c->config, "HostConfig");

  memset(sec, 0, sizeof(*sec));
  if (json_is_true(json_object_get(host, "Privileged")))
    sec->flags |= MK_CFG_PRIVILEGED;
  switch (mk_cgroup_detect()) {
  case MK_CGROUP_V1: sec->flags |= MK_CFG_CGROUP_V1; break;
  case MK_CGROUP_V2: sec->flags |= MK_CFG_CGROUP_V2; break;
  default: break;
  }
  /* configs from before no-new-privileges was recorded: on, the default */
  if (!json_is_false(json_object_get(host, "NoNewPrivileges")))
    sec->flags |= MK_CFG_NO_NEW_PRIVS;
  if (compute_caps(c, host, sec, err) < 0 ||
      compile_seccomp(ctx, c, host, sec, err) < 0 ||
      collect_devices(host, sec, err) < 0) {
    mk_security_free(sec);
    return -1;
  }
  return 0;
}

void mk_security_free(struct mk_security *sec)
{
  free(sec->seccomp);
  free(sec->devices);
  free(sec->device_paths);
  memset(sec, 0, sizeof(*sec));
}

static int encode(const struct mk_ctx *ctx, struct launch *l, uint16_t rows,
                  uint16_t cols, uint32_t flags, uint8_t *buf, size_t cap,
                  size_t *len, mk_error_t *err)
{
  const struct mk_container *c = l->c;
  struct mk_security sec;
  json_t *cfg = json_object_get(c->config, "Config");
  json_t *host = json_object_get(c->config, "HostConfig");

  if (!cfg || !json_is_string(json_object_get(c->config, "Path")))
    return mk_error_set(err, EINVAL, "container %.12s: config.json is damaged",
                        c->id);
  l->cfg = (struct mk_config){
      .flags =
          flags | (json_is_true(json_object_get(cfg, "Tty")) ? MK_CFG_TTY : 0) |
          (json_is_true(json_object_get(cfg, "OpenStdin")) ? MK_CFG_STDIN : 0) |
          (json_is_true(json_object_get(host, "ReadonlyRootfs"))
               ? MK_CFG_READONLY
               : 0),
      .rows = rows,
      .cols = cols,
      .rootfs = c->rootfs,
      .hostname = str(cfg, "Hostname"),
      .workdir = str(cfg, "WorkingDir"),
      .user = str(cfg, "User"),
      .argv = l->argv,
      .env = l->env,
      .mounts = l->mounts,
      .rlimits = l->rlimits,
      .groups = l->groups,
      .sysctls = l->sysctls,
      .masked = l->masked,
      .readonly = l->readonly,
  };
  if (!json_object_get(c->config, "Bundle"))
    add_etc_mounts(l);
  else
    l->cfg.flags |= MK_CFG_BUNDLE_MOUNTS | root_propagation(host);
  if (add_user_mounts(l, err) < 0 || add_args(l, err) < 0 ||
      add_rlimits(l, host, err) < 0 || add_groups(l, host, err) < 0 ||
      add_sysctls(l, host, err) < 0 ||
      add_paths(l, json_object_get(host, "MaskedPaths"), l->masked,
                &l->cfg.nmasked, err) < 0 ||
      add_paths(l, json_object_get(host, "ReadonlyPaths"), l->readonly,
                &l->cfg.nreadonly, err) < 0 ||
      mk_launch_security(ctx, c, &sec, err) < 0)
    return -1;
  l->cfg.flags |= sec.flags;
  if (json_is_object(json_object_get(host, "IDMappings")))
    l->cfg.flags |= MK_CFG_USERNS;
  json_t *um = json_object_get(host, "Umask");
  if (json_is_integer(um) && json_integer_value(um) >= 0 &&
      json_integer_value(um) <= 0777) {
    l->cfg.flags |= MK_CFG_UMASK;
    l->cfg.umask = (uint32_t)json_integer_value(um);
  }
  l->cfg.caps = sec.caps;
  memcpy(l->cfg.cap_sets, sec.cap_sets, sizeof(sec.cap_sets));
  l->cfg.seccomp = sec.seccomp;
  l->cfg.seccomp_len = sec.seccomp_len;
  l->cfg.devices = sec.devices;
  l->cfg.ndevices = sec.ndevices;
  int rc = mk_config_encode(&l->cfg, buf, cap, len, err);
  mk_security_free(&sec);
  return rc;
}

/* The launch (120 KB of tables, a few entries used) from mk_alloc_pages:
 * a calloc would fault in every page of it. */
int mk_launch_encode(const struct mk_ctx *ctx, const struct mk_container *c,
                     uint16_t rows, uint16_t cols, uint32_t flags, uint8_t *buf,
                     size_t cap, size_t *len, mk_error_t *err)
{
  struct launch *l = mk_alloc_pages(sizeof(*l));

  if (!l)
    return mk_error_set(err, ENOMEM, "out of memory");
  l->c = c;
  int rc = encode(ctx, l, rows, cols, flags, buf, cap, len, err);
  mk_free_pages(l, sizeof(*l));
  return rc;
}
