/* mocker ps: list containers, newest first, as Docker's table shows them.
 * Every container is opened (and so reconciled with the kernel) before
 * its status is shown: a container whose monitor died reads as exited. */
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "engine/container.h"
#include "base/flags.h"
#include "mk_exit.h"
#include "mk_util.h"
#include "engine/endpoint.h"
#include "net/network.h"
#include "base/strv.h"

#define MAX_FILTERS 32
#define COMMAND_WIDTH 20
/* Docker's table: tabwriter with minwidth 10 and padding 3. */
#define TABLE_MIN_WIDTH 10
#define TABLE_PADDING 3
#define PS_COLUMNS 7

static const char ps_usage[] =
    "Usage:  mocker ps [OPTIONS]\n"
    "\n"
    "List containers\n"
    "\n"
    "Options:\n"
    "  -a, --all             Show all containers (default shows just "
    "running)\n"
    "  -f, --filter filter   Filter output based on conditions provided\n"
    "                        (status=created|running|exited, name=REGEX,\n"
    "                        id=REGEX, exited=CODE)\n"
    "      --no-trunc        Don't truncate output\n"
    "  -q, --quiet           Only display container IDs\n"
    "      --help            Print usage\n";

enum { OPT_ALL = 1, OPT_FILTER, OPT_NO_TRUNC, OPT_QUIET, OPT_HELP };

const struct mk_flag mk_ps_flags[] = {
    {"all", 'a', 0, OPT_ALL},         {"filter", 'f', 1, OPT_FILTER},
    {"no-trunc", 0, 0, OPT_NO_TRUNC}, {"quiet", 'q', 0, OPT_QUIET},
    {"help", 0, 0, OPT_HELP},         {NULL, 0, 0, 0},
};

struct ps_filter {
  char key[16];
  char *value;
  regex_t re; /* name and id */
  int has_re;
};

struct ps_opts {
  int all, quiet, no_trunc, help;
  struct ps_filter filters[MAX_FILTERS];
  size_t nfilters;
};

struct ps_row {
  char id[MK_ID_LEN + 1];
  char name[256];
  char status[16];
  int exit_code;
  long long created_ns;
  char *cells[PS_COLUMNS];
};

static int valid_status(const char *s)
{
  static const char *const states[] = {"created",  "restarting", "running",
                                       "removing", "paused",     "exited",
                                       "dead"};

  for (size_t i = 0; i < MK_ARRAY_SIZE(states); i++)
    if (strcmp(s, states[i]) == 0)
      return 1;
  return 0;
}

/* Docker: status filters imply -a; an unknown key or value is an error. */
static int add_filter(struct ps_opts *o, const char *arg, mk_error_t *err)
{
  const char *eq = strchr(arg, '=');
  struct ps_filter *f = &o->filters[o->nfilters];

  if (!eq || eq == arg)
    return mk_error_set(err, EINVAL,
                        "bad format of filter (expected name=value)");
  if (o->nfilters >= MAX_FILTERS)
    return mk_error_set(err, E2BIG, "too many filters");
  if ((size_t)(eq - arg) >= sizeof(f->key))
    return mk_error_set(err, EINVAL, "invalid filter '%.*s'", (int)(eq - arg),
                        arg);
  memset(f, 0, sizeof(*f));
  memcpy(f->key, arg, (size_t)(eq - arg));
  f->value = mk_xstrdup(eq + 1);
  o->nfilters++;
  if (strcmp(f->key, "status") == 0) {
    if (!valid_status(f->value))
      return mk_error_set(err, EINVAL, "invalid filter 'status=%s'", f->value);
    o->all = 1;
  } else if (strcmp(f->key, "name") == 0 || strcmp(f->key, "id") == 0) {
    if (regcomp(&f->re, f->value, REG_EXTENDED | REG_NOSUB) != 0)
      return mk_error_set(err, EINVAL, "invalid filter '%s'", arg);
    f->has_re = 1;
  } else if (strcmp(f->key, "exited") == 0) {
    char *end;
    strtol(f->value, &end, 10);
    if (!*f->value || *end)
      return mk_error_set(err, EINVAL, "invalid filter 'exited=%s'", f->value);
    o->all = 1;
  } else {
    return mk_error_set(err, EINVAL, "invalid filter '%s'", f->key);
  }
  return 0;
}

static void free_filters(struct ps_opts *o)
{
  for (size_t i = 0; i < o->nfilters; i++) {
    free(o->filters[i].value);
    if (o->filters[i].has_re)
      regfree(&o->filters[i].re);
  }
}

