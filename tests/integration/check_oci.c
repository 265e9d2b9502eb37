/* mocker-runtime, the OCI runtime CLI, driven as containerd's shim drives
 * runc: create with a bundle and a pid file, start, state, kill, delete,
 * with this test process as the subreaper that reaps the container's
 * init and reads its exit status. Bundles are made here: a rootfs of
 * busybox-static and the config `mocker-runtime spec` writes, edited. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <poll.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define BUSYBOX "/bin/busybox"

static char runtime[4096];

static const char *runtime_path(void)
{
  char copy[4096];

  if (!runtime[0]) {
    snprintf(copy, sizeof(copy), "%s", h_mocker());
    h_fmt(runtime, sizeof(runtime), "%s/mocker-runtime", dirname(copy));
  }
  return runtime;
}

/* `mocker-runtime --root ROOT ARGV...`, captured (for the short verbs:
 * their stdio is not the container's). */
static int rt(struct h_res *r, const char *const argv[])
{
  return h_run(r, &(struct h_opts){.program = runtime_path()}, argv);
}
#define RT(res, ...) rt((res), H_ARGV(__VA_ARGS__))

/* A verb whose stdio becomes a container process's (create, exec -d):
 * stdin and stdout /dev/null, stderr to a file (a pipe would stay open as
 * long as that process), and we wait for the verb itself only. Returns
 * its exit status; stderr in err_out. */
