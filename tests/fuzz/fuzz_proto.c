/* libFuzzer target for the supervisor <-> mocker-init protocol decoders
 * (shared/mk_proto.c): mk_config_decode, which mocker-init runs on the
 * MK_MSG_CONFIG payload before it builds the container, and
 * mk_msg_decode_error, which the supervisor runs on init's MK_MSG_ERROR.
 * Both get the same bytes. Written against shared/mk_proto.h only, so new
 * record tags need no change here (see "round trip" below).
 *
 * Properties, for any input:
 *   - no memory error, no leak, no undefined behaviour;
 *   - a failed decode leaves a non-empty, NUL-terminated message;
 *   - a decoded config satisfies what init relies on: rootfs absolute,
 *     hostname, workdir and user present, 1 <= argc <= MK_MAX_ARGS,
 *     argv[argc] and env[envc] are NULL, every mount is a bind or a tmpfs
 *     with an absolute target, and every string (and the seccomp program)
 *     lies inside the input buffer with its NUL;
 *   - round trip: encode(decode(x)) succeeds, decodes again, and gives the
 *     same config, field by field; encoding that second config gives the
 *     same bytes again (the encoding is canonical, which also covers any
 *     field this file does not know about);
 *   - a decoded error message has kind and errno from the header, a
 *     NUL-terminated text shorter than MK_ERROR_MSG_MAX, and survives
 *     mk_msg_send_error -> mk_msg_recv -> mk_msg_decode_error over a real
 *     SOCK_SEQPACKET pair unchanged.
 *
 * The capability, seccomp and device fields are checked when mk_proto.h
 * has them (MK_MAX_DEVICES and MK_MAX_SECCOMP_BYTES defined); the OCI
 * hooks init runs when it has MK_MAX_HOOKS: a kind init knows, an
 * absolute path, argv and env NULL-terminated inside the message, and a
 * state document for every kind that has a hook.
 *
 * Seeds: corpus/proto/, made by tests/fuzz/gen_proto_seeds.c from configs
 * shaped like the ones supervisor/engine/launch.c and cmd_exec.c send.
 * Build and run: see tests/fuzz/README.md.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mk_proto.h"

#if defined(MK_MAX_DEVICES) && defined(MK_MAX_SECCOMP_BYTES)
#define FUZZ_SECURITY_FIELDS 1
#endif
#ifdef MK_MAX_HOOKS
#define FUZZ_HOOK_FIELDS 1
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ~100 KiB of pointers each; static so a run does not touch the heap. */
static struct mk_config_storage st1, st2;
static uint8_t enc1[MK_MSG_MAX], enc2[MK_MSG_MAX];

static void fail(const char *what, const char *detail)
{
  fprintf(stderr, "fuzz_proto: %s\n  detail: `%s`\n", what, detail);
  abort();
}

static void check_failure(const mk_error_t *err)
{
  if (!memchr(err->msg, '\0', sizeof(err->msg)) || !err->msg[0])
    fail("failure without a message", "");
}

/* s is a NUL-terminated string entirely inside [buf, buf + len). */
static void check_inside(const char *s, const uint8_t *buf, size_t len,
                         const char *what)
{
  const uint8_t *p = (const uint8_t *)s;

  if (!s)
    fail("decoded string is NULL", what);
  if (p < buf || p >= buf + len || !memchr(p, '\0', (size_t)(buf + len - p)))
    fail("decoded string points outside the message", what);
}

static void check_mounts(const struct mk_config *c, const uint8_t *buf,
                         size_t len)
{
  if (c->nmounts > MK_MAX_MOUNTS)
    fail("too many mounts accepted", "");
  for (size_t i = 0; i < c->nmounts; i++) {
    const struct mk_mount *m = &c->mounts[i];
    check_inside(m->source, buf, len, "mount source");
    check_inside(m->target, buf, len, "mount target");
    check_inside(m->data, buf, len, "mount data");
    if (m->kind != MK_MOUNT_BIND && m->kind != MK_MOUNT_TMPFS)
      fail("unknown mount kind accepted", m->target);
    if (m->target[0] != '/')
      fail("relative mount target accepted", m->target);
  }
}

