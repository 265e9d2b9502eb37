/* The per-container /etc/hostname, /etc/hosts and /etc/resolv.conf. */
#ifndef MK_ETCFILES_H
#define MK_ETCFILES_H

#include <stddef.h>

#include "mk_error.h"

/* Writes the three files into dir. */
int mk_write_etc_files(const char *dir, const char *hostname, mk_error_t *err);

/* The host's resolv.conf minus loopback nameservers (they mean nothing in
 * the container's network namespace); Docker's public defaults when none
 * remain. Writes into out (size bytes). */
void mk_container_resolv_conf(const char *host_text, char *out, size_t size);

#endif