static int rt_quiet(const char *const argv[], const char *name, char *err_out,
                    size_t err_size)
{
  const char *args[32] = {"mocker-runtime", "--root", h.root};
  char errpath[4200];
  size_t n = 3;
  pid_t pid;
  int status;

  for (size_t i = 0; argv[i] && n < 31; i++)
    args[n++] = argv[i];
  args[n] = NULL;
  h_fmt(errpath, sizeof(errpath), "%s/%s.err", h.host, name);
  pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    int e = open(errpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    dup2(null, 0), dup2(null, 1), dup2(e, 2);
    execv(runtime_path(), (char *const *)args);
    _exit(127);
  }
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  char *text = h_read_file(errpath);
  snprintf(err_out, err_size, "%s", text ? text : "");
  free(text);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int rt_create(const char *bundle, const char *id, char *err_out,
                     size_t err_size)
{
  char pidfile[4200];

  h_fmt(pidfile, sizeof(pidfile), "%s/%s.pid", h.host, id);
  return rt_quiet(H_ARGV("create", "--bundle", bundle, "--pid-file", pidfile,
                         id),
                  id, err_out, err_size);
}

/* A bundle dir under h.host: rootfs/bin/{busybox,sh}, an /out bind of
 * host/out (where the process leaves what it saw), and the spec's config
 * with args, no terminal and no rlimits; edit may change more. */
static void make_bundle(char bundle[4096], const char *name, const char *script,
                        void (*edit)(json_t *))
{
  char path[4300], out[4300];
  struct h_res r;

  h_fmt(bundle, 4096, "%s/%s", h.host, name);
  h_fmt(out, sizeof(out), "%s/out", h.host);
  mkdir(out, 0755);
  h_fmt(path, sizeof(path),
        "mkdir -p %s/rootfs/bin %s/rootfs/out && cp %s %s/rootfs/bin/busybox "
        "&& ln -s busybox %s/rootfs/bin/sh",
        bundle, bundle, BUSYBOX, bundle, bundle);
  ck_assert_int_eq(system(path), 0);
  RT(&r, "spec", "--bundle", bundle);
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  h_fmt(path, sizeof(path), "%s/config.json", bundle);
  json_t *cfg = json_load_file(path, 0, NULL), *process;
  ck_assert_ptr_nonnull(cfg);
  process = json_object_get(cfg, "process");
  json_object_set_new(process, "terminal", json_false());
  json_object_set_new(process, "rlimits",
                      json_pack("[{s:s, s:i, s:i}, {s:s, s:i, s:i}]", "type",
                                "RLIMIT_NOFILE", "hard", 1024, "soft", 512,
                                "type", "RLIMIT_CORE", "hard", 0, "soft", 0));
  json_object_set_new(process, "args",
                      json_pack("[s, s, s]", "sh", "-c", script));
  json_array_append_new(json_object_get(cfg, "mounts"),
                        json_pack("{s:s, s:s, s:s, s:[s, s]}", "destination",
                                  "/out", "type", "bind", "source", out,
                                  "options", "rbind", "rw"));
  if (edit)
    edit(cfg);
  ck_assert_int_eq(json_dump_file(cfg, path, JSON_INDENT(1)), 0);
  json_decref(cfg);
}

static pid_t read_pid_file(const char *id, char *raw, size_t size)
{
  char path[4200];

  h_fmt(path, sizeof(path), "%s/%s.pid", h.host, id);
  char *text = h_read_file(path);
  ck_assert_ptr_nonnull(text);
  snprintf(raw, size, "%s", text);
  free(text);
  return (pid_t)atoi(raw);
}

/* The status `state` reports. */
static void assert_state(const char *id, const char *want)
{
  struct h_res r;

  RT(&r, "state", id);
  H_ASSERT_STATUS(&r, 0);
  json_auto_t *j = json_loads(r.out, 0, NULL);
  ck_assert_msg(j, "state is not JSON: %s", r.out);
  ck_assert_str_eq(json_string_value(json_object_get(j, "status")), want);
  ck_assert_str_eq(json_string_value(json_object_get(j, "id")), id);
  ck_assert_str_eq(json_string_value(json_object_get(j, "ociVersion")),
                   "1.1.0");
  h_res_free(&r);
}

/* As the shim: we are the subreaper, init is reparented to us when
 * create exits, and its exit status is the process's. */
static int reap(pid_t init)
{
  int status;

  ck_assert_int_eq(waitpid(init, &status, 0), init);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static char *out_file(const char *name)
{
  char path[4200];

  h_fmt(path, sizeof(path), "%s/out/%s", h.host, name);
  return h_read_file(path);
}

static void delete_ok(const char *id)
{
  struct h_res r;

  RT(&r, "delete", id);
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
}

/* create, start, reap and delete: the bundle's process run to its end
 * as the shim runs it; its exit status. */
static int run_to_exit(const char *bundle, const char *id)
{
  char err[4096], raw[64];
  struct h_res r;

  ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  ck_assert_msg(rt_create(bundle, id, err, sizeof(err)) == 0, "%s", err);
  pid_t init = read_pid_file(id, raw, sizeof(raw));
  RT(&r, "start", id);
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  int status = reap(init);
  delete_ok(id);
  return status;
}

START_TEST(test_create_start_exit_status_delete)
{
  char bundle[4096], err[4096], raw[64];
  pid_t init;

  ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  make_bundle(bundle, "b",
              "echo $$ $(id -u):$(id -g) $(hostname) $(ulimit -n) "
              "$(ulimit -Hn) $(ulimit -c) > /out/seen; exit 3",
              NULL);
  ck_assert_msg(rt_create(bundle, "c1", err, sizeof(err)) == 0, "%s", err);
  init = read_pid_file("c1", raw, sizeof(raw));
  ck_assert_msg(init > 0 && !strchr(raw, '\n'),
                "pid file must hold the pid and no newline: \"%s\"", raw);
  assert_state("c1", "created");
  char *seen = out_file("seen");
  ck_assert_msg(!seen, "the process ran before start");
  struct h_res r;
  RT(&r, "start", "c1");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  ck_assert_int_eq(reap(init), 3);
  seen = out_file("seen");
  ck_assert_ptr_nonnull(seen);
  /* pid 2 under mocker-init, root, the spec's hostname and rlimits */
  ck_assert_str_eq(seen, "2 0:0 mocker 512 1024 0\n");
  free(seen);
  assert_state("c1", "stopped");
  delete_ok("c1");
  RT(&r, "state", "c1");
  ck_assert_int_eq(r.status, 1);
  H_ASSERT_HAS(&r, err, "does not exist");
  h_res_free(&r);
}
END_TEST

/* Stricter than runc and crun: a created container is not stopped. */
START_TEST(test_delete_created_needs_force)
{
  char bundle[4096], err[4096], raw[64];
  struct h_res r;

  ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  make_bundle(bundle, "b", "exit 0", NULL);
  ck_assert_msg(rt_create(bundle, "c2", err, sizeof(err)) == 0, "%s", err);
  pid_t init = read_pid_file("c2", raw, sizeof(raw));
  RT(&r, "delete", "c2");
  ck_assert_int_eq(r.status, 1);
  H_ASSERT_HAS(&r, err,
               "cannot delete container c2 that is not stopped: "
               "created");
  h_res_free(&r);
  RT(&r, "delete", "--force", "c2");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  ck_assert_int_eq(reap(init), 128 + SIGKILL);
  RT(&r, "delete", "--force", "c2"); /* idempotent */
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
}
END_TEST

/* kill reaches the process through init; --all on a stopped container
 * succeeds, as containerd's shim needs. */
START_TEST(test_kill_then_kill_all_when_stopped)
{
  char bundle[4096], err[4096], raw[64];
  struct h_res r;

  ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  make_bundle(bundle, "b",
              "trap 'echo got-term > /out/sig; exit 7' TERM; "
              "touch /out/ready; while :; do sleep 0.1; done",
              NULL);
  ck_assert_msg(rt_create(bundle, "c3", err, sizeof(err)) == 0, "%s", err);
  pid_t init = read_pid_file("c3", raw, sizeof(raw));
  RT(&r, "start", "c3");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  char ready[4200];
  h_fmt(ready, sizeof(ready), "%s/out/ready", h.host);
  ck_assert(h_poll(h_path_exists_pred, ready, 10000));
  assert_state("c3", "running");
  RT(&r, "kill", "c3", "TERM");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  ck_assert_int_eq(reap(init), 7);
  char *sig = out_file("sig");
  ck_assert_ptr_nonnull(sig);
  ck_assert_str_eq(sig, "got-term\n");
  free(sig);
  RT(&r, "kill", "--all", "c3", "9");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  RT(&r, "kill", "c3", "9");
  ck_assert_int_eq(r.status, 1);
  H_ASSERT_HAS(&r, err, "is not running");
  h_res_free(&r);
  delete_ok("c3");
}
END_TEST

static void readonly_uid_1000(json_t *cfg)
{
  json_t *user = json_object_get(json_object_get(cfg, "process"), "user");
  json_t *caps =
      json_object_get(json_object_get(cfg, "process"), "capabilities");

  json_object_set_new(user, "uid", json_integer(1000));
  json_object_set_new(user, "gid", json_integer(1000));
  json_object_set_new(caps, "effective", json_array());
  json_object_set_new(caps, "permitted", json_array());
  json_object_set_new(caps, "ambient", json_array());
  json_object_set_new(cfg, "hostname", json_string("oci-host"));
}

/* The process runs as the spec's user, in a read-only rootfs, with no
 * capabilities beyond its sets. */
START_TEST(test_user_readonly_root_and_caps)
{
  char bundle[4096], err[4096], raw[64];
  struct h_res r;

  ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  make_bundle(bundle, "b",
              "{ id -u; hostname; touch /x 2>&1 || echo ro; "
              "grep CapEff /proc/self/status; } > /out/seen 2>&1; exit 0",
              readonly_uid_1000);
  char out[4200];
  h_fmt(out, sizeof(out), "%s/out", h.host);
  chmod(out, 0777);
  ck_assert_msg(rt_create(bundle, "c4", err, sizeof(err)) == 0, "%s", err);
  pid_t init = read_pid_file("c4", raw, sizeof(raw));
  RT(&r, "start", "c4");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  ck_assert_int_eq(reap(init), 0);
  char *seen = out_file("seen");
  ck_assert_ptr_nonnull(seen);
  ck_assert_msg(strstr(seen, "1000\noci-host\n"), "saw: %s", seen);
  ck_assert_msg(strstr(seen, "Read-only file system"), "saw: %s", seen);
  ck_assert_msg(strstr(seen, "CapEff:\t0000000000000000"), "saw: %s", seen);
  free(seen);
  delete_ok("c4");
}
END_TEST

static void ambient_bind_for_uid_1000(json_t *cfg)
{
  json_t *process = json_object_get(cfg, "process");
  json_t *user = json_object_get(process, "user");
  json_t *caps = json_object_get(process, "capabilities");
  const char *const sets[] = {"effective", "permitted", "inheritable",
                              "ambient"};

  json_object_set_new(user, "uid", json_integer(1000));
  json_object_set_new(user, "gid", json_integer(1000));
  for (size_t i = 0; i < 4; i++)
    json_object_set_new(caps, sets[i],
                        json_pack("[s]", "CAP_NET_BIND_SERVICE"));
}

/* The five sets reach a user other than root as the kernel carries them
 * through exec: an ambient capability stays effective, and nothing
 * else is left. */
START_TEST(test_capability_sets_of_a_user)
{
  char bundle[4096], out[4200];

  make_bundle(bundle, "b", "grep ^Cap /proc/self/status > /out/caps",
              ambient_bind_for_uid_1000);
  h_fmt(out, sizeof(out), "%s/out", h.host);
  chmod(out, 0777);
  ck_assert_int_eq(run_to_exit(bundle, "c10"), 0);
  char *seen = out_file("caps");
  ck_assert_ptr_nonnull(seen);
  for (const char *const *want =
           (const char *const[]){"CapInh:\t0000000000000400",
                                 "CapPrm:\t0000000000000400",
                                 "CapEff:\t0000000000000400",
                                 "CapAmb:\t0000000000000400", NULL};
       *want; want++)
    ck_assert_msg(strstr(seen, *want), "no %s in:\n%s", *want, seen);
  free(seen);
}
END_TEST

static void domain_oom_personality(json_t *cfg)
{
  json_object_set_new(cfg, "domainname", json_string("example.org"));
  json_object_set_new(json_object_get(cfg, "process"), "oomScoreAdj",
                      json_integer(617));
  json_object_set_new(json_object_get(cfg, "linux"), "personality",
                      json_pack("{s:s}", "domain", "LINUX32"));
}

/* domainname in the container's UTS namespace, the OOM score and the
 * personality, set once in init-to-be and inherited by the process. */
START_TEST(test_domainname_oom_score_personality)
{
  char bundle[4096];

  make_bundle(bundle, "b",
              "{ cat /proc/sys/kernel/domainname /proc/self/oom_score_adj; "
              "uname -m; } > /out/seen",
              domain_oom_personality);
  ck_assert_int_eq(run_to_exit(bundle, "c11"), 0);
  char *seen = out_file("seen");
  ck_assert_ptr_nonnull(seen);
  ck_assert_str_eq(seen, "example.org\n617\ni686\n");
  free(seen);
}
END_TEST

/* A process holding namespaces of its own, for a bundle to join: net,
 * ipc, uts (named "joined") and mount in it, pid in its child. */
static pid_t ns_holder, ns_holder_child;

static void start_ns_holder(void)
{
  int pipefd[2];

  ck_assert_int_eq(pipe(pipefd), 0);
  ns_holder = fork();
  ck_assert_int_ge(ns_holder, 0);
  if (ns_holder == 0) {
    if (unshare(CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNS |
                CLONE_NEWPID) < 0 ||
        mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
        sethostname("joined", 6) < 0)
      _exit(1);
    pid_t child = fork(); /* pid 1 of the new pid namespace */
    if (child == 0) {
      for (;;)
        pause();
    }
    ck_assert_int_eq(write(pipefd[1], &child, sizeof(child)), sizeof(child));
    for (;;)
      pause();
  }
  close(pipefd[1]);
  ck_assert_int_eq(read(pipefd[0], &ns_holder_child, sizeof(ns_holder_child)),
                   sizeof(ns_holder_child));
  close(pipefd[0]);
}

/* Its child first (pid 1 there, so its namespace goes with it), then
 * the holder; we, the subreaper, reap whichever ends up ours. */
static void stop_ns_holder(void)
{
  kill(ns_holder_child, SIGKILL);
  kill(ns_holder, SIGKILL);
  waitpid(ns_holder, NULL, 0);
  waitpid(ns_holder_child, NULL, 0);
}

static void join_holder_namespaces(json_t *cfg)
{
  json_t *ns = json_array();
  const char *const kinds[] = {"network", "ipc", "uts", "mount", "pid"};
  const char *const files[] = {"net", "ipc", "uts", "mnt", "pid"};
  char path[64];

  for (size_t i = 0; i < 5; i++) {
    snprintf(path, sizeof(path), "/proc/%d/ns/%s",
             (int)(i == 4 ? ns_holder_child : ns_holder), files[i]);
    json_array_append_new(ns, json_pack("{s:s, s:s}", "type", kinds[i],
                                        "path", path));
  }
  json_object_set_new(json_object_get(cfg, "linux"), "namespaces", ns);
  json_object_del(cfg, "hostname");
}

static void host_ipc_and_uts(json_t *cfg)
{
  json_t *ns = json_pack("[{s:s}, {s:s}, {s:s}]", "type", "mount", "type",
                         "pid", "type", "network");

  json_object_set_new(json_object_get(cfg, "linux"), "namespaces", ns);
  json_object_del(cfg, "hostname");
}

static void ns_link(pid_t pid, const char *ns, char *out, size_t size)
{
  char path[64];
  ssize_t n;

  snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, ns);
  n = readlink(path, out, size - 1);
  ck_assert_int_gt(n, 0);
  out[n] = '\0';
}

static char *run_bundle_seen(const char *id, void (*edit)(json_t *))
{
  char bundle[4096];

  make_bundle(bundle, id,
              "for n in net ipc uts mnt pid; do readlink /proc/self/ns/$n; "
              "done > /out/seen; hostname >> /out/seen",
              edit);
  ck_assert_int_eq(run_to_exit(bundle, id), 0);
  char *seen = out_file("seen");
  ck_assert_ptr_nonnull(seen);
  return seen;
}

/* linux.namespaces: joined by path (network, ipc, uts, mount, pid: the
 * process is in each), and a namespace left out is the runtime's own
 * (ipc, uts here). */
static void user_namespace_mapped(json_t *cfg)
{
  json_t *lx = json_object_get(cfg, "linux");

  json_array_append_new(json_object_get(lx, "namespaces"),
                        json_pack("{s:s}", "type", "user"));
  json_object_set_new(lx, "uidMappings",
                      json_pack("[{s:i, s:i, s:i}]", "containerID", 0,
                                "hostID", 310000, "size", 65536));
  json_object_set_new(lx, "gidMappings",
                      json_pack("[{s:i, s:i, s:i}]", "containerID", 0,
                                "hostID", 320000, "size", 65536));
}

/* linux.uidMappings and gidMappings: the process is root of a user
 * namespace of its own, seen from both sides; a mapping without the
 * namespace, or the namespace without one, is refused. */
START_TEST(test_user_namespace_mappings)
{
  char bundle[4096], out[4200], path[4300], err[4096];
  struct stat st;

  make_bundle(bundle, "u1",
              "cat /proc/self/uid_map /proc/self/gid_map > /out/maps; "
              "id -u >> /out/maps; touch /out/made",
              user_namespace_mapped);
  h_fmt(out, sizeof(out), "%s/out", h.host);
  ck_assert_int_eq(chmod(out, 0777), 0); /* the mapped root writes there */
  /* the caller's part, as containerd's or podman's: a rootfs that
   * belongs to the container's root */
  h_fmt(path, sizeof(path), "chown -R 310000:320000 %s/rootfs", bundle);
  ck_assert_int_eq(system(path), 0);
  ck_assert_int_eq(run_to_exit(bundle, "u1"), 0);
  char *maps = out_file("maps");
  ck_assert_ptr_nonnull(maps);
  ck_assert_msg(strstr(maps, "310000      65536\n") &&
                    strstr(maps, "320000      65536\n0\n"),
                "%s", maps);
  free(maps);
  h_fmt(path, sizeof(path), "%s/made", out);
  ck_assert_int_eq(stat(path, &st), 0);
  ck_assert_int_eq(st.st_uid, 310000);
  ck_assert_int_eq(st.st_gid, 320000);
  h_fmt(path, sizeof(path), "%s/config.json", bundle);
  json_t *cfg = json_load_file(path, 0, NULL);
  json_object_del(json_object_get(cfg, "linux"), "gidMappings");
  ck_assert_int_eq(json_dump_file(cfg, path, 0), 0);
  ck_assert_int_ne(rt_create(bundle, "u2", err, sizeof(err)), 0);
  ck_assert_msg(strstr(err, "linux.uidMappings and linux.gidMappings"), "%s",
                err);
  json_decref(cfg);
}
END_TEST

START_TEST(test_namespaces_joined_by_path_or_shared)
{
  char want[128], host_uts[64];

  ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  start_ns_holder();
  char *seen = run_bundle_seen("c12", join_holder_namespaces);
  const char *const files[] = {"net", "ipc", "uts", "mnt", "pid"};
  for (size_t i = 0; i < 5; i++) {
    ns_link(i == 4 ? ns_holder_child : ns_holder, files[i], want, sizeof(want));
    ck_assert_msg(strstr(seen, want), "not in %s (%s):\n%s", files[i], want,
                  seen);
  }
  ck_assert_msg(strstr(seen, "joined\n"), "%s", seen);
  free(seen);
  stop_ns_holder();
  seen = run_bundle_seen("c13", host_ipc_and_uts);
  ns_link(getpid(), "ipc", want, sizeof(want));
  ck_assert_msg(strstr(seen, want), "not in our ipc ns:\n%s", seen);
  ns_link(getpid(), "uts", want, sizeof(want));
  ck_assert_msg(strstr(seen, want), "not in our uts ns:\n%s", seen);
  ck_assert_int_eq(gethostname(host_uts, sizeof(host_uts)), 0);
  ck_assert_msg(strstr(seen, host_uts), "%s", seen);
  free(seen);
}
END_TEST

static char relative_cgroup[64];

static void cpu_resources_relative_cgroup(json_t *cfg)
{
  json_t *lx = json_object_get(cfg, "linux");

  snprintf(relative_cgroup, sizeof(relative_cgroup), "mk-oci-%d/c14",
           (int)getpid());
  json_object_set_new(lx, "cgroupsPath", json_string(relative_cgroup));
  json_object_set_new(
      lx, "resources",
      json_pack("{s:{s:i, s:i, s:s, s:s}}", "cpu", "quota", 50000, "period",
                500000, "cpus", "0", "mems", "0"));
}

/* linux.resources.cpu reaches the cgroup as given (quota over the
 * bundle's own period, cpus, mems), in a relative cgroupsPath, which
 * mocker places under its own subtree. */
START_TEST(test_cpu_resources_in_a_relative_cgroup)
{
  char bundle[4096], err[4096], raw[64];
  struct h_res r;

  if (!h_exists("/sys/fs/cgroup/cpuset/cgroup.procs"))
    return; /* a v2 host: the files differ, check_cgroup covers v2 */
  ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  make_bundle(bundle, "b",
              "cat /proc/self/cgroup /sys/fs/cgroup/cpu/cpu.cfs_quota_us "
              "/sys/fs/cgroup/cpu/cpu.cfs_period_us "
              "/sys/fs/cgroup/cpuset/cpuset.cpus "
              "/sys/fs/cgroup/cpuset/cpuset.mems > /out/seen",
              cpu_resources_relative_cgroup);
  ck_assert_msg(rt_create(bundle, "c14", err, sizeof(err)) == 0, "%s", err);
  pid_t init = read_pid_file("c14", raw, sizeof(raw));
  char path[128], *cg;
  snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)init);
  cg = h_read_file(path);
  ck_assert_ptr_nonnull(cg);
  ck_assert_msg(strstr(cg, relative_cgroup), "%s", cg);
  free(cg);
  RT(&r, "start", "c14");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  ck_assert_int_eq(reap(init), 0);
  delete_ok("c14");
  char *seen = out_file("seen");
  ck_assert_ptr_nonnull(seen);
  ck_assert_msg(strstr(seen, "\n50000\n500000\n0\n0\n"), "%s", seen);
  free(seen);
  /* the parent the path named stays, as runc leaves it; empty, it goes */
  snprintf(path, sizeof(path), "mocker/mk-oci-%d", (int)getpid());
  ck_assert_msg(h_poll(h_cgroup_tree_gone, path, 5000), "%s not empty", path);
}
END_TEST

