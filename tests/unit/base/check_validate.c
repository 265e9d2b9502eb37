/* Unit tests for supervisor/base/validate: every validator over a table of good
 * and bad values (overflow, empty, NaN and infinity, negative, control
 * characters), then every numeric and string flag of `mocker run` through
 * the real parser with the same kinds of values, and --env-file on files
 * that are not regular. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <check.h>

#include "unit_main.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "mk_util.h"
#include "unit_run_args.h"
#include "base/validate.h"

#define NO_MSG NULL

/* A refusal: -1, and a message naming the value's kind (want). */
static void assert_refused(int rc, const mk_error_t *err, const char *input,
                           const char *want)
{
  ck_assert_msg(rc == -1, "`%s` was accepted", input);
  ck_assert_msg(err->msg[0] != '\0', "`%s`: refused without a message", input);
  ck_assert_msg(!want || strstr(err->msg, want),
                "`%s`: message `%s` lacks `%s`", input, err->msg, want);
}

/* ---- byte sizes ------------------------------------------------------ */

static const struct {
  const char *in;
  long long want; /* -1: refused */
} byte_cases[] = {
    {"0", 0},
    {"4096", 4096},
    {"1b", 1},
    {"10B", 10},
    {"8k", 8192},
    {"8kb", 8192},
    {"6m", 6LL << 20},
    {"512M", 512LL << 20},
    {"1g", 1LL << 30},
    {"1gb", 1LL << 30},
    {"1GiB", 1LL << 30},
    {"1.5g", 3LL << 29},
    {"2t", 2LL << 40},
    {"8191p", 8191LL << 50},
    {"9223372036854775807", LLONG_MAX},
    /* overflow */
    {"9223372036854775808", -1},
    {"18446744073709551615", -1},
    {"99999999999999999999999", -1},
    {"17179869184g", -1},
    {"8192p", -1},
    /* empty, negative, not a number */
    {"", -1},
    {"-1", -1},
    {"-1m", -1},
    {"nan", -1},
    {"inf", -1},
    {"1e3", -1},
    {"0x10", -1},
    {"+1", -1},
    {".5", -1},
    {"1.", -1},
    {"1..5", -1},
    {"5x", -1},
    {"1kk", -1},
    {"1bb", -1},
    {"1i", -1},
    {"k", -1},
    {"1 m", -1},
    /* control characters and blanks */
    {" 1", -1},
    {"1 ", -1},
    {"1\n", -1},
    {"\t1", -1},
    {"1\x01", -1},
    {"6m\nx", -1},
};

START_TEST(test_bytes)
{
  for (size_t i = 0; i < MK_ARRAY_SIZE(byte_cases); i++) {
    mk_error_t err = {0};
    long long n = -2;
    int rc = mk_parse_bytes(byte_cases[i].in, &n, &err);
    if (byte_cases[i].want < 0) {
      assert_refused(rc, &err, byte_cases[i].in, "invalid size");
      ck_assert_int_eq(n, -2);
    } else {
      ck_assert_msg(rc == 0, "`%s`: %s", byte_cases[i].in, err.msg);
      ck_assert_int_eq(n, byte_cases[i].want);
    }
  }
}
END_TEST

/* The message names the value and says why. */
START_TEST(test_bytes_message)
{
  mk_error_t err = {0};
  long long n;

  ck_assert_int_eq(mk_parse_bytes("99999999999999999999999", &n, &err), -1);
  ck_assert_str_eq(err.msg, "invalid size: '99999999999999999999999': too "
                            "large, the maximum is 8 EiB - 1 byte");
  ck_assert_int_eq(mk_parse_bytes("-1", &n, &err), -1);
  ck_assert_ptr_nonnull(strstr(err.msg, "negative"));
  ck_assert_int_eq(mk_parse_bytes("", &n, &err), -1);
  ck_assert_ptr_nonnull(strstr(err.msg, "empty"));
  ck_assert_int_eq(mk_parse_bytes("1\n", &n, &err), -1);
  ck_assert_ptr_nonnull(strstr(err.msg, "'1\\n'"));
}
END_TEST

/* ---- CPUs --------------------------------------------------------------- */

