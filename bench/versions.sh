#!/usr/bin/env bash
# JSON and XML read/write of the 20 MB benchmark environment, this tree against 542e431 (before
# AAS V3.1, issue 20), both builds side by side in one run: V3.0 with the old build, V3.0 and
# V3.1 with this one. Prints the medians and the ratios (new / old; below 1 is faster).
#
#   bash bench/versions.sh [rounds] [reps]      # default 15 rounds of 3 runs (writes 4 x 3)
#   AAS_BENCH_INSTRUCTIONS=1 bash bench/versions.sh   # first counts instructions (valgrind)
#   AAS_BENCH_ONLY=xml-write bash bench/versions.sh 40  # only the operations named so
#
# The program bench/versions/main.rs is built twice as a crate of its own (release profile as
# the workspace's, the tree's Cargo.lock, so the same dependency versions): against the crates
# of 542e431, checked out with `git worktree add` into a temp dir, and against this tree's with
# the feature `v31`; each build has its own target dir under $CARGO_TARGET_DIR/bench-versions.
# Each measurement is one process doing one operation (one unmeasured run, then `reps` timed
# ones); every round runs each operation in both builds back to back, old and new taking turns
# to go first, so that the drift of a shared machine hits both alike. Inputs: make_big_env.py's
# 20 MB environment and its XML twin (target/bench/env-20mb.{json,xml}, made when missing), and
# for V3.1 XML the same XML with the V3.1 namespace. Each run is timed as elapsed time and as
# the thread's CPU time (less disturbed by the other processes of a shared machine); the ratio
# of a round is the new build's median over the old one's, and the script prints the median
# and quartiles of the rounds' ratios, so that the noise shows.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-15}"
reps="${2:-3}"
baseline=542e431
tree=$PWD
dir=target/bench
out="${CARGO_TARGET_DIR:-$tree/target}/bench-versions"
mkdir -p "$dir" "$out"

if [ ! -f "$dir/env-20mb.json" ] || [ ! -f "$dir/env-20mb.xml" ]; then
  python=$(bash "${AAS_TOOLS_DIR:-../shared/tools}/oracles/setup.sh")
  "$python" "${AAS_TOOLS_DIR:-../shared/tools}/bench/make_big_env.py" --size-mb 20 --out "$dir/env-20mb" >&2
fi
sed 's#https://admin-shell.io/aas/3/0#https://admin-shell.io/aas/3/1#g' "$dir/env-20mb.xml" > "$dir/env-20mb-v31.xml"

old_tree=$(mktemp -d)
cleanup() { git worktree remove --force "$old_tree/src" >/dev/null 2>&1 || true; rm -rf "$old_tree"; }
trap cleanup EXIT
git worktree add --quiet --detach "$old_tree/src" "$baseline"

# build NAME TREE [FEATURES]: the bench program as a crate of its own on TREE's crates.
build() {
  local name=$1 src=$2 features=${3:-}
  local crate="$out/$name-crate"
  mkdir -p "$crate/src"
  cp bench/versions/main.rs "$crate/src/main.rs"
  cp "$src/Cargo.lock" "$crate/Cargo.lock"
  cat > "$crate/Cargo.toml" <<TOML
[package]
name = "versions"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
aas-model = { path = "$src/aas-model" }
aas-serde = { path = "$src/aas-serde", default-features = false, features = ["json", "xml"] }
libc = "0.2"

[features]
v31 = []

[profile.release]
debug = "line-tables-only"

[workspace]
TOML
  CARGO_TARGET_DIR="$out/$name-target" cargo build --quiet --release \
    --manifest-path "$crate/Cargo.toml" ${features:+--features "$features"} >&2
  echo "$out/$name-target/release/versions"
}
echo "building $baseline and $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- aas-model aas-serde || echo ' (with uncommitted changes)')" >&2
old_bin=$(build old "$old_tree/src")
new_bin=$(build new "$tree" v31)

json="$dir/env-20mb.json"
xml30="$dir/env-20mb.xml"
xml31="$dir/env-20mb-v31.xml"
# "build operation input": what each round measures.
cases=(
  "old json-read-3.0 $json" "new json-read-3.0 $json" "new json-read-3.1 $json"
  "old json-write $json" "new json-write $json"
  "old xml-read-3.0 $xml30" "new xml-read-3.0 $xml30" "new xml-read-3.1 $xml31"
  "old xml-write-3.0 $json" "new xml-write-3.0 $json" "new xml-write-3.1 $json"
)
# AAS_BENCH_ONLY=xml-write (a prefix of the operations) measures only those, for a closer look.
if [ -n "${AAS_BENCH_ONLY:-}" ]; then
  only=()
  for c in "${cases[@]}"; do
    read -r _ op _ <<< "$c"
    [[ $op == "$AAS_BENCH_ONLY"* ]] && only+=("$c")
  done
  cases=("${only[@]}")
