#!/bin/sh
# PUBLISH throughput of gridnode (standalone) beside redis-server, one
# redis-cli subscriber on each, measured with redis-benchmark side by side.
# Usage: scripts/bench-pubsub.sh [redis-port gridnode-port [requests]]
set -eu
RP=${1:-7610}; GP=${2:-7611}; N=${3:-200000}
dir=$(mktemp -d)
trap 'kill $(cat "$dir"/pids) 2>/dev/null; rm -rf "$dir"' EXIT
go build -o "$dir/gridnode" ./cmd/gridnode
redis-server --port "$RP" --save '' --appendonly no >/dev/null & echo $! >>"$dir/pids"
"$dir/gridnode" --addr "127.0.0.1:$GP" --http-addr "" --log-level warn & echo $! >>"$dir/pids"
for p in "$RP" "$GP"; do
	until redis-cli -p "$p" ping >/dev/null 2>&1; do sleep 0.05; done
	redis-cli -p "$p" subscribe ch >/dev/null 2>&1 & echo $! >>"$dir/pids"
	until [ "$(redis-cli -p "$p" pubsub numsub ch | tail -1)" = 1 ]; do sleep 0.05; done
done
for pipe in 1 16; do
	for p in "$RP" "$GP" "$RP" "$GP"; do
		name=redis; [ "$p" = "$GP" ] && name=gridnode
		pub=$(redis-benchmark -p "$p" -n "$N" -c 50 -P "$pipe" -q publish ch hello-there | tr '\r' '\n' | grep -o '[0-9.]* requests per second' | tail -1 | cut -d' ' -f1)
		echo_=$(redis-benchmark -p "$p" -n "$N" -c 50 -P "$pipe" -q echo hello-there | tr '\r' '\n' | grep -o '[0-9.]* requests per second' | tail -1 | cut -d' ' -f1)
		subs=$(redis-cli -p "$p" pubsub numsub ch | tail -1)
		echo "$name -P $pipe: $pub PUBLISH/s to 1 subscriber, $echo_ ECHO/s (baseline; subscribers still attached: $subs)"
	done
done
