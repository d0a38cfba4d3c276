#!/usr/bin/env bash
# 10,000 synchronized attributes (1,000 twins x 10) polling a loopback platform every second:
# the engine's CPU share and peak memory (the platform runs as its own process, killed by PID).
#
#   bash bench/sdt.sh [seconds]      # default 60
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q --release -p sdt-core --example sdt_bench
bin="${CARGO_TARGET_DIR:-target}"/release/examples/sdt_bench
dir=$(mktemp -d)
"$bin" platform > "$dir/port" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 50); do [ -s "$dir/port" ] && break; sleep 0.1; done
/usr/bin/time -v "$bin" engine "$(cat "$dir/port")" "${1:-60}" 2> "$dir/time.txt"
echo "engine peak RSS $(awk '/Maximum resident set size/ {printf "%.1f MB", $6/1024}' "$dir/time.txt")"
