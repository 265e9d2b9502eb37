#include "load.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "layer.h"
#include "manifest.h"
#include "mk_util.h"
#include "reference.h"
#include "store.h"
#include "unpack.h"

#define IO_CHUNK (128 * 1024)
#define CONFIG_MAX (8 * 1024 * 1024)
#define DEFAULT_MAX_LOAD_SIZE (256ULL << 30)
/* Far above any real archive (a docker save of 100 images with 100
 * layers each has ~30000 members); bounds the inodes and the link table
 * a hostile one can cost. */
#define MAX_MEMBERS 65536
#define MAX_DIRS 65536
/* Links are looked up linearly: older Docker and skopeo write one per
 * layer at most. */
#define MAX_LINKS 4096
#define MAX_LINK_BYTES (8 * 1024 * 1024)
#define MAX_LINK_HOPS 16
/* What planning may read into memory (manifests, configs, layer names):
 * real archives need kilobytes; a manifest.json naming one 8 MiB config
 * a million times must not cost 8 TiB. */
#define PLAN_MAX (256 * 1024 * 1024)
/* Member names are shown in messages: at most this much, and without
 * control characters (the archive chose them, a terminal prints them). */
#define SHOWN_MAX 256
/* Components in a member name, or a name a manifest gives. */
#define MAX_NAME_DEPTH 32

/* ---- limits ------------------------------------------------------------- */

uint64_t mk_max_load_size(void)
{
  return mk_size_knob("MOCKER_MAX_LOAD_SIZE", DEFAULT_MAX_LOAD_SIZE);
}

void mk_load_default_limits(struct mk_load_limits *lim)
{
  lim->member = mk_max_layer_size();
  lim->total = mk_max_load_size();
}

/* ---- names -------------------------------------------------------------- */

static const char *shown(const char *raw, char out[SHOWN_MAX])
{
  size_t i;

  for (i = 0; i < SHOWN_MAX - 4 && raw[i]; i++)
    out[i] = (unsigned char)raw[i] < 0x20 || raw[i] == 0x7f ? '?' : raw[i];
  strcpy(out + i, raw[i] ? "..." : "");
  return out;
}

/* Normalises a relative name into out (PATH_MAX bytes): drops "." and
 * empty components; ".." removes the component before it when allowed
 * (a symlink's target), and is refused otherwise. Returns 0, -EPERM (an
 * absolute name, a ".." refused or climbing above the archive's root)
 * or -ENAMETOOLONG. */
static int normalise(const char *in, int allow_dotdot, char *out)
{
  int r = in[0] == '/' ? -EPERM
                       : mk_path_normalise(in, allow_dotdot, out, PATH_MAX);
  int depth = 0;

  /* Link resolution looks for a link at every '/' of a name: a depth cap
   * keeps a hostile archive from making that quadratic (found in review).
   * Real archives are three deep (blobs/sha256/<digest>). */
  for (const char *p = out; r == 0 && *p; p++)
    if (*p == '/' && ++depth >= MAX_NAME_DEPTH)
      r = -ENAMETOOLONG;
  return r;
}

/* A member's own name, cleaned into out (PATH_MAX bytes). */
static int clean_name(const char *raw, char *out, mk_error_t *err)
{
  char s[SHOWN_MAX];
  int r = normalise(raw, 0, out);

  if (r == -ENAMETOOLONG)
    return mk_error_set(err, ENAMETOOLONG,
                        "image archive: member `%s`: name too long or "
                        "more than %d components deep",
                        shown(raw, s), MAX_NAME_DEPTH);
  if (r < 0)
    return mk_error_set(
        err, EPERM,
        "image archive: member `%s` has %s: refused (it "
        "would land outside the archive)",
        shown(raw, s), raw[0] == '/' ? "an absolute name" : "a `..` component");
  return 0;
}

/* A hard link's target, which tar gives from the archive's root. */
static int clean_hardlink_target(const char *link, const char *target,
                                 char *out, mk_error_t *err)
{
  char s[SHOWN_MAX], t[SHOWN_MAX];

  if (normalise(target, 0, out) < 0)
    return mk_error_set(err, EPERM,
                        "image archive: hard link `%s` points outside the "
                        "archive (`%s`)",
                        shown(link, s), shown(target, t));
  return 0;
}

/* A symlink's target, relative to the link's directory, as a name from
 * the archive's root. Never a host path: absolute targets are refused. */
static int clean_symlink_target(const char *link, const char *target, char *out,
                                mk_error_t *err)
{
  char joined[PATH_MAX], s[SHOWN_MAX], t[SHOWN_MAX];
  const char *slash = strrchr(link, '/');
  int dir_len = slash ? (int)(slash - link) : 0;

  if (mk_snprintf(joined, sizeof(joined), "%.*s%s%s", dir_len, link,
                  dir_len ? "/" : "", target) < 0)
    return mk_error_set(err, ENAMETOOLONG,
                        "image archive: symbolic link `%s`: target too long",
                        shown(link, s));
  if (target[0] == '/' || normalise(joined, 1, out) < 0)
    return mk_error_set(err, EPERM,
                        "image archive: symbolic link `%s` points outside the "
                        "archive (`%s`)",
                        shown(link, s), shown(target, t));
  return 0;
}

