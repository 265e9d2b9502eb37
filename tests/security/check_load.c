/* `mocker load` and a hostile outer archive (issue 14, finding 3). The
 * archive's members land in $ROOT/tmp before anything is verified, so
 * the outer tar is as untrusted as a layer: a decompression bomb must not
 * fill the disk, a FIFO must not hang load, a device must never be opened,
 * a link must never reach a host file, and a name must never land outside
 * the temporary directory. Every refusal exits 125, names the member and
 * the reason, and leaves $ROOT/tmp empty.
 *
 * The archives are built here with libarchive. The bombs and the total
 * limit run against a state root on a small tmpfs: writing the whole
 * member would fail with ENOSPC, a different message, so passing shows
 * the limit held while the archive streamed in. The round trips show that
 * what `mocker save`, skopeo (docker-archive, with its symlinked
 * <id>/layer.tar, and oci-archive) and older Docker (a layer.tar symlink
 * or hard link the manifest names) write still loads. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <archive.h>
#include <archive_entry.h>
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "sec.h"
#include "image/store.h"

#define MIB (1024 * 1024)

/* ---- building archives --------------------------------------------------- */

enum filter { F_NONE, F_GZIP, F_XZ, F_ZSTD };

/* One member. type AE_IFREG with hard set is a hard link. */
struct spec {
  const char *name;
  mode_t type;
  const void *data; /* file content, or NULL: `zeros` zero bytes */
  size_t len;       /* of data; 0: strlen(data) */
  size_t zeros;
  const char *link; /* symlink target */
  const char *hard; /* hard link target */
  unsigned major, minor;
};

static void write_zeros(struct archive *a, size_t n)
{
  static const char zero[64 * 1024];

  while (n > 0) {
    size_t k = n < sizeof zero ? n : sizeof zero;
    ck_assert_int_eq(archive_write_data(a, zero, k), (la_ssize_t)k);
    n -= k;
  }
}

static void write_member(struct archive *a, const struct spec *s)
{
  struct archive_entry *e = archive_entry_new();
  size_t len = s->data ? (s->len ? s->len : strlen(s->data)) : s->zeros;

  if (s->type != AE_IFREG || s->hard)
    len = 0;
  archive_entry_set_pathname(e, s->name);
  archive_entry_set_filetype(e, s->type);
  archive_entry_set_perm(e, s->type == AE_IFDIR ? 0755 : 0644);
  archive_entry_set_size(e, (la_int64_t)len);
  if (s->link)
    archive_entry_set_symlink(e, s->link);
  if (s->hard)
    archive_entry_set_hardlink(e, s->hard);
  archive_entry_set_rdevmajor(e, s->major);
  archive_entry_set_rdevminor(e, s->minor);
  ck_assert_int_eq(archive_write_header(a, e), ARCHIVE_OK);
  if (len && s->data)
    ck_assert_int_eq(archive_write_data(a, s->data, len), (la_ssize_t)len);
  else if (len)
    write_zeros(a, len);
  archive_entry_free(e);
}

static void add_filter(struct archive *a, enum filter f)
{
  int r = f == F_GZIP   ? archive_write_add_filter_gzip(a)
          : f == F_XZ   ? archive_write_add_filter_xz(a)
          : f == F_ZSTD ? archive_write_add_filter_zstd(a)
                        : archive_write_add_filter_none(a);

  ck_assert_int_eq(r, ARCHIVE_OK);
  if (f != F_NONE) /* fast: the point is the ratio, not the size */
    archive_write_set_filter_option(a, NULL, "compression-level", "1");
}

static void write_archive(const char *path, enum filter f, const struct spec *s,
                          size_t n)
{
  struct archive *a = archive_write_new();

  archive_write_set_format_pax_restricted(a);
  add_filter(a, f);
  ck_assert_int_eq(archive_write_open_filename(a, path), ARCHIVE_OK);
  for (size_t i = 0; i < n; i++)
    write_member(a, &s[i]);
  ck_assert_int_eq(archive_write_close(a), ARCHIVE_OK);
  archive_write_free(a);
}

