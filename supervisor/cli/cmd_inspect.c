/* mocker inspect: Docker's JSON for containers (config.json plus the
 * reconciled state) and, when no container matches, for images. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "engine/container.h"
#include "base/flags.h"
#include "mk_exit.h"
#include "engine/endpoint.h"
#include "net/network.h"
#include "image/store.h"

/* Defined in cmd_image.c. */
json_t *mk_image_inspect_json(struct mk_ctx *ctx, const char *id);

/* Go's zero time, which Docker prints for "never". */
#define ZERO_TIME "0001-01-01T00:00:00Z"

static const char inspect_usage[] =
    "Usage:  mocker inspect [OPTIONS] NAME|ID [NAME|ID...]\n"
    "\n"
    "Return low-level information on containers and images\n"
    "\n"
    "Options:\n"
    "  -f, --format string   Format output using a subset of Go templates:\n"
    "                        {{.Field.Sub}} and {{json .Field}}\n"
    "      --type string   Return JSON for specified type (container or "
    "image)\n"
    "  -s, --size          Accepted for compatibility; sizes are not "
    "computed\n"
    "      --help          Print usage\n";

enum { OPT_TYPE = 1, OPT_SIZE, OPT_HELP, OPT_FORMAT };

const struct mk_flag mk_inspect_flags[] = {
    {"format", 'f', 1, OPT_FORMAT},
    {"type", 0, 1, OPT_TYPE},
    {"size", 's', 0, OPT_SIZE},
    {"help", 0, 0, OPT_HELP},
    {NULL, 0, 0, 0},
};

struct inspect_opts {
  int help;
  const char *format;
  int want_container, want_image;
};

static int apply_flag(void *data, int id, const char *value, mk_error_t *err)
{
  struct inspect_opts *o = data;

  if (id == OPT_HELP) {
    o->help = 1;
  } else if (id == OPT_FORMAT) {
    o->format = value;
  } else if (id == OPT_TYPE) {
    o->want_container = strcmp(value, "container") == 0;
    o->want_image = strcmp(value, "image") == 0;
    if (!o->want_container && !o->want_image)
      return mk_error_set(err, EINVAL, "\"%s\" is not a valid value for --type",
                          value);
  }
  return 0;
}

static json_t *state_json(const struct mk_state *st)
{
  int running = strcmp(st->status, "running") == 0;

  return json_pack("{s:s, s:b, s:b, s:b, s:b, s:b, s:i, s:i, s:s, s:s, s:s}",
                   "Status", st->status, "Running", running, "Paused", 0,
                   "Restarting", 0, "OOMKilled", st->oom_killed != 0, "Dead", 0,
                   "Pid", running ? st->pid : 0, "ExitCode", st->exit_code,
                   "Error", st->error, "StartedAt",
                   st->started_at[0] ? st->started_at : ZERO_TIME, "FinishedAt",
                   st->finished_at[0] ? st->finished_at : ZERO_TIME);
}

/* Docker's key order, so the output reads like Docker's; keys of the
 * config that Docker does not have follow at the end. */
static json_t *container_json(const struct mk_container *c)
{
  static const char *const order[] = {
      "Id",        "Created",  "Path",           "Args",
      "State",     "Image",    "ResolvConfPath", "HostnamePath",
      "HostsPath", "LogPath",  "Name",           "RestartCount",
      "Driver",    "Platform", "HostConfig",     "GraphDriver",
      "Mounts",    "Config",   "NetworkSettings"};
  json_t *merged = json_deep_copy(c->config), *out = json_object();
  const char *key;
  json_t *value;

  json_object_set_new(merged, "State", state_json(&c->state));
  json_object_set_new(merged, "RestartCount",
                      json_integer(c->state.restart_count));
  json_object_set_new(merged, "Driver", json_string("overlay"));
  json_object_set_new(merged, "Platform", json_string("linux"));
  json_object_set_new(merged, "NetworkSettings", mk_net_settings(c));
  for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
    if ((value = json_object_get(merged, order[i])))
      json_object_set(out, order[i], value);
  json_object_foreach(merged, key, value)
  {
    if (!json_object_get(out, key))
      json_object_set(out, key, value);
  }
  json_decref(merged);
  return out;
}

/* The container's JSON, or NULL with err: ENOENT when none matches. */
static json_t *inspect_container(struct mk_ctx *ctx, const char *key,
                                 mk_error_t *err)
{
  struct mk_container c;
  json_t *out = NULL;

  if (mk_container_open(ctx, key, &c, err) == 0) {
    if (c.config)
      out = container_json(&c);
    else
      mk_error_set(err, ENOENT, "No such container: %s", key);
  }
  mk_container_close(&c);
  return out;
}

