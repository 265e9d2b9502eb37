/* Writes the seed corpus of fuzz_proto (tests/fuzz/corpus/proto/) by
 * encoding configs shaped like the ones supervisor/engine/launch.c (run) and
 * supervisor/engine/exec.c (exec) send, plus MK_MSG_ERROR payloads as
 * mk_msg_send_error builds them. Run it again when the wire format changes
 * (MK_PROTO_VERSION, new record tags), from the repository root:
 *
 *   cc -std=gnu11 -D_GNU_SOURCE -Ishared -o build/gen_proto_seeds \
 *     tests/fuzz/gen_proto_seeds.c shared/mk_proto.c shared/mk_error.c \
 *     shared/mk_util.c shared/mk_hook.c && \
 *   build/gen_proto_seeds tests/fuzz/corpus/proto
 *
 * Not a fuzz target (no fuzz_ prefix), so the Makefile does not build it.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>

#include "mk_proto.h"

static const char *dir;

static void write_seed(const char *name, const void *buf, size_t len)
{
  char path[4096];
  FILE *f;

  snprintf(path, sizeof(path), "%s/%s", dir, name);
  f = fopen(path, "we");
  if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
    fprintf(stderr, "gen_proto_seeds: write %s: %s\n", path, strerror(errno));
    exit(1);
  }
}

static void seed_config(const char *name, const struct mk_config *c)
{
  static uint8_t buf[MK_MSG_MAX];
  mk_error_t err;
  size_t len;

  if (mk_config_encode(c, buf, sizeof(buf), &len, &err) < 0) {
    fprintf(stderr, "gen_proto_seeds: %s: %s\n", name, err.msg);
    exit(1);
  }
  write_seed(name, buf, len);
}

/* Near-misses made from one valid encoding: cut short, an unknown tag
 * appended, and every record twice (duplicate scalars, doubled lists). */
static void seed_edges(const struct mk_config *c)
{
  static uint8_t buf[MK_MSG_MAX], twice[2 * MK_MSG_MAX];
  uint32_t unknown[2] = {0xffff, 0};
  mk_error_t err;
  size_t len;

  if (mk_config_encode(c, buf, sizeof(buf), &len, &err) < 0)
    exit(1);
  write_seed("edge_truncated", buf, len - 3);
  memcpy(twice, buf, len);
  memcpy(twice + len, unknown, sizeof(unknown));
  write_seed("edge_unknown_tag", twice, len + sizeof(unknown));
  memcpy(twice + len, buf, len);
  write_seed("edge_every_record_twice", twice, 2 * len);
}

static void seed_error(const char *name, int errnum, uint32_t kind,
                       const char *msg)
{
  uint8_t buf[sizeof(struct mk_msg_error) + MK_ERROR_MSG_MAX];
  struct mk_msg_error head = {.errnum = errnum, .kind = kind};
  size_t n = strlen(msg) + 1;

  memcpy(buf, &head, sizeof(head));
  memcpy(buf + sizeof(head), msg, n);
  write_seed(name, buf, sizeof(head) + n);
}

#define ROOTFS "/var/lib/mocker/overlay/0123456789ab/merged"
#define CDIR "/var/lib/mocker/containers/0123456789abcdef"

