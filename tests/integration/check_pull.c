/* `mocker pull` (and `run`, `images`, `rmi`, `image inspect`) against
 * local registries: Debian's docker-registry started by
 * tests/registry/registry.sh in its plain, basic, tls and token modes, with
 * images built by make-images.sh and make-test-images.py and pushed with
 * push.sh. tests/registry/redirect_server.py stands in front of a registry
 * for redirects to another host, 429, 5xx, dropped and stalled downloads
 * and tampered manifests.
 *
 * Each test case starts its registry once, in an unchecked fixture (the
 * runner process), and stops it after the case whatever happened; test
 * images are built once per run and cached in /tmp/mocker-pull.XXXXXX.
 * Each test gets its own state root and its own empty MOCKER_CONFIG_DIR and
 * DOCKER_CONFIG, and asserts exit codes, output and what the state root
 * holds afterwards. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "harness.h"
#include "pull_fixture.h"

#define TEST_TIMEOUT_S 150
#define PULL_MS 60000
#define BIG_LAYER_BYTES (30u << 20)

/* ---- what the fixtures set up (runner; inherited by the tests) ------ */

static struct pf_registry reg_plain, reg_integ, reg_basic, reg_tls, reg_token;
/* A token server that answers with access_token only, as some do. */
static struct pf_registry reg_token_at;
static char fixture_err[PF_ERR];

/* Manifest digests pushed by the plain fixture. */
static struct {
  char busybox[80], layered[80], multi[80], attest[80], rmi[80], big[80];
  char ubuntu[80];
} dg;

/* ---- fixture helpers (runner: no asserts) --------------------------- */

static bool fx_push(const struct pf_registry *r, const char *opts,
                    const char *repo, const char *tag, const char *img,
                    char *out, size_t outsize)
{
  char path[PATH_MAX], ignored[200];

  if (fixture_err[0])
    return false;
  pf_img(path, sizeof path, img);
  return pf_push(r, opts, repo, tag, path, out ? out : ignored,
                 out ? outsize : sizeof ignored, fixture_err,
                 sizeof fixture_err) == 0;
}

/* push.sh [--oci] --index ADDR REPO TAG ENTRY... */
static bool fx_index(const struct pf_registry *r, bool oci, const char *repo,
                     const char *tag, const char *entries, char *out,
                     size_t outsize)
{
  struct pf_sh sh;
  bool ok;

  if (fixture_err[0])
    return false;
  pf_sh(&sh, 60000, "'%s/push.sh' %s %s --index '%s' '%s' '%s' %s",
        pf_scripts(), r->push_opts, oci ? "--oci" : "", r->addr, repo, tag,
        entries);
  ok = sh.status == 0 && strncmp(sh.out, "sha256:", 7) == 0;
  if (ok)
    snprintf(out, outsize, "%.71s", sh.out);
  else
    snprintf(fixture_err, sizeof fixture_err, "push --index %s: %s %s", repo,
             sh.out, sh.err);
  pf_sh_free(&sh);
  return ok;
}

static bool fx_start(struct pf_registry *r, const char *name, const char *mode)
{
  fixture_err[0] = '\0';
  if (pf_images(fixture_err, sizeof fixture_err) < 0)
    return false;
  if (pf_registry_start(r, name, mode) < 0) {
    snprintf(fixture_err, sizeof fixture_err, "%s", r->err);
    return false;
  }
  return true;
}

/* In a test: the fixture must have worked. */
static void need(const struct pf_registry *r)
{
  ck_assert_msg(!fixture_err[0] && r->running, "fixture failed: %s",
                fixture_err[0] ? fixture_err : r->err);
}

/* ---- unchecked fixtures -------------------------------------------- */

static void plain_setup(void)
{
  struct pf_registry *r = &reg_plain;
  char arm[200], amd[200], arm_oci[200], amd_oci[200], att[200];
  char entries[1024];

  if (!fx_start(r, "plain", "plain"))
    return;
  fx_push(r, "", "t/busybox", "latest", "busybox", dg.busybox,
          sizeof dg.busybox);
  fx_push(r, "", "t/layered", "v1", "layered", dg.layered, sizeof dg.layered);
  fx_push(r, "", "t/rmi", "latest", "rmi", dg.rmi, sizeof dg.rmi);
  fx_push(r, "", "t/big", "latest", "big", dg.big, sizeof dg.big);
  fx_push(r, "", "library/ubuntu", "latest", "osrelease", dg.ubuntu,
          sizeof dg.ubuntu);
  /* A Docker manifest list whose first entry is arm64. */
  fx_push(r, "--desc", "t/multi", "-", "arm64", arm, sizeof arm);
  fx_push(r, "--desc", "t/multi", "-", "busybox", amd, sizeof amd);
  snprintf(entries, sizeof entries, "'%s,linux/arm64/v8' '%s,linux/amd64'", arm,
           amd);
  fx_index(r, false, "t/multi", "latest", entries, dg.multi, sizeof dg.multi);
  /* An OCI index: attestation first, then arm64, then amd64. */
  fx_push(r, "--oci --desc", "t/attest", "-", "arm64", arm_oci, sizeof arm_oci);
  fx_push(r, "--oci --desc", "t/attest", "-", "busybox", amd_oci,
          sizeof amd_oci);
  fx_push(r, "--oci --desc", "t/attest", "-", "attestation", att, sizeof att);
  snprintf(entries, sizeof entries,
           "'%s,unknown/unknown' '%s,linux/arm64/v8' '%s,linux/amd64'", att,
           arm_oci, amd_oci);
  fx_index(r, true, "t/attest", "latest", entries, dg.attest, sizeof dg.attest);
}

static void plain_teardown(void)
{
  pf_registry_stop(&reg_plain);
}

/* Its own registry: the tests overwrite blobs in its storage. */
static void integ_setup(void)
{
  struct pf_registry *r = &reg_integ;

  if (!fx_start(r, "integrity", "plain"))
    return;
  fx_push(r, "", "t/corrupt-tar", "latest", "corrupt-tar", NULL, 0);
  fx_push(r, "", "t/corrupt-gz", "latest", "corrupt-gz", NULL, 0);
  fx_push(r, "", "t/truncated", "latest", "truncated", NULL, 0);
  fx_push(r, "", "t/baddiffid", "latest", "baddiffid", NULL, 0);
  fx_push(r, "", "t/bomb", "latest", "bomb", NULL, 0);
}

static void integ_teardown(void)
{
  pf_registry_stop(&reg_integ);
}

static void basic_setup(void)
{
  if (fx_start(&reg_basic, "basic", "basic"))
    fx_push(&reg_basic, "", "t/busybox", "latest", "busybox", NULL, 0);
}

static void basic_teardown(void)
{
  pf_registry_stop(&reg_basic);
}

static void tls_setup(void)
{
  if (fx_start(&reg_tls, "tls", "tls"))
    fx_push(&reg_tls, "", "t/busybox", "latest", "busybox", NULL, 0);
}

static void tls_teardown(void)
{
  pf_registry_stop(&reg_tls);
}

static void token_setup(void)
{
  if (!fx_start(&reg_token, "token", "token"))
    return;
  fx_push(&reg_token, "", "public/busybox", "latest", "busybox", NULL, 0);
  fx_push(&reg_token, "", "private/busybox", "latest", "busybox", NULL, 0);
  if (fixture_err[0])
    return;
  /* registry.sh passes the environment on to token_server.py. */
  setenv("MOCKER_TOKEN_FIELDS", "access_token", 1);
  if (pf_registry_start(&reg_token_at, "token-access", "token") < 0)
    snprintf(fixture_err, sizeof fixture_err, "%s", reg_token_at.err);
  unsetenv("MOCKER_TOKEN_FIELDS");
  fx_push(&reg_token_at, "", "private/busybox", "latest", "busybox", NULL, 0);
}

static void token_teardown(void)
{
  pf_registry_stop(&reg_token);
  pf_registry_stop(&reg_token_at);
}

/* ---- assertions on the state root ---------------------------------- */

static void root_path(char *out, size_t size, const char *rel)
{
  h_fmt(out, size, "%s/%s", h.root, rel);
}

/* Entries of dir whose name starts with prefix ("" for all); 0 if the
 * dir does not exist. */
