/* Unit tests for shared/mk_proto: the supervisor <-> mocker-init wire
 * protocol. Config records are untrusted input for init, so every malformed
 * shape must be refused; packets travel over a real SOCK_SEQPACKET pair. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <check.h>

#include "unit_main.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "mk_proto.h"

/* Record tags as they appear on the wire (mk_proto.c). They are part of
 * the protocol contract, so the tests spell them out to forge records. */
enum {
  T_VERSION = 1,
  T_FLAGS,
  T_WINSIZE,
  T_ROOTFS,
  T_HOSTNAME,
  T_WORKDIR,
  T_USER,
  T_ARG,
  T_ENV,
  T_MOUNT,
  T_CAPS,
  T_SECCOMP,
  T_DEVICE,
  T_HOOK = 22, /* after TAG_CAP_SETS, TAG_TARGET_PID */
  T_HOOK_STATE = 23,
};

/* Decoding needs ~70 KiB of pointer storage; each test runs in its own
 * forked process, so one static instance is enough. */
static struct mk_config_storage storage;

/* ---- raw record builder, to forge what a buggy or hostile peer sends ---- */

struct raw {
  uint8_t *b;
  size_t len, cap;
};

static void raw_init(struct raw *r)
{
  r->cap = 2 * MK_MSG_MAX;
  r->len = 0;
  r->b = calloc(1, r->cap);
  ck_assert_ptr_nonnull(r->b);
}

static void raw_bytes(struct raw *r, const void *p, size_t n)
{
  ck_assert_uint_le(n, r->cap - r->len);
  memcpy(r->b + r->len, p, n);
  r->len += n;
}

static void raw_hdr(struct raw *r, uint32_t tag, uint32_t n)
{
  uint32_t hdr[2] = {tag, n};

  raw_bytes(r, hdr, sizeof(hdr));
}

static void raw_rec(struct raw *r, uint32_t tag, const void *p, uint32_t n)
{
  raw_hdr(r, tag, n);
  raw_bytes(r, p, n);
}

static void raw_u32(struct raw *r, uint32_t tag, uint32_t v)
{
  raw_rec(r, tag, &v, sizeof(v));
}

static void raw_str(struct raw *r, uint32_t tag, const char *s)
{
  raw_rec(r, tag, s, (uint32_t)strlen(s) + 1);
}

/* A mount record as the wire has it: kind, flags, propagation, then
 * source, target, data and fstype. */
static void raw_fs_mount(struct raw *r, uint32_t kind, uint32_t flags,
                         uint32_t prop, const char *src, const char *dst,
                         const char *data, const char *fstype)
{
  size_t s = strlen(src) + 1, d = strlen(dst) + 1, o = strlen(data) + 1;
  size_t f = strlen(fstype) + 1;

  raw_hdr(r, T_MOUNT, (uint32_t)(12 + s + d + o + f));
  raw_bytes(r, &kind, 4);
  raw_bytes(r, &flags, 4);
  raw_bytes(r, &prop, 4);
  raw_bytes(r, src, s);
  raw_bytes(r, dst, d);
  raw_bytes(r, data, o);
  raw_bytes(r, fstype, f);
}

static void raw_mount(struct raw *r, uint32_t kind, uint32_t flags,
                      const char *src, const char *dst, const char *data)
{
  raw_fs_mount(r, kind, flags, 0, src, dst, data, "");
}

/* Every required field except those named in `skip` (a string of tags). */
static void raw_required_except(struct raw *r, const char *skip)
{
  if (!strchr(skip, T_VERSION))
    raw_u32(r, T_VERSION, MK_PROTO_VERSION);
  if (!strchr(skip, T_ROOTFS))
    raw_str(r, T_ROOTFS, "/rootfs");
  if (!strchr(skip, T_HOSTNAME))
    raw_str(r, T_HOSTNAME, "host");
  if (!strchr(skip, T_WORKDIR))
    raw_str(r, T_WORKDIR, "");
  if (!strchr(skip, T_USER))
    raw_str(r, T_USER, "");
  if (!strchr(skip, T_ARG))
    raw_str(r, T_ARG, "/bin/true");
}

static void raw_minimal(struct raw *r)
{
  raw_required_except(r, "");
}

static int decode(const struct raw *r, struct mk_config *cfg, mk_error_t *err)
{
  memset(err, 0, sizeof(*err));
  return mk_config_decode(r->b, r->len, cfg, &storage, err);
}

/* Decoding must fail with errno `want` and a message. */
static void assert_decode_fails(const struct raw *r, int want)
{
  struct mk_config cfg;
  mk_error_t err;

  ck_assert_int_eq(decode(r, &cfg, &err), -1);
  ck_assert_int_eq(err.err, want);
  ck_assert_str_ne(err.msg, "");
}

/* ---- config encode/decode ---- */

static const char *full_argv[] = {"/bin/sh", "-c", "echo \"hi\" | cat", "",
                                  NULL};
static const char *full_env[] = {"PATH=/usr/bin:/bin", "EMPTY=", "UTF8=é",
                                 NULL};

static void make_full_config(struct mk_config *cfg, struct mk_mount *mounts)
{
  mounts[0] = (struct mk_mount){.kind = MK_MOUNT_BIND,
                                .flags = MK_MNT_RDONLY,
                                .source = "/home/user/data",
                                .target = "/data",
                                .data = ""};
  mounts[1] =
      (struct mk_mount){.kind = MK_MOUNT_TMPFS,
                        .flags = MK_MNT_NOSUID | MK_MNT_NODEV | MK_MNT_NOEXEC,
                        .source = "tmpfs",
                        .target = "/run/cache",
                        .data = "size=1m,mode=1777"};
  *cfg = (struct mk_config){
      .flags = MK_CFG_TTY | MK_CFG_STDIN | MK_CFG_READONLY,
      .rows = 43,
      .cols = 132,
      .rootfs = "/var/lib/mocker/containers/abc/merged",
      .hostname = "abc123def456",
      .workdir = "/srv/app",
      .user = "nobody:nogroup",
      .argc = 4,
      .argv = full_argv,
      .envc = 3,
      .env = full_env,
      .nmounts = 2,
      .mounts = mounts,
  };
}

START_TEST(test_config_round_trip_all_fields)
{
  struct mk_mount mounts[2];
  struct mk_config in, out;
  uint8_t *buf = malloc(MK_MSG_MAX);
  size_t len = 0;
  mk_error_t err = {0};

  make_full_config(&in, mounts);
  ck_assert_int_eq(mk_config_encode(&in, buf, MK_MSG_MAX, &len, &err), 0);
  ck_assert_uint_gt(len, 0);
  ck_assert_uint_le(len, MK_MSG_MAX);
  ck_assert_int_eq(mk_config_decode(buf, len, &out, &storage, &err), 0);

  ck_assert_uint_eq(out.flags, MK_CFG_TTY | MK_CFG_STDIN | MK_CFG_READONLY);
  ck_assert_uint_eq(out.rows, 43);
  ck_assert_uint_eq(out.cols, 132);
  ck_assert_str_eq(out.rootfs, in.rootfs);
  ck_assert_str_eq(out.hostname, in.hostname);
  ck_assert_str_eq(out.workdir, in.workdir);
  ck_assert_str_eq(out.user, in.user);

  ck_assert_uint_eq(out.argc, 4);
  for (size_t i = 0; i < 4; i++)
    ck_assert_str_eq(out.argv[i], full_argv[i]);
  ck_assert_ptr_null(out.argv[4]);

  ck_assert_uint_eq(out.envc, 3);
  for (size_t i = 0; i < 3; i++)
    ck_assert_str_eq(out.env[i], full_env[i]);
  ck_assert_ptr_null(out.env[3]);

  ck_assert_uint_eq(out.nmounts, 2);
  for (size_t i = 0; i < 2; i++) {
    ck_assert_uint_eq(out.mounts[i].kind, mounts[i].kind);
    ck_assert_uint_eq(out.mounts[i].flags, mounts[i].flags);
    ck_assert_str_eq(out.mounts[i].source, mounts[i].source);
    ck_assert_str_eq(out.mounts[i].target, mounts[i].target);
    ck_assert_str_eq(out.mounts[i].data, mounts[i].data);
  }
  free(buf);
}
END_TEST

START_TEST(test_config_round_trip_minimal)
{
  const char *argv[] = {"/bin/true", NULL};
  struct mk_config in = {.rootfs = "/r",
                         .hostname = "h",
                         .workdir = "",
                         .user = "",
                         .argc = 1,
                         .argv = argv};
  struct mk_config out;
  uint8_t buf[4096];
  size_t len = 0;
  mk_error_t err = {0};

  ck_assert_int_eq(mk_config_encode(&in, buf, sizeof(buf), &len, &err), 0);
  ck_assert_int_eq(mk_config_decode(buf, len, &out, &storage, &err), 0);
  ck_assert_uint_eq(out.flags, 0);
  ck_assert_uint_eq(out.rows, 0);
  ck_assert_uint_eq(out.cols, 0);
  ck_assert_str_eq(out.workdir, "");
  ck_assert_str_eq(out.user, "");
  ck_assert_uint_eq(out.argc, 1);
  ck_assert_str_eq(out.argv[0], "/bin/true");
  ck_assert_ptr_null(out.argv[1]);
  ck_assert_uint_eq(out.envc, 0);
  ck_assert_ptr_null(out.env[0]);
  ck_assert_uint_eq(out.nmounts, 0);
}
END_TEST

