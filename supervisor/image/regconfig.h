/* Registry settings a user configures outside mocker:
 * - $MOCKER_CONFIG_DIR (default /etc/mocker)/config.json, with Docker
 *   daemon.json's keys "insecure-registries" and "registry-mirrors";
 * - per-registry CAs in <config dir>/certs.d/<host>/ca.crt and
 *   /etc/docker/certs.d/<host>/ca.crt;
 * - credentials in the Docker client's $DOCKER_CONFIG/config.json
 *   (default ~/.docker/config.json) "auths" map. */
#ifndef MK_REGCONFIG_H
#define MK_REGCONFIG_H

#include <limits.h>
#include <stddef.h>

#include "mk_error.h"

#define MK_DOCKER_HUB_KEY "https://index.docker.io/v1/"

/* Whether plain HTTP may be used for host: it is listed as insecure, or it
 * is on loopback (as Docker allows). */
int mk_registry_is_insecure(const char *host);

/* "host:port" -> "host"; "[::1]:5000" -> "::1" (out is size bytes). */
void mk_registry_host_name(const char *host, char *out, size_t size);

/* Whether host is listed in insecure-registries: then even its HTTPS
 * certificate is not verified (Docker's meaning of the setting). */
int mk_registry_listed_insecure(const char *host);

/* Mirrors configured for docker.io, in order ("https://mirror:5000"). The
 * returned array and strings are heap-allocated, NULL-terminated. */
char **mk_registry_mirrors(void);
void mk_strings_free(char **v);

/* A CA file for host if one is configured, else "" (out is PATH_MAX). */
void mk_registry_ca_file(const char *host, char out[PATH_MAX]);

/* "user:password" for host from the Docker credentials, or NULL. */
char *mk_registry_credentials(const char *host);

/* The Docker config file path ($DOCKER_CONFIG or ~/.docker). */
void mk_docker_config_path(char out[PATH_MAX]);

/* Base64 helpers for the "auth" field (nettle). Return heap strings. */
char *mk_base64_encode(const char *in);
char *mk_base64_decode(const char *in);

#endif
