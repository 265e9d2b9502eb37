/* Unit tests for the network specs: supervisor/net/portspec.c (-p, --expose),
 * supervisor/net/etcfiles.c (/etc/hostname, /etc/hosts, /etc/resolv.conf) and
 * the network flags of `mocker run` in supervisor/cli/cli.c. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <check.h>
#include <jansson.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "cli/cli.h"
#include "net/etcfiles.h"
#include "net/portspec.h"
#include "unit_fs.h"
#include "unit_main.h"
#include "unit_run_args.h"

/* ---- -p/--publish ---- */

static void assert_publish(const char *spec, const char *ip, unsigned host,
                           unsigned container, const char *proto)
{
  struct mk_port_spec p;
  mk_error_t err;

  ck_assert_msg(mk_parse_publish(spec, &p, &err) == 0, "`%s` refused: %s", spec,
                err.msg);
  ck_assert_str_eq(p.host_ip, ip);
  ck_assert_uint_eq(p.host_port, host);
  ck_assert_uint_eq(p.container_port, container);
  ck_assert_str_eq(p.proto, proto);
}

/* Refused, with a message that quotes the spec and contains want. */
static void assert_publish_fails(const char *spec, const char *want)
{
  struct mk_port_spec p;
  mk_error_t err;
  char quoted[128];

  snprintf(quoted, sizeof(quoted), "`%s`", spec);
  ck_assert_msg(mk_parse_publish(spec, &p, &err) == -1, "`%s` accepted", spec);
  ck_assert_msg(strstr(err.msg, quoted), "error `%s` does not name `%s`",
                err.msg, spec);
  ck_assert_msg(strstr(err.msg, want), "error `%s` does not contain `%s`",
                err.msg, want);
}

START_TEST(test_publish_forms)
{
  assert_publish("80", "", 0, 80, "tcp");
  assert_publish("8080:80", "", 8080, 80, "tcp");
  assert_publish("127.0.0.1:8080:80", "127.0.0.1", 8080, 80, "tcp");
  assert_publish("127.0.0.1::80", "127.0.0.1", 0, 80, "tcp");
  assert_publish("53:53/udp", "", 53, 53, "udp");
  assert_publish("8080:80/tcp", "", 8080, 80, "tcp");
  assert_publish("10.1.2.3::53/udp", "10.1.2.3", 0, 53, "udp");
  assert_publish("65535:1", "", 65535, 1, "tcp");
  assert_publish("0080", "", 0, 80, "tcp"); /* Docker: ParseUint, 80 */
}
END_TEST

/* 0.0.0.0 is every address, stored as "" like no address at all. */
START_TEST(test_publish_any_address_is_empty)
{
  assert_publish("0.0.0.0:8080:80", "", 8080, 80, "tcp");
  assert_publish("0.0.0.0::80/udp", "", 0, 80, "udp");
}
END_TEST

/* Docker takes `-p 0:80` as "a free host port", like `-p 80`. */
START_TEST(test_publish_host_port_zero_is_random)
{
  assert_publish("0:80", "", 0, 80, "tcp");
  assert_publish("127.0.0.1:0:80", "127.0.0.1", 0, 80, "tcp");
}
END_TEST

/* Stricter than Docker's nat.ParsePortSpec, which takes ":80" and "::80"
 * (a free host port), "80/" (tcp), "80/TCP" and "00000080" (80). */
START_TEST(test_publish_malformed)
{
  static const char *const bad[] = {
      "",
      ":80",
      "80:",
      "0",
      "8080:0",
      "70000:80",
      "80:70000",
      "80/sctp",
      "80/",
      "80/tcp/udp",
      "/tcp",
      "a:b:c:d",
      "::1:80:80",
      "1.2.3:80:80",
      "1.2.3.4:80",
      "x:80",
      "localhost:8080:80",
      " 80",
      "+80",
      "80 ",
      "256.1.1.1:80:80",
      "00000080",
      "80/TCP",
  };

  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    assert_publish_fails(bad[i], "want [hostip:][hostport:]containerport");
}
END_TEST

