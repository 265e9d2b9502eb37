/* libFuzzer target for the `mocker run` spec parsers (supervisor/cli/cli.c,
 * supervisor/net/portspec.c), driven through mk_parse_run_args exactly as the
 * command line reaches them:
 *   {"run", "-v", DATA, "busybox"}, {"run", "--volume=DATA", "busybox"},
 *   {"run", "--tmpfs", DATA, "busybox"}, {"run", "--tmpfs=DATA", "busybox"},
 *   {"run", "-p", DATA, "busybox"}, {"run", "--publish=DATA", "busybox"},
 *   {"run", "--expose", DATA, "busybox"}, {"run", "--expose=DATA", "busybox"}.
 * DATA is the input up to its first NUL (argv strings cannot hold one).
 *
 * Properties, for any input:
 *   - no memory error, no leak (mk_run_opts_free releases everything, after
 *     success and after failure), no undefined behaviour;
 *   - a failure leaves a non-empty, NUL-terminated message;
 *   - the separate-argument and "=" forms give the same result;
 *   - -v is accepted exactly when DATA is SOURCE:TARGET or
 *     SOURCE:TARGET:MODE with TARGET a mount destination (absolute, no
 *     control character, shorter than PATH_MAX, not "/" once cleaned, no
 *     ".." component), MODE "ro" or "rw", and SOURCE absolute or a valid
 *     volume name ([a-zA-Z0-9][a-zA-Z0-9_.-]+, at most 128 characters);
 *     then there is exactly one volume whose source and target are those
 *     fields, named when SOURCE is not absolute, read-only exactly for
 *     "ro", and the image is still "busybox" with no command;
 *   - --tmpfs is accepted exactly when the path (up to the first ':') is
 *     a mount destination, as for -v; then there is exactly one tmpfs with
 *     that target, whose flags start as nosuid,nodev,noexec and follow the
 *     ro/rw, suid/nosuid, dev/nodev, exec/noexec options in order, and
 *     whose data is the other non-empty options joined by ',' in order (no
 *     empty option, no leading or trailing comma), a size= among them in
 *     the kernel's form (bytes or N%): a plain number is its bytes, zero
 *     and a size with a character no size has are refused;
 *   - -p is accepted exactly when DATA is [[HOSTIP:]HOSTPORT:]PORT[/PROTO]
 *     with PORT 1-65535; HOSTPORT 0-65535, present when there is one colon
 *     and possibly empty when there are two; HOSTIP a dotted-quad IPv4
 *     address (parts 0-255, no leading zeros); PROTO "tcp" or "udp"; no
 *     more than two colons; a port being 1 to 7 decimal digits (mocker's
 *     cap; Docker takes any number of leading zeros). Then the spec has
 *     exactly one port, nothing else is set, and the port has those
 *     fields (HOSTIP 0.0.0.0 as "", a missing
 *     or empty HOSTPORT as 0, PROTO "tcp" by default);
 *   - --expose is accepted exactly when DATA is PORT[/PROTO], same rules;
 *     then expose has exactly one entry, "PORT/PROTO" with PORT in decimal
 *     without leading zeros.
 * The oracles are written independently of cli.c and portspec.c, from the
 * rules above.
 *
 * Build and run: see tests/fuzz/README.md.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "mk_proto.h"
#include "net/portspec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *input;

static void fail(const char *what, const char *detail)
{
  fprintf(stderr, "fuzz_cli_specs: %s\n  input:  `%s`\n  detail: `%s`\n", what,
          input, detail);
  abort();
}

/* Runs mk_parse_run_args on a copy of argv (it may keep pointers into it,
 * so the copy lives until the options are freed). */
