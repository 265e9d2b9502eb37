/* Container networking: the default bridge and its NAT, published ports,
 * --network none|host|container:NAME, the DNS files, user-defined
 * networks, and what is left on the host after containers go.
 *
 * Safety: main() moves the whole suite into a network namespace of its
 * own before anything else, and every test then runs in a fresh one (see
 * netsandbox.h): mocker's bridge, veths, nftables table and sysctls all
 * live and die there. The only peer is the fake outside host the sandbox
 * builds (198.51.100.1); nothing here addresses anything else. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <check.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "netsandbox.h"

#define DEFAULT_GATEWAY "10.88.0.1"
#define WEB_TEXT "served from the container"
/* busybox httpd in a container, serving WEB_TEXT at /index.html. */
#define WEB_CMD                                                                \
  "mkdir -p /www && echo '" WEB_TEXT "' > /www/index.html && "                 \
  "exec httpd -f -p 80 -h /www"
#define FETCH_MS 10000
#define GONE_MS 15000

/* This test's sandbox (outside host, httpd); see net_setup. */
static struct nsb sb;

/* ---- running things ------------------------------------------------- */

/* `mocker ARGV...` must exit 0; its stdout (malloc'ed). */
static char *mocker_ok(const char *const argv[])
{
  struct h_res r;
  char *out;

  h_run(&r, NULL, argv);
  H_ASSERT_STATUS(&r, 0);
  out = r.out;
  free(r.err);
  return out;
}
#define MOCKER_OK(...) mocker_ok(H_ARGV(__VA_ARGS__))

static void mocker_quiet_ok(const char *const argv[])
{
  free(mocker_ok(argv));
}
#define MOCKER_DO(...) mocker_quiet_ok(H_ARGV(__VA_ARGS__))

/* `mocker run -d ARGV...`; the full id into id. */
static void run_detached(char id[65], const char *const argv[])
{
  char *out = mocker_ok(argv);

  ck_assert_msg(strlen(out) == 65 && h_is_hex(out, 64) && out[64] == '\n',
                "`%s`: want a full id, got \"%s\"", h_last_cmd(), out);
  memcpy(id, out, 64);
  id[64] = '\0';
  free(out);
}
#define RUN_D(id, ...) run_detached((id), H_ARGV("run", "-d", __VA_ARGS__))

static void cmd_text(char *buf, size_t size, const char *const argv[])
{
  size_t off = 0;

  buf[0] = '\0';
  for (int i = 0; argv[i] && off < size; i++)
    off +=
        (size_t)snprintf(buf + off, size - off, "%s%s", i ? " " : "", argv[i]);
}

/* A command on the sandbox host (netns -1) or the outside host
 * (sb.outside_ns) must exit 0; its stdout (malloc'ed). */
static char *cmd_ok(int netns, const char *const argv[])
{
  struct nsb_res r;
  char cmd[1024];

  cmd_text(cmd, sizeof cmd, argv);
  nsb_cmd(&r, netns, 20000, argv);
  ck_assert_msg(r.status == 0,
                "`%s`%s: status %d\n--- stdout:\n%s\n--- "
                "stderr:\n%s",
                cmd, netns >= 0 ? " (outside host)" : "", r.status, r.out,
                r.err);
  free(r.err);
  return r.out;
}
#define HOST_OK(...) cmd_ok(-1, H_ARGV(__VA_ARGS__))
#define OUTSIDE_OK(...) cmd_ok(sb.outside_ns, H_ARGV(__VA_ARGS__))

/* ---- JSON from inspect ---------------------------------------------- */

/* `mocker [network] inspect NAME`: the one object of its array. */
static json_t *inspect_one(const char *const argv[])
{
  char *out = mocker_ok(argv);
  json_error_t jerr;
  json_t *all = json_loads(out, 0, &jerr), *one;

  ck_assert_msg(json_is_array(all) && json_array_size(all) == 1,
                "`%s`: not a JSON array of one object (%s):\n%s", h_last_cmd(),
                jerr.text, out);
  one = json_incref(json_array_get(all, 0));
  json_decref(all);
  free(out);
  return one;
}

/* The member at a dotted path ("NetworkSettings.IPAddress"), or NULL. */
static json_t *jpath(json_t *v, const char *path)
{
  char key[256];

  while (v && *path) {
    size_t n = strcspn(path, ".");

    if (n >= sizeof key)
      return NULL;
    memcpy(key, path, n);
    key[n] = '\0';
    v = json_object_get(v, key);
    path += n + (path[n] == '.');
  }
  return v;
}

/* The string at path, "" if absent (static, overwritten by the next). */
static const char *jstr(json_t *v, const char *path)
{
  static char buf[512];
  const char *s = json_string_value(jpath(v, path));

  snprintf(buf, sizeof buf, "%s", s ? s : "");
  return buf;
}

/* A container's NetworkSettings string, e.g. "IPAddress". */
static void net_setting(const char *name, const char *key, char *out,
                        size_t size)
{
  json_t *c = inspect_one(H_ARGV("inspect", name));
  char path[128];

  h_fmt(path, sizeof path, "NetworkSettings.%s", key);
  snprintf(out, size, "%s", jstr(c, path));
  json_decref(c);
}

static void container_ip(const char *name, char ip[32])
{
  net_setting(name, "IPAddress", ip, 32);
  ck_assert_msg(ip[0], "inspect %s: no NetworkSettings.IPAddress", name);
}

static void full_id(const char *name, char id[65])
{
  json_t *c = inspect_one(H_ARGV("inspect", name));

  snprintf(id, 65, "%s", jstr(c, "Id"));
  json_decref(c);
  ck_assert_msg(strlen(id) == 64, "inspect %s: no Id", name);
}

/* ---- addresses -------------------------------------------------------- */

static uint32_t ip_value(const char *ip)
{
  struct in_addr a;

  ck_assert_msg(inet_pton(AF_INET, ip, &a) == 1, "not an IPv4 address: \"%s\"",
                ip);
  return ntohl(a.s_addr);
}

static bool in_subnet(const char *ip, const char *net, int prefix)
{
  uint32_t mask = prefix ? ~0u << (32 - prefix) : 0;

  return (ip_value(ip) & mask) == (ip_value(net) & mask);
}

#define ASSERT_IN_SUBNET(ip, net, prefix)                                      \
  ck_assert_msg(in_subnet((ip), (net), (prefix)), "%s is not in %s/%d", (ip),  \
                (net), (prefix))

/* Docker's MAC for an address: 02:42 then the four address bytes. */
static void mac_for(const char *ip, char mac[18])
{
  uint32_t v = ip_value(ip);

  snprintf(mac, 18, "02:42:%02x:%02x:%02x:%02x", v >> 24, (v >> 16) & 0xff,
           (v >> 8) & 0xff, v & 0xff);
}

/* The address of "inet A.B.C.D/N" in text (ip -o -4 addr), or "". */
static void inet_in(const char *text, char ip[32], int *prefix)
{
  const char *p = text ? strstr(text, "inet ") : NULL;

  ip[0] = '\0';
  *prefix = -1;
  if (p && sscanf(p, "inet %31[0-9.]/%d", ip, prefix) != 2)
    ip[0] = '\0';
}

/* Whether text has word as a whole token: not preceded or followed by a
 * character that could extend an address or a port. */
static bool has_token(const char *text, const char *word)
{
  size_t n = strlen(word);

  for (const char *p = text; p && (p = strstr(p, word)); p++) {
    bool left = p == text || !(isalnum((unsigned char)p[-1]) || p[-1] == '.');
    bool right = !(isalnum((unsigned char)p[n]) || p[n] == '.');

    if (left && right)
      return true;
  }
  return false;
}

/* ---- /etc/hosts and friends ------------------------------------------ */

