/* The flag tables, the help texts, and what is generated from them at
 * build time (packaging/: bash and zsh completion, man pages) cannot
 * drift apart:
 *   - every flag in `mocker __flags` (the tables the parsers use) is
 *     taken by its verb's parser;
 *   - every flag and subcommand a help text lists is in the tables;
 *   - the bash completion offers exactly the table's flags and
 *     subcommands, the zsh completion names every flag;
 *   - every verb in `mocker --help` has a man page that lists its flags;
 *   - the example config.json is read by mocker, and mocker-config.json(5)
 *     documents every key in it.
 * The generated files are looked for beside the binary ($MOCKER's dir
 * /dist, as `make completion man` leaves them); packaging/ is read from
 * the current directory, the top of the tree. */
#include <errno.h>
#include <jansson.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"

#define MAX_RECS 1024

struct rec {
  char kind[16];  /* command, alias, flag */
  char path[128]; /* "" for the global flags */
  char a[128];    /* summary, alias name, or shorthand ("-" for none) */
  char b[128];    /* flag: long name */
  int value;      /* flag: takes a value */
};

static struct rec recs[MAX_RECS];
static size_t nrecs;

static void field(char *dst, size_t size, char **line)
{
  char *tab = strchr(*line, '\t');
  size_t n = tab ? (size_t)(tab - *line) : strlen(*line);

  ck_assert_msg(n < size, "__flags field too long: %s", *line);
  memcpy(dst, *line, n);
  dst[n] = '\0';
  *line += n + (tab != NULL);
}

/* Reads `mocker __flags` into recs. */
static void load_tree(void)
{
  struct h_res r;
  char *save = NULL, *line, value[8];

  ck_assert_int_eq(H_RUN(&r, "__flags"), 0);
  nrecs = 0;
  for (line = strtok_r(r.out, "\n", &save); line;
       line = strtok_r(NULL, "\n", &save)) {
    struct rec *e = &recs[nrecs++];
    ck_assert(nrecs < MAX_RECS);
    memset(e, 0, sizeof(*e));
    field(e->kind, sizeof(e->kind), &line);
    field(e->path, sizeof(e->path), &line);
    field(e->a, sizeof(e->a), &line);
    if (strcmp(e->kind, "flag") == 0) {
      field(e->b, sizeof(e->b), &line);
      field(value, sizeof(value), &line);
      e->value = strcmp(value, "1") == 0;
    }
  }
  h_res_free(&r);
  ck_assert_msg(nrecs > 100, "__flags printed only %zu records", nrecs);
}

static const struct rec *find_flag(const char *path, const char *name)
{
  for (size_t i = 0; i < nrecs; i++)
    if (strcmp(recs[i].kind, "flag") == 0 && strcmp(recs[i].path, path) == 0 &&
        strcmp(recs[i].b, name) == 0)
      return &recs[i];
  return NULL;
}

/* Whether PATH has a subcommand (or alias) called name. */
static int has_subcommand(const char *path, const char *name)
{
  char full[256];

  h_fmt(full, sizeof(full), "%s%s%s", path, *path ? " " : "", name);
  for (size_t i = 0; i < nrecs; i++) {
    if (strcmp(recs[i].kind, "command") == 0 && strcmp(recs[i].path, full) == 0)
      return 1;
    if (strcmp(recs[i].kind, "alias") == 0 && strcmp(recs[i].a, name) == 0 &&
        strncmp(recs[i].path, full, strlen(path)) == 0)
      return 1;
  }
  return 0;
}

/* Runs `mocker PATH EXTRA...` (PATH split into words). */
static int run_path(struct h_res *r, const char *path, const char *const *extra)
{
  char words[256], *save = NULL;
  const char *argv[32];
  size_t n = 0;

  h_fmt(words, sizeof(words), "%s", path);
  for (char *w = strtok_r(words, " ", &save); w; w = strtok_r(NULL, " ", &save))
    argv[n++] = w;
  for (; *extra; extra++)
    argv[n++] = *extra;
  argv[n] = NULL;
  ck_assert(n < 32);
  return h_run(r, NULL, argv);
}

