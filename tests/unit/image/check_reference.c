/* Unit tests for supervisor/image/reference: image references parsed and
 * normalised as Docker does (github.com/distribution/reference:
 * ParseNormalizedNamed and its grammar in regexp.go), and Docker's short
 * display form (FamiliarString). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <check.h>

#include "unit_main.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "image/reference.h"

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define DIGEST "sha256:" HEX64

/* Parsing must succeed; the failure report shows the parser's message. */
#define ASSERT_REF_OK(text, ref)                                               \
  do {                                                                         \
    mk_error_t _e = {0};                                                       \
    int _r = mk_ref_parse((text), &(ref), &_e);                                \
    ck_assert_msg(_r == 0, "`%s` rejected: %s", (text), _e.msg);               \
  } while (0)

/* Parsing must fail with EINVAL and Docker's "invalid reference format". */
#define ASSERT_REF_INVALID(text)                                               \
  do {                                                                         \
    struct mk_ref _ref;                                                        \
    mk_error_t _e = {0};                                                       \
    int _r = mk_ref_parse((text), &_ref, &_e);                                 \
    ck_assert_msg(_r == -1,                                                    \
                  "`%s` accepted as domain `%s` path `%s` tag `%s` digest "    \
                  "`%s`",                                                      \
                  (text), _ref.domain, _ref.path, _ref.tag, _ref.digest);      \
    ck_assert_int_eq(_e.err, EINVAL);                                          \
    ck_assert_msg(strstr(_e.msg, "invalid reference format") != NULL,          \
                  "unclear error `%s`", _e.msg);                               \
  } while (0)

/* Parses text and checks every field and the canonical name. */
static void expect_ref(const char *text, const char *domain, const char *path,
                       const char *tag, const char *digest, const char *name)
{
  struct mk_ref ref;
  char out[512];

  ASSERT_REF_OK(text, ref);
  ck_assert_str_eq(ref.domain, domain);
  ck_assert_str_eq(ref.path, path);
  ck_assert_str_eq(ref.tag, tag);
  ck_assert_str_eq(ref.digest, digest);
  mk_ref_name(&ref, out, sizeof(out));
  ck_assert_str_eq(out, name);
}

static void expect_display(const char *text, const char *shown)
{
  struct mk_ref ref;
  char out[512];

  ASSERT_REF_OK(text, ref);
  mk_ref_display(&ref, out, sizeof(out));
  ck_assert_str_eq(out, shown);
}

/* A string of n copies of c (n < size). */
static const char *repeat(char *buf, size_t size, char c, size_t n)
{
  ck_assert_uint_lt(n, size);
  memset(buf, c, n);
  buf[n] = '\0';
  return buf;
}

/* ---- normalisation ---- */

START_TEST(test_official_image)
{
  expect_ref("ubuntu", "docker.io", "library/ubuntu", "latest", "",
             "docker.io/library/ubuntu:latest");
}
END_TEST

START_TEST(test_official_image_with_tag)
{
  expect_ref("busybox:1.36", "docker.io", "library/busybox", "1.36", "",
             "docker.io/library/busybox:1.36");
}
END_TEST

START_TEST(test_user_repo_tag)
{
  expect_ref("user/repo:tag", "docker.io", "user/repo", "tag", "",
             "docker.io/user/repo:tag");
}
END_TEST

START_TEST(test_explicit_docker_io)
{
  expect_ref("docker.io/ubuntu", "docker.io", "library/ubuntu", "latest", "",
             "docker.io/library/ubuntu:latest");
  expect_ref("docker.io/library/ubuntu:22.04", "docker.io", "library/ubuntu",
             "22.04", "", "docker.io/library/ubuntu:22.04");
  expect_ref("docker.io/user/repo", "docker.io", "user/repo", "latest", "",
             "docker.io/user/repo:latest");
}
END_TEST

START_TEST(test_localhost_is_a_host)
{
  expect_ref("localhost/x", "localhost", "x", "latest", "",
             "localhost/x:latest");
}
END_TEST

