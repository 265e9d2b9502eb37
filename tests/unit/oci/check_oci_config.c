/* Unit tests for supervisor/oci/config.c: a runtime-spec config.json read
 * strictly, each refusal naming the field. */
#include <check.h>
#include <jansson.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "oci/config.h"
#include "oci/oci.h"
#include "unit_fs.h"
#include "unit_main.h"

static char dir[PATH_MAX];

static void setup(void)
{
  snprintf(dir, sizeof(dir), "/tmp/mk-oci-config.XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
  rm_rf(dir);
}

/* The config `mocker-runtime spec` writes, as a JSON object to edit. */
static json_t *default_spec(void)
{
  char *argv[] = {"mocker-runtime", "spec", "-b", dir, NULL};
  char path[PATH_MAX];

  ck_assert_int_eq(mk_oci_main(4, argv), 0);
  snprintf(path, sizeof(path), "%s/config.json", dir);
  json_t *j = json_load_file(path, 0, NULL);
  ck_assert_ptr_nonnull(j);
  unlink(path);
  return j;
}

/* Parses j; returns 0 or -1 with the message in err. */
static int parse_json(json_t *j, struct mk_oci_config *c, mk_error_t *err)
{
  char *text = json_dumps(j, JSON_COMPACT);
  int rc = mk_oci_config_parse(text, strlen(text), c, err);

  free(text);
  return rc;
}

/* Sets path (a.b.c, objects only) in a copy of the default spec to value
 * (stolen) and expects the parse to fail with want in the message. */
static void assert_refused(const char *path, json_t *value, const char *want)
{
  json_auto_t *j = default_spec();
  json_t *obj = j;
  char copy[256], *save = NULL, *key, *next;
  struct mk_oci_config c;
  mk_error_t err = {0};

  snprintf(copy, sizeof(copy), "%s", path);
  key = strtok_r(copy, ".", &save);
  while ((next = strtok_r(NULL, ".", &save))) {
    obj = json_object_get(obj, key);
    ck_assert_ptr_nonnull(obj);
    key = next;
  }
  json_object_set_new(obj, key, value);
  ck_assert_msg(parse_json(j, &c, &err) < 0, "%s was accepted", path);
  ck_assert_msg(strstr(err.msg, want), "%s: got \"%s\", want \"%s\"", path,
                err.msg, want);
}

START_TEST(test_default_spec_parses)
{
  json_auto_t *j = default_spec();
  struct mk_oci_config c;
  mk_error_t err = {0};

  ck_assert_msg(parse_json(j, &c, &err) == 0, "%s", err.msg);
  ck_assert(c.has_process);
  ck_assert_str_eq(c.process.args.v[0], "sh");
  ck_assert_str_eq(c.process.cwd, "/");
  ck_assert_uint_eq(c.process.caps[MK_OCI_CAP_BOUNDING],
                    (1ULL << 29) | (1ULL << 5) | (1ULL << 10));
  ck_assert(c.process.no_new_privileges && c.process.terminal);
  ck_assert_uint_eq(c.process.nrlimits, 1);
  ck_assert_int_eq(c.process.rlimits[0].resource, RLIMIT_NOFILE);
  ck_assert_uint_eq(c.process.rlimits[0].hard, 1024);
  ck_assert_str_eq(c.root_path, "rootfs");
  ck_assert(c.root_readonly);
  ck_assert_uint_eq(c.nmounts, 7);
  ck_assert_str_eq(c.mounts[2].destination, "/dev/pts");
  ck_assert_str_eq(c.mounts[2].options.v[2], "newinstance");
  ck_assert_uint_eq(c.nnamespaces, 6);
  ck_assert_int_eq(c.namespaces[0].type, CLONE_NEWPID);
  ck_assert_uint_eq(c.masked_paths.n, 9);
  mk_oci_config_free(&c);
}
END_TEST

/* Stricter than runc and crun: an unknown capability is an error. */
START_TEST(test_unknown_capability_refused)
{
  assert_refused("process.capabilities.bounding",
                 json_pack("[s, s]", "CAP_KILL", "CAP_BOGUS"),
                 "process.capabilities.bounding: unknown capability "
                 "CAP_BOGUS");
  assert_refused("process.capabilities.ambient", json_pack("[s]", "KILL"),
                 "unknown capability KILL");
  assert_refused("process.capabilities.effective", json_pack("[i]", 3),
                 "must be an array of strings");
}
END_TEST

START_TEST(test_namespaces_checked)
{
  assert_refused("linux.namespaces", json_pack("[{s:s}]", "type", "bogus"),
                 "linux.namespaces: unknown type bogus");
  assert_refused("linux.namespaces",
                 json_pack("[{s:s}, {s:s}]", "type", "pid", "type", "pid"),
                 "pid given twice");
  assert_refused("linux.namespaces",
                 json_pack("[{s:s, s:s}]", "type", "net", "path", "x"),
                 "unknown type net");
  assert_refused("linux.namespaces",
                 json_pack("[{s:s, s:s}]", "type", "network", "path", "rel"),
                 "must be an absolute path");
}
END_TEST

START_TEST(test_seccomp_notify_refused)
{
  assert_refused("linux.seccomp",
                 json_pack("{s:s}", "defaultAction", "SCMP_ACT_NOTIFY"),
                 "SCMP_ACT_NOTIFY is not supported");
  assert_refused("linux.seccomp",
                 json_pack("{s:s, s:[{s:[s], s:s}]}", "defaultAction",
                           "SCMP_ACT_ALLOW", "syscalls", "names", "mkdir",
                           "action", "SCMP_ACT_NOTIFY"),
                 "SCMP_ACT_NOTIFY is not supported");
  assert_refused("linux.seccomp",
                 json_pack("{s:s, s:s}", "defaultAction", "SCMP_ACT_ALLOW",
                           "listenerPath", "/run/l.sock"),
                 "seccomp notification is not supported");
}
END_TEST

START_TEST(test_process_checked)
{
  assert_refused("process.cwd", json_string("rel"),
                 "process.cwd: must be an absolute path");
  assert_refused("process.args", json_array(), "process.args: must name");
  assert_refused("process.env", json_pack("[s]", "NOEQUALS"), "has no '='");
  assert_refused("process.env", json_pack("[s]", "=x"), "process.env[0]");
  assert_refused("process.user", json_pack("{s:i}", "uid", 0),
                 "process.user.gid: is required");
  assert_refused("process.user.uid", json_integer(-1), "in range");
  assert_refused("process.terminal", json_string("yes"), "true or false");
  assert_refused("process.oomScoreAdj", json_integer(1001), "-1000 to 1000");
}
END_TEST

START_TEST(test_rlimits_checked)
{
  assert_refused("process.rlimits",
                 json_pack("[{s:s, s:i, s:i}]", "type", "RLIMIT_BOGUS", "hard",
                           1, "soft", 1),
                 "unknown type RLIMIT_BOGUS");
  assert_refused("process.rlimits",
                 json_pack("[{s:s, s:i, s:i}]", "type", "RLIMIT_NOFILE", "hard",
                           1, "soft", 2),
                 "soft above hard");
  assert_refused("process.rlimits",
                 json_pack("[{s:s, s:i, s:i}, {s:s, s:i, s:i}]", "type",
                           "RLIMIT_CORE", "hard", 1, "soft", 1, "type",
                           "RLIMIT_CORE", "hard", 1, "soft", 1),
                 "RLIMIT_CORE given twice");
}
END_TEST

START_TEST(test_top_level_checked)
{
  assert_refused("ociVersion", json_string("2.0.0"), "only 1.x");
  assert_refused("root", json_object(), "root.path: is required");
  assert_refused("hostname", json_string("bad\nname"), "hostname");
  assert_refused("mounts", json_pack("[{s:s}]", "destination", "rel"),
                 "mounts[0].destination: must be an absolute path");
  assert_refused("hooks",
                 json_pack("{s:[{s:s}]}", "poststart", "path", "rel/hook"),
                 "hooks.poststart[0].path: must be an absolute path");
  assert_refused("hooks",
                 json_pack("{s:[{s:s, s:i}]}", "prestart", "path", "/bin/true",
                           "timeout", 0),
                 "hooks.prestart[0].timeout: must be above zero");
  assert_refused("linux.rootfsPropagation", json_string("sideways"),
                 "unknown propagation");
  assert_refused("linux.sysctl", json_pack("{s:s}", "../x", "1"),
                 "linux.sysctl: bad entry");
}
END_TEST

/* Every kind of hook, with what each may hold, read into hook_list and
 * kept as given in hooks (for start and delete). What the spec does not
 * define (another kind, another key in a hook) is ignored, as it asks. */
START_TEST(test_hooks_parsed)
{
  json_auto_t *j = default_spec();
  struct mk_oci_config c;
  mk_error_t err = {0};

  json_object_set_new(
      j, "hooks",
      json_pack("{s:[{s:s, s:[s, s], s:[s, s], s:i}, {s:s}], s:[{s:s}], "
                "s:[{s:s, s:i}], s:[{s:s}], s:[], s:n, s:[{s:s}]}",
                "createRuntime", "path", "/usr/bin/net", "args", "net", "up",
                "env", "A=1", "B=", "timeout", 30, "path", "/bin/true",
                "createContainer", "path", "/usr/bin/cc", "startContainer",
                "path", "/sc", "futureKey", 1, "poststop", "path",
                "/usr/bin/down", "poststart", "prestart", "someFutureHook",
                "path", "relative/never/looked/at"));
  ck_assert_msg(parse_json(j, &c, &err) == 0, "%s", err.msg);
  const struct mk_oci_hooks *h = &c.hook_list;
  ck_assert_ptr_nonnull(c.hooks);
  ck_assert_uint_eq(h->n[MK_OCI_HOOK_CREATE_RUNTIME], 2);
  const struct mk_oci_hook *net = &h->list[MK_OCI_HOOK_CREATE_RUNTIME][0];
  ck_assert_str_eq(net->path, "/usr/bin/net");
  ck_assert_uint_eq(net->args.n, 2);
  ck_assert_str_eq(net->args.v[0], "net");
  ck_assert_str_eq(net->args.v[1], "up");
  ck_assert_uint_eq(net->env.n, 2);
  ck_assert_str_eq(net->env.v[1], "B=");
  ck_assert_uint_eq(net->timeout, 30);
  const struct mk_oci_hook *t = &h->list[MK_OCI_HOOK_CREATE_RUNTIME][1];
  ck_assert_str_eq(t->path, "/bin/true");
  ck_assert_uint_eq(t->args.n + t->env.n + t->timeout, 0);
  ck_assert_uint_eq(h->n[MK_OCI_HOOK_CREATE_CONTAINER], 1);
  ck_assert_uint_eq(h->n[MK_OCI_HOOK_START_CONTAINER], 1);
  ck_assert_str_eq(h->list[MK_OCI_HOOK_START_CONTAINER][0].path, "/sc");
  ck_assert_uint_eq(h->n[MK_OCI_HOOK_POSTSTOP], 1);
  ck_assert_uint_eq(h->n[MK_OCI_HOOK_POSTSTART], 0);
  ck_assert_uint_eq(h->n[MK_OCI_HOOK_PRESTART], 0);
  mk_oci_config_free(&c);

  /* the stored copy reads back the same */
  json_t *kept =
      json_pack("{s:[{s:s, s:[s]}]}", "poststop", "path", "/x", "args", "x");
  struct mk_oci_hooks again;
  ck_assert_int_eq(mk_oci_hooks_parse(kept, &again, &err), 0);
  json_decref(kept); /* again holds its own reference */
  ck_assert_str_eq(again.list[MK_OCI_HOOK_POSTSTOP][0].args.v[0], "x");
  mk_oci_hooks_free(&again);
  ck_assert_int_eq(mk_oci_hooks_parse(NULL, &again, &err), 0);
  mk_oci_hooks_free(&again);
}
END_TEST

/* Each hook field checked where it enters, naming it; a hook asked for
 * is never silently dropped. */
START_TEST(test_hooks_refused)
{
  static const struct {
    const char *json, *want;
  } bad[] = {
      {"[]", "hooks: must be an object"},
      {"{\"poststop\": {}}", "hooks.poststop: must be an array"},
      {"{\"poststop\": [\"/bin/true\"]}",
       "hooks.poststop[0]: must be an object with a path"},
      {"{\"poststop\": [{}]}",
       "hooks.poststop[0].path: must be an absolute path"},
      {"{\"poststop\": [{\"path\": 7}]}",
       "hooks.poststop[0].path: must be a string"},
      {"{\"poststop\": [{\"path\": \"/a\\u0000b\"}]}",
       "is not allowed"}, /* the parser refuses a NUL anywhere */
      {"{\"createRuntime\": [{\"path\": \"/x\", \"args\": \"x\"}]}",
       "hooks.createRuntime[0].args: must be an array of strings"},
      {"{\"createRuntime\": [{\"path\": \"/x\", \"args\": [\"x\", 1]}]}",
       "hooks.createRuntime[0].args: must be an array of strings"},
      {"{\"createRuntime\": [{\"path\": \"/x\", \"env\": [\"NOEQUALS\"]}]}",
       "hooks.createRuntime[0].env[0]: `NOEQUALS` has no '='"},
      {"{\"createRuntime\": [{\"path\": \"/x\", \"env\": [\"=v\"]}]}",
       "hooks.createRuntime[0].env[0]: invalid environment variable"},
      {"{\"startContainer\": [{\"path\": \"/x\", \"timeout\": -1}]}",
       "hooks.startContainer[0].timeout: must be a whole number"},
      {"{\"startContainer\": [{\"path\": \"/x\", \"timeout\": 1.5}]}",
       "hooks.startContainer[0].timeout: must be a whole number"},
      {"{\"startContainer\": [{\"path\": \"/x\", \"timeout\": \"5\"}]}",
       "hooks.startContainer[0].timeout: must be a whole number"},
      {"{\"startContainer\": [{\"path\": \"/x\", \"timeout\": 4294967296}]}",
       "hooks.startContainer[0].timeout: must be a whole number"},
      {"{\"poststart\": [{\"path\": \"/x\"}, {\"args\": [\"y\"]}]}",
       "hooks.poststart[1].path: must be an absolute path"},
  };

  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    json_error_t jerr;
    json_t *v = json_loads(bad[i].json, JSON_ALLOW_NUL, &jerr);
    ck_assert_msg(v, "test %zu: %s", i, jerr.text);
    assert_refused("hooks", v, bad[i].want);
  }
}
END_TEST

