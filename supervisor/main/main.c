/* One binary, two fronts on one engine. Called `mocker`, it speaks
 * Docker's CLI (cli/); called `mocker-runtime` (a link to it), the OCI
 * runtime CLI that containerd, CRI-O and podman call, runc's (oci/). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/docker.h"
#include "oci/oci.h"
#include "mk_trace.h"

static const char *program_name(const char *argv0)
{
  const char *slash = argv0 ? strrchr(argv0, '/') : NULL;

  return slash ? slash + 1 : argv0 ? argv0 : "";
}

/* Out through _exit once stdio is flushed: the libraries' destructors
 * have nothing to do that the kernel does not do anyway at exit, and
 * nothing of ours is registered with atexit (bench/trace's "exit" step).
 * The sanitizer build returns: LeakSanitizer checks at exit. */
int main(int argc, char **argv)
{
  mk_trace_setup("mocker");
  MK_TRACE("main");
  int rc = strcmp(program_name(argv[0]), MK_OCI_PROGRAM) == 0
               ? mk_oci_main(argc, argv)
               : mk_docker_main(argc, argv);
#if defined(__SANITIZE_ADDRESS__)
  return rc; /* LeakSanitizer checks at exit */
#else
  fflush(NULL); /* as exit would, errors ignored */
  _exit(rc);
#endif
}
