#include "container.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "etcfiles.h"
#include "mk_util.h"
#include "strv.h"

#define OVERLAY_OPTS_MAX 4000 /* mount(2) data must fit in one page */

static void iso8601_now(char *buf, size_t size)
{
  struct timespec ts;
  struct tm tm;

  /* snprintf, not strftime: strftime calls tzset, which reads and parses
   * /etc/localtime on every run for a UTC timestamp. */
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900,
           tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
           ts.tv_nsec);
}

/* The first write creates the file in place; later ones replace it
 * atomically. Readers tolerate a missing or partial first write (rm must
 * work on a container whose supervisor died at any point). */
static int write_state(struct mk_container *c, mk_error_t *err)
{
  char path[PATH_MAX], tmp[PATH_MAX];
  _cleanup_free_ char *text = json_dumps(c->state, JSON_INDENT(2));
  _cleanup_close_ int fd = -1;
  int first = !c->state_written;

  mk_snprintf(path, sizeof(path), "%s/config.json", c->dir);
  mk_snprintf(tmp, sizeof(tmp), "%s/config.json.tmp", c->dir);
  fd = open(first ? path : tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (!text || fd < 0 || mk_write_all(fd, text, strlen(text)) < 0 ||
      (!first && rename(tmp, path) < 0))
    return mk_error_sys(err, errno, "write `%s`", path);
  c->state_written = 1;
  return 0;
}

static json_t *initial_state(const struct mk_container *c,
                             const struct mk_image *img, const char *hostname)
{
  char created[64];

  iso8601_now(created, sizeof(created));
  return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:{s:s, s:b, s:i, s:i}}",
                   "Id", c->id, "Name", c->name, "Created", created, "Image",
                   img->name, "ImageID", img->id, "Hostname", hostname, "State",
                   "Status", "created", "Running", 0, "Pid", 0, "ExitCode", 0);
}

/* Names are claimed with an atomic symlink: two runs cannot both win. */
static int claim_name(const struct mk_ctx *ctx, const struct mk_container *c,
                      mk_error_t *err)
{
  char link[PATH_MAX], owner[MK_ID_LEN + 1] = "";

  if (mk_root_path(ctx, link, err, "/names/%s", c->name) < 0)
    return -1;
  if (symlink(c->id, link) == 0)
    return 0;
  if (errno != EEXIST)
    return mk_error_sys(err, errno, "claim name `%s`", c->name);
  ssize_t n = readlink(link, owner, MK_ID_LEN);
  owner[n > 0 ? n : 0] = '\0';
  return mk_error_set(err, EEXIST,
                      "Conflict. The container name \"/%s\" is already in "
                      "use by container \"%s\". You have to remove (or "
                      "rename) that container to be able to reuse that name.",
                      c->name, owner);
}

static void release_name(const struct mk_ctx *ctx, const struct mk_container *c)
{
  char link[PATH_MAX], owner[MK_ID_LEN + 1];
  mk_error_t ignored;

  if (!c->name[0] ||
      mk_root_path(ctx, link, &ignored, "/names/%s", c->name) < 0)
    return;
  ssize_t n = readlink(link, owner, MK_ID_LEN);
  if (n == MK_ID_LEN && memcmp(owner, c->id, MK_ID_LEN) == 0)
    unlink(link);
}

/* The run lock is a flock on the container directory itself: held while
 * a supervisor runs the container, released by the kernel if it dies. */
static int take_lock(struct mk_container *c, mk_error_t *err)
{
  c->lockfd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (c->lockfd < 0 || flock(c->lockfd, LOCK_EX | LOCK_NB) < 0)
    return mk_error_sys(err, errno, "lock `%s`", c->dir);
  return 0;
}

static int make_dirs(struct mk_container *c, mk_error_t *err)
{
  static const char *const subdirs[] = {"upper", "work", "rootfs"};
  char path[PATH_MAX];

  if (mkdir(c->dir, 0700) < 0)
    return mk_error_sys(err, errno, "mkdir `%s`", c->dir);
  for (size_t i = 0; i < MK_ARRAY_SIZE(subdirs); i++) {
    mk_snprintf(path, sizeof(path), "%s/%s", c->dir, subdirs[i]);
    if (mkdir(path, 0755) < 0)
      return mk_error_sys(err, errno, "mkdir `%s`", path);
  }
  return 0;
}

int mk_container_create(const struct mk_ctx *ctx, const struct mk_image *img,
                        const char *name, const char *hostname,
                        struct mk_container *c, mk_error_t *err)
{
  mk_error_t ignored;

