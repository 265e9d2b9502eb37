/* One binary, two fronts on one engine. Called `mocker`, it speaks
 * Docker's CLI (cli/); called `mocker-runtime` (a link to it), the OCI
 * runtime CLI that containerd, CRI-O and podman call, runc's (oci/). */
#include <string.h>

#include "cli/docker.h"
#include "oci/oci.h"
#include "mk_trace.h"

static const char *program_name(const char *argv0)
{
  const char *slash = argv0 ? strrchr(argv0, '/') : NULL;

  return slash ? slash + 1 : argv0 ? argv0 : "";
}

int main(int argc, char **argv)
{
  mk_trace_setup("mocker");
  MK_TRACE("main");
  if (strcmp(program_name(argv[0]), MK_OCI_PROGRAM) == 0)
    return mk_oci_main(argc, argv);
  return mk_docker_main(argc, argv);
}
