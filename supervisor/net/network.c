#include "network.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/context.h"
#include "base/validate.h"
#include "etcfiles.h"
#include "mk_state.h"
#include "mk_util.h"
#include "netlink.h"
#include "nft.h"
#include "base/strv.h"

#define ENDPOINT_FILE "network.json"
#define USER_SUBNET_BASE "10.89.0.0" /* user networks: 10.89.N.0/24 */

/* ---- addresses ---- */

static uint32_t mask_of(int prefix)
{
  return prefix == 0 ? 0 : htonl(~0U << (32 - prefix));
}

static int parse_cidr(const char *text, struct in_addr *addr, int *prefix)
{
  char buf[32];
  char *slash, *end;
  long p;

  snprintf(buf, sizeof(buf), "%s", text);
  if (!(slash = strchr(buf, '/')))
    return -1;
  *slash = '\0';
  p = strtol(slash + 1, &end, 10);
  if (*end || end == slash + 1 || p < 8 || p > 30 ||
      inet_pton(AF_INET, buf, addr) != 1)
    return -1;
  *prefix = (int)p;
  return 0;
}

static struct in_addr nth_host(struct in_addr subnet, uint32_t n)
{
  struct in_addr a = {htonl(ntohl(subnet.s_addr) + n)};
  return a;
}

static void addr_text(struct in_addr a, char out[INET_ADDRSTRLEN])
{
  inet_ntop(AF_INET, &a, out, INET_ADDRSTRLEN);
}

void mk_network_subnet_text(const struct mk_network *n, char out[20])
{
  char a[INET_ADDRSTRLEN];

  addr_text(n->subnet, a);
  snprintf(out, 20, "%s/%d", a, n->prefix);
}

static int in_subnet(const struct mk_network *n, struct in_addr a)
{
  return (a.s_addr & mask_of(n->prefix)) == n->subnet.s_addr;
}

static int overlaps(const struct mk_network *a, const struct mk_network *b)
{
  uint32_t m = mask_of(a->prefix < b->prefix ? a->prefix : b->prefix);
  return (a->subnet.s_addr & m) == (b->subnet.s_addr & m);
}

/* "10.88.0.1/16": the gateway and its subnet; "10.88.0.0/16" means the
 * first address is the gateway. */
static int set_subnet(struct mk_network *n, const char *cidr,
                      const char *gateway, mk_error_t *err)
{
  struct in_addr a;

  if (parse_cidr(cidr, &a, &n->prefix) < 0)
    return mk_error_set(err, EINVAL,
                        "invalid subnet `%s`: want an IPv4 a.b.c.d/N, N 8-30",
                        cidr);
  n->subnet.s_addr = a.s_addr & mask_of(n->prefix);
  n->gateway = a.s_addr == n->subnet.s_addr ? nth_host(n->subnet, 1) : a;
  if (gateway && inet_pton(AF_INET, gateway, &n->gateway) != 1)
    return mk_error_set(err, EINVAL, "invalid gateway `%s`", gateway);
  if (!in_subnet(n, n->gateway) || n->gateway.s_addr == n->subnet.s_addr)
    return mk_error_set(err, EINVAL, "gateway is not a host of subnet `%s`",
                        cidr);
  return 0;
}

/* ---- the store ---- */

int mk_network_dir(const struct mk_ctx *ctx, const char *name,
                   char out[PATH_MAX], mk_error_t *err)
{
  return mk_root_path(ctx, out, err, "/networks/%s", name);
}

static const char *config_path(void)
{
  static char path[PATH_MAX];
  char dir[PATH_MAX];

  mk_config_dir(dir);
  if (mk_snprintf(path, sizeof(path), "%s/config.json", dir) < 0)
    path[0] = '\0';
  return path;
}

/* bip from the daemon-style config file; a missing file is the default. */
static int default_bip(char out[32], mk_error_t *err)
{
  json_error_t jerr;
  json_t *cfg = json_load_file(config_path(), 0, &jerr);
  const char *bip;

  snprintf(out, 32, "%s", MK_DEFAULT_BIP);
  if (!cfg) {
    if (access(config_path(), F_OK) < 0)
      return 0;
    return mk_error_set(err, EINVAL, "%s: %s", config_path(), jerr.text);
  }
  bip = json_string_value(json_object_get(cfg, "bip"));
  if (bip)
    snprintf(out, 32, "%s", bip);
  json_decref(cfg);
  return 0;
}