/* An OCI process's capability sets cross intact; sets the kernel could
 * not apply, and an in-place exec outside exec, are refused. */
START_TEST(test_config_cap_sets_and_inplace)
{
  const char *argv[] = {"/bin/true", NULL};
  struct mk_config in = {.flags = MK_CFG_CAP_SETS | MK_CFG_EXEC |
                                  MK_CFG_EXEC_INPLACE,
                         .rootfs = "/",
                         .hostname = "",
                         .workdir = "",
                         .user = "1000",
                         .argc = 1,
                         .argv = argv,
                         .cap_sets = {0x400, 0x401, 0x500, 0x400}};
  struct mk_config out;
  uint8_t buf[4096];
  size_t len = 0;
  mk_error_t err = {0};

  ck_assert_int_eq(mk_config_encode(&in, buf, sizeof(buf), &len, &err), 0);
  ck_assert_int_eq(mk_config_decode(buf, len, &out, &storage, &err), 0);
  for (int i = 0; i < MK_NCAPSETS; i++)
    ck_assert_uint_eq(out.cap_sets[i], in.cap_sets[i]);
  ck_assert_uint_eq(out.target_pid, 0);
  in.target_pid = 42;
  ck_assert_int_eq(mk_config_encode(&in, buf, sizeof(buf), &len, &err), 0);
  ck_assert_int_eq(mk_config_decode(buf, len, &out, &storage, &err), 0);
  ck_assert_uint_eq(out.target_pid, 42);
  in.target_pid = 5000000; /* beyond pid_max's limit */
  ck_assert_int_eq(mk_config_encode(&in, buf, sizeof(buf), &len, &err), 0);
  ck_assert_int_eq(mk_config_decode(buf, len, &out, &storage, &err), -1);
  in.target_pid = 0;
  in.cap_sets[MK_CAPSET_EFFECTIVE] = 0x800; /* not permitted */
  ck_assert_int_eq(mk_config_encode(&in, buf, sizeof(buf), &len, &err), 0);
  ck_assert_int_eq(mk_config_decode(buf, len, &out, &storage, &err), -1);
  in.cap_sets[MK_CAPSET_EFFECTIVE] = 0x400;
  in.cap_sets[MK_CAPSET_AMBIENT] = 0x1; /* permitted, not inheritable */
  ck_assert_int_eq(mk_config_encode(&in, buf, sizeof(buf), &len, &err), 0);
  ck_assert_int_eq(mk_config_decode(buf, len, &out, &storage, &err), -1);
  in.cap_sets[MK_CAPSET_AMBIENT] = 0;
  in.flags = MK_CFG_EXEC_INPLACE;
  ck_assert_int_eq(mk_config_encode(&in, buf, sizeof(buf), &len, &err), 0);
  ck_assert_int_eq(mk_config_decode(buf, len, &out, &storage, &err), -1);
  ck_assert_str_eq(err.msg, "config: in-place exec outside exec");
}
END_TEST

/* A mount with data == NULL means "no options" and arrives as "". */
START_TEST(test_config_mount_null_data)
{
  const char *argv[] = {"/bin/true", NULL};
  struct mk_mount m = {.kind = MK_MOUNT_TMPFS,
                       .source = "tmpfs",
                       .target = "/tmp",
                       .data = NULL};
  struct mk_config in = {.rootfs = "/r",
                         .hostname = "h",
                         .workdir = "",
                         .user = "",
                         .argc = 1,
                         .argv = argv,
                         .nmounts = 1,
                         .mounts = &m};
  struct mk_config out;
  uint8_t buf[4096];
  size_t len = 0;
  mk_error_t err = {0};

  ck_assert_int_eq(mk_config_encode(&in, buf, sizeof(buf), &len, &err), 0);
  ck_assert_int_eq(mk_config_decode(buf, len, &out, &storage, &err), 0);
  ck_assert_uint_eq(out.nmounts, 1);
  ck_assert_str_eq(out.mounts[0].data, "");
  ck_assert_str_eq(out.mounts[0].target, "/tmp");
}
END_TEST

/* The buffer size is a hard limit: exactly enough works, one byte less
 * fails cleanly instead of writing past it. */
START_TEST(test_config_encode_exact_capacity)
{
  struct mk_mount mounts[2];
  struct mk_config in;
  uint8_t *buf = malloc(MK_MSG_MAX), *small;
  size_t len = 0, len2 = 0;
  mk_error_t err = {0};

  make_full_config(&in, mounts);
  ck_assert_int_eq(mk_config_encode(&in, buf, MK_MSG_MAX, &len, &err), 0);
  /* Guard bytes after the allowed capacity must stay untouched. */
  small = malloc(len + 16);
  memset(small, 0xA5, len + 16);
  ck_assert_int_eq(mk_config_encode(&in, small, len, &len2, &err), 0);
  ck_assert_uint_eq(len2, len);
  ck_assert_mem_eq(small, buf, len);

  memset(small, 0xA5, len + 16);
  ck_assert_int_eq(mk_config_encode(&in, small, len - 1, &len2, &err), -1);
  ck_assert_int_eq(err.err, E2BIG);
  for (size_t i = len - 1; i < len + 16; i++)
    ck_assert_uint_eq(small[i], 0xA5);
  free(small);
  free(buf);
}
END_TEST

START_TEST(test_config_encode_too_many_args)
{
  const char **argv = calloc(MK_MAX_ARGS + 2, sizeof(*argv));
  struct mk_config in = {
      .rootfs = "/r", .hostname = "h", .workdir = "", .user = ""};
  uint8_t *buf = malloc(MK_MSG_MAX);
  size_t len = 0;
  mk_error_t err = {0};

  for (size_t i = 0; i < MK_MAX_ARGS + 1; i++)
    argv[i] = "x";
  in.argc = MK_MAX_ARGS + 1;
  in.argv = argv;
  ck_assert_int_eq(mk_config_encode(&in, buf, MK_MSG_MAX, &len, &err), -1);
  ck_assert_int_eq(err.err, E2BIG);

  /* MK_MAX_ARGS itself is allowed and survives the round trip. */
  in.argc = MK_MAX_ARGS;
  argv[MK_MAX_ARGS] = NULL;
  ck_assert_int_eq(mk_config_encode(&in, buf, MK_MSG_MAX, &len, &err), 0);
  struct mk_config out;
  ck_assert_int_eq(mk_config_decode(buf, len, &out, &storage, &err), 0);
  ck_assert_uint_eq(out.argc, MK_MAX_ARGS);
  ck_assert_ptr_null(out.argv[MK_MAX_ARGS]);
  free(buf);
  free(argv);
}
END_TEST

/* One string bigger than a whole message can never be sent. */
START_TEST(test_config_encode_oversized_string)
{
  const char *argv[] = {"/bin/true", NULL};
  char *big = malloc(MK_MSG_MAX + 2);
  const char *env[] = {big, NULL};
  struct mk_config in = {.rootfs = "/r",
                         .hostname = "h",
                         .workdir = "",
                         .user = "",
                         .argc = 1,
                         .argv = argv,
                         .envc = 1,
                         .env = env};
  uint8_t *buf = malloc(4 * MK_MSG_MAX);
  size_t len = 0;
  mk_error_t err = {0};

  memset(big, 'A', MK_MSG_MAX + 1);
  big[0] = 'K';
  big[1] = '=';
  big[MK_MSG_MAX + 1] = '\0';
  ck_assert_int_eq(mk_config_encode(&in, buf, MK_MSG_MAX, &len, &err), -1);
  ck_assert_int_eq(err.err, E2BIG);
  ck_assert_str_ne(err.msg, "");
  /* Even when the caller's buffer would hold it. */
  ck_assert_int_eq(mk_config_encode(&in, buf, 4 * MK_MSG_MAX, &len, &err), -1);
  ck_assert_int_eq(err.err, E2BIG);
  free(buf);
  free(big);
}
END_TEST

/* Many entries that are each small but together exceed MK_MSG_MAX: a
 * config that could never be sent is refused with E2BIG. */
