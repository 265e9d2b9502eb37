/* Kubernetes' CRI drives mocker-runtime: Debian's containerd 1.6, private
 * to the test (its own root, state, socket, cgroup parent and network
 * namespace), its CRI plugin on with a runtime handler whose BinaryName is
 * build/mocker-runtime, and a pod (sandbox plus one container) taken
 * through RunPodSandbox ... RemovePodSandbox by cri_client.py, a small CRI
 * v1 client (Debian has no crictl).
 *
 * Network: each test first moves into a network namespace of its own, and
 * containerd runs there; the pod's network comes from Debian's CNI plugins
 * (bridge + host-local, loopback added by containerd) with a conflist in
 * the test's dir, so the bridge, the veths and the pod's namespace never
 * touch the host's network, and all die with the test's namespace.
 *
 * Sandbox image: containerd runs the sandbox ("pause") container from the
 * image's Entrypoint + Cmd and refuses an image with neither; the process
 * must stay alive for the pod's life (the app containers join its
 * namespaces) and is SIGKILLed by StopPodSandbox. The built-in busybox
 * image's Cmd is /bin/sh, which would exit at once without stdin, so the
 * test imports a copy of it whose Entrypoint is `sleep 2147483647`.
 *
 * MOCKER_CRI_BINARY=/usr/sbin/runc runs the same tests through runc: a
 * check of the test itself, apart from mocker-runtime. */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "netsandbox.h"

/* containerd keeps shim sockets under /run/containerd whatever its config
 * says, and libcni its result cache under /var/lib/cni (containerd 1.6
 * gives it no other place): each removed after, if the suite made it. */
#define CONTAINERD_RUN "/run/containerd"
#define CNI_CACHE "/var/lib/cni"
#define CNI_BIN "/usr/lib/cni"    /* Debian's containernetworking-plugins */
#define PYTHON "/usr/bin/python3" /* the one python3-grpcio is built for */
#define CRI_NS "k8s.io"           /* the containerd namespace CRI uses */
#define BRIDGE "mkcri0"
/* TEST-NET-3: only ever inside the test's own network namespace */
#define SUBNET "203.0.113."
#define IMAGE "docker.io/library/busybox:latest"
/* .invalid never resolves: a pull, were the import lost, goes nowhere */
#define PAUSE_IMAGE "mocker.invalid/pause:busybox"
#define POD_HOSTNAME "mkpod"

/* Set in the runner (suite setup), inherited by every test child: the
 * prefix of this run's names, and what existed before the suite. */
static char run_prefix[32];
static bool run_existed, cni_existed;
/* The test's cgroup parent and CNI network name: run_prefix + its pid,
 * so what a failed test leaves (until the suite's teardown kills it) is
 * no other test's. */
static char run_name[64];
/* The network namespace the suite was started in (the host's), opened
 * before h_main moves the suite into one of its own. */
static int host_net = -1;

/* The current test's containerd. */
static struct {
  char dir[PATH_MAX], sock[PATH_MAX], stubs[PATH_MAX], logs[PATH_MAX];
  char client[PATH_MAX], runtime[PATH_MAX], archive[PATH_MAX];
  pid_t containerd;
} t = {.containerd = -1};

/* ---- files and helpers ------------------------------------------------- */

/* A file of the source tree: make runs the suites from its top, else next
 * to $MOCKER's build dir. */
static void source_file(const char *rel, char out[PATH_MAX])
{
  char copy[PATH_MAX], guess[PATH_MAX * 2];

  if (realpath(rel, out))
    return;
  snprintf(copy, sizeof(copy), "%s", h_mocker());
  h_fmt(guess, sizeof(guess), "%s/../%s", dirname(copy), rel);
  ck_assert_msg(realpath(guess, out), "%s not found (%s)", rel, guess);
}

