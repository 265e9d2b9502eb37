/* `mocker run`: exit codes, isolation, mounts and devices, options, stdio
 * and what is left on the host. Each test gets its own state root; the
 * teardown asserts no mount, process or container dir is left. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

static int lines_starting(const char *text, const char *prefix)
{
  int n = 0;

  for (const char *p = text; p && *p;) {
    n += strncmp(p, prefix, strlen(prefix)) == 0;
    p = strchr(p, '\n');
    if (p)
      p++;
  }
  return n;
}

#define H_ASSERT_LINE(r, line)                                                 \
  ck_assert_msg(h_has_line((r)->out, (line)),                                  \
                "`%s`: stdout lacks the line \"%s\"\n--- stdout:\n%s\n--- "    \
                "stderr:\n%s",                                                 \
                h_last_cmd(), (line), (r)->out, (r)->err)

/* Errors print "mocker: <message>". */
static void assert_error_line(const struct h_res *r)
{
  ck_assert_msg(
      strncmp(r->err, "mocker: ", 8) == 0 || h_contains(r->err, "\nmocker: "),
      "`%s`: no \"mocker: \" error line on stderr:\n%s", h_last_cmd(), r->err);
}

static void only_container(char id[65])
{
  char ids[4][65];
  int n = h_containers(h.root, ids, 4);

  ck_assert_msg(n == 1,
                "want exactly one container dir in %s/containers, "
                "found %d",
                h.root, n);
  ck_assert_msg(strlen(ids[0]) == 64 && h_is_hex(ids[0], 64),
                "container dir name is not a 64-hex id: \"%s\"", ids[0]);
  memcpy(id, ids[0], 65);
}

static void rm_container(const char *id_or_name)
{
  struct h_res r;

  H_RUN(&r, "rm", id_or_name);
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
}

/* ---- exit code matrix ---------------------------------------------- */

START_TEST(test_exit_true)
{
  struct h_res r;

  H_RUN(&r, "run", "--rm", "busybox", "true");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  H_RUN(&r, "run", "--rm", "busybox", "false");
  H_ASSERT_STATUS(&r, 1);
  h_res_free(&r);
  H_RUN(&r, "run", "--rm", "busybox:latest", "true");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
}
END_TEST

START_TEST(test_exit_code_passes_through)
{
  struct h_res r;

  H_RUN(&r, "run", "--rm", "busybox", "sh", "-c", "exit 3");
  H_ASSERT_STATUS(&r, 3);
  h_res_free(&r);
  H_RUN(&r, "run", "--rm", "busybox", "sh", "-c", "exit 255");
  H_ASSERT_STATUS(&r, 255);
  h_res_free(&r);
}
END_TEST

START_TEST(test_exit_killed_by_signal)
{
  struct h_res r;

  H_RUN(&r, "run", "--rm", "busybox", "sh", "-c", "kill -9 $$");
  H_ASSERT_STATUS(&r, 137);
  h_res_free(&r);
  H_RUN(&r, "run", "--rm", "busybox", "sh", "-c", "kill -TERM $$");
  H_ASSERT_STATUS(&r, 143);
  h_res_free(&r);
}
END_TEST

START_TEST(test_exit_127_missing_path)
{
  struct h_res r;

  H_RUN(&r, "run", "--rm", "busybox", "/nonexistent");
  H_ASSERT_STATUS(&r, 127);
  H_ASSERT_HAS(&r, err, "/nonexistent");
  assert_error_line(&r);
  h_res_free(&r);
}
END_TEST

START_TEST(test_exit_127_not_in_path)
{
  struct h_res r;

  H_RUN(&r, "run", "--rm", "busybox", "nosuchcmd");
  H_ASSERT_STATUS(&r, 127);
  H_ASSERT_HAS(&r, err, "executable file not found in $PATH");
  H_ASSERT_HAS(&r, err, "nosuchcmd");
  assert_error_line(&r);
  h_res_free(&r);
}
END_TEST

START_TEST(test_exit_126_not_executable)
{
  struct h_res r;

  H_RUN(&r, "run", "--rm", "busybox", "/etc/passwd");
  H_ASSERT_STATUS(&r, 126);
  H_ASSERT_HAS(&r, err, "/etc/passwd");
  assert_error_line(&r);
  h_res_free(&r);
}
END_TEST

START_TEST(test_exit_126_directory)
{
  struct h_res r;

  H_RUN(&r, "run", "--rm", "busybox", "/tmp");
  H_ASSERT_STATUS(&r, 126);
  H_ASSERT_HAS(&r, err, "/tmp");
  assert_error_line(&r);
  h_res_free(&r);
}
END_TEST

START_TEST(test_exit_125_unknown_image)
{
  struct h_res r;

  H_RUN(&r, "run", "--rm", "nosuchimage-mk", "true");
  H_ASSERT_STATUS(&r, 125);
  H_ASSERT_HAS(&r, err, "nosuchimage-mk");
  assert_error_line(&r);
  ck_assert_int_eq(h_containers(h.root, NULL, 0), 0);
  h_res_free(&r);
}
END_TEST

START_TEST(test_exit_125_bad_flag)
{
  struct h_res r;

  H_RUN(&r, "run", "--bogus", "busybox", "true");
  H_ASSERT_STATUS(&r, 125);
  H_ASSERT_HAS(&r, err, "unknown flag: --bogus");
  H_ASSERT_HAS(&r, err, "See 'mocker run --help'.");
  ck_assert_msg(r.out_len == 0, "stdout not empty: %s", r.out);
  h_res_free(&r);

  /* No image at all. */
  H_RUN(&r, "run");
  H_ASSERT_STATUS(&r, 125);
  H_ASSERT_HAS(&r, err, "mocker run --help");
  h_res_free(&r);
}
END_TEST