START_TEST(test_config_encode_oversized_total)
{
  const char *argv[] = {"/bin/true", NULL};
  enum { N = 200, VLEN = 1000 };
  const char **env = calloc(N + 1, sizeof(*env));
  char *storage_env = malloc((size_t)N * (VLEN + 1));
  struct mk_config in = {.rootfs = "/r",
                         .hostname = "h",
                         .workdir = "",
                         .user = "",
                         .argc = 1,
                         .argv = argv,
                         .envc = N,
                         .env = env};
  uint8_t *buf = malloc(MK_MSG_MAX);
  size_t len = 0;
  mk_error_t err = {0};

  for (size_t i = 0; i < N; i++) {
    char *s = storage_env + i * (VLEN + 1);
    memset(s, 'v', VLEN);
    s[0] = 'K';
    s[1] = '=';
    s[VLEN] = '\0';
    env[i] = s;
  }
  /* The supervisor encodes into a buffer of MK_MSG_MAX bytes. */
  ck_assert_int_eq(mk_config_encode(&in, buf, MK_MSG_MAX, &len, &err), -1);
  ck_assert_int_eq(err.err, E2BIG);
  ck_assert_str_ne(err.msg, "");
  free(buf);
  free(storage_env);
  free(env);
}
END_TEST

/* Sanity check for the forged inputs below: the minimal raw config is
 * accepted, so each negative test fails for the reason it names. */
START_TEST(test_decode_raw_minimal_accepted)
{
  struct raw r;
  struct mk_config cfg;
  mk_error_t err;

  raw_init(&r);
  raw_minimal(&r);
  ck_assert_int_eq(decode(&r, &cfg, &err), 0);
  ck_assert_str_eq(cfg.rootfs, "/rootfs");
  ck_assert_str_eq(cfg.hostname, "host");
  ck_assert_uint_eq(cfg.argc, 1);
  ck_assert_str_eq(cfg.argv[0], "/bin/true");
  free(r.b);
}
END_TEST

START_TEST(test_decode_empty_buffer)
{
  struct mk_config cfg;
  mk_error_t err = {0};
  uint8_t dummy = 0;

  ck_assert_int_eq(mk_config_decode(&dummy, 0, &cfg, &storage, &err), -1);
  ck_assert_int_ne(err.err, 0);
}
END_TEST

START_TEST(test_decode_truncated_record_header)
{
  struct raw r;

  raw_init(&r);
  raw_minimal(&r);
  /* 1..7 stray bytes: not even a full record header. */
  for (size_t extra = 1; extra < 8; extra++) {
    struct raw t = r;
    uint8_t junk[7] = {T_ENV, 0, 0, 0, 1, 0, 0};
    t.b = malloc(r.len + extra);
    memcpy(t.b, r.b, r.len);
    memcpy(t.b + r.len, junk, extra);
    t.len = r.len + extra;
    assert_decode_fails(&t, EBADMSG);
    free(t.b);
  }
  free(r.b);
}
END_TEST

START_TEST(test_decode_record_overruns_buffer)
{
  struct raw r;

  raw_init(&r);
  raw_minimal(&r);
  raw_hdr(&r, T_ENV, 100);
  raw_bytes(&r, "A=b", 4); /* 4 bytes where 100 were announced */
  assert_decode_fails(&r, EBADMSG);
  free(r.b);
}
END_TEST

/* A huge length must not wrap the bounds check. */
START_TEST(test_decode_record_length_max_u32)
{
  struct raw r;

  raw_init(&r);
  raw_minimal(&r);
  raw_hdr(&r, T_ENV, UINT32_MAX);
  raw_bytes(&r, "A=b", 4);
  assert_decode_fails(&r, EBADMSG);
  free(r.b);
}
END_TEST

START_TEST(test_decode_string_without_nul)
{
  struct raw r;

  raw_init(&r);
  raw_required_except(&r, (char[]){T_HOSTNAME, 0});
  raw_rec(&r, T_HOSTNAME, "host", 4); /* no terminating NUL */
  assert_decode_fails(&r, EBADMSG);
  free(r.b);
}
END_TEST

START_TEST(test_decode_string_with_interior_nul)
{
  struct raw r;

  raw_init(&r);
  raw_minimal(&r);
  raw_rec(&r, T_ENV, "A=b\0LD_PRELOAD=/x.so", 21);
  assert_decode_fails(&r, EBADMSG);
  free(r.b);
}
END_TEST

START_TEST(test_decode_empty_string_record)
{
  struct raw r;

  raw_init(&r);
  raw_minimal(&r);
  raw_rec(&r, T_ARG, "", 0); /* zero bytes: not even the NUL */
  assert_decode_fails(&r, EBADMSG);
  free(r.b);
}
END_TEST

START_TEST(test_decode_unknown_tag)
{
  static const uint32_t tags[] = {0, T_MOUNT + 1, 0x7fffffff, UINT32_MAX};

  for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
    struct raw r;
    raw_init(&r);
    raw_minimal(&r);
    raw_u32(&r, tags[i], 0);
    assert_decode_fails(&r, EBADMSG);
    free(r.b);
  }
}
END_TEST

START_TEST(test_decode_bad_fixed_width_records)
{
  struct raw r;
  uint8_t three[3] = {1, 0, 0};

  raw_init(&r);
  raw_minimal(&r);
  raw_rec(&r, T_FLAGS, three, 3);
  assert_decode_fails(&r, EBADMSG);
  free(r.b);

  raw_init(&r);
  raw_minimal(&r);
  raw_rec(&r, T_WINSIZE, three, 3);
  assert_decode_fails(&r, EBADMSG);
  free(r.b);
}
END_TEST

START_TEST(test_decode_wrong_version)
{
  struct raw r;

  raw_init(&r);
  raw_required_except(&r, (char[]){T_VERSION, 0});
  raw_u32(&r, T_VERSION, MK_PROTO_VERSION + 1);
  assert_decode_fails(&r, EPROTO);
  free(r.b);
}
END_TEST

START_TEST(test_decode_missing_version)
{
  struct raw r;

  raw_init(&r);
  raw_required_except(&r, (char[]){T_VERSION, 0});
  assert_decode_fails(&r, EPROTO);
  free(r.b);
}
END_TEST

/* Each required field, left out alone, makes the config invalid. */
START_TEST(test_decode_missing_required_field)
{
  static const char missing[] = {T_ROOTFS, T_HOSTNAME, T_WORKDIR, T_USER,
                                 T_ARG};
  int i = _i;
  struct raw r;
  char skip[2] = {missing[i], 0};

  raw_init(&r);
  raw_required_except(&r, skip);
  assert_decode_fails(&r, EBADMSG);
  free(r.b);
}
END_TEST

START_TEST(test_decode_relative_rootfs)
{
  struct raw r;

  raw_init(&r);
  raw_required_except(&r, (char[]){T_ROOTFS, 0});
  raw_str(&r, T_ROOTFS, "rootfs");
  assert_decode_fails(&r, EBADMSG);
  free(r.b);
}
END_TEST

START_TEST(test_decode_too_many_args)
{
  struct raw r;

  raw_init(&r);
  raw_required_except(&r, (char[]){T_ARG, 0});
  for (size_t i = 0; i < MK_MAX_ARGS + 1; i++)
    raw_str(&r, T_ARG, "x");
  assert_decode_fails(&r, EBADMSG);
  free(r.b);
}
END_TEST

START_TEST(test_decode_too_many_env)
{
  struct raw r;

  raw_init(&r);
  raw_minimal(&r);
  for (size_t i = 0; i < MK_MAX_ENV + 1; i++)
    raw_str(&r, T_ENV, "A=1");
  assert_decode_fails(&r, EBADMSG);
  free(r.b);
}
END_TEST

START_TEST(test_decode_too_many_mounts)
{
  struct raw r;

  raw_init(&r);
  raw_minimal(&r);
  for (size_t i = 0; i < MK_MAX_MOUNTS + 1; i++)
    raw_mount(&r, MK_MOUNT_TMPFS, 0, "tmpfs", "/t", "");
  assert_decode_fails(&r, EBADMSG);
  free(r.b);
}
END_TEST

START_TEST(test_decode_mount_relative_target)
{
  struct raw r;

  raw_init(&r);
  raw_minimal(&r);
  raw_mount(&r, MK_MOUNT_BIND, 0, "/host", "data", "");
  assert_decode_fails(&r, EBADMSG);
  free(r.b);
}
END_TEST

START_TEST(test_decode_mount_empty_target)
{
  struct raw r;

  raw_init(&r);
  raw_minimal(&r);
  raw_mount(&r, MK_MOUNT_BIND, 0, "/host", "", "");
  assert_decode_fails(&r, EBADMSG);
  free(r.b);
}
END_TEST

/* A bundle's filesystem mount crosses whole; a type init does not make,
 * a type on a bind, flags beyond mount(2)'s or two propagations are
 * refused. */
