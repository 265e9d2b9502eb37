/* Helpers shared by the integration suites: they drive the real
 * build/mocker (env MOCKER, default ./build/mocker) as root against a
 * temporary state root, and check what is left on the host afterwards.
 *
 * Cleanup model. Check runs every test in a forked child (CK_FORK), and a
 * failed assertion _exit()s that child, so a checked teardown does not run
 * after a failure. Hence two layers:
 *   - h_suite_setup/h_suite_teardown are *unchecked* fixtures: they run in
 *     the runner process, create one base dir /tmp/mocker-it.XXXXXX, and
 *     after the test case clean everything under it (kill processes tied
 *     to it, `mocker rm -f`, detach mounts, rm -rf), whatever happened.
 *   - h_test_setup/h_test_teardown are *checked* fixtures: each test gets
 *     its own dir base/t.XXXXXX with root/ (the state root) and host/
 *     (scratch: volumes, markers); the teardown asserts nothing is left
 *     (mounts, processes, container dirs) and then cleans up. */
#ifndef MK_IT_HARNESS_H
#define MK_IT_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <sys/types.h>

#include <check.h>

/* Generous: a test never waits this long unless something is broken. */
#define H_TIMEOUT_MS 20000
/* h_wait/h_run status when the deadline passed (mocker was SIGKILLed). */
#define H_TIMED_OUT (-1000)

struct h_ctx {
  char dir[4096];  /* base/t.XXXXXX: everything this test makes */
  char root[4096]; /* dir/root: the state root given to mocker */
  char host[4096]; /* dir/host: scratch dir on the host (volumes, markers) */
  char tag[128];   /* "mocker-it.XXXXXX/t.XXXXXX": unique marker string */
};

/* The current test's context, filled by h_test_setup. */
extern struct h_ctx h;

void h_suite_setup(void);
void h_suite_teardown(void);
void h_test_setup(void);
void h_test_teardown(void);

/* A test case with the fixtures above and a generous timeout. */
TCase *h_tcase(const char *name, double timeout_s);
/* Runs the suite (CK_VERBOSE unless CK_VERBOSITY is set; fork mode is
 * Check's default, CK_FORK); returns the process exit status. */
int h_main(Suite *s);

/* Path of the binary under test. */
const char *h_mocker(void);

/* Result of a synchronous run. status: exit code, -SIG if mocker itself
 * died of a signal, H_TIMED_OUT. out/err are NUL-terminated. */
struct h_res {
  int status;
  char *out, *err;
  size_t out_len, err_len;
};

struct h_opts {
  const char *stdin_data; /* NULL: stdin is /dev/null; else a pipe */
  size_t stdin_len;       /* 0 with stdin_data: strlen(stdin_data) */
  bool no_root_flag;      /* don't pass --root (MOCKER_ROOT env only) */
  bool no_root_env;       /* don't set MOCKER_ROOT */
  int timeout_ms;         /* 0: H_TIMEOUT_MS */
  const char *program;    /* NULL: mocker; else this binary (mocker-runtime) */
};

/* Runs `mocker --root ROOT ARGV...` (argv NULL-terminated, without the
 * binary), captures stdout and stderr separately. Returns r->status. */
int h_run(struct h_res *r, const struct h_opts *o, const char *const argv[]);
void h_res_free(struct h_res *r);

#define H_ARGV(...) ((const char *const[]){__VA_ARGS__, NULL})
/* H_RUN(&res, "run", "--rm", "busybox", "true") */
#define H_RUN(res, ...) h_run((res), NULL, H_ARGV(__VA_ARGS__))
#define H_RUN_IN(res, data, ...)                                               \
  h_run((res), &(struct h_opts){.stdin_data = (data)}, H_ARGV(__VA_ARGS__))

/* Starts `mocker --root ROOT ARGV...` without waiting: stdin /dev/null,
 * stdout/stderr to out_fd/err_fd (-1: /dev/null). */
pid_t h_spawn(const char *const argv[], int out_fd, int err_fd);
/* Like h_spawn with stdin too (-1: /dev/null), optionally in a new
 * process group of its own. */
pid_t h_spawn_io(const char *const argv[], int in_fd, int out_fd, int err_fd,
                 bool new_pgrp);
/* Like h_spawn, but the child starts a new session and takes tty_fd (a
 * pty slave) as its controlling terminal and stdin/stdout/stderr. */
pid_t h_spawn_tty(const char *const argv[], int tty_fd);
/* Waits for pid up to timeout_ms (SIGKILLs it past the deadline);
 * returns a status like h_res.status. */
