/* A container's endpoint on a bridge network: what mk_net_attach sets up
 * and mk_net_detach takes down (see endpoint.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "endpoint.h"
#include "net/etcfiles.h"
#include "mk_util.h"
#include "net/netlink.h"
#include "net/network.h"
#include "net/nft.h"
#include "net/portspec.h"

#define ENDPOINT_FILE "network.json"

struct endpoint {
  struct mk_network net;
  struct in_addr ip;
  char veth[16];
  uint8_t mac[6];
  struct mk_nft_port ports[MK_MAX_PORTS];
  size_t nports;
};

static void ip_text(struct in_addr a, char out[INET_ADDRSTRLEN])
{
  inet_ntop(AF_INET, &a, out, INET_ADDRSTRLEN);
}

void mk_net_held_close(struct mk_net_held *h)
{
  for (size_t i = 0; i < h->n; i++)
    mk_close(h->fds[i]);
  h->n = 0;
}

/* ---- published ports ---- */

static int add_port(struct endpoint *ep, const char *key, const char *host_ip,
                    const char *host_port, mk_error_t *err)
{
  struct mk_port_spec spec;
  struct mk_nft_port *p = &ep->ports[ep->nports];
  char *end;
  long port = host_port && *host_port ? strtol(host_port, &end, 10) : 0;

  if (ep->nports == MK_MAX_PORTS)
    return mk_error_set(err, E2BIG, "more than %d published ports",
                        MK_MAX_PORTS);
  if (mk_parse_port_key(key, &spec) < 0 || port < 0 || port > 65535)
    return mk_error_set(err, EINVAL, "invalid port binding `%s`", key);
  memset(p, 0, sizeof(*p));
  p->udp = strcmp(spec.proto, "udp") == 0;
  p->dest_port = spec.container_port;
  p->host_port = (uint16_t)port;
  if (host_ip && *host_ip && inet_pton(AF_INET, host_ip, &p->host_ip) != 1)
    return mk_error_set(err, EINVAL, "invalid host address `%s`", host_ip);
  ep->nports++;
  return 0;
}

/* HostConfig.PortBindings, then with -P every ExposedPorts key not bound
 * already, on a free port. */
static int collect_ports(const struct mk_container *c, struct endpoint *ep,
                         mk_error_t *err)
{
  json_t *host = json_object_get(c->config, "HostConfig");
  json_t *bindings = json_object_get(host, "PortBindings");
  json_t *exposed =
      json_object_get(json_object_get(c->config, "Config"), "ExposedPorts");
  const char *key;
  json_t *list, *b;
  size_t i;

  json_object_foreach(bindings, key, list)
  {
    json_array_foreach(list, i, b)
    {
      if (add_port(ep, key, json_string_value(json_object_get(b, "HostIp")),
                   json_string_value(json_object_get(b, "HostPort")), err) < 0)
        return -1;
    }
  }
  if (!json_is_true(json_object_get(host, "PublishAllPorts")))
    return 0;
  json_object_foreach(exposed, key, list)
  {
    if (!json_object_get(bindings, key) &&
        add_port(ep, key, NULL, NULL, err) < 0)
      return -1;
  }
  return 0;
}

static int bind_error(const struct mk_nft_port *p, int e, mk_error_t *err)
{
  char ip[INET_ADDRSTRLEN];

  ip_text(p->host_ip, ip);
  if (e == EADDRINUSE)
    return mk_error_set(err, e,
                        "Bind for %s:%u/%s failed: port is already allocated",
                        ip, p->host_port, p->udp ? "udp" : "tcp");
  return mk_error_sys(err, e, "publish port %s:%u/%s", ip, p->host_port,
                      p->udp ? "udp" : "tcp");
}

/* Binds (never listens on) each host port: a taken port fails here, and
 * the socket keeps it ours, as podman's conmon does. Port 0 gets a free
 * one from the kernel. */
