/* probe: one raw attempt per subcommand, for the escape suites. It is
 * static (musl) and bind-mounted read-only into containers as /probe.
 *
 *   probe SUBCOMMAND [ARGS...]
 *
 * Prints "ok" (plus what it saw, for the informational subcommands) and
 * exits 0 when the attempt succeeded; prints "errno=N NAME" and exits 1
 * when it failed. Usage errors exit 2. Every attempt is chosen to be
 * harmless even if it succeeds (CAD_OFF, empty kexec, garbage modules),
 * because a failing test must not take the host down with it.
 *
 *   probe rawsyn IFACE DSTMAC DSTIP DSTPORT SRCIP
 *
 * sends a hand-built TCP SYN from SRCIP over AF_PACKET on IFACE, in an
 * Ethernet frame to DSTMAC, resending it every RAWSYN_RESEND_MS, and
 * prints "ok: SYN-ACK ..." (after completing the handshake with an ACK)
 * or "ok: RST ..." when DSTIP:DSTPORT answers within RAWSYN_WAIT_MS;
 * "errno=110 ... no reply" otherwise. SRCIP should be an unused address
 * of IFACE's subnet: the probe answers ARP for it itself, and the
 * sender's kernel, owning no such address, drops the SYN-ACK instead of
 * resetting the connection the probe is making.
 *
 *   probe rawudp IFACE DSTMAC DSTIP DSTPORT SRCIP TEXT
 *
 * sends one UDP datagram carrying TEXT from SRCIP:any the same way, and
 * prints "ok: sent"; whether it arrived is for the receiver to say. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/kexec.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <linux/reboot.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int failed(const char *what)
{
  int e = errno;

  printf("errno=%d %s (%s)\n", e, strerror(e), what);
  return 1;
}

static int result(long rc, const char *what)
{
  if (rc < 0)
    return failed(what);
  printf("ok\n");
  return 0;
}

static int do_keyctl(void)
{
  /* The process keyring: gone with the process even if allowed. */
  return result(syscall(SYS_add_key, "user", "mk-probe", "x", 1,
                        KEY_SPEC_PROCESS_KEYRING),
                "add_key");
}

static int do_kexec(void)
{
  /* No segments: loads nothing even if the kernel accepted it. */
  return result(syscall(SYS_kexec_load, 0UL, 0UL, NULL, KEXEC_ARCH_DEFAULT),
                "kexec_load");
}

static int do_bpf(void)
{
  /* r0 = 0; exit: the most permissive program type, a socket filter. */
  struct bpf_insn insns[2] = {
      {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0},
      {.code = BPF_JMP | BPF_EXIT},
  };
  union bpf_attr attr;
  long fd;

  memset(&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
  attr.insn_cnt = 2;
  attr.insns = (uintptr_t)insns;
  attr.license = (uintptr_t) "GPL";
  fd = syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof attr);
  if (fd >= 0)
    close((int)fd);
  return result(fd, "bpf(BPF_PROG_LOAD)");
}

static int do_perf(void)
{
  struct perf_event_attr attr;
  long fd;

  memset(&attr, 0, sizeof attr);
  attr.type = PERF_TYPE_SOFTWARE;
  attr.size = sizeof attr;
  attr.config = PERF_COUNT_SW_CPU_CLOCK;
  attr.disabled = 1;
  /* Every process on every cpu: what an attacker would want. */
  fd = syscall(SYS_perf_event_open, &attr, -1, 0, -1, 0);
  if (fd >= 0)
    close((int)fd);
  return result(fd, "perf_event_open");
}

static int do_clone3(void)
{
  struct clone_args args;
  long pid;

  memset(&args, 0, sizeof args);
  args.exit_signal = SIGCHLD;
  pid = syscall(SYS_clone3, &args, sizeof args);
  if (pid == 0)
    _exit(0);
  if (pid > 0)
    waitpid((pid_t)pid, NULL, 0);
  return result(pid, "clone3");
}

static int do_unshare(int flags, const char *what)
{
  return result(unshare(flags), what);
}