#ifdef FUZZ_SECURITY_FIELDS
static void check_security(const struct mk_config *c, const uint8_t *buf,
                           size_t len)
{
  if (c->seccomp_len % 8 || c->seccomp_len > MK_MAX_SECCOMP_BYTES ||
      !c->seccomp != !c->seccomp_len)
    fail("bad seccomp program length accepted", "");
  if (c->seccomp && (c->seccomp < buf || c->seccomp_len > len ||
                     c->seccomp > buf + len - c->seccomp_len))
    fail("seccomp program points outside the message", "");
  if (c->ndevices > MK_MAX_DEVICES)
    fail("too many devices accepted", "");
  for (size_t i = 0; i < c->ndevices; i++) {
    const struct mk_device *d = &c->devices[i];
    check_inside(d->path, buf, len, "device path");
    if (d->path[0] != '/' ||
        (d->type != 'c' && d->type != 'b' && d->type != 'p') || d->mode > 07777)
      fail("malformed device accepted", d->path);
  }
}
#endif

#ifdef FUZZ_HOOK_FIELDS
static size_t check_strv(const char *const *v, const uint8_t *buf, size_t len,
                         const char *what)
{
  size_t n = 0;

  if (!v)
    fail("hook list is NULL", what);
  for (; v[n]; n++) {
    if (n >= MK_MAX_HOOK_STRV)
      fail("hook list not NULL-terminated", what);
    check_inside(v[n], buf, len, what);
  }
  return n + 1;
}

static void check_hooks(const struct mk_config *c, const uint8_t *buf,
                        size_t len)
{
  size_t slots = 0;

  if (c->nhooks > MK_MAX_HOOKS)
    fail("too many hooks accepted", "");
  for (size_t i = 0; i < c->nhooks; i++) {
    const struct mk_hook *h = &c->hooks[i];
    check_inside(h->path, buf, len, "hook path");
    if (h->path[0] != '/')
      fail("relative hook path accepted", h->path);
    if (h->kind != MK_HOOK_CREATE_CONTAINER &&
        h->kind != MK_HOOK_START_CONTAINER)
      fail("unknown hook kind accepted", h->path);
    if (!c->hook_state[h->kind])
      fail("hook without its state accepted", h->path);
    slots += check_strv(h->argv, buf, len, "hook argv");
    slots += check_strv(h->env, buf, len, "hook env");
  }
  if (slots > MK_MAX_HOOK_STRV)
    fail("more hook strings than init's storage accepted", "");
  for (int k = 0; k < MK_HOOK_KINDS; k++)
    if (c->hook_state[k])
      check_inside(c->hook_state[k], buf, len, "hook state");
}
#endif

static void check_config(const struct mk_config *c, const uint8_t *buf,
                         size_t len)
{
  check_inside(c->rootfs, buf, len, "rootfs");
  check_inside(c->hostname, buf, len, "hostname");
  check_inside(c->workdir, buf, len, "workdir");
  check_inside(c->user, buf, len, "user");
  if (c->rootfs[0] != '/')
    fail("relative rootfs accepted", c->rootfs);
  if (c->argc == 0 || c->argc > MK_MAX_ARGS || c->argv[c->argc])
    fail("argv empty, too long or not NULL-terminated", "");
  if (c->envc > MK_MAX_ENV || c->env[c->envc])
    fail("env too long or not NULL-terminated", "");
  for (size_t i = 0; i < c->argc; i++)
    check_inside(c->argv[i], buf, len, "argv");
  for (size_t i = 0; i < c->envc; i++)
    check_inside(c->env[i], buf, len, "env");
  check_mounts(c, buf, len);
#ifdef FUZZ_SECURITY_FIELDS
  check_security(c, buf, len);
#endif
#ifdef FUZZ_HOOK_FIELDS
  check_hooks(c, buf, len);
#endif
}