fi
if [ "${AAS_BENCH_INSTRUCTIONS:-0}" = 1 ]; then
  # Instructions executed per operation, counted by valgrind (callgrind, no cache simulation):
  # what the machine's load cannot change. A run with 3 measured operations minus a run with
  # 1 is 2 operations, without the start-up and the reading of the input.
  command -v valgrind >/dev/null || { echo "error: AAS_BENCH_INSTRUCTIONS=1 needs valgrind (apt-get install valgrind)" >&2; exit 1; }
  instructions() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null \
      | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
  }
  printf '%-14s %-4s %14s  %s\n' operation build instructions "new / old"
  for c in "${cases[@]}"; do
    read -r build op input <<< "$c"
    bin=$old_bin
    [ "$build" = new ] && bin=$new_bin
    one=$(instructions "$bin" "$op" "$input" 1)
    three=$(instructions "$bin" "$op" "$input" 3)
    count=$(((three - one) / 2))
    # The cases list each operation's old build first.
    [ "$build" = old ] && base=$count
    printf '%-14s %-4s %14d  %s\n' "$op" "$build" "$count" "$(awk -v n="$count" -v o="$base" 'BEGIN { printf "%.4f", n / o }')"
  done
fi

results="$out/results.tsv"
: > "$results"
for round in $(seq 1 "$rounds"); do
  # Odd rounds run the cases in order, even rounds backwards: old first, then new first.
  order=$(seq 0 $((${#cases[@]} - 1)))
  [ $((round % 2)) -eq 0 ] && order=$(echo "$order" | tac)
  for i in $order; do
    read -r build op input <<< "${cases[$i]}"
    bin=$old_bin
    [ "$build" = new ] && bin=$new_bin
    n=$reps
    # A write takes a sixth of a read: more runs, for as steady a median.
    [[ $op == *write* ]] && n=$((reps * 4))
    line=$("$bin" "$op" "$input" "$n")   # a failing run ends the script (set -e)
    printf '%s\t%s\t%s\n' "$round" "$build" "$line" >> "$results"
  done
  echo "round $round of $rounds done" >&2
done

python3 - "$results" "$baseline" <<'PY'
import statistics, sys
from collections import defaultdict
results, baseline = sys.argv[1], sys.argv[2]
runs = {}                    # (round, build, op) -> {"wall": [...], "cpu": [...]}
checks = defaultdict(set)    # op -> {(build, check)}
for line in open(results):
    round_, build, op, check, wall, cpu = line.rstrip("\n").split("\t")
    runs[(int(round_), build, op)] = {
        "wall": [float(s) for s in wall.split()],
        "cpu": [float(s) for s in cpu.split()],
    }
    checks[op].add((build, check))
rounds = sorted({r for r, _, _ in runs})

def quartiles(values):
    q = statistics.quantiles(values, n=4) if len(values) > 1 else [values[0]] * 3
    return q[0], statistics.median(values), q[2]

def ms(build, op, measure):
    return 1e3 * statistics.median([s for r in rounds for s in runs[(r, build, op)][measure]])

def ratios(new_op, old_op, measure):
    # Per round: the new build's median over the old build's, measured back to back.
    return [statistics.median(runs[(r, "new", new_op)][measure])
            / statistics.median(runs[(r, "old", old_op)][measure]) for r in rounds]

counts = {op: len(m["wall"]) for (_, _, op), m in runs.items()}
print(f"{len(rounds)} rounds x " + ", ".join(f"{n} {op}" for op, n in sorted(counts.items()) if "3.1" not in op)
      + " runs per build; times: medians of all runs;")
print("ratios: new / old, median of the rounds' ratios [first-third quartile]; below 1 is faster")
for measure in ("cpu", "wall"):
    print(f"\n{'thread CPU time' if measure == 'cpu' else 'elapsed time'}:")
    print(f"{'operation':11} {baseline + ' V3.0':>13} {'new V3.0':>9} {'new V3.1':>9}   {'ratio V3.0':>22}   {'ratio V3.1':>22}")
    for op in ("json-read", "json-write", "xml-read", "xml-write"):
        op30, op31 = (op, op) if op == "json-write" else (op + "-3.0", op + "-3.1")
        if (rounds[0], "old", op30) not in runs:
            continue
        cells = []
        for new_op in (op30, op31):
            lo, mid, hi = quartiles(ratios(new_op, op30, measure))
            cells.append(f"{mid:.3f} [{lo:.3f}-{hi:.3f}]")
        print(f"{op:11} {ms('old', op30, measure):10.1f} ms {ms('new', op30, measure):6.1f} ms {ms('new', op31, measure):6.1f} ms   {cells[0]:>22}   {cells[1]:>22}")
print("\n(json-write has no version: its V3.1 column is the same measurement)")
print("what each run read or wrote:")
for op, seen in sorted(checks.items()):
    for build, check in sorted(seen):
        print(f"  {op:14} {build}: {check}")
    if len({c for _, c in seen}) > 1:
        print(f"  note: {op} wrote differently in the two builds")
PY
