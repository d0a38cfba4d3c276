#!/usr/bin/env bash
# The feature matrix of the library crates: `cargo clippy` (a check with lints, warnings
# denied) of each publishable library crate
# with no features, with each of its features alone, and with all of them (what
# `cargo hack --each-feature check` does, without installing cargo-hack). A feature that only
# builds together with another one it does not enable fails here, which a workspace build
# (features unified across crates) would hide.
#
# Each check selects one package (`-p`), so features are not unified with the other crates;
# every target (the library, its tests, examples and benches: a test that needs a feature
# says so with `required-features`). clippy rather than `RUSTFLAGS=-D warnings cargo check`: a changed RUSTFLAGS would
# build every dependency again.
set -euo pipefail
cd "$(dirname "$0")/.."

mapfile -t lines < <(cargo metadata --format-version 1 --no-deps --locked | python3 -c '
import json, sys
for p in json.load(sys.stdin)["packages"]:
    # Library crates that are published: reference-server (a binary), tests and fuzz are not.
    if p["publish"] == [] or not any("lib" in t["kind"] for t in p["targets"]) or p["name"] == "reference-server":
        continue
    print(p["name"] + " " + " ".join(sorted(f for f in p["features"] if f != "default")))')
if [ ${#lines[@]} -eq 0 ]; then
  echo "error: cargo metadata listed no publishable library crate" >&2
  exit 1
fi

checks=0
for line in "${lines[@]}"; do
  read -r crate features <<<"$line"
  variants=("--no-default-features" "--all-features")
  for feature in $features; do
    variants+=("--no-default-features --features $feature")
  done
  for variant in "${variants[@]}"; do
    echo "-- $crate $variant"
    # shellcheck disable=SC2086 # the variant is several words on purpose
    if ! cargo clippy --all-targets --locked --quiet -p "$crate" $variant -- -D warnings; then
      echo "error: $crate does not build with $variant" >&2
      exit 1
    fi
    checks=$((checks + 1))
  done
done
echo "feature matrix: $checks checks of ${#lines[@]} crates passed"
