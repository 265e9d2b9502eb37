/* Unit tests for supervisor/image/layer: unpacking an image layer (tar) into a
 * directory, with overlayfs whiteouts, and never touching anything outside
 * it. containerd's TestBreakouts is the checklist for the hostile cases.
 *
 * Every tar is built here with libarchive's writer (or by hand for the
 * headers the writer refuses to make). Layout of every test, under a fresh
 * directory B in /tmp:
 *   B/layer/                            the layer directory
 *   B/outside/marker   "OUTSIDE"        what an escape would overwrite
 *   B/outside/sub/                      what an escape would chmod/chown
 * Hostile tests then check that B, B/outside and its entries are exactly
 * as before (names, content, mode, owner, link count, mtime, xattrs), that
 * the host's /, /tmp and /etc got no entry named after the test's token,
 * and that / and /tmp kept their mode and owner. The tests need root
 * (chown, mknod, trusted.* xattrs); `make test` runs as root. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <check.h>

#include "unit_fs.h"
#include "unit_main.h"
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "image/layer.h"

/* A fixed, recognisable mtime for entries that do not set their own. */
#define T0 1600000000
#define TAR_CAP (16u << 20)

static char suite_dir[PATH_MAX]; /* per test case, removed by the runner */
static char base[PATH_MAX];      /* B: per test */
static char layer[PATH_MAX];     /* B/layer */
static char token[64];           /* a name no host directory has */
static int layerfd = -1;

static struct stat before_base, before_outside, before_marker, before_sub;
static struct stat before_host_root, before_host_tmp, before_layer;

/* The tar being built. */
static struct archive *tw;
static char *tarbuf;
static size_t tarlen;

/* ---- fixtures and file-system helpers ---- */

/* Unchecked fixture: runs in the runner process, so the whole tree goes
 * even when a test dies on a failed assertion before its own teardown. */
static void suite_setup(void)
{
  snprintf(suite_dir, sizeof(suite_dir), "/tmp/mk-layer-XXXXXX");
  if (!mkdtemp(suite_dir))
    abort();
}

static void suite_teardown(void)
{
  rm_rf(suite_dir);
}

static void make_dir(const char *path, mode_t mode)
{
  ck_assert_msg(mkdir(path, mode) == 0, "mkdir %s: %s", path, strerror(errno));
  ck_assert_int_eq(chmod(path, mode), 0);
}

static void stat_into(const char *path, struct stat *st)
{
  ck_assert_msg(lstat(path, st) == 0, "lstat %s: %s", path, strerror(errno));
}

static void tar_reset(void);

/* Checked fixture: a fresh B for every test. */
static void setup(void)
{
  char path[PATH_MAX];

  ck_assert_msg(geteuid() == 0, "the layer suite needs root (chown, mknod)");
  umask(022);
  fmt(base, "%s/t-XXXXXX", suite_dir);
  ck_assert_ptr_nonnull(mkdtemp(base));
  snprintf(token, sizeof(token), "mk-layer-escape-%s-%s",
           strrchr(suite_dir, '-') + 1, strrchr(base, '-') + 1);
  fmt(layer, "%s/layer", base);
  make_dir(layer, 0755);
  fmt(path, "%s/outside", base);
  make_dir(path, 0755);
  fmt(path, "%s/outside/sub", base);
  make_dir(path, 0755);
  fmt(path, "%s/outside/marker", base);
  write_file(path, "OUTSIDE");
  layerfd = open(layer, O_PATH | O_DIRECTORY | O_CLOEXEC);
  ck_assert_int_ge(layerfd, 0);

  stat_into(base, &before_base);
  fmt(path, "%s/outside", base);
  stat_into(path, &before_outside);
  fmt(path, "%s/outside/marker", base);
  stat_into(path, &before_marker);
  fmt(path, "%s/outside/sub", base);
  stat_into(path, &before_sub);
  stat_into("/", &before_host_root);
  stat_into("/tmp", &before_host_tmp);
  stat_into(layer, &before_layer);
  tar_reset();
}

static void teardown(void)
{
  if (layerfd >= 0)
    close(layerfd);
  layerfd = -1;
  if (tw)
    archive_write_free(tw);
  tw = NULL;
  free(tarbuf);
  tarbuf = NULL;
  rm_rf(base);
}

/* layer/<rel> */
static const char *L(const char *rel)
{
  static char bufs[4][PATH_MAX];
  static int next;
  char *out = bufs[next++ % 4];

  fmt(out, "%s/%s", layer, rel);
  return out;
}

static int exists(const char *path)
{
  struct stat st;

  return lstat(path, &st) == 0;
}

static void read_text(const char *path, char *out, size_t cap)
{
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  ssize_t n;

  ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
  n = read(fd, out, cap - 1);
  ck_assert_int_ge(n, 0);
  out[n] = '\0';
  close(fd);
}

static void assert_file(const char *rel, const char *text)
{
  char got[256];
  struct stat st;

  stat_into(L(rel), &st);
  ck_assert_msg(S_ISREG(st.st_mode), "%s is not a regular file (0%o)", rel,
                st.st_mode);
  read_text(L(rel), got, sizeof(got));
  ck_assert_str_eq(got, text);
}

static void assert_dir(const char *rel)
{
  struct stat st;

  stat_into(L(rel), &st);
  ck_assert_msg(S_ISDIR(st.st_mode), "%s is not a directory", rel);
}

static void assert_symlink(const char *rel, const char *target)
{
  char got[PATH_MAX];
  ssize_t n = readlink(L(rel), got, sizeof(got) - 1);

  ck_assert_msg(n >= 0, "readlink %s: %s", rel, strerror(errno));
  got[n] = '\0';
  ck_assert_str_eq(got, target);
}

static void assert_absent(const char *rel)
{
  ck_assert_msg(!exists(L(rel)), "%s exists in the layer", rel);
}

/* A 0:0 character device: overlayfs's whiteout. */
static void assert_whiteout(const char *rel)
{
  struct stat st;

  stat_into(L(rel), &st);
  ck_assert_msg(S_ISCHR(st.st_mode), "%s is not a char device (0%o)", rel,
                st.st_mode);
  ck_assert_uint_eq(major(st.st_rdev), 0);
  ck_assert_uint_eq(minor(st.st_rdev), 0);
}

static void assert_mode_owner(const char *rel, mode_t perm, uid_t uid,
                              gid_t gid)
{
  struct stat st;

  stat_into(L(rel), &st);
  ck_assert_msg((st.st_mode & 07777) == perm, "%s: mode 0%o, want 0%o", rel,
                st.st_mode & 07777, perm);
  ck_assert_uint_eq(st.st_uid, uid);
  ck_assert_uint_eq(st.st_gid, gid);
}

