#include "create.h"

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "net/etcfiles.h"
#include "endpoint.h"
#include "launch.h"
#include "namespaces.h"
#include "net/network.h"
#include "net/portspec.h"
#include "mk_proto.h"
#include "mk_util.h"
#include "image/pull.h"
#include "runspec.h"
#include "image/load.h"
#include "image/store.h"
#include "base/validate.h"
#include "userns.h"
#include "volume.h"

struct creation {
  struct mk_ctx *ctx;
  const struct mk_spec *spec;
  struct mk_image image;
  struct mk_container *c;
  char hostname[65];
  json_t *mounts; /* the Mounts array being built */
  struct mk_userns userns; /* empty: the host's */
};

/* Pulls ref, with progress on stderr as Docker does. */
static int pull_image(struct creation *cr, mk_error_t *err)
{
  struct mk_pull_opts opts = {.out = stderr};

  mk_platform_host(&opts.platform);
  signal(SIGPIPE, SIG_IGN);
  return mk_pull(cr->ctx, cr->spec->image, &opts, NULL, err);
}

static int find_image(struct creation *cr, mk_error_t *err)
{
  const char *ref = cr->spec->image;
  int builtin, found = 0;

  if (cr->spec->rootfs)
    return 0; /* a bundle's rootfs: no image */
  builtin = mk_store_is_builtin_ref(ref);

  if (cr->spec->pull == MK_PULL_ALWAYS && pull_image(cr, err) < 0)
    return -1;
  found = mk_store_find(cr->ctx, ref, &cr->image, err);
  if (found != 0 || (cr->spec->pull == MK_PULL_NEVER && !builtin))
    goto done;
  if (builtin) { /* embedded: always available, never needs the network */
    if (mk_load_builtin(cr->ctx, err) < 0)
      return -1;
  } else {
    fprintf(stderr, "Unable to find image '%s' locally\n", ref);
    if (pull_image(cr, err) < 0)
      return -1;
  }
  found = mk_store_find(cr->ctx, ref, &cr->image, err);
done:
  if (found < 0)
    return -1;
  if (found == 0)
    return mk_error_set(err, ENOENT, "No such image: %s", ref);
  return 0;
}

static json_t *strv_to_json(const struct mk_strv *sv, size_t from)
{
  json_t *a = json_array();

  for (size_t i = from; i < sv->n; i++)
    json_array_append_new(a, json_string(sv->v[i]));
  return a;
}

static json_t *image_config(const struct creation *cr)
{
  json_t *cfg = json_object_get(cr->image.config, "config");

  return cfg ? cfg : json_object_get(cr->image.config, "container_config");
}

/* Docker resolves a symlinked bind source once, on the host, and creates
 * a missing one as a directory. */
/* With a user namespace: path (a directory mocker just made) belongs to
 * the container's root. */
static int give_to_root(const struct creation *cr, const char *path,
                        mk_error_t *err)
{
  const struct mk_userns *u = &cr->userns;
  int64_t uid = mk_idmap_host(u->uid, u->nuid, 0),
          gid = mk_idmap_host(u->gid, u->ngid, 0);

  if (!mk_userns_active(u) || uid < 0 || gid < 0)
    return 0; /* none, or no root inside: init will say so */
  if (chown(path, (uid_t)uid, (gid_t)gid) < 0)
    return mk_error_sys(err, errno, "chown `%s`", path);
  return 0;
}

static int add_bind(struct creation *cr, const struct mk_mount_spec *m,
                    mk_error_t *err)
{
  _cleanup_free_ char *real = NULL;

  if (access(m->source, F_OK) < 0 && mk_mkdir_p(m->source, 0755, err) < 0)
    return mk_error_prefix(err, "create volume source");
  real = realpath(m->source, NULL);
  if (!real)
    return mk_error_sys(err, errno, "resolve volume source `%s`", m->source);
  json_t *entry = json_pack("{s:s, s:s, s:s, s:s, s:b, s:s}", "Type", "bind",
                            "Source", real, "Destination", m->target, "Mode",
                            m->read_only ? "ro" : "", "RW", !m->read_only,
                            "Propagation", "rprivate");
  unsigned flags = m->flags & MK_MNT_ALL_FLAGS & ~(unsigned)MK_MNT_RDONLY;
  if (entry && flags) /* a bundle's nosuid, nodev, noexec, rbind, atime */
    json_object_set_new(entry, "Flags", json_integer(flags));
  if (entry && m->propagation)
    json_object_set_new(entry, "PropagationFlags",
                        json_integer(m->propagation));
  json_array_append_new(cr->mounts, entry);
  return 0;
}

