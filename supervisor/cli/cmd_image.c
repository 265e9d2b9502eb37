/* mocker tag, mocker image {ls,rm,pull,inspect,prune} */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "engine/container.h"
#include "base/flags.h"
#include "mk_exit.h"
#include "image/reference.h"
#include "image/store.h"
#include "base/strv.h"

static int usage_error(const char *msg, const char *verb)
{
  mk_print_error(msg);
  fprintf(stderr, "See 'mocker %s --help'.\n", verb);
  return MK_EXIT_MOCKER_FAILED;
}

static int want_help(int argc, char **argv)
{
  return argc > 1 && strcmp(argv[1], "--help") == 0;
}

int mk_cmd_tag(struct mk_ctx *ctx, int argc, char **argv)
{
  char id[MK_DIGEST_LEN + 1], src[512], name[512];
  struct mk_ref ref;
  mk_error_t err = {0};
  int is_tag, lockfd;

  if (want_help(argc, argv)) {
    puts("Usage:  mocker tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]\n\n"
         "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE");
    return 0;
  }
  if (argc != 3)
    return usage_error("\"mocker tag\" requires exactly 2 arguments.", "tag");
  if (mk_ctx_prepare_root(ctx, &err) < 0 ||
      mk_store_resolve_image(ctx, argv[1], id, src, &is_tag, &err) < 0 ||
      mk_ref_parse(argv[2], &ref, &err) < 0) {
    mk_print_error(err.msg);
    return 1;
  }
  if (!ref.tag[0]) {
    mk_print_error("refusing to create a tag with a digest reference");
    return 1;
  }
  mk_ref_name(&ref, name, sizeof(name));
  if ((lockfd = mk_store_lock(ctx, &err)) < 0 ||
      mk_store_set_tag(ctx, name, id, &err) < 0) {
    mk_print_error(err.msg);
    mk_store_unlock(lockfd);
    return 1;
  }
  mk_store_unlock(lockfd);
  return 0;
}

/* Docker's image inspect fields that scripts use. */
static json_t *inspect_one(struct mk_ctx *ctx, const char *id)
{
  json_t *cfg = mk_store_image_config(ctx, id);
  json_t *tags = json_array(), *out;
  struct mk_tag *all = NULL;
  size_t n = 0;
  mk_error_t ignored;

  if (mk_store_list_tags(ctx, &all, &n, &ignored) == 0)
    for (size_t i = 0; i < n; i++)
      if (strcmp(all[i].id, id) == 0) {
        struct mk_ref ref;
        char shown[512];
        if (mk_ref_parse(all[i].name, &ref, &ignored) == 0) {
          mk_ref_display(&ref, shown, sizeof(shown));
          json_array_append_new(tags, json_string(shown));
        }
      }
  free(all);
  json_t *rootfs = json_object_get(cfg, "rootfs");
  out = json_pack(
      "{s:s, s:o, s:O?, s:O?, s:O?, s:O?, s:I, s:{s:s, s:O?}}", "Id", id,
      "RepoTags", tags, "Created", json_object_get(cfg, "created"),
      "Architecture", json_object_get(cfg, "architecture"), "Os",
      json_object_get(cfg, "os"), "Config", json_object_get(cfg, "config"),
      "Size", (json_int_t)mk_store_image_size(ctx, id), "RootFS", "Type",
      "layers", "Layers", json_object_get(rootfs, "diff_ids"));
  json_decref(cfg);
  return out;
}

/* For `mocker inspect`, which falls back to images; the declaration is
 * repeated in cmd_inspect.c until commands.h includes jansson. */
json_t *mk_image_inspect_json(struct mk_ctx *ctx, const char *id);

json_t *mk_image_inspect_json(struct mk_ctx *ctx, const char *id)
{
  return inspect_one(ctx, id);
}

