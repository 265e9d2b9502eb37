/* What the workload runs: the image config merged with the command line,
 * the way Docker merges them. */
#ifndef MK_RUNSPEC_H
#define MK_RUNSPEC_H

#include <jansson.h>

#include "spec.h"
#include "mk_error.h"
#include "base/strv.h"

struct mk_runspec {
  struct mk_strv argv;
  struct mk_strv env;
  const char *workdir; /* "" for the image's default of / */
  const char *user;    /* "" for root */
};

/* Entrypoint + Cmd (args replace Cmd; --entrypoint resets Cmd), Env (image,
 * then PATH/HOSTNAME/TERM defaults, then -e), WorkingDir and User. */
int mk_runspec_build(const struct mk_spec *o, json_t *image_config,
                     const char *hostname, struct mk_runspec *rs,
                     mk_error_t *err);
void mk_runspec_free(struct mk_runspec *rs);

#endif