static int parse(char **argv, int argc, struct mk_run_opts *o)
{
  mk_error_t err;
  int rc = mk_parse_run_args(argc, argv, o, &err);

  if (rc < 0 && (!memchr(err.msg, '\0', sizeof(err.msg)) || !err.msg[0]))
    fail("failure without a message", "");
  if (rc == 0 && (!o->spec.image || strcmp(o->spec.image, "busybox") != 0 ||
                  o->spec.cmd.n))
    fail("the spec changed the image or the command", o->spec.image);
  return rc;
}

static char *joined(const char *flag, const char *value)
{
  size_t n = strlen(flag) + strlen(value) + 2;
  char *s = malloc(n);

  if (!s)
    abort();
  snprintf(s, n, "%s=%s", flag, value);
  return s;
}

/* ---- -v ---- */

static int is_alnum(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9');
}

/* The first n bytes of p name the root: every component is empty, "."
 * or "..". */
static int names_root(const char *p, size_t n)
{
  size_t start = 0;

  for (size_t i = 0; i <= n; i++) {
    if (i < n && p[i] != '/')
      continue;
    size_t len = i - start;
    if (len > 2 || (len >= 1 && p[start] != '.') ||
        (len == 2 && p[start + 1] != '.'))
      return 0;
    start = i + 1;
  }
  return 1;
}

/* The first n bytes of p have a component that is exactly "..". */
static int has_dotdot(const char *p, size_t n)
{
  size_t start = 0;

  for (size_t i = 0; i <= n; i++) {
    if (i < n && p[i] != '/')
      continue;
    if (i - start == 2 && p[start] == '.' && p[start + 1] == '.')
      return 1;
    start = i + 1;
  }
  return 0;
}

static int valid_destination(const char *p, size_t n)
{
  if (n == 0 || n >= 4096 || p[0] != '/')
    return 0;
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)p[i] < 0x20 || (unsigned char)p[i] == 0x7f)
      return 0;
  return !names_root(p, n) && !has_dotdot(p, n);
}

static int valid_volume_name(const char *s, size_t n)
{
  if (n < 2 || n > 128 || !is_alnum(s[0]))
    return 0;
  for (size_t i = 1; i < n; i++)
    if (!is_alnum(s[i]) && !strchr("_.-", s[i]))
      return 0;
  return 1;
}

struct vol_spec {
  int ok, named, read_only;
  const char *src, *dst;
  size_t src_n, dst_n;
};

