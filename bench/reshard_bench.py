#!/usr/bin/env python3
"""Reshard and rebalance timed side by side: `redis-cli --cluster` and redis-cluster-manager, each on its own
identical cluster (3 masters + 1 empty master, the same keys), in the same run. Loopback only; every process it
starts is stopped at the end."""
import json, os, random, shutil, socket, subprocess, sys, tempfile, time, urllib.request

KEYS = int(os.environ.get("BENCH_KEYS", "200000"))
BINARY = os.environ.get("RCM_BINARY", ".build/release/redis-cluster-manager")


def free_port():
    """A port whose cluster-bus twin (+10000) is free too, both below the ephemeral range (32768+)."""
    while True:
        port = random.randint(10000, 16999)
        try:
            for candidate in (port, port + 10000):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", candidate))
            return port
        except OSError:
            pass


def cli(*args, check=True):
    return subprocess.run(["redis-cli", *args], capture_output=True, text=True, check=check).stdout


class Cluster:
    def __init__(self, base):
        self.dir = tempfile.mkdtemp(dir=base)
        self.ports = [free_port() for _ in range(4)]
        self.procs = []
        for port in self.ports:
            d = os.path.join(self.dir, str(port))
            os.makedirs(d)
            self.procs.append(subprocess.Popen(
                ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
                 "--cluster-config-file", "nodes.conf", "--dir", d, "--save", "", "--appendonly", "no"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        for port in self.ports:
            for _ in range(100):
                if subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True).returncode == 0:
                    break
                time.sleep(0.05)
        cli("--cluster", "create", *[f"127.0.0.1:{p}" for p in self.ports[:3]], "--cluster-yes")
        self.wait_ok(self.ports[:3])
        cli("--cluster", "add-node", f"127.0.0.1:{self.ports[3]}", f"127.0.0.1:{self.ports[0]}")
        self.wait_ok(self.ports)

    def wait_ok(self, ports):
        for _ in range(300):
            out = cli("--cluster", "check", f"127.0.0.1:{ports[0]}", check=False)
            states = [cli("-p", str(p), "cluster", "info") for p in ports]
            if "All nodes agree" in out and all("cluster_state:ok" in s for s in states) \
                    and all(len(cli("-p", str(p), "cluster", "nodes").strip().splitlines()) == len(ports) for p in ports):
                return
            time.sleep(0.1)
        raise SystemExit("cluster did not converge")

    def load(self):
        import redis
        client = redis.RedisCluster(host="127.0.0.1", port=self.ports[0])
        pipe = client.pipeline()
        for i in range(KEYS):
            pipe.set(f"key:{i}", f"value:{i}")
            if i % 5000 == 4999:
                pipe.execute()
        pipe.execute()
        client.close()

    def node_id(self, port):
        return cli("-p", str(port), "cluster", "myid").strip()

    def keys(self):
        # Masters only: a drained master turns into a replica and holds a copy of its new master's keys.
        return sum(int(cli("-p", str(p), "dbsize").strip()) for p in self.ports
                   if "role:master" in cli("-p", str(p), "info", "replication"))

    def stop(self):
        for p in self.procs:
            p.kill()
            p.wait()


def http(port, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method)
    try:
        with urllib.request.urlopen(req, timeout=400) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def run_job(port, cluster, kind, body):
    start = time.monotonic()
    status, job = http(port, "POST", f"/clusters/{cluster}/{kind}", body)
    assert status == 202, (status, job)
    while job["status"] in ("queued", "running"):
        _, job = http(port, "GET", f"/jobs/{job['id']}?wait=60")
    assert job["status"] == "succeeded", job
    return time.monotonic() - start


def main():
    base = tempfile.mkdtemp(prefix="rcm-bench-")
    clusters, service = [], None
    try:
        a, b = Cluster(base), Cluster(base)
        clusters = [a, b]
        for c in clusters:
            c.load()
        rows = []

        start = time.monotonic()
        cli("--cluster", "reshard", f"127.0.0.1:{a.ports[0]}", "--cluster-from", "all",
            "--cluster-to", a.node_id(a.ports[3]), "--cluster-slots", "4096", "--cluster-yes")
        cli_reshard = time.monotonic() - start
        a.wait_ok(a.ports)
        start = time.monotonic()
        cli("--cluster", "rebalance", f"127.0.0.1:{a.ports[0]}", "--cluster-weight", f"{a.node_id(a.ports[3])}=0")
        cli_drain = time.monotonic() - start

        port = free_port()
        service = subprocess.Popen([BINARY, "serve", "--listen", f"127.0.0.1:{port}", "--db", os.path.join(base, "rcm.sqlite")],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                if http(port, "GET", "/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.05)
        seeds = [f"127.0.0.1:{p}" for p in b.ports]
        assert http(port, "POST", "/clusters", {"id": "bench", "seeds": seeds})[0] == 201
        rcm_reshard = run_job(port, "bench", "reshard", {"to": seeds[3], "slots": 4096})
        rcm_drain = run_job(port, "bench", "rebalance", {"weights": {seeds[3]: 0}})

        rows.append(("reshard 4096 slots to an empty master", cli_reshard, rcm_reshard))
        rows.append(("drain it again (rebalance, weight 0)", cli_drain, rcm_drain))
        print(f"\n{KEYS} keys, 3 masters + 1, redis-server {cli('--version').split()[1]}, loopback\n")
        print(f"{'operation':42} {'redis-cli':>10} {'rcm':>10} {'speed-up':>9}")
        for name, c, r in rows:
            print(f"{name:42} {c:9.2f}s {r:9.2f}s {c / r:8.1f}x")
        print(f"\nkeys after: redis-cli cluster {a.keys()}, rcm cluster {b.keys()} (expected {KEYS} each)")
        assert a.keys() == KEYS and b.keys() == KEYS
    finally:
        if service:
            service.terminate()
            service.wait()
        for c in clusters:
            c.stop()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
