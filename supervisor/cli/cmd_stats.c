/* mocker stats: CPU, memory, pids and block I/O of running containers,
 * read from their cgroups. Streams every second like Docker, or prints
 * one sample with --no-stream. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "isolation/cgroup.h"
#include "commands.h"
#include "engine/container.h"
#include "base/flags.h"
#include "mk_exit.h"
#include "mk_util.h"

#define MAX_STATS 256
#define SAMPLE_MS 500

struct sample {
  char id[MK_ID_LEN + 1];
  char name[256];
  struct mk_cgroup cg;
  struct mk_cgroup_stats before, now;
  int ok;
};

struct stats_opts {
  int no_stream, all, help;
};

enum { OPT_NO_STREAM = 1, OPT_ALL, OPT_HELP };

static const char stats_usage[] =
    "Usage:  mocker stats [OPTIONS] [CONTAINER...]\n\n"
    "Display a live stream of container(s) resource usage statistics\n\n"
    "Options:\n"
    "  -a, --all         Show all containers (default shows just running)\n"
    "      --no-stream   Disable streaming stats and only pull the first "
    "result\n"
    "      --help        Print usage\n";

static int apply(void *data, int id, const char *value, mk_error_t *err)
{
  struct stats_opts *o = data;

  (void)value, (void)err;
  if (id == OPT_NO_STREAM)
    o->no_stream = 1;
  else if (id == OPT_ALL)
    o->all = 1;
  else
    o->help = 1;
  return 0;
}

static long long now_ns(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static uint64_t host_memory(void)
{
  FILE *f = fopen("/proc/meminfo", "re");
  unsigned long long kb = 0;

  if (f) {
    if (fscanf(f, "MemTotal: %llu kB", &kb) != 1)
      kb = 0;
    fclose(f);
  }
  return kb * 1024;
}

/* Docker's units: B, kB, MB, GB with 1000s for I/O; KiB, MiB, GiB for
 * memory. */
static void human(uint64_t v, int binary, char out[32])
{
  static const char *const dec[] = {"B", "kB", "MB", "GB", "TB"};
  static const char *const bin[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double d = (double)v, step = binary ? 1024 : 1000;
  int i = 0;

  while (d >= step && i < 4) {
    d /= step;
    i++;
  }
  snprintf(out, 32, i ? "%.4g%s" : "%.0f%s", d, binary ? bin[i] : dec[i]);
}

static void print_header(void)
{
  printf("%-15s%-25s%-10s%-24s%-9s%-22s%s\n", "CONTAINER ID", "NAME", "CPU %",
         "MEM USAGE / LIMIT", "MEM %", "BLOCK I/O", "PIDS");
}

static void print_row(const struct sample *s, double seconds, uint64_t host_mem)
{
  const struct mk_cgroup_stats *a = &s->before, *b = &s->now;
  uint64_t limit = b->memory_limit && b->memory_limit < host_mem
                       ? b->memory_limit
                       : host_mem;
  double cpu = seconds > 0 && b->cpu_usage_ns >= a->cpu_usage_ns
                   ? (double)(b->cpu_usage_ns - a->cpu_usage_ns) /
                         (seconds * 1e9) * 100.0
                   : 0;
  double mem_pct = limit ? 100.0 * (double)b->memory_usage / (double)limit : 0;
  char use[32], lim[32], rd[32], wr[32], mem[64], blk[64], cpu_s[16], mem_s[16];

  human(b->memory_usage, 1, use);
  human(limit, 1, lim);
  human(b->blk_read, 0, rd);
  human(b->blk_write, 0, wr);
  snprintf(mem, sizeof(mem), "%s / %s", use, lim);
  snprintf(blk, sizeof(blk), "%s / %s", rd, wr);
  snprintf(cpu_s, sizeof(cpu_s), "%.2f%%", cpu);
  snprintf(mem_s, sizeof(mem_s), "%.2f%%", mem_pct);
  printf("%-15.12s%-25s%-10s%-24s%-9s%-22s%llu\n", s->id, s->name, cpu_s, mem,
         mem_s, blk, (unsigned long long)b->pids);
}

struct collect {
  struct mk_ctx *ctx;
  struct sample *samples;
  size_t n;
  int all;
};

static int add_sample(struct collect *col, const char *key, int must_run,
                      mk_error_t *err)
{
  struct mk_container c;
  struct sample *s = &col->samples[col->n];

  if (col->n >= MAX_STATS || mk_container_open(col->ctx, key, &c, err) < 0)
    return col->n >= MAX_STATS ? 0 : -1;
  int running = strcmp(c.state.status, "running") == 0;
  memcpy(s->id, c.id, sizeof(s->id));
  snprintf(s->name, sizeof(s->name), "%s", c.name);
  mk_container_close(&c);
  if (!running && must_run)
    return 0;
  if (mk_cgroup_locate(&s->cg, s->id, err) < 0)
    return -1;
  col->n++;
  return 0;
}

static int add_running(const char *id, void *data)
{
  mk_error_t ignored;

  add_sample(data, id, !((struct collect *)data)->all, &ignored);
  return 0;
}

static void read_all(struct collect *col, int first)
{
  for (size_t i = 0; i < col->n; i++) {
    struct sample *s = &col->samples[i];
    if (!first)
      s->before = s->now;
    s->ok = mk_cgroup_read_stats(&s->cg, &s->now) == 0;
    if (first)
      s->before = s->now;
  }
}

static void sleep_ms(long ms)
{
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

  nanosleep(&ts, NULL);
}

static void show(struct collect *col, int stream)
{
  uint64_t mem = host_memory();
  long long t0 = now_ns();

  read_all(col, 1);
  for (;;) {
    sleep_ms(stream ? 1000 : SAMPLE_MS);
    read_all(col, 0);
    long long t1 = now_ns();
    if (stream)
      fputs("\033[2J\033[H", stdout);
    print_header();
    for (size_t i = 0; i < col->n; i++)
      if (col->samples[i].ok)
        print_row(&col->samples[i], (double)(t1 - t0) / 1e9, mem);
    fflush(stdout);
    if (!stream)
      return;
    t0 = t1;
  }
}

const struct mk_flag mk_stats_flags[] = {{"no-stream", 0, 0, OPT_NO_STREAM},
                                         {"all", 'a', 0, OPT_ALL},
                                         {"help", 0, 0, OPT_HELP},
                                         {NULL, 0, 0, 0}};

int mk_cmd_stats(struct mk_ctx *ctx, int argc, char **argv)
{
  struct stats_opts o = {0};
  mk_error_t err = {0};
  int i = mk_parse_flags(argc, argv, 1, mk_stats_flags, apply, &o, &err);
  struct collect col = {.ctx = ctx};

  if (i < 0) {
    mk_print_error(err.msg);
    fputs("See 'mocker stats --help'.\n", stderr);
    return MK_EXIT_MOCKER_FAILED;
  }
  if (o.help) {
    fputs(stats_usage, stdout);
    return 0;
  }
  col.samples = calloc(MAX_STATS, sizeof(*col.samples));
  col.all = o.all;
  if (!col.samples)
    return MK_EXIT_MOCKER_FAILED;
  for (; i < argc; i++)
    if (add_sample(&col, argv[i], 0, &err) < 0) {
      mk_print_error(err.msg);
      free(col.samples);
      return 1;
    }
  if (col.n == 0)
    mk_container_foreach(ctx, add_running, &col);
  show(&col, !o.no_stream);
  free(col.samples);
  return 0;
}