/* Whether a hosts file maps ip to name (a line: IP NAME [ALIASES]). */
static bool hosts_maps(const char *text, const char *ip, const char *name)
{
  char *copy = strdup(text ? text : ""), *save = NULL;
  bool found = false;

  for (char *line = strtok_r(copy, "\n", &save); line && !found;
       line = strtok_r(NULL, "\n", &save)) {
    char *s2 = NULL, *tok = strtok_r(line, " \t", &s2);

    if (!tok || strcmp(tok, ip) != 0)
      continue;
    while (!found && (tok = strtok_r(NULL, " \t", &s2)))
      found = strcmp(tok, name) == 0;
  }
  free(copy);
  return found;
}

#define ASSERT_HOSTS_MAPS(text, ip, name)                                      \
  ck_assert_msg(hosts_maps((text), (ip), (name)),                              \
                "/etc/hosts does not map %s to %s:\n%s", (ip), (name), (text))

/* The part of text between the n-th and n+1-th "---" line (0-based). */
static char *section(const char *text, int n)
{
  const char *p = text;

  for (int i = 0; i < n && p; i++) {
    p = strstr(p, "---\n");
    if (p)
      p += 4;
  }
  ck_assert_msg(p != NULL, "no section %d in:\n%s", n, text);
  {
    const char *end = strstr(p, "---\n");

    return strndup(p, end ? (size_t)(end - p) : strlen(p));
  }
}

/* ---- host-side leftovers ---------------------------------------------- */

static void veth_of(const char *id, char name[16])
{
  snprintf(name, 16, "veth%.11s", id);
}

static bool link_gone(void *name)
{
  return !nsb_link_exists(name);
}

static void assert_veth_gone(const char *id)
{
  char veth[16];

  veth_of(id, veth);
  ck_assert_msg(h_poll(link_gone, veth, GONE_MS),
                "host-side %s of container %.12s is still there", veth, id);
}

static int veth_count(char **list)
{
  int n;
  char *l = nsb_links_with_prefix("veth", &n);

  if (list)
    *list = l;
  else
    free(l);
  return n;
}

static bool no_veths(void *unused)
{
  (void)unused;
  return veth_count(NULL) == 0;
}

static void assert_no_veths(void)
{
  char *list = NULL;

  if (!h_poll(no_veths, NULL, GONE_MS)) {
    veth_count(&list);
    ck_abort_msg("veth links left on the host:\n%s", list);
  }
}

/* `nft list table ip mocker`, "" when there is no such table. Any other
 * failure (nft missing, killed, timed out) fails the test: an nft that
 * cannot run must not make every "nothing left" check pass. */
static char *nft_table(void)
{
  struct nsb_res r;

  nsb_cmd(&r, -1, 10000, H_ARGV("nft", "list", "table", "ip", "mocker"));
  if (r.status != 0) {
    bool absent = r.status == 1 && (h_contains(r.err, "No such file") ||
                                    h_contains(r.err, "does not exist"));
    ck_assert_msg(absent,
                  "`nft list table ip mocker` could not run (status %d): %s",
                  r.status, r.err ? r.err : "");
    free(r.err);
    free(r.out);
    return strdup("");
  }
  free(r.err);
  return r.out;
}

struct nft_words {
  const char *const *words;
};

static bool nft_lacks_all(void *arg)
{
  const struct nft_words *w = arg;
  char *table = nft_table();
  bool clean = true;

  for (int i = 0; w->words[i] && clean; i++)
    clean = !has_token(table, w->words[i]);
  free(table);
  return clean;
}

/* No rule or set element of `nft list table ip mocker` mentions any of
 * the words (addresses, ports), within GONE_MS. */
static void assert_nft_lacks(const char *const words[])
{
  struct nft_words w = {words};

  if (!h_poll(nft_lacks_all, &w, GONE_MS)) {
    char *table = nft_table(), which[1024] = "";

    for (int i = 0; words[i]; i++)
      if (has_token(table, words[i]))
        snprintf(which + strlen(which), sizeof which - strlen(which), " %s",
                 words[i]);
    ck_abort_msg("nft table ip mocker still mentions%s:\n%s", which, table);
  }
}
#define ASSERT_NFT_LACKS(...) assert_nft_lacks(H_ARGV(__VA_ARGS__))

/* ---- fetching over HTTP ----------------------------------------------- */

/* busybox wget from netns (-1: the sandbox host), retried until it works
 * or FETCH_MS passes; the body (malloc'ed), or it fails the test. Never
 * `wget -T`: Debian's busybox-static 1.35 segfaults with it; nsb_cmd's
 * deadline (and `timeout` in containers) bounds a hanging connect. */
static char *fetch(int netns, const char *url)
{
  long deadline = h_now_ms() + FETCH_MS;
  struct nsb_res r;

  for (;;) {
    nsb_cmd(&r, netns, 5000, H_ARGV(NSB_BUSYBOX, "wget", "-q", "-O", "-", url));
    if (r.status == 0 || h_now_ms() >= deadline)
      break;
    nsb_res_free(&r);
    usleep(100 * 1000);
  }
  if (r.status != 0) {
    char *table = nft_table();

    ck_abort_msg("wget %s from the %s never worked (last: status %d%s%s)\n"
                 "--- nft list table ip mocker:\n%s",
                 url, netns >= 0 ? "outside host" : "sandbox host", r.status,
                 r.status == -1000 ? ", timed out" : "", r.err, table);
  }
  free(r.err);
  return r.out;
}

static void assert_fetches(int netns, const char *url, const char *want)
{
  char *body = fetch(netns, url);

  ck_assert_msg(h_contains(body, want), "wget %s: got \"%s\", want \"%s\"", url,
                body, want);
  free(body);
}

/* One wget attempt must fail: nothing answers there any more. */
static void assert_no_fetch(int netns, const char *url)
{
  struct nsb_res r;

  nsb_cmd(&r, netns, 4000, H_ARGV(NSB_BUSYBOX, "wget", "-q", "-O", "-", url));
  ck_assert_msg(r.status != 0, "wget %s still works: \"%s\"", url, r.out);
  nsb_res_free(&r);
}

static void url_of(char *url, size_t size, const char *ip, int port)
{
  h_fmt(url, size, "http://%s:%d/index.html", ip, port);
}

/* ---- fixtures and config ---------------------------------------------- */

/* Writes h.host/etc-mocker/config.json and points mocker at it. Both
 * variables: MOCKER_CONFIG names the file, MOCKER_CONFIG_DIR its dir (the
 * registry settings read config.json from there). */
static void write_config(const char *json)
{
  char dir[4200], path[4300];

  h_fmt(dir, sizeof dir, "%s/etc-mocker", h.host);
  h_fmt(path, sizeof path, "%s/config.json", dir);
  ck_assert_msg(mkdir(dir, 0755) == 0 || errno == EEXIST, "mkdir %s", dir);
  h_write_file(path, json);
  setenv("MOCKER_CONFIG", path, 1);
  setenv("MOCKER_CONFIG_DIR", dir, 1);
}

/* Checked fixture, after h_test_setup: a fresh network namespace for this
 * test, the outside host, and a config with mocker's defaults (never the
 * machine's /etc/mocker). */
static void net_setup(void)
{
  char err[NSB_ERR], dir[4200];

  memset(&sb, 0, sizeof sb);
  sb.outside_ns = -1;
  ck_assert_msg(nsb_unshare_net(err, sizeof err) == 0, "%s", err);
  write_config("{}\n");
  h_fmt(dir, sizeof dir, "%s/outside", h.host);
  if (nsb_start(&sb, dir) < 0) {
    snprintf(err, sizeof err, "%s", sb.err);
    nsb_stop(&sb);
    ck_abort_msg("sandbox: %s", err);
  }
}

/* Runs before h_test_teardown (Check runs teardowns in reverse). */
static void net_teardown(void)
{
  nsb_stop(&sb);
  assert_no_veths();
}

static TCase *net_tcase(const char *name, double timeout_s)
{
  TCase *tc = h_tcase(name, timeout_s);

  tcase_add_checked_fixture(tc, net_setup, net_teardown);
  return tc;
}

