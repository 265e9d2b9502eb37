# Shipping mocker: man pages, shell completions, install/uninstall and
# the Debian package. Included at the end of the Makefile.
#   make man completion   generated into $(BUILD)/dist/ from the built
#                         binary: `mocker __flags` (the parser's own flag
#                         tables) and every `mocker ... --help`
#   make install          PREFIX (/usr/local), DESTDIR honoured
#   make uninstall        takes away what install put there
#   make deb              $(BUILD)/deb/mocker_$(VERSION)-N_ARCH.deb
#   make deps-deb         the Debian packages `make deb` needs

DIST := $(BUILD)/dist
CLI_DUMP := $(DIST)/cli
BINDIR = $(PREFIX)/bin
# MK_LIBEXECDIR in CFLAGS must name the same directory: mocker looks for
# its helpers beside itself, then there.
LIBEXECDIR = $(PREFIX)/libexec/mocker
DATADIR = $(PREFIX)/share
MANDIR = $(DATADIR)/man
DOCDIR = $(DATADIR)/doc/mocker
BASH_COMPLETIONDIR = $(DATADIR)/bash-completion/completions
# zsh searches vendor-completions under /usr (Debian's zsh), and only
# site-functions under /usr/local.
ZSH_COMPLETIONDIR = $(DATADIR)/zsh/$(if $(filter /usr,$(PREFIX)),vendor-completions,site-functions)

DEPS_DEB := debhelper dpkg-dev lintian

.PHONY: man completion uninstall deb deps-deb

completion: $(DIST)/completion/mocker $(DIST)/completion/_mocker
man: $(DIST)/man/.stamp

$(CLI_DUMP)/flags.tsv: $(BUILD)/mocker packaging/cli-dump.sh
	@echo "  DUMP    $(CLI_DUMP)"
	$(Q)packaging/cli-dump.sh $(BUILD)/mocker $(CLI_DUMP)

$(DIST)/completion/mocker: $(CLI_DUMP)/flags.tsv packaging/gen-completion.sh
	@mkdir -p $(dir $@)
	@echo "  GEN     $@"
	$(Q)packaging/gen-completion.sh $(CLI_DUMP) bash >$@.tmp && mv $@.tmp $@

$(DIST)/completion/_mocker: $(CLI_DUMP)/flags.tsv packaging/gen-completion.sh
	@mkdir -p $(dir $@)
	@echo "  GEN     $@"
	$(Q)packaging/gen-completion.sh $(CLI_DUMP) zsh >$@.tmp && mv $@.tmp $@

# One page per verb: how many there are is known only once the binary is
# built, hence a stamp for the directory.
$(DIST)/man/.stamp: $(CLI_DUMP)/flags.tsv packaging/gen-man.sh \
  packaging/mocker.1.extra packaging/mocker-config.json.5.in
	@echo "  GEN     $(DIST)/man"
	$(Q)rm -rf $(DIST)/man && mkdir -p $(DIST)/man/man5
	$(Q)packaging/gen-man.sh $(CLI_DUMP) $(DIST)/man $(VERSION)
	$(Q)sed -e "s/@VERSION@/$(VERSION)/" \
	  -e "s/@DATE@/$$(date -u -d @$${SOURCE_DATE_EPOCH:-$$(git log -1 --format=%ct 2>/dev/null || date +%s)} +%Y-%m-%d)/" \
	  packaging/mocker-config.json.5.in >$(DIST)/man/man5/mocker-config.json.5
	$(Q)touch $@

# The integration suites check the completions and man pages against the
# binary (tests/integration/check_cli_tables.c).
integration: completion man

# uninstall removes the man pages by name pattern, so it works without
# the build directory that made them.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/mocker $(DESTDIR)$(BINDIR)/mocker-runtime
	rm -f $(DESTDIR)$(LIBEXECDIR)/mocker-init $(DESTDIR)$(LIBEXECDIR)/mocker-monitor
	-rmdir $(DESTDIR)$(LIBEXECDIR)
	rm -f $(DESTDIR)$(MANDIR)/man1/mocker.1 $(DESTDIR)$(MANDIR)/man1/mocker-*.1 \
	  $(DESTDIR)$(MANDIR)/man1/mocker-runtime.1 \
	  $(DESTDIR)$(MANDIR)/man5/mocker-config.json.5
	rm -f $(DESTDIR)$(BASH_COMPLETIONDIR)/mocker $(DESTDIR)$(ZSH_COMPLETIONDIR)/_mocker
	rm -f $(DESTDIR)$(DOCDIR)/examples/config.json $(DESTDIR)$(DOCDIR)/README.md
	-rmdir $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR)

# The package is built from a copy of the tree in $(BUILD)/deb, so the
# .deb and dpkg-buildpackage's other output land there, not beside the
# repository. -b: binary only (there is no upstream tarball to diff
# against); lintian then checks the .changes and fails on any error.
DEB_DIR := $(BUILD)/deb
deb:
	@command -v dh >/dev/null && command -v dpkg-buildpackage >/dev/null || \
	  { echo "make deb: debhelper and dpkg-dev are missing: run \`make deps-deb\`" >&2; exit 1; }
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/src
	tar -cf - --exclude='./build*' --exclude=./.git --exclude='./debian/.debhelper' . | \
	  tar -xf - -C $(DEB_DIR)/src
	cd $(DEB_DIR)/src && dpkg-buildpackage -b -us -uc -j$(or $(FUZZ_JOBS),2)
	@ls $(DEB_DIR)/*.deb
	lintian --fail-on error \
	  $(DEB_DIR)/*.changes

deps-deb:
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
	  $(DEPS_DEB)
