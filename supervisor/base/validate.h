/* One validator per kind of value a user or an image hands mocker: byte
 * sizes, CPU quantities, integers, signals, hostnames, environment
 * entries, container paths and container names. Every flag and config key
 * of a kind goes through its validator, so a value means one thing
 * everywhere and a bad one is refused where it enters, with a message
 * that names the value and says why (Docker's words where Docker has
 * them). Pure functions: no I/O, no allocation, cheap enough for every
 * container key. */
#ifndef MK_VALIDATE_H
#define MK_VALIDATE_H

#include <stddef.h>

#include "strv.h"

#include "mk_error.h"

/* $ROOT/names/<name> and $ROOT/volumes/<name> are single path
 * components, later joined with suffixes (".tmpXXXXXX", "/_data"): 128
 * keeps every such component far below NAME_MAX (255). Docker has no
 * limit; a longer name is a mistake, not a use. */
#define MK_CONTAINER_NAME_MAX 128

/* HOST_NAME_MAX: what sethostname(2) takes; a label is at most 63. */
#define MK_HOSTNAME_MAX 64

/* Stop timeouts in seconds (--stop-timeout, stop and restart -t): -1
 * (the default) up to a year. */
#define MK_TIMEOUT_MAX_S (86400 * 365)

/* Linux signal numbers: 1 to 64 (SIGRTMAX). */
#define MK_SIGNAL_MAX 64

/* Writes s into buf (size bytes) between q quotes, control characters
 * and quotes escaped (\n, \t, \x01), cut with "..." past 160 bytes, so a
 * message can name any value on one line. Returns buf. */
const char *mk_quote_value(char *buf, size_t size, const char *s, char q);

/* Docker's byte sizes (go-units RAMInBytes): a decimal number, optionally
 * with a fraction, then an optional unit b, k, m, g, t or p (powers of
 * 1024), optionally followed by "i" and/or "b" ("512m", "1.5GiB", "10kb").
 * Empty, negative, malformed and over INT64_MAX refused. */
int mk_parse_bytes(const char *s, long long *bytes, mk_error_t *err);

/* A CPU quantity ("1.5"): a plain decimal, at most 9 fraction digits,
 * from 0.01 to ncpus, as nano CPUs. No exponent, no NaN or infinity. */
int mk_parse_cpus(const char *s, long ncpus, long long *nano_cpus,
                  mk_error_t *err);

/* A decimal integer in [min, max]: an optional '-', then digits only (no
 * blanks, no '+', no hex). */
int mk_parse_int_range(const char *s, long long min, long long max,
                       long long *out, mk_error_t *err);

/* A signal: a name with or without "SIG", any case ("TERM", "sigusr1"),
 * RTMIN, RTMIN+n, RTMAX, RTMAX-n (RTMIN is 34, as Docker's table), or a
 * number from 1 to MK_SIGNAL_MAX. */
int mk_parse_signo(const char *s, int *signo, mk_error_t *err);

/* RFC 1123: dot-separated labels of letters, digits and '-', 1 to 63
 * characters, not starting or ending with '-'; MK_HOSTNAME_MAX in all. */
int mk_validate_hostname(const char *s, mk_error_t *err);

/* An environment entry NAME=VALUE, or NAME alone: the name is not empty
 * and has no blank or control character (the value may hold anything). */
int mk_validate_env_entry(const char *entry, mk_error_t *err);

/* A CPU list for --cpuset-cpus ("0-3,6"): comma-separated numbers and
 * ranges LOW-HIGH with LOW <= HIGH, each below MK_CPU_MAX (the kernel's
 * largest NR_CPUS); no empty item. */
#define MK_CPU_MAX 8192
int mk_validate_cpuset(const char *s, mk_error_t *err);

/* A tmpfs size= value: Docker's byte sizes (mk_parse_bytes), or a
 * percentage of RAM as tmpfs takes it ("50%"). Out: the kernel's form,
 * plain bytes or N%. */
int mk_parse_tmpfs_size(const char *s, char *out, size_t size, mk_error_t *err);

/* One tmpfs option, Docker's and the OCI spec's alike: a flag (ro, rw,
 * nosuid, suid, nodev, dev, noexec, exec) changes *flags (MK_MNT_*);
 * size= goes through mk_parse_tmpfs_size into data. Returns 1 when it
 * took the option, 0 when it is none of these (the caller decides), -1
 * on a bad size. */
/* One of mount(8)'s generic option words (ro, nosuid, noatime, rbind,
 * rshared...): sets or clears MK_MNT_* flags or sets the propagation
 * (MK_PROP_*) and returns 1; 0 when opt is not one of them (a
 * filesystem's own option, or one mocker does not know). */
int mk_mount_option(const char *opt, unsigned *flags, unsigned *propagation);

int mk_tmpfs_option(const char *opt, unsigned *flags, struct mk_strv *data,
                    mk_error_t *err);

/* A working directory in the container: absolute, no control
 * characters, shorter than PATH_MAX. */
int mk_validate_workdir(const char *path, mk_error_t *err);

/* Where something is mounted in the container (-v, --tmpfs, --device, an
 * image's VOLUME): a container path as above that is not "/" once
 * cleaned, and with no ".." component at all. */
int mk_validate_mount_destination(const char *path, mk_error_t *err);

/* Why name is not a valid container (volume, network) name, or NULL:
 * Docker's [a-zA-Z0-9][a-zA-Z0-9_.-]+ and at most MK_CONTAINER_NAME_MAX
 * characters. */
const char *mk_container_name_problem(const char *name);

/* 1 when name is valid (mk_container_name_problem says nothing). */
int mk_valid_container_name(const char *name);

/* mk_container_name_problem as an error naming the value. */
int mk_validate_container_name(const char *name, mk_error_t *err);

/* Docker's ulimit names: "nofile" <-> RLIMIT_NOFILE, and so on. -1 and
 * NULL for what is not one. */
int mk_rlimit_by_name(const char *name);
const char *mk_rlimit_name(int resource);

#endif