/* ---- the bridge and the outside world --------------------------------- */

START_TEST(test_ping_and_fetch_outside)
{
  struct h_res r;

  H_RUN(&r, "run", "--rm", "busybox", "sh", "-c",
        "ping -c 1 -W 5 " NSB_OUTSIDE_IP " && "
        "wget -q -O - http://" NSB_OUTSIDE_IP NSB_FILE);
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_HAS(&r, out, "1 packets received");
  H_ASSERT_HAS(&r, out, NSB_FILE_TEXT);
  h_res_free(&r);
  assert_no_veths();
}
END_TEST

/* The outside host sees the sandbox's address, not the container's: the
 * traffic is masqueraded (the outside host has no route back to 10.88/16
 * at all, so without NAT there would be no answer). */
START_TEST(test_outside_sees_nat_address)
{
  struct h_res r;
  char ip[32], *forward, *table, *answer, *routes;
  int prefix;

  H_RUN(&r, "run", "--rm", "busybox", "sh", "-c",
        "ip -o -4 addr show eth0; echo ---; "
        "wget -q -O - http://" NSB_OUTSIDE_IP NSB_ADDR_PATH);
  H_ASSERT_STATUS(&r, 0);
  inet_in(r.out, ip, &prefix);
  ck_assert_msg(ip[0], "no IPv4 address on eth0:\n%s", r.out);
  ASSERT_IN_SUBNET(ip, "10.88.0.0", 16);
  answer = section(r.out, 1);
  ck_assert_msg(h_has_line(answer, NSB_HOST_IP),
                "the outside host saw \"%s\", want " NSB_HOST_IP, answer);
  free(answer);
  h_res_free(&r);
  forward = h_read_file("/proc/sys/net/ipv4/ip_forward");
  ck_assert_msg(forward && forward[0] == '1', "ip_forward is %s", forward);
  free(forward);
  table = nft_table();
  ck_assert_msg(h_contains(table, "masquerade"),
                "no masquerade in table ip mocker:\n%s", table);
  free(table);
  /* what makes the NAT necessary */
  routes = OUTSIDE_OK("ip", "route");
  ck_assert_msg(!h_contains(routes, "default") && !h_contains(routes, "10."),
                "the outside host can route back:\n%s", routes);
  free(routes);
}
END_TEST

/* inspect's NetworkSettings for a default-bridge container; its IP. */
static void assert_bridge_settings(const char *name, char ip[32])
{
  json_t *c = inspect_one(H_ARGV("inspect", name));
  char mac[18];

  snprintf(ip, 32, "%s", jstr(c, "NetworkSettings.IPAddress"));
  ASSERT_IN_SUBNET(ip, "10.88.0.0", 16);
  ck_assert_str_ne(ip, DEFAULT_GATEWAY);
  ck_assert_str_eq(jstr(c, "NetworkSettings.Gateway"), DEFAULT_GATEWAY);
  mac_for(ip, mac);
  ck_assert_str_eq(jstr(c, "NetworkSettings.MacAddress"), mac);
  ck_assert_str_eq(jstr(c, "NetworkSettings.Networks.bridge.IPAddress"), ip);
  json_decref(c);
}

/* Inside: eth0 with ip/16 and its MAC, the default route, lo up. */
static void assert_eth0_inside(const char *name, const char *ip)
{
  char want[64], mac[18];
  char *out = MOCKER_OK("exec", name, "sh", "-c",
                        "ip -o -4 addr show eth0; ip route; "
                        "cat /sys/class/net/eth0/address; ip -o link show lo");

  h_fmt(want, sizeof want, "inet %s/16", ip);
  mac_for(ip, mac);
  ck_assert_msg(h_contains(out, want), "eth0 lacks %s:\n%s", want, out);
  ck_assert_msg(h_contains(out, "default via " DEFAULT_GATEWAY " dev eth0"),
                "no default route via the gateway:\n%s", out);
  ck_assert_msg(h_has_line(out, mac), "eth0's MAC is not %s:\n%s", mac, out);
  ck_assert_msg(h_contains(out, "LOOPBACK,UP"), "lo is not up:\n%s", out);
  free(out);
}

/* Outside: mocker0 holds the gateway, the container's veth is on it. */
static void assert_on_mocker0(const char *id)
{
  char veth[16], *out;

  out = HOST_OK("ip", "-o", "-4", "addr", "show", "dev", "mocker0");
  ck_assert_msg(h_contains(out, "inet " DEFAULT_GATEWAY "/16"),
                "mocker0 lacks " DEFAULT_GATEWAY "/16:\n%s", out);
  free(out);
  veth_of(id, veth);
  out = HOST_OK("ip", "-o", "link", "show", "master", "mocker0");
  ck_assert_msg(h_contains(out, veth), "%s is not on mocker0:\n%s", veth, out);
  free(out);
}

/* A running container: its address, gateway, MAC and lo inside; the
 * bridge and its veth outside; inspect agrees with both. */
START_TEST(test_bridge_defaults)
{
  char id[65], ip[32];

  RUN_D(id, "--name", "box", "busybox", "sleep", "1000");
  assert_bridge_settings("box", ip);
  assert_eth0_inside("box", ip);
  assert_on_mocker0(id);
  MOCKER_DO("rm", "-f", "box");
  assert_veth_gone(id);
  ASSERT_NFT_LACKS(ip);
}
END_TEST

START_TEST(test_two_containers_talk)
{
  char id[65], ip[32], script[512];
  struct h_res r;

  RUN_D(id, "--name", "web", "busybox", "sh", "-c", WEB_CMD);
  container_ip("web", ip);
  h_fmt(script, sizeof script,
        "for i in $(seq 100); do "
        "timeout 3 wget -q -O - http://%s/index.html && exit 0; sleep 0.1; "
        "done; exit 1",
        ip);
  H_RUN(&r, "run", "--rm", "busybox", "sh", "-c", script);
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_HAS(&r, out, WEB_TEXT);
  h_res_free(&r);
  MOCKER_DO("rm", "-f", "web");
  assert_veth_gone(id);
}
END_TEST

/* ---- published ports ---------------------------------------------------- */

/* The host port `mocker port NAME` reports for cport ("80/tcp"), with the
 * host address it is bound to in host_ip. */
static int published_port(const char *name, const char *cport, char host_ip[64])
{
  char *out = MOCKER_OK("port", name), *line = out, prefix[64];
  int port = 0;

  h_fmt(prefix, sizeof prefix, "%s -> ", cport);
  while (line && *line && port == 0) {
    if (strncmp(line, prefix, strlen(prefix)) != 0 ||
        sscanf(line + strlen(prefix), "%63[^:\n]:%d", host_ip, &port) != 2)
      port = 0;
    line = strchr(line, '\n');
    if (line)
      line++;
  }
  ck_assert_msg(port > 0, "`mocker port %s` has no %s line:\n%s", name, cport,
                out);
  free(out);
  return port;
}

START_TEST(test_publish_port)
{
  char id[65], ip[32], url[128], host_ip[64], *out;
  json_t *c;

  RUN_D(id, "--name", "web", "-p", "8080:80", "busybox", "sh", "-c", WEB_CMD);
  container_ip("web", ip);
  assert_fetches(-1, "http://127.0.0.1:8080/index.html", WEB_TEXT);
  url_of(url, sizeof url, NSB_HOST_IP, 8080);
  assert_fetches(sb.outside_ns, url, WEB_TEXT);

  out = MOCKER_OK("port", "web");
  ck_assert_msg(h_has_line(out, "80/tcp -> 0.0.0.0:8080"),
                "`mocker port web`:\n%s", out);
  free(out);
  ck_assert_int_eq(published_port("web", "80/tcp", host_ip), 8080);
  c = inspect_one(H_ARGV("inspect", "web"));
  ck_assert_str_eq(
      jstr(json_array_get(jpath(c, "NetworkSettings.Ports.80/tcp"), 0),
           "HostPort"),
      "8080");
  json_decref(c);

  MOCKER_DO("rm", "-f", "web");
  assert_veth_gone(id);
  ASSERT_NFT_LACKS(ip, "8080");
  assert_no_fetch(sb.outside_ns, url);
}
END_TEST

