#!/usr/bin/env bash
# Runs every check and test of the workspace, as CI does. Installs what the tests need first:
# - the oracle venv (peer AAS libraries from PyPI, created once by ../shared/tools/oracles/setup.sh);
# - the venv of Python peers (scripts/test-venv.sh: the CloudEvents SDK, moto's S3 server);
# - Mosquitto (Debian package): each MQTT test starts its own broker on a free 127.0.0.1 port
#   and kills it by PID;
# - Azurite (npm package, into ${AAS_RS_CACHE:-~/.cache/aas-rs}/azurite): each push test starts
#   its own on a free 127.0.0.1 port (--disableTelemetry --skipApiVersionCheck), killed by PID;
# - cargo-fuzz (crates.io): every fuzz target runs 5 s after replaying its corpus.
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
if ! python=$(bash scripts/test-venv.sh); then
  echo "error: could not create the test venv with scripts/test-venv.sh (needs python3 and PyPI)" >&2
  exit 1
fi
echo "test venv python: $python"
if ! command -v mosquitto >/dev/null && [ ! -x /usr/sbin/mosquitto ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing mosquitto (Debian package)"
  if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq mosquitto >/dev/null; }; then
    echo "error: could not install the Debian package mosquitto, which the MQTT tests need" >&2
    exit 1
  fi
fi
azurite_dir="${AAS_RS_CACHE:-$HOME/.cache/aas-rs}/azurite"
if [ ! -x "$azurite_dir/node_modules/.bin/azurite-blob" ]; then
  echo "installing azurite (npm) into $azurite_dir"
  mkdir -p "$azurite_dir"
  if ! (cd "$azurite_dir" && npm install --no-audit --no-fund --silent azurite@3.37.0 >&2); then
    echo "error: could not install the npm package azurite, which the push tests need (needs node and npm)" >&2
    exit 1
  fi
fi

step() { echo; echo "== $* ($(( $(date +%s) - start )) s)"; }

step cargo fmt
cargo fmt --all -- --check
step cargo clippy
cargo clippy --workspace --all-targets --locked -- -D warnings
step cargo doc
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked
step cargo test
cargo test --workspace --locked
step "fuzz targets (5 s each, corpus replayed first)"
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --version 0.13.1 --locked
fi
bash fuzz/run.sh 5
step "done in $(( $(date +%s) - start )) s"
