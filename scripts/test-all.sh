#!/usr/bin/env bash
# Runs every check and test of the workspace, as CI does. Installs what the tests need first:
# - the oracle venv (peer AAS libraries from PyPI, created once by ../shared/tools/oracles/setup.sh);
# - the venv of Python peers (scripts/test-venv.sh: the CloudEvents SDK, moto's S3 server,
#   jsonpath-ng, BaSyx Python 2.2 for the V3.1 interop tests, aas-python-http-client 1.0.3 for
#   the real-client flow of reference-server/tests/clients.rs);
# - Mosquitto (Debian package): each MQTT test starts its own broker on a free 127.0.0.1 port
#   and kills it by PID;
# - PostgreSQL (Debian package `postgresql`): each PostgreSQL test makes a private cluster with
#   initdb in a temp dir and starts postgres on it on a free 127.0.0.1 port (as the `postgres`
#   user through runuser when run as root), stopped by its postmaster's PID;
# - Azurite (npm package, into ${AAS_RS_CACHE:-~/.cache/aas-rs}/azurite): each push test starts
#   its own on a free 127.0.0.1 port (--disableTelemetry --skipApiVersionCheck), killed by PID.
# Then fmt, clippy, the feature matrix of the library crates, docs, the tests (built once, then unit, integration and doc tests), and the
# fuzz corpus replay: every committed input of fuzz/seeds/ and fuzz/regressions/ through the
# check of its fuzz target (fuzz/checks, a member of this workspace: same build, dev profile).
# The fuzzers themselves (cargo-fuzz, address sanitizer) are not run here: `bash fuzz/run.sh`.
#
# Every step is timed; a table of the times closes the output, also when a step fails.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)

# --- step timing -------------------------------------------------------------------------------
step_names=()
step_seconds=()
step_status=()
current=""
current_start=0
log=$(mktemp)

# step <name>: ends the running step (as passed) and starts the next.
step() {
  end_step ok
  current="$*"
  current_start=$(date +%s)
  echo
  echo "== $current ($(( current_start - start )) s)"
}

end_step() {
  if [ -n "$current" ]; then
    step_names+=("$current")
    step_seconds+=($(( $(date +%s) - current_start )))
    step_status+=("$1")
    current=""
  fi
}

clock() { printf '%d:%02d' $(( $1 / 60 )) $(( $1 % 60 )); }

# The table of step times (and the slowest test binaries, from libtest's "finished in" lines);
# runs on every exit, so that a failed run still says where its time went.
summary() {
  local rc=$?
  if [ "$rc" -eq 0 ]; then end_step ok; else end_step FAILED; fi
  local total=$(( $(date +%s) - start ))
  echo
  echo "== step times"
  printf '%-52s %7s %7s  %s\n' step seconds "m:ss" status
  local i
  for i in "${!step_names[@]}"; do
    printf '%-52s %7d %7s  %s\n' "${step_names[$i]}" "${step_seconds[$i]}" \
      "$(clock "${step_seconds[$i]}")" "${step_status[$i]}"
  done
  printf '%-52s %7d %7s  %s\n' total "$total" "$(clock "$total")" \
    "$([ "$rc" -eq 0 ] && echo ok || echo "FAILED (exit $rc)")"
  if grep -q "finished in" "$log" 2>/dev/null; then
    echo
    echo "== slowest test binaries (run time, build excluded)"
    awk '/^ *(Running|Doc-tests) / { sub(/^ *(Running|Doc-tests) /, ""); sub(/ \(.*\/deps\//, " ("); binary = $0 }
         /^test result: .* finished in / { t = $NF; sub(/s$/, "", t); printf "%9.1f s  %s\n", t, binary }' "$log" \
      | sort -rn | awk 'NR <= 8'  # not head: sort would die of SIGPIPE once head quits (exit 141)
  fi
  rm -f "$log"
  exit "$rc"
}
trap summary EXIT

# cargo test with its output kept for the summary.
cargo_test() {
  cargo test --workspace --locked "$@" 2>&1 | tee -a "$log"
}

# --- what the tests need -----------------------------------------------------------------------
corpus="${AAS_CORPUS_DIR:-../shared/corpus}"
if [ ! -d "$corpus/aas-core3.0-testgen" ]; then
  echo "error: conformance corpus not found at $corpus (set AAS_CORPUS_DIR)" >&2
  exit 1
fi
tools="${AAS_TOOLS_DIR:-../shared/tools}"
step "install: oracle venv (PyPI)"
if ! python=$(bash "$tools/oracles/setup.sh"); then
  echo "error: could not create the oracle venv with $tools/oracles/setup.sh (needs python3 and PyPI)" >&2
  exit 1
fi
echo "oracle python: $python"
step "install: test venv (PyPI)"
if ! python=$(bash scripts/test-venv.sh); then
  echo "error: could not create the test venv with scripts/test-venv.sh (needs python3 and PyPI)" >&2
  exit 1
fi
echo "test venv python: $python"
# sdt-core's differential test runs jsonpath-ng and str.format through this python.
export SDT_ORACLE_PYTHON="$python"
step "install: mosquitto (Debian)"
if ! command -v mosquitto >/dev/null && [ ! -x /usr/sbin/mosquitto ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing mosquitto (Debian package)"
  if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq mosquitto >/dev/null; }; then
    echo "error: could not install the Debian package mosquitto, which the MQTT tests need" >&2
    exit 1
  fi