static int reserve_port(struct mk_nft_port *p, int *fd_out, mk_error_t *err)
{
  struct sockaddr_in sa = {.sin_family = AF_INET,
                           .sin_port = htons(p->host_port),
                           .sin_addr = p->host_ip};
  socklen_t len = sizeof(sa);
  int fd =
      socket(AF_INET, (p->udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);

  if (fd < 0)
    return mk_error_sys(err, errno, "socket");
  if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
      getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
    int e = errno;
    mk_close(fd);
    return bind_error(p, e, err);
  }
  p->host_port = ntohs(sa.sin_port);
  *fd_out = fd;
  return 0;
}

static int reserve_ports(struct endpoint *ep, struct mk_net_held *held,
                         mk_error_t *err)
{
  for (size_t i = 0; i < ep->nports; i++) {
    if (reserve_port(&ep->ports[i], &held->fds[held->n], err) < 0) {
      mk_net_held_close(held);
      return -1;
    }
    held->n++;
  }
  return 0;
}

/* ---- the endpoint file ---- */

static json_t *ports_json(const struct endpoint *ep)
{
  json_t *arr = json_array();
  char ip[INET_ADDRSTRLEN];

  for (size_t i = 0; i < ep->nports; i++) {
    const struct mk_nft_port *p = &ep->ports[i];
    ip_text(p->host_ip, ip);
    json_array_append_new(arr, json_pack("{s:s, s:s, s:i, s:i}", "Proto",
                                         p->udp ? "udp" : "tcp", "HostIp", ip,
                                         "HostPort", p->host_port,
                                         "ContainerPort", p->dest_port));
  }
  return arr;
}

static int save_endpoint(const struct mk_container *c,
                         const struct endpoint *ep, mk_error_t *err)
{
  char ip[INET_ADDRSTRLEN], gw[INET_ADDRSTRLEN], mac[18];
  _cleanup_free_ char *text = NULL;
  json_t *j;

  ip_text(ep->ip, ip);
  ip_text(ep->net.gateway, gw);
  snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", ep->mac[0],
           ep->mac[1], ep->mac[2], ep->mac[3], ep->mac[4], ep->mac[5]);
  j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:o}", "Network",
                ep->net.name, "NetworkID", ep->net.id, "Bridge", ep->net.bridge,
                "Veth", ep->veth, "IPAddress", ip, "IPPrefixLen",
                ep->net.prefix, "Gateway", gw, "MacAddress", mac, "Ports",
                ports_json(ep));
  text = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
  json_decref(j);
  if (!text)
    return mk_error_set(err, ENOMEM, "encode the endpoint");
  return mk_write_file_atomic(c->dir, ENDPOINT_FILE, text, err);
}

static json_t *load_endpoint(const char *dir)
{
  char path[PATH_MAX];

  if (mk_snprintf(path, sizeof(path), "%s/%s", dir, ENDPOINT_FILE) < 0)
    return NULL;
  return json_load_file(path, 0, NULL);
}

/* The ports of a saved endpoint, for removal. */
static size_t ports_from_json(json_t *arr, struct mk_nft_port *out)
{
  size_t i, n = 0;
  json_t *p;

  json_array_foreach(arr, i, p)
  {
    if (n == MK_MAX_PORTS)
      break;
    memset(&out[n], 0, sizeof(out[n]));
    out[n].udp = strcmp(json_string_value(json_object_get(p, "Proto")) ?: "",
                        "udp") == 0;
    inet_pton(AF_INET, json_string_value(json_object_get(p, "HostIp")) ?: "",
              &out[n].host_ip);
    out[n].host_port =
        (uint16_t)json_integer_value(json_object_get(p, "HostPort"));
    out[n].dest_port =
        (uint16_t)json_integer_value(json_object_get(p, "ContainerPort"));
    n++;
  }
  return n;
}

/* ---- /etc/hosts: own address, and peers on a user network ---- */

struct member {
  char ip[16], id[MK_ID_LEN + 1];
  json_t *config;
};

struct members {
  struct member *m; /* grows: a user network has no size limit */
  size_t n, cap;
  const struct mk_ctx *ctx;
  char gateway[INET_ADDRSTRLEN];
};

