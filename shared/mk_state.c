#include "mk_state.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mk_util.h"

#define STATE_TEXT_MAX 2048

static void copy_field(char *dst, size_t size, const char *value)
{
  size_t n = strcspn(value, "\n");

  if (n >= size)
    n = size - 1;
  memcpy(dst, value, n);
  dst[n] = '\0';
}

static void parse_line(struct mk_state *st, const char *key, const char *v)
{
  if (strcmp(key, "Status") == 0)
    copy_field(st->status, sizeof(st->status), v);
  else if (strcmp(key, "Pid") == 0)
    st->pid = atoi(v);
  else if (strcmp(key, "InitPid") == 0)
    st->init_pid = atoi(v);
  else if (strcmp(key, "InitStart") == 0)
    st->init_start = strtoull(v, NULL, 10);
  else if (strcmp(key, "MonitorPid") == 0)
    st->monitor_pid = atoi(v);
  else if (strcmp(key, "MonitorStart") == 0)
    st->monitor_start = strtoull(v, NULL, 10);
  else if (strcmp(key, "ExitCode") == 0)
    st->exit_code = atoi(v);
  else if (strcmp(key, "OOMKilled") == 0)
    st->oom_killed = atoi(v);
  else if (strcmp(key, "RestartCount") == 0)
    st->restart_count = atoi(v);
  else if (strcmp(key, "BootId") == 0)
    copy_field(st->boot_id, sizeof(st->boot_id), v);
  else if (strcmp(key, "StartedAt") == 0)
    copy_field(st->started_at, sizeof(st->started_at), v);
  else if (strcmp(key, "FinishedAt") == 0)
    copy_field(st->finished_at, sizeof(st->finished_at), v);
  else if (strcmp(key, "Error") == 0)
    copy_field(st->error, sizeof(st->error), v);
}

int mk_state_read(const char *dir, struct mk_state *st, mk_error_t *err)
{
  char path[PATH_MAX], text[STATE_TEXT_MAX];
  _cleanup_close_ int fd = -1;
  ssize_t n;

  memset(st, 0, sizeof(*st));
  snprintf(st->status, sizeof(st->status), "created");
  if (mk_snprintf(path, sizeof(path), "%s/" MK_STATE_FILE, dir) < 0)
    return mk_error_set(err, ENAMETOOLONG, "state path too long");
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return errno == ENOENT ? 0 : mk_error_sys(err, errno, "open `%s`", path);
  n = mk_read_all(fd, text, sizeof(text) - 1);
  if (n < 0)
    return mk_error_sys(err, errno, "read `%s`", path);
  text[n] = '\0';
  for (char *line = text, *next; line && *line; line = next) {
    next = strchr(line, '\n');
    if (next)
      *next++ = '\0';
    char *eq = strchr(line, '=');
    if (eq) {
      *eq = '\0';
      parse_line(st, line, eq + 1);
    }
  }
  return 0;
}

int mk_state_write(const char *dir, const struct mk_state *st, mk_error_t *err)
{
  char path[PATH_MAX], tmp[PATH_MAX], text[STATE_TEXT_MAX];
  _cleanup_close_ int fd = -1;
  int n = snprintf(
      text, sizeof(text),
      "Status=%s\nPid=%d\nInitPid=%d\nInitStart=%" PRIu64
      "\nMonitorPid=%d\nMonitorStart=%" PRIu64 "\nExitCode=%d\nOOMKilled=%d\n"
      "RestartCount=%d\nBootId=%s\nStartedAt=%s\nFinishedAt=%s\nError=%s\n",
      st->status, st->pid, st->init_pid, st->init_start, st->monitor_pid,
      st->monitor_start, st->exit_code, st->oom_killed, st->restart_count,
      st->boot_id, st->started_at, st->finished_at, st->error);

  if (mk_snprintf(path, sizeof(path), "%s/" MK_STATE_FILE, dir) < 0 ||
      mk_snprintf(tmp, sizeof(tmp), "%s/" MK_STATE_FILE ".tmp", dir) < 0)
    return mk_error_set(err, ENAMETOOLONG, "state path too long");
  fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0 || mk_write_all(fd, text, (size_t)n) < 0 || rename(tmp, path) < 0)
    return mk_error_sys(err, errno, "write `%s`", path);
  return 0;
}

uint64_t mk_proc_start_time(pid_t pid)
{
  char path[64], buf[1024];
  _cleanup_close_ int fd = -1;
  ssize_t n;

  if (pid <= 0)
    return 0;
  snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || (n = mk_read_all(fd, buf, sizeof(buf) - 1)) <= 0)
    return 0;
  buf[n] = '\0';
  /* comm may hold spaces and parentheses: fields restart after the last
   * ')'. Field 3 (state) follows it; starttime is field 22. */
  char *p = strrchr(buf, ')');
  for (int field = 2; p && field < 22; field++)
    p = strchr(p + 1, ' ');
  return p ? strtoull(p + 1, NULL, 10) : 0;
}

int mk_proc_matches(pid_t pid, uint64_t start)
{
  return pid > 0 && start != 0 && mk_proc_start_time(pid) == start;
}

void mk_boot_id(char out[40])
{
  _cleanup_close_ int fd =
      open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
  ssize_t n = fd < 0 ? -1 : mk_read_all(fd, out, 39);

  out[n > 0 ? n : 0] = '\0';
  out[strcspn(out, "\n")] = '\0';
}

/* The civil date of a day count since 1970-01-01 (Howard Hinnant's
 * days_from_civil, inverted). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  unsigned doe = (unsigned)(z - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;

  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* By hand, not gmtime_r or strftime: glibc's first call to either runs
 * tzset, which opens /etc/localtime, and mocker-runtime exec formats its
 * error after joining a container's mount namespace, where that path is
 * the container's (review of issue 17, finding 3). */
void mk_time_rfc3339(int64_t secs, long nsec, char *buf, size_t size)
{
  int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400, y;
  unsigned sod = (unsigned)(secs - days * 86400), m, d;

  civil_from_days(days, &y, &m, &d);
  snprintf(buf, size, "%04lld-%02u-%02uT%02u:%02u:%02u.%09ldZ", (long long)y,
           m, d, sod / 3600, sod / 60 % 60, sod % 60, nsec);
}

void mk_time_now_rfc3339(char *buf, size_t size)
{
  struct timespec ts;

  clock_gettime(CLOCK_REALTIME, &ts);
  mk_time_rfc3339((int64_t)ts.tv_sec, ts.tv_nsec, buf, size);
}

void mk_state_set_monitor(struct mk_state *st, pid_t pid)
{
  st->monitor_pid = pid;
  st->monitor_start = mk_proc_start_time(pid);
  mk_boot_id(st->boot_id);
}
