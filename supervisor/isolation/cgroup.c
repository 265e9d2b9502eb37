#include "cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "mk_util.h"

#define CGROUP_ROOT "/sys/fs/cgroup"
#define CGROUP2_MAGIC 0x63677270
#define PARENT "mocker"
#define CPU_PERIOD_US 100000
#define REMOVE_DEADLINE_MS 5000

/* The v1 controllers a container gets a directory in. */
static const char *const v1_controllers[] = {
    "memory", "cpu", "cpuacct", "cpuset", "pids", "devices", "freezer", "blkio",
};

/* ---- small file helpers ------------------------------------------------ */

static int write_file(const char *dir, const char *file, const char *value,
                      mk_error_t *err)
{
  char path[PATH_MAX];
  _cleanup_close_ int fd = -1;

  if (mk_snprintf(path, sizeof(path), "%s/%s", dir, file) < 0)
    return mk_error_set(err, ENAMETOOLONG, "cgroup path too long");
  fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write(fd, value, strlen(value)) < 0)
    return mk_error_sys(err, errno, "write %s to `%s`", value, path);
  return 0;
}

static ssize_t read_file(const char *dir, const char *file, char *buf,
                         size_t size)
{
  char path[PATH_MAX];
  _cleanup_close_ int fd = -1;
  ssize_t n;

  if (mk_snprintf(path, sizeof(path), "%s/%s", dir, file) < 0)
    return -1;
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || (n = mk_read_all(fd, buf, size - 1)) < 0)
    return -1;
  buf[n] = '\0';
  return n;
}

static int has_file(const char *dir, const char *file)
{
  char path[PATH_MAX];

  return mk_snprintf(path, sizeof(path), "%s/%s", dir, file) == 0 &&
         access(path, F_OK) == 0;
}

