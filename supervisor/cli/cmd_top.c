/* mocker top: the processes of a running container, in `ps -ef` columns
 * with host pids, as Docker shows them. Until containers get their own
 * cgroup, a process belongs to the container when it lives in the pid
 * namespace of the container's init. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "isolation/cgroup.h"
#include "commands.h"
#include "engine/container.h"
#include "mk_exit.h"
#include "mk_util.h"
#include "base/strv.h"

#define TOP_COLUMNS 8
/* Docker's top table: tabwriter with minwidth 20 and padding 3. */
#define TABLE_MIN_WIDTH 20
#define TABLE_PADDING 3

static const char top_usage[] =
    "Usage:  mocker top CONTAINER [ps OPTIONS]\n"
    "\n"
    "Display the running processes of a container\n";

/* The fields of /proc/<pid>/stat that ps -ef shows. */
struct proc_stat {
  char comm[64];
  char state;
  int ppid;
  unsigned tty_nr;
  unsigned long long utime, stime, start_ticks;
};

static int read_small_file(const char *path, char *buf, size_t size)
{
  _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
  ssize_t n;

  if (fd < 0 || (n = mk_read_all(fd, buf, size - 1)) < 0)
    return -1;
  buf[n] = '\0';
  return (int)n;
}

/* comm may hold spaces and parentheses: parse after the last ')'. */
static int read_proc_stat(const char *pid, struct proc_stat *ps)
{
  char path[64], buf[1024];

  snprintf(path, sizeof(path), "/proc/%s/stat", pid);
  if (read_small_file(path, buf, sizeof(buf)) < 0)
    return -1;
  char *open_paren = strchr(buf, '('), *close_paren = strrchr(buf, ')');
  if (!open_paren || !close_paren || close_paren < open_paren)
    return -1;
  snprintf(ps->comm, sizeof(ps->comm), "%.*s",
           (int)(close_paren - open_paren - 1), open_paren + 1);
  /* state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt
   * cmajflt utime stime cutime cstime priority nice threads itreal
   * starttime */
  if (sscanf(close_paren + 2,
             "%c %d %*d %*d %u %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d "
             "%*d %*d %*d %*d %llu",
             &ps->state, &ps->ppid, &ps->tty_nr, &ps->utime, &ps->stime,
             &ps->start_ticks) != 6)
    return -1;
  return 0;
}

