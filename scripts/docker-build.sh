#!/usr/bin/env bash
# Builds the gridnode image FROM scratch (no registry needed):
#   scripts/docker-build.sh [tag]      (default tag: sessiongrid/gridnode:dev)
set -euo pipefail
cd "$(dirname "$0")/.."
tag=${1:-sessiongrid/gridnode:dev}
mkdir -p build/data  # build/data: the empty /data the image gives its non-root user
CGO_ENABLED=0 go build -trimpath -o build/gridnode ./cmd/gridnode
docker build -q -t "$tag" -f Dockerfile build/ >/dev/null
echo "$tag"