static void expect_volume(const char *s, struct vol_spec *v)
{
  const char *c1 = strchr(s, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
  const char *mode = c2 ? c2 + 1 : NULL;

  memset(v, 0, sizeof(*v));
  if (!c1 || (mode && strchr(mode, ':')))
    return; /* one part, or more than three */
  v->src = s;
  v->src_n = (size_t)(c1 - s);
  v->dst = c1 + 1;
  v->dst_n = c2 ? (size_t)(c2 - v->dst) : strlen(v->dst);
  v->named = v->src_n == 0 || s[0] != '/';
  v->read_only = mode && strcmp(mode, "ro") == 0;
  v->ok = valid_destination(v->dst, v->dst_n) &&
          (!mode || v->read_only || strcmp(mode, "rw") == 0) &&
          (!v->named || valid_volume_name(v->src, v->src_n));
}

static int same_span(const char *got, const char *p, size_t n)
{
  return strlen(got) == n && memcmp(got, p, n) == 0;
}

static void check_volume(const struct mk_run_opts *o, int rc)
{
  struct vol_spec v;

  expect_volume(input, &v);
  if ((rc == 0) != v.ok)
    fail(rc == 0 ? "-v accepted a malformed spec" : "-v refused a valid spec",
         "");
  if (rc < 0)
    return;
  if (o->spec.nmounts != 1 || o->spec.mounts[0].kind == MK_SPEC_TMPFS)
    fail("-v did not give exactly one volume", "");
  const struct mk_mount_spec *m = &o->spec.mounts[0];
  if (!same_span(m->source, v.src, v.src_n) ||
      !same_span(m->target, v.dst, v.dst_n))
    fail("-v source or target differs from the spec", m->source);
  if ((m->kind == MK_SPEC_VOLUME) != v.named || m->read_only != v.read_only)
    fail("-v named or read-only flag differs from the spec", "");
}

static void same_volumes(const struct mk_run_opts *a,
                         const struct mk_run_opts *b)
{
  const struct mk_mount_spec *ma = a->spec.mounts, *mb = b->spec.mounts;

  if (a->spec.nmounts != b->spec.nmounts)
    fail("-v and --volume= disagree", "");
  for (size_t i = 0; i < a->spec.nmounts; i++)
    if (strcmp(ma[i].source, mb[i].source) != 0 ||
        strcmp(ma[i].target, mb[i].target) != 0 || ma[i].kind != mb[i].kind ||
        ma[i].read_only != mb[i].read_only)
      fail("-v and --volume= disagree", ma[i].target);
}

static void fuzz_volume(void)
{
  char *sep[] = {"run", "-v", (char *)input, "busybox", NULL};
  char *eq_arg = joined("--volume", input);
  char *eq[] = {"run", eq_arg, "busybox", NULL};
  struct mk_run_opts a, b;
  int ra = parse(sep, 4, &a), rb = parse(eq, 3, &b);

  check_volume(&a, ra);
  if (ra != rb)
    fail("-v and --volume= disagree on success", "");
  same_volumes(&a, &b);
  mk_run_opts_free(&a);
  mk_run_opts_free(&b);
  free(eq_arg);
}

/* ---- --tmpfs ---- */

static const struct {
  const char *name;
  unsigned set, clear;
} tmpfs_flags[] = {
    {"ro", MK_MNT_RDONLY, 0},     {"rw", 0, MK_MNT_RDONLY},
    {"nosuid", MK_MNT_NOSUID, 0}, {"suid", 0, MK_MNT_NOSUID},
    {"nodev", MK_MNT_NODEV, 0},   {"dev", 0, MK_MNT_NODEV},
    {"noexec", MK_MNT_NOEXEC, 0}, {"exec", 0, MK_MNT_NOEXEC},
};

/* What the oracle knows of a tmpfs size= value: plain positive numbers
 * of up to 18 digits become that many bytes, N% (1 to 3 digits) stays;
 * zero, and anything with a character no size has, is refused. Sizes with
 * units or fractions are left to the byte-size validator's own unit tests
 * (check_validate): SIZE_UNKNOWN. */
enum { SIZE_OK, SIZE_BAD, SIZE_UNKNOWN };
static int size_kind;

static void expect_size(const char *v, size_t n, char *data)
{
  size_t digits = 0;

  while (digits < n && v[digits] >= '0' && v[digits] <= '9')
    digits++;
  if (digits == n && n > 0 && n <= 18) {
    unsigned long long bytes = 0;
    for (size_t i = 0; i < n; i++)
      bytes = bytes * 10 + (unsigned)(v[i] - '0');
    if (bytes == 0) {
      size_kind = SIZE_BAD;
      return;
    }
    sprintf(data + strlen(data), "%ssize=%llu", *data ? "," : "", bytes);
  } else if (digits > 0 && digits <= 3 && digits + 1 == n && v[digits] == '%') {
    sprintf(data + strlen(data), "%ssize=%.*s", *data ? "," : "", (int)n, v);
  } else if (n > 0 && strspn(v, "0123456789.bkmgtpiBKMGTPI") >= n) {
    if (size_kind != SIZE_BAD)
      size_kind = SIZE_UNKNOWN;
  } else {
    size_kind = SIZE_BAD;
  }
}

/* Applies one option of n bytes at p to *flags, or appends it to data. */
static void expect_option(const char *p, size_t n, unsigned *flags, char *data)
{
  for (size_t i = 0; i < sizeof(tmpfs_flags) / sizeof(tmpfs_flags[0]); i++)
    if (same_span(tmpfs_flags[i].name, p, n)) {
      *flags = (*flags | tmpfs_flags[i].set) & ~tmpfs_flags[i].clear;
      return;
    }
  if (n >= 5 && memcmp(p, "size=", 5) == 0) {
    expect_size(p + 5, n - 5, data);
    return;
  }
  if (*data)
    strcat(data, ",");
  strncat(data, p, n);
}

/* data without its size= options, which SIZE_UNKNOWN cannot predict;
 * those left must be in the kernel's form, plain bytes or N%. */
static char *without_sizes(const char *data)
{
  char *out = calloc(1, strlen(data) + 1);

  if (!out)
    abort();
  for (const char *p = data; *p;) {
    size_t n = strcspn(p, ",");
    if (n >= 5 && memcmp(p, "size=", 5) == 0) {
      if (strspn(p + 5, "0123456789") < n - 6 ||
          (strspn(p + 5, "0123456789") == n - 6 && p[n - 1] != '%'))
        fail("--tmpfs passed a size the kernel may misread", data);
    } else {
      if (*out)
        strcat(out, ",");
      strncat(out, p, n);
    }
    p += n + (p[n] == ',');
  }
  return out;
}

static void check_tmpfs(const struct mk_run_opts *o, int rc)
{
  const char *colon = strchr(input, ':');
  size_t path_n = colon ? (size_t)(colon - input) : strlen(input);
  unsigned flags = MK_MNT_NOSUID | MK_MNT_NODEV | MK_MNT_NOEXEC;
  /* room for sizes rewritten as 18 digits: longer than their text */
  char *data = calloc(1, 2 * strlen(input) + 32);

  if (!data)
    abort();
  size_kind = SIZE_OK;
  for (const char *p = colon ? colon + 1 : ""; *p;) {
    size_t n = strcspn(p, ",");
    if (n)
      expect_option(p, n, &flags, data);
    p += n + (p[n] == ',');
  }
  int want = valid_destination(input, path_n) && size_kind != SIZE_BAD;
  if (rc == 0 && !want)
    fail("--tmpfs accepted a bad destination or size", "");
  if (rc != 0 && want && size_kind == SIZE_OK)
    fail("--tmpfs refused a mount destination with good options", "");
  if (rc == 0 && size_kind == SIZE_UNKNOWN) {
    char *got = without_sizes(o->spec.mounts[0].data),
         *exp = without_sizes(data);
    if (strcmp(got, exp) != 0)
      fail("--tmpfs data differs from the options", o->spec.mounts[0].data);
    free(got);
    free(exp);
    free(data);
    return;
  }
  if (rc == 0) {
    if (o->spec.nmounts != 1 || o->spec.mounts[0].kind != MK_SPEC_TMPFS)
      fail("--tmpfs did not give exactly one tmpfs", "");
    if (!same_span(o->spec.mounts[0].target, input, path_n))
      fail("--tmpfs target differs from the path", o->spec.mounts[0].target);
    if (o->spec.mounts[0].flags != flags)
      fail("--tmpfs flags differ from the options", "");
    if (strcmp(o->spec.mounts[0].data, data) != 0)
      fail("--tmpfs data differs from the options", o->spec.mounts[0].data);
  }
  free(data);
}

static void same_tmpfs(const struct mk_run_opts *a, const struct mk_run_opts *b)
{
  const struct mk_mount_spec *ma = a->spec.mounts, *mb = b->spec.mounts;

  if (a->spec.nmounts != b->spec.nmounts)
    fail("--tmpfs X and --tmpfs=X disagree", "");
  for (size_t i = 0; i < a->spec.nmounts; i++)
    if (strcmp(ma[i].target, mb[i].target) != 0 ||
        strcmp(ma[i].data, mb[i].data) != 0 || ma[i].flags != mb[i].flags)
      fail("--tmpfs X and --tmpfs=X disagree", ma[i].target);
}

static void fuzz_tmpfs(void)
{
  char *sep[] = {"run", "--tmpfs", (char *)input, "busybox", NULL};
  char *eq_arg = joined("--tmpfs", input);
  char *eq[] = {"run", eq_arg, "busybox", NULL};
  struct mk_run_opts a, b;
  int ra = parse(sep, 4, &a), rb = parse(eq, 3, &b);

  check_tmpfs(&a, ra);
  if (ra != rb)
    fail("--tmpfs X and --tmpfs=X disagree on success", "");
  same_tmpfs(&a, &b);
  mk_run_opts_free(&a);
  mk_run_opts_free(&b);
  free(eq_arg);
}

/* ---- -p/--publish and --expose ---- */

/* 1 to 7 decimal digits, 0-65535, 0 only when zero_ok. */
static int oracle_port(const char *s, size_t n, int zero_ok, unsigned *out)
{
  unsigned long v = 0;

  if (n == 0 || n > 7)
    return 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9')
      return 0;
    v = v * 10 + (unsigned long)(s[i] - '0');
  }
  if (v > 65535 || (v == 0 && !zero_ok))
    return 0;
  *out = (unsigned)v;
  return 1;
}

