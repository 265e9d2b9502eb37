#include "mk_proto.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "mk_util.h"

/* Config records: u32 tag, u32 length, payload. Strings carry their NUL. */
enum record_tag {
  TAG_VERSION = 1,
  TAG_FLAGS,
  TAG_WINSIZE,
  TAG_ROOTFS,
  TAG_HOSTNAME,
  TAG_WORKDIR,
  TAG_USER,
  TAG_ARG,
  TAG_ENV,
  TAG_MOUNT,
  TAG_CAPS,
  TAG_SECCOMP,
  TAG_DEVICE,
  TAG_RLIMIT,
  TAG_GROUPS,
  TAG_SYSCTL,
  TAG_MASKED,
  TAG_READONLY,
  TAG_UMASK,
  TAG_CAP_SETS,
  TAG_TARGET_PID,
  TAG_HOOK,       /* kind, timeout, argc, envc; path, argv, env */
  TAG_HOOK_STATE, /* kind; the state document its hooks get */
};

struct writer {
  uint8_t *buf;
  size_t cap, len;
  int overflow;
};

static void put_bytes(struct writer *w, const void *p, size_t n)
{
  if (w->overflow || n > w->cap - w->len) {
    w->overflow = 1;
    return;
  }
  memcpy(w->buf + w->len, p, n);
  w->len += n;
}

static void put_header(struct writer *w, uint32_t tag, size_t len)
{
  uint32_t hdr[2] = {tag, (uint32_t)len};

  if (len > MK_MSG_MAX)
    w->overflow = 1;
  put_bytes(w, hdr, sizeof(hdr));
}

static void put_u32(struct writer *w, uint32_t tag, uint32_t v)
{
  put_header(w, tag, sizeof(v));
  put_bytes(w, &v, sizeof(v));
}

static void put_str(struct writer *w, uint32_t tag, const char *s)
{
  size_t n = strlen(s ? s : "") + 1;

  put_header(w, tag, n);
  put_bytes(w, s ? s : "", n);
}

static void put_mount(struct writer *w, const struct mk_mount *m)
{
  size_t s = strlen(m->source) + 1, t = strlen(m->target) + 1;
  size_t d = strlen(m->data ? m->data : "") + 1;
  size_t f = strlen(m->fstype ? m->fstype : "") + 1;

  put_header(w, TAG_MOUNT, 12 + s + t + d + f);
  put_bytes(w, &m->kind, 4);
  put_bytes(w, &m->flags, 4);
  put_bytes(w, &m->propagation, 4);
  put_bytes(w, m->source, s);
  put_bytes(w, m->target, t);
  put_bytes(w, m->data ? m->data : "", d);
  put_bytes(w, m->fstype ? m->fstype : "", f);
}

static void put_device(struct writer *w, const struct mk_device *d)
{
  size_t p = strlen(d->path) + 1;
  uint32_t head[6] = {d->type, d->major, d->minor, d->mode, d->uid, d->gid};

  put_header(w, TAG_DEVICE, sizeof(head) + p);
  put_bytes(w, head, sizeof(head));
  put_bytes(w, d->path, p);
}

static size_t strv_len(const char *const *v)
{
  size_t n = 0;

  while (v && v[n])
    n++;
  return n;
}

static void put_hook(struct writer *w, const struct mk_hook *h)
{
  uint32_t head[4] = {h->kind, h->timeout, (uint32_t)strv_len(h->argv),
                      (uint32_t)strv_len(h->env)};
  size_t total = sizeof(head) + strlen(h->path) + 1;

  for (uint32_t i = 0; i < head[2]; i++)
    total += strlen(h->argv[i]) + 1;
  for (uint32_t i = 0; i < head[3]; i++)
    total += strlen(h->env[i]) + 1;
  put_header(w, TAG_HOOK, total);
  put_bytes(w, head, sizeof(head));
  put_bytes(w, h->path, strlen(h->path) + 1);
  for (uint32_t i = 0; i < head[2]; i++)
    put_bytes(w, h->argv[i], strlen(h->argv[i]) + 1);
  for (uint32_t i = 0; i < head[3]; i++)
    put_bytes(w, h->env[i], strlen(h->env[i]) + 1);
}

