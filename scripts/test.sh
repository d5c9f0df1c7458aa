#!/usr/bin/env bash
# The project's test command (README "Test"): installs the system packages the
# tests drive (redis-server, redis-cli/redis-benchmark, redis-py, a JDK, docker-compose, strace) when they are
# missing, then runs every test with the race detector.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || need+=(redis-tools)
/usr/bin/python3 -c 'import redis' >/dev/null 2>&1 || need+=(python3-redis)
command -v javac >/dev/null 2>&1 || need+=(default-jdk-headless)
command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)  # test/e2e (the Docker daemon itself must run)
command -v strace >/dev/null 2>&1 || need+=(strace)  # session/bolt's power-loss test
if [ ${#need[@]} -gt 0 ]; then
  echo "test.sh: installing ${need[*]}" >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

go vet ./...
go test -race -count=1 -timeout 15m ./... "$@"
