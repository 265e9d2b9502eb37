/* libFuzzer target for mk_seccomp_compile (supervisor/isolation/seccomp.c): Docker's
 * JSON seccomp profiles, which users pass with --security-opt
 * seccomp=FILE. The input is compiled to BPF for a few capability sets,
 * with ctx NULL: no cache, nothing written, nothing installed.
 *
 * Properties, for any input:
 *   - no memory error;
 *   - a failure leaves *bpf NULL and a non-empty, NUL-terminated message
 *     naming the profile ("seccomp profile: ...");
 *   - a success yields a program init can install: whole 8-byte
 *     instructions, at most MK_MAX_SECCOMP_BYTES, ending with BPF_RET;
 *   - the outcome (success or failure) does not depend on the
 *     capability set, except through includes/excludes, so it is only
 *     checked to be deterministic: the same caps twice give the same
 *     bytes.
 *
 * Build and run: see tests/fuzz/README.md; sources:
 *   tests/fuzz/fuzz_seccomp.c supervisor/isolation/seccomp.c
 *   supervisor/isolation/seccomp_default.c supervisor/isolation/caps.c shared/mk_*.c
 *   -ljansson -lseccomp -lcap-ng -lnettle
 */
#include <linux/filter.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mk_proto.h"
#include "isolation/seccomp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const uint8_t *data, size_t size)
{
  fprintf(stderr, "fuzz_seccomp: %s\n  input (%zu bytes): `%.*s`\n", what, size,
          (int)(size > 400 ? 400 : size), (const char *)data);
  abort();
}

static void check_program(const uint8_t *bpf, size_t len, const uint8_t *data,
                          size_t size)
{
  struct sock_filter last;

  if (!bpf || len == 0 || len % 8 || len > MK_MAX_SECCOMP_BYTES)
    fail("program of an impossible size", data, size);
  memcpy(&last, bpf + len - sizeof(last), sizeof(last));
  if (BPF_CLASS(last.code) != BPF_RET)
    fail("program does not end with a return", data, size);
}

static void compile_with(uint64_t caps, const uint8_t *data, size_t size)
{
  uint8_t *bpf = NULL, *again = NULL;
  size_t len = 0, again_len = 0;
  mk_error_t err = {0};
  int rc = mk_seccomp_compile(NULL, (const char *)data, size, caps, &bpf, &len,
                              &err);

  if (rc < 0) {
    if (bpf || !memchr(err.msg, '\0', sizeof(err.msg)) || !err.msg[0] ||
        !strstr(err.msg, "seccomp profile"))
      fail("failure without a clean message", data, size);
    return;
  }
  check_program(bpf, len, data, size);
  if (mk_seccomp_compile(NULL, (const char *)data, size, caps, &again,
                         &again_len, &err) < 0 ||
      again_len != len || memcmp(again, bpf, len) != 0)
    fail("same input, different program", data, size);
  free(bpf);
  free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  /* nothing; Docker's default 14 (CHOWN ... SETFCAP); everything */
  compile_with(0, data, size);
  compile_with(0xa80425fbULL, data, size);
  compile_with(~0ULL, data, size);
  return 0;
}