static void three_devices(json_t *cfg)
{
  json_object_set_new(
      json_object_get(cfg, "linux"), "devices",
      json_pack("[{s:s, s:s, s:i, s:i, s:i, s:i, s:i},"
                " {s:s, s:s, s:i, s:i, s:i},"
                " {s:s, s:s, s:i, s:i, s:i}]",
                "path", "/dev/test1", "type", "c", "major", 10, "minor", 66,
                "fileMode", 0640, "uid", 0, "gid", 0, /* */
                "path", "/dev/sub/test2", "type", "b", "major", 8, "minor",
                16, "fileMode", 0600, /* */
                "path", "/dev/test3", "type", "p", "fileMode", 0660, "uid",
                1000, "gid", 1000));
}

/* linux.devices: nodes made from their numbers, a fifo, parents made,
 * modes and owners as given; opening one is still the device rules' to
 * allow (they do not here). */
START_TEST(test_linux_devices_made_from_numbers)
{
  char bundle[4096];

  make_bundle(bundle, "b",
              "stat -c '%F %t:%T %a %u:%g %n' /dev/test1 /dev/sub/test2 "
              "/dev/test3 > /out/seen; cat /dev/test1 2>> /out/seen; true",
              three_devices);
  ck_assert_int_eq(run_to_exit(bundle, "c15"), 0);
  char *seen = out_file("seen");
  ck_assert_ptr_nonnull(seen);
  ck_assert_msg(strstr(seen, "character special file a:42 640 0:0 /dev/test1\n"
                             "block special file 8:10 600 0:0 /dev/sub/test2\n"
                             "fifo 0:0 660 1000:1000 /dev/test3\n"),
                "%s", seen);
  ck_assert_msg(strstr(seen, "Operation not permitted"), "%s", seen);
  free(seen);
}
END_TEST

static char data_dir[4200];

/* The bundle's own list: the standard ones with options of its choice,
 * a recursive bind shared, a plain bind of a directory with a mount
 * below it, and / slave. */
static void own_mounts(json_t *cfg)
{
  char out[4300];

  h_fmt(out, sizeof(out), "%s/out", h.host);
  json_object_set_new(
      cfg, "mounts",
      json_pack(
          "[{s:s, s:s, s:s}, {s:s, s:s, s:s, s:[s, s, s, s]},"
          " {s:s, s:s, s:s, s:[s, s, s, s, s]},"
          " {s:s, s:s, s:s, s:[s, s, s]}, {s:s, s:s, s:s},"
          " {s:s, s:s, s:s, s:[s]}, {s:s, s:s, s:s, s:[s]},"
          " {s:s, s:s, s:s, s:[s, s]}, {s:s, s:s, s:s, s:[s, s]}]",
          "destination", "/proc", "type", "proc", "source", "proc", /* */
          "destination", "/dev", "type", "tmpfs", "source", "tmpfs",
          "options", "nosuid", "strictatime", "mode=755", "size=65536k",
          "destination", "/dev/pts", "type", "devpts", "source", "devpts",
          "options", "nosuid", "noexec", "newinstance", "ptmxmode=0666",
          "mode=0620", /* */
          "destination", "/dev/shm", "type", "tmpfs", "source", "shm",
          "options", "noatime", "size=1m", "nodev", /* */
          "destination", "/dev/mqueue", "type", "mqueue", "source", "mqueue",
          "destination", "/sys", "type", "sysfs", "source", "sysfs",
          "options", "ro", /* */
          "destination", "/sys/fs/cgroup", "type", "cgroup", "source",
          "cgroup", "options", "ro", /* */
          "destination", "/out", "type", "bind", "source", out, "options",
          "rbind", "rshared", /* */
          "destination", "/data", "type", "bind", "source", data_dir,
          "options", "bind", "ro"));
  json_object_set_new(json_object_get(cfg, "linux"), "rootfsPropagation",
                      json_string("rslave"));
}

/* The targets of mountinfo's lines, in order, one per line. */
static void mount_targets(const char *mountinfo, char *out, size_t size)
{
  char target[512];
  size_t used = 0;

  out[0] = '\0';
  for (const char *l = mountinfo; l && *l; l = strchr(l, '\n') + 1) {
    if (sscanf(l, "%*s %*s %*s %*s %511s", target) == 1)
      used += (size_t)snprintf(out + used, size - used, "%s\n", target);
    if (!strchr(l, '\n') || used >= size)
      break;
  }
}

/* The mountinfo line of target. */
static const char *mount_line(const char *mountinfo, const char *target)
{
  char needle[128];

  snprintf(needle, sizeof(needle), " %s ", target);
  const char *hit = strstr(mountinfo, needle);
  ck_assert_msg(hit, "no %s in:\n%s", target, mountinfo);
  return hit;
}

/* mounts: exactly the bundle's, in its order, with its options, data
 * and propagation; a plain bind takes no mount from below its source. */
START_TEST(test_bundle_mounts_in_order_with_options)
{
  char bundle[4096], err[4096], raw[64], sub[4300], order[4096];
  struct h_res r;

  ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  h_fmt(data_dir, sizeof(data_dir), "%s/data", h.host);
  h_fmt(sub, sizeof(sub), "%s/sub", data_dir);
  ck_assert_int_eq(mkdir(data_dir, 0755), 0);
  ck_assert_int_eq(mkdir(sub, 0755), 0);
  ck_assert_int_eq(mount("tmpfs", sub, "tmpfs", 0, "size=1m"), 0);
  make_bundle(bundle, "b", "cat /proc/self/mountinfo > /out/mi", own_mounts);
  int rc = rt_create(bundle, "c16", err, sizeof(err));
  umount2(sub, MNT_DETACH); /* the container has its own copy */
  ck_assert_msg(rc == 0, "%s", err);
  pid_t init = read_pid_file("c16", raw, sizeof(raw));
  RT(&r, "start", "c16");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  ck_assert_int_eq(reap(init), 0);
  delete_ok("c16");
  char *mi = out_file("mi");
  ck_assert_ptr_nonnull(mi);
  mount_targets(mi, order, sizeof(order));
  ck_assert_msg(strstr(order, "/\n/proc\n/dev\n/dev/pts\n/dev/shm\n"
                              "/dev/mqueue\n/sys\n/sys/fs/cgroup\n"),
                "order:\n%s", order);
  ck_assert_msg(strstr(order, "/out\n/data\n"), "order:\n%s", order);
  ck_assert_msg(!strstr(order, "/data/sub"), "a plain bind took /data/sub");
  const char *shm = mount_line(mi, "/dev/shm");
  ck_assert_msg(strstr(shm, "noatime") && strstr(shm, "size=1024k") &&
                    strstr(shm, " shm "),
                "%.200s", shm);
  ck_assert_msg(strstr(mount_line(mi, "/dev/pts"), "ptmxmode=666"), "%s", mi);
  ck_assert_msg(strstr(mount_line(mi, "/out"), "shared:"), "%s", mi);
  ck_assert_msg(strstr(mount_line(mi, "/data"), " ro,"), "%s", mi);
  free(mi);
}
END_TEST

static void ext4_mount(json_t *cfg)
{
  json_array_append_new(json_object_get(cfg, "mounts"),
                        json_pack("{s:s, s:s, s:s}", "destination", "/x",
                                  "type", "ext4", "source", "/dev/vda"));
}

static void bogus_cap(json_t *cfg)
{
  json_array_append_new(
      json_object_get(
          json_object_get(json_object_get(cfg, "process"), "capabilities"),
          "bounding"),
      json_string("CAP_BOGUS"));
}