START_TEST(test_publish_range_is_refused)
{
  assert_publish_fails("8000-8010:80", "port ranges are not supported");
  assert_publish_fails("8000-8010:8000-8010", "port ranges are not supported");
  assert_publish_fails("80-81", "port ranges are not supported");
}
END_TEST

/* ---- --expose and the ExposedPorts key ---- */

static void assert_expose(const char *spec, unsigned port, const char *proto)
{
  struct mk_port_spec p;
  mk_error_t err;

  ck_assert_msg(mk_parse_expose(spec, &p, &err) == 0, "`%s` refused: %s", spec,
                err.msg);
  ck_assert_uint_eq(p.container_port, port);
  ck_assert_str_eq(p.proto, proto);
  ck_assert_uint_eq(p.host_port, 0);
  ck_assert_str_eq(p.host_ip, "");
}

START_TEST(test_expose)
{
  static const char *const bad[] = {"",     "0",    "65536",     "80/sctp",
                                    "80/",  "/tcp", "8000-8010", "80:80",
                                    "http", "-1"};

  assert_expose("80", 80, "tcp");
  assert_expose("53/udp", 53, "udp");
  assert_expose("65535/tcp", 65535, "tcp");
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    struct mk_port_spec p;
    mk_error_t err;
    char quoted[64];
    snprintf(quoted, sizeof(quoted), "invalid port `%s`", bad[i]);
    ck_assert_msg(mk_parse_expose(bad[i], &p, &err) == -1, "`%s` accepted",
                  bad[i]);
    ck_assert_msg(strstr(err.msg, quoted), "error `%s`", err.msg);
  }
}
END_TEST

START_TEST(test_port_key)
{
  struct mk_port_spec p;

  ck_assert_int_eq(mk_parse_port_key("80/tcp", &p), 0);
  ck_assert_uint_eq(p.container_port, 80);
  ck_assert_str_eq(p.proto, "tcp");
  ck_assert_int_eq(mk_parse_port_key("53/udp", &p), 0);
  ck_assert_str_eq(p.proto, "udp");
  ck_assert_int_eq(mk_parse_port_key("443", &p), 0);
  ck_assert_str_eq(p.proto, "tcp");
  ck_assert_int_eq(mk_parse_port_key("8000-8010/tcp", &p), -1);
  ck_assert_int_eq(mk_parse_port_key("x", &p), -1);
}
END_TEST

/* ---- resolv.conf from the host's ---- */

#define GOOGLE_DNS "nameserver 8.8.8.8\nnameserver 8.8.4.4\n"

static void assert_resolv(const char *host, const char *want)
{
  char out[4096];

  mk_container_resolv_conf(host, out, sizeof(out));
  ck_assert_str_eq(out, want);
}

/* systemd-resolved's stub: nothing usable left, Docker's defaults. */
START_TEST(test_resolv_loopback_only)
{
  assert_resolv("nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch lan\n",
                "options edns0 trust-ad\nsearch lan\n" GOOGLE_DNS);
  assert_resolv("nameserver ::1\n", GOOGLE_DNS);
  assert_resolv("  nameserver\t127.0.0.1\n", GOOGLE_DNS);
}
END_TEST

START_TEST(test_resolv_keeps_real_nameservers)
{
  assert_resolv("# from dhcp\nnameserver 10.0.0.2\nnameserver ::1\n"
                "nameserver 127.0.0.1\nsearch example.com\n"
                "nameserver 2001:db8::53\n",
                "# from dhcp\nnameserver 10.0.0.2\nsearch example.com\n"
                "nameserver 2001:db8::53\n");
}
END_TEST