START_TEST(test_duplicate_keys_and_garbage_refused)
{
  struct mk_oci_config c;
  mk_error_t err = {0};
  const char *dup = "{\"ociVersion\":\"1.0.0\",\"ociVersion\":\"1.1.0\"}";

  ck_assert_int_eq(mk_oci_config_parse(dup, strlen(dup), &c, &err), -1);
  ck_assert_ptr_nonnull(strstr(err.msg, "duplicate"));
  ck_assert_int_eq(mk_oci_config_parse("[1]", 3, &c, &err), -1);
  ck_assert_int_eq(mk_oci_config_parse("{", 1, &c, &err), -1);
}
END_TEST

/* load reads only a regular config.json, never through a link. */
START_TEST(test_load_refuses_links_and_fifos)
{
  char path[PATH_MAX], target[PATH_MAX];
  struct mk_oci_config c;
  mk_error_t err = {0};

  snprintf(path, sizeof(path), "%s/config.json", dir);
  snprintf(target, sizeof(target), "%s/real.json", dir);
  write_file(target, "{}");
  ck_assert_int_eq(symlink(target, path), 0);
  ck_assert_int_eq(mk_oci_config_load(dir, &c, &err), -1);
  unlink(path);
  ck_assert_int_eq(mkfifo(path, 0600), 0);
  ck_assert_int_eq(mk_oci_config_load(dir, &c, &err), -1);
  ck_assert_ptr_nonnull(strstr(err.msg, "not a regular file"));
  unlink(path);
  json_auto_t *j = default_spec();
  ck_assert_int_eq(json_dump_file(j, path, 0), 0);
  ck_assert_msg(mk_oci_config_load(dir, &c, &err) == 0, "%s", err.msg);
  mk_oci_config_free(&c);
}
END_TEST

