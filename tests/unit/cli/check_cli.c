/* Unit tests for supervisor/cli/cli: `mocker run` option parsing, with
 * Docker's names, semantics and error texts. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <check.h>

#include "unit_main.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "mk_proto.h"
#include "unit_run_args.h"

static void assert_env(const struct mk_run_opts *o, const char *const *want,
                       size_t n)
{
  ck_assert_uint_eq(o->spec.env.n, n);
  for (size_t i = 0; i < n; i++)
    ck_assert_str_eq(o->spec.env.v[i], want[i]);
  if (n)
    ck_assert_ptr_null(o->spec.env.v[n]);
}

static void assert_cmd(const struct mk_run_opts *o, const char *const *want,
                       size_t n)
{
  ck_assert_uint_eq(o->spec.cmd.n, n);
  for (size_t i = 0; i < n; i++)
    ck_assert_str_eq(o->spec.cmd.v[i], want[i]);
  if (n)
    ck_assert_ptr_null(o->spec.cmd.v[n]);
}

START_TEST(test_image_only)
{
  struct mk_run_opts o;
  mk_error_t err;

  ASSERT_PARSE_OK(o, err, "busybox");
  ck_assert_str_eq(o.spec.image, "busybox");
  ck_assert_uint_eq(o.spec.cmd.n, 0);
  ck_assert_uint_eq(o.spec.env.n, 0);
  ck_assert(!o.interactive && !o.spec.tty && !o.spec.auto_remove &&
            !o.spec.read_only_rootfs && !o.help);
  ck_assert_ptr_null(o.spec.name);
  ck_assert_ptr_null(o.spec.workdir);
  ck_assert_ptr_null(o.spec.user);
  ck_assert_ptr_null(o.spec.hostname);
  ck_assert_ptr_null(o.spec.entrypoint);
  ck_assert_uint_eq(o.spec.nmounts, 0);
  mk_run_opts_free(&o);
}
END_TEST

START_TEST(test_it_combined)
{
  struct mk_run_opts o;
  mk_error_t err;

  ASSERT_PARSE_OK(o, err, "-it", "busybox", "/bin/sh");
  ck_assert(o.interactive);
  ck_assert(o.spec.tty);
  ck_assert_str_eq(o.spec.image, "busybox");
  assert_cmd(&o, (const char *[]){"/bin/sh"}, 1);
  mk_run_opts_free(&o);

  ASSERT_PARSE_OK(o, err, "-i", "--tty", "busybox");
  ck_assert(o.interactive && o.spec.tty);
  mk_run_opts_free(&o);

  ASSERT_PARSE_OK(o, err, "--interactive", "busybox");
  ck_assert(o.interactive && !o.spec.tty);
  mk_run_opts_free(&o);
}
END_TEST

START_TEST(test_rm_and_read_only)
{
  struct mk_run_opts o;
  mk_error_t err;

  ASSERT_PARSE_OK(o, err, "--rm", "--read-only", "busybox");
  ck_assert(o.spec.auto_remove);
  ck_assert(o.spec.read_only_rootfs);
  mk_run_opts_free(&o);
}
END_TEST

START_TEST(test_name_valid)
{
  struct mk_run_opts o;
  mk_error_t err;

  ASSERT_PARSE_OK(o, err, "--name", "web-1_a.b", "busybox");
  ck_assert_str_eq(o.spec.name, "web-1_a.b");
  mk_run_opts_free(&o);

  ASSERT_PARSE_OK(o, err, "--name=db", "busybox");
  ck_assert_str_eq(o.spec.name, "db");
  mk_run_opts_free(&o);
}
END_TEST

START_TEST(test_name_invalid)
{
  ASSERT_PARSE_FAILS("invalid container name", "--name", "-bad", "busybox");
  ASSERT_PARSE_FAILS("invalid container name", "--name", "a/b", "busybox");
  ASSERT_PARSE_FAILS("invalid container name", "--name", "", "busybox");
  ASSERT_PARSE_FAILS("\"has space\"", "--name", "has space", "busybox");
}
END_TEST

START_TEST(test_valid_container_name)
{
  ck_assert(mk_valid_container_name("ab"));
  ck_assert(mk_valid_container_name("a1"));
  ck_assert(mk_valid_container_name("0abc"));
  ck_assert(mk_valid_container_name("my_container.v2-x"));
  ck_assert(mk_valid_container_name("A-_."));

  ck_assert(!mk_valid_container_name(""));
  ck_assert(!mk_valid_container_name("a")); /* the regex needs two chars */
  ck_assert(!mk_valid_container_name("_ab"));
  ck_assert(!mk_valid_container_name(".ab"));
  ck_assert(!mk_valid_container_name("-ab"));
  ck_assert(!mk_valid_container_name("a b"));
  ck_assert(!mk_valid_container_name("a/b"));
  ck_assert(!mk_valid_container_name("a:b"));
  ck_assert(!mk_valid_container_name("caf\xc3\xa9"));
}
END_TEST

