/* mocker network {create,ls,rm,inspect} and mocker port, with Docker's
 * texts. `network release ID` is internal: the monitor runs it when a
 * detached container exits, to take its endpoint down. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "engine/container.h"
#include "base/flags.h"
#include "mk_exit.h"
#include "mk_util.h"
#include "engine/endpoint.h"
#include "net/network.h"
#include "net/portspec.h"

static const char network_usage[] =
    "Usage:  mocker network COMMAND\n"
    "\n"
    "Manage networks\n"
    "\n"
    "Commands:\n"
    "  create      Create a network\n"
    "  inspect     Display detailed information on one or more networks\n"
    "  ls          List networks\n"
    "  prune       Remove all unused networks\n"
    "  rm          Remove one or more networks\n"
    "\n"
    "Run 'mocker network COMMAND --help' for more information on a "
    "command.\n";

static const char create_usage[] =
    "Usage:  mocker network create [OPTIONS] NETWORK\n"
    "\n"
    "Create a network\n"
    "\n"
    "Options:\n"
    "  -d, --driver string    Driver to manage the Network (default "
    "\"bridge\")\n"
    "      --gateway string   IPv4 Gateway for the master subnet\n"
    "      --subnet string    Subnet in CIDR format that represents a "
    "network segment\n"
    "      --help             Print usage\n";

static const char ls_usage[] = "Usage:  mocker network ls [OPTIONS]\n"
                               "\n"
                               "List networks\n"
                               "\n"
                               "Options:\n"
                               "  -q, --quiet   Only display network IDs\n"
                               "      --help    Print usage\n";

static const char rm_usage[] =
    "Usage:  mocker network rm NETWORK [NETWORK...]\n"
    "\n"
    "Remove one or more networks\n";

static const char inspect_usage[] =
    "Usage:  mocker network inspect NETWORK [NETWORK...]\n"
    "\n"
    "Display detailed information on one or more networks\n";

static const char port_usage[] =
    "Usage:  mocker port CONTAINER [PRIVATE_PORT[/PROTO]]\n"
    "\n"
    "List port mappings or a specific mapping for the container\n";

enum { F_HELP = 1, F_QUIET, F_DRIVER, F_SUBNET, F_GATEWAY };

struct net_opts {
  int help, quiet;
  const char *driver, *subnet, *gateway;
};

static int apply_flag(void *data, int id, const char *value, mk_error_t *err)
{
  struct net_opts *o = data;

  (void)err;
  switch (id) {
  case F_HELP: o->help = 1; break;
  case F_QUIET: o->quiet = 1; break;
  case F_DRIVER: o->driver = value; break;
  case F_SUBNET: o->subnet = value; break;
  case F_GATEWAY: o->gateway = value; break;
  default: break;
  }
  return 0;
}

static int parse(int argc, char **argv, const struct mk_flag *flags,
                 const char *usage, const char *verb, struct net_opts *o,
                 int *status)
{
  return mk_parse_subcommand(argc, argv, flags, apply_flag, o, &o->help, usage,
                             verb, status);
}

static const struct mk_flag help_only[] = {{"help", 0, 0, F_HELP},
                                           {NULL, 0, 0, 0}};
const struct mk_flag mk_port_flags[] = {{"help", 0, 0, F_HELP},
                                        {NULL, 0, 0, 0}};

static const struct mk_flag create_flags[] = {{"driver", 'd', 1, F_DRIVER},
                                              {"subnet", 0, 1, F_SUBNET},
                                              {"gateway", 0, 1, F_GATEWAY},
                                              {"help", 0, 0, F_HELP},
                                              {NULL, 0, 0, 0}};

static int network_create(struct mk_ctx *ctx, int argc, char **argv)
{
  struct net_opts o = {0};
  struct mk_network n;
  mk_error_t err = {0};
  int status, i = parse(argc, argv, create_flags, create_usage,
                        "network create", &o, &status);

  if (i < 0)
    return status;
  if (argc - i != 1)
    return mk_usage_error("network create",
                          "\"mocker network create\" requires exactly 1 "
                          "argument.");
  if (o.driver && strcmp(o.driver, "bridge") != 0) {
    fprintf(stderr, "mocker: plugin \"%s\" not found\n", o.driver);
    return 1;
  }
  if (mk_network_create(ctx, argv[i], o.subnet, o.gateway, &n, &err) < 0) {
    mk_print_error(err.msg);
    return 1;
  }
  puts(n.id);
  return 0;
}

struct ls_state {
  int quiet;
};

static int print_network(const struct mk_network *n, void *data)
{
  const struct ls_state *s = data;

  if (s->quiet)
    printf("%.12s\n", n->id);
  else
    printf("%-14.12s %-20s %-10s %s\n", n->id, n->name, "bridge", "local");
  return 0;
}

static const struct mk_flag ls_flags[] = {
    {"quiet", 'q', 0, F_QUIET}, {"help", 0, 0, F_HELP}, {NULL, 0, 0, 0}};

static int network_ls(struct mk_ctx *ctx, int argc, char **argv)
{
  struct net_opts o = {0};
  struct ls_state s;
  int status,
      i = parse(argc, argv, ls_flags, ls_usage, "network ls", &o, &status);

  if (i < 0)
    return status;
  s.quiet = o.quiet;
  if (!o.quiet)
    printf("%-14s %-20s %-10s %s\n", "NETWORK ID", "NAME", "DRIVER", "SCOPE");
  mk_network_foreach(ctx, print_network, &s);
  /* Docker lists its two pseudo-networks too */
  if (o.quiet)
    return 0;
  printf("%-14s %-20s %-10s %s\n", "686f73740000", "host", "host", "local");
  printf("%-14s %-20s %-10s %s\n", "6e6f6e650000", "none", "null", "local");
  return 0;
}