static void same_str(const char *a, const char *b, const char *what)
{
  if (strcmp(a, b) != 0)
    fail("round trip changed a string", what);
}

static void same_mounts(const struct mk_config *a, const struct mk_config *b)
{
  if (a->nmounts != b->nmounts)
    fail("round trip changed the mount count", "");
  for (size_t i = 0; i < a->nmounts; i++) {
    const struct mk_mount *x = &a->mounts[i], *y = &b->mounts[i];
    if (x->kind != y->kind || x->flags != y->flags)
      fail("round trip changed a mount's kind or flags", x->target);
    same_str(x->source, y->source, "mount source");
    same_str(x->target, y->target, "mount target");
    same_str(x->data, y->data, "mount data");
  }
}

#ifdef FUZZ_SECURITY_FIELDS
static void same_security(const struct mk_config *a, const struct mk_config *b)
{
  if (a->caps != b->caps)
    fail("round trip changed the capabilities", "");
  if (a->seccomp_len != b->seccomp_len ||
      (a->seccomp_len && memcmp(a->seccomp, b->seccomp, a->seccomp_len) != 0))
    fail("round trip changed the seccomp program", "");
  if (a->ndevices != b->ndevices)
    fail("round trip changed the device count", "");
  for (size_t i = 0; i < a->ndevices; i++) {
    const struct mk_device *x = &a->devices[i], *y = &b->devices[i];
    if (x->type != y->type || x->major != y->major || x->minor != y->minor ||
        x->mode != y->mode)
      fail("round trip changed a device", x->path);
    same_str(x->path, y->path, "device path");
  }
}
#endif

#ifdef FUZZ_HOOK_FIELDS
static void same_strv(const char *const *a, const char *const *b,
                      const char *what)
{
  size_t i = 0;

  for (; a[i] && b[i]; i++)
    same_str(a[i], b[i], what);
  if (a[i] || b[i])
    fail("round trip changed a hook list's length", what);
}

static void same_hooks(const struct mk_config *a, const struct mk_config *b)
{
  if (a->nhooks != b->nhooks)
    fail("round trip changed the hook count", "");
  for (size_t i = 0; i < a->nhooks; i++) {
    const struct mk_hook *x = &a->hooks[i], *y = &b->hooks[i];
    if (x->kind != y->kind || x->timeout != y->timeout)
      fail("round trip changed a hook's kind or timeout", x->path);
    same_str(x->path, y->path, "hook path");
    same_strv(x->argv, y->argv, "hook argv");
    same_strv(x->env, y->env, "hook env");
  }
  for (int k = 0; k < MK_HOOK_KINDS; k++) {
    if (!a->hook_state[k] != !b->hook_state[k])
      fail("round trip lost or added a hook state", "");
    if (a->hook_state[k])
      same_str(a->hook_state[k], b->hook_state[k], "hook state");
  }
}
#endif

static void same_config(const struct mk_config *a, const struct mk_config *b)
{
  if (a->flags != b->flags || a->rows != b->rows || a->cols != b->cols)
    fail("round trip changed flags or window size", "");
  same_str(a->rootfs, b->rootfs, "rootfs");
  same_str(a->hostname, b->hostname, "hostname");
  same_str(a->workdir, b->workdir, "workdir");
  same_str(a->user, b->user, "user");
  if (a->argc != b->argc || a->envc != b->envc)
    fail("round trip changed argc or envc", "");
  for (size_t i = 0; i < a->argc; i++)
    same_str(a->argv[i], b->argv[i], "argv");
  for (size_t i = 0; i < a->envc; i++)
    same_str(a->env[i], b->env[i], "env");
  same_mounts(a, b);
#ifdef FUZZ_SECURITY_FIELDS
  same_security(a, b);
#endif
#ifdef FUZZ_HOOK_FIELDS
  same_hooks(a, b);
#endif
}

