#include "regconfig.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <nettle/base64.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mk_util.h"
#include "base/context.h"
#include "base/strv.h"

static json_t *load_daemon_config(void)
{
  char dir[PATH_MAX], path[PATH_MAX];

  mk_config_dir(dir);
  if (mk_snprintf(path, sizeof(path), "%s/config.json", dir) < 0)
    return NULL;
  return json_load_file(path, 0, NULL);
}

void mk_registry_host_name(const char *host, char *out, size_t size)
{
  const char *end;

  if (host[0] == '[') {
    end = strchr(host, ']');
    snprintf(out, size, "%.*s", end ? (int)(end - host - 1) : 0, host + 1);
    return;
  }
  end = strrchr(host, ':');
  snprintf(out, size, "%.*s", end ? (int)(end - host) : (int)strlen(host),
           host);
}

static int is_loopback(const char *host)
{
  char h[256];
  struct in_addr a4;
  struct in6_addr a6;

  mk_registry_host_name(host, h, sizeof(h));
  if (strcmp(h, "localhost") == 0)
    return 1;
  if (inet_pton(AF_INET, h, &a4) == 1)
    return (ntohl(a4.s_addr) >> 24) == 127;
  return inet_pton(AF_INET6, h, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

int mk_registry_is_insecure(const char *host)
{
  return is_loopback(host) || mk_registry_listed_insecure(host);
}

int mk_registry_listed_insecure(const char *host)
{
  json_t *cfg, *list, *v;
  size_t i;
  int found = 0;

  cfg = load_daemon_config();
  list = json_object_get(cfg, "insecure-registries");
  json_array_foreach(list, i, v)
  {
    const char *s = json_string_value(v);
    if (s && strcmp(s, host) == 0)
      found = 1;
  }
  json_decref(cfg);
  return found;
}

char **mk_registry_mirrors(void)
{
  json_t *cfg = load_daemon_config(), *v;
  struct mk_strv out = {0};
  size_t i;

  json_array_foreach(json_object_get(cfg, "registry-mirrors"), i, v)
  {
    const char *s = json_string_value(v);
    if (s && *s) {
      size_t n = strlen(s);
      mk_strv_pushf(&out, "%.*s", (int)(n && s[n - 1] == '/' ? n - 1 : n), s);
    }
  }
  json_decref(cfg);
  if (!out.v)
    out.v = calloc(1, sizeof(char *));
  return out.v;
}

void mk_strings_free(char **v)
{
  for (size_t i = 0; v && v[i]; i++)
    free(v[i]);
  free(v);
}

void mk_registry_ca_file(const char *host, char out[PATH_MAX])
{
  char dir[PATH_MAX];

  mk_config_dir(dir);
  if (mk_snprintf(out, PATH_MAX, "%s/certs.d/%s/ca.crt", dir, host) == 0 &&
      access(out, R_OK) == 0)
    return;
  if (mk_snprintf(out, PATH_MAX, "/etc/docker/certs.d/%s/ca.crt", host) == 0 &&
      access(out, R_OK) == 0)
    return;
  out[0] = '\0';
}

void mk_docker_config_path(char out[PATH_MAX])
{
  const char *dir = getenv("DOCKER_CONFIG");
  const char *home = getenv("HOME");

  if (dir && *dir)
    mk_snprintf(out, PATH_MAX, "%s/config.json", dir);
  else
    mk_snprintf(out, PATH_MAX, "%s/.docker/config.json",
                home && *home ? home : "/root");
}

char *mk_base64_encode(const char *in)
{
  size_t n = strlen(in);
  char *out = mk_xmalloc(BASE64_ENCODE_RAW_LENGTH(n) + 1);

  base64_encode_raw(out, n, (const uint8_t *)in);
  out[BASE64_ENCODE_RAW_LENGTH(n)] = '\0';
  return out;
}

char *mk_base64_decode(const char *in)
{
  struct base64_decode_ctx ctx;
  size_t n = strlen(in), outlen = BASE64_DECODE_LENGTH(n);
  uint8_t *out = mk_xmalloc(outlen + 1);

  base64_decode_init(&ctx);
  if (!base64_decode_update(&ctx, &outlen, out, n, in) ||
      !base64_decode_final(&ctx)) {
    free(out);
    return NULL;
  }
  out[outlen] = '\0';
  return (char *)out;
}

/* Docker keys Hub credentials by its v1 index URL. */
static const char *auth_key_for(const char *host)
{
  if (strcmp(host, "docker.io") == 0 ||
      strcmp(host, "registry-1.docker.io") == 0 ||
      strcmp(host, "index.docker.io") == 0)
    return MK_DOCKER_HUB_KEY;
  return host;
}

char *mk_registry_credentials(const char *host)
{
  char path[PATH_MAX];
  json_t *cfg, *entry;
  const char *key = auth_key_for(host), *auth;
  char *creds = NULL;

  mk_docker_config_path(path);
  cfg = json_load_file(path, 0, NULL);
  entry = json_object_get(json_object_get(cfg, "auths"), key);
  if (!entry) { /* Docker also accepts "https://host" keys */
    char alt[300];
    snprintf(alt, sizeof(alt), "https://%s", host);
    entry = json_object_get(json_object_get(cfg, "auths"), alt);
  }
  auth = json_string_value(json_object_get(entry, "auth"));
  if (auth && *auth)
    creds = mk_base64_decode(auth);
  if (creds && !strchr(creds, ':')) {
    free(creds);
    creds = NULL;
  }
  json_decref(cfg);
  return creds;
}
