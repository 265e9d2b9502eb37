/* Named and anonymous volumes: `-v NAME:/path`, seeding from the image,
 * `mocker volume create|ls|inspect|rm|prune`, an image's VOLUME paths and
 * `rm -v`, and an image that tries to make seeding touch the host. Each
 * test gets its own state root; the teardown asserts no mount, process or
 * container dir is left. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <archive.h>
#include <archive_entry.h>
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "image/store.h"

#define H_ASSERT_LINE(r, line)                                                 \
  ck_assert_msg(h_has_line((r)->out, (line)),                                  \
                "`%s`: stdout lacks the line \"%s\"\n--- stdout:\n%s\n--- "    \
                "stderr:\n%s",                                                 \
                h_last_cmd(), (line), (r)->out, (r)->err)

static void run_ok(const char *const argv[])
{
  struct h_res r;

  h_run(&r, NULL, argv);
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
}

#define RUN_OK(...) run_ok(H_ARGV(__VA_ARGS__))

static void only_container(char id[65])
{
  char ids[4][65];
  int n = h_containers(h.root, ids, 4);

  ck_assert_msg(n == 1, "want exactly one container dir, found %d", n);
  memcpy(id, ids[0], 65);
}

static void volume_data(char *out, size_t size, const char *name,
                        const char *rest)
{
  h_fmt(out, size, "%s/volumes/%s/_data%s", h.root, name, rest);
}

static int count_volumes(void)
{
  char dir[4200];
  struct dirent *de;
  int n = 0;

  h_fmt(dir, sizeof(dir), "%s/volumes", h.root);
  DIR *d = opendir(dir);
  while (d && (de = readdir(d)))
    n += de->d_name[0] != '.';
  if (d)
    closedir(d);
  return n;
}

/* ---- a test image with VOLUME paths, built from the builtin busybox ----
 *
 * `mocker save busybox`, plus one layer made here, as a docker-archive
 * with a new config ("Volumes": /data and /link) and manifest, loaded
 * with `mocker load` as volimg:latest. The layer holds:
 *   /data/         0750 1000:1001, mtime 1000000
 *   /data/file     "hello" 0640 1000:1001, mtime 1234567
 *   /data/sub/deep "deep"
 *   /data/fifo     a fifo, 0620
 *   /data/evil  -> TARGET (an absolute host path), owned 1000:1001
 *   /link       -> TARGET */

#define MAX_MEMBERS 16
#define LAYER_BUF (1 << 16)

struct member {
  char *name;
  char *data;
  size_t len;
};

struct tar_entry {
  const char *name;
  mode_t type, mode;
  const char *data; /* file content, or the symlink target */
  time_t mtime;
};

static size_t read_members(const char *path, struct member *m)
{
  struct archive *a = archive_read_new();
  struct archive_entry *e;
  size_t n = 0;

  archive_read_support_format_tar(a);
  ck_assert_int_eq(archive_read_open_filename(a, path, 1 << 16), ARCHIVE_OK);
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    if (archive_entry_filetype(e) != AE_IFREG)
      continue;
    ck_assert_int_lt(n, MAX_MEMBERS);
    m[n].len = (size_t)archive_entry_size(e);
    m[n].name = strdup(archive_entry_pathname(e));
    m[n].data = malloc(m[n].len + 1);
    ck_assert(m[n].name && m[n].data);
    ck_assert_int_eq(archive_read_data(a, m[n].data, m[n].len),
                     (la_ssize_t)m[n].len);
    m[n].data[m[n].len] = '\0';
    n++;
  }
  archive_read_free(a);
  return n;
}

static void write_entry(struct archive *a, const struct tar_entry *t)
{
  struct archive_entry *e = archive_entry_new();
  size_t len = t->type == AE_IFREG && t->data ? strlen(t->data) : 0;

  archive_entry_set_pathname(e, t->name);
  archive_entry_set_filetype(e, t->type);
  archive_entry_set_perm(e, t->mode);
  archive_entry_set_uid(e, 1000);
  archive_entry_set_gid(e, 1001);
  archive_entry_set_mtime(e, t->mtime, 0);
  archive_entry_set_size(e, (la_int64_t)len);
  if (t->type == AE_IFLNK)
    archive_entry_set_symlink(e, t->data);
  ck_assert_int_eq(archive_write_header(a, e), ARCHIVE_OK);
  if (len)
    ck_assert_int_eq(archive_write_data(a, t->data, len), (la_ssize_t)len);
  archive_entry_free(e);
}

