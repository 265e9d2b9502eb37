#include "cli.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "isolation/caps.h"
#include "isolation/cgroup.h"
#include "base/flags.h"
#include "mk_proto.h"
#include "mk_util.h"
#include "net/portspec.h"
#include "base/validate.h"

const char mk_run_usage[] =
    "Usage:  mocker run [OPTIONS] IMAGE [COMMAND] [ARG...]\n"
    "\n"
    "Create and run a new container from an image\n"
    "\n"
    "Options:\n"
    "  -d, --detach               Run container in background and print "
    "container ID\n"
    "      --add-host list        Add a custom host-to-IP mapping "
    "(host:ip)\n"
    "      --blkio-weight uint16  Block IO weight (10-1000), 0 to disable\n"
    "      --cap-add list         Add Linux capabilities\n"
    "      --cap-drop list        Drop Linux capabilities\n"
    "  -c, --cpu-shares int       CPU shares (relative weight)\n"
    "      --cpus decimal         Number of CPUs\n"
    "      --cpuset-cpus string   CPUs in which to allow execution (0-3, 0,1)\n"
    "      --dns list             Set custom DNS servers\n"
    "      --device list          Add a host device to the container "
    "(HOST[:CONTAINER[:rwm]])\n"
    "      --device-cgroup-rule list  Add a rule to the cgroup allowed "
    "devices list (\"c 10:229 rwm\")\n"
    "      --expose list          Expose a port or a range of ports\n"
    "      --entrypoint string    Overwrite the default ENTRYPOINT of the "
    "image\n"
    "  -e, --env list             Set environment variables\n"
    "      --env-file list        Read in a file of environment variables\n"
    "  -h, --hostname string      Container host name\n"
    "  -i, --interactive          Keep STDIN open even if not attached\n"
    "      --log-opt list         Log driver options (max-size=SIZE)\n"
    "  -m, --memory bytes         Memory limit\n"
    "      --memory-reservation bytes  Memory soft limit\n"
    "      --memory-swap bytes    Swap limit equal to memory plus swap: '-1' "
    "to enable unlimited swap\n"
    "      --name string          Assign a name to the container\n"
    "      --network string       Connect a container to a network: bridge "
    "(default), none, host,\n"
    "                             container:NAME|ID, or a user network\n"
    "  -p, --publish list         Publish a container's port(s) to the host "
    "([hostip:][hostport:]port[/udp])\n"
    "  -P, --publish-all          Publish all exposed ports to random "
    "ports\n"
    "      --pids-limit int       Tune container pids limit (-1 for "
    "unlimited)\n"
    "      --privileged           Give extended privileges to this container\n"
    "      --pull string          Pull image before running "
    "(\"always\", \"missing\", \"never\") (default \"missing\")\n"
    "      --read-only            Mount the container's root filesystem as "
    "read only\n"
    "      --rm                   Automatically remove the container when it "
    "exits\n"
    "      --security-opt list    Security options (no-new-privileges[=false], "
    "seccomp=unconfined|PROFILE.json)\n"
    "      --stop-signal string   Signal to stop the container\n"
    "      --stop-timeout int     Timeout (in seconds) to stop a container\n"
    "      --tmpfs list           Mount a tmpfs directory (PATH[:OPTIONS])\n"
    "  -t, --tty                  Allocate a pseudo-TTY\n"
    "  -u, --user string          Username or UID (format: "
    "<name|uid>[:<group|gid>])\n"
    "      --userns string        User namespace to use (\"host\", or "
    "\"remap\": root is an unprivileged host id)\n"
    "  -v, --volume list          Bind mount a volume "
    "(HOST-DIR|NAME:CONTAINER-DIR[:ro])\n"
    "  -w, --workdir string       Working directory inside the container\n"
    "      --help                 Print usage\n";

