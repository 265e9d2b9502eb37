/* libFuzzer target for mk_oci_config_parse (supervisor/oci/config.c): a
 * bundle's config.json, which containerd, CRI-O and podman write from
 * what users and images ask for.
 *
 * Properties, for any input:
 *   - no memory error or leak, on success and on every refusal;
 *   - a refusal names config.json in its message;
 *   - an accepted config has a root path, namespace types all distinct
 *     and known, absolute mount destinations and, with a process, a
 *     non-empty args and an absolute cwd; every hook has an absolute path
 *     and only NAME=value env entries;
 *   - parsing is a function of the input: the same bytes parse the same
 *     way twice.
 *
 * Build and run: see tests/fuzz/README.md.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oci/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const char *detail)
{
  fprintf(stderr, "fuzz_oci_config: %s: %s\n", what, detail);
  abort();
}

static void check_accepted(const struct mk_oci_config *c)
{
  if (!c->root_path || !*c->root_path)
    fail("accepted without root.path", "");
  for (size_t i = 0; i < c->nnamespaces; i++) {
    if (c->namespaces[i].type <= 0)
      fail("accepted an unknown namespace", "");
    for (size_t j = 0; j < i; j++)
      if (c->namespaces[i].type == c->namespaces[j].type)
        fail("accepted a namespace twice", "");
  }
  for (size_t i = 0; i < c->nmounts; i++)
    if (!c->mounts[i].destination || c->mounts[i].destination[0] != '/')
      fail("accepted a relative mount destination", "");
  if (c->has_process &&
      (c->process.args.n == 0 || !c->process.cwd || c->process.cwd[0] != '/'))
    fail("accepted a process without args or an absolute cwd", "");
  for (int k = 0; k < MK_OCI_NHOOK_KINDS; k++)
    for (size_t i = 0; i < c->hook_list.n[k]; i++) {
      const struct mk_oci_hook *h = &c->hook_list.list[k][i];
      if (!h->path || h->path[0] != '/')
        fail("accepted a hook without an absolute path", "");
      for (size_t e = 0; e < h->env.n; e++)
        if (h->env.v[e][0] == '=' || !strchr(h->env.v[e], '='))
          fail("accepted a hook env entry that is not NAME=value", h->env.v[e]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct mk_oci_config c, again;
  mk_error_t err = {0}, err2 = {0};
  int rc = mk_oci_config_parse((const char *)data, size, &c, &err);
  int rc2 = mk_oci_config_parse((const char *)data, size, &again, &err2);

  if (rc != rc2 || (rc < 0 && strcmp(err.msg, err2.msg) != 0))
    fail("two parses of the same bytes differ", err.msg);
  if (rc < 0) {
    if (!strstr(err.msg, "config.json"))
      fail("a refusal does not name config.json", err.msg);
    return 0;
  }
  check_accepted(&c);
  mk_oci_config_free(&c);
  mk_oci_config_free(&again);
  return 0;
}
