# gridnode as a container image built FROM scratch: no registry is needed.
# Build the static binary first (scripts/docker-build.sh does both):
#   CGO_ENABLED=0 go build -o build/gridnode ./cmd/gridnode
#   docker build -t sessiongrid/gridnode build/ -f Dockerfile
FROM scratch
COPY gridnode /gridnode
ENV GRIDNODE_ADDR=0.0.0.0:6379 \
    GRIDNODE_HTTP_ADDR=0.0.0.0:9379
EXPOSE 6379 9379 7946/tcp 7946/udp 7947 7948
VOLUME ["/data"]
ENTRYPOINT ["/gridnode"]
