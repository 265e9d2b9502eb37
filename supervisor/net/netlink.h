/* rtnetlink through libmnl: the links, addresses and routes of bridge
 * networking. Each mk_nl talks to the network namespace it was opened in,
 * whatever namespace the process moves to afterwards. */
#ifndef MK_NETLINK_H
#define MK_NETLINK_H

#include <netinet/in.h>
#include <stdint.h>

#include "mk_error.h"

struct mnl_socket;

struct mk_nl {
  struct mnl_socket *sock;
  unsigned seq, portid;
};

/* Opens a NETLINK_ROUTE socket in the caller's network namespace. */
int mk_nl_open(struct mk_nl *nl, mk_error_t *err);

/* Opens one in the network namespace of the process behind pidfd, and an
 * fd of that namespace (*netns_fd): the caller (single-threaded) enters
 * it for those two calls only. */
int mk_nl_open_in(struct mk_nl *nl, int pidfd, int *netns_fd, mk_error_t *err);

void mk_nl_close(struct mk_nl *nl);

/* The index of link name, 0 when there is none. */
int mk_nl_link_index(struct mk_nl *nl, const char *name, mk_error_t *err);

/* A bridge, down, with no address. EEXIST when the name is taken. */
int mk_nl_add_bridge(struct mk_nl *nl, const char *name, mk_error_t *err);

/* A veth pair: host_name up and enslaved to master (an ifindex), its peer
 * peer_name created directly in the network namespace netns_fd, with
 * MAC address mac. */
struct mk_veth {
  const char *host_name;
  int master;
  const char *peer_name;
  int netns_fd;
  uint8_t mac[6];
};
int mk_nl_add_veth(struct mk_nl *nl, const struct mk_veth *v, mk_error_t *err);

/* Sets link index up. */
int mk_nl_link_up(struct mk_nl *nl, int index, mk_error_t *err);

/* Deletes link name; 0 if it did not exist. */
int mk_nl_link_del(struct mk_nl *nl, const char *name, mk_error_t *err);

/* Adds addr/prefix to link index: 0 when added, 1 when it was there. */
int mk_nl_addr_add(struct mk_nl *nl, int index, struct in_addr addr, int prefix,
                   mk_error_t *err);

/* The default route via gw. */
int mk_nl_route_default(struct mk_nl *nl, struct in_addr gw, mk_error_t *err);

#endif