START_TEST(test_exit_125_unknown_verb)
{
  struct h_res r;

  H_RUN(&r, "frobnicate");
  H_ASSERT_STATUS(&r, 125);
  H_ASSERT_HAS(&r, err, "frobnicate");
  H_ASSERT_HAS(&r, err, "--help");
  h_res_free(&r);
}
END_TEST

START_TEST(test_help_and_version)
{
  struct h_res r;

  H_RUN(&r, "--help");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_HAS(&r, out, "Usage:");
  H_ASSERT_HAS(&r, out, "run");
  h_res_free(&r);

  H_RUN(&r, "run", "--help");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_HAS(&r, out, "Usage:");
  H_ASSERT_HAS(&r, out, "mocker run");
  H_ASSERT_HAS(&r, out, "--read-only");
  h_res_free(&r);

  H_RUN(&r, "--version");
  H_ASSERT_STATUS(&r, 0);
  ck_assert_msg(r.out_len > 0 && strpbrk(r.out, "0123456789"),
                "--version printed no version: \"%s\"", r.out);
  h_res_free(&r);
}
END_TEST

/* ---- isolation ------------------------------------------------------ */

START_TEST(test_namespaces_distinct)
{
  static const char *const ns[] = {"pid", "mnt", "uts", "ipc", "net", "cgroup"};
  struct h_res r;

  H_RUN(&r, "run", "--rm", "busybox", "sh", "-c",
        "for n in pid mnt uts ipc net cgroup; do "
        "echo \"$n $(readlink /proc/self/ns/$n)\"; done");
  H_ASSERT_STATUS(&r, 0);
  for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
    char path[64], mine[128], line[256];
    ssize_t n;
    const char *p;

    snprintf(path, sizeof path, "/proc/self/ns/%s", ns[i]);
    n = readlink(path, mine, sizeof mine - 1);
    ck_assert_msg(n > 0, "readlink %s", path);
    mine[n] = '\0';
    snprintf(line, sizeof line, "%s %s:[", ns[i], ns[i]);
    p = strstr(r.out, line);
    ck_assert_msg(p, "no %s namespace link inside:\n%s", ns[i], r.out);
    snprintf(line, sizeof line, "%s %s", ns[i], mine);
    ck_assert_msg(!h_has_line(r.out, line),
                  "the container shares the host's %s namespace (%s)", ns[i],
                  mine);
  }
  h_res_free(&r);
}
END_TEST

START_TEST(test_pid1_is_mocker_init)
{
  struct h_res r;
  bool seen = false;

  H_RUN(&r, "run", "--rm", "busybox", "sh", "-c",
        "cat /proc/1/comm; echo \"workload $$\"; ps");
  H_ASSERT_STATUS(&r, 0);
  ck_assert_msg(strncmp(r.out, "mocker-init\n", 12) == 0,
                "/proc/1/comm is not mocker-init:\n%s", r.out);
  /* In `ps`, the line of PID 1 names mocker-init. */
  for (char *line = strchr(r.out, '\n'); line; line = strchr(line, '\n')) {
    line++;
    if (strncmp(line + strspn(line, " "), "1 ", 2) == 0) {
      char *end = strchr(line, '\n');

      if (end)
        *end = '\0';
      seen = true;
      ck_assert_msg(h_contains(line, "mocker-init"), "ps shows PID 1 as: %s",
                    line);
      if (end)
        *end = '\n';
    }
  }
  ck_assert_msg(seen, "ps shows no PID 1:\n%s", r.out);
  H_ASSERT_LACKS(&r, out, "workload 1\n");
  h_res_free(&r);
}
END_TEST

START_TEST(test_rootfs_is_busybox)
{
  struct h_res r;

  H_RUN(&r, "run", "--rm", "busybox", "sh", "-c",
        "ls -a /; echo ---; readlink /bin/ls; test -x /bin/busybox && "
        "echo has-busybox");
  H_ASSERT_STATUS(&r, 0);
  static const char *const want[] = {"bin", "dev", "etc", "proc",
                                     "sys", "tmp", "root"};
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
    H_ASSERT_LINE(&r, want[i]);
  H_ASSERT_LINE(&r, "/bin/busybox");
  H_ASSERT_LINE(&r, "has-busybox");
  /* Nothing of the host's / shows through. */
  if (h_exists("/work"))
    ck_assert_msg(!h_has_line(r.out, "work"), "host /work visible:\n%s", r.out);
  if (h_exists("/.dockerenv"))
    ck_assert_msg(!h_has_line(r.out, ".dockerenv"), "host /.dockerenv visible");
  ck_assert_msg(!h_has_line(r.out, "mocker-it"), "temp root visible");
  h_res_free(&r);
}
END_TEST

/* The last /proc/self/mounts entry for mountpoint `mnt`: sets type and
 * options; false if none. */
static bool find_mount(const char *mounts, const char *mnt, char *type,
                       char *opts)
{
  bool found = false;

  for (const char *p = mounts; p && *p;) {
    const char *nl = strchr(p, '\n');
    size_t len = nl ? (size_t)(nl - p) : strlen(p);
    char line[4096], dev[256], m[1024], t[64], o[1024];

    if (len < sizeof line) {
      memcpy(line, p, len);
      line[len] = '\0';
      if (sscanf(line, "%255s %1023s %63s %1023s", dev, m, t, o) == 4 &&
          strcmp(m, mnt) == 0) {
        strcpy(type, t);
        strcpy(opts, o);
        found = true;
      }
    }
    p = nl ? nl + 1 : NULL;
  }
  return found;
}