#define WRITE_ARCHIVE(path, f, ...)                                            \
  do {                                                                         \
    const struct spec specs_[] = {__VA_ARGS__};                                \
    write_archive((path), (f), specs_, sizeof specs_ / sizeof specs_[0]);      \
  } while (0)

/* ---- running load and looking at what it left ---------------------------- */

/* `mocker [--root ROOT] load -i ARCHIVE`; root NULL: the test's root. */
static void load(struct h_res *r, const char *root, const char *archive)
{
  struct h_opts o = {.timeout_ms = 15000};

  if (!root) {
    h_run(r, &o, H_ARGV("load", "-i", archive));
    return;
  }
  o.no_root_flag = o.no_root_env = true;
  h_run(r, &o, H_ARGV("--root", root, "load", "-i", archive));
}

/* Refused as mocker's own failure, promptly, with every word in want. */
static void assert_refused(struct h_res *r, const char *const want[])
{
  ck_assert_msg(r->status != H_TIMED_OUT, "`%s` hung", h_last_cmd());
  H_ASSERT_STATUS(r, 125);
  for (size_t i = 0; want[i]; i++)
    H_ASSERT_HAS(r, err, want[i]);
}

#define ASSERT_REFUSED(r, ...) assert_refused((r), H_ARGV(__VA_ARGS__))

static void assert_tmp_empty(const char *root)
{
  char dir[PATH_MAX];
  struct dirent *e;
  DIR *d;

  h_fmt(dir, sizeof dir, "%s/tmp", root);
  d = opendir(dir);
  while (d && (e = readdir(d)))
    ck_assert_msg(e->d_name[0] == '.', "%s/%s left behind", dir, e->d_name);
  if (d)
    closedir(d);
}

static const char *walk_token;
static char walk_found[PATH_MAX];

/* nftw: records a device node, or a file holding walk_token. */
static int find_bad(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
  size_t len = 0;
  char *data;

  (void)flag, (void)ftw;
  if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode) || S_ISFIFO(st->st_mode)) {
    h_fmt(walk_found, sizeof walk_found, "node %s", path);
    return 1;
  }
  if (!S_ISREG(st->st_mode) || !walk_token)
    return 0;
  data = sec_read_bytes(path, &len);
  if (data && memmem(data, len, walk_token, strlen(walk_token)))
    h_fmt(walk_found, sizeof walk_found, "token in %s", path);
  free(data);
  return walk_found[0] != '\0';
}

/* No device node or FIFO under root, nor a file holding token (if set). */
static void assert_root_clean(const char *root, const char *token)
{
  walk_token = token;
  walk_found[0] = '\0';
  nftw(root, find_bad, 32, FTW_PHYS);
  ck_assert_msg(!walk_found[0], "load left %s", walk_found);
}

/* Nothing named after token in dir. */
static void assert_no_name(const char *dir, const char *token)
{
  DIR *d = opendir(dir);
  struct dirent *e;

  while (d && (e = readdir(d)))
    ck_assert_msg(!strstr(e->d_name, token), "escaped into %s: %s", dir,
                  e->d_name);
  if (d)
    closedir(d);
}

/* "mk-" + the test dir's unique name. */
static void unique_token(char *out, size_t size)
{
  const char *base = strrchr(h.dir, '/');

  h_fmt(out, size, "mk-%s", base ? base + 1 : h.dir);
}

/* The state root on a tmpfs of `size`: a write past it fails ENOSPC. */
static void mount_small_root(const char *size)
{
  char opts[64];

  h_fmt(opts, sizeof opts, "size=%s,mode=0700", size);
  ck_assert_msg(mount("tmpfs", h.root, "tmpfs", MS_NOSUID | MS_NODEV, opts) ==
                    0,
                "mount tmpfs on %s: %s", h.root, strerror(errno));
}

static void umount_small_root(void)
{
  ck_assert_msg(umount2(h.root, MNT_DETACH) == 0, "umount %s: %s", h.root,
                strerror(errno));
}