static void assert_flag_parses(const struct rec *f, const char *spelled)
{
  const char *extra[4] = {spelled, NULL, NULL, NULL};
  struct h_res r;

  /* A value the parser may refuse: only "unknown flag" is a failure. */
  extra[1] = f->value ? (strcmp(f->b, "root") == 0 ? h.root : "x") : "--help";
  extra[2] = f->value ? "--help" : NULL;
  run_path(&r, f->path, extra);
  ck_assert_msg(!strstr(r.err, "unknown flag") &&
                    !strstr(r.err, "unknown shorthand flag") &&
                    !strstr(r.err, "is not a mocker command"),
                "`mocker %s %s` is in the table but not parsed: %s", f->path,
                spelled, r.err);
  ck_assert_msg(r.status >= 0 && r.status != H_TIMED_OUT,
                "`mocker %s %s` died: %d", f->path, spelled, r.status);
  if (!*f->path)
    ck_assert_msg(r.status == 0, "`mocker %s` failed: %s", spelled, r.err);
  h_res_free(&r);
}

START_TEST(test_every_table_flag_is_parsed)
{
  size_t flags = 0;

  load_tree();
  for (size_t i = 0; i < nrecs; i++) {
    const struct rec *f = &recs[i];
    char spelled[160];
    if (strcmp(f->kind, "flag") != 0)
      continue;
    h_fmt(spelled, sizeof(spelled), "--%s", f->b);
    assert_flag_parses(f, spelled);
    if (strcmp(f->a, "-") != 0) {
      h_fmt(spelled, sizeof(spelled), "-%s", f->a);
      assert_flag_parses(f, spelled);
    }
    flags++;
  }
  ck_assert_uint_gt(flags, 150);
}
END_TEST

/* One option line of a help text: "  -d, --detach   ..." or
 * "      --name string   ...". 0 if the line is none. */
static int option_line(const char *line, char *shorthand, char *name,
                       size_t size)
{
  const char *p = line + strspn(line, " ");
  size_t n;

  if (p == line || *p != '-')
    return 0;
  *shorthand = '\0';
  if (p[1] != '-' && p[2] == ',') {
    *shorthand = p[1];
    p += 4;
  }
  if (strncmp(p, "--", 2) != 0)
    return 0;
  p += 2;
  n = strcspn(p, " ");
  ck_assert(n < size);
  memcpy(name, p, n);
  name[n] = '\0';
  return 1;
}

/* Checks the Options and Commands of PATH's help against the tables. */
static void check_help(const char *path)
{
  const char *extra[] = {"--help", NULL};
  char *save = NULL, section[32] = "", name[128], s;
  struct h_res r;

  ck_assert_msg(run_path(&r, path, extra) == 0, "`mocker %s --help`: %s", path,
                r.err);
  ck_assert_msg(strncmp(r.out, "Usage:", 6) == 0, "`mocker %s --help`: %s",
                path, r.out);
  for (char *line = strtok_r(r.out, "\n", &save); line;
       line = strtok_r(NULL, "\n", &save)) {
    size_t len = strlen(line);
    if (line[0] != ' ' && len && line[len - 1] == ':') {
      h_fmt(section, sizeof(section), "%s", line);
    } else if (strcmp(section, "Options:") == 0 &&
               option_line(line, &s, name, sizeof(name))) {
      const struct rec *f = find_flag(path, name);
      ck_assert_msg(f, "`mocker %s --help` lists --%s, not in its table", path,
                    name);
      ck_assert_msg(!s || f->a[0] == s, "`mocker %s --help`: -%c, --%s", path,
                    s, name);
    } else if (strcmp(section, "Commands:") == 0 && line[0] == ' ') {
      sscanf(line, " %127s", name);
      ck_assert_msg(has_subcommand(path, name),
                    "`mocker %s --help` lists %s, not in the table", path,
                    name);
    }
  }
  h_res_free(&r);
}

START_TEST(test_help_texts_list_only_table_entries)
{
  load_tree();
  check_help("");
  for (size_t i = 0; i < nrecs; i++)
    if (strcmp(recs[i].kind, "command") == 0)
      check_help(recs[i].path);
}
END_TEST

static void dist_path(char *out, size_t size, const char *rel)
{
  char bin[4096];

  h_fmt(bin, sizeof(bin), "%s", h_mocker());
  h_fmt(out, size, "%s/dist/%s", dirname(bin), rel);
  ck_assert_msg(h_exists(out), "%s is missing: run `make completion man`", out);
}