static bool has_opt(const char *opts, const char *opt)
{
  char buf[1100];

  snprintf(buf, sizeof buf, ",%s,", opts);
  char want[128];
  snprintf(want, sizeof want, ",%s,", opt);
  return strstr(buf, want) != NULL;
}

START_TEST(test_mounts_inside)
{
  static const struct {
    const char *mnt, *type, *opt;
  } want[] = {
      {"/", "overlay", NULL},          {"/proc", "proc", NULL},
      {"/sys", "sysfs", "ro"},         {"/dev", "tmpfs", NULL},
      {"/dev/pts", "devpts", NULL},    {"/dev/shm", "tmpfs", NULL},
      {"/dev/mqueue", "mqueue", NULL}, {"/etc/hostname", NULL, NULL},
      {"/etc/hosts", NULL, NULL},      {"/etc/resolv.conf", NULL, NULL},
  };
  struct h_res r;

  H_RUN(&r, "run", "--rm", "busybox", "sh", "-c",
        "cat /proc/self/mounts; echo ---; stat -c '%a %n' /dev /dev/shm");
  H_ASSERT_STATUS(&r, 0);
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    char type[64], opts[1024];

    ck_assert_msg(find_mount(r.out, want[i].mnt, type, opts),
                  "%s is not a mount point inside:\n%s", want[i].mnt, r.out);
    if (want[i].type)
      ck_assert_msg(strcmp(type, want[i].type) == 0, "%s is %s, want %s",
                    want[i].mnt, type, want[i].type);
    if (want[i].opt)
      ck_assert_msg(has_opt(opts, want[i].opt), "%s options \"%s\" lack %s",
                    want[i].mnt, opts, want[i].opt);
  }
  {
    char type[64], opts[1024];

    find_mount(r.out, "/dev/pts", type, opts);
    ck_assert_msg(has_opt(opts, "ptmxmode=666"),
                  "/dev/pts is not ptmxmode=666: %s", opts);
  }
  H_ASSERT_LINE(&r, "755 /dev");
  H_ASSERT_LINE(&r, "1777 /dev/shm");
  h_res_free(&r);
}
END_TEST

START_TEST(test_devices)
{
  struct h_res r;

  H_RUN(&r, "run", "--rm", "busybox", "sh", "-c",
        "for d in null zero full random urandom tty; do "
        "  if [ -c /dev/$d ]; then stat -c '%n %t:%T' /dev/$d; "
        "  else echo \"/dev/$d missing\"; fi; done; "
        "for l in fd stdin stdout stderr ptmx; do "
        "  echo \"$l -> $(readlink /dev/$l)\"; done; "
        "echo x > /dev/null && echo null-works; "
        "echo \"zero $(head -c 5 /dev/zero | wc -c)\"; "
        "echo \"urandom $(head -c 16 /dev/urandom | wc -c)\"; "
        "(echo x > /dev/full) 2>/dev/null || echo full-is-full");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_LINE(&r, "/dev/null 1:3");
  H_ASSERT_LINE(&r, "/dev/zero 1:5");
  H_ASSERT_LINE(&r, "/dev/full 1:7");
  H_ASSERT_LINE(&r, "/dev/random 1:8");
  H_ASSERT_LINE(&r, "/dev/urandom 1:9");
  H_ASSERT_LINE(&r, "/dev/tty 5:0");
  H_ASSERT_LINE(&r, "fd -> /proc/self/fd");
  H_ASSERT_LINE(&r, "stdin -> /proc/self/fd/0");
  H_ASSERT_LINE(&r, "stdout -> /proc/self/fd/1");
  H_ASSERT_LINE(&r, "stderr -> /proc/self/fd/2");
  H_ASSERT_LINE(&r, "ptmx -> pts/ptmx");
  H_ASSERT_LINE(&r, "null-works");
  H_ASSERT_LINE(&r, "zero 5");
  H_ASSERT_LINE(&r, "urandom 16");
  H_ASSERT_LINE(&r, "full-is-full");
  h_res_free(&r);
}
END_TEST

/* --network none: loopback only (check_network covers the bridge). */
START_TEST(test_network_only_lo_up)
{
  struct h_res r;
  const char *flags;
  unsigned long f;

  H_RUN(&r, "run", "--rm", "--network", "none", "busybox", "sh", "-c",
        "ls /sys/class/net; echo ---; cat /sys/class/net/lo/flags; "
        "ip addr show lo");
  H_ASSERT_STATUS(&r, 0);
  ck_assert_msg(strncmp(r.out, "lo\n---\n", 7) == 0,
                "interfaces inside are not just lo:\n%s", r.out);
  flags = r.out + 7;
  f = strtoul(flags, NULL, 16);
  ck_assert_msg(f & 0x1, "lo is not up (flags %s)", flags);
  H_ASSERT_HAS(&r, out, "127.0.0.1");
  h_res_free(&r);
}
END_TEST

/* ---- options --------------------------------------------------------- */

