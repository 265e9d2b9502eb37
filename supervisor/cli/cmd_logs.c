/* mocker logs: replays a container's k8s-file log (see
 * supervisor/monitor/logfile.h), stdout records to our stdout and stderr
 * records to our stderr, and with -f follows it until the container
 * stops. */
#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "engine/container.h"
#include "base/flags.h"
#include "mk_exit.h"
#include "mk_util.h"

struct logs_opts {
  int follow, timestamps, help;
  long tail; /* -1: all */
  char since[40], until[40];
};

struct reader {
  const struct logs_opts *o;
  int at_line_start[2]; /* per stream: the next record starts a line */
  char carry[65536];    /* an incomplete last line of the file */
  size_t carry_len;
};

enum {
  OPT_FOLLOW = 1,
  OPT_TAIL,
  OPT_TIMESTAMPS,
  OPT_SINCE,
  OPT_UNTIL,
  OPT_HELP
};

const struct mk_flag mk_logs_flags[] = {{"follow", 'f', 0, OPT_FOLLOW},
                                        {"tail", 'n', 1, OPT_TAIL},
                                        {"timestamps", 't', 0, OPT_TIMESTAMPS},
                                        {"since", 0, 1, OPT_SINCE},
                                        {"until", 0, 1, OPT_UNTIL},
                                        {"help", 0, 0, OPT_HELP},
                                        {NULL, 0, 0, 0}};

static const char logs_usage[] =
    "Usage:  mocker logs [OPTIONS] CONTAINER\n\n"
    "Fetch the logs of a container\n\n"
    "Options:\n"
    "  -f, --follow         Follow log output\n"
    "      --since string   Show logs since timestamp (e.g. "
    "\"2013-01-02T13:23:37Z\") or relative (e.g. \"42m\" for 42 minutes)\n"
    "  -n, --tail string    Number of lines to show from the end of the logs "
    "(default \"all\")\n"
    "  -t, --timestamps     Show timestamps\n"
    "      --until string   Show logs before a timestamp or relative\n"
    "      --help           Print usage\n";

/* Docker accepts an RFC 3339 time, Unix seconds, or a duration ago
 * ("90s", "10m", "2h"). Out: RFC 3339 UTC, comparable as a string with
 * the log's own stamps. */
static int parse_time(const char *v, char out[40], mk_error_t *err)
{
  char *end;
  double n = strtod(v, &end);
  time_t t;
  struct tm tm;

  double unit = *end == 'm' ? 60 : *end == 'h' ? 3600 : 1;

  /* Seconds ago or since the epoch: finite and before the year 5000, or
   * the cast to time_t is undefined (nan, inf, 1e300s). */
  if (end != v && !(isfinite(n) && n >= 0 && n * unit < 1e11))
    return mk_error_set(err, EINVAL, "invalid time value `%s`: out of range",
                        v);
  if (end != v && (*end == 's' || *end == 'm' || *end == 'h') && !end[1]) {
    t = time(NULL) - (time_t)(n * unit);
  } else if (end != v &&
             (!*end || (*end == '.' &&
                        strspn(end + 1, "0123456789") == strlen(end + 1)))) {
    t = (time_t)n;
  } else if (strlen(v) >= 10 && v[4] == '-') {
    snprintf(out, 40, "%s", v); /* RFC 3339 already */
    return 0;
  } else {
    return mk_error_set(err, EINVAL, "invalid time value `%s`", v);
  }
  gmtime_r(&t, &tm);
  snprintf(out, 40, "%04d-%02d-%02dT%02d:%02d:%02d.000000000Z",
           tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
           tm.tm_sec);
  return 0;
}

static int apply(void *data, int id, const char *value, mk_error_t *err)
{
  struct logs_opts *o = data;
  char *end;

  switch (id) {
  case OPT_FOLLOW: o->follow = 1; return 0;
  case OPT_TIMESTAMPS: o->timestamps = 1; return 0;
  case OPT_HELP: o->help = 1; return 0;
  case OPT_SINCE: return parse_time(value, o->since, err);
  case OPT_UNTIL: return parse_time(value, o->until, err);
  case OPT_TAIL:
    if (strcmp(value, "all") == 0) {
      o->tail = -1;
      return 0;
    }
    o->tail = strtol(value, &end, 10);
    if (!*value || *end || o->tail < 0)
      return mk_error_set(err, EINVAL, "invalid value for --tail: `%s`", value);
    return 0;
  }
  return mk_error_set(err, EINVAL, "unexpected option");
}