/* One dotted-quad part at s[*i]: 0-255, no leading zero. */
static int oracle_octet(const char *s, size_t n, size_t *i)
{
  size_t start = *i;
  unsigned v = 0;

  while (*i < n && *i - start < 3 && s[*i] >= '0' && s[*i] <= '9')
    v = v * 10 + (unsigned)(s[(*i)++] - '0');
  return *i > start && v <= 255 && (*i - start == 1 || s[start] != '0');
}

static int oracle_ipv4(const char *s, size_t n)
{
  size_t i = 0;

  for (int part = 0; part < 4; part++) {
    if (part > 0 && (i >= n || s[i++] != '.'))
      return 0;
    if (!oracle_octet(s, n, &i))
      return 0;
  }
  return i == n;
}

struct port_expect {
  int ok;
  char ip[16];
  unsigned host, container;
  char proto[4];
};

/* Splits "/tcp" or "/udp" off s into e->proto ("tcp" without one): the
 * length before it, or -1 when something else follows the first '/'. */
static long oracle_proto(const char *s, struct port_expect *e)
{
  const char *slash = strchr(s, '/');

  snprintf(e->proto, sizeof(e->proto), "tcp");
  if (!slash)
    return (long)strlen(s);
  if (strcmp(slash + 1, "tcp") != 0 && strcmp(slash + 1, "udp") != 0)
    return -1;
  snprintf(e->proto, sizeof(e->proto), "%s", slash + 1);
  return slash - s;
}