int h_wait(pid_t pid, int timeout_ms);

/* Polls pred(arg) every 10 ms until it is true or timeout_ms passes. */
bool h_poll(bool (*pred)(void *), void *arg, int timeout_ms);
long h_now_ms(void);
bool h_exists(const char *path);
bool h_path_exists_pred(void *path); /* for h_poll */

/* printf into a static-free caller buffer, aborting the test on overflow. */
void h_fmt(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Writes a whole file (creating it with mode 0644). */
void h_write_file(const char *path, const char *data);
/* Reads a whole file, NUL-terminated, malloc'ed; NULL if it can't. */
char *h_read_file(const char *path);

/* Whether `line` is one whole line of text. */
bool h_has_line(const char *text, const char *line);

struct FTW;
struct stat;
/* nftw callback for FTW_DEPTH walks: rmdir or unlink each entry. */
int h_rm_entry(const char *path, const struct stat *st, int flag,
               struct FTW *ftw);

/* Leftovers. Each returns a count and, if list is non-NULL, a malloc'ed
 * newline-separated description (free it). */
int h_mounts_under(const char *prefix, char **list);
/* Processes tied to the marker string: their cmdline, root or cwd link,
 * or (for another mount namespace) their mountinfo contains it. */
int h_procs_tied(const char *marker, pid_t *pids, int max, char **list);
/* Container dirs under root/containers; ids copied into ids[] if given. */
int h_containers(const char *root, char ids[][65], int max);
/* The pid of a process whose argv is exactly args (NULL-terminated) and
 * which is tied to marker; 0 if none. */
pid_t h_find_proc(const char *marker, const char *const args[]);
/* Polls h_find_proc until it finds the process; its pid, or 0. */
pid_t h_poll_find(const char *marker, const char *const args[], int timeout_ms);
bool h_pid_alive(pid_t pid);

/* Removes the cgroup /name (a parent a peer such as containerd or podman
 * made for the test's containers) and everything below it, in every
 * hierarchy; true once none is left. For h_poll: arg is the name. */
bool h_cgroup_tree_gone(void *name);

/* Whether the cgroup /name has a child cgroup whose name starts with
 * prefix ("" for any), in the memory hierarchy (v1) or in cgroup2: a
 * container's cgroup its runtime should have removed. */
bool h_cgroup_has_child(const char *name, const char *prefix);

/* Container cgroups that appeared since the test began (names = ids). */
int h_cgroups_new(char names[][65], int max);

/* ck_asserts: nothing of this test mounted, no process tied to it, no
 * container dir left (when check_containers), no new container cgroup. */
void h_assert_no_leftovers(bool check_containers);

/* Kills processes tied to dir, `mocker rm -f` each container, detaches
 * mounts, rm -rf dir. Safe to call on any path. */
void h_cleanup_dir(const char *dir, const char *root);

/* Substring helpers. */
bool h_contains(const char *hay, const char *needle);
bool h_is_hex(const char *s, size_t n);

/* The last command h_run/h_spawn started, for failure messages. */
const char *h_last_cmd(void);

/* Asserts an exit status, showing the command and both streams. */
#define H_ASSERT_STATUS(r, want)                                               \
  ck_assert_msg((r)->status == (want),                                         \
                "`%s`: exit status %d, want %d\n--- stdout:\n%s\n--- "         \
                "stderr:\n%s",                                                 \
                h_last_cmd(), (r)->status, (want), (r)->out, (r)->err)

/* Asserts a stream contains a string. */
#define H_ASSERT_HAS(r, stream, needle)                                        \
  ck_assert_msg(h_contains((r)->stream, (needle)),                             \
                "`%s`: " #stream " lacks \"%s\"\n--- stdout:\n%s\n--- "        \
                "stderr:\n%s",                                                 \
                h_last_cmd(), (needle), (r)->out, (r)->err)

#define H_ASSERT_LACKS(r, stream, needle)                                      \
  ck_assert_msg(!h_contains((r)->stream, (needle)),                            \
                "`%s`: " #stream " has \"%s\"\n--- stdout:\n%s\n--- "          \
                "stderr:\n%s",                                                 \
                h_last_cmd(), (needle), (r)->out, (r)->err)

#define H_ASSERT_OUT_EQ(r, want)                                               \
  ck_assert_msg(strcmp((r)->out, (want)) == 0,                                 \
                "`%s`: stdout is \"%s\", want \"%s\"\n--- stderr:\n%s",        \
                h_last_cmd(), (r)->out, (want), (r)->err)

#endif
