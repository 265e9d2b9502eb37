/* One function per CLI verb, dispatched from main's command table. Each
 * returns the process exit status. */
#ifndef MK_COMMANDS_H
#define MK_COMMANDS_H

#include "base/context.h"
#include "base/flags.h"

int mk_cmd_run(struct mk_ctx *ctx, int argc, char **argv);
int mk_cmd_rm(struct mk_ctx *ctx, int argc, char **argv);
int mk_cmd_pull(struct mk_ctx *ctx, int argc, char **argv);
int mk_cmd_images(struct mk_ctx *ctx, int argc, char **argv);
int mk_cmd_rmi(struct mk_ctx *ctx, int argc, char **argv);
int mk_cmd_tag(struct mk_ctx *ctx, int argc, char **argv);
int mk_cmd_image(struct mk_ctx *ctx, int argc, char **argv);
int mk_cmd_save(struct mk_ctx *ctx, int argc, char **argv);
int mk_cmd_load(struct mk_ctx *ctx, int argc, char **argv);
int mk_cmd_login(struct mk_ctx *ctx, int argc, char **argv);
int mk_cmd_logout(struct mk_ctx *ctx, int argc, char **argv);

int mk_cmd_create(struct mk_ctx *ctx, int argc, char **argv);
int mk_cmd_start(struct mk_ctx *ctx, int argc, char **argv);
int mk_cmd_restart(struct mk_ctx *ctx, int argc, char **argv);
int mk_cmd_stop(struct mk_ctx *ctx, int argc, char **argv);
int mk_cmd_kill(struct mk_ctx *ctx, int argc, char **argv);
int mk_cmd_wait(struct mk_ctx *ctx, int argc, char **argv);
int mk_cmd_attach(struct mk_ctx *ctx, int argc, char **argv);
int mk_cmd_logs(struct mk_ctx *ctx, int argc, char **argv);
int mk_cmd_exec(struct mk_ctx *ctx, int argc, char **argv);
int mk_cmd_ps(struct mk_ctx *ctx, int argc, char **argv);
int mk_cmd_inspect(struct mk_ctx *ctx, int argc, char **argv);
int mk_cmd_top(struct mk_ctx *ctx, int argc, char **argv);
int mk_cmd_rename(struct mk_ctx *ctx, int argc, char **argv);
int mk_cmd_container(struct mk_ctx *ctx, int argc, char **argv);
int mk_cmd_volume(struct mk_ctx *ctx, int argc, char **argv);
int mk_cmd_stats(struct mk_ctx *ctx, int argc, char **argv);
int mk_cmd_update(struct mk_ctx *ctx, int argc, char **argv);
int mk_cmd_network(struct mk_ctx *ctx, int argc, char **argv);
int mk_cmd_port(struct mk_ctx *ctx, int argc, char **argv);

/* The management verbs' subcommands: each dispatches through its own
 * table, which main's command table points at. */
extern const struct mk_command mk_container_commands[];
extern const struct mk_command mk_image_commands[];
extern const struct mk_command mk_network_commands[];
extern const struct mk_command mk_volume_commands[];

/* The verbs' flag tables, as their parsers use them (run's and create's
 * is mk_run_flags, in cli.h; verbs that take only --help use
 * mk_help_flags). */
extern const struct mk_flag mk_start_flags[], mk_restart_flags[],
    mk_attach_flags[], mk_stop_flags[], mk_kill_flags[], mk_wait_flags[],
    mk_rm_flags[], mk_ps_flags[], mk_logs_flags[], mk_exec_flags[],
    mk_inspect_flags[], mk_stats_flags[], mk_update_flags[], mk_port_flags[],
    mk_pull_flags[], mk_images_flags[], mk_rmi_flags[], mk_load_flags[],
    mk_save_flags[], mk_login_flags[];

/* Prints "mocker: <msg>" to stderr. */
void mk_print_error(const char *msg);

#endif