/* "key value" lines (memory.events, memory.stat, cpu.stat): key's value. */
static uint64_t keyed_value(const char *dir, const char *file, const char *key)
{
  char buf[8192], *p = buf;
  size_t klen = strlen(key);

  if (read_file(dir, file, buf, sizeof(buf)) < 0)
    return 0;
  for (; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
    if (strncmp(p, key, klen) == 0 && p[klen] == ' ')
      return strtoull(p + klen + 1, NULL, 10);
  return 0;
}

static uint64_t number_in(const char *dir, const char *file)
{
  char buf[64];

  return read_file(dir, file, buf, sizeof(buf)) > 0 ? strtoull(buf, NULL, 10)
                                                    : 0;
}

/* ---- finding the hierarchies ------------------------------------------- */

enum mk_cgroup_mode mk_cgroup_detect(void)
{
  struct statfs fs;

  if (statfs(CGROUP_ROOT, &fs) < 0)
    return MK_CGROUP_NONE;
  if ((unsigned long)fs.f_type == CGROUP2_MAGIC)
    return MK_CGROUP_V2;
  return MK_CGROUP_V1;
}

static const char *dir_of(const struct mk_cgroup *cg, const char *controller)
{
  for (size_t i = 0; i < cg->ndirs; i++) {
    const char *n = cg->names[i];
    size_t len = strlen(controller);
    for (const char *p = n; (p = strstr(p, controller)); p += len)
      if ((p == n || p[-1] == ',') && (p[len] == ',' || p[len] == '\0'))
        return cg->dirs[i];
  }
  return cg->mode == MK_CGROUP_V2 ? cg->dirs[0] : NULL;
}

static int wanted_controller(const char *name)
{
  for (size_t i = 0; i < MK_ARRAY_SIZE(v1_controllers); i++)
    if (strcmp(name, v1_controllers[i]) == 0)
      return 1;
  return 0;
}

/* From a v1 mount's super options ("rw,cpu,cpuacct"), the controllers
 * we use, comma-separated; "" when none (name=systemd and the like). */
static void controllers_of(const char *opts, char out[64])
{
  char copy[256];

  out[0] = '\0';
  snprintf(copy, sizeof(copy), "%s", opts);
  copy[strcspn(copy, " \n")] = '\0';
  for (char *tok = strtok(copy, ","); tok; tok = strtok(NULL, ","))
    if (wanted_controller(tok) && strlen(out) + strlen(tok) + 2 < 64)
      strcat(strcat(out, *out ? "," : ""), tok);
}

/* mountinfo: "... MOUNTPOINT ... - cgroup cgroup rw,memory". rel: the
 * cgroup's path below each hierarchy. */
static int add_v1_mount(struct mk_cgroup *cg, char *line, const char *rel)
{
  char mountpoint[PATH_MAX], names[64];
  char *sep = strstr(line, " - cgroup cgroup ");

  if (!sep || sscanf(line, "%*s %*s %*s %*s %4095s", mountpoint) != 1)
    return 0;
  controllers_of(sep + strlen(" - cgroup cgroup "), names);
  if (!names[0] || strncmp(mountpoint, CGROUP_ROOT "/", 15) != 0 ||
      cg->ndirs >= MK_CGROUP_MAX_DIRS)
    return 0;
  snprintf(cg->names[cg->ndirs], sizeof(cg->names[0]), "%s", names);
  return mk_snprintf(cg->dirs[cg->ndirs++], sizeof(cg->dirs[0]), "%s/%s",
                     mountpoint, rel);
}

static int locate_v1(struct mk_cgroup *cg, const char *rel, mk_error_t *err)
{
  _cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
  char line[4096];

  if (!f)
    return mk_error_sys(err, errno, "open /proc/self/mountinfo");
  while (fgets(line, sizeof(line), f))
    if (add_v1_mount(cg, line, rel) < 0)
      return mk_error_set(err, ENAMETOOLONG, "cgroup path too long");
  if (cg->ndirs == 0)
    return mk_error_set(err, ENOENT,
                        "no cgroup v1 controllers are mounted under %s",
                        CGROUP_ROOT);
  return 0;
}

/* rel: the cgroup's path below the root of each hierarchy. */
static int locate_rel(struct mk_cgroup *cg, const char *rel, mk_error_t *err)
{
  /* no memset: 50 KB of paths, where an entry past ndirs is never read;
   * each page touched is a page fault */
  cg->ndirs = 0;
  cg->mode = mk_cgroup_detect();
  if (cg->mode == MK_CGROUP_NONE)
    return mk_error_set(err, ENOENT, "no cgroup file system at %s",
                        CGROUP_ROOT);
  if (cg->mode == MK_CGROUP_V1)
    return locate_v1(cg, rel, err);
  cg->ndirs = 1;
  snprintf(cg->names[0], sizeof(cg->names[0]), "unified");
  if (mk_snprintf(cg->dirs[0], sizeof(cg->dirs[0]), CGROUP_ROOT "/%s", rel) < 0)
    return mk_error_set(err, ENAMETOOLONG, "cgroup path too long");
  return 0;
}

int mk_cgroup_locate(struct mk_cgroup *cg, const char *id, mk_error_t *err)
{
  char rel[PATH_MAX];

  if (mk_snprintf(rel, sizeof(rel), PARENT "/%s", id) < 0)
    return mk_error_set(err, ENAMETOOLONG, "cgroup path too long");
  return locate_rel(cg, rel, err);
}

/* Absolute, and every component a plain name: nothing can climb out of
 * the hierarchy or name one of its files. */
static int check_cgroup_path(const char *path, mk_error_t *err)
{
  const char *p = path;

  if (path[0] != '/' || strlen(path) > 1024)
    return mk_error_set(err, EINVAL, "cgroup path `%s`: must be absolute",
                        path);
  while (*p == '/') {
    size_t n = strcspn(++p, "/");
    if (n == 0 || (n == 1 && p[0] == '.') ||
        (n == 2 && p[0] == '.' && p[1] == '.') ||
        strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                  "0123456789_.:@-") < n)
      return mk_error_set(err, EINVAL,
                          "cgroup path `%s`: a component is empty, `.`, "
                          "`..` or has a character outside [A-Za-z0-9_.:@-]",
                          path);
    p += n;
  }
  return 0;
}

int mk_cgroup_locate_path(struct mk_cgroup *cg, const char *path,
                          mk_error_t *err)
{
  if (check_cgroup_path(path, err) < 0)
    return -1;
  return locate_rel(cg, path + 1, err);
}

