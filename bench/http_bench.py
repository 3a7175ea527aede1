#!/usr/bin/env python3
"""HTTP server benchmark: /healthz throughput of the service against a Hummingbird 2 hello-world (wrk, same machine,
same run), then the slowloris scenario: 300 slow-header and 1 000 idle connections held open while 200 sequential
/healthz requests are made on fresh connections.

Expects .build/release/redis-cluster-manager and bench/hummingbird-hello/.build/release/HummingbirdHello (make bench-http
builds both). BENCH_HTTP_DURATION sets each wrk run's duration in seconds (default 10), BENCH_HTTP_ROUNDS how many
runs each server gets (default 2)."""

import os
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OURS = os.path.join(ROOT, ".build", "release", "redis-cluster-manager")
HUMMINGBIRD = os.path.join(ROOT, "bench", "hummingbird-hello", ".build", "release", "HummingbirdHello")
DURATION = int(os.environ.get("BENCH_HTTP_DURATION", "10"))
ROUNDS = int(os.environ.get("BENCH_HTTP_ROUNDS", "2"))
REQUEST = b"GET /healthz HTTP/1.1\r\nHost: bench\r\n\r\n"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_ready(port, process, name):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"{name} exited with status {process.returncode} before answering")
        try:
            status, _ = request(port, timeout=1)
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    sys.exit(f"{name} did not answer /healthz on port {port} within 30 s")


def request(port, timeout=5):
    """One GET /healthz on a fresh connection: (status, seconds)."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
        connection.sendall(REQUEST)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = connection.recv(65536)
            if not chunk:
                raise ConnectionError("closed before a response head")
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))
        while len(body) < length:
            chunk = connection.recv(65536)
            if not chunk:
                raise ConnectionError("closed inside a body")
            body += chunk
        return int(head.split(b" ")[1]), time.monotonic() - started


def wrk(port):
    output = subprocess.run(
        ["wrk", "-t2", "-c50", f"-d{DURATION}s", f"http://127.0.0.1:{port}/healthz"],
        check=True, capture_output=True, text=True).stdout
    rate = float(re.search(r"Requests/sec:\s*([\d.]+)", output).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: .*", output)
    return rate, errors.group(0) if errors else None


def threads(pid):
    with open(f"/proc/{pid}/status") as status:
        return int(re.search(r"Threads:\s*(\d+)", status.read()).group(1))


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def slowloris(port, pid):
    held = []
    try:
        for _ in range(300):
            slow = socket.create_connection(("127.0.0.1", port))
            slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: bench\r\n")  # the head never ends
            held.append(slow)
        for _ in range(1000):
            held.append(socket.create_connection(("127.0.0.1", port)))
        latencies, refused = [], 0
        for _ in range(200):
            try:
                status, seconds = request(port)
                if status == 200:
                    latencies.append(seconds)
                else:
                    refused += 1
            except OSError:
                refused += 1
        return refused, latencies, threads(pid)
    finally:
        for connection in held:
            connection.close()


def main():
    for binary in (OURS, HUMMINGBIRD):
        if not os.path.exists(binary):
            sys.exit(f"missing {binary}: run make bench-http")
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: run make deps")
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    workdir = tempfile.mkdtemp(prefix="http-bench-")
    ours_port, hummingbird_port = free_port(), free_port()
    with open(os.devnull, "w") as quiet:
        # The access log goes to /dev/null: writing it is part of our cost, storing it isn't the point.
        ours = subprocess.Popen(
            [OURS, "serve", "--listen", f"127.0.0.1:{ours_port}", "--db", os.path.join(workdir, "bench.sqlite")],
            stdout=quiet, stderr=quiet)
        hummingbird = subprocess.Popen([HUMMINGBIRD, str(hummingbird_port)], stdout=quiet, stderr=quiet)
    try:
        wait_ready(ours_port, ours, "redis-cluster-manager")
        wait_ready(hummingbird_port, hummingbird, "HummingbirdHello")

        print(f"== /healthz throughput: wrk -t2 -c50 -d{DURATION}s, same machine, same run")
        # Rounds in ABBA order, so load that drifts over the run weighs on both servers alike.
        servers = [("redis-cluster-manager", ours_port), ("Hummingbird 2 hello-world", hummingbird_port)]
        rates = {name: [] for name, _ in servers}
        print(f"{'round':<7}{'server':<28}{'requests/s':>14}")
        for round_index in range(ROUNDS):
            for name, port in servers if round_index % 2 == 0 else reversed(servers):
                rate, errors = wrk(port)
                rates[name].append(rate)
                print(f"{round_index + 1:<7}{name:<28}{rate:>14,.0f}" + (f"   ({errors})" if errors else ""))
        ours_rate = sum(rates[servers[0][0]]) / ROUNDS
        hummingbird_rate = sum(rates[servers[1][0]]) / ROUNDS
        print(f"{'mean':<7}{servers[0][0]:<28}{ours_rate:>14,.0f}")
        print(f"{'mean':<7}{servers[1][0]:<28}{hummingbird_rate:>14,.0f}")
        print(f"ratio (ours / Hummingbird): {ours_rate / hummingbird_rate:.2f}x")

        print()
        print("== slowloris: 300 slow-header + 1 000 idle connections open, then 200 sequential /healthz")
        refused, latencies, thread_count = slowloris(ours_port, ours.pid)
        print(f"answered 200: {len(latencies)}   refused or failed: {refused}")
        if latencies:
            print(f"latency ms: median {percentile(latencies, 0.5) * 1000:.2f}   "
                  f"p99 {percentile(latencies, 0.99) * 1000:.2f}   max {max(latencies) * 1000:.2f}")
        print(f"server threads while the 1 300 connections were open: {thread_count}")
        if refused or not latencies or max(latencies) >= 0.1:
            sys.exit("slowloris: some requests were refused or took 100 ms or more")
    finally:
        for process in (ours, hummingbird):
            process.terminate()
        for process in (ours, hummingbird):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
