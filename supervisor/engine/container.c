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
#include <sys/personality.h>
#include <sys/stat.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "net/etcfiles.h"
#include "base/context.h"
#include "mk_trace.h"
#include "mk_util.h"
#include "overlay.h"
#include "userns.h"
#include "base/strv.h"
#include "base/validate.h"

int mk_container_write_config(struct mk_container *c, mk_error_t *err)
{
  _cleanup_free_ char *text = json_dumps(c->config, JSON_INDENT(2));

  if (!text)
    return mk_error_set(err, ENOMEM, "encode container config");
  return mk_write_file_atomic(c->dir, "config.json", text, err);
}

int mk_container_save_state(struct mk_container *c, mk_error_t *err)
{
  return mk_state_write(c->dir, &c->state, err);
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

/* Docker-style generated names: adjective_surname. */
static void generate_name(char *out, size_t size, unsigned r)
{
  static const char *const adjectives[] = {
      "admiring", "bold",     "brave",   "clever",     "dazzling", "eager",
      "elegant",  "festive",  "gallant", "happy",      "jolly",    "keen",
      "loving",   "modest",   "nifty",   "optimistic", "pensive",  "quirky",
      "relaxed",  "serene",   "sharp",   "stoic",      "tender",   "upbeat",
      "vibrant",  "wizardly", "zealous", "zen"};
  static const char *const surnames[] = {
      "almeida", "babbage", "bardeen", "cerf",     "curie",    "dijkstra",
      "euler",   "fermat",  "gauss",   "hamilton", "hopper",   "kepler",
      "knuth",   "lamport", "liskov",  "lovelace", "mccarthy", "noether",
      "pascal",  "ritchie", "shannon", "thompson", "torvalds", "turing",
      "wilson",  "wozniak"};

  snprintf(out, size, "%s_%s", adjectives[r % MK_ARRAY_SIZE(adjectives)],
           surnames[(r / MK_ARRAY_SIZE(adjectives)) % MK_ARRAY_SIZE(surnames)]);
}

static int claim_generated_name(const struct mk_ctx *ctx,
                                struct mk_container *c, mk_error_t *err)
{
  unsigned r;

  for (int attempt = 0; attempt < 64; attempt++) {
    if (getrandom(&r, sizeof(r), 0) != sizeof(r))
      return mk_error_sys(err, errno, "getrandom");
    generate_name(c->name, sizeof(c->name), r);
    if (attempt >= 8) { /* crowded: add digits, as Docker does */
      size_t n = strlen(c->name);
      snprintf(c->name + n, sizeof(c->name) - n, "%u", r % 100000);
    }
    if (claim_name(ctx, c, err) == 0)
      return 0;
    if (err->err != EEXIST)
      return -1;
  }
  return mk_error_set(err, EEXIST, "could not generate a free name");
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

/* rootfs, the mount point, upper and work for an overlay of layers. A
 * bundle's rootfs is bound (in the container's mount namespace only)
 * over the container's directory itself: no directory of its own. */
static int make_dirs(struct mk_container *c, int layered, mk_error_t *err)
{
  static const char *const subdirs[] = {"rootfs", "upper", "work"};
  char path[PATH_MAX];

  if (mkdir(c->dir, 0700) < 0)
    return mk_error_sys(err, errno, "mkdir `%s`", c->dir);
  for (size_t i = 0; layered && i < MK_ARRAY_SIZE(subdirs); i++) {
    mk_snprintf(path, sizeof(path), "%s/%s", c->dir, subdirs[i]);
    if (mkdir(path, 0755) < 0)
      return mk_error_sys(err, errno, "mkdir `%s`", path);
  }
  return 0;
}

int mk_container_create(const struct mk_ctx *ctx, const char *name, int layered,
                        struct mk_container *c, mk_error_t *err)
{
  mk_error_t ignored;
  int rc;

  memset(c, 0, sizeof(*c));
  c->lockfd = -1;
  if (mk_random_hex(c->id, MK_ID_LEN / 2, err) < 0 ||
      mk_root_path(ctx, c->dir, err, "/containers/%s", c->id) < 0)
    return -1;
  mk_snprintf(c->rootfs, sizeof(c->rootfs), layered ? "%s/rootfs" : "%s",
              c->dir);
  if (name) {
    mk_snprintf(c->name, sizeof(c->name), "%s", name);
    rc = claim_name(ctx, c, err);
  } else {
    rc = claim_generated_name(ctx, c, err);
  }
  if (rc < 0) {
    c->name[0] = '\0';
    return -1;
  }
  /* no state file yet: read, a missing one is this very state (created,
   * no pid), and each file made is an inode allocated and freed again */
  snprintf(c->state.status, sizeof(c->state.status), "created");
  if (make_dirs(c, layered, err) < 0 || mk_container_lock(c, err) < 0) {
    mk_container_remove(ctx, c, &ignored);
    return -1;
  }
  return 0;
}

/* A bundle's rootfs (GraphDriver "bind"): bound recursively, as it is. */
static int bind_rootfs(struct mk_container *c, json_t *data, mk_error_t *err)
{
  const char *source = json_string_value(json_object_get(data, "Source"));

  if (!source || source[0] != '/')
    return mk_error_set(err, EINVAL, "container %.12s: no rootfs source",
                        c->id);
  if (mk_mount_enter_target(err) < 0)
    return -1;
  if (mount(source, c->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
    return mk_error_sys(err, errno, "bind the rootfs `%s`", source);
  c->mounted = 1;
  return 0;
}

int mk_container_userns(const struct mk_container *c, struct mk_userns *u,
                        mk_error_t *err)
{
  json_t *host = json_object_get(c->config, "HostConfig");

  if (mk_userns_from_json(json_object_get(host, "IDMappings"), u, err) < 0)
    return mk_error_prefix(err, "container %.12s", c->id);
  return 0;
}

int mk_container_mount(struct mk_container *c, int userns_fd, mk_error_t *err)
{
  char upper[PATH_MAX], work[PATH_MAX];
  json_t *driver = json_object_get(c->config, "GraphDriver");
  json_t *data = json_object_get(driver, "Data");
  const char *lower = json_string_value(json_object_get(data, "LowerDir"));
  const char *name = json_string_value(json_object_get(driver, "Name"));

  if (name && strcmp(name, "bind") == 0)
    return bind_rootfs(c, data, err);

  mk_snprintf(upper, sizeof(upper), "%s/upper", c->dir);
  mk_snprintf(work, sizeof(work), "%s/work", c->dir);
  struct mk_userns u;
  if (userns_fd >= 0 && mk_container_userns(c, &u, err) < 0)
    return -1;
  if (mk_overlay_mount(lower, upper, work, c->rootfs, userns_fd,
                       userns_fd >= 0 ? &u : NULL, err) < 0)
    return -1;
  c->mounted = 1;
  return 0;
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
  MK_TRACE("rootfs unmounted");
  release_name(ctx, c);
  if (mk_remove_tree(c->dir, err) < 0)
    return mk_error_prefix(err, "remove container %.12s", c->id);
  MK_TRACE("container directory removed");
  mk_container_close(c);
  return 0;
}

/* A crashed create may have left no config; rm must still work. */
static void load_config(struct mk_container *c)
{
  char path[PATH_MAX];

  mk_snprintf(path, sizeof(path), "%s/config.json", c->dir);
  c->config = json_load_file(path, 0, NULL);
  const char *name = json_string_value(json_object_get(c->config, "Name"));
  if (name && *name == '/')
    name++;
  if (name)
    mk_snprintf(c->name, sizeof(c->name), "%s", name);
}

/* A key is a container name or a hex id prefix, checked here where
 * every verb's key enters the store: it is never a path (issue 14,
 * finding 2: `rm ../../x` used to reach outside the store). */
static int valid_key(const char *key)
{
  return mk_is_hex(key, 1, MK_ID_LEN) || mk_valid_container_name(key);
}

static int is_container_dir(const struct mk_ctx *ctx, const char *id)
{
  char path[PATH_MAX];
  struct stat st;
  mk_error_t ignored;

  return mk_root_path(ctx, path, &ignored, "/containers/%s", id) == 0 &&
         lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* names/<key> is a symlink whose target is the id. Only a target of 64
 * hex characters counts, and only if containers/<id> is a directory of
 * ours: anything else planted there names no container. */
static int id_by_name(const struct mk_ctx *ctx, const char *key,
                      char id[MK_ID_LEN + 1])
{
  char path[PATH_MAX];
  mk_error_t ignored;
  ssize_t n;

  if (mk_root_path(ctx, path, &ignored, "/names/%s", key) < 0)
    return -1;
  n = readlink(path, id, MK_ID_LEN + 1);
  if (n != MK_ID_LEN)
    return -1;
  id[n] = '\0';
  return mk_is_hex(id, MK_ID_LEN, MK_ID_LEN) && is_container_dir(ctx, id) ? 0
                                                                          : -1;
}

/* Resolves a full id, a name or a unique id prefix to a full id, in
 * Docker's order: a full id first, so that a container named like
 * another's id cannot stand in for it. */
static int find_id(const struct mk_ctx *ctx, const char *key,
                   char id[MK_ID_LEN + 1], mk_error_t *err)
{
  char path[PATH_MAX];
  size_t klen = strlen(key), found = 0;
  char candidates[512] = "";

  if (!valid_key(key))
    return mk_error_set(err, ENOENT, "No such container: %s", key);
  if (mk_is_hex(key, MK_ID_LEN, MK_ID_LEN) && is_container_dir(ctx, key)) {
    memcpy(id, key, MK_ID_LEN + 1);
    return 0;
  }
  if (id_by_name(ctx, key, id) == 0)
    return 0;
  if (!mk_is_hex(key, 1, MK_ID_LEN))
    return mk_error_set(err, ENOENT, "No such container: %s", key);
  if (mk_root_path(ctx, path, err, "/containers") < 0)
    return -1;
  DIR *d = opendir(path);
  struct dirent *de;
  while (d && (de = readdir(d))) {
    if (!mk_is_hex(de->d_name, MK_ID_LEN, MK_ID_LEN) ||
        strncmp(de->d_name, key, klen))
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

/* c->id is known: its directory, config and state. */
static int open_id(const struct mk_ctx *ctx, struct mk_container *c,
                   mk_error_t *err)
{
  if (mk_root_path(ctx, c->dir, err, "/containers/%s", c->id) < 0)
    return -1;
  load_config(c);
  const char *driver = json_string_value(
      json_object_get(json_object_get(c->config, "GraphDriver"), "Name"));
  mk_snprintf(c->rootfs, sizeof(c->rootfs),
              driver && strcmp(driver, "bind") == 0 ? "%s" : "%s/rootfs",
              c->dir);
  return mk_container_refresh(c, err);
}

int mk_container_open(const struct mk_ctx *ctx, const char *id_or_name,
                      struct mk_container *c, mk_error_t *err)
{
  memset(c, 0, sizeof(*c));
  c->lockfd = -1;
  if (find_id(ctx, id_or_name, c->id, err) < 0)
    return -1;
  return open_id(ctx, c, err);
}

int mk_container_open_name(const struct mk_ctx *ctx, const char *name,
                           struct mk_container *c, mk_error_t *err)
{
  memset(c, 0, sizeof(*c));
  c->lockfd = -1;
  if (!valid_key(name) || id_by_name(ctx, name, c->id) < 0)
    return mk_error_set(err, ENOENT, "No such container: %s", name);
  return open_id(ctx, c, err);
}

int mk_container_is_running(const struct mk_container *c)
{
  _cleanup_close_ int fd = -1;

  if (c->lockfd >= 0)
    return 1; /* we hold it */
  fd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return 0;
  return flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK;
}

int mk_container_lock(struct mk_container *c, mk_error_t *err)
{
  if (c->lockfd >= 0)
    return 0;
  c->lockfd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (c->lockfd < 0)
    return mk_error_sys(err, errno, "open `%s`", c->dir);
  if (flock(c->lockfd, LOCK_EX | LOCK_NB) < 0) {
    int e = errno;
    mk_close(c->lockfd);
    c->lockfd = -1;
    return mk_error_sys(err, e == EWOULDBLOCK ? EBUSY : e, "lock `%s`", c->dir);
  }
  return 0;
}

/* Recorded as running, but its supervisor is gone (killed, or the machine
 * rebooted): the container died with it (init has PDEATHSIG SIGKILL). */
static int supervisor_vanished(const struct mk_container *c)
{
  const struct mk_state *st = &c->state;
  char boot[40];

  /* made from a bundle: init belongs to the OCI runtime's caller, and no
   * supervisor holds the lock; its front tells liveness by init's pid */
  if (strcmp(st->status, "running") != 0 ||
      json_object_get(c->config, "Bundle"))
    return 0;
  mk_boot_id(boot);
  if (strcmp(boot, st->boot_id) != 0)
    return 1;
  if (mk_proc_matches(st->monitor_pid, st->monitor_start) &&
      mk_container_is_running(c))
    return 0;
  return !mk_container_is_running(c);
}

int mk_container_refresh(struct mk_container *c, mk_error_t *err)
{
  mk_error_t ignored;

  if (mk_state_read(c->dir, &c->state, err) < 0)
    return -1;
  if (!supervisor_vanished(c))
    return 0;
  /* Take the lock so a supervisor starting right now cannot be
   * overwritten; if we cannot, someone else is handling it. */
  struct mk_container probe = *c;
  probe.lockfd = -1;
  probe.config = NULL;
  if (mk_container_lock(&probe, &ignored) < 0)
    return 0;
  if (mk_state_read(c->dir, &c->state, err) == 0 &&
      strcmp(c->state.status, "running") == 0) {
    snprintf(c->state.status, sizeof(c->state.status), "exited");
    c->state.exit_code = 137;
    c->state.pid = c->state.init_pid = 0;
    mk_time_now_rfc3339(c->state.finished_at, sizeof(c->state.finished_at));
    snprintf(c->state.error, sizeof(c->state.error),
             "the container's monitor died; the container was killed");
    mk_container_save_state(c, &ignored);
  }
  mk_close(probe.lockfd);
  return 0;
}

int mk_container_init_pid(const struct mk_container *c)
{
  const struct mk_state *st = &c->state;

  if (strcmp(st->status, "running") != 0 ||
      !mk_proc_matches(st->init_pid, st->init_start))
    return 0;
  return st->init_pid;
}

/* Two renames of one container at once must not both claim names:
 * they are serialised by a flock on names/. */
static int lock_names(const struct mk_ctx *ctx, mk_error_t *err)
{
  char dir[PATH_MAX];

  if (mk_root_path(ctx, dir, err, "/names") < 0)
    return -1;
  return mk_lock_dir(dir, err);
}

int mk_container_rename(const struct mk_ctx *ctx, struct mk_container *c,
                        const char *new_name, mk_error_t *err)
{
  _cleanup_close_ int lock = lock_names(ctx, err);
  struct mk_container renamed = *c;
  char slashed[258];

  if (lock < 0)
    return -1;
  /* re-read under the lock: another rename may have just finished */
  json_decref(c->config);
  c->config = NULL;
  load_config(c);
  if (!c->config)
    return mk_error_set(err, ENOENT, "No such container: %.12s", c->id);
  renamed = *c;
  mk_snprintf(renamed.name, sizeof(renamed.name), "%s", new_name);
  if (claim_name(ctx, &renamed, err) < 0)
    return -1;
  snprintf(slashed, sizeof(slashed), "/%s", new_name);
  json_object_set_new(c->config, "Name", json_string(slashed));
  if (mk_container_write_config(c, err) < 0) {
    release_name(ctx, &renamed);
    return -1;
  }
  release_name(ctx, c);
  mk_snprintf(c->name, sizeof(c->name), "%s", new_name);
  return 0;
}

void mk_container_close(struct mk_container *c)
{
  mk_close(c->lockfd);
  c->lockfd = -1;
  json_decref(c->config);
  c->config = NULL;
}

int mk_container_foreach(const struct mk_ctx *ctx,
                         int (*fn)(const char *id, void *data), void *data)
{
  char dir[PATH_MAX];
  mk_error_t ignored;
  struct dirent *de;
  int rc = 0;

  if (mk_root_path(ctx, dir, &ignored, "/containers") < 0)
    return 0;
  DIR *d = opendir(dir);
  while (d && rc == 0 && (de = readdir(d)))
    if (strlen(de->d_name) == MK_ID_LEN)
      rc = fn(de->d_name, data);
  if (d)
    closedir(d);
  return rc;
}

struct image_users {
  const struct mk_ctx *ctx;
  const char *image_id;
  char *first;
  int n;
};

static int count_image_user(const char *id, void *data)
{
  struct image_users *u = data;
  char path[PATH_MAX];
  mk_error_t ignored;

  if (mk_root_path(u->ctx, path, &ignored, "/containers/%s/config.json", id) <
      0)
    return 0;
  json_t *cfg = json_load_file(path, 0, NULL);
  const char *image = json_string_value(json_object_get(cfg, "Image"));
  if (image && strcmp(image, u->image_id) == 0 && u->n++ == 0 && u->first)
    memcpy(u->first, id, MK_ID_LEN + 1);
  json_decref(cfg);
  return 0;
}

int mk_containers_using_image(const struct mk_ctx *ctx, const char *id,
                              char first[MK_ID_LEN + 1])
{
  struct image_users u = {ctx, id, first, 0};

  mk_container_foreach(ctx, count_image_user, &u);
  return u.n;
}

const char *mk_container_config_string(const struct mk_container *c,
                                       const char *section, const char *key)
{
  json_t *obj = section ? json_object_get(c->config, section) : c->config;

  return json_string_value(json_object_get(obj, key));
}

int mk_container_config_bool(const struct mk_container *c, const char *section,
                             const char *key)
{
  json_t *obj = section ? json_object_get(c->config, section) : c->config;

  return json_is_true(json_object_get(obj, key));
}

/* Our own oom_score_adj, through the host's /proc still mounted in the
 * child's copy of the mount tree: /proc/self is this process. */
static int set_oom_score_adj(json_int_t score, mk_error_t *err)
{
  char text[24];
  int n = snprintf(text, sizeof(text), "%lld", (long long)score);
  _cleanup_close_ int fd =
      open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC | O_NOFOLLOW);

  if (fd < 0 || write(fd, text, (size_t)n) != n)
    return mk_error_sys(err, errno, "set oom_score_adj to %lld%s",
                        (long long)score,
                        score < 0 ? " (lowering it needs CAP_SYS_RESOURCE)"
                                  : "");
  return 0;
}

int mk_container_child_settings(const struct mk_container *c,
                                mk_error_t *err)
{
  json_t *host = json_object_get(c->config, "HostConfig");
  json_t *oom = json_object_get(host, "OomScoreAdj");
  json_t *persona = json_object_get(host, "Personality");
  const char *domain = mk_container_config_string(c, "Config", "Domainname");

  if (domain && *domain && setdomainname(domain, strlen(domain)) < 0)
    return mk_error_sys(err, errno, "set the domain name `%s`", domain);
  if (json_is_integer(oom) && set_oom_score_adj(json_integer_value(oom), err) < 0)
    return -1;
  if (json_is_integer(persona) &&
      personality((unsigned long)json_integer_value(persona)) < 0)
    return mk_error_sys(err, errno, "set personality %#llx",
                        (unsigned long long)json_integer_value(persona));
  return 0;
}
