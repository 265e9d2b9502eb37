#include "netlink.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mk_util.h"

/* One request and its reply fit easily: we never dump. */
#define NL_BUF 8192

int mk_nl_open(struct mk_nl *nl, mk_error_t *err)
{
  nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
  if (!nl->sock)
    return mk_error_sys(err, errno, "open an rtnetlink socket");
  if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
    int e = errno;
    mk_nl_close(nl);
    return mk_error_sys(err, e, "bind an rtnetlink socket");
  }
  nl->portid = mnl_socket_get_portid(nl->sock);
  nl->seq = (unsigned)time(NULL);
  return 0;
}

int mk_nl_open_in(struct mk_nl *nl, int pidfd, int *netns_fd, mk_error_t *err)
{
  _cleanup_close_ int self =
      open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  int rc;

  if (self < 0)
    return mk_error_sys(err, errno, "open our network namespace");
  if (setns(pidfd, CLONE_NEWNET) < 0)
    return mk_error_sys(err, errno, "enter the container's network namespace");
  rc = mk_nl_open(nl, err);
  *netns_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (rc == 0 && *netns_fd < 0) {
    rc = mk_error_sys(err, errno, "open the container's network namespace");
    mk_nl_close(nl);
  }
  if (setns(self, CLONE_NEWNET) < 0) {
    /* Staying in the container's namespace would configure the wrong
     * host from here on: there is no safe way to carry on. */
    perror("mocker: return to the host's network namespace");
    _exit(125);
  }
  return rc;
}

void mk_nl_close(struct mk_nl *nl)
{
  if (nl->sock)
    mnl_socket_close(nl->sock);
  nl->sock = NULL;
}

static struct nlmsghdr *new_request(char *buf, struct mk_nl *nl, uint16_t type,
                                    uint16_t flags)
{
  struct nlmsghdr *h = mnl_nlmsg_put_header(buf);

  h->nlmsg_type = type;
  h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
  h->nlmsg_seq = ++nl->seq;
  return h;
}

/* Sends h and reads its answer through cb (may be NULL) until the ack.
 * Returns 0, or -1 with errno set to the kernel's error. */
static int exchange(struct mk_nl *nl, struct nlmsghdr *h, mnl_cb_t cb,
                    void *data)
{
  char buf[NL_BUF];
  int rc;

  if (mnl_socket_sendto(nl->sock, h, h->nlmsg_len) < 0)
    return -1;
  do {
    ssize_t n = mnl_socket_recvfrom(nl->sock, buf, sizeof(buf));
    if (n < 0)
      return -1;
    rc = mnl_cb_run(buf, (size_t)n, h->nlmsg_seq, nl->portid, cb, data);
  } while (rc > 0);
  return rc < 0 ? -1 : 0;
}

static struct ifinfomsg *put_ifinfo(struct nlmsghdr *h)
{
  struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(h, sizeof(*ifi));

  ifi->ifi_family = AF_UNSPEC;
  return ifi;
}

static int link_index_cb(const struct nlmsghdr *h, void *data)
{
  const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(h);

  if (h->nlmsg_type == RTM_NEWLINK)
    *(int *)data = ifi->ifi_index;
  return MNL_CB_OK;
}

int mk_nl_link_index(struct mk_nl *nl, const char *name, mk_error_t *err)
{
  char buf[NL_BUF];
  struct nlmsghdr *h = new_request(buf, nl, RTM_GETLINK, 0);
  int index = 0;

  put_ifinfo(h);
  mnl_attr_put_strz(h, IFLA_IFNAME, name);
  if (exchange(nl, h, link_index_cb, &index) < 0) {
    if (errno == ENODEV)
      return 0;
    return mk_error_sys(err, errno, "look up link `%s`", name);
  }
  return index;
}

