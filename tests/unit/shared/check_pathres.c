/* Unit tests for shared/mk_pathres: resolving and creating paths inside a
 * container rootfs so that no symlink or ".." planted by the image leads
 * outside it (CVE-2021-30465).
 *
 * Layout of every test, under a fresh directory B in /tmp:
 *   B/outside/marker          "OUTSIDE"  the host file an escape would reach
 *   B/root/                              the fake rootfs
 *   B/root/<B>/outside/marker "MIRROR"   (some tests) the same absolute
 *                                        path, but inside the root
 * A hostile symlink that points at B/outside (absolutely, or with enough
 * ".." to climb to the host's /) must land on the mirror, never on the
 * host file. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <check.h>

#include "unit_fs.h"
#include "unit_main.h"
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mk_pathres.h"

/* Climbs far above any temp dir: from inside the root on the host, this
 * reaches "/"; inside the root, it stays at the root. */
#define UP "../../../../../../../../../../../../../../../../"

static char suite_dir[PATH_MAX]; /* per test case, removed by the parent */
static char base[PATH_MAX];      /* B: per test */
static char root[PATH_MAX];      /* B/root */
static int rootfd = -1;

/* Unchecked fixture: runs in the runner process, so the whole tree goes
 * even when a test dies on a failed assertion before its own teardown. */
static void suite_setup(void)
{
  snprintf(suite_dir, sizeof(suite_dir), "/tmp/mk-pathres-XXXXXX");
  if (!mkdtemp(suite_dir))
    abort();
}

static void suite_teardown(void)
{
  rm_rf(suite_dir);
}

static void make_dir(const char *path)
{
  ck_assert_msg(mkdir(path, 0755) == 0, "mkdir %s: %s", path, strerror(errno));
}

/* mkdir -p */
static void make_dirs(const char *path)
{
  char buf[PATH_MAX];

  fmt(buf, "%s", path);
  for (char *p = buf + 1; *p; p++) {
    if (*p != '/')
      continue;
    *p = '\0';
    if (mkdir(buf, 0755) < 0)
      ck_assert_int_eq(errno, EEXIST);
    *p = '/';
  }
  if (mkdir(buf, 0755) < 0)
    ck_assert_int_eq(errno, EEXIST);
}

/* Creates root/<rel> as a symlink to target. */
static void plant_symlink(const char *rel, const char *target)
{
  char path[PATH_MAX];

  fmt(path, "%s/%s", root, rel);
  ck_assert_msg(symlink(target, path) == 0, "symlink %s: %s", path,
                strerror(errno));
}

static int exists(const char *path)
{
  struct stat st;

  return lstat(path, &st) == 0;
}

/* Host path B/outside/<name>. */
static void outside_path(char *out, const char *name)
{
  fmt(out, "%s/outside/%s", base, name);
}

/* The same absolute path, inside the root: root/B/outside/<name>. */
static void mirror_path(char *out, const char *name)
{
  fmt(out, "%s%s/outside/%s", root, base, name);
}

static void make_mirror(void)
{
  char path[PATH_MAX];

  fmt(path, "%s%s/outside", root, base);
  make_dirs(path);
  mirror_path(path, "marker");
  write_file(path, "MIRROR");
}

/* Reads what fd refers to (at most cap - 1 bytes) as a string. */
static void read_fd(int fd, char *out, size_t cap)
{
  ssize_t n = pread(fd, out, cap - 1, 0);

  ck_assert_msg(n >= 0, "read: %s", strerror(errno));
  out[n] = '\0';
}

