# mocker: daemonless container engine.
#   make deps      install the Debian packages needed to build and test
#   make           build/mocker, the static build/mocker-init and
#                  build/mocker-monitor
#   make test      unit + integration suites (integration needs root)
#   make install PREFIX=/usr/local
#   make asan      sanitizer build in build-asan/
#   make bench     startup benchmark against runc, crun and podman

PREFIX ?= /usr/local
BUILD ?= build
CC ?= gcc
VERSION := 0.1.0
# `make Q=` shows every command.
Q ?= @

DEPS_BUILD := gcc make pkg-config busybox-static libjansson-dev \
  libarchive-dev nettle-dev libssl-dev zlib1g-dev libzstd-dev liblzma-dev libbz2-dev \
  libcap-ng-dev libseccomp-dev libcurl4-openssl-dev check musl-tools \
  libmnl-dev libnftables1
DEPS_TEST := iproute2 util-linux procps docker-registry apache2-utils openssl \
  curl ca-certificates python3 python3-cryptography zstd debootstrap skopeo \
  umoci clang libclang-rt-dev qemu-system-x86 cpio nftables containerd \
  podman containernetworking-plugins python3-grpcio python3-protobuf \
  protobuf-compiler protobuf-compiler-grpc
DEPS_BENCH := hyperfine runc crun podman

# Truncated error messages are fine; paths go through mk_snprintf, which
# refuses truncation at run time, so gcc's guesswork warning is off.
WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
  -Wmissing-prototypes -Wformat=2 -Wno-format-truncation
HARDEN := -D_FORTIFY_SOURCE=2 -fstack-protector-strong
OPT ?= -O2 -g
SAN ?=
CFLAGS += -std=gnu11 -D_GNU_SOURCE $(OPT) $(WARN) $(HARDEN) $(SAN) -Ishared -Iinit \
  -Isupervisor -DMK_VERSION='"$(VERSION)"' \
  -DMK_LIBEXECDIR='"$(PREFIX)/libexec/mocker"'

# The run path must start fast. Measured here: loading libarchive.so and
# its 16 dependencies costs ~6 ms per exec, libcrypto ~2 ms, and a static
# libcrypto still drags 17k relocations and ~100 page faults in. So
# libarchive is linked statically (only the objects used are pulled in)
# and SHA-256 comes from nettle, which libarchive already depends on.
# jansson is small and stays dynamic. --gc-sections drops the writers we
# never call (libarchive's format table would drag in xar and libxml2).
STATIC_LIBS := -Wl,-Bstatic -larchive -lzstd -llzma -lbz2 -lz -lnettle \
  -lseccomp -lcap-ng -Wl,-Bdynamic
SUP_LIBS := -Wl,--gc-sections $(STATIC_LIBS) -ljansson -lmnl -lpthread -ldl

SHARED_SRC := $(wildcard shared/*.c)
INIT_SRC := $(filter-out init/main.c,$(wildcard init/*.c))
# supervisor/<room>/*.c: the rooms and their rule are in docs/architecture.md.
SUP_SRC := $(filter-out supervisor/main/main.c supervisor/monitor/%,\
  $(wildcard supervisor/*/*.c))