static json_t *load_config_of(const struct mk_ctx *ctx, const char *id)
{
  char path[PATH_MAX];
  mk_error_t ignored;

  if (mk_root_path(ctx, path, &ignored, "/containers/%s/config.json", id) < 0)
    return NULL;
  return json_load_file(path, 0, NULL);
}

static int member_cb(const char *ip, const char *id, void *data)
{
  struct members *ms = data;
  json_t *config = load_config_of(ms->ctx, id);

  if (!config)
    return 0;
  if (ms->n == ms->cap) {
    ms->cap = ms->cap ? 2 * ms->cap : 16;
    struct member *grown = realloc(ms->m, ms->cap * sizeof(*ms->m));
    if (!grown) {
      json_decref(config);
      return 1;
    }
    ms->m = grown;
  }
  struct member *m = &ms->m[ms->n++];
  m->config = config;
  snprintf(m->ip, sizeof(m->ip), "%s", ip);
  snprintf(m->id, sizeof(m->id), "%s", id);
  return 0;
}

static void members_free(struct members *ms)
{
  for (size_t i = 0; i < ms->n; i++)
    json_decref(ms->m[i].config);
  free(ms->m);
  ms->m = NULL;
  ms->n = ms->cap = 0;
}

static const char *config_str(json_t *config, const char *section,
                              const char *key)
{
  json_t *obj = section ? json_object_get(config, section) : config;
  return json_string_value(json_object_get(obj, key)) ?: "";
}

/* m's hosts file: its own line, its --add-host lines, and on a user
 * network every other member by name and short id. */
static int write_member_hosts(const struct members *ms, size_t self,
                              int user_network, int starting, mk_error_t *err)
{
  _cleanup_free_ struct mk_hosts_peer *peers =
      mk_xmalloc((ms->n ? ms->n : 1) * sizeof(*peers));
  const struct member *m = &ms->m[self];
  char dir[PATH_MAX];
  size_t n = 0;

  for (size_t i = 0; user_network && i < ms->n; i++) {
    if (i == self)
      continue;
    const char *name = config_str(ms->m[i].config, NULL, "Name");
    snprintf(peers[n].ip, sizeof(peers[n].ip), "%s", ms->m[i].ip);
    snprintf(peers[n].names, sizeof(peers[n].names), "%s %.12s",
             name[0] == '/' ? name + 1 : name, ms->m[i].id);
    n++;
  }
  struct mk_hosts_spec spec = {
      .hostname = config_str(m->config, "Config", "Hostname"),
      .ip = m->ip,
      .extra_hosts = json_object_get(json_object_get(m->config, "HostConfig"),
                                     "ExtraHosts"),
      .gateway = ms->gateway,
      .peers = peers,
      .npeers = n,
      .replace = starting};
  if (mk_root_path(ms->ctx, dir, err, "/containers/%s", m->id) < 0)
    return -1;
  return mk_write_hosts(dir, &spec, err);
}

/* Rewrites the hosts files of the network's members: on a user network
 * all of them, on the default bridge (no name resolution, as in Docker)
 * only the starting container's. Under the network's lock. Fails only if
 * the starting container's own file cannot be written. */
static int refresh_hosts(const struct mk_ctx *ctx, const struct mk_network *n,
                         const char *starting, const struct in_addr *own_ip,
                         mk_error_t *err)
{
  struct members ms = {.ctx = ctx};

  ip_text(n->gateway, ms.gateway);
  int user = strcmp(n->name, MK_DEFAULT_NETWORK) != 0, rc = 0;
  mk_error_t ignored;

  if (!user && !starting)
    return 0; /* nobody else's file names anyone on the default bridge */
  if (user)
    mk_network_foreach_endpoint(ctx, n, member_cb, &ms);
  else {
    char ip[INET_ADDRSTRLEN];
    ip_text(*own_ip, ip);
    member_cb(ip, starting, &ms);
  }
  int self_seen = !starting;
  for (size_t i = 0; i < ms.n; i++) {
    int self = starting && strcmp(ms.m[i].id, starting) == 0;
    self_seen |= self;
    if (write_member_hosts(&ms, i, user, self, self ? err : &ignored) < 0 &&
        self)
      rc = -1;
  }
  members_free(&ms);
  if (!self_seen)
    return mk_error_set(err, EIO,
                        "cannot write /etc/hosts of container "
                        "%.12s: its config is unreadable",
                        starting);
  return rc;
}