/* The encoder always writes version, flags, window size and capabilities;
 * a decoded config may have come without the optional ones, so its
 * encoding can be this much longer than the input. */
#define ENCODE_SLACK 64

static void round_trip(const struct mk_config *c1, size_t in_len)
{
  struct mk_config c2;
  mk_error_t err;
  size_t len1, len2;

  if (mk_config_encode(c1, enc1, sizeof(enc1), &len1, &err) < 0) {
    if (in_len + ENCODE_SLACK <= sizeof(enc1))
      fail("a decoded config does not encode", err.msg);
    return;
  }
  if (len1 > sizeof(enc1))
    fail("encoder reports more bytes than its buffer", "");
  if (mk_config_decode(enc1, len1, &c2, &st2, &err) < 0)
    fail("encode(decode(x)) does not decode", err.msg);
  check_config(&c2, enc1, len1);
  same_config(c1, &c2);
  if (mk_config_encode(&c2, enc2, sizeof(enc2), &len2, &err) < 0)
    fail("second encoding failed", err.msg);
  if (len1 != len2 || memcmp(enc1, enc2, len1) != 0)
    fail("encoding is not canonical: encode(decode(encode(c))) differs", "");
}

static void fuzz_config(const uint8_t *data, size_t size)
{
  struct mk_config c1;
  mk_error_t err;

  if (mk_config_decode(data, size, &c1, &st1, &err) < 0) {
    check_failure(&err);
    return;
  }
  check_config(&c1, data, size);
  round_trip(&c1, size);
}

/* One socketpair for the whole run: a packet is sent and read back at
 * once, so the buffers never fill. */
static int error_socks[2] = {-1, -1};

static void error_round_trip(uint32_t kind, const mk_error_t *e)
{
  static uint8_t buf[MK_MSG_MAX];
  uint32_t type, kind2;
  mk_error_t e2, err;
  int n, fd;

  if (error_socks[0] < 0 &&
      socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, error_socks) < 0)
    fail("socketpair", "");
  mk_msg_send_error(error_socks[0], (enum mk_fail_kind)kind, e);
  n = mk_msg_recv(error_socks[1], &type, buf, sizeof(buf), &fd, &err);
  if (n <= 0 || type != MK_MSG_ERROR || fd != -1)
    fail("sent error does not come back as one MK_MSG_ERROR", err.msg);
  if (mk_msg_decode_error(buf, (size_t)n, &kind2, &e2, &err) < 0)
    fail("sent error does not decode", err.msg);
  if (kind2 != kind || e2.err != e->err || strcmp(e2.msg, e->msg) != 0)
    fail("error changed on the wire", e->msg);
}

static void fuzz_error(const uint8_t *data, size_t size)
{
  struct mk_msg_error head;
  uint32_t kind;
  mk_error_t e, err;

  memset(&e, 0xa5, sizeof(e)); /* a missing terminator shows up below */
  if (mk_msg_decode_error(data, size, &kind, &e, &err) < 0) {
    check_failure(&err);
    return;
  }
  if (size <= sizeof(head))
    fail("short error message accepted", "");
  memcpy(&head, data, sizeof(head));
  if (kind != head.kind || e.err != head.errnum)
    fail("kind or errno differs from the header", "");
  if (!memchr(e.msg, '\0', sizeof(e.msg)))
    fail("decoded error text is not NUL-terminated", "");
  if (strncmp(e.msg, (const char *)data + sizeof(head), size - sizeof(head)) !=
      0)
    fail("decoded error text differs from the message", e.msg);
  error_round_trip(kind, &e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  fuzz_config(data, size);
  fuzz_error(data, size);
  return 0;
}