enum {
  OPT_INTERACTIVE = 1,
  OPT_TTY,
  OPT_RM,
  OPT_NAME,
  OPT_ENV,
  OPT_ENV_FILE,
  OPT_WORKDIR,
  OPT_USER,
  OPT_HOSTNAME,
  OPT_ENTRYPOINT,
  OPT_VOLUME,
  OPT_TMPFS,
  OPT_READ_ONLY,
  OPT_PULL,
  OPT_DETACH,
  OPT_STOP_SIGNAL,
  OPT_STOP_TIMEOUT,
  OPT_LOG_OPT,
  OPT_CAP_ADD,
  OPT_CAP_DROP,
  OPT_PRIVILEGED,
  OPT_SECURITY_OPT,
  OPT_DEVICE,
  OPT_MEMORY,
  OPT_MEMORY_SWAP,
  OPT_MEMORY_RESERVATION,
  OPT_CPUS,
  OPT_CPU_SHARES,
  OPT_CPUSET_CPUS,
  OPT_PIDS_LIMIT,
  OPT_BLKIO_WEIGHT,
  OPT_NETWORK,
  OPT_PUBLISH,
  OPT_PUBLISH_ALL,
  OPT_EXPOSE,
  OPT_DNS,
  OPT_ADD_HOST,
  OPT_USERNS,
  OPT_DEVICE_CGROUP_RULE,
  OPT_HELP
};

const struct mk_flag mk_run_flags[] = {
    {"interactive", 'i', 0, OPT_INTERACTIVE},
    {"tty", 't', 0, OPT_TTY},
    {"rm", 0, 0, OPT_RM},
    {"name", 0, 1, OPT_NAME},
    {"env", 'e', 1, OPT_ENV},
    {"env-file", 0, 1, OPT_ENV_FILE},
    {"workdir", 'w', 1, OPT_WORKDIR},
    {"user", 'u', 1, OPT_USER},
    {"hostname", 'h', 1, OPT_HOSTNAME},
    {"entrypoint", 0, 1, OPT_ENTRYPOINT},
    {"volume", 'v', 1, OPT_VOLUME},
    {"tmpfs", 0, 1, OPT_TMPFS},
    {"read-only", 0, 0, OPT_READ_ONLY},
    {"pull", 0, 1, OPT_PULL},
    {"detach", 'd', 0, OPT_DETACH},
    {"stop-signal", 0, 1, OPT_STOP_SIGNAL},
    {"stop-timeout", 0, 1, OPT_STOP_TIMEOUT},
    {"log-opt", 0, 1, OPT_LOG_OPT},
    {"cap-add", 0, 1, OPT_CAP_ADD},
    {"cap-drop", 0, 1, OPT_CAP_DROP},
    {"privileged", 0, 0, OPT_PRIVILEGED},
    {"security-opt", 0, 1, OPT_SECURITY_OPT},
    {"device", 0, 1, OPT_DEVICE},
    {"memory", 'm', 1, OPT_MEMORY},
    {"memory-swap", 0, 1, OPT_MEMORY_SWAP},
    {"memory-reservation", 0, 1, OPT_MEMORY_RESERVATION},
    {"cpus", 0, 1, OPT_CPUS},
    {"cpu-shares", 'c', 1, OPT_CPU_SHARES},
    {"cpuset-cpus", 0, 1, OPT_CPUSET_CPUS},
    {"pids-limit", 0, 1, OPT_PIDS_LIMIT},
    {"blkio-weight", 0, 1, OPT_BLKIO_WEIGHT},
    {"network", 0, 1, OPT_NETWORK},
    {"net", 0, 1, OPT_NETWORK},
    {"publish", 'p', 1, OPT_PUBLISH},
    {"publish-all", 'P', 0, OPT_PUBLISH_ALL},
    {"expose", 0, 1, OPT_EXPOSE},
    {"dns", 0, 1, OPT_DNS},
    {"add-host", 0, 1, OPT_ADD_HOST},
    {"userns", 0, 1, OPT_USERNS},
    {"device-cgroup-rule", 0, 1, OPT_DEVICE_CGROUP_RULE},
    {"help", 0, 0, OPT_HELP},
    {NULL, 0, 0, 0},
};

/* Docker's frame for a value its flag refuses (pflag's words):
 * `invalid argument "1x" for "-m, --memory" flag: invalid size: '1x'...` */