static int add_volume(struct creation *cr, const char *name, const char *target,
                      int read_only, int anonymous, mk_error_t *err)
{
  char data[PATH_MAX];
  int created = 0;

  if (mk_volume_ensure(cr->ctx, name, anonymous, data, &created, err) < 0)
    return -1;
  /* a new volume is its first container's root's, as Docker's */
  if (created && give_to_root(cr, data, err) < 0)
    return -1;
  json_array_append_new(
      cr->mounts,
      json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:s, s:b}", "Type",
                "volume", "Name", name, "Source", data, "Destination", target,
                "Driver", "local", "Mode", read_only ? "ro" : "", "RW",
                !read_only, "Propagation", "", "Anonymous", anonymous));
  return 0;
}

static int has_destination(json_t *mounts, const char *target)
{
  size_t i;
  json_t *m;

  json_array_foreach(mounts, i, m)
  {
    const char *d = json_string_value(json_object_get(m, "Destination"));
    if (d && strcmp(d, target) == 0)
      return 1;
  }
  return 0;
}

/* An image's VOLUME paths without a -v get anonymous volumes (the paths
 * were checked by check_image_config). */
static int add_image_volumes(struct creation *cr, mk_error_t *err)
{
  json_t *vols = json_object_get(image_config(cr), "Volumes");
  const char *path;
  json_t *unused;

  json_object_foreach(vols, path, unused)
  {
    char name[65];
    if (has_destination(cr->mounts, path))
      continue;
    if (mk_random_hex(name, 32, err) < 0 ||
        add_volume(cr, name, path, 0, 1, err) < 0)
      return -1;
  }
  return 0;
}

/* read_only and MK_MNT_RDONLY in flags mean the same. */
static void add_tmpfs(struct creation *cr, const struct mk_mount_spec *m)
{
  unsigned flags = m->flags | (m->read_only ? MK_MNT_RDONLY : 0);

  json_t *entry = json_pack(
      "{s:s, s:s, s:s, s:s, s:i, s:b}", "Type", "tmpfs", "Source",
      m->source ? m->source : "tmpfs", "Destination", m->target, "Options",
      m->data ? m->data : "", "Flags", (int)flags, "RW",
      !(flags & MK_MNT_RDONLY));

  if (entry && m->propagation)
    json_object_set_new(entry, "PropagationFlags",
                        json_integer(m->propagation));
  json_array_append_new(cr->mounts, entry);
}

/* An OCI bundle's filesystem mount (proc, sysfs, mqueue, devpts, cgroup):
 * made by mocker-init with the bundle's flags and data. */
static void add_fs(struct creation *cr, const struct mk_mount_spec *m)
{
  json_array_append_new(
      cr->mounts,
      json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:b}", "Type", "fs",
                "FsType", m->fstype, "Source", m->source ? m->source : m->fstype,
                "Destination", m->target, "Options", m->data ? m->data : "",
                "Flags", (int)m->flags, "PropagationFlags",
                (int)m->propagation, "RW", !(m->flags & MK_MNT_RDONLY)));
}

static int add_mount(struct creation *cr, const struct mk_mount_spec *m,
                     mk_error_t *err)
{
  switch (m->kind) {
  case MK_SPEC_BIND: return add_bind(cr, m, err);
  case MK_SPEC_VOLUME:
    return add_volume(cr, m->source, m->target, m->read_only, 0, err);
  case MK_SPEC_TMPFS: add_tmpfs(cr, m); return 0;
  case MK_SPEC_FS: add_fs(cr, m); return 0;
  }
  return mk_error_set(err, EINVAL, "unknown mount kind %d", (int)m->kind);
}

/* Mounts are made in the order of this list: binds and volumes first,
 * then tmpfs, then the image's anonymous volumes. So `--tmpfs /d/cache -v
 * /srv:/d` puts the tmpfs over the bind, whatever the flags' order. */