/* exec --process: the default spec's process on its own parses; its
 * faults are named as the process's, not config.json's. */
START_TEST(test_exec_process_parsed_alone)
{
  json_auto_t *spec = default_spec();
  json_t *process = json_object_get(spec, "process");
  struct mk_oci_process p;
  mk_error_t err = {0};
  json_t *doc;
  char *text = json_dumps(process, JSON_COMPACT);

  ck_assert_int_eq(mk_oci_process_parse(text, strlen(text), &doc, &p, &err), 0);
  ck_assert_uint_gt(p.args.n, 0);
  ck_assert_ptr_nonnull(p.cwd);
  mk_oci_process_free(&doc, &p);
  ck_assert_ptr_null(doc);
  free(text);
  json_object_set_new(process, "capabilities",
                      json_pack("{s:[s]}", "bounding", "CAP_NOPE"));
  text = json_dumps(process, JSON_COMPACT);
  ck_assert_int_eq(mk_oci_process_parse(text, strlen(text), &doc, &p, &err),
                   -1);
  ck_assert_msg(strncmp(err.msg, "--process: process.capabilities", 31) == 0,
                "%s", err.msg);
  ck_assert_ptr_null(doc);
  free(text);
  ck_assert_int_eq(mk_oci_process_parse("[", 1, &doc, &p, &err), -1);
}
END_TEST

static Suite *config_suite(void)
{
  Suite *s = suite_create("oci_config");
  TCase *tc = tcase_create("config");

  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_default_spec_parses);
  tcase_add_test(tc, test_unknown_capability_refused);
  tcase_add_test(tc, test_namespaces_checked);
  tcase_add_test(tc, test_seccomp_notify_refused);
  tcase_add_test(tc, test_process_checked);
  tcase_add_test(tc, test_rlimits_checked);
  tcase_add_test(tc, test_top_level_checked);
  tcase_add_test(tc, test_hooks_parsed);
  tcase_add_test(tc, test_hooks_refused);
  tcase_add_test(tc, test_duplicate_keys_and_garbage_refused);
  tcase_add_test(tc, test_load_refuses_links_and_fifos);
  tcase_add_test(tc, test_exec_process_parsed_alone);
  suite_add_tcase(s, tc);
  return s;
}

MK_UNIT_MAIN(config_suite)
