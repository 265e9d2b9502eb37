/* mocker-runtime features: the runtime-spec 1.1 features document, what
 * this runtime honours; a caller reads it to know what it may ask. It
 * lists only what translate.c accepts. */
#include "oci.h"

#include <jansson.h>
#include <stdio.h>

#include "isolation/caps.h"

static json_t *capability_names(void)
{
  json_t *a = json_array();
  char name[32], full[40];

  for (int cap = 0; cap < 64; cap++)
    if ((mk_caps_all() & (1ULL << cap)) && mk_cap_name(cap, name)) {
      snprintf(full, sizeof(full), "CAP_%s", name);
      json_array_append_new(a, json_string(full));
    }
  return a;
}

/* mount(8)'s words mk_mount_option takes, and tmpfs's size and mode
 * (a filesystem's other plain options go to the kernel as they are). */
static json_t *mount_options(void)
{
  static const char *const words[] = {
      "defaults", "ro",         "rw",          "nosuid",        "suid",
      "nodev",    "dev",        "noexec",      "exec",          "sync",
      "async",    "dirsync",    "noatime",     "atime",         "nodiratime",
      "diratime", "relatime",   "norelatime",  "strictatime",   "nostrictatime",
      "bind",     "rbind",      "private",     "rprivate",      "shared",
      "rshared",  "slave",      "rslave",      "unbindable",    "runbindable",
      "size",     "mode",       "uid",         "gid"};
  json_t *a = json_array();

  for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
    json_array_append_new(a, json_string(words[i]));
  return a;
}

static json_t *features(void)
{
  return json_pack(
      "{s:s, s:s, s:[s, s, s, s, s, s], s:o, s:{s:[s, s, s, s, s, s, s], s:o, "
      "s:{s:b, s:b, s:b, s:b}, s:{s:b}, s:{s:b}, s:{s:b}, s:{s:{s:b}}}, s:{}}",
      "ociVersionMin", "1.0.0", "ociVersionMax", "1.1.0", "hooks", "prestart",
      "createRuntime", "createContainer", "startContainer", "poststart",
      "poststop", "mountOptions", mount_options(), "linux", "namespaces",
      "cgroup", "ipc", "mount", "network", "pid", "user", "uts", "capabilities",
      capability_names(), "cgroup", "v1", 1, "v2", 1, "systemd", 0,
      "systemdUser", 0, "seccomp", "enabled", 1, "apparmor", "enabled", 0,
      "selinux", "enabled", 0, "mountExtensions", "idmap", "enabled", 0,
      "annotations");
}

int mk_oci_cmd_features(struct mk_ctx *ctx, int argc, char **argv)
{
  json_t *f = features();

  (void)argv;
  if (argc != 1 || !f) {
    json_decref(f);
    return mk_oci_fail(mk_oci_of(ctx), "features takes no arguments");
  }
  json_dumpf(f, stdout, JSON_INDENT(2));
  putchar('\n');
  json_decref(f);
  return 0;
}
