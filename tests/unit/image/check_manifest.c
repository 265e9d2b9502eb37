/* Unit tests for supervisor/image/manifest: the four manifest types (OCI index,
 * Docker manifest list, OCI manifest, Docker schema 2), choosing a
 * platform from an index, layer compression, image config diff_ids, and
 * hostile or malformed documents (this is untrusted registry input). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <check.h>

#include "unit_main.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/manifest.h"

#define D_CFG                                                                  \
  "sha256:e67d23e7820c49a8051dac2831f38290f5e72f66c8db5079eeb60d82f14894c0"
#define D_L1                                                                   \
  "sha256:2804bad6fe94a55f18b2b37e300919a5fd517b95aa81e95db574c0ba069a3740"
#define D_L2                                                                   \
  "sha256:8a1cee436cbac1489a1883c9d886fcfc46f302c55ed4106ae31729e4f4eb9041"
#define D_AMD                                                                  \
  "sha256:240389f4b730bad41f218a56c250ee7d82f42297ce7b9d0b6eb4f1cb3282c480"
#define D_ARM                                                                  \
  "sha256:ddf7ff5ebd9d66ce161466c1c0262430fa04de32b0e420ee3f489e2e2112e386"
#define D_ATT1                                                                 \
  "sha256:35143e7a5239313ee73b81f2f99b785aaed42d9572d1f797dc19fa14aa6b081f"
#define D_ATT2                                                                 \
  "sha256:dd86e2310bdf3ab45816029e264c4745a2a028961719031597877887a8f6f1df"
#define D_S390                                                                 \
  "sha256:63772c7d09b61ea69f32b73395e37d68169cde91299c84828dafd87e54f18b47"
#define D_ARMV7                                                                \
  "sha256:5ba6c8710dd1369ce61603ab9b7a81b25f92d4a9f74956ab72a7ea75884f07ee"

#define DOCKER_GZ "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define OCI_GZ "application/vnd.oci.image.layer.v1.tar+gzip"

/* What `docker push` writes for a two-layer image. */
static const char docker_manifest[] =
    "{\n"
    "   \"schemaVersion\": 2,\n"
    "   \"mediaType\": \"" MK_MT_DOCKER_MANIFEST "\",\n"
    "   \"config\": {\n"
    "      \"mediaType\": \"application/vnd.docker.container.image.v1+json\",\n"
    "      \"size\": 1457,\n"
    "      \"digest\": \"" D_CFG "\"\n"
    "   },\n"
    "   \"layers\": [\n"
    "      {\n"
    "         \"mediaType\": \"" DOCKER_GZ "\",\n"
    "         \"size\": 2814446,\n"
    "         \"digest\": \"" D_L1 "\"\n"
    "      },\n"
    "      {\n"
    "         \"mediaType\": \"" DOCKER_GZ "\",\n"
    "         \"size\": 32,\n"
    "         \"digest\": \"" D_L2 "\"\n"
    "      }\n"
    "   ]\n"
    "}";

static const char oci_manifest[] =
    "{\"schemaVersion\":2,\"mediaType\":\"" MK_MT_OCI_MANIFEST "\","
    "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
    "\"digest\":\"" D_CFG "\",\"size\":581},"
    "\"layers\":[{\"mediaType\":\"" OCI_GZ "\",\"digest\":\"" D_L1 "\","
    "\"size\":3623807,\"annotations\":{\"org.opencontainers.image.title\":"
    "\"base.tar.gz\"}}],"
    "\"annotations\":{\"org.opencontainers.image.created\":"
    "\"2024-01-01T00:00:00Z\"}}";

/* OCI lets mediaType be absent (image-spec 1.0 documents often omit it). */
static const char oci_manifest_no_mt[] =
    "{\"schemaVersion\":2,"
    "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
    "\"digest\":\"" D_CFG "\",\"size\":581},"
    "\"layers\":[{\"mediaType\":\"" OCI_GZ "\",\"digest\":\"" D_L1 "\","
    "\"size\":100}]}";

/* A manifest list whose first entry is arm64: picking "the first" is
 * wrong on amd64. */
static const char docker_list[] =
    "{\n"
    "  \"schemaVersion\": 2,\n"
    "  \"mediaType\": \"" MK_MT_DOCKER_LIST "\",\n"
    "  \"manifests\": [\n"
    "    {\n"
    "      \"mediaType\": \"" MK_MT_DOCKER_MANIFEST "\",\n"
    "      \"size\": 528,\n"
    "      \"digest\": \"" D_ARM "\",\n"
    "      \"platform\": {\"architecture\": \"arm64\", \"os\": \"linux\", "
    "\"variant\": \"v8\"}\n"
    "    },\n"
    "    {\n"
    "      \"mediaType\": \"" MK_MT_DOCKER_MANIFEST "\",\n"
    "      \"size\": 528,\n"
    "      \"digest\": \"" D_AMD "\",\n"
    "      \"platform\": {\"architecture\": \"amd64\", \"os\": \"linux\"}\n"
    "    }\n"
    "  ]\n"
    "}";

/* What BuildKit pushes: images plus unknown/unknown attestation
 * manifests, here with an attestation listed first. */
static const char oci_index_attest[] =
    "{\"schemaVersion\":2,\"mediaType\":\"" MK_MT_OCI_INDEX "\","
    "\"manifests\":["
    "{\"mediaType\":\"" MK_MT_OCI_MANIFEST "\",\"digest\":\"" D_ATT1 "\","
    "\"size\":566,\"annotations\":{\"vnd.docker.reference.digest\":\"" D_AMD
    "\",\"vnd.docker.reference.type\":\"attestation-manifest\"},"
    "\"platform\":{\"architecture\":\"unknown\",\"os\":\"unknown\"}},"
    "{\"mediaType\":\"" MK_MT_OCI_MANIFEST "\",\"digest\":\"" D_AMD "\","
    "\"size\":1051,\"platform\":{\"architecture\":\"amd64\",\"os\":"
    "\"linux\"}},"
    "{\"mediaType\":\"" MK_MT_OCI_MANIFEST "\",\"digest\":\"" D_ARM "\","
    "\"size\":1051,\"platform\":{\"architecture\":\"arm64\",\"os\":"
    "\"linux\"}},"
    "{\"mediaType\":\"" MK_MT_OCI_MANIFEST "\",\"digest\":\"" D_ATT2 "\","
    "\"size\":566,\"annotations\":{\"vnd.docker.reference.digest\":\"" D_ARM
    "\",\"vnd.docker.reference.type\":\"attestation-manifest\"},"
    "\"platform\":{\"architecture\":\"unknown\",\"os\":\"unknown\"}}]}";