START_TEST(test_env_and_env_file)
{
  char file[4200];
  struct h_res r;

  h_fmt(file, sizeof file, "%s/env.list", h.host);
  h_write_file(file, "BAZ=qux\n# a comment\n\nSPACED=a b c\n");
  H_RUN(&r, "run", "--rm", "-e", "FOO=bar", "--env-file", file, "busybox",
        "env");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_LINE(&r, "FOO=bar");
  H_ASSERT_LINE(&r, "BAZ=qux");
  H_ASSERT_LINE(&r, "SPACED=a b c");
  H_ASSERT_LACKS(&r, out, "comment");
  /* The image's PATH stays. */
  H_ASSERT_HAS(&r, out, "PATH=");
  H_ASSERT_HAS(&r, out, "/bin");
  h_res_free(&r);

  /* -e KEY copies the host's value; -e PATH=... replaces the image's. */
  setenv("MK_IT_FROM_HOST", "host-value", 1);
  H_RUN(&r, "run", "--rm", "-e", "MK_IT_FROM_HOST", "-e", "PATH=/bin:/usr/bin",
        "busybox", "sh", "-c", "env | sort");
  unsetenv("MK_IT_FROM_HOST");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_LINE(&r, "MK_IT_FROM_HOST=host-value");
  H_ASSERT_LINE(&r, "PATH=/bin:/usr/bin");
  ck_assert_msg(lines_starting(r.out, "PATH=") == 1,
                "PATH is set more than once:\n%s", r.out);
  h_res_free(&r);

  /* A missing env file is mocker's own failure. */
  H_RUN(&r, "run", "--rm", "--env-file", "/nonexistent-env-file", "busybox",
        "true");
  H_ASSERT_STATUS(&r, 125);
  H_ASSERT_HAS(&r, err, "/nonexistent-env-file");
  h_res_free(&r);
}
END_TEST

START_TEST(test_workdir_created)
{
  struct h_res r;

  H_RUN(&r, "run", "--rm", "-w", "/some/new/dir", "busybox", "pwd");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "/some/new/dir\n");
  h_res_free(&r);

  /* Created even when the rootfs is then made read-only. */
  H_RUN(&r, "run", "--rm", "--read-only", "-w", "/ro/new", "busybox", "pwd");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "/ro/new\n");
  h_res_free(&r);

  H_RUN(&r, "run", "--rm", "-w", "relative", "busybox", "pwd");
  H_ASSERT_STATUS(&r, 125);
  H_ASSERT_HAS(&r, err, "relative");
  h_res_free(&r);
}
END_TEST

START_TEST(test_user_by_name)
{
  struct h_res r;

  H_RUN(&r, "run", "--rm", "-u", "nobody", "busybox", "sh", "-c",
        "id -u; id -g; id -G");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "65534\n65534\n65534\n");
  h_res_free(&r);

  H_RUN(&r, "run", "--rm", "-u", "nobody:tty", "busybox", "sh", "-c",
        "id -u; id -g");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "65534\n5\n");
  h_res_free(&r);
}
END_TEST

START_TEST(test_user_unknown)
{
  struct h_res r;

  H_RUN(&r, "run", "--rm", "-u", "nosuchuser", "busybox", "true");
  H_ASSERT_STATUS(&r, 125);
  H_ASSERT_HAS(&r, err, "nosuchuser");
  assert_error_line(&r);
  h_res_free(&r);

  H_RUN(&r, "run", "--rm", "-u", "nobody:nosuchgroup", "busybox", "true");
  H_ASSERT_STATUS(&r, 125);
  H_ASSERT_HAS(&r, err, "nosuchgroup");
  h_res_free(&r);
}
END_TEST

START_TEST(test_user_by_ids)
{
  struct h_res r;

  /* id -G: no supplementary group (root's 0) may survive. */
  H_RUN(&r, "run", "--rm", "-u", "1234:5678", "busybox", "sh", "-c",
        "id -u; id -g; id -G");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "1234\n5678\n5678\n");
  h_res_free(&r);
}
END_TEST

START_TEST(test_hostname_option)
{
  struct h_res r;

  H_RUN(&r, "run", "--rm", "-h", "myhost", "busybox", "sh", "-c",
        "hostname; cat /etc/hostname; echo ---; cat /etc/hosts");
  H_ASSERT_STATUS(&r, 0);
  ck_assert_msg(strncmp(r.out, "myhost\nmyhost\n---\n", 18) == 0,
                "hostname and /etc/hostname are not myhost:\n%s", r.out);
  H_ASSERT_HAS(&r, out, "127.0.0.1\tlocalhost");
  H_ASSERT_HAS(&r, out, "ip6-localhost");
  h_res_free(&r);
}
END_TEST

/* REFERENCE.md: /etc/hosts names the container's own hostname, so that
 * the container can resolve its own name. */
START_TEST(test_hosts_names_own_hostname)
{
  struct h_res r;

  H_RUN(&r, "run", "--rm", "-h", "myhost", "busybox", "sh", "-c",
        "grep -w myhost /etc/hosts");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_HAS(&r, out, "myhost");
  h_res_free(&r);
}
END_TEST

START_TEST(test_default_hostname_is_short_id)
{
  struct h_res r;
  char id[65];

  H_RUN(&r, "run", "busybox", "hostname");
  H_ASSERT_STATUS(&r, 0);
  ck_assert_msg(r.out_len == 13 && r.out[12] == '\n' && h_is_hex(r.out, 12),
                "default hostname is not 12 lowercase hex chars: \"%s\"",
                r.out);
  only_container(id);
  ck_assert_msg(strncmp(id, r.out, 12) == 0,
                "hostname %.12s is not the start of the id %s", r.out, id);
  h_res_free(&r);
  rm_container(id);
}
END_TEST