static void write_blob(struct archive *a, const char *name, const void *data,
                       size_t len)
{
  struct archive_entry *e = archive_entry_new();

  archive_entry_set_pathname(e, name);
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_perm(e, 0644);
  archive_entry_set_size(e, (la_int64_t)len);
  ck_assert_int_eq(archive_write_header(a, e), ARCHIVE_OK);
  ck_assert_int_eq(archive_write_data(a, data, len), (la_ssize_t)len);
  archive_entry_free(e);
}

static size_t make_layer(char *buf, const char *target)
{
  const struct tar_entry entries[] = {
      {"data/", AE_IFDIR, 0750, NULL, 1000000},
      {"data/file", AE_IFREG, 0640, "hello", 1234567},
      {"data/sub/", AE_IFDIR, 0755, NULL, 2000000},
      {"data/sub/deep", AE_IFREG, 0644, "deep", 2000000},
      {"data/fifo", AE_IFIFO, 0620, NULL, 3000000},
      {"data/evil", AE_IFLNK, 0777, target, 4000000},
      {"link", AE_IFLNK, 0777, target, 4000000},
  };
  struct archive *a = archive_write_new();
  size_t used = 0;

  archive_write_set_format_pax_restricted(a);
  archive_write_set_bytes_in_last_block(a, 1);
  ck_assert_int_eq(archive_write_open_memory(a, buf, LAYER_BUF, &used),
                   ARCHIVE_OK);
  for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]); i++)
    write_entry(a, &entries[i]);
  ck_assert_int_eq(archive_write_close(a), ARCHIVE_OK);
  archive_write_free(a);
  return used;
}

static const struct member *find_member(const struct member *m, size_t n,
                                        const char *name)
{
  for (size_t i = 0; i < n; i++)
    if (strcmp(m[i].name, name) == 0)
      return &m[i];
  ck_abort_msg("saved busybox archive lacks %s", name);
  return NULL;
}

/* The busybox config with Volumes and one more diff_id. */
static char *volume_config(const struct member *old, const char *diff_id)
{
  json_t *cfg = json_loadb(old->data, old->len, 0, NULL);

  ck_assert_ptr_nonnull(cfg);
  json_object_set_new(json_object_get(cfg, "config"), "Volumes",
                      json_pack("{s:{}, s:{}}", "/data", "/link"));
  json_array_append_new(
      json_object_get(json_object_get(cfg, "rootfs"), "diff_ids"),
      json_string(diff_id));
  char *text = json_dumps(cfg, JSON_COMPACT);
  json_decref(cfg);
  return text;
}

static void write_image_archive(const char *path, const struct member *m,
                                size_t n, const char *layer, size_t layer_len)
{
  char diff_id[MK_DIGEST_LEN + 1], cfg_id[MK_DIGEST_LEN + 1];
  char layer_name[128], cfg_name[128];
  json_t *manifest =
      json_loadb(find_member(m, n, "manifest.json")->data,
                 find_member(m, n, "manifest.json")->len, 0, NULL);
  json_t *img = json_array_get(manifest, 0);
  const char *old_cfg = json_string_value(json_object_get(img, "Config"));

  mk_sha256_digest(layer, layer_len, diff_id);
  char *cfg = volume_config(find_member(m, n, old_cfg), diff_id);
  mk_sha256_digest(cfg, strlen(cfg), cfg_id);
  h_fmt(layer_name, sizeof(layer_name), "blobs/sha256/%s", diff_id + 7);
  h_fmt(cfg_name, sizeof(cfg_name), "blobs/sha256/%s", cfg_id + 7);
  json_object_set_new(img, "Config", json_string(cfg_name));
  json_object_set_new(img, "RepoTags", json_pack("[s]", "volimg:latest"));
  json_array_append_new(json_object_get(img, "Layers"),
                        json_string(layer_name));
  char *mtext = json_dumps(manifest, JSON_COMPACT);

  struct archive *a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  ck_assert_int_eq(archive_write_open_filename(a, path), ARCHIVE_OK);
  for (size_t i = 0; i < n; i++) /* without the OCI index: docker-archive */
    if (strcmp(m[i].name, "manifest.json") && strcmp(m[i].name, "index.json"))
      write_blob(a, m[i].name, m[i].data, m[i].len);
  write_blob(a, layer_name, layer, layer_len);
  write_blob(a, cfg_name, cfg, strlen(cfg));
  write_blob(a, "manifest.json", mtext, strlen(mtext));
  ck_assert_int_eq(archive_write_close(a), ARCHIVE_OK);
  archive_write_free(a);
  free(mtext);
  free(cfg);
  json_decref(manifest);
}