/* ---- creating ---------------------------------------------------------- */

static void parent_of(const char *dir, char out[PATH_MAX])
{
  snprintf(out, PATH_MAX, "%s", dir);
  char *slash = strrchr(out, '/');
  if (slash)
    *slash = '\0';
}

/* v2: controllers must be enabled in every ancestor's subtree_control. */
static int enable_v2_controllers(const char *dir, mk_error_t *err)
{
  char avail[256], want[256] = "";

  if (read_file(dir, "cgroup.controllers", avail, sizeof(avail)) < 0)
    return mk_error_sys(err, errno, "read `%s/cgroup.controllers`", dir);
  for (char *tok = strtok(avail, " \n"); tok; tok = strtok(NULL, " \n"))
    if (strcmp(tok, "cpu") == 0 || strcmp(tok, "memory") == 0 ||
        strcmp(tok, "pids") == 0 || strcmp(tok, "io") == 0 ||
        strcmp(tok, "cpuset") == 0)
      snprintf(want + strlen(want), sizeof(want) - strlen(want), "%s+%s",
               *want ? " " : "", tok);
  return *want ? write_file(dir, "cgroup.subtree_control", want, err) : 0;
}

/* v1 cpuset: a new cgroup starts with no cpus and no mems; inherit. */
static int inherit_cpuset(const char *dir, mk_error_t *err)
{
  char parent[PATH_MAX], buf[256];

  parent_of(dir, parent);
  for (int i = 0; i < 2; i++) {
    const char *file = i ? "cpuset.mems" : "cpuset.cpus";
    if (read_file(dir, file, buf, sizeof(buf)) > 1)
      continue; /* already set */
    if (read_file(parent, file, buf, sizeof(buf)) < 0 ||
        write_file(dir, file, buf, err) < 0)
      return mk_error_prefix(err, "cpuset");
  }
  return 0;
}

static int make_dir(const char *dir, int is_cpuset, mk_error_t *err)
{
  if (mkdir(dir, 0755) < 0 && errno != EEXIST)
    return mk_error_sys(err, errno, "create cgroup `%s`", dir);
  return is_cpuset ? inherit_cpuset(dir, err) : 0;
}

/* The length of dir's hierarchy mount point: /sys/fs/cgroup on v2,
 * /sys/fs/cgroup/<controllers> on v1. */
static size_t mount_prefix(const struct mk_cgroup *cg, const char *dir)
{
  const char *end = dir + strlen(CGROUP_ROOT);

  if (cg->mode == MK_CGROUP_V1 && *end == '/')
    end = strchrnul(end + 1, '/');
  return (size_t)(end - dir);
}

/* dir and every missing ancestor below the mount point, each ancestor
 * lending its controllers to the next on v2. */
static int make_path(const struct mk_cgroup *cg, const char *dir, int cpuset,
                     mk_error_t *err)
{
  char path[PATH_MAX];
  size_t base = mount_prefix(cg, dir);

  snprintf(path, sizeof(path), "%s", dir);
  if (cg->mode == MK_CGROUP_V2 && enable_v2_controllers(CGROUP_ROOT, err) < 0)
    return -1;
  for (char *p = strchr(path + base + 1, '/'); p; p = strchr(p + 1, '/')) {
    *p = '\0';
    if (make_dir(path, cpuset, err) < 0 ||
        (cg->mode == MK_CGROUP_V2 && enable_v2_controllers(path, err) < 0))
      return -1;
    *p = '/';
  }
  return make_dir(path, cpuset, err);
}

int mk_cgroup_create(struct mk_cgroup *cg, mk_error_t *err)
{
  for (size_t i = 0; i < cg->ndirs; i++) {
    int cpuset = cg->mode == MK_CGROUP_V1 && strstr(cg->names[i], "cpuset");
    if (make_path(cg, cg->dirs[i], cpuset, err) < 0)
      return -1;
  }
  return 0;
}

/* ---- limits ------------------------------------------------------------ */

