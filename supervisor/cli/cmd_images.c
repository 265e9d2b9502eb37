/* mocker images, mocker rmi, mocker image prune */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "engine/container.h"
#include "base/flags.h"
#include "mk_exit.h"
#include "image/progress.h"
#include "image/reference.h"
#include "image/store.h"

static const char images_usage[] = "Usage:  mocker images [OPTIONS]\n"
                                   "\n"
                                   "List images\n"
                                   "\n"
                                   "Options:\n"
                                   "  -q, --quiet   Only show image IDs\n"
                                   "      --help    Print usage\n";

static const char rmi_usage[] =
    "Usage:  mocker rmi [OPTIONS] IMAGE [IMAGE...]\n"
    "\n"
    "Remove one or more images\n"
    "\n"
    "Options:\n"
    "  -f, --force   Force removal of the image\n"
    "      --help    Print usage\n";

enum { OPT_QUIET = 1, OPT_FORCE, OPT_HELP };

const struct mk_flag mk_images_flags[] = {
    {"quiet", 'q', 0, OPT_QUIET},
    {"help", 0, 0, OPT_HELP},
    {NULL, 0, 0, 0},
};

const struct mk_flag mk_rmi_flags[] = {
    {"force", 'f', 0, OPT_FORCE},
    {"help", 0, 0, OPT_HELP},
    {NULL, 0, 0, 0},
};

struct list_opts {
  int quiet, force, help;
};

static int apply_flag(void *data, int id, const char *value, mk_error_t *err)
{
  struct list_opts *o = data;

  (void)value;
  (void)err;
  if (id == OPT_QUIET)
    o->quiet = 1;
  else if (id == OPT_FORCE)
    o->force = 1;
  else
    o->help = 1;
  return 0;
}

/* "2 hours ago", as Docker's go-units HumanDuration words it. */
static void human_ago(long long then, char *out, size_t size)
{
  long long s = (long long)time(NULL) - then;
  static const struct {
    long long secs;
    const char *unit;
  } steps[] = {
      {365LL * 24 * 3600, "years"},
      {30LL * 24 * 3600, "months"},
      {7LL * 24 * 3600, "weeks"},
      {24LL * 3600, "days"},
      {3600, "hours"},
      {60, "minutes"},
  };

  if (then < 0) {
    snprintf(out, size, "N/A");
    return;
  }
  for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
    if (s >= 2 * steps[i].secs) {
      snprintf(out, size, "%lld %s ago", s / steps[i].secs, steps[i].unit);
      return;
    }
  snprintf(out, size, s < 60 ? "Less than a minute ago" : "About a minute ago");
}

/* "docker.io/library/busybox:latest" -> "busybox", "latest". */
static void split_name(const char *name, char *repo, size_t rsize, char *tag,
                       size_t tsize)
{
  struct mk_ref ref;
  mk_error_t ignored;
  char shown[512];

  if (mk_ref_parse(name, &ref, &ignored) < 0) {
    snprintf(repo, rsize, "%s", name);
    snprintf(tag, tsize, "<none>");
    return;
  }
  snprintf(tag, tsize, "%s", ref.tag[0] ? ref.tag : "<none>");
  ref.tag[0] = '\0';
  ref.digest[0] = '\0';
  mk_ref_display(&ref, shown, sizeof(shown));
  shown[strcspn(shown, "@")] = '\0';
  snprintf(repo, rsize, "%s", shown);
}

static void print_images(struct mk_ctx *ctx, const struct mk_tag *tags,
                         size_t n, int quiet)
{
  if (!quiet)
    printf("%-40s %-12s %-12s %-18s %s\n", "REPOSITORY", "TAG", "IMAGE ID",
           "CREATED", "SIZE");
  for (size_t i = 0; i < n; i++) {
    char repo[512], tag[160], when[64], size[32];
    if (quiet) {
      int seen = 0;
      for (size_t k = 0; k < i; k++)
        seen |= strcmp(tags[k].id, tags[i].id) == 0;
      if (!seen)
        printf("%.12s\n", tags[i].id + 7);
      continue;
    }
    split_name(tags[i].name, repo, sizeof(repo), tag, sizeof(tag));
    human_ago(mk_store_image_created(ctx, tags[i].id), when, sizeof(when));
    mk_human_bytes(mk_store_image_size(ctx, tags[i].id), size, sizeof(size));
    printf("%-40s %-12s %-12.12s %-18s %s\n", repo, tag, tags[i].id + 7, when,
           size);
  }
}