static int flag_value_error(int id, const char *value, mk_error_t *err)
{
  const struct mk_flag *f = mk_run_flags;
  char q[1024];

  while (f->name && f->id != id)
    f++;
  mk_quote_value(q, sizeof(q), value, '"');
  if (f->shorthand)
    return mk_error_prefix(err, "invalid argument %s for \"-%c, --%s\" flag", q,
                           f->shorthand, f->name);
  return mk_error_prefix(err, "invalid argument %s for \"--%s\" flag", q,
                         f->name ? f->name : "?");
}

int mk_env_parse(struct mk_strv *env, const char *entry, mk_error_t *err)
{
  const char *value;

  if (mk_validate_env_entry(entry, err) < 0)
    return -1;
  if (strchr(entry, '=')) {
    mk_strv_setenv(env, entry);
    return 0;
  }
  value = getenv(entry);
  if (value) {
    struct mk_strv one = {0};
    mk_strv_pushf(&one, "%s=%s", entry, value);
    mk_strv_setenv(env, one.v[0]);
    mk_strv_free(&one);
  }
  return 0;
}

/* The whole of an env file, NUL-terminated. Only a regular file is read,
 * opened non-blocking: a device (/dev/zero) or a FIFO named by mistake or
 * malice would otherwise stream or block for ever. */
static char *read_env_file(const char *path, mk_error_t *err)
{
  _cleanup_close_ int fd =
      open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  _cleanup_free_ char *text = NULL;
  struct stat st;
  ssize_t n;

  if (fd < 0)
    return mk_error_sys(err, errno, "open env file `%s`", path), NULL;
  if (fstat(fd, &st) < 0)
    return mk_error_sys(err, errno, "stat env file `%s`", path), NULL;
  if (!S_ISREG(st.st_mode))
    return mk_error_set(err, EINVAL,
                        "env file `%s` is not a regular file (a device, "
                        "FIFO or directory is refused)",
                        path),
           NULL;
  if (st.st_size > MK_ENV_FILE_MAX)
    return mk_error_set(err, EFBIG, "env file `%s` is larger than 1 MiB", path),
           NULL;
  text = mk_xmalloc((size_t)st.st_size + 2);
  n = mk_read_all(fd, text, (size_t)st.st_size + 1);
  if (n < 0)
    return mk_error_sys(err, errno, "read env file `%s`", path), NULL;
  if (n > st.st_size) /* grew while read: a file being written */
    return mk_error_set(err, EBUSY, "env file `%s` changed while read", path),
           NULL;
  text[n] = '\0';
  if (strlen(text) != (size_t)n)
    return mk_error_set(err, EINVAL, "env file `%s` holds a NUL byte", path),
           NULL;
  return steal_pointer(&text);
}

int mk_env_read_file(struct mk_strv *env, const char *path, mk_error_t *err)
{
  _cleanup_free_ char *text = read_env_file(path, err);
  char *line, *next;
  int lineno = 0;

  if (!text)
    return -1;
  for (line = text; line; line = next) {
    size_t len = strcspn(line, "\n");
    next = line[len] ? line + len + 1 : NULL;
    line[len] = '\0';
    lineno++;
    if (len && line[len - 1] == '\r')
      line[len - 1] = '\0';
    const char *p = line + strspn(line, " \t");
    if (*p == '\0' || *p == '#')
      continue;
    if (mk_env_parse(env, p, err) < 0)
      return mk_error_prefix(err, "env file `%s` line %d", path, lineno);
  }
  return 0;
}

