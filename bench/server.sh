#!/usr/bin/env bash
# The repository API under load from a second process, beside a minimal axum handler (the
# floor), and the latency from a change to its event (reference-server/examples/server_bench.rs).
#
#   bash bench/server.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q --release -p reference-server --bin reference-server --example server_bench
"${CARGO_TARGET_DIR:-target}"/release/examples/server_bench run