/* ---- the link table ------------------------------------------------------ */

static const struct mk_load_link *find_link(const struct mk_load_members *m,
                                            const char *name, size_t len)
{
  for (size_t i = 0; i < m->nlinks; i++)
    if (strncmp(m->links[i].name, name, len) == 0 &&
        m->links[i].name[len] == '\0')
      return &m->links[i];
  return NULL;
}

/* The shortest leading part of a clean path (whole components) that is a
 * link member; its length in *len. */
static const struct mk_load_link *leading_link(const struct mk_load_members *m,
                                               const char *path, size_t *len)
{
  for (size_t i = 0;; i++) {
    if (path[i] != '/' && path[i] != '\0')
      continue;
    const struct mk_load_link *l = find_link(m, path, i);
    if (l) {
      *len = i;
      return l;
    }
    if (path[i] == '\0')
      return NULL;
  }
}

/* Rewrites a clean path through the link table until no leading part of
 * it is a link. Names only: the filesystem holds no link to follow. */
static int resolve_links(const struct mk_load_members *m, const char *name,
                         char *path, mk_error_t *err)
{
  char next[PATH_MAX], s[SHOWN_MAX];
  const struct mk_load_link *l;
  size_t len;

  for (int hops = 0; (l = leading_link(m, path, &len)); hops++) {
    const char *rest = path + len;
    if (!l->target[0] && rest[0] == '/')
      rest++; /* a link to the archive's root */
    if (hops == MAX_LINK_HOPS ||
        mk_snprintf(next, sizeof(next), "%s%s", l->target, rest) < 0)
      return mk_error_set(err, ELOOP,
                          "image archive: member `%s`: too many levels of "
                          "links, or a name too long",
                          shown(name, s));
    memcpy(path, next, sizeof(next));
  }
  return 0;
}

static int open_beneath(int dirfd, const char *path, int flags)
{
  struct open_how how = {
      .flags = (uint64_t)(flags | O_NOFOLLOW | O_CLOEXEC),
      .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
                 RESOLVE_NO_XDEV,
  };
  long fd;

  do
    fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
  while (fd < 0 && (errno == EINTR || errno == EAGAIN));
  return (int)fd;
}

/* Whether a clean name is taken already, by a link or by a file. */
static int name_taken(const struct mk_load_members *m, const char *name)
{
  int fd;

  if (find_link(m, name, strlen(name)))
    return 1;
  fd = open_beneath(m->dirfd, name, O_PATH);
  mk_close(fd);
  return fd >= 0;
}

static int add_link(struct mk_load_members *m, const char *name,
                    const char *target, mk_error_t *err)
{
  char s[SHOWN_MAX];
  size_t bytes = strlen(name) + strlen(target) + 2;

  if (name_taken(m, name))
    return mk_error_set(err, EEXIST, "image archive: member `%s` appears twice",
                        shown(name, s));
  if (m->nlinks == MAX_LINKS || bytes > MAX_LINK_BYTES - m->link_bytes)
    return mk_error_set(err, E2BIG,
                        "image archive: more than %d links, or links taking "
                        "more than %d bytes, at member `%s`",
                        MAX_LINKS, MAX_LINK_BYTES, shown(name, s));
  if (m->nlinks % 64 == 0) {
    void *grown =
        realloc(m->links, (m->nlinks + 64) * sizeof(struct mk_load_link));
    if (!grown)
      return mk_error_set(err, ENOMEM, "out of memory");
    m->links = grown;
  }
  m->links[m->nlinks].name = mk_xstrdup(name);
  m->links[m->nlinks].target = mk_xstrdup(target);
  m->nlinks++;
  m->link_bytes += bytes;
  return 0;
}

void mk_load_members_free(struct mk_load_members *m)
{
  for (size_t i = 0; i < m->nlinks; i++) {
    free(m->links[i].name);
    free(m->links[i].target);
  }
  free(m->links);
  m->links = NULL;
  m->nlinks = 0;
}

/* ---- unpacking ----------------------------------------------------------- */

/* One component of a directory path, opened (O_PATH) or made 0700. Only
 * our own directories and files are ever there, and O_NOFOLLOW keeps it
 * so. MAX_DIRS bounds what a hostile archive costs in inodes. */
static int open_or_make_dir(struct mk_load_members *m, int fd, const char *c,
                            const char *member, mk_error_t *err)
{
  const int flags = O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
  char s[SHOWN_MAX];
  int next = openat(fd, c, flags);

  if (next < 0 && errno == ENOENT) {
    if (m->dirs >= MAX_DIRS)
      return mk_error_set(err, E2BIG,
                          "image archive: member `%s`: more than %d "
                          "directories",
                          shown(member, s), MAX_DIRS);
    if (mkdirat(fd, c, 0700) == 0) {
      m->dirs++;
      next = openat(fd, c, flags);
    }
  }
  if (next < 0)
    return mk_error_sys(err, errno,
                        "image archive: member `%s`: directory `%s`",
                        shown(member, s), c);
  return next;
}

