/* The OCI hooks mocker-init runs, as runc's init does: createContainer
 * while the container is being built, startContainer once `start` let
 * it go. Each failure names the hook and fails the container. */
#ifndef MK_INIT_HOOKS_H
#define MK_INIT_HOOKS_H

#include "mk_error.h"
#include "mk_proto.h"
#include "passwd.h"

/* createContainer: in the container's namespaces with its mounts made,
 * before pivot_root, as init itself (root): the path resolves in the
 * runtime's filesystem, which is still visible. Each hook is the bundle
 * author's own command, trusted as the bundle is. */
int mk_hooks_create_container(const struct mk_config *cfg, mk_error_t *err);

/* startContainer: inside the container (the path resolves there, so the
 * image decides what runs), with exactly the workload's identity: its
 * user and groups, capabilities, rlimits, umask, no_new_privs and
 * seccomp filter, and its working directory. */
int mk_hooks_start_container(const struct mk_config *cfg,
                             const struct mk_user *user, mk_error_t *err);

#endif