START_TEST(test_env_key_value)
{
  struct mk_run_opts o;
  mk_error_t err;

  ASSERT_PARSE_OK(o, err, "-e", "A=1", "--env", "B=two words",
                  "--env=C=", "-eD=x=y", "busybox");
  assert_env(&o, (const char *[]){"A=1", "B=two words", "C=", "D=x=y"}, 4);
  mk_run_opts_free(&o);
}
END_TEST

START_TEST(test_env_from_host)
{
  struct mk_run_opts o;
  mk_error_t err;

  ck_assert_int_eq(setenv("MK_TEST_HOSTVAR", "from host", 1), 0);
  ck_assert_int_eq(unsetenv("MK_TEST_UNSET"), 0);
  ASSERT_PARSE_OK(o, err, "-e", "MK_TEST_HOSTVAR", "-e", "MK_TEST_UNSET", "-e",
                  "Z=1", "busybox");
  assert_env(&o, (const char *[]){"MK_TEST_HOSTVAR=from host", "Z=1"}, 2);
  mk_run_opts_free(&o);
}
END_TEST

START_TEST(test_env_later_overrides_earlier)
{
  struct mk_run_opts o;
  mk_error_t err;

  ASSERT_PARSE_OK(o, err, "-e", "A=1", "-e", "B=2", "-e", "A=3", "busybox");
  assert_env(&o, (const char *[]){"A=3", "B=2"}, 2);
  mk_run_opts_free(&o);

  /* A prefix of a key is a different key. */
  ASSERT_PARSE_OK(o, err, "-e", "AB=1", "-e", "A=2", "busybox");
  assert_env(&o, (const char *[]){"AB=1", "A=2"}, 2);
  mk_run_opts_free(&o);
}
END_TEST

/* `-e KEY` copied from the host overrides an earlier `-e KEY=...` too:
 * the workload must see one KEY, the last one given. */
START_TEST(test_env_host_copy_overrides_earlier)
{
  struct mk_run_opts o;
  mk_error_t err;

  ck_assert_int_eq(setenv("MK_TEST_OVR", "host", 1), 0);
  ASSERT_PARSE_OK(o, err, "-e", "MK_TEST_OVR=cli", "-e", "MK_TEST_OVR",
                  "busybox");
  assert_env(&o, (const char *[]){"MK_TEST_OVR=host"}, 1);
  mk_run_opts_free(&o);
}
END_TEST

/* Writes text to a fresh temp file; path receives its name. */
static void write_temp(char *path, const char *text)
{
  int fd;

  strcpy(path, "/tmp/mk-envfile-XXXXXX");
  fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  close(fd);
}

START_TEST(test_env_file)
{
  struct mk_run_opts o;
  mk_error_t err;
  char path[64];
  int r;

  ck_assert_int_eq(setenv("MK_TEST_FILEVAR", "copied", 1), 0);
  ck_assert_int_eq(unsetenv("MK_TEST_FILE_UNSET"), 0);
  write_temp(path, "# a comment\n"
                   "\n"
                   "FOO=bar\n"
                   "   \n"
                   "  # indented comment\n"
                   "SPACED=a b c\n"
                   "MK_TEST_FILEVAR\n"
                   "MK_TEST_FILE_UNSET\n"
                   "CRLF=dos\r\n"
                   "LAST=no newline");
  /* Docker applies --env-file first and -e after, whatever the order on
   * the command line, so -e FOO wins over the file's FOO. */
  r = PARSE(o, err, "-e", "BEFORE=0", "-e", "FOO=from-flag", "--env-file", path,
            "-e", "AFTER=1", "busybox");
  unlink(path);
  ck_assert_msg(r == 0, "parse failed: %s", err.msg);
  assert_env(&o,
             (const char *[]){"FOO=from-flag", "SPACED=a b c",
                              "MK_TEST_FILEVAR=copied", "CRLF=dos",
                              "LAST=no newline", "BEFORE=0", "AFTER=1"},
             7);
  mk_run_opts_free(&o);
}
END_TEST