/* ---- links ---- */

static int write_sysctl(const char *path, mk_error_t *err)
{
  _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);

  if (fd < 0 || mk_write_all(fd, "1", 1) < 0)
    return mk_error_sys(err, errno, "write `%s`", path);
  return 0;
}

static int sysctl_is_set(const char *path)
{
  _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
  char c = '0';

  return fd >= 0 && read(fd, &c, 1) == 1 && c == '1';
}

static void localnet_path(const struct mk_network *n, char *path, size_t size)
{
  mk_snprintf(path, size, "/proc/sys/net/ipv4/conf/%s/route_localnet",
              n->bridge);
}

/* The network's bridge and subnet in the nftables sets (and the table,
 * with its loopback guard, if missing), then the bridge's route_localnet,
 * all under the lock every network shares for them. route_localnet lets
 * 127.0.0.0/8 be routed through the bridge, which the host's own
 * connections to a port published on 127.0.0.1 need; it is safe only
 * while the guard drops what did not come from lo. So it is set only
 * after the guard is in, and under the lock take_down holds when it
 * deletes the table once no bridge is left. */
static int add_network_rules(const struct mk_ctx *ctx,
                             const struct mk_network *n, mk_error_t *err)
{
  char subnet[20], localnet[128];
  _cleanup_close_ int lock = mk_networks_lock(ctx, err);

  if (lock < 0)
    return -1;
  mk_network_subnet_text(n, subnet);
  localnet_path(n, localnet, sizeof(localnet));
  if (mk_nft_add_network(n->bridge, subnet, err) < 0)
    return -1;
  return write_sysctl(localnet, err);
}

/* The bridge with its gateway address, up; forwarding on; NAT. The last
 * step marks it done (route_localnet), so a half-made bridge is
 * completed by the next container; a gateway address missing from a done
 * bridge (bip changed), or a missing loopback guard (a flushed ruleset,
 * which leaves route_localnet on), redoes the rest. */
static int setup_bridge(const struct mk_ctx *ctx, struct mk_nl *nl,
                        const struct mk_network *n, int *index, mk_error_t *err)
{
  char localnet[128];
  int had;

  localnet_path(n, localnet, sizeof(localnet));
  if ((*index = mk_nl_link_index(nl, n->bridge, err)) < 0)
    return -1;
  if (*index > 0 && sysctl_is_set(localnet) && mk_nft_loopback_guarded()) {
    had = mk_nl_addr_add(nl, *index, n->gateway, n->prefix, err);
    if (had != 0)
      return had < 0 ? -1 : 0;
  }
  if (*index == 0 && mk_nl_add_bridge(nl, n->bridge, err) < 0 &&
      err->err != EEXIST)
    return -1;
  if ((*index = mk_nl_link_index(nl, n->bridge, err)) <= 0)
    return *index < 0
               ? -1
               : mk_error_set(err, ENODEV, "bridge %s vanished", n->bridge);
  if (mk_nl_addr_add(nl, *index, n->gateway, n->prefix, err) < 0 ||
      mk_nl_link_up(nl, *index, err) < 0 ||
      write_sysctl("/proc/sys/net/ipv4/ip_forward", err) < 0 ||
      add_network_rules(ctx, n, err) < 0)
    return mk_error_prefix(err, "set up bridge %s", n->bridge);
  return 0;
}

/* The DNAT entries. If our table is gone (a firewall reload flushed the
 * ruleset), it is made again, with the network's NAT, and the entries
 * retried. */