/* Opens directory path, making it (and its parents) only when missing:
 * on the start path, the common case costs one open, not a mkdir per
 * path component. */
static int open_dir_made(const char *path, mk_error_t *err)
{
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  if (fd >= 0 || errno != ENOENT)
    return fd >= 0 ? fd : mk_error_sys(err, errno, "open `%s`", path);
  if (mk_mkdir_p(path, 0700, err) < 0)
    return -1;
  if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
    return mk_error_sys(err, errno, "open `%s`", path);
  return fd;
}

/* The default network's id: random, made once per state root. */
static int default_id(const char *dir, char id[65], mk_error_t *err)
{
  _cleanup_close_ int dfd = open_dir_made(dir, err);
  _cleanup_close_ int fd = -1;
  char fresh[65];

  if (dfd < 0)
    return -1;
  fd = openat(dfd, "id", O_RDONLY | O_CLOEXEC);
  if (fd >= 0 && mk_read_all(fd, id, 64) == 64) {
    id[64] = '\0';
    return 0;
  }
  mk_close(fd);
  if (mk_random_hex(fresh, 32, err) < 0)
    return -1;
  /* first use: written aside, then linked into place, so two first runs
   * agree on one id and nobody reads a half-written one */
  char tmp[32];
  snprintf(tmp, sizeof(tmp), ".id-%.16s", fresh);
  fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0 || mk_write_all(fd, fresh, 64) < 0)
    return mk_error_sys(err, errno, "write the default network's id");
  int linked = linkat(dfd, tmp, dfd, "id", 0);
  unlinkat(dfd, tmp, 0);
  if (linked == 0) {
    memcpy(id, fresh, 65);
    return 0;
  }
  mk_close(fd);
  fd = openat(dfd, "id", O_RDONLY | O_CLOEXEC);
  if (fd < 0 || mk_read_all(fd, id, 64) != 64)
    return mk_error_sys(err, errno, "read the default network's id");
  id[64] = '\0';
  return 0;
}

static int load_default(const struct mk_ctx *ctx, struct mk_network *n,
                        mk_error_t *err)
{
  char bip[32], dir[PATH_MAX];

  memset(n, 0, sizeof(*n));
  snprintf(n->name, sizeof(n->name), MK_DEFAULT_NETWORK);
  snprintf(n->bridge, sizeof(n->bridge), MK_DEFAULT_BRIDGE);
  if (default_bip(bip, err) < 0 || set_subnet(n, bip, NULL, err) < 0)
    return mk_error_prefix(err, "bip in %s", config_path());
  if (mk_network_dir(ctx, n->name, dir, err) < 0)
    return -1;
  return default_id(dir, n->id, err);
}

static int load_user(const struct mk_ctx *ctx, const char *name,
                     struct mk_network *n, mk_error_t *err)
{
  char path[PATH_MAX];
  json_error_t jerr;
  json_t *j;
  int rc;

  memset(n, 0, sizeof(*n));
  if (mk_root_path(ctx, path, err, "/networks/%s/network.json", name) < 0)
    return -1;
  if (!(j = json_load_file(path, 0, &jerr)))
    return mk_error_set(err, ENOENT, "network %s not found", name);
  snprintf(n->name, sizeof(n->name), "%s", name);
  snprintf(n->id, sizeof(n->id), "%s",
           json_string_value(json_object_get(j, "Id")) ?: "");
  snprintf(n->bridge, sizeof(n->bridge), "%s",
           json_string_value(json_object_get(j, "Bridge")) ?: "");
  snprintf(n->created, sizeof(n->created), "%s",
           json_string_value(json_object_get(j, "Created")) ?: "");
  rc = set_subnet(n, json_string_value(json_object_get(j, "Subnet")) ?: "",
                  json_string_value(json_object_get(j, "Gateway")), err);
  json_decref(j);
  return rc;
}

int mk_network_load(const struct mk_ctx *ctx, const char *name,
                    struct mk_network *n, mk_error_t *err)
{
  if (strcmp(name, MK_DEFAULT_NETWORK) == 0)
    return load_default(ctx, n, err);
  if (!mk_valid_container_name(name) || strlen(name) >= sizeof(n->name))
    return mk_error_set(err, ENOENT, "network %s not found", name);
  return load_user(ctx, name, n, err);
}