/* Loads volimg:latest into this test's root; target is what the image's
 * symlinks point at. */
static void load_volume_image(const char *target)
{
  char saved[4200], built[4200];
  struct member m[MAX_MEMBERS];
  char *layer = malloc(LAYER_BUF);

  ck_assert_ptr_nonnull(layer);
  h_fmt(saved, sizeof(saved), "%s/busybox.tar", h.host);
  h_fmt(built, sizeof(built), "%s/volimg.tar", h.host);
  RUN_OK("run", "--rm", "busybox", "true"); /* imports the builtin image */
  RUN_OK("save", "-o", saved, "busybox");
  size_t n = read_members(saved, m);
  size_t len = make_layer(layer, target);
  write_image_archive(built, m, n, layer, len);
  RUN_OK("load", "-i", built);
  for (size_t i = 0; i < n; i++)
    free(m[i].name), free(m[i].data);
  free(layer);
}

/* ---- named volumes ------------------------------------------------- */

START_TEST(test_named_volume_survives_rm)
{
  char file[4200];
  struct h_res r;

  RUN_OK("run", "--name", "writer", "-v", "data:/data", "busybox", "sh", "-c",
         "echo kept > /data/f");
  volume_data(file, sizeof(file), "data", "/f");
  ck_assert_msg(h_exists(file), "the volume was not created at %s", file);
  RUN_OK("rm", "writer");
  ck_assert_msg(h_exists(file), "`rm` removed the named volume's data");

  H_RUN(&r, "run", "--rm", "-v", "data:/data", "busybox", "cat", "/data/f");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "kept\n");
  h_res_free(&r);

  H_RUN(&r, "volume", "ls", "-q");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "data\n");
  h_res_free(&r);
}
END_TEST

START_TEST(test_seed_from_image)
{
  char passwd[4200], root_dir[4200], *host;
  struct stat st;
  struct h_res r;

  H_RUN(&r, "run", "--rm", "-v", "etcvol:/etc", "busybox", "cat",
        "/etc/passwd");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_LINE(&r, "root:x:0:0:root:/root:/bin/sh");
  h_res_free(&r);

  volume_data(passwd, sizeof(passwd), "etcvol", "/passwd");
  volume_data(root_dir, sizeof(root_dir), "etcvol", "");
  host = h_read_file(passwd);
  ck_assert_msg(host && h_has_line(host, "root:x:0:0:root:/root:/bin/sh"),
                "the volume's passwd is not the image's: %s", host);
  free(host);
  /* Mode and the image's timestamp (the epoch) are kept. */
  ck_assert_int_eq(lstat(passwd, &st), 0);
  ck_assert_int_eq(st.st_mode & 07777, 0644);
  ck_assert_int_eq(st.st_mtime, 0);
  ck_assert_int_eq(stat(root_dir, &st), 0);
  ck_assert_int_eq(st.st_mode & 07777, 0755);

  /* Not empty any more: a second use must not seed over the changes. */
  RUN_OK("run", "--rm", "-v", "etcvol:/etc", "busybox", "sh", "-c",
         "echo 'extra:x:5:5::/:/bin/sh' >> /etc/passwd; "
         "rm /etc/nsswitch.conf");
  H_RUN(&r, "run", "--rm", "-v", "etcvol:/etc", "busybox", "sh", "-c",
        "cat /etc/passwd; test -e /etc/nsswitch.conf && echo reseeded; true");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_LINE(&r, "extra:x:5:5::/:/bin/sh");
  H_ASSERT_LACKS(&r, out, "reseeded");
  h_res_free(&r);
}
END_TEST

