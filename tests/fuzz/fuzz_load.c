/* libFuzzer target: the outer archive of `mocker load`, whole (member
 * types, sizes, names, links, compression: gzip, xz, zstd, bzip2 or
 * none). It runs what `mocker load` runs before the store is touched:
 * mk_load_unpack_fd into a fresh directory, mk_load_plan (manifest.json
 * or index.json, the configs and OCI manifests they name), then
 * mk_load_open_member on every layer the plan lists. Limits are small
 * (64 KiB a member, 256 KiB in all) so bombs cost little.
 *
 * Two ways to read an input. Raw: the bytes are the archive. Built (the
 * first byte is 0xA5): a description that this target writes out with
 * libarchive, so that mutations change member types, sizes, names, link
 * targets and the compression instead of breaking tar checksums:
 *   0xA5 FILTER { TYPE PAD_HI PAD_LO NAME \0 TEXT \0 }...
 * FILTER (mod 5): none, gzip, xz, zstd, bzip2. TYPE (mod 7): file,
 * directory, symlink, hard link, char device 1:5, FIFO, block device 7:0.
 * A file holds TEXT then PAD * 16 zero bytes (1 MiB of padding at most
 * per input); a link points at TEXT.
 *
 * Properties checked besides ASan/UBSan/leaks:
 *   - nothing appears in the sandbox beside the unpack directory (no
 *     member lands outside it, whatever its name or links);
 *   - the unpack directory holds only regular files and directories (no
 *     symlink, device, FIFO or socket is ever made);
 *   - no file there is over the member limit, their sizes add up to the
 *     bytes load counted, and that is within the total limit;
 *   - every member mk_load_open_member hands out is a regular file inside
 *     the unpack directory;
 *   - a failure always comes with a message;
 *   - no fd is leaked, and none the process had is closed.
 * Each iteration removes what it made. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "base/context.h"
#include "image/load.h"
#include "mk_util.h"

/* load.c's mk_load_builtin loads the built-in image the Makefile embeds;
 * the fuzz build has none and never loads it. */
extern const char mk_busybox_tar[];
extern const uint64_t mk_busybox_tar_size;
const char mk_busybox_tar[1];
const uint64_t mk_busybox_tar_size = 0;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MEMBER_LIMIT (64 * 1024)
#define TOTAL_LIMIT (256 * 1024)
#define BUILT_MAGIC 0xA5
/* Zero padding a built input may ask for in all: well past the limits,
 * and still fast. */
#define BUILT_PAD_MAX (1024 * 1024)

static char sandbox[64];
static int sandbox_fd = -1;

static void fail(const char *what, const char *detail)
{
  fprintf(stderr, "fuzz_load: %s%s%s\n", what, detail ? ": " : "",
          detail ? detail : "");
  abort();
}

/* A fresh sandbox per input, removed after it: nothing outlives an
 * iteration but the sandbox of one that crashed. On /dev/shm when there
 * is one: each input makes and removes dozens of inodes, and a disk's
 * metadata writes would be most of the time spent. */
