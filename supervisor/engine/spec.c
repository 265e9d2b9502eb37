#include "spec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mk_util.h"

void mk_spec_init(struct mk_spec *s)
{
  memset(s, 0, sizeof(*s));
  s->stop_timeout = -1;
  s->umask = -1;
  s->log_max_size = MK_LOG_MAX_SIZE_DEFAULT;
  s->no_new_privileges = 1;
}

static char *dup_or_null(const char *s)
{
  return s ? mk_xstrdup(s) : NULL;
}

/* Grows *array of *n elements of size to hold one more. */
static void *grow(void *array, size_t n, size_t size, mk_error_t *err)
{
  void *p = realloc(array, (n + 1) * size);

  if (!p)
    mk_error_set(err, ENOMEM, "out of memory");
  return p;
}

int mk_spec_add_mount(struct mk_spec *s, const struct mk_mount_spec *m,
                      mk_error_t *err)
{
  struct mk_mount_spec *mounts = grow(s->mounts, s->nmounts, sizeof(*m), err);

  if (!mounts)
    return -1;
  s->mounts = mounts;
  mounts[s->nmounts] = *m;
  mounts[s->nmounts].source = dup_or_null(m->source);
  mounts[s->nmounts].target = dup_or_null(m->target);
  mounts[s->nmounts].data = dup_or_null(m->data);
  mounts[s->nmounts].fstype = dup_or_null(m->fstype);
  s->nmounts++;
  return 0;
}

int mk_spec_add_port(struct mk_spec *s, const struct mk_port_spec *p,
                     mk_error_t *err)
{
  struct mk_port_spec *ports = grow(s->ports, s->nports, sizeof(*p), err);

  if (!ports)
    return -1;
  s->ports = ports;
  ports[s->nports++] = *p;
  return 0;
}

int mk_spec_add_device(struct mk_spec *s, const struct mk_device_spec *d,
                       mk_error_t *err)
{
  struct mk_device_spec *devs = grow(s->devices, s->ndevices, sizeof(*d), err);

  if (!devs)
    return -1;
  s->devices = devs;
  devs[s->ndevices] = *d;
  devs[s->ndevices].host = dup_or_null(d->host);
  devs[s->ndevices].container = dup_or_null(d->container);
  devs[s->ndevices].perms = dup_or_null(d->perms);
  s->ndevices++;
  return 0;
}

int mk_spec_add_ulimit(struct mk_spec *s, const struct mk_ulimit *u,
                       mk_error_t *err)
{
  struct mk_ulimit *all = grow(s->ulimits, s->nulimits, sizeof(*u), err);

  if (!all)
    return -1;
  s->ulimits = all;
  all[s->nulimits++] = *u;
  return 0;
}

void mk_spec_free(struct mk_spec *s)
{
  struct mk_strv *lists[] = {
      &s->cmd,         &s->env,          &s->cap_add,      &s->cap_drop,
      &s->groups,      &s->security_opt, &s->expose,       &s->dns,
      &s->extra_hosts, &s->sysctls,      &s->masked_paths, &s->readonly_paths,
      &s->device_cgroup_rules};

  for (size_t i = 0; i < MK_ARRAY_SIZE(lists); i++)
    mk_strv_free(lists[i]);
  for (size_t i = 0; i < s->nmounts; i++) {
    free(s->mounts[i].source);
    free(s->mounts[i].target);
    free(s->mounts[i].data);
    free(s->mounts[i].fstype);
  }
  for (size_t i = 0; i < s->ndevices; i++) {
    free(s->devices[i].host);
    free(s->devices[i].container);
    free(s->devices[i].perms);
  }
  free(s->mounts);
  free(s->devices);
  free(s->ports);
  free(s->ulimits);
  memset(s, 0, sizeof(*s));
}