START_TEST(test_seed_missing_path_leaves_volume_empty)
{
  char dir[4200];
  struct h_res r;

  H_RUN(&r, "run", "--rm", "-v", "fresh:/not/in/image", "busybox", "ls", "-A",
        "/not/in/image");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "");
  h_res_free(&r);
  volume_data(dir, sizeof(dir), "fresh", "");
  ck_assert_msg(h_exists(dir), "volume `fresh` was not created");
}
END_TEST

START_TEST(test_ro_volume_refuses_writes)
{
  char file[4200];
  struct h_res r;

  H_RUN(&r, "run", "--rm", "-v", "rovol:/data:ro", "busybox", "touch",
        "/data/x");
  ck_assert_msg(r.status != 0, "touch on a :ro volume succeeded");
  H_ASSERT_HAS(&r, err, "Read-only file system");
  h_res_free(&r);
  volume_data(file, sizeof(file), "rovol", "/x");
  ck_assert_msg(!h_exists(file), "a write through a :ro volume landed");
}
END_TEST

/* Binds are mounted before tmpfs whatever the flags' order, so a tmpfs
 * inside a bind stays a tmpfs: nothing written there reaches the host. */
START_TEST(test_tmpfs_inside_bind_stays_tmpfs)
{
  char src[4200], leaked[4300];
  struct h_res r;

  h_fmt(src, sizeof(src), "%s/bindsrc", h.host);
  ck_assert_int_eq(mkdir(src, 0755), 0);
  h_fmt(leaked, sizeof(leaked), "%s:/d", src);
  H_RUN(&r, "run", "--rm", "--tmpfs", "/d/cache", "-v", leaked, "busybox",
        "sh", "-c",
        "echo x > /d/cache/f && awk '$2 == \"/d/cache\" {print $3}' "
        "/proc/mounts");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_HAS(&r, out, "tmpfs");
  h_res_free(&r);
  h_fmt(leaked, sizeof(leaked), "%s/cache/f", src);
  ck_assert_msg(!h_exists(leaked),
                "a write into the --tmpfs under a -v landed on the host");
}
END_TEST

START_TEST(test_volume_rm_in_use)
{
  char id[65], want[256];
  struct h_res r;

  RUN_OK("run", "--name", "user", "-v", "busy:/data", "busybox", "true");
  only_container(id);
  H_RUN(&r, "volume", "rm", "busy");
  H_ASSERT_STATUS(&r, 1);
  h_fmt(want, sizeof(want), "mocker: remove busy: volume is in use - [%s]\n",
        id);
  ck_assert_msg(strcmp(r.err, want) == 0, "stderr is \"%s\", want \"%s\"",
                r.err, want);
  h_res_free(&r);
  /* -f does not override "in use", as in Docker. */
  H_RUN(&r, "volume", "rm", "-f", "busy");
  H_ASSERT_STATUS(&r, 1);
  H_ASSERT_HAS(&r, err, "volume is in use");
  h_res_free(&r);

  RUN_OK("rm", "user");
  H_RUN(&r, "volume", "rm", "busy");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "busy\n");
  h_res_free(&r);
  ck_assert_int_eq(count_volumes(), 0);

  H_RUN(&r, "volume", "rm", "busy");
  H_ASSERT_STATUS(&r, 1);
  H_ASSERT_HAS(&r, err, "mocker: get busy: no such volume");
  h_res_free(&r);
  H_RUN(&r, "volume", "rm", "-f", "busy");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
}
END_TEST

/* ---- the volume command ---------------------------------------------- */

