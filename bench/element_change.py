#!/usr/bin/env python3
"""Changing one element of a large submodel, side by side in one run.

Each server loads one submodel of 50,000 Properties (5.5 MB of JSON) with `serve --load`, then
4 clients PATCH `$value` of one element after the other (a different element each time) for
SECONDS; rounds alternate between the servers. Prints a markdown table for BENCHMARKS.md:
changes per second, p50 latency, and the server's peak RSS.

    python3 bench/element_change.py THIS_BINARY [BASELINE_BINARY [BASELINE_NAME]]

Knobs: AAS_BENCH_SECONDS (default 10), AAS_BENCH_ROUNDS (default 3), AAS_BENCH_ELEMENTS
(default 50000). Our servers run as AAS 3.0, as in bench/server.sh. Standard library only.
"""
import base64
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

SECONDS = float(os.environ.get("AAS_BENCH_SECONDS", "10"))
ROUNDS = int(os.environ.get("AAS_BENCH_ROUNDS", "3"))
ELEMENTS = int(os.environ.get("AAS_BENCH_ELEMENTS", "50000"))
CLIENTS = 4
ID = "urn:sm:bench:large"
ENCODED = base64.urlsafe_b64encode(ID.encode()).decode().rstrip("=")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, binary, environment, work):
        self.port = free_port()
        data = tempfile.mkdtemp(dir=work)
        self.process = subprocess.Popen(
            [binary, "serve", "--bind", f"127.0.0.1:{self.port}",
             "--mqtt-listen", f"127.0.0.1:{free_port()}", "--data", data, "--load", environment],
            env=dict(os.environ, AAS_SERVER_AAS_VERSION="3.0"),
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(data, "stderr"), "w"))
        deadline = time.time() + 300
        while time.time() < deadline:
            if self.process.poll() is not None:
                sys.exit(f"{binary} ended while loading (see {data}/stderr)")
            try:
                status, _ = self.call("GET", f"/submodels/{ENCODED}/submodel-elements/p1")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        self.process.kill()
        sys.exit(f"{binary} did not serve the submodel within 300 s")

    def call(self, method, path, body=None, connection=None):
        c = connection or http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
        headers = {"content-type": "application/json"} if body is not None else {}
        c.request(method, path, body=body, headers=headers)
        r = c.getresponse()
        return r.status, r.read()

    def peak_rss_mb(self):
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1000
        return float("nan")

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=60)


def load(server, round_no):
    latencies, failures = [], []
    stop = time.time() + SECONDS

    def client(k):
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=300)
        n = 0
        while time.time() < stop:
            element = (round_no * 104729 + k * 7919 + n * CLIENTS) % ELEMENTS
            started = time.time()
            status, _ = server.call(
                "PATCH", f"/submodels/{ENCODED}/submodel-elements/p{element}/$value",
                json.dumps(f"changed {round_no} {k} {n}").encode(), connection)
            if status >= 300:
                failures.append(status)
                return
            latencies.append(time.time() - started)
            n += 1

    threads = [threading.Thread(target=client, args=(k,)) for k in range(CLIENTS)]
    started = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        sys.exit(f"a change failed with HTTP {failures[0]}")
    return len(latencies) / (time.time() - started), statistics.median(latencies)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    servers = [("this build", sys.argv[1])]
    if len(sys.argv) > 2:
        servers.append((sys.argv[3] if len(sys.argv) > 3 else "baseline", sys.argv[2]))
    work = tempfile.mkdtemp(prefix="element-change-")
    submodel = {"id": ID, "modelType": "Submodel", "idShort": "Large", "submodelElements": [
        {"modelType": "Property", "idShort": f"p{n}", "valueType": "xs:string",
         "value": f"value of property {n}"} for n in range(ELEMENTS)]}
    environment = os.path.join(work, "environment.json")
    with open(environment, "w") as f:
        json.dump({"submodels": [submodel]}, f)
    size = os.path.getsize(environment) / 1e6
    print(f"loading {ELEMENTS} elements ({size:.1f} MB) into {len(servers)} servers", file=sys.stderr)
    running = [(name, Server(binary, environment, work)) for name, binary in servers]
    results = {name: [] for name, _ in running}
    try:
        for round_no in range(ROUNDS):
            for name, server in running:
                rate, p50 = load(server, round_no)
                print(f"  round {round_no + 1}, {name}: {rate:.1f}/s, p50 {p50 * 1000:.0f} ms",
                      file=sys.stderr)
                results[name].append((rate, p50))
        rss = {name: server.peak_rss_mb() for name, server in running}
    finally:
        for _, server in running:
            server.stop()
    names = [name for name, _ in running]
    print(f"| one element of a {ELEMENTS:,}-element submodel ({size:.1f} MB), {CLIENTS} clients, "
          f"median of {ROUNDS} rounds | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    rates = {n: statistics.median(r for r, _ in results[n]) for n in names}
    print("| changes per second | " + " | ".join(f"{rates[n]:.1f}" for n in names) + " |")
    print("| p50 latency | " + " | ".join(
        f"{statistics.median(p for _, p in results[n]) * 1000:.0f} ms" for n in names) + " |")
    print("| peak RSS | " + " | ".join(f"{rss[n]:.0f} MB" for n in names) + " |")
    if len(names) > 1:
        print(f"\n{names[0]} / {names[1]}: {rates[names[0]] / rates[names[1]]:.2f}× the changes per second")


if __name__ == "__main__":
    main()