static json_t *inspect_image(struct mk_ctx *ctx, const char *key,
                             mk_error_t *err)
{
  char id[MK_DIGEST_LEN + 1], tag[512];
  int is_tag;

  if (mk_ctx_prepare_root(ctx, err) < 0 ||
      mk_store_resolve_image(ctx, key, id, tag, &is_tag, err) < 0)
    return NULL;
  return mk_image_inspect_json(ctx, id);
}

/* Containers first, then images, as Docker; an ambiguous container
 * prefix is reported, not silently taken for an image. */
static json_t *inspect_object(struct mk_ctx *ctx, const struct inspect_opts *o,
                              const char *key)
{
  mk_error_t err = {0};
  json_t *out = NULL;

  if (!o->want_image) {
    out = inspect_container(ctx, key, &err);
    if (out || err.err != ENOENT || o->want_container) {
      if (!out)
        fprintf(stderr, "Error: %s\n", err.msg);
      return out;
    }
  }
  err = (mk_error_t){0};
  out = inspect_image(ctx, key, &err);
  if (!out)
    fprintf(stderr, "Error: No such %s: %s\n",
            o->want_image ? "image" : "object", key);
  return out;
}

/* ---- --format: the two forms scripts use ----------------------------- */

/* ".State.Pid" -> that member; "." -> the object itself. */
static json_t *lookup_path(json_t *v, const char *path, size_t len)
{
  char key[256];

  if (len == 0 || path[0] != '.')
    return NULL;
  for (size_t i = 1; i < len && v;) {
    size_t n = strcspn(path + i, ".");
    if (n > len - i)
      n = len - i;
    if (n == 0 || n >= sizeof(key))
      return NULL;
    memcpy(key, path + i, n);
    key[n] = '\0';
    v = json_object_get(v, key);
    i += n + 1;
  }
  return v;
}

/* Scalars print as Go prints them; the rest (and {{json}}) as JSON. */
static void print_value(json_t *v, int as_json)
{
  if (!v) {
    fputs(as_json ? "null" : "<no value>", stdout);
  } else if (!as_json && json_is_string(v)) {
    fputs(json_string_value(v), stdout);
  } else {
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    fputs(text ? text : "", stdout);
    free(text);
  }
}

static int render_action(const char *action, size_t len, json_t *obj,
                         mk_error_t *err)
{
  int as_json = 0;

  while (len && *action == ' ')
    action++, len--;
  while (len && action[len - 1] == ' ')
    len--;
  if (len > 5 && strncmp(action, "json ", 5) == 0) {
    as_json = 1;
    for (action += 5, len -= 5; len && *action == ' '; action++, len--)
      ;
  }
  if (len == 0 || action[0] != '.')
    return mk_error_set(err, EINVAL,
                        "template: unsupported action \"{{%.*s}}\"", (int)len,
                        action);
  print_value(lookup_path(obj, action, len), as_json);
  return 0;
}

static int render_format(const char *fmt, json_t *obj, mk_error_t *err)
{
  const char *p = fmt, *open, *close;

  while ((open = strstr(p, "{{"))) {
    close = strstr(open, "}}");
    if (!close)
      return mk_error_set(err, EINVAL, "template: unclosed action");
    fwrite(p, 1, (size_t)(open - p), stdout);
    if (render_action(open + 2, (size_t)(close - open - 2), obj, err) < 0)
      return -1;
    p = close + 2;
  }
  fputs(p, stdout);
  putchar('\n');
  return 0;
}

static int print_result(json_t *result, const char *format)
{
  size_t i;
  json_t *one;

  if (format) {
    json_array_foreach(result, i, one)
    {
      mk_error_t err = {0};
      if (render_format(format, one, &err) < 0) {
        mk_print_error(err.msg);
        return 1;
      }
    }
    return 0;
  }
  char *text = json_dumps(result, JSON_INDENT(4));
  if (text)
    puts(text);
  free(text);
  return 0;
}

int mk_cmd_inspect(struct mk_ctx *ctx, int argc, char **argv)
{
  struct inspect_opts o = {0};
  mk_error_t err = {0};
  int status = 0;
  int i = mk_parse_flags(argc, argv, 1, mk_inspect_flags, apply_flag, &o, &err);

  if (i < 0 || (i >= argc && !o.help))
    return mk_usage_error(argv[0], i < 0 ? err.msg : NULL);
  if (o.help) {
    fputs(inspect_usage, stdout);
    return 0;
  }
  json_t *result = json_array();
  for (; i < argc; i++) {
    json_t *one = inspect_object(ctx, &o, argv[i]);
    if (one)
      json_array_append_new(result, one);
    else
      status = 1;
  }
  if (print_result(result, o.format))
    status = 1;
  json_decref(result);
  return status;
}