START_TEST(test_volume_create_and_ls)
{
  struct h_res r;
  char anon[65];

  H_RUN(&r, "volume", "create", "alpha");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "alpha\n");
  h_res_free(&r);
  H_RUN(&r, "volume", "create", "alpha"); /* idempotent, as Docker */
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  H_RUN(&r, "volume", "create");
  H_ASSERT_STATUS(&r, 0);
  ck_assert_msg(r.out_len == 65 && h_is_hex(r.out, 64),
                "not a 64-hex name: \"%s\"", r.out);
  memcpy(anon, r.out, 64);
  anon[64] = '\0';
  h_res_free(&r);

  H_RUN(&r, "volume", "create", "no/slash");
  H_ASSERT_STATUS(&r, 1);
  H_ASSERT_HAS(&r, err, "includes invalid characters for a local volume name");
  h_res_free(&r);

  H_RUN(&r, "volume", "ls");
  H_ASSERT_STATUS(&r, 0);
  ck_assert_msg(strncmp(r.out, "DRIVER    VOLUME NAME\n", 22) == 0,
                "ls header: %s", r.out);
  H_ASSERT_LINE(&r, "local     alpha");
  char line[128];
  h_fmt(line, sizeof(line), "local     %s", anon);
  H_ASSERT_LINE(&r, line);
  h_res_free(&r);

  H_RUN(&r, "volume", "ls", "-q");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_LINE(&r, "alpha");
  H_ASSERT_LINE(&r, anon);
  H_ASSERT_LACKS(&r, out, "DRIVER");
  h_res_free(&r);

  const char *const verbs[] = {"create", "ls", "inspect", "rm", "prune"};
  for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
    H_RUN(&r, "volume", verbs[i], "--help");
    H_ASSERT_STATUS(&r, 0);
    H_ASSERT_HAS(&r, out, "Usage:  mocker volume ");
    h_res_free(&r);
  }
  H_RUN(&r, "volume", "frob");
  H_ASSERT_STATUS(&r, 125);
  h_res_free(&r);
}
END_TEST

START_TEST(test_volume_inspect)
{
  char mountpoint[4200];
  struct h_res r;

  RUN_OK("volume", "create", "beta");
  H_RUN(&r, "volume", "inspect", "beta");
  H_ASSERT_STATUS(&r, 0);
  json_t *doc = json_loads(r.out, 0, NULL);
  ck_assert_msg(json_is_array(doc) && json_array_size(doc) == 1,
                "inspect is not a one-element array: %s", r.out);
  json_t *v = json_array_get(doc, 0);
  volume_data(mountpoint, sizeof(mountpoint), "beta", "");
  ck_assert_str_eq(json_string_value(json_object_get(v, "Name")), "beta");
  ck_assert_str_eq(json_string_value(json_object_get(v, "Driver")), "local");
  ck_assert_str_eq(json_string_value(json_object_get(v, "Scope")), "local");
  ck_assert_str_eq(json_string_value(json_object_get(v, "Mountpoint")),
                   mountpoint);
  const char *created = json_string_value(json_object_get(v, "CreatedAt"));
  ck_assert_msg(created && strlen(created) == 20 && created[19] == 'Z',
                "CreatedAt: %s", created);
  ck_assert(json_is_null(json_object_get(v, "Labels")));
  ck_assert(json_is_null(json_object_get(v, "Options")));
  json_decref(doc);
  h_res_free(&r);

  /* One missing: the others are still shown, exit 1. */
  H_RUN(&r, "volume", "inspect", "beta", "nope");
  H_ASSERT_STATUS(&r, 1);
  H_ASSERT_HAS(&r, err, "get nope: no such volume");
  H_ASSERT_HAS(&r, out, "\"Name\": \"beta\"");
  h_res_free(&r);
}
END_TEST

START_TEST(test_volume_prune)
{
  char anon_a[65], anon_b[65], file[4200];
  struct h_res r;

  RUN_OK("volume", "create", "named");
  volume_data(file, sizeof(file), "named", "/five");
  h_write_file(file, "12345");
  H_RUN(&r, "volume", "create");
  memcpy(anon_a, r.out, 64);
  anon_a[64] = '\0';
  h_res_free(&r);
  H_RUN(&r, "volume", "create");
  memcpy(anon_b, r.out, 64);
  anon_b[64] = '\0';
  h_res_free(&r);
  /* anon_b is used by a (stopped) container: prune keeps it. */
  char spec[128];
  h_fmt(spec, sizeof(spec), "%s:/data", anon_b);
  RUN_OK("run", "--name", "keeper", "-v", spec, "busybox", "true");

  /* Declined at the prompt: nothing goes. */
  H_RUN_IN(&r, "n\n", "volume", "prune");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_HAS(&r, out, "Are you sure you want to continue? [y/N]");
  h_res_free(&r);
  ck_assert_int_eq(count_volumes(), 3);

  /* Without -a only the unused anonymous volume. */
  H_RUN(&r, "volume", "prune", "-f");
  H_ASSERT_STATUS(&r, 0);
  char want[256];
  h_fmt(want, sizeof(want),
        "Deleted Volumes:\n%s\n\nTotal reclaimed space: 0B\n", anon_a);
  H_ASSERT_OUT_EQ(&r, want);
  h_res_free(&r);
  ck_assert_int_eq(count_volumes(), 2);

  H_RUN(&r, "volume", "prune", "-f", "-a");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "Deleted Volumes:\nnamed\n\nTotal reclaimed space: 5B\n");
  h_res_free(&r);
  ck_assert_int_eq(count_volumes(), 1);

  RUN_OK("rm", "keeper");
  H_RUN(&r, "volume", "prune", "-f");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_LINE(&r, anon_b);
  h_res_free(&r);
  H_RUN(&r, "volume", "prune", "-f");
  H_ASSERT_OUT_EQ(&r, "Total reclaimed space: 0B\n");
  h_res_free(&r);
  ck_assert_int_eq(count_volumes(), 0);
}
END_TEST