static const struct {
  const char *in;
  long long want; /* nano CPUs with 4 CPUs; -1: refused */
} cpu_cases[] = {
    {"1.5", 1500000000LL},
    {"0.01", 10000000LL},
    {"0.5", 500000000LL},
    {".5", 500000000LL},
    {"4", 4000000000LL},
    {"4.0", 4000000000LL},
    {"1.123456789", 1123456789LL},
    {"", -1},
    {"nan", -1},
    {"NaN", -1},
    {"inf", -1},
    {"-inf", -1},
    {"-1", -1},
    {"-0.5", -1},
    {"0", -1},
    {"0.0", -1},
    {"0.0000001", -1},
    {"0.009", -1},
    {"4.000000001", -1},
    {"5", -1},
    {"99999999999999999999999", -1},
    {"1e3", -1},
    {"0x1p0", -1},
    {"1.1234567891", -1},
    {"1.", -1},
    {".", -1},
    {" 1", -1},
    {"1\n", -1},
    {"\t1", -1},
    {"1\x01", -1},
};

START_TEST(test_cpus)
{
  for (size_t i = 0; i < MK_ARRAY_SIZE(cpu_cases); i++) {
    mk_error_t err = {0};
    long long n = -2;
    int rc = mk_parse_cpus(cpu_cases[i].in, 4, &n, &err);
    if (cpu_cases[i].want < 0) {
      assert_refused(rc, &err, cpu_cases[i].in, "invalid CPU quantity");
      ck_assert_int_eq(n, -2);
    } else {
      ck_assert_msg(rc == 0, "`%s`: %s", cpu_cases[i].in, err.msg);
      ck_assert_int_eq(n, cpu_cases[i].want);
    }
  }
}
END_TEST

START_TEST(test_cpus_message)
{
  mk_error_t err = {0};
  long long n;

  ck_assert_int_eq(mk_parse_cpus("0.0000001", 2, &n, &err), -1);
  ck_assert_ptr_nonnull(strstr(err.msg, "Range of CPUs is from 0.01 to 2.00, "
                                        "as there are only 2 CPUs available"));
  ck_assert_int_eq(mk_parse_cpus("1.0000000001", 2, &n, &err), -1);
  ck_assert_ptr_nonnull(strstr(err.msg, "too precise"));
}
END_TEST

/* ---- integers ----------------------------------------------------------- */

static const struct {
  const char *in;
  long long min, max;
  int ok;
  long long want;
} int_cases[] = {
    {"5", 0, 10, 1, 5},
    {"0", 0, 10, 1, 0},
    {"10", 0, 10, 1, 10},
    {"-1", -1, 10, 1, -1},
    {"007", 0, 10, 1, 7},
    {"9223372036854775807", 0, LLONG_MAX, 1, LLONG_MAX},
    {"-9223372036854775808", LLONG_MIN, 0, 1, LLONG_MIN},
    {"11", 0, 10, 0, 0},
    {"-2", -1, 10, 0, 0},
    {"9223372036854775808", 0, LLONG_MAX, 0, 0},
    {"-9223372036854775809", LLONG_MIN, 0, 0, 0},
    {"99999999999999999999999", 0, LLONG_MAX, 0, 0},
    {"", 0, 10, 0, 0},
    {"-", -1, 10, 0, 0},
    {"+5", 0, 10, 0, 0},
    {" 5", 0, 10, 0, 0},
    {"5 ", 0, 10, 0, 0},
    {"5\n", 0, 10, 0, 0},
    {"\t5", 0, 10, 0, 0},
    {"5\x01", 0, 10, 0, 0},
    {"0x5", 0, 10, 0, 0},
    {"nan", 0, 10, 0, 0},
    {"1.0", 0, 10, 0, 0},
};

START_TEST(test_int_range)
{
  for (size_t i = 0; i < MK_ARRAY_SIZE(int_cases); i++) {
    mk_error_t err = {0};
    long long n = 12345;
    int rc = mk_parse_int_range(int_cases[i].in, int_cases[i].min,
                                int_cases[i].max, &n, &err);
    if (!int_cases[i].ok) {
      assert_refused(rc, &err, int_cases[i].in, NO_MSG);
      ck_assert_int_eq(n, 12345);
    } else {
      ck_assert_msg(rc == 0, "`%s`: %s", int_cases[i].in, err.msg);
      ck_assert_int_eq(n, int_cases[i].want);
    }
  }
}
END_TEST