static int do_setns(const char *fd)
{
  return result(setns(atoi(fd), 0), "setns");
}

static int do_ptrace(const char *pid)
{
  long rc = ptrace(PTRACE_ATTACH, (pid_t)atoi(pid), NULL, NULL);

  if (rc == 0)
    ptrace(PTRACE_DETACH, (pid_t)atoi(pid), NULL, NULL);
  return result(rc, "ptrace(PTRACE_ATTACH)");
}

/* Pushes TEXT into the input queue of every tty among fds 0-2; fails if
 * any push failed or no fd is a tty. */
static int do_tiocsti(const char *text)
{
  int ttys = 0;

  for (int fd = 0; fd < 3; fd++) {
    if (!isatty(fd))
      continue;
    ttys++;
    for (const char *c = text; *c; c++)
      if (ioctl(fd, TIOCSTI, c) < 0)
        return failed("ioctl(TIOCSTI)");
  }
  if (!ttys) {
    errno = ENOTTY;
    return failed("no tty on fds 0-2");
  }
  printf("ok\n");
  return 0;
}

static int do_rawsock(void)
{
  int fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);

  if (fd >= 0)
    close(fd);
  return result(fd, "socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)");
}

/* The classic: chroot into a subdirectory, keep the cwd outside it,
 * climb, chroot there. Succeeds if PATH is visible afterwards. */
static int do_chroot_escape(const char *path)
{
  struct stat st;

  mkdir("/tmp/mk-chroot-x", 0755);
  if (chdir("/tmp") < 0 || chroot("/tmp/mk-chroot-x") < 0)
    return failed("chroot");
  for (int i = 0; i < 256; i++)
    if (chdir("..") < 0)
      return failed("chdir ..");
  if (chroot(".") < 0)
    return failed("chroot .");
  if (stat(path, &st) < 0)
    return failed(path);
  printf("ok: %s is visible\n", path);
  return 0;
}

/* "Shocker": a handle for inode 2 (the root of an ext4 fs). */
static int do_open_by_handle(void)
{
  struct {
    struct file_handle fh;
    unsigned char bytes[8];
  } h;
  uint32_t ino_gen[2] = {2, 0};
  int mnt = open("/", O_RDONLY | O_DIRECTORY), fd;

  memset(&h, 0, sizeof h);
  h.fh.handle_bytes = 8;
  h.fh.handle_type = 1; /* FILEID_INO32_GEN */
  memcpy(h.fh.f_handle, ino_gen, sizeof ino_gen);
  fd = open_by_handle_at(mnt, &h.fh, O_RDONLY);
  if (fd >= 0)
    close(fd);
  return result(fd, "open_by_handle_at");
}

/* mknod PATH as a block device MAJOR:MINOR, then read its first block. */
static int do_mknod_read(const char *path, const char *maj, const char *min)
{
  char buf[512];
  int fd;
  ssize_t n;

  if (mknod(path, S_IFBLK | 0600, makedev(atoi(maj), atoi(min))) < 0)
    return failed("mknod");
  fd = open(path, O_RDONLY);
  if (fd < 0)
    return failed("open the block device");
  n = read(fd, buf, sizeof buf);
  close(fd);
  if (n < 0)
    return failed("read the block device");
  printf("ok: read %zd bytes\n", n);
  return 0;
}

static int do_init_module(void)
{
  static const char garbage[64] = "\x7f"
                                  "ELF not a module";
  int fd;

  if (syscall(SYS_init_module, garbage, sizeof garbage, "") == 0) {
    printf("ok: init_module\n");
    return 0;
  }
  printf("init_module: errno=%d %s\n", errno, strerror(errno));
  fd = open("/probe", O_RDONLY);
  return result(syscall(SYS_finit_module, fd, "", 0), "finit_module");
}

static int do_reboot(void)
{
  return result(syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2,
                        LINUX_REBOOT_CMD_CAD_OFF, NULL),
                "reboot(CAD_OFF)");
}

