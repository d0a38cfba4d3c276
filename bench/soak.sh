#!/usr/bin/env bash
# Soak (issue 18): a release reference-server with its default settings under 8 writers, 2,000
# idle connections and a slowloris client for 60 s; prints /health p50/p99/max and peak RSS.
#
#   bash bench/soak.sh            # SOAK_SECONDS=60 SOAK_IDLE=2000 by default
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q --release -p reference-server --bin reference-server
exec python3 bench/soak.py "${CARGO_TARGET_DIR:-target}/release/reference-server"