static void effective_beyond_permitted(json_t *cfg)
{
  json_t *caps =
      json_object_get(json_object_get(cfg, "process"), "capabilities");

  json_object_set_new(caps, "permitted", json_array());
  json_object_set_new(caps, "effective", json_pack("[s]", "CAP_KILL"));
}

/* CAP_SYS_RESOURCE in the bounding set: this host's root lacks it. */
static void sys_resource_cap(json_t *cfg)
{
  json_array_append_new(
      json_object_get(
          json_object_get(json_object_get(cfg, "process"), "capabilities"),
          "bounding"),
      json_string("CAP_SYS_RESOURCE"));
}

/* A property the spec defines and mocker cannot honour yet. */
static void with_intel_rdt(json_t *cfg)
{
  json_object_set_new(json_object_get(cfg, "linux"), "intelRdt",
                      json_pack("{s:s}", "closID", "guaranteed"));
}

static void with_relative_hook(json_t *cfg)
{
  json_object_set_new(cfg, "hooks",
                      json_pack("{s:[{s:s}]}", "poststart", "path", "true"));
}

/* The image's rootfs could make its own paths symlinks to the host's. */
static void bind_from_rootfs(json_t *cfg)
{
  json_array_append_new(json_object_get(cfg, "mounts"),
                        json_pack("{s:s, s:s, s:s, s:[s]}", "destination", "/x",
                                  "type", "bind", "source", "rootfs/bin",
                                  "options", "rbind"));
}

/* A refused bundle names the field and leaves nothing behind (the
 * teardown checks: no container dir, cgroup, mount or process). */
START_TEST(test_refused_bundles_leave_nothing)
{
  char bundle[4096], err[4096], log[4200];
  struct h_res r;

  make_bundle(bundle, "b1", "true", bogus_cap);
  ck_assert_int_eq(rt_create(bundle, "c5", err, sizeof(err)), 1);
  ck_assert_msg(strstr(err, "process.capabilities.bounding: unknown "
                            "capability CAP_BOGUS"),
                "%s", err);
  make_bundle(bundle, "b2", "true", with_relative_hook);
  ck_assert_int_eq(rt_create(bundle, "c5", err, sizeof(err)), 1);
  ck_assert_msg(strstr(err, "hooks.poststart[0].path: must be an absolute "
                            "path"),
                "%s", err);
  make_bundle(bundle, "b3", "true", bind_from_rootfs);
  ck_assert_int_eq(rt_create(bundle, "c5", err, sizeof(err)), 1);
  ck_assert_msg(strstr(err, "is in the container's rootfs"), "%s", err);
  make_bundle(bundle, "b7", "true", ext4_mount);
  ck_assert_int_eq(rt_create(bundle, "c5", err, sizeof(err)), 1);
  ck_assert_msg(strstr(err, "a ext4 mount at /x is not supported yet"), "%s",
                err);
  make_bundle(bundle, "b5", "true", with_intel_rdt);
  ck_assert_int_eq(rt_create(bundle, "c5", err, sizeof(err)), 1);
  ck_assert_msg(strstr(err, "linux.intelRdt is not supported yet"), "%s", err);
  /* a capability the runtime does not hold is refused, not dropped */
  if (prctl(PR_CAPBSET_READ, CAP_SYS_RESOURCE, 0, 0, 0) == 0) {
    make_bundle(bundle, "b6", "true", sys_resource_cap);
    ck_assert_int_eq(rt_create(bundle, "c5", err, sizeof(err)), 1);
    ck_assert_msg(strstr(err, "CAP_SYS_RESOURCE is not held by this runtime"),
                  "%s", err);
  }
  make_bundle(bundle, "b4", "true", effective_beyond_permitted);
  ck_assert_int_eq(rt_create(bundle, "c5", err, sizeof(err)), 1);
  ck_assert_msg(strstr(err, "process.capabilities.effective: CAP_KILL is not "
                            "in the permitted set"),
                "%s", err);
  /* errors reach --log as JSON, as containerd's shim reads them */
  h_fmt(log, sizeof(log), "%s/log.json", h.host);
  RT(&r, "--log", log, "--log-format", "json", "state", "nosuch");
  ck_assert_int_eq(r.status, 1);
  h_res_free(&r);
  char *text = h_read_file(log);
  ck_assert_ptr_nonnull(text);
  ck_assert_msg(strstr(text, "\"level\":\"error\"") &&
                    strstr(text, "nosuch does not exist"),
                "%s", text);
  free(text);
}
END_TEST

static void bind_under_a_file(json_t *cfg)
{
  json_array_append_new(json_object_get(cfg, "mounts"),
                        json_pack("{s:s, s:s, s:s, s:[s]}", "destination",
                                  "/bin/busybox/x", "type", "bind", "source",
                                  "/etc/hostname", "options", "rbind"));
}

/* init fails while building the container: create says why, and the
 * container, its cgroup and init are gone (the teardown checks). */
START_TEST(test_failed_build_is_undone)
{
  char bundle[4096], err[4096];
  struct h_res r;

  make_bundle(bundle, "b", "true", bind_under_a_file);
  ck_assert_int_eq(rt_create(bundle, "c6", err, sizeof(err)), 1);
  ck_assert_msg(strstr(err, "/bin/busybox/x"), "%s", err);
  RT(&r, "state", "c6");
  ck_assert_int_eq(r.status, 1);
  h_res_free(&r);
}
END_TEST

/* A program that is not there fails after start, as the process's own
 * exit status (127), which the subreaper reads. */
START_TEST(test_missing_program_exits_127)
{
  char bundle[4096], err[4096], raw[64], cfg_path[4200];
  struct h_res r;

  ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  make_bundle(bundle, "b", "true", NULL);
  h_fmt(cfg_path, sizeof(cfg_path), "%s/config.json", bundle);
  json_t *cfg = json_load_file(cfg_path, 0, NULL);
  json_object_set_new(json_object_get(cfg, "process"), "args",
                      json_pack("[s]", "/nope"));
  ck_assert_int_eq(json_dump_file(cfg, cfg_path, 0), 0);
  json_decref(cfg);
  ck_assert_msg(rt_create(bundle, "c7", err, sizeof(err)) == 0, "%s", err);
  pid_t init = read_pid_file("c7", raw, sizeof(raw));
  RT(&r, "start", "c7");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  ck_assert_int_eq(reap(init), 127);
  delete_ok("c7");
}
END_TEST

static void more_settings(json_t *cfg)
{
  json_t *lx = json_object_get(cfg, "linux");

  json_object_set_new(lx, "sysctl",
                      json_pack("{s:s, s:s}", "net.ipv4.ip_forward", "1",
                                "kernel.shmmni", "1000"));
  json_array_append_new(json_object_get(lx, "maskedPaths"),
                        json_string("/etc/secret"));
  json_object_set_new(json_object_get(json_object_get(cfg, "process"), "user"),
                      "umask", json_integer(027));
  json_object_set_new(json_object_get(cfg, "process"), "env",
                      json_pack("[s]", "PATH=/bin"));
  /* properties the spec does not define are ignored, as it asks */
  json_object_set_new(lx, "org.example.future", json_true());
  json_object_set_new(json_object_get(cfg, "process"), "futureKey",
                      json_integer(1));
  json_object_set_new(cfg, "org.example.extension", json_pack("{s:i}", "a", 1));
}

/* run waits and exits with the process's status, leaving nothing; the
 * process saw the bundle's sysctls, an extra masked path and its umask. */
START_TEST(test_run_sysctl_mask_umask)
{
  char bundle[4096], secret[4300], cmd[8192];
  struct h_res r;

  make_bundle(bundle, "b",
              "{ cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni; "
              "cat /etc/secret; umask; } > /out/seen 2>&1; exit 6",
              more_settings);
  h_fmt(secret, sizeof(secret), "%s/rootfs/etc", bundle);
  ck_assert_int_eq(mkdir(secret, 0755), 0);
  h_fmt(secret, sizeof(secret), "%s/rootfs/etc/secret", bundle);
  h_write_file(secret, "top secret\n");
  h_fmt(cmd, sizeof(cmd), "%s", bundle);
  RT(&r, "run", "--bundle", cmd, "r1");
  ck_assert_msg(r.status == 6, "run: %d\n%s", r.status, r.err);
  h_res_free(&r);
  char *seen = out_file("seen");
  ck_assert_ptr_nonnull(seen);
  ck_assert_msg(strstr(seen, "1\n1000\n") && !strstr(seen, "top secret") &&
                    strstr(seen, "0027"),
                "saw: %s", seen);
  free(seen);
  RT(&r, "state", "r1");
  ck_assert_int_eq(r.status, 1); /* run left nothing */
  h_res_free(&r);
}
END_TEST

/* A running container: ps lists its processes, pause freezes it (state
 * paused), resume thaws it, update changes its pids limit, list shows
 * it, and delete --force ends it even while paused. */
START_TEST(test_ps_pause_resume_update_list)
{
  char bundle[4096], err[4096], raw[64], ready[4200];
  struct h_res r;

  ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  make_bundle(bundle, "b", "touch /out/ready; while :; do sleep 0.1; done",
              NULL);
  ck_assert_msg(rt_create(bundle, "c8", err, sizeof(err)) == 0, "%s", err);
  pid_t init = read_pid_file("c8", raw, sizeof(raw));
  RT(&r, "start", "c8");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  h_fmt(ready, sizeof(ready), "%s/out/ready", h.host);
  ck_assert(h_poll(h_path_exists_pred, ready, 10000));
  RT(&r, "ps", "--format", "json", "c8");
  H_ASSERT_STATUS(&r, 0);
  json_auto_t *pids = json_loads(r.out, 0, NULL);
  ck_assert_msg(json_array_size(pids) >= 2, "ps: %s", r.out);
  h_res_free(&r);
  RT(&r, "pause", "c8");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  assert_state("c8", "paused");
  RT(&r, "resume", "c8");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  assert_state("c8", "running");
  RT(&r, "list", "--format", "json");
  H_ASSERT_HAS(&r, out, "\"id\":\"c8\"");
  h_res_free(&r);
  char res[4300];
  h_fmt(res, sizeof(res), "%s/res.json", h.host);
  h_write_file(res, "{\"pids\": {\"limit\": 77}}");
  RT(&r, "update", "--resources", res, "c8");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  RT(&r, "pause", "c8");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  RT(&r, "delete", "--force", "c8");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  ck_assert_int_eq(reap(init), 128 + SIGKILL);
}
END_TEST

/* A signal to a created container ends it, as runc's; its process never
 * ran. */