/* Opens (O_PATH) directory path of the unpack directory, making what is
 * missing. */
static int make_dirs(struct mk_load_members *m, const char *path,
                     const char *member, mk_error_t *err)
{
  char copy[PATH_MAX], *save = NULL;
  int fd = openat(m->dirfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);

  if (fd < 0)
    return mk_error_sys(err, errno, "image archive: open the unpack directory");
  snprintf(copy, sizeof(copy), "%s", path);
  for (char *c = strtok_r(copy, "/", &save); c && fd >= 0;
       c = strtok_r(NULL, "/", &save)) {
    int next = open_or_make_dir(m, fd, c, member, err);
    mk_close(fd);
    fd = next;
  }
  return fd;
}

static int make_dir_member(struct mk_load_members *m, const char *name,
                           mk_error_t *err)
{
  int fd = make_dirs(m, name, name, err);

  mk_close(fd);
  return fd < 0 ? -1 : 0;
}

static int create_member_file(struct mk_load_members *m, const char *name,
                              mk_error_t *err)
{
  char parent[PATH_MAX], s[SHOWN_MAX];
  const char *slash = strrchr(name, '/');
  _cleanup_close_ int pfd = -1;
  int fd;

  if (find_link(m, name, strlen(name)))
    return mk_error_set(err, EEXIST, "image archive: member `%s` appears twice",
                        shown(name, s));
  snprintf(parent, sizeof(parent), "%.*s", slash ? (int)(slash - name) : 0,
           name);
  pfd = make_dirs(m, parent, name, err);
  if (pfd < 0)
    return -1;
  fd = openat(pfd, slash ? slash + 1 : name,
              O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0 && errno == EEXIST)
    return mk_error_set(err, EEXIST, "image archive: member `%s` appears twice",
                        shown(name, s));
  if (fd < 0)
    return mk_error_sys(err, errno, "image archive: create member `%s`",
                        shown(name, s));
  return fd;
}

/* Whether `more` bytes fit: in this member (after `so_far` of it) and in
 * the archive's total. Checked before a byte is written, so neither limit
 * is ever passed on disk. */
static int check_room(const struct mk_load_members *m,
                      const struct mk_load_limits *lim, const char *name,
                      uint64_t so_far, uint64_t more, mk_error_t *err)
{
  char s[SHOWN_MAX];

  if (more > lim->member - so_far)
    return mk_error_set(err, EFBIG,
                        "image archive: member `%s` is larger than the limit "
                        "of %llu bytes (MOCKER_MAX_LAYER_SIZE)",
                        shown(name, s), (unsigned long long)lim->member);
  if (more > lim->total - m->bytes)
    return mk_error_set(err, EFBIG,
                        "image archive: member `%s` takes the archive past the "
                        "limit of %llu bytes (MOCKER_MAX_LOAD_SIZE)",
                        shown(name, s), (unsigned long long)lim->total);
  return 0;
}

static int copy_member_data(struct archive *a, int fd, const char *name,
                            struct mk_load_members *m,
                            const struct mk_load_limits *lim, mk_error_t *err)
{
  _cleanup_free_ char *buf = mk_xmalloc(IO_CHUNK);
  char s[SHOWN_MAX];
  uint64_t written = 0;

  for (;;) {
    la_ssize_t n = archive_read_data(a, buf, IO_CHUNK);
    if (n == 0)
      return 0;
    if (n < 0)
      return mk_error_set(err, EIO, "image archive: member `%s`: %s",
                          shown(name, s), archive_error_string(a));
    if (check_room(m, lim, name, written, (uint64_t)n, err) < 0)
      return -1;
    if (mk_write_all(fd, buf, (size_t)n) < 0)
      return mk_error_sys(err, errno, "image archive: write member `%s`",
                          shown(name, s));
    written += (uint64_t)n;
    m->bytes += (uint64_t)n;
  }
}

static int unpack_file(struct archive *a, struct archive_entry *e,
                       const char *name, struct mk_load_members *m,
                       const struct mk_load_limits *lim, mk_error_t *err)
{
  la_int64_t size = archive_entry_size(e);
  _cleanup_close_ int fd = -1;

  /* The header's size first: a bomb is refused before it is inflated. */
  if (check_room(m, lim, name, 0, size > 0 ? (uint64_t)size : 0, err) < 0)
    return -1;
  fd = create_member_file(m, name, err);
  if (fd < 0)
    return -1;
  return copy_member_data(a, fd, name, m, lim, err);
}

static const char *kind_of(mode_t type)
{
  switch (type) {
  case AE_IFCHR: return "character device";
  case AE_IFBLK: return "block device";
  case AE_IFIFO: return "FIFO";
  case AE_IFSOCK: return "socket";
  default: return "file of unknown type";
  }
}

static int refuse_kind(struct archive_entry *e, const char *name,
                       mk_error_t *err)
{
  mode_t type = archive_entry_filetype(e);
  char s[SHOWN_MAX], dev[32] = "";

  if (type == AE_IFCHR || type == AE_IFBLK)
    snprintf(dev, sizeof(dev), " %u:%u", (unsigned)archive_entry_rdevmajor(e),
             (unsigned)archive_entry_rdevminor(e));
  return mk_error_set(err, EPERM,
                      "image archive: member `%s` is a %s%s: not allowed (an "
                      "image archive holds regular files, directories and "
                      "links between its members)",
                      shown(name, s), kind_of(type), dev);
}

