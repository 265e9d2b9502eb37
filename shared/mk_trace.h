/* MOCKER_TRACE=1: a timestamped line on stderr at each step of a
 * container's start and end, from the supervisor and from mocker-init,
 * for bench/trace to turn into a breakdown (bench/README.md). Off, it
 * costs one test of a flag per step. */
#ifndef MK_TRACE_H
#define MK_TRACE_H

extern int mk_trace_on;

/* Reads MOCKER_TRACE once; who names the process in each line. */
void mk_trace_setup(const char *who);

/* "mocker-trace <CLOCK_MONOTONIC µs> <who> <pid> <step>", one write. */
void mk_trace_step(const char *step);

#define MK_TRACE(step)                                                         \
  do {                                                                         \
    if (mk_trace_on)                                                           \
      mk_trace_step(step);                                                     \
  } while (0)

#endif