/* ---- decompression bombs and the total limit ----------------------------- */

/* A 16 MiB member of zeros (tens of KB compressed) with
 * MOCKER_MAX_LAYER_SIZE at 1 MiB, on an 8 MiB state root. */
static void bomb(enum filter f)
{
  char archive[PATH_MAX];
  struct h_res r;

  h_fmt(archive, sizeof archive, "%s/bomb.tar", h.host);
  WRITE_ARCHIVE(archive, f,
                {.name = "layer.tar", .type = AE_IFREG, .zeros = 16 * MIB});
  setenv("MOCKER_MAX_LAYER_SIZE", "1048576", 1);
  mount_small_root("8m");
  load(&r, NULL, archive);
  assert_tmp_empty(h.root);
  umount_small_root();
  unsetenv("MOCKER_MAX_LAYER_SIZE");
  ASSERT_REFUSED(&r, "member `layer.tar`", "limit of 1048576 bytes",
                 "MOCKER_MAX_LAYER_SIZE");
  H_ASSERT_LACKS(&r, err, "No space left");
  h_res_free(&r);
}

START_TEST(test_load_bomb_gzip)
{
  bomb(F_GZIP);
}
END_TEST

START_TEST(test_load_bomb_xz)
{
  bomb(F_XZ);
}
END_TEST

START_TEST(test_load_bomb_zstd)
{
  bomb(F_ZSTD);
}
END_TEST

/* Three 2 MiB members, each under the layer limit, 6 MiB together on a
 * 5 MiB root with MOCKER_MAX_LOAD_SIZE at 3 MiB: the first lands, the
 * second is refused before a byte of it is written. */
START_TEST(test_load_total_limit)
{
  char archive[PATH_MAX];
  struct h_res r;

  h_fmt(archive, sizeof archive, "%s/total.tar.gz", h.host);
  WRITE_ARCHIVE(archive, F_GZIP,
                {.name = "a.bin", .type = AE_IFREG, .zeros = 2 * MIB},
                {.name = "b.bin", .type = AE_IFREG, .zeros = 2 * MIB},
                {.name = "c.bin", .type = AE_IFREG, .zeros = 2 * MIB});
  setenv("MOCKER_MAX_LOAD_SIZE", "3145728", 1);
  mount_small_root("5m");
  load(&r, NULL, archive);
  assert_tmp_empty(h.root);
  umount_small_root();
  unsetenv("MOCKER_MAX_LOAD_SIZE");
  ASSERT_REFUSED(&r, "member `b.bin`", "limit of 3145728 bytes",
                 "MOCKER_MAX_LOAD_SIZE");
  H_ASSERT_LACKS(&r, err, "No space left");
  h_res_free(&r);
}
END_TEST

/* One 1 MiB layer listed ten times under the same diff_id: the archive
 * holds 1 MiB, but each listing is a new chain id, unpacked anew. With
 * MOCKER_MAX_LOAD_SIZE at 4 MiB, load must stop at the limit instead of
 * writing 10 MiB into the store (found in review). */