static const char oci_index_no_mt[] =
    "{\"schemaVersion\":2,\"manifests\":["
    "{\"mediaType\":\"" MK_MT_OCI_MANIFEST "\",\"digest\":\"" D_AMD "\","
    "\"size\":1051,\"platform\":{\"architecture\":\"amd64\",\"os\":"
    "\"linux\"}}]}";

/* Parses through an exact-size heap copy, so a read past len is caught
 * by the sanitizer build. */
static int parse(const char *doc, const char *ct, struct mk_manifest *m,
                 mk_error_t *err)
{
  size_t len = strlen(doc);
  char *copy = malloc(len ? len : 1);
  int r;

  ck_assert_ptr_nonnull(copy);
  memcpy(copy, doc, len);
  memset(err, 0, sizeof(*err));
  r = mk_manifest_parse(copy, len, ct, m, err);
  free(copy);
  return r;
}

#define ASSERT_PARSE_OK(doc, ct, m)                                            \
  do {                                                                         \
    mk_error_t _e;                                                             \
    int _r = parse((doc), (ct), &(m), &_e);                                    \
    ck_assert_msg(_r == 0, "parse failed (Content-Type `%s`): %s", (ct),       \
                  _e.msg);                                                     \
  } while (0)

/* Parsing must fail with errno `code` and a message containing `want`;
 * the manifest is left empty. */
#define ASSERT_PARSE_FAILS(doc, ct, code, want)                                \
  do {                                                                         \
    struct mk_manifest _m;                                                     \
    mk_error_t _e;                                                             \
    ck_assert_int_eq(parse((doc), (ct), &_m, &_e), -1);                        \
    ck_assert_int_eq(_e.err, (code));                                          \
    ck_assert_msg(strstr(_e.msg, (want)) != NULL,                              \
                  "error `%s` does not contain `%s`", _e.msg, (want));         \
    ck_assert_ptr_null(_m.layers);                                             \
    ck_assert_ptr_null(_m.manifests);                                          \
  } while (0)

static void check_docker_manifest(const struct mk_manifest *m)
{
  ck_assert_int_eq(m->is_index, 0);
  ck_assert_str_eq(m->config.digest, D_CFG);
  ck_assert_int_eq(m->config.size, 1457);
  ck_assert_str_eq(m->config.media_type,
                   "application/vnd.docker.container.image.v1+json");
  ck_assert_uint_eq(m->nlayers, 2);
  ck_assert_str_eq(m->layers[0].digest, D_L1);
  ck_assert_int_eq(m->layers[0].size, 2814446);
  ck_assert_str_eq(m->layers[0].media_type, DOCKER_GZ);
  ck_assert_int_eq(m->layers[0].compression, MK_COMPRESSION_GZIP);
  ck_assert_str_eq(m->layers[1].digest, D_L2);
  ck_assert_int_eq(m->layers[1].size, 32);
  ck_assert_uint_eq(m->nmanifests, 0);
}

static void check_oci_manifest(const struct mk_manifest *m)
{
  ck_assert_int_eq(m->is_index, 0);
  ck_assert_str_eq(m->config.digest, D_CFG);
  ck_assert_int_eq(m->config.size, 581);
  ck_assert_uint_eq(m->nlayers, 1);
  ck_assert_str_eq(m->layers[0].digest, D_L1);
  ck_assert_int_eq(m->layers[0].compression, MK_COMPRESSION_GZIP);
}

static void check_docker_list(const struct mk_manifest *m)
{
  ck_assert_int_eq(m->is_index, 1);
  ck_assert_uint_eq(m->nmanifests, 2);
  ck_assert_str_eq(m->manifests[0].digest, D_ARM);
  ck_assert_str_eq(m->manifests[0].platform.os, "linux");
  ck_assert_str_eq(m->manifests[0].platform.arch, "arm64");
  ck_assert_str_eq(m->manifests[0].platform.variant, "v8");
  ck_assert_str_eq(m->manifests[0].media_type, MK_MT_DOCKER_MANIFEST);
  ck_assert_str_eq(m->manifests[1].digest, D_AMD);
  ck_assert_str_eq(m->manifests[1].platform.arch, "amd64");
  ck_assert_str_eq(m->manifests[1].platform.variant, "");
  ck_assert_int_eq(m->manifests[1].size, 528);
  ck_assert_uint_eq(m->nlayers, 0);
}

static void check_oci_index(const struct mk_manifest *m)
{
  ck_assert_int_eq(m->is_index, 1);
  ck_assert_uint_eq(m->nmanifests, 4);
  ck_assert_str_eq(m->manifests[0].platform.os, "unknown");
  ck_assert_str_eq(m->manifests[1].digest, D_AMD);
  ck_assert_str_eq(m->manifests[2].digest, D_ARM);
}

/* Content-Types a registry may send for a document whose own mediaType
 * then decides: none, generic JSON (with parameters), text. */
static const char *const generic_types[] = {
    "",
    "application/json",
    "application/json; charset=utf-8",
    "text/plain",
};

/* ---- the four types ---- */

START_TEST(test_docker_manifest_by_content_type)
{
  struct mk_manifest m;

  ASSERT_PARSE_OK(docker_manifest, MK_MT_DOCKER_MANIFEST, m);
  check_docker_manifest(&m);
  mk_manifest_free(&m);
}
END_TEST

START_TEST(test_oci_manifest_by_content_type)
{
  struct mk_manifest m;

  ASSERT_PARSE_OK(oci_manifest, MK_MT_OCI_MANIFEST, m);
  check_oci_manifest(&m);
  mk_manifest_free(&m);
}
END_TEST

START_TEST(test_docker_list_by_content_type)
{
  struct mk_manifest m;

  ASSERT_PARSE_OK(docker_list, MK_MT_DOCKER_LIST, m);
  check_docker_list(&m);
  mk_manifest_free(&m);
}
END_TEST

START_TEST(test_oci_index_by_content_type)
{
  struct mk_manifest m;

  ASSERT_PARSE_OK(oci_index_attest, MK_MT_OCI_INDEX, m);
  check_oci_index(&m);
  mk_manifest_free(&m);
}
END_TEST

START_TEST(test_content_type_parameters_ignored)
{
  struct mk_manifest m;

  ASSERT_PARSE_OK(oci_manifest, MK_MT_OCI_MANIFEST "; charset=utf-8", m);
  check_oci_manifest(&m);
  mk_manifest_free(&m);
  ASSERT_PARSE_OK(docker_list, MK_MT_DOCKER_LIST ";charset=utf-8", m);
  check_docker_list(&m);
  mk_manifest_free(&m);
}
END_TEST

