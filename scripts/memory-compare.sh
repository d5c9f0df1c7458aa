#!/usr/bin/env bash
# Loads N sessions of 5 fields x 100 bytes into a fresh gridnode and a fresh
# redis-server (no persistence), then overwrites every session once, and
# prints bytes per session (INFO memory used_memory and process RSS) after
# each step. Usage: scripts/memory-compare.sh [N]   (default 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
go build -o /tmp/gridnode-mem ./cmd/gridnode
gen() { # RESP protocol for n HSETs of 5 x 100-byte fields
  python3 - "$n" <<'PY'
import sys
n = int(sys.argv[1]); v = b"v" * 100; out = sys.stdout.buffer
for i in range(n):
    k = b"session:%012d" % i
    parts = [b"HSET", k]
    for f in range(1, 6):
        parts += [b"field:%d" % f, v]
    out.write(b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts))
PY
}
rss() { awk '/VmRSS/ {print $2*1024}' /proc/$1/status; }
used() { redis-cli -p $1 INFO memory | tr -d '\r' | awk -F: '$1=="used_memory" {print $2}'; }
report() { # name port pid step
  local u r; u=$(used $2); r=$(rss $3)
  printf '%-12s %-10s used_memory %6.0f B/session   RSS %6.0f B/session\n' "$1" "$4" "$(echo "$u/$n" | bc -l)" "$(echo "$r/$n" | bc -l)"
}
redis-server --port 6451 --save '' --appendonly no --daemonize no >/dev/null & rpid=$!
/tmp/gridnode-mem --addr 127.0.0.1:6452 --http-addr "" --log-level warn & gpid=$!
trap 'kill $rpid $gpid 2>/dev/null' EXIT
sleep 1
for spec in "redis 6451 $rpid" "gridnode 6452 $gpid"; do
  set -- $spec
  report "$1" "$2" "$3" empty
  gen | redis-cli -p "$2" --pipe >/dev/null
  report "$1" "$2" "$3" loaded
  gen | redis-cli -p "$2" --pipe >/dev/null
  report "$1" "$2" "$3" overwritten
done
echo "payload: $((12 + 8 + 5 * (7 + 100))) B/session (id, keys, values)"