START_TEST(test_localhost_port_nested_path)
{
  expect_ref("localhost:5000/a/b:t", "localhost:5000", "a/b", "t", "",
             "localhost:5000/a/b:t");
}
END_TEST

/* Without a slash there is no domain: "localhost:5000" is the official
 * image "localhost" with tag "5000", exactly as Docker reads it. */
START_TEST(test_bare_host_port_is_name_and_tag)
{
  expect_ref("localhost:5000", "docker.io", "library/localhost", "5000", "",
             "docker.io/library/localhost:5000");
}
END_TEST

START_TEST(test_dotted_host_no_library_prefix)
{
  expect_ref("registry.example.com/x", "registry.example.com", "x", "latest",
             "", "registry.example.com/x:latest");
}
END_TEST

START_TEST(test_first_component_without_dot_is_path)
{
  /* "myhost" has no '.' or ':' and is not localhost: a Hub namespace */
  expect_ref("myhost/img", "docker.io", "myhost/img", "latest", "",
             "docker.io/myhost/img:latest");
}
END_TEST

START_TEST(test_host_port_digest)
{
  expect_ref("host.tld:443/ns/img@" DIGEST, "host.tld:443", "ns/img", "",
             DIGEST, "host.tld:443/ns/img@" DIGEST);
}
END_TEST

START_TEST(test_ipv6_host)
{
  expect_ref("[::1]:5000/img:1", "[::1]:5000", "img", "1", "",
             "[::1]:5000/img:1");
}
END_TEST

START_TEST(test_tag_and_digest_both_kept)
{
  struct mk_ref ref;

  ASSERT_REF_OK("img:tag@" DIGEST, ref);
  ck_assert_str_eq(ref.domain, "docker.io");
  ck_assert_str_eq(ref.path, "library/img");
  ck_assert_str_eq(ref.tag, "tag");
  ck_assert_str_eq(ref.digest, DIGEST);
}
END_TEST

START_TEST(test_digest_only_has_no_default_tag)
{
  expect_ref("img@" DIGEST, "docker.io", "library/img", "", DIGEST,
             "docker.io/library/img@" DIGEST);
}
END_TEST

/* A port that looks like a tag must not be mistaken for one. */
START_TEST(test_port_is_not_a_tag)
{
  expect_ref("example.com:5000/img", "example.com:5000", "img", "latest", "",
             "example.com:5000/img:latest");
}
END_TEST

START_TEST(test_parse_resets_previous_contents)
{
  struct mk_ref ref;

  ASSERT_REF_OK("a:t@" DIGEST, ref);
  ASSERT_REF_OK("localhost/b", ref);
  ck_assert_str_eq(ref.tag, "latest");
  ck_assert_str_eq(ref.digest, "");
}
END_TEST

/* ---- repository names ---- */

START_TEST(test_uppercase_repo_rejected)
{
  ASSERT_REF_INVALID("Ubuntu");
  ASSERT_REF_INVALID("ubuntU:latest");
  ASSERT_REF_INVALID("user/Repo");
  ASSERT_REF_INVALID("example.com/Img");
}
END_TEST

START_TEST(test_uppercase_allowed_in_tag_and_domain)
{
  expect_ref("ubuntu:Latest", "docker.io", "library/ubuntu", "Latest", "",
             "docker.io/library/ubuntu:Latest");
  expect_ref("Registry.Example.com/img", "Registry.Example.com", "img",
             "latest", "", "Registry.Example.com/img:latest");
}
END_TEST

START_TEST(test_separators_allowed)
{
  /* separator = [._] | __ | -+ */
  expect_ref("a.b", "docker.io", "library/a.b", "latest", "",
             "docker.io/library/a.b:latest");
  expect_ref("a_b", "docker.io", "library/a_b", "latest", "",
             "docker.io/library/a_b:latest");
  expect_ref("a__b", "docker.io", "library/a__b", "latest", "",
             "docker.io/library/a__b:latest");
  expect_ref("a-b", "docker.io", "library/a-b", "latest", "",
             "docker.io/library/a-b:latest");
  expect_ref("a---b/c-d", "docker.io", "a---b/c-d", "latest", "",
             "docker.io/a---b/c-d:latest");
}
END_TEST