static int valid_hook_kind(uint32_t kind)
{
  return kind == MK_HOOK_CREATE_CONTAINER || kind == MK_HOOK_START_CONTAINER;
}

/* What mk_config_decode will hold init's storage to. */
static int check_hooks(const struct mk_config *cfg, mk_error_t *err)
{
  size_t strv = 0;

  if (cfg->nhooks > MK_MAX_HOOKS)
    return mk_error_set(err, E2BIG,
                        "more than %d createContainer and startContainer "
                        "hooks",
                        MK_MAX_HOOKS);
  for (size_t i = 0; i < cfg->nhooks; i++) {
    const struct mk_hook *h = &cfg->hooks[i];
    strv += strv_len(h->argv) + strv_len(h->env) + 2;
    if (!valid_hook_kind(h->kind) || !h->path || h->path[0] != '/' ||
        !cfg->hook_state[h->kind])
      return mk_error_set(err, EINVAL, "hook `%s`: bad kind, path or state",
                          h->path ? h->path : "");
  }
  if (strv > MK_MAX_HOOK_STRV)
    return mk_error_set(err, E2BIG,
                        "createContainer and startContainer hooks have more "
                        "than %d arguments and variables in all",
                        MK_MAX_HOOK_STRV);
  return 0;
}

static void put_hooks(struct writer *w, const struct mk_config *cfg)
{
  for (size_t i = 0; i < cfg->nhooks; i++)
    put_hook(w, &cfg->hooks[i]);
  for (uint32_t kind = 1; kind < MK_HOOK_KINDS; kind++) {
    const char *state = cfg->hook_state[kind];
    if (!state)
      continue;
    put_header(w, TAG_HOOK_STATE, 4 + strlen(state) + 1);
    put_bytes(w, &kind, 4);
    put_bytes(w, state, strlen(state) + 1);
  }
}

int mk_config_encode_hooks(const struct mk_config *cfg, uint8_t *buf,
                           size_t cap, size_t *len, mk_error_t *err)
{
  struct writer w = {.buf = buf, .cap = cap, .len = *len};

  if (*len > cap)
    return mk_error_set(err, EINVAL, "encoded config overruns its buffer");
  if (check_hooks(cfg, err) < 0)
    return -1;
  put_hooks(&w, cfg);
  if (w.overflow)
    return mk_error_set(err, E2BIG,
                        "container config with its hooks is larger than %d "
                        "bytes",
                        MK_MSG_MAX);
  *len = w.len;
  return 0;
}