/* A sibling of $MOCKER in the build dir. */
static void build_file(const char *name, char out[PATH_MAX])
{
  char copy[PATH_MAX];

  snprintf(copy, sizeof(copy), "%s", h_mocker());
  h_fmt(out, PATH_MAX, "%s/%s", dirname(copy), name);
}

/* build/mocker-runtime; $MOCKER_CRI_BINARY (say, runc) checks the test
 * itself against another runtime. */
static void runtime_binary(char out[PATH_MAX])
{
  const char *other = getenv("MOCKER_CRI_BINARY");

  if (other && *other)
    h_fmt(out, PATH_MAX, "%s", other);
  else
    build_file("mocker-runtime", out);
}

static int run_program(struct h_res *r, const char *program, int timeout_ms,
                       const char *const argv[])
{
  return h_run(r,
               &(struct h_opts){.program = program,
                                .no_root_flag = true,
                                .timeout_ms = timeout_ms},
               argv);
}

static void require(const char *path, const char *why)
{
  ck_assert_msg(access(path, X_OK) == 0, "%s is missing: %s (make deps)", path,
                why);
}

/* ---- the CRI client ---------------------------------------------------- */

/* One CRI call (argv after `cri_client.py -a SOCK -s STUBS`); its answer,
 * parsed, or NULL when the call failed (r then holds why). */
static json_t *cri_call(struct h_res *r, const char *const argv[])
{
  const char *args[32] = {t.client, "-a", t.sock, "-s", t.stubs};
  size_t n = 5;

  for (size_t i = 0; argv[i] && n < 31; i++)
    args[n++] = argv[i];
  args[n] = NULL;
  if (run_program(r, PYTHON, 150000, args) != 0)
    return NULL;
  json_t *j = json_loads(r->out, 0, NULL);
  ck_assert_msg(j, "`%s`: not JSON:\n%s", h_last_cmd(), r->out);
  return j;
}

/* A CRI call that must succeed; line is the caller's. */
static json_t *cri(int line, const char *const argv[])
{
  struct h_res r;
  json_t *j = cri_call(&r, argv);

  ck_assert_msg(r.status == 0, "line %d: `%s`: exit status %d\n%s%s", line,
                h_last_cmd(), r.status, r.out, r.err);
  h_res_free(&r);
  return j;
}
#define CRI(...) cri(__LINE__, H_ARGV(__VA_ARGS__))

/* The value at a dotted path ("status.network.ip"), or NULL. */
static json_t *jget(json_t *j, const char *path)
{
  char key[128];

  while (j && *path) {
    size_t n = strcspn(path, ".");
    snprintf(key, sizeof(key), "%.*s", (int)n, path);
    j = json_object_get(j, key);
    path += n + (path[n] == '.');
  }
  return j;
}

static const char *jstr(json_t *j, const char *path)
{
  const char *s = json_string_value(jget(j, path));
  return s ? s : "";
}

/* A field that must be a string; copied out, since j is freed after. */
static void jcopy(json_t *j, const char *path, char *out, size_t size)
{
  json_t *v = jget(j, path);

  ck_assert_msg(json_is_string(v), "no %s in %s", path,
                json_dumps(j, JSON_COMPACT));
  h_fmt(out, size, "%s", json_string_value(v));
}

static size_t jlen(json_t *j, const char *path)
{
  return json_array_size(jget(j, path));
}

/* ---- the sandbox image -------------------------------------------------- */

static void run_tar(const char *const argv[])
{
  struct h_res r;

  run_program(&r, "/bin/tar", 30000, argv);
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
}

/* dir/NAME, the busybox image's config, with an Entrypoint that keeps
 * the sandbox alive, written as dir/pause.json. */