START_TEST(test_env_file_errors)
{
  char path[64];

  ASSERT_PARSE_FAILS("/nonexistent/mk-env", "--env-file", "/nonexistent/mk-env",
                     "busybox");
  write_temp(path, "OK=1\n=value\n");
  {
    struct mk_run_opts o;
    mk_error_t err;
    int r = PARSE(o, err, "--env-file", path, "busybox");
    unlink(path);
    ck_assert_int_eq(r, -1);
    ck_assert_ptr_nonnull(strstr(err.msg, path));
    mk_run_opts_free(&o);
  }
}
END_TEST

START_TEST(test_workdir)
{
  struct mk_run_opts o;
  mk_error_t err;

  ASSERT_PARSE_OK(o, err, "-w", "/srv/app", "busybox");
  ck_assert_str_eq(o.spec.workdir, "/srv/app");
  mk_run_opts_free(&o);

  ASSERT_PARSE_OK(o, err, "--workdir=/x", "busybox");
  ck_assert_str_eq(o.spec.workdir, "/x");
  mk_run_opts_free(&o);

  ASSERT_PARSE_FAILS("needs to be an absolute path", "-w", "srv/app",
                     "busybox");
  ASSERT_PARSE_FAILS("'srv'", "--workdir", "srv", "busybox");
}
END_TEST

START_TEST(test_user_and_hostname)
{
  struct mk_run_opts o;
  mk_error_t err;

  ASSERT_PARSE_OK(o, err, "-u", "1000:100", "-h", "box", "busybox", "id");
  ck_assert_str_eq(o.spec.user, "1000:100");
  ck_assert_str_eq(o.spec.hostname, "box");
  mk_run_opts_free(&o);

  ASSERT_PARSE_OK(o, err, "--user=nobody", "--hostname", "web", "busybox");
  ck_assert_str_eq(o.spec.user, "nobody");
  ck_assert_str_eq(o.spec.hostname, "web");
  mk_run_opts_free(&o);
}
END_TEST

START_TEST(test_hostname_invalid)
{
  char longname[80];

  memset(longname, 'h', 64);
  longname[64] = '\0';
  ASSERT_PARSE_FAILS("invalid hostname", "-h", longname, "busybox");
  ASSERT_PARSE_FAILS("invalid hostname", "-h", "", "busybox");
}
END_TEST

START_TEST(test_entrypoint)
{
  struct mk_run_opts o;
  mk_error_t err;

  ASSERT_PARSE_OK(o, err, "--entrypoint", "", "busybox");
  ck_assert_ptr_nonnull(o.spec.entrypoint);
  ck_assert_str_eq(o.spec.entrypoint, "");
  mk_run_opts_free(&o);

  ASSERT_PARSE_OK(o, err, "--entrypoint", "/bin/echo", "busybox", "hi");
  ck_assert_str_eq(o.spec.entrypoint, "/bin/echo");
  assert_cmd(&o, (const char *[]){"hi"}, 1);
  mk_run_opts_free(&o);

  ASSERT_PARSE_OK(o, err, "--entrypoint=", "busybox");
  ck_assert_str_eq(o.spec.entrypoint, "");
  mk_run_opts_free(&o);
}
END_TEST