static int network_rm(struct mk_ctx *ctx, int argc, char **argv)
{
  struct net_opts o = {0};
  int status,
      rc = 0,
      i = parse(argc, argv, help_only, rm_usage, "network rm", &o, &status);

  if (i < 0)
    return status;
  if (i >= argc)
    return mk_usage_error("network rm", NULL);
  for (; i < argc; i++) {
    mk_error_t err = {0};
    if (mk_network_remove(ctx, argv[i], &err) < 0) {
      mk_print_error(err.msg);
      rc = 1;
    } else {
      puts(argv[i]);
    }
  }
  return rc;
}

static int network_inspect(struct mk_ctx *ctx, int argc, char **argv)
{
  struct net_opts o = {0};
  json_t *all = json_array();
  int status, rc = 0,
              i = parse(argc, argv, help_only, inspect_usage, "network inspect",
                        &o, &status);

  if (i < 0) {
    json_decref(all);
    return status;
  }
  if (i >= argc) {
    json_decref(all);
    return mk_usage_error("network inspect", NULL);
  }
  for (; i < argc; i++) {
    struct mk_network n;
    mk_error_t err = {0};
    if (mk_network_load(ctx, argv[i], &n, &err) < 0) {
      fprintf(stderr, "mocker: network %s not found\n", argv[i]);
      rc = 1;
      continue;
    }
    json_array_append_new(
        all, mk_network_to_json(ctx, &n, mk_endpoint_container_name, ctx));
  }
  json_dumpf(all, stdout, JSON_INDENT(4));
  putchar('\n');
  json_decref(all);
  return rc;
}

static const char prune_usage[] =
    "Usage:  mocker network prune [OPTIONS]\n"
    "\n"
    "Remove all unused networks. The default bridge's link (mocker0) and "
    "nftables\ntable go too when no container uses them; they come back on "
    "next use.\n"
    "\n"
    "Options:\n"
    "  -f, --force   Do not prompt for confirmation\n"
    "      --help    Print usage\n";

static const struct mk_flag prune_flags[] = {
    {"force", 'f', 0, F_QUIET}, {"help", 0, 0, F_HELP}, {NULL, 0, 0, 0}};

static int network_prune(struct mk_ctx *ctx, int argc, char **argv)
{
  struct net_opts o = {0};
  struct mk_strv removed = {0};
  int status, i = parse(argc, argv, prune_flags, prune_usage, "network prune",
                        &o, &status);

  if (i < 0)
    return status;
  mk_network_prune(ctx, &removed);
  if (removed.n)
    puts("Deleted Networks:");
  for (size_t k = 0; k < removed.n; k++)
    puts(removed.v[k]);
  mk_strv_free(&removed);
  return 0;
}

