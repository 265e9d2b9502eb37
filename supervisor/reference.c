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

/* Path components: lowercase alphanumerics joined by . _ __ or -. */
static int valid_path(const char *p)
{
  char prev = '/';

  if (!*p)
    return 0;
  for (const char *c = p; *c; prev = *c++) {
    if (islower((unsigned char)*c) || isdigit((unsigned char)*c))
      continue;
    if (!strchr("._-/", *c) ||
        !(islower((unsigned char)prev) || isdigit((unsigned char)prev) ||
          (*c == '_' && prev == '_') || (*c == '-' && prev == '-')))
      return 0;
  }
  return prev != '/' && !strchr("._-", prev);
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
    name = slash + 1;
  } else {
    snprintf(ref->domain, sizeof(ref->domain), DOCKER_HUB);
  }
  if (split_digest_and_tag(name, ref) < 0 || !valid_path(name))
    goto invalid;
  if (strcmp(ref->domain, DOCKER_HUB) == 0 && !strchr(name, '/'))
    mk_snprintf(ref->path, sizeof(ref->path), "library/%s", name);
  else if (strlen(name) < sizeof(ref->path))
    mk_snprintf(ref->path, sizeof(ref->path), "%s", name);
  else
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

  if (hub && strncmp(path, "library/", 8) == 0)
    path += 8;
  snprintf(out, size, "%s%s%s%s%s", hub ? "" : ref->domain, hub ? "" : "/",
           path, ref->tag[0] ? ":" : "@", ref->tag[0] ? ref->tag : ref->digest);
}
