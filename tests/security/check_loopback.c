/* The host's loopback, 127.0.0.0/8, must stay the host's: no port
 * published on 127.0.0.1 may be reached from the network
 * (CVE-2020-8558's class), and no container may reach a host service
 * bound to 127.0.0.1 through its gateway. Both attacks are replayed with
 * hand-built Ethernet frames (the probe's `rawsyn` mode, over AF_PACKET),
 * since no ordinary socket sends a packet to 127.0.0.1 out of a real
 * interface.
 *
 * Safety: main() moves the suite into a network namespace of its own,
 * and every test into a fresh one (netsandbox.h): the "neighbour" is the
 * sandbox's outside host, on a veth link to the sandbox host, and every
 * frame stays between namespaces this suite made. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <check.h>
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "netsandbox.h"
#include "net/nft.h"
#include "sec.h"

#define DEFAULT_GATEWAY "10.88.0.1"
/* Unused addresses on each link, for the probe's SYN to come from: see
 * probe.c (the probe answers ARP for them and completes the handshake). */
#define SPOOF_OUTSIDE "198.51.100.254" /* on the uplink's 198.51.100.0/24 */
#define SPOOF_BRIDGE "10.88.255.254"   /* in the default 10.88.0.0/16 */
#define LOOPBACK_PORT 8080             /* published on 127.0.0.1 only */
#define ANY_PORT 8081                  /* published on every address */
#define SECRET_PORT 9999               /* a host service on 127.0.0.1 only */
#define OPEN_PORT 9998                 /* a host service on every address */
#define UDP_PORT 9997                  /* a UDP service on every address */
#define WEB_TEXT "served from the container"
#define WEB_CMD                                                                \
  "mkdir -p /www && echo '" WEB_TEXT "' > /www/index.html && "                 \
  "exec httpd -f -p 80 -h /www"
#define STR_(x) #x
#define STR(x) STR_(x)
#define FETCH_MS 10000
#define PROBE_MS 15000

/* This test's sandbox: the outside host is the neighbour on the link. */
static struct nsb sb;

/* ---- fixtures ---------------------------------------------------------- */

/* mocker's defaults (the default bridge is 10.88.0.0/16), never the
 * machine's /etc/mocker. */
static void write_default_config(void)
{
  char dir[4200], path[4300];

  h_fmt(dir, sizeof dir, "%s/etc-mocker", h.host);
  h_fmt(path, sizeof path, "%s/config.json", dir);
  ck_assert_msg(mkdir(dir, 0755) == 0 || errno == EEXIST, "mkdir %s", dir);
  h_write_file(path, "{}\n");
  setenv("MOCKER_CONFIG", path, 1);
  setenv("MOCKER_CONFIG_DIR", dir, 1);
}

/* Checked fixture, after h_test_setup: a fresh network namespace and the
 * outside host on its veth link. */
static void net_setup(void)
{
  char err[NSB_ERR], dir[4200];

  memset(&sb, 0, sizeof sb);
  sb.outside_ns = -1;
  ck_assert_msg(nsb_unshare_net(err, sizeof err) == 0, "%s", err);
  write_default_config();
  h_fmt(dir, sizeof dir, "%s/outside", h.host);
  if (nsb_start(&sb, dir) < 0) {
    snprintf(err, sizeof err, "%s", sb.err);
    nsb_stop(&sb);
    ck_abort_msg("sandbox: %s", err);
  }
}

static void net_teardown(void)
{
  nsb_stop(&sb);
}

/* ---- helpers ------------------------------------------------------------- */

static void mocker_ok(const char *const argv[])
{
  struct h_res r;

  h_run(&r, NULL, argv);
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
}
#define MOCKER_DO(...) mocker_ok(H_ARGV(__VA_ARGS__))

/* The MAC of a link in the caller's namespace, "aa:bb:...". */
static void link_mac(const char *name, char mac[18])
{
  struct ifreq ifr = {0};
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  const unsigned char *a = (const unsigned char *)ifr.ifr_hwaddr.sa_data;

  ck_assert_int_ge(fd, 0);
  snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
  ck_assert_msg(ioctl(fd, SIOCGIFHWADDR, &ifr) == 0, "SIOCGIFHWADDR %s: %s",
                name, strerror(errno));
  close(fd);
  snprintf(mac, 18, "%02x:%02x:%02x:%02x:%02x:%02x", a[0], a[1], a[2], a[3],
           a[4], a[5]);
}

/* The sandbox host's own wget of url works (retried while the
 * container's httpd starts) and serves WEB_TEXT. */