/* -P publishes what --expose adds on a random port. */
START_TEST(test_publish_all_expose)
{
  char id[65], ip[32], url[128], host_ip[64], port_s[16];
  int port;

  RUN_D(id, "--name", "web", "-P", "--expose", "80", "busybox", "sh", "-c",
        WEB_CMD);
  container_ip("web", ip);
  port = published_port("web", "80/tcp", host_ip);
  ck_assert_msg(port >= 1024 && port <= 65535, "random port %d", port);
  ck_assert_str_eq(host_ip, "0.0.0.0");
  url_of(url, sizeof url, "127.0.0.1", port);
  assert_fetches(-1, url, WEB_TEXT);
  url_of(url, sizeof url, NSB_HOST_IP, port);
  assert_fetches(sb.outside_ns, url, WEB_TEXT);
  MOCKER_DO("rm", "-f", "web");
  assert_veth_gone(id);
  h_fmt(port_s, sizeof port_s, "%d", port);
  ASSERT_NFT_LACKS(ip, port_s);
}
END_TEST

/* -p CONTAINERPORT alone picks a free host port. */
START_TEST(test_publish_random_host_port)
{
  char id[65], url[128], host_ip[64];
  int port;

  RUN_D(id, "--name", "web", "-p", "80", "busybox", "sh", "-c", WEB_CMD);
  port = published_port("web", "80/tcp", host_ip);
  ck_assert_msg(port >= 1024 && port <= 65535, "random port %d", port);
  url_of(url, sizeof url, NSB_HOST_IP, port);
  assert_fetches(sb.outside_ns, url, WEB_TEXT);
  MOCKER_DO("rm", "-f", "web");
  assert_veth_gone(id);
}
END_TEST

/* -p 127.0.0.1:PORT:80 answers on the sandbox's loopback only. */
START_TEST(test_publish_host_ip)
{
  char id[65], url[128], *out;

  RUN_D(id, "--name", "web", "-p", "127.0.0.1:8081:80", "busybox", "sh", "-c",
        WEB_CMD);
  out = MOCKER_OK("port", "web");
  ck_assert_msg(h_has_line(out, "80/tcp -> 127.0.0.1:8081"),
                "`mocker port web`:\n%s", out);
  free(out);
  assert_fetches(-1, "http://127.0.0.1:8081/index.html", WEB_TEXT);
  url_of(url, sizeof url, NSB_HOST_IP, 8081);
  assert_no_fetch(sb.outside_ns, url);
  MOCKER_DO("rm", "-f", "web");
  assert_veth_gone(id);
}
END_TEST

/* A DHCPDISCOVER: the one UDP request busybox can serve (udhcpd), and it
 * logs "sending OFFER" for each. */
static size_t dhcp_discover(uint8_t *p, size_t size)
{
  static const uint8_t cookie_and_options[] = {0x63, 0x82, 0x53, 0x63,
                                               53,   1,    1,    255};

  ck_assert_uint_ge(size, 236 + sizeof cookie_and_options);
  memset(p, 0, size);
  p[0] = 1; /* BOOTREQUEST */
  p[1] = 1; /* Ethernet */
  p[2] = 6;
  memcpy(p + 4, "\x4d\x6b\x4e\x74", 4);          /* xid */
  memcpy(p + 28, "\x02\x00\x00\x00\x00\x01", 6); /* chaddr */
  memcpy(p + 236, cookie_and_options, sizeof cookie_and_options);
  return 236 + sizeof cookie_and_options;
}

static bool logs_have(const char *name, const char *text)
{
  struct h_res r;
  bool found;

  H_RUN(&r, "logs", name);
  found = r.status == 0 && (h_contains(r.out, text) || h_contains(r.err, text));
  h_res_free(&r);
  return found;
}

START_TEST(test_publish_udp)
{
  static const char udhcpd[] =
      "ip=$(ip -o -4 addr show eth0 | sed 's/.*inet \\([0-9.]*\\).*/\\1/'); "
      "pre=${ip%.*}; "
      "printf 'interface eth0\\nstart %s.200\\nend %s.210\\n"
      "lease_file /tmp/leases\\n' $pre $pre > /tmp/u.conf; "
      "exec udhcpd -f -a 100 /tmp/u.conf";
  char id[65], host_ip[64], err[NSB_ERR], *out;
  uint8_t pkt[300];
  size_t len = dhcp_discover(pkt, sizeof pkt);
  long deadline;
  bool offered = false;

  RUN_D(id, "--name", "dhcp", "-p", "6767:67/udp", "busybox", "sh", "-c",
        udhcpd);
  out = MOCKER_OK("port", "dhcp");
  ck_assert_msg(h_has_line(out, "67/udp -> 0.0.0.0:6767"),
                "`mocker port dhcp`:\n%s", out);
  free(out);
  ck_assert_int_eq(published_port("dhcp", "67/udp", host_ip), 6767);
  /* Datagrams are lost while udhcpd starts: resend until it answers. */
  for (deadline = h_now_ms() + FETCH_MS; !offered && h_now_ms() < deadline;) {
    ck_assert_msg(nsb_outside_udp_send(&sb, NSB_HOST_IP, 6767, pkt, len, err,
                                       sizeof err) == 0,
                  "%s", err);
    usleep(300 * 1000);
    offered = logs_have("dhcp", "sending OFFER");
  }
  ck_assert_msg(offered, "udhcpd in the container never saw the datagram "
                         "sent to " NSB_HOST_IP ":6767 from outside");
  MOCKER_DO("rm", "-f", "dhcp");
  assert_veth_gone(id);
  ASSERT_NFT_LACKS("6767");
}
END_TEST

/* What a failed run must not leave: a running container, a veth, or an
 * nft rule for its port. */
static void assert_run_left_nothing(const char *port)
{
  char *out = MOCKER_OK("ps", "-q");

  ck_assert_msg(out[0] == '\0', "containers running after a failed run:\n%s",
                out);
  free(out);
  assert_no_veths();
  ASSERT_NFT_LACKS(port);
}

static void assert_port_taken_error(const struct h_res *r, const char *port)
{
  H_ASSERT_STATUS(r, 125);
  H_ASSERT_HAS(r, err, port);
  ck_assert_msg(h_contains(r->err, "already in use") ||
                    h_contains(r->err, "already allocated"),
                "`%s`: stderr does not say the port is already in use or "
                "allocated:\n%s",
                h_last_cmd(), r->err);
}

/* Containers that a failed run may leave "created" (as Docker does). */
static void rm_all_containers(void)
{
  char *out = MOCKER_OK("ps", "-aq"), *save = NULL;

  for (char *id = strtok_r(out, "\n", &save); id;
       id = strtok_r(NULL, "\n", &save))
    MOCKER_DO("rm", "-f", id);
  free(out);
}

START_TEST(test_port_in_use_by_host_listener)
{
  int fd = nsb_tcp_listen("0.0.0.0", 8082);
  char id[65], url[128];
  struct h_res r;

  ck_assert_msg(fd >= 0, "listen on 8082: %s", strerror(errno));
  H_RUN(&r, "run", "-d", "--name", "web", "-p", "8082:80", "busybox", "sh",
        "-c", WEB_CMD);
  close(fd);
  assert_port_taken_error(&r, "8082");
  h_res_free(&r);
  assert_run_left_nothing("8082");
  rm_all_containers();

  /* the port is usable once the listener is gone */
  RUN_D(id, "--name", "web2", "-p", "8082:80", "busybox", "sh", "-c", WEB_CMD);
  url_of(url, sizeof url, NSB_HOST_IP, 8082);
  assert_fetches(sb.outside_ns, url, WEB_TEXT);
  MOCKER_DO("rm", "-f", "web2");
  assert_veth_gone(id);
}
END_TEST