/* Opens PATH for writing and writes a few bytes at its start; then the
 * CVE-2019-5736 way, reopening an O_PATH fd through /proc/self/fd. */
static int do_overwrite(const char *path)
{
  char via[64];
  int pfd, fd = open(path, O_WRONLY);

  if (fd < 0) {
    printf("open: errno=%d %s\n", errno, strerror(errno));
    pfd = open(path, O_PATH);
    if (pfd < 0)
      return failed("open O_PATH");
    snprintf(via, sizeof via, "/proc/self/fd/%d", pfd);
    fd = open(via, O_WRONLY);
    close(pfd);
    if (fd < 0)
      return failed("reopen O_PATH fd for writing");
  }
  if (write(fd, "MKPWN", 5) != 5) {
    close(fd);
    return failed("write");
  }
  close(fd);
  printf("ok: wrote 5 bytes\n");
  return 0;
}

/* The open fds, the listing's own fd left out, one per line. */
static int do_fds(void)
{
  DIR *d = opendir("/proc/self/fd");
  struct dirent *e;

  if (!d)
    return failed("opendir /proc/self/fd");
  while ((e = readdir(d)))
    if (e->d_name[0] != '.' && atoi(e->d_name) != dirfd(d))
      printf("%s\n", e->d_name);
  closedir(d);
  return 0;
}

static int do_ids(void)
{
  uid_t r, e, s;

  getresuid(&r, &e, &s);
  printf("uid=%u euid=%u suid=%u\n", (unsigned)r, (unsigned)e, (unsigned)s);
  return 0;
}

/* ---- rawsyn: a hand-built TCP SYN over AF_PACKET ------------------- */

#define RAWSYN_RESEND_MS 500
#define RAWSYN_WAIT_MS 2000
#define RAWSYN_ISN 0x6d6b0001u
#define ETH_LEN 14
#define IP_LEN 20
#define TCP_LEN 20
#define UDP_LEN 8
#define RAWUDP_TEXT_MAX 256
#define ARP_LEN 28
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

struct raw_link {
  int fd, ifindex;
  uint8_t mac[6], peer_mac[6];
  uint8_t src_ip[4], dst_ip[4];
  uint16_t sport, dport;
};

static void put16(uint8_t *p, unsigned v)
{
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
  put16(p, v >> 16);
  put16(p + 2, v & 0xffff);
}

static unsigned get16(const uint8_t *p)
{
  return (unsigned)p[0] << 8 | p[1];
}

static uint32_t get32(const uint8_t *p)
{
  return (uint32_t)get16(p) << 16 | get16(p + 2);
}

/* The Internet checksum of len bytes, folded, on top of sum. */
static unsigned inet_csum(const uint8_t *p, size_t len, uint32_t sum)
{
  for (size_t i = 0; i + 1 < len; i += 2)
    sum += get16(p + i);
  if (len & 1)
    sum += (uint32_t)p[len - 1] << 8;
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return ~sum & 0xffff;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
  unsigned b[6];

  if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4],
             &b[5]) != 6)
    return -1;
  for (int i = 0; i < 6; i++)
    mac[i] = (uint8_t)b[i];
  return 0;
}

static void put_eth(uint8_t *f, const struct raw_link *l, const uint8_t *dst,
                    unsigned type)
{
  memcpy(f, dst, 6);
  memcpy(f + 6, l->mac, 6);
  put16(f + 12, type);
}

/* Ethernet and IPv4 headers (no options) for an l4_len-byte payload of
 * protocol proto; where that payload goes. */
static uint8_t *put_ip(uint8_t *f, const struct raw_link *l, unsigned proto,
                       size_t l4_len)
{
  uint8_t *ip = f + ETH_LEN;

  memset(f, 0, ETH_LEN + IP_LEN + l4_len);
  put_eth(f, l, l->peer_mac, ETH_P_IP);
  ip[0] = 0x45;
  put16(ip + 2, (unsigned)(IP_LEN + l4_len));
  ip[8] = 64;
  ip[9] = (uint8_t)proto;
  memcpy(ip + 12, l->src_ip, 4);
  memcpy(ip + 16, l->dst_ip, 4);
  put16(ip + 10, inet_csum(ip, IP_LEN, 0));
  return ip + IP_LEN;
}

