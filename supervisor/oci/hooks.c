#include "hooks.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/container.h"
#include "mk_hook.h"
#include "mk_proto.h"
#include "mk_util.h"

int mk_oci_hooks_of(const struct mk_container *c, struct mk_oci_hooks *h,
                    mk_error_t *err)
{
  if (mk_oci_hooks_parse(json_object_get(c->config, "Hooks"), h, err) < 0)
    return mk_error_prefix(err, "the hooks kept with the container");
  return 0;
}

char *mk_oci_hook_state(const char *id, const char *status, pid_t pid,
                        const char *bundle, json_t *annotations)
{
  json_auto_t *j = mk_oci_state_json(id, status, pid, bundle, annotations);

  return j ? json_dumps(j, JSON_COMPACT) : NULL;
}

/* The runtime-side view of one hook: no kind (init's only), its lists
 * as they are (a strv's NULL vector is an empty list). */
static struct mk_hook as_hook(const struct mk_oci_hook *oh, uint32_t kind)
{
  return (struct mk_hook){.kind = kind,
                          .timeout = oh->timeout,
                          .path = oh->path,
                          .argv = (const char *const *)oh->args.v,
                          .env = (const char *const *)oh->env.v};
}

static int run_one(const struct mk_oci_hook *oh, enum mk_oci_hook_kind kind,
                   const char *state, mk_error_t *err)
{
  struct mk_hook h = as_hook(oh, 0);
  char what[48];

  snprintf(what, sizeof(what), "%s hook", mk_oci_hook_names[kind]);
  return mk_hook_run(&h, what, state, strlen(state), NULL, NULL, err);
}

int mk_oci_hooks_run(const struct mk_oci_hooks *h, enum mk_oci_hook_kind kind,
                     const char *state, mk_error_t *err)
{
  for (size_t i = 0; i < h->n[kind]; i++)
    if (run_one(&h->list[kind][i], kind, state, err) < 0)
      return -1;
  return 0;
}

void mk_oci_hooks_run_warn(const struct mk_oci *o, const struct mk_oci_hooks *h,
                           enum mk_oci_hook_kind kind, const char *state)
{
  mk_error_t err;

  for (size_t i = 0; i < h->n[kind]; i++)
    if (run_one(&h->list[kind][i], kind, state, &err) < 0)
      mk_oci_warn(o, err.msg);
}

/* The hooks of kind as init's, appended to hooks[*n]. */
static void add_init_hooks(const struct mk_oci_hooks *h,
                           enum mk_oci_hook_kind kind, uint32_t init_kind,
                           struct mk_hook *hooks, size_t *n)
{
  for (size_t i = 0; i < h->n[kind]; i++)
    hooks[(*n)++] = as_hook(&h->list[kind][i], init_kind);
}

int mk_oci_hooks_to_init(const struct mk_oci_hooks *h, const char *creating,
                         const char *created, uint8_t *buf, size_t cap,
                         size_t *len, mk_error_t *err)
{
  size_t ncreate = h->n[MK_OCI_HOOK_CREATE_CONTAINER];
  size_t nstart = h->n[MK_OCI_HOOK_START_CONTAINER];
  struct mk_config cfg = {0};

  if (ncreate + nstart == 0)
    return 0;
  _cleanup_free_ struct mk_hook *hooks =
      calloc(ncreate + nstart, sizeof(*hooks));
  if (!hooks)
    return mk_error_set(err, ENOMEM, "out of memory");
  add_init_hooks(h, MK_OCI_HOOK_CREATE_CONTAINER, MK_HOOK_CREATE_CONTAINER,
                 hooks, &cfg.nhooks);
  add_init_hooks(h, MK_OCI_HOOK_START_CONTAINER, MK_HOOK_START_CONTAINER, hooks,
                 &cfg.nhooks);
  cfg.hooks = hooks;
  cfg.hook_state[MK_HOOK_CREATE_CONTAINER] = ncreate ? creating : NULL;
  cfg.hook_state[MK_HOOK_START_CONTAINER] = nstart ? created : NULL;
  if (mk_config_encode_hooks(&cfg, buf, cap, len, err) < 0)
    return mk_error_prefix(err, "hooks for mocker-init");
  return 0;
}