/* Words bash completes after `mocker PATH` + the word `cur`. */
static char *bash_complete(const char *script, const char *path,
                           const char *cur)
{
  char cmd[8192], *out = calloc(1, 65536);
  size_t n = 0, got;
  FILE *p;

  h_fmt(cmd, sizeof(cmd),
        "bash -c 'source \"$0\"; COMP_WORDS=(mocker $1 \"$2\"); "
        "COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _mocker; "
        "(( ${#COMPREPLY[@]} )) && printf \"%%s\\n\" \"${COMPREPLY[@]}\"; "
        "exit 0' '%s' '%s' '%s'",
        script, path, cur);
  p = popen(cmd, "r");
  ck_assert_ptr_nonnull(p);
  while ((got = fread(out + n, 1, 65535 - n, p)) > 0)
    n += got;
  ck_assert_int_eq(pclose(p), 0);
  return out;
}

/* name with each '-' as roff's "\-", as the man pages write it. */
static void roff_dashes(char *out, size_t size, const char *name)
{
  size_t n = 0;

  for (; *name; name++) {
    if (*name == '-')
      out[n++] = '\\';
    out[n++] = *name;
    ck_assert(n + 2 < size);
  }
  out[n] = '\0';
}

static void check_bash_flags(const char *script, const char *path)
{
  char want[8192], *got = bash_complete(script, path, "-");
  size_t n = 0, nwant = 0, lines = 0;

  for (size_t i = 0; i < nrecs; i++) {
    const struct rec *f = &recs[i];
    if (strcmp(f->kind, "flag") != 0 || strcmp(f->path, path) != 0)
      continue;
    n += (size_t)snprintf(want + n, sizeof(want) - n, "--%s", f->b) + 1;
    nwant++;
    if (strcmp(f->a, "-") != 0) {
      n += (size_t)snprintf(want + n, sizeof(want) - n, "-%s", f->a) + 1;
      nwant++;
    }
    ck_assert(n < sizeof(want));
  }
  for (const char *w = want; w < want + n; w += strlen(w) + 1)
    ck_assert_msg(h_has_line(got, w), "`mocker %s -` does not complete %s",
                  path, w);
  for (const char *c = got; (c = strchr(c, '\n')); c++)
    lines++;
  ck_assert_msg(lines == nwant, "`mocker %s -` completes %zu words, want %zu",
                path, lines, nwant);
  free(got);
}

START_TEST(test_bash_completion_matches_the_tables)
{
  char script[4096];

  dist_path(script, sizeof(script), "completion/mocker");
  load_tree();
  check_bash_flags(script, "");
  for (size_t i = 0; i < nrecs; i++) {
    const struct rec *c = &recs[i];
    if (strcmp(c->kind, "command") != 0)
      continue;
    check_bash_flags(script, c->path);
    /* the command itself is completed after its parent */
    char parent[128], *sp, *got;
    h_fmt(parent, sizeof(parent), "%s", c->path);
    sp = strrchr(parent, ' ');
    if (sp)
      *sp = '\0';
    else
      parent[0] = '\0';
    got = bash_complete(script, parent, "");
    ck_assert_msg(h_has_line(got, sp ? sp + 1 : c->path),
                  "`mocker %s` does not complete %s", parent, c->path);
    free(got);
  }
}
END_TEST

START_TEST(test_zsh_completion_names_every_flag)
{
  char file[4096], prefix[256], item[256];
  char *text, *line, *save = NULL;

  dist_path(file, sizeof(file), "completion/_mocker");
  text = h_read_file(file);
  ck_assert_ptr_nonnull(text);
  ck_assert(strncmp(text, "#compdef mocker\n", 16) == 0);
  load_tree();
  for (size_t i = 0; i < nrecs; i++) {
    const struct rec *f = &recs[i];
    int found = 0;
    if (strcmp(f->kind, "flag") != 0)
      continue;
    h_fmt(prefix, sizeof(prefix), "  '%s') reply=(", f->path);
    h_fmt(item, sizeof(item), " '--%s:", f->b);
    char *copy = strdup(text);
    for (line = strtok_r(copy, "\n", &save); line && !found;
         line = strtok_r(NULL, "\n", &save))
      found = strncmp(line, prefix, strlen(prefix)) == 0 && strstr(line, item);
    free(copy);
    ck_assert_msg(found, "_mocker: no --%s for `mocker %s`", f->b, f->path);
  }
  free(text);
}
END_TEST