static int count_entries(const char *dir, const char *prefix)
{
  DIR *d = opendir(dir);
  struct dirent *e;
  int n = 0;

  if (!d)
    return 0;
  while ((e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
        !strncmp(e->d_name, prefix, strlen(prefix)))
      n++;
  closedir(d);
  return n;
}

static int count_in_root(const char *rel, const char *prefix)
{
  char path[PATH_MAX];

  root_path(path, sizeof path, rel);
  return count_entries(path, prefix);
}

static json_t *load_tags(void)
{
  char path[PATH_MAX];
  json_t *tags;

  root_path(path, sizeof path, "images/tags.json");
  if (!h_exists(path))
    return json_object();
  tags = json_load_file(path, 0, NULL);
  ck_assert_msg(json_is_object(tags), "%s is not a JSON object", path);
  return tags;
}

static bool has_tag(const char *name)
{
  json_t *tags = load_tags();
  bool has = json_object_get(tags, name) != NULL;

  json_decref(tags);
  return has;
}

static size_t tag_count(void)
{
  json_t *tags = load_tags();
  size_t n = json_object_size(tags);

  json_decref(tags);
  return n;
}

static char *tags_text(void)
{
  char path[PATH_MAX];
  char *s;

  root_path(path, sizeof path, "images/tags.json");
  s = h_read_file(path);
  return s ? s : strdup("(no tags.json)");
}

static bool is_digest(const char *s)
{
  return s && strlen(s) == 71 && !strncmp(s, "sha256:", 7) &&
         h_is_hex(s + 7, 64);
}

/* Every dir in layers/sha256 is a finished layer: diff/, a diff_id and a
 * size. Returns how many there are. */
static int assert_layers_complete(void)
{
  char dir[PATH_MAX];
  DIR *d;
  struct dirent *e;
  int n = 0;

  root_path(dir, sizeof dir, "layers/sha256");
  d = opendir(dir);
  if (!d)
    return 0;
  while ((e = readdir(d))) {
    char path[PATH_MAX + 300], *text;
    struct stat st;

    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
      continue;
    n++;
    ck_assert_msg(strlen(e->d_name) == 64 && h_is_hex(e->d_name, 64),
                  "odd entry in %s: %s", dir, e->d_name);
    h_fmt(path, sizeof path, "%s/%s/diff", dir, e->d_name);
    ck_assert_msg(stat(path, &st) == 0 && S_ISDIR(st.st_mode),
                  "half-published layer: %s missing", path);
    h_fmt(path, sizeof path, "%s/%s/diff_id", dir, e->d_name);
    text = h_read_file(path);
    ck_assert_msg(text && is_digest(text), "half-published layer: %s is \"%s\"",
                  path, text);
    free(text);
    h_fmt(path, sizeof path, "%s/%s/size", dir, e->d_name);
    text = h_read_file(path);
    ck_assert_msg(text && *text && strspn(text, "0123456789\n") == strlen(text),
                  "half-published layer: %s is \"%s\"", path, text);
    free(text);
  }
  closedir(d);
  return n;
}

/* No work left behind by a pull: no unpack dir, no lease. */
static void assert_no_tmp_work(void)
{
  char dir[PATH_MAX];

  root_path(dir, sizeof dir, "tmp");
  ck_assert_msg(count_entries(dir, "layer-") == 0, "unpack dirs left in %s: %d",
                dir, count_entries(dir, "layer-"));
  ck_assert_msg(count_entries(dir, "lease-") == 0, "leases left in %s: %d", dir,
                count_entries(dir, "lease-"));
}

/* After a failed pull into a fresh root: nothing at all was stored. */
static void assert_store_empty(const struct h_res *r)
{
  char *tags = tags_text();

  ck_assert_msg(tag_count() == 0, "`%s` failed but left tags: %s\n%s",
                h_last_cmd(), tags, r ? r->err : "");
  free(tags);
  ck_assert_msg(count_in_root("images/sha256", "") == 0,
                "`%s` failed but left an image in images/sha256", h_last_cmd());
  ck_assert_msg(count_in_root("layers/sha256", "") == 0,
                "`%s` failed but left %d layer dir(s) in layers/sha256",
                h_last_cmd(), count_in_root("layers/sha256", ""));
  assert_no_tmp_work();
}

/* A failure says so on stderr as "mocker: ...". */
static void assert_error_line(const struct h_res *r)
{
  ck_assert_msg(
      strncmp(r->err, "mocker: ", 8) == 0 || h_contains(r->err, "\nmocker: "),
      "`%s`: no \"mocker: \" error line on stderr:\n%s", h_last_cmd(), r->err);
}

static void assert_failed(const struct h_res *r)
{
  ck_assert_msg(r->status != 0 && r->status != H_TIMED_OUT && r->status > 0,
                "`%s`: exit status %d, want a failure\n--- stdout:\n%s\n--- "
                "stderr:\n%s",
                h_last_cmd(), r->status, r->out, r->err);
  assert_error_line(r);
}

static bool ends_with_line(const char *text, const char *line)
{
  size_t n = strlen(text), k = strlen(line);

  return n >= k + 1 && text[n - 1] == '\n' &&
         !strncmp(text + n - 1 - k, line, k) &&
         (n == k + 1 || text[n - k - 2] == '\n');
}

/* A line of `mocker images` with these first two columns. */
static bool images_row(const char *text, const char *repo, const char *tag)
{
  for (const char *p = text; p && *p;) {
    char r[512] = "", t[128] = "";

    if (sscanf(p, "%511s %127s", r, t) == 2 && !strcmp(r, repo) &&
        !strcmp(t, tag))
      return true;
    p = strchr(p, '\n');
    if (p)
      p++;
  }
  return false;
}

static int count_substr(const char *hay, const char *needle)
{
  int n = 0;

  for (const char *p = hay; p && (p = strstr(p, needle)); p += strlen(needle))
    n++;
  return n;
}

static void pull_ok(const char *ref)
{
  struct h_res r;

  h_run(&r, &(struct h_opts){.timeout_ms = PULL_MS}, H_ARGV("pull", ref));
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
}

static int pull(struct h_res *r, const char *ref)
{
  return h_run(r, &(struct h_opts){.timeout_ms = PULL_MS}, H_ARGV("pull", ref));
}

/* `mocker image inspect REF`, first element (caller json_decref's). */
static json_t *inspect(const char *ref)
{
  struct h_res r;
  json_t *all, *one;

  H_RUN(&r, "image", "inspect", ref);
  H_ASSERT_STATUS(&r, 0);
  all = json_loads(r.out, 0, NULL);
  ck_assert_msg(json_is_array(all) && json_array_size(all) == 1,
                "`%s`: not a one-element JSON array:\n%s", h_last_cmd(), r.out);
  one = json_incref(json_array_get(all, 0));
  json_decref(all);
  h_res_free(&r);
  return one;
}

static void assert_arch(const char *ref, const char *arch)
{
  json_t *img = inspect(ref);
  const char *got = json_string_value(json_object_get(img, "Architecture"));

  ck_assert_msg(got && !strcmp(got, arch), "%s: Architecture %s, want %s", ref,
                got ? got : "(none)", arch);
  json_decref(img);
}

/* The image id: the digest of the config blob. */
static void config_digest(const char *img, char out[72])
{
  char path[PATH_MAX];

  pf_img(path, sizeof path, img);
  strncat(path, "/config.json", sizeof path - strlen(path) - 1);
  pf_file_digest(path, out);
}

static void diff_id_of(const char *img, size_t i, char out[72])
{
  char path[PATH_MAX];
  json_t *cfg;
  const char *id;

  pf_img(path, sizeof path, img);
  strncat(path, "/config.json", sizeof path - strlen(path) - 1);
  cfg = json_load_file(path, 0, NULL);
  id = json_string_value(json_array_get(
      json_object_get(json_object_get(cfg, "rootfs"), "diff_ids"), i));
  ck_assert_msg(is_digest(id), "%s: no diff_id %zu", path, i);
  snprintf(out, 72, "%s", id);
  json_decref(cfg);
}

/* Digest of layer file N (1-based) of a test image. */
static void layer_digest(const char *img, const char *file, char out[72])
{
  char path[PATH_MAX + 64];

  pf_img(path, sizeof path, img);
  strncat(path, "/", sizeof path - strlen(path) - 1);
  strncat(path, file, sizeof path - strlen(path) - 1);
  pf_file_digest(path, out);
}

/* The layer dir (layers/sha256/X/diff) holding rel; false if none. */
static bool find_layer_with(const char *rel, char *out, size_t size)
{
  char dir[PATH_MAX];
  DIR *d;
  struct dirent *e;
  bool found = false;

  root_path(dir, sizeof dir, "layers/sha256");
  d = opendir(dir);
  while (d && !found && (e = readdir(d))) {
    char path[PATH_MAX * 2];

    if (e->d_name[0] == '.')
      continue;
    h_fmt(path, sizeof path, "%s/%s/diff/%s", dir, e->d_name, rel);
    if (h_exists(path)) {
      h_fmt(out, size, "%s/%s/diff", dir, e->d_name);
      found = true;
    }
  }
  if (d)
    closedir(d);
  return found;
}

static void lstat_ok(const char *dir, const char *rel, struct stat *st)
{
  char path[PATH_MAX * 2];

  h_fmt(path, sizeof path, "%s/%s", dir, rel);
  ck_assert_msg(lstat(path, st) == 0, "lstat %s: %s", path, strerror(errno));
}

static void rm_all_containers(void)
{
  char ids[8][65];
  int n = h_containers(h.root, ids, 8);

  for (int i = 0; i < n && i < 8; i++) {
    struct h_res r;

    H_RUN(&r, "rm", "-f", ids[i]);
    H_ASSERT_STATUS(&r, 0);
    h_res_free(&r);
  }
}

/* ==== 1. plain HTTP ================================================= */

START_TEST(test_pull_plain)
{
  char ref[128], name[160], line[256], cfg[72], diff[72], path[PATH_MAX];
  struct h_res r;
  char *text;

  need(&reg_plain);
  h_fmt(ref, sizeof ref, "%s/t/busybox", reg_plain.addr);
  h_fmt(name, sizeof name, "%s:latest", ref);

  pull(&r, ref);
  H_ASSERT_STATUS(&r, 0);
  h_fmt(line, sizeof line, "Digest: %s", dg.busybox);
  ck_assert_msg(h_has_line(r.out, line), "no \"%s\" line:\n%s", line, r.out);
  H_ASSERT_HAS(&r, out, "Pull complete");
  ck_assert_msg(ends_with_line(r.out, name),
                "pull output does not end with the normalised name %s:\n%s",
                name, r.out);
  h_res_free(&r);

  /* The store: the tag, the image (id = config digest), one layer. */
  ck_assert_msg(has_tag(name), "tags.json lacks %s", name);
  config_digest("busybox", cfg);
  h_fmt(path, sizeof path, "%s/images/sha256/%s/config.json", h.root, cfg + 7);
  ck_assert_msg(h_exists(path), "no %s", path);
  ck_assert_int_eq(assert_layers_complete(), 1);
  diff_id_of("busybox", 0, diff);
  h_fmt(path, sizeof path, "%s/layers/sha256/%s/diff_id", h.root, diff + 7);
  text = h_read_file(path);
  ck_assert_msg(text && !strncmp(text, diff, 71),
                "layer for %s: diff_id file is \"%s\"", diff, text);
  free(text);
  assert_no_tmp_work();

  H_RUN(&r, "images");
  H_ASSERT_STATUS(&r, 0);
  ck_assert_msg(images_row(r.out, ref, "latest"), "images lacks %s latest:\n%s",
                ref, r.out);
  h_res_free(&r);
  H_RUN(&r, "images", "-q");
  H_ASSERT_STATUS(&r, 0);
  h_fmt(line, sizeof line, "%.12s", cfg + 7);
  ck_assert_msg(h_has_line(r.out, line), "images -q lacks %s:\n%s", line,
                r.out);
  h_res_free(&r);
  {
    json_t *img = inspect(name);
    const char *id = json_string_value(json_object_get(img, "Id"));

    ck_assert_msg(id && !strcmp(id, cfg), "inspect Id %s, want %s", id, cfg);
    json_decref(img);
  }

  h_run(&r, &(struct h_opts){.timeout_ms = PULL_MS},
        H_ARGV("run", "--rm", ref, "cat", "/etc/passwd"));
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_HAS(&r, out, "root:x:0:0:");
  h_res_free(&r);

  /* Again: nothing to download. */
  pull(&r, ref);
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_HAS(&r, out, "Already exists");
  H_ASSERT_LACKS(&r, out, "Pull complete");
  h_res_free(&r);
  h_run(&r, &(struct h_opts){.timeout_ms = PULL_MS}, H_ARGV("pull", "-q", ref));
  H_ASSERT_STATUS(&r, 0);
  h_fmt(line, sizeof line, "%s\n", name);
  H_ASSERT_OUT_EQ(&r, line);
  h_res_free(&r);
  ck_assert_int_eq(assert_layers_complete(), 1);
  ck_assert_int_eq(count_in_root("images/sha256", ""), 1);
}
END_TEST

/* ==== 2. a layered image: whiteouts, special files, zstd ============ */

START_TEST(test_pull_layered)
{
  char ref[128], special[PATH_MAX], whiteouts[PATH_MAX], xv[16];
  struct h_res r;
  struct stat st, st2;
  ssize_t n;
  char *layers_file, path[PATH_MAX];

  need(&reg_plain);
  h_fmt(ref, sizeof ref, "%s/t/layered:v1", reg_plain.addr);
  pull(&r, ref);
  H_ASSERT_STATUS(&r, 0);
  ck_assert_msg(count_substr(r.out, "Pull complete") == 3,
                "want 3 layers pulled:\n%s", r.out);
  h_res_free(&r);
  ck_assert_int_eq(assert_layers_complete(), 3);

  /* What the container sees through overlayfs. */
  h_run(&r, &(struct h_opts){.timeout_ms = PULL_MS},
        H_ARGV("run", "--rm", ref, "sh", "-c",
               "test -e /data/a.txt && echo a-present; "
               "echo dir: $(ls -A /data/dir); "
               "echo hard: $(cat /data/hard.txt); "
               "echo link: $(readlink /data/link.txt); "
               "test -e /data/link.txt || echo link-dangles; "
               "echo abs: $(readlink /data/abs-link); "
               "for f in suid sgid-dir sticky-dir owned.txt; do "
               "echo \"$f: $(stat -c '%A %u:%g' /data/$f)\"; done; "
               "echo \"null: $(stat -c '%F %t,%T' /data/null)\"; "
               "echo \"fifo: $(stat -c %F /data/fifo)\"; "
               "echo long: $(cat /data/long/*/*.txt)"));
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_LACKS(&r, out, "a-present");
  ck_assert_msg(h_has_line(r.out, "dir: c.txt"),
                "data/dir is not just c.txt:\n%s", r.out);
  ck_assert_msg(h_has_line(r.out, "hard: a"), "hard.txt:\n%s", r.out);
  ck_assert_msg(h_has_line(r.out, "link: a.txt"), "link.txt:\n%s", r.out);
  ck_assert_msg(h_has_line(r.out, "link-dangles"), "link.txt:\n%s", r.out);
  ck_assert_msg(h_has_line(r.out, "abs: /bin/busybox"), "abs-link:\n%s", r.out);
  ck_assert_msg(h_has_line(r.out, "suid: -rwsr-xr-x 0:0"), "suid:\n%s", r.out);
  ck_assert_msg(h_has_line(r.out, "sgid-dir: drwxr-sr-x 0:0"), "sgid:\n%s",
                r.out);
  ck_assert_msg(h_has_line(r.out, "sticky-dir: drwxrwxrwt 0:0"), "sticky:\n%s",
                r.out);
  ck_assert_msg(h_has_line(r.out, "owned.txt: -rw------- 1000:1000"),
                "owned.txt:\n%s", r.out);
  ck_assert_msg(h_has_line(r.out, "null: character special file 1,3"),
                "null:\n%s", r.out);
  ck_assert_msg(h_has_line(r.out, "fifo: fifo"), "fifo:\n%s", r.out);
  ck_assert_msg(h_has_line(r.out, "long: long name"), "long name:\n%s", r.out);
  h_res_free(&r);

  /* The layer dirs on the host. */
  ck_assert_msg(find_layer_with("data/xattr.txt", special, sizeof special),
                "no layer dir holds data/xattr.txt");
  h_fmt(path, sizeof path, "%s/data/xattr.txt", special);
  n = lgetxattr(path, "user.test", xv, sizeof xv - 1);
  ck_assert_msg(n == 1 && xv[0] == '1', "%s: user.test xattr missing (%zd: %s)",
                path, n, n < 0 ? strerror(errno) : "");
  lstat_ok(special, "data", &st);
  ck_assert_msg(st.st_mtime == 1600000000,
                "data/ mtime %lld, want 1600000000 (set after its children)",
                (long long)st.st_mtime);
  lstat_ok(special, "data/a.txt", &st);
  lstat_ok(special, "data/hard.txt", &st2);
  ck_assert_msg(st.st_ino == st2.st_ino && st.st_nlink == 2,
                "hard.txt is not a hardlink of a.txt");
  ck_assert_int_eq(st.st_mtime, 1700000000);
  lstat_ok(special, "data/owned.txt", &st);
  ck_assert_msg(
      st.st_uid == 1000 && st.st_gid == 1000 && (st.st_mode & 07777) == 0600,
      "owned.txt: %u:%u %o", st.st_uid, st.st_gid, st.st_mode & 07777);
  lstat_ok(special, "data/suid", &st);
  ck_assert_int_eq(st.st_mode & 07777, 04755);
  lstat_ok(special, "data/null", &st);
  ck_assert_msg(S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 &&
                    minor(st.st_rdev) == 3,
                "data/null is not char 1,3");
  lstat_ok(special, "data/fifo", &st);
  ck_assert_msg(S_ISFIFO(st.st_mode), "data/fifo is not a fifo");

  ck_assert_msg(find_layer_with("data/dir/c.txt", whiteouts, sizeof whiteouts),
                "no layer dir holds data/dir/c.txt");
  lstat_ok(whiteouts, "data/a.txt", &st);
  ck_assert_msg(S_ISCHR(st.st_mode) && st.st_rdev == 0,
                "whiteout of a.txt is not a 0:0 char device");
  h_fmt(path, sizeof path, "%s/data/dir", whiteouts);
  n = lgetxattr(path, "trusted.overlay.opaque", xv, sizeof xv - 1);
  ck_assert_msg(n == 1 && xv[0] == 'y', "%s: not opaque (%zd)", path, n);
  h_fmt(path, sizeof path, "%s/data/dir/.wh..wh..opq", whiteouts);
  ck_assert_msg(!h_exists(path), "the opaque marker was extracted as a file");

  /* The special-files layer was zstd, when make-images.sh had zstd. */
  pf_img(path, sizeof path, "layered/layers");
  layers_file = h_read_file(path);
  ck_assert_ptr_nonnull(layers_file);
  if (!h_contains(layers_file, "layer2.tar.zst"))
    fprintf(stderr, "check_pull: zstd missing, layer 2 was gzip\n");
  free(layers_file);
  assert_no_tmp_work();
}
END_TEST

/* The whole merged rootfs (overlay of the layer dirs) is what umoci
 * unpacks from the same image: type, mode, owner, size, content, link
 * target, rdev, xattrs, hard links, mtimes (tests/registry/compare-unpack.sh).
 * TMPDIR keeps its scratch dir under h.host, cleaned up even if it is
 * killed. */
START_TEST(test_layered_rootfs_matches_umoci)
{
  struct pf_sh sh;

  need(&reg_plain);
  pf_sh(&sh, 2 * PULL_MS,
        "TMPDIR='%s' bash '%s/compare-unpack.sh' '%s' '%s' t/layered:v1",
        h.host, pf_scripts(), h_mocker(), reg_plain.addr);
  if (sh.status != 0) /* the whole diff, in case Check cuts the message */
    fprintf(stderr, "%s%s", sh.out, sh.err);
  ck_assert_msg(sh.status == 0,
                "compare-unpack.sh exited %d (1: rootfs differs, umoci's "
                "lines first):\n%s\n%s",
                sh.status, sh.out, sh.err);
  pf_sh_free(&sh);
}
END_TEST

/* ==== 3. manifest lists and indexes ================================= */

START_TEST(test_manifest_list_platforms)
{
  char ref[128], line[128];
  struct h_res r;

  need(&reg_plain);
  h_fmt(ref, sizeof ref, "%s/t/multi", reg_plain.addr);
  pull(&r, ref);
  H_ASSERT_STATUS(&r, 0);
  h_fmt(line, sizeof line, "Digest: %s", dg.multi);
  ck_assert_msg(h_has_line(r.out, line), "want the list's digest \"%s\":\n%s",
                line, r.out);
  h_res_free(&r);
  assert_arch(ref, "amd64");

  h_run(&r, &(struct h_opts){.timeout_ms = PULL_MS},
        H_ARGV("pull", "--platform", "linux/arm64", ref));
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  assert_arch(ref, "arm64");
  /* Both configs, one shared layer. */
  ck_assert_int_eq(count_in_root("images/sha256", ""), 2);
  ck_assert_int_eq(assert_layers_complete(), 1);

  h_run(&r, &(struct h_opts){.timeout_ms = PULL_MS},
        H_ARGV("pull", "--platform", "linux/s390x", ref));
  assert_failed(&r);
  H_ASSERT_HAS(&r, err, "s390x");
  h_res_free(&r);
  assert_arch(ref, "arm64"); /* the failed pull changed nothing */
}
END_TEST

START_TEST(test_oci_index_with_attestation)
{
  char ref[128];
  struct h_res r;

  need(&reg_plain);
  h_fmt(ref, sizeof ref, "%s/t/attest:latest", reg_plain.addr);
  pull(&r, ref);
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  assert_arch(ref, "amd64");
  ck_assert_int_eq(count_in_root("images/sha256", ""), 1);
  h_run(&r, &(struct h_opts){.timeout_ms = PULL_MS},
        H_ARGV("run", "--rm", ref, "echo", "from-the-index"));
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "from-the-index\n");
  h_res_free(&r);

  h_run(&r, &(struct h_opts){.timeout_ms = PULL_MS},
        H_ARGV("pull", "--platform", "linux/arm64/v8", ref));
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  assert_arch(ref, "arm64");
}
END_TEST