/* Internal: the monitor's call after a detached container's exit. The
 * monitor holds the run lock, so this does not take it. */
static int network_release(struct mk_ctx *ctx, int argc, char **argv)
{
  struct mk_container c = {.lockfd = -1};
  mk_error_t err = {0};

  if (argc != 2 || strlen(argv[1]) != MK_ID_LEN ||
      strspn(argv[1], "0123456789abcdef") != MK_ID_LEN ||
      mk_root_path(ctx, c.dir, &err, "/containers/%s", argv[1]) < 0)
    return MK_EXIT_MOCKER_FAILED;
  snprintf(c.id, sizeof(c.id), "%s", argv[1]);
  mk_net_detach(ctx, &c);
  return 0;
}

/* release has no summary: internal, never listed or completed. */
const struct mk_command mk_network_commands[] = {
    {"create", {NULL}, network_create, "Create a network", create_flags, NULL},
    {"inspect",
     {NULL},
     network_inspect,
     "Display detailed information on one or more networks",
     help_only,
     NULL},
    {"ls", {"list"}, network_ls, "List networks", ls_flags, NULL},
    {"prune",
     {NULL},
     network_prune,
     "Remove all unused networks",
     prune_flags,
     NULL},
    {"rm",
     {"remove"},
     network_rm,
     "Remove one or more networks",
     help_only,
     NULL},
    {"release", {NULL}, network_release, NULL, NULL, NULL},
    {NULL, {NULL}, NULL, NULL, NULL, NULL},
};

int mk_cmd_network(struct mk_ctx *ctx, int argc, char **argv)
{
  const struct mk_command *s;

  if (argc < 2 || strcmp(argv[1], "--help") == 0) {
    fputs(network_usage, argc < 2 ? stderr : stdout);
    return argc < 2 ? MK_EXIT_MOCKER_FAILED : 0;
  }
  if ((s = mk_command_find(mk_network_commands, argv[1])))
    return s->fn(ctx, argc - 1, argv + 1);
  fprintf(stderr, "mocker: 'network %s' is not a mocker command.\n", argv[1]);
  return MK_EXIT_MOCKER_FAILED;
}

/* ---- mocker port ---- */

static int print_ports(const struct mk_container *c, const char *filter)
{
  json_t *s = mk_net_settings(c);
  json_t *ports = json_object_get(s, "Ports"), *list, *b;
  const char *key;
  size_t i;
  int found = 0;

  json_object_foreach(ports, key, list)
  {
    if (filter && strcmp(filter, key) != 0)
      continue;
    json_array_foreach(list, i, b)
    {
      const char *ip = json_string_value(json_object_get(b, "HostIp"));
      const char *port = json_string_value(json_object_get(b, "HostPort"));
      if (filter)
        printf("%s:%s\n", ip, port);
      else
        printf("%s -> %s:%s\n", key, ip, port);
      found = 1;
    }
  }
  json_decref(s);
  return found;
}

int mk_cmd_port(struct mk_ctx *ctx, int argc, char **argv)
{
  struct net_opts o = {0};
  struct mk_container c;
  struct mk_port_spec spec;
  mk_error_t err = {0};
  char filter[16];
  int status, found,
      i = parse(argc, argv, mk_port_flags, port_usage, "port", &o, &status);

  if (i < 0)
    return status;
  if (argc - i < 1 || argc - i > 2)
    return mk_usage_error("port", argc - i < 1 ? NULL
                                               : "\"mocker port\" requires "
                                                 "at most 2 arguments.");
  if (argc - i == 2) {
    if (mk_parse_expose(argv[i + 1], &spec, &err) < 0) {
      mk_print_error(err.msg);
      return 1;
    }
    snprintf(filter, sizeof(filter), "%u/%s", spec.container_port, spec.proto);
  }
  if (mk_container_open(ctx, argv[i], &c, &err) < 0) {
    mk_print_error(err.msg);
    return 1;
  }
  found = print_ports(&c, argc - i == 2 ? filter : NULL);
  mk_container_close(&c);
  if (!found && argc - i == 2) {
    fprintf(stderr, "mocker: no public port '%s' published for %s\n", filter,
            argv[i]);
    return 1;
  }
  return 0;
}