static int unpack_link(struct archive_entry *e, const char *name,
                       struct mk_load_members *m, mk_error_t *err)
{
  const char *hard = archive_entry_hardlink(e);
  const char *sym = archive_entry_symlink(e);
  char target[PATH_MAX];

  if (hard) {
    if (clean_hardlink_target(name, hard, target, err) < 0)
      return -1;
  } else if (clean_symlink_target(name, sym ? sym : "", target, err) < 0) {
    return -1;
  }
  return add_link(m, name, target, err);
}

static const char *raw_name(struct archive_entry *e)
{
  const char *name = archive_entry_pathname(e);

  return name ? name : archive_entry_pathname_utf8(e);
}

static int unpack_member(struct archive *a, struct archive_entry *e,
                         struct mk_load_members *m,
                         const struct mk_load_limits *lim, mk_error_t *err)
{
  const char *raw = raw_name(e);
  mode_t type = archive_entry_filetype(e);
  char name[PATH_MAX], s[SHOWN_MAX];

  if (!raw)
    return mk_error_set(err, EINVAL, "image archive: member %zu has no name",
                        m->count);
  if (clean_name(raw, name, err) < 0)
    return -1;
  if (!name[0] && type != AE_IFDIR)
    return mk_error_set(err, EINVAL,
                        "image archive: a member named `%s` that is not a "
                        "directory",
                        shown(raw, s));
  if (archive_entry_hardlink(e) || type == AE_IFLNK)
    return unpack_link(e, name, m, err);
  if (type == AE_IFDIR)
    return name[0] ? make_dir_member(m, name, err) : 0;
  if (type != AE_IFREG)
    return refuse_kind(e, name, err);
  return unpack_file(a, e, name, m, lim, err);
}

static int unpack_members(struct archive *a, const struct mk_load_limits *lim,
                          struct mk_load_members *m, mk_error_t *err)
{
  struct archive_entry *e;
  int r;

  while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK ||
         r == ARCHIVE_WARN) {
    if (++m->count > MAX_MEMBERS)
      return mk_error_set(err, E2BIG, "image archive: more than %d members",
                          MAX_MEMBERS);
    if (unpack_member(a, e, m, lim, err) < 0)
      return -1;
  }
  if (r != ARCHIVE_EOF)
    return mk_error_set(err, EIO, "read image archive after %zu members: %s",
                        m->count, archive_error_string(a));
  return 0;
}

static struct archive *new_reader(void)
{
  struct archive *a = archive_read_new();

  archive_read_support_format_tar(a);
  archive_read_support_filter_gzip(a);
  archive_read_support_filter_zstd(a);
  archive_read_support_filter_xz(a);
  archive_read_support_filter_bzip2(a);
  archive_read_support_filter_none(a);
  return a;
}

/* Where the archive comes from: an fd (buf NULL) or memory. */
struct source {
  int fd;
  const void *buf;
  size_t len;
};

static int unpack_source(const struct source *src, int dirfd,
                         const struct mk_load_limits *lim,
                         struct mk_load_members *m, mk_error_t *err)
{
  struct archive *a = new_reader();
  int r;

  memset(m, 0, sizeof(*m));
  m->dirfd = dirfd;
  if (!a)
    return mk_error_set(err, ENOMEM, "out of memory");
  r = src->buf ? archive_read_open_memory(a, src->buf, src->len)
               : archive_read_open_fd(a, src->fd, IO_CHUNK);
  if (r != ARCHIVE_OK)
    r = mk_error_set(err, EIO, "read image archive: %s",
                     archive_error_string(a));
  else
    r = unpack_members(a, lim, m, err);
  archive_read_free(a);
  return r;
}

int mk_load_unpack_fd(int archive_fd, int dirfd,
                      const struct mk_load_limits *lim,
                      struct mk_load_members *m, mk_error_t *err)
{
  struct source src = {.fd = archive_fd};

  return unpack_source(&src, dirfd, lim, m, err);
}

/* ---- reading members ----------------------------------------------------- */

int mk_load_open_member(const struct mk_load_members *m, const char *name,
                        mk_error_t *err)
{
  char path[PATH_MAX], clean[PATH_MAX], s[SHOWN_MAX], t[SHOWN_MAX];
  struct stat st;
  int fd;

  if (clean_name(name, clean, err) < 0)
    return -1;
  memcpy(path, clean, sizeof(path));
  if (resolve_links(m, name, path, err) < 0)
    return -1;
  fd = open_beneath(m->dirfd, path, O_RDONLY | O_NONBLOCK);
  if (fd < 0 && strcmp(path, clean) != 0)
    return mk_error_sys(err, errno,
                        "image archive: member `%s` (a link to `%s`)",
                        shown(name, s), shown(path, t));
  if (fd < 0)
    return mk_error_sys(err, errno, "image archive: member `%s`",
                        shown(name, s));
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
    mk_close(fd);
    return mk_error_set(err, EINVAL,
                        "image archive: member `%s` is not a regular file",
                        shown(name, s));
  }
  return fd;
}

