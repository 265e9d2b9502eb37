/* Helpers shared by the escape and CVE suites: the probe's volume spec,
 * assertions on its output, snapshots of host state that an escape would
 * change, and byte-exact file comparison. Header-only: each suite is one
 * translation unit (plus the integration harness). */
#ifndef MK_SEC_H
#define MK_SEC_H

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

/* `-v PROBE:/probe:ro`, from $MOCKER_PROBE (the Makefile sets it). */
static inline const char *sec_probe_path(void)
{
  const char *p = getenv("MOCKER_PROBE");

  ck_assert_msg(p && *p && access(p, X_OK) == 0,
                "MOCKER_PROBE is not set to the built probe (got \"%s\")",
                p ? p : "");
  return p;
}

static inline const char *sec_probe_vol(void)
{
  static char spec[4200];

  h_fmt(spec, sizeof spec, "%s:/probe:ro", sec_probe_path());
  return spec;
}

#define PV sec_probe_vol()

/* The probe's attempt failed: exit 1, "errno=" printed. */
#define SEC_ASSERT_REFUSED(r)                                                  \
  do {                                                                         \
    ck_assert_msg((r)->status == 1 && h_contains((r)->out, "errno="),          \
                  "`%s`: the attempt was not refused (exit %d)\n--- "          \
                  "stdout:\n%s\n--- stderr:\n%s",                              \
                  h_last_cmd(), (r)->status, (r)->out, (r)->err);              \
  } while (0)

#define SEC_ASSERT_ALLOWED(r)                                                  \
  do {                                                                         \
    ck_assert_msg((r)->status == 0 && h_contains((r)->out, "ok"),              \
                  "`%s`: the attempt failed (exit %d)\n--- stdout:\n%s\n--- "  \
                  "stderr:\n%s",                                               \
                  h_last_cmd(), (r)->status, (r)->out, (r)->err);              \
  } while (0)

/* Host state a container must never change: kernel sysctls that are
 * global (not namespaced) or belong to the host's namespaces. */
static const char *const sec_host_files[] = {
    "/proc/sys/kernel/hostname",      "/proc/sys/kernel/domainname",
    "/proc/sys/kernel/core_pattern",  "/proc/sys/kernel/ctrl-alt-del",
    "/proc/sys/kernel/modprobe",      "/proc/sys/kernel/panic",
    "/proc/sys/kernel/sysrq",         "/proc/sys/vm/overcommit_memory",
    "/proc/sys/net/ipv4/ip_forward",  "/proc/sys/fs/protected_symlinks",
};
#define SEC_NHOST (sizeof sec_host_files / sizeof sec_host_files[0])

struct sec_host {
  char *v[SEC_NHOST];
};

static inline void sec_host_snapshot(struct sec_host *s)
{
  for (size_t i = 0; i < SEC_NHOST; i++)
    s->v[i] = h_read_file(sec_host_files[i]);
}

/* Asserts every file reads as it did at the snapshot; frees it. */
static inline void sec_host_assert_same(struct sec_host *s)
{
  for (size_t i = 0; i < SEC_NHOST; i++) {
    char *now = h_read_file(sec_host_files[i]);
    bool same = (!now && !s->v[i]) || (now && s->v[i] && !strcmp(now, s->v[i]));

    ck_assert_msg(same, "the host's %s changed: \"%s\" -> \"%s\"",
                  sec_host_files[i], s->v[i] ? s->v[i] : "(none)",
                  now ? now : "(none)");
    free(now);
    free(s->v[i]);
    s->v[i] = NULL;
  }
}

/* A whole file's bytes, malloc'ed; NULL if it cannot be read. */
static inline char *sec_read_bytes(const char *path, size_t *len)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  char *buf;
  size_t off = 0;

  if (fd < 0 || fstat(fd, &st) < 0) {
    if (fd >= 0)
      close(fd);
    return NULL;
  }
  buf = malloc((size_t)st.st_size + 1);
  while (buf && off < (size_t)st.st_size) {
    ssize_t n = read(fd, buf + off, (size_t)st.st_size - off);

    if (n <= 0)
      break;
    off += (size_t)n;
  }
  close(fd);
  *len = off;
  return buf;
}

struct sec_file {
  const char *path;
  char *data;
  size_t len;
  struct stat st;
};

static inline void sec_file_snapshot(struct sec_file *f, const char *path)
{
  f->path = path;
  f->data = sec_read_bytes(path, &f->len);
  ck_assert_msg(f->data && stat(path, &f->st) == 0, "read %s: %s", path,
                strerror(errno));
}

/* Same bytes, mode, owner, inode. Frees the snapshot. */
static inline void sec_file_assert_same(struct sec_file *f)
{
  size_t len = 0;
  char *now = sec_read_bytes(f->path, &len);
  struct stat st;

  ck_assert_msg(now && stat(f->path, &st) == 0, "%s is gone", f->path);
  ck_assert_msg(len == f->len && memcmp(now, f->data, len) == 0,
                "the host's %s was modified (%zu bytes, was %zu)", f->path,
                len, f->len);
  ck_assert_msg(st.st_ino == f->st.st_ino && st.st_mode == f->st.st_mode &&
                    st.st_uid == f->st.st_uid,
                "the host's %s was replaced or chmod'ed", f->path);
  free(now);
  free(f->data);
  f->data = NULL;
}

/* Runs /bin/sh -c CMD on the host (test scaffolding only: building
 * archives with tar); returns its exit status. */
static inline int sec_sh(const char *cmd)
{
  pid_t pid = fork();

  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
    _exit(127);
  }
  return h_wait(pid, H_TIMEOUT_MS);
}

#endif
