/* Docker's JSON seccomp profile format compiled to classic BPF with
 * libseccomp, and cached as <root>/seccomp/<sha256>.bpf.
 *
 * The built-in profile (supervisor/isolation/seccomp_default.json, embedded as
 * a C string by supervisor/isolation/gen_seccomp_default.sh into
 * seccomp_default.c) is Docker's default profile. It was made from podman's
 * copy, /usr/share/containers/seccomp.json in Debian 12's
 * golang-github-containers-common 0.50.1 (Apache-2.0, derived from moby's
 * profiles/seccomp/default.json, also Apache-2.0), adjusted back to
 * Docker's rules: EPERM for unlisted syscalls, mount/unshare/setns/clone
 * namespace flags behind CAP_SYS_ADMIN, clone3 ENOSYS without it, no
 * keyctl; the generator script lists every change.
 *
 * Semantics follow Docker (moby + runc): rules whose includes/excludes do
 * not match the workload's capabilities, the native architecture or the
 * running kernel are left out; unknown syscall names are skipped; a rule
 * whose action equals the default action is skipped (libseccomp refuses
 * it); several args on one rule are ANDed, unless two compare the same
 * argument, which libseccomp cannot AND: then each becomes its own rule
 * (ORed), as runc does. */
#include "seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <linux/filter.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "caps.h"
#include "mk_proto.h"
#include "mk_util.h"

/* libseccomp's: ours is isolation/seccomp.h, outside the -I path, so
 * the angle brackets find only the library's. */
#include <seccomp.h>

/* Bump when the compiler's output for the same inputs changes. */
#define CACHE_FORMAT "mocker-seccomp-1"

struct compiler {
  scmp_filter_ctx sc;
  const char *label; /* "default seccomp profile" or "seccomp profile" */
  uint64_t caps;
  uint32_t native;
  uint32_t default_action;
  unsigned kernel_major, kernel_minor;
};

struct arch_name {
  const char *scmp; /* Docker's "SCMP_ARCH_*" */
  uint32_t token;
  const char *go; /* the name includes/excludes.arches use */
};