int mk_nl_add_bridge(struct mk_nl *nl, const char *name, mk_error_t *err)
{
  char buf[NL_BUF];
  struct nlmsghdr *h =
      new_request(buf, nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  struct nlattr *info;

  put_ifinfo(h);
  mnl_attr_put_strz(h, IFLA_IFNAME, name);
  info = mnl_attr_nest_start(h, IFLA_LINKINFO);
  mnl_attr_put_strz(h, IFLA_INFO_KIND, "bridge");
  mnl_attr_nest_end(h, info);
  if (exchange(nl, h, NULL, NULL) < 0)
    return mk_error_sys(err, errno, "create bridge `%s`", name);
  return 0;
}

/* The peer half of a veth request: its own ifinfomsg, then attributes. */
static void put_veth_peer(struct nlmsghdr *h, const struct mk_veth *v)
{
  struct nlattr *data = mnl_attr_nest_start(h, IFLA_INFO_DATA);
  struct nlattr *peer = mnl_attr_nest_start(h, VETH_INFO_PEER);
  struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(h, sizeof(*ifi));

  ifi->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz(h, IFLA_IFNAME, v->peer_name);
  mnl_attr_put(h, IFLA_ADDRESS, sizeof(v->mac), v->mac);
  mnl_attr_put_u32(h, IFLA_NET_NS_FD, (uint32_t)v->netns_fd);
  mnl_attr_nest_end(h, peer);
  mnl_attr_nest_end(h, data);
}

int mk_nl_add_veth(struct mk_nl *nl, const struct mk_veth *v, mk_error_t *err)
{
  char buf[NL_BUF];
  struct nlmsghdr *h =
      new_request(buf, nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  struct ifinfomsg *ifi = put_ifinfo(h);
  struct nlattr *info;

  ifi->ifi_flags = IFF_UP;
  ifi->ifi_change = IFF_UP;
  mnl_attr_put_strz(h, IFLA_IFNAME, v->host_name);
  mnl_attr_put_u32(h, IFLA_MASTER, (uint32_t)v->master);
  info = mnl_attr_nest_start(h, IFLA_LINKINFO);
  mnl_attr_put_strz(h, IFLA_INFO_KIND, "veth");
  put_veth_peer(h, v);
  mnl_attr_nest_end(h, info);
  if (exchange(nl, h, NULL, NULL) < 0)
    return mk_error_sys(err, errno, "create veth pair `%s`", v->host_name);
  return 0;
}

int mk_nl_link_up(struct mk_nl *nl, int index, mk_error_t *err)
{
  char buf[NL_BUF];
  struct nlmsghdr *h = new_request(buf, nl, RTM_NEWLINK, 0);
  struct ifinfomsg *ifi = put_ifinfo(h);

  ifi->ifi_index = index;
  ifi->ifi_flags = IFF_UP;
  ifi->ifi_change = IFF_UP;
  if (exchange(nl, h, NULL, NULL) < 0)
    return mk_error_sys(err, errno, "set link %d up", index);
  return 0;
}

int mk_nl_link_del(struct mk_nl *nl, const char *name, mk_error_t *err)
{
  char buf[NL_BUF];
  struct nlmsghdr *h = new_request(buf, nl, RTM_DELLINK, 0);

  put_ifinfo(h);
  mnl_attr_put_strz(h, IFLA_IFNAME, name);
  if (exchange(nl, h, NULL, NULL) < 0 && errno != ENODEV)
    return mk_error_sys(err, errno, "delete link `%s`", name);
  return 0;
}

int mk_nl_addr_add(struct mk_nl *nl, int index, struct in_addr addr, int prefix,
                   mk_error_t *err)
{
  char buf[NL_BUF];
  struct nlmsghdr *h =
      new_request(buf, nl, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
  struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(h, sizeof(*ifa));

  ifa->ifa_family = AF_INET;
  ifa->ifa_prefixlen = (unsigned char)prefix;
  ifa->ifa_index = (unsigned)index;
  mnl_attr_put(h, IFA_LOCAL, sizeof(addr), &addr);
  mnl_attr_put(h, IFA_ADDRESS, sizeof(addr), &addr);
  if (exchange(nl, h, NULL, NULL) == 0)
    return 0;
  if (errno == EEXIST)
    return 1;
  char text[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &addr, text, sizeof(text));
  return mk_error_sys(err, errno, "add address %s/%d", text, prefix);
}

int mk_nl_route_default(struct mk_nl *nl, struct in_addr gw, mk_error_t *err)
{
  char buf[NL_BUF];
  struct nlmsghdr *h =
      new_request(buf, nl, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
  struct rtmsg *rt = mnl_nlmsg_put_extra_header(h, sizeof(*rt));

  rt->rtm_family = AF_INET;
  rt->rtm_table = RT_TABLE_MAIN;
  rt->rtm_protocol = RTPROT_BOOT;
  rt->rtm_scope = RT_SCOPE_UNIVERSE;
  rt->rtm_type = RTN_UNICAST;
  mnl_attr_put(h, RTA_GATEWAY, sizeof(gw), &gw);
  if (exchange(nl, h, NULL, NULL) < 0)
    return mk_error_sys(err, errno, "add the default route");
  return 0;
}