START_TEST(test_bad_separators_rejected)
{
  ASSERT_REF_INVALID("a..b");
  ASSERT_REF_INVALID("a._b");
  ASSERT_REF_INVALID("a_.b");
  ASSERT_REF_INVALID("a-_b");
  ASSERT_REF_INVALID("a_-b");
  ASSERT_REF_INVALID(".a");
  ASSERT_REF_INVALID("-a");
  ASSERT_REF_INVALID("_a");
  ASSERT_REF_INVALID("a.");
  ASSERT_REF_INVALID("a-");
  ASSERT_REF_INVALID("a_");
  ASSERT_REF_INVALID("a/.b");
  ASSERT_REF_INVALID("a/b-/c");
}
END_TEST

/* Three underscores are not a separator ([._] | __ | -+): Docker rejects
 * "a___b". */
START_TEST(test_triple_underscore_rejected)
{
  ASSERT_REF_INVALID("a___b");
  ASSERT_REF_INVALID("user/a____b:t");
}
END_TEST

START_TEST(test_empty_and_slashes_rejected)
{
  ASSERT_REF_INVALID("");
  ASSERT_REF_INVALID("/");
  ASSERT_REF_INVALID("//");
  ASSERT_REF_INVALID("/a");
  ASSERT_REF_INVALID("a/");
  ASSERT_REF_INVALID("a//b");
  ASSERT_REF_INVALID("a/b/");
  ASSERT_REF_INVALID("example.com/");
  ASSERT_REF_INVALID("localhost/");
  ASSERT_REF_INVALID(":tag");
  ASSERT_REF_INVALID("@" DIGEST);
}
END_TEST

START_TEST(test_bad_characters_rejected)
{
  ASSERT_REF_INVALID("a b");
  ASSERT_REF_INVALID("a\tb");
  ASSERT_REF_INVALID("a:b:c");
  ASSERT_REF_INVALID("a/b:c/d");
  ASSERT_REF_INVALID("caf\xc3\xa9");
}
END_TEST

START_TEST(test_overlong_input_rejected)
{
  char buf[1024];

  ASSERT_REF_INVALID(repeat(buf, sizeof(buf), 'a', 600));
}
END_TEST

/* ---- domains ---- */

/* Docker's grammar allows only domain-name components ([a-zA-Z0-9] with
 * inner '-'), an IPv6 address in brackets, and an optional numeric port.
 * The domain goes into URLs ("https://<domain>/v2/...") and into paths
 * (certs.d/<domain>/ca.crt), so "user@evil.example/x", "a?b.com/x" or
 * "../x" must not get through. */
START_TEST(test_invalid_domain_rejected)
{
  ASSERT_REF_INVALID("user@evil.example/x");
  ASSERT_REF_INVALID("evil.example?.com/x");
  ASSERT_REF_INVALID("evil.example#.com/x");
  ASSERT_REF_INVALID("../x");
  ASSERT_REF_INVALID("a..b.com/x");
  ASSERT_REF_INVALID("-bad.com/x");
  ASSERT_REF_INVALID("bad-.com/x");
  ASSERT_REF_INVALID("exa_mple.com/x");
  ASSERT_REF_INVALID("host:abc/x");
  ASSERT_REF_INVALID("host:/x");
  ASSERT_REF_INVALID(":5000/x");
  ASSERT_REF_INVALID("a:b:c/x");
  ASSERT_REF_INVALID("a:x/y");
  ASSERT_REF_INVALID("a b.com/x");
  ASSERT_REF_INVALID("a\nb.com/x");
  ASSERT_REF_INVALID("a.b./x");
  ASSERT_REF_INVALID("[::1]5000/x");
  ASSERT_REF_INVALID("[::1]:/x");
}
END_TEST