static void assert_mtime(const char *rel, time_t sec, long nsec)
{
  struct stat st;

  stat_into(L(rel), &st);
  ck_assert_msg(st.st_mtim.tv_sec == sec && st.st_mtim.tv_nsec == nsec,
                "%s: mtime %lld.%09ld, want %lld.%09ld", rel,
                (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
                (long long)sec, nsec);
}

static int has_xattr(const char *path, const char *name)
{
  char value[64];

  return lgetxattr(path, name, value, sizeof(value)) >= 0;
}

static void assert_xattr(const char *rel, const char *name, const char *value)
{
  char got[256];
  ssize_t n = lgetxattr(L(rel), name, got, sizeof(got) - 1);

  ck_assert_msg(n >= 0, "%s: xattr %s: %s", rel, name, strerror(errno));
  got[n] = '\0';
  ck_assert_str_eq(got, value);
}

/* The names in dir, sorted and joined with ",". */
static void list_dir(const char *dir, char *out, size_t cap)
{
  struct dirent **names;
  int n = scandir(dir, &names, NULL, alphasort);
  size_t used = 0;

  ck_assert_msg(n >= 0, "scandir %s: %s", dir, strerror(errno));
  out[0] = '\0';
  for (int i = 0; i < n; i++) {
    const char *name = names[i]->d_name;
    if (strcmp(name, ".") != 0 && strcmp(name, "..") != 0)
      used += (size_t)snprintf(out + used, cap - used, "%s%s", used ? "," : "",
                               name);
    free(names[i]);
    ck_assert_uint_lt(used, cap);
  }
  free(names);
}

static void assert_listing(const char *dir, const char *want)
{
  char got[4096];

  list_dir(dir, got, sizeof(got));
  ck_assert_msg(strcmp(got, want) == 0, "%s holds [%s], want [%s]", dir, got,
                want);
}

static void assert_same_stat(const char *path, const struct stat *was)
{
  struct stat now;

  stat_into(path, &now);
  ck_assert_msg(
      now.st_ino == was->st_ino && now.st_mode == was->st_mode &&
          now.st_uid == was->st_uid && now.st_gid == was->st_gid &&
          now.st_nlink == was->st_nlink && now.st_size == was->st_size &&
          now.st_mtim.tv_sec == was->st_mtim.tv_sec &&
          now.st_mtim.tv_nsec == was->st_mtim.tv_nsec,
      "%s changed: mode 0%o uid %u gid %u nlink %lu", path, now.st_mode,
      now.st_uid, now.st_gid, (unsigned long)now.st_nlink);
}

static void assert_no_xattrs(const char *path)
{
  char names[1024];

  ck_assert_msg(llistxattr(path, names, sizeof(names)) <= 0, "%s gained xattrs",
                path);
}

/* Nothing outside the layer was written, linked, chmod'ed or deleted. */
static void assert_outside_untouched(void)
{
  char path[PATH_MAX], text[64];
  const char *host[] = {"/", "/tmp/", "/etc/"};

  assert_listing(base, "layer,outside");
  assert_same_stat(base, &before_base);
  fmt(path, "%s/outside", base);
  assert_listing(path, "marker,sub");
  assert_same_stat(path, &before_outside);
  assert_no_xattrs(path);
  fmt(path, "%s/outside/sub", base);
  assert_listing(path, "");
  assert_same_stat(path, &before_sub);
  assert_no_xattrs(path);
  fmt(path, "%s/outside/marker", base);
  assert_same_stat(path, &before_marker);
  assert_no_xattrs(path);
  read_text(path, text, sizeof(text));
  ck_assert_str_eq(text, "OUTSIDE");
  for (size_t i = 0; i < sizeof(host) / sizeof(host[0]); i++) {
    fmt(path, "%s%s", host[i], token);
    ck_assert_msg(!exists(path), "%s was created on the host", path);
  }
  struct stat st;
  stat_into("/", &st);
  ck_assert(st.st_mode == before_host_root.st_mode &&
            st.st_uid == before_host_root.st_uid);
  stat_into("/tmp", &st);
  ck_assert(st.st_mode == before_host_tmp.st_mode &&
            st.st_uid == before_host_tmp.st_uid);
  /* The layer directory itself belongs to the store, not to the tar. */
  stat_into(layer, &st);
  ck_assert_msg(st.st_mode == before_layer.st_mode &&
                    st.st_uid == before_layer.st_uid &&
                    st.st_gid == before_layer.st_gid,
                "layer root changed: mode 0%o uid %u", st.st_mode, st.st_uid);
  assert_no_xattrs(layer);
}

/* ---- building tars ---- */

/* The format setters are called by name: the generic
 * archive_write_set_format() would drag every writer (xar needs libxml2)
 * into the static link. */
static void tar_begin(int (*set_format)(struct archive *))
{
  if (tw)
    archive_write_free(tw);
  tw = archive_write_new();
  ck_assert_ptr_nonnull(tw);
  ck_assert_int_eq(set_format(tw), ARCHIVE_OK);
  ck_assert_int_eq(archive_write_add_filter_none(tw), ARCHIVE_OK);
  ck_assert_int_eq(archive_write_set_bytes_per_block(tw, 512), ARCHIVE_OK);
  tarlen = 0;
  ck_assert_int_eq(archive_write_open_memory(tw, tarbuf, TAR_CAP, &tarlen),
                   ARCHIVE_OK);
}

static void tar_reset(void)
{
  if (!tarbuf)
    tarbuf = calloc(1, TAR_CAP);
  ck_assert_ptr_nonnull(tarbuf);
  tar_begin(archive_write_set_format_pax_restricted);
}

/* Finishes the tar: tarbuf/tarlen hold it. */
static void tar_end(void)
{
  ck_assert_int_eq(archive_write_close(tw), ARCHIVE_OK);
  archive_write_free(tw);
  tw = NULL;
}

static struct archive_entry *entry(const char *path, mode_t type, mode_t perm)
{
  struct archive_entry *e = archive_entry_new();

  ck_assert_ptr_nonnull(e);
  archive_entry_copy_pathname(e, path);
  archive_entry_set_filetype(e, type);
  archive_entry_set_perm(e, perm);
  archive_entry_set_uid(e, 0);
  archive_entry_set_gid(e, 0);
  archive_entry_set_mtime(e, T0, 0);
  archive_entry_set_size(e, 0);
  return e;
}

/* Writes e (and data, for regular files) and frees it. */
static void put(struct archive_entry *e, const char *data)
{
  size_t len = data ? strlen(data) : 0;

  if (data)
    archive_entry_set_size(e, (la_int64_t)len);
  ck_assert_msg(archive_write_header(tw, e) == ARCHIVE_OK, "header %s: %s",
                archive_entry_pathname(e), archive_error_string(tw));
  if (len)
    ck_assert_int_eq(archive_write_data(tw, data, len), (la_ssize_t)len);
  archive_entry_free(e);
}

static void add_file(const char *path, const char *text)
{
  put(entry(path, AE_IFREG, 0644), text);
}

static void add_dir(const char *path, mode_t perm)
{
  put(entry(path, AE_IFDIR, perm), NULL);
}

static void add_symlink(const char *path, const char *target)
{
  struct archive_entry *e = entry(path, AE_IFLNK, 0777);

  archive_entry_copy_symlink(e, target);
  put(e, NULL);
}

static void add_hardlink(const char *path, const char *target)
{
  struct archive_entry *e = entry(path, AE_IFREG, 0644);

  archive_entry_copy_hardlink(e, target);
  put(e, NULL);
}

/* ---- extracting ---- */

static int count_fds(void)
{
  DIR *d = opendir("/proc/self/fd");
  int n = 0;

  ck_assert_ptr_nonnull(d);
  while (readdir(d))
    n++;
  closedir(d);
  return n;
}

/* Extracts tarbuf into the layer; no fd may be left open. */
static int extract(mk_error_t *err)
{
  int fds = count_fds(), r;

  memset(err, 0, sizeof(*err));
  r = mk_layer_extract_memory(tarbuf, tarlen, layerfd, err);
  ck_assert_int_eq(count_fds(), fds);
  return r;
}

static void extract_ok(void)
{
  mk_error_t err;

  tar_end();
  ck_assert_msg(extract(&err) == 0, "extract failed: %s", err.msg);
}

/* Extraction fails, with a message that contains every needle given. */
static void extract_fails(const char *needle, const char *needle2)
{
  mk_error_t err;

  tar_end();
  ck_assert_msg(extract(&err) == -1, "hostile layer was accepted");
  assert_outside_untouched(); /* first: it matters more than the message */
  ck_assert_msg(strstr(err.msg, needle), "error `%s` lacks `%s`", err.msg,
                needle);
  if (needle2)
    ck_assert_msg(strstr(err.msg, needle2), "error `%s` lacks `%s`", err.msg,
                  needle2);
}

/* The host path of B/outside, as an absolute symlink or link target. */
static const char *host_outside(void)
{
  static char path[PATH_MAX];

  fmt(path, "%s/outside", base);
  return path;
}

/* The same path inside the layer (B without its leading "/"). */
static const char *mirror(const char *rest)
{
  static char path[PATH_MAX];

  fmt(path, "%s/outside%s", base + 1, rest);
  return path;
}

/* ==== mk_layer_clean_path ==== */

START_TEST(test_clean_path)
{
  char out[PATH_MAX];

  ck_assert_int_eq(mk_layer_clean_path("./etc//passwd", out, sizeof(out)), 0);
  ck_assert_str_eq(out, "etc/passwd");
  ck_assert_int_eq(mk_layer_clean_path("/etc/./x/", out, sizeof(out)), 0);
  ck_assert_str_eq(out, "etc/x");
  ck_assert_int_eq(mk_layer_clean_path("./", out, sizeof(out)), 0);
  ck_assert_str_eq(out, "");
  ck_assert_int_eq(mk_layer_clean_path("...", out, sizeof(out)), 0);
  ck_assert_str_eq(out, "...");
  ck_assert_int_eq(mk_layer_clean_path("a/..b/c..", out, sizeof(out)), 0);
  ck_assert_str_eq(out, "a/..b/c..");
  ck_assert_int_eq(mk_layer_clean_path("..", out, sizeof(out)), -1);
  ck_assert_int_eq(mk_layer_clean_path("../x", out, sizeof(out)), -1);
  ck_assert_int_eq(mk_layer_clean_path("a/../../x", out, sizeof(out)), -1);
  ck_assert_int_eq(mk_layer_clean_path("/..", out, sizeof(out)), -1);
  ck_assert_int_eq(mk_layer_clean_path("a/b/..", out, sizeof(out)), -1);
  ck_assert_int_eq(mk_layer_clean_path("abc", out, 4), 0);
  ck_assert_int_eq(mk_layer_clean_path("abcd", out, 4), -1);
  ck_assert_int_eq(mk_layer_clean_path("", out, 0), -1);
}
END_TEST

/* ==== what a normal layer must produce ==== */

START_TEST(test_regular_tree)
{
  add_dir("./", 0755);
  add_dir("etc/", 0755);
  add_file("etc/hostname", "box\n");
  add_file("./etc/motd", "hello\n");
  add_file("usr/bin/tool", "#!/bin/sh\n"); /* parents not listed */
  add_symlink("bin", "usr/bin");
  add_hardlink("etc/motd.hard", "etc/motd");
  add_file("empty", "");
  extract_ok();

  assert_file("etc/hostname", "box\n");
  assert_file("etc/motd", "hello\n");
  assert_file("usr/bin/tool", "#!/bin/sh\n");
  assert_dir("usr/bin");
  assert_symlink("bin", "usr/bin");
  assert_file("empty", "");
  struct stat a, b;
  stat_into(L("etc/motd"), &a);
  stat_into(L("etc/motd.hard"), &b);
  ck_assert(a.st_ino == b.st_ino);
  ck_assert_uint_eq(a.st_nlink, 2);
  assert_listing(layer, "bin,empty,etc,usr");
  assert_outside_untouched();
}
END_TEST

START_TEST(test_empty_layer)
{
  extract_ok();
  assert_listing(layer, "");
  assert_outside_untouched();
}
END_TEST

/* A file larger than libarchive's blocks, with content checked. */
START_TEST(test_large_file)
{
  size_t n = 3u << 20;
  char *data = malloc(n + 1);

  ck_assert_ptr_nonnull(data);
  for (size_t i = 0; i < n; i++)
    data[i] = (char)('a' + (i * 7 + i / 4096) % 26);
  data[n] = '\0';
  add_file("big", data);
  extract_ok();

  int fd = open(L("big"), O_RDONLY | O_CLOEXEC);
  char *got = malloc(n + 1);
  ck_assert_ptr_nonnull(got);
  ck_assert_int_eq(read(fd, got, n + 1), (ssize_t)n);
  close(fd);
  ck_assert(memcmp(got, data, n) == 0);
  free(got);
  free(data);
}
END_TEST

START_TEST(test_modes_special_bits)
{
  put(entry("suid", AE_IFREG, 04755), "x");
  put(entry("sgid", AE_IFREG, 02755), "x");
  put(entry("both", AE_IFREG, 06711), "x");
  put(entry("ro", AE_IFREG, 0400), "x");
  put(entry("none", AE_IFREG, 0), "x");
  add_dir("tmp/", 01777);
  add_dir("shared/", 02775);
  add_dir("locked/", 0500);
  add_file("locked/inner", "x"); /* a read-only dir still gets children */
  extract_ok();

  assert_mode_owner("suid", 04755, 0, 0);
  assert_mode_owner("sgid", 02755, 0, 0);
  assert_mode_owner("both", 06711, 0, 0);
  assert_mode_owner("ro", 0400, 0, 0);
  assert_mode_owner("none", 0, 0, 0);
  assert_mode_owner("tmp", 01777, 0, 0);
  assert_mode_owner("shared", 02775, 0, 0);
  assert_mode_owner("locked", 0500, 0, 0);
  assert_file("locked/inner", "x");
}
END_TEST

/* Numeric ids only, on every kind of entry; setuid survives the chown. */
START_TEST(test_owner_numeric)
{
  struct archive_entry *e;

  e = entry("f", AE_IFREG, 04750);
  archive_entry_set_uid(e, 1234);
  archive_entry_set_gid(e, 5678);
  archive_entry_copy_uname(e, "root"); /* names are ignored */
  archive_entry_copy_gname(e, "root");
  put(e, "x");
  e = entry("d/", AE_IFDIR, 0750);
  archive_entry_set_uid(e, 4000000);
  archive_entry_set_gid(e, 4000001);
  put(e, NULL);
  e = entry("l", AE_IFLNK, 0777);
  archive_entry_copy_symlink(e, "/nowhere");
  archive_entry_set_uid(e, 33);
  archive_entry_set_gid(e, 44);
  put(e, NULL);
  e = entry("p", AE_IFIFO, 0640);
  archive_entry_set_uid(e, 7);
  archive_entry_set_gid(e, 8);
  put(e, NULL);
  extract_ok();

  assert_mode_owner("f", 04750, 1234, 5678);
  assert_mode_owner("d", 0750, 4000000, 4000001);
  assert_mode_owner("p", 0640, 7, 8);
  struct stat st;
  stat_into(L("l"), &st);
  ck_assert_uint_eq(st.st_uid, 33);
  ck_assert_uint_eq(st.st_gid, 44);
}
END_TEST

/* Full pax carries nanoseconds; directories get theirs after children. */
START_TEST(test_mtimes)
{
  struct archive_entry *e;

  tar_begin(archive_write_set_format_pax);
  e = entry("d/", AE_IFDIR, 0755);
  archive_entry_set_mtime(e, 1000000000, 123456789);
  put(e, NULL);
  e = entry("d/sub/", AE_IFDIR, 0755);
  archive_entry_set_mtime(e, 1100000000, 0);
  put(e, NULL);
  e = entry("d/sub/f", AE_IFREG, 0644);
  archive_entry_set_mtime(e, 1200000000, 500);
  put(e, "data");
  e = entry("d/l", AE_IFLNK, 0777);
  archive_entry_copy_symlink(e, "sub/f");
  archive_entry_set_mtime(e, 1300000000, 0);
  put(e, NULL);
  e = entry("d/p", AE_IFIFO, 0644);
  archive_entry_set_mtime(e, 1400000000, 0);
  put(e, NULL);
  add_file("d/late", "added after d's own entry");
  add_hardlink("d/sub/f2", "d/sub/f");
  extract_ok();

  assert_mtime("d", 1000000000, 123456789);
  assert_mtime("d/sub", 1100000000, 0);
  assert_mtime("d/sub/f", 1200000000, 500);
  assert_mtime("d/l", 1300000000, 0); /* the link, not its target */
  assert_mtime("d/p", 1400000000, 0);
  assert_mtime("d/late", T0, 0);
}
END_TEST

/* A directory listed twice: the later entry wins, as with tar -x. */
START_TEST(test_directory_listed_twice)
{
  struct archive_entry *e;

  e = entry("d/", AE_IFDIR, 0700);
  archive_entry_set_uid(e, 1);
  archive_entry_set_mtime(e, 1000000000, 0);
  put(e, NULL);
  add_file("d/f", "x");
  e = entry("d/", AE_IFDIR, 0755);
  archive_entry_set_uid(e, 2);
  archive_entry_set_mtime(e, 1500000000, 0);
  put(e, NULL);
  extract_ok();

  assert_mode_owner("d", 0755, 2, 0);
  assert_mtime("d", 1500000000, 0);
  assert_file("d/f", "x");
}
END_TEST

START_TEST(test_fifo_and_devices)
{
  struct archive_entry *e;
  struct stat st;

  put(entry("fifo", AE_IFIFO, 0620), NULL);
  e = entry("dev/null", AE_IFCHR, 0666);
  archive_entry_set_rdevmajor(e, 1);
  archive_entry_set_rdevminor(e, 3);
  put(e, NULL);
  e = entry("dev/loop0", AE_IFBLK, 0660);
  archive_entry_set_rdevmajor(e, 7);
  archive_entry_set_rdevminor(e, 0);
  archive_entry_set_gid(e, 6);
  put(e, NULL);
  extract_ok();

  stat_into(L("fifo"), &st);
  ck_assert(S_ISFIFO(st.st_mode));
  assert_mode_owner("fifo", 0620, 0, 0);
  stat_into(L("dev/null"), &st);
  ck_assert(S_ISCHR(st.st_mode));
  ck_assert_uint_eq(major(st.st_rdev), 1);
  ck_assert_uint_eq(minor(st.st_rdev), 3);
  assert_mode_owner("dev/null", 0666, 0, 0);
  stat_into(L("dev/loop0"), &st);
  ck_assert(S_ISBLK(st.st_mode));
  ck_assert_uint_eq(major(st.st_rdev), 7);
  ck_assert_uint_eq(minor(st.st_rdev), 0);
  assert_mode_owner("dev/loop0", 0660, 0, 6);
}
END_TEST

START_TEST(test_xattrs)
{
  struct archive_entry *e;

  e = entry("f", AE_IFREG, 0755);
  archive_entry_xattr_add_entry(e, "user.mime_type", "text/plain", 10);
  archive_entry_xattr_add_entry(e, "trusted.mocker", "root-only", 9);
  /* security.capability, v2: cap_net_bind_service+p. The chown must come
   * first: it would clear the capability. */
  static const unsigned char cap[20] = {0, 0, 0, 2, 0, 4};
  archive_entry_xattr_add_entry(e, "security.capability", cap, sizeof(cap));
  archive_entry_set_uid(e, 1000);
  put(e, "#!/bin/sh\n");
  e = entry("d/", AE_IFDIR, 0755);
  archive_entry_xattr_add_entry(e, "user.dir", "yes", 3);
  put(e, NULL);
  extract_ok();

  assert_xattr("f", "user.mime_type", "text/plain");
  assert_xattr("f", "trusted.mocker", "root-only");
  unsigned char got[32];
  ck_assert_int_eq(lgetxattr(L("f"), "security.capability", got, sizeof(got)),
                   (ssize_t)sizeof(cap));
  ck_assert(memcmp(got, cap, sizeof(cap)) == 0);
  assert_xattr("d", "user.dir", "yes");
  assert_mode_owner("f", 0755, 1000, 0);
}
END_TEST

/* overlayfs reads trusted.overlay.* (redirect, metacopy, origin) from lower
 * layers; a layer may state opacity only through the marker file. */
START_TEST(test_overlay_xattrs_dropped)
{
  struct archive_entry *e;

  e = entry("d/", AE_IFDIR, 0755);
  archive_entry_xattr_add_entry(e, "trusted.overlay.redirect", "/etc", 4);
  archive_entry_xattr_add_entry(e, "trusted.overlay.opaque", "y", 1);
  archive_entry_xattr_add_entry(e, "user.overlay.redirect", "/etc", 4);
  put(e, NULL);
  e = entry("f", AE_IFREG, 0644);
  archive_entry_xattr_add_entry(e, "trusted.overlay.metacopy", "", 0);
  archive_entry_xattr_add_entry(e, "user.kept", "1", 1);
  put(e, "x");
  extract_ok();

  ck_assert(!has_xattr(L("d"), "trusted.overlay.redirect"));
  ck_assert(!has_xattr(L("d"), "trusted.overlay.opaque"));
  ck_assert(!has_xattr(L("d"), "user.overlay.redirect"));
  ck_assert(!has_xattr(L("f"), "trusted.overlay.metacopy"));
  assert_xattr("f", "user.kept", "1");
}
END_TEST

/* Names over 100 bytes need pax records or GNU ././@LongLink entries. */
static void long_names(int (*format)(struct archive *))
{
  char dir[PATH_MAX], file[PATH_MAX], link[PATH_MAX], hard[PATH_MAX];
  char comp[201];

  memset(comp, 'n', 200);
  comp[200] = '\0';
  fmt(dir, "%s/%s/%s", comp, comp, comp);
  fmt(file, "%s/%s.txt", dir, comp);
  fmt(link, "%s/link", dir);
  fmt(hard, "%s/hard", dir);
  tar_begin(format);
  add_dir(dir, 0755);
  add_file(file, "long");
  add_symlink(link, file); /* a 800-byte absolute-looking target */
  add_hardlink(hard, file);
  extract_ok();

  assert_file(file, "long");
  assert_symlink(link, file);
  assert_file(hard, "long");
  assert_outside_untouched();
}

START_TEST(test_long_names_pax)
{
  long_names(archive_write_set_format_pax_restricted);
}
END_TEST

START_TEST(test_long_names_gnutar)
{
  long_names(archive_write_set_format_gnutar);
}
END_TEST

/* Paths longer than PATH_MAX fail with a message, not a crash. */
START_TEST(test_path_too_long)
{
  char path[PATH_MAX + 200];
  size_t n = 0;

  while (n < PATH_MAX + 50) {
    memset(path + n, 'x', 99);
    n += 99;
    path[n++] = '/';
  }
  memcpy(path + n, "f", 2);
  add_file(path, "x");
  extract_fails("too long", "xxxx");
  assert_outside_untouched();
}
END_TEST

/* Go's archive/tar writes non-ASCII names as UTF-8 pax records without a
 * hdrcharset (Debian's ca-certificates has such names). mocker runs in
 * the C locale, where libarchive warns it cannot convert them: the raw
 * UTF-8 bytes are what must land on disk. */
START_TEST(test_utf8_names_in_c_locale)
{
  const char *name = "F\xc5\x91tan\xc3\xbas\xc3\xadtv\xc3\xa1ny.crt";
  const char *dir = "\xe6\x97\xa5\xe6\x9c\xac/";

  ck_assert_ptr_nonnull(setlocale(LC_CTYPE, "C.UTF-8"));
  add_file(name, "cert");
  add_symlink("link.pem", name);
  add_hardlink("hard.pem", name);
  add_dir(dir, 0700);
  tar_end();
  ck_assert_ptr_nonnull(setlocale(LC_CTYPE, "C"));
  ck_assert_ptr_null(memmem(tarbuf, tarlen, "hdrcharset", 10));

  mk_error_t err;
  ck_assert_msg(extract(&err) == 0, "extract failed: %s", err.msg);
  assert_file(name, "cert");
  assert_symlink("link.pem", name);
  assert_file("hard.pem", "cert");
  assert_dir(dir);
  assert_mode_owner(dir, 0700, 0, 0);
}
END_TEST

/* ==== replacing what an earlier entry made ==== */

START_TEST(test_file_replaces_directory)
{
  add_dir("d/", 0755);
  add_file("d/child", "c");
  add_dir("d/sub/", 0700);
  add_file("d/sub/deep", "c");
  add_file("d", "now a file");
  extract_ok();

  assert_file("d", "now a file");
  assert_listing(layer, "d");
  assert_outside_untouched();
}
END_TEST

START_TEST(test_directory_replaces_file)
{
  add_file("d", "a file first");
  add_symlink("s", "/etc");
  add_dir("d/", 0710);
  add_file("d/child", "c");
  add_dir("s/", 0750); /* replaces the link, does not go through it */
  extract_ok();

  assert_dir("d");
  assert_mode_owner("d", 0710, 0, 0);
  assert_file("d/child", "c");
  assert_dir("s");
  assert_mode_owner("s", 0750, 0, 0);
  assert_absent("etc");
  assert_outside_untouched();
}
END_TEST

/* A later file must replace an earlier one, never write through it: not
 * through a symlink (to the host) nor through a hard link (to a sibling). */
START_TEST(test_file_replaces_links)
{
  char target[PATH_MAX];

  fmt(target, "%s/marker", host_outside());
  add_symlink("lnk", target);
  add_symlink("rel", "../outside/marker");
  add_file("a", "one");
  add_hardlink("b", "a");
  add_file("lnk", "PWNED");
  add_file("rel", "PWNED");
  add_file("a", "two");
  extract_ok();

  assert_file("lnk", "PWNED");
  assert_file("rel", "PWNED");
  assert_file("a", "two");
  assert_file("b", "one");
  assert_outside_untouched();
}
END_TEST

/* The directory and its children go; entries through the new link land
 * inside the layer; the old directory's metadata is not applied to
 * whatever the path now reaches. */
START_TEST(test_symlink_replaces_directory_with_children)
{
  struct archive_entry *e;

  add_dir("real/", 0755);
  e = entry("d/", AE_IFDIR, 0700);
  archive_entry_set_uid(e, 1234);
  archive_entry_set_mtime(e, 1000000000, 0);
  put(e, NULL);
  add_file("d/a", "a");
  e = entry("d/sub/", AE_IFDIR, 0700);
  archive_entry_set_uid(e, 1234);
  put(e, NULL);
  add_file("d/sub/b", "b");
  add_symlink("d", "real");
  add_dir("real/sub/", 0751);
  add_file("d/new", "through the link");
  add_symlink("u", "../outside");
  add_file("u/x", "contained");
  extract_ok();

  assert_symlink("d", "real");
  assert_file("real/new", "through the link");
  assert_listing(L("real"), "new,sub");
  assert_listing(L("real/sub"), "");
  assert_mode_owner("real", 0755, 0, 0);
  assert_mode_owner("real/sub", 0751, 0, 0);
  assert_mtime("real", T0, 0);
  assert_file("outside/x", "contained");
  assert_outside_untouched();
}
END_TEST

/* The path of a replaced directory now leads, through a link, to a
 * directory no entry describes: the old metadata stays off it. */
START_TEST(test_replaced_directory_metadata_not_applied_through_link)
{
  struct archive_entry *e;

  e = entry("d/sub/", AE_IFDIR, 0700);
  archive_entry_set_uid(e, 1234);
  archive_entry_set_mtime(e, 1000000000, 0);
  put(e, NULL);
  add_symlink("d", "real");
  add_file("real/sub/f", "made real/sub without an entry of its own");
  extract_ok();

  assert_mode_owner("real/sub", 0755, 0, 0);
  assert_listing(L("real/sub"), "f");
  assert_outside_untouched();
}
END_TEST

/* One directory reached by two paths (through a link): the later entry
 * wins, even when it is deeper. */
START_TEST(test_same_directory_two_paths_last_wins)
{
  struct archive_entry *e;

  add_dir("usr/", 0755);
  add_dir("usr/lib/", 0755);
  add_symlink("lib", "usr/lib");
  e = entry("lib/x/", AE_IFDIR, 0700);
  archive_entry_set_mtime(e, 1000000000, 0);
  put(e, NULL);
  e = entry("usr/lib/x/", AE_IFDIR, 0751);
  archive_entry_set_mtime(e, 1200000000, 0);
  put(e, NULL);
  extract_ok();

  assert_symlink("lib", "usr/lib");
  assert_mode_owner("usr/lib/x", 0751, 0, 0);
  assert_mtime("usr/lib/x", 1200000000, 0);
}
END_TEST

/* "d/" then "d" -> "/" (or a climb above the root): the old metadata of d
 * (0777, uid 1234) must not land on the layer root through the link. */
START_TEST(test_replaced_directory_metadata_not_applied_to_root)
{
  struct archive_entry *e;

  e = entry("d/", AE_IFDIR, 0777);
  archive_entry_set_uid(e, 1234);
  put(e, NULL);
  add_symlink("d", "/");
  e = entry("e/", AE_IFDIR, 0777);
  archive_entry_set_uid(e, 1234);
  put(e, NULL);
  add_symlink("e", "../../../../../../../..");
  extract_ok();

  assert_symlink("d", "/");
  assert_outside_untouched();
}
END_TEST

/* ==== whiteouts ==== */

START_TEST(test_whiteout_becomes_char_device)
{
  struct archive_entry *e;
  struct stat st;

  add_file(".wh.gone", "");
  add_dir("etc/", 0755);
  e = entry("etc/.wh.shadow", AE_IFREG, 0644);
  archive_entry_set_uid(e, 1234);
  put(e, "ignored data");
  add_file("etc/passwd", "root");
  add_file("etc/.wh.passwd", ""); /* also whiteouts this layer's copy */
  add_dir("tree/", 0755);
  add_file("tree/leaf", "x");
  add_file(".wh.tree", "");
  extract_ok();

  assert_whiteout("gone");
  assert_whiteout("etc/shadow");
  assert_whiteout("etc/passwd");
  assert_whiteout("tree");
  stat_into(L("etc/shadow"), &st);
  ck_assert_uint_eq(st.st_uid, 0);
  ck_assert_uint_eq(st.st_gid, 0);
  assert_absent(".wh.gone");
  assert_absent("etc/.wh.shadow");
  assert_listing(layer, "etc,gone,tree");
  assert_listing(L("etc"), "passwd,shadow");
  assert_outside_untouched();
}
END_TEST

/* The marker may come after the new siblings of the same layer (Docker's
 * own exports put it anywhere); they survive, and the marker is no file. */
START_TEST(test_opaque_marker_after_siblings)
{
  struct archive_entry *e;

  e = entry("d/", AE_IFDIR, 0750);
  archive_entry_set_mtime(e, 1000000000, 0);
  put(e, NULL);
  add_file("d/new1", "1");
  add_dir("d/newdir/", 0755);
  add_file("d/newdir/f", "f");
  add_file("d/.wh..wh..opq", "");
  add_file("d/new2", "2");
  add_file("e/.wh..wh..opq", ""); /* marker first, directory after */
  add_dir("e/", 0700);
  add_file("e/x", "x");
  extract_ok();

  assert_xattr("d", "trusted.overlay.opaque", "y");
  assert_xattr("e", "trusted.overlay.opaque", "y");
  assert_listing(L("d"), "new1,new2,newdir");
  assert_file("d/new1", "1");
  assert_file("d/newdir/f", "f");
  assert_file("d/new2", "2");
  assert_listing(L("e"), "x");
  assert_mode_owner("d", 0750, 0, 0);
  assert_mtime("d", 1000000000, 0);
  assert_mode_owner("e", 0700, 0, 0);
  ck_assert(!has_xattr(L("d/newdir"), "trusted.overlay.opaque"));
  assert_outside_untouched();
}
END_TEST

/* aufs bookkeeping (.wh..wh.plnk, .wh..wh.aufs) is not content. */
START_TEST(test_aufs_metadata_skipped)
{
  add_dir(".wh..wh.plnk/", 0700);
  add_file(".wh..wh.aufs", "");
  add_file("kept", "k");
  extract_ok();

  assert_listing(layer, "kept");
}
END_TEST

START_TEST(test_whiteout_of_dotdot)
{
  add_file(".wh...", "");
  extract_fails(".wh...", "whiteout");
  assert_listing(layer, "");
  assert_outside_untouched();
}
END_TEST

START_TEST(test_whiteout_of_dot)
{
  add_dir("sub/", 0755);
  add_file("sub/.wh..", "");
  extract_fails("sub/.wh..", "whiteout");
  assert_dir("sub");
  assert_outside_untouched();
}
END_TEST

START_TEST(test_whiteout_path_with_dotdot)
{
  add_file("sub/../.wh.outside", "");
  extract_fails("sub/../.wh.outside", NULL);
  assert_outside_untouched();
}
END_TEST

/* A whiteout placed through a symlink that points out (absolute or
 * relative) must land in the layer, never delete the host file. */
START_TEST(test_whiteout_through_symlink)
{
  char rel[PATH_MAX];

  add_symlink("abs", host_outside());
  add_symlink("rel", "../outside");
  add_symlink("slash", "/");
  add_file("abs/.wh.marker", "");
  add_file("rel/.wh.sub", "");
  fmt(rel, "slash/tmp/.wh.%s", token);
  add_file(rel, "");
  add_file("rel/.wh..wh..opq", "");
  extract_ok();

  assert_whiteout(mirror("/marker"));
  assert_whiteout("outside/sub");
  fmt(rel, "tmp/%s", token);
  assert_whiteout(rel);
  assert_xattr("outside", "trusted.overlay.opaque", "y");
  assert_symlink("abs", host_outside());
  assert_outside_untouched();
}
END_TEST

/* ==== breakouts: entries that name a path outside ==== */

START_TEST(test_dotdot_entry)
{
  add_file("../outside/marker", "PWNED");
  extract_fails("../outside/marker", "escapes");
  assert_outside_untouched();
}
END_TEST

START_TEST(test_dotdot_inside_entry)
{
  add_dir("a/", 0755);
  add_file("a/../../outside/new", "PWNED");
  extract_fails("a/../../outside/new", NULL);
  assert_outside_untouched();
}
END_TEST

START_TEST(test_dotdot_directory_and_symlink_entries)
{
  add_symlink("./../outside/evil", "/etc/passwd");
  extract_fails("../outside/evil", NULL);
  assert_outside_untouched();

  tar_begin(archive_write_set_format_gnutar);
  add_dir("../outside/sub/", 0777);
  extract_fails("../outside/sub", NULL);
  assert_outside_untouched();
}
END_TEST

/* Absolute names are contained, as containerd and Docker do: "/etc/x"
 * lands at layer/etc/x. */
START_TEST(test_absolute_paths_contained)
{
  char path[PATH_MAX], rel[PATH_MAX];

  fmt(path, "/etc/%s", token);
  add_file(path, "etc");
  fmt(path, "/tmp/%s", token);
  add_dir(path, 01777);
  fmt(path, "%s/marker", host_outside());
  add_file(path, "MIRROR");
  fmt(path, "//%s", token);
  add_file(path, "double slash");
  extract_ok();

  fmt(rel, "etc/%s", token);
  assert_file(rel, "etc");
  fmt(rel, "tmp/%s", token);
  assert_mode_owner(rel, 01777, 0, 0);
  assert_file(mirror("/marker"), "MIRROR");
  assert_file(token, "double slash");
  assert_outside_untouched();
}
END_TEST

/* A symlink out, then a file, a directory, a hard link and a symlink
 * through it, all in one layer. */
static void through_link(const char *target, const char *landing)
{
  char path[PATH_MAX];
  struct archive_entry *e;

  add_symlink("esc", target);
  add_file("esc/marker", "PWNED");
  e = entry("esc/sub/", AE_IFDIR, 0777);
  archive_entry_set_uid(e, 1234);
  archive_entry_set_mtime(e, 1000000000, 0);
  put(e, NULL);
  add_file("esc/sub/created", "inside");
  add_file("plain", "plain");
  add_hardlink("esc/hard", "plain");
  add_symlink("esc/ln", "/etc/shadow");
  add_file("esc/.wh..wh..opq", "");
  extract_ok();

  assert_symlink("esc", target);
  fmt(path, "%s/marker", landing);
  assert_file(path, "PWNED");
  fmt(path, "%s/sub", landing);
  assert_mode_owner(path, 0777, 1234, 0);
  assert_mtime(path, 1000000000, 0);
  fmt(path, "%s/sub/created", landing);
  assert_file(path, "inside");
  fmt(path, "%s/hard", landing);
  assert_file(path, "plain");
  fmt(path, "%s/ln", landing);
  assert_symlink(path, "/etc/shadow");
  struct stat st;
  stat_into(L("plain"), &st);
  ck_assert_uint_eq(st.st_nlink, 2);
  assert_outside_untouched();
}

START_TEST(test_symlink_out_absolute)
{
  through_link(host_outside(), mirror(""));
}
END_TEST

START_TEST(test_symlink_out_relative)
{
  through_link("../outside", "outside");
}
END_TEST

START_TEST(test_symlink_out_deep_relative)
{
  char target[PATH_MAX];

  /* ../../../../... reaches the host's / from B/layer; then down to B. */
  fmt(target, "../../../../../../../../../../..%s/outside", base);
  through_link(target, mirror(""));
}
END_TEST

/* A link to "/" (and one to ../../..) then names under it: the host's
 * /tmp and /etc are never reached. */
START_TEST(test_symlink_to_root)
{
  char path[PATH_MAX], rel[PATH_MAX];

  add_symlink("root", "/");
  add_symlink("up", "../../../../../../../..");
  fmt(path, "root/tmp/%s", token);
  add_file(path, "via /");
  fmt(path, "up/etc/%s", token);
  add_file(path, "via ..");
  fmt(path, "root%s/marker", host_outside());
  add_file(path, "MIRROR");
  extract_ok();

  fmt(rel, "tmp/%s", token);
  assert_file(rel, "via /");
  fmt(rel, "etc/%s", token);
  assert_file(rel, "via ..");
  assert_file(mirror("/marker"), "MIRROR");
  assert_outside_untouched();
}
END_TEST

/* A link to a parent directory, then ".." through links: every climb
 * stops at the layer root. */
START_TEST(test_symlink_to_parent_then_climb)
{
  add_dir("a/b/", 0755);
  add_symlink("a/b/parent", "..");
  add_symlink("a/b/top", "../..");
  add_symlink("a/b/parent/up", "../..");
  add_file("a/b/parent/up/escaped", "at layer root");
  add_symlink("a/b/top/climb", "..");
  add_file("a/b/top/climb/outside/marker", "MIRROR");
  add_dir("a/b/parent/up/outside/sub/", 0700);
  extract_ok();

  assert_symlink("a/up", "../..");
  assert_file("escaped", "at layer root");
  assert_symlink("climb", "..");
  assert_file("outside/marker", "MIRROR");
  assert_mode_owner("outside/sub", 0700, 0, 0);
  assert_outside_untouched();
}
END_TEST

/* ==== hard links ==== */

START_TEST(test_hardlink_dotdot_target)
{
  add_hardlink("hl", "../outside/marker");
  extract_fails("hl", "escapes the layer");
  assert_absent("hl");
  assert_outside_untouched();
}
END_TEST

/* An absolute target names a path in the layer; missing there, it fails
 * (it must not link the host's /etc/passwd). */
START_TEST(test_hardlink_absolute_target_missing)
{
  add_hardlink("passwd", "/etc/passwd");
  extract_fails("passwd", "No such file");
  assert_absent("passwd");
  assert_outside_untouched();
}
END_TEST

START_TEST(test_hardlink_absolute_target_inside)
{
  char target[PATH_MAX];
  struct stat a, b;

  add_file("etc/passwd", "root:x:0:0::/root:/bin/sh\n");
  add_hardlink("passwd", "/etc/passwd");
  fmt(target, "%s/marker", host_outside());
  add_file(target, "MIRROR");
  add_hardlink("marker-link", target);
  extract_ok();

  stat_into(L("etc/passwd"), &a);
  stat_into(L("passwd"), &b);
  ck_assert(a.st_ino == b.st_ino);
  assert_file("marker-link", "MIRROR");
  stat_into(L(mirror("/marker")), &a);
  stat_into(L("marker-link"), &b);
  ck_assert(a.st_ino == b.st_ino);
  assert_outside_untouched();
}
END_TEST

/* The target's directory is a link out: resolved inside the layer. */
START_TEST(test_hardlink_through_symlink)
{
  add_symlink("esc", "../outside");
  add_symlink("abs", host_outside());
  add_hardlink("hl1", "esc/marker");
  extract_fails("hl1", "No such file");
  assert_outside_untouched();

  tar_begin(archive_write_set_format_pax_restricted);
  add_symlink("abs", host_outside());
  add_hardlink("hl2", "abs/marker");
  extract_fails("hl2", "No such file");
  assert_outside_untouched();

  tar_begin(archive_write_set_format_pax_restricted);
  add_symlink("esc", "../outside");
  add_file("outside/marker", "MIRROR");
  add_hardlink("hl3", "esc/marker");
  extract_ok();
  assert_file("hl3", "MIRROR");
  assert_outside_untouched();
}
END_TEST

/* A hard link to a symlink that points out links the symlink itself. */
START_TEST(test_hardlink_to_escaping_symlink)
{
  char target[PATH_MAX];
  struct stat st;

  fmt(target, "%s/marker", host_outside());
  add_symlink("lnk", target);
  add_hardlink("hl", "lnk");
  extract_ok();

  assert_symlink("hl", target);
  stat_into(L("lnk"), &st);
  ck_assert_uint_eq(st.st_nlink, 2);
  assert_outside_untouched();
}
END_TEST

START_TEST(test_hardlink_to_directory_or_root)
{
  add_dir("d/", 0755);
  add_hardlink("hd", "d");
  extract_fails("hd", NULL);
  assert_absent("hd");

  tar_begin(archive_write_set_format_pax_restricted);
  add_hardlink("hr", "./");
  extract_fails("hr", NULL);
  assert_absent("hr");
  assert_outside_untouched();
}
END_TEST

/* ==== broken and unsupported archives ==== */

/* Cut in the middle of a file's data. */
START_TEST(test_truncated_data)
{
  char big[8193];

  memset(big, 'z', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  add_file("first", "ok");
  add_file("big", big);
  tar_end();
  tarlen = 512 * 3 + 4096; /* first's header+data, big's header, half data */

  mk_error_t err;
  ck_assert_int_eq(extract(&err), -1);
  ck_assert_msg(strstr(err.msg, "big") && strstr(err.msg, "runcat"),
                "error `%s` does not name the entry and the truncation",
                err.msg);
  assert_file("first", "ok");
  assert_outside_untouched();
}
END_TEST

/* Cut in the middle of a header. */
START_TEST(test_truncated_header)
{
  add_file("first", "ok");
  add_file("second", "ok");
  tar_end();
  tarlen = 512 * 2 + 300;

  mk_error_t err;
  ck_assert_int_eq(extract(&err), -1);
  ck_assert_msg(strstr(err.msg, "runcat") || strstr(err.msg, "amaged"),
                "error `%s` does not say the tar is broken", err.msg);
  assert_file("first", "ok");
  assert_absent("second");
  assert_outside_untouched();
}
END_TEST

/* Sets the checksum of a hand-made ustar header. */
static void ustar_checksum(unsigned char *h)
{
  unsigned sum = 0;

  memset(h + 148, ' ', 8);
  for (int i = 0; i < 512; i++)
    sum += h[i];
  snprintf((char *)h + 148, 8, "%06o", sum);
  h[155] = ' ';
}

/* A one-entry ustar archive with a raw typeflag. */
static void raw_ustar(const char *name, char typeflag)
{
  unsigned char *h = (unsigned char *)tarbuf;

  tar_end(); /* discard the writer */
  memset(tarbuf, 0, 512 * 3);
  snprintf((char *)h, 100, "%s", name);
  snprintf((char *)h + 100, 8, "%07o", 0644);
  snprintf((char *)h + 108, 8, "%07o", 0);
  snprintf((char *)h + 116, 8, "%07o", 0);
  snprintf((char *)h + 124, 12, "%011o", 0);
  snprintf((char *)h + 136, 12, "%011o", T0);
  h[156] = (unsigned char)typeflag;
  memcpy(h + 257, "ustar", 6);
  memcpy(h + 263, "00", 2);
  ustar_checksum(h);
  tarlen = 512 * 3;
}

/* GNU 'M' (multi-volume continuation) reads with no file type. */
START_TEST(test_unsupported_type_tar)
{
  raw_ustar("continued", 'M');

  mk_error_t err;
  ck_assert_int_eq(extract(&err), -1);
  ck_assert_msg(strstr(err.msg, "continued") &&
                    strstr(err.msg, "unsupported entry type"),
                "error `%s`", err.msg);
  assert_listing(layer, "");
}
END_TEST

/* The header checksum is checked: a corrupted header is refused. */
START_TEST(test_bad_checksum)
{
  raw_ustar("evil", '0');
  tarbuf[0] = 'E'; /* checksum no longer matches */

  mk_error_t err;
  ck_assert_int_eq(extract(&err), -1);
  ck_assert_str_ne(err.msg, "");
  assert_listing(layer, "");
}
END_TEST

/* mk_layer_extract takes any archive libarchive reads: a socket (cpio can
 * carry one) is not a layer entry. */
START_TEST(test_unsupported_type_socket)
{
  struct archive *r;
  mk_error_t err = {0};

  tar_begin(archive_write_set_format_cpio_newc);
  add_file("before", "b");
  put(entry("sock", AE_IFSOCK, 0755), NULL);
  tar_end();
  r = archive_read_new();
  archive_read_support_format_cpio(r);
  ck_assert_int_eq(archive_read_open_memory(r, tarbuf, tarlen), ARCHIVE_OK);
  ck_assert_int_eq(mk_layer_extract(r, layerfd, &err), -1);
  archive_read_free(r);
  ck_assert_msg(strstr(err.msg, "sock") &&
                    strstr(err.msg, "unsupported entry type"),
                "error `%s`", err.msg);
  assert_file("before", "b");
  assert_absent("sock");
}
END_TEST

static Suite *layer_suite(void)
{
  Suite *s = suite_create("layer");
  TCase *tc;

#define CASE(name)                                                             \
  do {                                                                         \
    tc = tcase_create(name);                                                   \
    tcase_add_unchecked_fixture(tc, suite_setup, suite_teardown);              \
    tcase_add_checked_fixture(tc, setup, teardown);                            \
    tcase_set_timeout(tc, 30);                                                 \
    suite_add_tcase(s, tc);                                                    \
  } while (0)

  CASE("clean-path");
  tcase_add_test(tc, test_clean_path);

  CASE("normal");
  tcase_add_test(tc, test_regular_tree);
  tcase_add_test(tc, test_empty_layer);
  tcase_add_test(tc, test_large_file);
  tcase_add_test(tc, test_modes_special_bits);
  tcase_add_test(tc, test_owner_numeric);
  tcase_add_test(tc, test_mtimes);
  tcase_add_test(tc, test_directory_listed_twice);
  tcase_add_test(tc, test_fifo_and_devices);
  tcase_add_test(tc, test_xattrs);
  tcase_add_test(tc, test_overlay_xattrs_dropped);
  tcase_add_test(tc, test_long_names_pax);
  tcase_add_test(tc, test_long_names_gnutar);
  tcase_add_test(tc, test_path_too_long);
  tcase_add_test(tc, test_utf8_names_in_c_locale);

  CASE("replace");
  tcase_add_test(tc, test_file_replaces_directory);
  tcase_add_test(tc, test_directory_replaces_file);
  tcase_add_test(tc, test_file_replaces_links);
  tcase_add_test(tc, test_symlink_replaces_directory_with_children);
  tcase_add_test(tc, test_replaced_directory_metadata_not_applied_to_root);
  tcase_add_test(tc, test_replaced_directory_metadata_not_applied_through_link);
  tcase_add_test(tc, test_same_directory_two_paths_last_wins);

  CASE("whiteout");
  tcase_add_test(tc, test_whiteout_becomes_char_device);
  tcase_add_test(tc, test_opaque_marker_after_siblings);
  tcase_add_test(tc, test_aufs_metadata_skipped);
  tcase_add_test(tc, test_whiteout_of_dotdot);
  tcase_add_test(tc, test_whiteout_of_dot);
  tcase_add_test(tc, test_whiteout_path_with_dotdot);
  tcase_add_test(tc, test_whiteout_through_symlink);

  CASE("breakout");
  tcase_add_test(tc, test_dotdot_entry);
  tcase_add_test(tc, test_dotdot_inside_entry);
  tcase_add_test(tc, test_dotdot_directory_and_symlink_entries);
  tcase_add_test(tc, test_absolute_paths_contained);
  tcase_add_test(tc, test_symlink_out_absolute);
  tcase_add_test(tc, test_symlink_out_relative);
  tcase_add_test(tc, test_symlink_out_deep_relative);
  tcase_add_test(tc, test_symlink_to_root);
  tcase_add_test(tc, test_symlink_to_parent_then_climb);

  CASE("hardlink");
  tcase_add_test(tc, test_hardlink_dotdot_target);
  tcase_add_test(tc, test_hardlink_absolute_target_missing);
  tcase_add_test(tc, test_hardlink_absolute_target_inside);
  tcase_add_test(tc, test_hardlink_through_symlink);
  tcase_add_test(tc, test_hardlink_to_escaping_symlink);
  tcase_add_test(tc, test_hardlink_to_directory_or_root);

  CASE("broken");
  tcase_add_test(tc, test_truncated_data);
  tcase_add_test(tc, test_truncated_header);
  tcase_add_test(tc, test_unsupported_type_tar);
  tcase_add_test(tc, test_bad_checksum);
  tcase_add_test(tc, test_unsupported_type_socket);
#undef CASE
  return s;
}

MK_UNIT_MAIN(layer_suite)