fi
step "install: postgresql (Debian)"
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && [ -z "${PG_BIN:-}" ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing postgresql (Debian package)"
  # No system cluster (the package would make and start one on port 5432): the tests make
  # their own.
  if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
    $sudo mkdir -p /etc/postgresql-common
    echo "create_main_cluster = false" | $sudo tee /etc/postgresql-common/createcluster.conf >/dev/null
  fi
  if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
      -o Dpkg::Options::=--force-confold postgresql >/dev/null; }; then
    echo "error: could not install the Debian package postgresql, which the PostgreSQL tests need" >&2
    exit 1
  fi
fi
step "install: azurite (npm)"
azurite_dir="${AAS_RS_CACHE:-$HOME/.cache/aas-rs}/azurite"
if [ ! -x "$azurite_dir/node_modules/.bin/azurite-blob" ]; then
  echo "installing azurite (npm) into $azurite_dir"
  mkdir -p "$azurite_dir"
  if ! (cd "$azurite_dir" && npm install --no-audit --no-fund --silent azurite@3.37.0 >&2); then
    echo "error: could not install the npm package azurite, which the push tests need (needs node and npm)" >&2
    exit 1
  fi
fi

# --- checks and tests --------------------------------------------------------------------------
step "cargo fmt"
cargo fmt --all -- --check
step "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
# Every library crate with no features, each feature alone, and all of them (scripts/feature-matrix.sh).
step "feature matrix (each library crate, each feature alone)"
bash scripts/feature-matrix.sh
step "cargo doc"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked
# Packages every publishable crate as crates.io would take it (metadata, versions on path
# dependencies, the files included), in dependency order; --no-verify skips building each
# package again from its .crate (the verified run, and its time: docs/publishing.md);
# --allow-dirty so that a working tree with changes is checked as it is. Crates with
# `publish = false` are left out. Then the workspace's `rust-version` must be at least every
# dependency's (clippy's incompatible_msrv checks our own code against it), and keywords and
# categories must be what crates.io accepts (it checks them only on upload).
step "cargo publish --dry-run, rust-version, keywords"
cargo publish --workspace --dry-run --no-verify --allow-dirty --locked
cargo metadata --format-version 1 --locked | python3 -c '
import json, sys
m = json.load(sys.stdin)
version = lambda s: tuple(int(x) for x in (s + ".0.0").split(".")[:3])
ids = {n["id"] for n in m["resolve"]["nodes"]}
packages = [p for p in m["packages"] if p["id"] in ids and p["rust_version"]]
ours = min(version(p["rust_version"]) for p in packages if p["id"] in m["workspace_members"])
newer = [p["name"] + " " + p["version"] + " (rust-version " + p["rust_version"] + ")"
         for p in packages if version(p["rust_version"]) > ours]
if newer:
    sys.exit("error: dependencies need a newer Rust than the workspace rust-version " + ".".join(map(str, ours)) + ": " + ", ".join(newer))
print("rust-version " + ".".join(map(str, ours)) + ": no dependency needs a newer one")
# What crates.io checks only on upload: at most 5 keywords of at most 20 characters, each an
# ASCII letter followed by letters, digits, _, - or +; at most 5 categories.
import re
bad = [p["name"] + ": " + what for p in m["packages"] if p["id"] in m["workspace_members"] and p["publish"] != []
       for what in (["more than 5 keywords"] if len(p["keywords"]) > 5 else [])
                 + (["more than 5 categories"] if len(p["categories"]) > 5 else [])
                 + ["keyword " + k for k in p["keywords"] if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_+-]{0,19}", k)]]
if bad:
    sys.exit("error: crates.io would refuse: " + ", ".join(bad))'
# Every phase selects the whole workspace, so that features unify the same way and the phases
# share one build (`-p`/`--exclude` would build some crates again with other features).
step "cargo test: build"
cargo_test --no-run
step "cargo test: unit tests (src/)"
cargo_test --lib --bins
# Every integration test target (tests/*.rs) but the fuzz replay, which is a step of its own.
mapfile -t integration < <(cargo metadata --format-version 1 --no-deps --locked | python3 -c '
import json, sys
names = {t["name"] for p in json.load(sys.stdin)["packages"] if p["name"] != "aas-rs-fuzz-checks"
         for t in p["targets"] if "test" in t["kind"]}
for name in sorted(names):
    print("--test"); print(name)')
if [ ${#integration[@]} -eq 0 ]; then
  echo "error: cargo metadata listed no integration test targets" >&2
  exit 1
fi
step "cargo test: integration tests (tests/)"
cargo_test "${integration[@]}"
step "cargo test: doc tests"
cargo_test --doc
# push-core's unit tests built alone: without sdt-core (whose reqwest brings aws-lc-rs as
# reqwest's default crypto provider into the workspace build), reqwest has no provider of its own,
# as for a user of push-core, and the client test shows that push-core hands it ring's.
step "push-core alone (its TLS client without a default crypto provider)"
cargo test -p push-core --lib --locked 2>&1 | tee -a "$log"
step "fuzz corpus replay (fuzz/seeds, fuzz/regressions)"
cargo_test --test replay