START_TEST(test_decode_bundle_fs_mounts)
{
  static const struct {
    uint32_t kind, flags, prop;
    const char *fstype;
    int ok;
  } cases[] = {
      {MK_MOUNT_FS, MK_MNT_NOSUID | MK_MNT_STRICTATIME, 0, "devpts", 1},
      {MK_MOUNT_FS, MK_MNT_RDONLY, MK_PROP_SHARED | MK_PROP_REC, "sysfs", 1},
      {MK_MOUNT_BIND, MK_MNT_REC | MK_MNT_NOATIME, MK_PROP_SLAVE, "", 1},
      {MK_MOUNT_FS, 0, 0, "ext4", 0},
      {MK_MOUNT_FS, 0, 0, "", 0},
      {MK_MOUNT_BIND, 0, 0, "proc", 0},
      {MK_MOUNT_FS, 1u << 30, 0, "proc", 0},
      {MK_MOUNT_FS, 0, MK_PROP_SHARED | MK_PROP_SLAVE, "proc", 0},
      {MK_MOUNT_FS, 0, MK_PROP_REC, "proc", 0},
  };
  struct mk_config cfg;
  mk_error_t err;
  struct raw r;

  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    raw_init(&r);
    raw_minimal(&r);
    raw_fs_mount(&r, cases[i].kind, cases[i].flags, cases[i].prop, "src",
                 "/t", "mode=755", cases[i].fstype);
    int rc = decode(&r, &cfg, &err);
    ck_assert_msg((rc == 0) == cases[i].ok, "case %zu: %d", i, rc);
    if (rc == 0) {
      ck_assert_str_eq(cfg.mounts[0].fstype, cases[i].fstype);
      ck_assert_uint_eq(cfg.mounts[0].flags, cases[i].flags);
      ck_assert_uint_eq(cfg.mounts[0].propagation, cases[i].prop);
      ck_assert_str_eq(cfg.mounts[0].data, "mode=755");
    }
    free(r.b);
  }
}
END_TEST

START_TEST(test_decode_mount_unknown_kind)
{
  struct raw r;

  raw_init(&r);
  raw_minimal(&r);
  raw_mount(&r, 99, 0, "/host", "/data", "");
  assert_decode_fails(&r, EBADMSG);
  free(r.b);
}
END_TEST

START_TEST(test_decode_mount_malformed_strings)
{
  struct raw r;
  uint8_t rec[64] = {0};
  uint32_t kind = MK_MOUNT_BIND;

  /* kind, flags 0, propagation 0 */
  memcpy(rec, &kind, 4);
  /* Only three strings. */
  memcpy(rec + 12, "/a\0/b\0", 6);
  raw_init(&r);
  raw_minimal(&r);
  raw_rec(&r, T_MOUNT, rec, 18);
  assert_decode_fails(&r, EBADMSG);
  free(r.b);

  /* Four strings plus trailing garbage. */
  memcpy(rec + 12, "/a\0/b\0\0\0X", 9);
  raw_init(&r);
  raw_minimal(&r);
  raw_rec(&r, T_MOUNT, rec, 21);
  assert_decode_fails(&r, EBADMSG);
  free(r.b);

  /* Last string not terminated. */
  memcpy(rec + 12, "/a\0/b\0\0ro", 9);
  raw_init(&r);
  raw_minimal(&r);
  raw_rec(&r, T_MOUNT, rec, 21);
  assert_decode_fails(&r, EBADMSG);
  free(r.b);

  /* Shorter than kind + flags + propagation. */
  raw_init(&r);
  raw_minimal(&r);
  raw_rec(&r, T_MOUNT, rec, 10);
  assert_decode_fails(&r, EBADMSG);
  free(r.b);
}
END_TEST

/* ---- packets over a real SOCK_SEQPACKET socketpair ---- */

static void make_pair(int sv[2])
{
  ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv),
                   0);
}

static void close_pair(int sv[2])
{
  close(sv[0]);
  close(sv[1]);
}

static int count_open_fds(void)
{
  DIR *d = opendir("/proc/self/fd");
  int n = 0;

  ck_assert_ptr_nonnull(d);
  while (readdir(d))
    n++;
  closedir(d);
  return n;
}

START_TEST(test_msg_payload_round_trip)
{
  int sv[2], fd = 99;
  struct mk_msg_started st = {.pid = 7}, got;
  uint32_t type = 99;
  mk_error_t err = {0};

  make_pair(sv);
  ck_assert_int_eq(
      mk_msg_send(sv[0], MK_MSG_STARTED, &st, sizeof(st), -1, &err), 0);
  ck_assert_int_eq(mk_msg_recv(sv[1], &type, &got, sizeof(got), &fd, &err),
                   (int)sizeof(got));
  ck_assert_uint_eq(type, MK_MSG_STARTED);
  ck_assert_int_eq(fd, -1);
  ck_assert_int_eq(got.pid, 7);
  close_pair(sv);
}
END_TEST

/* Packets keep their boundaries and their order. */
START_TEST(test_msg_sequence_and_empty_payload)
{
  int sv[2], fd;
  char buf[64];
  uint32_t type;
  mk_error_t err = {0};

  make_pair(sv);
  ck_assert_int_eq(mk_msg_send(sv[0], MK_MSG_PTY_MASTER, NULL, 0, -1, &err), 0);
  ck_assert_int_eq(mk_msg_send(sv[0], MK_MSG_CONFIG, "abc", 3, -1, &err), 0);
  ck_assert_int_eq(mk_msg_recv(sv[1], &type, buf, sizeof(buf), &fd, &err), 0);
  ck_assert_uint_eq(type, MK_MSG_PTY_MASTER); /* not EOF: type is set */
  ck_assert_int_eq(mk_msg_recv(sv[1], &type, buf, sizeof(buf), &fd, &err), 3);
  ck_assert_uint_eq(type, MK_MSG_CONFIG);
  ck_assert_mem_eq(buf, "abc", 3);
  close_pair(sv);
}
END_TEST

START_TEST(test_msg_max_payload)
{
  int sv[2], fd;
  uint8_t *out = malloc(MK_MSG_MAX), *in = malloc(MK_MSG_MAX);
  uint32_t type;
  mk_error_t err = {0};

  for (size_t i = 0; i < MK_MSG_MAX; i++)
    out[i] = (uint8_t)(i * 31 + 7);
  make_pair(sv);
  ck_assert_msg(mk_msg_send(sv[0], MK_MSG_CONFIG, out, MK_MSG_MAX, -1, &err) ==
                    0,
                "send of MK_MSG_MAX bytes: %s", err.msg);
  ck_assert_int_eq(mk_msg_recv(sv[1], &type, in, MK_MSG_MAX, &fd, &err),
                   MK_MSG_MAX);
  ck_assert_uint_eq(type, MK_MSG_CONFIG);
  ck_assert_mem_eq(in, out, MK_MSG_MAX);
  close_pair(sv);
  free(in);
  free(out);
}
END_TEST

START_TEST(test_msg_send_too_large)
{
  int sv[2];
  uint8_t *out = calloc(1, MK_MSG_MAX + 1);
  mk_error_t err = {0};

  make_pair(sv);
  ck_assert_int_eq(
      mk_msg_send(sv[0], MK_MSG_CONFIG, out, MK_MSG_MAX + 1, -1, &err), -1);
  ck_assert_int_eq(err.err, EMSGSIZE);
  close_pair(sv);
  free(out);
}
END_TEST

START_TEST(test_msg_fd_passing)
{
  int sv[2], fd = -1, flags;
  char path[] = "/tmp/mk-proto-XXXXXX";
  int file = mkstemp(path);
  struct stat a, b;
  uint32_t type;
  char buf[16];
  mk_error_t err = {0};

  ck_assert_int_ge(file, 0);
  unlink(path);
  make_pair(sv);
  ck_assert_int_eq(mk_msg_send(sv[0], MK_MSG_PTY_MASTER, "x", 1, file, &err),
                   0);
  ck_assert_int_eq(mk_msg_recv(sv[1], &type, buf, sizeof(buf), &fd, &err), 1);
  ck_assert_uint_eq(type, MK_MSG_PTY_MASTER);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_ne(fd, file);
  flags = fcntl(fd, F_GETFD);
  ck_assert_int_ge(flags, 0);
  ck_assert_msg(flags & FD_CLOEXEC, "received fd is not close-on-exec");
  ck_assert_int_eq(fstat(file, &a), 0);
  ck_assert_int_eq(fstat(fd, &b), 0);
  ck_assert_uint_eq(a.st_dev, b.st_dev);
  ck_assert_uint_eq(a.st_ino, b.st_ino);
  close(fd);
  close(file);
  close_pair(sv);
}
END_TEST

START_TEST(test_msg_eof)
{
  int sv[2], fd = 42;
  uint32_t type = 42;
  char buf[16];
  mk_error_t err = {0};

  make_pair(sv);
  close(sv[0]);
  ck_assert_int_eq(mk_msg_recv(sv[1], &type, buf, sizeof(buf), &fd, &err), 0);
  ck_assert_uint_eq(type, 0);
  ck_assert_int_eq(fd, -1);
  close(sv[1]);
}
END_TEST

/* Sends bytes as they are, bypassing mk_msg_send's framing. */
static void send_raw(int sock, const void *p, size_t n, int fd)
{
  struct iovec iov = {(void *)p, n};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } ctl;
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};

  if (fd >= 0) {
    memset(&ctl, 0, sizeof(ctl));
    msg.msg_control = ctl.buf;
    msg.msg_controllen = sizeof(ctl.buf);
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
  }
  ck_assert_int_eq(sendmsg(sock, &msg, MSG_NOSIGNAL), (ssize_t)n);
}