/* ==== 4. by digest =================================================== */

START_TEST(test_pull_by_digest)
{
  char ref[256], line[256];
  struct h_res r;

  need(&reg_plain);
  h_fmt(ref, sizeof ref, "%s/t/busybox@%s", reg_plain.addr, dg.busybox);
  pull(&r, ref);
  H_ASSERT_STATUS(&r, 0);
  h_fmt(line, sizeof line, "Digest: %s", dg.busybox);
  ck_assert_msg(h_has_line(r.out, line), "no \"%s\":\n%s", line, r.out);
  ck_assert_msg(ends_with_line(r.out, ref), "output does not end with %s:\n%s",
                ref, r.out);
  h_res_free(&r);
  ck_assert_msg(has_tag(ref), "tags.json lacks %s", ref);
  h_run(&r, &(struct h_opts){.timeout_ms = PULL_MS},
        H_ARGV("run", "--rm", ref, "true"));
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
}
END_TEST

START_TEST(test_pull_wrong_digest)
{
  char ref[256];
  struct h_res r;

  need(&reg_plain);
  /* Well-formed, but no such manifest. */
  h_fmt(ref, sizeof ref, "%s/t/busybox@sha256:%064d", reg_plain.addr, 0);
  pull(&r, ref);
  assert_failed(&r);
  H_ASSERT_HAS(&r, err, "sha256:0000000000");
  H_ASSERT_HAS(&r, err, "not found");
  h_res_free(&r);
  assert_store_empty(NULL);

  /* Malformed. */
  h_fmt(ref, sizeof ref, "%s/t/busybox@sha256:abc", reg_plain.addr);
  pull(&r, ref);
  assert_failed(&r);
  h_res_free(&r);
  /* A digest that names another repository's manifest. */
  h_fmt(ref, sizeof ref, "%s/t/busybox@%s", reg_plain.addr, dg.layered);
  pull(&r, ref);
  assert_failed(&r);
  h_res_free(&r);
  assert_store_empty(NULL);
}
END_TEST