/* A small member (a config, a manifest) in memory, NUL-terminated. */
static char *read_member(const struct mk_load_members *m, const char *name,
                         size_t *len, mk_error_t *err)
{
  _cleanup_close_ int fd = mk_load_open_member(m, name, err);
  char s[SHOWN_MAX];
  struct stat st;
  char *data;
  ssize_t n;

  if (fd < 0 || fstat(fd, &st) < 0)
    return NULL;
  if (st.st_size > CONFIG_MAX) {
    mk_error_set(err, EFBIG,
                 "image archive: member `%s` is larger than %d bytes",
                 shown(name, s), CONFIG_MAX);
    return NULL;
  }
  data = mk_xmalloc((size_t)st.st_size + 1);
  n = mk_read_all(fd, data, (size_t)st.st_size + 1);
  if (n < 0 || n > st.st_size) {
    free(data);
    mk_error_sys(err, n < 0 ? errno : EFBIG, "image archive: read member `%s`",
                 shown(name, s));
    return NULL;
  }
  data[n] = '\0';
  *len = (size_t)n;
  return data;
}

/* ---- the plan: which images, from which members -------------------------- */

/* Counts bytes planning keeps or reads against PLAN_MAX. */
static int charge(struct mk_load_plan *plan, size_t bytes, mk_error_t *err)
{
  if (bytes > PLAN_MAX - plan->bytes)
    return mk_error_set(err, E2BIG,
                        "image archive: its manifests, configs and layer "
                        "lists take more than %d bytes",
                        PLAN_MAX);
  plan->bytes += bytes;
  return 0;
}

static char *plan_read(const struct mk_load_members *m,
                       struct mk_load_plan *plan, const char *name, size_t *len,
                       mk_error_t *err)
{
  char *data = read_member(m, name, len, err);

  if (data && charge(plan, *len, err) < 0) {
    free(data);
    return NULL;
  }
  return data;
}

static struct mk_load_image *plan_add(struct mk_load_plan *plan)
{
  struct mk_load_image *grown =
      realloc(plan->images, (plan->n + 1) * sizeof(*plan->images));

  if (!grown)
    return NULL;
  plan->images = grown;
  memset(&plan->images[plan->n], 0, sizeof(*grown));
  return &plan->images[plan->n++];
}

static void image_free(struct mk_load_image *im)
{
  free(im->config);
  mk_strv_free(&im->diff_ids);
  mk_strv_free(&im->layers);
  mk_strv_free(&im->tags);
}

void mk_load_plan_free(struct mk_load_plan *plan)
{
  for (size_t i = 0; i < plan->n; i++)
    image_free(&plan->images[i]);
  free(plan->images);
  plan->images = NULL;
  plan->n = 0;
}

static int plan_tags(json_t *tags, struct mk_load_image *im, mk_error_t *err)
{
  size_t i;
  json_t *v;
  struct mk_ref ref;

  json_array_foreach(tags, i, v)
  {
    const char *tag = json_string_value(v);
    if (!tag)
      return mk_error_set(err, EBADMSG, "image archive: a tag is not a string");
    if (mk_ref_parse(tag, &ref, err) < 0)
      return mk_error_prefix(err, "image archive: tag");
    mk_strv_push(&im->tags, tag);
  }
  return 0;
}

/* One image: its config (owned from here on), its layers (member names)
 * bottom first, and the names to tag it with (an array, or NULL). */
static int plan_image(char *config, size_t len, json_t *layers, json_t *tags,
                      struct mk_load_plan *plan, mk_error_t *err)
{
  struct mk_load_image *im = plan_add(plan);
  size_t i;
  json_t *v;

  if (!im) {
    free(config);
    return mk_error_set(err, ENOMEM, "out of memory");
  }
  im->config = config;
  im->config_len = len;
  if (mk_config_diff_ids(config, len, &im->diff_ids.v, &im->diff_ids.n, err) <
      0)
    return -1;
  if (json_array_size(layers) != im->diff_ids.n)
    return mk_error_set(err, EBADMSG,
                        "image archive: %zu layers for %zu diff_ids",
                        json_array_size(layers), im->diff_ids.n);
  json_array_foreach(layers, i, v)
  {
    if (!json_string_value(v))
      return mk_error_set(err, EBADMSG, "image archive: bad layer list");
    if (charge(plan, strlen(json_string_value(v)) + 1, err) < 0)
      return -1;
    mk_strv_push(&im->layers, json_string_value(v));
  }
  return json_is_array(tags) ? plan_tags(tags, im, err) : 0;
}

