/* libFuzzer target for mk_ref_parse, mk_ref_name and mk_ref_display
 * (supervisor/image/reference.c): image references typed by users and found in
 * archives and registries.
 *
 * Properties, for any input:
 *   - no memory error, every field of a parsed reference is NUL-terminated
 *     inside its buffer;
 *   - a parsed reference has a domain, a path, and a tag or a digest, and a
 *     digest is always "sha256:" + 64 lowercase hex;
 *   - the canonical name (mk_ref_name) parses back to the same domain,
 *     path and tag (and digest, when there is no tag);
 *   - with -DMK_FUZZ_DISPLAY_ORACLE, the display form (mk_ref_display) also
 *     parses back to the same domain and path, except for Docker Hub
 *     repositories whose first component looks like a host
 *     ("docker.io/a.b/c" is shown as "a.b/c", which names registry a.b):
 *     Docker's FamiliarString does exactly the same, and Hub namespaces
 *     cannot contain '.' or ':'. Off by default: display is cosmetic, and
 *     a failure there would hide everything else in a run.
 *
 * Build and run: see tests/fuzz/README.md.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/reference.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TERMINATED(field) (memchr((field), '\0', sizeof(field)) != NULL)

static int valid_digest(const char *d)
{
  return strncmp(d, "sha256:", 7) == 0 && strlen(d) == 71 &&
         strspn(d + 7, "0123456789abcdef") == 64;
}

static void fail(const char *what, const char *text, const char *detail)
{
  fprintf(stderr, "fuzz_reference: %s\n  input:  `%s`\n  detail: `%s`\n", what,
          text, detail);
  abort();
}

static void check_fields(const struct mk_ref *ref, const char *text)
{
  if (!TERMINATED(ref->domain) || !TERMINATED(ref->path) ||
      !TERMINATED(ref->tag) || !TERMINATED(ref->digest))
    fail("field not NUL-terminated", text, "");
  if (!ref->domain[0] || !ref->path[0])
    fail("empty domain or path", text, ref->path);
  if (!ref->tag[0] && !ref->digest[0])
    fail("neither tag nor digest", text, "");
  if (ref->digest[0] && !valid_digest(ref->digest))
    fail("malformed digest accepted", text, ref->digest);
}

static void check_name_round_trip(const struct mk_ref *ref, const char *text)
{
  struct mk_ref again;
  mk_error_t err;
  char name[512];

  mk_ref_name(ref, name, sizeof(name));
  if (mk_ref_parse(name, &again, &err) < 0)
    fail("canonical name does not parse", text, name);
  if (strcmp(ref->domain, again.domain) != 0 ||
      strcmp(ref->path, again.path) != 0 || strcmp(ref->tag, again.tag) != 0 ||
      (!ref->tag[0] && strcmp(ref->digest, again.digest) != 0))
    fail("canonical name names another image", text, name);
}

#ifdef MK_FUZZ_DISPLAY_ORACLE
/* Docker Hub paths whose first component looks like a registry host. */
static int hub_path_looks_like_host(const struct mk_ref *ref)
{
  size_t first = strcspn(ref->path, "/");

  return strcmp(ref->domain, "docker.io") == 0 &&
         (memchr(ref->path, '.', first) || memchr(ref->path, ':', first) ||
          (first == 9 && strncmp(ref->path, "localhost", 9) == 0));
}

static void check_display_round_trip(const struct mk_ref *ref, const char *text,
                                     const char *shown)
{
  struct mk_ref again;
  mk_error_t err;

  if (hub_path_looks_like_host(ref))
    return; /* ambiguous in Docker too, see above */
  if (mk_ref_parse(shown, &again, &err) < 0)
    fail("display form does not parse", text, shown);
  if (strcmp(ref->domain, again.domain) != 0 ||
      strcmp(ref->path, again.path) != 0)
    fail("display form names another repository", text, shown);
}
#endif

static void check_display(const struct mk_ref *ref, const char *text)
{
  char shown[512];

  mk_ref_display(ref, shown, sizeof(shown));
  if (!shown[0])
    fail("empty display form", text, "");
#ifdef MK_FUZZ_DISPLAY_ORACLE
  check_display_round_trip(ref, text, shown);
#endif
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct mk_ref ref;
  mk_error_t err;
  char *text = malloc(size + 1);

  if (!text)
    return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  if (mk_ref_parse(text, &ref, &err) == 0) {
    check_fields(&ref, text);
    check_name_round_trip(&ref, text);
    check_display(&ref, text);
  } else if (!TERMINATED(err.msg) || !err.msg[0]) {
    fail("failure without a message", text, "");
  }
  free(text);
  return 0;
}
