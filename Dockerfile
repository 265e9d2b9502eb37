# Builds mocker on Debian bookworm and runs it inside a privileged
# container:
#
#   docker build -t mocker .
#   docker run --privileged --rm -it -v mocker-state:/var/lib/mocker \
#       mocker run -it --rm busybox /bin/sh
#
# The state root must not be on the container's own overlayfs (overlayfs
# refuses an upper directory on overlayfs), hence the volume.
#
# Verified in CI by .ci/dockerfile.sh with podman (`--runtime runc`). The
# stages are named so that the slow apt layers of build-deps and
# runtime-base can be tagged and kept as a cache between builds
# (`--target`), while every source change rebuilds only `build` and the
# final COPY.

# What mocker needs at run time: jansson and libmnl are linked; libcurl
# (registries) and libnftables (bridge networking) are loaded with
# dlopen, so ldd does not show them; ca-certificates for TLS registries.
FROM debian:bookworm AS runtime-base
RUN apt-get update -qq && \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      --no-install-recommends libjansson4 libmnl0 libnftables1 libcurl4 \
      ca-certificates && \
    rm -rf /var/lib/apt/lists/*

# Only the makefiles first (every file the Makefile includes: make stops
# at a missing one), so this layer survives source changes. Only the
# build's packages (DEPS_BUILD), not `make deps`: the test tools (QEMU,
# clang, a registry, ...) would treble the download for nothing.
FROM debian:bookworm AS build-deps
WORKDIR /src
COPY Makefile ./
COPY packaging/packaging.mk packaging/
RUN apt-get update -qq && \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      --no-install-recommends make && \
    pkgs=$(make -s --no-print-directory \
      --eval 'print-deps-build: ; @echo $(DEPS_BUILD)' print-deps-build) && \
    test -n "$pkgs" && \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      --no-install-recommends $pkgs && \
    rm -rf /var/lib/apt/lists/*

FROM build-deps AS build
COPY . .
RUN make -j"$(nproc)" PREFIX=/usr/local && \
    make install PREFIX=/usr/local DESTDIR=/out

# The whole DESTDIR tree, so whatever `make install` puts outside
# PREFIX (configuration under /etc, say) comes along.
FROM runtime-base
COPY --from=build /out/ /
VOLUME /var/lib/mocker
ENTRYPOINT ["/usr/local/bin/mocker"]
CMD ["run", "-it", "--rm", "busybox", "/bin/sh"]
