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
 *                                  address, veth, published ports (written
 *                                  by engine/endpoint.c)
 *
 * A bridge network is a Linux bridge (mocker0 for the default, mk-<id> for
 * user networks) holding the gateway address, created on first use; a
 * container gets a veth pair into it, configured over rtnetlink, and NAT
 * through mocker's nftables table (nft.h). */
#ifndef MK_NETWORK_H
#define MK_NETWORK_H

#include <jansson.h>
#include <netinet/in.h>

#include "base/context.h"
#include "mk_error.h"
#include "base/strv.h"

#define MK_DEFAULT_NETWORK "bridge"
#define MK_DEFAULT_BRIDGE "mocker0"
#define MK_DEFAULT_BIP "10.88.0.1/16"

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

/* Names the container id (for inspect's Containers map): writes its
 * name to name (size bytes), or returns -1 to leave it out. */
typedef int (*mk_endpoint_namer)(const char *id, char *name, size_t size,
                                 void *data);

/* Docker's `network inspect` object; namer names the attached containers. */
json_t *mk_network_to_json(const struct mk_ctx *ctx, const struct mk_network *n,
                           mk_endpoint_namer namer, void *data);

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

#endif