static int add_mounts(struct creation *cr, mk_error_t *err)
{
  if (cr->spec->bundle) { /* a bundle's, exactly in its order */
    for (size_t i = 0; i < cr->spec->nmounts; i++)
      if (add_mount(cr, &cr->spec->mounts[i], err) < 0)
        return -1;
    return 0;
  }
  for (int tmpfs = 0; tmpfs <= 1; tmpfs++)
    for (size_t i = 0; i < cr->spec->nmounts; i++) {
      const struct mk_mount_spec *m = &cr->spec->mounts[i];
      if ((m->kind == MK_SPEC_TMPFS) == tmpfs && add_mount(cr, m, err) < 0)
        return -1;
    }
  return add_image_volumes(cr, err);
}

static json_t *graph_driver(const struct creation *cr)
{
  const struct mk_container *c = cr->c;
  size_t len = 1;
  char upper[PATH_MAX], work[PATH_MAX];

  if (cr->spec->rootfs) /* a bundle's: bound as it is */
    return json_pack("{s:s, s:{s:s, s:s}}", "Name", "bind", "Data", "Source",
                     cr->spec->rootfs, "MergedDir", c->rootfs);

  for (size_t i = 0; i < cr->image.nlayers; i++)
    len += strlen(cr->image.layer_dirs[i]) + 1;
  _cleanup_free_ char *lower = calloc(1, len);
  if (!lower)
    return NULL;
  for (size_t i = cr->image.nlayers; i-- > 0;) { /* top layer first */
    strcat(lower, cr->image.layer_dirs[i]);
    if (i)
      strcat(lower, ":");
  }
  mk_snprintf(upper, sizeof(upper), "%s/upper", c->dir);
  mk_snprintf(work, sizeof(work), "%s/work", c->dir);
  return json_pack("{s:s, s:{s:s, s:s, s:s, s:s}}", "Name", "overlay", "Data",
                   "LowerDir", lower, "UpperDir", upper, "WorkDir", work,
                   "MergedDir", c->rootfs);
}

static json_t *stop_signal(const struct creation *cr)
{
  const char *sig = cr->spec->stop_signal;

  if (!sig)
    sig = json_string_value(json_object_get(image_config(cr), "StopSignal"));
  return json_string(sig ? sig : "SIGTERM");
}

/* The image's, --expose's and -p's container ports, as Docker does. */
static json_t *exposed_ports(const struct mk_spec *o, json_t *img)
{
  json_t *ports = json_object(), *v;
  struct mk_port_spec p;
  const char *key;
  char k[16];

  json_object_foreach(json_object_get(img, "ExposedPorts"), key, v)
  {
    if (mk_parse_port_key(key, &p) == 0) {
      snprintf(k, sizeof(k), "%u/%s", p.container_port, p.proto);
      json_object_set_new(ports, k, json_object());
    }
  }
  for (size_t i = 0; i < o->expose.n; i++)
    json_object_set_new(ports, o->expose.v[i], json_object());
  for (size_t i = 0; i < o->nports; i++) {
    snprintf(k, sizeof(k), "%u/%s", o->ports[i].container_port,
             o->ports[i].proto);
    json_object_set_new(ports, k, json_object());
  }
  return ports;
}

static json_t *container_config(const struct creation *cr,
                                const struct mk_runspec *rs)
{
  const struct mk_spec *o = cr->spec;
  json_t *img = image_config(cr);
  json_t *entry =
      o->entrypoint
          ? (*o->entrypoint ? json_pack("[s]", o->entrypoint) : json_null())
          : json_deep_copy(json_object_get(img, "Entrypoint"));
  json_t *cmd = o->cmd.n ? strv_to_json(&o->cmd, 0)
                         : json_deep_copy(json_object_get(img, "Cmd"));
  json_auto_t *labels = json_object();
  json_t *cfg = json_pack(
      "{s:s, s:s, s:o, s:o, s:o, s:s, s:b, s:b, s:b, s:s, s:o, s:O, s:O}",
      "Hostname", cr->hostname, "User", rs->user, "Env",
      strv_to_json(&rs->env, 0), "Cmd", cmd ? cmd : json_null(), "Entrypoint",
      entry ? entry : json_null(), "WorkingDir", rs->workdir, "Tty", o->tty,
      "OpenStdin", o->open_stdin, "AttachStdin", o->attach_stdin, "Image",
      o->image ? o->image : "", "StopSignal", stop_signal(cr), "Volumes",
      json_object_get(img, "Volumes") ? json_object_get(img, "Volumes")
                                      : json_null(),
      "Labels",
      json_object_get(img, "Labels") ? json_object_get(img, "Labels") : labels);
  if (cfg && o->stop_timeout >= 0)
    json_object_set_new(cfg, "StopTimeout", json_integer(o->stop_timeout));
  if (cfg && o->domainname)
    json_object_set_new(cfg, "Domainname", json_string(o->domainname));
  if (cfg)
    json_object_set_new(cfg, "ExposedPorts", exposed_ports(o, img));
  return cfg;
}

