#include "runspec.h"

#include <errno.h>
#include <string.h>

#define DEFAULT_PATH                                                           \
  "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static void push_json_strings(struct mk_strv *sv, json_t *array)
{
  size_t i;
  json_t *v;

  json_array_foreach(array, i, v) if (json_is_string(v))
      mk_strv_push(sv, json_string_value(v));
}

static void build_argv(const struct mk_spec *o, json_t *cfg,
                       struct mk_strv *argv)
{
  if (!o->entrypoint)
    push_json_strings(argv, json_object_get(cfg, "Entrypoint"));
  else if (*o->entrypoint)
    mk_strv_push(argv, o->entrypoint);
  if (o->cmd.n > 0) {
    for (size_t i = 0; i < o->cmd.n; i++)
      mk_strv_push(argv, o->cmd.v[i]);
  } else if (!o->entrypoint) {
    push_json_strings(argv, json_object_get(cfg, "Cmd"));
  }
}

static void build_env(const struct mk_spec *o, json_t *cfg,
                      const char *hostname, struct mk_strv *env)
{
  size_t i;
  json_t *v;

  json_array_foreach(json_object_get(cfg, "Env"), i, v)
  {
    if (json_is_string(v))
      mk_strv_setenv(env, json_string_value(v));
  }
  if (mk_strv_find_key(env, "PATH", 4) < 0)
    mk_strv_push(env, DEFAULT_PATH);
  mk_strv_pushf(env, "HOSTNAME=%s", hostname);
  if (o->tty && mk_strv_find_key(env, "TERM", 4) < 0)
    mk_strv_push(env, "TERM=xterm");
  for (i = 0; i < o->env.n; i++)
    mk_strv_setenv(env, o->env.v[i]);
}

static const char *config_string(json_t *cfg, const char *key)
{
  const char *s = json_string_value(json_object_get(cfg, key));

  return s ? s : "";
}

int mk_runspec_build(const struct mk_spec *o, json_t *image_config,
                     const char *hostname, struct mk_runspec *rs,
                     mk_error_t *err)
{
  json_t *cfg = json_object_get(image_config, "config");

  memset(rs, 0, sizeof(*rs));
  if (!cfg)
    cfg = json_object_get(image_config, "container_config");
  if (o->bundle) { /* exactly the bundle's process */
    for (size_t i = 0; i < o->cmd.n; i++)
      mk_strv_push(&rs->argv, o->cmd.v[i]);
    for (size_t i = 0; i < o->env.n; i++)
      mk_strv_push(&rs->env, o->env.v[i]);
    rs->workdir = o->workdir ? o->workdir : "";
    rs->user = o->user ? o->user : "";
    return rs->argv.n ? 0 : mk_error_set(err, EINVAL, "no command specified");
  }
  build_argv(o, cfg, &rs->argv);
  if (rs->argv.n == 0) {
    mk_runspec_free(rs);
    return mk_error_set(err, EINVAL, "no command specified");
  }
  build_env(o, cfg, hostname, &rs->env);
  rs->workdir = o->workdir ? o->workdir : config_string(cfg, "WorkingDir");
  rs->user = o->user ? o->user : config_string(cfg, "User");
  return 0;
}

void mk_runspec_free(struct mk_runspec *rs)
{
  mk_strv_free(&rs->argv);
  mk_strv_free(&rs->env);
}
