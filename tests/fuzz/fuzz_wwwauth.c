/* libFuzzer target for mk_parse_www_authenticate (supervisor/image/registry.c):
 * the WWW-Authenticate header of a registry's 401, which decides where
 * mocker sends its credentials for a token.
 *
 * Properties, for any input:
 *   - no memory error, no hang;
 *   - on success the scheme is non-empty and every output is
 *     NUL-terminated inside its buffer (16, 1024, 256, 512 bytes, each
 *     heap-allocated at that exact size so ASan catches an overflow);
 *   - realm, service and scope are made of the input's bytes in order (a
 *     subsequence: the parser copies and may drop quoting backslashes,
 *     it never invents bytes).
 *
 * Build and run: see tests/fuzz/README.md.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const char *text, const char *detail)
{
  fprintf(stderr, "fuzz_wwwauth: %s\n  input:  `%s`\n  detail: `%s`\n", what,
          text, detail);
  abort();
}

/* Whether every byte of sub appears in s, in order. */
static int is_subsequence(const char *sub, const char *s)
{
  for (; *sub; sub++) {
    s = strchr(s, *sub);
    if (!s)
      return 0;
    s++;
  }
  return 1;
}

static void check_output(const char *field, size_t cap, const char *text)
{
  if (!memchr(field, '\0', cap))
    fail("output not NUL-terminated", text, "");
  if (!is_subsequence(field, text))
    fail("output is not part of the input", text, field);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *text = malloc(size + 1);
  char *scheme = malloc(16), *realm = malloc(1024);
  char *service = malloc(256), *scope = malloc(512);

  if (!text || !scheme || !realm || !service || !scope)
    goto out;
  memcpy(text, data, size);
  text[size] = '\0';
  if (mk_parse_www_authenticate(text, scheme, realm, service, scope) == 0) {
    if (!memchr(scheme, '\0', 16) || !scheme[0])
      fail("empty or unterminated scheme", text, "");
    check_output(realm, 1024, text);
    check_output(service, 256, text);
    check_output(scope, 512, text);
  }
out:
  free(text);
  free(scheme);
  free(realm);
  free(service);
  free(scope);
  return 0;
}