int mk_config_encode(const struct mk_config *cfg, uint8_t *buf, size_t cap,
                     size_t *len, mk_error_t *err)
{
  struct writer w = {.buf = buf, .cap = cap};
  uint16_t ws[2] = {cfg->rows, cfg->cols};

  put_u32(&w, TAG_VERSION, MK_PROTO_VERSION);
  put_u32(&w, TAG_FLAGS, cfg->flags);
  put_header(&w, TAG_WINSIZE, sizeof(ws));
  put_bytes(&w, ws, sizeof(ws));
  put_str(&w, TAG_ROOTFS, cfg->rootfs);
  put_str(&w, TAG_HOSTNAME, cfg->hostname);
  put_str(&w, TAG_WORKDIR, cfg->workdir);
  put_str(&w, TAG_USER, cfg->user);
  for (size_t i = 0; i < cfg->argc; i++)
    put_str(&w, TAG_ARG, cfg->argv[i]);
  for (size_t i = 0; i < cfg->envc; i++)
    put_str(&w, TAG_ENV, cfg->env[i]);
  for (size_t i = 0; i < cfg->nmounts; i++)
    put_mount(&w, &cfg->mounts[i]);
  put_header(&w, TAG_CAPS, sizeof(cfg->caps));
  put_bytes(&w, &cfg->caps, sizeof(cfg->caps));
  if (cfg->seccomp_len) {
    put_header(&w, TAG_SECCOMP, cfg->seccomp_len);
    put_bytes(&w, cfg->seccomp, cfg->seccomp_len);
  }
  for (size_t i = 0; i < cfg->ndevices; i++)
    put_device(&w, &cfg->devices[i]);
  for (size_t i = 0; i < cfg->nrlimits; i++) {
    put_header(&w, TAG_RLIMIT, 20);
    put_bytes(&w, &cfg->rlimits[i].resource, 4);
    put_bytes(&w, &cfg->rlimits[i].soft, 8);
    put_bytes(&w, &cfg->rlimits[i].hard, 8);
  }
  for (size_t i = 0; i < cfg->nsysctls; i++)
    put_str(&w, TAG_SYSCTL, cfg->sysctls[i]);
  if (cfg->flags & MK_CFG_UMASK)
    put_u32(&w, TAG_UMASK, cfg->umask);
  for (size_t i = 0; i < cfg->nmasked; i++)
    put_str(&w, TAG_MASKED, cfg->masked[i]);
  for (size_t i = 0; i < cfg->nreadonly; i++)
    put_str(&w, TAG_READONLY, cfg->readonly[i]);
  if (cfg->target_pid)
    put_u32(&w, TAG_TARGET_PID, cfg->target_pid);
  if (cfg->flags & MK_CFG_CAP_SETS) {
    put_header(&w, TAG_CAP_SETS, sizeof(cfg->cap_sets));
    put_bytes(&w, cfg->cap_sets, sizeof(cfg->cap_sets));
  }
  if (cfg->ngroups) {
    put_header(&w, TAG_GROUPS, 4 * cfg->ngroups);
    put_bytes(&w, cfg->groups, 4 * cfg->ngroups);
  }
  if (check_hooks(cfg, err) < 0)
    return -1;
  put_hooks(&w, cfg);
  if (cfg->nmasked > MK_MAX_EXTRA_PATHS ||
      cfg->nreadonly > MK_MAX_EXTRA_PATHS || cfg->nsysctls > MK_MAX_SYSCTLS ||
      cfg->ngroups > MK_MAX_EXTRA_GROUPS || cfg->nrlimits > MK_MAX_RLIMITS ||
      cfg->argc > MK_MAX_ARGS || cfg->envc > MK_MAX_ENV ||
      cfg->nmounts > MK_MAX_MOUNTS || cfg->ndevices > MK_MAX_DEVICES ||
      cfg->seccomp_len > MK_MAX_SECCOMP_BYTES || cfg->seccomp_len % 8)
    return mk_error_set(err, E2BIG, "container config has too many entries");
  if (w.overflow)
    return mk_error_set(err, E2BIG, "container config is larger than %d bytes",
                        MK_MSG_MAX);
  *len = w.len;
  return 0;
}

/* A single string: exactly one NUL, at the end. */
static const char *get_str(const uint8_t *p, uint32_t n)
{
  if (n == 0 || p[n - 1] != '\0' || memchr(p, '\0', n) != p + n - 1)
    return NULL;
  return (const char *)p;
}

/* Splits a mount record: kind, flags and three strings, nothing more. */
/* One propagation mode at most, maybe recursive. */
static int valid_propagation(uint32_t prop)
{
  uint32_t mode = prop & ~(uint32_t)MK_PROP_REC;

  if (mode == 0)
    return prop == 0;
  return mode == MK_PROP_UNBINDABLE || mode == MK_PROP_PRIVATE ||
         mode == MK_PROP_SLAVE || mode == MK_PROP_SHARED;
}

/* The filesystems a bundle may mount by type. */
static int known_fstype(const char *t)
{
  static const char *const types[] = {"proc",   "sysfs", "mqueue", "devpts",
                                      "tmpfs",  "cgroup", "cgroup2"};

  for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
    if (strcmp(t, types[i]) == 0)
      return 1;
  return 0;
}