static int compare_names(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list_user_networks(const struct mk_ctx *ctx, struct mk_strv *names)
{
  char dir[PATH_MAX];
  mk_error_t ignored;
  DIR *d;
  struct dirent *e;

  if (mk_root_path(ctx, dir, &ignored, "/networks") < 0 || !(d = opendir(dir)))
    return 0;
  while ((e = readdir(d)))
    if (e->d_name[0] != '.' && strcmp(e->d_name, MK_DEFAULT_NETWORK) != 0)
      mk_strv_push(names, e->d_name);
  closedir(d);
  if (names->n)
    qsort(names->v, names->n, sizeof(names->v[0]), compare_names);
  return 0;
}

int mk_network_foreach(const struct mk_ctx *ctx,
                       int (*fn)(const struct mk_network *n, void *data),
                       void *data)
{
  struct mk_strv names = {0};
  struct mk_network n;
  mk_error_t err;
  int rc = 0;

  if (load_default(ctx, &n, &err) == 0)
    rc = fn(&n, data);
  list_user_networks(ctx, &names);
  for (size_t i = 0; i < names.n && !rc; i++)
    if (load_user(ctx, names.v[i], &n, &err) == 0)
      rc = fn(&n, data);
  mk_strv_free(&names);
  return rc;
}

static int overlap_cb(const struct mk_network *n, void *data)
{
  return overlaps(n, data);
}

/* 10.89.0.0/24, 10.89.1.0/24, ...: the first that overlaps nothing. */
static int pick_subnet(const struct mk_ctx *ctx, struct mk_network *n,
                       mk_error_t *err)
{
  struct in_addr base;

  inet_pton(AF_INET, USER_SUBNET_BASE, &base);
  for (uint32_t i = 0; i < 256; i++) {
    n->subnet = nth_host(base, i << 8);
    n->prefix = 24;
    n->gateway = nth_host(n->subnet, 1);
    if (!mk_network_foreach(ctx, overlap_cb, n))
      return 0;
  }
  return mk_error_set(err, ENOSPC,
                      "could not find an available, non-overlapping IPv4 "
                      "address pool among 10.89.0.0/16");
}

static int write_network(const struct mk_network *n, const char *dir,
                         mk_error_t *err)
{
  char subnet[20], gw[INET_ADDRSTRLEN];
  json_t *j;
  char *text;
  int rc;

  mk_network_subnet_text(n, subnet);
  addr_text(n->gateway, gw);
  j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "Name", n->name, "Id", n->id,
                "Created", n->created, "Bridge", n->bridge, "Subnet", subnet,
                "Gateway", gw);
  text = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
  json_decref(j);
  if (!text)
    return mk_error_set(err, ENOMEM, "encode network %s", n->name);
  rc = mk_write_file_atomic(dir, "network.json", text, err);
  free(text);
  return rc;
}

static int reserved_name(const char *name)
{
  return strcmp(name, MK_DEFAULT_NETWORK) == 0 || strcmp(name, "host") == 0 ||
         strcmp(name, "none") == 0 || strcmp(name, "default") == 0;
}

static int fill_new_network(const struct mk_ctx *ctx, struct mk_network *n,
                            const char *subnet, const char *gateway,
                            mk_error_t *err)
{
  if (subnet) {
    if (set_subnet(n, subnet, gateway, err) < 0)
      return -1;
    if (mk_network_foreach(ctx, overlap_cb, n))
      return mk_error_set(err, EEXIST,
                          "invalid pool request: Pool overlaps with other "
                          "one on this address space (%s)",
                          subnet);
  } else if (gateway) {
    return mk_error_set(err, EINVAL, "--gateway needs --subnet");
  } else if (pick_subnet(ctx, n, err) < 0) {
    return -1;
  }
  if (mk_random_hex(n->id, 32, err) < 0)
    return -1;
  snprintf(n->bridge, sizeof(n->bridge), "mk-%.12s", n->id);
  mk_time_now_rfc3339(n->created, sizeof(n->created));
  return 0;
}

int mk_network_create(const struct mk_ctx *ctx, const char *name,
                      const char *subnet, const char *gateway,
                      struct mk_network *out, mk_error_t *err)
{
  char dir[PATH_MAX];
  _cleanup_close_ int lock = -1;
  mk_error_t ignored;