START_TEST(test_volumes)
{
  struct mk_run_opts o;
  mk_error_t err;

  ASSERT_PARSE_OK(o, err, "-v", "/a:/b", "--volume", "/host/c:/d:ro", "-v",
                  "/e:/f:rw", "busybox");
  ck_assert_uint_eq(o.spec.nmounts, 3);
  for (size_t i = 0; i < 3; i++)
    ck_assert_int_eq(o.spec.mounts[i].kind, MK_SPEC_BIND);
  ck_assert_str_eq(o.spec.mounts[0].source, "/a");
  ck_assert_str_eq(o.spec.mounts[0].target, "/b");
  ck_assert(!o.spec.mounts[0].read_only);
  ck_assert_str_eq(o.spec.mounts[1].source, "/host/c");
  ck_assert_str_eq(o.spec.mounts[1].target, "/d");
  ck_assert(o.spec.mounts[1].read_only);
  ck_assert_str_eq(o.spec.mounts[2].source, "/e");
  ck_assert_str_eq(o.spec.mounts[2].target, "/f");
  ck_assert(!o.spec.mounts[2].read_only);
  mk_run_opts_free(&o);
}
END_TEST

START_TEST(test_volume_named)
{
  struct mk_run_opts o;
  mk_error_t e;

  ck_assert_int_eq(parse(&o, &e, "-v", "data:/b:ro", "busybox", NULL), 0);
  ck_assert_str_eq(o.spec.mounts[0].source, "data");
  ck_assert_int_eq(o.spec.mounts[0].kind, MK_SPEC_VOLUME);
  ck_assert(o.spec.mounts[0].read_only);
  mk_run_opts_free(&o);
}
END_TEST

START_TEST(test_volume_bad_specs)
{
  ASSERT_PARSE_FAILS("invalid characters for a local volume name", "-v",
                     "da ta:/b", "busybox");
  ASSERT_PARSE_FAILS("invalid characters for a local volume name", "-v",
                     "./rel:/b", "busybox");
  ASSERT_PARSE_FAILS("invalid volume spec", "-v", "/a", "busybox");
  ASSERT_PARSE_FAILS("invalid volume spec", "-v", "/a:", "busybox");
  ASSERT_PARSE_FAILS("invalid volume spec", "-v", "/a:b", "busybox");
  ASSERT_PARSE_FAILS("unknown mode `rx`", "-v", "/a:/b:rx", "busybox");
  ASSERT_PARSE_FAILS("invalid volume spec", "-v", "/a:/b:ro:z", "busybox");
  ASSERT_PARSE_FAILS("destination can't be '/'", "-v", "/a:/", "busybox");
  ASSERT_PARSE_FAILS("destination can't be '/'", "-v", "vol:/./..", "busybox");
  ASSERT_PARSE_FAILS("destination can't be '/'", "--tmpfs", "//", "busybox");
}
END_TEST

START_TEST(test_tmpfs_default)
{
  struct mk_run_opts o;
  mk_error_t err;

  ASSERT_PARSE_OK(o, err, "--tmpfs", "/x", "busybox");
  ck_assert_uint_eq(o.spec.nmounts, 1);
  ck_assert_int_eq(o.spec.mounts[0].kind, MK_SPEC_TMPFS);
  ck_assert_str_eq(o.spec.mounts[0].target, "/x");
  /* Docker's defaults: noexec, nosuid, nodev. */
  ck_assert_uint_eq(o.spec.mounts[0].flags,
                    MK_MNT_NOSUID | MK_MNT_NODEV | MK_MNT_NOEXEC);
  ck_assert_str_eq(o.spec.mounts[0].data, "");
  mk_run_opts_free(&o);
}
END_TEST

START_TEST(test_tmpfs_options)
{
  struct mk_run_opts o;
  mk_error_t err;

  ASSERT_PARSE_OK(o, err, "--tmpfs", "/x:size=1m,ro,exec", "--tmpfs",
                  "/y:mode=1777,suid,dev,size=64k", "busybox");
  ck_assert_uint_eq(o.spec.nmounts, 2);
  ck_assert_str_eq(o.spec.mounts[0].target, "/x");
  ck_assert_uint_eq(o.spec.mounts[0].flags,
                    MK_MNT_RDONLY | MK_MNT_NOSUID | MK_MNT_NODEV);
  ck_assert_str_eq(o.spec.mounts[0].data,
                   "size=1048576"); /* the kernel's form */
  ck_assert_str_eq(o.spec.mounts[1].target, "/y");
  ck_assert_uint_eq(o.spec.mounts[1].flags, MK_MNT_NOEXEC);
  ck_assert_str_eq(o.spec.mounts[1].data, "mode=1777,size=65536");
  mk_run_opts_free(&o);

  /* Later options win: ro then rw is writable. */
  ASSERT_PARSE_OK(o, err, "--tmpfs=/z:ro,rw", "busybox");
  ck_assert_uint_eq(o.spec.mounts[0].flags & MK_MNT_RDONLY, 0);
  mk_run_opts_free(&o);
}
END_TEST

