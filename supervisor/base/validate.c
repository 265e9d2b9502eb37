#include "validate.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <strings.h>

#include "mk_proto.h"

#define QUOTE_MAX 160 /* bytes of a value shown in a message */
#define QUOTED_SIZE (QUOTE_MAX * 4 + 8)

static int is_digit(char c)
{
  return c >= '0' && c <= '9';
}

static int is_alnum(char c)
{
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_control(char c)
{
  return (unsigned char)c < 0x20 || (unsigned char)c == 0x7f;
}

static int has_control(const char *s)
{
  for (; *s; s++)
    if (is_control(*s))
      return 1;
  return 0;
}

/* Appends the escaped form of c; returns the bytes written (0: no room). */
static size_t escape_char(char *out, size_t room, char c, char q)
{
  char tmp[5];
  int n;

  if (c == '\n')
    n = snprintf(tmp, sizeof(tmp), "\\n");
  else if (c == '\t')
    n = snprintf(tmp, sizeof(tmp), "\\t");
  else if (c == '\r')
    n = snprintf(tmp, sizeof(tmp), "\\r");
  else if (c == '\\' || c == q)
    n = snprintf(tmp, sizeof(tmp), "\\%c", c);
  else if (is_control(c))
    n = snprintf(tmp, sizeof(tmp), "\\x%02x", (unsigned char)c);
  else
    n = snprintf(tmp, sizeof(tmp), "%c", c);
  if ((size_t)n >= room)
    return 0;
  memcpy(out, tmp, (size_t)n);
  return (size_t)n;
}

const char *mk_quote_value(char *buf, size_t size, const char *s, char q)
{
  size_t len = 0, i;

  if (size < 6) {
    if (size)
      buf[0] = '\0';
    return buf;
  }
  buf[len++] = q;
  for (i = 0; i < QUOTE_MAX && s[i]; i++) {
    size_t n = escape_char(buf + len, size - len - 5, s[i], q);
    if (!n)
      break;
    len += n;
  }
  if (s[i])
    len += (size_t)snprintf(buf + len, size - len, "...");
  buf[len++] = q;
  buf[len] = '\0';
  return buf;
}

/* ---- byte sizes -------------------------------------------------------- */

struct decimal {
  unsigned long long whole; /* saturates at ULLONG_MAX */
  unsigned long long frac;  /* the first frac_digits fraction digits */
  int frac_digits, extra_digits;
};

/* Digits, then optionally '.' and digits; at least one digit in all.
 * Returns the first byte after it, or NULL when there is no number. */
static const char *scan_decimal(const char *p, struct decimal *d, int max_frac)
{
  const char *start = p;

  memset(d, 0, sizeof(*d));
  for (; is_digit(*p); p++)
    d->whole = d->whole > (ULLONG_MAX - 9) / 10
                   ? ULLONG_MAX
                   : d->whole * 10 + (unsigned)(*p - '0');
  if (*p == '.') {
    if (!is_digit(p[1]))
      return NULL;
    for (p++; is_digit(*p); p++) {
      if (d->frac_digits >= max_frac) {
        d->extra_digits++;
        continue;
      }
      d->frac = d->frac * 10 + (unsigned)(*p - '0');
      d->frac_digits++;
    }
  }
  return p == start ? NULL : p;
}

/* "k" -> 10, ...; -1 when c is not a unit letter. */
static int unit_shift(char c)
{
  static const char units[] = "bkmgtp";
  const char *u = c ? strchr(units, c | 0x20) : NULL;

  return u ? (int)(u - units) * 10 : -1;
}

/* The unit after the number: [bkmgtp]? then, after k..p, i? then b?. */
static int scan_unit(const char *p, int *shift)
{
  *shift = unit_shift(*p);
  if (*shift < 0) {
    *shift = 0;
    return *p == '\0';
  }
  p++;
  if (*shift > 0 && (*p | 0x20) == 'i')
    p++;
  if (*shift > 0 && (*p | 0x20) == 'b')
    p++;
  return *p == '\0';
}

static int size_error(const char *s, const char *why, mk_error_t *err)
{
  char q[QUOTED_SIZE];

  return mk_error_set(err, EINVAL, "invalid size: %s: %s",
                      mk_quote_value(q, sizeof(q), s, '\''), why);
}

int mk_parse_bytes(const char *s, long long *bytes, mk_error_t *err)
{
  struct decimal d;
  const char *p;
  int shift;

  if (!*s)
    return size_error(s, "empty", err);
  if (*s == '-')
    return size_error(s, "a size can't be negative", err);
  p = is_digit(*s) ? scan_decimal(s, &d, 18) : NULL;
  if (!p || !scan_unit(p, &shift))
    return size_error(s,
                      "want a number with an optional unit b, k, m, g, t "
                      "or p",
                      err);
  unsigned __int128 total = (unsigned __int128)d.whole << shift;
  unsigned __int128 scale = 1;
  for (int i = 0; i < d.frac_digits; i++)
    scale *= 10;
  total += ((unsigned __int128)d.frac << shift) / scale;
  if (d.whole == ULLONG_MAX || total > INT64_MAX)
    return size_error(s, "too large, the maximum is 8 EiB - 1 byte", err);
  *bytes = (long long)total;
  return 0;
}

/* ---- CPUs and integers ------------------------------------------------- */

/* The fraction (at most 9 digits) in billionths. */
static long long fraction_nanos(const struct decimal *d)
{
  long long f = (long long)d->frac;

  for (int i = d->frac_digits; i < 9; i++)
    f *= 10;
  return f;
}

/* Docker's --cpus takes 0 as "not given"; here 0 would silently mean no
 * limit, so it is refused with the rest of the range. */
int mk_parse_cpus(const char *s, long ncpus, long long *nano_cpus,
                  mk_error_t *err)
{
  char q[QUOTED_SIZE];
  struct decimal d;
  const char *end = scan_decimal(s, &d, 9);
  long long nano = -1;

  mk_quote_value(q, sizeof(q), s, '\'');
  if (!end || *end)
    return mk_error_set(err, EINVAL,
                        "invalid CPU quantity %s: want a decimal number such "
                        "as 1.5",
                        q);
  if (d.extra_digits)
    return mk_error_set(err, EINVAL,
                        "invalid CPU quantity %s: value is too precise", q);
  if (d.whole <= (unsigned long long)ncpus)
    nano = (long long)d.whole * 1000000000LL + fraction_nanos(&d);
  if (nano < 10000000LL || nano > (long long)ncpus * 1000000000LL)
    return mk_error_set(err, ERANGE,
                        "invalid CPU quantity %s: Range of CPUs is from 0.01 "
                        "to %ld.00, as there are only %ld CPUs available",
                        q, ncpus, ncpus);
  *nano_cpus = nano;
  return 0;
}

int mk_parse_int_range(const char *s, long long min, long long max,
                       long long *out, mk_error_t *err)
{
  char q[QUOTED_SIZE];
  int neg = *s == '-';
  const char *digits = s + neg;
  long long n = 0;

  mk_quote_value(q, sizeof(q), s, '"');
  if (!*digits || strspn(digits, "0123456789") != strlen(digits))
    return mk_error_set(err, EINVAL, "invalid integer %s", q);
  for (const char *p = digits; *p; p++) {
    int d = *p - '0';
    if (__builtin_mul_overflow(n, 10, &n) ||
        (neg ? __builtin_sub_overflow(n, d, &n)
             : __builtin_add_overflow(n, d, &n)))
      break;
    if (!p[1] && n >= min && n <= max) {
      *out = n;
      return 0;
    }
  }
  return mk_error_set(err, ERANGE, "%s is out of range (%lld to %lld)", q, min,
                      max);
}

/* ---- signals ----------------------------------------------------------- */

/* Linux numbers, Docker's names (moby/sys/signal, linux). */
static const struct {
  const char *name;
  int signo;
} signal_names[] = {
    {"HUP", 1},   {"INT", 2},     {"QUIT", 3},    {"ILL", 4},   {"TRAP", 5},
    {"ABRT", 6},  {"IOT", 6},     {"BUS", 7},     {"FPE", 8},   {"KILL", 9},
    {"USR1", 10}, {"SEGV", 11},   {"USR2", 12},   {"PIPE", 13}, {"ALRM", 14},
    {"TERM", 15}, {"STKFLT", 16}, {"CHLD", 17},   {"CLD", 17},  {"CONT", 18},
    {"STOP", 19}, {"TSTP", 20},   {"TTIN", 21},   {"TTOU", 22}, {"URG", 23},
    {"XCPU", 24}, {"XFSZ", 25},   {"VTALRM", 26}, {"PROF", 27}, {"WINCH", 28},
    {"IO", 29},   {"POLL", 29},   {"PWR", 30},    {"SYS", 31},
};

#define SIGNAL_RTMIN 34 /* glibc keeps 32 and 33; Docker's RTMIN too */

/* One or two digits, then the end: the number, or -1. */
static int small_number(const char *s)
{
  if (!is_digit(s[0]) || (s[1] && (!is_digit(s[1]) || s[2])))
    return -1;
  return s[1] ? (s[0] - '0') * 10 + (s[1] - '0') : s[0] - '0';
}

/* "RTMIN", "RTMIN+3", "RTMAX", "RTMAX-2": the number, or -1. */
static int realtime_signal(const char *s)
{
  int base = strncasecmp(s, "RTMIN", 5) == 0   ? SIGNAL_RTMIN
             : strncasecmp(s, "RTMAX", 5) == 0 ? MK_SIGNAL_MAX
                                               : -1;
  char sign = base == SIGNAL_RTMIN ? '+' : '-';
  int n;

  if (base < 0 || !s[5])
    return base;
  if (s[5] != sign || (n = small_number(s + 6)) < 0)
    return -1;
  n = sign == '+' ? base + n : base - n;
  return n >= SIGNAL_RTMIN && n <= MK_SIGNAL_MAX ? n : -1;
}

static int signal_by_name(const char *s)
{
  if (strncasecmp(s, "SIG", 3) == 0)
    s += 3;
  for (size_t i = 0; i < sizeof(signal_names) / sizeof(*signal_names); i++)
    if (strcasecmp(s, signal_names[i].name) == 0)
      return signal_names[i].signo;
  return realtime_signal(s);
}

int mk_parse_signo(const char *s, int *signo, mk_error_t *err)
{
  char q[QUOTED_SIZE];
  int n;

  long long number;
  mk_error_t ignored;

  mk_quote_value(q, sizeof(q), s, '\'');
  if (!*s)
    return mk_error_set(err, EINVAL, "invalid signal: %s: empty", q);
  if (is_digit(*s)) {
    if (mk_parse_int_range(s, 1, MK_SIGNAL_MAX, &number, &ignored) < 0)
      return mk_error_set(err, EINVAL,
                          "invalid signal: %s: signal numbers run from 1 to "
                          "%d",
                          q, MK_SIGNAL_MAX);
    n = (int)number;
  } else if ((n = signal_by_name(s)) < 0) {
    return mk_error_set(err, EINVAL, "invalid signal: %s: unknown signal name",
                        q);
  }
  *signo = n;
  return 0;
}

/* ---- hostnames --------------------------------------------------------- */

static int hostname_error(const char *s, const char *why, mk_error_t *err)
{
  char q[QUOTED_SIZE];

  return mk_error_set(err, EINVAL, "invalid hostname %s: %s",
                      mk_quote_value(q, sizeof(q), s, '\''), why);
}

/* One label of len bytes at p: NULL when valid, else why not. */
static const char *label_problem(const char *p, size_t len)
{
  if (len == 0)
    return "empty label (leading, trailing or doubled '.')";
  if (len > 63)
    return "a label is longer than 63 characters";
  if (p[0] == '-' || p[len - 1] == '-')
    return "a label starts or ends with '-'";
  for (size_t i = 0; i < len; i++)
    if (!is_alnum(p[i]) && p[i] != '-')
      return "only letters, digits, '-' and '.' are allowed (RFC 1123)";
  return NULL;
}

int mk_validate_hostname(const char *s, mk_error_t *err)
{
  if (!*s)
    return hostname_error(s, "empty", err);
  if (strlen(s) > MK_HOSTNAME_MAX)
    return hostname_error(s, "longer than 64 characters", err);
  for (const char *p = s;; p++) {
    size_t len = strcspn(p, ".");
    const char *why = label_problem(p, len);
    if (why)
      return hostname_error(s, why, err);
    p += len;
    if (!*p)
      return 0;
  }
}

/* ---- environment ------------------------------------------------------- */

int mk_validate_env_entry(const char *entry, mk_error_t *err)
{
  char q[QUOTED_SIZE];
  size_t len = strcspn(entry, "=");

  mk_quote_value(q, sizeof(q), entry, '\'');
  if (len == 0)
    return mk_error_set(
        err, EINVAL, "invalid environment variable: %s: the name is empty", q);
  for (size_t i = 0; i < len; i++)
    if (entry[i] == ' ' || is_control(entry[i]))
      return mk_error_set(err, EINVAL,
                          "invalid environment variable: %s: the name holds "
                          "a blank or control character",
                          q);
  return 0;
}

/* ---- container paths --------------------------------------------------- */

/* Why path is not an absolute container path, or NULL. */
static const char *container_path_problem(const char *path)
{
  if (path[0] != '/')
    return "it needs to be an absolute path";
  if (has_control(path))
    return "it holds a control character";
  if (strlen(path) >= PATH_MAX)
    return "it is longer than PATH_MAX";
  return NULL;
}

int mk_validate_workdir(const char *path, mk_error_t *err)
{
  char q[QUOTED_SIZE];
  const char *why = container_path_problem(path);

  if (!why)
    return 0;
  return mk_error_set(err, EINVAL, "the working directory %s is invalid, %s",
                      mk_quote_value(q, sizeof(q), path, '\''), why);
}

/* Whether path has a component that is exactly "..". */
static int has_dotdot(const char *path)
{
  for (const char *p = path; *p;) {
    size_t n = strcspn(p, "/");
    if (n == 2 && p[0] == '.' && p[1] == '.')
      return 1;
    p += n + (p[n] == '/');
  }
  return 0;
}

/* Whether path names "/" once cleaned: its components are all empty, "."
 * or "..". Docker refuses to mount over the container's root. */
static int is_root_path(const char *p)
{
  while (*p) {
    size_t n = strcspn(p, "/");
    if (n > 2 || (n && strncmp(p, "..", n) != 0))
      return 0;
    p += n + (p[n] == '/');
  }
  return 1;
}

/* ".." is refused outright rather than cleaned away: the mount is made
 * inside a rootfs that the image (and a running container) controls, so
 * what "a/.." means depends on symlinks at mount time, and a check made on
 * the text here could not hold for the path the kernel walks then. No
 * real image or command line needs "..". */
int mk_validate_mount_destination(const char *path, mk_error_t *err)
{
  char q[QUOTED_SIZE];
  const char *why = container_path_problem(path);

  mk_quote_value(q, sizeof(q), path, '\'');
  if (why && path[0] != '/')
    return mk_error_set(
        err, EINVAL, "invalid mount path: %s mount path must be absolute", q);
  if (why)
    return mk_error_set(err, EINVAL, "invalid mount path: %s: %s", q, why);
  if (is_root_path(path))
    return mk_error_set(err, EINVAL,
                        "invalid mount path: %s: destination can't be '/'", q);
  if (has_dotdot(path))
    return mk_error_set(err, EINVAL,
                        "invalid mount path: %s: '..' components are not "
                        "allowed",
                        q);
  return 0;
}

/* ---- container names --------------------------------------------------- */

const char *mk_container_name_problem(const char *name)
{
  size_t len = strlen(name);

  if (len > MK_CONTAINER_NAME_MAX)
    return "at most 128 characters are allowed";
  if (len < 2 || !is_alnum(name[0]))
    return "only [a-zA-Z0-9][a-zA-Z0-9_.-]+ are allowed";
  for (size_t i = 1; i < len; i++)
    if (!is_alnum(name[i]) && !strchr("_.-", name[i]))
      return "only [a-zA-Z0-9][a-zA-Z0-9_.-]+ are allowed";
  return NULL;
}

/* One number of a CPU list; *p moves past it. */
static int cpu_number(const char **p, long *out)
{
  long v = 0;
  const char *s = *p;

  if (!isdigit((unsigned char)*s))
    return -1;
  for (; isdigit((unsigned char)*s); s++) {
    v = v * 10 + (*s - '0');
    if (v >= MK_CPU_MAX)
      return -1;
  }
  *p = s;
  *out = v;
  return 0;
}

int mk_validate_cpuset(const char *s, mk_error_t *err)
{
  char q[QUOTED_SIZE];
  const char *p = s;
  long lo, hi;

  for (;;) {
    if (cpu_number(&p, &lo) < 0)
      break;
    hi = lo;
    if (*p == '-' && (p++, cpu_number(&p, &hi) < 0 || hi < lo))
      break;
    if (*p == '\0')
      return 0;
    if (*p++ != ',')
      break;
  }
  return mk_error_set(err, EINVAL,
                      "invalid cpuset %s: want CPU numbers below %d and "
                      "ranges LOW-HIGH, such as 0-3 or 0,1",
                      mk_quote_value(q, sizeof(q), s, '"'), MK_CPU_MAX);
}

int mk_parse_tmpfs_size(const char *s, char *out, size_t size, mk_error_t *err)
{
  char q[QUOTED_SIZE];
  size_t digits = strspn(s, "0123456789");
  long long bytes;

  if (digits > 0 && digits <= 3 && s[digits] == '%' && !s[digits + 1])
    return snprintf(out, size, "%s", s) < (int)size
               ? 0
               : mk_error_set(err, EINVAL, "tmpfs size too long");
  if (mk_parse_bytes(s, &bytes, err) < 0)
    return mk_error_prefix(err, "invalid tmpfs size %s",
                           mk_quote_value(q, sizeof(q), s, '"'));
  if (bytes <= 0)
    return mk_error_set(err, EINVAL, "invalid tmpfs size %s: must be positive",
                        mk_quote_value(q, sizeof(q), s, '"'));
  snprintf(out, size, "%lld", bytes);
  return 0;
}

int mk_valid_container_name(const char *name)
{
  return mk_container_name_problem(name) == NULL;
}

int mk_validate_container_name(const char *name, mk_error_t *err)
{
  char q[QUOTED_SIZE];
  const char *why = mk_container_name_problem(name);

  if (!why)
    return 0;
  return mk_error_set(err, EINVAL, "invalid container name %s: %s",
                      mk_quote_value(q, sizeof(q), name, '"'), why);
}

static const struct {
  const char *name;
  int resource;
} rlimit_names[] = {
    {"as", RLIMIT_AS},
    {"core", RLIMIT_CORE},
    {"cpu", RLIMIT_CPU},
    {"data", RLIMIT_DATA},
    {"fsize", RLIMIT_FSIZE},
    {"locks", RLIMIT_LOCKS},
    {"memlock", RLIMIT_MEMLOCK},
    {"msgqueue", RLIMIT_MSGQUEUE},
    {"nice", RLIMIT_NICE},
    {"nofile", RLIMIT_NOFILE},
    {"nproc", RLIMIT_NPROC},
    {"rss", RLIMIT_RSS},
    {"rtprio", RLIMIT_RTPRIO},
    {"rttime", RLIMIT_RTTIME},
    {"sigpending", RLIMIT_SIGPENDING},
    {"stack", RLIMIT_STACK},
};

int mk_rlimit_by_name(const char *name)
{
  for (size_t i = 0; name && i < sizeof(rlimit_names) / sizeof(rlimit_names[0]);
       i++)
    if (strcmp(name, rlimit_names[i].name) == 0)
      return rlimit_names[i].resource;
  return -1;
}

const char *mk_rlimit_name(int resource)
{
  for (size_t i = 0; i < sizeof(rlimit_names) / sizeof(rlimit_names[0]); i++)
    if (rlimit_names[i].resource == resource)
      return rlimit_names[i].name;
  return NULL;
}

int mk_mount_option(const char *opt, unsigned *flags, unsigned *propagation)
{
  static const struct {
    const char *name;
    unsigned set, clear;
  } words[] = {
      {"defaults", 0, 0},
      {"ro", MK_MNT_RDONLY, 0},
      {"rw", 0, MK_MNT_RDONLY},
      {"nosuid", MK_MNT_NOSUID, 0},
      {"suid", 0, MK_MNT_NOSUID},
      {"nodev", MK_MNT_NODEV, 0},
      {"dev", 0, MK_MNT_NODEV},
      {"noexec", MK_MNT_NOEXEC, 0},
      {"exec", 0, MK_MNT_NOEXEC},
      {"sync", MK_MNT_SYNC, 0},
      {"async", 0, MK_MNT_SYNC},
      {"dirsync", MK_MNT_DIRSYNC, 0},
      {"noatime", MK_MNT_NOATIME, MK_MNT_RELATIME | MK_MNT_STRICTATIME},
      {"atime", 0, MK_MNT_NOATIME},
      {"nodiratime", MK_MNT_NODIRATIME, 0},
      {"diratime", 0, MK_MNT_NODIRATIME},
      {"relatime", MK_MNT_RELATIME, MK_MNT_NOATIME | MK_MNT_STRICTATIME},
      {"norelatime", 0, MK_MNT_RELATIME},
      {"strictatime", MK_MNT_STRICTATIME, MK_MNT_NOATIME | MK_MNT_RELATIME},
      {"nostrictatime", 0, MK_MNT_STRICTATIME},
      {"bind", 0, MK_MNT_REC},
      {"rbind", MK_MNT_REC, 0},
  };
  static const struct {
    const char *name;
    unsigned prop;
  } props[] = {
      {"private", MK_PROP_PRIVATE},
      {"rprivate", MK_PROP_PRIVATE | MK_PROP_REC},
      {"shared", MK_PROP_SHARED},
      {"rshared", MK_PROP_SHARED | MK_PROP_REC},
      {"slave", MK_PROP_SLAVE},
      {"rslave", MK_PROP_SLAVE | MK_PROP_REC},
      {"unbindable", MK_PROP_UNBINDABLE},
      {"runbindable", MK_PROP_UNBINDABLE | MK_PROP_REC},
  };

  for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
    if (strcmp(opt, words[i].name) == 0) {
      *flags = (*flags | words[i].set) & ~words[i].clear;
      return 1;
    }
  for (size_t i = 0; i < sizeof(props) / sizeof(props[0]); i++)
    if (strcmp(opt, props[i].name) == 0) {
      *propagation = props[i].prop;
      return 1;
    }
  return 0;
}

int mk_tmpfs_option(const char *opt, unsigned *flags, struct mk_strv *data,
                    mk_error_t *err)
{
  static const struct {
    const char *name;
    unsigned set, clear;
  } table[] = {
      {"ro", MK_MNT_RDONLY, 0},     {"rw", 0, MK_MNT_RDONLY},
      {"nosuid", MK_MNT_NOSUID, 0}, {"suid", 0, MK_MNT_NOSUID},
      {"nodev", MK_MNT_NODEV, 0},   {"dev", 0, MK_MNT_NODEV},
      {"noexec", MK_MNT_NOEXEC, 0}, {"exec", 0, MK_MNT_NOEXEC},
  };
  char size[32];

  for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
    if (strcmp(opt, table[i].name) == 0) {
      *flags = (*flags | table[i].set) & ~table[i].clear;
      return 1;
    }
  if (strncmp(opt, "size=", 5) != 0)
    return 0;
  if (mk_parse_tmpfs_size(opt + 5, size, sizeof(size), err) < 0)
    return -1;
  mk_strv_pushf(data, "size=%s", size);
  return 1;
}