static int add_ports(const struct mk_ctx *ctx, const struct endpoint *ep,
                     mk_error_t *err)
{
  if (mk_nft_add_ports(ep->ports, ep->nports, err) == 0)
    return 0;
  if (err->err != ENOENT || add_network_rules(ctx, &ep->net, err) < 0)
    return -1;
  return mk_nft_add_ports(ep->ports, ep->nports, err);
}

static int configure_inside(struct mk_nl *in, const struct endpoint *ep,
                            mk_error_t *err)
{
  int eth0;

  if (mk_nl_link_up(in, 1, err) < 0) /* lo is always index 1 */
    return -1;
  if ((eth0 = mk_nl_link_index(in, "eth0", err)) <= 0)
    return eth0 < 0 ? -1 : mk_error_set(err, ENODEV, "no eth0 in container");
  if (mk_nl_addr_add(in, eth0, ep->ip, ep->net.prefix, err) < 0 ||
      mk_nl_link_up(in, eth0, err) < 0 ||
      mk_nl_route_default(in, ep->net.gateway, err) < 0)
    return mk_error_prefix(err, "configure eth0");
  return 0;
}

static int add_veth(struct mk_nl *host, struct endpoint *ep, int bridge,
                    int netns_fd, mk_error_t *err)
{
  struct mk_veth v = {.host_name = ep->veth,
                      .master = bridge,
                      .peer_name = "eth0",
                      .netns_fd = netns_fd};

  memcpy(v.mac, ep->mac, sizeof(v.mac));
  if (mk_nl_add_veth(host, &v, err) == 0)
    return 0;
  if (err->err != EEXIST)
    return -1;
  /* left by this container's previous run, its namespace still dying */
  if (mk_nl_link_del(host, ep->veth, err) < 0)
    return -1;
  return mk_nl_add_veth(host, &v, err);
}

/* The address, MAC, veth name and DNAT targets, once the address is
 * known. */
static void fill_endpoint(struct endpoint *ep, const struct mk_container *c)
{
  uint32_t a = ntohl(ep->ip.s_addr);

  for (size_t i = 0; i < ep->nports; i++)
    ep->ports[i].dest = ep->ip;
  memcpy(ep->mac, (uint8_t[]){0x02, 0x42, a >> 24, a >> 16, a >> 8, a}, 6);
  snprintf(ep->veth, sizeof(ep->veth), "veth%.11s", c->id);
}

/* Undoes connect_endpoint from stage down. */
static void disconnect_partial(const struct mk_ctx *ctx, struct mk_nl *host,
                               const struct mk_container *c,
                               struct endpoint *ep, int stage)
{
  char ip[INET_ADDRSTRLEN], path[PATH_MAX];
  mk_error_t ignored;

  if (stage >= 4)
    mk_nft_remove_ports(ep->ports, ep->nports, ep->ip);
  if (stage >= 3)
    mk_nl_link_del(host, ep->veth, &ignored);
  if (stage >= 2 &&
      mk_snprintf(path, sizeof(path), "%s/%s", c->dir, ENDPOINT_FILE) == 0)
    unlink(path);
  if (stage >= 1) {
    ip_text(ep->ip, ip);
    mk_network_release_ip(ctx, &ep->net, ip, c->id);
  }
}

/* Under the network's lock, on a fresh container network namespace. The
 * endpoint file is written as soon as the address is claimed, before
 * anything else is made, so whatever happens next (a crash included)
 * mk_net_detach knows what to undo. */