/* The manifest bytes differ from their digest (a front server appends a
 * newline but keeps Docker-Content-Digest): by tag and by digest, the pull
 * fails and stores nothing. */
START_TEST(test_tampered_manifest)
{
  struct pf_server s;
  char ref[256];
  struct h_res r;

  need(&reg_plain);
  pf_server_start(&s, "tamper", reg_plain.addr, "--tamper-manifest");
  h_fmt(ref, sizeof ref, "%s/t/busybox:latest", s.addr);
  pull(&r, ref);
  assert_failed(&r);
  H_ASSERT_HAS(&r, err, dg.busybox);
  h_res_free(&r);
  assert_store_empty(NULL);

  h_fmt(ref, sizeof ref, "%s/t/busybox@%s", s.addr, dg.busybox);
  pull(&r, ref);
  assert_failed(&r);
  H_ASSERT_HAS(&r, err, dg.busybox);
  h_res_free(&r);
  assert_store_empty(NULL);
  pf_server_stop(&s);
}
END_TEST

/* ==== 8. registry-mirrors ============================================ */

START_TEST(test_registry_mirror_ubuntu)
{
  char json[256];
  struct h_res r;

  need(&reg_plain);
  h_fmt(json, sizeof json, "{\"registry-mirrors\": [\"http://%s\"]}\n",
        reg_plain.addr);
  pf_write_mocker_config(json);

  /* The exact command, no --rm, as a user types it. */
  h_run(&r, &(struct h_opts){.timeout_ms = PULL_MS},
        H_ARGV("run", "ubuntu:latest", "/bin/sh", "-c", "cat /etc/os-release"));
  H_ASSERT_STATUS(&r, 0);
  ck_assert_msg(h_has_line(r.out, "ID=ubuntu") &&
                    h_has_line(r.out, "MOCKER_TEST_MIRROR=yes"),
                "not the mirror's os-release:\n%s", r.out);
  H_ASSERT_HAS(&r, err, "Unable to find image 'ubuntu:latest' locally");
  h_res_free(&r);
  ck_assert_msg(has_tag("docker.io/library/ubuntu:latest"),
                "tags.json lacks docker.io/library/ubuntu:latest");
  H_RUN(&r, "images");
  H_ASSERT_STATUS(&r, 0);
  ck_assert_msg(images_row(r.out, "ubuntu", "latest"),
                "images lacks ubuntu latest:\n%s", r.out);
  h_res_free(&r);

  /* Now local: no pull. */
  H_RUN(&r, "run", "--rm", "ubuntu", "/bin/sh", "-c", "cat /etc/os-release");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_HAS(&r, out, "ID=ubuntu");
  H_ASSERT_LACKS(&r, err, "Unable to find");
  h_res_free(&r);
  rm_all_containers();
}
END_TEST

/* ==== 12. concurrent pulls =========================================== */

static pid_t spawn_pull(const char *ref, const char *name, int fds[2])
{
  char path[PATH_MAX];

  h_fmt(path, sizeof path, "%s/%s.out", h.host, name);
  fds[0] = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  h_fmt(path, sizeof path, "%s/%s.err", h.host, name);
  fds[1] = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ck_assert(fds[0] >= 0 && fds[1] >= 0);
  return h_spawn(H_ARGV("pull", ref), fds[0], fds[1]);
}

static void wait_pull_ok(pid_t pid, const char *name, int fds[2])
{
  int st = h_wait(pid, PULL_MS);
  char path[PATH_MAX];
  char *out, *err;

  close(fds[0]);
  close(fds[1]);
  h_fmt(path, sizeof path, "%s/%s.out", h.host, name);
  out = h_read_file(path);
  h_fmt(path, sizeof path, "%s/%s.err", h.host, name);
  err = h_read_file(path);
  ck_assert_msg(st == 0, "concurrent pull %s: status %d\n%s\n%s", name, st, out,
                err);
  free(out);
  free(err);
}

START_TEST(test_concurrent_pulls)
{
  char ref[128], name[160];
  int a_fds[2], b_fds[2];
  pid_t a, b;
  struct h_res r;

  need(&reg_plain);
  h_fmt(ref, sizeof ref, "%s/t/layered:v1", reg_plain.addr);
  h_fmt(name, sizeof name, "%s", ref);
  a = spawn_pull(ref, "a", a_fds);
  b = spawn_pull(ref, "b", b_fds);
  wait_pull_ok(a, "a", a_fds);
  wait_pull_ok(b, "b", b_fds);

  ck_assert_msg(has_tag(name), "tags.json lacks %s", name);
  ck_assert_int_eq(tag_count(), 1);
  ck_assert_int_eq(count_in_root("images/sha256", ""), 1);
  ck_assert_int_eq(assert_layers_complete(), 3);
  assert_no_tmp_work();
  H_RUN(&r, "images");
  H_ASSERT_STATUS(&r, 0);
  ck_assert_int_eq(count_substr(r.out, "/t/layered "), 1);
  h_res_free(&r);
  h_run(&r, &(struct h_opts){.timeout_ms = PULL_MS},
        H_ARGV("run", "--rm", ref, "cat", "/data/dir/c.txt"));
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "c\n");
  h_res_free(&r);
}
END_TEST

/* The issue: "two mocker pull of the same image at once both succeed, and
 * the data is downloaded once". Counted at a front server, with the 30 MB
 * layer so that the two pulls overlap. */
START_TEST(test_concurrent_pulls_download_once)
{
  struct pf_server s;
  char ref[128], big[72], needle[200], *log;
  int a_fds[2], b_fds[2];
  pid_t a, b;

  need(&reg_plain);
  pf_server_start(&s, "front", reg_plain.addr, "");
  h_fmt(ref, sizeof ref, "%s/t/big:latest", s.addr);
  a = spawn_pull(ref, "a", a_fds);
  b = spawn_pull(ref, "b", b_fds);
  wait_pull_ok(a, "a", a_fds);
  wait_pull_ok(b, "b", b_fds);
  pf_server_stop(&s);
  ck_assert_int_eq(count_in_root("images/sha256", ""), 1);
  ck_assert_int_eq(assert_layers_complete(), 2);
  assert_no_tmp_work();

  layer_digest("big", "layer2.tar", big);
  h_fmt(needle, sizeof needle,
        "\"method\": \"GET\", \"path\": \"/v2/t/big/blobs/%s\"", big);
  log = pf_server_log(&s);
  ck_assert_msg(count_substr(log, needle) == 1,
                "the 30 MB layer was downloaded %d times by two concurrent "
                "pulls, want once",
                count_substr(log, needle));
  free(log);
}
END_TEST

