#!/usr/bin/env bash
# Where the server's CPU goes under one load: starts this build's reference-server on a temp
# dir, stores the 50 KB benchmark submodel, loads it with `server_bench load` (PUT with 8
# clients, or GET with 32) while `perf record` samples the server, and prints the share of the
# samples in each phase of a request (markdown). The figures of BENCHMARKS.md's "where a PUT's
# CPU goes" come from it.
#
#   bash bench/profile.sh put      # or: get
#   AAS_PROFILE_SERVER=/path/to/reference-server bash bench/profile.sh put   # another build
#
# Needs perf (linux-perf). The server and perf are ended by their PIDs, also on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-put}"
seconds="${AAS_PROFILE_SECONDS:-5}"
cargo build -q --release -p reference-server --bin reference-server --example server_bench
target="${CARGO_TARGET_DIR:-target}/release"
dir=$(mktemp -d)
server_pid=""
perf_pid=""
cleanup() {
  [ -n "$perf_pid" ] && kill "$perf_pid" 2>/dev/null || true
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  [ -n "$server_pid" ] && wait "$server_pid" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mqtt=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$target/examples/server_bench" submodel "$dir/submodel.json"
AAS_SERVER_AAS_VERSION=3.0 AAS_SERVER_LOG=warn "${AAS_PROFILE_SERVER:-$target/reference-server}" serve \
  --bind "127.0.0.1:$port" --mqtt-listen "127.0.0.1:$mqtt" --data "$dir/data" > "$dir/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
  curl -sf -o /dev/null "http://127.0.0.1:$port/health" && break
  sleep 0.1
done
id=$(python3 -c "import base64;print(base64.urlsafe_b64encode(b'https://example.com/bench/submodel').decode().rstrip('='))")
url="http://127.0.0.1:$port/submodels/$id"
curl -sf -o /dev/null -X PUT -H 'content-type: application/json' --data-binary @"$dir/submodel.json" "$url"
case "$mode" in
  put) load=("$url" 8 $((seconds + 3)) "$dir/submodel.json") ;;
  get) load=("$url" 32 $((seconds + 3))) ;;
  *) echo "usage: bash bench/profile.sh put|get" >&2; exit 2 ;;
esac
"$target/examples/server_bench" load "${load[@]}" > "$dir/load.txt" &
load_pid=$!
sleep 1
perf record -q -F 499 --call-graph dwarf,16384 -p "$server_pid" -o "$dir/perf.data" -- sleep "$seconds" \
  > /dev/null 2>&1 &
perf_pid=$!
wait "$perf_pid" || true
perf_pid=""
wait "$load_pid"
echo "load: $(cat "$dir/load.txt")" >&2
perf script -i "$dir/perf.data" -F comm,ip,sym 2>/dev/null | python3 -c '
import collections, sys
# A sample belongs to the first phase whose frame is on its stack (order matters: the body is
# read before it is verified, and the storage call runs the event closure).
phases = [
    ("reading the body (aas-serde JSON reader)", ["from_slice_as"]),
    ("empty-list leniency scan", ["without_empty_lists"]),
    ("verification (aas-model)", ["aas_model::verify"]),
    ("serializing the submodel once", ["aas_serde::json::to_string"]),
    ("event: escaping and deflating the payload", ["envelope::prepare", "Deflated::new"]),
    ("storage call (SQLite, events, group commit)", ["put_submodel_serialized"]),
    ("serving GET from storage", ["submodel_json"]),
    ("publishing events (outbox read, MQTT, acknowledgement)", ["publisher::", "drain_outbox"]),
    ("embedded broker", ["rumqttd"]),
    ("dropping the model", ["drop_in_place<aas_model"]),
    ("HTTP (hyper, axum)", ["hyper::"]),
]
counts, total = collections.Counter(), 0
for sample in sys.stdin.read().split("\n\n"):
    if not sample.strip():
        continue
    total += 1
    for name, frames in phases:
        if any(frame in sample for frame in frames):
            counts[name] += 1
            break
    else:
        counts["other (scheduling, kernel, allocator outside the phases)"] += 1
print(f"| phase | share of the server'"'"'s samples ({total}) |")
print("|---|---|")
for name, n in counts.most_common():
    print(f"| {name} | {100 * n / total:.1f} % |")
'
