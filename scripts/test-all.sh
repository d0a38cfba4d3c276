#!/usr/bin/env bash
# Runs every check and test of the workspace, as CI does. Installs what the tests need first:
# the oracle venv (peer AAS libraries from PyPI, created once by ../shared/tools/oracles/setup.sh).
# Services the later crates need (Azurite, Mosquitto) are installed and started here too, on
# 127.0.0.1, as they arrive.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)

corpus="${AAS_CORPUS_DIR:-../shared/corpus}"
if [ ! -d "$corpus/aas-core3.0-testgen" ]; then
  echo "error: conformance corpus not found at $corpus (set AAS_CORPUS_DIR)" >&2
  exit 1
fi
tools="${AAS_TOOLS_DIR:-../shared/tools}"
if ! python=$(bash "$tools/oracles/setup.sh"); then
  echo "error: could not create the oracle venv with $tools/oracles/setup.sh (needs python3 and PyPI)" >&2
  exit 1
fi
echo "oracle python: $python"

step() { echo; echo "== $* ($(( $(date +%s) - start )) s)"; }

step cargo fmt
cargo fmt --all -- --check
step cargo clippy
cargo clippy --workspace --all-targets --locked -- -D warnings
step cargo doc
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked
step cargo test
cargo test --workspace --locked
step "done in $(( $(date +%s) - start )) s"