START_TEST(test_tmpfs_relative)
{
  ASSERT_PARSE_FAILS("must be absolute", "--tmpfs", "x", "busybox");
  ASSERT_PARSE_FAILS("must be absolute", "--tmpfs", "x:size=1m", "busybox");
}
END_TEST

START_TEST(test_help)
{
  struct mk_run_opts o;
  mk_error_t err;

  ASSERT_PARSE_OK(o, err, "--help");
  ck_assert(o.help);
  mk_run_opts_free(&o);

  ASSERT_PARSE_OK(o, err, "--rm", "--help", "busybox");
  ck_assert(o.help);
  mk_run_opts_free(&o);

  ck_assert_ptr_nonnull(strstr(mk_run_usage, "mocker run [OPTIONS] IMAGE"));
}
END_TEST

START_TEST(test_image_and_command)
{
  struct mk_run_opts o;
  mk_error_t err;

  ASSERT_PARSE_OK(o, err, "--rm", "busybox:latest", "echo", "a b", "");
  ck_assert_str_eq(o.spec.image, "busybox:latest");
  assert_cmd(&o, (const char *[]){"echo", "a b", ""}, 3);
  mk_run_opts_free(&o);
}
END_TEST

/* Everything after the image belongs to the command, flags included. */
START_TEST(test_options_after_image_belong_to_command)
{
  struct mk_run_opts o;
  mk_error_t err;

  ASSERT_PARSE_OK(o, err, "busybox", "ls", "-l");
  assert_cmd(&o, (const char *[]){"ls", "-l"}, 2);
  mk_run_opts_free(&o);

  ASSERT_PARSE_OK(o, err, "-i", "busybox", "sh", "-c", "echo", "--rm", "-t",
                  "--bogus", "-e", "X=1");
  ck_assert(o.interactive);
  ck_assert(!o.spec.auto_remove && !o.spec.tty);
  ck_assert_uint_eq(o.spec.env.n, 0);
  assert_cmd(&o,
             (const char *[]){"sh", "-c", "echo", "--rm", "-t", "--bogus", "-e",
                              "X=1"},
             8);
  mk_run_opts_free(&o);

  ASSERT_PARSE_OK(o, err, "busybox", "--help");
  ck_assert(!o.help);
  assert_cmd(&o, (const char *[]){"--help"}, 1);
  mk_run_opts_free(&o);
}
END_TEST

START_TEST(test_double_dash)
{
  struct mk_run_opts o;
  mk_error_t err;

  ASSERT_PARSE_OK(o, err, "--rm", "--", "busybox", "ls");
  ck_assert(o.spec.auto_remove);
  ck_assert_str_eq(o.spec.image, "busybox");
  assert_cmd(&o, (const char *[]){"ls"}, 1);
  mk_run_opts_free(&o);
}
END_TEST

START_TEST(test_unknown_long_flag)
{
  struct mk_run_opts o;
  mk_error_t err;

  ck_assert_int_eq(PARSE(o, err, "--bogus", "busybox"), -1);
  ck_assert_str_eq(err.msg, "unknown flag: --bogus");
  mk_run_opts_free(&o);
}
END_TEST

/* Docker names only the flag, not the value glued to it. */
START_TEST(test_unknown_long_flag_with_value)
{
  struct mk_run_opts o;
  mk_error_t err;

  ck_assert_int_eq(PARSE(o, err, "--bogus=1", "busybox"), -1);
  ck_assert_str_eq(err.msg, "unknown flag: --bogus");
  mk_run_opts_free(&o);
}
END_TEST

/* Docker (pflag) has no abbreviated long flags: `--rea` is unknown, not a
 * silent --read-only. */
START_TEST(test_abbreviated_long_flag_rejected)
{
  struct mk_run_opts o;
  mk_error_t err;

  ck_assert_int_eq(PARSE(o, err, "--rea", "busybox"), -1);
  ck_assert_str_eq(err.msg, "unknown flag: --rea");
  mk_run_opts_free(&o);

  ck_assert_int_eq(PARSE(o, err, "--tt", "busybox"), -1);
  ck_assert_str_eq(err.msg, "unknown flag: --tt");
  mk_run_opts_free(&o);
}
END_TEST