START_TEST(test_kill_created_ends_it)
{
  char bundle[4096], err[4096], raw[64];
  struct h_res r;

  ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  make_bundle(bundle, "b", "touch /out/ran", NULL);
  ck_assert_msg(rt_create(bundle, "c9", err, sizeof(err)) == 0, "%s", err);
  pid_t init = read_pid_file("c9", raw, sizeof(raw));
  RT(&r, "kill", "c9", "TERM");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  ck_assert_int_eq(reap(init), 128 + SIGTERM);
  assert_state("c9", "stopped");
  char *ran = out_file("ran");
  ck_assert_msg(!ran, "the process ran");
  RT(&r, "start", "c9");
  ck_assert_int_eq(r.status, 1);
  h_res_free(&r);
  delete_ok("c9");
}
END_TEST

/* ---- exec ---- */

/* A created-then-started container that sleeps until killed; its init's
 * pid. */
static pid_t start_sleeper(const char *id)
{
  char bundle[4096], err[4096], raw[64];
  struct h_res r;

  ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  make_bundle(bundle, id, "exec sleep 1000", NULL);
  ck_assert_msg(rt_create(bundle, id, err, sizeof(err)) == 0, "%s", err);
  RT(&r, "start", id);
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  return read_pid_file(id, raw, sizeof(raw));
}

static void kill_and_delete(const char *id, pid_t init)
{
  struct h_res r;

  RT(&r, "kill", id, "KILL");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  ck_assert_int_eq(reap(init), 128 + SIGKILL);
  delete_ok(id);
}

/* A runtime-spec process file, as containerd's shim writes one. */
static void write_process(const char *path, json_t *process)
{
  ck_assert_int_eq(json_dump_file(process, path, 0), 0);
  json_decref(process);
}

static void assert_same_ns(pid_t a, pid_t b, const char *ns)
{
  char pa[64], pb[64], la[128] = "", lb[128] = "";

  snprintf(pa, sizeof(pa), "/proc/%d/ns/%s", (int)a, ns);
  snprintf(pb, sizeof(pb), "/proc/%d/ns/%s", (int)b, ns);
  ck_assert_int_gt(readlink(pa, la, sizeof(la) - 1), 0);
  ck_assert_int_gt(readlink(pb, lb, sizeof(lb) - 1), 0);
  ck_assert_str_eq(la, lb);
}

#define NAMED_HIERARCHY "/sys/fs/cgroup/systemd"

/* Moves this process into a new cgroup of the name=systemd hierarchy
 * (a v1 host's, which mocker does not manage); false where there is
 * none. */
static bool enter_named_cgroup(char *dir, size_t size)
{
  char procs[256];

  if (!h_exists(NAMED_HIERARCHY "/cgroup.procs"))
    return false;
  snprintf(dir, size, NAMED_HIERARCHY "/mk-oci-exec-%d", (int)getpid());
  ck_assert_int_eq(mkdir(dir, 0755), 0);
  snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
  h_write_file(procs, "0");
  return true;
}

static void leave_named_cgroup(const char *dir)
{
  h_write_file(NAMED_HIERARCHY "/cgroup.procs", "0");
  ck_assert_int_eq(rmdir(dir), 0);
}

/* As containerd's shim: exec --process F --detach --pid-file P. The
 * process runs with the file's args, env, cwd, user and groups, in the
 * container's namespaces, with no capability; exec returns while it
 * runs, and it passes to us, the subreaper, which reaps its status. */
START_TEST(test_exec_process_detached_as_the_shim)
{
  char proc[4200], pidfile[4200], err[4096], raw[64];
  pid_t init = start_sleeper("e1");

  h_fmt(proc, sizeof(proc), "%s/out", h.host);
  ck_assert_int_eq(chmod(proc, 01777), 0); /* for uid 1000 */
  h_fmt(proc, sizeof(proc), "%s/process.json", h.host);
  h_fmt(pidfile, sizeof(pidfile), "%s/exec.pid", h.host);
  write_process(
      proc,
      json_pack("{s:b, s:{s:i, s:i, s:[i]}, s:[s, s, s], s:[s, s], s:s}",
                "terminal", 0, "user", "uid", 1000, "gid", 1000,
                "additionalGids", 5, "args", "sh", "-c",
                "read go </out/go 2>/dev/null; echo \"$FOO $(id -u) $(id -G) "
                "$(pwd) $$\" >/out/exec; grep CapEff /proc/self/status "
                ">>/out/exec; exit 3",
                "env", "PATH=/bin", "FOO=bar", "cwd", "/out"));
  ck_assert_int_eq(rt_quiet(H_ARGV("exec", "--process", proc, "--detach",
                                   "--pid-file", pidfile, "e1"),
                            "exec", err, sizeof(err)),
                   0);
  char *text = h_read_file(pidfile);
  ck_assert_ptr_nonnull(text);
  ck_assert_msg(!strchr(text, '\n'), "pid file has a newline");
  pid_t pid = (pid_t)atoi(text);
  free(text);
  ck_assert_int_gt(pid, 0);
  assert_same_ns(pid, init, "pid");
  assert_same_ns(pid, init, "mnt");
  assert_same_ns(pid, init, "net");
  snprintf(raw, sizeof(raw), "%d", (int)pid);
  ck_assert_int_eq(reap(pid), 3);
  char *seen = out_file("exec");
  ck_assert_ptr_nonnull(seen);
  ck_assert_msg(strstr(seen, "bar 1000 1000 5 /out "), "%s", seen);
  ck_assert_msg(!strstr(seen, raw), "the host pid inside: %s", seen);
  ck_assert_msg(strstr(seen, "CapEff:\t0000000000000000"), "%s", seen);
  free(seen);
  kill_and_delete("e1", init);
}
END_TEST

/* Without --detach exec waits and exits with the process's status; a
 * command line works as runc's; every failure names its cause. */
START_TEST(test_exec_foreground_and_its_errors)
{
  char proc[4200];
  struct h_res r;
  pid_t init = start_sleeper("e2");

  RT(&r, "exec", "e2", "sh", "-c", "echo in $$; exit 5");
  ck_assert_int_eq(r.status, 5);
  H_ASSERT_HAS(&r, out, "in ");
  h_res_free(&r);
  /* in every cgroup hierarchy where the container's init is, not left in
   * its caller's (review finding 4: name=systemd, a hybrid's cgroup2):
   * the caller, this test, moves to a cgroup of its own there first */
  char own[128];
  bool moved = enter_named_cgroup(own, sizeof(own));
  RT(&r, "exec", "e2", "sh", "-c",
     "[ \"$(cat /proc/1/cgroup)\" = \"$(cat /proc/self/cgroup)\" ] && "
     "echo same-cgroups || cat /proc/1/cgroup /proc/self/cgroup");
  if (moved)
    leave_named_cgroup(own);
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_HAS(&r, out, "same-cgroups");
  h_res_free(&r);
  RT(&r, "exec", "-e", "X=y", "--cwd", "/bin", "e2", "sh", "-c",
     "echo $X $(pwd)");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_HAS(&r, out, "y /bin");
  h_res_free(&r);
  RT(&r, "exec", "e2", "/nonexistent");
  ck_assert_int_eq(r.status, 1);
  H_ASSERT_HAS(&r, err, "/nonexistent");
  h_res_free(&r);
  /* the error's time is formatted after the join: the container's
   * /etc/localtime, a fifo here, must not be opened (review finding 3) */
  char etc[4300], log[4300];
  h_fmt(etc, sizeof(etc), "%s/e2/rootfs/etc", h.host);
  mkdir(etc, 0755);
  h_fmt(etc, sizeof(etc), "%s/e2/rootfs/etc/localtime", h.host);
  ck_assert_int_eq(mkfifo(etc, 0644), 0);
  h_fmt(log, sizeof(log), "%s/exec-log.json", h.host);
  h_run(&r, &(struct h_opts){.program = runtime_path(), .timeout_ms = 20000},
        H_ARGV("--log", log, "--log-format", "json", "exec", "e2",
               "/nonexistent"));
  ck_assert_msg(r.status == 1, "exec with a fifo for /etc/localtime: %d",
                r.status);
  h_res_free(&r);
  /* a pid file named by a path whose last part is no file name would be
   * resolved in the container, after the join */
  RT(&r, "exec", "--pid-file", "/", "e2", "true");
  ck_assert_int_eq(r.status, 1);
  H_ASSERT_HAS(&r, err, "--pid-file `/` names no file");
  h_res_free(&r);
  RT(&r, "exec", "--cap", "CAP_BOGUS", "e2", "true");
  ck_assert_int_eq(r.status, 1);
  H_ASSERT_HAS(&r, err, "unknown capability `CAP_BOGUS`");
  h_res_free(&r);
  h_fmt(proc, sizeof(proc), "%s/bad.json", h.host);
  write_process(proc, json_pack("{s:[s], s:s, s:{s:i, s:i}}", "args", "true",
                                "cwd", "rel", "user", "uid", 0, "gid", 0));
  RT(&r, "exec", "--process", proc, "e2");
  ck_assert_int_eq(r.status, 1);
  H_ASSERT_HAS(&r, err, "--process: process.cwd: must be an absolute path");
  h_res_free(&r);
  RT(&r, "pause", "e2");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  RT(&r, "exec", "e2", "true");
  ck_assert_int_eq(r.status, 1);
  H_ASSERT_HAS(&r, err, "is paused");
  h_res_free(&r);
  RT(&r, "resume", "e2");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  RT(&r, "exec", "nosuch", "true");
  ck_assert_int_eq(r.status, 1);
  h_res_free(&r);
  kill_and_delete("e2", init);
  RT(&r, "exec", "e2", "true");
  ck_assert_int_eq(r.status, 1);
  h_res_free(&r);
}
END_TEST

/* A listening unix socket at path, for --console-socket. */
static int listen_console(const char *path)
{
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

  ck_assert_int_ge(s, 0);
  snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
  ck_assert_int_eq(bind(s, (struct sockaddr *)&addr, sizeof(addr)), 0);
  ck_assert_int_eq(listen(s, 1), 0);
  return s;
}

/* The fd the runtime passes over one connection. */
static int receive_console(int listener)
{
  char byte[64], cbuf[CMSG_SPACE(sizeof(int))];
  struct iovec iov = {byte, sizeof(byte)};
  struct msghdr msg = {.msg_iov = &iov,
                       .msg_iovlen = 1,
                       .msg_control = cbuf,
                       .msg_controllen = sizeof(cbuf)};
  int conn = accept4(listener, NULL, NULL, SOCK_CLOEXEC), fd = -1;

  ck_assert_int_ge(conn, 0);
  ck_assert_int_gt(recvmsg(conn, &msg, MSG_CMSG_CLOEXEC), 0);
  struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
  ck_assert_ptr_nonnull(cm);
  memcpy(&fd, CMSG_DATA(cm), sizeof(fd));
  close(conn);
  return fd;
}