  memset(c, 0, sizeof(*c));
  c->lockfd = -1;
  if (mk_random_hex(c->id, MK_ID_LEN / 2, err) < 0 ||
      mk_root_path(ctx, c->dir, err, "/containers/%s", c->id) < 0)
    return -1;
  mk_snprintf(c->rootfs, sizeof(c->rootfs), "%s/rootfs", c->dir);
  mk_snprintf(c->name, sizeof(c->name), "%s", name ? name : "");
  if (!hostname)
    hostname = strndupa(c->id, MK_SHORT_ID_LEN);
  if (c->name[0] && claim_name(ctx, c, err) < 0) {
    c->name[0] = '\0';
    return -1;
  }
  c->state = initial_state(c, img, hostname);
  if (!c->state)
    mk_error_set(err, ENOMEM, "encode container state");
  if (!c->state || make_dirs(c, err) < 0 || take_lock(c, err) < 0 ||
      mk_write_etc_files(c->dir, hostname, err) < 0) {
    mk_container_remove(ctx, c, &ignored);
    return -1;
  }
  return 0;
}

/* Legacy mount(2) wants all options in one page; the new mount API takes
 * one lower dir per call ("lowerdir+", Linux 6.8), so many layers fit. */
static int mount_overlay_fsconfig(struct mk_container *c,
                                  const struct mk_image *img, const char *upper,
                                  const char *work, mk_error_t *err)
{
  _cleanup_close_ int fs = (int)syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC);
  _cleanup_close_ int mnt = -1, target = -1;

  if (fs < 0)
    return mk_error_sys(err, errno, "fsopen overlay");
  for (size_t i = img->nlayers; i-- > 0;)
    if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "lowerdir+",
                img->layer_dirs[i], 0) < 0)
      return mk_error_sys(err, errno, "overlay lower dir `%s`",
                          img->layer_dirs[i]);
  if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "upperdir", upper, 0) <
          0 ||
      syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "workdir", work, 0) < 0 ||
      syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    return mk_error_sys(err, errno, "configure overlay for `%s`", c->rootfs);
  mnt = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, 0);
  target = open(c->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (mnt < 0 || target < 0 ||
      syscall(SYS_move_mount, mnt, "", target, "",
              MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    return mk_error_sys(err, errno, "mount overlay on `%s`", c->rootfs);
  return 0;
}

int mk_container_mount(struct mk_container *c, const struct mk_image *img,
                       mk_error_t *err)
{
  char opts[OVERLAY_OPTS_MAX + 1], upper[PATH_MAX], work[PATH_MAX];
  size_t used;

  if (img->nlayers == 0)
    return mk_error_set(err, EINVAL, "image %s has no layers", img->name);
  mk_snprintf(upper, sizeof(upper), "%s/upper", c->dir);
  mk_snprintf(work, sizeof(work), "%s/work", c->dir);
  used = (size_t)snprintf(opts, sizeof(opts), "lowerdir=");
  for (size_t i = img->nlayers; i-- > 0 && used < sizeof(opts);)
    used += (size_t)snprintf(opts + used, sizeof(opts) - used, "%s%s",
                             img->layer_dirs[i], i ? ":" : "");
  if (used < sizeof(opts))
    used += (size_t)snprintf(opts + used, sizeof(opts) - used,
                             ",upperdir=%s,workdir=%s", upper, work);
  if (used >= sizeof(opts)) {
    if (mount_overlay_fsconfig(c, img, upper, work, err) < 0)
      return -1;
  } else if (mount("overlay", c->rootfs, "overlay", 0, opts) < 0) {
    return mk_error_sys(err, errno, "mount overlay on `%s`", c->rootfs);
  }
  c->mounted = 1;
  return 0;
}

int mk_container_set_state(struct mk_container *c, const char *status, int pid,
                           int init_pid, int exit_code, mk_error_t *err)
{
  json_t *st = json_object_get(c->state, "State");
  char now[64];

  if (!st)
    return mk_error_set(err, EINVAL, "container %s: state missing", c->id);
  iso8601_now(now, sizeof(now));
  json_object_set_new(st, "Status", json_string(status));
  json_object_set_new(st, "Running",
                      json_boolean(strcmp(status, "running") == 0));
  json_object_set_new(st, "Pid", json_integer(pid));
  json_object_set_new(st, "InitPid", json_integer(init_pid));
  json_object_set_new(st, "ExitCode", json_integer(exit_code));
  if (strcmp(status, "running") == 0)
    json_object_set_new(st, "StartedAt", json_string(now));
  else if (strcmp(status, "exited") == 0)
    json_object_set_new(st, "FinishedAt", json_string(now));
  return write_state(c, err);
}

static int is_mount_point(const char *path)
{
  struct stat self, parent;
  char up[PATH_MAX];

  snprintf(up, sizeof(up), "%s/..", path);
  return stat(path, &self) == 0 && stat(up, &parent) == 0 &&
         self.st_dev != parent.st_dev;
}

int mk_container_unmount(struct mk_container *c, mk_error_t *err)
{
  if (!c->mounted && !is_mount_point(c->rootfs))
    return 0;
  if (umount2(c->rootfs, UMOUNT_NOFOLLOW) < 0 && errno != EINVAL &&
      umount2(c->rootfs, MNT_DETACH | UMOUNT_NOFOLLOW) < 0 && errno != EINVAL)
    return mk_error_sys(err, errno, "unmount `%s`", c->rootfs);
  c->mounted = 0;
  return 0;
}

int mk_container_remove(const struct mk_ctx *ctx, struct mk_container *c,
                        mk_error_t *err)
{
  if (mk_container_unmount(c, err) < 0)
    return -1;
  release_name(ctx, c);
  if (mk_remove_tree(c->dir, err) < 0)
    return mk_error_prefix(err, "remove container %.12s", c->id);
  mk_container_close(c);
  return 0;
}

static int load_state(struct mk_container *c, mk_error_t *err)
{
  char path[PATH_MAX];
  json_error_t jerr;

  mk_snprintf(path, sizeof(path), "%s/config.json", c->dir);
  c->state = json_load_file(path, 0, &jerr);
  if (c->state) {
    const char *name = json_string_value(json_object_get(c->state, "Name"));
    mk_snprintf(c->name, sizeof(c->name), "%s", name ? name : "");
  }
  (void)err;
  return 0; /* a crashed create may lack state; rm must still work */
}

/* Resolves a name, a full id or a unique id prefix to a full id. */
static int find_id(const struct mk_ctx *ctx, const char *key,
                   char id[MK_ID_LEN + 1], mk_error_t *err)
{
  char path[PATH_MAX];
  size_t klen = strlen(key), found = 0;
  char candidates[512] = "";

  if (mk_root_path(ctx, path, err, "/names/%s", key) == 0) {
    ssize_t n = readlink(path, id, MK_ID_LEN);
    if (n == MK_ID_LEN) {
      id[n] = '\0';
      return 0;
    }
  }
  if (mk_root_path(ctx, path, err, "/containers") < 0)
    return -1;
  DIR *d = opendir(path);
  struct dirent *de;
  while (d && klen > 0 && (de = readdir(d))) {
    if (strlen(de->d_name) != MK_ID_LEN || strncmp(de->d_name, key, klen))
      continue;
    if (found++ == 0)
      memcpy(id, de->d_name, MK_ID_LEN + 1);
    size_t used = strlen(candidates);
    mk_snprintf(candidates + used, sizeof(candidates) - used, " %.12s",
                de->d_name);
  }
  if (d)
    closedir(d);
  if (found == 1)
    return 0;
  if (found > 1)
    return mk_error_set(err, EINVAL,
                        "multiple containers match `%s`:%s; use more of "
                        "the id",
                        key, candidates);
  return mk_error_set(err, ENOENT, "No such container: %s", key);
}

int mk_container_open(const struct mk_ctx *ctx, const char *id_or_name,
                      struct mk_container *c, mk_error_t *err)
{
  memset(c, 0, sizeof(*c));
  c->lockfd = -1;
  if (find_id(ctx, id_or_name, c->id, err) < 0 ||
      mk_root_path(ctx, c->dir, err, "/containers/%s", c->id) < 0)
    return -1;
  mk_snprintf(c->rootfs, sizeof(c->rootfs), "%s/rootfs", c->dir);
  return load_state(c, err);
}

int mk_container_is_running(const struct mk_container *c)
{
  _cleanup_close_ int fd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  if (fd < 0)
    return 0;
  return flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK;
}

void mk_container_close(struct mk_container *c)
{
  mk_close(c->lockfd);
  c->lockfd = -1;
  json_decref(c->state);
  c->state = NULL;
}

int mk_containers_using_image(const struct mk_ctx *ctx, const char *id,
                              char first[MK_ID_LEN + 1])
{
  char dir[PATH_MAX], path[PATH_MAX];
  mk_error_t ignored;
  struct dirent *de;
  int n = 0;

  if (mk_root_path(ctx, dir, &ignored, "/containers") < 0)
    return 0;
  DIR *d = opendir(dir);
  while (d && (de = readdir(d))) {
    if (strlen(de->d_name) != MK_ID_LEN ||
        mk_snprintf(path, sizeof(path), "%s/%s/config.json", dir, de->d_name) <
            0)
      continue;
    json_t *st = json_load_file(path, 0, NULL);
    const char *image = json_string_value(json_object_get(st, "ImageID"));
    if (image && strcmp(image, id) == 0 && n++ == 0 && first)
      memcpy(first, de->d_name, MK_ID_LEN + 1);
    json_decref(st);
  }
  if (d)
    closedir(d);
  return n;
}
