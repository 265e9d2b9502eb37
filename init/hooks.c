#include "hooks.h"

#include <string.h>

#include "mk_hook.h"
#include "workload.h"

/* Every hook of kind, in order; the first failure stops them. */
static int run_kind(const struct mk_config *cfg, uint32_t kind,
                    const char *what, mk_hook_prepare_fn prepare, void *data,
                    mk_error_t *err)
{
  const char *state = cfg->hook_state[kind];

  for (size_t i = 0; i < cfg->nhooks; i++)
    if (cfg->hooks[i].kind == kind &&
        mk_hook_run(&cfg->hooks[i], what, state, strlen(state), prepare, data,
                    err) < 0)
      return -1;
  return 0;
}

int mk_hooks_create_container(const struct mk_config *cfg, mk_error_t *err)
{
  return run_kind(cfg, MK_HOOK_CREATE_CONTAINER, "createContainer hook", NULL,
                  NULL, err);
}

/* In the hook's child, before its exec. */
static int become_workload(void *data, mk_error_t *err)
{
  return mk_workload_become(data, err);
}

int mk_hooks_start_container(const struct mk_config *cfg,
                             const struct mk_user *user, mk_error_t *err)
{
  struct mk_workload w = {.cfg = cfg,
                          .user = user,
                          .pty_slave = -1,
                          .status_pipe = -1,
                          .report_sock = -1};

  return run_kind(cfg, MK_HOOK_START_CONTAINER, "startContainer hook",
                  become_workload, &w, err);
}
