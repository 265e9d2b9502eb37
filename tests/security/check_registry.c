/* The registry client against hostile registries (issue 14, findings 7
 * and 9): where credentials may go, deadlines, size caps, downgrades and
 * manifest digests. Every registry here is tests/security/fake_registry.py
 * on its own loopback address (127.0.0.2, .3, .4: three hosts to the
 * client), started by the test itself with its files in h.host, so the
 * harness's cleanup kills it if the test dies. Each test asserts the exit
 * status, what the user is told, what each fake host received (its
 * request log) and that a refused pull left nothing in the store.
 *
 * Finding 7 (containerd CVE-2020-15157's class): registry A redirected a
 * manifest to B, B answered 401 with `Bearer realm="http://C/token"`, and
 * `mocker pull A/x` sent A's Basic credentials to C over plain HTTP. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "pull_fixture.h"

#define TEST_TIMEOUT_S 120
#define PULL_MS 90000
#define SERVER_START_MS 15000
/* What mocker exits with when the pull itself fails. */
#define PULL_FAILED 125
/* base64("tester:secret"), as pf_write_docker_auth and login write it. */
#define BASIC_CREDS "Basic dGVzdGVyOnNlY3JldA=="
/* MOCKER_REGISTRY_TIMEOUT for the deadline tests, and how long a pull
 * may take under it: a blob is retried (resuming) five times. */
#define SHORT_TIMEOUT_S "3"
#define DEADLINE_MS 45000
#define MAX_FAKES 4

struct fake {
  pid_t pid;
  char addr[64]; /* 127.0.0.x:PORT */
  char log[PATH_MAX];
  char tls[PATH_MAX]; /* its CA and certificate, with --tls */
};

static struct fake *running[MAX_FAKES];

/* ---- fake registries ------------------------------------------------ */

/* tests/security/fake_registry.py: next to the source tree make runs
 * from, else relative to $MOCKER (BUILD/mocker). */
static const char *fake_script(void)
{
  static char path[PATH_MAX];
  char guess[PATH_MAX + 64];

  if (realpath("tests/security/fake_registry.py", path))
    return path;
  h_fmt(guess, sizeof guess, "%s/../../tests/security/fake_registry.py",
        h_mocker());
  ck_assert_msg(realpath(guess, path), "fake_registry.py not found (%s)",
                guess);
  return path;
}

static void remember(struct fake *f)
{
  for (int i = 0; i < MAX_FAKES; i++)
    if (!running[i]) {
      running[i] = f;
      return;
    }
  ck_abort_msg("more than %d fake registries", MAX_FAKES);
}

