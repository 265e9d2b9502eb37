#include "volume.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "container.h"
#include "mk_state.h"
#include "mk_util.h"

int mk_volume_exists(const struct mk_ctx *ctx, const char *name)
{
  char path[PATH_MAX];
  mk_error_t ignored;
  struct stat st;

  return mk_root_path(ctx, path, &ignored, "/volumes/%s/_data", name) == 0 &&
         lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int write_meta(const char *dir, const char *name, int anonymous,
                      mk_error_t *err)
{
  char path[PATH_MAX], created[40];
  _cleanup_close_ int fd = -1;

  mk_time_now_rfc3339(created, sizeof(created));
  json_t *meta = json_pack("{s:s, s:s, s:b}", "Name", name, "CreatedAt",
                           created, "Anonymous", anonymous);
  _cleanup_free_ char *text = meta ? json_dumps(meta, JSON_INDENT(2)) : NULL;
  json_decref(meta);
  mk_snprintf(path, sizeof(path), "%s/meta.json", dir);
  fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (!text || fd < 0 || mk_write_all(fd, text, strlen(text)) < 0)
    return mk_error_sys(err, errno, "write `%s`", path);
  return 0;
}

/* Built in tmp/ and renamed into place, so a volume is there whole or not
 * at all, and two creators of one name both end up using it. */
int mk_volume_ensure(const struct mk_ctx *ctx, const char *name, int anonymous,
                     char data_out[PATH_MAX], int *created, mk_error_t *err)
{
  char dir[PATH_MAX], tmp[PATH_MAX], data[PATH_MAX], rnd[17];
  mk_error_t ignored;

  *created = 0;
  if (mk_root_path(ctx, dir, err, "/volumes/%s", name) < 0 ||
      mk_root_path(ctx, data_out, err, "/volumes/%s/_data", name) < 0)
    return -1;
  if (mk_volume_exists(ctx, name))
    return 0;
  if (mk_root_path(ctx, tmp, err, "/volumes") < 0 ||
      mk_mkdir_p(tmp, 0700, err) < 0 || mk_random_hex(rnd, 8, err) < 0 ||
      mk_root_path(ctx, tmp, err, "/tmp/volume-%s", rnd) < 0)
    return -1;
  mk_snprintf(data, sizeof(data), "%s/_data", tmp);
  if (mkdir(tmp, 0700) < 0 || mkdir(data, 0755) < 0)
    return mk_error_sys(err, errno, "create volume `%s`", name);
  if (write_meta(tmp, name, anonymous, err) < 0) {
    mk_remove_tree(tmp, &ignored);
    return -1;
  }
  if (rename(tmp, dir) < 0) {
    int e = errno;
    mk_remove_tree(tmp, &ignored);
    if ((e == EEXIST || e == ENOTEMPTY) && mk_volume_exists(ctx, name))
      return 0; /* someone else created it just now */
    return mk_error_sys(err, e, "create volume `%s`", name);
  }
  *created = 1;
  return 0;
}

struct use_scan {
  const struct mk_ctx *ctx;
  const char *name;
  char *user;
};

static int mounts_volume(const char *id, void *data)
{
  struct use_scan *u = data;
  char path[PATH_MAX];
  mk_error_t ignored;
  json_t *m;
  size_t i;
  int found = 0;

  if (mk_root_path(u->ctx, path, &ignored, "/containers/%s/config.json", id) <
      0)
    return 0;
  json_t *cfg = json_load_file(path, 0, NULL);
  json_array_foreach(json_object_get(cfg, "Mounts"), i, m)
  {
    const char *type = json_string_value(json_object_get(m, "Type"));
    const char *name = json_string_value(json_object_get(m, "Name"));
    found |= type && name && strcmp(type, "volume") == 0 &&
             strcmp(name, u->name) == 0;
  }
  json_decref(cfg);
  if (found && u->user)
    snprintf(u->user, 65, "%s", id);
  return found;
}

int mk_volume_in_use(const struct mk_ctx *ctx, const char *name, char user[65])
{
  struct use_scan u = {ctx, name, user};

  return mk_container_foreach(ctx, mounts_volume, &u);
}

/* Renamed aside first, so a half-removed volume is never seen as one. */
int mk_volume_remove(const struct mk_ctx *ctx, const char *name, int force,
                     mk_error_t *err)
{
  char dir[PATH_MAX], gone[PATH_MAX], user[65] = "", rnd[17];

  if (!mk_volume_exists(ctx, name))
    return mk_error_set(err, ENOENT, "get %s: no such volume", name);
  if (!force && mk_volume_in_use(ctx, name, user))
    return mk_error_set(err, EBUSY,
                        "remove %s: volume is in use - [%s]", name, user);
  if (mk_root_path(ctx, dir, err, "/volumes/%s", name) < 0 ||
      mk_random_hex(rnd, 8, err) < 0 ||
      mk_root_path(ctx, gone, err, "/tmp/volume-rm-%s", rnd) < 0)
    return -1;
  if (rename(dir, gone) < 0)
    return mk_error_sys(err, errno, "remove volume `%s`", name);
  return mk_remove_tree(gone, err);
}

void mk_volume_remove_anonymous(const struct mk_ctx *ctx,
                                const struct mk_container *c)
{
  json_t *m;
  size_t i;
  mk_error_t ignored;

  json_array_foreach(json_object_get(c->config, "Mounts"), i, m)
  {
    const char *name = json_string_value(json_object_get(m, "Name"));
    if (name && json_is_true(json_object_get(m, "Anonymous")))
      mk_volume_remove(ctx, name, 1, &ignored);
  }
}

int mk_volume_seed(const struct mk_container *c, const char *path,
                   const char *data_dir, mk_error_t *err)
{
  (void)c, (void)path, (void)data_dir, (void)err;
  return 0; /* TODO: seeding from the image */
}
