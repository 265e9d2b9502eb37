/* Pull progress. On a terminal: one live line per layer, redrawn in
 * place like Docker's ("Downloading [=====>    ] 10.2MB/29.5MB"). Off a
 * terminal: one line per finished step. Thread-safe. */
#ifndef MK_PROGRESS_H
#define MK_PROGRESS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct mk_progress;

/* out may be NULL (silent). ids are the layers' short ids. */
struct mk_progress *mk_progress_new(FILE *out, size_t nrows,
                                    const char *const *ids);
void mk_progress_free(struct mk_progress *p);

enum mk_phase {
  MK_PHASE_WAITING,
  MK_PHASE_DOWNLOADING, /* got/total bytes */
  MK_PHASE_VERIFYING,
  MK_PHASE_COMPLETE,
  MK_PHASE_EXISTS,
};

void mk_progress_update(struct mk_progress *p, size_t row, enum mk_phase ph,
                        uint64_t got, uint64_t total);

/* A plain line outside the live block (e.g. "Digest: ..."). */
void mk_progress_line(struct mk_progress *p, const char *text);

/* Docker's byte units: "10.2MB". */
void mk_human_bytes(uint64_t n, char *out, size_t size);

#endif