START_TEST(test_load_layer_listed_many_times)
{
  enum { TIMES = 10 };
  static char layer[MIB + 64 * 1024];
  char archive[PATH_MAX], diff_id[MK_DIGEST_LEN + 1];
  size_t used = 0;
  struct archive *a = archive_write_new();
  struct h_res r;

  archive_write_set_format_pax_restricted(a);
  ck_assert_int_eq(archive_write_open_memory(a, layer, sizeof layer, &used),
                   ARCHIVE_OK);
  write_member(a,
               &(struct spec){.name = "big", .type = AE_IFREG, .zeros = MIB});
  ck_assert_int_eq(archive_write_close(a), ARCHIVE_OK);
  archive_write_free(a);
  mk_sha256_digest(layer, used, diff_id);

  json_t *ids = json_array(), *layers = json_array();
  for (int i = 0; i < TIMES; i++) {
    json_array_append_new(ids, json_string(diff_id));
    json_array_append_new(layers, json_string("layer.tar"));
  }
  json_t *cfg =
      json_pack("{s:s, s:s, s:{s:s, s:o}}", "architecture", "amd64", "os",
                "linux", "rootfs", "type", "layers", "diff_ids", ids);
  json_t *man = json_pack("[{s:s, s:[s], s:o}]", "Config", "cfg.json",
                          "RepoTags", "many:latest", "Layers", layers);
  char *cfg_text = json_dumps(cfg, JSON_COMPACT);
  char *man_text = json_dumps(man, JSON_COMPACT);
  h_fmt(archive, sizeof archive, "%s/many.tar", h.host);
  WRITE_ARCHIVE(
      archive, F_NONE,
      {.name = "layer.tar", .type = AE_IFREG, .data = layer, .len = used},
      {.name = "cfg.json", .type = AE_IFREG, .data = cfg_text},
      {.name = "manifest.json", .type = AE_IFREG, .data = man_text});
  free(cfg_text);
  free(man_text);
  json_decref(cfg);
  json_decref(man);

  setenv("MOCKER_MAX_LOAD_SIZE", "4194304", 1);
  mount_small_root("8m");
  load(&r, NULL, archive);
  assert_tmp_empty(h.root);
  umount_small_root();
  unsetenv("MOCKER_MAX_LOAD_SIZE");
  ASSERT_REFUSED(&r, "limit of 4194304 bytes", "MOCKER_MAX_LOAD_SIZE");
  H_ASSERT_LACKS(&r, err, "No space left");
  h_res_free(&r);
}
END_TEST

/* ---- member types -------------------------------------------------------- */

/* manifest.json as a FIFO: opening it for reading would block for ever. */
START_TEST(test_load_fifo_member)
{
  char archive[PATH_MAX];
  struct h_res r;
  long start = h_now_ms();

  h_fmt(archive, sizeof archive, "%s/fifo.tar", h.host);
  WRITE_ARCHIVE(archive, F_NONE, {.name = "manifest.json", .type = AE_IFIFO});
  load(&r, NULL, archive);
  ASSERT_REFUSED(&r, "member `manifest.json` is a FIFO", "not allowed");
  ck_assert_msg(h_now_ms() - start < 10000, "load took %ld ms",
                h_now_ms() - start);
  h_res_free(&r);
  assert_tmp_empty(h.root);
  assert_root_clean(h.root, NULL);
}
END_TEST

/* A docker-save archive whose only layer is a device node: /dev/zero
 * (char 1:5) would be hashed up to the limit, a block device read. Both
 * are refused by type, before anything opens them. */
static void device_layer(mode_t type, unsigned major, unsigned minor,
                         const char *want)
{
  static const char manifest[] =
      "[{\"Config\":\"config.json\",\"RepoTags\":[\"dev:latest\"],"
      "\"Layers\":[\"layer.tar\"]}]";
  static const char config[] =
      "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":"
      "\"layers\",\"diff_ids\":[\"sha256:"
      "5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef\"]}}";
  char archive[PATH_MAX];
  struct h_res r;

  h_fmt(archive, sizeof archive, "%s/dev.tar", h.host);
  WRITE_ARCHIVE(
      archive, F_NONE,
      {.name = "config.json", .type = AE_IFREG, .data = config},
      {.name = "layer.tar", .type = type, .major = major, .minor = minor},
      {.name = "manifest.json", .type = AE_IFREG, .data = manifest});
  setenv("MOCKER_MAX_LAYER_SIZE", "1048576", 1);
  load(&r, NULL, archive);
  unsetenv("MOCKER_MAX_LAYER_SIZE");
  ASSERT_REFUSED(&r, "member `layer.tar`", want, "not allowed");
  h_res_free(&r);
  assert_tmp_empty(h.root);
  assert_root_clean(h.root, NULL);
}

START_TEST(test_load_char_device_member)
{
  device_layer(AE_IFCHR, 1, 5, "is a character device 1:5");
}
END_TEST

START_TEST(test_load_block_device_member)
{
  device_layer(AE_IFBLK, 7, 0, "is a block device 7:0");
}
END_TEST