START_TEST(test_good_domains)
{
  expect_ref("1.2.3.4:5000/x", "1.2.3.4:5000", "x", "latest", "",
             "1.2.3.4:5000/x:latest");
  expect_ref("xn--bcher-kva.example/x", "xn--bcher-kva.example", "x", "latest",
             "", "xn--bcher-kva.example/x:latest");
  expect_ref("[::1]/x", "[::1]", "x", "latest", "", "[::1]/x:latest");
  expect_ref("[fe80::1:2]:443/x", "[fe80::1:2]:443", "x", "latest", "",
             "[fe80::1:2]:443/x:latest");
}
END_TEST

/* BUG: an IPv6 literal needs at least one hex digit or colon between the
 * brackets (ipv6address = \[(?:[a-fA-F0-9:]+)\]); "[]:5000" is no host. */
START_TEST(test_empty_ipv6_brackets_rejected)
{
  ASSERT_REF_INVALID("[]:5000/x");
}
END_TEST

/* Docker canonicalises the legacy Hub domain index.docker.io to
 * docker.io (and then adds library/), so "index.docker.io/ubuntu" is
 * docker.io/library/ubuntu:latest. */
START_TEST(test_legacy_index_domain_normalised)
{
  expect_ref("index.docker.io/ubuntu", "docker.io", "library/ubuntu", "latest",
             "", "docker.io/library/ubuntu:latest");
  expect_ref("index.docker.io/user/repo:1", "docker.io", "user/repo", "1", "",
             "docker.io/user/repo:1");
}
END_TEST

/* Docker limits the name (domain + "/" + path) to 255 characters
 * (NameTotalLengthMax, "repository name must not be more than 255
 * characters"). */
START_TEST(test_name_over_255_chars_rejected)
{
  char text[512], path[300];

  snprintf(text, sizeof(text), "example.com/%s",
           repeat(path, sizeof(path), 'a', 250));
  ASSERT_REF_INVALID(text);
  /* 244 + "/" + 10 = 255: at the limit, accepted */
  snprintf(text, sizeof(text), "%s.com/aaaaaaaaaa",
           repeat(path, sizeof(path), 'b', 240));
  struct mk_ref ref;
  ASSERT_REF_OK(text, ref);
}
END_TEST

/* BUG (found by fuzz_reference): an official-image name of 248 to 503
 * characters is accepted with an EMPTY path. "library/" + name overflows
 * ref->path (256), mk_snprintf refuses the truncation and leaves "", and
 * mk_ref_parse ignores its return value; the 255-character name check
 * then passes because the path is empty. Every such name becomes
 * "docker.io/:latest" (mk_ref_name), one store key for all of them.
 * Docker rejects them (docker.io/library/<248> is over 255). */
START_TEST(test_long_official_name_not_emptied)
{
  char text[512], name[300];

  /* docker.io/library/ + 237 = 255: accepted, path kept whole */
  repeat(name, sizeof(name), 'a', 237);
  struct mk_ref ref;
  ASSERT_REF_OK(name, ref);
  ck_assert_uint_eq(strlen(ref.path), 8 + 237);
  /* one more character is over Docker's limit */
  ASSERT_REF_INVALID(repeat(name, sizeof(name), 'a', 238));
  ASSERT_REF_INVALID(repeat(name, sizeof(name), 'a', 248));
  snprintf(text, sizeof(text), "%s:t", repeat(name, sizeof(name), 'a', 290));
  ASSERT_REF_INVALID(text);
}
END_TEST

/* ---- tags ---- */

START_TEST(test_good_tags)
{
  char text[200], tag[200];

  expect_ref("a:_x", "docker.io", "library/a", "_x", "",
             "docker.io/library/a:_x");
  expect_ref("a:1.0-rc_1", "docker.io", "library/a", "1.0-rc_1", "",
             "docker.io/library/a:1.0-rc_1");
  snprintf(text, sizeof(text), "a:%s", repeat(tag, sizeof(tag), 't', 128));
  struct mk_ref ref;
  ASSERT_REF_OK(text, ref);
  ck_assert_uint_eq(strlen(ref.tag), 128);
}
END_TEST

