/* A throwaway network for the networking suite (check_network.c).
 *
 * Safety model. Nothing here may touch the machine's real network: the
 * suite's main() calls nsb_unshare_net() before anything else, so the
 * "host" mocker sees is a network namespace of our own; every test then
 * moves into a fresh one of its own (nsb_unshare_net again, in the
 * forked test child), so a broken test leaves nothing for the next one.
 *
 * Inside that "sandbox host", nsb_start() builds a fake outside world: a
 * child process in yet another network namespace (the "outside host",
 * kept alive by a process that only waits), joined to the sandbox by a
 * veth pair:
 *
 *   sandbox host  NSB_UPLINK  198.51.100.2/24, default route via .1
 *   outside host  NSB_PEER    198.51.100.1/24, no route back to anything
 *
 * The outside host runs busybox httpd on 198.51.100.1:80 serving
 * NSB_FILE (content NSB_FILE_TEXT) and a CGI, NSB_ADDR_PATH, that answers
 * with the client's address as the outside host saw it (REMOTE_ADDR):
 * NATed traffic shows up as 198.51.100.2, never as a container address,
 * and the outside host has no route to container subnets at all.
 *
 * Every process here gets PR_SET_PDEATHSIG, SIGKILL: if the test dies
 * (a failed ck_assert _exit()s its child), the outside host and httpd die
 * with it, their namespace goes, and with it the veth pair.
 *
 * Nothing in this file asserts: functions return -1 and say why in an
 * error buffer, so they are usable from main() and from fixtures alike. */
#ifndef MK_IT_NETSANDBOX_H
#define MK_IT_NETSANDBOX_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define NSB_OUTSIDE_IP "198.51.100.1"
#define NSB_HOST_IP "198.51.100.2"
#define NSB_PREFIX_LEN 24
#define NSB_UPLINK "nsb-uplink" /* sandbox side of the veth */
#define NSB_PEER "nsb-peer"     /* outside side */
#define NSB_FILE "/hello.txt"
#define NSB_FILE_TEXT "hello from the outside host"
#define NSB_ADDR_PATH "/cgi-bin/addr"
#define NSB_BUSYBOX "/bin/busybox"

#define NSB_ERR 1024

/* Moves the calling (single-threaded) process into a new, empty network
 * namespace and brings its lo up. Returns -1 with err filled. */
int nsb_unshare_net(char *err, size_t errsize);

/* Result of nsb_cmd: status is the exit code, -SIG if the command died
 * of a signal, -1000 if it timed out (it was SIGKILLed), -1001 if it
 * could not run. out/err are NUL-terminated, malloc'ed. */
struct nsb_res {
  int status;
  char *out, *err;
};

/* Runs argv (argv[0] looked up in PATH) with stdin /dev/null, capturing
 * stdout and stderr; netns_fd >= 0 runs it in that network namespace
 * instead of the caller's. Never asserts. */
int nsb_cmd(struct nsb_res *r, int netns_fd, int timeout_ms,
            const char *const argv[]);
void nsb_res_free(struct nsb_res *r);

struct nsb {
  pid_t outside;  /* waits in the outside network namespace */
  int outside_ns; /* fd of /proc/OUTSIDE/ns/net, -1 if none */
  pid_t httpd;    /* busybox httpd in the outside namespace */
  bool uplink;    /* we created NSB_UPLINK */
  char www[PATH_MAX];
  char err[NSB_ERR];
};

/* Builds the outside host and its httpd under dir (created if missing:
 * dir/www is the document root). On failure s->err says why; call
 * nsb_stop either way. */
int nsb_start(struct nsb *s, const char *dir);
/* Kills httpd and the outside host by pid, removes the veth; safe to call
 * twice and on a half-started sandbox. */
void nsb_stop(struct nsb *s);

/* nsb_cmd inside the outside host. */
int nsb_outside_cmd(const struct nsb *s, struct nsb_res *r, int timeout_ms,
                    const char *const argv[]);

/* One UDP datagram sent from the outside host to ip:port. */
int nsb_outside_udp_send(const struct nsb *s, const char *ip, int port,
                         const void *data, size_t len, char *err,
                         size_t errsize);

/* Whether a TCP connect to ip:port succeeds within timeout_ms, from the
 * caller's network namespace (netns_fd < 0) or from netns_fd. */
bool nsb_tcp_connects(int netns_fd, const char *ip, int port, int timeout_ms);

/* A TCP listener on addr:port in the caller's namespace (SO_REUSEADDR
 * off, so it really holds the port); its fd, or -1. */
int nsb_tcp_listen(const char *ip, int port);

/* Whether a network interface of that name exists in the caller's
 * namespace (not /sys/class/net, which shows the namespace sysfs was
 * mounted in). */
bool nsb_link_exists(const char *name);
/* Names of the caller's interfaces starting with prefix, one a line
 * (malloc'ed, "" if none); *count gets how many. */
char *nsb_links_with_prefix(const char *prefix, int *count);

#endif