/* ==== 13. a pull killed mid-download ================================ */

struct killed_ctx {
  const char *log;
  char tmp[PATH_MAX];
};

static bool stalled_mid_layer(void *arg)
{
  struct killed_ctx *k = arg;
  char *log = h_read_file(k->log);
  bool stalled = log && h_contains(log, "\"stalled\"");

  free(log);
  return stalled && count_entries(k->tmp, "layer-") > 0;
}

START_TEST(test_killed_pull_then_retry)
{
  struct pf_server s;
  struct killed_ctx k;
  char ref[128];
  int fds[2], st;
  pid_t pid;
  struct h_res r;

  need(&reg_plain);
  pf_server_start(&s, "front", reg_plain.addr, "--stall-blob-over 10000000");
  h_fmt(ref, sizeof ref, "%s/t/big:latest", s.addr);
  pid = spawn_pull(ref, "killed", fds);
  k.log = s.log;
  root_path(k.tmp, sizeof k.tmp, "tmp");
  ck_assert_msg(h_poll(stalled_mid_layer, &k, 30000),
                "the pull never got halfway through the 30 MB layer");
  kill(pid, SIGKILL);
  st = h_wait(pid, 10000);
  close(fds[0]);
  close(fds[1]);
  ck_assert_int_eq(st, -SIGKILL);

  /* Nothing that looks complete. */
  ck_assert_int_eq(tag_count(), 0);
  ck_assert_int_eq(count_in_root("images/sha256", ""), 0);
  assert_layers_complete();
  {
    char where[PATH_MAX];

    ck_assert_msg(!find_layer_with("data/random.bin", where, sizeof where),
                  "the interrupted layer was published: %s", where);
  }

  /* The next pull finishes the job (no stall this time). */
  pull(&r, ref);
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  ck_assert_int_eq(assert_layers_complete(), 2);
  ck_assert_int_eq(count_in_root("images/sha256", ""), 1);
  h_run(&r, &(struct h_opts){.timeout_ms = PULL_MS},
        H_ARGV("run", "--rm", ref, "sh", "-c", "wc -c < /data/random.bin"));
  H_ASSERT_STATUS(&r, 0);
  ck_assert_msg(strtoul(r.out, NULL, 10) == BIG_LAYER_BYTES,
                "random.bin has %s bytes", r.out);
  h_res_free(&r);

  /* prune clears what the killed pull left in tmp/ and keeps the image. */
  H_RUN(&r, "image", "prune");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  assert_no_tmp_work();
  ck_assert_int_eq(assert_layers_complete(), 2);
  pf_server_stop(&s);
}
END_TEST

/* ==== 14. rmi while a container uses the image ====================== */

START_TEST(test_rmi_in_use)
{
  char ref[128], name[160], cfg[72], ids[2][65], imgdir[PATH_MAX];
  struct h_res r;

  need(&reg_plain);
  h_fmt(ref, sizeof ref, "%s/t/rmi", reg_plain.addr);
  h_fmt(name, sizeof name, "%s:latest", ref);
  config_digest("rmi", cfg);
  h_fmt(imgdir, sizeof imgdir, "%s/images/sha256/%s", h.root, cfg + 7);
  pull_ok(ref);
  ck_assert_int_eq(assert_layers_complete(), 2);

  /* A stopped container (no --rm) holds the image. */
  H_RUN(&r, "run", ref, "cat", "/data/rmi.txt");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  ck_assert_int_eq(h_containers(h.root, ids, 2), 1);

  H_RUN(&r, "rmi", ref);
  assert_failed(&r);
  H_ASSERT_HAS(&r, err, "container");
  h_res_free(&r);
  ck_assert_msg(has_tag(name) && h_exists(imgdir), "refused rmi removed it");
  ck_assert_int_eq(assert_layers_complete(), 2);

  /* -f untags, keeps what the container needs. */
  H_RUN(&r, "rmi", "-f", ref);
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_HAS(&r, out, "Untagged:");
  h_res_free(&r);
  ck_assert_msg(!has_tag(name), "rmi -f left the tag");
  ck_assert_msg(h_exists(imgdir), "rmi -f removed the image a container uses");
  ck_assert_int_eq(assert_layers_complete(), 2);

  /* Container gone: rmi by id deletes the image and its layers. */
  H_RUN(&r, "rm", ids[0]);
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  H_RUN(&r, "rmi", cfg + 7);
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_HAS(&r, out, "Deleted:");
  h_res_free(&r);
  ck_assert_msg(!h_exists(imgdir), "%s still there", imgdir);
  ck_assert_int_eq(count_in_root("layers/sha256", ""), 0);

  /* And without -f: refused, then after rm a plain rmi by name. */
  pull_ok(ref);
  H_RUN(&r, "run", ref, "true");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  ck_assert_int_eq(h_containers(h.root, ids, 2), 1);
  H_RUN(&r, "rmi", name);
  assert_failed(&r);
  h_res_free(&r);
  H_RUN(&r, "rm", ids[0]);
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  H_RUN(&r, "rmi", name);
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_HAS(&r, out, "Deleted:");
  h_res_free(&r);
  ck_assert_int_eq(tag_count(), 0);
  ck_assert_int_eq(count_in_root("images/sha256", ""), 0);
  ck_assert_int_eq(count_in_root("layers/sha256", ""), 0);
}
END_TEST

/* ==== 16. 429 ======================================================== */

START_TEST(test_rate_limit_429)
{
  struct pf_server s;
  char ref[128];
  struct h_res r;
  long t0;

  need(&reg_plain);
  pf_server_start(&s, "front", reg_plain.addr, "--fail '429:1000:/manifests/'");
  h_fmt(ref, sizeof ref, "%s/t/busybox", s.addr);
  t0 = h_now_ms();
  pull(&r, ref);
  assert_failed(&r);
  H_ASSERT_HAS(&r, err, "429");
  H_ASSERT_HAS(&r, err, "rate limit");
  h_res_free(&r);
  ck_assert_msg(h_now_ms() - t0 < 20000, "a 429 took %ld ms to report",
                h_now_ms() - t0);
  assert_store_empty(NULL);
  pf_server_stop(&s);
}
END_TEST

/* ==== 17. transient failures ========================================= */

/* Two 503s in a row, on the manifest, the config blob or the layer blob:
 * retried with backoff, and the pull succeeds. */
static const char *const retry_targets[] = {"manifest", "config", "layer"};

START_TEST(test_retry_5xx)
{
  const char *what = retry_targets[_i];
  struct pf_server s;
  char ref[128], digest[72], args[256], *log;
  struct h_res r;

  need(&reg_plain);
  if (!strcmp(what, "manifest"))
    h_fmt(args, sizeof args, "--fail '503:2:/manifests/'");
  else {
    if (!strcmp(what, "config"))
      config_digest("busybox", digest);
    else
      layer_digest("busybox", "layer.tar.gz", digest);
    h_fmt(args, sizeof args, "--fail '503:2:/blobs/%s'", digest);
  }
  pf_server_start(&s, "front", reg_plain.addr, args);
  h_fmt(ref, sizeof ref, "%s/t/busybox", s.addr);
  pull(&r, ref);
  pf_server_stop(&s);
  log = pf_server_log(&s);
  ck_assert_msg(count_substr(log, "\"status\": 503") == 2,
                "want 2 injected 503s (%s) in the log:\n%s", what, log);
  free(log);
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  ck_assert_int_eq(assert_layers_complete(), 1);
  ck_assert_int_eq(tag_count(), 1);
}
END_TEST

START_TEST(test_retry_5xx_on_ping)
{
  struct pf_server s;
  char ref[128];
  struct h_res r;

  need(&reg_plain);
  pf_server_start(&s, "front", reg_plain.addr, "--fail '503:2:^/v2/$'");
  h_fmt(ref, sizeof ref, "%s/t/busybox", s.addr);
  pull(&r, ref);
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  pf_server_stop(&s);
  ck_assert_int_eq(tag_count(), 1);
}
END_TEST

/* A download dropped halfway resumes with Range. */
START_TEST(test_resume_with_range)
{
  struct pf_server s;
  char ref[128], *log;
  struct h_res r;

  need(&reg_plain);
  pf_server_start(&s, "front", reg_plain.addr, "--cut-blob-over 500000");
  h_fmt(ref, sizeof ref, "%s/t/busybox", s.addr);
  pull(&r, ref);
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  pf_server_stop(&s);
  log = pf_server_log(&s);
  ck_assert_msg(h_contains(log, "\"cut\""), "the server never cut:\n%s", log);
  ck_assert_msg(h_contains(log, "\"range\": \"bytes="),
                "the retry did not ask for a Range:\n%s", log);
  free(log);
  ck_assert_int_eq(assert_layers_complete(), 1);
  h_run(&r, &(struct h_opts){.timeout_ms = PULL_MS},
        H_ARGV("run", "--rm", ref, "true"));
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
}
END_TEST

/* ==== 9. integrity ==================================================== */

/* Overwrites len bytes at offset in a blob of the integrity registry. */
static void corrupt_blob(const char *digest, long offset, const char *bytes)
{
  char path[PATH_MAX];
  int fd;

  pf_blob_path(&reg_integ, digest, path, sizeof path);
  fd = open(path, O_WRONLY | O_CLOEXEC);
  ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
  ck_assert(pwrite(fd, bytes, strlen(bytes), offset) == (ssize_t)strlen(bytes));
  close(fd);
}