/* ---- signals ------------------------------------------------------------ */

static const struct {
  const char *in;
  int want; /* -1: refused */
} signal_cases[] = {
    {"SIGTERM", 15},
    {"TERM", 15},
    {"term", 15},
    {"sigusr1", 10},
    {"SIGUSR1", 10},
    {"KILL", 9},
    {"SIGHUP", 1},
    {"SIGWINCH", 28},
    {"SIGCLD", 17},
    {"9", 9},
    {"1", 1},
    {"64", 64},
    {"015", 15},
    {"RTMIN", 34},
    {"SIGRTMIN+3", 37},
    {"RTMAX", 64},
    {"RTMAX-2", 62},
    {"", -1},
    {"SIG", -1},
    {"SIGFOO", -1},
    {"FOO", -1},
    {"0", -1},
    {"65", -1},
    {"9999", -1},
    {"99999999999999999999999", -1},
    {"-9", -1},
    {"+9", -1},
    {"nan", -1},
    {" 9", -1},
    {"9\n", -1},
    {"\tKILL", -1},
    {"KILL\x01", -1},
    {"SIG TERM", -1},
    {"RTMIN+", -1},
    {"RTMIN+31", -1},
    {"RTMIN-1", -1},
    {"RTMAX+1", -1},
    {"RTMAX-31", -1},
    {"RTMIN+1x", -1},
};

START_TEST(test_signals)
{
  for (size_t i = 0; i < MK_ARRAY_SIZE(signal_cases); i++) {
    mk_error_t err = {0};
    int n = -2;
    int rc = mk_parse_signo(signal_cases[i].in, &n, &err);
    if (signal_cases[i].want < 0) {
      assert_refused(rc, &err, signal_cases[i].in, "invalid signal");
      ck_assert_int_eq(n, -2);
    } else {
      ck_assert_msg(rc == 0, "`%s`: %s", signal_cases[i].in, err.msg);
      ck_assert_int_eq(n, signal_cases[i].want);
    }
  }
}
END_TEST

/* ---- string kinds ------------------------------------------------------- */

typedef int (*string_validator)(const char *s, mk_error_t *err);

struct string_case {
  const char *in;
  int ok;
};

static void check_strings(string_validator fn, const struct string_case *c,
                          size_t n, const char *want)
{
  for (size_t i = 0; i < n; i++) {
    mk_error_t err = {0};
    int rc = fn(c[i].in, &err);
    if (c[i].ok)
      ck_assert_msg(rc == 0, "`%s`: %s", c[i].in, err.msg);
    else
      assert_refused(rc, &err, c[i].in, want);
  }
}

static char long_label[80], long_host[80], host64[80], name128[200],
    name129[200], name300[400], long_path[PATH_MAX + 16];

static void fill(char *buf, char c, size_t n)
{
  memset(buf, c, n);
  buf[n] = '\0';
}

static void make_long_values(void)
{
  fill(long_label, 'a', 64);
  fill(host64, 'a', 64);
  host64[62] = '.'; /* labels of 62 and 1 */
  fill(long_host, 'a', 65);
  long_host[30] = '.';
  fill(name128, 'n', 128);
  fill(name129, 'n', 129);
  fill(name300, 'n', 300);
  fill(long_path, 'p', PATH_MAX + 8);
  long_path[0] = '/';
}

START_TEST(test_hostnames)
{
  make_long_values();
  const struct string_case cases[] = {
      {"web", 1},      {"x", 1},
      {"0abc", 1},     {"a-b.example.com", 1},
      {"Web-01", 1},   {host64, 1},
      {"", 0},         {"x\n6.6.6.6 evil.example", 0},
      {"a b", 0},      {"a\tb", 0},
      {"\x01", 0},     {"a\x7f", 0},
      {"-a", 0},       {"a-", 0},
      {"a..b", 0},     {".a", 0},
      {"a.", 0},       {"a_b", 0},
      {"a/b", 0},      {"caf\xc3\xa9", 0},
      {long_label, 0}, {long_host, 0},
  };

  check_strings(mk_validate_hostname, cases, MK_ARRAY_SIZE(cases),
                "invalid hostname");
}
END_TEST