START_TEST(test_volume_rw)
{
  char vol[4200], spec[8500], in[4300], out[4300];
  struct h_res r;
  char *got;

  h_fmt(vol, sizeof vol, "%s/vol", h.host);
  ck_assert_int_eq(mkdir(vol, 0755), 0);
  h_fmt(in, sizeof in, "%s/in", vol);
  h_fmt(out, sizeof out, "%s/out", vol);
  h_write_file(in, "from-host\n");
  h_fmt(spec, sizeof spec, "%s:/data", vol);
  H_RUN(&r, "run", "--rm", "-v", spec, "busybox", "sh", "-c",
        "cat /data/in && echo from-ctr > /data/out");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "from-host\n");
  got = h_read_file(out);
  ck_assert_msg(got && strcmp(got, "from-ctr\n") == 0,
                "file written inside is not on the host: %s", got);
  free(got);
  h_res_free(&r);
}
END_TEST

START_TEST(test_volume_ro)
{
  char vol[4200], spec[8500], in[4300], x[4300];
  struct h_res r;

  h_fmt(vol, sizeof vol, "%s/vol", h.host);
  ck_assert_int_eq(mkdir(vol, 0755), 0);
  h_fmt(in, sizeof in, "%s/in", vol);
  h_fmt(x, sizeof x, "%s/x", vol);
  h_write_file(in, "from-host\n");
  h_fmt(spec, sizeof spec, "%s:/data:ro", vol);
  H_RUN(&r, "run", "--rm", "-v", spec, "busybox", "sh", "-c",
        "cat /data/in; touch /data/x");
  ck_assert_msg(r.status != 0 && r.status < 125,
                "touch on a :ro volume: exit %d, stderr %s", r.status, r.err);
  H_ASSERT_OUT_EQ(&r, "from-host\n");
  ck_assert_msg(!h_exists(x), "a write through a :ro volume reached the host");
  h_res_free(&r);
}
END_TEST

/* A host path, named after this test, that must never appear. */
static void escape_path(char *buf, size_t size, const char *what)
{
  h_fmt(buf, size, "/mk-escape-%s-%s", what, strrchr(h.dir, '.') + 1);
}

/* Removes what an escaped mount would have made on the host, and says
 * whether there was anything. */
static bool undo_escape(const char *path)
{
  char *list = NULL;
  bool found = h_exists(path) || h_mounts_under(path, &list) > 0;

  free(list);
  for (int i = 0; i < 8 && h_mounts_under(path, NULL) > 0; i++)
    umount2(path, MNT_DETACH);
  if (h_exists(path) && rmdir(path) < 0)
    unlink(path);
  return found;
}

/* Volume targets never leave the rootfs: `..` is refused, and a target
 * through a symlink (here in an earlier volume) pointing at an absolute
 * path is resolved inside it. */
START_TEST(test_volume_target_stays_in_rootfs)
{
  char a[4200], b[4200], link[4300], f[4300], spec_a[8500], spec_b[8500];
  char dotdot[256], target[256], via_link[256];
  struct h_res r;
  bool escaped_dotdot, escaped_link;

  escape_path(dotdot, sizeof dotdot, "dotdot");
  escape_path(target, sizeof target, "link");
  h_fmt(a, sizeof a, "%s/a", h.host);
  h_fmt(b, sizeof b, "%s/b", h.host);
  ck_assert_int_eq(mkdir(a, 0755), 0);
  ck_assert_int_eq(mkdir(b, 0755), 0);
  h_fmt(f, sizeof f, "%s/f", b);
  h_write_file(f, "b-content\n");
  h_fmt(link, sizeof link, "%s/link", a);
  ck_assert_int_eq(symlink(target, link), 0);

  h_fmt(spec_b, sizeof spec_b, "%s:/../../../../..%s", b, dotdot);
  h_fmt(via_link, sizeof via_link, "cat %s/f", dotdot);
  H_RUN(&r, "run", "--rm", "-v", spec_b, "busybox", "sh", "-c", via_link);
  escaped_dotdot = undo_escape(dotdot);
  ck_assert_msg(!escaped_dotdot, "`%s` made %s on the host", h_last_cmd(),
                dotdot);
  /* A destination with ".." is refused outright (validate.c): it would
   * be resolved inside a rootfs the image controls. */
  H_ASSERT_STATUS(&r, 125);
  H_ASSERT_HAS(&r, err, "'..' components are not allowed");
  h_res_free(&r);

  h_fmt(spec_a, sizeof spec_a, "%s:/a", a);
  h_fmt(spec_b, sizeof spec_b, "%s:/a/link", b);
  H_RUN(&r, "run", "--rm", "-v", spec_a, "-v", spec_b, "busybox", "true");
  escaped_link = undo_escape(target);
  ck_assert_msg(!escaped_link, "`%s` followed /a/link to %s on the host",
                h_last_cmd(), target);
  ck_assert_msg(r.status == 0 || r.status == 125, "`%s`: exit %d\n%s",
                h_last_cmd(), r.status, r.err);
  h_res_free(&r);
}
END_TEST

START_TEST(test_tmpfs)
{
  struct h_res r;
  char type[64], opts[1024];

  H_RUN(&r, "run", "--rm", "--tmpfs", "/scratch", "--tmpfs", "/sized:size=1m",
        "busybox", "sh", "-c",
        "cat /proc/self/mounts; echo hi > /scratch/f && cat /scratch/f");
  H_ASSERT_STATUS(&r, 0);
  ck_assert_msg(find_mount(r.out, "/scratch", type, opts) &&
                    strcmp(type, "tmpfs") == 0,
                "/scratch is not a tmpfs:\n%s", r.out);
  ck_assert_msg(find_mount(r.out, "/sized", type, opts) &&
                    strcmp(type, "tmpfs") == 0 && has_opt(opts, "size=1024k"),
                "/sized is not a 1m tmpfs:\n%s", r.out);
  H_ASSERT_LINE(&r, "hi");
  h_res_free(&r);
}
END_TEST