START_TEST(test_port_in_use_by_container)
{
  char first[65], second[65], url[128], veth[16], *links;
  struct h_res r;
  int n;

  RUN_D(first, "--name", "first", "-p", "8083:80", "busybox", "sh", "-c",
        WEB_CMD);
  H_RUN(&r, "run", "-d", "--name", "second", "-p", "8083:80", "busybox", "sh",
        "-c", WEB_CMD);
  assert_port_taken_error(&r, "8083");
  h_res_free(&r);

  /* the refused one left nothing, and did not break the first one */
  veth_of(first, veth);
  n = veth_count(&links);
  ck_assert_msg(n == 1 && h_contains(links, veth),
                "want only %s on the host, have:\n%s", veth, links);
  free(links);
  url_of(url, sizeof url, NSB_HOST_IP, 8083);
  assert_fetches(sb.outside_ns, url, WEB_TEXT);

  MOCKER_DO("rm", "-f", "first");
  rm_all_containers();
  assert_veth_gone(first);
  RUN_D(second, "--name", "third", "-p", "8083:80", "busybox", "sh", "-c",
        WEB_CMD);
  assert_fetches(sb.outside_ns, url, WEB_TEXT);
  MOCKER_DO("rm", "-f", "third");
  assert_veth_gone(second);
}
END_TEST

/* A /29 has five addresses for containers. Runs refused for a taken port
 * must not hold any: after six refusals, five containers still start. */
START_TEST(test_refused_runs_hold_no_address)
{
  int fd = nsb_tcp_listen("0.0.0.0", 8084);
  char ids[5][65], ips[5][32];
  struct h_res r;

  write_config("{\"bip\": \"10.77.0.1/29\"}\n");
  ck_assert_msg(fd >= 0, "listen on 8084: %s", strerror(errno));
  for (int i = 0; i < 6; i++) {
    H_RUN(&r, "run", "-d", "-p", "8084:80", "busybox", "sleep", "1000");
    assert_port_taken_error(&r, "8084");
    h_res_free(&r);
  }
  close(fd);
  rm_all_containers();
  for (int i = 0; i < 5; i++) {
    RUN_D(ids[i], "busybox", "sleep", "1000");
    container_ip(ids[i], ips[i]);
    ASSERT_IN_SUBNET(ips[i], "10.77.0.0", 29);
    for (int j = 0; j < i; j++)
      ck_assert_str_ne(ips[i], ips[j]);
  }
  for (int i = 0; i < 5; i++)
    MOCKER_DO("rm", "-f", ids[i]);
  assert_no_veths();
}
END_TEST

/* ---- --network none | host | container: -------------------------------- */

START_TEST(test_network_none)
{
  char id[65], *out;
  struct h_res r;

  H_RUN(&r, "run", "--rm", "--network", "none", "busybox", "sh", "-c",
        "ls /sys/class/net; echo ---; ip -o -4 addr; "
        "ping -c 1 -W 1 " NSB_OUTSIDE_IP " >/dev/null 2>&1; echo ping=$?");
  H_ASSERT_STATUS(&r, 0);
  ck_assert_msg(strncmp(r.out, "lo\n---\n", 7) == 0,
                "interfaces are not just lo:\n%s", r.out);
  H_ASSERT_HAS(&r, out, "127.0.0.1");
  ck_assert_msg(!h_has_line(r.out, "ping=0"),
                "--network none reached the outside host:\n%s", r.out);
  h_res_free(&r);

  RUN_D(id, "--name", "quiet", "--network", "none", "busybox", "sleep", "1000");
  ck_assert_int_eq(veth_count(NULL), 0);
  out = MOCKER_OK("exec", "quiet", "ls", "/sys/class/net");
  ck_assert_msg(strcmp(out, "lo\n") == 0, "interfaces are not just lo:\n%s",
                out);
  free(out);
  MOCKER_DO("rm", "-f", "quiet");
}
END_TEST

START_TEST(test_network_host)
{
  char hostname[256] = "";
  struct h_res r;

  ck_assert_int_eq(gethostname(hostname, sizeof hostname - 1), 0);
  H_RUN(&r, "run", "--rm", "--network", "host", "busybox", "sh", "-c",
        "ip -o -4 addr show " NSB_UPLINK "; echo ---; hostname; echo ---; "
        "wget -q -O - http://" NSB_OUTSIDE_IP NSB_ADDR_PATH);
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_HAS(&r, out, "inet " NSB_HOST_IP "/24");
  ck_assert_msg(h_has_line(r.out, hostname),
                "hostname inside is not the host's (%s):\n%s", hostname, r.out);
  ck_assert_msg(h_has_line(r.out, NSB_HOST_IP),
                "the outside host did not see " NSB_HOST_IP ":\n%s", r.out);
  h_res_free(&r);
  ck_assert_int_eq(veth_count(NULL), 0);
}
END_TEST

/* Joining another container's namespace: same eth0, same address, and
 * its loopback too (a server on 127.0.0.1 answers the joiner). */
START_TEST(test_network_container)
{
  static const char lo_web[] =
      "mkdir -p /www && echo shared-lo > /www/index.html && "
      "exec httpd -f -p 127.0.0.1:80 -h /www";
  char base[65], ip[32], mac[18], want[64], arg[128];
  struct h_res r;

  RUN_D(base, "--name", "base", "busybox", "sh", "-c", lo_web);
  container_ip("base", ip);
  net_setting("base", "MacAddress", mac, sizeof mac);
  H_RUN(&r, "run", "--rm", "--network", "container:base", "busybox", "sh", "-c",
        "ip -o -4 addr show eth0; cat /sys/class/net/eth0/address; "
        "for i in $(seq 100); do "
        "timeout 3 wget -q -O - http://127.0.0.1/index.html && exit 0; "
        "sleep 0.1; done; exit 1");
  H_ASSERT_STATUS(&r, 0);
  h_fmt(want, sizeof want, "inet %s/", ip);
  H_ASSERT_HAS(&r, out, want);
  ck_assert_msg(mac[0] && h_has_line(r.out, mac), "eth0's MAC is not %s:\n%s",
                mac, r.out);
  ck_assert_msg(h_has_line(r.out, "shared-lo"), "no shared loopback:\n%s",
                r.out);
  h_res_free(&r);
  ck_assert_int_eq(veth_count(NULL), 1);

  /* by id prefix too */
  h_fmt(arg, sizeof arg, "container:%.12s", base);
  H_RUN(&r, "run", "--rm", "--network", arg, "busybox", "ip", "-o", "-4",
        "addr", "show", "eth0");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_HAS(&r, out, want);
  h_res_free(&r);

  MOCKER_DO("rm", "-f", "base");
  assert_veth_gone(base);
}
END_TEST

/* ---- DNS files ---------------------------------------------------------- */

START_TEST(test_hosts_and_hostname)
{
  char *hosts, *rest, ip[32];
  int prefix;
  struct h_res r;

  H_RUN(&r, "run", "--rm", "-h", "myhost", "busybox", "sh", "-c",
        "cat /etc/hosts; echo ---; cat /etc/hostname; hostname; echo ---; "
        "ip -o -4 addr show eth0");
  H_ASSERT_STATUS(&r, 0);
  hosts = section(r.out, 0);
  rest = section(r.out, 2);
  inet_in(rest, ip, &prefix);
  ck_assert_msg(ip[0], "no address on eth0:\n%s", r.out);
  ASSERT_HOSTS_MAPS(hosts, "127.0.0.1", "localhost");
  ASSERT_HOSTS_MAPS(hosts, "::1", "localhost");
  ASSERT_HOSTS_MAPS(hosts, "::1", "ip6-localhost");
  ASSERT_HOSTS_MAPS(hosts, "ff02::1", "ip6-allnodes");
  ASSERT_HOSTS_MAPS(hosts, "ff02::2", "ip6-allrouters");
  ASSERT_HOSTS_MAPS(hosts, ip, "myhost");
  free(rest);
  rest = section(r.out, 1);
  ck_assert_msg(strcmp(rest, "myhost\nmyhost\n") == 0,
                "/etc/hostname and hostname: \"%s\"", rest);
  free(rest);
  free(hosts);
  h_res_free(&r);
}
END_TEST