static int connect_endpoint(const struct mk_ctx *ctx, struct mk_container *c,
                            int pidfd, struct endpoint *ep, mk_error_t *err)
{
  struct mk_nl host = {0}, in = {0};
  _cleanup_close_ int netns = -1;
  int bridge, stage = 0, rc = -1;

  if (mk_nl_open(&host, err) < 0 ||
      setup_bridge(ctx, &host, &ep->net, &bridge, err) < 0 ||
      mk_network_allocate_ip(ctx, &ep->net, c->id, &ep->ip, err) < 0)
    goto out;
  stage = 1;
  fill_endpoint(ep, c);
  if (save_endpoint(c, ep, err) < 0)
    goto out;
  stage = 2;
  if (mk_nl_open_in(&in, pidfd, &netns, err) < 0 ||
      add_veth(&host, ep, bridge, netns, err) < 0)
    goto out;
  stage = 3;
  if (configure_inside(&in, ep, err) < 0 || add_ports(ctx, ep, err) < 0)
    goto out;
  stage = 4;
  rc = refresh_hosts(ctx, &ep->net, c->id, &ep->ip, err);
out:
  if (rc < 0)
    disconnect_partial(ctx, &host, c, ep, stage);
  mk_nl_close(&in);
  mk_nl_close(&host);
  return rc;
}

/* After the wait for its lock: `network rm` may have removed it. */
static int lock_network(const struct mk_ctx *ctx, const char *name,
                        mk_error_t *err)
{
  char dir[PATH_MAX];
  struct stat st;
  int lock;

  if (mk_network_dir(ctx, name, dir, err) < 0 ||
      (lock = mk_lock_dir(dir, err)) < 0)
    return -1;
  if (fstat(lock, &st) == 0 && st.st_nlink > 0)
    return lock;
  mk_close(lock);
  return mk_error_set(err, ENOENT, "network %s not found", name);
}

static void port_in_use_hint(const struct endpoint *ep, mk_error_t *err)
{
  if (err->err == EEXIST && ep->nports)
    mk_error_prefix(err, "a published port is already allocated to another "
                         "container");
}

int mk_net_attach(const struct mk_ctx *ctx, struct mk_container *c, int pidfd,
                  struct mk_net_held *held, mk_error_t *err)
{
  static struct endpoint ep;
  const char *name;
  _cleanup_close_ int lock = -1;

  held->n = 0;
  if (mk_container_net_mode(c, &name) != MK_NET_BRIDGE)
    return 0;
  mk_net_detach(ctx, c); /* a crashed run's endpoint */
  memset(&ep, 0, sizeof(ep));
  if (mk_network_load(ctx, name, &ep.net, err) < 0 ||
      collect_ports(c, &ep, err) < 0 || reserve_ports(&ep, held, err) < 0)
    return -1;
  if ((lock = lock_network(ctx, name, err)) < 0 ||
      connect_endpoint(ctx, c, pidfd, &ep, err) < 0) {
    port_in_use_hint(&ep, err);
    mk_net_held_close(held);
    return -1;
  }
  return 0;
}

/* Containers that joined c's namespace (--network container:c) leave a
 * marker in c's joiners/ while they run. */
static int has_joiners(const struct mk_container *c)
{
  char path[PATH_MAX];

  if (mk_snprintf(path, sizeof(path), "%s/joiners", c->dir) < 0)
    return 0;
  return rmdir(path) < 0 && errno == ENOTEMPTY;
}

static int joiner_marker(const struct mk_ctx *ctx, const struct mk_container *c,
                         char path[PATH_MAX], char dir[PATH_MAX])
{
  const char *target;
  char id[MK_ID_LEN + 1] = "";
  struct mk_container t;
  mk_error_t ignored;

  if (mk_container_net_mode(c, &target) != MK_NET_CONTAINER ||
      mk_container_open(ctx, target, &t, &ignored) < 0)
    return -1;
  snprintf(id, sizeof(id), "%s", t.id);
  mk_container_close(&t);
  if (mk_root_path(ctx, dir, &ignored, "/containers/%s/joiners", id) < 0 ||
      mk_snprintf(path, PATH_MAX, "%s/%s", dir, c->id) < 0)
    return -1;
  return 0;
}

/* The host side of the veth. Once the container's last process is gone,
 * the kernel tears its namespace down, veth included, in the background;
 * deleting it here would cost an RCU barrier (~17 ms measured) on every
 * exit. Only while another container still shares the namespace does it
 * go now, as in Docker, so the address released here is not left live. */
