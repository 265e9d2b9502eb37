/* mocker-runtime pause, resume, ps, list and update: what containerd's
 * shim asks of a running container besides its life and death. */
#include "oci.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/container.h"
#include "engine/resources.h"
#include "isolation/cgroup.h"
#include "mk_util.h"
#include "translate.h"

/* ---- pause, resume ---- */

/* The container, which must be `want`, frozen or thawed to become
 * `becomes`. */
static int set_frozen(struct mk_ctx *ctx, const char *id, const char *want,
                      const char *becomes, mk_error_t *err)
{
  struct mk_container c;
  struct mk_cgroup cg;
  int rc = -1;

  if (mk_oci_open(ctx, id, &c, err) < 0)
    return -1;
  if (strcmp(mk_oci_status(&c), want) != 0)
    mk_error_set(err, EINVAL, "container %s is %s, not %s", id,
                 mk_oci_status(&c), want);
  else if (mk_container_cgroup_locate(&c, &cg, err) == 0 &&
           mk_cgroup_freeze(&cg, strcmp(becomes, "paused") == 0, err) == 0) {
    snprintf(c.state.status, sizeof(c.state.status), "%s", becomes);
    rc = mk_container_save_state(&c, err);
  }
  mk_container_close(&c);
  return rc;
}

int mk_oci_cmd_pause(struct mk_ctx *ctx, int argc, char **argv)
{
  mk_error_t err = {0};

  if (argc != 2)
    return mk_oci_usage_error(ctx, "pause", 1);
  return set_frozen(ctx, argv[1], "running", "paused", &err) < 0
             ? mk_oci_fail(mk_oci_of(ctx), err.msg)
             : 0;
}

int mk_oci_cmd_resume(struct mk_ctx *ctx, int argc, char **argv)
{
  mk_error_t err = {0};

  if (argc != 2)
    return mk_oci_usage_error(ctx, "resume", 1);
  return set_frozen(ctx, argv[1], "paused", "running", &err) < 0
             ? mk_oci_fail(mk_oci_of(ctx), err.msg)
             : 0;
}

/* ---- ps ---- */

/* ps [--format table|json] ID: the host pids in the container's cgroup
 * (json: a plain array, as runc's, which containerd reads). */
int mk_oci_cmd_ps(struct mk_ctx *ctx, int argc, char **argv)
{
  struct mk_container c;
  struct mk_cgroup cg;
  mk_error_t err = {0};
  pid_t pids[4096];
  size_t n = 0;
  int json = 0, i = 1;

  if (i + 1 < argc && strcmp(argv[i], "--format") == 0) {
    json = strcmp(argv[i + 1], "json") == 0;
    if (!json && strcmp(argv[i + 1], "table") != 0)
      return mk_oci_fail(mk_oci_of(ctx), "--format: table or json");
    i += 2;
  } else if (i < argc && strcmp(argv[i], "--format=json") == 0) {
    json = 1;
    i++;
  }
  if (i != argc - 1)
    return mk_oci_usage_error(ctx, "ps", 1);
  if (mk_oci_open(ctx, argv[i], &c, &err) < 0)
    return mk_oci_fail(mk_oci_of(ctx), err.msg);
  if (mk_container_cgroup_locate(&c, &cg, &err) == 0 && mk_cgroup_exists(&cg))
    n = mk_cgroup_pids(&cg, pids, MK_ARRAY_SIZE(pids));
  mk_container_close(&c);
  if (!json)
    puts("PID");
  else
    putchar('[');
  for (size_t k = 0; k < n; k++)
    printf(json ? "%s%d" : "%s%d\n", json && k ? "," : "", (int)pids[k]);
  if (json)
    puts("]");
  return 0;
}

/* ---- list ---- */

struct listing {
  struct mk_ctx *ctx;
  json_t *all;
};

