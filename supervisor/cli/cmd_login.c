/* mocker login / logout: the Docker client's credential file, so that a
 * user's existing `docker login` keeps working and ours works for docker. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "commands.h"
#include "base/context.h"
#include "base/flags.h"
#include "mk_exit.h"
#include "mk_util.h"
#include "base/safefile.h"
#include "image/regconfig.h"
#include "image/registry.h"
#include "base/strv.h"

enum { L_USER = 1, L_PASS, L_STDIN, L_HELP };

const struct mk_flag mk_login_flags[] = {
    {"username", 'u', 1, L_USER},
    {"password", 'p', 1, L_PASS},
    {"password-stdin", 0, 0, L_STDIN},
    {"help", 0, 0, L_HELP},
    {NULL, 0, 0, 0},
};

struct login_opts {
  const char *user, *password;
  int from_stdin, help;
};

static int apply_login_flag(void *data, int id, const char *v, mk_error_t *err)
{
  struct login_opts *o = data;

  (void)err;
  if (id == L_USER)
    o->user = v;
  else if (id == L_PASS)
    o->password = v;
  else if (id == L_STDIN)
    o->from_stdin = 1;
  else
    o->help = 1;
  return 0;
}

/* Docker Hub is keyed by its v1 index URL in the credential file. */
static const char *auth_key(const char *host)
{
  return strcmp(host, "docker.io") == 0 ? MK_DOCKER_HUB_KEY : host;
}

static char *read_line(FILE *in, int echo)
{
  struct termios old, quiet;
  char buf[4096];
  int tty = !echo && isatty(fileno(in)) && tcgetattr(fileno(in), &old) == 0;

  if (tty) {
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    tcsetattr(fileno(in), TCSAFLUSH, &quiet);
  }
  char *got = fgets(buf, sizeof(buf), in);
  if (tty) {
    tcsetattr(fileno(in), TCSAFLUSH, &old);
    fputc('\n', stderr);
  }
  if (!got)
    return NULL;
  buf[strcspn(buf, "\r\n")] = '\0';
  return mk_xstrdup(buf);
}

/* Rewrites config.json keeping every other field, mode 0600, through a
 * random temporary name: $DOCKER_CONFIG may be a directory others can
 * write. */
static int save_docker_config(json_t *cfg, mk_error_t *err)
{
  char path[PATH_MAX], dir[PATH_MAX];
  _cleanup_free_ char *text = json_dumps(cfg, JSON_INDENT(1));
  struct mk_safefile f;

  if (!text)
    return mk_error_set(err, ENOMEM, "encode the registry credentials");
  mk_docker_config_path(path);
  mk_snprintf(dir, sizeof(dir), "%s", path);
  *strrchr(dir, '/') = '\0';
  if (mk_mkdir_p(dir, 0700, err) < 0 ||
      mk_safefile_open(&f, path, 0600, err) < 0)
    return -1;
  if (mk_write_all(f.fd, text, strlen(text)) < 0) {
    mk_error_sys(err, errno, "write `%s`", path);
    mk_safefile_abort(&f);
    return -1;
  }
  return mk_safefile_commit(&f, err);
}

static json_t *load_docker_config(void)
{
  char path[PATH_MAX];
  json_t *cfg;

  mk_docker_config_path(path);
  cfg = json_load_file(path, 0, NULL);
  return json_is_object(cfg) ? cfg : (json_decref(cfg), json_object());
}

static int store_credentials(const char *host, const char *creds,
                             mk_error_t *err)
{
  json_t *cfg = load_docker_config();
  json_t *auths = json_object_get(cfg, "auths");
  _cleanup_free_ char *b64 = mk_base64_encode(creds);
  int r;

  if (!json_is_object(auths)) {
    auths = json_object();
    json_object_set_new(cfg, "auths", auths);
  }
  json_object_set_new(auths, auth_key(host), json_pack("{s:s}", "auth", b64));
  r = save_docker_config(cfg, err);
  json_decref(cfg);
  return r;
}

static int gather_credentials(struct login_opts *o, char **user, char **pass,
                              mk_error_t *err)
{
  *user = o->user ? mk_xstrdup(o->user) : NULL;
  *pass = o->password ? mk_xstrdup(o->password) : NULL;
  if (o->from_stdin && !(*pass = read_line(stdin, 1)))
    return mk_error_set(err, EINVAL, "no password on standard input");
  if (!*user && isatty(STDIN_FILENO)) {
    fputs("Username: ", stderr);
    *user = read_line(stdin, 1);
  }
  if (!*pass && isatty(STDIN_FILENO)) {
    fputs("Password: ", stderr);
    *pass = read_line(stdin, 0);
  }
  if (!*user || !**user || !*pass || !**pass)
    return mk_error_set(err, EINVAL,
                        "username and password required (use -u and "
                        "--password-stdin)");
  return 0;
}

int mk_cmd_login(struct mk_ctx *ctx, int argc, char **argv)
{
  struct login_opts o = {0};
  mk_error_t err = {0};
  struct mk_registry r;
  char *user = NULL, *pass = NULL;
  int i = mk_parse_flags(argc, argv, 1, mk_login_flags, apply_login_flag, &o,
                         &err),
      status = 1;

  (void)ctx;
  if (i < 0 || argc - i > 1) {
    mk_print_error(i < 0 ? err.msg
                         : "\"mocker login\" takes at most 1 argument.");
    fputs("See 'mocker login --help'.\n", stderr);
    return MK_EXIT_MOCKER_FAILED;
  }
  if (o.help) {
    puts("Usage:  mocker login [OPTIONS] [SERVER]\n\n"
         "Log in to a registry (default: Docker Hub)\n\nOptions:\n"
         "  -p, --password string   Password\n"
         "      --password-stdin    Take the password from stdin\n"
         "  -u, --username string   Username");
    return 0;
  }
  const char *host = i < argc ? argv[i] : "docker.io";
  if (strncmp(host, "https://", 8) == 0)
    host += 8;
  if (gather_credentials(&o, &user, &pass, &err) == 0 &&
      mk_registry_open(&r, host, "", &err) == 0) {
    free(r.credentials);
    struct mk_strv c = {0};
    mk_strv_pushf(&c, "%s:%s", user, pass);
    r.credentials = mk_xstrdup(c.v[0]);
    mk_strv_free(&c);
    if (mk_registry_check_login(&r, &err) == 0 &&
        store_credentials(host, r.credentials, &err) == 0) {
      puts("Login Succeeded");
      status = 0;
    }
    mk_registry_close(&r);
  }
  if (status)
    mk_print_error(err.msg);
  free(user);
  free(pass);
  return status;
}

int mk_cmd_logout(struct mk_ctx *ctx, int argc, char **argv)
{
  mk_error_t err = {0};
  const char *host = argc > 1 ? argv[1] : "docker.io";
  json_t *cfg = load_docker_config();
  json_t *auths = json_object_get(cfg, "auths");

  (void)ctx;
  if (argc > 1 && strcmp(argv[1], "--help") == 0) {
    puts("Usage:  mocker logout [SERVER]\n\nLog out from a registry");
    json_decref(cfg);
    return 0;
  }
  if (!json_object_get(auths, auth_key(host))) {
    printf("Not logged in to %s\n", host);
    json_decref(cfg);
    return 0;
  }
  json_object_del(auths, auth_key(host));
  int r = save_docker_config(cfg, &err);
  json_decref(cfg);
  if (r < 0) {
    mk_print_error(err.msg);
    return 1;
  }
  printf("Removing login credentials for %s\n", host);
  return 0;
}