START_TEST(test_bad_tags)
{
  char text[200], tag[200];

  ASSERT_REF_INVALID("a:");
  ASSERT_REF_INVALID("a:-x");
  ASSERT_REF_INVALID("a:.x");
  ASSERT_REF_INVALID("a:x+y");
  ASSERT_REF_INVALID("a:\xc3\xa9");
  ASSERT_REF_INVALID("example.com:5000/a:");
  snprintf(text, sizeof(text), "a:%s", repeat(tag, sizeof(tag), 't', 129));
  ASSERT_REF_INVALID(text);
}
END_TEST

/* ---- digests ---- */

START_TEST(test_bad_digests)
{
  ASSERT_REF_INVALID("a@");
  ASSERT_REF_INVALID("a@sha256:");
  /* 63 and 65 hex digits */
  ASSERT_REF_INVALID("a@sha256:"
                     "123456789abcdef0123456789abcdef"
                     "0123456789abcdef0123456789abcdef");
  ASSERT_REF_INVALID("a@" DIGEST "0");
  /* go-digest accepts only lowercase hex for sha256 */
  ASSERT_REF_INVALID("a@sha256:0123456789ABCDEF0123456789abcdef"
                     "0123456789abcdef0123456789abcdef");
  /* sha512 is valid for Docker; mocker supports sha256 only */
  ASSERT_REF_INVALID("a@sha512:" HEX64 HEX64);
  ASSERT_REF_INVALID("a@md5:0123456789abcdef0123456789abcdef");
  ASSERT_REF_INVALID("a@" HEX64);
  ASSERT_REF_INVALID("a@" DIGEST "@" DIGEST);
  ASSERT_REF_INVALID("a@" DIGEST ":tag");
}
END_TEST

/* ---- name and display ---- */

START_TEST(test_name_truncates_safely)
{
  struct mk_ref ref;
  char out[8];

  ASSERT_REF_OK("ubuntu", ref);
  memset(out, 'x', sizeof(out));
  mk_ref_name(&ref, out, sizeof(out));
  ck_assert_str_eq(out, "docker.");
  memset(out, 'x', sizeof(out));
  mk_ref_display(&ref, out, sizeof(out));
  ck_assert_str_eq(out, "ubuntu:");
}
END_TEST

START_TEST(test_name_round_trips)
{
  static const char *const refs[] = {
      "ubuntu",          "user/repo:tag", "localhost:5000/a/b:t",
      "localhost/x",     "img@" DIGEST,   "registry.example.com/x",
      "[::1]:5000/img:1"};

  for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]); i++) {
    struct mk_ref a, b;
    char name[512];

    ASSERT_REF_OK(refs[i], a);
    mk_ref_name(&a, name, sizeof(name));
    ASSERT_REF_OK(name, b);
    ck_assert_msg(memcmp(&a, &b, sizeof(a)) == 0, "`%s` -> `%s` changed",
                  refs[i], name);
  }
}
END_TEST

START_TEST(test_display_official)
{
  expect_display("docker.io/library/busybox:latest", "busybox:latest");
  expect_display("busybox", "busybox:latest");
}
END_TEST

START_TEST(test_display_hub_user_repo)
{
  expect_display("docker.io/user/repo:1", "user/repo:1");
}
END_TEST

START_TEST(test_display_other_registry_keeps_host)
{
  expect_display("localhost:5000/x:1", "localhost:5000/x:1");
  expect_display("registry.example.com/library/busybox:latest",
                 "registry.example.com/library/busybox:latest");
  expect_display("localhost/library/x", "localhost/library/x:latest");
}
END_TEST

START_TEST(test_display_digest)
{
  expect_display("busybox@" DIGEST, "busybox@" DIGEST);
  expect_display("example.com/a@" DIGEST, "example.com/a@" DIGEST);
}
END_TEST

/* Docker's familiar form drops "library/" only when nothing nested
 * follows (familiarizeName): docker.io/library/a/b stays "library/a/b";
 * "a/b" would name a different repository (docker.io/a/b). */