START_TEST(test_hostname_message)
{
  mk_error_t err = {0};

  ck_assert_int_eq(mk_validate_hostname("x\n6.6.6.6 evil.example", &err), -1);
  ck_assert_ptr_nonnull(strstr(err.msg, "'x\\n6.6.6.6 evil.example'"));
}
END_TEST

START_TEST(test_env_entries)
{
  const struct string_case cases[] = {
      {"A=1", 1},    {"A", 1},        {"A=", 1},      {"A==b", 1},
      {"A=x\ny", 1}, {"A=a b\tc", 1}, {"_X=1", 1},    {"a.b-c=1", 1},
      {"=x", 0},     {"=", 0},        {"", 0},        {"A B=1", 0},
      {"A\n=1", 0},  {"A\t=1", 0},    {"\x01A=1", 0}, {" A=1", 0},
      {"A\nB", 0},
  };

  check_strings(mk_validate_env_entry, cases, MK_ARRAY_SIZE(cases),
                "invalid environment variable");
}
END_TEST

START_TEST(test_workdirs)
{
  make_long_values();
  const struct string_case cases[] = {
      {"/", 1},     {"/srv/app", 1}, {"/a/../b", 1}, {"/a b", 1},
      {"", 0},      {"rel", 0},      {"./x", 0},     {"/a\nb", 0},
      {"/a\tb", 0}, {"/\x01", 0},    {long_path, 0},
  };

  check_strings(mk_validate_workdir, cases, MK_ARRAY_SIZE(cases),
                "the working directory");
}
END_TEST

START_TEST(test_mount_destinations)
{
  make_long_values();
  const struct string_case cases[] = {
      {"/data", 1},   {"/a/b/", 1},   {"/a/./b", 1},  {"/a..b", 1},
      {"/..a", 1},    {"/...", 1},    {"/a b", 1},    {"", 0},
      {"rel", 0},     {"data/x", 0},  {"/", 0},       {"//", 0},
      {"/.", 0},      {"/./..", 0},   {"/bin/..", 0}, {"/../etc", 0},
      {"/a/../b", 0}, {"/a/..", 0},   {"/a\n", 0},    {"/a\tb", 0},
      {"/\x01", 0},   {long_path, 0},
  };

  check_strings(mk_validate_mount_destination, cases, MK_ARRAY_SIZE(cases),
                "invalid mount path");
}
END_TEST

START_TEST(test_container_names)
{
  make_long_values();
  const struct string_case cases[] = {
      {"ab", 1},          {"a1", 1},    {"0abc", 1},  {"my_container.v2-x", 1},
      {name128, 1},       {"", 0},      {"a", 0},     {"_ab", 0},
      {".ab", 0},         {"-ab", 0},   {"a b", 0},   {"a/b", 0},
      {"../x", 0},        {"ab\n", 0},  {"a\tb", 0},  {"a\x01", 0},
      {"caf\xc3\xa9", 0}, {name129, 0}, {name300, 0},
  };

  check_strings(mk_validate_container_name, cases, MK_ARRAY_SIZE(cases),
                "invalid container name");
  for (size_t i = 0; i < MK_ARRAY_SIZE(cases); i++)
    ck_assert_int_eq(mk_valid_container_name(cases[i].in), cases[i].ok);
}
END_TEST

START_TEST(test_long_name_message)
{
  mk_error_t err = {0};

  make_long_values();
  ck_assert_int_eq(mk_validate_container_name(name300, &err), -1);
  ck_assert_ptr_nonnull(strstr(err.msg, "at most 128 characters"));
  ck_assert_ptr_null(strstr(err.msg, "Conflict"));
}
END_TEST

START_TEST(test_quote_value)
{
  char buf[1024];

  ck_assert_str_eq(mk_quote_value(buf, sizeof(buf), "a\nb\t\x01\"", '"'),
                   "\"a\\nb\\t\\x01\\\"\"");
  ck_assert_str_eq(mk_quote_value(buf, sizeof(buf), "it's", '\''), "'it\\'s'");
  make_long_values();
  mk_quote_value(buf, sizeof(buf), name300, '"');
  ck_assert_uint_eq(strlen(buf), 160 + 3 + 2);
  ck_assert_ptr_nonnull(strstr(buf, "n...\""));
  mk_quote_value(buf, 8, "abcdefghij", '"'); /* never overflows */
  ck_assert_uint_lt(strlen(buf), 8);
}
END_TEST