START_TEST(test_read_only)
{
  struct h_res r;

  H_RUN(&r, "run", "--rm", "--read-only", "busybox", "sh", "-c",
        "touch /x 2>/dev/null && echo root-writable; "
        "touch /tmp/y 2>/dev/null && echo tmp-writable; "
        "touch /dev/shm/z && echo shm-ok");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "shm-ok\n");
  h_res_free(&r);

  H_RUN(&r, "run", "--rm", "--read-only", "--tmpfs", "/tmp", "busybox", "sh",
        "-c",
        "touch /tmp/y && echo tmp-ok; touch /x 2>/dev/null || "
        "echo root-ro");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "tmp-ok\nroot-ro\n");
  h_res_free(&r);
}
END_TEST

START_TEST(test_entrypoint)
{
  struct h_res r;

  H_RUN(&r, "run", "--rm", "--entrypoint", "/bin/echo", "busybox", "hello",
        "world");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "hello world\n");
  h_res_free(&r);

  /* An empty entrypoint clears it: the command runs as given. */
  H_RUN(&r, "run", "--rm", "--entrypoint", "", "busybox", "echo", "hi");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "hi\n");
  h_res_free(&r);
}
END_TEST

START_TEST(test_image_default_cmd)
{
  struct h_res r;

  /* The image's Cmd is /bin/sh: it reads its script from stdin. */
  H_RUN_IN(&r, "echo from-default-cmd; exit 4\n", "run", "--rm", "-i",
           "busybox");
  H_ASSERT_STATUS(&r, 4);
  H_ASSERT_OUT_EQ(&r, "from-default-cmd\n");
  h_res_free(&r);
}
END_TEST

/* ---- stdio ------------------------------------------------------------ */

START_TEST(test_stdin_is_null_without_i)
{
  struct h_res r;

  H_RUN_IN(&r, "should-not-arrive\n", "run", "--rm", "busybox", "sh", "-c",
           "echo start; cat; echo end");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "start\nend\n");
  h_res_free(&r);
}
END_TEST

START_TEST(test_stdin_with_i)
{
  struct h_res r;

  H_RUN_IN(&r, "hello-stdin\nline2\n", "run", "--rm", "-i", "busybox", "sh",
           "-c", "cat; echo after-eof");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "hello-stdin\nline2\nafter-eof\n");
  h_res_free(&r);
}
END_TEST

START_TEST(test_stdin_large)
{
  const size_t size = 1u << 20;
  char *data = malloc(size + 1);
  struct h_res r;

  ck_assert_ptr_nonnull(data);
  for (size_t i = 0; i < size; i++)
    data[i] = (char)('a' + (i * 7 + i / 4096) % 26);
  data[size] = '\0';
  h_run(&r, &(struct h_opts){.stdin_data = data, .stdin_len = size},
        H_ARGV("run", "--rm", "-i", "busybox", "cat"));
  H_ASSERT_STATUS(&r, 0);
  ck_assert_msg(r.out_len == size, "cat returned %zu bytes of %zu", r.out_len,
                size);
  ck_assert_msg(memcmp(r.out, data, size) == 0, "data changed on the way");
  free(data);
  h_res_free(&r);
}
END_TEST

/* A workload that never reads stdin: mocker must not die of SIGPIPE or
 * hang while the input keeps coming. */
START_TEST(test_stdin_unread)
{
  const size_t size = 4u << 20;
  char *data = malloc(size);
  struct h_res r;

  ck_assert_ptr_nonnull(data);
  memset(data, 'z', size);
  h_run(&r, &(struct h_opts){.stdin_data = data, .stdin_len = size},
        H_ARGV("run", "--rm", "-i", "busybox", "sh", "-c", "exit 7"));
  H_ASSERT_STATUS(&r, 7);
  free(data);
  h_res_free(&r);
}
END_TEST

START_TEST(test_stdout_stderr_separate)
{
  struct h_res r;

  H_RUN(&r, "run", "--rm", "busybox", "sh", "-c",
        "echo out1; echo err1 >&2; echo out2; echo err2 >&2");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "out1\nout2\n");
  ck_assert_msg(strcmp(r.err, "err1\nerr2\n") == 0, "stderr is \"%s\"", r.err);
  h_res_free(&r);

  H_RUN_IN(&r, "x\n", "run", "--rm", "-i", "busybox", "sh", "-c",
           "read l; echo \"out-$l\"; echo \"err-$l\" >&2");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "out-x\n");
  ck_assert_msg(strcmp(r.err, "err-x\n") == 0, "stderr is \"%s\"", r.err);
  h_res_free(&r);
}
END_TEST

/* CVE-2024-21626: a host fd must never reach the workload. The harness
 * hands mocker an inherited (non-CLOEXEC) fd on a host directory; the
 * workload lists its own fds (the one ls opens on /proc/N/fd aside). */
START_TEST(test_cve_2024_21626_no_leaked_fds)
{
  int fd = open("/tmp", O_RDONLY | O_DIRECTORY);
  struct h_res r;
  int leaked, seen = 0;

  ck_assert_int_ge(fd, 0);
  leaked = dup2(fd, 7);
  ck_assert_int_eq(leaked, 7);
  close(fd);
  H_RUN(&r, "run", "--rm", "busybox", "ls", "-l", "/proc/self/fd/");
  close(leaked);
  H_ASSERT_STATUS(&r, 0);
  for (char *line = r.out; line && *line;) {
    char *nl = strchr(line, '\n'), *arrow = strstr(line, " -> ");

    if (nl)
      *nl = '\0';
    if (arrow) {
      char *num = arrow;
      const char *target = arrow + 4;
      size_t tl = strlen(target);

      while (num > line && num[-1] != ' ')
        num--;
      seen++;
      if (!(strncmp(target, "/proc/", 6) == 0 && tl > 3 &&
            strcmp(target + tl - 3, "/fd") == 0))
        ck_assert_msg(atoi(num) <= 2, "fd leaked into the workload: %s", line);
    }
    line = nl ? nl + 1 : NULL;
  }
  ck_assert_msg(seen >= 3, "could not list the workload's fds:\n%s", r.out);
  h_res_free(&r);
}
END_TEST

