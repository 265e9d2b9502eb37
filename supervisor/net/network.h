/* Container networks, Docker's model.
 *
 *   networks/<name>/network.json   a user network (the default `bridge`
 *                                  takes its subnet from `bip` in
 *                                  /etc/mocker/config.json;
 *                                  $MOCKER_CONFIG_DIR moves /etc/mocker)
 *   networks/<name>/ips/<address>  one file per address in use, holding
 *                                  the container id; created with O_EXCL
 *                                  under a flock on networks/<name>
 *   networks/<name>/last           the last address handed out: the next
 *                                  search starts after it
 *   containers/<id>/network.json   the container's endpoint while it runs:
 *                                  address, veth, published ports
 *
 * A bridge network is a Linux bridge (mocker0 for the default, mk-<id> for
 * user networks) holding the gateway address, created on first use; a
 * container gets a veth pair into it, configured over rtnetlink, and NAT
 * through mocker's nftables table (nft.h). */
#ifndef MK_NETWORK_H
#define MK_NETWORK_H

#include <jansson.h>
#include <netinet/in.h>

#include "engine/container.h"
#include "base/context.h"
#include "mk_error.h"
#include "base/strv.h"

#define MK_DEFAULT_NETWORK "bridge"
#define MK_DEFAULT_BRIDGE "mocker0"
#define MK_DEFAULT_BIP "10.88.0.1/16"
#define MK_MAX_PORTS 64

struct mk_network {
  char name[128];
  char id[65];
  char bridge[16];
  struct in_addr subnet, gateway;
  int prefix;
  char created[40];
};

enum mk_net_mode { MK_NET_BRIDGE, MK_NET_NONE, MK_NET_HOST, MK_NET_CONTAINER };

/* HostConfig.NetworkMode: "bridge", a user network's name, "none",
 * "host" or "container:<name|id>"; *arg gets the network or container. */
enum mk_net_mode mk_net_mode_of(const char *mode, const char **arg);

/* The container's mode, from its config. */
enum mk_net_mode mk_container_net_mode(const struct mk_container *c,
                                       const char **arg);

/* Checks --network at create: the network or container must exist. */
int mk_net_mode_check(const struct mk_ctx *ctx, const char *mode,
                      mk_error_t *err);

int mk_network_load(const struct mk_ctx *ctx, const char *name,
                    struct mk_network *n, mk_error_t *err);

/* subnet and gateway may be NULL: a free 10.89.N.0/24 and its .1. */
int mk_network_create(const struct mk_ctx *ctx, const char *name,
                      const char *subnet, const char *gateway,
                      struct mk_network *out, mk_error_t *err);

/* Refuses while containers are attached; takes the bridge and its
 * nftables entries away. */
int mk_network_remove(const struct mk_ctx *ctx, const char *name,
                      mk_error_t *err);

/* Removes unused user networks (their names go to removed), and takes
 * the default bridge's link and rules down if no container uses it. */
int mk_network_prune(const struct mk_ctx *ctx, struct mk_strv *removed);

/* Every network (bridge first, then user networks by name); stops when fn
 * returns non-zero. */
int mk_network_foreach(const struct mk_ctx *ctx,
                       int (*fn)(const struct mk_network *n, void *data),
                       void *data);

/* Docker's `network inspect` object. */
json_t *mk_network_to_json(const struct mk_ctx *ctx,
                           const struct mk_network *n);

/* "10.88.0.0/16" */
void mk_network_subnet_text(const struct mk_network *n, char out[20]);

/* For endpoint.c. The directory networks/<name>: */
int mk_network_dir(const struct mk_ctx *ctx, const char *name,
                   char out[PATH_MAX], mk_error_t *err);

/* The flock on networks/ itself: creation, and the nftables network
 * sets and table, which all networks share. Taken after a network's own
 * lock, never before. Returns the fd to close. */
int mk_networks_lock(const struct mk_ctx *ctx, mk_error_t *err);

/* Claims a free address for container id; under the network's lock. */
int mk_network_allocate_ip(const struct mk_ctx *ctx, const struct mk_network *n,
                           const char *id, struct in_addr *out,
                           mk_error_t *err);

/* Frees ip if container id holds it. */
void mk_network_release_ip(const struct mk_ctx *ctx, const struct mk_network *n,
                           const char *ip, const char *id);

/* fn(ip, container id) for each address in use; stops on non-zero. */
int mk_network_foreach_endpoint(
    const struct mk_ctx *ctx, const struct mk_network *n,
    int (*fn)(const char *ip, const char *id, void *data), void *data);

/* Sockets that hold the published host ports for the container's life,
 * so nothing else on the host can take them. */
struct mk_net_held {
  int fds[MK_MAX_PORTS];
  size_t n;
};
void mk_net_held_close(struct mk_net_held *h);

/* Connects the container whose init is pidfd (stopped before its config,
 * in a fresh network namespace) to its bridge network: address, veth,
 * routes, published ports, /etc/hosts. All or nothing. */
int mk_net_attach(const struct mk_ctx *ctx, struct mk_container *c, int pidfd,
                  struct mk_net_held *held, mk_error_t *err);

/* Undoes mk_net_attach; safe to repeat, and after a crash. */
void mk_net_detach(const struct mk_ctx *ctx, const struct mk_container *c);

/* --network container:X: an fd of X's network namespace (X must run),
 * and X's hosts and resolv.conf copied in. */
int mk_net_join_fd(const struct mk_ctx *ctx, struct mk_container *c,
                   mk_error_t *err);

/* NetworkSettings for inspect, from the endpoint while it runs. */
json_t *mk_net_settings(const struct mk_container *c);

#endif