static int add_volume(struct mk_run_opts *o, const char *spec, mk_error_t *err)
{
  _cleanup_free_ char *copy = mk_xstrdup(spec);
  char *parts[4] = {0};
  size_t n = 0;
  struct mk_mount_spec m = {0};

  for (char *p = copy; p && n < 4; n++) {
    parts[n] = p;
    p = strchr(p, ':');
    if (p)
      *p++ = '\0';
  }
  if (n < 2 || n > 3 || (n == 3 && !*parts[2]))
    return mk_error_set(err, EINVAL,
                        "invalid volume spec `%s`: want "
                        "/host/path:/container/path[:ro|rw]",
                        spec);
  m.kind = parts[0][0] == '/' ? MK_SPEC_BIND : MK_SPEC_VOLUME;
  if (m.kind == MK_SPEC_VOLUME && strlen(parts[0]) > MK_CONTAINER_NAME_MAX)
    return mk_error_set(err, EINVAL, "invalid volume spec `%.40s...`: %s", spec,
                        mk_container_name_problem(parts[0]));
  if (m.kind == MK_SPEC_VOLUME && !mk_valid_container_name(parts[0]))
    return mk_error_set(err, EINVAL,
                        "invalid volume spec `%s`: \"%s\" includes invalid "
                        "characters for a local volume name, only "
                        "\"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you "
                        "intended to pass a host directory, use absolute path",
                        spec, parts[0]);
  if (mk_validate_mount_destination(parts[1], err) < 0)
    return mk_error_prefix(err, "invalid volume spec `%s`", spec);
  if (n == 3 && strcmp(parts[2], "ro") != 0 && strcmp(parts[2], "rw") != 0)
    return mk_error_set(err, EINVAL,
                        "invalid volume spec `%s`: unknown mode `%s`", spec,
                        parts[2]);
  m.source = parts[0];
  m.target = parts[1];
  m.read_only = n == 3 && strcmp(parts[2], "ro") == 0;
  return mk_spec_add_mount(&o->spec, &m, err);
}

/* Splits tmpfs options into mount flags and the data tmpfs itself reads;
 * what mk_tmpfs_option does not know goes to tmpfs as it is (mode=...). */
static int parse_tmpfs_options(char *opts, struct mk_mount_spec *t,
                               struct mk_strv *data, mk_error_t *err)
{
  for (char *tok = strtok(opts, ","); tok; tok = strtok(NULL, ",")) {
    int took = mk_tmpfs_option(tok, &t->flags, data, err);
    if (took < 0)
      return -1;
    if (!took)
      mk_strv_push(data, tok);
  }
  return 0;
}

static int add_tmpfs(struct mk_run_opts *o, const char *spec, mk_error_t *err)
{
  _cleanup_free_ char *copy = mk_xstrdup(spec);
  char *colon = strchr(copy, ':');
  struct mk_mount_spec t = {.kind = MK_SPEC_TMPFS,
                            .flags =
                                MK_MNT_NOSUID | MK_MNT_NODEV | MK_MNT_NOEXEC};
  struct mk_strv data = {0};
  int rc;

  if (colon)
    *colon++ = '\0';
  if (mk_validate_mount_destination(copy, err) < 0)
    return mk_error_prefix(err, "invalid tmpfs spec `%s`", spec);
  if (colon && parse_tmpfs_options(colon, &t, &data, err) < 0) {
    mk_strv_free(&data);
    return mk_error_prefix(err, "invalid tmpfs spec `%s`", spec);
  }
  t.data = mk_strv_join(&data, ",");
  mk_strv_free(&data);
  t.target = copy;
  t.read_only = (t.flags & MK_MNT_RDONLY) != 0;
  rc = mk_spec_add_mount(&o->spec, &t, err);
  free(t.data);
  return rc;
}

static int parse_stop_timeout(struct mk_run_opts *o, const char *v,
                              mk_error_t *err)
{
  long long n;

  if (mk_parse_int_range(v, -1, MK_TIMEOUT_MAX_S, &n, err) < 0)
    return flag_value_error(OPT_STOP_TIMEOUT, v, err);
  o->spec.stop_timeout = (int)n;
  return 0;
}

long long mk_parse_size(const char *v)
{
  long long n;
  mk_error_t ignored;

  return mk_parse_bytes(v, &n, &ignored) < 0 ? -1 : n;
}

static int parse_log_opt(struct mk_run_opts *o, const char *v, mk_error_t *err)
{
  if (strncmp(v, "max-size=", 9) == 0) {
    if (mk_parse_bytes(v + 9, &o->spec.log_max_size, err) < 0 ||
        o->spec.log_max_size < 4096)
      return mk_error_set(err, EINVAL,
                          "invalid log option `%s`: max-size must be a size of "
                          "at least 4k",
                          v);
    return 0;
  }
  return mk_error_set(err, EINVAL,
                      "unknown log opt '%.*s' for k8s-file log driver",
                      (int)strcspn(v, "="), v);
}