/* ---- every numeric and string flag, through the run parser -------------- */

static const struct {
  const char *flag, *value;
  const char *want; /* NULL: accepted; else a part of the message */
} flag_cases[] = {
    {"--memory", "6m", NULL},
    {"-m", "1g", NULL},
    {"--memory", "1.5GiB", NULL},
    {"--memory", "99999999999999999999999",
     "invalid argument \"99999999999999999999999\" for \"-m, --memory\" "
     "flag: invalid size"},
    {"--memory", "18446744073709551615", "too large"},
    {"--memory", "17179869184g", "too large"},
    {"--memory", "", "empty"},
    {"--memory", "-1", "negative"},
    {"--memory", "nan", "invalid size"},
    {"--memory", "1m", "Minimum memory limit allowed is 6MB"},
    {"--memory-swap", "-1", "Memoryswap"}, /* needs -m: checked below */
    {"--memory-swap", "-2", "invalid size"},
    {"--memory-swap", "99999999999999999999999", "too large"},
    {"--memory-reservation", "64m", NULL},
    {"--memory-reservation", "inf", "invalid size"},
    {"--cpus", "1", NULL},
    {"--cpus", "0.5", NULL},
    {"--cpus", "nan", "for \"--cpus\" flag"},
    {"--cpus", "inf", "invalid CPU quantity"},
    {"--cpus", "-1", "invalid CPU quantity"},
    {"--cpus", "0.0000001", "Range of CPUs is from 0.01"},
    {"--cpus", "", "invalid CPU quantity"},
    {"--cpus", "99999999999999999999999", "Range of CPUs"},
    {"--cpu-shares", "512", NULL},
    {"-c", "99999999999999999999", "for \"-c, --cpu-shares\" flag"},
    {"--cpu-shares", "-1", "out of range"},
    {"--cpu-shares", "", "invalid integer"},
    {"--pids-limit", "-1", NULL},
    {"--pids-limit", "100", NULL},
    {"--pids-limit", "-2", "out of range"},
    {"--pids-limit", "9999999999999999999999", "out of range"},
    {"--blkio-weight", "500", NULL},
    {"--blkio-weight", "5", "the range is from 10 to 1000"},
    {"--blkio-weight", "1001", "--blkio-weight"},
    {"--cpuset-cpus", "0-1", NULL},
    {"--cpuset-cpus", "", "--cpuset-cpus"},
    {"--cpuset-cpus", "0,2-3", NULL},
    {"--cpuset-cpus", ",,,-", "invalid cpuset"},
    {"--cpuset-cpus", "3-1", "invalid cpuset"},
    {"--cpuset-cpus", "0-", "invalid cpuset"},
    {"--cpuset-cpus", "99999999999999999999", "below 8192"},
    {"--cpuset-cpus", "1\n2", "invalid cpuset"},
    {"--stop-timeout", "30", NULL},
    {"--stop-timeout", "-1", NULL},
    {"--stop-timeout", "-2", "--stop-timeout"},
    {"--stop-timeout", "99999999999999999999", "out of range"},
    {"--stop-signal", "SIGUSR1", NULL},
    {"--stop-signal", "9", NULL},
    {"--stop-signal", "SIGRTMIN+3", NULL},
    {"--stop-signal", "SIGFOO",
     "invalid argument \"SIGFOO\" for \"--stop-signal\" flag: invalid "
     "signal"},
    {"--stop-signal", "9999", "signal numbers run from 1 to 64"},
    {"--stop-signal", "", "invalid signal"},
    {"--stop-signal", "-1", "invalid signal"},
    {"--hostname", "web", NULL},
    {"-h", "x\n6.6.6.6 evil.example",
     "invalid argument \"x\\n6.6.6.6 evil.example\" for \"-h, --hostname\" "
     "flag: invalid hostname"},
    {"--hostname", "", "invalid hostname"},
    {"--hostname", "a b", "invalid hostname"},
    {"-e", "A=1", NULL},
    {"-e", "=x",
     "invalid argument \"=x\" for \"-e, --env\" flag: invalid environment "
     "variable: '=x'"},
    {"-e", "", "the name is empty"},
    {"--env", "A B=1", "blank or control"},
    {"--name", "web", NULL},
    {"--name", "", "invalid container name"},
    {"-w", "/srv", NULL},
    {"-w", "", "needs to be an absolute path"},
    {"-v", "myvol:/data", NULL},
    {"-v", "myvol:/bin/..", "'..' components are not allowed"},
    {"-v", "/srv:/a/../etc", "'..'"},
    {"-v", "myvol:/", "destination can't be '/'"},
    {"--tmpfs", "/scratch:size=1m", NULL},
    {"--tmpfs", "/scratch:size=50%", NULL},
    {"--tmpfs", "/scratch:size=18446744073709551616", "too large"},
    {"--tmpfs", "/scratch:size=99999999999999999999999", "too large"},
    {"--tmpfs", "/scratch:size=", "invalid tmpfs size"},
    {"--tmpfs", "/scratch:size=0", "must be positive"},
    {"--tmpfs", "/scratch:size=nan", "invalid tmpfs size"},
    {"--tmpfs", "/a/..", "'..'"},
    {"--log-opt", "max-size=1m", NULL},
    {"--log-opt", "max-size=99999999999999999999999", "max-size"},
    {"--log-opt", "max-size=-1", "max-size"},
};