START_TEST(test_display_nested_library_kept)
{
  expect_display("docker.io/library/a/b:t", "library/a/b:t");
}
END_TEST

/* The display form must parse back to the same reference. */
START_TEST(test_display_round_trips)
{
  static const char *const refs[] = {
      "ubuntu",      "user/repo:tag",          "localhost:5000/a/b:t",
      "img@" DIGEST, "registry.example.com/x", "library/a/b:t"};

  for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]); i++) {
    struct mk_ref a, b;
    char shown[512];

    ASSERT_REF_OK(refs[i], a);
    mk_ref_display(&a, shown, sizeof(shown));
    ASSERT_REF_OK(shown, b);
    ck_assert_msg(
        strcmp(a.domain, b.domain) == 0 && strcmp(a.path, b.path) == 0,
        "`%s` shown as `%s`, which is %s/%s", refs[i], shown, b.domain, b.path);
  }
}
END_TEST

static Suite *reference_suite(void)
{
  Suite *s = suite_create("reference");
  TCase *tc = tcase_create("normalise");

  tcase_add_test(tc, test_official_image);
  tcase_add_test(tc, test_official_image_with_tag);
  tcase_add_test(tc, test_user_repo_tag);
  tcase_add_test(tc, test_explicit_docker_io);
  tcase_add_test(tc, test_localhost_is_a_host);
  tcase_add_test(tc, test_localhost_port_nested_path);
  tcase_add_test(tc, test_bare_host_port_is_name_and_tag);
  tcase_add_test(tc, test_dotted_host_no_library_prefix);
  tcase_add_test(tc, test_first_component_without_dot_is_path);
  tcase_add_test(tc, test_host_port_digest);
  tcase_add_test(tc, test_ipv6_host);
  tcase_add_test(tc, test_tag_and_digest_both_kept);
  tcase_add_test(tc, test_digest_only_has_no_default_tag);
  tcase_add_test(tc, test_port_is_not_a_tag);
  tcase_add_test(tc, test_parse_resets_previous_contents);
  suite_add_tcase(s, tc);

  tc = tcase_create("names");
  tcase_add_test(tc, test_uppercase_repo_rejected);
  tcase_add_test(tc, test_uppercase_allowed_in_tag_and_domain);
  tcase_add_test(tc, test_separators_allowed);
  tcase_add_test(tc, test_bad_separators_rejected);
  tcase_add_test(tc, test_triple_underscore_rejected);
  tcase_add_test(tc, test_empty_and_slashes_rejected);
  tcase_add_test(tc, test_bad_characters_rejected);
  tcase_add_test(tc, test_overlong_input_rejected);
  suite_add_tcase(s, tc);

  tc = tcase_create("domains");
  tcase_add_test(tc, test_invalid_domain_rejected);
  tcase_add_test(tc, test_good_domains);
  tcase_add_test(tc, test_empty_ipv6_brackets_rejected);
  tcase_add_test(tc, test_legacy_index_domain_normalised);
  tcase_add_test(tc, test_name_over_255_chars_rejected);
  tcase_add_test(tc, test_long_official_name_not_emptied);
  suite_add_tcase(s, tc);

  tc = tcase_create("tags_digests");
  tcase_add_test(tc, test_good_tags);
  tcase_add_test(tc, test_bad_tags);
  tcase_add_test(tc, test_bad_digests);
  suite_add_tcase(s, tc);

  tc = tcase_create("display");
  tcase_add_test(tc, test_name_truncates_safely);
  tcase_add_test(tc, test_name_round_trips);
  tcase_add_test(tc, test_display_official);
  tcase_add_test(tc, test_display_hub_user_repo);
  tcase_add_test(tc, test_display_other_registry_keeps_host);
  tcase_add_test(tc, test_display_digest);
  tcase_add_test(tc, test_display_nested_library_kept);
  tcase_add_test(tc, test_display_round_trips);
  suite_add_tcase(s, tc);
  return s;
}

MK_UNIT_MAIN(reference_suite)