static int get_mount(const uint8_t *p, uint32_t n, struct mk_mount *m)
{
  const char *strs[4];
  const uint8_t *end = p + n, *cur = p + 12;

  if (n < 12 + 4)
    return -1;
  memcpy(&m->kind, p, 4);
  memcpy(&m->flags, p + 4, 4);
  memcpy(&m->propagation, p + 8, 4);
  for (int i = 0; i < 4; i++) {
    const uint8_t *nul = memchr(cur, '\0', (size_t)(end - cur));
    if (!nul)
      return -1;
    strs[i] = (const char *)cur;
    cur = nul + 1;
  }
  if (cur != end)
    return -1;
  if (m->kind != MK_MOUNT_BIND && m->kind != MK_MOUNT_TMPFS &&
      m->kind != MK_MOUNT_FS)
    return -1;
  if (strs[1][0] != '/' || (m->flags & ~(uint32_t)MK_MNT_ALL_FLAGS) ||
      !valid_propagation(m->propagation))
    return -1;
  if ((m->kind == MK_MOUNT_FS) != (strs[3][0] != '\0') ||
      (m->kind == MK_MOUNT_FS && !known_fstype(strs[3])))
    return -1;
  m->source = strs[0];
  m->target = strs[1];
  m->data = strs[2];
  m->fstype = strs[3];
  return 0;
}

/* A device record: type, major, minor, mode, then an absolute path. */
static int get_device(const uint8_t *p, uint32_t n, struct mk_device *d)
{
  uint32_t head[6];
  const char *path;

  if (n < sizeof(head) + 2)
    return -1;
  memcpy(head, p, sizeof(head));
  path = get_str(p + sizeof(head), n - (uint32_t)sizeof(head));
  if (!path || path[0] != '/' ||
      (head[0] != 'c' && head[0] != 'b' && head[0] != 'p') || head[3] > 07777)
    return -1;
  *d = (struct mk_device){head[0], head[1], head[2], head[3],
                          head[4], head[5], path};
  return 0;
}

/* The sysctls a container may set: those the kernel scopes to one of its
 * namespaces (IPC, network, UTS), as runc allows. "key=value", the key
 * dotted, its parts plain names. */
int mk_sysctl_is_namespaced(const char *entry)
{
  static const char *const ipc[] = {
      "kernel.msgmax",  "kernel.msgmnb",          "kernel.msgmni",
      "kernel.sem",     "kernel.shmall",          "kernel.shmmax",
      "kernel.shmmni",  "kernel.shm_rmid_forced", "kernel.domainname",
      "kernel.hostname"};
  size_t klen = strcspn(entry, "=");

  if (!entry[klen] || klen == 0 ||
      strspn(entry, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                    "0123456789_.-") != klen ||
      entry[0] == '.' || entry[klen - 1] == '.' || strstr(entry, ".."))
    return 0;
  if (strncmp(entry, "net.", 4) == 0 || strncmp(entry, "fs.mqueue.", 10) == 0)
    return 1;
  for (size_t i = 0; i < sizeof(ipc) / sizeof(ipc[0]); i++)
    if (strlen(ipc[i]) == klen && strncmp(entry, ipc[i], klen) == 0)
      return 1;
  return 0;
}

/* An absolute path to mask or make read-only. */
static int get_extra_path(uint32_t tag, const uint8_t *p, uint32_t n,
                          struct mk_config *cfg, struct mk_config_storage *st)
{
  const char *s = get_str(p, n);
  size_t *count = tag == TAG_MASKED ? &cfg->nmasked : &cfg->nreadonly;
  const char **list = tag == TAG_MASKED ? st->masked : st->readonly;

  if (!s || s[0] != '/' || *count >= MK_MAX_EXTRA_PATHS)
    return -1;
  list[(*count)++] = s;
  return 0;
}

/* resource, soft, hard: a known resource, soft no higher than hard, and
 * each resource once. */
static int get_rlimit(const uint8_t *p, uint32_t n, struct mk_config *cfg,
                      struct mk_config_storage *st)
{
  struct mk_rlimit r;