/* The host's resolv.conf as mocker reads it: bind-mounted over
 * /etc/resolv.conf in a mount namespace of this test's own, a slave of
 * the host's so nothing propagates back. */
static void use_host_resolv(const char *text)
{
  char path[4200];

  h_fmt(path, sizeof path, "%s/resolv.conf", h.host);
  h_write_file(path, text);
  ck_assert_msg(unshare(CLONE_NEWNS) == 0, "unshare(CLONE_NEWNS): %s",
                strerror(errno));
  ck_assert_msg(mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) == 0,
                "make / rslave: %s", strerror(errno));
  ck_assert_msg(mount(path, "/etc/resolv.conf", NULL, MS_BIND, NULL) == 0,
                "bind %s on /etc/resolv.conf: %s", path, strerror(errno));
}

static char *container_resolv(void)
{
  return MOCKER_OK("run", "--rm", "busybox", "cat", "/etc/resolv.conf");
}

START_TEST(test_resolv_conf_filtered)
{
  char *conf;

  use_host_resolv("nameserver 127.0.0.53\n"
                  "nameserver 192.0.2.53\n"
                  "nameserver ::1\n"
                  "search example.test\n"
                  "options ndots:2\n");
  conf = container_resolv();
  ck_assert_msg(h_has_line(conf, "nameserver 192.0.2.53") &&
                    !h_contains(conf, "127.0.0.53") &&
                    !h_contains(conf, "nameserver ::1") &&
                    h_has_line(conf, "search example.test") &&
                    h_contains(conf, "ndots:2"),
                "resolv.conf is not the host's minus loopback servers:\n%s",
                conf);
  free(conf);
}
END_TEST

START_TEST(test_resolv_conf_fallback)
{
  char *conf;

  use_host_resolv("nameserver 127.0.0.1\nsearch example.test\n");
  conf = container_resolv();
  ck_assert_msg(h_has_line(conf, "nameserver 8.8.8.8") &&
                    h_has_line(conf, "nameserver 8.8.4.4") &&
                    !h_contains(conf, "127.0.0.1"),
                "no loopback server left: want Google's, got:\n%s", conf);
  free(conf);
}
END_TEST

START_TEST(test_dns_and_add_host)
{
  char *conf, *hosts;
  struct h_res r;

  H_RUN(&r, "run", "--rm", "--dns", "192.0.2.1", "--dns", "192.0.2.2",
        "--add-host", "db:192.0.2.10", "--add-host", "me:127.0.0.1",
        "--add-host", "gw:host-gateway", "busybox", "sh", "-c",
        "cat /etc/resolv.conf; echo ---; cat /etc/hosts; echo ---; "
        "ping -c 1 -W 2 me && ping -c 1 -W 2 gw");
  H_ASSERT_STATUS(&r, 0);
  conf = section(r.out, 0);
  hosts = section(r.out, 1);
  ck_assert_msg(h_has_line(conf, "nameserver 192.0.2.1") &&
                    h_has_line(conf, "nameserver 192.0.2.2"),
                "--dns servers missing:\n%s", conf);
  ck_assert_msg(!h_contains(conf, "nameserver 10.") &&
                    !h_contains(conf, "8.8.8.8"),
                "--dns did not replace the nameservers:\n%s", conf);
  ASSERT_HOSTS_MAPS(hosts, "192.0.2.10", "db");
  ASSERT_HOSTS_MAPS(hosts, "127.0.0.1", "me");
  /* Docker's host-gateway: the host's address on the bridge */
  ASSERT_HOSTS_MAPS(hosts, "10.88.0.1", "gw");
  H_ASSERT_HAS(&r, out, "PING me (127.0.0.1)");
  H_ASSERT_HAS(&r, out, "PING gw (10.88.0.1)");
  free(conf);
  free(hosts);
  h_res_free(&r);
}
END_TEST

/* ---- configuration --------------------------------------------------------
 */

START_TEST(test_custom_bip)
{
  char ip[32], *answer, *out;
  int prefix;
  struct h_res r;

  write_config("{\"bip\": \"10.99.0.1/24\"}\n");
  H_RUN(&r, "run", "--rm", "busybox", "sh", "-c",
        "ip -o -4 addr show eth0; ip route; echo ---; "
        "wget -q -O - http://" NSB_OUTSIDE_IP NSB_ADDR_PATH);
  H_ASSERT_STATUS(&r, 0);
  inet_in(r.out, ip, &prefix);
  ck_assert_msg(ip[0] && prefix == 24, "eth0:\n%s", r.out);
  ASSERT_IN_SUBNET(ip, "10.99.0.0", 24);
  H_ASSERT_HAS(&r, out, "default via 10.99.0.1 dev eth0");
  answer = section(r.out, 1);
  ck_assert_msg(h_has_line(answer, NSB_HOST_IP),
                "the outside host saw \"%s\", want " NSB_HOST_IP, answer);
  free(answer);
  h_res_free(&r);
  out = HOST_OK("ip", "-o", "-4", "addr", "show", "dev", "mocker0");
  ck_assert_msg(h_contains(out, "inet 10.99.0.1/24"), "mocker0:\n%s", out);
  free(out);
}
END_TEST

/* ---- user-defined networks ---------------------------------------------- */

/* The `network ls` row for name: its columns split on runs of spaces. */
static bool ls_row(const char *ls, const char *name, char cols[4][80])
{
  char *copy = strdup(ls), *save = NULL;
  bool found = false;

  for (char *line = strtok_r(copy, "\n", &save); line && !found;
       line = strtok_r(NULL, "\n", &save)) {
    found = sscanf(line, "%79s %79s %79s %79s", cols[0], cols[1], cols[2],
                   cols[3]) == 4 &&
            strcmp(cols[1], name) == 0;
  }
  free(copy);
  return found;
}

static void assert_ls_row(const char *ls, const char *name, const char *driver)
{
  char cols[4][80];

  ck_assert_msg(ls_row(ls, name, cols), "`network ls` has no %s:\n%s", name,
                ls);
  ck_assert_msg(strcmp(cols[2], driver) == 0 && strcmp(cols[3], "local") == 0,
                "`network ls` row for %s: driver %s scope %s, want %s local",
                name, cols[2], cols[3], driver);
}

static void assert_network_ls(const char *name, const char *id)
{
  char *ls = MOCKER_OK("network", "ls"), cols[4][80];

  ck_assert_msg(strncmp(ls, "NETWORK ID", 10) == 0 && h_contains(ls, "NAME") &&
                    h_contains(ls, "DRIVER") && h_contains(ls, "SCOPE"),
                "`network ls` header:\n%s", ls);
  assert_ls_row(ls, "bridge", "bridge");
  assert_ls_row(ls, "host", "host");
  assert_ls_row(ls, "none", "null");
  assert_ls_row(ls, name, "bridge");
  ls_row(ls, name, cols);
  ck_assert_msg(strncmp(cols[0], id, 12) == 0 && strlen(cols[0]) == 12,
                "`network ls` shows id %s for %s, want %.12s", cols[0], name,
                id);
  free(ls);
}