/* A node given by its numbers (an OCI bundle's): nothing on the host. */
static json_t *numbered_device_entry(const struct mk_device_spec *d)
{
  char type[2] = {d->type, '\0'};

  return json_pack("{s:s, s:s, s:s, s:i, s:i, s:i, s:i, s:i}",
                   "PathInContainer", d->container, "CgroupPermissions",
                   d->perms ? d->perms : "", "Type", type, "Major",
                   (int)d->major, "Minor", (int)d->minor, "FileMode",
                   (int)d->mode, "Uid", (int)d->uid, "Gid", (int)d->gid);
}

/* A --device node, looked up now as Docker does. */
static json_t *device_entry(const struct mk_device_spec *d, mk_error_t *err)
{
  struct stat st;

  if (!d->host)
    return numbered_device_entry(d);
  if (stat(d->host, &st) < 0)
    return mk_error_sys(err, errno,
                        "error gathering device information "
                        "while adding custom device \"%s\"",
                        d->host),
           NULL;
  if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
    return mk_error_set(err, EINVAL, "\"%s\" is not a device node", d->host),
           NULL;
  return json_pack("{s:s, s:s, s:s, s:s, s:i, s:i, s:i}", "PathOnHost", d->host,
                   "PathInContainer", d->container, "CgroupPermissions",
                   d->perms, "Type", S_ISBLK(st.st_mode) ? "b" : "c", "Major",
                   (int)major(st.st_rdev), "Minor", (int)minor(st.st_rdev),
                   "FileMode", (int)(st.st_mode & 07777));
}

static int add_devices(struct creation *cr, json_t *host, mk_error_t *err)
{
  json_t *devices = json_array();

  json_object_set_new(host, "Devices", devices);
  json_object_set_new(host, "DeviceCgroupRules",
                      strv_to_json(&cr->spec->device_cgroup_rules, 0));
  for (size_t i = 0; i < cr->spec->ndevices; i++) {
    json_t *d = device_entry(&cr->spec->devices[i], err);
    if (!d)
      return -1;
    json_array_append_new(devices, d);
  }
  return 0;
}

/* A seccomp profile file is copied in at create: later starts do not
 * depend on the host file, and a bad file fails now, not at start. */
static int keep_seccomp_profile(struct creation *cr, mk_error_t *err)
{
  const char *path = cr->spec->seccomp_profile;
  char dest[PATH_MAX];
  json_error_t jerr;

  if (cr->spec->seccomp != MK_SECCOMP_FILE)
    return 0;
  json_t *profile = json_load_file(path, 0, &jerr);
  if (!profile)
    return mk_error_set(err, EINVAL, "opening seccomp profile (%s) failed: %s",
                        path, jerr.text);
  mk_snprintf(dest, sizeof(dest), "%s/seccomp.json", cr->c->dir);
  int rc = json_dump_file(profile, dest, JSON_COMPACT);
  json_decref(profile);
  if (rc < 0)
    return mk_error_sys(err, errno, "write `%s`", dest);
  return 0;
}

static json_t *resources(const struct mk_spec_resources *o)
{
  return json_pack(
      "{s:I, s:I, s:I, s:I, s:I, s:s, s:I, s:I, s:I, s:I, s:s}", "Memory",
      (json_int_t)o->memory, "MemorySwap", (json_int_t)o->memory_swap,
      "MemoryReservation", (json_int_t)o->memory_reservation, "NanoCpus",
      (json_int_t)o->nano_cpus, "CpuShares", (json_int_t)o->cpu_shares,
      "CpusetCpus", o->cpuset_cpus ? o->cpuset_cpus : "", "PidsLimit",
      (json_int_t)o->pids_limit, "BlkioWeight", (json_int_t)o->blkio_weight,
      "CpuQuota", (json_int_t)o->cpu_quota, "CpuPeriod",
      (json_int_t)o->cpu_period, "CpusetMems",
      o->cpuset_mems ? o->cpuset_mems : "");
}