  if (n != 20 || cfg->nrlimits >= MK_MAX_RLIMITS)
    return -1;
  memcpy(&r.resource, p, 4);
  memcpy(&r.soft, p + 4, 8);
  memcpy(&r.hard, p + 12, 8);
  if (r.resource >= MK_MAX_RLIMITS || r.soft > r.hard)
    return -1;
  for (size_t i = 0; i < cfg->nrlimits; i++)
    if (st->rlimits[i].resource == r.resource)
      return -1;
  st->rlimits[cfg->nrlimits++] = r;
  return 0;
}

/* Entries of st->hook_strv the hooks decoded so far use. */
static size_t hook_strv_used(const struct mk_config *cfg,
                             const struct mk_config_storage *st)
{
  const struct mk_hook *last;

  if (cfg->nhooks == 0)
    return 0;
  last = &cfg->hooks[cfg->nhooks - 1];
  return (size_t)(last->env - (const char *const *)st->hook_strv) +
         strv_len(last->env) + 1;
}

/* The next NUL-terminated string in [*cur, end), or NULL. */
static const char *next_str(const uint8_t **cur, const uint8_t *end)
{
  const uint8_t *nul = memchr(*cur, '\0', (size_t)(end - *cur));
  const char *s = (const char *)*cur;

  if (!nul)
    return NULL;
  *cur = nul + 1;
  return s;
}

/* n strings into slots, then NULL; 0, or -1 if any is missing. */
static int next_strv(const uint8_t **cur, const uint8_t *end,
                     const char **slots, uint32_t n)
{
  for (uint32_t i = 0; i < n; i++)
    if (!(slots[i] = next_str(cur, end)))
      return -1;
  slots[n] = NULL;
  return 0;
}

/* A hook: a kind init runs, an absolute path, then exactly argc + envc
 * strings, all in st->hook_strv (NULL after each list). */
static int get_hook(const uint8_t *p, uint32_t n, struct mk_config *cfg,
                    struct mk_config_storage *st)
{
  uint32_t head[4]; /* kind, timeout, argc, envc */
  const uint8_t *cur = p + sizeof(head), *end = p + n;
  size_t used = hook_strv_used(cfg, st);
  const char **slots = st->hook_strv + used;
  const char *path;

  if (n < sizeof(head) + 2 || cfg->nhooks >= MK_MAX_HOOKS)
    return -1;
  memcpy(head, p, sizeof(head));
  if (!valid_hook_kind(head[0]) || head[2] > MK_MAX_HOOK_STRV ||
      head[3] > MK_MAX_HOOK_STRV ||
      used + head[2] + head[3] + 2 > MK_MAX_HOOK_STRV)
    return -1;
  path = next_str(&cur, end);
  if (!path || path[0] != '/' || next_strv(&cur, end, slots, head[2]) < 0 ||
      next_strv(&cur, end, slots + head[2] + 1, head[3]) < 0 || cur != end)
    return -1;
  st->hooks[cfg->nhooks++] =
      (struct mk_hook){head[0], head[1], path, slots, slots + head[2] + 1};
  return 0;
}

/* The state document of one kind of hook, given once. */
static int get_hook_state(const uint8_t *p, uint32_t n, struct mk_config *cfg)
{
  uint32_t kind;
  const char *state;

  if (n < 4 + 2)
    return -1;
  memcpy(&kind, p, 4);
  state = get_str(p + 4, n - 4);
  if (!valid_hook_kind(kind) || !state || cfg->hook_state[kind])
    return -1;
  cfg->hook_state[kind] = state;
  return 0;
}