  memset(out, 0, sizeof(*out));
  if (!mk_valid_container_name(name) || reserved_name(name) ||
      strlen(name) >= sizeof(out->name))
    return mk_error_set(err, EINVAL,
                        "invalid network name `%s`: want "
                        "[a-zA-Z0-9][a-zA-Z0-9_.-]+, at most %zu characters",
                        name, sizeof(out->name) - 1);
  snprintf(out->name, sizeof(out->name), "%s", name);
  /* one creation at a time: the overlap check must see the others */
  if (mk_ctx_prepare_root(ctx, err) < 0 ||
      (lock = mk_networks_lock(ctx, err)) < 0 ||
      mk_network_dir(ctx, name, dir, err) < 0)
    return -1;
  if (mkdir(dir, 0700) < 0)
    return errno == EEXIST ? mk_error_set(err, EEXIST,
                                          "network with name %s already "
                                          "exists",
                                          name)
                           : mk_error_sys(err, errno, "mkdir `%s`", dir);
  if (fill_new_network(ctx, out, subnet, gateway, err) < 0 ||
      write_network(out, dir, err) < 0) {
    mk_remove_tree(dir, &ignored);
    return -1;
  }
  return 0;
}

int mk_networks_lock(const struct mk_ctx *ctx, mk_error_t *err)
{
  char top[PATH_MAX];

  if (mk_root_path(ctx, top, err, "/networks") < 0 ||
      mk_mkdir_p(top, 0700, err) < 0)
    return -1;
  return mk_lock_dir(top, err);
}

/* ---- addresses in use ---- */

static int ips_dir(const struct mk_ctx *ctx, const struct mk_network *n,
                   char out[PATH_MAX], mk_error_t *err)
{
  return mk_root_path(ctx, out, err, "/networks/%s/ips", n->name);
}

