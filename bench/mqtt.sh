#!/usr/bin/env bash
# MQTT publish throughput (events/s) of events-core's MqttSink beside a bare rumqttc loop
# publishing the same bytes, and publish -> receive latency p50/p99, against a Mosquitto started
# here on 127.0.0.1 (a free port) and killed by its PID at the end.
#
#   bash bench/mqtt.sh [events] [latency samples]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/loopback.sh
mosquitto=$(command -v mosquitto || echo /usr/sbin/mosquitto)
[ -x "$mosquitto" ] || { echo "error: mosquitto not found (apt-get install mosquitto)" >&2; exit 1; }
cargo build -q --release -p events-core --example mqtt_bench
dir=$(mktemp -d)
port=$(free_port)
cat > "$dir/mosquitto.conf" <<CONF
user root
persistence false
max_queued_messages 100000
max_inflight_messages 100
listener $port 127.0.0.1
allow_anonymous true
CONF
"$mosquitto" -c "$dir/mosquitto.conf" 2> "$dir/mosquitto.log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
wait_for_port "$port"
"${CARGO_TARGET_DIR:-target}"/release/examples/mqtt_bench "$port" "$@"
