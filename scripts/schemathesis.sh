#!/usr/bin/env bash
# Schemathesis (PyPI) against the reference server's own /openapi.json: requests generated from
# every operation's schemas, checked for no 5xx answer and for answers that match their schema.
# Starts the server (debug build) on free 127.0.0.1 ports with a fresh data directory and stops
# it by PID; the venv is created once under ${AAS_RS_CACHE:-~/.cache/aas-rs}. Its health check
# "data generation is too slow" is off: the AAS schemas are deep, and slow generation says
# nothing about the server.
#
#   bash scripts/schemathesis.sh [examples per operation (default 20)] [schemathesis options...]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/loopback.sh
examples="${1:-20}"
shift || true
venv="${AAS_RS_CACHE:-$HOME/.cache/aas-rs}/venv-schemathesis"
version="4.32.5"
if [ ! -f "$venv/.installed-$version" ]; then
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$version" >&2
  touch "$venv/.installed-$version"
fi
cargo build --locked -p reference-server
server="${CARGO_TARGET_DIR:-target}/debug/reference-server"
data=$(mktemp -d)
port=$(free_port)
mqtt_port=$(free_port)
"$server" serve --bind "127.0.0.1:$port" --data "$data" --mqtt-listen "127.0.0.1:$mqtt_port" \
  >"$data/server.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$data"' EXIT
wait_for_port "$port"
status=0
"$venv/bin/schemathesis" run "http://127.0.0.1:$port/openapi.json" \
  --checks not_a_server_error,response_schema_conformance \
  --max-examples "$examples" --workers 2 --request-timeout 30 --no-color \
  --suppress-health-check too_slow "$@" || status=$?
if [ "$status" -ne 0 ]; then
  echo "server log (last 40 lines):" >&2
  tail -n 40 "$data/server.log" >&2
fi
exit "$status"