int mk_cmd_images(struct mk_ctx *ctx, int argc, char **argv)
{
  struct list_opts o = {0};
  mk_error_t err = {0};
  struct mk_tag *tags = NULL;
  size_t n = 0;
  int i = mk_parse_flags(argc, argv, 1, mk_images_flags, apply_flag, &o, &err);

  if (i < 0 || i < argc) {
    mk_print_error(i < 0 ? err.msg : "\"mocker images\" takes no arguments");
    fputs("See 'mocker images --help'.\n", stderr);
    return MK_EXIT_MOCKER_FAILED;
  }
  if (o.help) {
    fputs(images_usage, stdout);
    return 0;
  }
  if (mk_ctx_prepare_root(ctx, &err) < 0 ||
      mk_store_list_tags(ctx, &tags, &n, &err) < 0) {
    mk_print_error(err.msg);
    return 1;
  }
  print_images(ctx, tags, n, o.quiet);
  free(tags);
  return 0;
}

static int tags_of(struct mk_ctx *ctx, const char *id)
{
  struct mk_tag *tags = NULL;
  size_t n = 0;
  int count = 0;
  mk_error_t ignored;

  if (mk_store_list_tags(ctx, &tags, &n, &ignored) < 0)
    return 0;
  for (size_t i = 0; i < n; i++)
    count += strcmp(tags[i].id, id) == 0;
  free(tags);
  return count;
}

static int remove_image(struct mk_ctx *ctx, const char *key, int force,
                        mk_error_t *err)
{
  char id[MK_DIGEST_LEN + 1], tag[512], user[MK_ID_LEN + 1] = "";
  int is_tag, users;

  if (mk_store_resolve_image(ctx, key, id, tag, &is_tag, err) < 0)
    return -1;
  users = mk_containers_using_image(ctx, id, user);
  if (users > 0 && !force && (!is_tag || tags_of(ctx, id) <= 1))
    return mk_error_set(err, EBUSY,
                        "conflict: unable to remove repository reference "
                        "\"%s\" (must force) - container %.12s is using its "
                        "referenced image %.12s",
                        key, user, id + 7);
  if (is_tag) {
    int left = mk_store_untag(ctx, tag, err);
    if (left < 0)
      return -1;
    struct mk_ref ref;
    char shown[512];
    mk_error_t ignored;
    if (mk_ref_parse(tag, &ref, &ignored) == 0)
      mk_ref_display(&ref, shown, sizeof(shown));
    printf("Untagged: %s\n", ref.path[0] ? shown : tag);
    if (left > 0)
      return 0;
  }
  if (users > 0)
    return 0; /* forced: untagged, kept for the containers that use it */
  if (mk_store_delete_image(ctx, id, err) < 0)
    return -1;
  printf("Deleted: %s\n", id);
  return 0;
}

int mk_cmd_rmi(struct mk_ctx *ctx, int argc, char **argv)
{
  struct list_opts o = {0};
  mk_error_t err = {0};
  int status = 0;
  int i = mk_parse_flags(argc, argv, 1, mk_rmi_flags, apply_flag, &o, &err);

  if (i < 0) {
    mk_print_error(err.msg);
    fputs("See 'mocker rmi --help'.\n", stderr);
    return MK_EXIT_MOCKER_FAILED;
  }
  if (o.help) {
    fputs(rmi_usage, stdout);
    return 0;
  }
  if (i >= argc) {
    fputs("mocker: \"mocker rmi\" requires at least 1 argument.\n"
          "See 'mocker rmi --help'.\n",
          stderr);
    return MK_EXIT_MOCKER_FAILED;
  }
  if (mk_ctx_prepare_root(ctx, &err) < 0) {
    mk_print_error(err.msg);
    return 1;
  }
  for (; i < argc; i++) {
    err.msg[0] = '\0';
    if (remove_image(ctx, argv[i], o.force, &err) < 0) {
      mk_print_error(err.msg);
      status = 1;
    }
  }
  return status;
}