static void write_pause_config(const char *dir, const char *name)
{
  char path[PATH_MAX * 2];

  h_fmt(path, sizeof(path), "%s/%s", dir, name);
  json_t *config = json_load_file(path, 0, NULL);
  json_t *cfg = json_object_get(config, "config");
  ck_assert_msg(cfg, "no config in %s", path);
  json_object_set_new(cfg, "Entrypoint",
                      json_pack("[ss]", "/bin/sleep", "2147483647"));
  json_object_set_new(cfg, "Cmd", json_null());
  h_fmt(path, sizeof(path), "%s/pause.json", dir);
  ck_assert_int_eq(json_dump_file(config, path, JSON_COMPACT), 0);
  json_decref(config);
}

/* The built-in busybox archive (`docker save` layout) with that config,
 * tagged PAUSE_IMAGE; same layer. */
static void make_pause_archive(const char *out)
{
  char dir[PATH_MAX], path[PATH_MAX + 16];

  h_fmt(dir, sizeof(dir), "%s/pause", t.dir);
  ck_assert_int_eq(mkdir(dir, 0700), 0);
  run_tar(H_ARGV("-xf", t.archive, "-C", dir));
  h_fmt(path, sizeof(path), "%s/manifest.json", dir);
  json_t *manifest = json_load_file(path, 0, NULL);
  json_t *entry = json_array_get(manifest, 0);
  json_t *layers = json_object_get(entry, "Layers");
  const char *layer = json_string_value(json_array_get(layers, 0));
  ck_assert_msg(layer && json_array_size(layers) == 1, "unexpected %s", path);
  write_pause_config(dir, json_string_value(json_object_get(entry, "Config")));
  json_t *mine = json_pack("[{s:s, s:[s], s:[s]}]", "Config", "pause.json",
                           "RepoTags", PAUSE_IMAGE, "Layers", layer);
  ck_assert_int_eq(json_dump_file(mine, path, JSON_COMPACT), 0);
  run_tar(H_ARGV("-cf", out, "-C", dir, "manifest.json", "pause.json", layer));
  json_decref(mine);
  json_decref(manifest);
}

/* ---- containerd -------------------------------------------------------- */

static void write_config(const char *cfg)
{
  char text[8192];

  /* opt's default, /opt/containerd, would be created on the host */
  h_fmt(
      text, sizeof(text),
      "version = 2\nroot = \"%s/root\"\nstate = \"%s/state\"\n"
      "[grpc]\n  address = \"%s\"\n"
      "[plugins.\"io.containerd.internal.v1.opt\"]\n  path = \"%s/opt\"\n"
      "[plugins.\"io.containerd.grpc.v1.cri\"]\n"
      "  sandbox_image = \"" PAUSE_IMAGE "\"\n"
      /* the pod's netns where the leftover checks look */
      "  netns_mounts_under_state_dir = true\n"
      /* CRI asks for oom_score_adj -998 for the sandbox; lowering it
       * needs CAP_SYS_RESOURCE, which a root without it (a sandboxed
       * CI) lacks: clamp at containerd's own, as the knob is for */
      "  restrict_oom_score_adj = true\n"
      "  stream_server_address = \"127.0.0.1\"\n"
      "  stream_server_port = \"0\"\n"
      "  [plugins.\"io.containerd.grpc.v1.cri\".containerd]\n"
      "    default_runtime_name = \"mocker\"\n"
      "    [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.mocker]\n"
      "      runtime_type = \"io.containerd.runc.v2\"\n"
      "      [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes."
      "mocker.options]\n"
      "        BinaryName = \"%s\"\n"
      "        Root = \"%s/runtime\"\n"
      "  [plugins.\"io.containerd.grpc.v1.cri\".cni]\n"
      "    bin_dir = \"" CNI_BIN "\"\n"
      "    conf_dir = \"%s/cni\"\n",
      t.dir, t.dir, t.sock, t.dir, t.runtime, t.dir, t.dir);
  h_write_file(cfg, text);
}

/* A bridge with host-local addresses, both state and bridge inside the
 * test's namespace and dir; no masquerading, no port mapping. */