/* The TCP or UDP checksum of the filled-in l4 bytes (checksum field 0),
 * with the pseudo-header. */
static unsigned l4_csum(const struct raw_link *l, unsigned proto,
                        const uint8_t *l4, size_t len)
{
  uint8_t pseudo[12];

  memcpy(pseudo, l->src_ip, 4);
  memcpy(pseudo + 4, l->dst_ip, 4);
  pseudo[8] = 0;
  pseudo[9] = (uint8_t)proto;
  put16(pseudo + 10, (unsigned)len);
  return inet_csum(l4, len, 0xffff & ~inet_csum(pseudo, 12, 0));
}

/* Ethernet + IPv4 + TCP, no options; the frame's length. */
static size_t build_tcp(uint8_t *f, const struct raw_link *l, uint32_t seq,
                        uint32_t ack, unsigned flags)
{
  uint8_t *tcp = put_ip(f, l, IPPROTO_TCP, TCP_LEN);

  put16(tcp, l->sport);
  put16(tcp + 2, l->dport);
  put32(tcp + 4, seq);
  put32(tcp + 8, ack);
  tcp[12] = (TCP_LEN / 4) << 4;
  tcp[13] = (uint8_t)flags;
  put16(tcp + 14, 64240);
  put16(tcp + 16, l4_csum(l, IPPROTO_TCP, tcp, TCP_LEN));
  return ETH_LEN + IP_LEN + TCP_LEN;
}

/* Ethernet + IPv4 + UDP carrying text; the frame's length. */
static size_t build_udp(uint8_t *f, const struct raw_link *l, const char *text)
{
  size_t len = UDP_LEN + strlen(text);
  uint8_t *udp = put_ip(f, l, IPPROTO_UDP, len);

  put16(udp, l->sport);
  put16(udp + 2, l->dport);
  put16(udp + 4, (unsigned)len);
  memcpy(udp + UDP_LEN, text, strlen(text));
  put16(udp + 6, l4_csum(l, IPPROTO_UDP, udp, len) ?: 0xffff);
  return ETH_LEN + IP_LEN + len;
}

static int send_frame(const struct raw_link *l, const uint8_t *f, size_t len)
{
  struct sockaddr_ll to = {
      .sll_family = AF_PACKET, .sll_ifindex = l->ifindex, .sll_halen = 6};

  memcpy(to.sll_addr, f, 6);
  return sendto(l->fd, f, len, 0, (struct sockaddr *)&to, sizeof to) ==
                 (ssize_t)len
             ? 0
             : -1;
}

/* "SRCIP is at our MAC", to whoever asked in the ARP request arp. */
static void answer_arp(const struct raw_link *l, const uint8_t *arp)
{
  uint8_t f[ETH_LEN + ARP_LEN], *a = f + ETH_LEN;

  put_eth(f, l, arp + 8, ETH_P_ARP);
  memcpy(a, arp, 6); /* hardware and protocol types and sizes */
  put16(a + 6, 2);   /* reply */
  memcpy(a + 8, l->mac, 6);
  memcpy(a + 14, l->src_ip, 4);
  memcpy(a + 18, arp + 8, 10); /* the asker's MAC and address */
  send_frame(l, f, sizeof f);
}

/* One received frame: answers ARP for SRCIP; returns the TCP flags of a
 * reply from DSTIP:DSTPORT to SRCIP:sport (its seq in *seq), else 0. */
