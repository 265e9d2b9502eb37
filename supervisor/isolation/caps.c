#include "caps.h"

#include <cap-ng.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "mk_util.h"

#define CAP_ALL_TOKEN 64

uint64_t mk_caps_default(void)
{
  static const int defaults[] = {
      CAP_CHOWN,   CAP_DAC_OVERRIDE, CAP_FSETID,           CAP_FOWNER,
      CAP_MKNOD,   CAP_NET_RAW,      CAP_SETGID,           CAP_SETUID,
      CAP_SETFCAP, CAP_SETPCAP,      CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT,
      CAP_KILL,    CAP_AUDIT_WRITE,
  };
  uint64_t mask = 0;

  for (size_t i = 0; i < MK_ARRAY_SIZE(defaults); i++)
    mask |= 1ULL << defaults[i];
  return mask;
}

uint64_t mk_caps_all(void)
{
  char buf[16] = "";
  _cleanup_close_ int fd =
      open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
  ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
  int last = n > 0 ? atoi(buf) : CAP_LAST_CAP;

  if (last <= 0 || last > 63)
    last = CAP_LAST_CAP;
  return last == 63 ? ~0ULL : (1ULL << (last + 1)) - 1;
}

int mk_cap_parse(const char *name)
{
  if (strcasecmp(name, "ALL") == 0)
    return CAP_ALL_TOKEN;
  if (strncasecmp(name, "CAP_", 4) == 0)
    name += 4;
  if (!*name)
    return -1;
  return capng_name_to_capability(name);
}

const char *mk_cap_name(int cap, char buf[32])
{
  const char *name = capng_capability_to_name((unsigned)cap);
  size_t i = 0;

  if (!name)
    return NULL;
  for (; i < 31 && name[i]; i++)
    buf[i] = (char)toupper((unsigned char)name[i]);
  buf[i] = '\0';
  return buf;
}

static int mask_of(const char *const *names, size_t n, int *has_all,
                   uint64_t *mask, mk_error_t *err)
{
  *has_all = 0;
  *mask = 0;
  for (size_t i = 0; i < n; i++) {
    int cap = mk_cap_parse(names[i]);
    if (cap < 0)
      return mk_error_set(err, EINVAL, "unknown capability: \"%s\"", names[i]);
    if (cap == CAP_ALL_TOKEN)
      *has_all = 1;
    else
      *mask |= 1ULL << cap;
  }
  return 0;
}

int mk_caps_compute(const char *const *add, size_t nadd,
                    const char *const *drop, size_t ndrop, int privileged,
                    uint64_t *out, mk_error_t *err)
{
  uint64_t adds, drops, caps;
  int add_all, drop_all;

  if (mask_of(add, nadd, &add_all, &adds, err) < 0 ||
      mask_of(drop, ndrop, &drop_all, &drops, err) < 0)
    return -1;
  if (privileged) {
    *out = mk_caps_all();
    return 0;
  }
  caps = add_all ? mk_caps_all() : mk_caps_default();
  if (drop_all)
    caps = 0;
  caps = (caps & ~drops) | adds;
  *out = caps & mk_caps_all();
  return 0;
}
