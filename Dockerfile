# Builds mocker on Debian bookworm and runs it inside a privileged
# container:
#
#   docker build -t mocker .
#   docker run --privileged --rm -it -v mocker-state:/var/lib/mocker \
#       mocker run -it --rm busybox /bin/sh
#
# The state root must not be on the container's own overlayfs (overlayfs
# refuses an upper directory on overlayfs), hence the volume.
FROM debian:bookworm AS build
WORKDIR /src
COPY Makefile ./
RUN apt-get update -qq && apt-get install -y -qq make && make deps
COPY . .
RUN make && make install PREFIX=/usr/local DESTDIR=/out

FROM debian:bookworm
RUN apt-get update -qq && \
    apt-get install -y -qq --no-install-recommends libjansson4 libmnl0 \
      libnftables1 && \
    rm -rf /var/lib/apt/lists/*
COPY --from=build /out/usr/local /usr/local
VOLUME /var/lib/mocker
ENTRYPOINT ["/usr/local/bin/mocker"]
CMD ["run", "-it", "--rm", "busybox", "/bin/sh"]