static int image_inspect(struct mk_ctx *ctx, int argc, char **argv)
{
  static const char usage[] =
      "Usage:  mocker image inspect IMAGE [IMAGE...]\n"
      "\n"
      "Display detailed information on one or more images\n";
  json_t *result;
  int help = 0, status,
      i = mk_parse_subcommand(argc, argv, mk_help_flags, mk_help_apply, &help,
                              &help, usage, "image inspect", &status);

  if (i < 0)
    return status;
  if (i >= argc)
    return usage_error("\"mocker image inspect\" requires at least 1 "
                       "argument.",
                       "image inspect");
  result = json_array();
  for (status = 0; i < argc; i++) {
    char id[MK_DIGEST_LEN + 1], tag[512];
    mk_error_t err = {0};
    int is_tag;
    if (mk_store_resolve_image(ctx, argv[i], id, tag, &is_tag, &err) < 0) {
      mk_print_error(err.msg);
      status = 1;
      continue;
    }
    json_t *one = inspect_one(ctx, id);
    if (one)
      json_array_append_new(result, one);
  }
  char *text = json_dumps(result, JSON_INDENT(4));
  if (text)
    puts(text);
  free(text);
  json_decref(result);
  return status;
}

/* Removes images that have no tag and no container, then their layers. */
static int image_prune(struct mk_ctx *ctx, int argc, char **argv)
{
  static const char usage[] = "Usage:  mocker image prune\n"
                              "\n"
                              "Remove unused images and layers\n";
  int help = 0, status,
      first = mk_parse_subcommand(argc, argv, mk_help_flags, mk_help_apply,
                                  &help, &help, usage, "image prune", &status);
  char **ids = NULL;
  size_t n = 0;
  struct mk_tag *tags = NULL;
  size_t ntags = 0;
  mk_error_t err = {0};
  int deleted = 0, layers;

  if (first < 0)
    return status;
  if (first < argc)
    return usage_error("\"mocker image prune\" accepts no arguments.",
                       "image prune");
  if (mk_store_image_ids(ctx, &ids, &n, &err) < 0 ||
      mk_store_list_tags(ctx, &tags, &ntags, &err) < 0) {
    mk_print_error(err.msg);
    return 1;
  }
  for (size_t i = 0; i < n; i++) {
    int tagged = 0;
    for (size_t k = 0; k < ntags; k++)
      tagged |= strcmp(tags[k].id, ids[i]) == 0;
    if (tagged || mk_containers_using_image(ctx, ids[i], NULL) > 0)
      continue;
    if (mk_store_delete_image(ctx, ids[i], &err) == 0) {
      printf("deleted: %s\n", ids[i]);
      deleted++;
    }
  }
  layers = mk_store_prune_layers(ctx, &err);
  printf("Deleted images: %d, unused layers: %d\n", deleted,
         layers < 0 ? 0 : layers);
  struct mk_strv all = {ids, n};
  mk_strv_free(&all);
  free(tags);
  return layers < 0 ? 1 : 0;
}

const struct mk_command mk_image_commands[] = {
    {"inspect",
     {NULL},
     image_inspect,
     "Display detailed information on one or more images",
     mk_help_flags,
     NULL},
    {"ls", {"list"}, mk_cmd_images, "List images", mk_images_flags, NULL},
    {"prune",
     {NULL},
     image_prune,
     "Remove unused images and layers",
     mk_help_flags,
     NULL},
    {"pull",
     {NULL},
     mk_cmd_pull,
     "Download an image from a registry",
     mk_pull_flags,
     NULL},
    {"rm", {NULL}, mk_cmd_rmi, "Remove one or more images", mk_rmi_flags, NULL},
    {NULL, {NULL}, NULL, NULL, NULL, NULL},
};

int mk_cmd_image(struct mk_ctx *ctx, int argc, char **argv)
{
  const struct mk_command *s;
  mk_error_t err = {0};

  if (argc < 2 || want_help(argc, argv)) {
    puts("Usage:  mocker image COMMAND\n\nManage images\n\nCommands:\n"
         "  inspect     Display detailed information on one or more images\n"
         "  ls          List images\n"
         "  prune       Remove unused images and layers\n"
         "  pull        Download an image from a registry\n"
         "  rm          Remove one or more images");
    return argc < 2 ? MK_EXIT_MOCKER_FAILED : 0;
  }
  if (mk_ctx_prepare_root(ctx, &err) < 0) {
    mk_print_error(err.msg);
    return 1;
  }
  if ((s = mk_command_find(mk_image_commands, argv[1])))
    return s->fn(ctx, argc - 1, argv + 1);
  fprintf(stderr,
          "mocker: 'image %s' is not a mocker command.\n"
          "See 'mocker image --help'.\n",
          argv[1]);
  return MK_EXIT_MOCKER_FAILED;
}