static int decode_record(uint32_t tag, const uint8_t *p, uint32_t n,
                         struct mk_config *cfg, struct mk_config_storage *st,
                         uint32_t *version)
{
  const char *s = NULL;

  if (tag >= TAG_ROOTFS && tag <= TAG_ENV && !(s = get_str(p, n)))
    return -1;
  switch (tag) {
  case TAG_VERSION:
  case TAG_FLAGS:
    if (n != 4)
      return -1;
    memcpy(tag == TAG_VERSION ? version : &cfg->flags, p, 4);
    return 0;
  case TAG_WINSIZE:
    if (n != 4)
      return -1;
    memcpy(&cfg->rows, p, 2);
    memcpy(&cfg->cols, p + 2, 2);
    return 0;
  case TAG_ROOTFS: cfg->rootfs = s; return 0;
  case TAG_HOSTNAME: cfg->hostname = s; return 0;
  case TAG_WORKDIR: cfg->workdir = s; return 0;
  case TAG_USER: cfg->user = s; return 0;
  case TAG_ARG:
    if (cfg->argc >= MK_MAX_ARGS)
      return -1;
    st->argv[cfg->argc++] = s;
    return 0;
  case TAG_ENV:
    if (cfg->envc >= MK_MAX_ENV)
      return -1;
    st->env[cfg->envc++] = s;
    return 0;
  case TAG_MOUNT:
    if (cfg->nmounts >= MK_MAX_MOUNTS)
      return -1;
    return get_mount(p, n, &st->mounts[cfg->nmounts++]);
  case TAG_CAPS:
    if (n != sizeof(cfg->caps))
      return -1;
    memcpy(&cfg->caps, p, sizeof(cfg->caps));
    return 0;
  case TAG_TARGET_PID:
    if (n != 4)
      return -1;
    memcpy(&cfg->target_pid, p, 4);
    return cfg->target_pid > 0 && cfg->target_pid <= 4194304 ? 0 : -1;
  case TAG_CAP_SETS:
    if (n != sizeof(cfg->cap_sets))
      return -1;
    memcpy(cfg->cap_sets, p, sizeof(cfg->cap_sets));
    return 0;
  case TAG_SECCOMP:
    if (n == 0 || n % 8 || n > MK_MAX_SECCOMP_BYTES || cfg->seccomp)
      return -1;
    cfg->seccomp = p; /* sock_filter is 8 bytes; p may be unaligned */
    cfg->seccomp_len = n;
    return 0;
  case TAG_DEVICE:
    if (cfg->ndevices >= MK_MAX_DEVICES)
      return -1;
    return get_device(p, n, &st->devices[cfg->ndevices++]);
  case TAG_RLIMIT: return get_rlimit(p, n, cfg, st);
  case TAG_SYSCTL:
    if (!(s = get_str(p, n)) || cfg->nsysctls >= MK_MAX_SYSCTLS ||
        !mk_sysctl_is_namespaced(s))
      return -1;
    st->sysctls[cfg->nsysctls++] = s;
    return 0;
  case TAG_MASKED:
  case TAG_READONLY: return get_extra_path(tag, p, n, cfg, st);
  case TAG_UMASK:
    if (n != 4)
      return -1;
    memcpy(&cfg->umask, p, 4);
    return cfg->umask <= 0777 ? 0 : -1;
  case TAG_GROUPS:
    if (cfg->ngroups || n == 0 || n % 4 || n / 4 > MK_MAX_EXTRA_GROUPS)
      return -1;
    memcpy(st->groups, p, n);
    cfg->ngroups = n / 4;
    return 0;
  case TAG_HOOK: return get_hook(p, n, cfg, st);
  case TAG_HOOK_STATE: return get_hook_state(p, n, cfg);
  default: return -1;
  }
}

int mk_config_decode(const uint8_t *buf, size_t len, struct mk_config *cfg,
                     struct mk_config_storage *st, mk_error_t *err)
{
  size_t off = 0;
  uint32_t version = 0;