/* -p: {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]} */
static json_t *port_bindings(const struct mk_spec *o)
{
  json_t *b = json_object();
  char key[16], port[8];

  for (size_t i = 0; i < o->nports; i++) {
    const struct mk_port_spec *p = &o->ports[i];
    snprintf(key, sizeof(key), "%u/%s", p->container_port, p->proto);
    snprintf(port, sizeof(port), "%u", p->host_port);
    if (!json_object_get(b, key))
      json_object_set_new(b, key, json_array());
    json_array_append_new(json_object_get(b, key),
                          json_pack("{s:s, s:s}", "HostIp", p->host_ip,
                                    "HostPort", p->host_port ? port : ""));
  }
  return b;
}

static json_t *network_host_config(const struct mk_spec *o)
{
  return json_pack("{s:o, s:b, s:o, s:o}", "PortBindings", port_bindings(o),
                   "PublishAllPorts", o->publish_all, "Dns",
                   strv_to_json(&o->dns, 0), "ExtraHosts",
                   strv_to_json(&o->extra_hosts, 0));
}

/* HostConfig's Binds ("src:dst[:ro]", as the user gave -v) and Tmpfs
 * (destination: options). */
static void host_mounts(const struct mk_spec *o, json_t *binds, json_t *tmpfs)
{
  for (size_t i = 0; i < o->nmounts; i++) {
    const struct mk_mount_spec *m = &o->mounts[i];
    if (m->kind == MK_SPEC_TMPFS) {
      json_object_set_new(tmpfs, m->target,
                          json_string(m->data ? m->data : ""));
      continue;
    }
    struct mk_strv one = {0};
    mk_strv_pushf(&one, "%s:%s%s", m->source, m->target,
                  m->read_only ? ":ro" : "");
    json_array_append_new(binds, json_string(one.v[0]));
    mk_strv_free(&one);
  }
}

static const char *seccomp_mode_name(enum mk_seccomp_mode mode)
{
  switch (mode) {
  case MK_SECCOMP_UNCONFINED: return "unconfined";
  case MK_SECCOMP_FILE: return "file";
  default: return "default";
  }
}

/* Docker's HostConfig.Sysctls: {"net.ipv4.ip_forward": "1"} */
static json_t *sysctls_json(const struct mk_spec *o)
{
  json_t *m = json_object();

  for (size_t i = 0; i < o->sysctls.n; i++) {
    const char *e = o->sysctls.v[i];
    size_t klen = strcspn(e, "=");
    json_object_setn_new(m, e, klen, json_string(e[klen] ? e + klen + 1 : ""));
  }
  return m;
}

/* Docker's HostConfig.Ulimits: [{"Name": "nofile", "Soft": 1024, ...}] */
static json_t *ulimits_json(const struct mk_spec *o)
{
  json_t *a = json_array();

  for (size_t i = 0; i < o->nulimits; i++)
    json_array_append_new(a, json_pack("{s:s, s:I, s:I}", "Name",
                                       mk_rlimit_name(o->ulimits[i].resource),
                                       "Soft", (json_int_t)o->ulimits[i].soft,
                                       "Hard", (json_int_t)o->ulimits[i].hard));
  return a;
}

