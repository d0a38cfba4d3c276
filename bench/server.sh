#!/usr/bin/env bash
# The repository API under load from a second process, in one run, side by side: this build's
# reference-server, optionally a baseline binary, the BaSyx Python SDK's own server (a peer), and a
# minimal axum handler (the floor). Workloads (reference-server/examples/server_bench.rs):
#   1. GET /shells?limit=100 with 1,000 and with 100,000 shells stored: ms per page, first page and
#      the page in the middle (reached by following paging_metadata.cursor); loading time apart;
#   2. GET (32 clients) and PUT (8 clients) of a 50 KB submodel, req/s and ratio to the floor;
#   3. PUT → `updated` event received over MQTT, p50/p99/max (our servers only).
# Prints markdown tables (stdout) for BENCHMARKS.md; progress on stderr.
#
#   bash bench/server.sh
#   AAS_BENCH_BASELINE=/work/target-base/release/reference-server AAS_BENCH_BASELINE_NAME=542e431 \
#     bash bench/server.sh > server-bench.md
#
# Knobs (environment variables):
#   AAS_BENCH_BASELINE=PATH       a second reference-server binary, measured in the same rounds
#   AAS_BENCH_BASELINE_NAME=TEXT  its column title (default "baseline")
#   AAS_BENCH_BASYX=PATH          the peer's serve.sh (default ../shared/peers/basyx-python-sdk/serve.sh
#                                 when it exists; empty: no peer). Its first run makes a venv (PyPI).
#   AAS_BENCH_BASYX_MAX_SHELLS=N  give the peer no listing larger than N shells (default 100000)
#   AAS_BENCH_SHELLS=1000,100000  listing sizes (GET/PUT/events run on the servers of the smallest)
#   AAS_BENCH_SECONDS=5           seconds per GET/PUT measurement
#   AAS_BENCH_ROUNDS=3            alternating rounds of every measurement
#   AAS_BENCH_PAGES=3             listing requests per page, server and round
#   AAS_BENCH_WALK=1000           limit of the requests that follow the cursors to the middle page
#   AAS_BENCH_CHANGES=300         changes per server for the change → event latency
#   AAS_BENCH_LOAD_TIMEOUT=600    seconds a server may take to load its file and become idle
#   AAS_BENCH_SERVER=PATH         this build's binary (default: next to the example)
set -euo pipefail
cd "$(dirname "$0")/.."
peer=../shared/peers/basyx-python-sdk/serve.sh
if [ -z "${AAS_BENCH_BASYX+set}" ] && [ -f "$peer" ]; then
  export AAS_BENCH_BASYX="$PWD/$peer"
fi
cargo build -q --release -p reference-server --bin reference-server --example server_bench
"${CARGO_TARGET_DIR:-target}"/release/examples/server_bench run
