/* A container's namespaces, from its HostConfig (see namespaces.h). The
 * paths come from the one who made the container (an OCI bundle's
 * author, as trusted as its hooks), and are opened by the host. */
#include "namespaces.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mk_util.h"

const char *mk_ns_mode_key(enum mk_ns_kind kind)
{
  static const char *const keys[MK_NS_KINDS] = {
      [MK_NS_PID] = "PidMode",    [MK_NS_MNT] = "MountNsMode",
      [MK_NS_UTS] = "UTSMode",    [MK_NS_IPC] = "IpcMode",
      [MK_NS_NET] = "NetNsMode",  [MK_NS_CGROUP] = "CgroupnsMode"};

  return keys[kind];
}

static int same_file(int fd, const char *path)
{
  struct stat a, b;

  return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
         a.st_ino == b.st_ino;
}

/* path, which must be a namespace of kind's type. */
static int open_ns(enum mk_ns_kind kind, const char *path, mk_error_t *err)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  int type;

  if (fd < 0)
    return mk_error_sys(err, errno, "open namespace `%s`", path);
  type = ioctl(fd, NS_GET_NSTYPE);
  if (type != mk_ns_flag(kind)) {
    close(fd);
    return mk_error_set(err, EINVAL, "`%s` is not a %s namespace", path,
                        mk_ns_mode_key(kind));
  }
  /* the container's rootfs is built and pivoted to in its mount
   * namespace: never in ours, the host's */
  if (kind == MK_NS_MNT && same_file(fd, "/proc/self/ns/mnt")) {
    close(fd);
    return mk_error_set(err, EINVAL,
                        "`%s` is the runtime's own mount namespace", path);
  }
  return fd;
}

static int plan_kind(json_t *host, enum mk_ns_kind kind,
                     struct mk_ns_plan *plan, mk_error_t *err)
{
  const char *mode =
      json_string_value(json_object_get(host, mk_ns_mode_key(kind)));

  if (kind == MK_NS_NET && (!mode || !*mode)) {
    const char *net = json_string_value(json_object_get(host, "NetworkMode"));
    mode = net && strcmp(net, "host") == 0 ? "host" : "";
  }
  if (!mode || !*mode || strcmp(mode, "private") == 0) {
    plan->fresh[kind] = 1;
    return 0;
  }
  if (strcmp(mode, "host") == 0) {
    if (kind == MK_NS_MNT)
      return mk_error_set(err, EINVAL,
                          "a container cannot share the host's mount "
                          "namespace");
    return 0;
  }
  if (strncmp(mode, "ns:", 3) != 0 || mode[3] != '/')
    return mk_error_set(err, EINVAL, "HostConfig.%s: bad mode `%s`",
                        mk_ns_mode_key(kind), mode);
  plan->join[kind] = open_ns(kind, mode + 3, err);
  return plan->join[kind] < 0 ? -1 : 0;
}

int mk_container_ns_plan(const struct mk_container *c, struct mk_ns_plan *plan,
                         mk_error_t *err)
{
  json_t *host = json_object_get(c->config, "HostConfig");

  for (int k = 0; k < MK_NS_KINDS; k++) {
    plan->fresh[k] = 0;
    plan->join[k] = -1;
  }
  for (int k = 0; k < MK_NS_KINDS; k++)
    if (plan_kind(host, k, plan, err) < 0) {
      mk_ns_plan_close(plan);
      return -1;
    }
  return 0;
}

void mk_ns_plan_close(struct mk_ns_plan *plan)
{
  for (int k = 0; k < MK_NS_KINDS; k++) {
    mk_close(plan->join[k]);
    plan->join[k] = -1;
  }
}