/* The page of verb lists every flag its help text lists. */
static void check_man_page(const char *verb)
{
  const char *extra[] = {"--help", NULL};
  char file[4096], rel[256], name[128], esc[256], want[300], s, *page;
  char *save = NULL;
  struct h_res r;

  h_fmt(rel, sizeof(rel), "man/man1/mocker-%s.1", verb);
  dist_path(file, sizeof(file), rel);
  page = h_read_file(file);
  ck_assert_ptr_nonnull(page);
  ck_assert_msg(strstr(page, ".SH NAME\n"), "%s has no NAME", file);
  run_path(&r, verb, extra);
  for (char *line = strtok_r(r.out, "\n", &save); line;
       line = strtok_r(NULL, "\n", &save)) {
    if (!option_line(line, &s, name, sizeof(name)))
      continue;
    roff_dashes(esc, sizeof(esc), name);
    h_fmt(want, sizeof(want), "\\fB\\-\\-%s\\fR", esc);
    ck_assert_msg(strstr(page, want), "%s does not list --%s", file, name);
  }
  h_res_free(&r);
  free(page);
}

START_TEST(test_every_verb_has_a_man_page)
{
  const char *extra[] = {"--help", NULL};
  char *save = NULL, name[64], file[4096];
  int in_commands = 0, verbs = 0;
  struct h_res r;

  dist_path(file, sizeof(file), "man/man1/mocker.1");
  dist_path(file, sizeof(file), "man/man5/mocker-config.json.5");
  run_path(&r, "", extra);
  for (char *line = strtok_r(r.out, "\n", &save); line;
       line = strtok_r(NULL, "\n", &save)) {
    if (line[0] != ' ') {
      in_commands = strcmp(line, "Commands:") == 0;
      continue;
    }
    if (!in_commands || sscanf(line, " %63s", name) != 1)
      continue;
    check_man_page(name);
    verbs++;
  }
  h_res_free(&r);
  ck_assert_int_gt(verbs, 25);
}
END_TEST

/* The example config, with comment keys, is read as it stands: its bip
 * (changed) is the default network's. */
START_TEST(test_example_config_is_read_and_documented)
{
  json_error_t jerr;
  json_t *cfg = json_load_file("packaging/config.json", 0, &jerr), *v;
  char *man = h_read_file("packaging/mocker-config.json.5.in");
  char dir[4096], path[4200], esc[128], want[256];
  const char *key;
  struct h_res r;

  ck_assert_msg(cfg, "packaging/config.json (run from the top of the tree): %s",
                jerr.text);
  ck_assert_ptr_nonnull(man);
  json_object_foreach(cfg, key, v)
  {
    if (key[0] == '#' || key[0] == '/')
      continue;
    roff_dashes(esc, sizeof(esc), key);
    h_fmt(want, sizeof(want), ".BR %s ", esc);
    ck_assert_msg(strstr(man, want), "mocker-config.json(5) lacks %s", key);
  }
  ck_assert_str_eq(json_string_value(json_object_get(cfg, "bip")),
                   "10.88.0.1/16");
  json_object_set_new(cfg, "bip", json_string("10.231.7.1/24"));
  h_fmt(dir, sizeof(dir), "%s/etc", h.host);
  ck_assert_int_eq(mkdir(dir, 0755), 0);
  h_fmt(path, sizeof(path), "%s/config.json", dir);
  ck_assert_int_eq(json_dump_file(cfg, path, JSON_INDENT(2)), 0);
  setenv("MOCKER_CONFIG_DIR", dir, 1);
  ck_assert_int_eq(H_RUN(&r, "network", "inspect", "bridge"), 0);
  unsetenv("MOCKER_CONFIG_DIR");
  ck_assert_msg(strstr(r.out, "\"10.231.7.0/24\""), "%s", r.out);
  h_res_free(&r);
  json_decref(cfg);
  free(man);
}
END_TEST

static Suite *cli_tables_suite(void)
{
  Suite *s = suite_create("cli_tables");
  TCase *tc = h_tcase("tables", 300);

  tcase_add_test(tc, test_every_table_flag_is_parsed);
  tcase_add_test(tc, test_help_texts_list_only_table_entries);
  tcase_add_test(tc, test_bash_completion_matches_the_tables);
  tcase_add_test(tc, test_zsh_completion_names_every_flag);
  tcase_add_test(tc, test_every_verb_has_a_man_page);
  tcase_add_test(tc, test_example_config_is_read_and_documented);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  return h_main(cli_tables_suite());
}