static void drop_veth(const struct mk_container *c, const char *veth)
{
  struct mk_nl nl;
  mk_error_t ignored;

  if (!has_joiners(c) || mk_nl_open(&nl, &ignored) < 0)
    return;
  mk_nl_link_del(&nl, veth, &ignored);
  mk_nl_close(&nl);
}

void mk_net_detach(const struct mk_ctx *ctx, const struct mk_container *c)
{
  json_t *j = load_endpoint(c->dir);
  struct mk_nft_port ports[MK_MAX_PORTS];
  struct mk_network n;
  char dir[PATH_MAX], path[PATH_MAX];
  mk_error_t ignored;
  _cleanup_close_ int lock = -1;
  const char *name = json_string_value(json_object_get(j, "Network"));

  if (joiner_marker(ctx, c, path, dir) == 0)
    unlink(path);
  if (!j)
    return;
  if (name && mk_network_load(ctx, name, &n, &ignored) == 0 &&
      mk_network_dir(ctx, name, dir, &ignored) == 0)
    lock = mk_lock_dir(dir, &ignored);
  struct in_addr dest = {0};
  inet_pton(AF_INET, json_string_value(json_object_get(j, "IPAddress")) ?: "",
            &dest);
  mk_nft_remove_ports(
      ports, ports_from_json(json_object_get(j, "Ports"), ports), dest);
  drop_veth(c, json_string_value(json_object_get(j, "Veth")) ?: "");
  if (lock >= 0)
    mk_network_release_ip(
        ctx, &n, json_string_value(json_object_get(j, "IPAddress")) ?: "",
        c->id);
  if (mk_snprintf(path, sizeof(path), "%s/%s", c->dir, ENDPOINT_FILE) == 0)
    unlink(path);
  if (lock >= 0)
    refresh_hosts(ctx, &n, NULL, NULL, &ignored);
  json_decref(j);
}

/* ---- --network container:X ---- */

