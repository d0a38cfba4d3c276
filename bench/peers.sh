#!/usr/bin/env bash
# Our read and write of JSON, XML and AASX against aas-core3.0-python and basyx-python-sdk, on
# the same files (make_big_env.py's 20 MB environment; the AASX is that environment packed by
# our writer), in one run; prints the medians and the ratios.
#
#   bash bench/peers.sh [runs]        # default 3
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"
dir=target/bench
mkdir -p "$dir/peers"
[ -f "$dir/env-20mb.json" ] || cargo bench -p aas-serde --bench json -- --test >/dev/null
python=$(bash "${AAS_TOOLS_DIR:-../shared/tools}/oracles/setup.sh")
cargo build -q --release -p aas-serde --example peer_bench
results="$dir/peers/results.jsonl"
: > "$results"
"${CARGO_TARGET_DIR:-target}"/release/examples/peer_bench "$runs" "$dir/env-20mb.json" "$dir/env-20mb.xml" "$dir/env-20mb.aasx" "$dir/peers" >> "$results"
"$python" bench/peers.py "$runs" "$dir/env-20mb.json" "$dir/env-20mb.xml" "$dir/env-20mb.aasx" "$dir/peers" >> "$results" 2> "$dir/peers/python.log"
python3 - "$results" <<'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
median = {(r["library"], r["format"], r["op"]): statistics.median(r["seconds"]) for r in rows}
print(f"{'format':6} {'op':6} {'aas-rs':>9} {'aas-core3.0-python':>20} {'basyx-python-sdk':>18}")
for fmt in ("json", "xml", "aasx"):
    for op in ("read", "write"):
        ours = median.get(("aas-rs", fmt, op))
        cells = []
        for lib in ("aas-core3.0-python", "basyx-python-sdk"):
            theirs = median.get((lib, fmt, op))
            cells.append(f"{theirs:7.3f} s ({theirs / ours:5.1f}x)" if theirs and ours else "—")
        print(f"{fmt:6} {op:6} {ours:7.3f} s {cells[0]:>20} {cells[1]:>18}")
PY