/* Reads the pty master until want appears or the deadline passes. */
static bool read_until(int fd, const char *want, char *buf, size_t size)
{
  size_t got = 0;

  buf[0] = '\0';
  for (int tries = 0; tries < 100 && !strstr(buf, want); tries++) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 100) <= 0)
      continue;
    ssize_t n = read(fd, buf + got, size - got - 1);
    if (n <= 0)
      break;
    got += (size_t)n;
    buf[got] = '\0';
  }
  return strstr(buf, want) != NULL;
}

/* exec -t: the pty comes from the container's devpts and its master goes
 * to the console socket; the process has it as its controlling
 * terminal. */
START_TEST(test_exec_tty_through_console_socket)
{
  char sock[4200], pidfile[4200], err[4096], buf[4096];
  pid_t init = start_sleeper("e3");

  h_fmt(sock, sizeof(sock), "%s/console.sock", h.host);
  h_fmt(pidfile, sizeof(pidfile), "%s/tty.pid", h.host);
  int listener = listen_console(sock);
  pid_t verb = fork();
  ck_assert_int_ge(verb, 0);
  if (verb == 0)
    _exit(rt_quiet(H_ARGV("exec", "-t", "-d", "--console-socket", sock,
                          "--pid-file", pidfile, "e3", "sh", "-c",
                          "tty; test -t 0 && echo is-a-tty; read x; exit 4"),
                   "tty", err, sizeof(err)));
  int master = receive_console(listener);
  ck_assert_int_eq(reap(verb), 0);
  ck_assert_msg(read_until(master, "is-a-tty", buf, sizeof(buf)), "%s", buf);
  ck_assert_msg(strstr(buf, "/dev/pts/"), "%s", buf);
  ck_assert_int_eq(write(master, "go\r", 3), 3);
  char raw[64];
  ck_assert_int_eq(reap(read_pid_file("tty", raw, sizeof(raw))), 4);
  close(master);
  close(listener);
  kill_and_delete("e3", init);
}
END_TEST

static void with_terminal(json_t *cfg)
{
  json_object_set_new(json_object_get(cfg, "process"), "terminal",
                      json_true());
}

/* run -d with process.terminal: init is never held, yet the pty master
 * still reaches --console-socket and the process has it as its
 * controlling terminal; an unreachable socket fails run before the
 * process runs, and leaves nothing. */
START_TEST(test_run_tty_through_console_socket)
{
  char bundle[4096], sock[4200], pidfile[4200], err[4096], buf[4096],
      raw[64];

  make_bundle(bundle, "t", "tty; test -t 0 && echo is-a-tty; read x; exit 5",
              with_terminal);
  h_fmt(sock, sizeof(sock), "%s/run-console.sock", h.host);
  h_fmt(pidfile, sizeof(pidfile), "%s/t1.pid", h.host);
  ck_assert_int_eq(rt_quiet(H_ARGV("run", "-d", "--console-socket", sock,
                                   "--bundle", bundle, "t0"),
                            "t0", err, sizeof(err)),
                   1);
  ck_assert_msg(strstr(err, "connect to --console-socket"), "%s", err);
  ck_assert_int_eq(h_containers(h.root, NULL, 0), 0);

  ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  int listener = listen_console(sock);
  pid_t verb = fork();
  ck_assert_int_ge(verb, 0);
  if (verb == 0)
    _exit(rt_quiet(H_ARGV("run", "-d", "--console-socket", sock,
                          "--pid-file", pidfile, "--bundle", bundle, "t1"),
                   "t1", err, sizeof(err)));
  int master = receive_console(listener);
  ck_assert_int_eq(reap(verb), 0);
  ck_assert_msg(read_until(master, "is-a-tty", buf, sizeof(buf)), "%s", buf);
  ck_assert_msg(strstr(buf, "/dev/pts/"), "%s", buf);
  assert_state("t1", "running");
  ck_assert_int_eq(write(master, "go\r", 3), 3);
  ck_assert_int_eq(reap(read_pid_file("t1", raw, sizeof(raw))), 5);
  close(master);
  close(listener);
  delete_ok("t1");
}
END_TEST

static void allow_kmsg_write(json_t *cfg)
{
  json_t *lx = json_object_get(cfg, "linux");

  json_object_set_new(lx, "devices",
                      json_pack("[{s:s, s:s, s:i, s:i, s:i}]", "path",
                                "/dev/kmsg2", "type", "c", "major", 1,
                                "minor", 11, "fileMode", 0666));
  json_object_set_new(
      json_object_get(lx, "resources"), "devices",
      json_pack("[{s:b, s:s}, {s:b, s:s, s:i, s:i, s:s}]", "allow", 0,
                "access", "rwm", "allow", 1, "type", "c", "major", 1, "minor",
                11, "access", "w"));
}

/* linux.resources.devices: an allow rule beyond the defaults is honoured,
 * as given (write, not read), first in the cgroup's list, in order. */
START_TEST(test_device_rules_beyond_defaults)
{
  char bundle[4096];

  make_bundle(bundle, "dv1",
              "(exec 3>/dev/kmsg2) && echo w-ok > /out/dev; "
              "(exec 3</dev/kmsg2) || echo r-denied >> /out/dev",
              allow_kmsg_write);
  ck_assert_int_eq(run_to_exit(bundle, "dv1"), 0);
  char *dev = out_file("dev");
  ck_assert_ptr_nonnull(dev);
  ck_assert_str_eq(dev, "w-ok\nr-denied\n");
  free(dev);
}
END_TEST

START_TEST(test_features_lists_what_is_honoured)
{
  struct h_res r;

  RT(&r, "features");
  H_ASSERT_STATUS(&r, 0);
  json_auto_t *f = json_loads(r.out, 0, NULL);
  ck_assert_ptr_nonnull(f);
  ck_assert_str_eq(json_string_value(json_object_get(f, "ociVersionMax")),
                   "1.1.0");
  ck_assert_uint_eq(json_array_size(json_object_get(json_object_get(f, "linux"),
                                                    "namespaces")),
                    7); /* "user" among them now */
  json_t *hooks = json_object_get(f, "hooks");
  ck_assert_uint_eq(json_array_size(hooks), 6);
  ck_assert_str_eq(json_string_value(json_array_get(hooks, 2)),
                   "createContainer");
  h_res_free(&r);
}
END_TEST

/* ---- hooks ---- */

/* What with_hooks puts in the bundle: set by each test before
 * make_bundle (whose edit callback takes no context). */
static json_t *bundle_hooks;

static void with_hooks(json_t *cfg)
{
  json_object_set(cfg, "hooks", bundle_hooks);
}

/* A hook the runtime runs with the host's /bin/sh: `sh -c script`, its
 * argv[0] name. */
static json_t *sh_hook(const char *name, const char *script)
{
  return json_pack("{s:s, s:[s, s, s]}", "path", "/bin/sh", "args", name, "-c",
                   script);
}

/* An executable file (a hook script) at path. */
static void write_script(const char *path, const char *text)
{
  h_write_file(path, text);
  ck_assert_int_eq(chmod(path, 0755), 0);
}

/* h.host/NAME, what a hook left there (NULL if nothing). */
static char *host_file(const char *name)
{
  char path[4200];

  h_fmt(path, sizeof(path), "%s/%s", h.host, name);
  return h_read_file(path);
}

static void link_of(const char *path, char *out, size_t size)
{
  ssize_t n = readlink(path, out, size - 1);

  ck_assert_msg(n > 0, "readlink %s: %s", path, strerror(errno));
  out[n] = '\0';
}

/* The state document a hook read: ociVersion, id, status, pid, bundle. */
static void assert_hook_state(const char *file, const char *id,
                              const char *status, pid_t pid, const char *bundle)
{
  char *text = host_file(file), real[4096];

  ck_assert_msg(text, "no %s: the hook did not run", file);
  json_auto_t *j = json_loads(text, 0, NULL);
  ck_assert_msg(j, "%s is not JSON: %s", file, text);
  ck_assert_str_eq(json_string_value(json_object_get(j, "ociVersion")),
                   "1.1.0");
  ck_assert_str_eq(json_string_value(json_object_get(j, "id")), id);
  ck_assert_str_eq(json_string_value(json_object_get(j, "status")), status);
  ck_assert_int_eq(json_integer_value(json_object_get(j, "pid")), pid);
  ck_assert_ptr_nonnull(realpath(bundle, real));
  ck_assert_str_eq(json_string_value(json_object_get(j, "bundle")), real);
  ck_assert(json_is_object(json_object_get(j, "annotations")));
  free(text);
}

/* `ls -l /proc/self/fd` as a hook ran it: 0, 1 and 2, and 3, the
 * directory ls lists; no fd of mocker's (nor of ours, passed to it
 * without close-on-exec) reached the hook. */
static void assert_only_stdio(const char *file)
{
  char *text = host_file(file);
  int n = 0;

  ck_assert_msg(text, "no %s", file);
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
    char *arrow = strstr(line, " -> ");
    if (!arrow)
      continue;
    char *num = arrow;
    while (num > line && num[-1] != ' ')
      num--;
    int fd = atoi(num);
    ck_assert_msg(fd <= 2 || (fd == 3 && strstr(arrow, "/fd")),
                  "%s: the hook inherited: %s", file, line);
    n++;
  }
  ck_assert_int_eq(n, 4);
  free(text);
}