static const struct arch_name arches[] = {
    {"SCMP_ARCH_X86", SCMP_ARCH_X86, "x86"},
    {"SCMP_ARCH_X86_64", SCMP_ARCH_X86_64, "amd64"},
    {"SCMP_ARCH_X32", SCMP_ARCH_X32, "x32"},
    {"SCMP_ARCH_ARM", SCMP_ARCH_ARM, "arm"},
    {"SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64, "arm64"},
    {"SCMP_ARCH_MIPS", SCMP_ARCH_MIPS, "mips"},
    {"SCMP_ARCH_MIPS64", SCMP_ARCH_MIPS64, "mips64"},
    {"SCMP_ARCH_MIPS64N32", SCMP_ARCH_MIPS64N32, "mips64n32"},
    {"SCMP_ARCH_MIPSEL", SCMP_ARCH_MIPSEL, "mipsel"},
    {"SCMP_ARCH_MIPSEL64", SCMP_ARCH_MIPSEL64, "mips64le"},
    {"SCMP_ARCH_MIPSEL64N32", SCMP_ARCH_MIPSEL64N32, "mips64n32le"},
    {"SCMP_ARCH_PPC", SCMP_ARCH_PPC, "ppc"},
    {"SCMP_ARCH_PPC64", SCMP_ARCH_PPC64, "ppc64"},
    {"SCMP_ARCH_PPC64LE", SCMP_ARCH_PPC64LE, "ppc64le"},
    {"SCMP_ARCH_S390", SCMP_ARCH_S390, "s390"},
    {"SCMP_ARCH_S390X", SCMP_ARCH_S390X, "s390x"},
    {"SCMP_ARCH_PARISC", SCMP_ARCH_PARISC, "parisc"},
    {"SCMP_ARCH_PARISC64", SCMP_ARCH_PARISC64, "parisc64"},
    {"SCMP_ARCH_RISCV64", SCMP_ARCH_RISCV64, "riscv64"},
};

static const struct arch_name *arch_by_name(const char *scmp)
{
  for (size_t i = 0; i < MK_ARRAY_SIZE(arches); i++)
    if (strcmp(arches[i].scmp, scmp) == 0)
      return &arches[i];
  return NULL;
}

static const char *go_arch_of(uint32_t token)
{
  for (size_t i = 0; i < MK_ARRAY_SIZE(arches); i++)
    if (arches[i].token == token)
      return arches[i].go;
  return "";
}

/* "<label>: <reason>"; returns -1. */
static int fail(const struct compiler *c, mk_error_t *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(const struct compiler *c, mk_error_t *err, const char *fmt, ...)
{
  char reason[512];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(reason, sizeof(reason), fmt, ap);
  va_end(ap);
  return mk_error_set(err, EINVAL, "%s: %s", c->label, reason);
}

/* ---- actions, operators, errno values ------------------------------- */

/* errnoRet (or defaultErrnoRet): EPERM when absent, as in Docker. */
static int errno_of(const struct compiler *c, json_t *value, const char *where,
                    uint32_t *out, mk_error_t *err)
{
  if (!value || json_is_null(value)) {
    *out = EPERM;
    return 0;
  }
  if (!json_is_integer(value) || json_integer_value(value) < 0 ||
      json_integer_value(value) > 4095)
    return fail(c, err, "%s: %s must be an errno number (0 to 4095)", where,
                "errnoRet");
  *out = (uint32_t)json_integer_value(value);
  return 0;
}

static int action_of(const struct compiler *c, json_t *name, json_t *errno_ret,
                     const char *where, uint32_t *out, mk_error_t *err)
{
  const char *s = json_string_value(name);
  uint32_t ret;

  if (!s)
    return fail(c, err, "%s: %s is missing or not a string", where, "action");
  if (errno_of(c, errno_ret, where, &ret, err) < 0)
    return -1;
  if (strcmp(s, "SCMP_ACT_ALLOW") == 0)
    *out = SCMP_ACT_ALLOW;
  else if (strcmp(s, "SCMP_ACT_ERRNO") == 0)
    *out = SCMP_ACT_ERRNO(ret);
  else if (strcmp(s, "SCMP_ACT_KILL") == 0 ||
           strcmp(s, "SCMP_ACT_KILL_THREAD") == 0)
    *out = SCMP_ACT_KILL_THREAD;
  else if (strcmp(s, "SCMP_ACT_KILL_PROCESS") == 0)
    *out = SCMP_ACT_KILL_PROCESS;
  else if (strcmp(s, "SCMP_ACT_TRAP") == 0)
    *out = SCMP_ACT_TRAP;
  else if (strcmp(s, "SCMP_ACT_TRACE") == 0)
    *out = SCMP_ACT_TRACE(ret);
  else if (strcmp(s, "SCMP_ACT_LOG") == 0)
    *out = SCMP_ACT_LOG;
  else
    return fail(c, err, "%s: unknown action \"%s\"", where, s);
  return 0;
}

static int op_of(const struct compiler *c, const char *s, const char *where,
                 enum scmp_compare *out, mk_error_t *err)
{
  static const struct {
    const char *name;
    enum scmp_compare op;
  } ops[] = {{"SCMP_CMP_NE", SCMP_CMP_NE},
             {"SCMP_CMP_LT", SCMP_CMP_LT},
             {"SCMP_CMP_LE", SCMP_CMP_LE},
             {"SCMP_CMP_EQ", SCMP_CMP_EQ},
             {"SCMP_CMP_GE", SCMP_CMP_GE},
             {"SCMP_CMP_GT", SCMP_CMP_GT},
             {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ}};

  for (size_t i = 0; s && i < MK_ARRAY_SIZE(ops); i++)
    if (strcmp(ops[i].name, s) == 0) {
      *out = ops[i].op;
      return 0;
    }
  return fail(c, err, "%s: unknown operator \"%s\"", where, s ? s : "(none)");
}

/* ---- architectures ---------------------------------------------------- */

static int add_arch(const struct compiler *c, json_t *name, mk_error_t *err)
{
  const char *s = json_string_value(name);
  const struct arch_name *a = s ? arch_by_name(s) : NULL;

  if (!a)
    return fail(c, err, "%s \"%s\"", "unknown architecture", s ? s : "(none)");
  int rc = seccomp_arch_add(c->sc, a->token);
  if (rc < 0 && rc != -EEXIST)
    return mk_error_sys(err, -rc, "%s: add architecture %s", c->label, s);
  return 0;
}

/* "architectures": every one listed. "archMap": the entry for the native
 * architecture and its subArchitectures (x86_64 brings x86 and x32). */
static int add_arches(const struct compiler *c, json_t *profile,
                      mk_error_t *err)
{
  size_t i, j;
  json_t *v, *entry, *sub;

  json_array_foreach(json_object_get(profile, "architectures"), i, v)
  {
    if (add_arch(c, v, err) < 0)
      return -1;
  }
  json_array_foreach(json_object_get(profile, "archMap"), i, entry)
  {
    json_t *main_arch = json_object_get(entry, "architecture");
    const char *s = json_string_value(main_arch);
    const struct arch_name *a = s ? arch_by_name(s) : NULL;
    if (!a)
      return fail(c, err, "archMap: %s \"%s\"", "unknown architecture",
                  s ? s : "(none)");
    if (a->token != c->native)
      continue;
    if (add_arch(c, main_arch, err) < 0)
      return -1;
    json_array_foreach(json_object_get(entry, "subArchitectures"), j, sub)
    {
      if (add_arch(c, sub, err) < 0)
        return -1;
    }
  }
  return 0;
}

/* ---- includes / excludes ---------------------------------------------- */

static int holds_cap(const struct compiler *c, json_t *name)
{
  int cap = json_is_string(name) ? mk_cap_parse(json_string_value(name)) : -1;

  /* names this system does not know are capabilities nobody holds */
  return cap >= 0 && cap < 64 && (c->caps & (1ULL << cap));
}

static int holds_all_caps(const struct compiler *c, json_t *caps)
{
  size_t i;
  json_t *v;

  json_array_foreach(caps, i, v)
  {
    if (!holds_cap(c, v))
      return 0;
  }
  return 1;
}

static int holds_any_cap(const struct compiler *c, json_t *caps)
{
  size_t i;
  json_t *v;

  json_array_foreach(caps, i, v)
  {
    if (holds_cap(c, v))
      return 1;
  }
  return 0;
}

static int native_in(const struct compiler *c, json_t *names)
{
  const char *native = go_arch_of(c->native);
  size_t i;
  json_t *v;

  json_array_foreach(names, i, v)
  {
    if (json_is_string(v) && strcmp(json_string_value(v), native) == 0)
      return 1;
  }
  return 0;
}

/* 1 if the kernel is at least "major.minor", 0 if older, -1 if malformed. */
static int kernel_at_least(const struct compiler *c, json_t *version)
{
  unsigned major, minor = 0;
  const char *s = json_string_value(version);

  if (!s || sscanf(s, "%u.%u", &major, &minor) < 1)
    return -1;
  return c->kernel_major > major ||
         (c->kernel_major == major && c->kernel_minor >= minor);
}

/* 1 if the rule applies to this workload, 0 if not, -1 on error. */
static int rule_applies(const struct compiler *c, json_t *rule,
                        const char *where, mk_error_t *err)
{
  json_t *inc = json_object_get(rule, "includes");
  json_t *exc = json_object_get(rule, "excludes");
  json_t *min_inc = json_object_get(inc, "minKernel");
  json_t *min_exc = json_object_get(exc, "minKernel");
  int at_least;

  if (!holds_all_caps(c, json_object_get(inc, "caps")) ||
      holds_any_cap(c, json_object_get(exc, "caps")))
    return 0;
  if ((json_array_size(json_object_get(inc, "arches")) &&
       !native_in(c, json_object_get(inc, "arches"))) ||
      native_in(c, json_object_get(exc, "arches")))
    return 0;
  if (min_inc && !json_is_null(min_inc) &&
      (at_least = kernel_at_least(c, min_inc)) != 1)
    return at_least < 0
               ? fail(c, err, "%s: invalid %s", where, "includes.minKernel")
               : 0;
  if (min_exc && !json_is_null(min_exc) &&
      (at_least = kernel_at_least(c, min_exc)) != 0)
    return at_least < 0
               ? fail(c, err, "%s: invalid %s", where, "excludes.minKernel")
               : 0;
  return 1;
}

/* ---- rules ------------------------------------------------------------ */

struct conditions {
  struct scmp_arg_cmp arg[6];
  unsigned n;
  int same_arg_twice; /* libseccomp cannot AND two tests of one arg */
};

static int parse_condition(const struct compiler *c, json_t *a,
                           const char *where, struct conditions *out,
                           mk_error_t *err)
{
  json_t *index = json_object_get(a, "index");
  json_t *value = json_object_get(a, "value");
  json_t *value_two = json_object_get(a, "valueTwo");
  struct scmp_arg_cmp *cmp = &out->arg[out->n];

  if (!json_is_integer(index) || json_integer_value(index) < 0 ||
      json_integer_value(index) > 5)
    return fail(c, err, "%s: %s must be an argument index from 0 to 5", where,
                "args[].index");
  if ((value && !json_is_integer(value)) ||
      (value_two && !json_is_integer(value_two)))
    return fail(c, err, "%s: %s must be integers", where,
                "args[].value and valueTwo");
  if (op_of(c, json_string_value(json_object_get(a, "op")), where, &cmp->op,
            err) < 0)
    return -1;
  cmp->arg = (unsigned)json_integer_value(index);
  /* MASKED_EQ: (arg & value) == valueTwo, libseccomp's (mask, datum) */
  cmp->datum_a = (scmp_datum_t)json_integer_value(value);
  cmp->datum_b = (scmp_datum_t)json_integer_value(value_two);
  for (unsigned i = 0; i < out->n; i++)
    out->same_arg_twice |= out->arg[i].arg == cmp->arg;
  out->n++;
  return 0;
}

static int parse_conditions(const struct compiler *c, json_t *args,
                            const char *where, struct conditions *out,
                            mk_error_t *err)
{
  size_t i;
  json_t *a;

  memset(out, 0, sizeof(*out));
  if (args && !json_is_null(args) && !json_is_array(args))
    return fail(c, err, "%s: %s must be an array", where, "args");
  if (json_array_size(args) > 6)
    return fail(c, err, "%s: %s", where, "more than 6 args");
  json_array_foreach(args, i, a)
  {
    if (parse_condition(c, a, where, out, err) < 0)
      return -1;
  }
  return 0;
}

static int add_syscall(const struct compiler *c, const char *name,
                       uint32_t action, const struct conditions *cond,
                       const char *where, mk_error_t *err)
{
  int nr = seccomp_syscall_resolve_name(name);
  int rc = 0;

  if (nr == __NR_SCMP_ERROR)
    return 0; /* not a syscall libseccomp knows: skipped, as Docker does */
  if (!cond->same_arg_twice)
    rc = seccomp_rule_add_array(c->sc, action, nr, cond->n, cond->arg);
  for (unsigned i = 0; cond->same_arg_twice && rc == 0 && i < cond->n; i++)
    rc = seccomp_rule_add_array(c->sc, action, nr, 1, &cond->arg[i]);
  if (rc < 0)
    return mk_error_sys(err, -rc, "%s: %s: add the rule for `%s`", c->label,
                        where, name);
  return 0;
}

static int add_names(const struct compiler *c, json_t *rule, uint32_t action,
                     const struct conditions *cond, const char *where,
                     mk_error_t *err)
{
  json_t *names = json_object_get(rule, "names");
  json_t *legacy = json_object_get(rule, "name");
  size_t i;
  json_t *v;

  if (legacy && !json_is_null(legacy) && !json_is_string(legacy))
    return fail(c, err, "%s: %s must be a string", where, "name");
  if (json_is_string(legacy) &&
      add_syscall(c, json_string_value(legacy), action, cond, where, err) < 0)
    return -1;
  if (names && !json_is_null(names) && !json_is_array(names))
    return fail(c, err, "%s: %s must be an array", where, "names");
  json_array_foreach(names, i, v)
  {
    if (!json_is_string(v))
      return fail(c, err, "%s: %s must be strings", where, "names");
    if (add_syscall(c, json_string_value(v), action, cond, where, err) < 0)
      return -1;
  }
  return 0;
}

static int add_rule(const struct compiler *c, json_t *rule, size_t index,
                    mk_error_t *err)
{
  char where[32];
  struct conditions cond;
  uint32_t action;

  snprintf(where, sizeof(where), "syscalls[%zu]", index);
  if (!json_is_object(rule))
    return fail(c, err, "%s: %s", where, "not an object");
  int applies = rule_applies(c, rule, where, err);
  if (applies <= 0)
    return applies;
  if (action_of(c, json_object_get(rule, "action"),
                json_object_get(rule, "errnoRet"), where, &action, err) < 0 ||
      parse_conditions(c, json_object_get(rule, "args"), where, &cond, err) < 0)
    return -1;
  if (action == c->default_action)
    return 0; /* libseccomp refuses it, and it changes nothing */
  return add_names(c, rule, action, &cond, where, err);
}

static int add_rules(const struct compiler *c, json_t *profile, mk_error_t *err)
{
  json_t *rules = json_object_get(profile, "syscalls");
  size_t i;
  json_t *rule;

  if (rules && !json_is_null(rules) && !json_is_array(rules))
    return fail(c, err, "%s %s", "syscalls", "must be an array");
  json_array_foreach(rules, i, rule)
  {
    if (add_rule(c, rule, i, err) < 0)
      return -1;
  }
  return 0;
}

/* ---- compiling ---------------------------------------------------------- */

/* Reads the program libseccomp generated back from a memfd. */
static int export_bpf(const struct compiler *c, uint8_t **bpf, size_t *len,
                      mk_error_t *err)
{
  _cleanup_close_ int fd = memfd_create("mocker-seccomp", MFD_CLOEXEC);
  struct stat st;
  int rc;

  if (fd < 0)
    return mk_error_sys(err, errno, "memfd_create");
  if ((rc = seccomp_export_bpf(c->sc, fd)) < 0)
    return mk_error_sys(err, -rc, "%s: generate the BPF program", c->label);
  if (fstat(fd, &st) < 0)
    return mk_error_sys(err, errno, "fstat the seccomp memfd");
  if (st.st_size == 0 || st.st_size % 8 || st.st_size > MK_MAX_SECCOMP_BYTES)
    return mk_error_set(err, E2BIG,
                        "%s: the BPF program is %lld bytes, more than the "
                        "kernel's limit of %d",
                        c->label, (long long)st.st_size, MK_MAX_SECCOMP_BYTES);
  _cleanup_free_ uint8_t *buf = malloc((size_t)st.st_size);
  if (!buf)
    return mk_error_set(err, ENOMEM, "out of memory");
  if (lseek(fd, 0, SEEK_SET) < 0 ||
      mk_read_all(fd, buf, (size_t)st.st_size) != st.st_size)
    return mk_error_sys(err, errno ? errno : EIO, "read the seccomp memfd");
  *len = (size_t)st.st_size;
  *bpf = steal_pointer(&buf);
  return 0;
}

static void kernel_version(unsigned *major, unsigned *minor)
{
  struct utsname u;

  *major = *minor = 0;
  if (uname(&u) == 0 && sscanf(u.release, "%u.%u", major, minor) < 2)
    *minor = 0;
}

static int setup_filter(struct compiler *c, json_t *profile, mk_error_t *err)
{
  json_t *def_errno = json_object_get(profile, "defaultErrnoRet");

  if (!json_is_object(profile))
    return fail(c, err, "%s %s", "the document", "is not a JSON object");
  if (action_of(c, json_object_get(profile, "defaultAction"), def_errno,
                "defaultAction", &c->default_action, err) < 0)
    return -1;
  c->sc = seccomp_init(c->default_action);
  if (!c->sc)
    return mk_error_set(err, EINVAL,
                        "%s: libseccomp refused the default action", c->label);
  /* a binary search over syscall numbers, not a 300-compare chain */
  (void)seccomp_attr_set(c->sc, SCMP_FLTATR_CTL_OPTIMIZE, 2);
  return 0;
}

static int build(const char *profile, size_t profile_len, const char *label,
                 uint64_t caps, uint8_t **bpf, size_t *len, mk_error_t *err)
{
  struct compiler c = {
      .label = label, .caps = caps, .native = seccomp_arch_native()};
  json_error_t jerr;
  json_t *doc = json_loadb(profile, profile_len, JSON_REJECT_DUPLICATES, &jerr);
  int rc;

  if (!doc)
    return mk_error_set(err, EINVAL, "%s: invalid JSON: line %d column %d: %s",
                        label, jerr.line, jerr.column, jerr.text);
  kernel_version(&c.kernel_major, &c.kernel_minor);
  rc = setup_filter(&c, doc, err) < 0 || add_arches(&c, doc, err) < 0 ||
               add_rules(&c, doc, err) < 0 || export_bpf(&c, bpf, len, err) < 0
           ? -1
           : 0;
  if (c.sc)
    seccomp_release(c.sc);
  json_decref(doc);
  return rc;
}

/* ---- cache ----------------------------------------------------------------
 */

/* sha256 over everything the program depends on: the profile, the caps,
 * the architecture, libseccomp's version and the kernel (minKernel, and
 * the actions libseccomp finds the kernel supports). Hashed with nettle
 * directly so the fuzz target need not link the image store. */
static void cache_key(const char *profile, size_t profile_len, uint64_t caps,
                      char hex[65])
{
  const struct scmp_version *v = seccomp_version();
  uint32_t native = seccomp_arch_native();
  struct sha256_ctx h;
  struct utsname u;
  uint8_t md[SHA256_DIGEST_SIZE];
  char meta[512];

  if (uname(&u) < 0)
    u.release[0] = '\0';
  int n = snprintf(meta, sizeof(meta), "%s\n%u.%u.%u\n%u\n%llu\n%s\n",
                   CACHE_FORMAT, v->major, v->minor, v->micro, native,
                   (unsigned long long)caps, u.release);
  sha256_init(&h);
  sha256_update(&h, (size_t)n < sizeof(meta) ? (size_t)n : sizeof(meta) - 1,
                (const uint8_t *)meta);
  sha256_update(&h, profile_len, (const uint8_t *)profile);
  sha256_digest(&h, sizeof(md), md);
  for (size_t i = 0; i < sizeof(md); i++)
    snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

static int cache_path(const char *cache_dir, const char *key,
                      char path[PATH_MAX])
{
  return mk_snprintf(path, PATH_MAX, "%s/%s.bpf", cache_dir, key);
}

/* Whether bytes look like a program init can install: whole instructions,
 * within the kernel's limit, ending with a return. */
static int plausible_program(const uint8_t *buf, size_t len)
{
  struct sock_filter last;

  if (len == 0 || len % sizeof(last) || len > MK_MAX_SECCOMP_BYTES)
    return 0;
  memcpy(&last, buf + len - sizeof(last), sizeof(last));
  return BPF_CLASS(last.code) == BPF_RET;
}

/* 1 and the program when the cache has a sound entry, else 0. */
static int cache_load(const char *cache_dir, const char *key, uint8_t **bpf,
                      size_t *len)
{
  char path[PATH_MAX];
  struct stat st;

  if (cache_path(cache_dir, key, path) < 0)
    return 0;
  _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
      st.st_size > MK_MAX_SECCOMP_BYTES)
    return 0;
  _cleanup_free_ uint8_t *buf = malloc((size_t)st.st_size);
  if (!buf || mk_read_all(fd, buf, (size_t)st.st_size) != st.st_size ||
      !plausible_program(buf, (size_t)st.st_size))
    return 0; /* corrupt: compiled again, and the rename replaces it */
  *len = (size_t)st.st_size;
  *bpf = steal_pointer(&buf);
  return 1;
}

/* Best effort: a cache that cannot be written only costs time. Written to
 * a temporary name, synced, then renamed, so a reader never sees half a
 * program, even after a crash. */
static void cache_store(const char *cache_dir, const char *key,
                        const uint8_t *bpf, size_t len)
{
  char path[PATH_MAX], tmp[PATH_MAX];

  /* the pid makes the name ours: no other live process writes it */
  if ((mkdir(cache_dir, 0700) < 0 && errno != EEXIST) ||
      cache_path(cache_dir, key, path) < 0 ||
      mk_snprintf(tmp, sizeof(tmp), "%s.tmp-%d", path, (int)getpid()) < 0)
    return;
  int fd =
      open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return;
  int ok = mk_write_all(fd, bpf, len) == 0 && fdatasync(fd) == 0;
  mk_close(fd);
  if (!ok || rename(tmp, path) < 0)
    unlink(tmp);
}

int mk_seccomp_compile(const char *cache_dir, const char *profile,
                       size_t profile_len, uint64_t caps, uint8_t **bpf,
                       size_t *len, mk_error_t *err)
{
  const char *label = profile ? "seccomp profile" : "default seccomp profile";
  char key[65];

  *bpf = NULL;
  *len = 0;
  if (!profile) {
    profile = mk_seccomp_default_profile;
    profile_len = mk_seccomp_default_profile_len;
  }
  if (cache_dir) {
    cache_key(profile, profile_len, caps, key);
    if (cache_load(cache_dir, key, bpf, len))
      return 0;
  }
  if (build(profile, profile_len, label, caps, bpf, len, err) < 0)
    return -1;
  if (cache_dir)
    cache_store(cache_dir, key, *bpf, *len);
  return 0;
}