static const char *shell_argv[] = {"/bin/sh", NULL};
static const char *echo_argv[] = {"sh", "-c", "echo hello $NAME", NULL};
static const char *base_env[] = {
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOSTNAME=0123456789ab", "NAME=world", NULL};

static struct mk_mount etc_mounts[] = {
    {MK_MOUNT_BIND, 0, CDIR "/hostname", "/etc/hostname", ""},
    {MK_MOUNT_BIND, 0, CDIR "/hosts", "/etc/hosts", ""},
    {MK_MOUNT_BIND, 0, CDIR "/resolv.conf", "/etc/resolv.conf", ""},
    {MK_MOUNT_BIND, MK_MNT_RDONLY, "/srv/data", "/data", ""},
    {MK_MOUNT_TMPFS, MK_MNT_NOSUID | MK_MNT_NODEV | MK_MNT_NOEXEC, "tmpfs",
     "/scratch", "size=64m,mode=1777"},
};

static void run_configs(void)
{
  struct mk_config c = {
      .rootfs = ROOTFS,
      .hostname = "0123456789ab",
      .workdir = "",
      .user = "",
      .argc = 1,
      .argv = shell_argv,
      .envc = 3,
      .env = base_env,
      .nmounts = 3,
      .mounts = etc_mounts,
  };

  seed_config("run_minimal", &c);
  seed_edges(&c);
  c.flags = MK_CFG_TTY | MK_CFG_STDIN;
  c.rows = 24;
  c.cols = 80;
  c.argc = 3;
  c.argv = echo_argv;
  c.workdir = "/data";
  c.user = "nobody:nogroup";
  c.nmounts = 5;
  seed_config("run_tty_volumes_tmpfs", &c);
  c.flags = MK_CFG_READONLY;
  c.rows = c.cols = 0;
  c.user = "1000:1000";
  c.envc = 0;
  seed_config("run_readonly_no_env", &c);
}

#if defined(MK_MAX_DEVICES) && defined(MK_MAX_SECCOMP_BYTES)
/* ld [4] (arch); jeq AUDIT_ARCH_X86_64; ret ALLOW; ret KILL_PROCESS */
static const uint8_t tiny_filter[32] = {
    0x20, 0, 0, 0, 4, 0, 0,    0,    0x15, 0, 1, 0, 0x3e, 0, 0, 0xc0,
    0x06, 0, 0, 0, 0, 0, 0xff, 0x7f, 0x06, 0, 0, 0, 0,    0, 0, 0x80};
static struct mk_device fuse_dev[] = {
    {'c', 10, 229, 0666, 0, 0, "/dev/fuse"},
    {'b', 7, 0, 0660, 0, 6, "/dev/loop0"},
    {'p', 0, 0, 0660, 0, 0, "/dev/pipe"}};

static void security_configs(void)
{
  struct mk_config c = {
      .flags = MK_CFG_NO_NEW_PRIVS,
      .rootfs = ROOTFS,
      .hostname = "web",
      .workdir = "/",
      .user = "",
      .argc = 1,
      .argv = shell_argv,
      .nmounts = 3,
      .mounts = etc_mounts,
      .caps = 0xa80425fbULL, /* Docker's default 14 */
      .seccomp = tiny_filter,
      .seccomp_len = sizeof(tiny_filter),
      .ndevices = 3,
      .devices = fuse_dev,
  };

  seed_config("run_caps_seccomp_devices", &c);
  c.flags = MK_CFG_PRIVILEGED;
  c.caps = ~0ULL >> 23; /* CAP_LAST_CAP 40 */
  c.seccomp = NULL;
  c.seccomp_len = 0;
  c.ndevices = 0;
  seed_config("run_privileged", &c);
}
#else
static void security_configs(void)
{
}
#endif

/* Every list at its cap, so one mutation reaches the "too many" checks. */
static void limit_configs(void)
{
  static const char *argv[MK_MAX_ARGS + 1];
  static struct mk_mount mounts[MK_MAX_MOUNTS];
  struct mk_config c = {
      .rootfs = ROOTFS,
      .hostname = "",
      .workdir = "",
      .user = "",
      .argc = MK_MAX_ARGS,
      .argv = argv,
  };

  for (size_t i = 0; i < MK_MAX_ARGS; i++)
    argv[i] = "a";
  seed_config("edge_max_args", &c);
  c.argc = 1;
  for (size_t i = 0; i < MK_MAX_MOUNTS; i++)
    mounts[i] = (struct mk_mount){MK_MOUNT_TMPFS, 0, "", "/t", ""};
  c.nmounts = MK_MAX_MOUNTS;
  c.mounts = mounts;
  seed_config("edge_max_mounts", &c);
#if defined(MK_MAX_DEVICES)
  static struct mk_device devices[MK_MAX_DEVICES];
  for (size_t i = 0; i < MK_MAX_DEVICES; i++)
    devices[i] = (struct mk_device){'c', 1, 3, 0666, 0, 0, "/d"};
  c.nmounts = 0;
  c.ndevices = MK_MAX_DEVICES;
  c.devices = devices;
  seed_config("edge_max_devices", &c);
#endif
}

static void exec_config(void)
{
  struct mk_config c = {
      .flags = MK_CFG_EXEC | MK_CFG_TTY | MK_CFG_STDIN,
      .rows = 50,
      .cols = 200,
      .rootfs = "/",
      .hostname = "",
      .workdir = "",
      .user = "0",
      .argc = 1,
      .argv = shell_argv,
      .envc = 1,
      .env = base_env,
  };

  seed_config("exec_tty", &c);
  /* mocker-runtime exec: in place, a user with an ambient capability */
  c.flags = MK_CFG_EXEC | MK_CFG_EXEC_INPLACE | MK_CFG_STDIN | MK_CFG_CAP_SETS;
  c.user = "1000:1000";
  c.target_pid = 7; /* a pid namespace shared with a pod's sandbox */
  c.caps = 1ULL << 10;
  for (int i = 0; i < MK_NCAPSETS; i++)
    c.cap_sets[i] = 1ULL << 10;
  seed_config("exec_inplace_cap_sets", &c);
}

#ifdef MK_MAX_RLIMITS
/* mocker-runtime create: held until start, the bundle's rlimits, no /etc
 * binds. */
static void oci_config(void)
{
  static struct mk_rlimit limits[] = {{RLIMIT_NOFILE, 512, 1024},
                                      {RLIMIT_CORE, 0, 0}};
  struct mk_config c = {
      .flags = MK_CFG_HOLD | MK_CFG_READONLY,
      .rootfs = ROOTFS,
      .hostname = "mocker",
      .workdir = "/",
      .user = "0:0",
      .argc = 1,
      .argv = shell_argv,
      .envc = 1,
      .env = base_env,
      .nrlimits = 2,
      .rlimits = limits,
  };

  seed_config("oci_hold_rlimits", &c);
#ifdef MK_MAX_HOOKS
  /* with hooks for init: two createContainer, one startContainer */
  static const char *hook_argv[] = {"prepare", "--id", "c1", NULL};
  static const char *hook_env[] = {"PATH=/usr/bin:/bin", "STAGE=create", NULL};
  static const char *none[] = {NULL};
  static struct mk_hook hooks[] = {
      {MK_HOOK_CREATE_CONTAINER, 10, "/usr/libexec/oci/prepare", hook_argv,
       hook_env},
      {MK_HOOK_CREATE_CONTAINER, 0, "/bin/true", none, none},
      {MK_HOOK_START_CONTAINER, 5, "/hooks/start.sh", none, hook_env},
  };
  c.nhooks = 3;
  c.hooks = hooks;
  c.hook_state[MK_HOOK_CREATE_CONTAINER] =
      "{\"ociVersion\":\"1.1.0\",\"id\":\"c1\",\"status\":\"creating\","
      "\"pid\":4242,\"bundle\":\"/run/bundle\",\"annotations\":{}}";
  c.hook_state[MK_HOOK_START_CONTAINER] =
      "{\"ociVersion\":\"1.1.0\",\"id\":\"c1\",\"status\":\"created\","
      "\"pid\":4242,\"bundle\":\"/run/bundle\",\"annotations\":{}}";
  seed_config("oci_hold_hooks", &c);
#endif
}
#else
static void oci_config(void)
{
}
#endif

int main(int argc, char **argv)
{
  if (argc != 2) {
    fprintf(stderr, "usage: gen_proto_seeds DIR\n");
    return 2;
  }
  dir = argv[1];
  run_configs();
  security_configs();
  limit_configs();
  exec_config();
  oci_config();
  seed_error("error_exec_enoent", ENOENT, MK_FAIL_EXEC,
             "exec `nosuch`: No such file or directory");
  seed_error("error_setup_mount", EINVAL, MK_FAIL_SETUP,
             "mount tmpfs on `/scratch`: Invalid argument");
  seed_error("error_empty_text", 0, MK_FAIL_SETUP, "");
  return 0;
}
