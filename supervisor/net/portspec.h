/* Parsing `-p/--publish` and `--expose`, Docker's syntax, IPv4 only. */
#ifndef MK_PORTSPEC_H
#define MK_PORTSPEC_H

#include <stdint.h>

#include "mk_error.h"

struct mk_port_spec {
  char host_ip[16];   /* "" for every address */
  uint16_t host_port; /* 0: a free one, chosen at start */
  uint16_t container_port;
  char proto[4]; /* "tcp" or "udp" */
};

/* [hostip:][hostport:]containerport[/tcp|/udp] */
int mk_parse_publish(const char *spec, struct mk_port_spec *p, mk_error_t *err);

/* PORT[/tcp|/udp]: fills container_port and proto. */
int mk_parse_expose(const char *spec, struct mk_port_spec *p, mk_error_t *err);

/* "80/tcp" -> 80, tcp; the ExposedPorts key form. */
int mk_parse_port_key(const char *key, struct mk_port_spec *p);

#endif