static int set_value(const struct mk_cgroup *cg, const char *controller,
                     const char *file, const char *value, mk_error_t *err)
{
  const char *dir = dir_of(cg, controller);

  if (!dir || !has_file(dir, file))
    return mk_error_set(err, ENOTSUP,
                        "this host cannot enforce the limit: no %s (the %s "
                        "controller is not available)",
                        file, controller);
  return write_file(dir, file, value, err);
}

static int set_number(const struct mk_cgroup *cg, const char *controller,
                      const char *file, int64_t v, mk_error_t *err)
{
  char buf[32];

  snprintf(buf, sizeof(buf), "%lld", (long long)v);
  return set_value(cg, controller, file, buf, err);
}

/* v1 wants memory <= memory+swap at every moment: when limits grow, the
 * memsw one moves first; when they shrink, the memory one does. */
static int apply_memory_v1(const struct mk_cgroup *cg, int64_t memory,
                           int64_t swap, mk_error_t *err)
{
  const char *dir = dir_of(cg, "memory");
  int memsw = dir && has_file(dir, "memory.memsw.limit_in_bytes");
  int64_t total = swap < 0 ? -1 : swap;
  int grow = dir && (uint64_t)memory > number_in(dir, "memory.limit_in_bytes");

  if (memsw && grow &&
      set_number(cg, "memory", "memory.memsw.limit_in_bytes", total, err) < 0)
    return -1;
  if (set_number(cg, "memory", "memory.limit_in_bytes", memory, err) < 0)
    return -1;
  if (memsw && !grow &&
      set_number(cg, "memory", "memory.memsw.limit_in_bytes", total, err) < 0)
    return -1;
  return 0;
}

static int apply_memory(const struct mk_cgroup *cg,
                        const struct mk_cgroup_limits *l, mk_error_t *err)
{
  int v2 = cg->mode == MK_CGROUP_V2;
  /* Docker: with --memory alone, as much swap again as memory. */
  int64_t swap = l->memory_swap ? l->memory_swap : 2 * l->memory;

  if (l->memory_reservation &&
      set_number(cg, "memory", v2 ? "memory.low" : "memory.soft_limit_in_bytes",
                 l->memory_reservation, err) < 0)
    return -1;
  if (!l->memory)
    return 0;
  if (v2) {
    if (set_number(cg, "memory", "memory.max", l->memory, err) < 0)
      return -1;
    if (!has_file(cg->dirs[0], "memory.swap.max"))
      return 0; /* no swap accounting: nothing to limit */
    return swap < 0 ? set_value(cg, "memory", "memory.swap.max", "max", err)
                    : set_number(cg, "memory", "memory.swap.max",
                                 swap - l->memory, err);
  }
  return apply_memory_v1(cg, l->memory, swap, err);
}

/* A CFS quota over a period (microseconds); a quota of 0 keeps the
 * current one (only the period changes). */
static int apply_cfs(const struct mk_cgroup *cg, int64_t quota, int64_t period,
                     mk_error_t *err)
{
  char buf[64];

  if (cg->mode == MK_CGROUP_V2) {
    if (quota > 0)
      snprintf(buf, sizeof(buf), "%lld %lld", (long long)quota,
               (long long)period);
    else
      snprintf(buf, sizeof(buf), "max %lld", (long long)period);
    return set_value(cg, "cpu", "cpu.max", buf, err);
  }
  if (set_number(cg, "cpu", "cpu.cfs_period_us", period, err) < 0)
    return -1;
  return quota > 0 ? set_number(cg, "cpu", "cpu.cfs_quota_us", quota, err) : 0;
}

static int apply_cpu(const struct mk_cgroup *cg,
                     const struct mk_cgroup_limits *l, mk_error_t *err)
{
  int v2 = cg->mode == MK_CGROUP_V2;

  if (l->cpu_quota || l->cpu_period) {
    if (apply_cfs(cg, l->cpu_quota,
                  l->cpu_period ? l->cpu_period : CPU_PERIOD_US, err) < 0)
      return -1;
  } else if (l->nano_cpus &&
             apply_cfs(cg, l->nano_cpus * CPU_PERIOD_US / 1000000000LL,
                       CPU_PERIOD_US, err) < 0) {
    return -1;
  }
  if (l->cpu_shares) /* v2 weight from shares, as crun and runc map it */
    return v2 ? set_number(cg, "cpu", "cpu.weight",
                           1 + ((l->cpu_shares - 2) * 9999) / 262142, err)
              : set_number(cg, "cpu", "cpu.shares", l->cpu_shares, err);
  return 0;
}