/* `network inspect` of a fresh mynet (10.123.0.0/24): its id. */
static void assert_new_network(char net_id[65])
{
  json_t *n = inspect_one(H_ARGV("network", "inspect", "mynet"));
  json_t *ipam = json_array_get(jpath(n, "IPAM.Config"), 0);

  ck_assert_str_eq(jstr(n, "Name"), "mynet");
  ck_assert_str_eq(jstr(n, "Driver"), "bridge");
  snprintf(net_id, 65, "%s", jstr(n, "Id"));
  ck_assert_msg(strlen(net_id) == 64 && h_is_hex(net_id, 64), "Id \"%s\"",
                net_id);
  ck_assert_str_eq(jstr(ipam, "Subnet"), "10.123.0.0/24");
  ck_assert_str_eq(jstr(ipam, "Gateway"), "10.123.0.1");
  ck_assert_msg(json_object_size(jpath(n, "Containers")) == 0,
                "a new network has containers");
  json_decref(n);
}

/* A container on mynet: its address and route, its entry in the
 * network's Containers, and NAT to the outside host. */
static void assert_member(const char *id)
{
  json_t *n = inspect_one(H_ARGV("inspect", id));
  char ip[32], *out;

  snprintf(ip, sizeof ip, "%s",
           jstr(n, "NetworkSettings.Networks.mynet.IPAddress"));
  json_decref(n);
  ASSERT_IN_SUBNET(ip, "10.123.0.0", 24);
  ck_assert_str_ne(ip, "10.123.0.1");
  n = inspect_one(H_ARGV("network", "inspect", "mynet"));
  ck_assert_msg(json_object_get(jpath(n, "Containers"), id) != NULL,
                "network inspect: Containers lacks %.12s", id);
  json_decref(n);
  out = MOCKER_OK("exec", id, "sh", "-c",
                  "ip route; echo ---; "
                  "wget -q -O - http://" NSB_OUTSIDE_IP NSB_ADDR_PATH);
  ck_assert_msg(h_contains(out, "default via 10.123.0.1"), "routes:\n%s", out);
  ck_assert_msg(h_has_line(out, NSB_HOST_IP),
                "the outside host did not see " NSB_HOST_IP ":\n%s", out);
  free(out);
}

static void assert_network_gone(void)
{
  struct h_res r;
  char *out = MOCKER_OK("network", "ls");

  ck_assert_msg(!has_token(out, "mynet"), "mynet still listed:\n%s", out);
  free(out);
  H_RUN(&r, "network", "inspect", "mynet");
  ck_assert_msg(r.status != 0, "inspect of a removed network worked");
  h_res_free(&r);
  out = HOST_OK("ip", "-o", "-4", "addr");
  ck_assert_msg(!h_contains(out, "10.123.0.1/"),
                "the network's gateway address is still on the host:\n%s", out);
  free(out);
}

START_TEST(test_network_create_ls_inspect_rm)
{
  char id[65], net_id[65], *out;
  struct h_res r;

  MOCKER_DO("network", "create", "--subnet", "10.123.0.0/24", "--gateway",
            "10.123.0.1", "mynet");
  assert_new_network(net_id);
  assert_network_ls("mynet", net_id);
  out = MOCKER_OK("network", "inspect", "bridge", "mynet");
  ck_assert_msg(h_contains(out, "\"bridge\"") && h_contains(out, "\"mynet\""),
                "`network inspect bridge mynet`:\n%s", out);
  free(out);

  RUN_D(id, "--name", "member", "--network", "mynet", "busybox", "sleep",
        "1000");
  assert_member(id);
  H_RUN(&r, "network", "rm", "mynet");
  ck_assert_msg(r.status != 0, "`network rm` of a network in use worked");
  H_ASSERT_HAS(&r, err, "mynet");
  h_res_free(&r);
  assert_network_ls("mynet", net_id);

  MOCKER_DO("rm", "-f", "member");
  assert_veth_gone(id);
  MOCKER_DO("network", "rm", "mynet");
  assert_network_gone();
}
END_TEST

static bool hosts_lacks_name(void *arg)
{
  const char **a = arg; /* {container, name} */
  struct h_res r;
  bool lacks;

  H_RUN(&r, "exec", a[0], "cat", "/etc/hosts");
  lacks = r.status == 0 && !has_token(r.out, a[1]);
  h_res_free(&r);
  return lacks;
}

static void assert_pings(const char *from, const char *name, const char *ip)
{
  char want[64];
  struct h_res r;

  H_RUN(&r, "exec", from, "ping", "-c", "1", "-W", "5", name);
  H_ASSERT_STATUS(&r, 0);
  h_fmt(want, sizeof want, "PING %s (%s)", name, ip);
  H_ASSERT_HAS(&r, out, want);
  h_res_free(&r);
}

/* Peers on a user network resolve each other by name, the earlier one
 * included, and a stopped peer leaves the others' /etc/hosts. */
START_TEST(test_user_network_names)
{
  char alpha[65], beta[65], alpha_ip[32], beta_ip[32], *hosts;

  MOCKER_DO("network", "create", "--subnet", "10.124.0.0/24", "dnsnet");
  RUN_D(alpha, "--name", "alpha", "--network", "dnsnet", "busybox", "sleep",
        "1000");
  RUN_D(beta, "--name", "beta", "--network", "dnsnet", "busybox", "sleep",
        "1000");
  container_ip("alpha", alpha_ip);
  container_ip("beta", beta_ip);
  hosts = MOCKER_OK("exec", "alpha", "cat", "/etc/hosts");
  ASSERT_HOSTS_MAPS(hosts, beta_ip, "beta");
  free(hosts);
  assert_pings("alpha", "beta", beta_ip);
  assert_pings("beta", "alpha", alpha_ip);

  MOCKER_DO("stop", "-t", "1", "beta");
  ck_assert_msg(
      h_poll(hosts_lacks_name, (const char *[]){"alpha", "beta"}, GONE_MS),
      "alpha's /etc/hosts still names the stopped beta");
  MOCKER_DO("rm", "-f", "alpha", "beta");
  assert_no_veths();
  MOCKER_DO("network", "rm", "dnsnet");
}
END_TEST

/* ---- cleanup ------------------------------------------------------------ */

START_TEST(test_cleanup_after_foreground_run)
{
  char id[65], ip[32];
  int prefix;
  struct h_res r;

  H_RUN(&r, "run", "--name", "fg", "-p", "8085:80", "busybox", "ip", "-o", "-4",
        "addr", "show", "eth0");
  H_ASSERT_STATUS(&r, 0);
  inet_in(r.out, ip, &prefix);
  ck_assert_msg(ip[0], "no address on eth0:\n%s", r.out);
  h_res_free(&r);
  full_id("fg", id);
  assert_veth_gone(id);
  ASSERT_NFT_LACKS(ip, "8085");
  MOCKER_DO("rm", "fg");
}
END_TEST

START_TEST(test_cleanup_after_stop)
{
  char id[65], ip[32], url[128];

  RUN_D(id, "--name", "web", "-p", "8086:80", "busybox", "sh", "-c", WEB_CMD);
  container_ip("web", ip);
  url_of(url, sizeof url, NSB_HOST_IP, 8086);
  assert_fetches(sb.outside_ns, url, WEB_TEXT);
  MOCKER_DO("stop", "-t", "1", "web");
  assert_veth_gone(id);
  ASSERT_NFT_LACKS(ip, "8086");
  assert_no_fetch(sb.outside_ns, url);
  MOCKER_DO("rm", "web");
}
END_TEST

START_TEST(test_cleanup_after_rm_option)
{
  char ip[32];
  int prefix;
  struct h_res r;

  H_RUN(&r, "run", "--rm", "-p", "8088:80", "busybox", "ip", "-o", "-4", "addr",
        "show", "eth0");
  H_ASSERT_STATUS(&r, 0);
  inet_in(r.out, ip, &prefix);
  ck_assert_msg(ip[0], "no address on eth0:\n%s", r.out);
  h_res_free(&r);
  assert_no_veths();
  ASSERT_NFT_LACKS(ip, "8088");
}
END_TEST