/* ---- container state on the host ---------------------------------- */

START_TEST(test_writes_not_shared_image_pristine)
{
  struct h_res r;

  H_RUN(&r, "run", "--rm", "busybox", "sh", "-c",
        "echo x > /etc/marker && rm /bin/ls && echo y > /tmp/t && echo done");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "done\n");
  h_res_free(&r);
  H_RUN(&r, "run", "--rm", "busybox", "sh", "-c",
        "test -e /etc/marker && echo marker-visible; "
        "test -e /tmp/t && echo tmp-visible; test -e /bin/ls && echo ls-ok");
  H_ASSERT_STATUS(&r, 0);
  H_ASSERT_OUT_EQ(&r, "ls-ok\n");
  h_res_free(&r);
}
END_TEST

START_TEST(test_rm_removes_container_dir)
{
  char spec[8500], started[4300], go[4300], id[65];
  const char *argv[] = {"run",
                        "--rm",
                        "-v",
                        spec,
                        "busybox",
                        "sh",
                        "-c",
                        "touch /m/started; "
                        "while [ ! -e /m/go ]; do sleep 0.02; done",
                        NULL};
  char *mounts = NULL;
  pid_t pid;
  int status;

  h_fmt(spec, sizeof spec, "%s:/m", h.host);
  h_fmt(started, sizeof started, "%s/started", h.host);
  h_fmt(go, sizeof go, "%s/go", h.host);
  pid = h_spawn(argv, -1, -1);
  ck_assert_msg(h_poll(h_path_exists_pred, started, 10000),
                "the workload never started");
  /* While it runs: one container dir, and nothing in the host's mount
   * table: the overlay lives only in the container's mount namespace, so
   * it can never be left behind on the host. */
  only_container(id);
  ck_assert_msg(h_mounts_under(h.root, &mounts) == 0,
                "the host sees container mounts while it runs:\n%s", mounts);
  free(mounts);
  h_write_file(go, "");
  status = h_wait(pid, 10000);
  ck_assert_msg(status == 0, "`%s`: exit %d", h_last_cmd(), status);
  ck_assert_int_eq(h_containers(h.root, NULL, 0), 0);
}
END_TEST

START_TEST(test_no_rm_keeps_dir_unmounted)
{
  struct h_res r;
  char id[65], *mounts = NULL;
  int n;

  H_RUN(&r, "run", "busybox", "true");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  only_container(id);
  n = h_mounts_under(h.dir, &mounts);
  ck_assert_msg(n == 0, "a stopped container is still mounted:\n%s", mounts);
  free(mounts);
  rm_container(id);
  ck_assert_int_eq(h_containers(h.root, NULL, 0), 0);
}
END_TEST

START_TEST(test_name_unique)
{
  struct h_res r;

  H_RUN(&r, "run", "--name", "web-1", "busybox", "true");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  H_RUN(&r, "run", "--name", "web-1", "busybox", "true");
  H_ASSERT_STATUS(&r, 125);
  H_ASSERT_HAS(&r, err, "web-1");
  h_res_free(&r);
  ck_assert_int_eq(h_containers(h.root, NULL, 0), 1);
  rm_container("web-1");
  ck_assert_int_eq(h_containers(h.root, NULL, 0), 0);
  H_RUN(&r, "run", "--rm", "--name", "web-1", "busybox", "true");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);

  /* Docker's name rule. */
  H_RUN(&r, "run", "--rm", "--name", "bad name", "busybox", "true");
  H_ASSERT_STATUS(&r, 125);
  H_ASSERT_HAS(&r, err, "bad name");
  h_res_free(&r);
}
END_TEST

START_TEST(test_rm_running_needs_force)
{
  char spec[8500], started[4300];
  const char *argv[] = {"run", "--name", "long",
                        "-v",  spec,     "busybox",
                        "sh",  "-c",     "touch /m/started; exec sleep 3141",
                        NULL};
  struct h_res r;
  pid_t pid;
  int status;

  h_fmt(spec, sizeof spec, "%s:/m", h.host);
  h_fmt(started, sizeof started, "%s/started", h.host);
  pid = h_spawn(argv, -1, -1);
  ck_assert_msg(h_poll(h_path_exists_pred, started, 10000),
                "the workload never started");
  H_RUN(&r, "rm", "long");
  ck_assert_msg(r.status != 0, "rm of a running container succeeded");
  H_ASSERT_HAS(&r, err, "long");
  h_res_free(&r);
  ck_assert_msg(h_pid_alive(pid), "rm without -f stopped the container");
  H_RUN(&r, "rm", "-f", "long");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  status = h_wait(pid, 10000);
  ck_assert_msg(status != H_TIMED_OUT, "mocker run kept running after rm -f");
  ck_assert_int_eq(h_containers(h.root, NULL, 0), 0);
}
END_TEST

START_TEST(test_root_from_env)
{
  struct h_res r;
  char id[65];

  h_run(&r, &(struct h_opts){.no_root_flag = true},
        H_ARGV("run", "busybox", "true"));
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  only_container(id);
  rm_container(id);
}
END_TEST