static void assert_recv_fails(int sock, size_t cap)
{
  char *buf = malloc(cap ? cap : 1);
  uint32_t type = 77;
  int fd = 77;
  mk_error_t err = {0};

  ck_assert_int_eq(mk_msg_recv(sock, &type, buf, cap, &fd, &err), -1);
  ck_assert_int_eq(err.err, EBADMSG);
  ck_assert_str_ne(err.msg, "");
  ck_assert_int_eq(fd, -1);
  free(buf);
}

START_TEST(test_msg_recv_short_packet)
{
  int sv[2];

  make_pair(sv);
  send_raw(sv[0], "\x03\x00\x00", 3, -1);
  assert_recv_fails(sv[1], 64);
  close_pair(sv);
}
END_TEST

START_TEST(test_msg_recv_len_disagrees)
{
  int sv[2];
  uint8_t pkt[12];
  struct mk_msg_hdr h = {.type = MK_MSG_STARTED, .len = 100};

  make_pair(sv);
  /* Header claims more than was sent... */
  memcpy(pkt, &h, sizeof(h));
  memset(pkt + sizeof(h), 0, 4);
  send_raw(sv[0], pkt, sizeof(pkt), -1);
  assert_recv_fails(sv[1], 256);
  /* ...or less. */
  h.len = 2;
  memcpy(pkt, &h, sizeof(h));
  send_raw(sv[0], pkt, sizeof(pkt), -1);
  assert_recv_fails(sv[1], 256);
  close_pair(sv);
}
END_TEST

START_TEST(test_msg_recv_type_zero)
{
  int sv[2];
  struct mk_msg_hdr h = {.type = 0, .len = 0};

  make_pair(sv);
  send_raw(sv[0], &h, sizeof(h), -1);
  assert_recv_fails(sv[1], 64);
  close_pair(sv);
}
END_TEST

/* A packet larger than the buffer is an error, not a silently truncated
 * message; and the next packet still arrives whole. */
START_TEST(test_msg_recv_bigger_than_buffer)
{
  int sv[2], fd;
  char payload[100], buf[100];
  uint32_t type;
  mk_error_t err = {0};

  memset(payload, 'p', sizeof(payload));
  make_pair(sv);
  ck_assert_int_eq(
      mk_msg_send(sv[0], MK_MSG_CONFIG, payload, sizeof(payload), -1, &err), 0);
  ck_assert_int_eq(mk_msg_send(sv[0], MK_MSG_STARTED, "ok", 3, -1, &err), 0);
  assert_recv_fails(sv[1], 10);
  ck_assert_int_eq(mk_msg_recv(sv[1], &type, buf, sizeof(buf), &fd, &err), 3);
  ck_assert_uint_eq(type, MK_MSG_STARTED);
  ck_assert_str_eq(buf, "ok");
  close_pair(sv);
}
END_TEST

/* An fd that rides along with a rejected packet is closed, not leaked. */
START_TEST(test_msg_recv_malformed_with_fd_no_leak)
{
  int sv[2], before, file;
  struct mk_msg_hdr h = {.type = MK_MSG_PTY_MASTER, .len = 50};

  make_pair(sv);
  file = open("/dev/null", O_RDONLY | O_CLOEXEC);
  ck_assert_int_ge(file, 0);
  send_raw(sv[0], &h, sizeof(h), file);
  before = count_open_fds();
  assert_recv_fails(sv[1], 64);
  ck_assert_int_eq(count_open_fds(), before);
  close(file);
  close_pair(sv);
}
END_TEST

/* ---- error messages (init -> supervisor) ---- */

START_TEST(test_msg_error_round_trip)
{
  int sv[2], fd;
  char buf[sizeof(struct mk_msg_error) + MK_ERROR_MSG_MAX];
  mk_error_t e = {.err = ENOENT}, got, err = {0};
  uint32_t type, kind = 0;
  int n;

  snprintf(e.msg, sizeof(e.msg), "exec `nope`: %s", strerror(ENOENT));
  make_pair(sv);
  mk_msg_send_error(sv[0], MK_FAIL_EXEC, &e);
  n = mk_msg_recv(sv[1], &type, buf, sizeof(buf), &fd, &err);
  ck_assert_int_gt(n, 0);
  ck_assert_uint_eq(type, MK_MSG_ERROR);
  memset(&got, 0x55, sizeof(got));
  ck_assert_int_eq(mk_msg_decode_error(buf, (size_t)n, &kind, &got, &err), 0);
  ck_assert_uint_eq(kind, MK_FAIL_EXEC);
  ck_assert_int_eq(got.err, ENOENT);
  ck_assert_str_eq(got.msg, e.msg);
  close_pair(sv);
}
END_TEST

/* The longest possible message (MK_ERROR_MSG_MAX - 1 chars) arrives
 * intact and terminated. */
START_TEST(test_msg_error_longest_message)
{
  int sv[2], fd;
  char buf[sizeof(struct mk_msg_error) + MK_ERROR_MSG_MAX];
  mk_error_t e = {.err = EPERM}, got, err = {0};
  uint32_t type, kind = 0;
  int n;

  memset(e.msg, 'm', sizeof(e.msg) - 1);
  e.msg[sizeof(e.msg) - 1] = '\0';
  make_pair(sv);
  mk_msg_send_error(sv[0], MK_FAIL_SETUP, &e);
  n = mk_msg_recv(sv[1], &type, buf, sizeof(buf), &fd, &err);
  ck_assert_int_eq(n, (int)(sizeof(struct mk_msg_error) + MK_ERROR_MSG_MAX));
  ck_assert_int_eq(mk_msg_decode_error(buf, (size_t)n, &kind, &got, &err), 0);
  ck_assert_uint_eq(kind, MK_FAIL_SETUP);
  ck_assert_int_eq(got.err, EPERM);
  ck_assert_uint_eq(strlen(got.msg), MK_ERROR_MSG_MAX - 1);
  ck_assert_str_eq(got.msg, e.msg);
  close_pair(sv);
}
END_TEST

static void assert_decode_error_fails(const void *buf, size_t len)
{
  mk_error_t got, err = {0};
  uint32_t kind = 0;

  ck_assert_int_eq(mk_msg_decode_error(buf, len, &kind, &got, &err), -1);
  ck_assert_int_eq(err.err, EBADMSG);
}

START_TEST(test_msg_decode_error_malformed)
{
  struct mk_msg_error head = {.errnum = EIO, .kind = MK_FAIL_SETUP};
  size_t big = sizeof(head) + MK_ERROR_MSG_MAX + 1;
  uint8_t *buf = calloc(1, big);

  memcpy(buf, &head, sizeof(head));
  /* Empty, shorter than the head, head without any text. */
  assert_decode_error_fails(buf, 0);
  assert_decode_error_fails(buf, sizeof(head) - 1);
  assert_decode_error_fails(buf, sizeof(head));
  /* Text that is not NUL-terminated. */
  memcpy(buf + sizeof(head), "oops", 4);
  assert_decode_error_fails(buf, sizeof(head) + 4);
  /* Text longer than an error object can hold, even though terminated. */
  memset(buf + sizeof(head), 'x', MK_ERROR_MSG_MAX);
  buf[big - 1] = '\0';
  assert_decode_error_fails(buf, big);
  /* Exactly MK_ERROR_MSG_MAX bytes including the NUL fits. */
  mk_error_t got, err = {0};
  uint32_t kind = 0;
  buf[big - 2] = '\0';
  ck_assert_int_eq(mk_msg_decode_error(buf, big - 1, &kind, &got, &err), 0);
  ck_assert_uint_eq(strlen(got.msg), MK_ERROR_MSG_MAX - 1);
  ck_assert_int_eq(got.err, EIO);
  free(buf);
}
END_TEST

/* ---- security records: caps, seccomp program, devices ----------------- */

static void raw_device(struct raw *r, uint32_t type, uint32_t mode,
                       const char *path)
{
  uint32_t head[6] = {type, 7, 0, mode, 0, 0};
  size_t n = strlen(path) + 1;

  raw_hdr(r, T_DEVICE, (uint32_t)(sizeof(head) + n));
  raw_bytes(r, head, sizeof(head));
  raw_bytes(r, path, n);
}