/* ---- links and names ----------------------------------------------------- */

/* A config member that is a link to a host file holding a token: an
 * absolute symlink, a relative one climbing out, a hard link; and
 * /etc/shadow. Refused, and the token is nowhere in the store. */
START_TEST(test_load_link_to_host_file)
{
  static const char manifest[] =
      "[{\"Config\":\"blobs/sha256/"
      "0000000000000000000000000000000000000000000000000000000000000000\","
      "\"RepoTags\":[\"evil:latest\"],\"Layers\":[]}]";
  const char *cfg = "blobs/sha256/"
                    "0000000000000000000000000000000000000000000000000000000000"
                    "000000";
  char token[128], secret[PATH_MAX], up[PATH_MAX], archive[PATH_MAX];
  struct h_res r;

  unique_token(token, sizeof token);
  h_fmt(secret, sizeof secret, "%s/secret.json", h.host);
  h_write_file(secret, token);
  h_fmt(up, sizeof up, "../../../../../../../../../../../../../..%s", secret);
  const struct spec links[] = {
      {.name = cfg, .type = AE_IFLNK, .link = secret},
      {.name = cfg, .type = AE_IFLNK, .link = up},
      {.name = cfg, .type = AE_IFREG, .hard = secret},
      {.name = cfg, .type = AE_IFLNK, .link = "/etc/shadow"},
  };
  const char *want[] = {
      "points outside the archive", "points outside the archive",
      "points outside the archive", "points outside the archive"};

  h_fmt(archive, sizeof archive, "%s/link.tar", h.host);
  for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
    const struct spec specs[] = {
        links[i],
        {.name = "manifest.json", .type = AE_IFREG, .data = manifest}};
    write_archive(archive, F_NONE, specs, 2);
    load(&r, NULL, archive);
    ASSERT_REFUSED(&r, want[i], links[i].link ? links[i].link : secret);
    h_res_free(&r);
    assert_tmp_empty(h.root);
    assert_root_clean(h.root, token);
  }
}
END_TEST

/* Member names that climb out or are absolute: refused, nothing made
 * outside the temporary directory (nor anywhere a naive join would put
 * it: the root, the test dir, /, /tmp). */
START_TEST(test_load_escaping_names)
{
  char token[128], dotdot[PATH_MAX], abs[PATH_MAX], archive[PATH_MAX];
  char deep[PATH_MAX];
  struct h_res r;

  unique_token(token, sizeof token);
  h_fmt(dotdot, sizeof dotdot, "../../%s", token);
  h_fmt(deep, sizeof deep, "blobs/../../../../../../../../tmp/%s", token);
  h_fmt(abs, sizeof abs, "/tmp/%s", token);
  const char *names[] = {dotdot, deep, abs};
  const char *want[] = {"has a `..` component", "has a `..` component",
                        "has an absolute name"};

  h_fmt(archive, sizeof archive, "%s/names.tar", h.host);
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    const struct spec specs[] = {
        {.name = names[i], .type = AE_IFREG, .data = "escaped"}};
    write_archive(archive, F_NONE, specs, 1);
    load(&r, NULL, archive);
    ASSERT_REFUSED(&r, names[i], want[i]);
    h_res_free(&r);
    assert_tmp_empty(h.root);
    assert_no_name(h.root, token);
    assert_no_name(h.dir, token);
    assert_no_name("/", token);
    assert_no_name("/tmp", token);
  }
}
END_TEST

/* ---- what real tools write still loads ----------------------------------- */

struct member {
  char *name, *data;
  size_t len;
};