static int add_cap(struct mk_strv *list, const char *name, mk_error_t *err)
{
  if (mk_cap_parse(name) < 0)
    return mk_error_set(err, EINVAL, "unknown capability: \"%s\"", name);
  mk_strv_push(list, name);
  return 0;
}

/* Docker's forms: no-new-privileges[=true|false] (or :), seccomp=... */
static int parse_security_opt(struct mk_run_opts *o, const char *v,
                              mk_error_t *err)
{
  size_t key = strcspn(v, "=:");
  const char *value = v[key] ? v + key + 1 : NULL;

  mk_strv_push(&o->spec.security_opt, v);
  if (strncmp(v, "no-new-privileges", key) == 0 && key == 17) {
    if (!value || strcmp(value, "true") == 0)
      o->spec.no_new_privileges = 1;
    else if (strcmp(value, "false") == 0)
      o->spec.no_new_privileges = 0;
    else
      return mk_error_set(err, EINVAL,
                          "invalid --security-opt: `%s`: want "
                          "no-new-privileges[=true|false]",
                          v);
    return 0;
  }
  if (strncmp(v, "seccomp", key) == 0 && key == 7 && value && *value) {
    o->spec.seccomp = strcmp(value, "unconfined") == 0 ? MK_SECCOMP_UNCONFINED
                                                       : MK_SECCOMP_FILE;
    o->spec.seccomp_profile = value;
    return 0;
  }
  return mk_error_set(err, EINVAL,
                      "invalid --security-opt: `%s` (mocker supports "
                      "no-new-privileges and seccomp=)",
                      v);
}

/* -m and friends: a size; --memory-swap also takes -1 (unlimited). */
static int parse_memory(int id, const char *v, long long *out, mk_error_t *err)
{
  if (id == OPT_MEMORY_SWAP && strcmp(v, "-1") == 0) {
    *out = -1;
    return 0;
  }
  if (mk_parse_bytes(v, out, err) < 0)
    return -1;
  if (id == OPT_MEMORY && *out > 0 && *out < 6 * 1024 * 1024)
    return mk_error_set(err, EINVAL, "Minimum memory limit allowed is 6MB");
  return 0;
}

/* The CPUs this process may run on, as Docker counts them (Go's NumCPU:
 * the affinity mask), for --cpus's upper bound. */
static long available_cpus(void)
{
  cpu_set_t set;
  long n;

  if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
    return CPU_COUNT(&set);
  n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? n : 1;
}

static int parse_cpuset(struct mk_spec_resources *r, const char *v,
                        mk_error_t *err)
{
  if (mk_validate_cpuset(v, err) < 0)
    return -1;
  r->cpuset_cpus = v;
  return 0;
}

static int parse_resource(struct mk_spec_resources *r, int id, const char *v,
                          mk_error_t *err)
{
  switch (id) {
  case OPT_MEMORY: return parse_memory(id, v, &r->memory, err);
  case OPT_MEMORY_SWAP: return parse_memory(id, v, &r->memory_swap, err);
  case OPT_MEMORY_RESERVATION:
    return parse_memory(id, v, &r->memory_reservation, err);
  case OPT_CPUS: return mk_parse_cpus(v, available_cpus(), &r->nano_cpus, err);
  case OPT_CPU_SHARES:
    return mk_parse_int_range(v, 0, 262144, &r->cpu_shares, err);
  case OPT_PIDS_LIMIT:
    return mk_parse_int_range(v, -1, 1LL << 31, &r->pids_limit, err);
  case OPT_BLKIO_WEIGHT:
    if (mk_parse_int_range(v, 0, 1000, &r->blkio_weight, err) < 0 ||
        (r->blkio_weight && r->blkio_weight < 10))
      return mk_error_set(err, EINVAL,
                          "invalid --blkio-weight %s: the range is from 10 to "
                          "1000",
                          v);
    return 0;
  case OPT_CPUSET_CPUS: return parse_cpuset(r, v, err);
  }
  return mk_error_set(err, EINVAL, "unexpected option");
}