static void exec_fake(const char *cmd, const char *errlog)
{
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  int e = open(errlog, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

  dup2(null, 0);
  dup2(null, 1);
  dup2(e >= 0 ? e : null, 2);
  execl("/bin/bash", "bash", "-c", cmd, (char *)NULL);
  _exit(127);
}

/* Starts fake_registry.py on ip with ARGS (split by the shell), on
 * HTTPS with a CA of its own in f->tls if tls, and waits for its port,
 * with a deadline. */
static void fake_start_as(struct fake *f, const char *name, const char *ip,
                          const char *args, bool tls)
{
  char port_file[PATH_MAX], errlog[PATH_MAX + 8], cmd[8192], *port;
  long deadline = h_now_ms() + SERVER_START_MS;
  int ws;

  memset(f, 0, sizeof *f);
  h_fmt(port_file, sizeof port_file, "%s/%s.port", h.host, name);
  h_fmt(f->log, sizeof f->log, "%s/%s.log", h.host, name);
  h_fmt(f->tls, sizeof f->tls, "%s/%s-tls", h.host, name);
  h_fmt(errlog, sizeof errlog, "%s.err", f->log);
  h_fmt(cmd, sizeof cmd,
        "exec python3 '%s' --bind %s --name %s --port-file '%s' --log '%s' "
        "%s%s%s %s",
        fake_script(), ip, name, port_file, f->log, tls ? "--tls '" : "",
        tls ? f->tls : "", tls ? "'" : "", args ? args : "");
  h_write_file(f->log, "");
  f->pid = fork();
  ck_assert_msg(f->pid >= 0, "fork: %s", strerror(errno));
  if (f->pid == 0)
    exec_fake(cmd, errlog);
  remember(f);
  while (!h_exists(port_file) && h_now_ms() < deadline) {
    if (waitpid(f->pid, &ws, WNOHANG) == f->pid) {
      f->pid = 0;
      ck_abort_msg("fake_registry.py %s exited at start: %s", name,
                   h_read_file(errlog));
    }
    usleep(10000);
  }
  ck_assert_msg(h_exists(port_file), "fake_registry.py %s did not start: %s",
                name, h_read_file(errlog));
  port = h_read_file(port_file);
  h_fmt(f->addr, sizeof f->addr, "%s:%d", ip, atoi(port));
  free(port);
}

static void fake_start(struct fake *f, const char *name, const char *ip,
                       const char *args)
{
  fake_start_as(f, name, ip, args, false);
}

static void fake_stop(struct fake *f)
{
  if (f->pid > 0) {
    kill(f->pid, SIGTERM);
    h_wait(f->pid, 5000);
  }
  f->pid = 0;
}

/* Every fake this test started: before the teardown looks for leftover
 * processes. */
static void stop_all(void)
{
  for (int i = 0; i < MAX_FAKES; i++)
    if (running[i]) {
      fake_stop(running[i]);
      running[i] = NULL;
    }
}

/* Its request log: one JSON object a line (malloc'ed, "" if none). */
static char *fake_log(const struct fake *f)
{
  char *text = h_read_file(f->log);

  return text ? text : strdup("");
}

static int count_substr(const char *hay, const char *needle)
{
  int n = 0;

  for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
    n++;
  return n;
}

/* $MOCKER_CONFIG_DIR/certs.d/ADDR/ca.crt: mocker trusts f's CA. */
static void trust_fake_ca(const struct fake *f)
{
  char dir[PATH_MAX];

  h_fmt(dir, sizeof dir, "%s/certs.d/%s", pf_mocker_config_dir(), f->addr);
  free(pf_sh_ok("mkdir -p '%s' && cp '%s/ca.crt' '%s/ca.crt'", dir, f->tls,
                dir));
}

/* ---- the store -------------------------------------------------------- */

static int count_entries(const char *rel, const char *prefix)
{
  char path[PATH_MAX];
  DIR *d;
  struct dirent *e;
  int n = 0;

  h_fmt(path, sizeof path, "%s/%s", h.root, rel);
  if (!(d = opendir(path)))
    return 0;
  while ((e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
        !strncmp(e->d_name, prefix, strlen(prefix)))
      n++;
  closedir(d);
  return n;
}

static size_t tag_count(void)
{
  char path[PATH_MAX];
  json_t *tags;
  size_t n;

  h_fmt(path, sizeof path, "%s/images/tags.json", h.root);
  if (!h_exists(path))
    return 0;
  tags = json_load_file(path, 0, NULL);
  ck_assert_msg(json_is_object(tags), "%s is not a JSON object", path);
  n = json_object_size(tags);
  json_decref(tags);
  return n;
}

/* After a refused pull into a fresh root: nothing stored, nothing half
 * done in tmp/. */
static void assert_store_empty(void)
{
  ck_assert_msg(tag_count() == 0, "`%s` failed but left a tag", h_last_cmd());
  ck_assert_msg(count_entries("images/sha256", "") == 0,
                "`%s` failed but left an image", h_last_cmd());
  ck_assert_msg(count_entries("layers/sha256", "") == 0,
                "`%s` failed but left a layer", h_last_cmd());
  ck_assert_msg(count_entries("tmp", "layer-") == 0 &&
                    count_entries("tmp", "lease-") == 0,
                "`%s` failed but left work in tmp/", h_last_cmd());
}

/* ---- pulls ------------------------------------------------------------ */

static void pull(struct h_res *r, const struct fake *f, const char *path)
{
  char ref[256];

  h_fmt(ref, sizeof ref, "%s/%s", f->addr, path);
  h_run(r, &(struct h_opts){.timeout_ms = PULL_MS}, H_ARGV("pull", ref));
}

static void assert_pull_refused(const struct h_res *r)
{
  H_ASSERT_STATUS(r, PULL_FAILED);
  ck_assert_msg(strncmp(r->err, "mocker: ", 8) == 0 ||
                    h_contains(r->err, "\nmocker: "),
                "`%s`: no \"mocker: \" error line:\n%s", h_last_cmd(), r->err);
  assert_store_empty();
}

static void assert_pulled(const struct h_res *r)
{
  H_ASSERT_STATUS(r, 0);
  ck_assert_msg(tag_count() == 1, "`%s` stored %zu tags", h_last_cmd(),
                tag_count());
  ck_assert_int_eq(count_entries("layers/sha256", ""), 1);
}

/* Every request in a log came without an Authorization header. */
static void assert_no_auth(const char *log, const char *who)
{
  ck_assert_msg(!h_contains(log, "\"auth\": \"") && !h_contains(log, "Basic"),
                "%s received credentials:\n%s", who, log);
}

/* ---- finding 7: credentials --------------------------------------------- */

/* A (Basic auth, credentials from the config file or `mocker login`)
 * redirects the manifest to B; B answers 401 with a Bearer realm on C.
 * The challenge is not A's, so it is not answered: C hears nothing, B
 * never sees an Authorization header, and the user is told why. */
START_TEST(test_redirect_then_foreign_realm_gets_no_credentials)
{
  struct fake a, b, c;
  char args[512], *log;
  struct h_res r;

  fake_start(&c, "c", "127.0.0.4", "--token");
  h_fmt(args, sizeof args, "--auth 'bearer:http://%s/token'", c.addr);
  fake_start(&b, "b", "127.0.0.3", args);
  h_fmt(args, sizeof args, "--auth basic --redirect-manifests 'http://%s'",
        b.addr);
  fake_start(&a, "a", "127.0.0.2", args);
  if (_i == 0) {
    pf_write_docker_auth((const char *const[]){a.addr, NULL});
  } else {
    H_RUN_IN(&r, "secret\n", "login", "-u", "tester", "--password-stdin",
             a.addr);
    H_ASSERT_STATUS(&r, 0);
    h_res_free(&r);
  }

  pull(&r, &a, "t/leak:latest");
  stop_all();
  log = fake_log(&c);
  ck_assert_msg(!*log, "C, the realm B named, was contacted:\n%s", log);
  free(log);
  log = fake_log(&b); /* the redirect was followed, without credentials */
  ck_assert_msg(h_contains(log, "/v2/t/leak/manifests/latest"),
                "B never got the redirected request:\n%s", log);
  assert_no_auth(log, "B, the redirect target,");
  free(log);
  log = fake_log(&a); /* they were in play */
  ck_assert_msg(
      h_contains(log, "/manifests/latest\", \"auth\": \"" BASIC_CREDS),
      "A never got the manifest request with credentials:\n%s", log);
  free(log);

  assert_pull_refused(&r);
  H_ASSERT_HAS(&r, err, b.addr);
  H_ASSERT_HAS(&r, err, "redirected to");
  H_ASSERT_HAS(&r, err, "authenticates only to the registry");
  h_res_free(&r);
}
END_TEST

/* How a token realm on plain HTTP is treated when the registry (plain
 * HTTP itself, on loopback) has credentials or not. */
enum realm_case {
  REALM_OTHER_HOST_WITH_CREDENTIALS, /* refused: C never hears of them */
  REALM_SAME_HOST_WITH_CREDENTIALS,  /* the registry's own host: allowed */
  REALM_OTHER_HOST_ANONYMOUS,        /* nothing secret to send: allowed */
};

START_TEST(test_basic_credentials_never_to_http_realm_of_another_host)
{
  struct fake a, c;
  char args[512], realm[128], *log;
  struct h_res r;

  fake_start(&c, "c",
             _i == REALM_SAME_HOST_WITH_CREDENTIALS ? "127.0.0.2" : "127.0.0.4",
             "--token");
  h_fmt(realm, sizeof realm, "http://%s/token", c.addr);
  h_fmt(args, sizeof args, "--auth 'bearer:%s'", realm);
  fake_start(&a, "a", "127.0.0.2", args);
  if (_i != REALM_OTHER_HOST_ANONYMOUS)
    pf_write_docker_auth((const char *const[]){a.addr, NULL});

  pull(&r, &a, "t/realm");
  stop_all();
  log = fake_log(&c);
  if (_i == REALM_OTHER_HOST_WITH_CREDENTIALS) {
    ck_assert_msg(!*log, "the realm on another host was contacted:\n%s", log);
    assert_pull_refused(&r);
    H_ASSERT_HAS(&r, err, "refusing to send its credentials");
    H_ASSERT_HAS(&r, err, realm);
  } else {
    assert_pulled(&r);
    ck_assert_msg(count_substr(log, "\"path\": \"/token?") == 1,
                  "want one token request:\n%s", log);
    if (_i == REALM_SAME_HOST_WITH_CREDENTIALS)
      ck_assert_msg(h_contains(log, BASIC_CREDS),
                    "the registry's own realm did not get the credentials:\n%s",
                    log);
    else
      assert_no_auth(log, "an anonymous token request");
  }
  free(log);
  h_res_free(&r);
}
END_TEST

/* ---- finding 9: deadlines and caps --------------------------------------- */

static const char *const trickled[] = {"^/v2/$", "/manifests/", "/blobs/"};

/* Headers, then a byte a second for ever, on /v2/, a manifest or a blob:
 * with MOCKER_REGISTRY_TIMEOUT=3 the pull ends well within the deadline
 * and names the registry and the timeout. */
START_TEST(test_trickling_registry_times_out)
{
  struct fake a;
  char args[128];
  struct h_res r;
  long start, took;

  h_fmt(args, sizeof args, "--trickle '%s'", trickled[_i]);
  fake_start(&a, "a", "127.0.0.2", args);
  setenv("MOCKER_REGISTRY_TIMEOUT", SHORT_TIMEOUT_S, 1);
  start = h_now_ms();
  pull(&r, &a, "t/slow");
  took = h_now_ms() - start;
  unsetenv("MOCKER_REGISTRY_TIMEOUT");
  stop_all();
  ck_assert_msg(took < DEADLINE_MS, "`%s` took %ld ms (trickling %s)",
                h_last_cmd(), took, trickled[_i]);
  assert_pull_refused(&r);
  H_ASSERT_HAS(&r, err, a.addr);
  H_ASSERT_HAS(&r, err, "timed out");
  H_ASSERT_HAS(&r, err, "MOCKER_REGISTRY_TIMEOUT");
  h_res_free(&r);
}
END_TEST

START_TEST(test_registry_timeout_env_is_validated)
{
  static const char *const bad[] = {"0", "abc", "-1", "3s", "86401", " 5"};
  struct h_res r;

  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    setenv("MOCKER_REGISTRY_TIMEOUT", bad[i], 1);
    H_RUN(&r, "pull", "127.0.0.2:1/t/x");
    H_ASSERT_STATUS(&r, PULL_FAILED);
    H_ASSERT_HAS(&r, err, "MOCKER_REGISTRY_TIMEOUT");
    H_ASSERT_HAS(&r, err, bad[i]);
    h_res_free(&r);
  }
  unsetenv("MOCKER_REGISTRY_TIMEOUT");
}
END_TEST

/* /v2/ answers with 100 MB: cut off at the cap, with a clear error, long
 * before it is all read. */
START_TEST(test_oversized_ping_is_cut_off)
{
  struct fake a;
  struct h_res r;

  fake_start(&a, "a", "127.0.0.2", "--huge-ping 104857600");
  pull(&r, &a, "t/huge");
  stop_all();
  assert_pull_refused(&r);
  H_ASSERT_HAS(&r, err, a.addr);
  H_ASSERT_HAS(&r, err, "larger than 65536 bytes");
  h_res_free(&r);
}
END_TEST

/* ---- unconfirmed in the review: downgrade and digests -------------------- */

/* A registry on HTTPS (its CA trusted) redirects the manifest to a plain
 * HTTP host that would serve it: refused, and that host hears nothing. */
START_TEST(test_https_to_http_redirect_is_refused)
{
  struct fake a, b;
  char args[128], *log;
  struct h_res r;

  fake_start(&b, "b", "127.0.0.3", "");
  h_fmt(args, sizeof args, "--redirect-manifests 'http://%s'", b.addr);
  fake_start_as(&a, "a", "127.0.0.2", args, true);
  trust_fake_ca(&a);

  pull(&r, &a, "t/down");
  stop_all();
  assert_pull_refused(&r);
  H_ASSERT_HAS(&r, err, a.addr);
  H_ASSERT_HAS(&r, err, "refusing to leave HTTPS");
  H_ASSERT_LACKS(&r, err, "certificate");
  h_res_free(&r);
  log = fake_log(&a); /* TLS worked: the manifest request got there */
  ck_assert_msg(h_contains(log, "/v2/t/down/manifests/latest"),
                "the HTTPS registry never got the manifest request:\n%s", log);
  free(log);
  log = fake_log(&b);
  ck_assert_msg(!*log, "the plain-HTTP host was contacted:\n%s", log);
  free(log);
}
END_TEST

/* By tag, a Docker-Content-Digest that is not the bytes' digest (another
 * digest, or no digest at all) is refused; without the header the pull
 * succeeds and reports the digest computed from the bytes. */
START_TEST(test_tag_pull_checks_manifest_digest)
{
  static const char *const lies[] = {"--manifest-digest bad",
                                     "--manifest-digest junk"};
  struct fake a, b;
  char want[128], *text;
  struct h_res r;

  /* Each name once: a fake's files are named after it. */
  for (size_t i = 0; i < sizeof lies / sizeof *lies; i++) {
    char name[16];

    h_fmt(name, sizeof name, "lie%zu", i);
    fake_start(&a, name, "127.0.0.2", lies[i]);
    pull(&r, &a, "t/tag:v1");
    stop_all();
    assert_pull_refused(&r);
    H_ASSERT_HAS(&r, err, "Docker-Content-Digest");
    h_res_free(&r);
  }

  fake_start(&b, "b", "127.0.0.3", "--manifest-digest none");
  text = pf_sh_ok("python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); "
                  "import fake_registry as f; "
                  "print(f.digest(f.make_image()[0]))' \"$(dirname '%s')\"",
                  fake_script());
  h_fmt(want, sizeof want, "Digest: %s", text);
  free(text);
  pull(&r, &b, "t/tag:v1");
  stop_all();
  assert_pulled(&r);
  H_ASSERT_HAS(&r, out, want);
  h_res_free(&r);
}
END_TEST

/* ---- the suite --------------------------------------------------------- */

static TCase *registry_tcase(const char *name)
{
  TCase *tc = h_tcase(name, TEST_TIMEOUT_S);

  tcase_add_checked_fixture(tc, pf_test_setup, NULL);
  return tc;
}

static Suite *registry_suite(void)
{
  Suite *s = suite_create("registry");
  TCase *tc = registry_tcase("credentials");

  tcase_add_loop_test(tc, test_redirect_then_foreign_realm_gets_no_credentials,
                      0, 2);
  tcase_add_loop_test(
      tc, test_basic_credentials_never_to_http_realm_of_another_host,
      REALM_OTHER_HOST_WITH_CREDENTIALS, REALM_OTHER_HOST_ANONYMOUS + 1);
  suite_add_tcase(s, tc);

  tc = registry_tcase("deadlines");
  tcase_add_loop_test(tc, test_trickling_registry_times_out, 0,
                      (int)(sizeof trickled / sizeof *trickled));
  tcase_add_test(tc, test_registry_timeout_env_is_validated);
  tcase_add_test(tc, test_oversized_ping_is_cut_off);
  suite_add_tcase(s, tc);

  tc = registry_tcase("integrity");
  tcase_add_test(tc, test_https_to_http_redirect_is_refused);
  tcase_add_test(tc, test_tag_pull_checks_manifest_digest);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  return h_main(registry_suite());
}