  memset(cfg, 0, sizeof(*cfg));
  cfg->argv = st->argv;
  cfg->env = st->env;
  cfg->mounts = st->mounts;
  cfg->devices = st->devices;
  cfg->rlimits = st->rlimits;
  cfg->groups = st->groups;
  cfg->sysctls = st->sysctls;
  cfg->masked = st->masked;
  cfg->readonly = st->readonly;
  cfg->hooks = st->hooks;
  while (off < len) {
    uint32_t hdr[2];
    if (len - off < sizeof(hdr))
      return mk_error_set(err, EBADMSG, "config: truncated record header");
    memcpy(hdr, buf + off, sizeof(hdr));
    off += sizeof(hdr);
    if (hdr[1] > len - off)
      return mk_error_set(err, EBADMSG, "config: record %u overruns message",
                          hdr[0]);
    if (decode_record(hdr[0], buf + off, hdr[1], cfg, st, &version) < 0)
      return mk_error_set(err, EBADMSG, "config: malformed record %u", hdr[0]);
    off += hdr[1];
  }
  if (version != MK_PROTO_VERSION)
    return mk_error_set(err, EPROTO,
                        "config: protocol version %u, expected %u "
                        "(mocker and mocker-init from different builds?)",
                        version, MK_PROTO_VERSION);
  if (!cfg->rootfs || cfg->rootfs[0] != '/' || cfg->argc == 0 ||
      !cfg->hostname || !cfg->workdir || !cfg->user)
    return mk_error_set(err, EBADMSG, "config: required field missing");
  if ((cfg->flags & MK_CFG_EXEC_INPLACE) && !(cfg->flags & MK_CFG_EXEC))
    return mk_error_set(err, EBADMSG, "config: in-place exec outside exec");
  const uint64_t *cs = cfg->cap_sets;
  if ((cs[MK_CAPSET_EFFECTIVE] & ~cs[MK_CAPSET_PERMITTED]) ||
      (cs[MK_CAPSET_AMBIENT] &
       ~(cs[MK_CAPSET_PERMITTED] & cs[MK_CAPSET_INHERITABLE])))
    return mk_error_set(err, EBADMSG, "config: capability sets inconsistent");
  for (size_t i = 0; i < cfg->nhooks; i++)
    if (!cfg->hook_state[cfg->hooks[i].kind])
      return mk_error_set(err, EBADMSG, "config: a hook without its state");
  st->argv[cfg->argc] = NULL;
  st->env[cfg->envc] = NULL;
  return 0;
}

/* A packet down a pipe or fifo: one write, so that a reader never sees
 * half of it; PIPE_BUF is as much as the kernel keeps whole. */
static int write_packet(int fd, struct iovec iov[2], size_t len, uint32_t type,
                        mk_error_t *err)
{
  ssize_t n;

  if (sizeof(struct mk_msg_hdr) + len > PIPE_BUF)
    return mk_error_set(err, EMSGSIZE,
                        "message %u of %zu bytes is too large for a pipe", type,
                        len);
  do
    n = writev(fd, iov, 2);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return mk_error_sys(err, errno, "write message %u", type);
  if ((size_t)n != sizeof(struct mk_msg_hdr) + len)
    return mk_error_set(err, EIO, "write message %u: short write", type);
  return 0;
}

int mk_msg_send_fds(int sock, uint32_t type, const void *payload, size_t len,
                    const int *fds, size_t nfds, mk_error_t *err)
{
  struct mk_msg_hdr hdr = {.type = type, .len = (uint32_t)len};
  struct iovec iov[2] = {{&hdr, sizeof(hdr)}, {(void *)payload, len}};
  union {
    char buf[CMSG_SPACE(sizeof(int) * MK_MAX_MSG_FDS)];
    struct cmsghdr align;
  } ctl;
  struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 2};
  ssize_t n;

  if (len > MK_MSG_MAX)
    return mk_error_set(err, EMSGSIZE, "message of %zu bytes is too large",
                        len);
  if (nfds > MK_MAX_MSG_FDS)
    return mk_error_set(err, EINVAL, "message %u: too many fds", type);
  if (nfds > 0) {
    memset(&ctl, 0, sizeof(ctl));
    msg.msg_control = ctl.buf;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
    memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
  }
  do
    n = sendmsg(sock, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0 && errno == ENOTSOCK && nfds == 0)
    return write_packet(sock, iov, len, type, err);
  if (n < 0)
    return mk_error_sys(err, errno, "send message %u", type);
  return 0;
}

int mk_msg_send(int sock, uint32_t type, const void *payload, size_t len,
                int fd_to_pass, mk_error_t *err)
{
  return mk_msg_send_fds(sock, type, payload, len, &fd_to_pass,
                         fd_to_pass >= 0 ? 1 : 0, err);
}