static unsigned handle_frame(const struct raw_link *l, const uint8_t *f,
                             size_t n, uint32_t *seq)
{
  const uint8_t *ip = f + ETH_LEN, *tcp;

  if (n >= ETH_LEN + ARP_LEN && get16(f + 12) == ETH_P_ARP &&
      get16(ip + 6) == 1 && memcmp(ip + 24, l->src_ip, 4) == 0) {
    answer_arp(l, ip);
    return 0;
  }
  if (n < ETH_LEN + IP_LEN + TCP_LEN || get16(f + 12) != ETH_P_IP ||
      ip[9] != IPPROTO_TCP || memcmp(ip + 12, l->dst_ip, 4) != 0 ||
      memcmp(ip + 16, l->src_ip, 4) != 0)
    return 0;
  tcp = ip + (ip[0] & 0x0f) * 4;
  if ((size_t)(tcp + TCP_LEN - f) > n || get16(tcp) != l->dport ||
      get16(tcp + 2) != l->sport)
    return 0;
  *seq = get32(tcp + 4);
  return tcp[13] ? tcp[13] : 0x100;
}

static int open_raw_link(struct raw_link *l, const char *iface)
{
  struct ifreq ifr;
  struct sockaddr_ll sll = {.sll_family = AF_PACKET,
                            .sll_protocol = htons(ETH_P_ALL)};

  memset(&ifr, 0, sizeof ifr);
  snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", iface);
  l->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
  if (l->fd < 0)
    return failed("socket(AF_PACKET, SOCK_RAW)");
  if (ioctl(l->fd, SIOCGIFHWADDR, &ifr) < 0)
    return failed("SIOCGIFHWADDR");
  memcpy(l->mac, ifr.ifr_hwaddr.sa_data, 6);
  sll.sll_ifindex = l->ifindex = (int)if_nametoindex(iface);
  if (!l->ifindex || bind(l->fd, (struct sockaddr *)&sll, sizeof sll) < 0)
    return failed("bind the packet socket");
  return 0;
}