static int apply_resource(struct mk_spec_resources *r, int id, const char *v,
                          mk_error_t *err)
{
  return parse_resource(r, id, v, err) < 0 ? flag_value_error(id, v, err) : 0;
}

int mk_parse_resource_option(struct mk_spec_resources *r, const char *name,
                             const char *value, mk_error_t *err)
{
  for (const struct mk_flag *f = mk_run_flags; f->name; f++)
    if (strcmp(f->name, name) == 0 && f->id >= OPT_MEMORY &&
        f->id <= OPT_BLKIO_WEIGHT)
      return apply_resource(r, f->id, value, err);
  return mk_error_set(err, EINVAL, "unknown flag: --%s", name);
}

static int add_publish(struct mk_run_opts *o, const char *spec, mk_error_t *err)
{
  struct mk_port_spec p;

  if (mk_parse_publish(spec, &p, err) < 0)
    return -1;
  return mk_spec_add_port(&o->spec, &p, err);
}

static int add_expose(struct mk_run_opts *o, const char *spec, mk_error_t *err)
{
  struct mk_port_spec p;

  if (mk_parse_expose(spec, &p, err) < 0)
    return -1;
  mk_strv_pushf(&o->spec.expose, "%u/%s", p.container_port, p.proto);
  return 0;
}

static int add_dns(struct mk_run_opts *o, const char *ip, mk_error_t *err)
{
  struct in_addr a;
  struct in6_addr a6;

  if (inet_pton(AF_INET, ip, &a) != 1 && inet_pton(AF_INET6, ip, &a6) != 1)
    return mk_error_set(err, EINVAL, "%s is not an ip address", ip);
  mk_strv_push(&o->spec.dns, ip);
  return 0;
}

/* --add-host name:ip (Docker also takes name=ip) */
static int add_host_entry(struct mk_run_opts *o, const char *spec,
                          mk_error_t *err)
{
  const char *sep = strpbrk(spec, ":=");
  struct in_addr a;
  struct in6_addr a6;

  if (!sep || sep == spec || strcspn(spec, " \t\r\n") < strlen(spec) ||
      (inet_pton(AF_INET, sep + 1, &a) != 1 &&
       inet_pton(AF_INET6, sep + 1, &a6) != 1 &&
       strcmp(sep + 1, MK_HOST_GATEWAY) != 0))
    return mk_error_set(err, EINVAL,
                        "invalid argument \"%s\" for \"--add-host\" flag: "
                        "want host:ip or host:" MK_HOST_GATEWAY,
                        spec);
  mk_strv_pushf(&o->spec.extra_hosts, "%.*s:%s", (int)(sep - spec), spec,
                sep + 1);
  return 0;
}

static int set_stop_signal(struct mk_run_opts *o, const char *v,
                           mk_error_t *err)
{
  int signo;

  if (mk_parse_signo(v, &signo, err) < 0)
    return flag_value_error(OPT_STOP_SIGNAL, v, err);
  o->spec.stop_signal = v;
  return 0;
}

static int set_hostname(struct mk_run_opts *o, const char *v, mk_error_t *err)
{
  if (mk_validate_hostname(v, err) < 0)
    return flag_value_error(OPT_HOSTNAME, v, err);
  o->spec.hostname = v;
  return 0;
}

/* Docker's validDeviceMode: some of r, w and m, each at most once. */
static int valid_device_mode(const char *mode)
{
  size_t n = strlen(mode);

  if (n == 0 || n > 3 || strspn(mode, "rwm") < n)
    return 0;
  for (size_t i = 1; i < n; i++)
    if (memchr(mode, mode[i], i))
      return 0;
  return 1;
}

/* --device HOST[:CONTAINER[:PERMS]]; the node is looked up at create. An
 * empty CONTAINER is HOST's path, as in Docker. */
static int add_device_cgroup_rule(struct mk_run_opts *o, const char *text,
                                  mk_error_t *err)
{
  struct mk_device_rule r;

  if (mk_device_rule_parse(text, &r, err) < 0)
    return flag_value_error(OPT_DEVICE_CGROUP_RULE, text, err);
  mk_strv_push(&o->spec.device_cgroup_rules, text);
  return 1;
}