static int apply_flag(void *data, int id, const char *value, mk_error_t *err)
{
  struct ps_opts *o = data;

  switch (id) {
  case OPT_ALL: o->all = 1; return 0;
  case OPT_NO_TRUNC: o->no_trunc = 1; return 0;
  case OPT_QUIET: o->quiet = 1; return 0;
  case OPT_HELP: o->help = 1; return 0;
  case OPT_FILTER: return add_filter(o, value, err);
  }
  return mk_error_set(err, EINVAL, "unexpected option");
}

static int filter_matches(const struct ps_filter *f, const struct ps_row *r)
{
  if (strcmp(f->key, "status") == 0)
    return strcmp(f->value, r->status) == 0;
  if (strcmp(f->key, "exited") == 0)
    return strcmp(r->status, "exited") == 0 && r->exit_code == atoi(f->value);
  if (strcmp(f->key, "id") == 0)
    return regexec(&f->re, r->id, 0, NULL, 0) == 0;
  char slashed[258];
  snprintf(slashed, sizeof(slashed), "/%s", r->name);
  return regexec(&f->re, r->name, 0, NULL, 0) == 0 ||
         regexec(&f->re, slashed, 0, NULL, 0) == 0;
}

/* Values of one key are OR'ed, different keys AND'ed, as Docker's. */
static int row_wanted(const struct ps_opts *o, const struct ps_row *r)
{
  if (!o->all && strcmp(r->status, "running") != 0)
    return 0;
  for (size_t i = 0; i < o->nfilters; i++) {
    const char *key = o->filters[i].key;
    int any = 0, seen = 0;
    for (size_t k = 0; k < o->nfilters; k++)
      if (strcmp(o->filters[k].key, key) == 0) {
        if (k < i)
          seen = 1;
        any |= filter_matches(&o->filters[k], r);
      }
    if (!seen && !any)
      return 0;
  }
  return 1;
}

/* ---- time ----------------------------------------------------------- */

/* "2024-05-01T12:00:00.123456789Z" -> ns since the epoch; -1 if empty. */
static long long parse_rfc3339_ns(const char *s)
{
  struct tm tm = {0};
  const char *rest = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
  long long ns = 0, scale = 100000000;

  if (!rest)
    return -1;
  if (*rest == '.')
    for (rest++; *rest >= '0' && *rest <= '9'; rest++, scale /= 10)
      ns += (*rest - '0') * scale;
  return (long long)timegm(&tm) * 1000000000LL + ns;
}