static long mono_ms(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Waits up to ms for the next frame of interest; its TCP flags, or 0. */
static unsigned wait_reply(const struct raw_link *l, long ms, uint32_t *seq)
{
  uint8_t f[2048];
  struct sockaddr_ll from;
  socklen_t len;
  long deadline = mono_ms() + ms;
  struct pollfd p = {.fd = l->fd, .events = POLLIN};
  unsigned flags = 0;

  while (!flags && poll(&p, 1, (int)(deadline - mono_ms())) > 0) {
    len = sizeof from;
    ssize_t n = recvfrom(l->fd, f, sizeof f, 0, (struct sockaddr *)&from, &len);

    if (n > 0 && from.sll_pkttype != PACKET_OUTGOING)
      flags = handle_frame(l, f, (size_t)n, seq);
    if (mono_ms() >= deadline)
      break;
  }
  return flags;
}

static int report_reply(const struct raw_link *l, unsigned flags, uint32_t seq,
                        const char *dst)
{
  uint8_t f[ETH_LEN + IP_LEN + TCP_LEN];

  if ((flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK)) {
    send_frame(l, f, build_tcp(f, l, RAWSYN_ISN + 1, seq + 1, TCP_ACK));
    printf("ok: SYN-ACK from %s:%u, handshake completed\n", dst, l->dport);
    return 0;
  }
  printf("ok: %s (flags 0x%x) from %s:%u: the SYN reached a TCP stack\n",
         flags & TCP_RST ? "RST" : "TCP reply", flags, dst, l->dport);
  return 0;
}

/* IFACE DSTMAC DSTIP DSTPORT SRCIP; the socket is not opened yet. */
static int raw_link_from_args(struct raw_link *l, char **argv)
{
  if (parse_mac(argv[1], l->peer_mac) < 0 ||
      inet_pton(AF_INET, argv[2], l->dst_ip) != 1 ||
      inet_pton(AF_INET, argv[4], l->src_ip) != 1 || atoi(argv[3]) <= 0 ||
      atoi(argv[3]) > 65535) {
    fprintf(stderr, "probe: bad MAC, address or port\n");
    return -1;
  }
  l->dport = (uint16_t)atoi(argv[3]);
  l->sport = (uint16_t)(40000 + getpid() % 20000);
  return 0;
}

static int do_rawsyn(char **argv)
{
  struct raw_link l = {.fd = -1};
  uint8_t f[ETH_LEN + IP_LEN + TCP_LEN];
  unsigned flags = 0;
  uint32_t seq = 0;
  long start;

  if (raw_link_from_args(&l, argv) != 0)
    return 2;
  if (open_raw_link(&l, argv[0]) != 0)
    return 1;
  for (start = mono_ms(); !flags && mono_ms() - start < RAWSYN_WAIT_MS;) {
    if (send_frame(&l, f, build_tcp(f, &l, RAWSYN_ISN, 0, TCP_SYN)) < 0)
      return failed("send the SYN");
    flags = wait_reply(&l, RAWSYN_RESEND_MS, &seq);
  }
  if (flags)
    return report_reply(&l, flags, seq, argv[2]);
  errno = ETIMEDOUT;
  printf("errno=%d %s (no reply from %s:%u within %d ms)\n", errno,
         strerror(errno), argv[2], l.dport, RAWSYN_WAIT_MS);
  return 1;
}

/* One UDP datagram, fire and forget: whether it arrives is for the
 * receiver to say. */
static int do_rawudp(char **argv)
{
  struct raw_link l = {.fd = -1};
  uint8_t f[ETH_LEN + IP_LEN + UDP_LEN + RAWUDP_TEXT_MAX];

  if (raw_link_from_args(&l, argv) != 0 || strlen(argv[5]) > RAWUDP_TEXT_MAX)
    return 2;
  if (open_raw_link(&l, argv[0]) != 0)
    return 1;
  if (send_frame(&l, f, build_udp(f, &l, argv[5])) < 0)
    return failed("send the datagram");
  printf("ok: sent\n");
  return 0;
}

int main(int argc, char **argv)
{
  const char *cmd = argc > 1 ? argv[1] : "";

  setvbuf(stdout, NULL, _IONBF, 0);
  if (!strcmp(cmd, "keyctl"))
    return do_keyctl();
  if (!strcmp(cmd, "kexec"))
    return do_kexec();
  if (!strcmp(cmd, "bpf"))
    return do_bpf();
  if (!strcmp(cmd, "perf"))
    return do_perf();
  if (!strcmp(cmd, "clone3"))
    return do_clone3();
  if (!strcmp(cmd, "unshare-user"))
    return do_unshare(CLONE_NEWUSER, "unshare(CLONE_NEWUSER)");
  if (!strcmp(cmd, "unshare-mnt"))
    return do_unshare(CLONE_NEWNS, "unshare(CLONE_NEWNS)");
  if (!strcmp(cmd, "setns") && argc > 2)
    return do_setns(argv[2]);
  if (!strcmp(cmd, "ptrace") && argc > 2)
    return do_ptrace(argv[2]);
  if (!strcmp(cmd, "tiocsti"))
    return do_tiocsti(argc > 2 ? argv[2] : "id\n");
  if (!strcmp(cmd, "rawsock"))
    return do_rawsock();
  if (!strcmp(cmd, "chroot-escape") && argc > 2)
    return do_chroot_escape(argv[2]);
  if (!strcmp(cmd, "open-by-handle"))
    return do_open_by_handle();
  if (!strcmp(cmd, "mknod-read") && argc > 4)
    return do_mknod_read(argv[2], argv[3], argv[4]);
  if (!strcmp(cmd, "init-module"))
    return do_init_module();
  if (!strcmp(cmd, "reboot"))
    return do_reboot();
  if (!strcmp(cmd, "overwrite") && argc > 2)
    return do_overwrite(argv[2]);
  if (!strcmp(cmd, "fds"))
    return do_fds();
  if (!strcmp(cmd, "ids"))
    return do_ids();
  if (!strcmp(cmd, "rawsyn") && argc > 6)
    return do_rawsyn(argv + 2);
  if (!strcmp(cmd, "rawudp") && argc > 7)
    return do_rawudp(argv + 2);
  fprintf(stderr, "usage: probe SUBCOMMAND [ARGS]\n");
  return 2;
}
