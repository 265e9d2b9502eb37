/* probe: one raw attempt per subcommand, for the escape suites. It is
 * static (musl) and bind-mounted read-only into containers as /probe.
 *
 *   probe SUBCOMMAND [ARGS...]
 *
 * Prints "ok" (plus what it saw, for the informational subcommands) and
 * exits 0 when the attempt succeeded; prints "errno=N NAME" and exits 1
 * when it failed. Usage errors exit 2. Every attempt is chosen to be
 * harmless even if it succeeds (CAD_OFF, empty kexec, garbage modules),
 * because a failing test must not take the host down with it. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
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
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
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
  static const char garbage[64] = "\x7f" "ELF not a module";
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
  fprintf(stderr, "usage: probe SUBCOMMAND [ARGS]\n");
  return 2;
}