START_TEST(test_unknown_short_flag)
{
  struct mk_run_opts o;
  mk_error_t err;

  ck_assert_int_eq(PARSE(o, err, "-Z", "busybox"), -1);
  ck_assert_str_eq(err.msg, "unknown shorthand flag: 'Z' in -Z");
  mk_run_opts_free(&o);

  ck_assert_int_eq(PARSE(o, err, "--rm", "-Z", "busybox"), -1);
  ck_assert_str_eq(err.msg, "unknown shorthand flag: 'Z' in -Z");
  mk_run_opts_free(&o);
}
END_TEST

/* Inside a cluster, Docker (pflag) quotes the letters from the unknown one
 * to the end of the argument: "-Zi" -> "in -Zi", "-iZ" -> "in -Z". */
START_TEST(test_unknown_short_flag_in_cluster)
{
  struct mk_run_opts o;
  mk_error_t err;

  ck_assert_int_eq(PARSE(o, err, "--rm", "-Zi", "busybox"), -1);
  ck_assert_str_eq(err.msg, "unknown shorthand flag: 'Z' in -Zi");
  mk_run_opts_free(&o);

  ck_assert_int_eq(PARSE(o, err, "-iZ", "busybox"), -1);
  ck_assert_str_eq(err.msg, "unknown shorthand flag: 'Z' in -Z");
  mk_run_opts_free(&o);
}
END_TEST

START_TEST(test_flag_missing_argument)
{
  struct mk_run_opts o;
  mk_error_t err;

  ck_assert_int_eq(PARSE(o, err, "--name"), -1);
  ck_assert_str_eq(err.msg, "flag needs an argument: --name");
  mk_run_opts_free(&o);

  ck_assert_int_eq(PARSE(o, err, "-w"), -1);
  ck_assert_str_eq(err.msg, "flag needs an argument: 'w' in -w");
  mk_run_opts_free(&o);
}
END_TEST

START_TEST(test_missing_image)
{
  ASSERT_PARSE_FAILS("requires at least 1 argument", "--rm");
  ASSERT_PARSE_FAILS("requires at least 1 argument", "-e", "A=1", "-it");
  {
    char *argv[] = {"run", NULL};
    struct mk_run_opts o;
    mk_error_t err = {0};
    ck_assert_int_eq(mk_parse_run_args(1, argv, &o, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "requires at least 1 argument"));
    mk_run_opts_free(&o);
  }
}
END_TEST

/* Parsing twice in one process gives the same answer (getopt state is
 * reset each time). */
START_TEST(test_parse_is_repeatable)
{
  struct mk_run_opts o;
  mk_error_t err;

  for (int i = 0; i < 3; i++) {
    ASSERT_PARSE_OK(o, err, "-it", "-e", "A=1", "busybox", "ls");
    ck_assert(o.interactive && o.spec.tty);
    ck_assert_str_eq(o.spec.image, "busybox");
    assert_cmd(&o, (const char *[]){"ls"}, 1);
    mk_run_opts_free(&o);
    ck_assert_int_eq(PARSE(o, err, "-Z", "busybox"), -1);
    mk_run_opts_free(&o);
  }
}
END_TEST

/* ---- lifecycle and security options ------------------------------------ */

START_TEST(test_detach_stop_and_log_options)
{
  struct mk_run_opts o;
  mk_error_t e;

  ck_assert_int_eq(parse(&o, &e, "-d", "--stop-signal", "SIGUSR1",
                         "--stop-timeout", "3", "--log-opt", "max-size=10m",
                         "busybox", NULL),
                   0);
  ck_assert(o.detach);
  ck_assert_str_eq(o.spec.stop_signal, "SIGUSR1");
  ck_assert_int_eq(o.spec.stop_timeout, 3);
  ck_assert_int_eq(o.spec.log_max_size, 10LL << 20);
  mk_run_opts_free(&o);
  ck_assert_int_eq(parse(&o, &e, "busybox", NULL), 0);
  ck_assert_int_eq(o.spec.stop_timeout, -1);
  ck_assert_int_eq(o.spec.log_max_size, MK_LOG_MAX_SIZE_DEFAULT);
  mk_run_opts_free(&o);
}
END_TEST

