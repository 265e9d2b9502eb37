/* A container's run-time state: containers/<id>/state, a small
 * "key=value" text file written by whichever process supervises the
 * container (the foreground `mocker run`, or the detached monitor, which
 * links no JSON library). Every write replaces the file atomically.
 *
 * The file records what happened; the kernel says what is true. A
 * recorded pid is believed only while its start time (field 22 of
 * /proc/<pid>/stat) and the boot id still match, so a recycled pid or a
 * reboot can never make a dead container look alive. */
#ifndef MK_STATE_H
#define MK_STATE_H

#include <stdint.h>
#include <sys/types.h>

#include "mk_error.h"

#define MK_STATE_FILE "state"

struct mk_state {
  char status[16]; /* created, running, exited, removing */
  int pid;         /* the workload's pid on the host */
  int init_pid;    /* mocker-init's pid on the host */
  uint64_t init_start;
  int monitor_pid; /* the process supervising the container */
  uint64_t monitor_start;
  int exit_code;
  int oom_killed;
  int restart_count;
  char boot_id[40];
  char started_at[40]; /* RFC 3339, UTC, nanoseconds */
  char finished_at[40];
  char error[256];
};

/* Reads dir/state. A missing file reads as "created" (a container whose
 * creator died before the first write). */
int mk_state_read(const char *dir, struct mk_state *st, mk_error_t *err);

/* Writes dir/state through dir/state.tmp + rename. */
int mk_state_write(const char *dir, const struct mk_state *st, mk_error_t *err);

/* The start time of pid in clock ticks since boot, 0 if it is gone. */
uint64_t mk_proc_start_time(pid_t pid);

/* Whether pid still is the process that started at start. */
int mk_proc_matches(pid_t pid, uint64_t start);

/* This boot's id (/proc/sys/kernel/random/boot_id), "" if unreadable. */
void mk_boot_id(char out[40]);

/* secs since the epoch (and nanoseconds) as RFC 3339 UTC,
 * "2026-12-07T17:01:02.000000123Z", computed without the C library's
 * time zone code (it reads /etc/localtime). */
void mk_time_rfc3339(int64_t secs, long nsec, char *buf, size_t size);

/* The current time as RFC 3339 UTC with nanoseconds. */
void mk_time_now_rfc3339(char *buf, size_t size);

/* Records pid as the monitor, with its start time and this boot's id. */
void mk_state_set_monitor(struct mk_state *st, pid_t pid);

#endif
