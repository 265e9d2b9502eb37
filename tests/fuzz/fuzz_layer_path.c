/* libFuzzer target for mk_layer_clean_path, the tar entry path sanitiser
 * every layer entry and hard link target goes through before anything is
 * written (supervisor/image/layer.c).
 *
 * Properties, for any input and any output buffer size:
 *   - success only if the input has no ".." component;
 *   - the output never starts with "/", never has an empty, "." or ".."
 *     component, never ends with "/", and fits the buffer;
 *   - cleaning is idempotent;
 *   - with a large buffer, an input without ".." always succeeds.
 * The output buffer is heap-allocated at the exact size, so ASan catches
 * any write past it.
 *
 * Build and run (from the repository root), 30 s:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -std=gnu11 \
 *     -D_GNU_SOURCE -Ishared -Isupervisor -o build/fuzz_layer_path \
 *     tests/fuzz/fuzz_layer_path.c supervisor/image/layer.c supervisor/base/context.c \
 *     supervisor/base/strv.c shared/mk_pathres.c shared/mk_util.c \
 *     shared/mk_error.c -larchive
 *   mkdir -p build/fuzz-corpus/layer_path
 *   build/fuzz_layer_path -max_total_time=30 -max_len=8192 \
 *     build/fuzz-corpus/layer_path tests/fuzz/corpus/layer_path
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/layer.h"

#define BIG 8192

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 1 if s has a component equal to the n bytes at c. */
static int has_component(const char *s, const char *c, size_t n)
{
  while (*s) {
    const char *end = strchrnul(s, '/');
    if ((size_t)(end - s) == n && memcmp(s, c, n) == 0)
      return 1;
    s = *end ? end + 1 : end;
  }
  return 0;
}

static void check_output(const char *out, size_t cap)
{
  size_t len = strlen(out);

  if (len >= cap || out[0] == '/' || (len && out[len - 1] == '/') ||
      strstr(out, "//") || has_component(out, ".", 1) ||
      has_component(out, "..", 2))
    abort();
}

static void check_with_size(const char *in, size_t cap)
{
  char *out = malloc(cap ? cap : 1);
  char again[BIG];

  if (!out)
    abort();
  if (mk_layer_clean_path(in, out, cap) == 0) {
    check_output(out, cap);
    if (has_component(in, "..", 2))
      abort();
    if (mk_layer_clean_path(out, again, sizeof(again)) != 0 ||
        strcmp(out, again) != 0)
      abort();
  }
  free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *in;
  char out[BIG + 1];

  if (size == 0 || size > BIG)
    return 0;
  /* The first byte picks a small buffer size, the rest is the path. */
  in = malloc(size);
  if (!in)
    abort();
  memcpy(in, data + 1, size - 1);
  in[size - 1] = '\0';
  check_with_size(in, data[0] % 64);
  check_with_size(in, BIG);
  if (strlen(in) < BIG && !has_component(in, "..", 2) &&
      mk_layer_clean_path(in, out, sizeof(out)) != 0)
    abort();
  free(in);
  return 0;
}