START_TEST(test_generic_content_type_uses_media_type)
{
  for (size_t i = 0; i < sizeof(generic_types) / sizeof(generic_types[0]);
       i++) {
    struct mk_manifest m;

    ASSERT_PARSE_OK(docker_manifest, generic_types[i], m);
    check_docker_manifest(&m);
    mk_manifest_free(&m);
    ASSERT_PARSE_OK(oci_manifest, generic_types[i], m);
    check_oci_manifest(&m);
    mk_manifest_free(&m);
    ASSERT_PARSE_OK(docker_list, generic_types[i], m);
    check_docker_list(&m);
    mk_manifest_free(&m);
    ASSERT_PARSE_OK(oci_index_attest, generic_types[i], m);
    check_oci_index(&m);
    mk_manifest_free(&m);
  }
}
END_TEST

START_TEST(test_oci_manifest_without_media_type)
{
  for (size_t i = 0; i < sizeof(generic_types) / sizeof(generic_types[0]);
       i++) {
    struct mk_manifest m;

    ASSERT_PARSE_OK(oci_manifest_no_mt, generic_types[i], m);
    ck_assert_int_eq(m.is_index, 0);
    ck_assert_str_eq(m.config.digest, D_CFG);
    ck_assert_uint_eq(m.nlayers, 1);
    mk_manifest_free(&m);
  }
  struct mk_manifest m;
  ASSERT_PARSE_OK(oci_manifest_no_mt, MK_MT_OCI_MANIFEST, m);
  ck_assert_uint_eq(m.nlayers, 1);
  mk_manifest_free(&m);
}
END_TEST

START_TEST(test_oci_index_without_media_type)
{
  struct mk_manifest m;

  ASSERT_PARSE_OK(oci_index_no_mt, "", m);
  ck_assert_int_eq(m.is_index, 1);
  ck_assert_uint_eq(m.nmanifests, 1);
  ck_assert_str_eq(m.manifests[0].digest, D_AMD);
  mk_manifest_free(&m);
  ASSERT_PARSE_OK(oci_index_no_mt, MK_MT_OCI_INDEX, m);
  ck_assert_int_eq(m.is_index, 1);
  mk_manifest_free(&m);
}
END_TEST

/* The body must have the shape its declared type says: an image manifest
 * served as an index is not an empty index. */
START_TEST(test_content_type_mismatch_fails)
{
  ASSERT_PARSE_FAILS(docker_manifest, MK_MT_DOCKER_LIST, EBADMSG, "manifest");
  ASSERT_PARSE_FAILS(docker_list, MK_MT_DOCKER_MANIFEST, EBADMSG,
                     "ambiguous manifest");
}
END_TEST

/* A document that is both an image manifest and an index, or whose own
 * mediaType contradicts the Content-Type it was served with. */
static void ambiguous_doc(char *buf, size_t size, const char *media_type)
{
  int n = snprintf(
      buf, size,
      "{\"schemaVersion\":2,%s%s%s"
      "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
      "\"size\":2,\"digest\":\"" D_CFG "\"},"
      "\"layers\":[{\"mediaType\":\"" OCI_GZ "\",\"size\":1,\"digest\":\"" D_L1
      "\"}],"
      "\"manifests\":[{\"mediaType\":\"" MK_MT_OCI_MANIFEST "\",\"size\":1,"
      "\"digest\":\"" D_AMD "\",\"platform\":{\"os\":\"linux\","
      "\"architecture\":\"amd64\"}}]}",
      media_type ? "\"mediaType\":\"" : "", media_type ? media_type : "",
      media_type ? "\"," : "");
  ck_assert(n > 0 && (size_t)n < size);
}

static void expect_refused(const char *doc, const char *ct)
{
  struct mk_manifest m;
  mk_error_t e;
  int r = parse(doc, ct, &m, &e), is_index = m.is_index;

  if (r == 0)
    mk_manifest_free(&m); /* before the assertion that leaves */
  ck_assert_msg(r == -1,
                "ambiguous document accepted as %s (Content-Type `%s`): %s",
                is_index ? "an index" : "an image manifest", ct, doc);
  ck_assert_ptr_null(m.layers);
  ck_assert_ptr_null(m.manifests);
}

/* BUG: CVE-2021-41190 (OCI distribution/image-spec "ambiguous manifests
 * and indexes"): the same digest must not be readable as an image by one
 * client and as an index by another. The fix every client adopted
 * (containerd images.validateMediaType, used by Docker): served as an
 * image manifest, a document must have no "manifests" and no index
 * mediaType; served as an index, no "config", no "layers" and no manifest
 * mediaType. mocker picks one reading and ignores the rest. */
START_TEST(test_cve_2021_41190_ambiguous_documents)
{
  char doc[2048];

  /* index mediaType, served as an image manifest */
  ambiguous_doc(doc, sizeof(doc), MK_MT_OCI_INDEX);
  expect_refused(doc, MK_MT_OCI_MANIFEST);
  /* manifest mediaType, served as an index */
  ambiguous_doc(doc, sizeof(doc), MK_MT_DOCKER_MANIFEST);
  expect_refused(doc, MK_MT_DOCKER_LIST);
  /* no mediaType, served as either, carrying both shapes */
  ambiguous_doc(doc, sizeof(doc), NULL);
  expect_refused(doc, MK_MT_OCI_MANIFEST);
  expect_refused(doc, MK_MT_OCI_INDEX);
  /* generic Content-Type: the document's mediaType decides, and it
   * contradicts the document's contents */
  ambiguous_doc(doc, sizeof(doc), MK_MT_OCI_MANIFEST);
  expect_refused(doc, "application/json");
  ambiguous_doc(doc, sizeof(doc), NULL);
  expect_refused(doc, "");
}
END_TEST

START_TEST(test_schema1_unsupported)
{
  static const char schema1[] =
      "{\"schemaVersion\":1,\"name\":\"library/x\",\"tag\":\"latest\","
      "\"fsLayers\":[],\"history\":[]}";
  static const char doc_v1[] =
      "{\"schemaVersion\":1,\"mediaType\":"
      "\"application/vnd.docker.distribution.manifest.v1+json\"}";

  ASSERT_PARSE_FAILS(schema1,
                     "application/vnd.docker.distribution.manifest.v1+"
                     "prettyjws",
                     ENOTSUP, "manifest.v1+prettyjws");
  ASSERT_PARSE_FAILS(doc_v1, "application/json", ENOTSUP,
                     "unsupported manifest type");
}
END_TEST

START_TEST(test_free_is_idempotent)
{
  struct mk_manifest m;

  ASSERT_PARSE_OK(docker_manifest, "", m);
  mk_manifest_free(&m);
  ck_assert_ptr_null(m.layers);
  mk_manifest_free(&m);
}
END_TEST

/* ---- choosing a platform ---- */

