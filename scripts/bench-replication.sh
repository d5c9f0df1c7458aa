#!/usr/bin/env bash
# Write throughput of a 3-member loopback grid with no backup, one
# synchronous backup and one asynchronous backup, side by side in one run:
# redis-benchmark HSET on keys spread over every partition, through member 1
# (two thirds of the keys are forwarded to their owners), -P 1 and -P 16.
#   scripts/bench-replication.sh [requests]   (default 200000)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-200000}
BIN=$(mktemp -d)/gridnode
go build -o "$BIN" ./cmd/gridnode
pids=()
stop() { for p in "${pids[@]:-}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; pids=(); }
trap stop EXIT
run() { # $1 = label, $2 = backups, $3 = async backups
  local dir; dir=$(mktemp -d)
  for i in 1 2 3; do
    "$BIN" --addr 127.0.0.1:$((7100+i)) --http-addr 127.0.0.1:$((9300+i)) --node-name n$i \
      --gossip-addr 127.0.0.1:$((7200+i)) --transport-addr 127.0.0.1:$((7300+i)) --raft-addr 127.0.0.1:$((7400+i)) \
      --bootstrap-expect 3 --join 127.0.0.1:7201 --backup-count "$2" --async-backup-count "$3" \
      --log-level warn >"$dir/n$i.log" 2>&1 &
    pids+=($!)
  done
  for _ in $(seq 600); do
    [ "$(redis-cli -p 7101 grid.safe 2>/dev/null)" = "1" ] && break
    sleep 0.1
  done
  for p in 1 16; do
    printf '%-22s -P %-2s ' "$1" "$p"
    redis-benchmark -p 7101 -c 50 -n "$N" -P "$p" -r 1000000 -q HSET 'sess:__rand_int__' stage '__rand_int__' |
      tr '\r' '\n' | grep -E 'requests per second' | tail -1
  done
  stop
}
run "B=0" 0 0
run "B=1 sync" 1 0
run "B=0 + 1 async" 0 1
