#!/usr/bin/env bash
# TLS cost, side by side in one run: gridnode (plain port and TLS port of one
# process) and redis-server (plain port and TLS port of one process), with
# certificates made here by openssl (EC P-256, TLS 1.3, no client
# certificates). redis-benchmark: 50 clients, HSET then HGET on random
# sessions, -P 1 and -P 16, the four targets alternated within each
# repetition; prints the medians of the repetitions and the ratios, of
# throughput and of server CPU per request (utime+stime of the server
# process from /proc, which a loaded machine disturbs far less than
# throughput).
#   scripts/bench-tls.sh [requests] [repetitions]   (defaults 100000, 3)
# Ports 7451-7454 (gridnode plain/TLS, redis plain/TLS).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-100000}
REPS=${2:-3}
for tool in redis-server redis-benchmark openssl; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: apt-get install -y redis-server redis-tools openssl" >&2; exit 1; }
done
GP=7451 GT=7452 RP=7453 RT=7454
DIR=$(mktemp -d)
pids=()
stop() { for p in "${pids[@]:-}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$DIR"; }
trap stop EXIT

# Certificates: a CA and a server certificate for 127.0.0.1 and localhost.
openssl ecparam -name prime256v1 -genkey -noout -out "$DIR/ca.key"
openssl req -x509 -new -key "$DIR/ca.key" -subj /CN=bench-ca -days 2 -out "$DIR/ca.crt" 2>/dev/null
openssl ecparam -name prime256v1 -genkey -noout -out "$DIR/server.key"
openssl req -new -key "$DIR/server.key" -subj /CN=localhost -out "$DIR/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' >"$DIR/ext"
openssl x509 -req -in "$DIR/server.csr" -CA "$DIR/ca.crt" -CAkey "$DIR/ca.key" -CAcreateserial \
  -days 2 -extfile "$DIR/ext" -out "$DIR/server.crt" 2>/dev/null

go build -o "$DIR/gridnode" ./cmd/gridnode
"$DIR/gridnode" --addr 127.0.0.1:$GP --tls-port $GT --http-addr "" --log-level warn \
  --tls-cert-file "$DIR/server.crt" --tls-key-file "$DIR/server.key" --tls-ca-cert-file "$DIR/ca.crt" \
  --tls-auth-clients no >"$DIR/gridnode.log" 2>&1 &
pids+=($!)
GPID=$!
redis-server --port $RP --tls-port $RT --bind 127.0.0.1 --save "" --appendonly no \
  --tls-cert-file "$DIR/server.crt" --tls-key-file "$DIR/server.key" --tls-ca-cert-file "$DIR/ca.crt" \
  --tls-auth-clients no --dir "$DIR" --logfile "$DIR/redis.log" &
pids+=($!)
RPID=$!
for port in $GP $RP; do
  for _ in $(seq 100); do
    [ "$(redis-cli -p $port ping 2>/dev/null)" = "PONG" ] && break
    sleep 0.1
  done
done
for port in $GT $RT; do
  [ "$(redis-cli --tls --cacert "$DIR/ca.crt" -p $port ping)" = "PONG" ] || { echo "no TLS on port $port" >&2; exit 1; }
done

# target name, port, redis-benchmark TLS flags
targets=("gridnode-plain $GP" "gridnode-tls $GT --tls --cacert $DIR/ca.crt"
         "redis-plain $RP" "redis-tls $RT --tls --cacert $DIR/ca.crt")
declare -A rps cpu
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)
bench() { # $1 = port and flags, $2 = pipeline, rest = command
  local conn=$1 p=$2; shift 2
  # shellcheck disable=SC2086
  redis-benchmark -h 127.0.0.1 -p $conn -c 50 -n "$N" -P "$p" -r 100000 --csv "$@" |
    tail -1 | cut -d, -f2 | tr -d '"'
}
for rep in $(seq "$REPS"); do
  for op in HSET HGET; do
    for p in 1 16; do
      for t in "${targets[@]}"; do
        name=${t%% *}; conn=${t#* }
        pid=$GPID; [ "${name%%-*}" = redis ] && pid=$RPID
        before=$(ticks $pid)
        if [ "$op" = HSET ]; then
          v=$(bench "$conn" "$p" HSET 'sess:__rand_int__' stage '__rand_int__')
        else
          v=$(bench "$conn" "$p" HGET 'sess:__rand_int__' stage)
        fi
        us=$(awk -v a="$before" -v b="$(ticks $pid)" -v hz="$HZ" -v n="$N" 'BEGIN {printf "%.2f", (b - a) * 1e6 / hz / n}')
        rps[$op,$p,$name]="${rps[$op,$p,$name]:-} $v"
        cpu[$op,$p,$name]="${cpu[$op,$p,$name]:-} $us"
        echo "rep $rep $op -P $p $name: $v requests/s, $us us CPU/request" >&2
      done
    done
  done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a/b}'; }
table() { # $1 = rps or cpu, $2 = title, $3 = printf format of a value
  local -n m=$1
  echo
  echo "$2, median of $REPS (redis-benchmark -c 50 -n $N -r 100000, TLS 1.3, EC P-256)"
  printf '%-5s %-3s | %12s %12s %12s %12s | %9s %9s %10s\n' op P gridnode gridnode-tls redis redis-tls \
    'g tls/pl' 'r tls/pl' 'g/r (tls)'
  for op in HSET HGET; do
    for p in 1 16; do
      gp=$(echo "${m[$op,$p,gridnode-plain]}" | median); gt=$(echo "${m[$op,$p,gridnode-tls]}" | median)
      rp=$(echo "${m[$op,$p,redis-plain]}" | median); rt=$(echo "${m[$op,$p,redis-tls]}" | median)
      printf "%-5s %-3s | $3 $3 $3 $3 | %9s %9s %10s\n" "$op" "$p" "$gp" "$gt" "$rp" "$rt" \
        "$(ratio "$gt" "$gp")" "$(ratio "$rt" "$rp")" "$(ratio "$gt" "$rt")"
    done
  done
}
table rps "throughput, requests/s" "%12.0f"
table cpu "server CPU per request, microseconds" "%12.2f"