/* The failure names the blob (at least its short id). */
static void assert_names_blob(const struct h_res *r, const char *digest)
{
  char shortid[20];

  snprintf(shortid, sizeof shortid, "%.12s", digest + 7);
  ck_assert_msg(h_contains(r->err, shortid),
                "`%s`: the error does not name blob %s:\n%s", h_last_cmd(),
                digest, r->err);
}

START_TEST(test_corrupt_layer_digest_mismatch)
{
  char ref[128], digest[72];
  struct h_res r;

  need(&reg_integ);
  /* A plain-tar layer with its file content changed: still a valid tar,
   * so only the digest can tell. */
  layer_digest("corrupt-tar", "layer1.tar", digest);
  corrupt_blob(digest, 1024 + 100, "CORRUPTED");
  h_fmt(ref, sizeof ref, "%s/t/corrupt-tar", reg_integ.addr);
  pull(&r, ref);
  assert_failed(&r);
  H_ASSERT_HAS(&r, err, digest);
  H_ASSERT_HAS(&r, err, "mismatch");
  h_res_free(&r);
  assert_store_empty(NULL);
}
END_TEST

START_TEST(test_corrupt_gzip_layer)
{
  char ref[128], digest[72];
  struct h_res r;

  need(&reg_integ);
  layer_digest("corrupt-gz", "layer1.tar.gz", digest);
  corrupt_blob(digest, 200, "\xff\x00\xff\x00garbage\xff");
  h_fmt(ref, sizeof ref, "%s/t/corrupt-gz", reg_integ.addr);
  pull(&r, ref);
  assert_failed(&r);
  assert_names_blob(&r, digest);
  h_res_free(&r);
  assert_store_empty(NULL);
}
END_TEST

START_TEST(test_truncated_layer)
{
  char ref[128], digest[72], path[PATH_MAX];
  struct stat st;
  struct h_res r;

  need(&reg_integ);
  layer_digest("truncated", "layer1.tar.gz", digest);
  pf_blob_path(&reg_integ, digest, path, sizeof path);
  ck_assert(stat(path, &st) == 0);
  ck_assert_msg(truncate(path, st.st_size / 2) == 0, "truncate %s", path);
  h_fmt(ref, sizeof ref, "%s/t/truncated", reg_integ.addr);
  pull(&r, ref);
  assert_failed(&r);
  assert_names_blob(&r, digest);
  h_res_free(&r);
  assert_store_empty(NULL);
}
END_TEST

START_TEST(test_config_wrong_size)
{
  char ref[128], dir[PATH_MAX], cfg[72];
  char *out;
  struct h_res r;

  need(&reg_integ);
  pf_img(dir, sizeof dir, "badsize");
  out =
      pf_sh_ok("set -e; cd '%s'; for b in config.json layer1.tar.gz; do "
               "'%s/push.sh' --blob '%s' t/badsize $b >/dev/null; done; "
               "'%s/push.sh' --manifest '%s' t/badsize latest manifest.json "
               "application/vnd.docker.distribution.manifest.v2+json",
               dir, pf_scripts(), reg_integ.addr, pf_scripts(), reg_integ.addr);
  free(out);
  config_digest("badsize", cfg);
  h_fmt(ref, sizeof ref, "%s/t/badsize", reg_integ.addr);
  pull(&r, ref);
  assert_failed(&r);
  assert_names_blob(&r, cfg);
  h_res_free(&r);
  assert_store_empty(NULL);
}
END_TEST

START_TEST(test_wrong_diff_id)
{
  char ref[128];
  struct h_res r;

  need(&reg_integ);
  h_fmt(ref, sizeof ref, "%s/t/baddiffid", reg_integ.addr);
  pull(&r, ref);
  assert_failed(&r);
  H_ASSERT_HAS(&r, err, "diff_id");
  h_res_free(&r);
  assert_store_empty(NULL);
}
END_TEST

/* ==== 11. decompression bomb ======================================== */

START_TEST(test_decompression_bomb_limit)
{
  char ref[128];
  struct h_res r;

  need(&reg_integ);
  h_fmt(ref, sizeof ref, "%s/t/bomb", reg_integ.addr);
  setenv("MOCKER_MAX_LAYER_SIZE", "1000000", 1);
  pull(&r, ref);
  assert_failed(&r);
  H_ASSERT_HAS(&r, err, "limit");
  h_res_free(&r);
  assert_store_empty(NULL);

  /* The image itself is fine: without the limit it pulls. */
  unsetenv("MOCKER_MAX_LAYER_SIZE");
  pull(&r, ref);
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  ck_assert_int_eq(assert_layers_complete(), 1);
}
END_TEST

/* ==== 10. hostile layers ============================================= */

static const char *const hostile_cases[] = {
    "hostile-dotdot",          "hostile-abs",
    "hostile-symlink-abs",     "hostile-symlink-rel",
    "hostile-symlink-dir",     "hostile-symlink-file",
    "hostile-symlink-chmod",   "hostile-hardlink-rel",
    "hostile-hardlink-abs",    "hostile-hardlink-symlink",
    "hostile-whiteout-dotdot", "hostile-whiteout-symlink",
    "hostile-opaque-symlink",  "hostile-across",
};

struct scan {
  const char *token;
  const char *layers; /* root/layers/sha256/ */
  char bad[4096];
  size_t off;
};

static struct scan *scan_ctx;

/* A name with the token is fine only inside a published layer's diff/. */
static int scan_entry(const char *path, const struct stat *st, int flag,
                      struct FTW *ftw)
{
  struct scan *s = scan_ctx;
  const char *base = path + ftw->base;

  (void)st;
  (void)flag;
  if (!strstr(base, s->token))
    return 0;
  if (!strncmp(path, s->layers, strlen(s->layers)) &&
      strstr(path + strlen(s->layers), "/diff/"))
    return 0;
  s->off +=
      (size_t)snprintf(s->bad + s->off, sizeof s->bad - s->off, "%s\n", path);
  if (s->off >= sizeof s->bad)
    s->off = sizeof s->bad - 1;
  return 0;
}

static void assert_top_level_clean(const char *dir, const char *token)
{
  DIR *d = opendir(dir);
  struct dirent *e;

  while (d && (e = readdir(d)))
    ck_assert_msg(!strstr(e->d_name, token), "escaped into %s: %s", dir,
                  e->d_name);
  if (d)
    closedir(d);
}

START_TEST(test_hostile_layer)
{
  const char *name = hostile_cases[_i];
  char token[160], victim[PATH_MAX], secret[PATH_MAX], out[PATH_MAX];
  char img[PATH_MAX + 64], ref[256], repo[128], layers[PATH_MAX];
  char digest[100], xv[8], *text;
  struct stat st;
  struct h_res r;
  struct scan s = {0};
  bool refused;

  need(&reg_integ);
  /* Unique names: the test's own dir names. */
  h_fmt(token, sizeof token, "%s", h.tag);
  for (char *p = token; *p; p++)
    if (*p == '/')
      *p = '-';
  h_fmt(victim, sizeof victim, "%s/victim", h.host);
  h_fmt(secret, sizeof secret, "%s/secret.txt", victim);
  ck_assert(mkdir(victim, 0755) == 0);
  chmod(victim, 0755);
  h_write_file(secret, "secret\n");
  chmod(secret, 0600);
  h_fmt(out, sizeof out, "%s/hostile", h.host);
  free(pf_sh_ok("python3 '%s/make-test-images.py' hostile '%s' '%s' '%s'",
                pf_scripts(), out, victim, token));
  h_fmt(img, sizeof img, "%s/%s", out, name);
  h_fmt(repo, sizeof repo, "t/%s", name);
  pf_push_ok(&reg_integ, "", repo, "latest", img, digest, sizeof digest);

  h_fmt(ref, sizeof ref, "%s/%s", reg_integ.addr, repo);
  pull(&r, ref);
  if (r.status != 0) {
    assert_failed(&r);
    fprintf(stderr, "check_pull: %s: refused: %s", name, r.err);
    ck_assert_msg(tag_count() == 0, "failed pull left a tag");
    assert_no_tmp_work();
  }
  refused = r.status != 0;
  h_res_free(&r);

  /* The victim is untouched. */
  ck_assert_int_eq(count_entries(victim, ""), 1);
  ck_assert(lstat(victim, &st) == 0);
  ck_assert_msg((st.st_mode & 07777) == 0755, "victim dir mode now %o",
                st.st_mode & 07777);
  ck_assert_msg(lgetxattr(victim, "trusted.overlay.opaque", xv, sizeof xv) < 0,
                "the victim dir was made opaque");
  ck_assert(lstat(secret, &st) == 0);
  ck_assert_msg(S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0600 &&
                    st.st_nlink == 1 && st.st_uid == 0,
                "secret.txt changed: mode %o, %lu links", st.st_mode,
                (unsigned long)st.st_nlink);
  text = h_read_file(secret);
  ck_assert_msg(text && !strcmp(text, "secret\n"), "secret.txt now \"%s\"",
                text);
  free(text);

  /* Nothing outside the state root, nothing in it outside a layer. */
  assert_top_level_clean("/tmp", token);
  assert_top_level_clean("/", token);
  ck_assert_int_eq(count_entries(h.dir, ""), 2); /* root/ and host/ */
  h_fmt(layers, sizeof layers, "%s/layers/sha256/", h.root);
  s.token = token;
  s.layers = layers;
  scan_ctx = &s;
  nftw(h.dir, scan_entry, 32, FTW_PHYS | FTW_MOUNT);
  ck_assert_msg(s.off == 0, "%s wrote outside its layer:\n%s", name, s.bad);
  assert_layers_complete();
  if (!refused)
    fprintf(stderr, "check_pull: %s: pulled, contained in the layer\n", name);
}
END_TEST

/* ==== 5. basic auth =================================================== */