static void assert_host_fetches(const char *url)
{
  long deadline = h_now_ms() + FETCH_MS;
  struct nsb_res r;

  for (;;) {
    nsb_cmd(&r, -1, 5000, H_ARGV(NSB_BUSYBOX, "wget", "-q", "-O", "-", url));
    if ((r.status == 0 && h_contains(r.out, WEB_TEXT)) ||
        h_now_ms() >= deadline)
      break;
    nsb_res_free(&r);
    usleep(100 * 1000);
  }
  ck_assert_msg(r.status == 0 && h_contains(r.out, WEB_TEXT),
                "the host's own wget %s failed (status %d): %s%s", url,
                r.status, r.out, r.err);
  nsb_res_free(&r);
}

/* The probe, in the outside host: a raw SYN to the sandbox host's uplink
 * MAC, for dst_ip:port. */
static void neighbour_rawsyn(struct nsb_res *r, const char *dst_ip, int port)
{
  char mac[18], port_s[8];

  link_mac(NSB_UPLINK, mac);
  h_fmt(port_s, sizeof port_s, "%d", port);
  nsb_outside_cmd(&sb, r, PROBE_MS,
                  H_ARGV(sec_probe_path(), "rawsyn", NSB_PEER, mac, dst_ip,
                         port_s, SPOOF_OUTSIDE));
}

#define ASSERT_PROBE_ANSWERED(r, what)                                         \
  ck_assert_msg((r)->status == 0 && h_contains((r)->out, "SYN-ACK"),           \
                "%s: the probe's SYN got no SYN-ACK (status %d), so the "      \
                "test proves nothing\n--- stdout:\n%s\n--- stderr:\n%s",       \
                (what), (r)->status, (r)->out, (r)->err)

#define ASSERT_PROBE_UNANSWERED(r, what)                                       \
  ck_assert_msg((r)->status == 1 && h_contains((r)->out, "no reply"),          \
                "%s: the raw SYN was answered (status %d)\n--- stdout:\n%s"    \
                "\n--- stderr:\n%s",                                           \
                (what), (r)->status, (r)->out, (r)->err)

