# gridnode as a container image built FROM scratch: no registry is needed.
# Build the static binary first (scripts/docker-build.sh does both):
#   CGO_ENABLED=0 go build -o build/gridnode ./cmd/gridnode && mkdir -p build/data
#   docker build -t sessiongrid/gridnode build/ -f Dockerfile
#
# The node runs as an unprivileged user (uid/gid 65532, no passwd file is
# needed) and keeps its Raft log under /data, a volume owned by that user.
# `gridnode health` asks the node's own /readyz, so Compose and Docker can
# check a container that has no shell and no curl.
FROM scratch
COPY gridnode /gridnode
COPY --chown=65532:65532 data /data
ENV GRIDNODE_ADDR=0.0.0.0:6379 \
    GRIDNODE_HTTP_ADDR=0.0.0.0:9379
EXPOSE 6379 9379 7946/tcp 7946/udp 7947 7948
USER 65532:65532
VOLUME ["/data"]
HEALTHCHECK --interval=5s --timeout=3s --start-period=60s --retries=3 CMD ["/gridnode", "health"]
ENTRYPOINT ["/gridnode"]