START_TEST(test_bad_lifecycle_options)
{
  ASSERT_PARSE_FAILS("--stop-timeout", "--stop-timeout", "x", "busybox");
  ASSERT_PARSE_FAILS("max-size must be", "--log-opt", "max-size=1", "busybox");
  ASSERT_PARSE_FAILS("max-size must be", "--log-opt", "max-size=9q", "busybox");
  ASSERT_PARSE_FAILS("unknown log opt 'max-file'", "--log-opt", "max-file=3",
                     "busybox");
}
END_TEST

START_TEST(test_sizes)
{
  ck_assert_int_eq(mk_parse_size("4096"), 4096);
  ck_assert_int_eq(mk_parse_size("8k"), 8192);
  ck_assert_int_eq(mk_parse_size("2M"), 2LL << 20);
  ck_assert_int_eq(mk_parse_size("1gb"), 1LL << 30);
  ck_assert_int_eq(mk_parse_size(""), -1);
  ck_assert_int_eq(mk_parse_size("-1"), -1);
  ck_assert_int_eq(mk_parse_size("5x"), -1);
}
END_TEST

START_TEST(test_security_options)
{
  struct mk_run_opts o;
  mk_error_t e;

  ck_assert_int_eq(parse(&o, &e, "busybox", NULL), 0);
  ck_assert(o.spec.no_new_privileges); /* on by default */
  ck_assert_int_eq(o.spec.seccomp, MK_SECCOMP_DEFAULT);
  ck_assert_ptr_null(o.spec.seccomp_profile);
  mk_run_opts_free(&o);
  ck_assert_int_eq(parse(&o, &e, "--cap-add", "NET_ADMIN", "--cap-drop", "ALL",
                         "--privileged", "--security-opt",
                         "no-new-privileges=false", "--security-opt",
                         "seccomp=unconfined", "--device", "/dev/fuse",
                         "busybox", NULL),
                   0);
  ck_assert_str_eq(o.spec.cap_add.v[0], "NET_ADMIN");
  ck_assert_str_eq(o.spec.cap_drop.v[0], "ALL");
  ck_assert(o.spec.privileged);
  ck_assert(!o.spec.no_new_privileges);
  ck_assert_int_eq(o.spec.seccomp, MK_SECCOMP_UNCONFINED);
  ck_assert_uint_eq(o.spec.ndevices, 1);
  ck_assert_str_eq(o.spec.devices[0].host, "/dev/fuse");
  ck_assert_str_eq(o.spec.devices[0].container, "/dev/fuse");
  ck_assert_str_eq(o.spec.devices[0].perms, "rwm");
  ck_assert_uint_eq(o.spec.security_opt.n, 2);
  mk_run_opts_free(&o);
  ck_assert_int_eq(parse(&o, &e, "--security-opt", "no-new-privileges",
                         "--security-opt", "seccomp=/p.json", "busybox", NULL),
                   0);
  ck_assert(o.spec.no_new_privileges);
  ck_assert_int_eq(o.spec.seccomp, MK_SECCOMP_FILE);
  ck_assert_str_eq(o.spec.seccomp_profile, "/p.json");
  mk_run_opts_free(&o);
}
END_TEST

/* --device is split and checked by the front; the engine gets paths. */
START_TEST(test_device_specs)
{
  struct mk_run_opts o;
  mk_error_t e;

  ck_assert_int_eq(parse(&o, &e, "--device", "/dev/fuse:/dev/f:r", "--device",
                         "/dev/null::rw", "busybox", NULL),
                   0);
  ck_assert_uint_eq(o.spec.ndevices, 2);
  ck_assert_str_eq(o.spec.devices[0].host, "/dev/fuse");
  ck_assert_str_eq(o.spec.devices[0].container, "/dev/f");
  ck_assert_str_eq(o.spec.devices[0].perms, "r");
  ck_assert_str_eq(o.spec.devices[1].container, "/dev/null");
  ck_assert_str_eq(o.spec.devices[1].perms, "rw");
  mk_run_opts_free(&o);
  ASSERT_PARSE_FAILS("paths must be absolute", "--device", "dev/fuse",
                     "busybox");
  ASSERT_PARSE_FAILS("mode `rwx` is not some of rwm", "--device",
                     "/dev/fuse:/dev/fuse:rwx", "busybox");
  ASSERT_PARSE_FAILS("mode `rr` is not some of rwm", "--device",
                     "/dev/fuse:/dev/fuse:rr", "busybox");
  ASSERT_PARSE_FAILS("mode `` is not some of rwm", "--device",
                     "/dev/fuse:/dev/fuse:", "busybox");
  ASSERT_PARSE_FAILS("invalid device `/dev/fuse:/`", "--device", "/dev/fuse:/",
                     "busybox");
}
END_TEST

