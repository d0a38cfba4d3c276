#!/usr/bin/env bash
# Push jobs into Azurite beside a bare object_store put loop of the same bytes (1,000 jobs of one
# submodel; one job of 1,000 shells with their submodels), once with Azurite keeping its data on
# disk (as the tests run it) and once with --inMemoryPersistence (no disk in the way: steadier
# and faster puts, so the job's own work weighs more); then a 1 GiB multipart upload under
# /usr/bin/time -v for its peak memory; last the big job's own cost, into an in-process store.
# Azurite runs on a free 127.0.0.1 port, killed by PID.
#
#   bash bench/push.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/loopback.sh
azurite="${AAS_RS_CACHE:-$HOME/.cache/aas-rs}/azurite/node_modules/.bin/azurite-blob"
[ -x "$azurite" ] || { echo "error: Azurite not installed (bash scripts/test-all.sh installs it)" >&2; exit 1; }
cargo build -q --release -p push-core --example push_bench
bin="${CARGO_TARGET_DIR:-target}"/release/examples/push_bench
dir=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT

# Starts Azurite with the storage arguments given; sets $port and $pid.
start_azurite() {
  port=$(free_port)
  "$azurite" --blobHost 127.0.0.1 --blobPort "$port" "$@" --disableTelemetry --skipApiVersionCheck --silent > /dev/null 2>&1 &
  pid=$!
  wait_for_port "$port"
}

stop_azurite() {
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  pid=
}

echo "== Azurite on disk"
start_azurite --location "$dir/data"
"$bin" "$port" jobs
/usr/bin/time -v "$bin" "$port" multipart 2> "$dir/time.txt"
echo "multipart peak RSS $(awk '/Maximum resident set size/ {printf "%.1f MB", $6/1024}' "$dir/time.txt")"
stop_azurite

echo "== Azurite in memory"
start_azurite --inMemoryPersistence
"$bin" "$port" jobs
stop_azurite

echo "== The big job's own cost (an object_store InMemory store: no network, no Azurite)"
"$bin" engine