static const struct mk_descriptor *select_ok(const struct mk_manifest *m,
                                             const char *platform)
{
  struct mk_platform want;
  const struct mk_descriptor *d = NULL;
  mk_error_t err = {0};

  ck_assert_int_eq(mk_platform_parse(platform, &want, &err), 0);
  ck_assert_msg(mk_manifest_select(m, &want, &d, &err) == 0,
                "select %s failed: %s", platform, err.msg);
  ck_assert_ptr_nonnull(d);
  return d;
}

static void select_fails(const struct mk_manifest *m, const char *platform,
                         const char *want_msg)
{
  struct mk_platform want;
  const struct mk_descriptor *d = NULL;
  mk_error_t err = {0};

  ck_assert_int_eq(mk_platform_parse(platform, &want, &err), 0);
  ck_assert_int_eq(mk_manifest_select(m, &want, &d, &err), -1);
  ck_assert_ptr_null(d);
  ck_assert_int_eq(err.err, ENOENT);
  ck_assert_msg(strstr(err.msg, want_msg) != NULL,
                "error `%s` does not name `%s`", err.msg, want_msg);
}

START_TEST(test_select_amd64_from_list_with_arm64_first)
{
  struct mk_manifest m;

  ASSERT_PARSE_OK(docker_list, MK_MT_DOCKER_LIST, m);
  ck_assert_str_eq(select_ok(&m, "linux/amd64")->digest, D_AMD);
  mk_manifest_free(&m);
}
END_TEST

START_TEST(test_select_arm64_with_and_without_variant)
{
  static const char list_no_variant[] =
      "{\"schemaVersion\":2,\"mediaType\":\"" MK_MT_DOCKER_LIST "\","
      "\"manifests\":[{\"mediaType\":\"" MK_MT_DOCKER_MANIFEST "\",\"size\":1,"
      "\"digest\":\"" D_AMD "\",\"platform\":{\"architecture\":\"amd64\","
      "\"os\":\"linux\"}},{\"mediaType\":\"" MK_MT_DOCKER_MANIFEST "\","
      "\"size\":1,\"digest\":\"" D_ARM "\",\"platform\":{\"architecture\":"
      "\"arm64\",\"os\":\"linux\"}}]}";
  struct mk_manifest m;

  /* the entry says v8 */
  ASSERT_PARSE_OK(docker_list, MK_MT_DOCKER_LIST, m);
  ck_assert_str_eq(select_ok(&m, "linux/arm64")->digest, D_ARM);
  ck_assert_str_eq(select_ok(&m, "linux/arm64/v8")->digest, D_ARM);
  mk_manifest_free(&m);
  /* the entry has no variant, as many arm64 images do */
  ASSERT_PARSE_OK(list_no_variant, "", m);
  ck_assert_str_eq(select_ok(&m, "linux/arm64")->digest, D_ARM);
  ck_assert_str_eq(select_ok(&m, "linux/arm64/v8")->digest, D_ARM);
  ck_assert_str_eq(select_ok(&m, "linux/amd64")->digest, D_AMD);
  mk_manifest_free(&m);
}
END_TEST

START_TEST(test_select_variant_must_match)
{
  static const char arm_list[] =
      "{\"schemaVersion\":2,\"mediaType\":\"" MK_MT_OCI_INDEX "\","
      "\"manifests\":[{\"mediaType\":\"" MK_MT_OCI_MANIFEST "\",\"size\":1,"
      "\"digest\":\"" D_ARM "\",\"platform\":{\"architecture\":\"arm\","
      "\"os\":\"linux\",\"variant\":\"v6\"}},{\"mediaType\":"
      "\"" MK_MT_OCI_MANIFEST "\",\"size\":1,\"digest\":\"" D_ARMV7 "\","
      "\"platform\":{\"architecture\":\"arm\",\"os\":\"linux\","
      "\"variant\":\"v7\"}}]}";
  struct mk_manifest m;

  ASSERT_PARSE_OK(arm_list, "", m);
  ck_assert_str_eq(select_ok(&m, "linux/arm/v7")->digest, D_ARMV7);
  ck_assert_str_eq(select_ok(&m, "linux/arm/v6")->digest, D_ARM);
  select_fails(&m, "linux/arm/v5", "linux/arm/v5");
  mk_manifest_free(&m);
}
END_TEST

START_TEST(test_select_skips_attestations)
{
  struct mk_manifest m;

  ASSERT_PARSE_OK(oci_index_attest, MK_MT_OCI_INDEX, m);
  ck_assert_str_eq(select_ok(&m, "linux/amd64")->digest, D_AMD);
  ck_assert_str_eq(select_ok(&m, "linux/arm64")->digest, D_ARM);
  ck_assert_str_eq(select_ok(&m, "linux/arm64/v8")->digest, D_ARM);
  /* even asked for by name, an attestation is not an image */
  select_fails(&m, "unknown/unknown", "unknown/unknown");
  mk_manifest_free(&m);
}
END_TEST

START_TEST(test_select_only_attestations_fails)
{
  static const char only_att[] =
      "{\"schemaVersion\":2,\"mediaType\":\"" MK_MT_OCI_INDEX "\","
      "\"manifests\":[{\"mediaType\":\"" MK_MT_OCI_MANIFEST "\",\"size\":566,"
      "\"digest\":\"" D_ATT1 "\",\"platform\":{\"architecture\":\"unknown\","
      "\"os\":\"unknown\"}}]}";
  struct mk_manifest m;

  ASSERT_PARSE_OK(only_att, "", m);
  select_fails(&m, "linux/amd64", "linux/amd64");
  mk_manifest_free(&m);
}
END_TEST

START_TEST(test_select_no_match_names_platform)
{
  static const char s390_only[] =
      "{\"schemaVersion\":2,\"mediaType\":\"" MK_MT_DOCKER_LIST "\","
      "\"manifests\":[{\"mediaType\":\"" MK_MT_DOCKER_MANIFEST "\",\"size\":1,"
      "\"digest\":\"" D_S390 "\",\"platform\":{\"architecture\":\"s390x\","
      "\"os\":\"linux\"}}]}";
  struct mk_manifest m;

  ASSERT_PARSE_OK(s390_only, "", m);
  select_fails(&m, "linux/amd64", "no matching manifest for linux/amd64");
  select_fails(&m, "windows/s390x", "windows/s390x");
  select_fails(&m, "linux/arm64/v8", "linux/arm64/v8");
  mk_manifest_free(&m);
}
END_TEST

START_TEST(test_select_empty_index_fails)
{
  struct mk_manifest m;

  ASSERT_PARSE_OK("{\"schemaVersion\":2,\"manifests\":[]}", "", m);
  ck_assert_int_eq(m.is_index, 1);
  select_fails(&m, "linux/amd64", "linux/amd64");
  mk_manifest_free(&m);
}
END_TEST

/* ---- layer media types ---- */