START_TEST(test_security_round_trip)
{
  static uint8_t buf[MK_MSG_MAX];
  static const uint8_t prog[16] = {6, 0, 0, 0, 0, 0, 0xff, 0x7f,
                                   6, 0, 0, 0, 0, 0, 0xff, 0x7f};
  struct mk_device devs[3] = {{'c', 1, 3, 0666, 0, 0, "/dev/mine"},
                              {'b', 7, 0, 0600, 0, 0, "/dev/loopy"},
                              {'p', 0, 0, 0660, 10, 20, "/dev/fifo"}};
  const char *argv[] = {"/bin/true", NULL}, *env[] = {NULL};
  struct mk_config in = {.flags = MK_CFG_NO_NEW_PRIVS | MK_CFG_PRIVILEGED,
                         .rootfs = "/r", .hostname = "h", .workdir = "",
                         .user = "", .argc = 1, .argv = argv, .env = env,
                         .caps = 0xa80425fbULL, .seccomp = prog,
                         .seccomp_len = sizeof(prog), .ndevices = 3,
                         .devices = devs};
  struct mk_config out;
  mk_error_t err;
  size_t len;

  ck_assert_int_eq(mk_config_encode(&in, buf, sizeof(buf), &len, &err), 0);
  ck_assert_int_eq(mk_config_decode(buf, len, &out, &storage, &err), 0);
  ck_assert_uint_eq(out.flags, in.flags);
  ck_assert_uint_eq(out.caps, 0xa80425fbULL);
  ck_assert_uint_eq(out.seccomp_len, sizeof(prog));
  ck_assert_mem_eq(out.seccomp, prog, sizeof(prog));
  ck_assert_uint_eq(out.ndevices, 3);
  ck_assert_str_eq(out.devices[1].path, "/dev/loopy");
  ck_assert_uint_eq(out.devices[1].type, 'b');
  ck_assert_uint_eq(out.devices[1].mode, 0600);
  ck_assert_uint_eq(out.devices[2].type, 'p');
  ck_assert_uint_eq(out.devices[2].uid, 10);
  ck_assert_uint_eq(out.devices[2].gid, 20);
}
END_TEST

/* A seccomp program is whole sock_filter entries (8 bytes), not empty,
 * not over the kernel's 4096 instructions, and given once. */
START_TEST(test_seccomp_record_malformed)
{
  static const uint8_t bytes[MK_MAX_SECCOMP_BYTES + 8];
  static const uint32_t sizes[] = {0, 7, 12, MK_MAX_SECCOMP_BYTES + 8};
  struct raw r;

  for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
    raw_init(&r);
    raw_minimal(&r);
    raw_rec(&r, T_SECCOMP, bytes, sizes[i]);
    assert_decode_fails(&r, EBADMSG);
    free(r.b);
  }
  raw_init(&r);
  raw_minimal(&r);
  raw_rec(&r, T_SECCOMP, bytes, 8);
  raw_rec(&r, T_SECCOMP, bytes, 8);
  assert_decode_fails(&r, EBADMSG);
  free(r.b);
}
END_TEST

START_TEST(test_caps_record_wrong_size)
{
  struct raw r;

  raw_init(&r);
  raw_minimal(&r);
  raw_u32(&r, T_CAPS, 5); /* 4 bytes, not 8 */
  assert_decode_fails(&r, EBADMSG);
  free(r.b);
}
END_TEST

/* A device must be c, b or p, with an absolute path and permission
 * bits. */
START_TEST(test_device_record_malformed)
{
  static const struct {
    uint32_t type, mode;
    const char *path;
  } bad[] = {{'x', 0666, "/dev/a"}, {'c', 0666, "dev/a"},
             {'c', 070000, "/dev/a"}, {'b', 0666, ""}};
  struct raw r;

  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    raw_init(&r);
    raw_minimal(&r);
    raw_device(&r, bad[i].type, bad[i].mode, bad[i].path);
    assert_decode_fails(&r, EBADMSG);
    free(r.b);
  }
}
END_TEST

/* ---- OCI hooks (createContainer, startContainer) ---- */

static const char *hook_argv[] = {"hook-argv0", "--flag", "", NULL};
static const char *hook_env[] = {"A=1", "B=two words", NULL};
static const char *no_strings[] = {NULL};

static void make_hooks(struct mk_config *cfg, struct mk_hook *hooks,
                       const char **argv_true)
{
  argv_true[0] = "/bin/true";
  argv_true[1] = NULL;
  hooks[0] = (struct mk_hook){MK_HOOK_CREATE_CONTAINER, 5, "/usr/bin/prepare",
                              hook_argv, hook_env};
  hooks[1] =
      (struct mk_hook){MK_HOOK_START_CONTAINER, 0, "/start.sh", NULL, NULL};
  hooks[2] = (struct mk_hook){MK_HOOK_CREATE_CONTAINER, 0, "/bin/true",
                              no_strings, no_strings};
  *cfg = (struct mk_config){.flags = MK_CFG_HOLD,
                            .rootfs = "/r",
                            .hostname = "h",
                            .workdir = "",
                            .user = "",
                            .argc = 1,
                            .argv = argv_true,
                            .nhooks = 3,
                            .hooks = hooks};
  cfg->hook_state[MK_HOOK_CREATE_CONTAINER] = "{\"status\":\"creating\"}";
  cfg->hook_state[MK_HOOK_START_CONTAINER] = "{\"status\":\"created\"}";
}

static void assert_strv(const char *const *got, const char *const *want)
{
  size_t i = 0;

  for (; want && want[i]; i++) {
    ck_assert_ptr_nonnull(got[i]);
    ck_assert_str_eq(got[i], want[i]);
  }
  ck_assert_ptr_null(got[i]);
}

START_TEST(test_hooks_round_trip)
{
  struct mk_hook hooks[3];
  const char *argv[2];
  struct mk_config in, out;
  uint8_t *buf = malloc(MK_MSG_MAX);
  size_t len = 0;
  mk_error_t err = {0};

  make_hooks(&in, hooks, argv);
  ck_assert_int_eq(mk_config_encode(&in, buf, MK_MSG_MAX, &len, &err), 0);
  ck_assert_msg(mk_config_decode(buf, len, &out, &storage, &err) == 0, "%s",
                err.msg);
  ck_assert_uint_eq(out.nhooks, 3);
  for (size_t i = 0; i < 3; i++) {
    ck_assert_uint_eq(out.hooks[i].kind, hooks[i].kind);
    ck_assert_uint_eq(out.hooks[i].timeout, hooks[i].timeout);
    ck_assert_str_eq(out.hooks[i].path, hooks[i].path);
    assert_strv(out.hooks[i].argv, hooks[i].argv);
    assert_strv(out.hooks[i].env, hooks[i].env);
  }
  ck_assert_str_eq(out.hook_state[MK_HOOK_CREATE_CONTAINER],
                   in.hook_state[MK_HOOK_CREATE_CONTAINER]);
  ck_assert_str_eq(out.hook_state[MK_HOOK_START_CONTAINER],
                   in.hook_state[MK_HOOK_START_CONTAINER]);
  ck_assert_ptr_null(out.hook_state[0]);
  free(buf);
}
END_TEST

/* Appending the hooks to a config encoded without them gives the bytes
 * mk_config_encode writes for the whole (what mocker-runtime's create
 * does after mk_launch_encode). */
START_TEST(test_hooks_appended_equal_whole)
{
  struct mk_hook hooks[3];
  const char *argv[2];
  struct mk_config cfg;
  uint8_t *whole = malloc(MK_MSG_MAX), *parts = malloc(MK_MSG_MAX);
  size_t wlen = 0, plen = 0;
  mk_error_t err = {0};

  make_hooks(&cfg, hooks, argv);
  ck_assert_int_eq(mk_config_encode(&cfg, whole, MK_MSG_MAX, &wlen, &err), 0);
  struct mk_config bare = cfg;
  bare.nhooks = 0;
  memset(bare.hook_state, 0, sizeof(bare.hook_state));
  ck_assert_int_eq(mk_config_encode(&bare, parts, MK_MSG_MAX, &plen, &err), 0);
  ck_assert_int_eq(mk_config_encode_hooks(&cfg, parts, MK_MSG_MAX, &plen, &err),
                   0);
  ck_assert_uint_eq(plen, wlen);
  ck_assert_int_eq(memcmp(parts, whole, wlen), 0);
  /* no room left: refused, and the length is not moved */
  size_t tight;
  ck_assert_int_eq(mk_config_encode(&bare, parts, MK_MSG_MAX, &tight, &err), 0);
  size_t before = tight;
  ck_assert_int_eq(
      mk_config_encode_hooks(&cfg, parts, tight + 20, &tight, &err), -1);
  ck_assert_int_eq(err.err, E2BIG);
  ck_assert_uint_eq(tight, before);
  free(whole);
  free(parts);
}
END_TEST

/* The encoder refuses what init's decoder would: a kind init does not
 * run, a relative path, a kind without its state, too many hooks or
 * strings. */