static void write_cni_conf(void)
{
  char path[PATH_MAX + 64], text[2048];

  h_fmt(path, sizeof(path), "%s/cni", t.dir);
  ck_assert_int_eq(mkdir(path, 0700), 0);
  h_fmt(path, sizeof(path), "%s/cni/10-mkcri.conflist", t.dir);
  h_fmt(text, sizeof(text),
        "{\"cniVersion\": \"0.4.0\", \"name\": \"%s\", \"plugins\": [{\n"
        "  \"type\": \"bridge\", \"bridge\": \"" BRIDGE "\",\n"
        "  \"isGateway\": true, \"ipMasq\": false,\n"
        "  \"ipam\": {\"type\": \"host-local\", \"dataDir\": \"%s/ipam\",\n"
        "    \"ranges\": [[{\"subnet\": \"" SUBNET "0/24\"}]]}}]}\n",
        run_name, t.dir);
  h_write_file(path, text);
}

static bool sock_ready(void *unused)
{
  (void)unused;
  return h_exists(t.sock);
}

static void start_containerd(void)
{
  char cfg[PATH_MAX + 16], log[PATH_MAX + 16];

  h_fmt(cfg, sizeof(cfg), "%s/config.toml", t.dir);
  h_fmt(log, sizeof(log), "%s/containerd.log", t.dir);
  write_config(cfg);
  write_cni_conf();
  int out = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ck_assert_int_ge(out, 0);
  t.containerd = fork();
  ck_assert_int_ge(t.containerd, 0);
  if (t.containerd == 0) {
    dup2(out, 1), dup2(out, 2);
    execl("/usr/bin/containerd", "containerd", "--config", cfg, (char *)NULL);
    _exit(127);
  }
  close(out);
  ck_assert_msg(h_poll(sock_ready, NULL, 20000), "containerd did not start");
}

static void ctr_import(const char *archive)
{
  struct h_res r;

  run_program(&r, "/usr/bin/ctr", 60000,
              H_ARGV("-a", t.sock, "-n", CRI_NS, "images", "import", archive));
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
}

static bool has_tag(json_t *images, const char *tag)
{
  size_t i, k;
  json_t *img, *v;

  json_array_foreach(json_object_get(images, "images"), i, img)
      json_array_foreach(json_object_get(img, "repo_tags"), k,
                         v) if (strcmp(json_string_value(v), tag) ==
                                0) return true;
  return false;
}

/* CRI learns of imported images from containerd's events, a moment
 * after the import returns. */
static bool cri_sees_images(void *unused)
{
  (void)unused;
  json_t *images = CRI("images");
  bool both = has_tag(images, IMAGE) && has_tag(images, PAUSE_IMAGE);

  json_decref(images);
  return both;
}

/* The CRI api.proto from Debian's containerd source (make deps caches
 * it), compiled into Python stubs in the test's dir. */
static void generate_stubs(void)
{
  char script[PATH_MAX];
  struct h_res r;

  source_file("tests/integration/cri_api_source.sh", script);
  run_program(&r, "/bin/sh", 30000, H_ARGV(script, "path"));
  ck_assert_msg(r.status == 0, "%s", r.err);
  r.out[strcspn(r.out, "\n")] = '\0';
  char *tarball = strdup(r.out);
  h_res_free(&r);
  run_program(&r, PYTHON, 60000, H_ARGV(t.client, "stubs", tarball, t.stubs));
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  free(tarball);
}

static void check_prerequisites(void)
{
  require(PYTHON, "Debian's python3, with python3-grpcio and python3-protobuf");
  require("/usr/bin/protoc", "protobuf-compiler");
  require("/usr/bin/grpc_python_plugin", "protobuf-compiler-grpc");
  require(CNI_BIN "/bridge", "containernetworking-plugins");
  require("/usr/bin/containerd", "containerd");
}

/* ---- fixtures ---------------------------------------------------------- */