/* The regular members of a tar, in memory. */
static size_t read_members(const char *path, struct member *m, size_t max)
{
  struct archive *a = archive_read_new();
  struct archive_entry *e;
  size_t n = 0;

  archive_read_support_format_tar(a);
  ck_assert_int_eq(archive_read_open_filename(a, path, 1 << 16), ARCHIVE_OK);
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    if (archive_entry_filetype(e) != AE_IFREG)
      continue;
    ck_assert_uint_lt(n, max);
    m[n].len = (size_t)archive_entry_size(e);
    m[n].name = strdup(archive_entry_pathname(e));
    m[n].data = malloc(m[n].len + 1);
    ck_assert(m[n].name && m[n].data);
    ck_assert_int_eq(archive_read_data(a, m[n].data, m[n].len),
                     (la_ssize_t)m[n].len);
    n++;
  }
  archive_read_free(a);
  return n;
}

static const struct member *member_named(const struct member *m, size_t n,
                                         const char *name)
{
  for (size_t i = 0; i < n; i++)
    if (strcmp(m[i].name, name) == 0)
      return &m[i];
  ck_abort_msg("the saved archive lacks %s", name);
  return NULL;
}

/* `mocker save busybox` from the test's root into host/busybox.tar. */
static void save_busybox(char *archive, size_t size)
{
  struct h_res r;

  h_fmt(archive, size, "%s/busybox.tar", h.host);
  H_RUN(&r, "save", "-o", archive, "busybox");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
}

/* Loads archive into a fresh root (removed after) and expects `want`. */
static void load_fresh(const char *archive, const char *want)
{
  char root[PATH_MAX], cmd[2 * PATH_MAX];
  struct h_res r;

  h_fmt(root, sizeof root, "%s/fresh", h.dir);
  load(&r, root, archive);
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_HAS(&r, out, want);
  h_res_free(&r);
  assert_tmp_empty(root);
  h_fmt(cmd, sizeof cmd, "rm -rf '%s'", root);
  ck_assert_int_eq(sec_sh(cmd), 0);
}

START_TEST(test_load_roundtrip_save)
{
  char archive[PATH_MAX];
  struct h_res r;

  save_busybox(archive, sizeof archive);
  load_fresh(archive, "Loaded image: busybox:latest");
  /* Loaded again over itself, and runnable. */
  load(&r, NULL, archive);
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  H_RUN(&r, "run", "--rm", "busybox", "echo", "loaded");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "loaded\n");
  h_res_free(&r);
  assert_tmp_empty(h.root);
}
END_TEST

/* skopeo's docker-archive has <id>/layer.tar symlinks to ../<digest>.tar
 * (manifest.json names the latter); its oci-archive has directory
 * members. */
START_TEST(test_load_roundtrip_skopeo)
{
  char archive[PATH_MAX], out[PATH_MAX], cmd[4 * PATH_MAX];

  save_busybox(archive, sizeof archive);
  h_fmt(out, sizeof out, "%s/skopeo-docker.tar", h.host);
  h_fmt(cmd, sizeof cmd,
        "skopeo copy -q docker-archive:'%s' docker-archive:'%s':sk/bb:d",
        archive, out);
  ck_assert_msg(sec_sh(cmd) == 0, "`%s` failed", cmd);
  h_fmt(cmd, sizeof cmd, "tar tvf '%s' | grep -q '^l.*layer.tar -> \\.\\./'",
        out);
  ck_assert_msg(sec_sh(cmd) == 0, "skopeo wrote no layer.tar symlink");
  load_fresh(out, "Loaded image: docker.io/sk/bb:d");
  h_fmt(out, sizeof out, "%s/skopeo-oci.tar", h.host);
  h_fmt(cmd, sizeof cmd,
        "skopeo copy -q docker-archive:'%s' oci-archive:'%s':sk/bb:o", archive,
        out);
  ck_assert_msg(sec_sh(cmd) == 0, "`%s` failed", cmd);
  load_fresh(out, "Loaded image: sk/bb:o");
}
END_TEST

/* Older Docker wrote one <id>/layer.tar per layer and, for a layer whose
 * content it had written already (two empty layers), a symlink
 * ../<first id>/layer.tar that manifest.json names. A re-tar of such a
 * tree may turn it into a hard link. Both resolve among the members. */