START_TEST(test_bad_security_options)
{
  ASSERT_PARSE_FAILS("unknown capability: \"NET_BOGUS\"", "--cap-add",
                     "NET_BOGUS", "busybox");
  ASSERT_PARSE_FAILS("unknown capability", "--cap-drop", "", "busybox");
  ASSERT_PARSE_FAILS("invalid --security-opt", "--security-opt",
                     "no-new-privileges=maybe", "busybox");
  ASSERT_PARSE_FAILS("invalid --security-opt", "--security-opt", "apparmor=foo",
                     "busybox");
  ASSERT_PARSE_FAILS("invalid --security-opt", "--security-opt",
                     "seccomp=", "busybox");
}
END_TEST

static Suite *cli_suite(void)
{
  Suite *s = suite_create("cli");
  TCase *tc = tcase_create("options");

  tcase_add_test(tc, test_image_only);
  tcase_add_test(tc, test_it_combined);
  tcase_add_test(tc, test_rm_and_read_only);
  tcase_add_test(tc, test_name_valid);
  tcase_add_test(tc, test_name_invalid);
  tcase_add_test(tc, test_valid_container_name);
  tcase_add_test(tc, test_workdir);
  tcase_add_test(tc, test_user_and_hostname);
  tcase_add_test(tc, test_hostname_invalid);
  tcase_add_test(tc, test_entrypoint);
  tcase_add_test(tc, test_help);
  suite_add_tcase(s, tc);

  tc = tcase_create("lifecycle_security");
  tcase_add_test(tc, test_detach_stop_and_log_options);
  tcase_add_test(tc, test_bad_lifecycle_options);
  tcase_add_test(tc, test_sizes);
  tcase_add_test(tc, test_security_options);
  tcase_add_test(tc, test_device_specs);
  tcase_add_test(tc, test_bad_security_options);
  suite_add_tcase(s, tc);

  tc = tcase_create("env");
  tcase_add_test(tc, test_env_key_value);
  tcase_add_test(tc, test_env_from_host);
  tcase_add_test(tc, test_env_later_overrides_earlier);
  tcase_add_test(tc, test_env_host_copy_overrides_earlier);
  tcase_add_test(tc, test_env_file);
  tcase_add_test(tc, test_env_file_errors);
  suite_add_tcase(s, tc);

  tc = tcase_create("mounts");
  tcase_add_test(tc, test_volumes);
  tcase_add_test(tc, test_volume_bad_specs);
  tcase_add_test(tc, test_volume_named);
  tcase_add_test(tc, test_tmpfs_default);
  tcase_add_test(tc, test_tmpfs_options);
  tcase_add_test(tc, test_tmpfs_relative);
  suite_add_tcase(s, tc);

  tc = tcase_create("positional");
  tcase_add_test(tc, test_image_and_command);
  tcase_add_test(tc, test_options_after_image_belong_to_command);
  tcase_add_test(tc, test_double_dash);
  tcase_add_test(tc, test_missing_image);
  tcase_add_test(tc, test_parse_is_repeatable);
  suite_add_tcase(s, tc);

  tc = tcase_create("errors");
  tcase_add_test(tc, test_unknown_long_flag);
  tcase_add_test(tc, test_unknown_long_flag_with_value);
  tcase_add_test(tc, test_abbreviated_long_flag_rejected);
  tcase_add_test(tc, test_unknown_short_flag);
  tcase_add_test(tc, test_unknown_short_flag_in_cluster);
  tcase_add_test(tc, test_flag_missing_argument);
  suite_add_tcase(s, tc);
  return s;
}

MK_UNIT_MAIN(cli_suite)