/* A one-layer manifest whose layer has media type mt. */
static void layer_doc(char *buf, size_t size, const char *mt)
{
  int n = snprintf(buf, size,
                   "{\"schemaVersion\":2,\"config\":{\"mediaType\":"
                   "\"application/vnd.oci.image.config.v1+json\",\"size\":2,"
                   "\"digest\":\"" D_CFG "\"},\"layers\":[{\"mediaType\":"
                   "\"%s\",\"size\":10,\"digest\":\"" D_L1 "\"}]}",
                   mt);
  ck_assert(n > 0 && (size_t)n < size);
}

static void expect_layer(const char *mt, enum mk_compression want)
{
  char doc[1024];
  struct mk_manifest m;

  layer_doc(doc, sizeof(doc), mt);
  ASSERT_PARSE_OK(doc, MK_MT_OCI_MANIFEST, m);
  ck_assert_uint_eq(m.nlayers, 1);
  ck_assert_msg(m.layers[0].compression == want, "`%s`: compression %d", mt,
                (int)m.layers[0].compression);
  mk_manifest_free(&m);
}

static void expect_layer_refused(const char *mt)
{
  char doc[1024];

  layer_doc(doc, sizeof(doc), mt);
  ASSERT_PARSE_FAILS(doc, MK_MT_OCI_MANIFEST, ENOTSUP,
                     "unsupported media type");
  struct mk_manifest m;
  mk_error_t e;
  ck_assert_int_eq(parse(doc, MK_MT_OCI_MANIFEST, &m, &e), -1);
  ck_assert_msg(strstr(e.msg, mt) != NULL, "error `%s` does not name `%s`",
                e.msg, mt);
}

START_TEST(test_layer_gzip)
{
  expect_layer(DOCKER_GZ, MK_COMPRESSION_GZIP);
  expect_layer(OCI_GZ, MK_COMPRESSION_GZIP);
}
END_TEST

START_TEST(test_layer_zstd)
{
  expect_layer("application/vnd.oci.image.layer.v1.tar+zstd",
               MK_COMPRESSION_ZSTD);
  /* containerd's name for Docker-typed zstd layers */
  expect_layer("application/vnd.docker.image.rootfs.diff.tar.zstd",
               MK_COMPRESSION_ZSTD);
}
END_TEST

START_TEST(test_layer_plain_tar)
{
  expect_layer("application/vnd.oci.image.layer.v1.tar", MK_COMPRESSION_NONE);
  expect_layer("application/vnd.docker.image.rootfs.diff.tar",
               MK_COMPRESSION_NONE);
}
END_TEST

/* Docker's "foreign" layers (Windows base layers) and OCI's
 * non-distributable layers are ordinary tar+gzip blobs that may also be
 * listed at "urls"; they are accepted and fetched from the registry by
 * digest like any other layer. */
START_TEST(test_layer_foreign_is_gzip)
{
  expect_layer("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
               MK_COMPRESSION_GZIP);
  expect_layer("application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
               MK_COMPRESSION_GZIP);
}
END_TEST

START_TEST(test_layer_unknown_type_refused)
{
  expect_layer_refused("application/vnd.example.layer.v1+foo");
  /* encrypted layers (ocicrypt) must not be fed to gunzip */
  expect_layer_refused(OCI_GZ "+encrypted");
  expect_layer_refused("application/vnd.oci.image.layer.v1.tar+bzip2");
  expect_layer_refused("application/octet-stream");
  expect_layer_refused("");
}
END_TEST

START_TEST(test_layer_without_media_type_refused)
{
  static const char doc[] =
      "{\"schemaVersion\":2,\"config\":{\"size\":2,\"digest\":\"" D_CFG "\"},"
      "\"layers\":[{\"size\":10,\"digest\":\"" D_L1 "\"}]}";

  ASSERT_PARSE_FAILS(doc, MK_MT_OCI_MANIFEST, ENOTSUP,
                     "unsupported media type");
}
END_TEST

/* ---- malformed documents ---- */

START_TEST(test_not_json)
{
  ASSERT_PARSE_FAILS("hello", "", EBADMSG, "not a JSON object");
  ASSERT_PARSE_FAILS("", "", EBADMSG, "not a JSON object");
  ASSERT_PARSE_FAILS("{\"schemaVersion\":2,}", MK_MT_OCI_MANIFEST, EBADMSG,
                     "not a JSON object");
}
END_TEST

START_TEST(test_not_an_object)
{
  ASSERT_PARSE_FAILS("[]", MK_MT_OCI_INDEX, EBADMSG, "not a JSON object");
  ASSERT_PARSE_FAILS("\"" MK_MT_OCI_MANIFEST "\"", "", EBADMSG,
                     "not a JSON object");
  ASSERT_PARSE_FAILS("42", "", EBADMSG, "not a JSON object");
  ASSERT_PARSE_FAILS("null", "", EBADMSG, "not a JSON object");
}
END_TEST

/* Two parsers reading different values of one key is how a signed or
 * verified document gets reinterpreted: refuse duplicates. */
START_TEST(test_duplicate_keys)
{
  static const char dup_top[] =
      "{\"schemaVersion\":2,\"mediaType\":\"" MK_MT_OCI_MANIFEST "\","
      "\"config\":{\"size\":2,\"digest\":\"" D_CFG "\"},"
      "\"layers\":[],\"layers\":[{\"mediaType\":\"" OCI_GZ "\",\"size\":1,"
      "\"digest\":\"" D_L1 "\"}]}";
  static const char dup_digest[] =
      "{\"schemaVersion\":2,\"mediaType\":\"" MK_MT_OCI_MANIFEST "\","
      "\"config\":{\"size\":2,\"digest\":\"" D_CFG "\"},"
      "\"layers\":[{\"mediaType\":\"" OCI_GZ "\",\"size\":1,"
      "\"digest\":\"" D_L1 "\",\"digest\":\"" D_L2 "\"}]}";

  ASSERT_PARSE_FAILS(dup_top, "", EBADMSG, "not a JSON object");
  ASSERT_PARSE_FAILS(dup_digest, "", EBADMSG, "not a JSON object");
}
END_TEST

START_TEST(test_missing_digest)
{
  static const char no_cfg_digest[] =
      "{\"schemaVersion\":2,\"config\":{\"size\":2},\"layers\":[]}";
  static const char no_layer_digest[] =
      "{\"schemaVersion\":2,\"config\":{\"size\":2,\"digest\":\"" D_CFG "\"},"
      "\"layers\":[{\"mediaType\":\"" OCI_GZ "\",\"size\":1}]}";
  static const char no_entry_digest[] =
      "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" MK_MT_OCI_MANIFEST
      "\",\"size\":1,\"platform\":{\"os\":\"linux\","
      "\"architecture\":\"amd64\"}}]}";
  static const char digest_not_string[] =
      "{\"schemaVersion\":2,\"config\":{\"size\":2,\"digest\":42},"
      "\"layers\":[]}";

  ASSERT_PARSE_FAILS(no_cfg_digest, "", EBADMSG, "malformed descriptor");
  ASSERT_PARSE_FAILS(no_layer_digest, "", EBADMSG, "malformed descriptor");
  ASSERT_PARSE_FAILS(no_entry_digest, "", EBADMSG, "malformed descriptor");
  ASSERT_PARSE_FAILS(digest_not_string, "", EBADMSG, "malformed descriptor");
}
END_TEST