static json_t *host_config(const struct creation *cr)
{
  const struct mk_spec *o = cr->spec;
  json_t *binds = json_array(), *tmpfs = json_object();
  char max_size[32];

  host_mounts(o, binds, tmpfs);
  snprintf(max_size, sizeof(max_size), "%lld", o->log_max_size);
  json_t *host = json_pack(
      "{s:o, s:o, s:b, s:b, s:s, s:{s:s, s:{s:s}}, s:o, s:o, "
      "s:b, s:o, s:b, s:s}",
      "Binds", binds, "Tmpfs", tmpfs, "ReadonlyRootfs", o->read_only_rootfs,
      "AutoRemove", o->auto_remove, "NetworkMode",
      o->network ? o->network : MK_DEFAULT_NETWORK, "LogConfig", "Type",
      "k8s-file", "Config", "max-size", max_size, "CapAdd",
      strv_to_json(&o->cap_add, 0), "CapDrop", strv_to_json(&o->cap_drop, 0),
      "Privileged", o->privileged, "SecurityOpt",
      strv_to_json(&o->security_opt, 0), "NoNewPrivileges",
      o->no_new_privileges, "Seccomp", seccomp_mode_name(o->seccomp));
  json_t *res = resources(&o->resources);
  json_t *net = network_host_config(o);

  if (host && res)
    json_object_update(host, res);
  if (host && net)
    json_object_update(host, net);
  if (host)
    json_object_set_new(host, "Ulimits", ulimits_json(o));
  if (host)
    json_object_set_new(host, "GroupAdd", strv_to_json(&o->groups, 0));
  if (host && o->umask >= 0)
    json_object_set_new(host, "Umask", json_integer(o->umask));
  for (int k = 0; host && k < MK_NS_KINDS; k++)
    if (o->ns_modes[k] && *o->ns_modes[k])
      json_object_set_new(host, mk_ns_mode_key(k), json_string(o->ns_modes[k]));
  if (host && o->rootfs_propagation)
    json_object_set_new(host, "RootfsPropagation",
                        json_string(o->rootfs_propagation));
  if (host && o->has_oom_score_adj)
    json_object_set_new(host, "OomScoreAdj", json_integer(o->oom_score_adj));
  if (host && o->has_personality)
    json_object_set_new(host, "Personality",
                        json_integer((json_int_t)o->personality));
  if (host && mk_userns_active(&cr->userns)) {
    json_object_set_new(host, "UsernsMode",
                        json_string(o->idmaps ? "" : "remap"));
    json_object_set_new(host, "IDMappings", mk_userns_to_json(&cr->userns));
  } else if (host && o->userns_mode && strcmp(o->userns_mode, "host") == 0) {
    json_object_set_new(host, "UsernsMode", json_string("host"));
  }
  if (host && o->has_cap_sets)
    json_object_set_new(host, "CapSets", mk_cap_sets_to_json(o->cap_sets));
  if (host) {
    json_object_set_new(host, "Sysctls", sysctls_json(o));
    json_object_set_new(host, "MaskedPaths", strv_to_json(&o->masked_paths, 0));
    json_object_set_new(host, "ReadonlyPaths",
                        strv_to_json(&o->readonly_paths, 0));
  }
  if (host && o->cgroup_path)
    json_object_set_new(host, "CgroupPath", json_string(o->cgroup_path));
  json_decref(res);
  json_decref(net);
  return host;
}

static int build_config(struct creation *cr, const struct mk_runspec *rs,
                        mk_error_t *err)
{
  struct mk_container *c = cr->c;
  char created[40], path[PATH_MAX], name[258];

  mk_time_now_rfc3339(created, sizeof(created));
  snprintf(name, sizeof(name), "/%s", c->name);
  c->config = json_pack("{s:s, s:s, s:s, s:o, s:s, s:s, s:o, s:o, s:o, s:o}",
                        "Id", c->id, "Created", created, "Path", rs->argv.v[0],
                        "Args", strv_to_json(&rs->argv, 1), "Name", name,
                        "Image", cr->image.id, "Config",
                        container_config(cr, rs), "HostConfig", host_config(cr),
                        "GraphDriver", graph_driver(cr), "NetworkSettings",
                        json_pack("{s:{}, s:s, s:s}", "Networks", "IPAddress",
                                  "", "Gateway", ""));
  if (!c->config)
    return mk_error_set(err, ENOMEM, "encode the container config");
  if (cr->spec->bundle)
    json_object_set_new(c->config, "Bundle", json_string(cr->spec->bundle));
  if (cr->spec->annotations)
    json_object_set(c->config, "Annotations", cr->spec->annotations);
  if (cr->spec->hooks)
    json_object_set(c->config, "Hooks", cr->spec->hooks);
  if (add_devices(cr, json_object_get(c->config, "HostConfig"), err) < 0 ||
      keep_seccomp_profile(cr, err) < 0)
    return -1;
  json_object_set(c->config, "Mounts", cr->mounts);
  static const char *const paths[][2] = {{"HostnamePath", "hostname"},
                                         {"HostsPath", "hosts"},
                                         {"ResolvConfPath", "resolv.conf"},
                                         {"LogPath", MK_LOG_FILE}};
  for (size_t i = 0; i < MK_ARRAY_SIZE(paths); i++) {
    mk_snprintf(path, sizeof(path), "%s/%s", c->dir, paths[i][1]);
    json_object_set_new(c->config, paths[i][0], json_string(path));
  }
  return mk_container_write_config(c, err);
}

