#include "cgroup_bpf.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mk_util.h"

#define MAX_INSNS 1024

struct program {
  struct bpf_insn insns[MAX_INSNS];
  size_t n;
};

static void emit(struct program *p, uint8_t code, uint8_t dst, uint8_t src,
                 int16_t off, int32_t imm)
{
  if (p->n < MAX_INSNS)
    p->insns[p->n] = (struct bpf_insn){
        .code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm};
  p->n++;
}

/* Registers: r2 type, r3 access, r4 major, r5 minor (from the context
 * struct bpf_cgroup_dev_ctx in r1). */
static void emit_prologue(struct program *p)
{
  emit(p, BPF_LDX | BPF_MEM | BPF_W, 2, 1, 0, 0); /* access_type */
  emit(p, BPF_ALU64 | BPF_MOV | BPF_X, 3, 2, 0, 0);
  emit(p, BPF_ALU64 | BPF_AND | BPF_K, 2, 0, 0, 0xffff); /* device type */
  emit(p, BPF_ALU64 | BPF_RSH | BPF_K, 3, 0, 0, 16);     /* access bits */
  emit(p, BPF_LDX | BPF_MEM | BPF_W, 4, 1, 4, 0);        /* major */
  emit(p, BPF_LDX | BPF_MEM | BPF_W, 5, 1, 8, 0);        /* minor */
}

static int32_t access_mask(const char *access)
{
  return (strchr(access, 'm') ? BPF_DEVCG_ACC_MKNOD : 0) |
         (strchr(access, 'r') ? BPF_DEVCG_ACC_READ : 0) |
         (strchr(access, 'w') ? BPF_DEVCG_ACC_WRITE : 0);
}

/* If every check passes: return 1 (allow). A failed check jumps to the
 * end of the rule; the offsets are patched once the end is known. */
static void emit_rule(struct program *p, const struct mk_device_rule *r)
{
  int32_t mask = access_mask(r->access);
  size_t start = p->n, end;

  if (r->type != 'a')
    emit(p, BPF_JMP | BPF_JNE | BPF_K, 2, 0, 0,
         r->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR);
  if (mask != 7) { /* r6 = requested bits outside the allowed ones */
    emit(p, BPF_ALU64 | BPF_MOV | BPF_X, 6, 3, 0, 0);
    emit(p, BPF_ALU64 | BPF_AND | BPF_K, 6, 0, 0, ~mask & 7);
    emit(p, BPF_JMP | BPF_JNE | BPF_K, 6, 0, 0, 0);
  }
  if (r->major >= 0)
    emit(p, BPF_JMP | BPF_JNE | BPF_K, 4, 0, 0, (int32_t)r->major);
  if (r->minor >= 0)
    emit(p, BPF_JMP | BPF_JNE | BPF_K, 5, 0, 0, (int32_t)r->minor);
  emit(p, BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 1);
  emit(p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
  end = p->n;
  for (size_t i = start; i < end && i < MAX_INSNS; i++)
    if (p->insns[i].code == (BPF_JMP | BPF_JNE | BPF_K))
      p->insns[i].off = (int16_t)(end - i - 1);
}

/* Without a verifier log first: on Linux 6.1 a log longer than its buffer
 * fails the load with ENOSPC even for a valid program (seen in the v2 test
 * VM). Only a refused program is loaded again, with the log, to explain. */
static int load_program(const struct program *p, mk_error_t *err)
{
  static char log[4096];
  union bpf_attr load = {0};
  int prog;

  load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  load.insns = (uint64_t)(uintptr_t)p->insns;
  load.insn_cnt = (uint32_t)p->n;
  load.license = (uint64_t)(uintptr_t) "GPL";
  prog = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof(load));
  if (prog >= 0)
    return prog;
  int e = errno;
  load.log_buf = (uint64_t)(uintptr_t)log;
  load.log_size = sizeof(log);
  load.log_level = 1;
  log[0] = '\0';
  prog = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof(load));
  if (prog >= 0)
    return prog;
  return mk_error_sys(err, e, "load the device filter (%.200s)", log);
}

static int load_and_attach(const char *cgroup_dir, const struct program *p,
                           mk_error_t *err)
{
  union bpf_attr attach = {0};
  _cleanup_close_ int prog = load_program(p, err), dir = -1;

  if (prog < 0)
    return -1;
  dir = open(cgroup_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0)
    return mk_error_sys(err, errno, "open `%s`", cgroup_dir);
  attach.target_fd = (uint32_t)dir;
  attach.attach_bpf_fd = (uint32_t)prog;
  attach.attach_type = BPF_CGROUP_DEVICE;
  attach.attach_flags = BPF_F_ALLOW_MULTI;
  if (syscall(SYS_bpf, BPF_PROG_ATTACH, &attach, sizeof(attach)) < 0)
    return mk_error_sys(err, errno, "attach the device filter to `%s`",
                        cgroup_dir);
  return 0;
}

int mk_cgroup_devices_bpf(const char *dir, const struct mk_device_rule *a,
                          size_t na, const struct mk_device_rule *b, size_t nb,
                          int allow_all, mk_error_t *err)
{
  if (allow_all)
    return 0;
  _cleanup_free_ struct program *p = calloc(1, sizeof(*p));
  if (!p)
    return mk_error_set(err, ENOMEM, "out of memory");
  emit_prologue(p);
  for (size_t i = 0; i < na; i++)
    emit_rule(p, &a[i]);
  for (size_t i = 0; i < nb; i++)
    emit_rule(p, &b[i]);
  emit(p, BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0); /* deny the rest */
  emit(p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
  if (p->n > MAX_INSNS)
    return mk_error_set(err, E2BIG, "too many device rules");
  return load_and_attach(dir, p, err);
}