/* Calls fn(ip, container id) for each address in use. */
int mk_network_foreach_endpoint(
    const struct mk_ctx *ctx, const struct mk_network *n,
    int (*fn)(const char *ip, const char *id, void *data), void *data)
{
  char dir[PATH_MAX], id[MK_ID_LEN + 1];
  mk_error_t ignored;
  struct dirent *e;
  DIR *d;
  int rc = 0;

  if (ips_dir(ctx, n, dir, &ignored) < 0 || !(d = opendir(dir)))
    return 0;
  while (!rc && (e = readdir(d))) {
    _cleanup_close_ int fd = -1;
    ssize_t len;
    if (e->d_name[0] == '.' ||
        (fd = openat(dirfd(d), e->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) <
            0 ||
        (len = mk_read_all(fd, id, MK_ID_LEN)) != MK_ID_LEN)
      continue;
    id[MK_ID_LEN] = '\0';
    rc = fn(e->d_name, id, data);
  }
  closedir(d);
  return rc;
}

static int count_cb(const char *ip, const char *id, void *data)
{
  (void)ip, (void)id;
  ++*(int *)data;
  return 0;
}

/* networks/<name>/last: overwritten in place, padded to a fixed width,
 * never truncated (a truncate of a non-empty file cost up to 10 ms on
 * ext4 here, on every start). */
static void remember_last(int ips_dfd, const char *text)
{
  char padded[INET_ADDRSTRLEN + 1];
  _cleanup_close_ int fd =
      openat(ips_dfd, "../last", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

  snprintf(padded, sizeof(padded), "%-*s\n", INET_ADDRSTRLEN - 1, text);
  if (fd >= 0 && pwrite(fd, padded, strlen(padded), 0) < 0)
    return; /* only a hint for where the next search starts */
}

/* An empty address file is one whose writer died between creating and
 * writing it: both happen under the network's lock, which we hold. */
static int claim_if_empty(int dfd, const char *name)
{
  struct stat st;

  if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_size != 0 ||
      !S_ISREG(st.st_mode))
    return -1;
  return openat(dfd, name, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
}

/* Claims the first free address after the last one handed out, as CNI's
 * host-local does, so a just-released address is not reused at once.
 * Called under the network's lock. */
int mk_network_allocate_ip(const struct mk_ctx *ctx, const struct mk_network *n,
                           const char *id, struct in_addr *out, mk_error_t *err)
{
  char dir[PATH_MAX], text[INET_ADDRSTRLEN], last[INET_ADDRSTRLEN + 1] = "";
  uint32_t hosts = (1U << (32 - n->prefix)) - 2, start = 0;
  struct in_addr a;
  _cleanup_close_ int dfd = -1;

  if (ips_dir(ctx, n, dir, err) < 0 || (dfd = open_dir_made(dir, err)) < 0)
    return -1;
  int lfd = openat(dfd, "../last", O_RDONLY | O_CLOEXEC);
  if (lfd >= 0) {
    ssize_t len = mk_read_all(lfd, last, sizeof(last) - 1);
    last[len > 0 ? len : 0] = '\0';
    last[strcspn(last, " \n")] = '\0';
    mk_close(lfd);
    if (inet_pton(AF_INET, last, &a) == 1 && in_subnet(n, a))
      start = ntohl(a.s_addr) - ntohl(n->subnet.s_addr);
  }
  for (uint32_t i = 1; i <= hosts; i++) {
    a = nth_host(n->subnet, (start + i - 1) % hosts + 1);
    if (a.s_addr == n->gateway.s_addr)
      continue;
    addr_text(a, text);
    int fd = openat(dfd, text, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST && (fd = claim_if_empty(dfd, text)) < 0)
      continue;
    if (fd < 0 || mk_write_all(fd, id, strlen(id)) < 0) {
      int e = errno;
      mk_close(fd);
      unlinkat(dfd, text, 0);
      return mk_error_sys(err, e, "record address %s in `%s`", text, dir);
    }
    mk_close(fd);
    *out = a;
    remember_last(dfd, text);
    return 0;
  }
  return mk_error_set(err, ENOSPC, "no free address left in network %s",
                      n->name);
}

/* Frees ip only if id holds it. */
void mk_network_release_ip(const struct mk_ctx *ctx, const struct mk_network *n,
                           const char *ip, const char *id)
{
  char dir[PATH_MAX], owner[MK_ID_LEN + 1] = "";
  mk_error_t ignored;
  _cleanup_close_ int dfd = -1, fd = -1;

  if (ips_dir(ctx, n, dir, &ignored) < 0 ||
      (dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
      (fd = openat(dfd, ip, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
    return;
  if (mk_read_all(fd, owner, MK_ID_LEN) == MK_ID_LEN && strcmp(owner, id) == 0)
    unlinkat(dfd, ip, 0);
}

static int bridge_exists_cb(const struct mk_network *n, void *data)
{
  mk_error_t ignored;
  return mk_nl_link_index(data, n->bridge, &ignored) > 0;
}

/* Whether any interface of this network namespace has route_localnet on.
 * Every state root's bridges share the one nftables table: another
 * root's bridge is not in our store, but it has route_localnet, and
 * deleting the table would take its loopback guard and its published
 * ports with it (a review found that). "all" counts too: it turns the
 * option on for every interface. */
static int any_route_localnet(void)
{
  _cleanup_close_ int dirfd =
      open("/proc/sys/net/ipv4/conf", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int dupfd = dirfd >= 0 ? fcntl(dirfd, F_DUPFD_CLOEXEC, 0) : -1;
  DIR *d = dupfd >= 0 ? fdopendir(dupfd) : NULL;
  struct dirent *de;
  char path[NAME_MAX + 32], v[4];
  int found = 0;

  if (!d) {
    mk_close(dupfd);
    return 1; /* cannot tell: keep the guard */
  }
  while (!found && (de = readdir(d))) {
    if (de->d_name[0] == '.' || strcmp(de->d_name, "default") == 0)
      continue;
    snprintf(path, sizeof(path), "%s/route_localnet", de->d_name);
    _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
    found = fd >= 0 && read(fd, v, sizeof(v)) > 0 && v[0] == '1';
  }
  closedir(d);
  return found;
}

/* The bridge and its entries in our nftables table go; the table too
 * once no mocker bridge, of this state root or any other, is left in this
 * network namespace. */
static void take_down(const struct mk_ctx *ctx, const struct mk_network *n)
{
  char subnet[20];
  mk_error_t ignored;
  struct mk_nl nl;
  /* no other network may set its bridge up between our check that none
   * is left and the table's deletion */
  _cleanup_close_ int lock = mk_networks_lock(ctx, &ignored);

  mk_network_subnet_text(n, subnet);
  mk_nft_remove_network(n->bridge, subnet, &ignored);
  if (mk_nl_open(&nl, &ignored) < 0)
    return;
  mk_nl_link_del(&nl, n->bridge, &ignored);
  if (!mk_network_foreach(ctx, bridge_exists_cb, &nl) && !any_route_localnet())
    mk_nft_remove_table(&ignored);
  mk_nl_close(&nl);
}

/* Under the network's lock: fails with EBUSY while containers use it. */
static int check_unused(const struct mk_ctx *ctx, const struct mk_network *n,
                        mk_error_t *err)
{
  int in_use = 0;

  mk_network_foreach_endpoint(ctx, n, count_cb, &in_use);
  if (in_use)
    return mk_error_set(err, EBUSY,
                        "error while removing network: network %s id %s has "
                        "active endpoints",
                        n->name, n->id);
  return 0;
}

int mk_network_remove(const struct mk_ctx *ctx, const char *name,
                      mk_error_t *err)
{
  struct mk_network n;
  char dir[PATH_MAX];
  _cleanup_close_ int lock = -1;

  if (reserved_name(name))
    return mk_error_set(
        err, EPERM, "%s is a pre-defined network and cannot be removed", name);
  if (mk_network_load(ctx, name, &n, err) < 0 ||
      mk_network_dir(ctx, name, dir, err) < 0 ||
      (lock = mk_lock_dir(dir, err)) < 0 || check_unused(ctx, &n, err) < 0)
    return -1;
  take_down(ctx, &n);
  return mk_remove_tree(dir, err);
}

struct prune {
  const struct mk_ctx *ctx;
  struct mk_strv removed;
};

static int prune_cb(const struct mk_network *n, void *data)
{
  struct prune *p = data;
  mk_error_t err;

  if (strcmp(n->name, MK_DEFAULT_NETWORK) != 0 &&
      mk_network_remove(p->ctx, n->name, &err) == 0)
    mk_strv_push(&p->removed, n->name);
  return 0;
}

int mk_network_prune(const struct mk_ctx *ctx, struct mk_strv *removed)
{
  struct prune p = {ctx, {0}};
  struct mk_network def;
  char dir[PATH_MAX];
  _cleanup_close_ int lock = -1;
  mk_error_t err;

  mk_network_foreach(ctx, prune_cb, &p);
  *removed = p.removed;
  /* the default bridge stays while it exists in the store, as docker0
   * does; unused, its link and rules go, and come back on next use */
  if (load_default(ctx, &def, &err) < 0 ||
      mk_network_dir(ctx, def.name, dir, &err) < 0 ||
      (lock = mk_lock_dir(dir, &err)) < 0 || check_unused(ctx, &def, &err) < 0)
    return 0;
  take_down(ctx, &def);
  return 0;
}

/* ---- inspect ---- */

struct containers_json {
  const struct mk_network *n;
  mk_endpoint_namer namer;
  void *data;
  json_t *obj;
};

static int container_json_cb(const char *ip, const char *id, void *data)
{
  struct containers_json *cj = data;
  char addr[32], name[256];

  snprintf(addr, sizeof(addr), "%s/%d", ip, cj->n->prefix);
  if (cj->namer(id, name, sizeof(name), cj->data) < 0)
    return 0;
  json_object_set_new(
      cj->obj, id, json_pack("{s:s, s:s}", "Name", name, "IPv4Address", addr));
  return 0;
}

json_t *mk_network_to_json(const struct mk_ctx *ctx, const struct mk_network *n,
                           mk_endpoint_namer namer, void *data)
{
  char subnet[20], gw[INET_ADDRSTRLEN];
  struct containers_json cj = {n, namer, data, json_object()};

  mk_network_subnet_text(n, subnet);
  addr_text(n->gateway, gw);
  mk_network_foreach_endpoint(ctx, n, container_json_cb, &cj);
  return json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:s, s:[{s:s, s:s}]}, "
                   "s:o, s:{s:s}}",
                   "Name", n->name, "Id", n->id, "Created", n->created, "Scope",
                   "local", "Driver", "bridge", "IPAM", "Driver", "default",
                   "Config", "Subnet", subnet, "Gateway", gw, "Containers",
                   cj.obj, "Options", "com.docker.network.bridge.name",
                   n->bridge);
}

/* ---- modes ---- */

enum mk_net_mode mk_net_mode_of(const char *mode, const char **arg)
{
  *arg = NULL;
  if (!mode || !*mode || strcmp(mode, "default") == 0) {
    *arg = MK_DEFAULT_NETWORK;
    return MK_NET_BRIDGE;
  }
  if (strcmp(mode, "none") == 0)
    return MK_NET_NONE;
  if (strcmp(mode, "host") == 0)
    return MK_NET_HOST;
  if (strncmp(mode, "container:", 10) == 0) {
    *arg = mode + 10;
    return MK_NET_CONTAINER;
  }
  *arg = mode;
  return MK_NET_BRIDGE;
}