/* Docker copies the image's files into a volume that is new and empty. */
static int seed_volumes(struct creation *cr, mk_error_t *err)
{
  size_t i;
  json_t *m;

  json_array_foreach(cr->mounts, i, m)
  {
    const char *type = json_string_value(json_object_get(m, "Type"));
    if (!type || strcmp(type, "volume") != 0)
      continue;
    if (mk_volume_seed(
            cr->c, json_string_value(json_object_get(m, "Destination")),
            json_string_value(json_object_get(m, "Source")), err) < 0)
      return -1;
  }
  return 0;
}

/* -h, else the host's name with --network host, the other container's
 * with container:X, else the short id. */
static int pick_hostname(struct creation *cr, mk_error_t *err)
{
  if (cr->spec->bundle) { /* the bundle's, or the host's, as runc */
    snprintf(cr->hostname, sizeof(cr->hostname), "%s",
             cr->spec->hostname ? cr->spec->hostname : "");
    return 0;
  }
  const struct mk_spec *o = cr->spec;
  const char *arg;
  enum mk_net_mode mode = mk_net_mode_of(o->network, &arg);
  struct mk_container t;

  snprintf(cr->hostname, sizeof(cr->hostname), "%.*s", MK_SHORT_ID_LEN,
           cr->c->id);
  if (o->hostname)
    snprintf(cr->hostname, sizeof(cr->hostname), "%s", o->hostname);
  else if (mode == MK_NET_HOST &&
           gethostname(cr->hostname, sizeof(cr->hostname) - 1) < 0)
    return mk_error_sys(err, errno, "gethostname");
  else if (mode == MK_NET_CONTAINER) {
    if (mk_container_open(cr->ctx, arg, &t, err) < 0)
      return mk_error_prefix(err, "--network container:%s", arg);
    snprintf(cr->hostname, sizeof(cr->hostname), "%s",
             mk_container_config_string(&t, "Config", "Hostname") ?: "");
    mk_container_close(&t);
  }
  return 0;
}

static int has_host_gateway(const struct mk_spec *o)
{
  for (size_t i = 0; i < o->extra_hosts.n; i++) {
    const char *colon = strchr(o->extra_hosts.v[i], ':');
    if (colon && strcmp(colon + 1, MK_HOST_GATEWAY) == 0)
      return 1;
  }
  return 0;
}

static int write_etc_files(struct creation *cr, mk_error_t *err)
{
  if (cr->spec->bundle)
    return 0; /* the bundle's mounts say what /etc holds */
  const struct mk_spec *o = cr->spec;
  json_auto_t *dns = strv_to_json(&o->dns, 0);
  json_auto_t *extra = strv_to_json(&o->extra_hosts, 0);
  const char *arg;
  struct mk_hosts_spec spec = {
      .hostname = cr->hostname,
      .host_network = mk_net_mode_of(o->network, &arg) == MK_NET_HOST,
      .extra_hosts = extra,
      /* on a bridge network, /etc/hosts names the address: written when
       * the container starts and has one */
      .hosts_at_start = mk_net_mode_of(o->network, &arg) == MK_NET_BRIDGE};
  struct mk_network def;
  char gateway[INET_ADDRSTRLEN];

  /* --network host: host-gateway is the default bridge's address, a
   * host address, as Docker's is docker0's */
  if (spec.host_network && has_host_gateway(o) &&
      mk_network_load(cr->ctx, MK_DEFAULT_NETWORK, &def, err) == 0) {
    inet_ntop(AF_INET, &def.gateway, gateway, sizeof(gateway));
    spec.gateway = gateway;
  }
  return mk_write_etc_files(cr->c->dir, &spec, dns, err);
}

/* Env entries in an image are NAME=VALUE: there is no host to copy a bare
 * NAME from. */