/* ---- image VOLUME paths and hostile images ---------------------------- */

START_TEST(test_image_volume_is_anonymous)
{
  char target[4200], names[2][65];
  struct h_res r;

  h_fmt(target, sizeof(target), "%s/unused-target", h.host);
  load_volume_image(target);
  H_RUN(&r, "run", "--name", "anon", "volimg", "sh", "-c",
        "cat /data/file; echo; echo new > /data/new");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "hello\n");
  h_res_free(&r);

  H_RUN(&r, "volume", "ls", "-q");
  H_ASSERT_STATUS(&r, 0);
  ck_assert_msg(r.out_len == 130 && h_is_hex(r.out, 64) &&
                    h_is_hex(r.out + 65, 64),
                "want two anonymous 64-hex volumes, got:\n%s", r.out);
  memcpy(names[0], r.out, 64), names[0][64] = '\0';
  memcpy(names[1], r.out + 65, 64), names[1][64] = '\0';
  h_res_free(&r);
  H_RUN(&r, "volume", "inspect", names[0]);
  H_ASSERT_HAS(&r, out, "\"com.docker.volume.anonymous\": \"\"");
  h_res_free(&r);

  RUN_OK("rm", "-v", "anon");
  ck_assert_int_eq(count_volumes(), 0);

  /* Without -v the anonymous volumes stay, as in Docker. */
  RUN_OK("run", "--name", "anon2", "volimg", "true");
  RUN_OK("rm", "anon2");
  ck_assert_int_eq(count_volumes(), 2);

  /* --rm removes them with the container, as in Docker. */
  RUN_OK("run", "--rm", "volimg", "true");
  ck_assert_int_eq(count_volumes(), 2);
}
END_TEST

START_TEST(test_seed_preserves_attributes)
{
  char target[4200], path[4200], link[4200];
  struct stat st;
  ssize_t n;

  h_fmt(target, sizeof(target), "%s/unused-target", h.host);
  load_volume_image(target);
  RUN_OK("run", "--rm", "-v", "keep:/data", "-v", "other:/link", "volimg",
         "true");

  volume_data(path, sizeof(path), "keep", "");
  ck_assert_int_eq(lstat(path, &st), 0);
  ck_assert_int_eq(st.st_mode & 07777, 0750);
  ck_assert_int_eq(st.st_uid, 1000);
  ck_assert_int_eq(st.st_gid, 1001);
  ck_assert_int_eq(st.st_mtime, 1000000);

  volume_data(path, sizeof(path), "keep", "/file");
  ck_assert_int_eq(lstat(path, &st), 0);
  ck_assert(S_ISREG(st.st_mode));
  ck_assert_int_eq(st.st_mode & 07777, 0640);
  ck_assert_int_eq(st.st_uid, 1000);
  ck_assert_int_eq(st.st_mtime, 1234567);
  char *text = h_read_file(path);
  ck_assert_str_eq(text, "hello");
  free(text);

  volume_data(path, sizeof(path), "keep", "/sub/deep");
  text = h_read_file(path);
  ck_assert_msg(text && strcmp(text, "deep") == 0, "sub/deep: %s", text);
  free(text);

  volume_data(path, sizeof(path), "keep", "/fifo");
  ck_assert_int_eq(lstat(path, &st), 0);
  ck_assert(S_ISFIFO(st.st_mode));
  ck_assert_int_eq(st.st_mode & 07777, 0620);

  volume_data(path, sizeof(path), "keep", "/evil");
  ck_assert_int_eq(lstat(path, &st), 0);
  ck_assert(S_ISLNK(st.st_mode));
  ck_assert_int_eq(st.st_uid, 1000);
  ck_assert_int_eq(st.st_mtime, 4000000);
  n = readlink(path, link, sizeof(link) - 1);
  ck_assert_int_gt(n, 0);
  link[n] = '\0';
  ck_assert_str_eq(link, target);
}
END_TEST

