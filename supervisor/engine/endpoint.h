/* A container's network endpoint: connecting a container to its network
 * (address, veth, routes, published ports, /etc/hosts) with the net/
 * primitives, and reading its network mode from its config. */
#ifndef MK_ENDPOINT_H
#define MK_ENDPOINT_H

#include <jansson.h>

#include "base/context.h"
#include "container.h"
#include "mk_error.h"
#include "net/network.h"

#define MK_MAX_PORTS 64

/* The container's mode, from its config. */
enum mk_net_mode mk_container_net_mode(const struct mk_container *c,
                                       const char **arg);

/* Checks --network at create: the network or container must exist. */
int mk_net_mode_check(const struct mk_ctx *ctx, const char *mode,
                      mk_error_t *err);

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

/* inspect's Containers map: a namer (net/network.h) that opens the
 * container; data is the struct mk_ctx. */
int mk_endpoint_container_name(const char *id, char *name, size_t size,
                               void *data);

#endif
