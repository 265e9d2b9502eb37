/* mocker-runtime spec: writes a starting config.json into the bundle, as
 * `runc spec` does: sh in a read-only rootfs/, new namespaces, Docker's
 * masked and read-only paths, a few capabilities. */
#include "oci.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <string.h>
#include <unistd.h>

#include "base/flags.h"
#include "base/strv.h"
#include "mk_util.h"

const char mk_oci_spec_usage[] =
    "Usage:  " MK_OCI_PROGRAM " spec [OPTIONS]\n"
    "\n"
    "Create a new specification file (config.json) in the bundle\n"
    "\n"
    "Options:\n"
    "  -b, --bundle string   Bundle directory (default: the current one)\n"
    "      --rootless        Refused: rootless specs come with user "
    "namespaces\n"
    "  -h, --help            Print usage\n";

enum { OPT_BUNDLE = 1, OPT_ROOTLESS, OPT_HELP };

const struct mk_flag mk_oci_spec_flags[] = {
    {"bundle", 'b', 1, OPT_BUNDLE},
    {"rootless", 0, 0, OPT_ROOTLESS},
    {"help", 'h', 0, OPT_HELP},
    {NULL, 0, 0, 0},
};

struct spec_opts {
  const char *bundle;
  int help;
};

static int apply(void *data, int id, const char *v, mk_error_t *err)
{
  struct spec_opts *s = data;

  switch (id) {
  case OPT_BUNDLE: s->bundle = v; return 0;
  case OPT_HELP: s->help = 1; return 0;
  case OPT_ROOTLESS:
    return mk_error_set(err, ENOTSUP,
                        "--rootless is not supported yet: it needs user "
                        "namespaces (issue 19)");
  }
  return mk_error_set(err, EINVAL, "unexpected option");
}

static json_t *mount(const char *dst, const char *type, const char *src,
                     const char *options)
{
  json_t *opts = json_array();
  _cleanup_free_ char *copy = options ? mk_xstrdup(options) : NULL;
  char *save = NULL;

  for (char *t = copy ? strtok_r(copy, ",", &save) : NULL; t;
       t = strtok_r(NULL, ",", &save))
    json_array_append_new(opts, json_string(t));
  json_t *m = json_pack("{s:s, s:s, s:s}", "destination", dst, "type", type,
                        "source", src);
  if (m && json_array_size(opts))
    json_object_set(m, "options", opts);
  json_decref(opts);
  return m;
}

static json_t *default_mounts(void)
{
  return json_pack(
      "[o, o, o, o, o, o, o]", mount("/proc", "proc", "proc", NULL),
      mount("/dev", "tmpfs", "tmpfs",
            "nosuid,strictatime,mode=755,size=65536k"),
      mount("/dev/pts", "devpts", "devpts",
            "nosuid,noexec,newinstance,ptmxmode=0666,mode=0620,gid=5"),
      mount("/dev/shm", "tmpfs", "shm",
            "nosuid,noexec,nodev,mode=1777,size=65536k"),
      mount("/dev/mqueue", "mqueue", "mqueue", "nosuid,noexec,nodev"),
      mount("/sys", "sysfs", "sysfs", "nosuid,noexec,nodev,ro"),
      mount("/sys/fs/cgroup", "cgroup", "cgroup",
            "nosuid,noexec,nodev,relatime,ro"));
}

static json_t *default_process(void)
{
  json_t *caps = json_pack("[s, s, s]", "CAP_AUDIT_WRITE", "CAP_KILL",
                           "CAP_NET_BIND_SERVICE");

  json_t *p = json_pack(
      "{s:b, s:{s:i, s:i}, s:[s], s:[s, s], s:s, s:{s:O, s:O, s:O, s:O}, "
      "s:[{s:s, s:i, s:i}], s:b}",
      "terminal", 1, "user", "uid", 0, "gid", 0, "args", "sh", "env",
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      "TERM=xterm", "cwd", "/", "capabilities", "bounding", caps, "effective",
      caps, "permitted", caps, "ambient", caps, "rlimits", "type",
      "RLIMIT_NOFILE", "hard", 1024, "soft", 1024, "noNewPrivileges", 1);

  json_decref(caps); /* the four sets hold their own references (O) */
  return p;
}

static json_t *default_linux(void)
{
  return json_pack(
      "{s:{s:[{s:b, s:s}]}, s:[{s:s}, {s:s}, {s:s}, {s:s}, {s:s}, {s:s}], "
      "s:[s, s, s, s, s, s, s, s, s], s:[s, s, s, s, s, s]}",
      "resources", "devices", "allow", 0, "access", "rwm", "namespaces", "type",
      "pid", "type", "network", "type", "ipc", "type", "uts", "type", "mount",
      "type", "cgroup", "maskedPaths", "/proc/acpi", "/proc/asound",
      "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
      "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
      "readonlyPaths", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
      "/proc/sysrq-trigger", "/proc/scsi");
}

static json_t *default_spec(void)
{
  return json_pack("{s:s, s:o, s:{s:s, s:b}, s:s, s:o, s:o}", "ociVersion",
                   "1.1.0", "process", default_process(), "root", "path",
                   "rootfs", "readonly", 1, "hostname", "mocker", "mounts",
                   default_mounts(), "linux", default_linux());
}

/* config.json is created, never replaced: O_EXCL, and O_NOFOLLOW so a
 * link planted there is not followed. */
static int write_spec(const char *bundle, mk_error_t *err)
{
  _cleanup_close_ int dir = open(bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  json_auto_t *spec = default_spec();
  _cleanup_free_ char *text = spec ? json_dumps(spec, JSON_INDENT(2)) : NULL;

  if (dir < 0)
    return mk_error_sys(err, errno, "open bundle `%s`", bundle);
  if (!text)
    return mk_error_set(err, ENOMEM, "encode config.json");
  _cleanup_close_ int fd =
      openat(dir, "config.json",
             O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0 && errno == EEXIST)
    return mk_error_set(err, EEXIST,
                        "File %s/config.json exists. Remove it first", bundle);
  if (fd < 0)
    return mk_error_sys(err, errno, "create `%s/config.json`", bundle);
  if (mk_write_all(fd, text, strlen(text)) < 0 || mk_write_all(fd, "\n", 1) < 0)
    return mk_error_sys(err, errno, "write `%s/config.json`", bundle);
  return 0;
}

int mk_oci_cmd_spec(struct mk_ctx *ctx, int argc, char **argv)
{
  struct spec_opts s = {.bundle = "."};
  mk_error_t err = {0};
  int next = mk_parse_flags(argc, argv, 1, mk_oci_spec_flags, apply, &s, &err);

  if (next < 0)
    return mk_oci_fail(mk_oci_of(ctx), err.msg);
  if (s.help) {
    fputs(mk_oci_spec_usage, stdout);
    return 0;
  }
  if (next < argc)
    return mk_oci_fail(mk_oci_of(ctx), "spec takes no arguments");
  if (write_spec(s.bundle, &err) < 0)
    return mk_oci_fail(mk_oci_of(ctx), err.msg);
  return 0;
}