static int list_one(const char *engine_id, void *data)
{
  struct listing *l = data;
  struct mk_container c;
  mk_error_t ignored;

  if (mk_container_open(l->ctx, engine_id, &c, &ignored) < 0)
    return 0;
  if (json_object_get(c.config, "Bundle")) {
    const char *status = mk_oci_status(&c);
    const char *created =
        json_string_value(json_object_get(c.config, "Created"));
    json_array_append_new(
        l->all, json_pack("{s:s, s:s, s:i, s:s, s:O, s:s, s:s}", "ociVersion",
                          "1.1.0", "id", c.name, "pid",
                          strcmp(status, "stopped") == 0 ? 0 : c.state.init_pid,
                          "status", status, "bundle",
                          json_object_get(c.config, "Bundle"), "created",
                          created ? created : "", "owner", "root"));
  }
  mk_container_close(&c);
  return 0;
}

/* list [--format table|json] [-q]: the containers of this root. */
int mk_oci_cmd_list(struct mk_ctx *ctx, int argc, char **argv)
{
  struct listing l = {ctx, json_array()};
  int json = 0, quiet = 0;
  size_t i;
  json_t *e;

  for (int k = 1; k < argc; k++) {
    if (strcmp(argv[k], "-q") == 0 || strcmp(argv[k], "--quiet") == 0)
      quiet = 1;
    else if (strcmp(argv[k], "--format=json") == 0 ||
             (strcmp(argv[k], "--format") == 0 && k + 1 < argc &&
              strcmp(argv[++k], "json") == 0))
      json = 1;
    else if (strcmp(argv[k], "table") != 0 &&
             strcmp(argv[k], "--format=table") != 0)
      return mk_oci_fail(mk_oci_of(ctx), "list: unknown option");
  }
  mk_container_foreach(ctx, list_one, &l);
  if (json) {
    json_dumpf(l.all, stdout, JSON_COMPACT);
    putchar('\n');
  } else {
    if (!quiet)
      printf("%-20s %-8s %-8s %s\n", "ID", "PID", "STATUS", "BUNDLE");
    json_array_foreach(l.all, i, e)
    {
      const char *id = json_string_value(json_object_get(e, "id"));
      if (quiet)
        puts(id);
      else
        printf("%-20s %-8lld %-8s %s\n", id,
               (long long)json_integer_value(json_object_get(e, "pid")),
               json_string_value(json_object_get(e, "status")),
               json_string_value(json_object_get(e, "bundle")));
    }
  }
  json_decref(l.all);
  return 0;
}

/* ---- update ---- */

/* update --resources FILE|- ID: containerd's way (LinuxResources JSON). */
/* The resources in r (LinuxResources JSON) onto container id. */
static int update_from_json(struct mk_ctx *ctx, const char *id, json_t *r,
                            mk_error_t *err)
{
  struct mk_spec_resources res = {0};
  struct mk_container c;
  unsigned set;

  if (mk_oci_resources(r, &res, &set, NULL, err) < 0 ||
      mk_oci_open(ctx, id, &c, err) < 0)
    return -1;
  mk_container_close(&c);
  return set ? mk_container_update(ctx, id, &res, set, err) : 0;
}

int mk_oci_cmd_update(struct mk_ctx *ctx, int argc, char **argv)
{
  mk_error_t err = {0};
  json_error_t jerr;
  json_t *r;
  int rc;

  if (argc != 4 || strcmp(argv[1], "--resources") != 0)
    return mk_oci_fail(mk_oci_of(ctx),
                       "update takes --resources FILE|- and a container id");
  r = strcmp(argv[2], "-") == 0 ? json_loadf(stdin, 0, &jerr)
                                : json_load_file(argv[2], 0, &jerr);
  if (!json_is_object(r)) {
    json_decref(r);
    snprintf(err.msg, sizeof(err.msg), "--resources: %s", jerr.text);
    return mk_oci_fail(mk_oci_of(ctx), err.msg);
  }
  rc = update_from_json(ctx, argv[3], r, &err); /* strings point into r */
  json_decref(r);
  return rc < 0 ? mk_oci_fail(mk_oci_of(ctx), err.msg) : 0;
}
