#!/usr/bin/env bash
# Differential run of sdt-core's JSONPath dialect and str.format against jsonpath-ng 1.16.0 and
# CPython (the test venv of scripts/test-venv.sh): N generated cases from SEED, every difference
# reported with a shrunk reproduction, and the cases per construct kind.
#
#   bash scripts/sdt-differential.sh [CASES=200000] [SEED=1] [extra arguments of the example]
#
# Built in release: a 200,000-case batch is dominated by Python otherwise only when optimized.
set -euo pipefail
cd "$(dirname "$0")/.."
cases="${1:-200000}"
seed="${2:-1}"
shift $(( $# > 2 ? 2 : $# ))
python=$(bash scripts/test-venv.sh)
exec cargo run --quiet --release -j"${JOBS:-2}" -p sdt-core --example differential -- \
  --cases "$cases" --seed "$seed" --python "$python" "$@"
