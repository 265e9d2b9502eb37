#include "launch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mk_util.h"

struct launch {
  const struct mk_container *c;
  struct mk_config cfg;
  char etc_paths[3][PATH_MAX];
  struct mk_mount mounts[MK_MAX_MOUNTS];
  const char *argv[MK_MAX_ARGS + 1];
  const char *env[MK_MAX_ENV + 1];
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
    l->mounts[l->cfg.nmounts++] = (struct mk_mount){
        MK_MOUNT_BIND, 0, l->etc_paths[i], targets[i], ""};
  }
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
    struct mk_mount *mm = &l->mounts[l->cfg.nmounts++];
    int rw = json_is_true(json_object_get(m, "RW"));
    if (strcmp(str(m, "Type"), "tmpfs") == 0)
      *mm = (struct mk_mount){
          MK_MOUNT_TMPFS, (uint32_t)json_integer_value(json_object_get(m, "Flags")),
          "tmpfs", str(m, "Destination"), str(m, "Options")};
    else
      *mm = (struct mk_mount){MK_MOUNT_BIND, rw ? 0 : MK_MNT_RDONLY,
                              str(m, "Source"), str(m, "Destination"), ""};
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

int mk_launch_encode(const struct mk_container *c, uint16_t rows,
                     uint16_t cols, uint8_t *buf, size_t cap, size_t *len,
                     mk_error_t *err)
{
  json_t *cfg = json_object_get(c->config, "Config");
  json_t *host = json_object_get(c->config, "HostConfig");

  if (!cfg || !json_is_string(json_object_get(c->config, "Path")))
    return mk_error_set(err, EINVAL, "container %.12s: config.json is damaged",
                        c->id);
  _cleanup_free_ struct launch *l = calloc(1, sizeof(*l));
  if (!l)
    return mk_error_set(err, ENOMEM, "out of memory");
  l->c = c;
  l->cfg = (struct mk_config){
      .flags = (json_is_true(json_object_get(cfg, "Tty")) ? MK_CFG_TTY : 0) |
               (json_is_true(json_object_get(cfg, "OpenStdin")) ? MK_CFG_STDIN
                                                                 : 0) |
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
  };
  add_etc_mounts(l);
  if (add_user_mounts(l, err) < 0 || add_args(l, err) < 0)
    return -1;
  return mk_config_encode(&l->cfg, buf, cap, len, err);
}