/* The first runs on a fresh root import the image at the same time;
 * same-name runs racing: exactly one wins. */
START_TEST(test_concurrent_runs)
{
  enum { N = 4 };
  pid_t pids[N];
  int ok = 0, conflict = 0;

  for (int i = 0; i < N; i++)
    pids[i] = h_spawn(H_ARGV("run", "--rm", "busybox", "true"), -1, -1);
  for (int i = 0; i < N; i++) {
    int st = h_wait(pids[i], 20000);

    ck_assert_msg(st == 0, "concurrent first run %d: status %d", i, st);
  }
  for (int i = 0; i < N; i++)
    pids[i] =
        h_spawn(H_ARGV("run", "--name", "dup", "busybox", "true"), -1, -1);
  for (int i = 0; i < N; i++) {
    int st = h_wait(pids[i], 20000);

    ok += st == 0;
    conflict += st == 125;
  }
  ck_assert_msg(ok == 1 && conflict == N - 1,
                "same-name race: %d succeeded, %d refused", ok, conflict);
  ck_assert_int_eq(h_containers(h.root, NULL, 0), 1);
  rm_container("dup");
}
END_TEST

/* Two state roots never see each other's containers or names. */
START_TEST(test_roots_independent)
{
  const struct h_opts plain = {.no_root_flag = true, .no_root_env = true};
  char root2[4200], ids1[2][65], ids2[2][65];
  struct h_res r;

  h_fmt(root2, sizeof root2, "%s/root2", h.dir);
  H_RUN(&r, "run", "--name", "twin", "busybox", "true");
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  h_run(&r, &plain,
        H_ARGV("--root", root2, "run", "--name", "twin", "busybox", "true"));
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  ck_assert_int_eq(h_containers(h.root, ids1, 2), 1);
  ck_assert_int_eq(h_containers(root2, ids2, 2), 1);
  ck_assert_str_ne(ids1[0], ids2[0]);

  h_run(&r, &plain, H_ARGV("--root", root2, "rm", "twin"));
  H_ASSERT_STATUS(&r, 0);
  h_res_free(&r);
  ck_assert_int_eq(h_containers(root2, NULL, 0), 0);
  ck_assert_int_eq(h_containers(h.root, NULL, 0), 1);
  rm_container("twin");
  ck_assert_int_eq(h_containers(h.root, NULL, 0), 0);
}
END_TEST

static Suite *run_suite(void)
{
  Suite *s = suite_create("run");
  TCase *tc;

  tc = h_tcase("exit_codes", 30);
  tcase_add_test(tc, test_exit_true);
  tcase_add_test(tc, test_exit_code_passes_through);
  tcase_add_test(tc, test_exit_killed_by_signal);
  tcase_add_test(tc, test_exit_127_missing_path);
  tcase_add_test(tc, test_exit_127_not_in_path);
  tcase_add_test(tc, test_exit_126_not_executable);
  tcase_add_test(tc, test_exit_126_directory);
  tcase_add_test(tc, test_exit_125_unknown_image);
  tcase_add_test(tc, test_exit_125_bad_flag);
  tcase_add_test(tc, test_exit_125_unknown_verb);
  tcase_add_test(tc, test_help_and_version);
  suite_add_tcase(s, tc);

  tc = h_tcase("isolation", 30);
  tcase_add_test(tc, test_namespaces_distinct);
  tcase_add_test(tc, test_pid1_is_mocker_init);
  tcase_add_test(tc, test_rootfs_is_busybox);
  tcase_add_test(tc, test_mounts_inside);
  tcase_add_test(tc, test_devices);
  tcase_add_test(tc, test_network_only_lo_up);
  suite_add_tcase(s, tc);

  tc = h_tcase("options", 30);
  tcase_add_test(tc, test_env_and_env_file);
  tcase_add_test(tc, test_workdir_created);
  tcase_add_test(tc, test_user_by_name);
  tcase_add_test(tc, test_user_by_ids);
  tcase_add_test(tc, test_user_unknown);
  tcase_add_test(tc, test_hostname_option);
  tcase_add_test(tc, test_hosts_names_own_hostname);
  tcase_add_test(tc, test_default_hostname_is_short_id);
  tcase_add_test(tc, test_volume_rw);
  tcase_add_test(tc, test_volume_ro);
  tcase_add_test(tc, test_volume_target_stays_in_rootfs);
  tcase_add_test(tc, test_tmpfs);
  tcase_add_test(tc, test_read_only);
  tcase_add_test(tc, test_entrypoint);
  tcase_add_test(tc, test_image_default_cmd);
  suite_add_tcase(s, tc);

  tc = h_tcase("stdio", 30);
  tcase_add_test(tc, test_stdin_is_null_without_i);
  tcase_add_test(tc, test_stdin_with_i);
  tcase_add_test(tc, test_stdin_large);
  tcase_add_test(tc, test_stdin_unread);
  tcase_add_test(tc, test_stdout_stderr_separate);
  tcase_add_test(tc, test_cve_2024_21626_no_leaked_fds);
  suite_add_tcase(s, tc);

  tc = h_tcase("state", 30);
  tcase_add_test(tc, test_writes_not_shared_image_pristine);
  tcase_add_test(tc, test_rm_removes_container_dir);
  tcase_add_test(tc, test_no_rm_keeps_dir_unmounted);
  tcase_add_test(tc, test_name_unique);
  tcase_add_test(tc, test_rm_running_needs_force);
  tcase_add_test(tc, test_root_from_env);
  tcase_add_test(tc, test_roots_independent);
  tcase_add_test(tc, test_concurrent_runs);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  return h_main(run_suite());
}
