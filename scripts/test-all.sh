#!/usr/bin/env bash
# Runs every check and test of the workspace, as CI does. Installs what the tests need first:
# - the oracle venv (peer AAS libraries from PyPI, created once by ../shared/tools/oracles/setup.sh);
# - the CloudEvents Python SDK venv (scripts/events-venv.sh);
# - Mosquitto (Debian package): each MQTT test starts its own broker on a free 127.0.0.1 port
#   and kills it by PID.
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
if ! python=$(bash scripts/events-venv.sh); then
  echo "error: could not create the CloudEvents venv with scripts/events-venv.sh (needs python3 and PyPI)" >&2
  exit 1
fi
echo "cloudevents python: $python"
if ! command -v mosquitto >/dev/null && [ ! -x /usr/sbin/mosquitto ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing mosquitto (Debian package)"
  if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq mosquitto >/dev/null; }; then
    echo "error: could not install the Debian package mosquitto, which the MQTT tests need" >&2
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
step "done in $(( $(date +%s) - start )) s"