START_TEST(test_missing_config_or_layers)
{
  ASSERT_PARSE_FAILS("{\"schemaVersion\":2,\"layers\":[]}", MK_MT_OCI_MANIFEST,
                     EBADMSG, "malformed descriptor");
  ASSERT_PARSE_FAILS("{\"schemaVersion\":2,\"config\":{\"size\":2,"
                     "\"digest\":\"" D_CFG "\"}}",
                     MK_MT_OCI_MANIFEST, EBADMSG, "bad or oversized list");
  ASSERT_PARSE_FAILS("{\"schemaVersion\":2,\"config\":{\"size\":2,"
                     "\"digest\":\"" D_CFG "\"},\"layers\":{}}",
                     MK_MT_OCI_MANIFEST, EBADMSG, "bad or oversized list");
  ASSERT_PARSE_FAILS("{\"schemaVersion\":2,\"config\":\"" D_CFG "\","
                     "\"layers\":[]}",
                     MK_MT_OCI_MANIFEST, EBADMSG, "malformed descriptor");
  ASSERT_PARSE_FAILS("{\"schemaVersion\":2,\"mediaType\":\"" MK_MT_OCI_INDEX
                     "\"}",
                     "", EBADMSG, "bad or oversized list");
  ASSERT_PARSE_FAILS("{\"schemaVersion\":2,\"manifests\":[\"" D_AMD "\"]}", "",
                     EBADMSG, "malformed descriptor");
}
END_TEST

/* A one-layer manifest whose layer has the given digest and size JSON. */
static void descriptor_doc(char *buf, size_t size, const char *digest,
                           const char *size_json)
{
  int n =
      snprintf(buf, size,
               "{\"schemaVersion\":2,\"config\":{\"size\":2,"
               "\"digest\":\"" D_CFG "\"},\"layers\":[{\"mediaType\":\"" OCI_GZ
               "\",\"digest\":\"%s\",\"size\":%s}]}",
               digest, size_json);
  ck_assert(n > 0 && (size_t)n < size);
}

START_TEST(test_bad_digests)
{
  static const char *const bad[] = {
      "sha256:2804bad6fe94a55f18b2b37e300919a5fd517b95aa81e95db574c0ba069a374",
      "sha256:2804BAD6fe94a55f18b2b37e300919a5fd517b95aa81e95db574c0ba069a3740",
      "sha256:2804bad6fe94a55f18b2b37e300919a5fd517b95aa81e95db574c0ba069a374g",
      "2804bad6fe94a55f18b2b37e300919a5fd517b95aa81e95db574c0ba069a3740",
      "sha256:../../../../etc/passwd",
      "",
  };
  char doc[1024];

  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    descriptor_doc(doc, sizeof(doc), bad[i], "10");
    ASSERT_PARSE_FAILS(doc, "", EBADMSG, "unsupported or malformed digest");
  }
  /* too long for the descriptor's buffer */
  descriptor_doc(doc, sizeof(doc), D_L1 D_L1, "10");
  ASSERT_PARSE_FAILS(doc, "", EBADMSG, "malformed descriptor");
  /* sha512 is a valid OCI algorithm, but mocker verifies sha256 only; its
   * 135 characters overflow the digest buffer first */
  descriptor_doc(doc, sizeof(doc),
                 "sha512:2804bad6fe94a55f18b2b37e300919a5fd517b95aa81e95db574c0"
                 "ba069a37402804bad6fe94a55f18b2b37e300919a5fd517b95aa81e95db57"
                 "4c0ba069a3740",
                 "10");
  ASSERT_PARSE_FAILS(doc, "", EBADMSG, "manifest: ");
}
END_TEST

START_TEST(test_bad_sizes)
{
  static const char *const bad[] = {"-1",   "\"10\"", "1.5",
                                    "null", "true",   "{}"};
  char doc[1024];

  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    descriptor_doc(doc, sizeof(doc), D_L1, bad[i]);
    ASSERT_PARSE_FAILS(doc, "", EBADMSG, "malformed descriptor");
  }
  /* a size that does not fit int64 is not JSON jansson accepts */
  descriptor_doc(doc, sizeof(doc), D_L1, "99999999999999999999");
  ASSERT_PARSE_FAILS(doc, "", EBADMSG, "not a JSON object");
}
END_TEST

START_TEST(test_zero_and_large_sizes)
{
  char doc[1024];
  struct mk_manifest m;

  descriptor_doc(doc, sizeof(doc), D_L1, "0");
  ASSERT_PARSE_OK(doc, "", m);
  ck_assert_int_eq(m.layers[0].size, 0);
  mk_manifest_free(&m);
  descriptor_doc(doc, sizeof(doc), D_L1, "9223372036854775807");
  ASSERT_PARSE_OK(doc, "", m);
  ck_assert_int_eq(m.layers[0].size, INT64_MAX);
  mk_manifest_free(&m);
}
END_TEST

START_TEST(test_overlong_fields)
{
  char mt[300], doc[2048];
  struct mk_manifest m;
  mk_error_t e;

  memset(mt, 'x', sizeof(mt) - 1);
  mt[sizeof(mt) - 1] = '\0';
  layer_doc(doc, sizeof(doc), mt);
  ASSERT_PARSE_FAILS(doc, "", EBADMSG, "malformed descriptor");
  /* platform fields are bounded too */
  snprintf(doc, sizeof(doc),
           "{\"schemaVersion\":2,\"manifests\":[{\"size\":1,\"digest\":\"" D_AMD
           "\",\"platform\":{\"os\":\"linux\",\"architecture\":"
           "\"%.40s\"}}]}",
           mt);
  ck_assert_int_eq(parse(doc, "", &m, &e), -1);
  ck_assert_int_eq(e.err, EBADMSG);
  ck_assert_ptr_null(m.manifests);
}
END_TEST