/* Whether listen_fd has a connection waiting, within ms. */
static bool has_pending_connection(int listen_fd, int ms)
{
  struct pollfd p = {.fd = listen_fd, .events = POLLIN};

  return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

/* ---- a port published on 127.0.0.1, from a neighbour ----------------- */

/* The neighbour sends frames to the host's MAC with destination
 * 127.0.0.1:PORT. Without the loopback guard, mocker's prerouting DNAT
 * turns them into a connection to the container before the kernel would
 * drop them as martian, and the handshake completes. */
START_TEST(test_cve_2020_8558_published_loopback_port_from_neighbour)
{
  char url[128], port_s[64];
  struct nsb_res r;

  h_fmt(port_s, sizeof port_s, "127.0.0.1:%d:80", LOOPBACK_PORT);
  MOCKER_DO("run", "-d", "--name", "web", "-p", port_s, "-p",
            STR(ANY_PORT) ":80", "busybox", "sh", "-c", WEB_CMD);
  /* still working: the host's own connection, DNATed in the output hook */
  h_fmt(url, sizeof url, "http://127.0.0.1:%d/index.html", LOOPBACK_PORT);
  assert_host_fetches(url);

  /* control: the same frame, to the host's address and the port
   * published on every address, is answered */
  neighbour_rawsyn(&r, NSB_HOST_IP, ANY_PORT);
  ASSERT_PROBE_ANSWERED(&r, "SYN to " NSB_HOST_IP ":" STR(ANY_PORT));
  nsb_res_free(&r);

  neighbour_rawsyn(&r, "127.0.0.1", LOOPBACK_PORT);
  ASSERT_PROBE_UNANSWERED(&r, "a neighbour's SYN to 127.0.0.1:" STR(
                                  LOOPBACK_PORT) " (published there only)");
  nsb_res_free(&r);

  assert_host_fetches(url);
  MOCKER_DO("rm", "-f", "web");
}
END_TEST

/* ---- the host's loopback, from a container --------------------------- */

/* In a container (CAP_NET_RAW is in the default set): learn the
 * gateway's MAC with one ping, then a raw SYN through the gateway to
 * OPEN_PORT on the gateway's address (the control) and to 127.0.0.1:
 * SECRET_PORT (the attack). */
static const char container_attack[] =
    "ping -c 1 -W 5 " DEFAULT_GATEWAY " >/dev/null; "
    "mac=$(awk '$1 == \"" DEFAULT_GATEWAY "\" { print $4 }' /proc/net/arp); "
    "echo \"gateway mac: $mac\"; "
    "/probe rawsyn eth0 \"$mac\" " DEFAULT_GATEWAY
    " " STR(OPEN_PORT) " " SPOOF_BRIDGE "; "
                       "echo \"control=$?\"; "
                       "/probe rawsyn eth0 \"$mac\" 127.0.0.1 " STR(
                           SECRET_PORT) " " SPOOF_BRIDGE "; "
                                        "echo \"attack=$?\"";

/* A host service on 127.0.0.1:SECRET_PORT must see no connection from a
 * container, and the container no SYN-ACK; the one on every address
 * (the control) sees the container's. */
static void assert_host_loopback_unreachable(void)
{
  int secret = nsb_tcp_listen("127.0.0.1", SECRET_PORT);
  int open_one = nsb_tcp_listen("0.0.0.0", OPEN_PORT);
  struct h_res r;

  ck_assert_msg(secret >= 0 && open_one >= 0,
                "listen on " STR(SECRET_PORT) "/" STR(OPEN_PORT) ": %s",
                strerror(errno));
  H_RUN(&r, "run", "--rm", "-v", PV, "busybox", "sh", "-c", container_attack);
  H_ASSERT_STATUS(&r, 0);
  ck_assert_msg(
      h_contains(r.out, "control=0") && h_contains(r.out, "SYN-ACK"),
      "control: the container's SYN to " DEFAULT_GATEWAY
      ":" STR(OPEN_PORT) " got no SYN-ACK, so the test proves nothing:\n%s%s",
      r.out, r.err);
  ck_assert_msg(
      has_pending_connection(open_one, 2000),
      "control: the host's 0.0.0.0:" STR(
          OPEN_PORT) " listener saw no connection "
                     "although the probe completed the handshake:\n%s",
      r.out);
  ck_assert_msg(h_contains(r.out, "attack=1") && h_contains(r.out, "no reply"),
                "a container reached the host's 127.0.0.1:" STR(
                    SECRET_PORT) " through its "
                                 "gateway:\n%s%s",
                r.out, r.err);
  ck_assert_msg(!has_pending_connection(secret, 500),
                "the host's 127.0.0.1:" STR(
                    SECRET_PORT) " listener got a connection from a "
                                 "container:\n%s",
                r.out);
  h_res_free(&r);
  close(secret);
  close(open_one);
}

START_TEST(test_container_cannot_reach_host_loopback)
{
  assert_host_loopback_unreachable();
}
END_TEST

/* A firewall reload that flushes the ruleset takes the guard with it,
 * but leaves the bridge's route_localnet on. The next container start
 * must put the guard back before its container can send anything. */
START_TEST(test_loopback_guard_back_after_ruleset_flush)
{
  mk_error_t err = {0};

  MOCKER_DO("run", "-d", "--name", "first", "busybox", "sleep", "600");
  ck_assert_msg(mk_nft_loopback_guarded(), "no loopback guard after a run");
  ck_assert_msg(mk_nft_remove_table(&err) == 0, "delete table ip mocker: %s",
                err.msg);
  ck_assert_msg(!mk_nft_loopback_guarded(), "the guard outlived its table");
  assert_host_loopback_unreachable();
  ck_assert_msg(mk_nft_loopback_guarded(), "the guard was not put back");
  MOCKER_DO("rm", "-f", "first");
}
END_TEST

/* Every state root shares the one table. Another root removing its last
 * network used to delete the table, guard included, while this root's
 * bridge kept route_localnet: its running container reached the host's
 * loopback again (found in review). */
static void other_root_do(const char *other, const char *const argv[])
{
  const char *full[16] = {"--root", other};
  struct h_res r;
  size_t n = 2;

  for (size_t i = 0; argv[i] && n < 15; i++)
    full[n++] = argv[i];
  full[n] = NULL;
  h_run(&r, &(struct h_opts){.no_root_flag = true, .no_root_env = true}, full);
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
}

START_TEST(test_loopback_guard_survives_another_roots_network_rm)
{
  char other[4200], attack[2048];
  int secret = nsb_tcp_listen("127.0.0.1", SECRET_PORT);
  struct h_res r;

  ck_assert_int_ge(secret, 0);
  h_fmt(other, sizeof other, "%s/other-root", h.host);
  MOCKER_DO("run", "-d", "--name", "first", "-v", PV, "busybox", "sleep",
            "600");
  other_root_do(other,
                H_ARGV("network", "create", "--subnet", "10.78.0.0/24", "na"));
  other_root_do(other,
                H_ARGV("run", "--rm", "--network", "na", "busybox", "true"));
  other_root_do(other, H_ARGV("network", "rm", "na"));
  ck_assert_msg(mk_nft_loopback_guarded(),
                "another state root's `network rm` took the loopback guard "
                "of this root's running container");
  /* and the running container, which started nothing since, still
   * cannot reach the host's loopback */
  h_fmt(attack, sizeof attack, "%s", container_attack);
  H_RUN(&r, "exec", "first", "sh", "-c", attack);
  ck_assert_msg(
      h_contains(r.out, "attack=1") && h_contains(r.out, "no reply"),
      "the running container reached 127.0.0.1:" STR(SECRET_PORT) ":\n%s%s",
      r.out, r.err);
  ck_assert(!has_pending_connection(secret, 500));
  h_res_free(&r);
  close(secret);
  MOCKER_DO("rm", "-f", "first");
}
END_TEST

/* ---- a 127.0.0.0/8 source, from a container --------------------------- */

/* route_localnet on the bridge also lets in packets that claim to come
 * from 127.0.0.x. The kernel's own check stops only 127.0.0.1 (an
 * address of lo); 127.0.0.2 would reach a host service that trusts
 * loopback sources, unless reverse-path filtering happens to be on. It is
 * switched off here, in the test's own namespace, so that only the guard
 * stands between the container and the service. */
static const char container_spoof[] =
    "ping -c 1 -W 5 " DEFAULT_GATEWAY " >/dev/null; "
    "mac=$(awk '$1 == \"" DEFAULT_GATEWAY "\" { print $4 }' /proc/net/arp); "
    "/probe rawudp eth0 \"$mac\" " DEFAULT_GATEWAY
    " " STR(UDP_PORT) " "
                      "127.0.0.2 spoofed && "
                      "/probe rawudp eth0 \"$mac\" " DEFAULT_GATEWAY
                      " " STR(UDP_PORT) " " SPOOF_BRIDGE " control";

static void write_sysctl_zero(const char *path)
{
  FILE *f = fopen(path, "we");

  ck_assert_msg(f && fputs("0", f) >= 0 && fclose(f) == 0, "write 0 to %s",
                path);
}

static int udp_listen(int port)
{
  struct sockaddr_in sa = {.sin_family = AF_INET,
                           .sin_port = htons((uint16_t)port)};
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

  ck_assert_msg(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0,
                "bind UDP 0.0.0.0:%d: %s", port, strerror(errno));
  return fd;
}

/* Every datagram that arrives within ms, as "SOURCE TEXT" lines. */
static void read_datagrams(int fd, int ms, char *out, size_t size)
{
  struct pollfd p = {.fd = fd, .events = POLLIN};
  struct sockaddr_in from;
  socklen_t len;
  char text[300], ip[INET_ADDRSTRLEN];
  size_t used = 0;

  out[0] = '\0';
  while (poll(&p, 1, ms) == 1) {
    len = sizeof from;
    ssize_t n =
        recvfrom(fd, text, sizeof text - 1, 0, (struct sockaddr *)&from, &len);
    if (n < 0)
      break;
    text[n] = '\0';
    inet_ntop(AF_INET, &from.sin_addr, ip, sizeof ip);
    used += (size_t)snprintf(out + used, size - used, "%s %s\n", ip, text);
    if (used >= size)
      break;
  }
}

START_TEST(test_container_cannot_spoof_host_loopback_source)
{
  int udp = udp_listen(UDP_PORT);
  char got[2048];
  struct h_res r;

  write_sysctl_zero("/proc/sys/net/ipv4/conf/all/rp_filter");
  write_sysctl_zero("/proc/sys/net/ipv4/conf/default/rp_filter");
  H_RUN(&r, "run", "--rm", "-v", PV, "busybox", "sh", "-c", container_spoof);
  H_ASSERT_STATUS(&r, 0);
  read_datagrams(udp, 1000, got, sizeof got);
  ck_assert_msg(h_has_line(got, SPOOF_BRIDGE " control"),
                "control: the container's datagram from " SPOOF_BRIDGE
                " never arrived, so the test proves nothing; got:\n%s",
                got);
  ck_assert_msg(!h_contains(got, "spoofed"),
                "a container's datagram claiming to come from 127.0.0.2 "
                "reached a host service; got:\n%s",
                got);
  h_res_free(&r);
  close(udp);
}
END_TEST

static Suite *loopback_suite(void)
{
  Suite *s = suite_create("loopback");
  TCase *tc = h_tcase("loopback", 120);

  tcase_add_checked_fixture(tc, net_setup, net_teardown);
  tcase_add_test(tc, test_cve_2020_8558_published_loopback_port_from_neighbour);
  tcase_add_test(tc, test_container_cannot_reach_host_loopback);
  tcase_add_test(tc, test_container_cannot_spoof_host_loopback_source);
  tcase_add_test(tc, test_loopback_guard_back_after_ruleset_flush);
  tcase_add_test(tc, test_loopback_guard_survives_another_roots_network_rm);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  char err[NSB_ERR];

  /* First, before anything can touch a network: the suite's "host" is a
   * namespace of its own, never the machine's. */
  if (nsb_unshare_net(err, sizeof err) < 0) {
    fprintf(stderr, "check_loopback: %s (run as root)\n", err);
    return 1;
  }
  return h_main(loopback_suite());
}
