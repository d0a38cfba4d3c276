#!/usr/bin/env bash
# Runs every fuzz target for a while (default 60 s each) with libFuzzer and the address
# sanitizer: the development command, not part of the test command (which replays the committed
# inputs instead: fuzz/checks/tests/replay.rs). The corpora in fuzz/corpus/<target>/ are seeded
# from ../shared/corpus (or $AAS_CORPUS_DIR) on first use; the committed inputs of
# fuzz/seeds/<target>/ and fuzz/regressions/<target>/ are read beside them every run. Crashes,
# hangs and out-of-memory inputs land in fuzz/artifacts/<target>/.
#
#   bash fuzz/run.sh [seconds per target] [target...]
# Needs cargo-fuzz (`cargo install cargo-fuzz --version 0.13.1 --locked`); runs on stable with
# RUSTC_BOOTSTRAP=1.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-60}"
shift || true
corpus_root="${AAS_CORPUS_DIR:-../../shared/corpus}/aas-core3.0-testgen"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(json_read xml_read aasx_read verify envelope_decode cloud_event_decode
  topic_parse jsonpath python_format mustache sync_description verify_arbitrary push_target
  server_requests)

seed() {  # seed <target> <source files...>
  local dir="corpus/$1"; shift
  [ -d "$dir" ] && return
  mkdir -p "$dir"
  local n=0
  for file in "$@"; do
    cp "$file" "$dir/seed-$n"; n=$((n + 1))
  done
}
mapfile -t json < <(find "$corpus_root/Json" -name '*.json' | sort | awk 'NR % 8 == 0')
mapfile -t xml < <(find "$corpus_root/Xml" -name '*.xml' | sort | awk 'NR % 8 == 0')
seed json_read "${json[@]}"
seed verify "${json[@]}"
seed xml_read "${xml[@]}"
seed aasx_read "${json[@]:0:20}"
seed sync_description ../sdt-core/tests/fixtures/*.json
if [ ! -d corpus/jsonpath ]; then
  mkdir -p corpus/jsonpath
  python3 - <<'PY'
import json
cases = json.load(open("../sdt-core/tests/golden/jsonpath_cases.json"))["cases"]
for i, path in enumerate(sorted({c["path"] for c in cases})):
    open(f"corpus/jsonpath/seed-{i}", "w").write(path)
cases = json.load(open("../sdt-core/tests/golden/format_cases.json"))["cases"]
import os
os.makedirs("corpus/python_format", exist_ok=True)
for i, case in enumerate(cases):
    open(f"corpus/python_format/seed-{i}", "w").write(case["template"])
PY
fi
if [ ! -d corpus/mustache ]; then
  mkdir -p corpus/mustache
  python3 - <<'PY'
import json, glob
n = 0
for spec in glob.glob("../../shared/corpus/mustache-spec/*.json"):
    for test in json.load(open(spec))["tests"]:
        open(f"corpus/mustache/seed-{n}", "w").write(test["template"]); n += 1
PY
fi
if [ ! -d corpus/server_requests ]; then
  mkdir -p corpus/server_requests
  CORPUS_ROOT="$corpus_root" python3 - <<'PY'
import json, os, glob
# A seed is a selector byte (the endpoint: aas_rs_fuzz_checks::server_endpoints) and the bytes sent.
def seed(name, selector, body):
    data = bytes([selector]) + (body if isinstance(body, bytes) else json.dumps(body).encode())
    open(f"corpus/server_requests/{name}", "wb").write(data)
n = 0
for path in sorted(glob.glob(os.environ["CORPUS_ROOT"] + "/Json/ContainedInEnvironment/Expected/**/*.json", recursive=True))[::25]:
    env = json.load(open(path))
    for selector, key in [(0, "assetAdministrationShells"), (4, "submodels"), (19, "conceptDescriptions")]:
        for item in env.get(key, [])[:1]:
            seed(f"seed-{n}", selector, item); n += 1
    for sm in env.get("submodels", [])[:1]:
        for element in sm.get("submodelElements", [])[:1]:
            seed(f"seed-{n}", 9, element); n += 1
# The hand-written requests (every kind of body, deep ones) are committed: seeds/server_requests/.
PY
fi
# SQLite (bundled C, built with the sanitizer) trips ASan's ODR check when linked into a Rust
# binary: a known false positive, so that check is off.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_odr_violation=0}"
findings=0
for target in "${targets[@]}"; do
  mkdir -p "corpus/$target"
  # New inputs go to the first directory; the committed ones are only read.
  dirs=("corpus/$target")
  for committed in seeds regressions; do
    [ -d "$committed/$target" ] && dirs+=("$committed/$target")
  done
  flags=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1)
  case "$target" in
    # Inputs with a depth and size dimension: up to 64 KiB (past every length limit they meet),
    # with a dictionary of the tokens that nest.
    jsonpath | mustache | python_format | server_requests)
      flags+=(-max_len=65536 -dict="dicts/$target.dict") ;;
  esac
  echo "== $target ($seconds s)"
  RUSTC_BOOTSTRAP=1 cargo fuzz run -O "$target" "${dirs[@]}" -- "${flags[@]}" 2>&1 \
    | grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+[[:space:]]+DONE)|ERROR|panicked|SUMMARY|stack-overflow|overflowed" || true
  if ls "artifacts/$target"/crash-* "artifacts/$target"/timeout-* "artifacts/$target"/oom-* >/dev/null 2>&1; then
    echo "FINDING in $target: $(ls artifacts/"$target")"
    findings=$((findings + 1))
  fi
done
if [ "$findings" -gt 0 ]; then
  echo "error: $findings fuzz target(s) found a crash, hang or OOM: see fuzz/artifacts/" >&2
  exit 1
fi