int mk_cgroup_apply(const struct mk_cgroup *cg,
                    const struct mk_cgroup_limits *l, mk_error_t *err)
{
  int v2 = cg->mode == MK_CGROUP_V2;

  if (apply_memory(cg, l, err) < 0 || apply_cpu(cg, l, err) < 0)
    return -1;
  if (l->cpuset_cpus[0] &&
      set_value(cg, "cpuset", "cpuset.cpus", l->cpuset_cpus, err) < 0)
    return -1;
  if (l->cpuset_mems[0] &&
      set_value(cg, "cpuset", "cpuset.mems", l->cpuset_mems, err) < 0)
    return -1;
  if (l->pids_limit &&
      (l->pids_limit < 0
           ? set_value(cg, "pids", "pids.max", "max", err)
           : set_number(cg, "pids", "pids.max", l->pids_limit, err)) < 0)
    return -1;
  if (l->blkio_weight) {
    char buf[32];
    snprintf(buf, sizeof(buf), v2 ? "default %lld" : "%lld",
             (long long)l->blkio_weight);
    const char *file = v2 ? "io.weight" : "blkio.weight";
    const char *dir = dir_of(cg, v2 ? "io" : "blkio");
    if (!v2 && dir && !has_file(dir, file) && has_file(dir, "blkio.bfq.weight"))
      file = "blkio.bfq.weight";
    if (set_value(cg, v2 ? "io" : "blkio", file, buf, err) < 0)
      return -1;
  }
  return 0;
}

/* ---- devices ----------------------------------------------------------- */

/* Docker's default allow-list. */
static const struct mk_device_rule default_devices[] = {
    {'c', -1, -1, "m"},    {'b', -1, -1, "m"},    /* mknod anything */
    {'c', 1, 3, "rwm"},    {'c', 1, 5, "rwm"},    /* null, zero */
    {'c', 1, 7, "rwm"},    {'c', 1, 8, "rwm"},    /* full, random */
    {'c', 1, 9, "rwm"},    {'c', 5, 0, "rwm"},    /* urandom, tty */
    {'c', 5, 1, "rwm"},    {'c', 5, 2, "rwm"},    /* console, ptmx */
    {'c', 136, -1, "rwm"}, {'c', 10, 200, "rwm"}, /* pts, net/tun */
};

int mk_cgroup_default_allows(const struct mk_device_rule *r)
{
  for (size_t i = 0; i < MK_ARRAY_SIZE(default_devices); i++) {
    const struct mk_device_rule *d = &default_devices[i];
    if (d->type == r->type && (d->major < 0 || d->major == r->major) &&
        (d->minor < 0 || d->minor == r->minor) &&
        strspn(r->access, d->access) == strlen(r->access))
      return 1;
  }
  return 0;
}

void mk_device_rule_format(const struct mk_device_rule *r, char out[64])
{
  char maj[24], min[24];

  snprintf(maj, sizeof(maj), r->major < 0 ? "*" : "%lld", (long long)r->major);
  snprintf(min, sizeof(min), r->minor < 0 ? "*" : "%lld", (long long)r->minor);
  snprintf(out, 64, "%c %s:%s %s", r->type, maj, min, r->access);
}

int mk_device_rule_parse(const char *text, struct mk_device_rule *r,
                         mk_error_t *err)
{
  char type, maj[24], min[24], access[8], extra;
  int n = sscanf(text, "%c %23[0-9*]:%23[0-9*] %7s %c", &type, maj, min,
                 access, &extra);
  char *end;

  if (n != 4 || !strchr("abc", type) || !*access ||
      strspn(access, "rwm") != strlen(access) || strlen(access) > 3)
    return mk_error_set(err, EINVAL,
                        "device cgroup rule `%s`: not TYPE MAJOR:MINOR ACCESS "
                        "(a, b or c; a number or *; some of rwm)",
                        text);
  r->type = type;
  r->major = strcmp(maj, "*") == 0 ? -1 : strtoll(maj, &end, 10);
  if (r->major != -1 && (*end || r->major > UINT32_MAX))
    return mk_error_set(err, EINVAL, "device cgroup rule `%s`: bad major",
                        text);
  r->minor = strcmp(min, "*") == 0 ? -1 : strtoll(min, &end, 10);
  if (r->minor != -1 && (*end || r->minor > UINT32_MAX))
    return mk_error_set(err, EINVAL, "device cgroup rule `%s`: bad minor",
                        text);
  snprintf(r->access, sizeof(r->access), "%s", access);
  return 0;
}