static int copy_file(const char *from_dir, const char *to_dir, const char *name)
{
  char path[PATH_MAX], buf[MK_HOSTS_MAX];
  _cleanup_close_ int in = -1, out = -1;
  ssize_t n;

  if (mk_snprintf(path, sizeof(path), "%s/%s", from_dir, name) < 0 ||
      (in = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0 ||
      (n = mk_read_all(in, buf, sizeof(buf))) < 0 ||
      mk_snprintf(path, sizeof(path), "%s/%s", to_dir, name) < 0 ||
      (out = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
    return -1;
  return pwrite(out, buf, (size_t)n, 0) == n && ftruncate(out, n) == 0 ? 0 : -1;
}

/* The joiner sees the target's hosts and resolv.conf, and leaves a
 * marker in the target's joiners/ (see drop_veth). */
static void adopt_files_and_mark(const struct mk_container *t,
                                 const struct mk_container *c)
{
  char marker[PATH_MAX], dir[PATH_MAX];

  copy_file(t->dir, c->dir, "hosts");
  copy_file(t->dir, c->dir, "resolv.conf");
  if (mk_snprintf(dir, sizeof(dir), "%s/joiners", t->dir) == 0 &&
      mk_snprintf(marker, sizeof(marker), "%s/%s", dir, c->id) == 0 &&
      (mkdir(dir, 0700) == 0 || errno == EEXIST))
    close(open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
}

int mk_net_join_fd(const struct mk_ctx *ctx, struct mk_container *c,
                   mk_error_t *err)
{
  const char *target;
  struct mk_container t;
  char path[64];
  int pid, fd;

  if (mk_container_net_mode(c, &target) != MK_NET_CONTAINER)
    return mk_error_set(err, EINVAL, "not in container network mode");
  if (mk_container_open(ctx, target, &t, err) < 0)
    return mk_error_prefix(err, "--network container:%s", target);
  pid = mk_container_init_pid(&t);
  snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
  fd = pid > 0 ? open(path, O_RDONLY | O_CLOEXEC) : -1;
  /* the pid was checked before the open: check it is still that process */
  if (fd >= 0 && mk_container_init_pid(&t) != pid)
    mk_close(fd), fd = -1;
  if (fd < 0)
    mk_error_set(err, EINVAL,
                 "cannot join network of a non running container: %s", target);
  else
    adopt_files_and_mark(&t, c);
  mk_container_close(&t);
  return fd;
}

/* ---- inspect ---- */

static json_t *ports_settings(const struct mk_container *c, json_t *ep)
{
  json_t *out = json_object(), *p;
  json_t *exposed =
      json_object_get(json_object_get(c->config, "Config"), "ExposedPorts");
  const char *key;
  size_t i;
  char k[16], port[8];

  json_object_foreach(exposed, key, p)
  {
    json_object_set_new(out, key, json_null());
  }
  json_array_foreach(json_object_get(ep, "Ports"), i, p)
  {
    snprintf(k, sizeof(k), "%d/%s",
             (int)json_integer_value(json_object_get(p, "ContainerPort")),
             json_string_value(json_object_get(p, "Proto")) ?: "tcp");
    snprintf(port, sizeof(port), "%d",
             (int)json_integer_value(json_object_get(p, "HostPort")));
    if (!json_is_array(json_object_get(out, k)))
      json_object_set_new(out, k, json_array());
    json_array_append_new(json_object_get(out, k),
                          json_pack("{s:O, s:s}", "HostIp",
                                    json_object_get(p, "HostIp"), "HostPort",
                                    port));
  }
  return out;
}

json_t *mk_net_settings(const struct mk_container *c)
{
  json_t *ep = load_endpoint(c->dir);
  const char *arg;
  enum mk_net_mode mode = mk_container_net_mode(c, &arg);
  const char *netname = mode == MK_NET_BRIDGE ? arg
                        : mode == MK_NET_HOST ? "host"
                        : mode == MK_NET_NONE ? "none"
                                              : NULL;
  static const char *const fields[] = {"IPAddress", "IPPrefixLen", "Gateway",
                                       "MacAddress"};
  json_t *s = json_object(), *nets = json_object(), *one = json_object();

  for (size_t i = 0; i < MK_ARRAY_SIZE(fields); i++) {
    json_t *v = json_object_get(ep, fields[i]);
    json_t *val = v        ? json_incref(v)
                  : i == 1 ? json_integer(0)
                           : json_string("");
    json_object_set(s, fields[i], val);
    json_object_set_new(one, fields[i], val);
  }
  json_object_set_new(
      one, "NetworkID",
      json_string(json_string_value(json_object_get(ep, "NetworkID")) ?: ""));
  if (netname)
    json_object_set_new(nets, netname, one);
  else
    json_decref(one);
  json_object_set_new(s, "Bridge", json_string(""));
  json_object_set_new(s, "Ports", ports_settings(c, ep));
  json_object_set_new(s, "Networks", nets);
  json_decref(ep);
  return s;
}

/* ---- modes ---- */

enum mk_net_mode mk_container_net_mode(const struct mk_container *c,
                                       const char **arg)
{
  return mk_net_mode_of(
      mk_container_config_string(c, "HostConfig", "NetworkMode"), arg);
}

int mk_net_mode_check(const struct mk_ctx *ctx, const char *mode,
                      mk_error_t *err)
{
  const char *arg;
  struct mk_network n;
  struct mk_container c;

  switch (mk_net_mode_of(mode, &arg)) {
  case MK_NET_BRIDGE: return mk_network_load(ctx, arg, &n, err);
  case MK_NET_CONTAINER:
    if (mk_container_open(ctx, arg, &c, err) < 0)
      return mk_error_prefix(err, "--network container:%s", arg);
    mk_container_close(&c);
    return 0;
  default: return 0;
  }
}

int mk_endpoint_container_name(const char *id, char *name, size_t size,
                               void *data)
{
  struct mk_container c;
  mk_error_t ignored;

  if (mk_container_open(data, id, &c, &ignored) < 0)
    return -1;
  snprintf(name, size, "%s", c.name);
  mk_container_close(&c);
  return 0;
}