/* docker save: manifest.json = [{Config, RepoTags, Layers}, ...] */
static int plan_docker_archive(const struct mk_load_members *m,
                               json_t *manifest, struct mk_load_plan *plan,
                               mk_error_t *err)
{
  size_t i, len;
  json_t *img;

  if (!json_is_array(manifest))
    return mk_error_set(err, EBADMSG, "manifest.json is not a list");
  json_array_foreach(manifest, i, img)
  {
    const char *config = json_string_value(json_object_get(img, "Config"));
    char *data;
    if (!config)
      return mk_error_set(err, EBADMSG, "manifest.json: entry without Config");
    if (!(data = plan_read(m, plan, config, &len, err)) ||
        plan_image(data, len, json_object_get(img, "Layers"),
                   json_object_get(img, "RepoTags"), plan, err) < 0)
      return -1;
  }
  return 0;
}

static void blob_path(const char *digest, char *out, size_t size)
{
  snprintf(out, size, "blobs/sha256/%s", digest + 7);
}

/* An OCI layout blob, checked against its digest as it is read. */
static char *read_blob(const struct mk_load_members *m,
                       struct mk_load_plan *plan, const char *digest,
                       size_t *len, mk_error_t *err)
{
  char path[128], got[MK_DIGEST_LEN + 1], s[SHOWN_MAX];
  char *data;

  if (!mk_valid_sha256_digest(digest)) {
    mk_error_set(err, EBADMSG, "OCI layout: bad digest `%s`", shown(digest, s));
    return NULL;
  }
  blob_path(digest, path, sizeof(path));
  if (!(data = plan_read(m, plan, path, len, err)))
    return NULL;
  mk_sha256_digest(data, *len, got);
  if (strcmp(got, digest) != 0) {
    free(data);
    mk_error_set(err, EBADMSG, "OCI layout: blob %s has digest %s", digest,
                 got);
    return NULL;
  }
  return data;
}

static json_t *oci_tags(json_t *desc)
{
  json_t *ann = json_object_get(desc, "annotations"), *tags = json_array();
  const char *full =
      json_string_value(json_object_get(ann, "io.containerd.image.name"));
  const char *ref = json_string_value(
      json_object_get(ann, "org.opencontainers.image.ref.name"));

  if (full)
    json_array_append_new(tags, json_string(full));
  else if (ref && (strchr(ref, '/') || strchr(ref, ':')))
    json_array_append_new(tags, json_string(ref));
  return tags;
}

static int plan_oci_image(const struct mk_load_members *m,
                          const struct mk_manifest *man, json_t *tags,
                          struct mk_load_plan *plan, mk_error_t *err)
{
  json_t *layers = json_array();
  char path[128];
  size_t len;
  char *config;
  int r = -1;

  for (size_t i = 0; i < man->nlayers; i++) {
    blob_path(man->layers[i].digest, path, sizeof(path));
    json_array_append_new(layers, json_string(path));
  }
  config = read_blob(m, plan, man->config.digest, &len, err);
  if (config)
    r = plan_image(config, len, layers, tags, plan, err);
  json_decref(layers);
  return r;
}

static int plan_oci_manifest(const struct mk_load_members *m, json_t *desc,
                             struct mk_load_plan *plan, mk_error_t *err)
{
  const char *digest = json_string_value(json_object_get(desc, "digest"));
  size_t len;
  struct mk_manifest man;
  _cleanup_free_ char *data =
      read_blob(m, plan, digest ? digest : "", &len, err);
  json_t *tags = oci_tags(desc);
  int r = -1;

  if (data && mk_manifest_parse(data, len, "", &man, err) == 0) {
    if (man.is_index)
      r = mk_error_set(err, ENOTSUP, "OCI layout: nested index in %s", digest);
    else
      r = plan_oci_image(m, &man, tags, plan, err);
    mk_manifest_free(&man);
  }
  json_decref(tags);
  return r;
}

static int plan_oci_layout(const struct mk_load_members *m, json_t *index,
                           struct mk_load_plan *plan, mk_error_t *err)
{
  size_t i;
  json_t *desc;

  json_array_foreach(json_object_get(index, "manifests"), i, desc)
  {
    if (plan_oci_manifest(m, desc, plan, err) < 0)
      return -1;
  }
  return plan->n ? 0 : mk_error_set(err, ENOENT, "OCI layout: no images");
}

/* A JSON member; NULL with err->err == ENOENT when there is none. */
static json_t *read_json_member(const struct mk_load_members *m,
                                struct mk_load_plan *plan, const char *name,
                                mk_error_t *err)
{
  size_t len;
  _cleanup_free_ char *data = plan_read(m, plan, name, &len, err);
  json_error_t jerr;
  json_t *doc;

  if (!data)
    return NULL;
  doc = json_loadb(data, len, 0, &jerr);
  if (!doc)
    mk_error_set(err, EBADMSG, "image archive: %s: %s", name, jerr.text);
  return doc;
}

int mk_load_plan(const struct mk_load_members *m, struct mk_load_plan *plan,
                 mk_error_t *err)
{
  json_t *doc;
  int r;

  memset(plan, 0, sizeof(*plan));
  if ((doc = read_json_member(m, plan, "manifest.json", err)))
    r = plan_docker_archive(m, doc, plan, err);
  else if (err->err == ENOENT &&
           (doc = read_json_member(m, plan, "index.json", err)))
    r = plan_oci_layout(m, doc, plan, err);
  else if (err->err == ENOENT)
    r = mk_error_set(err, EINVAL,
                     "not an image archive: neither manifest.json (docker "
                     "save) nor index.json (OCI layout) found");
  else
    r = -1;
  json_decref(doc);
  return r;
}

