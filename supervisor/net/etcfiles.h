/* The per-container /etc/hostname, /etc/hosts and /etc/resolv.conf. */
#ifndef MK_ETCFILES_H
#define MK_ETCFILES_H

#include <jansson.h>
#include <stddef.h>

#include "mk_error.h"

#define MK_HOSTS_MAX 65536

/* Another container on the same user network: "ip\tname shortid". */
struct mk_hosts_peer {
  char ip[16];
  char names[320];
};

struct mk_hosts_spec {
  const char *hostname;
  const char *ip;      /* the container's address; NULL: none yet */
  int host_network;    /* --network host: the host's files */
  json_t *extra_hosts; /* HostConfig.ExtraHosts, "name:ip" */
  const char *gateway; /* for "name:host-gateway"; NULL: none */
  const struct mk_hosts_peer *peers;
  size_t npeers;
  int replace;        /* a new file, renamed over: not running yet */
  int hosts_at_start; /* mk_write_etc_files leaves hosts to the network */
};

/* Writes the three files into dir; dns (HostConfig.Dns, may be NULL)
 * replaces the host's nameservers. */
int mk_write_etc_files(const char *dir, const struct mk_hosts_spec *s,
                       json_t *dns, mk_error_t *err);

/* Rewrites dir/hosts in place, so a running container sees the change
 * through its bind mount (s->replace: a fresh file renamed over it, for a
 * container not running yet). */
int mk_write_hosts(const char *dir, const struct mk_hosts_spec *s,
                   mk_error_t *err);

/* The host's resolv.conf minus loopback nameservers (they mean nothing in
 * the container's network namespace); Docker's public defaults when none
 * remain. Writes into out (size bytes). */
void mk_container_resolv_conf(const char *host_text, char *out, size_t size);

#endif
