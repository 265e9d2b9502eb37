#include "volume.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/validate.h"
#include "container.h"
#include "mk_pathres.h"
#include "mk_state.h"
#include "mk_util.h"
#include "treecopy.h"
#include "userns.h"

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
  if (!mk_valid_container_name(name))
    return mk_error_set(err, EINVAL, "create %s: invalid volume name", name);
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

int mk_volumes_lock(const struct mk_ctx *ctx, mk_error_t *err)
{
  char dir[PATH_MAX];

  if (mk_root_path(ctx, dir, err, "/volumes") < 0 ||
      mk_mkdir_p(dir, 0700, err) < 0)
    return -1;
  return mk_lock_dir(dir, err);
}

/* Renamed aside first, so a half-removed volume is never seen as one. */
int mk_volume_remove(const struct mk_ctx *ctx, const char *name, int force,
                     mk_error_t *err)
{
  _cleanup_close_ int lock = mk_volumes_lock(ctx, err);
  char dir[PATH_MAX], gone[PATH_MAX], user[65] = "", rnd[17];

  if (lock < 0)
    return -1;
  if (!mk_valid_container_name(name) || !mk_volume_exists(ctx, name))
    return mk_error_set(err, ENOENT, "get %s: no such volume", name);
  if (!force && mk_volume_in_use(ctx, name, user))
    return mk_error_set(err, EBUSY, "remove %s: volume is in use - [%s]", name,
                        user);
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

int mk_volume_info(const struct mk_ctx *ctx, const char *name,
                   struct mk_volume_info *out, mk_error_t *err)
{
  char meta[PATH_MAX];

  memset(out, 0, sizeof(*out));
  if (!mk_valid_container_name(name) || !mk_volume_exists(ctx, name))
    return mk_error_set(err, ENOENT, "get %s: no such volume", name);
  if (mk_root_path(ctx, out->mountpoint, err, "/volumes/%s/_data", name) < 0 ||
      mk_root_path(ctx, meta, err, "/volumes/%s/meta.json", name) < 0)
    return -1;
  snprintf(out->name, sizeof(out->name), "%s", name);
  json_t *doc = json_load_file(meta, 0, NULL);
  const char *created = json_string_value(json_object_get(doc, "CreatedAt"));
  snprintf(out->created_at, sizeof(out->created_at), "%s",
           created ? created : "");
  out->anonymous = json_is_true(json_object_get(doc, "Anonymous"));
  json_decref(doc);
  return 0;
}

static int compare_names(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int push_name(char ***names, size_t *n, const char *name)
{
  char **grown = realloc(*names, (*n + 1) * sizeof(**names));

  if (!grown)
    return -1;
  *names = grown;
  grown[*n] = strdup(name);
  if (!grown[*n])
    return -1;
  (*n)++;
  return 0;
}

int mk_volume_names(const struct mk_ctx *ctx, char ***names, size_t *n,
                    mk_error_t *err)
{
  char dir[PATH_MAX];
  struct dirent *de;
  int rc = 0;

  *names = NULL;
  *n = 0;
  if (mk_root_path(ctx, dir, err, "/volumes") < 0)
    return -1;
  DIR *d = opendir(dir);
  if (!d)
    return errno == ENOENT ? 0 : mk_error_sys(err, errno, "list `%s`", dir);
  while (rc == 0 && (de = readdir(d)))
    if (de->d_name[0] != '.' && mk_volume_exists(ctx, de->d_name))
      rc = push_name(names, n, de->d_name);
  closedir(d);
  if (rc < 0)
    return mk_error_sys(err, ENOMEM, "list volumes");
  if (*n)
    qsort(*names, *n, sizeof(**names), compare_names);
  return 0;
}

/* ---- seeding a new volume from the image ---------------------------
 *
 * The source is untrusted image content and the destination is on the
 * host, so the copy walks both trees through directory fds: every open
 * and stat is relative to a dir fd with O_NOFOLLOW / AT_SYMLINK_NOFOLLOW,
 * and attributes are set through fds of what we just created (or with
 * AT_SYMLINK_NOFOLLOW for symlinks). No symlink is ever followed, on
 * either side; a container sharing the volume cannot swap one in either. */

/* 1 when path is a directory with nothing in it, 0 when it has entries. */
static int dir_is_empty(const char *path, mk_error_t *err)
{
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  DIR *d = fd < 0 ? NULL : fdopendir(fd);
  struct dirent *de;
  int empty = 1;

  if (!d) {
    mk_close(fd);
    return mk_error_sys(err, errno, "open volume `%s`", path);
  }
  while (empty && (de = readdir(d)))
    empty = strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0;
  closedir(d);
  return empty;
}

/* Runs in the child, in its own mount namespace. The source is resolved
 * with RESOLVE_IN_ROOT, so an image symlink at (or above) the volume path
 * resolves inside the rootfs, never to the host. */
static int seed_from_rootfs(const struct mk_container *c, const char *path,
                            const char *data_dir, mk_error_t *err)
{
  _cleanup_close_ int rootfd = -1, src = -1, dst = -1;
  struct mk_userns userns;
  struct mk_treecopy t = {.what = "seed volume", .err = err, .userns = &userns};
  const char *rootfs = c->rootfs;

  if (mk_container_userns(c, &userns, err) < 0)
    return -1;
  rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (rootfd < 0)
    return mk_error_sys(err, errno, "open `%s`", rootfs);
  src = mk_open_in_root(rootfd, path, O_RDONLY | O_DIRECTORY, 0);
  if (src < 0 && (errno == ENOENT || errno == ENOTDIR))
    return 0; /* nothing in the image there: the volume stays empty */
  if (src < 0)
    return mk_error_sys(err, errno, "seed volume: open `%s` in the image",
                        path);
  dst = open(data_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dst < 0)
    return mk_error_sys(err, errno, "open volume `%s`", data_dir);
  mk_snprintf(t.where, sizeof(t.where), "%s", path);
  return mk_treecopy(&t, src, dst);
}

static int seed_child(const struct mk_container *c, const char *path,
                      const char *data_dir, mk_error_t *err)
{
  struct mk_container copy = *c;
  mk_error_t ignored;
  int rc;

  copy.lockfd = -1;
  copy.mounted = 0;
  if (unshare(CLONE_NEWNS) < 0)
    return mk_error_sys(err, errno, "seed volume: unshare the mount namespace");
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    return mk_error_sys(err, errno, "seed volume: make `/` private");
  if (mk_container_mount(&copy, -1, err) < 0)
    return -1;
  rc = seed_from_rootfs(&copy, path, data_dir, err);
  /* Now, not at exit: the overlay's upper dir is free again at once. */
  mk_container_unmount(&copy, &ignored);
  return rc;
}

/* The child's error travels back whole over a pipe. */
static int wait_seed_child(pid_t pid, int rfd, mk_error_t *err)
{
  mk_error_t child = {0};
  ssize_t n = mk_read_all(rfd, &child, sizeof(child));
  int status;

  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      return mk_error_sys(err, errno, "seed volume: wait for the copier");
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
    return 0;
  if (n == (ssize_t)sizeof(child)) {
    child.msg[sizeof(child.msg) - 1] = '\0';
    *err = child;
    return -1;
  }
  return mk_error_set(err, EIO, "seed volume: the copier died (status %d)",
                      status);
}

int mk_volume_seed(const struct mk_container *c, const char *path,
                   const char *data_dir, mk_error_t *err)
{
  int fds[2], empty;
  pid_t pid;

  if (!path || !data_dir || path[0] != '/')
    return mk_error_set(err, EINVAL, "seed volume: bad mount in the config");
  empty = dir_is_empty(data_dir, err);
  if (empty <= 0)
    return empty; /* Docker copies only into an empty volume */
  if (pipe2(fds, O_CLOEXEC) < 0)
    return mk_error_sys(err, errno, "seed volume: pipe");
  pid = fork();
  if (pid < 0) {
    mk_close(fds[0]);
    mk_close(fds[1]);
    return mk_error_sys(err, errno, "seed volume: fork");
  }
  if (pid == 0) {
    mk_error_t child = {0};
    close(fds[0]);
    if (seed_child(c, path, data_dir, &child) == 0)
      _exit(0);
    mk_write_all(fds[1], &child, sizeof(child));
    _exit(1);
  }
  close(fds[1]);
  int rc = wait_seed_child(pid, fds[0], err);
  close(fds[0]);
  return rc;
}
