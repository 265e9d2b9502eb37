/* A runtime-spec 1.x bundle's config.json, read strictly: every field
 * mocker-runtime honours is type-checked and validated where it enters,
 * and where the spec is clear mocker refuses what runc and crun let
 * through (an unknown capability, an unknown namespace type). Fields the
 * spec does not define are ignored, as it asks. */
#ifndef MK_OCI_CONFIG_H
#define MK_OCI_CONFIG_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/strv.h"
#include "engine/spawn.h"
#include "mk_error.h"

/* Capability sets, as bit masks of CAP_* numbers. */
enum mk_oci_capset {
  MK_OCI_CAP_BOUNDING,
  MK_OCI_CAP_EFFECTIVE,
  MK_OCI_CAP_INHERITABLE,
  MK_OCI_CAP_PERMITTED,
  MK_OCI_CAP_AMBIENT,
  MK_OCI_NCAPSETS
};

struct mk_oci_rlimit {
  int resource; /* RLIMIT_* */
  uint64_t soft, hard;
};

#define MK_OCI_MAX_RLIMITS 16
#define MK_OCI_MAX_GIDS 64

struct mk_oci_process {
  int terminal;
  unsigned rows, cols; /* consoleSize; 0 when not given */
  uint32_t uid, gid;
  uint32_t gids[MK_OCI_MAX_GIDS]; /* additionalGids */
  size_t ngids;
  int has_umask;
  mode_t umask;
  struct mk_strv args, env;
  const char *cwd;
  uint64_t caps[MK_OCI_NCAPSETS];
  struct mk_oci_rlimit rlimits[MK_OCI_MAX_RLIMITS];
  size_t nrlimits;
  int no_new_privileges;
  int has_oom_score_adj;
  int oom_score_adj;
};

struct mk_oci_mount {
  const char *destination, *type, *source; /* type and source may be NULL */
  struct mk_strv options;
};

struct mk_oci_namespace {
  int type;         /* CLONE_NEW* */
  const char *path; /* join this one; NULL: a new one */
};

#define MK_OCI_MAX_NAMESPACES 8

/* The hooks of runtime-spec 1.1, in the order they run. */
enum mk_oci_hook_kind {
  MK_OCI_HOOK_PRESTART, /* deprecated: at createRuntime's moment, first */
  MK_OCI_HOOK_CREATE_RUNTIME,
  MK_OCI_HOOK_CREATE_CONTAINER,
  MK_OCI_HOOK_START_CONTAINER,
  MK_OCI_HOOK_POSTSTART,
  MK_OCI_HOOK_POSTSTOP,
  MK_OCI_NHOOK_KINDS
};

/* Their keys in config.json: "prestart", "createRuntime", ... */
extern const char *const mk_oci_hook_names[MK_OCI_NHOOK_KINDS];

struct mk_oci_hook {
  const char *path;         /* absolute */
  struct mk_strv args, env; /* env: NAME=value entries */
  unsigned timeout;         /* seconds; 0: none */
};

struct mk_oci_hooks {
  json_t *doc; /* the hooks object (a reference): strings point into it */
  struct mk_oci_hook *list[MK_OCI_NHOOK_KINDS];
  size_t n[MK_OCI_NHOOK_KINDS];
};

struct mk_oci_config {
  json_t *doc; /* the parsed file: the strings below point into it */
  const char *oci_version;
  const char *root_path; /* as written: relative to the bundle, or absolute */
  int root_readonly;
  const char *hostname, *domainname; /* NULL when not given */
  int has_process;
  struct mk_oci_process process;
  struct mk_oci_mount *mounts;
  size_t nmounts;
  struct mk_oci_namespace namespaces[MK_OCI_MAX_NAMESPACES];
  size_t nnamespaces;
  const char *cgroups_path;
  json_t *resources; /* linux.resources, or NULL (checked by its user) */
  json_t *seccomp;   /* linux.seccomp, or NULL; SCMP_ACT_NOTIFY refused */
  json_t *hooks;     /* hooks, or NULL: kept as given for start, delete */
  struct mk_oci_hooks hook_list; /* the same, parsed */
  json_t *sysctl; /* linux.sysctl: an object of strings, or NULL */
  struct mk_strv masked_paths, readonly_paths;
  const char *rootfs_propagation; /* NULL when not given */
  int has_mount_label;            /* ignored, with a warning */
  int has_id_mappings;            /* uid/gidMappings given */
  struct mk_userns idmaps;        /* linux.uidMappings, gidMappings */
};

/* Parses and validates text (len bytes) into c. On failure c holds
 * nothing to free and err names the field: "process.args: ...". */
int mk_oci_config_parse(const char *text, size_t len, struct mk_oci_config *c,
                        mk_error_t *err);

/* Reads <bundle>/config.json (a regular file of at most 4 MiB, not
 * followed if a link) and parses it. */
int mk_oci_config_load(const char *bundle, struct mk_oci_config *c,
                       mk_error_t *err);

void mk_oci_config_free(struct mk_oci_config *c);

/* Parses and checks a hooks object (NULL or null: none) into h, which
 * then holds a reference to it. Strict: a path must be absolute, args
 * and env arrays of strings, env entries NAME=value, a timeout a whole
 * number above zero; keys the spec does not define are ignored, as it
 * asks. On failure h holds nothing to free. */
int mk_oci_hooks_parse(json_t *hooks, struct mk_oci_hooks *h, mk_error_t *err);
void mk_oci_hooks_free(struct mk_oci_hooks *h);

/* `exec --process FILE`: a runtime-spec process object on its own,
 * validated as config.json's "process". *doc holds the strings p points
 * to; both are freed by mk_oci_process_free. */
int mk_oci_process_parse(const char *text, size_t len, json_t **doc,
                         struct mk_oci_process *p, mk_error_t *err);
int mk_oci_process_load(const char *path, json_t **doc,
                        struct mk_oci_process *p, mk_error_t *err);
void mk_oci_process_free(json_t **doc, struct mk_oci_process *p);

/* "pid" -> CLONE_NEWPID ...; -1 for a type the spec does not define. */
int mk_oci_namespace_type(const char *name);

#endif
