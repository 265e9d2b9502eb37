#include "resources.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mk_util.h"

static int64_t host_int(const struct mk_container *c, const char *key)
{
  json_t *v = json_object_get(json_object_get(c->config, "HostConfig"), key);

  return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

void mk_limits_from_config(const struct mk_container *c,
                           struct mk_cgroup_limits *l)
{
  const char *cpus = mk_container_config_string(c, "HostConfig", "CpusetCpus");
  const char *mems = mk_container_config_string(c, "HostConfig", "CpusetMems");

  memset(l, 0, sizeof(*l));
  l->memory = host_int(c, "Memory");
  l->memory_swap = host_int(c, "MemorySwap");
  l->memory_reservation = host_int(c, "MemoryReservation");
  l->nano_cpus = host_int(c, "NanoCpus");
  l->cpu_shares = host_int(c, "CpuShares");
  l->pids_limit = host_int(c, "PidsLimit");
  l->blkio_weight = host_int(c, "BlkioWeight");
  snprintf(l->cpuset_cpus, sizeof(l->cpuset_cpus), "%s", cpus ? cpus : "");
  snprintf(l->cpuset_mems, sizeof(l->cpuset_mems), "%s", mems ? mems : "");
  l->cpu_quota = host_int(c, "CpuQuota");
  l->cpu_period = host_int(c, "CpuPeriod");
}

#define MAX_DEVICE_RULES 128

/* --device entries become access rules (CgroupPermissions, "rwm"). */
static size_t device_rules(const struct mk_container *c,
                           struct mk_device_rule *rules)
{
  json_t *devices = json_object_get(json_object_get(c->config, "HostConfig"),
                                    "Devices"),
         *d;
  size_t i, n = 0;

  json_array_foreach(devices, i, d)
  {
    const char *type = json_string_value(json_object_get(d, "Type"));
    const char *perms =
        json_string_value(json_object_get(d, "CgroupPermissions"));
    if (n >= MAX_DEVICE_RULES)
      break;
    if (perms && !*perms)
      continue; /* a node only: its access is the rules' to give */
    rules[n] = (struct mk_device_rule){
        type && *type == 'b' ? 'b' : 'c',
        json_integer_value(json_object_get(d, "Major")),
        json_integer_value(json_object_get(d, "Minor")), "rwm"};
    snprintf(rules[n].access, sizeof(rules[n].access), "%.3s",
             perms ? perms : "rwm");
    n++;
  }
  return n;
}

/* HostConfig.DeviceCgroupRules, checked again: config.json is only
 * mocker's to write, but a rule that does not parse is never applied. */
static int cgroup_rules(const struct mk_container *c,
                        struct mk_device_rule *rules, size_t *n,
                        mk_error_t *err)
{
  json_t *list = json_object_get(json_object_get(c->config, "HostConfig"),
                                 "DeviceCgroupRules"),
         *v;
  size_t i;

  *n = 0;
  json_array_foreach(list, i, v)
  {
    if (*n >= MAX_DEVICE_RULES)
      return mk_error_set(err, E2BIG, "more than %d device cgroup rules",
                          MAX_DEVICE_RULES);
    if (!json_is_string(v) ||
        mk_device_rule_parse(json_string_value(v), &rules[(*n)++], err) < 0)
      return mk_error_prefix(err, "container %.12s", c->id);
  }
  return 0;
}

static int apply_all(const struct mk_container *c, struct mk_cgroup *cg,
                     mk_error_t *err)
{
  struct mk_cgroup_limits l;
  struct mk_device_rule first[MAX_DEVICE_RULES], rules[MAX_DEVICE_RULES];
  size_t nfirst, n = device_rules(c, rules);

  if (cgroup_rules(c, first, &nfirst, err) < 0)
    return -1;
  mk_limits_from_config(c, &l);
  if (mk_cgroup_apply(cg, &l, err) < 0)
    return -1;
  return mk_cgroup_set_devices(
      cg, first, nfirst, rules, n,
      mk_container_config_bool(c, "HostConfig", "Privileged"), err);
}

int mk_container_cgroup_locate(const struct mk_container *c,
                               struct mk_cgroup *cg, mk_error_t *err)
{
  const char *path = mk_container_config_string(c, "HostConfig", "CgroupPath");

  return path && *path ? mk_cgroup_locate_path(cg, path, err)
                       : mk_cgroup_locate(cg, c->id, err);
}

int mk_container_cgroup_setup(const struct mk_container *c,
                              struct mk_cgroup *cg, mk_error_t *err)
{
  if (mk_container_cgroup_locate(c, cg, err) < 0 ||
      mk_cgroup_create(cg, err) < 0)
    return mk_error_prefix(err, "container %.12s", c->id);
  if (apply_all(c, cg, err) < 0) {
    mk_error_t ignored;
    mk_cgroup_destroy(cg, &ignored);
    return mk_error_prefix(err, "container %.12s", c->id);
  }
  return 0;
}

int mk_container_cgroup_remove(const struct mk_container *c, mk_error_t *err)
{
  struct mk_cgroup cg;

  if (mk_container_cgroup_locate(c, &cg, err) < 0)
    return err->err == ENOENT ? 0 : -1; /* no cgroups on this host */
  return mk_cgroup_destroy(&cg, err);
}

/* Writes the values in set over HostConfig's. */
static void merge_resources(json_t *host, const struct mk_spec_resources *r,
                            unsigned set)
{
  static const char *const keys[] = {
      "Memory",    "MemorySwap", "MemoryReservation", "NanoCpus",
      "CpuShares", "CpusetCpus", "PidsLimit",         "BlkioWeight",
      "CpuQuota",  "CpuPeriod",  "CpusetMems"};
  const long long values[] = {
      r->memory,     r->memory_swap,  r->memory_reservation,
      r->nano_cpus,  r->cpu_shares,   0,
      r->pids_limit, r->blkio_weight, r->cpu_quota,
      r->cpu_period, 0};

  for (size_t i = 0; i < MK_ARRAY_SIZE(keys); i++) {
    if (!(set & (1u << i)))
      continue;
    if (1u << i == MK_RES_CPUSET_CPUS || 1u << i == MK_RES_CPUSET_MEMS) {
      const char *v =
          1u << i == MK_RES_CPUSET_CPUS ? r->cpuset_cpus : r->cpuset_mems;
      json_object_set_new(host, keys[i], json_string(v ? v : ""));
    } else {
      json_object_set_new(host, keys[i], json_integer(values[i]));
    }
  }
}

int mk_container_update(struct mk_ctx *ctx, const char *key,
                        const struct mk_spec_resources *r, unsigned set,
                        mk_error_t *err)
{
  struct mk_container c;
  struct mk_cgroup cg;
  struct mk_cgroup_limits l;
  int rc = -1;

  if (mk_container_open(ctx, key, &c, err) < 0)
    return -1;
  merge_resources(json_object_get(c.config, "HostConfig"), r, set);
  if (mk_container_write_config(&c, err) < 0)
    goto out;
  rc = 0;
  if (strcmp(c.state.status, "running") != 0 ||
      mk_container_cgroup_locate(&c, &cg, err) < 0 || !mk_cgroup_exists(&cg))
    goto out;
  mk_limits_from_config(&c, &l);
  rc = mk_cgroup_apply(&cg, &l, err);
out:
  mk_container_close(&c);
  return rc;
}