/* The value of key in the container's state file, or 0. */
static int state_int(const char *id, const char *key)
{
  char path[4400], *text, *p, want[64];
  int v = 0;

  h_fmt(path, sizeof path, "%s/containers/%s/state", h.root, id);
  h_fmt(want, sizeof want, "\n%s=", key);
  text = h_read_file(path);
  ck_assert_msg(text, "no state file %s", path);
  if (strncmp(text, want + 1, strlen(want + 1)) == 0)
    v = atoi(text + strlen(want + 1));
  else if ((p = strstr(text, want)))
    v = atoi(p + strlen(want));
  free(text);
  return v;
}

static bool pid_gone(void *arg)
{
  return !h_pid_alive(*(pid_t *)arg);
}

/* The monitor SIGKILLed: no one cleaned up at exit, so `rm -f` must. */
START_TEST(test_cleanup_after_monitor_killed)
{
  char id[65], again[65], ip[32], url[128];
  pid_t monitor, init;

  RUN_D(id, "-p", "8087:80", "busybox", "sh", "-c", WEB_CMD);
  container_ip(id, ip);
  url_of(url, sizeof url, NSB_HOST_IP, 8087);
  assert_fetches(sb.outside_ns, url, WEB_TEXT);
  monitor = state_int(id, "MonitorPid");
  init = state_int(id, "InitPid");
  ck_assert_int_gt(monitor, 0);
  ck_assert_int_eq(kill(monitor, SIGKILL), 0);
  ck_assert_msg(h_poll(pid_gone, &init, H_TIMEOUT_MS),
                "init %d outlived its monitor", (int)init);
  MOCKER_DO("rm", "-f", id);
  assert_veth_gone(id);
  ASSERT_NFT_LACKS(ip, "8087");

  /* and the port is free again */
  RUN_D(again, "-p", "8087:80", "busybox", "sh", "-c", WEB_CMD);
  assert_fetches(sb.outside_ns, url, WEB_TEXT);
  MOCKER_DO("rm", "-f", again);
  assert_veth_gone(again);
}
END_TEST

#define PARALLEL 50

static void spawn_runs(pid_t pids[], int outs[])
{
  for (int i = 0; i < PARALLEL; i++) {
    char path[4300];

    h_fmt(path, sizeof path, "%s/run%d.out", h.host, i);
    outs[i] = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ck_assert_msg(outs[i] >= 0, "open %s", path);
    pids[i] = h_spawn(H_ARGV("run", "-d", "busybox", "sleep", "1000"), outs[i],
                      outs[i]);
  }
}

/* Waits for the runs and reads each id (ids[i] stays "" on failure). */
static int collect_runs(pid_t pids[], int outs[], char ids[][65])
{
  int failed = 0;

  for (int i = 0; i < PARALLEL; i++) {
    int status = h_wait(pids[i], 120000);
    char buf[512] = "";
    ssize_t n = pread(outs[i], buf, sizeof buf - 1, 0);

    buf[n > 0 ? n : 0] = '\0';
    close(outs[i]);
    ids[i][0] = '\0';
    if (status == 0 && n >= 64 && h_is_hex(buf, 64))
      snprintf(ids[i], 65, "%.64s", buf);
    else if (failed++ == 0)
      fprintf(stderr, "parallel run %d: status %d: %s\n", i, status, buf);
  }
  return failed;
}

static void rm_ids(char ids[][65], int n)
{
  const char *argv[PARALLEL + 3];
  int k = 0;
  struct h_res r;

  argv[k++] = "rm";
  argv[k++] = "-f";
  for (int i = 0; i < n; i++)
    if (ids[i][0])
      argv[k++] = ids[i];
  argv[k] = NULL;
  if (k == 2)
    return;
  h_run(&r, &(struct h_opts){.timeout_ms = 120000}, argv);
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
}

/* Distinct addresses for each of the runs, all in 10.88/16 (not the
 * gateway); the number of veths on the host. */
static void assert_distinct_ips(char ids[][65], char ips[][32])
{
  for (int i = 0; i < PARALLEL; i++) {
    container_ip(ids[i], ips[i]);
    ASSERT_IN_SUBNET(ips[i], "10.88.0.0", 16);
    ck_assert_str_ne(ips[i], DEFAULT_GATEWAY);
    for (int j = 0; j < i; j++)
      ck_assert_msg(strcmp(ips[i], ips[j]) != 0,
                    "containers %.12s and %.12s both have %s", ids[i], ids[j],
                    ips[i]);
  }
}

START_TEST(test_parallel_runs_distinct_addresses)
{
  static char ids[PARALLEL][65], ips[PARALLEL][32];
  const char *words[PARALLEL + 1];
  pid_t pids[PARALLEL];
  int outs[PARALLEL], failed;

  spawn_runs(pids, outs);
  failed = collect_runs(pids, outs, ids);
  if (failed) {
    rm_ids(ids, PARALLEL);
    ck_abort_msg("%d of %d parallel `run -d` failed (first one above)", failed,
                 PARALLEL);
  }
  assert_distinct_ips(ids, ips);
  ck_assert_int_eq(veth_count(NULL), PARALLEL);
  rm_ids(ids, PARALLEL);
  assert_no_veths();
  for (int i = 0; i < PARALLEL; i++)
    words[i] = ips[i];
  words[PARALLEL] = NULL;
  assert_nft_lacks(words);
}
END_TEST

/* ---- suite ----------------------------------------------------------------
 */

static Suite *network_suite(void)
{
  Suite *s = suite_create("network");
  TCase *tc;

  tc = net_tcase("bridge", 60);
  tcase_add_test(tc, test_ping_and_fetch_outside);
  tcase_add_test(tc, test_outside_sees_nat_address);
  tcase_add_test(tc, test_bridge_defaults);
  tcase_add_test(tc, test_two_containers_talk);
  tcase_add_test(tc, test_custom_bip);
  suite_add_tcase(s, tc);

  tc = net_tcase("ports", 60);
  tcase_add_test(tc, test_publish_port);
  tcase_add_test(tc, test_publish_all_expose);
  tcase_add_test(tc, test_publish_random_host_port);
  tcase_add_test(tc, test_publish_host_ip);
  tcase_add_test(tc, test_publish_udp);
  tcase_add_test(tc, test_port_in_use_by_host_listener);
  tcase_add_test(tc, test_port_in_use_by_container);
  tcase_add_test(tc, test_refused_runs_hold_no_address);
  suite_add_tcase(s, tc);

  tc = net_tcase("modes", 60);
  tcase_add_test(tc, test_network_none);
  tcase_add_test(tc, test_network_host);
  tcase_add_test(tc, test_network_container);
  suite_add_tcase(s, tc);

  tc = net_tcase("dns", 60);
  tcase_add_test(tc, test_hosts_and_hostname);
  tcase_add_test(tc, test_resolv_conf_filtered);
  tcase_add_test(tc, test_resolv_conf_fallback);
  tcase_add_test(tc, test_dns_and_add_host);
  suite_add_tcase(s, tc);

  tc = net_tcase("user_networks", 60);
  tcase_add_test(tc, test_network_create_ls_inspect_rm);
  tcase_add_test(tc, test_user_network_names);
  suite_add_tcase(s, tc);

  tc = net_tcase("cleanup", 180);
  tcase_add_test(tc, test_cleanup_after_foreground_run);
  tcase_add_test(tc, test_cleanup_after_stop);
  tcase_add_test(tc, test_cleanup_after_rm_option);
  tcase_add_test(tc, test_cleanup_after_monitor_killed);
  tcase_add_test(tc, test_parallel_runs_distinct_addresses);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  char err[NSB_ERR];

  /* First, before anything can touch a network: the suite's "host" is a
   * namespace of its own, never the machine's. */
  if (nsb_unshare_net(err, sizeof err) < 0) {
    fprintf(stderr, "check_network: %s (run as root)\n", err);
    return 1;
  }
  return h_main(network_suite());
}