static void legacy_archive(const char *path, const struct member *m, size_t n,
                           const struct spec *third)
{
  static const char empty_tar[1024];
  char empty_id[MK_DIGEST_LEN + 1];
  const struct member *man = member_named(m, n, "manifest.json");
  json_t *saved = json_loadb(man->data, man->len, 0, NULL);
  json_t *img = json_array_get(saved, 0);
  const struct member *cfg =
      member_named(m, n, json_string_value(json_object_get(img, "Config")));
  const struct member *layer = member_named(
      m, n,
      json_string_value(json_array_get(json_object_get(img, "Layers"), 0)));
  json_t *config = json_loadb(cfg->data, cfg->len, 0, NULL);
  json_t *ids = json_object_get(json_object_get(config, "rootfs"), "diff_ids");

  mk_sha256_digest(empty_tar, sizeof empty_tar, empty_id);
  json_array_append_new(ids, json_string(empty_id));
  json_array_append_new(ids, json_string(empty_id));
  json_t *manifest =
      json_pack("[{s:s, s:[s], s:[s,s,s]}]", "Config", "cfg.json", "RepoTags",
                "legacy:latest", "Layers", "l1/layer.tar", "l2/layer.tar",
                "l3/layer.tar");
  char *cfg_text = json_dumps(config, JSON_COMPACT);
  char *man_text = json_dumps(manifest, JSON_COMPACT);
  WRITE_ARCHIVE(path, F_NONE, {.name = "l1/", .type = AE_IFDIR},
                {.name = "l1/layer.tar",
                 .type = AE_IFREG,
                 .data = layer->data,
                 .len = layer->len},
                {.name = "l2/", .type = AE_IFDIR},
                {.name = "l2/layer.tar",
                 .type = AE_IFREG,
                 .data = empty_tar,
                 .len = sizeof empty_tar},
                {.name = "l3/", .type = AE_IFDIR}, *third,
                {.name = "cfg.json", .type = AE_IFREG, .data = cfg_text},
                {.name = "manifest.json", .type = AE_IFREG, .data = man_text});
  free(cfg_text);
  free(man_text);
  json_decref(manifest);
  json_decref(config);
  json_decref(saved);
}

START_TEST(test_load_roundtrip_legacy_links)
{
  const struct spec thirds[] = {
      {.name = "l3/layer.tar", .type = AE_IFLNK, .link = "../l2/layer.tar"},
      {.name = "l3/layer.tar", .type = AE_IFREG, .hard = "l2/layer.tar"},
  };
  char saved[PATH_MAX], archive[PATH_MAX];
  struct member m[8];
  size_t n;

  save_busybox(saved, sizeof saved);
  n = read_members(saved, m, 8);
  h_fmt(archive, sizeof archive, "%s/legacy.tar", h.host);
  for (size_t i = 0; i < sizeof thirds / sizeof thirds[0]; i++) {
    legacy_archive(archive, m, n, &thirds[i]);
    load_fresh(archive, "Loaded image: legacy:latest");
  }
  for (size_t i = 0; i < n; i++)
    free(m[i].name), free(m[i].data);
}
END_TEST

static Suite *load_suite(void)
{
  Suite *s = suite_create("load");
  TCase *tc = h_tcase("hostile_archive", 120);

  tcase_add_test(tc, test_load_bomb_gzip);
  tcase_add_test(tc, test_load_bomb_xz);
  tcase_add_test(tc, test_load_bomb_zstd);
  tcase_add_test(tc, test_load_total_limit);
  tcase_add_test(tc, test_load_layer_listed_many_times);
  tcase_add_test(tc, test_load_fifo_member);
  tcase_add_test(tc, test_load_char_device_member);
  tcase_add_test(tc, test_load_block_device_member);
  tcase_add_test(tc, test_load_link_to_host_file);
  tcase_add_test(tc, test_load_escaping_names);
  suite_add_tcase(s, tc);
  tc = h_tcase("roundtrip", 120);
  tcase_add_test(tc, test_load_roundtrip_save);
  tcase_add_test(tc, test_load_roundtrip_skopeo);
  tcase_add_test(tc, test_load_roundtrip_legacy_links);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  return h_main(load_suite());
}
