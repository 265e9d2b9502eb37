#include "progress.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define REDRAW_NS (100 * 1000 * 1000) /* at most 10 frames a second */
#define BAR_WIDTH 50

struct row {
  char id[13];
  enum mk_phase phase;
  uint64_t got, total;
};

struct mk_progress {
  FILE *out;
  int tty;
  size_t nrows, drawn;
  struct row *rows;
  struct timespec last;
  pthread_mutex_t lock;
};

static const char *const phase_names[] = {
    [MK_PHASE_WAITING] = "Waiting",
    [MK_PHASE_DOWNLOADING] = "Downloading",
    [MK_PHASE_VERIFYING] = "Verifying and extracting",
    [MK_PHASE_COMPLETE] = "Pull complete",
    [MK_PHASE_EXISTS] = "Already exists",
};

void mk_human_bytes(uint64_t n, char *out, size_t size)
{
  static const char *const units[] = {"B", "kB", "MB", "GB", "TB"};
  double v = (double)n;
  size_t u = 0;

  while (v >= 1000 && u + 1 < sizeof(units) / sizeof(units[0])) {
    v /= 1000;
    u++;
  }
  snprintf(out, size, "%.3g%s", v, units[u]);
}

struct mk_progress *mk_progress_new(FILE *out, size_t nrows,
                                    const char *const *ids)
{
  struct mk_progress *p = calloc(1, sizeof(*p));

  if (!p)
    return NULL;
  p->out = out;
  p->tty = out && isatty(fileno(out));
  p->nrows = nrows;
  p->rows = calloc(nrows ? nrows : 1, sizeof(*p->rows));
  for (size_t i = 0; p->rows && i < nrows; i++)
    snprintf(p->rows[i].id, sizeof(p->rows[i].id), "%.12s", ids[i]);
  pthread_mutex_init(&p->lock, NULL);
  return p;
}

void mk_progress_free(struct mk_progress *p)
{
  if (!p)
    return;
  pthread_mutex_destroy(&p->lock);
  free(p->rows);
  free(p);
}

static void draw_row(struct mk_progress *p, const struct row *r)
{
  char got[16], total[16], bar[BAR_WIDTH + 1];

  fprintf(p->out, "\r\033[K%s: %s", r->id, phase_names[r->phase]);
  if (r->phase == MK_PHASE_DOWNLOADING && r->total > 0) {
    size_t fill = (size_t)((double)r->got / (double)r->total * BAR_WIDTH);
    for (size_t i = 0; i < BAR_WIDTH; i++)
      bar[i] = i < fill ? '=' : (i == fill ? '>' : ' ');
    bar[BAR_WIDTH] = '\0';
    mk_human_bytes(r->got, got, sizeof(got));
    mk_human_bytes(r->total, total, sizeof(total));
    fprintf(p->out, " [%s]  %s/%s", bar, got, total);
  }
  fputc('\n', p->out);
}

/* Moves up over the block drawn last time and draws it again. */
static void redraw(struct mk_progress *p)
{
  if (p->drawn)
    fprintf(p->out, "\033[%zuA", p->drawn);
  for (size_t i = 0; i < p->nrows; i++)
    draw_row(p, &p->rows[i]);
  p->drawn = p->nrows;
  fflush(p->out);
  clock_gettime(CLOCK_MONOTONIC, &p->last);
}

static int due(const struct mk_progress *p)
{
  struct timespec now;

  clock_gettime(CLOCK_MONOTONIC, &now);
  return (now.tv_sec - p->last.tv_sec) * 1000000000L +
             (now.tv_nsec - p->last.tv_nsec) >=
         REDRAW_NS;
}

void mk_progress_update(struct mk_progress *p, size_t row, enum mk_phase ph,
                        uint64_t got, uint64_t total)
{
  if (!p || !p->out || row >= p->nrows)
    return;
  pthread_mutex_lock(&p->lock);
  struct row *r = &p->rows[row];
  int changed = r->phase != ph;
  r->phase = ph;
  r->got = got;
  r->total = total;
  if (p->tty && (changed || due(p)))
    redraw(p);
  else if (!p->tty && changed &&
           (ph == MK_PHASE_COMPLETE || ph == MK_PHASE_EXISTS)) {
    fprintf(p->out, "%s: %s\n", r->id, phase_names[ph]);
    fflush(p->out);
  }
  pthread_mutex_unlock(&p->lock);
}

void mk_progress_line(struct mk_progress *p, const char *text)
{
  if (!p || !p->out)
    return;
  pthread_mutex_lock(&p->lock);
  if (p->tty && p->drawn)
    redraw(p); /* the block's final state stays above the line */
  p->drawn = 0;
  fprintf(p->out, "%s\n", text);
  fflush(p->out);
  pthread_mutex_unlock(&p->lock);
}