START_TEST(test_flags)
{
  for (size_t i = 0; i < MK_ARRAY_SIZE(flag_cases); i++) {
    struct mk_run_opts o;
    mk_error_t err;
    const char *want = flag_cases[i].want;
    int rc = PARSE(o, err, flag_cases[i].flag, flag_cases[i].value, "busybox");
    if (!want)
      ck_assert_msg(rc == 0, "%s `%s`: %s", flag_cases[i].flag,
                    flag_cases[i].value, err.msg);
    else
      ck_assert_msg(rc == -1 && strstr(err.msg, want),
                    "%s `%s`: rc %d, message `%s` lacks `%s`",
                    flag_cases[i].flag, flag_cases[i].value, rc, err.msg, want);
    mk_run_opts_free(&o);
  }
}
END_TEST

/* The parsed values of good flags: what the container gets. */
START_TEST(test_flag_values)
{
  struct mk_run_opts o;
  mk_error_t err;

  ASSERT_PARSE_OK(
      o, err, "-m", "6m", "--memory-swap", "-1", "--memory-reservation", "1.5g",
      "--cpus", "0.25", "--pids-limit", "-1", "--stop-signal", "SIGUSR1",
      "--stop-timeout", "7", "--log-opt", "max-size=1GiB", "busybox");
  ck_assert_int_eq(o.spec.resources.memory, 6LL << 20);
  ck_assert_int_eq(o.spec.resources.memory_swap, -1);
  ck_assert_int_eq(o.spec.resources.memory_reservation, 3LL << 29);
  ck_assert_int_eq(o.spec.resources.nano_cpus, 250000000LL);
  ck_assert_int_eq(o.spec.resources.pids_limit, -1);
  ck_assert_str_eq(o.spec.stop_signal, "SIGUSR1");
  ck_assert_int_eq(o.spec.stop_timeout, 7);
  ck_assert_int_eq(o.spec.log_max_size, 1LL << 30);
  mk_run_opts_free(&o);
}
END_TEST

/* Each flag with a good value refuses the same value with a control
 * character before or after it: nothing is trimmed or half-parsed. */
static const struct {
  const char *flag, *good;
} string_flags[] = {
    {"--memory", "64m"},
    {"--memory-swap", "128m"},
    {"--memory-reservation", "32m"},
    {"--cpus", "0.5"},
    {"--cpu-shares", "512"},
    {"--pids-limit", "50"},
    {"--blkio-weight", "500"},
    {"--cpuset-cpus", "0"},
    {"--stop-timeout", "5"},
    {"--stop-signal", "TERM"},
    {"--hostname", "web"},
    {"--name", "web"},
    {"-w", "/srv"},
    {"-v", "vol:/data"},
    {"--tmpfs", "/scratch"},
    {"--log-opt", "max-size=1m"},
};

static const char *const taints[][2] = {
    {"", "\n"}, {"", "\t"}, {"", "\x01"}, {"", "\x7f"},
    {"\n", ""}, {"\t", ""}, {"\x01", ""}, {"\r", ""},
};