static int check_image_env(json_t *env, mk_error_t *err)
{
  size_t i;
  json_t *v;

  json_array_foreach(env, i, v)
  {
    const char *entry = json_string_value(v);
    if (!entry)
      return mk_error_set(err, EINVAL, "Env[%zu] is not a string", i);
    if (mk_validate_env_entry(entry, err) < 0)
      return mk_error_prefix(err, "Env[%zu]", i);
    if (!strchr(entry, '='))
      return mk_error_set(err, EINVAL, "Env[%zu] `%s` has no '='", i, entry);
  }
  return 0;
}

static int check_image_keys(const struct creation *cr, json_t *img,
                            mk_error_t *err)
{
  const char *s, *path;
  json_t *unused;
  int signo;

  if (check_image_env(json_object_get(img, "Env"), err) < 0)
    return -1;
  s = json_string_value(json_object_get(img, "StopSignal"));
  if (!cr->spec->stop_signal && s && mk_parse_signo(s, &signo, err) < 0)
    return mk_error_prefix(err, "StopSignal");
  s = json_string_value(json_object_get(img, "WorkingDir"));
  if (!cr->spec->workdir && s && *s && mk_validate_workdir(s, err) < 0)
    return mk_error_prefix(err, "WorkingDir");
  json_object_foreach(json_object_get(img, "Volumes"), path, unused)
  {
    if (mk_validate_mount_destination(path, err) < 0)
      return mk_error_prefix(err, "Volumes");
  }
  return 0;
}

/* The image config's keys go through the same validators as the flags
 * that override them, before anything is made: an image is untrusted
 * input, and a bad key refused here costs nothing to undo. */
static int check_image_config(const struct creation *cr, mk_error_t *err)
{
  if (cr->spec->rootfs)
    return 0;
  if (check_image_keys(cr, image_config(cr), err) < 0)
    return mk_error_prefix(err, "image %s: invalid config", cr->spec->image);
  return 0;
}

/* -v given: binds count too, as they always have (a bind's source may be
 * a directory volume rm would not touch, but the lock is cheap). */
static int has_volume_mounts(const struct mk_spec *o)
{
  for (size_t i = 0; i < o->nmounts; i++)
    if (o->mounts[i].kind != MK_SPEC_TMPFS)
      return 1;
  return 0;
}


static int fill_container(struct creation *cr, mk_error_t *err)
{
  const struct mk_spec *o = cr->spec;
  struct mk_runspec rs;
  int rc;

  if (pick_hostname(cr, err) < 0)
    return -1;
  if (mk_runspec_build(o, cr->image.config, cr->hostname, &rs, err) < 0)
    return -1;
  /* volume rm must not slip in between making a volume and listing it */
  int lock = has_volume_mounts(o) ? mk_volumes_lock(cr->ctx, err) : -1;
  rc = (has_volume_mounts(o) && lock < 0) || add_mounts(cr, err) < 0 ||
               write_etc_files(cr, err) < 0 || build_config(cr, &rs, err) < 0
           ? -1
           : 0;
  mk_close(lock);
  if (rc == 0)
    rc = seed_volumes(cr, err);
  mk_runspec_free(&rs);
  return rc;
}

int mk_create_container(struct mk_ctx *ctx, const struct mk_spec *o,
                        struct mk_container *c, mk_error_t *err)
{
  struct creation cr = {.ctx = ctx, .spec = o, .c = c};
  mk_error_t ignored;
  int rc = -1;

  if (mk_ctx_prepare_root(ctx, err) < 0 ||
      mk_net_mode_check(ctx, o->network, err) < 0 || find_image(&cr, err) < 0 ||
      check_image_config(&cr, err) < 0)
    goto out;
  if (mk_userns_for_spec(o, &cr.userns, err) < 0 ||
      mk_container_create(ctx, o->name, !o->rootfs, c, err) < 0)
    goto out;
  cr.mounts = json_array();
  char upper[PATH_MAX];
  mk_snprintf(upper, sizeof(upper), "%s/upper", c->dir);
  if (!o->rootfs && give_to_root(&cr, upper, err) < 0) {
    mk_container_remove(ctx, c, &ignored);
    rc = -1;
    goto out;
  }
  rc = fill_container(&cr, err);
  if (rc < 0)
    mk_container_remove(ctx, c, &ignored);
out:
  json_decref(cr.mounts);
  mk_image_free(&cr.image);
  return rc;
}