START_TEST(test_basic_auth)
{
  const char *hosts[] = {reg_basic.addr, NULL};
  char ref[128], path[PATH_MAX];
  struct h_res r;

  need(&reg_basic);
  h_fmt(ref, sizeof ref, "%s/t/busybox", reg_basic.addr);
  pull(&r, ref);
  assert_failed(&r);
  H_ASSERT_HAS(&r, err, "login");
  h_res_free(&r);
  assert_store_empty(NULL);

  /* Wrong password. */
  h_fmt(path, sizeof path, "%s/config.json", getenv("DOCKER_CONFIG"));
  {
    char json[512];

    h_fmt(json, sizeof json,
          "{\"auths\": {\"%s\": {\"auth\": \"dGVzdGVyOndyb25n\"}}}\n",
          reg_basic.addr);
    h_write_file(path, json);
  }
  pull(&r, ref);
  assert_failed(&r);
  h_res_free(&r);
  assert_store_empty(NULL);

  pf_write_docker_auth(hosts);
  pull(&r, ref);
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  ck_assert_int_eq(assert_layers_complete(), 1);
  ck_assert_int_eq(tag_count(), 1);
}
END_TEST

/* ==== 6. TLS ========================================================== */

START_TEST(test_tls)
{
  char ref[128], dir[PATH_MAX], src[PATH_MAX], json[256];
  struct h_res r;

  need(&reg_tls);
  h_fmt(ref, sizeof ref, "%s/t/busybox", reg_tls.addr);
  pull(&r, ref);
  assert_failed(&r);
  H_ASSERT_HAS(&r, err, "certificate");
  h_res_free(&r);
  assert_store_empty(NULL);

  /* certs.d/HOST:PORT/ca.crt */
  h_fmt(dir, sizeof dir, "%s/certs.d", pf_mocker_config_dir());
  ck_assert(mkdir(dir, 0755) == 0);
  h_fmt(dir, sizeof dir, "%s/certs.d/%s", pf_mocker_config_dir(), reg_tls.addr);
  ck_assert(mkdir(dir, 0755) == 0);
  h_fmt(src, sizeof src, "%s/ca.crt", reg_tls.dir);
  free(pf_sh_ok("cp '%s' '%s/ca.crt'", src, dir));
  pull(&r, ref);
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  ck_assert_int_eq(assert_layers_complete(), 1);

  /* No CA, but listed in insecure-registries; from an empty store. */
  free(pf_sh_ok("rm -r '%s'", dir));
  H_RUN(&r, "rmi", ref);
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  ck_assert_int_eq(count_in_root("layers/sha256", ""), 0);
  pull(&r, ref);
  assert_failed(&r);
  h_res_free(&r);
  h_fmt(json, sizeof json, "{\"insecure-registries\": [\"%s\"]}\n",
        reg_tls.addr);
  pf_write_mocker_config(json);
  pull(&r, ref);
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  ck_assert_int_eq(assert_layers_complete(), 1);
}
END_TEST

/* ==== 7. token auth =================================================== */

static long file_size(const char *path)
{
  struct stat st;

  return stat(path, &st) == 0 ? (long)st.st_size : 0;
}

START_TEST(test_token_auth)
{
  const char *hosts[] = {reg_token.addr, NULL};
  char ref[128], log[PATH_MAX], *text;
  long before;
  struct h_res r;

  need(&reg_token);
  h_fmt(log, sizeof log, "%s/token.log", reg_token.dir);
  before = file_size(log);

  h_fmt(ref, sizeof ref, "%s/public/busybox", reg_token.addr);
  pull(&r, ref);
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);

  h_fmt(ref, sizeof ref, "%s/private/busybox", reg_token.addr);
  pull(&r, ref);
  assert_failed(&r);
  H_ASSERT_HAS(&r, err, "access denied");
  h_res_free(&r);
  h_fmt(ref, sizeof ref, "%s/private/busybox:latest", reg_token.addr);
  ck_assert_msg(!has_tag(ref), "denied pull left a tag");

  pf_write_docker_auth(hosts);
  pull(&r, ref);
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  ck_assert_int_eq(tag_count(), 2);

  text = h_read_file(log);
  ck_assert_ptr_nonnull(text);
  ck_assert_msg(
      h_contains(text + before, "user=- scopes=repository:public/busybox:pull"),
      "no anonymous token request for public/busybox:\n%s", text + before);
  ck_assert_msg(
      h_contains(text + before,
                 "user=tester scopes=repository:private/busybox:pull"),
      "no authenticated token request for private/busybox:\n%s", text + before);
  free(text);

  /* A wrong password is refused by the token server. */
  {
    char json[512], path[PATH_MAX];

    h_fmt(path, sizeof path, "%s/config.json", getenv("DOCKER_CONFIG"));
    h_fmt(json, sizeof json,
          "{\"auths\": {\"%s\": {\"auth\": \"dGVzdGVyOndyb25n\"}}}\n",
          reg_token.addr);
    h_write_file(path, json);
  }
  H_RUN(&r, "rmi", ref);
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  pull(&r, ref);
  assert_failed(&r);
  h_res_free(&r);
  ck_assert_msg(!has_tag(ref), "pull with a wrong password left a tag");
}
END_TEST

/* The token server's answer has only "access_token" (no "token"). */
START_TEST(test_token_access_token_only)
{
  const char *hosts[] = {reg_token_at.addr, NULL};
  char ref[128], path[PATH_MAX], *text;
  struct h_res r;

  need(&reg_token_at);
  h_fmt(path, sizeof path, "%s/token.log", reg_token_at.dir);
  pf_write_docker_auth(hosts);
  h_fmt(ref, sizeof ref, "%s/private/busybox", reg_token_at.addr);
  pull(&r, ref);
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  ck_assert_int_eq(tag_count(), 1);
  text = h_read_file(path);
  ck_assert_msg(text && h_contains(text, "user=tester scopes=repository:"
                                         "private/busybox:pull"),
                "no token request in %s:\n%s", path, text);
  free(text);
}
END_TEST

/* ==== 15. redirects to blob storage on another host ================== */

static const int redirect_codes[] = {307, 302};

START_TEST(test_redirect_drops_authorization)
{
  struct pf_server s;
  char args[64], ref[128], *log;
  const char *hosts[2] = {NULL, NULL};
  struct h_res r;

  need(&reg_token);
  h_fmt(args, sizeof args, "--redirect %d", redirect_codes[_i]);
  pf_server_start(&s, "front", reg_token.addr, args);
  hosts[0] = s.addr;
  pf_write_docker_auth(hosts);
  h_fmt(ref, sizeof ref, "%s/private/busybox", s.addr);
  pull(&r, ref);
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  pf_server_stop(&s);
  ck_assert_int_eq(assert_layers_complete(), 1);

  log = pf_server_log(&s);
  /* Config and layer both came from the blob host... */
  ck_assert_msg(count_substr(log, "\"server\": \"blob\"") >= 2 &&
                    count_substr(log, "\"note\": \"redirect ") >= 2,
                "blobs were not fetched through the redirect:\n%s", log);
  /* ...the registry saw the token... */
  ck_assert_msg(h_contains(log,
                           "\"server\": \"front\", \"method\": \"GET\", "
                           "\"path\": \"/v2/private/busybox/blobs/sha256:"),
                "no blob GET at the front:\n%s", log);
  /* ...and the blob host never saw an Authorization header. */
  for (char *line = strtok(log, "\n"); line; line = strtok(NULL, "\n")) {
    if (h_contains(line, "\"server\": \"blob\""))
      ck_assert_msg(h_contains(line, "\"auth\": false"),
                    "Authorization leaked to the blob host: %s", line);
    if (h_contains(line, "\"note\": \"redirect "))
      ck_assert_msg(h_contains(line, "\"auth\": true"),
                    "the registry got a blob GET without the token: %s", line);
  }
  free(log);
  h_run(&r, &(struct h_opts){.timeout_ms = PULL_MS},
        H_ARGV("run", "--rm", ref, "true"));
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
}
END_TEST

/* ==== the suite ======================================================= */

static TCase *pull_tcase(const char *name, void (*setup)(void),
                         void (*teardown)(void))
{
  TCase *tc = h_tcase(name, TEST_TIMEOUT_S);

  tcase_add_unchecked_fixture(tc, setup, teardown);
  tcase_add_checked_fixture(tc, pf_test_setup, NULL);
  return tc;
}

/* ==== images with many layers, save/load, login ====================== */

/* 100 layers: overlay's mount options no longer fit one page, so the
 * rootfs is mounted with the new mount API's "lowerdir+". */
START_TEST(test_hundred_layers)
{
  char dir[PATH_MAX], ref[128];
  struct h_res r;

  need(&reg_plain);
  h_fmt(dir, sizeof dir, "%s/l100", h.host);
  free(pf_sh_ok(
      "set -e; mkdir -p '%s'; cd '%s';"
      "cp '%s/../../build/busybox-image.tar' l000.tar;"
      "for i in $(seq 1 99); do mkdir -p d$i/files;"
      "  echo \"layer $i\" > d$i/files/f$i;"
      "  tar --owner=0 --group=0 -C d$i -cf $(printf 'l%%03d.tar' $i) files;"
      "done;"
      "ids=$(for f in l*.tar; do printf '\"sha256:%%s\",' "
      "  $(sha256sum $f | cut -d' ' -f1); done);"
      "printf '{\"architecture\":\"amd64\",\"os\":\"linux\","
      "\"config\":{\"Cmd\":[\"/bin/sh\"]},\"rootfs\":{\"type\":"
      "\"layers\",\"diff_ids\":[%%s]}}' \"${ids%%,}\" > config.json;"
      "bash '%s/push.sh' %s t/l100 latest config.json l*.tar >/dev/null",
      dir, dir, pf_scripts(), pf_scripts(), reg_plain.addr));
  h_fmt(ref, sizeof ref, "%s/t/l100", reg_plain.addr);
  pull(&r, ref);
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  ck_assert_int_eq(assert_layers_complete(), 100);
  h_run(&r, &(struct h_opts){.timeout_ms = PULL_MS},
        H_ARGV("run", "--rm", ref, "sh", "-c",
               "ls /files | wc -l; cat /files/f1 /files/f99"));
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "99\nlayer 1\nlayer 99\n");
  h_res_free(&r);
}
END_TEST