static long long now_ns(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_REALTIME, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Docker's go-units HumanDuration, word for word. */
static void human_duration(long long ns, char *out, size_t size)
{
  long long secs = ns / 1000000000LL, mins = secs / 60;
  long long hours = (ns + 1800000000000LL) / 3600000000000LL; /* rounded */

  if (secs < 1)
    snprintf(out, size, "Less than a second");
  else if (secs == 1)
    snprintf(out, size, "1 second");
  else if (secs < 60)
    snprintf(out, size, "%lld seconds", secs);
  else if (mins == 1)
    snprintf(out, size, "About a minute");
  else if (mins < 60)
    snprintf(out, size, "%lld minutes", mins);
  else if (hours == 1)
    snprintf(out, size, "About an hour");
  else if (hours < 48)
    snprintf(out, size, "%lld hours", hours);
  else if (hours < 24 * 7 * 2)
    snprintf(out, size, "%lld days", hours / 24);
  else if (hours < 24 * 30 * 2)
    snprintf(out, size, "%lld weeks", hours / 24 / 7);
  else if (hours < 24 * 365 * 2)
    snprintf(out, size, "%lld months", hours / 24 / 30);
  else
    snprintf(out, size, "%lld years", secs / 3600 / 24 / 365);
}

static void human_since(const char *rfc3339, const char *suffix, char *out,
                        size_t size)
{
  long long then = parse_rfc3339_ns(rfc3339);
  char d[64];

  human_duration(then < 0 ? 0 : now_ns() - then, d, sizeof(d));
  snprintf(out, size, "%s%s", d, suffix);
}

/* ---- cells ---------------------------------------------------------- */

/* Docker's State.String(). */
static void status_text(const struct mk_state *st, char *out, size_t size)
{
  char since[80];

  if (strcmp(st->status, "running") == 0) {
    human_since(st->started_at, "", since, sizeof(since));
    snprintf(out, size, "Up %s", since);
  } else if (strcmp(st->status, "removing") == 0) {
    snprintf(out, size, "Removal In Progress");
  } else if (!st->started_at[0]) {
    snprintf(out, size, "Created");
  } else if (!st->finished_at[0]) {
    snprintf(out, size, "%s", "");
  } else {
    human_since(st->finished_at, " ago", since, sizeof(since));
    snprintf(out, size, "Exited (%d) %s", st->exit_code, since);
  }
}

/* Go's strconv.Quote for the characters a command line holds. */
static char *go_quote(const char *s)
{
  char *out = mk_xmalloc(strlen(s) * 4 + 3), *p = out;

  *p++ = '"';
  for (; *s; s++) {
    unsigned char ch = (unsigned char)*s;
    if (ch == '"' || ch == '\\')
      p += sprintf(p, "\\%c", ch);
    else if (ch == '\n' || ch == '\t' || ch == '\r')
      p += sprintf(p, "\\%c", ch == '\n' ? 'n' : ch == '\t' ? 't' : 'r');
    else if (ch < 0x20 || ch == 0x7f)
      p += sprintf(p, "\\x%02x", ch);
    else
      *p++ = (char)ch;
  }
  *p++ = '"';
  *p = '\0';
  return out;
}

/* Display width, counting UTF-8 code points as Go's tabwriter does. */
static size_t text_width(const char *s)
{
  size_t n = 0;

  for (; *s; s++)
    n += ((unsigned char)*s & 0xc0) != 0x80;
  return n;
}

/* Docker's Ellipsis: the first width-1 code points, then "…". */
static void ellipsize(char *s, size_t width)
{
  size_t seen = 0;

  if (text_width(s) <= width)
    return;
  for (char *p = s; *p; p++)
    if (((unsigned char)*p & 0xc0) != 0x80 && seen++ == width - 1) {
      strcpy(p, "\xe2\x80\xa6");
      return;
    }
}

/* Path and Args joined by spaces, as Docker's ps shows them. */
static char *command_cell(const struct mk_container *c, int no_trunc)
{
  json_t *args = json_object_get(c->config, "Args");
  const char *path = json_string_value(json_object_get(c->config, "Path"));
  size_t len = (path ? strlen(path) : 0) + 1, i;
  json_t *a;

  json_array_foreach(args, i, a) len += strlen(json_string_value(a) ?: "") + 1;
  _cleanup_free_ char *cmd = mk_xmalloc(len + 4);
  snprintf(cmd, len, "%s", path ? path : "");
  json_array_foreach(args, i, a)
  {
    strcat(cmd, " ");
    strcat(cmd, json_string_value(a) ?: "");
  }
  if (!no_trunc)
    ellipsize(cmd, COMMAND_WIDTH);
  return go_quote(cmd);
}

/* Docker's PORTS: "0.0.0.0:8080->80/tcp, 53/udp" while it runs. */
static char *ports_cell(const struct mk_container *c)
{
  json_t *settings = mk_net_settings(c);
  json_t *ports = json_object_get(settings, "Ports"), *list, *b;
  struct mk_strv parts = {0};
  const char *key;
  size_t i, len = 1;

  if (json_string_length(json_object_get(settings, "IPAddress")))
    json_object_foreach(ports, key, list)
    {
      if (!json_array_size(list))
        mk_strv_push(&parts, key);
      json_array_foreach(list, i, b)
      {
        mk_strv_pushf(&parts, "%s:%s->%s",
                      json_string_value(json_object_get(b, "HostIp")) ?: "",
                      json_string_value(json_object_get(b, "HostPort")) ?: "",
                      key);
      }
    }
  json_decref(settings);
  for (i = 0; i < parts.n; i++)
    len += strlen(parts.v[i]) + 2;
  char *out = mk_xmalloc(len);
  out[0] = '\0';
  for (i = 0; i < parts.n; i++) {
    strcat(out, i ? ", " : "");
    strcat(out, parts.v[i]);
  }
  mk_strv_free(&parts);
  return out;
}

static void fill_cells(struct ps_row *r, const struct mk_container *c,
                       int no_trunc)
{
  const char *image = mk_container_config_string(c, "Config", "Image");
  const char *created = mk_container_config_string(c, NULL, "Created");
  char when[96], status[128];

  r->cells[0] = mk_xstrdup(r->id);
  if (!no_trunc)
    r->cells[0][MK_SHORT_ID_LEN] = '\0';
  r->cells[1] = mk_xstrdup(image ? image : "");
  r->cells[2] = command_cell(c, no_trunc);
  human_since(created, " ago", when, sizeof(when));
  r->cells[3] = mk_xstrdup(when);
  status_text(&c->state, status, sizeof(status));
  r->cells[4] = mk_xstrdup(status);
  r->cells[5] = ports_cell(c);
  r->cells[6] = mk_xstrdup(r->name);
}

static void free_row(struct ps_row *r)
{
  for (int i = 0; i < PS_COLUMNS; i++)
    free(r->cells[i]);
}

/* ---- listing -------------------------------------------------------- */

struct listing {
  struct mk_ctx *ctx;
  const struct ps_opts *opts;
  struct ps_row *rows;
  size_t n, cap;
};

static int collect_id(const char *id, void *data)
{
  mk_strv_push(data, id);
  return 0;
}

/* A container that vanishes while we look (rm racing us) is skipped. */
static void add_row(struct listing *l, const char *id)
{
  struct mk_container c;
  struct ps_row r = {0};
  mk_error_t ignored;

  if (mk_container_open(l->ctx, id, &c, &ignored) < 0 || !c.config) {
    mk_container_close(&c);
    return;
  }
  memcpy(r.id, c.id, sizeof(r.id));
  snprintf(r.name, sizeof(r.name), "%s", c.name);
  snprintf(r.status, sizeof(r.status), "%s", c.state.status);
  r.exit_code = c.state.exit_code;
  r.created_ns =
      parse_rfc3339_ns(mk_container_config_string(&c, NULL, "Created"));
  if (row_wanted(l->opts, &r)) {
    fill_cells(&r, &c, l->opts->no_trunc);
    if (l->n == l->cap) {
      l->cap = l->cap ? l->cap * 2 : 16;
      struct ps_row *grown = realloc(l->rows, l->cap * sizeof(*grown));
      if (!grown)
        abort();
      l->rows = grown;
    }
    l->rows[l->n++] = r;
  }
  mk_container_close(&c);
}

static int newest_first(const void *a, const void *b)
{
  const struct ps_row *x = a, *y = b;

  if (x->created_ns != y->created_ns)
    return x->created_ns < y->created_ns ? 1 : -1;
  return strcmp(x->id, y->id);
}

static void print_table(const struct ps_row *rows, size_t n)
{
  static const char *const heads[PS_COLUMNS] = {
      "CONTAINER ID", "IMAGE", "COMMAND", "CREATED",
      "STATUS",       "PORTS", "NAMES"};
  size_t width[PS_COLUMNS];

  for (int c = 0; c < PS_COLUMNS; c++) {
    width[c] = text_width(heads[c]);
    for (size_t i = 0; i < n; i++)
      if (text_width(rows[i].cells[c]) > width[c])
        width[c] = text_width(rows[i].cells[c]);
    width[c] += TABLE_PADDING;
    if (width[c] < TABLE_MIN_WIDTH)
      width[c] = TABLE_MIN_WIDTH;
  }
  for (size_t i = 0; i <= n; i++)
    for (int c = 0; c < PS_COLUMNS; c++) {
      const char *cell = i == 0 ? heads[c] : rows[i - 1].cells[c];
      if (c == PS_COLUMNS - 1)
        printf("%s\n", cell);
      else
        printf("%s%*s", cell, (int)(width[c] - text_width(cell)), "");
    }
}

static void list_containers(struct mk_ctx *ctx, const struct ps_opts *o)
{
  struct listing l = {.ctx = ctx, .opts = o};
  struct mk_strv ids = {0};

  mk_container_foreach(ctx, collect_id, &ids);
  for (size_t i = 0; i < ids.n; i++)
    add_row(&l, ids.v[i]);
  mk_strv_free(&ids);
  qsort(l.rows, l.n, sizeof(*l.rows), newest_first);
  if (o->quiet)
    for (size_t i = 0; i < l.n; i++)
      puts(l.rows[i].cells[0]);
  else
    print_table(l.rows, l.n);
  for (size_t i = 0; i < l.n; i++)
    free_row(&l.rows[i]);
  free(l.rows);
}

int mk_cmd_ps(struct mk_ctx *ctx, int argc, char **argv)
{
  struct ps_opts o = {0};
  mk_error_t err = {0};
  int i = mk_parse_flags(argc, argv, 1, mk_ps_flags, apply_flag, &o, &err);

  if (i < 0 || (i < argc && !o.help)) {
    if (i >= 0)
      fprintf(stderr, "mocker: \"mocker %s\" accepts no arguments.\n", argv[0]);
    else
      mk_print_error(err.msg);
    fprintf(stderr, "See 'mocker %s --help'.\n", argv[0]);
    free_filters(&o);
    return MK_EXIT_MOCKER_FAILED;
  }
  if (o.help)
    fputs(ps_usage, stdout);
  else
    list_containers(ctx, &o);
  free_filters(&o);
  return 0;
}
