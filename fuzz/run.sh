#!/usr/bin/env bash
# Runs every fuzz target for a while (default 60 s each), seeding the corpora from
# ../shared/corpus (or $AAS_CORPUS_DIR) on first use; crashes land in fuzz/artifacts/<target>/.
#
#   bash fuzz/run.sh [seconds per target] [target...]
# Needs cargo-fuzz (`cargo install cargo-fuzz --locked`); runs on stable with RUSTC_BOOTSTRAP=1.
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
if [ ! -d corpus/push_target ]; then
  mkdir -p corpus/push_target
  n=0
  for seed in \
    'https://acct.blob.core.windows.net/twins?sv=2022-11-02&sp=rcw&se=2099-01-01T00:00:00Z&sr=c&sig=abc%2Bdef%3D' \
    'http://127.0.0.1:10000/devstoreaccount1/twins?sp=cw&se=2099-01-01&sig=x' \
    'https://acct.blob.core.windows.net/twins/blob.json?sp=r&sig=y' \
    '{"name": "a", "type": "azure-blob-storage", "configuration": {"blobSasUrl": "https://a.blob.core.windows.net/c?sp=w&sig=s"}}' \
    '{"name": "a", "type": "azure-blob-storage", "configuration": {"blobContainerSasUrl": "https://a.blob.core.windows.net/c?sp=c&sig=s"}}' \
    '{"name": "d", "type": "local-directory", "configuration": {"path": "out"}}' \
    '{"name": "s", "type": "s3", "configuration": {"bucket": "b", "region": "eu-west-1", "endpoint": "http://127.0.0.1:9000", "accessKeyId": "k", "secretAccessKey": "s"}}' \
    'shells/a/../b.json'; do
    printf '%s' "$seed" > "corpus/push_target/seed-$n"; n=$((n + 1))
  done
fi
if [ ! -d corpus/server_requests ]; then
  mkdir -p corpus/server_requests
  CORPUS_ROOT="$corpus_root" python3 - <<'PY'
import json, os, glob
# A seed is a selector byte (the endpoint, see server_requests.rs) and the bytes sent.
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
for selector, body in [(13, "42"), (14, {"Q": "x"}), (15, ["2.5"]), (16, [{"en": "x"}]), (17, {"min": "0", "max": "3"}),
                       (8, {"P": "7", "C": {"Q": "y"}}), (18, {"idShort": "P", "modelType": "Property", "valueType": "xs:int"}),
                       (22, {"kind": "jsonpath", "doc": {"a": [1, 2]}, "path": "$.a[*]"}),
                       (22, {"kind": "mustache", "template": "{{x}}", "vars": {"x": 1}}),
                       (23, {"description": {"iot_attributes": [{"name": "t", "path": "$.t"}], "thingin_attributes": []}, "sample": {"t": 1}})]:
    seed(f"seed-{n}", selector, body); n += 1
for selector, text in [(24, "C.Q?level=core"), (24, "L[0]/$value"), (25, "C"), (26, "limit=1&cursor=x"), (27, "level=deep&extent=withBlobValue")]:
    seed(f"seed-{n}", selector, text.encode()); n += 1
seed(f"seed-{n}", 21, b'--fuzz\r\nContent-Disposition: form-data; name="file"; filename="f.txt"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--fuzz--\r\n')
PY
fi
# SQLite (bundled C, built with the sanitizer) trips ASan's ODR check when linked into a Rust
# binary: a known false positive, so that check is off.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_odr_violation=0}"
findings=0
for target in "${targets[@]}"; do
  mkdir -p "corpus/$target"
  echo "== $target ($seconds s)"
  RUSTC_BOOTSTRAP=1 cargo fuzz run -O "$target" "corpus/$target" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 2>&1 \
    | grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+ +DONE)|ERROR|panicked|SUMMARY" || true
  if ls "artifacts/$target"/crash-* "artifacts/$target"/timeout-* "artifacts/$target"/oom-* >/dev/null 2>&1; then
    echo "FINDING in $target: $(ls artifacts/"$target")"
    findings=$((findings + 1))
  fi
done
if [ "$findings" -gt 0 ]; then
  echo "error: $findings fuzz target(s) found a crash, hang or OOM: see fuzz/artifacts/" >&2
  exit 1
fi