/* n layers (or index entries), built on the heap. */
static char *many_entries(size_t n, int index)
{
  static const char entry[] =
      "{\"mediaType\":\"" OCI_GZ "\",\"size\":1,\"digest\":\"" D_L1 "\","
      "\"platform\":{\"os\":\"linux\",\"architecture\":\"riscv64\"}}";
  size_t cap = 256 + n * sizeof(entry);
  char *doc = malloc(cap);
  size_t len;

  ck_assert_ptr_nonnull(doc);
  len = (size_t)snprintf(doc, cap,
                         index ? "{\"schemaVersion\":2,\"manifests\":["
                               : "{\"schemaVersion\":2,\"config\":{\"size\":"
                                 "2,\"digest\":\"" D_CFG "\"},\"layers\":[");
  for (size_t i = 0; i < n; i++) {
    memcpy(doc + len, entry, sizeof(entry) - 1);
    len += sizeof(entry) - 1;
    if (i + 1 < n)
      doc[len++] = ',';
  }
  memcpy(doc + len, "]}", 3);
  return doc;
}

START_TEST(test_too_many_layers)
{
  char *doc = many_entries(5000, 0);

  ASSERT_PARSE_FAILS(doc, MK_MT_OCI_MANIFEST, EBADMSG, "oversized");
  free(doc);
  doc = many_entries(5000, 1);
  ASSERT_PARSE_FAILS(doc, MK_MT_OCI_INDEX, EBADMSG, "oversized");
  free(doc);
}
END_TEST

START_TEST(test_many_layers_within_cap)
{
  char *doc = many_entries(4096, 0);
  struct mk_manifest m;

  ASSERT_PARSE_OK(doc, MK_MT_OCI_MANIFEST, m);
  ck_assert_uint_eq(m.nlayers, 4096);
  ck_assert_str_eq(m.layers[4095].digest, D_L1);
  mk_manifest_free(&m);
  free(doc);
}
END_TEST

/* Every strict prefix of a document (a download cut short) fails. */
START_TEST(test_truncated_json)
{
  static const char *const docs[] = {docker_manifest, oci_manifest, docker_list,
                                     oci_index_attest};

  for (size_t d = 0; d < sizeof(docs) / sizeof(docs[0]); d++) {
    size_t len = strlen(docs[d]);
    for (size_t n = 0; n < len; n++) {
      char *copy = malloc(n ? n : 1);
      struct mk_manifest m;
      mk_error_t e;
      ck_assert_ptr_nonnull(copy);
      memcpy(copy, docs[d], n);
      ck_assert_msg(mk_manifest_parse(copy, n, "", &m, &e) == -1,
                    "doc %zu accepted when cut at %zu bytes", d, n);
      ck_assert_ptr_null(m.layers);
      ck_assert_ptr_null(m.manifests);
      free(copy);
    }
  }
}
END_TEST

/* ---- platforms ---- */

START_TEST(test_platform_parse_good)
{
  struct mk_platform p;
  mk_error_t e = {0};

  ck_assert_int_eq(mk_platform_parse("linux/amd64", &p, &e), 0);
  ck_assert_str_eq(p.os, "linux");
  ck_assert_str_eq(p.arch, "amd64");
  ck_assert_str_eq(p.variant, "");
  ck_assert_int_eq(mk_platform_parse("linux/arm64/v8", &p, &e), 0);
  ck_assert_str_eq(p.os, "linux");
  ck_assert_str_eq(p.arch, "arm64");
  ck_assert_str_eq(p.variant, "v8");
}
END_TEST

START_TEST(test_platform_parse_empty_is_host)
{
  struct mk_platform p, host;
  mk_error_t e = {0};

  memset(&p, 'x', sizeof(p));
  mk_platform_host(&host);
  ck_assert_str_eq(host.os, "linux");
  ck_assert_str_ne(host.arch, "");
  ck_assert_int_eq(mk_platform_parse("", &p, &e), 0);
  ck_assert_str_eq(p.os, host.os);
  ck_assert_str_eq(p.arch, host.arch);
  ck_assert_str_eq(p.variant, host.variant);
  ck_assert_int_eq(mk_platform_parse(NULL, &p, &e), 0);
  ck_assert_str_eq(p.arch, host.arch);
}
END_TEST

START_TEST(test_platform_parse_bad)
{
  static const char *const bad[] = {
      "linux",     "linux/",
      "/amd64",    "a/b/c/d",
      "/",         "//",
      "linux//v8", "linux/amd64/",
      "a/b/c/d/e", "linux/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
  };

  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    struct mk_platform p;
    mk_error_t e = {0};
    ck_assert_msg(mk_platform_parse(bad[i], &p, &e) == -1, "`%s` accepted",
                  bad[i]);
    ck_assert_int_eq(e.err, EINVAL);
    ck_assert_msg(strstr(e.msg, "invalid platform") != NULL,
                  "unclear error `%s`", e.msg);
  }
}
END_TEST

/* ---- image config ---- */

static const char good_config[] =
    "{\"architecture\":\"amd64\",\"config\":{\"Env\":[\"PATH=/usr/local/sbin:"
    "/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"],\"Cmd\":[\"sh\"]},"
    "\"created\":\"2024-01-01T00:00:00Z\",\"history\":[{\"created_by\":"
    "\"ADD file:abc in / \"},{\"created_by\":\"CMD [\\\"sh\\\"]\","
    "\"empty_layer\":true}],\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\","
    "\"diff_ids\":[\"" D_L1 "\",\"" D_L2 "\"]}}";

static int diff_ids(const char *doc, char ***ids, size_t *n, mk_error_t *e)
{
  size_t len = strlen(doc);
  char *copy = malloc(len ? len : 1);
  int r;

  ck_assert_ptr_nonnull(copy);
  memcpy(copy, doc, len);
  memset(e, 0, sizeof(*e));
  r = mk_config_diff_ids(copy, len, ids, n, e);
  free(copy);
  return r;
}

static void free_ids(char **ids)
{
  for (size_t i = 0; ids && ids[i]; i++)
    free(ids[i]);
  free(ids);
}

START_TEST(test_config_diff_ids_good)
{
  char **ids = NULL;
  size_t n = 0;
  mk_error_t e;

  ck_assert_msg(diff_ids(good_config, &ids, &n, &e) == 0, "%s", e.msg);
  ck_assert_uint_eq(n, 2);
  ck_assert_str_eq(ids[0], D_L1);
  ck_assert_str_eq(ids[1], D_L2);
  ck_assert_ptr_null(ids[2]);
  free_ids(ids);
}
END_TEST

START_TEST(test_config_diff_ids_empty)
{
  char **ids = NULL;
  size_t n = 99;
  mk_error_t e;

  ck_assert_int_eq(
      diff_ids("{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}", &ids, &n,
               &e),
      0);
  ck_assert_uint_eq(n, 0);
  ck_assert_ptr_nonnull(ids);
  ck_assert_ptr_null(ids[0]);
  free_ids(ids);
}
END_TEST

