/* mocker's own nftables table, `ip mocker`: masquerade for the bridge
 * networks' subnets, DNAT for published ports, and the loopback guard
 * that drops 127.0.0.0/8 traffic not from lo. Nothing else in the
 * ruleset is touched. The rules are nft's own language, applied as one
 * atomic transaction each through libnftables (loaded with dlopen only
 * when rules change, so a plain `run` never pays for it). */
#ifndef MK_NFT_H
#define MK_NFT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "mk_error.h"

/* Creates the table, its sets, maps and chains if missing (the loopback
 * guard with them, in the same transaction), and adds bridge and subnet
 * to the masquerade sets. Idempotent. */
int mk_nft_add_network(const char *bridge, const char *subnet, mk_error_t *err);

/* Takes bridge and subnet out of those sets (a missing table is fine). */
int mk_nft_remove_network(const char *bridge, const char *subnet,
                          mk_error_t *err);

/* Deletes the whole table (a missing one is fine). */
int mk_nft_remove_table(mk_error_t *err);

/* Whether the loopback guard's chain is in the table with its rules (by
 * count): false when they are gone (a flushed ruleset) or cannot be read.
 * One nfnetlink dump, no libnftables: cheap enough for every start. */
bool mk_nft_loopback_guarded(void);

struct mk_nft_port {
  int udp;
  struct in_addr host_ip; /* INADDR_ANY: every local address */
  uint16_t host_port;
  struct in_addr dest;
  uint16_t dest_port;
};

/* Adds the DNAT entries, all or none; EEXIST names a port some other
 * container has already. */
int mk_nft_add_ports(const struct mk_nft_port *p, size_t n, mk_error_t *err);

/* Removes those that still lead to dest (p[i].dest is ignored); entries
 * gone, or another container's now, are left alone. */
void mk_nft_remove_ports(const struct mk_nft_port *p, size_t n,
                         struct in_addr dest);

#endif