static void setup(void)
{
  char why[256], pause[PATH_MAX + 16];

  check_prerequisites();
  h_fmt(run_name, sizeof(run_name), "%s%d", run_prefix, (int)getpid());
  ck_assert_msg(nsb_unshare_net(why, sizeof(why)) == 0, "%s", why);
  h_fmt(t.dir, sizeof(t.dir), "%s/cri", h.dir);
  h_fmt(t.sock, sizeof(t.sock), "%s/c.sock", t.dir);
  h_fmt(t.stubs, sizeof(t.stubs), "%s/stubs", t.dir);
  h_fmt(t.logs, sizeof(t.logs), "%s/logs", t.dir);
  source_file("tests/integration/cri_client.py", t.client);
  runtime_binary(t.runtime);
  build_file("busybox-archive.tar", t.archive);
  ck_assert_int_eq(mkdir(t.dir, 0700), 0);
  generate_stubs();
  start_containerd();
  ctr_import(t.archive);
  h_fmt(pause, sizeof(pause), "%s/pause.tar", t.dir);
  make_pause_archive(pause);
  ctr_import(pause);
  ck_assert_msg(h_poll(cri_sees_images, NULL, 20000),
                "CRI never listed " IMAGE " and " PAUSE_IMAGE);
}

/* Files of libcni's result cache whose names start with prefix (network
 * name, container id, interface); removed too when remove is set. */
static int cni_results(const char *prefix, bool remove)
{
  char path[PATH_MAX];
  int n = 0;
  DIR *d = opendir(CNI_CACHE "/results");

  for (struct dirent *e; d && (e = readdir(d));) {
    if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
      continue;
    n++;
    snprintf(path, sizeof(path), CNI_CACHE "/results/%s", e->d_name);
    if (remove)
      unlink(path);
  }
  if (d)
    closedir(d);
  return n;
}

