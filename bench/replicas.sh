#!/usr/bin/env bash
# GET and PUT of the 50 KB submodel against 1, 2 and 3 replicas on one PostgreSQL database,
# beside one SQLite process, with the same load in the same run: GET 32 clients, PUT 8 clients,
# spread over the replicas in turn (server_bench load). Everything shares this machine's cores:
# the load generator, the replicas, PostgreSQL and Mosquitto. Prints a markdown table (stdout)
# for BENCHMARKS.md; progress on stderr.
#
#   bash bench/replicas.sh
#
# Knobs: AAS_BENCH_SECONDS=5 (per measurement), AAS_BENCH_ROUNDS=2 (alternating rounds; the
# table shows the median), PG_BIN (PostgreSQL's bin directory; default the newest
# /usr/lib/postgresql/*/bin). PostgreSQL runs as a private cluster in a temp dir with its
# defaults (fsync and synchronous_commit on, as SQLite's durability = "full").
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${AAS_BENCH_SECONDS:-5}
rounds=${AAS_BENCH_ROUNDS:-2}
cargo build -q --release -p reference-server --bin reference-server --example server_bench
target=${CARGO_TARGET_DIR:-target}/release
server=$target/reference-server
bench=$target/examples/server_bench
pg_bin=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
if [ ! -x "$pg_bin/initdb" ] || ! command -v mosquitto >/dev/null; then
  echo "needs PostgreSQL (initdb) and Mosquitto: bash scripts/test-all.sh installs both" >&2
  exit 1
fi
work=$(mktemp -d)
chmod 711 "$work"   # the cluster runs as postgres when this runs as root
pids=()
stop() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done; pids=(); }
cleanup() {
  stop
  if [ -n "${pg_pid:-}" ]; then
    kill -INT "$pg_pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pg_pid" 2>/dev/null || break; sleep 0.1; done
  fi
  kill "${mosquitto_pid:-}" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
wait_port() { for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; echo "port $1 did not open" >&2; return 1; }

mkdir -p "$work/pg"
[ "$(id -u)" = 0 ] && chown postgres:postgres "$work/pg"
as_postgres "$pg_bin/initdb" -D "$work/pg/data" -U postgres -A trust -E UTF8 >/dev/null
pg_port=$(free_port)
as_postgres "$pg_bin/postgres" -D "$work/pg/data" -p "$pg_port" -k "$work/pg" \
  -c listen_addresses=127.0.0.1 -c max_connections=200 >/dev/null 2>"$work/pg/log" &
wait_port "$pg_port"
pg_pid=$(head -1 "$work/pg/data/postmaster.pid")
mqtt_port=$(free_port)
mosquitto -p "$mqtt_port" >/dev/null 2>&1 &
mosquitto_pid=$!
wait_port "$mqtt_port"
head -c 32 /dev/urandom > "$work/secret.key"
"$bench" submodel "$work/submodel.json"
id=$(python3 -c 'import json,sys,base64; print(base64.urlsafe_b64encode(json.load(open(sys.argv[1]))["id"].encode()).decode().rstrip("="))' "$work/submodel.json")

# Starts `serve` with the given arguments on a free port; its base URL in $url.
start() {
  local port; port=$(free_port)
  # V3.0: the 50 KB submodel is V3.0 data (as in bench/server.sh).
  AAS_SERVER_LOG=warn "$server" serve --bind "127.0.0.1:$port" --aas-version 3.0 "$@" \
    >/dev/null 2>>"$work/servers.log" &
  pids+=($!)
  wait_port "$port"
  url="http://127.0.0.1:$port"
}

# One mode: its URLs (comma-separated); prints "GET PUT" req/s.
measure() {
  local urls=$1 first=${1%%,*}
  curl -sf -X PUT -H 'content-type: application/json' --data-binary @"$work/submodel.json" \
    "$first/submodels/$id" -o /dev/null
  local get put
  get=$("$bench" load "$(sed "s#\(http://[^,]*\)#\1/submodels/$id#g" <<<"$urls")" 32 "$seconds" | sed 's/.*requests, \([0-9]*\) req\/s.*/\1/')
  put=$("$bench" load "$(sed "s#\(http://[^,]*\)#\1/submodels/$id#g" <<<"$urls")" 8 "$seconds" "$work/submodel.json" | sed 's/.*requests, \([0-9]*\) req\/s.*/\1/')
  echo "$get $put"
}

declare -A results
for round in $(seq "$rounds"); do
  echo "round $round: SQLite" >&2
  rm -rf "$work/sqlite"
  start --data "$work/sqlite" --mqtt-url "mqtt://127.0.0.1:$mqtt_port"
  results[sqlite]+="$(measure "$url");"
  stop
  for n in 1 2 3; do
    echo "round $round: $n replica(s) on PostgreSQL" >&2
    db="bench_${round}_$n"
    as_postgres "$pg_bin/psql" -X -q -h "$work/pg" -p "$pg_port" -U postgres -c "CREATE DATABASE $db" postgres
    urls=""
    for r in $(seq "$n"); do
      start --data "$work/r$r" --database-url "postgres://postgres@127.0.0.1:$pg_port/$db" \
        --secret-key-file "$work/secret.key" --mqtt-url "mqtt://127.0.0.1:$mqtt_port" --replica-id "r$r"
      urls+="${urls:+,}$url"
    done
    results[pg$n]+="$(measure "$urls");"
    stop
  done
done
kill "$mosquitto_pid" 2>/dev/null || true
wait "$mosquitto_pid" 2>/dev/null || true

median() { tr ' ' '\n' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
pick() { tr ';' '\n' | grep -v '^$' | awk -v c="$2" '{print $c}' | median; }
sqlite_put=$(echo "${results[sqlite]}" | pick x 2)
sqlite_get=$(echo "${results[sqlite]}" | pick x 1)
echo "| mode | GET req/s (32 clients) | × SQLite | PUT req/s (8 clients) | × SQLite |"
echo "|---|---|---|---|---|"
echo "| SQLite, one process | $sqlite_get | 1.00 | $sqlite_put | 1.00 |"
for n in 1 2 3; do
  g=$(echo "${results[pg$n]}" | pick x 1); p=$(echo "${results[pg$n]}" | pick x 2)
  printf '| PostgreSQL, %s replica(s) | %s | %.2f | %s | %.2f |\n' "$n" "$g" "$(echo "$g/$sqlite_get" | bc -l)" "$p" "$(echo "$p/$sqlite_put" | bc -l)"
done
echo
echo "$rounds round(s) of ${seconds} s per measurement, medians; $(nproc) cores shared by the load generator, the servers, PostgreSQL and Mosquitto."
