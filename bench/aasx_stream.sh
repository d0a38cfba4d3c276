#!/usr/bin/env bash
# Streams a package holding the 20 MB benchmark environment and a 1 GiB supplementary file
# through the AASX writer and reader, and the same two files through a plain zip, each step
# under /usr/bin/time -v; prints time, throughput and peak memory (max RSS) per step.
#
#   bash bench/aasx_stream.sh            # uses target/bench (creates the inputs once)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=target/bench
mkdir -p "$dir"
[ -f "$dir/env-20mb.json" ] || cargo bench -p aas-serde --bench json -- --test >/dev/null
if [ ! -f "$dir/suppl-1gib.bin" ]; then
  # Incompressible, like the PDFs and images packages usually carry.
  head -c $((1 << 30)) /dev/urandom > "$dir/suppl-1gib.bin"
fi
cargo build -q --release -p aas-serde --example aasx_stream
bin="${CARGO_TARGET_DIR:-target}"/release/examples/aasx_stream
run() {
  /usr/bin/time -v "$bin" "$@" 2> "$dir/time.txt" | tr '\n' ' '
  echo "peak RSS $(awk '/Maximum resident set size/ {printf "%.1f MB", $6/1024}' "$dir/time.txt")"
}
run write "$dir/env-20mb.json" "$dir/suppl-1gib.bin" "$dir/large.aasx"
run read "$dir/large.aasx"
run zip "$dir/env-20mb.json" "$dir/suppl-1gib.bin" "$dir/large.zip"
run unzip "$dir/large.zip"