static void set_order_hooks(const char *order, const char *id)
{
  char cr[2048], cc_path[4200], cc[4096], ps[2048], pst[8192], pre[4300];
  const char *H = h.host;

  h_fmt(pre, sizeof(pre), "echo prestart >> %s", order);
  h_fmt(cr, sizeof(cr),
        "echo createRuntime >> %s; cat > %s/cr.state; "
        "tr '\\0' '\\n' < /proc/$$/cmdline > %s/cr.argv; "
        "tr '\\0' '\\n' < /proc/$$/environ > %s/cr.env; "
        "readlink /proc/self/ns/mnt > %s/cr.mnt; ls -l /proc/self/fd > "
        "%s/cr.fds",
        order, H, H, H, H, H);
  /* a file of the host's, run in the container's mount namespace before
   * pivot_root: /proc there is still the host's, so /proc/self */
  h_fmt(cc_path, sizeof(cc_path), "%s/cc-hook.sh", H);
  h_fmt(cc, sizeof(cc),
        "#!/bin/sh\necho createContainer >> %s\ncat > %s/cc.state\n"
        "readlink /proc/self/ns/mnt > %s/cc.mnt\n"
        "readlink /proc/self/ns/pid > %s/cc.pidns\n"
        "id -u > %s/cc.uid\nls -l /proc/self/fd > %s/cc.fds\n",
        order, H, H, H, H, H);
  write_script(cc_path, cc);
  /* the process is the only child of init; its comm is the program's
   * once it was exec'd */
  h_fmt(ps, sizeof(ps),
        "echo poststart >> %s; cat > %s/ps.state; "
        "pid=$(sed 's/.*\"pid\":\\([0-9]*\\).*/\\1/' %s/ps.state); "
        "for c in $(cat /proc/$pid/task/$pid/children); do "
        "cat /proc/$c/comm; done > %s/ps.comm",
        order, H, H, H);
  h_fmt(pst, sizeof(pst),
        "echo poststop >> %s; cat > %s/pst.state; "
        "%s --root %s state %s > /dev/null 2>&1; echo $? > %s/pst.code",
        order, H, runtime_path(), h.root, id, H);
  bundle_hooks = json_pack(
      "{s:[o], s:[{s:s, s:[s, s, s, s], s:[s, s], s:i}], s:[{s:s}], "
      "s:[{s:s, s:[s, s]}], s:[o], s:[o]}",
      "prestart", sh_hook("prestart-argv0", pre), "createRuntime", "path",
      "/bin/sh", "args", "createRuntime-argv0", "-c", cr, "extra arg", "env",
      "HOOK_ONE=1", "HOOK_TWO=two words", "timeout", 30, "createContainer",
      "path", cc_path, "startContainer", "path", "/start-hook.sh", "args",
      "start-hook", "a b", "poststart", sh_hook("poststart-argv0", ps),
      "poststop", sh_hook("poststop-argv0", pst));
  ck_assert_ptr_nonnull(bundle_hooks);
}

/* out/order: every hook once, in the spec's order; the process and
 * poststart may come either way round (poststart runs once the process
 * has been exec'd, and a short one may be done by then). */
static void assert_every_hook_ran(void)
{
  char *text = host_file("out/order");

  ck_assert_msg(
      strcmp(text, "prestart\ncreateRuntime\ncreateContainer\nstartContainer\n"
                   "process\npoststart\npoststop\n") == 0 ||
          strcmp(text,
                 "prestart\ncreateRuntime\ncreateContainer\nstartContainer\n"
                 "poststart\nprocess\npoststop\n") == 0,
      "order: %s", text);
  free(text);
}

/* Each kind of hook runs at its moment, in its namespace, with the state
 * for that moment on stdin, exactly its argv and env, and nothing else
 * of ours: prestart and createRuntime by the runtime, createContainer in
 * the container's mount namespace with the host's paths, startContainer
 * inside the container, then the process; poststart once it runs and
 * before start returns, poststop once delete removed the container. */
START_TEST(test_hooks_run_in_order_where_the_spec_says)
{
  char bundle[4096], err[4096], raw[64], order[4200], path[4300], ns[256],
      want[256], script[8192];
  struct h_res r;

  ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  h_fmt(order, sizeof(order), "%s/out/order", h.host);
  set_order_hooks(order, "h1");
  make_bundle(bundle, "b",
              "echo process >> /out/order; "
              "while [ ! -e /out/go ]; do sleep 0.05; done",
              with_hooks);
  h_fmt(script, sizeof(script),
        "#!/bin/sh\necho startContainer >> /out/order\n"
        "cat > /out/start.state\nreadlink /proc/self/ns/mnt > /out/start.mnt\n"
        "[ -e /start-hook.sh ] && echo in-container > /out/start.where\n"
        "[ -e %s ] || echo host-hidden >> /out/start.where\n"
        "echo \"$*\" > /out/start.args\n",
        h.host);
  h_fmt(path, sizeof(path), "%s/rootfs/start-hook.sh", bundle);
  write_script(path, script);
  ck_assert_msg(access("/start-hook.sh", F_OK) != 0,
                "/start-hook.sh must exist only in the container");
  /* an fd of ours without close-on-exec: create inherits it, no hook may */
  int leak = open(h.host, O_RDONLY | O_DIRECTORY);
  ck_assert_int_ge(leak, 3);
  ck_assert_msg(rt_create(bundle, "h1", err, sizeof(err)) == 0, "%s", err);
  close(leak);
  pid_t init = read_pid_file("h1", raw, sizeof(raw));

  char *text = host_file("out/order");
  ck_assert_str_eq(text, "prestart\ncreateRuntime\ncreateContainer\n");
  free(text);
  assert_hook_state("cr.state", "h1", "creating", init, bundle);
  assert_hook_state("cc.state", "h1", "creating", init, bundle);
  text = host_file("cr.argv");
  h_fmt(want, sizeof(want), "createRuntime-argv0\n-c\n");
  ck_assert_msg(strncmp(text, want, strlen(want)) == 0 &&
                    strstr(text, "\nextra arg\n"),
                "argv: %s", text);
  free(text);
  text = host_file("cr.env");
  ck_assert_str_eq(text, "HOOK_ONE=1\nHOOK_TWO=two words\n");
  free(text);
  assert_only_stdio("cr.fds");
  assert_only_stdio("cc.fds");
  /* createRuntime in ours, createContainer in the container's */
  link_of("/proc/self/ns/mnt", ns, sizeof(ns));
  text = host_file("cr.mnt");
  h_fmt(want, sizeof(want), "%s\n", ns);
  ck_assert_str_eq(text, want);
  free(text);
  h_fmt(path, sizeof(path), "/proc/%d/ns/mnt", (int)init);
  link_of(path, ns, sizeof(ns));
  h_fmt(want, sizeof(want), "%s\n", ns);
  text = host_file("cc.mnt");
  ck_assert_str_eq(text, want);
  free(text);
  h_fmt(path, sizeof(path), "/proc/%d/ns/pid", (int)init);
  link_of(path, ns, sizeof(ns));
  h_fmt(want, sizeof(want), "%s\n", ns);
  text = host_file("cc.pidns");
  ck_assert_str_eq(text, want);
  free(text);
  text = host_file("cc.uid");
  ck_assert_str_eq(text, "0\n"); /* as init, the bundle's own command */
  free(text);

  RT(&r, "start", "h1");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  /* poststart ran before start returned, after the process was exec'd */
  text = host_file("ps.comm");
  ck_assert_msg(text && strcmp(text, "sh\n") == 0, "init's child: %s", text);
  free(text);
  assert_hook_state("ps.state", "h1", "running", init, bundle);
  assert_hook_state("out/start.state", "h1", "created", init, bundle);
  text = host_file("out/start.where");
  ck_assert_str_eq(text, "in-container\nhost-hidden\n");
  free(text);
  text = host_file("out/start.mnt");
  h_fmt(path, sizeof(path), "/proc/%d/ns/mnt", (int)init);
  link_of(path, ns, sizeof(ns));
  h_fmt(want, sizeof(want), "%s\n", ns);
  ck_assert_str_eq(text, want);
  free(text);
  text = host_file("out/start.args");
  ck_assert_str_eq(text, "a b\n");
  free(text);
  assert_state("h1", "running");

  h_fmt(path, sizeof(path), "%s/out/go", h.host);
  h_write_file(path, "");
  ck_assert_int_eq(reap(init), 0);
  delete_ok("h1");
  assert_every_hook_ran();
  assert_hook_state("pst.state", "h1", "stopped", 0, bundle);
  text = host_file("pst.code"); /* `state` in poststop: already gone */
  ck_assert_str_eq(text, "1\n");
  free(text);
  json_decref(bundle_hooks);
}
END_TEST

/* startContainer runs as the process will: its user, no capabilities
 * beyond its sets, its working directory. */
START_TEST(test_start_hook_runs_as_the_process)
{
  char bundle[4096], err[4096], raw[64], path[4300], out[4200];
  struct h_res r;

  ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  bundle_hooks = json_pack(
      "{s:[{s:s, s:[s, s, s]}]}", "startContainer", "path", "/bin/sh", "args",
      "sh", "-c",
      "{ id -u; grep CapEff /proc/self/status; pwd; } > /out/start.id");
  make_bundle(bundle, "b", "exit 0", with_hooks);
  h_fmt(path, sizeof(path), "%s/config.json", bundle);
  json_t *cfg = json_load_file(path, 0, NULL);
  readonly_uid_1000(cfg);
  json_object_set_new(json_object_get(cfg, "process"), "cwd",
                      json_string("/bin"));
  ck_assert_int_eq(json_dump_file(cfg, path, 0), 0);
  json_decref(cfg);
  h_fmt(out, sizeof(out), "%s/out", h.host);
  chmod(out, 0777);
  ck_assert_msg(rt_create(bundle, "h2", err, sizeof(err)) == 0, "%s", err);
  pid_t init = read_pid_file("h2", raw, sizeof(raw));
  RT(&r, "start", "h2");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  ck_assert_int_eq(reap(init), 0);
  char *seen = out_file("start.id");
  ck_assert_ptr_nonnull(seen);
  ck_assert_str_eq(seen, "1000\nCapEff:\t0000000000000000\n/bin\n");
  free(seen);
  delete_ok("h2");
  json_decref(bundle_hooks);
}
END_TEST

/* A failing createRuntime or createContainer hook fails create, naming
 * the hook and its status: no container, cgroup or process is left (the
 * teardown checks), and the poststop hooks ran, as the spec's lifecycle
 * goes on at "destroy". */
START_TEST(test_failing_create_hook_leaves_nothing)
{
  static const char *const kinds[] = {"createRuntime", "createContainer"};
  char bundle[4096], err[4096], order[4200], fail[4300], rec[4300], name[16];
  struct h_res r;

  h_fmt(order, sizeof(order), "%s/out/order", h.host);
  for (int i = 0; i < 2; i++) {
    h_fmt(fail, sizeof(fail), "echo %s >> %s; echo boom >&2; exit %d", kinds[i],
          order, 3 + i);
    h_fmt(rec, sizeof(rec), "echo poststop >> %s", order);
    bundle_hooks =
        json_pack("{s:[o], s:[o], s:[o]}", kinds[i], sh_hook("failing", fail),
                  kinds[1 - i], sh_hook("other", "exit 0"), "poststop",
                  sh_hook("poststop", rec));
    h_fmt(name, sizeof(name), "b%d", i);
    make_bundle(bundle, name, "touch /out/ran", with_hooks);
    unlink(order);
    ck_assert_int_eq(rt_create(bundle, "h3", err, sizeof(err)), 1);
    char want[128];
    h_fmt(want, sizeof(want), "%s hook `/bin/sh` exited with status %d: boom",
          kinds[i], 3 + i);
    ck_assert_msg(strstr(err, want), "%s", err);
    char *text = host_file("out/order");
    h_fmt(want, sizeof(want), "%s\npoststop\n", kinds[i]);
    ck_assert_str_eq(text, want);
    free(text);
    ck_assert_ptr_null(out_file("ran"));
    RT(&r, "state", "h3");
    ck_assert_int_eq(r.status, 1);
    H_ASSERT_HAS(&r, err, "does not exist");
    h_res_free(&r);
    ck_assert_int_eq(h_containers(h.root, NULL, 0), 0);
    json_decref(bundle_hooks);
  }
}
END_TEST