struct record {
  const char *stamp, *stream, *text;
  size_t stamp_len, text_len;
  int partial;
};

/* "<stamp> <stdout|stderr> <F|P> <text>" */
static int parse_record(const char *line, size_t len, struct record *r)
{
  const char *sp1 = memchr(line, ' ', len), *sp2, *end = line + len;

  if (!sp1 || (sp2 = memchr(sp1 + 1, ' ', (size_t)(end - sp1 - 1))) == NULL ||
      end - sp2 < 3 || sp2[2] != ' ')
    return -1;
  r->stamp = line;
  r->stamp_len = (size_t)(sp1 - line);
  r->stream = sp1 + 1;
  r->partial = sp2[1] == 'P';
  r->text = sp2 + 3;
  r->text_len = (size_t)(end - r->text);
  return 0;
}

static int in_window(const struct logs_opts *o, const struct record *r)
{
  char stamp[40];

  snprintf(stamp, sizeof(stamp), "%.*s", (int)r->stamp_len, r->stamp);
  return (!o->since[0] || strcmp(stamp, o->since) >= 0) &&
         (!o->until[0] || strcmp(stamp, o->until) < 0);
}

static void emit(struct reader *rd, const struct record *r)
{
  int is_err = strncmp(r->stream, "stderr", 6) == 0;
  FILE *out = is_err ? stderr : stdout;

  if (!in_window(rd->o, r))
    return;
  if (rd->o->timestamps && rd->at_line_start[is_err])
    fprintf(out, "%.*s ", (int)r->stamp_len, r->stamp);
  fwrite(r->text, 1, r->text_len, out);
  if (!r->partial)
    fputc('\n', out);
  rd->at_line_start[is_err] = !r->partial;
}

/* Emits every complete record line in buf; returns the bytes consumed. */
static size_t emit_lines(struct reader *rd, const char *buf, size_t len)
{
  size_t done = 0;
  struct record r;

  for (const char *nl; (nl = memchr(buf + done, '\n', len - done));) {
    if (parse_record(buf + done, (size_t)(nl - buf - done), &r) == 0)
      emit(rd, &r);
    done = (size_t)(nl - buf) + 1;
  }
  fflush(stdout);
  fflush(stderr);
  return done;
}

/* Reads fd to its end, carrying an unfinished last line over. */
static void pump_file(struct reader *rd, int fd)
{
  ssize_t n;

  while ((n = read(fd, rd->carry + rd->carry_len,
                   sizeof(rd->carry) - rd->carry_len)) > 0) {
    rd->carry_len += (size_t)n;
    size_t used = emit_lines(rd, rd->carry, rd->carry_len);
    if (used == 0 && rd->carry_len == sizeof(rd->carry))
      used = rd->carry_len; /* a line longer than the buffer: drop it */
    memmove(rd->carry, rd->carry + used, rd->carry_len - used);
    rd->carry_len -= used;
  }
}

static char *read_whole(const char *path, size_t *len)
{
  _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  char *buf;

  *len = 0;
  if (fd < 0 || fstat(fd, &st) < 0 || !(buf = malloc((size_t)st.st_size + 1)))
    return NULL;
  ssize_t n = mk_read_all(fd, buf, (size_t)st.st_size);
  *len = n > 0 ? (size_t)n : 0;
  return buf;
}

/* --tail N: where the last N complete lines start, in the rotated and the
 * current file taken together. Returns the offset into `all`. */
static size_t tail_offset(const char *all, size_t len, long lines)
{
  size_t pos = len;
  long seen = 0;
  struct record r;

  while (pos > 0) {
    size_t end = pos - 1; /* at the '\n' that ends a record */
    size_t start = end;
    while (start > 0 && all[start - 1] != '\n')
      start--;
    if (parse_record(all + start, end - start, &r) == 0 && !r.partial &&
        ++seen > lines)
      return pos;
    pos = start;
  }
  return 0;
}

/* Prints what is logged so far; returns the fd of the current log,
 * positioned at its end, for -f. */
