#include "mk_trace.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int mk_trace_on;
static const char *trace_who = "?";

void mk_trace_setup(const char *who)
{
  const char *v = getenv("MOCKER_TRACE");

  mk_trace_on = v && strcmp(v, "1") == 0;
  trace_who = who;
}

void mk_trace_step(const char *step)
{
  struct timespec ts;
  char line[160];

  clock_gettime(CLOCK_MONOTONIC, &ts);
  int n = snprintf(line, sizeof(line), "mocker-trace %lld %s %d %s\n",
                   (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000,
                   trace_who, (int)getpid(), step);
  if (n > 0)
    (void)!write(STDERR_FILENO, line,
                 (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}
