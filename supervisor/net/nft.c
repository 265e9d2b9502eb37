#include "nft.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mk_util.h"

#define LIBNFTABLES_SONAME "libnftables.so.1"
#define SCRIPT_MAX 16384
#define MK_NFT_TABLE "mocker"
#define MK_NFT_GUARD_CHAIN "loopback_guard"
#define MK_NFT_GUARD_RULES 2 /* see add_loopback_guard */
/* A netlink dump datagram is at most 32 KiB (libmnl's later
 * MNL_SOCKET_DUMP_SIZE); a smaller buffer would truncate one. */
#define NFNL_DUMP_BUF 32768

/* The part of libnftables we use (libnftables.h), resolved at run time. */
struct nft_api {
  struct nft_ctx *(*ctx_new)(uint32_t flags);
  void (*ctx_free)(struct nft_ctx *ctx);
  int (*buffer_output)(struct nft_ctx *ctx);
  int (*buffer_error)(struct nft_ctx *ctx);
  const char *(*get_error_buffer)(struct nft_ctx *ctx);
  int (*run)(struct nft_ctx *ctx, const char *buf);
  const char *(*get_output_buffer)(struct nft_ctx *ctx);
};

static int load_api(struct nft_api *api, mk_error_t *err)
{
  static void *handle;
  static const char *const names[] = {"nft_ctx_new",
                                      "nft_ctx_free",
                                      "nft_ctx_buffer_output",
                                      "nft_ctx_buffer_error",
                                      "nft_ctx_get_error_buffer",
                                      "nft_run_cmd_from_buffer",
                                      "nft_ctx_get_output_buffer"};
  void **slots = (void **)api;

  if (!handle)
    handle = dlopen(LIBNFTABLES_SONAME, RTLD_NOW | RTLD_LOCAL);
  if (!handle)
    return mk_error_set(err, ENOENT,
                        "cannot load %s (Debian package libnftables1), "
                        "needed for NAT and published ports: %s",
                        LIBNFTABLES_SONAME, dlerror());
  for (size_t i = 0; i < MK_ARRAY_SIZE(names); i++)
    if (!(slots[i] = dlsym(handle, names[i])))
      return mk_error_set(err, ENOENT, "%s: %s", LIBNFTABLES_SONAME, dlerror());
  return 0;
}

/* nft's message, first line only, without its trailing newline. */
static void first_line(const char *text, char *out, size_t size)
{
  size_t n = text ? strcspn(text, "\n") : 0;

  snprintf(out, size, "%.*s", (int)n, text ? text : "");
}

/* Runs script as one transaction; what nft printed goes to out (may be
 * NULL). On failure err->err is EEXIST or ENOENT when nft says so, else
 * EINVAL. */
static int run_script_output(const char *script, char *out, size_t size,
                             mk_error_t *err)
{
  struct nft_api api;
  struct nft_ctx *ctx;
  char why[512];
  int rc;

  if (load_api(&api, err) < 0)
    return -1;
  if (!(ctx = api.ctx_new(0)))
    return mk_error_set(err, ENOMEM, "nftables: cannot make a context");
  api.buffer_output(ctx);
  api.buffer_error(ctx);
  rc = api.run(ctx, script);
  if (rc == 0 && out)
    snprintf(out, size, "%s", api.get_output_buffer(ctx) ?: "");
  if (rc != 0) {
    const char *text = api.get_error_buffer(ctx);
    first_line(text, why, sizeof(why));
    int e = text && strstr(text, "File exists")    ? EEXIST
            : text && strstr(text, "No such file") ? ENOENT
                                                   : EINVAL;
    mk_error_set(err, e, "nftables: %s", why);
  }
  api.ctx_free(ctx);
  return rc != 0 ? -1 : 0;
}

static int run_script(const char *script, mk_error_t *err)
{
  return run_script_output(script, NULL, 0, err);
}

struct script {
  char text[SCRIPT_MAX];
  size_t len;
  bool overflow;
};

__attribute__((format(printf, 2, 3))) static void add(struct script *s,
                                                      const char *fmt, ...)
{
  va_list ap;
  int n;

  va_start(ap, fmt);
  n = vsnprintf(s->text + s->len, sizeof(s->text) - s->len, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= sizeof(s->text) - s->len)
    s->overflow = true;
  else
    s->len += (size_t)n;
}

/* The loopback guard: 127.0.0.0/8 belongs to lo. A packet that arrives
 * anywhere else with such a destination or source is dropped at raw
 * priority, before conntrack and before the ports chain's DNAT, which
 * would otherwise turn a neighbour's frame to 127.0.0.1:PORT into a
 * connection to a port published on 127.0.0.1 only (CVE-2020-8558). It
 * is also what makes route_localnet on the bridges safe: without it a
 * container could reach the host's 127.0.0.1 services through its
 * gateway, or send them packets that seem to come from 127.0.0.x. The
 * host's own connections to 127.0.0.1:PORT never pass here (output hook),
 * and replies to them come back from the gateway's address, de-NATed
 * only after this chain. */