static void expect_config_fails(const char *doc, const char *want)
{
  char **ids = NULL;
  size_t n = 0;
  mk_error_t e;

  ck_assert_msg(diff_ids(doc, &ids, &n, &e) == -1, "`%s` accepted", doc);
  ck_assert_int_eq(e.err, EBADMSG);
  ck_assert_msg(strstr(e.msg, want) != NULL, "error `%s` lacks `%s`", e.msg,
                want);
  ck_assert_ptr_null(ids);
}

START_TEST(test_config_missing_rootfs)
{
  expect_config_fails("{\"architecture\":\"amd64\",\"os\":\"linux\"}",
                      "no rootfs.diff_ids");
  expect_config_fails("{\"rootfs\":{\"type\":\"layers\"}}",
                      "no rootfs.diff_ids");
  expect_config_fails("{\"rootfs\":{\"diff_ids\":\"" D_L1 "\"}}",
                      "no rootfs.diff_ids");
  expect_config_fails("{\"rootfs\":[]}", "no rootfs.diff_ids");
  expect_config_fails("not json", "no rootfs.diff_ids");
  expect_config_fails("", "no rootfs.diff_ids");
  expect_config_fails("[]", "no rootfs.diff_ids");
}
END_TEST

START_TEST(test_config_bad_diff_id)
{
  expect_config_fails("{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" D_L1
                      "\",\"sha256:abc\"]}}",
                      "bad diff_id");
  expect_config_fails("{\"rootfs\":{\"diff_ids\":[\"sha512:" D_L1 "\"]}}",
                      "bad diff_id");
  expect_config_fails("{\"rootfs\":{\"diff_ids\":[42]}}", "bad diff_id");
  expect_config_fails("{\"rootfs\":{\"diff_ids\":[null]}}", "bad diff_id");
  expect_config_fails("{\"rootfs\":{\"diff_ids\":[\"sha256:2804BAD6fe94a55f"
                      "18b2b37e300919a5fd517b95aa81e95db574c0ba069a3740\"]}}",
                      "bad diff_id");
}
END_TEST

START_TEST(test_config_too_many_diff_ids)
{
  static const char id[] = "\"" D_L1 "\"";
  size_t count = 5000, cap = 64 + count * sizeof(id);
  char *doc = malloc(cap);
  size_t len;

  ck_assert_ptr_nonnull(doc);
  len = (size_t)snprintf(doc, cap, "{\"rootfs\":{\"diff_ids\":[");
  for (size_t i = 0; i < count; i++) {
    memcpy(doc + len, id, sizeof(id) - 1);
    len += sizeof(id) - 1;
    if (i + 1 < count)
      doc[len++] = ',';
  }
  memcpy(doc + len, "]}}", 4);
  expect_config_fails(doc, "no rootfs.diff_ids");
  free(doc);
}
END_TEST

START_TEST(test_valid_sha256_digest)
{
  ck_assert(mk_valid_sha256_digest(D_L1));
  ck_assert(!mk_valid_sha256_digest(NULL));
  ck_assert(!mk_valid_sha256_digest(""));
  ck_assert(!mk_valid_sha256_digest("sha256:"));
  ck_assert(!mk_valid_sha256_digest(D_L1 "0"));
  ck_assert(!mk_valid_sha256_digest(
      "SHA256:"
      "2804bad6fe94a55f18b2b37e300919a5fd517b95aa81e95db574c0ba069a3740"));
}
END_TEST

static Suite *manifest_suite(void)
{
  Suite *s = suite_create("manifest");
  TCase *tc = tcase_create("types");

  tcase_add_test(tc, test_docker_manifest_by_content_type);
  tcase_add_test(tc, test_oci_manifest_by_content_type);
  tcase_add_test(tc, test_docker_list_by_content_type);
  tcase_add_test(tc, test_oci_index_by_content_type);
  tcase_add_test(tc, test_content_type_parameters_ignored);
  tcase_add_test(tc, test_generic_content_type_uses_media_type);
  tcase_add_test(tc, test_oci_manifest_without_media_type);
  tcase_add_test(tc, test_oci_index_without_media_type);
  tcase_add_test(tc, test_content_type_mismatch_fails);
  tcase_add_test(tc, test_schema1_unsupported);
  tcase_add_test(tc, test_cve_2021_41190_ambiguous_documents);
  tcase_add_test(tc, test_free_is_idempotent);
  suite_add_tcase(s, tc);

  tc = tcase_create("select");
  tcase_add_test(tc, test_select_amd64_from_list_with_arm64_first);
  tcase_add_test(tc, test_select_arm64_with_and_without_variant);
  tcase_add_test(tc, test_select_variant_must_match);
  tcase_add_test(tc, test_select_skips_attestations);
  tcase_add_test(tc, test_select_only_attestations_fails);
  tcase_add_test(tc, test_select_no_match_names_platform);
  tcase_add_test(tc, test_select_empty_index_fails);
  suite_add_tcase(s, tc);

  tc = tcase_create("layers");
  tcase_add_test(tc, test_layer_gzip);
  tcase_add_test(tc, test_layer_zstd);
  tcase_add_test(tc, test_layer_plain_tar);
  tcase_add_test(tc, test_layer_foreign_is_gzip);
  tcase_add_test(tc, test_layer_unknown_type_refused);
  tcase_add_test(tc, test_layer_without_media_type_refused);
  suite_add_tcase(s, tc);

  tc = tcase_create("malformed");
  tcase_add_test(tc, test_not_json);
  tcase_add_test(tc, test_not_an_object);
  tcase_add_test(tc, test_duplicate_keys);
  tcase_add_test(tc, test_missing_digest);
  tcase_add_test(tc, test_missing_config_or_layers);
  tcase_add_test(tc, test_bad_digests);
  tcase_add_test(tc, test_bad_sizes);
  tcase_add_test(tc, test_zero_and_large_sizes);
  tcase_add_test(tc, test_overlong_fields);
  tcase_add_test(tc, test_too_many_layers);
  tcase_add_test(tc, test_many_layers_within_cap);
  tcase_add_test(tc, test_truncated_json);
  suite_add_tcase(s, tc);

  tc = tcase_create("platform");
  tcase_add_test(tc, test_platform_parse_good);
  tcase_add_test(tc, test_platform_parse_empty_is_host);
  tcase_add_test(tc, test_platform_parse_bad);
  suite_add_tcase(s, tc);

  tc = tcase_create("config");
  tcase_add_test(tc, test_config_diff_ids_good);
  tcase_add_test(tc, test_config_diff_ids_empty);
  tcase_add_test(tc, test_config_missing_rootfs);
  tcase_add_test(tc, test_config_bad_diff_id);
  tcase_add_test(tc, test_config_too_many_diff_ids);
  tcase_add_test(tc, test_valid_sha256_digest);
  suite_add_tcase(s, tc);
  return s;
}

MK_UNIT_MAIN(manifest_suite)