/* flag=value (with the -m that --memory-swap needs) then the image. */
static int parse_flag(struct mk_run_opts *o, mk_error_t *err, const char *flag,
                      const char *value)
{
  if (strcmp(flag, "--memory-swap") == 0)
    return parse(o, err, "-m", "64m", flag, value, "busybox", NULL);
  return parse(o, err, flag, value, "busybox", NULL);
}

START_TEST(test_flags_refuse_control_characters)
{
  for (size_t i = 0; i < MK_ARRAY_SIZE(string_flags); i++) {
    const char *flag = string_flags[i].flag;
    struct mk_run_opts o;
    mk_error_t err;
    char value[64];

    ck_assert_msg(parse_flag(&o, &err, flag, string_flags[i].good) == 0,
                  "%s %s: %s", flag, string_flags[i].good, err.msg);
    mk_run_opts_free(&o);
    for (size_t t = 0; t < MK_ARRAY_SIZE(taints); t++) {
      snprintf(value, sizeof(value), "%s%s%s", taints[t][0],
               string_flags[i].good, taints[t][1]);
      ck_assert_msg(parse_flag(&o, &err, flag, value) == -1, "%s accepted `%s`",
                    flag, value);
      ck_assert(err.msg[0] != '\0');
      mk_run_opts_free(&o);
    }
  }
}
END_TEST

/* env names with control characters, and -e NAME (no '=') as before. */
START_TEST(test_env_flag)
{
  struct mk_run_opts o;
  mk_error_t err;

  ASSERT_PARSE_FAILS("invalid environment variable", "-e", "A\n=1", "busybox");
  ASSERT_PARSE_FAILS("invalid environment variable", "-e", "\tA=1", "busybox");
  ASSERT_PARSE_FAILS("invalid environment variable", "-e", "A\x01=1",
                     "busybox");
  ck_assert_int_eq(setenv("MK_VAL_HOSTVAR", "host", 1), 0);
  ck_assert_int_eq(unsetenv("MK_VAL_UNSET"), 0);
  ASSERT_PARSE_OK(o, err, "-e", "MK_VAL_HOSTVAR", "-e", "MK_VAL_UNSET", "-e",
                  "V=line1\nline2", "busybox");
  ck_assert_uint_eq(o.spec.env.n, 2);
  ck_assert_str_eq(o.spec.env.v[0], "MK_VAL_HOSTVAR=host");
  ck_assert_str_eq(o.spec.env.v[1], "V=line1\nline2");
  mk_run_opts_free(&o);
}
END_TEST

/* `update` takes the same flags through mk_parse_resource_option. */
START_TEST(test_update_flags)
{
  struct mk_spec_resources r = {0};
  mk_error_t err = {0};

  ck_assert_int_eq(mk_parse_resource_option(&r, "memory", "256m", &err), 0);
  ck_assert_int_eq(r.memory, 256LL << 20);
  ck_assert_int_eq(
      mk_parse_resource_option(&r, "memory", "99999999999999999999999", &err),
      -1);
  ck_assert_ptr_nonnull(strstr(err.msg, "for \"-m, --memory\" flag"));
  ck_assert_int_eq(mk_parse_resource_option(&r, "cpus", "nan", &err), -1);
  ck_assert_ptr_nonnull(strstr(err.msg, "invalid CPU quantity 'nan'"));
  ck_assert_int_eq(mk_parse_resource_option(&r, "pids-limit", "1\n", &err), -1);
  ck_assert_int_eq(mk_parse_resource_option(&r, "cpus", "0.5", &err), 0);
  ck_assert_int_eq(r.nano_cpus, 500000000LL);
}
END_TEST

/* ---- --env-file --------------------------------------------------------- */

static int parse_env_file(const char *path, mk_error_t *err)
{
  struct mk_run_opts o;
  int rc = PARSE(o, *err, "--env-file", path, "busybox");

  mk_run_opts_free(&o);
  return rc;
}