/* ---- into the store ------------------------------------------------------ */

struct load {
  const struct mk_ctx *ctx;
  int tmpfd;     /* $ROOT/tmp */
  char name[48]; /* our directory in it, "" until made */
  struct mk_load_members members;
  FILE *out;
  /* What the layers may still unpack to: MOCKER_MAX_LOAD_SIZE holds for
   * what load writes into the store, not only for the archive. A small
   * archive can list one layer under many diff_ids (found in review). */
  uint64_t unpack_budget;
};

/* Implied directories take their attributes from the layers below, which
 * load has already published (it goes bottom up). */
static int inherit_from_store(struct load *l, int dirfd,
                              const struct mk_strv *implicit,
                              char (*chains)[MK_DIGEST_LEN + 1], size_t i,
                              mk_error_t *err)
{
  int *lower = calloc(i + 1, sizeof(int)), r = 0;
  char path[PATH_MAX];

  if (!lower)
    return mk_error_set(err, ENOMEM, "out of memory");
  for (size_t k = 0; k < i; k++) {
    lower[k] = -1;
    if (r == 0 && mk_root_path(l->ctx, path, err, "/layers/sha256/%s/diff",
                               chains[i - 1 - k] + 7) == 0)
      lower[k] = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (r == 0 && lower[k] < 0)
      r = mk_error_sys(err, errno, "open lower layer `%s`", path);
  }
  if (r == 0)
    r = mk_layer_inherit_dirs(dirfd, implicit->v, implicit->n, lower, i, err);
  for (size_t k = 0; k < i; k++)
    mk_close(lower[k]);
  free(lower);
  return r;
}

static int load_layer(struct load *l, const char *member, const char *diff_id,
                      char (*chains)[MK_DIGEST_LEN + 1], size_t i,
                      mk_error_t *err)
{
  char work[PATH_MAX], diff[PATH_MAX], s[SHOWN_MAX];
  struct mk_unpacked u = {0};
  mk_error_t ignored;
  int r;

  if (mk_store_has_layer(l->ctx, chains[i]))
    return 0;
  _cleanup_close_ int fd = mk_load_open_member(&l->members, member, err);
  if (fd < 0)
    return -1;
  if (mk_store_new_layer_dir(l->ctx, work, diff, err) < 0)
    return -1;
  _cleanup_close_ int dirfd = open(diff, O_PATH | O_DIRECTORY | O_CLOEXEC);
  uint64_t limit = mk_max_layer_size();
  int by_total = l->unpack_budget < limit;

  if (by_total)
    limit = l->unpack_budget;
  r = dirfd < 0 ? mk_error_sys(err, errno, "open `%s`", diff)
                : mk_unpack_layer_fd(fd, dirfd, limit, &u, err);
  if (r < 0 && by_total && err->err == EFBIG)
    mk_error_set(err, EFBIG,
                 "layer `%s`: the image's layers unpack to more than the "
                 "limit of %llu bytes (MOCKER_MAX_LOAD_SIZE)",
                 shown(member, s), (unsigned long long)mk_max_load_size());
  if (r == 0)
    l->unpack_budget -= u.size;
  if (r == 0 && strcmp(u.diff_id, diff_id) != 0)
    r = mk_error_set(err, EBADMSG,
                     "layer `%s` has content %s, but the config's diff_id "
                     "is %s",
                     shown(member, s), u.diff_id, diff_id);
  if (r == 0)
    r = inherit_from_store(l, dirfd, &u.implicit, chains, i, err);
  if (r == 0)
    r = mk_store_publish_layer(l->ctx, work, diff_id, chains[i], u.size, err);
  mk_strv_free(&u.implicit);
  if (r < 0)
    mk_remove_tree(work, &ignored);
  return r;
}

static void report(struct load *l, const char *id,
                   const struct mk_load_image *im)
{
  if (!l->out)
    return;
  if (im->tags.n == 0)
    fprintf(l->out, "Loaded image ID: %s\n", id);
  for (size_t i = 0; i < im->tags.n; i++)
    fprintf(l->out, "Loaded image: %s\n", im->tags.v[i]);
}

static int tag_image(struct load *l, const struct mk_load_image *im,
                     const char *id, mk_error_t *err)
{
  struct mk_ref ref;
  char name[512];
  int r = 0;

  for (size_t i = 0; r == 0 && i < im->tags.n; i++) {
    if (mk_ref_parse(im->tags.v[i], &ref, err) < 0)
      return -1;
    mk_ref_name(&ref, name, sizeof(name));
    int lockfd = mk_store_lock(l->ctx, err);
    if (lockfd < 0 || mk_store_set_tag(l->ctx, name, id, err) < 0)
      r = -1;
    mk_store_unlock(lockfd);
  }
  return r;
}

static int load_layers(struct load *l, const struct mk_load_image *im,
                       char (*chains)[MK_DIGEST_LEN + 1], mk_error_t *err)
{
  for (size_t i = 0; i < im->layers.n; i++)
    if (load_layer(l, im->layers.v[i], im->diff_ids.v[i], chains, i, err) < 0)
      return -1;
  return 0;
}