static int write_rules(const char *dir, const struct mk_device_rule *rules,
                       size_t n, mk_error_t *err)
{
  char rule[64];

  for (size_t i = 0; i < n; i++) {
    mk_device_rule_format(&rules[i], rule);
    if (write_file(dir, "devices.allow", rule, err) < 0)
      return -1;
  }
  return 0;
}

static int devices_v1(const struct mk_cgroup *cg,
                      const struct mk_device_rule *first, size_t nfirst,
                      const struct mk_device_rule *rules, size_t n,
                      int allow_all, mk_error_t *err)
{
  const char *dir = dir_of(cg, "devices");

  if (!dir)
    return mk_error_set(err, ENOTSUP, "the devices cgroup is not mounted");
  if (allow_all)
    return write_file(dir, "devices.allow", "a", err);
  if (write_file(dir, "devices.deny", "a", err) < 0)
    return -1;
  return write_rules(dir, first, nfirst, err) < 0 ||
                 write_rules(dir, default_devices,
                             MK_ARRAY_SIZE(default_devices), err) < 0 ||
                 write_rules(dir, rules, n, err) < 0
             ? -1
             : 0;
}

#define MAX_RULES 256

int mk_cgroup_set_devices(const struct mk_cgroup *cg,
                          const struct mk_device_rule *first, size_t nfirst,
                          const struct mk_device_rule *rules, size_t n,
                          int allow_all, mk_error_t *err)
{
  struct mk_device_rule all[MAX_RULES];

  if (cg->mode != MK_CGROUP_V2)
    return devices_v1(cg, first, nfirst, rules, n, allow_all, err);
  /* an allow list: the order does not matter to the program */
  if (nfirst + n > MAX_RULES)
    return mk_error_set(err, E2BIG, "more than %d device rules", MAX_RULES);
  memcpy(all, first, nfirst * sizeof(*first));
  memcpy(all + nfirst, rules, n * sizeof(*rules));
  return mk_cgroup_devices_bpf(cg->dirs[0], default_devices,
                               MK_ARRAY_SIZE(default_devices), all,
                               nfirst + n, allow_all, err);
}

/* ---- processes --------------------------------------------------------- */

const char *mk_cgroup_enter_file(const struct mk_cgroup *cg)
{
  /* v1: the single-threaded caller moves its one thread through "tasks".
   * cgroup.procs would take the global threadgroup rwsem for writing,
   * which waits out an RCU grace period: 8.7 ms measured here, on every
   * container start. A single thread moving itself skips that lock. */
  return cg->mode == MK_CGROUP_V1 ? "tasks" : "cgroup.procs";
}

int mk_cgroup_enter(const struct mk_cgroup *cg, mk_error_t *err)
{
  for (size_t i = 0; i < cg->ndirs; i++)
    if (write_file(cg->dirs[i], mk_cgroup_enter_file(cg), "0", err) < 0)
      return -1;
  return 0;
}

int mk_cgroup_enter_pid(const struct mk_cgroup *cg, pid_t pid, mk_error_t *err)
{
  char value[24];

  snprintf(value, sizeof(value), "%d", (int)pid);
  for (size_t i = 0; i < cg->ndirs; i++)
    if (write_file(cg->dirs[i], mk_cgroup_enter_file(cg), value, err) < 0)
      return -1;
  return 0;
}