START_TEST(test_env_file_not_regular)
{
  char dir[] = "/tmp/mk-val-XXXXXX", fifo[64];
  mk_error_t err;

  ck_assert_int_eq(parse_env_file("/dev/zero", &err), -1);
  ck_assert_ptr_nonnull(strstr(err.msg, "`/dev/zero` is not a regular file"));
  ck_assert_int_eq(parse_env_file("/dev/null", &err), -1);
  ck_assert_ptr_nonnull(mkdtemp(dir));
  ck_assert_int_eq(parse_env_file(dir, &err), -1);
  ck_assert_ptr_nonnull(strstr(err.msg, "not a regular file"));
  snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
  ck_assert_int_eq(mkfifo(fifo, 0600), 0);
  /* no writer: a blocking open or read would hang here */
  ck_assert_int_eq(parse_env_file(fifo, &err), -1);
  ck_assert_ptr_nonnull(strstr(err.msg, "not a regular file"));
  unlink(fifo);
  rmdir(dir);
}
END_TEST

static void write_file(char *path, const char *data, size_t len)
{
  int fd;

  strcpy(path, "/tmp/mk-val-env-XXXXXX");
  fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
  close(fd);
}

START_TEST(test_env_file_contents)
{
  char path[64];
  mk_error_t err;
  struct mk_run_opts o;
  size_t big = MK_ENV_FILE_MAX + 1, line = 10000;
  char *text = malloc(big);

  ck_assert_ptr_nonnull(text);
  /* a line longer than any fixed buffer stays one entry */
  memcpy(text, "LONG=", 5);
  memset(text + 5, 'v', line - 5);
  write_file(path, text, line);
  ck_assert_int_eq(PARSE(o, err, "--env-file", path, "busybox"), 0);
  unlink(path);
  ck_assert_uint_eq(o.spec.env.n, 1);
  ck_assert_uint_eq(strlen(o.spec.env.v[0]), line);
  mk_run_opts_free(&o);
  /* too large */
  memset(text, '#', big);
  write_file(path, text, big);
  ck_assert_int_eq(parse_env_file(path, &err), -1);
  unlink(path);
  ck_assert_ptr_nonnull(strstr(err.msg, "larger than 1 MiB"));
  free(text);
  /* a NUL byte, and bad names with their line */
  write_file(path, "A=1\0B=2\n", 8);
  ck_assert_int_eq(parse_env_file(path, &err), -1);
  unlink(path);
  ck_assert_ptr_nonnull(strstr(err.msg, "NUL"));
  write_file(path, "OK=1\n# c\nBAD NAME=2\n", 20);
  ck_assert_int_eq(parse_env_file(path, &err), -1);
  unlink(path);
  ck_assert_ptr_nonnull(strstr(err.msg, "line 3"));
  ck_assert_ptr_nonnull(strstr(err.msg, "'BAD NAME=2'"));
  write_file(path, "A\x01=1\n", 5);
  ck_assert_int_eq(parse_env_file(path, &err), -1);
  unlink(path);
  ck_assert_ptr_nonnull(strstr(err.msg, "invalid environment variable"));
}
END_TEST

static Suite *validate_suite(void)
{
  Suite *s = suite_create("validate");
  TCase *tc = tcase_create("validators");

  tcase_add_test(tc, test_bytes);
  tcase_add_test(tc, test_bytes_message);
  tcase_add_test(tc, test_cpus);
  tcase_add_test(tc, test_cpus_message);
  tcase_add_test(tc, test_int_range);
  tcase_add_test(tc, test_signals);
  tcase_add_test(tc, test_hostnames);
  tcase_add_test(tc, test_hostname_message);
  tcase_add_test(tc, test_env_entries);
  tcase_add_test(tc, test_workdirs);
  tcase_add_test(tc, test_mount_destinations);
  tcase_add_test(tc, test_container_names);
  tcase_add_test(tc, test_long_name_message);
  tcase_add_test(tc, test_quote_value);
  suite_add_tcase(s, tc);
  tc = tcase_create("flags");
  tcase_add_test(tc, test_flags);
  tcase_add_test(tc, test_flag_values);
  tcase_add_test(tc, test_flags_refuse_control_characters);
  tcase_add_test(tc, test_env_flag);
  tcase_add_test(tc, test_update_flags);
  tcase_add_test(tc, test_env_file_not_regular);
  tcase_add_test(tc, test_env_file_contents);
  suite_add_tcase(s, tc);
  return s;
}

MK_UNIT_MAIN(validate_suite)
