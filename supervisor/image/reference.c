#include "reference.h"

#include "mk_util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define DOCKER_HUB "docker.io"

static int valid_tag(const char *t)
{
  size_t n = strlen(t);

  if (n == 0 || n > 128 || !(isalnum((unsigned char)t[0]) || t[0] == '_'))
    return 0;
  return strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                   "0123456789_.-") == n;
}

static int valid_digest(const char *d)
{
  return strncmp(d, "sha256:", 7) == 0 && strlen(d) == 71 &&
         strspn(d + 7, "0123456789abcdef") == 64;
}

static int is_lower_alnum(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* One path component: [a-z0-9]+ joined by "." or "_" or "__" or "-"+. */
static int valid_component(const char *c, size_t n)
{
  size_t i = 0;

  if (n == 0)
    return 0;
  while (i < n) {
    size_t run = 0;
    while (i < n && is_lower_alnum(c[i]))
      i++, run++;
    if (run == 0)
      return 0;
    if (i == n)
      return 1;
    size_t sep = i;
    if (c[i] == '.')
      i++;
    else if (c[i] == '_')
      i += (i + 1 < n && c[i + 1] == '_') ? 2 : 1;
    else if (c[i] == '-')
      while (i < n && c[i] == '-')
        i++;
    if (i == sep || i == n)
      return 0;
  }
  return 1;
}

static int valid_path(const char *p)
{
  if (!*p)
    return 0;
  for (;;) {
    const char *slash = strchr(p, '/');
    size_t n = slash ? (size_t)(slash - p) : strlen(p);
    if (!valid_component(p, n))
      return 0;
    if (!slash)
      return 1;
    p = slash + 1;
  }
}

/* Dot-separated labels of [A-Za-z0-9-], none starting or ending in '-'. */
static int valid_host(const char *h, size_t n)
{
  size_t i = 0;

  while (i < n) {
    size_t start = i;
    while (i < n && h[i] != '.') {
      if (!isalnum((unsigned char)h[i]) && h[i] != '-')
        return 0;
      i++;
    }
    if (i == start || h[start] == '-' || h[i - 1] == '-')
      return 0;
    if (i < n && ++i == n)
      return 0; /* trailing dot */
  }
  return n > 0;
}

/* host[:port], a bracketed IPv6 address allowed. */
static int valid_domain(const char *d)
{
  size_t n = strlen(d);
  const char *port = NULL;

  if (d[0] == '[') {
    const char *end = strchr(d, ']');
    if (!end || end == d + 1 || !memchr(d + 1, ':', (size_t)(end - d - 1)) ||
        strspn(d + 1, "0123456789abcdefABCDEF:") != (size_t)(end - d - 1))
      return 0;
    port = end[1] == ':' ? end + 2 : NULL;
    return end[1] == '\0' ||
           (port && *port && strspn(port, "0123456789") == strlen(port));
  }
  port = strchr(d, ':');
  size_t host_len = port ? (size_t)(port - d) : n;
  if (!valid_host(d, host_len))
    return 0;
  return !port ||
         (port[1] && strspn(port + 1, "0123456789") == strlen(port + 1));
}

static int looks_like_host(const char *first, size_t n)
{
  return memchr(first, '.', n) || memchr(first, ':', n) ||
         (n == 9 && strncmp(first, "localhost", 9) == 0);
}

static int split_digest_and_tag(char *rest, struct mk_ref *ref)
{
  char *at = strchr(rest, '@');
  char *slash, *colon;

  if (at) {
    *at = '\0';
    if (!valid_digest(at + 1))
      return -1;
    snprintf(ref->digest, sizeof(ref->digest), "%s", at + 1);
  }
  slash = strrchr(rest, '/');
  colon = strrchr(rest, ':');
  if (colon && (!slash || colon > slash)) {
    *colon = '\0';
    if (!valid_tag(colon + 1))
      return -1;
    snprintf(ref->tag, sizeof(ref->tag), "%s", colon + 1);
  } else if (!at) {
    snprintf(ref->tag, sizeof(ref->tag), "latest");
  }
  return 0;
}

int mk_ref_parse(const char *text, struct mk_ref *ref, mk_error_t *err)
{
  char buf[512];
  char *name = buf, *slash;

  memset(ref, 0, sizeof(*ref));
  if (strlen(text) >= sizeof(buf) || !*text)
    goto invalid;
  snprintf(buf, sizeof(buf), "%s", text);
  slash = strchr(buf, '/');
  if (slash && looks_like_host(buf, (size_t)(slash - buf))) {
    *slash = '\0';
    if ((size_t)(slash - buf) >= sizeof(ref->domain))
      goto invalid;
    mk_snprintf(ref->domain, sizeof(ref->domain), "%s", buf);
    if (!valid_domain(ref->domain))
      goto invalid;
    if (strcmp(ref->domain, "index.docker.io") == 0)
      snprintf(ref->domain, sizeof(ref->domain), DOCKER_HUB);
    name = slash + 1;
  } else {
    snprintf(ref->domain, sizeof(ref->domain), DOCKER_HUB);
  }
  if (split_digest_and_tag(name, ref) < 0 || !valid_path(name))
    goto invalid;
  if (strcmp(ref->domain, DOCKER_HUB) == 0 && !strchr(name, '/')) {
    if (mk_snprintf(ref->path, sizeof(ref->path), "library/%s", name) < 0)
      goto invalid;
  } else if (mk_snprintf(ref->path, sizeof(ref->path), "%s", name) < 0) {
    goto invalid;
  }
  if (strlen(ref->domain) + 1 + strlen(ref->path) > 255)
    goto invalid;
  return 0;
invalid:
  return mk_error_set(err, EINVAL, "invalid reference format: `%s`", text);
}

void mk_ref_name(const struct mk_ref *ref, char *out, size_t size)
{
  if (ref->tag[0])
    snprintf(out, size, "%s/%s:%s", ref->domain, ref->path, ref->tag);
  else
    snprintf(out, size, "%s/%s@%s", ref->domain, ref->path, ref->digest);
}

void mk_ref_display(const struct mk_ref *ref, char *out, size_t size)
{
  const char *path = ref->path;
  int hub = strcmp(ref->domain, DOCKER_HUB) == 0;

  if (hub && strncmp(path, "library/", 8) == 0 && !strchr(path + 8, '/'))
    path += 8;
  snprintf(out, size, "%s%s%s%s%s", hub ? "" : ref->domain, hub ? "" : "/",
           path, ref->tag[0] ? ":" : "@", ref->tag[0] ? ref->tag : ref->digest);
}
