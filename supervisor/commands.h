/* One function per CLI verb, dispatched from main's command table. Each
 * returns the process exit status. */
#ifndef MK_COMMANDS_H
#define MK_COMMANDS_H

#include "context.h"

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

/* Prints "mocker: <msg>" to stderr. */
void mk_print_error(const char *msg);

#endif