static int add_device(struct mk_run_opts *o, const char *spec, mk_error_t *err)
{
  _cleanup_free_ char *copy = mk_xstrdup(spec);
  char *parts[3] = {copy, NULL, NULL};
  struct mk_device_spec d;

  for (int i = 1; i < 3; i++)
    if (parts[i - 1] && (parts[i] = strchr(parts[i - 1], ':')))
      *parts[i]++ = '\0';
  if (parts[0][0] != '/')
    return mk_error_set(err, EINVAL,
                        "invalid device `%s`: paths must be absolute", spec);
  d.host = parts[0];
  d.container = parts[1] && *parts[1] ? parts[1] : parts[0];
  d.perms = parts[2] ? parts[2] : "rwm";
  if (mk_validate_mount_destination(d.container, err) < 0)
    return mk_error_prefix(err, "invalid device `%s`", spec);
  if (!valid_device_mode(d.perms))
    return mk_error_set(err, EINVAL,
                        "invalid device `%s`: mode `%s` is not some of rwm",
                        spec, d.perms);
  return mk_spec_add_device(&o->spec, &d, err);
}

static int set_pull(struct mk_spec *s, const char *v, mk_error_t *err)
{
  if (strcmp(v, "missing") == 0)
    s->pull = MK_PULL_MISSING;
  else if (strcmp(v, "always") == 0)
    s->pull = MK_PULL_ALWAYS;
  else if (strcmp(v, "never") == 0)
    s->pull = MK_PULL_NEVER;
  else
    return mk_error_set(err, EINVAL,
                        "invalid pull option: '%s': must be one of "
                        "\"always\", \"missing\" or \"never\"",
                        v);
  return 0;
}

/* Flags that take no value, and those that keep their value as given. */
static int apply_plain(struct mk_run_opts *o, int id, const char *optarg)
{
  struct mk_spec *s = &o->spec;

  switch (id) {
  case OPT_INTERACTIVE: o->interactive = 1; return 1;
  case OPT_TTY: s->tty = 1; return 1;
  case OPT_RM: s->auto_remove = 1; return 1;
  case OPT_DETACH: o->detach = 1; return 1;
  case OPT_PRIVILEGED: s->privileged = 1; return 1;
  case OPT_READ_ONLY: s->read_only_rootfs = 1; return 1;
  case OPT_HELP: o->help = 1; return 1;
  case OPT_PUBLISH_ALL: s->publish_all = 1; return 1;
  case OPT_WORKDIR: s->workdir = optarg; return 1;
  case OPT_USER: s->user = optarg; return 1;
  case OPT_USERNS: s->userns_mode = optarg; return 1;
  case OPT_NETWORK: s->network = optarg; return 1;
  case OPT_ENTRYPOINT: s->entrypoint = optarg; return 1;
  default: return 0;
  }
}

static int apply_option(void *data, int id, const char *optarg, mk_error_t *err)
{
  struct mk_run_opts *o = data;

  if (apply_plain(o, id, optarg))
    return 0;
  switch (id) {
  case OPT_STOP_SIGNAL: return set_stop_signal(o, optarg, err);
  case OPT_STOP_TIMEOUT: return parse_stop_timeout(o, optarg, err);
  case OPT_LOG_OPT: return parse_log_opt(o, optarg, err);
  case OPT_CAP_ADD: return add_cap(&o->spec.cap_add, optarg, err);
  case OPT_CAP_DROP: return add_cap(&o->spec.cap_drop, optarg, err);
  case OPT_SECURITY_OPT: return parse_security_opt(o, optarg, err);
  case OPT_DEVICE: return add_device(o, optarg, err);
  case OPT_DEVICE_CGROUP_RULE: return add_device_cgroup_rule(o, optarg, err);
  case OPT_MEMORY:
  case OPT_MEMORY_SWAP:
  case OPT_MEMORY_RESERVATION:
  case OPT_CPUS:
  case OPT_CPU_SHARES:
  case OPT_CPUSET_CPUS:
  case OPT_PIDS_LIMIT:
  case OPT_BLKIO_WEIGHT:
    return apply_resource(&o->spec.resources, id, optarg, err);
  case OPT_HOSTNAME: return set_hostname(o, optarg, err);
  case OPT_PUBLISH: return add_publish(o, optarg, err);
  case OPT_EXPOSE: return add_expose(o, optarg, err);
  case OPT_DNS: return add_dns(o, optarg, err);
  case OPT_ADD_HOST: return add_host_entry(o, optarg, err);
  case OPT_ENV:
    return mk_env_parse(&o->spec.env, optarg, err) < 0
               ? flag_value_error(OPT_ENV, optarg, err)
               : 0;
  case OPT_ENV_FILE: return mk_env_read_file(&o->env_file, optarg, err);
  case OPT_VOLUME: return add_volume(o, optarg, err);
  case OPT_TMPFS: return add_tmpfs(o, optarg, err);
  case OPT_PULL: return set_pull(&o->spec, optarg, err);
  case OPT_NAME:
    o->spec.name = optarg;
    return mk_validate_container_name(optarg, err);
  default: return mk_error_set(err, EINVAL, "unexpected option");
  }
}