static double uptime_seconds(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_BOOTTIME, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void user_cell(const char *pid, char *out, size_t size)
{
  char path[64];
  struct stat st;
  struct passwd *pw;

  snprintf(path, sizeof(path), "/proc/%s", pid);
  if (stat(path, &st) < 0) {
    snprintf(out, size, "?");
    return;
  }
  pw = getpwuid(st.st_uid);
  if (!pw)
    snprintf(out, size, "%u", (unsigned)st.st_uid);
  else if (strlen(pw->pw_name) > 8) /* procps: truncated with a '+' */
    snprintf(out, size, "%.7s+", pw->pw_name);
  else
    snprintf(out, size, "%s", pw->pw_name);
}

/* procps' STIME: HH:MM today, MonDD this year, else the year. */
static void stime_cell(const struct proc_stat *ps, long hz, char *out,
                       size_t size)
{
  time_t now = time(NULL);
  time_t started =
      now - (time_t)(uptime_seconds() - (double)ps->start_ticks / (double)hz);
  struct tm then, today;

  localtime_r(&started, &then);
  localtime_r(&now, &today);
  if (now - started < 24 * 3600 && then.tm_yday == today.tm_yday)
    strftime(out, size, "%H:%M", &then);
  else if (then.tm_year == today.tm_year)
    strftime(out, size, "%b%d", &then);
  else
    strftime(out, size, "%Y", &then);
}

static void time_cell(const struct proc_stat *ps, long hz, char *out,
                      size_t size)
{
  unsigned long long t = (ps->utime + ps->stime) / (unsigned long long)hz;

  if (t >= 24 * 3600)
    snprintf(out, size, "%llu-%02llu:%02llu:%02llu", t / 86400, t / 3600 % 24,
             t / 60 % 60, t % 60);
  else
    snprintf(out, size, "%02llu:%02llu:%02llu", t / 3600, t / 60 % 60, t % 60);
}

/* procps' C: lifetime cpu use in percent, capped at 99. */
static void cpu_cell(const struct proc_stat *ps, long hz, char *out,
                     size_t size)
{
  double alive = uptime_seconds() - (double)ps->start_ticks / (double)hz;
  double used = (double)(ps->utime + ps->stime) / (double)hz;
  long pct = alive > 0 ? (long)(used * 100 / alive) : 0;

  snprintf(out, size, "%ld", pct > 99 ? 99 : pct);
}

static void tty_cell(unsigned tty_nr, char *out, size_t size)
{
  unsigned maj = major(tty_nr), min = minor(tty_nr);

  if (tty_nr == 0)
    snprintf(out, size, "?");
  else if (maj >= 136 && maj <= 143)
    snprintf(out, size, "pts/%u", (maj - 136) * 256 + min);
  else if (maj == 4 && min < 64)
    snprintf(out, size, "tty%u", min);
  else if (maj == 4)
    snprintf(out, size, "ttyS%u", min - 64);
  else
    snprintf(out, size, "%u,%u", maj, min);
}

/* The argv joined by spaces; "[comm]" when there is none (a zombie). */
static char *cmd_cell(const char *pid, const struct proc_stat *ps)
{
  char path[64], buf[4096];
  int n;

  snprintf(path, sizeof(path), "/proc/%s/cmdline", pid);
  n = read_small_file(path, buf, sizeof(buf));
  if (n <= 0) {
    snprintf(buf, sizeof(buf), "[%s]%s", ps->comm,
             ps->state == 'Z' ? " <defunct>" : "");
    return mk_xstrdup(buf);
  }
  for (int i = 0; i < n - 1; i++)
    if (buf[i] == '\0')
      buf[i] = ' ';
  return mk_xstrdup(buf);
}

struct top_table {
  struct mk_strv cells; /* TOP_COLUMNS per row, header first */
};

static void add_process(struct top_table *t, const char *pid)
{
  struct proc_stat ps;
  long hz = sysconf(_SC_CLK_TCK);
  char user[64], cpu[16], stime[16], tty[32], cputime[32];

  if (read_proc_stat(pid, &ps) < 0)
    return; /* it exited meanwhile */
  user_cell(pid, user, sizeof(user));
  cpu_cell(&ps, hz, cpu, sizeof(cpu));
  stime_cell(&ps, hz, stime, sizeof(stime));
  tty_cell(ps.tty_nr, tty, sizeof(tty));
  time_cell(&ps, hz, cputime, sizeof(cputime));
  _cleanup_free_ char *cmd = cmd_cell(pid, &ps);
  mk_strv_push(&t->cells, user);
  mk_strv_push(&t->cells, pid);
  mk_strv_pushf(&t->cells, "%d", ps.ppid);
  mk_strv_push(&t->cells, cpu);
  mk_strv_push(&t->cells, stime);
  mk_strv_push(&t->cells, tty);
  mk_strv_push(&t->cells, cputime);
  mk_strv_push(&t->cells, cmd);
}

static int same_pid_ns(const char *pid, const char *ns)
{
  char path[64], link[64];
  ssize_t n;

  snprintf(path, sizeof(path), "/proc/%s/ns/pid", pid);
  n = readlink(path, link, sizeof(link) - 1);
  if (n < 0)
    return 0;
  link[n] = '\0';
  return strcmp(link, ns) == 0;
}

static int is_number(const char *s)
{
  if (!*s)
    return 0;
  for (; *s; s++)
    if (*s < '0' || *s > '9')
      return 0;
  return 1;
}

static int compare_pids(const void *a, const void *b)
{
  return *(const pid_t *)a - *(const pid_t *)b;
}

/* The processes in the container's cgroup that are also in its pid
 * namespace (a `mocker exec` on the host side sits in the cgroup while
 * it runs, but is not the container's). 0 if it has no cgroup. */
static int collect_from_cgroup(struct top_table *t, const char *id,
                               const char *ns)
{
  static pid_t pids[65536];
  struct mk_cgroup cg;
  mk_error_t ignored;
  char pid[16];
  size_t n;

  if (mk_cgroup_locate(&cg, id, &ignored) < 0 || !mk_cgroup_exists(&cg))
    return 0;
  n = mk_cgroup_pids(&cg, pids, MK_ARRAY_SIZE(pids));
  qsort(pids, n, sizeof(pids[0]), compare_pids);
  for (size_t i = 0; i < n; i++) {
    snprintf(pid, sizeof(pid), "%d", (int)pids[i]);
    if (same_pid_ns(pid, ns))
      add_process(t, pid);
  }
  return n > 0;
}

/* Every host process in the pid namespace ns, in pid order. */
static int collect_processes(struct top_table *t, const char *ns,
                             mk_error_t *err)
{
  struct dirent **names = NULL;
  int n = scandir("/proc", &names, NULL, versionsort);

  if (n < 0)
    return mk_error_sys(err, errno, "read `/proc`");
  for (int i = 0; i < n; i++) {
    if (is_number(names[i]->d_name) && same_pid_ns(names[i]->d_name, ns))
      add_process(t, names[i]->d_name);
    free(names[i]);
  }
  free(names);
  return 0;
}

static void print_table(const struct mk_strv *cells)
{
  size_t width[TOP_COLUMNS] = {0}, rows = cells->n / TOP_COLUMNS;

  for (size_t i = 0; i < cells->n; i++) {
    size_t w = strlen(cells->v[i]) + TABLE_PADDING;
    if (w > width[i % TOP_COLUMNS])
      width[i % TOP_COLUMNS] = w;
  }
  for (size_t r = 0; r < rows; r++)
    for (size_t c = 0; c < TOP_COLUMNS; c++) {
      const char *cell = cells->v[r * TOP_COLUMNS + c];
      size_t w = width[c] < TABLE_MIN_WIDTH ? TABLE_MIN_WIDTH : width[c];
      if (c == TOP_COLUMNS - 1)
        printf("%s\n", cell);
      else
        printf("%-*s", (int)w, cell);
    }
}

static int top_container(struct mk_ctx *ctx, const char *key, mk_error_t *err)
{
  static const char *const heads[TOP_COLUMNS] = {"UID",   "PID", "PPID", "C",
                                                 "STIME", "TTY", "TIME", "CMD"};
  struct top_table t = {0};
  struct mk_container c;
  char path[64], ns[64];
  int init, rc = -1;
  ssize_t n;

  if (mk_container_open(ctx, key, &c, err) < 0)
    goto out;
  init = mk_container_init_pid(&c);
  snprintf(path, sizeof(path), "/proc/%d/ns/pid", init);
  if (!init || (n = readlink(path, ns, sizeof(ns) - 1)) < 0) {
    mk_error_set(err, ESRCH, "container %s is not running", key);
    goto out;
  }
  ns[n] = '\0';
  for (size_t i = 0; i < TOP_COLUMNS; i++)
    mk_strv_push(&t.cells, heads[i]);
  rc = collect_from_cgroup(&t, c.id, ns) ? 0 : collect_processes(&t, ns, err);
  if (rc == 0)
    print_table(&t.cells);
out:
  mk_strv_free(&t.cells);
  mk_container_close(&c);
  return rc;
}

int mk_cmd_top(struct mk_ctx *ctx, int argc, char **argv)
{
  mk_error_t err = {0};

  if (argc > 1 && strcmp(argv[1], "--help") == 0) {
    fputs(top_usage, stdout);
    return 0;
  }
  if (argc < 2) {
    fprintf(stderr,
            "mocker: \"mocker %s\" requires at least 1 argument.\n"
            "See 'mocker %s --help'.\n",
            argv[0], argv[0]);
    return MK_EXIT_MOCKER_FAILED;
  }
  /* argv[2..] are ps options: Docker passes them to ps; we ignore them. */
  if (top_container(ctx, argv[1], &err) < 0) {
    mk_print_error(err.msg);
    return 1;
  }
  return 0;
}