SUP_HDR := $(wildcard supervisor/*/*.h)

SHARED_OBJ := $(SHARED_SRC:%.c=$(BUILD)/obj/%.o)
INIT_OBJ := $(INIT_SRC:%.c=$(BUILD)/obj/%.o)
SUP_OBJ := $(SUP_SRC:%.c=$(BUILD)/obj/%.o)
BLOB_OBJ := $(BUILD)/obj/busybox_blob.o
IMAGE_TAR := $(BUILD)/busybox-image.tar
IMAGE_ARCHIVE := $(BUILD)/busybox-archive.tar

# tests/unit/<room>/: a room of supervisor/, or shared/ or init/.
UNIT_SRC := $(wildcard tests/unit/*/check_*.c)
INTEG_SRC := $(wildcard tests/integration/check_*.c)
INTEG_HELPERS := $(filter-out tests/integration/check_%,$(wildcard tests/integration/*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%)
INTEG_BIN := $(INTEG_SRC:tests/integration/%.c=$(BUILD)/tests/integration/%)
# tests/security: escape attempts, driven by the integration harness; the
# probe is a static binary the suites mount into containers to make the
# raw syscalls busybox cannot.
SEC_SRC := $(wildcard tests/security/check_*.c)
SEC_BIN := $(SEC_SRC:tests/security/%.c=$(BUILD)/tests/security/%)
SEC_PROBE := $(BUILD)/tests/security/probe
# Toolchain probes run when first used, never while the Makefile is read:
# in `make deps all` or `make deps test` (one make, as the README has it)
# `deps` installs pkg-config, gcc and musl-gcc before anything asks for
# them. Each probe runs once ($(eval) memoizes it); a probe failing loudly
# is better than a fallback that silently builds something else.
probe = $(eval $(1) := $(shell $(2)))$($(1))
CHECK_LIBS = $(or $(call probe,CHECK_LIBS,pkg-config --libs check 2>/dev/null),\
  $(error pkg-config does not know Check (libcheck): run `make deps`))
TEST_LIBS :=

.PHONY: FORCE all deps deps-bench test unit integration install clean asan format \
  lint lint-layers bench test-vm

all: $(BUILD)/mocker $(BUILD)/mocker-runtime $(BUILD)/mocker-init \
  $(BUILD)/mocker-monitor

# docker-registry is only for the tests, which start their own on
# 127.0.0.1; if this install brings it in, Debian's service (listening on
# :5000) is stopped and disabled again where systemd runs; so is
# containerd's (the tests start a private one, on their own socket).
# One summary line per stage, so minutes of downloading are not silence.
# busybox-static conflicts with Debian's busybox: apt replaces it, and we
# say so rather than let it happen unnoticed.
# check_cri needs the Kubernetes CRI api.proto, which only containerd's
# source package ships: its tarball is fetched into the test cache once
# (tests/integration/cri_api_source.sh; the machine's apt sources are
# left as they are). Only that suite needs it, so a failed fetch is a
# warning here, and check_cri then fails saying so.
deps:
	@set -e; start=$$(date +%s); \
	echo "deps: apt-get update"; apt-get update -qq; \
	had_registry=$$(dpkg-query -W -f='$${Status}' docker-registry 2>/dev/null | grep -c 'ok installed' || true); \
	had_containerd=$$(dpkg-query -W -f='$${Status}' containerd 2>/dev/null | grep -c 'ok installed' || true); \
	if dpkg-query -W -f='$${Status}' busybox 2>/dev/null | grep -q 'ok installed'; then \
	  echo "deps: note: busybox-static replaces Debian's busybox package (they conflict)"; fi; \
	plan=$$(LC_ALL=C apt-get install --no-install-recommends --assume-no \
	  $(DEPS_BUILD) $(DEPS_TEST) 2>/dev/null | grep -E 'newly installed|^Need to get' || true); \
	echo "deps: $$(echo $${plan:-nothing to install})"; \
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	  $(DEPS_BUILD) $(DEPS_TEST) >/dev/null; \
	sh tests/integration/cri_api_source.sh fetch || \
	  echo "deps: warning: no containerd source; check_cri will fail"; \
	if [ "$$had_registry" = 0 ] && command -v systemctl >/dev/null && \
	   [ -d /run/systemd/system ]; then \
	  systemctl disable --now docker-registry >/dev/null 2>&1 || true; \
	fi; \
	if [ "$$had_containerd" = 0 ] && command -v systemctl >/dev/null && \
	   [ -d /run/systemd/system ]; then \
	  systemctl disable --now containerd >/dev/null 2>&1 || true; \
	fi; \
	echo "deps: done in $$(( $$(date +%s) - start )) s"

deps-bench:
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEPS_BENCH) >/dev/null

$(BUILD)/obj/%.o: %.c $(wildcard shared/*.h init/*.h) $(SUP_HDR) $(TOOLCHAIN)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(IMAGE_TAR) $(IMAGE_ARCHIVE) &: rootfs/mkimage.sh | $(DEPS_FIRST)
	@mkdir -p $(BUILD)
	sh rootfs/mkimage.sh $(IMAGE_TAR) $(IMAGE_ARCHIVE)

$(BLOB_OBJ): $(IMAGE_ARCHIVE) Makefile
	@mkdir -p $(dir $@)
	printf '.section .rodata\n.global mk_busybox_tar\n.global mk_busybox_tar_size\n.balign 64\nmk_busybox_tar:\n.incbin "%s"\n1:\n.balign 8\nmk_busybox_tar_size:\n.quad 1b - mk_busybox_tar\n.section .note.GNU-stack,"",@progbits\n' \
	  "$(abspath $(IMAGE_ARCHIVE))" > $(BUILD)/obj/busybox_blob.S
	$(CC) -c -o $@ $(BUILD)/obj/busybox_blob.S

$(BUILD)/libmocker.a: $(SUP_OBJ) $(INIT_OBJ) $(SHARED_OBJ) $(BLOB_OBJ)
	@rm -f $@
	$(Q)ar rcs $@ $^

$(BUILD)/mocker: $(BUILD)/obj/supervisor/main/main.o $(BUILD)/libmocker.a
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(SUP_LIBS)

# The OCI runtime front is the same binary called by another name
# (supervisor/main/main.c picks the front by argv[0]).
$(BUILD)/mocker-runtime: $(BUILD)/mocker
	ln -sfn mocker $@

# mocker-init is static: it runs inside any image, whatever libc the
# image has. It is built against musl when musl-gcc is there: 87 KB and 8
# page faults per exec instead of glibc's 890 KB and 26, which is ~0.8 ms
# off every container start on this machine. musl ships no kernel
# headers, so the few linux/ and asm/ ones init needs are linked in.
# (The sanitizer build uses gcc and links init dynamically; that works
# because the loader and libraries are mapped at exec, before pivot_root.)
MUSL_GCC = $(call probe,MUSL_GCC,command -v musl-gcc 2>/dev/null)
INIT_CC ?= $(if $(SAN),$(CC),$(or $(MUSL_GCC),$(CC)))
INIT_EXTRA = $(if $(filter $(MUSL_GCC),$(INIT_CC)),-idirafter $(BUILD)/kernel-headers)
# Stripped (-s): every container start copies it into a sealed memfd
# (CVE-2019-5736), and its debug info tripled what was copied (311 KB).
INIT_LDFLAGS ?= -static -s
MULTIARCH = $(call probe,MULTIARCH,$(CC) -print-multiarch)
# `make deps X`: everything X builds waits for deps, also under -j.
DEPS_FIRST := $(filter deps,$(MAKECMDGOALS))
# The compilers and headers the build used, and the settings baked into
# every object (PREFIX names MK_LIBEXECDIR). Rewritten only when they
# change, and every object depends on it, so a toolchain that appears
# later (musl-gcc after `make deps`) rebuilds what the old one made
# instead of mixing the two, and a bad kernel-headers link is remade.
TOOLCHAIN := $(BUILD)/toolchain.stamp
INIT_ALL_OBJ := $(patsubst %.c,$(BUILD)/obj-init/%.o,init/main.c $(INIT_SRC) $(SHARED_SRC))
# mocker-monitor, one per detached container, is built the same way: its
# memory is paid per container, so it links no JSON, TLS or archive code.
MONITOR_SRC := $(wildcard supervisor/monitor/*.c) supervisor/engine/spawn.c \
  supervisor/engine/idmap.c supervisor/engine/overlay.c \
  supervisor/engine/treecopy.c supervisor/base/context.c supervisor/isolation/cgroup.c \
  supervisor/isolation/cgroup_bpf.c
MONITOR_OBJ := $(patsubst %.c,$(BUILD)/obj-init/%.o,$(MONITOR_SRC) $(SHARED_SRC))

FORCE:
$(TOOLCHAIN): FORCE | $(DEPS_FIRST)
	@mkdir -p $(dir $@)
	@echo 'cc=$(shell command -v $(CC)) init_cc=$(INIT_CC) multiarch=$(MULTIARCH) prefix=$(PREFIX) opt=$(OPT) san=$(SAN) init_ld=$(INIT_LDFLAGS)' \
	  > $@.new && if cmp -s $@.new $@; then rm $@.new; else mv $@.new $@; fi

$(BUILD)/kernel-headers/.stamp: $(TOOLCHAIN)
	@mkdir -p $(dir $@)
	@test -n '$(MULTIARCH)' && test -d /usr/include/$(MULTIARCH)/asm || \
	  { echo "Makefile: no /usr/include/$(MULTIARCH)/asm: is gcc installed (make deps)?" >&2; exit 1; }
	ln -sfn /usr/include/linux $(BUILD)/kernel-headers/linux
	ln -sfn /usr/include/asm-generic $(BUILD)/kernel-headers/asm-generic
	ln -sfn /usr/include/$(MULTIARCH)/asm $(BUILD)/kernel-headers/asm
	@touch $@

$(BUILD)/obj-init/%.o: %.c $(wildcard shared/*.h init/*.h) $(SUP_HDR) $(BUILD)/kernel-headers/.stamp
	@mkdir -p $(dir $@)
	@echo "  CC      $< (static)"
	$(Q)$(INIT_CC) $(CFLAGS) -Isupervisor/monitor $(INIT_EXTRA) -c -o $@ $<

$(BUILD)/mocker-monitor: $(MONITOR_OBJ)
	@echo "  LD      $@"
	$(Q)$(INIT_CC) $(CFLAGS) $(LDFLAGS) $(INIT_LDFLAGS) -o $@ $^

$(BUILD)/mocker-init: $(INIT_ALL_OBJ)
	@echo "  LD      $@"
	$(Q)$(INIT_CC) $(CFLAGS) $(LDFLAGS) $(INIT_LDFLAGS) -o $@ $^

$(BUILD)/tests/unit/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(BUILD)/libmocker.a
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) -Itests/unit -Wno-missing-prototypes -o $@ $< \
	  $(BUILD)/libmocker.a \
	  $(SUP_LIBS) $(TEST_LIBS) $(CHECK_LIBS)

$(BUILD)/tests/integration/%: tests/integration/%.c $(INTEG_HELPERS) \
  $(wildcard tests/integration/*.h) $(BUILD)/libmocker.a
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) -Itests/integration -Wno-missing-prototypes -o $@ $< \
	  $(INTEG_HELPERS) $(BUILD)/libmocker.a $(SUP_LIBS) $(CHECK_LIBS) -lutil

$(BUILD)/tests/security/check_%: tests/security/check_%.c $(INTEG_HELPERS) \
  $(wildcard tests/integration/*.h tests/security/*.h) $(BUILD)/libmocker.a
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) -Itests/integration -Wno-missing-prototypes -o $@ $< \
	  $(INTEG_HELPERS) $(BUILD)/libmocker.a $(SUP_LIBS) $(CHECK_LIBS) -lutil

$(SEC_PROBE): tests/security/probe.c $(BUILD)/kernel-headers/.stamp
	@mkdir -p $(dir $@)
	@echo "  CC      $< (static)"
	$(Q)$(INIT_CC) $(CFLAGS) $(INIT_EXTRA) $(INIT_LDFLAGS) -o $@ $<

# Every suite runs even when an earlier one fails; the target fails at
# the end if any did.
# Each stage ends with a line saying how long it took.
STAGE_START = start=$$(date +%s)
STAGE_END = echo "== $@: $$(( $$(date +%s) - start )) s"

unit: $(UNIT_BIN)
	@$(STAGE_START); failed=0; for t in $(UNIT_BIN); do echo "== $$t"; \
	  $$t || failed=1; done; $(STAGE_END); exit $$failed

# Each suite moves itself into a throwaway network namespace first
# (h_main): containers default to bridge networking, and the host's real
# network must never see a test's bridge, veths, nftables rules or
# forwarding.
# The Debian image check_podman imports is debootstrapped once and cached
# ($$MOCKER_TEST_CACHE) by tests/registry/debian-image.sh: warmed here,
# before the suites, which run in network namespaces of their own where
# no mirror answers.
debian-image-cache:
	@bash tests/registry/debian-image.sh $(BUILD)/debian-image >/dev/null

# The escape and CVE suites run a second time with every container in a
# user namespace of its own: config.json's "userns-remap" made the
# default (issue 19), subordinate ids from a file of the build's, so /etc
# is never changed.
REMAP_DIR := $(abspath $(BUILD))/userns-remap
REMAP_SUITES := $(filter %/check_escape %/check_cve,$(SEC_BIN))
REMAP_ENV := MOCKER_CONFIG_DIR=$(REMAP_DIR) \
  MOCKER_SUBUID=$(REMAP_DIR)/subid MOCKER_SUBGID=$(REMAP_DIR)/subid

integration: all $(INTEG_BIN) $(SEC_BIN) $(if $(SEC_SRC),$(SEC_PROBE)) \
  debian-image-cache
	@$(STAGE_START); failed=0; for t in $(INTEG_BIN) $(SEC_BIN); do \
	  echo "== $$t"; \
	  MOCKER=$(abspath $(BUILD)/mocker) MOCKER_PROBE=$(abspath $(SEC_PROBE)) \
	  $$t || failed=1; done; \
	mkdir -p $(REMAP_DIR); \
	echo '{"userns-remap": "default"}' >$(REMAP_DIR)/config.json; \
	echo 'mocker:500000:65536' >$(REMAP_DIR)/subid; \
	for t in $(REMAP_SUITES); do echo "== $$t (--userns=remap)"; \
	  MOCKER=$(abspath $(BUILD)/mocker) MOCKER_PROBE=$(abspath $(SEC_PROBE)) \
	  $(REMAP_ENV) $$t || failed=1; done; $(STAGE_END); exit $$failed

# The integration suites again on a pure cgroup v2 host with another
# kernel: Debian's cloud kernel under QEMU (tests/vm/README.md), about 3-5
# minutes here. VM_SUITES picks suites.
VM_DEFAULT := check_run check_signals check_lifecycle check_exec check_ps \
  check_volume check_cgroup check_seccomp check_network check_userns
VM_SUITES ?= $(addprefix $(BUILD)/tests/integration/,$(VM_DEFAULT))
# MOCKER_SKIP_VM=REASON skips it, saying why (CI's fresh-machine stage:
# the normal stage runs it).
test-vm: all $(VM_SUITES)
	@if [ -n "$$MOCKER_SKIP_VM" ]; then \
	  echo "test-vm: skipped: $$MOCKER_SKIP_VM"; exit 0; fi; \
	$(STAGE_START); BUILD=$(BUILD) tests/vm/run-suites.sh $(VM_SUITES); \
	rc=$$?; $(STAGE_END); exit $$rc

# lint-layers comes first: it takes a fraction of a second and names a
# broken include rule before minutes of building and testing.
test: lint-layers all unit integration fuzz-smoke test-vm

# Every piece in its FHS place under PREFIX (directories: packaging/
# packaging.mk). The example config goes to the doc directory, never to
# /etc/mocker: /etc is the admin's, mocker runs without the file, and an
# install must not overwrite an admin's settings.
install: all man completion
	install -D -m 0755 $(BUILD)/mocker $(DESTDIR)$(BINDIR)/mocker
	ln -sfn mocker $(DESTDIR)$(BINDIR)/mocker-runtime
	install -D -m 0755 $(BUILD)/mocker-init $(DESTDIR)$(LIBEXECDIR)/mocker-init
	install -D -m 0755 $(BUILD)/mocker-monitor \
	  $(DESTDIR)$(LIBEXECDIR)/mocker-monitor
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5
	install -m 0644 $(DIST)/man/man1/*.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 $(DIST)/man/man5/*.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 packaging/mocker-runtime.1 $(DESTDIR)$(MANDIR)/man1/
	install -D -m 0644 $(DIST)/completion/mocker \
	  $(DESTDIR)$(BASH_COMPLETIONDIR)/mocker
	install -D -m 0644 $(DIST)/completion/_mocker \
	  $(DESTDIR)$(ZSH_COMPLETIONDIR)/_mocker
	install -D -m 0644 packaging/config.json \
	  $(DESTDIR)$(DOCDIR)/examples/config.json
	install -D -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md
	install -D -m 0755 packaging/remap-user.sh \
	  $(DESTDIR)$(LIBEXECDIR)/remap-user.sh
	@# the live system only: a package's postinst does it on the target
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ]; then \
	  sh packaging/remap-user.sh; fi

asan:
	$(MAKE) BUILD=build-asan INIT_LDFLAGS= OPT='-O1 -g' \
	  SAN='-fsanitize=address,undefined -fno-omit-frame-pointer' \
	  build-asan/mocker build-asan/mocker-init build-asan/mocker-monitor

format:
	clang-format -i shared/*.[ch] init/*.[ch] supervisor/*/*.[ch] \
	  tests/*/*.[ch]

# The include rule between the supervisor/ rooms: its table is at the top
# of tests/lint/check_layers.sh. The self-test runs first, so a checker
# that broke and passes everything cannot pass the tree.
lint-layers:
	@sh tests/lint/test_check_layers.sh
	@sh tests/lint/check_layers.sh

lint: lint-layers
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
	  --inline-suppr -Ishared -Iinit -Isupervisor shared init supervisor

bench: all
	bench/startup

clean:
	rm -rf build build-asan

# ---- libFuzzer targets (tests/fuzz/README.md) ----
#   make fuzz        every target for FUZZ_SECONDS (60) on build/fuzz/corpus/
#                    <name>, a copy of its seeds that grows from run to run
#   make fuzz-smoke  every target over its seeds plus FUZZ_SMOKE_SECONDS (10)
#                    of fuzzing from scratch (part of `make test`)
# Each tests/fuzz/fuzz_<name>.c is a target. It links shared/*.c and what
# its FUZZ_LINK_<name> line lists (sources and -l flags), so a new target
# is one line here. FUZZ_JOBS targets run at once; logs and crashing inputs
# land in build/fuzz/logs/ and build/fuzz/artifacts/<name>/.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 10
FUZZ_JOBS ?= $(shell nproc 2>/dev/null || echo 1)
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined \
  -fno-sanitize-recover=undefined -fno-omit-frame-pointer -std=gnu11 \
  -D_GNU_SOURCE -Ishared -Iinit -Isupervisor -DMK_VERSION='"fuzz"'
FUZZ_NAMES := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN := $(FUZZ_NAMES:%=$(BUILD)/fuzz/fuzz_%)

FUZZ_LINK_reference := supervisor/image/reference.c
FUZZ_LINK_manifest := supervisor/image/manifest.c supervisor/base/strv.c \
  -ljansson
FUZZ_LINK_wwwauth := supervisor/image/registry.c supervisor/image/curl_dl.c \
  supervisor/image/regconfig.c supervisor/base/strv.c supervisor/base/context.c \
  -ljansson -lnettle -ldl -lpthread
FUZZ_LINK_layer_path := supervisor/image/layer.c supervisor/base/context.c \
  supervisor/base/strv.c -larchive
FUZZ_OPTS_layer_path ?= -max_len=8192
FUZZ_LINK_proto :=
FUZZ_LINK_passwd := init/passwd.c
FUZZ_LINK_cli_specs := supervisor/cli/cli.c supervisor/base/flags.c \
  supervisor/engine/spec.c supervisor/base/strv.c supervisor/isolation/caps.c supervisor/net/portspec.c \
  supervisor/base/validate.c supervisor/isolation/cgroup.c \
  supervisor/isolation/cgroup_bpf.c -lcap-ng
FUZZ_LINK_seccomp := supervisor/isolation/seccomp.c \
  supervisor/isolation/seccomp_default.c supervisor/isolation/caps.c \
  -ljansson -lseccomp -lcap-ng -lnettle
FUZZ_LINK_oci_config := supervisor/oci/config.c supervisor/base/strv.c \
  supervisor/base/validate.c supervisor/isolation/caps.c -ljansson -lcap-ng
FUZZ_LINK_load := supervisor/image/load.c supervisor/image/layer.c \
  supervisor/image/unpack.c supervisor/image/store.c \
  supervisor/image/manifest.c supervisor/image/reference.c \
  supervisor/base/strv.c supervisor/base/context.c supervisor/base/validate.c \
  -larchive -ljansson -lnettle

.PHONY: debian-image-cache
.PHONY: fuzz fuzz-smoke $(FUZZ_NAMES:%=fuzz-run-%) $(FUZZ_NAMES:%=fuzz-smoke-%)

$(foreach t,$(FUZZ_NAMES),$(eval $(BUILD)/fuzz/fuzz_$(t): \
  $(filter %.c,$(FUZZ_LINK_$(t)))))

$(FUZZ_BIN): $(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(SHARED_SRC) \
  $(wildcard shared/*.h init/*.h) $(SUP_HDR) | $(DEPS_FIRST)
	@$(if $(filter undefined,$(origin FUZZ_LINK_$*)),echo "Makefile: add a FUZZ_LINK_$* line" >&2; exit 1)
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  $@"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ tests/fuzz/fuzz_$*.c \
	  $(filter %.c,$(FUZZ_LINK_$*)) $(SHARED_SRC) \
	  $(filter-out %.c,$(FUZZ_LINK_$*))

# Runs $(1) (a binary) for $(2) seconds on the corpus directories $(3),
# logging to $(4); prints one summary line, or the log's tail on failure.
FUZZ_RUN = mkdir -p $(BUILD)/fuzz/artifacts/$* $(BUILD)/fuzz/logs; \
  if $(1) -max_total_time=$(2) -timeout=25 -print_final_stats=1 \
    -artifact_prefix=$(BUILD)/fuzz/artifacts/$*/ $(FUZZ_OPTS_$*) $(3) \
    >$(4) 2>&1; then \
    printf '  FUZZ    %-12s %s\n' $* "$$(sed -n 's/^\#\([0-9]*\)[[:space:]]*DONE *\(cov: [0-9]* ft: [0-9]*\).*/\1 execs, \2/p' $(4))"; \
  else echo "  FUZZ    $* FAILED (log: $(4)):" >&2; tail -n 60 $(4) >&2; exit 1; fi

$(FUZZ_NAMES:%=fuzz-run-%): fuzz-run-%: $(BUILD)/fuzz/fuzz_%
	@mkdir -p $(BUILD)/fuzz/corpus/$*
	@cp -n tests/fuzz/corpus/$*/* $(BUILD)/fuzz/corpus/$*/ 2>/dev/null || true
	@$(call FUZZ_RUN,$<,$(FUZZ_SECONDS),$(BUILD)/fuzz/corpus/$*,$(BUILD)/fuzz/logs/$*.log)

$(FUZZ_NAMES:%=fuzz-smoke-%): fuzz-smoke-%: $(BUILD)/fuzz/fuzz_%
	@rm -rf $(BUILD)/fuzz/smoke/$* && mkdir -p $(BUILD)/fuzz/smoke/$*
	@$(call FUZZ_RUN,$<,$(FUZZ_SMOKE_SECONDS),$(BUILD)/fuzz/smoke/$* \
	  tests/fuzz/corpus/$*,$(BUILD)/fuzz/logs/$*-smoke.log)

# The sub-make builds and runs FUZZ_JOBS targets at once and keeps going
# past a failure, so one report names every failing target.
fuzz:
	@$(MAKE) --no-print-directory -k -j$(FUZZ_JOBS) -Otarget \
	  $(FUZZ_NAMES:%=fuzz-run-%)

fuzz-smoke:
	@$(STAGE_START); $(MAKE) --no-print-directory -k -j$(FUZZ_JOBS) -Otarget \
	  $(FUZZ_NAMES:%=fuzz-smoke-%); rc=$$?; $(STAGE_END); exit $$rc

include packaging/packaging.mk