/* Takes up to max SCM_RIGHTS fds from msg into fds, closing any extra
 * ones; returns how many. */
static size_t take_passed_fds(struct msghdr *msg, int *fds, size_t max)
{
  size_t got = 0;

  for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
      continue;
    size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < n; i++) {
      int fd;
      memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
      if (got < max)
        fds[got++] = fd;
      else
        mk_close(fd);
    }
  }
  return got;
}

static void close_all(int *fds, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    mk_close(fds[i]);
    fds[i] = -1;
  }
}

/* One packet from a socket, or (ENOTSOCK) from a pipe or fifo. */
static ssize_t receive(int sock, struct msghdr *msg)
{
  ssize_t n;

  do
    n = recvmsg(sock, msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0 && errno == ENOTSOCK) {
    msg->msg_controllen = 0;
    msg->msg_flags = 0;
    do
      n = readv(sock, msg->msg_iov, (int)msg->msg_iovlen);
    while (n < 0 && errno == EINTR);
  }
  return n;
}

int mk_msg_recv_fds(int sock, uint32_t *type, void *buf, size_t cap, int *fds,
                    size_t max, size_t *nfds, mk_error_t *err)
{
  struct mk_msg_hdr hdr;
  struct iovec iov[2] = {{&hdr, sizeof(hdr)}, {buf, cap}};
  union {
    char buf[CMSG_SPACE(sizeof(int) * 4)];
    struct cmsghdr align;
  } ctl;
  struct msghdr msg = {.msg_iov = iov,
                       .msg_iovlen = 2,
                       .msg_control = ctl.buf,
                       .msg_controllen = sizeof(ctl.buf)};
  ssize_t n;

  *type = 0;
  *nfds = 0;
  for (size_t i = 0; i < max; i++)
    fds[i] = -1;
  n = receive(sock, &msg);
  if (n < 0)
    return mk_error_sys(err, errno, "receive message");
  *nfds = take_passed_fds(&msg, fds, max);
  if (n == 0) {
    close_all(fds, *nfds);
    *nfds = 0;
    return 0;
  }
  if ((msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || (size_t)n < sizeof(hdr) ||
      hdr.len != (size_t)n - sizeof(hdr) || hdr.type == 0) {
    close_all(fds, *nfds);
    *nfds = 0;
    return mk_error_set(err, EBADMSG, "malformed or oversized message");
  }
  *type = hdr.type;
  return (int)hdr.len;
}

int mk_msg_recv(int sock, uint32_t *type, void *buf, size_t cap, int *fd_out,
                mk_error_t *err)
{
  size_t n;

  return mk_msg_recv_fds(sock, type, buf, cap, fd_out, 1, &n, err);
}

void mk_msg_send_error(int sock, enum mk_fail_kind kind, const mk_error_t *e)
{
  struct {
    struct mk_msg_error head;
    char msg[MK_ERROR_MSG_MAX];
  } out;
  mk_error_t ignored;
  size_t n = strnlen(e->msg, sizeof(out.msg) - 1);

  out.head.errnum = e->err;
  out.head.kind = kind;
  memcpy(out.msg, e->msg, n);
  out.msg[n] = '\0';
  mk_msg_send(sock, MK_MSG_ERROR, &out, sizeof(out.head) + n + 1, -1, &ignored);
}

int mk_msg_decode_error(const void *buf, size_t len, uint32_t *kind,
                        mk_error_t *e, mk_error_t *err)
{
  struct mk_msg_error head;
  const char *text = (const char *)buf + sizeof(head);
  size_t n;

  if (len <= sizeof(head))
    return mk_error_set(err, EBADMSG, "error message too short");
  memcpy(&head, buf, sizeof(head));
  n = len - sizeof(head);
  if (text[n - 1] != '\0' || n > MK_ERROR_MSG_MAX)
    return mk_error_set(err, EBADMSG, "error message not terminated");
  *kind = head.kind;
  e->err = head.errnum;
  memcpy(e->msg, text, n);
  return 0;
}