static void snapshot(const char *path, struct stat *st)
{
  ck_assert_int_eq(lstat(path, st), 0);
}

static void assert_unchanged(const char *path, const struct stat *before)
{
  struct stat now;

  snapshot(path, &now);
  ck_assert_msg(now.st_mode == before->st_mode &&
                    now.st_uid == before->st_uid &&
                    now.st_gid == before->st_gid &&
                    now.st_mtim.tv_sec == before->st_mtim.tv_sec &&
                    now.st_mtim.tv_nsec == before->st_mtim.tv_nsec,
                "seeding touched the host's %s: mode %o->%o uid %d->%d "
                "mtime %ld->%ld",
                path, before->st_mode, now.st_mode, (int)before->st_uid,
                (int)now.st_uid, (long)before->st_mtime, (long)now.st_mtime);
}

/* The image's /link -> HOST_TARGET and /data/evil -> HOST_TARGET: seeding
 * must neither read the host dir into a volume nor write, chown or chmod
 * through the links. */
START_TEST(test_hostile_symlink_stays_off_the_host)
{
  char target[4200], secret[4200], path[4200];
  struct stat dir_before, file_before;
  struct dirent *de;
  int entries = 0;

  h_fmt(target, sizeof(target), "%s/host-target", h.host);
  h_fmt(secret, sizeof(secret), "%s/secret", target);
  ck_assert_int_eq(mkdir(target, 0700), 0);
  h_write_file(secret, "host secret");
  ck_assert_int_eq(chmod(secret, 0600), 0);
  snapshot(target, &dir_before);
  snapshot(secret, &file_before);
  load_volume_image(target);

  RUN_OK("run", "--rm", "-v", "linkvol:/link", "-v", "datavol:/data", "volimg",
         "sh", "-c", "ls /link /data > /dev/null");
  /* Anonymous volumes too (they seed the same way). */
  RUN_OK("run", "--rm", "volimg", "true");

  assert_unchanged(target, &dir_before);
  assert_unchanged(secret, &file_before);
  char *text = h_read_file(secret);
  ck_assert_str_eq(text, "host secret");
  free(text);
  DIR *d = opendir(target);
  ck_assert_ptr_nonnull(d);
  while ((de = readdir(d)))
    entries += de->d_name[0] != '.';
  closedir(d);
  ck_assert_msg(entries == 1, "seeding added %d entries to the host's %s",
                entries - 1, target);
  /* Nothing of the host came into the volumes either. */
  volume_data(path, sizeof(path), "linkvol", "/secret");
  ck_assert_msg(!h_exists(path), "the host dir was copied into the volume");
  struct stat st;
  volume_data(path, sizeof(path), "datavol", "/evil");
  ck_assert_int_eq(lstat(path, &st), 0);
  ck_assert_msg(S_ISLNK(st.st_mode), "the image's link was followed");
}
END_TEST

static Suite *volume_suite(void)
{
  Suite *s = suite_create("volume");
  TCase *tc;

  tc = h_tcase("named", 60);
  tcase_add_test(tc, test_named_volume_survives_rm);
  tcase_add_test(tc, test_seed_from_image);
  tcase_add_test(tc, test_seed_missing_path_leaves_volume_empty);
  tcase_add_test(tc, test_ro_volume_refuses_writes);
  tcase_add_test(tc, test_tmpfs_inside_bind_stays_tmpfs);
  tcase_add_test(tc, test_volume_rm_in_use);
  suite_add_tcase(s, tc);

  tc = h_tcase("command", 60);
  tcase_add_test(tc, test_volume_create_and_ls);
  tcase_add_test(tc, test_volume_inspect);
  tcase_add_test(tc, test_volume_prune);
  suite_add_tcase(s, tc);

  tc = h_tcase("image", 60);
  tcase_add_test(tc, test_image_volume_is_anonymous);
  tcase_add_test(tc, test_seed_preserves_attributes);
  tcase_add_test(tc, test_hostile_symlink_stays_off_the_host);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  return h_main(volume_suite());
}