/* Splits the first n bytes of s at its colons into f/len: the number of
 * fields, or 4 when there are more than three. */
static size_t split_colons(const char *s, size_t n, const char *f[3],
                           size_t len[3])
{
  size_t count = 0, start = 0;

  for (size_t i = 0; i <= n; i++) {
    if (i < n && s[i] != ':')
      continue;
    if (count == 3)
      return 4;
    f[count] = s + start;
    len[count++] = i - start;
    start = i + 1;
  }
  return count;
}

static void expect_publish(const char *s, struct port_expect *e)
{
  long body = oracle_proto(s, e);
  const char *f[3];
  size_t len[3], count;

  e->ok = 0;
  e->ip[0] = '\0';
  e->host = 0;
  if (body < 0)
    return;
  count = split_colons(s, (size_t)body, f, len);
  if (count > 3 || !oracle_port(f[count - 1], len[count - 1], 0, &e->container))
    return;
  if (count == 2 && !oracle_port(f[0], len[0], 1, &e->host))
    return;
  if (count == 3 && (!oracle_ipv4(f[0], len[0]) ||
                     (len[1] && !oracle_port(f[1], len[1], 1, &e->host))))
    return;
  if (count == 3 && !same_span("0.0.0.0", f[0], len[0]))
    snprintf(e->ip, sizeof(e->ip), "%.*s", (int)len[0], f[0]);
  e->ok = 1;
}