static int same_file(int fd, const char *path)
{
  struct stat a, b;

  ck_assert_int_eq(fstat(fd, &a), 0);
  if (stat(path, &b) < 0)
    return 0;
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* Checked fixture: a fresh B for every test. */
static void setup(void)
{
  char path[PATH_MAX];

  fmt(base, "%s/t-XXXXXX", suite_dir);
  ck_assert_ptr_nonnull(mkdtemp(base));
  fmt(root, "%s/root", base);
  make_dir(root);
  fmt(path, "%s/outside", base);
  make_dir(path);
  outside_path(path, "marker");
  write_file(path, "OUTSIDE");
  rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  ck_assert_int_ge(rootfd, 0);
  umask(022);
}

static void teardown(void)
{
  if (rootfd >= 0)
    close(rootfd);
  rootfd = -1;
  rm_rf(base);
}

/* Opens rel inside the root for reading and returns what it says, or
 * "ENOENT" / "errno N" when the open fails. */
static const char *open_and_read(const char *rel, char *out, size_t cap)
{
  int fd = mk_open_in_root(rootfd, rel, O_RDONLY, 0);

  if (fd < 0) {
    if (errno == ENOENT)
      snprintf(out, cap, "ENOENT");
    else
      snprintf(out, cap, "errno %d", errno);
    return out;
  }
  read_fd(fd, out, cap);
  close(fd);
  return out;
}

/* The host marker is never reached, and is never changed. */
static void assert_host_untouched(void)
{
  char path[PATH_MAX], text[64];
  int fd;

  outside_path(path, "marker");
  fd = open(path, O_RDONLY | O_CLOEXEC);
  ck_assert_int_ge(fd, 0);
  read_fd(fd, text, sizeof(text));
  close(fd);
  ck_assert_str_eq(text, "OUTSIDE");
}

/* ---- mk_open_in_root ---- */

START_TEST(test_open_plain_paths)
{
  char path[PATH_MAX], text[64];
  int fd, fdflags;

  fmt(path, "%s/etc", root);
  make_dir(path);
  fmt(path, "%s/etc/hostname", root);
  write_file(path, "inside");

  ck_assert_str_eq(open_and_read("/etc/hostname", text, sizeof(text)),
                   "inside");
  ck_assert_str_eq(open_and_read("etc/hostname", text, sizeof(text)), "inside");
  ck_assert_str_eq(open_and_read("//etc//hostname", text, sizeof(text)),
                   "inside");

  fd = mk_open_in_root(rootfd, "/etc/hostname", O_RDONLY, 0);
  ck_assert_int_ge(fd, 0);
  fdflags = fcntl(fd, F_GETFD);
  ck_assert_msg(fdflags >= 0 && (fdflags & FD_CLOEXEC),
                "fd from mk_open_in_root is not close-on-exec");
  close(fd);

  /* "/" and "" are the root itself. */
  fd = mk_open_in_root(rootfd, "/", O_PATH | O_DIRECTORY, 0);
  ck_assert_int_ge(fd, 0);
  ck_assert(same_file(fd, root));
  close(fd);
  fd = mk_open_in_root(rootfd, "", O_PATH | O_DIRECTORY, 0);
  ck_assert_int_ge(fd, 0);
  ck_assert(same_file(fd, root));
  close(fd);

  errno = 0;
  ck_assert_int_eq(mk_open_in_root(rootfd, "/nope", O_RDONLY, 0), -1);
  ck_assert_int_eq(errno, ENOENT);
}
END_TEST

/* An image's absolute "/etc" symlink means the container's /etc. */
START_TEST(test_open_absolute_symlink_to_etc)
{
  char path[PATH_MAX], text[64];
  int fd;

  plant_symlink("hostetc", "/etc");
  /* The root has no etc yet: the host's /etc/passwd must not be found. */
  ck_assert_str_eq(open_and_read("hostetc/passwd", text, sizeof(text)),
                   "ENOENT");

  fmt(path, "%s/etc", root);
  make_dir(path);
  fmt(path, "%s/etc/passwd", root);
  write_file(path, "root:x:0:0:container:/root:/bin/sh\n");
  fd = mk_open_in_root(rootfd, "/hostetc/passwd", O_RDONLY, 0);
  ck_assert_int_ge(fd, 0);
  ck_assert(same_file(fd, path));
  ck_assert(!same_file(fd, "/etc/passwd"));
  read_fd(fd, text, sizeof(text));
  ck_assert_str_eq(text, "root:x:0:0:container:/root:/bin/sh\n");
  close(fd);
}
END_TEST

/* "../../../../tmp" climbs to the host's /tmp outside, but only to the
 * container's /tmp inside. B lives in the host's /tmp. */
START_TEST(test_open_relative_dotdot_symlink)
{
  char rel[PATH_MAX], text[64];

  ck_assert_int_eq(strncmp(base, "/tmp/", 5), 0);
  plant_symlink("tmplink", UP "tmp");
  fmt(rel, "tmplink/%s/outside/marker", base + 5);

  ck_assert_str_eq(open_and_read(rel, text, sizeof(text)), "ENOENT");
  make_mirror();
  ck_assert_str_eq(open_and_read(rel, text, sizeof(text)), "MIRROR");
  assert_host_untouched();
}
END_TEST

START_TEST(test_open_link_to_slash)
{
  char rel[PATH_MAX], text[64];

  plant_symlink("slash", "/");
  fmt(rel, "slash%s/outside/marker", base);
  ck_assert_str_eq(open_and_read(rel, text, sizeof(text)), "ENOENT");
  make_mirror();
  ck_assert_str_eq(open_and_read(rel, text, sizeof(text)), "MIRROR");

  /* And a plain file through it: root/file, whatever the host has. */
  char path[PATH_MAX];
  fmt(path, "%s/file", root);
  write_file(path, "INSIDE");
  ck_assert_str_eq(open_and_read("slash/file", text, sizeof(text)), "INSIDE");
}
END_TEST

START_TEST(test_open_absolute_symlink_to_host_dir)
{
  char text[64];

  plant_symlink("abs", base); /* the host path of B itself */
  ck_assert_str_eq(open_and_read("abs/outside/marker", text, sizeof(text)),
                   "ENOENT");
  make_mirror();
  ck_assert_str_eq(open_and_read("abs/outside/marker", text, sizeof(text)),
                   "MIRROR");
}
END_TEST

/* Links to links: relative, into a subdirectory, then climbing out;
 * and absolute to absolute. */
START_TEST(test_open_symlink_chain)
{
  char path[PATH_MAX], rel[PATH_MAX], target[PATH_MAX], text[64];

  fmt(path, "%s/sub", root);
  make_dir(path);
  plant_symlink("c1", "c2");
  plant_symlink("c2", "sub/c3");
  plant_symlink("sub/c3", "../" UP);
  fmt(rel, "c1%s/outside/marker", base);

  fmt(target, "%s/outside", base);
  plant_symlink("d2", target);
  plant_symlink("d1", "/d2");

  ck_assert_str_eq(open_and_read(rel, text, sizeof(text)), "ENOENT");
  ck_assert_str_eq(open_and_read("d1/marker", text, sizeof(text)), "ENOENT");
  make_mirror();
  ck_assert_str_eq(open_and_read(rel, text, sizeof(text)), "MIRROR");
  ck_assert_str_eq(open_and_read("d1/marker", text, sizeof(text)), "MIRROR");
  assert_host_untouched();
}
END_TEST

/* ".." in the path itself stops at the root. */
START_TEST(test_open_dotdot_in_path)
{
  char rel[PATH_MAX], text[64];

  fmt(rel, "/" UP "%s/outside/marker", base);
  ck_assert_str_eq(open_and_read(rel, text, sizeof(text)), "ENOENT");
  make_mirror();
  ck_assert_str_eq(open_and_read(rel, text, sizeof(text)), "MIRROR");
}
END_TEST

/* O_CREAT through an escaping link creates inside the root. */
START_TEST(test_open_create_through_escaping_symlink)
{
  char rel[PATH_MAX], host[PATH_MAX], inside[PATH_MAX];
  int fd;

  plant_symlink("esc", UP);
  fmt(rel, "esc%s/outside/created", base);
  outside_path(host, "created");
  mirror_path(inside, "created");

  make_mirror();
  fd = mk_open_in_root(rootfd, rel, O_WRONLY | O_CREAT | O_EXCL, 0600);
  ck_assert_msg(fd >= 0, "create: %s", strerror(errno));
  close(fd);
  ck_assert(exists(inside));
  ck_assert(!exists(host));
}
END_TEST

/* ---- mk_mount_target_in_root ---- */

START_TEST(test_mount_target_creates_file_and_parents)
{
  char path[PATH_MAX];
  struct stat st;
  mk_error_t err = {0};
  int fd, fl;

  fd = mk_mount_target_in_root(rootfd, "/a/b/c", 0, &err);
  ck_assert_msg(fd >= 0, "%s", err.msg);
  fmt(path, "%s/a", root);
  ck_assert_int_eq(lstat(path, &st), 0);
  ck_assert(S_ISDIR(st.st_mode));
  fmt(path, "%s/a/b", root);
  ck_assert_int_eq(lstat(path, &st), 0);
  ck_assert(S_ISDIR(st.st_mode));
  fmt(path, "%s/a/b/c", root);
  ck_assert_int_eq(lstat(path, &st), 0);
  ck_assert(S_ISREG(st.st_mode));
  ck_assert_int_eq(st.st_size, 0);
  ck_assert(same_file(fd, path));
  fl = fcntl(fd, F_GETFL);
  ck_assert_msg(fl >= 0 && (fl & O_PATH), "mount target fd is not O_PATH");
  fl = fcntl(fd, F_GETFD);
  ck_assert_msg(fl >= 0 && (fl & FD_CLOEXEC), "fd is not close-on-exec");
  close(fd);
}
END_TEST

START_TEST(test_mount_target_creates_directory)
{
  char path[PATH_MAX];
  struct stat st;
  mk_error_t err = {0};
  int fd;

  fd = mk_mount_target_in_root(rootfd, "/x/y/z", 1, &err);
  ck_assert_msg(fd >= 0, "%s", err.msg);
  fmt(path, "%s/x/y/z", root);
  ck_assert_int_eq(lstat(path, &st), 0);
  ck_assert(S_ISDIR(st.st_mode));
  ck_assert(same_file(fd, path));
  close(fd);

  /* Trailing slashes name the same directory. */
  fd = mk_mount_target_in_root(rootfd, "/x/y/z//", 1, &err);
  ck_assert_msg(fd >= 0, "%s", err.msg);
  ck_assert(same_file(fd, path));
  close(fd);
}
END_TEST

START_TEST(test_mount_target_existing_is_kept)
{
  char path[PATH_MAX], text[64];
  mk_error_t err = {0};
  int fd;

  fmt(path, "%s/etc", root);
  make_dir(path);
  fmt(path, "%s/etc/hosts", root);
  write_file(path, "keep me");
  fd = mk_mount_target_in_root(rootfd, "/etc/hosts", 0, &err);
  ck_assert_msg(fd >= 0, "%s", err.msg);
  ck_assert(same_file(fd, path));
  close(fd);
  fd = open(path, O_RDONLY | O_CLOEXEC);
  read_fd(fd, text, sizeof(text));
  close(fd);
  ck_assert_str_eq(text, "keep me");
}
END_TEST

START_TEST(test_mount_target_relative_rejected)
{
  mk_error_t err = {0};

  ck_assert_int_eq(mk_mount_target_in_root(rootfd, "data/x", 1, &err), -1);
  ck_assert_int_eq(err.err, EINVAL);
  ck_assert_int_eq(mk_mount_target_in_root(rootfd, "", 1, &err), -1);
  ck_assert_int_eq(err.err, EINVAL);
  char path[PATH_MAX];
  fmt(path, "%s/data", root);
  ck_assert(!exists(path));
}
END_TEST

/* A directory symlink pointing out (with ".."): what is created lands in
 * the root, never on the host. */
START_TEST(test_mount_target_through_relative_escape)
{
  char target[PATH_MAX], host[PATH_MAX], inside[PATH_MAX];
  mk_error_t err = {0};
  int fd;

  plant_symlink("esc", UP);
  fmt(target, "/esc%s/outside/newdir/mnt", base);
  outside_path(host, "newdir");
  mirror_path(inside, "newdir/mnt");

  /* The link's target does not exist in the root: failing is fine,
   * creating on the host is not. */
  fd = mk_mount_target_in_root(rootfd, target, 0, &err);
  if (fd >= 0) {
    ck_assert(same_file(fd, inside));
    close(fd);
  }
  ck_assert(!exists(host));

  make_mirror();
  fd = mk_mount_target_in_root(rootfd, target, 0, &err);
  ck_assert_msg(fd >= 0, "%s", err.msg);
  ck_assert(same_file(fd, inside));
  close(fd);
  ck_assert(!exists(host));
  assert_host_untouched();
}
END_TEST

START_TEST(test_mount_target_through_absolute_escape)
{
  char target[PATH_MAX], host[PATH_MAX], inside[PATH_MAX];
  mk_error_t err = {0};
  int fd;

  plant_symlink("slash", "/");
  fmt(target, "/slash%s/outside/viaslash", base);
  outside_path(host, "viaslash");
  mirror_path(inside, "viaslash");

  fd = mk_mount_target_in_root(rootfd, target, 1, &err);
  if (fd >= 0) {
    ck_assert(same_file(fd, inside));
    close(fd);
  }
  ck_assert(!exists(host));

  make_mirror();
  fd = mk_mount_target_in_root(rootfd, target, 1, &err);
  ck_assert_msg(fd >= 0, "%s", err.msg);
  ck_assert(same_file(fd, inside));
  close(fd);
  ck_assert(!exists(host));
}
END_TEST

/* The last component is a symlink to a host file: the fd returned must
 * never be that file (a bind mount over it would hit the host). */
START_TEST(test_mount_target_last_component_symlink)
{
  char marker[PATH_MAX], inside[PATH_MAX];
  mk_error_t err = {0};
  int fd;

  outside_path(marker, "marker");
  mirror_path(inside, "marker");
  plant_symlink("lastlink", marker);

  fd = mk_mount_target_in_root(rootfd, "/lastlink", 0, &err);
  if (fd >= 0) {
    ck_assert(!same_file(fd, marker));
    close(fd);
  }
  assert_host_untouched();

  make_mirror();
  fd = mk_mount_target_in_root(rootfd, "/lastlink", 0, &err);
  ck_assert_msg(fd >= 0, "%s", err.msg);
  ck_assert(same_file(fd, inside));
  ck_assert(!same_file(fd, marker));
  close(fd);
  assert_host_untouched();
}
END_TEST

/* ---- mk_mkdir_in_root ---- */

START_TEST(test_mkdir_creates_nested)
{
  char path[PATH_MAX];
  struct stat st;
  mk_error_t err = {0};
  int fd;

  fd = mk_mkdir_in_root(rootfd, "/srv/app/data", 0755, &err);
  ck_assert_msg(fd >= 0, "%s", err.msg);
  fmt(path, "%s/srv/app/data", root);
  ck_assert_int_eq(stat(path, &st), 0);
  ck_assert(S_ISDIR(st.st_mode));
  ck_assert_uint_eq(st.st_mode & 07777, 0755);
  ck_assert(same_file(fd, path));
  close(fd);

  /* Existing: same directory again. */
  fd = mk_mkdir_in_root(rootfd, "/srv/app/data", 0755, &err);
  ck_assert_msg(fd >= 0, "%s", err.msg);
  ck_assert(same_file(fd, path));
  close(fd);
}
END_TEST

START_TEST(test_mkdir_on_existing_file)
{
  char path[PATH_MAX];
  mk_error_t err = {0};

  fmt(path, "%s/file", root);
  write_file(path, "x");
  ck_assert_int_eq(mk_mkdir_in_root(rootfd, "/file", 0755, &err), -1);
  ck_assert_int_eq(err.err, ENOTDIR);
  ck_assert_ptr_nonnull(strstr(err.msg, "/file"));

  /* Below a file. */
  memset(&err, 0, sizeof(err));
  ck_assert_int_eq(mk_mkdir_in_root(rootfd, "/file/sub", 0755, &err), -1);
  ck_assert_int_eq(err.err, ENOTDIR);
}
END_TEST

/* A dangling symlink whose target, read on the host, is outside: mkdir
 * through it must not create anything on the host. */
START_TEST(test_mkdir_through_dangling_symlink)
{
  char host[PATH_MAX], inside[PATH_MAX];
  mk_error_t err = {0};
  int fd;

  outside_path(host, "dangdir");
  mirror_path(inside, "dangdir");
  plant_symlink("dang", host);
  fd = mk_mkdir_in_root(rootfd, "/dang/sub", 0755, &err);
  if (fd >= 0) {
    char sub[PATH_MAX];
    fmt(sub, "%s/sub", inside);
    ck_assert(same_file(fd, sub));
    close(fd);
  } else {
    ck_assert_str_ne(err.msg, "");
  }
  ck_assert(!exists(host));
}
END_TEST

static Suite *pathres_suite(void)
{
  Suite *s = suite_create("pathres");
  TCase *tc = tcase_create("open");

  tcase_add_unchecked_fixture(tc, suite_setup, suite_teardown);
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_open_plain_paths);
  tcase_add_test(tc, test_open_absolute_symlink_to_etc);
  tcase_add_test(tc, test_open_relative_dotdot_symlink);
  tcase_add_test(tc, test_open_link_to_slash);
  tcase_add_test(tc, test_open_absolute_symlink_to_host_dir);
  tcase_add_test(tc, test_open_symlink_chain);
  tcase_add_test(tc, test_open_dotdot_in_path);
  tcase_add_test(tc, test_open_create_through_escaping_symlink);
  suite_add_tcase(s, tc);

  tc = tcase_create("mount-target");
  tcase_add_unchecked_fixture(tc, suite_setup, suite_teardown);
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_mount_target_creates_file_and_parents);
  tcase_add_test(tc, test_mount_target_creates_directory);
  tcase_add_test(tc, test_mount_target_existing_is_kept);
  tcase_add_test(tc, test_mount_target_relative_rejected);
  tcase_add_test(tc, test_mount_target_through_relative_escape);
  tcase_add_test(tc, test_mount_target_through_absolute_escape);
  tcase_add_test(tc, test_mount_target_last_component_symlink);
  suite_add_tcase(s, tc);

  tc = tcase_create("mkdir");
  tcase_add_unchecked_fixture(tc, suite_setup, suite_teardown);
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_mkdir_creates_nested);
  tcase_add_test(tc, test_mkdir_on_existing_file);
  tcase_add_test(tc, test_mkdir_through_dangling_symlink);
  suite_add_tcase(s, tc);
  return s;
}

MK_UNIT_MAIN(pathres_suite)
