#include "portspec.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 1..65535 (0 too when zero_ok), all digits. */
static int parse_port(const char *s, size_t len, int zero_ok, uint16_t *out)
{
  char buf[8];
  char *end;
  long v;

  if (len == 0 || len >= sizeof(buf) || strspn(s, "0123456789") < len)
    return -1;
  memcpy(buf, s, len);
  buf[len] = '\0';
  v = strtol(buf, &end, 10);
  if (v > 65535 || (v == 0 && !zero_ok))
    return -1;
  *out = (uint16_t)v;
  return 0;
}

/* Splits off "/proto"; returns the length of what precedes it. */
static int parse_proto(const char *spec, struct mk_port_spec *p, size_t *len)
{
  const char *slash = strchr(spec, '/');

  snprintf(p->proto, sizeof(p->proto), "tcp");
  *len = slash ? (size_t)(slash - spec) : strlen(spec);
  if (!slash)
    return 0;
  if (strcmp(slash + 1, "tcp") != 0 && strcmp(slash + 1, "udp") != 0)
    return -1;
  snprintf(p->proto, sizeof(p->proto), "%s", slash + 1);
  return 0;
}

int mk_parse_expose(const char *spec, struct mk_port_spec *p, mk_error_t *err)
{
  size_t len;

  memset(p, 0, sizeof(*p));
  if (parse_proto(spec, p, &len) < 0 ||
      parse_port(spec, len, 0, &p->container_port) < 0)
    return mk_error_set(err, EINVAL,
                        "invalid port `%s`: want PORT[/tcp|/udp], "
                        "PORT 1-65535",
                        spec);
  return 0;
}

int mk_parse_port_key(const char *key, struct mk_port_spec *p)
{
  mk_error_t ignored;

  return mk_parse_expose(key, p, &ignored);
}

static int valid_ipv4(const char *s, size_t len, char out[16])
{
  struct in_addr a;

  if (len >= 16)
    return -1;
  memcpy(out, s, len);
  out[len] = '\0';
  return inet_pton(AF_INET, out, &a) == 1 ? 0 : -1;
}

/* The colon-separated fields before "/proto": cport, host:cport, or
 * ip:host:cport (host may be empty). */
static int parse_fields(const char *s, size_t len, struct mk_port_spec *p)
{
  const char *f[3];
  size_t n[3], count = 0;
  const char *start = s, *end = s + len;

  while (count < 3) {
    const char *colon = memchr(start, ':', (size_t)(end - start));
    f[count] = start;
    n[count++] = colon ? (size_t)(colon - start) : (size_t)(end - start);
    if (!colon)
      break;
    start = colon + 1;
  }
  if (f[count - 1] + n[count - 1] != end)
    return -1; /* a fourth field */
  if (parse_port(f[count - 1], n[count - 1], 0, &p->container_port) < 0)
    return -1;
  if (count >= 2 && n[count - 2] &&
      parse_port(f[count - 2], n[count - 2], 1, &p->host_port) < 0)
    return -1;
  if (count == 2 && n[0] == 0)
    return -1; /* ":80" */
  if (count == 3 && valid_ipv4(f[0], n[0], p->host_ip) < 0)
    return -1;
  return 0;
}

int mk_parse_publish(const char *spec, struct mk_port_spec *p, mk_error_t *err)
{
  size_t len;

  memset(p, 0, sizeof(*p));
  if (strchr(spec, '-'))
    return mk_error_set(err, EINVAL,
                        "invalid publish `%s`: port ranges are not "
                        "supported; give one -p per port",
                        spec);
  if (parse_proto(spec, p, &len) < 0 || parse_fields(spec, len, p) < 0)
    return mk_error_set(err, EINVAL,
                        "invalid publish `%s`: want "
                        "[hostip:][hostport:]containerport[/tcp|/udp] with "
                        "an IPv4 hostip and ports 1-65535",
                        spec);
  if (strcmp(p->host_ip, "0.0.0.0") == 0)
    p->host_ip[0] = '\0';
  return 0;
}