static void remove_if_made(const char *dir, bool existed)
{
  if (!existed && h_exists(dir))
    nftw(dir, h_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* containerd by its pid (its shims and pods must be gone already), then
 * what it made outside the test's dir. */
static void teardown(void)
{
  char prefix[80];

  if (t.containerd > 0) {
    kill(t.containerd, SIGTERM);
    h_wait(t.containerd, 20000);
    t.containerd = -1;
  }
  bool leaked = h_cgroup_has_child(run_name, "");
  h_fmt(prefix, sizeof(prefix), "%s-", run_name);
  int results = cni_results(prefix, true);
  ck_assert_msg(h_poll(h_cgroup_tree_gone, run_name, 10000),
                "cgroup parent /%s was left behind", run_name);
  remove_if_made(CONTAINERD_RUN, run_existed);
  remove_if_made(CNI_CACHE, cni_existed);
  ck_assert_msg(!leaked, "a container's cgroup was left under /%s", run_name);
  ck_assert_msg(results == 0, "%d CNI result(s) of %s left in %s/results",
                results, run_name, CNI_CACHE);
}

static void suite_setup(void)
{
  snprintf(run_prefix, sizeof(run_prefix), "mkcri-%d-", (int)getpid());
  run_existed = h_exists(CONTAINERD_RUN);
  cni_existed = h_exists(CNI_CACHE);
}

static bool remove_cgroup_named(const char *name, const char *prefix)
{
  return strncmp(name, prefix, strlen(prefix)) != 0 ||
         h_poll(h_cgroup_tree_gone, (void *)name, 10000);
}

/* The cgroups of this run, at the top of the v2 tree or of any v1
 * hierarchy. */
static void remove_run_cgroups(void)
{
  char path[PATH_MAX];
  DIR *top = opendir("/sys/fs/cgroup");

  for (struct dirent *e; top && (e = readdir(top));) {
    if (e->d_type != DT_DIR || e->d_name[0] == '.' ||
        !remove_cgroup_named(e->d_name, run_prefix))
      continue;
    snprintf(path, sizeof(path), "/sys/fs/cgroup/%s", e->d_name);
    DIR *hierarchy = opendir(path);
    for (struct dirent *c; hierarchy && (c = readdir(hierarchy));)
      if (c->d_type == DT_DIR)
        remove_cgroup_named(c->d_name, run_prefix);
    if (hierarchy)
      closedir(hierarchy);
  }
  if (top)
    closedir(top);
}

/* In the runner, after the harness killed what a failed test left: the
 * same cleanup as teardown, which a failed assertion skips. */
static void suite_teardown(void)
{
  remove_run_cgroups();
  cni_results(run_prefix, true);
  remove_if_made(CONTAINERD_RUN, run_existed);
  remove_if_made(CNI_CACHE, cni_existed);
}

/* ---- pods and containers ----------------------------------------------- */

struct pod {
  char id[80], ip[64], config[PATH_MAX];
};

static int nsfs_mounts(void)
{
  char *list = NULL;
  int n = 0;

  h_mounts_under(h.dir, &list);
  for (const char *p = list; p && (p = strstr(p, "(nsfs)")); p++)
    n++;
  free(list);
  return n;
}

static int veths(void)
{
  int n = 0;

  free(nsb_links_with_prefix("veth", &n));
  return n;
}

static void write_pod_config(struct pod *p)
{
  char text[2048];

  h_fmt(p->config, sizeof(p->config), "%s/pod.json", t.dir);
  h_fmt(text, sizeof(text),
        "{\"metadata\": {\"name\": \"pod1\", \"uid\": \"%s-uid\", "
        "\"namespace\": \"mocker-test\"},\n"
        " \"hostname\": \"" POD_HOSTNAME "\", \"log_directory\": \"%s\",\n"
        " \"linux\": {\"cgroup_parent\": \"/%s\"}}\n",
        run_name, t.logs, run_name);
  h_write_file(p->config, text);
}

/* RunPodSandbox: ready, an address from the CNI range, its network
 * namespace mounted where the test can see it, one veth into it, and
 * the sandbox in a cgroup under the pod's cgroup parent. */
static void run_pod(struct pod *p)
{
  write_pod_config(p);
  json_t *j = CRI("runp", p->config);
  jcopy(j, "pod_sandbox_id", p->id, sizeof(p->id));
  json_decref(j);
  j = CRI("inspectp", p->id);
  ck_assert_str_eq(jstr(j, "status.state"), "SANDBOX_READY");
  jcopy(j, "status.network.ip", p->ip, sizeof(p->ip));
  json_decref(j);
  ck_assert_msg(strncmp(p->ip, SUBNET, strlen(SUBNET)) == 0,
                "pod ip %s is not from " SUBNET "0/24", p->ip);
  ck_assert_int_eq(nsfs_mounts(), 1);
  ck_assert_int_eq(veths(), 1);
  ck_assert_msg(h_cgroup_has_child(run_name, p->id),
                "the sandbox's cgroup is not /%s/%s", run_name, p->id);
}

/* The bridge stayed in the test's namespace: the host's never had it. */
static void assert_host_network_untouched(void)
{
  struct nsb_res r;

  ck_assert_int_ge(host_net, 0);
  nsb_cmd(&r, host_net, 10000, H_ARGV("ip", "link", "show", BRIDGE));
  ck_assert_msg(r.status == 1 && strstr(r.err, "does not exist"),
                "the host's network has " BRIDGE " (ip: %d):\n%s%s", r.status,
                r.out, r.err);
  nsb_res_free(&r);
  ck_assert_msg(nsb_link_exists(BRIDGE), BRIDGE " is not in the test's netns");
}

/* StopPodSandbox, then RemovePodSandbox: not ready, then gone, and its
 * network (veth, namespace) and cgroup with it. */
static void remove_pod(struct pod *p)
{
  struct h_res r;

  json_decref(CRI("stopp", p->id));
  json_t *j = CRI("inspectp", p->id);
  ck_assert_str_eq(jstr(j, "status.state"), "SANDBOX_NOTREADY");
  json_decref(j);
  ck_assert_int_eq(veths(), 0);
  json_decref(CRI("rmp", p->id));
  ck_assert_ptr_null(cri_call(&r, H_ARGV("inspectp", p->id)));
  H_ASSERT_HAS(&r, err, "NOT_FOUND");
  h_res_free(&r);
  j = CRI("pods");
  ck_assert_uint_eq(jlen(j, "items"), 0);
  json_decref(j);
  ck_assert_int_eq(nsfs_mounts(), 0);
  ck_assert_msg(!h_cgroup_has_child(run_name, p->id),
                "the sandbox's cgroup /%s/%s was left", run_name, p->id);
  assert_host_network_untouched();
}

/* CreateContainer: busybox running script, its output logged to
 * LOGS/name.log. */
static void create_container(const struct pod *p, const char *name,
                             const char *script, char id[80])
{
  char path[PATH_MAX + 64], log[128];

  h_fmt(log, sizeof(log), "%s.log", name);
  json_t *c = json_pack("{s:{s:s}, s:{s:s}, s:[sss], s:s}", "metadata", "name",
                        name, "image", "image", IMAGE, "command", "sh", "-c",
                        script, "log_path", log);
  h_fmt(path, sizeof(path), "%s/%s.json", t.dir, name);
  ck_assert_int_eq(json_dump_file(c, path, JSON_INDENT(1)), 0);
  json_decref(c);
  json_t *j = CRI("create", p->id, path, p->config);
  jcopy(j, "container_id", id, 80);
  json_decref(j);
}

/* ContainerStatus: its state, and exit code when asked. */
static void container_state(const char *id, char *state, size_t size,
                            int *exit_code)
{
  json_t *j = CRI("inspect", id);

  h_fmt(state, size, "%s", jstr(j, "status.state"));
  if (exit_code)
    *exit_code = (int)json_integer_value(jget(j, "status.exit_code"));
  json_decref(j);
}

static void assert_state(const char *id, const char *want)
{
  char state[64];

  container_state(id, state, sizeof(state), NULL);
  ck_assert_str_eq(state, want);
}

static bool exited(void *id)
{
  char state[64];

  container_state(id, state, sizeof(state), NULL);
  return strcmp(state, "CONTAINER_EXITED") == 0;
}

struct log_wait {
  const char *path, *text;
};

static bool log_has(void *arg)
{
  struct log_wait *w = arg;
  char *log = h_read_file(w->path);
  bool has = log && strstr(log, w->text);

  free(log);
  return has;
}

/* Waits for text in the container's log (LOGS/name.log). */
static void assert_log_has(const char *name, const char *text)
{
  char path[PATH_MAX + 64];

  h_fmt(path, sizeof(path), "%s/%s.log", t.logs, name);
  ck_assert_msg(h_poll(log_has, &(struct log_wait){path, text}, 20000),
                "%s never logged \"%s\":\n%s", name, text, h_read_file(path));
}

/* Waits for a whole line the container wrote to stdout, as CRI logs it
 * ("TIME stdout F LINE"). */
static void assert_logged(const char *name, const char *line)
{
  char text[512];

  h_fmt(text, sizeof(text), " stdout F %s\n", line);
  assert_log_has(name, text);
}

static void remove_container(const char *id)
{
  json_decref(CRI("rm", id));
  json_t *j = CRI("ps");
  ck_assert_uint_eq(jlen(j, "containers"), 0);
  json_decref(j);
}

/* ---- tests ------------------------------------------------------------- */

#define TERM_EXIT "trap 'exit 7' TERM; while :; do sleep 0.1; done"

/* The whole life of a pod with one container: each call's status, what
 * the container saw (the pod's hostname and address), that StopContainer
 * delivers SIGTERM (the workload's own exit code, well before the
 * timeout), and nothing left on the host. */
START_TEST(test_cri_pod_lifecycle)
{
  struct pod p;
  char id[80], line[128];
  int code = -1;

  run_pod(&p);
  create_container(&p, "c1",
                   "echo hello from $(hostname); ip -4 -o addr show eth0; "
                   "echo up; " TERM_EXIT,
                   id);
  assert_state(id, "CONTAINER_CREATED");
  json_decref(CRI("start", id));
  assert_state(id, "CONTAINER_RUNNING");
  assert_logged("c1", "up");
  assert_logged("c1", "hello from " POD_HOSTNAME);
  /* the address CNI gave the pod is the one the container has */
  h_fmt(line, sizeof(line), "inet %s/24 ", p.ip);
  assert_log_has("c1", line);
  long start = h_now_ms();
  json_decref(CRI("stop", id, "20"));
  ck_assert_msg(h_now_ms() - start < 15000,
                "StopContainer waited for its timeout: no SIGTERM delivered");
  char state[64];
  container_state(id, state, sizeof(state), &code);
  ck_assert_str_eq(state, "CONTAINER_EXITED");
  ck_assert_int_eq(code, 7);
  remove_container(id);
  remove_pod(&p);
}
END_TEST

/* A container that exits by itself: CRI reports its exit code and output. */
START_TEST(test_cri_container_exit_code)
{
  struct pod p;
  char id[80], state[64];
  int code = -1;

  run_pod(&p);
  create_container(&p, "c2", "echo bye; exit 3", id);
  json_decref(CRI("start", id));
  ck_assert_msg(h_poll(exited, id, 20000), "c2 did not exit");
  container_state(id, state, sizeof(state), &code);
  ck_assert_int_eq(code, 3);
  json_t *j = CRI("inspect", id);
  ck_assert_str_eq(jstr(j, "status.reason"), "Error");
  json_decref(j);
  assert_logged("c2", "bye");
  remove_container(id);
  remove_pod(&p);
}
END_TEST

/* ExecSync (mocker-runtime exec --process F --detach --pid-file P ID):
 * the exec sees the container's files and the pod's hostname, and its
 * stdout, stderr and exit code come back apart; the container runs on. */
START_TEST(test_cri_exec_sync)
{
  struct pod p;
  char id[80];

  run_pod(&p);
  create_container(
      &p, "c3", "echo from the container >/tmp/msg; echo up; " TERM_EXIT, id);
  json_decref(CRI("start", id));
  assert_logged("c3", "up");
  json_t *j = CRI("exec", id, "10", "sh", "-c",
                  "cat /tmp/msg; hostname; echo to stderr >&2; exit 3");
  ck_assert_str_eq(jstr(j, "stdout"), "from the container\n" POD_HOSTNAME "\n");
  ck_assert_str_eq(jstr(j, "stderr"), "to stderr\n");
  ck_assert_int_eq(json_integer_value(jget(j, "exit_code")), 3);
  json_decref(j);
  assert_state(id, "CONTAINER_RUNNING");
  json_decref(CRI("stop", id, "20"));
  remove_container(id);
  remove_pod(&p);
}
END_TEST

int main(void)
{
  host_net = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  Suite *s = suite_create("cri");
  TCase *tc = tcase_create("cri");

  /* h_tcase's fixtures, with ours around them: suite_teardown must run
   * after the harness's (Check runs teardowns in reverse order), once it
   * has killed what a failed test left; teardown before its leftover
   * checks. */
  tcase_add_unchecked_fixture(tc, suite_setup, suite_teardown);
  tcase_add_unchecked_fixture(tc, h_suite_setup, h_suite_teardown);
  tcase_add_checked_fixture(tc, h_test_setup, h_test_teardown);
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 240);
  tcase_add_test(tc, test_cri_pod_lifecycle);
  tcase_add_test(tc, test_cri_container_exit_code);
  tcase_add_test(tc, test_cri_exec_sync);
  suite_add_tcase(s, tc);
  return h_main(s);
}
