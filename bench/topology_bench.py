#!/usr/bin/env python3
"""Reading the topology of a 90-node cluster (45 masters + 45 replicas), timed side by side: `redis-cli --cluster
check` and the service's `GET /clusters/{id}/topology` (first read, then warm reads over pooled connections).
Loopback only; every process it starts is stopped at the end, and every wait is bounded."""
import json, os, random, re, shutil, socket, statistics, subprocess, sys, tempfile, time, urllib.request

NODES = 90
RUNS = 10
BINARY = os.environ.get("RCM_BINARY", ".build/release/redis-cluster-manager")


def free_port(taken):
    """A port whose cluster-bus twin (+10000) is free too, both below the ephemeral range (32768+)."""
    for _ in range(10000):
        port = random.randint(10000, 16999)
        if port in taken or port + 10000 in taken:
            continue
        try:
            for candidate in (port, port + 10000):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", candidate))
            taken.update((port, port + 10000))
            return port
        except OSError:
            pass
    raise SystemExit("no free port pair below 32768")


def cli(*args, check=True):
    return subprocess.run(["redis-cli", *args], capture_output=True, text=True, check=check, timeout=120).stdout


def http(port, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return r.status, json.loads(r.read() or b"null")


def wait_until(what, condition, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise SystemExit(f"timed out waiting until {what}")


def converged(ports):
    for p in ports:
        if "cluster_state:ok" not in cli("-p", str(p), "cluster", "info", check=False):
            return False
        lines = cli("-p", str(p), "cluster", "nodes", check=False).strip().splitlines()
        if len(lines) != len(ports) or any("handshake" in l or "fail" in l for l in lines):
            return False
    return True


def timed(command):
    start = time.monotonic()
    output = subprocess.run(command, capture_output=True, text=True, timeout=60).stdout
    return time.monotonic() - start, output


def main():
    base = tempfile.mkdtemp(prefix="rcm-topology-bench-")
    procs, service = [], None
    try:
        taken = set()
        ports = [free_port(taken) for _ in range(NODES)]
        for port in ports:
            d = os.path.join(base, str(port))
            os.makedirs(d)
            procs.append(subprocess.Popen(
                ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
                 "--cluster-config-file", "nodes.conf", "--dir", d, "--save", "", "--appendonly", "no"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        for port in ports:
            wait_until(f"redis-server on {port} answers",
                       lambda: subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True).returncode == 0, 10)
        cli("--cluster", "create", *[f"127.0.0.1:{p}" for p in ports], "--cluster-replicas", "1", "--cluster-yes")
        wait_until("every node reports cluster_state:ok and knows all others", lambda: converged(ports), 180)
        seed = f"127.0.0.1:{ports[0]}"

        cli_times = []
        for _ in range(RUNS):
            elapsed, output = timed(["redis-cli", "--cluster", "check", seed])
            cli_times.append(elapsed)
        output = re.sub(r"\x1b\[[0-9;]*m", "", output)  # redis-cli colours its verdicts even into a pipe
        cli_nodes = sum(1 for l in output.splitlines() if l.startswith(("M: ", "S: ")))
        assert cli_nodes == NODES and "[OK] All 16384 slots covered." in output, output

        service_port = free_port(taken)
        service = subprocess.Popen([BINARY, "serve", "--listen", f"127.0.0.1:{service_port}",
                                    "--db", os.path.join(base, "x.sqlite")],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def healthy():
            try:
                return http(service_port, "GET", "/healthz")[0] == 200
            except OSError:
                return False
        wait_until("the service answers /healthz", healthy, 30)
        status, _ = http(service_port, "POST", "/clusters", {"id": "big", "seeds": [seed]})
        assert status == 201, status

        def read():
            start = time.monotonic()
            status, topology = http(service_port, "GET", "/clusters/big/topology")
            elapsed = time.monotonic() - start
            assert status == 200, status
            nodes, summary = topology["nodes"], topology["summary"]
            assert len(nodes) == NODES and summary["slots_assigned"] == 16384, (len(nodes), summary)
            return elapsed
        cold = read()
        warm = [read() for _ in range(RUNS)]

        cli_median, warm_median = statistics.median(cli_times), statistics.median(warm)
        print(f"\n{NODES} nodes ({NODES // 2} masters + {NODES // 2} replicas), redis-server {cli('--version').split()[1]}, loopback\n")
        print(f"{'read':44} {'time':>9} {'vs redis-cli':>13}")
        print(f"{'redis-cli --cluster check (median of ' + str(RUNS) + ')':44} {cli_median * 1000:7.1f}ms {1:12.2f}x")
        print(f"{'GET /clusters/big/topology, first (cold)':44} {cold * 1000:7.1f}ms {cold / cli_median:12.2f}x")
        print(f"{'GET /clusters/big/topology, warm (median of ' + str(RUNS) + ')':44} {warm_median * 1000:7.1f}ms {warm_median / cli_median:12.2f}x")
        print(f"\nboth saw {NODES} nodes and 16384 covered slots")
    finally:
        if service:
            service.terminate()
            try:
                service.wait(timeout=15)
            except subprocess.TimeoutExpired:
                service.kill()
                service.wait()
        for p in procs:
            p.kill()
        for p in procs:
            p.wait()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