/* `run` creates and starts in one go (init is never held, no start
 * fifo): every hook still runs, in order, poststart with the state
 * "running"; the process's exit status is run's, and nothing is left. */
START_TEST(test_run_in_one_go_runs_every_hook)
{
  char bundle[4096], order[4200], path[4300];
  struct h_res r;

  h_fmt(order, sizeof(order), "%s/out/order", h.host);
  set_order_hooks(order, "h6");
  make_bundle(bundle, "b", "echo process >> /out/order; exit 3", with_hooks);
  h_fmt(path, sizeof(path), "%s/rootfs/start-hook.sh", bundle);
  write_script(path, "#!/bin/sh\necho startContainer >> /out/order\n");
  RT(&r, "run", "--bundle", bundle, "h6");
  H_ASSERT_STATUS(&r, 3);
  h_res_free(&r);
  assert_every_hook_ran();
  char *text = host_file("ps.state");
  ck_assert_msg(strstr(text, "\"status\":\"running\""), "%s", text);
  free(text);
  RT(&r, "state", "h6");
  ck_assert_int_eq(r.status, 1); /* run left nothing */
  h_res_free(&r);
  ck_assert_int_eq(h_containers(h.root, NULL, 0), 0);
  json_decref(bundle_hooks);
}
END_TEST

/* A failing startContainer hook fails start with the hook's error; the
 * process never runs and the container is stopped when start returns.
 * `run` then leaves nothing. */
START_TEST(test_failing_start_hook_fails_start)
{
  char bundle[4096], err[4096], raw[64], path[4300];
  struct h_res r;

  ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  bundle_hooks =
      json_pack("{s:[{s:s}]}", "startContainer", "path", "/start-hook.sh");
  make_bundle(bundle, "b", "touch /out/ran", with_hooks);
  h_fmt(path, sizeof(path), "%s/rootfs/start-hook.sh", bundle);
  write_script(path, "#!/bin/sh\necho 'no luck' >&2\nexit 4\n");
  ck_assert_msg(rt_create(bundle, "h4", err, sizeof(err)) == 0, "%s", err);
  pid_t init = read_pid_file("h4", raw, sizeof(raw));
  RT(&r, "start", "h4");
  ck_assert_int_eq(r.status, 1);
  H_ASSERT_HAS(&r, err,
               "startContainer hook `/start-hook.sh` exited with status 4: "
               "no luck");
  h_res_free(&r);
  assert_state("h4", "stopped");
  ck_assert_int_eq(reap(init), 125);
  ck_assert_ptr_null(out_file("ran"));
  delete_ok("h4");

  RT(&r, "run", "--bundle", bundle, "h5");
  ck_assert_int_eq(r.status, 1);
  H_ASSERT_HAS(&r, err, "startContainer hook `/start-hook.sh` exited");
  h_res_free(&r);
  RT(&r, "state", "h5");
  ck_assert_int_eq(r.status, 1); /* run left nothing */
  h_res_free(&r);
  ck_assert_ptr_null(out_file("ran"));
  json_decref(bundle_hooks);
}
END_TEST

/* A hook past its timeout is killed with what it started, and the
 * operation fails at once, saying so: on the runtime's side (create) and
 * in the container (start). */
START_TEST(test_hook_timeout_is_enforced)
{
  char bundle[4096], err[4096], raw[64], script[4300];
  struct h_res r;

  ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  h_fmt(script, sizeof(script), "sleep 100 & echo $! > %s/sleep.pid; wait",
        h.host);
  bundle_hooks =
      json_pack("{s:[{s:s, s:[s, s, s], s:i}]}", "createRuntime", "path",
                "/bin/sh", "args", "sh", "-c", script, "timeout", 1);
  make_bundle(bundle, "b1", "true", with_hooks);
  long t0 = h_now_ms();
  ck_assert_int_eq(rt_create(bundle, "h6", err, sizeof(err)), 1);
  long took = h_now_ms() - t0;
  ck_assert_msg(took < 8000, "create took %ld ms", took);
  ck_assert_msg(strstr(err, "createRuntime hook `/bin/sh` timed out after "
                            "1 s"),
                "%s", err);
  char *text = host_file("sleep.pid");
  ck_assert_ptr_nonnull(text);
  pid_t sleeper = atoi(text);
  free(text);
  ck_assert_int_gt(sleeper, 1);
  for (int i = 0; i < 200 && h_pid_alive(sleeper); i++)
    usleep(10000);
  ck_assert_msg(!h_pid_alive(sleeper), "the hook's sleep %d lives on", sleeper);
  json_decref(bundle_hooks);

  bundle_hooks = json_pack("{s:[{s:s, s:[s, s, s], s:i}]}", "startContainer",
                           "path", "/bin/sh", "args", "sh", "-c",
                           "sleep 100 & wait", "timeout", 1);
  make_bundle(bundle, "b2", "touch /out/ran", with_hooks);
  ck_assert_msg(rt_create(bundle, "h7", err, sizeof(err)) == 0, "%s", err);
  pid_t init = read_pid_file("h7", raw, sizeof(raw));
  t0 = h_now_ms();
  RT(&r, "start", "h7");
  took = h_now_ms() - t0;
  ck_assert_int_eq(r.status, 1);
  H_ASSERT_HAS(&r, err, "startContainer hook `/bin/sh` timed out after 1 s");
  h_res_free(&r);
  ck_assert_msg(took < 8000, "start took %ld ms", took);
  ck_assert_int_eq(reap(init), 125);
  ck_assert_ptr_null(out_file("ran"));
  delete_ok("h7");
  json_decref(bundle_hooks);
}
END_TEST

/* poststart and poststop failures are warnings (stderr and --log), the
 * remaining hooks still run, and start and delete succeed. */
START_TEST(test_poststart_poststop_failures_only_warn)
{
  char bundle[4096], err[4096], raw[64], order[4200], rec[4300], go[4300],
      log[4300];
  struct h_res r;

  ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  h_fmt(order, sizeof(order), "%s/out/order", h.host);
  h_fmt(rec, sizeof(rec), "echo second-poststop >> %s", order);
  bundle_hooks =
      json_pack("{s:[o, o], s:[{s:s}, o]}", "poststart",
                sh_hook("ps", "exit 1"), sh_hook("ps2", "exit 0"), "poststop",
                "path", "/nonexistent/poststop", sh_hook("pst2", rec));
  make_bundle(bundle, "b",
              "echo process >> /out/order; "
              "while [ ! -e /out/go ]; do sleep 0.05; done",
              with_hooks);
  ck_assert_msg(rt_create(bundle, "h8", err, sizeof(err)) == 0, "%s", err);
  pid_t init = read_pid_file("h8", raw, sizeof(raw));
  RT(&r, "start", "h8");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_HAS(&r, err,
               "warning: poststart hook `/bin/sh` exited with status 1");
  h_res_free(&r);
  assert_state("h8", "running");
  h_fmt(go, sizeof(go), "%s/out/go", h.host);
  h_write_file(go, "");
  ck_assert_int_eq(reap(init), 0);
  h_fmt(log, sizeof(log), "%s/log.json", h.host);
  RT(&r, "--log", log, "--log-format", "json", "delete", "h8");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_HAS(&r, err,
               "warning: poststop hook `/nonexistent/poststop` exited with "
               "status 127: cannot execute: No such file or directory");
  h_res_free(&r);
  char *text = h_read_file(log);
  ck_assert_msg(text && strstr(text, "\"level\":\"warning\"") &&
                    strstr(text, "/nonexistent/poststop"),
                "log: %s", text);
  free(text);
  text = host_file("out/order");
  ck_assert_str_eq(text, "process\nsecond-poststop\n");
  free(text);
  RT(&r, "state", "h8");
  ck_assert_int_eq(r.status, 1);
  h_res_free(&r);
  json_decref(bundle_hooks);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("oci");
  TCase *tc = h_tcase("runtime", 60);

  tcase_add_test(tc, test_create_start_exit_status_delete);
  tcase_add_test(tc, test_delete_created_needs_force);
  tcase_add_test(tc, test_kill_then_kill_all_when_stopped);
  tcase_add_test(tc, test_user_readonly_root_and_caps);
  tcase_add_test(tc, test_capability_sets_of_a_user);
  tcase_add_test(tc, test_domainname_oom_score_personality);
  tcase_add_test(tc, test_namespaces_joined_by_path_or_shared);
  tcase_add_test(tc, test_user_namespace_mappings);
  tcase_add_test(tc, test_device_rules_beyond_defaults);
  tcase_add_test(tc, test_cpu_resources_in_a_relative_cgroup);
  tcase_add_test(tc, test_linux_devices_made_from_numbers);
  tcase_add_test(tc, test_bundle_mounts_in_order_with_options);
  tcase_add_test(tc, test_refused_bundles_leave_nothing);
  tcase_add_test(tc, test_failed_build_is_undone);
  tcase_add_test(tc, test_missing_program_exits_127);
  tcase_add_test(tc, test_run_sysctl_mask_umask);
  tcase_add_test(tc, test_ps_pause_resume_update_list);
  tcase_add_test(tc, test_kill_created_ends_it);
  tcase_add_test(tc, test_features_lists_what_is_honoured);
  tcase_add_test(tc, test_exec_process_detached_as_the_shim);
  tcase_add_test(tc, test_exec_foreground_and_its_errors);
  tcase_add_test(tc, test_exec_tty_through_console_socket);
  tcase_add_test(tc, test_run_tty_through_console_socket);
  tcase_add_test(tc, test_hooks_run_in_order_where_the_spec_says);
  tcase_add_test(tc, test_start_hook_runs_as_the_process);
  tcase_add_test(tc, test_failing_create_hook_leaves_nothing);
  tcase_add_test(tc, test_failing_start_hook_fails_start);
  tcase_add_test(tc, test_run_in_one_go_runs_every_hook);
  tcase_add_test(tc, test_hook_timeout_is_enforced);
  tcase_add_test(tc, test_poststart_poststop_failures_only_warn);
  suite_add_tcase(s, tc);
  return h_main(s);
}
