/* Local registries and test images for the pull suite (check_pull.c).
 *
 * Everything here is owned by the Check *runner* process: unchecked
 * fixtures start the registries (tests/registry/registry.sh) before a
 * test case's tests fork, and stop them after, whatever the tests did.
 * The suite's scratch dir is /tmp/mocker-pull.XXXXXX (not under the
 * harness's /tmp/mocker-it.* dirs, so the per-test leftover checks never
 * see the registries). pf_suite_cleanup runs at exit of the runner only
 * (forked test children inherit the atexit hook but skip it), stops every
 * registry still recorded and removes the dir.
 *
 * Functions that run in the runner never ck_assert: they return -1 and
 * fill an error buffer, and the tests report it. The pf_*_ok variants are
 * for use inside tests and assert. */
#ifndef MK_IT_PULL_FIXTURE_H
#define MK_IT_PULL_FIXTURE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define PF_ERR 2048

/* Creates the suite dir and registers the exit-time cleanup. Call from
 * main, before the runner starts. */
void pf_suite_init(void);
void pf_suite_cleanup(void);
const char *pf_suite_dir(void);
/* Absolute path of tests/registry. */
const char *pf_scripts(void);

/* Result of a shell command (bash -c). */
struct pf_sh {
  int status; /* exit code, -SIG, or -1000 on timeout */
  char *out, *err;
};
/* Runs `bash -c CMD` with stdin /dev/null; never asserts. */
int pf_sh(struct pf_sh *r, int timeout_ms, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void pf_sh_free(struct pf_sh *r);
/* In a test: runs the command, asserts exit 0, returns stdout with the
 * trailing newline removed (malloc'ed). */
char *pf_sh_ok(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Builds make-images.sh and make-test-images.py's `extra` output once per
 * run into SUITE/img; later calls are free. */
int pf_images(char *err, size_t errsize);
/* SUITE/img/NAME into out. */
void pf_img(char *out, size_t size, const char *name);

struct pf_registry {
  char dir[PATH_MAX];
  char addr[64];                 /* 127.0.0.1:PORT */
  char mode[16];                 /* plain|basic|tls|token */
  char push_opts[PATH_MAX + 64]; /* credentials / CA for push.sh */
  bool running;
  char err[PF_ERR]; /* why it is not running */
};

/* registry.sh start SUITE/NAME MODE; records it for the exit cleanup. */
int pf_registry_start(struct pf_registry *r, const char *name,
                      const char *mode);
/* registry.sh stop, then removes its dir. Idempotent. */
void pf_registry_stop(struct pf_registry *r);

/* push.sh [r->push_opts] [OPTS] ADDR REPO TAG IMG/config.json IMG/layers...
 * out gets push.sh's stdout (the digest, or DIGEST,SIZE,MT with --desc).
 * Never asserts; err gets the reason. */
int pf_push(const struct pf_registry *r, const char *opts, const char *repo,
            const char *tag, const char *img, char *out, size_t outsize,
            char *err, size_t errsize);
/* In a test: pf_push that asserts; returns the digest in out. */
void pf_push_ok(const struct pf_registry *r, const char *opts, const char *repo,
                const char *tag, const char *img, char *out, size_t outsize);
/* Path of a blob's data file in the registry's storage. */
void pf_blob_path(const struct pf_registry *r, const char *digest, char *out,
                  size_t size);

/* tests/registry/redirect_server.py in front of UPSTREAM (an addr), started
 * from a test: its files live in h.host, so the harness's cleanup kills it
 * if the test dies. ARGS are extra flags (split by the shell). */
struct pf_server {
  pid_t pid;
  char addr[64]; /* 127.0.0.1:PORT of the front */
  int blob_port; /* the redirect target's port, or 0 */
  char log[PATH_MAX];
};
void pf_server_start(struct pf_server *s, const char *name,
                     const char *upstream, const char *args);
void pf_server_stop(struct pf_server *s);
/* The server's request log (malloc'ed, "" if none). */
char *pf_server_log(const struct pf_server *s);

/* Test environment: MOCKER_CONFIG_DIR and DOCKER_CONFIG point into h.host
 * (empty), no proxies, no layer size limit. A checked fixture. */
void pf_test_setup(void);
/* Writes $MOCKER_CONFIG_DIR/config.json. */
void pf_write_mocker_config(const char *json);
/* Writes $DOCKER_CONFIG/config.json with tester:secret for each host
 * (NULL-terminated). */
void pf_write_docker_auth(const char *const hosts[]);
const char *pf_mocker_config_dir(void);

/* sha256:HEX of a file, or "" (asserts in tests). */
void pf_file_digest(const char *path, char out[72]);

#endif