static void add_loopback_guard(struct script *s)
{
  add(s, "add chain ip mocker " MK_NFT_GUARD_CHAIN
         " { type filter hook prerouting priority raw; policy accept; }\n"
         "flush chain ip mocker " MK_NFT_GUARD_CHAIN "\n"
         "add rule ip mocker " MK_NFT_GUARD_CHAIN
         " iif != \"lo\" ip daddr 127.0.0.0/8 drop\n"
         "add rule ip mocker " MK_NFT_GUARD_CHAIN
         " iif != \"lo\" ip saddr 127.0.0.0/8 drop\n");
}

/* Every statement is idempotent: `add` of what exists is a no-op, and the
 * chains are flushed and refilled in the same transaction. The loopback
 * guard comes in that same transaction as the DNAT rules: there is no
 * moment with one and not the other. */
static void add_table(struct script *s)
{
  static const char *const protos[] = {"tcp", "udp"};

  add(s, "add table ip mocker\n"
         "add set ip mocker bridges { type ifname; }\n"
         "add set ip mocker subnets { type ipv4_addr; flags interval; }\n");
  add_loopback_guard(s);
  for (size_t i = 0; i < 2; i++)
    add(s,
        "add map ip mocker %s_any { type inet_service : ipv4_addr . "
        "inet_service; }\n"
        "add map ip mocker %s_ip { type ipv4_addr . inet_service : "
        "ipv4_addr . inet_service; }\n",
        protos[i], protos[i]);
  add(s, "add chain ip mocker ports\n"
         "add chain ip mocker prerouting { type nat hook prerouting "
         "priority dstnat; policy accept; }\n"
         "add chain ip mocker output { type nat hook output priority -100; "
         "policy accept; }\n"
         "add chain ip mocker postrouting { type nat hook postrouting "
         "priority srcnat; policy accept; }\n"
         "flush chain ip mocker ports\n"
         "flush chain ip mocker prerouting\n"
         "flush chain ip mocker output\n"
         "flush chain ip mocker postrouting\n");
  for (size_t i = 0; i < 2; i++)
    add(s,
        "add rule ip mocker ports fib daddr type local dnat ip to "
        "ip daddr . %s dport map @%s_ip\n"
        "add rule ip mocker ports fib daddr type local dnat ip to "
        "%s dport map @%s_any\n",
        protos[i], protos[i], protos[i], protos[i]);
  /* Leaving a subnet: masquerade. From the host's own 127.0.0.1 to a
   * published port (route_localnet lets it out on the bridge) and from a
   * container to its own network's published port (hairpin): masquerade
   * too, so the reply comes back through the host's conntrack. */
  add(s, "add rule ip mocker prerouting jump ports\n"
         "add rule ip mocker output jump ports\n"
         "add rule ip mocker postrouting ip saddr @subnets "
         "oifname != @bridges masquerade\n"
         "add rule ip mocker postrouting oifname @bridges "
         "ip saddr 127.0.0.0/8 masquerade\n"
         "add rule ip mocker postrouting oifname @bridges ct status dnat "
         "ip saddr @subnets masquerade\n");
}

static int run_built(struct script *s, mk_error_t *err)
{
  if (s->overflow)
    return mk_error_set(err, E2BIG, "nftables: ruleset too long");
  return run_script(s->text, err);
}

int mk_nft_add_network(const char *bridge, const char *subnet, mk_error_t *err)
{
  static struct script s;

  s.len = 0;
  s.overflow = false;
  add_table(&s);
  add(&s, "add element ip mocker bridges { \"%s\" }\n", bridge);
  add(&s, "add element ip mocker subnets { %s }\n", subnet);
  return run_built(&s, err);
}

int mk_nft_remove_network(const char *bridge, const char *subnet,
                          mk_error_t *err)
{
  static struct script s;

  int rc = 0;

  /* one at a time: a transaction fails whole when one is gone already */
  s.len = 0;
  s.overflow = false;
  add(&s, "delete element ip mocker bridges { \"%s\" }\n", bridge);
  if (run_built(&s, err) < 0 && err->err != ENOENT)
    rc = -1;
  s.len = 0;
  s.overflow = false;
  add(&s, "delete element ip mocker subnets { %s }\n", subnet);
  if (run_built(&s, err) < 0 && err->err != ENOENT)
    rc = -1;
  return rc;
}

/* "tcp_any { 8080" or "tcp_ip { 127.0.0.1 . 8080": the key part. */
static void add_port_key(struct script *s, const struct mk_nft_port *p)
{
  const char *proto = p->udp ? "udp" : "tcp";
  char ip[INET_ADDRSTRLEN];

  if (p->host_ip.s_addr == htonl(INADDR_ANY)) {
    add(s, "%s_any { %u", proto, p->host_port);
    return;
  }
  inet_ntop(AF_INET, &p->host_ip, ip, sizeof(ip));
  add(s, "%s_ip { %s . %u", proto, ip, p->host_port);
}