static void make_sandbox(void)
{
  snprintf(sandbox, sizeof(sandbox), "%s/fuzz_load.XXXXXX",
           access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
  if (!mkdtemp(sandbox))
    fail("mkdtemp", strerror(errno));
  sandbox_fd = open(sandbox, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (sandbox_fd < 0)
    fail("open sandbox", strerror(errno));
}

static void remove_sandbox(void)
{
  mk_error_t err;

  close(sandbox_fd);
  sandbox_fd = -1;
  if (mk_remove_tree(sandbox, &err) < 0)
    fail("remove the sandbox", err.msg);
}

static uint64_t walk_bytes;

static int check_entry(const char *path, const struct stat *st, int flag,
                       struct FTW *ftw)
{
  (void)flag, (void)ftw;
  if (S_ISDIR(st->st_mode))
    return 0;
  if (!S_ISREG(st->st_mode))
    fail("the unpack directory holds a non-regular file", path);
  if (st->st_size > MEMBER_LIMIT)
    fail("a member is over the member limit", path);
  walk_bytes += (uint64_t)st->st_size;
  return 0;
}

static void check_unpacked(const struct mk_load_members *m)
{
  char dir[128];
  DIR *d = opendir(sandbox);
  struct dirent *e;

  while (d && (e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
        strcmp(e->d_name, "x"))
      fail("something was made beside the unpack directory", e->d_name);
  if (d)
    closedir(d);
  snprintf(dir, sizeof(dir), "%s/x", sandbox);
  walk_bytes = 0;
  if (nftw(dir, check_entry, 16, FTW_PHYS) != 0)
    fail("walk the unpack directory", strerror(errno));
  if (walk_bytes != m->bytes)
    fail("the files' sizes differ from the bytes load counted", NULL);
  if (m->bytes > TOTAL_LIMIT)
    fail("more than the total limit was written", NULL);
}

static void check_member(const struct mk_load_members *m, const char *name)
{
  mk_error_t err = {0};
  struct stat st;
  int fd = mk_load_open_member(m, name, &err);

  if (fd < 0) {
    if (!err.msg[0])
      fail("mk_load_open_member failed without a message", name);
    return;
  }
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
    fail("an opened member is not a regular file", name);
  close(fd);
}

static void plan_and_open(const struct mk_load_members *m)
{
  struct mk_load_plan plan;
  mk_error_t err = {0};
  int r = mk_load_plan(m, &plan, &err);

  if (r < 0 && !err.msg[0])
    fail("mk_load_plan failed without a message", NULL);
  for (size_t i = 0; i < plan.n; i++) {
    const struct mk_load_image *im = &plan.images[i];
    if (r == 0 && im->layers.n != im->diff_ids.n)
      fail("a planned image has a layer count unlike its diff_ids", NULL);
    for (size_t k = 0; k < im->layers.n; k++)
      check_member(m, im->layers.v[k]);
  }
  mk_load_plan_free(&plan);
  check_member(m, "manifest.json");
}

static void one_archive(int memfd)
{
  struct mk_load_limits lim = {.member = MEMBER_LIMIT, .total = TOTAL_LIMIT};
  struct mk_load_members m;
  mk_error_t err = {0};
  int dirfd;

  if (mkdirat(sandbox_fd, "x", 0700) < 0)
    fail("mkdir x", strerror(errno));
  dirfd = openat(sandbox_fd, "x", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0)
    fail("open x", strerror(errno));
  if (mk_load_unpack_fd(memfd, dirfd, &lim, &m, &err) < 0) {
    if (!err.msg[0])
      fail("mk_load_unpack_fd failed without a message", NULL);
  } else {
    plan_and_open(&m);
  }
  check_unpacked(&m);
  mk_load_members_free(&m);
  close(dirfd);
}

/* ---- built inputs ---- */

/* The next NUL-terminated string of the description (the rest of it if
 * there is no NUL). */
static const char *next_string(const uint8_t **p, const uint8_t *end, char *out,
                               size_t size)
{
  size_t n = 0;

  while (*p < end && **p && n + 1 < size)
    out[n++] = (char)*(*p)++;
  while (*p < end && **p)
    (*p)++;
  if (*p < end)
    (*p)++;
  out[n] = '\0';
  return out;
}

static void set_filter(struct archive *a, uint8_t which)
{
  switch (which % 5) {
  case 1: archive_write_add_filter_gzip(a); break;
  case 2: archive_write_add_filter_xz(a); break;
  case 3: archive_write_add_filter_zstd(a); break;
  case 4: archive_write_add_filter_bzip2(a); break;
  default: archive_write_add_filter_none(a); return;
  }
  /* The fastest level: the ratio is what matters, and xz's default
   * level allocates ~100 MB per archive. */
  archive_write_set_filter_option(a, NULL, "compression-level", "1");
}

static void write_zeros(struct archive *a, size_t n)
{
  static const char zero[4096];

  while (n > 0) {
    size_t k = n < sizeof(zero) ? n : sizeof(zero);
    archive_write_data(a, zero, k);
    n -= k;
  }
}

static const mode_t built_types[] = {AE_IFREG, AE_IFDIR, AE_IFLNK, AE_IFREG,
                                     AE_IFCHR, AE_IFIFO, AE_IFBLK};

/* One member: TYPE PAD_HI PAD_LO NAME \0 TEXT \0. */
static void write_built_member(struct archive *a, const uint8_t **p,
                               const uint8_t *end, size_t *pad_left)
{
  static char name[8192], text[65536];
  unsigned type = (unsigned)(*p)[0] % 7;
  size_t pad = (((size_t)(*p)[1] << 8) | (*p)[2]) * 16;
  struct archive_entry *e = archive_entry_new();
  size_t len;

  if (pad > *pad_left)
    pad = *pad_left;
  *pad_left -= pad;
  *p += 3;
  next_string(p, end, name, sizeof(name));
  len = strlen(next_string(p, end, text, sizeof(text)));
  archive_entry_set_pathname(e, name);
  archive_entry_set_filetype(e, built_types[type]);
  archive_entry_set_perm(e, 0644);
  if (type == 2)
    archive_entry_set_symlink(e, text);
  if (type == 3)
    archive_entry_set_hardlink(e, text);
  archive_entry_set_rdevmajor(e, type == 6 ? 7 : 1);
  archive_entry_set_rdevminor(e, type == 6 ? 0 : 5);
  archive_entry_set_size(e, type == 0 ? (la_int64_t)(len + pad) : 0);
  if (archive_write_header(a, e) == ARCHIVE_OK && type == 0) {
    archive_write_data(a, text, len);
    write_zeros(a, pad);
  }
  archive_entry_free(e);
}

static void write_built(int fd, const uint8_t *data, size_t size)
{
  struct archive *a = archive_write_new();
  const uint8_t *p = data + 2, *end = data + size;
  size_t pad_left = BUILT_PAD_MAX;

  archive_write_set_format_pax_restricted(a);
  set_filter(a, size > 1 ? data[1] : 0);
  if (archive_write_open_fd(a, fd) != ARCHIVE_OK)
    fail("open the archive writer", archive_error_string(a));
  while (end - p >= 3)
    write_built_member(a, &p, end, &pad_left);
  archive_write_close(a);
  archive_write_free(a);
}

/* The lowest free fd number: unchanged across an input unless an fd was
 * leaked (higher) or one not ours was closed (lower). */
static int lowest_free_fd(void)
{
  int fd = fcntl(2, F_DUPFD_CLOEXEC, 0);

  close(fd);
  return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  int memfd, free_fd = lowest_free_fd();

  make_sandbox();
  memfd = memfd_create("fuzz_load", MFD_CLOEXEC);
  if (memfd < 0)
    fail("memfd", strerror(errno));
  if (size > 0 && data[0] == BUILT_MAGIC)
    write_built(memfd, data, size);
  else if (mk_write_all(memfd, data, size) < 0)
    fail("write the memfd", strerror(errno));
  if (lseek(memfd, 0, SEEK_SET) != 0)
    fail("rewind the memfd", strerror(errno));
  one_archive(memfd);
  close(memfd);
  remove_sandbox();
  if (lowest_free_fd() != free_fd)
    fail("an fd was leaked or closed", NULL);
  return 0;
}
