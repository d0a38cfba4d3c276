#!/usr/bin/env bash
# Differential run of sdt-core's JSONPath dialect and str.format against jsonpath-ng 1.16.0 and
# CPython (the test venv of scripts/test-venv.sh): N generated cases from SEED, every difference
# reported with a shrunk reproduction, and the cases per construct kind.
#
#   bash scripts/sdt-differential.sh [CASES=200000] [SEED=1] [extra arguments of the example]
#   bash scripts/sdt-differential.sh 0 0 --corpus fuzz      # the fuzz targets' committed inputs
#
# Extra arguments: --show N (shrunk reproductions), --dump N (the first cases as generated),
# --corpus DIR, --only KIND. Built with the dev profile, as the tests are (no second build of
# the dependencies; a 200,000-case batch takes about 80 s, half of it in Python); PROFILE=release
# for an optimized build. Exits 1 when a case differs other than on purpose.
set -euo pipefail
cd "$(dirname "$0")/.."
cases="${1:-200000}"
seed="${2:-1}"
shift $(( $# > 2 ? 2 : $# ))
python=$(bash scripts/test-venv.sh)
profile=()
[ "${PROFILE:-dev}" = release ] && profile=(--release)
exec cargo run --quiet "${profile[@]}" -j"${JOBS:-2}" -p sdt-core --example differential -- \
  --cases "$cases" --seed "$seed" --python "$python" "$@"