/* save writes an archive that load (here) accepts, into another root. */
START_TEST(test_save_load_roundtrip)
{
  char ref[128], archive[PATH_MAX], root2[PATH_MAX];
  struct h_opts plain = {
      .no_root_flag = true, .no_root_env = true, .timeout_ms = PULL_MS};
  struct h_res r;
  char *list;

  need(&reg_plain);
  h_fmt(ref, sizeof ref, "%s/t/layered:v1", reg_plain.addr);
  pull(&r, ref);
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  h_fmt(archive, sizeof archive, "%s/saved.tar", h.host);
  H_RUN(&r, "save", "-o", archive, ref);
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  list = pf_sh_ok("tar tf '%s' | sort | tr '\\n' ' '", archive);
  ck_assert_msg(strstr(list, "manifest.json") && strstr(list, "index.json") &&
                    strstr(list, "oci-layout"),
                "archive lacks docker or OCI index files: %s", list);
  free(list);
  h_fmt(root2, sizeof root2, "%s/root2", h.host);
  h_run(&r, &plain, H_ARGV("--root", root2, "load", "-i", archive));
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_HAS(&r, out, "Loaded image:");
  h_res_free(&r);
  h_run(&r, &plain,
        H_ARGV("--root", root2, "run", "--rm", "--pull=never", ref, "sh", "-c",
               "ls /data/dir; test ! -e /data/a.txt && echo gone"));
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_HAS(&r, out, "c.txt");
  H_ASSERT_HAS(&r, out, "gone");
  h_res_free(&r);
  free(pf_sh_ok("rm -rf '%s'", root2));
}
END_TEST

START_TEST(test_login_logout)
{
  char ref[128], path[PATH_MAX];
  struct h_res r;
  char *cfg;

  need(&reg_basic);
  h_fmt(ref, sizeof ref, "%s/t/busybox", reg_basic.addr);
  h_fmt(path, sizeof path, "%s/config.json", getenv("DOCKER_CONFIG"));
  H_RUN_IN(&r, "wrong\n", "login", "-u", "tester", "--password-stdin",
           reg_basic.addr);
  assert_failed(&r);
  H_ASSERT_HAS(&r, err, "incorrect username or password");
  h_res_free(&r);
  ck_assert_msg(!h_exists(path), "a failed login wrote %s", path);
  H_RUN_IN(&r, "secret\n", "login", "-u", "tester", "--password-stdin",
           reg_basic.addr);
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_HAS(&r, out, "Login Succeeded");
  h_res_free(&r);
  cfg = h_read_file(path);
  ck_assert_msg(cfg && strstr(cfg, reg_basic.addr) &&
                    strstr(cfg, "dGVzdGVyOnNlY3JldA=="),
                "credentials not in %s: %s", path, cfg);
  free(cfg);
  pull(&r, ref);
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  H_RUN(&r, "logout", reg_basic.addr);
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  cfg = h_read_file(path);
  ck_assert_msg(cfg && !strstr(cfg, reg_basic.addr), "logout left: %s", cfg);
  free(cfg);
}
END_TEST

/* A layer that lists files but not their parent directories: the parents
 * keep the attributes they have below (as applying the layer onto the
 * lower tree would), so /tmp stays 1777 and /root 0700. */
START_TEST(test_implied_directories_keep_lower_attributes)
{
  char dir[PATH_MAX], ref[128];
  struct h_res r;

  need(&reg_plain);
  h_fmt(dir, sizeof dir, "%s/implied", h.host);
  free(pf_sh_ok(
      "set -e; mkdir -p '%s/tmp' '%s/root/new'; cd '%s';"
      "echo hi > tmp/t.txt; echo deep > root/new/deep.txt;"
      "cp '%s/../../build/busybox-image.tar' l1.tar;"
      "tar --owner=0 --group=0 -cf l2.tar tmp/t.txt root/new/deep.txt;"
      "d1=$(sha256sum l1.tar | cut -d' ' -f1);"
      "d2=$(sha256sum l2.tar | cut -d' ' -f1);"
      "printf '{\"architecture\":\"amd64\",\"os\":\"linux\","
      "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":"
      "[\"sha256:%%s\",\"sha256:%%s\"]}}' $d1 $d2 > config.json;"
      "bash '%s/push.sh' %s t/implied v1 config.json l1.tar l2.tar >/dev/null",
      dir, dir, dir, pf_scripts(), pf_scripts(), reg_plain.addr));
  h_fmt(ref, sizeof ref, "%s/t/implied:v1", reg_plain.addr);
  h_run(&r, &(struct h_opts){.timeout_ms = PULL_MS},
        H_ARGV("run", "--rm", ref, "stat", "-c", "%a %u:%g %n", "/tmp", "/root",
               "/root/new"));
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "1777 0:0 /tmp\n700 0:0 /root\n755 0:0 /root/new\n");
  h_res_free(&r);
}
END_TEST

/* A full disk: the pull fails naming the file and the reason, and the
 * store keeps no layer, image or unpack work. */
START_TEST(test_full_disk)
{
  char ref[128], small[PATH_MAX], root[PATH_MAX];
  struct h_opts opts = {
      .no_root_flag = true, .no_root_env = true, .timeout_ms = PULL_MS};
  struct h_res r;
  char *left;

  need(&reg_plain);
  h_fmt(small, sizeof small, "%s/small", h.host);
  h_fmt(root, sizeof root, "%s/root", small);
  free(pf_sh_ok("mkdir -p '%s' && mount -t tmpfs -o size=1500k tmpfs '%s'",
                small, small));
  h_fmt(ref, sizeof ref, "%s/t/busybox", reg_plain.addr);
  h_run(&r, &opts, H_ARGV("--root", root, "pull", ref));
  left = pf_sh_ok("find '%s/layers/sha256' '%s/images/sha256' '%s/tmp' "
                  "-mindepth 1 -maxdepth 1 ! -name 'lock-*'",
                  root, root, root);
  free(pf_sh_ok("umount '%s'", small));
  ck_assert_msg(r.status != 0, "pull into a full disk exited 0");
  H_ASSERT_HAS(&r, err, "No space left on device");
  h_res_free(&r);
  ck_assert_msg(left[0] == '\0', "the full store kept:\n%s", left);
  free(left);
}
END_TEST

static Suite *pull_suite(void)
{
  Suite *s = suite_create("pull");
  TCase *tc;

  tc = pull_tcase("plain", plain_setup, plain_teardown);
  tcase_add_test(tc, test_pull_plain);
  tcase_add_test(tc, test_pull_layered);
  tcase_add_test(tc, test_layered_rootfs_matches_umoci);
  tcase_add_test(tc, test_manifest_list_platforms);
  tcase_add_test(tc, test_oci_index_with_attestation);
  tcase_add_test(tc, test_pull_by_digest);
  tcase_add_test(tc, test_pull_wrong_digest);
  tcase_add_test(tc, test_tampered_manifest);
  tcase_add_test(tc, test_registry_mirror_ubuntu);
  tcase_add_test(tc, test_concurrent_pulls);
  tcase_add_test(tc, test_concurrent_pulls_download_once);
  tcase_add_test(tc, test_killed_pull_then_retry);
  tcase_add_test(tc, test_rmi_in_use);
  tcase_add_test(tc, test_rate_limit_429);
  tcase_add_loop_test(tc, test_retry_5xx, 0,
                      (int)(sizeof retry_targets / sizeof *retry_targets));
  tcase_add_test(tc, test_retry_5xx_on_ping);
  tcase_add_test(tc, test_resume_with_range);
  tcase_add_test(tc, test_hundred_layers);
  tcase_add_test(tc, test_implied_directories_keep_lower_attributes);
  tcase_add_test(tc, test_full_disk);
  tcase_add_test(tc, test_save_load_roundtrip);
  suite_add_tcase(s, tc);

  tc = pull_tcase("integrity", integ_setup, integ_teardown);
  tcase_add_test(tc, test_corrupt_layer_digest_mismatch);
  tcase_add_test(tc, test_corrupt_gzip_layer);
  tcase_add_test(tc, test_truncated_layer);
  tcase_add_test(tc, test_config_wrong_size);
  tcase_add_test(tc, test_wrong_diff_id);
  tcase_add_test(tc, test_decompression_bomb_limit);
  tcase_add_loop_test(tc, test_hostile_layer, 0,
                      (int)(sizeof hostile_cases / sizeof *hostile_cases));
  suite_add_tcase(s, tc);

  tc = pull_tcase("basic", basic_setup, basic_teardown);
  tcase_add_test(tc, test_basic_auth);
  tcase_add_test(tc, test_login_logout);
  suite_add_tcase(s, tc);

  tc = pull_tcase("tls", tls_setup, tls_teardown);
  tcase_add_test(tc, test_tls);
  suite_add_tcase(s, tc);

  tc = pull_tcase("token", token_setup, token_teardown);
  tcase_add_test(tc, test_token_auth);
  tcase_add_test(tc, test_token_access_token_only);
  tcase_add_loop_test(tc, test_redirect_drops_authorization, 0,
                      (int)(sizeof redirect_codes / sizeof *redirect_codes));
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  int status;

  pf_suite_init();
  status = h_main(pull_suite());
  pf_suite_cleanup();
  return status;
}