START_TEST(test_resolv_edge_texts)
{
  assert_resolv("", GOOGLE_DNS);
  assert_resolv(NULL, GOOGLE_DNS);
  /* the last line without its newline gets one */
  assert_resolv("nameserver 1.1.1.1", "nameserver 1.1.1.1\n");
  /* a commented-out nameserver is kept and is not a nameserver */
  assert_resolv("# nameserver 10.0.0.2\n",
                "# nameserver 10.0.0.2\n" GOOGLE_DNS);
}
END_TEST

/* ---- /etc/hostname, /etc/hosts, /etc/resolv.conf files ---- */

#define HOSTS_HEAD                                                             \
  "127.0.0.1\tlocalhost\n"                                                     \
  "::1\tlocalhost ip6-localhost ip6-loopback\n"                                \
  "fe00::0\tip6-localnet\n"                                                    \
  "ff00::0\tip6-mcastprefix\n"                                                 \
  "ff02::1\tip6-allnodes\n"                                                    \
  "ff02::2\tip6-allrouters\n"

/* One directory per test case, made and removed in the runner's process
 * (an unchecked fixture), so a failed test does not leave it behind. */
static char dir[PATH_MAX];

static void make_dir(void)
{
  snprintf(dir, sizeof(dir), "/tmp/mk-netspec-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void remove_dir(void)
{
  rm_rf(dir);
}

/* The whole of path into buf (NUL-terminated); "" when it is missing. */
static const char *read_into(const char *path, char *buf, size_t size)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd < 0 ? 0 : read(fd, buf, size - 1);

  if (fd >= 0)
    close(fd);
  buf[n > 0 ? n : 0] = '\0';
  return buf;
}

/* dir/name, in a buffer that the next call reuses. */
static const char *etc(const char *name)
{
  static char buf[MK_HOSTS_MAX + 1];
  char path[PATH_MAX];

  fmt(path, "%s/%s", dir, name);
  return read_into(path, buf, sizeof(buf));
}

static void write_etc(const struct mk_hosts_spec *s, json_t *dns)
{
  mk_error_t err;

  ck_assert_msg(mk_write_etc_files(dir, s, dns, &err) == 0, "%s", err.msg);
}

static void write_hosts(const struct mk_hosts_spec *s)
{
  mk_error_t err;

  ck_assert_msg(mk_write_hosts(dir, s, &err) == 0, "%s", err.msg);
}

START_TEST(test_etc_files_bridge)
{
  struct mk_hosts_spec s = {.hostname = "web", .ip = "10.88.0.5"};
  char host[8192], want[8192];

  write_etc(&s, NULL);
  ck_assert_str_eq(etc("hostname"), "web\n");
  ck_assert_str_eq(etc("hosts"), HOSTS_HEAD "10.88.0.5\tweb\n");
  read_into("/etc/resolv.conf", host, sizeof(host));
  mk_container_resolv_conf(host, want, sizeof(want));
  ck_assert_str_eq(etc("resolv.conf"), want);
}
END_TEST

/* No address (--network none, or before the network is up): Debian's
 * 127.0.1.1 for the hostname. */
START_TEST(test_hosts_without_ip)
{
  struct mk_hosts_spec s = {.hostname = "box"};

  write_hosts(&s);
  ck_assert_str_eq(etc("hosts"), HOSTS_HEAD "127.0.1.1\tbox\n");
  s.ip = "";
  write_hosts(&s);
  ck_assert_str_eq(etc("hosts"), HOSTS_HEAD "127.0.1.1\tbox\n");
}
END_TEST

/* ExtraHosts entries that are not a "name:ip" string are skipped. */
START_TEST(test_hosts_add_host_and_peers)
{
  json_t *extra = json_pack("[s,s,i,s]", "db:10.0.0.9", "v6:::1", 7, "nocolon");
  const struct mk_hosts_peer peers[] = {
      {"10.88.0.7", "api 0123456789ab"},
      {"10.88.0.8", "cache ba9876543210"},
  };
  struct mk_hosts_spec s = {.hostname = "web",
                            .ip = "10.88.0.5",
                            .extra_hosts = extra,
                            .peers = peers,
                            .npeers = 2};

  write_hosts(&s);
  ck_assert_str_eq(etc("hosts"), HOSTS_HEAD "10.88.0.5\tweb\n"
                                            "10.0.0.9\tdb\n"
                                            "::1\tv6\n"
                                            "10.88.0.7\tapi 0123456789ab\n"
                                            "10.88.0.8\tcache ba9876543210\n");
  json_decref(extra);
}
END_TEST

/* host-gateway is the gateway's address, and the line is left out where
 * there is none (--network none). */
START_TEST(test_hosts_host_gateway)
{
  json_t *extra = json_pack("[s]", "host.docker.internal:host-gateway");
  struct mk_hosts_spec s = {.hostname = "web",
                            .ip = "10.88.0.5",
                            .extra_hosts = extra,
                            .gateway = "10.88.0.1"};

  write_hosts(&s);
  ck_assert_str_eq(etc("hosts"),
                   HOSTS_HEAD "10.88.0.5\tweb\n"
                              "10.88.0.1\thost.docker.internal\n");
  s.gateway = NULL;
  s.ip = NULL;
  write_hosts(&s);
  ck_assert_str_eq(etc("hosts"), HOSTS_HEAD "127.0.1.1\tweb\n");
  json_decref(extra);
}
END_TEST

/* The file is bind-mounted into the running container: a rewrite must
 * keep the inode, and a reader's open file must see the new text. */
START_TEST(test_hosts_rewritten_in_place)
{
  const struct mk_hosts_peer peer = {"10.88.0.7", "api 0123456789ab"};
  struct mk_hosts_spec s = {
      .hostname = "web", .ip = "10.88.0.5", .peers = &peer, .npeers = 1};
  struct stat before, after;
  char path[PATH_MAX], seen[4096];
  int fd;
  ssize_t n;

  write_hosts(&s);
  fmt(path, "%s/hosts", dir);
  ck_assert_int_eq(stat(path, &before), 0);
  fd = open(path, O_RDONLY | O_CLOEXEC);
  ck_assert_int_ge(fd, 0);
  s.npeers = 0;
  write_hosts(&s);
  ck_assert_int_eq(stat(path, &after), 0);
  ck_assert_uint_eq(after.st_ino, before.st_ino);
  ck_assert_uint_eq(after.st_dev, before.st_dev);
  n = pread(fd, seen, sizeof(seen) - 1, 0);
  close(fd);
  ck_assert_int_ge(n, 0);
  seen[n] = '\0';
  ck_assert_str_eq(seen, HOSTS_HEAD "10.88.0.5\tweb\n");
}
END_TEST

/* Every nameserver line of text, in order, joined by ','. */
static void nameservers(const char *text, char *out, size_t size)
{
  char addr[128];

  out[0] = '\0';
  for (const char *p = text; p && *p;) {
    const char *nl = strchr(p, '\n');
    char line[512];
    snprintf(line, sizeof(line), "%.*s", (int)(nl ? nl - p : (long)strlen(p)),
             p);
    if (sscanf(line, " nameserver %127s", addr) == 1)
      snprintf(out + strlen(out), size - strlen(out), "%s%s", *out ? "," : "",
               addr);
    p = nl ? nl + 1 : NULL;
  }
}

START_TEST(test_etc_files_dns)
{
  json_t *dns = json_pack("[s,s]", "1.1.1.1", "2606:4700:4700::1111");
  struct mk_hosts_spec s = {.hostname = "web", .ip = "10.88.0.5"};
  char got[512];

  write_etc(&s, dns);
  nameservers(etc("resolv.conf"), got, sizeof(got));
  ck_assert_str_eq(got, "1.1.1.1,2606:4700:4700::1111");
  s.host_network = 1;
  write_etc(&s, dns);
  nameservers(etc("resolv.conf"), got, sizeof(got));
  ck_assert_str_eq(got, "1.1.1.1,2606:4700:4700::1111");
  json_decref(dns);
}
END_TEST

/* ---- the same, with the host's files chosen by the test ----
 * A child replaces /etc/hosts and /etc/resolv.conf in a private mount
 * namespace (root only; skipped otherwise) and writes the container's
 * files into dir/<case>; the parent checks them. */

#define FAKE_RESOLV                                                            \
  "search corp.example\nnameserver 127.0.0.53\noptions edns0 ndots:2\n"        \
  "nameserver 10.0.0.2\n"
#define FAKE_HOSTS "127.0.0.1\tlocalhost\n10.1.1.1\tbuildhost\n"

struct etc_case {
  const char *name; /* subdirectory of dir */
  struct mk_hosts_spec spec;
  json_t *dns;
};

static int bind_file(const char *text, const char *name, const char *target)
{
  char path[PATH_MAX];
  FILE *f;

  snprintf(path, sizeof(path), "%s/%s", dir, name);
  f = fopen(path, "we");
  if (!f || fputs(text, f) < 0 || fclose(f) != 0)
    return -1;
  return mount(path, target, NULL, MS_BIND, NULL);
}

/* In the child: 0 done, 77 no namespace to play in, 1 a write failed. */
static int fake_host_child(const char *hosts, const char *resolv,
                           const struct etc_case *cases, size_t n)
{
  mk_error_t err = {0};
  char sub[PATH_MAX];

  if (unshare(CLONE_NEWNS) < 0 ||
      mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
      bind_file(hosts, "fake-hosts", "/etc/hosts") < 0 ||
      bind_file(resolv, "fake-resolv", "/etc/resolv.conf") < 0)
    return 77;
  for (size_t i = 0; i < n; i++) {
    snprintf(sub, sizeof(sub), "%s/%s", dir, cases[i].name);
    if ((mkdir(sub, 0755) < 0 && errno != EEXIST) ||
        mk_write_etc_files(sub, &cases[i].spec, cases[i].dns, &err) < 0) {
      fprintf(stderr, "%s: %s (%s)\n", cases[i].name, err.msg, strerror(errno));
      return 1;
    }
  }
  return 0;
}

/* 0 when the files were written, -1 when the test cannot run here. */
static int with_fake_host(const char *hosts, const char *resolv,
                          const struct etc_case *cases, size_t n)
{
  pid_t pid = fork();
  int status;

  ck_assert_int_ge(pid, 0);
  if (pid == 0)
    _exit(fake_host_child(hosts, resolv, cases, n));
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  ck_assert(WIFEXITED(status));
  if (WEXITSTATUS(status) == 77) {
    fprintf(stderr, "netspec: no private mount namespace, skipped\n");
    return -1;
  }
  ck_assert_int_eq(WEXITSTATUS(status), 0);
  return 0;
}

static const char *case_file(const char *name, const char *file)
{
  char rel[PATH_MAX];

  fmt(rel, "%s/%s", name, file);
  return etc(rel);
}

START_TEST(test_etc_files_from_fake_host)
{
  json_t *extra = json_pack("[s]", "db:10.0.0.9");
  json_t *dns = json_pack("[s]", "9.9.9.9");
  const struct etc_case cases[] = {
      {"host",
       {.hostname = "h", .host_network = 1, .extra_hosts = extra},
       NULL},
      {"host-dns", {.hostname = "h", .host_network = 1}, dns},
      {"bridge", {.hostname = "b", .ip = "10.88.0.5"}, NULL},
      {"bridge-dns", {.hostname = "b", .ip = "10.88.0.5"}, dns},
  };

  if (with_fake_host(FAKE_HOSTS, FAKE_RESOLV, cases, 4) == 0) {
    ck_assert_str_eq(case_file("host", "hosts"), FAKE_HOSTS "10.0.0.9\tdb\n");
    ck_assert_str_eq(case_file("host", "resolv.conf"), FAKE_RESOLV);
    ck_assert_str_eq(case_file("host-dns", "resolv.conf"),
                     "search corp.example\noptions edns0 ndots:2\n"
                     "nameserver 9.9.9.9\n");
    ck_assert_str_eq(case_file("bridge", "resolv.conf"),
                     "search corp.example\noptions edns0 ndots:2\n"
                     "nameserver 10.0.0.2\n");
    ck_assert_str_eq(case_file("bridge-dns", "resolv.conf"),
                     "search corp.example\noptions edns0 ndots:2\n"
                     "nameserver 9.9.9.9\n");
    ck_assert_str_eq(case_file("bridge", "hosts"), HOSTS_HEAD "10.88.0.5\tb\n");
  }
  json_decref(extra);
  json_decref(dns);
}
END_TEST

/* ---- the run flags ---- */

static void assert_strv(const struct mk_strv *sv, const char *const *want,
                        size_t n)
{
  ck_assert_uint_eq(sv->n, n);
  for (size_t i = 0; i < n; i++)
    ck_assert_str_eq(sv->v[i], want[i]);
}

START_TEST(test_network_flag)
{
  struct mk_run_opts o;
  mk_error_t err;

  ASSERT_PARSE_OK(o, err, "busybox");
  ck_assert_ptr_null(o.spec.network);
  ck_assert(!o.spec.publish_all && !o.spec.nports && !o.spec.expose.n &&
            !o.spec.dns.n && !o.spec.extra_hosts.n);
  mk_run_opts_free(&o);
  ASSERT_PARSE_OK(o, err, "--network", "mynet", "busybox");
  ck_assert_str_eq(o.spec.network, "mynet");
  mk_run_opts_free(&o);
  ASSERT_PARSE_OK(o, err, "--net=host", "busybox");
  ck_assert_str_eq(o.spec.network, "host");
  mk_run_opts_free(&o);
  ASSERT_PARSE_OK(o, err, "--network=container:db", "busybox");
  ck_assert_str_eq(o.spec.network, "container:db");
  mk_run_opts_free(&o);
}
END_TEST

START_TEST(test_publish_and_expose_flags)
{
  struct mk_run_opts o;
  mk_error_t err;

  ASSERT_PARSE_OK(o, err, "-p", "8080:80", "--publish=127.0.0.1::53/udp",
                  "-p0.0.0.0:443:443", "-P", "--expose", "0090",
                  "--expose=53/udp", "busybox");
  /* -p parsed for the engine; --expose normalised to the ExposedPorts key */
  ck_assert_uint_eq(o.spec.nports, 3);
  ck_assert_uint_eq(o.spec.ports[0].host_port, 8080);
  ck_assert_uint_eq(o.spec.ports[0].container_port, 80);
  ck_assert_str_eq(o.spec.ports[0].proto, "tcp");
  ck_assert_str_eq(o.spec.ports[1].host_ip, "127.0.0.1");
  ck_assert_uint_eq(o.spec.ports[1].host_port, 0);
  ck_assert_uint_eq(o.spec.ports[1].container_port, 53);
  ck_assert_str_eq(o.spec.ports[1].proto, "udp");
  ck_assert_str_eq(o.spec.ports[2].host_ip, ""); /* 0.0.0.0: every address */
  ck_assert_uint_eq(o.spec.ports[2].host_port, 443);
  assert_strv(&o.spec.expose, (const char *[]){"90/tcp", "53/udp"}, 2);
  ck_assert(o.spec.publish_all);
  mk_run_opts_free(&o);
}
END_TEST

START_TEST(test_publish_and_expose_bad_values)
{
  ASSERT_PARSE_FAILS("invalid publish `70000:80`", "-p", "70000:80", "busybox");
  ASSERT_PARSE_FAILS("port ranges are not supported", "--publish=8000-8010:80",
                     "busybox");
  ASSERT_PARSE_FAILS("invalid publish ``", "-p", "", "busybox");
  ASSERT_PARSE_FAILS("invalid port `80/sctp`", "--expose", "80/sctp",
                     "busybox");
  ASSERT_PARSE_FAILS("flag needs an argument", "-p");
  ASSERT_PARSE_FAILS("flag needs an argument", "--expose");
}
END_TEST

START_TEST(test_dns_flag)
{
  struct mk_run_opts o;
  mk_error_t err;

  ASSERT_PARSE_OK(o, err, "--dns", "1.1.1.1", "--dns=2001:4860:4860::8888",
                  "busybox");
  assert_strv(&o.spec.dns, (const char *[]){"1.1.1.1", "2001:4860:4860::8888"},
              2);
  mk_run_opts_free(&o);
  ASSERT_PARSE_FAILS("1.2.3 is not an ip address", "--dns", "1.2.3", "busybox");
  ASSERT_PARSE_FAILS("dns.google is not an ip address", "--dns", "dns.google",
                     "busybox");
  ASSERT_PARSE_FAILS(" is not an ip address", "--dns=", "busybox");
  ASSERT_PARSE_FAILS("is not an ip address", "--dns", " 1.1.1.1", "busybox");
}
END_TEST

START_TEST(test_add_host_flag)
{
  struct mk_run_opts o;
  mk_error_t err;

  /* name=ip is stored as name:ip, the form HostConfig.ExtraHosts uses */
  ASSERT_PARSE_OK(o, err, "--add-host", "db:10.0.0.9",
                  "--add-host=cache=10.0.0.10", "--add-host", "v6:::1",
                  "--add-host", "gw:host-gateway", "busybox");
  assert_strv(&o.spec.extra_hosts,
              (const char *[]){"db:10.0.0.9", "cache:10.0.0.10", "v6:::1",
                               "gw:host-gateway"},
              4);
  mk_run_opts_free(&o);
}
END_TEST

START_TEST(test_add_host_bad_values)
{
  static const char *const bad[] = {
      "db",
      ":10.0.0.9",
      "=10.0.0.9",
      "db:",
      "db:nope",
      "my db:10.0.0.9",
      "db:10.0.0.9 ",
      "db:10.0.0.256",
      "db\t:1.1.1.1",
      "db:[::1]",
      "",
  };

  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    ASSERT_PARSE_FAILS("for \"--add-host\" flag", "--add-host", bad[i],
                       "busybox");
}
END_TEST

START_TEST(test_container_network_conflicts)
{
  const char *conflict = "conflicting options: port publishing or "
                         "exposing, --dns and --add-host and the container "
                         "type network mode";

  ASSERT_PARSE_FAILS("--network container: needs a name", "--network",
                     "container:", "busybox");
  ASSERT_PARSE_FAILS("conflicting options: hostname and the network mode",
                     "--network", "container:db", "-h", "web", "busybox");
  ASSERT_PARSE_FAILS(conflict, "--network", "container:db", "-p", "80",
                     "busybox");
  ASSERT_PARSE_FAILS(conflict, "-P", "--net=container:db", "busybox");
  ASSERT_PARSE_FAILS(conflict, "--network", "container:db", "--dns", "1.1.1.1",
                     "busybox");
  ASSERT_PARSE_FAILS(conflict, "--network", "container:db", "--add-host",
                     "a:1.2.3.4", "busybox");
  ASSERT_PARSE_FAILS(conflict, "--network", "container:db", "--expose", "80",
                     "busybox");
  ASSERT_PARSE_FAILS("invalid container format", "--network", "container",
                     "busybox");
  ASSERT_PARSE_FAILS("for \"--add-host\" flag", "--add-host", "a\nb:1.2.3.4",
                     "busybox");
}
END_TEST

/* Only the container: mode conflicts; Docker takes these (it warns that
 * -p means nothing with host networking). */
START_TEST(test_other_modes_do_not_conflict)
{
  struct mk_run_opts o;
  mk_error_t err;

  ASSERT_PARSE_OK(o, err, "--network", "host", "-h", "web", "-p", "80", "--dns",
                  "1.1.1.1", "--add-host", "a:1.2.3.4", "busybox");
  mk_run_opts_free(&o);
  ASSERT_PARSE_OK(o, err, "--network", "none", "-h", "web", "busybox");
  mk_run_opts_free(&o);
}
END_TEST

/* ---- regressions: bugs found while writing this suite ---- */

/* Docker joins all but the last two fields into the address, so a fourth
 * field makes the address invalid; portspec.c used to drop the fourth
 * field and publish container port 80. */
START_TEST(test_bug_publish_four_fields)
{
  assert_publish_fails("1.2.3.4:80:80:90", "want");
  assert_publish_fails("127.0.0.1:8080:80:9999/udp", "want");
}
END_TEST

/* With host networking the add-host lines go after the host's /etc/hosts;
 * a host file without its last newline used to glue the first one to its
 * last line. */
START_TEST(test_bug_host_hosts_without_newline)
{
  json_t *extra = json_pack("[s]", "db:10.0.0.9");
  const struct etc_case cases[] = {
      {"host",
       {.hostname = "h", .host_network = 1, .extra_hosts = extra},
       NULL},
  };

  if (with_fake_host("127.0.0.1\tlocalhost", FAKE_RESOLV, cases, 1) == 0)
    ck_assert_str_eq(case_file("host", "hosts"),
                     "127.0.0.1\tlocalhost\n10.0.0.9\tdb\n");
  json_decref(extra);
}
END_TEST

static Suite *netspec_suite(void)
{
  Suite *s = suite_create("netspec");
  TCase *tc = tcase_create("publish");

  tcase_add_test(tc, test_publish_forms);
  tcase_add_test(tc, test_publish_any_address_is_empty);
  tcase_add_test(tc, test_publish_host_port_zero_is_random);
  tcase_add_test(tc, test_publish_malformed);
  tcase_add_test(tc, test_publish_range_is_refused);
  tcase_add_test(tc, test_expose);
  tcase_add_test(tc, test_port_key);
  suite_add_tcase(s, tc);

  tc = tcase_create("etcfiles");
  tcase_add_unchecked_fixture(tc, make_dir, remove_dir);
  tcase_add_test(tc, test_resolv_loopback_only);
  tcase_add_test(tc, test_resolv_keeps_real_nameservers);
  tcase_add_test(tc, test_resolv_edge_texts);
  tcase_add_test(tc, test_etc_files_bridge);
  tcase_add_test(tc, test_hosts_without_ip);
  tcase_add_test(tc, test_hosts_add_host_and_peers);
  tcase_add_test(tc, test_hosts_host_gateway);
  tcase_add_test(tc, test_hosts_rewritten_in_place);
  tcase_add_test(tc, test_etc_files_dns);
  tcase_add_test(tc, test_etc_files_from_fake_host);
  suite_add_tcase(s, tc);

  tc = tcase_create("flags");
  tcase_add_test(tc, test_network_flag);
  tcase_add_test(tc, test_publish_and_expose_flags);
  tcase_add_test(tc, test_publish_and_expose_bad_values);
  tcase_add_test(tc, test_dns_flag);
  tcase_add_test(tc, test_add_host_flag);
  tcase_add_test(tc, test_add_host_bad_values);
  tcase_add_test(tc, test_container_network_conflicts);
  tcase_add_test(tc, test_other_modes_do_not_conflict);
  suite_add_tcase(s, tc);

  tc = tcase_create("regressions");
  tcase_add_unchecked_fixture(tc, make_dir, remove_dir);
  tcase_add_test(tc, test_bug_publish_four_fields);
  tcase_add_test(tc, test_bug_host_hosts_without_newline);
  suite_add_tcase(s, tc);
  return s;
}

MK_UNIT_MAIN(netspec_suite)