static int print_existing(struct reader *rd, const char *dir)
{
  char path[PATH_MAX], old[PATH_MAX];
  size_t len1, len2;

  mk_snprintf(path, sizeof(path), "%s/" MK_LOG_FILE, dir);
  mk_snprintf(old, sizeof(old), "%s/" MK_LOG_FILE ".1", dir);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  _cleanup_free_ char *a = read_whole(old, &len1);
  _cleanup_free_ char *b = NULL;
  struct stat st;

  if (fd >= 0 && fstat(fd, &st) == 0) {
    b = malloc((size_t)st.st_size + 1);
    ssize_t n = b ? mk_read_all(fd, b, (size_t)st.st_size) : 0;
    len2 = n > 0 ? (size_t)n : 0;
  } else {
    len2 = 0;
  }
  _cleanup_free_ char *all = malloc(len1 + len2 + 1);
  if (!all)
    return fd;
  if (len1)
    memcpy(all, a, len1);
  if (len2)
    memcpy(all + len1, b, len2);
  size_t from =
      rd->o->tail >= 0 ? tail_offset(all, len1 + len2, rd->o->tail) : 0;
  size_t used = emit_lines(rd, all + from, len1 + len2 - from);
  /* keep an unfinished last line for -f */
  rd->carry_len = len1 + len2 - from - used;
  if (rd->carry_len > sizeof(rd->carry))
    rd->carry_len = 0;
  memcpy(rd->carry, all + from + used, rd->carry_len);
  return fd;
}

static int same_file(int fd, const char *path)
{
  struct stat a, b;

  return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino &&
         a.st_dev == b.st_dev;
}

/* -f: new records as they come, across rotation, until the container's
 * monitor exits. */
static void follow(struct reader *rd, struct mk_container *c, int fd)
{
  char path[PATH_MAX], events[4096];
  _cleanup_close_ int ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  int mon = -1;

  mk_snprintf(path, sizeof(path), "%s/" MK_LOG_FILE, c->dir);
  if (ino < 0 ||
      inotify_add_watch(ino, c->dir, IN_MODIFY | IN_CREATE | IN_MOVED_TO) < 0)
    return;
  if (strcmp(c->state.status, "running") == 0 && c->state.monitor_pid > 0) {
    mon = (int)syscall(SYS_pidfd_open, c->state.monitor_pid, 0);
    if (mon >= 0 &&
        !mk_proc_matches(c->state.monitor_pid, c->state.monitor_start))
      mk_close(mon), mon = -1;
  }
  if (mon < 0)
    return; /* not running: nothing more will come */
  for (;;) {
    struct pollfd p[2] = {{ino, POLLIN, 0}, {mon, POLLIN, 0}};
    if (fd >= 0)
      pump_file(rd, fd);
    if (fd < 0 || !same_file(fd, path)) { /* rotated, or created late */
      if (fd >= 0)
        pump_file(rd, fd), mk_close(fd);
      fd = open(path, O_RDONLY | O_CLOEXEC);
      if (fd >= 0)
        continue;
    }
    if (poll(p, 2, -1) < 0 && errno != EINTR)
      break;
    while (read(ino, events, sizeof(events)) > 0)
      ;
    if (p[1].revents) { /* the monitor is done: read the last of it */
      if (fd >= 0)
        pump_file(rd, fd);
      break;
    }
  }
  mk_close(fd);
  mk_close(mon);
}

int mk_cmd_logs(struct mk_ctx *ctx, int argc, char **argv)
{
  struct logs_opts o = {.tail = -1};
  struct reader *rd;
  struct mk_container c;
  mk_error_t err = {0};
  int i = mk_parse_flags(argc, argv, 1, mk_logs_flags, apply, &o, &err);

  if (i >= 0 && o.help) {
    fputs(logs_usage, stdout);
    return 0;
  }
  if (i < 0 || argc - i != 1) {
    mk_print_error(i < 0 ? err.msg
                         : "\"mocker logs\" requires exactly 1 argument.");
    fputs("See 'mocker logs --help'.\n", stderr);
    return MK_EXIT_MOCKER_FAILED;
  }
  if (mk_container_open(ctx, argv[i], &c, &err) < 0) {
    mk_print_error(err.msg);
    return 1;
  }
  rd = calloc(1, sizeof(*rd));
  if (!rd) {
    mk_container_close(&c);
    return 1;
  }
  rd->o = &o;
  rd->at_line_start[0] = rd->at_line_start[1] = 1;
  int fd = print_existing(rd, c.dir);
  if (o.follow)
    follow(rd, &c, fd);
  else
    mk_close(fd);
  free(rd);
  mk_container_close(&c);
  return 0;
}
