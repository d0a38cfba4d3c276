"""Soak: a release reference-server with its default settings under 8 writers, 2,000 idle
connections and a slowloris client at once, for 60 s; reports /health latency (p50, p99, max,
failures) and the server's peak RSS. Run through bench/soak.sh.

The idle connections are reopened whenever the server closes them (it sheds idle connections
after its idle timeout), so 2,000 are open throughout; the slowloris client keeps 100
connections trickling one header byte a second, reopening each one the server cuts off.
Everything goes to 127.0.0.1 only, and every loop ends at the deadline.

Goal (issue 18): /health answered throughout with p99 below 50 ms, RSS below 300 MB.
"""

import asyncio
import base64
import json
import os
import subprocess
import sys
import tempfile
import time

DURATION = float(os.environ.get("SOAK_SECONDS", "60"))
IDLE = int(os.environ.get("SOAK_IDLE", "2000"))
WRITERS = 8
SLOWLORIS = 100


def free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def request(port, method, path, body=b"", timeout=10.0):
    """One HTTP/1.1 request on a new connection; the status code."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
    try:
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        writer.write(head.encode() + body)
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), timeout)
        await asyncio.wait_for(reader.read(), timeout)
        return int(status_line.split()[1])
    finally:
        writer.close()


async def writer_task(port, number, deadline, counts):
    submodel_id = f"urn:soak:sm:{number}"
    path = "/submodels/" + base64.urlsafe_b64encode(submodel_id.encode()).decode().rstrip("=")
    version = 0
    while time.monotonic() < deadline:
        version += 1
        body = json.dumps({
            "id": submodel_id, "modelType": "Submodel", "idShort": f"Soak{number}",
            "submodelElements": [
                {"modelType": "Property", "idShort": f"P{i}", "valueType": "xs:int",
                 "value": str(version + i)} for i in range(50)]}).encode()
        try:
            status = await request(port, "PUT", path, body)
            if status == 404:
                status = await request(port, "POST", "/submodels", body)
            counts["writes"] += 1 if status in (200, 201, 204) else 0
            counts["write_errors"] += 0 if status in (200, 201, 204) else 1
        except (OSError, asyncio.TimeoutError):
            counts["write_errors"] += 1


async def idle_task(port, deadline, counts):
    """Holds one idle connection open, reopening it when the server closes it."""
    while time.monotonic() < deadline:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection("127.0.0.1", port), 10)
        except (OSError, asyncio.TimeoutError):
            counts["idle_connect_failures"] += 1
            await asyncio.sleep(0.5)
            continue
        counts["idle_opened"] += 1
        try:
            left = deadline - time.monotonic()
            await asyncio.wait_for(reader.read(), max(left, 0))
        except (OSError, asyncio.TimeoutError):
            pass
        finally:
            writer.close()


async def slowloris_task(port, deadline, counts):
    """One connection sending a request's headers a byte a second, reopened when cut off."""
    while time.monotonic() < deadline:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection("127.0.0.1", port), 10)
            writer.write(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            while time.monotonic() < deadline:
                await asyncio.sleep(1)
                if reader.at_eof():
                    break
                writer.write(b"X")
                await writer.drain()
            counts["slowloris_cut"] += 1
            writer.close()
        except (OSError, asyncio.TimeoutError):
            counts["slowloris_cut"] += 1
            await asyncio.sleep(0.2)


async def health_task(port, deadline, latencies, counts):
    while time.monotonic() < deadline:
        started = time.monotonic()
        try:
            status = await request(port, "GET", "/health", timeout=5)
            if status == 200:
                latencies.append(time.monotonic() - started)
            else:
                counts["health_failures"] += 1
        except (OSError, asyncio.TimeoutError):
            counts["health_failures"] += 1
        await asyncio.sleep(0.05)


async def rss_task(pid, deadline, samples, files):
    """Samples the server's resident memory and its open file descriptors every 100 ms."""
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        samples.append(int(line.split()[1]) * 1024)
            files.append(len(os.listdir(f"/proc/{pid}/fd")))
        except OSError:
            return
        await asyncio.sleep(0.1)


def peak_rss(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


async def soak(port, pid):
    deadline = time.monotonic() + DURATION
    counts = {k: 0 for k in ("writes", "write_errors", "idle_opened", "idle_connect_failures",
                             "slowloris_cut", "health_failures")}
    latencies, rss, files = [], [], []
    tasks = [idle_task(port, deadline, counts) for _ in range(IDLE)]
    tasks += [slowloris_task(port, deadline, counts) for _ in range(SLOWLORIS)]
    tasks += [writer_task(port, n, deadline, counts) for n in range(WRITERS)]
    tasks += [health_task(port, deadline, latencies, counts), rss_task(pid, deadline, rss, files)]
    await asyncio.gather(*tasks)
    counts["server_open_files_peak"] = max(files, default=0)
    counts["server_open_files_at_end"] = files[-1] if files else 0
    return counts, latencies, rss


def main():
    binary = sys.argv[1]
    port, mqtt_port = free_port(), free_port()
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    with tempfile.TemporaryDirectory() as data:
        log = open(os.path.join(data, "server.log"), "w")
        server = subprocess.Popen(
            [binary, "serve", "--bind", f"127.0.0.1:{port}", "--data", os.path.join(data, "d"),
             "--mqtt-listen", f"127.0.0.1:{mqtt_port}"],
            stdout=subprocess.DEVNULL, stderr=log)
        try:
            for _ in range(200):
                try:
                    if asyncio.run(request(port, "GET", "/health", timeout=1)) == 200:
                        break
                except (OSError, asyncio.TimeoutError):
                    time.sleep(0.05)
            else:
                sys.exit("the server did not start")
            counts, latencies, rss = asyncio.run(soak(port, server.pid))
            hwm = peak_rss(server.pid)
        finally:
            server.kill()
            server.wait()
    latencies.sort()

    def pct(p):
        return latencies[min(len(latencies) - 1, int(len(latencies) * p))] * 1000

    result = {
        "seconds": DURATION,
        "health_answers": len(latencies),
        "health_p50_ms": round(pct(0.50), 2),
        "health_p99_ms": round(pct(0.99), 2),
        "health_max_ms": round(latencies[-1] * 1000, 2),
        "peak_rss_mb": round(hwm / 1e6, 1),
        "rss_at_end_mb": round((rss[-1] if rss else 0) / 1e6, 1),
        **counts,
    }
    print(json.dumps(result, indent=2))
    ok = (counts["health_failures"] == 0 and result["health_p99_ms"] < 50
          and hwm < 300e6)
    print("soak goal (health always answered, p99 < 50 ms, peak RSS < 300 MB):",
          "met" if ok else "NOT met")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