START_TEST(test_hooks_encode_refuses)
{
  static const char *many[MK_MAX_HOOK_STRV + 1];
  struct mk_hook hooks[MK_MAX_HOOKS + 1];
  const char *argv[2];
  struct mk_config cfg;
  uint8_t *buf = malloc(MK_MSG_MAX);
  size_t len;
  mk_error_t err = {0};

  make_hooks(&cfg, hooks, argv);
  hooks[1].kind = 3;
  ck_assert_int_eq(mk_config_encode(&cfg, buf, MK_MSG_MAX, &len, &err), -1);
  make_hooks(&cfg, hooks, argv);
  hooks[1].path = "start.sh";
  ck_assert_int_eq(mk_config_encode(&cfg, buf, MK_MSG_MAX, &len, &err), -1);
  make_hooks(&cfg, hooks, argv);
  cfg.hook_state[MK_HOOK_START_CONTAINER] = NULL;
  ck_assert_int_eq(mk_config_encode(&cfg, buf, MK_MSG_MAX, &len, &err), -1);
  make_hooks(&cfg, hooks, argv);
  for (size_t i = 0; i <= MK_MAX_HOOKS; i++)
    hooks[i] = hooks[2];
  cfg.nhooks = MK_MAX_HOOKS + 1;
  ck_assert_int_eq(mk_config_encode(&cfg, buf, MK_MSG_MAX, &len, &err), -1);
  ck_assert_int_eq(err.err, E2BIG);
  for (size_t i = 0; i < MK_MAX_HOOK_STRV; i++)
    many[i] = "a";
  make_hooks(&cfg, hooks, argv);
  hooks[0].argv = many; /* with its NULL and env's: over the cap */
  ck_assert_int_eq(mk_config_encode(&cfg, buf, MK_MSG_MAX, &len, &err), -1);
  ck_assert_int_eq(err.err, E2BIG);
  free(buf);
}
END_TEST

/* A hook record as a peer could forge it: head, then raw string bytes. */
static void raw_hook(struct raw *r, uint32_t kind, uint32_t argc, uint32_t envc,
                     const char *bytes, size_t n)
{
  uint32_t head[4] = {kind, 0, argc, envc};

  raw_hdr(r, T_HOOK, (uint32_t)(sizeof(head) + n));
  raw_bytes(r, head, sizeof(head));
  raw_bytes(r, bytes, n);
}

static void raw_hook_state(struct raw *r, uint32_t kind, const char *state,
                           size_t n)
{
  raw_hdr(r, T_HOOK_STATE, (uint32_t)(4 + n));
  raw_bytes(r, &kind, 4);
  raw_bytes(r, state, n);
}

#define S(lit) lit, sizeof(lit) /* a string literal with its final NUL */

START_TEST(test_decode_hook_accepted)
{
  struct raw r;
  struct mk_config cfg;
  mk_error_t err;

  raw_init(&r);
  raw_minimal(&r);
  raw_hook(&r, MK_HOOK_START_CONTAINER, 1, 1, S("/h\0a\0K=V"));
  raw_hook_state(&r, MK_HOOK_START_CONTAINER, S("{}"));
  ck_assert_msg(decode(&r, &cfg, &err) == 0, "%s", err.msg);
  ck_assert_uint_eq(cfg.nhooks, 1);
  ck_assert_str_eq(cfg.hooks[0].path, "/h");
  ck_assert_str_eq(cfg.hooks[0].argv[0], "a");
  ck_assert_ptr_null(cfg.hooks[0].argv[1]);
  ck_assert_str_eq(cfg.hooks[0].env[0], "K=V");
  ck_assert_ptr_null(cfg.hooks[0].env[1]);
  free(r.b);
}
END_TEST

/* Each forged hook record, after a valid state for both kinds. */
START_TEST(test_decode_hook_malformed)
{
  static const struct {
    uint32_t kind, argc, envc;
    const char *bytes;
    size_t n;
  } bad[] = {
      {0, 0, 0, S("/h")},                           /* no such kind */
      {3, 0, 0, S("/h")},                           /* nor this */
      {MK_HOOK_CREATE_CONTAINER, 0, 0, S("h")},     /* relative path */
      {MK_HOOK_CREATE_CONTAINER, 0, 0, S("")},      /* empty path */
      {MK_HOOK_CREATE_CONTAINER, 2, 0, S("/h\0a")}, /* argc says 2 */
      {MK_HOOK_CREATE_CONTAINER, 0, 1, S("/h")},    /* envc says 1 */
      {MK_HOOK_CREATE_CONTAINER, 0, 0, S("/h\0x")}, /* a string too many */
      {MK_HOOK_CREATE_CONTAINER, 0, 0, "/h", 2},    /* no NUL */
      {MK_HOOK_CREATE_CONTAINER, 1, 0, "/h\0a", 4}, /* argv[0] without */
      {MK_HOOK_CREATE_CONTAINER, 0xffffffff, 0, S("/h")},
      {MK_HOOK_CREATE_CONTAINER, 0, MK_MAX_HOOK_STRV, S("/h")},
      {MK_HOOK_CREATE_CONTAINER, 0, 0, "", 0}, /* nothing after the head */
  };

  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    struct raw r;
    struct mk_config cfg;
    mk_error_t err;
    raw_init(&r);
    raw_minimal(&r);
    raw_hook_state(&r, MK_HOOK_CREATE_CONTAINER, S("{}"));
    raw_hook_state(&r, MK_HOOK_START_CONTAINER, S("{}"));
    raw_hook(&r, bad[i].kind, bad[i].argc, bad[i].envc, bad[i].bytes, bad[i].n);
    ck_assert_msg(decode(&r, &cfg, &err) == -1, "bad hook %zu accepted", i);
    ck_assert_int_eq(err.err, EBADMSG);
    free(r.b);
  }
}
END_TEST

/* States: a known kind, one string, once; and every hook needs one. */
START_TEST(test_decode_hook_state_malformed)
{
  struct raw r;
  static const char big[] = "/h";

  raw_init(&r); /* a hook with no state */
  raw_minimal(&r);
  raw_hook(&r, MK_HOOK_START_CONTAINER, 0, 0, S("/h"));
  raw_hook_state(&r, MK_HOOK_CREATE_CONTAINER, S("{}"));
  assert_decode_fails(&r, EBADMSG);
  free(r.b);
  raw_init(&r); /* twice */
  raw_minimal(&r);
  raw_hook_state(&r, MK_HOOK_CREATE_CONTAINER, S("{}"));
  raw_hook_state(&r, MK_HOOK_CREATE_CONTAINER, S("{}"));
  assert_decode_fails(&r, EBADMSG);
  free(r.b);
  raw_init(&r); /* an unknown kind */
  raw_minimal(&r);
  raw_hook_state(&r, 7, S("{}"));
  assert_decode_fails(&r, EBADMSG);
  free(r.b);
  raw_init(&r); /* empty, two strings, no NUL */
  raw_minimal(&r);
  raw_hook_state(&r, MK_HOOK_CREATE_CONTAINER, S(""));
  assert_decode_fails(&r, EBADMSG);
  free(r.b);
  raw_init(&r);
  raw_minimal(&r);
  raw_hook_state(&r, MK_HOOK_CREATE_CONTAINER, S("{}\0{}"));
  assert_decode_fails(&r, EBADMSG);
  free(r.b);
  raw_init(&r);
  raw_minimal(&r);
  raw_hook_state(&r, MK_HOOK_CREATE_CONTAINER, big, 2);
  assert_decode_fails(&r, EBADMSG);
  free(r.b);
  raw_init(&r); /* a record too short for its kind */
  raw_minimal(&r);
  raw_rec(&r, T_HOOK_STATE, "\1\0", 2);
  assert_decode_fails(&r, EBADMSG);
  free(r.b);
}
END_TEST

/* Caps: MK_MAX_HOOKS hooks, MK_MAX_HOOK_STRV strings with their NULLs,
 * and not one more of either. */
START_TEST(test_decode_hook_limits)
{
  struct raw r;
  struct mk_config cfg;
  mk_error_t err;
  static char strings[2 * MK_MAX_HOOK_STRV + 8];

  raw_init(&r);
  raw_minimal(&r);
  raw_hook_state(&r, MK_HOOK_CREATE_CONTAINER, S("{}"));
  for (int i = 0; i < MK_MAX_HOOKS; i++)
    raw_hook(&r, MK_HOOK_CREATE_CONTAINER, 0, 0, S("/h"));
  ck_assert_msg(decode(&r, &cfg, &err) == 0, "%s", err.msg);
  ck_assert_uint_eq(cfg.nhooks, MK_MAX_HOOKS);
  raw_hook(&r, MK_HOOK_CREATE_CONTAINER, 0, 0, S("/h"));
  assert_decode_fails(&r, EBADMSG);
  free(r.b);

  /* "/h" then argc one-letter strings: argc + 1 + 0 + 1 slots */
  for (uint32_t argc = MK_MAX_HOOK_STRV - 2; argc <= MK_MAX_HOOK_STRV - 1;
       argc++) {
    size_t n = 0;
    memcpy(strings, "/h", 3);
    n = 3;
    for (uint32_t i = 0; i < argc; i++, n += 2)
      memcpy(strings + n, "a", 2);
    raw_init(&r);
    raw_minimal(&r);
    raw_hook_state(&r, MK_HOOK_CREATE_CONTAINER, S("{}"));
    raw_hook(&r, MK_HOOK_CREATE_CONTAINER, argc, 0, strings, n);
    int rc = decode(&r, &cfg, &err);
    ck_assert_msg(rc == (argc == MK_MAX_HOOK_STRV - 2 ? 0 : -1), "argc %u: %d",
                  argc, rc);
    free(r.b);
  }
}
END_TEST