static int load_image(struct load *l, const struct mk_load_image *im,
                      mk_error_t *err)
{
  size_t n = im->diff_ids.n;
  char(*chains)[MK_DIGEST_LEN + 1] = calloc(n + 1, sizeof(*chains));
  char id[MK_DIGEST_LEN + 1];
  int lease, r = -1;

  if (!chains)
    return mk_error_set(err, ENOMEM, "out of memory");
  for (size_t i = 0; i < n; i++)
    mk_store_chain_id(i ? chains[i - 1] : NULL, im->diff_ids.v[i], chains[i]);
  /* Published layers are not yet listed by any image: lease them so a
   * concurrent prune leaves them (and our tmp/ work) alone. */
  lease = mk_store_lease(l->ctx, chains, n, err);
  if (lease >= 0 && load_layers(l, im, chains, err) == 0) {
    int lockfd = mk_store_lock(l->ctx, err);
    r = lockfd < 0 ? -1
                   : mk_store_add_image(l->ctx, im->config, im->config_len,
                                        chains, n, NULL, err);
    mk_store_unlock(lockfd);
  }
  mk_sha256_digest(im->config, im->config_len, id);
  if (r == 0)
    r = tag_image(l, im, id, err);
  if (r == 0)
    report(l, id, im);
  if (lease >= 0)
    mk_store_release(l->ctx, lease);
  free(chains);
  return r;
}

/* tmp/load-<random>/, made by us (mkdirat cannot take an existing name)
 * and opened without following a link. */
static int make_temp_dir(struct load *l, mk_error_t *err)
{
  char tmp[PATH_MAX], rnd[33];
  int fd;

  if (mk_root_path(l->ctx, tmp, err, "/tmp") < 0 ||
      mk_random_hex(rnd, 16, err) < 0)
    return -1;
  l->tmpfd = open(tmp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (l->tmpfd < 0)
    return mk_error_sys(err, errno, "open `%s`", tmp);
  snprintf(l->name, sizeof(l->name), "load-%s", rnd);
  if (mkdirat(l->tmpfd, l->name, 0700) < 0) {
    mk_error_sys(err, errno, "create `%s/%s`", tmp, l->name);
    l->name[0] = '\0';
    return -1;
  }
  fd = openat(l->tmpfd, l->name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return mk_error_sys(err, errno, "open `%s/%s`", tmp, l->name);
  l->members.dirfd = fd;
  return 0;
}

static int unpack_and_load(struct load *l, const struct source *src,
                           mk_error_t *err)
{
  struct mk_load_limits lim;
  struct mk_load_plan plan = {0};
  int r;

  mk_load_default_limits(&lim);
  r = unpack_source(src, l->members.dirfd, &lim, &l->members, err);
  if (r == 0)
    r = mk_load_plan(&l->members, &plan, err);
  for (size_t i = 0; r == 0 && i < plan.n; i++)
    r = load_image(l, &plan.images[i], err);
  mk_load_plan_free(&plan);
  return r;
}

static int load_from_source(const struct mk_ctx *ctx, const struct source *src,
                            FILE *out, mk_error_t *err)
{
  struct load l = {
      .ctx = ctx, .tmpfd = -1, .out = out, .unpack_budget = mk_max_load_size()};
  mk_error_t ignored;
  int lease = -1, r;

  l.members.dirfd = -1;
  r = mk_ctx_prepare_root(ctx, err);
  if (r == 0 && (lease = mk_store_lease(ctx, NULL, 0, err)) < 0)
    r = -1; /* keeps prune away from our tmp/ work */
  if (r == 0)
    r = make_temp_dir(&l, err);
  if (r == 0)
    r = unpack_and_load(&l, src, err);
  mk_load_members_free(&l.members);
  mk_close(l.members.dirfd);
  if (l.name[0])
    mk_remove_tree_at(l.tmpfd, l.name, &ignored);
  mk_close(l.tmpfd);
  if (lease >= 0)
    mk_store_release(ctx, lease);
  return r;
}

int mk_load_fd(const struct mk_ctx *ctx, int fd, FILE *out, mk_error_t *err)
{
  struct source src = {.fd = fd};

  return load_from_source(ctx, &src, out, err);
}

/* The built-in image as a `docker save` archive, embedded by the Makefile
 * (rootfs/mkimage.sh). */
extern const char mk_busybox_tar[];
extern const uint64_t mk_busybox_tar_size;

int mk_load_builtin(const struct mk_ctx *ctx, mk_error_t *err)
{
  if (mk_load_memory(ctx, mk_busybox_tar, (size_t)mk_busybox_tar_size, NULL,
                     err) < 0)
    return mk_error_prefix(err, "import built-in busybox image");
  return 0;
}

int mk_load_memory(const struct mk_ctx *ctx, const void *buf, size_t len,
                   FILE *out, mk_error_t *err)
{
  struct source src = {.fd = -1, .buf = buf, .len = len};

  return load_from_source(ctx, &src, out, err);
}