static void add_port(struct script *s, const struct mk_nft_port *p)
{
  char dest[INET_ADDRSTRLEN];

  inet_ntop(AF_INET, &p->dest, dest, sizeof(dest));
  add(s, "create element ip mocker ");
  add_port_key(s, p);
  add(s, " : %s . %u }\n", dest, p->dest_port);
}

static void delete_port(struct script *s, const struct mk_nft_port *p)
{
  add(s, "delete element ip mocker ");
  add_port_key(s, p);
  add(s, " }\n");
}

int mk_nft_add_ports(const struct mk_nft_port *p, size_t n, mk_error_t *err)
{
  static struct script s;

  s.len = 0;
  s.overflow = false;
  for (size_t i = 0; i < n; i++)
    add_port(&s, &p[i]);
  return n ? run_built(&s, err) : 0;
}

/* Whether the table maps p's key to dest . p->dest_port: an entry of
 * this container, not of one that took the port since (after a crash and
 * a flushed ruleset, say). */
static int port_is_ours(const struct mk_nft_port *p, struct in_addr dest)
{
  static struct script s;
  char out[1024], want[64], ip[INET_ADDRSTRLEN];
  mk_error_t ignored;

  s.len = 0;
  s.overflow = false;
  add(&s, "get element ip mocker ");
  add_port_key(&s, p);
  add(&s, " }\n");
  inet_ntop(AF_INET, &dest, ip, sizeof(ip));
  snprintf(want, sizeof(want), ": %s . %u }", ip, p->dest_port);
  return !s.overflow &&
         run_script_output(s.text, out, sizeof(out), &ignored) == 0 &&
         strstr(out, want) != NULL;
}

void mk_nft_remove_ports(const struct mk_nft_port *p, size_t n,
                         struct in_addr dest)
{
  static struct script s;
  mk_error_t ignored;

  for (size_t i = 0; i < n; i++) {
    if (!port_is_ours(&p[i], dest))
      continue;
    s.len = 0;
    s.overflow = false;
    delete_port(&s, &p[i]);
    run_built(&s, &ignored);
  }
}

int mk_nft_remove_table(mk_error_t *err)
{
  if (run_script("delete table ip mocker\n", err) < 0 && err->err != ENOENT)
    return -1;
  return 0;
}

/* ---- is the loopback guard in place? ---- */

/* Counts the rules of our table's guard chain in a dump of rules (the
 * kernel filters by table and chain too, but older ones ignore that). */
static int count_guard_rule(const struct nlmsghdr *h, void *data)
{
  const struct nfgenmsg *g = mnl_nlmsg_get_payload(h);
  const char *table = NULL, *chain = NULL;
  const struct nlattr *a;

  if (h->nlmsg_type != ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWRULE) ||
      g->nfgen_family != NFPROTO_IPV4)
    return MNL_CB_OK;
  mnl_attr_for_each(a, h, sizeof(*g))
  {
    int type = mnl_attr_get_type(a);

    if ((type != NFTA_RULE_TABLE && type != NFTA_RULE_CHAIN) ||
        mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0)
      continue;
    *(type == NFTA_RULE_TABLE ? &table : &chain) = mnl_attr_get_str(a);
  }
  if (table && chain && strcmp(table, MK_NFT_TABLE) == 0 &&
      strcmp(chain, MK_NFT_GUARD_CHAIN) == 0)
    (*(unsigned *)data)++;
  return MNL_CB_OK;
}

static int dump_guard_rules(struct mnl_socket *sock, unsigned *count)
{
  char buf[NFNL_DUMP_BUF];
  struct nlmsghdr *h = mnl_nlmsg_put_header(buf);
  struct nfgenmsg *g;
  unsigned seq = (unsigned)time(NULL), portid = mnl_socket_get_portid(sock);
  int rc;

  h->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETRULE;
  h->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  h->nlmsg_seq = seq;
  g = mnl_nlmsg_put_extra_header(h, sizeof(*g));
  g->nfgen_family = NFPROTO_IPV4;
  g->version = NFNETLINK_V0;
  mnl_attr_put_strz(h, NFTA_RULE_TABLE, MK_NFT_TABLE);
  mnl_attr_put_strz(h, NFTA_RULE_CHAIN, MK_NFT_GUARD_CHAIN);
  if (mnl_socket_sendto(sock, h, h->nlmsg_len) < 0)
    return -1;
  do {
    ssize_t n = mnl_socket_recvfrom(sock, buf, sizeof(buf));
    if (n < 0)
      return -1;
    rc = mnl_cb_run(buf, (size_t)n, seq, portid, count_guard_rule, count);
  } while (rc > 0);
  return rc;
}

bool mk_nft_loopback_guarded(void)
{
  struct mnl_socket *sock = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
  unsigned count = 0;
  int rc = -1;

  if (!sock)
    return false;
  if (mnl_socket_bind(sock, 0, MNL_SOCKET_AUTOPID) == 0)
    rc = dump_guard_rules(sock, &count);
  mnl_socket_close(sock);
  return rc == 0 && count == MK_NFT_GUARD_RULES;
}