/* Nothing but the one spec was set. */
static void check_only(const struct mk_run_opts *o, size_t publish,
                       size_t expose)
{
  if (o->spec.nports != publish || o->spec.expose.n != expose ||
      o->spec.nmounts || o->spec.publish_all || o->spec.dns.n ||
      o->spec.extra_hosts.n || o->spec.network)
    fail("the spec set more than its own option", "");
}

static void check_publish_fields(const struct mk_port_spec *p,
                                 const struct port_expect *e)
{
  if (strcmp(p->host_ip, e->ip) != 0 || p->host_port != e->host ||
      p->container_port != e->container || strcmp(p->proto, e->proto) != 0)
    fail("-p's port fields differ from the spec", p->host_ip);
}

static void check_publish(const struct mk_run_opts *o, int rc)
{
  struct port_expect e;

  expect_publish(input, &e);
  if ((rc == 0) != e.ok)
    fail(rc == 0 ? "-p accepted a malformed spec" : "-p refused a valid spec",
         "");
  if (rc < 0)
    return;
  check_only(o, 1, 0);
  check_publish_fields(&o->spec.ports[0], &e);
}

static void check_expose(const struct mk_run_opts *o, int rc)
{
  struct port_expect e;
  long body = oracle_proto(input, &e);
  char want[16];

  e.ok = body >= 0 && oracle_port(input, (size_t)body, 0, &e.container);
  if ((rc == 0) != e.ok)
    fail(rc == 0 ? "--expose accepted a malformed spec"
                 : "--expose refused a valid spec",
         "");
  if (rc < 0)
    return;
  check_only(o, 0, 1);
  snprintf(want, sizeof(want), "%u/%s", e.container, e.proto);
  if (strcmp(o->spec.expose.v[0], want) != 0)
    fail("--expose entry differs from PORT/PROTO", o->spec.expose.v[0]);
}

static void same_strv(const struct mk_strv *a, const struct mk_strv *b,
                      const char *what)
{
  if (a->n != b->n)
    fail(what, "");
  for (size_t i = 0; i < a->n; i++)
    if (strcmp(a->v[i], b->v[i]) != 0)
      fail(what, a->v[i]);
}

static int same_port(const struct mk_port_spec *a, const struct mk_port_spec *b)
{
  return strcmp(a->host_ip, b->host_ip) == 0 && a->host_port == b->host_port &&
         a->container_port == b->container_port &&
         strcmp(a->proto, b->proto) == 0;
}

/* flag DATA and long=DATA: checked by check, and the same both ways. */
static void fuzz_port_flag(const char *flag, const char *long_flag,
                           void (*check)(const struct mk_run_opts *, int))
{
  char *sep[] = {"run", (char *)flag, (char *)input, "busybox", NULL};
  char *eq_arg = joined(long_flag, input);
  char *eq[] = {"run", eq_arg, "busybox", NULL};
  struct mk_run_opts a, b;
  int ra = parse(sep, 4, &a), rb = parse(eq, 3, &b);

  check(&a, ra);
  if (ra != rb)
    fail("the separate and = forms disagree on success", long_flag);
  if (a.spec.nports != b.spec.nports ||
      (a.spec.nports && !same_port(&a.spec.ports[0], &b.spec.ports[0])))
    fail("-p and --publish= disagree", long_flag);
  same_strv(&a.spec.expose, &b.spec.expose,
            "--expose X and --expose=X disagree");
  mk_run_opts_free(&a);
  mk_run_opts_free(&b);
  free(eq_arg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *text = malloc(size + 1);

  if (!text)
    abort();
  memcpy(text, data, size);
  text[size] = '\0';
  input = text;
  fuzz_volume();
  fuzz_tmpfs();
  fuzz_port_flag("-p", "--publish", check_publish);
  fuzz_port_flag("--expose", "--expose", check_expose);
  free(text);
  return 0;
}