/* ---- several fds, and pipes ---- */

START_TEST(test_msg_two_fds)
{
  int sv[2], fds[2], got[2], flags;
  size_t n;
  uint32_t type;
  char buf[16];
  struct stat a, b;
  mk_error_t err = {0};

  make_pair(sv);
  ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
  ck_assert_int_eq(
      mk_msg_send_fds(sv[0], MK_MSG_CONFIG, "cfg", 3, fds, 2, &err), 0);
  ck_assert_int_eq(
      mk_msg_recv_fds(sv[1], &type, buf, sizeof(buf), got, 2, &n, &err), 3);
  ck_assert_uint_eq(n, 2);
  for (int i = 0; i < 2; i++) {
    flags = fcntl(got[i], F_GETFD);
    ck_assert_msg(flags >= 0 && (flags & FD_CLOEXEC), "fd %d", i);
    ck_assert_int_eq(fstat(fds[i], &a), 0);
    ck_assert_int_eq(fstat(got[i], &b), 0);
    ck_assert_uint_eq(a.st_ino, b.st_ino);
    close(got[i]);
  }
  /* more than asked for: the extra one is closed, not leaked */
  ck_assert_int_eq(
      mk_msg_send_fds(sv[0], MK_MSG_CONFIG, "cfg", 3, fds, 2, &err), 0);
  ck_assert_int_eq(
      mk_msg_recv_fds(sv[1], &type, buf, sizeof(buf), got, 1, &n, &err), 3);
  ck_assert_uint_eq(n, 1);
  close(got[0]);
  int probe = dup(0);
  ck_assert_int_eq(probe, got[0]); /* the lowest free fd: nothing held */
  close(probe);
  ck_assert_int_eq(mk_msg_send_fds(sv[0], MK_MSG_CONFIG, "", 0, fds,
                                   MK_MAX_MSG_FDS + 1, &err),
                   -1);
  close(fds[0]);
  close(fds[1]);
  close_pair(sv);
}
END_TEST

/* init answers `start` through a fifo: a packet is one write and reads
 * back whole; too large for one write, or with an fd, it is refused. */
START_TEST(test_msg_over_a_pipe)
{
  int p[2], fd;
  uint32_t type, kind;
  uint8_t buf[PIPE_BUF];
  int32_t pid = 42;
  mk_error_t e = {.err = EIO}, got, err = {0};

  ck_assert_int_eq(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
  ck_assert_int_eq(
      mk_msg_send(p[1], MK_MSG_STARTED, &pid, sizeof(pid), -1, &err), 0);
  ck_assert_int_eq(mk_msg_recv(p[0], &type, buf, sizeof(buf), &fd, &err),
                   (int)sizeof(pid));
  ck_assert_uint_eq(type, MK_MSG_STARTED);
  ck_assert_int_eq(fd, -1);
  snprintf(e.msg, sizeof(e.msg),
           "startContainer hook `/h` exited with "
           "status 4");
  mk_msg_send_error(p[1], MK_FAIL_SETUP, &e);
  int n = mk_msg_recv(p[0], &type, buf, sizeof(buf), &fd, &err);
  ck_assert_int_gt(n, 0);
  ck_assert_uint_eq(type, MK_MSG_ERROR);
  ck_assert_int_eq(mk_msg_decode_error(buf, (size_t)n, &kind, &got, &err), 0);
  ck_assert_uint_eq(kind, MK_FAIL_SETUP);
  ck_assert_int_eq(got.err, EIO);
  ck_assert_str_eq(got.msg, e.msg);
  /* nothing left, nothing torn */
  ck_assert_int_eq(mk_msg_recv(p[0], &type, buf, sizeof(buf), &fd, &err), -1);
  ck_assert_int_eq(err.err, EAGAIN);
  static uint8_t big[PIPE_BUF];
  ck_assert_int_eq(
      mk_msg_send(p[1], MK_MSG_STARTED, big, sizeof(big), -1, &err), -1);
  ck_assert_int_eq(err.err, EMSGSIZE);
  ck_assert_int_eq(mk_msg_send(p[1], MK_MSG_STARTED, "x", 1, p[0], &err), -1);
  ck_assert_int_eq(err.err, ENOTSOCK);
  close(p[1]); /* EOF reads as type 0 */
  ck_assert_int_eq(mk_msg_recv(p[0], &type, buf, sizeof(buf), &fd, &err), 0);
  ck_assert_uint_eq(type, 0);
  close(p[0]);
}
END_TEST

static Suite *proto_suite(void)
{
  Suite *s = suite_create("proto");
  TCase *tc = tcase_create("config");

  tcase_add_test(tc, test_config_round_trip_all_fields);
  tcase_add_test(tc, test_config_round_trip_minimal);
  tcase_add_test(tc, test_config_mount_null_data);
  tcase_add_test(tc, test_config_encode_exact_capacity);
  tcase_add_test(tc, test_config_encode_too_many_args);
  tcase_add_test(tc, test_config_encode_oversized_string);
  tcase_add_test(tc, test_config_encode_oversized_total);
  suite_add_tcase(s, tc);

  tc = tcase_create("decode-malformed");
  tcase_add_test(tc, test_decode_raw_minimal_accepted);
  tcase_add_test(tc, test_decode_empty_buffer);
  tcase_add_test(tc, test_decode_truncated_record_header);
  tcase_add_test(tc, test_decode_record_overruns_buffer);
  tcase_add_test(tc, test_decode_record_length_max_u32);
  tcase_add_test(tc, test_decode_string_without_nul);
  tcase_add_test(tc, test_decode_string_with_interior_nul);
  tcase_add_test(tc, test_decode_empty_string_record);
  tcase_add_test(tc, test_decode_unknown_tag);
  tcase_add_test(tc, test_decode_bad_fixed_width_records);
  tcase_add_test(tc, test_decode_wrong_version);
  tcase_add_test(tc, test_decode_missing_version);
  tcase_add_loop_test(tc, test_decode_missing_required_field, 0, 5);
  tcase_add_test(tc, test_decode_relative_rootfs);
  tcase_add_test(tc, test_decode_too_many_args);
  tcase_add_test(tc, test_decode_too_many_env);
  tcase_add_test(tc, test_decode_too_many_mounts);
  tcase_add_test(tc, test_decode_mount_relative_target);
  tcase_add_test(tc, test_decode_mount_empty_target);
  tcase_add_test(tc, test_decode_mount_unknown_kind);
  tcase_add_test(tc, test_decode_mount_malformed_strings);
  suite_add_tcase(s, tc);

  tc = tcase_create("socket");
  tcase_add_test(tc, test_msg_payload_round_trip);
  tcase_add_test(tc, test_msg_sequence_and_empty_payload);
  tcase_add_test(tc, test_msg_max_payload);
  tcase_add_test(tc, test_msg_send_too_large);
  tcase_add_test(tc, test_msg_fd_passing);
  tcase_add_test(tc, test_msg_eof);
  tcase_add_test(tc, test_msg_recv_short_packet);
  tcase_add_test(tc, test_msg_recv_len_disagrees);
  tcase_add_test(tc, test_msg_recv_type_zero);
  tcase_add_test(tc, test_msg_recv_bigger_than_buffer);
  tcase_add_test(tc, test_msg_recv_malformed_with_fd_no_leak);
  tcase_add_test(tc, test_msg_error_round_trip);
  tcase_add_test(tc, test_msg_error_longest_message);
  tcase_add_test(tc, test_msg_decode_error_malformed);
  tcase_add_test(tc, test_security_round_trip);
  tcase_add_test(tc, test_seccomp_record_malformed);
  tcase_add_test(tc, test_caps_record_wrong_size);
  tcase_add_test(tc, test_device_record_malformed);
  tcase_add_test(tc, test_config_cap_sets_and_inplace);
  tcase_add_test(tc, test_decode_bundle_fs_mounts);
  suite_add_tcase(s, tc);

  tc = tcase_create("hooks");
  tcase_add_test(tc, test_hooks_round_trip);
  tcase_add_test(tc, test_hooks_appended_equal_whole);
  tcase_add_test(tc, test_hooks_encode_refuses);
  tcase_add_test(tc, test_decode_hook_accepted);
  tcase_add_test(tc, test_decode_hook_malformed);
  tcase_add_test(tc, test_decode_hook_state_malformed);
  tcase_add_test(tc, test_decode_hook_limits);
  tcase_add_test(tc, test_msg_two_fds);
  tcase_add_test(tc, test_msg_over_a_pipe);
  suite_add_tcase(s, tc);
  return s;
}

MK_UNIT_MAIN(proto_suite)