int mk_cgroup_open_fd(const struct mk_cgroup *cg)
{
  if (cg->mode != MK_CGROUP_V2)
    return -1;
  return open(cg->dirs[0], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

size_t mk_cgroup_pids(const struct mk_cgroup *cg, pid_t *pids, size_t max)
{
  const char *dir = dir_of(cg, "pids");
  char buf[65536];
  size_t n = 0;

  if (!dir)
    dir = cg->dirs[0];
  if (read_file(dir, "cgroup.procs", buf, sizeof(buf)) < 0)
    return 0;
  for (char *p = buf; *p && n < max;) {
    char *end;
    long pid = strtol(p, &end, 10);
    if (end == p)
      break;
    pids[n++] = (pid_t)pid;
    p = end + (*end == '\n');
  }
  return n;
}

static void sleep_ms(long ms)
{
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

  nanosleep(&ts, NULL);
}

/* Whether the cgroup has reached the state asked: v2's cgroup.events
 * says "frozen 1"; v1's freezer.state reads FROZEN or THAWED. */
static int freeze_done(const struct mk_cgroup *cg, int frozen)
{
  char buf[256];
  const char *freezer = dir_of(cg, "freezer");

  if (cg->mode == MK_CGROUP_V2)
    return read_file(cg->dirs[0], "cgroup.events", buf, sizeof(buf)) > 0 &&
           strstr(buf, frozen ? "frozen 1" : "frozen 0") != NULL;
  return freezer && read_file(freezer, "freezer.state", buf, sizeof(buf)) > 0 &&
         strncmp(buf, frozen ? "FROZEN" : "THAWED", 6) == 0;
}

int mk_cgroup_freeze(const struct mk_cgroup *cg, int frozen, mk_error_t *err)
{
  const char *dir =
      cg->mode == MK_CGROUP_V2 ? cg->dirs[0] : dir_of(cg, "freezer");
  const char *file =
      cg->mode == MK_CGROUP_V2 ? "cgroup.freeze" : "freezer.state";
  const char *value = cg->mode == MK_CGROUP_V2 ? (frozen ? "1" : "0")
                      : frozen                 ? "FROZEN"
                                               : "THAWED";

  if (!dir || !has_file(dir, file))
    return mk_error_set(err, ENOTSUP, "this host has no cgroup freezer");
  if (write_file(dir, file, value, err) < 0)
    return -1;
  for (int i = 0; i < 400 && !freeze_done(cg, frozen); i++)
    sleep_ms(5);
  return freeze_done(cg, frozen)
             ? 0
             : mk_error_set(err, ETIMEDOUT, "the cgroup did not %s",
                            frozen ? "freeze" : "thaw");
}

int mk_cgroup_signal_all(const struct mk_cgroup *cg, int sig)
{
  pid_t pids[4096];
  mk_error_t ignored;
  int frozen = mk_cgroup_freeze(cg, 1, &ignored) == 0;
  size_t n = mk_cgroup_pids(cg, pids, MK_ARRAY_SIZE(pids));

  for (size_t i = 0; i < n; i++)
    kill(pids[i], sig);
  if (frozen)
    mk_cgroup_freeze(cg, 0, &ignored);
  return frozen;
}

/* v1 has no cgroup.kill: freeze, so nothing forks (and no pid is
 * reused) while we kill, then SIGKILL every member, then thaw so the
 * kills are delivered. */
static void kill_v1(const struct mk_cgroup *cg)
{
  mk_cgroup_signal_all(cg, SIGKILL);
}

void mk_cgroup_kill(const struct mk_cgroup *cg)
{
  mk_error_t ignored;
  pid_t any;

  /* The usual case on the way out: the pid namespace took everything
   * with it, and there is nothing to freeze or kill. */
  if (!mk_cgroup_exists(cg) || mk_cgroup_pids(cg, &any, 1) == 0)
    return;
  if (cg->mode == MK_CGROUP_V2 && has_file(cg->dirs[0], "cgroup.kill"))
    write_file(cg->dirs[0], "cgroup.kill", "1", &ignored);
  else
    kill_v1(cg);
}

int mk_cgroup_exists(const struct mk_cgroup *cg)
{
  return cg->ndirs > 0 && access(cg->dirs[0], F_OK) == 0;
}

/* rmdir fails with EBUSY until the last member is gone (reaped). */
static int remove_dir(const char *dir, mk_error_t *err)
{
  for (int waited = 0; rmdir(dir) < 0; waited += 10) {
    if (errno == ENOENT)
      return 0;
    if (errno != EBUSY || waited >= REMOVE_DEADLINE_MS)
      return mk_error_sys(err, errno, "remove cgroup `%s`", dir);
    sleep_ms(10);
  }
  return 0;
}

int mk_cgroup_destroy(const struct mk_cgroup *cg, mk_error_t *err)
{
  int rc = 0;

  mk_cgroup_kill(cg);
  for (size_t i = 0; i < cg->ndirs; i++)
    if (remove_dir(cg->dirs[i], err) < 0)
      rc = -1;
  return rc;
}

/* ---- observing --------------------------------------------------------- */

uint64_t mk_cgroup_oom_kills(const struct mk_cgroup *cg)
{
  const char *dir = dir_of(cg, "memory");

  if (!dir)
    return 0;
  return cg->mode == MK_CGROUP_V2
             ? keyed_value(dir, "memory.events", "oom_kill")
             : keyed_value(dir, "memory.oom_control", "oom_kill");
}

static void read_blkio(const struct mk_cgroup *cg, struct mk_cgroup_stats *st)
{
  char buf[8192];
  const char *dir = dir_of(cg, cg->mode == MK_CGROUP_V2 ? "io" : "blkio");

  if (!dir)
    return;
  if (cg->mode == MK_CGROUP_V2) { /* "8:0 rbytes=N wbytes=N ..." */
    if (read_file(dir, "io.stat", buf, sizeof(buf)) < 0)
      return;
    for (char *p = buf; (p = strstr(p, "bytes=")); p += 6) {
      uint64_t v = strtoull(p + 6, NULL, 10);
      if (p > buf && p[-1] == 'r')
        st->blk_read += v;
      else if (p > buf && p[-1] == 'w')
        st->blk_write += v;
    }
    return;
  }
  if (read_file(dir, "blkio.throttle.io_service_bytes", buf, sizeof(buf)) < 0)
    return;
  for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
    char op[16];
    unsigned long long v;
    if (sscanf(line, "%*s %15s %llu", op, &v) != 2)
      continue;
    if (strcmp(op, "Read") == 0)
      st->blk_read += v;
    else if (strcmp(op, "Write") == 0)
      st->blk_write += v;
  }
}

int mk_cgroup_read_stats(const struct mk_cgroup *cg, struct mk_cgroup_stats *st)
{
  const char *mem = dir_of(cg, "memory"), *pids = dir_of(cg, "pids");
  const char *cpu = dir_of(cg, cg->mode == MK_CGROUP_V2 ? "cpu" : "cpuacct");
  char buf[64];

  memset(st, 0, sizeof(*st));
  if (!mk_cgroup_exists(cg))
    return -1;
  if (cg->mode == MK_CGROUP_V2) {
    st->cpu_usage_ns = keyed_value(cpu, "cpu.stat", "usage_usec") * 1000;
    st->memory_usage = number_in(mem, "memory.current");
    if (read_file(mem, "memory.max", buf, sizeof(buf)) > 0 && buf[0] != 'm')
      st->memory_limit = strtoull(buf, NULL, 10);
  } else {
    st->cpu_usage_ns = cpu ? number_in(cpu, "cpuacct.usage") : 0;
    st->memory_usage = mem ? number_in(mem, "memory.usage_in_bytes") : 0;
    st->memory_limit = mem ? number_in(mem, "memory.limit_in_bytes") : 0;
    if (st->memory_limit >= (1ULL << 62)) /* v1's "unlimited" */
      st->memory_limit = 0;
  }
  /* Docker shows usage without the page cache that can be dropped. */
  uint64_t inactive =
      mem ? keyed_value(mem, "memory.stat",
                        cg->mode == MK_CGROUP_V2 ? "inactive_file"
                                                 : "total_inactive_file")
          : 0;
  if (inactive < st->memory_usage)
    st->memory_usage -= inactive;
  st->pids = pids ? number_in(pids, "pids.current") : 0;
  read_blkio(cg, st);
  return 0;
}