static int check_container_network(const struct mk_spec *s, mk_error_t *err)
{
  if (!s->network[10])
    return mk_error_set(err, EINVAL, "--network container: needs a name");
  if (s->hostname)
    return mk_error_set(err, EINVAL,
                        "conflicting options: hostname and "
                        "the network mode");
  if (s->nports || s->publish_all || s->expose.n || s->dns.n ||
      s->extra_hosts.n)
    return mk_error_set(err, EINVAL,
                        "conflicting options: port publishing or "
                        "exposing, --dns and --add-host and the container "
                        "type network mode");
  return 0;
}

static int check_values(const struct mk_spec *s, mk_error_t *err)
{
  const struct mk_spec_resources *r = &s->resources;

  if (r->memory_swap > 0 && r->memory_swap < r->memory)
    return mk_error_set(err, EINVAL,
                        "Minimum memoryswap limit should be larger than "
                        "memory limit, see usage");
  if (r->memory_swap && !r->memory)
    return mk_error_set(err, EINVAL,
                        "You should always set the Memory limit when using "
                        "Memoryswap limit, see usage");
  if (s->workdir && mk_validate_workdir(s->workdir, err) < 0)
    return -1;
  if (s->network && strcmp(s->network, "container") == 0)
    return mk_error_set(err, EINVAL,
                        "invalid container format container:<name|id>");
  if (s->network && strncmp(s->network, "container:", 10) == 0)
    return check_container_network(s, err);
  return 0;
}

/* Docker reads --env-file first; -e wins whatever the order. */
static void merge_env(struct mk_run_opts *o)
{
  struct mk_strv merged = {0};

  for (size_t i = 0; i < o->env_file.n; i++)
    mk_strv_setenv(&merged, o->env_file.v[i]);
  for (size_t i = 0; i < o->spec.env.n; i++)
    mk_strv_setenv(&merged, o->spec.env.v[i]);
  mk_strv_free(&o->spec.env);
  mk_strv_free(&o->env_file);
  o->spec.env = merged;
}

int mk_parse_run_args(int argc, char **argv, struct mk_run_opts *o,
                      mk_error_t *err)
{
  int next;

  memset(o, 0, sizeof(*o));
  mk_spec_init(&o->spec);
  o->verb = argv[0];
  next = mk_parse_flags(argc, argv, 1, mk_run_flags, apply_option, o, err);
  if (next < 0)
    return -1;
  merge_env(o);
  if (o->help)
    return 0;
  if (next >= argc)
    return mk_error_set(err, EINVAL,
                        "\"mocker %s\" requires at least 1 argument.", o->verb);
  o->spec.image = argv[next++];
  for (; next < argc; next++)
    mk_strv_push(&o->spec.cmd, argv[next]);
  /* -i keeps stdin open; `run` without -d also attaches to it */
  o->spec.open_stdin = o->interactive;
  o->spec.attach_stdin = o->interactive && !o->detach;
  return check_values(&o->spec, err);
}

void mk_run_opts_free(struct mk_run_opts *o)
{
  mk_spec_free(&o->spec);
  mk_strv_free(&o->env_file); /* set when parsing failed before the merge */
  memset(o, 0, sizeof(*o));
}
